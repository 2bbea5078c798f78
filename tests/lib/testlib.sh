# testlib.sh -- helpers shared by the shell tests: clock, polling, tokens, and what a server answered; source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The answer helpers (is_nx, has_value, ttls_are) ask through 'dq', which
# knotd-lib.sh and named-lib.sh each define for their own server; both
# libraries source this file.

# Milliseconds since the epoch (GNU date).
test_now_ms() {
	date +%s%3N
}

# poll_until SECONDS CMD...: run CMD every 0.1 s until it succeeds or the
# time is up.  Returns CMD's last status.
poll_until() {
	local limit=$(( $(test_now_ms) + $1 * 1000 ))
	shift
	while :; do
		"$@" && return 0
		[ "$(test_now_ms)" -ge "$limit" ] && break
		sleep 0.1
	done
	"$@"
}

# at_once FIRST LAST CMD...: 'CMD I' for every I from FIRST to LAST, all
# started at once (output discarded); prints how many of them failed.
at_once() {
	local first=$1 last=$2 i p pids= bad=0
	shift 2
	for i in $(seq "$first" "$last"); do
		"$@" "$i" >/dev/null 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad=$((bad + 1)); done
	echo "$bad"
}

# stop_pid PID NAME: CONT (it may have been stopped), TERM, wait a
# bounded time, KILL; only ever a PID the test started.
stop_pid() {
	local pid=$1 limit
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null
	kill "$pid" 2>/dev/null
	limit=$(( $(test_now_ms) + 5000 ))
	while kill -0 "$pid" 2>/dev/null && [ "$(test_now_ms)" -lt "$limit" ]; do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		diag "$2 (PID $pid) ignored TERM; sending KILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# test_ca DIR ADDR: a throw-away CA (DIR/ca.pem) and a certificate for
# ADDR (DIR/pebble.pem, DIR/pebble.key) for pebble's HTTPS listener;
# openssl's output in DIR/openssl.out.  Both pass strict X.509 checks (key
# usage on the CA, key identifiers on the leaf): certbot 5 (Debian sid)
# verifies with Python's VERIFY_X509_STRICT.
test_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/ca.key" -out "$1/ca.pem" -subj /CN=acmezone-test-ca -days 2 \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		>"$1/openssl.out" 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/pebble.key" -out "$1/pebble.csr" -subj "/CN=$2" \
		>>"$1/openssl.out" 2>&1 &&
	printf '%s\n' "subjectAltName=IP:$2,DNS:localhost" 'extendedKeyUsage=serverAuth' \
		'keyUsage=critical,digitalSignature' 'subjectKeyIdentifier=hash' \
		'authorityKeyIdentifier=keyid' >"$1/ext.cnf" &&
	openssl x509 -req -in "$1/pebble.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
		-CAcreateserial -out "$1/pebble.pem" -days 2 -extfile "$1/ext.cnf" \
		>>"$1/openssl.out" 2>&1
}

# tok SEED: a 43-character value of the ACME alphabet, the same for a seed.
tok() {
	printf '%s' "$1" | sha256sum | cut -c1-43
}

# head_of OUTPUT: the first (summary) line of dnsload query output.
head_of() {
	printf '%s\n' "$1" | head -n 1
}

# field OUTPUT KEY: the value of KEY=... in a dnsload summary line.
field() {
	printf '%s\n' "$1" | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# txt_of OUTPUT: the answer TXT values, sorted, one a line.
txt_of() {
	printf '%s\n' "$1" | awk '$3 == "TXT" { sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); print }' |
		LC_ALL=C sort
}

# sorted ARGS: the arguments, sorted, one a line.
sorted() {
	printf '%s\n' "$@" | LC_ALL=C sort
}

# is_nx NAME: NXDOMAIN with no answer.  (No pipes in these two: the
# read-your-writes loop calls them hundreds of times.)
is_nx() {
	local out
	out=$(dq "$1" TXT 2>/dev/null) || return 1
	[[ $out == "rcode=NXDOMAIN aa=1 tc=0 ancount=0 "* ]]
}

# has_value NAME VALUE: VALUE is among NAME's TXT answers.
has_value() {
	local out
	out=$(dq "$1" TXT 2>/dev/null) || return 1
	[[ $out$'\n' == *" TXT $2"$'\n'* ]]
}

# ttls_are NAME TTL: every TXT answer at NAME has this TTL (and there is one).
ttls_are() {
	local got
	got=$(dq "$1" TXT 2>/dev/null | awk '$3 == "TXT" { print $2 }' | sort -u)
	[ "$got" = "$2" ]
}

# mix_case NAME: NAME with the case of its letters alternating.
mix_case() {
	local in=$1 out='' c i up=1
	for ((i = 0; i < ${#in}; i++)); do
		c=${in:i:1}
		case $c in
		[a-zA-Z])
			if [ "$up" = 1 ]; then c=${c^}; up=0; else c=${c,}; up=1; fi
			;;
		esac
		out+=$c
	done
	printf '%s\n' "$out"
}

# runs_as PID USER: the process's real and effective user ids are USER's
# (a server that dropped its privileges as installed).
runs_as() {
	local want
	want=$(id -u "$2" 2>/dev/null) || return 1
	awk -v w="$want" '/^Uid:/ { ok = ($2 == w && $3 == w) } END { exit !ok }' \
		"/proc/$1/status" 2>/dev/null
}

# require_account SERVER USER GROUP PACKAGE: skip the whole test unless we
# are root (the server starts as root and drops to USER, as installed) and
# USER and GROUP exist.
require_account() {
	[ "$(id -u)" -eq 0 ] ||
		skip_all "$1 runs as user $2, as installed: that needs root"
	getent passwd "$2" >/dev/null ||
		skip_all "no user $2 to run $1 as (apt-get install $4)"
	getent group "$3" >/dev/null ||
		skip_all "no group $3 for the store (apt-get install $4)"
}

# tcp_ancount_is NAME N: a TXT query for NAME over TCP has N answers.
tcp_ancount_is() {
	[[ "$(head_of "$(dq --tcp "$1" TXT 2>/dev/null)")" == *" ancount=$2 "* ]]
}

# put_many DB NAME N: N values of 43 octets at NAME, one record written in
# no order (tests/lib/aztool huge), served once the server has read it;
# MANY_VALS gets the values, sorted.
put_many() {
	"$top_builddir/tests/lib/aztool" huge "$1" "$2" "$3" 43 || return 1
	local pad v i
	pad=$(printf 'h%.0s' $(seq 1 36))	# aztool: 7 digits, 'h' to 43 octets
	MANY_VALS=()
	for ((i = 0; i < $3; i++)); do
		printf -v v '%07d%s' "$i" "$pad"
		MANY_VALS+=("$v")
	done
	poll_until 10 tcp_ancount_is "$2" "$3"
}
