# scenarios.sh -- the answers both servers must give, one list run against knotd (knotd.sh) and named (named.sh); source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by tests/server/knotd.sh and tests/server/named.sh once the
# server runs and serves T1 at A; they define dq, az, is_nx (through
# knotd-lib.sh or named-lib.sh) and Z, A, TTL, T1.  Every write here is
# read back at once: the CLI returns once knotd serves it (read-your-
# writes), and named reads the store at every query.  Afterwards A holds
# no value and foo.Z is an empty non-terminal (above _acme-challenge.foo.Z,
# value TF); T2 and T3 are set.

# --- Several values at one name form one RRset.
T2=$(tok two)
T3=$(tok three)
az add "$A" "$T2" && az add "$A" "$T3"
ok $? "two more values at the same name"
out=$(dq "$A" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=3 ' "three answers"
is "$(txt_of "$out")" "$(sorted "$T1" "$T2" "$T3")" "exactly the three values"
is "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1, $2, $3 }' | sort -u)" "$A $TTL TXT" \
	"one RRset: same owner, TTL and type"

# --- The owner echoes the case of the question (0x20).
MIXED=$(mix_case "$A")
out=$(dq "$MIXED" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=3 ' "mixed-case QNAME is answered"
is "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1 }' | sort -u)" "$MIXED" \
	"answer owner has exactly the case of the QNAME"
out=$(dq --tcp "$MIXED" TXT)
is "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1 }' | sort -u)" "$MIXED" \
	"same over TCP"

# --- ANY.
out=$(dq "$A" ANY)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=3 ' "ANY: NOERROR, AA, three answers"
is "$(txt_of "$out")" "$(sorted "$T1" "$T2" "$T3")" "ANY: the three TXT values"
out=$(dq --tcp "$A" ANY)
is "$(txt_of "$out")" "$(sorted "$T1" "$T2" "$T3")" "ANY over TCP: the three TXT values"

# --- Another type at a name with values: NODATA.
out=$(dq "$A" A)
is "$(head_of "$out")" 'rcode=NOERROR aa=1 tc=0 ancount=0 nscount=1' "A at a token name: NOERROR, no answer"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^ns: $Z 5 SOA " "A at a token name: SOA in authority"
out=$(dq "$A" AAAA)
is "$(head_of "$out")" 'rcode=NOERROR aa=1 tc=0 ancount=0 nscount=1' "AAAA at a token name: NODATA"

# --- Unknown name: NXDOMAIN with the SOA.
out=$(dq "_acme-challenge.nothing.$Z" TXT)
is "$(head_of "$out")" 'rcode=NXDOMAIN aa=1 tc=0 ancount=0 nscount=1' "unknown name: NXDOMAIN"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^ns: $Z 5 SOA " "unknown name: SOA (TTL 5) in authority"
out=$(dq "nothing.$Z" A)
like "$(head_of "$out")" '^rcode=NXDOMAIN aa=1 ' "unknown name, type A: NXDOMAIN"
out=$(dq "*.$Z" TXT)
like "$(head_of "$out")" '^rcode=NXDOMAIN aa=1 ' "a literal '*' label: NXDOMAIN"

# --- The apex: SOA and NS only, as a zone file with SOA and NS.
az add "$Z" "$(tok apex)"
ok $? "a value stored at the apex name itself"
out=$(dq "$Z" TXT)
is "$(head_of "$out")" 'rcode=NOERROR aa=1 tc=0 ancount=0 nscount=1' \
	"TXT at the apex: NODATA (the zone's own data wins, as in a zone file)"
az del "$Z" >/dev/null

# --- Two labels deep: the parent is an empty non-terminal.
F="_acme-challenge.foo.$Z"
TF=$(tok foo)
az add "$F" "$TF"
ok $? "add a token two labels below the apex"
out=$(dq "$F" TXT)
is "$(printf '%s\n' "$out" | sed -n 2p)" "$F $TTL TXT $TF" "the deep name is answered"
out=$(dq "foo.$Z" TXT)
is "$(head_of "$out")" 'rcode=NOERROR aa=1 tc=0 ancount=0 nscount=1' \
	"its parent foo is an empty non-terminal: NOERROR/NODATA, not NXDOMAIN"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^ns: $Z [0-9]+ SOA " "ENT: SOA in authority"
out=$(dq "FoO.$Z" A)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=0 ' "ENT, type A, mixed case: NODATA"
out=$(dq "bar.foo.$Z" TXT)
like "$(head_of "$out")" '^rcode=NXDOMAIN aa=1 ' "a sibling below the ENT is still NXDOMAIN"
D="_acme-challenge.a.b.c.$Z"
az add "$D" "$(tok deep)"
for n in "a.b.c.$Z" "b.c.$Z" "c.$Z"; do
	out=$(dq "$n" TXT)
	like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=0 ' "ENT $n: NODATA"
done
az del "$D"
is_nx "c.$Z"
ok $? "once the deep name is deleted its ancestors are NXDOMAIN at once"

# --- dns-account-01: one name per account below the delegation name
# (_<label>.<delegation name>), the delegation name an empty non-terminal
# while only accounts have values, and a dns-01 value there besides.
LA=_ujmmovf2vn55tgye
LB=_vrr7uudrklshxb6l
TA=$(tok account-a)
TB=$(tok account-b)
az add "$LA.acct.$Z" "$TA" && az add "$LB.acct.$Z" "$TB"
ok $? "values at two accounts' names, _<label>.acct.$Z"
out=$(dq "$LA.acct.$Z" TXT)
is "$(txt_of "$out")" "$TA" "account A's name answers A's value only"
out=$(dq "$(mix_case "$LB.acct.$Z")" TXT)
is "$(txt_of "$out")" "$TB" "account B's, asked in mixed case, B's only"
out=$(dq "acct.$Z" TXT)
is "$(head_of "$out")" 'rcode=NOERROR aa=1 tc=0 ancount=0 nscount=1' \
	"the delegation name with values only below it: NODATA (an empty non-terminal)"
out=$(dq "_ujmmovf2vn55tgyf.acct.$Z" TXT)
like "$(head_of "$out")" '^rcode=NXDOMAIN aa=1 ' "another account's name: NXDOMAIN"
az add "acct.$Z" "$T1"
out=$(dq "acct.$Z" TXT)
is "$(txt_of "$out")" "$T1" "a dns-01 value at the delegation name beside the accounts' names"
out=$(dq "$LA.acct.$Z" TXT)
is "$(txt_of "$out")" "$TA" "... which stay as they were"
az del "acct.$Z" && az del "$LA.acct.$Z" && az del "$LB.acct.$Z"
is_nx "acct.$Z"
ok $? "all deleted: the delegation name is NXDOMAIN again"

# --- Values that need quoting in master-file text.
Q="_acme-challenge.quote.$Z"
QV='a"b\c;d (e) $f'
az add "$Q" "$QV" --raw
ok $? "a raw value with quote, backslash, semicolon, parentheses and dollar"
out=$(dq "$Q" TXT)
is "$(printf '%s\n' "$out" | sed -n 2p)" "$Q $TTL TXT $QV" "it comes back octet for octet"

# --- Deleting.
az del "$A" "$T2"
ok $? "del one value"
out=$(dq "$A" TXT)
is "$(txt_of "$out")" "$(sorted "$T1" "$T3")" "the other values remain"
az del "$A"
ok $? "del the name"
is_nx "$A"
ok $? "a deleted name is NXDOMAIN at once"
out=$(dq "foo.$Z" TXT)
like "$(head_of "$out")" '^rcode=NOERROR ' "the ENT is not affected by another name's deletion"

# --- A dns-persist-01 record longer than one TXT character-string: one RR
# of several strings, 255 octets and the rest (RFC 1035 3.3.14), over UDP
# and TCP.  The store has no challenge zone: written at the name as is.
PU="https://ca.test/acct/$(printf 'x%.0s' $(seq 1 300))"
PT="ca.test; accounturi=$PU"
az persist add "long.$Z" --issuer ca.test --account-uri "$PU"
ok $? "persist add: a record of ${#PT} octets"
for proto in udp tcp; do
	out=$(dq $([ $proto = tcp ] && echo --tcp) "_validation-persist.long.$Z" TXT)
	like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=1 ' "$proto: one RR"
	is "$(txt_of "$out")" "${PT:0:255} ${PT:255}" \
		"$proto: two character-strings, 255 octets and the rest"
done
az persist del "long.$Z"
ok $? "persist del"

# --- Read your writes: every add/del is visible to the very next query
# (knotd: the CLI returned once knotd served it; named: read per query).
R="_acme-challenge.ryw.$Z"
fails=0
t0=$(test_now_ms)
first_fail=
for i in $(seq 1 300); do
	printf -v v 'ryw%040d' "$i"	# 43 characters, like a token
	if ! az add "$R" "$v"; then
		fails=$((fails + 1)); first_fail=${first_fail:-"round $i: add failed"}
		continue
	fi
	if ! has_value "$R" "$v"; then
		fails=$((fails + 1)); first_fail=${first_fail:-"round $i: value missing after add"}
	fi
	if ! az del "$R"; then
		fails=$((fails + 1)); first_fail=${first_fail:-"round $i: del failed"}
	fi
	if ! is_nx "$R"; then
		fails=$((fails + 1)); first_fail=${first_fail:-"round $i: not NXDOMAIN after del"}
	fi
done
is "$fails" 0 "300 rounds of add+query and del+query: no stale answer"
diag "300 rounds took $(( $(test_now_ms) - t0 )) ms"
[ -n "$first_fail" ] && diag "first failure: $first_fail"
