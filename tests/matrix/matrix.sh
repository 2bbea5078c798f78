#!/bin/sh
# matrix.sh -- build and test acmezone in a Debian root of each suite named, against that suite's own knotd, named and OpenSSH.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   tests/matrix/matrix.sh SUITE...        (bookworm, trixie, sid)
#
# For each suite: a root with the suite's build and test packages
# (mkroot.sh, cached per day), a clean copy of the source (git archive of
# HEAD: what is committed, never the host's build outputs; or
# MATRIX_TARBALL, a 'make dist' tarball), built in the root with
# --enable-werror, then the tests in MATRIX_TESTS run there: the module
# under the knotd stand-in, knotd with the module, named with the DLZ
# driver, a signed zone, two nameservers fanning out to each other over
# the suite's own sshd and ssh (server/peers.sh: the peer protocol and
# kept sessions against that OpenSSH), and one real certificate issuance
# (certbot through unbound and pebble, knotd serving the challenge).
# Each suite ends with one line
#
#   matrix SUITE: Knot X.Y.Z (ABI N), BIND X.Y.Z, N passed, N failed
#
# counting TAP test points (a skipped point counts as failed: the roots
# have everything the tests need).  The logs of a failed suite are kept
# and their directory named.  Exit status 0 when every suite passed.
# Several suites run at the same time (MATRIX_JOBS=1: one after another).
# Needs root, mmdebstrap (scripts/deps.sh --matrix), unshare and ip.
set -eu

# The tests run in each root (paths as in Makefile.am's TESTS).
MATRIX_TESTS=${MATRIX_TESTS:-"tests/harness/test_hook tests/harness/test_dlz tests/server/knotd.sh tests/server/named.sh tests/server/dnssec.sh tests/server/peers.sh tests/e2e/acme.sh"}
# tests/e2e/acme.sh with one client: the smallest run that is a real issuance.
MATRIX_ACME_CLIENTS=${MATRIX_ACME_CLIENTS:-certbot}
# Seconds one suite's build and tests may take inside its root.
MATRIX_TIMEOUT=${MATRIX_TIMEOUT:-1500}

# What building and the tests above need, by Debian package name (the
# same names in bookworm, trixie and sid); openssh-server, openssh-client
# and procps (pgrep, for tests/lib/sshd-lib.sh) for server/peers.sh.
PACKAGES="build-essential autoconf automake libtool pkg-config
	libknot-dev liburcu-dev liblmdb-dev libgnutls28-dev
	knot knot-dnsutils bind9 bind9-dnsutils
	unbound pebble certbot openssl curl iproute2 python3 ca-certificates
	openssh-server openssh-client procps"
# Per suite: Knot 3.5's packages moved keymgr (server/dnssec.sh needs it
# for the DS) from knot into knot-keymgr, which the older suites lack.
suite_packages() {
	case $1 in
	bookworm|trixie) echo "$PACKAGES" ;;
	*) echo "$PACKAGES knot-keymgr" ;;
	esac
}

[ $# -ge 1 ] || { echo "usage: matrix.sh SUITE... (bookworm, trixie, sid)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
for s in "$@"; do
	case $s in
	bookworm|trixie|sid) ;;
	*) echo "matrix.sh: unknown suite '$s' (bookworm, trixie, sid)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "matrix.sh: must run as root" >&2; exit 2; }
if [ -n "${MATRIX_TARBALL:-}" ]; then
	[ -f "$MATRIX_TARBALL" ] || { echo "matrix.sh: no tarball '$MATRIX_TARBALL'" >&2; exit 2; }
elif ! git -C "$top" rev-parse --verify -q HEAD >/dev/null; then
	echo "matrix.sh: '$top' is not a git checkout: set MATRIX_TARBALL to a 'make dist' tarball" >&2
	exit 2
