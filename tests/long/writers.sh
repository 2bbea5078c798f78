#!/bin/bash
# writers.sh -- writers killed with SIGKILL mid-transaction hundreds of times, and a writer on a full disk: nothing lost, nothing half-written.
#
# Part 1: a real knotd serves the store under load (dnsload, checked) while
# 'acmezone apply' batches are killed at random points -- before, during
# and after their commit.  Every batch must be all there or not there at
# all, every batch whose CLI returned 0 must be there, the store must
# verify record by record, and knotd must answer throughout.
# Part 2: the store on a 512 KiB tmpfs in a private mount namespace: the
# batch that fills the disk fails with a clear message and leaves the
# store as it was.
#
# WRITERS_KILLS (default 200) sets the number of kills; 'make check-long'
# raises it.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

KILLS=${WRITERS_KILLS:-200}
BATCH=500		# names per batch

AZTOOL="$top_builddir/tests/lib/aztool"

# --- Part 2's inner half: runs as root in its own mount namespace.
if [ "${1:-}" = --enospc ]; then
	d=$2
	mkdir -p "$d/tiny" || exit 1
	mount -t tmpfs -o size=512k,mode=0700 tmpfs "$d/tiny" || { echo "mount=fail"; exit 0; }
	echo "mount=ok"
	db="$d/tiny/acmezone.mdb"
	"$KD_CLI" --db "$db" init >/dev/null 2>&1
	echo "init=$?"
	i=0 rc=0
	# Batches of 200 names until one does not fit.
	while [ $i -lt 100 ]; do
		i=$((i + 1))
		for j in $(seq 1 200); do
			printf 'add n%d-%d.full.test %043d\n' "$i" "$j" "$j"
		done >"$d/batch"
		"$KD_CLI" --db "$db" list --json >"$d/list.before" 2>/dev/null
		cp "$db" "$d/db.before"
		"$KD_CLI" --db "$db" --no-wait apply "$d/batch" 2>"$d/err"
		rc=$?
		[ $rc -ne 0 ] && break
	done
	echo "batches=$i"
	echo "rc=$rc"
	echo "err=$(head -n 1 "$d/err")"
	echo "errlines=$(wc -l <"$d/err")"
	"$KD_CLI" --db "$db" list --json >"$d/list.after" 2>/dev/null
	cmp -s "$d/list.before" "$d/list.after"
	echo "same=$?"
	"$AZTOOL" check "$db" >"$d/check" 2>&1
	echo "check=$? $(cat "$d/check")"
	n=$("$KD_CLI" --db "$db" list "n$i-1.full.test" | grep -c .)
	echo "failed_batch_names=$n"
	# Making room: a delete must still commit on the full disk.
	"$KD_CLI" --db "$db" --no-wait del n1-1.full.test 2>"$d/err.del"
	echo "del=$? $(head -n 1 "$d/err.del")"
	"$KD_CLI" --db "$db" --no-wait add small.full.test "$(printf '%043d' 7)" 2>"$d/err.add"
	echo "add_after=$? $(head -n 1 "$d/err.add")"
	"$AZTOOL" check "$db" >"$d/check" 2>&1
	echo "check_after=$? $(cat "$d/check")"
	umount "$d/tiny"
	exit 0
fi

knotd_require
[ -x "$AZTOOL" ] || bail "tests/lib/aztool is not built"
dir=$(mktemp -d "${TMPDIR:-/tmp}/azwriters.XXXXXX") || bail "mktemp failed"
load_pid=
cleanup() {
	local rc=$?
	if [ -n "$load_pid" ]; then
		kill "$load_pid" 2>/dev/null
	fi
	(exit $rc)
	knotd_cleanup
}
trap cleanup EXIT
knotd_setup "$dir"
Z=$KD_ZONE

knotd_init >/dev/null
ok $? "acmezone init"
knotd_start
S="_acme-challenge.static.$Z"
TS=$(tok static)
az add "$S" "$TS"
ok $? "a static token for the load generator"

# Batch files: batch i adds BATCH names, each with a value of its own.
mkdir "$dir/b"
awk -v kills="$KILLS" -v batch=$BATCH -v z="$Z" -v d="$dir/b" 'BEGIN {
	for (i = 1; i <= kills; i++) {
		for (j = 1; j <= batch; j++) {
			printf "add k%d-%d.w.%s %043d\n", i, j, z, j > (d "/" i)
		}
		close(d "/" i)
	}
}'

# Load over UDP and TCP for the whole run, checked by dnsload.
echo "$S $TS" >"$dir/expect"
echo "nx.$Z -" >>"$dir/expect"
"$KD_DNSLOAD" load -s 127.0.0.1 -p "$KD_PORT" -f "$dir/expect" --duration-ms 600000 \
	--tcp-share 10 --window 16 >"$dir/load.out" 2>&1 &
load_pid=$!

t0=$(test_now_ms)
acked=() killed=0 completed=0 hung=0
for i in $(seq 1 "$KILLS"); do
	"$KD_CLI" --db "$KD_DB" apply "$dir/b/$i" 2>/dev/null &
	pid=$!
	# 0 to 60 ms after the start: before, during or after the commit
	# (a batch takes some ms to read and write, then the CLI waits for
	# knotd).  A busy wait: a sleep process would take longer than that.
	delay=$((RANDOM % 60000))
	start=${EPOCHREALTIME/./}
	while (( ${EPOCHREALTIME/./} - start < delay )); do :; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	if [ $rc -eq 0 ]; then
		acked+=("$i")
		completed=$((completed + 1))
	elif [ $rc -eq 137 ]; then
		killed=$((killed + 1))
	else
		hung=$((hung + 1))
	fi
	if [ $((i % 50)) -eq 0 ] && ! kd_alive; then
		break
	fi
