/* names.c -- user input the CLI validates: names, values, durations, zones, schemes; owner and challenge names. */
/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "names.h"

#define CHALLENGE_PREFIX	"_acme-challenge."

static int check_name(const cli_t *cli, const char *text,
                      uint8_t wire[AZ_NAME_MAXLEN])
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";
	size_t len = 0;

	if (az_name_parse(text, wire, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid name (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	return RC_OK;
}

size_t names_account_part(const char *text)
{
	size_t n;

	if (text[0] != '_') {
		return 0;
	}
	n = strcspn(text, ".");
	if (text[n] != '.' || strncasecmp(text + n + 1, CHALLENGE_PREFIX,
	                                  sizeof(CHALLENGE_PREFIX) - 1) != 0) {
		return 0;
	}
	return n;
}

/* The one-line error for a malformed account label in text. */
static int bad_account_label(const cli_t *cli, const char *text, size_t n)
{
	char q[CLI_QUOTE_MAX];

	cli_err(cli, "'%s' has a malformed account label ('%.*s': dns-account-01 "
	        "labels are '_' and 16 characters of a-z and 2-7)", quote(text, q),
	        (int)(n < 64 ? n : 64), text);
	return RC_INPUT;
}

/*
 * name = label (llen octets of text) + name, in place; false if the
 * result would be longer than AZ_NAME_MAXLEN octets.
 */
static bool prefix_label(const char *label, size_t llen, uint8_t name[AZ_NAME_MAXLEN])
{
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN);

	if (len == 0 || 1 + llen + len > AZ_NAME_MAXLEN) {
		return false;
	}
	memmove(name + 1 + llen, name, len);
	name[0] = (uint8_t)llen;
	for (size_t i = 0; i < llen; i++) {
		name[1 + i] = (uint8_t)tolower((unsigned char)label[i]);
	}
	return true;
}

/* The one-line error for an account name over 255 octets. */
static int long_account_name(const cli_t *cli, const char *text)
{
	char q[CLI_QUOTE_MAX];

	cli_err(cli, "'%s': with the account label its name in the challenge "
	        "zone would be longer than 255 octets", quote(text, q));
	return RC_INPUT;
}

int names_value(const cli_t *cli, const char *value)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";

	if (az_value_check(value, strlen(value), cli->raw, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid value (%s)", quote(value, q), why);
		return RC_INPUT;
	}
	return RC_OK;
}

int names_duration(const cli_t *cli, const char *text, int64_t *secs)
{
	char q[CLI_QUOTE_MAX];

	if (az_duration_parse(text, secs) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid duration (1s to 3650d, "
		        "as in 90s, 30m, 2h or 1d)", quote(text, q));
		return RC_INPUT;
	}
	return RC_OK;
}

int names_zone(const cli_t *cli, const char *text, az_config_t *cfg)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";
	size_t len = 0;

	if (az_name_parse(text, cfg->zone, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid zone (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	if (len > AZ_ZONE_MAXLEN) {
		cli_err(cli, "'%s' is not a valid zone (longer than %d octets: "
		        "no room for a label below it)", quote(text, q), AZ_ZONE_MAXLEN);
		return RC_INPUT;
	}
	cfg->has_zone = true;
	return RC_OK;
}

int names_scheme(const cli_t *cli, const char *text, az_scheme_t *scheme)
{
	char q[CLI_QUOTE_MAX];

	if (az_scheme_parse(text, scheme) != AZ_EOK) {
		cli_err(cli, "'%s' is not a naming scheme (readable, reversed or "
		        "hashed)", quote(text, q));
		return RC_INPUT;
	}
	return RC_OK;
}

int names_syntax(const cli_t *cli, const char *text)
{
	uint8_t wire[AZ_NAME_MAXLEN];
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid", *t = text;
	size_t len = 0;

	if (t[0] == '*' && t[1] == '.') {
		t += 2;
	}
	if (az_name_parse(t, wire, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid name (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	len = names_account_part(t);
	if (len > 0 && !az_account_label_valid(t, len)) {
		return bad_account_label(cli, text, len);
	}
	return RC_OK;
}

int names_owner(const cli_t *cli, const az_config_t *cfg, const char *text,
                bool strict, uint8_t owner[AZ_NAME_MAXLEN], az_fallback_t *fallback)
{
	char q[CLI_QUOTE_MAX], zone[AZ_NAME_TXTLEN];
	const char *why = "invalid", *t = text, *label = cli->account;
	size_t len = 0, llen = strlen(cli->account), n;
	int rc;

	if (fallback != NULL) {
		*fallback = AZ_FALLBACK_NONE;
	}
	/* "_<label>._acme-challenge.<domain>": the label stays a label, in
	 * front of the domain's delegation name. */
	n = names_account_part(text);
	if (n > 0) {
		if (!az_account_label_valid(text, n)) {
			return bad_account_label(cli, text, n);
		}
		if (llen > 0 && (n != llen || strncasecmp(text, label, n) != 0)) {
			cli_err(cli, "'%s' has another account label than --account-uri's "
			        "(%s)", quote(text, q), label);
			return RC_INPUT;
		}
		label = text;
		llen = n;
		t = text + n + 1;
	}
	if (!cfg->has_zone) {
		rc = check_name(cli, text, owner);
		/* Written as given, but "_acme-challenge.<domain>" takes the
		 * --account-uri label (NS delegation of _acme-challenge). */
		if (rc == RC_OK && n == 0 && llen > 0 &&
		    strncasecmp(text, CHALLENGE_PREFIX, sizeof(CHALLENGE_PREFIX) - 1) == 0 &&
		    !prefix_label(label, llen, owner)) {
			rc = long_account_name(cli, text);
		}
		return rc;
	}
	if (n == 0 && az_name_parse(text, owner, &len, &why) == AZ_EOK &&
	    az_name_under(owner, cfg->zone)) {
		if (len == az_name_wire_len(cfg->zone, AZ_NAME_MAXLEN)) {
			/* The zone file has the apex: knotd never asks us. */
			cli_err(cli, "'%s' is the apex of the challenge zone; tokens "
			        "go at names below it", quote(text, q));
			return RC_INPUT;
		}
		return RC_OK;		/* already a name in the challenge zone */
	}
	if (strncasecmp(t, CHALLENGE_PREFIX, sizeof(CHALLENGE_PREFIX) - 1) == 0) {
		t += sizeof(CHALLENGE_PREFIX) - 1;
	} else if (strict) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
		cli_err(cli, "'%s' is neither in the challenge zone %s nor an "
		        "_acme-challenge name (does its CNAME point elsewhere?)",
		        quote(text, q), zone);
		return RC_INPUT;
	}
	if (az_delegation(t, cfg->scheme, cfg->zone, owner, &len, fallback,
	                  &why) != AZ_EOK) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
		cli_err(cli, "'%s' is neither a name in the challenge zone %s nor a "
		        "domain (%s)", quote(text, q), zone, why);
		return RC_INPUT;
	}
	if (llen > 0 && !prefix_label(label, llen, owner)) {
		return long_account_name(cli, text);
	}
	return RC_OK;
}

const char *names_for_peer(const cli_t *cli, const char *text, char *buf, size_t size)
{
	const char *rest = text;
	int n;

	if (cli->account[0] == '\0' || names_account_part(text) > 0) {
		return text;
	}
	if (strncasecmp(text, CHALLENGE_PREFIX, sizeof(CHALLENGE_PREFIX) - 1) == 0) {
		rest = text + sizeof(CHALLENGE_PREFIX) - 1;
	}
	n = snprintf(buf, size, "%s.%s%s", cli->account, CHALLENGE_PREFIX, rest);
	return (n > 0 && (size_t)n < size) ? buf : text;
}

void names_domain_of(const az_config_t *cfg, const char *text, char out[AZ_DOMAIN_BUFLEN])
{
	uint8_t wire[AZ_NAME_MAXLEN];
	const char *why;
	size_t len;

	out[0] = '\0';
	if (az_name_parse(text, wire, &len, &why) == AZ_EOK && cfg->has_zone &&
	    az_name_under(wire, cfg->zone)) {
		return;		/* a name in the zone: no domain to tell */
	}
	if (strncasecmp(text, CHALLENGE_PREFIX, sizeof(CHALLENGE_PREFIX) - 1) == 0) {
		text += sizeof(CHALLENGE_PREFIX) - 1;
	}
	if (az_domain_parse(text, out, &why) != AZ_EOK) {
		out[0] = '\0';
	}
}

char *names_challenge(const char *domain)
{
	size_t n;
	char *s;

	if (domain[0] == '*' && domain[1] == '.') {
		domain += 2;	/* the wildcard's challenge is at its parent */
	}
	n = sizeof(CHALLENGE_PREFIX) + strlen(domain);
	s = malloc(n);
	if (s != NULL) {
		snprintf(s, n, "%s%s", CHALLENGE_PREFIX, domain);
	}
	return s;
}

int names_delegation(const cli_t *cli, const az_config_t *cfg, const char *text,
                     names_deleg_t *d)
{
	char q[CLI_QUOTE_MAX], *owner = NULL;
	const char *why = "invalid";
	size_t len;
	int rc = RC_INPUT;

	if (az_domain_parse(text, d->domain, &why) != AZ_EOK ||
	    az_delegation(d->domain, cfg->scheme, cfg->zone, d->target, &len,
	                  &d->fallback, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid domain (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	owner = names_challenge(d->domain);
	if (owner == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	if (az_name_parse(owner, d->owner, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid domain (%s: %s)", quote(text, q),
		        owner, why);
	} else if (cli->account[0] != '\0' &&
	           (!prefix_label(cli->account, strlen(cli->account), d->owner) ||
	            !prefix_label(cli->account, strlen(cli->account), d->target))) {
		rc = long_account_name(cli, text);
	} else {
		rc = RC_OK;
	}
	free(owner);
	return rc;
}
