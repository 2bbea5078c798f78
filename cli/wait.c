/* wait.c -- --wait: ask authoritative servers until they serve what was added. */
/* SPDX-License-Identifier: MIT */

/*
 * The servers are given (--wait ADDR[@PORT]) or learned (--wait ns): the
 * zone's NS names from the resolver, then every A and AAAA of each.  Each
 * address is asked on its own, without recursion, because that is what a
 * CA's resolvers do: each picks any address of any NS of the zone, and an
 * anycast or multi-homed nameserver with one stale instance hides behind
 * a name that another address answers for.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "wait.h"

#define WAIT_QUERY_MS		1000	/* one question while waiting */
#define WAIT_POLL_MS		250	/* between two rounds of questions */
#define WAIT_LEARN_MS		5000	/* one question to a resolver */
#define WAIT_LAST_MAX		160	/* the last answer of an address, as text */

void wait_addr_str(const wait_addr_t *a, char *out, size_t size)
{
	char ns[AZ_NAME_TXTLEN];

	if (a->ns[0] == 0) {
		snprintf(out, size, "%s", a->srv.text);
		return;
	}
	az_name_to_text(a->ns, ns, sizeof(ns));
	snprintf(out, size, "%s (%s)", a->srv.text, ns);
}

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

int wait_parse(const cli_t *cli, wait_servers_t *w)
{
	char q[CLI_QUOTE_MAX];
	const char *why = "invalid";
	size_t got, kw = strlen(WAIT_NS_KEYWORD);

	w->n = 0;
	w->learn = false;
	w->zone[0] = 0;
	snprintf(w->port, sizeof(w->port), "53");
	for (int i = 0; i < cli->nwait; i++) {
		const char *spec = cli->wait[i];
		if (strncmp(spec, WAIT_NS_KEYWORD, kw) == 0 &&
		    (spec[kw] == '\0' || spec[kw] == '@')) {
			/* ns@PORT: the port checked as an address's would be. */
			dns_server_t probe;
			char test[16];
			snprintf(test, sizeof(test), "127.0.0.1%s", spec + kw);
			if (dns_server_parse(test, &probe, 1, &got, &why) != 0) {
				cli_err(cli, "'%s' is not a valid server for --wait (%s)",
				        quote(spec, q), why);
				return RC_INPUT;
			}
			snprintf(w->port, sizeof(w->port), "%s",
			         spec[kw] == '@' ? spec + kw + 1 : "53");
			w->learn = true;
			continue;
		}
		/* Every address of a host name given. */
		dns_server_t srv[4];
		if (dns_server_parse(spec, srv, 4, &got, &why) != 0) {
			cli_err(cli, "'%s' is not a valid server for --wait (%s)",
			        quote(spec, q), why);
			return RC_INPUT;
		}
		for (size_t k = 0; k < got && w->n < WAIT_MAX_SERVERS; k++) {
			w->a[w->n].srv = srv[k];
			w->a[w->n].ns[0] = 0;
			w->n++;
		}
	}
	w->ngiven = w->n;
	if (cli->server != NULL) {
		if (dns_server_parse(cli->server, w->res, DNS_MAX_SYSTEM, &w->nres,
		                     &why) != 0) {
			cli_err(cli, "'%s' is not a valid server (%s)",
			        quote(cli->server, q), why);
			return RC_INPUT;
		}
	} else {
		dns_system_servers(w->res, DNS_MAX_SYSTEM, &w->nres);
	}
	return RC_OK;
}

