#!/bin/sh
# report.sh -- TAP test of the history (hook writes, outcome hooks) and 'acmezone report' (JSON, Prometheus, HTML in headless Chromium), without DNS.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"

AZ="$top_builddir/acmezone"
AZTOOL="$top_builddir/tests/lib/aztool"
[ -x "$AZ" ] || skip_all "$AZ not built"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl"

tmp=$(mktemp -d) || bail "mktemp -d failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

unset ACMEZONE_DB ACMEZONE_WAIT ACMEZONE_EXPIRE ACMEZONE_PROPAGATION_TIMEOUT ACMEZONE_CLIENT
unset CERTBOT_DOMAIN CERTBOT_VALIDATION CERTBOT_AUTH_OUTPUT RENEWED_LINEAGE RENEWED_DOMAINS
LC_ALL=C
export LC_ALL
mkdir -m 0700 "$tmp/s"
DB="$tmp/s/az.mdb"
export ACMEZONE_DB="$DB"
Z=acme.example.net
V1=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ
V2=0123456789-_abcdefghijklmnopqrstuvwxyzABCDE
V3=ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj

run() {
	"$AZ" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# field PY-EXPR: evaluate PY-EXPR over the JSON report in $tmp/r.json
# ('r' is the document, 'd(NAME)' the entry of a domain, None if absent).
field() {
	python3 - "$tmp/r.json" "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
def d(name):
    for e in r["domains"]:
        if e["domain"] == name or e["owner"] == name:
            return e
    return None
print(eval(sys.argv[2]))
EOF
}

report_json() {
	"$AZ" report --json --offline >"$tmp/r.json" 2>"$tmp/r.err"
}

# cert FILE DAYS CN: a self-signed certificate valid for DAYS days.
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tmp/key.pem" -out "$1" -days "$2" -subj "/CN=$3" 2>/dev/null
}

# notafter FILE: the certificate's notAfter in UNIX seconds, as openssl reads it.
notafter() {
	date -u -d "$(openssl x509 -enddate -noout -in "$1" | sed 's/^notAfter=//')" +%s
}

### A store without a history

"$AZ" init --zone "$Z" >/dev/null || bail "init failed"
run report --json --offline
is "$rc" 0 "report of a store with no history yet: exit 0"
printf '%s\n' "$out" >"$tmp/r.json"
is "$(field 'len(r["domains"]), r["history_events"]')" "(0, 0)" "... no domains, no events"

### Hook writes record who, where, what

CERTBOT_DOMAIN=example.org CERTBOT_VALIDATION=$V1 "$AZ" hook certbot auth >/dev/null
ok $? "certbot auth hook"
"$AZ" add www.example.org "$V2"
ok $? "add by hand"
ACMEZONE_CLIENT=acme.sh "$AZ" add _acme-challenge.shop.example "$V3"
ok $? "add as acme.sh does it (ACMEZONE_CLIENT)"
report_json
is "$(field 'r["history_events"]')" 3 "three events"
is "$(field 'd("example.org")["last_challenge"]["client"], d("example.org")["owner"], d("example.org")["live_values"]')" \
	"('certbot', 'example-org.$Z.', 1)" "certbot's challenge: client, delegation name, live value"
is "$(field 'd("example.org")["last_challenge"]["host"]')" "$(hostname | cut -c1-64)" "... the host it ran on"
is "$(field 'd("www.example.org")["last_challenge"]["client"]')" manual "add: client 'manual'"
is "$(field 'd("shop.example")["last_challenge"]["client"]')" acme.sh "ACMEZONE_CLIENT=acme.sh: client 'acme.sh'"
CERTBOT_DOMAIN=example.org CERTBOT_VALIDATION=$V1 CERTBOT_AUTH_OUTPUT="acmezone: published $V1 at x" \
	"$AZ" hook certbot >/dev/null
report_json
is "$(field 'd("example.org")["cleaned_up"], d("example.org")["live_values"]')" "(True, 0)" \
	"certbot cleanup: recorded, no live value left"

### A failed write leaves no event

ACMEZONE_CLIENT='not a name' "$AZ" add example.org "$V3" 2>"$tmp/err"
is "$?" 3 "ACMEZONE_CLIENT that is not a client name: exit 3"
like "$(cat "$tmp/err")" "ACMEZONE_CLIENT='not a name' is not a client name" "... says which"
n=$(field 'r["history_events"]')
i=0
: >"$tmp/batch"
while [ $i -lt 1023 ]; do
	printf 'add full.example raw%04d 1h\n' $i >>"$tmp/batch"
	i=$((i + 1))
