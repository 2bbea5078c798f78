/* test_faults.c -- the sync thread against a damaged store: truncated, upgraded, flipped, rewound, grown, its side files cut. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * Every case follows one pattern: a known good state is served, the fault
 * is made behind the store's back (in a child process, as another program
 * would), the sync thread must log it once and keep answering from the last
 * good state -- never crash: most of these faults raise SIGBUS in a reader
 * that touches the map unguarded -- and once the file is good again the
 * new state must be served without a restart.  doc/reliability.md has the
 * table these tests check.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "recclient.h"
#include "sync.h"
#include "tap.h"
#include "testlib.h"

#define POLL_MS		50	/* the sync thread's slow-path interval here */
#define WAIT_MS		5000	/* bound of every wait on a condition */

static const char *V1 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123";
static const char *V2 = "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONM-_9";
extern char **environ;
static char dir[] = "/tmp/az-test-faults-XXXXXX";
static char db[256], lockfile[300], syncf[300];

/*** A client that records what the sync thread says. ***/

static rec_client_t rc = REC_CLIENT_INIT;

static int logged(const char *needle)
{
	return rec_count(&rc, needle);
}

static void log_clear(void)
{
	rec_clear(&rc);
}

static void log_dump(void)
{
	rec_dump(&rc);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Wait (bounded) until the log has needle. */
static bool wait_log(const char *needle)
{
	int64_t end = test_mono_ms() + WAIT_MS;
	while (logged(needle) == 0 && test_mono_ms() < end) {
		sleep_ms(5);
	}
	return logged(needle) > 0;
}

/*** What a query would see. ***/

static sync_src_t *src;

/* Live values at name, -1 if the name is absent; *has_v2 if V2 is one. */
static int served2(const char *text, bool *has_v2)
{
	return rec_served(src, text, V2, has_v2);
}

static int served(const char *text)
{
	return served2(text, NULL);
}

/* Wait (bounded) until name has 'want' live values (-1: absent). */
static bool wait_served(const char *text, int want)
{
	int64_t end = test_mono_ms() + WAIT_MS;
	while (served(text) != want && test_mono_ms() < end) {
		sleep_ms(5);
	}
	return served(text) == want;
}

/*** Writers: the real CLI, in processes of their own. ***/

/*
 * Writers run as other programs: LMDB allows one open of a file per
 * process, and a fork()ed child of this threaded process must not run
 * library code (the sync thread may hold an allocator lock at the fork:
 * ASan's is not fork-safe).  posix_spawn() execs at once.
 */
static char cli_path[512], tool_path[512], errfile[300];

static int spawn(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;
	fflush(stdout);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ret = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0 || waitpid(pid, &status, 0) != pid) {
		return AZ_EIO;
	}
	/* Anything on stderr (a warning that knotd did not acknowledge,
	 * too) counts as a failure: these writes must go through cleanly. */
	struct stat st;
	bool quiet = stat(errfile, &st) == 0 && st.st_size == 0;
	if (!quiet) {
		FILE *f = fopen(errfile, "r");
		char line[512];
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			tap_diag("%s: %s", argv[0], line);
		}
		if (f != NULL) {
			fclose(f);
		}
	}
	if (WIFSIGNALED(status)) {
		tap_diag("%s killed by signal %d", argv[0], WTERMSIG(status));
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && quiet ? AZ_EOK : AZ_EIO;
}

/* What used to run in a child: now a spawn, same contract. */
static int op(int (*fn)(void *), void *arg)
{
	return fn(arg);
}

typedef struct {
	const char *name;	/* with count > 1: "n<i>.<name>" */
	const char *value;
	int count;
	bool del;
	bool wait;		/* wait for the acknowledgement (the CLI's default) */
} wr_t;

