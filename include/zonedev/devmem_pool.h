/* SPDX-License-Identifier: MIT */
/*
 * zonedev/devmem_pool.h - a minimal device-memory allocator standing in
 * for a driver.
 *
 * Models what every ZONE_DEVICE driver does around its pgmap (nouveau's
 * dmem chunks, lib/test_hmm.c's free list, p2pdma's genpool, a DAX file
 * system's block allocator): register the memory, hand free folios out
 * through the type's allocation path, and take them back in folio_free.
 * The dmirror and device-DAX drivers replace it for their types later.
 */
#ifndef ZONEDEV_DEVMEM_POOL_H
#define ZONEDEV_DEVMEM_POOL_H

#include <zonedev/memremap.h>

struct zd_devmem_pool;

/*
 * zd_devmem_pool_create - reserve @size bytes of device physical address
 * space (a multiple of 2 MiB and of the folio size), register a pgmap of
 * @type with folios of order @vmemmap_shift (0 for base pages), and make
 * every page available. Returns 0, -EINVAL (bad type or size), -ENOMEM,
 * -ENOSPC, or what zd_memremap_pages returned.
 */
int zd_devmem_pool_create(struct zd_system *sys, enum zd_memory_type type, uint64_t size,
			  unsigned int vmemmap_shift, struct zd_devmem_pool **out);

/*
 * zd_devmem_pool_alloc - hand out one folio of 2^order pages through the
 * type's path (zone_device_folio_init for PRIVATE/COHERENT, activation for
 * the others); the caller owns the one allocation reference. For a
 * compound pgmap @order must equal its vmemmap_shift. -ENOMEM when no
 * suitable free block or the "device_alloc" fault site fired, -EINVAL for a bad order, -ENODEV after unbind began.
 * Context: takes the pool lock; never sleeps.
 */
int zd_devmem_pool_alloc(struct zd_devmem_pool *pool, unsigned int order,
			 struct zd_folio **out);

struct zd_devmem_stats {
	unsigned long nr_pages;		/* base pages in the device */
	unsigned long allocated;	/* base pages handed out, not yet back */
	unsigned long free;		/* nr_pages - allocated */
	unsigned long page_free;	/* folio_free/page_free calls */
	unsigned long wakeups;		/* fs-dax idle wake-ups */
};

/* Current figures; takes back idle FS_DAX/GENERIC pages first. */
void zd_devmem_pool_stats(struct zd_devmem_pool *pool, struct zd_devmem_stats *st);

struct zd_dev_pagemap *zd_devmem_pool_pgmap(struct zd_devmem_pool *pool);

/*
 * zd_devmem_pool_destroy - unbind: stop allocating; for FS_DAX wait
 * until every handed-out folio is idle again (the file system's duty,
 * R1.13: the core would not wait; nothing waits for GENERIC folios, as in
 * Linux: one still held is reported as the hazard, see zd_devdax_unbind); then
 * zd_memunmap_pages (waits for every held page of the other types), release the address range and free the
 * pool. With @timeout_ns != 0 returns -ETIMEDOUT if pages are still held
 * then; the pool stays dying and the call may be repeated. 0 when gone.
 */
int zd_devmem_pool_destroy(struct zd_devmem_pool *pool, uint64_t timeout_ns);

#endif /* ZONEDEV_DEVMEM_POOL_H */
