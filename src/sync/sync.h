/* SPDX-License-Identifier: MIT */
/*
 * src/sync/sync.h - locks, completions, variable waits and RCU.
 *
 * Models <linux/spinlock.h>, <linux/rwsem.h>, <linux/completion.h>,
 * <linux/wait_bit.h> (wait_var_event) and <linux/rcupdate.h>. Only files
 * under src/sync/ and include/zonedev/sync/ may include <pthread.h>,
 * <stdatomic.h> or liburcu; everything else calls these wrappers, which
 * are the seam the explorer build plugs into.
 */
#ifndef ZD_SRC_SYNC_H
#define ZD_SRC_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <zonedev/sync/atomic.h>

/* ---- spinlock (a mutex: waiters sleep, which userspace prefers) ---- */
struct zd_spinlock { pthread_mutex_t m; };
void zd_spin_lock_init(struct zd_spinlock *l);
void zd_spin_lock_destroy(struct zd_spinlock *l);
void zd_spin_lock(struct zd_spinlock *l);
void zd_spin_unlock(struct zd_spinlock *l);

/* ---- rwsem ---- */
struct zd_rwsem { pthread_rwlock_t l; };
void zd_rwsem_init(struct zd_rwsem *s);
void zd_rwsem_destroy(struct zd_rwsem *s);
void zd_down_read(struct zd_rwsem *s);
void zd_up_read(struct zd_rwsem *s);
void zd_down_write(struct zd_rwsem *s);
void zd_up_write(struct zd_rwsem *s);

/* ---- completion ---- */
struct zd_completion { pthread_mutex_t m; pthread_cond_t c; bool done; };
void zd_init_completion(struct zd_completion *c);
void zd_destroy_completion(struct zd_completion *c);
void zd_complete_all(struct zd_completion *c);
void zd_reinit_completion(struct zd_completion *c);
void zd_wait_for_completion(struct zd_completion *c);
/* 0 once completed, -ETIMEDOUT after @timeout_ns (monotonic). */
int zd_wait_for_completion_timeout(struct zd_completion *c, uint64_t timeout_ns);
bool zd_completion_done(struct zd_completion *c);

/*
 * ---- wait_var_event / wake_up_var ----
 * A hashed table of wait queues keyed by address, like the kernel's
 * bit_wait_table. The condition is evaluated with the bucket lock held and
 * wakers take the same lock after changing state, so no wake-up is lost.
 */
struct zd_wait_table;
struct zd_wait_table *zd_wait_table_create(void);
void zd_wait_table_destroy(struct zd_wait_table *t);
typedef bool (*zd_wait_cond_fn)(const void *var, void *arg);
/* Sleeps until cond(var, arg) holds. 0, or -ETIMEDOUT if timeout_ns != 0 elapses. */
int zd_wait_var_event(struct zd_wait_table *t, const void *var,
		      zd_wait_cond_fn cond, void *arg, uint64_t timeout_ns);
void zd_wake_up_var(struct zd_wait_table *t, const void *var);

/* ---- RCU (liburcu, bulletproof flavour: no thread registration) ---- */
void zd_rcu_read_lock(void);
void zd_rcu_read_unlock(void);
void zd_synchronize_rcu(void);
struct zd_rcu_head { void *opaque[3]; void (*func)(struct zd_rcu_head *); };
void zd_call_rcu(struct zd_rcu_head *head, void (*func)(struct zd_rcu_head *));
void zd_rcu_barrier(void);
/* rcu_dereference / rcu_assign_pointer: acquire load, release store. */
#define zd_rcu_dereference(p)         zd_atomic_load_acquire(&(p))
#define zd_rcu_assign_pointer(p, v)   zd_atomic_store_release(&(p), (v))

/*
 * The calling thread's OS id (gettid), cached per thread: a fact about the
 * thread, not model state. For trace events.
 */
unsigned long zd_thread_id(void);

/* ---- time, for deadlines only (never for results) ---- */
uint64_t zd_monotonic_ns(void);
/* The monotonic time @timeout_ns from now, saturated: a huge timeout never wraps into the past. */
uint64_t zd_deadline_ns(uint64_t timeout_ns);
void zd_cpu_relax(void);

#endif /* ZD_SRC_SYNC_H */
