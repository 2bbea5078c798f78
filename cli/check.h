/* check.h -- is a customer's delegation in place, as a CA's resolver sees it?  'check' and 'report' ask. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>

#include "cli.h"
#include "dns.h"

#define CHECK_TIMEOUT_MS	5000	/* one question to a resolver */
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

/* "ok", "missing", "wrong", "no-answer", "error". */
extern const char *const check_status_names[];

typedef struct {
	const dns_server_t *srv;	/* the resolvers, tried in turn */
	size_t nsrv;
	const az_config_t *cfg;
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
} verdict_t;

/*!
 * One domain (canonical), its _acme-challenge owner and the expected
 * target in the challenge zone: follow the CNAMEs from owner as a CA's
 * resolver does, then ask the zone for the target.  Fills *v, message
 * included; never fails (a failure is a verdict: ST_ERROR).
 */
void check_domain(const check_t *ck, const char *domain, const uint8_t *owner,
                  const uint8_t *expected, verdict_t *v);

/*!
 * The resolvers to ask: --server (cli->server), else those of
 * /etc/resolv.conf.  \return RC_OK, or RC_INPUT with the message printed.
 */
int check_servers(const cli_t *cli, dns_server_t srv[CHECK_MAX_SERVERS], size_t *n);
