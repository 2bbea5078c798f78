# lib.sh -- shared helpers of the benchmark parts: data, servers, statistics, the table; source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every part (bench/*.sh) sources this file, works in one temporary
# directory, starts its own servers on free loopback ports and stops them
# (knotc stop, or the PID it started) whatever happens.  Nothing here
# signals a process it did not start, and every wait is bounded.
#
# Settings (environment):
#   BENCH_ROUNDS    interleaved rounds per comparison          (default 7)
#   BENCH_SECONDS   seconds per dnsperf round                  (default 2)
#   BENCH_SIZES     token counts for throughput/memory   (100 100000 1000000)
#   BENCH_QUICK=1   short development runs: 1 round of 2 s, fewer samples
#   BENCH_KEEP=1    keep the work directory
#   BENCH_OUT=FILE  append table rows to FILE as well (bench/run.sh sets it)

set -u

B_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$B_HERE/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

KNOTD=${KNOTD:-/usr/sbin/knotd}
KNOTC=${KNOTC:-/usr/sbin/knotc}
NAMED=${NAMED:-/usr/sbin/named}
KNSUPDATE=${KNSUPDATE:-knsupdate}
DNSPERF=${DNSPERF:-dnsperf}

B_MODULE="$top_builddir/.libs/acmezone.so"
B_CLI="$top_builddir/acmezone"
B_FREEPORT="$top_builddir/tests/lib/freeport"
B_AZB="$top_builddir/bench/azbench"

B_ZONE=acme.bench.
B_TTL=10
B_KEY_NAME=bench-key
B_KEY_SECRET=YmVuY2htYXJrLW9ubHktdHNpZy1rZXktbm90LXNlY3JldA==
B_UDP_WORKERS=2

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	BENCH_ROUNDS=${BENCH_ROUNDS:-1}
	BENCH_SECONDS=${BENCH_SECONDS:-2}
else
	BENCH_ROUNDS=${BENCH_ROUNDS:-7}
	BENCH_SECONDS=${BENCH_SECONDS:-2}
fi
BENCH_SIZES=${BENCH_SIZES:-100 100000 1000000}

B_WORK=
B_SERVERS=		# "kind:name" of every server started, for cleanup

b_die() {
	echo "bench: $*" >&2
	exit 1
}

b_note() {
	echo "# $*" >&2
}

# b_require: build what the parts need and check the tools exist.
b_require() {
	[ -x "$KNOTD" ] || b_die "knotd not found at '$KNOTD'"
	[ -x "$KNOTC" ] || b_die "knotc not found at '$KNOTC'"
	for t in "$DNSPERF" "$KNSUPDATE"; do
		command -v "$t" >/dev/null 2>&1 || b_die "'$t' not found (scripts/deps.sh --bench installs it)"
	done
	[ -f "$B_MODULE" ] && [ -x "$B_CLI" ] && [ -x "$B_FREEPORT" ] ||
		make -C "$top_builddir" -s all tests/lib/freeport >/dev/null ||
		b_die "cannot build the module, the CLI and tests/lib/freeport"
	make -C "$top_builddir" -s bench/azbench >/dev/null ||
		b_die "cannot build bench/azbench"
}

# b_setup NAME: work directory and cleanup trap.
b_setup() {
	b_require
	B_WORK=$(mktemp -d "${TMPDIR:-/tmp}/azbench-$1.XXXXXX") || b_die "mktemp failed"
	trap b_cleanup EXIT
	trap 'exit 130' INT TERM
}

b_cleanup() {
	local rc=$? s
	for s in $B_SERVERS; do
		case $s in
		knot:*) kd_stop "${s#knot:}" ;;
		bind:*) named_stop "${s#bind:}" ;;
		esac
	done
	if [ -n "$B_WORK" ] && [ -d "$B_WORK" ]; then
		if [ -n "${BENCH_KEEP:-}" ]; then
			b_note "kept $B_WORK"
		else
			rm -rf -- "$B_WORK"
		fi
	fi
	return "$rc"
}

now_ms() {
	date +%s%3N
}

