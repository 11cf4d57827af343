// SPDX-License-Identifier: MIT
/*
 * src/mm/zap.c - unmapping a range of a VMA.
 *
 * Models zap_pte_range / zap_pmd_range / zap_pud_range of mm/memory.c and
 * zap_huge_pmd / zap_huge_pud of mm/huge_memory.c: each present entry
 * gives back the reference and the mapcount its mapping took (R5.2),
 * device-private and device-exclusive entries too (R6.6); migration
 * entries hold nothing (the migrating thread owns the reference); special
 * entries (zero page, pfn maps) carry no reference (R12.16).
 */
#include "internal.h"

/*
 * Drop what one entry held; its RSS change is added to @rss, which the
 * caller gives to the mm before it drops the entry's lock (zap_pte_range's
 * rss[] and add_mm_rss_vec). Context: its lock held; it is cleared here.
 */
static void zap_entry(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *slot, unsigned long addr,
		      enum zd_pt_level lvl, long rss[3])
{
	struct zd_mm *mm = vma->vm_mm;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_page *page = NULL;
	struct zd_folio *folio;

	if (zd_pte_none(e))
		return;
	/* zap_huge_pmd(): the table deposited with an anonymous leaf goes with it. */
	if (lvl == ZD_LVL_PMD && _zd_pmd_has_deposit(vma, addr, e))
		_zd_zap_deposited_table(mm);
	_zd_set_entry(slot, 0);
	if (zd_pte_present(e)) {
		page = zd_vm_normal_page(vma, addr, e);
	} else if (zd_is_device_private_entry(e) || zd_is_device_exclusive_entry(e)) {
		page = zd_pfn_to_page(mm->sys, zd_swp_offset(e));
	} else if (zd_is_migration_entry(e)) {
		folio = zd_pfn_folio(mm->sys, zd_swp_offset(e));
		if (folio)
			rss[_zd_mm_counter(vma, folio)]--;
		return;
	}
	if (!page)
		return;
	folio = zd_page_folio(page);
	_zd_folio_remove_rmap(folio, page, lvl);
	rss[_zd_mm_counter(vma, folio)] -= lvl == ZD_LVL_PTE ? 1 : (long)zd_folio_nr_pages(folio);
	if (zd_pte_present(e) && zd_pte_dirty(e) && !zd_folio_test_anon(folio))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	zd_folio_put(folio);
}

/* add_mm_rss_vec(): one counter update per counter that changed. */
static void add_mm_rss_vec(struct zd_mm *mm, long rss[3])
{
	for (int i = 0; i < 3; i++)
		if (rss[i])
			_zd_add_mm_counter(mm, i, rss[i]);
}

static unsigned long level_size(enum zd_pt_level lvl)
{
	return 1ul << (12 + 9 * (lvl - 1));
}

static void zap_level(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end,
		      enum zd_pt_level lvl);

/* One entry of a PUD or PMD table: a leaf, or the table below it. */
static void zap_upper(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *slot, unsigned long lo,
		      unsigned long start, unsigned long end, enum zd_pt_level lvl)
{
	struct zd_mm *mm = vma->vm_mm;
	unsigned long size = level_size(lvl);
	zd_pte_t e = _zd_read_entry(slot);

	if (zd_pte_none(e))
		return;
	if (zd_pte_huge(e) || !(e & ZD_PTE_PRESENT)) {
		if (start <= lo && lo + size <= end) {
			long rss[3] = { 0 };

			zd_spin_lock(_zd_huge_lockptr(mm));
			zap_entry(vma, slot, lo, lvl, rss);
			add_mm_rss_vec(mm, rss);
			zd_spin_unlock(_zd_huge_lockptr(mm));
			return;
		}
		/*
		 * Partly covered: an anonymous PMD leaf is split into PTEs,
		 * any other leaf removed whole (__split_huge_pmd/pud). A
		 * non-present PMD entry (device-private THP) is left.
		 */
		if (!zd_pte_huge(e))
			return;
		if (lvl == ZD_LVL_PUD)
			_zd_split_huge_pud(vma, slot, lo);
		else
			_zd_split_huge_pmd(vma, slot, lo);
		e = _zd_read_entry(slot);
		if (zd_pte_none(e) || zd_pte_huge(e))
			return;
	}
	zap_level(vma, start > lo ? start : lo, end < lo + size ? end : lo + size, lvl - 1);
}

/* Zap [start, end) within one table at @lvl (the range does not cross it). */
static void zap_level(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end,
		      enum zd_pt_level lvl)
{
	struct zd_mm *mm = vma->vm_mm;
	unsigned long size = level_size(lvl);

	for (unsigned long addr = start; addr < end;) {
		unsigned long lo = addr & ~(size - 1), next = lo + size;
		_Atomic zd_pte_t *slot = _zd_pxx_offset(mm, addr, lvl);

		if (next > end || next < lo)
			next = end;
		if (slot) {
			if (lvl == ZD_LVL_PTE) {
				struct zd_spinlock *ptl = _zd_pte_lockptr(slot);
				long rss[3] = { 0 };

				zd_spin_lock(ptl);
				/* every PTE of this table inside the range */
				for (; addr < end && (addr & ~(ZD_PMD_SIZE - 1)) == (lo & ~(ZD_PMD_SIZE - 1));
				     addr += ZD_PAGE_SIZE, slot++)
					zap_entry(vma, slot, addr, ZD_LVL_PTE, rss);
				add_mm_rss_vec(mm, rss);
				zd_spin_unlock(ptl);
				continue;
			}
			zap_upper(vma, slot, lo, addr, next, lvl);
		}
		addr = next;
	}
}

void _zd_zap_range(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct zd_mm *mm = vma->vm_mm;
	unsigned long pgd_size = level_size(ZD_LVL_PGD);

	if (start < vma->vm_start)
		start = vma->vm_start;
	if (end > vma->vm_end)
		end = vma->vm_end;
	for (unsigned long addr = start; addr < end;) {
		unsigned long next = (addr & ~(pgd_size - 1)) + pgd_size;
		zd_pte_t e = _zd_read_entry(&mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)]);

		if (next > end)
			next = end;
		if (!zd_pte_none(e))
			zap_level(vma, addr, next, ZD_LVL_PUD);
		addr = next;
	}
}
