#!/bin/bash
# faults.sh -- a real knotd with mod-acmezone while its store is truncated, cut, made unreadable, deleted, upgraded, flipped and grown.
#
# For each fault (the rows of doc/reliability.md): knotd keeps running and
# answering, the module logs the condition once, serves what the table
# says it serves in that case, and takes the store up again by itself once
# the file is good -- no knotd restart anywhere in this file.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

knotd_require
AZTOOL="$top_builddir/tests/lib/aztool"
[ -x "$AZTOOL" ] || bail "tests/lib/aztool is not built"
dir=$(mktemp -d "${TMPDIR:-/tmp}/azfaults.XXXXXX") || bail "mktemp failed"
trap knotd_cleanup EXIT
knotd_setup "$dir"

# knotd runs as user knot (knotd_require skips otherwise) and the store is
# DIR/store, made by 'acmezone init --group knot' (0750, group knot) in a
# directory of root's: file modes mean what they say, and writers trust it.
AS_KNOT=yes

Z=$KD_ZONE
A="_acme-challenge.keep.$Z"

# nlog TEXT: how many log lines of the module hold TEXT.
nlog() {
	grep -F 'mod-acmezone' "$KD_LOG" 2>/dev/null | grep -cF -- "$1"
}

# log_grows TEXT BEFORE: more lines with TEXT than BEFORE.
log_grows() {
	[ "$(nlog "$1")" -gt "$2" ]
}

# once TEXT BEFORE DESC: TEXT appears, then (after a few more rounds of the
# module's one-second checks) exactly once more than BEFORE.
once() {
	poll_until 5 log_grows "$1" "$2"
	ok $? "$3: logged"
	sleep 2.5	# two more slow-path rounds: nothing new may be logged
	is "$(nlog "$1")" $(($2 + 1)) "$3: logged once"
}

alive() {
	kd_alive && kd_soa_answered
}

# add_seen NAME VALUE: add (waiting for knotd) and see it at once.
add_seen() {
	az add "$1" "$2" && has_value "$1" "$2"
}

diag "knotd on 127.0.0.1@$KD_PORT as user $KD_USER, store $KD_DB"

out=$(knotd_init 2>&1)
ok $? "acmezone init --group $KD_GROUP"
diag "$out"
knotd_start
T1=$(tok one)
az add "$A" "$T1"
ok $? "a token is written"
poll_until 5 has_value "$A" "$T1"
ok $? "and served"
# Some bulk, so that the file has pages past its metas.
for i in $(seq 1 300); do
	echo "add bulk$i.$Z $(tok "bulk$i")"
done | az apply
ok $? "300 more names in one batch"
has_value "bulk300.$Z" "$(tok bulk300)"
ok $? "served at once"
cp "$KD_DB" "$dir/good.mdb"

########################################################################
# Truncated: keep the last good state, recover when the file is whole.
for cut in 0 half; do
	n0=$(nlog "is shorter than the data it holds")
	o0=$(nlog "' opened")
	size=$(stat -c %s "$KD_DB")
	[ "$cut" = half ] && cut=$((size / 2))
	truncate -s "$cut" "$KD_DB"
	ok $? "truncate the store to $cut octets (of $size) while knotd runs"
	once "is shorter than the data it holds" "$n0" "truncated to $cut"
	alive
	ok $? "knotd is alive and answering"
	has_value "$A" "$T1" && has_value "bulk300.$Z" "$(tok bulk300)"
	ok $? "the last good state is still answered"
	az add "_acme-challenge.x.$Z" "$T1" 2>"$dir/err"
	is "$?" 1 "the CLI refuses the truncated store (exit 1)"
	diag "$(cat "$dir/err")"
	cp "$dir/good.mdb" "$KD_DB"	# in place, as a restore with cp would
	ok $? "the good bytes are copied back"
	poll_until 5 log_grows "' opened" "$o0"
	ok $? "the store is reopened by itself"
	T=$(tok "after-$cut")
	add_seen "_acme-challenge.after.$Z" "$T"
	ok $? "a write after the repair is served at once"
	az del "_acme-challenge.after.$Z"
	cp "$KD_DB" "$dir/good.mdb"
done

########################################################################
# The LMDB lock file cut short: the module regrows it and reopens.
n0=$(nlog "lock file was removed, replaced or cut short")
truncate -s 0 "$KD_DB-lock"
ok $? "truncate the lock file (LMDB's reader table) to 0"
poll_until 5 log_grows "lock file was removed, replaced or cut short" "$n0"
ok $? "noticed and logged"
alive && has_value "$A" "$T1"
ok $? "knotd alive, state answered"
T=$(tok lock)
poll_until 5 add_seen "_acme-challenge.lock.$Z" "$T"
ok $? "writes are read back at once again"

