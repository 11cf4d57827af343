// SPDX-License-Identifier: MIT
/*
 * src/mm/khugepaged.c - collapsing small pages into a transparent huge page.
 *
 * Models mm/khugepaged.c: hpage_collapse_scan_pmd (may this PMD-sized
 * block be collapsed?), collapse_huge_page with
 * __collapse_huge_page_isolate, __collapse_huge_page_copy and the PMD
 * install, madvise_collapse (MADV_COLLAPSE) and khugepaged_scan_mm_slot.
 * A block holding a ZONE_DEVICE folio is never collapsed: SCAN_PAGE_NULL,
 * as hpage_collapse_scan_pmd and __collapse_huge_page_isolate answer
 * (semantics §5, R12.5).
 *
 * Where the model differs: the whole collapse runs under mmap_lock held
 * for write (Linux scans under the read lock and retakes it for write);
 * the old folios are locked but not isolated from the LRU (the write
 * lock, the anon_vma lock and the folio locks keep faults, rmap walkers,
 * reclaim and migration away); the old PTE table is freed after an RCU
 * grace period instead of being deposited for a later split; only
 * anonymous VMAs are collapsed (collapse_file, for shmem and files, is
 * not modelled: -EOPNOTSUPP).
 */
#include <stdlib.h>
#include <string.h>

#include <zonedev/khugepaged.h>

#include "internal.h"

/* khugepaged's sysfs defaults (max_ptes_none, max_ptes_shared). */
#define KHUGEPAGED_MAX_PTES_NONE	(ZD_PTRS_PER_TABLE - 1)
#define KHUGEPAGED_MAX_PTES_SHARED	(ZD_PTRS_PER_TABLE / 2)

struct collapse_control {
	bool is_khugepaged;
};

/* A folio the block maps, and with how many of its PTEs. */
struct block_folio {
	struct zd_folio *folio;
	int nr;
};

/* One PMD-sized block being collapsed. */
struct collapse {
	struct zd_vm_area_struct *vma;
	unsigned long haddr;
	_Atomic zd_pte_t *pmd;
	zd_pte_t pmde;
	struct zd_pgtable *pt;
	zd_pte_t orig[ZD_PTRS_PER_TABLE];
	struct zd_page *pages[ZD_PTRS_PER_TABLE];	/* NULL: none or zero page */
	struct block_folio folios[ZD_PTRS_PER_TABLE];
	int nr_folios;
	long none_or_zero;
};

/*
 * thp_vma_allowable_order() for a collapse: not VM_NOHUGEPAGE, not
 * VM_SPECIAL (VM_NO_KHUGEPAGED), not DAX (device folios are mapped whole
 * by their driver, never collapsed).
 */
static bool thp_vma_allowable(const struct zd_vm_area_struct *vma)
{
	if (vma->vm_flags & (ZD_VM_NOHUGEPAGE | ZD_VM_IO | ZD_VM_DONTEXPAND | ZD_VM_PFNMAP |
			     ZD_VM_MIXEDMAP))
		return false;
	return !zd_vma_is_dax(vma);
}

static void add_folio(struct collapse *c, struct zd_folio *folio)
{
	/* PTEs of one large folio are usually adjacent: look at the last one first. */
	for (int i = c->nr_folios - 1; i >= 0; i--) {
		if (c->folios[i].folio == folio) {
			c->folios[i].nr++;
			return;
		}
	}
	c->folios[c->nr_folios].folio = folio;
	c->folios[c->nr_folios].nr = 1;
	c->nr_folios++;
}

/* is_refcount_suitable(): the mappings' references and nothing else (no GUP, no pin). */
static bool refcount_suitable(struct zd_folio *folio)
{
	return !zd_folio_maybe_dma_pinned(folio) &&
	       zd_folio_ref_count(folio) == zd_folio_mapcount(folio);
}

/* ---- scan: hpage_collapse_scan_pmd() ---- */

static enum zd_scan_result scan_pmd(struct collapse *c, const struct collapse_control *cc)
{
	struct zd_vm_area_struct *vma = c->vma;
	struct zd_mm *mm = vma->vm_mm;
	unsigned long zero_pfn = _zd_zero_pfn(mm);
	enum zd_scan_result result = ZD_SCAN_SUCCEED;
	int shared = 0, referenced = 0;
	bool writable = false;

	c->pmd = _zd_pxx_offset(mm, c->haddr, ZD_LVL_PMD);
	if (!c->pmd)
		return ZD_SCAN_PMD_NULL;
	c->pmde = _zd_read_entry(c->pmd);
	if (zd_pte_huge(c->pmde))
		return ZD_SCAN_PMD_MAPPED;
	if (!(c->pmde & ZD_PTE_PRESENT))
		return ZD_SCAN_PMD_NULL;	/* none, or a non-present PMD entry */
	c->pt = _zd_entry_table(c->pmde);
	c->nr_folios = 0;
	c->none_or_zero = 0;

