# named-lib.sh -- run a private named with dlz_acmezone.so on loopback for shell tests; source it.
#
# Usage (bash):
#	. "$top_srcdir/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/named-lib.sh"
#	named_require                   # skip_all unless named & co can run here
#	dir=$(mktemp -d) && trap named_cleanup EXIT
#	named_setup "$dir" [ZONE]       # DIR/named.conf, DIR/rndc.conf, $ND_PORT
#	named_add_zone NAME FILE        # optional: another zone, from a zone file
#	named_start                     # bail with the log tail if it does not come up
#	named_init; az add NAME VALUE; q NAME TXT; dq NAME TXT
#	named_stop
#
# It sources testlib.sh: poll_until, tok, and the answer helpers
# (has_value, is_nx, ...) over this file's dq.
#
# Environment: top_builddir, top_srcdir (set by the Makefile; derived from
# this file's location otherwise), NAMED, RNDC (fallbacks /usr/sbin/named,
# /usr/sbin/rndc), DIG (fallback dig), ND_TTL (the driver's ttl= option,
# default 10; empty leaves it out), ND_EXTRA (more driver options),
# ND_THREADS (named -n, default 4), ND_KEEP=1 keeps the directory,
# ND_ZONE_FORM=1 serves the zone with a zone statement ('search no;' in
# the dlz statement, 'zone ... { type primary; dlz acmezone; }'), ND_DLZ
# (a whole dlz statement instead of ours: tests/e2e/bind-doc.sh).
#
# named runs as user bind (named -u, ND_USER), started as root, and reads a
# store made with 'acmezone init --group bind' (ND_GROUP; named_init).  Not
# root, or no user bind: the test skips.
#
# named is only ever stopped with 'rndc stop' or by the PID this file
# started; nothing here signals processes by name.

if [ -z "${top_srcdir:-}" ] || [ -z "${top_builddir:-}" ]; then
	nd_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	top_srcdir=${top_srcdir:-$nd_here}
	top_builddir=${top_builddir:-$nd_here}
fi

. "$top_srcdir/tests/lib/testlib.sh"

NAMED=${NAMED:-/usr/sbin/named}
RNDC=${RNDC:-/usr/sbin/rndc}
DIG=${DIG:-dig}

ND_DIR=
ND_CONF=
ND_RNDC_CONF=
ND_ZONE=
ND_PORT=
ND_CPORT=
ND_DB=
ND_PID=
ND_LOG=
ND_IPV6=no
ND_EXTRA_ZONES=		# more zone statements for the config (named_add_zone)
ND_DRIVER="$top_builddir/.libs/dlz_acmezone.so"
ND_CLI="$top_builddir/acmezone"
ND_DNSLOAD="$top_builddir/tests/lib/dnsload"
ND_USER=${ND_USER:-bind}
ND_GROUP=${ND_GROUP:-bind}
ND_READY_S=15		# how long named may take to answer our SOA
ND_STOP_S=15		# how long it may take to exit after 'rndc stop'

# named_require: skip the whole test unless the tools it needs exist.
named_require() {
	[ -x "$NAMED" ] || skip_all "named not found at '$NAMED' (apt-get install bind9)"
	[ -x "$RNDC" ] || skip_all "rndc not found at '$RNDC' (apt-get install bind9)"
	"$NAMED" -v >/dev/null 2>&1 || skip_all "'$NAMED -v' does not run"
	[ -f "$ND_DRIVER" ] || skip_all "dlz_acmezone.so not built (configured with --disable-bind?)"
	require_account named "$ND_USER" "$ND_GROUP" bind9
	[ -x "$ND_DNSLOAD" ] || bail "tests/lib/dnsload is not built"
	[ -x "$ND_CLI" ] || bail "CLI not built: '$ND_CLI'"
}

