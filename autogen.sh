#!/bin/sh
# autogen.sh -- generate the build system from configure.ac and Makefile.am.
# SPDX-License-Identifier: GPL-2.0-or-later
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
