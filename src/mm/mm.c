// SPDX-License-Identifier: MIT
/*
 * src/mm/mm.c - struct mm_struct: creation, exit, locks, counters.
 *
 * Models kernel/fork.c (mm_alloc, mmput) and mm/mmap.c (exit_mmap),
 * include/linux/mmap_lock.h and the RSS counters of include/linux/mm.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "internal.h"

int zd_mm_create(struct zd_system *sys, struct zd_mm **out)
{
	struct zd_mm *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return -ENOMEM;
	mm->sys = sys;
	zd_rwsem_init(&mm->mmap_lock);
	zd_spin_lock_init(&mm->page_table_lock);
	zd_atomic_init(&mm->mm_count, 1);
	if (_zd_mmu_notifier_subscriptions_init(mm) || _zd_pgd_alloc(mm)) {
		_zd_mmu_notifier_subscriptions_destroy(mm);
		zd_spin_lock_destroy(&mm->page_table_lock);
		zd_rwsem_destroy(&mm->mmap_lock);
		free(mm);
		return -ENOMEM;
	}
	zd_spin_lock(&sys->mmlist_lock);
	zd_list_add(&mm->mmlist, &sys->mmlist);
	zd_spin_unlock(&sys->mmlist_lock);
	*out = mm;
	return 0;
}

/* Unmap and free every VMA. Context: mmap_lock held for write. */
void _zd_mm_unmap_all(struct zd_mm *mm);
void _zd_mm_unmap_all(struct zd_mm *mm)
{
	struct zd_mmu_notifier_range range;

	if (!mm->nr_vmas)
		return;
	/* exit_mmap's unmap_vmas(): UNMAP over the whole address space. */
	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_UNMAP, 0, mm, 0, ULONG_MAX);
	zd_mmu_notifier_invalidate_range_start(&range);
	while (mm->nr_vmas)
		_zd_remove_vma(mm, mm->vmas[mm->nr_vmas - 1]);
	zd_mmu_notifier_invalidate_range_end(&range);
}

void zd_mm_destroy(struct zd_mm *mm)
{
	if (!mm)
		return;
	zd_spin_lock(&mm->sys->mmlist_lock);
	zd_list_del(&mm->mmlist);
	zd_spin_unlock(&mm->sys->mmlist_lock);
	/* exit_mmap: secondary MMUs drop their mappings before any VMA goes. */
	_zd_mmu_notifier_release(mm);
	zd_mmap_write_lock(mm);
	_zd_mm_unmap_all(mm);
	zd_mmap_write_unlock(mm);
	_zd_mm_put_huge_zero_folio(mm);
	_zd_free_all_pgtables(mm);
	free(mm->vmas);
	mm->vmas = NULL;
	_zd_mmdrop(mm);
}

void _zd_mmgrab(struct zd_mm *mm)
{
	zd_atomic_fetch_add_relaxed(&mm->mm_count, 1);
}

void _zd_mmdrop(struct zd_mm *mm)
{
	/* Release/acquire: the last dropper sees every other holder's last use. */
	if (zd_atomic_fetch_sub_acq_rel(&mm->mm_count, 1) != 1)
		return;
	_zd_mmu_notifier_subscriptions_destroy(mm);
	zd_spin_lock_destroy(&mm->page_table_lock);
	zd_rwsem_destroy(&mm->mmap_lock);
	free(mm);
}

struct zd_system *zd_mm_system(const struct zd_mm *mm)
{
	return mm->sys;
}

void zd_mmap_read_lock(struct zd_mm *mm) { zd_down_read(&mm->mmap_lock); }
void zd_mmap_read_unlock(struct zd_mm *mm) { zd_up_read(&mm->mmap_lock); }
void zd_mmap_write_lock(struct zd_mm *mm) { zd_down_write(&mm->mmap_lock); }
void zd_mmap_write_unlock(struct zd_mm *mm) { zd_up_write(&mm->mmap_lock); }

void _zd_add_mm_counter(struct zd_mm *mm, int counter, long nr)
{
	zd_atomic_fetch_add_relaxed(&mm->rss[counter], nr);
}

void zd_mm_get_stats(struct zd_mm *mm, struct zd_mm_stats *st)
{
	st->rss_anon = zd_atomic_load_relaxed(&mm->rss[ZD_MM_ANONPAGES]);
	st->rss_file = zd_atomic_load_relaxed(&mm->rss[ZD_MM_FILEPAGES]);
	st->rss_shmem = zd_atomic_load_relaxed(&mm->rss[ZD_MM_SHMEMPAGES]);
	st->nr_vmas = mm->nr_vmas;
	st->nr_pgtables = (unsigned long)zd_atomic_load_relaxed(&mm->nr_pgtables);
}
