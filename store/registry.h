/* registry.h -- one shared object per store file per process, for the module's sources and the driver's handles. */

#pragma once

#include <pthread.h>
#include <stdbool.h>

/*
 * LMDB forbids opening one file twice in a process: closing either
 * environment drops the fcntl locks of the other.  knotd loads a new
 * module instance before it unloads the old one, and named creates a
 * driver instance for every "dlz" statement on every reload, usually
 * before it destroys the old one.  So instances share one object per store
 * file (mod-acmezone's sync source, the driver's store handle), counted by
 * references and found here.
 *
 * Keys: the canonical path (az_registry_canonical()), and, when the file
 * exists at attach time, its device and inode, so that two spellings of
 * one file share one object: "/a//b.mdb", a symlinked directory, a hard
 * link.  A match by device and inode is taken only while the entry's own
 * path still names that file (an inode number can be reused).
 *
 * Thread safety: every function here may be called from any thread at
 * any time; one mutex per registry serialises them.  The make, join and
 * destroy callbacks run with that mutex held, so no attach can see an
 * object half made or being destroyed: they must not call into the same
 * registry, and must not wait for anything that does (destroy may join a
 * thread that never takes the registry's mutex).
 */

typedef struct az_reg_entry az_reg_entry_t;

typedef struct {
	pthread_mutex_t lock;
	az_reg_entry_t *head;	/* under lock */
} az_registry_t;

#define AZ_REGISTRY_INIT	{ PTHREAD_MUTEX_INITIALIZER, NULL }

typedef struct {
	/*! First user of a file: the object for the canonical path (which
	 *  the object may keep a copy of), or NULL if it cannot be made. */
	void *(*make)(const char *path, void *arg);
	/*! A later user of the same file (optional): obj already exists. */
	void (*join)(void *obj, void *arg);
} az_registry_ops_t;

/*!
 * One spelling per file: the directory resolved (realpath: symbolic links,
 * "." and ".." and repeated slashes gone), then "/" and the last component
 * as given -- the file itself may not exist yet, and LMDB's lock and sync
 * files live beside that name, not beside a symbolic link's target.  A
 * name without a directory is taken in the current one.  If the directory
 * cannot be resolved (missing, no permission) the path is returned as
 * given.  \return a malloc'd string (the caller frees it), NULL if out of
 * memory.
 */
char *az_registry_canonical(const char *path);

/*!
 * Take a reference to the object for the file at path: an existing one
 * (ops->join is called, if set) or a new one (ops->make).  arg is passed
 * to make and join.
 * \return AZ_EOK with *out set, AZ_EINVAL, or AZ_ENOMEM (also when make
 * returned NULL).
 */
int az_registry_attach(az_registry_t *reg, const char *path,
                       const az_registry_ops_t *ops, void *arg, void **out);

/*!
 * Drop a reference to obj (from az_registry_attach() on reg).  The last
 * one removes the entry and calls destroy(obj) (which frees it; nobody
 * else can reach it any more) before it returns, still
 * under the registry's mutex: an attach for the same file that comes
 * after makes a new object, never one that shares the file with a
 * dying one.  \return true if obj was destroyed.
 */
bool az_registry_detach(az_registry_t *reg, void *obj, void (*destroy)(void *obj));

/*! References to obj in reg (0 if it is not there), for tests. */
unsigned az_registry_refs(az_registry_t *reg, const void *obj);
