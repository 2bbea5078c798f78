#!/bin/bash
# knotd.sh -- mod-acmezone inside a real knotd on loopback: answers, denial, expiry, TC, reloads.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

knotd_require
AZTOOL="$top_builddir/tests/lib/aztool"
[ -x "$AZTOOL" ] || bail "tests/lib/aztool is not built"
dir=$(mktemp -d "${TMPDIR:-/tmp}/azknotd.XXXXXX") || bail "mktemp failed"
trap knotd_cleanup EXIT
knotd_setup "$dir"

Z=$KD_ZONE				# acme.example.test.
A="_acme-challenge.$Z"			# the usual token name
TTL=10					# the ttl item knotd_setup writes

# zstat COUNTER: one mod-acmezone counter of our zone ('knotc zone-stats':
# 'knotc stats' lists only server-wide and global-module counters).
zstat() {
	kd_ctl zone-stats "$Z" "mod-acmezone.$1" 2>/dev/null |
		sed -n "s/^\[$Z\] mod-acmezone\.$1 = \([0-9]*\)$/\1/p"
}

# tokens_counted: the module's gauges describe a store it has read.
tokens_counted() {
	[ "$(zstat tokens)" -gt 0 ] 2>/dev/null && [ "$(zstat syncs)" -gt 0 ] 2>/dev/null
}

########################################################################
diag "knotd $("$KNOTD" -V 2>&1 | head -n 1) on 127.0.0.1@$KD_PORT (IPv6: $KD_IPV6), zone $Z"

# --- A store that does not exist yet when knotd starts.
[ ! -e "$KD_DB" ]
ok $? "the store does not exist before knotd starts"
knotd_start
poll_until 5 runs_as "$KD_PID" "$KD_USER"
ok $? "knotd runs as user $KD_USER"

out=$(dq "$Z" SOA)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=1 ' \
	"the zone answers SOA while the store is missing"
is "$(printf '%s\n' "$out" | awk 'NR == 2 { print $3 }')" SOA "the answer is the SOA"

poll_until 5 grep -qiE "mod-acmezone.*$KD_DB.*(not found|no such file|does not exist|missing)" "$KD_LOG"
ok $? "the log says the store is missing"
grep -F 'mod-acmezone' "$KD_LOG" | head -n 3 | while IFS= read -r line; do diag "log: $line"; done

