// SPDX-License-Identifier: MIT
/*
 * src/mm/migrate_device.c - moving anonymous memory to and from device
 * memory: migrate_vma and migrate_device.
 *
 * Models mm/migrate_device.c (migrate_vma_setup/pages/finalize and their
 * collect, unmap, insert and finalize steps; migrate_device_range/pfns/
 * pages/finalize; migrate_device_coherent_folio) and the part of
 * mm/migrate.c it relies on (folio_migrate_mapping's reference check and
 * folio_migrate_flags). Semantics §8, rules R8.1-R8.14.
 *
 * The steps, for one entry of the range:
 *
 *   collect    hole / zero page -> MIGRATE, no page
 *              page             -> referenced, try-locked, its PTE a
 *                                  migration entry (mapping's ref dropped)
 *   unmap      other mappings   -> migration entries (try_to_migrate)
 *              unexpected refs  -> restored, entry 0 (R8.8, R8.10)
 *   pages      hole             -> destination inserted (R8.12)
 *              page             -> refcount check, flags, rmap identity
 *   finalize   migration entries -> destination (MIGRATE) or source again
 *
 * Where the model differs from the kernel (docs/architecture.md):
 * - Large folios. There are no PMD-level non-present entries (no PMD
 *   migration or PMD device-private entry). A PMD-mapped THP is split to
 *   PTE mappings first (split_huge_pmd, as try_to_migrate does with
 *   TTU_SPLIT_HUGE_PMD); with SELECT_COMPOUND and the whole folio in the
 *   range the large folio then migrates whole under 512 PTE migration
 *   entries (COMPOUND on its first entry) into a destination of its order
 *   (MIGRATE_PFN_COMPOUND): a device-private destination is mapped by PTE
 *   device-private entries. Otherwise it is split into small folios
 *   (split_folio) in collect, or in pages when the destination is small,
 *   as in Linux. Holes are never COMPOUND. migrate_device_* refuse a
 *   large source with a small destination (no split without a VMA).
 * - No userfaultfd, no memcg, no swap cache, no stable-address-space
 *   check: those refusals of migrate_vma_insert_page cannot happen.
 * - Page-cache folios (SELECT_SYSTEM on a private file mapping) are
 *   collected and unmapped as in Linux but never migrated:
 *   folio_migrate_mapping of a page-cache folio is not modelled (it fails
 *   and the folio is restored).
 * - In the legacy refcount scheme (one) a device folio's expected count
 *   has the extra idle reference of expected_page_refs (5.x), and a page
 *   at its idle count is free for migrate_device_range.
 */
#include <string.h>

#include <zonedev/migrate.h>
#include <zonedev/mmu_notifier.h>

#include "internal.h"

static bool folio_is_device_private(const struct zd_folio *folio)
{
	return zd_folio_is_zone_device(folio) &&
	       zd_folio_pgmap(folio)->type == ZD_MEMORY_DEVICE_PRIVATE;
}

static bool folio_is_device_coherent(const struct zd_folio *folio)
{
	return zd_folio_is_zone_device(folio) &&
	       zd_folio_pgmap(folio)->type == ZD_MEMORY_DEVICE_COHERENT;
}

/* folio_mapping() for what the model has: a file's address_space, or NULL (anon). */
static void *folio_file_mapping(const struct zd_folio *folio)
{
	return zd_folio_test_anon(folio) ? NULL : folio->page.mapping;
}

static struct zd_folio *mpfn_folio(struct zd_system *sys, unsigned long mpfn)
{
	struct zd_page *page = zd_migrate_pfn_to_page(sys, mpfn);

	return page ? zd_page_folio(page) : NULL;
}

/* ------------------------------------------------------------------ */
/* collect (migrate_vma_collect)                                       */
/* ------------------------------------------------------------------ */

struct collect {
	struct zd_migrate_vma *m;
	struct zd_mm *mm;
	struct zd_folio *fault_folio;
};

static void collect_skip(struct collect *c, unsigned long start, unsigned long end)
{
	for (unsigned long a = start; a < end; a += ZD_PAGE_SIZE) {
		c->m->dst[c->m->npages] = 0;
		c->m->src[c->m->npages++] = 0;
	}
}

/* migrate_vma_collect_hole(): only anonymous memory may be populated (R8.2). */
static void collect_hole(struct collect *c, unsigned long start, unsigned long end)
{
	if (!zd_vma_is_anonymous(c->m->vma)) {
		collect_skip(c, start, end);
		return;
	}
	for (unsigned long a = start; a < end; a += ZD_PAGE_SIZE) {
		c->m->dst[c->m->npages] = 0;
		c->m->src[c->m->npages++] = ZD_MIGRATE_PFN_MIGRATE;
		c->m->cpages++;
	}
}

