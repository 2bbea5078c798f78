#!/bin/sh
# spdx.sh -- check or add the SPDX-License-Identifier line of every source file.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   scripts/spdx.sh --check [-C DIR] [PATH...]
#       list every source file without an SPDX-License-Identifier line in its
#       first 10 lines, or with another licence than its directory's; exit 1
#       if there is one
#   scripts/spdx.sh --add [-C DIR] [PATH...]
#       insert the line into the files that lack it, after the first line
#       (the file's one-line purpose comment; after the shebang and that
#       line in scripts), in the comment form of that line
#
# DIR is the top of the tree (default: this script's tree); PATHs are files
# or directories under it (default: all of it).  The licence follows the
# path: store/, tools/, cli/ and bind/ are MIT, the rest GPL-2.0-or-later
# (README, "Licence").  Source files: C, shell, autotools, Python, man
# pages, docs (.rst, .md), example configurations, zone files, Debian
# packaging scripts and units, and any other file that starts with '#!'.
set -eu

usage() {
	echo "usage: spdx.sh --check|--add [-C DIR] [PATH...]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
case $1 in
--check|--add) action=$1 ;;
*) usage ;;
esac
shift
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = -C ]; then
	[ $# -ge 2 ] || usage
	top=$(cd "$2" && pwd)
	shift 2
fi
cd "$top"

# Licence of a path relative to the top.
licence() {
	case $1 in
	store/*|tools/*|cli/*|bind/*) echo MIT ;;
	*) echo GPL-2.0-or-later ;;
	esac
}

# Candidate files, relative to the top: git's list in a work tree, else find.
candidates() {
	if [ -e .git ] && command -v git >/dev/null; then
		git ls-files -co --exclude-standard -- "$@"
	else
		find "$@" -type f | sed 's|^\./||'
	fi
}

# Is it a source file (and not generated, vendored or licence text)?
is_source() {
	case $1 in
	build-aux/*|m4/*|autom4te.cache/*|_build/*|san-build/*|acmezone-[0-9]*/*) return 1 ;;
	*/Makefile.in|Makefile.in|config.h.in|configure|aclocal.m4|config.status) return 1 ;;
	.git/*|*/.deps/*|*/.libs/*|COPYING*) return 1 ;;
	debian/tmp/*|debian/.debhelper/*|debian/acmezone/*|debian/knot-module-acmezone/*) return 1 ;;
	debian/bind9-dlz-acmezone/*|debian/*-dbgsym/*|debian/examples/named.conf.acmezone) return 1 ;;
	*.c|*.h|*.sh|*.am|*.ac|*.in|*.py|*.[1-8]|*.rst|*.md|*.zone|*.example) return 0 ;;
	debian/rules|debian/*.postinst|debian/*.postrm|debian/*.preinst|debian/*.prerm) return 0 ;;
	debian/*.service|debian/*.timer|debian/*.cron.*|debian/examples/*) return 0 ;;
	esac
	[ -f "$1" ] && [ "$(head -c 2 "$1")" = '#!' ]
}

# The line to insert after line N of FILE, in the comment form of line N:
# "N TEXT" on stdout.
spdx_line() {
	f=$1
	id="SPDX-License-Identifier: $(licence "$f")"
	n=1
	first=$(sed -n 1p "$f")
	case $first in
	'#!'*)
		# Scripts: after the purpose comment that follows the shebang.
		case $(sed -n 2p "$f") in
		'#'*) n=2; first=$(sed -n 2p "$f") ;;
		*) first='#' ;;
		esac
		;;
	esac
	case $first in
	'/*'*'*/'*) text="/* $id */" ;;
	'/*'*) text=" * $id" ;;		# inside a comment that goes on
	'//'*) text="// $id" ;;
	'.\"'*) text=".\\\" $id" ;;
	'..'*) text="   $id" ;;		# continues the reST comment
	'<!--'*'-->'*) text="<!-- $id -->" ;;
	'<!--'*) text="$id" ;;
	';'*) text="; $id" ;;
	'dnl'*) text="dnl $id" ;;
	'#'*) text="# $id" ;;
	*)
		# No comment on the first line: insert one before it.
		n=0
		case $f in
		*.c|*.h) text="/* $id */" ;;
		*.[1-8]) text=".\\\" $id" ;;
		*.md) text="<!-- $id -->" ;;
		*.rst) text=".. $id" ;;
		*.zone) text="; $id" ;;
		*) text="# $id" ;;
		esac
		;;
	esac
	printf '%s %s\n' "$n" "$text"
}

if [ $# -eq 0 ]; then
	set -- .
fi
sources=$(candidates "$@" | sort -u | while IFS= read -r f; do
	if [ -f "$f" ] && is_source "$f"; then
		printf '%s\n' "$f"
	fi
done)
[ -n "$sources" ] || exit 0

# One pass over the first 10 lines of every file: "FILE<TAB>what is wrong".
# (Keep the licence rule in step with licence() above.)
# shellcheck disable=SC2086
bad=$(printf '%s\n' "$sources" | tr '\n' '\0' | xargs -0 awk '
	function want(f) {
		return f ~ /^(store|tools|cli|bind)\// ? "MIT" : "GPL-2.0-or-later"
	}
	function report(f) {
		if (have == "") {
			printf "%s\tno SPDX-License-Identifier line\n", f
		} else if (have != want(f)) {
			printf "%s\tSPDX-License-Identifier is %s, not %s\n", f, have, want(f)
		}
	}
	FNR == 1 { if (NR > 1) report(prev); prev = FILENAME; have = "" }
	FNR <= 10 && have == "" && match($0, /SPDX-License-Identifier: *[A-Za-z0-9.+-]+/) {
		have = substr($0, RSTART, RLENGTH)
		sub(/^SPDX-License-Identifier: */, "", have)
	}
	END { if (NR > 0) report(prev) }
')
[ -n "$bad" ] || exit 0
if [ "$action" = --check ]; then
	printf '%s\n' "$bad" | sed 's/\t/: /'
	echo "spdx.sh: $(printf '%s\n' "$bad" | wc -l) file(s) without the right" \
		"SPDX-License-Identifier line (scripts/spdx.sh --add inserts it)" >&2
	exit 1
fi

# --add: into the files without a line (a wrong one is left for a person).
printf '%s\n' "$bad" | grep "$(printf '\tno SPDX')" | cut -f1 | while IFS= read -r f; do
	line=$(spdx_line "$f")
	n=${line%% *}
	text=${line#* }
	tmp="$f.spdx.$$"
	if [ "$n" -eq 0 ]; then
		{ printf '%s\n' "$text"; cat "$f"; } >"$tmp"
	else
		{ head -n "$n" "$f"; printf '%s\n' "$text"; tail -n +"$((n + 1))" "$f"; } >"$tmp"
	fi
	# Keep the file's mode (scripts stay executable).
	chmod "$(stat -c %a "$f")" "$tmp"
	mv "$tmp" "$f"
	echo "$f: added $(licence "$f")"
done
if printf '%s\n' "$bad" | grep -v "$(printf '\tno SPDX')" | sed 's/\t/: /' >&2; then
	exit 1
fi
exit 0
