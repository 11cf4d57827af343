/* SPDX-License-Identifier: MIT */
/*
 * zonedev/huge_mm.h - transparent huge pages: the huge zero folio and
 * splitting PMD mappings.
 *
 * Models include/linux/huge_mm.h (mm/huge_memory.c): the huge zero folio
 * and its sysfs switch, and the debugfs split_huge_pages. zonedev/mm.h
 * includes it, as linux/mm.h includes linux/huge_mm.h; the PMD/PUD
 * insert helpers stay declared with the other vmf_insert_* in mm.h.
 */
#ifndef ZONEDEV_HUGE_MM_H
#define ZONEDEV_HUGE_MM_H

#include <stdbool.h>
#include <zonedev/page.h>

struct zd_mm;

/*
 * zd_thp_set_use_zero_page - /sys/kernel/mm/transparent_hugepage/
 * use_zero_page: whether a read fault in a THP-eligible anonymous region
 * (MADV_HUGEPAGE, a PMD that fits the VMA) maps the huge zero folio with
 * a special PMD leaf (@on, the default) or falls back to PTEs (the small
 * zero page). Context: any thread; later faults see the new value.
 */
void zd_thp_set_use_zero_page(struct zd_system *sys, bool on);
bool zd_thp_use_zero_page(struct zd_system *sys);
/*
 * zd_huge_zero_folio - the huge zero folio (order 9, all zeros) while some
 * mm holds it (maps it, or did and has not exited), else NULL. Mapping it
 * takes neither a reference nor a mapcount. Context: any thread.
 */
struct zd_folio *zd_huge_zero_folio(struct zd_system *sys);

/*
 * zd_split_huge_pages - what writing "pid,start,end" to
 * /sys/kernel/debug/split_huge_pages does (split_huge_pages_pid): each
 * large anonymous RAM folio met in [start, end), mapped by a PMD leaf or
 * already by PTEs, without references beyond its mappings, is split into
 * small folios (split_folio_to_order), each mapped again where its page
 * was. Skipped: ZONE_DEVICE folios (even a PMD-mapped coherent THP in an
 * anonymous VMA), DAX, VM_IO and shared file VMAs, folios with extra
 * references, locked folios. Stops at the first address without a VMA, as
 * Linux does. Returns the number of folios split, -EINVAL (start > end).
 * Context: takes mmap_lock for read; folio locks with trylock.
 */
long zd_split_huge_pages(struct zd_mm *mm, unsigned long start, unsigned long end);

#endif /* ZONEDEV_HUGE_MM_H */
