// SPDX-License-Identifier: MIT
/*
 * src/mm/mmu_notifier.c - interval notifiers: secondary MMUs told before
 * the CPU page tables of an interval change.
 *
 * Models mm/mmu_notifier.c, the mmu_interval_notifier part
 * (mn_itree_inv_start_range, mn_itree_inv_end, mmu_interval_read_begin,
 * __mmu_interval_notifier_insert, mmu_interval_notifier_remove,
 * mn_itree_release). The mm's intervals are a list sorted by start: an
 * overlap search is O(n) in the number of intervals where the kernel's
 * interval tree is O(log n + hits); drivers register a handful.
 *
 * Sequence numbers: subs->invalidate_seq starts at 2 and is even while no
 * invalidation that hit an interval is active. The first such
 * invalidation makes it odd (cur_seq); it stays odd until the last
 * active invalidation ends, when it becomes even again and the inserts
 * and removes deferred meanwhile are applied. A subscription's own seq is
 * the cur_seq its invalidate() last stored (set_seq), so it is always odd
 * and "sub seq == mm seq" means "an invalidation of this interval is
 * still running": read_begin waits for the mm seq to move on.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "internal.h"

/* ---- the mm's subscriptions ---- */

int _zd_mmu_notifier_subscriptions_init(struct zd_mm *mm)
{
	struct zd_mmu_notifier_subscriptions *subs = calloc(1, sizeof(*subs));

	if (!subs)
		return -ENOMEM;
	zd_spin_lock_init(&subs->lock);
	zd_atomic_init(&subs->invalidate_seq, 2ul);
	zd_list_init(&subs->itree);
	zd_list_init(&subs->deferred_list);
	mm->notifier_subscriptions = subs;
	return 0;
}

void _zd_mmu_notifier_subscriptions_destroy(struct zd_mm *mm)
{
	struct zd_mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

	if (!subs)
		return;
	/* Every notifier held an mm_count: none can be left when this runs. */
	zd_spin_lock_destroy(&subs->lock);
	free(subs);
	mm->notifier_subscriptions = NULL;
}

static bool mn_itree_is_invalidating(struct zd_mmu_notifier_subscriptions *subs)
{
	return zd_atomic_load_relaxed(&subs->invalidate_seq) & 1;
}

static struct zd_mmu_interval_notifier *itree_entry(struct zd_list_head *l)
{
	return zd_container_of(l, struct zd_mmu_interval_notifier, itree);
}

/*
 * The first interval at or after @from (a list position) overlapping
 * [start, last], or NULL. The list is sorted by start, so the walk stops
 * at the first interval starting past @last.
 */
static struct zd_mmu_interval_notifier *
itree_iter_from(struct zd_mmu_notifier_subscriptions *subs, struct zd_list_head *from,
		unsigned long start, unsigned long last)
{
	for (struct zd_list_head *l = from; l != &subs->itree; l = l->next) {
		struct zd_mmu_interval_notifier *sub = itree_entry(l);

		if (sub->start > last)
			break;
		if (sub->last >= start)
			return sub;
	}
	return NULL;
}

/* interval_tree_insert: keep the list sorted by start. Context: subs->lock, seq even. */
static void itree_insert(struct zd_mmu_notifier_subscriptions *subs,
			 struct zd_mmu_interval_notifier *sub)
{
	struct zd_list_head *pos = &subs->itree;

	while (pos->next != &subs->itree && itree_entry(pos->next)->start <= sub->start)
		pos = pos->next;
	zd_list_add(&sub->itree, pos);
	sub->in_itree = true;
}

static void itree_remove(struct zd_mmu_interval_notifier *sub)
{
	zd_list_del(&sub->itree);
	sub->in_itree = false;
}

/* ---- invalidation ---- */

/*
 * mn_itree_inv_start_range: count the invalidation as active and, if an
 * interval overlaps @range, make the sequence odd and return the first
 * such interval; *seq is the sequence invalidate() gets.
 */
