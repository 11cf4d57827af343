// SPDX-License-Identifier: MIT
/*
 * src/mm/rmap.c - reverse mapping and mapcounts.
 *
 * Models mm/rmap.c: folio_add_new_anon_rmap, folio_add_{anon,file}_rmap_
 * {pte,pmd,pud}, folio_remove_rmap_*, rmap_walk over an anon_vma or an
 * address_space's i_mmap, try_to_unmap, and mm/memory.c's
 * unmap_mapping_range. Mapcounts: each page's _mapcount counts its PTE
 * mappings; a large folio's head _entire_mapcount counts PMD/PUD
 * mappings, and its page 1 keeps the folio's total (the kernel's
 * _large_mapcount); all start at -1.
 */
#include "internal.h"

static _Atomic int *large_mapcount(struct zd_folio *folio)
{
	return &zd_folio_page(folio, 1)->_entire_mapcount;
}

int zd_folio_mapcount(const struct zd_folio *folio)
{
	struct zd_folio *f = (struct zd_folio *)folio;

	if (zd_folio_test_large(f))
		return zd_atomic_load_relaxed(large_mapcount(f)) + 1;
	return zd_page_mapcount(&f->page);
}

int zd_folio_entire_mapcount(const struct zd_folio *folio)
{
	if (!zd_folio_test_large(folio))
		return 0;
	return zd_atomic_load_relaxed(&((struct zd_folio *)folio)->page._entire_mapcount) + 1;
}

int _zd_mm_counter(const struct zd_vm_area_struct *vma, const struct zd_folio *folio)
{
	(void)vma;
	if (zd_folio_test_anon(folio))
		return ZD_MM_ANONPAGES;
	if (folio->page.mapping &&
	    (((struct zd_address_space *)folio->page.mapping)->flags & ZD_AS_SHMEM))
		return ZD_MM_SHMEMPAGES;
	return ZD_MM_FILEPAGES;
}

void _zd_folio_add_new_anon_rmap(struct zd_folio *folio, struct zd_vm_area_struct *vma,
				 unsigned long addr, enum zd_pt_level lvl)
{
	unsigned long nr = zd_folio_nr_pages(folio);

	folio->page.mapping = (void *)((uintptr_t)vma->anon_vma | ZD_PAGE_MAPPING_ANON);
	folio->page.index = _zd_linear_index(vma, addr & ~((nr << ZD_PAGE_SHIFT) - 1));
	for (unsigned long i = 0; i < nr; i++)
		zd_page_set_flag(zd_folio_page(folio, i), ZD_PG_anon_exclusive);
	if (nr > 1 || lvl != ZD_LVL_PTE) {
		_zd_folio_add_rmap(folio, &folio->page, lvl);
		return;
	}
	/* A new small folio's count starts at -1: atomic_set(), as Linux does. */
	zd_atomic_store_relaxed(&folio->page._mapcount, 0);
	if (_zd_tracing(zd_page_system(&folio->page)))
		_zd_emit(zd_page_system(&folio->page), ZD_EV_MAP, folio, 0);
}

void _zd_folio_set_file_rmap(struct zd_folio *folio, struct zd_address_space *mapping,
			     unsigned long index)
{
	folio->page.mapping = mapping;
	folio->page.index = index;
}

void _zd_folio_add_rmap(struct zd_folio *folio, struct zd_page *page, enum zd_pt_level lvl)
{
	if (lvl == ZD_LVL_PTE)
		zd_atomic_fetch_add_relaxed(&page->_mapcount, 1);
	else
		zd_atomic_fetch_add_relaxed(&folio->page._entire_mapcount, 1);
	if (zd_folio_test_large(folio))
		zd_atomic_fetch_add_relaxed(large_mapcount(folio), 1);
	if (_zd_tracing(zd_page_system(&folio->page)))
		_zd_emit(zd_page_system(&folio->page), ZD_EV_MAP, folio, 0);
}

