/* ent.c -- the empty non-terminals of one store snapshot (NODATA, not NXDOMAIN). */
/* SPDX-License-Identifier: MIT */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ent.h"

#define ENT_MIN_SLOTS	64

typedef struct {
	uint64_t hash;		/* 0: empty slot */
	size_t off;		/* name in the arena */
	int64_t until;		/* latest expiry below the name */
	uint8_t len;
} ent_slot_t;

struct ent {
	ent_slot_t *slots;
	size_t mask;		/* slots - 1; slots is a power of two */
	size_t used;
	uint8_t *arena;
	size_t arena_len, arena_cap;
};

/* FNV-1a, never 0 (0 marks an empty slot). */
static uint64_t name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= UINT64_C(1099511628211);
	}
	return h != 0 ? h : 1;
}

static ent_slot_t *find_slot(const ent_t *e, const uint8_t *name, size_t len,
                             uint64_t h)
{
	size_t i = (size_t)h & e->mask;
	for (;;) {
		ent_slot_t *s = &e->slots[i];
		if (s->hash == 0) {
			return s;
		}
		if (s->hash == h && s->len == len &&
		    memcmp(e->arena + s->off, name, len) == 0) {
			return s;
		}
		i = (i + 1) & e->mask;
	}
}

static int grow_slots(ent_t *e)
{
	size_t n = (e->mask + 1) * 2;
	ent_slot_t *old = e->slots;
	size_t old_n = e->mask + 1;
	e->slots = calloc(n, sizeof(*e->slots));
	if (e->slots == NULL) {
		e->slots = old;
		return AZ_ENOMEM;
	}
	e->mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		if (old[i].hash == 0) {
			continue;
		}
		size_t j = (size_t)old[i].hash & e->mask;
		while (e->slots[j].hash != 0) {
			j = (j + 1) & e->mask;
		}
		e->slots[j] = old[i];
	}
	free(old);
	return AZ_EOK;
}

/* Raise the expiry recorded for name (inserting it if new). */
static int note(ent_t *e, const uint8_t *name, size_t len, int64_t until)
{
	uint64_t h = name_hash(name, len);
	ent_slot_t *s = find_slot(e, name, len, h);
	if (s->hash != 0) {
		if (until > s->until) {
			s->until = until;
		}
		return AZ_EOK;
	}
	/* Keep the load under one half: probes stay short. */
	if ((e->used + 1) * 2 > e->mask + 1) {
		if (grow_slots(e) != AZ_EOK) {
			return AZ_ENOMEM;
		}
		s = find_slot(e, name, len, h);
	}
	if (e->arena_len + len > e->arena_cap) {
		size_t cap = e->arena_cap ? e->arena_cap * 2 : 4096;
		while (cap < e->arena_len + len) {
			cap *= 2;
		}
		uint8_t *p = realloc(e->arena, cap);
		if (p == NULL) {
			return AZ_ENOMEM;
		}
		e->arena = p;
		e->arena_cap = cap;
	}
	memcpy(e->arena + e->arena_len, name, len);
	*s = (ent_slot_t){ .hash = h, .off = e->arena_len, .until = until,
	                   .len = (uint8_t)len };
	e->arena_len += len;
	e->used++;
	return AZ_EOK;
}

typedef struct {
	ent_t *ent;
	unsigned corrupt;
} build_ctx_t;

static int build_one(const uint8_t *name, az_rec_iter_t *rec, void *arg)
{
	build_ctx_t *ctx = arg;
	if (name == NULL || rec == NULL) {
		ctx->corrupt++;		/* served as absent: no ancestors either */
		return 0;
	}
	int64_t until = INT64_MIN;
	az_val_t v;
	while (az_rec_iter_next(rec, &v)) {
		if (v.expire > until) {
			until = v.expire;
		}
	}
	if (until == INT64_MIN) {
		return 0;
	}
	/* Every proper ancestor but the root: name is valid wire (checked by
	 * the walk), so the label walk ends on its terminal zero octet. */
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN);
	const uint8_t *p = name;
	for (;;) {
		len -= 1 + (size_t)p[0];
		p += 1 + p[0];
		if (p[0] == 0) {
			break;
		}
		if (note(ctx->ent, p, len, until) != AZ_EOK) {
			return AZ_ENOMEM;
		}
	}
	return 0;
}

int ent_build(az_reader_t *rd, ent_t **out, unsigned *corrupt)
{
	if (rd == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	ent_t *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return AZ_ENOMEM;
	}
	e->slots = calloc(ENT_MIN_SLOTS, sizeof(*e->slots));
	if (e->slots == NULL) {
		free(e);
		return AZ_ENOMEM;
	}
	e->mask = ENT_MIN_SLOTS - 1;

	build_ctx_t ctx = { .ent = e };
	int ret = az_reader_foreach(rd, NULL, build_one, &ctx);
	if (corrupt != NULL) {
		*corrupt = ctx.corrupt;
	}
	if (ret != AZ_EOK) {
		ent_free(e);
		return ret;
	}
	*out = e;
	return AZ_EOK;
}

void ent_free(ent_t *e)
{
	if (e == NULL) {
		return;
	}
	free(e->slots);
	free(e->arena);
	free(e);
}

int64_t ent_until(const ent_t *e, const uint8_t *name, size_t len)
{
	if (e == NULL || len == 0 || len > AZ_NAME_MAXLEN) {
		return INT64_MIN;
	}
	const ent_slot_t *s = find_slot(e, name, len, name_hash(name, len));
	return s->hash != 0 ? s->until : INT64_MIN;
}

size_t ent_count(const ent_t *e)
{
	return e != NULL ? e->used : 0;
}
