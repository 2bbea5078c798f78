/* persist.c -- dns-persist-01 records: the checks of their parts, their text, their names in the challenge zone. */
/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "msg.h"
#include "persist.h"

int persist_issuer(const cli_t *cli, const char *text, char out[AZ_DOMAIN_BUFLEN])
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";

	/* az_domain_parse() maps "*.x" to x, as a challenge name does; an
	 * issuer is a name the CA discloses, never a wildcard. */
	if (text[0] == '*') {
		why = "a wildcard";
	} else if (az_domain_parse(text, out, &why) == AZ_EOK) {
		return RC_OK;
	}
	cli_err(cli, "'%s' is not a valid issuer domain name (%s)", quote(text, q), why);
	return RC_INPUT;
}

/*
 * What an account URI may hold: the characters of RFC 3986 (unreserved,
 * reserved and '%') that an RFC 8659 parameter value allows, which
 * leaves out ';' (it ends the parameter).
 */
static bool uri_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("-._~:/?#[]@!$&'()*+,=%", c) != NULL);
}

int persist_uri(const cli_t *cli, const char *uri)
{
	static const char scheme[] = "https://";
	char q[CLI_QUOTE_MAX];
	const char *why = NULL;

	/* An https URL with a host, no blank or control character, at most
	 * AZ_ACCOUNT_URI_MAXLEN: az_account_uri_check(), when --account-uri
	 * was taken.  What a record adds: */
	if (strncmp(uri, scheme, sizeof(scheme) - 1) != 0) {
		why = "write the scheme https:// in lower case: the CA compares "
		      "the URL octet for octet";
	}
	for (const char *p = uri; why == NULL && *p != '\0'; p++) {
		if (*p == ';') {
			why = "a ';', which would end the accounturi parameter";
		} else if (!uri_char((unsigned char)*p)) {
			why = "a character a URI cannot hold (a quote, a backslash, "
			      "'<', '>', '{', '}', '|', '^' or '`')";
		}
	}
	if (why == NULL) {
		return RC_OK;
	}
	cli_err(cli, "'%s' is not an https account URL for a record (%s)",
	        quote(uri, q), why);
	return RC_INPUT;
}

/* "2027-01-31", "2027-01-31T12:00Z", "2027-01-31T12:00:00Z" in UTC. */
static bool parse_iso(const char *s, int64_t *out)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	size_t len = strlen(s);

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
		return false;
	}
	if (len > 10) {
		int m = 0;
		if (sscanf(s + 10, "T%2d:%2d%n", &h, &mi, &m) != 2 || m != 6) {
			return false;
		}
		n += m;
		if (s[n] == ':') {
			if (sscanf(s + n, ":%2d%n", &sec, &m) != 1 || m != 3) {
				return false;
			}
			n += m;
		}
		if (strcmp(s + n, "Z") != 0) {
			return false;
		}
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	/* timegm() normalises 2027-02-30 to March: refuse what moved. */
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
	    back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
	    back.tm_mday != d || back.tm_hour != h || back.tm_min != mi ||
	    back.tm_sec != sec) {
		return false;
	}
	*out = (int64_t)t;
	return true;
}

int persist_until(const cli_t *cli, const char *text, int64_t now, int64_t *out)
{
	char q[CLI_QUOTE_MAX], when[CLI_TIME_MAX];
	size_t digits = strspn(text, "0123456789");
	int64_t t = 0, secs;
	bool ok = false;

	if (text[0] == '+') {
		ok = az_duration_parse(text + 1, &secs) == AZ_EOK;
		t = now + secs;
	} else if (digits > 0 && text[digits] == '\0') {
		/* At most 12 digits: no overflow, and past the maximum. */
		ok = digits <= 12;
		for (size_t i = 0; ok && i < digits; i++) {
			t = t * 10 + (text[i] - '0');
		}
	} else {
		ok = parse_iso(text, &t);
	}
	if (!ok || t > PERSIST_UNTIL_MAX) {
		cli_err(cli, "'%s' is not a valid time (UNIX seconds, 2027-01-31, "
		        "2027-01-31T12:00:00Z or +DURATION, up to the year 9999)",
		        quote(text, q));
		return RC_INPUT;
	}
	if (t <= now) {
		(void)fmt_time(t, when);
		cli_err(cli, "'%s' is in the past (%s): a CA would refuse the record",
		        quote(text, q), when);
		return RC_INPUT;
	}
	*out = t;
	return RC_OK;
}

