/* sync.h -- keeps an RCU table in step with the LMDB store, from a thread of its own. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <stdarg.h>
#include <stdint.h>

#include "table.h"

/*
 * One source per store file per process, shared by every module instance
 * that names that file (two instances coexist during a knotd reload;
 * several zones may share a store), found through the registry every
 * reader of the store uses (store/registry.h: one canonical spelling of
 * the path, device and inode).  The source owns the LMDB
 * environment -- LMDB forbids opening one file twice in a process -- the
 * table, and the thread that keeps the table in sync.
 */
typedef struct sync_src sync_src_t;

typedef struct {
	uint64_t applied;	/* newest transaction id served */
	uint64_t syncs;		/* sync events (incremental or full) */
	uint64_t full_loads;	/* of which full loads */
	uint64_t names;		/* names with live values */
	uint64_t tokens;	/* live values */
	uint64_t corrupt;	/* records skipped as corrupt (total seen) */
	uint64_t reads;		/* records read into the table (total): once
				 * per changed name per sync, once per name
				 * per full load */
} sync_stats_t;

/*
 * A user of a source (a module instance).  Callbacks run with the
 * source's client lock held, on the sync thread (or, for the first stats
 * of a client joining a running source, in sync_attach()): they must not
 * call back into sync_*.  The newest attached client receives log lines.
 */
typedef struct sync_client {
	void (*log)(struct sync_client *c, int priority, const char *msg);
	void (*stats)(struct sync_client *c, const sync_stats_t *st);
	struct sync_client *next;	/* owned by sync.c */
	uint32_t observe;		/* names to observe at once (obs.h);
					 * 0: off.  The first client of a
					 * source decides. */
} sync_client_t;

/*!
 * Attach c to the source for path, creating it (and starting its thread)
 * if this is the first user.  poll_ms is the fallback check interval (a
 * ring of the doorbell wakes the thread at once anyway).
 */
int sync_attach(const char *path, unsigned poll_ms, sync_client_t *c,
                sync_src_t **out);

/*!
 * Detach c.  The last detach stops the thread, waits for it, and frees
 * the table and the store: nothing is left running or pending.
 * Must not be called from inside an RCU read-side section.
 */
void sync_detach(sync_src_t *src, sync_client_t *c);

/*! The table to answer from, or NULL.  Call under rcu_read_lock(). */
table_t *sync_table(sync_src_t *src);

/*!
 * The observation pool of the source, or NULL (observation off).  Fixed
 * from sync_attach() to the last sync_detach(): any thread.
 */
obs_t *sync_obs(sync_src_t *src);

/*! Newest transaction id applied to the table (for tests). */
uint64_t sync_applied(sync_src_t *src);

/*!
 * For tests that damage the files under the thread: wait until the sync
 * thread is between rounds and keep it there until sync_release().  A
 * fault made meanwhile cannot land between a check of a file and the
 * reads of its map that follow (the window doc/reliability.md describes:
 * a module cannot close it).  The holder must not wait for the thread
 * (no acknowledged writes) until it releases.
 */
void sync_hold(sync_src_t *src);
void sync_release(sync_src_t *src);