static struct zd_mmu_interval_notifier *
mn_itree_inv_start_range(struct zd_mmu_notifier_subscriptions *subs,
			 const struct zd_mmu_notifier_range *range, unsigned long *seq)
{
	struct zd_mmu_interval_notifier *sub;

	zd_spin_lock(&subs->lock);
	subs->active_invalidate_ranges++;
	sub = itree_iter_from(subs, subs->itree.next, range->start, range->end - 1);
	if (sub)
		zd_atomic_store_relaxed(&subs->invalidate_seq,
					zd_atomic_load_relaxed(&subs->invalidate_seq) | 1);
	*seq = zd_atomic_load_relaxed(&subs->invalidate_seq);
	zd_spin_unlock(&subs->lock);
	return sub;
}

/*
 * mn_itree_inv_next: the next overlapping interval. Without the lock: the
 * sequence is odd while this invalidation is active, so the list does not
 * change under it.
 */
static struct zd_mmu_interval_notifier *
mn_itree_inv_next(struct zd_mmu_notifier_subscriptions *subs,
		  struct zd_mmu_interval_notifier *sub, const struct zd_mmu_notifier_range *range)
{
	return itree_iter_from(subs, sub->itree.next, range->start, range->end - 1);
}

/*
 * mn_itree_inv_end: the last active invalidation makes the sequence even,
 * applies the deferred inserts and removes and wakes read_begin and
 * remove.
 */
static void mn_itree_inv_end(struct zd_mm *mm, struct zd_mmu_notifier_subscriptions *subs)
{
	/*
	 * Read before the unlock: once it is dropped, a remove may return and
	 * drop the last reference on the mm. The wake-up uses the sequence's
	 * address only as a key.
	 */
	struct zd_wait_table *waits = mm->sys->waits;

	zd_spin_lock(&subs->lock);
	if (--subs->active_invalidate_ranges || !mn_itree_is_invalidating(subs)) {
		zd_spin_unlock(&subs->lock);
		return;
	}
	/*
	 * Release: pairs with the acquire load in seq_moved(); a reader that
	 * sees the new sequence sees the page-table change that preceded it.
	 */
	zd_atomic_store_release(&subs->invalidate_seq,
				zd_atomic_load_relaxed(&subs->invalidate_seq) + 1);
	while (!zd_list_empty(&subs->deferred_list)) {
		struct zd_list_head *l = subs->deferred_list.next;
		struct zd_mmu_interval_notifier *sub =
			zd_container_of(l, struct zd_mmu_interval_notifier, deferred_item);

		zd_list_del(l);
		sub->deferred = false;
		if (!sub->in_itree)
			itree_insert(subs, sub);
		else
			itree_remove(sub);
	}
	zd_spin_unlock(&subs->lock);
	zd_wake_up_var(waits, &subs->invalidate_seq);
}

/* mn_itree_invalidate: 0, or -EAGAIN when a non-blockable range was refused. */
static int mn_itree_invalidate(struct zd_mmu_notifier_subscriptions *subs,
			       const struct zd_mmu_notifier_range *range)
{
	struct zd_mmu_interval_notifier *sub;
	unsigned long cur_seq;

	for (sub = mn_itree_inv_start_range(subs, range, &cur_seq); sub;
	     sub = mn_itree_inv_next(subs, sub, range)) {
		if (sub->ops->invalidate(sub, range, cur_seq))
			continue;
		if (zd_mmu_notifier_range_blockable(range)) {
			/* WARN_ON in the kernel: false is for non-blockable ranges only. */
			_zd_report_page(range->mm->sys, ZD_MISUSE_BAD_STATE, "R7.7", NULL,
					"mmu_interval_notifier [%#lx, %#lx] refused a blockable invalidation",
					sub->start, sub->last);
			continue;
		}
		/* A refused non-blocking start does not get its _end: end it here. */
		mn_itree_inv_end(range->mm, subs);
		return -EAGAIN;
	}
	return 0;
}

static int invalidate_range_start(struct zd_mmu_notifier_range *r)
{
	struct zd_mmu_notifier_subscriptions *subs = r->mm->notifier_subscriptions;

	/*
	 * No mm_has_notifiers() shortcut: an insert racing with this start
	 * must see it active (insert takes no mmap_lock in the model, so only
	 * the subscriptions lock orders the two). One uncontended lock a range.
	 */
	return mn_itree_invalidate(subs, r);
}

void zd_mmu_notifier_invalidate_range_start(struct zd_mmu_notifier_range *r)
{
	r->flags |= ZD_MMU_NOTIFIER_RANGE_BLOCKABLE;
	(void)invalidate_range_start(r);
}

