#!/bin/bash
# bulk.sh -- goal 3: 1000 separate adds, 1000 adds in one batch, and 1 000 000 adds in one apply.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   a. BENCH_BULK (default 1000) separate 'acmezone add' processes vs as
#      many separate knsupdate adds into a Knot zone of 100 records, run
#      back to back in interleaved chunks of 100; the total of each.
#   b. 'acmezone apply' of 1000 adds vs knsupdate sending the same 1000
#      adds as two update messages of 500 (1000 do not fit in one), one
#      process each, start -> exit; BENCH_ROUNDS * 3 interleaved samples,
#      medians.
#   c. 1 000 000 adds in one 'acmezone apply' into a store that a knotd
#      serves (the time includes knotd acknowledging the load): time and
#      the CLI's peak RSS.  BENCH_HUGE sets the count (0 skips it).

. "$(dirname "$0")/lib.sh"
b_setup bulk

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	BENCH_BULK=${BENCH_BULK:-200}
else
	BENCH_BULK=${BENCH_BULK:-1000}
fi
BENCH_HUGE=${BENCH_HUGE:-1000000}
CHUNK=100
KNS=("$KNSUPDATE" -y "hmac-sha256:$B_KEY_NAME:$B_KEY_SECRET")

d="$B_WORK/data"
mkdir -p "$d"
store_new "$d" 100
gen_zone 100 "$d/update.zone"
kd_conf mod module "" "$d/acmezone.mdb"
kd_conf upd update "$d/update.zone"
kd_launch mod
kd_launch upd
kd_wait mod "$(tok_name 99)" "$(tok_value 99)"
kd_wait upd "$(tok_name 99)" "$(tok_value 99)"
uport=$(kd_port upd)

# a. separate adds
b_note "bulk: $BENCH_BULK separate adds per tool in interleaved chunks of $CHUNK ($(load_note))"
awk -v d="$d" -v p="$uport" -v n="$BENCH_BULK" -v z="$B_ZONE" -v t="$B_TTL" 'BEGIN {
	for (i = 0; i < n; i++) {
		file = d "/upd-" i
		printf "server 127.0.0.1 %d\nzone %s\nupdate add s%d.%s %d TXT \"tok%040d\"\nsend\n",
			p, z, i, z, t, i > file
		close(file)
	}
}'
first=0
turn=0
while [ "$first" -lt "$BENCH_BULK" ]; do
	for tool in $( [ $((turn % 2)) = 0 ] && echo "az ns" || echo "ns az"); do
		if [ "$tool" = az ]; then
			"$B_AZB" run -n "$CHUNK" --first "$first" -- "$B_CLI" --db "$d/acmezone.mdb" \
				add "s{}.$B_ZONE" "tok{40}" >>"$d/az-sep.out"
		else
			"$B_AZB" run -n "$CHUNK" --first "$first" --stdin "$d/upd-{}" -- \
				"${KNS[@]}" >>"$d/ns-sep.out"
		fi
	done
	first=$((first + CHUNK))
	turn=$((turn + 1))
done
rm -f "$d"/upd-*
az=$(awk '{ s += $2 } END { printf "%.0f", s / 1000 }' "$d/az-sep.out")
ns=$(awk '{ s += $2 } END { printf "%.0f", s / 1000 }' "$d/ns-sep.out")
bad=$(awk '$3 != 0' "$d/az-sep.out" "$d/ns-sep.out" | wc -l)
[ "$bad" = 0 ] || b_note "bulk: $bad process(es) exited non-zero"
rt=$(ratio "$az" "$ns" 3)
row "3 bulk" "$BENCH_BULK separate adds, total ms" "$az" "$ns" "$rt" "<= 0.2" "$(met "$rt" '<=' 0.2)"

