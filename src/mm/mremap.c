// SPDX-License-Identifier: MIT
/*
 * src/mm/mremap.c - mremap(2).
 *
 * Models mm/mremap.c: shrinking (unmap the tail), growing in place
 * (vma_expand), and moving (move_vma: a new VMA with the same pgoff, so
 * rmap still finds every page, and move_page_tables: entries move as they
 * are, keeping their references and mapcounts; a PMD or PUD leaf moves
 * whole when both ends are aligned to it and is split otherwise: an
 * anonymous PMD leaf into PTEs, any other leaf removed, to refault at its
 * new place). MREMAP_FIXED and MREMAP_DONTUNMAP as in Linux.
 */
#include "internal.h"

int _zd_do_munmap(struct zd_mm *mm, unsigned long start, unsigned long len);

static unsigned long page_align(unsigned long len)
{
	return (len + ZD_PAGE_SIZE - 1) & ~(ZD_PAGE_SIZE - 1);
}

/*
 * move_huge_pmd() / move_huge_pud(): a huge leaf (or non-present PMD
 * entry) moves as it is, keeping its reference and mapcount; false if
 * the destination is not empty (a table left there), and the caller
 * splits instead.
 */
static bool move_huge_leaf(struct zd_mm *mm, _Atomic zd_pte_t *src, _Atomic zd_pte_t *dst)
{
	bool moved = false;

	zd_spin_lock(&mm->page_table_lock);
	/* An anonymous PMD leaf's deposit is the mm's: it moves with the leaf. */
	if (zd_pte_none(_zd_read_entry(dst))) {
		_zd_set_entry(dst, _zd_read_entry(src));
		_zd_set_entry(src, 0);
		moved = true;
	}
	zd_spin_unlock(&mm->page_table_lock);
	return moved;
}

/* The entries of [old, old + len) to [new, new + len). Context: mmap_lock for write. */
static int move_entries(struct zd_vm_area_struct *vma, unsigned long old, unsigned long new,
			unsigned long len)
{
	struct zd_mm *mm = vma->vm_mm;

	for (unsigned long off = 0; off < len;) {
		unsigned long from = old + off, to = new + off;
		_Atomic zd_pte_t *src, *dst;
		struct zd_spinlock *sptl, *dptl;
		zd_pte_t e;

		src = _zd_pxx_offset(mm, from, ZD_LVL_PUD);
		if (src && zd_pte_huge(_zd_read_entry(src))) {
			/* move_huge_pud(): the leaf moves whole, or is split (removed). */
			if (!(from & (ZD_PUD_SIZE - 1)) && !(to & (ZD_PUD_SIZE - 1)) &&
			    off + ZD_PUD_SIZE <= len) {
				dst = _zd_pxx_alloc(mm, to, ZD_LVL_PUD);
				if (!dst)
					return -ENOMEM;
				if (move_huge_leaf(mm, src, dst)) {
					off += ZD_PUD_SIZE;
					continue;
				}
			}
			_zd_split_huge_pud(vma, src, from);
			off += ZD_PUD_SIZE - (from & (ZD_PUD_SIZE - 1));
			continue;
		}
		src = _zd_pxx_offset(mm, from, ZD_LVL_PMD);
		if (!src) {
			/* no PMD table here: skip to the next PMD boundary */
			off += ZD_PMD_SIZE - (from & (ZD_PMD_SIZE - 1));
			continue;
		}
		e = _zd_read_entry(src);
		if (zd_pte_none(e)) {
			off += ZD_PMD_SIZE - (from & (ZD_PMD_SIZE - 1));
			continue;
		}
		if (zd_pte_huge(e) || !(e & ZD_PTE_PRESENT)) {
			if (!(from & (ZD_PMD_SIZE - 1)) && !(to & (ZD_PMD_SIZE - 1)) &&
			    off + ZD_PMD_SIZE <= len) {
				/* move_huge_pmd() */
				dst = _zd_pxx_alloc(mm, to, ZD_LVL_PMD);
				if (!dst)
					return -ENOMEM;
				if (move_huge_leaf(mm, src, dst)) {
					off += ZD_PMD_SIZE;
					continue;
				}
			}
			_zd_split_huge_pmd(vma, src, from);
		}
		src = _zd_pxx_offset(mm, from, ZD_LVL_PTE);
		dst = _zd_pxx_alloc(mm, to, ZD_LVL_PTE);
		if (!dst)
			return -ENOMEM;
		if (!src) {
			off += ZD_PAGE_SIZE;
			continue;
		}
		sptl = _zd_pte_lockptr(src);
		dptl = _zd_pte_lockptr(dst);
		zd_spin_lock(sptl);
		if (dptl != sptl)
			zd_spin_lock(dptl);
		/* as many PTEs as stay inside both tables */
		do {
			_zd_set_entry(dst, _zd_read_entry(src));
			_zd_set_entry(src, 0);
			src++;
			dst++;
			off += ZD_PAGE_SIZE;
		} while (off < len && ((old + off) & (ZD_PMD_SIZE - 1)) &&
			 ((new + off) & (ZD_PMD_SIZE - 1)));
		if (dptl != sptl)
			zd_spin_unlock(dptl);
		zd_spin_unlock(sptl);
	}
	return 0;
}

/*
 * move_page_tables(): the old range is told UNMAP around the move (the new
 * one was empty). Context: mmap_lock for write.
 */
static int move_page_tables(struct zd_vm_area_struct *vma, unsigned long old, unsigned long new,
			    unsigned long len)
{
	struct zd_mmu_notifier_range range;
	int err;

	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_UNMAP, 0, vma->vm_mm, old, old + len);
	zd_mmu_notifier_invalidate_range_start(&range);
	err = move_entries(vma, old, new, len);
	zd_mmu_notifier_invalidate_range_end(&range);
	return err;
}

