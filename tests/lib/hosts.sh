# hosts.sh -- simulated hosts for multi-host tests: a network namespace each on one private bridge, with its own knotd and sshd; source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage (bash, as root):
#	. "$top_srcdir/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/hosts.sh"
#	hosts_require                   # skip_all unless root, ip, sshd, knotd...
#	hosts_enter "$@"                # re-runs the script in namespaces of its own
#	hosts_init                      # $HOSTS_DIR, the bridge, trap hosts_cleanup EXIT
#	host_add ns1 1 [11]             # namespace, addresses 10.53.0.1 (and .11)
#	host_knotd ns1 ZONE [ZONE FILE]...   # knotd on ns1's addresses, port 53
#	host_sshd ns1                   # sshd on ns1's first address, port 22
#	host_exec ns1 CMD...            # CMD in ns1's network namespace
#	host_kd ns1; az list; q NAME TXT     # knotd-lib.sh's helpers, on ns1
#
# The test re-runs itself (hosts_enter) in a network and mount namespace of
# its own: that namespace is the "LAN", holding the bridge (10.53.0.254/24)
# every host is plugged into with a veth pair, so the test's own shell can
# ask every host's knotd directly (kdig, dnsload) while nothing of it can
# reach or be reached from the machine's real network.  Each host is a
# named namespace ('ip netns add az<PID>-NAME': unique per run) with
# loopback and one or more 10.53.0.N addresses.  Its processes run with
# 'ip netns exec', which execs: $! is the server's own PID, and every stop
# is by that PID (knotd: 'knotc stop' first).  hosts_cleanup stops what was
# started and deletes the namespaces, also when the test fails; if the test
# is killed outright, the namespaces vanish with its mount namespace.
#
# Per host NAME, in HOSTS_DIR/NAME: knotd's files (knotd-lib.sh layout: the
# store is NAME/store/acmezone.mdb, made with 'acmezone init --group knot'),
# sshd_config, ssh_host_ed25519_key(.pub), authorized_keys (empty: the test
# adds its lines with host_authorize), id_ed25519(.pub) (the key this host
# logs in to others with), and run/ (XDG_RUNTIME_DIR of what host_exec
# runs: its ssh control sockets are its own).
#
# Variables: HOST_ADDR[NAME] (first address), HOST_ADDRS[NAME] (all),
# HOSTS_NET (10.53.0), HOSTS_DIR.

. "$top_srcdir/tests/lib/knotd-lib.sh"

SSHD=${SSHD:-/usr/sbin/sshd}
HOSTS_NET=10.53.0
HOSTS_HUB=$HOSTS_NET.254
HOSTS_DIR=
HOSTS_RUN=az$$
declare -A HOST_ADDR HOST_ADDRS HOST_NS HOST_SSHD_PID HOST_KD
HOSTS_LIST=
# knotd-lib.sh's state, saved per host (host_kd switches between them).
HOSTS_KD_VARS="KD_DIR KD_CONF KD_ZONE KD_PORT KD_DB KD_PID KD_LOG KD_IPV6 KD_EXTRA_ZONES KD_ADDRS KD_ADDR KD_EXEC"
HOSTS_KD_CUR=

# hosts_require: skip the whole test unless it can make hosts here.
hosts_require() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
	command -v ip >/dev/null 2>&1 || skip_all "needs ip (iproute2)"
	command -v unshare >/dev/null 2>&1 || skip_all "needs unshare (util-linux)"
	[ -x "$SSHD" ] || skip_all "sshd not found at '$SSHD' (Debian: openssh-server)"
	command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 ||
		skip_all "needs ssh and ssh-keygen (Debian: openssh-client)"
	knotd_require
}

