/* test_stress.c -- the table and the sync thread alone under a torture-like load: reader threads check every lookup against what writers committed. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * The protocol of tests/long/torture.c without knotd and without the CLI, so
 * that it runs fast and under ThreadSanitizer: a writer process commits,
 * rings and waits for the acknowledgement as the CLI does, over names it
 * owns, values from a known sequence (step m takes a name from {m-2, m-1}
 * to {m-1, m}, in one transaction, or in two when m % 4 == 0); reader
 * threads look names up in the RCU table exactly as the answer hook does
 * and flag a torn RRset, a state older than an acknowledged write, or a
 * value never written.  STRESS_MS (default 3000) sets the length.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sync.h"
#include "tap.h"
#include "testlib.h"

#define NAMES		24
#define READERS		4
#define BATCH		6

typedef struct {
	_Atomic uint64_t started[NAMES], acked[NAMES];
	_Atomic uint64_t commits;
	_Atomic int stop, go;
} shared_t;

static shared_t *sh;
static char dir[64];
static char db[256];
static sync_src_t *src;
static _Atomic uint64_t lookups, checked, torn, stale, future, foreign;

static void name_of(int j, uint8_t w[AZ_NAME_MAXLEN], size_t *len)
{
	char text[64];
	snprintf(text, sizeof(text), "n%d.stress.test", j);
	az_name_parse(text, w, len, NULL);
}

static void value_of(int j, uint64_t m, char out[44])
{
	char t[64];
	snprintf(t, sizeof(t), "n%02ds%012" PRIu64, j, m);
	memset(out, '-', 43);
	memcpy(out, t, strlen(t));
	out[43] = '\0';
}

/*** The writer (a child process, as the CLI is). ***/

static int commit_wait(az_store_t *st, az_txn_t *t, az_notify_t *nt)
{
	uint64_t id = 0;
	(void)st;
	int ret = az_txn_commit(t, &id);
	if (ret != AZ_EOK) {
		return ret;
	}
	atomic_fetch_add(&sh->commits, 1);
	az_notify_ring(nt);
	return az_notify_wait(nt, id, 5000, NULL);
}

static int txn_step(az_txn_t *t, int j, uint64_t m, bool add, int64_t now)
{
	uint8_t w[AZ_NAME_MAXLEN];
	size_t len;
	char v[44];
	name_of(j, w, &len);
	value_of(j, m, v);
	return add ? az_txn_add(t, w, (const uint8_t *)v, 43, now + 3600, now) :
	             az_txn_del(t, w, (const uint8_t *)v, 43, NULL);
}

static int writer(void)
{
	az_store_t *st;
	az_notify_t *nt;
	uint64_t cur[NAMES] = { 0 }, rng = 0x1234567;
	if (az_store_open(&st, db, 0) != AZ_EOK || az_notify_open(&nt, db, false) != AZ_EOK) {
		return 1;
	}
	while (!atomic_load(&sh->stop)) {
		az_txn_t *t;
		int64_t now = (int64_t)time(NULL);
		int j = (int)(test_rng(&rng) % NAMES);
		uint64_t m = cur[j] + 1;
		if (m % 4 == 0) {
			atomic_store(&sh->started[j], m);
			if (az_txn_begin(st, &t) != AZ_EOK || txn_step(t, j, m, true, now) != AZ_EOK ||
			    commit_wait(st, t, nt) != AZ_EOK) {
				return 1;
			}
			atomic_store(&sh->acked[j], m);
			if (az_txn_begin(st, &t) != AZ_EOK || txn_step(t, j, m - 2, false, now) != AZ_EOK ||
			    commit_wait(st, t, nt) != AZ_EOK) {
				return 1;
			}
			cur[j] = m;
			continue;
		}
		int picked[BATCH], np = 0;
		if (az_txn_begin(st, &t) != AZ_EOK) {
			return 1;
		}
		for (int k = 0; k < BATCH; k++) {
			int jj = k == 0 ? j : (int)(test_rng(&rng) % NAMES);
			bool dup = false;
			for (int q = 0; q < np; q++) {
				dup |= picked[q] == jj;
			}
			uint64_t mm = cur[jj] + 1;
			if (dup || mm % 4 == 0) {
				continue;
			}
			picked[np++] = jj;
			atomic_store(&sh->started[jj], mm);
			if (txn_step(t, jj, mm, true, now) != AZ_EOK ||
			    (mm > 2 && txn_step(t, jj, mm - 2, false, now) != AZ_EOK)) {
				return 1;
			}
		}
		if (commit_wait(st, t, nt) != AZ_EOK) {
			return 1;
		}
		for (int q = 0; q < np; q++) {
			cur[picked[q]]++;
			atomic_store(&sh->acked[picked[q]], cur[picked[q]]);
		}
	}
	az_notify_close(nt);
	az_store_close(st);
	return 0;
}

/*** Readers: the answer hook's way of reading the table. ***/

