/* store.c -- opening, writing and reading the acmezone LMDB file. */
/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "internal.h"
#include "pages.h"
#include "registry.h"
#include "store.h"

#define MAPSIZE		((size_t)4 << 30)	/* sparse: costs nothing unused */
#define MAPSIZE_MIN	((size_t)64 << 10)	/* ACMEZONE_MAPSIZE bounds */
#define MAPSIZE_MAX	((size_t)1 << 40)
#define LOG_KEEP	4096	/* transactions kept in the change log */
#define RELEASE_EVERY	64	/* read transactions between map releases */
#define LOG_MAX_NAMES	16384	/* above this a transaction says "reload all" */

#define LOG_NAMES	0
#define LOG_FULL	1

#define KEY_SCHEMA	"schema"
#define KEY_FLOOR	"log-floor"
#define KEY_ZONE	"zone"
#define KEY_SCHEME	"scheme"

struct az_store {
	MDB_env *env;
	MDB_dbi meta, tok, log;
	char *path;
	bool rdonly;
	bool threads;		/* AZ_OPEN_THREADS: never remap in passing */
	dev_t dev;
	ino_t ino;
	/* For az_store_check(): what the open files must still look like. */
	int fd;			/* LMDB's own descriptor of the data file */
	size_t psize;
	char *lock_path;
	dev_t lock_dev;
	ino_t lock_ino;
	off_t lock_size;
	bool lock_broken;	/* shrunk and could not be grown back */
	int lock_fd;		/* ours, once lock_txnid_repair() needed one;
				 * closed only after LMDB's: see there */
	/* Readers: the span of LMDB's map that read transactions have
	 * returned data from, and how many have ended (see release_map). */
	uintptr_t seen_lo, seen_hi;
	unsigned long reads;
};

struct az_txn {
	az_store_t *st;
	MDB_txn *txn;
	uint8_t *rec;		/* scratch for encoding, rec_cap octets */
	az_val_t *vals;		/* scratch, vals_cap entries */
	size_t rec_cap, vals_cap;
	az_nameset_t log;	/* changed names, each once */
	bool log_full;
	bool changed;
};

struct az_reader {
	az_store_t *st;
	MDB_txn *txn;
};

/* Map an LMDB or errno code to AZ_E*, once, here. errno is left set. */
static int map_err(int ret)
{
	switch (ret) {
	case MDB_SUCCESS:	return AZ_EOK;
	case MDB_NOTFOUND:	return AZ_ENOENT;
	case MDB_MAP_FULL:	return AZ_EFULL;
	case MDB_READERS_FULL:	return AZ_EBUSY;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH: return AZ_ECORRUPT;
	case ENOMEM:		errno = ret; return AZ_ENOMEM;
	case ENOSPC:		errno = ret; return az_fail(AZ_EFULL);
	case EACCES:
	case EPERM:		errno = ret; return az_fail(AZ_EPERM);
	case EROFS:		errno = ret; return az_fail(AZ_EROFS);
	case ENOENT:		errno = ret; return az_fail(AZ_ENOENT);
	default:
		if (ret > 0) {
			errno = ret;
			return az_fail(AZ_EIO);
		}
		return AZ_ELMDB;
	}
}

static char *suffixed(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);
	if (s != NULL) {
		snprintf(s, n, "%s%s", path, suffix);
	}
	return s;
}

/* Create one file exclusively with an exact mode and group. */
static int create_file(const char *path, mode_t mode, gid_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		return AZ_EIO;
	}
	int ret = AZ_EOK;
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) {
		ret = AZ_EPERM;
	} else if (fchmod(fd, mode) != 0) {	/* whatever the umask */
		ret = AZ_EIO;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/* Owned by root or by us: someone we already trust with the store. */
static bool owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Could someone other than root and us write through this mode?  Any user
 * (o+w: 'any'), or the members of its group (g+w: 'group'), unless that
 * group is root's.  \return the phrase that applies, or NULL.
 */
static const char *write_open(const struct stat *sb, const char *any, const char *group)
{
	if (sb->st_mode & S_IWOTH) {
		return any;
	}
	if ((sb->st_mode & S_IWGRP) && sb->st_gid != 0) {
		return group;
	}
	return NULL;
}

/*
 * A side file (lock: LMDB's reader table; else the sync file), judged by
 * its descriptor, opened without following a symbolic link: a root writer
 * must not be led to map, grow or rewrite another file.  Absent is fine
 * (LMDB creates the lock file, in a directory nobody else may write; see
 * chain_untrusted()).  Group-writable is by design: readers must write it.
 * \return the phrase that applies, or NULL.
 */
static const char *side_untrusted(const char *path, bool lock)
{
	static const char *const msg[2][3] = {
		{ "its sync file is a symbolic link",
		  "its sync file is not a regular file",
		  "its sync file is writable by any user" },
		{ "its lock file is a symbolic link",
		  "its lock file is not a regular file",
		  "its lock file is writable by any user" },
	};
	struct stat sb;
	const char *why = NULL;
	char *side = suffixed(path, lock ? "-lock" : "-sync");
	int fd = side != NULL ?
	         open(side, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
	if (fd < 0) {
		/* Missing or not ours to read: the open that follows says so. */
		why = (side != NULL && errno == ELOOP) ? msg[lock][0] : NULL;
	} else if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		why = msg[lock][1];
	} else if (sb.st_mode & S_IWOTH) {
		why = msg[lock][2];
	}
	if (fd >= 0) {
		close(fd);
	}
	free(side);
	return why;
}

/*
 * Whoever may create, rename or remove entries in the store's directory
 * can swap the data, lock or sync file between our checks and LMDB's open
 * of it (LMDB opens its lock file by name, follows symbolic links, and
 * resizes and writes what it opened); in a directory above, they can swap
 * the whole directory.  So every directory from the store's up to / must
 * be owned by root or us and writable by nobody else: not by any user,
 * not by a group other than root's.  A sticky directory above the store's
 * (/tmp) lets others remove or rename only their own entries: its write
 * bits are allowed.  Not in the store's own directory, where others could
 * still create a lock or sync file that is missing.
 * dir: from realpath() (no symbolic link, "." or "..").
 * \return AZ_EOK (*why set if untrusted), AZ_ENOMEM or AZ_EIO.
 */
static int chain_untrusted(const char *dir, const char **why)
{
	char *p = strdup(dir);
	bool own = true;
	int ret = AZ_EOK;
	if (p == NULL) {
		return AZ_ENOMEM;
	}
	for (;;) {
		struct stat sb;
		if (lstat(p, &sb) != 0) {
			ret = AZ_EIO;
			break;
		}
		if (own || !(sb.st_mode & S_ISVTX)) {
			*why = own ? write_open(&sb, "its directory is writable by any user",
			                        "its directory is writable by its group")
			           : write_open(&sb, "a directory above it is writable by any user",
			                        "a directory above it is writable by its group");
		}
		if (*why == NULL && !owner_ok(sb.st_uid)) {
			*why = own ? "its directory is owned by another user"
			           : "a directory above it is owned by another user";
		}
		char *slash = strrchr(p, '/');
		if (*why != NULL || slash == NULL || strcmp(p, "/") == 0) {
			break;
		}
		if (slash == p) {
			slash[1] = '\0';
		} else {
			*slash = '\0';
		}
		own = false;
	}
	free(p);
	return ret;
}

/* The directory part of a path from realpath() or az_registry_canonical(). */
static int chain_of(const char *path, const char **why)
{
	char *dir = strdup(path), *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	int ret;
	if (dir == NULL) {
		return AZ_ENOMEM;
	}
	if (slash == NULL) {
		ret = AZ_EIO;	/* not resolved: the directory is not there */
	} else {
		slash[slash == dir ? 1 : 0] = '\0';
		ret = chain_untrusted(dir, why);
	}
	free(dir);
	return ret;
}

int az_store_trust(const char *path, const char **why)
{
	struct stat st;
	const char *dummy;
	char *canon = NULL, *real = NULL;
	bool link = false;
	int ret;
	if (why == NULL) {
		why = &dummy;
	}
	*why = NULL;
	if (path == NULL) {
		return AZ_EINVAL;
	}
	if (lstat(path, &st) != 0) {
		return errno == ENOENT ? AZ_ENOENT : AZ_EIO;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!owner_ok(st.st_uid)) {
			*why = "it is a symbolic link owned by another user";
			errno = EPERM;
			return AZ_EPERM;
		}
		if (stat(path, &st) != 0) {
			return errno == ENOENT ? AZ_ENOENT : AZ_EIO;
		}
		link = true;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return AZ_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "it is not a regular file";
		errno = EINVAL;
		return AZ_EIO;
	}
	*why = write_open(&st, "it is writable by any user", "it is writable by its group");
	if (*why == NULL && !owner_ok(st.st_uid)) {
		*why = "it is owned by another user";
	}
	if (*why == NULL) {
		*why = side_untrusted(path, true);
	}
	if (*why == NULL) {
		*why = side_untrusted(path, false);
	}
	ret = AZ_ENOMEM;
	if (*why == NULL && (canon = az_registry_canonical(path)) != NULL) {
		/* Where the side files live, and LMDB opens them. */
		ret = chain_of(canon, why);
	}
	if (ret == AZ_EOK && *why == NULL && link) {
		/* And where the data file itself lives. */
		real = realpath(path, NULL);
		ret = real != NULL ? chain_of(real, why) : AZ_EIO;
	}
	free(canon);
	free(real);
	if (*why != NULL) {
		errno = EPERM;
		return AZ_EPERM;
	}
	return ret;
}

