// SPDX-License-Identifier: MIT
/*
 * src/gup/gup.c - get_user_pages / pin_user_pages, the slow path.
 *
 * Models mm/gup.c (semantics §4): try_grab_folio and gup_put_folio (GET
 * vs PIN accounting, R4.2-R4.3), the unpin family (R4.4-R4.5),
 * check_vma_flags (R4.7-R4.9), follow_page_mask down to follow_page_pte
 * and the huge-leaf followers (§4.2), faultin_page, __get_user_pages,
 * and __gup_longterm_locked with the longterm-pinnable check (R4.10).
 * Devmap entries (the legacy scheme's device DAX) are followed as 6.14's
 * follow_page_pte and follow_devmap_pmd/pud did: a page reference plus a
 * pgmap reference cached for the whole call (L7).
 * The lockless fast path is in gup_fast.c.
 *
 * Locking, as in Linux: the caller holds mmap_lock for read; a PTE is
 * read and its page grabbed under the PTE table's lock, a PMD/PUD leaf
 * under mm->page_table_lock. The walk also runs inside an RCU read-side
 * section (pte_offset_map does rcu_read_lock), so a table unlinked
 * meanwhile is not freed under it; the PMD is re-checked once the PTE
 * lock is held.
 */
#include <errno.h>

#include <zonedev/migrate.h>

#include "internal.h"

#ifndef EHWPOISON
#define EHWPOISON 133
#endif

/*
 * A fault that leaves the entry as it was would make Linux's GUP loop
 * forever; the model reports it (a fault-handler bug) and fails with
 * -EFAULT after this many faults at one address.
 */
#define GUP_MAX_FAULTS_PER_PAGE 1000
/* The same for __gup_longterm_locked's migrate-and-retry loop. */
#define GUP_MAX_LONGTERM_RETRIES 100

/* ---------------------------------------------------------------- */
/* Grab and release (try_grab_folio, gup_put_folio)                  */
/* ---------------------------------------------------------------- */

bool _zd_is_zero_folio(const struct zd_folio *folio)
{
	return folio == zd_zero_folio(zd_page_system(&folio->page));
}

void _zd_gup_pin_event(struct zd_folio *folio, bool pin, int pins)
{
	struct zd_system *sys = zd_page_system(&folio->page);

	if (_zd_tracing(sys))
		_zd_emit(sys, pin ? ZD_EV_PIN : ZD_EV_UNPIN, folio, pin ? pins : -pins);
}

int _zd_try_grab_folio(struct zd_folio *folio, int refs, unsigned int flags)
{
	int count = zd_folio_ref_count(folio);
	long add;

	if (zd_unlikely(count <= 0)) {
		_zd_report_page(zd_page_system(&folio->page), ZD_MISUSE_GET_FREE, "R4.2",
				&folio->page, "try_grab_folio on a folio with refcount %d", count);
		return -ENOMEM;
	}
	if (zd_unlikely(!(flags & ZD_FOLL_PCI_P2PDMA) && _zd_folio_is_p2pdma(folio)))
		return -EREMOTEIO;

	if (flags & ZD_FOLL_GET) {
		if ((long)count + refs > ZD_GUP_REFCOUNT_LIMIT)
			return -ENOMEM;
		zd_folio_ref_add(folio, refs);
		return 0;
	}
	if (!(flags & ZD_FOLL_PIN))
		return 0;
	/* Don't pin the zero page: it is not going anywhere and is mapped everywhere. */
	if (_zd_is_zero_folio(folio))
		return 0;

	add = zd_folio_test_large(folio) ? refs : (long)refs * ZD_GUP_PIN_COUNTING_BIAS;
	if ((long)count + add > ZD_GUP_REFCOUNT_LIMIT)
		return -ENOMEM;
	/* Raise the refcount at least once, so that the folio really is pinned. */
	zd_folio_ref_add(folio, (int)add);
	if (zd_folio_test_large(folio))
		zd_atomic_fetch_add_relaxed(&folio->page._pincount, refs);
	_zd_gup_pin_event(folio, true, refs);
	return 0;
}

/* Unpin misuse: the folio does not have the pins being dropped. */
static void report_bad_unpin(struct zd_folio *folio, int refs, int have, const char *what)
{
	_zd_report_page(zd_page_system(&folio->page), ZD_MISUSE_BAD_STATE, "R4.3", &folio->page,
			"unpin of %d pin(s) on a folio with %s %d", refs, what, have);
}

void _zd_gup_put_folio(struct zd_folio *folio, int refs, unsigned int flags)
{
	long drop = refs;

	if (flags & ZD_FOLL_PIN) {
		if (_zd_is_zero_folio(folio))
			return;
		if (zd_folio_test_large(folio)) {
			int c = zd_atomic_load_relaxed(&folio->page._pincount);

			/* _pincount first, then the references: refcount >= pincount throughout. */
			do {
				if (zd_unlikely(c < refs)) {
					report_bad_unpin(folio, refs, c, "pincount");
					return;
				}
			} while (!zd_atomic_cmpxchg_relaxed(&folio->page._pincount, &c, c - refs));
		} else {
			int c = zd_folio_ref_count(folio);

			drop = (long)refs * ZD_GUP_PIN_COUNTING_BIAS;
			if (zd_unlikely(c < drop)) {
				report_bad_unpin(folio, refs, c, "refcount");
				return;
			}
		}
		_zd_gup_pin_event(folio, false, refs);
	}
	zd_folio_put_refs(folio, (int)drop);
}

