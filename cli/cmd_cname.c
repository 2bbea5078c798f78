/* cmd_cname.c -- 'cname': the record each customer adds, once, to delegate their challenges. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "db.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "opts.h"
#include "persist.h"

typedef struct {
	names_deleg_t d;
	char owner[AZ_NAME_TXTLEN], target[AZ_NAME_TXTLEN];
	bool dup;			/* same owner as an earlier domain */
} cname_t;

static void cname_json(json_t *j, const cli_t *cli, const az_config_t *cfg,
                       const cname_t *c)
{
	json_begin(j, '{');
	json_key(j, "domain");
	json_str(j, c->d.domain);
	json_key(j, "owner");
	json_str(j, c->owner);
	json_key(j, "type");
	json_str(j, "CNAME");
	json_key(j, "target");
	json_str(j, c->target);
	json_key(j, "scheme");
	json_str(j, c->d.fallback == AZ_FALLBACK_NONE ?
	            az_scheme_name(cfg->scheme) : "hashed");
	json_key(j, "hashed_because");
	json_str_or_null(j, c->d.fallback == AZ_FALLBACK_NONE ? NULL :
	                    az_label_fallback_str(c->d.fallback));
	json_key(j, "account_uri");
	json_str_or_null(j, cli->account_uri);
	json_end(j);
}

static int run_cname(cli_t *cli)
{
	cname_t *c = NULL;
	az_config_t cfg;
	json_t j = { 0 };
	int rc;

	if (cli->persist && cli->account_uri != NULL) {
		/* dns-persist-01 names do not depend on the account. */
		return cli_usage(cli, "--persist and --account-uri do not go together");
	}
	rc = db_config(cli, &cfg, true);
	if (rc != RC_OK) {
		return rc;
	}
	c = calloc((size_t)cli->npos, sizeof(*c));
	if (c == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	/* All or nothing: output meant to be pasted into a zone is whole. */
	for (int i = 0; i < cli->npos; i++) {
		rc = cli->persist ?
		     persist_delegation(cli, &cfg, cli->pos[i], &c[i].d) :
		     names_delegation(cli, &cfg, cli->pos[i], &c[i].d);
		if (rc != RC_OK) {
			goto out;
		}
		az_name_to_text(c[i].d.owner, c[i].owner, sizeof(c[i].owner));
		az_name_to_text(c[i].d.target, c[i].target, sizeof(c[i].target));
		for (int k = 0; k < i; k++) {
			c[i].dup = c[i].dup || strcmp(c[k].owner, c[i].owner) == 0;
		}
	}
	if (cli->json) {
		json_begin(&j, '[');
	}
	for (int i = 0; i < cli->npos; i++) {
		if (c[i].dup) {
			continue;	/* *.example.org after example.org */
		}
		if (cli->json) {
			cname_json(&j, cli, &cfg, &c[i]);
			continue;
		}
		if (c[i].d.fallback != AZ_FALLBACK_NONE) {
			printf("; %s: hashed label, not %s: %s\n", c[i].d.domain,
			       az_scheme_name(cfg.scheme),
			       az_label_fallback_str(c[i].d.fallback));
		}
		printf("%s\tIN\tCNAME\t%s\n", c[i].owner, c[i].target);
	}
	if (cli->json) {
		json_end(&j);
	}
out:
	free(c);
	return rc;
}

const cmd_t cmd_cname = {
	"cname", run_cname, OPT_JSON | OPT_ZONE | OPT_SCHEME | OPT_ACCOUNT_URI |
	OPT_PERSIST, 1, CMD_ANY, { "DOMAIN", NULL }, 0,
	"cname DOMAIN... [--account-uri URI | --persist] [--json] [--zone ZONE] "
	"[--scheme SCHEME]",
	"Print the record each customer adds to their zone, once, so that the\n"
	"challenges for DOMAIN are answered from the challenge zone:\n"
	"\n"
	"  _acme-challenge.example.org.  IN  CNAME  example-org.acme.example.net.\n"
	"\n"
	"*.DOMAIN needs the same record as DOMAIN.  A label that would be\n"
	"longer than 63 octets (or a name longer than 255) is hashed instead,\n"
	"and a comment line says so.\n"
	"\n"
	"dns-account-01: with --account-uri, the record for that ACME account\n"
	"(one per account and domain, beside the one above):\n"
	"\n"
	"  _<label>._acme-challenge.example.org.  IN  CNAME  _<label>.example-org.acme.example.net.\n"
	"\n"
	"  --account-uri URI  the ACME account URL (https://...) whose label\n"
	"                   the CA puts in front of _acme-challenge\n"
	"\n"
	"dns-persist-01: with --persist, the record for the standing records\n"
	"'persist add' writes (see 'persist'):\n"
	"\n"
	"  _validation-persist.example.org.  IN  CNAME  _validation-persist.example-org.acme.example.net.\n"
	"\n"
	"  --persist        print that record instead\n"
	"  --json           one JSON array of {domain, owner, type, target,\n"
	"                   scheme, hashed_because, account_uri}\n"
	"  --zone ZONE      use this challenge zone, not the store's (the\n"
	"                   store is not read: readable unless --scheme)\n"
	"  --scheme SCHEME  use this scheme, not the store's\n"
};
