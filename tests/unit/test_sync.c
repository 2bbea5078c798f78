/* test_sync.c -- the sync thread against a real store: read-your-writes, incremental and full loads, files coming and going. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <sys/mman.h>
#include <sys/stat.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recclient.h"
#include "sync.h"
#include "tap.h"
#include "testlib.h"

static const char *V1 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123";
static char dir[] = "/tmp/az-test-sync-XXXXXX";
static char db[256];

static bool logged(rec_client_t *r, const char *needle)
{
	return rec_count(r, needle) > 0;
}

/* Bounded wait (1 s) for a log line holding needle. */
static bool wait_logged(rec_client_t *r, const char *needle)
{
	bool said = logged(r, needle);
	for (int i = 0; i < 200 && !said; i++) {
		usleep(5000);
		said = logged(r, needle);
	}
	return said;
}

/* Live values at name as a query would see them, -1 if absent. */
static int served(sync_src_t *src, const char *text)
{
	return rec_served(src, text, NULL, NULL);
}

/*
 * One CLI-like write: a transaction, then (ring) a ring and a wait for the
 * ack.  op 'a': add V1 at name, or with count > 1 at n0.name .. n<count-1>.name;
 * 'd': delete those names; 'm': add count distinct values at the one name,
 * one batch that touches a name count times.  Without ring the writer
 * neither rings nor waits (the sync thread may be held).
 */
static int write_op_here(const char *path, const char *name, char op, int count, bool ring,
                         uint64_t *id_out)
{
	az_store_t *st;
	az_txn_t *t;
	int ret = az_store_open(&st, path, 0);
	if (ret != AZ_EOK) {
		return ret;
	}
	if ((ret = az_txn_begin(st, &t)) != AZ_EOK) {
		az_store_close(st);
		return ret;
	}
	int64_t now = (int64_t)time(NULL);
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	char buf[300];
	az_name_parse(name, w, &len, NULL);
	for (int i = 0; i < count && ret == AZ_EOK; i++) {
		if (op == 'm') {
			snprintf(buf, sizeof(buf), "%043d", i);
			ret = az_txn_add(t, w, (const uint8_t *)buf, 43, now + 3600, now);
			continue;
		}
		if (count > 1) {
			snprintf(buf, sizeof(buf), "n%d.%s", i, name);
			az_name_parse(buf, w, &len, NULL);
		}
		ret = op == 'd' ? az_txn_del(t, w, NULL, 0, NULL) :
		      az_txn_add(t, w, (const uint8_t *)V1, 43, now + 3600, now);
	}
	uint64_t id = 0;
	ret = ret == AZ_EOK ? az_txn_commit(t, &id) : (az_txn_abort(t), ret);
	az_store_close(st);
	if (id_out != NULL) {
		*id_out = id;
	}
	if (ret != AZ_EOK || !ring) {
		return ret;
	}
	az_notify_t *nt;
	if ((ret = az_notify_open(&nt, path, false)) != AZ_EOK) {
		return ret;
	}
	az_notify_ring(nt);
	ret = az_notify_wait(nt, id, 5000, NULL);
	az_notify_close(nt);
	return ret;
}

/* write_op_here() in a child process, as the CLI writes (see testlib.h). */
static int write_child(const char *path, const char *name, char op, int count, bool ring,
                       uint64_t *id_out)
{
	char count_s[16], op_s[2] = { op, '\0' }, idfile[300];
	snprintf(count_s, sizeof(count_s), "%d", count);
	snprintf(idfile, sizeof(idfile), "%s/child-id", dir);
	unlink(idfile);
	char *args[] = { "write", (char *)path, (char *)name, op_s, count_s,
	                 ring ? "ring" : "quiet", idfile, NULL };
	int ret = test_run_self(args) == 0 ? AZ_EOK : AZ_EIO;
	/* The child leaves the id it committed in idfile. */
	if (id_out != NULL) {
		unsigned long long id = 0;
		FILE *f = fopen(idfile, "r");
		if (f == NULL || fscanf(f, "%llu", &id) != 1) {
			id = 0;
		}
		if (f != NULL) {
			fclose(f);
		}
		*id_out = id;
	}
	return ret;
}

static int write_op(const char *path, const char *name, bool del, int count, uint64_t *id_out)
{
	return write_child(path, name, del ? 'd' : 'a', count, true, id_out);
}

