/* store.h -- the acmezone LMDB store: the one place that knows the on-disk format. */
/* SPDX-License-Identifier: MIT */

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
 *     "zone"      -> the challenge zone, lower-case wire form (optional)
 *     "scheme"    -> u8 naming scheme, an az_scheme_t (optional; readable)
 *
 *   named database "tok": one record per owner name
 *     key   = owner name in lower-case DNS wire format (no compression)
 *     value = u8 format (0x13: format 3), u16 BE count, then count times:
 *             i64 BE expiry (UNIX seconds; AZ_EXPIRE_NEVER: none),
 *             i64 BE publication time (UNIX milliseconds), u16 BE
 *             length (1..AZ_TXT_MAXLEN), length octets of text;
 *             then u32 BE CRC-32C of the key followed by everything
 *             before the checksum.  Formats 2 and 1, read but no longer
 *             written: per value i64 expiry, u8 length, the text (no
 *             publication time, read as 0); format 1 has no checksum.
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
#define AZ_ENV_MAPSIZE		"ACMEZONE_MAPSIZE"	/* writers' map size (tests) */

#define AZ_NAME_MAXLEN		255	/* wire form, terminal label included */
#define AZ_NAME_TXTLEN		1024	/* enough for any name as text + NUL */
#define AZ_VALUE_MAXLEN		255	/* one character-string (CLI --raw) */
/* The longest text one TXT RR carries: split into character-strings of
 * 255 octets, each with its length octet, it fills the 65535 octets of
 * RDATA (256 strings of 255 minus one octet).  Values longer than 255
 * (dns-persist-01 records) are served as several strings. */
#define AZ_TXT_MAXLEN		65279
#define AZ_EXPIRE_NEVER		INT64_MAX	/* a value without expiry */
#define AZ_ACME_VALUE_LEN	43	/* base64url(SHA-256) without padding */
#define AZ_MAX_VALUES		1024	/* values per owner name */

/*
 * Contracts of this header, once for every call below:
 *
 * - Return codes.  Every call that returns int returns AZ_EOK or one of
 *   the negative AZ_E* codes below; each call's comment lists the codes
 *   it returns besides AZ_EINVAL (a NULL or malformed argument, which any
 *   of them may return) and AZ_ENOMEM.  Calls returning void cannot fail
 *   (or report nothing that the caller could act on, as said there).
 * - errno.  AZ_EIO, AZ_EPERM, AZ_EROFS, AZ_EFULL and AZ_ENOENT for a file
 *   come from a system call or LMDB: az_errno() returns the errno behind
 *   the last such failure in the calling thread, so callers need not save
 *   errno around their own calls (logging, cleanup) before they report.
 *   errno itself is also left as the failing call set it, but anything
 *   the caller does afterwards may change it.
 * - Ownership.  Handles are opaque and owned by the caller from the call
 *   that makes them: az_store_open() -> az_store_close(), az_txn_begin()
 *   -> az_txn_commit() or az_txn_abort() (exactly one: both free the
 *   transaction, commit whether it succeeds or not), az_reader_begin() ->
 *   az_reader_end(), az_notify_open() -> az_notify_close().  A store must
 *   outlive its transactions and readers.  Pointers handed out (records,
 *   names in callbacks) point into LMDB's map and are valid until the
 *   reader or transaction they came from ends; strings returned are
 *   static.  Nothing keeps a pointer the caller passed in after the call.
 * - Threads.  A store opened without AZ_OPEN_THREADS, and every
 *   transaction, reader and notify handle, belongs to one thread at a
 *   time; az_errno() and az_strerror() may be called from any thread.
 */

/* Error codes: 0 or one of these (all negative). */
enum {
	AZ_EOK       = 0,
	AZ_EINVAL    = -1,	/* invalid argument or input */
	AZ_ENOENT    = -2,	/* no such name / value / file */
	AZ_ENOMEM    = -3,
	AZ_EIO       = -4,	/* system call failed (az_errno()) */
	AZ_ECORRUPT  = -5,	/* bytes read back from LMDB do not decode,
				 * or the data file is shorter than its data */
	AZ_ESCHEMA   = -6,	/* store written by another schema version */
	AZ_EFULL     = -7,	/* LMDB map full or disk full */
	AZ_ELMDB     = -8,	/* other LMDB error */
	AZ_EPERM     = -9,	/* permission denied / untrusted file */
	AZ_ENOTINIT  = -10,	/* file exists but was never initialised */
	AZ_ETOOMANY  = -11,	/* more than AZ_MAX_VALUES at one name */
	AZ_EBUSY     = -12,	/* LMDB reader table full / stale */
	AZ_ERESIZED  = -13,	/* a writer grew the map: az_store_remap() */
	AZ_E2BIG     = -14,	/* one name's answer would exceed a DNS message */
	AZ_EROFS     = -15,	/* the file system is read-only */
	AZ_EUNSERVED = -16,	/* a live reader says it cannot read the store
				 * (az_notify_wait()) */
	AZ_EROLLBACK = -20,	/* lock file's transaction id behind the data */
};

/*! One-line description of an AZ_E* code (static string). */
const char *az_strerror(int code);

