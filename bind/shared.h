/* shared.h -- one store handle per path inside named, shared by driver instances and threads. */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dlz.h"
#include "store.h"

/*
 * LMDB forbids opening one file twice in a process (closing either handle
 * drops the other's locks), and named creates a new driver instance for
 * every "dlz" statement on every reload, usually before it destroys the
 * old one.  So instances share one shared_t per store file, counted by
 * references in the registry every reader of the store uses
 * (store/registry.h: one canonical spelling, device and inode); the store
 * stays open across reloads.
 *
 * Queries read the store directly, one LMDB read snapshot each: a write
 * committed before a query starts is always seen (read-your-writes with no
 * acknowledgement protocol), and expiry is decided at query time.  The
 * snapshot is taken under a read lock; the rare events that must swap or
 * remap the LMDB environment (the file appeared, was replaced, or grew
 * past our mapping) take the write lock, so no snapshot is open then.
 *
 * The log callback is the calling instance's; messages go out when the
 * state changes (missing, opened, replaced) and repeated errors at most
 * every few seconds, never once per query.
 */

typedef struct shared shared_t;

/*!
 * Take a reference to the handle for path (canonicalised as
 * az_registry_canonical() says), opening the store if this is the first
 * reference.  Any thread.  A store that cannot be opened yet is
 * not an error: it is logged and looked for again by later reads.
 * \return AZ_EOK or AZ_ENOMEM.
 */
int shared_attach(const char *path, az_dlz_log_t *log, shared_t **out);

/*!
 * Drop a reference; the last one closes the store.  No read of this handle
 * may be open, on any thread.
 */
void shared_detach(shared_t *sh);

/* One read snapshot, valid until shared_end(). */
typedef struct {
	shared_t *sh;
	az_reader_t *rd;
	uint64_t gen;		/* which opening of the file rd belongs to */
} shared_read_t;

/*!
 * Begin a read snapshot: first notices a store that appeared, was
 * replaced by another file, or grew past the mapping, and adopts it.
 * \return AZ_EOK (r filled), or the reason there is no store to read
 * (AZ_ENOENT while the file is missing, or the open or read error).
 * Any thread; never nest two reads of one handle on one thread.
 */
int shared_begin(shared_t *sh, az_dlz_log_t *log, shared_read_t *r);

/*! End a read begun by shared_begin(). */
void shared_end(shared_read_t *r);

/*!
 * Is name (lower-case wire, len octets) an empty non-terminal at time now:
 * is a value that has not expired stored strictly below it?  Answered from
 * a map of ancestors built from this snapshot, or from a newer one, and
 * rebuilt when the store has moved on (see ent.h).
 * \return AZ_EOK with *ent set, or an error (*ent false).
 */
int shared_is_ent(shared_read_t *r, az_dlz_log_t *log, const uint8_t *name,
                  size_t len, int64_t now, bool *ent);

/*!
 * Log at most once every few seconds per handle (repeated read errors,
 * corrupt records): returns true if this caller may log now.
 */
bool shared_may_log(shared_t *sh);
