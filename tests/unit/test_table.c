/* test_table.c -- unit and concurrency tests of the RCU table (run under TSan too). */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "observe.h"
#include "table.h"
#include "tap.h"

static int64_t now;

static void wire(const char *text, uint8_t *w, size_t *len)
{
	if (az_name_parse(text, w, len, NULL) != AZ_EOK) {
		abort();
	}
}

/* Set name to the given values (NULL-terminated), all with one expiry
 * and one publication time (UNIX ms; 0: unknown). */
static int set_pub(table_t *t, const char *name, int64_t expire,
                   int64_t published, const char **values)
{
	uint8_t w[AZ_NAME_MAXLEN], buf[4096];
	size_t len;
	az_val_t vals[16];
	unsigned n = 0;
	wire(name, w, &len);
	for (; values != NULL && values[n] != NULL; n++) {
		vals[n] = (az_val_t){ .expire = expire, .published = published,
		                      .len = (uint16_t)strlen(values[n]),
		                      .data = (const uint8_t *)values[n] };
	}
	if (n == 0) {
		return table_set(t, w, NULL, now);
	}
	size_t rlen = az_rec_encode(buf, sizeof(buf) - AZ_REC_SUMLEN, vals, n);
	rlen = az_rec_seal(buf, rlen, sizeof(buf), w, len);
	az_rec_iter_t it;
	if (az_rec_iter_init(&it, buf, rlen) != AZ_EOK) {
		abort();
	}
	return table_set(t, w, &it, now);
}

static int set(table_t *t, const char *name, int64_t expire, const char **values)
{
	return set_pub(t, name, expire, 0, values);
}

/* What a query would see: -1 absent, else the number of live values;
 * *ent gets the ENT count. */
static int look(table_t *t, const char *name, uint32_t *ent, char *first)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	wire(name, w, &len);
	int ret = -1;
	az_read_lock();
	const tnode_t *n = table_lookup(t, w, len);
	if (n != NULL) {
		const tvals_t *v = table_vals(n);
		*ent = table_ent(n);
		ret = 0;
		const uint8_t *p = v ? v->data : NULL;
		for (unsigned i = 0; v != NULL && i < v->count; i++, p = TVAL_NEXT(p)) {
			if (TVAL_EXPIRE(p) > now) {
				if (ret == 0 && first != NULL) {
					const uint8_t *rd = TVAL_RDATA(p);
					memcpy(first, rd + 1, rd[0]);
					first[rd[0]] = '\0';
				}
				ret++;
			}
		}
	}
	az_read_unlock();
	return ret;
}

