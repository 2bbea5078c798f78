/* sync.c -- keeps an RCU table in step with the LMDB store, from a thread of its own. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "observe.h"
#include "registry.h"
#include "sync.h"

#define MAX_CORRUPT_LOGS	5	/* per load, then a summary */
#define MISSING_POLL_MS		100	/* while the store is missing */
/* More distinct names changed than this since the last sync: a full load
 * is as cheap, and bounds the memory of the change list. */
#define MAX_CHANGED		(1u << 18)
#define CHANGED_KEEP		(1u << 20)	/* octets of names kept between syncs */
#define ERR_EXPOSED		2	/* last_err: not served (no AZ_E* code) */

struct sync_src {
	/* Set at creation, then read-only. */
	char *path;
	unsigned poll_ms;
	pthread_t thread;

	/* 'lock' guards clients, pub, stop, nt (replacement) and the condvar. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	sync_client_t *clients;
	sync_stats_t pub;	/* last published, for clients that attach later */
	bool stop;
	az_notify_t *nt;

	/* RCU pointer: written by the sync thread, read by query threads. */
	table_t *table;

	/* Made before the thread starts, freed after it ended; NULL: off. */
	obs_t *obs;
	char obs_path[4096];	/* the observation file */

	/* Sync thread only. */
	az_store_t *store;
	dev_t dev;
	ino_t ino;
	int last_err;		/* condition last logged, to log once */
	bool notify_warned;
	bool need_full;
	uint64_t applied_local;
	sync_stats_t st;
	unsigned corrupt_logged;
	az_nameset_t changed;
	int obs_err;		/* last observation write condition logged */
	int64_t obs_next;	/* when to look at the pool again (mono ms) */	/* names to read in this sync, each once */

	/* Held by the thread for each round, and by sync_hold(). */
	pthread_mutex_t hold;

	/* Atomic: read by tests and sync_applied(). */
	uint64_t applied;
};

/* Process-wide: one source per store file (store/registry.h). */
static az_registry_t sources = AZ_REGISTRY_INIT;

static void slog(sync_src_t *src, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void slog(sync_src_t *src, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&src->lock);
	if (src->clients != NULL && src->clients->log != NULL) {
		src->clients->log(src->clients, prio, msg);
	}
	pthread_mutex_unlock(&src->lock);
}

static void publish_stats(sync_src_t *src)
{
	table_t *t = src->table;	/* the writer's own pointer */
	src->st.applied = src->applied_local;
	src->st.names = t != NULL ? table_names(t) : 0;
	src->st.tokens = t != NULL ? table_values(t) : 0;
	pthread_mutex_lock(&src->lock);
	src->pub = src->st;
	for (sync_client_t *c = src->clients; c != NULL; c = c->next) {
		if (c->stats != NULL) {
			c->stats(c, &src->st);
		}
	}
	pthread_mutex_unlock(&src->lock);
}

/* Log a store condition once, until it changes; 'what' says it all. */
static void report_plain(sync_src_t *src, int err, const char *what)
{
	if (err == src->last_err) {
		return;
	}
	src->last_err = err;
	slog(src, err == AZ_EOK ? LOG_NOTICE : LOG_WARNING, "database '%s' %s",
	     src->path, what);
}

/* Log a store condition once, until it changes, with its reason. */
static void report(sync_src_t *src, int err, const char *what)
{
	if (err == src->last_err) {
		return;
	}
	src->last_err = err;
	if (err == AZ_EOK) {
		slog(src, LOG_NOTICE, "database '%s' %s", src->path, what);
	} else if (err == AZ_EIO || err == AZ_EPERM || err == AZ_ENOENT) {
		slog(src, LOG_WARNING, "database '%s' %s (%s, %s)", src->path, what,
		     az_strerror(err), strerror(errno));
	} else {
		slog(src, LOG_WARNING, "database '%s' %s (%s)", src->path, what,
		     az_strerror(err));
	}
}

/*
 * Let go of the store's map.  The sync-file slot stays claimed: this
 * process still serves the zone, and writers must not take its silence for
 * "nobody reads the store".  The store is reopened in the next slow round;
 * until then writers wait for this slot, and if the reopen fails they are
 * told why (publish_status()) instead.
 */