/*
 * A large folio met at PTE level at @addr (its page @page): can it be
 * collected whole? Its first page must be here, all of it inside the
 * range and this PTE table, and every PTE of it must map it in order.
 */
static bool large_collectable(struct collect *c, _Atomic zd_pte_t *pte, unsigned long addr,
			      unsigned long next, struct zd_folio *folio, struct zd_page *page)
{
	unsigned long nr = zd_folio_nr_pages(folio), pfn = zd_folio_pfn(folio);

	if (!(c->m->flags & ZD_MIGRATE_VMA_SELECT_COMPOUND) || page != &folio->page ||
	    addr + nr * ZD_PAGE_SIZE > next)
		return false;
	for (unsigned long i = 0; i < nr; i++) {
		zd_pte_t e = _zd_read_entry(pte + i);
		bool mapped = zd_pte_present(e) ? !zd_pte_special(e) :
			      zd_is_device_private_entry(e);

		if (!mapped || zd_pte_pfn(e) != pfn + i)
			return false;
	}
	return true;
}

/*
 * migrate_vma_split_folio(): split the large @folio met at PTE level
 * (referenced by the caller, who gives that reference up here). The
 * fault path's lock and reference move to the small folio the fault page
 * is in now, which the fault path unlocks and puts afterwards.
 */
static int migrate_vma_split_folio(struct collect *c, struct zd_folio *folio)
{
	struct zd_folio *fault = c->fault_folio, *new_fault;
	int ret;

	/* Linux sleeps on the lock here; a trylock keeps two migrations apart. */
	if (folio != fault && !zd_folio_trylock(folio)) {
		zd_folio_put(folio);
		return -EAGAIN;
	}
	ret = _zd_split_folio(folio, 1 + (folio == fault), false);
	if (ret) {
		if (folio != fault)
			zd_folio_unlock(folio);
		zd_folio_put(folio);
		return ret;
	}
	new_fault = c->m->fault_page ? zd_page_folio(c->m->fault_page) : NULL;
	if (folio == fault && new_fault != folio) {
		zd_folio_get(new_fault);
		zd_folio_lock(new_fault);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
		c->fault_folio = new_fault;
	} else if (folio != fault) {
		zd_folio_unlock(folio);
	}
	zd_folio_put(folio);
	return 0;
}

/*
 * Collect the PTEs of one PMD-covered span [addr, next); returns false if
 * the span must be walked again (the PMD changed under us).
 */
