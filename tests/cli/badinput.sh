#!/bin/bash
# badinput.sh -- one check per row of doc/bad-input.md: exit status, one line naming the problem, the store byte for byte unchanged.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"

AZ="$top_builddir/acmezone"
AZTOOL="$top_builddir/tests/lib/aztool"
DOC="$top_srcdir/doc/bad-input.md"
[ -x "$AZ" ] || skip_all "$AZ not built"
[ -x "$AZTOOL" ] || bail "tests/lib/aztool is not built"
[ -r "$DOC" ] || bail "no $DOC"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/azbad.XXXXXX") || bail "mktemp -d failed"
made_user=
cleanup() {
	[ -n "$made_user" ] && userdel "$made_user" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
unset ACMEZONE_DB ACMEZONE_MAPSIZE
export LC_ALL=C

DB="$tmp/store/acmezone.mdb"
N=_acme-challenge.example.org
V=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ

"$AZ" --db "$DB" init >/dev/null || bail "init failed"
"$AZ" --db "$DB" --no-wait add "$N" "$V" || bail "add failed"
"$AZ" --db "$DB" --no-wait add other.example.org "$V" --expire 2h || bail "add failed"

# A second, unprivileged user for the rows about other users' files.
OTHER=
if [ "$(id -u)" -eq 0 ]; then
	if id nobody >/dev/null 2>&1; then
		OTHER=nobody
	elif useradd -r -M -s /usr/sbin/nologin azbadin 2>/dev/null; then
		OTHER=azbadin
		made_user=azbadin
	fi
fi
OTHER_GROUP=
[ -n "$OTHER" ] && OTHER_GROUP=$(id -gn "$OTHER")

# as_other CMD...: run CMD as $OTHER.
as_other() {
	setpriv --reuid="$OTHER" --regid="$OTHER_GROUP" --clear-groups -- "$@"
}

rows=""

# check ID STATUS REGEX CMD...: run CMD (normally the CLI); it must exit
# STATUS with one line on stderr matching REGEX, print nothing, and leave
# $DB and $TARGET (if set) as they were.
check() {
	local id=$1 want=$2 re=$3
	shift 3
	rows="$rows $id"
	cp "$DB" "$tmp/db.before"
	[ -n "${TARGET:-}" ] && [ -f "$TARGET" ] && cp "$TARGET" "$tmp/target.before"
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	local err
	err=$(cat "$tmp/err")
	local bad=""
	[ "$rc" = "$want" ] || bad="$bad exit $rc (want $want);"
	[ "$(wc -l <"$tmp/err" | tr -d ' ')" = 1 ] || bad="$bad $(wc -l <"$tmp/err") lines on stderr;"
	printf '%s\n' "$err" | grep -Eq -- "^acmezone: .*$re" || bad="$bad message does not match '$re';"
	[ -s "$tmp/out" ] && bad="$bad output on stdout;"
	cmp -s "$DB" "$tmp/db.before" || bad="$bad the store changed;"
	if [ -n "${TARGET:-}" ] && [ -f "$TARGET" ]; then
		cmp -s "$TARGET" "$tmp/target.before" || bad="$bad $TARGET changed;"
	fi
	if [ -z "$bad" ]; then
		ok 0 "$id: exit $want, one line, unchanged: $err"
	else
		ok 1 "$id:$bad"
		diag "stderr: $err"
	fi
}

skip_row() {
	rows="$rows $1"
	ok 0 "$1 # SKIP $2"
}

# The CLI on the good store.
az() {
	"$AZ" --db "$DB" --no-wait "$@"
}

# apply_text TEXT [ARGS]: apply TEXT (printf format) from a file.
apply_file() {
	printf "$1" >"$tmp/batch"
	shift
	az apply "$tmp/batch" "$@"
}

### Names
LONG=$(printf 'abcdefghi.%.0s' $(seq 1 26))org
L64=$(printf 'a%.0s' $(seq 1 64))
check N1 3 "add: '.*' is not a valid name \\(name longer than 255 octets\\)" az add "$LONG" "$V"
check N2 3 "add: '$L64\\.org' is not a valid name \\(label longer than 63 octets\\)" az add "$L64.org" "$V"
check N3 3 "add: 'a\\.\\.b\\.org' is not a valid name \\(empty label\\)" az add a..b.org "$V"
check N4 3 "add: '' is not a valid name \\(empty name\\)" az add '' "$V"
check N5 3 "del: '\\.' is not a valid name \\(empty name\\)" az del .
check N6 3 "add: '\\\\xc3\\\\xa9\\.org' is not a valid name \\(non-ASCII character" az add $'\xc3\xa9.org' "$V"
check N7 3 "add: 'exa mple\\.org' is not a valid name \\(label has a character other than" az add 'exa mple.org' "$V"
check N8 3 "add: 'a-\\.org' is not a valid name \\(label starts or ends with '-'\\)" az add a-.org "$V"
check N9 3 "add: 'a_b\\.org' is not a valid name \\(label has a character other than" az add a_b.org "$V"
check N10 3 "add: '\\\\x1b\\[31m\\.org' is not a valid name" az add $'\x1b[31m.org' "$V"
DB2="$tmp/zoned/acmezone.mdb"
"$AZ" --db "$DB2" init --zone acme.example.net >/dev/null || bail "init --zone failed"
TARGET="$DB2" check N11 3 "add: 'ACME\\.example\\.net\\.' is the apex of the challenge zone" \
	"$AZ" --db "$DB2" --no-wait add ACME.example.net. "$V"

### Account URIs and labels (dns-account-01)
U_A=https://example.com/acme/acct/1
check A1 3 "add: 'http://example\\.com/acct/1' is not an ACME account URI \\(not an https URL\\)" \
	az add example.org "$V" --account-uri http://example.com/acct/1
check A2 3 "cname: 'https:///x' is not an ACME account URI \\(no host after https://\\)" \
	az cname example.org --zone acme.example.net --account-uri https:///x
check A3 3 "check: 'https://a b/1' is not an ACME account URI \\(a space, control or non-ASCII" \
	az check example.org --zone acme.example.net --account-uri 'https://a b/1'
check A4 3 "add: '_foo\\._acme-challenge\\.example\\.org' has a malformed account label \\('_foo'" \
	az add _foo._acme-challenge.example.org "$V"
TARGET="$DB2" check A5 3 "hook: '_ujmmovf2vn55tg1e\\._acme-challenge\\.example\\.org\\.' has a malformed account label" \
	"$AZ" --db "$DB2" --no-wait hook lego present _ujmmovf2vn55tg1e._acme-challenge.example.org. "$V"
TARGET="$DB2" check A6 3 "add: '_ujmmovf2vn55tgye\\._acme-challenge\\.example\\.org' has another account label than --account-uri's \\(_vrr7uudrklshxb6l\\)" \
	"$AZ" --db "$DB2" --no-wait add _ujmmovf2vn55tgye._acme-challenge.example.org "$V" --account-uri "$U_A"
Z200=$(printf 'a%.0s' $(seq 1 63)).$(printf 'b%.0s' $(seq 1 63)).$(printf 'c%.0s' $(seq 1 63)).test
D40=$(printf 'd%.0s' $(seq 1 40)).org
check A7 3 "cname: '$D40': with the account label its name in the challenge zone would be longer than 255 octets" \
	az cname "$D40" --zone "$Z200" --account-uri "$U_A"
TARGET="$DB2" check A8 3 "hook: 'ftp://x/' is not an ACME account URI \\(not an https URL\\)" \
	env CERTBOT_DOMAIN=example.org CERTBOT_VALIDATION="$V" ACMEZONE_ACCOUNT_URI=ftp://x/ \
	"$AZ" --db "$DB2" --no-wait hook certbot

### Values
check V1 3 "add: '.{42}' is not a valid value \\(not an ACME DNS-01 value \\(43 characters" az add "$N" "${V:0:42}"
check V2 3 "add: '.*\\+' is not a valid value \\(not an ACME DNS-01 value \\(a character outside base64url" az add "$N" "${V:0:42}+"
check V3 3 "add: '' is not a valid value \\(empty value\\)" az add "$N" ''
check V4 3 "add: 'x+' is not a valid value \\(longer than 255 octets\\)" az add --raw "$N" "$(printf 'x%.0s' $(seq 1 256))"
check V5 3 "add: 'a\\\\x09b' is not a valid value \\(has a non-printable or non-ASCII character\\)" az add --raw "$N" $'a\tb'
check V6 3 "add: 'caf\\\\xc3\\\\xa9' is not a valid value \\(has a non-printable or non-ASCII character\\)" az add --raw "$N" $'caf\xc3\xa9'
check V7 3 "del: 'short' is not a valid value" az del "$N" short
for i in $(seq 1 241); do
	printf 'add %s %03d%0252d\n' "$N" "$i" 0
done >"$tmp/toobig"
check V8 3 "apply: .*too large: the values at one name must fit in one DNS message" \
	az apply --raw "$tmp/toobig"

### dns-persist-01 records (persist add), on the zoned store
PD=example.org
PI="--issuer letsencrypt.org"
PU=https://acme-v02.api.letsencrypt.org/acme/acct/1
pz() {
	"$AZ" --db "$DB2" --no-wait persist "$@"
}
pz add "$PD" $PI --account-uri "$PU" || bail "persist add failed"
TARGET="$DB2" check R1 3 "persist: 'a_b\\.org' is not a valid issuer domain name \\(" \
	pz add "$PD" --issuer a_b.org --account-uri "$PU"
TARGET="$DB2" check R1 3 "persist: '\\*\\.ca\\.test' is not a valid issuer domain name \\(a wildcard\\)" \
	pz add "$PD" --issuer '*.ca.test' --account-uri "$PU"
TARGET="$DB2" check R2 3 "persist: 'http://ca\\.test/acct/1' is not an ACME account URI \\(not an https URL\\)" \
	pz add "$PD" $PI --account-uri http://ca.test/acct/1
TARGET="$DB2" check R2 3 "persist: 'https:///acct/1' is not an ACME account URI \\(no host after https://\\)" \
	pz add "$PD" $PI --account-uri https:///acct/1
TARGET="$DB2" check R2 3 "persist: 'HTTPS://ca\\.test/acct/1' is not an https account URL for a record \\(write the scheme https:// in lower case" \
	pz add "$PD" $PI --account-uri HTTPS://ca.test/acct/1
TARGET="$DB2" check R3 3 "persist: 'https://ca\\.test/a;b' is not an https account URL for a record \\(a ';', which would end the accounturi parameter\\)" \
	pz add "$PD" $PI --account-uri 'https://ca.test/a;b'
TARGET="$DB2" check R3 3 "persist: 'https://ca\\.test/a\"b' is not an https account URL for a record \\(a character a URI cannot hold" \
	pz add "$PD" $PI --account-uri 'https://ca.test/a"b'
TARGET="$DB2" check R3 3 "persist: 'https://ca\\.test/a b' is not an ACME account URI \\(a space, control or non-ASCII character" \
	pz add "$PD" $PI --account-uri 'https://ca.test/a b'
TARGET="$DB2" check R3 3 "persist: 'https://ca\\.test/\\\\x1b\\[31m' is not an ACME account URI" \
	pz add "$PD" $PI --account-uri $'https://ca.test/\x1b[31m'
TARGET="$DB2" check R4 3 "persist: '1000' is in the past \\(1970-01-01T00:16:40Z\\): a CA would refuse the record" \
	pz add "$PD" $PI --account-uri "$PU" --until 1000
TARGET="$DB2" check R4 3 "persist: '2001-01-01' is in the past" \
	pz add "$PD" $PI --account-uri "$PU" --until 2001-01-01
for t in yesterday 2027-02-30 2027-01-31T25:00Z 1234567890123 10000-01-01 +0s; do
	re_t=$(printf '%s' "$t" | sed 's/[.+*[]/\\&/g')
	TARGET="$DB2" check R5 3 "persist: '$re_t' is not a valid time \\(UNIX seconds, 2027-01-31, 2027-01-31T12:00:00Z or \\+DURATION" \
		pz add "$PD" $PI --account-uri "$PU" --until "$t"
done
LONGURI=https://ca.test/$(printf 'a%.0s' $(seq 1 70000))
TARGET="$DB2" check R6 3 "persist: 'https://ca\\.test/a+\\.\\.\\.' is not an ACME account URI \\(longer than 1024 characters\\)" \
	pz add "$PD" $PI --account-uri "$LONGURI"
TARGET="$DB2" check R7 3 "persist: example\\.org already has a record for issuer letsencrypt\\.org \\(\"letsencrypt\\.org; accounturi=$PU\"\\); 'persist del' it first, or give --force to replace it" \
	pz add "$PD" $PI --account-uri "$PU/2"
TARGET="$DB2" check R7 3 "persist: example\\.org already has a record for issuer letsencrypt\\.org" \
	pz add "$PD" $PI --account-uri "$PU" --wildcard
TARGET="$DB2" check R8 3 "persist: '\\*\\.example\\.org': a wildcard is authorised by the record of example\\.org with --wildcard" \
	pz add "*.$PD" $PI --account-uri "$PU" --wildcard

### Durations
for d in D1:0 D2:-5m D3:5x D4:1.5h D5:3651d D6:99999999999999999999 D7: D8:5m5; do
	id=${d%%:*} text=${d#*:}
	check "$id" 3 "add: '$(printf '%s' "$text" | sed 's/[.]/\\./g')' is not a valid duration \\(1s to 3650d" \
		az add "$N" "$V" --expire "$text"
done
check D9 3 "'1\\.2345' is not a valid wait timeout \\(0 to 3600 seconds" "$AZ" --db "$DB" --wait-timeout 1.2345 add "$N" "$V"

check D10 3 "add: ACMEZONE_MAPSIZE='12X' is not a map size \\(64K to 1024G\\)" \
	env ACMEZONE_MAPSIZE=12X "$AZ" --db "$DB" --no-wait add "$N" "$V"

### Commands and options
check U1 2 "'frobnicate' is not a command" az frobnicate
check U2 2 "add: unknown option '--bogus'" az add "$N" "$V" --bogus
check U3 2 "list: option '--raw' does not apply here" az list --raw
check U4 2 "add: missing VALUE" az add "$N"
check U5 2 "purge: unexpected argument 'now'" az purge now
check U6 2 "add: option '--expire' needs a value" az add "$N" "$V" --expire
check U7 2 "add: option '--raw' takes no value" az add "$N" "$V" --raw=1
check U8 2 "missing command" "$AZ" --db "$DB"

### Batch lines
check B1 3 "apply: line 2: 'put' is not an operation \\(expected add or del\\)" \
	apply_file "add a.example.org $V\nput b.example.org $V\n"
check B2 3 "apply: line 1: expected 'add NAME VALUE \\[DURATION\\]'" apply_file "add a.example.org\n"
check B3 3 "apply: line 1: expected 'del NAME \\[VALUE\\]'" apply_file "del a.example.org $V extra\n"
check B4 3 "apply: line 2: 'bad\\.\\.name' is not a valid name \\(empty label\\)" \
	apply_file "add new.example.org $V\nadd bad..name $V\nadd new2.example.org $V\n"
check B5 3 "apply: line 1: 'nope' is not a valid value" apply_file "add a.example.org nope\n"
check B6 3 "apply: line 1: '5x' is not a valid duration" apply_file "add a.example.org $V 5x\n"
printf 'add a.example.org %s\nadd %s.org %s\n' "$V" "$(printf 'x%.0s' $(seq 1 4100))" "$V" >"$tmp/long"
check B7 3 "apply: line 2: longer than 4096 bytes" az apply "$tmp/long"
check B8 3 "apply: line 2: contains a NUL byte" apply_file "add a.example.org $V\nadd b\0.example.org $V\n"
check B9 3 "apply: line 1: '\\\\xff\\\\xfe.*' is not an operation" apply_file '\377\376\375\200 junk\n'
printf 'add new.example.org %s\nadd bad..name %s\n' "$V" "$V" >"$tmp/stdin"
check B10 3 "apply: line 2: 'bad\\.\\.name' is not a valid name" bash -c '"$1" --db "$2" --no-wait apply - <"$3"' _ "$AZ" "$DB" "$tmp/stdin"
check B11 3 "apply: line 2000001: more than 2000000 operations in one batch" \
	bash -c 'yes "del a.example.org" | head -n 2000001 | "$1" --db "$2" --no-wait apply -' _ "$AZ" "$DB"

### Files
check F1 1 "apply: cannot open '$tmp/nofile' \\(No such file or directory\\)" az apply "$tmp/nofile"
mkdir "$tmp/adir"
check F2 1 "apply: cannot read '$tmp/adir' \\(Is a directory\\)" az apply "$tmp/adir"
if [ -n "$OTHER" ] && command -v setpriv >/dev/null 2>&1; then
	chmod 0755 "$tmp"
	printf 'add a.example.org %s\n' "$V" >"$tmp/secret"
	chmod 0600 "$tmp/secret"
	TARGET="$tmp/secret" check F3 1 "apply: cannot open '$tmp/secret' \\(Permission denied\\)" \
		as_other "$AZ" --db "$DB" --no-wait apply "$tmp/secret"
else
	skip_row F3 "needs root and a second user"
fi
check F4 1 "add: no store at '$tmp/none\\.mdb' \\(create one with 'acmezone init'\\)" "$AZ" --db "$tmp/none.mdb" add "$N" "$V"
test ! -e "$tmp/none.mdb" && test ! -e "$tmp/none.mdb-lock"
ok $? "F4: and nothing was created"
check F5 1 "add: cannot open '$tmp/adir' \\(.*Is a directory\\)" "$AZ" --db "$tmp/adir" add "$N" "$V"
mkfifo "$tmp/fifo"
check F6 1 "add: cannot open '$tmp/fifo' \\(not trusted: it is not a regular file\\)" "$AZ" --db "$tmp/fifo" add "$N" "$V"
head -c 65536 /dev/urandom >"$tmp/junk.mdb"
TARGET="$tmp/junk.mdb" check F7 1 "add: cannot open '$tmp/junk\\.mdb' \\(not an acmezone database" "$AZ" --db "$tmp/junk.mdb" add "$N" "$V"
: >"$tmp/empty.mdb"
TARGET="$tmp/empty.mdb" check F8 1 "add: cannot open '$tmp/empty\\.mdb' \\(not an acmezone database" "$AZ" --db "$tmp/empty.mdb" add "$N" "$V"
test ! -s "$tmp/empty.mdb"
ok $? "F8: the empty file stays empty (LMDB was not asked to initialise it)"
mkdir "$tmp/cut"
"$AZ" --db "$tmp/cut/a.mdb" init >/dev/null
for i in $(seq 1 300); do echo "add n$i.example.org $V"; done | "$AZ" --db "$tmp/cut/a.mdb" --no-wait apply
truncate -s $(( $(stat -c %s "$tmp/cut/a.mdb") / 2 )) "$tmp/cut/a.mdb"
TARGET="$tmp/cut/a.mdb" check F9 1 "add: cannot open '.*' \\(corrupt data \\(.*truncated file\\)\\)" "$AZ" --db "$tmp/cut/a.mdb" add "$N" "$V"
mkdir "$tmp/new"
"$AZ" --db "$tmp/new/a.mdb" init >/dev/null
"$AZTOOL" schema "$tmp/new/a.mdb" 2
TARGET="$tmp/new/a.mdb" check F10 1 "add: cannot open '.*' \\(unsupported schema version \\(written by a newer acmezone\\?\\)\\)" \
	"$AZ" --db "$tmp/new/a.mdb" add "$N" "$V"
TARGET="$tmp/new/a.mdb" check F10 1 "list: cannot open '.*' \\(unsupported schema version" "$AZ" --db "$tmp/new/a.mdb" list
rows=${rows% F10}	# one row, two checks
if [ -n "$OTHER" ] && command -v setpriv >/dev/null 2>&1; then
	mkdir -m 0755 "$tmp/priv"
	"$AZ" --db "$tmp/priv/a.mdb" init --group 0 >/dev/null
	chmod 0600 "$tmp/priv/a.mdb"
	TARGET="$tmp/priv/a.mdb" check F11 1 "add: cannot open '.*' \\(permission denied" \
		as_other "$AZ" --db "$tmp/priv/a.mdb" --no-wait add "$N" "$V"
else
	skip_row F11 "needs root and a second user"
fi

# Every echo of a path is escaped, as any other input.
ESC=$(printf '\033')
check F12 1 "add: no store at '$tmp/\\\\x1b\\[31mnone\\.mdb' \\(create one" "$AZ" --db "$tmp/${ESC}[31mnone.mdb" add "$N" "$V"
check F13 1 "apply: cannot open '$tmp/\\\\x1b\\[31mnofile' \\(No such file or directory\\)" az apply "$tmp/${ESC}[31mnofile"
: >"$tmp/${ESC}esc.mdb"
TARGET="$tmp/${ESC}esc.mdb" check F14 1 "init: '$tmp/\\\\x1besc\\.mdb' already exists" "$AZ" --db "$tmp/${ESC}esc.mdb" init

### Arguments checked before the transaction begins
check W1 3 "add: '127\\.0\\.0\\.1@0' is not a valid server for --wait \\(the port is not" \
	az add "$N" "$V" --wait 127.0.0.1@0
TARGET="$DB2" check W2 3 "hook: '127\\.0\\.0\\.1@0' is not a valid server for --wait" \
	env CERTBOT_DOMAIN=w.example.org CERTBOT_VALIDATION="$V" ACMEZONE_WAIT=127.0.0.1@0 \
	"$AZ" --db "$DB2" --no-wait hook certbot
check W3 3 "add: 'ns@x' is not a valid server for --wait \\(the port is not" \
	az add "$N" "$V" --wait ns@x
check W4 3 "add: 'nonsense@x' is not a valid server \\(" \
	az add "$N" "$V" --wait ns --server nonsense@x

### Hooks need a challenge zone
check Z1 1 "hook: '.*' has no challenge zone \\(set it with 'acmezone config --zone ZONE'" \
	env CERTBOT_DOMAIN=example.org CERTBOT_VALIDATION="$V" "$AZ" --db "$DB" --no-wait hook certbot
check Z1 1 "hook: '.*' has no challenge zone" az hook lego present _acme-challenge.example.org. "$V"
check Z1 1 "hook: '.*' has no challenge zone" az hook dehydrated deploy_challenge example.org t "$V"
rows=${rows% Z1 Z1}	# one row, three checks

### History and report
check H1 3 "add: ACMEZONE_CLIENT='not a name' is not a client name \\(1 to 32" \
	env ACMEZONE_CLIENT='not a name' "$AZ" --db "$DB" --no-wait add "$N" "$V"
check H2 3 "config: '9' is not a valid history size \\(10 to 1000000\\)" az config --history-max 9
check H3 3 "config: '0' is not a valid history age in days \\(1 to 3650\\)" az config --history-days 0
check H4 3 "report: '0' is not a valid check timeout" az report --json --check-timeout 0
check H5 3 "hook: 'x\\.example,org' is not a valid domain \\(" \
	env RENEWED_LINEAGE="$tmp" RENEWED_DOMAINS='a.example x.example,org' "$AZ" --db "$DB" hook certbot-deploy

### Stores a writer does not trust
# trust_store DIR: a fresh store DIR/a.mdb with one value; sets $T.
trust_store() {
	mkdir -p "$1"
	T="$1/a.mdb"
	"$AZ" --db "$T" init >/dev/null && "$AZ" --db "$T" --no-wait add "$N" "$V"
}
trust_store "$tmp/t1"
chmod o+w "$T"
TARGET=$T check T1 1 "add: cannot open '.*' \\(not trusted: it is writable by any user\\)" "$AZ" --db "$T" add "$N" "$V"
"$AZ" --db "$T" list >/dev/null
ok $? "T1: 'list' still reads it"
if [ -n "$OTHER" ]; then
	trust_store "$tmp/t2"
	chown "$OTHER" "$T"
	TARGET=$T check T2 1 "add: cannot open '.*' \\(not trusted: it is owned by another user\\)" "$AZ" --db "$T" add "$N" "$V"
	trust_store "$tmp/t3"
	mkdir -m 1777 "$tmp/t3/planted"
	ln -s "$T" "$tmp/t3/planted/link.mdb"
	chown -h "$OTHER" "$tmp/t3/planted/link.mdb"
	TARGET=$T check T3 1 "add: cannot open '.*link\\.mdb' \\(not trusted: it is a symbolic link owned by another user\\)" \
		"$AZ" --db "$tmp/t3/planted/link.mdb" add "$N" "$V"
else
	skip_row T2 "needs root and a second user"
	skip_row T3 "needs root and a second user"
fi
trust_store "$tmp/t4"
chmod o+w "$T-lock"
TARGET=$T check T4 1 "add: cannot open '.*' \\(not trusted: its lock file is writable by any user\\)" "$AZ" --db "$T" add "$N" "$V"
trust_store "$tmp/t5"
chmod o+w "$T-sync"
TARGET=$T check T5 1 "add: cannot open '.*' \\(not trusted: its sync file is writable by any user\\)" "$AZ" --db "$T" add "$N" "$V"
trust_store "$tmp/t6"
chmod 0777 "$tmp/t6"
TARGET=$T check T6 1 "add: cannot open '.*' \\(not trusted: its directory is writable by any user\\)" "$AZ" --db "$T" add "$N" "$V"
trust_store "$tmp/${ESC}t16"
chmod o+w "$T"
TARGET=$T check T16 1 "add: cannot open '$tmp/\\\\x1bt16/a\\.mdb' \\(not trusted: it is writable by any user\\)" \
	"$AZ" --db "$T" add "$N" "$V"
if [ -n "$OTHER" ]; then
	trust_store "$tmp/t7"
	chown "$OTHER" "$tmp/t7"
	TARGET=$T check T7 1 "add: cannot open '.*' \\(not trusted: its directory is owned by another user\\)" "$AZ" --db "$T" add "$N" "$V"
else
	skip_row T7 "needs root and a second user"
fi

# The group the readers share (knot's, from Debian's knot package, or any
# group but root's): it must never be able to write the data, nor swap the
# files a root writer opens.  KNOTU plays a member of that group.
GRP=daemon
id knot >/dev/null 2>&1 && GRP=knot
KNOTU=
if [ "$(id -u)" -eq 0 ] && id knot >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
	KNOTU=knot
	chmod 0711 "$tmp"	# knot may pass through to its stores
fi
as_knot() {
	setpriv --reuid=knot --regid=knot --clear-groups -- "$@"
}
trust_store "$tmp/t8"
chgrp "$GRP" "$T" && chmod 0660 "$T"
TARGET=$T check T8 1 "add: cannot open '.*' \\(not trusted: it is writable by its group\\)" "$AZ" --db "$T" add "$N" "$V"
if [ -n "$KNOTU" ]; then
	chmod 0750 "$tmp/t8" && chgrp knot "$tmp/t8"
	TARGET=$T check T9 1 "add: cannot open '.*' \\(not trusted: it is writable by its group\\)" \
		as_knot "$AZ" --db "$T" --no-wait add "$N" "$V"
else
	skip_row T9 "needs root and Debian's knot user"
fi
trust_store "$tmp/t10"
chgrp "$GRP" "$tmp/t10" && chmod 0770 "$tmp/t10"
TARGET=$T check T10 1 "add: cannot open '.*' \\(not trusted: its directory is writable by its group\\)" "$AZ" --db "$T" add "$N" "$V"
trust_store "$tmp/t11"
printf 'not a lock file\n' >"$tmp/t11/victim" && chmod 0600 "$tmp/t11/victim"
mv "$T-lock" "$tmp/t11/real-lock" && ln -s "$tmp/t11/victim" "$T-lock"
TARGET="$tmp/t11/victim" check T11 1 "add: cannot open '.*' \\(not trusted: its lock file is a symbolic link\\)" "$AZ" --db "$T" add "$N" "$V"
trust_store "$tmp/t12"
printf 'not a sync file\n' >"$tmp/t12/victim" && chmod 0600 "$tmp/t12/victim"
rm -f "$T-sync" && ln -s "$tmp/t12/victim" "$T-sync"
TARGET="$tmp/t12/victim" check T12 1 "add: cannot open '.*' \\(not trusted: its sync file is a symbolic link\\)" "$AZ" --db "$T" add "$N" "$V"
trust_store "$tmp/t13/s"
chmod 0777 "$tmp/t13"
TARGET=$T check T13 1 "add: cannot open '.*' \\(not trusted: a directory above it is writable by any user\\)" "$AZ" --db "$T" add "$N" "$V"

# T14: the race of issue 14 item 7.  In a 0770 root:knot directory, knot
# swaps the lock file for a symbolic link to a root-only file and back,
# as fast as it can, while root writes: LMDB opens its lock file by name
# and follows links, so a writer that trusted the directory would truncate
# and overwrite that file (it took 39 writes, about 1 s).  Bounded: at
# most 100 writes, 20 s of swapping (perl: no fork per swap).
race_writes() {
	local d=$1 victim=$2 i rc=1
	as_knot perl -e '
		my ($d, $v) = @ARGV;
		link("$d/a.mdb-lock", "$d/keep") or exit 1;
		my $end = time + 20;
		while (!-e "$d/stop" && time < $end) {
			unlink("$d/l.tmp"); symlink($v, "$d/l.tmp");
			rename("$d/l.tmp", "$d/a.mdb-lock");
			unlink("$d/k.tmp"); link("$d/keep", "$d/k.tmp");
			rename("$d/k.tmp", "$d/a.mdb-lock");
		}' "$d" "$victim" &
	local swapper=$!
	for i in $(seq 1 100); do
		"$AZ" --db "$d/a.mdb" --no-wait add "$N" "$V" 2>"$tmp/race.err"
		rc=$?
		cmp -s "$victim" "$tmp/victim.orig" || break
	done
	touch "$d/stop"
	wait "$swapper"
	cat "$tmp/race.err" >&2
	return "$rc"
}
if [ -n "$KNOTU" ]; then
	trust_store "$tmp/t14"
	chgrp knot "$tmp/t14" "$T-lock" && chmod 0770 "$tmp/t14"
	printf 'root only\n' >"$tmp/victim.orig"
	cp "$tmp/victim.orig" "$tmp/victim" && chmod 0600 "$tmp/victim"
	TARGET="$tmp/victim" check T14 1 \
		"add: cannot open '.*' \\(not trusted: (its directory is writable by its group|its lock file is a symbolic link)\\)" \
		race_writes "$tmp/t14" "$tmp/victim"
else
	skip_row T14 "needs root and Debian's knot user"
fi

mkdir -m 0770 "$tmp/t15" && chgrp "$GRP" "$tmp/t15"
check T15 1 "init: cannot create '.*' \\(permission denied or untrusted file\\)" "$AZ" --db "$tmp/t15/a.mdb" init
test -z "$(ls -A "$tmp/t15")"
ok $? "T15: and nothing was created"

### Peers and the batch protocol (P): a store with the challenge zone,
# 'serve' fed on standard input as sshd would, no ssh server needed.
mkdir -m 0755 "$tmp/peer"
PDB="$tmp/peer/acmezone.mdb"
"$AZ" --db "$PDB" init --zone acme.example.net >/dev/null || bail "init failed"
"$AZ" --db "$PDB" peer add ns2 --ssh root@192.0.2.2 --address 192.0.2.2 ||
	bail "peer add failed"
azp() {
	"$AZ" --db "$PDB" --no-wait "$@"
}
# serve_check ID STATUS REGEX INPUT ARGS...: serve on $PDB reads INPUT;
# it must exit STATUS, end its answer with a 'status ... refused' line
# matching REGEX, say why on stderr, and leave $PDB as it was.
serve_check() {
	local id=$1 want=$2 re=$3 in=$4 rc bad=""
	shift 4
	rows="$rows $id"
	cp "$PDB" "$tmp/pdb.before"
	"$AZ" --db "$PDB" serve "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = "$want" ] || bad="$bad exit $rc (want $want);"
	tail -n 1 "$tmp/out" | grep -Eq -- "^status id=[-0-9a-f]+ refused .*$re" ||
		bad="$bad status does not match '$re';"
	grep -q '^acmezone: serve: ' "$tmp/err" || bad="$bad nothing on stderr;"
	cmp -s "$PDB" "$tmp/pdb.before" || bad="$bad the store changed;"
	if [ -z "$bad" ]; then
		ok 0 "$id: exit $want, refused, unchanged: $(tail -n 1 "$tmp/out")"
	else
		ok 1 "$id:$bad"
		diag "stdout: $(cat "$tmp/out")"
		diag "stderr: $(cat "$tmp/err")"
	fi
}
ID=0123456789abcdef
batch() {	# batch FILE HEAD-EXTRA LINES...: a batch with its end line
	local f=$1 extra=$2 n=0
	shift 2
	{
		printf 'acmezone-batch 1 id=%s time=1%s\n' "$ID" "$extra"
		for l in "$@"; do printf '%s\n' "$l"; n=$((n + 1)); done
		printf 'end id=%s ops=%d\n' "$ID" "$n"
	} >"$f"
}
printf 'domain example.org\ndomain *.example.org\n' >"$tmp/scope"
printf 'domain example.org\nops add del remove\n' >"$tmp/scope-bad"

TARGET="$PDB-peers" check P1 3 "peer: there is a peer 'ns2' already" azp peer add ns2 --ssh root@h --address 192.0.2.9
TARGET="$PDB-peers" check P2 3 "peer: 'root@exa mple:22' is not \\[USER@\\]HOST\\[:PORT\\] \\(" azp peer add ns3 --ssh 'root@exa mple:22' --address 192.0.2.3
TARGET="$PDB-peers" check P3 3 "peer: '300\\.1\\.1\\.1' is not an IPv4 or IPv6 address" azp peer add ns3 --ssh root@h --address 300.1.1.1
TARGET="$PDB-peers" check P4 3 "peer: '.*scope' is not an OpenSSH public key file" azp peer add ns3 --ssh root@h --address 192.0.2.3 --host-key "$tmp/scope"
batch "$tmp/p5" "" "add www.example.org $V 60" "add example.com $V 60"
serve_check P5 3 "1 operation\\(s\\) outside the scope" "$tmp/p5" --scope "$tmp/scope"
grep -q "^refused 2 'example.com' is outside the scope $tmp/scope (domain example.com)\$" "$tmp/out"
ok $? "P5: the refused line is named, with the domain and the scope"
batch "$tmp/p6" "" "add x.acme.example.net $V 60"
serve_check P6 3 "outside the scope" "$tmp/p6" --scope "$tmp/scope"
grep -q "a name in the challenge zone; give the customer's domain" "$tmp/out"
ok $? "P6: a name in the challenge zone, said so"
SSH_ORIGINAL_COMMAND="acmezone --db /tmp/x.mdb serve" check P7 2 \
	"serve: refusing the command 'acmezone --db /tmp/x\\.mdb serve': this key runs only 'acmezone serve'" \
	azp serve --scope "$tmp/scope"
check P8 2 "serve: refusing to run: scope file '.*scope-bad' line 2: an operation is not add or del" \
	azp serve --scope "$tmp/scope-bad"
printf 'garbage\n' >"$tmp/p9"
serve_check P9 3 "not an acmezone batch" "$tmp/p9" --unscoped
printf 'acmezone-batch 1 id=%s time=1\nadd www.example.org %s 60\n' "$ID" "$V" >"$tmp/p10"
serve_check P10 3 "closed mid-batch" "$tmp/p10" --unscoped
batch "$tmp/p11" "" "add $(printf 'a%.0s' $(seq 1 5000)) $V 60"
serve_check P11 3 "a line is longer than 4096 octets" "$tmp/p11" --unscoped
batch "$tmp/p12" "" "add www.example.org $V 60"
sed -i "s/^end id=$ID/end id=fedcba9876543210/" "$tmp/p12"
serve_check P12 3 "'end' names another batch id" "$tmp/p12" --unscoped
printf 'acmezone-batch 2 id=%s time=1\nend id=%s ops=0\n' "$ID" "$ID" >"$tmp/p13"
serve_check P13 3 "unsupported protocol version" "$tmp/p13" --unscoped
batch "$tmp/p14" " relay zone=other.example. scheme=readable" "add www.example.org $V 60"
serve_check P14 3 "the sender's challenge zone and scheme \\(other\\.example\\. readable\\) are not this store's" "$tmp/p14" --unscoped
printf 'acmezone-batch 1 id=%s time=1 relay dump zone=acme.example.net. scheme=readable\nend id=%s ops=0\n' "$ID" "$ID" >"$tmp/p15"
serve_check P15 3 "a relay needs the key of a peer nameserver" "$tmp/p15" --scope "$tmp/scope"
batch "$tmp/p17" " relay zone=acme.example.net. scheme=readable" "add www.example.org $V 60"
serve_check P17 3 "a relay needs the key of a peer nameserver" "$tmp/p17" --scope "$tmp/scope"
# P16: a peer whose ssh answers garbage (an 'ssh' of our own first in
# PATH), from a host with no store, so nothing is written anywhere.
mkdir -m 0755 "$tmp/fake" "$tmp/client"
printf '#!/bin/sh\ncat >/dev/null\necho garbage\n' >"$tmp/fake/ssh"
chmod 0755 "$tmp/fake/ssh"
"$AZ" --db "$tmp/client/acmezone.mdb" peer add ns1 --ssh root@192.0.2.1 --address 192.0.2.1 ||
	bail "peer add failed"
PATH="$tmp/fake:$PATH" ACMEZONE_SSH_DIR="$tmp/ctl" check P16 4 \
	"add: peer ns1 \\(root@192\\.0\\.2\\.1:22\\) failed: answered garbage or for another batch: 'garbage'" \
	"$AZ" --db "$tmp/client/acmezone.mdb" add www.example.org "$V"

### The table and the test name the same rows.
doc_rows=$(sed -n 's/^| \([A-Z][0-9]*\) |.*/\1/p' "$DOC" | sort | tr '\n' ' ')
test_rows=$(printf '%s\n' $rows | sort -u | tr '\n' ' ')
is "$test_rows" "$doc_rows" "every row of doc/bad-input.md has a check here, and no more"

"$AZ" --db "$DB" list >"$tmp/list"
is "$(wc -l <"$tmp/list" | tr -d ' ')" 2 "after all that, the store still holds exactly its two values"

done_testing
