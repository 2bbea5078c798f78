/* arena.h -- memory for the table's nodes and value blocks: size classes in large chunks, on huge pages where the kernel has them. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Why not malloc(): a table of a million names is a million small blocks
 * written once at start-up and read at random by every query.  On 4 KiB
 * pages, the first touch of each page (a page fault, and on a virtual
 * machine a shadow or nested page-table fill) and the TLB misses of random
 * lookups dominate both the load time and the lookup time.  Chunks of 2 MiB
 * advised MADV_HUGEPAGE are one fault and one TLB entry each.  Blocks also
 * carry no allocator header (size classes of 8 octets; the caller gives
 * the size back on free).
 *
 * One owner, one thread: the table's writer (the sync thread) allocates and
 * frees; readers only read blocks, which are freed only after a grace
 * period (table_reclaim).  Freed blocks go on a free list of their class
 * and are reused; chunks go back to the system only in arena_destroy().
 * Blocks larger than ARENA_MAX come from malloc().  In AddressSanitizer
 * builds every block comes from malloc(), so that ASan sees each one.
 */

#define ARENA_ALIGN	8		/* lfht nodes need 8 (flag bits) */
#define ARENA_MAX	1024		/* larger blocks: malloc() */
#define ARENA_CLASSES	(ARENA_MAX / ARENA_ALIGN)

typedef struct arena_chunk arena_chunk_t;

typedef struct {
	void *free[ARENA_CLASSES];	/* per size class, linked through word 0 */
	uint8_t *cur;			/* bump allocation in the newest chunk */
	size_t left;			/* octets left there */
	arena_chunk_t *chunks;		/* every chunk, newest first */
	size_t next_size;		/* size of the next chunk */
	size_t mapped;			/* octets in chunks */
} arena_t;

/*! An empty arena (no memory yet).  hint: blocks expected, for sizing. */
void arena_init(arena_t *a, size_t hint);

/*! A block of size octets (> 0), 8-aligned, or NULL. */
void *arena_alloc(arena_t *a, size_t size);

/*! Give back a block allocated with this size (NULL is fine). */
void arena_free(arena_t *a, void *p, size_t size);

/*! Free every chunk; blocks from malloc() must have been freed already. */
void arena_destroy(arena_t *a);
