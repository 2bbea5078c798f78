#!/bin/bash
# multins.sh -- end to end on simulated hosts: two nameservers, a client host, unbound and pebble, each in its own network namespace (tests/lib/hosts.sh).
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   ns1  10.53.0.1   knotd + mod-acmezone + store, sshd
#   ns2  10.53.0.2   knotd + mod-acmezone + store, sshd
#   cl   10.53.0.3   the client host: ACME clients and their hooks
#   res  10.53.0.53  unbound, the CA's resolver (stub zones to ns1 and ns2)
#   ca   10.53.0.80  pebble, validating through unbound
#
# The challenge zone acme.test has one NS name, ns.acme.test, with two
# addresses: ns1's and ns2's, the way an anycast or multi-homed nameserver
# looks from outside.  The customer zone example.test (its
# _acme-challenge CNAMEs into acme.test) is served by both knotds too.
#
# 1. --wait ns and check: the NS set learned through unbound; with ns2's
#    store stale the wait fails naming ns2's address, and check calls the
#    domain stale; with both fresh, both succeed.
# 2. Fan-out (acmezone peer/serve): from the client host, add, del and
#    apply reach ns1 and ns2 before the command returns, MULTINS_ROUNDS
#    (200) times or as many as fit MULTINS_ROUNDS_S (200 s; fewer are
#    reported as a skip, with the load); a peer whose sshd is stopped, whose knotd is stopped, or
#    that is stopped (SIGSTOP): the documented outcome in bounded time;
#    sync after a peer missed adds and deletes.
# 3. certbot, lego and dehydrated get certificates from pebble with the
#    challenge on ns1 and ns2, their hooks running on the client host.
#
# Sections whose commands are not in this build (peer, serve, sync) are
# skipped with the reason.  The whole run is bounded (MULTINS_BUDGET_S).

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/hosts.sh"

UNBOUND=${UNBOUND:-/usr/sbin/unbound}
PEBBLE=${PEBBLE:-pebble}
MULTINS_ROUNDS=${MULTINS_ROUNDS:-200}
MULTINS_ROUNDS_S=${MULTINS_ROUNDS_S:-200}	# the rounds' time box
MULTINS_BUDGET_S=${MULTINS_BUDGET_S:-290}
MULTINS_CLIENTS=${MULTINS_CLIENTS:-certbot lego dehydrated}
START_S=15

hosts_require
[ -x "$UNBOUND" ] || skip_all "unbound not found at '$UNBOUND' (Debian: unbound)"
hosts_enter "$@"
hosts_init
T0=$(test_now_ms)

