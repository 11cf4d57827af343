/* SPDX-License-Identifier: MIT */
/*
 * zonedev/page.h - struct zd_page, struct zd_folio and their refcounts.
 *
 * Models include/linux/mm_types.h (struct page, struct folio),
 * include/linux/page-flags.h, include/linux/page_ref.h and the folio
 * refcount helpers of include/linux/mm.h. The refcount fast path is inline,
 * as in the kernel: a RAM folio pays one flag test for the existence of
 * ZONE_DEVICE, nothing more.
 */
#ifndef ZONEDEV_PAGE_H
#define ZONEDEV_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <zonedev/debug.h>	/* zd_dump_page, as linux/mm.h includes mmdebug.h */
#include <zonedev/system.h>
#include <zonedev/sync/atomic.h>

struct zd_dev_pagemap;

struct zd_list_head {
	struct zd_list_head *next, *prev;
};

/*
 * Page flags (page-flags.h). Bits 56..63 of a head page's flags hold the
 * folio order (the kernel keeps it in the first tail page).
 */
enum zd_pageflags {
	ZD_PG_locked = 0,
	ZD_PG_referenced,
	ZD_PG_uptodate,
	ZD_PG_dirty,
	ZD_PG_lru,
	ZD_PG_active,
	ZD_PG_head,
	ZD_PG_reserved,
	ZD_PG_anon_exclusive,
	ZD_PG_buddy,		/* free in the buddy allocator (a page type in Linux) */
	ZD_PG_waiters,
	ZD_PG_swapbacked,
	ZD_PG_zone_device,	/* zone == ZONE_DEVICE (zone bits in Linux) */
	ZD_PG_unevictable,
	ZD_PG_large_rmappable,
	/*
	 * Model-only shadow bit, not in Linux: set while the driver owns a
	 * free device folio (between folio_free and the next init), so a
	 * second free without a new init is caught as "page_free twice".
	 */
	ZD_PG_dev_free,
	ZD_PG_NR_FLAGS,
};

#define ZD_PG_ORDER_SHIFT 56
#define ZD_PG_BIT(b) (1ul << (b))

/*
 * struct zd_page - one 4 KiB page frame (struct page). 64 bytes.
 * Word 1 is a union: LRU / buddy-list links for RAM pages, the pgmap and
 * driver data for device pages (pgmap on the folio head only, as in the
 * newest kernels), and compound_head | 1 on tail pages.
 */
struct zd_page {
	_Atomic unsigned long flags;
	union {
		struct zd_list_head lru;
		struct {
			struct zd_dev_pagemap *pgmap;
			void *zone_device_data;
		};
		struct {
			unsigned long compound_head;
			unsigned long _tail_unused;
		};
	};
	void *mapping;
	unsigned long index;		/* file offset; fs-dax share count overlays it */
	unsigned long private;		/* buddy order while free */
	_Atomic int _refcount;
	_Atomic int _mapcount;		/* -1 when unmapped */
	_Atomic int _pincount;		/* head of a large folio */
	_Atomic int _entire_mapcount;	/* head of a large folio, -1 when unmapped */
};

/* struct zd_folio - the head-page view of a folio (struct folio). */
struct zd_folio {
	struct zd_page page;
};

#define ZD_GUP_PIN_COUNTING_BIAS 1024

/* ---- flags ---- */

static inline bool zd_page_test_flag(const struct zd_page *page, enum zd_pageflags b)
{
	return zd_atomic_load_relaxed(&((struct zd_page *)page)->flags) & ZD_PG_BIT(b);
}

static inline void zd_page_set_flag(struct zd_page *page, enum zd_pageflags b)
{
	zd_atomic_fetch_or_relaxed(&page->flags, ZD_PG_BIT(b));
}

static inline void zd_page_clear_flag(struct zd_page *page, enum zd_pageflags b)
{
	zd_atomic_fetch_and_relaxed(&page->flags, ~ZD_PG_BIT(b));
}

/*
 * __SetPageX()/__ClearPageX(): the non-atomic forms, for a page whose flags
 * word nobody else may write meanwhile (a free page under the zone lock, a
 * folio whose refcount reached zero). Readers still read it atomically.
 */
