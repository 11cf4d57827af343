// SPDX-License-Identifier: MIT
/*
 * src/drivers/devmem_pool.c - a minimal device-memory allocator.
 *
 * Models the allocator half of a ZONE_DEVICE driver: lib/test_hmm.c's
 * dmirror_devmem_alloc_page / dmirror_devmem_free (a free list refilled
 * by page_free), drivers/pci/p2pdma.c's genpool, and a DAX file system's
 * block allocator (a block is reusable once its folio is idle). A bitmap
 * of handed-out pages under one lock; a search for an aligned free run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/devmem_pool.h>
#include <zonedev/driver.h>
#include <zonedev/mm.h>		/* zd_vm_fault_t and ZD_VM_FAULT_SIGBUS for migrate_to_ram */
#include "sync/sync.h"

struct zd_devmem_pool {
	struct zd_dev_pagemap pgmap;	/* first: container-of by cast */
	struct zd_system *sys;
	struct zd_spinlock lock;
	unsigned long nr_pages;
	unsigned long *busy;		/* one bit per base page handed out */
	/*
	 * Handed out but not yet given its reference: a page here still
	 * looks idle by its refcount, so reclaim_idle must leave it alone.
	 */
	unsigned long *handing;
	unsigned long allocated;
	unsigned long hint;		/* next-fit: where the last search ended */
	uint64_t start, size;
	struct zd_page *memmap;		/* the range's pages: one array, as with a vmemmap */
	bool dying;
};

static struct zd_devmem_pool *to_pool(struct zd_dev_pagemap *pgmap)
{
	return (struct zd_devmem_pool *)pgmap;
}

#define BITS_PER_LONG (8 * sizeof(unsigned long))

static bool test_bit(const unsigned long *m, unsigned long i)
{
	return m[i / BITS_PER_LONG] & (1ul << (i % BITS_PER_LONG));
}

static void assign_bits(unsigned long *m, unsigned long i, unsigned long n, bool v)
{
	for (unsigned long b = i; b < i + n; b++) {
		if (v)
			m[b / BITS_PER_LONG] |= 1ul << (b % BITS_PER_LONG);
		else
			m[b / BITS_PER_LONG] &= ~(1ul << (b % BITS_PER_LONG));
	}
}

static struct zd_page *pool_page(struct zd_devmem_pool *pool, unsigned long idx)
{
	return &pool->memmap[idx];
}

/* folio_free: the folio is back; its pages may be handed out again. */
static void pool_folio_free(struct zd_folio *folio)
{
	struct zd_devmem_pool *pool = to_pool(folio->page.pgmap);
	unsigned long idx = (unsigned long)(&folio->page - pool->memmap);
	unsigned long nr = zd_folio_nr_pages(folio);

	zd_spin_lock(&pool->lock);
	assign_bits(pool->busy, idx, nr, false);
	pool->allocated -= nr;
	pool->hint = idx;	/* reuse it first, as test_hmm's LIFO free list does */
	zd_spin_unlock(&pool->lock);
	/* p2pdma's provider drops the page's pgmap reference itself (R11.2). */
	if (pool->pgmap.type == ZD_MEMORY_DEVICE_PCI_P2PDMA &&
	    zd_system_scheme(pool->sys) == ZD_SCHEME_ZERO)
		zd_put_dev_pagemap_many(&pool->pgmap, nr);
}

/* The pool has no copy engine (dmirror does): the CPU access gets SIGBUS (R6.2). */
static zd_vm_fault_t pool_migrate_to_ram(struct zd_vm_fault *vmf)
{
	(void)vmf;
	return ZD_VM_FAULT_SIGBUS;
}

static const struct zd_dev_pagemap_ops pool_ops = {
	.folio_free = pool_folio_free,
	.migrate_to_ram = pool_migrate_to_ram,
};

/* Types with no folio_free: a handed-out folio is back once it is idle again. */
static bool reclaim_by_refcount(const struct zd_devmem_pool *pool)
{
	return pool->pgmap.type == ZD_MEMORY_DEVICE_FS_DAX ||
	       pool->pgmap.type == ZD_MEMORY_DEVICE_GENERIC;
}

