# unbound-lib.sh -- private unbound resolvers on loopback for shell tests (validating or not); source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage (bash, after tap.sh and testlib.sh or knotd-lib.sh):
#	ub_require                        # skip_all unless unbound and kdig run here
#	port=$(ub_port)
#	{ ub_conf_head DIR PORT; echo '    ...'; } >DIR/ub.conf
#	ub_start DIR/ub.conf PORT NAME    # bail unless NAME SOA resolves in time
#	ub_stop_all                       # in the EXIT trap
#	ub_ask PORT NAME TYPE [kdig options]   # with DO: AD shows validation
#	ub_verdict "$out"                 # "NOERROR ad 1" (rcode, ad/noad, ANSWER)
#
# Processes are stopped by the PIDs this file started, never by name.

UNBOUND=${UNBOUND:-/usr/sbin/unbound}
KDIG=${KDIG:-kdig}
UB_PIDS=
UB_START_S=${UB_START_S:-15}

ub_require() {
	[ -x "$UNBOUND" ] || skip_all "unbound not found at '$UNBOUND' (Debian: unbound)"
	command -v "$KDIG" >/dev/null 2>&1 || skip_all "kdig not found ('$KDIG')"
}

ub_port() {
	"$top_builddir/tests/lib/freeport"
}

# ub_conf_head DIR PORT: the common start of a server: section: loopback
# only, no chroot or privilege drop, its log DIR/unbound-PORT.log, off the
# Internet.  'test.' is one of unbound's built-in local zones: with '.'
# refused, 'nodefault' would leave test. under the refusal; 'transparent'
# lets the caller's stub zones answer.
ub_conf_head() {
	cat <<-EOF
	server:
	    interface: 127.0.0.1
	    port: $2
	    do-ip6: no
	    username: ""
	    chroot: ""
	    directory: "$1"
	    pidfile: ""
	    logfile: "$1/unbound-$2.log"
	    use-syslog: no
	    verbosity: 1
	    num-threads: 1
	    access-control: 127.0.0.0/8 allow
	    do-not-query-localhost: no
	    local-zone: "test." transparent
	    local-zone: "." refuse
	EOF
}

# ub_ask PORT NAME TYPE [kdig options]: ask that unbound, DO set.
ub_ask() {
	local port=$1 name=$2 type=$3
	shift 3
	"$KDIG" @127.0.0.1 -p "$port" +dnssec +timeout=3 +retry=1 "$@" "$type" "$name"
}

# ub_verdict OUTPUT: "RCODE ad|noad ANSWERCOUNT" of a kdig output.
ub_verdict() {
	local rcode ad=noad n
	rcode=$(printf '%s\n' "$1" | sed -n 's/^;; ->>HEADER<<-.* status: \([A-Z]*\);.*/\1/p')
	printf '%s\n' "$1" | grep -qE '^;; Flags:[^;]* ad;' && ad=ad
	n=$(printf '%s\n' "$1" | sed -n 's/^;; Flags:.* ANSWER: \([0-9]*\);.*/\1/p')
	printf '%s %s %s\n' "${rcode:-none}" "$ad" "${n:-none}"
}

# ub_txt OUTPUT: the TXT strings of the answer section, sorted, one a line.
ub_txt() {
	printf '%s\n' "$1" | awk '$1 !~ /^;/ && $3 == "IN" && $4 == "TXT" { print $5 }' |
		tr -d '"' | LC_ALL=C sort
}

# ub_start CONF PORT NAME: run unbound on CONF; wait until NAME's SOA
# resolves through it.
ub_start() {
	local conf=$1 port=$2 name=$3 pid
	"$UNBOUND" -d -c "$conf" >"$conf.out" 2>&1 &
	pid=$!
	UB_PIDS="$UB_PIDS $pid"
	ub_ready() {
		kill -0 "$pid" 2>/dev/null &&
			"$KDIG" @127.0.0.1 -p "$port" +timeout=1 +retry=0 SOA "$name" 2>/dev/null |
			grep -q 'status: NOERROR'
	}
	if ! poll_until "$UB_START_S" ub_ready; then
		tail -n 20 "$conf.out" | while IFS= read -r line; do diag "$line"; done
		bail "unbound ($conf) did not come up on 127.0.0.1@$port"
	fi
}

# ub_stop PID: TERM, a bounded wait, KILL; only PIDs this file started.
ub_stop() {
	local pid=$1 limit
	kill "$pid" 2>/dev/null
	limit=$(( $(test_now_ms) + 5000 ))
	while kill -0 "$pid" 2>/dev/null && [ "$(test_now_ms)" -lt "$limit" ]; do
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

ub_stop_all() {
	local pid
	for pid in $UB_PIDS; do
		ub_stop "$pid"
	done
	UB_PIDS=
}