/*!
 * The errno behind the last AZ_EIO, AZ_EPERM, AZ_EROFS, AZ_EFULL or
 * AZ_ENOENT (of a file) that a store call returned in this thread; 0 if
 * none has yet.  Meaningless after other codes.
 */
int az_errno(void);

/*! Store internal: remember errno for az_errno(); returns code. */
int az_fail(int code);

/*** Clock. ***/

/*!
 * Microseconds and milliseconds of CLOCK_MONOTONIC (never steps with the
 * wall clock): for deadlines, poll intervals and durations.  Any thread.
 */
int64_t az_mono_us(void);
int64_t az_mono_ms(void);

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

/*!
 * Is the wire name `name` equal to `zone` or below it?  Both valid wire
 * names; ASCII case is ignored (names from DNS replies keep their case);
 * compared at label boundaries only, so "xacme.net" is not below
 * "acme.net".  False for an invalid name.
 */
bool az_name_under(const uint8_t *name, const uint8_t *zone);

/*** Delegation names (label.c): the label of a customer domain. ***/

/*
 * Customers point _acme-challenge.<domain> at <label>.<challenge zone> by
 * a CNAME, once; label.c says how <label> is computed and proves that two
 * domains never share one.  Pure functions: no store, no I/O.
 */

typedef enum {
	AZ_SCHEME_READABLE = 0,	/* foo.example.com -> foo-example-com */
	AZ_SCHEME_REVERSED = 1,	/* foo.example.com -> com-example-foo */
	AZ_SCHEME_HASHED   = 2,	/* 32 characters of base32(SHA-256) */
} az_scheme_t;

/* Why a domain got its hashed label under another scheme. */
typedef enum {
	AZ_FALLBACK_NONE = 0,
	AZ_FALLBACK_LONG_LABEL,	/* the label would exceed 63 octets */
	AZ_FALLBACK_LONG_NAME,	/* label.zone would exceed 255 octets */
	AZ_FALLBACK_ONE_LABEL,	/* a single-label domain (see label.c) */
} az_fallback_t;

#define AZ_DOMAIN_BUFLEN	254	/* a host name as text + NUL */
#define AZ_LABEL_BUFLEN		64	/* one label as text + NUL */
#define AZ_HASH_LABEL_LEN	32
/* Longest challenge zone (wire form) under which every label fits. */
#define AZ_ZONE_MAXLEN		(AZ_NAME_MAXLEN - 1 - AZ_HASH_LABEL_LEN)

/*! "readable", "reversed", "hashed" -> scheme; AZ_EINVAL otherwise. */
int az_scheme_parse(const char *text, az_scheme_t *out);
const char *az_scheme_name(az_scheme_t scheme);
/*! Why a fallback happened, as a phrase ("a single-label domain"). */
const char *az_label_fallback_str(az_fallback_t fallback);

/*!
 * Canonical text of a customer domain: lower case, without a trailing dot
 * or a leading "*." (a wildcard maps like its parent).  It must be a host
 * name: labels of 1..63 letters, digits and '-', not starting or ending
 * with '-' ("xn--" IDNs included), at most 253 characters.
 * \return AZ_EOK, or AZ_EINVAL with *why set to a static reason.
 */
int az_domain_parse(const char *text, char out[AZ_DOMAIN_BUFLEN], const char **why);

/*!
 * The label of a canonical domain (from az_domain_parse) under scheme, for
 * a challenge zone of zone_len octets in wire form (0: do not check the
 * length of the whole name).  *fallback (optional) says whether and why
 * the hashed label was used instead of the scheme's.
 * \return AZ_EOK, or AZ_EINVAL (an unknown scheme, a zone too long).
 */
int az_label(const char *domain, az_scheme_t scheme, size_t zone_len,
             char out[AZ_LABEL_BUFLEN], az_fallback_t *fallback);

/*!
 * The delegation name <label>.<zone> of a domain given as text (any case,
 * optional trailing dot and leading "*."), in wire form.  zone is a wire
 * name of at most AZ_ZONE_MAXLEN octets.
 * \return AZ_EOK, or AZ_EINVAL with *why (optional) set to a static reason.
 */
int az_delegation(const char *text, az_scheme_t scheme, const uint8_t *zone,
                  uint8_t out[AZ_NAME_MAXLEN], size_t *out_len,
                  az_fallback_t *fallback, const char **why);

/*
 * dns-account-01 (draft-ietf-acme-dns-account-label): the CA asks
 * _<label>._acme-challenge.<domain>, the label being "_" and the lower-case
 * base32 of the first 10 octets of SHA-256 over the account URL (17
 * characters); acmezone writes the values at _<label>.<delegation name>.
 */
#define AZ_ACCOUNT_LABEL_LEN	17
#define AZ_ACCOUNT_URI_MAXLEN	1024

/*!
 * Is uri an ACME account URL: "https://" (any case) and a host, at most
 * AZ_ACCOUNT_URI_MAXLEN printable ASCII characters without spaces?
 * \return AZ_EOK, or AZ_EINVAL with *why (optional) set to a static reason.
 */
int az_account_uri_check(const char *uri, const char **why);

/*!
 * The account label of uri (checked as above), lower case, with its "_".
 * \return AZ_EOK, or AZ_EINVAL with *why (optional) set.
 */
