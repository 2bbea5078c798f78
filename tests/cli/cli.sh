#!/bin/sh
# cli.sh -- TAP test of the acmezone CLI against a store in a temporary directory.
# SPDX-License-Identifier: GPL-2.0-or-later

. "$top_srcdir/tests/lib/tap.sh"

AZ="$top_builddir/acmezone"
[ -x "$AZ" ] || skip_all "$AZ not built"

tmp=$(mktemp -d) || bail "mktemp -d failed"
reader_pid=
apply_pid=
cleanup() {
	if [ -n "$reader_pid" ]; then
		kill "$reader_pid" 2>/dev/null
	fi
	if [ -n "$apply_pid" ]; then
		kill "$apply_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

unset ACMEZONE_DB
LC_ALL=C
export LC_ALL
DB="$tmp/store/acmezone.mdb"
N=_acme-challenge.example.org
V1=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ
V2=0123456789-_abcdefghijklmnopqrstuvwxyzABCDE
V3=ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj
VDASH=-bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ
HAVE_PY=no
if command -v python3 >/dev/null 2>&1; then
	HAVE_PY=yes
fi

# run ARGS...: the CLI with $out, $err and $rc set afterwards.
run() {
	"$AZ" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# fails STATUS REGEX DESC ARGS...: exits STATUS with one stderr line
# matching REGEX, and leaves the data file byte for byte as it was.
fails() {
	f_want=$1
	f_re=$2
	f_desc=$3
	shift 3
	cp "$DB" "$tmp/before"
	run "$@"
	is "$rc" "$f_want" "$f_desc: exit $f_want"
	is "$(wc -l <"$tmp/err" | tr -d ' ')" 1 "$f_desc: one line on stderr"
	like "$err" "$f_re" "$f_desc: the message names the input"
	cmp -s "$DB" "$tmp/before"
	ok $? "$f_desc: database unchanged"
}

# count NAME: how many values list shows at NAME (or in all, without NAME).
count() {
	"$AZ" --db "$DB" list "$@" | grep -c .
}

mode() {
	stat -c %a "$1"
}

### init

run --db "$DB" init
is "$rc" 0 "init: exit 0"
like "$out" "^created directory $tmp/store \\(mode 0750" "init: says it created the directory"
like "$out" "created $DB \\(mode 0640, owner [^)]*\\), lock file $DB-lock \\(0660\\), sync file $DB-sync \\(0660\\)" \
	"init: reports the files and modes"
is "$(mode "$DB")" 640 "init: data file mode 0640"
is "$(mode "$DB-lock")" 660 "init: lock file mode 0660"
is "$(mode "$DB-sync")" 660 "init: sync file mode 0660"
is "$(mode "$tmp/store")" 750 "init: directory mode 0750"
if getent group knot >/dev/null 2>&1; then
	is "$(stat -c %G "$DB")" knot "init: group knot by default when it exists"
else
	is "$(stat -c %g "$DB")" "$(id -g)" "init: the caller's group without a knot group"
fi

fails 1 "init: '$DB' already exists" "init on an existing store" --db "$DB" init

run --db "$tmp/g/x.mdb" init --group no-such-group-azt
is "$rc" 3 "init --group unknown: exit 3"
like "$err" "'no-such-group-azt' is not a known group" "init --group unknown: names the group"
test ! -e "$tmp/g"
ok $? "init --group unknown: nothing created"

run --db "$tmp/gid.mdb" init --group "$(id -g)"
is "$rc" 0 "init --group with a numeric id"
is "$(stat -c %g "$tmp/gid.mdb")" "$(id -g)" "init --group: the group is set"

LONGFILE=$(printf '%0300d' 0)
run --db "$tmp/new/$LONGFILE" init
is "$rc" 1 "init that fails: exit 1"
test ! -e "$tmp/new"
ok $? "init that fails: the directory it made is removed"

ACMEZONE_DB="$tmp/env.mdb" "$AZ" init >/dev/null
ok $? "init: ACMEZONE_DB is used without --db"
test -f "$tmp/env.mdb"
ok $? "init: ACMEZONE_DB: file created"

### add and list

run --db "$DB" --no-wait add "$N" "$V1"
is "$rc" 0 "add: exit 0"
is "$out$err" "" "add: quiet on success"
run --db "$DB" list
like "$out" "^$N\\.  $V1  expires [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \\(in (1h|59m[0-9]+s)\\)\$" \
	"list: name, value, expiry, default 1h"

"$AZ" --db "$DB" --no-wait add _ACME-Challenge.Example.ORG. "$V1"
ok $? "add: upper case and a trailing dot"
is "$(count)" 1 "add: same value at the same name, any case: not duplicated"
run --db "$DB" list
like "$out" "^$N\\.  " "list: names shown in lower case with a trailing dot"

exp1=$("$AZ" --db "$DB" list --json | sed -n 's/.*"expires": \([0-9]*\).*/\1/p')
"$AZ" --db "$DB" --no-wait add "$N" "$V1" --expire 2h
exp2=$("$AZ" --db "$DB" list --json | sed -n 's/.*"expires": \([0-9]*\).*/\1/p')
is "$(count)" 1 "add again: still one value"
d=$((exp2 - exp1))
test "$d" -ge 3598 && test "$d" -le 3602
ok $? "add again with --expire 2h: expiry refreshed (+$d s)"

"$AZ" --db "$DB" add "$N" "$V2" && "$AZ" --db "$DB" add "$N" "$V3"
ok $? "add: two more values at one name (waiting, no readers)"
is "$(count "$N")" 3 "list NAME: three values"
is "$(count example.org)" 0 "list NAME: another name shows nothing"

run add "$N" "$VDASH" --db "$DB"
is "$rc" 0 "add: a value starting with '-', --db after the command"
is "$(count "$N")" 4 "add: the '-' value is stored"
"$AZ" --db "$DB" del "$N" -- "$VDASH"
ok $? "del: '--' before a value"

### del

run --db "$DB" del "$N" "$V2"
is "$rc$out$err" 0 "del NAME VALUE: exit 0, quiet"
is "$(count "$N")" 2 "del NAME VALUE: one value gone"
run --db "$DB" list "$N"
like "$out" "$V1" "del NAME VALUE: the others stay ($V1)"
like "$out" "$V3" "del NAME VALUE: the others stay ($V3)"

cp "$DB" "$tmp/before"
run --db "$DB" del "$N" "$V2"
is "$rc$out$err" 0 "del of an absent value: exit 0, quiet"
cmp -s "$DB" "$tmp/before"
ok $? "del of an absent value: database unchanged"

run --db "$DB" del "$N" -v
is "$rc" 0 "del NAME: exit 0"
is "$out" "removed 2 value(s) at $N." "del -v: counts"
is "$(count)" 0 "del NAME: every value gone"
run --db "$DB" del "$N"
is "$rc$out$err" 0 "del NAME again: exit 0, quiet"

### durations and expiry

for d in 90s:90 30m:1800 2h:7200 1d:86400 600:600; do
	arg=${d%%:*}
	want=${d#*:}
	"$AZ" --db "$DB" --no-wait add d.example.org "$V1" --expire "$arg"
	got=$("$AZ" --db "$DB" list d.example.org --json | sed -n 's/.*"expires": \([0-9]*\).*/\1/p')
	now=$(date +%s)
	d=$((got - now - want))
	test "$d" -ge -2 && test "$d" -le 0
	ok $? "add --expire $arg: expires in $want s"
done
"$AZ" --db "$DB" del d.example.org

for bad in 0 5x -1 3651d 1h30m "" 2H " 1h"; do
	fails 3 "add: '$bad' is not a valid duration" "add --expire '$bad'" \
		--db "$DB" add "$N" "$V1" --expire "$bad"
done

# The long-lived value first: an add drops the values at its name that
# have expired, so adding V2 after V1 would drop V1 on a slow machine.
"$AZ" --db "$DB" add old.example.org "$V2" --expire 1h &&
	"$AZ" --db "$DB" add old.example.org "$V1" --expire 1s &&
	"$AZ" --db "$DB" add gone.example.org "$V3" --expire 1s
ok $? "add: short-lived values"
sleep 2
run --db "$DB" list
like "$out" "^old\\.example\\.org\\.  $V1  expired [0-9T:-]+Z \\([0-9]+s ago\\)\$" \
	"list: an expired value is marked"
like "$out" "^old\\.example\\.org\\.  $V2  expires " "list: a live value is not"
run --db "$DB" list --json gone.example.org
like "$out" '"expired": true' "list --json: expired: true"
run --db "$DB" purge
is "$rc$out$err" 0 "purge: exit 0, quiet"
is "$(count)" 1 "purge: expired values removed, the live one stays"
"$AZ" --db "$DB" add old.example.org "$V1" --expire 1s
sleep 2
run --db "$DB" purge -v
is "$out" "purged 1 expired value(s)" "purge -v: counts"
"$AZ" --db "$DB" del old.example.org

### --raw and JSON

fails 3 "add: 'hello world' is not a valid value \\(.*base64url" \
	"add of a non-ACME value without --raw" --db "$DB" add "$N" "hello world"
run --db "$DB" add "$N" 'say "hi" \o/' --raw
is "$rc" 0 "add --raw: quotes and a backslash"
run --db "$DB" list
like "$out" "^$N\\.  \"say \\\\\"hi\\\\\" \\\\\\\\o/\"  expires" "list: a raw value with blanks is quoted"
"$AZ" --db "$DB" add "$N" "$V1"
run --db "$DB" list --json
is "$rc" 0 "list --json: exit 0"
like "$out" '"value": "say \\"hi\\" \\\\o/"' "list --json: value escaped"
like "$out" "\"name\": \"$N\\.\", \"value\": \"$V1\", \"expires\": [0-9]+, \"expires_at\": \"[0-9T:-]+Z\", \"expired\": false" \
	"list --json: the fields of an object"
if [ "$HAVE_PY" = yes ]; then
	printf '%s\n' "$out" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert isinstance(a, list) and len(a) == 2, a
assert sorted(o["value"] for o in a)[1] == "say \"hi\" \\o/", a
assert all(set(o) == {"name", "value", "expires", "expires_at", "expired"} for o in a)
'
	ok $? "list --json: parses as JSON, values round-trip"
else
	ok 0 "# SKIP python3 not found: JSON not parsed"
fi
run --db "$DB" list --json nothing.example.org
is "$out" "[]" "list --json: empty array"
"$AZ" --db "$DB" del "$N" 'say "hi" \o/' --raw
ok $? "del --raw: a raw value"
is "$(count "$N")" 1 "del --raw: only the raw value went"

### invalid input: exit 3, one line naming it, nothing written

L63=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
LONG="$L63.$L63.$L63.$L63.org"
fails 3 "add: '${L63}a\\.org' is not a valid name \\(label longer than 63" \
	"label of 64 octets" --db "$DB" add "${L63}a.org" "$V1"
fails 3 "add: 'x\\.\\.y' is not a valid name \\(empty label\\)" \
	"empty label" --db "$DB" add x..y "$V1"
fails 3 "del: 'exa mple\\.org' is not a valid name" \
	"a blank in a name" --db "$DB" del "exa mple.org"
fails 3 "add: 'a\\*b\\.org' is not a valid name" \
	"a '*' in a name" --db "$DB" add 'a*b.org' "$V1"
fails 3 "add: '-a\\.org' is not a valid name" \
	"a leading '-'" --db "$DB" add -- -a.org "$V1"
fails 3 "add: '$LONG' is not a valid name \\(name longer than 255" \
	"name over 255 octets" --db "$DB" add "$LONG" "$V1"
fails 3 "list: '\\.' is not a valid name" "the root name" --db "$DB" list .
fails 3 "add: '$(printf %.42s "$V1")' is not a valid value" \
	"value of 42 characters" --db "$DB" add "$N" "$(printf %.42s "$V1")"
fails 3 "add: '${V1}A' is not a valid value" \
	"value of 44 characters" --db "$DB" add "$N" "${V1}A"
fails 3 "add: '$(printf %.42s "$V1")\\+' is not a valid value" \
	"value with '+'" --db "$DB" add "$N" "$(printf %.42s "$V1")+"
fails 3 "add: 'a\\\\x1bb' is not a valid value \\(has a non-printable" \
	"raw value with a control character" --db "$DB" add "$N" "$(printf 'a\033b')" --raw
R256=$(printf '%0256d' 0)
fails 3 "add: '$R256' is not a valid value \\(longer than 255" \
	"raw value of 256 octets" --db "$DB" add "$N" "$R256" --raw
for bad in x 0.0001 3601 -1 1e3 ""; do
	fails 3 "'$bad' is not a valid wait timeout" "--wait-timeout '$bad'" \
		--db "$DB" --wait-timeout "$bad" add "$N" "$V1"
done

### usage errors: exit 2

fails 2 "'frobnicate' is not a command" "unknown command" --db "$DB" frobnicate
fails 2 "add: unknown option '--bogus'" "unknown option" --db "$DB" add "$N" "$V1" --bogus
fails 2 "unknown option '-x'" "unknown option before the command" -x --db "$DB" list
fails 2 "list: option '--raw' does not apply" "option of another command" --db "$DB" list --raw
fails 2 "add: missing VALUE" "missing argument" --db "$DB" add "$N"
fails 2 "del: missing NAME" "missing name" --db "$DB" del
fails 2 "purge: unexpected argument 'now'" "extra argument" --db "$DB" purge now
fails 2 "option '--expire' needs a value" "option without its value" --db "$DB" add "$N" "$V1" --expire
fails 2 "missing command" "no command" --db "$DB"

### a missing store: exit 1

for cmd in "list" "add $N $V1" "del $N" "purge"; do
	run --db "$tmp/none.mdb" $cmd
	is "$rc" 1 "$cmd on a missing store: exit 1"
	like "$err" "^acmezone: ${cmd%% *}: no store at '$tmp/none.mdb'" "$cmd on a missing store: message"
done
printf 'add %s %s\n' "$N" "$V1" | "$AZ" --db "$tmp/none.mdb" apply 2>/dev/null
is "$?" 1 "apply on a missing store: exit 1"
test ! -e "$tmp/none.mdb"
ok $? "a missing store is not created"

### apply

cat >"$tmp/batch" <<EOF
# a comment, then a blank line

add a.example.org $V1
add	A.Example.Org.	$V2	2h
  add b.example.org $V3 90s
   # an indented comment
del a.example.org $V1
add c.example.org $V1
add c.example.org $V2
del c.example.org
add 'odd' $V1 1d
EOF
# The last line has a quote: not a valid name.
fails 3 "apply: line 11: ''odd'' is not a valid name" "apply: bad line 11" \
	--db "$DB" apply "$tmp/batch"
is "$(count)" 1 "apply: nothing from a failed batch is written"
sed -i '$d' "$tmp/batch"
run --db "$DB" apply "$tmp/batch" -v
is "$rc" 0 "apply FILE: exit 0"
is "$out" "applied 7 operation(s) from 10 line(s): 5 added or refreshed, 3 value(s) removed" \
	"apply -v: counts"
is "$("$AZ" --db "$DB" list | awk '{ print $1, $2 }' | sort | tr '\n' ' ')" \
	"$N. $V1 a.example.org. $V2 b.example.org. $V3 " "apply: the batch took effect"
run --db "$DB" list b.example.org
like "$out" "\\(in 1m[23][0-9]s\\)" "apply: a per-line duration"

printf 'add x.example.org %s\nadd y.example.org %s\ndel z.example.org\n' "$V1" "$V2" |
	"$AZ" --db "$DB" apply -
ok $? "apply -: standard input"
printf 'del x.example.org\ndel y.example.org\n' | "$AZ" --db "$DB" apply
ok $? "apply: standard input by default"
is "$(count x.example.org)$(count y.example.org)" 00 "apply from standard input took effect"

printf 'add e.example.org %s\nput e.example.org %s\n' "$V1" "$V1" >"$tmp/b2"
fails 3 "apply: line 2: 'put' is not an operation" "apply: unknown operation" \
	--db "$DB" apply "$tmp/b2"
printf 'add e.example.org %s 5x\n' "$V1" >"$tmp/b2"
fails 3 "apply: line 1: '5x' is not a valid duration" "apply: bad duration" \
	--db "$DB" apply "$tmp/b2"
printf 'add e.example.org %s 1h extra\n' "$V1" >"$tmp/b2"
fails 3 "apply: line 1: expected 'add NAME VALUE \\[DURATION\\]'" "apply: too many fields" \
	--db "$DB" apply "$tmp/b2"
printf 'add e.example.org hello\n' >"$tmp/b2"
fails 3 "apply: line 1: 'hello' is not a valid value" "apply: value without --raw" \
	--db "$DB" apply "$tmp/b2"
run --db "$DB" apply "$tmp/b2" --raw
is "$rc" 0 "apply --raw: raw values"
{ printf 'add f.example.org %s\n' "$V1"; printf 'add f.example.org %04100d\n' 0; } >"$tmp/b2"
fails 3 "apply: line 2: longer than 4096 bytes" "apply: a line over 4096 bytes" \
	--db "$DB" apply --raw "$tmp/b2"
fails 1 "apply: cannot open '$tmp/nofile'" "apply: missing file" --db "$DB" apply "$tmp/nofile"

awk -v v="$V1" 'BEGIN { for (i = 0; i < 20000; i++) printf "add n%d.example.org %s\n", i, v }' >"$tmp/big"
run --db "$DB" apply "$tmp/big"
is "$rc$err" 0 "apply: 20000 lines"
is "$(count)" 20004 "apply: 20000 names written"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "del n%d.example.org\n", i }
     END { print "del bad..name" }' </dev/null >"$tmp/big"
fails 3 "apply: line 20001: 'bad\\.\\.name'" "apply: a bad last line of 20001" \
	--db "$DB" apply "$tmp/big"
is "$(count)" 20004 "apply: none of the 20000 deletions happened"

### read-your-writes

run --db "$DB" --wait-timeout 0.5 add w.example.org "$V1"
is "$rc$err" 0 "add waits and returns at once with no readers"
if [ "$HAVE_PY" = yes ]; then
	# Stand in for a server that claimed a reader slot but never
	# acknowledges: lock slot 0 of the sync file (the layout of
	# store/notify.c: 64-byte lines, slot i at line i + 1, pid at +16).
	python3 -c '
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, struct.pack("=QQ", 0, os.getpid()), 64 + 8)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 64, 64)
print("ready", flush=True)
time.sleep(60)
' "$DB-sync" >"$tmp/reader" &
	reader_pid=$!
	i=0
	while ! grep -q ready "$tmp/reader" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	run --db "$DB" --wait-timeout 0.3 add w.example.org "$V2"
	is "$rc" 0 "a reader that does not confirm: still exit 0"
	like "$err" "^acmezone: warning: the reader with pid $reader_pid has not confirmed transaction [0-9]+ within 0\\.3 s\$" \
		"a reader that does not confirm: warning"
	is "$(count w.example.org)" 2 "a reader that does not confirm: the write is committed"
	run --db "$DB" --no-wait add w.example.org "$V3"
	is "$rc$err" 0 "--no-wait: no wait, no warning"
	kill "$reader_pid"
	wait "$reader_pid" 2>/dev/null
	reader_pid=
