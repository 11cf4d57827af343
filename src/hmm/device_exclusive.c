// SPDX-License-Identifier: MIT
/*
 * src/hmm/device_exclusive.c - make_device_exclusive: a device takes one
 * anonymous page for itself (atomics), the CPU loses its PTE until it
 * touches the page again.
 *
 * Models make_device_exclusive() of mm/rmap.c as David Hildenbrand's 6.15
 * series left it (semantics §7.5, R7.10): one page, faulted in writable by
 * GUP, a device-exclusive entry that keeps the mapping's reference and
 * mapcount, the folio returned locked and referenced. It lives in src/hmm
 * and not in src/mm because it calls GUP, a layer above mm. The way back
 * (remove_device_exclusive_entry, restore_exclusive_pte), fork and zap of
 * the entry are in src/mm, as in the kernel.
 */
#include <zonedev/gup.h>
#include <zonedev/hmm.h>
#include <zonedev/pagewalk.h>

#include "mm/internal.h"

/*
 * get_user_page_vma_remote(): one page, GUP'd on behalf of a device, and
 * its VMA. NULL with *err set on failure.
 */
static struct zd_page *get_page_vma(struct zd_mm *mm, unsigned long addr, unsigned int flags,
				    struct zd_vm_area_struct **vmap, int *err)
{
	struct zd_page *page = NULL;
	long got = zd_get_user_pages_remote(mm, addr, 1, flags, &page, NULL);

	if (got != 1) {
		*err = got < 0 ? (int)got : -EFAULT;
		return NULL;
	}
	*vmap = zd_vma_lookup(mm, addr);
	if (!*vmap) {
		zd_put_page(page);	/* the GUP found one: cannot happen under mmap_lock */
		*err = -EINVAL;
		return NULL;
	}
	return page;
}

struct zd_page *zd_make_device_exclusive(struct zd_mm *mm, unsigned long addr, void *owner,
					 struct zd_folio **foliop, int *err)
{
	struct zd_mmu_notifier_range range;
	struct zd_vm_area_struct *vma;
	struct zd_folio *folio, *fw_folio;
	struct zd_folio_walk fw;
	struct zd_page *page;
	zd_pte_t old;

	addr &= ~(ZD_PAGE_SIZE - 1);
retry:
	/*
	 * Writable, split to PTEs. An exclusive entry of another device (or
	 * of this one) is a non-present entry: GUP's fault restores it first.
	 */
	page = get_page_vma(mm, addr, ZD_FOLL_GET | ZD_FOLL_WRITE | ZD_FOLL_SPLIT_PMD, &vma, err);
	if (!page)
		return NULL;
	folio = zd_page_folio(page);
	/* Anonymous only (hugetlb is not modelled). */
	if (!zd_folio_test_anon(folio)) {
		zd_folio_put(folio);
		*err = -EOPNOTSUPP;
		return NULL;
	}
	/* folio_lock_killable(): the model has no signals, so it cannot fail. */
	zd_folio_lock(folio);

	/*
	 * Secondary MMUs drop the page now; the caller recognises its own
	 * EXCLUSIVE event by @owner and ignores it (else it would livelock).
	 */
	zd_mmu_notifier_range_init_owner(&range, ZD_MMU_NOTIFY_EXCLUSIVE, 0, mm, addr,
					 addr + ZD_PAGE_SIZE, owner);
	zd_mmu_notifier_invalidate_range_start(&range);

	/*
	 * Look again: still this page, mapped writable by a PTE? A writable
	 * PTE of an anonymous page is its only mapping, so no other needs
	 * to go. Anything else (unmapped, COW-shared by a fork, split again)
	 * and we start over.
	 */
	fw_folio = zd_folio_walk_start(&fw, vma, addr, 0);
	if (fw_folio != folio || fw.page != page || fw.level != ZD_LVL_PTE ||
	    !zd_pte_write(fw.entry)) {
		if (fw_folio)
			zd_folio_walk_end(&fw);
		zd_mmu_notifier_invalidate_range_end(&range);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
		goto retry;
	}

	/* ptep_clear_flush(): the entry goes first, so its dirty bit is final. */
	old = _zd_read_entry(fw.slot);
	_zd_set_entry(fw.slot, 0);
	if (zd_pte_dirty(old) && !zd_folio_test_flag(folio, ZD_PG_dirty))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	/*
	 * The exclusive entry keeps the PTE's reference and mapcount (R7.10);
	 * CPU access restores it under the folio lock. The model has no
	 * soft-dirty or uffd-wp bit to carry (and a writable PTE has no
	 * uffd-wp anyway).
	 */
	_zd_set_entry(fw.slot, zd_swp_entry(ZD_SWP_DEVICE_EXCLUSIVE, zd_page_to_pfn(page)));
	zd_folio_walk_end(&fw);
	zd_mmu_notifier_invalidate_range_end(&range);

	*foliop = folio;
	*err = 0;
	return page;
}
