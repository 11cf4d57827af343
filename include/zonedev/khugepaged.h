/* SPDX-License-Identifier: MIT */
/*
 * zonedev/khugepaged.h - khugepaged and MADV_COLLAPSE.
 *
 * Models include/linux/khugepaged.h and mm/khugepaged.c: collapsing
 * PMD-sized blocks of small anonymous folios into one PMD-mapped THP.
 *
 * Like every walker that expects LRU pages (the callers of vm_normal_page
 * that Linux teaches to skip ZONE_DEVICE folios: semantics §5, R5.3-R5.4,
 * R12.5), it has a visible effect on RAM folios and leaves device folios
 * alone: their entries, references and mapcounts are unchanged, and they
 * never reach an LRU list.
 */
#ifndef ZONEDEV_KHUGEPAGED_H
#define ZONEDEV_KHUGEPAGED_H

#include <zonedev/mm.h>

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

#endif /* ZONEDEV_KHUGEPAGED_H */