else
	for i in 1 2 3 4; do
		ok 0 "# SKIP python3 not found: no stand-in reader"
	done
fi

### help and version

for cmd in "" init add del list purge apply; do
	run $cmd --help
	is "$rc" 0 "${cmd:-acmezone} --help: exit 0"
	like "$out" "^Usage: acmezone \\[OPTIONS\\] ${cmd:-COMMAND}" "${cmd:-acmezone} --help: usage on stdout"
done
run -h
is "$rc" 0 "-h: exit 0"
run add -h
like "$rc $out" "^0 Usage: acmezone \\[OPTIONS\\] add NAME VALUE" "add -h: help"
# The version, and the Knot module's: what configure found (config.h).
conf="$top_builddir/config.h"
pv=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$conf")
kv=$(sed -n 's/^#define AZ_KNOT_VERSION "\(.*\)"$/\1/p' "$conf")
ka=$(sed -n 's/^#define AZ_KNOT_MOD_ABI \([0-9]*\)$/\1/p' "$conf")
if [ -n "$kv" ]; then
	want="acmezone $pv (mod-acmezone built for Knot DNS $kv, module ABI $ka)"
else
	want="acmezone $pv (built without the Knot module)"
fi
run --version
is "$rc $out" "0 $want" "--version: $want"