/* Context: pool lock held. */
static void reclaim_idle(struct zd_devmem_pool *pool)
{
	int idle = zd_pgmap_free_refcount(&pool->pgmap);
	unsigned long reclaimed = 0;

	if (!reclaim_by_refcount(pool))
		return;
	for (unsigned long i = 0; i < pool->nr_pages; i++) {
		struct zd_page *p = pool_page(pool, i);

		if (test_bit(pool->busy, i) && !test_bit(pool->handing, i) && !zd_page_is_tail(p) &&
		    zd_page_ref_count(p) == idle) {
			unsigned long nr = zd_folio_nr_pages((struct zd_folio *)p);

			assign_bits(pool->busy, i, nr, false);
			pool->allocated -= nr;
			if (!reclaimed++)
				pool->hint = i;
		}
	}
}

int zd_devmem_pool_create(struct zd_system *sys, enum zd_memory_type type, uint64_t size,
			  unsigned int vmemmap_shift, struct zd_devmem_pool **out)
{
	struct zd_devmem_pool *pool;
	uint64_t align = ZD_SUBSECTION_SIZE, fsize;
	int err;

	if (type < ZD_MEMORY_DEVICE_PRIVATE || type > ZD_MEMORY_DEVICE_PCI_P2PDMA ||
	    vmemmap_shift > ZD_MAX_FOLIO_ORDER)
		return -EINVAL;
	fsize = ZD_PAGE_SIZE << vmemmap_shift;
	if (fsize > align)
		align = fsize;
	if (!size || size % align)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->sys = sys;
	pool->nr_pages = size >> ZD_PAGE_SHIFT;
	pool->busy = calloc((pool->nr_pages + BITS_PER_LONG - 1) / BITS_PER_LONG,
			    sizeof(unsigned long));
	pool->handing = calloc((pool->nr_pages + BITS_PER_LONG - 1) / BITS_PER_LONG,
			       sizeof(unsigned long));
	if (!pool->busy || !pool->handing) {
		free(pool->busy);
		free(pool->handing);
		free(pool);
		return -ENOMEM;
	}
	zd_spin_lock_init(&pool->lock);
	err = zd_request_free_mem_region(sys, size, align, &pool->start);
	if (err)
		goto fail;
	pool->size = size;
	pool->pgmap.type = type;
	pool->pgmap.vmemmap_shift = vmemmap_shift;
	pool->pgmap.ops = &pool_ops;
	pool->pgmap.owner = pool;
	pool->pgmap.nr_range = 1;
	pool->pgmap.ranges[0].start = pool->start;
	pool->pgmap.ranges[0].end = pool->start + size - 1;
	err = zd_memremap_pages(sys, &pool->pgmap);
	if (err) {
		zd_release_mem_region(sys, pool->start, size);
		goto fail;
	}
	pool->memmap = zd_pfn_to_page(sys, zd_pgmap_range_pfn(&pool->pgmap, 0));
	*out = pool;
	return 0;
fail:
	zd_spin_lock_destroy(&pool->lock);
	free(pool->busy);
	free(pool->handing);
	free(pool);
	return err;
}

/* Next fit: search from where the last allocation ended, wrapping once. */
static long find_free_run(struct zd_devmem_pool *pool, unsigned long nr)
{
	unsigned long start = pool->hint & ~(nr - 1), n = pool->nr_pages;

	for (unsigned long k = 0; k < n; k += nr) {
		unsigned long i = (start + k) % n, j;

		if (i + nr > n)
			continue;
		for (j = 0; j < nr && !test_bit(pool->busy, i + j); j++)
			;
		if (j == nr) {
			pool->hint = i + nr;
			return (long)i;
		}
	}
	return -1;
}

