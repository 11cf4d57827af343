// SPDX-License-Identifier: MIT
/*
 * src/hmm/hmm.c - hmm_range_fault: a snapshot of a CPU page table for a
 * device, faulting in what the device asked for.
 *
 * Models mm/hmm.c of the 6.17-6.19 era (semantics §7.1-§7.3, R7.1-R7.5):
 * the walk of hmm_walk_ops (test_walk, pud_entry, pmd_entry, pte_hole),
 * hmm_pte_need_fault / hmm_range_need_fault, hmm_vma_fault with its
 * restart at the faulting address, the sticky DMA bits. The kernel's
 * walk_page_range is replaced by a walk of our own over the VMAs and the
 * four table levels, with the same callbacks in the same order. The
 * model has no hugetlb and no swap: its swap-like entries are the
 * device-private, device-exclusive and migration ones.
 */
#include <zonedev/hmm.h>

#include "mm/internal.h"

struct hmm_walk {
	struct zd_hmm_range *range;
	struct zd_vm_area_struct *vma;	/* NULL in a hole between VMAs */
	unsigned long last;		/* where the next pass starts */
};

/* What a page needs (HMM_NEED_*). */
enum {
	NEED_FAULT = 1u << 0,
	NEED_WRITE_FAULT = 1u << 1,
	NEED_ALL = NEED_FAULT | NEED_WRITE_FAULT,
	/* handle_pte only: a migration entry to wait for */
	NEED_MIGRATION_WAIT = 1u << 2,
};

static unsigned long *hmm_word(struct hmm_walk *w, unsigned long addr)
{
	return &w->range->hmm_pfns[(addr - w->range->start) >> ZD_PAGE_SHIFT];
}

/* An output word: the sticky bits of the input, then the result. */
static void set_output(unsigned long *word, unsigned long out)
{
	*word = (*word & ZD_HMM_PFN_INOUT_FLAGS) | out;
}

/* hmm_pfns_fill(): the same result for every page of [addr, end). */
static int fill(struct hmm_walk *w, unsigned long addr, unsigned long end, unsigned long out)
{
	for (; addr < end; addr += ZD_PAGE_SIZE)
		set_output(hmm_word(w, addr), out);
	return 0;
}

/*
 * hmm_pte_need_fault() (R7.1): the page's request is its input word under
 * the mask, plus the range's defaults. A request without REQ_FAULT needs
 * nothing; REQ_WRITE against a CPU entry that is not writable needs a
 * write fault; an entry that is not valid needs a read fault.
 */
static unsigned int pte_need_fault(const struct zd_hmm_range *range, unsigned long req,
				   unsigned long cpu_flags)
{
	req = (req & range->pfn_flags_mask) | range->default_flags;
	if (!(req & ZD_HMM_PFN_REQ_FAULT))
		return 0;
	if ((req & ZD_HMM_PFN_REQ_WRITE) && !(cpu_flags & ZD_HMM_PFN_WRITE))
		return NEED_FAULT | NEED_WRITE_FAULT;
	if (!(cpu_flags & ZD_HMM_PFN_VALID))
		return NEED_FAULT;
	return 0;
}

/* hmm_range_need_fault(): the union over [addr, end) for one CPU state. */
static unsigned int range_need_fault(struct hmm_walk *w, unsigned long addr, unsigned long end,
				     unsigned long cpu_flags)
{
	const struct zd_hmm_range *range = w->range;
	unsigned int need = 0;

	/* Neither the defaults nor any input word can ask for a fault. */
	if (!((range->default_flags | range->pfn_flags_mask) & ZD_HMM_PFN_REQ_FAULT))
		return 0;
	for (; addr < end; addr += ZD_PAGE_SIZE) {
		need |= pte_need_fault(range, *hmm_word(w, addr), cpu_flags);
		if (need == NEED_ALL)
			break;
	}
	return need;
}

/*
 * hmm_vma_fault(): fault every page of [addr, end) (a write fault if any
 * page needs one), then make the walk start again at @addr (R7.4): what
 * lies below holds its output, the rest still its input. A write needs
 * VM_WRITE (-EPERM); a failed fault is -EFAULT.
 */