/*
 * Writers, right after LMDB's open: judge the files LMDB opened by their
 * descriptors, not by the names az_store_trust() looked at.  The data file
 * must be the one checked, with the same rules; the lock file, not
 * following a link, a regular file not every user may write, the one
 * check_prepare() recorded.  (The directory rules make a swap between
 * the check and the open impossible; this catches what they cannot see.)
 */
static int opened_trusted(const az_store_t *st)
{
	struct stat sb;
	int ret = AZ_EOK;
	if (fstat(st->fd, &sb) != 0) {
		return AZ_EIO;
	}
	if (sb.st_dev != st->dev || sb.st_ino != st->ino || !owner_ok(sb.st_uid) ||
	    az_mode_shared(&sb)) {
		errno = EPERM;
		return AZ_EPERM;
	}
	/* lstat(), never open() and close(): closing any descriptor of the
	 * lock file drops this process's fcntl() locks on it, LMDB's shared
	 * lock among them, and the next opener, alone by those locks, would
	 * rebuild the reader table and the mutexes under us (a writer waiting
	 * on the old mutex then sleeps for ever).  A link is no regular file. */
	if (lstat(st->lock_path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & S_IWOTH) || sb.st_dev != st->lock_dev ||
	    sb.st_ino != st->lock_ino) {
		ret = AZ_EPERM;
	}
	if (ret != AZ_EOK) {
		errno = EPERM;
	}
	return ret;
}

bool az_mode_shared(const struct stat *sb)
{
	return write_open(sb, "", "") != NULL;
}

int az_store_exposed(const az_store_t *st, const char **why)
{
	struct stat sb;
	const char *dummy;
	if (why == NULL) {
		why = &dummy;
	}
	*why = NULL;
	if (st == NULL || st->env == NULL) {
		return AZ_EINVAL;
	}
	/* The file we map, not whatever the name points at now. */
	if (fstat(st->fd, &sb) != 0) {
		return AZ_EIO;
	}
	*why = write_open(&sb, "it is writable by any user", "it is writable by its group");
	if (*why == NULL) {
		/* Whoever may replace files in its directory may replace it
		 * (a sticky bit stops them: they may not rename ours). */
		char *dir = strdup(st->path), *slash = dir != NULL ? strrchr(dir, '/') : NULL;
		if (slash != NULL) {
			slash[slash == dir ? 1 : 0] = '\0';
		}
		if (slash != NULL && stat(dir, &sb) == 0 && !(sb.st_mode & S_ISVTX)) {
			*why = write_open(&sb, "its directory is writable by any user",
			                  "its directory is writable by its group");
		}
		free(dir);
	}
	if (*why != NULL) {
		errno = EPERM;
		return AZ_EPERM;
	}
	return AZ_EOK;
}

/* The schema record of a snapshot: ours, or AZ_ESCHEMA / AZ_ENOTINIT. */
static int check_schema(az_store_t *st, MDB_txn *txn)
{
	MDB_val key = { strlen(KEY_SCHEMA), KEY_SCHEMA }, val;
	int ret = mdb_get(txn, st->meta, &key, &val);
	if (ret == MDB_NOTFOUND) {
		return AZ_ENOTINIT;
	} else if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	const uint8_t *v = val.mv_data;
	if (val.mv_size != 4 || v[0] || v[1] || v[2] || v[3] != AZ_SCHEMA_VERSION) {
		return AZ_ESCHEMA;
	}
	return AZ_EOK;
}

/* Settings as the caller gave them: a zone that fits, a known scheme. */
static int config_check(const az_config_t *cfg)
{
	if ((unsigned)cfg->scheme > AZ_SCHEME_HASHED) {
		return AZ_EINVAL;
	}
	if (cfg->has_zone) {
		size_t n = az_name_wire_len(cfg->zone, AZ_NAME_MAXLEN);
		if (n == 0 || n > AZ_ZONE_MAXLEN) {
			return AZ_EINVAL;
		}
	}
	return AZ_EOK;
}

static int config_write(MDB_txn *txn, MDB_dbi meta, const az_config_t *cfg)
{
	MDB_val zk = { strlen(KEY_ZONE), KEY_ZONE };
	MDB_val sk = { strlen(KEY_SCHEME), KEY_SCHEME };
	uint8_t scheme = (uint8_t)cfg->scheme;
	MDB_val sv = { 1, &scheme };
	int ret;

	if (config_check(cfg) != AZ_EOK) {
		return AZ_EINVAL;
	}
	if (cfg->has_zone) {
		MDB_val zv = { az_name_wire_len(cfg->zone, AZ_NAME_MAXLEN),
		               (void *)cfg->zone };
		ret = mdb_put(txn, meta, &zk, &zv, 0);
	} else {
		ret = mdb_del(txn, meta, &zk, NULL);
		if (ret == MDB_NOTFOUND) {
			ret = MDB_SUCCESS;
		}
	}
	if (ret == MDB_SUCCESS) {
		ret = mdb_put(txn, meta, &sk, &sv, 0);
	}
	return map_err(ret);
}

/* Read back and validate: these bytes come from a file. */
static int config_read(MDB_txn *txn, MDB_dbi meta, az_config_t *cfg)
{
	MDB_val zk = { strlen(KEY_ZONE), KEY_ZONE };
	MDB_val sk = { strlen(KEY_SCHEME), KEY_SCHEME };
	MDB_val v;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->scheme = AZ_SCHEME_READABLE;
	ret = mdb_get(txn, meta, &zk, &v);
	if (ret == MDB_SUCCESS) {
		if (v.mv_size > AZ_ZONE_MAXLEN ||
		    az_name_wire_len(v.mv_data, v.mv_size) != v.mv_size) {
			return AZ_ECORRUPT;
		}
		/* Lower case, as every name the store writes. */
		const uint8_t *z = v.mv_data;
		for (size_t i = 0; i < v.mv_size; i++) {
			if (z[i] >= 'A' && z[i] <= 'Z') {
				return AZ_ECORRUPT;
			}
		}
		memcpy(cfg->zone, v.mv_data, v.mv_size);
		cfg->has_zone = true;
	} else if (ret != MDB_NOTFOUND) {
		return map_err(ret);
	}
	ret = mdb_get(txn, meta, &sk, &v);
	if (ret == MDB_SUCCESS) {
		const uint8_t *p = v.mv_data;
		if (v.mv_size != 1 || p[0] > AZ_SCHEME_HASHED) {
			return AZ_ECORRUPT;
		}
		cfg->scheme = (az_scheme_t)p[0];
	} else if (ret != MDB_NOTFOUND) {
		return map_err(ret);
	}
	return AZ_EOK;
}