static inline void _zd_page_set_flag_nonatomic(struct zd_page *page, enum zd_pageflags b)
{
	zd_atomic_store_relaxed(&page->flags, zd_atomic_load_relaxed(&page->flags) | ZD_PG_BIT(b));
}

static inline void _zd_page_clear_flag_nonatomic(struct zd_page *page, enum zd_pageflags b)
{
	zd_atomic_store_relaxed(&page->flags, zd_atomic_load_relaxed(&page->flags) & ~ZD_PG_BIT(b));
}

static inline bool zd_folio_test_flag(const struct zd_folio *f, enum zd_pageflags b)
{
	return zd_page_test_flag(&f->page, b);
}

/* ---- page <-> folio ---- */

/*
 * The first word of a page is read without locks (page_folio() from
 * GUP-fast, from any holder of a page) while list operations and folio
 * setup write it: both sides use relaxed atomics, as the kernel uses
 * READ_ONCE/WRITE_ONCE on it.
 */
static inline unsigned long zd_page_compound_head(const struct zd_page *page)
{
	return zd_atomic_load_relaxed((_Atomic unsigned long *)(void *)
				      &((struct zd_page *)page)->compound_head);
}

static inline void _zd_page_set_compound_head(struct zd_page *page, unsigned long v)
{
	zd_atomic_store_relaxed((_Atomic unsigned long *)(void *)&page->compound_head, v);
}

static inline bool zd_page_is_tail(const struct zd_page *page)
{
	return zd_page_compound_head(page) & 1ul;
}

/* page_folio(): the folio a page belongs to. */
static inline struct zd_folio *zd_page_folio(const struct zd_page *page)
{
	unsigned long head = zd_page_compound_head(page);

	if (head & 1ul)
		return (struct zd_folio *)(head - 1);
	return (struct zd_folio *)page;
}

/* folio_page(): the n-th page of a folio (the memmap is contiguous within a folio). */
static inline struct zd_page *zd_folio_page(struct zd_folio *folio, unsigned long n)
{
	return &folio->page + n;
}

static inline unsigned int zd_folio_order(const struct zd_folio *folio)
{
	unsigned long f = zd_atomic_load_relaxed(&((struct zd_folio *)folio)->page.flags);

	return (f & ZD_PG_BIT(ZD_PG_head)) ? (unsigned int)(f >> ZD_PG_ORDER_SHIFT) : 0;
}

static inline unsigned long zd_folio_nr_pages(const struct zd_folio *folio)
{
	return 1ul << zd_folio_order(folio);
}

static inline bool zd_folio_test_large(const struct zd_folio *folio)
{
	return zd_folio_test_flag(folio, ZD_PG_head);
}

/* folio_is_zone_device(): the one type test the RAM fast path pays. */
static inline bool zd_folio_is_zone_device(const struct zd_folio *folio)
{
	return zd_folio_test_flag(folio, ZD_PG_zone_device);
}

static inline bool zd_is_zone_device_page(const struct zd_page *page)
{
	return zd_page_test_flag(page, ZD_PG_zone_device);
}

/* page_pgmap() / folio->pgmap: NULL for RAM. */
static inline struct zd_dev_pagemap *zd_folio_pgmap(const struct zd_folio *folio)
{
	return zd_folio_is_zone_device(folio) ? folio->page.pgmap : NULL;
}

static inline struct zd_dev_pagemap *zd_page_pgmap(const struct zd_page *page)
{
	return zd_folio_pgmap(zd_page_folio(page));
}

/* ---- pfn, system, data ---- */

/*
 * The system a page belongs to. Context: any; the page must be live.
 * zd_page_system, zd_page_to_pfn and zd_page_pgmap read plain page fields
 * that zd_zone_device_folio_init rewrites: call them on a page you hold a
 * reference to (or that nobody can hand out meanwhile).
 */
struct zd_system *zd_page_system(const struct zd_page *page);
/* page_to_pfn(). */
unsigned long zd_page_to_pfn(const struct zd_page *page);
static inline unsigned long zd_folio_pfn(const struct zd_folio *folio)
{
	return zd_page_to_pfn(&folio->page);
}
/*
 * pfn_to_page(): NULL if no memmap covers @pfn. Context: the caller keeps
 * the memmap alive (RAM always is; a device pfn needs a pgmap reference or
 * RCU read side, see zd_get_dev_pagemap()).
 */
