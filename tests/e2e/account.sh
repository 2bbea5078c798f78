#!/bin/bash
# account.sh -- end to end, dns-account-01: two ACME accounts validate one domain at once through pebble 2.10, knotd with mod-acmezone and unbound.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   knotd   serves the challenge zone challenges.test (mod-acmezone) and the
#           customer zone example.test: the records 'acmezone cname
#           --account-uri' prints for each account (a CNAME per account
#           label), and for dn.example.test a DNAME instead;
#   unbound is the CA's resolver (stub zones to knotd);
#   pebble  2.10, Debian sid's (tests/lib/pebble-sid.sh), the CA: it asks
#           _<label>._acme-challenge.<domain> for dns-account-01.
#
# No client in Debian speaks dns-account-01 (certbot 5.5, lego 4.35,
# dehydrated 0.7.2, acme.sh 3.1.5 in sid: checked), so tests/e2e/acme_order.py
# drives the orders on python3-acme, publishing through 'acmezone hook lego'
# (lego's FQDN form, the name the CA asks) and 'acmezone add'.  Negative
# controls: a value at another account's label, no value at all, and an
# account without a CNAME must each fail the order.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

. "$top_srcdir/tests/lib/acme-lib.sh"
acme_order_setup account
diag "pebble $(cat "$(dirname "$PEBBLE")/../../../VERSION" 2>/dev/null) at $PEBBLE"