static int hmm_fault(struct hmm_walk *w, unsigned long addr, unsigned long end,
		     unsigned int need)
{
	struct zd_vm_area_struct *vma = w->vma;
	unsigned int fault_flags = ZD_FAULT_FLAG_REMOTE;

	w->last = addr;
	if (need & NEED_WRITE_FAULT) {
		if (!(vma->vm_flags & ZD_VM_WRITE))
			return -EPERM;
		fault_flags |= ZD_FAULT_FLAG_WRITE;
	}
	for (; addr < end; addr += ZD_PAGE_SIZE)
		if (zd_handle_mm_fault(vma, addr, fault_flags) & ZD_VM_FAULT_ERROR)
			return -EFAULT;
	return -EBUSY;
}

/*
 * hmm_vma_walk_hole(): nothing mapped. Outside any VMA every page is an
 * ERROR, or -EFAULT if one is to be faulted; inside a VMA a hole reads 0
 * unless a fault is requested.
 */
static int walk_hole(struct hmm_walk *w, unsigned long addr, unsigned long end)
{
	unsigned int need = range_need_fault(w, addr, end, 0);

	if (!w->vma)
		return need ? -EFAULT : fill(w, addr, end, ZD_HMM_PFN_ERROR);
	if (need)
		return hmm_fault(w, addr, end, need);
	return fill(w, addr, end, 0);
}

static unsigned long order_flags(unsigned int order)
{
	return (unsigned long)order << ZD_HMM_PFN_ORDER_SHIFT;
}

/*
 * pmd_to_hmm_pfn_flags() / pud_to_hmm_pfn_flags(): a present leaf is
 * VALID (+WRITE) with the leaf's order; PROT_NONE is nothing.
 */
static unsigned long leaf_cpu_flags(zd_pte_t e, unsigned int order)
{
	if (zd_pte_protnone(e))
		return 0;
	return (zd_pte_write(e) ? ZD_HMM_PFN_VALID | ZD_HMM_PFN_WRITE : ZD_HMM_PFN_VALID) |
	       order_flags(order);
}

/* Every subpage of [addr, end) of a leaf mapping @e of @size bytes. */
static void fill_leaf(struct hmm_walk *w, unsigned long addr, unsigned long end, zd_pte_t e,
		      unsigned long size, unsigned long cpu_flags)
{
	unsigned long pfn = zd_pte_pfn(e) + ((addr & (size - 1)) >> ZD_PAGE_SHIFT);

	for (; addr < end; addr += ZD_PAGE_SIZE, pfn++)
		set_output(hmm_word(w, addr), pfn | cpu_flags);
}

/* hmm_vma_handle_pmd(): a present PMD leaf, order 9 (x86). */
static int handle_pmd_leaf(struct hmm_walk *w, unsigned long addr, unsigned long end, zd_pte_t e)
{
	unsigned long cpu_flags = leaf_cpu_flags(e, ZD_PMD_ORDER);
	unsigned int need = range_need_fault(w, addr, end, cpu_flags);

	if (need)
		return hmm_fault(w, addr, end, need);
	fill_leaf(w, addr, end, e, ZD_PMD_SIZE, cpu_flags);
	return 0;
}

static bool own_device_private(const struct hmm_walk *w, zd_pte_t e)
{
	struct zd_page *page;

	if (!zd_is_device_private_entry(e))
		return false;
	page = zd_pfn_to_page(w->vma->vm_mm->sys, zd_swp_offset(e));
	return page && zd_page_pgmap(page)->owner == w->range->dev_private_owner;
}

/*
 * hmm_vma_handle_absent_pmd(): a non-present PMD that is not a migration
 * entry. A device-private THP of the caller is reported with the PMD
 * order, every subpage filled; another owner's is faulted if requested;
 * anything else is ERROR, or -EFAULT if requested. (The model creates no
 * PMD-level device-private entry yet: this is the kernel's rule, kept.)
 */
