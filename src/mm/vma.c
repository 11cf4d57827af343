// SPDX-License-Identifier: MIT
/*
 * src/mm/vma.c - VMAs: the per-mm tree, split, merge, rmap links.
 *
 * Models mm/vma.c and mm/mmap.c (find_vma, vma_lookup, split_vma,
 * vma_merge), mm/rmap.c (anon_vma_prepare, anon_vma_clone) and the
 * i_mmap tree of include/linux/fs.h. The maple tree becomes a sorted array
 * searched by bisection, changed only under mmap_lock for write; rmap
 * lists are singly linked under the anon_vma lock / i_mmap_rwsem.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- the sorted array ---- */

static size_t vma_index(struct zd_mm *mm, unsigned long addr)
{
	size_t lo = 0, hi = mm->nr_vmas;

	/* first VMA whose end is above addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->vmas[mid]->vm_end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct zd_vm_area_struct *zd_find_vma(struct zd_mm *mm, unsigned long addr)
{
	size_t i = vma_index(mm, addr);

	return i < mm->nr_vmas ? mm->vmas[i] : NULL;
}

struct zd_vm_area_struct *zd_vma_lookup(struct zd_mm *mm, unsigned long addr)
{
	struct zd_vm_area_struct *vma = zd_find_vma(mm, addr);

	return vma && vma->vm_start <= addr ? vma : NULL;
}

unsigned long zd_mm_nr_vmas(struct zd_mm *mm)
{
	return mm->nr_vmas;
}

/* vma_iter_prealloc(): room for one more VMA, so the next insert cannot fail. */
static int vma_reserve(struct zd_mm *mm)
{
	if (mm->nr_vmas == mm->cap_vmas) {
		size_t cap = mm->cap_vmas ? mm->cap_vmas * 2 : 16;
		struct zd_vm_area_struct **n = realloc(mm->vmas, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		mm->vmas = n;
		mm->cap_vmas = cap;
	}
	return 0;
}

int _zd_vma_insert(struct zd_mm *mm, struct zd_vm_area_struct *vma)
{
	size_t i;

	if (vma_reserve(mm))
		return -ENOMEM;
	i = vma_index(mm, vma->vm_start);
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nr_vmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = vma;
	mm->nr_vmas++;
	return 0;
}

void _zd_vma_remove(struct zd_mm *mm, struct zd_vm_area_struct *vma)
{
	size_t i = vma_index(mm, vma->vm_start);

	if (i < mm->nr_vmas && mm->vmas[i] == vma) {
		memmove(&mm->vmas[i], &mm->vmas[i + 1], (mm->nr_vmas - i - 1) * sizeof(*mm->vmas));
		mm->nr_vmas--;
	}
}

struct zd_vm_area_struct *_zd_vma_alloc(struct zd_mm *mm)
{
	struct zd_vm_area_struct *vma;

	if (_zd_should_fail(mm->sys, ZD_FAULT_VMA_ALLOC))
		return NULL;
	vma = calloc(1, sizeof(*vma));
	if (vma)
		vma->vm_mm = mm;
	return vma;
}

void _zd_vma_free(struct zd_vm_area_struct *vma)
{
	if (vma->anon_vma)
		_zd_anon_vma_put(vma->anon_vma);
	if (vma->vm_file)
		zd_fput(vma->vm_file);
	free(vma);
}

unsigned long _zd_vma_address(const struct zd_vm_area_struct *vma, unsigned long index)
{
	unsigned long addr;

	if (index < vma->vm_pgoff)
		return ~0ul;
	addr = vma->vm_start + ((index - vma->vm_pgoff) << ZD_PAGE_SHIFT);
	return addr >= vma->vm_start && addr < vma->vm_end ? addr : ~0ul;
}

bool zd_vma_is_dax(const struct zd_vm_area_struct *vma)
{
	return vma->vm_file && vma->vm_file->f_mapping &&
	       (vma->vm_file->f_mapping->flags & ZD_AS_DAX);
}

bool zd_vma_is_fsdax(const struct zd_vm_area_struct *vma)
{
	/* A DAX file that is not the device-DAX character device. */
	return zd_vma_is_dax(vma) && (vma->vm_file->f_mapping->flags & ZD_AS_FSDAX);
}

/* ---- anon_vma ---- */

/* Faults run concurrently under mmap_lock for read: page_table_lock decides. */
int _zd_anon_vma_prepare(struct zd_vm_area_struct *vma)
{
	struct zd_mm *mm = vma->vm_mm;
	struct zd_anon_vma *av;

	if (zd_atomic_load_acquire(&vma->anon_vma))
		return 0;
	av = calloc(1, sizeof(*av));
	if (!av)
		return -ENOMEM;
	zd_atomic_init(&av->refcount, 1l);
	zd_rwsem_init(&av->lock);
	av->vmas = vma;
	zd_spin_lock(&mm->page_table_lock);
	if (!vma->anon_vma) {
		vma->anon_next = NULL;
		zd_atomic_store_release(&vma->anon_vma, av);
		av = NULL;
	}
	zd_spin_unlock(&mm->page_table_lock);
	if (av) {
		zd_rwsem_destroy(&av->lock);
		free(av);
	}
	return 0;
}

void _zd_anon_vma_put(struct zd_anon_vma *av)
{
	if (zd_atomic_fetch_sub_acq_rel(&av->refcount, 1) == 1) {
		zd_rwsem_destroy(&av->lock);
		free(av);
	}
}

static void list_del_vma(struct zd_vm_area_struct **head, struct zd_vm_area_struct *vma,
			 bool anon)
{
	for (struct zd_vm_area_struct **pp = head; *pp; pp = anon ? &(*pp)->anon_next : &(*pp)->file_next) {
		if (*pp == vma) {
			*pp = anon ? vma->anon_next : vma->file_next;
			return;
		}
	}
}

void _zd_vma_link_rmap(struct zd_vm_area_struct *vma)
{
	if (vma->anon_vma) {
		struct zd_anon_vma *av = vma->anon_vma;

		zd_down_write(&av->lock);
		vma->anon_next = av->vmas;
		av->vmas = vma;
		zd_up_write(&av->lock);
	}
	if (vma->vm_file && vma->vm_file->f_mapping) {
		struct zd_address_space *as = vma->vm_file->f_mapping;

		zd_down_write(&as->i_mmap_rwsem);
		vma->file_next = as->i_mmap;
		as->i_mmap = vma;
		zd_up_write(&as->i_mmap_rwsem);
	}
}

void _zd_vma_unlink_rmap(struct zd_vm_area_struct *vma)
{
	if (vma->anon_vma) {
		struct zd_anon_vma *av = vma->anon_vma;

		zd_down_write(&av->lock);
		list_del_vma(&av->vmas, vma, true);
		zd_up_write(&av->lock);
	}
	if (vma->vm_file && vma->vm_file->f_mapping) {
		struct zd_address_space *as = vma->vm_file->f_mapping;

		zd_down_write(&as->i_mmap_rwsem);
		list_del_vma(&as->i_mmap, vma, false);
		zd_up_write(&as->i_mmap_rwsem);
	}
}

/* ---- split and merge ---- */

/* Make @n, allocated and with room reserved in @mm, a copy of @src: cannot fail. */
static void vma_init_copy(struct zd_vm_area_struct *n, struct zd_vm_area_struct *src,
			  struct zd_mm *mm, unsigned long start, unsigned long end,
			  unsigned long pgoff)
{
	*n = *src;
	n->vm_mm = mm;
	n->anon_next = n->file_next = NULL;
	n->vm_start = start;
	n->vm_end = end;
	n->vm_pgoff = pgoff;
	if (n->anon_vma)
		zd_atomic_fetch_add_relaxed(&n->anon_vma->refcount, 1);
	if (n->vm_file)
		zd_get_file(n->vm_file);
	(void)_zd_vma_insert(mm, n);	/* room reserved */
	_zd_vma_link_rmap(n);
	if (n->vm_ops && n->vm_ops->open)
		n->vm_ops->open(n);
}

struct zd_vm_area_struct *_zd_vma_copy(struct zd_vm_area_struct *src, struct zd_mm *mm,
				       unsigned long start, unsigned long end, unsigned long pgoff)
{
	struct zd_vm_area_struct *n = _zd_vma_alloc(mm);

	if (!n)
		return NULL;
	if (vma_reserve(mm)) {
		_zd_vma_free(n);
		return NULL;
	}
	vma_init_copy(n, src, mm, start, end, pgoff);
	return n;
}

/*
 * split_huge_pmd_if_needed(): a boundary at @addr that falls inside a
 * huge leaf @vma maps whole splits it (an anonymous PMD leaf into PTEs,
 * any other leaf removed). Linux has no PUD counterpart; the model
 * removes a PUD leaf likewise, so no leaf ever spans two VMAs.
 */
static void split_huge_if_needed(struct zd_vm_area_struct *vma, unsigned long addr)
{
	struct zd_mm *mm = vma->vm_mm;
	_Atomic zd_pte_t *slot;

	if ((addr & (ZD_PUD_SIZE - 1)) && (addr & ~(ZD_PUD_SIZE - 1)) >= vma->vm_start &&
	    (addr & ~(ZD_PUD_SIZE - 1)) + ZD_PUD_SIZE <= vma->vm_end) {
		slot = _zd_pxx_offset(mm, addr, ZD_LVL_PUD);
		if (slot && zd_pte_huge(_zd_read_entry(slot)))
			_zd_split_huge_pud(vma, slot, addr);
	}
	if ((addr & (ZD_PMD_SIZE - 1)) && (addr & ~(ZD_PMD_SIZE - 1)) >= vma->vm_start &&
	    (addr & ~(ZD_PMD_SIZE - 1)) + ZD_PMD_SIZE <= vma->vm_end) {
		slot = _zd_pxx_offset(mm, addr, ZD_LVL_PMD);
		if (slot && zd_pte_huge(_zd_read_entry(slot)))
			_zd_split_huge_pmd(vma, slot, addr);
	}
}

int _zd_split_vma(struct zd_vm_area_struct *vma, unsigned long addr)
{
	unsigned long end = vma->vm_end;
	struct zd_vm_area_struct *n;
	int err;

	if (addr <= vma->vm_start || addr >= vma->vm_end || (addr & (ZD_PAGE_SIZE - 1)))
		return -EINVAL;
	if (vma->vm_ops && vma->vm_ops->may_split) {
		err = vma->vm_ops->may_split(vma, addr);
		if (err)
			return err;
	}
	/*
	 * __split_vma(): vm_area_dup() and vma_iter_prealloc() first, so a
	 * failure leaves the VMA and its page table as they were.
	 */
	n = _zd_vma_alloc(vma->vm_mm);
	if (!n)
		return -ENOMEM;
	if (vma_reserve(vma->vm_mm)) {
		_zd_vma_free(n);
		return -ENOMEM;
	}
	/* vma_adjust_trans_huge(): no huge leaf may straddle the new boundary; cannot fail. */
	split_huge_if_needed(vma, addr);
	/* The lower part shrinks first so the upper one can be inserted after it. */
	vma->vm_end = addr;
	vma_init_copy(n, vma, vma->vm_mm, addr, end,
		      vma->vm_pgoff + ((addr - vma->vm_start) >> ZD_PAGE_SHIFT));
	return 0;
}

void _zd_remove_vma(struct zd_mm *mm, struct zd_vm_area_struct *vma)
{
	_zd_vma_unlink_rmap(vma);
	_zd_zap_range(vma, vma->vm_start, vma->vm_end);
	_zd_vma_remove(mm, vma);
	if (vma->vm_ops && vma->vm_ops->close)
		vma->vm_ops->close(vma);
	_zd_vma_free(vma);
}

static bool can_merge(const struct zd_vm_area_struct *a, const struct zd_vm_area_struct *b)
{
	return a->vm_end == b->vm_start && a->vm_flags == b->vm_flags &&
	       a->vm_file == b->vm_file && a->vm_ops == b->vm_ops &&
	       a->vm_private_data == b->vm_private_data &&
	       (!a->anon_vma || !b->anon_vma || a->anon_vma == b->anon_vma) &&
	       a->vm_pgoff + ((a->vm_end - a->vm_start) >> ZD_PAGE_SHIFT) == b->vm_pgoff &&
	       !(a->vm_ops && a->vm_ops->close);
}

/* Absorb @b into @a (a precedes b). */
static void merge_into(struct zd_mm *mm, struct zd_vm_area_struct *a, struct zd_vm_area_struct *b)
{
	_zd_vma_unlink_rmap(b);
	_zd_vma_remove(mm, b);
	a->vm_end = b->vm_end;
	if (!a->anon_vma && b->anon_vma) {
		a->anon_vma = b->anon_vma;
		b->anon_vma = NULL;
		zd_down_write(&a->anon_vma->lock);
		a->anon_next = a->anon_vma->vmas;
		a->anon_vma->vmas = a;
		zd_up_write(&a->anon_vma->lock);
	}
	_zd_vma_free(b);
}

void _zd_vma_merge(struct zd_mm *mm, struct zd_vm_area_struct *vma)
{
	size_t i = vma_index(mm, vma->vm_start);

	if (i + 1 < mm->nr_vmas && can_merge(vma, mm->vmas[i + 1]))
		merge_into(mm, vma, mm->vmas[i + 1]);
	if (i > 0 && can_merge(mm->vmas[i - 1], vma))
		merge_into(mm, mm->vmas[i - 1], vma);
}

/* ---- files and address spaces ---- */

void zd_address_space_init(struct zd_address_space *as, struct zd_system *sys, unsigned int flags)
{
	memset(as, 0, sizeof(*as));
	as->sys = sys;
	as->flags = flags;
	zd_rwsem_init(&as->i_mmap_rwsem);
}

void zd_address_space_destroy(struct zd_address_space *as)
{
	zd_rwsem_destroy(&as->i_mmap_rwsem);
}

int zd_address_space_alloc(struct zd_system *sys, unsigned int flags,
			   struct zd_address_space **out)
{
	struct zd_address_space *as;

	if (!sys || !out || (flags & ~(ZD_AS_DAX | ZD_AS_FSDAX)) ||
	    (flags & (ZD_AS_DAX | ZD_AS_FSDAX)) == ZD_AS_FSDAX)
		return -EINVAL;
	as = malloc(sizeof(*as));
	if (!as)
		return -ENOMEM;
	zd_address_space_init(as, sys, flags);
	*out = as;
	return 0;
}

void zd_address_space_free(struct zd_address_space *as)
{
	if (!as)
		return;
	if (as->i_mmap) {
		_zd_report_page(as->sys, ZD_MISUSE_BAD_STATE, "", NULL,
				"address_space freed while still mapped (vma %#lx-%#lx)",
				as->i_mmap->vm_start, as->i_mmap->vm_end);
		return;
	}
	zd_address_space_destroy(as);
	free(as);
}

void zd_get_file(struct zd_file *file)
{
	zd_atomic_fetch_add_relaxed(&file->f_count, 1);
}

void zd_fput(struct zd_file *file)
{
	if (zd_atomic_fetch_sub_acq_rel(&file->f_count, 1) == 1 && file->release)
		file->release(file);
}
