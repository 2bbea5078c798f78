/* shared.c -- one store handle per path inside named, shared by driver instances and threads. */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ent.h"
#include "registry.h"
#include "shared.h"

#define RETRY_MS	1000	/* re-open an unchanged file that failed to open */
#define LOG_EVERY_MS	10000	/* repeated errors: at most one line this often */

struct shared {
	char *path;		/* canonical (store/registry.h) */
	char *lock_path;	/* LMDB's "<path>-lock" */

	/*
	 * Read-locked for as long as a snapshot of st is open; write-locked
	 * to change st (open, close, remap).  Writer-preferring, so that a
	 * reopen is not starved by a steady stream of queries.  The fields
	 * below are written only under the write lock.
	 */
	pthread_rwlock_t lock;
	az_store_t *st;		/* NULL: nothing to read (see err) */
	dev_t dev;		/* the file st has open */
	ino_t ino;
	uint64_t gen;		/* bumped on every successful open */
	int err;		/* why st is NULL: AZ_ENOENT = missing,
				 * AZ_EOK = not looked at yet */
	int sys_err;		/* errno of a failed stat(), for the log */
	bool failed_valid;	/* 'failed' holds the file that did not open */
	struct stat failed;
	int64_t retry_ms;	/* when to try that unchanged file again */

	/* The empty non-terminal map: only the NXDOMAIN path takes this. */
	pthread_mutex_t ent_lock;
	ent_t *ent;
	uint64_t ent_gen, ent_txnid;

	int64_t log_ms;		/* atomic: last rate-limited log line */
};

/* Process-wide: one handle per store file (store/registry.h). */
static az_registry_t handles = AZ_REGISTRY_INIT;

