// SPDX-License-Identifier: MIT
/*
 * src/mm/filemap.c - the page cache: lookup, insertion, removal, truncation.
 *
 * Models mm/filemap.c (filemap_get_folio, filemap_add_folio,
 * filemap_remove_folio / page_cache_delete) and mm/truncate.c
 * (truncate_inode_folio, truncate_inode_partial_folio,
 * truncate_inode_pages_range). The cache is an xarray of order-0 RAM
 * folios under its own lock; each cached folio holds one reference that
 * is the cache's, has folio->mapping and folio->index set, and is on the
 * LRU. Simplified: lookups take the cache lock instead of RCU with
 * folio_try_get, since the cache reference keeps a cached folio live.
 */
#include <errno.h>
#include <string.h>

#include "shmem_internal.h"

void _zd_page_cache_init(struct zd_address_space *mapping, struct _zd_page_cache *pc)
{
	zd_spin_lock_init(&pc->lock);
	_zd_xa_init(&pc->pages);
	mapping->private_data = pc;
}

void _zd_page_cache_destroy(struct _zd_page_cache *pc)
{
	_zd_xa_destroy(&pc->pages);
	zd_spin_lock_destroy(&pc->lock);
}

struct _zd_page_cache *_zd_mapping_cache(struct zd_address_space *mapping)
{
	if (!mapping || !(mapping->flags & ZD_AS_SHMEM))
		return NULL;
	return mapping->private_data;
}

unsigned long _zd_mapping_nrpages(struct zd_address_space *mapping)
{
	struct _zd_page_cache *pc = _zd_mapping_cache(mapping);
	unsigned long nr;

	if (!pc)
		return 0;
	zd_spin_lock(&pc->lock);
	nr = pc->pages.nr;
	zd_spin_unlock(&pc->lock);
	return nr;
}

/* ---- lookup and insertion ---- */

struct zd_folio *zd_filemap_get_folio(struct zd_address_space *mapping, unsigned long index)
{
	struct _zd_page_cache *pc = _zd_mapping_cache(mapping);
	struct zd_folio *folio;

	if (!pc)
		return NULL;
	zd_spin_lock(&pc->lock);
	folio = _zd_xa_load(&pc->pages, index);
	/* The cache's reference keeps it above zero while we hold the lock. */
	if (folio)
		zd_folio_get(folio);
	zd_spin_unlock(&pc->lock);
	return folio;
}

int _zd_filemap_add_folio(struct zd_address_space *mapping, struct zd_folio *folio,
			  unsigned long index)
{
	struct _zd_page_cache *pc = _zd_mapping_cache(mapping);
	int err;

	if (!pc || zd_folio_is_zone_device(folio) || zd_folio_test_large(folio))
		return -EINVAL;
	/*
	 * Identity first, as __filemap_add_folio does: whoever finds the
	 * folio in the cache sees its mapping and index. The cache reference
	 * is taken before the folio is published.
	 */
	zd_folio_get(folio);
	folio->page.mapping = mapping;
	folio->page.index = index;
	zd_page_set_flag(&folio->page, ZD_PG_swapbacked);
	zd_spin_lock(&pc->lock);
	err = _zd_xa_insert(&pc->pages, index, folio);
	zd_spin_unlock(&pc->lock);
	if (err) {
		folio->page.mapping = NULL;
		folio->page.index = 0;
		zd_page_clear_flag(&folio->page, ZD_PG_swapbacked);
		zd_folio_put(folio);
		return err == -EBUSY ? -EEXIST : err;
	}
	/* folio_add_lru(): the caller's reference keeps the folio live here. */
	zd_folio_add_lru(folio);
	return 0;
}

/* ---- removal ---- */

void _zd_filemap_remove_folio(struct zd_folio *folio)
{
	struct zd_address_space *mapping = folio->page.mapping;
	struct _zd_page_cache *pc = _zd_mapping_cache(mapping);
	struct zd_folio *old;

	if (!pc)
		return;
	zd_spin_lock(&pc->lock);
	old = _zd_xa_erase(&pc->pages, folio->page.index);
	zd_spin_unlock(&pc->lock);
	if (old != folio) {
		/* Cannot happen while the folio lock is held: the index is ours. */
		_zd_report_page(mapping->sys, ZD_MISUSE_BAD_STATE, "", &folio->page,
				"page cache slot %#lx held %p, not this folio",
				folio->page.index, (void *)old);
		return;
	}
	/* page_cache_delete() + folio_cancel_dirty(); PG_swapbacked stays, as in Linux. */
	folio->page.mapping = NULL;
	zd_page_clear_flag(&folio->page, ZD_PG_dirty);
	zd_folio_put(folio);		/* the cache's reference */
}

void _zd_truncate_inode_folio(struct zd_address_space *mapping, struct zd_folio *folio)
{
	if (folio->page.mapping != mapping)
		return;			/* truncated by someone else meanwhile */
	/* unmap_mapping_folio(): a fault may have mapped it since the range unmap. */
	if (zd_folio_mapcount(folio) > 0)
		zd_try_to_unmap(folio);
	_zd_filemap_remove_folio(folio);
}

/* truncate_inode_partial_folio(): zero [from, to) of the page at @index, if cached. */
static void zero_partial_page(struct zd_address_space *mapping, unsigned long index,
			      unsigned int from, unsigned int to)
{
	struct zd_folio *folio = zd_filemap_get_folio(mapping, index);
	unsigned char *addr;

	if (!folio)
		return;
	zd_folio_lock(folio);
	addr = zd_page_address(&folio->page);
	if (folio->page.mapping == mapping && addr)
		memset(addr + from, 0, to - from);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
}

void _zd_truncate_inode_pages_range(struct zd_address_space *mapping, uint64_t lstart,
				    uint64_t lend)
{
	struct _zd_page_cache *pc = _zd_mapping_cache(mapping);
	unsigned int pstart = (unsigned int)(lstart & (ZD_PAGE_SIZE - 1));
	unsigned int pend = (unsigned int)(lend & (ZD_PAGE_SIZE - 1));
	unsigned long first = (unsigned long)(lstart >> ZD_PAGE_SHIFT);
	unsigned long last_page = (unsigned long)(lend >> ZD_PAGE_SHIFT);
	unsigned long start, end, index;	/* whole pages: [start, end) */

	if (!pc || lstart >= lend)
		return;
	if (lend == UINT64_MAX)
		pend = 0;			/* to the end: no partial last page */
	/* Partial pages first (Linux does them in the same pass). */
	if (pstart) {
		unsigned int to = first == last_page && pend ? pend : (unsigned int)ZD_PAGE_SIZE;

		zero_partial_page(mapping, first, pstart, to);
	}
	if (pend && !(pstart && first == last_page))
		zero_partial_page(mapping, last_page, 0, pend);

	start = first + (pstart != 0);
	end = lend == UINT64_MAX ? ZD_XA_MAX_INDEX + 1ul : last_page;
	for (index = start; index < end; index++) {
		struct zd_folio *folio;

		zd_spin_lock(&pc->lock);
		folio = _zd_xa_find(&pc->pages, &index, end - 1);
		if (folio)
			zd_folio_get(folio);
		zd_spin_unlock(&pc->lock);
		if (!folio)
			break;
		zd_folio_lock(folio);
		_zd_truncate_inode_folio(mapping, folio);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
	}
}
