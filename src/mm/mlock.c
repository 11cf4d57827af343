// SPDX-License-Identifier: MIT
/*
 * src/mm/mlock.c - mlock(2) and munlock(2).
 *
 * Models mm/mlock.c: apply_vma_lock_flags and mlock_fixup (VM_LOCKED on
 * the VMAs, never on DAX or VM_SPECIAL ones), __mm_populate (fault the
 * range in), mlock_pte_range (mlock every RAM folio mapped there and skip
 * ZONE_DEVICE folios, semantics §5), mlock_folio, munlock_folio and
 * mlock_new_folio.
 *
 * Where the model differs: it has no unevictable LRU list, so an mlocked
 * folio is marked PG_unevictable (standing for PG_mlocked too) and is on
 * no list at all (PG_lru clear), where Linux keeps PG_lru and only counts
 * it on LRU_UNEVICTABLE. munlock looks for other VM_LOCKED mappings
 * through rmap, as munlock_vma_page did before 5.16, instead of keeping an
 * mlock_count. A new anonymous folio faulted into a VM_LOCKED VMA is
 * mlocked as it is mapped (mlock_new_folio, from folio_add_lru_vma in
 * swap.c); a page-cache folio mapped there later is not (mlock_vma_folio
 * in folio_add_file_rmap), and unmapping does not munlock
 * (folio_remove_rmap_* in Linux).
 */
#include <stdlib.h>

#include "internal.h"

/* ---- folios ---- */

/* The zero page and device folios are never mlocked. */
static bool folio_mlockable(struct zd_folio *folio)
{
	return !zd_folio_is_zone_device(folio) && !zd_folio_test_flag(folio, ZD_PG_reserved);
}

void _zd_mlock_folio(struct zd_folio *folio)
{
	unsigned long old;

	if (!folio_mlockable(folio))
		return;
	old = zd_atomic_fetch_or_acq_rel(&folio->page.flags, ZD_PG_BIT(ZD_PG_unevictable));
	if (old & ZD_PG_BIT(ZD_PG_unevictable))
		return;
	/* Off the evictable lists; the caller holds a reference, so this put is not the last. */
	if (zd_folio_isolate_lru(folio))
		zd_folio_put(folio);
}

bool _zd_mlock_new_folio(struct zd_folio *folio)
{
	if (!folio_mlockable(folio))
		return false;
	/* Not on any list yet: it never goes on the evictable ones. */
	zd_page_set_flag(&folio->page, ZD_PG_unevictable);
	return true;
}

/* munlock_folio(): back to the evictable lists. Context: a reference held. */
static void munlock_folio(struct zd_folio *folio)
{
	unsigned long old = zd_atomic_fetch_and_acq_rel(&folio->page.flags,
							~ZD_PG_BIT(ZD_PG_unevictable));

	if ((old & ZD_PG_BIT(ZD_PG_unevictable)) && !zd_folio_test_flag(folio, ZD_PG_lru))
		zd_folio_add_lru(folio);	/* -EBUSY if somebody added it meanwhile: fine */
}

/* Does some page of @folio sit at its place in @vma (starting at @addr)? */
static bool vma_maps_folio(struct zd_vm_area_struct *vma, unsigned long addr,
			   struct zd_folio *folio)
{
	unsigned long first = zd_folio_pfn(folio), nr = zd_folio_nr_pages(folio);

	for (unsigned long i = 0; i < nr; i++) {
		unsigned long a = addr + (i << ZD_PAGE_SHIFT), pfn;
		zd_pte_t e;
		int level;

		if (a < vma->vm_start || a >= vma->vm_end)
			continue;
		if (!zd_follow_entry(vma->vm_mm, a, &e, &level) || !zd_pte_present(e))
			continue;
		pfn = zd_pte_pfn(e);
		if (level > 1) {	/* the page of a huge leaf at @a */
			unsigned long size = 1ul << (ZD_PAGE_SHIFT + 9 * (level - 1));

			pfn += (a & (size - 1)) >> ZD_PAGE_SHIFT;
		}
		if (pfn >= first && pfn < first + nr)
			return true;
	}
	return false;
}

/* rmap_walk callback. @vma may belong to another mm: its flags are read as rmap walkers do. */
static bool find_locked_vma(struct zd_folio *folio, struct zd_vm_area_struct *vma,
			    unsigned long addr, void *arg)
{
	bool *found = arg;

	if (!(vma->vm_flags & ZD_VM_LOCKED) || !vma_maps_folio(vma, addr, folio))
		return true;
	*found = true;
	return false;
}

