# testlib.sh -- helpers shared by the shell tests: clock, polling, tokens, and what a server answered; source it.
#
# The answer helpers (is_nx, has_value, ttls_are) ask through 'dq', which
# knotd-lib.sh and named-lib.sh each define for their own server; both
# libraries source this file.

# Milliseconds since the epoch (GNU date).
test_now_ms() {
	date +%s%3N
}

# poll_until SECONDS CMD...: run CMD every 0.1 s until it succeeds or the
# time is up.  Returns CMD's last status.
poll_until() {
	local limit=$(( $(test_now_ms) + $1 * 1000 ))
	shift
	while :; do
		"$@" && return 0
		[ "$(test_now_ms)" -ge "$limit" ] && break
		sleep 0.1
	done
	"$@"
}

# tok SEED: a 43-character value of the ACME alphabet, the same for a seed.
tok() {
	printf '%s' "$1" | sha256sum | cut -c1-43
}

# head_of OUTPUT: the first (summary) line of dnsload query output.
head_of() {
	printf '%s\n' "$1" | head -n 1
}

# field OUTPUT KEY: the value of KEY=... in a dnsload summary line.
field() {
	printf '%s\n' "$1" | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# txt_of OUTPUT: the answer TXT values, sorted, one a line.
txt_of() {
	printf '%s\n' "$1" | awk '$3 == "TXT" { sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); print }' |
		LC_ALL=C sort
}

# sorted ARGS: the arguments, sorted, one a line.
sorted() {
	printf '%s\n' "$@" | LC_ALL=C sort
}

# is_nx NAME: NXDOMAIN with no answer.  (No pipes in these two: the
# read-your-writes loop calls them hundreds of times.)
is_nx() {
	local out
	out=$(dq "$1" TXT 2>/dev/null) || return 1
	[[ $out == "rcode=NXDOMAIN aa=1 tc=0 ancount=0 "* ]]
}

# has_value NAME VALUE: VALUE is among NAME's TXT answers.
has_value() {
	local out
	out=$(dq "$1" TXT 2>/dev/null) || return 1
	[[ $out$'\n' == *" TXT $2"$'\n'* ]]
}

# ttls_are NAME TTL: every TXT answer at NAME has this TTL (and there is one).
ttls_are() {
	local got
	got=$(dq "$1" TXT 2>/dev/null | awk '$3 == "TXT" { print $2 }' | sort -u)
	[ "$got" = "$2" ]
}

# mix_case NAME: NAME with the case of its letters alternating.
mix_case() {
	local in=$1 out='' c i up=1
	for ((i = 0; i < ${#in}; i++)); do
		c=${in:i:1}
		case $c in
		[a-zA-Z])
			if [ "$up" = 1 ]; then c=${c^}; up=0; else c=${c,}; up=1; fi
			;;
		esac
		out+=$c
	done
	printf '%s\n' "$out"
}
