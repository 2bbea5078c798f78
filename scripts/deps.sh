#!/bin/sh
# deps.sh -- install what building and testing acmezone needs on Debian 12 (run as root).
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   scripts/deps.sh           build and test
#   scripts/deps.sh --bench   also what bench/ needs: dnsperf, valgrind, BIND
#                             (named) for its "for the record" figure
#   scripts/deps.sh --matrix  also what tests/matrix/ needs: mmdebstrap (the
#                             Debian roots of other suites are made by it)
#   scripts/deps.sh --deb     also what tests/matrix/deb.sh needs: debhelper,
#                             lintian (Debian packages), mmdebstrap (roots)
set -e
pkgs="build-essential autoconf automake libtool pkg-config
      libknot-dev liburcu-dev liblmdb-dev
      knot knot-dnsutils bind9 bind9-dnsutils python3
      clang-14 libclang-rt-14-dev valgrind util-linux iproute2
      unbound pebble certbot lego dehydrated openssl curl
      openssh-server openssh-client python3-acme libgnutls28-dev chromium"
case ${1:-} in
--bench) pkgs="$pkgs dnsperf" ;;
--matrix) pkgs="$pkgs mmdebstrap" ;;
--deb) pkgs="$pkgs debhelper dh-autoreconf lintian mmdebstrap" ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Installing must not start daemons (sshd on port 22 above all): the
	# tests start their own, on free loopback ports. A policy-rc.d that
	# says "no" for the length of the install, removed again after, unless
	# the machine already had one.
	own_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
	[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
	[ "${rc:-0}" -eq 0 ] || exit "$rc"
fi
# The Debian packages start a knotd, a named (and try an unbound) on port 53
# with their own configs; our tests, benchmarks and demo run their own
# instances on free loopback ports and never touch those.
