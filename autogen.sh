#!/bin/sh
# autogen.sh -- generate the build system from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake's TAP driver runs the tests; it is tooling, copied, not committed.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
