#!/bin/bash
# persist.sh -- TAP test of 'acmezone persist', 'cname --persist' and their records in the store (dns-persist-01).
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/testlib.sh"

AZ="$top_builddir/acmezone"
[ -x "$AZ" ] || skip_all "$AZ not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/azpersist.XXXXXX") || bail "mktemp -d failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
unset ACMEZONE_DB
export LC_ALL=C

DB="$tmp/store/acmezone.mdb"
CZ=acme.example.net
PN=_validation-persist.example-org.$CZ.	# where example.org's records live
LE=letsencrypt.org
U1=https://acme-v02.api.letsencrypt.org/acme/acct/123
U2=https://acme-v02.api.letsencrypt.org/acme/acct/456

# run ARGS...: the CLI on $DB with $out, $err and $rc set afterwards.
run() {
	"$AZ" --db "$DB" --no-wait "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# records: 'persist list' of example.org, the records' text only.
records() {
	"$AZ" --db "$DB" persist list example.org | sed 's/^[^ ]*  "\(.*\)"  .*$/\1/'
}

"$AZ" --db "$DB" init --zone "$CZ" >/dev/null || bail "init failed"

### cname --persist: the customer's record, beside the dns-01 one

run cname --persist example.org '*.example.org' WWW.Example.Org.
is "$rc" 0 "cname --persist: exit 0"
is "$out" "_validation-persist.example.org.	IN	CNAME	$PN
_validation-persist.www.example.org.	IN	CNAME	_validation-persist.www-example-org.$CZ." \
	"cname --persist: _validation-persist.DOMAIN to _validation-persist.<label>.<zone>, the wildcard at its parent"
run cname example.org
is "$out" "_acme-challenge.example.org.	IN	CNAME	example-org.$CZ." \
	"cname without --persist: the dns-01 record, at another owner"
run cname --persist --json example.org
like "$out" "\"owner\": \"_validation-persist.example.org.\", \"type\": \"CNAME\", \"target\": \"$PN\"" \
	"cname --persist --json: owner and target"
run cname --persist --zone z.test --scheme hashed example.org
like "$out" "^_validation-persist\\.example\\.org\\.	IN	CNAME	_validation-persist\\.[a-z2-7]{32}\\.z\\.test\\.\$" \
	"cname --persist --scheme hashed: the hashed label under _validation-persist"
# A zone long enough that the readable label fits for dns-01 but not with
# the 20 octets of _validation-persist in front: hashed, and said so.
LZ=$(printf 'z%.0s' $(seq 1 60)).$(printf 'y%.0s' $(seq 1 60)).$(printf 'x%.0s' $(seq 1 50)).test
LD=$(printf 'd%.0s' $(seq 1 59)).org
run cname --zone "$LZ" "$LD"
like "$out" "CNAME	d+-org\\.$LZ\\.\$" "a long zone: the dns-01 label is readable"
run cname --persist --zone "$LZ" "$LD"
like "$out" "^; $LD: hashed label, not readable: " "... the dns-persist-01 one is hashed, and a comment says why"

### persist add: the record, never expiring

run persist add example.org --issuer LetsEncrypt.ORG. --account-uri "$U1" -v
is "$rc" 0 "persist add: exit 0"
is "$out" "added $LE at $PN: \"$LE; accounturi=$U1\"" "persist add -v: the record, the issuer normalised"
is "$(records)" "$LE; accounturi=$U1" "persist list: the record"
like "$("$AZ" --db "$DB" persist list example.org)" "  never expires\$" "persist list: it never expires"
run list "$PN"
like "$out" "^$PN  \"$LE; accounturi=" "list NAME shows it at its name in the zone"
like "$out" "  never expires\$" "list: never expires"
run list "$PN" --json
like "$out" "\"expires\": null, \"expires_at\": null, \"expired\": false" "list --json: expires null"
run list example.org
is "$out" "" "... and not at example.org's dns-01 name"

run persist add example.org --issuer "$LE" --account-uri "$U1" -v
is "$rc" 0 "the same record again: exit 0"
like "$out" "^kept " "... kept as it is"
is "$(records | wc -l)" 1 "... still one record"

### One record per issuer: a second is refused, --force replaces

cp "$DB" "$tmp/before"
run persist add example.org --issuer "$LE" --account-uri "$U2"
is "$rc" 3 "another record for the same issuer: exit 3"
like "$err" "^acmezone: persist: example\\.org already has a record for issuer $LE \\(\"$LE; accounturi=.*123\"\\); 'persist del' it first, or give --force to replace it\$" \
	"... the message names the record there and the way out"
cmp -s "$DB" "$tmp/before"
ok $? "... the store unchanged"
run persist add example.org --issuer "$LE" --account-uri "$U1" --wildcard
is "$rc" 3 "the same account with policy=wildcard is another record too: exit 3"

run persist add example.org --issuer "$LE" --account-uri "$U2" --wildcard --force -v
is "$rc" 0 "--force: exit 0"
like "$out" "^replaced $LE at " "... replaced"
is "$(records)" "$LE; accounturi=$U2; policy=wildcard" "... one record, the new one, with policy=wildcard"

### A record longer than one TXT character-string: taken whole

LONGU=https://ca.test/acct/$(printf 'x%.0s' $(seq 1 400))
run persist add long.example.org --issuer ca.test --account-uri "$LONGU"
is "$rc" 0 "a 429-octet record: exit 0"
is "$("$AZ" --db "$DB" persist list long.example.org --json | sed -n 's/.*"record": "\([^"]*\)".*/\1/p')" \
	"ca.test; accounturi=$LONGU" "... stored whole, one value"
"$AZ" --db "$DB" --no-wait persist del long.example.org

### Several issuers at one name; persistUntil bounds the expiry

UNTIL=$(( $(date +%s) + 86400 ))
run persist add example.org --issuer pebble.test --account-uri https://localhost:14000/acct/1 --until "$UNTIL"
is "$rc" 0 "a second issuer with --until UNIX: exit 0"
is "$(records | sort)" "$LE; accounturi=$U2; policy=wildcard
pebble.test; accounturi=https://localhost:14000/acct/1; persistUntil=$UNTIL" \
	"two records at one name, one per issuer"
run persist list example.org --json
like "$out" "\"issuer\": \"pebble.test\", \"record\": \"[^\"]*\", \"expires\": $UNTIL, \"expired\": false" \
	"persist list --json: the store's expiry is persistUntil"
like "$out" "\"issuer\": \"$LE\", \"record\": \"[^\"]*\", \"expires\": null" \
	"... and null for the one that never expires"

run persist add example.org --issuer ca.test --account-uri https://ca.test/a/1 --until 2099-01-31
like "$(records)" "ca.test; accounturi=https://ca.test/a/1; persistUntil=$(date -u -d 2099-01-31 +%s)" "--until DATE: midnight UTC"
run persist add example.org --issuer ca2.test --account-uri https://ca.test/a/1 --until 2099-01-31T12:30:15Z
like "$(records)" "ca2.test; .*persistUntil=$(date -u -d 2099-01-31T12:30:15Z +%s)" "--until DATE-TIME: that second"
now=$(date +%s)
run persist add example.org --issuer ca3.test --account-uri https://ca.test/a/1 --until +90d
p=$(records | sed -n 's/^ca3.test; .*persistUntil=\([0-9]*\)$/\1/p')
ok "$([ -n "$p" ] && [ "$p" -ge $((now + 7776000)) ] && [ "$p" -le $(( $(date +%s) + 7776000 )) ]; echo $?)" \
	"--until +90d: 90 days from now ($p)"
is "$("$AZ" --db "$DB" persist list | wc -l)" 5 "persist list: every record in the store"
run persist add www.example.org --issuer "$LE" --account-uri "$U1"
is "$("$AZ" --db "$DB" persist list | wc -l)" 6 "... of every domain"
run list
is "$(echo "$out" | wc -l)" 6 "list shows them too"

### persist del

run persist del example.org --issuer CA.test -v
is "$rc" 0 "persist del --issuer: exit 0"
is "$out" "removed 1 record(s) at $PN" "... one record removed"
ok "$(records | grep -c '^ca\.test;' | grep -qx 0; echo $?)" "... the one of that issuer"
run persist del example.org --issuer nobody.test -v
is "$rc:$out" "0:removed 0 record(s) at $PN" "deleting an issuer without a record: exit 0, nothing removed"
run persist del example.org -v
is "$out" "removed 4 record(s) at $PN" "persist del without --issuer: every record of the domain"
is "$(records)" "" "... none left"
is "$("$AZ" --db "$DB" persist list | wc -l)" 1 "... and the other domain's stays"

### An expired persistUntil leaves with the values: purged, not served

for d in gone.example.org gone2.example.org; do
	"$AZ" --db "$DB" --no-wait persist add "$d" --issuer "$LE" --account-uri "$U1" \
		--until +2s || bail "add with --until +2s"
done
expired() { ! "$AZ" --db "$DB" persist list --json | grep -q '"expired": false.*gone\|gone.*"expired": false'; }
poll_until 6 expired
ok $? "a record past its persistUntil is listed as expired"
run persist add gone.example.org --issuer "$LE" --account-uri "$U2"
is "$rc" 0 "an expired record of the issuer does not block a new one"
run purge -v
is "$out" "purged 1 expired value(s)" "purge removes the other expired record"
is "$("$AZ" --db "$DB" persist list gone2.example.org)" "" "... gone"
like "$("$AZ" --db "$DB" persist list www.example.org)" "  never expires\$" \
	"... and a record without --until stays"

### Usage

run persist
is "$rc" 2 "persist without an action: exit 2"
run persist show example.org
is "$rc:$err" "2:acmezone: persist: 'show' is not add, del or list (see 'acmezone persist --help')" \
	"an unknown action: exit 2"
run persist add example.org --issuer "$LE"
is "$rc" 2 "persist add without --account-uri: exit 2"
run persist del example.org --wildcard
is "$rc" 2 "persist del --wildcard: exit 2"
run persist list --issuer "$LE"
is "$rc" 2 "persist list --issuer: exit 2"
run check --issuer "$LE" example.org
is "$rc" 2 "check --issuer without --persist: exit 2"
run add --persist example.org abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ
is "$rc" 2 "add --persist: exit 2"
run persist --help
like "$out" "^Usage: acmezone \\[OPTIONS\\] persist add\\|del\\|list DOMAIN" "persist --help"

done_testing
