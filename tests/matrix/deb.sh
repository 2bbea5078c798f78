#!/bin/sh
# deb.sh -- build the Debian packages for one suite and test them as an operator would, in a fresh root.
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   tests/matrix/deb.sh SUITE        (bookworm or trixie; as root)
#
# 1. Builds the .debs with 'dpkg-buildpackage -us -uc -b' from a copy of the
#    working tree: on the host if it runs SUITE, else in a root of SUITE
#    with the build dependencies (mkroot.sh), so that the module is built
#    against that suite's libknot.  lintian must report no errors.
# 2. In a fresh root of SUITE (a throw-away overlay over a cached root with
#    knot, knot-dnsutils and bind9), installs them with 'apt-get install
#    ./*.deb', checks what the packages set up, adds the example snippet to
#    the distribution's /etc/knot/knot.conf, starts the distribution's knotd
#    (as user knot, its own config and paths), writes tokens with the
#    installed CLI as root and as a non-root writer in the group
#    'acmezone', sees them served (kdig), then the same store through the
#    distribution's named with the example DLZ statement, then removes and
#    purges the packages and checks what is left.
#
# The .debs are kept in $ACMEZONE_DEBS/SUITE (default
# /var/cache/acmezone/debs); with a bookworm build there, the trixie run also
# checks that apt refuses bookworm's module beside trixie's knot.
# Output is TAP, ending with "N passed, N failed"; exit 1 if anything failed.
set -eu

if [ "${1:-}" = --inroot ]; then
	inroot=1
else
	inroot=0
fi

