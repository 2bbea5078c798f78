#!/bin/bash
# observe.sh -- mod-acmezone observation in a real knotd: sources, transports, DO, 0x20, misses, resets.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

knotd_require
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found (reads status --json)"
dir=$(mktemp -d "${TMPDIR:-/tmp}/azobs.XXXXXX") || bail "mktemp failed"
trap knotd_cleanup EXIT
knotd_setup "$dir" acme.example.test
knotd_init --zone acme.example.test >/dev/null || bail "acmezone init failed"
knotd_start
OBS="$KD_DB-observe/knotd"
NAME=example-org.acme.example.test.

# send SRC [dnsload query options] NAME TYPE: one query from SRC.
send() {
	local src=$1
	shift
	"$KD_DNSLOAD" query -s 127.0.0.1 -p "$KD_PORT" --from "$src" "$@" >/dev/null
}

# seen DOMAIN EXPR: EXPR (Python, over 's' = the name's "seen" object and
# 'v' = its values) from 'acmezone status --json DOMAIN'; a tuple is
# printed with one blank between its items.
seen() {
	az status --json "$1" 2>/dev/null | python3 -c '
import json, sys
n = json.load(sys.stdin)[0]
s = n["seen"] or {}
v = n["values"]
r = eval(sys.argv[1])
print(" ".join(map(str, r)) if isinstance(r, tuple) else r)' "$2"
}

# seen_is DOMAIN EXPR WANT: poll until EXPR is WANT (the file is written
# within a poll interval of a change).
seen_is() {
	[ "$(seen "$1" "$2")" = "$3" ]
}

########################################################################
diag "knotd on 127.0.0.1@$KD_PORT, store $KD_DB"

# --- Asked too early: two misses before the value exists.
out=$(dq --from 127.0.0.9 example-org.acme.example.test. TXT)
like "$(head_of "$out")" "rcode=NXDOMAIN" "before publish: NXDOMAIN"
send 127.0.0.9 example-org.acme.example.test. TXT
T1=$(tok obs-1)
az add example.org "$T1" >/dev/null
ok $? "publish a value for example.org"

# --- N = 7 queries from M = 4 sources.
send 127.0.0.2 --dnssec Example-Org.Acme.Example.Test. TXT	# UDP, DO, 0x20
send 127.0.0.2 --tcp example-org.acme.example.test. TXT	# TCP
send 127.0.0.3 example-org.acme.example.test. TXT		# UDP
send 127.0.0.3 --dnssec example-org.acme.example.test. TXT	# UDP, DO
send 127.0.0.4 --tcp EXAMPLE-ORG.acme.example.test. TXT	# TCP, 0x20
send 127.0.0.5 example-org.acme.example.test. A		# UDP, NODATA
send 127.0.0.5 example-org.acme.example.test. TXT		# UDP
poll_until 5 seen_is example.org 's.get("queries")' 7
ok $? "status --json: 7 queries"
is "$(seen example.org 's["sources"], s["sources_estimated"]')" "4 False" "4 sources, exact"
is "$(seen example.org '" ".join(sorted(s["addresses"]))')" \
	"127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5" "the 4 addresses"
is "$(seen example.org 's["udp"], s["tcp"]')" "5 2" "5 over UDP, 2 over TCP"
is "$(seen example.org 's["dnssec_ok"]')" 2 "2 with the DO bit"
is "$(seen example.org 's["case_randomised"]')" 2 "2 with a mixed-case name"
is "$(seen example.org 's["served"], s["nodata"], s["nxdomain"]')" "6 1 0" \
	"6 answered with the value, 1 NODATA"
is "$(seen example.org 's["asked_too_early"]')" 2 "2 asked too early"
is "$(seen example.org 's["published_ms"] == v[0]["published_ms"]')" True \
	"the counts belong to the value's publication"