static int move_vma(struct zd_mm *mm, struct zd_vm_area_struct *vma, unsigned long old,
		    unsigned long old_len, unsigned long new, unsigned long new_len, bool dontunmap)
{
	struct zd_vm_area_struct *n;
	int err;

	/* Give [old, old + old_len) a VMA of its own. */
	if (vma->vm_start < old) {
		err = _zd_split_vma(vma, old);
		if (err)
			return err;
		vma = zd_vma_lookup(mm, old);
	}
	if (vma->vm_end > old + old_len) {
		err = _zd_split_vma(vma, old + old_len);
		if (err)
			return err;
	}
	n = _zd_vma_copy(vma, mm, new, new + new_len, vma->vm_pgoff);
	if (!n)
		return -ENOMEM;
	err = move_page_tables(vma, old, new, old_len < new_len ? old_len : new_len);
	if (err) {
		/* Put back what moved, then drop the new VMA (move_vma's error path). */
		move_page_tables(n, new, old, old_len < new_len ? old_len : new_len);
		_zd_do_munmap(mm, new, new_len);
		return err;
	}
	if (!dontunmap)
		return _zd_do_munmap(mm, old, old_len);
	/* DONTUNMAP: the old range stays mapped, empty, and refaults fresh. */
	return 0;
}

int zd_mremap(struct zd_mm *mm, unsigned long old, unsigned long old_len,
	      unsigned long new_len, int flags, unsigned long new_addr, unsigned long *out)
{
	bool maymove = flags & ZD_MREMAP_MAYMOVE, fixed = flags & ZD_MREMAP_FIXED;
	bool dontunmap = flags & ZD_MREMAP_DONTUNMAP;
	struct zd_vm_area_struct *vma;
	unsigned long result = old;
	int err = 0;

	if ((old & (ZD_PAGE_SIZE - 1)) ||
	    (flags & ~(ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED | ZD_MREMAP_DONTUNMAP)) ||
	    ((fixed || dontunmap) && !maymove))
		return -EINVAL;
	old_len = page_align(old_len);
	new_len = page_align(new_len);
	/* A length that rounds up past 2^64 is 0 here, and refused. */
	if (!new_len || (dontunmap && old_len != new_len))
		return -EINVAL;
	/* check_mremap_params(): bound the new range before forming any sum with it. */
	if (new_len > ZD_TASK_SIZE)
		return -EINVAL;
	if (fixed && ((new_addr & (ZD_PAGE_SIZE - 1)) || new_addr > ZD_TASK_SIZE - new_len ||
		      (new_addr < old + old_len && old < new_addr + new_len)))
		return -EINVAL;
	if (fixed && new_addr < ZD_MMAP_MIN)
		return -EPERM;		/* security_mmap_addr(), as for mmap */

	zd_mmap_write_lock(mm);
	vma = zd_vma_lookup(mm, old);
	if (!vma) {
		err = -EFAULT;
		goto out;
	}
	/*
	 * remap_is_valid(), for a range that maps something new (a move or a
	 * growth): the source stays inside its VMA (a shrink in place may
	 * cross VMAs and holes, as munmap does), a private mapping cannot be
	 * duplicated with old_len 0, and the file offset must not wrap.
	 */
	if (fixed || dontunmap || new_len > old_len) {
		unsigned long pgoff = vma->vm_pgoff + ((old - vma->vm_start) >> ZD_PAGE_SHIFT);

		if (!old_len && !(vma->vm_flags & (ZD_VM_SHARED | ZD_VM_MAYSHARE))) {
			err = -EINVAL;
			goto out;
		}
		if ((new_len < old_len ? new_len : old_len) > vma->vm_end - old) {
			err = -EFAULT;
			goto out;
		}
		if (pgoff + (new_len >> ZD_PAGE_SHIFT) < pgoff) {
			err = -EINVAL;
			goto out;
		}
	}
	if (dontunmap && (!zd_vma_is_anonymous(vma) || (vma->vm_flags & ZD_VM_SHARED))) {
		err = -EINVAL;
		goto out;
	}
	/*
	 * No alignment check for a VMA with a larger page size: Linux has one
	 * for hugetlb only. Device DAX refuses an unaligned split through
	 * may_split; a VMA moved or grown to an unaligned place is allowed and
	 * its faults are SIGBUS (check_vma).
	 */
	if (fixed) {
		err = _zd_do_munmap(mm, new_addr, new_len);
		if (!err)
			err = move_vma(mm, vma, old, old_len, new_addr, new_len, dontunmap);
		result = new_addr;
		goto out;
	}
	if (new_len <= old_len && !dontunmap) {
		if (new_len < old_len)
			err = _zd_do_munmap(mm, old + new_len, old_len - new_len);
		goto out;
	}
	if (!dontunmap && old + old_len == vma->vm_end) {
		struct zd_vm_area_struct *next = zd_find_vma(mm, vma->vm_end);

		if ((!next || next->vm_start >= old + new_len) && old + new_len <= ZD_TASK_SIZE) {
			vma->vm_end = old + new_len;	/* vma_expand() */
			goto out;
		}
	}
	if (!maymove) {
		err = -ENOMEM;
		goto out;
	}
	{
		unsigned long align = vma->vm_ops && vma->vm_ops->pagesize ?
				      vma->vm_ops->pagesize(vma) : ZD_PAGE_SIZE;
		unsigned long new = _zd_get_unmapped_area(mm, 0, new_len, align);

		if (!new) {
			err = -ENOMEM;
			goto out;
		}
		err = move_vma(mm, vma, old, old_len, new, new_len, dontunmap);
		result = new;
	}
out:
	zd_mmap_write_unlock(mm);
	if (!err && out)
		*out = result;
	return err;
}