/* Is @folio still mapped by a VM_LOCKED VMA? Context: folio locked. */
static bool folio_still_mlocked(struct zd_folio *folio)
{
	bool found = false;

	_zd_rmap_walk(folio, find_locked_vma, &found);
	return found;
}

/* ---- VMAs ---- */

/* mlock_fixup() refuses these: VM_SPECIAL and DAX. */
static bool vma_lockable(const struct zd_vm_area_struct *vma)
{
	return !(vma->vm_flags & (ZD_VM_IO | ZD_VM_DONTEXPAND | ZD_VM_PFNMAP | ZD_VM_MIXEDMAP)) &&
	       !zd_vma_is_dax(vma);
}

/* The page-aligned range mlock(2) works on: [addr rounded down, addr + len rounded up). */
static int lock_range(unsigned long addr, size_t len, unsigned long *start, unsigned long *end)
{
	unsigned long off = addr & (ZD_PAGE_SIZE - 1), l = len + off;

	if (l < len || l + ZD_PAGE_SIZE - 1 < l)
		return -EINVAL;
	l = (l + ZD_PAGE_SIZE - 1) & ~(ZD_PAGE_SIZE - 1);
	*start = addr - off;
	*end = *start + l;
	return *end < *start ? -EINVAL : 0;
}

/* Every page of [start, end) inside a VMA? Context: mmap_lock held. */
static int check_mapped(struct zd_mm *mm, unsigned long start, unsigned long end)
{
	for (unsigned long a = start; a < end;) {
		struct zd_vm_area_struct *vma = zd_vma_lookup(mm, a);

		if (!vma)
			return -ENOMEM;
		a = vma->vm_end;
	}
	return 0;
}

/* apply_vma_lock_flags(): split, set or clear VM_LOCKED, merge. Context: mmap_lock for write. */
static int apply_lock_flags(struct zd_mm *mm, unsigned long start, unsigned long end, bool on)
{
	struct zd_vm_area_struct *vma;
	unsigned long a;
	int err;

	for (a = start; a < end; a = vma->vm_end) {
		unsigned long newflags;

		vma = zd_vma_lookup(mm, a);
		newflags = on ? vma->vm_flags | ZD_VM_LOCKED : vma->vm_flags & ~ZD_VM_LOCKED;
		if (newflags == vma->vm_flags || (on && !vma_lockable(vma)))
			continue;
		if (vma->vm_start < a) {
			err = _zd_split_vma(vma, a);
			if (err)
				return err;
			vma = zd_vma_lookup(mm, a);
		}
		if (vma->vm_end > end) {
			err = _zd_split_vma(vma, end);
			if (err)
				return err;
		}
		vma->vm_flags = newflags;
	}
	for (a = start; a < end;) {
		vma = zd_vma_lookup(mm, a);
		if (!vma)
			break;
		a = vma->vm_end;
		_zd_vma_merge(mm, vma);
	}
	return 0;
}

/*
 * __mm_populate(): fault every page of [start, end) in, writing private
 * writable VMAs so that they get their own pages (populate_vma_page_range);
 * PROT_NONE, VM_IO and VM_PFNMAP VMAs are left. Context: no mmap_lock held.
 */
static int populate(struct zd_mm *mm, unsigned long start, unsigned long end)
{
	for (unsigned long a = start; a < end;) {
		struct zd_vm_area_struct *vma;
		unsigned long s, e, fl;
		int err;

		zd_mmap_read_lock(mm);
		vma = zd_find_vma(mm, a);
		if (!vma || vma->vm_start >= end) {
			zd_mmap_read_unlock(mm);
			return -ENOMEM;	/* unmapped meanwhile: -EFAULT, then -ENOMEM */
		}
		s = vma->vm_start > a ? vma->vm_start : a;
		e = vma->vm_end < end ? vma->vm_end : end;
		fl = vma->vm_flags;
		zd_mmap_read_unlock(mm);
		if (!(fl & (ZD_VM_IO | ZD_VM_PFNMAP)) &&
		    (fl & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC))) {
			bool write = (fl & (ZD_VM_WRITE | ZD_VM_SHARED)) == ZD_VM_WRITE;

			err = zd_cpu_touch(mm, s, e - s, write);
			/* __mlock_posix_error_return() */
			if (err == -EFAULT)
				return -ENOMEM;
			if (err == -ENOMEM)
				return -EAGAIN;
			if (err)
				return err;
		}
		a = e;
	}
	return 0;
}

