// SPDX-License-Identifier: MIT
/*
 * src/mm/memory.c - the fault handler and the page-insertion helpers.
 *
 * Models mm/memory.c (handle_mm_fault, handle_pte_fault,
 * do_anonymous_page, do_fault and its read/cow/shared variants,
 * do_wp_page with wp_can_reuse_anon_folio and wp_page_copy, the
 * device-private branch of do_swap_page, remove_device_exclusive_entry
 * with restore_exclusive_pte, vm_normal_page,
 * vmf_insert_page_mkwrite, vmf_insert_pfn, and 6.14's vmf_insert_mixed).
 * The PMD and PUD levels of a fault (do_huge_pmd_anonymous_page,
 * do_huge_pmd_wp_page) and the PMD/PUD insert helpers are in
 * huge_memory.c, as in the kernel. No TLB, swap or NUMA placement.
 */
#include <string.h>

#include "internal.h"

unsigned long _zd_zero_pfn(struct zd_mm *mm)
{
	return zd_folio_pfn(zd_zero_folio(mm->sys));
}

int _zd_fault_errno(zd_vm_fault_t ret)
{
	if (ret & ZD_VM_FAULT_OOM)
		return -ENOMEM;
	if (ret & (ZD_VM_FAULT_SIGBUS | ZD_VM_FAULT_HWPOISON))
		return -EIO;
	if (ret & ZD_VM_FAULT_SIGSEGV)
		return -EFAULT;
	return 0;
}

bool _zd_vma_access_ok(const struct zd_vm_area_struct *vma, bool write)
{
	if (write)
		return vma->vm_flags & ZD_VM_WRITE;
	return vma->vm_flags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC);
}

struct zd_page *zd_vm_normal_page(struct zd_vm_area_struct *vma, unsigned long addr, zd_pte_t pte)
{
	struct zd_page *page;

	(void)addr;
	/* A devmap entry has a page but holds no reference for it (L6). */
	if (!zd_pte_present(pte) || zd_pte_special(pte) || zd_pte_devmap(pte))
		return NULL;
	page = zd_pfn_to_page(vma->vm_mm->sys, zd_pte_pfn(pte));
	if (!page)
		_zd_report_page(vma->vm_mm->sys, ZD_MISUSE_BAD_STATE, "R5.1", NULL,
				"bad page map: pfn %#lx has no memmap", zd_pte_pfn(pte));
	return page;
}

/* Permission bits of a new entry for @vma. */
static zd_pte_t vma_prot_bits(const struct zd_vm_area_struct *vma, bool write)
{
	if (!(vma->vm_flags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC)))
		return ZD_PTE_PROTNONE;
	return ZD_PTE_PRESENT | ZD_PTE_YOUNG |
	       (write && (vma->vm_flags & ZD_VM_WRITE) ? ZD_PTE_WRITE | ZD_PTE_DIRTY : 0);
}

/* Lock the PTE at vmf->pte and check it still reads vmf->orig_pte. */
static bool pte_lock_same(struct zd_vm_fault *vmf)
{
	vmf->ptl = _zd_pte_lockptr(vmf->pte);
	zd_spin_lock(vmf->ptl);
	if (_zd_read_entry(vmf->pte) == vmf->orig_pte)
		return true;
	zd_spin_unlock(vmf->ptl);
	return false;
}

/* ---- anonymous memory ---- */

static zd_vm_fault_t do_anonymous_page(struct zd_vm_fault *vmf)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	bool write = vmf->flags & ZD_FAULT_FLAG_WRITE;
	struct zd_folio *folio;
	zd_pte_t entry;

	if (_zd_anon_vma_prepare(vma))
		return ZD_VM_FAULT_OOM;
	if (!write) {
		/* The shared zero page: special, no reference, no mapcount. */
		entry = zd_pfn_pte(_zd_zero_pfn(mm), ZD_PTE_PRESENT | ZD_PTE_SPECIAL | ZD_PTE_YOUNG);
		if (pte_lock_same(vmf)) {
			_zd_set_entry(vmf->pte, entry);
			zd_spin_unlock(vmf->ptl);
		}
		return 0;
	}
	folio = zd_folio_alloc(mm->sys, ZD_GFP_ZERO, 0);
	if (!folio)
		return ZD_VM_FAULT_OOM;
	entry = zd_pfn_pte(zd_folio_pfn(folio), vma_prot_bits(vma, true));
	if (!pte_lock_same(vmf)) {
		zd_folio_put(folio);
		return 0;
	}
	/*
	 * The allocation's reference becomes the mapping's. The folio joins
	 * the LRU before its entry is set, under the PTE lock, as in Linux:
	 * once the lock is dropped a racing zap (MADV_DONTNEED) may free it.
	 */
	_zd_folio_add_new_anon_rmap(folio, vma, vmf->address, ZD_LVL_PTE);
	_zd_folio_add_lru_vma(folio, vma);
	_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1);
	_zd_set_entry(vmf->pte, entry);
	zd_spin_unlock(vmf->ptl);
	return 0;
}

