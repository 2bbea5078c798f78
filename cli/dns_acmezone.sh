#!/usr/bin/env sh
# dns_acmezone.sh -- acme.sh dnsapi for acmezone: TXT values into the store mod-acmezone serves.
# SPDX-License-Identifier: MIT
#
# Install:  cp dns_acmezone.sh ~/.acme.sh/dnsapi/
#           (the dnsapi folder of acme.sh's home: --home DIR puts it in DIR)
# Use:      acme.sh --issue --dns dns_acmezone -d example.org -d '*.example.org'
#           (acme.sh 3.x takes a provider's name after --dns, never a path:
#           a path there is taken for a webroot)
#
# Settings (saved in the account config on first use, for renewals):
#   ACMEZONE_BIN                  the acmezone program (default: acmezone in PATH)
#   ACMEZONE_DB                   the store (default: acmezone's own default)
#   ACMEZONE_EXPIRE               lifetime of a value if removal never comes (1h)
#   ACMEZONE_WAIT                 authoritative servers (ADDR[@PORT], blank- or
#                                 comma-separated) to ask until they serve it
#   ACMEZONE_PROPAGATION_TIMEOUT  how long to ask them, in seconds (60)
#
# FULLDOMAIN is _acme-challenge.<domain> (mapped to the domain's delegation
# name in the challenge zone), _acme-challenge.<alias> with
# --challenge-alias <alias>, or a name in the challenge zone (written as
# is), as with --domain-alias <the target 'acmezone cname' prints>.

# shellcheck disable=SC2034
dns_acmezone_info='acmezone: challenges answered by your own knotd (mod-acmezone)
Options:
 ACMEZONE_BIN acmezone program
 ACMEZONE_DB Store path
 ACMEZONE_EXPIRE Value lifetime
 ACMEZONE_WAIT Authoritative servers to wait for
 ACMEZONE_PROPAGATION_TIMEOUT Seconds to wait
'

# dns_acmezone_add FULLDOMAIN VALUE: publish VALUE; 0 once it is served.
dns_acmezone_add() {
	_acmezone_run add "$1" "$2"
}

# dns_acmezone_rm FULLDOMAIN VALUE: remove exactly VALUE (others stay).
dns_acmezone_rm() {
	_acmezone_run del "$1" "$2"
}

_acmezone_run() {
	_acmezone_op=$1
	_acmezone_name=$2
	_acmezone_value=$3
	_acmezone_settings
	if [ -z "$_acmezone_name" ] || [ -z "$_acmezone_value" ]; then
		_acmezone_say err "dns_acmezone_$_acmezone_op: FULLDOMAIN and VALUE are needed"
		return 1
	fi
	set -- "$_acmezone_op"
	if [ -n "${ACMEZONE_DB:-}" ]; then
		set -- --db "$ACMEZONE_DB" "$@"
	fi
	if ! _acmezone_zoned "$@"; then
		return 1
	fi
	if [ "$_acmezone_op" = add ]; then
		if [ -n "${ACMEZONE_EXPIRE:-}" ]; then
			set -- "$@" --expire "$ACMEZONE_EXPIRE"
		fi
		# Split on blanks and commas by hand: an unquoted expansion
		# would glob each server ('*') into file names.
		_acmezone_rest=$(printf '%s' "${ACMEZONE_WAIT:-}" | tr ',\t' '  ')
		while :; do
			_acmezone_rest=${_acmezone_rest#"${_acmezone_rest%%[! ]*}"}
			[ -n "$_acmezone_rest" ] || break
			_acmezone_s=${_acmezone_rest%% *}
			_acmezone_rest=${_acmezone_rest#"$_acmezone_s"}
			set -- "$@" --wait "$_acmezone_s"
		done
		if [ -n "${ACMEZONE_PROPAGATION_TIMEOUT:-}" ]; then
			set -- "$@" --propagation-timeout "$ACMEZONE_PROPAGATION_TIMEOUT"
		fi
	fi
	set -- "$@" -- "$_acmezone_name" "$_acmezone_value"
	_acmezone_say debug "running ${ACMEZONE_BIN:-acmezone} $*"
	# The history names acme.sh as the client of these writes.
	if ! _acmezone_out=$(ACMEZONE_CLIENT=${ACMEZONE_CLIENT:-acme.sh} \
		"${ACMEZONE_BIN:-acmezone}" "$@" 2>&1); then
		_acmezone_say err "${_acmezone_out:-acmezone $_acmezone_op failed}"
		return 1
	fi
	_acmezone_say info "acmezone $_acmezone_op $_acmezone_name: done"
	return 0
}

# _acmezone_zoned [--db PATH] OP: does the store have a challenge zone?
# Without one, values would be written at the names acme.sh gives, where
# no customer's CNAME points: refuse, as 'acmezone hook' does.
_acmezone_zoned() {
	if [ "$1" = --db ]; then
		set -- --db "$2"
	else
		set --
	fi
	if ! _acmezone_cfg=$("${ACMEZONE_BIN:-acmezone}" "$@" config --json 2>&1); then
		_acmezone_say err "${_acmezone_cfg:-acmezone config failed}"
		return 1
	fi
	case $_acmezone_cfg in
	*'"zone": null'*)
		_acmezone_say err "the store (${ACMEZONE_DB:-the default one}) has no challenge zone: the value would be published where no CNAME points (set it with 'acmezone config --zone ZONE')"
		return 1
		;;
	esac
	return 0
}

# Read the settings from the environment or from what acme.sh saved, and
# save them for renewals (only when run by acme.sh, which has these).
_acmezone_settings() {
	for _acmezone_v in ACMEZONE_BIN ACMEZONE_DB ACMEZONE_EXPIRE ACMEZONE_WAIT \
	    ACMEZONE_PROPAGATION_TIMEOUT; do
		if command -v _readaccountconf_mutable >/dev/null 2>&1; then
			eval "_acmezone_cur=\${$_acmezone_v:-}"
			if [ -z "$_acmezone_cur" ]; then
				eval "$_acmezone_v=\$(_readaccountconf_mutable $_acmezone_v)"
			fi
			eval "_acmezone_cur=\${$_acmezone_v:-}"
			if [ -n "$_acmezone_cur" ]; then
				_saveaccountconf_mutable "$_acmezone_v" "$_acmezone_cur"
			fi
		fi
	done
}

# Messages through acme.sh's own functions when it is there.
_acmezone_say() {
	_acmezone_lvl=$1
	shift
	if command -v "_$_acmezone_lvl" >/dev/null 2>&1; then
		"_$_acmezone_lvl" "$*"
	elif [ "$_acmezone_lvl" = err ]; then
		printf 'dns_acmezone: %s\n' "$*" >&2
	fi
}
