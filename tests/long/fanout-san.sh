#!/bin/bash
# fanout-san.sh -- fan-out through kept sessions over a real sshd with a sanitizer build of acmezone on both sides: the keeper, serve's session mode, a killed keeper, a peer without sessions, a lying peer; no sanitizer report.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sanitizers.sh runs this with top_builddir set to its ASan+UBSan build
# and SAN_LOG to a directory of its own.  Every acmezone of the run writes
# its reports there (log_path): the writers, the keepers they start (a
# detached grandchild exec'd from /proc/self/exe: it inherits the writer's
# environment), and each serve that sshd starts (sshd passes no
# environment: the forced command sets ASAN_OPTIONS and UBSAN_OPTIONS).
# Only acmezone is built with the sanitizers (sshd and ssh are the
# system's), so the logs are acmezone's own and every report in them
# counts, leaks included.
#
# No knotd: serve commits and answers without one (peers.sh's last part),
# and the values are checked in the stores with 'acmezone list'.
#   ns1  store DB1, sshd; peer ns2; the client's key runs 'serve --scope'
#   ns2  store DB2, sshd; ns1's peer key runs 'serve --unscoped'
#   cl   no store; peer ns1 with the scoped key, its own ssh directory

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/lib/sshd-lib.sh"

sshd_require
AZ="$top_builddir/acmezone"
D=$(mktemp -d "${TMPDIR:-/tmp}/azfanout-san.XXXXXX") || bail "mktemp failed"
chmod 0755 "$D"
SL=${SAN_LOG:-$D/san}
mkdir -p "$SL" || bail "cannot make $SL"
export ASAN_OPTIONS="detect_leaks=1:log_path=$SL/az"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$SL/az"
SAN_ENV="ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
Z=acme.example.test.
KEEPERS=				# every keeper PID seen, for the cleanup

cleanup() {
	local rc=$? p
	sshd_masters_exit "$D/ctl"
	sshd_masters_exit "$D/clctl"
	sshd_masters_exit "$D/ns1/ctl"
	for p in $KEEPERS; do
		poll_until 5 eval '! kill -0 "$p" 2>/dev/null' || stop_pid "$p" "keeper"
	done
	sshd_stop ns1
	sshd_stop ns2
	if [ "${tap_failed:-0}" -ne 0 ] || [ "$rc" -ne 0 ]; then
		diag "kept $D"
	else
		rm -rf -- "$D"
	fi
	return "$rc"
}
trap cleanup EXIT
trap 'exit 1' TERM INT	# (timeout) the cleanup still runs

ASAN_OPTIONS=help=1 "$AZ" --version 2>&1 | grep -q 'Available flags for AddressSanitizer'
ok $? "$AZ is built with AddressSanitizer"

DB1="$D/ns1/store/acmezone.mdb"
DB2="$D/ns2/store/acmezone.mdb"
DBC="$D/cl/store/acmezone.mdb"
for h in ns1 ns2; do
	mkdir -p "$D/$h/ssh" "$D/$h/ctl" && chmod 0700 "$D/$h/ctl"
done
mkdir -p "$D/cl/store" "$D/keys" "$D/ctl" "$D/clctl" && chmod 0700 "$D/ctl" "$D/clctl"
"$AZ" --db "$DB1" init --zone "$Z" >/dev/null && "$AZ" --db "$DB2" init --zone "$Z" >/dev/null
ok $? "init two stores"
export ACMEZONE_SSH_DIR="$D/ctl"
az1() { "$AZ" --db "$DB1" "$@"; }
az2() { "$AZ" --db "$DB2" "$@"; }
azc() { ACMEZONE_SSH_DIR="$D/clctl" "$AZ" --db "$DBC" "$@"; }
# has DB NAME VALUE: the store holds VALUE at NAME.
has() { "$AZ" --db "$1" list "$2" 2>/dev/null | grep -qF -- "$3"; }
# count DB VALUE...: how many of the values the store holds.
count() {
	local db=$1 all n=0 v
	shift
	all=$("$AZ" --db "$db" list)
	for v in "$@"; do
		grep -qF -- "$v" <<<"$all" && n=$((n + 1))
	done
	echo "$n"
}
# state_of DIR DB PEER: the session state of PEER's keeper in ssh directory DIR.
state_of() { ACMEZONE_SSH_DIR=$1 "$AZ" --db "$2" peer list | sed -n "s/^peer $3 .* session \([a-z-]*\).*/\1/p"; }
pid_of() { ACMEZONE_SSH_DIR=$1 "$AZ" --db "$2" peer list | sed -n "s/^peer $3 .* keeper \([0-9]*\)$/\1/p"; }
kept() { [ "$(state_of "$D/ctl" "$DB1" "$1")" = "$2" ]; }	# kept PEER STATE (ns1's)
# san_env PID: the process runs with this run's sanitizer options.
san_env() {
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qx "ASAN_OPTIONS=$ASAN_OPTIONS"
}
sessions2() { grep -c 'Starting session: forced-command' "$D/ns2/ssh/sshd.log"; }

