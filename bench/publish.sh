#!/bin/bash
# publish.sh -- goal 2: 'acmezone add' start -> exit vs knsupdate + TSIG into Knot, and whether the next query sees it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two pairs of servers: a store of 100 tokens behind mod-acmezone and a
# Knot zone of 100 TXT records that takes TSIG-signed dynamic updates
# (Knot's default journal and zone file settings); then the same with
# 100 000.  Each sample adds one new name with one value, timed from
# fork() to the end of wait4() (process start-up included), and then
# sends one query to the server: it must return the value.  Samples
# alternate between the tools in batches of 10; BENCH_PUBLISH samples
# per tool and size (default 200, quick 40).  Two floors are measured in
# the same rotation: /bin/true (starting and reaping any process) and
# 'acmezone --version' (the CLI starting without touching the store);
# a last row takes the /bin/true floor off both sides.

. "$(dirname "$0")/lib.sh"
b_setup publish

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	BENCH_PUBLISH=${BENCH_PUBLISH:-40}
else
	BENCH_PUBLISH=${BENCH_PUBLISH:-200}
fi
BATCH=10
SIZES=${BENCH_PUBLISH_SIZES:-100 100000}

# upd_files DIR PORT FIRST COUNT: one knsupdate script per sample.
upd_files() {
	awk -v d="$1" -v p="$2" -v f="$3" -v n="$4" -v z="$B_ZONE" -v t="$B_TTL" 'BEGIN {
		for (i = f; i < f + n; i++) {
			file = d "/upd-" i
			printf "server 127.0.0.1 %d\nzone %s\nupdate add p%d.%s %d TXT \"tok%040d\"\nsend\n",
				p, z, i, z, t, i > file
			close(file)
		}
	}'
}

# run_tool TOOL: one batch of BATCH samples from index $first.
#   az    acmezone add (then a query to the module's knotd)
#   ns    knsupdate add (then a query to the updated knotd)
#   true  /bin/true: what starting and reaping any process costs here
#   ver   acmezone --version: the CLI's own start-up, no store
run_tool() {
	case $1 in
	az)
		"$B_AZB" run -n "$BATCH" --first "$first" \
			--check 127.0.0.1 "$mport" "p{}.$B_ZONE" "tok{40}" -- \
			"$B_CLI" --db "$d/acmezone.mdb" add "p{}.$B_ZONE" "tok{40}"
		;;
	ns)
		"$B_AZB" run -n "$BATCH" --first "$first" --stdin "$d/upd-{}" \
			--check 127.0.0.1 "$uport" "p{}.$B_ZONE" "tok{40}" -- \
			"$KNSUPDATE" -y "hmac-sha256:$B_KEY_NAME:$B_KEY_SECRET"
		;;
	true)
		"$B_AZB" run -n "$BATCH" --first "$first" -- /bin/true
		;;
	ver)
		"$B_AZB" run -n "$BATCH" --first "$first" -- "$B_CLI" --version
		;;
	esac
}

# summary FILE: "median p99 seen/total failed-exits" of an azbench run output.
summary() {
	local med p99 seen total bad
	med=$(awk '{ print $2 / 1000 }' "$1" | median)
	p99=$(awk '{ print $2 / 1000 }' "$1" | pct 99)
	seen=$(awk '$4 == 1' "$1" | wc -l)
	total=$(wc -l <"$1")
	bad=$(awk '$3 != 0' "$1" | wc -l)
	echo "$med $p99 $seen $total $bad"
}

for n in $SIZES; do
	d="$B_WORK/data-$n"
	mkdir -p "$d"
	b_note "publish: $n records: preparing"
	store_new "$d" "$n"
	gen_zone "$n" "$d/update.zone"
	kd_conf "mod-$n" module "" "$d/acmezone.mdb"
	kd_conf "upd-$n" update "$d/update.zone"
	kd_launch "mod-$n"
	kd_launch "upd-$n"
	kd_wait "mod-$n" "$(tok_name $((n - 1)))" "$(tok_value $((n - 1)))"
	kd_wait "upd-$n" "$(tok_name $((n - 1)))" "$(tok_value $((n - 1)))"
	mport=$(kd_port "mod-$n")
	uport=$(kd_port "upd-$n")
	upd_files "$d" "$uport" 0 "$BENCH_PUBLISH"

	b_note "publish: $n records: $BENCH_PUBLISH adds per tool, alternating in batches of $BATCH ($(load_note))"
	first=0
	turn=0
	tools="az ns true ver"
	while [ "$first" -lt "$BENCH_PUBLISH" ]; do
		for tool in $tools; do
			run_tool "$tool" >>"$d/$tool.out" || b_die "azbench run failed"
		done
		tools="${tools#* } ${tools%% *}"	# rotate the order
		first=$((first + BATCH))
		turn=$((turn + 1))
	done
	read -r am ap as at ab <<<"$(summary "$d/az.out")"
	read -r nm np ns nt nb <<<"$(summary "$d/ns.out")"
	read -r tm _ _ _ _ <<<"$(summary "$d/true.out")"
	read -r vm _ _ _ _ <<<"$(summary "$d/ver.out")"
	[ "$ab" = 0 ] || b_note "publish: $ab acmezone add(s) exited non-zero"
	[ "$nb" = 0 ] || b_note "publish: $nb knsupdate run(s) exited non-zero"
	rt=$(ratio "$am" "$nm" 3)
	if [ "$n" = 100 ]; then
		row "2 publish" "$n records: add start->exit median ms" "$am" "$nm" "$rt" "<= 0.2" "$(met "$rt" '<=' 0.2)"
	else
		row "2 publish" "$n records: add start->exit median ms" "$am" "$nm" "$rt" "(report)" "-"
	fi
	row "2 publish" "$n records: add start->exit p99 ms" "$ap" "$np" "$(ratio "$ap" "$np" 3)" "(report)" "-"
	row "2 publish" "$n records: first query after exit sees it" "$as/$at" "$ns/$nt" "-" "100 %" "$( [ "$as" = "$at" ] && echo met || echo MISSED)"
	if [ "$n" = 100 ]; then
		row "2 publish" "floor: /bin/true start->exit median ms" "$tm" "$nm" "$(ratio "$tm" "$nm" 3)" "(report)" "-"
		row "2 publish" "floor: acmezone --version median ms" "$vm" "$nm" "$(ratio "$vm" "$nm" 3)" "(report)" "-"
		# What each tool costs beyond starting a process at all: the
		# part the project controls, with the floor of this machine out.
		aw=$(awk -v a="$am" -v t="$tm" 'BEGIN { printf "%.3f", a - t }')
		nw=$(awk -v a="$nm" -v t="$tm" 'BEGIN { printf "%.3f", a - t }')
		row "2 publish" "above the /bin/true floor: add median ms" "$aw" "$nw" "$(ratio "$aw" "$nw" 3)" "(report)" "-"
	fi
	kd_stop "mod-$n"
	kd_stop "upd-$n"
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$d"
done
