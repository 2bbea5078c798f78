/* cmd_config.c -- 'config': show or set the store's challenge zone and naming scheme. */
/* SPDX-License-Identifier: MIT */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "db.h"
#include "json.h"
#include "msg.h"
#include "names.h"
#include "opts.h"
#include "peers.h"
#include "write.h"

static void config_show(const cli_t *cli, const az_config_t *cfg, const peers_t *ps,
                        const az_hist_limits_t *lim)
{
	char zone[AZ_NAME_TXTLEN];
	json_t j = { 0 };

	if (cfg->has_zone) {
		az_name_to_text(cfg->zone, zone, sizeof(zone));
	}
	if (cli->json) {
		json_begin(&j, '{');
		json_key(&j, "zone");
		json_str_or_null(&j, cfg->has_zone ? zone : NULL);
		json_key(&j, "scheme");
		json_str(&j, az_scheme_name(cfg->scheme));
		json_key(&j, "history_max");
		json_uint(&j, lim->max_events);
		json_key(&j, "history_days");
		json_uint(&j, lim->max_days);
		json_key(&j, "peers");
		peer_show(cli, ps, &j, NULL, NULL);
		json_end(&j);
		return;
	} else if (cfg->has_zone) {
		printf("zone %s\nscheme %s\n", zone, az_scheme_name(cfg->scheme));
	} else {
		printf("zone (none: names are written as given)\nscheme %s\n",
		       az_scheme_name(cfg->scheme));
	}
	printf("history %u events, %u days\n", (unsigned)lim->max_events,
	       (unsigned)lim->max_days);
	peer_show(cli, ps, NULL, NULL, NULL);
}

/* An integer option from lo to hi. */
static int config_uint(const cli_t *cli, const char *opt, const char *text,
                       unsigned long lo, unsigned long hi, uint32_t *out)
{
	char q[CLI_QUOTE_MAX], *end = NULL;
	unsigned long v = 0;

	if (text[0] >= '0' && text[0] <= '9') {
		v = strtoul(text, &end, 10);
	}
	if (end == NULL || *end != '\0' || v < lo || v > hi) {
		cli_err(cli, "'%s' is not a valid %s (%lu to %lu)", quote(text, q), opt,
		        lo, hi);
		return RC_INPUT;
	}
	*out = (uint32_t)v;
	return RC_OK;
}

/*
 * The history's limits in txn into *lim; with --history-max or
 * --history-days (checked into *set), set those over the current ones.
 */
static int config_history(cli_t *cli, az_txn_t *txn, const az_hist_limits_t *set,
                          az_hist_limits_t *lim)
{
	int ret = az_txn_hist_limits(txn, lim);
	if (ret == AZ_EOK && (cli->hist_max != NULL || cli->hist_days != NULL)) {
		if (cli->hist_max != NULL) {
			lim->max_events = set->max_events;
		}
		if (cli->hist_days != NULL) {
			lim->max_days = set->max_days;
		}
		ret = az_txn_set_hist_limits(txn, lim);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot set the history's limits in '%s'", cli->qdb);
		return RC_STORE;
	}
	return RC_OK;
}

