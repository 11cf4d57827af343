/* SPDX-License-Identifier: MIT */
/*
 * zonedev/mempolicy.h - NUMA: hinting protection and numa_maps.
 *
 * Models include/linux/mempolicy.h and the NUMA helpers around it:
 * change_prot_numa (mm/mempolicy.c, with change_pte_range's prot_numa
 * branch of mm/mprotect.c) and what /proc/PID/numa_maps gathers
 * (fs/proc/task_mmu.c). MAX_NUMNODES is include/linux/numa.h's. The
 * model has one NUMA node (node 0) and no swap.
 *
 * Like every walker that expects LRU pages (the callers of vm_normal_page
 * that Linux teaches to skip ZONE_DEVICE folios: semantics §5, R5.3-R5.4,
 * R12.5), it has a visible effect on RAM folios and leaves device folios
 * alone: their entries, references and mapcounts are unchanged, and they
 * never reach an LRU list.
 */
#ifndef ZONEDEV_MEMPOLICY_H
#define ZONEDEV_MEMPOLICY_H

#include <zonedev/mm.h>

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

#endif /* ZONEDEV_MEMPOLICY_H */
