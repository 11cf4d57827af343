// SPDX-License-Identifier: MIT
/*
 * src/mm/madvise.c - madvise(2).
 *
 * Models mm/madvise.c: MADV_DONTNEED (zap), MADV_FREE (lazy free: clean
 * and deactivate exclusive anonymous pages), MADV_COLD and MADV_PAGEOUT
 * (deactivate; pageout also unmaps clean file pages, there being no swap),
 * MADV_HUGEPAGE / NOHUGEPAGE / MERGEABLE / DONTFORK / DOFORK / WIPEONFORK /
 * KEEPONFORK (VMA flags, with madvise_vma_behavior's checks). Each walker that
 * expects LRU pages skips ZONE_DEVICE folios, as Linux's do (semantics §5).
 */
#include "internal.h"

struct madv_walk {
	struct zd_vm_area_struct *vma;
	int advice;
	struct zd_folio *unmap[64];	/* PAGEOUT: file folios to unmap after the walk */
	unsigned int nr_unmap;
};

static void madv_leaf(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl, void *arg)
{
	struct madv_walk *w = arg;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_page *page;
	struct zd_folio *folio;

	if (!zd_pte_present(e) || zd_pte_protnone(e))
		return;
	page = zd_vm_normal_page(w->vma, addr, e);
	if (!page)
		return;
	folio = zd_page_folio(page);
	/* madvise_cold_or_pageout_pte_range / madvise_free_pte_range: not LRU pages. */
	if (zd_folio_is_zone_device(folio))
		return;
	switch (w->advice) {
	case ZD_MADV_FREE:
		if (!zd_folio_test_anon(folio) || !zd_page_test_flag(page, ZD_PG_anon_exclusive) ||
		    zd_folio_mapcount(folio) != 1)
			return;
		_zd_set_entry(slot, zd_pte_mkold(zd_pte_mkclean(e)));
		zd_page_clear_flag(&folio->page, ZD_PG_dirty);
		zd_page_clear_flag(&folio->page, ZD_PG_swapbacked);	/* lazyfree */
		_zd_folio_deactivate(folio);
		break;
	case ZD_MADV_COLD:
	case ZD_MADV_PAGEOUT:
		_zd_set_entry(slot, zd_pte_mkold(e));
		_zd_folio_deactivate(folio);
		if (w->advice == ZD_MADV_PAGEOUT && lvl == ZD_LVL_PTE && !zd_folio_test_anon(folio) &&
		    !zd_pte_dirty(e) && w->nr_unmap < 64 && zd_folio_try_get(folio))
			w->unmap[w->nr_unmap++] = folio;
		break;
	default:
		break;
	}
}

static int madvise_vma(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end,
		       int advice)
{
	struct madv_walk w = { .vma = vma, .advice = advice };
	struct zd_mmu_notifier_range range;

	switch (advice) {
	case ZD_MADV_DONTNEED:
		if (vma->vm_flags & (ZD_VM_LOCKED | ZD_VM_PFNMAP))
			return -EINVAL;
		/* zap_page_range_single_batched(): CLEAR, the VMA stays. */
		zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, vma->vm_mm, start, end);
		zd_mmu_notifier_invalidate_range_start(&range);
		_zd_zap_range(vma, start, end);
		zd_mmu_notifier_invalidate_range_end(&range);
		return 0;
	case ZD_MADV_FREE:
		if (!zd_vma_is_anonymous(vma) || (vma->vm_flags & ZD_VM_SHARED))
			return -EINVAL;
		/* madvise_free_single_vma(): the entries are made clean and old. */
		zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, vma->vm_mm, start, end);
		zd_mmu_notifier_invalidate_range_start(&range);
		_zd_walk_page_range(vma->vm_mm, start, end, madv_leaf, &w);
		zd_mmu_notifier_invalidate_range_end(&range);
		return 0;
	case ZD_MADV_COLD:
	case ZD_MADV_PAGEOUT:
		if (vma->vm_flags & (ZD_VM_LOCKED | ZD_VM_PFNMAP))
			return -EINVAL;
		break;
	default:
		return 0;
	}
	_zd_walk_page_range(vma->vm_mm, start, end, madv_leaf, &w);
	/* pageout: reclaim would drop clean file pages from every mapping. */
	for (unsigned int i = 0; i < w.nr_unmap; i++) {
		if (zd_folio_trylock(w.unmap[i])) {
			zd_try_to_unmap(w.unmap[i]);
			zd_folio_unlock(w.unmap[i]);
		}
		zd_folio_put(w.unmap[i]);
	}
	return 0;
}