# poll SECONDS CMD...: run CMD every 50 ms until it succeeds or time is up.
poll() {
	local limit=$(( $(now_ms) + $1 * 1000 ))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.05
	done
}

### Data: N tokens, the same names and values for every server.
# Token i: name hI.acme.bench., value a 43-character base64url string
# ending in I; misses are mI.acme.bench.

tok_name() { echo "h$1.$B_ZONE"; }
tok_value() { printf 'tok%040d' "$1"; }

# gen_apply N FILE [FIRST]: "add NAME VALUE" lines for tokens FIRST..FIRST+N-1.
gen_apply() {
	awk -v n="$1" -v f="${3:-0}" -v z="$B_ZONE" 'BEGIN {
		for (i = f; i < f + n; i++) printf "add h%d.%s tok%040d\n", i, z, i
	}' >"$2"
}

# gen_zone N FILE: SOA, NS and N TXT records.
gen_zone() {
	soa_zone "$2"
	awk -v n="$1" -v t="$B_TTL" 'BEGIN {
		for (i = 0; i < n; i++) printf "h%d %d TXT \"tok%040d\"\n", i, t, i
	}' >>"$2"
}

soa_zone() {
	cat >"$1" <<-EOF
	\$ORIGIN $B_ZONE
	\$TTL 5
	@	5	SOA	ns.invalid. hostmaster.invalid. 1 3600 600 86400 5
	@	5	NS	ns.invalid.
	EOF
}

# gen_queries N FILE: 100 000 dnsperf queries (fewer if N is small times
# 10), 90 % TXT for random tokens, 10 % for names that do not exist.
gen_queries() {
	awk -v n="$1" -v z="$B_ZONE" 'BEGIN {
		srand(4);
		q = n * 10; if (q > 100000) q = 100000; if (q < 1000) q = 1000;
		for (i = 0; i < q; i++) {
			k = int(rand() * n);
			if (i % 10 == 9) printf "m%d.%s TXT\n", k, z;
			else printf "h%d.%s TXT\n", k, z;
		}
	}' >"$2"
}

### Store.

# store_new DIR N: an acmezone store with tokens 0..N-1 (1 day expiry).
store_new() {
	local db="$1/acmezone.mdb"
	"$B_CLI" --db "$db" init --group "$(id -g)" >/dev/null || b_die "acmezone init failed"
	if [ "$2" -gt 0 ]; then
		gen_apply "$2" "$1/initial.apply"
		"$B_CLI" --db "$db" --no-wait apply --expire 1d "$1/initial.apply" ||
			b_die "initial apply failed"
		rm -f "$1/initial.apply"
	fi
}

### knotd.  Servers are named; each has a directory $B_WORK/NAME.
# kd_conf NAME MODE [ZONEFILE] [DB] [OBSERVE]
#   MODE module: the zone file holds SOA and NS, mod-acmezone on DB;
#                OBSERVE (or BENCH_OBSERVE) sets its 'observe' item
#   MODE static: the zone file as given (TXT records), no module
#   MODE update: the zone file as given, dynamic updates with TSIG,
#                Knot's defaults for the journal and zone file sync

kd_dir() { echo "$B_WORK/$1"; }
kd_port() { cat "$B_WORK/$1/port"; }
kd_pid() { cat "$B_WORK/$1/pid" 2>/dev/null; }