static void close_store(sync_src_t *src)
{
	az_store_close(src->store);
	src->store = NULL;
}

/* The thread ends: the slot goes too (writers stop waiting for us). */
static void close_all(sync_src_t *src)
{
	pthread_mutex_lock(&src->lock);
	az_notify_t *nt = src->nt;
	src->nt = NULL;
	pthread_mutex_unlock(&src->lock);
	az_notify_close(nt);
	close_store(src);
}

/*
 * Tell writers, through our slot, whether we can read the store (err 0)
 * or why not (an errno).  The sync file is checked right before its map
 * is written, as for an acknowledgement.
 */
static void publish_status(sync_src_t *src, int err)
{
	pthread_mutex_lock(&src->lock);
	if (az_notify_check(src->nt, src->path) == AZ_EOK) {
		az_notify_status(src->nt, err);
	}
	pthread_mutex_unlock(&src->lock);
}

/*
 * Would serving the store publish values that someone other than root and
 * the writers wrote?  (az_store_exposed(): the data file, or its directory,
 * writable by any user or by a group other than root's.)  Such a store is
 * not served -- knotd would answer for whoever can write it, and writers
 * refuse it anyway -- but what was loaded while it was trusted stays.
 * Logged once until it changes; looked at again every poll interval.
 * \return true if the store was closed.
 */
static bool store_exposed(sync_src_t *src)
{
	const char *why = NULL;
	if (az_store_exposed(src->store, &why) != AZ_EPERM) {
		return false;
	}
	close_store(src);
	char what[320];
	snprintf(what, sizeof(what), "is not served: %s, so others than root and "
	         "the writers could have written it; answering from what was "
	         "loaded before, if anything, until that is fixed", why);
	report_plain(src, ERR_EXPOSED, what);
	return true;
}

static void open_store(sync_src_t *src)
{
	int ret = az_store_open(&src->store, src->path, AZ_OPEN_RDONLY);
	if (ret != AZ_EOK) {
		int err = az_errno();
		src->store = NULL;
		/* An errno for writers: the system's, or EIO for a store that
		 * opens but is unfit (truncated, newer schema, not a store). */
		publish_status(src, ret == AZ_EIO || ret == AZ_EPERM || ret == AZ_EROFS ||
		                    ret == AZ_ENOENT ? (err != 0 ? err : EIO) : EIO);
		if (ret == AZ_ENOTINIT && src->last_err == AZ_ECORRUPT) {
			ret = AZ_ECORRUPT;	/* still the truncation reported */
		}
		if (ret == AZ_ECORRUPT) {
			report_plain(src, ret, "is shorter than the data it holds "
			             "(truncated?); answering from what was loaded "
			             "before, if anything, until it is whole again");
		} else if (ret == AZ_ESCHEMA) {
			report(src, ret, "is refused; answering from what was "
			       "loaded before, if anything");
		} else {
			report(src, ret, "cannot be opened, will retry; answering "
			       "from what was loaded before, if anything");
		}
		return;
	}
	if (store_exposed(src)) {
		publish_status(src, EPERM);	/* not served: writers are told */
		return;
	}
	az_store_file_id(src->store, &src->dev, &src->ino);
	src->need_full = true;
	publish_status(src, 0);		/* writers wait for our ack again */
	report(src, AZ_EOK, "opened");
}

/* Has the file at path been removed or replaced since we opened it? */
static bool store_moved(sync_src_t *src)
{
	struct stat st;
	if (stat(src->path, &st) != 0) {
		return true;
	}
	return st.st_dev != src->dev || st.st_ino != src->ino;
}

/*
 * Can this process still open the file?  The open descriptor would go on
 * reading whatever the mode says, but then a knotd restart would not: we
 * follow the mode now, so both behave alike (see doc/reliability.md).
 */
static bool store_unreadable(sync_src_t *src)
{
	return faccessat(AT_FDCWD, src->path, R_OK, AT_EACCESS) != 0 &&
	       (errno == EACCES || errno == EPERM);
}

