// SPDX-License-Identifier: MIT
/*
 * src/mm/ksm.c - Kernel Samepage Merging.
 *
 * Models mm/ksm.c: one full pass of ksmd (ksm_do_scan over every
 * VM_MERGEABLE area, vma_ksm_compatible), the candidate test of
 * cmp_and_merge_page/get_mergeable_page (an anonymous RAM page mapped by
 * a present PTE; ZONE_DEVICE folios are never KSM pages, semantics §5,
 * R12.5), try_to_merge_one_page with write_protect_page (the kept page's
 * mappings made read-only and clean after checking that only its
 * mappings reference it) and replace_page (a duplicate's mapping moved to
 * the kept page, the duplicate losing its mapcount and reference).
 *
 * Where the model differs: there are no stable and unstable trees kept
 * between passes. Within one pass candidates are sorted by a hash of
 * their contents and compared byte for byte; a page merged by an earlier
 * pass is recognised by being mapped more than once and is kept in
 * preference. A merged page is not marked as a KSM folio and keeps the
 * anon_vma and index of the page it was, so rmap walks find only that
 * mapping. Large folios are left alone (Linux splits them first). Every
 * mm of the pass is locked for write, because the model's write fault
 * does not take the folio lock that keeps Linux's reuse path away from a
 * page being merged.
 */
#include <stdlib.h>
#include <string.h>

#include <zonedev/ksm.h>

#include "internal.h"

/* One PTE mapping a candidate page, with a reference on its folio. */
struct ksm_item {
	struct zd_vm_area_struct *vma;
	unsigned long addr;
	struct zd_folio *folio;
	uint64_t hash;
	bool done;
};

struct ksm_scan {
	struct zd_vm_area_struct *vma;
	struct ksm_item *items;
	size_t nr, cap;
	int err;
};

/* vma_ksm_compatible(): private memory KSM may share. */
static bool vma_ksm_compatible(const struct zd_vm_area_struct *vma)
{
	if (vma->vm_flags & (ZD_VM_SHARED | ZD_VM_MAYSHARE | ZD_VM_PFNMAP | ZD_VM_IO |
			     ZD_VM_DONTEXPAND | ZD_VM_MIXEDMAP))
		return false;
	return !zd_vma_is_dax(vma);
}

/* FNV-1a over the page: the model's stand-in for KSM's checksum and tree keys. */
static uint64_t page_hash(const unsigned char *p)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < ZD_PAGE_SIZE; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static const unsigned char *item_data(const struct ksm_item *it)
{
	return zd_page_address(&it->folio->page);
}

/* get_mergeable_page() for one PTE. Context: the PTE lock held. */
static void ksm_leaf(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl, void *arg)
{
	struct ksm_scan *s = arg;
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_folio *folio;
	struct zd_page *page;

	/* Present includes a NUMA-hinting PROT_NONE entry, as folio_walk_start returns it. */
	if (s->err || lvl != ZD_LVL_PTE || !zd_pte_present(e))
		return;
	page = zd_vm_normal_page(s->vma, addr, e);
	if (!page)
		return;		/* the zero page is never a candidate */
	folio = zd_page_folio(page);
	/* Device memory is never merged (semantics §5). */
	if (zd_folio_is_zone_device(folio) || !zd_folio_test_anon(folio) ||
	    zd_folio_test_large(folio))
		return;
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ksm_item *n = realloc(s->items, cap * sizeof(*n));

		if (!n) {
			s->err = -ENOMEM;
			return;
		}
		s->items = n;
		s->cap = cap;
	}
	/* The entry holds a reference and we hold its lock. */
	zd_folio_get(folio);
	s->items[s->nr++] = (struct ksm_item){ .vma = s->vma, .addr = addr, .folio = folio,
					       .hash = page_hash(zd_page_address(page)) };
}

static int cmp_item(const void *a, const void *b)
{
	const struct ksm_item *x = a, *y = b;
	uintptr_t fx = (uintptr_t)x->folio, fy = (uintptr_t)y->folio;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (fx != fy)
		return fx < fy ? -1 : 1;
	return 0;
}