int az_account_label(const char *uri, char out[AZ_ACCOUNT_LABEL_LEN + 1],
                     const char **why);

/*! Are these len octets an account label ("_" and 16 of a-z, 2-7; any case)? */
bool az_account_label_valid(const char *label, size_t len);

/*** SHA-256 (sha256.c). ***/

#define AZ_SHA256_LEN	32

void az_sha256(const void *data, size_t len, uint8_t out[AZ_SHA256_LEN]);

/*!
 * The DNS-01 TXT value of a key authorisation (RFC 8555 8.4):
 * base64url(SHA-256(keyauth)) without padding, 43 characters and a NUL.
 */
void az_acme_value(const char *keyauth, size_t len, char out[AZ_ACME_VALUE_LEN + 1]);

/*** Values and durations. ***/

/*!
 * Check a TXT value.  Without raw: exactly AZ_ACME_VALUE_LEN characters of
 * base64url.  With raw: 1..255 printable ASCII octets (0x20..0x7e).
 * \return AZ_EOK, or AZ_EINVAL with *why (optional) set to a static reason.
 */
int az_value_check(const char *value, size_t len, bool raw, const char **why);

/*!
 * Check a text the store can hold: 1..AZ_TXT_MAXLEN printable ASCII
 * octets.  \return AZ_EOK, or AZ_EINVAL with *why (optional) set.
 */
int az_text_check(const char *value, size_t len, const char **why);

/*!
 * Octets of TXT RDATA carrying a text of len octets: one length octet per
 * character-string of at most 255 octets.
 */
static inline size_t az_txt_rdlen(size_t len)
{
	return len + (len + 254) / 255;
}

/*! Parse "90s", "30m", "2h", "1d" or plain seconds; 1 s .. 3650 d.  AZ_EOK or AZ_EINVAL. */
int az_duration_parse(const char *text, int64_t *seconds);

/*** Records (the value of one "tok" entry). ***/

typedef struct {
	int64_t expire;		/* UNIX seconds after which it is not served
				 * (AZ_EXPIRE_NEVER: never) */
	int64_t published;	/* UNIX ms of its publication; 0: unknown
				 * (written before format 3) */
	uint16_t len;		/* 1..AZ_TXT_MAXLEN */
	const uint8_t *data;	/* points into the record buffer */
} az_val_t;

typedef struct {
	const uint8_t *pos, *end;
	unsigned left;
	uint8_t format;
} az_rec_iter_t;

/*!
 * Validate a whole record and prepare to walk it.  Validation covers the
 * format byte, the count, every length and every value octet (printable).
 * The checksum (formats 2 and 3) is not checked here (it covers the key
 * too): see az_rec_verify().  A format-3 record must have been sealed.
 * \return AZ_EOK or AZ_ECORRUPT.
 */
int az_rec_iter_init(az_rec_iter_t *it, const void *buf, size_t len);

/*!
 * Check a record read back against its key.  Records are written in
 * format 3 (see the layout at the top), ending in a CRC-32C (big endian)
 * of the key and of the record without the checksum, so that a flipped
 * octet in a key, an expiry or a value is caught rather than served.
 * Format-2 records have the same checksum; format-1 records (none) pass.
 * \return AZ_EOK or AZ_ECORRUPT.
 */
int az_rec_verify(const uint8_t *key, size_t klen, const void *buf, size_t len);

/*!
 * CRC-32C (Castagnoli) of len octets at p, continuing crc (0 to start):
 * the store's one checksum, of records, history events and the
 * observation file.
 */
uint32_t az_crc32c(uint32_t crc, const uint8_t *p, size_t len);

/*!
 * Seal a record just made by az_rec_encode() (len octets in buf of size
 * octets) for key: append its checksum.  \return the new length, 0 if
 * no room or if it was sealed already.
 */
size_t az_rec_seal(uint8_t *buf, size_t len, size_t size, const uint8_t *key,
                   size_t klen);

/*! Number of values in a record prepared with az_rec_iter_init(). */
unsigned az_rec_iter_count(const az_rec_iter_t *it);

/*! Next value; false at the end. */
bool az_rec_iter_next(az_rec_iter_t *it, az_val_t *val);

/*!
 * Encode values into buf (records are at most AZ_REC_MAXLEN octets).
 * \return encoded length, or 0 if it does not fit.
 */
size_t az_rec_encode(uint8_t *buf, size_t size, const az_val_t *vals, unsigned count);

#define AZ_REC_SUMLEN	4
/* The values at one name fit one DNS message (az_answer_len()), so their
 * text is bounded by it, whatever their number. */
#define AZ_REC_MAXLEN	(3 + AZ_MAX_VALUES * 18 + AZ_ANSWER_MAXLEN + AZ_REC_SUMLEN)

/*
 * The answer to a TXT query must fit in one DNS message: 65535 octets,
 * the most TCP's length field can say (RFC 1035 4.2.2).  No resolver can
 * use more, so the store refuses a write that would make the values at one
 * name exceed it (AZ_E2BIG).  The answer is the header (12 octets), the
 * question (the name and 4), and one RR per value: the owner as a pointer
 * to the question (2), type, class, TTL and RDLENGTH (10), the rdata
 * (1 + length).  AZ_ANSWER_RESERVE is left for what a server adds to it:
 * the OPT RR with its options (cookie, NSID, extended error), a TSIG RR,
 * an RRSIG made by mod-onlinesign.
 */