static int open_dbis(az_store_t *st, bool create, const az_config_t *cfg)
{
	MDB_txn *txn = NULL;
	int ret = mdb_txn_begin(st->env, NULL, st->rdonly ? MDB_RDONLY : 0, &txn);
	if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	unsigned flags = create ? MDB_CREATE : 0;
	ret = mdb_dbi_open(txn, "meta", flags, &st->meta);
	if (ret == MDB_NOTFOUND) {
		ret = AZ_ENOTINIT;
		goto fail;
	} else if (ret != MDB_SUCCESS) {
		ret = map_err(ret);
		goto fail;
	}
	if ((ret = mdb_dbi_open(txn, "tok", flags, &st->tok)) != MDB_SUCCESS ||
	    (ret = mdb_dbi_open(txn, "log", flags, &st->log)) != MDB_SUCCESS) {
		ret = (ret == MDB_NOTFOUND) ? AZ_ENOTINIT : map_err(ret);
		goto fail;
	}

	MDB_val key = { strlen(KEY_SCHEMA), KEY_SCHEMA };
	if (create) {
		uint8_t v[4] = { 0, 0, 0, AZ_SCHEMA_VERSION };
		uint8_t floor[8] = { 0 };
		MDB_val sv = { sizeof(v), v };
		MDB_val fk = { strlen(KEY_FLOOR), KEY_FLOOR }, fv = { sizeof(floor), floor };
		if ((ret = mdb_put(txn, st->meta, &key, &sv, 0)) != MDB_SUCCESS ||
		    (ret = mdb_put(txn, st->meta, &fk, &fv, 0)) != MDB_SUCCESS) {
			ret = map_err(ret);
			goto fail;
		}
		if (cfg != NULL && (ret = config_write(txn, st->meta, cfg)) != AZ_EOK) {
			goto fail;
		}
	} else if ((ret = check_schema(st, txn)) != AZ_EOK) {
		goto fail;
	}

	/* Committing (not aborting) keeps the dbi handles for later txns. */
	ret = mdb_txn_commit(txn);
	return map_err(ret);
fail:
	mdb_txn_abort(txn);
	return ret;
}

/*
 * ACMEZONE_MAPSIZE: the map size writers use (bytes, or with a K, M or G
 * suffix).  For tests of a full map and of readers following a map grown
 * by a writer; the default suits any real challenge zone.
 */
static int env_mapsize(size_t *out)
{
	const char *text = getenv(AZ_ENV_MAPSIZE);
	if (text == NULL || text[0] == '\0') {
		return AZ_EOK;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	unsigned shift = 0;
	switch (*end) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: break;
	}
	if (errno != 0 || end == text || *end != '\0' || text[0] < '0' || text[0] > '9' ||
	    n > (MAPSIZE_MAX >> shift) || (n << shift) < MAPSIZE_MIN) {
		errno = EINVAL;
		return AZ_EINVAL;
	}
	*out = (size_t)(n << shift);
	return AZ_EOK;
}

/*
 * LMDB's lock file for its default 126 readers: 125 reader lines of 64
 * octets after a 192-octet header (LMDB 0.9 on 64-bit Linux).  LMDB keeps
 * a larger file as it is and grows a smaller one itself.
 */
#define LOCK_SIZE	8192

/*
 * Make a side file (lock, sync) fit for every process of the store: it
 * exists, is a regular file, has the data file's group and mode 0660, and
 * its first 'size' octets have blocks (LMDB writes its lock file through a
 * map, where a write into a hole on a full disk raises SIGBUS).  A missing
 * one is created here rather than by LMDB, which would give it the
 * opener's own group and umask (0640 root:root for root): readers in the
 * store's group could then never open the store again.  An existing one
 * is repaired only with 'fix' (writers: the owner of the store).  Opened
 * without following a symbolic link.  \return AZ_EOK, or the error of the
 * call that failed (az_errno()); a file created here is removed again then.
 */
static int side_file(const char *path, const struct stat *data, off_t size, bool fix)
{
	bool made = true;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0 && errno == EEXIST) {
		if (!fix) {
			return AZ_EOK;
		}
		made = false;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		return map_err(errno);
	}
	struct stat sb;
	int ret = AZ_EOK, err;
	if (fstat(fd, &sb) != 0) {
		ret = map_err(errno);
	} else if (!S_ISREG(sb.st_mode)) {
		ret = map_err(EINVAL);
	} else if (sb.st_gid != data->st_gid && fchown(fd, (uid_t)-1, data->st_gid) != 0) {
		ret = map_err(errno);
	} else if ((sb.st_mode & 07777) != 0660 && fchmod(fd, 0660) != 0) {
		ret = map_err(errno);
	} else if (size > 0 && (err = posix_fallocate(fd, 0, size)) != 0) {
		ret = map_err(err);
	}
	close(fd);
	if (ret != AZ_EOK && made) {
		unlink(path);
	}
	return ret;
}

/*
 * Before LMDB opens the store: its side files as readers need them.
 * Every opener creates a missing lock file properly (or fails, if it
 * may not); writers also repair the group and mode of existing ones and
 * recreate a missing sync file.
 */
static int side_files(az_store_t *st, const struct stat *data)
{
	char *lock = suffixed(st->path, "-lock");
	char *sync = suffixed(st->path, "-sync");
	az_notify_t *nt = NULL;
	int ret = AZ_ENOMEM;
	if (lock == NULL || sync == NULL) {
		goto out;
	}
	ret = side_file(lock, data, LOCK_SIZE, !st->rdonly);
	if (ret == AZ_EROFS && st->rdonly) {
		ret = AZ_EOK;	/* LMDB reads a read-only medium without locks */
	}
	if (ret != AZ_EOK || st->rdonly) {
		goto out;
	}
	/* The sync file is best effort: without it writes are still served
	 * (readers poll), and the CLI says why it cannot wait.  A new, empty
	 * one gets its size and header from its opener. */
	if (side_file(sync, data, 0, true) == AZ_EOK &&
	    az_notify_open(&nt, st->path, false) == AZ_EOK) {
		az_notify_close(nt);
	}
out:
	free(lock);
	free(sync);
	return ret;
}

/* Remember what az_store_check() compares against, right after the open. */
static int check_prepare(az_store_t *st)
{
	MDB_stat ms;
	struct stat sb;
	int ret;
	if ((ret = mdb_env_get_fd(st->env, &st->fd)) != MDB_SUCCESS ||
	    (ret = mdb_env_stat(st->env, &ms)) != MDB_SUCCESS) {
		return map_err(ret);
	}
	st->psize = ms.ms_psize;
	st->lock_path = suffixed(st->path, "-lock");
	if (st->lock_path == NULL) {
		return AZ_ENOMEM;
	}
	/* LMDB sized the lock file when it opened it: any smaller later and
	 * its reader table is cut off. */
	if (stat(st->lock_path, &sb) != 0) {
		return errno == ENOENT ? AZ_ENOENT : AZ_EIO;
	}
	st->lock_dev = sb.st_dev;
	st->lock_ino = sb.st_ino;
	st->lock_size = sb.st_size;
	return AZ_EOK;
}

static int store_open(az_store_t **out, const char *path, unsigned flags,
                      bool create, const az_config_t *cfg)
{
	az_store_t *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return AZ_ENOMEM;
	}
	st->lock_fd = -1;
	st->rdonly = flags & AZ_OPEN_RDONLY;
	st->threads = flags & AZ_OPEN_THREADS;
	/* LMDB opens the canonical spelling: the directories az_store_trust()
	 * checked, with no symbolic link in them that someone could turn
	 * elsewhere in between; the same files as the path given. */
	st->path = az_registry_canonical(path);
	int ret = AZ_ENOMEM;
	if (st->path == NULL) {
		goto fail;
	}
	path = st->path;

	if (!st->rdonly && !create && (ret = az_store_trust(path, NULL)) != AZ_EOK) {
		goto fail;
	}
	struct stat sb;
	if (stat(path, &sb) != 0) {
		ret = (errno == ENOENT) ? AZ_ENOENT : AZ_EIO;
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		ret = AZ_EIO;
		goto fail;
	}
	if (!create && sb.st_size == 0) {
		/* LMDB would take an empty file for a new environment and
		 * write one into it (or fail to, read-only). */
		ret = AZ_ENOTINIT;
		goto fail;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;

	size_t mapsize = MAPSIZE;
	if (!st->rdonly && (ret = env_mapsize(&mapsize)) != AZ_EOK) {
		goto fail;
	}
	if (!create && (ret = side_files(st, &sb)) != AZ_EOK) {
		goto fail;
	}
	if ((ret = mdb_env_create(&st->env)) != MDB_SUCCESS ||
	    (ret = mdb_env_set_maxdbs(st->env, 8)) != MDB_SUCCESS ||
	    (!st->rdonly && (ret = mdb_env_set_mapsize(st->env, mapsize)) != MDB_SUCCESS)) {
		ret = map_err(ret);
		goto fail;
	}
	/*
	 * Writers commit with MDB_NOMETASYNC: one fdatasync of the data pages
	 * per commit instead of that plus a synchronous meta page write.  The
	 * file stays consistent whatever happens (LMDB's ACI); only an OS
	 * crash or power loss may undo the last committed transaction, which
	 * readers have already served.  See "Durability" in doc/design.md.
	 */
	unsigned mflags = MDB_NOSUBDIR | MDB_NOTLS |
	                  (st->rdonly ? MDB_RDONLY : MDB_NOMETASYNC);
	ret = mdb_env_open(st->env, path, mflags, 0640);
	if (ret != MDB_SUCCESS) {
		/* We stat()ed the file above: ENOENT here means LMDB found it
		 * empty (truncated, or never initialised). */
		ret = (ret == MDB_INVALID || ret == ENOENT) ? AZ_ENOTINIT : map_err(ret);
		goto fail;
	}
	/* Before the first read through the map: is the file whole? */
	if ((ret = check_prepare(st)) != AZ_EOK || (ret = az_store_check(st)) != AZ_EOK) {
		goto fail;
	}
	if (!st->rdonly && !create && (ret = opened_trusted(st)) != AZ_EOK) {
		goto fail;
	}
	/* Slots of readers that died (a 'list' killed by SIGPIPE) pin their
	 * snapshots, and writers could never reuse the pages those hold. */
	(void)az_store_reap(st);
	if ((ret = open_dbis(st, create, cfg)) != AZ_EOK) {
		goto fail;
	}
	*out = st;
	return AZ_EOK;
fail:
	{
		int saved = errno;
		(void)az_fail(ret);	/* the errno behind it, for az_errno() */
		az_store_close(st);
		errno = saved;
	}
	return ret;
}

