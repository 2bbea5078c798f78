#!/bin/bash
# startup.sh -- goal 6: knotd with mod-acmezone and 1 000 000 tokens answering vs knotd loading a static zone of the same records.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The same knotd binary and settings: once with the module on a store of
# BENCH_START (default 1 000 000) tokens and a zone file holding only SOA
# and NS, once with a zone file holding the same records as TXT.  Time
# from launching knotd until the last token is answered with its value
# (azbench ready: a query every 2 ms).  An untimed start of each warms the
# page cache; then BENCH_ROUNDS interleaved timed starts each.

. "$(dirname "$0")/lib.sh"
b_setup startup

n=${BENCH_START:-1000000}
rounds=$BENCH_ROUNDS
d="$B_WORK/data"
mkdir -p "$d"
b_note "startup: $n tokens: preparing the store and the zone"
store_new "$d" "$n"
gen_zone "$n" "$d/static.zone"
kd_conf mod module "" "$d/acmezone.mdb"
kd_conf static static "$d/static.zone"
name=$(tok_name $((n - 1)))
value=$(tok_value $((n - 1)))

# start_time SERVER: ms from launch until it answers the last token.
start_time() {
	local t0 ms
	t0=$(date +%s%N)
	kd_launch "$1"
	ms=$("$B_AZB" ready 127.0.0.1 "$(kd_port "$1")" "$name" "$value" --since-ns "$t0" \
		--timeout-ms 300000) || b_die "knotd '$1' never answered $name"
	kd_stop "$1"
	echo "$ms"
}

b_note "startup: warming up, then $rounds interleaved starts each ($(load_note))"
start_time mod >/dev/null
start_time static >/dev/null
set -- mod static
for r in $(seq 1 "$rounds"); do
	for s in "$@"; do
		ms=$(start_time "$s")
		echo "$ms" >>"$B_WORK/$s.ms"
		b_note "  round $r $s: $ms ms"
	done
	set -- "$2" "$1"
done
m=$(median <"$B_WORK/mod.ms")
s=$(median <"$B_WORK/static.ms")
rt=$(ratio "$(paired "$B_WORK/mod.ms" "$B_WORK/static.ms")" 1)
row "6 start-up" "$n tokens: launch -> answers, median ms (per-round ratios)" "$m" "$s" "$rt" "<= 0.5" "$(met "$rt" '<=' 0.5)"
row "6 start-up" "same, ratio of the medians" "-" "-" "$(ratio "$m" "$s")" "(report)" "-"