/*
 * Before every access to the map: is the file still whole?  On a fault,
 * close the store (the table stays published: the last good state keeps
 * being answered) and let the slow path reopen it.
 * \return true if the store is open and fit to read.
 */
static bool store_fit(sync_src_t *src)
{
	int ret = az_store_check(src->store);
	if (ret == AZ_EOK) {
		return true;
	}
	close_store(src);
	if (ret == AZ_ECORRUPT) {
		report_plain(src, ret, "is shorter than the data it holds "
		             "(truncated?); answering from what was loaded before "
		             "until it is whole again");
	} else if (ret == AZ_ENOENT) {
		errno = ENOENT;
		report_plain(src, AZ_ENOENT, "lock file was removed, replaced "
		             "or cut short; reopening");
	} else {
		report(src, ret, "cannot be checked, will retry");
	}
	return false;
}

/* The sync file is gone or shrank: stop using its map, fall back to polls. */
static void drop_notify(sync_src_t *src, int why)
{
	pthread_mutex_lock(&src->lock);
	az_notify_t *nt = src->nt;
	src->nt = NULL;
	pthread_mutex_unlock(&src->lock);
	az_notify_close(nt);
	if (!src->notify_warned) {
		src->notify_warned = true;
		slog(src, LOG_WARNING, "sync file '%s-sync' %s, writes are picked "
		     "up every %u ms until it is back", src->path,
		     why == AZ_ECORRUPT ? "was truncated" : "was removed or replaced",
		     src->poll_ms);
	}
}

static void notify_open(sync_src_t *src)
{
	az_notify_t *nt = NULL;
	int ret = az_notify_open(&nt, src->path, false);
	if (ret == AZ_EOK) {
		ret = az_notify_claim(nt);
	}
	if (ret != AZ_EOK) {
		az_notify_close(nt);
		if (!src->notify_warned) {
			src->notify_warned = true;
			slog(src, LOG_WARNING, "sync file '%s-sync' unusable (%s), "
			     "writes are picked up every %u ms instead of at once",
			     src->path, az_strerror(ret), src->poll_ms);
		}
		return;
	}
	src->notify_warned = false;
	pthread_mutex_lock(&src->lock);
	src->nt = nt;
	pthread_mutex_unlock(&src->lock);
}

static int load_one(const uint8_t *name, az_rec_iter_t *rec, void *ctx)
{
	sync_src_t *src = ((void **)ctx)[0];
	table_t *t = ((void **)ctx)[1];
	if (name == NULL || rec == NULL) {
		src->st.corrupt++;
		if (src->corrupt_logged++ < MAX_CORRUPT_LOGS) {
			char text[AZ_NAME_TXTLEN] = "(bad key)";
			if (name != NULL) {
				az_name_to_text(name, text, sizeof(text));
			}
			slog(src, LOG_WARNING, "skipping corrupt record '%s'", text);
		}
		return 0;
	}
	src->st.reads++;
	return table_set(t, name, rec, (int64_t)time(NULL));
}

static int full_load(sync_src_t *src, az_reader_t *rd)
{
	table_t *t = table_new(az_reader_count(rd));
	if (t == NULL) {
		return AZ_ENOMEM;
	}
	void *ctx[2] = { src, t };
	src->corrupt_logged = 0;
	int ret = az_reader_foreach(rd, NULL, load_one, ctx);
	if (src->corrupt_logged > MAX_CORRUPT_LOGS) {
		slog(src, LOG_WARNING, "skipped %u more corrupt records",
		     src->corrupt_logged - MAX_CORRUPT_LOGS);
	}
	if (ret != AZ_EOK) {
		table_free(t);	/* never published */
		return ret;
	}
	/* Observed from now on; the loading itself published nothing new. */
	table_observe(t, src->obs);
	/* Publish the new table; readers move over to it as they come. */
	az_publish(t);
	table_t *old = rcu_xchg_pointer(&src->table, t);
	if (old != NULL) {
		/* After the grace period no reader holds the old table: its
		 * observations move to the new one's nodes, then it goes. */
		az_synchronize();
		obs_adopt(src->obs, old, t);
		table_free(old);
	}
	src->st.full_loads++;
	return AZ_EOK;
}

