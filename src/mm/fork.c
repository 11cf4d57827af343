// SPDX-License-Identifier: MIT
/*
 * src/mm/fork.c - copying an address space.
 *
 * Models dup_mmap() of kernel/fork.c and copy_page_range() of
 * mm/memory.c: copy_present_pte (COW: both sides write-protected, the
 * anon page shared and no longer exclusive; a page that may be
 * DMA-pinned is copied at once so the pin keeps seeing the parent's page),
 * copy_nonpresent_pte (device-private entries made read-only on both
 * sides, R6.4; migration entries likewise) and copy_huge_pmd. Shared file
 * mappings without anonymous pages are not copied: the child refaults.
 */
#include <string.h>

#include "internal.h"

struct copy_ctx {
	struct zd_vm_area_struct *src, *dst;
	int err;
};

static bool is_cow(const struct zd_vm_area_struct *vma)
{
	return (vma->vm_flags & (ZD_VM_SHARED | ZD_VM_MAYWRITE)) == ZD_VM_MAYWRITE;
}

/* Give the child its own copy of a pinned anonymous page (copy_present_page). */
static int copy_pinned(struct copy_ctx *c, _Atomic zd_pte_t *dst, unsigned long addr,
		       struct zd_page *page, zd_pte_t e)
{
	struct zd_folio *n = zd_folio_alloc(c->dst->vm_mm->sys, 0, 0);
	void *from = zd_page_address(page), *to;

	if (!n)
		return -ENOMEM;
	to = zd_page_address(&n->page);
	if (from && to)
		memcpy(to, from, ZD_PAGE_SIZE);
	_zd_folio_add_new_anon_rmap(n, c->dst, addr, ZD_LVL_PTE);
	_zd_add_mm_counter(c->dst->vm_mm, ZD_MM_ANONPAGES, 1);
	_zd_set_entry(dst, zd_pfn_pte(zd_folio_pfn(n), e & ~ZD_PTE_PFN_MASK & ~ZD_PTE_HUGE));
	_zd_folio_add_lru_vma(n, c->dst);
	return 0;
}

static int copy_pte(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
		    unsigned long addr)
{
	struct zd_mm *smm = c->src->vm_mm, *dmm = c->dst->vm_mm;
	zd_pte_t e = _zd_read_entry(src);
	struct zd_page *page;
	struct zd_folio *folio;

	if (zd_pte_none(e))
		return 0;
	if (!zd_pte_present(e)) {
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
			zd_page_clear_flag(page, ZD_PG_anon_exclusive);
		} else if (zd_is_migration_entry(e)) {
			folio = zd_pfn_folio(smm->sys, zd_swp_offset(e));
			if (folio)
				_zd_add_mm_counter(dmm, _zd_mm_counter(c->src, folio), 1);
			if (zd_is_writable_migration_entry(e) && is_cow(c->src)) {
				e = zd_swp_entry(ZD_SWP_MIGRATION_READ, zd_swp_offset(e));
				_zd_set_entry(src, e);
			}
		} else if (zd_is_device_exclusive_entry(e)) {
			/* Not created before device-exclusive access exists (HMM). */
			return -EBUSY;
		}
		_zd_set_entry(dst, e);
		return 0;
	}
	page = zd_vm_normal_page(c->src, addr, e);
	if (!page) {			/* zero page, pfn maps */
		_zd_set_entry(dst, e);
		return 0;
	}
	folio = zd_page_folio(page);
	if (zd_folio_test_anon(folio) && zd_page_test_flag(page, ZD_PG_anon_exclusive) &&
	    zd_folio_maybe_dma_pinned(folio))
		return copy_pinned(c, dst, addr, page, e);
	zd_folio_get(folio);
	_zd_folio_add_rmap(folio, page, ZD_LVL_PTE);
	_zd_add_mm_counter(dmm, _zd_mm_counter(c->src, folio), 1);
	if (zd_folio_test_anon(folio))
		zd_page_clear_flag(page, ZD_PG_anon_exclusive);
	if (is_cow(c->src) && zd_pte_write(e)) {
		e = zd_pte_wrprotect(e);
		_zd_set_entry(src, e);
	}
	_zd_set_entry(dst, zd_pte_mkold(e));
	return 0;
}

/* copy_huge_pmd(): share an anonymous THP read-only, or copy it if pinned. */
static int copy_pmd_leaf(struct copy_ctx *c, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst,
			 unsigned long addr)
{
	zd_pte_t e = _zd_read_entry(src);
	struct zd_page *page = zd_vm_normal_page(c->src, addr, e);
	struct zd_folio *folio;

	if (!page) {
		/* The huge zero folio: the child holds it too, and its leaf is old. */
		if (_zd_is_huge_zero_pmd(c->src->vm_mm, e)) {
			_zd_mm_get_huge_zero_folio(c->dst->vm_mm);	/* allocated: cannot fail */
			e = zd_pte_mkold(zd_pte_wrprotect(e));
		}
		_zd_set_entry(dst, e);
		return 0;
	}
	folio = zd_page_folio(page);
	if (zd_folio_test_anon(folio) && zd_folio_maybe_dma_pinned(folio)) {
		/* Linux splits the PMD and copies each pinned page; copy the folio whole. */
		struct zd_folio *n = zd_folio_alloc(c->dst->vm_mm->sys, 0, ZD_PMD_ORDER);
		void *from = zd_page_address(page), *to;

		if (!n)
			return -ENOMEM;
		to = zd_page_address(&n->page);
		if (from && to)
			memcpy(to, from, ZD_PMD_SIZE);
		_zd_folio_add_new_anon_rmap(n, c->dst, addr, ZD_LVL_PMD);
		_zd_add_mm_counter(c->dst->vm_mm, ZD_MM_ANONPAGES, 1l << ZD_PMD_ORDER);
		_zd_set_entry(dst, zd_pfn_pte(zd_folio_pfn(n), e & ~ZD_PTE_PFN_MASK));
		_zd_folio_add_lru_vma(n, c->dst);
		return 0;
	}
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
	_zd_set_entry(dst, e);
	return 0;
}

static void copy_leaf(_Atomic zd_pte_t *src, unsigned long addr, enum zd_pt_level lvl, void *arg)
{
	struct copy_ctx *c = arg;
	_Atomic zd_pte_t *dst;

	if (c->err)
		return;
	dst = _zd_walk(c->dst->vm_mm, addr, lvl, true);
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
		c->err = -EOPNOTSUPP;	/* anonymous PUD leaves do not exist */
	}
}

/* vma_needs_copy(): shared file mappings refault instead. */
static bool needs_copy(const struct zd_vm_area_struct *vma)
{
	return vma->anon_vma || zd_vma_is_anonymous(vma) || (vma->vm_flags & ZD_VM_PFNMAP);
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
		struct copy_ctx c;

		if (src->vm_flags & ZD_VM_DONTCOPY)
			continue;
		dst = _zd_vma_copy(src, child, src->vm_start, src->vm_end, src->vm_pgoff);
		if (!dst) {
			err = -ENOMEM;
			break;
		}
		dst->vm_flags &= ~ZD_VM_LOCKED;		/* mlock is not inherited */
		if (!needs_copy(src))
			continue;
		c.src = src;
		c.dst = dst;
		c.err = 0;
		_zd_walk_leaves(parent, src->vm_start, src->vm_end, copy_leaf, &c);
		err = c.err;
	}
	zd_atomic_fetch_add_acq_rel(&parent->write_protect_seq, 1u);	/* even again */
	zd_mmap_write_unlock(parent);
	if (err) {
		zd_mm_destroy(child);
		return err;
	}
	*out = child;
	return 0;
}
