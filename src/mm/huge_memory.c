// SPDX-License-Identifier: MIT
/*
 * src/mm/huge_memory.c - transparent huge pages and huge leaves.
 *
 * Models mm/huge_memory.c, one file as in the kernel: the huge zero folio
 * (get_huge_zero_folio, mm_get_huge_zero_folio, mm_put_huge_zero_folio,
 * is_huge_zero_pmd, the sysfs switch use_zero_page); the THP faults of an
 * anonymous VMA (do_huge_pmd_anonymous_page, do_huge_zero_wp_pmd,
 * do_huge_pmd_wp_page); the PMD and PUD insert helpers drivers call from
 * ->huge_fault (vmf_insert_folio_pmd/pud, and 6.14's vmf_insert_pfn_pmd/pud
 * with insert_pfn_pmd/pud); splitting a PMD or PUD leaf (__split_huge_pmd,
 * __split_huge_pud); and the debugfs split_huge_pages (split_huge_pages_pid).
 * The kernel keeps these together because they share the PMD-leaf rules
 * (deposit, huge zero folio, devmap); so does the model, and folds the
 * former split.c and huge_zero.c in. mm/memory.c's fault handler calls
 * down into them; the page-table code (pgtable.c) calls none of them.
 * Unlike the kernel, copy_huge_pmd/pud (fork.c), zap_huge_pmd/pud (zap.c)
 * and move_huge_pmd/pud (mremap.c) stay with the operation whose range
 * walk calls them: each is a leaf handler of that walk's own context.
 *
 * The huge zero folio: an order-9 folio of zeros that a read fault in a THP
 * region maps read-only with a special PMD leaf: the mapping takes no
 * reference and no mapcount. Each mm that maps it holds it once
 * (MMF_HUGE_ZERO_FOLIO) until it exits.
 *
 * Where the model differs: Linux keeps the huge zero folio until its
 * shrinker runs with no mm holding it; the model frees it when the last
 * holder exits, so a quiescent machine with no mm has nothing allocated.
 * split_huge_pages_pid (what writing "<pid>,<start>,<end>" to
 * /sys/kernel/debug/split_huge_pages does) walks the range page by page,
 * skips VMAs a THP split does not apply to (vma_not_suitable_for_thp_split:
 * VM_IO, DAX, shared file mappings), skips folios that are not RAM THPs
 * (ZONE_DEVICE folios are skipped, even a PMD-mapped coherent one in an
 * anonymous VMA: semantics §5) or that carry references beyond their
 * mappings (can_split_folio), locks the folio and splits it into small
 * folios (split_folio_to_order, here _zd_split_folio: the mappings become
 * migration entries, the folio is split, each page is mapped again), be
 * it mapped by a PMD or already by PTEs. Only anonymous THPs exist in the
 * model's RAM (tmpfs has order-0 folios). No PMD migration entries, no NUMA hinting
 * of PMD leaves.
 */
#include <zonedev/huge_mm.h>
#include <zonedev/pagewalk.h>

#include "internal.h"

struct zd_folio *zd_huge_zero_folio(struct zd_system *sys)
{
	return zd_atomic_load_acquire(&sys->huge_zero_folio);
}

void zd_thp_set_use_zero_page(struct zd_system *sys, bool on)
{
	zd_atomic_store_relaxed(&sys->thp_no_zero_page, on ? 0 : 1);
}

bool zd_thp_use_zero_page(struct zd_system *sys)
{
	return !zd_atomic_load_relaxed(&sys->thp_no_zero_page);
}

struct zd_folio *_zd_mm_get_huge_zero_folio(struct zd_mm *mm)
{
	struct zd_system *sys = mm->sys;
	struct zd_folio *folio;

	/* Acquire: pairs with the release below; the folio is published first. */
	if (zd_atomic_load_acquire(&mm->huge_zero))
		return zd_atomic_load_acquire(&sys->huge_zero_folio);
	zd_spin_lock(&sys->huge_zero_lock);
	folio = zd_atomic_load_relaxed(&sys->huge_zero_folio);
	if (!zd_atomic_load_relaxed(&mm->huge_zero)) {
		if (!folio) {
			folio = zd_folio_alloc(sys, ZD_GFP_ZERO, ZD_PMD_ORDER);
			if (!folio) {
				zd_spin_unlock(&sys->huge_zero_lock);
				return NULL;
			}
			zd_atomic_store_release(&sys->huge_zero_folio, folio);
		}
		sys->huge_zero_users++;
		zd_atomic_store_release(&mm->huge_zero, 1);
	}
	zd_spin_unlock(&sys->huge_zero_lock);
	return folio;
}

