/* check.h -- is a customer's delegation in place, as a CA's resolver sees it, and do all the zone's nameservers agree?  'check' and 'report' ask. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>

#include "cli.h"
#include "dns.h"
#include "wait.h"

#define CHECK_TIMEOUT_MS	5000	/* one question to a resolver */
#define CHECK_MAX_HOPS		8	/* CNAMEs followed from _acme-challenge.<domain> */
#define CHECK_WHY_MAX		(4 * AZ_NAME_TXTLEN)	/* why the zone is silent */
#define CHECK_CHAIN_MAX		((CHECK_MAX_HOPS + 2) * AZ_NAME_TXTLEN)	/* a chain as text */
#define CHECK_ANSWER_MAX	160	/* what one address answered, as text */
#define CHECK_MAX_VALUES	64	/* values compared across the addresses */
#define CHECK_ADDR_MS		2000	/* one question to an address */
#define CHECK_MSG_MAX		(CHECK_CHAIN_MAX + CHECK_WHY_MAX + 2 * AZ_NAME_TXTLEN + \
				 WAIT_MAX_SERVERS * (CHECK_ANSWER_MAX + 2 * DNS_SERVER_TEXT))	/* one verdict */
#define CHECK_MAX_SERVERS	8	/* resolvers given with --server */

typedef enum {
	ST_OK,			/* CNAME right, challenge zone answers */
	ST_MISSING,		/* no CNAME at _acme-challenge.<domain> */
	ST_WRONG,		/* a CNAME to another name */
	ST_NO_ANSWER,		/* CNAME right, the challenge zone does not answer */
	ST_ERROR,		/* the resolver gave no usable answer */
	ST_STALE,		/* ok through the resolver, but an address of
				 * the zone's nameservers does not serve
				 * what the others do, or does not answer */
	ST_NO_RECORD,		/* --persist: no (matching) record is served */
} status_t;

/* "ok", "missing", "wrong", "no-answer", "error", "stale", "no-record". */
extern const char *const check_status_names[];

typedef struct {
	const dns_server_t *srv;	/* the resolvers, tried in turn */
	size_t nsrv;
	const cli_t *cli;
	const az_config_t *cfg;
	wait_servers_t *w;		/* every address of the zone's NS */
	int learned;			/* 0: not yet, 1: w holds them, -1: failed */
	char learn_why[2 * AZ_NAME_TXTLEN];	/* why learning failed */
	const char *issuer;		/* --persist: the record wanted, or NULL */
	const char *account_uri;	/* and its accounturi, or NULL */
	int timeout_ms;			/* one question; 0: CHECK_TIMEOUT_MS */
} check_t;

typedef struct {
	status_t status;
	char domain[AZ_DOMAIN_BUFLEN];
	char owner[AZ_NAME_TXTLEN], expected[AZ_NAME_TXTLEN], cname[AZ_NAME_TXTLEN];
	bool has_cname, zone_ok;
	unsigned values;
	unsigned hops;				/* CNAMEs followed */
	char chain[CHECK_MAX_HOPS][AZ_NAME_TXTLEN];	/* their targets */
	char message[CHECK_MSG_MAX];
	size_t nsrv;				/* addresses asked, ck->w's */
	bool srv_ok[WAIT_MAX_SERVERS];
	char srv_answer[WAIT_MAX_SERVERS][CHECK_ANSWER_MAX];
} verdict_t;

/*!
 * One domain (canonical), its _acme-challenge owner and the expected
 * target in the challenge zone: follow the CNAMEs from owner as a CA's
 * resolver does, ask the zone for the target, then (ck->w not NULL)
 * every address of the zone's nameservers, learned once into ck.  Fills
 * *v, message included; never fails (a failure is a verdict).
 */
void check_domain(check_t *ck, const char *domain, const uint8_t *owner,
                  const uint8_t *expected, verdict_t *v);

/*!
 * --persist, once the CNAME and the zone are right: does the CA find a
 * record at owner (TXT, through the CNAME), for ck->issuer if given, with
 * ck->account_uri if given?  Appends what was found to v's message.
 */
void check_records(const check_t *ck, const uint8_t *owner, verdict_t *v);

/*!
 * The resolvers to ask: --server (cli->server), else those of
 * /etc/resolv.conf.  \return RC_OK, or RC_INPUT with the message printed.
 */
int check_resolvers(const cli_t *cli, dns_server_t srv[CHECK_MAX_SERVERS], size_t *n);
