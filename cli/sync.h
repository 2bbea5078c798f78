/* sync.h -- 'sync': the live values and tombstones of two stores, the last writer of each value wins, and the fixes either side needs. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "peers.h"
#include "proto.h"

/* What one store holds for one (owner, value): a live copy, a tombstone, both. */
typedef struct {
	uint8_t *owner;			/* wire form, allocated with the value */
	char *value;
	size_t len;
	bool live;
	int64_t expire, published;	/* live: UNIX s, UNIX ms */
	bool tomb;
	az_tomb_t t;
} sync_item_t;

typedef struct {
	sync_item_t *v;
	size_t n, cap;
	bool oom;
} sync_set_t;

/* Add what a store holds (expired values and tombstones past their keep are left out). */
void sync_add(sync_set_t *s, char kind, const uint8_t *owner, const char *value,
              size_t len, int64_t a, int64_t b, int64_t now);

/*! The live values and tombstones of a read snapshot into s.  \return AZ_*. */
int sync_read(az_reader_t *rd, sync_set_t *s, int64_t now);

/* Every dump line of s into b (value, gone). */
void sync_dump(const sync_set_t *s, proto_buf_t *b);

/* Sort s and merge the live copy and the tombstone of each (owner, value). */
void sync_sort(sync_set_t *s);
void sync_free(sync_set_t *s);

/* Counts of a plan, for the report. */
typedef struct {
	size_t added_there, removed_there, added_here, removed_here;
} sync_counts_t;

/*!
 * Compare here and there (both sorted): for each (owner, value) the newest
 * event wins -- a publication or a deletion, a deletion on a tie -- and
 * each side gets the 'put' or 'drop' lines (proto_put_state) that make it
 * hold the winner.  report (may be NULL) gets one line per value added or
 * removed, with peer naming the other side.
 */
void sync_plan(const sync_set_t *here, const sync_set_t *there, proto_buf_t *to_here,
               proto_buf_t *to_there, sync_counts_t *c, proto_buf_t *report,
               const char *peer);

/*!
 * Apply put and drop lines (len octets of buf, each ending in '\n') in txn.
 * \return RC_OK, or RC_INPUT (a bad line, message printed) or RC_STORE.
 */
int sync_apply(cli_t *cli, az_txn_t *txn, char *buf, size_t len, int64_t now);

/*!
 * 'sync PEER' with one peer p (peers.h): its dump, the plan, its fixes in
 * one transaction there, ours here; prints each value fixed and a summary
 * line.  \return RC_OK, or the exit status with the message printed.
 */
int sync_with(cli_t *cli, const peer_t *p);