CZ=challenges.test
D=example.test
DL=${D//./-}
AZ="$top_builddir/acmezone"
ask() {
	"$KDIG" +timeout=2 +retry=1 "$@"
}

KD_TTL=1
knotd_setup "$dir" "$CZ"
out=$(knotd_init --zone "$CZ")
ok $? "acmezone init --zone $CZ"

# write_zone [EXTRA...]: the customer zone: the dns-01 CNAME, a DNAME for
# dn.$D (one record for every account's label, no dns-01 there), and the
# records given; the serial is the time, so a reload takes it.
write_zone() {
	{
		printf '$ORIGIN %s.\n$TTL 5\n' "$D"
		printf '@\tSOA\tns.invalid. hostmaster.invalid. %s 3600 600 86400 1\n' "$(date +%s)"
		printf '@\tNS\tns.invalid.\n@\tA\t127.0.0.1\n'
		az cname "$D"
		printf '_acme-challenge.dn\tDNAME\tdn-%s.%s.\n' "$DL" "$CZ"
		printf '%s\n' "$@"
	} >"$dir/$D.zone.tmp" && mv "$dir/$D.zone.tmp" "$dir/$D.zone"
}
write_zone
knotd_add_zone "$D." "$dir/$D.zone"
knotd_start
diag "knotd on 127.0.0.1@$KD_PORT serves $CZ (mod-acmezone) and $D"

acme_unbound_start "$dir" "$KD_PORT" "$D" "$CZ"
ok 0 "unbound on 127.0.0.1@$UB_PORT resolves $D through knotd"
acme_ca_make "$dir"
ok $? "a throw-away CA and a certificate for 127.0.0.1"
acme_pebble_start "$dir" "$PEBBLE"
ok 0 "pebble 2.10 at $DIRURL, validating through unbound"

# order_add NAME DOMAIN [OWNER [ARGS...]]: NAME's dns-account-01 order for
# DOMAIN, the value written by 'acmezone add' at OWNER (default: the name
# the CA asks, $ACME_NAME at publish time) and deleted afterwards.
order_add() {
	local name=$1 domain=$2 owner=${3:-'$ACME_NAME'}
	shift 2
	[ $# -gt 0 ] && shift
	acme_order "$name" --challenge dns-account-01 -d "$domain" \
		--publish "'$AZ' --db '$KD_DB' add \"$owner\" \"\$ACME_VALUE\"" \
		--cleanup "'$AZ' --db '$KD_DB' del \"$owner\" \"\$ACME_VALUE\"" "$@"
}

# label URI: the account label, computed here independently of the CLI.
label() {
	printf '_%s' "$(printf %s "$1" | sha256sum | head -c 20 | tr a-f A-F |
		basenc --base16 -d | base32 | tr A-Z a-z)"
}

########################################################################
# Two accounts; the customer adds the record 'acmezone cname' prints for each.

acme_order a --register-only
ok $? "account A registered"
acme_order b --register-only
ok $? "account B registered"
# N, for the negative controls, is new: no valid authorisation of its own
# that the CA could reuse (pebble 2.10 still does, now and then, with
# PEBBLE_AUTHZREUSE=0).
acme_order n --register-only
ok $? "account N registered"
UA=$(sed -n 's/^account: //p' "$dir/a.out")
UB=$(sed -n 's/^account: //p' "$dir/b.out")
UN=$(sed -n 's/^account: //p' "$dir/n.out")
LA=$(label "$UA")
LB=$(label "$UB")
LN=$(label "$UN")
diag "account A $UA (label $LA), account B $UB (label $LB)"
[ -n "$UA" ] && [ -n "$UB" ] && [ "$LA" != "$LB" ]
ok $? "two accounts, two labels"

out=$(az cname "$D" --account-uri "$UA")
is "$out" "$LA._acme-challenge.$D.	IN	CNAME	$LA.$DL.$CZ." \
	"cname --account-uri: A's record, the label kept as a label"
write_zone "$out" "$(az cname "$D" --account-uri "$UB")" "$(az cname "$D" --account-uri "$UN")"
kd_ctl zone-reload "$D" >/dev/null
ok $? "the customer zone takes both records (knotc zone-reload)"
cname_seen() {
	[ "$(r "$LB._acme-challenge.$D" CNAME)" = "$LB.$DL.$CZ." ]
}
poll_until 10 cname_seen
ok $? "the CA's resolver sees B's CNAME"

out=$(az check "$D" --account-uri "$UA" --server "127.0.0.1@$UB_PORT" \
	--wait "127.0.0.1@$KD_PORT")
is "$?" 0 "check --account-uri A: exit 0"
like "$out" "^$D: ok: $LA\\._acme-challenge\\.$D\\. CNAME $LA\\.$DL\\.$CZ\\. is in place and the challenge zone answers for it" \
	"check --account-uri: the account's CNAME and its target"
out=$(az check "dn.$D" --account-uri "$UB" --server "127.0.0.1@$UB_PORT" \
	--wait "127.0.0.1@$KD_PORT")
is "$?" 0 "check --account-uri through a DNAME at _acme-challenge.dn.$D: exit 0"
like "$out" "^dn\\.$D: ok: $LB\\._acme-challenge\\.dn\\.$D\\. CNAME $LB\\.dn-$DL\\.$CZ\\. is in place" \
	"... the CNAME the resolver synthesised from the DNAME"
out=$(az check "$D" --account-uri "https://127.0.0.1/no/such/account" --server "127.0.0.1@$UB_PORT" \
	--wait "127.0.0.1@$KD_PORT")
is "$?" 4 "check for an account without a record: exit 4"
L0=$(label "https://127.0.0.1/no/such/account")
like "$out" "^$D: missing: $L0\\._acme-challenge\\.$D\\. has no CNAME .*; the customer adds: $L0\\._acme-challenge\\.$D\\. IN CNAME $L0\\.$DL\\.$CZ\\.\$" \
	"... missing, with the record to add"

########################################################################
# Both accounts validate $D at the same time.

HOOK_A="'$AZ' --db '$KD_DB' hook lego"
rm -f "$dir/go"
acme_order a --challenge dns-account-01 -d "$D" -d "*.$D" --cert "$dir/a.pem" \
	--publish "$HOOK_A present \"\$ACME_NAME.\" \"\$ACME_VALUE\"" \
	--cleanup "$HOOK_A cleanup \"\$ACME_NAME.\" \"\$ACME_VALUE\"" \
	--ready-file "$dir/a.ready" --go-file "$dir/go" &
PA=$!
order_add b "$D" '$ACME_NAME' --cert "$dir/b.pem" \
	--ready-file "$dir/b.ready" --go-file "$dir/go" &
PB=$!
both_ready() {
	[ -e "$dir/a.ready" ] && [ -e "$dir/b.ready" ]
}
poll_until 60 both_ready
ok $? "both accounts published their values"
is "$(az list | awk '{ print $1 }' | LC_ALL=C sort -u | tr '\n' ' ')" \
	"$(printf '%s\n' "$LA.$DL.$CZ." "$LB.$DL.$CZ." | LC_ALL=C sort | tr '\n' ' ')" \
	"the store holds them at _<label>.$DL.$CZ, one name per account"
is "$(az list "$LA.$DL.$CZ" | wc -l)" 2 "A's two values ($D and *.$D) stand side by side"
out=$(dq "$DL.$CZ" TXT)
like "$(head_of "$out")" "^rcode=NOERROR aa=1 tc=0 ancount=0 " \
	"$DL.$CZ, with values only below it, is an empty non-terminal: NODATA"
# The checks above left the resolver a negative answer for each name
# (kept at most 1 s): the CA asks once both values show through it.
resolver_sees() {
	[ "$(r "$LA._acme-challenge.$D" TXT | grep -vc '\.$')" -eq 2 ] &&
		[ "$(r "$LB._acme-challenge.$D" TXT | grep -vc '\.$')" -eq 1 ]
}
poll_until 10 resolver_sees
ok $? "the CA's resolver finds A's two values and B's one through their CNAMEs"
touch "$dir/go"
wait "$PA"
rc=$?
is "$rc" 0 "account A: a certificate for $D and *.$D by dns-account-01"
[ "$rc" -eq 0 ] || out_tail "$dir/a.out" 20
wait "$PB"
rc=$?
is "$rc" 0 "account B: a certificate for $D by dns-account-01, at the same time"
[ "$rc" -eq 0 ] || out_tail "$dir/b.out" 20
like "$(cat "$dir/a.out")" "offered: $D .*dns-account-01" "pebble offered dns-account-01"
like "$(openssl x509 -in "$dir/b.pem" -noout -ext subjectAltName 2>&1)" "DNS:$D" \
	"B's certificate names $D"
is "$(az list)" "" "both cleaned up: nothing left in the store"

order_add b "dn.$D"
rc=$?
is "$rc" 0 "account B: dn.$D through the DNAME (no record per account)"
[ "$rc" -eq 0 ] || out_tail "$dir/b.out" 20

########################################################################
# Negative controls: each order must fail.

order_add n "$D" "$LB._acme-challenge.$D"
is "$?" 1 "N's value at B's label: the CA refuses the order"
like "$(cat "$dir/n.out")" "refused: .*$LN\\._acme-challenge\\.$D" \
	"... having looked at N's own name"
acme_order n --challenge dns-account-01 -d "$D" --publish true
is "$?" 1 "no value published: the CA refuses the order"
order_add c "$D"
is "$?" 1 "an account without a CNAME from the customer: the CA refuses the order"
like "$(sed -n 's/^published: //p' "$dir/c.out")" "^_[a-z2-7]{16}\\._acme-challenge\\.$D TXT " \
	"... though its value was published in the challenge zone"
grep '^refused' "$dir/c.out" | head -n 1 | while IFS= read -r line; do diag "$line"; done
is "$(az list)" "" "nothing left in the store"

acme_stop
knotd_stop
ok $? "knotc stop: knotd exits with status 0"

done_testing
