// SPDX-License-Identifier: MIT
/*
 * src/drivers/dmirror.c - the HMM test device: units, device memory,
 * open and close.
 *
 * Models lib/test_hmm.c's device half: hmm_dmirror_init/exit and
 * dmirror_device_init/remove (four units: 0-1 device-private, 2-3
 * device-coherent), dmirror_allocate_chunk (a pgmap per chunk of device
 * memory, its pages threaded on the unit's free list),
 * dmirror_devmem_alloc_page, dmirror_devmem_free (the pgmap's folio_free:
 * back on the free list unless the chunk is going away),
 * dmirror_device_remove_chunks and dmirror_fops_open/release. The
 * commands are in dmirror_cmd.c.
 *
 *   unit (struct zd_dmirror_device)        open file (struct zd_dmirror)
 *   +---------------------------+          +--------------------------+
 *   | chunks[] -> chunk: pgmap  |  <------ | mdevice, mm, pt (xarray: |
 *   | free_pages (list through  |          |   vpn -> page | tags)    |
 *   |   page->zone_device_data) |          | notifier, flags          |
 *   | calloc, cfree             |          +--------------------------+
 *   +---------------------------+
 *
 * Differences from the kernel's driver: a device-private page holds its
 * data in the device's own memory (the model gives device memory real
 * bytes, reachable only through zd_page_address, the device's copy
 * engine), where test_hmm backs each one with a system page; chunks are
 * ZD_DMIRROR_CHUNK_SIZE and both kinds of unit take them from
 * zd_request_free_mem_region (the kernel's coherent units use the
 * spm_addr_dev0/1 ranges given at load).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/dmirror.h>
#include <zonedev/driver.h>
#include <zonedev/fault_inject.h>
#include <zonedev/memremap.h>
#include "dmirror_internal.h"

/* ---- chunks and the free list ---- */

static struct dmirror_chunk *page_to_chunk(const struct zd_page *page)
{
	return (struct dmirror_chunk *)zd_page_pgmap(page);
}

struct zd_dmirror_device *_zd_dmirror_page_to_device(const struct zd_page *page)
{
	return page_to_chunk(page)->mdevice;
}

/*
 * folio_free (dmirror_devmem_free): the last reference is gone. Back on
 * the free list, counted in cfree, unless the chunk is being removed.
 */
static void dmirror_devmem_free(struct zd_folio *folio)
{
	struct zd_page *page = &folio->page;
	struct dmirror_chunk *chunk = page_to_chunk(page);
	struct zd_dmirror_device *mdevice = chunk->mdevice;

	zd_spin_lock(&mdevice->lock);
	if (!chunk->remove) {
		mdevice->cfree += zd_folio_nr_pages(folio);
		if (zd_folio_test_large(folio)) {
			page->zone_device_data = mdevice->free_folios;
			mdevice->free_folios = page;
		} else {
			page->zone_device_data = mdevice->free_pages;
			mdevice->free_pages = page;
		}
	}
	zd_spin_unlock(&mdevice->lock);
}

static const struct zd_dev_pagemap_ops dmirror_devmem_ops = {
	.folio_free = dmirror_devmem_free,
	.migrate_to_ram = _zd_dmirror_devmem_fault,
};

/*
 * dmirror_allocate_chunk: register one more chunk and put its pages on
 * the free lists: for a large request (@is_large) every PMD-aligned block
 * on free_folios, else every page on free_pages. With @ppage, hand the
 * first block or page to the caller instead.
 * Context: devmem_lock held.
 */
