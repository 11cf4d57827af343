/* SPDX-License-Identifier: MIT */
/*
 * src/core/internal.h - struct zd_system and what the core files share.
 *
 * Models the kernel's per-node and per-zone state (struct pglist_data,
 * struct zone), the sparse memory section table (mem_section) and the
 * pgmap xarray of mm/memremap.c, all inside one machine object.
 */
#ifndef ZD_CORE_INTERNAL_H
#define ZD_CORE_INTERNAL_H

#include <stddef.h>
#include <zonedev/debug.h>
#include <zonedev/driver.h>
#include <zonedev/events.h>
#include <zonedev/fault_inject.h>
#include <zonedev/memremap.h>
#include <zonedev/page.h>
#include <zonedev/page_alloc.h>
#include <zonedev/system.h>
#include "sync/sync.h"

/* ---- lists ---- */

/*
 * List links of pages share their first word with compound_head, which
 * is read without locks: stores go through relaxed atomics (lock-free
 * readers only ever test bit 0, never set in a list pointer).
 */
#define ZD_LIST_SET(field, v) \
	zd_atomic_store_relaxed((struct zd_list_head *_Atomic *)(void *)&(field), (v))

static inline void zd_list_init(struct zd_list_head *h)
{
	ZD_LIST_SET(h->next, h);
	ZD_LIST_SET(h->prev, h);
}
static inline bool zd_list_empty(const struct zd_list_head *h) { return h->next == h; }
static inline void zd_list_add(struct zd_list_head *n, struct zd_list_head *h)
{
	struct zd_list_head *next = h->next;

	ZD_LIST_SET(n->next, next);
	ZD_LIST_SET(n->prev, h);
	ZD_LIST_SET(next->prev, n);
	ZD_LIST_SET(h->next, n);
}
static inline void zd_list_del(struct zd_list_head *n)
{
	ZD_LIST_SET(n->prev->next, n->next);
	ZD_LIST_SET(n->next->prev, n->prev);
	ZD_LIST_SET(n->next, (struct zd_list_head *)NULL);
	ZD_LIST_SET(n->prev, (struct zd_list_head *)NULL);
}

#define zd_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
static inline struct zd_page *zd_lru_to_page(struct zd_list_head *l)
{
	return zd_container_of(l, struct zd_page, lru);
}

/* ---- pfn space: 2 MiB subsections in a two-level table ---- */

#define ZD_SUBSECTION_SHIFT	9	/* pages per subsection: 512 */
#define ZD_SECTION_LEAF_BITS	13
#define ZD_SECTION_TOP_BITS	12	/* 2^25 subsections: 64 TiB of pfn space */
#define ZD_PFN_LIMIT		(1ul << (ZD_SUBSECTION_SHIFT + ZD_SECTION_LEAF_BITS + ZD_SECTION_TOP_BITS))

/* One registered range of a pgmap: its memmap, bytes and shadow counts. */
struct _zd_pgmap_range {
	struct zd_dev_pagemap *pgmap;
	unsigned long pfn_start, nr_pages;
	struct zd_page *memmap;
	unsigned char *data;		/* NULL with data=none */
	_Atomic int *shadow;		/* full checking only */
	struct zd_rcu_head rcu;
};

struct _zd_section_leaf {
	struct _zd_pgmap_range *_Atomic slot[1u << ZD_SECTION_LEAF_BITS];
};

struct _zd_mem_region {
	uint64_t start, size;
	struct _zd_mem_region *next;
};

/* ---- page-table pages (ptdesc.c) ---- */

struct zd_pgtable;

/*
 * struct ptdesc: what the kernel keeps about a page-table page in its
 * struct page. The table itself is 4 KiB of entries and nothing else.
 */
struct zd_ptdesc {
	union {
		struct zd_rcu_head pt_rcu_head;	/* while waiting for a grace period */
		struct zd_pgtable *pt_deposit_next;	/* on mm->pmd_huge_pte while deposited */
		struct zd_ptdesc *pt_free_next;	/* on the system's free list */
	};
	struct zd_spinlock ptl;		/* split PTE lock (PTE tables) */
	int pt_level;			/* enum zd_pt_level */
};

