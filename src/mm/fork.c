// SPDX-License-Identifier: MIT
/*
 * src/mm/fork.c - copying an address space.
 *
 * Models dup_mmap() of kernel/fork.c (mm/mmap.c in the newest kernels) and
 * copy_page_range() of mm/memory.c: vma_needs_copy (anonymous memory,
 * VM_PFNMAP and VM_MIXEDMAP mappings; other file mappings refault),
 * copy_present_ptes (COW: both sides write-protected, the anon page
 * shared and no longer exclusive; an exclusive page that may be
 * DMA-pinned, in an mm that has pinned, is copied at once so the pin
 * keeps seeing the parent's page: copy_present_page),
 * copy_nonpresent_pte (device-private and migration entries made readable
 * on both sides, R6.4; a device-exclusive entry made present again first,
 * R6.5) and copy_huge_pmd (a maybe-pinned THP is split and its PTEs
 * copied; a non-anonymous VMA's PMD leaves refault). VM_DONTCOPY VMAs
 * are left out, VM_WIPEONFORK ones given to the child empty.
 */
#include <string.h>

#include "internal.h"

struct copy_ctx {
	struct zd_vm_area_struct *src, *dst;
	int err;
	unsigned long split_addr;	/* -EAGAIN: the PMD leaf to split */
};

static bool is_cow(const struct zd_vm_area_struct *vma)
{
	return (vma->vm_flags & (ZD_VM_SHARED | ZD_VM_MAYWRITE)) == ZD_VM_MAYWRITE;
}

/*
 * folio_needs_cow_for_dma(): may the parent have pinned this page? Only
 * asked in an mm that has pinned: 1024 plain references look the same.
 */
static bool needs_cow_for_dma(const struct zd_vm_area_struct *vma, const struct zd_folio *folio)
{
	return is_cow(vma) && (zd_atomic_load_acquire(&vma->vm_mm->flags) & ZD_MMF_HAS_PINNED) &&
	       zd_folio_maybe_dma_pinned(folio);
}

/* copy_present_page(): the child's own copy of a maybe-pinned anonymous page. */
static int copy_present_page(struct copy_ctx *c, _Atomic zd_pte_t *dst, unsigned long addr,
			     struct zd_page *page)
{
	struct zd_folio *n = zd_folio_alloc(c->dst->vm_mm->sys, 0, 0);
	void *from = zd_page_address(page), *to;
	zd_pte_t bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG | ZD_PTE_DIRTY;

	if (!n)
		return -ENOMEM;
	to = zd_page_address(&n->page);
	if (from && to)
		memcpy(to, from, ZD_PAGE_SIZE);
	/* From the VMA's protection, dirty, writable if the VMA is (maybe_mkwrite). */
	if (!(c->dst->vm_flags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC)))
		bits = ZD_PTE_PROTNONE | ZD_PTE_YOUNG | ZD_PTE_DIRTY;
	else if (c->dst->vm_flags & ZD_VM_WRITE)
		bits |= ZD_PTE_WRITE;
	_zd_folio_add_new_anon_rmap(n, c->dst, addr, ZD_LVL_PTE);
	_zd_add_mm_counter(c->dst->vm_mm, ZD_MM_ANONPAGES, 1);
	_zd_set_entry(dst, zd_pfn_pte(zd_folio_pfn(n), bits));
	_zd_folio_add_lru_vma(n, c->dst);
	return 0;
}

/*
 * copy_nonpresent_pte(): 0 when done, -ENOENT when the source entry is
 * present now (a restored device-exclusive entry) and must be copied as
 * such, -EBUSY when its folio lock could not be taken.
 */
