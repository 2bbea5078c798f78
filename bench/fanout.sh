#!/bin/bash
# fanout.sh -- issue 10: 'acmezone add' fanned out over ssh to two peers vs a local add, and 100 hooks at once from two client hosts.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Hosts in network namespaces (tests/lib/hosts.sh): ns1 and ns2, each
# with knotd + mod-acmezone + its own store and sshd (the client keys run
# 'acmezone serve --unscoped'), and two client hosts cl1 and cl2 without
# a store, whose peers are ns1 and ns2.
#
#   local    'acmezone add' on ns1 into its own store (no peers): the
#            reference
#   cold     the first fan-out add from cl1, ssh connections to open
#            (BENCH_FANOUT_COLD samples, each after closing cl1's kept
#            sessions and control masters: 'acmezone peer close')
#   warm     fan-out adds from cl1 through the keepers' open sessions
#            (cli/keeper.h): goal at most 3x the local add
#   hooks    BENCH_FANOUT_HOOKS (100) 'acmezone hook certbot' at once, half
#            on cl1 and half on cl2: all must succeed and every value be
#            served by both knotds afterwards; p99 and median latency
#
# Local and warm samples alternate in batches of 10 (bench/azbench times
# each process from fork to wait4, run inside the host's namespace so
# 'ip netns exec' is not counted).  Root only (namespaces).

. "$(dirname "$0")/lib.sh"
set +u		# tests/lib's shell helpers read unset variables as empty
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/hosts.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	BENCH_FANOUT=${BENCH_FANOUT:-40}
	BENCH_FANOUT_COLD=${BENCH_FANOUT_COLD:-3}
else
	BENCH_FANOUT=${BENCH_FANOUT:-200}
	BENCH_FANOUT_COLD=${BENCH_FANOUT_COLD:-7}
fi
BENCH_FANOUT_HOOKS=${BENCH_FANOUT_HOOKS:-100}
BATCH=10
CZ=acme.test

[ "$(id -u)" -eq 0 ] || b_die "fanout: needs root (network namespaces)"
b_require
hosts_require
hosts_enter "$@"
hosts_init
AZ=$(cd "$top_builddir" && pwd)/acmezone
AZB=$(cd "$top_builddir" && pwd)/bench/azbench

for h in ns1 ns2; do
	host_add "$h" "${h#ns}"
	host_knotd "$h" "$CZ"
done
host_add cl1 3
host_add cl2 4
for h in ns1 ns2; do
	for c in cl1 cl2; do
		host_authorize "$h" "command=\"$AZ --db $HOSTS_DIR/$h/kd/store/acmezone.mdb serve --unscoped\",restrict $(cat "$HOSTS_DIR/$c/id_ed25519.pub")"
	done
	host_sshd "$h"
done
for c in cl1 cl2; do
	mkdir -p "$HOSTS_DIR/$c/store"
	for h in ns1 ns2; do
		host_exec "$c" "$AZ" --db "$HOSTS_DIR/$c/store/acmezone.mdb" peer add "$h" \
			--ssh "root@${HOST_ADDR[$h]}" --key "$HOSTS_DIR/$c/id_ed25519" \
			--address "${HOST_ADDR[$h]}" \
			--host-key "$HOSTS_DIR/$h/ssh_host_ed25519_key.pub" >/dev/null ||
			b_die "fanout: peer add $h on $c"
	done
done
DB1="$HOSTS_DIR/ns1/kd/store/acmezone.mdb"
DBC1="$HOSTS_DIR/cl1/store/acmezone.mdb"
d="$HOSTS_DIR/bench"
mkdir -p "$d"

# both_serve NAME VALUE: ns1's and ns2's knotds serve VALUE at NAME.
both_serve() {
	local a
	for a in "${HOST_ADDR[ns1]}" "${HOST_ADDR[ns2]}"; do
		"$KDIG" "@$a" +norec +short +timeout=1 +retry=0 "$1" TXT 2>/dev/null |
			grep -qxF "\"$2\"" || return 1
	done
}

