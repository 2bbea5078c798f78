#!/bin/bash
# named.sh -- dlz_acmezone.so inside a real named on loopback: answers, denial, expiry, TC, missing and replaced stores, reloads.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/named-lib.sh"

named_require
AZTOOL="$top_builddir/tests/lib/aztool"
[ -x "$AZTOOL" ] || bail "tests/lib/aztool is not built"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aznamed.XXXXXX") || bail "mktemp failed"
trap named_cleanup EXIT
named_setup "$dir"

Z=$ND_ZONE				# acme.example.test.
A="_acme-challenge.$Z"			# the usual token name
TTL=10					# the ttl= option named_setup writes

# The same records from a zone file, in the same named, for the
# differential checks below: SOA and NS as the driver's options make them,
# an ENT (www above a.www, p above c.p), 100 values at one name (named's
# default max-records-per-type: a zone file may not hold more).
SZ=static.example.test.
SV=$(tok static)
s100_vals=()
{
	printf '$ORIGIN %s\n$TTL %s\n' "$SZ" "$TTL"
	printf '@ 5 SOA ns.invalid. hostmaster.invalid. 1 3600 600 1209600 5\n@ 60 NS ns.invalid.\n'
	printf 'a.www TXT "%s"\nc.p TXT "%s"\n' "$SV" "$SV"
	for i in $(seq 0 99); do
		printf 'h100 TXT "s%042d"\n' "$i"
	done
} >"$ND_DIR/static.db"
for i in $(seq 0 99); do
	s100_vals+=("$(printf 's%042d' "$i")")
done
named_add_zone "$SZ" "$ND_DIR/static.db"

# sorted_answer NAME TYPE [dnsload options]: dnsload's answer, the summary
# line first, then the records sorted (named rotates RRsets).
sorted_answer() {
	local out
	out=$(dq "${@:3}" "$1" "$2")
	printf '%s\n' "$out" | sed -n 1p
	printf '%s\n' "$out" | sed 1d | LC_ALL=C sort
}

# same_answer NAME TYPE [dnsload options]: the answer of NAME in our zone
# and in the static one, zone names made equal; prints both if they differ.
same_answer() {
	local a b
	a=$(sorted_answer "$1.$Z" "$2" "${@:3}" | sed "s/$Z/ZONE./g")
	b=$(sorted_answer "$1.$SZ" "$2" "${@:3}" | sed "s/$SZ/ZONE./g")
	[ "$a" = "$b" ] && return 0
	diag "dlz:    $a"
	diag "static: $b"
	return 1
}