void _zd_mm_put_huge_zero_folio(struct zd_mm *mm)
{
	struct zd_system *sys = mm->sys;
	struct zd_folio *folio = NULL;

	if (!zd_atomic_load_relaxed(&mm->huge_zero))
		return;
	zd_atomic_store_relaxed(&mm->huge_zero, 0);
	zd_spin_lock(&sys->huge_zero_lock);
	if (--sys->huge_zero_users == 0) {
		folio = zd_atomic_load_relaxed(&sys->huge_zero_folio);
		zd_atomic_store_release(&sys->huge_zero_folio, NULL);
	}
	zd_spin_unlock(&sys->huge_zero_lock);
	/* Its allocation reference; a GUP reference still held keeps it until put. */
	if (folio)
		zd_folio_put(folio);
}

bool _zd_is_huge_zero_folio(const struct zd_folio *folio)
{
	return folio == zd_huge_zero_folio(zd_page_system(&folio->page));
}

bool _zd_is_huge_zero_pmd(struct zd_mm *mm, zd_pte_t e)
{
	struct zd_folio *folio;

	if (!zd_pte_huge(e) || !zd_pte_special(e))
		return false;
	folio = zd_huge_zero_folio(mm->sys);
	return folio && zd_pte_pfn(e) == zd_folio_pfn(folio);
}

/* ---- the THP faults of an anonymous VMA ---- */

/* map_anon_folio_pmd(): a new THP's leaf is always dirty, writable where the VMA is. */
static zd_pte_t anon_pmd_bits(const struct zd_vm_area_struct *vma)
{
	zd_pte_t bits = _zd_vma_page_prot_ro(vma) | ZD_PTE_HUGE;

	if (!(bits & ZD_PTE_PRESENT))
		return bits;
	/* maybe_pmd_mkwrite(pmd_mkdirty()) */
	return bits | ZD_PTE_DIRTY | (vma->vm_flags & ZD_VM_WRITE ? ZD_PTE_WRITE : 0);
}

zd_vm_fault_t _zd_do_huge_pmd_anonymous_page(struct zd_vm_fault *vmf)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	unsigned long haddr = vmf->address & ~(ZD_PMD_SIZE - 1);
	struct zd_pgtable *pgtable;
	struct zd_folio *folio;
	zd_pte_t entry;

	if (_zd_anon_vma_prepare(vma))
		return ZD_VM_FAULT_OOM;
	if (!(vmf->flags & ZD_FAULT_FLAG_WRITE) && zd_thp_use_zero_page(mm->sys)) {
		/* set_huge_zero_folio(): a special, read-only leaf; no reference, no mapcount. */
		folio = _zd_mm_get_huge_zero_folio(mm);
		if (!folio)
			return ZD_VM_FAULT_FALLBACK;
		pgtable = _zd_pte_alloc_one(mm);
		if (!pgtable)
			return ZD_VM_FAULT_OOM;
		entry = zd_pfn_pte(zd_folio_pfn(folio),
				   _zd_vma_page_prot_ro(vma) | ZD_PTE_HUGE | ZD_PTE_SPECIAL);
		zd_spin_lock(&mm->page_table_lock);
		if (zd_pte_none(_zd_read_entry(vmf->pmd))) {
			_zd_pgtable_trans_huge_deposit(mm, pgtable);
			_zd_set_entry(vmf->pmd, entry);
			pgtable = NULL;
		}
		zd_spin_unlock(&mm->page_table_lock);
		if (pgtable)
			_zd_pte_free(mm, pgtable);
		return 0;
	}
	folio = zd_folio_alloc(mm->sys, ZD_GFP_ZERO, ZD_PMD_ORDER);
	if (!folio)
		return ZD_VM_FAULT_FALLBACK;
	pgtable = _zd_pte_alloc_one(mm);
	if (!pgtable) {
		zd_folio_put(folio);
		return ZD_VM_FAULT_OOM;
	}
	entry = zd_pfn_pte(zd_folio_pfn(folio), anon_pmd_bits(vma));
	zd_spin_lock(&mm->page_table_lock);
	if (!zd_pte_none(_zd_read_entry(vmf->pmd))) {
		zd_spin_unlock(&mm->page_table_lock);
		_zd_pte_free(mm, pgtable);
		zd_folio_put(folio);
		return 0;
	}
	_zd_pgtable_trans_huge_deposit(mm, pgtable);
	_zd_folio_add_new_anon_rmap(folio, vma, haddr, ZD_LVL_PMD);
	/* On the LRU before the leaf is set: a racing zap may free it once unlocked. */
	_zd_folio_add_lru_vma(folio, vma);
	_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1l << ZD_PMD_ORDER);
	_zd_set_entry(vmf->pmd, entry);
	zd_spin_unlock(&mm->page_table_lock);
	return 0;
}

