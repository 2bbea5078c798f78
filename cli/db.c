/* db.c -- opening the CLI's store and reading its settings. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "msg.h"
#include "names.h"

int db_open(cli_t *cli, unsigned flags, az_store_t **store)
{
	char q[CLI_QUOTE_MAX];
	const char *why = NULL;
	int ret;

	ret = az_store_open(store, cli->db, flags);
	if (ret == AZ_EOK) {
		return RC_OK;
	}
	*store = NULL;
	if (ret == AZ_ENOENT) {
		cli_err(cli, "no store at '%s' (create one with 'acmezone init')",
		        cli->qdb);
	} else if (ret == AZ_EINVAL && !(flags & AZ_OPEN_RDONLY) &&
	           getenv(AZ_ENV_MAPSIZE) != NULL) {
		cli_err(cli, "%s='%s' is not a map size (64K to 1024G)", AZ_ENV_MAPSIZE,
		        quote(getenv(AZ_ENV_MAPSIZE), q));
		return RC_INPUT;
	} else if ((ret == AZ_EPERM || ret == AZ_EIO) && !(flags & AZ_OPEN_RDONLY) &&
	           az_store_trust(cli->db, &why) != AZ_EOK && why != NULL) {
		/* Say which of the trust rules the file breaks. */
		cli_err(cli, "cannot open '%s' (not trusted: %s)", cli->qdb, why);
	} else {
		cli_store_err(cli, ret, "cannot open '%s'", cli->qdb);
	}
	return RC_STORE;
}

int db_read_config(cli_t *cli, az_config_t *cfg)
{
	return db_read_settings(cli, cfg, NULL);
}

/* Read the settings of the store (read-only). */
int db_read_settings(cli_t *cli, az_config_t *cfg, az_hist_limits_t *lim)
{
	az_store_t *store = NULL;
	az_reader_t *rd = NULL;
	int rc, ret;

	rc = db_open(cli, AZ_OPEN_RDONLY, &store);
	if (rc != RC_OK) {
		return rc;
	}
	ret = az_reader_begin(store, &rd);
	if (ret == AZ_EOK) {
		ret = az_reader_config(rd, cfg);
		if (ret == AZ_EOK && lim != NULL) {
			ret = az_reader_hist_limits(rd, lim);
		}
		az_reader_end(rd);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->qdb);
		rc = RC_STORE;
	}
	az_store_close(store);
	return rc;
}

void db_no_zone(const cli_t *cli)
{
	cli_err(cli, "'%s' has no challenge zone (set it with 'acmezone "
	        "config --zone ZONE', or give --zone)", cli->qdb);
}

int db_config(cli_t *cli, az_config_t *cfg, bool need_zone)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->scheme = AZ_SCHEME_READABLE;
	if (cli->zone != NULL) {
		rc = names_zone(cli, cli->zone, cfg);
	} else {
		rc = db_read_config(cli, cfg);
	}
	if (rc == RC_OK && cli->scheme != NULL) {
		rc = names_scheme(cli, cli->scheme, &cfg->scheme);
	}
	if (rc == RC_OK && need_zone && !cfg->has_zone) {
		db_no_zone(cli);
		rc = RC_STORE;
	}
	return rc;
}

/* What db_list() walks with. */
typedef struct {
	const cli_t *cli;
	bool (*keep)(const uint8_t *name);
	db_value_fn cb;
	void *ctx;
} walk_t;

/* One record: its values, or a warning for what does not decode. */
static int walk_record(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	walk_t *w = ctx;
	char text[AZ_NAME_TXTLEN];
	az_val_t val;

	/* The store passes name == NULL for a key that is no wire name. */
	if (name == NULL || az_name_wire_len(name, AZ_NAME_MAXLEN) == 0) {
		cli_warn("'%s' holds a record whose owner name does not decode; "
		         "skipped", w->cli->qdb);
		return 0;
	}
	if (w->keep != NULL && !w->keep(name)) {
		return 0;
	}
	az_name_to_text(name, text, sizeof(text));
	if (rec == NULL) {
		cli_warn("the record at '%s' in '%s' does not decode; skipped",
		         text, w->cli->qdb);
		return 0;
	}
	while (az_rec_iter_next(rec, &val)) {
		w->cb(w->ctx, text, &val);
	}
	return 0;
}

int db_list(cli_t *cli, const char *text, db_name_fn map,
            bool (*keep)(const uint8_t *name), db_value_fn cb, void *ctx, json_t *j)
{
	walk_t w = { .cli = cli, .keep = keep, .cb = cb, .ctx = ctx };
	uint8_t name[AZ_NAME_MAXLEN];
	az_store_t *store = NULL;
	az_reader_t *rd = NULL;
	az_config_t cfg;
	az_rec_iter_t it;
	int rc, ret;

	rc = db_open(cli, AZ_OPEN_RDONLY, &store);
	if (rc != RC_OK) {
		return rc;
	}
	ret = az_reader_begin(store, &rd);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read '%s'", cli->qdb);
		rd = NULL;
		rc = RC_STORE;
		goto out;
	}
	if (text != NULL) {
		/* The name maps by the settings of the snapshot it is read in. */
		ret = az_reader_config(rd, &cfg);
		if (ret != AZ_EOK) {
			cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->qdb);
			rc = RC_STORE;
			goto out;
		}
		rc = map(cli, &cfg, text, name);
		if (rc != RC_OK) {
			goto out;
		}
	}
	if (cli->json) {
		json_begin(j, '[');
	}
	if (text != NULL) {
		ret = az_reader_get(rd, name, &it);
		if (ret == AZ_EOK || ret == AZ_ECORRUPT) {
			ret = walk_record(name, ret == AZ_EOK ? &it : NULL, &w);
		} else if (ret == AZ_ENOENT) {
			ret = AZ_EOK;
		}
	} else {
		ret = az_reader_foreach(rd, NULL, walk_record, &w);
	}
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read '%s'", cli->qdb);
		rc = RC_STORE;
		goto out;
	}
	if (cli->json) {
		json_end(j);
	}
out:
	az_reader_end(rd);
	az_store_close(store);
	return rc;
}