sshd_key "$D/keys/client"
sshd_key "$D/keys/peer"
printf 'domain example.org\ndomain *.example.org\nops add del\n' >"$D/ns1/scope"
sshd_authorize "$D/ns1/ssh" "$D/keys/client" \
	"$SAN_ENV ACMEZONE_SSH_DIR=$D/ns1/ctl $AZ --db $DB1 serve --scope $D/ns1/scope"
sshd_authorize "$D/ns2/ssh" "$D/keys/peer" "$SAN_ENV $AZ --db $DB2 serve --unscoped"
sshd_start ns1 "$D/ns1/ssh"
sshd_start ns2 "$D/ns2/ssh"
P1=$SSHD_PORT_ns1
P2=$SSHD_PORT_ns2
az1 peer add ns2 --ssh "root@127.0.0.1:$P2" --key "$D/keys/peer" --address 127.0.0.1 \
	--host-key "$D/ns2/ssh/host_ed25519.pub" &&
azc peer add ns1 --ssh "root@127.0.0.1:$P1" --key "$D/keys/client" --address 127.0.0.1 \
	--host-key "$D/ns1/ssh/host_ed25519.pub"
ok $? "peer add ns2 on ns1, ns1 on the client host"

########################################################################
# serve's session mode, directly: batches one after another, the
# malformed one answered and the session ended there.
batch() {	# batch ID NAME...: one batch adding a value at each name
	local id=$1 n
	shift
	printf 'acmezone-batch 1 id=%s time=%s\n' "$id" "$(test_now_ms)"
	for n in "$@"; do printf 'add %s %s 60\n' "$n" "$(tok "$n")"; done
	printf 'end id=%s ops=%d\n' "$id" "$#"
}
out=$( { echo 'acmezone-session 1'
	batch 00000000000000b1 d1.example.org
	batch 00000000000000b2 d2.example.org d3.example.net
	printf 'acmezone-batch 1 id=00000000000000b3 time=1\nbogus\n'
	batch 00000000000000b4 d5.example.org; } | az2 serve --unscoped 2>/dev/null)
rc=$?
like "$(head -n 1 <<<"$out")" '^acmezone-session 1 ok$' "serve --unscoped: a session is answered 'ok'"
is "$(grep '^status' <<<"$out" | cut -d' ' -f1-3)" "status id=00000000000000b1 ok
status id=00000000000000b2 ok
status id=00000000000000b3 refused" "... each batch answered in turn, the malformed one refused"
ok $((rc == 0)) "... serve exits non-zero after the malformed batch (exit $rc)"
is "$(count "$DB2" "$(tok d1.example.org)" "$(tok d2.example.org)" "$(tok d3.example.net)")" 3 \
	"... the good batches are in the store"
has "$DB2" d5.example.org "$(tok d5.example.org)"
ok $((! $?)) "... the batch after the malformed one is not read"
printf 'del d1.example.org\ndel d2.example.org\ndel d3.example.net\n' | az2 apply >/dev/null
ok $? "... and deleted again"

########################################################################
# Writes through a keeper: the first starts it (with its own ssh), the
# rest go through its one session.
T=$(tok k0)
az1 add k0.example.org "$T" && has "$DB2" k0.example.org "$T"
ok $? "a first write: on ns2 on return"
poll_until 20 kept ns2 open
ok $? "... its keeper's session opens ($(state_of "$D/ctl" "$DB1" ns2))"
kp=$(pid_of "$D/ctl" "$DB1" ns2)
KEEPERS="$KEEPERS $kp"
san_env "$kp"
ok $? "... the keeper (PID $kp) runs with the sanitizer options"
s1=$(sessions2)
for i in 1 2 3 4 5; do
	az1 add "k$i.example.org" "$(tok "k$i")" && has "$DB2" "k$i.example.org" "$(tok "k$i")" ||
		break