/*
 * do_huge_zero_wp_pmd(): a write or unshare fault on the huge zero folio
 * gets a new zeroed THP, mapped as a fresh anonymous fault maps one
 * (dirty, writable where the VMA is, even for an unshare); FALLBACK if none.
 */
static zd_vm_fault_t do_huge_zero_wp_pmd(struct zd_vm_fault *vmf, zd_pte_t e)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	unsigned long haddr = vmf->address & ~(ZD_PMD_SIZE - 1);
	struct zd_folio *folio = zd_folio_alloc(mm->sys, ZD_GFP_ZERO, ZD_PMD_ORDER);
	struct zd_mmu_notifier_range range;

	if (!folio)
		return ZD_VM_FAULT_FALLBACK;
	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, mm, haddr, haddr + ZD_PMD_SIZE);
	zd_mmu_notifier_invalidate_range_start(&range);
	zd_spin_lock(&mm->page_table_lock);
	if (_zd_read_entry(vmf->pmd) != e) {
		zd_spin_unlock(&mm->page_table_lock);
		zd_mmu_notifier_invalidate_range_end(&range);
		zd_folio_put(folio);
		return 0;
	}
	/* map_anon_folio_pmd(); the special leaf it replaces held nothing; its deposit stays. */
	_zd_folio_add_new_anon_rmap(folio, vma, haddr, ZD_LVL_PMD);
	_zd_folio_add_lru_vma(folio, vma);	/* before the leaf, as above */
	_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1l << ZD_PMD_ORDER);
	_zd_set_entry(vmf->pmd,
		      zd_pfn_pte(zd_folio_pfn(folio), anon_pmd_bits(vma)));
	zd_spin_unlock(&mm->page_table_lock);
	zd_mmu_notifier_invalidate_range_end(&range);
	return 0;
}

/*
 * do_huge_pmd_wp_page(): a write or unshare fault on a read-only PMD leaf
 * of an anonymous THP. Reuse it in place when it is exclusive, or when
 * nobody else holds it any more (refcount 1: a fork child has exited),
 * which makes it exclusive again; else split and retry at PTE level.
 */
