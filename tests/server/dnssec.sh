#!/bin/bash
# dnssec.sh -- a signed challenge zone (mod-acmezone, then mod-onlinesign, as doc/dnssec.md configures it) through validating unbounds over UDP and over TCP: every answer validates and is right.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# knotd serves the challenge zone with the policy and mod-onlinesign
# sections of doc/dnssec.md, read from the page.  Two unbounds validate
# with the zone's DS (from 'keymgr ZONE ds', as the page says) as trust
# anchor, aggressive NSEC on (RFC 8198): one asks knotd over UDP (TCP after
# a TC), the other only over TCP (tcp-upstream).  For each: TXT at a name
# with values, NODATA for A (and for NSEC) there followed by the TXT again,
# an absent name, an empty non-terminal, a large answer; then a name that
# gets a value after its denial was cached, and the setups the module
# refuses to load with.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"
. "$top_srcdir/tests/lib/unbound-lib.sh"

knotd_require
ub_require
command -v keymgr >/dev/null 2>&1 || skip_all "keymgr not found (Debian: knot)"
command -v runuser >/dev/null 2>&1 || skip_all "runuser not found (Debian: util-linux)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/azdnssec.XXXXXX") || bail "mktemp failed"
cleanup() {
	local rc=$?
	ub_stop_all
	(exit "$rc")
	knotd_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

knotd_setup "$dir"
Z=$KD_ZONE
NEG_S=5			# the zone's SOA TTL and MINIMUM (knotd_setup)
knotd_signed_as_doc
diag "doc/dnssec.md: module: $KD_MODULES"

knotd_start
grep -qF "module 'mod-acmezone/default', signed on the fly by mod-onlinesign/" "$KD_LOG"
ok $? "the module loads before mod-onlinesign with TXT in its nsec-bitmap, and says so"
knotd_init >/dev/null
ok $? "acmezone init --group $KD_GROUP"

# The parent's DS, made as the page says (its zone name, our config file).
DS=$(knotd_ds "$Z")
ok $? "# $KD_DS_CMD (zone $Z)"
like "$DS" "^${Z//./\\.} DS [0-9]+ 13 2 [0-9A-Fa-f]{64}\$" "... prints the DS (ECDSA P-256, SHA-256)"

# ub_conf PORT [LINES]: a validating resolver for the zone, DS as anchor.
ub_conf() {
	ub_conf_head "$dir" "$1"
	cat <<-EOF
	    module-config: "validator iterator"
	    aggressive-nsec: yes
	    val-log-level: 2
	    use-caps-for-id: yes
	    trust-anchor: "$DS"
	$2
	stub-zone:
	    name: "$Z"
	    stub-addr: 127.0.0.1@$KD_PORT
	EOF
}
UDP=$(ub_port)
TCP=$(ub_port)
ub_conf "$UDP" "" >"$dir/ub-udp.conf"
ub_conf "$TCP" "    tcp-upstream: yes" >"$dir/ub-tcp.conf"
ub_start "$dir/ub-udp.conf" "$UDP" "$Z"
ub_start "$dir/ub-tcp.conf" "$TCP" "$Z"
ok 0 "two validating unbounds: 127.0.0.1@$UDP (UDP to knotd), 127.0.0.1@$TCP (TCP to knotd)"

# says PORT NAME TYPE VERDICT DESCRIPTION: ask that resolver (the answer
# is left in $out), and its verdict (ub_verdict) is VERDICT.
says() {
	out=$(ub_ask "$1" "$2" "$3")
	is "$(ub_verdict "$out")" "$4" "$5"
}

says "$UDP" "$Z" SOA "NOERROR ad 2" "the apex SOA validates (AD), with its RRSIG"

# kq NAME TYPE: knotd's own answer, DO set.
kq() {
	q +dnssec "$2" "$1"
}

# nsec_of OUTPUT NAME: "NEXT TYPES..." of the NSEC at NAME.
nsec_of() {
	printf '%s\n' "$1" | awk -v n="$2" 'tolower($1) == n && $4 == "NSEC" {
		$1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }'
}

