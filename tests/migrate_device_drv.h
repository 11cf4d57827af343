/* SPDX-License-Identifier: MIT */
/*
 * tests/migrate_device_drv.h - a small device driver for the migrate_vma
 * tests, in the manner of lib/test_hmm.c's dmirror: a device-private or
 * device-coherent pgmap with a page allocator, folio_free that counts
 * every free per page, migrate_to_ram that calls migrate_vma with the
 * fault page, and a "migrate to the device" routine. Header-only so a
 * unit and a stress test can share it.
 */
#ifndef ZT_MIGRATE_DEVICE_DRV_H
#define ZT_MIGRATE_DEVICE_DRV_H

#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/migrate.h>
#include <zonedev/page_alloc.h>
#include <zonedev/sync/atomic.h>

#define TD_MAX_NR 512	/* one PMD's worth of entries per migration */

struct tdrv {
	struct zt_dev d;		/* first: the pgmap is the container */
	_Atomic int *used;		/* per page: handed out */
	_Atomic unsigned int *allocs;	/* per page: allocations that covered it */
	bool small_to_ram;		/* migrate_to_ram moves the faulting page only */
	_Atomic long allocated;		/* pages handed out, not yet freed */
	_Atomic unsigned long frees;	/* folio_free calls */
	_Atomic unsigned long to_ram;	/* migrate_to_ram calls that migrated */
	_Atomic unsigned long to_ram_calls;
};

static inline struct tdrv *td_of(struct zd_dev_pagemap *pgmap)
{
	return (struct tdrv *)pgmap;
}

static void td_folio_free(struct zd_folio *folio)
{
	struct tdrv *t = td_of(zd_folio_pgmap(folio));
	unsigned long idx = zd_folio_pfn(folio) - zt_dev_pfn(&t->d, 0);
	unsigned long nr = zd_folio_nr_pages(folio);

	zd_atomic_fetch_add_relaxed(&t->frees, 1ul);
	zd_atomic_fetch_sub_relaxed(&t->allocated, (long)nr);
	for (unsigned long i = 0; i < nr; i++) {
		zd_atomic_fetch_add_relaxed(&t->d.page_frees[idx + i], 1u);
		zd_atomic_store_release(&t->used[idx + i], 0);
	}
}

/* A device folio of 2^order pages, locked, one reference; NULL if full. */
static inline struct zd_folio *td_alloc(struct tdrv *t, unsigned int order)
{
	unsigned long nr = 1ul << order;

	for (unsigned long idx = 0; idx + nr <= t->d.nr_pages; idx += nr) {
		unsigned long got = 0;
		struct zd_folio *folio;

		for (; got < nr; got++) {
			int zero = 0;

			if (!zd_atomic_cmpxchg_strong_acq_rel(&t->used[idx + got], &zero, 1))
				break;
		}
		if (got < nr) {
			while (got--)
				zd_atomic_store_release(&t->used[idx + got], 0);
			continue;
		}
		folio = zt_dev_folio(&t->d, idx);
		ZT_EQ(zd_zone_device_folio_init(folio, &t->d.pgmap, order), 0);
		for (unsigned long i = 0; i < nr; i++)
			zd_atomic_fetch_add_relaxed(&t->allocs[idx + i], 1u);
		zd_atomic_fetch_add_relaxed(&t->allocated, (long)nr);
		return folio;
	}
	return NULL;
}

static inline void td_copy(struct zd_folio *to, struct zd_folio *from)
{
	for (unsigned long i = 0; i < zd_folio_nr_pages(from); i++)
		memcpy(zd_page_address(zd_folio_page(to, i)),
		       zd_page_address(zd_folio_page(from, i)), ZD_PAGE_SIZE);
}

/*
 * Fill @dst for every MIGRATE entry of @src: a destination from @alloc
 * (device or RAM) with the data copied, or cleared for a hole; WRITE kept.
 */
static inline void td_fill_dst(struct zd_system *sys, unsigned long *src, unsigned long *dst,
			       unsigned long n, struct zd_folio *(*alloc)(void *, unsigned int),
			       void *arg)
{
	for (unsigned long i = 0; i < n; i++) {
		struct zd_page *sp = zd_migrate_pfn_to_page(sys, src[i]);
		unsigned int order = 0;
		struct zd_folio *nf;

		dst[i] = 0;
		if (!(src[i] & ZD_MIGRATE_PFN_MIGRATE))
			continue;
		if (sp)
			order = zd_folio_order(zd_page_folio(sp));
		nf = alloc(arg, order);
		if (!nf)
			continue;
		if (sp)
			td_copy(nf, zd_page_folio(sp));
		else
			memset(zd_page_address(&nf->page), 0, ZD_PAGE_SIZE);
		dst[i] = zd_migrate_pfn(zd_folio_pfn(nf)) | (src[i] & ZD_MIGRATE_PFN_WRITE) |
			 (order ? ZD_MIGRATE_PFN_COMPOUND : 0);
	}
}

static inline struct zd_folio *td_alloc_dev(void *arg, unsigned int order)
{
	return td_alloc(arg, order);
}

static inline struct zd_folio *td_alloc_ram(void *arg, unsigned int order)
{
	struct zd_folio *f = zd_folio_alloc(arg, 0, order);

	if (f)
		zd_folio_lock(f);
	return f;
}