static void *reader(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 7;
	rcu_register_thread();
	while (!atomic_load(&sh->stop)) {
		int j = (int)(test_rng(&rng) % NAMES);
		uint8_t w[AZ_NAME_MAXLEN];
		size_t len;
		name_of(j, w, &len);
		uint64_t acked = atomic_load(&sh->acked[j]);
		uint64_t lo = UINT64_MAX, hi = 0, n = 0;
		bool bad_value = false;
		int64_t now = (int64_t)time(NULL);

		az_read_lock();
		table_t *t = sync_table(src);
		const tnode_t *node = t ? table_lookup(t, w, len) : NULL;
		const tvals_t *v = node ? table_vals(node) : NULL;
		const uint8_t *p = v ? v->data : NULL;
		for (unsigned i = 0; v != NULL && i < v->count; i++, p = TVAL_NEXT(p)) {
			if (TVAL_EXPIRE(p) <= now) {
				continue;
			}
			char val[44], want[44];
			uint64_t m = 0;
			int jj = -1;
			const uint8_t *rd = TVAL_RDATA(p);
			memcpy(val, rd + 1, rd[0] < 43 ? rd[0] : 43);
			val[rd[0] < 43 ? rd[0] : 43] = '\0';
			if (rd[0] != 43 || sscanf(val, "n%2ds%12" SCNu64, &jj, &m) != 2 || jj != j) {
				bad_value = true;
				continue;
			}
			value_of(j, m, want);
			bad_value |= strcmp(want, val) != 0;
			lo = m < lo ? m : lo;
			hi = m > hi ? m : hi;
			n++;
		}
		az_read_unlock();
		uint64_t started = atomic_load(&sh->started[j]);

		atomic_fetch_add(&lookups, 1);
		if (n == 0 && !bad_value) {
			if (acked > 0) {
				atomic_fetch_add(&stale, 1);
			}
			continue;
		}
		atomic_fetch_add(&checked, 1);
		bool run = n == hi - lo + 1;
		bool shape = (hi == 1 && n == 1) || (hi > 1 && n == 2) || (hi % 4 == 0 && n == 3);
		if (bad_value) {
			atomic_fetch_add(&foreign, 1);
		} else if (!run || !shape) {
			atomic_fetch_add(&torn, 1);
		} else if (hi < acked) {
			atomic_fetch_add(&stale, 1);
		} else if (hi > started) {
			atomic_fetch_add(&future, 1);
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static void log_cb(sync_client_t *c, int prio, const char *msg)
{
	(void)c;
	(void)prio;
	(void)msg;
}

int main(void)
{
	const char *ms_env = getenv("STRESS_MS");
	long ms = ms_env != NULL ? atol(ms_env) : 3000;
	/* On a tmpfs if there is one: commits without a disk flush, so many
	 * more of them race the readers. */
	snprintf(dir, sizeof(dir), "%s/az-test-stress-XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	rcu_register_thread();

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		_exit(az_store_create(db, (gid_t)-1) == AZ_EOK ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "create a store");

	/* The writer is forked before any thread exists: a child of a
	 * threaded process must not run library code (an allocator lock
	 * held by another thread at the fork stays held in the child, and
	 * ASan's allocator is not fork-safe).  It waits for 'go'. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		while (!atomic_load(&sh->go) && !atomic_load(&sh->stop)) {
			usleep(1000);
		}
		_exit(writer());
	}

	static sync_client_t client = { log_cb, NULL, NULL, 0 };
	tap_is(sync_attach(db, 50, &client, &src), AZ_EOK, "attach the sync thread");
	/* The writer may only wait on us once our slot is claimed. */
	for (int i = 0; i < 400 && sync_applied(src) == 0; i++) {
		usleep(5000);
	}
	tap_ok(sync_applied(src) > 0, "the store is loaded (and our slot claimed)");

	pthread_t th[READERS];
	for (uintptr_t i = 0; i < READERS; i++) {
		pthread_create(&th[i], NULL, reader, (void *)i);
	}
	atomic_store(&sh->go, 1);
	int64_t end = test_mono_ms() + ms;
	while (test_mono_ms() < end) {
		usleep(20000);
	}
	atomic_store(&sh->stop, 1);
	waitpid(pid, &status, 0);
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
	}
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer committed and was acknowledged throughout");
	tap_diag("%ld ms: %" PRIu64 " commits, %" PRIu64 " lookups, %" PRIu64 " checked",
	         ms, atomic_load(&sh->commits), atomic_load(&lookups), atomic_load(&checked));
	tap_ok(atomic_load(&sh->commits) > 50, "the writer wrote (%" PRIu64 " commits)",
	       atomic_load(&sh->commits));
	tap_ok(atomic_load(&checked) > 1000, "the readers read (%" PRIu64 " lookups with values)",
	       atomic_load(&checked));
	tap_is(atomic_load(&torn), 0, "no torn RRset");
	tap_is(atomic_load(&stale), 0, "no state older than an acknowledged write");
	tap_is(atomic_load(&future), 0, "no value that was not written");
	tap_is(atomic_load(&foreign), 0, "no value of another name");

	sync_detach(src, &client);
	rcu_unregister_thread();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
