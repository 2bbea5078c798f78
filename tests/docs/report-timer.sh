#!/bin/sh
# report-timer.sh -- the systemd unit's ExecStart and the cron line of doc/troubleshooting.md, run exactly as written (in a mount namespace with its own /var and resolv.conf).
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"

AZ="$top_builddir/acmezone"
DOC="$top_srcdir/doc/troubleshooting.md"
[ -x "$AZ" ] || skip_all "$AZ not built"
[ "$(id -u)" = 0 ] || skip_all "needs root (a mount namespace of its own)"
command -v unshare >/dev/null 2>&1 || skip_all "no unshare (util-linux)"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl"
unshare -m true 2>/dev/null || skip_all "cannot make a mount namespace here"

tmp=$(mktemp -d) || bail "mktemp -d failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
unset ACMEZONE_CLIENT RENEWED_LINEAGE RENEWED_DOMAINS

# The two commands, as the page gives them.
execstart=$(sed -n 's/^ExecStart=//p' "$DOC")
cronline=$(grep -E '^\*/15 \* \* \* \* root ' "$DOC" | sed -E 's/^([^ ]+ ){6}//')
is "$(printf '%s\n' "$execstart" | grep -c .)" 1 "the page has one ExecStart line"
is "$(printf '%s\n' "$cronline" | grep -c .)" 1 "the page has one cron line for root"

# A store with one issued certificate; acmezone first in PATH.
mkdir -m 0700 "$tmp/s" "$tmp/bin"
ln -s "$AZ" "$tmp/bin/acmezone"
export ACMEZONE_DB="$tmp/s/az.mdb"
"$AZ" init --zone acme.example.net >/dev/null || bail "init failed"
mkdir "$tmp/live"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k.pem" \
	-out "$tmp/live/cert.pem" -days 30 -subj /CN=example.org 2>/dev/null
RENEWED_LINEAGE="$tmp/live" RENEWED_DOMAINS=example.org "$AZ" hook certbot-deploy ||
	bail "certbot-deploy failed"
want=$(date -u -d "$(openssl x509 -enddate -noout -in "$tmp/live/cert.pem" | sed 's/^notAfter=//')" +%s)
# No resolver answers in the namespace: the check fails fast, as offline.
echo "nameserver 127.0.0.9" >"$tmp/resolv.conf"

# inns CMD: run CMD with sh in a mount namespace whose /var is a tmpfs,
# then copy out what it wrote there.
inns() {
	rm -rf "$tmp/out"
	mkdir "$tmp/out"
	PATH="$tmp/bin:$PATH" unshare -m sh -c '
		mount -t tmpfs tmpfs /var && mount --bind "$3" /etc/resolv.conf || exit 99
		sh -c "$1"; rc=$?
		cp -a /var/. "$2/"
		exit $rc' sh "$1" "$tmp/out" "$tmp/resolv.conf"
}

for what in systemd cron; do
	if [ $what = systemd ]; then
		inns "$execstart"
	else
		inns "$cronline"
	fi
	is "$?" 0 "$what: the command exits 0"
	html="$tmp/out/www/html/acmezone.html"
	prom="$tmp/out/lib/prometheus/node-exporter/acmezone.prom"
	like "$(cat "$html" 2>/dev/null)" "<title>acmezone report: 1 domain, " "$what: the HTML report is there"
	is "$(awk '$1 == "acmezone_certificate_expiry_timestamp_seconds{domain=\"example.org\"}" { print $2 }' "$prom" 2>/dev/null)" \
		"$want" "$what: the metrics are there, with the certificate's notAfter"
	is "$( (ls -A "$tmp/out/www/html"; ls -A "$tmp/out/lib/prometheus/node-exporter") 2>/dev/null |
		grep -c '\.tmp-')" 0 \
		"$what: no temporary file left"
done

done_testing