/* Add every address of type (A or AAAA) of ns; *found counts them. */
static int learn_addresses(wait_servers_t *w, const uint8_t *ns, uint16_t type,
                           dns_reply_t *r, size_t *found, char *why, size_t size)
{
	const dns_server_t *used;
	char name[AZ_NAME_TXTLEN];
	uint16_t port = (uint16_t)atoi(w->port);

	used = dns_resolve(w->res, w->nres, ns, type, WAIT_LEARN_MS, r);
	if (r->rcode != DNS_NOERROR && r->rcode != DNS_NXDOMAIN) {
		az_name_to_text(ns, name, sizeof(name));
		dns_reply_str(r, used, why, size);
		snprintf(why + strlen(why), size - strlen(why), " for the %s of %s",
		         type == DNS_TYPE_A ? "A" : "AAAA", name);
		return RC_DNS;
	}
	for (size_t i = 0; i < r->nrr; i++) {
		const dns_rr_t *rr = &r->rr[i];
		if (rr->type != type || rr->authority) {
			continue;
		}
		dns_server_t srv;
		dns_server_from(&srv, type == DNS_TYPE_A ? AF_INET : AF_INET6, rr->addr, port);
		bool dup = false;
		for (size_t k = 0; k < w->n; k++) {
			dup = dup || strcmp(w->a[k].srv.text, srv.text) == 0;
		}
		++*found;
		if (dup) {
			continue;
		}
		if (w->n == WAIT_MAX_SERVERS) {
			snprintf(why, size, "more than %d addresses", WAIT_MAX_SERVERS);
			return RC_DNS;
		}
		w->a[w->n].srv = srv;
		memcpy(w->a[w->n].ns, ns, az_name_wire_len(ns, AZ_NAME_MAXLEN));
		w->n++;
	}
	return RC_OK;
}

int wait_learn(wait_servers_t *w, const uint8_t *zone, char *why, size_t size)
{
	uint8_t ns[WAIT_MAX_NS][AZ_NAME_MAXLEN];
	char name[AZ_NAME_TXTLEN], what[256];
	const dns_server_t *used;
	dns_reply_t *r = malloc(sizeof(*r));
	size_t nns = 0;
	int rc = RC_DNS;

	w->n = w->ngiven;
	w->zone[0] = 0;
	az_name_to_text(zone, name, sizeof(name));
	if (r == NULL) {
		snprintf(why, size, "out of memory");
		return RC_DNS;
	}
	used = dns_resolve(w->res, w->nres, zone, DNS_TYPE_NS, WAIT_LEARN_MS, r);
	if (r->rcode != DNS_NOERROR) {
		dns_reply_str(r, used, what, sizeof(what));
		snprintf(why, size, "cannot learn the nameservers of %s (%s)", name, what);
		goto out;
	}
	for (size_t i = 0; i < r->nrr && nns < WAIT_MAX_NS; i++) {
		const dns_rr_t *rr = &r->rr[i];
		if (rr->type != DNS_TYPE_NS || rr->authority || !dns_name_eq(rr->owner, zone)) {
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < nns; k++) {
			dup = dup || dns_name_eq(ns[k], rr->target);
		}
		if (!dup) {
			memcpy(ns[nns++], rr->target, az_name_wire_len(rr->target, AZ_NAME_MAXLEN));
		}
	}
	if (nns == 0) {
		snprintf(why, size, "%s has no NS records (asked %s)", name,
		         used != NULL ? used->text : "no resolver");
		goto out;
	}
	for (size_t k = 0; k < nns; k++) {
		size_t found = 0;
		if (learn_addresses(w, ns[k], DNS_TYPE_A, r, &found, why, size) != RC_OK ||
		    learn_addresses(w, ns[k], DNS_TYPE_AAAA, r, &found, why, size) != RC_OK) {
			goto out;
		}
		if (found == 0) {
			char nsname[AZ_NAME_TXTLEN];
			az_name_to_text(ns[k], nsname, sizeof(nsname));
			snprintf(why, size, "the nameserver %s of %s has no address (A or "
			         "AAAA)", nsname, name);
			goto out;
		}
	}
	memcpy(w->zone, zone, az_name_wire_len(zone, AZ_NAME_MAXLEN));
	rc = RC_OK;
out:
	free(r);
	return rc;
}

/* The zone of owner: the owner of the SOA the resolver gives with it. */
static int zone_of(const wait_servers_t *w, const uint8_t *owner,
                   uint8_t zone[AZ_NAME_MAXLEN], char *why, size_t size)
{
	char name[AZ_NAME_TXTLEN], what[256];
	const dns_server_t *used;
	dns_reply_t *r = malloc(sizeof(*r));
	int rc = RC_DNS;

	az_name_to_text(owner, name, sizeof(name));
	if (r == NULL) {
		snprintf(why, size, "out of memory");
		return RC_DNS;
	}
	used = dns_resolve(w->res, w->nres, owner, DNS_TYPE_SOA, WAIT_LEARN_MS, r);
	snprintf(why, size, "no SOA for %s from the resolver", name);
	if (r->rcode != DNS_NOERROR && r->rcode != DNS_NXDOMAIN) {
		dns_reply_str(r, used, what, sizeof(what));
		snprintf(why, size, "cannot find the zone of %s (%s)", name, what);
	}
	for (size_t i = 0; rc != RC_OK && r->rcode >= 0 && i < r->nrr; i++) {
		if (r->rr[i].type == DNS_TYPE_SOA && az_name_under(owner, r->rr[i].owner)) {
			memcpy(zone, r->rr[i].owner,
			       az_name_wire_len(r->rr[i].owner, AZ_NAME_MAXLEN));
			rc = RC_OK;
		}
	}
	free(r);
	return rc;
}