/* ---------------------------------------------------------------- */
/* Unpin                                                             */
/* ---------------------------------------------------------------- */

void zd_unpin_user_page(struct zd_page *page)
{
	_zd_gup_put_folio(zd_page_folio(page), 1, ZD_FOLL_PIN);
}

void zd_unpin_folio(struct zd_folio *folio)
{
	_zd_gup_put_folio(folio, 1, ZD_FOLL_PIN);
}

void zd_unpin_user_folio(struct zd_folio *folio, unsigned long npages)
{
	_zd_gup_put_folio(folio, (int)npages, ZD_FOLL_PIN);
}

void zd_folio_add_pin(struct zd_folio *folio)
{
	if (_zd_is_zero_folio(folio))
		return;
	if (zd_folio_test_large(folio) ? zd_folio_pincount(folio) < 1 :
					 zd_folio_ref_count(folio) < ZD_GUP_PIN_COUNTING_BIAS) {
		_zd_report_page(zd_page_system(&folio->page), ZD_MISUSE_BAD_STATE, "R4.5",
				&folio->page, "folio_add_pin on a folio that is not pinned");
		return;
	}
	if (zd_folio_test_large(folio)) {
		zd_folio_ref_add(folio, 1);
		zd_atomic_fetch_add_relaxed(&folio->page._pincount, 1);
	} else {
		zd_folio_ref_add(folio, ZD_GUP_PIN_COUNTING_BIAS);
	}
	_zd_gup_pin_event(folio, true, 1);
}

/*
 * gup_folio_next: the folio of list[i] and how many entries from i on
 * belong to it (stopping at a NULL entry).
 */
static struct zd_folio *gup_folio_next(struct zd_page **list, unsigned long npages,
				       unsigned long i, unsigned long *ntails)
{
	struct zd_folio *folio = zd_page_folio(list[i]);
	unsigned long nr;

	for (nr = i + 1; nr < npages; nr++) {
		if (!list[nr] || zd_page_folio(list[nr]) != folio)
			break;
	}
	*ntails = nr - i;
	return folio;
}

/* A count that is really a negative errno (IS_ERR_VALUE). */
static bool is_err_count(unsigned long n)
{
	return n >= (unsigned long)-4095;
}

/* folio_mark_dirty() under the folio lock; the zero page is left alone. */
static void mark_dirty_locked(struct zd_folio *folio)
{
	if (zd_folio_test_flag(folio, ZD_PG_dirty) || _zd_is_zero_folio(folio))
		return;
	zd_folio_lock(folio);
	zd_page_set_flag(&folio->page, ZD_PG_dirty);
	zd_folio_unlock(folio);
}

/* Consecutive entries of one folio are unpinned in one batch; NULL entries skipped. */
static void unpin_pages(struct zd_page **pages, unsigned long npages, bool make_dirty)
{
	unsigned long i, nr;

	if (is_err_count(npages))
		return;
	for (i = 0; i < npages; i += nr) {
		struct zd_folio *folio;

		if (!pages[i]) {
			nr = 1;
			continue;
		}
		folio = gup_folio_next(pages, npages, i, &nr);
		if (make_dirty)
			mark_dirty_locked(folio);
		_zd_gup_put_folio(folio, (int)nr, ZD_FOLL_PIN);
	}
}

void zd_unpin_user_pages(struct zd_page **pages, unsigned long npages)
{
	unpin_pages(pages, npages, false);
}

void zd_unpin_user_pages_dirty_lock(struct zd_page **pages, unsigned long npages,
				    bool make_dirty)
{
	unpin_pages(pages, npages, make_dirty);
}

void zd_unpin_user_page_range_dirty_lock(struct zd_page *page, unsigned long npages,
					 bool make_dirty)
{
	unsigned long i, nr;

	for (i = 0; i < npages; i += nr) {
		struct zd_page *next = page + i;	/* the memmap is contiguous within a folio */
		struct zd_folio *folio = zd_page_folio(next);
		unsigned long idx = (unsigned long)(next - &folio->page);

		nr = zd_folio_nr_pages(folio) - idx;
		if (nr > npages - i)
			nr = npages - i;
		if (make_dirty)
			mark_dirty_locked(folio);
		_zd_gup_put_folio(folio, (int)nr, ZD_FOLL_PIN);
	}
}

void zd_unpin_folios(struct zd_folio **folios, unsigned long nfolios)
{
	unsigned long i = 0, j;

	if (is_err_count(nfolios))
		return;
	while (i < nfolios) {
		for (j = i + 1; j < nfolios; j++)
			if (folios[i] != folios[j])
				break;
		if (folios[i])
			_zd_gup_put_folio(folios[i], (int)(j - i), ZD_FOLL_PIN);
		i = j;
	}
}

/* ---------------------------------------------------------------- */
/* Long-term pins                                                    */
/* ---------------------------------------------------------------- */

bool zd_folio_is_longterm_pinnable(const struct zd_folio *folio)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);

	if (!pgmap)
		return true;	/* RAM: no CMA, no ZONE_MOVABLE in the model; the zero page */
	/* Coherent device memory must always allow eviction. */
	if (pgmap->type == ZD_MEMORY_DEVICE_COHERENT)
		return false;
	/* File systems tolerate only transient delays to truncate and hole punch. */
	if (pgmap->type == ZD_MEMORY_DEVICE_FS_DAX)
		return false;
	return true;
}