int az_store_reap(az_store_t *st)
{
	int dead = 0;
	if (st == NULL || st->env == NULL) {
		return 0;
	}
	/* mdb_reader_check() takes LMDB's reader-table lock for a moment
	 * and asks the kernel once per distinct pid whether it still holds
	 * its lock on the lock file: no snapshot of ours is concerned. */
	return mdb_reader_check(st->env, &dead) == MDB_SUCCESS ? dead : 0;
}

int az_store_open(az_store_t **out, const char *path, unsigned flags)
{
	if (out == NULL || path == NULL) {
		return AZ_EINVAL;
	}
	return store_open(out, path, flags, false, NULL);
}

int az_store_create(const char *path, gid_t gid)
{
	return az_store_create_with(path, gid, NULL);
}

int az_store_create_with(const char *path, gid_t gid, const az_config_t *cfg)
{
	if (path == NULL || (cfg != NULL && config_check(cfg) != AZ_EOK)) {
		return AZ_EINVAL;
	}
	char *lock = suffixed(path, "-lock");
	char *canon = az_registry_canonical(path);
	az_store_t *st = NULL;
	az_notify_t *nt = NULL;
	bool made_data = false, made_lock = false, made_sync = false;
	const char *why = NULL;
	int ret = AZ_ENOMEM;
	if (lock == NULL || canon == NULL) {
		goto out;
	}
	/* Only where writers will trust it: in a directory others may
	 * write, the files made below could be swapped before LMDB opens
	 * them (see az_store_trust()). */
	if ((ret = chain_of(canon, &why)) != AZ_EOK) {
		goto out;
	}
	if (why != NULL) {
		errno = EPERM;
		ret = AZ_EPERM;
		goto out;
	}
	if ((ret = create_file(path, 0640, gid)) != AZ_EOK) {
		goto out;
	}
	made_data = true;
	/* Readers (knotd) need write access to LMDB's lock file.  With no
	 * data file, a lock file left behind belongs to nobody. */
	(void)unlink(lock);
	if ((ret = create_file(lock, 0660, gid)) != AZ_EOK) {
		goto out;
	}
	made_lock = true;
	{
		/* Blocks for LMDB's lock file, which it writes through a map. */
		int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		int err = fd < 0 ? errno : posix_fallocate(fd, 0, LOCK_SIZE);
		if (fd >= 0) {
			close(fd);
		}
		if (err != 0) {
			ret = map_err(err);
			goto out;
		}
	}
	if ((ret = az_notify_open(&nt, path, true)) != AZ_EOK) {
		goto out;
	}
	made_sync = true;
	if (gid != (gid_t)-1) {
		char *sync = suffixed(path, "-sync");
		ret = (sync != NULL && chown(sync, (uid_t)-1, gid) == 0) ? AZ_EOK : AZ_EPERM;
		free(sync);
		if (ret != AZ_EOK) {
			goto out;
		}
	}
	ret = store_open(&st, path, 0, true, cfg);
out:
	if (ret != AZ_EOK) {
		int saved = errno;
		if (made_data) {
			unlink(path);
		}
		if (made_lock) {
			unlink(lock);
		}
		if (made_sync) {
			char *sync = suffixed(path, "-sync");
			if (sync != NULL) {
				unlink(sync);
			}
			free(sync);
		}
		errno = saved;
	}
	az_notify_close(nt);
	az_store_close(st);
	free(canon);
	free(lock);
	return ret;
}

void az_store_close(az_store_t *st)
{
	if (st == NULL) {
		return;
	}
	if (st->env != NULL && !st->lock_broken) {
		mdb_env_close(st->env);
	}
	/* else: closing would write our reader slot in a lock file cut off
	 * under its map and fault; leaking one environment is the lesser
	 * harm (only after that fault, see az_store_check()). */
	if (st->lock_fd >= 0 && (st->env == NULL || !st->lock_broken)) {
		close(st->lock_fd);	/* LMDB's locks are gone already */
	}
	free(st->lock_path);
	free(st->path);
	free(st);
}

uint64_t az_store_last_txnid(az_store_t *st)
{
	MDB_envinfo info;
	if (mdb_env_info(st->env, &info) != MDB_SUCCESS) {
		return 0;
	}
	return (uint64_t)info.me_last_txnid;
}

void az_store_file_id(const az_store_t *st, dev_t *dev, ino_t *ino)
{
	*dev = st->dev;
	*ino = st->ino;
}

int az_store_remap(az_store_t *st)
{
	if (st == NULL) {
		return AZ_EINVAL;
	}
	/* Size 0: take the size recorded in the file.  Safe only with no
	 * snapshot open in this process: the caller guarantees it. */
	return map_err(mdb_env_set_mapsize(st->env, 0));
}

/*** Writing. ***/

/*
 * The head of LMDB's lock file, as LMDB 0.9 lays it out (mdb.c: MDB_txbody
 * of MDB_txninfo): a magic number, a format word, the reader table's
 * mutex, then mti_txnid, the id of the newest committed transaction.
 * Mirrored only to find that one field; nothing is written there unless
 * the magic and the value LMDB itself just read there both match.
 */
struct lock_head {
	uint32_t magic;
	uint32_t format;
	pthread_mutex_t rmutex;
	size_t txnid;		/* LMDB's txnid_t */
};
#define LOCK_MAGIC	0xBEEFC0DEu

/*
 * Write lock held (a write transaction is open): put the lock file's
 * transaction id back to 'last', the newest id in the data file's meta
 * pages, where LMDB had read 'seen'.  No commit can be under way.
 */