static int copy_nonpresent_pte(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
			       unsigned long addr)
{
	struct zd_mm *smm = c->src->vm_mm, *dmm = c->dst->vm_mm;
	zd_pte_t e = _zd_read_entry(src);
	struct zd_folio *folio;
	struct zd_page *page;

	if (zd_is_device_private_entry(e)) {
		page = zd_pfn_to_page(smm->sys, zd_swp_offset(e));
		folio = zd_page_folio(page);
		zd_folio_get(folio);
		_zd_folio_add_rmap(folio, page, ZD_LVL_PTE);
		_zd_add_mm_counter(dmm, ZD_MM_ANONPAGES, 1);
		if (zd_is_writable_device_private_entry(e) && is_cow(c->src)) {
			e = zd_swp_entry(ZD_SWP_DEVICE_PRIVATE_READ, zd_swp_offset(e));
			_zd_set_entry(src, e);
		}
		/* Device-private pages cannot be pinned: always shared. */
		zd_page_clear_flag(page, ZD_PG_anon_exclusive);
	} else if (zd_is_migration_entry(e)) {
		folio = zd_pfn_folio(smm->sys, zd_swp_offset(e));
		if (folio)
			_zd_add_mm_counter(dmm, _zd_mm_counter(c->src, folio), 1);
		/* Shared from now on: neither side may keep it writable or exclusive. */
		if (zd_swp_type(e) != ZD_SWP_MIGRATION_READ && is_cow(c->src)) {
			e = zd_swp_entry(ZD_SWP_MIGRATION_READ, zd_swp_offset(e));
			_zd_set_entry(src, e);
		}
	} else if (zd_is_device_exclusive_entry(e)) {
		/* try_restore_exclusive_pte(): made exclusive only in COW mappings. */
		page = zd_pfn_to_page(smm->sys, zd_swp_offset(e));
		folio = zd_page_folio(page);
		if (!zd_folio_trylock(folio))
			return -EBUSY;
		_zd_restore_exclusive_pte(c->src, folio, page, addr, src);
		zd_folio_unlock(folio);
		return -ENOENT;
	}
	_zd_set_entry(dst, e);
	return 0;
}

/* copy_present_ptes() for one PTE. */
static int copy_present_pte(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
			    unsigned long addr)
{
	zd_pte_t e = _zd_read_entry(src);
	struct zd_page *page = zd_vm_normal_page(c->src, addr, e);
	struct zd_folio *folio;

	if (page) {		/* not the zero page nor a pfn map */
		folio = zd_page_folio(page);
		if (zd_folio_test_anon(folio)) {
			/* folio_try_dup_anon_rmap_pte(): a maybe-pinned exclusive page is copied. */
			if (zd_page_test_flag(page, ZD_PG_anon_exclusive) &&
			    needs_cow_for_dma(c->src, folio))
				return copy_present_page(c, dst, addr, page);
			zd_page_clear_flag(page, ZD_PG_anon_exclusive);
		}
		zd_folio_get(folio);
		_zd_folio_add_rmap(folio, page, ZD_LVL_PTE);
		_zd_add_mm_counter(c->dst->vm_mm, _zd_mm_counter(c->src, folio), 1);
	}
	/* __copy_present_ptes() */
	if (is_cow(c->src) && zd_pte_write(e)) {
		e = zd_pte_wrprotect(e);
		_zd_set_entry(src, e);
	}
	if (c->src->vm_flags & ZD_VM_SHARED)
		e = zd_pte_mkclean(e);
	_zd_set_entry(dst, zd_pte_mkold(e));
	return 0;
}

static int copy_pte(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
		    unsigned long addr)
{
	zd_pte_t e = _zd_read_entry(src);
	int err;

	if (zd_pte_none(e))
		return 0;
	if (!zd_pte_present(e)) {
		err = copy_nonpresent_pte(c, src, dst, addr);
		/* copy_pte_range() gives up on -EBUSY; fork reports -ENOMEM (dup_mm). */
		if (err != -ENOENT)
			return err;
	}
	return copy_present_pte(c, src, dst, addr);
}

/*
 * copy_huge_pmd(): share an anonymous THP read-only; one that may be
 * pinned is split instead and its PTEs copied (-EAGAIN: the caller
 * splits, outside the walk's lock, and walks again).
 */