# ---------------------------------------------------------------------------
# Inside the fresh root: the operator's steps.  /debs holds the packages.
# ---------------------------------------------------------------------------
if [ "$inroot" = 1 ]; then
	set +e			# every check counts; nothing stops the run
	n=0
	failed=0
	ok() { n=$((n + 1)); echo "ok $n - $1"; }
	fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
	check() {	# check DESCRIPTION COMMAND...
		d=$1
		shift
		if "$@" >/tmp/check.out 2>&1; then ok "$d"; else fail "$d"; sed 's/^/# /' /tmp/check.out; fi
	}
	mode() { stat -c '%a %U:%G' "$1"; }
	in_group() { id -nG "$1" | tr ' ' '\n' | grep -qx "$2"; }
	not() { ! "$@"; }
	knotc_() { knotc -c /etc/knot/knot.conf "$@"; }
	poll() {	# poll SECONDS COMMAND...: until COMMAND succeeds
		t=$(($1 * 10))
		shift
		while ! "$@" >/dev/null 2>&1; do
			t=$((t - 1))
			[ "$t" -gt 0 ] || return 1
			sleep 0.1
		done
	}
	txt() { kdig @127.0.0.1 +short +norec "$1" TXT; }
	served() { txt "$1" | grep -qx "\"$2\""; }
	gone() { ! txt "$1" | grep -q "$2"; }
	as() { u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }
	lists() { as "$1" acmezone list | grep -q "$2"; }
	knotd_pid=""
	named_pid=""
	stop_servers() {
		if [ -n "$knotd_pid" ]; then
			knotc_ stop >/dev/null 2>&1 || kill "$knotd_pid" 2>/dev/null || true
			wait "$knotd_pid" 2>/dev/null || true
		fi
		if [ -n "$named_pid" ] && kill -0 "$named_pid" 2>/dev/null; then
			rndc stop >/dev/null 2>&1 || kill "$named_pid" 2>/dev/null || true
			wait "$named_pid" 2>/dev/null || true
		fi
	}
	trap stop_servers EXIT
	export DEBIAN_FRONTEND=noninteractive
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	knotver=$(dpkg-query -W -f='${Version}' knot)
	echo "# $suite: knot $knotver, bind9 $(dpkg-query -W -f='${Version}' bind9)"
	ex=/usr/share/doc/knot-module-acmezone/examples
	# The cached roots leave out docs and man pages; an operator's system
	# has them (the examples are docs).
	rm -f /etc/dpkg/dpkg.cfg.d/99mmdebstrap
	# An ACME DNS-01 value: 43 characters of base64url.
	tok() { printf '%s' "$1" | sha256sum | cut -c1-43; }
	t_root=$(tok root) t_exp=$(tok expiring) t_acme=$(tok acme) t_reader=$(tok reader)

	# The packages of another suite's knot must not install here.
	if ls /olddebs/knot-module-acmezone_*.deb >/dev/null 2>&1; then
		if apt-get install -y /olddebs/knot-module-acmezone_*.deb \
			/debs/acmezone_*.deb >/tmp/old.out 2>&1; then
			fail "apt refuses $(dpkg-deb -f /olddebs/knot-module-acmezone_*.deb Depends | grep -o 'knot (<<[^)]*)') beside knot $knotver"
			apt-get purge -y knot-module-acmezone acmezone >/dev/null 2>&1 || true
		else
			ok "apt refuses the module of another Knot series beside knot $knotver"
			grep -m1 'Depends: knot' /tmp/old.out | sed 's/^/# /'
		fi
	fi

	# Install, the way the README says.
	check "apt-get install ./*.deb" apt-get install -y \
		/debs/acmezone_*.deb /debs/knot-module-acmezone_*.deb /debs/bind9-dlz-acmezone_*.deb
	moddir=$(ls -d /usr/lib/*/knot/modules-* 2>/dev/null)
	check "the module is in knotd's module directory ($moddir)" test -f "$moddir/acmezone.so"
	check "the DLZ driver is in BIND's plugin directory" sh -c 'test -f /usr/lib/*/bind/dlz_acmezone.so'
	check "/var/lib/acmezone is 750 root:acmezone" test "$(mode /var/lib/acmezone)" = "750 root:acmezone"
	check "knot is in the group acmezone" in_group knot acmezone
	check "bind is in the group acmezone" in_group bind acmezone
	check "acmezone-purge.timer is enabled" test -L /etc/systemd/system/timers.target.wants/acmezone-purge.timer
	check "the example snippet is installed, not enabled" sh -c "test -f $ex/knot.conf.acmezone && ! grep -q acmezone /etc/knot/knot.conf"

	# The operator: create the store, add the snippet and a zone file, start knotd.
	check "acmezone init --group acmezone --zone acme.example.net" \
		acmezone init --group acmezone --zone acme.example.net
	check "the data file is 640 root:acmezone" test "$(mode /var/lib/acmezone/acmezone.mdb)" = "640 root:acmezone"
	cat "$ex/knot.conf.acmezone" >>/etc/knot/knot.conf
	# Where to listen, and a log a test can show (syslog is absent here).
	printf '\nserver:\n    listen: 127.0.0.1@53\nlog:\n  - target: stderr\n    any: info\n' >>/etc/knot/knot.conf
	install -o knot -g knot -m 0640 "$ex/acme.example.net.zone" /var/lib/knot/acme.example.net.zone
	check "knotc conf-check" knotc_ conf-check
	install -d -o knot -g knot /run/knot
	/usr/sbin/knotd -c /etc/knot/knot.conf >/tmp/knotd.log 2>&1 &
	knotd_pid=$!
	if poll 20 knotc_ zone-status acme.example.net; then
		ok "knotd started with the distribution's config"
	else
		fail "knotd started with the distribution's config"
		tail -n 20 /tmp/knotd.log | sed 's/^/# knotd: /'
	fi
	check "knotd runs as user knot" test "$(stat -c %U /proc/"$knotd_pid")" = knot
	check "knotd loaded mod-acmezone and opened the store" \
		poll 10 grep -q "database '/var/lib/acmezone/acmezone.mdb'" /tmp/knotd.log

	owner=example-org.acme.example.net
	check "acmezone add as root" acmezone add example.org $t_root
	check "kdig gets the root's token" served "$owner" $t_root

	# An expiring token, then the cron job (no systemd here) purges it.
	check "acmezone add --expire 3s" acmezone add --expire 3s example.net $t_exp
	check "kdig gets the expiring token" served example-net.acme.example.net $t_exp
	check "the expired token is not served" poll 10 gone example-net.acme.example.net $t_exp
	check "/etc/cron.daily/acmezone runs acmezone purge" /etc/cron.daily/acmezone
	check "nothing left to purge afterwards" sh -c "acmezone purge -v | grep -qx 'purged 0 expired value(s)'"

	# A non-root writer: member of acmezone and owner of the data file.
	useradd --system --no-create-home --shell /usr/sbin/nologin reader >/dev/null 2>&1
	adduser --quiet reader acmezone
	check "a member of acmezone reads the store (acmezone list)" lists reader $t_root
	check "a member of acmezone that does not own the data file cannot write" not as reader acmezone add example.org $t_reader
	useradd --system --no-create-home --shell /usr/sbin/nologin acme >/dev/null 2>&1
	adduser --quiet acme acmezone
	chown acme /var/lib/acmezone/acmezone.mdb
	check "acmezone add as the writer account (group acmezone, owns the data file)" \
		as acme acmezone add example.com $t_acme
	check "kdig gets the writer account's token" served example-com.acme.example.net $t_acme
	check "acmezone del as the writer account" as acme acmezone del example.com $t_acme
	check "the deleted token is gone" gone example-com.acme.example.net $t_acme
	check "hook wrapper acmezone-lego is installed and runs the CLI" sh -c "acmezone-lego 2>&1 | grep -q acmezone"
	check "acmezone add as the writer account, for named" as acme acmezone add example.com $t_acme
	check "knotc stop" knotc_ stop
	wait "$knotd_pid" 2>/dev/null || true
	knotd_pid=""

	# The same store through named and the DLZ driver, with Debian's
	# named.conf and the example statement in named.conf.local.
	cat /usr/share/doc/bind9-dlz-acmezone/examples/named.conf.acmezone >>/etc/bind/named.conf.local
	check "named-checkconf" named-checkconf
	install -d -o bind -g bind /run/named
	/usr/sbin/named -u bind -g >/tmp/named.log 2>&1 &
	named_pid=$!
	if poll 20 rndc status; then
		ok "named started with the distribution's config"
	else
		fail "named started with the distribution's config"
		tail -n 20 /tmp/named.log | sed 's/^/# named: /'
	fi
	check "named answers the writer account's token from the store" \
		served example-com.acme.example.net $t_acme
	check "rndc stop" rndc stop
	wait "$named_pid" 2>/dev/null || true

	# Remove keeps the store; purge deletes it.
	check "apt-get remove" apt-get remove -y acmezone knot-module-acmezone bind9-dlz-acmezone
	check "remove: the module is gone" test ! -e "$moddir/acmezone.so"
	check "remove: the store is kept" test -f /var/lib/acmezone/acmezone.mdb
	check "remove: the cron job is kept (a conffile) and does nothing" /etc/cron.daily/acmezone
	check "apt-get purge" apt-get purge -y acmezone knot-module-acmezone bind9-dlz-acmezone
	check "purge: /var/lib/acmezone is gone" test ! -e /var/lib/acmezone
	check "purge: the cron job is gone" test ! -e /etc/cron.daily/acmezone
	check "purge: the timer is disabled" test ! -e /etc/systemd/system/timers.target.wants/acmezone-purge.timer
	check "purge: knot left the group acmezone" not in_group knot acmezone
	check "purge: bind left the group acmezone" not in_group bind acmezone
	check "purge: knot's own files are untouched" test -f /etc/knot/knot.conf
	left=$(dpkg -l | awk '$2 ~ /acmezone/ { print $1, $2 }')
	check "purge: no acmezone package is known to dpkg" test -z "$left"
	echo "1..$n"
	echo "# $suite: $((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

# ---------------------------------------------------------------------------
# On the host: build, lint, then run the part above in a fresh root.
# ---------------------------------------------------------------------------
[ $# -eq 1 ] || { echo "usage: deb.sh SUITE (bookworm or trixie)" >&2; exit 2; }
suite=$1
case $suite in
bookworm|trixie|sid) ;;
*) echo "deb.sh: unknown suite '$suite' (bookworm, trixie, sid)" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "deb.sh: must run as root" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
start=$(date +%s)
work=$(mktemp -d /var/tmp/acmezone-deb.XXXXXX)
merged=""
cleanup() {
	[ -z "$merged" ] || umount "$merged" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A copy of the working tree (tracked and new files, not build products).
mkdir -p "$work/build/acmezone"
(cd "$top" && git ls-files -co --exclude-standard) |
	(cd "$top" && tar -cf - -T -) | tar -xf - -C "$work/build/acmezone"
upstream=$(sed -n 's/^AC_INIT(\[acmezone\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
debver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
case $debver in
"$upstream"-*) ;;
*) echo "deb.sh: debian/changelog says $debver, configure.ac $upstream" >&2; exit 1 ;;
esac