/* dmirror_devmem_fault(): the page and, for a large folio, all of it back to RAM. */
static zd_vm_fault_t td_migrate_to_ram(struct zd_vm_fault *vmf)
{
	struct tdrv *t = td_of(zd_page_pgmap(vmf->page));
	struct zd_folio *folio = zd_page_folio(vmf->page);
	unsigned long nr = t->small_to_ram ? 1 : zd_folio_nr_pages(folio);
	unsigned long src[TD_MAX_NR], dst[TD_MAX_NR];
	struct zd_system *sys = t->d.sys;
	struct zd_migrate_vma m = {
		.vma = vmf->vma,
		.src = src,
		.dst = dst,
		.pgmap_owner = t,
		.flags = ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
			 (nr > 1 ? ZD_MIGRATE_VMA_SELECT_COMPOUND : 0),
		.fault_page = vmf->page,
	};

	m.start = vmf->address;
	if (nr > 1)
		m.start -= (unsigned long)(vmf->page - &folio->page) << ZD_PAGE_SHIFT;
	m.end = m.start + (nr << ZD_PAGE_SHIFT);
	zd_atomic_fetch_add_relaxed(&t->to_ram_calls, 1ul);
	if (zd_migrate_vma_setup(&m))
		return ZD_VM_FAULT_SIGBUS;
	if (!m.cpages)
		return 0;	/* somebody else migrated it: refault */
	td_fill_dst(sys, src, dst, m.npages, td_alloc_ram, sys);
	/* R8.11: back to RAM must not be partial. */
	for (unsigned long i = 0; i < m.npages; i++)
		if ((src[i] & ZD_MIGRATE_PFN_MIGRATE) && !dst[i]) {
			zd_migrate_vma_finalize(&m);
			return ZD_VM_FAULT_SIGBUS;
		}
	zd_migrate_vma_pages(&m);
	zd_migrate_vma_finalize(&m);
	zd_atomic_fetch_add_relaxed(&t->to_ram, 1ul);
	return 0;
}

static const struct zd_dev_pagemap_ops td_ops = {
	.folio_free = td_folio_free,
	.migrate_to_ram = td_migrate_to_ram,
};

static inline void td_create(struct tdrv *t, struct zd_system *sys, enum zd_memory_type type,
			     uint64_t size)
{
	memset(t, 0, sizeof(*t));
	zt_dev_prepare(&t->d, sys, type, size, 0);
	t->d.pgmap.ops = &td_ops;
	t->d.pgmap.owner = t;
	t->used = calloc(t->d.nr_pages, sizeof(*t->used));
	t->allocs = calloc(t->d.nr_pages, sizeof(*t->allocs));
	ZT_TRUE(t->used && t->allocs);
	ZT_EQ(zd_memremap_pages(sys, &t->d.pgmap), 0);
	t->d.registered = true;
}

/* Every page back, each page freed once per allocation that covered it; then unbind. */
static inline void td_destroy(struct tdrv *t)
{
	ZT_EQ(zd_atomic_load_acquire(&t->allocated), 0);
	for (unsigned long i = 0; i < t->d.nr_pages; i++)
		ZT_EQU(zd_atomic_load_relaxed(&t->d.page_frees[i]),
		       zd_atomic_load_relaxed(&t->allocs[i]));
	zt_dev_destroy(&t->d);
	free((void *)t->used);
	free((void *)t->allocs);
}

/*
 * One migrate_vma pass over [start, end) of @mm, destinations from @alloc:
 * returns the number of entries that migrated, or a setup error; @cpages,
 * when not NULL, gets what the setup collected.
 */
static inline long td_migrate_range(struct tdrv *t, struct zd_mm *mm, unsigned long start,
				    unsigned long end, unsigned long flags, unsigned long *cpages,
				    struct zd_folio *(*alloc)(void *, unsigned int), void *arg)
{
	unsigned long n = (end - start) >> ZD_PAGE_SHIFT;
	unsigned long *src = calloc(n, sizeof(*src)), *dst = calloc(n, sizeof(*dst));
	struct zd_migrate_vma m = {
		.src = src, .dst = dst, .start = start, .end = end,
		.pgmap_owner = t, .flags = flags,
	};
	long done = 0;
	int err;

	ZT_TRUE(src && dst);
	zd_mmap_read_lock(mm);
	m.vma = zd_vma_lookup(mm, start);
	err = zd_migrate_vma_setup(&m);
	if (!err) {
		if (cpages)
			*cpages = m.cpages;
		td_fill_dst(t->d.sys, src, dst, m.npages, alloc, arg);
		zd_migrate_vma_pages(&m);
		for (unsigned long i = 0; i < m.npages; i++)
			if ((src[i] & ZD_MIGRATE_PFN_MIGRATE) && dst[i])
				done++;
		zd_migrate_vma_finalize(&m);
	}
	zd_mmap_read_unlock(mm);
	free(src);
	free(dst);
	return err ? err : done;
}

/*
 * Migrate [start, end) of @mm to @t's memory (dmirror_migrate_to_device):
 * returns the number of entries that migrated, or a setup error.
 */
static inline long td_migrate_to_dev(struct tdrv *t, struct zd_mm *mm, unsigned long start,
				     unsigned long end, unsigned long flags,
				     unsigned long *cpages)
{
	return td_migrate_range(t, mm, start, end, flags, cpages, td_alloc_dev, t);
}

/*
 * Bring [start, end) of @mm back from @t's memory (dmirror_migrate_to_system):
 * returns the number of entries that migrated, or a setup error.
 */
static inline long td_migrate_to_ram_range(struct tdrv *t, struct zd_mm *mm,
					   unsigned long start, unsigned long end)
{
	return td_migrate_range(t, mm, start, end,
				ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
				ZD_MIGRATE_VMA_SELECT_COMPOUND, NULL, td_alloc_ram, t->d.sys);
}

#endif /* ZT_MIGRATE_DEVICE_DRV_H */
