/* SPDX-License-Identifier: MIT */
/*
 * zonedev/mm_walkers.h - the page-table walkers that expect LRU pages.
 *
 * Models the callers of vm_normal_page() that Linux teaches to skip
 * ZONE_DEVICE folios (semantics §5, R5.3-R5.4, R12.5): folio_walk_start
 * (mm/pagewalk.c) and 6.0's follow_page(FOLL_LRU) (mm/gup.c); khugepaged
 * and MADV_COLLAPSE (mm/khugepaged.c); KSM (mm/ksm.c); mlock/munlock
 * (mm/mlock.c); NUMA hinting protection (mm/mprotect.c change_prot_numa);
 * numa_maps (fs/proc/task_mmu.c); move_pages (mm/migrate.c); the debugfs
 * split_huge_pages (mm/huge_memory.c). Each has a visible effect on RAM
 * folios and leaves device folios alone: their entries, references and
 * mapcounts are unchanged, and they never reach an LRU list.
 *
 * The model has one NUMA node (node 0) and no swap.
 */
#ifndef ZONEDEV_MM_WALKERS_H
#define ZONEDEV_MM_WALKERS_H

#include <stddef.h>
#include <zonedev/mm.h>

struct zd_spinlock;

/* ---- folio_walk (mm/pagewalk.c) and follow_page (mm/gup.c, 6.0) ---- */

#define ZD_FW_MIGRATION	(1u << 0)	/* also return the folio of a migration entry */
#define ZD_FW_ZEROPAGE	(1u << 1)	/* also return the shared zero page */
/* zd_follow_page() only: */
#define ZD_FW_GET	(1u << 8)	/* take a reference (FOLL_GET) */
#define ZD_FW_LRU	(1u << 9)	/* only folios that may sit on an LRU (6.0's FOLL_LRU) */

/*
 * struct zd_folio_walk - what zd_folio_walk_start found (struct folio_walk).
 * @page: the page mapped at the address (NULL for a migration entry);
 * @level: 1 PTE, 2 PMD, 3 PUD; @slot and @entry: the entry and its value;
 * @ptl: the lock held until zd_folio_walk_end.
 */
struct zd_folio_walk {
	struct zd_page *page;
	int level;
	_Atomic zd_pte_t *slot;
	zd_pte_t entry;
	struct zd_vm_area_struct *vma;
	struct zd_spinlock *ptl;
};

/*
 * zd_folio_walk_start - look up the folio mapped at @addr of @vma without
 * faulting (folio_walk_start): a present PTE or PMD/PUD leaf whose page is
 * "normal" (zd_vm_normal_page), the zero page with ZD_FW_ZEROPAGE, a
 * migration entry's folio with ZD_FW_MIGRATION. No reference is taken:
 * the entry's lock, held on return, keeps the mapping (and so the folio)
 * alive until zd_folio_walk_end(). As in Linux since the pXX_devmap
 * removal, ZONE_DEVICE folios (coherent, fs-dax, device-DAX, p2pdma) are
 * returned: each caller filters (R5.4). Device-private entries are not
 * present and never returned. Returns the folio, or NULL (lock not held)
 * if nothing suitable is mapped or @addr lies outside @vma.
 * Context: mmap_lock held (read or write); takes a page-table lock.
 */
struct zd_folio *zd_folio_walk_start(struct zd_folio_walk *fw, struct zd_vm_area_struct *vma,
				     unsigned long addr, unsigned int flags);
/* zd_folio_walk_end - drop the lock zd_folio_walk_start returned with. */
void zd_folio_walk_end(struct zd_folio_walk *fw);

/*
 * zd_follow_page - the page mapped at @addr, as 6.0's follow_page() gave
 * it to KSM, migration and the debugfs split: with ZD_FW_GET a reference
 * is taken under the entry's lock (the caller puts it); ZD_FW_ZEROPAGE as
 * above. With ZD_FW_LRU a ZONE_DEVICE folio is refused with -EEXIST (as
 * FOLL_LRU did) and the reference taken for it is given back first, so a
 * skip path never leaks one (bug B16). Returns 0 and *@pagep; -ENOENT if
 * no suitable page is mapped; -EEXIST (refused device folio); -EFAULT if
 * @addr lies outside @vma. Context: mmap_lock held; takes and drops the
 * page-table lock; the final put of a refused device folio may call its
 * driver's folio_free.
 */
int zd_follow_page(struct zd_vm_area_struct *vma, unsigned long addr, unsigned int flags,
		   struct zd_page **pagep);

/* ---- khugepaged and MADV_COLLAPSE (mm/khugepaged.c) ---- */

/*
 * enum zd_scan_result - why a PMD-sized block was or was not collapsed
 * (the kernel's enum scan_result, the values the model can produce).
 */