done
t1=$(test_now_ms)
diag "$KILLS batches in $((t1 - t0)) ms: $killed killed, $completed acknowledged, $hung other"
[ "$killed" -ge $((KILLS / 4)) ]
ok $? "at least a quarter of the writers were killed ($killed of $KILLS)"
is "$hung" 0 "no writer failed otherwise"

# A killed writer may have left LMDB's write lock held: the next one must get it.
T=$(tok after)
timeout -s KILL 10 "$KD_CLI" --db "$KD_DB" add "_acme-challenge.after.$Z" "$T"
ok $? "a writer after the kills commits (the write lock of a killed writer is recovered)"
has_value "_acme-challenge.after.$Z" "$T"
ok $? "and is answered at once"

kill -INT "$load_pid" 2>/dev/null
wait "$load_pid"
load_pid=
load=$(head -n 1 "$dir/load.out")
diag "load: $load"
wrong=$(printf '%s\n' "$load" | tr ' ' '\n' | sed -n 's/^wrong=//p')
answered=$(printf '%s\n' "$load" | tr ' ' '\n' | sed -n 's/^answered=//p')
is "${wrong:-x}" 0 "no wrong answer under the kills"
[ "${answered:-0}" -gt 1000 ]
ok $? "knotd kept answering (answered=${answered:-?})"

"$AZTOOL" check "$KD_DB" >"$dir/check" 2>&1
ok $? "every record decodes and verifies ($(cat "$dir/check"))"

# All or nothing, per batch; all of every acknowledged batch.
az list >"$dir/list"
torn=0 lost=0 present=0
declare -A is_acked
for i in "${acked[@]}"; do
	is_acked[$i]=1
done
awk '{ split($1, a, "-"); sub(/^k/, "", a[1]); n[a[1]]++ } END { for (b in n) print b, n[b] }' \
	<(grep '^k[0-9]*-[0-9]*\.w\.' "$dir/list") | sort -n >"$dir/counts"
declare -A count
while read -r b n; do
	count[$b]=$n
done <"$dir/counts"
for i in $(seq 1 "$KILLS"); do
	n=${count[$i]:-0}
	if [ "$n" -ne 0 ] && [ "$n" -ne $BATCH ]; then
		torn=$((torn + 1))
		[ $torn -le 3 ] && diag "batch $i: $n of $BATCH names"
	fi
	[ "$n" -eq $BATCH ] && present=$((present + 1))
	if [ -n "${is_acked[$i]:-}" ] && [ "$n" -ne $BATCH ]; then
		lost=$((lost + 1))
	fi
done
diag "batches in the store: $present (acknowledged: ${#acked[@]})"
is "$torn" 0 "no batch is half there"
is "$lost" 0 "every acknowledged batch is there"
[ "$present" -ge "${#acked[@]}" ]
ok $? "committed-but-killed batches are whole too ($((present - ${#acked[@]})) of them)"
[ "$present" -lt "$KILLS" ]
ok $? "some writers were killed before their commit ($((KILLS - present)) batches absent)"

# knotd serves what the store holds: a sample of the batches.
miss=0
sample=0
for i in $(seq 1 7 "$KILLS"); do
	n=${count[$i]:-0}
	name="k$i-$((i % BATCH + 1)).w.$Z"
	v=$(printf '%043d' $((i % BATCH + 1)))
	sample=$((sample + 1))
	if [ "$n" -eq $BATCH ]; then
		has_value "$name" "$v" || miss=$((miss + 1))
	else
		out=$(dq "$name" TXT)
		[[ $out == "rcode=NXDOMAIN"* ]] || miss=$((miss + 1))
	fi
done
is "$miss" 0 "knotd answers exactly what the store holds ($sample batches sampled)"
kd_alive && kd_soa_answered
ok $? "knotd is alive and answering"
knotd_stop
ok $? "knotc stop: knotd exits with status 0"

# --- Part 2: a full disk.
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
	ok 0 "full disk # SKIP needs root and unshare for a private tmpfs"
else
	unshare -m --propagation private bash "$0" --enospc "$dir" >"$dir/enospc" 2>&1
	r() { sed -n "s/^$1=//p" "$dir/enospc" | head -n 1; }
	if [ "$(r mount)" != ok ]; then
		ok 0 "full disk # SKIP cannot mount a tmpfs here"
	else
		diag "$(tr '\n' ' ' <"$dir/enospc")"
		is "$(r init)" 0 "a store on a 512 KiB tmpfs"
		[ "$(r batches)" -gt 1 ]
		ok $? "batches of 200 names fit until the disk is full ($(r batches) tried)"
		is "$(r rc)" 1 "the batch that does not fit: exit 1"
		like "$(r err)" "database full" "with a clear message: $(r err)"
		is "$(r errlines)" 1 "on one line"
		is "$(r same)" 0 "the store lists exactly what it held before"
		like "$(r check)" "^0 " "every record verifies"
		is "$(r failed_batch_names)" 0 "nothing of the failed batch is there"
		like "$(r del)" "^0" "a delete still commits on the full disk"
		like "$(r check_after)" "^0 " "and the store still verifies"
	fi
fi

done_testing
