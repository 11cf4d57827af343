// SPDX-License-Identifier: MIT
/*
 * src/mm/migrate_rmap.c - migration entries over every mapping of a folio.
 *
 * Models try_to_migrate() / try_to_migrate_one() of mm/rmap.c and
 * remove_migration_ptes() of mm/migrate.c: through rmap, every PTE (or
 * device-private entry) that maps the folio becomes a migration entry
 * that holds neither a reference nor a mapcount (R3.5: the migrating
 * thread holds the folio, locked); afterwards each migration entry is
 * replaced by a mapping of the destination (or of the source again, when
 * the migration is given up): a present PTE, or a device-private entry
 * for a device-private destination. A PMD-mapped THP is split to PTEs first
 * (TTU_SPLIT_HUGE_PMD); PMD migration entries are not modelled.
 */
#include "internal.h"

/* The migration entry type for a mapping being replaced. */
static enum zd_swp_type migration_type(zd_pte_t e, struct zd_page *page)
{
	bool write = zd_pte_present(e) ? zd_pte_write(e) : zd_is_writable_device_private_entry(e);

	if (write)
		return ZD_SWP_MIGRATION_WRITE;
	return zd_page_test_flag(page, ZD_PG_anon_exclusive) ? ZD_SWP_MIGRATION_READ_EXCLUSIVE :
							      ZD_SWP_MIGRATION_READ;
}

static bool try_to_migrate_one(struct zd_folio *folio, struct zd_vm_area_struct *vma,
			       unsigned long addr, void *arg)
{
	struct zd_mm *mm = vma->vm_mm;
	unsigned long first = zd_folio_pfn(folio), nr = zd_folio_nr_pages(folio);
	struct zd_mmu_notifier_range range;

	(void)arg;
	/* A PMD leaf in the way is split first, under a CLEAR range of its own. */
	_zd_mmu_notifier_range_init_vma(&range, ZD_MMU_NOTIFY_CLEAR, vma, addr, nr);
	zd_mmu_notifier_invalidate_range_start(&range);
	for (unsigned long i = 0; i < nr; i++) {
		unsigned long a = addr + (i << ZD_PAGE_SHIFT), pfn;
		_Atomic zd_pte_t *slot = _zd_pxx_offset(mm, a, ZD_LVL_PMD);
		struct zd_spinlock *ptl;
		struct zd_page *page;
		zd_pte_t e;

		if (a < vma->vm_start || a >= vma->vm_end)
			continue;
		if (slot && zd_pte_huge(_zd_read_entry(slot)) && zd_vma_is_anonymous(vma))
			_zd_split_huge_pmd(vma, slot, a);
		slot = _zd_pxx_offset(mm, a, ZD_LVL_PTE);
		if (!slot)
			continue;
		ptl = _zd_pte_lockptr(slot);
		zd_spin_lock(ptl);
		e = _zd_read_entry(slot);
		if (!(zd_pte_present(e) && !zd_pte_special(e)) && !zd_is_device_private_entry(e)) {
			zd_spin_unlock(ptl);
			continue;
		}
		pfn = zd_pte_pfn(e);
		if (pfn < first || pfn >= first + nr) {
			zd_spin_unlock(ptl);
			continue;
		}
		page = zd_folio_page(folio, pfn - first);
		_zd_set_entry(slot, zd_swp_entry(migration_type(e, page), pfn));
		if (zd_pte_present(e) && zd_pte_dirty(e))
			zd_page_set_flag(&folio->page, ZD_PG_dirty);
		zd_page_clear_flag(page, ZD_PG_anon_exclusive);
		_zd_folio_remove_rmap(folio, page, ZD_LVL_PTE);
		zd_spin_unlock(ptl);
		/* The mapping's reference: the caller holds its own. */
		zd_folio_put(folio);
	}
	zd_mmu_notifier_invalidate_range_end(&range);
	return true;
}

bool zd_try_to_migrate(struct zd_folio *folio)
{
	_zd_rmap_walk(folio, try_to_migrate_one, NULL);
	return zd_folio_mapcount(folio) == 0;
}

static bool device_private(const struct zd_folio *folio)
{
	return zd_folio_is_zone_device(folio) &&
	       zd_folio_pgmap(folio)->type == ZD_MEMORY_DEVICE_PRIVATE;
}

struct remove_ctx {
	struct zd_folio *dst;
};

static bool remove_migration_pte(struct zd_folio *src, struct zd_vm_area_struct *vma,
				 unsigned long addr, void *arg)
{
	struct zd_folio *dst = ((struct remove_ctx *)arg)->dst;
	struct zd_mm *mm = vma->vm_mm;
	unsigned long first = zd_folio_pfn(src), nr = zd_folio_nr_pages(src);

	for (unsigned long i = 0; i < nr; i++) {
		unsigned long a = addr + (i << ZD_PAGE_SHIFT), pfn;
		_Atomic zd_pte_t *slot;
		struct zd_spinlock *ptl;
		struct zd_page *page;
		zd_pte_t e, n;
		bool write;

		if (a < vma->vm_start || a >= vma->vm_end)
			continue;
		slot = _zd_pxx_offset(mm, a, ZD_LVL_PTE);
		if (!slot)
			continue;
		ptl = _zd_pte_lockptr(slot);
		zd_spin_lock(ptl);
		e = _zd_read_entry(slot);
		pfn = zd_swp_offset(e);
		if (!zd_is_migration_entry(e) || pfn < first || pfn >= first + nr) {
			zd_spin_unlock(ptl);
			continue;
		}
		page = zd_folio_page(dst, pfn - first);
		write = zd_is_writable_migration_entry(e) && (vma->vm_flags & ZD_VM_WRITE);
		if (device_private(dst)) {
			/* A device-private page is mapped only by its entry (R12.6). */
			n = zd_swp_entry(write ? ZD_SWP_DEVICE_PRIVATE_WRITE :
					 ZD_SWP_DEVICE_PRIVATE_READ, zd_page_to_pfn(page));
		} else {
			n = zd_pfn_pte(zd_page_to_pfn(page), ZD_PTE_PRESENT | ZD_PTE_YOUNG);
			if (write)
				n |= ZD_PTE_WRITE | ZD_PTE_DIRTY;
		}
		if (zd_swp_type(e) != ZD_SWP_MIGRATION_READ && zd_folio_test_anon(dst))
			zd_page_set_flag(page, ZD_PG_anon_exclusive);
		zd_folio_get(dst);
		_zd_folio_add_rmap(dst, page, ZD_LVL_PTE);
		_zd_set_entry(slot, n);
		zd_spin_unlock(ptl);
	}
	return true;
}

void zd_remove_migration_ptes(struct zd_folio *src, struct zd_folio *dst)
{
	struct remove_ctx c = { .dst = dst };

	/* The walk follows src's rmap identity; dst has the same one by now. */
	_zd_rmap_walk(src, remove_migration_pte, &c);
}
