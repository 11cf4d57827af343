// SPDX-License-Identifier: MIT
/*
 * src/mm/swap.c - a new folio mapped into a VMA goes on the LRU.
 *
 * Models folio_add_lru_vma() of mm/swap.c: a RAM folio just mapped in a
 * VM_LOCKED VMA is mlocked (mlock_new_folio, mlock.c), any other goes on
 * the LRU lists (folio_add_lru). The LRU lists themselves and
 * folio_add_lru are core (zd_folio_add_lru, src/core/lru.c): the free
 * path takes folios off them, below mm. ZONE_DEVICE folios never reach an
 * LRU list (semantics §5). No pagevec/folio batch: the folio is added at
 * once.
 */
#include "internal.h"

void _zd_folio_add_lru_vma(struct zd_folio *folio, struct zd_vm_area_struct *vma)
{
	if ((vma->vm_flags & ZD_VM_LOCKED) && _zd_mlock_new_folio(folio))
		return;
	if (!zd_folio_is_zone_device(folio) && !zd_folio_test_flag(folio, ZD_PG_lru))
		zd_folio_add_lru(folio);
}