static int create_db(const char *path)
{
	char *args[] = { "create", (char *)path, NULL };
	return test_run_self(args);
}

/* Put a record that does not decode, and log it like a real write. */
static int write_corrupt(const char *path)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi tok, log;
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 4);
	mdb_env_open(env, path, MDB_NOSUBDIR, 0640);
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "tok", 0, &tok);
	mdb_dbi_open(txn, "log", 0, &log);
	uint8_t w[AZ_NAME_MAXLEN];
	size_t wl;
	az_name_parse("bad.acme.test", w, &wl, NULL);
	uint8_t junk[] = { 1, 0, 1, 0, 0, 0, 0, 0x7f, 0, 0, 0, 50, 'x' };
	MDB_val k = { wl, w }, d = { sizeof(junk), junk };
	mdb_put(txn, tok, &k, &d, 0);
	uint64_t tid = mdb_txn_id(txn);
	uint8_t kb[8], lv[1 + AZ_NAME_MAXLEN];
	for (int i = 7, x = 0; i >= 0; i--, x++) {
		kb[i] = (uint8_t)(tid >> (8 * x));
	}
	lv[0] = 0;
	memcpy(lv + 1, w, wl);
	MDB_val lk = { 8, kb }, ld = { 1 + wl, lv };
	mdb_put(txn, log, &lk, &ld, 0);
	mdb_txn_commit(txn);
	mdb_env_close(env);
	return AZ_EOK;
}

/* The other end of test_run_self(): "--child OP ARGS". */
static int child_main(int argc, char **argv)
{
	if (argc == 9 && strcmp(argv[2], "write") == 0) {
		uint64_t id = 0;
		int ret = write_op_here(argv[3], argv[4], argv[5][0], atoi(argv[6]),
		                        strcmp(argv[7], "ring") == 0, &id);
		FILE *f = fopen(argv[8], "w");
		if (f != NULL) {
			fprintf(f, "%llu\n", (unsigned long long)id);
			fclose(f);
		}
		return ret == AZ_EOK ? 0 : 1;
	} else if (argc == 4 && strcmp(argv[2], "create") == 0) {
		return az_store_create(argv[3], (gid_t)-1) == AZ_EOK ? 0 : 1;
	} else if (argc == 4 && strcmp(argv[2], "corrupt") == 0) {
		return write_corrupt(argv[3]) == AZ_EOK ? 0 : 1;
	}
	return 2;
}

static bool wait_applied(sync_src_t *src, uint64_t id)
{
	/* Bounded wait on a real condition (used where no ack exists yet). */
	for (int i = 0; i < 1000 && sync_applied(src) < id; i++) {
		usleep(5000);
	}
	return sync_applied(src) >= id;
}