done
is "$i" 5 "five more writes, each on ns2 on return"
az1 del k1.example.org && az1 del k2.example.org "$(tok k2)"
ok $? "two deletes"
is "$(count "$DB2" "$(tok k1)" "$(tok k2)" "$(tok k3)")" 1 "... gone from ns2, the others kept"
names=()
for i in $(seq 1 200); do names+=("b$i.example.org"); done
for n in "${names[@]}"; do echo "add $n $(tok "$n")"; done | az1 apply
ok $? "an apply of 200 adds"
vals=()
for n in "${names[@]}"; do vals+=("$(tok "$n")"); done
is "$(count "$DB2" "${vals[@]}")" 200 "... all 200 on ns2 on return"
for n in "${names[@]:0:100}"; do echo "del $n"; done |
	{ cat; for n in "${names[@]:100:100}"; do echo "add $n $(tok "$n-2")"; done; } | az1 apply
ok $? "an apply of 100 deletes and 100 more adds"
is "$(count "$DB2" "${vals[@]:0:100}")" 0 "... the deleted ones gone from ns2"
vals2=()
for n in "${names[@]:100:100}"; do vals2+=("$(tok "$n-2")"); done
is "$(count "$DB2" "${vals2[@]}")" 100 "... the new ones there"
add_k() { az1 add "k$1.example.org" "$(tok "k$1")"; }
is "$(at_once 10 29 add_k)" 0 "20 writers at once through the keeper: all succeed"
vals=()
for i in $(seq 10 29); do vals+=("$(tok "k$i")"); done
is "$(count "$DB2" "${vals[@]}")" 20 "... every value on ns2"
is "$(sessions2)" "$s1" "... every write since the first on the one kept session"
is "$(pid_of "$D/ctl" "$DB1" ns2)" "$kp" "... of the same keeper"

########################################################################
# The client host through a keeper to ns1's scoped serve, which passes
# the writes on to ns2 through a keeper of its own (started under sshd).
T=$(tok kc1)
azc add kc1.example.org "$T" >/dev/null && has "$DB2" kc1.example.org "$T"
ok $? "the client host's write, scoped, passed on to ns2"
poll_until 20 eval '[ "$(state_of "$D/clctl" "$DBC" ns1)" = open ]'
ok $? "... the client host's keeper to ns1 has its session"
KEEPERS="$KEEPERS $(pid_of "$D/clctl" "$DBC" ns1)"
poll_until 20 eval '[ "$(state_of "$D/ns1/ctl" "$DB1" ns2)" = open ]'
ok $? "... and ns1's serve's keeper to ns2 its own"
kp1=$(pid_of "$D/ns1/ctl" "$DB1" ns2)
KEEPERS="$KEEPERS $kp1"
san_env "$kp1"
ok $? "... which runs with the sanitizer options the forced command set"
out=$(azc add kc2.example.com "$(tok kc2)" 2>&1)
is "$?" 4 "through the kept session, a write outside the scope is refused (exit 4)"
like "$out" "'kc2.example.com' is outside the scope $D/ns1/scope" "... saying why"
has "$DB1" kc2.example.com "$(tok kc2)" || has "$DB2" kc2.example.com "$(tok kc2)"
ok $((! $?)) "... written nowhere"
T=$(tok kc3)
azc add kc3.example.org "$T" && has "$DB2" kc3.example.org "$T"
ok $? "... and the next write in scope goes through"
is "$(state_of "$D/clctl" "$DBC" ns1)" open "... on the same kept session"
azc del kc1.example.org && azc del kc3.example.org
ok $? "the client host's deletes"

########################################################################
# peer close ends the keeper; a keeper killed outright costs no write.
kp=$(pid_of "$D/ctl" "$DB1" ns2)
out=$(az1 peer close)
like "$out" "^closed 1 kept session\(s\) and [1-9][0-9]* ssh connection\(s\)$" "peer close"
poll_until 10 eval '! kill -0 "$kp" 2>/dev/null'
ok $? "... the keeper (PID $kp) has exited"
is "$(state_of "$D/ctl" "$DB1" ns2)" none "... no kept session left"
T=$(tok k30)
az1 add k30.example.org "$T" && has "$DB2" k30.example.org "$T"
ok $? "a write after it: on ns2"
poll_until 20 kept ns2 open
ok $? "... a new keeper has its session"
kp=$(pid_of "$D/ctl" "$DB1" ns2)
KEEPERS="$KEEPERS $kp"
kill -KILL "$kp"
poll_until 10 eval '! kill -0 "$kp" 2>/dev/null'
ok $? "the keeper (PID $kp) killed with SIGKILL"
T=$(tok k31)
az1 add k31.example.org "$T" && has "$DB2" k31.example.org "$T"
ok $? "... the next write still reaches ns2"
poll_until 20 eval 'kept ns2 open && [ "$(pid_of "$D/ctl" "$DB1" ns2)" != "$kp" ]'
ok $? "... and a new keeper opens a session"
KEEPERS="$KEEPERS $(pid_of "$D/ctl" "$DB1" ns2)"
T=$(tok k32)
az1 add k32.example.org "$T" && has "$DB2" k32.example.org "$T"
ok $? "... which carries the next write"