/* wp_can_reuse_anon_folio(): nobody else can see this page. */
static bool can_reuse_anon(struct zd_folio *folio, struct zd_page *page)
{
	if (zd_page_test_flag(page, ZD_PG_anon_exclusive))
		return true;
	if (zd_folio_test_large(folio))
		return false;
	return zd_folio_ref_count(folio) == 1 && zd_folio_mapcount(folio) == 1;
}

/*
 * wp_page_copy(): give this mapping a private copy of @old (or of the zero
 * page when @old is NULL); with UNSHARE the copy stays read-only. When
 * vmf->orig_pte maps @old, that mapping (its mapcount and reference) is
 * replaced; from do_cow_fault the entry is empty and the caller keeps
 * @old's reference.
 */
static zd_vm_fault_t wp_page_copy(struct zd_vm_fault *vmf, struct zd_page *old)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	bool unshare = vmf->flags & ZD_FAULT_FLAG_UNSHARE;
	bool replaces = old && zd_pte_present(vmf->orig_pte);
	struct zd_folio *folio, *old_folio = replaces ? zd_page_folio(old) : NULL;
	/* Replacing a present entry (not do_cow_fault's empty one): CLEAR the page. */
	bool notify = zd_pte_present(vmf->orig_pte);
	struct zd_mmu_notifier_range range;
	zd_pte_t entry;

	if (_zd_anon_vma_prepare(vma))
		return ZD_VM_FAULT_OOM;
	folio = zd_folio_alloc(mm->sys, old ? 0 : ZD_GFP_ZERO, 0);
	if (!folio)
		return ZD_VM_FAULT_OOM;
	if (old) {
		void *src = zd_page_address(old), *dst = zd_page_address(&folio->page);

		if (src && dst)
			memcpy(dst, src, ZD_PAGE_SIZE);
	}
	entry = zd_pfn_pte(zd_folio_pfn(folio), vma_prot_bits(vma, !unshare));
	if (notify) {
		zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, mm,
					   vmf->address & ~(ZD_PAGE_SIZE - 1),
					   (vmf->address & ~(ZD_PAGE_SIZE - 1)) + ZD_PAGE_SIZE);
		zd_mmu_notifier_invalidate_range_start(&range);
	}
	if (!pte_lock_same(vmf)) {
		if (notify)
			zd_mmu_notifier_invalidate_range_end(&range);
		zd_folio_put(folio);
		return 0;
	}
	_zd_folio_add_new_anon_rmap(folio, vma, vmf->address, ZD_LVL_PTE);
	_zd_folio_add_lru_vma(folio, vma);	/* before the entry: see do_anonymous_page */
	_zd_set_entry(vmf->pte, entry);
	if (old_folio) {
		_zd_folio_remove_rmap(old_folio, old, ZD_LVL_PTE);
		_zd_add_mm_counter(mm, _zd_mm_counter(vma, old_folio), -1);
	}
	_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1);
	zd_spin_unlock(vmf->ptl);
	if (notify)
		zd_mmu_notifier_invalidate_range_end(&range);
	if (old_folio)
		zd_folio_put(old_folio);	/* the old mapping's reference */
	return 0;
}

