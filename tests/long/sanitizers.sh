#!/bin/bash
# sanitizers.sh -- configure and build the project with --enable-sanitizer=address,undefined and =thread, and run the unit, harness, DLZ and CLI tests (fan-out through kept sessions included) in those builds.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/confbuild.sh"

CC=${CC:-cc}
out=$(mktemp -d "${TMPDIR:-/tmp}/az-san-XXXXXX")
trap 'rm -rf "$out"' EXIT

if ! echo 'int main(void){return 0;}' | $CC -x c -fsanitize=address,undefined -o "$out/probe" - 2>/dev/null; then
	skip_all "$CC cannot build with -fsanitize=address,undefined (install libasan/libubsan)"
fi

# build DIR SANITIZERS TESTS...: a build configured with
# --enable-sanitizer=SANITIZERS, with the CLI, the module, the driver and
# the given test programs; a TAP line for it.
build() {
	local dir=$1 san=$2
	shift 2
	if conf_build "$dir" "tests/lib/aztool $*" CC="$CC" CFLAGS="-g -O1" \
		--enable-sanitizer="$san"; then
		ok 0 "configure --enable-sanitizer=$san and build"
	else
		ok 1 "configure --enable-sanitizer=$san and build"
		diag "$(tail -20 "$dir/build.log")"
	fi
}

# run PROGRAM DESC [ENV...]: the program's own TAP must pass and the
# sanitizer must stay silent.
run() {
	local name=$1 desc=$2
	shift 2
	if [ ! -x "$name" ]; then
		ok 1 "$desc (not built)"
		return
	fi
	# Bounded: a hang (say, a deadlock) fails the test instead of the suite.
	timeout -k 10 "${SAN_TIMEOUT:-600}" env "$@" "$name" >"$name.out" 2>&1
	local rc=$?
	local bad
	bad=$(grep -cE '^not ok|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer' "$name.out")
	if [ $rc -eq 0 ] && [ "$bad" -eq 0 ] && grep -q '^1\.\.[1-9]' "$name.out"; then
		ok 0 "$desc"
	else
		ok 1 "$desc (exit $rc)"
		diag "$(grep -E -A12 '^not ok|ERROR:|runtime error:|WARNING:' "$name.out" | head -60)"
	fi
}

asan=$out/asan
build "$asan" address,undefined tests/unit/test_store tests/unit/test_table \
	tests/unit/test_sync tests/harness/test_faults tests/long/test_stress \
	tests/harness/test_hook tests/harness/test_dlz
b=$asan/build
san_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
run "$b/tests/unit/test_store" "store unit tests clean under ASan+UBSan" $san_env
run "$b/tests/unit/test_table" "table unit tests clean under ASan+UBSan" $san_env
run "$b/tests/unit/test_sync" "sync tests clean under ASan+UBSan" $san_env
run "$b/tests/harness/test_faults" "fault tests (truncated, upgraded, flipped store) clean under ASan+UBSan" \
	$san_env top_builddir="$b"
run "$b/tests/long/test_stress" "table+sync stress clean under ASan+UBSan" $san_env STRESS_MS=2000
# The hook harness loads the ASan build of the module from its build.
run "$b/tests/harness/test_hook" "hook tests clean under ASan+UBSan" $san_env top_builddir="$b"
# The DLZ harness loads the ASan build of the driver and writes through the
# ASan build of the CLI (in child processes).
run "$b/tests/harness/test_dlz" "DLZ driver tests (instances, reloads, replaced files) clean under ASan+UBSan" \
	$san_env top_builddir="$b"

# The CLI and its DNS client under ASan+UBSan, driven by tests/cli/clients.sh
# in that build (the wrappers run $ACMEZONE).
if [ -x "$b/acmezone" ]; then
	ASAN_OPTIONS="detect_leaks=1:log_path=$out/cli-san" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$out/cli-san" \
		top_builddir="$b" sh "$top_srcdir/tests/cli/clients.sh" >"$out/cli.out" 2>&1
	rc=$?
	bad=$(cat "$out"/cli-san.* 2>/dev/null |
		grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:')
	if [ $rc -eq 0 ] && [ "$bad" -eq 0 ] && grep -q '^1\.\.[1-9]' "$out/cli.out"; then
		ok 0 "CLI (config, cname, hooks, --wait) clean under ASan+UBSan"
	else
		ok 1 "CLI (config, cname, hooks, --wait) clean under ASan+UBSan (exit $rc)"
		diag "$(grep -A8 '^not ok' "$out/cli.out" | head -30)"
		diag "$(cat "$out"/cli-san.* 2>/dev/null | head -40)"
	fi
else
	ok 1 "CLI under ASan+UBSan (not built)"
fi
# Fan-out through kept sessions over sshd, the ASan+UBSan acmezone on both
# sides (tests/long/fanout-san.sh): its points, renumbered, in this stream.
if [ -x "$b/acmezone" ]; then
	mkdir -p "$out/fanout-san"
	SAN_LOG="$out/fanout-san" top_builddir="$b" timeout -k 10 "${SAN_TIMEOUT:-600}" \
		bash "$top_srcdir/tests/long/fanout-san.sh" >"$out/fanout.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		'ok '*) ok 0 "fan-out: ${line#ok * - }" ;;
		'not ok '*) ok 1 "fan-out: ${line#not ok * - }" ;;
		'1..0 '*) echo "ok $((tap_n += 1)) - fan-out # SKIP ${line#*SKIP }" ;;
		'#'*) echo "$line" ;;
		esac
	done <"$out/fanout.out"
	grep -q '^1\.\.[1-9]' "$out/fanout.out" || grep -q '^1\.\.0 ' "$out/fanout.out"
	ok $((rc != 0 || $? != 0)) "fan-out under ASan+UBSan ran to its end (exit $rc)"
	[ $rc -eq 0 ] || diag "$(grep -v -E '^(ok|not ok|#|1\.\.)' "$out/fanout.out" | tail -20)"
	[ -z "$(ls "$out/fanout-san")" ] || diag "$(cat "$out"/fanout-san/* | head -60)"
else
	ok 1 "fan-out under ASan+UBSan (not built)"
fi
rm -rf "$asan"	# room for the next build

if echo 'int main(void){return 0;}' | $CC -x c -fsanitize=thread -o "$out/probe" - 2>/dev/null; then
	tsan=$out/tsan
	build "$tsan" thread tests/unit/test_table tests/unit/test_sync \
		tests/harness/test_faults tests/long/test_stress tests/harness/test_dlz
	b=$tsan/build
	run "$b/tests/unit/test_table" "table tests (readers racing the writer) clean under TSan" TSAN_OPTIONS=halt_on_error=1
	run "$b/tests/unit/test_sync" "sync thread tests clean under TSan" TSAN_OPTIONS=halt_on_error=1
	run "$b/tests/harness/test_faults" "fault tests clean under TSan" TSAN_OPTIONS=halt_on_error=1 \
		top_builddir="$b"
	run "$b/tests/long/test_stress" "table+sync under a torture-like load (readers racing writer commits) clean under TSan" \
		TSAN_OPTIONS=halt_on_error=1 STRESS_MS="${STRESS_MS:-4000}"
	run "$b/tests/harness/test_dlz" "DLZ lookups on 4 threads racing writes, replacements and a remap clean under TSan" \
		TSAN_OPTIONS=halt_on_error=1 top_builddir="$b"
else
	ok 0 "TSan # SKIP $CC cannot build with -fsanitize=thread"
fi

done_testing