	zd_spin_lock(&_zd_pgtable_desc(c->pt)->ptl);
	for (unsigned int i = 0; i < ZD_PTRS_PER_TABLE && result == ZD_SCAN_SUCCEED; i++) {
		unsigned long addr = c->haddr + ((unsigned long)i << ZD_PAGE_SHIFT);
		zd_pte_t e = c->orig[i] = _zd_read_entry(&c->pt->ent[i]);
		struct zd_folio *folio;
		struct zd_page *page;

		c->pages[i] = NULL;
		if (zd_pte_none(e) || (zd_pte_present(e) && zd_pte_special(e) &&
				       zd_pte_pfn(e) == zero_pfn)) {
			if (++c->none_or_zero > KHUGEPAGED_MAX_PTES_NONE && cc->is_khugepaged)
				result = ZD_SCAN_EXCEED_NONE_PTE;
			continue;
		}
		if (!zd_pte_present(e)) {
			/* No swap here: device-private, device-exclusive or migration entries. */
			result = ZD_SCAN_PTE_NON_PRESENT;
			break;
		}
		if (zd_pte_write(e))
			writable = true;
		page = zd_vm_normal_page(vma, addr, e);
		if (!page) {
			result = ZD_SCAN_PAGE_NULL;
			break;
		}
		folio = zd_page_folio(page);
		/* Not an LRU page: never collapsed (semantics §5). */
		if (zd_folio_is_zone_device(folio)) {
			result = ZD_SCAN_PAGE_NULL;
			break;
		}
		if (!zd_folio_test_anon(folio)) {
			result = ZD_SCAN_PAGE_ANON;
			break;
		}
		/* folio_maybe_mapped_shared(), for the small folios the model can tell. */
		if (!zd_folio_test_large(folio) && zd_folio_mapcount(folio) > 1 &&
		    ++shared > KHUGEPAGED_MAX_PTES_SHARED && cc->is_khugepaged) {
			result = ZD_SCAN_EXCEED_SHARED_PTE;
			break;
		}
		if (zd_pte_young(e) || zd_folio_test_flag(folio, ZD_PG_referenced))
			referenced++;
		c->pages[i] = page;
		add_folio(c, folio);
	}
	for (int i = 0; i < c->nr_folios && result == ZD_SCAN_SUCCEED; i++)
		if (!refcount_suitable(c->folios[i].folio))
			result = ZD_SCAN_PAGE_COUNT;
	zd_spin_unlock(&_zd_pgtable_desc(c->pt)->ptl);
	if (result != ZD_SCAN_SUCCEED)
		return result;
	if (!writable)
		return ZD_SCAN_PAGE_RO;
	if (cc->is_khugepaged && !referenced)
		return ZD_SCAN_LACK_REFERENCED_PAGE;
	return ZD_SCAN_SUCCEED;
}

/* ---- collapse: collapse_huge_page() ---- */

/* The new PMD leaf: young, dirty, writable if the VMA is (folio_mk_pmd + maybe_pmd_mkwrite). */
static zd_pte_t huge_entry(const struct zd_vm_area_struct *vma, unsigned long pfn)
{
	zd_pte_t bits = ZD_PTE_HUGE;

	if (!(vma->vm_flags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC)))
		bits |= ZD_PTE_PROTNONE;
	else
		bits |= ZD_PTE_PRESENT | ZD_PTE_YOUNG | ZD_PTE_DIRTY |
			(vma->vm_flags & ZD_VM_WRITE ? ZD_PTE_WRITE : 0);
	return zd_pfn_pte(pfn, bits);
}

/* Context: mmap_lock held for write; scan_pmd() said yes. */
static enum zd_scan_result collapse(struct collapse *c)
{
	struct zd_vm_area_struct *vma = c->vma;
	struct zd_mm *mm = vma->vm_mm;
	struct zd_anon_vma *av = vma->anon_vma;
	enum zd_scan_result result = ZD_SCAN_SUCCEED;
	struct zd_mmu_notifier_range range;
	struct zd_folio *new;
	int locked;

	if (!av)
		return ZD_SCAN_FAIL;	/* cannot be: the block maps anonymous pages */
	new = zd_folio_alloc(mm->sys, ZD_GFP_ZERO, ZD_PMD_ORDER);
	if (!new)
		return ZD_SCAN_ALLOC_HUGE_PAGE_FAIL;
	for (locked = 0; locked < c->nr_folios; locked++) {
		if (!zd_folio_trylock(c->folios[locked].folio)) {
			result = ZD_SCAN_PAGE_LOCK;
			goto out_unlock;
		}
	}
	/* anon_vma_lock_write(): rmap walkers stay out of the block. */
	zd_down_write(&av->lock);