static bool collect_ptes(struct collect *c, unsigned long addr, unsigned long next)
{
	struct zd_migrate_vma *m = c->m;
	struct zd_vm_area_struct *vma = m->vma;
	struct zd_system *sys = c->mm->sys;
	_Atomic zd_pte_t *pte = _zd_pxx_offset(c->mm, addr, ZD_LVL_PTE);
	struct zd_spinlock *ptl;

	if (!pte)
		return false;
	ptl = _zd_pte_lockptr(pte);
	zd_spin_lock(ptl);
	for (; addr < next; addr += ZD_PAGE_SIZE, pte++) {
		unsigned long mpfn = 0, pfn;
		struct zd_dev_pagemap *pgmap;
		struct zd_page *page = NULL;
		struct zd_folio *folio;
		bool anon_exclusive;
		zd_pte_t e = _zd_read_entry(pte), swp;

		if (zd_pte_none(e)) {
			if (zd_vma_is_anonymous(vma)) {
				mpfn = ZD_MIGRATE_PFN_MIGRATE;
				m->cpages++;
			}
			goto next;
		}
		if (!zd_pte_present(e)) {
			/* Only device-private entries; swap-like others are left (R8.3). */
			if (!zd_is_device_private_entry(e))
				goto next;
			page = zd_pfn_to_page(sys, zd_swp_offset(e));
			pgmap = page ? zd_page_pgmap(page) : NULL;
			if (!pgmap || !(m->flags & ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE) ||
			    pgmap->owner != m->pgmap_owner) {
				page = NULL;
				goto next;
			}
			mpfn = zd_migrate_pfn(zd_swp_offset(e)) | ZD_MIGRATE_PFN_MIGRATE;
			if (zd_is_writable_device_private_entry(e))
				mpfn |= ZD_MIGRATE_PFN_WRITE;
		} else {
			pfn = zd_pte_pfn(e);
			if (zd_pte_special(e) && pfn == _zd_zero_pfn(c->mm) &&
			    (m->flags & ZD_MIGRATE_VMA_SELECT_SYSTEM)) {
				/* The zero page is a hole (R8.4). */
				mpfn = ZD_MIGRATE_PFN_MIGRATE;
				m->cpages++;
				goto next;
			}
			page = zd_vm_normal_page(vma, addr, e);
			if (page && !zd_is_zone_device_page(page) &&
			    !(m->flags & ZD_MIGRATE_VMA_SELECT_SYSTEM)) {
				page = NULL;
				goto next;
			}
			if (page && folio_is_device_coherent(zd_page_folio(page))) {
				pgmap = zd_page_pgmap(page);
				if (!(m->flags & ZD_MIGRATE_VMA_SELECT_DEVICE_COHERENT) ||
				    pgmap->owner != m->pgmap_owner) {
					page = NULL;
					goto next;
				}
			}
			mpfn = zd_migrate_pfn(pfn) | ZD_MIGRATE_PFN_MIGRATE;
			if (zd_pte_write(e))
				mpfn |= ZD_MIGRATE_PFN_WRITE;
		}
		/* R8.5: only anonymous or file pages. */
		if (!page || !zd_page_folio(page)->page.mapping) {
			mpfn = 0;
			goto next;
		}
		folio = zd_page_folio(page);
		if (zd_folio_test_large(folio)) {
			unsigned long nr = zd_folio_nr_pages(folio);

			if (!large_collectable(c, pte, addr, next, folio, page)) {
				/* Split it, then walk again from here (R8.4). */
				zd_folio_get(folio);
				zd_spin_unlock(ptl);
				if (migrate_vma_split_folio(c, folio)) {
					collect_skip(c, addr, m->end);
					return true;
				}
				return false;
			}
			/* Whole: the PTEs become migration entries in the unmap step. */
			zd_folio_get(folio);
			if (folio != c->fault_folio && !zd_folio_trylock(folio)) {
				zd_folio_put(folio);
				mpfn = 0;
				goto next;
			}
			m->cpages++;
			m->dst[m->npages] = 0;
			m->src[m->npages++] = mpfn | ZD_MIGRATE_PFN_COMPOUND;
			for (unsigned long i = 1; i < nr; i++) {
				m->dst[m->npages] = 0;
				m->src[m->npages++] = 0;
			}
			addr += (nr - 1) * ZD_PAGE_SIZE;
			pte += nr - 1;
			continue;
		}
		/*
		 * The reference blocks other migrations of the folio and keeps
		 * it once the mapping's is dropped below. Trylock: migration is
		 * best effort, and two migrations waiting on each other's folio
		 * lock would deadlock (R8.6).
		 */
		zd_folio_get(folio);
		if (folio != c->fault_folio && !zd_folio_trylock(folio)) {
			zd_folio_put(folio);
			mpfn = 0;
			goto next;
		}
		anon_exclusive = zd_folio_test_anon(folio) &&
				 zd_page_test_flag(page, ZD_PG_anon_exclusive);
		_zd_set_entry(pte, 0);
		if (anon_exclusive) {
			/* folio_try_share_anon_rmap_pte(): a maybe-pinned page stays exclusive (R8.7). */
			if (zd_folio_maybe_dma_pinned(folio)) {
				_zd_set_entry(pte, e);
				if (folio != c->fault_folio)
					zd_folio_unlock(folio);
				zd_folio_put(folio);
				mpfn = 0;
				goto next;
			}
			zd_page_clear_flag(page, ZD_PG_anon_exclusive);
		}
		m->cpages++;
		if (zd_pte_present(e) && zd_pte_dirty(e))
			zd_page_set_flag(&folio->page, ZD_PG_dirty);
		if (mpfn & ZD_MIGRATE_PFN_WRITE)
			swp = zd_swp_entry(ZD_SWP_MIGRATION_WRITE, zd_page_to_pfn(page));
		else if (anon_exclusive)
			swp = zd_swp_entry(ZD_SWP_MIGRATION_READ_EXCLUSIVE, zd_page_to_pfn(page));
		else
			swp = zd_swp_entry(ZD_SWP_MIGRATION_READ, zd_page_to_pfn(page));
		_zd_set_entry(pte, swp);
		/* Like an unmap: the collect reference keeps the folio. */
		_zd_folio_remove_rmap(folio, page, ZD_LVL_PTE);
		zd_folio_put(folio);
next:
		m->dst[m->npages] = 0;
		m->src[m->npages++] = mpfn;
	}
	/* No TLB in the model (the CPU path walks the table on every access). */
	zd_spin_unlock(ptl);
	return true;
}

