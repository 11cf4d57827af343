// SPDX-License-Identifier: MIT
/*
 * src/core/zone_device.c - handing device folios out and taking them back.
 *
 * Models zone_device_page_init / zone_device_folio_init and
 * free_zone_device_folio of mm/memremap.c (semantics §3), the type-specific
 * hand-outs done outside it (p2pdma's p2pmem_alloc_mmap, a device-dax
 * mapping reference, and for fs-dax the reference a user such as a DAX
 * fault takes on an idle block: a stand-in until fs/dax.c is modelled),
 * and for the legacy
 * 1-based scheme put_devmap_managed_page with devmap_managed_key (§13).
 */
#include <errno.h>

#include "internal.h"

static bool pgmap_dying(struct zd_dev_pagemap *pgmap)
{
	return zd_atomic_load_acquire(&pgmap->ref) & ZD_PGMAP_REF_DEAD;
}

static bool legacy(const struct zd_dev_pagemap *pgmap)
{
	return pgmap->sys->opts.scheme == ZD_SCHEME_ONE;
}

static void shadow_set(struct zd_page *page, int v)
{
	_Atomic int *s = _zd_shadow_slot(page);

	if (s)
		zd_atomic_store_relaxed(s, v);
}

static struct _zd_pgmap_range *range_of(struct zd_dev_pagemap *pgmap, const struct zd_page *page)
{
	for (int i = 0; i < pgmap->nr_range; i++) {
		struct _zd_pgmap_range *rs = pgmap->rs[i];

		if (rs && page >= rs->memmap && page < rs->memmap + rs->nr_pages)
			return rs;
	}
	return NULL;
}

/* Rewrite one page as a free-standing page of @pgmap, keeping its count (B9). */
static void reinit_page(struct zd_page *p, struct zd_dev_pagemap *pgmap)
{
	zd_atomic_store_relaxed(&p->flags, ZD_PG_BIT(ZD_PG_zone_device) | ZD_PG_BIT(ZD_PG_reserved));
	_zd_page_set_compound_head(p, (unsigned long)pgmap);	/* the pgmap word */
	p->mapping = NULL;
	p->index = 0;
	zd_atomic_store_relaxed(&p->_mapcount, -1);
	zd_atomic_store_relaxed(&p->_pincount, 0);
	zd_atomic_store_relaxed(&p->_entire_mapcount, -1);
}