# summary FILE: "median p99 failed-exits count" of azbench lines, in ms.
summary() {
	local med p99 bad n
	med=$(awk '{ print $2 / 1000 }' "$1" | median)
	p99=$(awk '{ print $2 / 1000 }' "$1" | pct 99)
	bad=$(awk '$3 != 0' "$1" | wc -l)
	n=$(wc -l <"$1")
	echo "$med $p99 $bad $n"
}

b_note "fanout: $BENCH_FANOUT_COLD cold adds from cl1 ($(load_note))"
for i in $(seq 1 "$BENCH_FANOUT_COLD"); do
	host_masters_exit cl1
	host_exec cl1 "$AZB" run -n 1 --first "$i" -- \
		"$AZ" --db "$DBC1" add "c{}.$CZ" "tok{40}" >>"$d/cold.out" ||
		b_die "azbench run failed"
done

# The cold adds started a keeper per peer: warm means both sessions open.
all_open() { ! host_exec cl1 "$AZ" --db "$DBC1" peer list | grep -qv ' session open'; }
for i in $(seq 1 50); do
	all_open && break
	sleep 0.1
done
all_open || b_note "fanout: not every keeper of cl1 has its session: some warm adds run their own ssh"
b_note "fanout: $BENCH_FANOUT local and warm fan-out adds, alternating in batches of $BATCH ($(load_note))"
first=0
tools="local warm"
while [ "$first" -lt "$BENCH_FANOUT" ]; do
	for t in $tools; do
		case $t in
		local)
			host_exec ns1 "$AZB" run -n "$BATCH" --first "$first" -- \
				"$AZ" --db "$DB1" add "l{}.$CZ" "tok{40}" >>"$d/local.out"
			;;
		warm)
			host_exec cl1 "$AZB" run -n "$BATCH" --first "$first" -- \
				"$AZ" --db "$DBC1" add "w{}.$CZ" "tok{40}" >>"$d/warm.out"
			;;
		esac || b_die "azbench run failed"
	done
	tools="${tools#* } ${tools%% *}"
	first=$((first + BATCH))
done
seen=0
for i in 0 $((BENCH_FANOUT / 2)) $((BENCH_FANOUT - 1)); do
	both_serve "w$i.$CZ" "$(printf 'tok%040d' "$i")" && seen=$((seen + 1))
done

read -r lm lp lb ln <<<"$(summary "$d/local.out")"
read -r wm wp wb wn <<<"$(summary "$d/warm.out")"
read -r cm cp cb cn <<<"$(summary "$d/cold.out")"
[ "$lb$wb$cb" = 000 ] || b_note "fanout: failed adds: local $lb, warm $wb, cold $cb"
rt=$(ratio "$wm" "$lm" 2)
row "10 fan-out" "add to 2 peers, warm, start->exit median ms (vs local add)" "$wm" "$lm" "$rt" "<= 3" "$(met "$rt" '<=' 3)"
row "10 fan-out" "add to 2 peers, warm, p99 ms (vs local add)" "$wp" "$lp" "$(ratio "$wp" "$lp" 2)" "(report)" "-"
row "10 fan-out" "add to 2 peers, cold (first, new ssh connections) median ms" "$cm" "$lm" "$(ratio "$cm" "$lm" 2)" "(report)" "-"
row "10 fan-out" "adds that failed (warm, cold)" "$wb/$wn, $cb/$cn" "$lb/$ln" "-" "0" "$( [ "$wb$cb" = 00 ] && echo met || echo MISSED)"
row "10 fan-out" "sampled warm values served by ns1 and ns2" "$seen/3" "-" "-" "3/3" "$( [ "$seen" = 3 ] && echo met || echo MISSED)"

########################################################################
# 100 hooks at once, half on each client host (certbot's protocol).

