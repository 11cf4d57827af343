// SPDX-License-Identifier: MIT
/*
 * src/gup/gup_fast.c - get_user_pages_fast / pin_user_pages_fast.
 *
 * Models the GUP-fast half of mm/gup.c (semantics §4.5): a lockless walk
 * of the page table that takes each page with a try-get, re-validates the
 * folio (R4.12, bug B3), pins, issues a full barrier, then re-reads the
 * PMD and the PTE and drops the page if either changed (R4.13, R12.14,
 * bugs B4 and B5). At the first entry it cannot handle - missing,
 * PROT_NONE, not writable for a write, special (pfn map, zero page),
 * non-present (device-private, migration), a long-term pin of a folio
 * that may not stay pinned (R4.11), a page that must be unshared - it
 * stops, and gup_fast_fallback hands the rest of the range to the slow
 * path under mmap_lock.
 *
 * Linux disables interrupts so that neither a page-table page nor (via
 * the TLB-flush IPI) a THP split can complete under the walker. The model
 * frees page-table pages after an RCU grace period (src/mm/pgtable.c), so
 * the walk runs inside zd_rcu_read_lock() and the rest is left to the
 * re-checks, as in Linux.
 *
 * Devmap entries (the legacy scheme's device DAX) take 6.14's devmap
 * branches: a live pgmap reference while each page is grabbed (dropped
 * before returning), everything taken from the range given back if the
 * pgmap is dying (gup_fast_undo_dev_pagemap), and FOLL_LONGTERM left to
 * the slow path (L7).
 */
#include <errno.h>

#include "internal.h"

/* ---------------------------------------------------------------- */
/* fork vs GUP-fast pins (mm->write_protect_seq)                     */
/* ---------------------------------------------------------------- */

/*
 * fork write-protects the parent's anonymous PTEs after checking that the
 * page is not maybe-DMA-pinned (pinned pages are copied eagerly). A
 * GUP-fast pin taken between that check and the write-protect would pin
 * a page fork then shares with the child. mm->write_protect_seq closes
 * the window, as in Linux: zd_fork makes it odd (then a full barrier) for
 * the duration of its copy, and a FOLL_PIN GUP-fast gives up if the count
 * was odd at its start or changed by its end.
 */
static bool wp_seq_begin(struct zd_mm *mm, unsigned int *seq)
{
	/* raw_seqcount_try_begin(): pairs with fork's increments. */
	*seq = zd_atomic_load_acquire(&mm->write_protect_seq);
	return !(*seq & 1u);
}

static bool wp_seq_retry(struct zd_mm *mm, unsigned int seq)
{
	/*
	 * read_seqcount_retry(): the walk's pins and entry reads come
	 * before this load. Full barrier: pairs with the one fork issues
	 * after making the count odd and before testing pins (store
	 * buffering: either fork sees our pin or we see its count).
	 */
	zd_smp_mb();
	return zd_atomic_load_acquire(&mm->write_protect_seq) != seq;
}

/* ---------------------------------------------------------------- */
/* Grabbing a page without a stable reference                        */
/* ---------------------------------------------------------------- */

/*
 * try_get_folio: a reference on @page's folio, or NULL if it is free.
 * page_folio() reads the page's first word locklessly (a relaxed atomic
 * load, the kernel's READ_ONCE). @limit_add: the refcount growth this grab
 * may lead to, for the ZD_GUP_REFCOUNT_LIMIT check (a refusal falls back to
 * the slow path).
 */
static struct zd_folio *try_get_folio(struct zd_page *page, int refs, long limit_add)
{
	struct zd_folio *folio;
	int count;

retry:
	folio = zd_page_folio(page);
	count = zd_folio_ref_count(folio);
	if (count <= 0 || (long)count + limit_add > ZD_GUP_REFCOUNT_LIMIT)
		return NULL;
	if (zd_unlikely(!zd_folio_ref_try_add(folio, refs)))
		return NULL;
	/*
	 * B3: between page_folio() and the increment the folio may have been
	 * split, or freed and reused; now that it is held, check that the
	 * page still belongs to it.
	 */
	if (zd_unlikely(zd_page_folio(page) != folio)) {
		zd_folio_put_refs(folio, refs);
		goto retry;
	}
	return folio;
}

/*
 * try_grab_folio_fast: GET, or PIN (refcount += bias for a small folio,
 * += 1 and _pincount += 1 per ref for a large one), or NULL to fall back.
 */