long _zd_check_and_migrate_movable_pages(unsigned long nr, struct zd_page **pages)
{
	struct zd_folio *prev = NULL;
	bool coherent = false, other = false;
	unsigned long i;
	long ret;

	/* collect_longterm_unpinnable_folios */
	for (i = 0; i < nr; i++) {
		struct zd_folio *folio;

		if (!pages[i])
			continue;
		folio = zd_page_folio(pages[i]);
		if (folio == prev)
			continue;
		prev = folio;
		if (zd_folio_is_longterm_pinnable(folio))
			continue;
		if (zd_folio_pgmap(folio)->type == ZD_MEMORY_DEVICE_COHERENT)
			coherent = true;
		else
			other = true;
	}
	if (!coherent && !other)
		return 0;
	if (other) {
		/*
		 * fs-dax folios: an fs-dax VMA is refused before any pin
		 * (R4.7), so this is a fs-dax page reached some other way.
		 * Linux would find nothing to isolate and keep the pin; the
		 * model has nothing that could migrate it and keeps R12.8.
		 */
		zd_unpin_user_pages(pages, nr);
		return -EOPNOTSUPP;
	}

	/* migrate_longterm_unpinnable_folios */
	for (i = 0; i < nr; i++) {
		struct zd_folio *folio;

		if (!pages[i])
			continue;
		folio = zd_page_folio(pages[i]);
		if (!zd_folio_is_longterm_pinnable(folio)) {
			/*
			 * Migration fails on a pinned folio: turn the pin into
			 * a plain reference, which the migration consumes.
			 */
			pages[i] = NULL;
			zd_folio_get(folio);
			_zd_gup_put_folio(folio, 1, ZD_FOLL_PIN);
			if (zd_migrate_device_coherent_folio(folio)) {
				ret = -EBUSY;
				goto err;
			}
			continue;
		}
		/* Everything else is unpinned too, and the whole range pinned again. */
		zd_unpin_user_page(pages[i]);
		pages[i] = NULL;
	}
	return -EAGAIN;
err:
	zd_unpin_user_pages(pages, nr);
	return ret;
}

/* ---------------------------------------------------------------- */
/* VMA checks (check_vma_flags)                                      */
/* ---------------------------------------------------------------- */

static bool vma_is_accessible(const struct zd_vm_area_struct *vma)
{
	return vma->vm_flags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC);
}

static bool is_cow_mapping(unsigned long vm_flags)
{
	return (vm_flags & (ZD_VM_SHARED | ZD_VM_MAYWRITE)) == ZD_VM_MAYWRITE;
}

/*
 * vma_needs_dirty_tracking(): a shared writable mapping whose file system
 * wants write notification or can write back. The model's files: shmem and
 * DAX ones cannot write back; any other file is assumed to. shmem never
 * needs it (the model's shmem has a page_mkwrite that Linux's lacks, so it
 * is recognised by its mapping first).
 */
static bool vma_needs_dirty_tracking(const struct zd_vm_area_struct *vma)
{
	const struct zd_address_space *as = vma->vm_file ? vma->vm_file->f_mapping : NULL;

	if ((vma->vm_flags & (ZD_VM_WRITE | ZD_VM_SHARED)) != (ZD_VM_WRITE | ZD_VM_SHARED))
		return false;
	if (as && (as->flags & ZD_AS_SHMEM))
		return false;
	if (vma->vm_ops && (vma->vm_ops->page_mkwrite || vma->vm_ops->pfn_mkwrite))
		return true;
	if (vma->vm_flags & ZD_VM_PFNMAP)
		return false;
	if (!as)
		return false;
	return !(as->flags & ZD_AS_DAX);
}

/* writable_file_mapping_allowed(): only a long-term pin is refused (R4.8). */
static bool writable_file_mapping_allowed(const struct zd_vm_area_struct *vma,
					  unsigned int flags)
{
	if ((flags & (ZD_FOLL_PIN | ZD_FOLL_LONGTERM)) != (ZD_FOLL_PIN | ZD_FOLL_LONGTERM))
		return true;
	return !vma_needs_dirty_tracking(vma);
}

