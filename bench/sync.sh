#!/bin/bash
# sync.sh -- goal 4: time from commit until the module's table holds a change, at 1 000 000 vs 100 live tokens, and its CPU cost.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two knotd with mod-acmezone, one on a store of 100 tokens, one on a
# store of 1 000 000 (BENCH_SYNC_BIG).  Single 'acmezone add -v' commands
# alternate between them in batches of 10, BENCH_SYNC adds per store
# (default 200, quick 40).  The CLI's -v line gives the time from the end
# of the commit until every server acknowledged the transaction, i.e.
# until the table holds the change (the ack is sent only after it is
# published).  The CPU time of the module's sync thread ("acmezone-sync",
# from /proc/PID/task/TID/schedstat) over the run, divided by the number
# of adds, is the cost of applying one change.

. "$(dirname "$0")/lib.sh"
b_setup sync

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	BENCH_SYNC=${BENCH_SYNC:-40}
else
	BENCH_SYNC=${BENCH_SYNC:-200}
fi
BIG=${BENCH_SYNC_BIG:-1000000}
BATCH=10

for n in 100 "$BIG"; do
	mkdir -p "$B_WORK/data-$n"
	b_note "sync: store of $n tokens"
	store_new "$B_WORK/data-$n" "$n"
	kd_conf "mod-$n" module "" "$B_WORK/data-$n/acmezone.mdb"
	kd_launch "mod-$n"
done
for n in 100 "$BIG"; do
	kd_wait "mod-$n" "$(tok_name $((n - 1)))" "$(tok_value $((n - 1)))"
	tid[$n]=$(sync_tid "mod-$n") || b_die "no acmezone-sync thread in knotd mod-$n"
	cpu0[$n]=$(thread_cpu_ns "mod-$n" "${tid[$n]}")
done

b_note "sync: $BENCH_SYNC single adds per store, alternating in batches of $BATCH ($(load_note))"
i=0
while [ "$i" -lt "$BENCH_SYNC" ]; do
	for n in 100 "$BIG"; do
		db="$B_WORK/data-$n/acmezone.mdb"
		for k in $(seq "$i" $((i + BATCH - 1))); do
			"$B_CLI" --db "$db" add "n$k.$B_ZONE" "$(tok_value "$k")" -v \
				2>>"$B_WORK/ack-$n" >/dev/null || b_die "add failed"
		done
	done
	i=$((i + BATCH))
done
for n in 100 "$BIG"; do
	cpu1=$(thread_cpu_ns "mod-$n" "${tid[$n]}")
	ack[$n]=$(awk '/acknowledged in/ { print $(NF - 1) }' "$B_WORK/ack-$n" | median)
	p99[$n]=$(awk '/acknowledged in/ { print $(NF - 1) }' "$B_WORK/ack-$n" | pct 99)
	cpu[$n]=$(awk -v a="${cpu0[$n]}" -v b="$cpu1" -v k="$BENCH_SYNC" 'BEGIN { printf "%.0f", (b - a) / k / 1000 }')
	b_note "sync: $n tokens: ack median ${ack[$n]} us, p99 ${p99[$n]} us; sync thread ${cpu[$n]} us CPU per add; RSS $(rss_kb "mod-$n") KiB"
done
rt=$(ratio "${ack[$BIG]}" "${ack[100]}")
row "4 sync" "commit -> table holds it, median us ($BIG vs 100)" "${ack[$BIG]}" "${ack[100]}" "$rt" "<= 1.5" "$(met "$rt" '<=' 1.5)"
row "4 sync" "same, p99 us ($BIG vs 100)" "${p99[$BIG]}" "${p99[100]}" "$(ratio "${p99[$BIG]}" "${p99[100]}")" "(report)" "-"
c=$(awk -v u="${cpu[$BIG]}" 'BEGIN { printf "%.3f", u / 1000 }')
row "4 sync" "knotd sync CPU per one-token change, ms ($BIG vs 100)" "$c" \
	"$(awk -v u="${cpu[100]}" 'BEGIN { printf "%.3f", u / 1000 }')" "$(ratio "${cpu[$BIG]}" "${cpu[100]}")" "< 1 ms" "$(met "$c" '<' 1)"
for n in 100 "$BIG"; do
	kd_stop "mod-$n"
done