#define AZ_MSG_MAXLEN		65535
#define AZ_ANSWER_RESERVE	1024
#define AZ_ANSWER_MAXLEN	(AZ_MSG_MAXLEN - AZ_ANSWER_RESERVE)

/*!
 * Octets of the answer carrying count values whose RDATA take rdata_len
 * octets in all (the sum of az_txt_rdlen() of each) at a name of name_len
 * octets in wire form.  The store allows at most AZ_ANSWER_MAXLEN.
 */
static inline size_t az_answer_len(size_t name_len, size_t count, size_t rdata_len)
{
	return 12 + name_len + 4 + count * (2 + 10) + rdata_len;
}

/*** Sets of names (nameset.c). ***/

/*
 * The distinct names of a change list, in the order first seen: a writer
 * logs each changed name once per transaction, a reader reads each once
 * per sync, however often a batch touched it.  Zero-initialise; not
 * thread-safe.
 */
typedef struct {
	uint8_t *names;		/* the names, concatenated wire forms */
	size_t len;		/* octets used in names */
	size_t count;		/* names held */
	size_t cap;		/* (private) */
	uint64_t *slots;
	size_t mask;
} az_nameset_t;

/*!
 * Add a wire name unless it is there; *added (optional) says which.
 * \return AZ_EOK, AZ_EINVAL (not a wire name), AZ_ENOMEM (the set is
 * unchanged).
 */
int az_nameset_add(az_nameset_t *s, const uint8_t *name, bool *added);

/*! Empty the set, keeping its memory for the next use. */
void az_nameset_clear(az_nameset_t *s);

/*! Free the set's memory; it is empty and usable again. */
void az_nameset_free(az_nameset_t *s);

/*** Opening the store. ***/

typedef struct az_store az_store_t;

enum {
	AZ_OPEN_RDONLY  = 1 << 0,	/* readers (knotd, named, list) */
	AZ_OPEN_THREADS = 1 << 1,	/* readers on several threads at once */
};

/*!
 * Create a new store: the data file, its lock file and its sync file, with
 * the schema version record.  Files are created 0640 (data) and 0660
 * (lock, sync) with group gid (-1 = the caller's), so that a reader in
 * that group can read and a writer can write.  The lock and sync files
 * get their blocks allocated (both are written through maps, where a
 * full disk would raise SIGBUS rather than fail a call).  Refuses an
 * existing file, and (AZ_EPERM) a directory writers would not trust
 * (az_store_trust(): one that others may write, or below one).  On
 * failure nothing is left behind: every file this call created is
 * removed again.
 * \return AZ_EOK; AZ_EIO (errno EEXIST: the data file exists), AZ_EPERM
 * (an untrusted directory, or the group cannot be set), AZ_EROFS, AZ_EFULL
 * (no room on the disk).
 */
int az_store_create(const char *path, gid_t gid);

/*! The store's settings, kept in "meta". */
typedef struct {
	bool has_zone;			/* false: names are used as given */
	uint8_t zone[AZ_NAME_MAXLEN];	/* the challenge zone, wire form */
	az_scheme_t scheme;		/* AZ_SCHEME_READABLE unless set */
} az_config_t;

/*!
 * Like az_store_create(), with the settings written in the same first
 * transaction (cfg NULL: none).  AZ_EINVAL for a zone longer than
 * AZ_ZONE_MAXLEN or an unknown scheme.
 */
int az_store_create_with(const char *path, gid_t gid, const az_config_t *cfg);

/*!
 * Open an existing store.  Checks the schema record (AZ_ESCHEMA if newer
 * or unknown, AZ_ENOTINIT if absent or the file is empty).  Writers also
 * refuse files they cannot trust (AZ_EPERM, see az_store_trust()).
 *
 * Side files: a missing lock file is created by this call, with the data
 * file's group and mode 0660, before LMDB would create it with the
 * opener's own group and umask (a reader that may not create it fails
 * with AZ_EPERM instead).  Writers (not AZ_OPEN_RDONLY) also give an
 * existing lock or sync file that group and mode, and recreate a missing
 * sync file (see "Side files" in doc/reliability.md).
 * Every opener frees the reader slots of dead processes
 * (mdb_reader_check()), so a reader killed mid-read pins no snapshot.
 *
 * \return AZ_EOK with *out set; AZ_ENOENT (no file), AZ_ENOTINIT,
 * AZ_ESCHEMA, AZ_ECORRUPT (shorter than its data), AZ_EPERM, AZ_EROFS
 * (a writer on a read-only file system), AZ_EIO, AZ_ELMDB.
 */
int az_store_open(az_store_t **out, const char *path, unsigned flags);

/*! Close a store (NULL is fine); no transaction or reader may be open. */
void az_store_close(az_store_t *store);

/*!
 * Free the reader slots of processes that died with a snapshot open (an
 * 'acmezone list' killed by SIGPIPE): LMDB keeps every page such a
 * snapshot can reach, so the file would grow with every write after it.
 * az_store_open() and az_txn_begin() do it in passing; a long-lived
 * reader calls it now and then (it takes LMDB's reader-table lock for a
 * moment and asks the kernel once per reader process).  Any thread.
 * \return the number of slots freed.
 */