static int handle_absent_pmd(struct hmm_walk *w, unsigned long addr, unsigned long end,
			     zd_pte_t e)
{
	unsigned int need;

	if (own_device_private(w, e)) {
		unsigned long cpu_flags = ZD_HMM_PFN_VALID | order_flags(ZD_PMD_ORDER);

		if (zd_is_writable_device_private_entry(e))
			cpu_flags |= ZD_HMM_PFN_WRITE;
		fill_leaf(w, addr, end, e, ZD_PMD_SIZE, cpu_flags);
		return 0;
	}
	need = range_need_fault(w, addr, end, 0);
	if (need)
		return zd_is_device_private_entry(e) ? hmm_fault(w, addr, end, need) : -EFAULT;
	return fill(w, addr, end, ZD_HMM_PFN_ERROR);
}

/*
 * migration_entry_wait() / pmd_migration_entry_wait(), with @ptl (the
 * lock of @slot) held: if @slot still holds a migration entry, sleep until
 * the migrating thread unlocks its folio, taking no reference. Returns
 * with @ptl dropped.
 */
static void migration_entry_wait_locked(struct zd_mm *mm, _Atomic zd_pte_t *slot,
					struct zd_spinlock *ptl)
{
	zd_pte_t e = _zd_read_entry(slot);
	struct zd_page *page = zd_is_migration_entry(e) ?
			       zd_pfn_to_page(mm->sys, zd_swp_offset(e)) : NULL;

	if (page)
		_zd_migration_entry_wait_on_locked(zd_page_folio(page), ptl);
	else
		zd_spin_unlock(ptl);
}

/*
 * pte_to_hmm_pfn_flags(): a present, accessible PTE is VALID (+WRITE);
 * none, non-present and PROT_NONE entries are nothing.
 */
static unsigned long pte_cpu_flags(zd_pte_t e)
{
	if (!zd_pte_present(e) || zd_pte_protnone(e))
		return 0;
	return zd_pte_write(e) ? ZD_HMM_PFN_VALID | ZD_HMM_PFN_WRITE : ZD_HMM_PFN_VALID;
}

/*
 * hmm_vma_handle_pte(): one PTE value @e at @addr. Writes the output and
 * returns 0, or returns what the caller must do with the table unmapped:
 * NEED_* bits (fault from @addr on), NEED_MIGRATION_WAIT, or -EFAULT
 * (an entry that cannot be faulted, or a requested page without a struct
 * page). Context: RCU read side (the PTE table is mapped).
 */
static int handle_pte(struct hmm_walk *w, unsigned long addr, zd_pte_t e)
{
	struct zd_mm *mm = w->vma->vm_mm;
	unsigned long *word = hmm_word(w, addr);
	unsigned long req = *word, cpu_flags;
	unsigned int need;

	if (zd_pte_none(e)) {
		need = pte_need_fault(w->range, req, 0);
		if (need)
			return (int)need;
		set_output(word, 0);
		return 0;
	}
	if (!zd_pte_present(e)) {
		/* R7.2: the caller's own device memory is reported, never faulted back. */
		if (own_device_private(w, e)) {
			cpu_flags = ZD_HMM_PFN_VALID;
			if (zd_is_writable_device_private_entry(e))
				cpu_flags |= ZD_HMM_PFN_WRITE;
			set_output(word, zd_swp_offset(e) | cpu_flags);
			return 0;
		}
		need = pte_need_fault(w->range, req, 0);
		if (!need) {
			set_output(word, 0);
			return 0;
		}
		/* R7.3: another owner's device memory comes back through migrate_to_ram. */
		if (zd_is_device_private_entry(e) || zd_is_device_exclusive_entry(e))
			return (int)need;
		if (zd_is_migration_entry(e))
			return NEED_MIGRATION_WAIT;
		return -EFAULT;	/* hwpoison, markers: nothing the model makes */
	}
	cpu_flags = pte_cpu_flags(e);
	need = pte_need_fault(w->range, req, cpu_flags);
	if (need)
		return (int)need;
	/*
	 * A pfn map without a struct page is an error; the zero page has one
	 * and is reported like any page.
	 */
	if (!zd_vm_normal_page(w->vma, addr, e) && zd_pte_pfn(e) != _zd_zero_pfn(mm)) {
		if (pte_need_fault(w->range, req, 0))
			return -EFAULT;
		set_output(word, ZD_HMM_PFN_ERROR);
		return 0;
	}
	set_output(word, zd_pte_pfn(e) | cpu_flags);
	return 0;
}

