// SPDX-License-Identifier: MIT
/*
 * src/mm/pgtable_rcu.c - freeing a page-table page after a grace period.
 *
 * Models tlb_remove_table() of mm/mmu_gather.c and pte_free_defer() of
 * mm/pgtable-generic.c: a table already unlinked from its parent (by
 * free_pgtables or khugepaged's collapse) may still be walked by GUP-fast,
 * which reads entries under the RCU read side only, so it is freed after a
 * grace period (bug B4).
 */

#include "internal.h"

static void pgtable_free_rcu(struct zd_rcu_head *head)
{
	struct zd_ptdesc *d = zd_container_of(head, struct zd_ptdesc, pt_rcu_head);

	zd_spin_lock_destroy(&d->ptl);
	_zd_pagetable_free(_zd_ptdesc_address(d));
}

void _zd_pgtable_free_deferred(struct zd_mm *mm, struct zd_pgtable *t)
{
	zd_atomic_fetch_sub_relaxed(&mm->nr_pgtables, 1);
	zd_call_rcu(&_zd_pgtable_desc(t)->pt_rcu_head, pgtable_free_rcu);
}