int zd_zone_device_folio_init(struct zd_folio *folio, struct zd_dev_pagemap *pgmap,
			      unsigned int order)
{
	struct zd_system *sys = pgmap->sys;
	struct zd_page *head = &folio->page;
	unsigned long nr = 1ul << order, idx;
	struct _zd_pgmap_range *rs;

	if (pgmap->type != ZD_MEMORY_DEVICE_PRIVATE && pgmap->type != ZD_MEMORY_DEVICE_COHERENT) {
		_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.5", head,
				"zone_device_folio_init on a %s pgmap",
				zd_memory_type_name((int)pgmap->type));
		return -EINVAL;
	}
	rs = range_of(pgmap, head);
	if (!rs || order > ZD_MAX_FOLIO_ORDER) {
		_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.3", rs ? head : NULL,
				"zone_device_folio_init: page not in the pgmap or order %u too large",
				order);
		return -EINVAL;
	}
	idx = (unsigned long)(head - rs->memmap);
	if ((idx & (nr - 1)) || idx + nr > rs->nr_pages ||
	    (pgmap->vmemmap_shift && order != pgmap->vmemmap_shift) ||
	    (legacy(pgmap) && order && !pgmap->vmemmap_shift)) {
		_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.3", head,
				"zone_device_folio_init: order %u misaligned or not allowed here",
				order);
		return -EINVAL;
	}

	if (legacy(pgmap)) {
		int one = 1;

		/* Teardown has put the base references: free pages read 0 now. */
		if (pgmap_dying(pgmap)) {
			_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.4", head,
					"allocation from a pgmap being torn down");
			return -ENODEV;
		}

		/* L5: a free page sits at 1; the driver's reference makes it 2. */
		if (!zd_atomic_cmpxchg_strong_acq_rel(&head->_refcount, &one, 2)) {
			_zd_report_page(sys, ZD_MISUSE_INIT_IN_USE, "L5", head,
					"legacy init of a page with refcount %d (free is 1)", one);
			return -EINVAL;
		}
		if (pgmap_dying(pgmap)) {
			zd_atomic_store_relaxed(&head->_refcount, 1);
			_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.4", head,
					"allocation from a pgmap being torn down");
			return -ENODEV;
		}
		zd_page_clear_flag(head, ZD_PG_dev_free);
		shadow_set(head, 2);
	} else {
		for (unsigned long i = 0; i < nr; i++) {
			int c = zd_page_ref_count(head + i);

			if (c != 0) {
				_zd_report_page(sys, ZD_MISUSE_INIT_IN_USE, "R3.3", head + i,
						"zone_device_folio_init of a page with refcount %d", c);
				return -EINVAL;
			}
		}
		/*
		 * R3.4: as percpu_ref_tryget_many, a killed pgmap still hands
		 * out pages while others keep its count up; only a pgmap whose
		 * count reached zero (teardown about to free the memmap)
		 * refuses. Linux only warns there and goes on; the model
		 * refuses, since the folio would hold a reference nobody has.
		 */
		if (!_zd_pgmap_tryget_many(pgmap, (long)nr)) {
			_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.4", head,
					"allocation from a pgmap whose references are gone");
			return -ENODEV;
		}
		/* R3.5 / B9: every page re-initialised, whatever folio it was part of. */
		for (unsigned long i = 0; i < nr; i++)
			reinit_page(head + i, pgmap);
		for (unsigned long i = 1; i < nr; i++)
			_zd_page_set_compound_head(&head[i], (unsigned long)head | 1ul);
		/*
		 * lock_page(): nobody can take a reference before the count
		 * is published below, so the lock bit goes in with the other
		 * flags, without a locked instruction (__folio_set_locked).
		 */
		zd_atomic_store_relaxed(&head->flags, zd_atomic_load_relaxed(&head->flags) |
					ZD_PG_BIT(ZD_PG_locked) |
					(order ? ZD_PG_BIT(ZD_PG_head) | ZD_PG_BIT(ZD_PG_large_rmappable) |
					 ((unsigned long)order << ZD_PG_ORDER_SHIFT) : 0ul));
		shadow_set(head, 1);
		/* Release: the initialised folio is published with its first reference. */
		zd_atomic_store_release(&head->_refcount, 1);
	}
	if (legacy(pgmap))
		zd_page_set_flag(head, ZD_PG_locked);
	zd_atomic_fetch_add_relaxed(&pgmap->nr_inits, 1);
	zd_atomic_fetch_add_relaxed(&sys->st_device_inits, 1);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_INIT, folio, 1);
	return 0;
}

