/* SPDX-License-Identifier: MIT */
/*
 * zonedev/check.h - the invariant checker.
 *
 * Models the checks of mm/debug_vm_pgtable.c and the VM_BUG_ON/VM_WARN_ON
 * consistency checks of the kernel, applied at quiescent points over every
 * layer below: pages, pgmaps, LRUs, the buddy allocator and every mm's
 * page tables. Failures are reported as misuse (<zonedev/debug.h>).
 *
 * For the code written against the header as it was, this one also brings
 * the events (<zonedev/events.h>), the misuse reports (<zonedev/debug.h>)
 * and the trace sinks (<zonedev/trace.h>).
 */
#ifndef ZONEDEV_CHECK_H
#define ZONEDEV_CHECK_H

#include <zonedev/debug.h>
#include <zonedev/events.h>
#include <zonedev/memremap.h>
#include <zonedev/trace.h>

/*
 * zd_check_invariants - check every page and pgmap now (R12.1, R12.2,
 * R12.4, R12.5; buddy and LRU consistency; mapcounts are folio totals; at
 * ZD_CHECK_FULL the shadow refcounts, and every mm's page tables walked so
 * that each folio's mapcount equals the entries mapping it). Reports each
 * failure (ZD_MISUSE_INVARIANT) and returns how many were found. Does
 * nothing at ZD_CHECK_OFF. Context: quiescent system (no concurrent
 * users); takes the zone and LRU locks, then the pgmap lock, and at
 * ZD_CHECK_FULL the mm-list lock inside it.
 */
int zd_check_invariants(struct zd_system *sys);

/*
 * zd_shadow_refcount - full-level shadow accounting: every get/put through
 * the API is mirrored in a per-page shadow count, which
 * zd_check_invariants compares with the refcount. Context: any (a relaxed
 * read). Returns the shadow count of @folio, or -1 below ZD_CHECK_FULL.
 */
int zd_shadow_refcount(struct zd_folio *folio);

#endif /* ZONEDEV_CHECK_H */
