/* nameset.c -- a set of wire names in insertion order: each changed name once. */

#include <stdlib.h>
#include <string.h>

#include "store.h"

#define MIN_SLOTS	64

/* FNV-1a over the name, never 0 in the top half (0 marks an empty slot). */
static uint32_t name_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 16777619u;
	}
	return h != 0 ? h : 1;
}

/* A slot: the hash in the high half, 1 + the name's offset in the low. */
#define SLOT(h, off)	(((uint64_t)(h) << 32) | (uint64_t)((off) + 1))
#define SLOT_HASH(s)	((uint32_t)((s) >> 32))
#define SLOT_OFF(s)	((size_t)(uint32_t)(s) - 1)

static uint64_t *find(const az_nameset_t *s, const uint8_t *name, size_t len,
                      uint32_t h)
{
	size_t i = h & s->mask;
	for (;;) {
		uint64_t *slot = &s->slots[i];
		if (*slot == 0) {
			return slot;
		}
		const uint8_t *other = s->names + SLOT_OFF(*slot);
		if (SLOT_HASH(*slot) == h && other[0] == name[0] &&
		    az_name_wire_len(other, AZ_NAME_MAXLEN) == len &&
		    memcmp(other, name, len) == 0) {
			return slot;
		}
		i = (i + 1) & s->mask;
	}
}

/* Twice the slots, every name placed again. */
static int grow(az_nameset_t *s)
{
	size_t n = s->slots == NULL ? MIN_SLOTS : 2 * (s->mask + 1);
	uint64_t *old = s->slots;
	size_t old_n = old == NULL ? 0 : s->mask + 1;
	uint64_t *slots = calloc(n, sizeof(*slots));
	if (slots == NULL) {
		return AZ_ENOMEM;
	}
	s->slots = slots;
	s->mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		if (old[i] != 0) {
			size_t j = SLOT_HASH(old[i]) & s->mask;
			while (slots[j] != 0) {
				j = (j + 1) & s->mask;
			}
			slots[j] = old[i];
		}
	}
	free(old);
	return AZ_EOK;
}

int az_nameset_add(az_nameset_t *s, const uint8_t *name, bool *added)
{
	bool dummy;
	if (added == NULL) {
		added = &dummy;
	}
	*added = false;
	size_t len = s != NULL && name != NULL ? az_name_wire_len(name, AZ_NAME_MAXLEN) : 0;
	if (len == 0) {
		return AZ_EINVAL;
	}
	/* Keep the load under one half: probes stay short. */
	if ((s->count + 1) * 2 > (s->slots == NULL ? 0 : s->mask + 1) &&
	    grow(s) != AZ_EOK) {
		return AZ_ENOMEM;
	}
	uint32_t h = name_hash(name, len);
	uint64_t *slot = find(s, name, len, h);
	if (*slot != 0) {
		return AZ_EOK;		/* already there */
	}
	if (s->len + len > UINT32_MAX - 1) {
		return AZ_ENOMEM;	/* offsets are 32 bits */
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		while (cap < s->len + len) {
			cap *= 2;
		}
		uint8_t *p = realloc(s->names, cap);
		if (p == NULL) {
			return AZ_ENOMEM;
		}
		s->names = p;
		s->cap = cap;
	}
	memcpy(s->names + s->len, name, len);
	*slot = SLOT(h, s->len);
	s->len += len;
	s->count++;
	*added = true;
	return AZ_EOK;
}

void az_nameset_clear(az_nameset_t *s)
{
	if (s->slots != NULL) {
		memset(s->slots, 0, (s->mask + 1) * sizeof(*s->slots));
	}
	s->len = 0;
	s->count = 0;
}

void az_nameset_free(az_nameset_t *s)
{
	free(s->slots);
	free(s->names);
	memset(s, 0, sizeof(*s));
}
