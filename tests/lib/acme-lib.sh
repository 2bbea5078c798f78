# acme-lib.sh -- the CA side of the end-to-end tests: unbound as the CA's resolver, a throw-away CA, pebble; source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage (bash, after tap.sh and knotd-lib.sh or named-lib.sh, which define
# the authoritative server; the caller defines ask, a dig for that server's
# tool):
#	acme_unbound_start DIR SRV_PORT ZONE...   # $UB_PORT, $UB_PID
#	acme_ca_make DIR                          # DIR/ca.pem, DIR/pebble.{pem,key}
#	acme_pebble_start DIR PEBBLE              # $PB_PID, $DIRURL (through unbound);
#	                                          # ACME_PEBBLE_CONFIG: more members of
#	                                          # its "pebble" object ("caaIdentities": [...])
#	acme_order_setup NAME                     # skip_all unless knotd, unbound,
#	                                          # python3-acme and pebble 2.10 are
#	                                          # there; $dir, $PEBBLE; the EXIT trap
#	acme_order NAME ARGS...                   # acme_order.py, key DIR/NAME.key,
#	                                          # output DIR/NAME.out
#	r NAME TYPE                               # ask unbound (short answers)
#	stop_pid PID NAME                         # (testlib.sh) TERM, a bounded wait, KILL
#	acme_stop                                 # pebble, then unbound
#
# unbound knows only the zones named (stub zones to 127.0.0.1@SRV_PORT),
# follows CNAMEs as the CA's resolvers do, randomises the query case
# (use-caps-for-id) and keeps negative answers 1 s.  pebble validates for
# real (PEBBLE_VA_ALWAYS_VALID unset), without sleeps, every order anew
# (PEBBLE_AUTHZREUSE=0), never rejecting a nonce.

. "$top_srcdir/tests/lib/unbound-lib.sh"

ACME_START_S=${ACME_START_S:-15}	# seconds unbound or pebble may take to come up
ACME_ORDER_TIMEOUT=${ACME_ORDER_TIMEOUT:-180}	# seconds one acme_order.py run may take
UNBOUND=${UNBOUND:-/usr/sbin/unbound}
PYTHON=${PYTHON:-/usr/bin/python3}
UB_PID=
UB_PORT=
PB_PID=
DIRURL=

# acme_stop: pebble and unbound, if started.
acme_stop() {
	stop_pid "$PB_PID" pebble
	stop_pid "$UB_PID" unbound
	PB_PID=
	UB_PID=
}

# out_tail FILE [N]: the last lines of a file, as TAP comments.
out_tail() {
	diag "--- last lines of $1"
	tail -n "${2:-25}" "$1" 2>/dev/null | while IFS= read -r line; do
		diag "$line"
	done
}

# r NAME TYPE: ask unbound, the CA's resolver (short answers).
r() {
	ask @127.0.0.1 -p "$UB_PORT" +short "$2" "$1"
}

# acme_unbound_start DIR SRV_PORT ZONE...: unbound, recursive, knowing only
# these zones (stubs to the server); bail unless it answers the first
# zone's SOA within ACME_START_S seconds.
acme_unbound_start() {
	local dir=$1 srv_port=$2 z
	shift 2
	UB_PORT=$(ub_port) || bail "no free port"
	{
		ub_conf_head "$dir" "$UB_PORT"
		# UB_VALIDATE (optional): trust-anchor lines; unbound validates.
		cat <<-EOF
		    module-config: "${UB_VALIDATE:+validator }iterator"
		${UB_VALIDATE:-}
		    use-caps-for-id: yes
		    domain-insecure: "test."
		    # The test reuses names quickly; negative answers must not linger.
		    cache-max-negative-ttl: 1
		EOF
		# The zones of the test, wherever they are (bind-doc.sh:
		# doc/bind.md's example.org and acme.example.net).
		for z in "$@"; do
			printf '    local-zone: "%s." transparent\n' "$z"
		done
		printf 'remote-control:\n    control-enable: no\n'
		for z in "$@"; do
			printf 'stub-zone:\n    name: "%s."\n    stub-addr: 127.0.0.1@%s\n' "$z" "$srv_port"
		done
	} >"$dir/unbound.conf"
	"$UNBOUND" -d -c "$dir/unbound.conf" >"$dir/unbound.out" 2>&1 &
	UB_PID=$!
	ACME_UB_ZONE=$1
	if ! poll_until "$ACME_START_S" acme_ub_ready; then
		out_tail "$dir/unbound.out"
		out_tail "$dir/unbound-$UB_PORT.log"
		bail "unbound did not come up on 127.0.0.1@$UB_PORT"
	fi
}

