/* SPDX-License-Identifier: MIT */
/*
 * zonedev/migrate.h - page migration: move_pages(2), and device memory
 * migration (migrate_vma / migrate_device).
 *
 * Models include/linux/migrate.h: mm/migrate.c's move_pages
 * (kernel_move_pages, do_pages_move, do_pages_stat_array) and
 * mm/migrate_device.c's interface for drivers (semantics §8). The model
 * has one NUMA node (ZD_MAX_NUMNODES, mempolicy.h) and no swap.
 *
 * Like every walker that expects LRU pages (the callers of vm_normal_page
 * that Linux teaches to skip ZONE_DEVICE folios: semantics §5, R5.3-R5.4,
 * R12.5), it has a visible effect on RAM folios and leaves device folios
 * alone: their entries, references and mapcounts are unchanged, and they
 * never reach an LRU list.
 */
#ifndef ZONEDEV_MIGRATE_H
#define ZONEDEV_MIGRATE_H

#include <zonedev/mempolicy.h>
#include <zonedev/page.h>

/*
 * zd_move_pages - move_pages(2) with MPOL_MF_MOVE. With @nodes, each page
 * containing @addrs[i] is migrated to @nodes[i]: a small anonymous RAM
 * folio mapped once is copied into a new RAM folio that takes over the
 * mapping (migration entry, reference check after an RCU grace period,
 * copy, remap; the old folio is freed) and @status[i] is the node. Linux leaves a page
 * that is already on the requested node in place; with one node the model
 * migrates it anyway, so the path runs. Without @nodes, @status[i] is the
 * node of the page (do_pages_stat_array). Per-page status: -EFAULT (no
 * VMA there; a VM_IO/VM_PFNMAP or DAX VMA when moving; the zero page),
 * -ENOENT (nothing mapped; a ZONE_DEVICE folio: never migrated, R12.5,
 * the reference the lookup took is dropped, B16), -EACCES (mapped more
 * than once), -EBUSY (unexpected references or pins, folio locked, the
 * entry changed), -ENOMEM, -EOPNOTSUPP (a page-cache folio or a large
 * folio: THP migration needs PMD migration entries, which the model's
 * fault handler does not wait on). Returns 0, -EINVAL (NULL
 * arrays), or -ENODEV for a node other than 0 (pages before it are
 * done, as in Linux). Context: takes mmap_lock for read; takes folio
 * locks with trylock.
 */
int zd_move_pages(struct zd_mm *mm, unsigned long nr, const unsigned long *addrs,
		  const int *nodes, int *status);

/* ---- migrate_vma / migrate_device (mm/migrate_device.c, semantics §8) ---- */

/*
 * An mpfn: a pfn shifted by ZD_MIGRATE_PFN_SHIFT with flags below it
 * (include/linux/migrate.h). VALID: a page is named; MIGRATE: the entry
 * migrates (set by setup/collect, cleared wherever migration is given
 * up); WRITE: the source was mapped writable (a driver sets it on a
 * destination to be mapped writable); COMPOUND: a large folio starts
 * here, the following entries of its other pages are 0.
 */
#define ZD_MIGRATE_PFN_VALID	(1ul << 0)
#define ZD_MIGRATE_PFN_MIGRATE	(1ul << 1)
#define ZD_MIGRATE_PFN_WRITE	(1ul << 3)
#define ZD_MIGRATE_PFN_COMPOUND	(1ul << 4)
#define ZD_MIGRATE_PFN_SHIFT	6

/* migrate_pfn(): @pfn as a VALID mpfn. */
static inline unsigned long zd_migrate_pfn(unsigned long pfn)
{
	return (pfn << ZD_MIGRATE_PFN_SHIFT) | ZD_MIGRATE_PFN_VALID;
}

/* migrate_pfn_to_page(): the page an mpfn names, or NULL if it is not VALID. */
static inline struct zd_page *zd_migrate_pfn_to_page(struct zd_system *sys, unsigned long mpfn)
{
	if (!(mpfn & ZD_MIGRATE_PFN_VALID))
		return NULL;
	return zd_pfn_to_page(sys, mpfn >> ZD_MIGRATE_PFN_SHIFT);
}

/* Which pages migrate_vma_setup collects (migrate_vma.flags). */
enum {
	ZD_MIGRATE_VMA_SELECT_SYSTEM = 1 << 0,
	ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1,
	ZD_MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2,
	ZD_MIGRATE_VMA_SELECT_COMPOUND = 1 << 3,
};

/*
 * struct zd_migrate_vma - one migration of [start, end) of @vma
 * (struct migrate_vma). The caller fills @vma, @start, @end, @src and
 * @dst (each (end - start) / ZD_PAGE_SIZE entries), @pgmap_owner (device
 * pages of that owner are selected; passed to the MIGRATE notifiers so
 * the owner's own invalidation can be skipped), @flags
 * (ZD_MIGRATE_VMA_SELECT_*) and, inside migrate_to_ram, @fault_page.
 * Setup fills @src, @npages and @cpages (entries marked MIGRATE); the
 * driver fills @dst. @src must not change after setup, @dst after
 * zd_migrate_vma_pages.
 */
