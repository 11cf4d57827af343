/* SPDX-License-Identifier: MIT */
/*
 * src/gup/internal.h - what gup.c and gup_fast.c share (and tests use).
 *
 * Models the GUP part of mm/internal.h: try_grab_folio, gup_put_folio,
 * gup_must_unshare and the slow-path entry the fast path falls back to.
 */
#ifndef ZD_GUP_INTERNAL_H
#define ZD_GUP_INTERNAL_H

#include <zonedev/gup.h>
#include "mm/internal.h"

/* Flags a caller may pass to the fast entries (gup_fast_fallback's list). */
#define ZD_GUP_FAST_FLAGS (ZD_FOLL_WRITE | ZD_FOLL_LONGTERM | ZD_FOLL_FORCE | ZD_FOLL_PIN | \
			   ZD_FOLL_GET | ZD_FOLL_FAST_ONLY | ZD_FOLL_NOFAULT | \
			   ZD_FOLL_PCI_P2PDMA | ZD_FOLL_HONOR_NUMA_FAULT)

/*
 * try_grab_folio - take @refs GET references or PIN pins on @folio, which
 * the caller holds stable (a mapped page under its page-table lock, or a
 * reference of its own) (R4.2). Neither GET nor PIN: nothing, 0.
 * Returns 0; -ENOMEM if the folio is free (reported: R12.17) or the
 * refcount would pass ZD_GUP_REFCOUNT_LIMIT; -EREMOTEIO for a p2pdma
 * folio without ZD_FOLL_PCI_P2PDMA. A PIN of the zero page is 0 with no
 * accounting.
 */
int _zd_try_grab_folio(struct zd_folio *folio, int refs, unsigned int flags);

/*
 * gup_put_folio - undo _zd_try_grab_folio (R4.3): PIN releases pins (none
 * on the zero page; an unpin of pins that are not there is reported and
 * ignored), GET plain references. The last reference frees the folio.
 */
void _zd_gup_put_folio(struct zd_folio *folio, int refs, unsigned int flags);

/*
 * NR_FOLL_PIN_ACQUIRED / NR_FOLL_PIN_RELEASED: the model has no node
 * stats, so pins and unpins become ZD_EV_PIN / ZD_EV_UNPIN trace events
 * (delta = +/- pins) when tracing is on.
 */
void _zd_gup_pin_event(struct zd_folio *folio, bool pin, int pins);

/* is_zero_folio(): the shared zero page. Context: @folio held or mapped. */
bool _zd_is_zero_folio(const struct zd_folio *folio);

/* is_pci_p2pdma_page() on a folio. Context: @folio held. */
static inline bool _zd_folio_is_p2pdma(const struct zd_folio *folio)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);

	return pgmap && pgmap->type == ZD_MEMORY_DEVICE_PCI_P2PDMA;
}

/*
 * get_dev_pagemap() with a cached pgmap (6.14 and older, for devmap
 * entries, L7): @pgmap is kept if it covers @pfn, else put, and a live
 * reference on @pfn's pgmap is taken. NULL if there is none or it is dying.
 */
static inline struct zd_dev_pagemap *_zd_get_dev_pagemap_cached(struct zd_system *sys,
								 unsigned long pfn,
								 struct zd_dev_pagemap *pgmap)
{
	if (pgmap) {
		if (zd_pgmap_pfn_valid(pgmap, pfn))
			return pgmap;
		zd_put_dev_pagemap(pgmap);
	}
	return zd_get_dev_pagemap(sys, pfn);
}

/*
 * gup_must_unshare - must a read-only @page be unshared (FAULT_FLAG_UNSHARE)
 * before this GUP may take it? Only for PIN without WRITE: an anonymous
 * page that is not PG_anon_exclusive, or (LONGTERM only) any non-anonymous
 * page in a private COW mapping (@vma NULL: the fast path, which cannot
 * tell, says yes). Context: @page held.
 */
bool _zd_gup_must_unshare(const struct zd_vm_area_struct *vma, unsigned int flags,
			  const struct zd_page *page);

/*
 * __gup_longterm_locked: the slow path behind every entry point, flags
 * already validated. Returns pages taken or a negative errno, as
 * zd_get_user_pages. Context: mmap_lock held for read.
 */
long _zd_gup_longterm_locked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			     struct zd_page **pages, unsigned int flags);

/* Flags a caller may pass to the slow entries (the model also lets PIN and TOUCH in). */
#define ZD_GUP_SLOW_FLAGS (ZD_FOLL_WRITE | ZD_FOLL_GET | ZD_FOLL_DUMP | ZD_FOLL_FORCE | \
			   ZD_FOLL_NOWAIT | ZD_FOLL_NOFAULT | ZD_FOLL_HWPOISON | ZD_FOLL_ANON | \
			   ZD_FOLL_LONGTERM | ZD_FOLL_SPLIT_PMD | ZD_FOLL_PCI_P2PDMA | \
			   ZD_FOLL_INTERRUPTIBLE | ZD_FOLL_HONOR_NUMA_FAULT | ZD_FOLL_TOUCH | \
			   ZD_FOLL_PIN)

/*
 * is_valid_gup_args: flags outside @allowed -> -EINVAL; then @to_set is
 * added and R4.1 checked (-EINVAL); unmodelled flags -> -EOPNOTSUPP.
 * Linux also WARNs; the model only returns the error.
 */
int _zd_gup_check_args(struct zd_page **pages, unsigned int *flags, unsigned int allowed,
		       unsigned int to_set);

/*
 * check_and_migrate_movable_pages: @pages[0..nr) are pinned with
 * FOLL_PIN|FOLL_LONGTERM. 0 if every folio may stay pinned; otherwise the
 * pins are dropped and the result is -EAGAIN (device-coherent folios were
 * migrated: pin again), -EBUSY (a coherent folio could not be migrated)
 * or -EOPNOTSUPP (fs-dax and anything else not pinnable, which the model
 * cannot migrate). Exposed for tests (coherent pages are mapped only by
 * HMM migration).
 */
long _zd_check_and_migrate_movable_pages(unsigned long nr, struct zd_page **pages);

#endif /* ZD_GUP_INTERNAL_H */
