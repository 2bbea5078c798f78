/* observe.h -- the observation file beside the store: format, reader, writer. */
/* SPDX-License-Identifier: MIT */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/*
 * mod-acmezone counts the lookups of every name with live values, from
 * the moment a value is published, and its sync thread writes what it
 * counted to the observation file beside the store (never the store:
 * knotd does not write the store).  The CLI ('acmezone status', 'watch',
 * 'report') reads it with az_obs_read().  This file is the only code that
 * knows its format.
 *
 * Where: the directory "<store>-observe" (created by 'acmezone init',
 * mode 2770, the store's group, so that knotd running as that group can
 * create files in it and they get the group), file "knotd" in it, mode
 * 0640: source addresses are operator data, readable by the store's
 * group like the tokens themselves and by nobody else.  The writer
 * writes "knotd.tmp" and renames it over "knotd", so a reader sees the
 * old file or the new one, never a mix.  One knotd per store per host
 * writes it (a second would overwrite the first's view).
 *
 * Format (version 1), all integers big endian:
 *
 *   header (AZ_OBS_HDRLEN octets):
 *     "AZOBSERV"      8 octets of magic
 *     u32 version     AZ_OBS_VERSION
 *     u32 count       entries that follow
 *     i64 written_ms  when the file was written (UNIX ms)
 *     i64 since_ms    when this server started observing (UNIX ms)
 *     u32 pid         of the server that wrote it
 *     u32 slots       names that can be observed at once (0: off)
 *     u32 used        of which in use when written
 *     u32 reserved    0
 *     u64 unobserved  queries of live names not observed (slots full)
 *     u64 misses_lost misses the ring overwrote before they were read
 *   count entries, each:
 *     u16 length      octets of the entry, this field included
 *     u8  name_len, name_len octets of lower-case wire name
 *     i64 pub_ms, first_ms, last_ms, early_first_ms, early_last_ms
 *     u64 queries, udp, tcp, dnssec_ok, case_mixed,
 *         served, nodata, nxdomain, early
 *     u32 sources     distinct source addresses
 *     u8  flags       AZ_OBS_ESTIMATED
 *     u8  nsrc        addresses that follow (<= AZ_OBS_SOURCES)
 *     nsrc times: u8 family (4 or 6), 16 octets (IPv4: the first 4)
 *   u32 CRC-32C of everything before it.
 *
 * A reader refuses a file whose magic, version, lengths or checksum do
 * not add up (AZ_ECORRUPT, with a reason): a truncated or damaged file is
 * reported as such, and nothing else is affected (the file is only ever
 * read to be shown).
 */

#define AZ_OBS_VERSION		1
#define AZ_OBS_MAGIC		"AZOBSERV"
#define AZ_OBS_HDRLEN		64
#define AZ_OBS_DIR_SUFFIX	"-observe"	/* the directory beside the store */
#define AZ_OBS_FILE		"knotd"		/* the file in it */
#define AZ_OBS_SOURCES		16	/* addresses kept exactly per name */
#define AZ_OBS_MAXFILE		((size_t)64 << 20)	/* a reader's bound */

#define AZ_OBS_ESTIMATED	0x01	/* 'sources' is an estimate (> 16) */

/* One source address: family 4 or 6, IPv4 in the first 4 octets. */
typedef struct {
	uint8_t family;
	uint8_t addr[16];
} az_obs_addr_t;

/*
 * What one server saw of one name since its newest publication.  Times
 * are UNIX milliseconds, 0 for "never".  Counters count queries.
 */
