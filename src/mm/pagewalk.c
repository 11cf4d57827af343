// SPDX-License-Identifier: MIT
/*
 * src/mm/pagewalk.c - walking the page table of a range, and looking up
 * the folio mapped at one address.
 *
 * Models mm/pagewalk.c: walk_page_range() (reduced to one callback for
 * every leaf entry, called under the entry's lock) and folio_walk_start()/
 * folio_walk_end(); and, for the callers that used it, follow_page() of
 * mm/gup.c as it was in the 6.0 cycle, with the short-lived FOLL_LRU flag
 * (3218f8712d6b) that refused ZONE_DEVICE pages. FOLL_LRU was replaced by
 * explicit checks in each caller after follow_page(FOLL_GET), and those
 * checks first leaked the reference on their skip path (bug B16):
 * zd_follow_page gives it back before it refuses. follow_page stays here,
 * not in gup/, because mm's own walkers (KSM, move_pages) call it.
 *
 * Names: "walk" is an iteration over a range (walk_page_range; the
 * kernel's folio_walk_start keeps its name, though it looks at one
 * address); "follow" is the lookup of one address (zd_follow_entry,
 * zd_follow_page, GUP's follow_page_mask); the single steps down the
 * table are _zd_pxx_offset (lookup) and _zd_pxx_alloc (allocating), in
 * pgtable.c.
 */
#include <string.h>

#include <zonedev/pagewalk.h>

#include "internal.h"

static unsigned long level_size(enum zd_pt_level lvl)
{
	return 1ul << (ZD_PAGE_SHIFT + 9 * (lvl - 1));
}

/*
 * The page @e maps at @addr, or NULL. *expose is cleared for a migration
 * entry, whose folio is returned without its page, as in Linux.
 */
static struct zd_page *leaf_page(struct zd_vm_area_struct *vma, unsigned long addr, zd_pte_t e,
				 enum zd_pt_level lvl, unsigned int flags, bool *expose)
{
	struct zd_mm *mm = vma->vm_mm;
	struct zd_page *page;

	*expose = true;
	if (zd_pte_present(e)) {
		page = zd_vm_normal_page(vma, addr, e);
		if (!page && (flags & ZD_FW_ZEROPAGE) && lvl == ZD_LVL_PTE &&
		    zd_pte_pfn(e) == _zd_zero_pfn(mm))
			page = &zd_zero_folio(mm->sys)->page;
		if (!page && (flags & ZD_FW_ZEROPAGE) && lvl == ZD_LVL_PMD &&
		    _zd_is_huge_zero_pmd(mm, e))
			page = &zd_huge_zero_folio(mm->sys)->page;
		/* A leaf maps one folio from its first pfn: the memmap is contiguous within it. */
		if (page && lvl > ZD_LVL_PTE)
			page += (addr & (level_size(lvl) - 1)) >> ZD_PAGE_SHIFT;
		return page;
	}
	if ((flags & ZD_FW_MIGRATION) && zd_is_migration_entry(e)) {
		*expose = false;
		return zd_pfn_to_page(mm->sys, zd_swp_offset(e));
	}
	return NULL;
}

static struct zd_folio *found(struct zd_folio_walk *fw, struct zd_page *page, bool expose,
			      enum zd_pt_level lvl, _Atomic zd_pte_t *slot, zd_pte_t e,
			      struct zd_spinlock *ptl)
{
	fw->page = expose ? page : NULL;
	fw->level = (int)lvl;
	fw->slot = slot;
	fw->entry = e;
	fw->ptl = ptl;
	return zd_page_folio(page);
}

struct zd_folio *zd_folio_walk_start(struct zd_folio_walk *fw, struct zd_vm_area_struct *vma,
				     unsigned long addr, unsigned int flags)
{
	struct zd_mm *mm = vma->vm_mm;
	struct zd_spinlock *ptl;
	_Atomic zd_pte_t *slot;
	struct zd_page *page;
	bool expose;
	zd_pte_t e;

	memset(fw, 0, sizeof(*fw));
	fw->vma = vma;
	if (addr < vma->vm_start || addr >= vma->vm_end)
		return NULL;
	/* PUD, then PMD: a leaf (or a non-present entry) there ends the walk. */
	for (enum zd_pt_level lvl = ZD_LVL_PUD; lvl >= ZD_LVL_PMD; lvl--) {
		slot = _zd_pxx_offset(mm, addr, lvl);
		if (!slot)
			return NULL;
		e = _zd_read_entry(slot);
		if (zd_pte_none(e))
			return NULL;
		if (!zd_pte_huge(e) && (e & ZD_PTE_PRESENT))
			continue;	/* a table below */
		ptl = _zd_huge_lockptr(mm);
		zd_spin_lock(ptl);
		e = _zd_read_entry(slot);
		if (!zd_pte_huge(e) && (e & ZD_PTE_PRESENT)) {
			zd_spin_unlock(ptl);	/* split meanwhile: walk the table */
			continue;
		}
		page = zd_pte_none(e) ? NULL : leaf_page(vma, addr, e, lvl, flags, &expose);
		if (page)
			return found(fw, page, expose, lvl, slot, e, ptl);
		zd_spin_unlock(ptl);
		return NULL;
	}
	slot = _zd_pxx_offset(mm, addr, ZD_LVL_PTE);
	if (!slot)
		return NULL;
	ptl = _zd_pte_lockptr(slot);
	zd_spin_lock(ptl);
	e = _zd_read_entry(slot);
	page = zd_pte_none(e) ? NULL : leaf_page(vma, addr, e, ZD_LVL_PTE, flags, &expose);
	if (page)
		return found(fw, page, expose, ZD_LVL_PTE, slot, e, ptl);
	zd_spin_unlock(ptl);
	return NULL;
}