enum zd_scan_result {
	ZD_SCAN_FAIL = 0,
	ZD_SCAN_SUCCEED,		/* collapsed into a PMD-mapped THP */
	ZD_SCAN_PMD_NULL,		/* no PTE table there */
	ZD_SCAN_PMD_MAPPED,		/* already a PMD leaf */
	ZD_SCAN_EXCEED_NONE_PTE,	/* khugepaged: too many empty / zero-page entries */
	ZD_SCAN_EXCEED_SHARED_PTE,	/* khugepaged: too many shared pages */
	ZD_SCAN_PTE_NON_PRESENT,	/* a non-present entry (device-private, migration) */
	ZD_SCAN_PAGE_RO,		/* no writable entry in the block */
	ZD_SCAN_LACK_REFERENCED_PAGE,	/* khugepaged: no young entry */
	ZD_SCAN_PAGE_NULL,		/* no normal page, or a ZONE_DEVICE folio (R5.3) */
	ZD_SCAN_PAGE_ANON,		/* a page that is not anonymous */
	ZD_SCAN_PAGE_COUNT,		/* unexpected references: GUP, DMA pins */
	ZD_SCAN_PAGE_LOCK,		/* a folio lock was taken */
	ZD_SCAN_ALLOC_HUGE_PAGE_FAIL,	/* no order-9 RAM folio */
	ZD_SCAN_NR_RESULTS,
};

/* Per-result counts of one khugepaged pass. */
struct zd_khugepaged_stats {
	unsigned long pmds_scanned;
	unsigned long results[ZD_SCAN_NR_RESULTS];
};

/*
 * MADV_COLLAPSE is zd_madvise(mm, start, len, ZD_MADV_COLLAPSE): every
 * PMD-aligned 2 MiB block the range covers whole, in an anonymous VMA
 * whose entries are none, the zero page or small (or PTE-mapped large)
 * anonymous RAM folios with at least one writable entry, is copied into a
 * new order-9 folio mapped by a PMD leaf; the old pages lose their
 * mapcount and reference and the PTE table is freed after an RCU grace
 * period (so GUP-fast never walks a freed table, bug B4). Returns 0 when
 * every block is PMD-mapped afterwards; -EINVAL (unaligned start, a
 * VM_NOHUGEPAGE, DAX or VM_SPECIAL VMA, or a block holding a ZONE_DEVICE
 * folio (SCAN_PAGE_NULL), a non-present entry, no PTE table, or only
 * read-only entries); -EAGAIN (a folio with unexpected references or
 * pins, or locked); -ENOMEM (no order-9 folio, or a hole in the range);
 * -EOPNOTSUPP (a file or shmem VMA: collapse_file is not modelled).
 * Context: takes mmap_lock for write (Linux takes it for read to scan
 * and for write to collapse) and the VMAs' anon_vma lock.
 */

/*
 * zd_khugepaged_scan_mm - one khugepaged pass over @mm
 * (khugepaged_scan_mm_slot): every PMD block of every anonymous
 * VM_HUGEPAGE VMA, with khugepaged's default limits (at most 511 empty or
 * zero-page entries, 256 shared pages, at least one young entry). Blocks
 * holding a ZONE_DEVICE folio are left (SCAN_PAGE_NULL); DAX and
 * VM_SPECIAL VMAs are not scanned. @st (may be NULL) receives the
 * per-block results. Returns the number of blocks collapsed, or -ENOMEM.
 * Context: takes mmap_lock for write.
 */
int zd_khugepaged_scan_mm(struct zd_mm *mm, struct zd_khugepaged_stats *st);

/* ---- KSM (mm/ksm.c) ---- */

/*
 * zd_ksm_scan - one full ksmd pass over @mms[0..n-1]: in every VM_MERGEABLE
 * VMA that KSM accepts (not shared, file-shared, VM_SPECIAL or DAX),
 * small anonymous RAM folios mapped by a present PTE whose contents are
 * identical are merged: one page is kept (the one mapped most often
 * already, e.g. an existing KSM page), every mapping of it is made
 * read-only and clean (write_protect_page), and every other mapping is
 * remapped read-only to it, its duplicate losing mapcount and reference
 * (replace_page); a later write breaks the sharing through COW. Folios
 * with unexpected references (GUP, pins: counted once the entry is
 * cleared and an RCU grace period has let GUP-fast walkers finish) or
 * whose lock is taken are left. NUMA-hinting entries are candidates.
 * ZONE_DEVICE folios are never merged (R12.5), large folios are left
 * (Linux splits them first; not modelled), and the zero page is never a
 * candidate. Without a stable tree between passes, pages already merged
 * are recognised by being mapped more than once. The rmap of a merged
 * page is not modelled: it keeps the kept page's anon_vma and index, so
 * zd_try_to_unmap does not find its other mappings. Returns the number
 * of mappings remapped (pages_sharing gained), -EINVAL (n < 0, NULL
 * arrays), -ENOMEM, -EOPNOTSUPP (data=none: contents cannot be compared).
 * Context: takes every mm's mmap_lock for write (in address order), so
 * no write can change a page between comparison and merge.
 */
int zd_ksm_scan(struct zd_mm **mms, int n);

/* ---- mlock (mm/mlock.c) ---- */