/* Note a changed name; each is read once, after the whole log is seen. */
static int collect_one(const uint8_t *name, void *ctx)
{
	sync_src_t *src = ctx;
	if (az_nameset_add(&src->changed, name, NULL) != AZ_EOK ||
	    src->changed.count > MAX_CHANGED) {
		return AZ_ENOENT;	/* a full load instead */
	}
	return 0;
}

static int apply_one(sync_src_t *src, az_reader_t *rd, const uint8_t *name)
{
	az_rec_iter_t it;
	src->st.reads++;
	int ret = az_reader_get(rd, name, &it);
	if (ret == AZ_ECORRUPT) {
		src->st.corrupt++;
		if (src->corrupt_logged++ < MAX_CORRUPT_LOGS) {
			char text[AZ_NAME_TXTLEN];
			az_name_to_text(name, text, sizeof(text));
			slog(src, LOG_WARNING, "skipping corrupt record '%s'", text);
		}
	}
	if (ret != AZ_EOK && ret != AZ_ENOENT && ret != AZ_ECORRUPT) {
		return ret;
	}
	return table_set(src->table, name, ret == AZ_EOK ? &it : NULL,
	                 (int64_t)time(NULL));
}

/*
 * Bring the table up to the snapshot rd from the change log: first every
 * name the transactions since the last sync changed, each once, however
 * many entries name it (one batch can touch a name a thousand times, and
 * a burst of writes the same name in each); then one read of each.
 * \return AZ_EOK, or an error after which a full load is due (the log
 * cannot tell, too many names, or a table update failed).
 */
static int apply_changes(sync_src_t *src, az_reader_t *rd)
{
	src->corrupt_logged = 0;
	az_nameset_clear(&src->changed);
	int ret = az_reader_changes(rd, src->applied_local, collect_one, src);
	const uint8_t *name = src->changed.names;
	for (size_t i = 0; ret == AZ_EOK && i < src->changed.count; i++) {
		ret = apply_one(src, rd, name);
		name += az_name_wire_len(name, AZ_NAME_MAXLEN);
	}
	if (src->changed.cap > CHANGED_KEEP) {
		az_nameset_free(&src->changed);	/* not a burst's worth for ever */
	}
	return ret;
}

