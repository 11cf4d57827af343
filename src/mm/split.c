// SPDX-License-Identifier: MIT
/*
 * src/mm/split.c - splitting PMD-mapped THPs of a range, as debugfs does.
 *
 * Models split_huge_pages_pid() of mm/huge_memory.c (what writing
 * "<pid>,<start>,<end>" to /sys/kernel/debug/split_huge_pages does):
 * walk the range page by page, skip VMAs a THP split does not apply to
 * (vma_not_suitable_for_thp_split: VM_IO, DAX, shared file mappings),
 * skip folios that are not RAM THPs (ZONE_DEVICE folios are skipped, even
 * a PMD-mapped coherent one in an anonymous VMA: semantics §5) or that
 * carry references beyond their mappings (can_split_folio), lock the
 * folio and split.
 *
 * Where the model differs: it splits the mapping (__split_huge_pmd: a PTE
 * table mapping the same pages) but not the folio (split_folio_to_order,
 * which would turn it into 512 small folios, is not modelled). Only
 * anonymous THPs exist in the model's RAM (tmpfs has order-0 folios).
 */
#include <zonedev/mm_walkers.h>

#include "internal.h"

static bool vma_not_suitable_for_thp_split(const struct zd_vm_area_struct *vma)
{
	return (vma->vm_flags & ZD_VM_IO) || zd_vma_is_dax(vma) ||
	       (vma->vm_file && (vma->vm_flags & (ZD_VM_SHARED | ZD_VM_MAYSHARE)));
}

long zd_split_huge_pages(struct zd_mm *mm, unsigned long start, unsigned long end)
{
	unsigned long addr;
	long split = 0;

	start &= ~(ZD_PAGE_SIZE - 1);
	end &= ~(ZD_PAGE_SIZE - 1);
	if (start > end)
		return -EINVAL;
	zd_mmap_read_lock(mm);
	for (addr = start; addr < end;) {
		struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);
		unsigned long haddr = addr & ~(ZD_PMD_SIZE - 1);
		struct zd_folio_walk fw;
		struct zd_folio *folio;
		_Atomic zd_pte_t *pmd;

		if (!vma)
			break;
		if (vma_not_suitable_for_thp_split(vma)) {
			addr = vma->vm_end;
			continue;
		}
		folio = zd_folio_walk_start(&fw, vma, addr, 0);
		if (!folio) {
			addr += ZD_PAGE_SIZE;
			continue;
		}
		if (fw.level != 2) {
			/* A PTE: a small folio, or a large one already PTE-mapped. */
			zd_folio_walk_end(&fw);
			addr += ZD_PAGE_SIZE;
			continue;
		}
		/* A PMD leaf: whatever happens, the next address is past it. */
		addr = haddr + ZD_PMD_SIZE;
		/* is_transparent_hugepage(): RAM only, never a device folio. */
		if (zd_folio_is_zone_device(folio) || !zd_folio_test_large(folio) ||
		    !zd_folio_test_anon(folio) ||
		    /* can_split_folio(): no references beyond the mappings */
		    zd_folio_maybe_dma_pinned(folio) ||
		    zd_folio_ref_count(folio) != zd_folio_mapcount(folio)) {
			zd_folio_walk_end(&fw);
			continue;
		}
		zd_folio_get(folio);
		pmd = fw.slot;
		zd_folio_walk_end(&fw);
		if (zd_folio_trylock(folio)) {
			/* Re-checks the leaf under the lock: a changed PMD is left alone. */
			_zd_split_huge_pmd(vma, pmd, haddr);
			if (!zd_pte_huge(_zd_read_entry(pmd)))
				split++;
			zd_folio_unlock(folio);
		}
		zd_folio_put(folio);
	}
	zd_mmap_read_unlock(mm);
	return split;
}