static int write_child(void *arg)
{
	wr_t *w = arg;
	char batch[320];
	char *argv[12];
	int n = 0;
	argv[n++] = cli_path;
	argv[n++] = "--db";
	argv[n++] = db;
	if (!w->wait) {
		argv[n++] = "--no-wait";
	}
	if (w->count == 1) {
		argv[n++] = w->del ? "del" : "add";
		argv[n++] = (char *)w->name;
		if (!w->del) {
			argv[n++] = (char *)w->value;
		}
	} else {
		snprintf(batch, sizeof(batch), "%s/batch", dir);
		FILE *f = fopen(batch, "w");
		if (f == NULL) {
			return AZ_EIO;
		}
		for (int i = 0; i < w->count; i++) {
			if (w->del) {
				fprintf(f, "del n%d.%s\n", i, w->name);
			} else {
				fprintf(f, "add n%d.%s %s\n", i, w->name, w->value);
			}
		}
		fclose(f);
		argv[n++] = "apply";
		argv[n++] = batch;
	}
	argv[n] = NULL;
	return spawn(argv);
}

static int add(const char *name, const char *value, bool wait)
{
	wr_t w = { name, value, 1, false, wait };
	return op(write_child, &w);
}

static int create_child(void *arg)
{
	char gid[32];
	(void)arg;
	snprintf(gid, sizeof(gid), "%u", (unsigned)getgid());
	char *argv[] = { cli_path, "--db", db, "init", "--group", gid, NULL };
	return spawn(argv);
}

/* Set the schema record with plain LMDB, as another version would. */
static int set_schema_child(void *arg)
{
	char n[8];
	snprintf(n, sizeof(n), "%u", (unsigned)(uintptr_t)arg);
	char *argv[] = { tool_path, "schema", db, n, NULL };
	return spawn(argv);
}

/* Ring the doorbell, as a writer would after a commit: wakes the thread. */
static void ring(void)
{
	az_notify_t *nt;
	if (az_notify_open(&nt, db, false) == AZ_EOK) {
		az_notify_ring(nt);
		az_notify_close(nt);
	}
}

/*** File surgery. ***/

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		return -1;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len + 1);
	ssize_t n = *buf ? read(fd, *buf, *len) : -1;
	close(fd);
	return n == (ssize_t)*len ? 0 : -1;
}

/* Write buf into path: in place (same inode, as cp does) or by rename. */
static int write_file(const char *path, const uint8_t *buf, size_t len, bool in_place)
{
	char tmp[320];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	const char *target = in_place ? path : tmp;
	int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0) {
		return -1;
	}
	ssize_t n = write(fd, buf, len);
	close(fd);
	if (n != (ssize_t)len) {
		return -1;
	}
	return in_place ? 0 : rename(tmp, path);
}

/*
 * Flip one bit in every copy of needle in buf, keeping the octet a letter
 * (bit 0x02: 'a' <-> 'c', 'n' <-> 'l'), so the record still decodes and
 * only the checksum can tell.  \return the copies changed.
 */
static int flip_all(uint8_t *buf, size_t len, const char *needle, size_t at)
{
	size_t nl = strlen(needle);
	int n = 0;
	for (size_t i = 0; i + nl <= len; i++) {
		if (memcmp(buf + i, needle, nl) == 0) {
			buf[i + at] ^= 0x02;
			n++;
		}
	}
	return n;
}

/*** The cases. ***/