# hosts_enter "$@": re-run this script in a network and mount namespace of
# its own (once; the second time through it returns).
hosts_enter() {
	if [ -z "${AZ_HOSTS_LAN:-}" ]; then
		unshare --net --mount true 2>/dev/null || skip_all "cannot create namespaces here"
		AZ_HOSTS_LAN=1 exec unshare --net --mount --propagation private bash "$0" "$@"
	fi
	[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
		bail "hosts.sh: not in a network namespace of its own"
}

# hosts_init: the directory, the bridge, and the cleanup trap.
hosts_init() {
	HOSTS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/azh.XXXXXX") || bail "mktemp"
	chmod 0755 "$HOSTS_DIR"
	trap hosts_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	ip link set lo up &&
	ip link add azbr0 type bridge &&
	ip addr add "$HOSTS_HUB/24" dev azbr0 &&
	ip link set azbr0 up || bail "hosts.sh: cannot make the bridge"
	# sshd's privilege separation directory (the package's unit makes it).
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || bail "cannot make /run/sshd"
}

# host_add NAME N [N...]: a host with the addresses HOSTS_NET.N.
host_add() {
	local name=$1 ns=$HOSTS_RUN-$1 n i=0
	shift
	ip netns add "$ns" || bail "ip netns add $ns"
	HOST_NS[$name]=$ns
	HOSTS_LIST="$HOSTS_LIST $name"
	ip link add "v$HOSTS_RUN$name" type veth peer name eth0 netns "$ns" &&
	ip link set "v$HOSTS_RUN$name" master azbr0 up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" link set eth0 up || bail "host_add $name: cannot plug it in"
	for n in "$@"; do
		ip -n "$ns" addr add "$HOSTS_NET.$n/24" dev eth0 ||
			bail "host_add $name: cannot add $HOSTS_NET.$n"
		[ $i -eq 0 ] && HOST_ADDR[$name]=$HOSTS_NET.$n
		HOST_ADDRS[$name]="${HOST_ADDRS[$name]:+${HOST_ADDRS[$name]} }$HOSTS_NET.$n"
		i=$((i + 1))
	done
	mkdir -p "$HOSTS_DIR/$name/run" && chmod 0755 "$HOSTS_DIR/$name" &&
		chmod 0700 "$HOSTS_DIR/$name/run" || bail "host_add $name: mkdir"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$HOSTS_DIR/$name/id_ed25519" ||
		bail "host_add $name: ssh-keygen"
	# Reachable from the LAN: every address answers ping-free, so wait
	# until the kernel has the routes (the veth is up at once).
	poll_until 5 ip -n "$ns" route get "$HOSTS_HUB" >/dev/null 2>&1 ||
		bail "host_add $name: no route to the LAN"
}

# host_exec NAME CMD...: run CMD in NAME's network namespace, with its own
# XDG_RUNTIME_DIR (ssh control sockets) and HOME.
host_exec() {
	local name=$1
	shift
	XDG_RUNTIME_DIR="$HOSTS_DIR/$name/run" HOME="$HOSTS_DIR/$name/run" \
		ip netns exec "${HOST_NS[$name]}" "$@"
}

# host_kd NAME: make knotd-lib.sh's helpers (az, q, dq, knotd_stop,
# knotd_start, kd_ctl...) act on NAME's knotd.
host_kd() {
	local v
	if [ -n "$HOSTS_KD_CUR" ]; then
		for v in $HOSTS_KD_VARS; do
			HOST_KD[$HOSTS_KD_CUR:$v]=${!v}
		done
	fi
	for v in $HOSTS_KD_VARS; do
		printf -v "$v" '%s' "${HOST_KD[$1:$v]:-}"
	done
	HOSTS_KD_CUR=$1
}

# host_knotd NAME ZONE [ZONE FILE]...: knotd with mod-acmezone serving ZONE
# (its store made by 'acmezone init --group knot --zone ZONE') and the
# other zones from their files, on NAME's addresses, port 53.  HOSTS_APEX,
# if set, holds zone-file lines (relative to ZONE) that replace the
# default 'NS ns.invalid.' of ZONE: its real NS set and their addresses.
host_knotd() {
	local name=$1 zone=$2
	shift 2
	host_kd "$name"
	mkdir -p "$HOSTS_DIR/$name/kd" || bail "mkdir"
	KD_ADDRS=${HOST_ADDRS[$name]}
	KD_ADDR=${HOST_ADDR[$name]}
	KD_EXEC="ip netns exec ${HOST_NS[$name]}"
	KD_EXTRA_ZONES=
	KD_APEX=${HOSTS_APEX:-} knotd_setup "$HOSTS_DIR/$name/kd" "$zone"
	KD_PORT=53		# the host's own addresses: nothing else is there
	KD_IPV6=no
	while [ $# -ge 2 ]; do
		KD_EXTRA_ZONES="$KD_EXTRA_ZONES
  - domain: $1
    file: \"$2\""
		shift 2
	done
	knotd_write_conf
	knotd_init --zone "$zone" >/dev/null || bail "host_knotd $name: acmezone init"
	knotd_start
	host_kd "$name"		# saved
}

# host_authorize NAME LINE: append LINE to NAME's authorized_keys.
host_authorize() {
	printf '%s\n' "$2" >>"$HOSTS_DIR/$1/authorized_keys"
}

# host_sshd NAME: sshd in NAME's namespace on its first address, port 22,
# with a host key made for the run and HOSTS_DIR/NAME/authorized_keys for
# every user (root in the tests).  Waits until it accepts connections.
host_sshd() {
	local name=$1 d="$HOSTS_DIR/$1"
	[ -f "$d/ssh_host_ed25519_key" ] ||
		ssh-keygen -q -t ed25519 -N '' -C "$name host" -f "$d/ssh_host_ed25519_key" ||
		bail "host_sshd $name: ssh-keygen"
	touch "$d/authorized_keys"
	cat >"$d/sshd_config" <<-EOF
	# sshd for host $name of one test run, written by tests/lib/hosts.sh.
	ListenAddress ${HOST_ADDR[$name]}:22
	HostKey $d/ssh_host_ed25519_key
	PidFile none
	AuthorizedKeysFile $d/authorized_keys
	StrictModes no
	UsePAM no
	PermitRootLogin prohibit-password
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	MaxStartups 200:30:400
	MaxSessions 200
	LogLevel VERBOSE
	# Forced commands run through root's shell, and bash reads ~/.bashrc
	# when sshd starts it: a HOME of the run's own keeps the machine's
	# shell setup (which may take seconds) out of every session.
	SetEnv HOME=$d/run
	EOF
	"$SSHD" -t -f "$d/sshd_config" 2>"$d/sshd.out" ||
		bail "host_sshd $name: sshd -t: $(head -n 1 "$d/sshd.out")"
	ip netns exec "${HOST_NS[$name]}" "$SSHD" -D -e -f "$d/sshd_config" \
		>>"$d/sshd.out" 2>&1 &
	HOST_SSHD_PID[$name]=$!
	poll_until 5 host_exec "$name" bash -c \
		"exec 3<>/dev/tcp/${HOST_ADDR[$name]}/22" 2>/dev/null ||
		bail "host_sshd $name: sshd did not come up ($(tail -n 1 "$d/sshd.out"))"
}

# host_tree PID: PID and every process below it (found by parent PID).
host_tree() {
	local todo=$1 p kids
	while [ -n "$todo" ]; do
		set -- $todo
		p=$1
		shift
		kids=$(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')
		todo="$* $kids"
		todo=${todo# }
		todo=${todo%% }
		printf '%s ' "$p"
	done
}

# host_signal NAME SIG: signal NAME's sshd and every process below it
# (the session of each connection): SIGSTOP makes a host that hangs,
# SIGCONT lets it go on.
host_signal() {
	local pids
	[ -n "${HOST_SSHD_PID[$1]:-}" ] || return 0
	pids=$(host_tree "${HOST_SSHD_PID[$1]}")
	# shellcheck disable=SC2086
	kill -"$2" $pids 2>/dev/null
	return 0
}

# host_sshd_stop NAME: stop NAME's sshd and its sessions (the connection
# processes below it, which would outlive the listener and keep an ssh
# control master connected): the host no longer takes ssh at all.
host_sshd_stop() {
	local pid=${HOST_SSHD_PID[$1]:-} p
	[ -n "$pid" ] || return 0
	for p in $(host_tree "$pid"); do
		[ "$p" = "$pid" ] || stop_pid "$p" "an sshd session of $1"
	done
	stop_pid "$pid" "sshd of $1"
	HOST_SSHD_PID[$1]=
}

# host_masters_exit NAME: close the kept sessions and ssh control masters
# of what NAME ran (acmezone's, in NAME/run/acmezone-ssh): its next
# connection is new.
host_masters_exit() {
	local s
	[ -d "$HOSTS_DIR/$1/run/acmezone-ssh" ] &&
		host_exec "$1" "$top_builddir/acmezone" peer close >/dev/null 2>&1
	for s in "$HOSTS_DIR/$1/run/acmezone-ssh"/*; do
		case $s in */keep-*) continue ;; esac
		[ -S "$s" ] && host_exec "$1" ssh -F none -o ControlPath="$s" -O exit x \
			>/dev/null 2>&1
	done
	return 0
}

# hosts_cleanup: for 'trap hosts_cleanup EXIT'.  Stops every knotd and sshd
# started, deletes the namespaces, removes HOSTS_DIR unless a test failed
# or KD_KEEP is set.
hosts_cleanup() {
	local rc=$? name pid
	for name in $HOSTS_LIST; do
		host_masters_exit "$name"
	done
	for name in $HOSTS_LIST; do
		host_sshd_stop "$name"
		if [ -n "${HOST_KD[$name:KD_CONF]:-}" ]; then
			host_kd "$name"
			[ -n "$KD_PID" ] && kill -CONT "$KD_PID" 2>/dev/null
			knotd_stop || :
			host_kd "$name"
		fi
	done
	for pid in ${HOSTS_PIDS:-}; do
		stop_pid "$pid" "process"
	done
	for name in $HOSTS_LIST; do
		ip netns del "${HOST_NS[$name]}" 2>/dev/null
	done
	if [ -n "$HOSTS_DIR" ] && [ -d "$HOSTS_DIR" ]; then
		if [ "${tap_failed:-0}" -ne 0 ] || [ "$rc" -ne 0 ] || [ -n "${KD_KEEP:-}" ]; then
			diag "kept $HOSTS_DIR (exit status $rc, $tap_failed failed)"
		else
			rm -rf -- "$HOSTS_DIR"
		fi
	fi
	return "$rc"
}

# host_bg NAME CMD...: start CMD in NAME's namespace in the background;
# its PID is added to HOSTS_PIDS (stopped by hosts_cleanup) and left in
# HOSTS_LAST_PID.
HOSTS_PIDS=
host_bg() {
	local name=$1
	shift
	XDG_RUNTIME_DIR="$HOSTS_DIR/$name/run" HOME="$HOSTS_DIR/$name/run" \
		ip netns exec "${HOST_NS[$name]}" "$@" &
	HOSTS_LAST_PID=$!
	HOSTS_PIDS="$HOSTS_PIDS $HOSTS_LAST_PID"
}