static int check_vma_flags(const struct zd_vm_area_struct *vma, unsigned int flags)
{
	unsigned long vm_flags = vma->vm_flags;
	bool anon = zd_vma_is_anonymous(vma);

	if (vm_flags & (ZD_VM_IO | ZD_VM_PFNMAP))
		return -EFAULT;
	if ((flags & ZD_FOLL_ANON) && !anon)
		return -EFAULT;
	if ((flags & ZD_FOLL_LONGTERM) && zd_vma_is_fsdax(vma))
		return -EOPNOTSUPP;			/* R4.7 */
	/* secretmem is not modelled. */
	if (flags & ZD_FOLL_WRITE) {
		if (!anon && !writable_file_mapping_allowed(vma, flags))
			return -EFAULT;			/* R4.8 */
		if (!(vm_flags & ZD_VM_WRITE)) {
			if (!(flags & ZD_FOLL_FORCE))
				return -EFAULT;		/* R4.9 */
			/* FOLL_FORCE writes only private (COW) mappings. */
			if (!is_cow_mapping(vm_flags))
				return -EFAULT;
		}
	} else if (!(vm_flags & ZD_VM_READ)) {
		if (!(flags & ZD_FOLL_FORCE))
			return -EFAULT;
		if (!(vm_flags & ZD_VM_MAYREAD))
			return -EFAULT;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Following the page table (follow_page_mask)                       */
/* ---------------------------------------------------------------- */

/*
 * gup_can_follow_protnone(): a PROT_NONE entry is followed unless the
 * caller honours NUMA hinting faults in an accessible VMA (there the
 * fault restores the entry).
 */
static bool can_follow_protnone(const struct zd_vm_area_struct *vma, unsigned int flags)
{
	if (!(flags & ZD_FOLL_HONOR_NUMA_FAULT))
		return true;
	return !vma_is_accessible(vma);
}

static bool page_anon_exclusive(const struct zd_page *page)
{
	return zd_page_test_flag(page, ZD_PG_anon_exclusive);
}

bool _zd_gup_must_unshare(const struct zd_vm_area_struct *vma, unsigned int flags,
			  const struct zd_page *page)
{
	/* A writable entry of an anonymous page is exclusive already. */
	if ((flags & (ZD_FOLL_WRITE | ZD_FOLL_PIN)) != ZD_FOLL_PIN)
		return false;
	if (!zd_folio_test_anon(zd_page_folio(page))) {
		/* Only R/O long-term pins must see later writes through the page table. */
		if (!(flags & ZD_FOLL_LONGTERM))
			return false;
		if (!vma)
			return true;
		return is_cow_mapping(vma->vm_flags);
	}
	/*
	 * Pairs with the barrier of the migration/swap path's "try to mark
	 * shared" (folio_try_share_anon_rmap, B5): the caller read the entry
	 * with acquire after its pin, so this load is ordered after it.
	 */
	return !page_anon_exclusive(page);
}

/* can_follow_write_common(): FOLL_FORCE on an exclusive anon page in a private R/O VMA. */
static bool can_follow_write_common(const struct zd_page *page,
				    const struct zd_vm_area_struct *vma, unsigned int flags)
{
	if (!(flags & ZD_FOLL_FORCE))
		return false;
	if (vma->vm_flags & (ZD_VM_MAYSHARE | ZD_VM_SHARED))
		return false;
	if (!(vma->vm_flags & ZD_VM_MAYWRITE))
		return false;
	if (vma->vm_flags & ZD_VM_WRITE)
		return false;	/* writable: just take the write fault */
	return page && zd_folio_test_anon(zd_page_folio(page)) && page_anon_exclusive(page);
}

static bool can_follow_write(zd_pte_t e, const struct zd_page *page,
			     const struct zd_vm_area_struct *vma, unsigned int flags)
{
	return zd_pte_write(e) || can_follow_write_common(page, vma, flags);
}

/*
 * no_page_table(): nothing mapped. NULL (fault it in), or for a core dump
 * of an anonymous (or fault-less) VMA -EFAULT, leaving a hole.
 */
static int no_page_table(const struct zd_vm_area_struct *vma, unsigned int flags)
{
	if (!(flags & ZD_FOLL_DUMP))
		return 0;
	if (zd_vma_is_anonymous(vma) || !vma->vm_ops || !vma->vm_ops->fault)
		return -EFAULT;
	return 0;
}

/* A PIN of an anonymous page needs it exclusive (VM_BUG_ON_PAGE in Linux). */
static void check_pin_exclusive(const struct zd_page *page, unsigned int flags)
{
	if ((flags & ZD_FOLL_PIN) && zd_folio_test_anon(zd_page_folio(page)) &&
	    !page_anon_exclusive(page))
		_zd_report_page(zd_page_system(page), ZD_MISUSE_BAD_STATE, "R12.11", page,
				"GUP pins an anonymous page that is not exclusive");
}

/* FOLL_TOUCH: folio_mark_dirty for writes, folio_mark_accessed. */
static void touch_folio(struct zd_folio *folio, zd_pte_t e, unsigned int flags)
{
	if ((flags & ZD_FOLL_WRITE) && !zd_pte_dirty(e) &&
	    !zd_folio_test_flag(folio, ZD_PG_dirty))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	if (!zd_folio_test_flag(folio, ZD_PG_referenced))
		zd_page_set_flag(&folio->page, ZD_PG_referenced);
}

/*
 * follow_page_pte: the PTE for @addr in the table @pmdval points to.
 * Returns 0 with *pagep set (grabbed per @flags) or NULL (fault needed),
 * or -EMLINK (unshare fault needed), -EEXIST (no struct page: pfn map),
 * -EFAULT (FOLL_DUMP), or a grab error. Context: RCU read side.
 */
static int follow_page_pte(struct zd_vm_area_struct *vma, unsigned long addr,
			   _Atomic zd_pte_t *pmdp, zd_pte_t pmdval, unsigned int flags,
			   struct zd_dev_pagemap **pgmap, struct zd_page **pagep)
{
	struct zd_mm *mm = vma->vm_mm;
	_Atomic zd_pte_t *ptep = &_zd_entry_table(pmdval)->ent[_zd_level_index(addr, ZD_LVL_PTE)];
	struct zd_spinlock *ptl = _zd_pte_lockptr(ptep);
	struct zd_page *page = NULL;
	struct zd_folio *folio;
	zd_pte_t pte;
	int ret = 0;

	zd_spin_lock(ptl);
	/* pte_offset_map_lock(): the table must still be the one the PMD points to. */
	if (_zd_read_entry(pmdp) != pmdval) {
		zd_spin_unlock(ptl);
		return 0;
	}
	pte = _zd_read_entry(ptep);
	if (!zd_pte_present(pte))
		goto no_page;	/* none, device-private (B21), exclusive, migration */
	if (zd_pte_protnone(pte) && !can_follow_protnone(vma, flags))
		goto no_page;

	page = zd_vm_normal_page(vma, addr, pte);
	if ((flags & ZD_FOLL_WRITE) && !can_follow_write(pte, page, vma, flags)) {
		page = NULL;	/* write fault: break COW */
		goto out;
	}
	if (!page && zd_pte_devmap(pte) && (flags & (ZD_FOLL_GET | ZD_FOLL_PIN))) {
		/* Only with a reference: the page is valid while the pgmap is held. */
		*pgmap = _zd_get_dev_pagemap_cached(mm->sys, zd_pte_pfn(pte), *pgmap);
		if (!*pgmap)
			goto no_page;
		page = zd_pfn_to_page(mm->sys, zd_pte_pfn(pte));
	} else if (!page) {
		if (flags & ZD_FOLL_DUMP) {
			ret = -EFAULT;	/* no special pages in core dumps */
			goto out;
		}
		if (zd_pte_pfn(pte) == _zd_zero_pfn(mm)) {
			page = &zd_zero_folio(mm->sys)->page;
		} else {
			/* follow_pfn_pte(): a proper entry without a struct page */
			if (flags & ZD_FOLL_TOUCH) {
				zd_pte_t e = zd_pte_mkyoung(pte);

				if (flags & ZD_FOLL_WRITE)
					e = zd_pte_mkdirty(e);
				if (e != pte)
					_zd_set_entry(ptep, e);
			}
			ret = -EEXIST;
			goto out;
		}
	}
	folio = zd_page_folio(page);
	if (!zd_pte_write(pte) && _zd_gup_must_unshare(vma, flags, page)) {
		ret = -EMLINK;
		goto out;
	}
	check_pin_exclusive(page, flags);
	ret = _zd_try_grab_folio(folio, 1, flags);
	if (ret)
		goto out;
	if (flags & ZD_FOLL_TOUCH)
		touch_folio(folio, pte, flags);
out:
	zd_spin_unlock(ptl);
	*pagep = ret ? NULL : page;
	return ret;
no_page:
	zd_spin_unlock(ptl);
	if (!zd_pte_none(pte))
		return 0;
	return no_page_table(vma, flags);
}

/*
 * touch_pmd()/touch_pud(): with FOLL_TOUCH a followed leaf becomes young,
 * and dirty for a write. Context: the leaf's lock held.
 */
static void touch_leaf(_Atomic zd_pte_t *slot, zd_pte_t e, unsigned int flags)
{
	zd_pte_t t = zd_pte_mkyoung(e);

	if (!(flags & ZD_FOLL_TOUCH))
		return;
	if (flags & ZD_FOLL_WRITE)
		t = zd_pte_mkdirty(t);
	if (t != e)
		_zd_set_entry(slot, t);
}

/*
 * follow_devmap_pmd / follow_devmap_pud (6.14 and older, L7): the one page
 * at @addr of a devmap leaf @e, with a reference (only with GET or PIN:
 * else -EEXIST) and the pgmap held in *@pgmap until the GUP call returns
 * (-EFAULT if the pgmap is dying). Unlike a refcounted leaf it is taken
 * page by page. Context: the leaf's lock held; the caller checked write.
 */
static int follow_devmap_leaf(struct zd_vm_area_struct *vma, unsigned long addr,
			      _Atomic zd_pte_t *slot, zd_pte_t e, unsigned long size,
			      unsigned int flags, struct zd_dev_pagemap **pgmap,
			      struct zd_page **pagep)
{
	struct zd_system *sys = vma->vm_mm->sys;
	unsigned long pfn = zd_pte_pfn(e) + ((addr & (size - 1)) >> ZD_PAGE_SHIFT);
	struct zd_page *page;
	int ret;

	touch_leaf(slot, e, flags);
	if (!(flags & (ZD_FOLL_GET | ZD_FOLL_PIN)))
		return -EEXIST;
	*pgmap = _zd_get_dev_pagemap_cached(sys, pfn, *pgmap);
	if (!*pgmap)
		return -EFAULT;
	page = zd_pfn_to_page(sys, pfn);
	ret = _zd_try_grab_folio(zd_page_folio(page), 1, flags);
	if (!ret)
		*pagep = page;
	return ret;
}

/*
 * follow_huge_pmd / follow_huge_pud: a leaf at @lvl. The whole leaf is
 * found at once: *page_mask covers it and the folio is grabbed once
 * (the caller grabs the other subpages it uses). Context: RCU read side.
 */
static int follow_huge_leaf(struct zd_vm_area_struct *vma, unsigned long addr,
			    _Atomic zd_pte_t *slot, enum zd_pt_level lvl, unsigned int flags,
			    struct zd_dev_pagemap **pgmap, unsigned long *page_mask,
			    struct zd_page **pagep)
{
	struct zd_mm *mm = vma->vm_mm;
	struct zd_spinlock *ptl = _zd_huge_lockptr(mm);
	unsigned long size = lvl == ZD_LVL_PUD ? ZD_PUD_SIZE : ZD_PMD_SIZE;
	struct zd_page *page;
	struct zd_folio *folio;
	zd_pte_t e;
	int ret;

	zd_spin_lock(ptl);
	e = _zd_read_entry(slot);
	if (!zd_pte_present(e)) {
		zd_spin_unlock(ptl);
		return no_page_table(vma, flags);
	}
	if (!zd_pte_huge(e)) {
		zd_spin_unlock(ptl);
		/* Split meanwhile: a PMD now points to a PTE table. */
		if (lvl == ZD_LVL_PMD)
			return follow_page_pte(vma, addr, slot, e, flags, pgmap, pagep);
		return 0;	/* a PUD split: the fault finds it mapped, then retry */
	}
	if (zd_pte_protnone(e) && !can_follow_protnone(vma, flags)) {
		zd_spin_unlock(ptl);
		return no_page_table(vma, flags);
	}
	page = zd_vm_normal_page(vma, addr & ~(size - 1), e);
	if ((flags & ZD_FOLL_WRITE) && !can_follow_write(e, page, vma, flags)) {
		zd_spin_unlock(ptl);
		return 0;
	}
	if (!page && zd_pte_devmap(e)) {
		ret = follow_devmap_leaf(vma, addr, slot, e, size, flags, pgmap, pagep);
		zd_spin_unlock(ptl);
		return ret;
	}
	if (!page && lvl == ZD_LVL_PMD && _zd_is_huge_zero_pmd(mm, e)) {
		/* follow_huge_pmd(): the huge zero folio is followed, not dumped. */
		if (flags & ZD_FOLL_DUMP) {
			zd_spin_unlock(ptl);
			return -EFAULT;
		}
		page = &zd_huge_zero_folio(mm->sys)->page;
	} else if (!page) {
		/* A special leaf of a pfn map. */
		zd_spin_unlock(ptl);
		return (flags & ZD_FOLL_DUMP) ? -EFAULT : -EEXIST;
	}
	folio = zd_page_folio(page);
	if (!zd_pte_write(e) && _zd_gup_must_unshare(vma, flags, page)) {
		zd_spin_unlock(ptl);
		return -EMLINK;
	}
	check_pin_exclusive(page, flags);
	ret = _zd_try_grab_folio(folio, 1, flags);
	if (ret) {
		zd_spin_unlock(ptl);
		return ret;
	}
	touch_leaf(slot, e, flags);
	zd_spin_unlock(ptl);
	*pagep = page + ((addr & (size - 1)) >> ZD_PAGE_SHIFT);
	*page_mask = (size >> ZD_PAGE_SHIFT) - 1;
	return 0;
}

/*
 * FOLL_SPLIT_PMD (follow_pmd_mask): split the PMD leaf at @pmdp (an
 * anonymous THP or the huge zero folio becomes a PTE table mapping the
 * same pages; any other leaf is removed), make sure a PTE table is there
 * (so the fault that may follow is a PTE fault, not a new PMD leaf), and
 * follow the PTE. A PUD leaf is not split (as in Linux). Returns as
 * follow_page_pte, or -ENOMEM if no PTE table could be allocated.
 * Context: mmap_lock held, not the RCU read side (the split may sleep).
 */
static int follow_split_pmd(struct zd_vm_area_struct *vma, unsigned long addr,
			    _Atomic zd_pte_t *pmdp, unsigned int flags,
			    struct zd_dev_pagemap **pgmap, struct zd_page **pagep)
{
	struct zd_mm *mm = vma->vm_mm;
	zd_pte_t e;
	int ret = 0;

	_zd_split_huge_pmd(vma, pmdp, addr);
	if (!_zd_pxx_alloc(mm, addr, ZD_LVL_PTE))
		return zd_pte_huge(_zd_read_entry(pmdp)) ? 0 : -ENOMEM;
	zd_rcu_read_lock();
	e = _zd_read_entry(pmdp);
	/* A leaf again (a racing fault): 0 without a page, the caller faults and retries. */
	if (zd_pte_present(e) && !zd_pte_huge(e))
		ret = follow_page_pte(vma, addr, pmdp, e, flags, pgmap, pagep);
	zd_rcu_read_unlock();
	return ret;
}

/*
 * follow_page_mask: the page mapped at @addr, grabbed per @flags.
 * 0 with *pagep (NULL: fault needed), or -EMLINK/-EEXIST/-EFAULT/grab
 * errors as follow_page_pte. Context: mmap_lock held.
 */
static int follow_page_mask(struct zd_vm_area_struct *vma, unsigned long addr,
			    unsigned int flags, struct zd_dev_pagemap **pgmap,
			    unsigned long *page_mask, struct zd_page **pagep)
{
	struct zd_mm *mm = vma->vm_mm;
	_Atomic zd_pte_t *pudp, *pmdp;
	zd_pte_t e;
	int ret;

	*page_mask = 0;
	*pagep = NULL;
	zd_rcu_read_lock();
	e = _zd_read_entry(&mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)]);
	if (!(e & ZD_PTE_PRESENT))
		goto no_table;
	pudp = &_zd_entry_table(e)->ent[_zd_level_index(addr, ZD_LVL_PUD)];
	e = _zd_read_entry(pudp);
	if (!zd_pte_present(e))
		goto no_table;
	if (zd_pte_huge(e)) {
		ret = follow_huge_leaf(vma, addr, pudp, ZD_LVL_PUD, flags, pgmap, page_mask, pagep);
		goto out;
	}
	pmdp = &_zd_entry_table(e)->ent[_zd_level_index(addr, ZD_LVL_PMD)];
	e = _zd_read_entry(pmdp);
	if (!zd_pte_present(e))
		goto no_table;	/* none, or a device-private / migration PMD entry */
	if (!zd_pte_huge(e)) {
		ret = follow_page_pte(vma, addr, pmdp, e, flags, pgmap, pagep);
	} else if (flags & ZD_FOLL_SPLIT_PMD) {
		zd_rcu_read_unlock();
		return follow_split_pmd(vma, addr, pmdp, flags, pgmap, pagep);
	} else {
		ret = follow_huge_leaf(vma, addr, pmdp, ZD_LVL_PMD, flags, pgmap, page_mask, pagep);
	}
out:
	zd_rcu_read_unlock();
	return ret;
no_table:
	zd_rcu_read_unlock();
	return no_page_table(vma, flags);
}