/* migrate_vma_collect_pmd() for what is left of the span up to @next. */
static void collect_pmd(struct collect *c, unsigned long next)
{
	for (;;) {
		unsigned long addr = c->m->start + (c->m->npages << ZD_PAGE_SHIFT);
		_Atomic zd_pte_t *pmd;
		zd_pte_t e;

		if (addr >= next)
			return;
		pmd = _zd_pxx_offset(c->mm, addr, ZD_LVL_PMD);
		e = pmd ? _zd_read_entry(pmd) : 0;
		if (zd_pte_none(e)) {
			collect_hole(c, addr, next);
			return;
		}
		if (zd_pte_huge(e)) {
			/*
			 * The huge zero folio and THPs are split to PTEs; a THP
			 * then migrates whole from its PTEs or is split (see
			 * the top).
			 */
			_zd_split_huge_pmd(c->m->vma, pmd, addr);
			continue;
		}
		if (!zd_pte_present(e)) {
			collect_skip(c, addr, next);	/* no PMD-level non-present entries */
			return;
		}
		if (collect_ptes(c, addr, next))
			return;
	}
}

static void migrate_vma_collect(struct zd_migrate_vma *m)
{
	struct collect c = {
		.m = m,
		.mm = m->vma->vm_mm,
		.fault_folio = m->fault_page ? zd_page_folio(m->fault_page) : NULL,
	};
	unsigned long total = (m->end - m->start) >> ZD_PAGE_SHIFT;
	struct zd_mmu_notifier_range range;

	/*
	 * The owner lets the driver that asked for this migration skip the
	 * invalidation of its own device-private mappings (R8.3).
	 */
	zd_mmu_notifier_range_init_owner(&range, ZD_MMU_NOTIFY_MIGRATE, 0, c.mm, m->start, m->end,
					 m->pgmap_owner);
	zd_mmu_notifier_invalidate_range_start(&range);
	while (m->npages < total) {
		unsigned long addr = m->start + (m->npages << ZD_PAGE_SHIFT);
		unsigned long next = (addr + ZD_PMD_SIZE) & ~(ZD_PMD_SIZE - 1);

		collect_pmd(&c, next < m->end ? next : m->end);
	}
	zd_mmu_notifier_invalidate_range_end(&range);
	m->end = m->start + (m->npages << ZD_PAGE_SHIFT);
}

/* ------------------------------------------------------------------ */
/* unmap and the "pinned?" test (migrate_device_unmap)                 */
/* ------------------------------------------------------------------ */

/*
 * migrate_vma_check_page() (R8.8): only the references we know of may be
 * left beyond the mappings: ours (collect or isolation), the fault path's
 * on the fault folio, the one a ZONE_DEVICE folio is allowed (a tolerance
 * from the 1-based era) and a file folio's page-cache reference.
 */
static bool check_folio(struct zd_folio *folio, struct zd_folio *fault_folio)
{
	int extra = 1 + (folio == fault_folio);

	if (zd_folio_is_zone_device(folio))
		extra++;
	if (folio_file_mapping(folio))
		extra++;
	return zd_folio_ref_count(folio) - extra <= zd_folio_mapcount(folio);
}

static unsigned long migrate_device_unmap(struct zd_system *sys, unsigned long *src,
					  unsigned long npages, struct zd_page *fault_page)
{
	struct zd_folio *fault_folio = fault_page ? zd_page_folio(fault_page) : NULL;
	unsigned long unmapped = 0, restore = 0;

	for (unsigned long i = 0; i < npages; i++) {
		struct zd_folio *folio = mpfn_folio(sys, src[i]);

		if (!folio) {
			if (src[i] & ZD_MIGRATE_PFN_MIGRATE)
				unmapped++;
			continue;
		}
		/* ZONE_DEVICE folios are never on an LRU (R12.5). */
		if (!zd_folio_is_zone_device(folio)) {
			if (!zd_folio_isolate_lru(folio)) {
				src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
				restore++;
				continue;
			}
			zd_folio_put(folio);	/* the isolation holds one now */
		}
		if (zd_folio_mapcount(folio))
			zd_try_to_migrate(folio);
		if (zd_folio_mapcount(folio) || !check_folio(folio, fault_folio)) {
			if (!zd_folio_is_zone_device(folio)) {
				zd_folio_get(folio);
				zd_folio_putback_lru(folio);
			}
			src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
			restore++;
			continue;
		}
		unmapped++;
	}
	/* R8.9: what cannot migrate gets its mappings back, unchanged. */
	for (unsigned long i = 0; i < npages && restore; i++) {
		struct zd_folio *folio = mpfn_folio(sys, src[i]);

		if (!folio || (src[i] & ZD_MIGRATE_PFN_MIGRATE))
			continue;
		zd_remove_migration_ptes(folio, folio);
		src[i] = 0;
		if (folio != fault_folio)
			zd_folio_unlock(folio);
		zd_folio_put(folio);
		restore--;
	}
	return unmapped;
}