/* hmm_vma_walk_pmd(): the PMD entry at @pmdp covering [addr, end). */
static int walk_pmd(struct hmm_walk *w, _Atomic zd_pte_t *pmdp, unsigned long addr,
		    unsigned long end)
{
	struct zd_mm *mm = w->vma->vm_mm;
	struct zd_pgtable *t;
	zd_pte_t e;

again:
	e = _zd_read_entry(pmdp);
	if (zd_pte_none(e))
		return walk_hole(w, addr, end);
	if (zd_is_migration_entry(e)) {
		if (range_need_fault(w, addr, end, 0)) {
			w->last = addr;
			zd_spin_lock(_zd_huge_lockptr(mm));
			migration_entry_wait_locked(mm, pmdp, _zd_huge_lockptr(mm));
			return -EBUSY;
		}
		return fill(w, addr, end, 0);
	}
	if (!zd_pte_present(e))
		return handle_absent_pmd(w, addr, end, e);
	/*
	 * A leaf is read without the PMD lock, as in Linux: a split or zap
	 * racing with us invalidates the range, and the caller's
	 * read_retry catches it.
	 */
	if (zd_pte_huge(e))
		return handle_pmd_leaf(w, addr, end, e);

	/* pte_offset_map(): the table stays while the RCU read side is held. */
	zd_rcu_read_lock();
	if (_zd_read_entry(pmdp) != e) {
		zd_rcu_read_unlock();
		goto again;
	}
	t = _zd_entry_table(e);
	for (; addr < end; addr += ZD_PAGE_SIZE) {
		_Atomic zd_pte_t *ptep = &t->ent[_zd_level_index(addr, ZD_LVL_PTE)];
		int r = handle_pte(w, addr, _zd_read_entry(ptep));

		if (!r)
			continue;
		if (r == NEED_MIGRATION_WAIT) {
			/* pte_offset_map_lock(): the lock keeps the table once RCU is left. */
			struct zd_spinlock *ptl = _zd_pte_lockptr(ptep);

			w->last = addr;
			zd_spin_lock(ptl);
			zd_rcu_read_unlock();
			migration_entry_wait_locked(mm, ptep, ptl);
			return -EBUSY;
		}
		zd_rcu_read_unlock();
		/* Fault this page and every one after it in the table. */
		return r < 0 ? r : hmm_fault(w, addr, end, (unsigned int)r);
	}
	zd_rcu_read_unlock();
	return 0;
}

/*
 * hmm_vma_walk_pud(): a PUD leaf (device DAX, order 18) is reported under
 * the PUD lock, every subpage filled; a table below is walked.
 */
static int walk_pud(struct hmm_walk *w, _Atomic zd_pte_t *pudp, unsigned long addr,
		    unsigned long end)
{
	struct zd_mm *mm = w->vma->vm_mm;
	struct zd_spinlock *ptl = _zd_huge_lockptr(mm);
	unsigned long next, cpu_flags;
	struct zd_pgtable *t;
	unsigned int need;
	zd_pte_t e = _zd_read_entry(pudp);
	int ret;

	if (zd_pte_none(e))
		return walk_hole(w, addr, end);
	if (zd_pte_huge(e)) {
		zd_spin_lock(ptl);
		e = _zd_read_entry(pudp);
		if (!zd_pte_huge(e)) {
			zd_spin_unlock(ptl);	/* split meanwhile (removed): a hole now */
			return walk_hole(w, addr, end);
		}
		cpu_flags = leaf_cpu_flags(e, ZD_PUD_ORDER);
		need = range_need_fault(w, addr, end, cpu_flags);
		if (need) {
			zd_spin_unlock(ptl);
			return hmm_fault(w, addr, end, need);
		}
		fill_leaf(w, addr, end, e, ZD_PUD_SIZE, cpu_flags);
		zd_spin_unlock(ptl);
		return 0;
	}
	if (!(e & ZD_PTE_PRESENT))
		return walk_hole(w, addr, end);	/* no non-present PUD entries exist */
	t = _zd_entry_table(e);
	for (; addr < end; addr = next) {
		next = (addr | (ZD_PMD_SIZE - 1)) + 1;
		if (next > end || next < addr)
			next = end;
		ret = walk_pmd(w, &t->ent[_zd_level_index(addr, ZD_LVL_PMD)], addr, next);
		if (ret)
			return ret;
	}
	return 0;
}