### apply reads its batch whole before it locks the store

# An 'apply -' waiting for input holds no lock: another writer goes ahead.
mkfifo "$tmp/fifo"
"$AZ" --db "$DB" --no-wait apply - <"$tmp/fifo" >/dev/null 2>"$tmp/apply.err" &
apply_pid=$!
exec 7>"$tmp/fifo"
printf 'add idle.example.org %s\n' "$V1" >&7
# apply_reading: the apply is blocked reading its standard input (on a
# kernel that does not show wchan: asleep, which is only ever that here).
apply_reading() {
	case $(cat "/proc/$apply_pid/wchan" 2>/dev/null) in
	*pipe*) return 0 ;;
	0 | "") test "$(awk '{ print $3 }' "/proc/$apply_pid/stat" 2>/dev/null)" = S ;;
	*) return 1 ;;
	esac
}
i=0
until apply_reading || [ $i -ge 100 ]; do	# 10 s at most
	sleep 0.1
	i=$((i + 1))
done
apply_reading
ok $? "apply -: waiting for more input"
t0=$(date +%s%3N)
timeout -k 1 10 "$AZ" --db "$DB" --no-wait add writer.example.org "$V2"
rc=$?
t1=$(date +%s%3N)
is "$rc" 0 "another writer is not blocked by an idle 'apply -'"
ok $(( t1 - t0 < 3000 ? 0 : 1 )) "... and goes ahead at once ($((t1 - t0)) ms)"
is "$(count idle.example.org)" 0 "... while nothing of the unfinished batch is written"
exec 7>&-
wait "$apply_pid"
is "$?" 0 "apply -: applies its batch at the end of its input"
apply_pid=
is "$(count idle.example.org)$(count writer.example.org)" 11 "... both writes are there"
"$AZ" --db "$DB" --no-wait del idle.example.org
"$AZ" --db "$DB" --no-wait del writer.example.org

