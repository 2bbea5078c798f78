/* write.c -- writing the store: one transaction per command, then read-your-writes. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db.h"
#include "fanout.h"
#include "hist.h"
#include "msg.h"
#include "names.h"
#include "wait.h"
#include "write.h"

/*
 * The peers' part of one write: the batch as the protocol carries it,
 * sent to every peer while this host writes its own store.
 */
typedef struct {
	peers_t *ps;			/* NULL: no peers (or --peers none) */
	bool local;			/* this host has a store to write */
	proto_head_t head;
	proto_buf_t buf;
	fanout_t *fo;
} fan_t;

int64_t write_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Load the peers (unless --peers none) and decide whether this host
 * writes a store of its own: a host without one but with peers (an ACME
 * client's host) only sends.  \return RC_OK or RC_STORE, message printed.
 */
static int fan_init(cli_t *cli, fan_t *f)
{
	struct stat sb;
	int rc;

	memset(f, 0, sizeof(*f));
	f->local = true;
	if (cli->peers == PEERS_NONE) {
		return RC_OK;
	}
	f->ps = calloc(1, sizeof(*f->ps));
	if (f->ps == NULL) {
		cli_err(cli, "out of memory");
		return RC_STORE;
	}
	rc = peers_load(cli, f->ps);
	cli->peered = cli->peered || (rc == RC_OK && f->ps->n > 0);
	if (rc != RC_OK || f->ps->n == 0) {
		free(f->ps);
		f->ps = NULL;
		return rc;
	}
	f->local = !(stat(cli->db, &sb) != 0 && errno == ENOENT);
	if (!proto_new_id(f->head.id)) {
		cli_err(cli, "cannot make a batch id (%s)", strerror(errno));
		return RC_STORE;
	}
	return RC_OK;
}

/*
 * fan_init(), then on a host with a store write_begin().  \return RC_OK,
 * or the error printed with nothing left to free.
 */
static int fan_begin(cli_t *cli, fan_t *f, az_store_t **store, az_txn_t **txn,
                     az_config_t *cfg)
{
	int rc = fan_init(cli, f);

	if (rc == RC_OK && f->local) {
		rc = write_begin(cli, store, txn, cfg);
	}
	if (rc != RC_OK) {
		free(f->ps);
		f->ps = NULL;
	}
	return rc;
}

/*
 * The first line of the batch: a host with a store relays its own write
 * (with its settings, which the peer must share, and its clock); a host
 * without one asks its peer to write and pass it on.
 */
static void fan_head(fan_t *f, const az_config_t *cfg, int64_t time_ms)
{
	if (f->ps == NULL) {
		return;
	}
	f->head.time_ms = time_ms;
	f->head.relay = f->local;
	if (f->local && cfg != NULL && cfg->has_zone) {
		f->head.has_zone = true;
		az_name_to_text(cfg->zone, f->head.zone, sizeof(f->head.zone));
		f->head.scheme = cfg->scheme;
	}
	proto_put_head(&f->buf, &f->head);
}

/* name as given here; the peer gets names_for_peer()'s form of it. */
static void fan_op(fan_t *f, const cli_t *cli, bool add, const char *name,
                   const char *value, int64_t ttl)
{
	char buf[AZ_NAME_TXTLEN];
	if (f->ps != NULL) {
		proto_put_op(&f->buf, add, names_for_peer(cli, name, buf, sizeof(buf)),
		             value, ttl);
	}
}

static int fan_start(cli_t *cli, fan_t *f)
{
	if (f->ps == NULL) {
		return RC_OK;
	}
	proto_put_end(&f->buf, &f->head);
	return fanout_start(cli, f->ps, &f->buf, f->head.id, &f->fo);
}

/* Collect the peers' answers (if started), free f; rc: the local outcome. */
static int fan_finish(cli_t *cli, fan_t *f, int rc, void (*lines)(const char *text))
{
	int prc = fanout_finish(cli, f->fo, lines);

	f->fo = NULL;
	proto_buf_free(&f->buf);
	free(f->ps);
	f->ps = NULL;
	return rc != RC_OK ? rc : prc;
}

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

/*
 * One add or delete, as every host of a fan-out writes it: an added value
 * is published at time_ms (the batch's time, the same on every peer), a
 * deleted one leaves a tombstone of that time (for 'sync').
 */
static int write_one(const cli_t *cli, az_txn_t *txn, const uint8_t *owner, bool add,
                     const char *value, int64_t expire, int64_t time_ms,
                     unsigned *removed)
{
	size_t len = value != NULL ? strlen(value) : 0;

	*removed = 0;
	if (add) {
		az_val_t v = { .expire = expire, .published = time_ms,
		               .len = (uint16_t)len, .data = (const uint8_t *)value };
		return az_txn_put(txn, owner, &v, time_ms / 1000);
	}
	/* A value deleted here that was never here: only with peers can a
	 * copy be elsewhere, which a later sync must not bring back. */
	return az_txn_del_tomb(txn, owner, (const uint8_t *)value, len, time_ms,
	                       cli->peered, removed);
}

/* Map (by the committed cfg) and apply ops inside txn; *changed if anything was. */
static int apply_ops(cli_t *cli, az_txn_t *txn, const az_config_t *cfg,
                     cli_op_t *ops, size_t n, unsigned flags, int64_t now_ms,
                     bool *changed)
{
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
	for (size_t i = 0; i < n; i++) {
		cli_op_t *op = &ops[i];
		op->expire = now_ms / 1000 + op->ttl;
		ret = write_one(cli, txn, op->owner, op->add, op->value, op->expire, now_ms,
		                &op->removed);
		*changed = *changed || op->add || op->removed > 0;
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
	int64_t deadline, now_ms = write_now_ms();
	fan_t f;
	int rc;

	/* Every argument is valid before the write lock is taken. */
	rc = hist_client(cli);
	if (rc == RC_OK) {
		rc = wait_parse(cli, &w);
	}
	if (rc == RC_OK) {
		rc = fan_begin(cli, &f, &store, &txn, &cfg);
	}
	if (rc != RC_OK) {
		return rc;
	}
	if (f.local) {
		rc = apply_ops(cli, txn, &cfg, ops, n, flags, now_ms, &changed);
	} else if (w.n > 0 || w.learn) {
		/* Without the store's settings there is no owner name to ask for. */
		cli_warn("no store here: --wait is left to the peers' own checks");
		w.n = 0;
		w.learn = false;
	}
	/* Checked and written here (not yet committed): now the peers. */
	if (rc == RC_OK) {
		fan_head(&f, f.local ? &cfg : NULL, now_ms);
		for (size_t i = 0; i < n; i++) {
			fan_op(&f, cli, ops[i].add, ops[i].name, ops[i].value, ops[i].ttl);
		}
		rc = fan_start(cli, &f);
	}
	/* Deleting what is not there succeeds: cleanup hooks may run twice. */
	if (rc == RC_OK && f.local) {
		rc = write_commit(cli, &store, &txn, changed);
	}
	rc = fan_finish(cli, &f, rc, NULL);
	deadline = az_mono_ms() + cli->propagation_ms;
	for (size_t i = 0; rc == RC_OK && i < n; i++) {
		if (ops[i].add) {
			rc = wait_value(cli, &w, deadline, cfg.has_zone ? cfg.zone : NULL,
			                ops[i].owner, ops[i].value);
		}
	}
	/* On an error before the commit, nothing is written. */
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}

/* Every operation of b into txn, names mapped by the committed cfg. */
static int apply_batch(cli_t *cli, az_txn_t *txn, const az_config_t *cfg,
                       const batch_t *b, int64_t now_ms, unsigned long *removed)
{
	uint8_t owner[AZ_NAME_MAXLEN];
	batch_op_t op;
	size_t pos = 0;
	int rc = RC_OK, ret;

	while (rc == RC_OK && batch_next(b, &pos, &op)) {
		unsigned k = 0;
		cli->line = op.line;
		rc = names_owner(cli, cfg, op.name, false, owner, NULL);
		if (rc != RC_OK) {
			break;
		}
		ret = write_one(cli, txn, owner, op.add, op.value, now_ms / 1000 + op.ttl,
		                now_ms, &k);
		if (ret != AZ_EOK) {
			rc = write_fail(cli, ret, op.add ? "add" : "delete", op.name);
		}
		*removed += k;
	}
	cli->line = 0;
	return rc;
}

int write_batch(cli_t *cli, const batch_t *b, int64_t time_ms,
                void (*lines)(const char *text), unsigned long *removed)
{
	az_config_t cfg;
	az_store_t *store = NULL;
	az_txn_t *txn = NULL;
	batch_op_t op;
	size_t pos = 0;
	fan_t f;
	int rc;

	*removed = 0;
	rc = fan_begin(cli, &f, &store, &txn, &cfg);
	if (rc != RC_OK) {
		return rc;
	}
	if (f.local) {
		rc = apply_batch(cli, txn, &cfg, b, time_ms, removed);
	}
	if (rc == RC_OK) {
		fan_head(&f, f.local ? &cfg : NULL, time_ms);
		while (f.ps != NULL && batch_next(b, &pos, &op)) {
			fan_op(&f, cli, op.add, op.name, op.value, op.ttl);
		}
		rc = fan_start(cli, &f);
	}
	if (rc == RC_OK && f.local) {
		rc = write_commit(cli, &store, &txn, b->nadd > 0 || *removed > 0);
	}
	rc = fan_finish(cli, &f, rc, lines);
	/* On any error before the commit, nothing is written here. */
	az_txn_abort(txn);
	az_store_close(store);
	return rc;
}