static int cmp_mm(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(struct zd_mm *const *)a;
	uintptr_t y = (uintptr_t)*(struct zd_mm *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * Lock @it's PTE and check it still maps @folio: its slot, else NULL.
 * Context: the mm locked for write, so the tables stay.
 */
static _Atomic zd_pte_t *lock_item(const struct ksm_item *it, struct zd_folio *folio, zd_pte_t *e)
{
	_Atomic zd_pte_t *slot = _zd_pxx_offset(it->vma->vm_mm, it->addr, ZD_LVL_PTE);

	if (!slot)
		return NULL;
	zd_spin_lock(_zd_pte_lockptr(slot));
	*e = _zd_read_entry(slot);
	if (zd_pte_present(*e) && zd_pte_pfn(*e) == zd_folio_pfn(folio))
		return slot;
	zd_spin_unlock(_zd_pte_lockptr(slot));
	return NULL;
}

/*
 * ptep_clear_flush() and the count check of write_protect_page(): clear
 * @it's entry, let every GUP-fast walker that may have read it finish (it
 * takes its reference inside an RCU read-side section and re-reads the
 * entry after), then check that @folio has no references beyond its
 * mappings and our @refs - no GUP, no DMA pin. Returns the slot, locked
 * and cleared (*e: the old entry), or NULL with the entry as it was.
 * Context: the mm locked for write: no fault or zap can change the entry.
 */
static _Atomic zd_pte_t *clear_and_check(const struct ksm_item *it, struct zd_folio *folio,
					 int refs, zd_pte_t *e)
{
	_Atomic zd_pte_t *slot = lock_item(it, folio, e);
	struct zd_spinlock *ptl;

	if (!slot)
		return NULL;
	ptl = _zd_pte_lockptr(slot);
	_zd_set_entry(slot, 0);
	zd_spin_unlock(ptl);
	zd_synchronize_rcu();
	zd_spin_lock(ptl);
	if (zd_folio_maybe_dma_pinned(folio) ||
	    zd_folio_ref_count(folio) != zd_folio_mapcount(folio) + refs) {
		_zd_set_entry(slot, *e);
		zd_spin_unlock(ptl);
		return NULL;
	}
	return slot;
}

/* The CLEAR range of write_protect_page() and replace_page(): the one page. */
static void item_range_start(struct zd_mmu_notifier_range *r, const struct ksm_item *it)
{
	zd_mmu_notifier_range_init(r, ZD_MMU_NOTIFY_CLEAR, 0, it->vma->vm_mm, it->addr,
				   it->addr + ZD_PAGE_SIZE);
	zd_mmu_notifier_invalidate_range_start(r);
}

/* write_protect_page(): read-only, clean, no longer exclusive. */
static bool write_protect_item(const struct ksm_item *it, int refs)
{
	struct zd_folio *folio = it->folio;
	struct zd_mmu_notifier_range range;
	_Atomic zd_pte_t *slot;
	zd_pte_t e;

	item_range_start(&range, it);
	slot = clear_and_check(it, folio, refs, &e);
	if (!slot) {
		zd_mmu_notifier_invalidate_range_end(&range);
		return false;
	}
	if (zd_pte_dirty(e))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	zd_page_clear_flag(&folio->page, ZD_PG_anon_exclusive);
	_zd_set_entry(slot, zd_pte_mkclean(zd_pte_wrprotect(e)));
	zd_spin_unlock(_zd_pte_lockptr(slot));
	zd_mmu_notifier_invalidate_range_end(&range);
	return true;
}

/* replace_page(): map @kept where @it's duplicate was. */
static bool replace_item(const struct ksm_item *it, int refs, struct zd_folio *kept)
{
	struct zd_folio *dup = it->folio;
	struct zd_mmu_notifier_range range;
	_Atomic zd_pte_t *slot;
	zd_pte_t e;

	item_range_start(&range, it);
	slot = clear_and_check(it, dup, refs, &e);
	if (!slot) {
		zd_mmu_notifier_invalidate_range_end(&range);
		return false;
	}
	zd_folio_get(kept);
	_zd_folio_add_rmap(kept, &kept->page, ZD_LVL_PTE);
	/* mk_pte(kpage, vma->vm_page_prot) of a private mapping: read-only, young. */
	_zd_set_entry(slot, zd_pfn_pte(zd_folio_pfn(kept), ZD_PTE_PRESENT | ZD_PTE_YOUNG));
	_zd_folio_remove_rmap(dup, &dup->page, ZD_LVL_PTE);
	zd_spin_unlock(_zd_pte_lockptr(slot));
	zd_mmu_notifier_invalidate_range_end(&range);
	if (it->vma->vm_flags & ZD_VM_LOCKED)
		_zd_mlock_folio(kept);
	zd_folio_put(dup);	/* the duplicate mapping's reference */
	return true;
}

/*
 * Merge the @n items @members lists (identical contents, sorted by folio): returns
 * the number of mappings moved to the kept page.
 */
static int merge_cluster(struct ksm_item *items, size_t *members, size_t n)
{
	struct zd_folio *kept = NULL;
	int kept_refs = 0, merged = 0, best = -1;

	/* Keep the page mapped most often: an earlier pass's KSM page, if any. */
	for (size_t i = 0; i < n; i++) {
		int mc = zd_folio_mapcount(items[members[i]].folio);

		if (mc > best) {
			best = mc;
			kept = items[members[i]].folio;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (items[members[i]].folio == kept)
			kept_refs++;
	if (kept_refs == (int)n || !zd_folio_trylock(kept))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct ksm_item *it = &items[members[i]];

		if (it->folio == kept && !write_protect_item(it, kept_refs)) {
			zd_folio_unlock(kept);
			return 0;
		}
	}
	for (size_t i = 0; i < n;) {
		struct zd_folio *dup = items[members[i]].folio;
		size_t j = i;
		int refs;

		while (j < n && items[members[j]].folio == dup)
			j++;
		refs = (int)(j - i);
		if (dup != kept && zd_folio_trylock(dup)) {
			for (size_t k = i; k < j; k++) {
				/* Each mapping replaced takes a mapcount and a reference away. */
				if (replace_item(&items[members[k]], refs, kept))
					merged++;
			}
			zd_folio_unlock(dup);
		}
		i = j;
	}
	zd_folio_unlock(kept);
	return merged;
}

int zd_ksm_scan(struct zd_mm **mms, int n)
{
	struct ksm_scan s = { 0 };
	struct zd_mm **locked;
	size_t *members = NULL;
	int nr_locked = 0, merged = 0;

	if (n < 0 || (n && !mms))
		return -EINVAL;
	if (!n)
		return 0;
	if (zd_system_options(mms[0]->sys)->data == ZD_DATA_NONE)
		return -EOPNOTSUPP;	/* no contents to compare */
	locked = malloc((size_t)n * sizeof(*locked));
	if (!locked)
		return -ENOMEM;
	memcpy(locked, mms, (size_t)n * sizeof(*locked));
	qsort(locked, (size_t)n, sizeof(*locked), cmp_mm);
	/* One lock per mm, in address order. */
	for (int i = 0; i < n; i++) {
		if (i && locked[i] == locked[nr_locked - 1])
			continue;
		locked[nr_locked++] = locked[i];
		zd_mmap_write_lock(locked[i]);
	}

	for (int m = 0; m < nr_locked && !s.err; m++) {
		struct zd_mm *mm = locked[m];

		for (size_t v = 0; v < mm->nr_vmas && !s.err; v++) {
			s.vma = mm->vmas[v];
			if ((s.vma->vm_flags & ZD_VM_MERGEABLE) && vma_ksm_compatible(s.vma))
				_zd_walk_page_range(mm, s.vma->vm_start, s.vma->vm_end, ksm_leaf, &s);
		}
	}
	if (!s.err && s.nr > 1) {
		members = malloc(s.nr * sizeof(*members));
		if (!members)
			s.err = -ENOMEM;
	}
	if (!s.err && s.nr > 1) {
		qsort(s.items, s.nr, sizeof(*s.items), cmp_item);
		/* Runs of one hash, split into clusters of byte-identical pages. */
		for (size_t lo = 0; lo < s.nr;) {
			size_t hi = lo;

			while (hi < s.nr && s.items[hi].hash == s.items[lo].hash)
				hi++;
			for (size_t r = lo; r < hi; r++) {
				size_t nm = 0;

				if (s.items[r].done)
					continue;
				for (size_t k = r; k < hi; k++) {
					if (!s.items[k].done &&
					    (s.items[k].folio == s.items[r].folio ||
					     !memcmp(item_data(&s.items[k]), item_data(&s.items[r]),
						     ZD_PAGE_SIZE))) {
						s.items[k].done = true;
						members[nm++] = k;
					}
				}
				if (nm > 1)
					merged += merge_cluster(s.items, members, nm);
			}
			lo = hi;
		}
	}

	for (size_t i = 0; i < s.nr; i++)
		zd_folio_put(s.items[i].folio);
	for (int i = nr_locked - 1; i >= 0; i--)
		zd_mmap_write_unlock(locked[i]);
	free(members);
	free(s.items);
	free(locked);
	return s.err ? s.err : merged;
}