int zd_device_folio_activate(struct zd_folio *folio)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);
	struct zd_page *head = &folio->page;
	struct zd_system *sys;
	int want, c;

	if (!pgmap || zd_page_is_tail(head)) {
		_zd_report_page(zd_page_system(head), ZD_MISUSE_BAD_STATE, "", head,
				"device folio activation of a page that is not a device folio head");
		return -EINVAL;
	}
	sys = pgmap->sys;
	if (pgmap->type == ZD_MEMORY_DEVICE_PRIVATE || pgmap->type == ZD_MEMORY_DEVICE_COHERENT) {
		_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.5", head,
				"%s folios are handed out by zone_device_folio_init",
				zd_memory_type_name((int)pgmap->type));
		return -EINVAL;
	}
	if (pgmap_dying(pgmap))
		return -ENODEV;
	if (pgmap->type == ZD_MEMORY_DEVICE_GENERIC) {
		/* Device-dax pages idle at 1; a user takes a reference like a mapping does. */
		if (!zd_folio_try_get(folio)) {
			_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R11.4", head,
					"device-dax page at refcount 0");
			return -EINVAL;
		}
		zd_page_clear_flag(head, ZD_PG_dev_free);
		zd_atomic_fetch_add_relaxed(&pgmap->nr_inits, 1);
		zd_atomic_fetch_add_relaxed(&sys->st_device_inits, 1);
		if (_zd_tracing(sys))
			_zd_emit(sys, ZD_EV_INIT, folio, 1);
		return 0;
	}
	want = zd_pgmap_free_refcount(pgmap);
	c = want;
	if (pgmap->type == ZD_MEMORY_DEVICE_FS_DAX) {
		/*
		 * Stand-in until the DAX file system exists: an fs-dax block
		 * that is allocated, even associated, stays at its idle count;
		 * what raises it is a user: the temporary reference a DAX
		 * fault takes on the locked entry before inserting, or GUP's.
		 * This takes that user reference on an idle folio; it neither
		 * associates nor maps anything and is no "init".
		 */
		if (!zd_atomic_cmpxchg_strong_acq_rel(&head->_refcount, &c, want + 1)) {
			_zd_report_page(sys, ZD_MISUSE_INIT_IN_USE, "R10.1", head,
					"fs-dax user reference on a page with refcount %d (idle is %d)",
					c, want);
			return -EINVAL;
		}
		shadow_set(head, want + 1);
		if (_zd_tracing(sys))
			_zd_emit(sys, ZD_EV_GET, folio, 1);
		return 0;
	}
	if (!zd_atomic_cmpxchg_strong_acq_rel(&head->_refcount, &c, want + 1)) {
		_zd_report_page(sys, ZD_MISUSE_INIT_IN_USE, "R11.1", head,
				"activation of a %s page with refcount %d (free is %d)",
				zd_memory_type_name((int)pgmap->type), c, want);
		return -EINVAL;
	}
	/* R11.1: in the 0-based scheme each mmapped p2p page holds a pgmap reference. */
	if (pgmap->type == ZD_MEMORY_DEVICE_PCI_P2PDMA && !legacy(pgmap) &&
	    !_zd_pgmap_tryget_live(pgmap, (long)zd_folio_nr_pages(folio))) {
		zd_atomic_store_relaxed(&head->_refcount, 0);	/* back without a put */
		return -ENODEV;
	}
	zd_page_clear_flag(head, ZD_PG_dev_free);
	shadow_set(head, want + 1);
	zd_atomic_fetch_add_relaxed(&pgmap->nr_inits, 1);
	zd_atomic_fetch_add_relaxed(&sys->st_device_inits, 1);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_INIT, folio, 1);
	return 0;
}

/* ---- the free path ---- */

/*
 * Hand a driver-owned folio back through folio_free (or the older
 * page_free). false if it could not be (no op, or already handed back:
 * then the caller must not drop the folio's pgmap references again).
 */
static bool call_folio_free(struct zd_dev_pagemap *pgmap, struct zd_folio *folio)
{
	struct zd_system *sys = pgmap->sys;
	unsigned long old;

	if (!pgmap->ops || !(pgmap->ops->folio_free || pgmap->ops->page_free)) {
		_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "R3.4", &folio->page,
				"no folio_free for a %s folio", zd_memory_type_name((int)pgmap->type));
		return false;
	}
	old = zd_atomic_fetch_or_acq_rel(&folio->page.flags, ZD_PG_BIT(ZD_PG_dev_free));
	if (old & ZD_PG_BIT(ZD_PG_dev_free)) {
		_zd_report_page(sys, ZD_MISUSE_DOUBLE_FREE, "R3.10", &folio->page,
				"page_free of a folio the driver already has back");
		return false;
	}
	zd_atomic_fetch_add_relaxed(&pgmap->nr_folio_free, 1);
	zd_atomic_fetch_add_relaxed(&sys->st_device_frees, 1);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_PAGE_FREE, folio, 0);
	if (pgmap->ops->folio_free)
		pgmap->ops->folio_free(folio);
	else
		pgmap->ops->page_free(&folio->page);
	return true;
}

