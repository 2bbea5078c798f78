#!/bin/bash
# sanitizers.sh -- rebuild the unit, hook and DLZ tests with ASan+UBSan, the table, sync and DLZ tests with TSan, and run them.

. "$top_srcdir/tests/lib/tap.sh"

CC=${CC:-cc}
src=$top_srcdir
out=$(mktemp -d "${TMPDIR:-/tmp}/az-san-XXXXXX")
trap 'rm -rf "$out"' EXIT

if ! echo 'int main(void){return 0;}' | $CC -x c -fsanitize=address,undefined -o "$out/probe" - 2>/dev/null; then
	skip_all "$CC cannot build with -fsanitize=address,undefined (install libasan/libubsan)"
fi

store="$src/store/errors.c $src/store/name.c $src/store/label.c $src/store/sha256.c $src/store/record.c $src/store/store.c $src/store/notify.c"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -I$src/store -I$src/module -I$src/tests/lib"
urcu="$(pkg-config --libs liburcu-cds liburcu)"
lmdb="$(pkg-config --libs lmdb)"
knot_c="$(pkg-config --cflags libknot)"
knot_l="$(pkg-config --libs libknot)"

# build NAME FLAGS SOURCES... LIBS: compile one program, a TAP line for it.
build() {
	local name=$1 flags=$2
	shift 2
	if $CC $cflags $flags -o "$out/$name" "$@" >"$out/$name.build" 2>&1; then
		ok 0 "build $name"
	else
		ok 1 "build $name"
		diag "$(tail -20 "$out/$name.build")"
	fi
}

# run NAME DESC [ENV...]: the program's own TAP must pass and the
# sanitizer must stay silent.
run() {
	local name=$1 desc=$2
	shift 2
	if [ ! -x "$out/$name" ]; then
		ok 1 "$desc (not built)"
		return
	fi
	# Bounded: a hang (say, a deadlock) fails the test instead of the suite.
	timeout -k 10 "${SAN_TIMEOUT:-600}" env "$@" "$out/$name" >"$out/$name.out" 2>&1
	local rc=$?
	local bad
	bad=$(grep -cE '^not ok|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer' "$out/$name.out")
	if [ $rc -eq 0 ] && [ "$bad" -eq 0 ] && grep -q '^1\.\.[1-9]' "$out/$name.out"; then
		ok 0 "$desc"
	else
		ok 1 "$desc (exit $rc)"
		diag "$(grep -E -A12 '^not ok|ERROR:|runtime error:|WARNING:' "$out/$name.out" | head -60)"
	fi
}

asan="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
build store-asan "$asan" "$src/tests/unit/test_store.c" $store $lmdb
build table-asan "$asan" "$src/tests/unit/test_table.c" "$src/module/table.c" "$src/module/arena.c" $store $urcu $lmdb -lpthread
build sync-asan "$asan" "$src/tests/unit/test_sync.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread
build faults-asan "$asan" "$src/tests/harness/test_faults.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread
build stress-asan "$asan" "$src/tests/long/test_stress.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread

# The hook harness loads an ASan build of the module from $out/.libs.
mkdir -p "$out/.libs"
build .libs/acmezone.so "$asan -fPIC -shared -fvisibility=hidden $knot_c" \
	"$src/module/acmezone.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb $knot_l
build hook-asan "$asan -rdynamic $knot_c" "$src/tests/harness/test_hook.c" $store $knot_l $urcu $lmdb -ldl -lpthread

# The DLZ harness loads an ASan build of the BIND driver from $out/.libs and
# writes through the real CLI (in child processes), linked in next to it.
dlz_src="$src/bind/dlz_acmezone.c $src/bind/shared.c $src/bind/ent.c"
build .libs/dlz_acmezone.so "$asan -fPIC -shared -fvisibility=hidden -pthread -I$src/bind" \
	$dlz_src $store $lmdb
build dlz-asan "$asan -pthread -I$src/bind" "$src/tests/harness/test_dlz.c" -ldl -lpthread
ln -sf "$top_builddir/acmezone" "$out/acmezone"

san_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
run store-asan "store unit tests clean under ASan+UBSan" $san_env
run table-asan "table unit tests clean under ASan+UBSan" $san_env
run sync-asan "sync tests clean under ASan+UBSan" $san_env
run faults-asan "fault tests (truncated, upgraded, flipped store) clean under ASan+UBSan" $san_env
run stress-asan "table+sync stress clean under ASan+UBSan" $san_env STRESS_MS=2000
run hook-asan "hook tests clean under ASan+UBSan" $san_env top_builddir="$out"
run dlz-asan "DLZ driver tests (instances, reloads, replaced files) clean under ASan+UBSan" \
	$san_env top_builddir="$out"

# The CLI and its DNS client under ASan+UBSan, driven by tests/cli/clients.sh
# through a build directory of its own (the wrappers run $ACMEZONE).
build cli-asan "$asan -I$src/tools -include $top_builddir/config.h" \
	"$src/tools/acmezone.c" "$src/tools/check.c" "$src/tools/hook.c" "$src/tools/dns.c" \
	$store $lmdb
if [ -x "$out/cli-asan" ]; then
	mkdir -p "$out/cli/tools" "$out/cli/tests/lib"
	cp "$out/cli-asan" "$out/cli/acmezone"
	ln -s "$top_builddir/tools/acmezone-lego" "$top_builddir/tools/acmezone-dehydrated" \
		"$out/cli/tools/"
	ln -s "$top_builddir/tests/lib/freeport" "$out/cli/tests/lib/"
	ASAN_OPTIONS="detect_leaks=1:log_path=$out/cli-san" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$out/cli-san" \
		top_builddir="$out/cli" sh "$src/tests/cli/clients.sh" >"$out/cli.out" 2>&1
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

if echo 'int main(void){return 0;}' | $CC -x c -fsanitize=thread -o "$out/probe" - 2>/dev/null; then
	tsan="-fsanitize=thread"
	build table-tsan "$tsan" "$src/tests/unit/test_table.c" "$src/module/table.c" "$src/module/arena.c" $store $urcu $lmdb -lpthread
	build sync-tsan "$tsan" "$src/tests/unit/test_sync.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread
	build faults-tsan "$tsan" "$src/tests/harness/test_faults.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread
	build stress-tsan "$tsan" "$src/tests/long/test_stress.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread
	mkdir -p "$out/tsan/.libs"
	build tsan/.libs/dlz_acmezone.so "$tsan -fPIC -shared -fvisibility=hidden -pthread -I$src/bind" \
		$dlz_src $store $lmdb
	build dlz-tsan "$tsan -pthread -I$src/bind" "$src/tests/harness/test_dlz.c" -ldl -lpthread
	ln -sf "$top_builddir/acmezone" "$out/tsan/acmezone"
	run table-tsan "table tests (readers racing the writer) clean under TSan" TSAN_OPTIONS=halt_on_error=1
	run sync-tsan "sync thread tests clean under TSan" TSAN_OPTIONS=halt_on_error=1
	run faults-tsan "fault tests clean under TSan" TSAN_OPTIONS=halt_on_error=1
	run stress-tsan "table+sync under a torture-like load (readers racing writer commits) clean under TSan" \
		TSAN_OPTIONS=halt_on_error=1 STRESS_MS="${STRESS_MS:-4000}"
	run dlz-tsan "DLZ lookups on 4 threads racing writes, replacements and a remap clean under TSan" \
		TSAN_OPTIONS=halt_on_error=1 top_builddir="$out/tsan"
else
	ok 0 "TSan # SKIP $CC cannot build with -fsanitize=thread"
fi

done_testing
