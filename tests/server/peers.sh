#!/bin/bash
# peers.sh -- two nameservers and a client host on loopback: fan-out over real sshd, forced commands, scopes, bad input, peers down, sync.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Hosts without network namespaces: each is a directory with its own
# store, its own knotd (as user knot) and its own sshd on 127.0.0.1.
#   ns1  knotd + sshd; peer ns2; writer key 'client' (scoped), its
#        authorized_keys runs 'acmezone serve --scope'
#   ns2  knotd + sshd; authorized_keys: ns1's peer key, 'serve --unscoped'
#   cl   no store, no server: peer ns1 with the writer key

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"
. "$top_srcdir/tests/lib/sshd-lib.sh"

knotd_require
sshd_require
AZ="$top_builddir/acmezone"
D=$(mktemp -d "${TMPDIR:-/tmp}/azpeers.XXXXXX") || bail "mktemp failed"
chmod 0755 "$D"
Z=acme.example.test.
BOUND_S=3				# --peer-timeout of the hang tests
declare -A HV				# knotd-lib's variables of each host

host_save() {
	local v
	for v in KD_DIR KD_CONF KD_ZONE KD_PORT KD_DB KD_PID KD_LOG KD_IPV6; do
		HV[$1.$v]=${!v}
	done
}
host_use() {
	local v
	for v in KD_DIR KD_CONF KD_ZONE KD_PORT KD_DB KD_PID KD_LOG KD_IPV6; do
		printf -v "$v" '%s' "${HV[$1.$v]}"
	done
}

cleanup() {
	local rc=$? h
	sshd_masters_exit "$D/ctl"
	sshd_masters_exit "$D/ns1/ctl"
	for h in ns1 ns2; do
		sshd_signal "$h" CONT
		sshd_stop "$h"
		if [ -n "${HV[$h.KD_DIR]:-}" ]; then
			host_use "$h"
			knotd_stop || :
		fi
	done
	if [ "${tap_failed:-0}" -ne 0 ] || [ "$rc" -ne 0 ] || [ -n "${KD_KEEP:-}" ]; then
		diag "kept $D"
	else
		rm -rf -- "$D"
	fi
	return "$rc"
}
trap cleanup EXIT

# Two nameservers, each its own knotd with its own store.
for h in ns1 ns2; do
	mkdir -p "$D/$h/ssh" "$D/$h/ctl" && chmod 0700 "$D/$h/ctl"
	knotd_setup "$D/$h" "$Z"
	knotd_start
	knotd_init --zone "$Z" >/dev/null || bail "init on $h failed"
	host_save "$h"
done
DB1=${HV[ns1.KD_DB]}
DB2=${HV[ns2.KD_DB]}
DBC="$D/cl/store/acmezone.mdb"		# the client host has no store
mkdir -p "$D/cl/store" "$D/keys" "$D/ctl" && chmod 0700 "$D/ctl"
export ACMEZONE_SSH_DIR="$D/ctl"

sshd_key "$D/keys/client"
sshd_key "$D/keys/peer"
sshd_key "$D/keys/other"
printf '# what the client host may write\ndomain example.org\ndomain *.example.org\nops add del\n' \
	>"$D/ns1/scope"
printf 'domain exa mple.org\n' >"$D/ns1/scope-bad"
# The lines doc/multi-nameserver.md shows, with this run's paths (and a
# control directory of the test's own for ns1's ssh to ns2).
serve1="ACMEZONE_SSH_DIR=$D/ns1/ctl $AZ --db $DB1 serve"
{
	printf 'command="%s --scope %s",restrict %s\n' "$serve1" "$D/ns1/scope" \
		"$(cat "$D/keys/client.pub")"
	printf 'command="%s --scope %s",restrict %s\n' "$serve1" "$D/ns1/scope-bad" \
		"$(cat "$D/keys/other.pub")"
} >"$D/ns1/ssh/authorized_keys"
printf 'command="%s --db %s serve --unscoped",restrict %s\n' "$AZ" "$DB2" \
	"$(cat "$D/keys/peer.pub")" >"$D/ns2/ssh/authorized_keys"
sshd_start ns1 "$D/ns1/ssh"
sshd_start ns2 "$D/ns2/ssh"
P1=$SSHD_PORT_ns1
P2=$SSHD_PORT_ns2

