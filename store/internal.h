/* internal.h -- what store.c lends the store's other files (history.c): LMDB handles of a transaction or snapshot. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <lmdb.h>
#include <stdbool.h>

#include "store.h"

/* The LMDB transaction of a write transaction or of a read snapshot. */
MDB_txn *az_txn_mdb(az_txn_t *txn);
MDB_txn *az_reader_mdb(az_reader_t *rd);

/* Write transactions: something was written that must be committed. */
void az_txn_touch(az_txn_t *txn);

/* LMDB or errno code -> AZ_E* (store.c's one mapping). */
int az_map_err(int ret);