done
"$AZ" apply --raw "$tmp/batch" && "$AZ" add full.example "$V1" 2>/dev/null
ok $? "1024 values at one name"
run add full.example "$V2"
is "$rc" 3 "a 1025th value is refused (exit 3)"
report_json
is "$(field 'r["history_events"]')" "$((n + 1))" "... and left no event (the 1024th did; apply records none)"
is "$(field 'd("full.example")["last_challenge"]["time_unix"] > 0')" True "... the 1024th is there"

### Outcomes: certbot's deploy hook, with the certificate's notAfter

mkdir "$tmp/live"
cert "$tmp/live/cert.pem" 60 example.org
want=$(notafter "$tmp/live/cert.pem")
RENEWED_LINEAGE="$tmp/live" RENEWED_DOMAINS="example.org www.example.org" "$AZ" hook certbot-deploy
ok $? "certbot-deploy hook"
report_json
is "$(field 'd("example.org")["last_issuance"]["not_after_unix"]')" "$want" \
	"notAfter read with GnuTLS equals openssl x509 -enddate ($want)"
is "$(field 'd("www.example.org")["last_issuance"]["not_after_unix"], d("www.example.org")["last_issuance"]["client"]')" \
	"($want, 'certbot')" "... for every domain of RENEWED_DOMAINS"
is "$(field 'd("example.org")["days_to_expiry"] in (59, 60), d("example.org")["state"]')" "(True, 'ok')" "60 days left (59 once a second passed): ok"
run hook certbot-deploy
is "$rc" 2 "certbot-deploy outside certbot (no RENEWED_LINEAGE): usage error"

### lego's run hook and acme.sh's renew hook

cert "$tmp/lego.crt" 10 lego.example
LEGO_CERT_DOMAIN=lego.example LEGO_CERT_PATH="$tmp/lego.crt" "$AZ" hook lego-deploy
ok $? "lego-deploy hook"
cert "$tmp/acmesh.cer" 90 shop.example
Le_Domain=shop.example CERT_PATH="$tmp/acmesh.cer" "$AZ" hook acme.sh-deploy
ok $? "acme.sh-deploy hook"
report_json
is "$(field 'd("lego.example")["last_issuance"]["not_after_unix"], d("lego.example")["state"]')" \
	"($(notafter "$tmp/lego.crt"), 'expiring')" "lego: notAfter; fewer than 20 days left is 'expiring'"
is "$(field 'd("shop.example")["last_issuance"]["client"], d("shop.example")["last_challenge"]["client"]')" \
	"('acme.sh', 'acme.sh')" "acme.sh: the renewal and the challenge"

### dehydrated: a failure with the CA's reason, and a request failure

"$AZ" hook dehydrated deploy_challenge bad.example tok "$V1"
ok $? "dehydrated deploy_challenge"
resp='{"type":"dns-01","status":"invalid","error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"Incorrect TXT record \"<b>x</b>\" & more found at _acme-challenge.bad.example","status":403}}'
"$AZ" hook dehydrated invalid_challenge bad.example "$resp"
ok $? "dehydrated invalid_challenge"
# As dehydrated passes it: JSON.sh's flattened lines, the object last.
"$AZ" hook dehydrated deploy_challenge flat.example tok "$V2"
flat=$(printf '["type"]\t"dns-01"\n["status"]\t"invalid"\n["error","type"]\t"urn:ietf:params:acme:error:unauthorized"\n["error","detail"]\t"Correct value not found for DNS challenge"\n["error"]\t{"detail":"other"}')
"$AZ" hook dehydrated invalid_challenge flat.example "$flat"
ok $? "dehydrated invalid_challenge, the response as dehydrated flattens it"
"$AZ" hook dehydrated deploy_challenge req.example tok "$V2"
"$AZ" hook dehydrated request_failure 503 "Service busy" GET '' 
ok $? "dehydrated request_failure (names no domain)"
cert "$tmp/deh.pem" 90 deh.example
"$AZ" hook dehydrated deploy_cert deh.example "$tmp/key.pem" "$tmp/deh.pem" "$tmp/deh.pem" "$tmp/deh.pem" 1
ok $? "dehydrated deploy_cert"
"$AZ" hook dehydrated unchanged_cert deh.example a b c d
ok $? "other handlers still ignored"
report_json
is "$(field 'd("bad.example")["state"], d("bad.example")["last_failure"]["reason"]')" \
	"('failed', 'Incorrect TXT record \"<b>x</b>\" & more found at _acme-challenge.bad.example')" \
	"invalid_challenge: failed, with the CA's reason"
