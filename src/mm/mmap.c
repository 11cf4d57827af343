// SPDX-License-Identifier: MIT
/*
 * src/mm/mmap.c - mmap, munmap, mprotect.
 *
 * Models mm/mmap.c (do_mmap, mmap_region, get_unmapped_area), mm/vma.c
 * (do_vmi_munmap) and mm/mprotect.c (mprotect_fixup, change_protection),
 * with the kernel's error codes. Addresses are handed out bottom-up from
 * ZD_MMAP_BASE.
 */
#include <errno.h>

#include "internal.h"

#define ZD_MMAP_BASE	(1ul << 40)

static unsigned long page_align(unsigned long len)
{
	return (len + ZD_PAGE_SIZE - 1) & ~(ZD_PAGE_SIZE - 1);
}

/* Is [addr, addr + len) free of VMAs? */
static bool range_free(struct zd_mm *mm, unsigned long addr, unsigned long len)
{
	struct zd_vm_area_struct *vma = zd_find_vma(mm, addr);

	return !vma || vma->vm_start >= addr + len;
}

/* get_unmapped_area(): the hint if it fits, else the first aligned gap. */
unsigned long _zd_get_unmapped_area(struct zd_mm *mm, unsigned long hint, unsigned long len,
				       unsigned long align)
{
	unsigned long addr;

	if (align < ZD_PAGE_SIZE)
		align = ZD_PAGE_SIZE;
	if (hint && !(hint & (align - 1)) && hint >= ZD_MMAP_MIN && hint + len <= ZD_TASK_SIZE &&
	    hint + len > hint && range_free(mm, hint, len))
		return hint;
	addr = ZD_MMAP_BASE;
	for (size_t i = 0; i <= mm->nr_vmas; i++) {
		unsigned long gap_end = i < mm->nr_vmas ? mm->vmas[i]->vm_start : ZD_TASK_SIZE;

		if (i < mm->nr_vmas && mm->vmas[i]->vm_end <= addr)
			continue;
		addr = (addr + align - 1) & ~(align - 1);
		if (addr + len <= gap_end && addr + len > addr)
			return addr;
		if (i < mm->nr_vmas && mm->vmas[i]->vm_end > addr)
			addr = mm->vmas[i]->vm_end;
	}
	return 0;
}

static unsigned long prot_to_vm_flags(int prot)
{
	return (prot & ZD_PROT_READ ? ZD_VM_READ : 0) | (prot & ZD_PROT_WRITE ? ZD_VM_WRITE : 0) |
	       (prot & ZD_PROT_EXEC ? ZD_VM_EXEC : 0);
}

/* ---- munmap ---- */

/* Split so that no VMA straddles @addr. */
static int split_at(struct zd_mm *mm, unsigned long addr)
{
	struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);

	if (!vma || vma->vm_start == addr)
		return 0;
	return _zd_split_vma(vma, addr);
}

/* do_vmi_munmap(). Context: mmap_lock held for write. */
int _zd_do_munmap(struct zd_mm *mm, unsigned long start, unsigned long len);
int _zd_do_munmap(struct zd_mm *mm, unsigned long start, unsigned long len)
{
	unsigned long end = start + len;
	struct zd_mmu_notifier_range range;
	struct zd_vm_area_struct *vma;
	int err;

	if (start > ZD_TASK_SIZE || len > ZD_TASK_SIZE - start)
		return -EINVAL;
	err = split_at(mm, start);
	if (!err)
		err = split_at(mm, end);
	if (err)
		return err;
	vma = zd_find_vma(mm, start);
	if (!vma || vma->vm_start >= end)
		return 0;
	/* unmap_vmas(): one UNMAP range over everything unmapped. */
	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_UNMAP, 0, mm, start, end);
	zd_mmu_notifier_invalidate_range_start(&range);
	while ((vma = zd_find_vma(mm, start)) && vma->vm_start < end)
		_zd_remove_vma(mm, vma);
	zd_mmu_notifier_invalidate_range_end(&range);
	_zd_free_pgtables(mm, start, end);
	return 0;
}

int zd_munmap(struct zd_mm *mm, unsigned long addr, unsigned long len)
{
	int err;

	/* Bounded before rounding up, so a length near 2^64 cannot round to 0. */
	if ((addr & (ZD_PAGE_SIZE - 1)) || !len || addr > ZD_TASK_SIZE || len > ZD_TASK_SIZE - addr)
		return -EINVAL;
	len = page_align(len);
	zd_mmap_write_lock(mm);
	err = _zd_do_munmap(mm, addr, len);
	zd_mmap_write_unlock(mm);
	return err;
}