zd_vm_fault_t _zd_do_huge_pmd_wp_page(struct zd_vm_fault *vmf, zd_pte_t e)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_spinlock *ptl = _zd_huge_lockptr(vma->vm_mm);
	struct zd_page *page = zd_vm_normal_page(vma, vmf->address, e);
	struct zd_folio *folio = page ? zd_page_folio(page) : NULL;

	if (_zd_is_huge_zero_pmd(vma->vm_mm, e)) {
		zd_vm_fault_t ret = do_huge_zero_wp_pmd(vmf, e);

		if (!(ret & ZD_VM_FAULT_FALLBACK))
			return ret;
		goto fallback;	/* no THP: split to small zero pages */
	}
	if (!folio || !zd_folio_test_anon(folio))
		goto fallback;
	zd_spin_lock(ptl);
	if (_zd_read_entry(vmf->pmd) != e) {
		zd_spin_unlock(ptl);
		return 0;
	}
	/* Early check when only holding the PT lock. */
	if (zd_page_test_flag(page, ZD_PG_anon_exclusive))
		goto reuse;
	if (!zd_folio_trylock(folio)) {
		/* The mapping keeps it alive while we sleep for its lock without the PTL. */
		zd_folio_get(folio);
		zd_spin_unlock(ptl);
		zd_folio_lock(folio);
		zd_spin_lock(ptl);
		if (_zd_read_entry(vmf->pmd) != e) {
			zd_spin_unlock(ptl);
			zd_folio_unlock(folio);
			zd_folio_put(folio);
			return 0;
		}
		zd_folio_put(folio);
	}
	if (zd_page_test_flag(page, ZD_PG_anon_exclusive)) {
		zd_folio_unlock(folio);
		goto reuse;
	}
	/* Only the PMD's own reference: nobody else can see it (no swap cache here). */
	if (zd_folio_ref_count(folio) != 1) {
		zd_folio_unlock(folio);
		zd_spin_unlock(ptl);
		goto fallback;
	}
	/*
	 * folio_move_anon_rmap() has nothing to move (one anon_vma per fork
	 * tree). The model keeps every page's flag in step with the head's.
	 */
	for (unsigned long i = 0; i < zd_folio_nr_pages(folio); i++)
		zd_page_set_flag(zd_folio_page(folio, i), ZD_PG_anon_exclusive);
	zd_folio_unlock(folio);
reuse:
	if (!(vmf->flags & ZD_FAULT_FLAG_UNSHARE)) {
		zd_pte_t n = zd_pte_mkyoung(zd_pte_mkdirty(e));

		/* maybe_pmd_mkwrite(): a FOLL_FORCE write to a read-only VMA stays read-only. */
		if (vma->vm_flags & ZD_VM_WRITE)
			n = zd_pte_mkwrite(n);
		_zd_set_entry(vmf->pmd, n);
	}
	zd_spin_unlock(ptl);
	return 0;
fallback:
	_zd_split_huge_pmd(vma, vmf->pmd, vmf->address);
	return ZD_VM_FAULT_FALLBACK;
}

/* ---- insertion helpers for drivers: PMD and PUD leaves ---- */

/*
 * The PMD or PUD slot of @addr, allocated if need be, returned with
 * page_table_lock held and its entry read into @e; NULL (nothing held)
 * when the table above it cannot be allocated.
 */
static _Atomic zd_pte_t *huge_slot_lock(struct zd_mm *mm, unsigned long addr,
					enum zd_pt_level lvl, zd_pte_t *e)
{
	_Atomic zd_pte_t *slot = _zd_pxx_alloc(mm, addr, lvl);

	if (!slot)
		return NULL;
	zd_spin_lock(&mm->page_table_lock);
	*e = _zd_read_entry(slot);
	return slot;
}

static zd_vm_fault_t insert_folio_huge(struct zd_vm_fault *vmf, struct zd_folio *folio, bool write,
				       enum zd_pt_level lvl)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	unsigned int order = lvl == ZD_LVL_PMD ? ZD_PMD_ORDER : ZD_PUD_ORDER;
	unsigned long size = lvl == ZD_LVL_PMD ? ZD_PMD_SIZE : ZD_PUD_SIZE;
	unsigned long pfn = zd_folio_pfn(folio);
	_Atomic zd_pte_t *slot;
	zd_pte_t e, bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG | ZD_PTE_HUGE;

	if (zd_folio_order(folio) != order || !_zd_thp_vma_suitable(vma, vmf->address, size) ||
	    zd_folio_ref_count(folio) < 1)
		return ZD_VM_FAULT_SIGBUS;
	if (write)
		bits |= ZD_PTE_WRITE | ZD_PTE_DIRTY;
	else if (_zd_vma_page_prot_write(vma))
		bits |= ZD_PTE_WRITE;
	slot = huge_slot_lock(mm, vmf->address, lvl, &e);
	if (!slot)
		return ZD_VM_FAULT_FALLBACK;
	if (zd_pte_none(e)) {
		/* A refcounted folio: never a special leaf (B10). */
		zd_folio_get(folio);
		_zd_folio_add_rmap(folio, &folio->page, lvl);
		_zd_add_mm_counter(mm, _zd_mm_counter(vma, folio), 1l << order);
		_zd_set_entry(slot, zd_pfn_pte(pfn, bits));
	} else if (zd_pte_huge(e) && write && zd_pte_pfn(e) == pfn) {
		_zd_set_entry(slot, e | ZD_PTE_YOUNG | ZD_PTE_DIRTY | ZD_PTE_WRITE);
	} else if (!zd_pte_huge(e)) {
		zd_spin_unlock(&mm->page_table_lock);
		return ZD_VM_FAULT_FALLBACK;	/* a table is there already */
	}
	zd_spin_unlock(&mm->page_table_lock);
	return ZD_VM_FAULT_NOPAGE;
}

