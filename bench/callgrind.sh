#!/bin/bash
# callgrind.sh -- goal 1, precisely: instructions and cache misses per query, module vs static zone, under callgrind.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Queries per second on a shared machine swing by tens of percent from one
# round to the next, far more than the few percent goal 1 is about.
# Instruction counts do not.  For each size in BENCH_CG_SIZES (default
# 100 and 100000; a static zone of a million records takes minutes to load
# under valgrind): knotd with mod-acmezone and knotd with the static zone,
# each under 'valgrind --tool=callgrind --cache-sim=yes'; once a server
# answers, its counters are zeroed, dnsperf sends the same 10 000 queries
# (90 % hits, 10 % misses, at most 2000 a second), and the counters are
# dumped.  Reports instructions (Ir) and first-level data-cache read misses
# (D1mr) per query, user space only (the kernel's share, the same for
# both, is not seen).  The module runs twice: as configured (observation
# on, 'observe' from BENCH_OBSERVE or the default) and with 'observe: 0',
# the module as it was before observation; the instructions of the answer
# hook itself are shown apart (the rest of the difference is the module's
# thread writing the observation file, at most once a second: a cost per
# second, spread here over the 2000 queries a second callgrind sends).
# Needs valgrind.

. "$(dirname "$0")/lib.sh"
b_setup callgrind

command -v valgrind >/dev/null 2>&1 && command -v callgrind_control >/dev/null 2>&1 ||
	b_die "valgrind not found (scripts/deps.sh --bench installs it)"
SIZES=${BENCH_CG_SIZES:-100 100000}
NQ=10000

# cg_hook FILE: instructions per query inside mod-acmezone's answer hook
# (inclusive), from a callgrind dump; "-" for a server without the module.
cg_hook() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		awk -v nq="$NQ" '/acmezone\.c:acmezone_answer \[/ { gsub(",", "", $1); printf "%.0f\n", $1 / nq; f = 1 }
			END { if (!f) print "-" }'
}

# cg_run NAME: start NAME under callgrind, count NQ queries, print
# "Ir D1mr HOOK_Ir" per query.
cg_run() {
	local s=$1 d="$B_WORK/$1" pid out
	valgrind --tool=callgrind --cache-sim=yes --dump-instr=no \
		--callgrind-out-file="$d/cg.out" "$KNOTD" -c "$d/knot.conf" >"$d/valgrind.log" 2>&1 &
	pid=$!
	echo "$pid" >"$d/pid"
	B_SERVERS="$B_SERVERS knot:$s"
	"$B_AZB" ready 127.0.0.1 "$(kd_port "$s")" "$name" "$value" --timeout-ms 900000 >/dev/null ||
		b_die "knotd '$s' under valgrind does not answer"
	callgrind_control -z "$pid" >/dev/null 2>&1
	"$DNSPERF" -s 127.0.0.1 -p "$(kd_port "$s")" -d "$q" -n 1 -Q 2000 -c 1 -T 1 >"$d/dnsperf.log" 2>&1
	callgrind_control -d "$pid" >/dev/null 2>&1
	kd_stop "$s"
	# The dump after zeroing holds just the queries; its summary line
	# lists the events in the order of the 'events:' line.
	out=$(ls "$d"/cg.out.* 2>/dev/null | tail -n 1)
	echo "$(awk -v nq="$NQ" '
		/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i - 1 }
		/^summary:/ { printf "%.0f %.2f\n", $(col["Ir"] + 1) / nq, $(col["D1mr"] + 1) / nq }
	' "$out") $(cg_hook "$out")"
}

for n in $SIZES; do
	d="$B_WORK/data-$n"
	mkdir -p "$d"
	b_note "callgrind: $n tokens: preparing"
	store_new "$d" "$n"
	gen_zone "$n" "$d/static.zone"
	gen_queries "$n" "$d/all"
	awk -v n="$NQ" '{ l[NR] = $0 } END { for (i = 0; i < n; i++) print l[i % NR + 1] }' "$d/all" >"$d/queries"
	q="$d/queries"
	name=$(tok_name $((n - 1)))
	value=$(tok_value $((n - 1)))
	kd_conf "mod-$n" module "" "$d/acmezone.mdb"
	kd_conf "off-$n" module "" "$d/acmezone.mdb" 0
	kd_conf "static-$n" static "$d/static.zone"
	b_note "callgrind: $n tokens: $NQ queries to each ($(load_note))"
	read -r mi md mh <<<"$(cg_run "mod-$n")"
	read -r oi od oh <<<"$(cg_run "off-$n")"
	read -r si sd _ <<<"$(cg_run "static-$n")"
	row "1 throughput" "$n tokens: instructions/query (callgrind), static / module" "$mi" "$si" "$(ratio "$si" "$mi")" "(report)" "-"
	row "1 throughput" "$n tokens: L1d read misses/query (callgrind), static / module" "$md" "$sd" "$(ratio "$sd" "$md")" "(report)" "-"
	row "1 throughput" "$n tokens: instructions/query, observation on / off" "$mi" "$oi" "$(ratio "$mi" "$oi")" "(report)" "-"
	row "1 throughput" "$n tokens: L1d read misses/query, observation on / off" "$md" "$od" "$(ratio "$md" "$od")" "(report)" "-"
	row "1 throughput" "$n tokens: instructions/query in the answer hook, observation on / off" "$mh" "$oh" "$(ratio "$mh" "$oh")" "(report)" "-"
	rm -rf "$d"
done
