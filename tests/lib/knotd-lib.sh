# knotd-lib.sh -- run a private knotd with mod-acmezone on loopback for shell tests; source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage (bash):
#	. "$top_srcdir/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/knotd-lib.sh"
#	knotd_require                   # skip_all unless knotd & co can run here
#	dir=$(mktemp -d) && trap knotd_cleanup EXIT
#	knotd_setup "$dir" [ZONE]       # DIR/knot.conf, DIR/ZONE.zone, $KD_PORT
#	knotd_add_zone NAME FILE        # optional: another zone, without the module
#	knotd_start                     # bail with the log tail if it does not come up
#	knotd_init; az add NAME VALUE; q NAME TXT; dq NAME TXT
#	knotd_stop
#
# It sources testlib.sh: poll_until, tok, and the answer helpers
# (has_value, is_nx, ...) over this file's dq.
#
# Environment: top_builddir, top_srcdir (set by the Makefile; derived from
# this file's location otherwise), KNOTD, KNOTC, KDIG (fallbacks
# /usr/sbin/knotd, /usr/sbin/knotc, kdig), KD_TTL (ttl written to the
# config, default 10), KD_KEEP=1 keeps the directory after the test.
#
# Hosts in network namespaces (tests/lib/hosts.sh) set KD_ADDRS (the
# addresses knotd listens on, default 127.0.0.1 and ::1), KD_ADDR (the one
# q and dq ask, default 127.0.0.1) and KD_EXEC (a command prefix for
# knotd, e.g. 'ip netns exec NAME').
#
# knotd runs as an installed one does: started as root, it drops to user
# knot ('server: user: knot:knot', KD_USER), reads a store made with
# 'acmezone init --group knot' (KD_GROUP; knotd_init does that), and finds
# everything in a directory it can traverse but not write (its own files go
# to DIR/run, which it owns).  Not root, or no user knot: the test skips.
#
# knotd is only ever stopped through its control socket or by the PID this
# file started; nothing here signals processes by name.

if [ -z "${top_srcdir:-}" ] || [ -z "${top_builddir:-}" ]; then
	kd_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	top_srcdir=${top_srcdir:-$kd_here}
	top_builddir=${top_builddir:-$kd_here}
fi

. "$top_srcdir/tests/lib/testlib.sh"

KNOTD=${KNOTD:-/usr/sbin/knotd}
KNOTC=${KNOTC:-/usr/sbin/knotc}
KDIG=${KDIG:-kdig}

KD_DIR=
KD_CONF=
KD_ZONE=
KD_PORT=
KD_DB=
KD_PID=
KD_LOG=
KD_IPV6=no
KD_EXTRA_ZONES=		# more zone entries for the config (knotd_add_zone)
KD_MODULES=mod-acmezone/default	# the challenge zone's 'module' item
KD_ZONE_ITEMS=		# more items of the challenge zone's entry, one a line
KD_SECTIONS=		# more sections (policy, mod-onlinesign, ...), before 'template'
KD_MODULE="$top_builddir/.libs/acmezone.so"
KD_CLI="$top_builddir/acmezone"
KD_DNSLOAD="$top_builddir/tests/lib/dnsload"
KD_USER=${KD_USER:-knot}
KD_GROUP=${KD_GROUP:-knot}
KD_READY_S=10		# how long knotd may take to answer its SOA
KD_STOP_S=10		# how long it may take to exit after 'knotc stop'

# knotd_require: skip the whole test unless the tools it needs exist.
knotd_require() {
	[ -x "$KNOTD" ] || skip_all "knotd not found at '$KNOTD'"
	[ -x "$KNOTC" ] || skip_all "knotc not found at '$KNOTC'"
	command -v "$KDIG" >/dev/null 2>&1 || skip_all "kdig not found ('$KDIG')"
	"$KNOTD" -V >/dev/null 2>&1 || skip_all "'$KNOTD -V' does not run"
	require_account knotd "$KD_USER" "$KD_GROUP" knot
	[ -x "$KD_DNSLOAD" ] || bail "tests/lib/dnsload is not built"
	[ -f "$KD_MODULE" ] || bail "module not built: '$KD_MODULE'"
	[ -x "$KD_CLI" ] || bail "CLI not built: '$KD_CLI'"
}

