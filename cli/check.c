/* check.c -- 'acmezone check' (is a customer's delegation in place?) and --wait. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dns.h"

#define CHECK_TIMEOUT_MS	5000	/* one question to a resolver */
#define WAIT_QUERY_MS		1000	/* one question while waiting */
#define WAIT_POLL_MS		250	/* between two questions while waiting */
#define CHECK_MAX_SERVERS	8
#define CHECK_MAX_HOPS		8	/* CNAMEs followed from _acme-challenge.<domain> */
#define CHECK_WHY_MAX		(4 * AZ_NAME_TXTLEN)	/* why the zone is silent */
#define CHECK_CHAIN_MAX		((CHECK_MAX_HOPS + 2) * AZ_NAME_TXTLEN)	/* a chain as text */
#define CHECK_MSG_MAX		(CHECK_CHAIN_MAX + CHECK_WHY_MAX + 2 * AZ_NAME_TXTLEN)	/* one verdict */

typedef enum {
	ST_OK,			/* CNAME right, challenge zone answers */
	ST_MISSING,		/* no CNAME at _acme-challenge.<domain> */
	ST_WRONG,		/* a CNAME to another name */
	ST_NO_ANSWER,		/* CNAME right, the challenge zone does not answer */
	ST_ERROR,		/* the resolver gave no usable answer */
} status_t;

static const char *const status_names[] = {
	[ST_OK] = "ok", [ST_MISSING] = "missing", [ST_WRONG] = "wrong",
	[ST_NO_ANSWER] = "no-answer", [ST_ERROR] = "error",
};

typedef struct {
	const dns_server_t *srv;	/* the resolvers, tried in turn */
	size_t nsrv;
	const az_config_t *cfg;
} check_t;

