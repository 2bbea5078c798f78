#!/bin/bash
# named-dlz.sh -- queries/s of named answering the challenge zone through dlz_acmezone.so vs from a static zone file.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage: bench/named-dlz.sh [--rounds N] [--seconds S] [--names N]
#                           [--nx-percent P] [--threads T] [--clients C]
#
# Starts two named processes on loopback, on free ports, in a temporary
# directory: one serves acme.example.test through the DLZ driver from an
# LMDB store, the other serves the same zone from a zone file holding the
# same TXT records.  Then it runs dnsperf against them in interleaved
# rounds (dlz, static, dlz, static, ...: drift of the machine hits both
# alike), prints each round's queries/s, the medians and their ratio, and
# stops both servers (by 'rndc stop', or by the PID it started).
#
# The query mix: --names token names with one 43-character value each,
# asked for TXT, plus --nx-percent of names that do not exist (NXDOMAIN).
# Each named runs --threads worker threads (named -n), so that dnsperf
# has a CPU of its own on a small machine.
#
# Needs a build tree (./configure && make), named and rndc (bind9) and
# dnsperf (Debian package dnsperf).  Not part of 'make check'.

set -u

here=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$here}
NAMED=${NAMED:-/usr/sbin/named}
RNDC=${RNDC:-/usr/sbin/rndc}
DNSPERF=${DNSPERF:-dnsperf}

rounds=5
seconds=5
names=100
nx_percent=10
threads=1
clients=4

usage() {
	sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--names) names=$2; shift 2 ;;
	--nx-percent) nx_percent=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--clients) clients=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "named-dlz.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for v in "$rounds" "$seconds" "$names" "$nx_percent" "$threads" "$clients"; do
	case $v in
	''|*[!0-9]*) echo "named-dlz.sh: '$v' is not a number" >&2; exit 2 ;;
	esac
done

die() {
	echo "named-dlz.sh: $*" >&2
	exit 1
}

driver="$top_builddir/.libs/dlz_acmezone.so"
cli="$top_builddir/acmezone"
freeport="$top_builddir/tests/lib/freeport"
[ -x "$NAMED" ] || die "named not found at '$NAMED' (apt-get install bind9)"
[ -x "$RNDC" ] || die "rndc not found at '$RNDC' (apt-get install bind9)"
command -v "$DNSPERF" >/dev/null 2>&1 || die "dnsperf not found (apt-get install dnsperf)"
[ -f "$driver" ] || die "'$driver' not built (./configure && make)"
[ -x "$cli" ] || die "'$cli' not built"
[ -x "$freeport" ] || die "'$freeport' not built (make check builds it, or make tests/lib/freeport)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/azbench.XXXXXX") || die "mktemp failed"
zone=acme.example.test
db="$dir/acmezone.mdb"
pids=()
confs=()

