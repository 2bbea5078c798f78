/* table.c -- RCU hash of TXT answers, fed from the LMDB store. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "table.h"

#ifdef AZ_TSAN
char az_rcu_grace;
#endif

#define MAX_ANCESTORS	127	/* a 255-octet name has at most 127 labels */
#define MIN_BUCKETS	64
/*
 * A maximum makes liburcu pick its "mmap" bucket allocator: one array
 * indexed directly (one virtual reservation of MAX_BUCKETS * 16 octets,
 * filled as the table grows) instead of per-order tables that a lookup
 * reaches through a bit scan.  2^24 buckets serve 32 million names at the
 * load factor table_grow() keeps; beyond that chains just get longer.
 */
#define MAX_BUCKETS	((size_t)1 << 24)

struct table {
	struct cds_lfht *ht;
	obs_t *obs;		/* observation pool, or NULL (writer only) */
	arena_t arena;		/* nodes and value blocks (writer only) */
	size_t buckets;
	size_t nodes;		/* nodes in ht: with values or ENT */
	size_t names;		/* nodes with values */
	size_t values;		/* values in all vals blocks */

	az_val_t *scratch;	/* table_set(): the values being sorted */
	size_t scratch_cap;

	tnode_t **heap;		/* min-heap on min_expire, nodes with values */
	size_t heap_len, heap_cap;

	void **retired;		/* unpublished, freed after a grace period;
				 * nodes are tagged with bit 0 */
	size_t nretired, retired_cap;

	/*
	 * The ancestors of the last name that gained values, nearest first
	 * (all with ent > 0, so in the table).  Names of one zone share them:
	 * a full load of a million tokens below one parent adjusts the ENT
	 * counts without looking the ancestors up a million times.  Emptied
	 * by every node_del(), the only way a node leaves the table.
	 */
	tnode_t *anc[MAX_ANCESTORS];
	size_t nanc;
};

uint64_t table_hash(const uint8_t *p, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = 0x6a09e667f3bcc908ULL ^ (len * k);
	uint64_t w;
	size_t n = len;
	const uint8_t *q = p;
	while (n >= 8) {
		memcpy(&w, q, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
		q += 8;
		n -= 8;
	}
	/* The tail: the last 8 octets again (overlapping, no partial load
	 * and no call) when there are 8, else byte by byte. */
	if (len >= 8) {
		memcpy(&w, p + len - 8, 8);
	} else {
		w = 0;
		for (size_t i = 0; i < n; i++) {
			w |= (uint64_t)q[i] << (8 * i);
		}
	}
	h = (h ^ w) * k;
	/* Final avalanche so the low bits (the bucket index) mix well. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

struct key {
	const uint8_t *name;
	size_t len;
};

static int match(struct cds_lfht_node *lf, const void *arg)
{
	const struct key *k = arg;
	const tnode_t *n = caa_container_of(lf, tnode_t, lf);
	az_consume(n);
	return n->name_len == k->len && memcmp(n->name, k->name, k->len) == 0;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = MIN_BUCKETS;
	while (p < n && p < MAX_BUCKETS) {
		p <<= 1;
	}
	return p;
}

static int reserve(void ***arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap) {
		return AZ_EOK;
	}
	size_t c = *cap ? *cap : 256;
	while (c < need) {
		c *= 2;
	}
	void *p = realloc(*arr, c * elem);
	if (p == NULL) {
		return AZ_ENOMEM;
	}
	*arr = p;
	*cap = c;
	return AZ_EOK;
}

table_t *table_new(size_t hint)
{
	table_t *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->buckets = pow2_at_least(hint);
	arena_init(&t->arena, hint);
	/* No CDS_LFHT_AUTO_RESIZE: no resize worker that could outlive the
	 * module; the single writer resizes by itself (table_grow). */
	t->ht = cds_lfht_new(t->buckets, MIN_BUCKETS, MAX_BUCKETS, 0, NULL);
	if (t->ht == NULL) {
		free(t);
		return NULL;
	}
	/* A full load knows how many names come: no regrowth on the way. */
	if (hint > 0 && reserve((void ***)&t->heap, &t->heap_cap, hint,
	                        sizeof(tnode_t *)) != AZ_EOK) {
		cds_lfht_destroy(t->ht, NULL);
		free(t);
		return NULL;
	}
	return t;
}

const tnode_t *table_lookup(table_t *t, const uint8_t *name, size_t len)
{
	struct key k = { name, len };
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->ht, table_hash(name, len), match, &k, &it);
	struct cds_lfht_node *lf = cds_lfht_iter_get_node(&it);
	return lf == NULL ? NULL : caa_container_of(lf, tnode_t, lf);
}

