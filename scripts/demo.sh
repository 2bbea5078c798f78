#!/bin/sh
# demo.sh -- the whole idea in one run: a throw-away knotd on loopback with
# SPDX-License-Identifier: GPL-2.0-or-later
# mod-acmezone, a token written by the acmezone CLI, and kdig seeing it.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh
./scripts/build.sh

dir=$(mktemp -d /tmp/acmezone-demo-XXXXXX)
conf="$dir/knot.conf"
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		/usr/sbin/knotc -c "$conf" stop >/dev/null 2>&1 || kill "$pid"
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

port=$(./tests/lib/freeport)
zone=acme.example.test
db="$dir/acmezone.mdb"
cat > "$dir/$zone.zone" <<ZONE
\$TTL 5
@   SOA ns hostmaster 1 3600 600 86400 5
@   NS  ns
ns  A   127.0.0.1
ZONE
cat > "$conf" <<CONF
server:
    listen: 127.0.0.1@$port
    rundir: $dir
log:
  - target: $dir/knot.log
    any: info
database:
    storage: $dir
module:
  - id: mod-acmezone
    file: $top/.libs/acmezone.so
mod-acmezone:
  - id: demo
    database: $db
    ttl: 10
zone:
  - domain: $zone
    file: $dir/$zone.zone
    module: mod-acmezone/demo
CONF

echo "== acmezone init (the store knotd will read)"
./acmezone --db "$db" init

/usr/sbin/knotd -c "$conf" >"$dir/knotd.out" 2>&1 &
pid=$!
i=0
until /usr/sbin/knotc -c "$conf" status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: knotd did not start:" >&2
		cat "$dir/knotd.out" "$dir/knot.log" >&2 2>/dev/null
		exit 1
	fi
	sleep 0.1
done
echo "== knotd (pid $pid) serves $zone on 127.0.0.1@$port with mod-acmezone"

token=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | cut -c1-43)
echo "== acmezone add _acme-challenge.$zone $token"
./acmezone --db "$db" add "_acme-challenge.$zone" "$token" --expire 10m
./acmezone --db "$db" list

echo "== kdig asks knotd (right after the CLI returned)"
kdig @127.0.0.1 -p "$port" +norec "_ACME-challenge.$zone" TXT
if kdig @127.0.0.1 -p "$port" +short "_acme-challenge.$zone" TXT | grep -q "\"$token\""; then
	echo "== served: knotd answers the token written by the CLI"
else
	echo "demo: the token is not served" >&2
	exit 1
fi
echo "== knotc zone-stats $zone mod-acmezone"
/usr/sbin/knotc -c "$conf" zone-stats "$zone" mod-acmezone
echo "== stopping knotd"
