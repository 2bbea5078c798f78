/* rcu.h -- the RCU flavour knotd uses, and what ThreadSanitizer must be told about it. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

/* A ThreadSanitizer build?  (GCC and Clang spell it differently.) */
#if defined(__SANITIZE_THREAD__)
#define AZ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AZ_TSAN 1
#endif
#endif

/*
 * <urcu.h> without a flavour macro is the "memb" flavour: the one knotd
 * links (liburcu.so.8) and registers its workers with.  Linking another
 * flavour would give the module a second, unrelated RCU domain.
 *
 * _LGPL_SOURCE makes rcu_read_lock(), rcu_read_unlock() and
 * rcu_dereference() inline code (a few loads and stores on the thread's
 * reader state) instead of calls into liburcu, on the query path.
 * liburcu is LGPL-2.1 and asks that code defining _LGPL_SOURCE be under
 * an LGPL-compatible licence; a module linked into knotd
 * (GPL-3.0-or-later) has to be GPL-compatible anyway, which covers it.
 * Nothing else changes: same library, same flavour.  Not in TSan builds:
 * there the calls into the (uninstrumented) library keep liburcu's own
 * plain stores and loads out of TSan's sight, and the annotations below
 * say what they guarantee.
 */
#if !defined(AZ_TSAN) && !defined(_LGPL_SOURCE)
#define _LGPL_SOURCE 1
#endif
#include <urcu.h>

/*
 * ThreadSanitizer sees neither liburcu's grace periods (sys_membarrier)
 * nor its publication barriers (inline asm).  In a TSan build these
 * annotations state what RCU guarantees, so TSan checks our code against
 * the real rules instead of reporting every RCU access:
 *  - az_publish(p) before making p reachable, az_consume(p) after
 *    reading a published pointer: the writer's initialisation of *p
 *    happens-before the reader's accesses;
 *  - every read-side unlock happens-before the end of a grace period, so
 *    memory freed after az_synchronize() was not in use by those readers.
 * In normal builds they cost nothing.
 */
#ifdef AZ_TSAN
#include <sanitizer/tsan_interface.h>
extern char az_rcu_grace;	/* a TSan sync object, defined in table.c */
#define az_publish(p)	__tsan_release((void *)(p))
#define az_consume(p)	__tsan_acquire((void *)(p))
static inline void az_read_lock(void)
{
	rcu_read_lock();
}
static inline void az_read_unlock(void)
{
	__tsan_release(&az_rcu_grace);
	rcu_read_unlock();
}
static inline void az_synchronize(void)
{
	synchronize_rcu();
	__tsan_acquire(&az_rcu_grace);
}
#else
#define az_publish(p)	((void)(p))
#define az_consume(p)	((void)(p))
#define az_read_lock()	rcu_read_lock()
#define az_read_unlock()	rcu_read_unlock()
#define az_synchronize()	synchronize_rcu()
#endif