static void do_sync(sync_src_t *src)
{
	az_reader_t *rd = NULL;
	int ret = az_reader_begin(src->store, &rd);
	if (ret == AZ_ESCHEMA || ret == AZ_ECORRUPT || ret == AZ_ENOENT ||
	    ret == AZ_ENOTINIT) {
		/* Upgraded in place by a newer acmezone, truncated, its lock
		 * file replaced, or not ours any more: let go of the map and
		 * keep answering from the table; the slow path retries. */
		close_store(src);
		if (ret == AZ_ESCHEMA) {
			report(src, ret, "is refused; answering from what was loaded before");
		} else if (ret == AZ_ECORRUPT) {
			report(src, ret, "cannot be read; answering from what was loaded before");
		} else {
			report(src, ret, "cannot be read, reopening");
		}
		return;
	} else if (ret != AZ_EOK) {
		report(src, ret, "cannot be read");
		return;
	}
	uint64_t id = az_reader_txnid(rd);
	if (az_store_last_txnid(src->store) < id) {
		/* LMDB takes a snapshot's id from the lock file and its root
		 * from the meta page of that parity: a meta older than the
		 * lock file's id means the data file was rewritten in place
		 * with older content (a backup copied over it).  Reopen: the
		 * first process to open it again rebuilds the lock file. */
		az_reader_end(rd);
		close_store(src);
		report_plain(src, AZ_ECORRUPT, "was rewritten in place with older "
		             "data; reopening (restore by renaming a file over it, "
		             "not by copying into it)");
		return;
	}
	if (id == src->applied_local && !src->need_full && src->table != NULL) {
		az_reader_end(rd);
		return;
	}
	if (id < src->applied_local) {
		/* Older than what we serve: the file was rewritten in place
		 * (a backup copied over it).  The log cannot say what changed. */
		src->need_full = true;
	}
	ret = AZ_ENOENT;
	if (!src->need_full && src->table != NULL) {
		ret = apply_changes(src, rd);
		if (src->corrupt_logged > MAX_CORRUPT_LOGS) {
			slog(src, LOG_WARNING, "skipped %u more corrupt records",
			     src->corrupt_logged - MAX_CORRUPT_LOGS);
		}
	}
	if (ret != AZ_EOK) {
		/* The log cannot say what changed (or an update failed). */
		ret = full_load(src, rd);
	}
	az_reader_end(rd);
	if (ret != AZ_EOK) {
		src->need_full = true;
		report(src, ret, "could not be loaded, will retry");
		return;
	}
	src->need_full = false;
	src->applied_local = id;
	src->st.syncs++;
	/* Sweep now too, so the counters below describe exactly this state. */
	table_expire(src->table, (int64_t)time(NULL));
	publish_stats(src);
	/* Acknowledge only now: every change up to id is published above,
	 * so a writer that sees this ack may let its client query.  The
	 * sync file is checked again right before its map is written: a
	 * load can take long enough for it to be cut meanwhile. */
	pthread_mutex_lock(&src->lock);
	if (az_notify_check(src->nt, src->path) == AZ_EOK) {
		az_notify_ack(src->nt, id);
	}
	pthread_mutex_unlock(&src->lock);
	/* After the ack: a test that saw 'applied' knows the ack is done. */
	__atomic_store_n(&src->applied, id, __ATOMIC_RELEASE);
	report(src, AZ_EOK, "loaded");
}

/*
 * Write the observation file when it is due: every poll interval, every
 * BUSY interval while names are observed (obs_interval_ms()), and only
 * if something changed.  A failure is logged once until it changes.
 */
static void observe_out(sync_src_t *src)
{
	int64_t now = az_mono_ms();
	if (src->obs == NULL || now < src->obs_next) {
		return;
	}
	int ret = obs_write(src->obs, src->obs_path, false);
	int64_t every = obs_interval_ms(src->obs);
	src->obs_next = now + (every < (int64_t)src->poll_ms ? every : src->poll_ms);
	if (ret == src->obs_err) {
		return;
	}
	src->obs_err = ret;
	if (ret == AZ_EOK) {
		slog(src, LOG_NOTICE, "observation file '%s' written", src->obs_path);
	} else {
		slog(src, LOG_WARNING, "observation file '%s' cannot be written "
		     "(%s%s%s); queries are still counted", src->obs_path,
		     az_strerror(ret), az_errno() != 0 ? ", " : "",
		     az_errno() != 0 ? strerror(az_errno()) : "");
	}
}

