#!/bin/sh
# check.sh -- install, build and run the whole test suite (make check, make check-extra, make distcheck); ends with "N passed, N failed, N skipped".
# SPDX-License-Identifier: GPL-2.0-or-later
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
./scripts/deps.sh || exit 1
./scripts/build.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

pass=0
fail=0
skip=0
log=$(mktemp)
stamp=$(mktemp)
trap 'rm -f "$log" "$stamp"' EXIT

# n KEY: the count automake's summary gives for KEY in $log (0 if none).
n() {
	v=$(sed -n "s/^# $1: *\([0-9]*\).*/\1/p" "$log" | head -1)
	echo "${v:-0}"
}

# tier TARGET: run 'make TARGET', show what failed, add its counts.
tier() {
	echo "== make $1"
	touch "$stamp"
	make -j"$(nproc)" "$1" >"$log" 2>&1
	rc=$?
	grep -E '^(FAIL|ERROR|XPASS):' "$log" | head -50
	sed -n '/^=*$/,$p' "$log" | grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR|XFAIL|XPASS):' || true
	p=$(( $(n PASS) + $(n XFAIL) ))
	f=$(( $(n FAIL) + $(n ERROR) + $(n XPASS) ))
	if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
		tail -30 "$log"
		f=1	# make failed outside the tests (build, harness)
	fi
	for t in $(find tests -name '*.log' -newer "$stamp" | sort); do
		if grep -q '^not ok' "$t"; then
			echo "--- $t"
			grep -B2 -A8 '^not ok' "$t" | head -60
		fi
	done
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + $(n SKIP)))
}

tier check
tier check-extra

# make distcheck: the tarball builds, installs (off knotd's own module
# directory) and passes the core tests from a clean tree; the long
# end-to-end, torture and fuzz runs above are not repeated there.
if [ "${ACMEZONE_DISTCHECK:-1}" = 1 ]; then
	core="tests/unit/test_store tests/unit/test_table tests/unit/test_sync tests/harness/test_hook tests/cli/cli.sh tests/server/knotd.sh"
	if make distcheck TESTS="$core" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS: make distcheck"
	else
		fail=$((fail + 1))
		echo "FAIL: make distcheck"
		grep -E '^(FAIL|ERROR):' "$log" | head -20
		# A failed distcheck leaves its tree behind: show why tests failed.
		for f in acmezone-*/_build/sub/tests/*/*.log; do
			[ -f "$f" ] && grep -q '^not ok' "$f" || continue
			echo "--- $f"
			grep -B2 -A12 '^not ok' "$f" | head -60
		done
		tail -20 "$log"
	fi
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