int persist_text(const cli_t *cli, const char *issuer, const char *uri,
                 bool wildcard, int64_t until, char *out, size_t *len)
{
	char tail[64] = "";
	int n;

	if (until > 0) {
		snprintf(tail, sizeof(tail), "; persistUntil=%" PRId64, until);
	}
	/* Each part is checked and printable; only the length can fail. */
	n = snprintf(out, PERSIST_TEXT_MAX + 1, "%s; accounturi=%s%s%s", issuer,
	             uri, wildcard ? "; policy=wildcard" : "", tail);
	if (n < 0 || (size_t)n > PERSIST_TEXT_MAX) {
		cli_err(cli, "the record for issuer '%s' would be %d octets long, "
		        "more than the %d a TXT value may have here", issuer, n,
		        PERSIST_TEXT_MAX);
		return RC_INPUT;
	}
	*len = (size_t)n;
	return RC_OK;
}

bool persist_issuer_of(const uint8_t *value, size_t len, char out[AZ_DOMAIN_BUFLEN])
{
	size_t i = 0, o = 0;

	/* issue-value = *WSP [issuer-domain-name *WSP] [";" ...] */
	while (i < len && (value[i] == ' ' || value[i] == '\t')) {
		i++;
	}
	for (; i < len && value[i] != ';' && value[i] != ' ' && value[i] != '\t'; i++) {
		if (o + 1 >= AZ_DOMAIN_BUFLEN) {
			return false;
		}
		out[o++] = (char)tolower(value[i]);
	}
	if (o > 0 && out[o - 1] == '.') {
		o--;
	}
	out[o] = '\0';
	return o > 0;
}

bool persist_is_name(const uint8_t *wire)
{
	return wire[0] == PERSIST_LABEL_LEN &&
	       strncasecmp((const char *)wire + 1, PERSIST_LABEL, PERSIST_LABEL_LEN) == 0;
}

int persist_delegation(const cli_t *cli, const az_config_t *cfg, const char *text,
                       names_deleg_t *d)
{
	char q[CLI_QUOTE_MAX], owner[AZ_NAME_TXTLEN], label[AZ_LABEL_BUFLEN];
	const char *why = "invalid";
	size_t len, zlen, llen;

	d->fallback = AZ_FALLBACK_NONE;
	if (az_domain_parse(text, d->domain, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid domain (%s)", quote(text, q), why);
		return RC_INPUT;
	}
	snprintf(owner, sizeof(owner), "%s.%s", PERSIST_LABEL, d->domain);
	if (az_name_parse(owner, d->owner, &len, &why) != AZ_EOK) {
		cli_err(cli, "'%s' is not a valid domain (%s: %s)", quote(text, q),
		        owner, why);
		return RC_INPUT;
	}
	if (!cfg->has_zone) {
		memcpy(d->target, d->owner, len);
		return RC_OK;
	}
	zlen = az_name_wire_len(cfg->zone, AZ_NAME_MAXLEN);
	if (zlen + 1 + PERSIST_LABEL_LEN > AZ_ZONE_MAXLEN) {
		az_name_to_text(cfg->zone, owner, sizeof(owner));
		cli_err(cli, "the challenge zone %s is too long for dns-persist-01 "
		        "names (at most %d octets in wire form)", owner,
		        AZ_ZONE_MAXLEN - 1 - PERSIST_LABEL_LEN);
		return RC_INPUT;
	}
	/* The label measured against the longer name, so that it is hashed
	 * when _validation-persist.<label>.<zone> would not fit. */
	if (az_label(d->domain, cfg->scheme, zlen + 1 + PERSIST_LABEL_LEN, label,
	             &d->fallback) != AZ_EOK) {
		cli_err(cli, "'%s': unknown naming scheme", quote(text, q));
		return RC_INPUT;
	}
	llen = strlen(label);
	d->target[0] = PERSIST_LABEL_LEN;
	memcpy(d->target + 1, PERSIST_LABEL, PERSIST_LABEL_LEN);
	d->target[1 + PERSIST_LABEL_LEN] = (uint8_t)llen;
	memcpy(d->target + 2 + PERSIST_LABEL_LEN, label, llen);
	memcpy(d->target + 2 + PERSIST_LABEL_LEN + llen, cfg->zone, zlen);
	return RC_OK;
}
