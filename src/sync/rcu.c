// SPDX-License-Identifier: MIT
/*
 * src/sync/rcu.c - RCU through liburcu's bulletproof flavour.
 *
 * Models <linux/rcupdate.h>. The bulletproof flavour needs no thread
 * registration, so any thread a user creates may read under RCU.
 *
 * ThreadSanitizer cannot see the ordering liburcu gets from membarrier
 * and fences inside an uninstrumented library, so under TSan each
 * read-side unlock releases a private sync object and every grace period
 * (synchronize_rcu, a call_rcu callback) acquires it: "every reader that
 * finished happened before the grace period ended", which is exactly the
 * guarantee RCU gives.
 */
#include <stddef.h>
#include <urcu-bp.h>

#include "sync.h"

#if defined(__SANITIZE_THREAD__)
#define ZD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZD_TSAN 1
#endif
#endif

#ifdef ZD_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char rcu_gp_sync, rcu_barrier_sync;
#define tsan_reader_done()  __tsan_release(&rcu_gp_sync)
#define tsan_gp_done()      __tsan_acquire(&rcu_gp_sync)
/* call_rcu hands @head to liburcu's thread: enqueue happens before the callback... */
#define tsan_enqueue(h)     __tsan_release(h)
#define tsan_dequeue(h)     __tsan_acquire(h)
/* ...and every callback happens before rcu_barrier() returns. */
#define tsan_cb_done()      __tsan_release(&rcu_barrier_sync)
#define tsan_barrier_done() __tsan_acquire(&rcu_barrier_sync)
#else
#define tsan_reader_done()  do { } while (0)
#define tsan_gp_done()      do { } while (0)
#define tsan_enqueue(h)     do { (void)(h); } while (0)
#define tsan_dequeue(h)     do { (void)(h); } while (0)
#define tsan_cb_done()      do { } while (0)
#define tsan_barrier_done() do { } while (0)
#endif

_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct zd_rcu_head *)0)->opaque),
	       "zd_rcu_head too small for liburcu's rcu_head");

void zd_rcu_read_lock(void) { urcu_bp_read_lock(); }

void zd_rcu_read_unlock(void)
{
	tsan_reader_done();
	urcu_bp_read_unlock();
}

void zd_synchronize_rcu(void)
{
	urcu_bp_synchronize_rcu();
	tsan_gp_done();
}

static void call_rcu_trampoline(struct rcu_head *rh)
{
	struct zd_rcu_head *head = (struct zd_rcu_head *)(void *)rh;

	tsan_dequeue(head);
	tsan_gp_done();
	head->func(head);
	tsan_cb_done();
}

void zd_call_rcu(struct zd_rcu_head *head, void (*func)(struct zd_rcu_head *))
{
	head->func = func;
	tsan_enqueue(head);
	urcu_bp_call_rcu((struct rcu_head *)(void *)head->opaque, call_rcu_trampoline);
}

void zd_rcu_barrier(void)
{
	urcu_bp_barrier();
	tsan_barrier_done();
}