static void *sync_main(void *arg)
{
	sync_src_t *src = arg;
	rcu_register_thread();
	int64_t next_check = 0;

	for (;;) {
		/* Every access to the files happens inside a round; a test
		 * holding 'hold' damages them only between rounds.  Left held
		 * by the 'break's below until the files are closed. */
		pthread_mutex_lock(&src->hold);
		pthread_mutex_lock(&src->lock);
		az_notify_t *nt = src->nt;
		pthread_mutex_unlock(&src->lock);
		/* Its map faults if the file was truncated: check first. */
		int nret = az_notify_check(nt, src->path);
		if (nt != NULL && nret != AZ_EOK) {
			drop_notify(src, nret);
			nt = NULL;
		}
		/* Read the bell before 'stop' and before looking at the store:
		 * a ring after this point makes the sleep below return at once,
		 * and sync_detach() sets 'stop' before it rings. */
		uint32_t seen = az_notify_bell(nt);
		if (__atomic_load_n(&src->stop, __ATOMIC_SEQ_CST)) {
			break;
		}

		int64_t now_ms = az_mono_ms();
		if (now_ms >= next_check) {
			/* Slow path, once per poll interval: file checks. */
			next_check = now_ms + src->poll_ms;
			if (src->store != NULL && store_moved(src)) {
				close_store(src);
				errno = ENOENT;
				report_plain(src, AZ_ENOENT, "was removed or replaced; serving the last loaded state until it is back");
			}
			if (src->store != NULL && store_unreadable(src)) {
				int err = errno;
				close_store(src);
				errno = err;
				report(src, AZ_EPERM, "is no longer readable; serving "
				       "the last loaded state until it is");
			}
			/* An exposed store is closed (and refused again below). */
			if (src->store != NULL) {
				(void)store_exposed(src);
			}
			if (src->store != NULL && store_fit(src)) {
				/* A reader that died mid-read (a 'list' killed
				 * by SIGPIPE) pins its snapshot: free such slots
				 * once a round, so writers reuse pages. */
				(void)az_store_reap(src->store);
			}
			/* A slot before the open when the file is there but did
			 * not open: a failed open is published in it. */
			if (src->store == NULL && src->nt == NULL &&
			    src->last_err != AZ_ENOENT && src->last_err != 1) {
				notify_open(src);
			}
			if (src->store == NULL) {
				open_store(src);
			}
			if (src->store == NULL && src->poll_ms > MISSING_POLL_MS) {
				/* Only a stat() and an open(): look often, so a
				 * store created after start is served soon. */
				next_check = now_ms + MISSING_POLL_MS;
			}
			if (src->store != NULL && src->nt == NULL) {
				notify_open(src);
			}
			pthread_mutex_lock(&src->lock);
			az_notify_t *now_nt = src->nt;
			pthread_mutex_unlock(&src->lock);
			if (now_nt != nt) {
				/* A new bell: re-read it, then 'stop' again. */
				nt = now_nt;
				seen = az_notify_bell(nt);
				if (__atomic_load_n(&src->stop, __ATOMIC_SEQ_CST)) {
					break;
				}
			}
		}
		/* store_fit() before az_store_last_txnid(): both read the map.
		 * Neither closes the sync file: nt stays valid. */
		if (src->store != NULL && store_fit(src) && (src->need_full ||
		    az_store_last_txnid(src->store) != src->applied_local)) {
			do_sync(src);
		}

		/* Expire values on time, so ENTs and counters follow. */
		int64_t wall = (int64_t)time(NULL);
		if (src->table != NULL && table_next_expiry(src->table) <= wall) {
			if (table_expire(src->table, wall) > 0) {
				publish_stats(src);
			}
		}
		if (src->table != NULL) {
			table_reclaim(src->table);
		}
		observe_out(src);

		int64_t sleep_ms = next_check - az_mono_ms();
		if (src->obs != NULL && src->obs_next - az_mono_ms() < sleep_ms) {
			sleep_ms = src->obs_next - az_mono_ms();
		}
		if (src->table != NULL && table_next_expiry(src->table) != INT64_MAX) {
			int64_t until = (table_next_expiry(src->table) - (int64_t)time(NULL)) * 1000;
			if (until < sleep_ms) {
				sleep_ms = until;
			}
		}
		if (sleep_ms < 1) {
			sleep_ms = 1;
		}
		pthread_mutex_unlock(&src->hold);
		if (nt != NULL) {
			az_notify_sleep(nt, seen, (int)sleep_ms);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);	/* cond's clock */
			ts.tv_sec += sleep_ms / 1000;
			ts.tv_nsec += (sleep_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&src->lock);
			if (!src->stop) {
				pthread_cond_timedwait(&src->cond, &src->lock, &ts);
			}
			pthread_mutex_unlock(&src->lock);
		}
	}

	/* Unpublish and free everything while still registered with RCU. */
	table_t *t = rcu_xchg_pointer(&src->table, NULL);
	if (t != NULL) {
		az_synchronize();
		table_free(t);
	}
	close_all(src);
	az_nameset_free(&src->changed);
	pthread_mutex_unlock(&src->hold);
	rcu_unregister_thread();
	return NULL;
}

static void src_free(sync_src_t *src)
{
	/* The thread has ended and no query can reach the source. */
	obs_free(src->obs);
	pthread_mutex_destroy(&src->lock);
	pthread_mutex_destroy(&src->hold);
	pthread_cond_destroy(&src->cond);
	free(src->path);
	free(src);
}

