#!/bin/sh
# clients.sh -- TAP test of delegation names (config, cname, mapping) and the client hooks, without DNS.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"

AZ="$top_builddir/acmezone"
[ -x "$AZ" ] || skip_all "$AZ not built"

tmp=$(mktemp -d) || bail "mktemp -d failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

unset ACMEZONE_DB ACMEZONE_WAIT ACMEZONE_EXPIRE ACMEZONE_PROPAGATION_TIMEOUT
unset CERTBOT_DOMAIN CERTBOT_VALIDATION CERTBOT_AUTH_OUTPUT
LC_ALL=C
export LC_ALL
DB="$tmp/az.mdb"
PLAIN="$tmp/plain.mdb"
Z=acme.example.net
V1=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ
V2=0123456789-_abcdefghijklmnopqrstuvwxyzABCDE
V3=-YXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj

run() {
	"$AZ" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# names [STORE]: "owner value" of every value, sorted, one a line.
names() {
	"$AZ" --db "${1:-$DB}" list | awk '{ print $1, $2 }' | sort
}

# hashed DOMAIN: the hashed label, computed independently of the C code.
hashed() {
	python3 -c 'import hashlib, base64, sys
print(base64.b32encode(hashlib.sha256(sys.argv[1].encode()).digest()[:20]).decode().lower())' "$1"
}

# acme_value KEYAUTH: base64url(SHA-256(KEYAUTH)), with openssl.
acme_value() {
	printf %s "$1" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='
}

### init and config

run --db "$DB" init --zone ACME.Example.NET.
is "$rc" 0 "init --zone: exit 0"
like "$out" "challenge zone $Z\\., scheme readable" "init --zone: reports the zone and scheme"
run --db "$DB" config
is "$out" "zone $Z.
scheme readable
history 10000 events, 90 days" "config: shows them (and the history's default limits)"
run --db "$DB" config --json
is "$out" "{\"zone\": \"$Z.\", \"scheme\": \"readable\", \"history_max\": 10000, \"history_days\": 90, \"peers\": []}" "config --json"

run --db "$tmp/x.mdb" init --scheme hashed
is "$rc" 2 "init --scheme without --zone: usage error"
run --db "$tmp/x.mdb" init --zone 'bad..zone'
is "$rc" 3 "init with an invalid zone: exit 3"
like "$err" "'bad\\.\\.zone' is not a valid zone \\(empty label\\)" "... naming it"
test ! -e "$tmp/x.mdb"
ok $? "... and nothing is created"
run --db "$tmp/x.mdb" init --zone "$Z" --scheme sideways
is "$rc" 3 "init with an unknown scheme: exit 3"
like "$err" "'sideways' is not a naming scheme \\(readable, reversed or hashed\\)" "... naming it"
L55=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
run --db "$tmp/x.mdb" init --zone "$L55.$L55.$L55.$L55.x"
is "$rc" 3 "init with a zone of 227 octets: exit 3"
like "$err" "longer than 222 octets" "... it leaves no room for a label"

"$AZ" --db "$PLAIN" init >/dev/null
run --db "$PLAIN" config
is "$out" "zone (none: names are written as given)
scheme readable
history 10000 events, 90 days" "config of a store without a zone"
run --db "$PLAIN" config --json
is "$out" '{"zone": null, "scheme": "readable", "history_max": 10000, "history_days": 90, "peers": []}' "config --json without a zone"

run --db "$DB" config --scheme reversed
is "$rc" 2 "config: changing the scheme of a store with a zone needs --force"
like "$err" "add --force" "... and says so"
run --db "$DB" config --zone other.example.net
is "$rc" 2 "config: changing the zone needs --force"
run --db "$DB" config --zone "$Z"
is "$rc$err" 0 "config: setting the same zone again is fine"
run --db "$DB" config --scheme reversed --force -v
is "$out" "zone $Z.
scheme reversed
history 10000 events, 90 days" "config --force -v: changed and shown"
"$AZ" --db "$DB" config --scheme readable --force
ok $? "config: back to readable"
cp "$PLAIN" "$tmp/p2.mdb"
run --db "$tmp/p2.mdb" config --zone "$Z" --scheme hashed
is "$rc" 0 "config: a zone on a store that had none needs no --force"

### cname

run --db "$DB" cname example.org '*.example.org' www.example.org xn--bcher-kva.example a-b.c
is "$rc" 0 "cname: exit 0"
is "$out" "_acme-challenge.example.org.	IN	CNAME	example-org.$Z.
_acme-challenge.www.example.org.	IN	CNAME	www-example-org.$Z.
_acme-challenge.xn--bcher-kva.example.	IN	CNAME	xn----bcher--kva-example.$Z.
_acme-challenge.a-b.c.	IN	CNAME	a--b-c.$Z." \
	"cname: zone-file records; *.example.org needs no second one"
run --db "$DB" cname a.b-c a-b.c a--b.c a.b.c
is "$(printf '%s\n' "$out" | awk '{ print $4 }' | tr '\n' ' ')" \
	"a-b--c.$Z. a--b-c.$Z. a----b-c.$Z. a-b-c.$Z. " "cname: '-' and '.' never collide"
run --db "$DB" cname Foo.Example.ORG.
is "$out" "_acme-challenge.foo.example.org.	IN	CNAME	foo-example-org.$Z." "cname: case and the final dot"

run --db "$DB" cname foo.example.com --scheme reversed
is "$out" "_acme-challenge.foo.example.com.	IN	CNAME	com-example-foo.$Z." "cname --scheme reversed"
run --db "$DB" cname example.org --scheme hashed
is "$out" "_acme-challenge.example.org.	IN	CNAME	$(hashed example.org).$Z." \
	"cname --scheme hashed: base32 of SHA-256, as Python computes it"
run --db "$DB" cname www.example.org --zone Other.Test
is "$out" "_acme-challenge.www.example.org.	IN	CNAME	www-example-org.other.test." \
	"cname --zone: another zone (no store read, readable)"
run --db "$tmp/none.mdb" cname example.org --zone other.test
is "$rc" 0 "cname --zone works without a store"

L40=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
run --db "$DB" cname "$L40.$L40.example" intranet
is "$rc" 0 "cname of names that fall back to hashed"
is "$out" "; $L40.$L40.example: hashed label, not readable: the label would be longer than 63 octets
_acme-challenge.$L40.$L40.example.	IN	CNAME	$(hashed "$L40.$L40.example").$Z.
; intranet: hashed label, not readable: a single-label domain
_acme-challenge.intranet.	IN	CNAME	$(hashed intranet).$Z." "... says so in a comment, the record still pasteable"

run --db "$DB" cname example.org www.example.org --json
if command -v python3 >/dev/null 2>&1; then
	printf '%s\n' "$out" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [o["target"] for o in a] == ["example-org.'"$Z"'.", "www-example-org.'"$Z"'."], a
assert all(o["type"] == "CNAME" and o["hashed_because"] is None and o["scheme"] == "readable" for o in a), a
assert a[0]["owner"] == "_acme-challenge.example.org." and a[0]["domain"] == "example.org", a
'
	ok $? "cname --json: parses, with owner, target and scheme"
fi
run --db "$DB" cname intranet --json
like "$out" '"scheme": "hashed", "hashed_because": "a single-label domain"' "cname --json: a fallback says why"

run --db "$DB" cname example.org 'exa mple.org'
is "$rc" 3 "cname with an invalid domain: exit 3"
is "$out" "" "... and no partial output"
like "$err" "'exa mple\\.org' is not a valid domain" "... naming it"
run --db "$DB" cname _acme-challenge.example.org
is "$rc" 3 "cname refuses an _acme-challenge name (it takes the domain)"
run --db "$PLAIN" cname example.org
is "$rc" 1 "cname on a store without a zone: exit 1"
like "$err" "has no challenge zone \\(set it with 'acmezone config --zone ZONE', or give --zone\\)" "... says how to set one"

### add, del, list, apply map names

"$AZ" --db "$DB" --no-wait add example.org "$V1" &&
	"$AZ" --db "$DB" --no-wait add '*.example.org' "$V2" &&
	"$AZ" --db "$DB" --no-wait add _acme-challenge.www.example.org "$V1" &&
	"$AZ" --db "$DB" --no-wait add _ACME-Challenge.A-B.C. "$V1" &&
	"$AZ" --db "$DB" --no-wait add "shared.$Z" "$V1"
ok $? "add: a domain, a wildcard, _acme-challenge names, a name in the zone"
is "$(names)" "a--b-c.$Z. $V1
example-org.$Z. $V2
example-org.$Z. $V1
shared.$Z. $V1
www-example-org.$Z. $V1" "add: each at its delegation name, the zone's own name as is"
run --db "$DB" list _acme-challenge.example.org
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 2 "list _acme-challenge.DOMAIN: the two values of the apex and the wildcard"
run --db "$DB" add -v www.example.org "$V2"
like "$out" "^added $V2 at www-example-org\\.$Z\\., expires " "add -v names the delegation name"
"$AZ" --db "$DB" del '*.example.org' "$V2"
is "$(names | grep -c "^example-org.$Z. ")" 1 "del: exactly the value given (the wildcard's), the apex's stays"
run --db "$DB" del -v www.example.org
is "$out" "removed 2 value(s) at www-example-org.$Z." "del DOMAIN: every value at its name"

printf 'add x.example.org %s\nadd _acme-challenge.y.example.org %s\ndel shared.%s\n' "$V1" "$V1" "$Z" |
	"$AZ" --db "$DB" apply
ok $? "apply maps names too"
is "$(names | grep -E '^(x|y)-|^shared' | tr '\n' ' ')" "x-example-org.$Z. $V1 y-example-org.$Z. $V1 " "apply: mapped"

run --db "$DB" add 'exa mple.org' "$V1"
is "$rc" 3 "add of an invalid name: exit 3"
run --db "$DB" add _x.example.org "$V1"
is "$rc" 3 "add of a name neither in the zone nor a domain: exit 3"
like "$err" "'_x\\.example\\.org' is neither a name in the challenge zone $Z\\. nor a domain" "... says so"

"$AZ" --db "$PLAIN" --no-wait add _acme-challenge.example.org "$V1"
is "$(names "$PLAIN")" "_acme-challenge.example.org. $V1" "without a zone, names are used as given"
run --db "$PLAIN" add '*.example.org' "$V1"
is "$rc" 3 "without a zone, a wildcard is not a name"
"$AZ" --db "$PLAIN" del _acme-challenge.example.org

### hook certbot

export ACMEZONE_DB="$DB"
"$AZ" del example.org
"$AZ" del x.example.org
"$AZ" del y.example.org
"$AZ" del a-b.c

run hook certbot
is "$rc" 2 "certbot hook outside certbot: usage error"
like "$err" "CERTBOT_DOMAIN and CERTBOT_VALIDATION are not set" "... says what is missing"

CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V1 CERTBOT_REMAINING_CHALLENGES=1 \
	run hook certbot
is "$rc" 0 "certbot auth: exit 0"
is "$out" "acmezone: published $V1 at example-test.$Z." "certbot auth: says where (certbot logs it)"
AUTH1=$out
CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V2 CERTBOT_REMAINING_CHALLENGES=0 \
	run hook certbot
AUTH2=$out
is "$(names | grep -c "^example-test.$Z. ")" 2 "certbot auth twice (apex and wildcard): two values"
# A second lineage in the same certbot run: CERTBOT_AUTH_OUTPUT of the
# previous cleanup is still in certbot's environment.
CERTBOT_DOMAIN=other.test CERTBOT_VALIDATION=$V3 CERTBOT_AUTH_OUTPUT=$AUTH1 \
	run hook certbot
is "$rc" 0 "certbot auth with a stale CERTBOT_AUTH_OUTPUT of another value"
like "$out" "published $V3 at other-test" "... is still an auth"
CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V1 CERTBOT_AUTH_OUTPUT=$AUTH1 \
	run hook certbot
is "$rc$out" 0 "certbot cleanup: exit 0, quiet"
is "$(names | grep "^example-test.$Z. ")" "example-test.$Z. $V2" "certbot cleanup: exactly its own value"
CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V2 CERTBOT_AUTH_OUTPUT=$AUTH2 \
	run hook certbot
CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V2 CERTBOT_AUTH_OUTPUT=$AUTH2 \
	run hook certbot
is "$rc" 0 "certbot cleanup twice: still exit 0"
CERTBOT_DOMAIN=other.test CERTBOT_VALIDATION=$V3 CERTBOT_AUTH_OUTPUT='' \
	run hook certbot
is "$(names | grep -c "other-test")" 0 "certbot cleanup with an empty CERTBOT_AUTH_OUTPUT (another auth hook)"
CERTBOT_DOMAIN='*.w.test' CERTBOT_VALIDATION=$V1 run hook certbot auth --expire 90s -v
like "$out" "^added $V1 at w-test\\.$Z\\." "certbot: explicit 'auth', options after the client, a '*.' domain"
exp=$("$AZ" list --json w.test | sed -n 's/.*"expires": \([0-9]*\).*/\1/p')
d=$((exp - $(date +%s)))
test "$d" -ge 85 && test "$d" -le 90
ok $? "certbot: --expire 90s applies ($d s left)"
CERTBOT_DOMAIN=w.test CERTBOT_VALIDATION=$V1 CERTBOT_AUTH_OUTPUT=$AUTH1 run hook certbot cleanup
is "$(names | grep -c "^w-test")" 0 "certbot: explicit 'cleanup'"
CERTBOT_DOMAIN=w.test CERTBOT_VALIDATION=$V1 run hook certbot sideways
is "$rc" 2 "certbot: an unknown word is a usage error"
CERTBOT_DOMAIN=w.test CERTBOT_VALIDATION=not-a-token run hook certbot
is "$rc" 3 "certbot: a value that is no ACME value: exit 3"
is "$(names | grep -c "^example-test\\|other-test")" 0 "certbot: nothing left behind"

# Without a challenge zone a hook would publish at _acme-challenge.<domain>
# of the store, where no customer's CNAME points: refused.
CERTBOT_DOMAIN=plain.test CERTBOT_VALIDATION=$V1 run --db "$PLAIN" hook certbot
is "$rc" 1 "certbot into a store without a challenge zone: exit 1"
like "$err" "^acmezone: hook: '.*plain\\.mdb' has no challenge zone \\(set it with 'acmezone config --zone ZONE'" \
	"... one line saying so and how to set one"
is "$(names "$PLAIN")" "" "... nothing written"

### hook lego

run hook lego present _acme-challenge.lego.test. "$V1"
is "$rc$out$err" 0 "lego present _acme-challenge FQDN: exit 0, quiet"
run hook lego present "lego-test.$Z." "$V2"
is "$rc" 0 "lego present with the FQDN after lego followed the CNAME"
is "$(names | grep "^lego-test" | tr '\n' ' ')" "lego-test.$Z. $V2 lego-test.$Z. $V1 " \
	"lego: both forms at one name"
run hook lego present other.example.com. "$V1"
is "$rc" 3 "lego: a CNAME target outside the zone is refused"
like "$err" "'other\\.example\\.com\\.' is neither in the challenge zone $Z\\. nor an _acme-challenge name" "... clearly"
"$AZ" hook lego cleanup _acme-challenge.lego.test. "$V1" && "$AZ" hook lego cleanup "lego-test.$Z." "$V2"
is "$(names | grep -c '^lego-test')" 0 "lego cleanup: both gone"

KA="tokenTOKEN-_123.thumbprintTHUMB-_456"
run hook -v lego present -- raw.test tokenTOKEN-_123 "$KA"
is "$out" "added $(acme_value "$KA") at raw-test.$Z." "lego RAW: the value is base64url(SHA-256(key authorisation))"
run hook lego cleanup -- raw.test tokenTOKEN-_123 "$KA"
is "$(names | grep -c '^raw-test')" 0 "lego RAW cleanup"
run hook lego present -- raw.test tok "bad keyauth$(printf '\001')"
is "$rc" 3 "lego RAW: a key authorisation with a control character: exit 3"
run hook lego present onlyone
is "$rc" 2 "lego: wrong number of words: usage error"
run hook lego timeout
is "$rc" 2 "lego: an unknown action: usage error"

LEGO="$top_builddir/cli/acmezone-lego"
ACMEZONE="$AZ" "$LEGO" present _acme-challenge.wrap.test. "$V1"
ok $? "acmezone-lego: the EXEC_PATH wrapper runs the hook"
is "$(names | grep '^wrap-test')" "wrap-test.$Z. $V1" "... and the value is there"
ACMEZONE="$AZ" ACMEZONE_EXPIRE=2m "$LEGO" present _acme-challenge.wrap.test. "$V1"
exp=$("$AZ" list --json wrap.test | sed -n 's/.*"expires": \([0-9]*\).*/\1/p')
d=$((exp - $(date +%s)))
test "$d" -ge 115 && test "$d" -le 120
ok $? "ACMEZONE_EXPIRE=2m through the wrapper ($d s left)"
ACMEZONE="$AZ" "$LEGO" cleanup _acme-challenge.wrap.test. "$V1"

### hook dehydrated

run hook dehydrated this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script
is "$rc$out$err" 0 "dehydrated: an unknown handler: exit 0, quiet"
run hook dehydrated request_failure 400 "--weird -x text" GET
is "$rc$out$err" 0 "dehydrated: another handler with option-like words: exit 0"
run hook dehydrated generate_csr d.test /tmp "d.test www.d.test"
is "$rc$out" 0 "dehydrated: generate_csr prints no CSR"

run hook dehydrated deploy_challenge d.test t1 "$V1" d.test t2 "$V2" www.d.test t3 "$V3"
is "$rc" 0 "dehydrated HOOK_CHAIN: three challenges in one call"
is "$(names | grep 'd-test' | tr '\n' ' ')" "d-test.$Z. $V2 d-test.$Z. $V1 www-d-test.$Z. $V3 " \
	"... all three written"
run hook dehydrated clean_challenge d.test t1 "$V1"
is "$(names | grep 'd-test' | tr '\n' ' ')" "d-test.$Z. $V2 www-d-test.$Z. $V3 " \
	"dehydrated without HOOK_CHAIN: one triple, exactly its value"
run hook dehydrated clean_challenge d.test t2 "$V2" www.d.test t3 "$V3"
is "$(names | grep -c 'd-test')" 0 "dehydrated clean_challenge: the rest"
run hook dehydrated deploy_challenge d.test t1 "$V1" d.test t2 bad-value
is "$rc" 3 "dehydrated: one bad value in a chain: exit 3"
is "$(names | grep -c 'd-test')" 0 "... and nothing of the chain is written"
run hook dehydrated deploy_challenge d.test t1
is "$rc" 2 "dehydrated: an incomplete triple: usage error"
DEHY="$top_builddir/cli/acmezone-dehydrated"
ACMEZONE="$AZ" "$DEHY" deploy_challenge wrap.test t "$V1" && ACMEZONE="$AZ" "$DEHY" startup_hook
ok $? "acmezone-dehydrated: the HOOK wrapper"
ACMEZONE="$AZ" "$DEHY" clean_challenge wrap.test t "$V1"
is "$(names | grep -c 'wrap')" 0 "... cleans up too"

run hook acme.sh
is "$rc" 2 "hook for an unknown client: usage error"
like "$err" "acme\\.sh has dns_acmezone\\.sh" "... pointing acme.sh users at the dnsapi file"

### --wait and its environment form (no server answers here)

PORT=$("$top_builddir/tests/lib/freeport")
t0=$(date +%s%3N)
run add --wait "127.0.0.1@$PORT" --propagation-timeout 0.5 wait.test "$V1"
t1=$(date +%s%3N)
is "$rc" 4 "add --wait with no server answering: exit 4 after the timeout"
like "$err" "^acmezone: add: 127\\.0\\.0\\.1@$PORT does not serve $V1 at wait-test\\.$Z\\. after 0\\.5 s \\(last answer: " \
	"... naming the server, value, name and last answer"
test $((t1 - t0)) -ge 450 && test $((t1 - t0)) -lt 3000
ok $? "... within the timeout ($((t1 - t0)) ms)"
is "$(names | grep -c '^wait-test')" 1 "... the value is written all the same (cleanup removes it)"
ACMEZONE="$AZ" ACMEZONE_WAIT="127.0.0.1@$PORT, 127.0.0.1@$PORT" ACMEZONE_PROPAGATION_TIMEOUT=0.3 \
	"$LEGO" present _acme-challenge.wait.test. "$V2" 2>"$tmp/err"
is "$?" 4 "ACMEZONE_WAIT and ACMEZONE_PROPAGATION_TIMEOUT through the lego wrapper"
like "$(cat "$tmp/err")" "after 0\\.3 s" "... with the timeout from the environment"
run add --wait 'nonsense@x' wait.test "$V1"
is "$rc" 3 "--wait with an invalid server: exit 3"
t0=$(date +%s%3N)
run add --wait ns --server "127.0.0.1@$PORT" wait.test "$V1"
t1=$(date +%s%3N)
is "$rc" 4 "add --wait ns with a resolver that does not answer: exit 4"
like "$err" "^acmezone: add: --wait ns: cannot learn the nameservers of $Z\\. \\(no reply .*from 127\\.0\\.0\\.1@$PORT\\)\$" \
	"... saying it cannot learn the NS set, from which resolver"
ACMEZONE="$AZ" ACMEZONE_WAIT=ns ACMEZONE_SERVER="127.0.0.1@$PORT" \
	"$LEGO" present _acme-challenge.wait.test. "$V2" 2>"$tmp/err"
is "$?" 4 "ACMEZONE_WAIT=ns and ACMEZONE_SERVER through the lego wrapper"
like "$(cat "$tmp/err")" "cannot learn the nameservers of .* from 127\\.0\\.0\\.1@$PORT" \
	"... the resolver from the environment"
"$AZ" del wait.test

### dns_acmezone.sh (acme.sh), sourced the way acme.sh does

if command -v dash >/dev/null 2>&1; then SH=dash; else SH=sh; fi
"$SH" -c '
. "$1/cli/dns_acmezone.sh"
ACMEZONE_BIN=$2
dns_acmezone_add _acme-challenge.sh.test "$3" &&
dns_acmezone_add _acme-challenge.sh.test "$4" &&
dns_acmezone_add "shared.$5" "$3" &&
dns_acmezone_rm _acme-challenge.sh.test "$3"
' sh "$top_srcdir" "$AZ" "$V1" "$V3" "$Z"
ok $? "dns_acmezone.sh: add, add, add in the zone, rm, under $SH"
is "$(names | grep -E 'sh-test|shared' | tr '\n' ' ')" "sh-test.$Z. $V3 shared.$Z. $V1 " \
	"dns_acmezone.sh: rm removed exactly its value (and a value starting with '-' works)"
"$SH" -c '. "$1/cli/dns_acmezone.sh"; ACMEZONE_BIN=$2; dns_acmezone_add "bad..name" "$3"' \
	sh "$top_srcdir" "$AZ" "$V1" 2>"$tmp/err"
is "$?" 1 "dns_acmezone_add of a bad name returns 1"
like "$(cat "$tmp/err")" "not a valid name" "... with acmezone's message"
# ACMEZONE_WAIT is split into servers, never globbed into file names.
# (A port of 0 is refused before any name is looked up.)
mkdir "$tmp/glob" && : >"$tmp/glob/a@0" && : >"$tmp/glob/b@0"
(cd "$tmp/glob" && "$SH" -c '. "$1/cli/dns_acmezone.sh"; ACMEZONE_BIN=$2
ACMEZONE_WAIT="*@0 ,127.0.0.1@0"; dns_acmezone_add _acme-challenge.glob.test "$3"' \
	sh "$top_srcdir" "$AZ" "$V1" 2>"$tmp/err")
is "$?" 1 "dns_acmezone_add with ACMEZONE_WAIT='*@0 ,...' returns 1"
like "$(cat "$tmp/err")" "'\\*@0' is not a valid server for --wait" \
	"... naming '*@0' as given, not the files it matches"
is "$(names | grep -c '^glob-test')" 0 "... and nothing is written"
"$SH" -c '. "$1/cli/dns_acmezone.sh"; ACMEZONE_BIN=$2; ACMEZONE_DB=$3
dns_acmezone_add _acme-challenge.plain.test "$4"' sh "$top_srcdir" "$AZ" "$PLAIN" "$V1" 2>"$tmp/err"
is "$?" 1 "dns_acmezone_add into a store without a challenge zone returns 1"
like "$(cat "$tmp/err")" "has no challenge zone" "... saying so"
is "$(names "$PLAIN")" "" "... nothing written"

### dns-account-01: account-labelled names

UA=https://example.com/acme/acct/ExampleAccount
LA=_ujmmovf2vn55tgye			# the draft's example
UB=https://acme.example/acct/2
LB=_$(printf %s "$UB" | openssl dgst -sha256 -binary | head -c 10 | base32 | tr A-Z a-z)
run cname acct.test --account-uri "$UA"
is "$rc $out" "0 $LA._acme-challenge.acct.test.	IN	CNAME	$LA.acct-test.$Z." \
	"cname --account-uri: the label stays a label, in front of both names"
run cname --json '*.acct.test' --account-uri "$UB"
like "$out" "\"owner\": \"$LB\\._acme-challenge\\.acct\\.test\\.\", \"type\": \"CNAME\", \"target\": \"$LB\\.acct-test\\.$Z\\.\", \"scheme\": \"readable\", \"hashed_because\": null, \"account_uri\": \"https://acme\\.example/acct/2\"" \
	"cname --json --account-uri: a wildcard at its parent, the URI in the object"
run cname acct.test --json
like "$out" "\"account_uri\": null" "cname --json without an account: account_uri null"
run add "$LA._acme-challenge.Acct.Test." "$V1"
is "$rc" 0 "add _<label>._acme-challenge.<domain>"
run add acct.test "$V2" --account-uri "$UA"
is "$rc" 0 "add DOMAIN --account-uri: the same name"
run add _acme-challenge.acct.test "$V3" --account-uri "$UB"
is "$rc" 0 "add _acme-challenge.<domain> --account-uri of another account"
run hook lego present "${LB}._acme-challenge.www.acct.test." "$V1"
is "$rc" 0 "hook lego present with the account-labelled FQDN"
CERTBOT_DOMAIN='*.acct.test' CERTBOT_VALIDATION="$V2" ACMEZONE_ACCOUNT_URI="$UB" \
	run hook certbot auth
is "$rc" 0 "hook certbot with ACMEZONE_ACCOUNT_URI"
like "$out" "published $V2 at $LB\\.acct-test\\.$Z\\." "... publishes at that account's name"
run hook dehydrated deploy_challenge de.acct.test t "$V3" --account-uri "$UA"
is "$rc" 2 "dehydrated: --account-uri after the client's words is one of them (usage error)"
run hook --account-uri "$UA" dehydrated deploy_challenge de.acct.test t "$V3"
is "$rc" 0 "hook --account-uri dehydrated: before the client's name"
is "$(names | grep -E 'acct-test' | tr '\n' ' ')" \
	"$(printf '%s\n' "$LA.acct-test.$Z. $V1" "$LA.acct-test.$Z. $V2" \
	   "$LB.acct-test.$Z. $V2" "$LB.acct-test.$Z. $V3" \
	   "$LB.www-acct-test.$Z. $V1" "$LA.de-acct-test.$Z. $V3" | sort | tr '\n' ' ')" \
	"every form lands at _<label>.<delegation name>, one name per account"
run add "$LA.acct-test.$Z" "$V3" --account-uri "$UB"
is "$rc" 0 "a name in the challenge zone is written as given"
run del acct.test --account-uri "$UA"
is "$rc $(names | grep -c "^$LA\\.acct-test")" "0 0" "del DOMAIN --account-uri: every value at that account's name"
is "$(names | grep -c "^$LB\\.acct-test")" 2 "... and not the other account's"
run del "${LB}._acme-challenge.acct.test"
run hook lego cleanup "${LB}._acme-challenge.www.acct.test." "$V1"
run del de.acct.test --account-uri "$UA"
is "$(names | grep -c 'acct-test')" 0 "all account names deleted"
"$SH" -c '. "$1/cli/dns_acmezone.sh"; ACMEZONE_BIN=$2
dns_acmezone_add "$3._acme-challenge.sh.test" "$4"' sh "$top_srcdir" "$AZ" "$LA" "$V1"
ok $? "dns_acmezone.sh: an account-labelled FULLDOMAIN"
is "$(names | grep -c "^$LA\\.sh-test\\.$Z\\. $V1\$")" 1 "... at _<label>.sh-test.$Z"
"$AZ" del "$LA.sh-test.$Z"
run --db "$PLAIN" add _acme-challenge.ns.test "$V1" --account-uri "$UA"
is "$rc $(names "$PLAIN" | tr '\n' ' ')" "0 $LA._acme-challenge.ns.test. $V1 " \
	"without a challenge zone (NS delegation): _acme-challenge.<domain> gets the label in front"
"$AZ" --db "$PLAIN" del "$LA._acme-challenge.ns.test"

### help

for sub in config cname check hook peer serve sync; do
	run "$sub" --help
	like "$rc $out" "^0 Usage: acmezone \\[OPTIONS\\] $sub" "$sub --help"
done

### peers without ssh servers (tests/server/peers.sh has real sshd)

# serve reads its batch on standard input: here without ssh.
PDB="$tmp/p/az.mdb"
mkdir -p "$tmp/p" && chmod 0755 "$tmp/p"
"$AZ" --db "$PDB" init --zone acme.example.net >/dev/null
V=$(acme_value peers)
id=0123456789abcdef
run --db "$PDB" serve </dev/null
is "$rc" 2 "serve without --scope or --unscoped: usage error"
like "$err" "give --scope FILE .* or --unscoped" "... saying which"
printf 'acmezone-batch 1 id=%s time=%s\nadd example.org %s 60\nend id=%s ops=1\n' \
	"$id" "$(date +%s%3N)" "$V" "$id" >"$tmp/batch"
run --db "$PDB" serve --unscoped <"$tmp/batch"
is "$rc $out" "0 acmezone-reply 1 id=$id
ok 1
status id=$id ok" "serve: one batch, answered line by line"
is "$(names "$PDB")" "example-org.acme.example.net. $V" "... and written"
printf 'domain example.org\n' >"$tmp/scope"
SSH_ORIGINAL_COMMAND="cat /etc/shadow" run --db "$PDB" serve --scope "$tmp/scope" <"$tmp/batch"
is "$rc" 2 "serve refuses another command asked of ssh"
like "$err" "refusing the command 'cat /etc/shadow'" "... naming it"
printf 'acmezone-batch 1 id=%s time=1\ndel example.org\nadd example.com %s 60\nend id=%s ops=2\n' \
	"$id" "$V" "$id" >"$tmp/batch2"
run --db "$PDB" serve --scope "$tmp/scope" <"$tmp/batch2"
is "$rc" 3 "serve: a line outside the scope refuses the batch (exit 3)"
like "$out" "refused 2 'example.com' is outside the scope" "... naming the line and the domain"
is "$(names "$PDB")" "example-org.acme.example.net. $V" "... and the del before it is not applied"
printf 'acmezone-batch 1 id=%s time=9999999999999 relay zone=acme.example.net. scheme=readable\nadd example.org %s 60\nend id=%s ops=1\n' \
	"$id" "$(acme_value later)" "$id" >"$tmp/batch3"
run --db "$PDB" serve --scope "$tmp/scope" <"$tmp/batch3"
is "$rc" 3 "serve: a scoped key cannot send a relay (its own clock)"
like "$out" "a relay needs the key of a peer nameserver" "... saying so"
is "$(names "$PDB")" "example-org.acme.example.net. $V" "... nothing written"

# A peer that refuses connections: the write fails at once, or warns.
command -v ssh >/dev/null 2>&1 || bail "no ssh (apt-get install openssh-client)"
run --db "$PDB" peer add down --ssh root@127.0.0.1:1 --address 127.0.0.1
is "$rc" 0 "peer add"
is "$(cut -d' ' -f1-2 "$PDB-peers" | tail -n 1)" "down ssh=root@127.0.0.1:1" "... written to STORE-peers"
export ACMEZONE_SSH_DIR="$tmp/ctl"
run --db "$PDB" add www.example.org "$V"
is "$rc" 4 "a peer that cannot be reached fails the add (exit 4)"
like "$err" "peer down \(root@127.0.0.1:1\) failed: .*Connection refused" "... one line naming it and why"
like "$(names "$PDB")" "www-example-org.acme.example.net. $V" "... this store has it all the same"
run --db "$PDB" add www2.example.org "$V" --peers reachable
is "$rc" 0 "--peers reachable: success"
like "$err" "warning: peer down .* skipped, unreachable" "... with a warning"
ACMEZONE_PEERS=none run --db "$PDB" add www3.example.org "$V"
is "$rc$err" 0 "ACMEZONE_PEERS=none: this store only, quietly"
chmod g+w "$PDB-peers"
run --db "$PDB" add www4.example.org "$V"
is "$rc" 1 "a peers file others may write is refused"
like "$err" "not trusted: others may write it" "... saying why"
chmod g-w "$PDB-peers"
run --db "$PDB" peer del down
is "$rc$(names "$PDB" | grep -c www4)" "00" "peer del; nothing was written by the refused add"

done_testing
