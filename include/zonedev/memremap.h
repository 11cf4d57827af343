/* SPDX-License-Identifier: MIT */
/*
 * zonedev/memremap.h - dev_pagemap: ZONE_DEVICE memory registration.
 *
 * Models include/linux/memremap.h and mm/memremap.c: memremap_pages,
 * memunmap_pages, get_dev_pagemap, zone_device_page_init and the
 * device page free path.
 */
#ifndef ZONEDEV_MEMREMAP_H
#define ZONEDEV_MEMREMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <zonedev/page.h>

/* enum memory_type; values start at 1 as in Linux. */
enum zd_memory_type {
	ZD_MEMORY_DEVICE_PRIVATE = 1,
	ZD_MEMORY_DEVICE_COHERENT,
	ZD_MEMORY_DEVICE_FS_DAX,
	ZD_MEMORY_DEVICE_GENERIC,
	ZD_MEMORY_DEVICE_PCI_P2PDMA,
};

/* "private", "coherent", "fsdax", "generic", "p2pdma"; "ram" for 0. */
const char *zd_memory_type_name(int type);

/*
 * The fault a ->migrate_to_ram handles belongs to the mm layer
 * (<zonedev/mm.h>: struct zd_vm_fault, the ZD_VM_FAULT_* bits); the core
 * only passes it through. The same typedef as mm.h's, as C11 allows.
 */
struct zd_vm_fault;
typedef unsigned int zd_vm_fault_t;

/*
 * struct zd_dev_pagemap_ops - the driver's callbacks.
 * @folio_free: the folio's refcount reached 0 (PRIVATE, COHERENT, P2PDMA);
 *	called while the pgmap is still referenced, before the core drops
 *	the folio's pgmap references. @page_free is the pre-6.x name and
 *	signature, accepted where @folio_free is NULL.
 * @migrate_to_ram: CPU fault on a device-private entry (PRIVATE only);
 *	returns 0 (migrated, or somebody else did: the access refaults) or
 *	ZD_VM_FAULT_* bits, ZD_VM_FAULT_SIGBUS when it cannot migrate.
 * @memory_failure: optional; -EOPNOTSUPP falls back to the generic handler.
 */
struct zd_dev_pagemap_ops {
	void (*folio_free)(struct zd_folio *folio);
	void (*page_free)(struct zd_page *page);
	zd_vm_fault_t (*migrate_to_ram)(struct zd_vm_fault *vmf);
	int (*memory_failure)(struct zd_dev_pagemap *pgmap, unsigned long pfn,
			      unsigned long nr_pages, int mf_flags);
};

/* struct range: inclusive physical byte addresses. */
struct zd_range {
	uint64_t start;
	uint64_t end;
};

#define ZD_PGMAP_MAX_RANGES 8	/* Linux uses a flexible array */
#define ZD_PGMAP_ALTMAP_VALID (1u << 0)	/* not modelled: -EOPNOTSUPP */

struct _zd_pgmap_range;

/*
 * struct zd_dev_pagemap - filled in by the driver (type, ops, owner,
 * ranges, vmemmap_shift), then owned by the core until zd_memunmap_pages()
 * returns. Drivers embed it and use container-of, as in Linux.
 */
struct zd_dev_pagemap {
	/* driver-set */
	enum zd_memory_type type;
	unsigned int flags;
	unsigned int vmemmap_shift;
	const struct zd_dev_pagemap_ops *ops;
	void *owner;
	int nr_range;
	struct zd_range ranges[ZD_PGMAP_MAX_RANGES];