void zd_folio_walk_end(struct zd_folio_walk *fw)
{
	zd_spin_unlock(fw->ptl);
	fw->ptl = NULL;
}

int zd_follow_page(struct zd_vm_area_struct *vma, unsigned long addr, unsigned int flags,
		   struct zd_page **pagep)
{
	struct zd_folio_walk fw;
	struct zd_folio *folio;
	struct zd_page *page;

	if (addr < vma->vm_start || addr >= vma->vm_end)
		return -EFAULT;
	folio = zd_folio_walk_start(&fw, vma, addr, flags & ZD_FW_ZEROPAGE);
	if (!folio) {
		zd_pte_t e = 0;
		int lvl = 0;

		/* 6.0 refused a devmap entry (no struct page reference) under FOLL_LRU too. */
		if ((flags & ZD_FW_LRU) && zd_follow_entry(vma->vm_mm, addr, &e, &lvl) > 0 &&
		    zd_pte_devmap(e))
			return -EEXIST;
		return -ENOENT;
	}
	page = fw.page;
	/* The entry holds a reference and we hold its lock: a plain get is safe. */
	if (flags & ZD_FW_GET)
		zd_folio_get(folio);
	zd_folio_walk_end(&fw);
	if ((flags & ZD_FW_LRU) && zd_folio_is_zone_device(folio)) {
		/*
		 * Not an LRU page: refuse it, giving back what we took (B16).
		 * After the unlock, so a last put may run folio_free.
		 */
		if (flags & ZD_FW_GET)
			zd_folio_put(folio);
		return -EEXIST;
	}
	*pagep = page;
	return 0;
}

/* ---- walk_page_range: every leaf of a range ---- */

static void walk_leaves(struct zd_mm *mm, struct zd_pgtable *t, unsigned long base,
			unsigned long start, unsigned long end, _zd_leaf_fn fn, void *arg)
{
	enum zd_pt_level lvl = _zd_pgtable_level(t);
	unsigned long span = 1ul << (12 + 9 * (lvl - 1));
	unsigned int first = 0;

	if (start > base)
		first = (unsigned int)((start - base) / span);
	if (lvl == ZD_LVL_PTE) {
		zd_spin_lock(&_zd_pgtable_desc(t)->ptl);
		for (unsigned i = first; i < ZD_PTRS_PER_TABLE; i++) {
			unsigned long addr = base + i * span;

			if (addr >= end)
				break;
			if (!zd_pte_none(zd_atomic_load_relaxed(&t->ent[i])))
				fn(&t->ent[i], addr, ZD_LVL_PTE, arg);
		}
		zd_spin_unlock(&_zd_pgtable_desc(t)->ptl);
		return;
	}
	for (unsigned i = first; i < ZD_PTRS_PER_TABLE; i++) {
		unsigned long lo = base + i * span;
		zd_pte_t e;

		if (lo >= end)
			break;
		e = _zd_read_entry(&t->ent[i]);
		if (zd_pte_none(e))
			continue;
		if (lvl != ZD_LVL_PGD && (zd_pte_huge(e) || !(e & ZD_PTE_PRESENT))) {
			zd_spin_lock(&mm->page_table_lock);
			if (_zd_read_entry(&t->ent[i]) == e)
				fn(&t->ent[i], lo, lvl, arg);
			zd_spin_unlock(&mm->page_table_lock);
			continue;
		}
		walk_leaves(mm, _zd_entry_table(e), lo, start, end, fn, arg);
	}
}

void _zd_walk_page_range(struct zd_mm *mm, unsigned long start, unsigned long end, _zd_leaf_fn fn,
			 void *arg)
{
	if (start < end)
		walk_leaves(mm, mm->pgd, 0, start, end, fn, arg);
}