int az_store_reap(az_store_t *store);

/*!
 * Would a writer trust the store at path?  A writer acts on what it reads
 * (rewrites records, maps the sync file), so it refuses a store that
 * someone other than root and itself could have written, or could swap
 * between this check and LMDB's open (LMDB opens its lock file by name and
 * follows links).  Not trusted:
 *  - the data file: a symbolic link owned by another user; not a regular
 *    file; writable by any user, or by its group unless that is root's
 *    (gid 0); owned by a user other than root and the caller;
 *  - the lock or sync file (opened with O_NOFOLLOW, judged by the
 *    descriptor): a symbolic link, not a regular file, or writable by any
 *    user (group-writable is by design: readers write them);
 *  - the store's directory, resolved (and the target's, for a symbolic
 *    link): writable by any user or by a group other than root's, sticky
 *    or not, or owned by another user; every directory above it up to /:
 *    the same, except that a sticky one (/tmp) may be writable by others.
 * *why (optional) gets a static phrase naming the problem ("it is
 * writable by its group").  Writers (az_store_open() without
 * AZ_OPEN_RDONLY) call this, open LMDB on the canonical path
 * (az_registry_canonical()), then check the descriptors LMDB opened.
 * \return AZ_EOK, AZ_EPERM (untrusted), AZ_ENOENT, AZ_ENOMEM, AZ_EIO
 * (errno set: EISDIR for a directory, EINVAL for another kind of file).
 */
int az_store_trust(const char *path, const char **why);

/*!
 * Servers (mod-acmezone, the BIND driver): could someone other than root
 * and the writers have written the open store, so that serving it would
 * publish their tokens?  Yes if the data file (the descriptor LMDB reads)
 * is writable by any user or by a group other than root's, or if its
 * directory is, without the sticky bit (they could put another file in
 * its place).  The rules a writer applies to its own group are the same
 * (az_store_trust()), so a store a writer accepts is served.  Cheap: one
 * fstat() and one stat().  *why (optional) gets a static phrase.
 * \return AZ_EOK, AZ_EPERM (exposed: *why says how), AZ_EIO, AZ_EINVAL.
 */
int az_store_exposed(const az_store_t *st, const char **why);

/*!
 * The mode rule of az_store_trust() and az_store_exposed(): could users
 * other than the owner and root write through sb's mode -- any user, or
 * the members of a group other than root's?  For a server that has the
 * data file's stat() already (the BIND driver, once per query).
 */
struct stat;
bool az_mode_shared(const struct stat *sb);

/*!
 * Id of the newest committed transaction, read from the map without a
 * transaction or a system call (cheap; for "did anything change?").
 */
uint64_t az_store_last_txnid(az_store_t *store);

/*! Device and inode of the data file as opened. */
void az_store_file_id(const az_store_t *store, dev_t *dev, ino_t *ino);

/*!
 * Adopt the map size a writer grew the file to, after az_reader_begin()
 * returned AZ_ERESIZED.  Precondition: no read snapshot of this handle is
 * open in any thread (LMDB remaps the file under them otherwise); callers
 * that share a handle between threads hold their exclusive lock.
 * \return AZ_EOK, AZ_EIO, AZ_ELMDB.
 */
int az_store_remap(az_store_t *store);

/*!
 * Are the open files still whole?  LMDB reads the data file through a
 * shared map: a page past the end of a file truncated under it raises
 * SIGBUS in the reading thread.  This compares the file's size (fstat)
 * with the newest meta page's last page number; a file that ends before
 * it is whole only if every page past its end is free (LMDB does not write
 * pages a transaction allocated and freed again), which pages.c finds out
 * by reading the free list with pread() under a snapshot.  It also checks
 * that the lock file at its path is still the one LMDB mapped and not
 * shorter.  Readers (az_reader_begin) and writers (az_txn_begin,
 * az_store_open) call it before touching the map; a long-lived reader
 * calls it before
 * az_store_last_txnid() too.  It narrows the window, it cannot close it:
 * a truncation after the check still faults.
 * \return AZ_EOK; AZ_ECORRUPT if the data file is shorter than its data
 * (truncated); AZ_ENOENT if the lock file was removed or replaced
 * (writers would lock another file) or shrank (it is grown back so that
 * closing is safe): reopen; AZ_EIO if stat failed; AZ_ERESIZED (only
 * AZ_OPEN_THREADS handles, as az_reader_begin()) when the free list had
 * to be read and a writer had grown the map.
 */
int az_store_check(az_store_t *store);

/*** Writing: one LMDB write transaction. ***/

typedef struct az_txn az_txn_t;

/*!
 * Begin the write transaction (waits for LMDB's write lock, held until
 * commit or abort).  Checks the files first (az_store_check()) and frees
 * the reader slots of dead processes, so that their snapshots do not keep
 * the pages this transaction frees from being reused.
 * \return AZ_EOK with *out set; AZ_EINVAL (a read-only store), the codes
 * of az_store_check(), AZ_EFULL, AZ_EIO, AZ_ELMDB.
 */
int az_txn_begin(az_store_t *store, az_txn_t **out);