is "$(field 'r["domains"][0]["state"] == "failed" and r["domains"][0]["needs_human"]')" True \
	"a failure comes first"
is "$(field 'd("flat.example")["last_failure"]["reason"]')" "Correct value not found for DNS challenge" \
	"... the detail is read from the flattened form"
is "$(field 'd("req.example")["last_failure"]["reason"]')" "request failure: HTTP 503 on GET: Service busy" \
	"request_failure: placed at this host's newest dehydrated challenge"
is "$(field 'd("deh.example")["last_issuance"]["not_after_unix"]')" "$(notafter "$tmp/deh.pem")" "deploy_cert: notAfter"

### Bad input: a certificate that cannot be parsed

echo "not a certificate" >"$tmp/live/cert.pem"
n=$(field 'r["history_events"]')
RENEWED_LINEAGE="$tmp/live" RENEWED_DOMAINS="broken.example" "$AZ" hook certbot-deploy 2>"$tmp/err"
is "$?" 3 "an unparsable certificate: exit 3"
like "$(cat "$tmp/err")" "cannot read the certificate '$tmp/live/cert.pem': unparsable certificate \\(" \
	"... one clear line"
is "$(wc -l <"$tmp/err" | tr -d ' ')" 1 "... only one"
report_json
is "$(field 'r["history_events"]')" "$((n + 1))" "the issuance is kept"
like "$(field 'd("broken.example")["last_issuance"]["reason"]')" "^unparsable certificate" \
	"... with 'unparsable certificate'"
is "$(field 'd("broken.example")["last_issuance"]["not_after_unix"], d("example.org")["last_issuance"]["not_after_unix"]')" \
	"(None, $want)" "... no expiry; nothing else lost"

### Prometheus: written atomically, field by field

mkdir "$tmp/prom"
run report --prometheus "$tmp/prom/acmezone.prom" --offline
is "$rc$err" 0 "report --prometheus FILE"
is "$(ls "$tmp/prom")" acmezone.prom "... no temporary file left"
prom() {
	awk -v m="$1" -v d="$2" '$1 == m "{domain=\"" d "\"}" { print $2 }' "$tmp/prom/acmezone.prom"
}
is "$(prom acmezone_certificate_expiry_timestamp_seconds example.org)" "$want" "expiry of example.org"
is "$(prom acmezone_certificate_expiry_timestamp_seconds lego.example)" "$(notafter "$tmp/lego.crt")" "expiry of lego.example"
is "$(prom acmezone_last_failure_timestamp_seconds bad.example)" "$(field 'd("bad.example")["last_failure"]["time_unix"]')" \
	"last failure of bad.example"
is "$(prom acmezone_last_success_timestamp_seconds shop.example)" "$(field 'd("shop.example")["last_issuance"]["time_unix"]')" \
	"last success of shop.example"
is "$(prom acmezone_needs_human bad.example)$(prom acmezone_needs_human example.org)" 10 "needs_human 1 and 0"
is "$(awk '$1 == "acmezone_history_events" { print $2 }' "$tmp/prom/acmezone.prom")" "$(field 'r["history_events"]')" \
	"history_events"
bad=$(grep -v '^#' "$tmp/prom/acmezone.prom" | grep -Evc '^acmezone_[a-z_]+(\{domain="[^"]*"\})? -?[0-9]+$')
is "$bad" 0 "every sample line is in the text format"
is "$(grep -c '^# TYPE ' "$tmp/prom/acmezone.prom")" "$(grep -c '^# HELP ' "$tmp/prom/acmezone.prom")" "a TYPE per HELP"
run report --prometheus "$tmp/nodir/acmezone.prom" --offline
is "$rc" 1 "--prometheus into a missing directory: exit 1"
like "$err" "cannot write '$tmp/nodir/acmezone.prom'" "... says which file"

### certbot has no failure hook: a challenge it cleaned up more than 5
### minutes ago with no certificate after it is a failure (its deploy
### hook is in use here: the certbot-deploy events above).  The events
### are dated back with aztool, as the hooks would have written them.

