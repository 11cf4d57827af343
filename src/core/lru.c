// SPDX-License-Identifier: MIT
/*
 * src/core/lru.c - active and inactive LRU lists of RAM folios.
 *
 * Models mm/swap.c (folio_add_lru, the LRU removal in __folio_put) and
 * mm/vmscan.c (folio_isolate_lru, folio_putback_lru). One lruvec per
 * system under one lock; no per-cpu batches, so an add is visible at once.
 * ZONE_DEVICE folios never enter an LRU (R12.5).
 */
#include <errno.h>

#include "internal.h"

static enum zd_lru_list lru_of(struct zd_folio *folio)
{
	return zd_folio_test_flag(folio, ZD_PG_active) ? ZD_LRU_ACTIVE : ZD_LRU_INACTIVE;
}

int zd_folio_add_lru(struct zd_folio *folio)
{
	struct zd_system *sys = zd_page_system(&folio->page);
	enum zd_lru_list l;

	if (zd_folio_is_zone_device(folio)) {
		_zd_report_page(sys, ZD_MISUSE_DEVICE_ON_LRU, "R12.5", &folio->page,
				"folio_add_lru on a ZONE_DEVICE folio");
		return -EINVAL;
	}
	if (zd_folio_ref_count(folio) <= 0) {
		_zd_report_page(sys, ZD_MISUSE_BAD_STATE, "", &folio->page,
				"folio_add_lru on a free folio");
		return -EINVAL;
	}
	zd_spin_lock(&sys->lru_lock);
	if (zd_folio_test_flag(folio, ZD_PG_lru)) {
		zd_spin_unlock(&sys->lru_lock);
		return -EBUSY;
	}
	l = lru_of(folio);
	zd_list_add(&folio->page.lru, &sys->lru[l]);
	sys->lru_count[l]++;
	zd_page_set_flag(&folio->page, ZD_PG_lru);
	zd_spin_unlock(&sys->lru_lock);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_LRU_ADD, folio, 0);
	return 0;
}

bool zd_folio_isolate_lru(struct zd_folio *folio)
{
	struct zd_system *sys;
	enum zd_lru_list l;

	if (zd_folio_is_zone_device(folio) || !zd_folio_test_flag(folio, ZD_PG_lru))
		return false;
	sys = zd_page_system(&folio->page);
	zd_spin_lock(&sys->lru_lock);
	if (!zd_folio_test_flag(folio, ZD_PG_lru)) {
		zd_spin_unlock(&sys->lru_lock);
		return false;
	}
	/* The isolating caller holds a reference of its own while off the list. */
	zd_folio_get(folio);
	l = lru_of(folio);
	zd_list_del(&folio->page.lru);
	sys->lru_count[l]--;
	zd_page_clear_flag(&folio->page, ZD_PG_lru);
	zd_spin_unlock(&sys->lru_lock);
	if (_zd_tracing(sys))
		_zd_emit(sys, ZD_EV_ISOLATE, folio, 1);
	return true;
}

void zd_folio_putback_lru(struct zd_folio *folio)
{
	if (zd_folio_add_lru(folio) == 0 && _zd_tracing(zd_page_system(&folio->page)))
		_zd_emit(zd_page_system(&folio->page), ZD_EV_PUTBACK, folio, -1);
	zd_folio_put(folio);
}

/* Context: the folio's refcount is 0; nobody else can isolate it now. */
void _zd_lru_del_on_free(struct zd_system *sys, struct zd_folio *folio)
{
	zd_spin_lock(&sys->lru_lock);
	if (zd_folio_test_flag(folio, ZD_PG_lru)) {
		enum zd_lru_list l = lru_of(folio);

		zd_list_del(&folio->page.lru);
		sys->lru_count[l]--;
		/* __folio_clear_lru_flags(): nobody holds a reference to set flags. */
		_zd_page_clear_flag_nonatomic(&folio->page, ZD_PG_lru);
	}
	zd_spin_unlock(&sys->lru_lock);
}

unsigned long zd_lru_count(struct zd_system *sys, enum zd_lru_list lru)
{
	unsigned long n;

	zd_spin_lock(&sys->lru_lock);
	n = sys->lru_count[lru];
	zd_spin_unlock(&sys->lru_lock);
	return n;
}

/* folio_deactivate(): to the inactive list, if it is on an LRU at all. */
void _zd_folio_deactivate(struct zd_folio *folio)
{
	struct zd_system *sys;

	if (zd_folio_is_zone_device(folio) || !zd_folio_test_flag(folio, ZD_PG_lru))
		return;
	sys = zd_page_system(&folio->page);
	zd_spin_lock(&sys->lru_lock);
	if (zd_folio_test_flag(folio, ZD_PG_lru) && zd_folio_test_flag(folio, ZD_PG_active)) {
		zd_list_del(&folio->page.lru);
		sys->lru_count[ZD_LRU_ACTIVE]--;
		zd_page_clear_flag(&folio->page, ZD_PG_active);
		zd_list_add(&folio->page.lru, &sys->lru[ZD_LRU_INACTIVE]);
		sys->lru_count[ZD_LRU_INACTIVE]++;
	}
	zd_page_clear_flag(&folio->page, ZD_PG_referenced);
	zd_spin_unlock(&sys->lru_lock);
}