nd_have_ipv6() {
	[ -r /proc/net/if_inet6 ] &&
		grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# named_write_conf: (re)write $ND_CONF from the current settings; used by
# named_setup and by tests that change a setting and reload.
named_write_conf() {
	local v6='none;'
	[ "$ND_IPV6" = yes ] && v6='::1;'
	local ttl_opt= zone_stmt=
	[ -n "${ND_TTL-10}" ] && ttl_opt="ttl=${ND_TTL-10}"
	[ -n "${ND_ZONE_FORM:-}" ] &&
		zone_stmt="zone \"$ND_ZONE\" { type primary; dlz acmezone; };"
	local dlz=${ND_DLZ:-}
	[ -n "$dlz" ] || dlz="dlz \"acmezone\" {
		database \"dlopen $ND_DRIVER zone=$ND_ZONE db=$ND_DB $ttl_opt ns=ns.invalid rname=hostmaster.invalid soa-ttl=5 minimum=5 ${ND_EXTRA:-}\";
		${ND_ZONE_FORM:+search no;}
	};"
	# The SOA TTL and MINIMUM are 5 as in knotd-lib.sh's zone file:
	# negative answers are not cached for long by anyone.
	cat >"$ND_CONF.tmp" <<-EOF
	// named.conf for one test run, written by tests/lib/named-lib.sh.
	options {
		directory "$ND_DIR/run";
		pid-file "$ND_DIR/run/named.pid";
		session-keyfile "$ND_DIR/run/session.key";
		managed-keys-directory "$ND_DIR/run";
		listen-on port $ND_PORT { 127.0.0.1; };
		listen-on-v6 port $ND_PORT { $v6 };
		recursion no;
		dnssec-validation no;
		notify no;
		minimal-responses yes;
	};
	include "$ND_DIR/rndc.key";
	controls {
		inet 127.0.0.1 port $ND_CPORT allow { 127.0.0.1; } keys { "rndc-key"; };
	};
	$dlz
	$zone_stmt
	$ND_EXTRA_ZONES
	EOF
	mv "$ND_CONF.tmp" "$ND_CONF"
}

# named_setup DIR [ZONE]: config, rndc key and config in DIR, two free
# ports.  DIR becomes traversable by everyone (the store in it keeps its own
# modes) and gets DIR/run, owned by ND_USER, for named's own files.  The
# store is DIR/store/acmezone.mdb: named_init creates it.
named_setup() {
	ND_DIR=$(cd "$1" && pwd) || bail "named_setup: no directory '$1'"
	chmod 0755 "$ND_DIR" || bail "named_setup: cannot chmod '$ND_DIR'"
	mkdir -p "$ND_DIR/run" && chown "$ND_USER:$ND_GROUP" "$ND_DIR/run" &&
		chmod 0750 "$ND_DIR/run" || bail "named_setup: cannot make '$ND_DIR/run'"
	ND_ZONE=${2:-acme.example.test.}
	case "$ND_ZONE" in
	*.) ;;
	*) ND_ZONE="$ND_ZONE." ;;
	esac
	ND_CONF="$ND_DIR/named.conf"
	ND_RNDC_CONF="$ND_DIR/rndc.conf"
	ND_LOG="$ND_DIR/named.log"
	ND_DB="$ND_DIR/store/acmezone.mdb"
	ND_PORT=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	ND_CPORT=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	[ "$ND_CPORT" != "$ND_PORT" ] || ND_CPORT=$("$top_builddir/tests/lib/freeport")
	nd_have_ipv6 && ND_IPV6=yes

	local secret old_umask
	secret=$(head -c 32 /dev/urandom | base64) || bail "no random secret"
	old_umask=$(umask)
	umask 077		# the rndc key is a secret, even a test one
	cat >"$ND_DIR/rndc.key" <<-EOF
	key "rndc-key" { algorithm hmac-sha256; secret "$secret"; };
	EOF
	cat >"$ND_RNDC_CONF" <<-EOF
	include "$ND_DIR/rndc.key";
	options { default-key "rndc-key"; default-server 127.0.0.1; default-port $ND_CPORT; };
	EOF
	umask "$old_umask"
	# named, user bind after the start, reads the key again at each reload.
	chgrp "$ND_GROUP" "$ND_DIR/rndc.key" && chmod 0640 "$ND_DIR/rndc.key" ||
		bail "named_setup: cannot give the rndc key to group $ND_GROUP"
	named_write_conf
}

# named_add_zone NAME FILE: serve another zone from FILE, an ordinary
# primary zone beside the DLZ one (a customer zone with the CNAMEs);
# before named_start.
named_add_zone() {
	ND_EXTRA_ZONES="$ND_EXTRA_ZONES
zone \"$1\" { type primary; file \"$2\"; };"
	named_write_conf
}