az1() { "$AZ" --db "$DB1" "$@"; }
az2() { "$AZ" --db "$DB2" "$@"; }
azc() { "$AZ" --db "$DBC" "$@"; }
# served HOST NAME VALUE: that host's knotd answers VALUE at NAME now.
served() { host_use "$1"; has_value "$2" "$3"; }
gone() { host_use "$1"; is_nx "$2"; }
# values DB: the names and values of a store, one pair a line, sorted.
values() {
	"$AZ" --db "$1" list --json | sed -n 's/.*"name": "\([^"]*\)".*"value": "\([^"]*\)".*/\1 \2/p' |
		LC_ALL=C sort
}
state() { values "$DB1"; echo --; values "$DB2"; }
# raw_ssh KEY ARGS...: ssh to ns1 with a writer's key, by hand.
raw_ssh() {
	local key=$1
	shift
	ssh -F none -T -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$DBC-known_hosts" -o IdentitiesOnly=yes \
		-o IdentityAgent=none -o ConnectTimeout=5 -i "$D/keys/$key" \
		-p "$P1" root@127.0.0.1 "$@"
}
batch_id=0123456789abcdef

diag "ns1: knotd ${HV[ns1.KD_PORT]}, sshd $P1; ns2: knotd ${HV[ns2.KD_PORT]}, sshd $P2"

########################################################################
# Peers: add, list, config, pinned host keys.
az1 peer add ns2 --ssh "root@127.0.0.1:$P2" --key "$D/keys/peer" \
	--address 127.0.0.1 --host-key "$D/ns2/ssh/host_ed25519.pub"
ok $? "peer add ns2 on ns1"
azc peer add ns1 --ssh "root@127.0.0.1:$P1" --key "$D/keys/client" \
	--address 127.0.0.1 --host-key "$D/ns1/ssh/host_ed25519.pub"
ok $? "peer add ns1 on the client host (no store there)"
is "$(az1 peer list)" "peer ns2 ssh root@127.0.0.1:$P2 key $D/keys/peer addresses 127.0.0.1 session none" \
	"peer list (no write yet: no kept session)"
like "$(az1 peer list --json)" "\"name\": \"ns2\", \"ssh\": \"root@127.0.0.1:$P2\".*\"session\": \"none\", \"keeper_pid\": null" "peer list --json"
like "$(az1 config)" "^peer ns2 ssh root@127.0.0.1:$P2 " "config shows the peers"
like "$(az1 config --json)" '"peers": \[' "config --json shows them too"
is "$(cut -d' ' -f1,2 "$DB1-known_hosts")" "[127.0.0.1]:$P2 ssh-ed25519" \
	"the host key is pinned in STORE-known_hosts"
out=$(az1 peer add ns2 --ssh "root@127.0.0.1:$P2" --address 127.0.0.1 2>&1)
is "$?" 3 "a second peer of the same name is refused (exit 3)"
like "$out" "there is a peer 'ns2' already" "... saying so"
out=$(az1 peer add ns3 --ssh 'root@exa mple:22' --address 127.0.0.1 2>&1)
is "$?" 3 "a bad --ssh is refused (exit 3)"
out=$(az1 peer add ns3 --ssh root@127.0.0.1 --address 300.1.1.1 2>&1)
is "$?" 3 "a bad --address is refused (exit 3)"
like "$out" "'300.1.1.1' is not an IPv4 or IPv6 address" "... naming it"
out=$(az1 peer add ns3 --ssh root@127.0.0.1 --address 127.0.0.1 --host-key "$D/ns1/scope" 2>&1)
is "$?" 3 "a --host-key that is no public key is refused (exit 3)"
az1 peer add ns3 --ssh root@127.0.0.1:1 --address 127.0.0.9 && az1 peer del ns3
ok $? "peer add then del"
is "$(az1 peer list | wc -l)" 1 "... leaves one peer"

########################################################################
# Fan-out from ns1: served by both knotds when the command returns.
T1=$(tok fan1)
az1 add example.org "$T1"
ok $? "add on ns1 with a peer"
served ns1 "example-org.$Z" "$T1"; ok $? "... ns1's knotd serves it on return"
served ns2 "example-org.$Z" "$T1"; ok $? "... and ns2's knotd too, no polling"
az1 del example.org "$T1"
ok $? "del on ns1"
gone ns1 "example-org.$Z"; ok $? "... gone from ns1 on return"
gone ns2 "example-org.$Z"; ok $? "... and from ns2"
T2=$(tok fan2)
T3=$(tok fan3)
printf 'add a.example.org %s\nadd b.example.org %s 2h\n' "$T2" "$T3" | az1 apply
ok $? "apply on ns1"
served ns2 "a-example-org.$Z" "$T2" && served ns2 "b-example-org.$Z" "$T3"
ok $? "... both values served by ns2 on return"
e1=$(az1 list --json | grep -o '"expires": [0-9]*' | sort)
e2=$(az2 list --json | grep -o '"expires": [0-9]*' | sort)
is "$e2" "$e1" "... with the same expiries on both"