typedef struct {
	uint8_t name[AZ_NAME_MAXLEN];	/* lower-case wire form */
	size_t name_len;
	int64_t pub_ms;		/* the publication these counts belong to:
				 * the newest value's publication time as
				 * the server knew it (0: unknown) */
	int64_t first_ms;	/* first query since publication */
	int64_t last_ms;	/* latest query */
	uint64_t queries;	/* all queries of the name since publication */
	uint64_t udp;		/* of which over UDP */
	uint64_t tcp;		/* over TCP (TLS and QUIC count here too) */
	uint64_t dnssec_ok;	/* with the DO bit set */
	uint64_t case_mixed;	/* whose name had upper-case letters: 0x20
				 * case randomisation by the resolver */
	uint64_t served;	/* answered with the values (TXT or ANY) */
	uint64_t nodata;	/* NOERROR without values (another type) */
	uint64_t nxdomain;	/* NXDOMAIN: every value had expired */
	uint64_t early;		/* "asked too early": NXDOMAIN or NODATA for
				 * the name shortly before it was published */
	int64_t early_first_ms;	/* first and latest of those misses */
	int64_t early_last_ms;
	uint32_t sources;	/* distinct source addresses (exact unless
				 * AZ_OBS_ESTIMATED) */
	uint8_t flags;		/* AZ_OBS_ESTIMATED */
	uint8_t nsrc;		/* addresses in src[] (the first ones seen) */
	az_obs_addr_t src[AZ_OBS_SOURCES];
} az_obs_name_t;

/* A whole observation file. */
typedef struct {
	int64_t written_ms;	/* when the server wrote it */
	int64_t since_ms;	/* when it started observing */
	uint32_t pid;		/* the writer */
	uint32_t slots;		/* names observable at once; 0: observation off */
	uint32_t used;		/* slots in use */
	uint64_t unobserved;	/* queries not observed because slots were full */
	uint64_t misses_lost;	/* misses not matched (ring overwritten) */
	size_t count;
	az_obs_name_t *names;	/* count entries, in no particular order */
} az_obs_t;

/*!
 * The observation file of the store at store_path
 * ("<store_path>-observe/knotd") into out.
 * \return AZ_EOK, or AZ_EINVAL (out too small).
 */
int az_obs_path(const char *store_path, char *out, size_t size);

/*!
 * The directory of the observation files of the store at store_path
 * ("<store_path>-observe").  \return AZ_EOK, or AZ_EINVAL (out too small).
 */
int az_obs_dir(const char *store_path, char *out, size_t size);

/*!
 * Read and check the observation file at path into *obs (free it with
 * az_obs_free(), also after a failure).
 * \return AZ_EOK; AZ_ENOENT (no file: nobody observed yet, or
 * observation is off), AZ_EPERM, AZ_EIO (az_errno()); AZ_ECORRUPT with
 * *why (optional) set to a static reason ("truncated", "checksum
 * mismatch", "unknown version 7", ...).
 */
int az_obs_read(const char *path, az_obs_t *obs, const char **why);

/*! Decode an observation file held in memory (az_obs_read()'s checks). */
int az_obs_decode(const uint8_t *buf, size_t len, az_obs_t *obs,
                  const char **why);

/*! Free what az_obs_read() or az_obs_decode() allocated; obs is zeroed. */
void az_obs_free(az_obs_t *obs);

/*! The entry of a lower-case wire name, or NULL. */
const az_obs_name_t *az_obs_find(const az_obs_t *obs, const uint8_t *name,
                                 size_t name_len);

/*!
 * Has the name been looked at since its publication pub_ms?  (queries > 0
 * and the entry belongs to that publication or a later one; pub_ms 0:
 * any entry.)  What 'acmezone watch' waits for.
 */
bool az_obs_looked(const az_obs_name_t *e, int64_t pub_ms);

/*** Writer side (the module's sync thread). ***/

/*! Octets az_obs_encode() needs for obs. */
size_t az_obs_size(const az_obs_t *obs);

/*! Encode obs into buf (size >= az_obs_size(obs)). \return octets, 0 on error. */
size_t az_obs_encode(const az_obs_t *obs, uint8_t *buf, size_t size);

/*!
 * Write buf (len octets, from az_obs_encode()) to path atomically:
 * "<path>.tmp", mode 0640, then rename over path.  The file gets the
 * directory's group (a setgid directory).
 * \return AZ_EOK, AZ_EPERM, AZ_EIO, AZ_EFULL, AZ_EROFS (az_errno()).
 */
int az_obs_write(const char *path, const uint8_t *buf, size_t len);

/*!
 * Create the observation directory of the store at store_path (mode
 * 2770, group gid; gid (gid_t)-1: the caller's), for 'acmezone init'.
 * An existing directory is left as it is.
 * \return AZ_EOK, AZ_EPERM, AZ_EIO (az_errno()), AZ_EINVAL.
 */
int az_obs_mkdir(const char *store_path, gid_t gid);
