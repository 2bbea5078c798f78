#!/bin/bash
# valgrind.sh -- knotd with mod-acmezone under valgrind memcheck: load, serve, write, reload several times, stop; no invalid access, no leak from the module.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every error valgrind reports is looked at: one whose stack has a frame in
# acmezone.so or in the module's or store's sources fails the test (any
# kind: invalid read or write, uninitialised value, leak); others (knotd's,
# libraries') are shown but do not fail it.  Slow: bounded by VALGRIND_S
# (default 120 s for the whole run).

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

command -v valgrind >/dev/null 2>&1 || skip_all "valgrind not installed"
REAL_KNOTD=$KNOTD
[ -x "$REAL_KNOTD" ] || skip_all "knotd not found at '$REAL_KNOTD'"
dir=$(mktemp -d "${TMPDIR:-/tmp}/azvg.XXXXXX") || bail "mktemp failed"
trap knotd_cleanup EXIT

# knotd through a wrapper that execs it under valgrind (same PID, and the
# command line still names our config, as knotd-lib.sh wants).
cat >"$dir/knotd-vg" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \\
	--errors-for-leak-kinds=definite,indirect --num-callers=30 \\
	--log-file="$dir/vg.%p" "$REAL_KNOTD" "\$@"
EOF
chmod +x "$dir/knotd-vg"
KNOTD="$dir/knotd-vg"
KD_READY_S=90
KD_STOP_S=90
knotd_require
knotd_setup "$dir"
Z=$KD_ZONE
t0=$(test_now_ms)

knotd_init >/dev/null
ok $? "acmezone init"
knotd_start
diag "knotd under valgrind is up after $(( ($(test_now_ms) - t0) / 1000 )) s"
A="_acme-challenge.vg.$Z"
T1=$(tok one)
az --wait-timeout 30 add "$A" "$T1"
ok $? "a token is written (acknowledged by knotd under valgrind)"
has_value "$A" "$T1"
ok $? "and served"
for i in $(seq 1 50); do
	echo "add n$i.$Z $(tok "n$i")"
done | az --wait-timeout 30 apply
ok $? "a batch of 50 names"
az --wait-timeout 30 add "_acme-challenge.exp.$Z" "$(tok exp)" --expire 1s
ok $? "a value that expires in 1 s"

fails=0
for r in 1 2 3; do
	kd_ctl reload >/dev/null || fails=$((fails + 1))
	poll_until 30 has_value "$A" "$T1" || fails=$((fails + 1))
	T=$(tok "r$r")
	az --wait-timeout 30 add "_acme-challenge.r$r.$Z" "$T" || fails=$((fails + 1))
	has_value "_acme-challenge.r$r.$Z" "$T" || fails=$((fails + 1))
	az --wait-timeout 30 del "n$r.$Z" || fails=$((fails + 1))
	dq "n$r.$Z" TXT | grep -q NXDOMAIN || fails=$((fails + 1))
	dq "$A" A >/dev/null || fails=$((fails + 1))		# NODATA
	dq --tcp "$A" TXT >/dev/null || fails=$((fails + 1))
done
is "$fails" 0 "three reloads, each followed by writes and queries (UDP, TCP, NODATA, NXDOMAIN)"
kd_ctl zone-reload "$Z" >/dev/null
ok $? "a zone reload too"
"$KD_DNSLOAD" load -s 127.0.0.1 -p "$KD_PORT" -f <(echo "$A $T1"; echo "nx.$Z -") \
	--duration-ms 2000 --tcp-share 10 >"$dir/load.out" 2>&1
ok $? "2 s of checked load: $(head -n 1 "$dir/load.out")"
has_value "$A" "$T1"
ok $? "still served"

knotd_stop
ok $? "knotc stop: knotd (under valgrind) exits with status 0"
diag "whole run: $(( ($(test_now_ms) - t0) / 1000 )) s"

# The valgrind logs of knotd (one file per process; knotd does not fork).
logs=("$dir"/vg.*)
[ -f "${logs[0]}" ]
ok $? "valgrind wrote its log"
cat "${logs[@]}" >"$dir/vg.all" 2>/dev/null
summary=$(grep -h 'ERROR SUMMARY' "${logs[@]}" | tail -n 1)
diag "valgrind: ${summary#==*== }"
grep -hE 'definitely lost:|indirectly lost:|possibly lost:' "${logs[@]}" | sed 's/^==[0-9]*== *//' |
	while IFS= read -r line; do diag "valgrind: $line"; done

# Split the log into error records (separated by lines with only the
# "==PID==" prefix) and keep those with a frame of ours.
sed 's/^==[0-9]*== \{0,1\}//' "$dir/vg.all" >"$dir/vg.plain"
awk -v RS='' '
	/(acmezone\.so|module\/|store\/|\((acmezone|table|sync|store|record|name|notify|errors)\.c:[0-9]+\))/ &&
	/(Invalid|uninitialised|Uninitialised|definitely lost|indirectly lost|Mismatched|overlap|free\(\))/ {
		print; print ""
	}' "$dir/vg.plain" >"$dir/ours"
n=$(grep -cE '^(Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and dest)|(definitely|indirectly) lost in' "$dir/ours")
is "$n" 0 "no valgrind error with a frame in the module or the store"
if [ "$n" != 0 ]; then
	head -n 80 "$dir/ours" | while IFS= read -r line; do diag "$line"; done
fi
others=$(grep -cE '^(Invalid|Conditional|Use of uninit)' "$dir/vg.plain")
diag "errors elsewhere (knotd, libraries): $others"
grep -q 'acmezone' "$dir/vg.all" || grep -q 'Memcheck' "$dir/vg.all"
ok $? "the log is memcheck's"
done_testing