/* ------------------------------------------------------------------ */
/* setup                                                               */
/* ------------------------------------------------------------------ */

int zd_migrate_vma_setup(struct zd_migrate_vma *args)
{
	long nr_pages = ((long)args->end - (long)args->start) >> ZD_PAGE_SHIFT;
	struct zd_vm_area_struct *vma = args->vma;

	/* R8.1; the count is taken before start and end are rounded down. */
	args->start &= ~(ZD_PAGE_SIZE - 1);
	args->end &= ~(ZD_PAGE_SIZE - 1);
	if (!vma || (vma->vm_flags & (ZD_VM_IO | ZD_VM_DONTEXPAND | ZD_VM_PFNMAP |
				      ZD_VM_MIXEDMAP)) || zd_vma_is_dax(vma))
		return -EINVAL;	/* the model has no hugetlb VMAs */
	if (nr_pages <= 0)
		return -EINVAL;
	if (args->start < vma->vm_start || args->start >= vma->vm_end)
		return -EINVAL;
	if (args->end <= vma->vm_start || args->end > vma->vm_end)
		return -EINVAL;
	if (!args->src || !args->dst)
		return -EINVAL;
	if (args->fault_page &&
	    !folio_is_device_private(zd_page_folio(args->fault_page)))
		return -EINVAL;
	if (args->fault_page && !zd_folio_test_locked(zd_page_folio(args->fault_page)))
		return -EINVAL;

	memset(args->src, 0, sizeof(*args->src) * (size_t)nr_pages);
	args->cpages = 0;
	args->npages = 0;
	migrate_vma_collect(args);
	if (args->cpages)
		args->cpages = migrate_device_unmap(vma->vm_mm->sys, args->src, args->npages,
						    args->fault_page);
	/* Locked and unmapped: the contents are stable for the driver's copy. */
	return 0;
}

/* ------------------------------------------------------------------ */
/* pages                                                               */
/* ------------------------------------------------------------------ */

/*
 * migrate_vma_insert_page() (R8.12): map the destination @page at the hole
 * @addr, as do_anonymous_page would map a new page.
 */
static void insert_page(struct zd_migrate_vma *m, unsigned long addr, struct zd_page *page,
			unsigned long *src)
{
	struct zd_folio *folio = zd_page_folio(page);
	struct zd_vm_area_struct *vma = m->vma;
	struct zd_mm *mm = vma->vm_mm;
	_Atomic zd_pte_t *pte, *pmd;
	struct zd_spinlock *ptl;
	zd_pte_t e, orig;

	if (!zd_vma_is_anonymous(vma) || zd_folio_test_large(folio))
		goto abort;
	if (zd_folio_is_zone_device(folio) && !folio_is_device_private(folio) &&
	    !folio_is_device_coherent(folio))
		goto abort;	/* other ZONE_DEVICE types are not supported */
	pmd = _zd_pxx_alloc(mm, addr, ZD_LVL_PMD);
	if (!pmd)
		goto abort;
	/* The huge zero folio is split; any other PMD leaf refuses. */
	orig = _zd_read_entry(pmd);
	if (zd_pte_huge(orig)) {
		if (!_zd_is_huge_zero_pmd(mm, orig))
			goto abort;
		_zd_split_huge_pmd(vma, pmd, addr);
	}
	pte = _zd_pxx_alloc_below(mm, pmd, addr, ZD_LVL_PTE);
	if (!pte || _zd_anon_vma_prepare(vma))
		goto abort;
	/* Release by the entry's store below: the copied data is seen first. */
	zd_page_set_flag(&folio->page, ZD_PG_uptodate);
	if (folio_is_device_private(folio)) {
		e = zd_swp_entry((vma->vm_flags & ZD_VM_WRITE) ? ZD_SWP_DEVICE_PRIVATE_WRITE :
				 ZD_SWP_DEVICE_PRIVATE_READ, zd_page_to_pfn(page));
	} else {
		e = zd_pfn_pte(zd_page_to_pfn(page), _zd_vma_page_prot_ro(vma));
		if (vma->vm_flags & ZD_VM_WRITE)
			e = zd_pte_mkwrite(zd_pte_mkdirty(e));
	}
	ptl = _zd_pte_lockptr(pte);
	zd_spin_lock(ptl);
	orig = _zd_read_entry(pte);
	if (zd_pte_present(orig)) {
		/* Only the zero page may be replaced (no reference, no mapcount). */
		if (!zd_pte_special(orig) || zd_pte_pfn(orig) != _zd_zero_pfn(mm))
			goto unlock_abort;
	} else if (!zd_pte_none(orig)) {
		goto unlock_abort;
	}
	_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1);
	_zd_folio_add_new_anon_rmap(folio, vma, addr, ZD_LVL_PTE);
	if (!zd_folio_is_zone_device(folio))
		_zd_folio_add_lru_vma(folio, vma);
	zd_folio_get(folio);
	_zd_set_entry(pte, e);
	zd_spin_unlock(ptl);
	*src = ZD_MIGRATE_PFN_MIGRATE;
	return;