### Paths are escaped in init's report too
ESC=$(printf '\033')
run --db "$tmp/esc${ESC}[31m/x.mdb" init
is "$rc" 0 "init at a path with a control character: exit 0"
case $out in
*"$ESC"*) ok 1 "init: the report has the raw control character" ;;
*) ok 0 "init: no raw control character in the report" ;;
esac
like "$out" "^created directory $tmp/esc\\\\x1b\\[31m " "init: the directory is escaped in its report"
like "$out" "^created $tmp/esc\\\\x1b\\[31m/x\\.mdb .*lock file $tmp/esc\\\\x1b\\[31m/x\\.mdb-lock" \
	"init: the files are escaped in its report"

### status and watch without a server (the observation file: store/observe.h)
is "$(mode "$DB-observe")" 2770 "init: the observation directory, mode 2770"
"$AZ" --db "$DB" add seen.example.org "$V1" >/dev/null
run --db "$DB" status seen.example.org
is "$rc" 0 "status without an observation file: exit 0"
like "$err" "no server has written an observation file yet" "status: says why nothing was seen"
like "$out" "value $V1  published .* expires " "status: the value is shown all the same"
run --db "$DB" status --json seen.example.org
like "$out" '"seen": null' "status --json: seen is null without the file"
printf 'AZOBSERV junk' >"$DB-observe/knotd"
run --db "$DB" status seen.example.org
is "$rc" 0 "status with a damaged observation file: exit 0"
like "$err" "observation file is damaged \\(truncated\\)" "status: names the damage"
like "$out" "value $V1" "status: the value is still shown"
rm -f "$DB-observe/knotd"
fails 3 "watch: '5x' is not a valid timeout" "watch --timeout 5x" \
	--db "$DB" watch seen.example.org --timeout 5x
run --db "$DB" watch seen.example.org --timeout 0.2
is "$rc" 4 "watch: nobody asked within the timeout: exit 4"
like "$err" "no query of its live value within 0.2 s" "watch: says so"
"$AZ" --db "$DB" --no-wait del seen.example.org

done_testing