/* ---------------------------------------------------------------- */
/* Faulting in (faultin_page) and the walk (__get_user_pages)        */
/* ---------------------------------------------------------------- */

/* vm_fault_to_errno(): GUP sees SIGBUS and SIGSEGV as -EFAULT. */
static int vm_fault_to_errno(zd_vm_fault_t ret, unsigned int flags)
{
	if (ret & ZD_VM_FAULT_OOM)
		return -ENOMEM;
	if (ret & ZD_VM_FAULT_HWPOISON)
		return (flags & ZD_FOLL_HWPOISON) ? -EHWPOISON : -EFAULT;
	if (ret & (ZD_VM_FAULT_SIGBUS | ZD_VM_FAULT_SIGSEGV))
		return -EFAULT;
	return 0;
}

/*
 * faultin_page: a write fault breaks COW; an unshare fault (@unshare,
 * never with WRITE) gives a pinning reader an exclusive anonymous page;
 * a device-private entry migrates back to RAM (B21). The model's faults
 * never drop mmap_lock, so VM_FAULT_RETRY just means "look again".
 */
static int faultin_page(struct zd_vm_area_struct *vma, unsigned long addr, unsigned int flags,
			bool unshare)
{
	unsigned int fault_flags = 0;
	zd_vm_fault_t ret;

	if (flags & ZD_FOLL_NOFAULT)
		return -EFAULT;
	if (flags & ZD_FOLL_WRITE)
		fault_flags |= ZD_FAULT_FLAG_WRITE;
	if (flags & ZD_FOLL_REMOTE)
		fault_flags |= ZD_FAULT_FLAG_REMOTE;
	if (unshare)
		fault_flags |= ZD_FAULT_FLAG_UNSHARE;
	ret = zd_handle_mm_fault(vma, addr, fault_flags);
	if (ret & ZD_VM_FAULT_ERROR)
		return vm_fault_to_errno(ret, flags);
	return 0;
}