zd_vm_fault_t zd_vmf_insert_folio_pmd(struct zd_vm_fault *vmf, struct zd_folio *folio, bool write)
{
	return insert_folio_huge(vmf, folio, write, ZD_LVL_PMD);
}

zd_vm_fault_t zd_vmf_insert_folio_pud(struct zd_vm_fault *vmf, struct zd_folio *folio, bool write)
{
	return insert_folio_huge(vmf, folio, write, ZD_LVL_PUD);
}

/* insert_pfn_pmd() / insert_pfn_pud(). */
static zd_vm_fault_t insert_pfn_huge(struct zd_vm_fault *vmf, unsigned long pfn,
				     unsigned long pfn_flags, bool write, enum zd_pt_level lvl)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	unsigned long size = lvl == ZD_LVL_PMD ? ZD_PMD_SIZE : ZD_PUD_SIZE;
	bool devmap = _zd_pfn_devmap(pfn_flags);
	_Atomic zd_pte_t *slot;
	zd_pte_t e, bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG | ZD_PTE_HUGE;

	/* Linux BUG()s on the VMA kind; the model refuses. */
	if ((!devmap && !(vma->vm_flags & (ZD_VM_PFNMAP | ZD_VM_MIXEDMAP))) ||
	    !_zd_thp_vma_suitable(vma, vmf->address, size) || (pfn & ((size >> ZD_PAGE_SHIFT) - 1)) ||
	    !zd_pfn_to_page(mm->sys, pfn))
		return ZD_VM_FAULT_SIGBUS;
	bits |= devmap ? ZD_PTE_DEVMAP : ZD_PTE_SPECIAL;
	/* A write fault's entry is dirty; writable only as the VMA allows (maybe_pmd_mkwrite). */
	if (write)
		bits |= ZD_PTE_DIRTY | (vma->vm_flags & ZD_VM_WRITE ? ZD_PTE_WRITE : 0);
	else if (_zd_vma_page_prot_write(vma))
		bits |= ZD_PTE_WRITE;
	slot = huge_slot_lock(mm, vmf->address, lvl, &e);
	if (!slot)
		return ZD_VM_FAULT_FALLBACK;
	if (zd_pte_none(e)) {
		_zd_set_entry(slot, zd_pfn_pte(pfn, bits));
	} else if (zd_pte_huge(e)) {
		if (write && zd_pte_pfn(e) == pfn) {
			e |= ZD_PTE_YOUNG | ZD_PTE_DIRTY;
			if (vma->vm_flags & ZD_VM_WRITE)
				e |= ZD_PTE_WRITE;
			_zd_set_entry(slot, e);
		}
	} else {
		zd_spin_unlock(&mm->page_table_lock);
		return ZD_VM_FAULT_FALLBACK;	/* a table is there already */
	}
	zd_spin_unlock(&mm->page_table_lock);
	return ZD_VM_FAULT_NOPAGE;
}

zd_vm_fault_t zd_vmf_insert_pfn_pmd(struct zd_vm_fault *vmf, unsigned long pfn,
				    unsigned long pfn_flags, bool write)
{
	return insert_pfn_huge(vmf, pfn, pfn_flags, write, ZD_LVL_PMD);
}

zd_vm_fault_t zd_vmf_insert_pfn_pud(struct zd_vm_fault *vmf, unsigned long pfn,
				    unsigned long pfn_flags, bool write)
{
	return insert_pfn_huge(vmf, pfn, pfn_flags, write, ZD_LVL_PUD);
}

/* ---- splitting a PMD or PUD leaf ---- */

