// SPDX-License-Identifier: MIT
/*
 * src/mm/numa.c - NUMA-hinting protection and numa_maps.
 *
 * Models change_prot_numa() (mm/mempolicy.c) with the prot_numa branch of
 * change_pte_range() (mm/mprotect.c) that task_numa_work uses to make
 * pages fault on their next access, and show_numa_map()'s
 * gather_pte_stats()/can_gather_numa_stats() (fs/proc/task_mmu.c). Both
 * skip ZONE_DEVICE folios (semantics §5): a device page's entry is never
 * made PROT_NONE, and it is never counted.
 *
 * Where the model differs: one node, so the "already on the target node"
 * shortcut of single-threaded mms is left out and every eligible page is
 * protected; PMD leaves are not protected, because the model's fault
 * handler has no do_huge_pmd_numa_page to restore them (do_numa_page at
 * the PTE level is in memory.c).
 */
#include <string.h>

#include <zonedev/mempolicy.h>

#include "internal.h"

/* ---- change_prot_numa ---- */

struct prot_numa {
	struct zd_vm_area_struct *vma;
	long pages;
};

static bool is_cow_mapping(unsigned long flags)
{
	return (flags & (ZD_VM_SHARED | ZD_VM_MAYWRITE)) == ZD_VM_MAYWRITE;
}

/* change_pte_range() with MM_CP_PROT_NUMA, for one entry. Context: its lock held. */
static void prot_numa_leaf(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl,
			   void *arg)
{
	struct prot_numa *pn = arg;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_folio *folio;
	struct zd_page *page;

	if (lvl != ZD_LVL_PTE || !zd_pte_present(e) || zd_pte_protnone(e))
		return;
	page = zd_vm_normal_page(pn->vma, addr, e);
	if (!page)
		return;		/* the zero page and pfn maps: never hinted */
	folio = zd_page_folio(page);
	/* Device memory is never NUMA-migrated: its entry stays as it is (semantics §5). */
	if (zd_folio_is_zone_device(folio))
		return;
	/*
	 * Also skip shared copy-on-write pages (folio_maybe_mapped_shared: the
	 * model tells only for small folios; a PTE-mapped THP's mappings are
	 * taken as one mm's).
	 */
	if (is_cow_mapping(pn->vma->vm_flags) &&
	    (zd_folio_maybe_dma_pinned(folio) ||
	     (!zd_folio_test_large(folio) && zd_folio_mapcount(folio) > 1)))
		return;
	/* pte_modify(PAGE_NONE): mapped but inaccessible; pfn, dirty, young kept. */
	_zd_set_entry(slot, (e & ~(ZD_PTE_PRESENT | ZD_PTE_WRITE)) | ZD_PTE_PROTNONE);
	pn->pages++;
}

long zd_change_prot_numa(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct prot_numa pn = { .vma = vma, .pages = 0 };
	struct zd_mmu_notifier_range range;

	if (start < vma->vm_start)
		start = vma->vm_start;
	if (end > vma->vm_end)
		end = vma->vm_end;
	/* vma_is_accessible(): a PROT_NONE VMA takes no hinting faults. */
	if (start >= end || !(vma->vm_flags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC)))
		return 0;
	/* change_protection() with MM_CP_PROT_NUMA: PROTECTION_VMA, as mprotect. */
	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_PROTECTION_VMA, 0, vma->vm_mm, start, end);
	zd_mmu_notifier_invalidate_range_start(&range);
	_zd_walk_page_range(vma->vm_mm, start, end, prot_numa_leaf, &pn);
	zd_mmu_notifier_invalidate_range_end(&range);
	return pn.pages;
}

/* ---- numa_maps ---- */

struct numa_walk {
	struct zd_vm_area_struct *vma;
	struct zd_numa_stats *md;
};

/* can_gather_numa_stats(): a normal RAM page. */
static struct zd_page *can_gather_numa_stats(zd_pte_t e, struct zd_vm_area_struct *vma,
					     unsigned long addr)
{
	struct zd_page *page;

	if (!zd_pte_present(e))
		return NULL;
	page = zd_vm_normal_page(vma, addr, e);
	if (!page || zd_is_zone_device_page(page) || zd_page_test_flag(page, ZD_PG_reserved))
		return NULL;
	return page;
}

/* gather_stats(). */
static void gather_stats(struct zd_numa_stats *md, struct zd_page *page, bool pte_dirty,
			 unsigned long nr)
{
	struct zd_folio *folio = zd_page_folio(page);
	unsigned long count = (unsigned long)(zd_page_mapcount(page) +
					      zd_folio_entire_mapcount(folio));

	md->pages += nr;
	if (pte_dirty || zd_folio_test_flag(folio, ZD_PG_dirty))
		md->dirty += nr;
	if (zd_folio_test_flag(folio, ZD_PG_active) || zd_folio_test_flag(folio, ZD_PG_unevictable))
		md->active += nr;
	if (zd_folio_test_anon(folio))
		md->anon += nr;
	if (count > md->mapcount_max)
		md->mapcount_max = count;
	md->node[0] += nr;	/* folio_nid(): one node */
}

static void numa_leaf(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl, void *arg)
{
	struct numa_walk *w = arg;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_page *page = can_gather_numa_stats(e, w->vma, addr);

	if (!page)
		return;
	/* A PMD leaf counts all its pages (can_gather_numa_stats_pmd); PUD leaves are DAX only. */
	gather_stats(w->md, page, zd_pte_dirty(e),
		     lvl == ZD_LVL_PTE ? 1 : zd_folio_nr_pages(zd_page_folio(page)));
}

int zd_numa_maps(struct zd_mm *mm, struct zd_numa_stats *st)
{
	struct numa_walk w = { .md = st };

	memset(st, 0, sizeof(*st));
	zd_mmap_read_lock(mm);
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		w.vma = mm->vmas[i];
		_zd_walk_page_range(mm, w.vma->vm_start, w.vma->vm_end, numa_leaf, &w);
	}
	zd_mmap_read_unlock(mm);
	return 0;
}
