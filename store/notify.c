/* notify.c -- the "-sync" file: a doorbell for readers and their acknowledgements. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

/*
 * Layout: one 4 KiB file of 64-byte lines.  Line 0 is the header with the
 * doorbell; lines 1..NSLOTS are reader slots.  A reader owns a slot by
 * holding an open-file-description (OFD) write lock on its line: the kernel
 * drops the lock when the reader dies, so a writer can tell live slots from
 * stale ones without trusting pids.  All shared words are accessed with
 * atomics; the 32-bit ones double as futex words.
 */

#define SYNC_MAGIC	0x415a5359u	/* "AZSY" */
#define SYNC_VERSION	1
#define LINE		64
#define NSLOTS		63
#define SYNC_SIZE	(LINE * (NSLOTS + 1))

struct sync_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t bell;		/* futex: bumped by writers after a commit */
};

struct sync_slot {
	uint32_t seq;		/* futex: bumped after each acknowledgement */
	uint32_t status;	/* 0, or the errno why the reader cannot read
				 * the store (az_notify_status()); was padding,
				 * zero, in files of older versions */
	uint64_t applied;	/* newest txn id the reader serves */
	uint64_t pid;		/* informational, for messages */
};

struct az_notify {
	int fd;
	uint8_t *map;
	int slot;		/* claimed slot index, -1 if none */
};

static struct sync_hdr *hdr(az_notify_t *nt)
{
	return (struct sync_hdr *)nt->map;
}

static struct sync_slot *slot_at(az_notify_t *nt, int i)
{
	return (struct sync_slot *)(nt->map + LINE * (i + 1));
}

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE: waiters and wakers are different processes. */
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void ms_to_ts(int ms, struct timespec *ts)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