# The load line names the Knot the module was built for: the running one.
# 'knotd (Knot DNS), version 3.2.6' before 3.4, 'knotd, Knot DNS 3.4.6' since.
kv=$("$KNOTD" -V 2>&1 | head -n 1 | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
built=$(sed -n 's/.*mod-acmezone.*built for Knot \([0-9]*\.[0-9]*\)\.[0-9]* (module ABI [0-9]*).*/\1/p' "$KD_LOG" | head -n 1)
is "$built" "$kv" "the load log line says the module is built for this knotd ($kv)"

out=$(knotd_init)
ok $? "acmezone init"
diag "$out"
T1=$(tok one)
az add "$A" "$T1"
ok $? "acmezone add"
poll_until 10 has_value "$A" "$T1"
ok $? "a token added after the store appeared is answered"

# --- One token.
out=$(dq "$A" TXT)
is "$(head_of "$out")" "rcode=NOERROR aa=1 tc=0 ancount=1 nscount=0" "TXT: NOERROR, AA, one answer"
is "$(printf '%s\n' "$out" | sed -n 2p)" "$A $TTL TXT $T1" "TXT: owner, TTL (the configured ttl), type and value"

out=$(q "$A" TXT +short)
is "$out" "\"$T1\"" "kdig sees the token too"

# --- The scenarios both servers share (RRsets, case, ANY, NODATA,
# NXDOMAIN, the apex, empty non-terminals, quoting, deletes).
. "$top_srcdir/tests/server/scenarios.sh"

# --- Expiry.
E="_acme-challenge.exp.$Z"
TE=$(tok exp)
t0=$(test_now_ms)		# before the add: the CLI may wait for knotd
# Expiry times are whole seconds: "3s" lives 2 to 3 s, room for a slow
# add on a loaded machine before the first query.
az add "$E" "$TE" --expire 3s
ok $? "add with --expire 3s"
has_value "$E" "$TE"
ok $? "the expiring token is answered at first"
poll_until 10 is_nx "$E"
ok $? "after its expiry time it becomes NXDOMAIN (no write needed)"
t1=$(test_now_ms)
elapsed=$((t1 - t0))
[ "$elapsed" -ge 1900 ]
ok $? "and not before about its expiry time (${elapsed} ms after add)"

# --- Names in the store outside the zone are not served.
O="_acme-challenge.x.other.test."
TO=$(tok other)
if az add "$O" "$TO" 2>"$KD_DIR/other.err"; then
	out=$(dq "$O" TXT)
	like "$(head_of "$out")" '^rcode=(REFUSED|NXDOMAIN) .*ancount=0 ' \
		"a stored name outside the zone is not answered"
	printf '%s\n' "$out" | grep -q " TXT "
	ok $((! $?)) "and no TXT ever comes back for it"
else
	diag "the CLI refuses names outside a zone: $(cat "$KD_DIR/other.err")"
	ok 0 "a name outside the zone cannot even be stored"
fi

# --- Too big for UDP: TC, then everything over TCP.
B="_acme-challenge.big.$Z"
big_vals=()
fails=0
for i in $(seq 1 40); do
	v=$(printf 'v%02d-%0196d' "$i" 0)
	big_vals+=("$v")
	az add "$B" "$v" --raw || fails=$((fails + 1))
done
is "$fails" 0 "40 raw values of 200 octets added"
out=$(dq --no-edns "$B" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=1 ' "UDP without EDNS: TC=1"
out=$(dq "$B" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=1 ' "UDP with EDNS 1232: TC=1"
out=$(dq --tcp "$B" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=40 ' "TCP: all 40 answers"
is "$(txt_of "$out")" "$(sorted "${big_vals[@]}")" "TCP: exactly the 40 values"
out=$(q "$B" TXT +short 2>/dev/null)
is "$(printf '%s\n' "$out" | grep -c .)" 40 "kdig retries over TCP and gets 40 values"

# --- Many values at one name: one batch, one read per sync, and the whole
# RRset over TCP in canonical order (the module builds it in one pass).
M="_acme-challenge.many.$Z"
# One record written behind the store (test_sync covers batches).
put_many "$KD_DB" "$M" 1024
ok $? "1024 values at one name, in no order"
out=$(dq --tcp "$M" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=0 ancount=1024 ' "TCP: all 1024 answers"
is "$(printf '%s\n' "$out" | awk '$3 == "TXT" { print $4 }')" "$(sorted "${MANY_VALS[@]}")" \
	"TCP: exactly the 1024 values, in canonical order"
out=$(dq "$M" TXT)
like "$(head_of "$out")" '^rcode=NOERROR aa=1 tc=1 ' "UDP: TC=1"
az del "$M"
ok $? "the 1024 values deleted"

# --- More than one DNS message can carry (a record the store refuses now,
# written behind its back): as knotd answers the same records from a zone
# file, TC over UDP and SERVFAIL over TCP (a TC over TCP would leave the
# client nowhere to retry).
H="huge.$Z"
"$AZTOOL" huge "$KD_DB" "$H" 300 255
ok $? "300 values of 255 octets at one name, written with plain LMDB"
poll_until 10 eval '[[ "$(head_of "$(dq --tcp "$H" TXT)")" != rcode=NXDOMAIN* ]]'
ok $? "the module has read it"
SZ=static.example.test.
{
	printf '$ORIGIN %s\n$TTL 5\n@ SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 5\n@ NS ns.invalid.\n' "$SZ"
	for i in $(seq 0 299); do
		printf 'huge TXT "%07d%0248d"\n' "$i" 0
	done
} >"$KD_DIR/static.db"
knotd_add_zone "$SZ" "$KD_DIR/static.db"
kd_ctl reload >/dev/null
poll_until 10 eval '[[ "$(head_of "$(dq "$SZ" SOA)")" == rcode=NOERROR* ]]'
ok $? "a static zone with the same 300 values loaded"
mod_tcp=$(head_of "$(dq --tcp "$H" TXT)")
static_tcp=$(head_of "$(dq --tcp "huge.$SZ" TXT)")
is "$mod_tcp" "$static_tcp" "TCP: the module answers as knotd from a zone file ($static_tcp)"
like "$mod_tcp" '^rcode=SERVFAIL ' "... SERVFAIL"
mod_udp=$(head_of "$(dq "$H" TXT)")
static_udp=$(head_of "$(dq "huge.$SZ" TXT)")
is "$mod_udp" "$static_udp" "UDP: the same as well ($static_udp)"
like "$mod_udp" '^rcode=NOERROR aa=1 tc=1 ' "... TC"
az del "$H"
ok $? "the huge record deleted"

# --- knotc reload while under load.
az add "$A" "$T1" && az add "$A" "$T3"
ok $? "values for the load test"
exp="$KD_DIR/expect"
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
"$KD_DNSLOAD" load -s 127.0.0.1 -p "$KD_PORT" -f "$exp" --duration-ms 4000 \
	--case-random --tcp-share 5 --ttl "$TTL" >"$KD_DIR/load.out" 2>&1 &
load_pid=$!
reload_fail=0
for i in 1 2 3 4 5 6; do
	sleep 0.5	# pacing the reloads across the load, not a wait
	if [ $((i % 2)) -eq 1 ]; then
		kd_ctl reload >/dev/null || reload_fail=$((reload_fail + 1))
	else
		kd_ctl zone-reload "$Z" >/dev/null || reload_fail=$((reload_fail + 1))
	fi
done
wait "$load_pid"
load_rc=$?
load_out=$(cat "$KD_DIR/load.out")
diag "load: $(head_of "$load_out")"
is "$reload_fail" 0 "three 'knotc reload' and three 'knotc zone-reload' accepted"
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
kd_alive
ok $? "knotd is still running"
kd_soa_answered
ok $? "and still answers"
n=$(grep -ciE 'reload|reloading' "$KD_LOG")
[ "$n" -ge 5 ]
ok $? "the log shows the reloads ($n lines)"

# No write since the reloads: the new instance's gauges must still show
# the store it serves.
poll_until 3 tokens_counted
ok $? "after the reloads, mod-acmezone.tokens and .syncs are not 0 (tokens=$(zstat tokens) syncs=$(zstat syncs))"

# The instance that the reloads left in place still reads its writes.
fails=0
t0=$(test_now_ms)
for i in $(seq 1 20); do
	printf -v v 'rld%040d' "$i"
	az add "$R" "$v" && has_value "$R" "$v" || fails=$((fails + 1))
	az del "$R" && is_nx "$R" || fails=$((fails + 1))
done
is "$fails" 0 "after the reloads: 20 rounds of add/del are visible at once"
diag "20 rounds took $(( $(test_now_ms) - t0 )) ms"

# --- IPv6 loopback.
if [ "$KD_IPV6" = yes ]; then
	out=$("$KD_DNSLOAD" query -s ::1 -p "$KD_PORT" "$A" TXT)
	is "$(txt_of "$out")" "$(sorted "$T1" "$T3")" "answered over ::1"
fi

# --- Statistics.  Since Knot 3.4 'knotc zone-stats' leaves out counters
# that are zero (3.2 lists them all): one query of each kind first, so
# that every counter is non-zero and listed on every version.
dq "$A" TXT >/dev/null		# an answer
dq "$A" A >/dev/null		# NODATA at a token name
dq "nothing.$Z" TXT >/dev/null	# not in the store
stats=$(kd_ctl zone-stats "$Z" mod-acmezone 2>&1)
printf '%s\n' "$stats" | while IFS= read -r line; do diag "zone-stats: $line"; done
for c in answers nodata misses; do
	like "$stats" "^\\[$Z\\] mod-acmezone\\.$c = [1-9][0-9]*$" "zone-stats shows mod-acmezone.$c"
done
a0=$(zstat answers) n0=$(zstat nodata) m0=$(zstat misses)
dq "$A" TXT >/dev/null		# an answer
dq "$A" A >/dev/null		# NODATA at a token name
dq "nothing.$Z" TXT >/dev/null	# not in the store
a1=$(zstat answers) n1=$(zstat nodata) m1=$(zstat misses)
is "$(( ${a1:-0} - ${a0:-0} ))" 1 "one TXT answer counts one in mod-acmezone.answers"
is "$(( ${n1:-0} - ${n0:-0} ))" 1 "one NODATA counts one in mod-acmezone.nodata"
is "$(( ${m1:-0} - ${m0:-0} ))" 1 "one unknown name counts one in mod-acmezone.misses"

# --- The ttl item: changed by a reload, and its default.
KD_TTL=7 knotd_write_conf
kd_ctl reload >/dev/null
ok $? "reload with ttl: 7"
poll_until 5 ttls_are "$A" 7
ok $? "TXT answers now carry TTL 7"
KD_TTL='' knotd_write_conf
kd_ctl reload >/dev/null
ok $? "reload without a ttl item"
poll_until 5 ttls_are "$A" 10
ok $? "TXT answers carry the default TTL 10"

# --- Orderly stop.
knotd_stop
ok $? "knotc stop: knotd exits with status 0"
grep -E 'error|critical' "$KD_LOG" | while IFS= read -r line; do diag "log: $line"; done

done_testing