static int lock_txnid_repair(az_store_t *st, uint64_t seen, uint64_t last)
{
	struct lock_head head;
	struct stat sb;
	size_t fix = (size_t)last;
	int ret = AZ_EROLLBACK;
	/* Kept open until az_store_close(), after mdb_env_close(): closing
	 * any descriptor of the lock file drops this process's fcntl() locks
	 * on it, LMDB's shared lock among them (see opened_trusted()). */
	if (st->lock_fd < 0) {
		st->lock_fd = open(st->lock_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	}
	int fd = st->lock_fd;
	if (fd < 0) {
		return AZ_EROLLBACK;
	}
	/* The file LMDB has open, as it is laid out, holding what LMDB read. */
	if (fstat(fd, &sb) == 0 && sb.st_dev == st->lock_dev && sb.st_ino == st->lock_ino &&
	    pread(fd, &head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
	    head.magic == LOCK_MAGIC && (uint64_t)head.txnid == seen &&
	    pwrite(fd, &fix, sizeof(fix), offsetof(struct lock_head, txnid)) ==
	    (ssize_t)sizeof(fix)) {
		ret = AZ_EOK;
	}
	return ret;
}

/*
 * LMDB gives a write transaction the lock file's transaction id plus one
 * and builds it on the meta page of that id's parity (mdb.c,
 * mdb_txn_renew0): it trusts a file that every reader -- knotd's account
 * -- may write.  Written one lower there, the next writer would build on
 * the snapshot before the last commit and write over it: an acknowledged
 * write lost, and readers that served it shown the same id again.  The
 * meta pages are in the data file, which only writers may write; the newer
 * of the two holds the id of the newest commit.  Under the write lock (this
 * transaction holds it) no commit is under way, so LMDB must have read
 * exactly that id.  If not, put the lock file right and begin again (a
 * process that may write it could do it again: a few tries, then refuse).
 * \return AZ_EOK with *txn a transaction built on the newest commit, or
 * an error with *txn NULL.
 */
static int txnid_check(az_store_t *st, MDB_txn **txn)
{
	for (int tries = 0; tries < 3; tries++) {
		uint64_t seen = (uint64_t)mdb_txn_id(*txn) - 1;
		uint64_t last = az_store_last_txnid(st);
		if (seen == last) {
			return AZ_EOK;
		}
		int ret = lock_txnid_repair(st, seen, last);
		mdb_txn_abort(*txn);	/* releases the write lock */
		*txn = NULL;
		if (ret != AZ_EOK) {
			return ret;
		}
		if ((ret = mdb_txn_begin(st->env, NULL, 0, txn)) != MDB_SUCCESS) {
			*txn = NULL;
			return map_err(ret);
		}
	}
	mdb_txn_abort(*txn);
	*txn = NULL;
	return AZ_EROLLBACK;
}

int az_txn_begin(az_store_t *st, az_txn_t **out)
{
	if (st == NULL || out == NULL || st->rdonly) {
		return AZ_EINVAL;
	}
	az_txn_t *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return AZ_ENOMEM;
	}
	t->st = st;
	int ret = az_store_check(st);
	if (ret != AZ_EOK) {
		free(t);
		return ret;
	}
	/* Before the write: the pages it frees are reused sooner. */
	(void)az_store_reap(st);
	ret = mdb_txn_begin(st->env, NULL, 0, &t->txn);
	if (ret == MDB_MAP_RESIZED) {
		/* Another writer grew the map: adopt its size and retry. */
		mdb_env_set_mapsize(st->env, 0);
		ret = mdb_txn_begin(st->env, NULL, 0, &t->txn);
	}
	if (ret != MDB_SUCCESS) {
		ret = map_err(ret);
		goto fail;
	}
	if ((ret = txnid_check(st, &t->txn)) != AZ_EOK) {
		goto fail;
	}
	*out = t;
	return AZ_EOK;
fail:
	az_txn_abort(t);
	return ret;
}

void az_txn_abort(az_txn_t *t)
{
	if (t == NULL) {
		return;
	}
	if (t->txn != NULL) {
		mdb_txn_abort(t->txn);
	}
	free(t->rec);
	free(t->vals);
	az_nameset_free(&t->log);
	free(t);
}

/*
 * Remember that name changed in this transaction (for the change log).
 * Each name once, however often the transaction touches it: a batch of a
 * thousand values at one name logs that name once, and every reader reads
 * its record once for it.
 */
static int note_change(az_txn_t *t, const uint8_t *name)
{
	t->changed = true;
	if (t->log_full) {
		return AZ_EOK;
	}
	int ret = az_nameset_add(&t->log, name, NULL);
	if (ret != AZ_EOK) {
		return ret;
	}
	if (t->log.count > LOG_MAX_NAMES) {
		/* Bounded memory: past this, readers reload everything. */
		t->log_full = true;
		az_nameset_free(&t->log);
	}
	return AZ_EOK;
}

/*
 * A record read back from the map: bounded (the sizes come from LMDB's
 * page headers, and a damaged one must not send us reading past the
 * file), checked against its key, then validated for walking.
 */
static int rec_open(az_rec_iter_t *it, const MDB_val *key, const MDB_val *data)
{
	if (key->mv_size == 0 || key->mv_size > AZ_NAME_MAXLEN ||
	    az_rec_verify(key->mv_data, key->mv_size, data->mv_data,
	                  data->mv_size) != AZ_EOK) {
		return AZ_ECORRUPT;
	}
	return az_rec_iter_init(it, data->mv_data, data->mv_size);
}

/* Encode t->vals[0..count) for key into t->rec. \return length, 0: too many. */
static size_t rec_build(az_txn_t *t, const MDB_val *key, unsigned count)
{
	size_t len = az_rec_encode(t->rec, t->rec_cap - AZ_REC_SUMLEN, t->vals, count);
	if (len == 0) {
		return 0;
	}
	return az_rec_seal(t->rec, len, t->rec_cap, key->mv_data, key->mv_size);
}

/*
 * Room in the scratch buffers for a record of n values.  Grown on demand
 * rather than sized for the worst case (a quarter of a megabyte): a
 * one-token add then touches no memory it does not need, which is part of
 * what a short-lived CLI process costs.
 */
static int scratch(az_txn_t *t, unsigned n, size_t text)
{
	/* n values of at most text octets in all, in format 3. */
	size_t rec = 3 + (size_t)n * 18 + text + AZ_REC_SUMLEN;
	if (n > AZ_MAX_VALUES + 1) {
		return AZ_ETOOMANY;
	}
	if (n > t->vals_cap) {
		size_t cap = n < 2 * t->vals_cap ? 2 * t->vals_cap : n;
		cap = cap > AZ_MAX_VALUES + 1 ? AZ_MAX_VALUES + 1 : cap;
		az_val_t *v = realloc(t->vals, cap * sizeof(*v));
		if (v == NULL) {
			return AZ_ENOMEM;
		}
		t->vals = v;
		t->vals_cap = cap;
	}
	if (rec > t->rec_cap) {
		size_t cap = rec < 2 * t->rec_cap ? 2 * t->rec_cap : rec;
		cap = cap > AZ_REC_MAXLEN ? AZ_REC_MAXLEN : cap;
		uint8_t *r = realloc(t->rec, cap);
		if (r == NULL) {
			return AZ_ENOMEM;
		}
		t->rec = r;
		t->rec_cap = cap;
	}
	return AZ_EOK;
}

/* Write vals[0..count) at key, or delete the key when count is 0. */
static int put_record(az_txn_t *t, MDB_val *key, unsigned count)
{
	int ret;
	if (count == 0) {
		ret = mdb_del(t->txn, t->st->tok, key, NULL);
		if (ret == MDB_NOTFOUND) {
			ret = MDB_SUCCESS;
		}
	} else {
		size_t len = rec_build(t, key, count);
		if (len == 0) {
			return AZ_ETOOMANY;
		}
		MDB_val data = { len, t->rec };
		ret = mdb_put(t->txn, t->st->tok, key, &data, 0);
	}
	return map_err(ret);
}

static int name_key(const uint8_t *name, MDB_val *key)
{
	size_t n = az_name_wire_len(name, AZ_NAME_MAXLEN);
	if (n == 0) {
		return AZ_EINVAL;
	}
	key->mv_size = n;
	key->mv_data = (void *)name;
	return AZ_EOK;
}

/* Wall-clock UNIX milliseconds: the publication time of a new value. */
static int64_t wall_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		return 0;
	}
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Put val at name.  A value already there (the same text) gets val's
 * expiry; its publication time stays if it was live at 'now' and 'keep'
 * says so (a refresh), else becomes val's (a new publication).
 */