struct zd_page *zd_pfn_to_page(struct zd_system *sys, unsigned long pfn);
static inline struct zd_folio *zd_pfn_folio(struct zd_system *sys, unsigned long pfn)
{
	struct zd_page *p = zd_pfn_to_page(sys, pfn);

	return p ? zd_page_folio(p) : NULL;
}
/*
 * page_address(): the bytes of the page frame, or NULL with data=none.
 * Device-private memory has bytes too, but only a driver copy engine may
 * touch them: the CPU access path refuses them.
 */
void *zd_page_address(const struct zd_page *page);

/* ---- refcount ---- */

/*
 * RAM memmap header: the RAM memmap is placed 64 bytes after a
 * ZD_MEMMAP_ALIGN-aligned header, so a page finds its system without a
 * global table (the kernel finds its zone from page->flags instead).
 */
#define ZD_MEMMAP_ALIGN (1ul << 32)
struct _zd_memmap_hdr {
	struct zd_system *sys;
	struct zd_page *memmap;
	_Atomic int slow;	/* tracing or full checking: RAM gets/puts go out of line */
	int _pad;
	unsigned long nr_pages;
	char _fill[32];
};

static inline struct _zd_memmap_hdr *_zd_ram_hdr(const struct zd_page *page)
{
	return (struct _zd_memmap_hdr *)((uintptr_t)page & ~(ZD_MEMMAP_ALIGN - 1));
}

/* Out-of-line halves (src/core/folio.c). */
void _zd_folio_get_slow(struct zd_folio *folio, int refs);
bool _zd_folio_try_get_slow(struct zd_folio *folio, int refs);
void _zd_folio_put_slow(struct zd_folio *folio, int refs);
void _zd_folio_put_last(struct zd_folio *folio, int refs, int old);
void _zd_folio_get_bad(struct zd_folio *folio, int old);

static inline bool _zd_folio_slow(const struct zd_folio *folio)
{
	return zd_unlikely(zd_folio_is_zone_device(folio)) ||
	       zd_unlikely(zd_atomic_load_relaxed(&_zd_ram_hdr(&folio->page)->slow));
}

/* folio_ref_count(). */
static inline int zd_folio_ref_count(const struct zd_folio *folio)
{
	return zd_atomic_load_relaxed(&((struct zd_folio *)folio)->page._refcount);
}

/* page_ref_count(): this page's own counter (0 on tail pages). */
static inline int zd_page_ref_count(const struct zd_page *page)
{
	return zd_atomic_load_relaxed(&((struct zd_page *)page)->_refcount);
}

/* page_count(): the refcount of the page's folio. */
static inline int zd_page_count(const struct zd_page *page)
{
	return zd_folio_ref_count(zd_page_folio(page));
}

/*
 * zd_folio_get - take a reference on a folio the caller already holds a
 * reference to (folio_get). A get on a free folio (count 0) is misuse
 * (R12.17) and is reported. Context: any.
 */
static inline void zd_folio_get(struct zd_folio *folio)
{
	int old;

	if (_zd_folio_slow(folio)) {
		_zd_folio_get_slow(folio, 1);
		return;
	}
	old = zd_atomic_fetch_add_relaxed(&folio->page._refcount, 1);
	if (zd_unlikely(old <= 0))
		_zd_folio_get_bad(folio, old);
}

/*
 * zd_folio_ref_add - add @refs references (folio_ref_add), for GUP.
 * Same rule as zd_folio_get.
 */
static inline void zd_folio_ref_add(struct zd_folio *folio, int refs)
{
	int old;

	if (_zd_folio_slow(folio)) {
		_zd_folio_get_slow(folio, refs);
		return;
	}
	old = zd_atomic_fetch_add_relaxed(&folio->page._refcount, refs);
	if (zd_unlikely(old <= 0))
		_zd_folio_get_bad(folio, old);
}

