#!/bin/bash
# throughput.sh -- goal 1: queries/s through mod-acmezone vs the same knotd serving a static zone (and BIND, for the record).
# SPDX-License-Identifier: GPL-2.0-or-later
#
# For each size in BENCH_SIZES: a store with N tokens behind mod-acmezone,
# a static zone with the same N TXT records in a second knotd (same
# binary, same settings), and the same zone in named.  dnsperf -c 4 -T 2
# -q 100 sends the same query file (90 % existing tokens, 10 % names that
# do not exist) to each in turn, BENCH_ROUNDS rounds of BENCH_SECONDS
# seconds, the order rotating every round.  Reports the medians, the median
# of the per-round ratios (the verdict: module and static run next to each
# other in every round) and the ratio of the medians, and the server's CPU
# time per query answered (the inverse of the
# throughput a fully busy server would reach, and much less disturbed by
# other load on the machine).  BENCH_BIND=0 leaves BIND out.
# BENCH_OBSERVE_OFF=1 adds a third knotd, the module with 'observe: 0'
# on the same store, to show what observation itself costs.

. "$(dirname "$0")/lib.sh"
b_setup throughput

BENCH_BIND=${BENCH_BIND:-1}
[ -x "$NAMED" ] || BENCH_BIND=0

for n in $BENCH_SIZES; do
	d="$B_WORK/data-$n"
	mkdir -p "$d"
	b_note "throughput: $n tokens: preparing the store, the zone and the queries"
	store_new "$d" "$n"
	gen_zone "$n" "$d/static.zone"
	gen_queries "$n" "$d/queries"
	last=$((n - 1))

	servers="mod-$n static-$n"
	kd_conf "mod-$n" module "" "$d/acmezone.mdb"
	kd_conf "static-$n" static "$d/static.zone"
	kd_launch "mod-$n"
	kd_launch "static-$n"
	if [ "${BENCH_OBSERVE_OFF:-0}" = 1 ]; then
		kd_conf "off-$n" module "" "$d/acmezone.mdb" 0
		kd_launch "off-$n"
		servers="$servers off-$n"
	fi
	if [ "$BENCH_BIND" = 1 ]; then
		named_conf "bind-$n" "$d/static.zone"
		named_launch "bind-$n"
		servers="$servers bind-$n"
	fi
	for s in $servers; do
		kd_wait "$s" "$(tok_name "$last")" "$(tok_value "$last")"
	done

	b_note "throughput: $n tokens: $BENCH_ROUNDS round(s) of ${BENCH_SECONDS}s per server ($(load_note))"
	set -- $servers
	for r in $(seq 1 "$BENCH_ROUNDS"); do
		for s in "$@"; do
			read -r q c <<<"$(perf_qps "$s" "$d/queries")"
			echo "$q" >>"$B_WORK/$s.qps"
			echo "$c" >>"$B_WORK/$s.cpu"
			b_note "  round $r $s: $q q/s, $c us CPU per query"
		done
		set -- "${@:2}" "$1"	# rotate the order
	done

	# The verdict is the median of the per-round ratios: the two servers
	# run next to each other in every round and see the same load, while
	# the medians of each side can come from different load phases.
	mod=$(median <"$B_WORK/mod-$n.qps")
	sta=$(median <"$B_WORK/static-$n.qps")
	pr=$(ratio "$(paired "$B_WORK/mod-$n.qps" "$B_WORK/static-$n.qps")" 1)
	row "1 throughput" "$n tokens: q/s module vs static zone (per-round ratios)" "$mod" "$sta" "$pr" ">= 0.97" "$(met "$pr" '>=' 0.97)"
	row "1 throughput" "$n tokens: same, ratio of the medians" "-" "-" "$(ratio "$mod" "$sta")" "(report)" "-"
	mc=$(median <"$B_WORK/mod-$n.cpu")
	sc=$(median <"$B_WORK/static-$n.cpu")
	row "1 throughput" "$n tokens: knotd CPU us/query, static / module (per-round)" "$mc" "$sc" \
		"$(ratio "$(paired "$B_WORK/static-$n.cpu" "$B_WORK/mod-$n.cpu")" 1)" "(report)" "-"
	for s in mod-$n static-$n; do
		b_note "  $s: $(grep -h 'NOERROR' "$B_WORK/$s/dnsperf.log" | tail -n 1 | sed 's/^ *//')"
	done
	if [ "${BENCH_OBSERVE_OFF:-0}" = 1 ]; then
		off=$(median <"$B_WORK/off-$n.qps")
		row "1 throughput" "$n tokens: q/s observation on / off (per-round)" "$mod" "$off" \
			"$(ratio "$(paired "$B_WORK/mod-$n.qps" "$B_WORK/off-$n.qps")" 1)" "(report)" "-"
		row "1 throughput" "$n tokens: knotd CPU us/query, observation off / on (per-round)" \
			"$mc" "$(median <"$B_WORK/off-$n.cpu")" \
			"$(ratio "$(paired "$B_WORK/off-$n.cpu" "$B_WORK/mod-$n.cpu")" 1)" "(report)" "-"
		kd_stop "off-$n"
	fi
	if [ "$BENCH_BIND" = 1 ]; then
		bnd=$(median <"$B_WORK/bind-$n.qps")
		row "1 throughput" "$n tokens: q/s module vs BIND static zone (record, per-round)" "$mod" "$bnd" \
			"$(ratio "$(paired "$B_WORK/mod-$n.qps" "$B_WORK/bind-$n.qps")" 1)" "-" "-"
		named_stop "bind-$n"
	fi
	kd_stop "mod-$n"
	kd_stop "static-$n"
	rm -rf "$d"
done