########################################################################
# Peers without a session: one whose serve refuses the session line (an
# older acmezone), then one that answers garbage.  The keepers take their
# no-session path.  Both are ns2's sshd under another name (another
# control connection), one after the other.
sshd_key "$D/keys/old"
sshd_sessionless "$D/old-serve" "$AZ --db $DB2 serve --unscoped"
cp "$D/ns2/ssh/authorized_keys" "$D/ak2"
sshd_authorize "$D/ns2/ssh" "$D/keys/old" "$SAN_ENV $D/old-serve"
az1 peer add old --ssh "root@localhost:$P2" --key "$D/keys/old" --address 127.0.0.1 \
	--host-key "$D/ns2/ssh/host_ed25519.pub"
T=$(tok o1)
az1 add o1.example.org "$T" && has "$DB2" o1.example.org "$T"
ok $? "a peer without sessions: the write goes through"
poll_until 20 kept old one-shot
ok $? "... its keeper found no session ($(state_of "$D/ctl" "$DB1" old))"
KEEPERS="$KEEPERS $(pid_of "$D/ctl" "$DB1" old)"
T=$(tok o2)
az1 add o2.example.org "$T" && has "$DB2" o2.example.org "$T"
ok $? "... the next write too, with its own ssh"
az1 del o1.example.org && az1 del o2.example.org
ok $? "... and the deletes"
az1 peer del old
cp "$D/ak2" "$D/ns2/ssh/authorized_keys"
sshd_masters_exit "$D/ctl"

sshd_key "$D/keys/liar"
sshd_authorize "$D/ns2/ssh" "$D/keys/liar" 'echo garbage'
az1 peer add liar --ssh "root@localhost:$P2" --key "$D/keys/liar" --address 127.0.0.1 \
	--host-key "$D/ns2/ssh/host_ed25519.pub"
out=$(az1 add liar1.example.org "$(tok liar1)" 2>&1)
is "$?" 4 "a peer answering garbage fails the write (exit 4)"
like "$out" "peer liar .* failed: answered garbage or for another batch: 'garbage'" "... saying so"
has "$DB2" liar1.example.org "$(tok liar1)"
ok $? "... while the honest peer ns2 took it"
poll_until 20 kept liar one-shot
ok $? "... the liar's keeper found no session ($(state_of "$D/ctl" "$DB1" liar))"
KEEPERS="$KEEPERS $(pid_of "$D/ctl" "$DB1" liar)"
out=$(az1 add liar2.example.org "$(tok liar2)" 2>&1)
is "$?" 4 "the next write fails the same way"
like "$out" "answered garbage" "... saying so"
az1 peer del liar
cp "$D/ak2" "$D/ns2/ssh/authorized_keys"

########################################################################
# Every keeper ended, then the sanitizers' verdict on every process.
az1 peer close >/dev/null && azc peer close >/dev/null &&
	ACMEZONE_SSH_DIR=$D/ns1/ctl az1 peer close >/dev/null
ok $? "peer close in each ssh directory"
left=
for p in $KEEPERS; do
	poll_until 10 eval '! kill -0 "$p" 2>/dev/null' || left="$left $p"
done
is "$left" "" "... no keeper left running (of PIDs$KEEPERS)"
sshd_stop ns1
sshd_stop ns2
# Each serve has exited with its ssh session; nothing of this run runs now.
reports=$(cat "$SL"/az.* 2>/dev/null | grep -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer')
is "$reports" "" "no AddressSanitizer or LeakSanitizer report from any acmezone ($(ls "$SL" | wc -l) log files)"
reports=$(cat "$SL"/az.* 2>/dev/null | grep -E 'runtime error:')
is "$reports" "" "no UBSan runtime error"
[ -n "$reports" ] || [ -z "$(ls "$SL")" ] || diag "$(cat "$SL"/az.* | head -40)"

done_testing
