/* store.h -- the acmezone LMDB store: the one place that knows the on-disk format. */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * On-disk layout (schema version 1), one LMDB file opened with MDB_NOSUBDIR:
 *
 *   named database "meta":
 *     "schema"    -> u32 big endian schema version
 *     "log-floor" -> u64 big endian: the change log covers every transaction
 *                    with an id greater than this one
 *     (issue-3 keys such as "zone" and "scheme" live here too)
 *
 *   named database "tok": one record per owner name
 *     key   = owner name in lower-case DNS wire format (no compression)
 *     value = u8 format (1), u16 BE count, then count times:
 *             i64 BE expiry (UNIX seconds), u8 length, length octets
 *
 *   named database "log": what each write transaction changed
 *     key   = u64 BE transaction id
 *     value = u8 kind: 0 = a list of wire names follows (concatenated,
 *             each self-delimiting), 1 = "too much changed, reload all"
 *
 * Beside the data file live "<path>-lock" (LMDB's reader table) and
 * "<path>-sync" (see az_notify_* below): both must be writable by every
 * process that opens the store, readers included.
 */

#define AZ_SCHEMA_VERSION	1
#define AZ_DEFAULT_DB		"/var/lib/acmezone/acmezone.mdb"
#define AZ_ENV_DB		"ACMEZONE_DB"

#define AZ_NAME_MAXLEN		255	/* wire form, terminal label included */
#define AZ_NAME_TXTLEN		1024	/* enough for any name as text + NUL */
#define AZ_VALUE_MAXLEN		255
#define AZ_ACME_VALUE_LEN	43	/* base64url(SHA-256) without padding */
#define AZ_MAX_VALUES		1024	/* values per owner name */

/* Error codes: 0 or one of these (all negative). */
enum {
	AZ_EOK       = 0,
	AZ_EINVAL    = -1,	/* invalid argument or input */
	AZ_ENOENT    = -2,	/* no such name / value / file */
	AZ_ENOMEM    = -3,
	AZ_EIO       = -4,	/* system call failed (see errno) */
	AZ_ECORRUPT  = -5,	/* bytes read back from LMDB do not decode */
	AZ_ESCHEMA   = -6,	/* store written by another schema version */
	AZ_EFULL     = -7,	/* LMDB map full or disk full */
	AZ_ELMDB     = -8,	/* other LMDB error */
	AZ_EPERM     = -9,	/* permission denied / untrusted file */
	AZ_ENOTINIT  = -10,	/* file exists but was never initialised */
	AZ_ETOOMANY  = -11,	/* more than AZ_MAX_VALUES at one name */
	AZ_EBUSY     = -12,	/* LMDB reader table full / stale */
};

/*! One-line description of an AZ_E* code (static string). */
const char *az_strerror(int code);

/*** Names. ***/

/*!
 * Parse a textual owner name ("Foo.Example.NET" or "foo.example.net.")
 * into lower-case wire form.  Labels are 1..63 octets of letters, digits
 * and '-' (not first or last), or start with '_' (as in _acme-challenge);
 * the wire form is at most 255 octets; the root name is refused.
 *
 * \return AZ_EOK, or AZ_EINVAL with *why set to a static reason.
 */
int az_name_parse(const char *text, uint8_t out[AZ_NAME_MAXLEN],
                  size_t *out_len, const char **why);

/*! Length of a wire name, or 0 if it is not a valid wire name within max. */
size_t az_name_wire_len(const uint8_t *wire, size_t max);

/*! Text form of a wire name, with a trailing dot.  out >= AZ_NAME_TXTLEN. */
void az_name_to_text(const uint8_t *wire, char *out, size_t out_size);

/*** Values and durations. ***/

/*!
 * Check a TXT value.  Without raw: exactly AZ_ACME_VALUE_LEN characters of
 * base64url.  With raw: 1..255 printable ASCII octets (0x20..0x7e).
 */
int az_value_check(const char *value, size_t len, bool raw, const char **why);

/*! Parse "90s", "30m", "2h", "1d" or plain seconds; 1 s .. 3650 d. */
int az_duration_parse(const char *text, int64_t *seconds);

/*** Records (the value of one "tok" entry). ***/

typedef struct {
	int64_t expire;		/* UNIX seconds after which it is not served */
	uint8_t len;
	const uint8_t *data;	/* points into the record buffer */
} az_val_t;

typedef struct {
	const uint8_t *pos, *end;
	unsigned left;
} az_rec_iter_t;

/*!
 * Validate a whole record and prepare to walk it.  Validation covers the
 * format byte, the count, every length and every value octet (printable).
 * \return AZ_EOK or AZ_ECORRUPT.
 */
int az_rec_iter_init(az_rec_iter_t *it, const void *buf, size_t len);

/*! Number of values in a record prepared with az_rec_iter_init(). */
unsigned az_rec_iter_count(const az_rec_iter_t *it);

/*! Next value; false at the end. */
bool az_rec_iter_next(az_rec_iter_t *it, az_val_t *val);

/*!
 * Encode values into buf (records are at most AZ_REC_MAXLEN octets).
 * \return encoded length, or 0 if it does not fit.
 */
size_t az_rec_encode(uint8_t *buf, size_t size, const az_val_t *vals, unsigned count);

#define AZ_REC_MAXLEN	(3 + AZ_MAX_VALUES * (8 + 1 + AZ_VALUE_MAXLEN))

/*** Opening the store. ***/

typedef struct az_store az_store_t;

enum {
	AZ_OPEN_RDONLY = 1 << 0,	/* readers (knotd, named, list) */
};

/*!
 * Create a new store: the data file, its lock file and its sync file, with
 * the schema version record.  Files are created 0640 (data) and 0660
 * (lock, sync) with group gid (-1 = the caller's), so that a reader in
 * that group can read and a writer can write.  Refuses an existing file.
 * On failure nothing is left behind.
 */
int az_store_create(const char *path, gid_t gid);

/*!
 * Open an existing store.  Checks the schema record (AZ_ESCHEMA if newer
 * or unknown, AZ_ENOTINIT if absent).  Writers also refuse files they
 * cannot trust (AZ_EPERM: world-writable, or owned by another non-root user).
 */
int az_store_open(az_store_t **out, const char *path, unsigned flags);
void az_store_close(az_store_t *store);

/*! The configured path (not owned by the caller). */
const char *az_store_path(const az_store_t *store);

/*!
 * Id of the newest committed transaction, read from the map without a
 * transaction or a system call (cheap; for "did anything change?").
 */
uint64_t az_store_last_txnid(az_store_t *store);

/*! Device and inode of the data file as opened. */
void az_store_file_id(const az_store_t *store, dev_t *dev, ino_t *ino);

/*** Writing: one LMDB write transaction. ***/

typedef struct az_txn az_txn_t;

int az_txn_begin(az_store_t *store, az_txn_t **out);

/*!
 * Add value at name, or refresh its expiry if it is already there.  Values
 * at that name that have expired by 'now' are dropped in passing.
 */
int az_txn_add(az_txn_t *txn, const uint8_t *name, const uint8_t *value,
               size_t len, int64_t expire, int64_t now);

/*!
 * Delete one value (value != NULL) or every value (value == NULL) at name.
 * *removed (optional) receives the count; deleting nothing is not an error.
 */
int az_txn_del(az_txn_t *txn, const uint8_t *name, const uint8_t *value,
               size_t len, unsigned *removed);

/*! Drop every value that expired by now. */
int az_txn_purge(az_txn_t *txn, int64_t now, size_t *removed);

/*! Commit; *txnid (optional) receives the committed transaction id. */
int az_txn_commit(az_txn_t *txn, uint64_t *txnid);

/*! Abort (NULL is fine).  Nothing reaches the disk. */
void az_txn_abort(az_txn_t *txn);

/*** Reading: one LMDB read snapshot. ***/

typedef struct az_reader az_reader_t;

/*! Begin a read snapshot (handles MDB_MAP_RESIZED and stale readers). */
int az_reader_begin(az_store_t *store, az_reader_t **out);
void az_reader_end(az_reader_t *rd);

/*! Id of the snapshot being read. */
uint64_t az_reader_txnid(const az_reader_t *rd);

/*!
 * The record at name: AZ_EOK with *it prepared, AZ_ENOENT, or AZ_ECORRUPT.
 * The iterator points into the map: valid until az_reader_end().
 */
int az_reader_get(az_reader_t *rd, const uint8_t *name, az_rec_iter_t *it);

/*!
 * Call cb for every name (in key order), starting after 'after' if not
 * NULL.  A record that does not decode is passed with rec == NULL, and a
 * key that is not a valid wire name with name == NULL, so the caller can
 * log it and go on.  A non-zero return from cb stops the walk
 * and is returned.  After a complete walk (after == NULL) of a read-only
 * store, the file's pages are dropped from the process's resident set
 * (they stay in the page cache); pointers into the map remain valid.
 * Read-only stores do the same every 64th az_reader_end().
 */
typedef int (*az_foreach_cb)(const uint8_t *name, az_rec_iter_t *rec, void *ctx);
int az_reader_foreach(az_reader_t *rd, const uint8_t *after,
                      az_foreach_cb cb, void *ctx);

/*!
 * Call cb for every name changed by the transactions after 'since' up to
 * this snapshot.  \return AZ_EOK, or AZ_ENOENT if the log cannot tell
 * (trimmed past 'since', or a transaction changed too much): reload all.
 */
typedef int (*az_change_cb)(const uint8_t *name, void *ctx);
int az_reader_changes(az_reader_t *rd, uint64_t since,
                      az_change_cb cb, void *ctx);

/*! Number of names in the store (for sizing tables). */
size_t az_reader_count(az_reader_t *rd);

/*** The sync file "<path>-sync": doorbell and acknowledgements. ***/

/*
 * Read-your-writes: a writer rings the doorbell after each commit and then
 * waits until every live reader slot (a process that serves the store,
 * holding an fcntl lock on its slot) acknowledges a transaction id at least
 * as new as the one it committed.  Waits use futexes on the shared mapping,
 * so a ring wakes a sleeping reader within microseconds and no process polls.
 */

typedef struct az_notify az_notify_t;

/*! Open (and with create, create) the sync file of the store at dbpath. */
int az_notify_open(az_notify_t **out, const char *dbpath, bool create);
void az_notify_close(az_notify_t *nt);

/*! Writer: wake every reader waiting on the doorbell. */
void az_notify_ring(az_notify_t *nt);

/*!
 * Writer: wait until every live reader has acknowledged txnid, for at most
 * timeout_ms.  \return AZ_EOK, or AZ_EBUSY on timeout with *late_pid set to
 * one reader that did not answer.
 */
int az_notify_wait(az_notify_t *nt, uint64_t txnid, int timeout_ms, pid_t *late_pid);

/*! Reader: claim a slot (one per process).  AZ_EBUSY if all are taken. */
int az_notify_claim(az_notify_t *nt);

/*! Reader: publish that every transaction up to txnid is being served. */
void az_notify_ack(az_notify_t *nt, uint64_t txnid);

/*! Reader: the current doorbell value (to pass to az_notify_sleep()). */
uint32_t az_notify_bell(az_notify_t *nt);

/*!
 * Reader: sleep until the doorbell differs from seen, or timeout_ms passes
 * (negative: no timeout).  Spurious wake-ups are possible.
 */
void az_notify_sleep(az_notify_t *nt, uint32_t seen, int timeout_ms);
