/* SPDX-License-Identifier: MIT */
/*
 * zonedev/ksm.h - kernel samepage merging.
 *
 * Models include/linux/ksm.h and mm/ksm.c: one ksmd pass merging
 * identical small anonymous pages.
 *
 * Like every walker that expects LRU pages (the callers of vm_normal_page
 * that Linux teaches to skip ZONE_DEVICE folios: semantics §5, R5.3-R5.4,
 * R12.5), it has a visible effect on RAM folios and leaves device folios
 * alone: their entries, references and mapcounts are unchanged, and they
 * never reach an LRU list.
 */
#ifndef ZONEDEV_KSM_H
#define ZONEDEV_KSM_H

#include <zonedev/mm.h>

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

#endif /* ZONEDEV_KSM_H */