kd_conf() {
	local name=$1 mode=$2 zf=${3:-} db=${4:-} observe=${5:-${BENCH_OBSERVE:-}}
	local d="$B_WORK/$name" port
	mkdir -p "$d"
	port=$("$B_FREEPORT") || b_die "no free port"
	echo "$port" >"$d/port"
	if [ -z "$zf" ]; then
		zf="$d/zone.db"
		soa_zone "$zf"
	fi
	{
		cat <<-EOF
		server:
		    rundir: "$d"
		    listen: 127.0.0.1@$port
		    udp-workers: $B_UDP_WORKERS
		    tcp-workers: 1
		    background-workers: 1
		log:
		  - target: "$d/knotd.log"
		    any: notice
		database:
		    storage: "$d"
		EOF
		case $mode in
		module)
			cat <<-EOF
			module:
			  - id: mod-acmezone
			    file: "$B_MODULE"
			mod-acmezone:
			  - id: default
			    database: "$db"
			    ttl: $B_TTL
			${observe:+    observe: $observe}
			template:
			  - id: default
			    storage: "$d"
			    zonefile-sync: -1
			    zonefile-load: whole
			    journal-content: none
			zone:
			  - domain: $B_ZONE
			    file: "$zf"
			    module: mod-acmezone/default
			EOF
			;;
		static)
			cat <<-EOF
			template:
			  - id: default
			    storage: "$d"
			    zonefile-sync: -1
			    zonefile-load: whole
			    journal-content: none
			zone:
			  - domain: $B_ZONE
			    file: "$zf"
			EOF
			;;
		update)
			cat <<-EOF
			key:
			  - id: $B_KEY_NAME
			    algorithm: hmac-sha256
			    secret: $B_KEY_SECRET
			acl:
			  - id: update
			    key: $B_KEY_NAME
			    action: update
			template:
			  - id: default
			    storage: "$d"
			zone:
			  - domain: $B_ZONE
			    file: "$zf"
			    acl: update
			EOF
			;;
		*) b_die "kd_conf: unknown mode $mode" ;;
		esac
	} >"$d/knot.conf"
}

kd_ctl() {
	"$KNOTC" -c "$B_WORK/$1/knot.conf" -t 10 "${@:2}"
}

# Is the PID we started for NAME still our knotd?
kd_alive() {
	local pid
	pid=$(kd_pid "$1")
	[ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null |
		grep -qF -- "$B_WORK/$1/knot.conf"
}

# kd_launch NAME: start knotd in the background (no waiting).
kd_launch() {
	local d="$B_WORK/$1"
	"$KNOTD" -c "$d/knot.conf" >>"$d/knotd.out" 2>&1 &
	echo $! >"$d/pid"
	B_SERVERS="$B_SERVERS knot:$1"
}

# kd_start NAME NAME_TO_ASK VALUE: start and wait until NAME_TO_ASK
# answers with VALUE (or, with VALUE "-", until the SOA answers).
kd_start() {
	kd_launch "$1"
	kd_wait "$@"
}

kd_wait() {
	local port
	port=$(kd_port "$1")
	if [ "${3:--}" = - ]; then
		poll 120 kd_soa "$1" || b_die "knotd '$1' did not come up (see $B_WORK/$1/knotd.log)"
	else
		"$B_AZB" ready 127.0.0.1 "$port" "$2" "$3" --timeout-ms 300000 >/dev/null ||
			b_die "knotd '$1' does not answer $2 (see $B_WORK/$1/knotd.log)"
	fi
}

kd_soa() {
	kdig @127.0.0.1 -p "$(kd_port "$1")" +norec +timeout=1 +retry=0 "$B_ZONE" SOA 2>/dev/null |
		grep -q 'status: NOERROR'
}

kd_stop() {
	local pid i
	pid=$(kd_pid "$1")
	[ -n "$pid" ] || return 0
	if kd_alive "$1"; then
		kd_ctl "$1" stop >/dev/null 2>&1
		for i in $(seq 1 200); do
			kd_alive "$1" || break
			sleep 0.05
		done
		if kd_alive "$1"; then
			b_note "knotd '$1' (PID $pid) ignored knotc stop; TERM"
			kill "$pid" 2>/dev/null
			sleep 1
			kd_alive "$1" && kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	rm -f "$B_WORK/$1/pid"
}

# RSS of a server in KiB (VmRSS), or of one of its parts (RssAnon, RssFile).
rss_kb() {
	awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$(kd_pid "$1")/status"
}

# The TID of the module's sync thread ("acmezone-sync") in knotd NAME.
sync_tid() {
	local pid t
	pid=$(kd_pid "$1")
	for t in /proc/"$pid"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = acmezone-sync ]; then
			basename "$t"
			return 0
		fi
	done
	return 1
}

# CPU time (ns) a thread has run: the first field of its schedstat.
thread_cpu_ns() {
	awk '{ print $1 }' "/proc/$(kd_pid "$1")/task/$2/schedstat"
}