/* The tables of [addr, end) inside w->vma, from the PGD down. */
static int walk_tables(struct hmm_walk *w, unsigned long addr, unsigned long end)
{
	struct zd_mm *mm = w->vma->vm_mm;
	unsigned long pgd_next, pud_next;
	int ret;

	for (; addr < end; addr = pgd_next) {
		zd_pte_t e = _zd_read_entry(&mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)]);
		struct zd_pgtable *t;

		pgd_next = (addr | ((1ul << ZD_PGD_SHIFT) - 1)) + 1;
		if (pgd_next > end || pgd_next < addr)
			pgd_next = end;
		if (!(e & ZD_PTE_PRESENT)) {
			ret = walk_hole(w, addr, pgd_next);
			if (ret)
				return ret;
			continue;
		}
		t = _zd_entry_table(e);
		for (unsigned long a = addr; a < pgd_next; a = pud_next) {
			pud_next = (a | (ZD_PUD_SIZE - 1)) + 1;
			if (pud_next > pgd_next || pud_next < a)
				pud_next = pgd_next;
			ret = walk_pud(w, &t->ent[_zd_level_index(a, ZD_LVL_PUD)], a, pud_next);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * hmm_vma_walk_test(): VMAs without struct pages (VM_IO, VM_PFNMAP) or
 * without VM_READ are not walked: -EFAULT if a page of them is to be
 * faulted, else every page ERROR and the walk goes on (1).
 */
static int test_walk(struct hmm_walk *w, unsigned long addr, unsigned long end)
{
	unsigned long flags = w->vma->vm_flags;

	if (!(flags & (ZD_VM_IO | ZD_VM_PFNMAP)) && (flags & ZD_VM_READ))
		return 0;
	if (range_need_fault(w, addr, end, 0))
		return -EFAULT;
	fill(w, addr, end, ZD_HMM_PFN_ERROR);
	return 1;
}

/* walk_page_range() with hmm_walk_ops: the VMAs and the holes between them. */
static int walk_range(struct hmm_walk *w, struct zd_mm *mm, unsigned long addr,
		      unsigned long end)
{
	int ret;

	while (addr < end) {
		struct zd_vm_area_struct *vma = zd_find_vma(mm, addr);
		unsigned long next;

		if (!vma || vma->vm_start >= end) {
			w->vma = NULL;
			return walk_hole(w, addr, end);
		}
		if (vma->vm_start > addr) {
			w->vma = NULL;
			ret = walk_hole(w, addr, vma->vm_start);
			if (ret)
				return ret;
			addr = vma->vm_start;
		}
		next = vma->vm_end < end ? vma->vm_end : end;
		w->vma = vma;
		ret = test_walk(w, addr, next);
		if (!ret)
			ret = walk_tables(w, addr, next);
		if (ret < 0)
			return ret;
		addr = next;
	}
	return 0;
}

int zd_hmm_range_fault(struct zd_hmm_range *range)
{
	struct hmm_walk w = { .range = range, .last = range->start };
	struct zd_mm *mm = range->notifier->mm;
	int ret;

	do {
		/* R7.5: an invalidation since read_begin: the caller starts over. */
		if (zd_mmu_interval_check_retry(range->notifier, range->notifier_seq))
			return -EBUSY;
		/*
		 * -EBUSY from the walk: a fault or a migration wait; w.last is
		 * the first page without its output.
		 */
		ret = walk_range(&w, mm, w.last, range->end);
	} while (ret == -EBUSY);
	return ret;
}