	/* core-private below */
	struct zd_system *sys;
	_Atomic long ref;		/* percpu_ref model: count | ZD_PGMAP_REF_DEAD */
	void *done;			/* struct zd_completion, ref reached zero */
	struct _zd_pgmap_range *rs[ZD_PGMAP_MAX_RANGES];
	struct zd_dev_pagemap *next;	/* system list, under pgmap_lock */
	bool killed, registered, managed;
	bool gone;			/* torn down under held pages (R1.13): see zd_memunmap_pages */
	_Atomic unsigned long nr_folio_free;	/* folio_free/page_free calls */
	_Atomic unsigned long nr_inits;		/* zone_device_page_init calls */
	_Atomic unsigned long nr_wakeups;	/* fs-dax idle wake-ups */
};

/*
 * zd_memremap_pages - register device memory (memremap_pages).
 * Validates (semantics R1.1-R1.8): nr_range 0, vmemmap_shift too large,
 * missing ops (PRIVATE: folio_free/page_free, migrate_to_ram, owner;
 * COHERENT: folio_free/page_free, owner), ranges not 2 MiB aligned or not
 * aligned to the folio size -> -EINVAL; a range overlapping a live pgmap
 * -> -ENOMEM ("conflicting mapping"); a range in RAM -> -ENXIO; altmap ->
 * -EOPNOTSUPP. Builds a memmap per range: every page free at the scheme's
 * free refcount (R3.2, L1), compound folios if vmemmap_shift > 0.
 * Returns 0 or a negative errno; on error nothing stays registered.
 * Context: may sleep.
 */
int zd_memremap_pages(struct zd_system *sys, struct zd_dev_pagemap *pgmap);

/*
 * zd_memunmap_pages - tear down (memunmap_pages, §1.7): kill the live
 * reference (lookups fail from now on), drop the per-folio references
 * of FS_DAX/GENERIC/P2PDMA (legacy: put every page's base reference),
 * wait until the reference count is zero (PRIVATE/COHERENT: every
 * allocated page freed through folio_free), then clear the pfn range and
 * free the memmap after an RCU grace period. Blocks forever if a page is
 * never released (R1.12). A pgmap that is not registered (unmapped
 * already, or its zd_memremap_pages failed) is a misuse, reported as
 * ZD_MISUSE_BAD_STATE to its system (to stderr, aborting, if it never
 * reached zd_memremap_pages), and nothing happens. Context: may sleep.
 */
void zd_memunmap_pages(struct zd_dev_pagemap *pgmap);

/*
 * zd_memunmap_pages_timeout - as zd_memunmap_pages, but give up waiting
 * after @timeout_ns with -ETIMEDOUT; the pgmap stays killed and a later
 * call resumes the wait. 0 when torn down; -EINVAL (and a report) if
 * @pgmap is not registered.
 */
int zd_memunmap_pages_timeout(struct zd_dev_pagemap *pgmap, uint64_t timeout_ns);

/*
 * zd_get_dev_pagemap - the live pgmap covering @pfn with a reference taken
 * (get_dev_pagemap), or NULL if none or teardown has begun. Safe against a
 * concurrent zd_memunmap_pages (RCU). Release with zd_put_dev_pagemap().
 */
struct zd_dev_pagemap *zd_get_dev_pagemap(struct zd_system *sys, unsigned long pfn);
void zd_put_dev_pagemap(struct zd_dev_pagemap *pgmap);
/* Drop @nr references at once (percpu_ref_put_many), e.g. a p2p folio's. */
void zd_put_dev_pagemap_many(struct zd_dev_pagemap *pgmap, unsigned long nr);

/* pgmap_pfn_valid(): @pfn lies in one of @pgmap's ranges. */
bool zd_pgmap_pfn_valid(const struct zd_dev_pagemap *pgmap, unsigned long pfn);
/* Pages per folio (pgmap_vmemmap_nr). */
static inline unsigned long zd_pgmap_vmemmap_nr(const struct zd_dev_pagemap *pgmap)
{
	return 1ul << pgmap->vmemmap_shift;
}
/* The refcount a free (idle) page of this pgmap has under the system's scheme. */
int zd_pgmap_free_refcount(const struct zd_dev_pagemap *pgmap);
/* Live reference count (for tests and dumps), without the dead bit. */
long zd_pgmap_ref_count(const struct zd_dev_pagemap *pgmap);
/* Number of pages in all ranges. */
unsigned long zd_pgmap_nr_pages(const struct zd_dev_pagemap *pgmap);
/* The first pfn of range @i. */
unsigned long zd_pgmap_range_pfn(const struct zd_dev_pagemap *pgmap, int i);