	/* pmdp_collapse_flush(): from now on nobody finds the PTE table. */
	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, mm, c->haddr,
				   c->haddr + ZD_PMD_SIZE);
	zd_mmu_notifier_invalidate_range_start(&range);
	zd_spin_lock(&mm->page_table_lock);
	if (_zd_read_entry(c->pmd) != c->pmde) {
		zd_spin_unlock(&mm->page_table_lock);
		zd_mmu_notifier_invalidate_range_end(&range);
		result = ZD_SCAN_FAIL;
		goto out_up;
	}
	_zd_set_entry(c->pmd, 0);
	zd_spin_unlock(&mm->page_table_lock);
	zd_mmu_notifier_invalidate_range_end(&range);
	/*
	 * tlb_remove_table_sync_one(): every GUP-fast walker that read the
	 * old PMD has finished. If it kept a reference (its re-check ran
	 * before the clear), the count below sees it; otherwise it saw the
	 * PMD change and dropped it (bug B4).
	 */
	zd_synchronize_rcu();

	/* __collapse_huge_page_isolate(): the same entries, no extra references. */
	zd_spin_lock(&_zd_pgtable_desc(c->pt)->ptl);
	for (unsigned int i = 0; i < ZD_PTRS_PER_TABLE && result == ZD_SCAN_SUCCEED; i++)
		if (_zd_read_entry(&c->pt->ent[i]) != c->orig[i])
			result = ZD_SCAN_FAIL;
	for (int i = 0; i < c->nr_folios && result == ZD_SCAN_SUCCEED; i++)
		if (!refcount_suitable(c->folios[i].folio))
			result = ZD_SCAN_PAGE_COUNT;
	if (result != ZD_SCAN_SUCCEED) {
		zd_spin_unlock(&_zd_pgtable_desc(c->pt)->ptl);
		/* pmd_populate(): give the block its table back. */
		zd_spin_lock(&mm->page_table_lock);
		_zd_set_entry(c->pmd, c->pmde);
		zd_spin_unlock(&mm->page_table_lock);
		goto out_up;
	}

	/* __collapse_huge_page_copy(): the data, then the old mappings go. */
	for (unsigned int i = 0; i < ZD_PTRS_PER_TABLE; i++) {
		void *src, *dst;

		if (!c->pages[i])
			continue;	/* none or zero page: the new folio is zeroed */
		src = zd_page_address(c->pages[i]);
		dst = zd_page_address(zd_folio_page(new, i));
		if (src && dst)
			memcpy(dst, src, ZD_PAGE_SIZE);
	}
	for (unsigned int i = 0; i < ZD_PTRS_PER_TABLE; i++) {
		if (zd_pte_none(c->orig[i]))
			continue;
		_zd_set_entry(&c->pt->ent[i], 0);
		if (c->pages[i])
			_zd_folio_remove_rmap(zd_page_folio(c->pages[i]), c->pages[i], ZD_LVL_PTE);
	}
	zd_spin_unlock(&_zd_pgtable_desc(c->pt)->ptl);

	/*
	 * set_pmd_at(): the new folio's allocation reference becomes the PMD's.
	 * The emptied PTE table, which no walker can reach any more, is the
	 * leaf's deposit (pgtable_trans_huge_deposit).
	 */
	zd_spin_lock(&mm->page_table_lock);
	_zd_pgtable_trans_huge_deposit(mm, c->pt);
	_zd_folio_add_new_anon_rmap(new, vma, c->haddr, ZD_LVL_PMD);
	/* The mapped pages were counted already: only the holes are new. */
	_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, c->none_or_zero);
	_zd_set_entry(c->pmd, huge_entry(vma, zd_folio_pfn(new)));
	zd_spin_unlock(&mm->page_table_lock);
	zd_up_write(&av->lock);
	_zd_folio_add_lru_vma(new, vma);

	/* The old PTEs' references: the last put frees each old folio. */
	for (int i = 0; i < c->nr_folios; i++) {
		zd_folio_unlock(c->folios[i].folio);
		zd_folio_put_refs(c->folios[i].folio, c->folios[i].nr);
	}
	return ZD_SCAN_SUCCEED;

out_up:
	zd_up_write(&av->lock);
out_unlock:
	while (locked-- > 0)
		zd_folio_unlock(c->folios[locked].folio);
	zd_folio_put(new);
	return result;
}

static enum zd_scan_result collapse_pmd(struct collapse *c, struct zd_vm_area_struct *vma,
					unsigned long haddr, const struct collapse_control *cc)
{
	enum zd_scan_result result;

	c->vma = vma;
	c->haddr = haddr;
	result = scan_pmd(c, cc);
	return result == ZD_SCAN_SUCCEED ? collapse(c) : result;
}

