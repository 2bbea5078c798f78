#!/bin/sh
# check.sh -- install, build and run the whole test suite; ends with "N passed, N failed".
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
./scripts/deps.sh || exit 1
./scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
make -j"$(nproc)" check >"$log" 2>&1
rc=$?
grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$log" | grep -vE '^(PASS|SKIP):' | head -50
sed -n '/^=*$/,$p' "$log" | grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR|XFAIL|XPASS):' || true
n() { sed -n "s/^# $1: *\([0-9]*\).*/\1/p" "$log" | head -1; }
pass=$(( $(n PASS || echo 0) + $(n XFAIL || echo 0) ))
fail=$(( $(n FAIL || echo 0) + $(n ERROR || echo 0) + $(n XPASS || echo 0) ))
skip=$(n SKIP)
[ -z "$skip" ] && skip=0
if [ $rc -ne 0 ] && [ $fail -eq 0 ]; then
	tail -30 "$log"
	fail=1	# make check failed outside the tests (build, harness)
fi
for f in tests/*/*.log; do
	if grep -q '^not ok' "$f" 2>/dev/null; then
		echo "--- $f"
		grep -B2 -A8 '^not ok' "$f" | head -60
	fi
done

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
rm -f "$log"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
