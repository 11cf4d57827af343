/* SPDX-License-Identifier: MIT */
/*
 * zonedev/sync/atomic.h - the one place that names C11 atomics.
 *
 * Models the kernel's <linux/atomic.h> and page_ref.h primitives. Every
 * atomic access in zonedev goes through these macros, with the memory
 * order in the name, so the explorer build can route them through a
 * controlled scheduler. It lives under include/ (not src/sync/) because
 * the refcount fast path is inline in public headers, as the kernel's
 * page_ref.h is.
 */
#ifndef ZONEDEV_SYNC_ATOMIC_H
#define ZONEDEV_SYNC_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>

#define zd_likely(x)   __builtin_expect(!!(x), 1)
#define zd_unlikely(x) __builtin_expect(!!(x), 0)

#define zd_atomic_init(p, v)                atomic_init((p), (v))
#define zd_atomic_load_relaxed(p)           atomic_load_explicit((p), memory_order_relaxed)
#define zd_atomic_load_acquire(p)           atomic_load_explicit((p), memory_order_acquire)
#define zd_atomic_store_relaxed(p, v)       atomic_store_explicit((p), (v), memory_order_relaxed)
#define zd_atomic_store_release(p, v)       atomic_store_explicit((p), (v), memory_order_release)
#define zd_atomic_xchg_acq_rel(p, v)        atomic_exchange_explicit((p), (v), memory_order_acq_rel)
#define zd_atomic_fetch_add_relaxed(p, v)   atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define zd_atomic_fetch_add_acq_rel(p, v)   atomic_fetch_add_explicit((p), (v), memory_order_acq_rel)
#define zd_atomic_fetch_sub_relaxed(p, v)   atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
#define zd_atomic_fetch_sub_release(p, v)   atomic_fetch_sub_explicit((p), (v), memory_order_release)
#define zd_atomic_fetch_sub_acq_rel(p, v)   atomic_fetch_sub_explicit((p), (v), memory_order_acq_rel)
#define zd_atomic_fetch_or_acq_rel(p, v)    atomic_fetch_or_explicit((p), (v), memory_order_acq_rel)
#define zd_atomic_fetch_or_relaxed(p, v)    atomic_fetch_or_explicit((p), (v), memory_order_relaxed)
#define zd_atomic_fetch_and_release(p, v)   atomic_fetch_and_explicit((p), (v), memory_order_release)
#define zd_atomic_fetch_and_acq_rel(p, v)   atomic_fetch_and_explicit((p), (v), memory_order_acq_rel)
#define zd_atomic_fetch_and_relaxed(p, v)   atomic_fetch_and_explicit((p), (v), memory_order_relaxed)
/* Returns true and stores *newv if *p == *expected; else loads *p into *expected. */
#define zd_atomic_cmpxchg_acq_rel(p, expected, newv) \
	atomic_compare_exchange_weak_explicit((p), (expected), (newv), \
		memory_order_acq_rel, memory_order_relaxed)
#define zd_atomic_cmpxchg_acquire(p, expected, newv) \
	atomic_compare_exchange_weak_explicit((p), (expected), (newv), \
		memory_order_acquire, memory_order_relaxed)
#define zd_atomic_cmpxchg_strong_acq_rel(p, expected, newv) \
	atomic_compare_exchange_strong_explicit((p), (expected), (newv), \
		memory_order_acq_rel, memory_order_relaxed)
#define zd_atomic_cmpxchg_relaxed(p, expected, newv) \
	atomic_compare_exchange_weak_explicit((p), (expected), (newv), \
		memory_order_relaxed, memory_order_relaxed)
/*
 * Fences. TSan does not model fences, so the refcount free path uses an
 * acquire *load* of the count instead of a fence where it can.
 */
#if defined(__SANITIZE_THREAD__)
/* gcc refuses fences under -fsanitize=thread: a seq_cst RMW is a full barrier too. */
#define zd_smp_mb() do { \
	_Atomic int zd_mb_dummy_ = 0; \
	atomic_fetch_add_explicit(&zd_mb_dummy_, 0, memory_order_seq_cst); \
} while (0)
#else
#define zd_smp_mb()                         atomic_thread_fence(memory_order_seq_cst)
#endif

/*
 * smp_mb__after_atomic(): a full barrier right after an atomic RMW. A
 * locked RMW already is one on x86, so only the compiler is told, as
 * Linux does.
 */
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__SANITIZE_THREAD__)
#define zd_smp_mb__after_atomic()           atomic_signal_fence(memory_order_seq_cst)
#else
#define zd_smp_mb__after_atomic()           zd_smp_mb()
#endif

#endif /* ZONEDEV_SYNC_ATOMIC_H */
