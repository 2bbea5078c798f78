#!/bin/bash
# fuzz.sh -- build the libFuzzer targets (configure --enable-fuzzer, clang, ASan+UBSan), replay their regressions and seeds, fuzz each for a bounded time.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Targets (tests/fuzz/fuzz_*.c): record (the record decoder on bytes read
# back from LMDB), name (name parsing and printing), batch (the CLI's apply
# input through its own line reader and parser), hook (the answer hook with
# arbitrary query packets, knotd stood in for), dns (the CLI's DNS reply
# parser on arbitrary messages), proto (the peer batch protocol both ways).
#
# FUZZ_SECONDS (default 6) is the time per target; 'make fuzz' runs this
# with 300.  FUZZ_CC picks the compiler (default: clang-14, else clang).
# A crash fails the test and leaves its input in FUZZ_KEEP (default: the
# build directory, kept on failure); copy it to tests/fuzz/regress/TARGET/
# and it is replayed by every later run.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/confbuild.sh"

src=$top_srcdir
SECS=${FUZZ_SECONDS:-6}
CC=${FUZZ_CC:-}
if [ -z "$CC" ]; then
	for c in clang-14 clang; do
		command -v "$c" >/dev/null 2>&1 && { CC=$c; break; }
	done
fi
[ -n "$CC" ] || skip_all "no clang (install clang-14 and libclang-rt-14-dev)"
out=$(mktemp -d "${TMPDIR:-/tmp}/az-fuzz-XXXXXX")
keep=no
trap '[ $keep = yes ] && echo "# kept $out" || rm -rf "$out"' EXIT
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){(void)d;(void)n;return 0;}' |
	$CC -x c -fsanitize=fuzzer,address,undefined -o "$out/probe" - 2>/dev/null; then
	skip_all "$CC cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"
fi

# One build configured --enable-fuzzer --enable-sanitizer=address,undefined
# with this clang: the fuzz targets come from Makefile.am like everything else.
targets="record name batch hook dns proto"
if conf_build "$out" "$(for t in $targets; do printf 'tests/fuzz/fuzz_%s ' "$t"; done)" \
	CC="$CC" CFLAGS="-g -O1 -Wno-missing-field-initializers" \
	--enable-fuzzer --enable-sanitizer=address,undefined; then
	ok 0 "configure --enable-fuzzer --enable-sanitizer=address,undefined with $CC and build the targets"
else
	ok 1 "configure --enable-fuzzer and build the targets"
	diag "$(tail -20 "$out/build.log")"
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# crashed LOG: did libFuzzer or a sanitizer report a failure?
crashed() {
	grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: .*Sanitizer|deadly signal' "$1"
}

for t in $targets; do
	bin="$out/build/tests/fuzz/fuzz_$t"
	if [ ! -x "$bin" ]; then
		ok 1 "fuzz_$t: not built"
		continue
	fi
	# Every input that ever crashed a target, and the seeds, replayed once.
	replay=()
	for d in "$src/tests/fuzz/regress/$t" "$src/tests/fuzz/corpus/$t"; do
		[ -d "$d" ] && replay+=("$d"/*)
	done
	if [ ${#replay[@]} -gt 0 ]; then
		timeout -k 10 300 "$bin" -runs=0 "${replay[@]}" >"$out/$t.replay" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && ! crashed "$out/$t.replay"; then
			ok 0 "fuzz_$t: ${#replay[@]} seed and regression inputs replay cleanly"
		else
			ok 1 "fuzz_$t: replay of seeds and regressions (exit $rc)"
			keep=yes
			diag "$(grep -E -A15 'ERROR:|runtime error:|deadly' "$out/$t.replay" | head -40)"
		fi
	fi
	mkdir -p "$out/corpus-$t"
	timeout -k 10 $((SECS + 120)) "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-artifact_prefix="$out/$t-" -print_final_stats=1 \
		"$out/corpus-$t" "$src/tests/fuzz/corpus/$t" >"$out/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
	cov=$(grep -oE 'cov: [0-9]+' "$out/$t.log" | tail -n 1)
	if [ $rc -eq 0 ] && ! crashed "$out/$t.log"; then
		ok 0 "fuzz_$t: ${SECS}s, ${runs:-?} inputs, ${cov:-cov: ?}, no crash"
	else
		ok 1 "fuzz_$t: crashed (exit $rc)"
		keep=yes
		diag "$(grep -E -B2 -A25 'ERROR:|runtime error:|deadly' "$out/$t.log" | head -60)"
		for a in "$out/$t"-*; do
			[ -f "$a" ] && diag "input: $a: $(head -c 256 "$a" | od -An -tx1 | tr -s ' \n' ' ')"
		done
	fi
done

done_testing