/*
 * __get_user_pages: walk [start, start + nr_pages pages), faulting as
 * needed. Returns the pages done, or a negative errno if none was.
 */
static long __get_user_pages(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			     unsigned int flags, struct zd_page **pages)
{
	struct zd_vm_area_struct *vma = NULL;
	struct zd_dev_pagemap *pgmap = NULL;	/* follow_page_context.pgmap */
	long ret = 0, i = 0;

	if (!nr_pages)
		return 0;
	start &= ~(ZD_PAGE_SIZE - 1);
	do {
		unsigned long page_mask, page_increm;
		struct zd_page *page;
		int faults = 0;

		/* first iteration or crossing a VMA boundary */
		if (!vma || start >= vma->vm_end) {
			vma = zd_vma_lookup(mm, start);
			if (!vma) {
				ret = -EFAULT;
				break;
			}
			ret = check_vma_flags(vma, flags);
			if (ret)
				break;
		}
retry:
		ret = follow_page_mask(vma, start, flags, &pgmap, &page_mask, &page);
		if ((!ret && !page) || ret == -EMLINK) {
			if (++faults > GUP_MAX_FAULTS_PER_PAGE) {
				zd_pte_t e = 0;
				int lvl = 0;

				zd_follow_entry(mm, start, &e, &lvl);
				_zd_report_page(mm->sys, ZD_MISUSE_BAD_STATE, "R4.2", NULL,
						"GUP at %#lx (flags %#x%s): %d faults left the "
						"entry unusable (level %d: %#llx)", start, flags,
						ret == -EMLINK ? ", unshare" : "",
						GUP_MAX_FAULTS_PER_PAGE, lvl, (unsigned long long)e);
				ret = -EFAULT;
				break;
			}
			ret = faultin_page(vma, start, flags, ret == -EMLINK);
			if (!ret)
				goto retry;
			break;
		} else if (ret == -EEXIST) {
			/* A proper entry without a struct page: fine unless pages were wanted. */
			if (pages)
				break;
			ret = 0;
		} else if (ret) {
			break;
		}

		page_increm = 1 + (~(start >> ZD_PAGE_SHIFT) & page_mask);
		if (page_increm > nr_pages)
			page_increm = nr_pages;
		if (pages) {
			/* A huge leaf: take the other subpages' references in one go. */
			if (page_increm > 1) {
				struct zd_folio *folio = zd_page_folio(page);

				if (_zd_try_grab_folio(folio, (int)page_increm - 1, flags)) {
					_zd_gup_put_folio(folio, 1, flags);
					ret = -EFAULT;
					break;
				}
			}
			for (unsigned long j = 0; j < page_increm; j++)
				pages[i + (long)j] = page + j;
		}
		i += (long)page_increm;
		start += page_increm << ZD_PAGE_SHIFT;
		nr_pages -= page_increm;
	} while (nr_pages);
	zd_put_dev_pagemap(pgmap);
	return i ? i : ret;
}