/*
 * do_page_mkwrite(): ->page_mkwrite, called with @folio unlocked and
 * referenced. Returns its bits with the folio locked (ZD_VM_FAULT_LOCKED
 * added), an error or NOPAGE bit (folio unlocked), or 0 when the folio
 * lost its mapping meanwhile: truncated, the caller retries the fault.
 * @had_mapping says whether it had one before: a page that never had a
 * ->mapping (a driver's page outside any page cache) would be taken for
 * truncated on every retry, and Linux refaults for ever; the model
 * reports the misuse and fails the fault with SIGBUS instead.
 */
static zd_vm_fault_t do_page_mkwrite(struct zd_vm_fault *vmf, struct zd_folio *folio,
				     bool had_mapping)
{
	zd_vm_fault_t ret = vmf->vma->vm_ops->page_mkwrite(vmf);

	if (ret & (ZD_VM_FAULT_ERROR | ZD_VM_FAULT_NOPAGE))
		return ret;
	if (!(ret & ZD_VM_FAULT_LOCKED)) {
		zd_folio_lock(folio);
		if (!folio->page.mapping) {
			zd_folio_unlock(folio);
			if (had_mapping)
				return 0;	/* truncated meanwhile: retry */
			_zd_report_page(vmf->vma->vm_mm->sys, ZD_MISUSE_BAD_STATE, "",
					&folio->page, "page_mkwrite on a page without ->mapping "
					"(%s): do_page_mkwrite takes it for truncated and the "
					"fault would be retried for ever",
					vmf->vma->vm_ops->name ? vmf->vma->vm_ops->name : "vm_ops");
			return ZD_VM_FAULT_SIGBUS;
		}
		ret |= ZD_VM_FAULT_LOCKED;
	}
	return ret;
}

/* Does @folio have a ->mapping now? Sampled under the folio lock. */
static bool folio_has_mapping(struct zd_folio *folio)
{
	bool ret;

	zd_folio_lock(folio);
	ret = folio->page.mapping != NULL;
	zd_folio_unlock(folio);
	return ret;
}

/* do_wp_page(): a write (or unshare) on a present read-only PTE. */
static zd_vm_fault_t do_wp_page(struct zd_vm_fault *vmf)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	bool unshare = vmf->flags & ZD_FAULT_FLAG_UNSHARE;
	struct zd_page *page = zd_vm_normal_page(vma, vmf->address, vmf->orig_pte);
	struct zd_folio *folio = page ? zd_page_folio(page) : NULL;

	if (vma->vm_flags & ZD_VM_SHARED) {
		if (unshare)
			return 0;
		if (page && vma->vm_ops && vma->vm_ops->page_mkwrite) {
			/* wp_page_shared(): a reference across the unlocked call. */
			zd_vm_fault_t ret;

			if (!zd_folio_try_get(folio))
				return 0;
			vmf->page = page;
			ret = do_page_mkwrite(vmf, folio, folio_has_mapping(folio));
			if (!ret || (ret & (ZD_VM_FAULT_ERROR | ZD_VM_FAULT_NOPAGE))) {
				zd_folio_put(folio);
				return ret & ZD_VM_FAULT_ERROR;
			}
			/* finish_mkwrite_fault(): only if the entry did not change. */
			if (pte_lock_same(vmf)) {
				_zd_set_entry(vmf->pte, zd_pte_mkyoung(zd_pte_mkdirty(
					zd_pte_mkwrite(vmf->orig_pte))));
				zd_spin_unlock(vmf->ptl);
			}
			zd_folio_unlock(folio);
			zd_folio_put(folio);
			return 0;
		} else if (!page && vma->vm_ops && vma->vm_ops->pfn_mkwrite) {
			zd_vm_fault_t ret = vma->vm_ops->pfn_mkwrite(vmf);

			if (ret & ZD_VM_FAULT_ERROR)
				return ret;
		}
		if (pte_lock_same(vmf)) {
			_zd_set_entry(vmf->pte, zd_pte_mkyoung(zd_pte_mkdirty(zd_pte_mkwrite(vmf->orig_pte))));
			zd_spin_unlock(vmf->ptl);
		}
		return 0;
	}
	if (folio && zd_folio_test_anon(folio) && can_reuse_anon(folio, page)) {
		/* wp_page_reuse(): nobody else maps it: write in place. */
		if (pte_lock_same(vmf)) {
			zd_page_set_flag(page, ZD_PG_anon_exclusive);
			if (!unshare)
				_zd_set_entry(vmf->pte, zd_pte_mkyoung(zd_pte_mkdirty(
					zd_pte_mkwrite(vmf->orig_pte))));
			zd_spin_unlock(vmf->ptl);
		}
		return 0;
	}
	/*
	 * Copy: a write, or an unshare for a long-term R/O pin of a page this
	 * COW mapping does not own (the zero page, a page-cache page).
	 */
	return wp_page_copy(vmf, page);
}