is "$(seen example.org '0 <= s["first_after_publish_ms"] < 10000 and s["first_ms"] <= s["last_ms"]')" \
	True "first query after publish, last after first"
is "$(seen example.org 's["too_early_last_ms"] <= s["published_ms"]')" True \
	"the misses came before the publication"

human=$(az status example.org)
like "$human" "queried 7 times by 4 resolvers over UDP and TCP, first .* after publish, last .* ago; case randomised; DNSSEC OK bit set" \
	"status says it in words"
like "$human" "asked too early: 2 times" "and the misses"

# --- The file: operator data, the store's group, atomic.
is "$(stat -c '%a %U %G' "$OBS")" "640 $KD_USER $KD_GROUP" "observation file: 0640, $KD_USER:$KD_GROUP"
is "$(stat -c '%a %G' "$KD_DB-observe")" "2770 $KD_GROUP" "its directory: 2770, group $KD_GROUP"

# --- watch: at once when the CA has looked; 4 on timeout.
az watch example.org --timeout 5 >/dev/null
is $? 0 "watch exits 0 for a name already queried"
az add other.example "$(tok obs-2)" >/dev/null
az watch other.example --timeout 0.5 >/dev/null 2>"$dir/watch.err"
is $? 4 "watch exits 4 when nobody asks in time"
like "$(cat "$dir/watch.err")" "no query of its live value within 0.5 s" "and says so"
az watch other.example --timeout 10 >"$dir/watch.out" 2>&1 &
wpid=$!
poll_until 5 grep -q "waiting for the first query" "$dir/watch.out"
ok $? "watch is waiting"
send 127.0.0.7 other-example.acme.example.test. TXT
wait "$wpid"
is $? 0 "watch exits 0 after a query arrives"
like "$(cat "$dir/watch.out")" "queried 1 time by 1 resolver over UDP" "and shows it"

# --- A new publication resets the counters.
az add example.org "$(tok obs-3)" >/dev/null
poll_until 5 seen_is example.org 's.get("queries"), len(v)' "0 2"
ok $? "a second value: a new publication, counters back to 0"
send 127.0.0.6 example-org.acme.example.test. TXT
poll_until 5 seen_is example.org 's.get("queries")' 1
ok $? "then 1 query"
is "$(seen example.org 's["sources"], s["addresses"], s["asked_too_early"]')" "1 ['127.0.0.6'] 0" \
	"from 1 new source, no early misses carried over"

# --- Deleted and re-added: starts fresh.
az del example.org >/dev/null
az add example.org "$T1" >/dev/null
poll_until 5 seen_is example.org 's.get("queries")' 0
ok $? "a value deleted and re-added starts at 0"
send 127.0.0.8 --tcp example-org.acme.example.test. TXT
poll_until 5 seen_is example.org 's.get("queries"), s.get("tcp")' "1 1"
ok $? "and counts its own query"

# --- A damaged file: said once, the values are still shown.
truncate -s 100 "$OBS"
out=$(az status example.org 2>"$dir/err")
is $? 0 "status with a truncated observation file exits 0"
like "$(cat "$dir/err")" "observation file is damaged \(checksum mismatch" "and names the damage"
like "$out" "value $T1" "the value is still shown"
send 127.0.0.8 example-org.acme.example.test. TXT
poll_until 5 seen_is example.org 's.get("queries")' 2
ok $? "the server rewrites a whole file at the next query"

# --- Observation off: 'observe: 0'.
knotd_stop
ok $? "knotd stops"
rm -f "$OBS"
sed -i 's/^\(    database: .*\)$/\1\n    observe: 0/' "$KD_CONF"
knotd_start
az add third.example "$(tok obs-4)" >/dev/null
send 127.0.0.2 third-example.acme.example.test. TXT
out=$(az status third.example 2>&1)
like "$out" "no server has written an observation file yet" "observe: 0 writes no file"
[ ! -e "$OBS" ]
ok $? "and there is none"

done_testing