#define ZD_PT_CHUNK_SIZE	(2ul << 20)
#define ZD_PT_CHUNK_PAGES	(ZD_PT_CHUNK_SIZE >> ZD_PAGE_SHIFT)
/* The first pages of a chunk hold one descriptor per page of the chunk. */
#define ZD_PT_CHUNK_DESC_PAGES \
	((ZD_PT_CHUNK_PAGES * sizeof(struct zd_ptdesc) + ZD_PAGE_SIZE - 1) >> ZD_PAGE_SHIFT)

/* virt_to_ptdesc(): the descriptor of the page-table page holding @p. */
static inline struct zd_ptdesc *_zd_virt_to_ptdesc(const void *p)
{
	uintptr_t base = (uintptr_t)p & ~(uintptr_t)(ZD_PT_CHUNK_SIZE - 1);

	return (struct zd_ptdesc *)base + (((uintptr_t)p - base) >> ZD_PAGE_SHIFT);
}

/* ptdesc_address(): the page-table page @d describes. */
static inline void *_zd_ptdesc_address(const struct zd_ptdesc *d)
{
	uintptr_t base = (uintptr_t)d & ~(uintptr_t)(ZD_PT_CHUNK_SIZE - 1);

	return (void *)(base + ((size_t)(d - (const struct zd_ptdesc *)base) << ZD_PAGE_SHIFT));
}

/*
 * pagetable_alloc(): a 4 KiB page-table page (contents undefined), whose
 * descriptor is _zd_virt_to_ptdesc() of it; NULL if no memory.
 * pagetable_free() gives it back to the system it came from. Context: any.
 */
void *_zd_pagetable_alloc(struct zd_system *sys);
void _zd_pagetable_free(void *table);
/* Unmap every page-table chunk. Context: system destroy, no table in use. */
void _zd_pagetables_exit(struct zd_system *sys);

struct zd_system {
	struct zd_system_options opts;

	/* RAM: memmap (after its header), bytes, buddy free areas */
	struct _zd_memmap_hdr *ram_hdr;
	size_t ram_map_len;
	struct zd_page *ram_memmap;
	unsigned long ram_pages;
	unsigned char *ram_data;
	_Atomic int *ram_shadow;
	struct zd_spinlock zone_lock;
	struct zd_list_head free_area[ZD_MAX_PAGE_ORDER + 1];
	/* page-table pages: chunks, the free list, the next unused page of the newest chunk */
	struct zd_spinlock pt_lock;
	struct pt_chunk *pt_chunks;
	struct zd_ptdesc *pt_free;
	unsigned long pt_next;
	unsigned long nr_free_area[ZD_MAX_PAGE_ORDER + 1];
	unsigned long free_pages;
	struct zd_folio *zero_folio;
	/*
	 * The huge zero folio (mm/huge_memory.c): allocated at the first mm
	 * that maps it, freed when the last such mm exits (src/mm/huge_memory.c).
	 */
	struct zd_spinlock huge_zero_lock;
	struct zd_folio *_Atomic huge_zero_folio;
	long huge_zero_users;			/* mms holding it, under the lock */
	_Atomic int thp_no_zero_page;		/* use_zero_page written 0 */

	/* LRU */
	struct zd_spinlock lru_lock;
	struct zd_list_head lru[ZD_NR_LRU_LISTS];
	unsigned long lru_count[ZD_NR_LRU_LISTS];

	/* device pfn space and pgmaps */
	struct zd_spinlock pgmap_lock;
	struct _zd_section_leaf *_Atomic sections[1u << ZD_SECTION_TOP_BITS];
	struct zd_dev_pagemap *pgmaps;
	struct zd_dev_pagemap *orphans;	/* gone pgmaps whose pages were still held (R1.13) */
	struct _zd_mem_region *regions;
	_Atomic int devmap_managed_key;	/* legacy: managed pgmaps registered */

	/* every live mm (the task list, as the checker sees it) */
	struct zd_spinlock mmlist_lock;
	struct zd_list_head mmlist;

	struct zd_wait_table *waits;

	/* events and reports */
	struct zd_spinlock trace_lock;
	struct zd_trace_sink *_Atomic trace;
	uint64_t t0;
	struct zd_spinlock report_lock;

