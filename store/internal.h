/* internal.h -- what the store's own files share beyond store.h: the LMDB handles under a transaction or a snapshot (not for callers outside store/). */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <lmdb.h>

#include "store.h"

/*!
 * The LMDB write transaction of t and the dbi of "tok", for the store's
 * own files (tomb.c).  A caller that writes through it calls
 * az_txn_touch() so that the transaction is committed.
 */
void az_txn_lmdb(az_txn_t *t, MDB_txn **txn, MDB_dbi *tok);

/*! Mark t as changed (committed even if no record changed; logs no name). */
void az_txn_touch(az_txn_t *t);

/*! The LMDB read transaction of a snapshot. */
MDB_txn *az_reader_lmdb(az_reader_t *rd);