static int txn_put(az_txn_t *t, const uint8_t *name, const az_val_t *val,
                   int64_t now, bool keep)
{
	MDB_val key, data;
	/* What readers would refuse as corrupt never gets written. */
	if (t == NULL || val == NULL || name_key(name, &key) != AZ_EOK ||
	    az_text_check((const char *)val->data, val->len, NULL) != AZ_EOK) {
		return AZ_EINVAL;
	}

	unsigned count = 0;
	bool found = false;
	int ret = mdb_get(t->txn, t->st->tok, &key, &data);
	if (ret == MDB_SUCCESS) {
		az_rec_iter_t it;
		if (rec_open(&it, &key, &data) != AZ_EOK) {
			return AZ_ECORRUPT;
		}
		if ((ret = scratch(t, az_rec_iter_count(&it) + 1,
		                   data.mv_size + val->len)) != AZ_EOK) {
			return ret;
		}
		az_val_t v;
		while (az_rec_iter_next(&it, &v)) {
			bool same = v.len == val->len &&
			            memcmp(v.data, val->data, val->len) == 0;
			if (same) {
				if (!keep || v.expire <= now) {
					v.published = val->published;
				}
				v.expire = val->expire;	/* refresh, never duplicate */
				found = true;
			} else if (v.expire <= now) {
				continue;		/* drop expired in passing */
			}
			t->vals[count++] = v;
		}
	} else if (ret != MDB_NOTFOUND) {
		return map_err(ret);
	} else if ((ret = scratch(t, 1, val->len)) != AZ_EOK) {
		return ret;
	}
	if (!found) {
		if (count >= AZ_MAX_VALUES) {
			return AZ_ETOOMANY;
		}
		t->vals[count++] = *val;
		/* A new value must leave the answer within one DNS message
		 * (a refresh never grows it). */
		size_t rdata = 0;
		for (unsigned i = 0; i < count; i++) {
			rdata += az_txt_rdlen(t->vals[i].len);
		}
		if (az_answer_len(key.mv_size, count, rdata) > AZ_ANSWER_MAXLEN) {
			return AZ_E2BIG;
		}
	}
	if ((ret = put_record(t, &key, count)) != AZ_EOK) {
		return ret;
	}
	return note_change(t, name);
}

int az_txn_add(az_txn_t *t, const uint8_t *name, const uint8_t *value,
               size_t len, int64_t expire, int64_t now)
{
	if (len > AZ_TXT_MAXLEN) {
		return AZ_EINVAL;
	}
	az_val_t val = { .expire = expire, .published = wall_ms(),
	                 .len = (uint16_t)len, .data = value };
	return txn_put(t, name, &val, now, true);
}

int az_txn_put(az_txn_t *t, const uint8_t *name, const az_val_t *val, int64_t now)
{
	return txn_put(t, name, val, now, false);
}

int az_txn_del(az_txn_t *t, const uint8_t *name, const uint8_t *value,
               size_t len, unsigned *removed)
{
	MDB_val key, data;
	unsigned dummy;
	if (removed == NULL) {
		removed = &dummy;
	}
	*removed = 0;
	if (t == NULL || name_key(name, &key) != AZ_EOK) {
		return AZ_EINVAL;
	}
	int ret = mdb_get(t->txn, t->st->tok, &key, &data);
	if (ret == MDB_NOTFOUND) {
		return AZ_EOK;
	} else if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}

	az_rec_iter_t it;
	bool corrupt = rec_open(&it, &key, &data) != AZ_EOK;
	unsigned count = 0;
	if (value == NULL || corrupt) {
		if (value != NULL) {
			return AZ_ECORRUPT;	/* only "del NAME" can clear it */
		}
		*removed = corrupt ? 1 : az_rec_iter_count(&it);
	} else {
		if ((ret = scratch(t, az_rec_iter_count(&it), data.mv_size)) != AZ_EOK) {
			return ret;
		}
		az_val_t v;
		while (az_rec_iter_next(&it, &v)) {
			if (v.len == len && memcmp(v.data, value, len) == 0) {
				(*removed)++;
			} else {
				t->vals[count++] = v;
			}
		}
		if (*removed == 0) {
			return AZ_EOK;
		}
	}
	if ((ret = put_record(t, &key, count)) != AZ_EOK) {
		return ret;
	}
	return note_change(t, name);
}

int az_txn_purge(az_txn_t *t, int64_t now, size_t *removed)
{
	size_t dummy;
	if (removed == NULL) {
		removed = &dummy;
	}
	*removed = 0;
	if (t == NULL) {
		return AZ_EINVAL;
	}
	MDB_cursor *cur = NULL;
	int ret = mdb_cursor_open(t->txn, t->st->tok, &cur);
	if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	MDB_val key, data;
	MDB_cursor_op op = MDB_FIRST;
	uint8_t name[AZ_NAME_MAXLEN];
	while ((ret = mdb_cursor_get(cur, &key, &data, op)) == MDB_SUCCESS) {
		op = MDB_NEXT;
		az_rec_iter_t it;
		if (key.mv_size > AZ_NAME_MAXLEN ||
		    az_name_wire_len(key.mv_data, key.mv_size) != key.mv_size ||
		    rec_open(&it, &key, &data) != AZ_EOK) {
			continue;	/* corrupt: left for "del NAME" */
		}
		unsigned count = 0, dropped = 0;
		az_val_t v;
		if ((ret = scratch(t, az_rec_iter_count(&it), data.mv_size)) != AZ_EOK) {
			mdb_cursor_close(cur);
			return ret;
		}
		while (az_rec_iter_next(&it, &v)) {
			if (v.expire <= now) {
				dropped++;
			} else {
				t->vals[count++] = v;
			}
		}
		if (dropped == 0) {
			continue;
		}
		*removed += dropped;
		/*
		 * key points into the page: a put of another size deletes the
		 * node and moves the page's other nodes before it inserts the
		 * key again, so it must come from a copy, or the record lands
		 * under a neighbour's name.  (The values are copied into t->rec
		 * by rec_build() before the put.)
		 */
		memcpy(name, key.mv_data, key.mv_size);
		MDB_val own = { key.mv_size, name };
		if (count == 0) {
			ret = mdb_cursor_del(cur, 0);
		} else {
			size_t len = rec_build(t, &own, count);
			MDB_val nd = { len, t->rec };
			ret = mdb_cursor_put(cur, &own, &nd, MDB_CURRENT);
		}
		if (ret != MDB_SUCCESS) {
			break;
		}
		/* After a delete LMDB's MDB_NEXT yields the item that followed. */
		if ((ret = note_change(t, name)) != AZ_EOK) {
			mdb_cursor_close(cur);
			return ret;
		}
	}
	mdb_cursor_close(cur);
	return (ret == MDB_NOTFOUND || ret == MDB_SUCCESS) ? AZ_EOK : map_err(ret);
}

int az_txn_set_config(az_txn_t *t, const az_config_t *cfg)
{
	if (t == NULL || cfg == NULL) {
		return AZ_EINVAL;
	}
	int ret = config_write(t->txn, t->st->meta, cfg);
	if (ret == AZ_EOK) {
		/* Commit it: an entry in the log that names no name. */
		t->changed = true;
	}
	return ret;
}

int az_txn_get_config(az_txn_t *t, az_config_t *cfg)
{
	if (t == NULL || cfg == NULL) {
		return AZ_EINVAL;
	}
	return config_read(t->txn, t->st->meta, cfg);
}

int az_txn_get(az_txn_t *t, const uint8_t *name, az_rec_iter_t *it)
{
	MDB_val key, data;
	if (t == NULL || it == NULL || name_key(name, &key) != AZ_EOK) {
		return AZ_EINVAL;
	}
	int ret = mdb_get(t->txn, t->st->tok, &key, &data);
	if (ret == MDB_NOTFOUND) {
		return AZ_ENOENT;
	} else if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	return rec_open(it, &key, &data);
}

/* Append this transaction's entry to the change log and trim old ones. */
static int write_log(az_txn_t *t, uint64_t id)
{
	uint8_t kbuf[8];
	az_put_be64(kbuf, id);
	MDB_val key = { sizeof(kbuf), kbuf }, data;
	data.mv_size = 1 + (t->log_full ? 0 : t->log.len);
	int ret = mdb_put(t->txn, t->st->log, &key, &data, MDB_RESERVE);
	if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	uint8_t *p = data.mv_data;
	p[0] = t->log_full ? LOG_FULL : LOG_NAMES;
	if (!t->log_full && t->log.len > 0) {
		memcpy(p + 1, t->log.names, t->log.len);
	}

	if (id <= LOG_KEEP) {
		return AZ_EOK;
	}
	uint64_t floor = 0;
	MDB_cursor *cur = NULL;
	if ((ret = mdb_cursor_open(t->txn, t->st->log, &cur)) != MDB_SUCCESS) {
		return map_err(ret);
	}
	while ((ret = mdb_cursor_get(cur, &key, &data, MDB_FIRST)) == MDB_SUCCESS) {
		if (key.mv_size != 8) {
			ret = mdb_cursor_del(cur, 0);	/* junk: drop it */
		} else if (az_get_be64(key.mv_data) <= id - LOG_KEEP) {
			floor = az_get_be64(key.mv_data);
			ret = mdb_cursor_del(cur, 0);
		} else {
			break;
		}
		if (ret != MDB_SUCCESS) {
			break;
		}
	}
	mdb_cursor_close(cur);
	if (ret != MDB_SUCCESS && ret != MDB_NOTFOUND) {
		return map_err(ret);
	}
	if (floor > 0) {
		uint8_t fbuf[8];
		az_put_be64(fbuf, floor);
		MDB_val fk = { strlen(KEY_FLOOR), KEY_FLOOR }, fv = { sizeof(fbuf), fbuf };
		ret = mdb_put(t->txn, t->st->meta, &fk, &fv, 0);
		if (ret != MDB_SUCCESS) {
			return map_err(ret);
		}
	}
	return AZ_EOK;
}