/*
 * A huge leaf of a file (device-DAX, fs-dax) or pfn-map VMA that a split
 * meets is removed, not split: what it held goes (one rmap removal, one
 * put) and the next access refaults (__split_huge_pmd_locked and
 * __split_huge_pud_locked for a non-anonymous VMA). A special leaf holds
 * nothing. Context: page_table_lock held.
 */
static void remove_huge_leaf_locked(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *slot,
				    unsigned long haddr, enum zd_pt_level lvl)
{
	struct zd_mm *mm = vma->vm_mm;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_page *head;
	struct zd_folio *folio;

	_zd_set_entry(slot, 0);
	head = zd_vm_normal_page(vma, haddr, e);
	if (!head)
		return;
	folio = zd_page_folio(head);
	if (zd_pte_dirty(e) && !zd_folio_test_flag(folio, ZD_PG_dirty))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	if (zd_pte_young(e) && !zd_folio_test_flag(folio, ZD_PG_referenced))
		zd_page_set_flag(&folio->page, ZD_PG_referenced);
	_zd_folio_remove_rmap(folio, head, lvl);
	_zd_add_mm_counter(mm, _zd_mm_counter(vma, folio), -(long)zd_folio_nr_pages(folio));
	zd_folio_put(folio);
}

bool _zd_pmd_has_deposit(struct zd_vm_area_struct *vma, unsigned long haddr, zd_pte_t e)
{
	struct zd_page *head;

	if (!zd_pte_huge(e) || !(e & ZD_PTE_PRESENT))
		return false;
	if (_zd_is_huge_zero_pmd(vma->vm_mm, e))
		return true;
	head = zd_vm_normal_page(vma, haddr, e);
	return head && zd_folio_test_anon(zd_page_folio(head));
}

static void split_huge_pmd_locked(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pmd,
				  unsigned long haddr);

/*
 * @split (which takes page_table_lock) on the PMD or PUD leaf of @addr,
 * under a CLEAR invalidation of the leaf's range.
 */
static void split_huge_leaf(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *slot,
			    unsigned long addr, unsigned long size,
			    void (*split)(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *slot,
					  unsigned long haddr))
{
	unsigned long haddr = addr & ~(size - 1);
	struct zd_mmu_notifier_range range;

	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, vma->vm_mm, haddr, haddr + size);
	zd_mmu_notifier_invalidate_range_start(&range);
	split(vma, slot, haddr);
	zd_mmu_notifier_invalidate_range_end(&range);
}

/*
 * __split_huge_pmd(): an anonymous PMD leaf (an order-9 folio) becomes
 * its deposited PTE table, mapping each page with the same permissions;
 * its entire mapping becomes 512 page mappings. The huge zero folio's
 * leaf becomes 512 PTEs of the small zero page. Any other VMA's leaf is
 * removed. Nothing is allocated, so nothing can fail. A CLEAR
 * invalidation covers the PMD's range.
 * Context: mmap_lock held, no spinlock (the notifiers may sleep).
 */
void _zd_split_huge_pmd(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pmd, unsigned long addr)
{
	split_huge_leaf(vma, pmd, addr, ZD_PMD_SIZE, split_huge_pmd_locked);
}

