/* SPDX-License-Identifier: MIT */
/*
 * zonedev/mmu_notifier.h - interval notifiers: a secondary MMU (a device
 * page table) told about every change to the CPU mappings it mirrors.
 *
 * Models include/linux/mmu_notifier.h, the mmu_interval_notifier part
 * (the older whole-mm struct mmu_notifier is not modelled). The protocol
 * (semantics R7.6-R7.9):
 *
 *   driver fault path                    invalidation (mm code)
 *   -----------------                    ----------------------
 *   again:                               range_init(&r, EVENT, 0, mm, s, e)
 *     seq = read_begin(sub)              invalidate_range_start(&r)
 *     mmap_read_lock; walk; unlock         -> sub->ops->invalidate(sub, &r, cur_seq)
 *     lock(driver)                              lock(driver)
 *     if (read_retry(sub, seq))                 set_seq(sub, cur_seq)
 *       unlock(driver); goto again              tear down device mappings
 *     program device; unlock(driver)            unlock(driver)
 *                                        change the page tables
 *                                        invalidate_range_end(&r)
 *
 * The mm-wide sequence number is even while no invalidation that hit an
 * interval is running and odd while one is.
 */
#ifndef ZONEDEV_MMU_NOTIFIER_H
#define ZONEDEV_MMU_NOTIFIER_H

#include <stdbool.h>
#include <zonedev/page.h>	/* struct zd_list_head */
#include <zonedev/sync/atomic.h>

struct zd_mm;

/* enum mmu_notifier_event: why a range is being invalidated. */
enum zd_mmu_notifier_event {
	ZD_MMU_NOTIFY_UNMAP = 0,	/* the VMA is going (munmap, mremap's old range, exit) */
	ZD_MMU_NOTIFY_CLEAR,		/* entries cleared, the VMA stays (MADV_DONTNEED, COW, ...) */
	ZD_MMU_NOTIFY_PROTECTION_VMA,	/* protection of the VMA changed (mprotect, NUMA hinting) */
	ZD_MMU_NOTIFY_PROTECTION_PAGE,	/* a page write-protected (fork's COW, KSM's merge) */
	ZD_MMU_NOTIFY_SOFT_DIRTY,	/* soft-dirty tracking cleared */
	ZD_MMU_NOTIFY_RELEASE,		/* the mm is exiting: every interval, once */
	ZD_MMU_NOTIFY_MIGRATE,		/* migrate_vma; range->owner is the migrating driver */
	ZD_MMU_NOTIFY_EXCLUSIVE,	/* make_device_exclusive; range->owner set */
};

/* The callee may sleep (take a mutex): zd_mmu_notifier_invalidate_range_start sets it. */
#define ZD_MMU_NOTIFIER_RANGE_BLOCKABLE (1u << 0)

/* struct mmu_notifier_range: [start, end) of @mm, half-open. */
struct zd_mmu_notifier_range {
	struct zd_mm *mm;
	unsigned long start, end;
	unsigned int flags;
	enum zd_mmu_notifier_event event;
	void *owner;			/* MIGRATE, EXCLUSIVE: the driver doing it */
};

struct zd_mmu_interval_notifier;

/*
 * struct mmu_interval_notifier_ops. invalidate() is called, in a context
 * that may sleep if the range is blockable, for every change to a mapping
 * overlapping the interval, before the page tables change. It must call
 * zd_mmu_interval_set_seq(sub, cur_seq) under the lock its read side
 * checks zd_mmu_interval_read_retry() under, and have torn down every
 * device mapping of the range before it returns (R7.9). It returns true,
 * or false only when the range is not blockable and it would have to
 * sleep (then the invalidation is abandoned with -EAGAIN). It must not
 * call zd_mmu_interval_notifier_insert/remove on the same mm.
 */
struct zd_mmu_interval_notifier_ops {
	bool (*invalidate)(struct zd_mmu_interval_notifier *sub,
			   const struct zd_mmu_notifier_range *range, unsigned long cur_seq);
};

/*
 * struct mmu_interval_notifier: embedded by the driver, filled by
 * zd_mmu_interval_notifier_insert. The driver may read @mm, @start and
 * @last; everything else is the notifier code's.
 */
struct zd_mmu_interval_notifier {
	struct zd_mm *mm;
	const struct zd_mmu_interval_notifier_ops *ops;
	unsigned long start, last;		/* [start, last], inclusive as the kernel's tree */
	_Atomic unsigned long invalidate_seq;	/* odd: the cur_seq of the last invalidation */
	/* private */
	struct zd_list_head itree;		/* on the mm's interval list, sorted by start */
	struct zd_list_head deferred_item;	/* insert/remove deferred past an invalidation */
	bool in_itree;				/* on the interval list (RB_EMPTY_NODE negated) */
	bool deferred;				/* on the deferred list */
};