/* ---- file and driver mappings ---- */

/*
 * finish_fault(): map vmf->page; its reference becomes the mapping's.
 * false if the entry changed meanwhile (the caller keeps the reference).
 */
static bool finish_fault(struct zd_vm_fault *vmf, bool write)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_page *page = vmf->page;
	struct zd_folio *folio = zd_page_folio(page);

	if (!pte_lock_same(vmf))
		return false;
	_zd_folio_add_rmap(folio, page, ZD_LVL_PTE);
	_zd_add_mm_counter(vma->vm_mm, _zd_mm_counter(vma, folio), 1);
	_zd_set_entry(vmf->pte, zd_pfn_pte(zd_page_to_pfn(page), vma_prot_bits(vma, write)));
	zd_spin_unlock(vmf->ptl);
	return true;
}

/* Drop what ->fault handed us: the lock if it said LOCKED, then the reference. */
static void release_fault_page(struct zd_page *page, zd_vm_fault_t ret)
{
	struct zd_folio *folio = zd_page_folio(page);

	if (ret & ZD_VM_FAULT_LOCKED)
		zd_folio_unlock(folio);
	zd_folio_put(folio);
}

static zd_vm_fault_t do_fault(struct zd_vm_fault *vmf)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	bool write = vmf->flags & ZD_FAULT_FLAG_WRITE;
	struct zd_page *page;
	zd_vm_fault_t ret, mk;

	if (!vma->vm_ops || !vma->vm_ops->fault)
		return ZD_VM_FAULT_SIGBUS;
	vmf->page = NULL;
	ret = vma->vm_ops->fault(vmf);
	if (ret & (ZD_VM_FAULT_ERROR | ZD_VM_FAULT_NOPAGE | ZD_VM_FAULT_RETRY))
		return ret & ZD_VM_FAULT_NOPAGE ? 0 : ret;
	page = vmf->page;
	if (!page)
		return ZD_VM_FAULT_SIGBUS;
	if (write && !(vma->vm_flags & ZD_VM_SHARED)) {
		/* do_cow_fault(): a private copy; the file page is only read. */
		mk = wp_page_copy(vmf, page);
		release_fault_page(page, ret);
		return mk;
	}
	if (write && vma->vm_ops->page_mkwrite) {
		/* do_shared_fault(): page_mkwrite runs unlocked; the folio comes back locked. */
		struct zd_folio *folio = zd_page_folio(page);
		bool had_mapping;

		if (!(ret & ZD_VM_FAULT_LOCKED))
			zd_folio_lock(folio);
		had_mapping = folio->page.mapping != NULL;
		zd_folio_unlock(folio);
		mk = do_page_mkwrite(vmf, folio, had_mapping);
		if (!mk || (mk & (ZD_VM_FAULT_ERROR | ZD_VM_FAULT_NOPAGE))) {
			/* 0 or NOPAGE: truncated meanwhile; the access refaults. */
			zd_folio_put(folio);
			return mk & ZD_VM_FAULT_ERROR;
		}
		ret |= ZD_VM_FAULT_LOCKED;
	}
	if (finish_fault(vmf, write && (vma->vm_flags & ZD_VM_SHARED))) {
		if (ret & ZD_VM_FAULT_LOCKED)
			zd_folio_unlock(zd_page_folio(page));
	} else {
		release_fault_page(page, ret);	/* raced: somebody mapped it first */
	}
	return 0;
}

/* ---- non-present entries ---- */