/*** Expiry heap (writer only). ***/

static void heap_swap(table_t *t, size_t a, size_t b)
{
	tnode_t *x = t->heap[a];
	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->heap[a]->heap = (uint32_t)a;
	t->heap[b]->heap = (uint32_t)b;
}

static void heap_fix(table_t *t, size_t i)
{
	while (i > 0 && t->heap[(i - 1) / 2]->min_expire > t->heap[i]->min_expire) {
		heap_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->heap_len && t->heap[l]->min_expire < t->heap[m]->min_expire) {
			m = l;
		}
		if (r < t->heap_len && t->heap[r]->min_expire < t->heap[m]->min_expire) {
			m = r;
		}
		if (m == i) {
			break;
		}
		heap_swap(t, i, m);
		i = m;
	}
}

static void heap_remove(table_t *t, tnode_t *n)
{
	size_t i = n->heap;
	t->heap_len--;
	if (i != t->heap_len) {
		heap_swap(t, i, t->heap_len);
		heap_fix(t, i);
	}
}

static void heap_insert(table_t *t, tnode_t *n)
{
	n->heap = (uint32_t)t->heap_len;
	t->heap[t->heap_len++] = n;
	heap_fix(t, n->heap);
}

/*** Writing. ***/


static void retire(table_t *t, void *p)
{
	/* Capacity was reserved before any change: this cannot fail. */
	t->retired[t->nretired++] = p;
}

static void retire_node(table_t *t, tnode_t *n)
{
	retire(t, (void *)((uintptr_t)n | 1));	/* arena blocks are 8-aligned */
}

/* Where a node's inline value block starts (tvals_t is 2-aligned). */
static size_t inline_offset(size_t name_len)
{
	return (offsetof(tnode_t, name) + name_len + 1) & ~(size_t)1;
}

static tvals_t *node_inline(tnode_t *n)
{
	return (tvals_t *)((uint8_t *)n + inline_offset(n->name_len));
}

static bool is_inline(tnode_t *n, const tvals_t *v)
{
	return (n->flags & TNODE_INLINE) && v == node_inline(n);
}

/* Octets of a value block (its allocation size). */
static size_t vals_size(const tvals_t *v)
{
	const uint8_t *p = v->data;
	for (unsigned i = 0; i < v->count; i++) {
		p = TVAL_NEXT(p);
	}
	return (size_t)(p - (const uint8_t *)v);
}

/* Octets of a node's allocation: computed, not stored (the inline block
 * never changes once filled). */
static size_t node_size(tnode_t *n)
{
	return (n->flags & TNODE_INLINE) ?
	       inline_offset(n->name_len) + vals_size(node_inline(n)) :
	       offsetof(tnode_t, name) + n->name_len;
}

static void node_free(table_t *t, tnode_t *n)
{
	arena_free(&t->arena, n, node_size(n));
}

static void vals_free(table_t *t, tvals_t *v)
{
	if (v != NULL) {
		arena_free(&t->arena, v, vals_size(v));
	}
}

/*
 * A node for name, not in the table yet.  vals_size > 0 reserves an
 * inline value block of that size (node_inline()) in the same allocation.
 */