/*
 * zd_zone_device_folio_init - hand a free device folio of @pgmap out
 * (zone_device_folio_init; zone_device_page_init(page, pgmap, order) in
 * the newest kernels, whose pgmap argument lets every page be
 * re-initialised even if it was last a tail of another folio, bug B9).
 * Zero scheme: every page of the folio must be at refcount 0 (R3.3,
 * reported as ZD_MISUSE_INIT_IN_USE otherwise; bug B8); the pages are
 * re-initialised, the head gets refcount 1 and is locked, and 1 << order
 * pgmap references are taken (R3.4). Legacy scheme (L5): order 0 only
 * (large device-private folios did not exist then); the page must be at
 * 1; it goes to 2 and is locked. Returns 0; -EINVAL (misuse reported,
 * nothing changed: wrong pgmap or type, page in use, misaligned or
 * oversized folio); -ENODEV (reported) once the pgmap's references are
 * all gone. A pgmap that teardown has killed but that other pages still
 * keep alive hands pages out as in Linux (percpu_ref_tryget_many ignores
 * the kill, R3.4): teardown then waits for them too. The legacy scheme
 * refuses from the kill on (-ENODEV), as 6.1's tryget_live did. Where
 * Linux warns and goes on at a zero count, the model refuses.
 */
int zd_zone_device_folio_init(struct zd_folio *folio, struct zd_dev_pagemap *pgmap,
			      unsigned int order);
static inline int zd_zone_device_page_init(struct zd_page *page, struct zd_dev_pagemap *pgmap)
{
	return zd_zone_device_folio_init((struct zd_folio *)page, pgmap, 0);
}

/*
 * zd_device_folio_activate - the other types' way to hand a free folio
 * out: P2PDMA (p2pmem_alloc_mmap: 0 -> 1 plus one pgmap reference per
 * page), GENERIC (device-dax: a mapping takes a reference on the idle
 * page: 1 -> 2). FS_DAX: a stand-in until the DAX file system exists —
 * a user's reference on an idle block (the temporary reference a DAX
 * fault takes on the locked entry, or GUP's): 0 -> 1. It is not an
 * association: an allocated or associated but unmapped fs-dax block stays
 * at 0 (R10.1); nothing is mapped and no "init" is counted or traced.
 * Legacy scheme: 1 -> 2 for all three. Misuse (wrong type, page not free)
 * is reported and returns -EINVAL; -ENODEV once teardown began.
 */
int zd_device_folio_activate(struct zd_folio *folio);

/*
 * zd_wait_fsdax_idle - sleep until an fs-dax folio is idle (refcount 0;
 * legacy: 1), as dax_break_layout does; woken by free_zone_device_folio.
 * 0, or -ETIMEDOUT after @timeout_ns (0: no limit).
 */
int zd_wait_fsdax_idle(struct zd_folio *folio, uint64_t timeout_ns);

/*
 * zd_request_free_mem_region - a free physical range above RAM of @size
 * bytes aligned to @align (a power of two >= 2 MiB), for a driver's pgmap
 * (request_free_mem_region). 0 and *start, -EINVAL, -ENOSPC.
 * zd_release_mem_region gives it back.
 */
int zd_request_free_mem_region(struct zd_system *sys, uint64_t size, uint64_t align,
			       uint64_t *start);
void zd_release_mem_region(struct zd_system *sys, uint64_t start, uint64_t size);

#define ZD_SUBSECTION_SIZE (2ul << 20)	/* ZONE_DEVICE range granularity */

#endif /* ZONEDEV_MEMREMAP_H */