hist() { "$AZTOOL" hist "$DB" "$@" || bail "aztool hist $*"; }
hist add certbot late.example 600
hist del certbot late.example 590
hist add certbot fresh.example 120
hist del certbot fresh.example 100
hist add certbot done.example 600
hist del certbot done.example 590
hist issued certbot done.example 580
hist add lego other.example 600
hist del lego other.example 590
report_json
is "$(field 'd("late.example")["state"], d("late.example")["last_failure"]["reason"]')" \
	"('failed', 'certbot cleaned up the challenge but no certificate followed (certbot has no failure hook: see its log)')" \
	"certbot: cleaned up 10 minutes ago, no certificate since: failed, and why"
is "$(field 'd("fresh.example")["state"] != "failed"')" True \
	"... not while the certificate may still follow (cleaned up 100 s ago)"
is "$(field 'd("done.example")["state"] != "failed"')" True "... not when a certificate followed"
is "$(field 'd("other.example")["state"] != "failed"')" True \
	"... not for another client (lego says so itself)"

### Usage

run report --offline
is "$rc" 2 "report without an output: usage error"
run report --json --html "$tmp/x.html"
is "$rc" 2 "two outputs at once: usage error"
run report --json "$tmp/x"
is "$rc" 2 "a FILE with --json: usage error"

### HTML: escaped, one row per domain, opened in headless Chromium

run report --html "$tmp/report.html" --offline
is "$rc$err" 0 "report --html FILE"
ndom=$(field 'len(r["domains"])')
is "$(grep -c '^<tr class=' "$tmp/report.html")" "$ndom" "one row per domain ($ndom)"
grep -q '<b>x</b>' "$tmp/report.html"
ok $((! $?)) "the CA's reason is escaped (no <b> from the store)"
grep -q '&quot;&lt;b&gt;x&lt;/b&gt;&quot; &amp; more' "$tmp/report.html"
ok $? "... it reads &quot;&lt;b&gt;x&lt;/b&gt;&quot; &amp; more"
grep -Eiq '(src|href)=|<script|<link|url\(' "$tmp/report.html"
ok $((! $?)) "no scripts, no external assets"
grep -q '<svg id="chart"' "$tmp/report.html"
ok $? "an inline SVG chart"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	ok 0 "# SKIP no chromium"
else
	# Its own profile and no sandbox (root); the page is a file:// URL.
	chrome() {
		timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
			--no-first-run --user-data-dir="$tmp/chrome" --hide-scrollbars \
			--enable-logging=stderr --v=0 "$@"
	}
	chrome --dump-dom "file://$tmp/report.html" >"$tmp/dom.html" 2>"$tmp/chrome.err"
	is "$?" 0 "chromium --dump-dom: exit 0"
	title=$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$tmp/dom.html" | head -n 1)
	k=$(field 'r["needs_human"]')
	verb=need
	[ "$k" != 1 ] || verb=needs
	is "$title" "acmezone report: $ndom domains, $k $verb a human" "the page's title, as rendered"
	is "$(grep -o '<tr class="[a-z]*">' "$tmp/dom.html" | wc -l | tr -d ' ')" "$ndom" "the rendered table has $ndom rows"
	is "$(grep -c '<rect class="issued"' "$tmp/dom.html")" 30 "the chart has 30 days"
	errs=$(grep -Ei 'CONSOLE|Uncaught|Refused to|ERR_FILE_NOT_FOUND' "$tmp/chrome.err" | grep -Ev 'dbus|gpu|Fontconfig' || true)
	is "$errs" "" "no console errors"
	chrome --window-size=1280,900 --screenshot="$tmp/shot.png" "file://$tmp/report.html" >/dev/null 2>&1
	is "$(od -An -tx1 -N8 "$tmp/shot.png" 2>/dev/null | tr -d ' ')" 89504e470d0a1a0a "a screenshot (PNG)"
	if [ -n "${REPORT_SCREENSHOT:-}" ]; then
		cp "$tmp/shot.png" "$REPORT_SCREENSHOT"
	fi
fi

### Bad input: a corrupt history record, a damaged observation file

cp "$DB" "$tmp/copy.mdb"
flipped=$("$AZTOOL" flip "$tmp/copy.mdb" "Service busy" 2)
ok $(( flipped >= 1 ? 0 : 1 )) "damage one history record in a copy (its reason; $flipped copies in the file)"
mv "$tmp/copy.mdb" "$DB"
run report --json --offline
is "$rc" 0 "report over a corrupt history record: exit 0"
like "$err" "skipping corrupt history record [0-9]+" "... says which it skipped"
printf '%s\n' "$out" >"$tmp/r.json"
is "$(field 'r["history_corrupt"], d("req.example")["last_failure"], d("example.org")["last_issuance"]["not_after_unix"]')" \
	"(1, None, $want)" "... that one is gone, nothing else"