struct zd_migrate_vma {
	struct zd_vm_area_struct *vma;
	unsigned long *dst;
	unsigned long *src;
	unsigned long cpages;
	unsigned long npages;
	unsigned long start;
	unsigned long end;
	void *pgmap_owner;
	unsigned long flags;
	struct zd_page *fault_page;
};

/*
 * zd_migrate_vma_setup - collect, lock and unmap the pages of
 * [args->start, args->end) that may migrate (migrate_vma_setup). Holes
 * and the zero page of an anonymous VMA (with SELECT_SYSTEM for the zero
 * page) become MIGRATE entries without a page; RAM pages (SELECT_SYSTEM)
 * and device pages whose pgmap owner is @pgmap_owner (SELECT_DEVICE_*)
 * are referenced, try-locked and replaced by migration entries in every
 * mapping; pages with references nobody expects (GUP gets, pins: R8.8)
 * are restored unchanged and their entry is 0. @cpages counts the MIGRATE
 * entries. A large folio migrates whole with SELECT_COMPOUND and the
 * whole folio inside the range (COMPOUND on its first entry, 0 for its
 * other pages); otherwise it is split and collected per page (a failed
 * split skips the rest of the range). The model has no PMD-level
 * migration or device-private entries: a whole folio is mapped by PTEs
 * (src/mm/migrate_device.c).
 * Returns 0 (even if nothing was collected), or -EINVAL (R8.1): no VMA;
 * a VM_IO/DONTEXPAND/PFNMAP/MIXEDMAP or DAX VMA; no page in the range;
 * @start not inside the VMA; @end not in (vm_start, vm_end]; @src or
 * @dst NULL; @fault_page not a device-private page or not locked.
 * Context: mmap_lock held (read) from setup to finalize; may sleep; runs
 * the MIGRATE invalidation with @pgmap_owner around the collection.
 */
int zd_migrate_vma_setup(struct zd_migrate_vma *args);

/*
 * zd_migrate_vma_pages - move the struct page state of each MIGRATE
 * entry to the destination the driver put in @dst (migrate_vma_pages):
 * a hole gets the destination page inserted (device-private: a device-
 * private entry, writable iff the VMA has VM_WRITE; coherent or RAM: a
 * present PTE), a page gets folio_migrate_mapping's reference check and
 * its flags and rmap identity copied. A COMPOUND source with a small
 * destination is split first and its entries filled in (the others then
 * have no destination). Entries without a destination, or whose check
 * fails, lose MIGRATE. Context: as setup; the destination
 * pages are locked and hold the allocation's reference.
 */
void zd_migrate_vma_pages(struct zd_migrate_vma *migrate);

/*
 * zd_migrate_vma_finalize - end the migration (migrate_vma_finalize):
 * every migration entry becomes a mapping of the destination (MIGRATE) or
 * of the source again; every page is unlocked (but the fault page) and
 * the references of the migration are dropped, so a migrated-away source
 * is freed (a device page through its driver's folio_free). Context: as
 * setup; the data must be copied before this call.
 */
void zd_migrate_vma_finalize(struct zd_migrate_vma *migrate);

/*
 * zd_migrate_device_range - begin the migration of the device pages
 * [start_pfn, start_pfn + npages) wherever they are mapped
 * (migrate_device_range): each allocated head page is referenced and
 * try-locked (src = its mpfn | MIGRATE, | COMPOUND for a large folio),
 * free, tail or contended pages give 0; then every mapping is replaced by
 * a migration entry through rmap, and pages with unexpected references
 * are restored (entry 0). Returns 0. Context: no mmap_lock needed; may
 * sleep.
 */
int zd_migrate_device_range(struct zd_system *sys, unsigned long *src_pfns,
			    unsigned long start_pfn, unsigned long npages);
/*
 * zd_migrate_device_pfns - the same for the pfns the caller put in
 * @src_pfns (plain pfns, replaced by mpfns) (migrate_device_pfns).
 * Returns 0.
 */
int zd_migrate_device_pfns(struct zd_system *sys, unsigned long *src_pfns, unsigned long npages);
/* zd_migrate_device_pages - zd_migrate_vma_pages without a VMA (no holes). */
void zd_migrate_device_pages(struct zd_system *sys, unsigned long *src_pfns,
			     unsigned long *dst_pfns, unsigned long npages);
/* zd_migrate_device_finalize - zd_migrate_vma_finalize without a VMA. */
void zd_migrate_device_finalize(struct zd_system *sys, unsigned long *src_pfns,
				unsigned long *dst_pfns, unsigned long npages);

/*
 * zd_migrate_device_coherent_folio - move the device-coherent @folio to a
 * new RAM folio (migrate_device_coherent_folio, §8.10; GUP's long-term
 * pins use it). The caller's reference is consumed either way. Returns 0
 * when migrated, -EBUSY when not (other references, not anonymous, large,
 * no RAM). Context: may sleep; takes the folio lock.
 */
int zd_migrate_device_coherent_folio(struct zd_folio *folio);

#endif /* ZONEDEV_MIGRATE_H */