int zd_mmu_notifier_invalidate_range_start_nonblock(struct zd_mmu_notifier_range *r)
{
	r->flags &= ~ZD_MMU_NOTIFIER_RANGE_BLOCKABLE;
	return invalidate_range_start(r);
}

void zd_mmu_notifier_invalidate_range_end(struct zd_mmu_notifier_range *r)
{
	mn_itree_inv_end(r->mm, r->mm->notifier_subscriptions);
}

void zd_mmu_notifier_range_init(struct zd_mmu_notifier_range *r, enum zd_mmu_notifier_event ev,
				unsigned int flags, struct zd_mm *mm, unsigned long start,
				unsigned long end)
{
	zd_mmu_notifier_range_init_owner(r, ev, flags, mm, start, end, NULL);
}

void zd_mmu_notifier_range_init_owner(struct zd_mmu_notifier_range *r,
				      enum zd_mmu_notifier_event ev, unsigned int flags,
				      struct zd_mm *mm, unsigned long start, unsigned long end,
				      void *owner)
{
	r->mm = mm;
	r->start = start;
	r->end = end;
	r->flags = flags;
	r->event = ev;
	r->owner = owner;
}

/*
 * mn_itree_release: every interval is told the mm is going (RELEASE over
 * the whole address space, blockable), once; from then on inserts are
 * refused. The intervals stay until their drivers remove them.
 */
void _zd_mmu_notifier_release(struct zd_mm *mm)
{
	struct zd_mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;
	struct zd_mmu_notifier_range range;
	struct zd_mmu_interval_notifier *sub;
	unsigned long cur_seq;

	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_RELEASE, ZD_MMU_NOTIFIER_RANGE_BLOCKABLE,
				   mm, 0, ULONG_MAX);
	zd_spin_lock(&subs->lock);
	subs->released = true;
	zd_spin_unlock(&subs->lock);
	for (sub = mn_itree_inv_start_range(subs, &range, &cur_seq); sub;
	     sub = mn_itree_inv_next(subs, sub, &range)) {
		if (!sub->ops->invalidate(sub, &range, cur_seq))
			_zd_report_page(mm->sys, ZD_MISUSE_BAD_STATE, "R7.7", NULL,
					"mmu_interval_notifier [%#lx, %#lx] refused the RELEASE invalidation",
					sub->start, sub->last);
	}
	mn_itree_inv_end(mm, subs);
}

/* ---- subscriptions ---- */

int zd_mmu_interval_notifier_insert(struct zd_mmu_interval_notifier *sub, struct zd_mm *mm,
				    unsigned long start, unsigned long length,
				    const struct zd_mmu_interval_notifier_ops *ops)
{
	struct zd_mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;

	sub->mm = mm;
	sub->ops = ops;
	sub->in_itree = false;
	sub->deferred = false;
	sub->start = start;
	/* The interval holds its last address, as the kernel's tree does. */
	if (length == 0 || __builtin_add_overflow(start, length - 1, &sub->last))
		return -EOVERFLOW;

	zd_spin_lock(&subs->lock);
	if (subs->released) {
		/* WARN_ON(mm_users <= 0): the caller must hold a user of the mm. */
		zd_spin_unlock(&subs->lock);
		return -EINVAL;
	}
	/* Pairs with the mmdrop in zd_mmu_interval_notifier_remove. */
	_zd_mmgrab(mm);
	if (subs->active_invalidate_ranges) {
		/*
		 * Invalidations running may have missed this interval: its
		 * seq is the (odd) current one, so read_begin waits for them.
		 */
		if (mn_itree_is_invalidating(subs)) {
			zd_list_add(&sub->deferred_item, &subs->deferred_list);
			sub->deferred = true;
		} else {
			zd_atomic_store_relaxed(&subs->invalidate_seq,
						zd_atomic_load_relaxed(&subs->invalidate_seq) | 1);
			itree_insert(subs, sub);
		}
		zd_atomic_store_relaxed(&sub->invalidate_seq,
					zd_atomic_load_relaxed(&subs->invalidate_seq));
	} else {
		/* Odd and not the current one: read_begin does not wait. */
		zd_atomic_store_relaxed(&sub->invalidate_seq,
					zd_atomic_load_relaxed(&subs->invalidate_seq) - 1);
		itree_insert(subs, sub);
	}
	zd_spin_unlock(&subs->lock);
	return 0;
}