int az_notify_open(az_notify_t **out, const char *dbpath, bool create)
{
	if (out == NULL || dbpath == NULL) {
		return AZ_EINVAL;
	}
	size_t n = strlen(dbpath) + sizeof("-sync");
	char *path = malloc(n);
	az_notify_t *nt = calloc(1, sizeof(*nt));
	int ret = AZ_ENOMEM;
	if (path == NULL || nt == NULL) {
		goto fail;
	}
	snprintf(path, n, "%s-sync", dbpath);
	nt->fd = -1;
	nt->slot = -1;

	if (create) {
		(void)unlink(path);	/* a leftover of a removed store */
		nt->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660);
		if (nt->fd >= 0 && fchmod(nt->fd, 0660) != 0) {
			ret = AZ_EIO;
			goto fail;
		}
	} else {
		nt->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (nt->fd < 0) {
		ret = (errno == ENOENT) ? AZ_ENOENT : (errno == EROFS) ? AZ_EROFS :
		      (errno == EACCES || errno == EPERM || errno == ELOOP) ? AZ_EPERM : AZ_EIO;
		goto fail;
	}
	struct stat st;
	if (fstat(nt->fd, &st) != 0) {
		ret = AZ_EIO;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		/* Never grow or map another kind of file in its place. */
		ret = AZ_EPERM;
		goto fail;
	}
	/*
	 * New, or truncated (the file holds nothing durable): give it its
	 * size back, with blocks.  A hole made by ftruncate() would do for
	 * reading, but the header and the slots are written through the map
	 * below, and a write into a hole on a full file system raises SIGBUS
	 * instead of returning ENOSPC.  posix_fallocate() only allocates what
	 * is missing and never changes data, so openers may race here.  The
	 * header is written again below if it was lost.
	 */
	int err = posix_fallocate(nt->fd, 0, SYNC_SIZE);
	if (err != 0) {
		errno = err;
		ret = err == ENOSPC ? AZ_EFULL : err == EROFS ? AZ_EROFS : AZ_EIO;
		goto fail;
	}
	nt->map = mmap(NULL, SYNC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, nt->fd, 0);
	if (nt->map == MAP_FAILED) {
		nt->map = NULL;
		ret = AZ_EIO;
		goto fail;
	}
	uint32_t zero = 0;
	if (!create && __atomic_load_n(&hdr(nt)->magic, __ATOMIC_ACQUIRE) == 0) {
		/* Zeroed (truncated and grown back above): write the header
		 * again; the compare-and-swap lets one opener do it. */
		__atomic_store_n(&hdr(nt)->version, SYNC_VERSION, __ATOMIC_RELAXED);
		__atomic_compare_exchange_n(&hdr(nt)->magic, &zero, SYNC_MAGIC, false,
		                            __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
	if (create) {
		__atomic_store_n(&hdr(nt)->version, SYNC_VERSION, __ATOMIC_RELAXED);
		__atomic_store_n(&hdr(nt)->magic, SYNC_MAGIC, __ATOMIC_RELEASE);
	} else if (__atomic_load_n(&hdr(nt)->magic, __ATOMIC_ACQUIRE) != SYNC_MAGIC) {
		ret = AZ_ECORRUPT;
		goto fail;
	} else if (__atomic_load_n(&hdr(nt)->version, __ATOMIC_RELAXED) != SYNC_VERSION) {
		ret = AZ_ESCHEMA;
		goto fail;
	}
	free(path);
	*out = nt;
	return AZ_EOK;
fail:
	{
		int saved = errno;
		(void)az_fail(ret);	/* the errno behind it, for az_errno() */
		if (create && nt != NULL && nt->fd >= 0) {
			unlink(path);
		}
		az_notify_close(nt);
		free(path);
		errno = saved;
	}
	return ret;
}

void az_notify_close(az_notify_t *nt)
{
	if (nt == NULL) {
		return;
	}
	if (nt->map != NULL) {
		munmap(nt->map, SYNC_SIZE);
	}
	if (nt->fd >= 0) {
		close(nt->fd);	/* drops our OFD lock, freeing the slot */
	}
	free(nt);
}

int az_notify_check(az_notify_t *nt, const char *dbpath)
{
	struct stat fst, pst;
	char path[PATH_MAX];
	if (nt == NULL || dbpath == NULL) {
		return AZ_EINVAL;
	}
	if (fstat(nt->fd, &fst) != 0) {
		return AZ_EIO;
	}
	if (fst.st_size < SYNC_SIZE) {
		return AZ_ECORRUPT;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s-sync", dbpath) >= sizeof(path)) {
		return AZ_EINVAL;
	}
	if (stat(path, &pst) != 0) {
		return errno == ENOENT ? AZ_ENOENT : AZ_EIO;
	}
	if (pst.st_dev != fst.st_dev || pst.st_ino != fst.st_ino) {
		return AZ_ENOENT;
	}
	return AZ_EOK;
}

void az_notify_ring(az_notify_t *nt)
{
	if (nt == NULL) {
		return;
	}
	/* The commit is durable in the map before this store: LMDB wrote it. */
	__atomic_add_fetch(&hdr(nt)->bell, 1, __ATOMIC_SEQ_CST);
	futex(&hdr(nt)->bell, FUTEX_WAKE, INT_MAX, NULL);
}

/*
 * The first slot from 'first' on whose lock is held by another open of
 * the file (a live reader), or NSLOTS.  One F_OFD_GETLK over the whole
 * range names the first conflicting lock, so a writer asks once per live
 * reader and once more, not once per slot.  Our own slot never conflicts
 * with our own open file description.
 */
static int next_live(az_notify_t *nt, int first)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = LINE * (first + 1),
		.l_len = LINE * (NSLOTS - first),
	};
	if (first >= NSLOTS || fcntl(nt->fd, F_OFD_GETLK, &fl) != 0 ||
	    fl.l_type == F_UNLCK) {
		return NSLOTS;
	}
	int i = (int)(fl.l_start / LINE) - 1;
	return i < first ? first : i;	/* a lock reaching in from before */
}

static bool slot_live(az_notify_t *nt, int i)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = LINE * (i + 1),
		.l_len = LINE,
	};
	if (fcntl(nt->fd, F_OFD_GETLK, &fl) != 0) {
		return false;
	}
	return fl.l_type != F_UNLCK;
}