static void test_basic(void)
{
	table_t *t = table_new(0);
	uint32_t ent = 0;
	char first[256];
	const char *one[] = { "v1", NULL }, *two[] = { "v1", "v2", NULL };

	tap_is(look(t, "a.zone.test", &ent, NULL), -1, "empty table: absent");
	tap_is(set(t, "a.zone.test", now + 60, one), AZ_EOK, "set one value");
	tap_is(look(t, "a.zone.test", &ent, first), 1, "one live value");
	tap_str(first, "v1", "... the right one");
	tap_is(table_values(t), 1, "values counter");
	tap_is(set(t, "a.zone.test", now + 60, two), AZ_EOK, "replace with two values");
	tap_is(look(t, "a.zone.test", &ent, NULL), 2, "two live values");
	tap_is(table_values(t), 2, "values counter follows");
	tap_is(table_names(t), 1, "one name");
	tap_is(look(t, "zone.test", &ent, NULL), 0, "parent exists as an ENT node");
	tap_is(ent, 1, "... counting one name below");

	set(t, "_acme-challenge.deep.zone.test", now + 60, one);
	tap_is(look(t, "deep.zone.test", &ent, NULL), 0, "deeper name makes its parent an ENT");
	tap_is(ent, 1, "... with one name below");
	look(t, "zone.test", &ent, NULL);
	tap_is(ent, 2, "zone.test now counts two names below");
	set(t, "_acme-challenge.deep.zone.test", 0, NULL);
	tap_is(look(t, "deep.zone.test", &ent, NULL), -1, "removing the only child removes the ENT");
	tap_is(look(t, "_acme-challenge.deep.zone.test", &ent, NULL), -1, "... and the name");
	look(t, "zone.test", &ent, NULL);
	tap_is(ent, 1, "zone.test back to one name below");

	/* A name that is both an ENT and has values. */
	set(t, "zone.test", now + 60, one);
	tap_ok(look(t, "zone.test", &ent, NULL) == 1 && ent == 1, "a name can have values and children");
	set(t, "zone.test", 0, NULL);
	tap_ok(look(t, "zone.test", &ent, NULL) == 0 && ent == 1, "dropping its values keeps the ENT");
	set(t, "a.zone.test", 0, NULL);
	tap_is(look(t, "zone.test", &ent, NULL), -1, "dropping the child removes the ENT too");
	tap_ok(table_values(t) == 0 && table_names(t) == 0, "counters back to zero");

	/* Only live values are loaded. */
	const char *mixed[] = { "x", NULL };
	set(t, "old.zone.test", now - 1, mixed);
	tap_is(look(t, "old.zone.test", &ent, NULL), -1, "a record with only expired values is not loaded");

	/* Expiry sweep. */
	set(t, "e1.zone.test", now + 5, one);
	set(t, "e2.zone.test", now + 10, one);
	set(t, "e3.zone.test", now + 100, one);
	tap_is(table_next_expiry(t), now + 5, "next expiry is the earliest");
	tap_is(table_expire(t, now + 10), 2, "sweep at now+10 drops two values");
	tap_ok(look(t, "e1.zone.test", &ent, NULL) == -1 && look(t, "e2.zone.test", &ent, NULL) == -1,
	       "swept names are gone");
	tap_is(look(t, "e3.zone.test", &ent, NULL), 1, "the later one stays");
	tap_is(table_next_expiry(t), now + 100, "next expiry moves on");
	table_reclaim(t);
	table_free(t);
	table_free(NULL);
}

static void test_many(void)
{
	table_t *t = table_new(0);
	char name[64];
	const char *one[] = { "value", NULL };
	int ok = 1;
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "n%d.zone.test", i);
		ok &= set(t, name, now + 60 + (i % 1000), one) == AZ_EOK;
		if (i % 10000 == 0) {
			table_reclaim(t);
		}
	}
	tap_ok(ok, "100000 names set while the table grows");
	int found = 0;
	uint32_t ent;
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "n%d.zone.test", i);
		found += look(t, name, &ent, NULL) == 1;
	}
	tap_is(found, 100000, "every one found after the resizes");
	tap_is(table_names(t), 100000, "names counter");
	look(t, "zone.test", &ent, NULL);
	tap_is(ent, 100000, "the zone ENT counts them all");
	tap_is(table_expire(t, now + 60 + 499), 50000, "sweep drops exactly the expired half");
	tap_is(table_names(t), 50000, "half the names left");
	table_reclaim(t);
	table_free(t);
}

/*
 * Readers look names up while the writer flips every name between two
 * generations of values.  A reader must always see a whole block of one
 * generation: both values tagged with the same generation.
 */
#define NAMES		64
#define FLIPS		300
#define FLIPS_MAX	300000
#define READERS		2

static table_t *shared;
static int stop_readers;
static long torn, seen;
static int seen_any;	/* a reader has seen values: the race is on */

static void *reader(void *arg)
{
	(void)arg;
	rcu_register_thread();
	char name[64];
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	long my_torn = 0, my_seen = 0;
	unsigned seed = 1;
	while (!__atomic_load_n(&stop_readers, __ATOMIC_ACQUIRE)) {
		snprintf(name, sizeof(name), "c%u.zone.test", rand_r(&seed) % NAMES);
		wire(name, w, &len);
		az_read_lock();
		const tnode_t *n = table_lookup(shared, w, len);
		const tvals_t *v = n ? table_vals(n) : NULL;
		if (v != NULL) {
			const uint8_t *p = v->data;
			char gen0 = TVAL_RDATA(p)[1];
			for (unsigned i = 0; i < v->count; i++, p = TVAL_NEXT(p)) {
				if (TVAL_RDATA(p)[1] != gen0) {
					my_torn++;
				}
			}
			my_torn += v->count != 2;
			if (my_seen++ == 0) {
				__atomic_store_n(&seen_any, 1, __ATOMIC_RELEASE);
			}
		}
		az_read_unlock();
	}
	__atomic_add_fetch(&torn, my_torn, __ATOMIC_RELAXED);
	__atomic_add_fetch(&seen, my_seen, __ATOMIC_RELAXED);
	rcu_unregister_thread();
	return NULL;
}