AZ=$(cd "$top_builddir" && pwd)/acmezone
CZ=acme.test
D=example.test
DL=${D//./-}
NS1=$HOSTS_NET.1
NS2=$HOSTS_NET.2
RES=$HOSTS_NET.53
unset ACMEZONE_WAIT ACMEZONE_SERVER ACMEZONE_EXPIRE ACMEZONE_PROPAGATION_TIMEOUT \
	ACMEZONE_PEERS ACMEZONE_PEER_TIMEOUT ACMEZONE_DB

# out_tail FILE: its last lines as TAP comments.
out_tail() {
	diag "--- last lines of $1"
	tail -n "${2:-20}" "$1" 2>/dev/null | while IFS= read -r line; do
		diag "$line"
	done
}

# budget_left: seconds left of MULTINS_BUDGET_S.
budget_left() {
	echo $(( MULTINS_BUDGET_S - ($(test_now_ms) - T0) / 1000 ))
}

# on HOST ARGS: the CLI on HOST with HOST's store (ns1, ns2).
on() {
	local h=$1
	shift
	host_exec "$h" "$AZ" --db "$HOSTS_DIR/$h/kd/store/acmezone.mdb" "$@"
}

# served_by ADDR NAME VALUE: does ADDR serve VALUE at NAME (no recursion)?
served_by() {
	"$KDIG" "@$1" +norec +short +timeout=1 +retry=0 "$2" TXT 2>/dev/null |
		grep -qxF "\"$3\""
}

########################################################################
# The hosts.

host_add ns1 1
host_add ns2 2
host_add cl 3
host_add res 53
host_add ca 80

cat >"$HOSTS_DIR/$D.zone" <<EOF
\$ORIGIN $D.
\$TTL 5
@	SOA	ns.$CZ. hostmaster.invalid. 1 3600 600 86400 1
@	NS	ns.$CZ.
@	A	127.0.0.1
www	A	127.0.0.1
EOF
"$AZ" cname "$D" "*.$D" "www.$D" --zone "$CZ" >>"$HOSTS_DIR/$D.zone"
ok $? "the customer zone with the CNAMEs 'acmezone cname' prints"
chmod 0644 "$HOSTS_DIR/$D.zone"

HOSTS_APEX="@ NS ns.$CZ.
ns A $NS1
ns A $NS2"
for h in ns1 ns2; do
	host_knotd "$h" "$CZ" "$D." "$HOSTS_DIR/$D.zone"
done
ok 0 "knotd with mod-acmezone on ns1 ($NS1) and ns2 ($NS2), port 53"

cat >"$HOSTS_DIR/unbound.conf" <<EOF
server:
    interface: $RES
    port: 53
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$HOSTS_DIR"
    pidfile: ""
    logfile: "$HOSTS_DIR/unbound.log"
    use-syslog: no
    num-threads: 1
    access-control: $HOSTS_NET.0/24 allow
    module-config: "iterator"
    use-caps-for-id: yes
    domain-insecure: "test."
    local-zone: "test." transparent
    local-zone: "." refuse
    # Answers are short-lived: the test asks again at once.
    cache-max-ttl: 1
    cache-max-negative-ttl: 1
remote-control:
    control-enable: no
stub-zone:
    name: "$D."
    stub-addr: $NS1
    stub-addr: $NS2
stub-zone:
    name: "$CZ."
    stub-addr: $NS1
    stub-addr: $NS2
EOF
host_bg res sh -c 'exec "$0" -d -c "$1" >"$2" 2>&1' \
	"$UNBOUND" "$HOSTS_DIR/unbound.conf" "$HOSTS_DIR/unbound.out"
UB_PID=$HOSTS_LAST_PID
ub_ready() {
	kill -0 "$UB_PID" 2>/dev/null &&
	[ "$("$KDIG" "@$RES" +short +timeout=1 +retry=0 "ns.$CZ" A 2>/dev/null | sort | tr '\n' ' ')" = "$NS1 $NS2 " ]
}
if ! poll_until "$START_S" ub_ready; then
	out_tail "$HOSTS_DIR/unbound.log"
	bail "unbound did not come up on $RES"
fi
ok 0 "unbound on $RES: ns.$CZ has the addresses of ns1 and ns2"

########################################################################
# 1. --wait ns and check ask every address of every NS.

V=$(tok stale)
on ns1 add "$D" "$V" >/dev/null
ok $? "a value added on ns1 only (ns2's store is stale)"
t0=$(test_now_ms)
out=$(on ns1 add "$D" "$V" --wait ns --server "$RES" --propagation-timeout 2 2>&1)
rc=$?
is "$rc" 4 "add --wait ns with ns2 stale: exit 4 ($(( $(test_now_ms) - t0 )) ms)"
like "$out" "^acmezone: add: $NS2@53 \\(ns\\.$CZ\\.\\) does not serve $V at $DL\\.$CZ\\. after 2 s \\(last answer: NXDOMAIN\\)\$" \
	"... naming the stale address and its NS name, and only it"
out=$(host_exec cl "$AZ" check "$D" --zone "$CZ" --server "$RES" 2>&1)
is "$?" 4 "check with ns2 stale: exit 4"
like "$out" "^$D: stale: .* is in place and the challenge zone answers for it \\([0-9] value\\(s\\) published\\); but not every address of its nameservers does: $NS2@53 \\(ns\\.$CZ\\.\\) serves 0 of the 1 value\\(s\\) served\$" \
	"... calling it stale and naming ns2's address"
out=$(host_exec cl "$AZ" check "$D" --zone "$CZ" --server "$RES" --json 2>&1)
printf '%s\n' "$out" | python3 -c '
import json, sys
a = json.load(sys.stdin)[0]
assert a["status"] == "stale", a
s = {o["address"]: o for o in a["servers"]}
assert s["'"$NS1"'@53"]["ok"] is True and s["'"$NS2"'@53"]["ok"] is False, s
assert s["'"$NS2"'@53"]["ns"] == "ns.'"$CZ"'.", s
'
ok $? "check --json: one entry per address, ns2's not ok"

on ns2 add "$D" "$V" >/dev/null
out=$(on ns1 add "$D" "$V" --wait ns --server "$RES" --propagation-timeout 5 -v 2>&1)
is "$?" 0 "add --wait ns with both fresh: exit 0"
like "$out" "$NS1@53 \\(ns\\.$CZ\\.\\) serves $V" "... ns1's address serves it"
like "$out" "$NS2@53 \\(ns\\.$CZ\\.\\) serves $V" "... and ns2's"
out=$(host_exec cl "$AZ" check "$D" --zone "$CZ" --server "$RES" 2>&1)
is "$?" 0 "check with both fresh: exit 0"
like "$out" "^$D: ok: .*; so do all 2 address\\(es\\) of its nameservers\$" "... all addresses agree"

# Explicit addresses still work, and 'ns@PORT' asks the learned ones on PORT.
out=$(on ns1 add "$D" "$V" --wait "$NS1" --wait "$NS2@53" --propagation-timeout 5 2>&1)
is "$?" 0 "add --wait with the addresses given: exit 0"
NOPORT=$("$top_builddir/tests/lib/freeport")
out=$(on ns1 add "$D" "$V" --wait "ns@$NOPORT" --server "$RES" --propagation-timeout 1 2>&1)
is "$?" 4 "add --wait ns@PORT where nothing listens: exit 4"
is "$(printf '%s\n' "$out" | grep -c "@$NOPORT (ns\\.$CZ\\.) does not serve")" 2 \
	"... one line for each address, on that port"
out=$(host_exec cl "$AZ" check "$D" --zone "$CZ" --server "$RES" --wait "ns@$NOPORT" 2>&1)
is "$?" 4 "check --wait ns@PORT where nothing listens: exit 4"
like "$out" "^$D: stale: .* $NS1@$NOPORT \\(ns\\.$CZ\\.\\) no reply" "... naming ns1's address"
like "$out" "^$D: stale: .* $NS2@$NOPORT \\(ns\\.$CZ\\.\\) no reply" "... and ns2's"
for h in ns1 ns2; do
	on "$h" del "$D" >/dev/null
done

########################################################################
# 2. Fan-out from the client host (acmezone peer and serve).

# both_serve NAME VALUE / both_gone NAME: what ns1's and ns2's knotds
# answer right now (no polling: read-your-writes on each).
both_serve() {
	served_by "$NS1" "$1" "$2" && served_by "$NS2" "$1" "$2"
}
both_gone() {
	local a
	for a in "$NS1" "$NS2"; do
		[ "$("$KDIG" "@$a" +norec +timeout=1 +retry=0 "$1" TXT 2>/dev/null |
			sed -n 's/.*status: \([A-Z]*\).*/\1/p')" = NXDOMAIN ] || return 1
	done
}
# timed CMD...: run CMD; its output (with stderr) in $out, status in $rc,
# milliseconds in $ms.
timed() {
	local t0
	t0=$(test_now_ms)
	out=$("$@" 2>&1)
	rc=$?
	ms=$(ms_since "$t0")
}
# ms_since T: milliseconds since T.
ms_since() {
	echo $(( $(test_now_ms) - $1 ))
}

HAVE_PEERS=yes
if ! "$AZ" peer --help >/dev/null 2>&1 || ! "$AZ" serve --help >/dev/null 2>&1; then
	ok 0 "# SKIP fan-out: no 'acmezone peer' and 'serve' in this build"
	HAVE_PEERS=no
fi
DBC="$HOSTS_DIR/cl/store/acmezone.mdb"	# the client host has no store
azc() { host_exec cl "$AZ" --db "$DBC" "$@"; }
if [ "$HAVE_PEERS" = yes ]; then
	mkdir -p "$HOSTS_DIR/cl/store"
	printf '# what the client host may write\ndomain %s\ndomain *.%s\nops add del\n' \
		"$D" "$D" >"$HOSTS_DIR/scope-cl"
	for h in ns1 ns2; do
		host_authorize "$h" "command=\"$AZ --db $HOSTS_DIR/$h/kd/store/acmezone.mdb serve --scope $HOSTS_DIR/scope-cl\",restrict $(cat "$HOSTS_DIR/cl/id_ed25519.pub")"
		host_sshd "$h"
		azc peer add "$h" --ssh "root@${HOST_ADDR[$h]}" --key "$HOSTS_DIR/cl/id_ed25519" \
			--address "${HOST_ADDR[$h]}" --host-key "$HOSTS_DIR/$h/ssh_host_ed25519_key.pub" ||
			bail "peer add $h on the client host"
	done
	ok 0 "sshd on ns1 and ns2 (the client's key: 'serve --scope'); peers ns1, ns2 on the client host"

	t0=$(test_now_ms)
	V=$(tok cold)
	azc add "$D" "$V"
	ok $? "the first add from the client host (cold: $(ms_since "$t0") ms)"
	both_serve "$DL.$CZ" "$V"
	ok $? "... served by ns1 and ns2 when it returns"
	azc del "$D" "$V"

	# MULTINS_ROUNDS rounds: add, both serve; del, both answer NXDOMAIN.
	# Every tenth round writes through 'apply' (an add and a del at once).
	bad_add=0 bad_del=0 fails=0 rounds=0
	t0=$(test_now_ms)
	for i in $(seq 1 "$MULTINS_ROUNDS"); do
		# The time box: a loaded machine gets through fewer rounds.
		[ $(( $(test_now_ms) - t0 )) -lt $((MULTINS_ROUNDS_S * 1000)) ] || break
		rounds=$i
		V=$(tok "r$i")
		if [ $((i % 10)) -eq 0 ]; then
			printf 'add www.%s %s\ndel %s\n' "$D" "$V" "$D" | azc apply ||
				fails=$((fails + 1))
			both_serve "www-$DL.$CZ" "$V" || bad_add=$((bad_add + 1))
			printf 'del www.%s %s\n' "$D" "$V" | azc apply || fails=$((fails + 1))
			both_gone "www-$DL.$CZ" || bad_del=$((bad_del + 1))
		else
			azc add "$D" "$V" || fails=$((fails + 1))
			both_serve "$DL.$CZ" "$V" || bad_add=$((bad_add + 1))
			azc del "$D" "$V" || fails=$((fails + 1))
			both_gone "$DL.$CZ" || bad_del=$((bad_del + 1))
		fi
	done
	ms=$(ms_since "$t0")
	if [ "$rounds" -eq "$MULTINS_ROUNDS" ]; then
		ok 0 "all $MULTINS_ROUNDS rounds within the time box of $MULTINS_ROUNDS_S s"
	else
		ok 0 "# SKIP only $rounds of $MULTINS_ROUNDS rounds within the time box of $MULTINS_ROUNDS_S s (load average $(cut -d' ' -f1 /proc/loadavg))"
	fi
	is "$fails" 0 "$rounds rounds of add and del (and apply) from the client host: every command succeeds ($((ms / (rounds > 0 ? rounds : 1))) ms a round)"
	is "$bad_add" 0 "... every value served by ns1 and ns2 when the command returns, $((rounds - bad_add)) of $rounds"
	is "$bad_del" 0 "... every delete gone from both when it returns, $((rounds - bad_del)) of $rounds"

	# A scope violation: nothing written anywhere.
	out=$(azc add other.test "$(tok scope)" 2>&1)
	isnt_ok=$?
	ok $((isnt_ok == 0)) "a domain outside the client's scope is refused (exit $isnt_ok)"
	is "$(on ns1 list; on ns2 list)" "" "... and nothing is written on ns1 or ns2"

	# ns2's sshd stopped: refused at once.
	host_sshd_stop ns2
	V=$(tok down)
	timed azc add "$D" "$V" --peer-timeout 5
	is "$rc" 4 "ns2's sshd stopped, --peers all: exit 4 (${ms} ms)"
	like "$out" "peer ns2 " "... naming ns2"
	ok $((ms >= 7000)) "... within the bound"
	served_by "$NS1" "$DL.$CZ" "$V"
	ok $? "... ns1 has it all the same (cleanup or a retry removes it)"
	out=$(azc add "$D" "$V" --peers reachable --peer-timeout 5 2>&1)
	is "$?" 0 "--peers reachable: exit 0"
	like "$out" "warning: peer ns2 .*unreachable" "... with a warning naming ns2"
	azc del "$D" "$V" --peers reachable >/dev/null 2>&1
	host_sshd ns2

	# ns2's knotd stopped: the store there takes the write; a nameserver
	# that does not answer fails no validation.
	host_kd ns2
	knotd_stop
	V=$(tok kdown)
	timed azc add "$D" "$V" --peer-timeout 10
	is "$rc" 0 "ns2's knotd stopped: exit 0 (${ms} ms)"
	ok $((ms >= 12000)) "... within the bound"
	knotd_start
	host_kd ns2
	served_by "$NS2" "$DL.$CZ" "$V"
	ok $? "... and ns2 serves it once its knotd is back"
	azc del "$D" "$V" >/dev/null

	# ns2 hangs: its sshd and every session SIGSTOPped.
	host_signal ns2 STOP
	V=$(tok hang)
	timed azc add "$D" "$V" --peer-timeout 3
	host_signal ns2 CONT
	is "$rc" 4 "ns2 hangs (SIGSTOP): exit 4"
	like "$out" "peer ns2 .*(--peer-timeout)" "... naming ns2 and the timeout"
	ok $((ms >= 6000)) "... within the bound (${ms} ms for --peer-timeout 3)"
	azc del "$D" "$V" >/dev/null 2>&1

	# sync after ns2 missed adds and deletes.
	if "$AZ" sync --help >/dev/null 2>&1; then
		# ns1 reaches ns2 with a key of its own ('serve --unscoped':
		# the key of a peer nameserver, the only kind sync may use).
		host_authorize ns2 "command=\"$AZ --db $HOSTS_DIR/ns2/kd/store/acmezone.mdb serve --unscoped\",restrict $(cat "$HOSTS_DIR/ns1/id_ed25519.pub")"
		on ns1 peer add ns2 --ssh "root@$NS2" --key "$HOSTS_DIR/ns1/id_ed25519" \
			--address "$NS2" --host-key "$HOSTS_DIR/ns2/ssh_host_ed25519_key.pub"
		ok $? "peer ns2 on ns1, for sync"
		host_sshd_stop ns2
		V1=$(tok s1)
		V2=$(tok s2)
		azc add "$D" "$V1" --peers reachable >/dev/null 2>&1	# ns2 misses it
		host_sshd ns2
		azc add "www.$D" "$V2" >/dev/null 2>&1
		both_serve "www-$DL.$CZ" "$V2"
		ok $? "a value both have"
		host_sshd_stop ns2
		azc del "www.$D" "$V2" --peers reachable >/dev/null 2>&1	# ns2 misses the delete
		host_sshd ns2
		served_by "$NS2" "www-$DL.$CZ" "$V2" && ! served_by "$NS2" "$DL.$CZ" "$V1"
		ok $? "ns2 missed an add and a delete"
		out=$(on ns1 sync ns2 2>&1)
		ok $? "sync ns2 from ns1 ($(printf '%s' "$out" | tr '\n' ' '))"
		both_serve "$DL.$CZ" "$V1"
		ok $? "... the add ns2 missed is served by both"
		both_gone "www-$DL.$CZ"
		ok $? "... the delete ns2 missed is gone from both, not brought back to ns1"
		is "$(on ns2 list --json | grep -o '"value": "[^"]*"' | sort)" \
			"$(on ns1 list --json | grep -o '"value": "[^"]*"' | sort)" \
			"... the same live values on both"
		on ns1 peer del ns2 >/dev/null
	else
		ok 0 "# SKIP sync: no 'acmezone sync' in this build"
	fi
	for h in ns1 ns2; do
		on "$h" del "$D" >/dev/null
		on "$h" del "www.$D" >/dev/null
	done
fi

########################################################################
# 3. certbot, lego and dehydrated on the client host, pebble on its own,
# validating through unbound, which picks ns1 or ns2 as it likes.

# wants CLIENT: is CLIENT among MULTINS_CLIENTS and installed?
wants() {
	case " $MULTINS_CLIENTS " in
	*" $1 "*) command -v "$1" >/dev/null 2>&1 && return 0 ;;
	esac
	return 1
}
# sans CERT: the certificate's DNS names, sorted, on one line.
sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
		tr ',' '\n' | sed -n 's/^ *DNS://p' | LC_ALL=C sort | tr '\n' ' '
}
# stores_empty: no value left on ns1 or ns2.
stores_empty() {
	[ -z "$(on ns1 list)$(on ns2 list)" ]
}
WANT_SANS="*.$D $D www.$D "
CA=$HOSTS_NET.80
if [ "$HAVE_PEERS" != yes ]; then
	ok 0 "# SKIP ACME clients: their hooks on the client host need the fan-out"