# hooks HOST FIRST COUNT: COUNT hooks at once on HOST; one line each:
# "INDEX EXIT MICROSECONDS".
hooks() {
	host_exec "$1" bash -c '
		az=$1 db=$2 first=$3 n=$4 errs=$5
		for i in $(seq "$first" $((first + n - 1))); do
			(
				t0=$(date +%s%N)
				CERTBOT_DOMAIN="h$i.example.test" \
				CERTBOT_VALIDATION=$(printf "tok%040d" "$i") \
					"$az" --db "$db" hook certbot auth >/dev/null 2>>"$errs"
				rc=$?
				echo "$i $rc $(( ($(date +%s%N) - t0) / 1000 ))"
			) &
		done
		wait' hooks "$AZ" "$HOSTS_DIR/$1/store/acmezone.mdb" "$2" "$3" "$d/hooks-$1.err"
}

# Warm connections on both client hosts first (a hook reuses them).
for c in cl1 cl2; do
	host_exec "$c" "$AZ" --db "$HOSTS_DIR/$c/store/acmezone.mdb" add "warm-$c.$CZ" \
		"$(printf 'tok%040d' 0)" >/dev/null || b_die "fanout: warm-up add on $c"
done
half=$((BENCH_FANOUT_HOOKS / 2))
b_note "fanout: $BENCH_FANOUT_HOOKS hooks at once, $half on cl1 and $((BENCH_FANOUT_HOOKS - half)) on cl2 ($(load_note))"
t0=$(now_ms)
hooks cl1 0 "$half" >"$d/hooks1.out" &
p1=$!
hooks cl2 "$half" "$((BENCH_FANOUT_HOOKS - half))" >"$d/hooks2.out" &
p2=$!
wait "$p1" "$p2"
wall=$(( $(now_ms) - t0 ))
cat "$d/hooks1.out" "$d/hooks2.out" >"$d/hooks.out"
okn=$(awk '$2 == 0' "$d/hooks.out" | wc -l)
if [ "$okn" != "$BENCH_FANOUT_HOOKS" ]; then
	# Why they failed, most frequent first (values and names blanked).
	cat "$d"/hooks-*.err | sed -e 's/[A-Za-z0-9_-]\{43\}/VALUE/g' -e 's/h[0-9]*[.-]example/hN.example/g' |
		sort | uniq -c | sort -rn | head -n 5 | while IFS= read -r line; do
			b_note "fanout: hooks failed: $line"
		done
fi
served=0
for i in $(seq 0 $((BENCH_FANOUT_HOOKS - 1))); do
	# The readable scheme: h<i>.example.test -> h<i>-example-test.<zone>.
	both_serve "h$i-example-test.$CZ" "$(printf 'tok%040d' "$i")" && served=$((served + 1))
done
hm=$(awk '{ print $3 / 1000 }' "$d/hooks.out" | median)
hp=$(awk '{ print $3 / 1000 }' "$d/hooks.out" | pct 99)
row "10 fan-out" "$BENCH_FANOUT_HOOKS hooks at once (2 client hosts, 2 peers): succeeded" "$okn/$BENCH_FANOUT_HOOKS" "-" "-" "all" "$( [ "$okn" = "$BENCH_FANOUT_HOOKS" ] && echo met || echo MISSED)"
row "10 fan-out" "... values served by ns1 and ns2 afterwards" "$served/$BENCH_FANOUT_HOOKS" "-" "-" "all" "$( [ "$served" = "$BENCH_FANOUT_HOOKS" ] && echo met || echo MISSED)"
row "10 fan-out" "... hook latency median ms" "$hm" "-" "-" "(report)" "-"
row "10 fan-out" "... hook latency p99 ms" "$hp" "-" "-" "(report)" "-"
row "10 fan-out" "... all $BENCH_FANOUT_HOOKS done, wall ms" "$wall" "-" "-" "(report)" "-"
done_testing >/dev/null
