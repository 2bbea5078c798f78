#!/bin/sh
# inroot.sh -- run a command inside a Debian root made by mkroot.sh, isolated from the host.
#
#   tests/matrix/inroot.sh ROOT [--bind HOSTDIR:ROOTDIR]... -- COMMAND [ARG...]
#
# The command runs as root in new mount, network, PID, IPC and UTS
# namespaces: its own /proc, /dev, /tmp (tmpfs), only a loopback interface
# (so its servers may use any port, 53 included, without touching the host),
# and the given host directories bind-mounted.  Everything it starts dies
# with it, also when inroot.sh itself is killed (a timeout).  The exit
# status is the command's.
set -eu
[ $# -ge 2 ] || { echo "usage: inroot.sh ROOT [--bind HOST:INROOT]... -- CMD..." >&2; exit 2; }
root=$1
shift
[ -f "$root/.acmezone-root-ready" ] || { echo "inroot.sh: '$root' is not a root made by mkroot.sh" >&2; exit 2; }
binds=""
while [ $# -gt 0 ]; do
	case $1 in
	--bind) binds="$binds $2"; shift 2 ;;
	--) shift; break ;;
	*) echo "inroot.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[ $# -ge 1 ] || { echo "inroot.sh: no command" >&2; exit 2; }

if [ "${INROOT_INSIDE:-}" != 1 ]; then
	export INROOT_INSIDE=1 INROOT_BINDS="$binds"
	exec unshare --mount --net --pid --ipc --uts --fork --kill-child --mount-proc=/proc \
		"$0" "$root" -- "$@"
fi

# Inside the new namespaces: nothing mounted here is seen by the host.
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t sysfs sysfs "$root/sys" 2>/dev/null || true
for b in $INROOT_BINDS; do
	src=${b%%:*}
	dst=${b#*:}
	mkdir -p "$root$dst"
	mount --bind "$src" "$root$dst"
done
ip link set lo up
exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