static tnode_t *node_new(table_t *t, const uint8_t *name, size_t len,
                         size_t vals_size)
{
	size_t size = vals_size > 0 ? inline_offset(len) + vals_size :
	                              offsetof(tnode_t, name) + len;
	tnode_t *n = arena_alloc(&t->arena, size);
	if (n == NULL) {
		return NULL;
	}
	cds_lfht_node_init(&n->lf);
	n->vals = NULL;
	n->min_expire = INT64_MAX;
	n->ent = 0;
	n->heap = 0;
	n->obs = OBS_NONE;
	n->published = 0;
	n->flags = vals_size > 0 ? TNODE_INLINE : 0;
	n->name_len = (uint8_t)len;
	memcpy(n->name, name, len);
	return n;
}

static void node_add(table_t *t, tnode_t *n)
{
	/* cds_lfht_add() publishes the node with a release barrier: its
	 * fields, initialised above, are visible to any reader finding it. */
	az_publish(n);
	cds_lfht_add(t->ht, table_hash(n->name, n->name_len), &n->lf);
	t->nodes++;
}

static void node_del(table_t *t, tnode_t *n)
{
	/* Before it leaves: no query may attach a slot to it from now on. */
	obs_detach(t->obs, &n->obs, OBS_DEAD);
	/* Readers that found n before this keep a valid pointer until they
	 * leave their read section; n is freed only after a grace period. */
	int ret = cds_lfht_del(t->ht, &n->lf);
	if (ret == 0) {
		t->nodes--;
		retire_node(t, n);	/* with its inline block, if any */
	}
	t->nanc = 0;		/* n may be one of the cached ancestors */
}

static tnode_t *writer_lookup(table_t *t, const uint8_t *name, size_t len)
{
	/* Single writer: the node cannot vanish between lookup and use. */
	return (tnode_t *)table_lookup(t, name, len);
}

/* Is the parent of name (a valid wire name) the nearest cached ancestor? */
static bool ancestors_cached(const table_t *t, const uint8_t *name)
{
	if (t->nanc == 0) {
		return false;
	}
	const uint8_t *parent = name + 1 + name[0];
	size_t len = az_name_wire_len(parent, AZ_NAME_MAXLEN);
	const tnode_t *a = t->anc[0];
	return len == a->name_len && memcmp(parent, a->name, len) == 0;
}

/*
 * Adjust the ENT counts of the ancestors of name by delta (+1/-1).  For
 * +1, missing ancestors must have been created in 'fresh' beforehand; the
 * ancestors are then cached for the next name with the same parent.
 */
static void ancestors_adjust(table_t *t, const uint8_t *name, int delta,
                             tnode_t **fresh, size_t nfresh)
{
	if (delta > 0 && ancestors_cached(t, name)) {
		for (size_t i = 0; i < t->nanc; i++) {
			tnode_t *a = t->anc[i];
			__atomic_store_n(&a->ent, a->ent + 1, __ATOMIC_RELAXED);
		}
		return;
	}
	const uint8_t *p = name + 1 + name[0];
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN) - 1 - name[0];
	size_t used = 0, nanc = 0;
	while (*p != 0) {
		tnode_t *a = writer_lookup(t, p, len);
		if (a == NULL && delta > 0 && used < nfresh) {
			a = fresh[used++];
			node_add(t, a);
		}
		if (a != NULL) {
			__atomic_store_n(&a->ent, a->ent + (uint32_t)delta, __ATOMIC_RELAXED);
			if (a->ent == 0 && a->vals == NULL) {
				node_del(t, a);
			} else if (delta > 0) {
				t->anc[nanc++] = a;
			}
		}
		len -= 1 + (size_t)p[0];
		p += 1 + p[0];
	}
	if (delta > 0) {
		t->nanc = nanc;
	}
}