static struct zd_folio *try_grab_folio_fast(struct zd_page *page, int refs, unsigned int flags)
{
	struct zd_folio *folio;
	long limit_add = (flags & ZD_FOLL_PIN) ? (long)refs * ZD_GUP_PIN_COUNTING_BIAS : refs;

	if (!(flags & (ZD_FOLL_GET | ZD_FOLL_PIN)))
		return NULL;
	folio = try_get_folio(page, refs, limit_add);
	if (!folio)
		return NULL;
	/* is_pci_p2pdma_page(): tested once the folio is held, so its pgmap is stable. */
	if (zd_unlikely(!(flags & ZD_FOLL_PCI_P2PDMA) && _zd_folio_is_p2pdma(folio)))
		goto undo;
	if (flags & ZD_FOLL_GET)
		return folio;

	/* FOLL_PIN. The zero page is special-mapped, so never reaches here. */
	if (zd_unlikely((flags & ZD_FOLL_LONGTERM) && !zd_folio_is_longterm_pinnable(folio)))
		goto undo;	/* R4.11: the slow path migrates or refuses */
	if (zd_folio_test_large(folio))
		zd_atomic_fetch_add_relaxed(&folio->page._pincount, refs);
	else
		zd_folio_ref_add(folio, refs * (ZD_GUP_PIN_COUNTING_BIAS - 1));
	/*
	 * The pin is visible before the entry is re-read: pairs with the
	 * barrier between clearing an entry and testing for pins in the
	 * migration and fork paths (folio_try_share_anon_rmap, B5).
	 */
	zd_smp_mb__after_atomic();
	_zd_gup_pin_event(folio, true, refs);
	return folio;
undo:
	zd_folio_put_refs(folio, refs);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Checks after the grab                                             */
/* ---------------------------------------------------------------- */

/*
 * gup_fast_folio_allowed: a long-term writable pin of a file folio that
 * needs dirty tracking must go through the slow path (which sees the VMA,
 * R4.8); anonymous and shmem folios are fine. Secretmem is not modelled.
 * Context: @folio held.
 */
static bool gup_fast_folio_allowed(const struct zd_folio *folio, unsigned int flags)
{
	const unsigned int reject = ZD_FOLL_PIN | ZD_FOLL_LONGTERM | ZD_FOLL_WRITE;
	void *mapping;

	if ((flags & reject) != reject)
		return true;
	mapping = folio->page.mapping;
	if (!mapping)
		return false;	/* truncated, or no mapping: let the slow path decide */
	if ((uintptr_t)mapping & ZD_PAGE_MAPPING_ANON)
		return true;
	return ((const struct zd_address_space *)mapping)->flags & ZD_AS_SHMEM;
}

/* A present entry of a device-private page breaks R12.6: never pin it. */
static bool device_private_mapped(struct zd_folio *folio, struct zd_page *page)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);

	if (zd_likely(!pgmap || pgmap->type != ZD_MEMORY_DEVICE_PRIVATE))
		return false;
	_zd_report_page(zd_page_system(page), ZD_MISUSE_BAD_STATE, "R12.6", page,
			"device-private page mapped by a present entry");
	return true;
}

/* pte_access_permitted() and friends: present (not PROT_NONE), writable if asked. */
static bool access_permitted(zd_pte_t e, unsigned int flags)
{
	if (!(e & ZD_PTE_PRESENT))
		return false;
	return !(flags & ZD_FOLL_WRITE) || zd_pte_write(e);
}

static void folio_set_referenced(struct zd_folio *folio)
{
	if (!zd_folio_test_flag(folio, ZD_PG_referenced))
		zd_page_set_flag(&folio->page, ZD_PG_referenced);
}

/* ---------------------------------------------------------------- */
/* The walk                                                          */
/* ---------------------------------------------------------------- */

struct gup_fast_walk {
	struct zd_mm *mm;
	unsigned int flags;
	struct zd_page **pages;
	unsigned long nr;	/* pages taken so far */
};

static unsigned long addr_end(unsigned long addr, unsigned long end, unsigned long size)
{
	unsigned long next = (addr + size) & ~(size - 1);

	return next - 1 < end - 1 ? next : end;
}

/* gup_fast_undo_dev_pagemap(): give back the pages taken since @nr_start. */
static void undo_dev_pagemap(struct gup_fast_walk *w, unsigned long nr_start)
{
	while (w->nr > nr_start) {
		struct zd_folio *folio = zd_page_folio(w->pages[--w->nr]);

		zd_page_clear_flag(&folio->page, ZD_PG_referenced);
		_zd_gup_put_folio(folio, 1, w->flags);
	}
}

