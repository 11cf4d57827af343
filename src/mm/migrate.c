// SPDX-License-Identifier: MIT
/*
 * src/mm/migrate.c - move_pages(2) for RAM folios.
 *
 * Models do_pages_move() / add_folio_for_migration() and
 * do_pages_stat_array() of mm/migrate.c, and what migrate_pages() does to
 * one mapped anonymous folio: put a migration entry in the mapping's place
 * (try_to_migrate_one), check that nobody else holds a reference (the
 * expected count of folio_migrate_mapping), copy the data and the flags
 * into a new folio (folio_migrate_flags) and map it where the old one was
 * (remove_migration_ptes); the old folio is freed. ZONE_DEVICE folios are
 * never migrated this way: their status is -ENOENT (semantics §5, R12.5);
 * device memory moves only through migrate_vma (HMM). The lookup is 6.0's
 * follow_page(FOLL_GET | FOLL_LRU), which gives the reference it took on
 * a refused device folio back (bug B16).
 *
 * Where the model differs: there is one node, so a page already on the
 * requested node is migrated anyway (Linux leaves it where it is) and the
 * path runs; pages are migrated one at a time under the mmap lock (Linux
 * isolates them from the LRU, batches them and migrates without it); an
 * RCU grace period after the migration entry is installed stands in for
 * the refcount freeze that keeps GUP-fast from taking a reference; only
 * small anonymous folios mapped once are migrated. Large folios are not
 * (-EOPNOTSUPP): a PMD-mapped THP would need a PMD migration entry, which
 * the model's fault handler cannot wait on (pmd_migration_entry_wait), and
 * a PTE-mapped one a folio split; page-cache folios are not either.
 */
#include <string.h>

#include <zonedev/migrate.h>
#include <zonedev/pagewalk.h>

#include "internal.h"

/* vma_migratable(). */
static bool vma_migratable(const struct zd_vm_area_struct *vma)
{
	if (vma->vm_flags & (ZD_VM_IO | ZD_VM_PFNMAP))
		return false;
	/* DAX mappings want predictable latency: never migrated. */
	return !zd_vma_is_dax(vma);
}

static bool is_zero_folio(struct zd_mm *mm, const struct zd_folio *folio)
{
	return folio == zd_zero_folio(mm->sys) || folio == zd_huge_zero_folio(mm->sys);
}

/* The flags that follow the data to the new folio (folio_migrate_flags). */
static const enum zd_pageflags migrate_flags[] = {
	ZD_PG_referenced, ZD_PG_uptodate, ZD_PG_dirty, ZD_PG_active, ZD_PG_swapbacked,
	ZD_PG_unevictable,
};

/*
 * Give the mapping of the small folio @folio at @addr to a copy.
 * Context: mmap_lock held for read (page tables stay), @folio locked,
 * referenced by the caller and mapped exactly once.
 */
static int migrate_mapped_folio(struct zd_vm_area_struct *vma, unsigned long addr,
				struct zd_folio *folio)
{
	struct zd_mm *mm = vma->vm_mm;
	struct zd_folio *new;