static void wake_fsdax(struct zd_dev_pagemap *pgmap, struct zd_folio *folio)
{
	struct zd_system *sys = pgmap->sys;

	zd_atomic_fetch_add_relaxed(&pgmap->nr_wakeups, 1);
	zd_atomic_fetch_add_relaxed(&sys->st_fsdax_wakeups, 1);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_FSDAX_WAKE, folio, 0);
	zd_wake_up_var(sys->waits, folio);
}

/* free_zone_device_folio(): the 1 -> 0 transition of the 0-based scheme (§3.4). */
void _zd_free_zone_device_folio(struct zd_folio *folio)
{
	struct zd_dev_pagemap *pgmap = folio->page.pgmap;
	unsigned long nr = zd_folio_nr_pages(folio);
	struct zd_system *sys;

	if (!pgmap) {
		_zd_report_page(zd_page_system(&folio->page), ZD_MISUSE_BAD_STATE, "R3.4",
				&folio->page, "device folio without a pgmap freed");
		return;
	}
	sys = pgmap->sys;
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_DEVICE_FREE, folio, 0);
	/* __ClearPageAnonExclusive(): the folio is free, nobody else writes its flags. */
	for (unsigned long i = 0; i < nr; i++)
		_zd_page_clear_flag_nonatomic(zd_folio_page(folio, i), ZD_PG_anon_exclusive);
	/* R3.7: a stale anon mapping would fool the next rmap (B1); fs-dax and dax keep theirs. */
	if (pgmap->type != ZD_MEMORY_DEVICE_FS_DAX && pgmap->type != ZD_MEMORY_DEVICE_GENERIC)
		folio->page.mapping = NULL;

	switch (pgmap->type) {
	case ZD_MEMORY_DEVICE_PRIVATE:
	case ZD_MEMORY_DEVICE_COHERENT:
		/* R3.8: the pgmap references go only after the driver is done. */
		if (call_folio_free(pgmap, folio))
			_zd_pgmap_put_refs(pgmap, (long)nr);
		break;
	case ZD_MEMORY_DEVICE_PCI_P2PDMA:
		/* The provider returns the chunk and drops its pgmap reference itself. */
		call_folio_free(pgmap, folio);
		break;
	case ZD_MEMORY_DEVICE_GENERIC:
		/* R11.4: never freed; the count goes back to its idle 1. */
		shadow_set(&folio->page, 1);
		zd_atomic_store_release(&folio->page._refcount, 1);
		zd_atomic_fetch_add_relaxed(&sys->st_generic_resets, 1);
		if (_zd_tracing(sys))
			_zd_emit(sys, ZD_EV_GENERIC_RESET, folio, 1);
		break;
	case ZD_MEMORY_DEVICE_FS_DAX:
		wake_fsdax(pgmap, folio);
		break;
	}
}

/* put_devmap_managed_page(): the legacy 1-based put (L3, L4). */
static void put_legacy(struct zd_dev_pagemap *pgmap, struct zd_folio *folio, int refs)
{
	struct zd_system *sys = pgmap->sys;
	int old = zd_atomic_fetch_sub_acq_rel(&folio->page._refcount, refs);
	int now = old - refs;

	if (_zd_tracing(sys))
		_zd_emit_ref(sys, ZD_EV_PUT, folio, -refs, now);

	if (now < 0 || (now == 0 && !pgmap_dying(pgmap))) {
		zd_atomic_fetch_add_relaxed(&folio->page._refcount, refs);
		if (_zd_check_full(sys))
			shadow_set(&folio->page, old);
		_zd_report_page(sys, ZD_MISUSE_PUT_FREE, "L9", &folio->page,
				"put of %d reference(s) on a folio with refcount %d "
				"(free is 1 in the legacy scheme)", refs, old);
		return;
	}
	if (now == 0) {
		/* Only teardown's put of the base reference gets here (L1). */
		_zd_pgmap_put_refs(pgmap, 1);
		return;
	}
	if (now != 1 || !pgmap->managed || !zd_atomic_load_relaxed(&sys->devmap_managed_key))
		return;
	/* The 2 -> 1 transition: the page is free again. */
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_DEVICE_FREE, folio, 0);
	if (pgmap->type == ZD_MEMORY_DEVICE_FS_DAX) {
		wake_fsdax(pgmap, folio);
		return;
	}
	folio->page.mapping = NULL;
	/* Free at 1: only the driver's next init writes its flags again. */
	_zd_page_clear_flag_nonatomic(&folio->page, ZD_PG_anon_exclusive);
	call_folio_free(pgmap, folio);
}

