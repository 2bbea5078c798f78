/* table.c -- RCU hash of TXT answers, fed from the LMDB store. */

#include <stdlib.h>
#include <string.h>

#include "table.h"

#ifdef AZ_TSAN
char az_rcu_grace;
#endif

#define MAX_ANCESTORS	127	/* a 255-octet name has at most 127 labels */
#define MIN_BUCKETS	64

struct table {
	struct cds_lfht *ht;
	size_t buckets;
	size_t nodes;		/* nodes in ht: with values or ENT */
	size_t names;		/* nodes with values */
	size_t values;		/* values in all vals blocks */

	tnode_t **heap;		/* min-heap on min_expire, nodes with values */
	size_t heap_len, heap_cap;

	void **retired;		/* unpublished, freed after a grace period */
	size_t nretired, retired_cap;
};

uint64_t table_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0x6a09e667f3bcc908ULL ^ (len * 0x9e3779b97f4a7c15ULL);
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, len);
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
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
	while (p < n && p < ((size_t)1 << 40)) {
		p <<= 1;
	}
	return p;
}

table_t *table_new(size_t hint)
{
	table_t *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->buckets = pow2_at_least(hint);
	/* No CDS_LFHT_AUTO_RESIZE: no resize worker that could outlive the
	 * module; the single writer resizes by itself (table_grow). */
	t->ht = cds_lfht_new(t->buckets, MIN_BUCKETS, 0, 0, NULL);
	if (t->ht == NULL) {
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

static void retire(table_t *t, void *p)
{
	/* Capacity was reserved before any change: this cannot fail. */
	t->retired[t->nretired++] = p;
}

static tnode_t *node_new(const uint8_t *name, size_t len)
{
	tnode_t *n = malloc(sizeof(*n) + len);
	if (n == NULL) {
		return NULL;
	}
	cds_lfht_node_init(&n->lf);
	n->vals = NULL;
	n->ent = 0;
	n->heap = 0;
	n->min_expire = INT64_MAX;
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
	/* Readers that found n before this keep a valid pointer until they
	 * leave their read section; n is freed only after a grace period. */
	int ret = cds_lfht_del(t->ht, &n->lf);
	if (ret == 0) {
		t->nodes--;
		retire(t, n);
	}
}

static tnode_t *writer_lookup(table_t *t, const uint8_t *name, size_t len)
{
	/* Single writer: the node cannot vanish between lookup and use. */
	return (tnode_t *)table_lookup(t, name, len);
}

/*
 * Adjust the ENT counts of the ancestors of name by delta (+1/-1).  For
 * +1, missing ancestors must have been created in 'fresh' beforehand.
 */
static void ancestors_adjust(table_t *t, const uint8_t *name, int delta,
                             tnode_t **fresh, size_t nfresh)
{
	const uint8_t *p = name + 1 + name[0];
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN) - 1 - name[0];
	size_t used = 0;
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
			}
		}
		len -= 1 + (size_t)p[0];
		p += 1 + p[0];
	}
}