# The same checks through each resolver, on names of its own.
for via in udp tcp; do
	if [ "$via" = udp ]; then P=$UDP; else P=$TCP; fi
	V=$(tok "val-$via")
	W=$(tok "val2-$via")
	az add "v-$via.$Z" "$V" && az add "w-$via.$Z" "$W" &&
		az add "n-$via.$Z" "$V" && az add "x.ent-$via.$Z" "$V"
	ok $? "$via: values at v-$via, w-$via, n-$via and x.ent-$via"

	says "$P" "v-$via.$Z" TXT "NOERROR ad 2" "$via: TXT at a name with a value validates"
	is "$(ub_txt "$out")" "$V" "$via: ... and is the value"

	# The issue's sequence: A first, then TXT, at a name not asked before.
	says "$P" "w-$via.$Z" A "NOERROR ad 0" "$via: A at a name with a value: NODATA that validates"
	says "$P" "w-$via.$Z" TXT "NOERROR ad 2" "$via: TXT right after: still an answer that validates"
	is "$(ub_txt "$out")" "$W" "$via: ... the value, not a NODATA from the cached NSEC"

	# An explicit NSEC query puts an NSEC for the name into the cache too.
	says "$P" "n-$via.$Z" NSEC "NOERROR ad 2" "$via: NSEC at a name with a value validates"
	like "$(nsec_of "$out" "n-$via.$Z")" " TXT( |$)" "$via: ... and lists TXT"
	says "$P" "n-$via.$Z" TXT "NOERROR ad 2" "$via: TXT right after validates"
	is "$(ub_txt "$out")" "$V" "$via: ... the value"

	says "$P" "absent-$via.$Z" TXT "NOERROR ad 0" \
		"$via: an absent name: NODATA (mod-onlinesign's minimal NSEC) that validates"
	says "$P" "ent-$via.$Z" TXT "NOERROR ad 0" "$via: TXT at an empty non-terminal: NODATA that validates"
	says "$P" "ent-$via.$Z" A "NOERROR ad 0" "$via: A at the empty non-terminal: NODATA that validates"
	says "$P" "x.ent-$via.$Z" TXT "NOERROR ad 2" "$via: the name below the empty non-terminal validates"
	is "$(ub_txt "$out")" "$V" "$via: ... the value"

	# 40 values: over 1232 octets, TC over UDP, unbound asks again over TCP.
	for i in $(seq 1 40); do
		printf 'add big-%s.%s %s\n' "$via" "$Z" "$(tok "big-$via-$i")"
	done | az apply
	says "$P" "big-$via.$Z" TXT "NOERROR ad 41" "$via: 40 values (a truncated UDP answer from knotd) validate"
done

# knotd's own proofs: the bitmap at a name with values lists TXT.
out=$(kq "v-udp.$Z" A)
like "$(nsec_of "$out" "v-udp.$Z")" "^\\\\000\\.v-udp\\.${Z//./\\.} .*TXT" \
	"knotd: NODATA for A at a name with a value: NSEC to \\000.name, TXT in the bitmap"
printf '%s\n' "$(nsec_of "$out" "v-udp.$Z")" | grep -qE '(^| )A( |$)'
is "$?" 1 "knotd: ... and not A"
out=$(kq "gone.$Z" TXT)
is "$(nsec_of "$out" "gone.$Z")" "\\000.gone.$Z A AAAA RRSIG NSEC" \
	"knotd: TXT at an absent name: an NSEC covering that name alone, without TXT"

########################################################################
# A name that gets a value after its denial was cached.

L=$(tok late)
declare -A cached_at
for P in "$UDP" "$TCP"; do
	cached_at[$P]=$(test_now_ms)
	says "$P" "late.$Z" TXT "NOERROR ad 0" "late: the resolver at $P caches the denial of late"