/*
 * FS_DAX and GENERIC folios hold no pgmap reference of their own while in
 * use, and their owner may tear the pgmap down as soon as it sees the
 * folio idle: a put holds a transient reference across its free path so
 * that memunmap_pages cannot free the memmap under it (the kernel relies
 * on the file system or dax driver being long gone instead).
 */
static bool put_needs_transient_ref(const struct zd_dev_pagemap *pgmap)
{
	return pgmap->type == ZD_MEMORY_DEVICE_FS_DAX || pgmap->type == ZD_MEMORY_DEVICE_GENERIC;
}

/*
 * A put on a page whose pgmap was torn down under it (R1.13): Linux would
 * touch freed memory; the model reports it and drops the reference, no
 * further (no free path, no pgmap reference).
 */
static void put_gone(struct zd_dev_pagemap *ghost, struct zd_folio *folio, int refs)
{
	int old = zd_atomic_load_relaxed(&folio->page._refcount);

	_zd_report_page(ghost->sys, ZD_MISUSE_HAZARD, "R1.13", &folio->page,
			"put of %d reference(s) on a page whose pgmap is gone (a use after free "
			"in Linux)", refs);
	do {
		if (old <= refs) {
			if (_zd_check_full(ghost->sys))
				shadow_set(&folio->page, old);
			return;	/* never to 0: nothing is left to free it to */
		}
	} while (!zd_atomic_cmpxchg_relaxed(&folio->page._refcount, &old, old - refs));
}

void _zd_put_zone_device(struct zd_folio *folio, int refs)
{
	struct zd_dev_pagemap *pgmap = folio->page.pgmap;
	bool transient;
	int old;

	if (zd_unlikely(pgmap->gone)) {
		put_gone(pgmap, folio, refs);
		return;
	}
	transient = put_needs_transient_ref(pgmap);

	if (transient)
		zd_atomic_fetch_add_relaxed(&pgmap->ref, 1);
	if (legacy(pgmap)) {
		put_legacy(pgmap, folio, refs);
	} else {
		/* Release pairs with the acquire in _zd_folio_put_last(). */
		old = zd_atomic_fetch_sub_release(&folio->page._refcount, refs);
		if (_zd_tracing(pgmap->sys))
			_zd_emit_ref(pgmap->sys, ZD_EV_PUT, folio, -refs, old - refs);
		if (old <= refs) {
			if (old < refs && _zd_check_full(pgmap->sys))
				shadow_set(&folio->page, old);
			_zd_folio_put_last(folio, refs, old);
		}
	}
	if (transient)
		_zd_pgmap_put_refs(pgmap, 1);
}

/* ---- idle waits ---- */

struct idle_arg {
	int idle;
};

static bool folio_at(const void *var, void *arg)
{
	const struct zd_folio *folio = var;

	return zd_atomic_load_acquire(&((struct zd_folio *)folio)->page._refcount) ==
	       ((struct idle_arg *)arg)->idle;
}

int zd_wait_folio_refcount(struct zd_folio *folio, int count, uint64_t timeout_ns)
{
	struct idle_arg arg = { .idle = count };

	return zd_wait_var_event(zd_page_system(&folio->page)->waits, folio, folio_at, &arg,
				 timeout_ns);
}

int zd_wait_fsdax_idle(struct zd_folio *folio, uint64_t timeout_ns)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);

	if (!pgmap || pgmap->type != ZD_MEMORY_DEVICE_FS_DAX)
		return -EINVAL;
	return zd_wait_folio_refcount(folio, zd_pgmap_free_refcount(pgmap), timeout_ns);
}