void _zd_folio_remove_rmap(struct zd_folio *folio, struct zd_page *page, enum zd_pt_level lvl)
{
	int now;

	if (lvl == ZD_LVL_PTE)
		now = zd_atomic_fetch_sub_relaxed(&page->_mapcount, 1) - 1;
	else
		now = zd_atomic_fetch_sub_relaxed(&folio->page._entire_mapcount, 1) - 1;
	if (zd_folio_test_large(folio))
		zd_atomic_fetch_sub_relaxed(large_mapcount(folio), 1);
	if (now < -1)
		_zd_report_page(zd_page_system(page), ZD_MISUSE_BAD_STATE, "R12.1", page,
				"mapcount underflow on unmap");
	if (_zd_tracing(zd_page_system(&folio->page)))
		_zd_emit(zd_page_system(&folio->page), ZD_EV_UNMAP, folio, 0);
}

/* ---- rmap walk ---- */

static bool walk_vma(struct zd_folio *folio, struct zd_vm_area_struct *vma,
		     bool (*fn)(struct zd_folio *, struct zd_vm_area_struct *, unsigned long, void *),
		     void *arg)
{
	unsigned long nr = zd_folio_nr_pages(folio), index = folio->page.index;
	long delta = (long)index - (long)vma->vm_pgoff;
	unsigned long addr = vma->vm_start + (unsigned long)(delta * (long)ZD_PAGE_SIZE);

	/* Does [addr, addr + nr pages) meet the VMA at all? */
	if (delta + (long)nr <= 0 || addr >= vma->vm_end)
		return true;
	return fn(folio, vma, addr, arg);
}

void _zd_rmap_walk(struct zd_folio *folio,
		   bool (*fn)(struct zd_folio *folio, struct zd_vm_area_struct *vma,
			      unsigned long addr, void *arg),
		   void *arg)
{
	void *mapping = folio->page.mapping;

	if (!mapping)
		return;
	if ((uintptr_t)mapping & ZD_PAGE_MAPPING_ANON) {
		struct zd_anon_vma *av = (void *)((uintptr_t)mapping & ~ZD_PAGE_MAPPING_ANON);

		zd_down_read(&av->lock);
		for (struct zd_vm_area_struct *vma = av->vmas; vma; vma = vma->anon_next)
			if (!walk_vma(folio, vma, fn, arg))
				break;
		zd_up_read(&av->lock);
	} else {
		struct zd_address_space *as = mapping;

		zd_down_read(&as->i_mmap_rwsem);
		for (struct zd_vm_area_struct *vma = as->i_mmap; vma; vma = vma->file_next)
			if (!walk_vma(folio, vma, fn, arg))
				break;
		zd_up_read(&as->i_mmap_rwsem);
	}
}

/* ---- try_to_unmap ---- */

/* Clear the entry at @slot if it maps part of @folio; drop what it held. */
static void unmap_one_entry(struct zd_vm_area_struct *vma, struct zd_folio *folio,
			    _Atomic zd_pte_t *slot, enum zd_pt_level lvl)
{
	unsigned long first = zd_folio_pfn(folio), nr = zd_folio_nr_pages(folio);
	zd_pte_t e = _zd_read_entry(slot);
	unsigned long pfn;

	/* Special and devmap entries hold neither mapcount nor reference. */
	if (zd_pte_none(e) || (zd_pte_present(e) && (zd_pte_special(e) || zd_pte_devmap(e))))
		return;
	if (!zd_pte_present(e) && !zd_is_device_private_entry(e) && !zd_is_device_exclusive_entry(e))
		return;	/* migration entries hold nothing */
	pfn = zd_pte_pfn(e);
	if (pfn < first || pfn >= first + nr)
		return;
	_zd_set_entry(slot, 0);
	_zd_folio_remove_rmap(folio, zd_folio_page(folio, pfn - first), lvl);
	_zd_add_mm_counter(vma->vm_mm, _zd_mm_counter(vma, folio),
			   -(long)(lvl == ZD_LVL_PTE ? 1 : nr));
	if (zd_pte_present(e) && zd_pte_dirty(e))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	zd_folio_put(folio);
}