########################################################################
# The LMDB lock file removed, and the next CLI run (a root reader) makes
# it again: with the store's group and mode, so knotd (user knot) can
# open the store again, and writes are served and acknowledged at once.
o0=$(nlog "' opened")
rm -f "$KD_DB-lock"
ok $? "remove the lock file"
az list >/dev/null
ok $? "acmezone list (as root) runs"
is "$(stat -c '%a %G' "$KD_DB-lock" 2>&1)" "660 $(stat -c %G "$KD_DB")" \
	"the lock file it made has mode 0660 and the store's group"
poll_until 5 log_grows "' opened" "$o0"
ok $? "knotd reopens the store by itself"
T=$(tok lockgone)
add_seen "_acme-challenge.lockgone.$Z" "$T"
ok $? "a write is acknowledged and served at once"
# A lock file made with the wrong mode and group (by an older writer, or
# by hand) is repaired by the next writer.
rm -f "$KD_DB-lock"
install -m 0640 /dev/null "$KD_DB-lock" && chgrp root "$KD_DB-lock"
ok $? "a lock file 0640 root:root in its place"
T=$(tok lockfixed)
poll_until 5 add_seen "_acme-challenge.lockfixed.$Z" "$T"
ok $? "the next write repairs it; served at once"
is "$(stat -c '%a %G' "$KD_DB-lock" 2>&1)" "660 $(stat -c %G "$KD_DB")" "... mode 0660, the store's group"

########################################################################
# A reader that dies mid-read (SIGPIPE) must not pin its snapshot: churn
# after it reuses pages instead of growing the file.
# More than a pipe holds (64 KiB), so that 'list' is still writing, in
# its read transaction, when 'head' goes away.
for i in $(seq 1 2000); do
	printf 'add pin%d.%s %043d\n' "$i" "$Z" "$i"
done | az apply
ok $? "2000 names to list"
az list | head -n 1 >/dev/null
is "${PIPESTATUS[0]}" 141 "'acmezone list | head -1': the CLI dies of SIGPIPE mid-read"
size0=$(stat -c %s "$KD_DB")
for i in $(seq 1 150); do
	az --no-wait add "_acme-challenge.churn.$Z" "$(tok "churn$i")" &&
		az --no-wait del "_acme-challenge.churn.$Z" || break
done
is "$i" 150 "150 add/del cycles after it"
size1=$(stat -c %s "$KD_DB")
[ "$size1" -le $((size0 + 256 * 1024)) ]
ok $? "the file grew by at most 256 KiB ($size0 -> $size1 octets)"

########################################################################
# The sync file cut short: polling meanwhile, repaired by the next writer.
n0=$(nlog "was truncated")
truncate -s 0 "$KD_DB-sync"
ok $? "truncate the sync file to 0"
poll_until 5 log_grows "was truncated" "$n0"
ok $? "the module lets go of its map, logged"
alive
ok $? "knotd alive"
T=$(tok sync)
az add "_acme-challenge.sync.$Z" "$T"
ok $? "the next write repairs the sync file"
poll_until 5 has_value "_acme-challenge.sync.$Z" "$T"
ok $? "its value is served (by the poll, at the latest)"
ryw_back() {
	local v
	v=$(tok "ryw$RANDOM")
	az add "_acme-challenge.ryw.$Z" "$v" && has_value "_acme-challenge.ryw.$Z" "$v"
}
poll_until 5 ryw_back
ok $? "read-your-writes works again"
fails=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	ryw_back || fails=$((fails + 1))
done
is "$fails" 0 "10 more writes, each answered at once"

########################################################################
# Unreadable: knotd (user knot) may not read it any more.
n0=$(nlog "is no longer readable")
o0=$(nlog "' opened")
chmod 000 "$KD_DB"
ok $? "chmod 000 the store"
once "is no longer readable" "$n0" "unreadable"
alive && has_value "$A" "$T1"
ok $? "knotd alive, the last good state answered"
T=$(tok unreadable)
az --no-wait add "_acme-challenge.unreadable.$Z" "$T"
ok $? "root still writes to it"
is_nx "_acme-challenge.unreadable.$Z"
ok $? "but knotd does not serve what it may not read"
# knotd keeps its sync-file slot and says there why it cannot read:
# a waiting writer must not take that for "served".
az add "_acme-challenge.unreadable2.$Z" "$(tok unreadable2)" 2>"$dir/err"
is "$?" 4 "a waiting write that knotd cannot serve exits 4, not 0"
like "$(cat "$dir/err")" "committed, but the server with pid $KD_PID cannot read .*Permission denied" \
	"naming knotd and why: $(head -n 1 "$dir/err")"
