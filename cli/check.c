/* check.c -- is a customer's delegation in place, as a CA's resolver sees it?  The engine of 'check' and 'report'. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "msg.h"

const char *const check_status_names[] = {
	[ST_OK] = "ok", [ST_MISSING] = "missing", [ST_WRONG] = "wrong",
	[ST_NO_ANSWER] = "no-answer", [ST_ERROR] = "error",
};

/* Ask the resolvers in turn until one replies; *used is the one that did. */
static void resolve(const check_t *ck, const uint8_t *qname, uint16_t qtype,
                    dns_reply_t *r, const dns_server_t **used)
{
	for (size_t i = 0; i < ck->nsrv; i++) {
		*used = &ck->srv[i];
		dns_query(&ck->srv[i], qname, qtype, true,
		          ck->timeout_ms > 0 ? ck->timeout_ms : CHECK_TIMEOUT_MS, r);
		if (r->rcode >= 0) {
			return;
		}
	}
}

/*
 * Does the challenge zone answer for target?  The resolver's reply must
 * come from the zone: TXT records at target, or a denial whose SOA is
 * the zone's own.  *why explains a "no".
 */
static bool zone_answers(const check_t *ck, const uint8_t *target, unsigned *values,
                         char *why, size_t size)
{
	const dns_server_t *used = NULL;
	char zone[AZ_NAME_TXTLEN], soa[AZ_NAME_TXTLEN];
	dns_reply_t *r = malloc(sizeof(*r));
	bool ok = false;

	*values = 0;
	if (r == NULL) {
		snprintf(why, size, "out of memory");
		return false;
	}
	resolve(ck, target, DNS_TYPE_TXT, r, &used);
	if (r->rcode != DNS_NOERROR && r->rcode != DNS_NXDOMAIN) {
		dns_reply_str(r, used, why, size);
		goto out;
	}
	az_name_to_text(ck->cfg->zone, zone, sizeof(zone));
	snprintf(why, size, "no SOA of %s in the denial", zone);
	for (size_t i = 0; i < r->nrr; i++) {
		const dns_rr_t *rr = &r->rr[i];
		if (rr->type == DNS_TYPE_TXT && !rr->authority &&
		    dns_name_eq(rr->owner, target)) {
			++*values;
			ok = true;
		} else if (rr->type == DNS_TYPE_SOA && rr->authority) {
			if (dns_name_eq(rr->owner, ck->cfg->zone)) {
				ok = true;
			} else {
				az_name_to_text(rr->owner, soa, sizeof(soa));
				snprintf(why, size, "the denial comes from %s, not from %s: "
				         "is %s delegated?", soa, zone, zone);
			}
		}
	}
out:
	free(r);
	return ok;
}


/* "A. CNAME B. CNAME C." or "A. is a CNAME to B., then to C." of a chain. */
static void chain_text(const verdict_t *v, bool as_records, char *out, size_t size)
{
	size_t o = (size_t)snprintf(out, size, "%s", v->owner);
	for (unsigned i = 0; i < v->hops && o < size; i++) {
		const char *sep = as_records ? " CNAME " :
		                  i == 0 ? " is a CNAME to " : ", then to ";
		o += (size_t)snprintf(out + o, size - o, "%s%s", sep, v->chain[i]);
	}
}

/*
 * Follow the CNAMEs from owner as a CA's resolver does, each asked as
 * such (so a target's zone cannot spoil the answer): until expected, a
 * name in the challenge zone (which holds no CNAMEs), a name without
 * one, a loop or CHECK_MAX_HOPS; note says why a chain stopped short.
 * \return false if the first question got no usable reply (*r holds
 * it, *asked names the name asked).
 */
static bool follow_chain(const check_t *ck, const uint8_t *owner, const uint8_t *expected,
                         verdict_t *v, dns_reply_t *r, const dns_server_t **used,
                         uint8_t asked[AZ_NAME_MAXLEN], char *note, size_t nsize)
{
	uint8_t seen[CHECK_MAX_HOPS + 1][AZ_NAME_MAXLEN];
	size_t len = az_name_wire_len(owner, AZ_NAME_MAXLEN);
	char what[256];

	note[0] = '\0';
	memcpy(seen[0], owner, len);
	while (v->hops < CHECK_MAX_HOPS) {
		const uint8_t *cur = seen[v->hops], *target = NULL;
		memcpy(asked, cur, az_name_wire_len(cur, AZ_NAME_MAXLEN));
		resolve(ck, cur, DNS_TYPE_CNAME, r, used);
		if (r->rcode != DNS_NOERROR && r->rcode != DNS_NXDOMAIN) {
			if (v->hops == 0) {
				return false;
			}
			/* A CNAME is there; where it leads is unknown. */
			dns_reply_str(r, *used, what, sizeof(what));
			snprintf(note, nsize, ": %s could not be followed (%s)",
			         v->chain[v->hops - 1], what);
			return true;
		}
		for (size_t i = 0; i < r->nrr && r->rcode == DNS_NOERROR; i++) {
			if (r->rr[i].type == DNS_TYPE_CNAME && !r->rr[i].authority &&
			    dns_name_eq(r->rr[i].owner, cur)) {
				target = r->rr[i].target;
				break;
			}
		}
		if (target == NULL) {
			return true;
		}
		az_name_to_text(target, v->chain[v->hops], sizeof(v->chain[0]));
		v->hops++;
		memcpy(seen[v->hops], target, az_name_wire_len(target, AZ_NAME_MAXLEN));
		if (dns_name_eq(target, expected)) {
			return true;
		}
		if (az_name_under(target, ck->cfg->zone)) {
			snprintf(note, nsize, ": it ends in the challenge zone, so it "
			         "works only if the ACME client publishes this domain's "
			         "values there (acme.sh --challenge-alias or --domain-alias)");
			return true;
		}
		for (unsigned i = 0; i < v->hops; i++) {
			if (dns_name_eq(target, seen[i])) {
				snprintf(note, nsize, ": a CNAME loop");
				return true;
			}
		}
	}
	snprintf(note, nsize, ": too many CNAMEs (%d are followed)", CHECK_MAX_HOPS);
	return true;
}