static void no_log(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

bool shared_may_log(shared_t *sh)
{
	int64_t now = az_mono_ms();
	int64_t last = __atomic_load_n(&sh->log_ms, __ATOMIC_RELAXED);
	if (last != 0 && now - last < LOG_EVERY_MS) {
		return false;
	}
	/* One winner per period among threads racing here. */
	return __atomic_compare_exchange_n(&sh->log_ms, &last, now, false,
	                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static bool same_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int stat_err(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:	return AZ_ENOENT;
	case EACCES:
	case EPERM:	return AZ_EPERM;
	default:	return AZ_EIO;
	}
}

/* Write lock held: no snapshot is open, so the environment may go. */
static void close_store(shared_t *sh)
{
	az_store_close(sh->st);
	sh->st = NULL;
	ent_free(sh->ent);
	sh->ent = NULL;
}

/*
 * Read or write lock held.  Does the state of the file (have: stat()
 * succeeded into sb) call for an open, a reopen or a new error state?
 */
static bool need_change(const shared_t *sh, bool have, const struct stat *sb,
                        int sys_err)
{
	if (sh->st != NULL) {
		/* A removed file keeps being served from the open mapping,
		 * as mod-acmezone keeps its table; a new file replaces it.
		 * One that others may now write is not served any more. */
		return have && (sb->st_dev != sh->dev || sb->st_ino != sh->ino ||
		                az_mode_shared(sb));
	}
	if (!have) {
		return sh->err != stat_err(sys_err);
	}
	return !sh->failed_valid || !same_state(&sh->failed, sb) ||
	       az_mono_ms() >= sh->retry_ms;
}

/* Write lock held: bring st in line with the file at path. */
static void change(shared_t *sh, az_dlz_log_t *log)
{
	struct stat sb, lsb;
	const char *why = NULL;
	bool have = stat(sh->path, &sb) == 0;
	int sys_err = have ? 0 : errno;
	if (!need_change(sh, have, &sb, sys_err)) {
		return;		/* another thread did it first */
	}

	if (sh->st != NULL) {
		if (have && (sb.st_dev != sh->dev || sb.st_ino != sh->ino)) {
			log(AZ_DLZ_LOG_NOTICE, "acmezone: database '%s' was "
			    "replaced by another file, reopening", sh->path);
		}
		close_store(sh);
		sh->err = AZ_ENOENT;
	}
	if (!have) {
		sh->err = stat_err(sys_err);
		sh->sys_err = sys_err;
		sh->failed_valid = false;
		log(AZ_DLZ_LOG_WARNING, "acmezone: database '%s' is missing (%s); "
		    "answering SERVFAIL below the zone apex until it appears",
		    sh->path, strerror(sys_err));
		return;
	}

	/*
	 * An empty file is one 'acmezone init' is still writing, and LMDB
	 * would create a missing lock file with our owner and umask, which
	 * the writers may then not be allowed to use: wait for both.
	 */
	int ret;
	if (sb.st_size == 0) {
		ret = AZ_ENOTINIT;
	} else if (stat(sh->lock_path, &lsb) != 0) {
		ret = AZ_ENOENT;
	} else {
		az_store_t *st = NULL;
		ret = az_store_open(&st, sh->path, AZ_OPEN_RDONLY | AZ_OPEN_THREADS);
		/* A store others could have written is not served (see
		 * doc/security.md): named would answer for whoever wrote. */
		if (ret == AZ_EOK && az_store_exposed(st, &why) == AZ_EPERM) {
			az_store_close(st);
			ret = AZ_EPERM;
		}
		if (ret == AZ_EOK) {
			sh->st = st;
			az_store_file_id(st, &sh->dev, &sh->ino);
			sh->gen++;
			sh->err = AZ_EOK;
			sh->failed_valid = false;
			log(AZ_DLZ_LOG_INFO, "acmezone: database '%s' opened", sh->path);
			return;
		}
	}
	if (!sh->failed_valid || ret != sh->err) {
		/* Once per distinct error, not once per retry. */
		if (ret == AZ_ENOENT) {
			log(AZ_DLZ_LOG_WARNING, "acmezone: database '%s' has no lock "
			    "file '%s' yet; waiting for a writer to create it",
			    sh->path, sh->lock_path);
		} else if (why != NULL) {
			log(AZ_DLZ_LOG_ERROR, "acmezone: database '%s' is not "
			    "served: %s, so others than root and the writers could "
			    "have written it; answering SERVFAIL below the zone "
			    "apex until that is fixed", sh->path, why);
		} else {
			log(AZ_DLZ_LOG_ERROR, "acmezone: cannot open database '%s' "
			    "(%s); answering SERVFAIL below the zone apex, will retry",
			    sh->path, az_strerror(ret));
		}
	}
	sh->err = ret;
	sh->failed = sb;
	sh->failed_valid = true;
	sh->retry_ms = az_mono_ms() + RETRY_MS;
}

int shared_begin(shared_t *sh, az_dlz_log_t *log, shared_read_t *r)
{
	if (log == NULL) {
		log = no_log;
	}
	/* One stat() per query: it notices a replaced file before the read,
	 * so a write to the new file is never answered from the old one. */
	struct stat sb;
	bool have = stat(sh->path, &sb) == 0;
	int sys_err = have ? 0 : errno;
	int ret = AZ_EBUSY;

	for (int tries = 0; tries < 4; tries++) {
		pthread_rwlock_rdlock(&sh->lock);
		if (need_change(sh, have, &sb, sys_err)) {
			pthread_rwlock_unlock(&sh->lock);
			pthread_rwlock_wrlock(&sh->lock);
			change(sh, log);
			pthread_rwlock_unlock(&sh->lock);
			have = stat(sh->path, &sb) == 0;
			sys_err = have ? 0 : errno;
			continue;
		}
		if (sh->st == NULL) {
			ret = sh->err != AZ_EOK ? sh->err : AZ_ENOENT;
			pthread_rwlock_unlock(&sh->lock);
			return ret;
		}
		az_reader_t *rd = NULL;
		ret = az_reader_begin(sh->st, &rd);
		if (ret == AZ_EOK) {
			r->sh = sh;
			r->rd = rd;
			r->gen = sh->gen;
			return AZ_EOK;	/* read lock held until shared_end() */
		}
		pthread_rwlock_unlock(&sh->lock);
		if (ret != AZ_ERESIZED) {
			break;
		}
		/* A writer grew the file past our mapping: remap with no
		 * snapshot open (the write lock waits for them to end). */
		pthread_rwlock_wrlock(&sh->lock);
		int rm = sh->st != NULL ? az_store_remap(sh->st) : AZ_EOK;
		pthread_rwlock_unlock(&sh->lock);
		if (rm != AZ_EOK) {
			ret = rm;
			break;
		}
	}
	if (shared_may_log(sh)) {
		log(AZ_DLZ_LOG_ERROR, "acmezone: cannot read database '%s' (%s)",
		    sh->path, az_strerror(ret));
	}
	return ret;
}

void shared_end(shared_read_t *r)
{
	if (r == NULL || r->rd == NULL) {
		return;
	}
	az_reader_end(r->rd);
	r->rd = NULL;
	pthread_rwlock_unlock(&r->sh->lock);
}

int shared_is_ent(shared_read_t *r, az_dlz_log_t *log, const uint8_t *name,
                  size_t len, int64_t now, bool *ent)
{
	shared_t *sh = r->sh;
	uint64_t txnid = az_reader_txnid(r->rd);
	int ret = AZ_EOK;
	*ent = false;

	pthread_mutex_lock(&sh->ent_lock);
	/* A map from a newer snapshot than ours is as good: it was true
	 * at a moment after this query began. */
	if (sh->ent == NULL || sh->ent_gen != r->gen || sh->ent_txnid < txnid) {
		ent_t *fresh = NULL;
		unsigned corrupt = 0;
		ret = ent_build(r->rd, &fresh, &corrupt);
		if (ret == AZ_EOK) {
			ent_free(sh->ent);
			sh->ent = fresh;
			sh->ent_gen = r->gen;
			sh->ent_txnid = txnid;
		}
		if (corrupt > 0 && log != NULL && shared_may_log(sh)) {
			log(AZ_DLZ_LOG_WARNING, "acmezone: database '%s' holds %u "
			    "record(s) that do not decode; they are not served",
			    sh->path, corrupt);
		}
	}
	if (ret == AZ_EOK) {
		*ent = ent_until(sh->ent, name, len) > now;
	}
	pthread_mutex_unlock(&sh->ent_lock);
	return ret;
}

static void shared_free(shared_t *sh)
{
	if (sh == NULL) {
		return;
	}
	close_store(sh);
	pthread_rwlock_destroy(&sh->lock);
	pthread_mutex_destroy(&sh->ent_lock);
	free(sh->path);
	free(sh->lock_path);
	free(sh);
}

static shared_t *shared_new(const char *path)
{
	shared_t *sh = calloc(1, sizeof(*sh));
	if (sh == NULL) {
		return NULL;
	}
	size_t n = strlen(path) + sizeof("-lock");
	sh->path = strdup(path);
	sh->lock_path = malloc(n);
	if (sh->path == NULL || sh->lock_path == NULL) {
		free(sh->path);
		free(sh->lock_path);
		free(sh);
		return NULL;
	}
	snprintf(sh->lock_path, n, "%s-lock", path);
	sh->err = AZ_EOK;	/* with st NULL: not looked at yet */

	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	int r1 = pthread_rwlock_init(&sh->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	int r2 = pthread_mutex_init(&sh->ent_lock, NULL);
	if (r1 != 0 || r2 != 0) {
		if (r1 == 0) {
			pthread_rwlock_destroy(&sh->lock);
		}
		if (r2 == 0) {
			pthread_mutex_destroy(&sh->ent_lock);
		}
		free(sh->path);
		free(sh->lock_path);
		free(sh);
		return NULL;
	}
	return sh;
}

static void shared_destroy(void *obj)
{
	shared_free(obj);
}

/* Registry, first user of a file: the handle, and a first look at it. */
static void *shared_make(const char *path, void *arg)
{
	shared_t *sh = shared_new(path);
	if (sh != NULL) {
		/* Nobody else can see sh yet, but change() wants the write
		 * lock's guarantees, so take it anyway. */
		pthread_rwlock_wrlock(&sh->lock);
		change(sh, *(az_dlz_log_t **)arg);
		pthread_rwlock_unlock(&sh->lock);
	}
	return sh;
}

int shared_attach(const char *path, az_dlz_log_t *log, shared_t **out)
{
	if (path == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	static const az_registry_ops_t ops = { shared_make, NULL };
	void *obj = NULL;
	if (log == NULL) {
		log = no_log;
	}
	int ret = az_registry_attach(&handles, path, &ops, &log, &obj);
	if (ret == AZ_EOK) {
		*out = obj;
	}
	return ret;
}

void shared_detach(shared_t *sh)
{
	az_registry_detach(&handles, sh, shared_destroy);
}