static void test_truncated(void)
{
	static const size_t cuts[] = { 0, 4096, 8192 + 100, 0 };	/* last: half */
	uint8_t *good = NULL;
	size_t len = 0;

	tap_is(add("keep.acme.test", V1, true), AZ_EOK, "truncation: a good state is served");
	/* Enough data for several pages, so "half" is past the metas. */
	wr_t bulk = { "bulk.acme.test", V1, 300, false, true };
	tap_is(op(write_child, &bulk), AZ_EOK, "truncation: 300 more names");
	int got = read_file(db, &good, &len);
	tap_ok(got == 0 && len > 16384, "truncation: a copy of the good file (%zu octets)", len);

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t cut = (i == sizeof(cuts) / sizeof(cuts[0]) - 1) ? len / 2 : cuts[i];
		log_clear();
		sync_hold(src);
		tap_ok(truncate(db, (off_t)cut) == 0, "truncate the data file to %zu octets under the open map", cut);
		sync_release(src);
		ring();
		tap_ok(wait_log("shorter than the data it holds"), "the truncation is logged");
		/* A few slow-path rounds: still alive, logged only once. */
		sleep_ms(4 * POLL_MS);
		ring();
		sleep_ms(2 * POLL_MS);
		tap_is(logged("shorter than the data it holds"), 1, "... once");
		if (logged("' opened") != 0) {
			log_dump();
		}
		tap_is(logged("' opened"), 0, "... and not reopened while short");
		tap_is(served("keep.acme.test"), 1, "the last good state is still answered");
		tap_is(served("n299.bulk.acme.test"), 1, "all of it");

		/* Good again, in place (as 'cp backup db' would). */
		sync_hold(src);
		tap_ok(write_file(db, good, len, true) == 0, "the good bytes are written back in place");
		sync_release(src);
		tap_ok(wait_log("' opened"), "the store is reopened by itself");
		tap_is(add("after-cut.acme.test", V2, true), AZ_EOK,
		       "a write after the repair is acknowledged");
		tap_is(served("after-cut.acme.test"), 1, "and answered at once");
		wr_t del = { "after-cut.acme.test", NULL, 1, true, true };
		op(write_child, &del);
		free(good);
		read_file(db, &good, &len);
	}
	free(good);
}

static void test_lock_cut(void)
{
	log_clear();
	sync_hold(src);
	tap_ok(truncate(lockfile, 0) == 0, "truncate the LMDB lock file (its reader table) to 0");
	sync_release(src);
	ring();
	tap_ok(wait_log("lock file was removed, replaced or cut short"), "the shrunk lock file is noticed");
	tap_ok(wait_log("' opened"), "and the store reopened once it is regrown");
	tap_is(served("keep.acme.test"), 1, "the state is answered throughout");
	tap_is(add("after-lock.acme.test", V1, true), AZ_EOK, "writers work again, acknowledged");
	tap_is(served("after-lock.acme.test"), 1, "and are answered at once");

	log_clear();
	char moved[320];
	snprintf(moved, sizeof(moved), "%s.old", lockfile);
	tap_ok(rename(lockfile, moved) == 0, "the lock file is moved away (writers will make a new one)");
	tap_is(add("new-lock.acme.test", V1, false), AZ_EOK, "a writer commits with a new lock file");
	ring();
	tap_ok(wait_log("lock file was removed, replaced or cut short"), "the replaced lock file is noticed");
	tap_ok(wait_served("new-lock.acme.test", 1), "the write made under the new lock file is served");
	unlink(moved);
}

static void test_sync_cut(void)
{
	/* Cut it while the thread is idle: the writer below returns only
	 * after the thread acknowledged (a cut in the middle of a load is
	 * the race window doc/reliability.md describes). */
	tap_is(add("pre-cut.acme.test", V1, true), AZ_EOK, "the sync thread is idle");
	log_clear();
	sync_hold(src);
	tap_ok(truncate(syncf, 0) == 0, "truncate the sync file to 0 under its map");
	sync_release(src);
	tap_ok(wait_log("was truncated"), "the sync thread lets go of it, logged");
	/* The next writer's open gives the file its size back; the thread
	 * picks it up on its slow path and acknowledges again. */
	tap_is(add("sync1.acme.test", V1, false), AZ_EOK, "a writer repairs the sync file");
	int64_t end = test_mono_ms() + WAIT_MS;
	bool acked = false;
	while (!acked && test_mono_ms() < end) {
		acked = add("sync2.acme.test", V2, true) == AZ_EOK &&
		        served("sync2.acme.test") == 1;
		wr_t del = { "sync2.acme.test", NULL, 1, true, true };
		op(write_child, &del);
	}
	tap_ok(acked, "read-your-writes works again through the repaired sync file");
	tap_is(served("sync1.acme.test"), 1, "nothing was lost meanwhile");
}

