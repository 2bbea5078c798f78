#!/bin/bash
# acme.sh -- end to end: certbot, lego and dehydrated get certificates from pebble through 'acmezone hook', with knotd (or named) and unbound on loopback.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   knotd   serves the customer zone example.test (with the _acme-challenge
#           CNAMEs that 'acmezone cname' prints) and the challenge zone
#           challenges.test through mod-acmezone;
#   unbound is the CA's recursive resolver: stub zones to knotd, so the
#           CNAMEs are followed as Let's Encrypt's resolvers follow them;
#   pebble  is the CA, validating for real (PEBBLE_VA_ALWAYS_VALID unset).
#
# Each client gets one certificate for example.test, *.example.test and
# www.example.test; afterwards no challenge value is left in the store.
#
# ACME_SERVER=named puts named in knotd's place: the challenge zone through
# dlz_acmezone.so, the customer zone from the same zone file as an ordinary
# primary zone (tests/e2e/acme-named.sh).  ACME_CLIENTS (default "certbot lego
# dehydrated") chooses the clients that run; the DNS checks, --wait and the
# acme.sh hook functions run in every case.  ACME_DNSSEC=yes (knotd only,
# tests/e2e/acme-dnssec.sh) signs both zones: the customer zone by knotd
# ('dnssec-signing: on'), the challenge zone as doc/dnssec.md says
# (mod-onlinesign after mod-acmezone); unbound validates with both DS as
# trust anchors, and each auth hook call is followed by an A query at the
# challenge name through it, as a scanner's would be.

. "$top_srcdir/tests/lib/tap.sh"

ACME_SERVER=${ACME_SERVER:-knotd}
ACME_CLIENTS=${ACME_CLIENTS:-certbot lego dehydrated}
ACME_DNSSEC=${ACME_DNSSEC:-no}
UNBOUND=${UNBOUND:-/usr/sbin/unbound}
PEBBLE=${PEBBLE:-pebble}
CLIENT_TIMEOUT=240		# seconds any one client run may take

# The authoritative server, behind one set of names: srv_require,
# srv_setup DIR ZONE, srv_add_zone NAME FILE, srv_start, srv_stop,
# srv_cleanup; SRV_PORT, SRV_DB, SRV_IPV6 once set up; ask: a dig for the
# resolver's answers.  Both serve the challenge zone with ttl 1: lego
# solves one authorisation after the other at one name, and unbound must
# not serve the previous one's value from its cache (in production:
# EXEC_SEQUENCE_INTERVAL above the module's ttl).
KD_TTL=1
ND_TTL=1
case $ACME_SERVER in
knotd)
	. "$top_srcdir/tests/lib/knotd-lib.sh"
	SRV_WHAT="knotd"
	SRV_STOP_HOW="knotc stop"
	srv_require() { knotd_require; }
	srv_setup() {
		knotd_setup "$@"
		SRV_PORT=$KD_PORT SRV_DB=$KD_DB SRV_IPV6=$KD_IPV6
	}
	srv_add_zone() { knotd_add_zone "$@"; }
	srv_init() { knotd_init "$@"; }
	srv_start() { knotd_start; }
	srv_stop() { knotd_stop; }
	srv_cleanup() { knotd_cleanup; }
	ask() {
		"$KDIG" +timeout=2 +retry=1 "$@"
	}
	;;
named)
	. "$top_srcdir/tests/lib/named-lib.sh"
	SRV_WHAT="named"
	SRV_STOP_HOW="rndc stop"
	srv_require() {
		named_require
		command -v "$DIG" >/dev/null 2>&1 || skip_all "dig not found ('$DIG')"
	}
	srv_setup() {
		named_setup "$@"
		SRV_PORT=$ND_PORT SRV_DB=$ND_DB SRV_IPV6=$ND_IPV6
	}
	srv_add_zone() { named_add_zone "$@"; }
	srv_init() { named_init "$@"; }
	srv_start() { named_start; }
	srv_stop() { named_stop; }
	srv_cleanup() { named_cleanup; }
	ask() {
		"$DIG" +time=2 +tries=2 "$@"
	}
	;;
*)
	bail "ACME_SERVER='$ACME_SERVER': knotd or named"
	;;
esac