int zd_devmem_pool_alloc(struct zd_devmem_pool *pool, unsigned int order, struct zd_folio **out)
{
	enum zd_memory_type type = pool->pgmap.type;
	unsigned long nr = 1ul << order;
	bool by_ref = reclaim_by_refcount(pool);
	struct zd_folio *folio;
	long idx;
	int err;

	if (order > ZD_MAX_FOLIO_ORDER ||
	    (pool->pgmap.vmemmap_shift && order != pool->pgmap.vmemmap_shift) ||
	    (!pool->pgmap.vmemmap_shift && order &&
	     (type != ZD_MEMORY_DEVICE_PRIVATE && type != ZD_MEMORY_DEVICE_COHERENT)) ||
	    (order && !pool->pgmap.vmemmap_shift && zd_system_scheme(pool->sys) == ZD_SCHEME_ONE))
		return -EINVAL;
	if (zd_should_fail(pool->sys, ZD_FAULT_DEVICE_ALLOC))
		return -ENOMEM;
	zd_spin_lock(&pool->lock);
	if (pool->dying) {
		zd_spin_unlock(&pool->lock);
		return -ENODEV;
	}
	idx = find_free_run(pool, nr);
	if (idx < 0) {
		reclaim_idle(pool);
		idx = find_free_run(pool, nr);
	}
	if (idx < 0) {
		zd_spin_unlock(&pool->lock);
		return -ENOMEM;
	}
	assign_bits(pool->busy, (unsigned long)idx, nr, true);
	if (by_ref)
		assign_bits(pool->handing, (unsigned long)idx, nr, true);
	pool->allocated += nr;
	folio = (struct zd_folio *)pool_page(pool, (unsigned long)idx);
	zd_spin_unlock(&pool->lock);

	if (type == ZD_MEMORY_DEVICE_PRIVATE || type == ZD_MEMORY_DEVICE_COHERENT) {
		err = zd_zone_device_folio_init(folio, &pool->pgmap, order);
		if (!err)
			zd_folio_unlock(folio);	/* the pool has no migration to finish */
	} else {
		err = zd_device_folio_activate(folio);
	}
	if (by_ref || err) {
		zd_spin_lock(&pool->lock);
		if (by_ref)
			assign_bits(pool->handing, (unsigned long)idx, nr, false);
		if (err) {
			assign_bits(pool->busy, (unsigned long)idx, nr, false);
			pool->allocated -= nr;
		}
		zd_spin_unlock(&pool->lock);
	}
	if (err)
		return err;
	*out = folio;
	return 0;
}

void zd_devmem_pool_stats(struct zd_devmem_pool *pool, struct zd_devmem_stats *st)
{
	zd_spin_lock(&pool->lock);
	reclaim_idle(pool);
	st->nr_pages = pool->nr_pages;
	st->allocated = pool->allocated;
	st->free = pool->nr_pages - pool->allocated;
	zd_spin_unlock(&pool->lock);
	st->page_free = zd_pgmap_nr_folio_free(&pool->pgmap);
	st->wakeups = zd_pgmap_nr_wakeups(&pool->pgmap);
}

struct zd_dev_pagemap *zd_devmem_pool_pgmap(struct zd_devmem_pool *pool)
{
	return &pool->pgmap;
}

/*
 * For FS_DAX the core does not wait for pages (R1.13): the file system
 * must (its eviction-time break-layouts wait, R10.9). Sleep on each busy
 * folio; fs-dax frees wake us, other puts do not, so sleep in slices and
 * look again.
 */
static int wait_idle(struct zd_devmem_pool *pool, uint64_t timeout_ns)
{
	uint64_t deadline = timeout_ns ? zd_deadline_ns(timeout_ns) : 0;
	int idle = zd_pgmap_free_refcount(&pool->pgmap);

	if (!reclaim_by_refcount(pool))
		return 0;
	for (;;) {
		struct zd_folio *busy = NULL;
		uint64_t now, slice = 10 * 1000 * 1000;

		zd_spin_lock(&pool->lock);
		reclaim_idle(pool);
		for (unsigned long i = 0; i < pool->nr_pages && !busy; i++)
			if (test_bit(pool->busy, i))
				busy = (struct zd_folio *)pool_page(pool, i);
		zd_spin_unlock(&pool->lock);
		if (!busy)
			return 0;
		now = zd_monotonic_ns();
		if (deadline && now >= deadline)
			return -ETIMEDOUT;
		if (deadline && deadline - now < slice)
			slice = deadline - now;
		zd_wait_folio_refcount(busy, idle, slice);
	}
}

int zd_devmem_pool_destroy(struct zd_devmem_pool *pool, uint64_t timeout_ns)
{
	int err;

	zd_spin_lock(&pool->lock);
	pool->dying = true;
	zd_spin_unlock(&pool->lock);
	/*
	 * A DAX file system waits for its pages (R10.9); nothing waits for
	 * GENERIC ones (R1.13: memunmap_pages reports what is still held).
	 */
	err = pool->pgmap.type == ZD_MEMORY_DEVICE_GENERIC ? 0 : wait_idle(pool, timeout_ns);
	if (!err)
		err = zd_memunmap_pages_timeout(&pool->pgmap, timeout_ns);
	if (err)
		return err;
	zd_release_mem_region(pool->sys, pool->start, pool->size);
	zd_spin_lock_destroy(&pool->lock);
	free(pool->busy);
	free(pool->handing);
	free(pool);
	return 0;
}
