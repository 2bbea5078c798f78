/* check.c -- is a customer's delegation in place, as a CA's resolver sees it, and do all the zone's nameservers agree? */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check.h"
#include "msg.h"
#include "persist.h"

const char *const check_status_names[] = {
	[ST_OK] = "ok", [ST_MISSING] = "missing", [ST_WRONG] = "wrong",
	[ST_NO_ANSWER] = "no-answer", [ST_ERROR] = "error", [ST_STALE] = "stale",
	[ST_NO_RECORD] = "no-record",
};

/* Ask the resolvers in turn until one replies; *used is the one that did. */
static void resolve(const check_t *ck, const uint8_t *qname, uint16_t qtype,
                    dns_reply_t *r, const dns_server_t **used)
{
	*used = dns_resolve(ck->srv, ck->nsrv, qname, qtype,
	                    ck->timeout_ms > 0 ? ck->timeout_ms : CHECK_TIMEOUT_MS, r);
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
		/* NXDOMAIN too: with a DNAME above cur the resolver chases the
		 * CNAME it synthesises, and the rcode is the end's (RFC 6604). */
		for (size_t i = 0; i < r->nrr; i++) {
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

/*
 * Ask one address of the zone's nameservers for target without
 * recursion.  \return false if it gives no authoritative answer (why in
 * out); else true, with the values it serves added to vals and marked in
 * *has (bit i: vals[i]).
 */
static bool ask_address(const dns_server_t *srv, const uint8_t *target, dns_reply_t *r,
                        char vals[][DNS_TXT_MAX], size_t *nval, uint64_t *has,
                        char *out, size_t size)
{
	char buf[DNS_RCODE_BUFLEN];

	*has = 0;
	dns_query(srv, target, DNS_TYPE_TXT, false, CHECK_ADDR_MS, r);
	if (r->rcode < 0) {
		snprintf(out, size, "%s", r->error);
		return false;
	}
	if (r->rcode != DNS_NOERROR && r->rcode != DNS_NXDOMAIN) {
		snprintf(out, size, "%s", dns_rcode_str(r->rcode, buf));
		return false;
	}
	if (!r->aa) {
		snprintf(out, size, "%s without the AA bit: not authoritative for it",
		         dns_rcode_str(r->rcode, buf));
		return false;
	}
	for (size_t i = 0; i < r->nrr; i++) {
		const dns_rr_t *rr = &r->rr[i];
		size_t k;
		if (rr->type != DNS_TYPE_TXT || rr->authority || !dns_name_eq(rr->owner, target)) {
			continue;
		}
		for (k = 0; k < *nval && strcmp(vals[k], rr->txt) != 0; k++) {
		}
		if (k == *nval && k < CHECK_MAX_VALUES) {
			memcpy(vals[k], rr->txt, sizeof(vals[k]));
			++*nval;
		}
		if (k < CHECK_MAX_VALUES) {
			*has |= (uint64_t)1 << k;
		}
	}
	return true;
}

/* How many bits are set. */
static unsigned bits(uint64_t m)
{
	unsigned n = 0;

	for (; m != 0; m &= m - 1) {
		n++;
	}
	return n;
}

/*
 * Every address of the challenge zone's nameservers (learned once, or
 * given with --wait), asked for target without recursion, as a CA's
 * resolvers each pick one: each must answer authoritatively and serve
 * every value any of them serves.  With --propagation-timeout the rounds
 * repeat until they agree or the time is up.  \return true if they do;
 * false with v->message and v->status set if not.
 */
static bool check_servers(check_t *ck, const uint8_t *target, verdict_t *v)
{
	char (*vals)[DNS_TXT_MAX] = calloc(CHECK_MAX_VALUES, DNS_TXT_MAX);
	uint64_t has[WAIT_MAX_SERVERS], all;
	bool answered[WAIT_MAX_SERVERS];
	dns_reply_t *r = malloc(sizeof(*r));
	int64_t deadline = az_mono_ms() + (ck->cli->propagation_given ?
	                                   ck->cli->propagation_ms : 0);
	size_t nval, bad, o;
	bool agree = false;

	if (vals == NULL || r == NULL) {
		v->status = ST_ERROR;
		snprintf(v->message, sizeof(v->message), "out of memory");
		goto out;
	}
	if (ck->learned == 0) {
		ck->learned = !ck->w->learn ||
		              wait_learn(ck->w, ck->cfg->zone, ck->learn_why,
		                         sizeof(ck->learn_why)) == RC_OK ? 1 : -1;
	}
	if (ck->learned < 0) {
		v->status = ST_ERROR;
		o = strlen(v->message);
		snprintf(v->message + o, sizeof(v->message) - o, "; but %s", ck->learn_why);
		goto out;
	}
	v->nsrv = ck->w->n;
	for (;;) {
		nval = 0;
		all = 0;
		for (size_t s = 0; s < v->nsrv; s++) {
			answered[s] = ask_address(&ck->w->a[s].srv, target, r, vals, &nval,
			                          &has[s], v->srv_answer[s],
			                          sizeof(v->srv_answer[s]));
			all |= answered[s] ? has[s] : 0;
		}
		bad = 0;
		for (size_t s = 0; s < v->nsrv; s++) {
			v->srv_ok[s] = answered[s] && has[s] == all;
			bad += !v->srv_ok[s];
			if (answered[s]) {
				snprintf(v->srv_answer[s], sizeof(v->srv_answer[s]),
				         "serves %u of the %u value(s) served", bits(has[s]),
				         bits(all));
			}
		}
		if (bad == 0 || az_mono_ms() >= deadline) {
			break;
		}
		struct timespec ts = { 0, 250 * 1000000L };	/* remote servers: poll */
		nanosleep(&ts, NULL);
	}
	agree = bad == 0;
	o = strlen(v->message);
	if (agree) {
		snprintf(v->message + o, sizeof(v->message) - o, "; so do all %zu "
		         "address(es) of its nameservers", v->nsrv);
		goto out;
	}
	v->status = ST_STALE;
	o += (size_t)snprintf(v->message + o, sizeof(v->message) - o, "; but not "
	                      "every address of its nameservers does:");
	for (size_t s = 0; s < v->nsrv && o < sizeof(v->message); s++) {
		char who[DNS_SERVER_TEXT + AZ_NAME_TXTLEN];
		if (v->srv_ok[s]) {
			continue;
		}
		wait_addr_str(&ck->w->a[s], who, sizeof(who));
		o += (size_t)snprintf(v->message + o, sizeof(v->message) - o, " %s %s;",
		                      who, v->srv_answer[s]);
	}
	if (o < sizeof(v->message)) {
		v->message[o - 1] = '\0';	/* the last ';' */
	}
out:
	free(vals);
	free(r);
	return agree;
}

/* One domain: its CNAME chain, then the challenge zone's answer for the
 * expected target, then every address of the zone's nameservers. */
void check_domain(check_t *ck, const char *domain, const uint8_t *owner,
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
		if (ck->w != NULL) {
			(void)check_servers(ck, expected, v);
		}
	}
	/* Both halves matter to whoever fixes it: say the zone's part too. */
	if (v->status != ST_OK && v->status != ST_NO_ANSWER && !v->zone_ok) {
		size_t o = strlen(v->message);
		snprintf(v->message + o, sizeof(v->message) - o, "; and the challenge "
		         "zone does not answer for %s either (%s)", v->expected, zwhy);
	}
	free(r);
}

/* The value of parameter tag (case-insensitive) in an issue-value, cut at ';'. */
static bool issue_param(const char *txt, const char *tag, char *out, size_t size)
{
	size_t tlen = strlen(tag);
	const char *p = strchr(txt, ';');

	while (p != NULL) {
		p += 1 + strspn(p + 1, " \t");
		if (strncasecmp(p, tag, tlen) == 0) {
			const char *e = p + tlen + strspn(p + tlen, " \t");
			if (*e == '=') {
				e += 1 + strspn(e + 1, " \t");
				size_t n = strcspn(e, "; \t");
				snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), e);
				return true;
			}
		}
		p = strchr(p, ';');
	}
	return false;
}