/*
 * gup_fast_pte_range: the PTEs of [addr, end) in the table @pmd points to.
 * Stops (false) at the first entry the fast path cannot take.
 */
static bool gup_fast_pte_range(struct gup_fast_walk *w, zd_pte_t pmd, _Atomic zd_pte_t *pmdp,
			       unsigned long addr, unsigned long end)
{
	struct zd_pgtable *pt = _zd_entry_table(pmd);
	struct zd_dev_pagemap *pgmap = NULL;
	unsigned long nr_start = w->nr;
	bool ret = false;

	do {
		_Atomic zd_pte_t *ptep = &pt->ent[_zd_level_index(addr, ZD_LVL_PTE)];
		zd_pte_t pte = _zd_read_entry(ptep);
		struct zd_page *page;
		struct zd_folio *folio;

		/*
		 * Always fall back on PROT_NONE entries: the slow path decides
		 * on the VMA's permissions (and NUMA hinting).
		 */
		if (zd_pte_protnone(pte))
			goto out;
		/* Also rejects none, device-private, exclusive and migration entries. */
		if (!access_permitted(pte, w->flags))
			goto out;
		if (zd_pte_devmap(pte)) {
			if (zd_unlikely(w->flags & ZD_FOLL_LONGTERM))
				goto out;
			pgmap = _zd_get_dev_pagemap_cached(w->mm->sys, zd_pte_pfn(pte), pgmap);
			if (zd_unlikely(!pgmap)) {
				undo_dev_pagemap(w, nr_start);
				goto out;
			}
		} else if (zd_pte_special(pte)) {
			goto out;
		}
		page = zd_pfn_to_page(w->mm->sys, zd_pte_pfn(pte));
		if (!page)
			goto out;

		folio = try_grab_folio_fast(page, 1, w->flags);
		if (!folio)
			goto out;
		/*
		 * R4.13: the PMD re-check catches a PTE table being freed or
		 * collapsed under us (B4), the PTE re-check an unmap, a
		 * permission change, a migration or a fork's write-protect.
		 */
		if (zd_unlikely(_zd_read_entry(pmdp) != pmd) ||
		    zd_unlikely(_zd_read_entry(ptep) != pte))
			goto put;
		if (zd_unlikely(device_private_mapped(folio, page)))
			goto put;
		if (!gup_fast_folio_allowed(folio, w->flags))
			goto put;
		if (!zd_pte_write(pte) && _zd_gup_must_unshare(NULL, w->flags, page))
			goto put;
		folio_set_referenced(folio);
		w->pages[w->nr++] = page;
		continue;
put:
		_zd_gup_put_folio(folio, 1, w->flags);
		goto out;
	} while (addr += ZD_PAGE_SIZE, addr != end);
	ret = true;
out:
	zd_put_dev_pagemap(pgmap);
	return ret;
}

/*
 * gup_fast_devmap_pmd_leaf / _pud_leaf (6.14 and older): each page of
 * [addr, end) of a devmap leaf grabbed under its pgmap reference, then the
 * leaf re-checked; on any failure everything taken here is given back.
 */
static bool gup_fast_devmap_leaf(struct gup_fast_walk *w, zd_pte_t orig, _Atomic zd_pte_t *slot,
				 unsigned long size, unsigned long addr, unsigned long end)
{
	unsigned long pfn = zd_pte_pfn(orig) + ((addr & (size - 1)) >> ZD_PAGE_SHIFT);
	unsigned long nr_start = w->nr;
	struct zd_dev_pagemap *pgmap = NULL;

	do {
		struct zd_page *page;
		struct zd_folio *folio;

		pgmap = _zd_get_dev_pagemap_cached(w->mm->sys, pfn, pgmap);
		page = pgmap ? zd_pfn_to_page(w->mm->sys, pfn) : NULL;
		folio = page ? try_grab_folio_fast(page, 1, w->flags) : NULL;
		if (!folio) {
			undo_dev_pagemap(w, nr_start);
			break;
		}
		folio_set_referenced(folio);
		w->pages[w->nr++] = page;
		pfn++;
	} while (addr += ZD_PAGE_SIZE, addr != end);
	zd_put_dev_pagemap(pgmap);
	if (addr != end)
		return false;
	if (zd_unlikely(_zd_read_entry(slot) != orig)) {
		undo_dev_pagemap(w, nr_start);
		return false;
	}
	return true;
}