static int run_config(cli_t *cli)
{
	char old[AZ_NAME_TXTLEN];
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	az_config_t cur, want;
	az_hist_limits_t lim, set = { 0 };
	int rc, ret;

	if (cli->zone == NULL && cli->scheme == NULL && cli->hist_max == NULL &&
	    cli->hist_days == NULL) {
		peers_t *ps = calloc(1, sizeof(*ps));
		if (ps == NULL) {
			cli_err(cli, "out of memory");
			return RC_STORE;
		}
		rc = db_read_settings(cli, &cur, &lim);
		if (rc == RC_OK) {
			rc = peers_load(cli, ps);
		}
		if (rc == RC_OK) {
			config_show(cli, &cur, ps, &lim);
		}
		free(ps);
		return rc;
	}
	if (cli->hist_max != NULL &&
	    (rc = config_uint(cli, "history size", cli->hist_max, AZ_HIST_MIN_MAX,
	                      AZ_HIST_MAX_MAX, &set.max_events)) != RC_OK) {
		return rc;
	}
	if (cli->hist_days != NULL &&
	    (rc = config_uint(cli, "history age in days", cli->hist_days, 1,
	                      AZ_HIST_MAX_DAYS, &set.max_days)) != RC_OK) {
		return rc;
	}
	memset(&want, 0, sizeof(want));
	if (cli->zone != NULL && (rc = names_zone(cli, cli->zone, &want)) != RC_OK) {
		return rc;
	}
	if (cli->scheme != NULL &&
	    (rc = names_scheme(cli, cli->scheme, &want.scheme)) != RC_OK) {
		return rc;
	}

	rc = write_begin(cli, &store, &txn, &cur);
	if (rc != RC_OK) {
		goto out;
	}
	if (cli->zone == NULL) {
		want.has_zone = cur.has_zone;
		memcpy(want.zone, cur.zone, sizeof(want.zone));
	}
	if (cli->scheme == NULL) {
		want.scheme = cur.scheme;
	}
	/* Customers' CNAMEs point at the names of the current settings. */
	if (cur.has_zone && !cli->force &&
	    (az_name_wire_len(cur.zone, AZ_NAME_MAXLEN) !=
	     az_name_wire_len(want.zone, AZ_NAME_MAXLEN) ||
	     memcmp(cur.zone, want.zone, az_name_wire_len(cur.zone, AZ_NAME_MAXLEN)) != 0 ||
	     cur.scheme != want.scheme)) {
		az_name_to_text(cur.zone, old, sizeof(old));
		rc = cli_usage(cli, "the challenge zone is %s with scheme %s; a change "
		               "moves every delegation name, so every customer's CNAME "
		               "must change too: add --force to do it", old,
		               az_scheme_name(cur.scheme));
		goto out;
	}
	ret = (cli->zone != NULL || cli->scheme != NULL) ? az_txn_set_config(txn, &want) :
	      AZ_EOK;
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot write the settings of '%s'", cli->qdb);
		rc = RC_STORE;
		goto out;
	}
	if ((rc = config_history(cli, txn, &set, &lim)) != RC_OK) {
		goto out;
	}
	rc = write_commit(cli, &store, &txn, true);
	if (rc == RC_OK && cli->verbose) {
		peers_t none = { .n = 0 };
		config_show(cli, &want, &none, &lim);
	}
out:
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

const cmd_t cmd_config = {
	"config", run_config, OPT_ZONE | OPT_SCHEME | OPT_FORCE | OPT_JSON | OPT_VERBOSE |
	OPT_HIST_MAX | OPT_HIST_DAYS,
	0, 0, { NULL }, 0,
	"config [--zone ZONE] [--scheme SCHEME] [--force] [--history-max N]\n"
	"         [--history-days DAYS] [--json] [-v]",
	"Show the store's challenge zone, naming scheme and history limits, or\n"
	"set them.\n"
	"Changing a zone or scheme that is set moves every delegation name,\n"
	"so it needs --force.\n"
	"\n"
	"  --zone ZONE      set the challenge zone\n"
	"  --scheme SCHEME  set the scheme: readable, reversed or hashed\n"
	"  --force          change a zone or scheme that is already set\n"
	"  --history-max N  keep at most N history events (10 to 1000000;\n"
	"                   default 10000); the oldest go first\n"
	"  --history-days DAYS  keep events at most DAYS days (1 to 3650;\n"
	"                   default 90)\n"
	"  --json           show them as {\"zone\": ..., \"scheme\": ...,\n"
	"                   \"history_max\": ..., \"history_days\": ...}\n"
	"  -v, --verbose    show them after setting them\n"
};