chmod 0640 "$KD_DB"
poll_until 5 log_grows "' opened" "$o0"
ok $? "readable again: reopened by itself"
poll_until 5 has_value "_acme-challenge.unreadable.$Z" "$T"
ok $? "and the write made meanwhile is served"

########################################################################
# Issue 14 item 8: knotd's account rolls the lock file's transaction id
# back by one (LMDB's mti_txnid, at offset 8 + sizeof(pthread_mutex_t):
# 48 on x86_64).  The next root writer would have built on the snapshot
# before the last commit: a deleted value came back, and knotd answered
# NXDOMAIN for the new one under the same id until restarted.
if [ "$AS_KNOT" = yes ] && [ "$(uname -m)" = x86_64 ] && command -v perl >/dev/null 2>&1; then
	T=$(tok rolled)
	add_seen "_acme-challenge.rolled.$Z" "$T" && az del "_acme-challenge.rolled.$Z" &&
		is_nx "_acme-challenge.rolled.$Z"
	ok $? "rollback: a value added and deleted, both acknowledged"
	setpriv --reuid=knot --regid=knot --clear-groups -- perl -e '
		open(my $f, "+<", $ARGV[0]) or die "open: $!";
		sysseek($f, 48, 0); sysread($f, my $b, 8) == 8 or die "read";
		my $v = unpack("Q<", $b);
		sysseek($f, 48, 0); syswrite($f, pack("Q<", $v - 1)) == 8 or die "write";
		print "$v\n";' "$KD_DB-lock" >"$dir/txnid"
	ok $? "rollback: user knot wrote txnid - 1 ($(($(cat "$dir/txnid") - 1))) into the lock file"
	is_nx "_acme-challenge.rolled.$Z"
	ok $? "rollback: knotd does not go back to the older snapshot"
	T2=$(tok rolled2)
	add_seen "_acme-challenge.rolled2.$Z" "$T2"
	ok $? "rollback: the next root write is acknowledged and served at once, no restart"
	is_nx "_acme-challenge.rolled.$Z"
	ok $? "rollback: the deleted value did not come back"
	alive && has_value "$A" "$T1"
	ok $? "rollback: knotd alive, the rest still served"
else
	ok 0 "rolled-back txnid # SKIP needs knotd as user knot, x86_64 and perl"
fi

########################################################################
# Issue 14 item 14: a store any user may write is not served (any user
# could publish tokens); the state loaded while it was trusted stays.
n0=$(nlog "is not served: it is writable by any user")
o0=$(nlog "' opened")
chmod 0646 "$KD_DB"
once "is not served: it is writable by any user" "$n0" "world-writable store"
alive && has_value "$A" "$T1"
ok $? "world-writable: knotd alive, the last good state answered"
chmod 0640 "$KD_DB"
poll_until 5 log_grows "' opened" "$o0"
ok $? "world-writable: mode fixed, reopened by itself"
T=$(tok exposed)
add_seen "_acme-challenge.exposed.$Z" "$T"
ok $? "world-writable: writes are served again"

########################################################################
# Newer schema: refused, logged once, last state kept.
n0=$(nlog "unsupported schema version")
o0=$(nlog "' opened")
"$AZTOOL" schema "$KD_DB" 2
ok $? "a newer acmezone upgrades the schema in place"
once "unsupported schema version" "$n0" "newer schema"
alive && has_value "$A" "$T1"
ok $? "knotd alive, the last good state answered"
cp "$KD_DB" "$dir/before"
az add "_acme-challenge.schema.$Z" "$T1" 2>"$dir/err"
is "$?" 1 "the CLI refuses it too (exit 1)"
like "$(cat "$dir/err")" "unsupported schema version" "with the reason"
cmp -s "$KD_DB" "$dir/before"
ok $? "and leaves it byte for byte as it was"
"$AZTOOL" schema "$KD_DB" 1
poll_until 5 log_grows "' opened" "$o0"
ok $? "schema back to 1: taken up again by itself"
T=$(tok schema)
add_seen "_acme-challenge.schema.$Z" "$T"
ok $? "writes are served at once again"