########################################################################
# The client host: its write goes to ns1 (scoped), which passes it on.
T4=$(tok client1)
azc add www.example.org "$T4"
ok $? "add on the client host (scoped key)"
served ns1 "www-example-org.$Z" "$T4" && served ns2 "www-example-org.$Z" "$T4"
ok $? "... served by ns1 and ns2 on return"
T5=$(tok certbot)
CERTBOT_DOMAIN=shop.example.org CERTBOT_VALIDATION=$T5 azc hook certbot >/dev/null
ok $? "certbot's hook on the client host"
served ns1 "shop-example-org.$Z" "$T5" && served ns2 "shop-example-org.$Z" "$T5"
ok $? "... served by both on return"
CERTBOT_DOMAIN=shop.example.org CERTBOT_VALIDATION=$T5 CERTBOT_AUTH_OUTPUT=x azc hook certbot
ok $? "certbot's cleanup"
gone ns1 "shop-example-org.$Z" && gone ns2 "shop-example-org.$Z"
ok $? "... gone from both on return"

########################################################################
# dns-account-01 with peers: the account's name, not the domain's, on
# every host, from ns1 and from the scoped client host.
ACCT=https://ca.test/acme/acct/peers
AL=$(python3 -c 'import base64, hashlib, sys
print("_" + base64.b32encode(hashlib.sha256(sys.argv[1].encode()).digest()[:10]).decode().lower())' "$ACCT")
T6=$(tok acct1)
az1 add example.org "$T6" --account-uri "$ACCT"
ok $? "add --account-uri on ns1"
served ns1 "$AL.example-org.$Z" "$T6" && served ns2 "$AL.example-org.$Z" "$T6"
ok $? "... served at $AL.example-org.$Z by ns1 and ns2 (the peer got the account's name)"
host_use ns2
[[ $(dq "example-org.$Z" TXT) == "rcode=NOERROR aa=1 tc=0 ancount=0 "* ]]
ok $? "... and the domain's own name on ns2 has no value (NODATA: the account's name is below it)"
T7=$(tok acct2)
azc add www.example.org "$T7" --account-uri "$ACCT"
ok $? "add --account-uri on the client host: the account's name is inside the scope of example.org"
served ns1 "$AL.www-example-org.$Z" "$T7" && served ns2 "$AL.www-example-org.$Z" "$T7"
ok $? "... served at the account's name by ns1 and ns2"
azc add example.com "$(tok acct3)" --account-uri "$ACCT" >/dev/null 2>&1
is "$?" 4 "... while example.com's account name stays outside it"
az1 del example.org --account-uri "$ACCT" && azc del www.example.org --account-uri "$ACCT"
ok $? "del --account-uri on ns1 and on the client host"
gone ns2 "$AL.example-org.$Z" && gone ns2 "$AL.www-example-org.$Z"
ok $? "... gone from ns2"

########################################################################
# Scopes: nothing written anywhere outside them.
before=$(state)
out=$(azc add example.com "$(tok out)" 2>&1)
rc=$?
ok $((rc == 0)) "a domain outside the scope fails (exit $rc)"
like "$out" "'example.com' is outside the scope $D/ns1/scope" "... naming the domain and the scope"
like "$out" "peer ns1 \(root@127.0.0.1:$P1\) failed" "... and the peer"
is "$(state)" "$before" "... nothing written on ns1 or ns2"
out=$(printf 'add x.example.org %s\nadd example.com %s\n' "$(tok a)" "$(tok b)" | azc apply 2>&1)
ok $(($? == 0)) "a batch with one line outside the scope fails"
is "$(state)" "$before" "... and writes none of its lines, anywhere"
out=$(azc add "x.$Z" "$(tok inzone)" 2>&1)
ok $(($? == 0)) "a name in the challenge zone is outside every scope"
like "$out" "a name in the challenge zone" "... saying why"
out=$(raw_ssh client 'sh -c id' </dev/null 2>&1)
ok $(($? == 0)) "the writer key cannot run another command"
like "$out" "refusing the command 'sh -c id'" "... serve says so"
out=$(raw_ssh client "acmezone --db $D/x.mdb serve" </dev/null 2>&1)
ok $(($? == 0)) "nor pass a store path"
like "$out" "refusing the command 'acmezone --db" "... refused as another command"
out=$(raw_ssh other acmezone serve </dev/null 2>&1)
ok $(($? == 0)) "a scope file with a syntax error: serve refuses to run"
like "$out" "refusing to run: scope file '$D/ns1/scope-bad' line 1" "... saying where, through ssh"
is "$(state)" "$before" "nothing was written by any of these"

########################################################################
# Bad input on the protocol: nothing applied.
head="acmezone-batch 1 id=$batch_id time=$(date +%s%3N)"
out=$(printf 'garbage\n' | raw_ssh client acmezone serve 2>/dev/null)
like "$out" '^status id=- refused not an acmezone batch' "garbage: refused"
out=$(printf '%s\nadd z.example.org %s 60\n' "$head" "$(tok mid)" |
	raw_ssh client acmezone serve 2>/dev/null)
like "$out" "closed mid-batch" "a batch closed before 'end': refused"
long=$(printf 'a%.0s' $(seq 1 5000))
out=$(printf '%s\nadd %s %s 60\nend id=%s ops=1\n' "$head" "$long" "$(tok l)" "$batch_id" |
	raw_ssh client acmezone serve 2>/dev/null)
like "$out" "longer than 4096 octets" "a line over the limit: refused"
out=$(printf '%s\nadd z.example.org %s 60\nend id=fedcba9876543210 ops=1\n' "$head" "$(tok w)" |
	raw_ssh client acmezone serve 2>/dev/null)
like "$out" "names another batch id" "an 'end' for another transaction id: refused"
out=$(printf '%s\nadd z.example.org %s 60\nend id=%s ops=2\n' "$head" "$(tok w)" "$batch_id" |
	raw_ssh client acmezone serve 2>/dev/null)
like "$out" "another number of operations" "an 'end' that miscounts: refused"
out=$(printf 'acmezone-batch 2 id=%s time=1\n' "$batch_id" | raw_ssh client acmezone serve 2>/dev/null)
like "$out" "unsupported protocol version" "another protocol version: refused"
out=$(printf '%s\nadd z.example.org %s 60\nend id=%s ops=1\n' "$head" "$(tok ok)" "$batch_id" |
	raw_ssh client acmezone serve 2>/dev/null)
like "$out" "^ok 1" "a well-formed batch by hand is taken (the checks above are not vacuous)"
az1 del z.example.org >/dev/null
is "$(state)" "$before" "none of the bad ones wrote anything"

# A session by hand (what a keeper speaks): batches one after another; a
# scope refusal leaves the session open, a malformed batch ends it.
b() {	# b ID NAME: a one-add batch
	printf 'acmezone-batch 1 id=%s time=%s\nadd %s %s 60\nend id=%s ops=1\n' \
		"$1" "$(date +%s%3N)" "$2" "$(tok "$2")" "$1"
}
out=$( { echo 'acmezone-session 1'; b 00000000000000a1 s1.example.org
	b 00000000000000a2 s2.example.com; b 00000000000000a3 s3.example.org; } |
	raw_ssh client acmezone serve 2>/dev/null)
like "$(head -n 1 <<<"$out")" '^acmezone-session 1 ok$' "a session: 'acmezone-session 1' is answered 'ok'"
is "$(grep '^status' <<<"$out" | cut -d' ' -f1-3)" "status id=00000000000000a1 ok
status id=00000000000000a2 refused
status id=00000000000000a3 ok" "... each batch answered in turn; an out-of-scope one refused, the next taken"
served ns1 "s1-example-org.$Z" "$(tok s1.example.org)" && served ns2 "s3-example-org.$Z" "$(tok s3.example.org)"
ok $? "... the taken ones served by ns1 and (passed on) ns2"
out=$( { echo 'acmezone-session 1'; printf 'acmezone-batch 1 id=00000000000000a4 time=1\nbogus\n'
	b 00000000000000a5 s5.example.org; } | raw_ssh client acmezone serve 2>/dev/null)
is "$(grep -c '^status' <<<"$out")" 1 "a malformed batch in a session: answered, and the session ends"
is "$(az1 list s5.example.org 2>/dev/null)" "" "... the batch after it is not read, nor written"
az1 del s1.example.org >/dev/null && az1 del s3.example.org >/dev/null

########################################################################
# Kept sessions (cli/keeper.h): the first write to a peer starts a keeper
# that holds one serve session open; later writes of every writer of the
# user go through it.  ns2's sshd logs each session it starts.
sessions2() { grep -c 'Starting session: forced-command' "$D/ns2/ssh/sshd.log"; }
kept() { az1 peer list | grep -q " session $1\b"; }	# kept STATE (ns1's only peer ns2)
keeper_pid() { az1 peer list | sed -n 's/.* keeper \([0-9]*\)$/\1/p'; }
az1 peer close >/dev/null		# the client host's too: they share $D/ctl
t0=$(test_now_ms)
out=$(az1 add k0.example.org "$(tok k0)")
rc=$?
ms=$(( $(test_now_ms) - t0 ))
ok "$rc" "a write with no keeper yet: runs its own ssh, starts one"
ok $((ms > 5000)) "... and returns at once: the keeper holds nothing of it (${ms} ms)"
poll_until 10 kept open
ok $? "... whose session to ns2 opens ($(az1 peer list | sed 's/.* session //'))"
s1=$(sessions2)
for i in 1 2 3 4 5; do
	az1 add "k$i.example.org" "$(tok "k$i")" && served ns2 "k$i-example-org.$Z" "$(tok "k$i")" ||
		break
done
is "$i" 5 "five more writes, each served by ns2 on return"
is "$(sessions2)" "$s1" "... and not one new ssh session on ns2: the keeper carried them"
az1 add k6.example.org "$(tok k6)" --peer-keep 0 && served ns2 "k6-example-org.$Z" "$(tok k6)"
ok $? "--peer-keep 0: served too"
is "$(sessions2)" "$((s1 + 1))" "... with an ssh session of its own"
add_k() { az1 add "k$1.example.org" "$(tok "k$1")"; }
is "$(at_once 10 29 add_k)" 0 "20 writers at once through the keeper: all succeed"
n=0
for i in $(seq 10 29); do served ns2 "k$i-example-org.$Z" "$(tok "k$i")" && n=$((n + 1)); done
is "$n" 20 "... every value served by ns2"
is "$(sessions2)" "$((s1 + 1))" "... still on the one kept session"
# Hostile neighbours on the keeper's socket (the user's own processes):
# garbage, a request that lies about its length, one that never ends.
# Each is let go; the others' writes go on, on the same session.
ksock=$(ls -d "$D"/ctl/keep-* | grep -v '\.lock$')
sock_say() {	# sock_say TEXT: send TEXT, print what comes back until EOF
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(15)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
print(repr(out))' "$ksock" "$1"
}
s1=$(sessions2)
is "$(sock_say 'garbage
')" "b''" "garbage on the keeper's socket: closed without a word"
is "$(sock_say 'keeper-batch 10 3000
0123456789')" "b''" "a request of the length it said that is not a batch: closed, not sent"
is "$(sock_say 'keeper-batch 5 3000
0123456789')" "b''" "a request longer than it said: closed"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"keeper-batch 100")
time.sleep(30)' "$ksock" &
holder=$!
t0=$(test_now_ms)
az1 add k7.example.org "$(tok k7)" && served ns2 "k7-example-org.$Z" "$(tok k7)"
ok $? "a writer that never finishes its request holds nobody up"
ms=$(( $(test_now_ms) - t0 ))
ok $((ms > 3000)) "... (${ms} ms)"
is "$(sessions2)" "$s1" "... on the same kept session, which none of them broke"
stop_pid "$holder" "the stalled writer"
kp=$(keeper_pid)
kill -KILL "$kp"
poll_until 5 eval '! kill -0 "$kp" 2>/dev/null'
az1 add k30.example.org "$(tok k30)" && served ns2 "k30-example-org.$Z" "$(tok k30)"
ok $? "the keeper killed (SIGKILL): the next write still reaches ns2 (its own ssh)"
poll_until 10 kept open && [ "$(keeper_pid)" != "$kp" ]
ok $? "... and a new keeper opens a session"
out=$(az1 peer close)
like "$out" "^closed [1-9] kept session\(s\) and [1-9][0-9]* ssh connection\(s\)$" "peer close: ends the keeper and ssh's master"
kept none
ok $? "... no kept session left"
for i in 0 1 2 3 4 5 6 7 $(seq 10 30); do echo "del k$i.example.org"; done | az1 apply >/dev/null
ok $? "deletes of all of them in one batch"
n=0
for i in 0 1 2 3 4 5 6 7 $(seq 10 30); do gone ns2 "k$i-example-org.$Z" && n=$((n + 1)); done
is "$n" 29 "... gone from ns2 on return"

# The client host, through a keeper to ns1 (scoped key): a refusal does
# not end the kept session.
azc add kc1.example.org "$(tok kc1)" >/dev/null
poll_until 10 eval 'azc peer list | grep -q " session open"'
ok $? "the client host's keeper to ns1 has its session"
s1=$(grep -c 'Starting session: forced-command' "$D/ns1/ssh/sshd.log")
ok $((s1 == 0)) "... ns1's sshd logs the sessions it starts ($s1 so far: the count below is not vacuous)"
out=$(azc add kc2.example.com "$(tok kc2)" 2>&1)
is "$?" 4 "through it, a write outside the scope is refused (exit 4)"
like "$out" "outside the scope" "... saying why"
azc add kc3.example.org "$(tok kc3)" && served ns2 "kc3-example-org.$Z" "$(tok kc3)"
ok $? "... and the next write in scope goes through on the same session"
is "$(grep -c 'Starting session: forced-command' "$D/ns1/ssh/sshd.log")" "$s1" "... no new session on ns1"
cp "$D/ns1/scope" "$D/scope.orig"
printf 'domain example.net\nops add del\n' >"$D/ns1/scope"
out=$(azc add kc4.example.org "$(tok kc4)" 2>&1)
is "$?" 4 "the operator takes example.org out of the scope: the kept session refuses the next write"
like "$out" "outside the scope" "... saying why"
printf 'domain exa mple.org\n' >"$D/ns1/scope"
out=$(azc add kc4.example.org "$(tok kc4)" 2>&1)
is "$?" 4 "a scope file made unreadable: refused too"
like "$out" "the scope changed and cannot be read" "... saying why"
cp "$D/scope.orig" "$D/ns1/scope"
azc add kc4.example.org "$(tok kc4)" && served ns2 "kc4-example-org.$Z" "$(tok kc4)"
ok $? "the scope given back: the next write goes through"
azc del kc1.example.org >/dev/null && azc del kc3.example.org >/dev/null &&
	azc del kc4.example.org >/dev/null
azc peer close >/dev/null

# A peer whose serve has no sessions (an older acmezone): it refuses the
# session line, and each write runs its own ssh, as before.
sshd_key "$D/keys/old"
sshd_sessionless "$D/old-serve" "$AZ --db $DB2 serve --unscoped"
sshd_authorize "$D/ns2/ssh" "$D/keys/old" "$D/old-serve"
az1 peer add old --ssh "root@localhost:$P2" --key "$D/keys/old" --address 127.0.0.1 \
	--host-key "$D/ns2/ssh/host_ed25519.pub"
az1 add o1.example.org "$(tok o1)"
ok $? "a peer without sessions: the first write goes through"
poll_until 10 eval 'az1 peer list | grep -q "^peer old .* session one-shot"'
ok $? "... its keeper found no session ($(az1 peer list | sed -n 's/^peer old .* session //p'))"
az1 add o2.example.org "$(tok o2)" && served ns2 "o2-example-org.$Z" "$(tok o2)"
ok $? "... the next write too, with its own ssh"
az1 del o1.example.org && az1 del o2.example.org
ok $? "... and the deletes"
op=$(az1 peer list | sed -n 's/^peer old .* keeper \([0-9]*\)$/\1/p')
az1 peer del old
# (Gone once its parent, init, has reaped it: polled.)
[ -n "$op" ] && poll_until 5 eval '! kill -0 "$op" 2>/dev/null'
ok $? "peer del ends that peer's keeper (${op:-none})"
sed -i '$d' "$D/ns2/ssh/authorized_keys"
az1 peer close >/dev/null

########################################################################
# A peer that answers wrongly: garbage, for another batch, or stops in
# the middle of its answer.  A peer 'liar' (ns2's sshd under another
# name, so another control connection) whose key's forced command lies.
sshd_key "$D/keys/liar"
ak2=$(cat "$D/ns2/ssh/authorized_keys")
liar() {
	printf '%s\ncommand="%s",restrict %s\n' "$ak2" "$1" "$(cat "$D/keys/liar.pub")" \
		>"$D/ns2/ssh/authorized_keys"
	sshd_masters_exit "$D/ctl"
}
az1 peer add liar --ssh "root@localhost:$P2" --key "$D/keys/liar" --address 127.0.0.1 \
	--host-key "$D/ns2/ssh/host_ed25519.pub"
ok $? "peer add liar"
liar 'echo garbage'
out=$(az1 add liar1.example.org "$(tok liar1)" 2>&1)
is "$?" 4 "a peer answering garbage fails the write (exit 4)"
like "$out" "peer liar .* failed: answered garbage or for another batch: 'garbage'" "... saying so"
liar 'cat >/dev/null; echo acmezone-reply 1 id=ffffffffffffffff'
out=$(az1 add liar2.example.org "$(tok liar2)" 2>&1)
is "$?" 4 "a peer answering for another batch id fails it"
like "$out" "peer liar .* failed: answered garbage or for another batch: 'acmezone-reply 1 id=ffffffffffffffff'" \
	"... saying so"
liar "$AZ --db $D/liar.mdb serve --unscoped 2>/dev/null | head -c 20"
out=$(az1 add liar3.example.org "$(tok liar3)" 2>&1)
is "$?" 4 "a peer that stops in the middle of its answer fails it"
like "$out" "peer liar .* failed: ended its answer in the middle of a line" "... saying so"
served ns2 "liar3-example-org.$Z" "$(tok liar3)"
ok $? "... while the honest peer ns2 took every one of these writes"
az1 peer del liar
printf '%s\n' "$ak2" >"$D/ns2/ssh/authorized_keys"
sshd_masters_exit "$D/ctl"

########################################################################
# Peers down.  ns2's sshd stopped (and ns1's connection to it gone).
sshd_masters_exit "$D/ctl"
sshd_masters_exit "$D/ns1/ctl"
sshd_stop ns2
T6=$(tok down)
t0=$(test_now_ms)
out=$(az1 add down.example.org "$T6" 2>&1)
rc=$?
ms=$(( $(test_now_ms) - t0 ))
is "$rc" 4 "ns2's sshd stopped: add fails (exit 4)"
like "$out" "peer ns2 \(root@127.0.0.1:$P2\) failed: .*(refused|closed)" "... one line naming ns2 and why"
ok $((ms > 5000)) "... at once, not after a timeout (${ms} ms)"
served ns1 "down-example-org.$Z" "$T6"; ok $? "... ns1 has it (its own write commits)"
out=$(az1 add down2.example.org "$T6" --peers reachable 2>&1)
is "$?" 0 "--peers reachable: an unreachable peer is not a failure"
like "$out" "warning: peer ns2 .* skipped, unreachable" "... but a warning"
out=$(azc add down3.example.org "$T6" 2>&1)
is "$?" 4 "the client host's write fails too (ns1 could not reach ns2)"
like "$out" "ns2 failed" "... the client is told which peer of ns1 failed"

# ns2 hangs: its sshd and its sessions stopped (SIGSTOP).
sshd_start ns2 "$D/ns2/ssh"
P2=$SSHD_PORT_ns2
az1 peer del ns2 && az1 peer add ns2 --ssh "root@127.0.0.1:$P2" --key "$D/keys/peer" \
	--address 127.0.0.1 --host-key "$D/ns2/ssh/host_ed25519.pub"
ok $? "ns2 back on another port, its peer entry replaced"
T7=$(tok warm)
az1 add warm.example.org "$T7" && served ns2 "warm-example-org.$Z" "$T7"
ok $? "a write reaches ns2 again (and leaves a warm connection)"
poll_until 10 kept open
ok $? "... and a kept session, which the next write uses"
sshd_signal ns2 STOP
t0=$(test_now_ms)
out=$(az1 add hang.example.org "$T7" --peer-timeout "$BOUND_S" 2>&1)
rc=$?
ms=$(( $(test_now_ms) - t0 ))
is "$rc" 4 "ns2 hangs (SIGSTOP), warm connection: add fails (exit 4)"
like "$out" "peer ns2 .* failed: no (answer|status) within $BOUND_S s \(--peer-timeout\)" \
	"... saying it timed out"
ok $((ms >= BOUND_S * 1000 + 2000)) "... within the bound: ${ms} ms for --peer-timeout $BOUND_S"
poll_until 10 kept none
ok $? "... and the keeper of the hung session has ended ($(az1 peer list | sed 's/.* session //'))"
sshd_masters_exit "$D/ctl"
t0=$(test_now_ms)
out=$(az1 add hang2.example.org "$T7" --peer-timeout "$BOUND_S" 2>&1)
rc=$?
ms=$(( $(test_now_ms) - t0 ))
is "$rc" 4 "ns2 hangs, new connection: fails (exit 4)"
ok $((ms >= BOUND_S * 1000 + 2000)) "... within the bound too: ${ms} ms"
sshd_signal ns2 CONT
sshd_masters_exit "$D/ns1/ctl"

########################################################################
# sync: ns2 missed adds and deletes (written on ns1 with --peers none),
# and deleted a value itself; afterwards both hold the same live values
# and no deleted value is back on either.
out=$(az1 sync ns2)
is "$?" 0 "sync ns2 after the outage"
diag "$(printf '%s\n' "$out" | tail -n 1)"
is "$(values "$DB2")" "$(values "$DB1")" "... both stores hold the same live values"
SA=$(tok sync-a)
SB=$(tok sync-b)
SC=$(tok sync-c)
az1 add sb.example.org "$SB" && az1 add sc.example.org "$SC" &&
	served ns2 "sb-example-org.$Z" "$SB" && served ns2 "sc-example-org.$Z" "$SC"
ok $? "two values on both"
az1 add sa.example.org "$SA" --peers none && az1 del sb.example.org "$SB" --peers none
ok $? "ns1 alone: one add and one delete that ns2 misses"
az2 del sc.example.org "$SC"
ok $? "ns2 alone deletes another value"
like "$(az2 list)" "$SB" "ns2 still has the value ns1 deleted"
out=$(az1 sync ns2)
is "$?" 0 "sync ns2"
like "$out" "added at ns2: sa-example-org.$Z $SA" "... reports the value it added there"
like "$out" "removed at ns2: sb-example-org.$Z $SB" "... and the one it removed there"
like "$out" "removed here: sc-example-org.$Z $SC" "... and the one ns2 had deleted, removed here"
like "$out" "^sync ns2: added 1 and removed 1 there, added 0 and removed 1 here$" "... and counts them"
is "$(values "$DB2")" "$(values "$DB1")" "... the same live values on both"
served ns2 "sa-example-org.$Z" "$SA"; ok $? "... ns2's knotd serves the missed add"
gone ns2 "sb-example-org.$Z"; ok $? "... and no longer the value deleted on ns1"
gone ns1 "sc-example-org.$Z"; ok $? "... and ns1 does not serve the value deleted on ns2"
out=$(az1 sync ns2)
like "$out" "^sync ns2: added 0 and removed 0 there, added 0 and removed 0 here$" \
	"a second sync finds nothing to fix"
az2 add sb.example.org "$SB" --peers none 2>/dev/null
out=$(az1 sync ns2)
like "$out" "added here: sb-example-org.$Z $SB" "a value added again after its delete is newer: it wins"
out=$(printf 'acmezone-batch 1 id=%s time=1 relay dump zone=%s scheme=readable\nend id=%s ops=0\n' \
	"$batch_id" "$Z" "$batch_id" | raw_ssh client acmezone serve 2>/dev/null)
like "$out" "status id=$batch_id refused a relay needs the key of a peer nameserver" \
	"a scoped writer key cannot dump the store"
out=$(az1 sync nosuch 2>&1)
is "$?" 3 "sync of a peer that is not there: exit 3"

# dns-persist-01 records with peers: add and del sync every peer, so the
# standing record (and its removal) is on both nameservers on return.
PURI=https://ca.test/acme/acct/persist
out=$(az1 persist add example.org --issuer ca.test --account-uri "$PURI" 2>&1)
ok $? "persist add on ns1 with a peer"
like "$(az2 persist list --json)" "\"record\": \"ca.test; accounturi=$PURI\"" \
	"... the record is in ns2's store on return"
host_use ns2
[[ $(dq "_validation-persist.example-org.$Z" TXT) == "rcode=NOERROR aa=1 tc=0 ancount=1 "* ]]
ok $? "... and ns2's knotd serves it"
out=$(az1 persist del example.org --issuer ca.test 2>&1)
ok $? "persist del on ns1"
is "$(az2 persist list example.org)" "" "... gone from ns2's store on return"
out=$(az1 sync ns2)
unlike "$out" "added (here|there)" "... and a sync after it brings nothing back (the delete left a tombstone)"

# ns2's knotd stopped: ns2 commits; nobody serves it there, nor answers.
host_use ns2
knotd_stop
HV[ns2.KD_PID]=
T8=$(tok noknot)
out=$(az1 add noknot.example.org "$T8" 2>&1)
is "$?" 0 "ns2's knotd stopped: the write succeeds (a server that does not answer fails no validation)"
like "$(az2 list)" "$T8" "... ns2's store has it for when its knotd starts"

done_testing