# Does this host have a working IPv6 loopback?
kd_have_ipv6() {
	[ -r /proc/net/if_inet6 ] &&
		grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# knotd_write_conf: (re)write $KD_CONF from the current settings; used by
# knotd_setup and by tests that change a setting and reload.  KD_TTL unset
# or empty leaves the ttl item out (the module's default applies).
knotd_write_conf() {
	local listen="127.0.0.1@$KD_PORT" a
	[ "$KD_IPV6" = yes ] && listen="[ 127.0.0.1@$KD_PORT, ::1@$KD_PORT ]"
	if [ -n "${KD_ADDRS:-}" ]; then
		listen=
		for a in $KD_ADDRS; do
			listen="${listen:+$listen, }$a@$KD_PORT"
		done
		listen="[ $listen ]"
	fi
	local ttl_line=
	[ -n "${KD_TTL-10}" ] && ttl_line="    ttl: ${KD_TTL-10}"
	cat >"$KD_CONF.tmp" <<-EOF
	# knot.conf for one test run, written by tests/lib/knotd-lib.sh.
	server:
	    user: $KD_USER:$KD_GROUP
	    rundir: "$KD_DIR/run"
	    listen: $listen
	    udp-workers: 2
	    tcp-workers: 2
	    background-workers: 1

	log:
	  - target: "$KD_LOG"
	    any: info

	database:
	    storage: "$KD_DIR/run"

	module:
	  - id: mod-acmezone
	    file: "$KD_MODULE"

	mod-acmezone:
	  - id: default
	    database: "$KD_DB"
	$ttl_line
	$KD_SECTIONS

	template:
	  - id: default
	    storage: "$KD_DIR/run"
	    zonefile-sync: -1
	    zonefile-load: whole
	    journal-content: none

	zone:
	  - domain: $KD_ZONE
	    file: "$KD_DIR/zone.db"
	    module: $KD_MODULES
	$KD_ZONE_ITEMS
	$KD_EXTRA_ZONES
	EOF
	mv "$KD_CONF.tmp" "$KD_CONF"
}

# knotd_setup DIR [ZONE]: config and zone file in DIR, a free port.  DIR
# becomes traversable by everyone (the store in it keeps its own modes) and
# gets DIR/run, owned by KD_USER, for knotd's socket, databases and log.
# The store is DIR/store/acmezone.mdb: knotd_init creates it.
knotd_setup() {
	KD_DIR=$(cd "$1" && pwd) || bail "knotd_setup: no directory '$1'"
	chmod 0755 "$KD_DIR" || bail "knotd_setup: cannot chmod '$KD_DIR'"
	mkdir -p "$KD_DIR/run" && chown "$KD_USER:$KD_GROUP" "$KD_DIR/run" &&
		chmod 0750 "$KD_DIR/run" || bail "knotd_setup: cannot make '$KD_DIR/run'"
	KD_ZONE=${2:-acme.example.test.}
	case "$KD_ZONE" in
	*.) ;;
	*) KD_ZONE="$KD_ZONE." ;;
	esac
	KD_CONF="$KD_DIR/knot.conf"
	KD_LOG="$KD_DIR/run/knotd.log"
	KD_DB="$KD_DIR/store/acmezone.mdb"
	KD_PORT=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	kd_have_ipv6 && KD_IPV6=yes
	# The control socket path must fit in sun_path (108 octets).
	[ ${#KD_DIR} -lt 90 ] || bail "knotd_setup: '$KD_DIR' is too long for a socket path"

	# SOA TTL and MINIMUM are small so that negative answers are not
	# cached for long by anyone who queries a test server.
	# KD_APEX (zone-file lines) replaces 'NS ns.invalid.': a real NS set
	# with addresses, for tests that learn it ('check', '--wait ns').
	cat >"$KD_DIR/zone.db" <<-EOF
	\$ORIGIN $KD_ZONE
	\$TTL 5
	@	5	SOA	ns.invalid. hostmaster.invalid. 1 3600 600 86400 5
	${KD_APEX:-@	5	NS	ns.invalid.}
	EOF
	knotd_write_conf
}

# knotd_add_zone NAME FILE [ITEM...]: serve another zone from FILE,
# without the module (a customer zone beside the challenge zone), with
# more items of its entry ("dnssec-signing: on"); before knotd_start.
knotd_add_zone() {
	local name=$1 file=$2 item
	shift 2
	KD_EXTRA_ZONES="$KD_EXTRA_ZONES
  - domain: $name
    file: \"$file\""
	for item in "$@"; do
		KD_EXTRA_ZONES="$KD_EXTRA_ZONES
    $item"
	done
	knotd_write_conf
}

# knotd_signed_as_doc: sign the challenge zone as doc/dnssec.md says: its
# 'policy' and 'mod-onlinesign' sections and its module list, read from
# the page (KD_SECTIONS, KD_MODULES; KD_DS_CMD gets its keymgr line).
knotd_signed_as_doc() {
	local doc="$top_srcdir/doc/dnssec.md"
	KD_SECTIONS=$(sed -n '/^    policy:$/,/^    zone:$/p' "$doc" | sed -e '$d' -e 's/^    //')
	KD_MODULES=$(sed -n 's/^        module: \(\[ mod-acmezone\/default, mod-onlinesign\/[a-z]* \]\)$/\1/p' "$doc" | head -n 1)
	KD_DS_CMD=$(sed -n 's/^    # \(runuser -u knot -- keymgr [a-z.]* ds\)$/\1/p' "$doc" | head -n 1)
	[ -n "$KD_SECTIONS" ] && [ -n "$KD_MODULES" ] && [ -n "$KD_DS_CMD" ] ||
		bail "doc/dnssec.md: no policy/mod-onlinesign sections, module list or keymgr ds line"
	knotd_write_conf
}

# knotd_ds ZONE: the SHA-256 DS of ZONE's key, made as doc/dnssec.md says
# ('runuser -u knot -- keymgr ZONE ds', with this test's config file).
knotd_ds() {
	runuser -u "$KD_USER" -- keymgr -c "$KD_CONF" "$1" ds | grep -E ' DS [0-9]+ [0-9]+ 2 ' | head -n 1
}

# Is $KD_PID running (and not a zombie)?
kd_running() {
	[ -n "$KD_PID" ] && [ -r "/proc/$KD_PID/stat" ] || return 1
	local state
	state=$(sed 's/^.*) //' "/proc/$KD_PID/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# Is $KD_PID our knotd?  Its command line must name our config, so that a
# recycled PID is never taken for it (and never signalled).
kd_alive() {
	kd_running || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$KD_PID/cmdline" | grep -qF -- "$KD_CONF"
}

# The last lines of the log, as TAP comments.
knotd_log_tail() {
	diag "--- tail of $KD_LOG"
	tail -n 30 "$KD_LOG" 2>/dev/null | while IFS= read -r line; do
		diag "$line"
	done
	if [ -s "$KD_DIR/knotd.out" ]; then
		diag "--- knotd stdout/stderr"
		tail -n 10 "$KD_DIR/knotd.out" | while IFS= read -r line; do
			diag "$line"
		done
	fi
}

kd_ctl() {
	"$KNOTC" -c "$KD_CONF" -t 5 "$@"
}

# Does knotd answer our zone's SOA authoritatively?
kd_soa_answered() {
	local out
	out=$(q "$KD_ZONE" SOA +timeout=1 2>/dev/null) || return 1
	printf '%s\n' "$out" | grep -q 'status: NOERROR' &&
	printf '%s\n' "$out" | grep -qi 'flags: qr aa' &&
	printf '%s\n' "$out" | grep -qE "^${KD_ZONE}[[:space:]].*SOA"
}

# knotd_start: run knotd in the background and wait until it serves
# (KD_READY=control: until it answers on its control socket only, for a
# setup whose zone may not load at all).
knotd_start() {
	[ -n "$KD_CONF" ] || bail "knotd_start before knotd_setup"
	# shellcheck disable=SC2086  # KD_EXEC: a command prefix, in words
	${KD_EXEC:-} "$KNOTD" -c "$KD_CONF" >>"$KD_DIR/knotd.out" 2>&1 &
	KD_PID=$!

	local limit=$(( $(test_now_ms) + KD_READY_S * 1000 ))
	local stage=control
	while [ "$(test_now_ms)" -lt "$limit" ]; do
		if ! kd_running; then
			local why="knotd exited during startup"
			if [ "$(id -u)" -ne 0 ] &&
			   grep -qiE 'permission denied|operation not permitted' \
				"$KD_LOG" "$KD_DIR/knotd.out" 2>/dev/null; then
				KD_PID=
				skip_all "knotd cannot run as an unprivileged user here"
			fi
			knotd_log_tail
			KD_PID=
			bail "$why"
		fi
		case $stage in
		control)
			if kd_ctl status >/dev/null 2>&1; then
				[ "${KD_READY:-soa}" = control ] && return 0
				stage=soa
			fi
			;;
		soa)
			kd_soa_answered && return 0
			;;
		esac
		sleep 0.1
	done
	diag "knotd (PID $KD_PID) not ready after ${KD_READY_S}s (stuck at: $stage)"
	knotd_log_tail
	knotd_stop
	bail "knotd did not come up"
}

# knotd_stop: 'knotc stop', wait for our PID to go, else kill that PID.
# Returns 0 if knotd went away on 'knotc stop' and exited with status 0.
knotd_stop() {
	[ -n "$KD_PID" ] || return 0
	local status=1 limit
	if kd_alive; then
		kd_ctl stop >/dev/null 2>&1
		limit=$(( $(test_now_ms) + KD_STOP_S * 1000 ))
		while kd_alive && [ "$(test_now_ms)" -lt "$limit" ]; do
			sleep 0.1
		done
		if kd_alive; then
			diag "knotd (PID $KD_PID) ignored 'knotc stop'; sending TERM"
			kill "$KD_PID" 2>/dev/null
			limit=$(( $(test_now_ms) + 3000 ))
			while kd_alive && [ "$(test_now_ms)" -lt "$limit" ]; do
				sleep 0.1
			done
			kd_alive && kill -KILL "$KD_PID" 2>/dev/null
			wait "$KD_PID" 2>/dev/null
		else
			wait "$KD_PID" 2>/dev/null
			status=$?
		fi
	else
		wait "$KD_PID" 2>/dev/null
		diag "knotd (PID $KD_PID) had already exited (status $?)"
	fi
	KD_PID=
	[ "$status" -eq 0 ]
}

# knotd_cleanup: for 'trap knotd_cleanup EXIT'.  Stops knotd whatever
# happened; removes the directory unless a test failed or KD_KEEP is set.
knotd_cleanup() {
	local rc=$?
	knotd_stop || :
	if [ -n "$KD_DIR" ] && [ -d "$KD_DIR" ]; then
		if [ "${tap_failed:-0}" -ne 0 ] || [ "$rc" -ne 0 ] ||
		   [ -n "${KD_KEEP:-}" ]; then
			diag "kept $KD_DIR"
		else
			rm -rf -- "$KD_DIR"
		fi
	fi
	return "$rc"
}

# q NAME TYPE [kdig options]: ask our knotd with kdig.
q() {
	"$KDIG" "@${KD_ADDR:-127.0.0.1}" -p "$KD_PORT" +norec +timeout=2 +retry=0 "$@"
}

# dq [dnsload query options] NAME TYPE: ask with dnsload (stable output).
dq() {
	"$KD_DNSLOAD" query -s "${KD_ADDR:-127.0.0.1}" -p "$KD_PORT" "$@"
}

# az ARGS: the CLI on this test's store.
az() {
	"$KD_CLI" --db "$KD_DB" "$@"
}

# knotd_init [ARGS]: create the store as an operator would for knotd,
# 'acmezone init --group knot' (and ARGS, e.g. --zone).
knotd_init() {
	az init --group "$KD_GROUP" "$@"
}