/* The split under page_table_lock, which it takes. */
static void split_huge_pmd_locked(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pmd,
				  unsigned long haddr)
{
	struct zd_mm *mm = vma->vm_mm;
	struct zd_pgtable *pt;
	zd_pte_t e, bits;
	struct zd_folio *folio = NULL;

	zd_spin_lock(&mm->page_table_lock);
	e = _zd_read_entry(pmd);
	if (!zd_pte_huge(e)) {		/* somebody split or zapped it meanwhile */
		zd_spin_unlock(&mm->page_table_lock);
		return;
	}
	if (!_zd_pmd_has_deposit(vma, haddr, e)) {
		remove_huge_leaf_locked(vma, pmd, haddr, ZD_LVL_PMD);
		zd_spin_unlock(&mm->page_table_lock);
		return;
	}
	pt = _zd_pgtable_trans_huge_withdraw(mm);
	if (_zd_is_huge_zero_pmd(mm, e)) {
		/*
		 * __split_huge_zero_page_pmd(): the small zero page in every
		 * PTE, built from vm_page_prot (not the PMD's bits), special.
		 */
		bits = _zd_vma_page_prot_ro(vma) | ZD_PTE_SPECIAL;
		for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++)
			zd_atomic_init(&pt->ent[i], zd_pfn_pte(_zd_zero_pfn(mm), bits));
		_zd_set_entry(pmd, (zd_pte_t)(uintptr_t)pt | ZD_PTE_PRESENT);
		zd_spin_unlock(&mm->page_table_lock);
		return;
	}
	bits = e & (ZD_PTE_PRESENT | ZD_PTE_PROTNONE | ZD_PTE_WRITE | ZD_PTE_DIRTY |
		    ZD_PTE_YOUNG | ZD_PTE_SPECIAL);
	if (!zd_pte_special(e)) {
		struct zd_page *head = zd_vm_normal_page(vma, haddr, e);

		folio = head ? zd_page_folio(head) : NULL;
	}
	for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++) {
		zd_atomic_init(&pt->ent[i], zd_pfn_pte(zd_pte_pfn(e) + i, bits));
		if (folio)
			_zd_folio_add_rmap(folio, zd_folio_page(folio, i), ZD_LVL_PTE);
	}
	if (folio) {
		_zd_folio_remove_rmap(folio, &folio->page, ZD_LVL_PMD);
		/* The PMD's one reference becomes one per PTE. */
		zd_folio_ref_add(folio, ZD_PTRS_PER_TABLE - 1);
	}
	_zd_set_entry(pmd, (zd_pte_t)(uintptr_t)pt | ZD_PTE_PRESENT);
	zd_spin_unlock(&mm->page_table_lock);
}

/*
 * __split_huge_pud(): a PUD leaf (device DAX; there are no anonymous ones)
 * is removed, under a CLEAR invalidation of the PUD's range.
 * Context: mmap_lock held, no spinlock.
 */
/* The PUD leaf's removal under page_table_lock, which it takes. */
static void split_huge_pud_locked(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pud,
				  unsigned long haddr)
{
	struct zd_mm *mm = vma->vm_mm;

	zd_spin_lock(&mm->page_table_lock);
	if (zd_pte_huge(_zd_read_entry(pud)))
		remove_huge_leaf_locked(vma, pud, haddr, ZD_LVL_PUD);
	zd_spin_unlock(&mm->page_table_lock);
}

void _zd_split_huge_pud(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pud, unsigned long addr)
{
	split_huge_leaf(vma, pud, addr, ZD_PUD_SIZE, split_huge_pud_locked);
}

/* ---- split_huge_pages (debugfs) ---- */

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
		unsigned long cur = addr;
		struct zd_folio_walk fw;
		struct zd_folio *folio;

		if (!vma)
			break;
		if (vma_not_suitable_for_thp_split(vma)) {
			addr = vma->vm_end;
			continue;
		}
		addr += ZD_PAGE_SIZE;
		folio = zd_folio_walk_start(&fw, vma, cur, 0);
		if (!folio)
			continue;
		/*
		 * is_transparent_hugepage(): a large anonymous RAM folio, never
		 * a device one; can_split_folio(): no references beyond the
		 * mappings. Mapped by a PMD or already by PTEs, it is split
		 * into small folios (split_folio_to_order), which the
		 * addresses after this one then find.
		 */
		if (zd_folio_is_zone_device(folio) || !zd_folio_test_large(folio) ||
		    !zd_folio_test_anon(folio) || zd_folio_maybe_dma_pinned(folio) ||
		    zd_folio_ref_count(folio) != zd_folio_mapcount(folio) ||
		    !zd_folio_trylock(folio)) {
			zd_folio_walk_end(&fw);
			continue;
		}
		zd_folio_get(folio);
		zd_folio_walk_end(&fw);
		if (!_zd_split_folio(folio, 1, false))
			split++;
		zd_folio_unlock(folio);
		zd_folio_put(folio);
	}
	zd_mmap_read_unlock(mm);
	return split;
}