static zd_vm_fault_t do_device_private(struct zd_vm_fault *vmf, struct zd_page *page)
{
	struct zd_folio *folio = zd_page_folio(page);
	struct zd_dev_pagemap *pgmap;
	zd_vm_fault_t ret;

	if (!pte_lock_same(vmf))
		return 0;
	if (!zd_folio_trylock(folio)) {
		/* Somebody migrates it: refault (bug B17 is about this choice). */
		zd_spin_unlock(vmf->ptl);
		return 0;
	}
	/* The PTL keeps the page mapped, so it cannot be freed under the get (B6). */
	zd_folio_get(folio);
	zd_spin_unlock(vmf->ptl);
	/*
	 * Only now, with the reference: before the PTL check the page may
	 * have been freed and handed out again (page_pgmap after get_page).
	 */
	pgmap = zd_folio_pgmap(folio);
	vmf->page = page;
	ret = pgmap && pgmap->ops && pgmap->ops->migrate_to_ram ?
	      pgmap->ops->migrate_to_ram(vmf) : ZD_VM_FAULT_SIGBUS;
	/*
	 * unlock_page(vmf->page), put_page(vmf->page): if migrate_vma split a
	 * large folio, the lock and the reference moved to the page's new
	 * folio (migrate_vma_split_folio).
	 */
	folio = zd_page_folio(page);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	return ret;
}

void _zd_restore_exclusive_pte(struct zd_vm_area_struct *vma, struct zd_folio *folio,
			       struct zd_page *page, unsigned long addr, _Atomic zd_pte_t *pte)
{
	/* Old: the device's accesses set no accessed bit. */
	zd_pte_t e = zd_pfn_pte(zd_page_to_pfn(page), vma_prot_bits(vma, false) & ~ZD_PTE_YOUNG);

	if ((vma->vm_flags & ZD_VM_WRITE) && _zd_can_change_pte_writable(vma, addr, e)) {
		if (zd_folio_test_flag(folio, ZD_PG_dirty))
			e = zd_pte_mkdirty(e);
		e = zd_pte_mkwrite(e);
	}
	/* The entry's reference and mapcount carry over to the PTE (R7.10). */
	_zd_set_entry(pte, e);
}

/* remove_device_exclusive_entry(): give the CPU its present PTE back. */
static zd_vm_fault_t do_device_exclusive(struct zd_vm_fault *vmf, struct zd_page *page)
{
	struct zd_folio *folio = zd_page_folio(page);
	unsigned long addr = vmf->address & ~(ZD_PAGE_SIZE - 1);
	struct zd_mmu_notifier_range range;

	/*
	 * No PTL is held while we sleep on the folio lock: hold a reference.
	 * A free folio means the entry has gone already; the access refaults.
	 */
	if (!zd_folio_try_get(folio))
		return 0;
	zd_folio_lock(folio);
	/* The device loses its exclusive access: CLEAR, no owner (semantics §7.5). */
	zd_mmu_notifier_range_init_owner(&range, ZD_MMU_NOTIFY_CLEAR, 0, vmf->vma->vm_mm,
					 addr, addr + ZD_PAGE_SIZE, NULL);
	zd_mmu_notifier_invalidate_range_start(&range);
	if (pte_lock_same(vmf)) {
		_zd_restore_exclusive_pte(vmf->vma, folio, page, vmf->address, vmf->pte);
		zd_spin_unlock(vmf->ptl);
	}
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	zd_mmu_notifier_invalidate_range_end(&range);
	return 0;
}

/*
 * migration_entry_wait(): sleep until the migrating thread unlocks the
 * folio, without a reference (5.19 on), which would fail the migration.
 */
static zd_vm_fault_t wait_migration(struct zd_vm_fault *vmf, struct zd_folio *folio)
{
	if (!pte_lock_same(vmf))
		return 0;
	_zd_migration_entry_wait_on_locked(folio, vmf->ptl);
	return 0;
}

static zd_vm_fault_t do_swap_entry(struct zd_vm_fault *vmf)
{
	zd_pte_t e = vmf->orig_pte;
	struct zd_page *page = zd_pfn_to_page(vmf->vma->vm_mm->sys, zd_swp_offset(e));

	if (!page)
		return ZD_VM_FAULT_SIGBUS;
	if (zd_is_device_private_entry(e))
		return do_device_private(vmf, page);
	if (zd_is_device_exclusive_entry(e))
		return do_device_exclusive(vmf, page);
	if (zd_is_migration_entry(e))
		return wait_migration(vmf, zd_page_folio(page));
	return ZD_VM_FAULT_SIGBUS;
}

