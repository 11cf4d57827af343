// SPDX-License-Identifier: MIT
/*
 * src/mm/pgtable.c - page-table pages: allocation, lookup, freeing, and
 * the PTE tables deposited with PMD leaves.
 *
 * Models mm/pgtable-generic.c (pgtable_trans_huge_deposit/withdraw), the
 * p?d_offset lookups and the p?d_alloc/__pte_alloc helpers of
 * include/linux/pgtable.h and mm/memory.c, follow_pte (zd_follow_entry)
 * and free_pgtables(); a table unlinked from its parent is freed only
 * after a grace period (pgtable_rcu.c), so a lockless walker (GUP-fast)
 * that read the parent entry earlier never touches freed memory. There is
 * no TLB: the CPU access path reads the page table on every access. It
 * calls no fault-handler or THP code: splitting leaves is huge_memory.c's,
 * walking a range is pagewalk.c's.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static struct zd_pgtable *pgtable_alloc(struct zd_mm *mm, enum zd_pt_level level)
{
	struct zd_pgtable *t;
	struct zd_ptdesc *d;

	if (_zd_should_fail(mm->sys, ZD_FAULT_PGTABLE_ALLOC))
		return NULL;
	t = _zd_pagetable_alloc(mm->sys);
	if (!t)
		return NULL;
	for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++)
		zd_atomic_init(&t->ent[i], (zd_pte_t)0);
	d = _zd_pgtable_desc(t);
	zd_spin_lock_init(&d->ptl);
	d->pt_level = level;
	d->pt_deposit_next = NULL;
	zd_atomic_fetch_add_relaxed(&mm->nr_pgtables, 1);
	return t;
}

static void pgtable_free_now(struct zd_pgtable *t)
{
	zd_spin_lock_destroy(&_zd_pgtable_desc(t)->ptl);
	_zd_pagetable_free(t);
}

int _zd_pgd_alloc(struct zd_mm *mm)
{
	mm->pgd = pgtable_alloc(mm, ZD_LVL_PGD);
	return mm->pgd ? 0 : -ENOMEM;
}

/*
 * __pud_alloc() / __pmd_alloc() / __pte_alloc(): give the empty upper
 * entry @slot a new table of @level, unless somebody installs one first.
 * Returns the entry @slot holds afterwards, 0 if no table could be had.
 */
static zd_pte_t __pxx_alloc(struct zd_mm *mm, _Atomic zd_pte_t *slot, enum zd_pt_level level)
{
	struct zd_pgtable *n = pgtable_alloc(mm, level);
	zd_pte_t e;

	if (!n)
		return 0;
	zd_spin_lock(&mm->page_table_lock);
	e = _zd_read_entry(slot);
	if (zd_pte_none(e)) {
		/* Release: the zeroed table is visible before its pointer. */
		e = (zd_pte_t)(uintptr_t)n | ZD_PTE_PRESENT;
		_zd_set_entry(slot, e);
		n = NULL;
	}
	zd_spin_unlock(&mm->page_table_lock);
	if (n) {	/* somebody else installed one */
		zd_atomic_fetch_sub_relaxed(&mm->nr_pgtables, 1);
		pgtable_free_now(n);
	}
	return e;
}

_Atomic zd_pte_t *_zd_pxx_alloc_below(struct zd_mm *mm, _Atomic zd_pte_t *upper,
				      unsigned long addr, enum zd_pt_level lvl)
{
	zd_pte_t e = _zd_read_entry(upper);

	if (zd_pte_none(e))
		e = __pxx_alloc(mm, upper, lvl);
	if (!(e & ZD_PTE_PRESENT) || (e & ZD_PTE_HUGE))
		return NULL;
	return &_zd_entry_table(e)->ent[_zd_level_index(addr, lvl)];
}

_Atomic zd_pte_t *_zd_pxx_alloc(struct zd_mm *mm, unsigned long addr, enum zd_pt_level lvl)
{
	_Atomic zd_pte_t *slot = &mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)];

	for (enum zd_pt_level l = ZD_LVL_PGD - 1; slot && l >= lvl; l--)
		slot = _zd_pxx_alloc_below(mm, slot, addr, l);
	return slot;
}

_Atomic zd_pte_t *_zd_pxx_offset(struct zd_mm *mm, unsigned long addr, enum zd_pt_level lvl)
{
	struct zd_pgtable *t = mm->pgd;

	for (enum zd_pt_level l = ZD_LVL_PGD; l > lvl; l--) {
		zd_pte_t e = _zd_read_entry(&t->ent[_zd_level_index(addr, l)]);

		/* Empty, a huge leaf or a non-present entry: no table below. */
		if (!(e & ZD_PTE_PRESENT) || (e & ZD_PTE_HUGE))
			return NULL;
		t = _zd_entry_table(e);
	}
	return &t->ent[_zd_level_index(addr, lvl)];
}