/*
 * zd_mmu_interval_notifier_insert - start watching [start, start + length)
 * of @mm with @ops. If invalidations are running, the subscription is
 * added after they end and zd_mmu_interval_read_begin() waits for that,
 * since they may have missed it. Takes a reference on the mm_struct (not
 * on its mappings: mmgrab), dropped by zd_mmu_interval_notifier_remove(),
 * so the struct outlives zd_mm_destroy() until then.
 * Context: may sleep; not from an invalidate callback; @mm not yet
 * destroyed. Returns 0, -EOVERFLOW (length 0 or past the address space),
 * -EINVAL (@mm is exiting).
 */
int zd_mmu_interval_notifier_insert(struct zd_mmu_interval_notifier *sub, struct zd_mm *mm,
				    unsigned long start, unsigned long length,
				    const struct zd_mmu_interval_notifier_ops *ops);

/*
 * zd_mmu_interval_notifier_remove - stop watching. If an invalidation is
 * running, waits for it to end, so that once this returns invalidate()
 * is neither running nor will be called for @sub and @sub can be freed.
 * Drops the mm_struct reference insert took (the mm may be freed here if
 * it was destroyed). Context: may sleep; never from an invalidate
 * callback (it would wait for itself).
 */
void zd_mmu_interval_notifier_remove(struct zd_mmu_interval_notifier *sub);

/*
 * zd_mmu_interval_read_begin - begin a read of the interval's CPU page
 * tables: returns the sequence number to give zd_mmu_interval_read_retry()
 * later. If an invalidation that called invalidate() for @sub is still
 * running, sleeps until it ends (its page-table change is done by then).
 * Context: may sleep; not under the lock invalidate() takes, nor under
 * mmap_lock held across an invalidation of this mm.
 */
unsigned long zd_mmu_interval_read_begin(struct zd_mmu_interval_notifier *sub);

/*
 * zd_mmu_interval_read_retry - true if an invalidate() for @sub ran since
 * zd_mmu_interval_read_begin() returned @seq: what was read may be stale
 * and must not be used. Context: under the driver lock that invalidate()
 * calls zd_mmu_interval_set_seq() under; then false means no invalidation
 * can complete until that lock is dropped.
 */
bool zd_mmu_interval_read_retry(struct zd_mmu_interval_notifier *sub, unsigned long seq);

/*
 * zd_mmu_interval_check_retry - the same test without the driver lock: a
 * hint to stop early (hmm_range_fault's -EBUSY). False proves nothing.
 * Context: any.
 */
bool zd_mmu_interval_check_retry(struct zd_mmu_interval_notifier *sub, unsigned long seq);

/*
 * zd_mmu_interval_set_seq - record @cur_seq (invalidate()'s argument) in
 * @sub, making concurrent readers retry. Context: from invalidate(),
 * under the driver lock that the read side checks read_retry under.
 */
void zd_mmu_interval_set_seq(struct zd_mmu_interval_notifier *sub, unsigned long cur_seq);

/*
 * zd_mmu_notifier_range_init - fill @r for an invalidation of
 * [start, end) of @mm for @ev. @flags is usually 0: range_start makes the
 * range blockable. range_init_owner also sets the migrating or exclusive
 * owner (MIGRATE, EXCLUSIVE). Context: any.
 */
void zd_mmu_notifier_range_init(struct zd_mmu_notifier_range *r, enum zd_mmu_notifier_event ev,
				unsigned int flags, struct zd_mm *mm, unsigned long start,
				unsigned long end);
void zd_mmu_notifier_range_init_owner(struct zd_mmu_notifier_range *r,
				      enum zd_mmu_notifier_event ev, unsigned int flags,
				      struct zd_mm *mm, unsigned long start, unsigned long end,
				      void *owner);

/*
 * zd_mmu_notifier_invalidate_range_start - call invalidate() of every
 * interval of r->mm overlapping [r->start, r->end) (blockable), and keep
 * the mm's sequence odd (readers of those intervals wait) until the
 * matching zd_mmu_notifier_invalidate_range_end(). Call it before the page
 * tables change and _end after. Context: may sleep: no spinlock (page-table
 * lock) held; mmap_lock or the rmap locks may be held.
 */
void zd_mmu_notifier_invalidate_range_start(struct zd_mmu_notifier_range *r);
void zd_mmu_notifier_invalidate_range_end(struct zd_mmu_notifier_range *r);

/*
 * zd_mmu_notifier_invalidate_range_start_nonblock - the same for a caller
 * that cannot sleep (the OOM reaper): the range is not blockable and an
 * invalidate() may refuse. Returns 0 (then call _end), or -EAGAIN (an
 * interval refused: the invalidation is over, do not call _end).
 */
int zd_mmu_notifier_invalidate_range_start_nonblock(struct zd_mmu_notifier_range *r);

static inline bool zd_mmu_notifier_range_blockable(const struct zd_mmu_notifier_range *r)
{
	return r->flags & ZD_MMU_NOTIFIER_RANGE_BLOCKABLE;
}

#endif /* ZONEDEV_MMU_NOTIFIER_H */
