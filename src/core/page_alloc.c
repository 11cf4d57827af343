// SPDX-License-Identifier: MIT
/*
 * src/core/page_alloc.c - the RAM arena's buddy allocator.
 *
 * Models mm/page_alloc.c: free areas per order, splitting on allocation
 * (expand), merging with the buddy on free (__free_one_page), folio setup
 * (prep_compound_page) and the fault-injection hook of should_fail_alloc_page.
 * One zone, one lock: no per-cpu lists, watermarks or migratetypes.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static void set_buddy(struct zd_page *page, unsigned int order)
{
	page->private = order;
	/* __SetPageBuddy(): a free page's flags are the zone lock holder's alone. */
	_zd_page_set_flag_nonatomic(page, ZD_PG_buddy);
}

static void add_free(struct zd_system *sys, unsigned long pfn, unsigned int order)
{
	struct zd_page *page = &sys->ram_memmap[pfn];

	set_buddy(page, order);
	zd_list_add(&page->lru, &sys->free_area[order]);
	sys->nr_free_area[order]++;
}

static void del_free(struct zd_system *sys, struct zd_page *page, unsigned int order)
{
	zd_list_del(&page->lru);
	_zd_page_clear_flag_nonatomic(page, ZD_PG_buddy);
	page->private = 0;
	sys->nr_free_area[order]--;
}

/*
 * A statistic only ever changed under zone_lock: a plain increment, no
 * locked instruction (zd_system_stats() reads it without the lock).
 */
static void stat_inc_locked(_Atomic uint64_t *st)
{
	zd_atomic_store_relaxed(st, zd_atomic_load_relaxed(st) + 1);
}

/* Context: zone_lock held. */
static void free_one(struct zd_system *sys, unsigned long pfn, unsigned int order)
{
	sys->free_pages += 1ul << order;
	while (order < ZD_MAX_PAGE_ORDER) {
		unsigned long buddy = pfn ^ (1ul << order);
		struct zd_page *bp;

		if (buddy >= sys->ram_pages)
			break;
		bp = &sys->ram_memmap[buddy];
		if (!zd_page_test_flag(bp, ZD_PG_buddy) || bp->private != order)
			break;
		del_free(sys, bp, order);
		pfn &= ~(1ul << order);
		order++;
	}
	add_free(sys, pfn, order);
}

int _zd_buddy_init(struct zd_system *sys)
{
	unsigned long block = 1ul << ZD_MAX_PAGE_ORDER;

	for (unsigned int o = 0; o <= ZD_MAX_PAGE_ORDER; o++)
		zd_list_init(&sys->free_area[o]);
	for (unsigned long pfn = 0; pfn + block <= sys->ram_pages; pfn += block) {
		add_free(sys, pfn, ZD_MAX_PAGE_ORDER);
		sys->free_pages += block;
	}
	return 0;
}

/* prep_compound_page(): head carries the order, tails point at the head. */
static void prep_folio(struct zd_page *head, unsigned int order)
{
	unsigned long nr = 1ul << order;

	zd_atomic_store_relaxed(&head->flags, order ? (ZD_PG_BIT(ZD_PG_head) |
			((unsigned long)order << ZD_PG_ORDER_SHIFT)) : 0ul);
	head->mapping = NULL;
	head->index = 0;
	head->private = 0;
	zd_atomic_store_relaxed(&head->_mapcount, -1);
	zd_atomic_store_relaxed(&head->_pincount, 0);
	zd_atomic_store_relaxed(&head->_entire_mapcount, -1);
	for (unsigned long i = 1; i < nr; i++) {
		struct zd_page *t = head + i;

		zd_atomic_store_relaxed(&t->flags, 0ul);
		_zd_page_set_compound_head(t, (unsigned long)head | 1ul);
		t->_tail_unused = 0;
		t->mapping = NULL;
		t->index = 0;
		zd_atomic_store_relaxed(&t->_refcount, 0);
		zd_atomic_store_relaxed(&t->_mapcount, -1);
		zd_atomic_store_relaxed(&t->_entire_mapcount, -1);	/* page 1: large mapcount */
	}
	ZD_LIST_SET(head->lru.next, (struct zd_list_head *)NULL);
	ZD_LIST_SET(head->lru.prev, (struct zd_list_head *)NULL);
}

struct zd_folio *zd_folio_alloc(struct zd_system *sys, unsigned int gfp, unsigned int order)
{
	struct zd_page *page = NULL;
	unsigned int o;

	if (order > ZD_MAX_PAGE_ORDER)
		return NULL;
	if (_zd_should_fail(sys, ZD_FAULT_PAGE_ALLOC))
		return NULL;
	zd_spin_lock(&sys->zone_lock);
	for (o = order; o <= ZD_MAX_PAGE_ORDER; o++) {
		if (!zd_list_empty(&sys->free_area[o])) {
			page = zd_lru_to_page(sys->free_area[o].next);
			break;
		}
	}
	if (!page) {
		zd_spin_unlock(&sys->zone_lock);
		return NULL;
	}
	del_free(sys, page, o);
	while (o > order) {		/* expand(): give back the upper halves */
		o--;
		add_free(sys, (unsigned long)(page - sys->ram_memmap) + (1ul << o), o);
	}
	sys->free_pages -= 1ul << order;
	stat_inc_locked(&sys->st_folio_allocs);
	zd_spin_unlock(&sys->zone_lock);

	prep_folio(page, order);
	if ((gfp & ZD_GFP_ZERO) && sys->ram_data)
		memset(zd_page_address(page), 0, ZD_PAGE_SIZE << order);
	if (sys->ram_shadow)
		zd_atomic_store_relaxed(&sys->ram_shadow[page - sys->ram_memmap], 1);
	/* Release: the initialised folio is visible to whoever gets its pointer. */
	zd_atomic_store_release(&page->_refcount, 1);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_ALLOC, (struct zd_folio *)page, 1);
	return (struct zd_folio *)page;
}

/* The last reference is gone: off the LRU, tails undone, back to the buddy. */
void _zd_free_ram_folio(struct zd_system *sys, struct zd_folio *folio)
{
	struct zd_page *head = &folio->page;
	unsigned int order = zd_folio_order(folio);
	unsigned long nr = 1ul << order;

	if (zd_folio_test_flag(folio, ZD_PG_lru))
		_zd_lru_del_on_free(sys, folio);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_FREE, folio, 0);
	for (unsigned long i = 1; i < nr; i++) {
		_zd_page_set_compound_head(&head[i], 0);
		head[i]._tail_unused = 0;
	}
	zd_atomic_store_relaxed(&head->flags, 0ul);
	head->mapping = NULL;
	head->index = 0;
	zd_spin_lock(&sys->zone_lock);
	stat_inc_locked(&sys->st_folio_frees);
	free_one(sys, (unsigned long)(head - sys->ram_memmap), order);
	zd_spin_unlock(&sys->zone_lock);
}

unsigned long zd_nr_free_pages(struct zd_system *sys)
{
	unsigned long n;

	zd_spin_lock(&sys->zone_lock);
	n = sys->free_pages;
	zd_spin_unlock(&sys->zone_lock);
	return n;
}

struct zd_folio *zd_zero_folio(struct zd_system *sys)
{
	return sys->zero_folio;
}