/*
 * gup_fast_pmd_leaf / gup_fast_pud_leaf: a huge leaf; every subpage of
 * [addr, end) is taken with one grab of the folio, then the leaf is
 * re-checked.
 */
static bool gup_fast_huge_leaf(struct gup_fast_walk *w, zd_pte_t orig, _Atomic zd_pte_t *slot,
			       unsigned long size, unsigned long addr, unsigned long end)
{
	struct zd_page *head, *page;
	struct zd_folio *folio;
	int refs = 0;

	if (!access_permitted(orig, w->flags))
		return false;
	if (zd_pte_special(orig))
		return false;
	if (zd_pte_devmap(orig)) {
		if (zd_unlikely(w->flags & ZD_FOLL_LONGTERM))
			return false;
		return gup_fast_devmap_leaf(w, orig, slot, size, addr, end);
	}
	head = zd_pfn_to_page(w->mm->sys, zd_pte_pfn(orig));
	if (!head)
		return false;

	/* record_subpages() */
	page = head + ((addr & (size - 1)) >> ZD_PAGE_SHIFT);
	for (unsigned long a = addr; a != end; a += ZD_PAGE_SIZE)
		w->pages[w->nr + (unsigned long)refs++] = page++;

	folio = try_grab_folio_fast(head, refs, w->flags);
	if (!folio)
		return false;
	if (zd_unlikely(_zd_read_entry(slot) != orig))
		goto put;
	if (zd_unlikely(device_private_mapped(folio, head)))
		goto put;
	if (!gup_fast_folio_allowed(folio, w->flags))
		goto put;
	if (!zd_pte_write(orig) && _zd_gup_must_unshare(NULL, w->flags, &folio->page))
		goto put;
	w->nr += (unsigned long)refs;
	folio_set_referenced(folio);
	return true;
put:
	_zd_gup_put_folio(folio, refs, w->flags);
	return false;
}

static bool gup_fast_pmd_range(struct gup_fast_walk *w, zd_pte_t pud, unsigned long addr,
			       unsigned long end)
{
	struct zd_pgtable *t = _zd_entry_table(pud);
	unsigned long next;

	do {
		_Atomic zd_pte_t *pmdp = &t->ent[_zd_level_index(addr, ZD_LVL_PMD)];
		zd_pte_t pmd = _zd_read_entry(pmdp);

		next = addr_end(addr, end, ZD_PMD_SIZE);
		if (!zd_pte_present(pmd))
			return false;	/* none, device-private THP, migration */
		if (zd_pte_huge(pmd)) {
			/* NUMA hinting and PROT_NONE are handled by the slow path. */
			if (zd_pte_protnone(pmd))
				return false;
			if (!gup_fast_huge_leaf(w, pmd, pmdp, ZD_PMD_SIZE, addr, next))
				return false;
		} else if (!gup_fast_pte_range(w, pmd, pmdp, addr, next)) {
			return false;
		}
	} while (addr = next, addr != end);
	return true;
}

static bool gup_fast_pud_range(struct gup_fast_walk *w, zd_pte_t pgd, unsigned long addr,
			       unsigned long end)
{
	struct zd_pgtable *t = _zd_entry_table(pgd);
	unsigned long next;

	do {
		_Atomic zd_pte_t *pudp = &t->ent[_zd_level_index(addr, ZD_LVL_PUD)];
		zd_pte_t pud = _zd_read_entry(pudp);

		next = addr_end(addr, end, ZD_PUD_SIZE);
		if (!zd_pte_present(pud))
			return false;
		if (zd_pte_huge(pud)) {
			if (!gup_fast_huge_leaf(w, pud, pudp, ZD_PUD_SIZE, addr, next))
				return false;
		} else if (!gup_fast_pmd_range(w, pud, addr, next)) {
			return false;
		}
	} while (addr = next, addr != end);
	return true;
}

static void gup_fast_pgd_range(struct gup_fast_walk *w, unsigned long addr, unsigned long end)
{
	unsigned long next;

	do {
		zd_pte_t pgd = _zd_read_entry(&w->mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)]);

		next = addr_end(addr, end, 1ul << ZD_PGD_SHIFT);
		if (!(pgd & ZD_PTE_PRESENT))
			return;
		if (!gup_fast_pud_range(w, pgd, addr, next))
			return;
	} while (addr = next, addr != end);
}

