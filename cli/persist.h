/* persist.h -- dns-persist-01 records: the checks of their parts, their text, their names in the challenge zone. */
/* SPDX-License-Identifier: MIT */

/*
 * A dns-persist-01 record (draft-ietf-acme-dns-persist) is one standing
 * TXT value at _validation-persist.<domain>:
 *
 *   <issuer>; accounturi=<uri>[; policy=wildcard][; persistUntil=<unix>]
 *
 * in the issue-value syntax of RFC 8659 4.2.  In the challenge zone it
 * lives at _validation-persist.<label>.<zone>, beside (below) the
 * domain's dns-01 name <label>.<zone>: the customer's CNAME from
 * _validation-persist.<domain> points there, so the per-order tokens and
 * the standing records never share an RRset.  Every function taking a
 * cli_t prints its own one-line error and returns RC_OK or RC_INPUT
 * (RC_STORE: out of memory).  Nothing here opens the store.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "names.h"

#define PERSIST_LABEL		"_validation-persist"
#define PERSIST_LABEL_LEN	19
/* Longest record text: one TXT value of the store. */
#define PERSIST_TEXT_MAX	AZ_TXT_MAXLEN
/* The latest --until: 9999-12-31T23:59:59Z. */
#define PERSIST_UNTIL_MAX	INT64_C(253402300799)

/*!
 * An issuer domain name as the CA discloses it: a host name, lower case,
 * without a trailing dot (the form a CA compares).  No "*.".
 */
int persist_issuer(const cli_t *cli, const char *text, char out[AZ_DOMAIN_BUFLEN]);

/*!
 * An account URI for a record, already checked by az_account_uri_check()
 * (the --account-uri option): also "https://" in lower case, and only
 * characters a URI may have and an RFC 8659 parameter value may hold
 * (no ';').
 */
int persist_uri(const cli_t *cli, const char *uri);

/*!
 * --until TIME: UNIX seconds, an ISO 8601 date or time in UTC
 * (2027-01-31, 2027-01-31T12:00Z, 2027-01-31T12:00:00Z) or +DURATION
 * from now (+90d).  Must be after now and at most PERSIST_UNTIL_MAX.
 */
int persist_until(const cli_t *cli, const char *text, int64_t now, int64_t *out);

/*!
 * The record's text into out (PERSIST_TEXT_MAX + 1 octets), until 0 for
 * none.  Fails (RC_INPUT) if it would be longer than PERSIST_TEXT_MAX.
 */
int persist_text(const cli_t *cli, const char *issuer, const char *uri,
                 bool wildcard, int64_t until, char *out, size_t *len);

/*!
 * The issuer of a TXT value read back (from the store or the DNS), in
 * the form persist_issuer() gives: the issue-value's first token, lower
 * case, a trailing dot dropped.  False if the value has none.
 */
bool persist_issuer_of(const uint8_t *value, size_t len, char out[AZ_DOMAIN_BUFLEN]);

/*!
 * The names of a domain's dns-persist-01 records: d->owner
 * _validation-persist.<domain> (where the CA asks) and d->target, where
 * the store holds them: _validation-persist.<label>.<zone>, or the owner
 * itself without a challenge zone in cfg.  A leading "*." is dropped
 * (a wildcard is authorised by its parent's record, with policy=wildcard).
 * The label is the domain's dns-01 label unless the longer name no
 * longer fits, when it is hashed (d->fallback says why).
 */
int persist_delegation(const cli_t *cli, const az_config_t *cfg, const char *text,
                       names_deleg_t *d);

/*! Is the wire name a dns-persist-01 name (first label _validation-persist)? */
bool persist_is_name(const uint8_t *wire);
