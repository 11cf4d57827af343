/* SPDX-License-Identifier: MIT */
/*
 * zonedev/page_alloc.h - the RAM arena's buddy allocator and LRU lists.
 *
 * Models mm/page_alloc.c (buddy, orders 0..ZD_MAX_PAGE_ORDER), and
 * mm/swap.c / mm/vmscan.c LRU add, isolate and putback.
 */
#ifndef ZONEDEV_PAGE_ALLOC_H
#define ZONEDEV_PAGE_ALLOC_H

#include <zonedev/page.h>

#define ZD_GFP_ZERO	(1u << 0)	/* __GFP_ZERO */

/*
 * zd_folio_alloc - allocate a RAM folio of 2^order pages (folio_alloc):
 * refcount 1, head/tail pages set up for order > 0, zeroed with
 * ZD_GFP_ZERO (data=real). NULL if no block is free, the order is above
 * ZD_MAX_PAGE_ORDER, or the "page_alloc" fault site fires.
 * Context: any; takes the zone lock.
 */
struct zd_folio *zd_folio_alloc(struct zd_system *sys, unsigned int gfp, unsigned int order);
/* alloc_page(). */
static inline struct zd_page *zd_alloc_page(struct zd_system *sys, unsigned int gfp)
{
	struct zd_folio *f = zd_folio_alloc(sys, gfp, 0);

	return f ? &f->page : NULL;
}

/* Free pages in the buddy allocator now. */
unsigned long zd_nr_free_pages(struct zd_system *sys);

/* The shared zero page (ZERO_PAGE(0)): never freed, never pinned. */
struct zd_folio *zd_zero_folio(struct zd_system *sys);

enum zd_lru_list {
	ZD_LRU_INACTIVE = 0,
	ZD_LRU_ACTIVE,
	ZD_NR_LRU_LISTS,
};

/*
 * zd_folio_add_lru - put a RAM folio on the inactive list (folio_add_lru;
 * active if PG_active). A ZONE_DEVICE folio is misuse (R12.5): reported
 * (ZD_MISUSE_DEVICE_ON_LRU), not added, -EINVAL. A folio already on an
 * LRU: -EBUSY. Context: takes the LRU lock.
 */
int zd_folio_add_lru(struct zd_folio *folio);

/*
 * zd_folio_isolate_lru - take a folio off its LRU for the caller
 * (folio_isolate_lru): clears PG_lru and takes a reference. false if it
 * was not on an LRU (device folios never are).
 */
bool zd_folio_isolate_lru(struct zd_folio *folio);

/* zd_folio_putback_lru - undo an isolation: back on the LRU, reference dropped. */
void zd_folio_putback_lru(struct zd_folio *folio);

/* Folios on @lru now. */
unsigned long zd_lru_count(struct zd_system *sys, enum zd_lru_list lru);

#endif /* ZONEDEV_PAGE_ALLOC_H */