/* ---- the PTE level ---- */

static zd_vm_fault_t handle_pte_fault(struct zd_vm_fault *vmf)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	bool write = vmf->flags & ZD_FAULT_FLAG_WRITE;
	zd_pte_t e;

	vmf->pte = _zd_pxx_alloc_below(vma->vm_mm, vmf->pmd, vmf->address, ZD_LVL_PTE);
	if (!vmf->pte)
		return zd_pte_huge(_zd_read_entry(vmf->pmd)) ? 0 : ZD_VM_FAULT_OOM;
	e = vmf->orig_pte = _zd_read_entry(vmf->pte);
	if (zd_pte_none(e))
		return zd_vma_is_anonymous(vma) ? do_anonymous_page(vmf) : do_fault(vmf);
	if (!zd_pte_present(e))
		return do_swap_entry(vmf);
	if (zd_pte_protnone(e)) {
		/* do_numa_page(): the VMA allows access; restore the entry. */
		if (pte_lock_same(vmf)) {
			_zd_set_entry(vmf->pte, (e & ~ZD_PTE_PROTNONE) | ZD_PTE_PRESENT);
			zd_spin_unlock(vmf->ptl);
		}
		return 0;
	}
	if ((write || (vmf->flags & ZD_FAULT_FLAG_UNSHARE)) && !zd_pte_write(e))
		return do_wp_page(vmf);
	if (pte_lock_same(vmf)) {
		e = zd_pte_mkyoung(e);
		if (write)
			e = zd_pte_mkdirty(e);
		_zd_set_entry(vmf->pte, e);
		zd_spin_unlock(vmf->ptl);
	}
	return 0;
}

/* ---- the fault entry point ---- */

zd_vm_fault_t zd_handle_mm_fault(struct zd_vm_area_struct *vma, unsigned long address,
				 unsigned int flags)
{
	struct zd_mm *mm = vma->vm_mm;
	bool write = flags & ZD_FAULT_FLAG_WRITE;
	bool thp = (vma->vm_flags & ZD_VM_HUGEPAGE) && !(vma->vm_flags & ZD_VM_NOHUGEPAGE);
	struct zd_vm_fault vmf = {
		.vma = vma,
		.address = address & ~(ZD_PAGE_SIZE - 1),
		.real_address = address,
		.flags = flags,
	};
	zd_vm_fault_t ret;
	zd_pte_t e;

	if (address < vma->vm_start || address >= vma->vm_end)
		return ZD_VM_FAULT_SIGSEGV;
	/*
	 * sanitize_fault_flags(): a write needs a VMA that may be written, and
	 * without VM_WRITE (FOLL_FORCE) a COW mapping, whose copy is mapped
	 * read-only. The permission check against the access (access_error)
	 * is the caller's: the CPU path makes it, GUP has check_vma_flags.
	 */
	if ((flags & ZD_FAULT_FLAG_UNSHARE) && write)
		return ZD_VM_FAULT_SIGSEGV;
	if (write && (!(vma->vm_flags & ZD_VM_MAYWRITE) ||
		      (!(vma->vm_flags & ZD_VM_WRITE) &&
		       (vma->vm_flags & (ZD_VM_SHARED | ZD_VM_MAYWRITE)) != ZD_VM_MAYWRITE)))
		return ZD_VM_FAULT_SIGSEGV;
	vmf.pgoff = _zd_linear_index(vma, vmf.address);

	vmf.pud = _zd_pxx_alloc(mm, vmf.address, ZD_LVL_PUD);
	if (!vmf.pud)
		return ZD_VM_FAULT_OOM;
	e = _zd_read_entry(vmf.pud);
	if (thp && vma->vm_ops && vma->vm_ops->huge_fault &&
	    (zd_pte_none(e) || (zd_pte_huge(e) && write && !zd_pte_write(e))) &&
	    _zd_thp_vma_suitable(vma, vmf.address, ZD_PUD_SIZE)) {
		ret = vma->vm_ops->huge_fault(&vmf, ZD_PUD_ORDER);
		if (!(ret & ZD_VM_FAULT_FALLBACK))
			return ret & ZD_VM_FAULT_NOPAGE ? 0 : ret;
	}
	if (zd_pte_huge(_zd_read_entry(vmf.pud)))
		return 0;	/* a PUD leaf, already as wanted */

	vmf.pmd = _zd_pxx_alloc_below(mm, vmf.pud, vmf.address, ZD_LVL_PMD);
	if (!vmf.pmd)
		return ZD_VM_FAULT_OOM;
	e = _zd_read_entry(vmf.pmd);
	if (zd_pte_none(e) && thp && _zd_thp_vma_suitable(vma, vmf.address, ZD_PMD_SIZE)) {
		if (vma->vm_ops && vma->vm_ops->huge_fault)
			ret = vma->vm_ops->huge_fault(&vmf, ZD_PMD_ORDER);
		else if (zd_vma_is_anonymous(vma))
			ret = _zd_do_huge_pmd_anonymous_page(&vmf);
		else
			ret = ZD_VM_FAULT_FALLBACK;
		if (!(ret & ZD_VM_FAULT_FALLBACK))
			return ret & ZD_VM_FAULT_NOPAGE ? 0 : ret;
	}
	e = _zd_read_entry(vmf.pmd);
	if (zd_pte_huge(e)) {
		if (!(write || (flags & ZD_FAULT_FLAG_UNSHARE)) || zd_pte_write(e))
			return 0;
		if (vma->vm_ops && vma->vm_ops->huge_fault) {
			ret = vma->vm_ops->huge_fault(&vmf, ZD_PMD_ORDER);
			return ret & ZD_VM_FAULT_NOPAGE ? 0 : ret;
		}
		ret = _zd_do_huge_pmd_wp_page(&vmf, e);
		if (!(ret & ZD_VM_FAULT_FALLBACK))
			return ret;
	}
	return handle_pte_fault(&vmf);
}