unlock_abort:
	zd_spin_unlock(ptl);
abort:
	*src &= ~ZD_MIGRATE_PFN_MIGRATE;
}

/*
 * folio_migrate_mapping() for an anonymous folio without swap cache: only
 * the migration's reference (plus @extra: the fault path's) may be left;
 * then the destination takes over the rmap identity. The legacy scheme
 * expects a device folio's idle reference too (5.x expected_page_refs).
 */
static int folio_migrate_mapping(struct zd_folio *dst, struct zd_folio *src, int extra)
{
	int expected = 1 + extra;

	if (folio_file_mapping(src))
		return -EOPNOTSUPP;	/* page-cache migration: not modelled */
	if (zd_folio_is_zone_device(src) &&
	    zd_system_scheme(zd_page_system(&src->page)) == ZD_SCHEME_ONE)
		expected++;
	if (zd_folio_ref_count(src) != expected)
		return -EAGAIN;
	dst->page.index = src->page.index;
	dst->page.mapping = src->page.mapping;
	return 0;
}

/* folio_migrate_flags(): the state that follows the data. */
static void folio_migrate_flags(struct zd_folio *dst, struct zd_folio *src)
{
	static const enum zd_pageflags data_flags[] = {
		ZD_PG_referenced, ZD_PG_uptodate, ZD_PG_dirty,
	};
	static const enum zd_pageflags lru_flags[] = {
		ZD_PG_active, ZD_PG_swapbacked, ZD_PG_unevictable,
	};

	for (size_t i = 0; i < sizeof(data_flags) / sizeof(data_flags[0]); i++)
		if (zd_folio_test_flag(src, data_flags[i]))
			zd_page_set_flag(&dst->page, data_flags[i]);
	/* LRU state only between RAM folios: device folios never see an LRU. */
	if (zd_folio_is_zone_device(dst) || zd_folio_is_zone_device(src))
		return;
	for (size_t i = 0; i < sizeof(lru_flags) / sizeof(lru_flags[0]); i++)
		if (zd_folio_test_flag(src, lru_flags[i]))
			zd_page_set_flag(&dst->page, lru_flags[i]);
}

/*
 * The large source of entry @i, unmapped under migration entries, is
 * split (its new folios locked and referenced as collect leaves small
 * ones) and the entries of its pages filled in. Returns nonzero with
 * MIGRATE cleared if it cannot be split.
 */
static int migrate_device_split_src(struct zd_system *sys, unsigned long *src, unsigned long i,
				    struct zd_migrate_vma *m)
{
	struct zd_folio *folio = mpfn_folio(sys, src[i]);
	struct zd_folio *fault = m->fault_page ? zd_page_folio(m->fault_page) : NULL;
	unsigned long nr = zd_folio_nr_pages(folio), pfn = zd_folio_pfn(folio);

	if (i + nr > m->npages || _zd_split_folio(folio, 1 + (folio == fault), true)) {
		src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
		return -EAGAIN;
	}
	src[i] &= ~ZD_MIGRATE_PFN_COMPOUND;
	for (unsigned long j = 1; j < nr; j++)
		src[i + j] = zd_migrate_pfn(pfn + j) | ZD_MIGRATE_PFN_MIGRATE |
			     (src[i] & ZD_MIGRATE_PFN_WRITE);
	/* The fault path's reference goes with the fault page (its lock is ours). */
	if (folio == fault && zd_page_folio(m->fault_page) != folio) {
		zd_folio_get(zd_page_folio(m->fault_page));
		zd_folio_put(folio);
	}
	return 0;
}

static void migrate_device_pages_common(struct zd_system *sys, unsigned long *src,
					unsigned long *dst, unsigned long npages,
					struct zd_migrate_vma *m)
{
	struct zd_mmu_notifier_range range;
	bool notified = false;