/* Learn the NS set for owner unless the one learned covers it. */
static int learn_for(const cli_t *cli, wait_servers_t *w, const uint8_t *zone,
                     const uint8_t *owner)
{
	uint8_t found[AZ_NAME_MAXLEN];
	char why[2 * AZ_NAME_TXTLEN];
	int rc = RC_OK;

	if (w->zone[0] != 0 && az_name_under(owner, w->zone)) {
		return RC_OK;
	}
	if (zone == NULL || !az_name_under(owner, zone)) {
		rc = zone_of(w, owner, found, why, sizeof(why));
		zone = found;
	}
	if (rc == RC_OK) {
		rc = wait_learn(w, zone, why, sizeof(why));
	}
	if (rc != RC_OK) {
		cli_err(cli, "--wait %s: %s", WAIT_NS_KEYWORD, why);
	}
	return rc;
}

int wait_value(const cli_t *cli, wait_servers_t *w, int64_t deadline,
               const uint8_t *zone, const uint8_t *owner, const char *value)
{
	char name[AZ_NAME_TXTLEN], secs[CLI_TIME_MAX], who[DNS_SERVER_TEXT + AZ_NAME_TXTLEN];
	char (*last)[WAIT_LAST_MAX] = NULL;
	bool done[WAIT_MAX_SERVERS] = { false };
	size_t pending;
	int rc = RC_OK;

	if (w->learn) {
		rc = learn_for(cli, w, zone, owner);
		if (rc != RC_OK) {
			return rc;
		}
	}
	pending = w->n;
	if (pending == 0) {
		return RC_OK;
	}
	last = calloc(w->n, sizeof(*last));
	if (last == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	az_name_to_text(owner, name, sizeof(name));
	/* Rounds over the addresses still pending, until none is or time is up. */
	for (;;) {
		for (size_t s = 0; s < w->n; s++) {
			if (done[s]) {
				continue;
			}
			int64_t left = deadline - az_mono_ms();
			int tmo = left < WAIT_QUERY_MS ? (int)(left > 0 ? left : 1) :
			                                 WAIT_QUERY_MS;
			bool tcp = false;
			char now[WAIT_LAST_MAX] = "";
			if (served(&w->a[s].srv, owner, value, tmo, now, sizeof(now), &tcp)) {
				done[s] = true;
				pending--;
				if (cli->verbose) {
					wait_addr_str(&w->a[s], who, sizeof(who));
					printf("%s serves %s at %s%s\n", who, value, name,
					       tcp ? " (over TCP)" : "");
				}
			} else if (tmo == WAIT_QUERY_MS || last[s][0] == '\0') {
				/* A question cut short by the deadline says less
				 * than the answer before it. */
				memcpy(last[s], now, sizeof(now));
			}
		}
		if (pending == 0) {
			break;
		}
		int64_t left = deadline - az_mono_ms();
		if (left <= 0) {
			fmt_seconds(cli->propagation_ms, secs);
			for (size_t s = 0; s < w->n; s++) {
				if (done[s]) {
					continue;
				}
				wait_addr_str(&w->a[s], who, sizeof(who));
				cli_err(cli, "%s does not serve %s at %s after %s "
				        "(last answer: %s)", who, value, name, secs,
				        last[s]);
			}
			rc = RC_DNS;
			break;
		}
		/* Polling remote servers: nothing to wake us sooner. */
		if (left > WAIT_POLL_MS) {
			left = WAIT_POLL_MS;
		}
		struct timespec ts = { 0, (long)left * 1000000L };
		nanosleep(&ts, NULL);
	}
	free(last);
	return rc;
}