########################################################################
# Flipped octets (a restore from a damaged copy): skipped by name, the rest served.
VF=$(tok flipme)
az add "_acme-challenge.flipv.$Z" "$VF" && az add "flipkey.$Z" "$(tok flipkey)"
ok $? "a value and a name to damage"
cp -p "$KD_DB" "$dir/damaged.mdb"
nv=$("$AZTOOL" flip "$dir/damaged.mdb" "$VF" 20)
nk=$("$AZTOOL" flip "$dir/damaged.mdb" "flipkey" 2)
[ "${nv:-0}" -gt 0 ] && [ "${nk:-0}" -gt 0 ]
ok $? "flipped one bit in $nv copies of the value and $nk of the name (still printable)"
"$AZTOOL" check "$dir/damaged.mdb" >"$dir/check" 2>&1
is "$?" 1 "the store's own check finds the damage ($(cat "$dir/check"))"
n0=$(nlog "skipping corrupt record")
mv "$dir/damaged.mdb" "$KD_DB"
ok $? "the damaged copy replaces the store"
poll_until 5 log_grows "skipping corrupt record" "$n0"
ok $? "damaged records are skipped with a log line"
grep -F 'mod-acmezone' "$KD_LOG" | grep -F "skipping corrupt record" | tail -n 2 |
	while IFS= read -r line; do diag "log: $line"; done
[ "$(nlog "skipping corrupt record '_acme-challenge.flipv.$Z'")" -ge 1 ]
ok $? "the flipped value is named in the log"
[ "$(nlog "skipping corrupt record 'flkpkey.$Z'")" -ge 1 ]
ok $? "and the flipped name too, under the name it now has ('i' -> 'k')"
is_nx "_acme-challenge.flipv.$Z" && is_nx "flipkey.$Z"
ok $? "neither is answered"
alive && has_value "$A" "$T1" && has_value "bulk150.$Z" "$(tok bulk150)"
ok $? "knotd alive, the rest served"
az del "_acme-challenge.flipv.$Z"
ok $? "'acmezone del NAME' clears a damaged record"
add_seen "_acme-challenge.flipv.$Z" "$VF"
ok $? "and the name works again"

########################################################################
# Deleted: the last loaded state until a store is back.
n0=$(nlog "was removed or replaced")
rm -f "$KD_DB"
ok $? "the store is deleted"
once "was removed or replaced" "$n0" "deleted"
alive && has_value "$A" "$T1"
ok $? "knotd alive, the last loaded state answered"

########################################################################
# Replaced by a new store whose map is small; a writer then grows it past
# the map knotd has (MDB_MAP_RESIZED on its side).
o0=$(nlog "' opened")
rm -f "$KD_DB-lock" "$KD_DB-sync"
ACMEZONE_MAPSIZE=256K knotd_init >/dev/null
ok $? "a new store with a 256 KiB map"
poll_until 5 log_grows "' opened" "$o0"
ok $? "picked up by itself"
poll_until 5 is_nx "$A"
ok $? "the old state is gone with the old file"
T=$(tok small)
add_seen "_acme-challenge.small.$Z" "$T"
ok $? "written and served"
for i in $(seq 1 4000); do
	echo "add big$i.$Z $(printf '%043d' "$i")"
done >"$dir/big.batch"
cp "$KD_DB" "$dir/before"
ACMEZONE_MAPSIZE=256K az apply "$dir/big.batch" 2>"$dir/err"
is "$?" 1 "4000 names do not fit the 256 KiB map: exit 1"
like "$(cat "$dir/err")" "database full" "the message says the database is full"
cmp -s "$KD_DB" "$dir/before"
ok $? "nothing of it was written"
ACMEZONE_MAPSIZE=64M az apply "$dir/big.batch"
ok $? "with a 64 MiB map the batch commits"
has_value "big4000.$Z" "$(printf '%043d' 4000)" && has_value "big1.$Z" "$(printf '%043d' 1)"
ok $? "knotd follows the grown map: served at once"
alive && has_value "_acme-challenge.small.$Z" "$T"
ok $? "knotd alive, the rest still served"

########################################################################
knotd_stop
ok $? "knotc stop: knotd exits with status 0"
grep -F 'mod-acmezone' "$KD_LOG" | grep -vF 'skipping corrupt' | tail -n 30 |
	while IFS= read -r line; do diag "log: $line"; done
done_testing