static int copy_pmd_leaf(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
			 unsigned long addr)
{
	zd_pte_t e = _zd_read_entry(src);
	struct zd_page *page = zd_vm_normal_page(c->src, addr, e);
	struct zd_mm *dst_mm = c->dst->vm_mm;
	struct zd_pgtable *pgtable = NULL;
	struct zd_folio *folio;

	/* The child's anonymous leaf carries a deposit too (pte_alloc_one first). */
	if (_zd_pmd_has_deposit(c->src, addr, e)) {
		pgtable = _zd_pte_alloc_one(dst_mm);
		if (!pgtable)
			return -ENOMEM;
	}
	if (!page) {
		/* The huge zero folio: the child holds it too, and its leaf is old. */
		if (_zd_is_huge_zero_pmd(c->src->vm_mm, e)) {
			_zd_mm_get_huge_zero_folio(dst_mm);	/* allocated: cannot fail */
			e = zd_pte_wrprotect(e);
		} else if (!zd_pte_special(e) && !zd_vma_is_anonymous(c->dst)) {
			return 0;	/* a legacy devmap leaf: refilled on fault */
		}
		/* A special (pfn) leaf is copied as it is, old (set_pmd). */
		if (pgtable)
			_zd_pgtable_trans_huge_deposit(dst_mm, pgtable);
		_zd_set_entry(dst, zd_pte_mkold(e));
		return 0;
	}
	/* A file or device folio: the child refaults it. */
	if (!zd_vma_is_anonymous(c->dst))
		return 0;
	folio = zd_page_folio(page);
	if (zd_folio_test_anon(folio) && zd_page_test_flag(page, ZD_PG_anon_exclusive) &&
	    needs_cow_for_dma(c->src, folio)) {
		if (pgtable)
			_zd_pte_free(dst_mm, pgtable);
		c->split_addr = addr;
		return -EAGAIN;
	}
	if (pgtable)
		_zd_pgtable_trans_huge_deposit(dst_mm, pgtable);
	zd_folio_get(folio);
	_zd_folio_add_rmap(folio, page, ZD_LVL_PMD);
	_zd_add_mm_counter(c->dst->vm_mm, _zd_mm_counter(c->src, folio),
			   (long)zd_folio_nr_pages(folio));
	if (zd_folio_test_anon(folio)) {
		for (unsigned long i = 0; i < zd_folio_nr_pages(folio); i++)
			zd_page_clear_flag(zd_folio_page(folio, i), ZD_PG_anon_exclusive);
	}
	if (is_cow(c->src) && zd_pte_write(e)) {
		e = zd_pte_wrprotect(e);
		_zd_set_entry(src, e);
	}
	_zd_set_entry(dst, zd_pte_mkold(e));
	return 0;
}

/*
 * copy_huge_pud(): only pfn and mixed maps copy their page tables here
 * (no PUD leaf is anonymous); the leaf is write-protected in a COW mapping
 * and old in the child. A refcounted folio leaf (which Linux never copies:
 * its VMAs refault) takes its reference and mapcount like any mapping.
 */
static int copy_pud_leaf(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
			 unsigned long addr)
{
	zd_pte_t e = _zd_read_entry(src);
	struct zd_page *page;
	struct zd_folio *folio;

	if (!zd_pte_huge(e))
		return 0;
	page = zd_vm_normal_page(c->src, addr, e);
	if (page) {
		folio = zd_page_folio(page);
		zd_folio_get(folio);
		_zd_folio_add_rmap(folio, page, ZD_LVL_PUD);
		_zd_add_mm_counter(c->dst->vm_mm, _zd_mm_counter(c->src, folio),
				   (long)zd_folio_nr_pages(folio));
	}
	if (is_cow(c->src) && zd_pte_write(e)) {
		e = zd_pte_wrprotect(e);
		_zd_set_entry(src, e);
	}
	_zd_set_entry(dst, zd_pte_mkold(e));
	return 0;
}

static void copy_leaf(_Atomic zd_pte_t *src, unsigned long addr, enum zd_pt_level lvl, void *arg)
{
	struct copy_ctx *c = arg;
	_Atomic zd_pte_t *dst;

	if (c->err)
		return;
	dst = _zd_pxx_alloc(c->dst->vm_mm, addr, lvl);
	if (!dst) {
		c->err = -ENOMEM;
		return;
	}
	if (lvl == ZD_LVL_PTE) {
		/* The child's table is new and private to this fork: its lock is not needed. */
		c->err = copy_pte(c, src, dst, addr);
	} else if (lvl == ZD_LVL_PMD) {
		c->err = copy_pmd_leaf(c, src, dst, addr);
	} else {
		c->err = copy_pud_leaf(c, src, dst, addr);
	}
}