/* ---- MADV_COLLAPSE: madvise_collapse() ---- */

static int madvise_collapse_errno(enum zd_scan_result r)
{
	switch (r) {
	case ZD_SCAN_ALLOC_HUGE_PAGE_FAIL:
		return -ENOMEM;
	case ZD_SCAN_EXCEED_NONE_PTE:
		return -EBUSY;
	case ZD_SCAN_PAGE_COUNT:
	case ZD_SCAN_PAGE_LOCK:
		return -EAGAIN;	/* temporary: trying again may succeed */
	default:
		return -EINVAL;
	}
}

static int madvise_collapse_vma(struct collapse *c, struct zd_vm_area_struct *vma,
				unsigned long start, unsigned long end)
{
	const struct collapse_control cc = { .is_khugepaged = false };
	unsigned long hstart = (start + ZD_PMD_SIZE - 1) & ~(ZD_PMD_SIZE - 1);
	unsigned long hend = end & ~(ZD_PMD_SIZE - 1), thps = 0;
	enum zd_scan_result last_fail = ZD_SCAN_FAIL;

	if (!thp_vma_allowable(vma))
		return -EINVAL;
	if (!zd_vma_is_anonymous(vma))
		return -EOPNOTSUPP;	/* collapse_file(): not modelled */
	if (hstart >= hend)
		return 0;
	for (unsigned long addr = hstart; addr < hend; addr += ZD_PMD_SIZE) {
		enum zd_scan_result r = collapse_pmd(c, vma, addr, &cc);

		switch (r) {
		case ZD_SCAN_SUCCEED:
		case ZD_SCAN_PMD_MAPPED:
			thps++;
			break;
		/* Results where going on with the next block is fine. */
		case ZD_SCAN_PMD_NULL:
		case ZD_SCAN_PTE_NON_PRESENT:
		case ZD_SCAN_PAGE_RO:
		case ZD_SCAN_LACK_REFERENCED_PAGE:
		case ZD_SCAN_PAGE_NULL:
		case ZD_SCAN_PAGE_COUNT:
		case ZD_SCAN_PAGE_LOCK:
			last_fail = r;
			break;
		default:
			return madvise_collapse_errno(r);
		}
	}
	return thps == (hend - hstart) >> ZD_PMD_SHIFT ? 0 : madvise_collapse_errno(last_fail);
}

int _zd_madvise_collapse(struct zd_mm *mm, unsigned long start, unsigned long end)
{
	struct collapse *c;
	unsigned long a;
	int err = 0, unmapped = 0;

	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	zd_mmap_write_lock(mm);
	for (a = start; a < end;) {
		struct zd_vm_area_struct *vma = zd_find_vma(mm, a);
		unsigned long s, e;

		if (!vma || vma->vm_start >= end) {
			unmapped = -ENOMEM;
			break;
		}
		if (vma->vm_start > a)
			unmapped = -ENOMEM;	/* a hole: the mapped parts are still advised */
		s = vma->vm_start > a ? vma->vm_start : a;
		e = vma->vm_end < end ? vma->vm_end : end;
		err = madvise_collapse_vma(c, vma, s, e);
		if (err)
			break;
		a = e;
	}
	zd_mmap_write_unlock(mm);
	free(c);
	return err ? err : unmapped;
}

/* ---- khugepaged: khugepaged_scan_mm_slot() ---- */

int zd_khugepaged_scan_mm(struct zd_mm *mm, struct zd_khugepaged_stats *st)
{
	const struct collapse_control cc = { .is_khugepaged = true };
	struct zd_khugepaged_stats local;
	struct collapse *c = malloc(sizeof(*c));
	int collapsed = 0;

	if (!c)
		return -ENOMEM;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	zd_mmap_write_lock(mm);
	/* A collapse changes no VMA: the array stays as it is. */
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		struct zd_vm_area_struct *vma = mm->vmas[i];
		unsigned long haddr = (vma->vm_start + ZD_PMD_SIZE - 1) & ~(ZD_PMD_SIZE - 1);

		/* hugepage_vma_check(): THP-enabled anonymous memory with pages in it. */
		if (!(vma->vm_flags & ZD_VM_HUGEPAGE) || !thp_vma_allowable(vma) ||
		    !zd_vma_is_anonymous(vma) || !vma->anon_vma)
			continue;
		for (; haddr + ZD_PMD_SIZE <= vma->vm_end; haddr += ZD_PMD_SIZE) {
			enum zd_scan_result r = collapse_pmd(c, vma, haddr, &cc);

			st->pmds_scanned++;
			st->results[r]++;
			if (r == ZD_SCAN_SUCCEED)
				collapsed++;
		}
	}
	zd_mmap_write_unlock(mm);
	free(c);
	return collapsed;
}