/*
 * zd_folio_try_get - get unless zero (folio_try_get / folio_ref_try_add).
 * For lockless lookups: returns false if the folio is free; on success the
 * caller must re-validate that it found the folio it wanted. Acquire on
 * success. Context: any.
 */
static inline bool zd_folio_ref_try_add(struct zd_folio *folio, int refs)
{
	int c;

	if (_zd_folio_slow(folio))
		return _zd_folio_try_get_slow(folio, refs);
	c = zd_atomic_load_relaxed(&folio->page._refcount);
	do {
		if (c <= 0)
			return false;
	} while (!zd_atomic_cmpxchg_acquire(&folio->page._refcount, &c, c + refs));
	return true;
}

static inline bool zd_folio_try_get(struct zd_folio *folio)
{
	return zd_folio_ref_try_add(folio, 1);
}

/*
 * zd_folio_put_refs - drop @refs references (folio_put_refs). The last put
 * frees: a RAM folio leaves the LRU and returns to the buddy allocator; a
 * ZONE_DEVICE folio goes to free_zone_device_folio (semantics §3.4), or in
 * the legacy scheme the 2->1 transition is hooked (§13). Dropping more
 * references than exist is misuse and is reported. Release ordering; the
 * freeing thread acquires. Context: any; may call driver callbacks.
 */
static inline void zd_folio_put_refs(struct zd_folio *folio, int refs)
{
	int old;

	if (_zd_folio_slow(folio)) {
		_zd_folio_put_slow(folio, refs);
		return;
	}
	/* Release pairs with the acquire in _zd_folio_put_last() of the freeing thread. */
	old = zd_atomic_fetch_sub_release(&folio->page._refcount, refs);
	if (zd_unlikely(old <= refs))
		_zd_folio_put_last(folio, refs, old);
}

/* zd_folio_put - drop one reference (folio_put). */
static inline void zd_folio_put(struct zd_folio *folio)
{
	zd_folio_put_refs(folio, 1);
}

/* get_page()/put_page(): the page's folio. put_page has no device special case. */
static inline void zd_get_page(struct zd_page *page) { zd_folio_get(zd_page_folio(page)); }
static inline void zd_put_page(struct zd_page *page) { zd_folio_put(zd_page_folio(page)); }
static inline bool zd_get_page_unless_zero(struct zd_page *page)
{
	return zd_folio_try_get(zd_page_folio(page));
}

/*
 * zd_folios_put_refs - batched release (folios_put_refs / release_pages):
 * drops refs[i] (1 if @refs is NULL) from each folio; each last put goes
 * through the same free path as zd_folio_put (bug B2).
 */
void zd_folios_put_refs(struct zd_folio **folios, const int *refs, unsigned int nr);

/* ---- mapcount, pincount (read side; mm code maintains them) ---- */

static inline int zd_page_mapcount(const struct zd_page *page)
{
	return zd_atomic_load_relaxed(&((struct zd_page *)page)->_mapcount) + 1;
}

static inline int zd_folio_pincount(const struct zd_folio *folio)
{
	return zd_folio_test_large(folio) ?
	       zd_atomic_load_relaxed(&((struct zd_folio *)folio)->page._pincount) : 0;
}

/*
 * zd_folio_maybe_dma_pinned - large: pincount > 0; small: refcount >=
 * GUP_PIN_COUNTING_BIAS (false positives allowed, never false negatives).
 */
static inline bool zd_folio_maybe_dma_pinned(const struct zd_folio *folio)
{
	if (zd_folio_test_large(folio))
		return zd_folio_pincount(folio) > 0;
	return zd_folio_ref_count(folio) >= ZD_GUP_PIN_COUNTING_BIAS;
}

/* ---- folio lock (PG_locked) ---- */

/* folio_lock(): sleep until the lock is ours. Context: may sleep. */
void zd_folio_lock(struct zd_folio *folio);
/* folio_trylock(): true if taken. */
bool zd_folio_trylock(struct zd_folio *folio);
/* folio_unlock(): release and wake waiters. */
void zd_folio_unlock(struct zd_folio *folio);
static inline bool zd_folio_test_locked(const struct zd_folio *folio)
{
	return zd_folio_test_flag(folio, ZD_PG_locked);
}

#endif /* ZONEDEV_PAGE_H */