# Is $ND_PID running (and not a zombie)?
nd_running() {
	[ -n "$ND_PID" ] && [ -r "/proc/$ND_PID/stat" ] || return 1
	local state
	state=$(sed 's/^.*) //' "/proc/$ND_PID/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Is $ND_PID our named?  Its command line must name our config, so that a
# recycled PID is never taken for it (and never signalled).
nd_alive() {
	nd_running || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$ND_PID/cmdline" | grep -qF -- "$ND_CONF"
}

named_log_tail() {
	diag "--- tail of $ND_LOG"
	tail -n 30 "$ND_LOG" 2>/dev/null | while IFS= read -r line; do
		diag "$line"
	done
}

nd_rndc() {
	"$RNDC" -c "$ND_RNDC_CONF" "$@"
}

# Does named answer our zone's SOA authoritatively?
nd_soa_answered() {
	local out
	out=$(dq "$ND_ZONE" SOA 2>/dev/null) || return 1
	[[ $out == "rcode=NOERROR aa=1 "* ]] && [[ $out == *" SOA "* ]]
}

# named_start: run named in the foreground (-g: log to stderr, which goes
# to $ND_LOG) in the background of this shell, and wait until it serves.
# It runs as user bind (-u), as the Debian package runs it.
named_start() {
	[ -n "$ND_CONF" ] || bail "named_start before named_setup"
	"$NAMED" -g -u "$ND_USER" -c "$ND_CONF" -n "${ND_THREADS:-4}" >>"$ND_LOG" 2>&1 &
	ND_PID=$!

	local limit=$(( $(test_now_ms) + ND_READY_S * 1000 ))
	while [ "$(test_now_ms)" -lt "$limit" ]; do
		if ! nd_running; then
			if [ "$(id -u)" -ne 0 ] &&
			   grep -qiE 'permission denied|operation not permitted' "$ND_LOG"; then
				ND_PID=
				skip_all "named cannot run as an unprivileged user here"
			fi
			named_log_tail
			ND_PID=
			bail "named exited during startup"
		fi
		grep -q 'running$' "$ND_LOG" 2>/dev/null && nd_soa_answered && return 0
		sleep 0.1
	done
	diag "named (PID $ND_PID) not ready after ${ND_READY_S}s"
	named_log_tail
	named_stop
	bail "named did not come up"
}

# named_stop: 'rndc stop', wait for our PID to go, else kill that PID.
# Returns 0 if named went away on 'rndc stop' and exited with status 0.
named_stop() {
	[ -n "$ND_PID" ] || return 0
	local status=1 limit
	if nd_alive; then
		nd_rndc stop >/dev/null 2>&1
		limit=$(( $(test_now_ms) + ND_STOP_S * 1000 ))
		while nd_alive && [ "$(test_now_ms)" -lt "$limit" ]; do
			sleep 0.1
		done
		if nd_alive; then
			diag "named (PID $ND_PID) ignored 'rndc stop'; sending TERM"
			kill "$ND_PID" 2>/dev/null
			limit=$(( $(test_now_ms) + 5000 ))
			while nd_alive && [ "$(test_now_ms)" -lt "$limit" ]; do
				sleep 0.1
			done
			nd_alive && kill -KILL "$ND_PID" 2>/dev/null
			wait "$ND_PID" 2>/dev/null
		else
			wait "$ND_PID" 2>/dev/null
			status=$?
		fi
	else
		wait "$ND_PID" 2>/dev/null
		diag "named (PID $ND_PID) had already exited (status $?)"
	fi
	ND_PID=
	[ "$status" -eq 0 ]
}

# named_cleanup: for 'trap named_cleanup EXIT'.  Stops named whatever
# happened; removes the directory unless a test failed or ND_KEEP is set.
named_cleanup() {
	local rc=$?
	named_stop || :
	if [ -n "$ND_DIR" ] && [ -d "$ND_DIR" ]; then
		if [ "${tap_failed:-0}" -ne 0 ] || [ "$rc" -ne 0 ] ||
		   [ -n "${ND_KEEP:-}" ]; then
			diag "kept $ND_DIR"
		else
			rm -rf -- "$ND_DIR"
		fi
	fi
	return "$rc"
}

# q NAME TYPE [dig options]: ask our named with dig.
q() {
	"$DIG" @127.0.0.1 -p "$ND_PORT" +norec +time=2 +tries=1 "$@"
}

# dq [dnsload query options] NAME TYPE: ask with dnsload (stable output).
dq() {
	"$ND_DNSLOAD" query -s 127.0.0.1 -p "$ND_PORT" "$@"
}

# az ARGS: the CLI on this test's store.
az() {
	"$ND_CLI" --db "$ND_DB" "$@"
}

# named_init [ARGS]: create the store as an operator would for named,
# 'acmezone init --group bind' (and ARGS, e.g. --zone).
named_init() {
	az init --group "$ND_GROUP" "$@"
}