# wants CLIENT: is CLIENT among ACME_CLIENTS?
wants() {
	case " $ACME_CLIENTS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

srv_require
if [ "$ACME_DNSSEC" = yes ]; then
	[ "$ACME_SERVER" = knotd ] || bail "ACME_DNSSEC=yes needs ACME_SERVER=knotd"
	for prog in keymgr runuser; do
		command -v "$prog" >/dev/null 2>&1 || skip_all "'$prog' not found (Debian: knot, util-linux)"
	done
fi
[ -x "$UNBOUND" ] || skip_all "unbound not found at '$UNBOUND' (Debian: unbound)"
for prog in "$PEBBLE" $ACME_CLIENTS openssl curl timeout; do
	command -v "$prog" >/dev/null 2>&1 ||
		skip_all "'$prog' not found (Debian: pebble certbot lego dehydrated openssl curl)"
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/azacme.XXXXXX") || bail "mktemp failed"
. "$top_srcdir/tests/lib/acme-lib.sh"

cleanup() {
	local rc=$?
	acme_stop
	(exit "$rc")
	srv_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The test CA must be the only one the clients trust; this machine may
# preset bundles for Python, curl and OpenSSL.
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
unset ACMEZONE_WAIT ACMEZONE_EXPIRE ACMEZONE_PROPAGATION_TIMEOUT
unset PEBBLE_VA_ALWAYS_VALID
unset CERTBOT_DOMAIN CERTBOT_VALIDATION CERTBOT_AUTH_OUTPUT

CZ=challenges.test
D=example.test
AZ="$top_builddir/acmezone"
if [ "${ACME_DOC:-}" = bind ]; then
	# tests/e2e/bind-doc.sh: doc/bind.md's own commands and named.conf
	# statement, read from the page, with its zone and customer domain;
	# only the paths (store, driver) are this test's.
	doc="$top_srcdir/doc/bind.md"
	DOC_INIT=$(sed -n 's/^    # \(acmezone init .*\)$/\1/p' "$doc" | head -n 1)
	DOC_CNAME=$(sed -n 's/^    # \(acmezone cname .*\)$/\1/p' "$doc" | head -n 1)
	CZ=$(printf '%s\n' "$DOC_INIT" | sed -n 's/.*--zone \([^ ]*\).*/\1/p')
	D=${DOC_CNAME##* www.}
	[ -n "$CZ" ] && [ -n "$D" ] && [ "$D" != "$DOC_CNAME" ] ||
		bail "doc/bind.md: no 'acmezone init ... --zone Z' and 'acmezone cname www.D' steps"
	# The Example's statement: the first one on the page.
	WANT_DLZ=$(sed -n '/^    dlz "acmezone" {$/,/^    };$/{p;/^    };$/q;}' "$doc" | sed 's/^    //')
	[ -n "$WANT_DLZ" ] || bail "doc/bind.md: no dlz statement"
	diag "doc/bind.md: challenge zone $CZ, customer domain $D"
fi
DL=${D//./-}		# D's label in the challenge zone (scheme readable)
srv_setup "$dir" "$CZ"
[ "$ACME_DNSSEC" = yes ] && knotd_signed_as_doc
if [ "${ACME_DOC:-}" = bind ]; then
	ND_DLZ=$(printf '%s\n' "$WANT_DLZ" |
		sed -e "s|/usr/lib/x86_64-linux-gnu/bind/dlz_acmezone.so|$ND_DRIVER|" \
		    -e "s|/var/lib/acmezone/acmezone.mdb|$ND_DB|")
	named_write_conf
fi

# sans CERT: the certificate's DNS names, sorted, on one line.
sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
		tr ',' '\n' | sed -n 's/^ *DNS://p' | LC_ALL=C sort | tr '\n' ' '
}

WANT_SANS="*.$D $D www.$D "

# store_empty: no value at all left in the store.
store_empty() {
	[ -z "$(az list)" ]
}

# rep PY-EXPR: evaluate PY-EXPR over 'acmezone report --json' (r: the
# report, d(NAME): the entry of a domain).
rep() {
	"$AZ" --db "$SRV_DB" report --json --offline >"$dir/report.json" 2>/dev/null
	python3 - "$dir/report.json" "$1" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
def d(name):
    for e in r["domains"]:
        if e["domain"] == name:
            return e
    return None
print(eval(sys.argv[2]))
PYEOF
}

# notafter CERT: the certificate's notAfter in UNIX seconds, as openssl says.
notafter() {
	date -u -d "$(openssl x509 -enddate -noout -in "$1" | sed 's/^notAfter=//')" +%s
}

# elapsed SINCE_MS: seconds since, with one decimal.
elapsed() {
	local ms=$(( $(test_now_ms) - $1 ))
	printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

########################################################################
# The store, the server with both zones.

if [ "${ACME_DOC:-}" = bind ]; then
	# shellcheck disable=SC2086
	out=$(ACMEZONE_DB=$SRV_DB "$AZ" ${DOC_INIT#acmezone })
	ok $? "doc/bind.md: # $DOC_INIT"
	like "$out" "challenge zone $CZ\\., scheme readable" "... reports the challenge zone, as the page shows"
else
	out=$(srv_init --zone "$CZ")
	ok $? "acmezone init --zone $CZ (the server's group)"
fi

cat >"$dir/$D.zone" <<EOF
\$ORIGIN $D.
\$TTL 5
@	SOA	ns.invalid. hostmaster.invalid. 1 3600 600 86400 1
@	NS	ns.invalid.
@	A	127.0.0.1
www	A	127.0.0.1
; acme.sh --challenge-alias alias.$D: a CNAME to _acme-challenge.alias.$D
_acme-challenge.ca	CNAME	_acme-challenge.alias.$D.
; acme.sh --domain-alias shared.$CZ
_acme-challenge.da	CNAME	shared.$CZ.
; for check: a wrong target, and a zone that does not answer
_acme-challenge.wrong	CNAME	wrong.elsewhere.test.
_acme-challenge.lame	CNAME	lame-${DL}.lame.test.
; for check: a chain through the customer's own names, and a loop
_acme-challenge.chain	CNAME	_acme-challenge.hop.$D.
_acme-challenge.hop	CNAME	chain-${DL}.$CZ.
_acme-challenge.loop	CNAME	_acme-challenge.loop2.$D.
_acme-challenge.loop2	CNAME	_acme-challenge.loop.$D.
; the records 'acmezone cname' prints, pasted as they are:
EOF
az cname "$D" "*.$D" "www.$D" "alias.$D" "sh.$D" >>"$dir/$D.zone"
ok $? "acmezone cname output goes into the customer zone"
diag "$(grep -c CNAME "$dir/$D.zone") CNAMEs in $D"
if [ "$ACME_DNSSEC" = yes ]; then
	srv_add_zone "$D." "$dir/$D.zone" "dnssec-signing: on"
else
	srv_add_zone "$D." "$dir/$D.zone"
fi
srv_start
UB_VALIDATE=
if [ "$ACME_DNSSEC" = yes ]; then
	grep -qF "module 'mod-acmezone/default', signed on the fly by mod-onlinesign/" "$KD_LOG"
	ok $? "knotd: $CZ signed on the fly by mod-onlinesign (doc/dnssec.md: $KD_MODULES)"
	d_signed() {
		q +dnssec "$D." SOA | grep -qE "^$D\.[[:space:]].*RRSIG[[:space:]]+SOA"
	}
	poll_until 10 d_signed
	ok $? "knotd: $D signed by knotd (dnssec-signing: on)"
	UB_VALIDATE=$(printf '    trust-anchor: "%s"\n' "$(knotd_ds "$CZ.")" "$(knotd_ds "$D.")")
	is "$(printf '%s\n' "$UB_VALIDATE" | grep -cE ' DS [0-9]+ 13 2 [0-9A-Fa-f]{64}"$')" 2 \
		"# $KD_DS_CMD: the DS of both zones (unbound's trust anchors)"
fi
if [ "$ACME_SERVER" = named ]; then
	diag "named on 127.0.0.1@$SRV_PORT serves $CZ (dlz_acmezone.so${ND_DLZ:+, the dlz statement of doc/bind.md}) and $D (zone file)"
	grep -qE "acmezone: dlz 'acmezone' serves zone '$CZ\.?' from '$ND_DB'" "$ND_LOG"
	ok $? "named: the DLZ driver serves $CZ"
else
	diag "knotd on 127.0.0.1@$SRV_PORT serves $CZ (mod-acmezone, ttl $KD_TTL) and $D"
fi

########################################################################
# unbound, recursive, knows only our zones (stubs to the server).

# The server does not serve lame.test: REFUSED, so unbound says SERVFAIL.
acme_unbound_start "$dir" "$SRV_PORT" "$D" "$CZ" lame.test
ok 0 "unbound on 127.0.0.1@$UB_PORT resolves $D through $SRV_WHAT"
if [ "$ACME_DNSSEC" = yes ]; then
	V=$(tok dnssec)
	az add "$D" "$V"
	# First an A query at the name (a scanner's), then the CA's TXT.
	out=$(ub_ask "$UB_PORT" "${DL}.$CZ" A)
	is "$(ub_verdict "$out")" "NOERROR ad 0" "A at ${DL}.$CZ: NODATA that validates"
	out=$(ub_ask "$UB_PORT" "_acme-challenge.$D" TXT)
	is "$(ub_verdict "$out")" "NOERROR ad 4" \
		"then TXT at _acme-challenge.$D: the CNAME and the TXT, each with its RRSIG, validated (AD)"
	is "$(ub_txt "$out")" "$V" "... the value, not a denial from the NSEC of the A query"
	az del "$D" "$V"
	# unbound keeps the answer for its TTL: the checks below count values.
	txt_gone() { [ -z "$(r "${DL}.$CZ" TXT)" ]; }
	poll_until 10 txt_gone
	ok $? "... and once deleted, gone from the resolver's cache within its TTL"
fi

########################################################################
# pebble, with a throw-away CA for its HTTPS listener.

acme_ca_make "$dir"
ok $? "a throw-away CA and a certificate for 127.0.0.1"

acme_pebble_start "$dir" "$PEBBLE"
ok 0 "pebble at $DIRURL, validating through unbound"

########################################################################
# check: what a support desk sees.  The challenge zone's NS here is
# ns.invalid. (the server listens on a port of its own): its address is
# given with --wait (tests/e2e/multins.sh learns a real NS set).

out=$(az check "$D" "*.$D" "www.$D" --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
is "$?" 0 "check of the customer's domains: exit 0"
is "$(printf '%s\n' "$out" | awk '{ print $1, $2 }' | tr '\n' ' ')" \
	"$D: ok: $D: ok: www.$D: ok: " "check: ok for each (the wildcard at its parent)"
like "$(printf '%s\n' "$out" | head -n 1)" \
	"^$D: ok: _acme-challenge\\.$D\\. CNAME ${DL}\\.$CZ\\. is in place and the challenge zone answers for it \\(0 value\\(s\\) published\\); so do all 1 address\\(es\\) of its nameservers\$" \
	"check: the verdict says what is in place"

out=$(az check "nocname.$D" --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
is "$?" 4 "check of a domain without the CNAME: exit 4"
like "$out" "^nocname\\.$D: missing: _acme-challenge\\.nocname\\.$D\\. has no CNAME \\(NXDOMAIN\\); the customer adds: _acme-challenge\\.nocname\\.$D\\. IN CNAME nocname-${D//./-}\\.$CZ\\.\$" \
	"check: missing, with the record to add"
out=$(az check "wrong.$D" --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
like "$out" "^wrong\\.$D: wrong: _acme-challenge\\.wrong\\.$D\\. is a CNAME to wrong\\.elsewhere\\.test\\., not to wrong-${DL}\\.$CZ\\.: wrong\\.elsewhere\\.test\\. could not be followed \\(SERVFAIL from 127\\.0\\.0\\.1@$UB_PORT\\)\$" \
	"check: a wrong target (one that does not resolve: said so)"
out=$(az check "lame.$D" --zone lame.test --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
is "$?" 4 "check with a challenge zone that does not answer: exit 4"
like "$out" "^lame\\.$D: no-answer: _acme-challenge\\.lame\\.$D\\. CNAME lame-${DL}\\.lame\\.test\\. is in place, but the challenge zone does not answer for it \\(SERVFAIL from 127\\.0\\.0\\.1@$UB_PORT\\)\$" \
	"check: the CNAME is right but the challenge zone is silent"
out=$(az check "chain.$D" --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
is "$?" 0 "check follows a chain of CNAMEs to the expected name: exit 0"
like "$out" "^chain\\.$D: ok: _acme-challenge\\.chain\\.$D\\. CNAME _acme-challenge\\.hop\\.$D\\. CNAME chain-${DL}\\.$CZ\\. is in place and the challenge zone answers for it \\(0 value\\(s\\) published\\); so do all 1 address\\(es\\) of its nameservers\$" \
	"check: ok through two CNAMEs, the chain spelled out"
out=$(az check "loop.$D" --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
is "$?" 4 "check of a CNAME loop: exit 4"
like "$out" "^loop\\.$D: wrong: _acme-challenge\\.loop\\.$D\\. is a CNAME to _acme-challenge\\.loop2\\.$D\\., then to _acme-challenge\\.loop\\.$D\\., not to loop-${DL}\\.$CZ\\.: a CNAME loop\$" \
	"check: the loop is named, not followed forever"
out=$(az check "ca.$D" --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
like "$out" "^ca\\.$D: wrong: _acme-challenge\\.ca\\.$D\\. is a CNAME to _acme-challenge\\.alias\\.$D\\., then to alias-${DL}\\.$CZ\\., not to ca-${DL}\\.$CZ\\.: it ends in the challenge zone, so it works only if the ACME client publishes this domain's values there" \
	"check: a chain that ends at another name of the challenge zone (acme.sh --challenge-alias) says so"
out=$(az check "chain.$D" "nocname.$D" --json --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
printf '%s\n' "$out" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert a[0]["status"] == "ok" and a[0]["chain"] == ["_acme-challenge.hop.'"$D"'.", a[0]["expected"]], a
assert a[0]["cname"] == "_acme-challenge.hop.'"$D"'.", a
assert a[1]["chain"] == [], a
'
ok $? "check --json: the chain of CNAME targets"
out=$(az check "$D" "nocname.$D" --json --server "127.0.0.1@$UB_PORT" --wait "127.0.0.1@$SRV_PORT")
printf '%s\n' "$out" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [o["status"] for o in a] == ["ok", "missing"], a
assert a[0]["cname"] == a[0]["expected"] and a[0]["zone_answers"] is True, a
assert a[1]["cname"] is None and a[1]["zone_answers"] is True, a
'
ok $? "check --json: parses, statuses and fields"
NOPORT=$("$top_builddir/tests/lib/freeport")
out=$(az check "$D" --server "127.0.0.1@$NOPORT" 2>&1)
is "$?" 4 "check against a resolver that does not answer: exit 4"
like "$out" "^$D: error: cannot resolve _acme-challenge\\.$D\\. \\(no reply" "... saying so"

########################################################################
# --wait: ask the authoritative server until it serves the value.

W=$(tok wait)
t0=$(test_now_ms)
az add "wait.$D" "$W" --wait "127.0.0.1@$SRV_PORT" --propagation-timeout 10 -v >"$dir/wait.out"
ok $? "add --wait at the authoritative $SRV_WHAT"
like "$(cat "$dir/wait.out")" "^127\\.0\\.0\\.1@$SRV_PORT serves $W at wait-${DL}\\.$CZ\\.\$" \
	"... which serves it ($(elapsed "$t0") s, read-your-writes made it immediate)"
az del "wait.$D" "$W"

# 40 values do not fit a UDP answer: the client retries over TCP.
for i in $(seq 1 39); do
	printf 'add big.%s %s\n' "$D" "$(tok "big-$i")"
done | az apply
B40=$(tok big-40)
az add "big.$D" "$B40" --wait "127.0.0.1@$SRV_PORT" --propagation-timeout 10 -v >"$dir/wait.out"
ok $? "add --wait where the answer is truncated over UDP"
like "$(cat "$dir/wait.out")" "serves $B40 at big-${DL}\\.$CZ\\. \\(over TCP\\)\$" "... found among 40 values over TCP"
if [ "$SRV_IPV6" = yes ]; then
	az add "big.$D" "$B40" --wait "::1@$SRV_PORT" --propagation-timeout 10
	ok $? "add --wait over IPv6 (::1@$SRV_PORT)"
else
	ok 0 "# SKIP no IPv6 loopback"
fi
az del "big.$D"

########################################################################
# acme.sh: dns_acmezone.sh, sourced and called as acme.sh does.

A1=$(tok acme-sh-1)
A2=$(tok acme-sh-2)
A3=$(tok acme-sh-3)
A4=$(tok acme-sh-4)
(
	. "$top_srcdir/cli/dns_acmezone.sh"
	ACMEZONE_BIN="$AZ"
	ACMEZONE_DB="$SRV_DB"
	ACMEZONE_WAIT="127.0.0.1@$SRV_PORT"
	# acme.sh --issue -d sh.example.test -d '*.sh.example.test'
	dns_acmezone_add "_acme-challenge.sh.$D" "$A1" &&
	dns_acmezone_add "_acme-challenge.sh.$D" "$A4" &&
	# --challenge-alias alias.example.test
	dns_acmezone_add "_acme-challenge.alias.$D" "$A2" &&
	# --domain-alias shared.challenges.test
	dns_acmezone_add "shared.$CZ" "$A3"
)
ok $? "dns_acmezone_add: plain, wildcard, --challenge-alias and --domain-alias forms"
is "$(r "_acme-challenge.sh.$D" TXT | grep -v "\\.$" | LC_ALL=C sort | tr '\n' ' ')" \
	"$(printf '"%s"\n' "$A1" "$A4" | LC_ALL=C sort | tr '\n' ' ')" \
	"the CA's resolver sees both values at _acme-challenge.sh.$D"
is "$(r "_acme-challenge.ca.$D" TXT | tr '\n' ' ')" \
	"_acme-challenge.alias.$D. alias-${DL}.$CZ. \"$A2\" " \
	"--challenge-alias: followed through two CNAMEs"
is "$(r "_acme-challenge.da.$D" TXT | tr '\n' ' ')" "shared.$CZ. \"$A3\" " \
	"--domain-alias: the value at the name in the zone"
(
	. "$top_srcdir/cli/dns_acmezone.sh"
	ACMEZONE_BIN="$AZ"
	ACMEZONE_DB="$SRV_DB"
	dns_acmezone_rm "_acme-challenge.sh.$D" "$A1"
)
is "$(az list "sh.$D" | awk '{ print $2 }')" "$A4" "dns_acmezone_rm removes exactly its value"
(
	. "$top_srcdir/cli/dns_acmezone.sh"
	ACMEZONE_BIN="$AZ"
	ACMEZONE_DB="$SRV_DB"
	dns_acmezone_rm "_acme-challenge.sh.$D" "$A4" &&
	dns_acmezone_rm "_acme-challenge.alias.$D" "$A2" &&
	dns_acmezone_rm "shared.$CZ" "$A3"
)
ok $? "dns_acmezone_rm of the rest"
store_empty
ok $? "nothing left in the store"

########################################################################
# The clients: their hooks find the store through ACMEZONE_DB.

export ACMEZONE_DB="$SRV_DB"

########################################################################
# certbot (manual plugin).

if wants certbot; then
	# certbot_run NAME LOG HOOK ARGS...: HOOK as both hooks, the store
	# named in it as doc/clients/certbot.md says (ACMEZONE_DB unset).
	certbot_run() {
		local name=$1 log=$2 hook=$3
		shift 3
		env -u ACMEZONE_DB REQUESTS_CA_BUNDLE="$dir/ca.pem" \
			timeout -k 5 "$CLIENT_TIMEOUT" \
			certbot certonly --non-interactive --agree-tos \
			--register-unsafely-without-email --server "$DIRURL" \
			--config-dir "$dir/certbot/conf" --work-dir "$dir/certbot/work" \
			--logs-dir "$dir/certbot/logs" --cert-name "$name" \
			--manual --preferred-challenges dns \
			--manual-auth-hook "$hook" \
			--manual-cleanup-hook "$hook" \
			"$@" >"$log" 2>&1
	}

	# The two forms of doc/clients/certbot.md: --db in the hook command,
	# and an 'env' prefix (a hook string starting with VAR=value is refused).
	hook="$AZ --db '$SRV_DB' hook certbot"
	if [ "$ACME_DNSSEC" = yes ]; then
		# The hook, then an A query at the challenge name through the
		# CA's resolver before the CA asks for the TXT (issue 12).
		cat >"$dir/scanned-hook" <<-EOF
		#!/bin/sh
		$hook || exit
		$KDIG @127.0.0.1 -p $UB_PORT +dnssec +timeout=2 A "\$(printf '%s' "\$CERTBOT_DOMAIN" | tr . -).$CZ" >>"$dir/scans.out" 2>&1
		exit 0
		EOF
		chmod 0755 "$dir/scanned-hook"
		hook="$dir/scanned-hook"
	fi
	t0=$(test_now_ms)
	certbot_run cb "$dir/certbot.out" "$hook" \
		-d "$D" -d "*.$D" -d "www.$D" \
		--deploy-hook "$AZ --db '$SRV_DB' hook certbot-deploy"
	rc=$?
	is "$rc" 0 "certbot: a certificate for $D, *.$D, www.$D ($(elapsed "$t0") s)"
	[ "$rc" -eq 0 ] || out_tail "$dir/certbot.out" 40
	is "$(sans "$dir/certbot/conf/live/cb/cert.pem")" "$WANT_SANS" "certbot: the certificate names exactly the three"
	like "$(openssl x509 -in "$dir/certbot/conf/live/cb/cert.pem" -noout -issuer 2>&1)" "Pebble" \
		"certbot: issued by pebble"
	like "$(cat "$dir/certbot.out")" "acmezone: published [A-Za-z0-9_-]{43} at ${DL}\\.$CZ\\." \
		"certbot: the auth hook's output names the delegation name"
	if [ "$ACME_DNSSEC" = yes ]; then
		n=$(grep -cE '^;; Flags: qr rd ra ad; QUERY: 1; ANSWER: 0;' "$dir/scans.out")
		[ "$n" -ge 3 ]
		ok $? "certbot: the A queries after each auth hook got NODATA that validates ($n)"
	fi
	store_empty
	ok $? "certbot: no challenge value left in the store"
	# The history: the challenge and the issuance, with the certificate's notAfter.
	is "$(rep 'd("'"$D"'")["last_issuance"]["client"], d("'"$D"'")["last_issuance"]["not_after_unix"]')" \
		"('certbot', $(notafter "$dir/certbot/conf/live/cb/cert.pem"))" \
		"certbot: --deploy-hook recorded the issuance with the notAfter openssl x509 -enddate shows"
	is "$(rep 'd("'"$D"'")["last_challenge"]["client"], d("'"$D"'")["cleaned_up"], d("'"$D"'")["state"]')" \
		"('certbot', True, 'ok')" "certbot: the report shows the challenge, its cleanup, state ok"

	# A customer without the CNAME: the CA fails, certbot says why, cleanup runs.
	t0=$(test_now_ms)
	certbot_run bad "$dir/certbot-bad.out" "env ACMEZONE_DB='$SRV_DB' $AZ hook certbot" \
		-d "nocname.$D"
	rc=$?
	[ "$rc" -ne 0 ]
	ok $? "certbot for a domain without the CNAME fails (exit $rc, $(elapsed "$t0") s)"
	like "$(cat "$dir/certbot-bad.out")" "_acme-challenge\\.nocname\\.$D" \
		"certbot: the CA's error names the name it looked up"
	like "$(cat "$dir/certbot-bad.out")" "acmezone: published [A-Za-z0-9_-]{43} at nocname-${DL}\\.$CZ\\." \
		"certbot: the hook given as 'env ACMEZONE_DB=... acmezone hook certbot' published"
	grep -E 'Detail|NXDOMAIN|No TXT' "$dir/certbot-bad.out" | head -n 3 | while IFS= read -r line; do
		diag "certbot says: $line"
	done
	store_empty
	ok $? "certbot: the failed order's value is cleaned up too"
fi

########################################################################
# lego (exec provider through the acmezone-lego wrapper).

if wants lego; then
	lego_run() {
		local path=$1 log=$2
		shift 2
		env "$@" EXEC_PATH="$top_builddir/cli/acmezone-lego" ACMEZONE="$AZ" \
			EXEC_SEQUENCE_INTERVAL=2 EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=20 \
			LEGO_CA_CERTIFICATES="$dir/ca.pem" \
			timeout -k 5 "$CLIENT_TIMEOUT" \
			lego --server "$DIRURL" --email "admin@$D" --accept-tos --path "$path" \
			--dns exec --dns.resolvers "127.0.0.1:$UB_PORT" --dns.disable-cp \
			-d "$D" -d "*.$D" -d "www.$D" run >"$log" 2>&1
	}

	t0=$(test_now_ms)
	lego_run "$dir/lego" "$dir/lego.out"
	rc=$?
	is "$rc" 0 "lego: a certificate for $D, *.$D, www.$D ($(elapsed "$t0") s)"
	[ "$rc" -eq 0 ] || out_tail "$dir/lego.out" 40
	is "$(sans "$dir/lego/certificates/$D.crt")" "$WANT_SANS" "lego: the certificate names exactly the three"
	like "$(cat "$dir/lego.out")" "Found CNAME entry for \"_acme-challenge\\.$D\\.\": \"${DL}\\.$CZ\\.\"" \
		"lego followed the CNAME itself (the hook got a name in the zone)"
	store_empty
	ok $? "lego: no challenge value left in the store"

	t0=$(test_now_ms)
	lego_run "$dir/lego-raw" "$dir/lego-raw.out" EXEC_MODE=RAW
	rc=$?
	is "$rc" 0 "lego EXEC_MODE=RAW: the hook computes the values ($(elapsed "$t0") s)"
	[ "$rc" -eq 0 ] || out_tail "$dir/lego-raw.out" 40
	is "$(sans "$dir/lego-raw/certificates/$D.crt")" "$WANT_SANS" "lego RAW: the certificate names exactly the three"
	store_empty
	ok $? "lego RAW: no challenge value left in the store"
fi

########################################################################
# dehydrated (HOOK through the acmezone-dehydrated wrapper, HOOK_CHAIN).

if wants dehydrated; then
	mkdir -p "$dir/dh"
	cat >"$dir/dh/config" <<-EOF
	CA="$DIRURL"
	CHALLENGETYPE="dns-01"
	HOOK="$top_builddir/cli/acmezone-dehydrated"
	HOOK_CHAIN="yes"
	BASEDIR="$dir/dh"
	CURL_OPTS="--cacert $dir/ca.pem"
	EOF
	t0=$(test_now_ms)
	ACMEZONE="$AZ" timeout -k 5 "$CLIENT_TIMEOUT" \
		dehydrated --config "$dir/dh/config" --register --accept-terms >"$dir/dehydrated.out" 2>&1 &&
	ACMEZONE="$AZ" timeout -k 5 "$CLIENT_TIMEOUT" \
		dehydrated --config "$dir/dh/config" --cron -d "$D" -d "*.$D" -d "www.$D" \
		>>"$dir/dehydrated.out" 2>&1
	rc=$?
	is "$rc" 0 "dehydrated: a certificate for $D, *.$D, www.$D ($(elapsed "$t0") s)"
	[ "$rc" -eq 0 ] || out_tail "$dir/dehydrated.out" 40
	is "$(sans "$dir/dh/certs/$D/cert.pem")" "$WANT_SANS" "dehydrated: the certificate names exactly the three"
	store_empty
	ok $? "dehydrated: no challenge value left in the store"
	is "$(rep 'd("'"$D"'")["last_issuance"]["client"], d("'"$D"'")["last_issuance"]["not_after_unix"]')" \
		"('dehydrated', $(notafter "$dir/dh/certs/$D/cert.pem"))" \
		"dehydrated: deploy_cert recorded the issuance with its notAfter"

	# The failure path: a hook that publishes a wrong value.  pebble
	# finds the TXT record but not the value, the order fails, dehydrated
	# calls invalid_challenge with the CA's answer: the report says why.
	mkdir -p "$dir/dhw"
	sed -e "s|^BASEDIR=.*|BASEDIR=\"$dir/dhw\"|" -e "s|^HOOK=.*|HOOK=\"$dir/dhw/hook\"|" \
		-e 's|^HOOK_CHAIN=.*|HOOK_CHAIN="no"|' "$dir/dh/config" >"$dir/dhw/config"
	cat >"$dir/dhw/hook" <<-EOF
	#!/bin/sh
	# deploy_challenge and clean_challenge DOMAIN TOKEN VALUE: another value.
	if [ "\$1" = deploy_challenge ] || [ "\$1" = clean_challenge ]; then
		set -- "\$1" "\$2" "\$3" WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRO
	fi
	exec "$top_builddir/cli/acmezone-dehydrated" "\$@"
	EOF
	chmod +x "$dir/dhw/hook"
	t0=$(test_now_ms)
	ACMEZONE="$AZ" timeout -k 5 "$CLIENT_TIMEOUT" \
		dehydrated --config "$dir/dhw/config" --register --accept-terms >"$dir/dehydrated-wrong.out" 2>&1 &&
	ACMEZONE="$AZ" timeout -k 5 "$CLIENT_TIMEOUT" \
		dehydrated --config "$dir/dhw/config" --cron --force -d "$D" \
		>>"$dir/dehydrated-wrong.out" 2>&1
	rc=$?
	[ "$rc" -ne 0 ]
	ok $? "dehydrated with a wrong value: the order fails (exit $rc, $(elapsed "$t0") s)"
	is "$(rep 'd("'"$D"'")["state"], d("'"$D"'")["last_failure"]["client"], d("'"$D"'")["needs_human"]')" \
		"('failed', 'dehydrated', True)" "dehydrated: invalid_challenge shows in the report: failed, needs a human"
	reason=$(rep 'd("'"$D"'")["last_failure"]["reason"]')
	like "$reason" "^(Correct value not found|Incorrect TXT record|No TXT record)" \
		"dehydrated: ... with the CA's reason, the error's detail: $reason"
	"$AZ" --db "$SRV_DB" report --prometheus "$dir/acmezone.prom" --offline
	like "$(cat "$dir/acmezone.prom")" "acmezone_last_failure_timestamp_seconds\\{domain=\"$D\"\\} [0-9]+" \
		"dehydrated: ... and in the Prometheus metrics"
	store_empty
	ok $? "dehydrated: the wrong value is cleaned up"
fi

########################################################################
# Everything stops cleanly.

acme_stop
srv_stop
ok $? "$SRV_STOP_HOW: $SRV_WHAT exits with status 0"

done_testing
