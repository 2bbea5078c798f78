#!/bin/sh
# deps.sh -- install what building and testing acmezone needs on Debian 12 (run as root).
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
      unbound pebble certbot lego dehydrated openssl curl"
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
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The Debian packages start a knotd, a named (and try an unbound) on port 53
# with their own configs; our tests, benchmarks and demo run their own
# instances on free loopback ports and never touch those.