int zd_follow_entry(struct zd_mm *mm, unsigned long addr, zd_pte_t *entry, int *level)
{
	struct zd_pgtable *t;
	int ret = 0;

	/* Nothing is mapped above the task size; the table index would alias a lower address. */
	if (addr >= ZD_TASK_SIZE) {
		*entry = 0;
		*level = 0;
		return 0;
	}
	zd_rcu_read_lock();
	t = mm->pgd;
	for (enum zd_pt_level l = ZD_LVL_PGD; l >= ZD_LVL_PTE; l--) {
		zd_pte_t e = _zd_read_entry(&t->ent[_zd_level_index(addr, l)]);

		if (zd_pte_none(e))
			break;
		if (l == ZD_LVL_PTE || (e & ZD_PTE_HUGE) || !(e & ZD_PTE_PRESENT)) {
			*entry = e;
			*level = (int)l;
			ret = 1;
			break;
		}
		t = _zd_entry_table(e);
	}
	zd_rcu_read_unlock();
	if (!ret) {
		*entry = 0;
		*level = 0;
	}
	return ret;
}

/* ---- freeing ---- */

static void free_table_tree(struct zd_pgtable *t)
{
	if (_zd_pgtable_level(t) > ZD_LVL_PTE) {
		for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++) {
			zd_pte_t e = zd_atomic_load_relaxed(&t->ent[i]);

			if ((e & ZD_PTE_PRESENT) && !(e & ZD_PTE_HUGE))
				free_table_tree(_zd_entry_table(e));
		}
	}
	pgtable_free_now(t);
}

void _zd_free_all_pgtables(struct zd_mm *mm)
{
	/* exit_mmap: the mm is unreachable, but a GUP-fast walker may still be in it. */
	zd_synchronize_rcu();
	if (mm->pgd)
		free_table_tree(mm->pgd);
	/* Zapping every leaf freed its deposit; any left is freed, not leaked. */
	while (mm->pmd_huge_pte) {
		struct zd_pgtable *t = mm->pmd_huge_pte;

		mm->pmd_huge_pte = _zd_pgtable_desc(t)->pt_deposit_next;
		pgtable_free_now(t);
	}
	mm->nr_deposited = 0;
	mm->pgd = NULL;
	zd_atomic_store_relaxed(&mm->nr_pgtables, 0);
}

static bool table_empty(struct zd_pgtable *t)
{
	for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++)
		if (zd_atomic_load_relaxed(&t->ent[i]))
			return false;
	return true;
}

/* Does any VMA meet [start, end)? Context: mmap_lock held. */
static bool span_has_vma(struct zd_mm *mm, unsigned long start, unsigned long end)
{
	struct zd_vm_area_struct *vma = zd_find_vma(mm, start);

	return vma && vma->vm_start < end;
}

/*
 * Free the empty tables below @t whose span lies in [start, end) and meets
 * no VMA; returns true if @t itself is empty now.
 */
static bool free_level(struct zd_mm *mm, struct zd_pgtable *t, unsigned long base,
		       unsigned long start, unsigned long end)
{
	unsigned long span = 1ul << (12 + 9 * (_zd_pgtable_level(t) - 1));

	for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++) {
		unsigned long lo = base + i * span, hi = lo + span;
		zd_pte_t e = zd_atomic_load_relaxed(&t->ent[i]);
		struct zd_pgtable *child;

		if (hi <= start || lo >= end || !(e & ZD_PTE_PRESENT) || (e & ZD_PTE_HUGE))
			continue;
		child = _zd_entry_table(e);
		if (_zd_pgtable_level(child) > ZD_LVL_PTE && !free_level(mm, child, lo, start, end))
			continue;
		if (!table_empty(child) || span_has_vma(mm, lo, hi))
			continue;
		zd_spin_lock(&mm->page_table_lock);
		_zd_set_entry(&t->ent[i], 0);
		zd_spin_unlock(&mm->page_table_lock);
		_zd_pgtable_free_deferred(mm, child);
	}
	return table_empty(t);
}

void _zd_free_pgtables(struct zd_mm *mm, unsigned long start, unsigned long end)
{
	if (start < end)
		free_level(mm, mm->pgd, 0, start, end);
}

/* ---- the PTE table deposited with an anonymous PMD leaf ---- */

struct zd_pgtable *_zd_pte_alloc_one(struct zd_mm *mm)
{
	return pgtable_alloc(mm, ZD_LVL_PTE);
}

void _zd_pte_free(struct zd_mm *mm, struct zd_pgtable *t)
{
	zd_atomic_fetch_sub_relaxed(&mm->nr_pgtables, 1);
	pgtable_free_now(t);
}

void _zd_pgtable_trans_huge_deposit(struct zd_mm *mm, struct zd_pgtable *t)
{
	_zd_pgtable_desc(t)->pt_deposit_next = mm->pmd_huge_pte;
	mm->pmd_huge_pte = t;
	mm->nr_deposited++;
}

struct zd_pgtable *_zd_pgtable_trans_huge_withdraw(struct zd_mm *mm)
{
	struct zd_pgtable *t = mm->pmd_huge_pte;

	/* Every anonymous PMD leaf has one: the caller checked it has a leaf. */
	mm->pmd_huge_pte = _zd_pgtable_desc(t)->pt_deposit_next;
	_zd_pgtable_desc(t)->pt_deposit_next = NULL;
	mm->nr_deposited--;
	return t;
}

void _zd_zap_deposited_table(struct zd_mm *mm)
{
	/* Never reachable from the page table: no grace period needed. */
	_zd_pte_free(mm, _zd_pgtable_trans_huge_withdraw(mm));
}