mkdir -p "$DB-observe"
head -c 100 /dev/urandom >"$DB-observe/knotd"
run report --json --offline
is "$rc" 0 "report with a damaged observation file: exit 0"
like "$err" "cannot use the observation file '$DB-observe/knotd' \\(" "... warns, naming it"
printf '%s\n' "$out" >"$tmp/r.json"
is "$(field 'd("example.org")["ca_looked"], len(r["domains"])')" "('unknown', $ndom)" "... 'CA looked' unknown, every row still there"
rm -rf "$DB-observe"

### The CNAME check, with a timeout

port=$("$top_builddir/tests/lib/freeport")
t0=$(date +%s)
run report --json --server "127.0.0.1@$port" --check-timeout 0.2
t1=$(date +%s)
is "$rc" 0 "report with the check against a silent resolver: exit 0"
printf '%s\n' "$out" >"$tmp/r.json"
is "$(field 'd("example.org")["check"]')" error "the check says 'error'"
ok $(( t1 - t0 < 60 ? 0 : 1 )) "... within the timeouts ($((t1 - t0)) s)"
run report --json --check-timeout 0
is "$rc" 3 "--check-timeout 0: exit 3"

### A history at its bound

fails_cfg() {
	cp "$DB" "$tmp/before"
	run config "$@"
	is "$rc" 3 "config $*: exit 3"
	cmp -s "$DB" "$tmp/before"
	ok $? "config $*: store unchanged"
}
fails_cfg --history-max 9
fails_cfg --history-days 0
fails_cfg --history-max 12x
run config --history-max 10 --history-days 30 -v
is "$rc" 0 "config --history-max 10 --history-days 30"
like "$out" "history 10 events, 30 days" "... shown"
report_json
is "$(field 'r["history_events"]')" 10 "the history is cut to its bound at once"
i=0
while [ $i -lt 12 ]; do
	"$AZ" add "n$i.example" "$V1" || break
	i=$((i + 1))
done
report_json
is "$(field 'r["history_events"]')" 10 "12 more writes: still 10 events"
is "$(field 'd("n1.example") is None, d("n2.example")["last_challenge"]["client"], d("n11.example")["last_challenge"]["client"]')" \
	"(True, 'manual', 'manual')" "the oldest dropped first"

### Did the CA look?  The observation file, as mod-acmezone writes it

CERTBOT_DOMAIN=seen.example CERTBOT_VALIDATION=$V1 "$AZ" hook certbot auth >/dev/null
pub=$("$AZ" status --json seen.example 2>/dev/null | python3 -c 'import json, sys
print(json.load(sys.stdin)[0]["values"][0]["published_ms"])')
mkdir -p "$DB-observe"
"$AZTOOL" obs "$DB" "seen-example.$Z" "$pub" 7 || bail "aztool obs failed"
report_json
is "$(field 'd("seen.example")["ca_looked"], d("seen.example")["queries"], d("n11.example")["ca_looked"]')" \
	"('yes', 7, 'no')" "ca_looked: yes with 7 queries since the publication; no for a name nobody asked"
"$AZ" report --prometheus --offline >"$tmp/p2.prom"
is "$(awk '$1 == "acmezone_challenge_queries_total{domain=\"seen.example\"}" { print $2 }' "$tmp/p2.prom")" 7 \
	"acmezone_challenge_queries_total of seen.example"
"$AZTOOL" obs "$DB" "seen-example.$Z" "$((pub - 60000))" 3
report_json
is "$(field 'd("seen.example")["ca_looked"]')" no "queries of an older publication do not count"
rm -rf "$DB-observe"

### status: by which hook or client a live value was published

CERTBOT_DOMAIN=st.example CERTBOT_VALIDATION=$V2 "$AZ" hook certbot auth >/dev/null
printf 'add st.example %s\n' "$V3" | "$AZ" apply
"$AZ" status --json st.example >"$tmp/st.json" 2>/dev/null
is "$(python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[0]["values"]
print(sorted((x["value"][:4], x["client"], x["host"] is not None) for x in v))' "$tmp/st.json")" \
	"[('0123', 'certbot', True), ('ZYXW', None, False)]" \
	"status --json: the hook's value by certbot, the batch's by nobody known (apply records no event)"
run status st.example
like "$out" "value $V2 .* by certbot on " "status: '... by certbot on HOST'"

done_testing