static void test_ryw(void)
{
	rec_client_t rc = REC_CLIENT_INIT;
	sync_src_t *src = NULL;
	az_store_create(db, (gid_t)-1);
	int before = test_threads();
	tap_is(sync_attach(db, 1000, &rc.c, &src), AZ_EOK, "attach to a store");
	uint64_t id;
	/* The first load claims a slot; until then a writer may not wait. */
	write_op(db, "first.acme.test", false, 1, &id);
	tap_ok(wait_applied(src, id), "first state loaded");
	tap_ok(logged(&rc, "opened"), "open is logged");

	int fails = 0;
	for (int i = 0; i < 300; i++) {
		char name[64];
		snprintf(name, sizeof(name), "r%d.acme.test", i % 7);
		if (write_op(db, name, false, 1, NULL) != AZ_EOK || served(src, name) != 1) {
			fails++;
		}
		if (write_op(db, name, true, 1, NULL) != AZ_EOK || served(src, name) != -1) {
			fails++;
		}
	}
	tap_is(fails, 0, "300 add/del rounds: every write acknowledged and visible at once");

	/* Incremental: one change at 20000 names is not a full load. */
	write_op(db, "bulk.acme.test", false, 20000, &id);
	tap_is(served(src, "n19999.bulk.acme.test"), 1, "a 20000-name batch is served after its ack");
	sync_stats_t s0 = rec_counters(&rc);
	int wret = write_op(db, "one-more.acme.test", false, 1, &id);
	sync_stats_t s1 = rec_counters(&rc);
	tap_diag("write %d id %llu applied %llu syncs %llu -> %llu tokens %llu -> %llu", wret,
	         (unsigned long long)id, (unsigned long long)sync_applied(src),
	         (unsigned long long)s0.syncs, (unsigned long long)s1.syncs,
	         (unsigned long long)s0.tokens, (unsigned long long)s1.tokens);
	tap_ok(s1.full_loads == s0.full_loads && s1.syncs == s0.syncs + 1,
	       "one new token at 20000 is applied incrementally (full loads %llu -> %llu)",
	       (unsigned long long)s0.full_loads, (unsigned long long)s1.full_loads);
	tap_is(s1.tokens, 20002, "tokens counter");
	tap_is(served(src, "one-more.acme.test"), 1, "and is served");

	/* A corrupt record is skipped with a log line; the rest is served. */
	char *corrupt[] = { "corrupt", db, NULL };
	tap_is(test_run_self(corrupt), 0, "a corrupt record is written behind the store's back");
	write_op(db, "after-bad.acme.test", false, 1, &id);
	tap_ok(logged(&rc, "skipping corrupt record 'bad.acme.test.'"), "corrupt record logged by name");
	tap_is(served(src, "bad.acme.test"), -1, "corrupt record not served");
	tap_is(served(src, "after-bad.acme.test"), 1, "later writes still served");

	/* The file replaced by a new one (new inode): picked up by itself. */
	char lock[300], syncf[300];
	snprintf(lock, sizeof(lock), "%s-lock", db);
	snprintf(syncf, sizeof(syncf), "%s-sync", db);
	unlink(db);
	unlink(lock);
	unlink(syncf);
	create_db(db);
	write_op(db, "new-file.acme.test", false, 1, &id);
	/* The old slot went with the old sync file: wait on the state. */
	bool picked = false;
	for (int i = 0; i < 600 && !picked; i++) {
		picked = served(src, "new-file.acme.test") == 1;
		usleep(5000);
	}
	tap_ok(picked, "a replaced database file is picked up without restart");
	tap_is(served(src, "first.acme.test"), -1, "... and the old content is gone");

	sync_detach(src, &rc.c);
#ifdef AZ_TSAN
	(void)before;
	tap_ok(1, "detach leaves no thread behind # SKIP TSan runs threads of its own");
#else
	tap_is(test_threads(), before, "detach leaves no thread behind");
#endif
}

static void test_late_db(void)
{
	char late[300];
	snprintf(late, sizeof(late), "%s/late.mdb", dir);
	rec_client_t rc = REC_CLIENT_INIT;
	sync_src_t *src = NULL;
	tap_is(sync_attach(late, 50, &rc.c, &src), AZ_EOK, "attach to a database that does not exist");
	bool said = wait_logged(&rc, "cannot be opened");
	tap_ok(said, "missing database logged");
	create_db(late);
	uint64_t id;
	write_op(late, "late.acme.test", false, 1, &id);
	tap_ok(wait_applied(src, id), "the database is picked up when it appears");
	tap_is(served(src, "late.acme.test"), 1, "and served");

	/* Two users of one path share one source (the reload overlap). */
	rec_client_t rc2 = REC_CLIENT_INIT;
	sync_src_t *src2 = NULL;
	char other[300];
	snprintf(other, sizeof(other), "%s/./late.mdb", dir);	/* another spelling */
	sync_attach(other, 50, &rc2.c, &src2);
	tap_ok(src2 == src, "a second instance on the same file (spelt differently) shares the source");
	tap_ok(rec_counters(&rc2).tokens == 1, "... and starts with the current counters");
	sync_detach(src, &rc.c);
	write_op(late, "late2.acme.test", false, 1, &id);
	tap_is(served(src2, "late2.acme.test"), 1, "the remaining instance keeps serving");
	sync_detach(src2, &rc2.c);
}

/* write_child() of count values at one name; the id committed, 0 if none. */
static uint64_t write_many(const char *path, const char *name, int count, bool ring)
{
	uint64_t id = 0;
	return write_child(path, name, 'm', count, ring, &id) == AZ_EOK ? id : 0;
}

/*
 * Each changed name is read once per sync, whatever the writes did to it:
 * counted (the 'reads' counter), not timed.
 */
