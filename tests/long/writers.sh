#!/bin/bash
# writers.sh -- writers killed with SIGKILL mid-transaction hundreds of times, writers and knotd on a full disk: nothing lost, nothing half-written, nothing dies.
#
# Part 1: a real knotd serves the store under load (dnsload, checked) while
# 'acmezone apply' batches are killed at random points -- before, during
# and after their commit.  Every batch must be all there or not there at
# all, every batch whose CLI returned 0 must be there, the store must
# verify record by record, and knotd must answer throughout.
# Part 2: the store on a 512 KiB tmpfs in a private mount namespace: the
# batch that fills the disk fails with a clear message and leaves the
# store as it was.
# Part 3: knotd (as user knot) serving a store on a full 1 MiB tmpfs whose
# sync file is cut: knotd stays up, a delete exits 0 (committed) or 1 (not)
# but never dies of SIGBUS, init on the full disk leaves nothing behind,
# and a read-only file system is reported as such.
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

# --- Part 3's inner half: knotd (as user knot when there is one) serving
# a store on a 1 MiB tmpfs, in its own mount namespace, as root.
if [ "${1:-}" = --fulldisk ]; then
	d=$2
	mkdir -p "$d/tiny" "$d/kd" || exit 1
	mount -t tmpfs -o size=1m,mode=0755 tmpfs "$d/tiny" || { echo "mount=fail"; exit 0; }
	echo "mount=ok"
	trap 'knotd_stop >/dev/null 2>&1; umount -l "$d/tiny" 2>/dev/null' EXIT
	chmod 0755 "$d"		# knotd (KD_USER) traverses it
	knotd_setup "$d/kd"
	KD_DB="$d/tiny/store/acmezone.mdb"
	knotd_write_conf
	echo "user=$KD_USER"
	knotd_init >/dev/null 2>&1
	echo "init=$?"
	T=$(printf '%043d' 1)
	az add "_acme-challenge.a.$KD_ZONE" "$T" >/dev/null 2>&1
	# Free pages in the file, so that a delete can commit on the full
	# disk (the names added, then deleted, then one more commit: LMDB
	# reuses pages freed two transactions back).
	for i in $(seq 1 300); do
		printf 'add f%d.%s %043d\n' "$i" "$KD_ZONE" "$i"
	done | az --no-wait apply >/dev/null 2>&1
	for i in $(seq 1 300); do
		printf 'del f%d.%s\n' "$i" "$KD_ZONE"
	done | az --no-wait apply >/dev/null 2>&1
	az --no-wait add "_acme-challenge.z.$KD_ZONE" "$T" >/dev/null 2>&1
	knotd_start >/dev/null 2>&1
	poll_until 5 has_value "_acme-challenge.a.$KD_ZONE" "$T"
	echo "served=$?"
	# Fill the file system, then cut the sync file: knotd and the CLI
	# must grow it back with real blocks or not at all (a hole written
	# through a map on a full disk is SIGBUS).
	dd if=/dev/zero of="$d/tiny/fill" bs=4k >/dev/null 2>&1
	echo "avail=$(df -k --output=avail "$d/tiny" | tail -n 1 | tr -d ' ')"
	# Cutting it frees its page: take that too, before knotd (which
	# looks again within a second) can grow the file back.
	: >"$KD_DB-sync"
	dd if=/dev/zero of="$d/tiny/fill2" bs=4k >/dev/null 2>&1
	echo "sync_size=$(stat -c %s "$KD_DB-sync")"
	sleep 2.5	# two rounds of the module's one-second checks
	kd_alive && kd_soa_answered
	echo "alive_cut=$?"
	az del "_acme-challenge.a.$KD_ZONE" >/dev/null 2>"$d/err.del"
	echo "del=$?"
	echo "del_err=$(head -n 1 "$d/err.del")"
	n=$(az list 2>/dev/null | grep -c "_acme-challenge.a")
	echo "left=$n"
	kd_alive && kd_soa_answered
	echo "alive_del=$?"
	# init on the full disk: an honest exit, nothing left behind.
	az --db "$d/tiny/store/new.mdb" init >/dev/null 2>"$d/err.init"
	echo "init_full=$?"
	echo "init_err=$(head -n 1 "$d/err.init")"
	echo "init_left=$(find "$d/tiny/store" -name 'new.mdb*' | wc -l)"
	# Room again: the next write repairs the sync file and is served.
	rm -f "$d/tiny/fill" "$d/tiny/fill2"
	T=$(printf '%043d' 2)
	az add "_acme-challenge.b.$KD_ZONE" "$T" >/dev/null 2>&1 &&
		poll_until 5 has_value "_acme-challenge.b.$KD_ZONE" "$T"
	echo "after=$?"
	# knotd takes its slot again within a second: then writes are
	# acknowledged and served at once again.
	ryw() {
		local v
		v=$(printf '%043d' "$RANDOM")
		az add "_acme-challenge.r.$KD_ZONE" "$v" >/dev/null 2>&1 &&
			has_value "_acme-challenge.r.$KD_ZONE" "$v"
	}
	poll_until 5 ryw
	echo "ryw=$?"
	kd_alive && kd_soa_answered
	echo "alive_end=$?"
	knotd_stop >/dev/null 2>&1
	echo "stop=$?"
	# A read-only file system (once nothing has files open for writing
	# there, or the remount is refused): said so.
	mount -o remount,ro "$d/tiny"
	az add "_acme-challenge.c.$KD_ZONE" "$T" >/dev/null 2>"$d/err.ro"
	echo "ro=$?"
	echo "ro_err=$(head -n 1 "$d/err.ro")"
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