elif [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	echo "matrix.sh: note: uncommitted changes are not tested (git archive HEAD)" >&2
fi

now() { date +%s; }

# The script run inside the root, as root, with /matrix bound to the
# suite's work directory: unpack, build, test, leave the results there.
# Its stages are logged to /matrix/*.log; its last stage to /matrix/stage.
inner='set -u
stage() { echo "$1" >/matrix/stage; echo "$1 $(date +%s)" >>/matrix/times; }
cd /tmp
stage unpack
mkdir src && tar -xzf /matrix/src.tar.gz -C src --strip-components=1 || exit 1
cd src
{ knotd -V 2>&1 | head -n 1; named -v 2>&1 | head -n 1; } >/matrix/servers
stage configure
{ ./autogen.sh && ./configure --enable-werror; } >/matrix/configure.log 2>&1 || exit 1
sed -n "s/^#define AZ_KNOT_MOD_ABI \\(.*\\)/\\1/p" config.h >/matrix/abi
stage build
make -j2 >/matrix/build.log 2>&1 || exit 1
stage test
# Test programs built first (two jobs), then the tests two at a time:
# they wait on servers more than they compute.
{ make -j2 check TESTS= &&
  ACME_CLIENTS="$MATRIX_ACME_CLIENTS" make -j2 check TESTS="$MATRIX_TESTS"; } \
	>/matrix/check.log 2>&1
rc=$?
mkdir -p /matrix/results
for t in $MATRIX_TESTS; do
	cp "${t%.sh}.log" "${t%.sh}.trs" /matrix/results/ 2>/dev/null
done
cp test-suite.log /matrix/results/ 2>/dev/null
stage done
exit $rc'

# run_suite SUITE: one suite, its summary line; status 0 if it passed.
run_suite() {
	suite=$1
	t0=$(now)
	# shellcheck disable=SC2086
	root=$("$here/mkroot.sh" "$suite" $(suite_packages "$suite")) || {
		echo "matrix $suite: no root (mkroot.sh failed)"
		return 1
	}
	t1=$(now)
	work=$(mktemp -d "${TMPDIR:-/tmp}/azmatrix-$suite.XXXXXX")
	if [ -n "${MATRIX_TARBALL:-}" ]; then
		cp "$MATRIX_TARBALL" "$work/src.tar.gz"
	else
		git -C "$top" archive --format=tar.gz --prefix=acmezone/ \
			-o "$work/src.tar.gz" HEAD
	fi
	printf '%s\n' "$inner" >"$work/run.sh"
	rc=0
	timeout --kill-after=30 "$MATRIX_TIMEOUT" "$here/inroot.sh" "$root" \
		--bind "$work:/matrix" -- /usr/bin/env \
		MATRIX_TESTS="$MATRIX_TESTS" MATRIX_ACME_CLIENTS="$MATRIX_ACME_CLIENTS" \
		/bin/sh /matrix/run.sh || rc=$?
	t2=$(now)

	# 'knotd (Knot DNS), version 3.2.6' before 3.4, 'knotd, Knot DNS 3.4.6' since.
	knot=$(head -n 1 "$work/servers" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)
	bind=$(sed -n 's/^BIND \([0-9][0-9.]*\).*/\1/p' "$work/servers" 2>/dev/null | head -n 1)
	abi=$(cat "$work/abi" 2>/dev/null || true)
	stage=$(cat "$work/stage" 2>/dev/null || echo start)
	# TAP points, from the test driver's .trs files.
	results=$(cat "$work"/results/*.trs 2>/dev/null || true)
	count() { printf '%s\n' "$results" | grep -cE "^:test-result: ($1)" || true; }
	passed=$(count 'PASS|XFAIL')
	failed=$(count 'FAIL|XPASS|ERROR')
	skipped=$(count 'SKIP')
	failed=$((failed + skipped))
	[ "$stage" = done ] || failed=$((failed + 1))
	[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1

	# Seconds per stage inside the root.
	took=$(awk 'NR > 1 { printf "%s%s %d s", sep, what, $2 - t; sep = ", " }
		{ what = $1; t = $2 }' "$work/times" 2>/dev/null || true)
	echo "matrix $suite: root $((t1 - t0)) s, in the root $((t2 - t1)) s ($took)," \
		"ended at stage '$stage', $skipped skipped"
	echo "matrix $suite: Knot ${knot:-?} (ABI ${abi:-?}), BIND ${bind:-?}," \
		"$passed passed, $failed failed"
	if [ "$failed" -eq 0 ]; then
		rm -rf "$work"
		return 0
	fi
	for f in "$work"/results/*.log; do
		[ -f "$f" ] && [ "${f##*/}" != test-suite.log ] || continue
		grep -E '^(not ok|Bail out!)|^ok .*# SKIP' "$f" |
			sed "s|^|matrix $suite: ${f##*/}: |" | head -n 20
	done
	case $stage in
	configure|build) tail -n 20 "$work/$stage.log" | sed "s|^|matrix $suite: |" ;;
	esac
	echo "matrix $suite: logs kept in $work"
	return 1
}

status=0
if [ $# -eq 1 ] || [ "${MATRIX_JOBS:-}" = 1 ]; then
	for s in "$@"; do
		run_suite "$s" || status=1
	done
	exit $status
fi
# Several suites run at the same time, each in its own namespaces (no
# port is shared): their tests mostly wait on servers, so two cores carry
# three suites.  Each suite's output is printed whole, in the order given.
outs=$(mktemp -d "${TMPDIR:-/tmp}/azmatrix-out.XXXXXX")
for s in "$@"; do
	{ run_suite "$s" >"$outs/$s" 2>&1; echo $? >"$outs/$s.rc"; } &
done
wait
for s in "$@"; do
	cat "$outs/$s"
	[ "$(cat "$outs/$s.rc" 2>/dev/null)" = 0 ] || status=1
done
rm -rf "$outs"
exit $status
