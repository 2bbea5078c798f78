/* write.c -- writing the store: one transaction per command, then read-your-writes. */
/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "hist.h"
#include "msg.h"
#include "names.h"
#include "wait.h"
#include "write.h"

int write_fail(const cli_t *cli, int ret, const char *verb, const char *name)
{
	char q[CLI_QUOTE_MAX];

	/* A record that does not decode can only be cleared whole: say how. */
	if (ret == AZ_ECORRUPT) {
		cli_err(cli, "cannot %s at '%s' (corrupt record; 'acmezone del "
		        "NAME' removes all of it)", verb, quote(name, q));
	} else {
		cli_store_err(cli, ret, "cannot %s at '%s'", verb, quote(name, q));
	}
	return (ret == AZ_EINVAL || ret == AZ_ETOOMANY || ret == AZ_E2BIG) ?
	       RC_INPUT : RC_STORE;
}

int write_begin(cli_t *cli, az_store_t **store, az_txn_t **txn, az_config_t *cfg)
{
	int ret, rc;

	*txn = NULL;
	rc = db_open(cli, 0, store);
	if (rc != RC_OK) {
		return rc;
	}
	ret = az_txn_begin(*store, txn);
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot begin a write transaction on '%s'",
		              cli->qdb);
		*txn = NULL;
		rc = RC_STORE;
	} else if (cfg != NULL && (ret = az_txn_get_config(*txn, cfg)) != AZ_EOK) {
		cli_store_err(cli, ret, "cannot read the settings of '%s'", cli->qdb);
		az_txn_abort(*txn);
		*txn = NULL;
		rc = RC_STORE;
	}
	if (rc != RC_OK) {
		az_store_close(*store);
		*store = NULL;
	}
	return rc;
}

/*
 * Make the committed write visible to the servers before returning, so a
 * hook can tell the ACME server to look right away: ring the doorbell in
 * the sync file and wait for every live reader to acknowledge txnid.  The
 * write is committed whatever happens here, so problems are warnings --
 * except a server that has the store but says it cannot read it: the
 * write is not answered, which must not look like success (RC_DNS).
 */
static int wait_readers(const cli_t *cli, uint64_t txnid)
{
	char secs[CLI_TIME_MAX];
	az_notify_t *nt = NULL;
	pid_t late = 0;
	int ret, rc = RC_OK;

	if (cli->no_wait) {
		return RC_OK;
	}
	ret = az_notify_open(&nt, cli->db, false);
	if (ret == AZ_ENOENT) {
		return RC_OK;	/* no sync file: nobody to wait for */
	}
	if (ret != AZ_EOK) {
		cli_warn("cannot open the sync file of '%s' (%s); not waiting "
		         "for readers", cli->qdb, az_strerror(ret));
		return RC_OK;
	}
	az_notify_ring(nt);
	ret = az_notify_wait(nt, txnid, cli->wait_ms, &late);
	if (ret == AZ_EUNSERVED) {
		cli_err(cli, "the write is committed, but the server with pid %ld "
		        "cannot read '%s' (%s) and does not serve it", (long)late,
		        cli->qdb, strerror(az_errno()));
		rc = RC_DNS;
	} else if (ret == AZ_EBUSY) {
		fmt_seconds(cli->wait_ms, secs);
		cli_warn("the reader with pid %ld has not confirmed transaction "
		         "%llu within %s", (long)late, (unsigned long long)txnid, secs);
	} else if (ret != AZ_EOK) {
		cli_warn("cannot wait for the readers of '%s' (%s)", cli->qdb,
		         az_strerror(ret));
	}
	az_notify_close(nt);
	return rc;
}

/*
 * A commit that changed nothing writes no new transaction, so there is
 * nothing new for a reader to acknowledge.
 */
int write_commit(cli_t *cli, az_store_t **store, az_txn_t **txn, bool changed)
{
	uint64_t txnid = 0;
	int64_t t0 = az_mono_us();
	int ret = az_txn_commit(*txn, &txnid);
	int64_t t1 = az_mono_us();

	*txn = NULL;
	if (ret != AZ_EOK) {
		cli_store_err(cli, ret, "cannot commit to '%s'", cli->qdb);
		return RC_STORE;
	}
	az_store_close(*store);
	*store = NULL;
	int rc = changed ? wait_readers(cli, txnid) : RC_OK;
	if (cli->verbose && changed) {
		/* Timing on stderr, like apply's progress: stdout stays the
		 * one line scripts read. */
		fprintf(stderr, "acmezone: %s: committed transaction %llu in %lld us, "
		        "acknowledged in %lld us\n", cli->cmd,
		        (unsigned long long)txnid, (long long)(t1 - t0),
		        (long long)(az_mono_us() - t1));
	}
	return rc;
}

/* Map (by the committed cfg) and apply ops inside txn; *changed if anything was. */
static int apply_ops(cli_t *cli, az_txn_t *txn, const az_config_t *cfg,
                     cli_op_t *ops, size_t n, unsigned flags, bool *changed)
{
	int64_t now;
	int rc, ret;

	if ((flags & WRITE_NEED_ZONE) && !cfg->has_zone) {
		db_no_zone(cli);
		return RC_STORE;
	}
	for (size_t i = 0; i < n; i++) {
		rc = names_owner(cli, cfg, ops[i].name, ops[i].strict, ops[i].owner,
		                 &ops[i].fallback);
		if (rc != RC_OK) {
			return rc;
		}
	}
	now = (int64_t)time(NULL);
	for (size_t i = 0; i < n; i++) {
		cli_op_t *op = &ops[i];
		size_t len = op->value != NULL ? strlen(op->value) : 0;
		if (op->add) {
			op->expire = now + op->ttl;
			ret = az_txn_add(txn, op->owner, (const uint8_t *)op->value,
			                 len, op->expire, now);
			*changed = true;
		} else {
			ret = az_txn_del(txn, op->owner, (const uint8_t *)op->value,
			                 len, &op->removed);
			*changed = *changed || op->removed > 0;
		}
		if (ret != AZ_EOK) {
			return write_fail(cli, ret, op->add ? "add" : "delete", op->name);
		}
	}
	/* The history in the same transaction: no event without its write. */
	return hist_ops(cli, txn, cfg, ops, n);
}

int write_ops(cli_t *cli, cli_op_t *ops, size_t n, unsigned flags)
{
	wait_servers_t w;
	az_config_t cfg;
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	bool changed = false;
	int64_t deadline;
	int rc;

	/* Every argument is valid before the write lock is taken. */
	rc = hist_client(cli);
	if (rc == RC_OK) {
		rc = wait_parse(cli, &w);
	}
	if (rc == RC_OK) {
		rc = write_begin(cli, &store, &txn, &cfg);
	}
	if (rc == RC_OK) {
		rc = apply_ops(cli, txn, &cfg, ops, n, flags, &changed);
	}
	/* Deleting what is not there succeeds: cleanup hooks may run twice. */
	if (rc == RC_OK) {
		rc = write_commit(cli, &store, &txn, changed);
	}
	deadline = az_mono_ms() + cli->propagation_ms;
	for (size_t i = 0; rc == RC_OK && i < n; i++) {
		if (ops[i].add) {
			rc = wait_value(cli, &w, deadline, ops[i].owner, ops[i].value);
		}
	}
	/* On an error before the commit, nothing is written. */
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}