# b. 1000 adds in one apply vs two update messages
b_note "bulk: 1000 adds in one apply vs two update messages, $((BENCH_ROUNDS * 3)) samples each"
for r in $(seq 1 $((BENCH_ROUNDS * 3))); do
	awk -v r="$r" -v z="$B_ZONE" 'BEGIN {
		for (i = 0; i < 1000; i++) printf "add b%d-%d.%s tok%040d\n", r, i, z, i
	}' >"$d/batch-$r"
	awk -v r="$r" -v p="$uport" -v z="$B_ZONE" -v t="$B_TTL" 'BEGIN {
		printf "server 127.0.0.1 %d\nzone %s\n", p, z
		for (i = 0; i < 1000; i++) {
			printf "update add c%d-%d.%s %d TXT \"tok%040d\"\n", r, i, z, t, i
			if (i == 499 || i == 999) print "send"
		}
	}' >"$d/msg-$r"
done
for r in $(seq 1 $((BENCH_ROUNDS * 3))); do
	for tool in $( [ $((r % 2)) = 0 ] && echo "az ns" || echo "ns az"); do
		if [ "$tool" = az ]; then
			"$B_AZB" run -n 1 --first "$r" --check 127.0.0.1 "$(kd_port mod)" \
				"b{}-999.$B_ZONE" "tok0000000000000000000000000000000000000999" -- \
				"$B_CLI" --db "$d/acmezone.mdb" apply "$d/batch-{}" >>"$d/az-batch.out"
		else
			"$B_AZB" run -n 1 --first "$r" --stdin "$d/msg-{}" --check 127.0.0.1 "$uport" \
				"c{}-999.$B_ZONE" "tok0000000000000000000000000000000000000999" -- \
				"${KNS[@]}" >>"$d/ns-batch.out"
		fi
	done
done
az=$(awk '{ print $2 / 1000 }' "$d/az-batch.out" | median)
ns=$(awk '{ print $2 / 1000 }' "$d/ns-batch.out" | median)
seen=$(awk '$4 == 1' "$d/az-batch.out" | wc -l)/$(wc -l <"$d/az-batch.out")
rt=$(ratio "$az" "$ns" 3)
row "3 bulk" "1000 adds: one apply vs 2 update msgs, median ms" "$az" "$ns" "$rt" "< 1" "$(met "$rt" '<' 1)"
b_note "bulk: last value of the batch seen right after exit: acmezone $seen," \
	"knsupdate $(awk '$4 == 1' "$d/ns-batch.out" | wc -l)/$(wc -l <"$d/ns-batch.out")"
kd_stop upd

# c. 1 000 000 adds in one apply
if [ "$BENCH_HUGE" -gt 0 ]; then
	b_note "bulk: $BENCH_HUGE adds in one apply, knotd serving the store ($(load_note))"
	awk -v n="$BENCH_HUGE" -v z="$B_ZONE" 'BEGIN {
		for (i = 0; i < n; i++) printf "add g%d.%s tok%040d\n", i, z, i
	}' >"$d/huge"
	last=$((BENCH_HUGE - 1))
	"$B_AZB" run -n 1 --check 127.0.0.1 "$(kd_port mod)" "g$last.$B_ZONE" "$(tok_value "$last")" -- \
		"$B_CLI" --db "$d/acmezone.mdb" apply -v "$d/huge" >"$d/huge.out" 2>"$d/huge.err"
	read -r _ us rc seen rss <"$d/huge.out"
	[ "$rc" = 0 ] || b_note "bulk: the apply exited $rc: $(tail -n 1 "$d/huge.err")"
	b_note "bulk: $(grep -h 'committed' "$d/huge.err" | sed 's/^acmezone: apply: //')"
	s=$(awk -v u="$us" 'BEGIN { printf "%.2f", u / 1e6 }')
	row "3 bulk" "$BENCH_HUGE adds in one apply, s (knotd ack incl.)" "$s" "-" "-" "< 10 s" "$(met "$s" '<' 10)"
	row "3 bulk" "$BENCH_HUGE adds in one apply, CLI peak RSS MiB" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "-" "-" "bounded" "-"
	row "3 bulk" "$BENCH_HUGE adds: served right after exit" "$seen" "-" "-" "1" "$( [ "$seen" = 1 ] && echo met || echo MISSED)"
	rm -f "$d/huge"
fi
kd_stop mod