static void test_concurrent(void)
{
	shared = table_new(0);
	pthread_t th[READERS];
	for (int i = 0; i < READERS; i++) {
		pthread_create(&th[i], NULL, reader, NULL);
	}
	const char *ga[] = { "A1", "A2", NULL }, *gb[] = { "B1", "B2", NULL };
	char name[64];
	int ok = 1;
	/* At least FLIPS, and on a loaded machine more (at most FLIPS_MAX)
	 * until the readers have been scheduled and seen values. */
	for (int f = 0; f < FLIPS || (f < FLIPS_MAX &&
	     !__atomic_load_n(&seen_any, __ATOMIC_ACQUIRE)); f++) {
		for (int i = 0; i < NAMES; i++) {
			snprintf(name, sizeof(name), "c%d.zone.test", i);
			/* Every 7th flip removes a name, to exercise node frees. */
			if (f % 7 == 3 && i % 2 == 0) {
				ok &= set(shared, name, 0, NULL) == AZ_EOK;
			} else {
				ok &= set(shared, name, now + 60, (f % 2) ? gb : ga) == AZ_EOK;
			}
		}
		table_reclaim(shared);
	}
	__atomic_store_n(&stop_readers, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
	}
	tap_ok(ok, "%d flips of %d names under %d readers", FLIPS, NAMES, READERS);
	tap_ok(seen > 0, "readers saw values (%ld lookups with values)", seen);
	tap_is(torn, 0, "no reader ever saw a torn or mixed RRset");
	table_free(shared);
}

/*** Observation (obs.c) through the table, as the hook and the sync use it. ***/

/* A query of name from 10.0.0.src (UDP unless tcp), as the hook counts it. */
static void ask(obs_t *o, table_t *t, const char *name, unsigned src, bool tcp,
                unsigned tid)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	wire(name, w, &len);
	obs_query_t q = { .family = 4, .addr = { 10, 0, (uint8_t)(src >> 8), (uint8_t)src },
	                  .tcp = tcp, .dnssec_ok = tcp, .thread_id = tid };
	az_read_lock();
	const tnode_t *n = table_lookup(t, w, len);
	const tvals_t *v = n != NULL ? table_vals(n) : NULL;
	if (v == NULL) {
		obs_miss(o, tid, w, len);
	} else {
		uint32_t slot = obs_slot(o, n, tid);
		if (slot != 0) {
			obs_hit(o, slot, &q, OBS_SERVED);
		}
	}
	az_read_unlock();
}

/* The file as the sync writes it, read back; the entry of name or NULL. */
static const az_obs_name_t *written(obs_t *o, const char *path, az_obs_t *f,
                                    const char *name)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	wire(name, w, &len);
	az_obs_free(f);
	if (obs_write(o, path, true) != AZ_EOK || az_obs_read(path, f, NULL) != AZ_EOK) {
		return NULL;
	}
	return az_obs_find(f, w, len);
}