# sh -c "$build" sh DIR: build in DIR/acmezone, lint what was built.
build='cd "$1/acmezone" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b \
	>../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
lintian --fail-on error --tag-display-limit 0 ../*.changes'
host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
debs=${ACMEZONE_DEBS:-/var/cache/acmezone/debs}/$suite
if [ "${ACMEZONE_DEB_NOBUILD:-}" = 1 ] && ls "$debs"/*_"$debver"_*.deb >/dev/null 2>&1; then
	echo "# deb.sh $suite: testing the packages already in $debs (ACMEZONE_DEB_NOBUILD=1)"
	mkdir -p "$work/build"
	cp "$debs"/*.deb "$work/build/"
else
	echo "# deb.sh $suite: building $debver"
	if [ "$host_suite" = "$suite" ] && command -v lintian >/dev/null &&
		(cd "$top" && dpkg-checkbuilddeps) 2>/dev/null; then
		sh -c "$build" sh "$work/build" || { echo "not ok - build on the host"; exit 1; }
	else
		broot=$("$here/mkroot.sh" "$suite" debhelper dh-autoreconf libknot-dev \
			liburcu-dev liblmdb-dev libgnutls28-dev pkgconf lintian)
		"$here/inroot.sh" "$broot" --bind "$work/build:/build" -- sh -c "$build" sh /build ||
			{ echo "not ok - build in a $suite root"; exit 1; }
	fi
fi
built=$(date +%s)
echo "# built and linted in $((built - start)) s"
mkdir -p "$debs"
rm -f "$debs"/*.deb
cp "$work"/build/*.deb "$debs"/
rm -f "$debs"/*-dbgsym_*.deb
for d in "$debs"/*.deb; do
	echo "# $(dpkg-deb -f "$d" Package): Depends: $(dpkg-deb -f "$d" Depends)"
done

# The fresh root: an overlay over a cached root, thrown away afterwards.
troot=$("$here/mkroot.sh" "$suite" knot knot-dnsutils bind9 adduser passwd)
mkdir -p "$work/upper" "$work/work" "$work/merged" "$work/in/debs" "$work/in/olddebs"
merged="$work/merged"
mount -t overlay overlay -o "lowerdir=$troot,upperdir=$work/upper,workdir=$work/work" "$merged"
cp "$debs"/*.deb "$work/in/debs/"
other=${ACMEZONE_DEBS:-/var/cache/acmezone/debs}/bookworm
if [ "$suite" != bookworm ] && ls "$other"/knot-module-acmezone_*.deb >/dev/null 2>&1; then
	cp "$other"/knot-module-acmezone_*.deb "$work/in/olddebs/"
fi
cp "$0" "$work/in/deb.sh"
rc=0
"$here/inroot.sh" "$merged" --bind "$work/in/debs:/debs" --bind "$work/in/olddebs:/olddebs" \
	--bind "$work/in:/t" -- sh /t/deb.sh --inroot || rc=$?
echo "# deb.sh $suite: build $((built - start)) s, install test $(($(date +%s) - built)) s"
exit $rc
