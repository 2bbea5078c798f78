/* write.h -- writing the store: one transaction per command, then read-your-writes. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "cli.h"

/* One add or delete, given the way a user or an ACME client names it. */
typedef struct {
	const char *name;		/* domain, _acme-challenge.<domain> or owner */
	const char *value;		/* NULL: every value at the name (del) */
	bool add;
	bool strict;			/* refuse a bare domain (lego's FQDN) */
	int64_t ttl;			/* add: lifetime in seconds */
	uint8_t owner[AZ_NAME_MAXLEN];	/* out: the owner name written */
	az_fallback_t fallback;		/* out: why it was hashed, if it was */
	int64_t expire;			/* out: the expiry written (add) */
	unsigned removed;		/* out: values removed (del) */
} cli_op_t;

/* write_ops() flags. */
enum {
	WRITE_NEED_ZONE = 1 << 0,	/* refuse a store without a challenge
					 * zone (hooks: no CNAME points at
					 * names written as given) */
};

/*!
 * Open the store for writing and begin a transaction (this takes LMDB's
 * write lock: call it only once every argument is validated), and read
 * the settings in it into *cfg (if not NULL): names map by what is
 * committed.  On success the caller ends *txn with write_commit() or
 * az_txn_abort(), then closes *store (NULL is fine).  \return RC_OK or
 * RC_STORE/RC_INPUT, message printed, *store and *txn NULL.
 */
int write_begin(cli_t *cli, az_store_t **store, az_txn_t **txn, az_config_t *cfg);

/*!
 * Commit *txn (consumed, set to NULL, whatever happens) and close *store
 * (set to NULL on success); then, if changed, wait for every reader of
 * the store to serve the transaction (problems there are warnings: the
 * write is committed).  \return RC_OK, or RC_STORE if the commit failed.
 */
int write_commit(cli_t *cli, az_store_t **store, az_txn_t **txn, bool changed);

/*!
 * A failed az_txn_add/del at name (as given): print why.  \return RC_INPUT
 * for what the store refuses as input (AZ_EINVAL, AZ_ETOOMANY values at
 * one name, AZ_E2BIG an answer over one DNS message), else RC_STORE.
 */
int write_fail(const cli_t *cli, int ret, const char *verb, const char *name);

/*! The wall clock in UNIX milliseconds (publication times). */
int64_t write_now_ms(void);

/*!
 * The whole write of add, del and the hooks.  Every name and value of
 * ops is checked by the caller; the --wait servers are parsed here, all
 * before the transaction begins.  Then, in one transaction (all or
 * none): map each name by the committed settings (names_owner), add or
 * delete; commit; wait for the readers (read-your-writes); then for the
 * --wait servers to serve every added value.  flags: WRITE_*.
 *
 * With peers (peers.h; not with --peers none), the same operations go to
 * every peer at once, after they are written here and before the commit
 * (fanout.h); the result is RC_OK only when the peers took them as the
 * policy asks.  A host with peers and no store sends only.
 * \return RC_OK or the exit status, message printed; on an error before
 * the commit nothing is written.
 */
int write_ops(cli_t *cli, cli_op_t *ops, size_t n, unsigned flags);

/*!
 * The write of apply and serve: every operation of b in one transaction,
 * adds expiring TTL seconds after time_ms (UNIX ms), then the peers as
 * write_ops() does (lines: as fanout_finish()).  *removed: values deleted.
 * \return as write_ops().
 */
int write_batch(cli_t *cli, const batch_t *b, int64_t time_ms,
                void (*lines)(const char *text), unsigned long *removed);