struct hammer {
	obs_t *o;
	table_t *t;
	unsigned tid;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	rcu_register_thread();
	for (unsigned i = 0; i < 20000; i++) {
		ask(h->o, h->t, "c.obs.test", i % 40, i % 2, h->tid);
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_observe(void)
{
	static const char *v1[] = { "one", NULL }, *v12[] = { "one", "two", NULL };
	char path[] = "/tmp/azobs-table.XXXXXX";
	int fd = mkstemp(path);
	tap_ok(fd >= 0, "observe: a temporary file");
	close(fd);
	az_obs_t f = { 0 };
	const az_obs_name_t *e;
	obs_t *o = obs_new(2);
	tap_ok(o != NULL, "observe: a pool of 2 slots");
	table_t *t = table_new(0);
	table_observe(t, o);

	/* Asked too early: a miss, then the publication. */
	ask(o, t, "a.obs.test", 9, false, 0);
	set_pub(t, "a.obs.test", now + 60, 1000, v1);
	set_pub(t, "b.obs.test", now + 60, 1000, v1);
	set_pub(t, "c.obs.test", now + 60, 1000, v1);
	ask(o, t, "a.obs.test", 1, false, 0);
	ask(o, t, "a.obs.test", 2, true, 1);
	ask(o, t, "a.obs.test", 1, false, 5);
	ask(o, t, "b.obs.test", 3, false, 0);
	ask(o, t, "c.obs.test", 4, false, 0);	/* no slot left */
	e = written(o, path, &f, "a.obs.test");
	tap_ok(e != NULL && e->queries == 3 && e->udp == 2 && e->tcp == 1 &&
	       e->dnssec_ok == 1 && e->served == 3 && e->sources == 2 && e->nsrc == 2 &&
	       e->early == 1 && e->pub_ms == 1000,
	       "observe: 3 queries from 2 sources, stripes summed, 1 asked too early");
	tap_ok(f.count == 2 && f.unobserved == 1 && f.used == 2 && f.slots == 2,
	       "observe: a full pool: the third name is counted as unobserved");

	/* A new publication at a: reset, and its slot freed after a grace
	 * period, so c gets one. */
	set_pub(t, "a.obs.test", now + 60, 2000, v12);
	e = written(o, path, &f, "a.obs.test");
	tap_ok(e == NULL, "observe: a new publication resets the name");
	table_reclaim(t);
	ask(o, t, "c.obs.test", 4, false, 0);
	e = written(o, path, &f, "c.obs.test");
	tap_ok(e != NULL && e->queries == 1, "observe: the freed slot serves another name");
	/* A refresh (same publication time) is not a new publication. */
	ask(o, t, "b.obs.test", 3, false, 0);
	set_pub(t, "b.obs.test", now + 120, 1000, v1);
	e = written(o, path, &f, "b.obs.test");
	tap_ok(e != NULL && e->queries == 2, "observe: a refreshed expiry keeps the counts");
	/* Deleted: no longer observed. */
	set(t, "b.obs.test", 0, NULL);
	table_reclaim(t);
	e = written(o, path, &f, "b.obs.test");
	tap_ok(e == NULL && f.used == 1, "observe: a deleted name's slot is freed");

	/* A full load: a new table with the same publication takes over
	 * the slot; another publication does not. */
	set_pub(t, "d.obs.test", now + 60, 3000, v1);
	ask(o, t, "d.obs.test", 7, false, 0);
	table_t *t2 = table_new(0);
	set_pub(t2, "c.obs.test", now + 60, 1000, v1);
	set_pub(t2, "d.obs.test", now + 60, 4000, v1);	/* republished */
	table_observe(t2, o);
	obs_adopt(o, t, t2);
	table_free(t);
	t = t2;
	e = written(o, path, &f, "c.obs.test");
	tap_ok(e != NULL && e->queries == 1, "observe: a full load keeps the counts of the same publication");
	tap_ok(written(o, path, &f, "d.obs.test") == NULL && f.used == 1,
	       "observe: and drops those of a name published anew");
	ask(o, t, "c.obs.test", 4, false, 0);
	e = written(o, path, &f, "c.obs.test");
	tap_ok(e != NULL && e->queries == 2, "observe: the new table's node counts on");

	/* Many sources, several threads, while the writer writes. */
	struct hammer h[2] = { { o, t, 0 }, { o, t, 1 } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		pthread_create(&th[i], NULL, hammer_main, &h[i]);
	}
	for (int i = 0; i < 20; i++) {
		(void)obs_write(o, path, true);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
	}
	e = written(o, path, &f, "c.obs.test");
	tap_ok(e != NULL && e->queries == 40002, "observe: 40002 queries from 3 threads, none lost (%llu)",
	       e != NULL ? (unsigned long long)e->queries : 0ULL);
	tap_ok(e != NULL && e->nsrc == 16 && (e->flags & AZ_OBS_ESTIMATED) &&
	       e->sources >= 30 && e->sources <= 55,
	       "observe: 40 sources: 16 kept, about %u estimated", e != NULL ? e->sources : 0);
	tap_ok(e != NULL && e->udp == 20002 && e->tcp == 20000, "observe: UDP and TCP apart");
	az_obs_free(&f);
	table_free(t);
	obs_free(o);
	unlink(path);
}

int main(void)
{
	now = (int64_t)time(NULL);
	rcu_register_thread();
	test_basic();
	test_many();
	test_concurrent();
	test_observe();
	rcu_unregister_thread();
	return tap_done();
}
