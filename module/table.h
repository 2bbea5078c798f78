/* table.h -- RCU hash of TXT answers, fed from the LMDB store. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rcu.h"		/* before rculfhash.h: it maps the flavour */
#include <urcu/rculfhash.h>

#include "obs.h"
#include "store.h"

/*
 * The values of one name as the query path sees them.  Immutable once
 * published: the writer swaps in a new block and retires the old one.
 * data holds count entries of { i64 expiry, u16 rdata length (both
 * native, unaligned), the TXT rdata }: the value's text already cut into
 * character-strings of at most 255 octets, each after its length octet
 * (one string for an ACME token; several for a long dns-persist-01
 * record), so the query path copies it out as it is.  Entries are in
 * canonical RR order (RFC 4034 6.3: the rdata octet by octet, a prefix
 * first) and distinct: the query path copies them out in one pass into
 * an RRset that needs no sorting.
 */
typedef struct {
	uint16_t count;		/* at most AZ_MAX_VALUES */
	uint8_t data[];
} tvals_t;

#define TVAL_HDR	(sizeof(int64_t) + sizeof(uint16_t))
#define TVAL_EXPIRE(p)	({ int64_t e_; memcpy(&e_, (p), sizeof(e_)); e_; })
#define TVAL_RDLEN(p)	({ uint16_t l_; memcpy(&l_, (p) + sizeof(int64_t), sizeof(l_)); (size_t)l_; })
#define TVAL_RDATA(p)	((p) + TVAL_HDR)	/* TXT rdata: u8 len, text, ... */
#define TVAL_NEXT(p)	((p) + TVAL_HDR + TVAL_RDLEN(p))

/*
 * One owner name.  Readers see 'vals' through table_vals() and 'ent'
 * through table_ent(); everything else is fixed at creation.  A node
 * made for a name with values carries its first value block in the same
 * allocation, after the name (TNODE_INLINE): one allocation per name
 * instead of two.  Later blocks are allocated on their own; the inline
 * one is never freed by itself, only with the node.
 */
typedef struct tnode {
	struct cds_lfht_node lf;
	tvals_t *vals;		/* RCU pointer; NULL: no values (only an ENT) */
	int64_t min_expire;	/* earliest expiry in vals (writer only) */
	int64_t published;	/* newest publication in vals, UNIX ms, 0:
				 * unknown (writer only) */
	uint32_t ent;		/* names below this one with values (atomic) */
	uint32_t heap;		/* index in the expiry heap (writer only) */
	uint32_t obs;		/* observation slot (obs.h; atomic) */
	uint8_t flags;		/* TNODE_INLINE */
	uint8_t name_len;
	uint8_t name[];
} tnode_t;

#define TNODE_INLINE	0x01	/* the allocation holds a first vals block */

typedef struct table table_t;

/*** Writer side: the sync thread only (one writer per table). ***/

/*! New empty table sized for about 'hint' names. */
table_t *table_new(size_t hint);

/*!
 * Free a table.  Precondition: no reader can reach it any more (it was
 * unpublished and a grace period has passed, or it was never published).
 * Called from a registered RCU thread outside any read-side section.
 */
void table_free(table_t *t);

/*!
 * Replace the values of name with the live ones of rec (rec == NULL or no
 * live value: remove them), sorted in canonical order, duplicates merged
 * (O(n log n) in the values).  Keeps the empty non-terminal counts of the
 * ancestors.  Old blocks are retired, not freed: see table_reclaim().
 * \return AZ_EOK or AZ_ENOMEM (the table is unchanged then).
 */
int table_set(table_t *t, const uint8_t *name, az_rec_iter_t *rec, int64_t now);

/*! Drop every value that expired by now. \return number of values dropped. */
size_t table_expire(table_t *t, int64_t now);

/*! The earliest expiry of any value in the table, INT64_MAX if none. */
int64_t table_next_expiry(const table_t *t);

/*! Number of live values (the "tokens" counter). */
size_t table_values(const table_t *t);

/*! Number of nodes with values. */
size_t table_names(const table_t *t);

/*!
 * Free what table_set() and table_expire() retired.  Waits for a grace
 * period first: must run on a registered thread outside a read section.
 */
void table_reclaim(table_t *t);

/*** Reader side: call under rcu_read_lock(), copy out before unlocking. ***/

/*! The node of a lower-case wire name, or NULL. */
const tnode_t *table_lookup(table_t *t, const uint8_t *name, size_t name_len);

/*! The values of n (NULL: none, an ENT only).  Under rcu_read_lock(). */
static inline const tvals_t *table_vals(const tnode_t *n)
{
	const tvals_t *v = rcu_dereference(n->vals);
	if (v != NULL) {
		az_consume(v);
	}
	return v;
}

/*! How many names below n have values (> 0: n is an empty non-terminal). */
static inline uint32_t table_ent(const tnode_t *n)
{
	/* A plain counter: a reader racing an update sees the old or the
	 * new count, either of which was true a moment ago. */
	return __atomic_load_n(&n->ent, __ATOMIC_RELAXED);
}

/*!
 * Observe the names of t in o (NULL: not observed; the default).  A full
 * load sets it once the new table is loaded, before publishing it, so
 * that loading every name is not taken for a million new publications.
 */
void table_observe(table_t *t, obs_t *o);

/*!
 * Does new (a value block) hold a value whose text old does not?  Either
 * may be NULL.  How a new publication is told for values without a
 * publication time (records written before format 3).
 */
bool table_fresh(const tvals_t *old, const tvals_t *new);

/*! Hash of a lower-case wire name (also the observation's key). */
uint64_t table_hash(const uint8_t *name, size_t len);