static void test_read_once(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/once.mdb", dir);
	rec_client_t rc = REC_CLIENT_INIT;
	sync_src_t *src = NULL;
	create_db(path);
	tap_is(sync_attach(path, 1000, &rc.c, &src), AZ_EOK, "attach to a fresh store");
	uint64_t id;
	write_op(path, "first.acme.test", false, 1, &id);
	tap_ok(wait_applied(src, id), "first state loaded");

	/* One batch that touches one name 1024 times. */
	sync_stats_t s0 = rec_counters(&rc);
	id = write_many(path, "hot.acme.test", 1024, true);
	sync_stats_t s1 = rec_counters(&rc);
	tap_ok(id != 0 && sync_applied(src) >= id, "a batch of 1024 values at one name is acknowledged");
	tap_is(served(src, "hot.acme.test"), 1024, "... and all 1024 are served");
	tap_ok(s1.syncs == s0.syncs + 1 && s1.full_loads == s0.full_loads,
	       "... after one incremental sync");
	tap_is(s1.reads - s0.reads, 1, "... that read the name's record once, not 1024 times");

	/* Several transactions at one name, all applied by one sync. */
	sync_hold(src);
	uint64_t last = 0;
	int ok = 0;
	char name[64];
	for (int i = 0; i < 5; i++) {
		last = write_many(path, "burst.acme.test", 10 + i, false);
		ok += last != 0;
	}
	snprintf(name, sizeof(name), "other.acme.test");
	last = write_many(path, name, 3, false);
	ok += last != 0;
	s0 = rec_counters(&rc);
	sync_release(src);
	tap_is(ok, 6, "six transactions committed while the sync thread was held");
	tap_ok(wait_applied(src, last), "... all applied");
	s1 = rec_counters(&rc);
	tap_is(served(src, "burst.acme.test"), 14, "the name written five times is served with its 14 values");
	tap_is(served(src, name), 3, "the other name too");
	tap_ok(s1.syncs == s0.syncs + 1, "... in one sync (%llu)",
	       (unsigned long long)(s1.syncs - s0.syncs));
	tap_is(s1.reads - s0.reads, 2, "... that read each of the two names once");
	sync_detach(src, &rc.c);
}

/*
 * A store that others than root and the writers could have written is not
 * served (doc/security.md); what was loaded while it was trusted stays.
 */
static void test_exposed(void)
{
	char ex[300];
	uint64_t id = 0;
	snprintf(ex, sizeof(ex), "%s/exposed.mdb", dir);
	create_db(ex);
	write_op(ex, "ex.acme.test", false, 1, &id);
	tap_ok(chmod(ex, 0646) == 0, "exposed: the data file made writable by any user");
	rec_client_t rc = REC_CLIENT_INIT;
	sync_src_t *src = NULL;
	tap_is(sync_attach(ex, 50, &rc.c, &src), AZ_EOK, "exposed: attach to it");
	bool said = wait_logged(&rc, "is not served: it is writable by any user");
	tap_ok(said, "exposed: refused with a log line naming why");
	tap_is(served(src, "ex.acme.test"), -1, "exposed: nothing of it is served");
	tap_ok(chmod(ex, 0640) == 0, "exposed: mode fixed");
	tap_ok(wait_applied(src, id), "exposed: loaded by itself once fixed");
	tap_is(served(src, "ex.acme.test"), 1, "exposed: and served");

	/* Exposed while served: to a group other than root's this time. */
	tap_ok(chown(ex, (uid_t)-1, 1) == 0 && chmod(ex, 0660) == 0,
	       "exposed: the data file made writable by its group (gid 1)");
	said = wait_logged(&rc, "is not served: it is writable by its group");
	tap_ok(said, "exposed: noticed while open, with a log line");
	tap_is(served(src, "ex.acme.test"), 1, "exposed: what was loaded before stays served");
	usleep(300000);	/* six more polls: no more lines */
	tap_is(rec_count(&rc, "is not served"), 2, "exposed: one line per change of state, not per poll");
	sync_detach(src, &rc.c);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], TEST_CHILD_FLAG) == 0) {
		return child_main(argc, argv);
	}
	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);
	rcu_register_thread();
	test_ryw();
	test_late_db();
	test_read_once();
	test_exposed();
	rcu_unregister_thread();
	test_rmtree(dir);
	return tap_done();
}