/* Is the file system of the store (nearly) out of space? */
static bool disk_full(az_store_t *st)
{
	struct statvfs sv;
	int saved = errno;
	bool full = fstatvfs(st->fd, &sv) == 0 &&
	            (uint64_t)sv.f_bavail * sv.f_frsize < 16 * (uint64_t)st->psize;
	errno = saved;
	return full;
}

/*
 * After a commit: make the file reach the newest meta's last page.  The
 * commit may have left the pages it allocated and freed again unwritten
 * at the end (see check_tail()); they are free, so zeros there are
 * right, and readers then pass the cheap check.  fallocate() never
 * shrinks a file and never changes data, so a writer that committed
 * since (we no longer hold LMDB's write lock) loses nothing.  Best
 * effort: on a full disk it fails and readers take the slow way.
 */
static void cover_last_page(az_store_t *st)
{
	MDB_envinfo info;
	struct stat sb;
	int saved = errno;
	if (mdb_env_info(st->env, &info) == MDB_SUCCESS && fstat(st->fd, &sb) == 0) {
		off_t want = ((off_t)info.me_last_pgno + 1) * (off_t)st->psize;
		if (sb.st_size < want) {
			(void)fallocate(st->fd, 0, sb.st_size, want - sb.st_size);
		}
	}
	errno = saved;
}

int az_txn_commit(az_txn_t *t, uint64_t *txnid)
{
	if (t == NULL) {
		return AZ_EINVAL;
	}
	int ret = AZ_EOK;
	uint64_t id;
	if (!t->changed) {
		/* LMDB would not commit an empty txn: nothing new to see. */
		id = az_store_last_txnid(t->st);
		goto out;
	}
	id = (uint64_t)mdb_txn_id(t->txn);
	if ((ret = write_log(t, id)) != AZ_EOK) {
		goto out;
	}
	ret = map_err(mdb_txn_commit(t->txn));
	t->txn = NULL;		/* committed or freed by LMDB either way */
	if (ret == AZ_EOK) {
		cover_last_page(t->st);
	}
	if (ret == AZ_EIO && disk_full(t->st)) {
		/* LMDB reports a short write as EIO, and a full disk
		 * writes short before it fails: say what it is. */
		errno = ENOSPC;
		ret = AZ_EFULL;
	}
out:
	if (ret == AZ_EOK && txnid != NULL) {
		*txnid = id;
	}
	az_txn_abort(t);
	return ret;
}

void az_txn_lmdb(az_txn_t *t, MDB_txn **txn, MDB_dbi *tok)
{
	*txn = t->txn;
	if (tok != NULL) {
		*tok = t->st->tok;
	}
}

void az_txn_touch(az_txn_t *t)
{
	t->changed = true;	/* the change log gets an entry naming no name */
}

MDB_txn *az_reader_mdb(az_reader_t *rd)
{
	return rd->txn;
}

int az_map_err(int ret)
{
	return map_err(ret);
}

/*** Reading. ***/

/* Readers: widen the span of the map that data has been read from. */
static void note_span(az_store_t *st, const MDB_val *v)
{
	uintptr_t p = (uintptr_t)v->mv_data;
	/* Single-reader handles only (knotd's sync thread): a handle shared
	 * by threads (the BIND driver) keeps no span, so nothing to race on. */
	if (!st->rdonly || st->threads || v->mv_size == 0) {
		return;
	}
	st->seen_lo = (st->seen_lo == 0 || p < st->seen_lo) ? p : st->seen_lo;
	st->seen_hi = p + v->mv_size > st->seen_hi ? p + v->mv_size : st->seen_hi;
}

/*
 * Drop the pages of LMDB's map that reads have brought into this process's
 * resident set.  A reader keeps what it needs elsewhere (knotd's table),
 * yet every page it reads stays mapped: a full walk maps the whole file,
 * and incremental syncs keep touching the new pages writers make.  The
 * pages stay in the page cache, shared with every other process; they
 * just stop counting in this one.  The span is where records and log
 * entries were found, all within LMDB's map (a read-only shared file
 * mapping for readers; LMDB does not tell its address), which leaves the
 * few branch and meta pages outside it mapped.  Dropping pages of such a
 * mapping loses nothing, and pointers into it stay valid: the kernel maps
 * the pages again on the next access.
 */
static void release_map(az_store_t *st)
{
	long ps = sysconf(_SC_PAGESIZE);
	if (!st->rdonly || st->threads || st->seen_lo == 0 || st->seen_lo >= st->seen_hi || ps <= 0) {
		return;
	}
	uintptr_t lo = st->seen_lo & ~((uintptr_t)ps - 1);
	(void)madvise((void *)lo, st->seen_hi - lo, MADV_DONTNEED);
}

/*
 * A read snapshot takes its id from the lock file too, and its root from
 * the meta page of that id's parity (see txnid_check()): with the id
 * rolled back it is an older state than the data file's newest, and a
 * server would answer from before an acknowledged write.  'newest' was in
 * the meta pages before the snapshot began.  A commit writes its meta page
 * a moment before it sets the lock file's id, so a snapshot begun in that
 * moment is older without anyone's fault: look again a few times (up to
 * about 10 ms), then refuse.  A writer puts the id right at its next write.
 * \return AZ_EOK with *txn a snapshot at least as new as 'newest', or
 * AZ_EROLLBACK (or an LMDB error) with *txn NULL.
 */
static int snapshot_current(az_store_t *st, MDB_txn **txn, uint64_t newest)
{
	for (int tries = 0; (uint64_t)mdb_txn_id(*txn) < newest; tries++) {
		mdb_txn_abort(*txn);
		*txn = NULL;
		if (tries == 10) {
			return AZ_EROLLBACK;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		int ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
		if (ret != MDB_SUCCESS) {
			*txn = NULL;
			return map_err(ret);
		}
	}
	return AZ_EOK;
}

int az_reader_begin(az_store_t *st, az_reader_t **out)
{
	if (st == NULL || out == NULL) {
		return AZ_EINVAL;
	}
	az_reader_t *rd = calloc(1, sizeof(*rd));
	if (rd == NULL) {
		return AZ_ENOMEM;
	}
	rd->st = st;
	int ret = az_store_check(st);
	if (ret != AZ_EOK) {
		free(rd);
		return ret;
	}
	/* Committed before this snapshot begins: it must show at least this. */
	uint64_t newest = az_store_last_txnid(st);
	ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rd->txn);
	if (ret == MDB_MAP_RESIZED && st->threads) {
		/* Other threads may be reading the current mapping. */
		free(rd);
		return AZ_ERESIZED;
	} else if (ret == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(st->env, 0);
		st->seen_lo = st->seen_hi = 0;		/* a new map */
		ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rd->txn);
	} else if (ret == MDB_READERS_FULL) {
		/* Slots of dead processes are freed by a reader check. */
		int dead = 0;
		mdb_reader_check(st->env, &dead);
		ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rd->txn);
	}
	if (ret != MDB_SUCCESS) {
		free(rd);
		return map_err(ret);
	}
	if ((ret = snapshot_current(st, &rd->txn, newest)) != AZ_EOK) {
		free(rd);
		return ret;
	}
	/* Each snapshot, not only the open: a newer acmezone may have
	 * upgraded the file in place since. */
	if ((ret = check_schema(st, rd->txn)) != AZ_EOK) {
		az_reader_end(rd);
		return ret;
	}
	*out = rd;
	return AZ_EOK;
}