static int dmirror_allocate_chunk(struct zd_dmirror_device *mdevice, struct zd_page **ppage,
				  bool is_large)
{
	struct zd_system *sys = mdevice->sys;
	struct dmirror_chunk *chunk;
	unsigned long pfn, nr, lo, hi;
	uint64_t start;
	int err;

	if (mdevice->devmem_count == mdevice->devmem_capacity) {
		unsigned int cap = mdevice->devmem_capacity + DEVMEM_CHUNKS_RESERVE;
		struct dmirror_chunk **n = realloc(mdevice->devmem_chunks, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		mdevice->devmem_chunks = n;
		mdevice->devmem_capacity = cap;
	}
	chunk = calloc(1, sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	err = zd_request_free_mem_region(sys, ZD_DMIRROR_CHUNK_SIZE, ZD_SUBSECTION_SIZE, &start);
	if (err)
		goto free_chunk;
	chunk->mdevice = mdevice;
	chunk->start = start;
	chunk->pagemap.type = mdevice->zone_device_type == ZD_HMM_DMIRROR_MEMORY_DEVICE_PRIVATE ?
			      ZD_MEMORY_DEVICE_PRIVATE : ZD_MEMORY_DEVICE_COHERENT;
	chunk->pagemap.nr_range = 1;
	chunk->pagemap.ranges[0].start = start;
	chunk->pagemap.ranges[0].end = start + ZD_DMIRROR_CHUNK_SIZE - 1;
	chunk->pagemap.ops = &dmirror_devmem_ops;
	chunk->pagemap.owner = mdevice;
	err = zd_memremap_pages(sys, &chunk->pagemap);
	if (err)
		goto release;
	mdevice->devmem_chunks[mdevice->devmem_count++] = chunk;

	pfn = zd_pgmap_range_pfn(&chunk->pagemap, 0);
	nr = ZD_DMIRROR_CHUNK_SIZE >> ZD_PAGE_SHIFT;
	zd_spin_lock(&mdevice->lock);
	/*
	 * Pushed from the top down, so the lists hand pages out in pfn
	 * order. For a large request the PMD-aligned blocks [lo, hi) go to
	 * free_folios, whole; the pages outside them to free_pages.
	 */
	lo = is_large ? ((pfn + DMIRROR_LARGE_NR - 1) & ~(DMIRROR_LARGE_NR - 1)) - pfn : nr;
	hi = lo < nr ? lo + ((nr - lo) & ~(DMIRROR_LARGE_NR - 1)) : nr;
	if (lo >= hi)
		lo = hi = nr;
	for (unsigned long i = nr; i-- > 0;) {
		struct zd_page *page = zd_pfn_to_page(sys, pfn + i);

		if (i >= lo && i < hi) {
			if (!((i - lo) & (DMIRROR_LARGE_NR - 1))) {
				page->zone_device_data = mdevice->free_folios;
				mdevice->free_folios = page;
			}
			continue;
		}
		page->zone_device_data = mdevice->free_pages;
		mdevice->free_pages = page;
	}
	if (ppage) {
		struct zd_page **list = is_large ? &mdevice->free_folios : &mdevice->free_pages;

		*ppage = *list;
		if (*ppage) {
			*list = (*ppage)->zone_device_data;
			mdevice->calloc += is_large ? DMIRROR_LARGE_NR : 1;
		}
	}
	zd_spin_unlock(&mdevice->lock);
	return 0;

release:
	zd_release_mem_region(sys, start, ZD_DMIRROR_CHUNK_SIZE);
free_chunk:
	free(chunk);
	return err;
}

/*
 * dmirror_devmem_alloc_page: a base page (@is_large false) or a PMD-order
 * folio from the free lists, else from a new chunk; initialised
 * (zone_device_folio_init: referenced once, locked).
 */
struct zd_page *_zd_dmirror_devmem_alloc(struct zd_dmirror_device *mdevice, bool is_large)
{
	struct zd_page **list = is_large ? &mdevice->free_folios : &mdevice->free_pages;
	struct zd_page *dpage = NULL;

	if (zd_should_fail(mdevice->sys, ZD_FAULT_DEVICE_ALLOC))
		return NULL;
	zd_spin_lock(&mdevice->lock);
	if (*list) {
		dpage = *list;
		*list = dpage->zone_device_data;
		mdevice->calloc += is_large ? DMIRROR_LARGE_NR : 1;
		zd_spin_unlock(&mdevice->lock);
	} else {
		zd_spin_unlock(&mdevice->lock);
		zd_spin_lock(&mdevice->devmem_lock);
		if (dmirror_allocate_chunk(mdevice, &dpage, is_large))
			dpage = NULL;
		zd_spin_unlock(&mdevice->devmem_lock);
		if (!dpage)
			return NULL;
	}
	dpage->zone_device_data = NULL;
	if (zd_zone_device_folio_init((struct zd_folio *)dpage, zd_page_pgmap(dpage),
				      is_large ? ZD_PMD_ORDER : 0)) {
		/* Reported by the core; the page is not ours to hand out. */
		return NULL;
	}
	return dpage;
}

struct zd_page *zd_dmirror_devmem_alloc_page(struct zd_dmirror_device *mdevice)
{
	return _zd_dmirror_devmem_alloc(mdevice, false);
}

/*
 * dmirror_device_evict_chunk: every page of @chunk still in use goes
 * back to system RAM (migrate_device_range), so memunmap_pages does not
 * wait for ever. Context: devmem_lock held; chunk->remove set.
 */
static void dmirror_device_evict_chunk(struct dmirror_chunk *chunk)
{
	_zd_dmirror_evict_chunk(chunk);
}

/* dmirror_device_remove_chunks: RELEASE, close and unload. */
void _zd_dmirror_device_remove_chunks(struct zd_dmirror_device *mdevice)
{
	zd_spin_lock(&mdevice->devmem_lock);
	zd_spin_lock(&mdevice->lock);
	for (unsigned int i = 0; i < mdevice->devmem_count; i++)
		mdevice->devmem_chunks[i]->remove = true;
	/* No page of a chunk going away is handed out again. */
	mdevice->free_pages = NULL;
	mdevice->free_folios = NULL;
	zd_spin_unlock(&mdevice->lock);
	for (unsigned int i = 0; i < mdevice->devmem_count; i++) {
		struct dmirror_chunk *chunk = mdevice->devmem_chunks[i];

		dmirror_device_evict_chunk(chunk);
		zd_memunmap_pages(&chunk->pagemap);
		zd_release_mem_region(mdevice->sys, chunk->start, ZD_DMIRROR_CHUNK_SIZE);
		zd_spin_lock(&mdevice->lock);
		mdevice->nr_page_free_gone += zd_pgmap_nr_folio_free(&chunk->pagemap);
		zd_spin_unlock(&mdevice->lock);
		free(chunk);
	}
	free(mdevice->devmem_chunks);
	mdevice->devmem_chunks = NULL;
	mdevice->devmem_count = 0;
	mdevice->devmem_capacity = 0;
	zd_spin_unlock(&mdevice->devmem_lock);
}

/* ---- units ---- */

static int dmirror_device_init(struct zd_dmirror_device *mdevice, struct zd_system *sys,
			       int unit, int type)
{
	int err;

	mdevice->sys = sys;
	mdevice->unit = unit;
	mdevice->zone_device_type = type;
	zd_spin_lock_init(&mdevice->devmem_lock);
	zd_spin_lock_init(&mdevice->lock);
	/* Build a list of free ZONE_DEVICE pages: one chunk now, more on demand. */
	zd_spin_lock(&mdevice->devmem_lock);
	err = dmirror_allocate_chunk(mdevice, NULL, false);
	zd_spin_unlock(&mdevice->devmem_lock);
	if (err) {
		zd_spin_lock_destroy(&mdevice->lock);
		zd_spin_lock_destroy(&mdevice->devmem_lock);
	}
	return err;
}

static void dmirror_device_remove(struct zd_dmirror_device *mdevice)
{
	_zd_dmirror_device_remove_chunks(mdevice);
	zd_spin_lock_destroy(&mdevice->lock);
	zd_spin_lock_destroy(&mdevice->devmem_lock);
}

struct zd_dmirror_module {
	struct zd_system *sys;
	int ndevices;
	struct zd_dmirror_device devices[ZD_DMIRROR_NDEVICES];
};

int zd_dmirror_init(struct zd_system *sys, bool coherent, struct zd_dmirror_module **out)
{
	struct zd_dmirror_module *mod;
	int err = 0, n = coherent ? 4 : 2;

	if (zd_system_scheme(sys) != ZD_SCHEME_ZERO)
		return -EOPNOTSUPP;	/* test_hmm of the 1-based era is not modelled */
	mod = calloc(1, sizeof(*mod));
	if (!mod)
		return -ENOMEM;
	mod->sys = sys;
	for (int i = 0; i < n; i++) {
		err = dmirror_device_init(&mod->devices[i], sys, i,
					  i < 2 ? ZD_HMM_DMIRROR_MEMORY_DEVICE_PRIVATE :
						  ZD_HMM_DMIRROR_MEMORY_DEVICE_COHERENT);
		if (err)
			break;
		mod->ndevices++;
	}
	if (err) {
		zd_dmirror_exit(mod);
		return err;
	}
	*out = mod;
	return 0;
}

void zd_dmirror_exit(struct zd_dmirror_module *mod)
{
	for (int i = mod->ndevices; i-- > 0;)
		dmirror_device_remove(&mod->devices[i]);
	free(mod);
}

struct zd_dmirror_device *zd_dmirror_device(struct zd_dmirror_module *mod, int unit)
{
	if (unit < 0 || unit >= mod->ndevices)
		return NULL;
	return &mod->devices[unit];
}

int zd_dmirror_device_type(const struct zd_dmirror_device *mdevice)
{
	return mdevice->zone_device_type;
}

void zd_dmirror_device_stats(struct zd_dmirror_device *mdevice, struct zd_dmirror_stats *st)
{
	memset(st, 0, sizeof(*st));
	zd_spin_lock(&mdevice->devmem_lock);
	zd_spin_lock(&mdevice->lock);
	st->calloc = mdevice->calloc;
	st->cfree = mdevice->cfree;
	st->allocated = mdevice->calloc - mdevice->cfree;
	st->nr_chunks = mdevice->devmem_count;
	st->nr_pages = st->nr_chunks * (ZD_DMIRROR_CHUNK_SIZE >> ZD_PAGE_SHIFT);
	for (struct zd_page *p = mdevice->free_pages; p; p = p->zone_device_data)
		st->nr_free_pages++;
	for (struct zd_page *p = mdevice->free_folios; p; p = p->zone_device_data)
		st->nr_free_pages += DMIRROR_LARGE_NR;
	st->nr_page_free = mdevice->nr_page_free_gone;
	for (unsigned int i = 0; i < mdevice->devmem_count; i++)
		st->nr_page_free += zd_pgmap_nr_folio_free(&mdevice->devmem_chunks[i]->pagemap);
	zd_spin_unlock(&mdevice->lock);
	zd_spin_unlock(&mdevice->devmem_lock);
}

/* ---- open and close ---- */

int zd_dmirror_open(struct zd_dmirror_device *mdevice, struct zd_mm *mm, struct zd_dmirror **out)
{
	struct zd_dmirror *dmirror = calloc(1, sizeof(*dmirror));
	int err;

	if (!dmirror)
		return -ENOMEM;
	dmirror->mdevice = mdevice;
	dmirror->mm = mm;
	zd_spin_lock_init(&dmirror->mutex);
	_zd_xa_init(&dmirror->pt);
	err = _zd_dmirror_notifier_insert(dmirror);
	if (err) {
		zd_spin_lock_destroy(&dmirror->mutex);
		free(dmirror);
		return err;
	}
	*out = dmirror;
	return 0;
}

int zd_dmirror_close(struct zd_dmirror *dmirror)
{
	_zd_dmirror_notifier_remove(dmirror);
	_zd_dmirror_device_evict_all(dmirror->mdevice);
	zd_spin_lock(&dmirror->mutex);
	_zd_dmirror_pt_clear(dmirror, 0, ~0ul);
	zd_spin_unlock(&dmirror->mutex);
	_zd_xa_destroy(&dmirror->pt);
	zd_spin_lock_destroy(&dmirror->mutex);
	free(dmirror);
	return 0;
}

/*
 * Close evicts every in-use page of the unit (dmirror_fops_release, since
 * 6.1): each chunk's pages go back to RAM; the chunks stay.
 */
void _zd_dmirror_device_evict_all(struct zd_dmirror_device *mdevice)
{
	zd_spin_lock(&mdevice->devmem_lock);
	for (unsigned int i = 0; i < mdevice->devmem_count; i++)
		_zd_dmirror_evict_chunk(mdevice->devmem_chunks[i]);
	zd_spin_unlock(&mdevice->devmem_lock);
}
