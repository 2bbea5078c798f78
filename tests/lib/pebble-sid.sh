#!/bin/sh
# pebble-sid.sh -- provide Debian sid's pebble (2.10 or later: dns-account-01, dns-persist-01) on an older Debian; print its path.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   PEBBLE=$(tests/lib/pebble-sid.sh) || skip_all "$(tail -n 1 ERRFILE)"
#   tests/lib/pebble-sid.sh --refresh     (fetch again even if cached)
#
# Prints the absolute path of a pebble binary from a Debian package of
# version >= PEBBLE_SID_MIN (default 2.10) on standard output and exits 0.
# Otherwise exits 1 with one line on standard error that starts "SKIP:" and
# says why.  pebble is a Go binary that needs only libc, so sid's package
# runs unpacked on Debian 12.  Where it comes from, first found:
#
#   1. $PEBBLE_SID: a binary named by the caller (taken as it is);
#   2. the cache, $ACMEZONE_PEBBLE_CACHE (default /var/cache/acmezone/pebble-sid):
#      usr/bin/pebble unpacked from the package whose version is in VERSION;
#   3. a cached sid root of the version matrix ($ACMEZONE_ROOTS/sid-*,
#      tests/matrix/mkroot.sh; the matrix's package list has pebble):
#      its dpkg status gives the version, and the binary is copied to the cache;
#   4. Debian's archive: apt-get with a private configuration in the cache
#      (its own sources.list for sid, lists and archives; the host's apt
#      state is not touched) downloads the pebble .deb, and dpkg-deb -x
#      unpacks it into the cache.
#
# Needs root for 2.-4. (the cache is under /var/cache; CI runs as root) and
# network access to the Debian archive for 4. ($ACMEZONE_MIRROR, default
# http://deb.debian.org/debian).  Several callers at once wait on one lock.
# The binary is checked before it is printed: it runs here (-version), and
# it knows both challenge types (their names are in it).
set -eu

min=${PEBBLE_SID_MIN:-2.10}
cache=${ACMEZONE_PEBBLE_CACHE:-/var/cache/acmezone/pebble-sid}
roots=${ACMEZONE_ROOTS:-/var/cache/acmezone/roots}
mirror=${ACMEZONE_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
refresh=no

skip() {
	echo "SKIP: pebble-sid.sh: $*" >&2
	exit 1
}

case ${1:-} in
'') ;;
--refresh) refresh=yes ;;
*) echo "usage: pebble-sid.sh [--refresh]" >&2; exit 2 ;;
esac

# usable BIN: BIN runs here and names both new challenge types.
usable() {
	[ -x "$1" ] || return 1
	"$1" -version >/dev/null 2>&1 || return 1
	grep -q -a dns-account-01 "$1" && grep -q -a dns-persist-01 "$1"
}

# new_enough VERSION: a Debian version at least $min.
new_enough() {
	dpkg --compare-versions "$1" ge "$min"
}

if [ -n "${PEBBLE_SID:-}" ]; then
	usable "$PEBBLE_SID" ||
		skip "PEBBLE_SID='$PEBBLE_SID' does not run here or lacks dns-account-01/dns-persist-01"
	echo "$PEBBLE_SID"
	exit 0
fi

command -v dpkg >/dev/null || skip "dpkg not found (a Debian system is needed)"
[ "$(id -u)" -eq 0 ] || skip "must run as root to fill $cache (or set PEBBLE_SID to a pebble >= $min)"
mkdir -p "$cache"
# One filler at a time (two test scripts, or two helpers' runs): the others
# wait here and then find the cache filled.
exec 9>"$cache/.lock"
flock -w 600 9 || skip "timed out waiting for the lock on $cache"

bin="$cache/root/usr/bin/pebble"
if [ "$refresh" = no ] && [ -f "$cache/VERSION" ] &&
   new_enough "$(cat "$cache/VERSION")" && usable "$bin"; then
	echo "$bin"
	exit 0
fi

