/* dlz.h -- our own declarations of BIND 9's DLZ dlopen driver interface (version 3, as in 9.18). */
/* SPDX-License-Identifier: MIT */

#pragma once

/*
 * named (bin/named/dlz_dlopen_driver.c) dlopen()s a driver named in
 *
 *	dlz "NAME" { database "dlopen /path/driver.so ARG..."; };
 *
 * looks its entry points up by name, and calls them with plain C types and
 * opaque pointers, so a driver needs no BIND header and no BIND library.
 * What follows is written from the documented ABI of BIND 9.18: the entry
 * point signatures, the numeric values named expects back, and the
 * callbacks it hands to dlz_create().  Nothing here is BIND's code.
 *
 * Calling conventions that matter:
 *   - dlz_create() gets argv[0] = the driver's path, argv[1..] = the rest
 *     of the "database" string split at white space; after dbdata comes a
 *     NULL-terminated list of (const char *name, pointer) pairs: "log",
 *     "putrr", "putnamedrr", "writeable_zone".
 *   - Zone and owner names reach the driver as lower-case text without the
 *     final dot; owners are relative to the zone, "@" being the apex.
 *     Wildcard probes ("*", "*.label") come through dlz_lookup() too.
 *   - Returning AZ_DLZ_NOTFOUND from dlz_lookup() means "no such name"
 *     (NXDOMAIN unless it is the apex); success with no record put means
 *     "the name exists with no data" (NODATA, an empty non-terminal); any
 *     other code fails the query (SERVFAIL).
 *   - Record data passed to putrr is master-file text; names in it are
 *     relative to the zone unless they end with a dot.
 *   - Unless dlz_version() sets AZ_DLZ_THREADSAFE, named serialises every
 *     call into the driver behind one mutex per "dlz" statement.
 */

#include <stdbool.h>
#include <stdint.h>

/* The interface version this driver implements (named accepts 3). */
#define AZ_DLZ_VERSION		3

/* Flags dlz_version() may set. */
#define AZ_DLZ_THREADSAFE	0x01u	/* calls may run on several threads at once */
#define AZ_DLZ_RELATIVEOWNER	0x02u	/* (named sets these two itself) */
#define AZ_DLZ_RELATIVERDATA	0x04u

/* isc_result_t values the driver returns (an int-sized enum in named). */
typedef unsigned int az_dlz_result_t;
#define AZ_DLZ_SUCCESS		0u
#define AZ_DLZ_NOMEMORY		1u
#define AZ_DLZ_NOPERM		6u	/* refusal, e.g. of a zone transfer */
#define AZ_DLZ_NOSPACE		19u
#define AZ_DLZ_NOTFOUND		23u
#define AZ_DLZ_FAILURE		25u
#define AZ_DLZ_NOTIMPLEMENTED	27u

/* Levels for the log callback: negative are severities, positive debug. */
#define AZ_DLZ_LOG_INFO		(-1)
#define AZ_DLZ_LOG_NOTICE	(-2)
#define AZ_DLZ_LOG_WARNING	(-3)
#define AZ_DLZ_LOG_ERROR	(-4)
#define AZ_DLZ_LOG_CRITICAL	(-5)
#define AZ_DLZ_LOG_DEBUG(n)	(n)

/* Opaque handles that named passes through. */
typedef struct az_dlz_lookup az_dlz_lookup_t;		/* one node being answered */
typedef struct az_dlz_allnodes az_dlz_allnodes_t;	/* a zone transfer */
typedef struct az_dlz_clientinfo az_dlz_clientinfo_t;
typedef struct az_dlz_clientinfomethods az_dlz_clientinfomethods_t;

/* Callbacks named hands to dlz_create(). */
typedef void az_dlz_log_t(int level, const char *fmt, ...);
typedef az_dlz_result_t az_dlz_putrr_t(az_dlz_lookup_t *lookup, const char *type,
                                       uint32_t ttl, const char *data);
typedef az_dlz_result_t az_dlz_putnamedrr_t(az_dlz_allnodes_t *allnodes,
                                            const char *name, const char *type,
                                            uint32_t ttl, const char *data);

/* Only the dlz_* entry points leave the shared object. */
#define AZ_DLZ_EXPORT	__attribute__((visibility("default")))

/* Required: the interface version; may set AZ_DLZ_* flags in *flags. */
AZ_DLZ_EXPORT int dlz_version(unsigned int *flags);

/* Required: one instance per "dlz" statement (and again on each reload). */
AZ_DLZ_EXPORT az_dlz_result_t dlz_create(const char *dlzname, unsigned int argc,
                                         char *argv[], void **dbdata, ...);

/* Optional: the instance is no longer used. */
AZ_DLZ_EXPORT void dlz_destroy(void *dbdata);

/* Required: SUCCESS if this instance is authoritative for exactly 'name'. */
AZ_DLZ_EXPORT az_dlz_result_t dlz_findzonedb(void *dbdata, const char *name,
                                             az_dlz_clientinfomethods_t *methods,
                                             az_dlz_clientinfo_t *clientinfo);

/* Required: put the records of one owner name (relative, "@" = apex). */
AZ_DLZ_EXPORT az_dlz_result_t dlz_lookup(const char *zone, const char *name,
                                         void *dbdata, az_dlz_lookup_t *lookup,
                                         az_dlz_clientinfomethods_t *methods,
                                         az_dlz_clientinfo_t *clientinfo);

/* Optional: put the apex SOA and NS (called after dlz_lookup("@")). */
AZ_DLZ_EXPORT az_dlz_result_t dlz_authority(const char *zone, void *dbdata,
                                            az_dlz_lookup_t *lookup);

/*
 * Not provided by this driver: dlz_allowzonexfr() and dlz_allnodes()
 * (without them named refuses zone transfers), and the dynamic update
 * entry points (dlz_newversion, dlz_closeversion, dlz_configure,
 * dlz_ssumatch, dlz_addrdataset, dlz_subrdataset, dlz_delrdataset).
 */
