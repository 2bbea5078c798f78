/* obs.c -- per-name query observation: lock-free counters, written out by the sync thread. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "obs.h"
#include "observe.h"		/* the file's format (store/) */
#include "table.h"

#define MISS_RINGS	4	/* rings of misses, by knotd thread */
#define MISS_RING	64	/* misses each ring holds for the sync */
#define MISS_KEEP	512	/* misses the sync thread keeps, newest */
#define EARLY_WINDOW_MS	(10 * 60 * 1000)	/* "shortly before" */
#define BUSY_MS		250	/* look this often while names are observed */
#define WRITE_GAP_MS	1000	/* and write at most this often */
#define SKETCH_BITS	256	/* distinct sources beyond AZ_OBS_SOURCES */
#define NTHREADS	64	/* per-thread 'unobserved' counters */

#define STRIPES		4	/* counter copies per slot, by knotd thread */
#define LAST_STEP_MS	10	/* last_ms is rewritten at most this often */

/* What a query got, by transport: one counter per (answer, transport). */
enum { C_SERVED_UDP, C_SERVED_TCP, C_NODATA_UDP, C_NODATA_TCP,
       C_NX_UDP, C_NX_TCP, C_DO, C_CASE, C_COUNT };

/*
 * The counters of one name, one copy per stripe: knotd thread t counts in
 * stripe t % STRIPES, so two workers answering the same name do not fight
 * over one cache line (a stripe is one line).  Each counter is exact on
 * its own; the file sums the stripes.
 */
typedef struct {
	_Alignas(64) uint64_t c[C_COUNT];
} stripe_t;

/*
 * One observed name.  Query threads write it only with relaxed atomic
 * read-modify-writes and stores (counters: no other memory depends on
 * them); the sync thread reads it with relaxed loads, so a file may show
 * one counter a query ahead of another.  Per query: one counter of its
 * stripe (and DO, 0x20 if set), a load of the source keys, last_ms at
 * most every LAST_STEP_MS.
 */
typedef struct {
	stripe_t st[STRIPES];
	int64_t first_ms;	/* set once, by compare-and-swap from 0 */
	int64_t last_ms;	/* racing stores: the latest or nearly */
	uint64_t sketch[SKETCH_BITS / 64];	/* a bit per source hash */
	uint64_t key[AZ_OBS_SOURCES];	/* source hash | 1; 0: free */
	uint64_t addr[AZ_OBS_SOURCES][2];	/* written after the key */
	uint8_t fam[AZ_OBS_SOURCES];	/* stored last (release); 0: pending */
	const struct tnode *node;	/* the claimer's node (release) */

	/* Sync thread only. */
	uint64_t early;
	int64_t early_first, early_last;
} slot_t;

typedef struct {
	uint64_t seq;		/* position + 1, stored last (release) */
	uint64_t hash;
	int64_t ms;
} miss_t;

struct obs {
	uint32_t nslots;
	uint32_t nwords;
	slot_t *slots;		/* mmap: nslots, all zero while free */
	uint64_t *used;		/* bitmap, bit set = claimed; padding bits set */
	size_t map_len;

	/* Query threads: atomics. */
	uint32_t hint;		/* where the next claim starts looking */
	uint32_t full;		/* a claim found no free slot; the sync
				 * thread clears it when it frees one */
	struct {
		_Alignas(64) uint64_t head;	/* misses written */
		miss_t e[MISS_RING];
	} rings[MISS_RINGS];	/* thread t writes ring t % MISS_RINGS */
	struct {
		uint64_t n;
		uint8_t pad[56];	/* one cache line each */
	} unobs[NTHREADS];

	/* Sync thread only. */
	uint64_t tail[MISS_RINGS];	/* misses read, per ring */
	uint64_t lost;
	struct { uint64_t hash; int64_t ms; } kept[MISS_KEEP];
	size_t nkept, kept_pos;
	uint64_t filter[16];	/* 1024-bit filter of kept hashes */
	uint32_t *retired;	/* detached, freed after a grace period */
	size_t nretired;
	az_obs_name_t *ents;	/* the file's entries, reused */
	size_t ents_cap;
	uint8_t *out;		/* the encoded file, reused */
	size_t out_cap;
	uint64_t written_sig;	/* what the last file showed */
	int64_t written_ms;	/* and when it was written */
	bool written;
	int64_t since_ms;
	uint32_t nused;		/* as of the last write */
};

