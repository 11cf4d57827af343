/* SPDX-License-Identifier: MIT */
/*
 * zonedev/migrate.h - page migration that user space asks for: move_pages(2).
 *
 * Models include/linux/migrate.h and mm/migrate.c's move_pages
 * (kernel_move_pages, do_pages_move, do_pages_stat_array). The model has
 * one NUMA node (ZD_MAX_NUMNODES, mempolicy.h) and no swap.
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

#endif /* ZONEDEV_MIGRATE_H */