# in_private_tmpfs PART DESC: run this script's inner half --PART as root
# in a private mount namespace; false, after a SKIP line for DESC, when
# that cannot be done here.  Then 'r KEY' reads what the inner half said.
in_private_tmpfs() {
	rfile="$dir/$1"
	if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
		ok 0 "$2 # SKIP needs root and unshare for a private tmpfs"
		return 1
	fi
	unshare -m --propagation private bash "$0" "--$1" "$dir" >"$rfile" 2>&1
	if [ "$(r mount)" != ok ]; then
		ok 0 "$2 # SKIP cannot mount a tmpfs here"
		return 1
	fi
	diag "$(tr '\n' ' ' <"$rfile")"
}
r() { sed -n "s/^$1=//p" "$rfile" | head -n 1; }

# --- Part 2: a full disk.
if in_private_tmpfs enospc "full disk"; then
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

# --- Part 3: knotd and the CLI on a full disk whose sync file is cut.
if in_private_tmpfs fulldisk "full disk with knotd"; then
	is "$(r init)" 0 "a store on a 1 MiB tmpfs"
	is "$(r served)" 0 "knotd ($(r user)) serves it"
	is "$(r avail)" 0 "the file system is full"
	is "$(r sync_size)" 0 "the sync file is cut, and its page taken"
	is "$(r alive_cut)" 0 "sync file cut on the full disk: knotd stays up"
	del=$(r del)
	[ "$del" = 0 ] || [ "$del" = 1 ]
	ok $? "del on the full disk exits 0 or 1, not by a signal (exit $del: $(r del_err))"
	if [ "$del" = 0 ]; then
		is "$(r left)" 0 "... it committed: the value is gone"
	else
		is "$(r left)" 1 "... it did not commit: the value is there"
	fi
	is "$(r alive_del)" 0 "knotd is still up"
	is "$(r init_full)" 1 "init on the full disk: exit 1 ($(r init_err))"
	is "$(r init_left)" 0 "and no file of it is left behind"
	is "$(r after)" 0 "with room again a write is served (the sync file grown back)"
	is "$(r ryw)" 0 "and then acknowledged and served at once again"
	is "$(r ro)" 1 "a write on a read-only file system: exit 1"
	like "$(r ro_err)" "read-only file system" "saying so: $(r ro_err)"
	is "$(r alive_end)" 0 "knotd is up to the end"
	is "$(r stop)" 0 "knotc stop: knotd exits with status 0"
fi

done_testing