/*!
 * Add value (1..AZ_TXT_MAXLEN printable octets) at name, or refresh its
 * expiry if it is already there.  A new value is published now (wall
 * clock, ms); a refresh of a value still live at 'now' keeps its
 * publication time (a value that had expired is published anew).  Values
 * at that name that have expired by 'now' are dropped in passing.
 * \return AZ_EOK; AZ_ETOOMANY if name holds AZ_MAX_VALUES live values
 * already; AZ_E2BIG if the answer with the new value would exceed
 * AZ_ANSWER_MAXLEN (see az_answer_len()); nothing is changed then.
 * Also AZ_EINVAL (name or value invalid), AZ_ECORRUPT (the record there
 * does not decode: "del NAME" clears it), AZ_EFULL (the map is full),
 * AZ_ELMDB; after those the transaction may only be aborted.
 */
int az_txn_add(az_txn_t *txn, const uint8_t *name, const uint8_t *value,
               size_t len, int64_t expire, int64_t now);

/*!
 * As az_txn_add(), with the expiry and the publication time given in val
 * (a value copied from another store keeps its own): a value already
 * there takes both.  Same return codes.
 */
int az_txn_put(az_txn_t *txn, const uint8_t *name, const az_val_t *val,
               int64_t now);

/*!
 * Delete one value (value != NULL) or every value (value == NULL) at name.
 * *removed (optional) receives the count; deleting nothing is not an error.
 * \return AZ_EOK, AZ_EINVAL, AZ_ECORRUPT (one value asked for at a record
 * that does not decode), AZ_EFULL, AZ_ELMDB.
 */
int az_txn_del(az_txn_t *txn, const uint8_t *name, const uint8_t *value,
               size_t len, unsigned *removed);

/*!
 * Drop every value that expired by now; records that do not decode are
 * left alone.  *removed (optional) receives the count.
 * \return AZ_EOK, AZ_EINVAL, AZ_EFULL, AZ_ELMDB.
 */
int az_txn_purge(az_txn_t *txn, int64_t now, size_t *removed);

/*!
 * Replace the settings (zone and scheme).  Readers' tables are not
 * concerned: the change log gets an entry that names no name.
 * \return AZ_EOK, AZ_EINVAL (a zone too long, an unknown scheme), AZ_EFULL.
 */
int az_txn_set_config(az_txn_t *txn, const az_config_t *cfg);

/*! The settings as this transaction sees them.  AZ_EOK or AZ_ECORRUPT. */
int az_txn_get_config(az_txn_t *txn, az_config_t *cfg);

/*!
 * The record at name as this transaction sees it, its own writes
 * included (dns-persist-01: one record per issuer is decided by what is
 * there under the write lock).  The iterator points into LMDB's pages:
 * valid until the transaction's next write or its end; copy what must
 * outlive that.
 * \return AZ_EOK with *it prepared, AZ_ENOENT, AZ_ECORRUPT, AZ_ELMDB.
 */
int az_txn_get(az_txn_t *txn, const uint8_t *name, az_rec_iter_t *it);

/*!
 * Commit, and free the transaction whatever the outcome: txn must not be
 * used (nor aborted) afterwards.  *txnid (optional) receives the id of
 * the committed transaction (of the newest one if nothing changed).
 * \return AZ_EOK (committed and flushed: see "Durability" in
 * doc/reliability.md); AZ_EFULL (no room: nothing of the transaction is
 * in the file), AZ_EIO (az_errno()), AZ_ELMDB.
 */
int az_txn_commit(az_txn_t *txn, uint64_t *txnid);

/*! Abort and free (NULL is fine).  Nothing reaches the disk. */
void az_txn_abort(az_txn_t *txn);

/*** Reading: one LMDB read snapshot. ***/

typedef struct az_reader az_reader_t;

/*!
 * Begin a read snapshot (handles stale readers).  A writer that grew the
 * map makes LMDB refuse new snapshots until the reader adopts the new
 * size: a handle opened without AZ_OPEN_THREADS does so in passing; one
 * opened with it may have snapshots open on other threads, so it returns
 * AZ_ERESIZED instead and leaves az_store_remap() to the caller.  With
 * AZ_OPEN_THREADS, any number of threads may call this at once.
 */
int az_reader_begin(az_store_t *store, az_reader_t **out);
/* \return of az_reader_begin(): AZ_EOK with *out set; the codes of
 * az_store_check(); AZ_ERESIZED (AZ_OPEN_THREADS only), AZ_ESCHEMA,
 * AZ_ENOTINIT, AZ_EBUSY (reader table full of live readers), AZ_ELMDB. */

/*! End a snapshot and free it (NULL is fine). */
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

/*!
 * The settings in this snapshot.  Bytes read back are validated: a zone
 * that is not a wire name of at most AZ_ZONE_MAXLEN octets, or a scheme
 * that is not known, is AZ_ECORRUPT.  Absent keys are not an error
 * (has_zone false, scheme readable).
 */
int az_reader_config(az_reader_t *rd, az_config_t *cfg);

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

/*!
 * Open (and with create, create) the sync file of the store at dbpath.
 * The file is given its full size with blocks allocated before it is
 * mapped (a truncated one is grown back), so that writes through the map
 * cannot fault on a full disk.
 * \return AZ_EOK; AZ_ENOENT (no sync file), AZ_EPERM, AZ_EROFS, AZ_EFULL
 * (no room to grow it back), AZ_ECORRUPT (not a sync file), AZ_ESCHEMA,
 * AZ_EIO.
 */