struct seq_wait {
	struct zd_mmu_notifier_subscriptions *subs;
	unsigned long seq;
};

/* The wait condition of read_begin: the mm's sequence moved on. */
static bool seq_moved(const void *var, void *arg)
{
	const struct seq_wait *w = arg;

	(void)var;
	/* Acquire: pairs with the release store in mn_itree_inv_end. */
	return zd_atomic_load_acquire(&w->subs->invalidate_seq) != w->seq;
}

/*
 * mmu_interval_seq_released: the same, under the lock, for remove. The
 * sequence moves before mn_itree_inv_end applies the deferred removes;
 * only once its lock is dropped is the subscription off every list and
 * free to go.
 */
static bool seq_released(const void *var, void *arg)
{
	const struct seq_wait *w = arg;
	bool ret;

	(void)var;
	zd_spin_lock(&w->subs->lock);
	ret = zd_atomic_load_relaxed(&w->subs->invalidate_seq) != w->seq;
	zd_spin_unlock(&w->subs->lock);
	return ret;
}

void zd_mmu_interval_notifier_remove(struct zd_mmu_interval_notifier *sub)
{
	struct zd_mm *mm = sub->mm;
	struct zd_mmu_notifier_subscriptions *subs = mm->notifier_subscriptions;
	unsigned long seq = 0;

	zd_spin_lock(&subs->lock);
	if (mn_itree_is_invalidating(subs)) {
		if (!sub->in_itree) {
			/* Its insert is still deferred: just forget it. */
			zd_list_del(&sub->deferred_item);
			sub->deferred = false;
		} else {
			/* Removed when the invalidations end; wait for that. */
			zd_list_add(&sub->deferred_item, &subs->deferred_list);
			sub->deferred = true;
			seq = zd_atomic_load_relaxed(&subs->invalidate_seq);
		}
	} else {
		itree_remove(sub);
	}
	zd_spin_unlock(&subs->lock);

	/* An invalidate() for this interval may be running: wait for its end. */
	if (seq) {
		struct seq_wait w = { subs, seq };

		zd_wait_var_event(mm->sys->waits, &subs->invalidate_seq, seq_released, &w, 0);
	}
	/* Pairs with the mmgrab in zd_mmu_interval_notifier_insert. */
	_zd_mmdrop(mm);
}

/* ---- the read side ---- */

unsigned long zd_mmu_interval_read_begin(struct zd_mmu_interval_notifier *sub)
{
	struct zd_mmu_notifier_subscriptions *subs = sub->mm->notifier_subscriptions;
	unsigned long seq;
	bool is_invalidating;

	/*
	 * sub seq == mm seq: an invalidate() of this interval ran in the
	 * current (odd) round, whose page-table change may not be done yet;
	 * whatever is read now could be stale, so wait for the round to end.
	 * Under the lock, so the two sequences are read together.
	 */
	zd_spin_lock(&subs->lock);
	seq = zd_atomic_load_relaxed(&sub->invalidate_seq);
	is_invalidating = seq == zd_atomic_load_relaxed(&subs->invalidate_seq);
	zd_spin_unlock(&subs->lock);

	if (is_invalidating) {
		struct seq_wait w = { subs, seq };

		zd_wait_var_event(sub->mm->sys->waits, &subs->invalidate_seq, seq_moved, &w, 0);
	}
	/*
	 * The returned seq is the sub's, not the mm's: a later invalidate()
	 * stores a different (larger, odd) cur_seq, which read_retry sees.
	 */
	return seq;
}

bool zd_mmu_interval_read_retry(struct zd_mmu_interval_notifier *sub, unsigned long seq)
{
	/* The caller holds the lock set_seq is called under: relaxed suffices. */
	return zd_atomic_load_relaxed(&sub->invalidate_seq) != seq;
}

bool zd_mmu_interval_check_retry(struct zd_mmu_interval_notifier *sub, unsigned long seq)
{
	/* READ_ONCE: a hint only. */
	return zd_atomic_load_relaxed(&sub->invalidate_seq) != seq;
}

void zd_mmu_interval_set_seq(struct zd_mmu_interval_notifier *sub, unsigned long cur_seq)
{
	/* WRITE_ONCE; ordered for readers by the driver lock it is called under. */
	zd_atomic_store_relaxed(&sub->invalidate_seq, cur_seq);
}