static void test_schema(void)
{
	log_clear();
	tap_is(op(set_schema_child, (void *)(uintptr_t)2), AZ_EOK,
	       "a newer acmezone upgrades the schema record in place (2)");
	ring();
	tap_ok(wait_log("unsupported schema version"), "the newer schema is refused, logged");
	sleep_ms(4 * POLL_MS);
	tap_is(logged("unsupported schema version"), 1, "... once");
	tap_is(served("keep.acme.test"), 1, "the last good state is still answered");
	tap_is(add("x.acme.test", V1, false), AZ_EIO,
	       "our own writer refuses the newer store too");
	tap_is(op(set_schema_child, (void *)(uintptr_t)1), AZ_EOK, "schema set back to 1");
	tap_ok(wait_log("' opened"), "the store is taken up again by itself");
	tap_is(add("after-schema.acme.test", V1, true), AZ_EOK, "and writes are acknowledged again");
	tap_is(served("after-schema.acme.test"), 1, "and answered");
}

static void test_flips(void)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	log_clear();
	tap_is(add("flip-value.acme.test", V2, true), AZ_EOK, "a value to damage");
	tap_is(add("flipkey.acme.test", V1, true), AZ_EOK, "a name to damage");
	read_file(db, &buf, &len);
	int nv = flip_all(buf, len, V2, 10);		/* a letter inside the value */
	int nk = flip_all(buf, len, "\x07""flipkey", 3);	/* 'i' <-> 'k' */
	tap_ok(nv > 0 && nk > 0, "flipped %d copies of the value and %d of the key", nv, nk);
	tap_ok(write_file(db, buf, len, false) == 0, "the damaged copy replaces the store (new inode)");
	free(buf);
	ring();
	tap_ok(wait_log("' opened"), "the replaced file is loaded");
	tap_ok(wait_log("skipping corrupt record 'flip-value.acme.test.'"),
	       "the record with a flipped value octet is skipped by name");
	tap_ok(logged("skipping corrupt record 'flkpkey.acme.test.'") == 1,
	       "the record with a flipped key octet is skipped under the name it now has");
	/* The skip is logged during the full load; the new table is
	 * published after it: wait (bounded) for that state itself. */
	for (int i = 0; i < 500 && served("flipkey.acme.test") != -1; i++) {
		usleep(10000);
	}
	tap_is(served("flip-value.acme.test"), -1, "the damaged value is not served");
	bool v2 = false;
	tap_is(served2("flkpkey.acme.test", &v2), -1, "nor the damaged name");
	tap_is(served("flipkey.acme.test"), -1, "nor its old name");
	tap_is(served("keep.acme.test"), 1, "the rest is served");
	tap_is(served("n150.bulk.acme.test"), 1, "all of the rest");
	if (logged("skipping") == 0) {
		log_dump();
	}
	/* The damaged records can be cleared by name. */
	wr_t del = { "flip-value.acme.test", NULL, 1, true, true };
	tap_is(op(write_child, &del), AZ_EOK, "'del NAME' clears the damaged record");
	tap_is(add("flip-value.acme.test", V1, true), AZ_EOK, "and the name can be written again");
	tap_is(served("flip-value.acme.test"), 1, "and is served");
}

static void test_rewound(void)
{
	uint8_t *old = NULL;
	size_t len = 0;
	log_clear();
	read_file(db, &old, &len);
	tap_is(add("later.acme.test", V1, true), AZ_EOK, "a write after the backup was taken");
	tap_is(served("later.acme.test"), 1, "served");
	sync_hold(src);
	tap_ok(write_file(db, old, len, true) == 0, "the older copy is written back in place (same inode)");
	sync_release(src);
	free(old);
	ring();
	tap_ok(wait_served("later.acme.test", -1), "the rewound state is served: the later name is gone");
	tap_is(served("keep.acme.test"), 1, "the older names are still there");
}

