#!/bin/sh
# build.sh -- configure and build in the source tree (warnings are errors).
# SPDX-License-Identifier: GPL-2.0-or-later
set -e
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	./autogen.sh >/dev/null 2>&1
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
	./configure --enable-werror >/dev/null
fi
make -j"$(nproc)" >/dev/null