/* __get_user_pages_locked without lock dropping (the model's faults never drop it). */
static long get_user_pages_locked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
				  struct zd_page **pages, unsigned int flags)
{
	long ret;

	if (!nr_pages)
		return 0;
	if (flags & ZD_FOLL_PIN)
		_zd_mm_set_has_pinned_flag(mm);
	/* Traditionally a pages array implies FOLL_GET (but never with PIN). */
	if (pages && !(flags & ZD_FOLL_PIN))
		flags |= ZD_FOLL_GET;
	ret = __get_user_pages(mm, start, nr_pages, flags, pages);
	/* Getting nothing and no error means something went wrong. */
	return ret ? ret : -EFAULT;
}

long _zd_gup_longterm_locked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			     struct zd_page **pages, unsigned int flags)
{
	long nr_pinned, rc;
	int tries = 0;

	if (!(flags & ZD_FOLL_LONGTERM))
		return get_user_pages_locked(mm, start, nr_pages, pages, flags);
	do {
		nr_pinned = get_user_pages_locked(mm, start, nr_pages, pages, flags);
		if (nr_pinned <= 0) {
			rc = nr_pinned;
			break;
		}
		/* FOLL_LONGTERM implies FOLL_PIN */
		rc = _zd_check_and_migrate_movable_pages((unsigned long)nr_pinned, pages);
	} while (rc == -EAGAIN && ++tries < GUP_MAX_LONGTERM_RETRIES);
	if (rc == -EAGAIN)
		rc = -EBUSY;	/* migrated every time, yet never pinnable: give up */
	return rc ? rc : nr_pinned;
}