elif ! command -v "$PEBBLE" >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1 ||
     ! command -v curl >/dev/null 2>&1; then
	ok 0 "# SKIP ACME clients: needs pebble, openssl and curl"
else
	P="$HOSTS_DIR/pebble"
	mkdir -p "$P"
	test_ca "$P" "$CA" || bail "openssl: $(tail -n 1 "$P/openssl.out")"
	cat >"$P/pebble.json" <<-EOF
	{
	  "pebble": {
	    "listenAddress": "$CA:14000",
	    "managementListenAddress": "$CA:15000",
	    "certificate": "$P/pebble.pem",
	    "privateKey": "$P/pebble.key",
	    "httpPort": 5002,
	    "tlsPort": 5001,
	    "ocspResponderURL": "",
	    "externalAccountBindingRequired": false
	  }
	}
	EOF
	DIRURL="https://$CA:14000/dir"
	PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0 \
		host_bg ca sh -c 'exec "$0" -config "$1" -dnsserver "$2" >"$3" 2>&1' \
		"$PEBBLE" "$P/pebble.json" "$RES:53" "$P/pebble.out"
	PB_PID=$HOSTS_LAST_PID
	pb_ready() {
		kill -0 "$PB_PID" 2>/dev/null &&
			curl -sf --max-time 2 --cacert "$P/ca.pem" "$DIRURL" >/dev/null 2>&1
	}
	poll_until "$START_S" pb_ready || bail "pebble did not come up at $DIRURL"
	ok 0 "pebble at $DIRURL, validating through unbound ($RES)"
	unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
	unset CERTBOT_DOMAIN CERTBOT_VALIDATION CERTBOT_AUTH_OUTPUT PEBBLE_VA_ALWAYS_VALID
	# answers HOST: mod-acmezone's answer counter on HOST's knotd.
	answers() {
		host_kd "$1"
		kd_ctl zone-stats "$CZ." mod-acmezone.answers 2>/dev/null |
			sed -n 's/.*mod-acmezone\.answers = \([0-9]*\)$/\1/p'
	}
	A1=$(answers ns1)
	A2=$(answers ns2)
	ctimeout() {
		local left
		left=$(budget_left)
		[ "$left" -gt 90 ] || left=90	# a client's own bound, whatever is left
		echo "$left"
	}

	if wants certbot; then
		t0=$(test_now_ms)
		REQUESTS_CA_BUNDLE="$P/ca.pem" host_exec cl timeout -k 5 "$(ctimeout)" \
			certbot certonly --non-interactive --agree-tos \
			--register-unsafely-without-email --server "$DIRURL" \
			--config-dir "$P/certbot/conf" --work-dir "$P/certbot/work" \
			--logs-dir "$P/certbot/logs" --cert-name cb \
			--manual --preferred-challenges dns \
			--manual-auth-hook "$AZ --db '$DBC' hook certbot" \
			--manual-cleanup-hook "$AZ --db '$DBC' hook certbot" \
			-d "$D" -d "*.$D" -d "www.$D" >"$P/certbot.out" 2>&1
		rc=$?
		is "$rc" 0 "certbot on the client host: a certificate for $D, *.$D, www.$D ($(ms_since "$t0") ms)"
		[ "$rc" -eq 0 ] || out_tail "$P/certbot.out" 30
		is "$(sans "$P/certbot/conf/live/cb/cert.pem")" "$WANT_SANS" "certbot: the certificate names exactly the three"
		stores_empty
		ok $? "certbot: no value left on ns1 or ns2"
	fi
	if wants lego; then
		t0=$(test_now_ms)
		host_exec cl env EXEC_PATH="$AZ" ACMEZONE_DB="$DBC" \
			EXEC_PATH="$(cd "$top_builddir" && pwd)/cli/acmezone-lego" ACMEZONE="$AZ" \
			EXEC_SEQUENCE_INTERVAL=2 EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=20 \
			LEGO_CA_CERTIFICATES="$P/ca.pem" LEGO_DISABLE_CNAME_SUPPORT=true \
			timeout -k 5 "$(ctimeout)" \
			lego --server "$DIRURL" --email "admin@$D" --accept-tos --path "$P/lego" \
			--dns exec --dns.resolvers "$RES:53" --dns.disable-cp \
			-d "$D" -d "*.$D" -d "www.$D" run >"$P/lego.out" 2>&1
		rc=$?
		is "$rc" 0 "lego on the client host: a certificate for $D, *.$D, www.$D ($(ms_since "$t0") ms)"
		[ "$rc" -eq 0 ] || out_tail "$P/lego.out" 30
		is "$(sans "$P/lego/certificates/$D.crt")" "$WANT_SANS" "lego: the certificate names exactly the three"
		stores_empty
		ok $? "lego: no value left on ns1 or ns2"
	fi
	if wants dehydrated; then
		mkdir -p "$P/dh"
		cat >"$P/dh/config" <<-EOF
		CA="$DIRURL"
		CHALLENGETYPE="dns-01"
		HOOK="$(cd "$top_builddir" && pwd)/cli/acmezone-dehydrated"
		HOOK_CHAIN="yes"
		BASEDIR="$P/dh"
		CURL_OPTS="--cacert $P/ca.pem"
		EOF
		t0=$(test_now_ms)
		host_exec cl env ACMEZONE="$AZ" ACMEZONE_DB="$DBC" timeout -k 5 "$(ctimeout)" \
			dehydrated --config "$P/dh/config" --register --accept-terms >"$P/dehydrated.out" 2>&1 &&
		host_exec cl env ACMEZONE="$AZ" ACMEZONE_DB="$DBC" timeout -k 5 "$(ctimeout)" \
			dehydrated --config "$P/dh/config" --cron -d "$D" -d "*.$D" -d "www.$D" \
			>>"$P/dehydrated.out" 2>&1
		rc=$?
		is "$rc" 0 "dehydrated on the client host: a certificate for $D, *.$D, www.$D ($(ms_since "$t0") ms)"
		[ "$rc" -eq 0 ] || out_tail "$P/dehydrated.out" 30
		is "$(sans "$P/dh/certs/$D/cert.pem")" "$WANT_SANS" "dehydrated: the certificate names exactly the three"
		stores_empty
		ok $? "dehydrated: no value left on ns1 or ns2"
	fi
fi

if [ -n "${A1:-}" ]; then
	B1=$(answers ns1)
	B2=$(answers ns2)
	[ "${B1:-0}" -gt "${A1:-0}" ] && [ "${B2:-0}" -gt "${A2:-0}" ]
	ok $? "unbound asked both nameservers during the orders (ns1 answered $(( ${B1:-0} - ${A1:-0} )), ns2 $(( ${B2:-0} - ${A2:-0} )))"
fi
ok $(( $(budget_left) < 0 )) "the whole run within ${MULTINS_BUDGET_S} s ($(( ($(test_now_ms) - T0) / 1000 )) s)"

done_testing