/* ---- insertion helpers for drivers ---- */

/*
 * Is vma->vm_page_prot writable? The insert helpers build entries from it,
 * as Linux does: a shared writable mapping is, unless it wants write
 * notification (vma_wants_writenotify: page_mkwrite or pfn_mkwrite, or a
 * file that writes back; DAX and shmem files do not). So a read fault in a
 * device-DAX mapping maps the page writable and a later write needs no
 * fault. The model computes it from vm_flags instead of keeping the field.
 */
static bool vm_page_prot_write(const struct zd_vm_area_struct *vma)
{
	const struct zd_address_space *as = vma->vm_file ? vma->vm_file->f_mapping : NULL;

	if ((vma->vm_flags & (ZD_VM_WRITE | ZD_VM_SHARED)) != (ZD_VM_WRITE | ZD_VM_SHARED))
		return false;
	if (vma->vm_ops && (vma->vm_ops->page_mkwrite || vma->vm_ops->pfn_mkwrite))
		return false;
	if ((vma->vm_flags & ZD_VM_PFNMAP) || !as)
		return true;
	return as->flags & (ZD_AS_DAX | ZD_AS_SHMEM);
}

zd_pte_t _zd_vma_page_prot_ro(const struct zd_vm_area_struct *vma)
{
	return vma_prot_bits(vma, false);
}

bool _zd_vma_page_prot_write(const struct zd_vm_area_struct *vma)
{
	return vm_page_prot_write(vma);
}

/*
 * insert_page_into_pte_locked() / insert_pfn(): one PTE for @pfn. With
 * @page the mapping takes a reference and a mapcount; without, the entry
 * is special and holds nothing. An entry already there is upgraded when
 * @write and it is the same pfn; a page mapped over another pfn is SIGBUS.
 */
