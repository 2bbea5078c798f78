/* obs.h -- per-name query observation: lock-free counters, written out by the sync thread. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tnode;
typedef struct table table_t;

/*
 * One pool per source (per store per knotd), made before the sync thread
 * starts and freed after it stopped.  A name is observed in a *slot* of
 * the pool: the first query of a name with values claims one (an atomic
 * bit in the pool's bitmap, then a compare-and-swap of the node's 'obs'
 * word from 0 to the slot's number), later queries of the name count
 * into it with relaxed atomics.  Unqueried names cost only the node's
 * 4-octet word (and the 8 of its publication time, table.h).  When
 * every slot is taken, queries of names without a slot are counted as
 * 'unobserved' and nothing else happens.
 *
 * A node's 'obs' word: 0 = no slot yet, OBS_DEAD = the node left the
 * table (never claim again), otherwise the slot's number (index + 1).
 * The sync thread detaches a slot (exchanging the word) when the name
 * gets a new publication or loses its values, and frees it after a grace
 * period (obs_reclaim()): a query thread that loaded the slot number
 * before the exchange may still count into it until then, never after.
 * A freed slot is all zero again.
 */
typedef struct obs obs_t;

#define OBS_NONE	0u
#define OBS_DEAD	UINT32_MAX

/* What a query of a name with values got. */
typedef enum {
	OBS_SERVED = 0,	/* the values (TXT or ANY) */
	OBS_NODATA,	/* another type */
	OBS_NXDOMAIN,	/* every value had expired */
} obs_answer_t;

/* One query as the hook saw it. */
typedef struct {
	uint8_t family;		/* 4, 6 (0: no address) */
	uint8_t addr[16];	/* IPv4 in the first 4 octets */
	bool tcp;		/* not UDP (TCP, TLS, QUIC) */
	bool dnssec_ok;		/* DO bit */
	bool case_mixed;	/* the question's name had upper case */
	unsigned thread_id;	/* knotd's worker number */
} obs_query_t;

/*!
 * A pool of 'slots' slots (names observed at once).  Allocates and
 * touches all of its memory now, so that no query pays a page fault.
 * \return NULL when out of memory or slots is 0.
 */
obs_t *obs_new(uint32_t slots);

/*! Free the pool.  Nothing may use it any more (the thread has ended). */
void obs_free(obs_t *o);

/*** Query path: any query thread, under rcu_read_lock(); no locks, no
 *** allocation, no system calls (one vDSO clock read). ***/

/*!
 * The slot to count a query of node n in (n has a value block, possibly
 * all expired, and was found in a table under the current read
 * section), claiming one on the first query of a publication.
 * \return its number, or 0: not observed (the pool is full: counted as
 * unobserved; or n is leaving the table).  Cheap when 0, so that the
 * hook gathers what obs_hit() needs only for an observed name.
 */
uint32_t obs_slot(obs_t *o, const struct tnode *n, unsigned thread_id);

/*! Count a query and what it got in slot num (from obs_slot(), same
 * read section). */
void obs_hit(obs_t *o, uint32_t num, const obs_query_t *q, obs_answer_t ans);

/*!
 * Remember a query that found no live value at name (NXDOMAIN or NODATA
 * from the module's side): if the name is published shortly after, the
 * sync thread counts it as "asked too early".  Fixed rings (one per few
 * knotd threads, thread_id picks it): under a flood the oldest are
 * overwritten (counted as lost).
 */
void obs_miss(obs_t *o, unsigned thread_id, const uint8_t *name,
              size_t name_len);

/*** Sync thread only (the table's writer). ***/

/*!
 * Take the slot of *word (a node's 'obs') off the node, leaving 'to'
 * (OBS_NONE: a fresh publication may be observed anew; OBS_DEAD: the
 * node leaves the table).  The slot is freed after the next grace period.
 * Call before the change is made visible to readers.  o may be NULL.
 */
void obs_detach(obs_t *o, uint32_t *word, uint32_t to);

/*!
 * A name got a new publication (node n, now in the table): count the
 * misses of the ring for that name in the last few minutes as "asked too
 * early" (claiming a slot for n if there are any).  o may be NULL.
 */
void obs_published(obs_t *o, struct tnode *n);

/*! Slots detached and not yet freed? (then a grace period is due) */
bool obs_pending(const obs_t *o);

/*! Free the detached slots.  Precondition: a grace period has passed
 * since they were detached. */
void obs_reclaim(obs_t *o);

/*!
 * After a full load replaced table old by new (unpublished, a grace
 * period passed: no reader holds old's nodes): move each slot attached
 * to a node of old to the node of the same name in new if its values
 * are the same publication, else free it.
 */
void obs_adopt(obs_t *o, table_t *old, table_t *new);

/*!
 * Write the observation file at path if anything changed since the last
 * write (or force).  Under no lock; reads the table's nodes through the
 * slots (call outside table_reclaim(), on the writer thread).
 * \return AZ_EOK, or the store's code of the failed write (logged by the
 * caller once).
 */
int obs_write(obs_t *o, const char *path, bool force);

/*! Milliseconds until the sync thread should look at the pool again
 * (shorter while names are being observed). */
int64_t obs_interval_ms(const obs_t *o);