acme_ub_ready() {
	kill -0 "$UB_PID" 2>/dev/null || return 1
	[ -n "$(r "$ACME_UB_ZONE" SOA 2>/dev/null)" ]
}

# acme_ca_make DIR: a throw-away CA (DIR/ca.pem) and pebble's certificate
# for 127.0.0.1 (DIR/pebble.pem, DIR/pebble.key): test_ca (testlib.sh).
acme_ca_make() {
	test_ca "$1" 127.0.0.1
}

# acme_pebble_start DIR PEBBLE: pebble (the binary PEBBLE) with DIR's
# certificate, validating through unbound; bail unless its directory
# answers within ACME_START_S seconds.
acme_pebble_start() {
	local dir=$1 pebble=$2 port mport hport tport
	port=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	mport=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	hport=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	tport=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	cat >"$dir/pebble.json" <<-EOF
	{
	  "pebble": {
	    "listenAddress": "127.0.0.1:$port",
	    "managementListenAddress": "127.0.0.1:$mport",
	    "certificate": "$dir/pebble.pem",
	    "privateKey": "$dir/pebble.key",
	    "httpPort": $hport,
	    "tlsPort": $tport,
	    "ocspResponderURL": "",${ACME_PEBBLE_CONFIG:+
	    $ACME_PEBBLE_CONFIG,}
	    "externalAccountBindingRequired": false
	  }
	}
	EOF
	DIRURL="https://127.0.0.1:$port/dir"
	env -u PEBBLE_VA_ALWAYS_VALID PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 \
		PEBBLE_WFE_NONCEREJECT=0 \
		"$pebble" -config "$dir/pebble.json" -dnsserver "127.0.0.1:$UB_PORT" \
		>"$dir/pebble.out" 2>&1 &
	PB_PID=$!
	ACME_CA_PEM="$dir/ca.pem"
	if ! poll_until "$ACME_START_S" acme_pb_ready; then
		out_tail "$dir/pebble.out"
		bail "pebble did not come up at $DIRURL"
	fi
}

acme_pb_ready() {
	kill -0 "$PB_PID" 2>/dev/null &&
		curl -sf --max-time 2 --cacert "$ACME_CA_PEM" "$DIRURL" >/dev/null 2>&1
}

# acme_order_setup NAME: for the tests that drive orders with
# tests/e2e/acme_order.py against pebble 2.10 (knotd-lib.sh sourced):
# skip_all unless knotd, unbound, openssl, curl, python3-acme and sid's
# pebble are there; a directory $dir (azNAME.XXXXXX), $PEBBLE; on exit
# pebble, unbound and knotd are stopped; the environment a client could
# take a CA bundle or acmezone settings from is cleared.
acme_order_setup() {
	local prog
	knotd_require
	[ -x "$UNBOUND" ] || skip_all "unbound not found at '$UNBOUND' (Debian: unbound)"
	for prog in openssl curl timeout; do
		command -v "$prog" >/dev/null 2>&1 ||
			skip_all "'$prog' not found (Debian: openssl curl)"
	done
	"$PYTHON" -c 'import acme.client, josepy' 2>/dev/null ||
		skip_all "python3-acme not importable by $PYTHON (Debian: python3-acme)"
	dir=$(mktemp -d "${TMPDIR:-/tmp}/az$1.XXXXXX") || bail "mktemp failed"
	chmod 755 "$dir"
	PEBBLE=$("$top_srcdir/tests/lib/pebble-sid.sh" 2>"$dir/pebble-sid.err") ||
		skip_all "$(sed -n 's/^SKIP: //p' "$dir/pebble-sid.err" | tail -n 1)"
	trap acme_order_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
	unset ACMEZONE_WAIT ACMEZONE_EXPIRE ACMEZONE_PROPAGATION_TIMEOUT ACMEZONE_ACCOUNT_URI
}

acme_order_cleanup() {
	local rc=$?
	acme_stop
	(exit "$rc")
	knotd_cleanup
}

# acme_order NAME ARGS...: tests/e2e/acme_order.py against $DIRURL with
# the account key $dir/NAME.key (made if missing), output in $dir/NAME.out.
# \return its exit status (0 issued, 1 refused by the CA, 2 other).
acme_order() {
	local name=$1
	shift
	timeout -k 5 "$ACME_ORDER_TIMEOUT" "$PYTHON" "$top_srcdir/tests/e2e/acme_order.py" \
		--directory "$DIRURL" --ca "$dir/ca.pem" --account-key "$dir/$name.key" \
		"$@" >"$dir/$name.out" 2>&1
}
