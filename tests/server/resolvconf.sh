#!/bin/bash
# resolvconf.sh -- 'acmezone check' without --server asks the nameservers of /etc/resolv.conf, in turn.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# resolv.conf cannot name a port, so the test needs a server on port 53:
# it re-runs itself in a private network and mount namespace (root only:
# CI runs as root), brings its loopback up, starts knotd on port 53 there
# with the challenge zone and a customer zone, and bind-mounts its own
# resolv.conf over /etc/resolv.conf -- the host's file and network are
# never touched.

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/knotd-lib.sh"

knotd_require
if [ -z "${AZ_RESOLV_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || skip_all "needs root for a private network and mount namespace"
	command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 ||
		skip_all "needs unshare and ip"
	unshare --net --mount true 2>/dev/null || skip_all "cannot create namespaces here"
	AZ_RESOLV_NS=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi
# From here on: inside the namespaces, never in the host's.
[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
	bail "not in a network namespace of its own"

ip link set lo up || bail "cannot bring up the loopback of the namespace"
dir=$(mktemp -d "${TMPDIR:-/tmp}/az-resolv-XXXXXX") || bail "mktemp"
trap knotd_cleanup EXIT

CZ=acme.example.test
# The challenge zone's own NS with an address: check asks every address
# of every NS of it (learned through resolv.conf's nameserver too).
KD_APEX="@ NS ns.$CZ.
ns A 127.0.0.1" knotd_setup "$dir" "$CZ"
KD_PORT=53		# our own network namespace: nothing else is here
knotd_write_conf
cat >"$dir/customer.zone" <<ZONE
\$ORIGIN example.test.
\$TTL 5
@	SOA	ns.invalid. hostmaster.invalid. 1 3600 600 86400 5
@	NS	ns.invalid.
_acme-challenge	CNAME	example-test.$CZ.
ZONE
knotd_add_zone example.test. "$dir/customer.zone"
knotd_start
knotd_init --zone "$CZ" >/dev/null || bail "acmezone init"

# set_resolv LINES...: our resolv.conf over the host's, in this namespace.
set_resolv() {
	printf '%s\n' "$@" >"$dir/resolv.conf"
	if mountpoint -q /etc/resolv.conf &&
	   [ "$(stat -c %i /etc/resolv.conf)" = "$(stat -c %i "$dir/resolv.conf")" ]; then
		return 0	# ours already: the new lines are in place
	fi
	mount --bind "$dir/resolv.conf" /etc/resolv.conf || bail "cannot bind-mount resolv.conf"
}

set_resolv "nameserver 127.0.0.1"
out=$(az check example.test 2>&1)
is "$?" 0 "check with no --server asks resolv.conf's nameserver: exit 0"
like "$out" "^example\\.test: ok: _acme-challenge\\.example\\.test\\. CNAME example-test\\.$CZ\\. is in place" \
	"... and the verdict is that server's"
like "$out" "; so do all 1 address\\(es\\) of its nameservers\$" \
	"... the NS set learned through it: ns.$CZ, 127.0.0.1@53"

# Nothing listens on 127.0.0.2@53 here: refused at once, the next is asked.
set_resolv "# a comment" "search example.test" "nameserver 127.0.0.2" "nameserver 127.0.0.1"
out=$(az check example.test 2>&1)
is "$?" 0 "a dead first nameserver: the second is asked"
like "$out" "^example\\.test: ok: " "... ok from it"

set_resolv "nameserver 127.0.0.2"
out=$(az check example.test 2>&1)
is "$?" 4 "the only nameserver is dead: exit 4"
like "$out" "^example\\.test: error: cannot resolve _acme-challenge\\.example\\.test\\. \\(no reply .*from 127\\.0\\.0\\.2@53\\)" \
	"... naming the server that did not answer"

# Without a nameserver line, the C library's default: 127.0.0.1.
set_resolv "options edns0"
out=$(az check example.test 2>&1)
is "$?" 0 "no nameserver line: 127.0.0.1 is asked"

# A name server line with a port is not resolv.conf syntax: skipped.
set_resolv "nameserver 127.0.0.1@5353" "nameserver 127.0.0.1"
out=$(az check example.test 2>&1)
is "$?" 0 "a nameserver line with '@port' is skipped, the next one used"

if kd_have_ipv6; then
	set_resolv "nameserver ::1"
	out=$(az check example.test 2>&1)
	is "$?" 0 "an IPv6 nameserver (::1)"
else
	ok 0 "an IPv6 nameserver (::1) # SKIP no IPv6 loopback in the namespace"
fi
umount /etc/resolv.conf
ok $? "resolv.conf given back (in this namespace; the host's never changed)"
done_testing
