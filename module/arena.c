/* arena.c -- memory for the table's nodes and value blocks: size classes in large chunks, on huge pages where the kernel has them. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"

#define HUGE_SIZE	((size_t)2 << 20)	/* x86-64 transparent huge page */
#define FIRST_CHUNK	((size_t)64 << 10)	/* small tables stay small */

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_PASSTHROUGH 1
#endif
#endif

struct arena_chunk {
	arena_chunk_t *next;
	size_t size;		/* of the mapping, this header included */
};

void arena_init(arena_t *a, size_t hint)
{
	memset(a, 0, sizeof(*a));
	/* A table loaded with many names goes straight to huge chunks. */
	a->next_size = hint >= 16384 ? HUGE_SIZE : FIRST_CHUNK;
}

#ifdef ARENA_PASSTHROUGH

void *arena_alloc(arena_t *a, size_t size)
{
	(void)a;
	return malloc(size);
}

void arena_free(arena_t *a, void *p, size_t size)
{
	(void)a;
	(void)size;
	free(p);
}

#else

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

/*
 * A new chunk of a->next_size octets.  Huge chunks are mapped 2 MiB
 * aligned (map twice the size, unmap the slack) so that the kernel can
 * back each with one huge page; MADV_HUGEPAGE asks it to where
 * transparent huge pages are in "madvise" mode, and is harmless where they
 * are "always" or "never".
 */
static bool chunk_new(arena_t *a)
{
	size_t size = a->next_size;
	bool huge = size >= HUGE_SIZE;
	size_t map = huge ? size + HUGE_SIZE : size;
	uint8_t *p = mmap(NULL, map, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		return false;
	}
	if (huge) {
		uint8_t *start = (uint8_t *)round_up((uintptr_t)p, HUGE_SIZE);
		size_t head = (size_t)(start - p);
		if (head > 0) {
			munmap(p, head);
		}
		munmap(start + size, map - head - size);
		p = start;
		(void)madvise(p, size, MADV_HUGEPAGE);
	}
	arena_chunk_t *c = (arena_chunk_t *)p;
	c->next = a->chunks;
	c->size = size;
	a->chunks = c;
	a->cur = p + round_up(sizeof(*c), ARENA_ALIGN);
	a->left = size - round_up(sizeof(*c), ARENA_ALIGN);
	a->mapped += size;
	if (a->next_size < HUGE_SIZE) {
		a->next_size *= 2;
	}
	return true;
}

void *arena_alloc(arena_t *a, size_t size)
{
	if (size == 0 || size > ARENA_MAX) {
		return size == 0 ? NULL : malloc(size);
	}
	size = round_up(size, ARENA_ALIGN);
	void **head = &a->free[size / ARENA_ALIGN - 1];
	if (*head != NULL) {
		void *p = *head;
		*head = *(void **)p;
		return p;
	}
	if (a->left < size) {
		/* The rest of the old chunk (less than ARENA_MAX octets) is
		 * left unused. */
		if (!chunk_new(a)) {
			return NULL;
		}
	}
	void *p = a->cur;
	a->cur += size;
	a->left -= size;
	return p;
}

void arena_free(arena_t *a, void *p, size_t size)
{
	if (p == NULL) {
		return;
	}
	if (size > ARENA_MAX) {
		free(p);
		return;
	}
	size = round_up(size, ARENA_ALIGN);
	void **head = &a->free[size / ARENA_ALIGN - 1];
	*(void **)p = *head;
	*head = p;
}

#endif

void arena_destroy(arena_t *a)
{
	arena_chunk_t *c = a->chunks;
	while (c != NULL) {
		arena_chunk_t *next = c->next;
		munmap(c, c->size);
		c = next;
	}
	memset(a, 0, sizeof(*a));
}