	(void)addr;
	if (zd_folio_order(folio))
		return -EOPNOTSUPP;	/* large folios: see the top of the file */
	new = zd_folio_alloc(mm->sys, 0, 0);
	if (!new)
		return -ENOMEM;
	/*
	 * try_to_migrate(): a migration entry takes the mapping's place with
	 * its mapcount and reference; faults on it wait for the folio lock we
	 * hold (migration_entry_wait). GUP-fast takes its references inside
	 * an RCU read-side section and then re-reads the entry: after a grace
	 * period every walker that saw the old entry has either dropped its
	 * reference or kept it, and then it is counted below (the model's
	 * stand-in for the refcount freeze of folio_migrate_mapping).
	 */
	zd_try_to_migrate(folio);
	zd_synchronize_rcu();
	/* Only the lookup's reference may be left: no GUP, no pin. */
	if (zd_folio_maybe_dma_pinned(folio) || zd_folio_ref_count(folio) != 1) {
		zd_remove_migration_ptes(folio, folio);
		zd_folio_put(new);
		return -EBUSY;
	}
	/* move_to_new_folio(): data, flags and rmap identity. */
	{
		void *src = zd_page_address(&folio->page), *dst = zd_page_address(&new->page);

		if (src && dst)
			memcpy(dst, src, ZD_PAGE_SIZE);
	}
	for (size_t i = 0; i < sizeof(migrate_flags) / sizeof(migrate_flags[0]); i++)
		if (zd_folio_test_flag(folio, migrate_flags[i]))
			zd_page_set_flag(&new->page, migrate_flags[i]);
	new->page.mapping = folio->page.mapping;
	new->page.index = folio->page.index;
	zd_remove_migration_ptes(folio, new);
	if (zd_folio_mapcount(new) && !zd_folio_test_flag(new, ZD_PG_unevictable) &&
	    !zd_folio_test_flag(new, ZD_PG_lru))
		zd_folio_add_lru(new);	/* an mlocked copy stays off the LRU */
	if (_zd_tracing(mm->sys))
		_zd_emit(mm->sys, ZD_EV_MIGRATE, folio, 0);
	zd_folio_put(new);	/* the allocation's; the mappings hold their own */
	return 0;
}

/* add_folio_for_migration() and the migration of that one folio. */
static int move_one(struct zd_mm *mm, unsigned long addr, int node)
{
	struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);
	struct zd_folio *folio;
	struct zd_page *page;
	int err;

	if (!vma || !vma_migratable(vma))
		return -EFAULT;
	err = zd_follow_page(vma, addr, ZD_FW_GET | ZD_FW_LRU | ZD_FW_ZEROPAGE, &page);
	if (err == -EEXIST)
		return -ENOENT;	/* device memory: refused, its reference given back (B16) */
	if (err)
		return err;
	folio = zd_page_folio(page);
	if (is_zero_folio(mm, folio))
		err = -EFAULT;
	else if (zd_folio_test_large(folio))
		err = -EOPNOTSUPP;	/* THPs: not modelled (see the top of the file) */
	else if (zd_folio_mapcount(folio) > 1)
		err = -EACCES;	/* folio_maybe_mapped_shared(), no MPOL_MF_MOVE_ALL */
	else if (!zd_folio_test_anon(folio))
		err = -EOPNOTSUPP;	/* page cache: not modelled */
	else if (!zd_folio_trylock(folio))
		err = -EBUSY;
	else {
		err = migrate_mapped_folio(vma, addr, folio);
		zd_folio_unlock(folio);
		if (!err)
			err = node;
	}
	zd_folio_put(folio);	/* the lookup's reference */
	return err;
}

/* do_pages_stat_array() for one address. */
static int stat_one(struct zd_mm *mm, unsigned long addr)
{
	struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);
	struct zd_folio_walk fw;
	struct zd_folio *folio;
	int err;

	if (!vma)
		return -EFAULT;
	folio = zd_folio_walk_start(&fw, vma, addr, ZD_FW_ZEROPAGE);
	if (!folio)
		return -ENOENT;
	if (is_zero_folio(mm, folio))
		err = -EFAULT;
	else if (zd_folio_is_zone_device(folio))
		err = -ENOENT;
	else
		err = 0;	/* folio_nid(): the one node */
	zd_folio_walk_end(&fw);
	return err;
}

int zd_move_pages(struct zd_mm *mm, unsigned long nr, const unsigned long *addrs,
		  const int *nodes, int *status)
{
	int err = 0;

	if (!nr)
		return 0;
	if (!addrs || !status)
		return -EINVAL;
	zd_mmap_read_lock(mm);
	for (unsigned long i = 0; i < nr; i++) {
		if (nodes && (nodes[i] < 0 || nodes[i] >= ZD_MAX_NUMNODES)) {
			err = -ENODEV;	/* the pages before it stay done */
			break;
		}
		status[i] = nodes ? move_one(mm, addrs[i], nodes[i]) : stat_one(mm, addrs[i]);
	}
	zd_mmap_read_unlock(mm);
	return err;
}