static void test_map_grown(void)
{
	/* A store whose map is small, read with that small map ... */
	log_clear();
	unlink(db);
	unlink(lockfile);
	unlink(syncf);
	setenv(AZ_ENV_MAPSIZE, "256K", 1);
	tap_is(op(create_child, NULL), AZ_EOK, "a new store with a 256 KiB map");
	tap_ok(wait_log("' opened"), "picked up (the old file was replaced)");
	tap_is(add("small.acme.test", V1, true), AZ_EOK, "a first write is acknowledged");
	wr_t big = { "big.acme.test", V1, 4000, false, true };
	tap_is(op(write_child, &big), AZ_EIO, "4000 names do not fit a 256 KiB map (writer: map full)");
	tap_is(served("n0.big.acme.test"), -1, "nothing of the failed batch is served");
	/* ... grown by a writer with a larger map: readers get MDB_MAP_RESIZED. */
	setenv(AZ_ENV_MAPSIZE, "64M", 1);
	tap_is(op(write_child, &big), AZ_EOK, "a writer with a 64 MiB map commits them");
	unsetenv(AZ_ENV_MAPSIZE);
	tap_is(served("n3999.big.acme.test"), 1, "the reader follows the grown map: all served at once");
	tap_is(served("small.acme.test"), 1, "with what was there before");
	struct stat st;
	stat(db, &st);
	tap_ok(st.st_size > 256 * 1024, "the file is larger than the reader's first map (%lld octets)",
	       (long long)st.st_size);
}

static void test_deleted(void)
{
	log_clear();
	unlink(db);
	ring();
	tap_ok(wait_log("was removed or replaced"), "a deleted store is noticed");
	sleep_ms(4 * POLL_MS);
	tap_is(logged("was removed or replaced"), 1, "... once");
	tap_is(logged("cannot be opened"), 0, "and its absence is not logged again");
	tap_is(served("small.acme.test"), 1, "the last loaded state is still answered");
	unlink(lockfile);
	unlink(syncf);
	tap_is(op(create_child, NULL), AZ_EOK, "a new store is created");
	tap_is(add("fresh.acme.test", V1, false), AZ_EOK, "and written");
	tap_ok(wait_served("fresh.acme.test", 1), "it is served");
	tap_is(served("small.acme.test"), -1, "and only it");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		return 1;
	}
	snprintf(db, sizeof(db), "%s/acmezone.mdb", dir);
	snprintf(errfile, sizeof(errfile), "%s/stderr", dir);
	const char *top = getenv("top_builddir");
	snprintf(cli_path, sizeof(cli_path), "%s/acmezone", top != NULL ? top : ".");
	snprintf(tool_path, sizeof(tool_path), "%s/tests/lib/aztool", top != NULL ? top : ".");
	if (access(cli_path, X_OK) != 0 || access(tool_path, X_OK) != 0) {
		tap_skip_all("the acmezone CLI and tests/lib/aztool must be built (top_builddir)");
	}
	snprintf(lockfile, sizeof(lockfile), "%s-lock", db);
	snprintf(syncf, sizeof(syncf), "%s-sync", db);
	rcu_register_thread();

	tap_is(op(create_child, NULL), AZ_EOK, "create a store");
	tap_is(sync_attach(db, POLL_MS, &rc.c, &src), AZ_EOK, "attach the sync thread");
	tap_ok(wait_log("' opened"), "opened");

	test_truncated();
	test_lock_cut();
	test_sync_cut();
	test_schema();
	test_flips();
	test_rewound();
	test_map_grown();
	test_deleted();

	sync_detach(src, &rc.c);
	rcu_unregister_thread();
	if (tap_failed) {
		log_dump();
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
