/* cmd_check.c -- 'check': is a customer's delegation in place, as a CA's resolver sees it? */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cmds.h"
#include "db.h"
#include "dns.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "opts.h"

static void print_verdict(const cli_t *cli, json_t *j, const verdict_t *v)
{
	if (!cli->json) {
		printf("%s: %s: %s\n", v->domain, check_status_names[v->status], v->message);
		return;
	}
	json_begin(j, '{');
	json_key(j, "domain");
	json_str(j, v->domain);
	json_key(j, "status");
	json_str(j, check_status_names[v->status]);
	json_key(j, "owner");
	json_str(j, v->owner);
	json_key(j, "expected");
	json_str(j, v->expected);
	json_key(j, "cname");
	json_str_or_null(j, v->has_cname ? v->cname : NULL);
	json_key(j, "chain");
	json_begin(j, '[');
	for (unsigned i = 0; i < v->hops; i++) {
		json_str(j, v->chain[i]);
	}
	json_end(j);
	json_key(j, "zone_answers");
	json_bool(j, v->zone_ok);
	json_key(j, "values");
	json_uint(j, v->values);
	json_key(j, "message");
	json_str(j, v->message);
	json_end(j);
}

static int run_check(cli_t *cli)
{
	dns_server_t srv[CHECK_MAX_SERVERS];
	names_deleg_t *dl = NULL;
	az_config_t cfg;
	check_t ck = { .srv = srv, .cfg = &cfg };
	verdict_t v;
	json_t j = { 0 };
	size_t n = (size_t)cli->npos;
	int rc, bad = 0;

	rc = db_config(cli, &cfg, true);
	if (rc != RC_OK) {
		return rc;
	}
	rc = check_servers(cli, srv, &ck.nsrv);
	if (rc != RC_OK) {
		return rc;
	}
	dl = calloc(n, sizeof(*dl));
	if (dl == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	/* Every domain is valid before the first question is asked. */
	for (size_t i = 0; i < n; i++) {
		rc = names_delegation(cli, &cfg, cli->pos[i], &dl[i]);
		if (rc != RC_OK) {
			goto out;
		}
	}
	if (cli->json) {
		json_begin(&j, '[');
	}
	for (size_t i = 0; i < n; i++) {
		check_domain(&ck, dl[i].domain, dl[i].owner, dl[i].target, &v);
		print_verdict(cli, &j, &v);
		bad += v.status != ST_OK;
		fflush(stdout);		/* one line per domain as it comes */
	}
	if (cli->json) {
		json_end(&j);
	}
	rc = bad > 0 ? RC_DNS : RC_OK;
out:
	free(dl);
	return rc;
}

const cmd_t cmd_check = {
	"check", run_check, OPT_JSON | OPT_ZONE | OPT_SCHEME | OPT_SERVER, 1, CMD_ANY,
	{ "DOMAIN", NULL }, 0,
	"check DOMAIN... [--server ADDR[@PORT]] [--json] [--zone ZONE] [--scheme SCHEME]",
	"Resolve _acme-challenge.DOMAIN the way a CA does and say, per domain,\n"
	"whether the CNAME is in place and points at the right name, and\n"
	"whether the challenge zone answers for that name.  Exit status 0 if\n"
	"every domain is ready, 4 if not.\n"
	"\n"
	"  --server ADDR[@PORT]  the recursive resolver to ask (default: the\n"
	"                        nameservers of /etc/resolv.conf)\n"
	"  --json                one JSON array of {domain, status, ...}\n"
	"  --zone ZONE           use this challenge zone, not the store's\n"
	"  --scheme SCHEME       use this scheme, not the store's\n"
};