/* Advice that changes VMA flags: split at the range edges, set, merge. */
static int madvise_flags(struct zd_mm *mm, unsigned long start, unsigned long end, int advice)
{
	struct zd_vm_area_struct *vma;
	unsigned long a;
	int err;

	/* [start, end) lies in one VMA: refuse before splitting it. */
	vma = zd_vma_lookup(mm, start);
	if (vma && advice == ZD_MADV_DOFORK && (vma->vm_flags & ZD_VM_IO))
		return -EINVAL;
	/* Anonymous memory only: a file's pages cannot be wiped. */
	if (vma && advice == ZD_MADV_WIPEONFORK && (vma->vm_file || (vma->vm_flags & ZD_VM_SHARED)))
		return -EINVAL;
	if (vma && vma->vm_start < start && (err = _zd_split_vma(vma, start)))
		return err;
	vma = zd_vma_lookup(mm, end - 1);
	if (vma && vma->vm_end > end && (err = _zd_split_vma(vma, end)))
		return err;
	for (a = start; a < end; a = vma->vm_end) {
		vma = zd_vma_lookup(mm, a);
		if (advice == ZD_MADV_HUGEPAGE)
			vma->vm_flags = (vma->vm_flags & ~ZD_VM_NOHUGEPAGE) | ZD_VM_HUGEPAGE;
		else if (advice == ZD_MADV_NOHUGEPAGE)
			vma->vm_flags = (vma->vm_flags & ~ZD_VM_HUGEPAGE) | ZD_VM_NOHUGEPAGE;
		else if (advice == ZD_MADV_DONTFORK)
			vma->vm_flags |= ZD_VM_DONTCOPY;
		else if (advice == ZD_MADV_DOFORK)
			vma->vm_flags &= ~ZD_VM_DONTCOPY;
		else if (advice == ZD_MADV_WIPEONFORK)
			vma->vm_flags |= ZD_VM_WIPEONFORK;
		else if (advice == ZD_MADV_KEEPONFORK)
			vma->vm_flags &= ~ZD_VM_WIPEONFORK;
		else
			vma->vm_flags |= ZD_VM_MERGEABLE;
	}
	for (a = start; a < end;) {
		vma = zd_vma_lookup(mm, a);
		a = vma->vm_end;
		_zd_vma_merge(mm, vma);
	}
	return 0;
}

int zd_madvise(struct zd_mm *mm, unsigned long start, unsigned long len, int advice)
{
	unsigned long end, a;
	struct zd_vm_area_struct *vma;
	bool flags_only = advice == ZD_MADV_HUGEPAGE || advice == ZD_MADV_NOHUGEPAGE ||
			  advice == ZD_MADV_MERGEABLE || advice == ZD_MADV_DONTFORK ||
			  advice == ZD_MADV_DOFORK || advice == ZD_MADV_WIPEONFORK ||
			  advice == ZD_MADV_KEEPONFORK;
	int err = 0;

	switch (advice) {
	case ZD_MADV_DONTNEED: case ZD_MADV_FREE: case ZD_MADV_COLD: case ZD_MADV_PAGEOUT:
	case ZD_MADV_HUGEPAGE: case ZD_MADV_NOHUGEPAGE: case ZD_MADV_MERGEABLE:
	case ZD_MADV_DONTFORK: case ZD_MADV_DOFORK: case ZD_MADV_WIPEONFORK: case ZD_MADV_KEEPONFORK:
		break;
	case ZD_MADV_COLLAPSE:
		break;
	default:
		return -EINVAL;
	}
	if ((start & (ZD_PAGE_SIZE - 1)) || len + ZD_PAGE_SIZE - 1 < len)
		return -EINVAL;
	len = (len + ZD_PAGE_SIZE - 1) & ~(ZD_PAGE_SIZE - 1);
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (!len)
		return 0;
	if (advice == ZD_MADV_COLLAPSE)
		return _zd_madvise_collapse(mm, start, end);
	if (flags_only)
		zd_mmap_write_lock(mm);
	else
		zd_mmap_read_lock(mm);
	/* A hole anywhere in the range: -ENOMEM (the mapped parts are still advised). */
	for (a = start; a < end;) {
		vma = zd_find_vma(mm, a);
		if (!vma || vma->vm_start >= end) {
			err = -ENOMEM;
			break;
		}
		if (vma->vm_start > a)
			err = -ENOMEM;
		a = vma->vm_end;
	}
	if (flags_only) {
		int e2 = 0;

		for (a = start; a < end && !e2; ) {
			vma = zd_find_vma(mm, a);
			if (!vma || vma->vm_start >= end)
				break;
			unsigned long s = vma->vm_start > a ? vma->vm_start : a;
			unsigned long e = vma->vm_end < end ? vma->vm_end : end;

			e2 = madvise_flags(mm, s, e, advice);
			a = e;
		}
		zd_mmap_write_unlock(mm);
		return e2 ? e2 : err;
	}
	for (a = start; a < end;) {
		vma = zd_find_vma(mm, a);
		if (!vma || vma->vm_start >= end)
			break;
		unsigned long s = vma->vm_start > a ? vma->vm_start : a;
		unsigned long e = vma->vm_end < end ? vma->vm_end : end;
		int e2 = madvise_vma(vma, s, e, advice);

		if (e2 && !err)
			err = e2;
		a = e;
	}
	zd_mmap_read_unlock(mm);
	return err;
}