int az_notify_open(az_notify_t **out, const char *dbpath, bool create);
void az_notify_close(az_notify_t *nt);

/*! Writer: wake every reader waiting on the doorbell. */
void az_notify_ring(az_notify_t *nt);

/*!
 * Writer: wait until every live reader has acknowledged txnid, for at most
 * timeout_ms.  A live reader that has published that it cannot read the
 * store (az_notify_status()) is not waited for: it will not serve the
 * write.  \return AZ_EOK; AZ_EUNSERVED with *late_pid set to the first
 * such reader and az_errno() (and errno) to the reason it published;
 * AZ_EBUSY on timeout with *late_pid set to one reader that did not answer.
 */
int az_notify_wait(az_notify_t *nt, uint64_t txnid, int timeout_ms, pid_t *late_pid);

/*!
 * Is the sync file still whole and still the one at "<dbpath>-sync"?  A
 * truncated file would fault on the next access to its map (SIGBUS); a
 * replaced one holds other slots, so writers would not wait for us.
 * \return AZ_EOK, AZ_ECORRUPT (shorter than the map), AZ_ENOENT (removed
 * or replaced: reopen), AZ_EIO.
 */
int az_notify_check(az_notify_t *nt, const char *dbpath);

/*! Reader: claim a slot (one per process).  AZ_EBUSY if all are taken. */
int az_notify_claim(az_notify_t *nt);

/*!
 * Reader: publish whether it can read the store: 0 (serving), or the
 * errno why not (the store cannot be opened or read).  A reader that
 * serves a zone keeps its slot while its store is unusable and says so
 * here, so that writers report their writes as not served instead of
 * finding no reader to wait for.  Wakes waiting writers.
 */
void az_notify_status(az_notify_t *nt, int err);

/*! Reader: publish that every transaction up to txnid is being served. */
void az_notify_ack(az_notify_t *nt, uint64_t txnid);

/*! Reader: the current doorbell value (to pass to az_notify_sleep()). */
uint32_t az_notify_bell(az_notify_t *nt);

/*!
 * Reader: sleep until the doorbell differs from seen, or timeout_ms passes
 * (negative: no timeout).  Spurious wake-ups are possible.
 */
void az_notify_sleep(az_notify_t *nt, uint32_t seen, int timeout_ms);

/*** Tombstones (tomb.c): what a delete leaves behind, for 'acmezone sync'. ***/

/*
 * Named database "gone", optional: made by the first delete that leaves a
 * tombstone, never opened by readers that do not sync (knotd, named, an
 * older acmezone), so a store without it is a store without tombstones.
 *   key   = owner name (wire form), then SHA-256 of the value
 *   value = u8 version (1), i64 BE deletion time (UNIX ms), i64 BE
 *           keep-until (UNIX s: the deleted value's expiry), the value
 * A tombstone says "(name, value) was deleted at that time": a copy of
 * the value published no later is not brought back by a sync.  Kept until
 * the value would have expired anyway; 'purge' drops it then.
 */
#define AZ_TOMB_KEEP	(7 * 86400)	/* s: a tombstone of a value never seen here */

typedef struct {
	int64_t when_ms;	/* deletion time, UNIX ms */
	int64_t until;		/* kept until then, UNIX s */
} az_tomb_t;

/*!
 * az_txn_del() that leaves a tombstone at when_ms for each live value it
 * removes (kept until that value's expiry), and with absent also for a
 * value asked for by name that is not here (kept AZ_TOMB_KEEP): a peer
 * may hold it.  \return as az_txn_del().
 */
int az_txn_del_tomb(az_txn_t *txn, const uint8_t *name, const uint8_t *value,
                    size_t len, int64_t when_ms, bool absent, unsigned *removed);

/*!
 * Sync: put val (its own expiry and publication time) at name unless a
 * tombstone of it is as new as its publication, or the copy here is
 * newer.  *changed: it was written.  \return as az_txn_put().
 */
int az_txn_sync_put(az_txn_t *txn, const uint8_t *name, const az_val_t *val,
                    int64_t now, bool *changed);

/*!
 * Sync: remove (name, value) if the copy here was published no later than
 * tomb->when_ms, and keep the tombstone.  *removed: a value was.
 * \return as az_txn_del(), AZ_EFULL.
 */
int az_txn_sync_drop(az_txn_t *txn, const uint8_t *name, const uint8_t *value,
                     size_t len, const az_tomb_t *tomb, bool *removed);

/*!
 * Call cb for each tombstone of the snapshot (damaged ones are skipped).
 * A non-zero return of cb stops the walk and is returned.
 */
typedef int (*az_tomb_cb)(const uint8_t *name, const uint8_t *value, size_t len,
                          const az_tomb_t *tomb, void *ctx);
int az_reader_tombs(az_reader_t *rd, az_tomb_cb cb, void *ctx);

/*! Drop the tombstones kept until now or earlier.  \return AZ_EOK, AZ_ELMDB. */
int az_txn_tomb_purge(az_txn_t *txn, int64_t now, size_t *removed);