void az_reader_end(az_reader_t *rd)
{
	if (rd == NULL) {
		return;
	}
	mdb_txn_abort(rd->txn);
	/* Now and then, so incremental syncs do not map the file bit by bit. */
	if (rd->st->rdonly && !rd->st->threads && ++rd->st->reads % RELEASE_EVERY == 0) {
		release_map(rd->st);
	}
	free(rd);
}

uint64_t az_reader_txnid(const az_reader_t *rd)
{
	return (uint64_t)mdb_txn_id(rd->txn);
}

int az_reader_get(az_reader_t *rd, const uint8_t *name, az_rec_iter_t *it)
{
	MDB_val key, data;
	if (rd == NULL || it == NULL || name_key(name, &key) != AZ_EOK) {
		return AZ_EINVAL;
	}
	int ret = mdb_get(rd->txn, rd->st->tok, &key, &data);
	if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	note_span(rd->st, &data);
	return rec_open(it, &key, &data);
}

int az_reader_foreach(az_reader_t *rd, const uint8_t *after,
                      az_foreach_cb cb, void *ctx)
{
	if (rd == NULL || cb == NULL) {
		return AZ_EINVAL;
	}
	MDB_cursor *cur = NULL;
	int ret = mdb_cursor_open(rd->txn, rd->st->tok, &cur);
	if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	MDB_val key, data;
	MDB_cursor_op op = MDB_FIRST;
	if (after != NULL && name_key(after, &key) == AZ_EOK) {
		op = MDB_SET_RANGE;
	}
	while ((ret = mdb_cursor_get(cur, &key, &data, op)) == MDB_SUCCESS) {
		note_span(rd->st, &data);
		if (op == MDB_SET_RANGE && after != NULL &&
		    key.mv_size == az_name_wire_len(after, AZ_NAME_MAXLEN) &&
		    memcmp(key.mv_data, after, key.mv_size) == 0) {
			op = MDB_NEXT;
			continue;
		}
		op = MDB_NEXT;
		const uint8_t *name = key.mv_data;
		if (key.mv_size > AZ_NAME_MAXLEN ||
		    az_name_wire_len(name, key.mv_size) != key.mv_size) {
			name = NULL;
		}
		az_rec_iter_t it;
		bool ok = rec_open(&it, &key, &data) == AZ_EOK;
		if ((ret = cb(name, ok ? &it : NULL, ctx)) != 0) {
			mdb_cursor_close(cur);
			return ret;
		}
	}
	mdb_cursor_close(cur);
	if (after == NULL) {
		release_map(rd->st);	/* the walk mapped the whole file */
	}
	return ret == MDB_NOTFOUND ? AZ_EOK : map_err(ret);
}

int az_reader_changes(az_reader_t *rd, uint64_t since, az_change_cb cb, void *ctx)
{
	if (rd == NULL || cb == NULL) {
		return AZ_EINVAL;
	}
	MDB_val key = { strlen(KEY_FLOOR), KEY_FLOOR }, data;
	int ret = mdb_get(rd->txn, rd->st->meta, &key, &data);
	if (ret != MDB_SUCCESS || data.mv_size != 8 || az_get_be64(data.mv_data) > since) {
		return AZ_ENOENT;	/* trimmed past 'since': reload all */
	}

	MDB_cursor *cur = NULL;
	if ((ret = mdb_cursor_open(rd->txn, rd->st->log, &cur)) != MDB_SUCCESS) {
		return map_err(ret);
	}
	uint8_t kbuf[8];
	az_put_be64(kbuf, since + 1);
	key.mv_size = sizeof(kbuf);
	key.mv_data = kbuf;
	MDB_cursor_op op = MDB_SET_RANGE;
	while ((ret = mdb_cursor_get(cur, &key, &data, op)) == MDB_SUCCESS) {
		op = MDB_NEXT;
		note_span(rd->st, &data);
		const uint8_t *p = data.mv_data;
		if (key.mv_size != 8 || data.mv_size < 1 || p[0] != LOG_NAMES) {
			ret = AZ_ENOENT;	/* too much changed, or junk */
			goto out;
		}
		size_t pos = 1;
		while (pos < data.mv_size) {
			size_t n = az_name_wire_len(p + pos, data.mv_size - pos);
			if (n == 0) {
				ret = AZ_ENOENT;
				goto out;
			}
			if ((ret = cb(p + pos, ctx)) != 0) {
				goto out;
			}
			pos += n;
		}
	}
	ret = (ret == MDB_NOTFOUND) ? AZ_EOK : map_err(ret);
out:
	mdb_cursor_close(cur);
	return ret;
}

int az_reader_config(az_reader_t *rd, az_config_t *cfg)
{
	if (rd == NULL || cfg == NULL) {
		return AZ_EINVAL;
	}
	return config_read(rd->txn, rd->st->meta, cfg);
}

size_t az_reader_count(az_reader_t *rd)
{
	MDB_stat ms;
	if (rd == NULL || mdb_stat(rd->txn, rd->st->tok, &ms) != MDB_SUCCESS) {
		return 0;
	}
	return ms.ms_entries;
}

/*** Health of the open files. ***/

/*
 * The file ends before the newest meta's last page number.  That is not
 * yet a truncation: LMDB never writes the pages a transaction allocated
 * and freed again before it committed, and those may be the last ones
 * (az_txn_commit() gives the file room for them afterwards, but a commit
 * may be between the two, a writer may have died there, and older
 * writers did not).  The file is whole when every page past its end is
 * on the free list: az_pages_whole() reads that list with pread(), under
 * a snapshot taken first, so that no writer reuses the pages it reads.
 * Beginning the snapshot reads only the meta pages, checked above.
 */
static int check_tail(az_store_t *st, off_t size)
{
	MDB_txn *txn = NULL;
	int ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (ret == MDB_MAP_RESIZED && st->threads) {
		return AZ_ERESIZED;	/* as az_reader_begin() would say */
	} else if (ret == MDB_MAP_RESIZED) {
		/* No snapshot of a single-thread handle is open while it is
		 * checked (see az_store_check()): adopt the size in passing. */
		mdb_env_set_mapsize(st->env, 0);
		st->seen_lo = st->seen_hi = 0;
		ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	} else if (ret == MDB_READERS_FULL) {
		int dead = 0;
		mdb_reader_check(st->env, &dead);
		ret = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	}
	if (ret != MDB_SUCCESS) {
		return map_err(ret);
	}
	ret = az_pages_whole(st->fd, st->psize, size, MAPSIZE_MAX / st->psize);
	mdb_txn_abort(txn);
	return ret;
}

int az_store_check(az_store_t *st)
{
	struct stat sb;
	MDB_envinfo info;
	if (st == NULL || st->env == NULL || st->lock_path == NULL) {
		return AZ_EINVAL;
	}
	/* The lock file first: mdb_env_info() reads its reader count. */
	if (stat(st->lock_path, &sb) != 0) {
		return errno == ENOENT ? AZ_ENOENT : AZ_EIO;
	}
	if (sb.st_dev != st->lock_dev || sb.st_ino != st->lock_ino) {
		return AZ_ENOENT;	/* replaced: writers lock another file */
	}
	if (sb.st_size < st->lock_size) {
		/* LMDB's reader table was cut off under its map: ending a read
		 * txn or closing the env touches our slot there and would
		 * fault.  Give the file its size back (zeros; LMDB's next
		 * exclusive opener rebuilds the header) so we can close. */
		if (truncate(st->lock_path, st->lock_size) != 0) {
			st->lock_broken = true;
		}
		return AZ_ENOENT;	/* reopen, as for a replaced one */
	}
	/* The two meta pages first: reading them is reading the map. */
	if (fstat(st->fd, &sb) != 0) {
		return AZ_EIO;
	}
	if ((uint64_t)sb.st_size < 2 * (uint64_t)st->psize) {
		return AZ_ECORRUPT;
	}
	/* Then every page the newest meta uses.  The meta before the size:
	 * a writer grows the file before it writes the meta that needs the
	 * growth, so a size taken after the meta covers it (the other way
	 * round a commit in between looks like a truncation). */
	if (mdb_env_info(st->env, &info) != MDB_SUCCESS) {
		return AZ_ELMDB;
	}
	if (fstat(st->fd, &sb) != 0) {
		return AZ_EIO;
	}
	if (((uint64_t)info.me_last_pgno + 1) * st->psize > (uint64_t)sb.st_size) {
		/* Not yet a truncation: see check_tail(). */
		return check_tail(st, sb.st_size);
	}
	return AZ_EOK;
}
