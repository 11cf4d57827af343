// SPDX-License-Identifier: MIT
/*
 * src/mm/huge_zero.c - the huge zero folio.
 *
 * Models the huge zero folio of mm/huge_memory.c (get_huge_zero_folio,
 * mm_get_huge_zero_folio, mm_put_huge_zero_folio, is_huge_zero_pmd) and
 * its sysfs switch use_zero_page. An order-9 folio of zeros that a read
 * fault in a THP region maps read-only with a special PMD leaf: the
 * mapping takes no reference and no mapcount. Each mm that maps it holds
 * it once (MMF_HUGE_ZERO_FOLIO) until it exits.
 *
 * Where the model differs: Linux keeps the folio until its shrinker runs
 * with no mm holding it; the model frees it when the last holder exits,
 * so a quiescent machine with no mm has nothing allocated.
 */
#include "internal.h"

struct zd_folio *zd_huge_zero_folio(struct zd_system *sys)
{
	return zd_atomic_load_acquire(&sys->huge_zero_folio);
}

void zd_thp_set_use_zero_page(struct zd_system *sys, bool on)
{
	zd_atomic_store_relaxed(&sys->thp_no_zero_page, on ? 0 : 1);
}

bool zd_thp_use_zero_page(struct zd_system *sys)
{
	return !zd_atomic_load_relaxed(&sys->thp_no_zero_page);
}

struct zd_folio *_zd_mm_get_huge_zero_folio(struct zd_mm *mm)
{
	struct zd_system *sys = mm->sys;
	struct zd_folio *folio;

	/* Acquire: pairs with the release below; the folio is published first. */
	if (zd_atomic_load_acquire(&mm->huge_zero))
		return zd_atomic_load_acquire(&sys->huge_zero_folio);
	zd_spin_lock(&sys->huge_zero_lock);
	folio = zd_atomic_load_relaxed(&sys->huge_zero_folio);
	if (!zd_atomic_load_relaxed(&mm->huge_zero)) {
		if (!folio) {
			folio = zd_folio_alloc(sys, ZD_GFP_ZERO, ZD_PMD_ORDER);
			if (!folio) {
				zd_spin_unlock(&sys->huge_zero_lock);
				return NULL;
			}
			zd_atomic_store_release(&sys->huge_zero_folio, folio);
		}
		sys->huge_zero_users++;
		zd_atomic_store_release(&mm->huge_zero, 1);
	}
	zd_spin_unlock(&sys->huge_zero_lock);
	return folio;
}

void _zd_mm_put_huge_zero_folio(struct zd_mm *mm)
{
	struct zd_system *sys = mm->sys;
	struct zd_folio *folio = NULL;

	if (!zd_atomic_load_relaxed(&mm->huge_zero))
		return;
	zd_atomic_store_relaxed(&mm->huge_zero, 0);
	zd_spin_lock(&sys->huge_zero_lock);
	if (--sys->huge_zero_users == 0) {
		folio = zd_atomic_load_relaxed(&sys->huge_zero_folio);
		zd_atomic_store_release(&sys->huge_zero_folio, NULL);
	}
	zd_spin_unlock(&sys->huge_zero_lock);
	/* Its allocation reference; a GUP reference still held keeps it until put. */
	if (folio)
		zd_folio_put(folio);
}

bool _zd_is_huge_zero_folio(const struct zd_folio *folio)
{
	return folio == zd_huge_zero_folio(zd_page_system(&folio->page));
}

bool _zd_is_huge_zero_pmd(struct zd_mm *mm, zd_pte_t e)
{
	struct zd_folio *folio;

	if (!zd_pte_huge(e) || !zd_pte_special(e))
		return false;
	folio = zd_huge_zero_folio(mm->sys);
	return folio && zd_pte_pfn(e) == zd_folio_pfn(folio);
}