/* Registry, first user of a file: the source and its thread. */
static void *src_make(const char *path, void *arg)
{
	sync_client_t *c = ((void **)arg)[0];
	unsigned poll_ms = *(unsigned *)((void **)arg)[1];
	sync_src_t *src = calloc(1, sizeof(*src));
	if (src == NULL || (src->path = strdup(path)) == NULL) {
		free(src);
		return NULL;
	}
	src->poll_ms = poll_ms > 0 ? poll_ms : 1000;
	src->last_err = 1;	/* nothing reported yet */
	src->obs_err = 1;
	/* Out of memory or 0: not observed (the pool is all or nothing). */
	if (c->observe > 0 &&
	    az_obs_path(path, src->obs_path, sizeof(src->obs_path)) == AZ_EOK) {
		src->obs = obs_new(c->observe);
	}
	pthread_condattr_t ca;
	pthread_mutex_init(&src->lock, NULL);
	pthread_mutex_init(&src->hold, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* no wall-clock steps */
	pthread_cond_init(&src->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->next = NULL;
	src->clients = c;
	if (pthread_create(&src->thread, NULL, sync_main, src) != 0) {
		src_free(src);
		return NULL;
	}
	/* A name to find it by in top -H and /proc/PID/task (bench/). */
	(void)pthread_setname_np(src->thread, "acmezone-sync");
	return src;
}

/* Registry, a later user of the same file: one more client. */
static void src_join(void *obj, void *arg)
{
	sync_src_t *src = obj;
	sync_client_t *c = ((void **)arg)[0];
	pthread_mutex_lock(&src->lock);
	c->next = src->clients;
	src->clients = c;
	/* A new instance (knotc reload) starts with the current counters,
	 * not zeros until the next write. */
	if (c->stats != NULL) {
		c->stats(c, &src->pub);
	}
	pthread_mutex_unlock(&src->lock);
}

/* Registry, the last user left: stop the thread and free everything. */
static void src_destroy(void *obj)
{
	sync_src_t *src = obj;
	/* Stop the thread: the ring wakes a futex sleep, the signal a
	 * condvar sleep; 'stop' is read after the bell (see sync_main).
	 * The thread never takes the registry's mutex, so joining under
	 * it cannot deadlock. */
	pthread_mutex_lock(&src->lock);
	__atomic_store_n(&src->stop, true, __ATOMIC_SEQ_CST);
	az_notify_ring(src->nt);
	pthread_cond_signal(&src->cond);
	pthread_mutex_unlock(&src->lock);
	pthread_join(src->thread, NULL);
	src_free(src);
}

int sync_attach(const char *path, unsigned poll_ms, sync_client_t *c,
                sync_src_t **out)
{
	if (path == NULL || c == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	static const az_registry_ops_t ops = { src_make, src_join };
	void *arg[2] = { c, &poll_ms };
	void *obj = NULL;
	int ret = az_registry_attach(&sources, path, &ops, arg, &obj);
	if (ret == AZ_EOK) {
		*out = obj;
	}
	return ret;
}

void sync_detach(sync_src_t *src, sync_client_t *c)
{
	if (src == NULL) {
		return;
	}
	pthread_mutex_lock(&src->lock);
	for (sync_client_t **p = &src->clients; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&src->lock);
	az_registry_detach(&sources, src, src_destroy);
}

table_t *sync_table(sync_src_t *src)
{
	table_t *t = rcu_dereference(src->table);
	if (t != NULL) {
		az_consume(t);
	}
	return t;
}

obs_t *sync_obs(sync_src_t *src)
{
	return src->obs;
}

uint64_t sync_applied(sync_src_t *src)
{
	return __atomic_load_n(&src->applied, __ATOMIC_ACQUIRE);
}

void sync_hold(sync_src_t *src)
{
	pthread_mutex_lock(&src->hold);
}

void sync_release(sync_src_t *src)
{
	pthread_mutex_unlock(&src->hold);
}