/* ---- the walks ---- */

/* mlock_pte_range() for one leaf. Context: the leaf's lock held. */
static void mlock_leaf(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl, void *arg)
{
	struct zd_vm_area_struct *vma = arg;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_page *page;

	(void)lvl;
	if (!zd_pte_present(e))
		return;
	page = zd_vm_normal_page(vma, addr, e);
	/* Not an LRU page: a device folio is left exactly as it is (semantics §5). */
	if (!page || zd_folio_is_zone_device(zd_page_folio(page)))
		return;
	_zd_mlock_folio(zd_page_folio(page));
}

struct munlock_batch {
	struct zd_vm_area_struct *vma;
	struct zd_folio **folios;
	size_t nr, cap;
	int err;
};

/* Collect the mlocked folios of the range, with a reference each. */
static void munlock_leaf(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl,
			 void *arg)
{
	struct munlock_batch *b = arg;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_folio *folio;
	struct zd_page *page;

	(void)lvl;
	if (!zd_pte_present(e) || b->err)
		return;
	page = zd_vm_normal_page(b->vma, addr, e);
	if (!page)
		return;
	folio = zd_page_folio(page);
	if (zd_folio_is_zone_device(folio) || !zd_folio_test_flag(folio, ZD_PG_unevictable) ||
	    (b->nr && b->folios[b->nr - 1] == folio))
		return;
	if (b->nr == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct zd_folio **n = realloc(b->folios, cap * sizeof(*n));

		if (!n) {
			b->err = -ENOMEM;
			return;
		}
		b->folios = n;
		b->cap = cap;
	}
	zd_folio_get(folio);	/* the entry holds one and we hold its lock */
	b->folios[b->nr++] = folio;
}

/* Call @fn on the leaves of every VMA piece of [start, end). */
static void walk_vmas(struct zd_mm *mm, unsigned long start, unsigned long end, bool locked_only,
		      _zd_leaf_fn fn, struct munlock_batch *b)
{
	for (unsigned long a = start; a < end;) {
		struct zd_vm_area_struct *vma = zd_find_vma(mm, a);
		unsigned long s, e;

		if (!vma || vma->vm_start >= end)
			break;
		s = vma->vm_start > a ? vma->vm_start : a;
		e = vma->vm_end < end ? vma->vm_end : end;
		if (!locked_only || (vma->vm_flags & ZD_VM_LOCKED)) {
			if (b)
				b->vma = vma;
			_zd_walk_page_range(mm, s, e, fn, b ? (void *)b : (void *)vma);
		}
		a = e;
	}
}

/* ---- the syscalls ---- */

int zd_mlock(struct zd_mm *mm, unsigned long addr, size_t len)
{
	unsigned long start, end;
	int err, perr;

	err = lock_range(addr, len, &start, &end);
	if (err || start == end)
		return err;
	zd_mmap_write_lock(mm);
	err = check_mapped(mm, start, end);
	if (!err)
		err = apply_lock_flags(mm, start, end, true);
	zd_mmap_write_unlock(mm);
	if (err)
		return err;
	perr = populate(mm, start, end);
	/* mlock what is mapped now; the write lock keeps faults out meanwhile. */
	zd_mmap_write_lock(mm);
	walk_vmas(mm, start, end, true, mlock_leaf, NULL);
	zd_mmap_write_unlock(mm);
	return perr;
}

int zd_munlock(struct zd_mm *mm, unsigned long addr, size_t len)
{
	struct munlock_batch b = { 0 };
	unsigned long start, end;
	int err;

	err = lock_range(addr, len, &start, &end);
	if (err || start == end)
		return err;
	zd_mmap_write_lock(mm);
	err = check_mapped(mm, start, end);
	if (!err)
		err = apply_lock_flags(mm, start, end, false);
	if (err) {
		zd_mmap_write_unlock(mm);
		return err;
	}
	walk_vmas(mm, start, end, false, munlock_leaf, &b);
	/* No page-table lock held now: rmap may look at the other mappings. */
	for (size_t i = 0; i < b.nr; i++) {
		struct zd_folio *folio = b.folios[i];

		zd_folio_lock(folio);
		if (!folio_still_mlocked(folio))
			munlock_folio(folio);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
	}
	zd_mmap_write_unlock(mm);
	free(b.folios);
	return b.err;
}