	for (unsigned long i = 0; i < npages; i++) {
		struct zd_folio *newfolio = mpfn_folio(sys, dst[i]);
		struct zd_folio *folio = mpfn_folio(sys, src[i]);
		int extra = 0;

		if (!newfolio) {
			src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
			continue;
		}
		if (!(src[i] & ZD_MIGRATE_PFN_MIGRATE))
			continue;
		if (!folio) {
			unsigned long addr;

			/* Holes exist only with a VMA (not for migrate_device_*). */
			if (!m || (dst[i] & ZD_MIGRATE_PFN_COMPOUND)) {
				src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
				continue;
			}
			addr = m->start + (i << ZD_PAGE_SHIFT);
			if (!notified) {
				notified = true;
				zd_mmu_notifier_range_init_owner(&range, ZD_MMU_NOTIFY_MIGRATE, 0,
								 m->vma->vm_mm, addr, m->end,
								 m->pgmap_owner);
				zd_mmu_notifier_invalidate_range_start(&range);
			}
			insert_page(m, addr, zd_migrate_pfn_to_page(sys, dst[i]), &src[i]);
			continue;
		}
		/*
		 * A large source with a small destination is split (with a VMA
		 * only) and its entries expanded; the first goes on as a small
		 * one, the others have no destination and are restored.
		 */
		if ((src[i] & ZD_MIGRATE_PFN_COMPOUND) && !(dst[i] & ZD_MIGRATE_PFN_COMPOUND) && m &&
		    !zd_folio_test_large(newfolio)) {
			if (migrate_device_split_src(sys, src, i, m))
				continue;
			folio = mpfn_folio(sys, src[i]);
		}
		/* A large folio moves whole only into a folio of its order. */
		if (!(src[i] & ZD_MIGRATE_PFN_COMPOUND) != !(dst[i] & ZD_MIGRATE_PFN_COMPOUND) ||
		    zd_folio_order(newfolio) != zd_folio_order(folio)) {
			src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
			continue;
		}
		if (folio_is_device_private(newfolio) || folio_is_device_coherent(newfolio)) {
			/* R8.13: only anonymous memory moves to device memory. */
			if (folio_file_mapping(folio)) {
				src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
				continue;
			}
		} else if (zd_folio_is_zone_device(newfolio)) {
			src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;	/* other ZONE_DEVICE types */
			continue;
		}
		if (m && m->fault_page && zd_page_folio(m->fault_page) == folio)
			extra = 1;
		if (folio_migrate_mapping(newfolio, folio, extra))
			src[i] &= ~ZD_MIGRATE_PFN_MIGRATE;
		else
			folio_migrate_flags(newfolio, folio);
	}
	if (notified)
		zd_mmu_notifier_invalidate_range_end(&range);
}

void zd_migrate_vma_pages(struct zd_migrate_vma *migrate)
{
	migrate_device_pages_common(migrate->vma->vm_mm->sys, migrate->src, migrate->dst,
				    migrate->npages, migrate);
}

void zd_migrate_device_pages(struct zd_system *sys, unsigned long *src_pfns,
			     unsigned long *dst_pfns, unsigned long npages)
{
	migrate_device_pages_common(sys, src_pfns, dst_pfns, npages, NULL);
}

/* ------------------------------------------------------------------ */
/* finalize                                                            */
/* ------------------------------------------------------------------ */

static void migrate_device_finalize_common(struct zd_system *sys, unsigned long *src_pfns,
					   unsigned long *dst_pfns, unsigned long npages,
					   struct zd_page *fault_page)
{
	struct zd_folio *fault_folio = fault_page ? zd_page_folio(fault_page) : NULL;

	for (unsigned long i = 0; i < npages; i++) {
		struct zd_folio *dst = mpfn_folio(sys, dst_pfns[i]);
		struct zd_folio *src = mpfn_folio(sys, src_pfns[i]);

		if (!src) {
			/* A hole: an inserted page holds its mapping's own reference. */
			if (dst) {
				zd_folio_unlock(dst);
				zd_folio_put(dst);
			}
			continue;
		}
		if (!(src_pfns[i] & ZD_MIGRATE_PFN_MIGRATE) || !dst) {
			if (dst) {
				zd_folio_unlock(dst);
				zd_folio_put(dst);
			}
			dst = src;
		}
		if (!zd_folio_is_zone_device(dst) && !zd_folio_test_flag(dst, ZD_PG_lru) &&
		    !zd_folio_test_flag(dst, ZD_PG_unevictable))
			zd_folio_add_lru(dst);
		zd_remove_migration_ptes(src, dst);
		if (dst != src && _zd_tracing(sys))
			_zd_emit(sys, ZD_EV_MIGRATE, src, 0);
		if (src != fault_folio)
			zd_folio_unlock(src);
		/* Drops the collect/isolation reference: a migrated-away source is freed. */
		zd_folio_put(src);
		if (dst != src) {
			zd_folio_unlock(dst);
			zd_folio_put(dst);
		}
	}
}