int az_notify_wait(az_notify_t *nt, uint64_t txnid, int timeout_ms, pid_t *late_pid)
{
	if (nt == NULL) {
		return AZ_EINVAL;
	}
	int64_t deadline = az_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int unserved = 0;
	for (int i = next_live(nt, 0); i < NSLOTS; i = next_live(nt, i + 1)) {
		struct sync_slot *s = slot_at(nt, i);
		for (;;) {
			/* Load seq before applied: an ack between the two makes
			 * the futex wait below return at once (value changed). */
			uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
			if (__atomic_load_n(&s->applied, __ATOMIC_ACQUIRE) >= txnid) {
				break;
			}
			/* A live reader that says it cannot read the store will
			 * not serve this write: no use waiting for it. */
			uint32_t status = __atomic_load_n(&s->status, __ATOMIC_ACQUIRE);
			if (status != 0) {
				if (unserved == 0 && late_pid != NULL) {
					*late_pid = (pid_t)__atomic_load_n(&s->pid, __ATOMIC_RELAXED);
				}
				if (unserved == 0) {
					unserved = (int)status;
				}
				break;
			}
			int64_t left = deadline - az_mono_ms();
			if (left <= 0) {
				if (late_pid != NULL) {
					*late_pid = (pid_t)__atomic_load_n(&s->pid, __ATOMIC_RELAXED);
				}
				return AZ_EBUSY;
			}
			/* Wake up now and then: a reader that died while we
			 * sleep never acks, and its slot must be let go. */
			struct timespec ts;
			ms_to_ts(left < 100 ? (int)left : 100, &ts);
			futex(&s->seq, FUTEX_WAIT, seq, &ts);
			if (!slot_live(nt, i)) {
				break;
			}
		}
	}
	if (unserved != 0) {
		errno = unserved;
		return az_fail(AZ_EUNSERVED);
	}
	return AZ_EOK;
}

int az_notify_claim(az_notify_t *nt)
{
	if (nt == NULL) {
		return AZ_EINVAL;
	}
	if (nt->slot >= 0) {
		return AZ_EOK;
	}
	for (int i = 0; i < NSLOTS; i++) {
		struct flock fl = {
			.l_type = F_WRLCK,
			.l_whence = SEEK_SET,
			.l_start = LINE * (i + 1),
			.l_len = LINE,
		};
		if (fcntl(nt->fd, F_OFD_SETLK, &fl) == 0) {
			nt->slot = i;
			struct sync_slot *s = slot_at(nt, i);
			__atomic_store_n(&s->pid, (uint64_t)getpid(), __ATOMIC_RELAXED);
			/* A dead holder's stale 'applied' is older than any new
			 * commit, so no writer can mistake it for our ack. */
			__atomic_store_n(&s->applied, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&s->status, 0, __ATOMIC_RELEASE);
			return AZ_EOK;
		}
	}
	return AZ_EBUSY;
}

void az_notify_ack(az_notify_t *nt, uint64_t txnid)
{
	if (nt == NULL || nt->slot < 0) {
		return;
	}
	struct sync_slot *s = slot_at(nt, nt->slot);
	/* Release: the table updates that serve txnid happen-before this. */
	__atomic_store_n(&s->applied, txnid, __ATOMIC_RELEASE);
	__atomic_store_n(&s->status, 0, __ATOMIC_RELEASE);	/* serving */
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_SEQ_CST);
	futex(&s->seq, FUTEX_WAKE, INT_MAX, NULL);
}

void az_notify_status(az_notify_t *nt, int err)
{
	if (nt == NULL || nt->slot < 0) {
		return;
	}
	struct sync_slot *s = slot_at(nt, nt->slot);
	__atomic_store_n(&s->status, (uint32_t)(err > 0 ? err : 0), __ATOMIC_RELEASE);
	/* Wake writers waiting on this slot: they stop waiting for it. */
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_SEQ_CST);
	futex(&s->seq, FUTEX_WAKE, INT_MAX, NULL);
}

uint32_t az_notify_bell(az_notify_t *nt)
{
	return nt == NULL ? 0 : __atomic_load_n(&hdr(nt)->bell, __ATOMIC_SEQ_CST);
}

void az_notify_sleep(az_notify_t *nt, uint32_t seen, int timeout_ms)
{
	if (nt == NULL) {
		if (timeout_ms > 0) {
			struct timespec ts;
			ms_to_ts(timeout_ms, &ts);
			nanosleep(&ts, NULL);
		}
		return;
	}
	struct timespec ts;
	ms_to_ts(timeout_ms, &ts);
	futex(&hdr(nt)->bell, FUTEX_WAIT, seen, timeout_ms >= 0 ? &ts : NULL);
}