static bool try_to_unmap_one(struct zd_folio *folio, struct zd_vm_area_struct *vma,
			     unsigned long addr, void *arg)
{
	struct zd_mm *mm = vma->vm_mm;
	unsigned long nr = zd_folio_nr_pages(folio);
	struct zd_mmu_notifier_range range;

	(void)arg;
	_zd_mmu_notifier_range_init_vma(&range, ZD_MMU_NOTIFY_CLEAR, vma, addr, nr);
	zd_mmu_notifier_invalidate_range_start(&range);
	for (unsigned long i = 0; i < nr; i++) {
		unsigned long a = addr + (i << ZD_PAGE_SHIFT);
		_Atomic zd_pte_t *slot;
		zd_pte_t e;

		if (a < vma->vm_start || a >= vma->vm_end)
			continue;
		/* A PMD or PUD leaf maps the whole folio at once. */
		for (enum zd_pt_level l = ZD_LVL_PUD; l >= ZD_LVL_PMD; l--) {
			slot = _zd_pxx_offset(mm, a, l);
			if (!slot)
				continue;
			e = _zd_read_entry(slot);
			if (zd_pte_huge(e)) {
				zd_spin_lock(_zd_huge_lockptr(mm));
				unmap_one_entry(vma, folio, slot, l);
				zd_spin_unlock(_zd_huge_lockptr(mm));
			}
		}
		slot = _zd_pxx_offset(mm, a, ZD_LVL_PTE);
		if (slot) {
			zd_spin_lock(_zd_pte_lockptr(slot));
			unmap_one_entry(vma, folio, slot, ZD_LVL_PTE);
			zd_spin_unlock(_zd_pte_lockptr(slot));
		}
	}
	zd_mmu_notifier_invalidate_range_end(&range);
	return zd_folio_mapcount(folio) > 0;
}

bool zd_try_to_unmap(struct zd_folio *folio)
{
	/* The walk may drop the mappings' references: keep the folio alive. */
	zd_folio_get(folio);
	_zd_rmap_walk(folio, try_to_unmap_one, NULL);
	zd_folio_put(folio);
	return zd_folio_mapcount(folio) == 0;
}

/* ---- unmap_mapping_range ---- */

void zd_unmap_mapping_range(struct zd_address_space *mapping, uint64_t start, uint64_t len)
{
	unsigned long first = (unsigned long)(start >> ZD_PAGE_SHIFT);
	unsigned long last = len ? (unsigned long)((start + len - 1) >> ZD_PAGE_SHIFT) : ~0ul;

	zd_down_read(&mapping->i_mmap_rwsem);
	for (struct zd_vm_area_struct *vma = mapping->i_mmap; vma; vma = vma->file_next) {
		unsigned long vfirst = vma->vm_pgoff;
		unsigned long vlast = vfirst + ((vma->vm_end - vma->vm_start) >> ZD_PAGE_SHIFT) - 1;
		unsigned long s, e;

		if (vlast < first || vfirst > last)
			continue;
		s = vma->vm_start + ((first > vfirst ? first - vfirst : 0) << ZD_PAGE_SHIFT);
		struct zd_mmu_notifier_range range;

		e = last >= vlast ? vma->vm_end :
		    vma->vm_start + ((last - vfirst + 1) << ZD_PAGE_SHIFT);
		/* unmap_mapping_range_vma() -> zap_page_range_single(): CLEAR. */
		zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, vma->vm_mm, s, e);
		zd_mmu_notifier_invalidate_range_start(&range);
		_zd_zap_range(vma, s, e);
		zd_mmu_notifier_invalidate_range_end(&range);
	}
	zd_up_read(&mapping->i_mmap_rwsem);
}
