#!/bin/bash
# fuzz.sh -- build the libFuzzer targets (clang, ASan+UBSan), replay their regressions and seeds, fuzz each for a bounded time.
#
# Targets (tests/fuzz/fuzz_*.c): record (the record decoder on bytes read
# back from LMDB), name (name parsing and printing), batch (the CLI's apply
# input through its own line reader and parser), hook (the answer hook with
# arbitrary query packets, knotd stood in for), dns (the CLI's DNS reply
# parser on arbitrary messages).
#
# FUZZ_SECONDS (default 6) is the time per target; 'make fuzz' runs this
# with 300.  FUZZ_CC picks the compiler (default: clang-14, else clang).
# A crash fails the test and leaves its input in FUZZ_KEEP (default: the
# build directory, kept on failure); copy it to tests/fuzz/regress/TARGET/
# and it is replayed by every later run.

. "$top_srcdir/tests/lib/tap.sh"

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

store="$src/store/errors.c $src/store/clock.c $src/store/name.c $src/store/label.c $src/store/sha256.c $src/store/record.c $src/store/store.c $src/store/notify.c"
module="$src/module/acmezone.c $src/module/table.c $src/module/arena.c $src/module/sync.c"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -Wall -Wextra -Wno-missing-field-initializers -Werror -I$src/store -I$src/module -I$src/tests/lib"
lmdb=$(pkg-config --libs lmdb)
urcu=$(pkg-config --libs liburcu-cds liburcu)
knot_c=$(pkg-config --cflags libknot)
knot_l=$(pkg-config --libs libknot)

# build TARGET EXTRA...: one fuzzer binary, in the background.
build() {
	local t=$1
	shift
	# shellcheck disable=SC2086
	{ $CC $cflags -o "$out/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" "$@" >"$out/$t.build" 2>&1
	  echo $? >"$out/$t.status"; } &
}

# shellcheck disable=SC2086
build record $store $lmdb
# shellcheck disable=SC2086
build name $store $lmdb
# The CLI and its DNS client do not use libknot; the module does.
# shellcheck disable=SC2086
build batch -DPACKAGE_VERSION='"fuzz"' -I$src/tools \
	"$src/tools/check.c" "$src/tools/hook.c" "$src/tools/dns.c" $store $lmdb
# The module's load line names the Knot it is built for (config.h).
# shellcheck disable=SC2086
build hook -include "$top_builddir/config.h" $knot_c $module $store $knot_l $urcu $lmdb -lpthread
build dns -I"$src/tools" "$src/tools/dns.c" "$src/store/name.c" "$src/store/clock.c"
wait
for t in record name batch hook dns; do
	if [ "$(cat "$out/$t.status" 2>/dev/null)" = 0 ]; then
		ok 0 "build fuzz_$t with $CC (ASan+UBSan+libFuzzer)"
	else
		ok 1 "build fuzz_$t"
		diag "$(tail -20 "$out/$t.build")"
	fi
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# crashed LOG: did libFuzzer or a sanitizer report a failure?
crashed() {
	grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: .*Sanitizer|deadly signal' "$1"
}

for t in record name batch hook dns; do
	bin="$out/fuzz_$t"
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
