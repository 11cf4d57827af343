// SPDX-License-Identifier: MIT
/*
 * src/core/folio.c - folio refcounts, the free path and the folio lock.
 *
 * Models include/linux/page_ref.h and mm/swap.c (__folio_put,
 * folios_put_refs) and the folio lock of mm/filemap.c. The inline halves
 * are in include/zonedev/page.h; here are the out-of-line ones: the last
 * put, misuse, and the slow path taken by ZONE_DEVICE folios and by RAM
 * folios while tracing or full checking is on.
 */
#include <stdio.h>

#include "internal.h"

static void shadow_add(struct zd_folio *folio, int delta)
{
	_Atomic int *s = _zd_shadow_slot(&folio->page);

	if (s)
		zd_atomic_fetch_add_relaxed(s, delta);
}

void _zd_folio_get_bad(struct zd_folio *folio, int old)
{
	_zd_report_page(zd_page_system(&folio->page), ZD_MISUSE_GET_FREE, "R12.17", &folio->page,
			"folio_get on a folio with refcount %d (use a try-get)", old);
}

/* A put took the count from @old to old - refs <= 0. */
void _zd_folio_put_last(struct zd_folio *folio, int refs, int old)
{
	struct zd_system *sys = zd_page_system(&folio->page);

	if (zd_unlikely(old < refs)) {
		/* Undo so the folio stays recognisably free, then report. */
		zd_atomic_fetch_add_relaxed(&folio->page._refcount, refs);
		_zd_report_page(sys, ZD_MISUSE_PUT_FREE, "R12.1", &folio->page,
				"put of %d reference(s) on a folio with refcount %d", refs, old);
		return;
	}
	/*
	 * Acquire pairs with every putter's release fetch_sub, so all their
	 * accesses to the folio happen before it is freed (a load, not a
	 * fence, so TSan sees it).
	 */
	(void)zd_atomic_load_acquire(&folio->page._refcount);
	if (zd_folio_is_zone_device(folio))
		_zd_free_zone_device_folio(folio);
	else
		_zd_free_ram_folio(sys, folio);
}

void _zd_folio_get_slow(struct zd_folio *folio, int refs)
{
	struct zd_system *sys;
	int old = zd_atomic_fetch_add_relaxed(&folio->page._refcount, refs);

	if (zd_unlikely(old <= 0))
		_zd_folio_get_bad(folio, old);
	sys = zd_page_system(&folio->page);
	if (_zd_check_full(sys))
		shadow_add(folio, refs);
	if (_zd_tracing(sys))
		_zd_emit_ref(sys, ZD_EV_GET, folio, refs, old + refs);
}

bool _zd_folio_try_get_slow(struct zd_folio *folio, int refs)
{
	struct zd_system *sys;
	int c = zd_atomic_load_relaxed(&folio->page._refcount);

	do {
		if (c <= 0)
			return false;
	} while (!zd_atomic_cmpxchg_acquire(&folio->page._refcount, &c, c + refs));
	sys = zd_page_system(&folio->page);
	if (_zd_check_full(sys))
		shadow_add(folio, refs);
	if (_zd_tracing(sys))
		_zd_emit_ref(sys, ZD_EV_GET, folio, refs, c + refs);
	return true;
}

void _zd_folio_put_slow(struct zd_folio *folio, int refs)
{
	struct zd_system *sys = zd_page_system(&folio->page);
	int old;

	if (_zd_check_full(sys))
		shadow_add(folio, -refs);
	if (zd_folio_is_zone_device(folio)) {
		_zd_put_zone_device(folio, refs);
		return;
	}
	old = zd_atomic_fetch_sub_release(&folio->page._refcount, refs);
	if (_zd_tracing(sys))
		_zd_emit_ref(sys, ZD_EV_PUT, folio, -refs, old - refs);
	if (zd_unlikely(old <= refs)) {
		if (old < refs && _zd_check_full(sys))
			shadow_add(folio, refs);	/* the put is undone */
		_zd_folio_put_last(folio, refs, old);
	}
}

void zd_folios_put_refs(struct zd_folio **folios, const int *refs, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		if (folios[i])
			zd_folio_put_refs(folios[i], refs ? refs[i] : 1);
	}
}

/* ---- folio lock ---- */

bool zd_folio_trylock(struct zd_folio *folio)
{
	unsigned long old = zd_atomic_fetch_or_acq_rel(&folio->page.flags, ZD_PG_BIT(ZD_PG_locked));

	return !(old & ZD_PG_BIT(ZD_PG_locked));
}

/*
 * The sleep condition, evaluated under the wait bucket's lock each time
 * the sleeper would go (back) to sleep: it sets PG_waiters and tests the
 * lock bit in one RMW. The unlocker clears both bits in one RMW and wakes
 * only if PG_waiters was set; both hit the same word, so either the
 * unlocker sees the bit or the sleeper sees the folio unlocked. Setting
 * it on every re-check matters: an unlock in between cleared it.
 */
static bool folio_unlocked(const void *var, void *arg)
{
	unsigned long old;

	(void)arg;
	old = zd_atomic_fetch_or_acq_rel((_Atomic unsigned long *)var, ZD_PG_BIT(ZD_PG_waiters));
	return !(old & ZD_PG_BIT(ZD_PG_locked));
}

void zd_folio_lock(struct zd_folio *folio)
{
	struct zd_system *sys = zd_page_system(&folio->page);

	while (!zd_folio_trylock(folio))
		zd_wait_var_event(sys->waits, &folio->page.flags, folio_unlocked, NULL, 0);
}

struct migration_wait {
	struct zd_spinlock *ptl;	/* NULL once dropped */
};

/*
 * First call: under the wait bucket's lock, so queued as far as a waker
 * is concerned: mark the waiter, drop the entry's lock, and sleep only if
 * the folio is locked. Any later call is a wake-up: return without
 * touching the folio, which may be freed by now.
 */
static bool migration_waited(const void *var, void *arg)
{
	struct migration_wait *w = arg;

	if (!w->ptl)
		return true;
	zd_spin_unlock(w->ptl);
	w->ptl = NULL;
	return folio_unlocked(var, NULL);
}

void _zd_migration_entry_wait_on_locked(struct zd_folio *folio, struct zd_spinlock *ptl)
{
	struct migration_wait w = { .ptl = ptl };

	zd_wait_var_event(zd_page_system(&folio->page)->waits, &folio->page.flags,
			  migration_waited, &w, 0);
}

void zd_folio_unlock(struct zd_folio *folio)
{
	/* Release pairs with the acquire of the next locker. */
	unsigned long old = zd_atomic_fetch_and_acq_rel(&folio->page.flags,
			~(ZD_PG_BIT(ZD_PG_locked) | ZD_PG_BIT(ZD_PG_waiters)));

	if (old & ZD_PG_BIT(ZD_PG_waiters))
		zd_wake_up_var(zd_page_system(&folio->page)->waits, &folio->page.flags);
}