/* vma_needs_copy(): anonymous memory and pfn/mixed maps; other mappings refault. */
static bool needs_copy(const struct zd_vm_area_struct *vma)
{
	return vma->anon_vma || zd_vma_is_anonymous(vma) ||
	       (vma->vm_flags & (ZD_VM_PFNMAP | ZD_VM_MIXEDMAP));
}

/* copy_page_range(), splitting maybe-pinned THPs of the parent on the way. */
static int copy_page_range(struct zd_vm_area_struct *dst, struct zd_vm_area_struct *src)
{
	struct copy_ctx c = { .src = src, .dst = dst };
	unsigned long start = src->vm_start;
	struct zd_mmu_notifier_range range;
	_Atomic zd_pte_t *pmd;

	/* A COW mapping's writable entries are write-protected in the parent. */
	if (is_cow(src)) {
		zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_PROTECTION_PAGE, 0, src->vm_mm,
					   src->vm_start, src->vm_end);
		zd_mmu_notifier_invalidate_range_start(&range);
	}
	for (;;) {
		c.err = 0;
		_zd_walk_page_range(src->vm_mm, start, src->vm_end, copy_leaf, &c);
		if (c.err != -EAGAIN)
			break;
		pmd = _zd_pxx_offset(src->vm_mm, c.split_addr, ZD_LVL_PMD);
		if (!pmd) {
			c.err = -ENOMEM;
			break;
		}
		_zd_split_huge_pmd(src, pmd, c.split_addr);
		if (zd_pte_huge(_zd_read_entry(pmd))) {
			c.err = -ENOMEM;
			break;
		}
		if (c.split_addr > start)
			start = c.split_addr;
	}
	if (is_cow(src))
		zd_mmu_notifier_invalidate_range_end(&range);
	return c.err;
}

void _zd_mm_unmap_all(struct zd_mm *mm);

int zd_fork(struct zd_mm *parent, struct zd_mm **out)
{
	struct zd_mm *child;
	int err = zd_mm_create(parent->sys, &child);

	if (err)
		return err;
	zd_mmap_write_lock(parent);
	/*
	 * raw_write_seqcount_begin(&mm->write_protect_seq), then a full
	 * barrier: pairs with GUP-fast's barrier after its pins (either we
	 * see the pin and copy the page, or it sees the count and unpins).
	 */
	zd_atomic_fetch_add_acq_rel(&parent->write_protect_seq, 1u);
	zd_smp_mb();
	for (size_t i = 0; i < parent->nr_vmas && !err; i++) {
		struct zd_vm_area_struct *src = parent->vmas[i], *dst;

		if (src->vm_flags & ZD_VM_DONTCOPY)
			continue;
		dst = _zd_vma_copy(src, child, src->vm_start, src->vm_end, src->vm_pgoff);
		if (!dst) {
			err = -ENOMEM;
			break;
		}
		dst->vm_flags &= ~ZD_VM_LOCKED;		/* mlock is not inherited */
		if (dst->vm_flags & ZD_VM_WIPEONFORK) {
			/* A clean slate: nothing copied, no anon_vma until the first fault. */
			struct zd_anon_vma *av = dst->anon_vma;

			if (av) {
				_zd_vma_unlink_rmap(dst);	/* anonymous: no file to unlink */
				dst->anon_vma = NULL;
				_zd_anon_vma_put(av);
			}
			continue;
		}
		if (needs_copy(src))
			err = copy_page_range(dst, src);
	}
	zd_atomic_fetch_add_acq_rel(&parent->write_protect_seq, 1u);	/* even again */
	zd_mmap_write_unlock(parent);
	if (err) {
		zd_mm_destroy(child);
		return -ENOMEM;		/* dup_mm() failed, whatever the reason */
	}
	*out = child;
	return 0;
}