/* gup_fast_unpin_user_pages(): no sanity checks, we may have raced with fork. */
static void gup_fast_unpin_user_pages(struct zd_page **pages, unsigned long npages)
{
	unsigned long i, nr;

	for (i = 0; i < npages; i += nr) {
		struct zd_folio *folio = zd_page_folio(pages[i]);

		for (nr = 1; i + nr < npages; nr++)
			if (zd_page_folio(pages[i + nr]) != folio)
				break;
		_zd_gup_put_folio(folio, (int)nr, ZD_FOLL_PIN);
	}
}

/* gup_fast: how many leading pages of [start, end) the lockless walk took. */
static unsigned long gup_fast(struct zd_mm *mm, unsigned long start, unsigned long end,
			      unsigned int flags, struct zd_page **pages)
{
	struct gup_fast_walk w = { .mm = mm, .flags = flags, .pages = pages };
	unsigned int seq = 0;

	if ((flags & ZD_FOLL_PIN) && !wp_seq_begin(mm, &seq))
		return 0;
	/* The tables the walk reads are freed only after a grace period. */
	zd_rcu_read_lock();
	gup_fast_pgd_range(&w, start, end);
	zd_rcu_read_unlock();
	/* A fork write-protected meanwhile: pins taken now could be shared. */
	if ((flags & ZD_FOLL_PIN) && wp_seq_retry(mm, seq)) {
		gup_fast_unpin_user_pages(pages, w.nr);
		return 0;
	}
	return w.nr;
}

static int gup_fast_fallback(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			     unsigned int flags, struct zd_page **pages)
{
	unsigned long len, end, nr_pinned;
	long ret;

	if (flags & ZD_FOLL_PIN)
		_zd_mm_set_has_pinned_flag(mm);
	start &= ~(ZD_PAGE_SIZE - 1);
	if (nr_pages > (~0ul >> ZD_PAGE_SHIFT))
		return -EOVERFLOW;
	len = nr_pages << ZD_PAGE_SHIFT;
	if (start > ~0ul - len)
		return -EOVERFLOW;
	end = start + len;
	if (end > ZD_TASK_SIZE)
		return -EFAULT;

	nr_pinned = gup_fast(mm, start, end, flags, pages);
	if (nr_pinned == nr_pages || (flags & ZD_FOLL_FAST_ONLY))
		return (int)nr_pinned;

	/* The slow path for the rest of the range. */
	zd_mmap_read_lock(mm);
	ret = _zd_gup_longterm_locked(mm, start + (nr_pinned << ZD_PAGE_SHIFT),
				      nr_pages - nr_pinned, pages + nr_pinned,
				      flags | ZD_FOLL_TOUCH);
	zd_mmap_read_unlock(mm);
	if (ret < 0) {
		/* The caller must release what the fast path took: report that. */
		return nr_pinned ? (int)nr_pinned : (int)ret;
	}
	return (int)(ret + (long)nr_pinned);
}

/* ---------------------------------------------------------------- */
/* Entry points                                                      */
/* ---------------------------------------------------------------- */

int zd_get_user_pages_fast(struct zd_mm *mm, unsigned long start, int nr_pages,
			   unsigned int gup_flags, struct zd_page **pages)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_FAST_FLAGS, ZD_FOLL_GET);

	if (err)
		return err;
	if (nr_pages <= 0)
		return 0;
	return gup_fast_fallback(mm, start, (unsigned long)nr_pages, gup_flags, pages);
}

int zd_pin_user_pages_fast(struct zd_mm *mm, unsigned long start, int nr_pages,
			   unsigned int gup_flags, struct zd_page **pages)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_FAST_FLAGS, ZD_FOLL_PIN);

	if (err)
		return err;
	if (nr_pages <= 0)
		return 0;
	return gup_fast_fallback(mm, start, (unsigned long)nr_pages, gup_flags, pages);
}

int zd_get_user_pages_fast_only(struct zd_mm *mm, unsigned long start, int nr_pages,
				unsigned int gup_flags, struct zd_page **pages)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_FAST_FLAGS,
				     ZD_FOLL_GET | ZD_FOLL_FAST_ONLY);

	if (err)
		return err;
	if (nr_pages <= 0)
		return 0;
	return gup_fast_fallback(mm, start, (unsigned long)nr_pages, gup_flags, pages);
}