/* Ask the resolvers in turn until one replies; *used is the one that did. */
static void resolve(const check_t *ck, const uint8_t *qname, uint16_t qtype,
                    dns_reply_t *r, const dns_server_t **used)
{
	for (size_t i = 0; i < ck->nsrv; i++) {
		*used = &ck->srv[i];
		dns_query(&ck->srv[i], qname, qtype, true, CHECK_TIMEOUT_MS, r);
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

typedef struct {
	status_t status;
	char domain[AZ_DOMAIN_BUFLEN];
	char owner[AZ_NAME_TXTLEN], expected[AZ_NAME_TXTLEN], cname[AZ_NAME_TXTLEN];
	bool has_cname, zone_ok;
	unsigned values;
	unsigned hops;				/* CNAMEs followed */
	char chain[CHECK_MAX_HOPS][AZ_NAME_TXTLEN];	/* their targets */
	char message[CHECK_MSG_MAX];
} verdict_t;

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
static void check_domain(const check_t *ck, const char *domain, const uint8_t *owner,
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

static void print_verdict(const cli_t *cli, const verdict_t *v, bool first)
{
	if (!cli->json) {
		printf("%s: %s: %s\n", v->domain, status_names[v->status], v->message);
		return;
	}
	fputs(first ? "[\n  {\"domain\": " : ",\n  {\"domain\": ", stdout);
	json_string(v->domain, strlen(v->domain));
	printf(", \"status\": \"%s\", \"owner\": ", status_names[v->status]);
	json_string(v->owner, strlen(v->owner));
	fputs(", \"expected\": ", stdout);
	json_string(v->expected, strlen(v->expected));
	fputs(", \"cname\": ", stdout);
	if (v->has_cname) {
		json_string(v->cname, strlen(v->cname));
	} else {
		fputs("null", stdout);
	}
	fputs(", \"chain\": [", stdout);
	for (unsigned i = 0; i < v->hops; i++) {
		fputs(i > 0 ? ", " : "", stdout);
		json_string(v->chain[i], strlen(v->chain[i]));
	}
	printf("], \"zone_answers\": %s, \"values\": %u, \"message\": ",
	       v->zone_ok ? "true" : "false", v->values);
	json_string(v->message, strlen(v->message));
	putchar('}');
}

int cmd_check(cli_t *cli)
{
	dns_server_t srv[CHECK_MAX_SERVERS];
	uint8_t (*owners)[AZ_NAME_MAXLEN] = NULL, (*targets)[AZ_NAME_MAXLEN] = NULL;
	char (*domains)[AZ_DOMAIN_BUFLEN] = NULL, q[CLI_QUOTE_MAX], otext[AZ_NAME_TXTLEN];
	const char *why = "invalid";
	az_config_t cfg;
	check_t ck = { .srv = srv, .cfg = &cfg };
	verdict_t v;
	size_t len, n = (size_t)cli->npos;
	int rc, bad = 0;

	rc = cli_config(cli, &cfg, true);
	if (rc != RC_OK) {
		return rc;
	}
	if (cli->server != NULL) {
		if (dns_server_parse(cli->server, srv, CHECK_MAX_SERVERS, &ck.nsrv, &why) != 0) {
			cli_err(cli, "'%s' is not a valid server (%s)", quote(cli->server, q), why);
			return RC_INPUT;
		}
	} else {
		dns_system_servers(srv, DNS_MAX_SYSTEM, &ck.nsrv);
	}
	owners = calloc(n, sizeof(*owners));
	targets = calloc(n, sizeof(*targets));
	domains = calloc(n, sizeof(*domains));
	if (owners == NULL || targets == NULL || domains == NULL) {
		cli_err(cli, "out of memory");
		rc = RC_STORE;
		goto out;
	}
	/* Every domain is valid before the first question is asked. */
	for (size_t i = 0; i < n; i++) {
		if (az_domain_parse(cli->pos[i], domains[i], &why) != AZ_EOK ||
		    az_delegation(domains[i], cfg.scheme, cfg.zone, targets[i], &len,
		                  NULL, &why) != AZ_EOK ||
		    snprintf(otext, sizeof(otext), "_acme-challenge.%s", domains[i]) < 0 ||
		    az_name_parse(otext, owners[i], &len, &why) != AZ_EOK) {
			cli_err(cli, "'%s' is not a valid domain (%s)", quote(cli->pos[i], q), why);
			rc = RC_INPUT;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		check_domain(&ck, domains[i], owners[i], targets[i], &v);
		print_verdict(cli, &v, i == 0);
		bad += v.status != ST_OK;
		fflush(stdout);		/* one line per domain as it comes */
	}
	if (cli->json) {
		fputs("\n]\n", stdout);
	}
	rc = bad > 0 ? RC_DNS : RC_OK;
out:
	free(owners);
	free(targets);
	free(domains);
	return rc;
}

/*** --wait: until the authoritative servers serve what was added. ***/

/* Does srv serve value at owner (asked without recursion)? */
static bool served(const dns_server_t *srv, const uint8_t *owner, const char *value,
                   int timeout_ms, char *last, size_t size, bool *tcp)
{
	dns_reply_t *r = malloc(sizeof(*r));
	bool ok = false;

	if (r == NULL) {
		snprintf(last, size, "out of memory");
		return false;
	}
	dns_query(srv, owner, DNS_TYPE_TXT, false, timeout_ms, r);
	*tcp = r->tcp;
	for (size_t i = 0; i < r->nrr && r->rcode == DNS_NOERROR; i++) {
		if (r->rr[i].type == DNS_TYPE_TXT && !r->rr[i].authority &&
		    dns_name_eq(r->rr[i].owner, owner) && strcmp(r->rr[i].txt, value) == 0) {
			ok = true;
		}
	}
	if (!ok) {
		char buf[DNS_RCODE_BUFLEN];
		if (r->rcode < 0) {
			snprintf(last, size, "%s", r->error);
		} else if (r->rcode == DNS_NOERROR) {
			snprintf(last, size, "NOERROR without the value");
		} else {
			snprintf(last, size, "%s", dns_rcode_str(r->rcode, buf));
		}
	}
	free(r);
	return ok;
}

int cli_wait_served(cli_t *cli, const cli_op_t *ops, size_t n)
{
	dns_server_t srv[CLI_MAX_WAIT * 4];
	char q[CLI_QUOTE_MAX], name[AZ_NAME_TXTLEN], last[256] = "no answer", secs[32];
	const char *why = "invalid";
	size_t nsrv = 0, got;
	int64_t deadline;

	if (cli->nwait == 0) {
		return RC_OK;
	}
	for (int i = 0; i < cli->nwait; i++) {
		if (dns_server_parse(cli->wait[i], srv + nsrv, sizeof(srv) / sizeof(srv[0]) - nsrv,
		                     &got, &why) != 0) {
			cli_err(cli, "'%s' is not a valid server for --wait (%s)",
			        quote(cli->wait[i], q), why);
			return RC_INPUT;
		}
		nsrv += got;
	}
	deadline = az_mono_ms() + cli->propagation_ms;
	for (size_t i = 0; i < n; i++) {
		if (!ops[i].add) {
			continue;
		}
		az_name_to_text(ops[i].owner, name, sizeof(name));
		for (size_t s = 0; s < nsrv; s++) {
			for (;;) {
				int64_t left = deadline - az_mono_ms();
				int tmo = left < WAIT_QUERY_MS ? (int)(left > 0 ? left : 1) : WAIT_QUERY_MS;
				bool tcp = false;
				if (served(&srv[s], ops[i].owner, ops[i].value, tmo, last,
				           sizeof(last), &tcp)) {
					if (cli->verbose) {
						printf("%s serves %s at %s%s\n", srv[s].text,
						       ops[i].value, name, tcp ? " (over TCP)" : "");
					}
					break;
				}
				int64_t left_ms = deadline - az_mono_ms();
				if (left_ms <= 0) {
					snprintf(secs, sizeof(secs), "%.3g s",
					         cli->propagation_ms / 1000.0);
					cli_err(cli, "%s does not serve %s at %s after %s "
					        "(last answer: %s)", srv[s].text, ops[i].value,
					        name, secs, last);
					return RC_DNS;
				}
				/* Polling a remote server: nothing to wake us sooner. */
				if (left_ms > WAIT_POLL_MS) {
					left_ms = WAIT_POLL_MS;
				}
				struct timespec ts = { 0, (long)left_ms * 1000000L };
				nanosleep(&ts, NULL);
			}
		}
	}
	return RC_OK;
}