/*** History (history.c): what hooks wrote and what the ACME clients said. ***/

/*
 * Named database "hist" (optional: created by the first event, so a
 * store made before it, or never written by a hook, has none, and every
 * reader treats that as an empty history; knotd and named never read it):
 *
 *   key   = u64 BE event id, one more than the newest (oldest first)
 *   value = u8 format (1), u8 op, i64 BE time (UNIX ms), i64 BE notAfter
 *           (UNIX seconds, 0: none), then length-prefixed fields: u8 client,
 *           u8 host, u8 domain, u8 owner (wire form), u8 value, u16 BE
 *           reason; then u32 BE CRC-32C of key and everything before it.
 *
 * "meta" keys "hist-max" (u32 BE events) and "hist-days" (u32 BE) bound
 * it: every append drops the oldest events beyond either bound, in the
 * same transaction.  Events are written in the transaction of the write
 * they describe, so a write that fails or is aborted leaves none.
 * Contract: these calls open the "hist" database in the caller's
 * transaction (LMDB's mdb_dbi_open), so they must not run on two threads
 * of one process at once: the CLI's, never the servers'.
 */

#define AZ_HIST_CLIENT_MAX	32	/* octets of a client name */
#define AZ_HIST_HOST_MAX	64
#define AZ_HIST_REASON_MAX	1024
#define AZ_HIST_DEFAULT_MAX	10000	/* events */
#define AZ_HIST_DEFAULT_DAYS	90
#define AZ_HIST_MIN_MAX		10
#define AZ_HIST_MAX_MAX		1000000
#define AZ_HIST_MAX_DAYS	3650

typedef enum {
	AZ_HIST_ADD = 1,	/* a value published (hook, add) */
	AZ_HIST_DEL = 2,	/* a value removed (cleanup, del) */
	AZ_HIST_ISSUED = 3,	/* the client got a certificate */
	AZ_HIST_FAILED = 4,	/* the client says the order failed */
} az_hist_op_t;

/* One event, decoded: every text NUL-terminated, printable ASCII. */
typedef struct {
	uint64_t id;				/* key (set by append, read back) */
	az_hist_op_t op;
	int64_t time_ms;			/* UNIX ms; 0 on append: now */
	int64_t not_after;			/* ISSUED: UNIX seconds; 0: unknown */
	char client[AZ_HIST_CLIENT_MAX + 1];	/* certbot, lego, manual, ... */
	char host[AZ_HIST_HOST_MAX + 1];	/* where the hook ran */
	char domain[AZ_DOMAIN_BUFLEN];		/* the customer domain, if known */
	uint8_t owner[AZ_NAME_MAXLEN];		/* the delegation name written */
	size_t owner_len;			/* 0: none */
	char value[AZ_VALUE_MAXLEN + 1];	/* ADD, DEL: the value ("": all) */
	char reason[AZ_HIST_REASON_MAX + 1];	/* FAILED: why; ISSUED: a note */
} az_hist_event_t;

typedef struct {
	uint32_t max_events;	/* AZ_HIST_MIN_MAX .. AZ_HIST_MAX_MAX */
	uint32_t max_days;	/* 1 .. AZ_HIST_MAX_DAYS */
} az_hist_limits_t;

/*! "add", "del", "issued", "failed"; NULL for another value. */
const char *az_hist_op_name(az_hist_op_t op);

/*!
 * Append ev in this write transaction (ev->id is set), then drop the
 * oldest events beyond the limits (*dropped, optional, gets how many).
 * Texts longer than their field are cut; octets outside 0x20..0x7e
 * become '?'.
 * \return AZ_EOK; AZ_EINVAL (no client, an unknown op); AZ_EFULL, AZ_ELMDB
 * (then only abort).
 */
int az_hist_append(az_txn_t *txn, az_hist_event_t *ev, size_t *dropped);

/*! The limits (defaults where unset), in a write transaction. */
int az_txn_hist_limits(az_txn_t *txn, az_hist_limits_t *out);

/*!
 * Set the limits (and apply them now).  \return AZ_EOK, AZ_EINVAL (out
 * of range), AZ_EFULL, AZ_ELMDB.
 */
int az_txn_set_hist_limits(az_txn_t *txn, const az_hist_limits_t *lim);

/*! The limits in a snapshot (defaults where unset; AZ_ECORRUPT if junk). */
int az_reader_hist_limits(az_reader_t *rd, az_hist_limits_t *out);

/*!
 * Call cb for every event of the snapshot, oldest first (newest first
 * with reverse).  A record that does not decode (damaged, truncated, of
 * another format) is passed as ev == NULL with its id, so the caller can
 * say so and go on.  A non-zero return from cb stops the walk and is
 * returned.  No "hist" database: AZ_EOK, no call.
 */
typedef int (*az_hist_cb)(const az_hist_event_t *ev, uint64_t id, void *ctx);
int az_reader_history(az_reader_t *rd, bool reverse, az_hist_cb cb, void *ctx);

/*!
 * The newest ADD event of value (len octets) at owner (wire form), for
 * "published by which client": AZ_EOK with *out filled, or AZ_ENOENT.
 */
int az_reader_hist_added(az_reader_t *rd, const uint8_t *owner,
                         const uint8_t *value, size_t len, az_hist_event_t *out);
