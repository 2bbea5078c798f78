# sshd-lib.sh -- private sshd instances on loopback for shell tests, with keys made for the run; source it.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#	sshd_require                  skip_all unless sshd, ssh and ssh-keygen run here (root)
#	sshd_key FILE                 an ed25519 key pair FILE, FILE.pub
#	sshd_start NAME DIR           sshd for host NAME: DIR/host_ed25519 (made),
#	                              DIR/authorized_keys (the caller writes it),
#	                              $SSHD_PORT_<NAME>, $SSHD_PID_<NAME>
#	sshd_stop NAME                stop it (by the PID this file started)
#	sshd_authorize DIR KEY CMD    a line in DIR/authorized_keys: key KEY.pub
#	                              may run only CMD (command="CMD",restrict)
#	sshd_sessionless FILE CMD     FILE: a forced command that answers as a
#	                              serve without kept sessions (an older
#	                              acmezone): a session line is refused, a
#	                              batch goes to CMD (a serve command line)
#	sshd_masters_exit DIR         end the kept sessions and ssh control masters in DIR
#
# sshd runs as root (it must, to log in as root), with
# 'PermitRootLogin forced-commands-only': every key in authorized_keys
# needs its command="...".  Nothing here signals a process by name.

SSHD=${SSHD:-/usr/sbin/sshd}

sshd_require() {
	[ "$(id -u)" -eq 0 ] || skip_all "sshd logs in as root here: that needs root"
	[ -x "$SSHD" ] || skip_all "no sshd at '$SSHD' (apt-get install openssh-server)"
	command -v ssh >/dev/null 2>&1 || skip_all "no ssh (apt-get install openssh-client)"
	command -v ssh-keygen >/dev/null 2>&1 || skip_all "no ssh-keygen"
	mkdir -p /run/sshd && chmod 0755 /run/sshd
}

sshd_key() {
	rm -f "$1" "$1.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$(basename "$1")" -f "$1" || bail "ssh-keygen $1 failed"
}

sshd_start() {
	local name=$1 dir=$2 port pid
	[ -f "$dir/host_ed25519" ] || sshd_key "$dir/host_ed25519"
	port=$("$top_builddir/tests/lib/freeport") || bail "no free port"
	cat >"$dir/sshd_config" <<-EOF
	HostKey $dir/host_ed25519
	PidFile $dir/sshd.pid
	AuthorizedKeysFile $dir/authorized_keys
	PermitRootLogin forced-commands-only
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	UsePAM no
	StrictModes no
	MaxStartups 200
	MaxSessions 200
	LogLevel VERBOSE
	EOF
	: >"$dir/sshd.log"
	"$SSHD" -D -f "$dir/sshd_config" -p "$port" -o ListenAddress=127.0.0.1 \
		-E "$dir/sshd.log" &
	pid=$!
	printf -v "SSHD_PORT_$name" '%s' "$port"
	printf -v "SSHD_PID_$name" '%s' "$pid"
	printf -v "SSHD_DIR_$name" '%s' "$dir"
	poll_until 10 grep -q 'Server listening on' "$dir/sshd.log" ||
		{ diag "$(tail -n 5 "$dir/sshd.log")"; bail "sshd $name did not start"; }
}

sshd_stop() {
	local pid_var="SSHD_PID_$1" pid
	pid=${!pid_var}
	[ -n "$pid" ] || return 0
	# The sessions too: they outlive the listener otherwise.
	sshd_signal "$1" CONT
	sshd_signal "$1" TERM
	wait "$pid" 2>/dev/null
	printf -v "$pid_var" '%s' ''
}

sshd_authorize() {
	printf 'command="%s",restrict %s\n' "$3" "$(cat "$2.pub")" >>"$1/authorized_keys"
}

sshd_sessionless() {
	{
		echo '#!/bin/sh'
		echo '# serve without sessions (sshd-lib.sh), as it answers a session line'
		echo 'IFS= read -r first'
		echo 'if [ "${first#acmezone-session}" != "$first" ]; then'
		echo "	echo 'status id=- refused not an acmezone batch'"
		echo '	exit 3'
		echo 'fi'
		printf '{ printf "%%s\\n" "$first"; cat; } | exec %s\n' "$2"
	} >"$1" && chmod 0755 "$1"
}

sshd_masters_exit() {
	local sock
	# The kept sessions (cli/keeper.h) and the masters, waiting for them.
	[ -d "$1" ] && ACMEZONE_SSH_DIR=$1 "$top_builddir/acmezone" peer close >/dev/null 2>&1
	for sock in "$1"/*; do
		case $sock in */keep-*) continue ;; esac
		[ -S "$sock" ] || continue
		ssh -F none -o ControlPath="$sock" -O exit placeholder >/dev/null 2>&1
	done
}

# sshd_signal NAME SIG: signal sshd NAME and every process below it (the
# session of each connection), by the PIDs this file started and their
# children: SIGSTOP makes a host that hangs, SIGCONT lets it go on.
# The same on every OpenSSH: before 9.8 each connection is a forked sshd,
# since then an sshd-session (with sshd-auth below it in 10.0), in both
# cases a child of the listener (checked with 9.2, 10.0 and 10.6 by the
# version matrix, tests/matrix/matrix.sh).
sshd_signal() {
	local pid_var="SSHD_PID_$1" sig=$2 pids todo p kids
	todo=${!pid_var}
	[ -n "$todo" ] || return 0
	pids=
	while [ -n "$todo" ]; do
		set -- $todo
		p=$1
		shift
		todo="$*"
		pids="$pids $p"
		kids=$(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')
		todo="$todo $kids"
		todo=${todo# }
	done
	kill -"$sig" $pids 2>/dev/null
}