/* ---------------------------------------------------------------- */
/* Entry points                                                      */
/* ---------------------------------------------------------------- */

int _zd_gup_check_args(struct zd_page **pages, unsigned int *flags, unsigned int allowed,
		       unsigned int to_set)
{
	unsigned int f = *flags;

	if (f & ~allowed)
		return -EINVAL;
	f |= to_set;
	/* R4.1 */
	if ((f & (ZD_FOLL_PIN | ZD_FOLL_GET)) == (ZD_FOLL_PIN | ZD_FOLL_GET))
		return -EINVAL;
	if ((f & ZD_FOLL_LONGTERM) && !(f & ZD_FOLL_PIN))
		return -EINVAL;
	if ((f & (ZD_FOLL_GET | ZD_FOLL_PIN)) && !pages)
		return -EINVAL;
	/* The pgmap must stay hot-unpluggable at all times. */
	if ((f & ZD_FOLL_LONGTERM) && (f & ZD_FOLL_PCI_P2PDMA))
		return -EINVAL;
	/* Not modelled: no IO to wait for. */
	if (f & ZD_FOLL_NOWAIT)
		return -EOPNOTSUPP;
	*flags = f;
	return 0;
}

/* get_user_pages_remote / pin_user_pages_remote: *locked is 1 on entry and stays 1. */
static long gup_remote(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
		       unsigned int gup_flags, struct zd_page **pages, int *locked,
		       unsigned int to_set)
{
	int err;

	if (locked && *locked != 1)
		return -EINVAL;
	err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_SLOW_FLAGS, to_set);
	if (err)
		return err;
	return _zd_gup_longterm_locked(mm, start, nr_pages, pages, gup_flags);
}

long zd_get_user_pages_remote(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			      unsigned int gup_flags, struct zd_page **pages, int *locked)
{
	return gup_remote(mm, start, nr_pages, gup_flags, pages, locked,
			  ZD_FOLL_TOUCH | ZD_FOLL_REMOTE);
}

long zd_pin_user_pages_remote(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			      unsigned int gup_flags, struct zd_page **pages, int *locked)
{
	return gup_remote(mm, start, nr_pages, gup_flags, pages, locked,
			  ZD_FOLL_PIN | ZD_FOLL_TOUCH | ZD_FOLL_REMOTE);
}

long zd_get_user_pages(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
		       unsigned int gup_flags, struct zd_page **pages)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_SLOW_FLAGS, ZD_FOLL_TOUCH);

	if (err)
		return err;
	return _zd_gup_longterm_locked(mm, start, nr_pages, pages, gup_flags);
}

long zd_pin_user_pages(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
		       unsigned int gup_flags, struct zd_page **pages)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_SLOW_FLAGS, ZD_FOLL_PIN);

	if (err)
		return err;
	return _zd_gup_longterm_locked(mm, start, nr_pages, pages, gup_flags);
}

long zd_get_user_pages_unlocked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
				struct zd_page **pages, unsigned int gup_flags)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_SLOW_FLAGS, ZD_FOLL_TOUCH);
	long ret;

	if (err)
		return err;
	zd_mmap_read_lock(mm);
	ret = _zd_gup_longterm_locked(mm, start, nr_pages, pages, gup_flags);
	zd_mmap_read_unlock(mm);
	return ret;
}

long zd_pin_user_pages_unlocked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
				struct zd_page **pages, unsigned int gup_flags)
{
	int err = _zd_gup_check_args(pages, &gup_flags, ZD_GUP_SLOW_FLAGS,
				     ZD_FOLL_PIN | ZD_FOLL_TOUCH);
	long ret;

	if (err)
		return err;
	zd_mmap_read_lock(mm);
	ret = _zd_gup_longterm_locked(mm, start, nr_pages, pages, gup_flags);
	zd_mmap_read_unlock(mm);
	return ret;
}