/* Allocate the ancestors of name that are not in the table yet. */
static int ancestors_prepare(table_t *t, const uint8_t *name, tnode_t **fresh,
                             size_t *nfresh)
{
	*nfresh = 0;
	if (ancestors_cached(t, name)) {
		return AZ_EOK;		/* all there */
	}
	const uint8_t *p = name + 1 + name[0];
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN) - 1 - name[0];
	while (*p != 0) {
		if (writer_lookup(t, p, len) == NULL) {
			tnode_t *a = node_new(t, p, len, 0);
			if (a == NULL) {
				for (size_t i = 0; i < *nfresh; i++) {
					node_free(t, fresh[i]);
				}
				return AZ_ENOMEM;
			}
			fresh[(*nfresh)++] = a;
		}
		len -= 1 + (size_t)p[0];
		p += 1 + p[0];
	}
	return AZ_EOK;
}

/*
 * Canonical order of TXT rdata (RFC 4034 6.3, as knot_rdata_cmp() has
 * it): the rdata as octet strings, a prefix before what it prefixes.  The
 * rdata is the text cut into strings of 255 (az_txt_rdlen()); comparing
 * it means comparing the cut texts, done here without cutting them.
 */
static uint8_t rd_octet(const az_val_t *v, size_t i)
{
	size_t chunk = i / 256, off = i % 256;
	size_t start = chunk * 255;
	if (off == 0) {
		size_t left = v->len - start;
		return (uint8_t)(left < 255 ? left : 255);
	}
	return v->data[start + off - 1];
}

static int val_cmp(const void *a, const void *b)
{
	const az_val_t *x = a, *y = b;
	size_t xl = az_txt_rdlen(x->len), yl = az_txt_rdlen(y->len);
	size_t n = xl < yl ? xl : yl;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = rd_octet(x, i), d = rd_octet(y, i);
		if (c != d) {
			return c < d ? -1 : 1;
		}
	}
	return xl == yl ? 0 : (xl < yl ? -1 : 1);
}

/*
 * The values of rec live at now, in canonical order and each once (the
 * later expiry kept), in t->scratch; *size receives the octets of their
 * value block (0 if there are none).  O(n log n), and the query path then
 * emits the block as it is, in one pass.
 */
static int vals_collect(table_t *t, const az_rec_iter_t *rec, int64_t now,
                        unsigned *count, size_t *size)
{
	*count = 0;
	*size = 0;
	if (rec == NULL) {
		return AZ_EOK;
	}
	az_rec_iter_t it = *rec;
	if (reserve((void ***)&t->scratch, &t->scratch_cap, az_rec_iter_count(&it),
	            sizeof(az_val_t)) != AZ_EOK) {
		return AZ_ENOMEM;
	}
	az_val_t v;
	unsigned n = 0;
	while (az_rec_iter_next(&it, &v)) {
		if (v.expire > now) {
			t->scratch[n++] = v;
		}
	}
	qsort(t->scratch, n, sizeof(az_val_t), val_cmp);
	unsigned out = 0;
	size_t bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		/* The store never writes a value twice at one name; a record
		 * that does anyway must not make an RRset with duplicates. */
		if (out > 0 && val_cmp(&t->scratch[out - 1], &t->scratch[i]) == 0) {
			if (t->scratch[i].expire > t->scratch[out - 1].expire) {
				t->scratch[out - 1].expire = t->scratch[i].expire;
			}
			continue;
		}
		t->scratch[out++] = t->scratch[i];
		bytes += TVAL_HDR + az_txt_rdlen(t->scratch[i].len);
	}
	*count = out;
	*size = out > 0 ? sizeof(tvals_t) + bytes : 0;
	return AZ_EOK;
}

/* The newest publication time among t->scratch[0..count) (0: unknown). */
static int64_t newest_published(const table_t *t, unsigned count)
{
	int64_t newest = 0;
	for (unsigned i = 0; i < count; i++) {
		if (t->scratch[i].published > newest) {
			newest = t->scratch[i].published;
		}
	}
	return newest;
}