done
az add "late.$Z" "$L" && az add "late-2.$Z" "$L" && az add "a.late.$Z" "$L"
ok $? "values at late, at late-2 (next in canonical order) and at a.late (below it)"
for P in "$UDP" "$TCP"; do
	out=$(ub_ask "$P" "late-2.$Z" TXT)
	is "$(ub_txt "$out") $(ub_verdict "$out")" "$L NOERROR ad 2" \
		"late: the cached proof does not cover late-2: its value at once ($P)"
	out=$(ub_ask "$P" "a.late.$Z" TXT)
	is "$(ub_txt "$out") $(ub_verdict "$out")" "$L NOERROR ad 2" \
		"late: nor a.late below it: its value at once ($P)"
done
late_asked=0		# when late_served last asked
late_served() {
	local o
	late_asked=$(test_now_ms)
	o=$(ub_ask "$1" "late.$Z" TXT) &&
		[ "$(ub_txt "$o") $(ub_verdict "$o")" = "$L NOERROR ad 2" ]
}
for P in "$UDP" "$TCP"; do
	poll_until $((NEG_S + 2)) late_served "$P"
	rc=$?
	ms=$(( late_asked - ${cached_at[$P]} ))
	ok "$rc" "late: served with AD once the negative TTL ($NEG_S s) has run out ($P)"
	# Unbound counts TTLs in whole seconds (up to one more), and a poll
	# (one kdig) takes up to a second or two on a loaded machine.  A
	# bound that matters all the same: without it a resolver keeps a
	# denial up to its cache-max-negative-ttl (3600 s by default).
	[ "$ms" -le $(( (NEG_S + 3) * 1000 )) ]
	ok $? "late: ... asked $ms ms after the denial was cached: the SOA MINIMUM ($NEG_S s) and at most 3 s more"
done

########################################################################
# Setups the module refuses, each with a line in knotd's log.

# restart_with MODULES ITEMS: knotd again with another zone setup.  A
# refused module leaves the zone served without it (Knot 3.2 to 3.4) or
# not activated at all (3.5): either way no challenge is answered, so
# wait for the control socket only.
restart_with() {
	knotd_stop || diag "knotd did not stop cleanly"
	KD_MODULES=$1
	KD_ZONE_ITEMS=$2
	knotd_write_conf
	KD_READY=control knotd_start
}

# no_value NAME: knotd answers no TXT at NAME (the module is not there).
no_value() {
	! kq "$1" TXT | grep -qE '^[^;].*IN[[:space:]]+TXT'
}

restart_with "[ mod-acmezone/default, mod-onlinesign ]" ""
poll_until 5 grep -qF "module 'mod-acmezone/default', not loaded: mod-onlinesign does not list TXT in 'nsec-bitmap' (it has no configuration id)" "$KD_LOG"
ok $? "refused: mod-onlinesign without a configuration (its bitmaps lack TXT), logged"
no_value "v-udp.$Z"
ok $? "... and no challenge is answered (the zone without the module, or not at all)"

restart_with "[ mod-onlinesign/acme, mod-acmezone/default ]" ""
poll_until 5 grep -qF "module 'mod-acmezone/default', not loaded: mod-onlinesign/acme comes before mod-acmezone" "$KD_LOG"
ok $? "refused: mod-onlinesign listed before the module, logged"
no_value "v-udp.$Z"
ok $? "... and no challenge is answered"

restart_with "mod-acmezone/default" "    dnssec-signing: on"
poll_until 5 grep -qF "module 'mod-acmezone/default', not loaded: the zone is signed by knotd ('dnssec-signing: on')" "$KD_LOG"
ok $? "refused: a zone signed by knotd ('dnssec-signing: on'), logged"
out=$(kq "v-udp.$Z" TXT)
printf '%s\n' "$out" | grep -qE '^[^;].*IN[[:space:]]+TXT'
is "$?" 1 "... no unsigned TXT goes out beside the zone's NSEC chain"

knotd_stop
ok $? "knotc stop: knotd exits with status 0"
ub_stop_all

done_testing