void zd_migrate_vma_finalize(struct zd_migrate_vma *migrate)
{
	migrate_device_finalize_common(migrate->vma->vm_mm->sys, migrate->src, migrate->dst,
				       migrate->npages, migrate->fault_page);
}

void zd_migrate_device_finalize(struct zd_system *sys, unsigned long *src_pfns,
				unsigned long *dst_pfns, unsigned long npages)
{
	migrate_device_finalize_common(sys, src_pfns, dst_pfns, npages, NULL);
}

/* ------------------------------------------------------------------ */
/* migrate_device_range / pfns (§8.8)                                  */
/* ------------------------------------------------------------------ */

/* migrate_device_pfn_lock(): an allocated head page, referenced and locked. */
static unsigned long migrate_device_pfn_lock(struct zd_system *sys, unsigned long pfn)
{
	struct zd_page *page = zd_pfn_to_page(sys, pfn);
	struct zd_folio *folio;

	if (!page || zd_page_is_tail(page))
		return 0;
	folio = zd_page_folio(page);
	/* Legacy scheme: a free device page sits at its idle reference. */
	if (zd_system_scheme(sys) == ZD_SCHEME_ONE && zd_folio_is_zone_device(folio) &&
	    zd_folio_ref_count(folio) <= 1)
		return 0;
	if (!zd_folio_try_get(folio))
		return 0;
	if (!zd_folio_trylock(folio)) {
		zd_folio_put(folio);
		return 0;
	}
	return zd_migrate_pfn(pfn) | ZD_MIGRATE_PFN_MIGRATE |
	       (zd_folio_test_large(folio) ? ZD_MIGRATE_PFN_COMPOUND : 0);
}

int zd_migrate_device_range(struct zd_system *sys, unsigned long *src_pfns,
			    unsigned long start_pfn, unsigned long npages)
{
	for (unsigned long i = 0; i < npages; i++)
		src_pfns[i] = migrate_device_pfn_lock(sys, start_pfn + i);
	migrate_device_unmap(sys, src_pfns, npages, NULL);
	return 0;
}

int zd_migrate_device_pfns(struct zd_system *sys, unsigned long *src_pfns, unsigned long npages)
{
	for (unsigned long i = 0; i < npages; i++)
		src_pfns[i] = migrate_device_pfn_lock(sys, src_pfns[i]);
	migrate_device_unmap(sys, src_pfns, npages, NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* migrate_device_coherent_folio (§8.10)                               */
/* ------------------------------------------------------------------ */

int zd_migrate_device_coherent_folio(struct zd_folio *folio)
{
	struct zd_system *sys = zd_page_system(&folio->page);
	unsigned long src, dst = 0;
	struct zd_folio *new;

	/* The kernel warns on a large folio; the model refuses it. */
	if (!folio_is_device_coherent(folio) || zd_folio_test_large(folio)) {
		zd_folio_put(folio);
		return -EBUSY;
	}
	zd_folio_lock(folio);
	src = zd_migrate_pfn(zd_folio_pfn(folio)) | ZD_MIGRATE_PFN_MIGRATE;
	/* No VMA: straight to the unmap step, the caller's reference as ours. */
	migrate_device_unmap(sys, &src, 1, NULL);
	if (!(src & ZD_MIGRATE_PFN_MIGRATE))
		return -EBUSY;	/* restored, unlocked and put by the unmap step */
	new = zd_folio_alloc(sys, 0, 0);
	if (new) {
		zd_folio_lock(new);
		dst = zd_migrate_pfn(zd_folio_pfn(new));
	}
	zd_migrate_device_pages(sys, &src, &dst, 1);
	if (src & ZD_MIGRATE_PFN_MIGRATE) {
		void *from = zd_page_address(&folio->page), *to = zd_page_address(&new->page);

		if (from && to)
			memcpy(to, from, ZD_PAGE_SIZE);
	}
	zd_migrate_device_finalize(sys, &src, &dst, 1);
	return (src & ZD_MIGRATE_PFN_MIGRATE) ? 0 : -EBUSY;
}
