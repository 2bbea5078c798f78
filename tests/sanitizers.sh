#!/bin/bash
# sanitizers.sh -- rebuild the unit and hook tests with ASan+UBSan, the table and sync tests with TSan, and run them.

. "$top_srcdir/tests/tap.sh"

CC=${CC:-cc}
src=$top_srcdir
out=$(mktemp -d "${TMPDIR:-/tmp}/az-san-XXXXXX")
trap 'rm -rf "$out"' EXIT

if ! echo 'int main(void){return 0;}' | $CC -x c -fsanitize=address,undefined -o "$out/probe" - 2>/dev/null; then
	skip_all "$CC cannot build with -fsanitize=address,undefined (install libasan/libubsan)"
fi

store="$src/store/errors.c $src/store/name.c $src/store/record.c $src/store/store.c $src/store/notify.c"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -I$src/store -I$src/module -I$src/tests"
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
	env "$@" "$out/$name" >"$out/$name.out" 2>&1
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
build store-asan "$asan" "$src/tests/test_store.c" $store $lmdb
build table-asan "$asan" "$src/tests/test_table.c" "$src/module/table.c" "$src/module/arena.c" $store $urcu $lmdb -lpthread
build sync-asan "$asan" "$src/tests/test_sync.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread

# The hook harness loads an ASan build of the module from $out/.libs.
mkdir -p "$out/.libs"
build .libs/acmezone.so "$asan -fPIC -shared -fvisibility=hidden $knot_c" \
	"$src/module/acmezone.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb $knot_l
build hook-asan "$asan -rdynamic $knot_c" "$src/tests/test_hook.c" $store $knot_l $urcu $lmdb -ldl -lpthread

san_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
run store-asan "store unit tests clean under ASan+UBSan" $san_env
run table-asan "table unit tests clean under ASan+UBSan" $san_env
run sync-asan "sync tests clean under ASan+UBSan" $san_env
run hook-asan "hook tests clean under ASan+UBSan" $san_env top_builddir="$out"

if echo 'int main(void){return 0;}' | $CC -x c -fsanitize=thread -o "$out/probe" - 2>/dev/null; then
	tsan="-fsanitize=thread"
	build table-tsan "$tsan" "$src/tests/test_table.c" "$src/module/table.c" "$src/module/arena.c" $store $urcu $lmdb -lpthread
	build sync-tsan "$tsan" "$src/tests/test_sync.c" "$src/module/table.c" "$src/module/arena.c" "$src/module/sync.c" $store $urcu $lmdb -lpthread
	run table-tsan "table tests (readers racing the writer) clean under TSan" TSAN_OPTIONS=halt_on_error=1
	run sync-tsan "sync thread tests clean under TSan" TSAN_OPTIONS=halt_on_error=1
else
	ok 0 "TSan # SKIP $CC cannot build with -fsanitize=thread"
fi

done_testing