# CPU time (ns, utime + stime) of the whole process from /proc/PID/stat.
proc_cpu_ns() {
	local hz
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.0f\n", ($12 + $13) * 1000000000 / hz }' \
		"/proc/$(kd_pid "$1")/stat"
}

### BIND (named), for the record.

named_conf() {
	local name=$1 zf=$2 d="$B_WORK/$1" port
	mkdir -p "$d"
	port=$("$B_FREEPORT") || b_die "no free port"
	echo "$port" >"$d/port"
	cat >"$d/named.conf" <<-EOF
	options {
		directory "$d";
		pid-file "$d/named.pid";
		listen-on port $port { 127.0.0.1; };
		listen-on-v6 { none; };
		recursion no;
		notify no;
		minimal-responses yes;
	};
	controls { };
	logging { category default { null; }; };
	zone "${B_ZONE%.}" { type primary; file "$zf"; };
	EOF
}

named_launch() {
	local d="$B_WORK/$1"
	"$NAMED" -c "$d/named.conf" -f -n "$B_UDP_WORKERS" >>"$d/named.out" 2>&1 &
	echo $! >"$d/pid"
	B_SERVERS="$B_SERVERS bind:$1"
}

named_alive() {
	local pid
	pid=$(kd_pid "$1")
	[ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null |
		grep -qF -- "$B_WORK/$1/named.conf"
}

named_stop() {
	local pid i
	pid=$(kd_pid "$1")
	[ -n "$pid" ] || return 0
	if named_alive "$1"; then
		kill "$pid" 2>/dev/null
		for i in $(seq 1 200); do
			named_alive "$1" || break
			sleep 0.05
		done
		named_alive "$1" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rm -f "$B_WORK/$1/pid"
}

### Load and statistics.

# perf_qps NAME QFILE: one dnsperf round against server NAME; prints
# "QPS CPU_US_PER_QUERY": dnsperf's queries per second, and the server's
# CPU time (user + system, /proc/PID/stat) over the round divided by the
# queries completed.  The second is much less sensitive to what else runs
# on the machine.  Appends dnsperf's report to NAME/dnsperf.log.
perf_qps() {
	local d="$B_WORK/$1" out c0 c1
	c0=$(proc_cpu_ns "$1")
	out=$("$DNSPERF" -s 127.0.0.1 -p "$(kd_port "$1")" -d "$2" -c 4 -T 2 -q 100 \
		-l "$BENCH_SECONDS" 2>&1)
	c1=$(proc_cpu_ns "$1")
	printf '%s\n' "$out" >>"$d/dnsperf.log"
	printf '%s\n' "$out" | awk -v c="$((c1 - c0))" '
		/Queries completed:/ { n = $3 }
		/Queries per second:/ { q = $4 }
		END { printf "%.0f %.2f\n", q, (n > 0) ? c / n / 1000 : 0 }'
}

# median: of the numbers on stdin (one a line).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() {
	sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR
		print v[r] }'
}

# paired FILE_A FILE_B: the median of the ratios A[i] / B[i], line by
# line: samples taken next to each other saw the same machine load, so
# their ratio is steadier than the ratio of the two medians.
paired() {
	paste "$1" "$2" | awk '$2 > 0 { print $1 / $2 }' | median
}

# ratio A B [DIGITS]: A / B.
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		if (b == 0 || a == "nan" || b == "nan") print "nan"; else printf "%.*f\n", d, a / b }'
}

# met VALUE OP LIMIT: "met" or "MISSED".
met() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "nan") { print "n/a"; exit }
		ok = (op == "<=") ? v <= l : (op == ">=") ? v >= l : (op == "<") ? v < l : v > l
		print ok ? "met" : "MISSED" }'
}

# row PART FIGURE ACMEZONE REFERENCE RATIO GOAL RESULT: one table row
# (tab-separated on stdout and, with BENCH_OUT, into that file).
row() {
	local line
	line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$@")
	printf '%s\n' "$line"
	[ -n "${BENCH_OUT:-}" ] && printf '%s\n' "$line" >>"$BENCH_OUT"
	return 0
}

# load_note: the machine's load, for the record next to the figures.
load_note() {
	printf 'load average %s; %s CPUs' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
}
