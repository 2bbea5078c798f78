# confbuild.sh -- a configured build of the project in a directory of its own (sanitizers, fuzzers); source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# conf_build DIR "TARGETS" CONFIGURE-ARGS...: copy the distributed sources
# to DIR/src ('make distdir': a source tree configured in place cannot host
# a second build), configure them in DIR/build with --enable-werror and the
# arguments, and make 'all', then TARGETS, there (in two runs: goals given
# together would build the library in two make processes at once).  Everything is logged to DIR/build.log;
# returns the status of the first step that failed.
conf_build() {
	local dir=$1 targets=$2
	shift 2
	mkdir -p "$dir/build" || return 1
	# The outer make's flags (TESTS=..., its jobserver) are not ours.
	# shellcheck disable=SC2086
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$top_builddir" distdir distdir="$dir/src" >"$dir/build.log" 2>&1 &&
	(cd "$dir/build" &&
	 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$dir/src/configure" --enable-werror "$@" &&
	 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j2 &&
	 { [ -z "$targets" ] || env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j2 $targets; }
	) >>"$dir/build.log" 2>&1
}
