#!/bin/sh
# mkroot.sh -- make (or reuse) a Debian root of one suite for the version matrix and the package tests.
#
#   tests/matrix/mkroot.sh SUITE [PACKAGE...]
#
# Prints the path of a ready root directory on standard output.  Roots are
# cached under $ACMEZONE_ROOTS (default /var/cache/acmezone/roots), keyed by
# suite, date (UTC) and the package list: a root is made at most once a day
# per suite and list, and made again when it is missing.  Needs root and
# mmdebstrap (scripts/deps.sh --matrix installs it).  Older roots of the same
# suite and list are removed once the new one is ready.  Downloaded .debs
# are kept per suite in $ACMEZONE_ROOTS/debs-SUITE for the next root.
set -eu
[ $# -ge 1 ] || { echo "usage: mkroot.sh SUITE [PACKAGE...]" >&2; exit 2; }
suite=$1
shift
case $suite in
bookworm|trixie|forky|sid) ;;
*) echo "mkroot.sh: unknown suite '$suite' (bookworm, trixie, forky, sid)" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "mkroot.sh: must run as root" >&2; exit 2; }
command -v mmdebstrap >/dev/null || { echo "mkroot.sh: mmdebstrap is not installed" >&2; exit 2; }

mirror=${ACMEZONE_MIRROR:-http://deb.debian.org/debian}
cache=${ACMEZONE_ROOTS:-/var/cache/acmezone/roots}
pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
key=$(printf '%s' "$pkgs" | sha256sum | cut -c1-12)
day=$(date -u +%Y%m%d)
root="$cache/$suite-$key-$day"

mkdir -p "$cache"
# One maker per suite at a time (CI and a developer, two matrix runs, or
# roots of two package lists sharing the suite's .debs below): the others
# wait here, and then find their root ready or make it.
exec 9>"$cache/.$suite.lock"
flock 9
if [ -f "$root/.acmezone-root-ready" ]; then
	echo "$root"
	exit 0
fi
tmp="$cache/.$suite-$key-$day.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM

# sid's Release file may be past its Valid-Until: tolerate that for sid only.
validity=""
[ "$suite" = sid ] && validity='--aptopt=Acquire::Check-Valid-Until "false"'
include=$(printf '%s' "$pkgs" | tr ' ' ',' | sed 's/,$//')
# The .debs of the last root of this suite are offered to the next one
# (sync-in), and this root's replace them (sync-out): a new day's root
# downloads only what changed in the archive since.
debs="$cache/debs-$suite"
mkdir -p "$debs"
echo "mkroot.sh: making a $suite root (${pkgs:-no extra packages}) in $root" >&2
# shellcheck disable=SC2086
mmdebstrap --quiet --variant=buildd --mode=root ${include:+--include="$include"} \
	${validity:+"$validity"} \
	--skip=essential/unlink \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
	--setup-hook="sync-in $debs /var/cache/apt/archives/" \
	--customize-hook="find '$debs' -name '*.deb' -delete" \
	--customize-hook="sync-out /var/cache/apt/archives $debs" \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	"$suite" "$tmp" "$mirror" >&2
# Services do not start inside the root (no init), and nothing may listen
# on the host's port 53: the roots run in their own network namespace anyway.
touch "$tmp/.acmezone-root-ready"
mv "$tmp" "$root"
trap - EXIT INT TERM
for old in "$cache/$suite-$key-"*; do
	[ "$old" = "$root" ] || rm -rf "$old"
done
echo "$root"