# Stop what we started: rndc first, then only the PIDs we know.
cleanup() {
	local i
	for i in "${!pids[@]}"; do
		"$RNDC" -c "${confs[$i]%/named.conf}/rndc.conf" stop >/dev/null 2>&1
	done
	for i in "${!pids[@]}"; do
		local pid=${pids[$i]} n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		if kill -0 "$pid" 2>/dev/null &&
		   tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "${confs[$i]}"; then
			kill "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	rm -rf -- "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# setup NAME ZONE-STATEMENT: a named.conf, rndc key and config in $dir/NAME.
setup() {
	local d="$dir/$1" port cport secret
	mkdir -p "$d"
	port=$("$freeport") && cport=$("$freeport") || die "no free port"
	secret=$(head -c 32 /dev/urandom | base64)
	echo "key \"rndc-key\" { algorithm hmac-sha256; secret \"$secret\"; };" >"$d/rndc.key"
	cat >"$d/rndc.conf" <<-EOF
	include "$d/rndc.key";
	options { default-key "rndc-key"; default-server 127.0.0.1; default-port $cport; };
	EOF
	cat >"$d/named.conf" <<-EOF
	options {
		directory "$d";
		pid-file "$d/named.pid";
		session-keyfile "$d/session.key";
		managed-keys-directory "$d";
		listen-on port $port { 127.0.0.1; };
		listen-on-v6 { none; };
		recursion no;
		dnssec-validation no;
		notify no;
		minimal-responses yes;
		querylog no;
	};
	include "$d/rndc.key";
	controls { inet 127.0.0.1 port $cport allow { 127.0.0.1; } keys { "rndc-key"; }; };
	$2
	EOF
	echo "$port"
}

# start NAME PORT: run named in the foreground (in our background).
start() {
	local d="$dir/$1" port=$2 n=0
	"$NAMED" -g -c "$d/named.conf" -n "$threads" >"$d/named.log" 2>&1 &
	pids+=($!)
	confs+=("$d/named.conf")
	while [ $n -lt 150 ]; do
		if dig @127.0.0.1 -p "$port" +norec +time=1 +tries=1 +short "$zone" SOA 2>/dev/null | grep -q .; then
			return 0
		fi
		kill -0 "${pids[-1]}" 2>/dev/null || { tail "$d/named.log" >&2; die "named ($1) exited"; }
		sleep 0.1
		n=$((n + 1))
	done
	tail "$d/named.log" >&2
	die "named ($1) did not come up"
}

tok() {
	printf '%s' "$1" | sha256sum | cut -c1-43
}

# The records: the store for one, the zone file for the other, the query file.
"$cli" --db "$db" init --group "$(id -gn)" >/dev/null || die "acmezone init failed"
batch="$dir/batch"
zonefile="$dir/static.zone"
queries="$dir/queries"
{
	echo "\$ORIGIN $zone."
	echo "\$TTL 10"
	echo "@ 10 SOA ns.invalid. hostmaster.invalid. 1 3600 600 1209600 10"
	echo "@ 60 NS ns.invalid."
} >"$zonefile"
: >"$batch"
: >"$queries"
for i in $(seq 1 "$names"); do
	n="_acme-challenge.host$i.$zone"
	v=$(tok "$i")
	echo "add $n $v" >>"$batch"
	echo "_acme-challenge.host$i 10 TXT \"$v\"" >>"$zonefile"
	echo "$n TXT" >>"$queries"
done
nx=$(( names * nx_percent / (100 - (nx_percent < 100 ? nx_percent : 99)) ))
for i in $(seq 1 "$nx"); do
	echo "_acme-challenge.missing$i.$zone TXT" >>"$queries"
done
"$cli" --db "$db" apply "$batch" >/dev/null || die "acmezone apply failed"
shuf "$queries" -o "$queries" 2>/dev/null || :

dlz_port=$(setup dlz "dlz \"acmezone\" { database \"dlopen $driver zone=$zone db=$db ttl=10 ns=ns.invalid rname=hostmaster.invalid\"; };")
static_port=$(setup static "zone \"$zone\" { type primary; file \"$zonefile\"; };")
start dlz "$dlz_port"
start static "$static_port"

# The two must give the same answers before their speed means anything.
probe="_acme-challenge.host1.$zone"
a=$(dig @127.0.0.1 -p "$dlz_port" +norec +short "$probe" TXT)
b=$(dig @127.0.0.1 -p "$static_port" +norec +short "$probe" TXT)
[ -n "$a" ] && [ "$a" = "$b" ] || die "the two servers disagree on $probe ('$a' vs '$b')"
a=$(dig @127.0.0.1 -p "$dlz_port" +norec "_acme-challenge.missing1.$zone" TXT | grep -o 'status: [A-Z]*')
b=$(dig @127.0.0.1 -p "$static_port" +norec "_acme-challenge.missing1.$zone" TXT | grep -o 'status: [A-Z]*')
[ "$a" = "$b" ] || die "the two servers disagree on a missing name ('$a' vs '$b')"

# qps PORT: one dnsperf run, its queries per second.
qps() {
	"$DNSPERF" -s 127.0.0.1 -p "$1" -d "$queries" -l "$seconds" -c "$clients" \
		-q 200 2>&1 | awk '/Queries per second:/ { print $4 }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

echo "named $("$NAMED" -v | awk '{ print $2 }'), $threads worker thread(s) each; dnsperf $clients clients, ${seconds}s per run"
echo "queries: $names token names (TXT, answered) + $nx missing names (NXDOMAIN), shuffled"
echo
printf '%-7s %14s %14s\n' round "dlz q/s" "static q/s"
dlz_all=()
static_all=()
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then
		d=$(qps "$dlz_port"); s=$(qps "$static_port")
	else
		s=$(qps "$static_port"); d=$(qps "$dlz_port")
	fi
	[ -n "$d" ] && [ -n "$s" ] || die "dnsperf gave no result in round $r"
	dlz_all+=("$d")
	static_all+=("$s")
	printf '%-7s %14.0f %14.0f\n' "$r" "$d" "$s"
done
dm=$(printf '%s\n' "${dlz_all[@]}" | median)
sm=$(printf '%s\n' "${static_all[@]}" | median)
printf '%-7s %14.0f %14.0f\n' median "$dm" "$sm"
awk -v d="$dm" -v s="$sm" 'BEGIN { printf "\nratio dlz/static: %.2f (the DLZ path answers at %.0f%% of the static zone speed)\n", d / s, 100 * d / s }'
