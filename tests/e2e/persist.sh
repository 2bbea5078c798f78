#!/bin/bash
# persist.sh -- end to end, dns-persist-01: certificates from pebble 2.10 on standing records that 'acmezone persist' publishes, through knotd with mod-acmezone and unbound; and the orders that must fail.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   knotd   serves the challenge zone challenges.test (mod-acmezone) and the
#           customer zone example.test with the records 'acmezone cname
#           --persist' prints (_validation-persist.<domain> CNAMEs);
#   unbound is the CA's resolver (stub zones to knotd);
#   pebble  2.10, Debian sid's (tests/lib/pebble-sid.sh), the CA.  Its
#           issuer domain name (caaIdentities) is 238 octets long, so every
#           record here is longer than one TXT character-string: each
#           issuance also proves that the strings the module cuts are
#           joined again by the CA.
#
# Of the clients in Debian only acme.sh 3.1.5 (sid) speaks dns-persist-01
# (doc/persist.md); tests/e2e/acme_order.py drives the orders on
# python3-acme instead, publishing nothing: the records are in place
# before the order, as in production.  Controls that must fail: a
# wildcard without policy=wildcard, persistUntil in the past, another
# account's URL, another issuer, no record.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

. "$top_srcdir/tests/lib/acme-lib.sh"
acme_order_setup persist

CZ=challenges.test
D=example.test
AZ="$top_builddir/acmezone"
ask() {
	"$KDIG" +timeout=2 +retry=1 "$@"
}
# The CA's issuer domain names: four labels, 238 octets; and a short one.
ISSUER=$(printf 'a%.0s' $(seq 1 60)).$(printf 'b%.0s' $(seq 1 60)).$(printf 'c%.0s' $(seq 1 60)).$(printf 'd%.0s' $(seq 1 50)).test
ISSUER2=pebble.test
# The domains, one per case, so that no valid authorisation of one case
# can be reused by another.
DOMS="ok wild past acct issuer none"

KD_TTL=1
knotd_setup "$dir" "$CZ"
out=$(knotd_init --zone "$CZ")
ok $? "acmezone init --zone $CZ"
{
	printf '$ORIGIN %s.\n$TTL 5\n' "$D"
	printf '@\tSOA\tns.invalid. hostmaster.invalid. 1 3600 600 86400 1\n'
	printf '@\tNS\tns.invalid.\n'
	for d in $DOMS; do
		az cname --persist "$d.$D"
	done
} >"$dir/$D.zone"
is "$(grep -c '^_validation-persist\.[a-z]*\.example\.test\.	IN	CNAME	_validation-persist\.[a-z]*-example-test\.challenges\.test\.$' "$dir/$D.zone")" 6 \
	"the customer zone takes the six records 'cname --persist' prints"
knotd_add_zone "$D." "$dir/$D.zone"
knotd_start
diag "knotd on 127.0.0.1@$KD_PORT serves $CZ (mod-acmezone) and $D"

acme_unbound_start "$dir" "$KD_PORT" "$D" "$CZ"
ok 0 "unbound on 127.0.0.1@$UB_PORT resolves $D through knotd"
acme_ca_make "$dir"
ok $? "a throw-away CA and a certificate for 127.0.0.1"
ACME_PEBBLE_CONFIG="\"caaIdentities\": [\"$ISSUER\", \"$ISSUER2\"]" acme_pebble_start "$dir" "$PEBBLE"
ok 0 "pebble 2.10 at $DIRURL, validating through unbound"
like "$(curl -sf --cacert "$dir/ca.pem" "$DIRURL" | tr -d " \n")" "\"caaIdentities\":\\[\"$ISSUER\"" \
	"its directory names the ${#ISSUER}-octet issuer domain name"

# issue CASE KEY DOMAIN...: a dns-persist-01 order by account KEY, output in
# DIR/CASE.out, the certificate in DIR/CASE.pem.
issue() {
	local c=$1 key=$2 args=() d
	shift 2
	for d in "$@"; do
		args+=(-d "$d")
	done
	cp "$dir/$key.key" "$dir/$c.key" 2>/dev/null
	# The record is in place already: nothing to publish.
	acme_order "$c" --challenge dns-persist-01 "${args[@]}" --publish true --cert "$dir/$c.pem"
}

# sans CERT: the certificate's DNS names, sorted, on one line.
sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
		tr ',' '\n' | sed -n 's/^ *DNS://p' | LC_ALL=C sort | tr '\n' ' '
}

# refused STATUS CASE DESC REGEX: the order of CASE exited STATUS 1 (refused),
# and the CA said why (REGEX).
refused() {
	local rc=$1
	is "$rc" 1 "$3: the order is refused"
	like "$(grep '^refused: ' "$dir/$2.out")" "$4" "$3: pebble says why"
	[ "$rc" = 1 ] || tail -n 5 "$dir/$2.out" | while IFS= read -r l; do diag "$l"; done
}

########################################################################
# Two accounts: A (the records' account) and B.

acme_order a --register-only
ok $? "account A registered"
acme_order b --register-only
ok $? "account B registered"
UA=$(sed -n 's/^account: //p' "$dir/a.out")
UB=$(sed -n 's/^account: //p' "$dir/b.out")
diag "account A $UA, account B $UB"
[ -n "$UA" ] && [ -n "$UB" ] && [ "$UA" != "$UB" ]
ok $? "two accounts, two URLs"

########################################################################
# The records, published once.

