/* internal.h -- what store.c lends the store's other files (tomb.c, history.c): the LMDB handles under a transaction or a snapshot (not for callers outside store/). */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <lmdb.h>
#include <stdbool.h>

#include "store.h"

/*!
 * The LMDB write transaction of t and (tok not NULL) the dbi of "tok".
 * A caller that writes through it calls az_txn_touch() so that the
 * transaction is committed.
 */
void az_txn_lmdb(az_txn_t *t, MDB_txn **txn, MDB_dbi *tok);

/*! Mark t as changed: committed even if no record changed (the change
 * log gets an entry naming no name). */
void az_txn_touch(az_txn_t *t);

/*! The LMDB read transaction of a snapshot. */
MDB_txn *az_reader_mdb(az_reader_t *rd);

/*! LMDB or errno code -> AZ_E* (store.c's one mapping). */
int az_map_err(int ret);
