/* rcu.h -- the RCU flavour knotd uses, and what ThreadSanitizer must be told about it. */

#pragma once

/*
 * <urcu.h> without a flavour macro is the "memb" flavour: the one knotd
 * links (liburcu.so.8) and registers its workers with.  Linking another
 * flavour would give the module a second, unrelated RCU domain.
 */
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
#if defined(__SANITIZE_THREAD__)
#define AZ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AZ_TSAN 1
#endif
#endif

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
