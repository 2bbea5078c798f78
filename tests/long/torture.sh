#!/bin/bash
# torture.sh -- writers (add/del/apply/expiring values, the real CLI), checked queries over UDP and TCP, dnsload at full speed and 'knotc reload' every second, all at once.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/long/torture (see its header) runs the writers and the verifier; dnsload
# loads knotd with checked queries for names no writer touches; this script
# reloads knotd every second meanwhile and compares knotd's RSS before and
# after.  TORTURE_SECONDS (default 20) sets the length; 'make check-long'
# runs it for 300 s.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

SECS=${TORTURE_SECONDS:-20}
TORTURE="$top_builddir/tests/long/torture"
knotd_require
[ -x "$TORTURE" ] || bail "tests/long/torture is not built"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aztorture.XXXXXX") || bail "mktemp failed"
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	(exit $rc)
	knotd_cleanup
}
trap cleanup EXIT
knotd_setup "$dir"
Z=$KD_ZONE

rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$KD_PID/status" 2>/dev/null
}

knotd_init >/dev/null
ok $? "acmezone init"
knotd_start
S="_acme-challenge.static.$Z"
TS=$(printf '%s' static | sha256sum | cut -c1-43)
az add "$S" "$TS"
ok $? "a static token for dnsload"
{
	echo "$S $TS"
	echo "nx.$Z -"
	echo "_acme-challenge.nx.$Z -"
} >"$dir/expect"

# Warm up (first loads, reload code paths) before the RSS baseline.
kd_ctl reload >/dev/null
dq "$S" TXT >/dev/null
sleep 1
rss0=$(rss_kb)
diag "knotd RSS at start: ${rss0:-?} kB; running for ${SECS}s"

"$KD_DNSLOAD" load -s 127.0.0.1 -p "$KD_PORT" -f "$dir/expect" --duration-ms $((SECS * 1000)) \
	--tcp-share 10 --window 32 --case-random >"$dir/load.out" 2>&1 &
load_pid=$!
pids+=("$load_pid")
"$TORTURE" -s 127.0.0.1 -p "$KD_PORT" --cli "$KD_CLI" --db "$KD_DB" --zone "$Z" \
	--writers 4 --names 16 --udp-threads 3 --tcp-threads 1 \
	--duration-ms $((SECS * 1000)) >"$dir/torture.out" 2>"$dir/torture.err" &
torture_pid=$!
pids+=("$torture_pid")

reloads=0 reload_fail=0
end=$(( $(test_now_ms) + SECS * 1000 ))
while [ "$(test_now_ms)" -lt "$end" ]; do
	sleep 1	# pacing: one reload a second is the load under test
	if kd_ctl reload >/dev/null 2>&1; then
		reloads=$((reloads + 1))
	else
		reload_fail=$((reload_fail + 1))
	fi
done
wait "$torture_pid"
torture_rc=$?
wait "$load_pid"
load_rc=$?
pids=()

t=$(head -n 1 "$dir/torture.out")
l=$(head -n 1 "$dir/load.out")
diag "torture: $t"
diag "dnsload: $l"
is "$reload_fail" 0 "$reloads 'knotc reload' accepted, one a second"
is "$torture_rc" 0 "torture exit status"
is "$(field "$t" wrong)" 0 "no wrong answer among $(field "$t" checked) checked (torn=$(field "$t" torn) stale=$(field "$t" stale) future=$(field "$t" future) foreign=$(field "$t" foreign) expired=$(field "$t" expired))"
if [ "$(field "$t" wrong)" != 0 ]; then
	sed 1d "$dir/torture.out" | while IFS= read -r line; do diag "$line"; done
fi
is "$(field "$t" write_errors)" 0 "every CLI run succeeded ($(field "$t" writes) writes)"
[ "$(field "$t" writes)" -gt $((SECS * 2)) ] 2>/dev/null  # a real write load, even on a loaded machine
ok $? "the writers wrote ($(field "$t" writes) CLI runs)"
[ "$(field "$t" checked)" -gt $((SECS * 500)) ] 2>/dev/null
ok $? "the verifier checked enough answers ($(field "$t" checked))"
q=$(field "$t" queries)
to=$(field "$t" timeouts)
[ $(( ${to:-1} * 1000 )) -le "${q:-0}" ]
ok $? "verifier timeouts under 0.1% (${to:-?} of ${q:-?})"
is "$load_rc" 0 "dnsload exit status"
is "$(field "$l" wrong)" 0 "dnsload: no wrong answer ($(field "$l" answered) answered, $(field "$l" qps) qps)"
sent=$(field "$l" sent)
lto=$(field "$l" timeouts)
[ $(( ${lto:-1} * 100 )) -le "${sent:-0}" ]
ok $? "dnsload timeouts under 1% (${lto:-?} of ${sent:-?})"
kd_alive && kd_soa_answered
ok $? "knotd is alive and answering: no crash"
# Concurrent commits must never look like a fault to the module.
grep -F 'mod-acmezone' "$KD_LOG" | grep -E 'warning|error' >"$dir/warnings"
is "$(wc -l <"$dir/warnings" | tr -d ' ')" 0 "the module logged no warning (no false fault under concurrent writers)"
head -n 5 "$dir/warnings" | while IFS= read -r line; do diag "log: $line"; done
sleep 1
rss1=$(rss_kb)
diag "knotd RSS at end: ${rss1:-?} kB (start ${rss0:-?} kB)"
[ -n "$rss0" ] && [ -n "$rss1" ] && [ "$rss1" -le $((rss0 * 3 / 2 + 16384)) ]
ok $? "RSS did not grow beyond noise (${rss0:-?} -> ${rss1:-?} kB; bound 1.5x + 16 MiB)"
# The verifier can fail: writers that do not wait for knotd make it see
# acknowledged writes missing.
"$TORTURE" -s 127.0.0.1 -p "$KD_PORT" --cli "$KD_CLI" --db "$KD_DB" --zone "$Z" \
	--writers 2 --names 4 --udp-threads 2 --tcp-threads 0 --duration-ms 3000 \
	--no-wait --tag nw >"$dir/nowait.out" 2>&1
nw=$(head -n 1 "$dir/nowait.out")
diag "torture --no-wait: $nw"
[ "$(field "$nw" stale)" -gt 0 ] 2>/dev/null
ok $? "self-test: with writers that do not wait, the verifier reports stale answers ($(field "$nw" stale))"
is "$(field "$nw" torn)/$(field "$nw" future)/$(field "$nw" foreign)" 0/0/0 \
	"... and only those: never a torn RRset nor a value from the future"
knotd_stop
ok $? "knotc stop: knotd exits with status 0"
done_testing
