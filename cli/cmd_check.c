/* cmd_check.c -- 'check': is a customer's delegation in place, as a CA's resolver sees it? */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check.h"
#include "cmds.h"
#include "db.h"
#include "dns.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "opts.h"
#include "wait.h"
#include "persist.h"

static void print_verdict(const check_t *ck, json_t *j, const verdict_t *v)
{
	if (!ck->cli->json) {
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
	json_key(j, "servers");
	json_begin(j, '[');
	for (size_t i = 0; i < v->nsrv; i++) {
		char ns[AZ_NAME_TXTLEN];
		json_begin(j, '{');
		json_key(j, "address");
		json_str(j, ck->w->a[i].srv.text);
		json_key(j, "ns");
		az_name_to_text(ck->w->a[i].ns, ns, sizeof(ns));
		json_str_or_null(j, ck->w->a[i].ns[0] != 0 ? ns : NULL);
		json_key(j, "ok");
		json_bool(j, v->srv_ok[i]);
		json_key(j, "answer");
		json_str(j, v->srv_answer[i]);
		json_end(j);
	}
	json_end(j);
	json_key(j, "message");
	json_str(j, v->message);
	json_end(j);
}

static int run_check(cli_t *cli)
{
	names_deleg_t *dl = NULL;
	wait_servers_t *w = malloc(sizeof(*w));
	char issuer[AZ_DOMAIN_BUFLEN];
	az_config_t cfg;
	check_t ck = { .cli = cli, .cfg = &cfg, .w = w };
	verdict_t *v = malloc(sizeof(*v));
	json_t j = { 0 };
	size_t n = (size_t)cli->npos;
	int rc, bad = 0;

	if (w == NULL || v == NULL) {
		cli_err(cli, "out of memory");
		rc = RC_STORE;
		goto out;
	}
	rc = db_config(cli, &cfg, true);
	if (rc != RC_OK) {
		goto out;
	}
	if (cli->issuer != NULL && !cli->persist) {
		rc = cli_usage(cli, "--issuer needs --persist");
		goto out;
	}
	/* --account-uri: with --persist the record's account; without, the
	 * dns-account-01 name (names_delegation()). */
	ck.account_uri = cli->persist ? cli->account_uri : NULL;
	if (cli->issuer != NULL) {
		rc = persist_issuer(cli, cli->issuer, issuer);
		ck.issuer = issuer;
	}
	if (rc == RC_OK && ck.account_uri != NULL) {
		rc = persist_uri(cli, ck.account_uri);
	}
	if (rc != RC_OK) {
		goto out;
	}
	/* The resolvers, and the addresses to ask: given, or the zone's NS. */
	rc = wait_parse(cli, w);
	if (rc != RC_OK) {
		goto out;
	}
	w->learn = w->learn || w->n == 0;
	ck.srv = w->res;
	ck.nsrv = w->nres;
	dl = calloc(n, sizeof(*dl));
	if (dl == NULL) {
		cli_err(cli, "out of memory");
		rc = RC_STORE;
		goto out;
	}
	/* Every domain is valid before the first question is asked. */
	for (size_t i = 0; i < n; i++) {
		rc = cli->persist ? persist_delegation(cli, &cfg, cli->pos[i], &dl[i]) :
		     names_delegation(cli, &cfg, cli->pos[i], &dl[i]);
		if (rc != RC_OK) {
			goto out;
		}
	}
	if (cli->json) {
		json_begin(&j, '[');
	}
	for (size_t i = 0; i < n; i++) {
		check_domain(&ck, dl[i].domain, dl[i].owner, dl[i].target, v);
		if (cli->persist && v->status == ST_OK) {
			check_records(&ck, dl[i].owner, v);
		}
		print_verdict(&ck, &j, v);
		bad += v->status != ST_OK;
		fflush(stdout);		/* one line per domain as it comes */
	}
	if (cli->json) {
		json_end(&j);
	}
	rc = bad > 0 ? RC_DNS : RC_OK;
out:
	free(dl);
	free(w);
	free(v);
	return rc;
}

const cmd_t cmd_check = {
	"check", run_check,
	OPT_JSON | OPT_ZONE | OPT_SCHEME | OPT_SERVER | OPT_WAIT_AT | OPT_PROPAGATION |
	OPT_ACCOUNT_URI | OPT_PERSIST | OPT_ISSUER,
	1, CMD_ANY, { "DOMAIN", NULL }, 0,
	"check DOMAIN... [--account-uri URI] [--persist [--issuer DOMAIN]] [--server ADDR[@PORT]]\n"
	"       [--wait SERVER]... [--json] [--zone ZONE] [--scheme SCHEME]\n"
	"       [--propagation-timeout SECONDS]",
	"Resolve _acme-challenge.DOMAIN the way a CA does and say, per domain,\n"
	"whether the CNAME is in place and points at the right name, and\n"
	"whether the challenge zone answers for that name; then ask every\n"
	"address (A and AAAA) of every NS of the challenge zone, without\n"
	"recursion, and name each one that does not answer authoritatively or\n"
	"lacks a value another serves ('stale').  Exit status 0 if every domain\n"
	"is ready, 4 if not.\n"
	"With --account-uri the same for\n"
	"that account's dns-account-01 name, _<label>._acme-challenge.DOMAIN,\n"
	"and its target _<label>.<delegation name> (a DNAME at\n"
	"_acme-challenge.DOMAIN to the delegation name passes too: the\n"
	"resolver's answer carries the CNAME it implies).\n"
	"\n"
	"  --account-uri URI     dns-account-01: the ACME account URL\n"
	"  --persist             check _validation-persist.DOMAIN instead (the\n"
	"                        dns-persist-01 CNAME), and that a record is\n"
	"                        served there: for --issuer, and with\n"
	"                        --account-uri for that account\n"
	"  --server ADDR[@PORT]  the recursive resolver to ask (default: the\n"
	"                        nameservers of /etc/resolv.conf)\n"
	"  --wait SERVER         ask these addresses (ADDR[@PORT], repeatable)\n"
	"                        instead of the zone's NS set; 'ns@PORT': the\n"
	"                        NS set, asked on PORT\n"
	"  --propagation-timeout SECONDS  ask the addresses again until they\n"
	"                        agree, at most this long (default: once)\n"
	"  --json                one JSON array of {domain, status, ...}\n"
	"  --zone ZONE           use this challenge zone, not the store's\n"
	"  --scheme SCHEME       use this scheme, not the store's\n"
};