# A fresh unpack goes to a temporary directory first and replaces the
# cache's root/ only once it checked out: a failed fetch never leaves half
# a binary behind for the next caller.
tmp="$cache/.new.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/root/usr/bin"

# install_from VERSION: move the unpacked tmp/root into place as the cache.
install_from() {
	usable "$tmp/root/usr/bin/pebble" ||
		skip "pebble $1 does not run here or lacks dns-account-01/dns-persist-01"
	rm -rf "$cache/root"
	mv "$tmp/root" "$cache/root"
	echo "$1" >"$cache/VERSION"
	echo "$bin"
	exit 0
}

# 3. A sid root of the version matrix, newest first.
if [ "$refresh" = no ]; then
	for r in $(ls -dt "$roots"/sid-*-*/ 2>/dev/null); do
		[ -f "$r/.acmezone-root-ready" ] && [ -x "$r/usr/bin/pebble" ] || continue
		v=$(dpkg-query --admindir="$r/var/lib/dpkg" -W -f '${Version}' pebble 2>/dev/null) || continue
		new_enough "$v" || continue
		cp "$r/usr/bin/pebble" "$tmp/root/usr/bin/pebble"
		echo "pebble-sid.sh: pebble $v from the sid root $r" >&2
		install_from "$v"
	done
fi

# 4. Debian's archive, with apt's own client and a private configuration.
command -v apt-get >/dev/null || skip "apt-get not found"
[ -r "$keyring" ] || skip "$keyring not found (package debian-archive-keyring)"
apt="$cache/apt"
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/etc/preferences.d" \
	"$apt/etc/sources.list.d"
echo "deb [signed-by=$keyring] $mirror sid main" >"$apt/etc/sources.list"
: >"$apt/status"
# The _apt user downloads when it can; a cache owned by root must let it.
chown -R _apt "$apt/lists" "$apt/archives" 2>/dev/null || true
# aptrun apt-get|apt-cache ARGS...
aptrun() {
	prog=$1
	shift
	"$prog" -q -o Dir::Etc="$apt/etc" -o Dir::Etc::SourceList="$apt/etc/sources.list" \
		-o Dir::Etc::SourceParts="$apt/etc/sources.list.d" \
		-o Dir::Etc::PreferencesParts="$apt/etc/preferences.d" \
		-o Dir::State::Lists="$apt/lists" -o Dir::State::status="$apt/status" \
		-o Dir::Cache="$apt" -o Dir::Cache::archives="$apt/archives" \
		-o Acquire::Check-Valid-Until=false -o Acquire::Languages=none \
		-o APT::Get::List-Cleanup=true "$@"
}
aptrun apt-get update >"$cache/apt.log" 2>&1 ||
	skip "apt-get update for sid failed (no network to $mirror?): $(tail -n 1 "$cache/apt.log")"
v=$(aptrun apt-cache show pebble 2>/dev/null |
	sed -n 's/^Version: //p' | head -n 1)
[ -n "$v" ] || skip "sid has no pebble package for $(dpkg --print-architecture)"
new_enough "$v" || skip "sid's pebble is $v, older than $min"
rm -f "$apt"/archives/pebble_*.deb
(cd "$apt/archives" && aptrun apt-get download "pebble=$v") >>"$cache/apt.log" 2>&1 ||
	skip "downloading pebble $v from sid failed: $(tail -n 1 "$cache/apt.log")"
deb=$(ls "$apt"/archives/pebble_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || skip "apt-get download left no pebble .deb in $apt"
dpkg-deb -x "$deb" "$tmp/unpacked" || skip "dpkg-deb -x $deb failed"
cp "$tmp/unpacked/usr/bin/pebble" "$tmp/root/usr/bin/pebble"
echo "pebble-sid.sh: pebble $v from the sid archive ($deb)" >&2
# The sid package lists (about 25 MB) are needed again only by --refresh.
rm -f "$apt"/lists/*Packages* "$apt"/*.bin
install_from "$v"