/*
 * zd_mlock - mlock(2): set VM_LOCKED on the VMAs of [addr, addr + len)
 * (the range is widened to whole pages; VMAs are split and merged), fault
 * every page of the range in (writing private writable VMAs, as
 * populate_vma_page_range does), then mlock each RAM folio mapped in the
 * locked VMAs: PG_unevictable (standing for PG_mlocked too) is set and
 * the folio is taken off the active/inactive lists, as mlock_folio moves
 * it to the unevictable list. The model has no unevictable list, so an
 * mlocked folio is on no LRU (PG_lru clear). ZONE_DEVICE folios are never
 * touched (mlock_pte_range skips them); DAX and VM_SPECIAL VMAs are not
 * marked VM_LOCKED at all (mlock_fixup), though their range is faulted
 * in. Not modelled: pages faulted into a VM_LOCKED VMA later are not
 * mlocked (mlock_new_folio in folio_add_lru_vma), and unmapping does not
 * munlock (a folio still mapped elsewhere stays unevictable until it is
 * freed or munlocked there). Returns 0; -EINVAL (overflow); -ENOMEM (a
 * hole: nothing is changed, or the fault-in hit an unmapped range);
 * -EAGAIN (out of memory while faulting in). Context: takes mmap_lock
 * (write, then read for the fault-in, then write).
 */
int zd_mlock(struct zd_mm *mm, unsigned long addr, size_t len);

/*
 * zd_munlock - munlock(2): clear VM_LOCKED on the VMAs of the range, and
 * give each mlocked RAM folio mapped there back to the inactive or active
 * list unless another VM_LOCKED VMA still maps it (found through rmap,
 * as the pre-5.16 munlock_vma_page did; Linux now keeps an mlock_count).
 * ZONE_DEVICE folios are skipped. Returns 0, -EINVAL, -ENOMEM (a hole:
 * nothing changed). Context: takes mmap_lock for write; may sleep on a
 * folio lock.
 */
int zd_munlock(struct zd_mm *mm, unsigned long addr, size_t len);

/* ---- NUMA (mm/mprotect.c, fs/proc/task_mmu.c, mm/migrate.c) ---- */

#define ZD_MAX_NUMNODES 1

/*
 * zd_change_prot_numa - NUMA-hinting protection of [start, end) of @vma
 * (change_prot_numa, as task_numa_work calls it): each present PTE that
 * maps a RAM folio becomes a PROT_NONE entry (pte_modify(PAGE_NONE):
 * PROTNONE instead of PRESENT, write permission dropped, pfn, dirty and
 * young kept); the next access takes the hinting fault (do_numa_page),
 * which restores it. Skipped, as change_pte_range skips them: ZONE_DEVICE
 * folios (their entries stay exactly as they were), the zero page and
 * other special entries, entries already PROT_NONE, non-present entries,
 * and in private (COW) mappings folios that may be DMA-pinned or are
 * mapped more than once. PMD leaves are left accessible: the model's
 * fault handler has no do_huge_pmd_numa_page to restore them. Returns the
 * number of entries changed; 0 for an inaccessible VMA.
 * Context: mmap_lock held (read is enough); takes page-table locks.
 */
long zd_change_prot_numa(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end);

/*
 * struct zd_numa_stats - what /proc/PID/numa_maps prints for @mm's VMAs,
 * summed (struct numa_maps): pages counted, anonymous, dirty (entry or
 * folio), active (PG_active or PG_unevictable), the highest page mapcount
 * seen, and pages per node.
 */
struct zd_numa_stats {
	unsigned long pages;
	unsigned long anon;
	unsigned long dirty;
	unsigned long active;
	unsigned long mapcount_max;
	unsigned long node[ZD_MAX_NUMNODES];
};

/*
 * zd_numa_maps - gather @st over every VMA of @mm (show_numa_map's
 * gather_pte_stats): present PTEs and PMD leaves whose page is normal;
 * ZONE_DEVICE folios, the zero page and reserved pages are not counted
 * (can_gather_numa_stats). Returns 0. Context: takes mmap_lock for read.
 */
int zd_numa_maps(struct zd_mm *mm, struct zd_numa_stats *st);

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

/* ---- split (mm/huge_memory.c, debugfs split_huge_pages) ---- */

/*
 * zd_split_huge_pages - what writing "pid,start,end" to
 * /sys/kernel/debug/split_huge_pages does (split_huge_pages_pid), for the
 * mapping: each PMD leaf in [start, end) mapping an anonymous RAM THP
 * without unexpected references is replaced by a PTE table mapping the
 * same 512 pages (__split_huge_pmd: the entire mapcount becomes 512 page
 * mapcounts, the PMD's reference one per PTE). The folio itself stays
 * large (split_folio, which would make 512 small folios, is not
 * modelled). Skipped: ZONE_DEVICE folios (even a PMD-mapped coherent THP
 * in an anonymous VMA), DAX, VM_IO and shared file VMAs, folios with
 * extra references, locked folios. Stops at the first address without a
 * VMA, as Linux does. Returns the number of PMD mappings split, -EINVAL
 * (start > end). Context: takes mmap_lock for read.
 */
long zd_split_huge_pages(struct zd_mm *mm, unsigned long start, unsigned long end);

#endif /* ZONEDEV_MM_WALKERS_H */