/* One domain: its CNAME chain, then the challenge zone's answer for the
 * expected target. */
void check_domain(const check_t *ck, const char *domain, const uint8_t *owner,
                         const uint8_t *expected, verdict_t *v)
{
	const dns_server_t *used = NULL;
	char what[256], zwhy[CHECK_WHY_MAX], chain[CHECK_CHAIN_MAX], at[AZ_NAME_TXTLEN];
	uint8_t asked[AZ_NAME_MAXLEN];
	dns_reply_t *r = malloc(sizeof(*r));
	char note[AZ_NAME_TXTLEN + 320];
	bool answered;

	memset(v, 0, sizeof(*v));
	snprintf(v->domain, sizeof(v->domain), "%s", domain);
	az_name_to_text(owner, v->owner, sizeof(v->owner));
	az_name_to_text(expected, v->expected, sizeof(v->expected));
	if (r == NULL) {
		v->status = ST_ERROR;
		snprintf(v->message, sizeof(v->message), "out of memory");
		return;
	}
	answered = follow_chain(ck, owner, expected, v, r, &used, asked, note, sizeof(note));
	v->has_cname = v->hops > 0;
	if (v->has_cname) {
		snprintf(v->cname, sizeof(v->cname), "%s", v->chain[0]);
	}
	dns_reply_str(r, used, what, sizeof(what));
	az_name_to_text(asked, at, sizeof(at));
	v->zone_ok = zone_answers(ck, expected, &v->values, zwhy, sizeof(zwhy));
	bool reached = v->has_cname && strcmp(v->chain[v->hops - 1], v->expected) == 0;

	if (!answered) {
		v->status = ST_ERROR;
		snprintf(v->message, sizeof(v->message), "cannot resolve %s (%s)", at, what);
	} else if (!v->has_cname) {
		v->status = ST_MISSING;
		snprintf(v->message, sizeof(v->message), "%s has no CNAME (%s); the "
		         "customer adds: %s IN CNAME %s", v->owner,
		         r->rcode == DNS_NXDOMAIN ? "NXDOMAIN" : "no such record",
		         v->owner, v->expected);
	} else if (!reached) {
		v->status = ST_WRONG;
		chain_text(v, false, chain, sizeof(chain));
		snprintf(v->message, sizeof(v->message), "%s, not to %s%s", chain,
		         v->expected, note);
	} else if (!v->zone_ok) {
		v->status = ST_NO_ANSWER;
		chain_text(v, true, chain, sizeof(chain));
		snprintf(v->message, sizeof(v->message), "%s is in place, but the "
		         "challenge zone does not answer for it (%s)", chain, zwhy);
	} else {
		v->status = ST_OK;
		chain_text(v, true, chain, sizeof(chain));
		snprintf(v->message, sizeof(v->message), "%s is in place and the "
		         "challenge zone answers for it (%u value(s) published)",
		         chain, v->values);
	}
	/* Both halves matter to whoever fixes it: say the zone's part too. */
	if (v->status != ST_OK && v->status != ST_NO_ANSWER && !v->zone_ok) {
		size_t o = strlen(v->message);
		snprintf(v->message + o, sizeof(v->message) - o, "; and the challenge "
		         "zone does not answer for %s either (%s)", v->expected, zwhy);
	}
	free(r);
}


int check_servers(const cli_t *cli, dns_server_t srv[CHECK_MAX_SERVERS], size_t *n)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";

	if (cli->server == NULL) {
		dns_system_servers(srv, DNS_MAX_SYSTEM, n);
		return RC_OK;
	}
	if (dns_server_parse(cli->server, srv, CHECK_MAX_SERVERS, n, &why) != 0) {
		cli_err(cli, "'%s' is not a valid server (%s)", quote(cli->server, q), why);
		return RC_INPUT;
	}
	return RC_OK;
}