/*
 * --persist, once the CNAME and the zone are right: does the CA find a
 * record at the owner (TXT, through the CNAME), for ck->issuer if given,
 * with ck->account_uri if given?  Appends what was found to the message.
 */
void check_records(const check_t *ck, const uint8_t *owner, verdict_t *v)
{
	const dns_server_t *used = NULL;
	char issuer[AZ_DOMAIN_BUFLEN], uri[DNS_TXT_MAX], what[256];
	char seen[CHECK_WHY_MAX] = "";
	dns_reply_t *r = malloc(sizeof(*r));
	size_t o = 0, records = 0;
	bool match = false;

	if (r == NULL) {
		v->status = ST_ERROR;
		snprintf(v->message, sizeof(v->message), "out of memory");
		return;
	}
	resolve(ck, owner, DNS_TYPE_TXT, r, &used);
	/* NXDOMAIN (the zone has no such name) is "no record", as NODATA. */
	bool answered = r->rcode == DNS_NOERROR || r->rcode == DNS_NXDOMAIN;
	for (size_t i = 0; r->rcode == DNS_NOERROR && i < r->nrr; i++) {
		const char *txt = r->rr[i].txt;
		if (r->rr[i].type != DNS_TYPE_TXT || r->rr[i].authority ||
		    !persist_issuer_of((const uint8_t *)txt, strlen(txt), issuer) ||
		    !issue_param(txt, "accounturi", uri, sizeof(uri))) {
			continue;
		}
		records++;
		if (o < sizeof(seen)) {
			o += (size_t)snprintf(seen + o, sizeof(seen) - o, "%s%s (%s)",
			                      o > 0 ? ", " : "", issuer, uri);
		}
		match = match || ((ck->issuer == NULL || strcmp(issuer, ck->issuer) == 0) &&
		                  (ck->account_uri == NULL || strcmp(uri, ck->account_uri) == 0));
	}
	o = strlen(v->message);
	if (!answered) {
		dns_reply_str(r, used, what, sizeof(what));
		v->status = ST_NO_RECORD;
		snprintf(v->message + o, sizeof(v->message) - o, "; but TXT %s: %s",
		         v->owner, what);
	} else if (!match) {
		v->status = ST_NO_RECORD;
		snprintf(v->message + o, sizeof(v->message) - o, "; but no "
		         "dns-persist-01 record%s%s%s%s is served (%s%s)",
		         ck->issuer != NULL ? " for issuer " : "",
		         ck->issuer != NULL ? ck->issuer : "",
		         ck->account_uri != NULL ? " with accounturi " : "",
		         ck->account_uri != NULL ? ck->account_uri : "",
		         records > 0 ? "served: " : "none at all", seen);
	} else {
		snprintf(v->message + o, sizeof(v->message) - o, "; records: %s", seen);
	}
	free(r);
}

int check_resolvers(const cli_t *cli, dns_server_t srv[CHECK_MAX_SERVERS], size_t *n)
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