/* ---- mmap ---- */

int zd_mmap(struct zd_mm *mm, unsigned long addr, unsigned long len, int prot, int flags,
	    struct zd_file *file, unsigned long pgoff, unsigned long align, unsigned long *out)
{
	int type = flags & (ZD_MAP_SHARED | ZD_MAP_PRIVATE);
	struct zd_vm_area_struct *vma;
	bool fixed = flags & ZD_MAP_FIXED;
	unsigned long start;
	int err;

	if (!len || (type != ZD_MAP_SHARED && type != ZD_MAP_PRIVATE) ||
	    (fixed && (addr & (ZD_PAGE_SIZE - 1))) || (align & (align - 1)) ||
	    (prot & ~(ZD_PROT_READ | ZD_PROT_WRITE | ZD_PROT_EXEC)))
		return -EINVAL;
	len = page_align(len);
	if (!len || len > ZD_TASK_SIZE)
		return -ENOMEM;
	if (pgoff + (len >> ZD_PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;	/* the file offset wraps */
	if (fixed && addr > ZD_TASK_SIZE - len)
		return -ENOMEM;
	if (fixed && addr < ZD_MMAP_MIN)
		return -EPERM;		/* security_mmap_addr(): below mmap_min_addr */
	if (file && file->f_op && file->f_op->get_unmapped_area_align) {
		unsigned long fa = file->f_op->get_unmapped_area_align(file);

		if (fa > align)
			align = fa;
	}
	if (!file && type == ZD_MAP_SHARED) {
		/* Shared anonymous memory is an unlinked shmem file. */
		err = zd_shmem_file_setup(mm->sys, len, &file);
		if (err)
			return err;
		pgoff = 0;
	} else if (file) {
		zd_get_file(file);	/* the VMA's reference */
	}

	zd_mmap_write_lock(mm);
	if (fixed) {
		start = addr;
		err = _zd_do_munmap(mm, start, len);
		if (err)
			goto out_unlock;
	} else {
		start = _zd_get_unmapped_area(mm, addr, len, align);
		if (!start) {
			err = -ENOMEM;
			goto out_unlock;
		}
	}
	vma = _zd_vma_alloc(mm);
	if (!vma) {
		err = -ENOMEM;
		goto out_unlock;
	}
	vma->vm_start = start;
	vma->vm_end = start + len;
	vma->vm_flags = prot_to_vm_flags(prot) | ZD_VM_MAYREAD | ZD_VM_MAYWRITE | ZD_VM_MAYEXEC;
	if (type == ZD_MAP_SHARED)
		vma->vm_flags |= ZD_VM_SHARED | ZD_VM_MAYSHARE;
	vma->vm_file = file;
	vma->vm_pgoff = file ? pgoff : start >> ZD_PAGE_SHIFT;
	if (file && file->f_op && file->f_op->mmap) {
		err = file->f_op->mmap(file, vma);
		if (err) {
			vma->vm_file = NULL;
			_zd_vma_free(vma);
			goto out_unlock;
		}
	}
	err = _zd_vma_insert(mm, vma);
	if (err) {
		vma->vm_file = NULL;
		_zd_vma_free(vma);
		goto out_unlock;
	}
	file = NULL;	/* owned by the VMA now */
	_zd_vma_link_rmap(vma);
	if (zd_vma_is_anonymous(vma))
		_zd_vma_merge(mm, vma);
	zd_mmap_write_unlock(mm);
	if (out)
		*out = start;
	if (flags & ZD_MAP_POPULATE)
		zd_cpu_touch(mm, start, len, (prot & ZD_PROT_WRITE) != 0);
	return 0;

out_unlock:
	zd_mmap_write_unlock(mm);
	if (file)
		zd_fput(file);
	return err;
}

/* ---- mprotect ---- */

struct prot_change {
	struct zd_vm_area_struct *vma;
	bool write, none;
};

/* change_pte_range() for one leaf. */
static void change_prot_one(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl,
			    void *arg)
{
	struct prot_change *pc = arg;
	zd_pte_t e = _zd_read_entry(slot), n = e;

	(void)lvl;
	if (!zd_pte_present(e)) {
		/*
		 * Writable migration and device-private entries lose write on
		 * every change (checking the new protection is not worth it):
		 * an anonymous page stays exclusive (READ_EXCLUSIVE), so the
		 * PTE restored later may still be written without a copy.
		 */
		if (zd_is_writable_migration_entry(e)) {
			struct zd_folio *folio = zd_pfn_folio(pc->vma->vm_mm->sys, zd_swp_offset(e));

			n = zd_swp_entry(folio && zd_folio_test_anon(folio) ?
					 ZD_SWP_MIGRATION_READ_EXCLUSIVE : ZD_SWP_MIGRATION_READ,
					 zd_swp_offset(e));
		} else if (zd_is_writable_device_private_entry(e)) {
			n = zd_swp_entry(ZD_SWP_DEVICE_PRIVATE_READ, zd_swp_offset(e));
		}
	} else if (pc->none) {
		n = (e & ~(ZD_PTE_PRESENT | ZD_PTE_WRITE)) | ZD_PTE_PROTNONE;
	} else {
		if (zd_pte_protnone(e))
			n = (e & ~ZD_PTE_PROTNONE) | ZD_PTE_PRESENT;
		if (!pc->write)
			n = zd_pte_wrprotect(n);
		/*
		 * Adding write: the entry takes the new vm_page_prot (writable
		 * for a shared mapping without write notification), and a
		 * private one is upgraded where the write fault would only
		 * reuse the page (MM_CP_TRY_CHANGE_WRITABLE).
		 */
		else if (!zd_pte_write(n) &&
			 (_zd_vma_page_prot_write(pc->vma) ||
			  _zd_can_change_pte_writable(pc->vma, addr, n)))
			n = zd_pte_mkwrite(n);
	}
	if (n != e)
		_zd_set_entry(slot, n);
}

bool _zd_can_change_pte_writable(struct zd_vm_area_struct *vma, unsigned long addr, zd_pte_t pte)
{
	struct zd_page *page;

	if (!(vma->vm_flags & ZD_VM_WRITE) || zd_pte_protnone(pte))
		return false;
	if (vma->vm_flags & ZD_VM_SHARED)
		return zd_pte_dirty(pte);
	/* A private mapping: what the write fault would reuse without a copy. */
	page = zd_vm_normal_page(vma, addr, pte);
	return page && zd_folio_test_anon(zd_page_folio(page)) &&
	       zd_page_test_flag(page, ZD_PG_anon_exclusive);
}

int zd_mprotect(struct zd_mm *mm, unsigned long addr, unsigned long len, int prot)
{
	unsigned long end, newflags, a;
	struct zd_vm_area_struct *vma;
	int err = 0;

	if ((addr & (ZD_PAGE_SIZE - 1)) || (prot & ~(ZD_PROT_READ | ZD_PROT_WRITE | ZD_PROT_EXEC)))
		return -EINVAL;
	if (!len)
		return 0;
	len = page_align(len);
	end = addr + len;
	if (end <= addr)
		return -ENOMEM;	/* wrapped, or rounded up past 2^64 */
	newflags = prot_to_vm_flags(prot);
	zd_mmap_write_lock(mm);
	/* The whole range must be mapped, and writable where asked. */
	for (a = addr; a < end; a = vma->vm_end) {
		vma = zd_vma_lookup(mm, a);
		if (!vma) {
			err = -ENOMEM;
			goto out;
		}
		if ((newflags & ZD_VM_WRITE) && !(vma->vm_flags & ZD_VM_MAYWRITE)) {
			err = -EACCES;
			goto out;
		}
	}
	err = split_at(mm, addr);
	if (!err)
		err = split_at(mm, end);
	if (err)
		goto out;
	for (a = addr; a < end; a = vma->vm_end) {
		struct zd_mmu_notifier_range range;
		struct prot_change pc;
		unsigned long flags;

		vma = zd_vma_lookup(mm, a);
		flags = (vma->vm_flags & ~(ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC)) | newflags;
		/* mprotect_fixup(): nothing changes, not even the entries. */
		if (flags == vma->vm_flags)
			continue;
		vma->vm_flags = flags;
		pc.vma = vma;
		pc.write = newflags & ZD_VM_WRITE;
		pc.none = !(newflags & (ZD_VM_READ | ZD_VM_WRITE | ZD_VM_EXEC));
		/* change_pud_range(): PROTECTION_VMA (the kernel starts it at the first populated PUD). */
		zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_PROTECTION_VMA, 0, mm,
					   vma->vm_start, vma->vm_end);
		zd_mmu_notifier_invalidate_range_start(&range);
		_zd_walk_page_range(mm, vma->vm_start, vma->vm_end, change_prot_one, &pc);
		zd_mmu_notifier_invalidate_range_end(&range);
	}
	for (a = addr; a < end;) {
		vma = zd_vma_lookup(mm, a);
		a = vma->vm_end;
		_zd_vma_merge(mm, vma);
	}
out:
	zd_mmap_write_unlock(mm);
	return err;
}