/* Allocate the ancestors of name that are not in the table yet. */
static int ancestors_prepare(table_t *t, const uint8_t *name, tnode_t **fresh,
                             size_t *nfresh)
{
	const uint8_t *p = name + 1 + name[0];
	size_t len = az_name_wire_len(name, AZ_NAME_MAXLEN) - 1 - name[0];
	*nfresh = 0;
	while (*p != 0) {
		if (writer_lookup(t, p, len) == NULL) {
			tnode_t *a = node_new(p, len);
			if (a == NULL) {
				for (size_t i = 0; i < *nfresh; i++) {
					free(fresh[i]);
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

/* Build a vals block from the values of rec that are live at now. */
static int vals_from_rec(az_rec_iter_t *rec, int64_t now, tvals_t **out,
                         int64_t *min_expire)
{
	*out = NULL;
	*min_expire = INT64_MAX;
	if (rec == NULL) {
		return AZ_EOK;
	}
	az_rec_iter_t it = *rec;
	az_val_t v;
	size_t size = 0;
	unsigned count = 0;
	while (az_rec_iter_next(&it, &v)) {
		if (v.expire > now) {
			size += sizeof(int64_t) + 1 + v.len;
			count++;
		}
	}
	if (count == 0) {
		return AZ_EOK;
	}
	tvals_t *tv = malloc(sizeof(*tv) + size);
	if (tv == NULL) {
		return AZ_ENOMEM;
	}
	tv->count = (uint16_t)count;
	tv->size = (uint32_t)size;
	uint8_t *p = tv->data;
	it = *rec;
	while (az_rec_iter_next(&it, &v)) {
		if (v.expire <= now) {
			continue;
		}
		memcpy(p, &v.expire, sizeof(int64_t));
		p[sizeof(int64_t)] = v.len;
		memcpy(p + sizeof(int64_t) + 1, v.data, v.len);
		p = TVAL_NEXT(p);
		if (v.expire < *min_expire) {
			*min_expire = v.expire;
		}
	}
	*out = tv;
	return AZ_EOK;
}

/* Copy the values of old that are live at now. */
static int vals_live(const tvals_t *old, int64_t now, tvals_t **out,
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
	tvals_t *tv = malloc(sizeof(*tv) + size);
	if (tv == NULL) {
		return AZ_ENOMEM;
	}
	tv->count = (uint16_t)count;
	tv->size = (uint32_t)size;
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
	if (t->nodes <= 2 * t->buckets) {
		return;
	}
	/* Blocking and waits for grace periods: we are the writer thread,
	 * registered and outside any read-side section here. */
	t->buckets = pow2_at_least(t->nodes);
	cds_lfht_resize(t->ht, t->buckets);
}

/* Publish newv (may be NULL) as the values of name; node may be NULL. */
static int apply(table_t *t, const uint8_t *name, size_t len, tnode_t *node,
                 tvals_t *newv, int64_t min_expire)
{
	tnode_t *fresh[MAX_ANCESTORS + 1];
	size_t nfresh = 0;
	bool had = node != NULL && node->vals != NULL;

	if (newv == NULL && !had) {
		return AZ_EOK;
	}
	/* Everything that can fail happens before the first change. */
	if (reserve(&t->retired, &t->retired_cap, t->nretired + MAX_ANCESTORS + 2,
	            sizeof(void *)) != AZ_EOK ||
	    reserve((void ***)&t->heap, &t->heap_cap, t->heap_len + 1,
	            sizeof(tnode_t *)) != AZ_EOK) {
		free(newv);
		return AZ_ENOMEM;
	}
	bool new_node = false;
	if (newv != NULL && node == NULL) {
		node = node_new(name, len);
		if (node == NULL) {
			free(newv);
			return AZ_ENOMEM;
		}
		new_node = true;
	}
	if (newv != NULL && !had &&
	    ancestors_prepare(t, name, fresh, &nfresh) != AZ_EOK) {
		free(newv);
		if (new_node) {
			free(node);
		}
		return AZ_ENOMEM;
	}

	tvals_t *old = node->vals;
	/* Publish: readers see either the old block or the whole new one. */
	if (newv != NULL) {
		az_publish(newv);
	}
	rcu_assign_pointer(node->vals, newv);
	if (old != NULL) {
		t->values -= old->count;
		retire(t, old);
	}
	if (newv != NULL) {
		t->values += newv->count;
		node->min_expire = min_expire;
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
	tvals_t *newv;
	int64_t min_expire;
	int ret = vals_from_rec(rec, now, &newv, &min_expire);
	if (ret != AZ_EOK) {
		return ret;
	}
	/* lfht add/del/lookup want a read-side section even for the writer. */
	az_read_lock();
	ret = apply(t, name, len, writer_lookup(t, name, len), newv, min_expire);
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
		if (vals_live(n->vals, now, &newv, &min_expire) != AZ_EOK ||
		    apply(t, n->name, n->name_len, n, newv, min_expire) != AZ_EOK) {
			break;	/* out of memory: readers still filter by time */
		}
		dropped += before - (newv != NULL ? newv->count : 0);
	}
	az_read_unlock();
	return dropped;
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
	if (t->nretired == 0) {
		return;
	}
	/* After this grace period no reader can still hold a pointer it
	 * loaded before the blocks were unpublished. */
	az_synchronize();
	for (size_t i = 0; i < t->nretired; i++) {
		free(t->retired[i]);
	}
	t->nretired = 0;
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
		free(all[i]->vals);
		free(all[i]);
	}
	free(all);
	free(t->heap);
	free(t->retired);
	free(t);
}