/* Fill tv (the size vals_collect() gave) with t->scratch[0..count);
 * returns the earliest expiry among them. */
static int64_t vals_fill(table_t *t, tvals_t *tv, unsigned count)
{
	int64_t min_expire = INT64_MAX;
	uint8_t *p = tv->data;
	for (unsigned i = 0; i < count; i++) {
		const az_val_t *v = &t->scratch[i];
		uint16_t rdlen = (uint16_t)az_txt_rdlen(v->len);
		memcpy(p, &v->expire, sizeof(int64_t));
		memcpy(p + sizeof(int64_t), &rdlen, sizeof(rdlen));
		uint8_t *rd = p + TVAL_HDR;
		for (size_t off = 0; off < v->len; off += 255) {
			size_t n = v->len - off < 255 ? v->len - off : 255;
			*rd++ = (uint8_t)n;
			memcpy(rd, v->data + off, n);
			rd += n;
		}
		p = TVAL_NEXT(p);
		if (v->expire < min_expire) {
			min_expire = v->expire;
		}
	}
	tv->count = (uint16_t)count;
	return min_expire;
}

/* Copy the values of old that are live at now. */
static int vals_live(table_t *t, const tvals_t *old, int64_t now, tvals_t **out,
                     int64_t *min_expire)
{
	*out = NULL;
	*min_expire = INT64_MAX;
	size_t size = 0;
	unsigned count = 0;
	const uint8_t *p = old->data;
	for (unsigned i = 0; i < old->count; i++, p = TVAL_NEXT(p)) {
		if (TVAL_EXPIRE(p) > now) {
			size += (size_t)(TVAL_NEXT(p) - p);
			count++;
		}
	}
	if (count == 0) {
		return AZ_EOK;
	}
	tvals_t *tv = arena_alloc(&t->arena, sizeof(*tv) + size);
	if (tv == NULL) {
		return AZ_ENOMEM;
	}
	tv->count = (uint16_t)count;
	uint8_t *q = tv->data;
	p = old->data;
	for (unsigned i = 0; i < old->count; i++, p = TVAL_NEXT(p)) {
		int64_t e = TVAL_EXPIRE(p);
		if (e > now) {
			size_t n = (size_t)(TVAL_NEXT(p) - p);
			memcpy(q, p, n);
			q += n;
			if (e < *min_expire) {
				*min_expire = e;
			}
		}
	}
	*out = tv;
	return AZ_EOK;
}

static void table_grow(table_t *t)
{
	if (t->nodes <= 2 * t->buckets || t->buckets >= MAX_BUCKETS) {
		return;
	}
	/* Blocking and waits for grace periods: we are the writer thread,
	 * registered and outside any read-side section here. */
	t->buckets = pow2_at_least(t->nodes);
	cds_lfht_resize(t->ht, t->buckets);
}

/* Free what apply() was given but could not use. */
static void discard(table_t *t, tnode_t *fresh_node, tvals_t *newv)
{
	if (newv != NULL && (fresh_node == NULL || !is_inline(fresh_node, newv))) {
		vals_free(t, newv);
	}
	if (fresh_node != NULL) {
		node_free(t, fresh_node);
	}
}

/*
 * Publish newv (may be NULL) as the values of name.  node: the name's node
 * if it is in the table, else NULL; then, when newv is not NULL,
 * fresh_node is a new node for name (node_new(), newv possibly inline).
 * Takes both: on failure they are freed and the table is unchanged.
 */