/*
 * split_folio() of an anonymous large folio into small folios. With
 * @unmapped false the folio is still mapped (by PTEs, or a PMD leaf that
 * is split first): every mapping becomes a migration entry
 * (unmap_folio), the split is refused unless only @expected references
 * are left (can_split_folio), and afterwards each new folio is mapped
 * again where its page was (remap_page); the new folios but the first
 * are unlocked and their split reference dropped, so an unmapped page is
 * freed. With @unmapped true the folio is already replaced by migration
 * entries (migrate_vma): nothing is remapped, and each new folio stays
 * locked with one reference, as the first keeps the caller's.
 *
 * Where the model differs: there is no refcount freeze (a try-get racing
 * with the split lands on the first folio); LRU state is rebuilt as the
 * new folios are put back (lru_add_split_folio); a device folio's driver
 * gets no split callback, each new folio keeping the driver data of the
 * old head. Context: mmap_lock held if @unmapped is false; @folio locked.
 * Returns 0, or -EBUSY (not anonymous) / -EAGAIN (pinned or other
 * references, or still mapped), with nothing changed.
 */
int _zd_split_folio(struct zd_folio *folio, int expected, bool unmapped)
{
	unsigned long nr = zd_folio_nr_pages(folio);
	struct zd_page *head = &folio->page;
	bool device = zd_folio_is_zone_device(folio), was_lru;
	unsigned long keep;

	if (nr == 1)
		return 0;
	if (!zd_folio_test_anon(folio))
		return -EBUSY;
	if (zd_folio_maybe_dma_pinned(folio))
		return -EAGAIN;
	if (!unmapped && zd_folio_mapcount(folio))
		zd_try_to_migrate(folio);
	if (zd_folio_mapcount(folio) || zd_folio_ref_count(folio) != expected) {
		if (!unmapped)
			zd_remove_migration_ptes(folio, folio);
		return -EAGAIN;
	}
	was_lru = !device && zd_folio_isolate_lru(folio);
	if (was_lru)
		zd_folio_put(folio);	/* the split holds the folio off the LRU */
	/* Flags a new folio inherits from the head (__split_folio_to_order). */
	keep = ZD_PG_BIT(ZD_PG_locked) | ZD_PG_BIT(ZD_PG_uptodate) | ZD_PG_BIT(ZD_PG_dirty) |
	       ZD_PG_BIT(ZD_PG_referenced) | ZD_PG_BIT(ZD_PG_swapbacked) |
	       ZD_PG_BIT(ZD_PG_active) | ZD_PG_BIT(ZD_PG_unevictable) |
	       ZD_PG_BIT(ZD_PG_zone_device) | ZD_PG_BIT(ZD_PG_reserved);
	for (unsigned long i = 1; i < nr; i++) {
		struct zd_page *t = head + i;
		unsigned long f = zd_atomic_load_relaxed(&head->flags) & keep;
		_Atomic int *shadow;

		f |= zd_atomic_load_relaxed(&t->flags) & ZD_PG_BIT(ZD_PG_anon_exclusive);
		zd_atomic_store_relaxed(&t->flags, f);
		if (device) {
			t->pgmap = head->pgmap;
			t->zone_device_data = head->zone_device_data;
		} else {
			ZD_LIST_SET(t->lru.next, (struct zd_list_head *)NULL);
			ZD_LIST_SET(t->lru.prev, (struct zd_list_head *)NULL);
		}
		t->mapping = head->mapping;
		t->index = head->index + i;
		zd_atomic_store_relaxed(&t->_entire_mapcount, -1);
		zd_atomic_store_relaxed(&t->_pincount, 0);
		shadow = _zd_shadow_slot(t);
		if (shadow)
			zd_atomic_store_relaxed(shadow, 1);
		/* Release: the page's new state is seen by whoever gets a reference. */
		zd_atomic_store_release(&t->_refcount, 1);
	}
	zd_atomic_fetch_and_relaxed(&head->flags, ~(ZD_PG_BIT(ZD_PG_head) |
						     ZD_PG_BIT(ZD_PG_large_rmappable) |
						     (0xfful << ZD_PG_ORDER_SHIFT)));
	zd_atomic_store_relaxed(&head->_entire_mapcount, -1);
	for (unsigned long i = 0; i < nr; i++) {
		struct zd_folio *f = zd_page_folio(head + i);

		if (!unmapped)
			zd_remove_migration_ptes(f, f);
		if (!device && !unmapped && (was_lru || i))
			zd_folio_add_lru(f);
		if (i && !unmapped) {
			zd_folio_unlock(f);
			zd_folio_put(f);
		}
	}
	return 0;
}