static int64_t wall_ms(void)
{
	/* clock_gettime(CLOCK_REALTIME) is a vDSO call: no system call. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

obs_t *obs_new(uint32_t nslots)
{
	if (nslots == 0 || nslots >= OBS_DEAD) {
		return NULL;
	}
	obs_t *o = calloc(1, sizeof(*o));
	if (o == NULL) {
		return NULL;
	}
	o->nslots = nslots;
	o->nwords = (nslots + 63) / 64;
	o->map_len = (size_t)nslots * sizeof(slot_t);
	o->used = calloc(o->nwords, sizeof(uint64_t));
	o->retired = calloc(nslots, sizeof(uint32_t));
	/* Anonymous memory is zero: every slot starts free. */
	o->slots = mmap(NULL, o->map_len, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (o->used == NULL || o->retired == NULL || o->slots == MAP_FAILED) {
		if (o->slots == MAP_FAILED) {
			o->slots = NULL;
		}
		obs_free(o);
		return NULL;
	}
	/* The bits past the last slot are never free. */
	if (nslots % 64 != 0) {
		o->used[o->nwords - 1] = ~(uint64_t)0 << (nslots % 64);
	}
	o->since_ms = wall_ms();
	return o;
}

void obs_free(obs_t *o)
{
	if (o == NULL) {
		return;
	}
	if (o->slots != NULL) {
		munmap(o->slots, o->map_len);
	}
	free(o->used);
	free(o->retired);
	free(o->ents);
	free(o->out);
	free(o);
}

static uint32_t *node_word(const struct tnode *n)
{
	/* The node is const to readers; its 'obs' word is the one field
	 * they may change, and only with atomics. */
	return (uint32_t *)&((struct tnode *)n)->obs;
}

/*
 * A free slot, claimed: its bit set with an atomic OR (acquire: the
 * zeroing by whoever freed it happened before).  Claims are rare (the
 * first query of a publication), and a claim that finds none sets the
 * pool's 'full' flag, so the whole bitmap is scanned once per time the
 * pool fills up, not per query.
 * \return the slot number (index + 1), or 0 if none was found.
 */
static uint32_t bitmap_claim(obs_t *o)
{
	uint32_t start = __atomic_fetch_add(&o->hint, 1, __ATOMIC_RELAXED) % o->nwords;
	for (uint32_t i = 0; i < o->nwords; i++) {
		uint32_t w = (start + i) % o->nwords;
		uint64_t v = __atomic_load_n(&o->used[w], __ATOMIC_RELAXED);
		while (v != ~(uint64_t)0) {
			uint64_t bit = (uint64_t)1 << __builtin_ctzll(~v);
			v = __atomic_fetch_or(&o->used[w], bit, __ATOMIC_ACQUIRE);
			if (!(v & bit)) {
				return w * 64 + (uint32_t)__builtin_ctzll(bit) + 1;
			}
		}
	}
	return 0;
}

/* Give a slot back.  It must be all zero again: the release orders the
 * zeroing before the bit, and the next claimer acquires the bit. */
static void bitmap_release(obs_t *o, uint32_t num)
{
	uint32_t i = num - 1;
	__atomic_fetch_and(&o->used[i / 64], ~((uint64_t)1 << (i % 64)),
	                   __ATOMIC_RELEASE);
}

/*
 * The slot of node n, claiming one if it has none.  Any thread.
 * \return the slot number, 0 when none could be had (pool full), or
 * OBS_DEAD (the node is leaving the table: do not count).
 */
static uint32_t slot_of(obs_t *o, const struct tnode *n)
{
	uint32_t *word = node_word(n);
	/* Acquire: pairs with the claimer's release CAS below, so the
	 * slot's node pointer is visible. */
	uint32_t num = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	if (num != OBS_NONE) {
		return num;
	}
	/* A full pool is told by one flag, not by scanning it per query. */
	if (__atomic_load_n(&o->full, __ATOMIC_RELAXED)) {
		return 0;
	}
	num = bitmap_claim(o);
	if (num == 0) {
		__atomic_store_n(&o->full, 1, __ATOMIC_RELAXED);
		return 0;
	}
	slot_t *s = &o->slots[num - 1];
	/* The sync thread follows 'node' of claimed slots; set it before
	 * the slot can be attached. */
	__atomic_store_n(&s->node, n, __ATOMIC_RELEASE);
	uint32_t expect = OBS_NONE;
	if (__atomic_compare_exchange_n(word, &expect, num, false,
	                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		return num;
	}
	/* Another thread attached its slot first (or the node is going):
	 * undo ours.  Nothing was counted in it, so it is zero again once
	 * 'node' is. */
	__atomic_store_n(&s->node, NULL, __ATOMIC_RELAXED);
	bitmap_release(o, num);
	return expect;
}

static void add(uint64_t *ctr)
{
	/* Relaxed: a counter on its own, no other memory depends on it. */
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

/* Count the source address of q in s: exactly for the first
 * AZ_OBS_SOURCES, in the sketch always. */
static void count_source(slot_t *s, const obs_query_t *q)
{
	if (q->family == 0) {
		return;
	}
	/* A cheap mix of the 16 octets and the family: the key only has to
	 * tell sources apart (a collision merges two into one count). */
	uint64_t a[2];
	memcpy(a, q->addr, 16);
	uint64_t h = (a[0] ^ (a[1] * 0x9e3779b97f4a7c15ULL) ^ q->family) *
	             0xff51afd7ed558ccdULL;
	h = (h ^ (h >> 29)) | 1;
	uint64_t bit = (uint64_t)1 << ((h >> 32) % 64);
	uint64_t *sw = &s->sketch[(h >> 40) % (SKETCH_BITS / 64)];
	/* Load first: a source seen before writes nothing (no cache line
	 * ping-pong between threads for a resolver that asks again). */
	if (!(__atomic_load_n(sw, __ATOMIC_RELAXED) & bit)) {
		__atomic_fetch_or(sw, bit, __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < AZ_OBS_SOURCES; i++) {
		uint64_t cur = __atomic_load_n(&s->key[i], __ATOMIC_RELAXED);
		if (cur == 0) {
			/* A free key: the CAS decides which source owns it, so
			 * no address is kept twice. */
			if (__atomic_compare_exchange_n(&s->key[i], &cur, h, false,
			                                __ATOMIC_RELAXED,
			                                __ATOMIC_RELAXED)) {
				__atomic_store_n(&s->addr[i][0], a[0], __ATOMIC_RELAXED);
				__atomic_store_n(&s->addr[i][1], a[1], __ATOMIC_RELAXED);
				/* Release: the address before the family that
				 * says it is there. */
				__atomic_store_n(&s->fam[i], q->family, __ATOMIC_RELEASE);
				return;
			}
			/* cur is now the winner's key: compare with it. */
		}
		if (cur == h) {
			return;
		}
	}
}

uint32_t obs_slot(obs_t *o, const struct tnode *n, unsigned thread_id)
{
	uint32_t num = slot_of(o, n);
	if (num == 0) {
		/* One counter per knotd thread: no shared cache line. */
		add(&o->unobs[thread_id % NTHREADS].n);
	}
	return num == OBS_DEAD ? 0 : num;
}

void obs_hit(obs_t *o, uint32_t num, const obs_query_t *q, obs_answer_t ans)
{
	/* The slot stays ours at least until this read section ends: it is
	 * freed only a grace period after it was detached. */
	slot_t *s = &o->slots[num - 1];
	int64_t now = wall_ms();
	int64_t zero = 0;
	if (__atomic_load_n(&s->first_ms, __ATOMIC_RELAXED) == 0) {
		(void)__atomic_compare_exchange_n(&s->first_ms, &zero, now, false,
		                                  __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	/* Rewritten only when it moved on: a name asked thousands of times
	 * a second does not bounce its line between workers for this. */
	if (now - __atomic_load_n(&s->last_ms, __ATOMIC_RELAXED) >= LAST_STEP_MS) {
		__atomic_store_n(&s->last_ms, now, __ATOMIC_RELAXED);
	}
	uint64_t *c = s->st[q->thread_id % STRIPES].c;
	add(&c[(ans == OBS_SERVED ? C_SERVED_UDP : ans == OBS_NODATA ?
	        C_NODATA_UDP : C_NX_UDP) + (q->tcp ? 1 : 0)]);
	if (q->dnssec_ok) {
		add(&c[C_DO]);
	}
	if (q->case_mixed) {
		add(&c[C_CASE]);
	}
	count_source(s, q);
}

void obs_miss(obs_t *o, unsigned thread_id, const uint8_t *name,
              size_t name_len)
{
	/* One ring per few threads: workers do not share the head's line.
	 * The position is ours alone unless the ring wraps within this write
	 * (MISS_RING misses of threads of this ring at once); then the
	 * reader's seq checks drop the entry whose fields were mixed. */
	__typeof__(o->rings[0]) *r = &o->rings[thread_id % MISS_RINGS];
	uint64_t pos = __atomic_fetch_add(&r->head, 1, __ATOMIC_RELAXED);
	miss_t *m = &r->e[pos % MISS_RING];
	/* seq = 0 first; the release stores after it keep it first, so a
	 * reader that sees the new hash or time sees the seq change too. */
	__atomic_store_n(&m->seq, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&m->hash, table_hash(name, name_len), __ATOMIC_RELEASE);
	__atomic_store_n(&m->ms, wall_ms(), __ATOMIC_RELEASE);
	/* Release: hash and time before the seq that vouches for them. */
	__atomic_store_n(&m->seq, pos + 1, __ATOMIC_RELEASE);
}

/*** Sync thread. ***/

void obs_detach(obs_t *o, uint32_t *word, uint32_t to)
{
	if (o == NULL) {
		/* Tables without a pool keep the word at 0 (or DEAD). */
		__atomic_store_n(word, to, __ATOMIC_RELAXED);
		return;
	}
	/* Sequentially consistent exchange: done before the new values are
	 * published (rcu_assign_pointer), so a reader that sees them and
	 * then loads the word sees OBS_NONE or a newer claim. */
	uint32_t num = __atomic_exchange_n(word, to, __ATOMIC_SEQ_CST);
	if (num != OBS_NONE && num != OBS_DEAD) {
		/* Each slot is detached at most once per claim: capacity is
		 * one entry per slot. */
		o->retired[o->nretired++] = num;
	}
}

bool obs_pending(const obs_t *o)
{
	return o != NULL && o->nretired > 0;
}

static void slot_free(obs_t *o, uint32_t num)
{
	/* No reader can reach the slot any more: plain zeroing. */
	memset(&o->slots[num - 1], 0, sizeof(slot_t));
	bitmap_release(o, num);
	/* After the release: a claimer that sees the flag clear finds the
	 * slot (or another freed one).  A claimer that set the flag just
	 * before this store only loses its name's observation. */
	__atomic_store_n(&o->full, 0, __ATOMIC_RELAXED);
}

void obs_reclaim(obs_t *o)
{
	if (o == NULL) {
		return;
	}
	for (size_t i = 0; i < o->nretired; i++) {
		slot_free(o, o->retired[i]);
	}
	o->nretired = 0;
}

/* Keep one miss (sync thread); the filter is rebuilt at each wrap, so
 * misses that left 'kept' leave it too. */
static void keep(obs_t *o, uint64_t h, int64_t ms)
{
	o->kept[o->kept_pos].hash = h;
	o->kept[o->kept_pos].ms = ms;
	o->kept_pos = (o->kept_pos + 1) % MISS_KEEP;
	if (o->nkept < MISS_KEEP) {
		o->nkept++;
	}
	if (o->kept_pos == 0) {
		memset(o->filter, 0, sizeof(o->filter));
		for (size_t i = 0; i < o->nkept; i++) {
			uint64_t k = o->kept[i].hash;
			o->filter[(k >> 6) % 16] |= (uint64_t)1 << (k % 64);
		}
	} else {
		o->filter[(h >> 6) % 16] |= (uint64_t)1 << (h % 64);
	}
}

/* Move the rings' new misses into 'kept' (sync thread). */
static void drain(obs_t *o)
{
	for (unsigned k = 0; k < MISS_RINGS; k++) {
		__typeof__(o->rings[0]) *r = &o->rings[k];
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		uint64_t *tail = &o->tail[k];
		if (head - *tail > MISS_RING) {
			o->lost += head - *tail - MISS_RING;
			*tail = head - MISS_RING;
		}
		for (; *tail < head; ++*tail) {
			miss_t *m = &r->e[*tail % MISS_RING];
			uint64_t seq = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
			if (seq > *tail + 1) {
				o->lost++;	/* overwritten by a later miss */
				continue;
			}
			if (seq != *tail + 1) {
				/* Not written yet (its writer is between the
				 * fetch_add and the seq): next round. */
				break;
			}
			/* Acquire loads, then the seq again (it cannot be
			 * read before them): unchanged means hash and time
			 * are the ones it vouched for (a seqlock read). */
			uint64_t h = __atomic_load_n(&m->hash, __ATOMIC_ACQUIRE);
			int64_t ms = __atomic_load_n(&m->ms, __ATOMIC_ACQUIRE);
			if (__atomic_load_n(&m->seq, __ATOMIC_RELAXED) != *tail + 1) {
				o->lost++;
				continue;
			}
			keep(o, h, ms);
		}
	}
}

void obs_published(obs_t *o, struct tnode *n)
{
	if (o == NULL) {
		return;
	}
	int64_t now = wall_ms();
	uint64_t h = table_hash(n->name, n->name_len);

	drain(o);
	if (!(o->filter[(h >> 6) % 16] & ((uint64_t)1 << (h % 64)))) {
		return;		/* no miss for this name: the usual case */
	}
	uint64_t count = 0;
	int64_t first = 0, last = 0;
	for (size_t i = 0; i < o->nkept; i++) {
		if (o->kept[i].hash == h && o->kept[i].ms >= now - EARLY_WINDOW_MS) {
			int64_t ms = o->kept[i].ms;
			first = (count == 0 || ms < first) ? ms : first;
			last = ms > last ? ms : last;
			count++;
			o->kept[i].hash = 0;	/* counted once */
		}
	}
	if (count == 0) {
		return;
	}
	uint32_t num = slot_of(o, n);
	if (num == 0 || num == OBS_DEAD) {
		return;		/* no room: the misses go uncounted */
	}
	slot_t *s = &o->slots[num - 1];
	s->early += count;
	s->early_first = s->early_first == 0 || first < s->early_first ?
	                 first : s->early_first;
	s->early_last = last > s->early_last ? last : s->early_last;
}

void obs_adopt(obs_t *o, table_t *old, table_t *new)
{
	if (o == NULL || old == NULL) {
		return;
	}
	az_read_lock();		/* lfht lookups want one, even here */
	for (uint32_t num = 1; num <= o->nslots; num++) {
		uint32_t i = num - 1;
		if (!(__atomic_load_n(&o->used[i / 64], __ATOMIC_ACQUIRE) &
		      ((uint64_t)1 << (i % 64)))) {
			continue;
		}
		struct tnode *n = (struct tnode *)__atomic_load_n(&o->slots[i].node,
		                                                 __ATOMIC_ACQUIRE);
		if (n == NULL || __atomic_load_n(&n->obs, __ATOMIC_ACQUIRE) != num) {
			continue;
		}
		struct tnode *nn = (struct tnode *)table_lookup(new, n->name,
		                                                n->name_len);
		if (nn == n) {
			continue;	/* already a node of the new table */
		}
		/* n is old's: unreachable (a grace period passed), so its
		 * word and the slot are ours alone now. */
		n->obs = OBS_DEAD;
		uint32_t expect = OBS_NONE;
		bool same = nn != NULL && nn->published == n->published &&
		            (nn->published != 0 || !table_fresh(n->vals, nn->vals));
		if (same &&
		    __atomic_compare_exchange_n(&nn->obs, &expect, num, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_store_n(&o->slots[i].node, nn, __ATOMIC_RELEASE);
			continue;
		}
		slot_free(o, num);
	}
	az_read_unlock();
}

/* Natural logarithm of y >= 1, without libm: y = 2^k * r, r in [1, 2),
 * ln r = 2 atanh((r - 1) / (r + 1)) by its series (|t| <= 1/3). */
static double ln(double y)
{
	int k = 0;
	while (y >= 2.0) {
		y /= 2.0;
		k++;
	}
	double t = (y - 1.0) / (y + 1.0), t2 = t * t, sum = 0.0, pow = t;
	for (int i = 1; i <= 15; i += 2, pow *= t2) {
		sum += pow / i;
	}
	return k * 0.69314718055994531 + 2.0 * sum;
}

/* Distinct sources of s: exact up to AZ_OBS_SOURCES, then estimated
 * from the sketch by linear counting (m ln(m / zero bits)). */
static uint32_t sources(const slot_t *s, uint8_t *flags)
{
	unsigned keys = 0, zero = 0;
	for (unsigned i = 0; i < AZ_OBS_SOURCES; i++) {
		keys += __atomic_load_n(&s->key[i], __ATOMIC_RELAXED) != 0;
	}
	*flags = 0;
	if (keys < AZ_OBS_SOURCES) {
		return keys;
	}
	for (unsigned w = 0; w < SKETCH_BITS / 64; w++) {
		zero += 64 - (unsigned)__builtin_popcountll(
		        __atomic_load_n(&s->sketch[w], __ATOMIC_RELAXED));
	}
	double est = zero > 0 ? SKETCH_BITS * ln((double)SKETCH_BITS / zero) :
	             SKETCH_BITS * ln((double)SKETCH_BITS);
	uint32_t n = (uint32_t)(est + 0.5);
	if (n <= AZ_OBS_SOURCES) {
		return AZ_OBS_SOURCES;	/* exactly the 16 kept, as far as known */
	}
	*flags = AZ_OBS_ESTIMATED;
	return n;
}

/* Slot s (attached to n) as a file entry. */
static void entry(const slot_t *s, const struct tnode *n, az_obs_name_t *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->name, n->name, n->name_len);
	e->name_len = n->name_len;
	e->pub_ms = n->published;	/* writer-only field: we are the writer */
	e->first_ms = __atomic_load_n(&s->first_ms, __ATOMIC_RELAXED);
	e->last_ms = __atomic_load_n(&s->last_ms, __ATOMIC_RELAXED);
	uint64_t c[C_COUNT] = { 0 };
	for (unsigned k = 0; k < STRIPES; k++) {
		for (unsigned i = 0; i < C_COUNT; i++) {
			c[i] += __atomic_load_n(&s->st[k].c[i], __ATOMIC_RELAXED);
		}
	}
	e->udp = c[C_SERVED_UDP] + c[C_NODATA_UDP] + c[C_NX_UDP];
	e->tcp = c[C_SERVED_TCP] + c[C_NODATA_TCP] + c[C_NX_TCP];
	e->queries = e->udp + e->tcp;
	e->dnssec_ok = c[C_DO];
	e->case_mixed = c[C_CASE];
	e->served = c[C_SERVED_UDP] + c[C_SERVED_TCP];
	e->nodata = c[C_NODATA_UDP] + c[C_NODATA_TCP];
	e->nxdomain = c[C_NX_UDP] + c[C_NX_TCP];
	e->early = s->early;
	e->early_first_ms = s->early_first;
	e->early_last_ms = s->early_last;
	e->sources = sources(s, &e->flags);
	for (unsigned i = 0; i < AZ_OBS_SOURCES; i++) {
		/* Acquire: the address was stored before its family. */
		uint8_t fam = __atomic_load_n(&s->fam[i], __ATOMIC_ACQUIRE);
		if (fam == 0) {
			continue;	/* a key still being written */
		}
		az_obs_addr_t *a = &e->src[e->nsrc++];
		uint64_t w[2] = { __atomic_load_n(&s->addr[i][0], __ATOMIC_RELAXED),
		                  __atomic_load_n(&s->addr[i][1], __ATOMIC_RELAXED) };
		a->family = fam;
		memcpy(a->addr, w, 16);
	}
}

int64_t obs_interval_ms(const obs_t *o)
{
	return (o != NULL && o->nused > 0) ? BUSY_MS : INT64_MAX;
}

/* Make room for n entries in the writer's reused buffer. */
static bool entries_reserve(obs_t *o, size_t n)
{
	if (n <= o->ents_cap) {
		return true;
	}
	size_t cap = o->ents_cap ? o->ents_cap : 64;
	while (cap < n) {
		cap *= 2;
	}
	az_obs_name_t *p = realloc(o->ents, cap * sizeof(*p));
	if (p == NULL) {
		return false;
	}
	o->ents = p;
	o->ents_cap = cap;
	return true;
}

/* Call f(o, s, n, num, arg) for each claimed slot attached to its node,
 * a bitmap word at a time: the cost follows the names observed, not the
 * size of the pool.  Stops at a non-zero return.  Sync thread. */
static int each_slot(obs_t *o, int (*f)(obs_t *, const slot_t *,
                     const struct tnode *, uint32_t, void *), void *arg)
{
	for (uint32_t w = 0; w < o->nwords; w++) {
		uint64_t bits = __atomic_load_n(&o->used[w], __ATOMIC_ACQUIRE);
		if (w == o->nwords - 1 && o->nslots % 64 != 0) {
			bits &= ~(~(uint64_t)0 << (o->nslots % 64));	/* padding */
		}
		for (; bits != 0; bits &= bits - 1) {
			uint32_t num = w * 64 + (uint32_t)__builtin_ctzll(bits) + 1;
			const slot_t *s = &o->slots[num - 1];
			/* A claimed slot's node is alive until the writer's
			 * next table_reclaim(): this thread is the writer. */
			const struct tnode *n = __atomic_load_n(&s->node, __ATOMIC_ACQUIRE);
			if (n == NULL || __atomic_load_n(&n->obs, __ATOMIC_ACQUIRE) != num) {
				continue;	/* being claimed, or lost a race */
			}
			int ret = f(o, s, n, num, arg);
			if (ret != 0) {
				return ret;
			}
		}
	}
	return 0;
}

/* each_slot(): a cheap signature of what a file would show. */
static int sig_one(obs_t *o, const slot_t *s, const struct tnode *n,
                   uint32_t num, void *arg)
{
	(void)o;
	(void)n;
	uint64_t *sig = arg, sum = s->early;
	for (unsigned k = 0; k < STRIPES; k++) {
		for (unsigned i = 0; i < C_COUNT; i++) {
			sum += __atomic_load_n(&s->st[k].c[i], __ATOMIC_RELAXED);
		}
	}
	sig[0] = sig[0] * 31 + sum * 7 + num;
	sig[1]++;
	return 0;
}

/* each_slot(): the entry of a slot that saw something. */
static int entry_one(obs_t *o, const slot_t *s, const struct tnode *n,
                     uint32_t num, void *arg)
{
	(void)num;
	az_obs_t *file = arg;
	if (!entries_reserve(o, file->count + 1)) {
		return AZ_ENOMEM;
	}
	az_obs_name_t *e = &o->ents[file->count];
	entry(s, n, e);
	if (e->queries > 0 || e->early > 0) {
		file->count++;
	}
	return 0;
}

int obs_write(obs_t *o, const char *path, bool force)
{
	if (o == NULL) {
		return AZ_EOK;
	}
	drain(o);
	/* Within BUSY_MS of the first change after a quiet second, then at
	 * most once a second while queries keep coming: a name queried
	 * without pause costs one file a second, not one per look. */
	int64_t now = wall_ms();
	if (!force && o->written && now >= o->written_ms &&
	    now - o->written_ms < WRITE_GAP_MS) {
		return AZ_EOK;
	}
	/* Has anything changed?  Sums of counters first; the entries are
	 * built only for a file that will be written. */
	uint64_t sig[2] = { 0, 0 };	/* signature, slots in use */
	(void)each_slot(o, sig_one, sig);
	az_obs_t file = { 0 };
	for (unsigned t = 0; t < NTHREADS; t++) {
		file.unobserved += __atomic_load_n(&o->unobs[t].n, __ATOMIC_RELAXED);
	}
	uint32_t used = (uint32_t)sig[1];
	sig[0] = sig[0] * 31 + file.unobserved + o->lost + used;
	o->nused = used;
	if (!force && o->written && sig[0] == o->written_sig) {
		return AZ_EOK;
	}
	int ret = each_slot(o, entry_one, &file);
	if (ret != 0) {
		return ret;
	}
	file.names = o->ents;
	file.written_ms = now;
	file.since_ms = o->since_ms;
	file.pid = (uint32_t)getpid();
	file.slots = o->nslots;
	file.used = used;
	file.misses_lost = o->lost;
	size_t size = az_obs_size(&file);
	if (size > o->out_cap) {
		uint8_t *b = realloc(o->out, size);
		if (b == NULL) {
			return AZ_ENOMEM;
		}
		o->out = b;
		o->out_cap = size;
	}
	if (az_obs_encode(&file, o->out, size) != size) {
		return AZ_EINVAL;
	}
	ret = az_obs_write(path, o->out, size);
	if (ret == AZ_EOK) {
		o->written = true;
		o->written_sig = sig[0];
		o->written_ms = now;
	}
	return ret;
}