static int apply(table_t *t, const uint8_t *name, size_t len, tnode_t *node,
                 tnode_t *fresh_node, tvals_t *newv, int64_t min_expire,
                 int64_t published)
{
	tnode_t *fresh[MAX_ANCESTORS + 1];
	size_t nfresh = 0;
	bool had = node != NULL && node->vals != NULL;

	(void)len;
	if (newv == NULL && !had) {
		discard(t, fresh_node, newv);
		return AZ_EOK;
	}
	/* Everything that can fail happens before the first change. */
	if (reserve(&t->retired, &t->retired_cap, t->nretired + MAX_ANCESTORS + 2,
	            sizeof(void *)) != AZ_EOK ||
	    reserve((void ***)&t->heap, &t->heap_cap, t->heap_len + 1,
	            sizeof(tnode_t *)) != AZ_EOK ||
	    (newv != NULL && node == NULL && fresh_node == NULL) ||
	    (newv != NULL && !had &&
	     ancestors_prepare(t, name, fresh, &nfresh) != AZ_EOK)) {
		discard(t, fresh_node, newv);
		return AZ_ENOMEM;
	}
	bool new_node = false;
	if (newv != NULL && node == NULL) {
		node = fresh_node;
		new_node = true;
	} else {
		discard(t, fresh_node, NULL);	/* unused (newv is not inline in it) */
	}

	tvals_t *old = node->vals;
	/* A new publication, or no values left: its observation ends, and
	 * before readers can see the new block (obs_detach()). */
	bool fresh_pub = newv != NULL && (!had || published > node->published ||
	                 (published == 0 && table_fresh(old, newv)));
	if (fresh_pub || newv == NULL) {
		obs_detach(t->obs, &node->obs, OBS_NONE);
	}
	/* Publish: readers see either the old block or the whole new one. */
	if (newv != NULL) {
		az_publish(newv);
	}
	rcu_assign_pointer(node->vals, newv);
	if (old != NULL) {
		t->values -= old->count;
		/* An inline block goes with its node, never on its own. */
		if (!is_inline(node, old)) {
			retire(t, old);
		}
	}
	if (newv != NULL) {
		t->values += newv->count;
		node->min_expire = min_expire;
		node->published = published;
		if (had) {
			heap_fix(t, node->heap);
		} else {
			heap_insert(t, node);
			t->names++;
			if (new_node) {
				node_add(t, node);
			}
			ancestors_adjust(t, name, +1, fresh, nfresh);
		}
		if (fresh_pub) {
			obs_published(t->obs, node);	/* "asked too early"? */
		}
	} else {
		heap_remove(t, node);
		t->names--;
		node->min_expire = INT64_MAX;
		ancestors_adjust(t, name, -1, NULL, 0);
		if (node->ent == 0) {
			node_del(t, node);
		}
	}
	return AZ_EOK;
}

int table_set(table_t *t, const uint8_t *name, az_rec_iter_t *rec, int64_t now)
{
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN);
	if (t == NULL || len == 0 || len == 1) {
		return AZ_EINVAL;
	}
	unsigned count;
	size_t size;
	tnode_t *fresh_node = NULL;
	tvals_t *newv = NULL;
	int64_t min_expire = INT64_MAX;
	int ret = vals_collect(t, rec, now, &count, &size);
	if (ret != AZ_EOK) {
		return ret;
	}
	ret = AZ_ENOMEM;

	/* lfht add/del/lookup want a read-side section even for the writer. */
	az_read_lock();
	tnode_t *node = writer_lookup(t, name, len);
	if (size > 0) {
		/* A new name gets its values in its node's allocation. */
		if (node == NULL) {
			fresh_node = node_new(t, name, len, size);
			newv = fresh_node != NULL ? node_inline(fresh_node) : NULL;
		} else {
			newv = arena_alloc(&t->arena, size);
		}
		if (newv == NULL) {
			goto out;	/* fresh_node is NULL here */
		}
		min_expire = vals_fill(t, newv, count);
	}
	ret = apply(t, name, len, node, fresh_node, newv, min_expire,
	            newest_published(t, count));
out:
	az_read_unlock();
	table_grow(t);
	return ret;
}