	/* fault injection */
	struct zd_spinlock fault_lock;
	uint64_t fault_rng[ZD_FAULT_NR_SITES];
	unsigned long fault_calls[ZD_FAULT_NR_SITES];
	long fault_times_left[ZD_FAULT_NR_SITES];

	/* counters */
	_Atomic uint64_t st_folio_allocs, st_folio_frees, st_device_inits, st_device_frees,
		st_fsdax_wakeups, st_generic_resets, st_reports, st_faults, st_events;
};

/* memmap.c */
int _zd_memmap_ram_init(struct zd_system *sys);
void _zd_memmap_ram_exit(struct zd_system *sys);
struct _zd_pgmap_range *_zd_pfn_range(struct zd_system *sys, unsigned long pfn);
int _zd_section_install(struct zd_system *sys, struct _zd_pgmap_range *rs);
void _zd_section_clear(struct zd_system *sys, struct _zd_pgmap_range *rs);
void _zd_sections_free(struct zd_system *sys);
struct _zd_pgmap_range *_zd_page_range(const struct zd_page *page);
_Atomic int *_zd_shadow_slot(const struct zd_page *page);
void _zd_update_slow(struct zd_system *sys);

/* page_alloc.c */
int _zd_buddy_init(struct zd_system *sys);
void _zd_free_ram_folio(struct zd_system *sys, struct zd_folio *folio);

/* folio.c */
/*
 * migration_entry_wait_on_locked(): the caller holds @ptl and has seen a
 * migration entry of @folio. Sleep until the migrating thread unlocks the
 * folio, taking no reference (a reference would make the migration fail
 * its refcount check); @ptl is dropped once the waiter is queued, so the
 * folio cannot be freed before the wait starts. Returns with @ptl dropped,
 * possibly early (the caller's fault is retried anyway).
 */
void _zd_migration_entry_wait_on_locked(struct zd_folio *folio, struct zd_spinlock *ptl);

/* lru.c */
void _zd_lru_del_on_free(struct zd_system *sys, struct zd_folio *folio);
void _zd_folio_deactivate(struct zd_folio *folio);

/* memremap.c */
void _zd_free_zone_device_folio(struct zd_folio *folio);
void _zd_put_zone_device(struct zd_folio *folio, int refs);
void _zd_pgmap_put_refs(struct zd_dev_pagemap *pgmap, long refs);
/* The pgmap's percpu_ref: tryget_live refuses once killed; tryget_many only at zero. */
#define ZD_PGMAP_REF_DEAD (1l << 62)
bool _zd_pgmap_tryget_live(struct zd_dev_pagemap *pgmap, long n);
bool _zd_pgmap_tryget_many(struct zd_dev_pagemap *pgmap, long n);
void _zd_pgmaps_force_teardown(struct zd_system *sys);
/* Free what unbinds left behind under held pages (R1.13). Context: system destroy. */
void _zd_pgmap_orphans_free(struct zd_system *sys);
void _zd_regions_free(struct zd_system *sys);

/* events.c: tracepoint emission to the registered sink, if any. */
void _zd_emit(struct zd_system *sys, enum zd_event_type type, const struct zd_folio *folio,
	      int delta);
/* The same with the refcount after the transition given (exact under races). */
void _zd_emit_ref(struct zd_system *sys, enum zd_event_type type, const struct zd_folio *folio,
		  int delta, int refcount);
void _zd_emit_pgmap(struct zd_system *sys, enum zd_event_type type,
		    const struct zd_dev_pagemap *pgmap);
static inline bool _zd_tracing(struct zd_system *sys)
{
	return zd_atomic_load_relaxed(&sys->trace) != NULL;
}

/* debug.c: a misuse report with a page dump (to the report callback, or BUG). */
void _zd_report_page(struct zd_system *sys, enum zd_misuse kind, const char *rule,
		     const struct zd_page *page, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* fault_inject.c: should_fail() for @site; the per-site state at creation. */
bool _zd_should_fail(struct zd_system *sys, enum zd_fault_site site);
void _zd_faultinj_init(struct zd_system *sys);

/* The checker level asks for shadow accounting (ZD_CHECK_FULL). */
static inline bool _zd_check_full(const struct zd_system *sys)
{
	return sys->opts.check == ZD_CHECK_FULL;
}

#endif /* ZD_CORE_INTERNAL_H */