# opcode_status ZONE OPCODE: the rcode named gives a NOTIFY or UPDATE.
opcode_status() {
	q "$1" SOA +opcode="$2" 2>/dev/null | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

is_servfail() {
	local out
	out=$(dq "$1" TXT 2>/dev/null) || return 1
	[[ $out == "rcode=SERVFAIL "* ]]
}

# log_has REGEX: named's log matches (extended regex).
log_has() {
	grep -qE -- "$1" "$ND_LOG"
}

########################################################################
diag "$("$NAMED" -v 2>&1 | head -n 1) on 127.0.0.1#$ND_PORT (IPv6: $ND_IPV6), zone $Z"

# --- A store that does not exist yet when named starts.
[ ! -e "$ND_DB" ]
ok $? "the store does not exist before named starts"
named_start
poll_until 5 runs_as "$ND_PID" "$ND_USER"
ok $? "named runs as user $ND_USER"

out=$(dq "$Z" SOA)
is "$(head_of "$out")" "rcode=NOERROR aa=1 tc=0 ancount=1 nscount=0" \
	"the zone answers SOA while the store is missing"
is "$(printf '%s\n' "$out" | sed -n 2p)" \
	"$Z 5 SOA ns.invalid. hostmaster.invalid. 1 3600 600 1209600 5" \
	"the SOA is built from the driver's options"
out=$(dq "$Z" NS)
is "$(printf '%s\n' "$out" | sed -n 2p)" "$Z 60 NS ns.invalid." "the apex NS (ns-ttl default 60)"
out=$(dq "$A" TXT)
like "$(head_of "$out")" '^rcode=SERVFAIL ' \
	"below the apex: SERVFAIL while there is no store (not a cacheable NXDOMAIN)"
log_has "acmezone: database '$ND_DB' is missing"
ok $? "the log says the store is missing"
grep -F 'acmezone:' "$ND_LOG" | head -n 3 | while IFS= read -r line; do diag "log: $line"; done

out=$(named_init)
ok $? "acmezone init"
diag "$out"
T1=$(tok one)
az add "$A" "$T1"
ok $? "acmezone add"
has_value "$A" "$T1"
ok $? "a token added after the store appeared is answered at once (no poll)"
log_has "acmezone: database '$ND_DB' opened"
ok $? "the log says the store was opened"

# --- One token.
out=$(dq "$A" TXT)
is "$(head_of "$out")" "rcode=NOERROR aa=1 tc=0 ancount=1 nscount=0" "TXT: NOERROR, AA, one answer"
is "$(printf '%s\n' "$out" | sed -n 2p)" "$A $TTL TXT $T1" "TXT: owner, TTL (the ttl option), type and value"
if command -v "$DIG" >/dev/null 2>&1; then
	out=$(q "$A" TXT +short)
	is "$out" "\"$T1\"" "dig sees the token too"
fi

# --- The scenarios both servers share (RRsets, case, ANY, NODATA,
# NXDOMAIN, the apex, empty non-terminals, quoting, deletes).
. "$top_srcdir/tests/server/scenarios.sh"

# --- Expiry: checked at query time.
E="_acme-challenge.exp.$Z"
TE=$(tok exp)
t0=$(test_now_ms)
# Expiry times are whole seconds: "3s" lives 2 to 3 s, room for a slow
# add on a loaded machine before the first query.
az add "$E" "$TE" --expire 3s
ok $? "add with --expire 3s"
has_value "$E" "$TE"
ok $? "the expiring token is answered at first"
poll_until 10 is_nx "$E"
ok $? "after its expiry time it becomes NXDOMAIN (no write needed)"
elapsed=$(( $(test_now_ms) - t0 ))
[ "$elapsed" -ge 1900 ]
ok $? "and not before about its expiry time (${elapsed} ms after add)"
X="_acme-challenge.x.entexp.$Z"
az add "$X" "$(tok entexp)" --expire 3s
out=$(dq "x.entexp.$Z" TXT)
like "$(head_of "$out")" '^rcode=NOERROR ' "the parent of an expiring name is an ENT"
poll_until 10 is_nx "x.entexp.$Z"
ok $? "and NXDOMAIN once everything below it has expired"

# --- Names in the store outside the zone are not served.
O="_acme-challenge.x.other.test."
if az add "$O" "$(tok other)" 2>"$ND_DIR/other.err"; then
	out=$(dq "$O" TXT)
	like "$(head_of "$out")" '^rcode=(REFUSED|NXDOMAIN|SERVFAIL) .*ancount=0 ' \
		"a stored name outside the zone is not answered"
else
	diag "the CLI refuses names outside a zone: $(cat "$ND_DIR/other.err")"
	ok 0 "a name outside the zone cannot even be stored"
fi

# --- Zone transfers are refused.
if command -v "$DIG" >/dev/null 2>&1; then
	out=$(q "$Z" AXFR 2>&1)
	if printf '%s\n' "$out" | grep -qE 'Transfer failed|REFUSED|NOTAUTH'; then
		ok 0 "AXFR is refused"
	else
		ok 1 "AXFR is refused"
		diag "$out"
	fi
fi

# --- Too big for UDP: TC, then everything over TCP.
B="_acme-challenge.big.$Z"
big_vals=()
batch="$ND_DIR/big.batch"
: >"$batch"
for i in $(seq 1 40); do
	v=$(printf 'v%02d-%0196d' "$i" 0)
	big_vals+=("$v")
	echo "add $B $v" >>"$batch"
done
az apply --raw "$batch" >/dev/null
ok $? "40 raw values of 200 octets added in one batch"
out=$(dq --tcp "$B" TXT)
is "$(head_of "$out")" "rcode=NOERROR aa=1 tc=0 ancount=40 nscount=0" "TCP: all 40 answers"
is "$(txt_of "$out")" "$(sorted "${big_vals[@]}")" "TCP: exactly the 40 values"
out=$(dq --no-edns "$B" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=1 ' "UDP without EDNS: TC=1"
out=$(dq "$B" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=1 ' "UDP with EDNS 1232: TC=1"
if command -v "$DIG" >/dev/null 2>&1; then
	out=$(q "$B" TXT +short 2>/dev/null)
	is "$(printf '%s\n' "$out" | grep -c .)" 40 "dig retries over TCP and gets 40 values"
fi

# --- Many values at one name: the whole RRset over TCP.
M="_acme-challenge.many.$Z"
# One record written behind the store (test_sync covers batches).
put_many "$ND_DB" "$M" 1024
ok $? "1024 values at one name, in no order"
out=$(dq --tcp "$M" TXT)
is "$(head_of "$out")" "rcode=NOERROR aa=1 tc=0 ancount=1024 nscount=0" "TCP: all 1024 answers"
is "$(txt_of "$out")" "$(sorted "${MANY_VALS[@]}")" "TCP: exactly the 1024 values"
az del "$M" >/dev/null

# --- More than one DNS message can carry (written behind the store's
# back: it refuses such a write now).  named would answer TC even over
# TCP; the driver answers SERVFAIL, as knotd does for such a zone file.
H="huge.$Z"
"$AZTOOL" huge "$ND_DB" "$H" 300 255
ok $? "300 values of 255 octets at one name, written with plain LMDB"
out=$(dq --tcp "$H" TXT)
like "$(head_of "$out")" '^rcode=SERVFAIL .*ancount=0 ' "TCP: SERVFAIL, not a TC nobody can retry"
out=$(dq "$H" TXT)
like "$(head_of "$out")" '^rcode=SERVFAIL ' "UDP: SERVFAIL too (the TCP retry could only fail)"
az del "$H" >/dev/null

# --- Differential: the same records from a zone file.
az add "a.www.$Z" "$SV" && az add "c.p.$Z" "$SV" && az add "p.$Z" "$(tok p)" --expire 3s
ok $? "a.www and c.p as in the static zone, and a value at p about to expire"
for i in $(seq 0 99); do
	printf 'add h100.%s s%042d\n' "$Z" "$i"
done | az apply - >/dev/null
ok $? "the 100 values of h100"
for c in "a.www TXT" "a.www A" "a.www ANY" "www TXT" "www A" "www SOA" "nx TXT" \
	 "nx ANY" "nx.www TXT"; do
	# shellcheck disable=SC2086
	same_answer $c
	ok $? "$c: as from the zone file"
done
same_answer h100 TXT --tcp
ok $? "h100 TXT over TCP: the 100 values as from the zone file"
same_answer h100 TXT
ok $? "h100 TXT over UDP: TC as from the zone file"
# p's own value expires while c.p lives: p is then an ENT, as in the file.
poll_until 10 same_answer p TXT
ok $? "p, its own value expired, a child alive: NODATA as from the zone file"
same_answer p A
ok $? "p A: the same"
# Documented differences (doc/bind.md, "Answers that differ from a zone
# file"): BIND's SDLZ layer, not the driver, decides these.
out=$(dq "www.$Z" ANY)
like "$(head_of "$out")" '^rcode=SERVFAIL aa=0 ' \
	"ANY at an ENT: SERVFAIL (named with the zone file: NOERROR and the SOA)"
out=$(dq "p.$Z" ANY)
like "$(head_of "$out")" '^rcode=SERVFAIL aa=0 ' "ANY at p, an ENT by expiry: the same"
out=$(dq "nx.$Z" SOA)
is "$(printf '%s\n' "$out" | sed -n 2p)" \
	"ns: $Z 5 SOA ns.invalid. hostmaster.invalid. 1 3600 600 1209600 5" \
	"bare dlz: an NXDOMAIN to an SOA query has the SOA with TTL min(soa-ttl, minimum)"
is "$(opcode_status "$Z" notify) $(opcode_status "$Z" update)" "NOTAUTH NOTAUTH" \
	"bare dlz: NOTIFY and UPDATE get NOTAUTH (no zone in named's table)"
is "$(opcode_status "$SZ" notify) $(opcode_status "$SZ" update)" "NOERROR REFUSED" \
	"(a zone file: NOERROR and REFUSED)"

# --- rndc reload and reconfig while under load.
az add "$A" "$T1" && az add "$A" "$T3"
ok $? "values for the load test"
exp="$ND_DIR/expect"
{
	echo "# what the store holds now"
	echo "$A $T1 $T3"
	echo "$F $TF"
	echo "$B ${big_vals[*]}"
	echo "$R -"
	echo "$E -"
	echo "nx.$Z -"
	echo "_acme-challenge.nx.$Z -"
} >"$exp"
"$ND_DNSLOAD" load -s 127.0.0.1 -p "$ND_PORT" -f "$exp" --duration-ms 5000 \
	--case-random --tcp-share 5 --ttl "$TTL" >"$ND_DIR/load.out" 2>&1 &
load_pid=$!
reload_fail=0
for i in 1 2 3 4 5 6; do
	sleep 0.6	# pacing the reloads across the load, not a wait
	if [ $((i % 2)) -eq 1 ]; then
		nd_rndc reload >/dev/null 2>&1 || reload_fail=$((reload_fail + 1))
	else
		nd_rndc reconfig >/dev/null 2>&1 || reload_fail=$((reload_fail + 1))
	fi
done
wait "$load_pid"
load_rc=$?
load_out=$(cat "$ND_DIR/load.out")
diag "load: $(head_of "$load_out")"
is "$reload_fail" 0 "three 'rndc reload' and three 'rndc reconfig' accepted"
is "$load_rc" 0 "dnsload load exit status"
is "$(field "$load_out" wrong)" 0 "no wrong answer across the reloads"
if [ "$(field "$load_out" wrong)" != 0 ]; then
	printf '%s\n' "$load_out" | sed 1d | while IFS= read -r line; do diag "$line"; done
fi
sent=$(field "$load_out" sent)
answered=$(field "$load_out" answered)
timeouts=$(field "$load_out" timeouts)
[ "${answered:-0}" -gt 1000 ]
ok $? "the load was real (answered=${answered:-?})"
[ $(( ${timeouts:-1} * 100 )) -le "${sent:-0}" ]
ok $? "timeouts under 1% (timeouts=${timeouts:-?} of ${sent:-?})"
[ "$(field "$load_out" truncated)" -gt 0 ] 2>/dev/null
ok $? "the big name went through TC and TCP during the load"
nd_alive
ok $? "named is still running"
nd_soa_answered
ok $? "and still answers"
n=$(grep -c "acmezone: dlz 'acmezone' serves zone" "$ND_LOG")
[ "$n" -ge 7 ]
ok $? "every reload created a driver instance ($n in the log)"
n=$(grep -c "acmezone: database '$ND_DB' opened" "$ND_LOG")
is "$n" 1 "and the store was opened once: the instances share it"

fails=0
for i in $(seq 1 20); do
	printf -v v 'rld%040d' "$i"
	az add "$R" "$v" && has_value "$R" "$v" || fails=$((fails + 1))
	az del "$R" && is_nx "$R" || fails=$((fails + 1))
done
is "$fails" 0 "after the reloads: 20 rounds of add/del are visible at once"

# --- A bad option fails the reload; the running instance keeps serving.
ND_EXTRA="colour=blue" named_write_conf
nd_rndc reload >/dev/null 2>&1
ok $((! $?)) "a reload with an unknown driver option is refused"
log_has "acmezone: dlz 'acmezone': unknown option 'colour=blue'"
ok $? "the log names the bad option"
has_value "$A" "$T1"
ok $? "the zone is still answered from the store"
named_write_conf
nd_rndc reload >/dev/null 2>&1
ok $? "the fixed configuration reloads"

# --- The ttl option: changed by a reload, and its default.
ND_TTL=7 named_write_conf
nd_rndc reload >/dev/null
ok $? "reload with ttl=7"
poll_until 5 ttls_are "$A" 7
ok $? "TXT answers now carry TTL 7"
ND_TTL='' named_write_conf
nd_rndc reload >/dev/null
ok $? "reload without a ttl option"
poll_until 5 ttls_are "$A" 10
ok $? "TXT answers carry the default TTL 10"

# --- The store file removed, then replaced by another one.
rm -f "$ND_DB"
has_value "$A" "$T1"
ok $? "store file removed: the open store keeps being served (as knotd's module does)"
rm -f "$ND_DB-lock" "$ND_DB-sync"
named_init >/dev/null
ok $? "a new store at the same path"
is_nx "$A"
ok $? "the new (empty) file is served at once: the old token is gone"
T4=$(tok four)
az add "$A" "$T4"
has_value "$A" "$T4"
ok $? "and a token added to it is answered at once"
log_has "acmezone: database '$ND_DB' was replaced by another file"
ok $? "the log says the file was replaced"
# A restore from a copy: 'mv' of only the data file, lock file kept.
other="$ND_DIR/other.mdb"
T5=$(tok five)
"$ND_CLI" --db "$other" init --group "$ND_GROUP" >/dev/null &&
	"$ND_CLI" --db "$other" add "$A" "$T5"
ok $? "another store with another token"
mv -f "$other" "$ND_DB"
out=$(dq "$A" TXT)
is "$(txt_of "$out")" "$T5" "moved over the served file: the very next query reads the new file"

# --- A missing store after it was served (file and lock gone, then back).
rm -f "$ND_DB" "$ND_DB-lock" "$ND_DB-sync"
named_init >/dev/null && az add "$A" "$T1"
has_value "$A" "$T1"
ok $? "recreated store: answered at once"

# --- IPv6 loopback.
if [ "$ND_IPV6" = yes ]; then
	out=$("$ND_DNSLOAD" query -s ::1 -p "$ND_PORT" "$A" TXT)
	is "$(txt_of "$out")" "$T1" "answered over ::1"
fi

# --- Orderly stop.
named_stop
ok $? "rndc stop: named exits with status 0"
grep -iE 'acmezone.*(error|cannot)|assert|crash' "$ND_LOG" | while IFS= read -r line; do diag "log: $line"; done
grep -qiE 'assertion|REQUIRE.*failed|INSIST.*failed' "$ND_LOG"
ok $((! $?)) "no assertion failure in named's log"

# --- The zone statement form ('search no;' and a zone with 'dlz'): named
# then has a zone object, and answers as for the zone file where the bare
# statement differs.
ND_ZONE_FORM=1 named_write_conf
named_start
has_value "$A" "$T1"
ok $? "zone form: the token is answered"
out=$(dq "nx.$Z" SOA)
like "$(printf '%s\n' "$out" | sed -n 2p)" "^ns: $Z 0 SOA " \
	"zone form: NXDOMAIN to an SOA query carries the SOA with TTL 0, as from the zone file"
same_answer nx SOA
ok $? "zone form: that whole answer as from the zone file"
is "$(opcode_status "$Z" notify) $(opcode_status "$Z" update)" "NOERROR REFUSED" \
	"zone form: NOTIFY and UPDATE get NOERROR and REFUSED, as a zone file's"
az add "a.www.$Z" "$SV" >/dev/null
same_answer www TXT
ok $? "zone form: an ENT as from the zone file"
named_stop
ok $? "zone form: rndc stop"

done_testing