static zd_vm_fault_t insert_pte(struct zd_vm_fault *vmf, unsigned long pfn, zd_pte_t bits,
				struct zd_page *page, bool write)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	struct zd_spinlock *ptl;
	_Atomic zd_pte_t *pte;
	zd_pte_t e;

	pte = _zd_pxx_alloc(mm, vmf->address, ZD_LVL_PTE);
	if (!pte)
		return ZD_VM_FAULT_OOM;
	ptl = _zd_pte_lockptr(pte);
	zd_spin_lock(ptl);
	e = _zd_read_entry(pte);
	if (!zd_pte_none(e)) {
		if (write && zd_pte_present(e) && zd_pte_pfn(e) == pfn)
			_zd_set_entry(pte, e | ZD_PTE_YOUNG | (bits & (ZD_PTE_WRITE | ZD_PTE_DIRTY)));
		zd_spin_unlock(ptl);
		return page && write && zd_pte_pfn(e) != pfn ? ZD_VM_FAULT_SIGBUS : ZD_VM_FAULT_NOPAGE;
	}
	if (page) {
		struct zd_folio *folio = zd_page_folio(page);

		zd_folio_get(folio);
		_zd_folio_add_rmap(folio, page, ZD_LVL_PTE);
		_zd_add_mm_counter(mm, _zd_mm_counter(vma, folio), 1);
	}
	_zd_set_entry(pte, zd_pfn_pte(pfn, bits));
	zd_spin_unlock(ptl);
	return ZD_VM_FAULT_NOPAGE;
}

zd_vm_fault_t zd_vmf_insert_page_mkwrite(struct zd_vm_fault *vmf, struct zd_page *page, bool write)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_folio *folio = zd_page_folio(page);
	unsigned long pfn = zd_page_to_pfn(page);
	zd_pte_t bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG;

	if (vmf->address < vma->vm_start || vmf->address >= vma->vm_end)
		return ZD_VM_FAULT_SIGBUS;
	if (write)
		bits |= ZD_PTE_WRITE | ZD_PTE_DIRTY;
	/* The zero page is mapped special, without a reference. */
	if (pfn == _zd_zero_pfn(vma->vm_mm))
		return insert_pte(vmf, pfn, bits | ZD_PTE_SPECIAL, NULL, write);
	if (vm_page_prot_write(vma))
		bits |= ZD_PTE_WRITE;
	if (zd_folio_ref_count(folio) < 1 || zd_folio_test_anon(folio))
		return ZD_VM_FAULT_SIGBUS;	/* validate_page_before_insert() */
	return insert_pte(vmf, pfn, bits, page, write);
}

zd_vm_fault_t zd_vmf_insert_pfn(struct zd_vm_fault *vmf, unsigned long pfn, bool write)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	zd_pte_t bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG | ZD_PTE_SPECIAL;

	if (!(vma->vm_flags & (ZD_VM_PFNMAP | ZD_VM_MIXEDMAP)) ||
	    vmf->address < vma->vm_start || vmf->address >= vma->vm_end ||
	    !zd_pfn_to_page(vma->vm_mm->sys, pfn))
		return ZD_VM_FAULT_SIGBUS;
	if (write && (vma->vm_flags & ZD_VM_WRITE))
		bits |= ZD_PTE_WRITE | ZD_PTE_DIRTY;
	else if (vm_page_prot_write(vma))
		bits |= ZD_PTE_WRITE;
	/* no reference, no mapcount (R12.16) */
	return insert_pte(vmf, pfn, bits, NULL, write);
}

/* ---- the legacy scheme's pfn inserts (6.14 and older) ---- */

zd_vm_fault_t zd_vmf_insert_mixed(struct zd_vm_fault *vmf, unsigned long pfn,
				  unsigned long pfn_flags)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	bool devmap = _zd_pfn_devmap(pfn_flags);
	zd_pte_t bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG;

	/* vm_mixed_ok() */
	if (!(vma->vm_flags & ZD_VM_MIXEDMAP) && !devmap && pfn != _zd_zero_pfn(vma->vm_mm))
		return ZD_VM_FAULT_SIGBUS;
	if (vmf->address < vma->vm_start || vmf->address >= vma->vm_end ||
	    !zd_pfn_to_page(vma->vm_mm->sys, pfn))
		return ZD_VM_FAULT_SIGBUS;
	if (vm_page_prot_write(vma) && pfn != _zd_zero_pfn(vma->vm_mm))
		bits |= ZD_PTE_WRITE;
	/* insert_pfn(): no reference, no mapcount, no RSS (L6, R12.16) */
	return insert_pte(vmf, pfn, bits | (devmap ? ZD_PTE_DEVMAP : ZD_PTE_SPECIAL), NULL, false);
}

