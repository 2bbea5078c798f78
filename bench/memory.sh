#!/bin/bash
# memory.sh -- goal 5: knotd RSS per live token vs per static zone record, LMDB bytes per token, RSS over a churn of add/del cycles.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   a. knotd with mod-acmezone on an empty store; RSS; then
#      'acmezone apply' of BENCH_MEM (default 1 000 000) tokens, which
#      returns once knotd has loaded them; RSS again.  The growth divided
#      by the token count is the cost of a live token.  RSS is VmRSS: the
#      module's heap (RssAnon) and the pages of the LMDB file mapped in
#      knotd (RssFile) are shown apart too.
#   b. The same knotd with a static zone of 0 and of BENCH_MEM TXT records.
#   c. The store's file size per token.
#   e. Observation: on the knotd of (a), BENCH_MEM_QUERIED (default 1000,
#      at most the 'observe' slots) tokens each queried once from 5 source
#      addresses (127.0.0.2 to .6, dnsperf -a); RSS growth per token, its
#      slot in the pool allocated at start (768 octets), and a check with
#      'acmezone status --json' that each was seen from 5 resolvers.
#   d. Churn: on the knotd of (a), BENCH_CHURN (default 1 000 000) add/del
#      cycles in batches of 5000: batch k adds 5000 new names and deletes
#      the 5000 of batch k-1, one 'acmezone apply' each (each waits for
#      knotd).  RSS after the first tenth (warm) and at the end.

. "$(dirname "$0")/lib.sh"
b_setup memory

n=${BENCH_MEM:-1000000}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	BENCH_CHURN=${BENCH_CHURN:-100000}
else
	BENCH_CHURN=${BENCH_CHURN:-1000000}
fi
CB=5000
d="$B_WORK/data"
mkdir -p "$d"

# rss_line NAME: "VmRSS RssAnon RssFile" in KiB.
rss_line() {
	echo "$(rss_kb "$1") $(rss_kb "$1" RssAnon) $(rss_kb "$1" RssFile)"
}

per() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }'
}

# a. module
b_note "memory: module, empty store, then $n tokens ($(load_note))"
store_new "$d" 0
kd_conf mod module "" "$d/acmezone.mdb"
kd_start mod - -
sleep 1
read -r m0 a0 f0 <<<"$(rss_line mod)"
gen_apply "$n" "$d/tokens"
"$B_CLI" --db "$d/acmezone.mdb" apply --expire 1d "$d/tokens" || b_die "apply failed"
rm -f "$d/tokens"
kd_wait mod "$(tok_name $((n - 1)))" "$(tok_value $((n - 1)))"
sleep 2		# the sync thread frees the old table after a grace period
read -r m1 a1 f1 <<<"$(rss_line mod)"
b_note "memory: module RSS $m0 -> $m1 KiB (anon $a0 -> $a1, file $f0 -> $f1)"

# b. static zone
b_note "memory: static zone of 0, then of $n records"
soa_zone "$d/empty.zone"
gen_zone "$n" "$d/static.zone"
kd_conf st0 static "$d/empty.zone"
kd_conf st1 static "$d/static.zone"
kd_start st0 - -
sleep 1
read -r s0 _ _ <<<"$(rss_line st0)"
kd_stop st0
kd_start st1 "$(tok_name $((n - 1)))" "$(tok_value $((n - 1)))"
sleep 1
read -r s1 _ _ <<<"$(rss_line st1)"
kd_stop st1
rm -f "$d/static.zone"
b_note "memory: static RSS $s0 -> $s1 KiB"

pm=$(per "$m0" "$m1" "$n")
ps=$(per "$s0" "$s1" "$n")
row "5 memory" "knotd RSS per live token, bytes ($n)" "$pm" "$ps" "$(ratio "$pm" "$ps")" "<= 200 B" "$(met "$pm" '<=' 200)"
row "5 memory" "  of which module heap (RssAnon) / LMDB pages (RssFile)" "$(per "$a0" "$a1" "$n") / $(per "$f0" "$f1" "$n")" "-" "-" "(report)" "-"
sz=$(stat -c %s "$d/acmezone.mdb")
row "5 memory" "LMDB file bytes per token" "$(awk -v s="$sz" -v n="$n" 'BEGIN { printf "%.0f", s / n }')" "-" "-" "(report)" "-"

# e. tokens queried by 5 resolvers
nq=${BENCH_MEM_QUERIED:-1000}
if [ "$nq" -gt 0 ]; then
	b_note "memory: $nq tokens queried from 5 source addresses each ($(load_note))"
	for i in $(seq 0 $((nq - 1))); do echo "$(tok_name "$i") TXT"; done >"$d/queried"
	read -r q0 _ _ <<<"$(rss_line mod)"
	for a in 2 3 4 5 6; do
		"$DNSPERF" -s 127.0.0.1 -p "$(kd_port mod)" -a "127.0.0.$a" -d "$d/queried" \
			-n 1 -c 1 -T 1 -Q 5000 >"$d/dnsperf-$a.log" 2>&1 || b_die "dnsperf from 127.0.0.$a failed"
	done
	sleep 2		# the observation file is written within a second
	read -r q1 _ _ <<<"$(rss_line mod)"
	seen5=$("$B_CLI" --db "$d/acmezone.mdb" status --json 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for n in json.load(sys.stdin) if (n["seen"] or {}).get("sources") == 5))')
	row "5 memory" "RSS growth per token queried by 5 resolvers, bytes ($nq)" "$(per "$q0" "$q1" "$nq")" "-" "-" "(report)" "-"
	row "5 memory" "  + its observation slot, allocated at start (bytes)" "768" "-" "-" "(report)" "-"
	row "5 memory" "  tokens status shows seen from 5 resolvers" "$seen5" "$nq" "-" "all" "$([ "$seen5" = "$nq" ] && echo met || echo MISSED)"
fi

# d. churn
if [ "$BENCH_CHURN" -gt 0 ]; then
	batches=$((BENCH_CHURN / CB))
	warm=$((batches / 10))
	b_note "memory: churn, $BENCH_CHURN add/del cycles in $batches applies ($(load_note))"
	t0=$(now_ms)
	for k in $(seq 0 "$batches"); do
		awk -v k="$k" -v b="$CB" -v z="$B_ZONE" -v last="$batches" 'BEGIN {
			if (k < last) for (i = 0; i < b; i++) printf "add c%d-%d.%s tok%040d\n", k, i, z, i
			if (k > 0) for (i = 0; i < b; i++) printf "del c%d-%d.%s\n", k - 1, i, z
		}' >"$d/churn"
		"$B_CLI" --db "$d/acmezone.mdb" apply "$d/churn" || b_die "churn apply $k failed"
		if [ "$k" = "$warm" ]; then
			read -r c0 ca0 cf0 <<<"$(rss_line mod)"
		fi
	done
	sleep 2
	read -r c1 ca1 cf1 <<<"$(rss_line mod)"
	b_note "memory: churn took $(( ($(now_ms) - t0) / 1000 )) s; RSS $c0 -> $c1 KiB (anon $ca0 -> $ca1, file $cf0 -> $cf1)"
	g=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
	row "5 memory" "RSS growth over $BENCH_CHURN add/del cycles, % (KiB)" "$g ($c0 -> $c1)" "-" "-" "noise" "$(awk -v g="$g" 'BEGIN { print (g < 2 && g > -50) ? "met" : "MISSED" }')"
fi
kd_stop mod