padd() {
	az persist add "$@" --issuer "$ISSUER"
}
padd "ok.$D" --account-uri "$UA"
ok $? "persist add ok.$D for A"
padd "wild.$D" --account-uri "$UA"
ok $? "persist add wild.$D for A, no policy=wildcard yet"
padd "acct.$D" --account-uri "$UB"
ok $? "persist add acct.$D for another account (B)"
az persist add "issuer.$D" --issuer ca.invalid --account-uri "$UA"
ok $? "persist add issuer.$D for another issuer"
# persistUntil in the past: persist add refuses it, so the record goes in
# with 'add --raw' at the name 'cname --persist' prints.  A --raw value is
# at most 255 octets: this one names the CA's second, short issuer name.
PN=$(az cname --persist "past.$D" | cut -f4)
az add "$PN" --raw --expire 1h "$ISSUER2; accounturi=$UA; persistUntil=1000"
ok $? "add --raw at $PN: a record with persistUntil=1000"
out=$(az persist list --json)
is "$(printf '%s\n' "$out" | grep -c "\"issuer\": \"$ISSUER\"")" 3 "persist list: three records of the CA's issuer"

# What the CA's resolver sees: one RR, two strings (the record is longer
# than 255 octets), through the customer's CNAME.
out=$(ask @127.0.0.1 -p "$UB_PORT" +short TXT "_validation-persist.ok.$D")
REC="$ISSUER; accounturi=$UA"
is "$(printf '%s\n' "$out" | tail -n 1)" "\"${REC:0:255}\" \"${REC:255}\"" \
	"unbound: the ${#REC}-octet record, as two character-strings, through the CNAME"

out=$(az check --persist "ok.$D" --issuer "$ISSUER" --account-uri "$UA" --server "127.0.0.1@$UB_PORT" \
	--wait "127.0.0.1@$KD_PORT")
is "$?" 0 "check --persist --issuer --account-uri: exit 0"
like "$out" "^ok\\.$D: ok: _validation-persist\\.ok\\.$D\\. CNAME _validation-persist\\.ok-example-test\\.$CZ\\. is in place and the challenge zone answers for it \\(1 value\\(s\\) published\\); so do all 1 address\\(es\\) of its nameservers; records: $ISSUER \\($UA\\)\$" \
	"check --persist: the CNAME, the zone and the record"
out=$(az check --persist "acct.$D" --issuer "$ISSUER" --account-uri "$UA" --server "127.0.0.1@$UB_PORT" \
	--wait "127.0.0.1@$KD_PORT")
is "$?" 4 "check --persist for another account's record: exit 4"
like "$out" "^acct\\.$D: no-record: .*; but no dns-persist-01 record for issuer $ISSUER with accounturi $UA is served \\(served: $ISSUER \\($UB\\)\\)\$" \
	"... no-record, and what is served"
out=$(az check --persist "none.$D" --server "127.0.0.1@$UB_PORT" \
	--wait "127.0.0.1@$KD_PORT")
is "$?" 4 "check --persist without a record: exit 4"
like "$out" "^none\\.$D: no-record: .*; but no dns-persist-01 record is served \\(none at all\\)\$" \
	"... no-record: the CNAME and the zone are right, the record is missing"

########################################################################
# Issuance.

issue ok a "ok.$D"
is "$?" 0 "dns-persist-01: a certificate for ok.$D, no hook, nothing written"
is "$(sans "$dir/ok.pem")" "ok.$D " "... for ok.$D"
like "$(grep '^offered: ' "$dir/ok.out")" "dns-persist-01" "... the CA offered dns-persist-01"

issue wild1 a "*.wild.$D"
refused $? wild1 "a wildcard without policy=wildcard" "policy mismatch: expected \"wildcard\", got \"\""

az persist add "wild.$D" --issuer "$ISSUER" --account-uri "$UA" --wildcard 2>"$dir/err"
is "$?" 3 "persist add --wildcard over A's record: refused without --force"
like "$(cat "$dir/err")" "already has a record for issuer $ISSUER" "... it says why"
az persist add "wild.$D" --issuer "$ISSUER" --account-uri "$UA" --wildcard --force
ok $? "persist add --wildcard --force: replaced"
# The CA's resolver may hold the old record for the module's TTL (1 s).
wild_seen() {
	ask @127.0.0.1 -p "$UB_PORT" +short TXT "_validation-persist.wild.$D" |
		tr -d '" ' | grep -q 'policy=wildcard'
}
poll_until 10 wild_seen
ok $? "the CA's resolver sees policy=wildcard"
issue wild2 a "wild.$D" "*.wild.$D"
is "$?" 0 "with policy=wildcard: a certificate for wild.$D and *.wild.$D"
is "$(sans "$dir/wild2.pem")" "*.wild.$D wild.$D " "... with both names"

########################################################################
# Orders that must fail.

issue past a "past.$D"
refused $? past "persistUntil in the past" "issuer-domain-name \"$ISSUER2\", validation time .* is after persistUntil 1970-01-01T00:16:40Z"
issue acct a "acct.$D"
refused $? acct "the record names another account" "accounturi mismatch: expected \"$UA\", got \"$UB\""
issue issuer a "issuer.$D"
refused $? issuer "the record names another issuer" "No valid TXT record found for DNS-PERSIST-01 challenge"
issue none a "none.$D"
refused $? none "no record at all" "Error retrieving TXT records for DNS-PERSIST-01 challenge: DNS lookup for \"_validation-persist\\.none\\.$D\""

########################################################################
# persist del: the standing permission ends.

az persist del "ok.$D" --issuer "$ISSUER"
ok $? "persist del ok.$D"
gone() {
	[ -z "$(ask @127.0.0.1 -p "$UB_PORT" +short TXT "_validation-persist.ok.$D" | grep accounturi)" ]
}
poll_until 15 gone
ok $? "the CA's resolver no longer sees it (after the TTLs)"
cp "$dir/a.key" "$dir/again.key"
issue again a "ok.$D"
refused $? again "an order for ok.$D after persist del" "Error retrieving TXT records for DNS-PERSIST-01 challenge"

done_testing