size_t table_expire(table_t *t, int64_t now)
{
	size_t dropped = 0;
	az_read_lock();
	while (t->heap_len > 0 && t->heap[0]->min_expire <= now) {
		tnode_t *n = t->heap[0];
		tvals_t *newv;
		int64_t min_expire;
		size_t before = n->vals->count;
		if (vals_live(t, n->vals, now, &newv, &min_expire) != AZ_EOK ||
		    apply(t, n->name, n->name_len, n, NULL, newv, min_expire,
		          n->published) != AZ_EOK) {
			break;	/* out of memory: readers still filter by time */
		}
		dropped += before - (newv != NULL ? newv->count : 0);
	}
	az_read_unlock();
	return dropped;
}

void table_observe(table_t *t, obs_t *o)
{
	t->obs = o;
}

bool table_fresh(const tvals_t *old, const tvals_t *new)
{
	if (new == NULL) {
		return false;
	}
	/* Both in canonical order (the rdata octet by octet, a prefix
	 * first): one merge walk. */
	const uint8_t *p = old != NULL ? old->data : NULL;
	unsigned i = 0, nold = old != NULL ? old->count : 0;
	const uint8_t *q = new->data;
	for (unsigned j = 0; j < new->count; j++, q = TVAL_NEXT(q)) {
		size_t lb = TVAL_RDLEN(q);
		int cmp = -1;
		while (i < nold) {
			size_t la = TVAL_RDLEN(p);
			cmp = memcmp(TVAL_RDATA(p), TVAL_RDATA(q), la < lb ? la : lb);
			if (cmp == 0 && la != lb) {
				cmp = la < lb ? -1 : 1;
			}
			if (cmp >= 0) {
				break;
			}
			p = TVAL_NEXT(p);
			i++;
		}
		if (cmp != 0) {
			return true;
		}
	}
	return false;
}

int64_t table_next_expiry(const table_t *t)
{
	return t->heap_len > 0 ? t->heap[0]->min_expire : INT64_MAX;
}

size_t table_values(const table_t *t)
{
	return t->values;
}

size_t table_names(const table_t *t)
{
	return t->names;
}

void table_reclaim(table_t *t)
{
	if (t->nretired == 0 && !obs_pending(t->obs)) {
		return;
	}
	/* After this grace period no reader can still hold a pointer it
	 * loaded before the blocks were unpublished. */
	az_synchronize();
	for (size_t i = 0; i < t->nretired; i++) {
		uintptr_t p = (uintptr_t)t->retired[i];
		if (p & 1) {
			node_free(t, (tnode_t *)(p & ~(uintptr_t)1));
		} else {
			vals_free(t, (tvals_t *)p);
		}
	}
	t->nretired = 0;
	obs_reclaim(t->obs);	/* detached slots: the same grace period */
	if (t->retired_cap > 4096) {
		free(t->retired);	/* do not keep a burst's worth around */
		t->retired = NULL;
		t->retired_cap = 0;
	}
}

void table_free(table_t *t)
{
	if (t == NULL) {
		return;
	}
	table_reclaim(t);
	/* Nodes are freed after the walk: lfht may still step over removed
	 * nodes while it unlinks others.  Without memory for the list they
	 * leak rather than risk a use after free. */
	tnode_t **all = malloc((t->nodes + 1) * sizeof(*all));
	size_t n = 0;
	struct cds_lfht_iter it;
	struct cds_lfht_node *lf;
	az_read_lock();
	cds_lfht_for_each(t->ht, &it, lf) {
		tnode_t *node = caa_container_of(lf, tnode_t, lf);
		if (cds_lfht_del(t->ht, lf) == 0 && all != NULL && n <= t->nodes) {
			all[n++] = node;
		}
	}
	az_read_unlock();
	/* Precondition: unreachable by readers, so no grace period needed. */
	cds_lfht_destroy(t->ht, NULL);
	for (size_t i = 0; i < n; i++) {
		if (!is_inline(all[i], all[i]->vals)) {
			vals_free(t, all[i]->vals);
		}
		node_free(t, all[i]);
	}
	free(all);
	arena_destroy(&t->arena);
	free(t->heap);
	free(t->retired);
	free(t->scratch);
	free(t);
}
