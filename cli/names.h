/* names.h -- user input the CLI validates: names, values, durations, zones, schemes; owner and challenge names. */
/* SPDX-License-Identifier: MIT */

/*
 * Every function here that takes a cli_t prints its own one-line error
 * (the input escaped) and returns RC_OK or RC_INPUT.  None opens the store:
 * settings come in as an az_config_t.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

/* A TXT value: an ACME token, or with cli->raw any printable ASCII. */
int names_value(const cli_t *cli, const char *value);

/* A duration: "90s", "30m", "2h", "1d" or seconds, 1 s to 3650 d. */
int names_duration(const cli_t *cli, const char *text, int64_t *secs);

/* A challenge zone (wire form into cfg->zone, has_zone set). */
int names_zone(const cli_t *cli, const char *text, az_config_t *cfg);

/* A naming scheme: readable, reversed or hashed. */
int names_scheme(const cli_t *cli, const char *text, az_scheme_t *scheme);

/*
 * A name as add, del, list and apply take it, before the settings are
 * known: a valid owner name, or "*." and one.  Passing does not mean
 * names_owner() will accept it (that depends on the challenge zone).
 */
int names_syntax(const cli_t *cli, const char *text);

/*!
 * The owner name in the store for a name as given.  Without a challenge
 * zone in cfg: the name itself.  With one: the name itself if it is below
 * the zone (the apex is refused), else the delegation name of the domain
 * it names (a leading "_acme-challenge." or "*." removed); strict refuses
 * a name that is neither in the zone nor starts with "_acme-challenge.".
 * dns-account-01: "_<label>._acme-challenge.<domain>" maps to
 * "_<label>.<delegation name>" (a malformed label is refused), and so does
 * a domain or "_acme-challenge.<domain>" with cli->account set
 * (--account-uri; without a zone only the latter).  *fallback (optional)
 * says why a label was hashed.
 */
int names_owner(const cli_t *cli, const az_config_t *cfg, const char *text,
                bool strict, uint8_t owner[AZ_NAME_MAXLEN], az_fallback_t *fallback);

/*!
 * dns-account-01: the octets of the account label that starts text, if
 * text is "_<label>._acme-challenge.<domain>" (the label: any first label
 * starting with '_'; checked separately), else 0.  Pure.
 */
size_t names_account_part(const char *text);

/*!
 * The name to send a peer for text as given here: with --account-uri
 * (cli->account) and text a domain or "_acme-challenge.<domain>", the
 * account's "_<label>._acme-challenge.<domain>", which the peer maps as
 * this host did without the option; else text.  buf: room for
 * AZ_NAME_TXTLEN octets.  \return buf or text.
 */
const char *names_for_peer(const cli_t *cli, const char *text, char *buf, size_t size);

/*!
 * "_acme-challenge.<domain>" for a domain as a client names it (a leading
 * "*." dropped: a wildcard's challenge is at its parent).  The one place
 * that builds challenge names.  \return a string the caller frees, or
 * NULL if out of memory.
 */
char *names_challenge(const char *domain);

/*!
 * The customer domain a name as given stands for ("_acme-challenge.X",
 * "*.X" or X itself), canonical (az_domain_parse); "" for a name in the
 * challenge zone or anything that is not a host name.  For the history:
 * prints nothing.
 */
void names_domain_of(const az_config_t *cfg, const char *text, char out[AZ_DOMAIN_BUFLEN]);

/* A customer domain and the CNAME it needs into the challenge zone. */
typedef struct {
	char domain[AZ_DOMAIN_BUFLEN];	/* canonical: lower case, no "*." */
	uint8_t owner[AZ_NAME_MAXLEN];	/* [_<label>.]_acme-challenge.<domain> */
	uint8_t target[AZ_NAME_MAXLEN];	/* [_<label>.]<delegation name> */
	az_fallback_t fallback;		/* why the label was hashed, if it was */
} names_deleg_t;

/*!
 * The delegation of a domain given as text, under cfg (which has a zone);
 * with cli->account set (--account-uri), that account's: owner
 * _<label>._acme-challenge.<domain>, target _<label>.<delegation name>.
 * \return RC_OK, RC_INPUT (not a valid domain), RC_STORE (no memory).
 */
int names_delegation(const cli_t *cli, const az_config_t *cfg, const char *text,
                     names_deleg_t *d);
