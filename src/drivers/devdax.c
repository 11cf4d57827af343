// SPDX-License-Identifier: MIT
/*
 * src/drivers/devdax.c - device DAX.
 *
 * Models drivers/dax/device.c (dax_mmap, check_vma, dax_pgoff_to_phys,
 * dax_set_mapping, __dev_dax_{pte,pmd,pud}_fault, dev_dax_huge_fault,
 * dev_dax_may_split, dev_dax_pagesize, dax_get_unmapped_area) with the
 * pieces of drivers/dax/bus.c and drivers/dax/super.c it lives by
 * (devm_create_dev_dax and dev_dax_probe's memremap, kill_dev_dax,
 * unregister_dev_dax; dax_read_lock and kill_dax). Semantics §9, R11.4,
 * R1.13. In the legacy scheme the faults map as 6.14 and older did:
 * devmap pfn entries through vmf_insert_mixed and vmf_insert_pfn_pmd/pud,
 * no reference and no mapcount per mapping (L6).
 *
 * Objects and lifetimes:
 *
 *   struct zd_devdax (dev_dax)          struct dax_inode (dax inode + file)
 *   +----------------------+            +-----------------------------+
 *   | pgmap (GENERIC)      |  inode --> | file   (f_count)            |
 *   | region, align, size  | <-- dev_dax| mapping (ZD_AS_DAX, i_mmap) |
 *   +----------------------+  (NULL     | active (DEAD | n), align   |
 *     freed at destroy         when dead)+-----------------------------+
 *                                          freed at the last zd_fput
 *
 * The device holds one file reference, every VMA another (zd_mmap takes
 * it), and a user may take more: the inode outlives the device as long as
 * any is held, and its mmap and faults then find the device dead (-ENXIO,
 * SIGBUS).
 *
 * Liveness (dax_read_lock / dax_alive / kill_dax): Linux brackets mmap and
 * faults with an SRCU read section and kill_dax clears "alive" then
 * synchronize_srcu()s. We keep one atomic word, the sections in flight
 * plus a DEAD bit (percpu_ref_tryget_live style): entering fails once DEAD
 * is set, and kill waits until the count drains. After that no fault can
 * insert a mapping, so the zap that follows leaves none behind; and the
 * readers cannot starve the killer, as they could an rwsem.
 */
#include <errno.h>
#include <stdlib.h>

#include <zonedev/devdax.h>
#include <zonedev/driver.h>
#include <zonedev/mm.h>
#include "sync/sync.h"

/* The dax inode, its address_space and its one open file (/dev/daxX.Y). */
struct dax_inode {
	struct zd_file file;
	struct zd_address_space *mapping;	/* the inode's i_data */
	struct zd_system *sys;
	_Atomic long active;		/* sections in flight | DAX_DEAD */
	struct zd_devdax *dev_dax;	/* use only inside a section; NULL once killed */
	struct zd_spinlock mapping_lock;	/* dax_set_mapping's first writer */
	unsigned long align;		/* immutable: may_split/pagesize need no lock */
	_Atomic unsigned long nr_faults[3], nr_fallbacks, nr_sigbus;
};

/* struct dev_dax: one range, one GENERIC pgmap. */
struct zd_devdax {
	struct zd_dev_pagemap pgmap;	/* first: container-of by cast */
	struct zd_system *sys;
	struct dax_inode *inode;
	uint64_t start, size;
	unsigned long align;
};

#define DAX_DEAD (1l << 62)

static struct dax_inode *file_inode(const struct zd_file *file)
{
	return file->private_data;
}

/*
 * dax_read_lock() + dax_alive(): enter a section if the device lives and
 * return it, or NULL. Acquire, as percpu_ref_tryget_live: what the section
 * reads is ordered after the liveness check it passed.
 */
static struct zd_devdax *dax_read_lock(struct dax_inode *inode)
{
	long v = zd_atomic_load_relaxed(&inode->active);

	do {
		if (v & DAX_DEAD)
			return NULL;
	} while (!zd_atomic_cmpxchg_acquire(&inode->active, &v, v + 1));
	return inode->dev_dax;
}

/* dax_read_unlock(): the last section out after a kill wakes the killer. */
static void dax_read_unlock(struct dax_inode *inode)
{
	/* Release pairs with the acquire load in dax_drained(): our work precedes the kill's end. */
	long old = zd_atomic_fetch_sub_release(&inode->active, 1);

	if (old == (DAX_DEAD | 1))
		zd_wake_up_var(zd_system_wait_table(inode->sys), &inode->active);
}

static bool dax_drained(const void *var, void *arg)
{
	(void)arg;
	return !(zd_atomic_load_acquire((_Atomic long *)var) & ~DAX_DEAD);
}

/* ---- geometry ---- */

unsigned long zd_devdax_pgoff_to_pfn(const struct zd_devdax *dd, unsigned long pgoff)
{
	unsigned long range_pgoff = 0;

	/* dax_pgoff_to_phys(): the device's ranges laid end to end in file offsets. */
	for (int i = 0; i < dd->pgmap.nr_range; i++) {
		const struct zd_range *r = &dd->pgmap.ranges[i];
		unsigned long nr = (unsigned long)((r->end + 1 - r->start) >> ZD_PAGE_SHIFT);

		if (pgoff >= range_pgoff && pgoff - range_pgoff < nr)
			return (unsigned long)(r->start >> ZD_PAGE_SHIFT) + (pgoff - range_pgoff);
		range_pgoff += nr;
	}
	return ZD_DEVDAX_NO_PFN;
}

/*
 * dax_pgoff_to_phys() with its size check: the pfn backing @pgoff if the
 * @nr pages from there lie in one range, else ZD_DEVDAX_NO_PFN.
 */
static unsigned long pgoff_to_pfn_size(const struct zd_devdax *dd, unsigned long pgoff,
				       unsigned long nr)
{
	unsigned long pfn = zd_devdax_pgoff_to_pfn(dd, pgoff), last;

	if (pfn == ZD_DEVDAX_NO_PFN || pgoff + nr - 1 < pgoff)
		return ZD_DEVDAX_NO_PFN;
	last = zd_devdax_pgoff_to_pfn(dd, pgoff + nr - 1);
	if (last != pfn + nr - 1)
		return ZD_DEVDAX_NO_PFN;
	return pfn;
}

/* ---- mmap ---- */

/*
 * check_vma(): the device is alive, the mapping shared, the VMA aligned to
 * the device alignment and DAX-capable (R9.1). @dd is NULL when dead.
 * Context: inside a dax_read_lock section.
 */
static int check_vma(const struct zd_devdax *dd, const struct zd_vm_area_struct *vma)
{
	unsigned long mask;

	if (!dd)
		return -ENXIO;
	/* prevent private mappings from being established */
	if (!(vma->vm_flags & ZD_VM_MAYSHARE))
		return -EINVAL;
	mask = dd->align - 1;
	if ((vma->vm_start & mask) || (vma->vm_end & mask))
		return -EINVAL;
	if (!zd_vma_is_dax(vma))
		return -EINVAL;
	return 0;
}

static const struct zd_vm_operations_struct dax_vm_ops;

/* dax_mmap(): check under the lock, re-checked at fault time. */
static int dax_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	struct dax_inode *inode = file_inode(file);
	struct zd_devdax *dd = dax_read_lock(inode);
	int rc = check_vma(dd, vma);

	if (dd)
		dax_read_unlock(inode);
	if (rc)
		return rc;
	vma->vm_ops = &dax_vm_ops;
	vma->vm_flags |= ZD_VM_HUGEPAGE;
	return 0;
}

/* dax_get_unmapped_area(): place mappings at the device alignment. */
static unsigned long dax_get_unmapped_area_align(struct zd_file *file)
{
	return file_inode(file)->align;
}

static const struct zd_file_operations dax_fops = {
	.mmap = dax_mmap,
	.get_unmapped_area_align = dax_get_unmapped_area_align,
	.name = "dax",
};

/* dev_dax_may_split(): splits only at the device alignment. */
static int dev_dax_may_split(struct zd_vm_area_struct *vma, unsigned long addr)
{
	if (addr & (file_inode(vma->vm_file)->align - 1))
		return -EINVAL;
	return 0;
}

/* dev_dax_pagesize(). */
static unsigned long dev_dax_pagesize(struct zd_vm_area_struct *vma)
{
	return file_inode(vma->vm_file)->align;
}

/* ---- faults ---- */

/*
 * dax_set_mapping(): the folio head gets the file's mapping and index on
 * its first mapping, and keeps them (R9.3, R11.4: not cleared at reset).
 * Linux writes unlocked (racing writers store the same values); a lock
 * keeps the model free of C11 data races.
 */
static void dax_set_mapping(struct dax_inode *inode, struct zd_folio *folio,
			    unsigned long pgoff)
{
	zd_spin_lock(&inode->mapping_lock);
	if (!folio->page.mapping) {
		folio->page.mapping = inode->mapping;
		folio->page.index = pgoff;
	}
	zd_spin_unlock(&inode->mapping_lock);
}

/*
 * The folio backing file page @pgoff for a fault of @nr pages, or NULL
 * (SIGBUS) if the pages are not all in the device. The pfn must start a
 * folio: a VMA whose vm_pgoff is not a multiple of the alignment would
 * make Linux map the enclosing folio (other bytes than the file offset
 * names); we refuse it instead. Context: inside a dax_read_lock section
 * (the memmap stays until destroy, which first kills and drains).
 */
static struct zd_folio *fault_folio(struct zd_devdax *dd, unsigned long pgoff, unsigned long nr)
{
	unsigned long pfn = pgoff_to_pfn_size(dd, pgoff, nr);
	struct zd_page *page;

	if (pfn == ZD_DEVDAX_NO_PFN || (pfn & (nr - 1)))
		return NULL;
	page = zd_pfn_to_page(dd->sys, pfn);
	if (!page || zd_page_is_tail(page) || zd_folio_nr_pages(zd_page_folio(page)) != nr)
		return NULL;
	return zd_page_folio(page);
}

/* The legacy scheme maps devmap pfns without references (6.14 and older, L6). */
static bool legacy_devmap(const struct zd_devdax *dd)
{
	return zd_system_scheme(dd->sys) == ZD_SCHEME_ONE;
}

/* __dev_dax_pte_fault(). */
static zd_vm_fault_t dev_dax_pte_fault(struct dax_inode *inode, struct zd_devdax *dd,
				       struct zd_vm_fault *vmf)
{
	struct zd_folio *folio;

	if (check_vma(dd, vmf->vma))
		return ZD_VM_FAULT_SIGBUS;
	/* alignment > fault size, or (the same here) fault size != alignment */
	if (dd->align != ZD_PAGE_SIZE)
		return ZD_VM_FAULT_SIGBUS;
	folio = fault_folio(dd, vmf->pgoff, 1);
	if (!folio)
		return ZD_VM_FAULT_SIGBUS;
	dax_set_mapping(inode, folio, vmf->pgoff);
	if (legacy_devmap(dd))
		return zd_vmf_insert_mixed(vmf, zd_folio_pfn(folio), ZD_PFN_DEV | ZD_PFN_MAP);
	return zd_vmf_insert_page_mkwrite(vmf, &folio->page, vmf->flags & ZD_FAULT_FLAG_WRITE);
}

/* __dev_dax_pmd_fault() and __dev_dax_pud_fault(): @order is PMD or PUD. */
static zd_vm_fault_t dev_dax_huge_level_fault(struct dax_inode *inode, struct zd_devdax *dd,
					      struct zd_vm_fault *vmf, unsigned int order)
{
	unsigned long fault_size = ZD_PAGE_SIZE << order;
	unsigned long addr = vmf->address & ~(fault_size - 1);
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_folio *folio;
	unsigned long pgoff;

	if (check_vma(dd, vma))
		return ZD_VM_FAULT_SIGBUS;
	if (dd->align > fault_size)
		return ZD_VM_FAULT_SIGBUS;
	if (fault_size > dd->align)
		return ZD_VM_FAULT_FALLBACK;
	/* if we are outside of the VMA */
	if (addr < vma->vm_start || addr + fault_size > vma->vm_end)
		return ZD_VM_FAULT_SIGBUS;
	pgoff = zd_linear_page_index(vma, addr);
	folio = fault_folio(dd, pgoff, 1ul << order);
	if (!folio)
		return ZD_VM_FAULT_SIGBUS;
	dax_set_mapping(inode, folio, pgoff);
	if (legacy_devmap(dd)) {
		unsigned long pfn = zd_folio_pfn(folio), f = ZD_PFN_DEV | ZD_PFN_MAP;
		bool write = vmf->flags & ZD_FAULT_FLAG_WRITE;

		return order == ZD_PMD_ORDER ? zd_vmf_insert_pfn_pmd(vmf, pfn, f, write) :
					       zd_vmf_insert_pfn_pud(vmf, pfn, f, write);
	}
	if (order == ZD_PMD_ORDER)
		return zd_vmf_insert_folio_pmd(vmf, folio, vmf->flags & ZD_FAULT_FLAG_WRITE);
	return zd_vmf_insert_folio_pud(vmf, folio, vmf->flags & ZD_FAULT_FLAG_WRITE);
}

static void count_fault(struct dax_inode *inode, zd_vm_fault_t rc, int level)
{
	if (rc & ZD_VM_FAULT_SIGBUS)
		zd_atomic_fetch_add_relaxed(&inode->nr_sigbus, 1ul);
	else if (rc & ZD_VM_FAULT_FALLBACK)
		zd_atomic_fetch_add_relaxed(&inode->nr_fallbacks, 1ul);
	else if (!(rc & ZD_VM_FAULT_ERROR))
		zd_atomic_fetch_add_relaxed(&inode->nr_faults[level - 1], 1ul);
}

/* dev_dax_huge_fault(): every level runs under dax_read_lock(). */
static zd_vm_fault_t dev_dax_huge_fault(struct zd_vm_fault *vmf, unsigned int order)
{
	struct dax_inode *inode = file_inode(vmf->vma->vm_file);
	struct zd_devdax *dd = dax_read_lock(inode);
	zd_vm_fault_t rc;
	int level = 1;

	if (!dd)
		rc = ZD_VM_FAULT_SIGBUS;	/* check_vma: not alive */
	else if (order == 0)
		rc = dev_dax_pte_fault(inode, dd, vmf);
	else if (order == ZD_PMD_ORDER || order == ZD_PUD_ORDER) {
		level = order == ZD_PMD_ORDER ? 2 : 3;
		rc = dev_dax_huge_level_fault(inode, dd, vmf, order);
	} else {
		rc = ZD_VM_FAULT_SIGBUS;
	}
	if (dd)
		dax_read_unlock(inode);
	count_fault(inode, rc, level);
	return rc;
}

/* dev_dax_fault(). */
static zd_vm_fault_t dev_dax_fault(struct zd_vm_fault *vmf)
{
	return dev_dax_huge_fault(vmf, 0);
}

static const struct zd_vm_operations_struct dax_vm_ops = {
	.fault = dev_dax_fault,
	.huge_fault = dev_dax_huge_fault,
	.may_split = dev_dax_may_split,
	.pagesize = dev_dax_pagesize,
	.name = "dax",
};

/* ---- the file ---- */

/* At the last zd_fput: no VMA maps the file any more, the device is gone. */
static void dax_file_release(struct zd_file *file)
{
	struct dax_inode *inode = file_inode(file);

	zd_address_space_free(inode->mapping);
	zd_spin_lock_destroy(&inode->mapping_lock);
	free(inode);
}

static struct dax_inode *dax_inode_create(struct zd_system *sys, struct zd_devdax *dd)
{
	struct dax_inode *inode = calloc(1, sizeof(*inode));

	if (!inode)
		return NULL;
	if (zd_address_space_alloc(sys, ZD_AS_DAX, &inode->mapping)) {
		free(inode);
		return NULL;
	}
	zd_spin_lock_init(&inode->mapping_lock);
	inode->sys = sys;
	inode->align = dd->align;
	inode->dev_dax = dd;
	zd_atomic_init(&inode->active, 0l);
	for (int i = 0; i < 3; i++)
		zd_atomic_init(&inode->nr_faults[i], 0ul);
	zd_atomic_init(&inode->nr_fallbacks, 0ul);
	zd_atomic_init(&inode->nr_sigbus, 0ul);
	inode->file.f_op = &dax_fops;
	inode->file.f_mapping = inode->mapping;
	inode->file.private_data = inode;
	inode->file.release = dax_file_release;
	zd_atomic_init(&inode->file.f_count, 1l);	/* the device's reference */
	return inode;
}

/* ---- the device ---- */

static bool valid_align(unsigned long align)
{
	return align == ZD_PAGE_SIZE || align == ZD_PMD_SIZE || align == ZD_PUD_SIZE;
}

int zd_devdax_create(struct zd_system *sys, uint64_t size, unsigned long align,
		     struct zd_devdax **out)
{
	uint64_t region_align = align > ZD_SUBSECTION_SIZE ? align : ZD_SUBSECTION_SIZE;
	struct zd_devdax *dd;
	int err;

	if (!valid_align(align) || !size || size % align || size % ZD_SUBSECTION_SIZE)
		return -EINVAL;
	dd = calloc(1, sizeof(*dd));
	if (!dd)
		return -ENOMEM;
	dd->sys = sys;
	dd->size = size;
	dd->align = align;
	err = zd_request_free_mem_region(sys, size, region_align, &dd->start);
	if (err)
		goto fail_free;
	dd->pgmap.type = ZD_MEMORY_DEVICE_GENERIC;
	/* folio order = alignment order: 0, PMD_ORDER or PUD_ORDER */
	dd->pgmap.vmemmap_shift = align == ZD_PUD_SIZE ? ZD_PUD_ORDER :
				  align == ZD_PMD_SIZE ? ZD_PMD_ORDER : 0;
	dd->pgmap.owner = dd;
	dd->pgmap.nr_range = 1;
	dd->pgmap.ranges[0].start = dd->start;
	dd->pgmap.ranges[0].end = dd->start + size - 1;
	err = zd_memremap_pages(sys, &dd->pgmap);
	if (err)
		goto fail_region;
	dd->inode = dax_inode_create(sys, dd);
	if (!dd->inode) {
		err = -ENOMEM;
		goto fail_pgmap;
	}
	*out = dd;
	return 0;
fail_pgmap:
	zd_memunmap_pages(&dd->pgmap);
fail_region:
	zd_release_mem_region(sys, dd->start, size);
fail_free:
	free(dd);
	return err;
}

struct zd_file *zd_devdax_file(struct zd_devdax *dd)
{
	return &dd->inode->file;
}

struct zd_dev_pagemap *zd_devdax_pgmap(struct zd_devdax *dd)
{
	return &dd->pgmap;
}

unsigned long zd_devdax_align(const struct zd_devdax *dd)
{
	return dd->align;
}

uint64_t zd_devdax_size(const struct zd_devdax *dd)
{
	return dd->size;
}

void zd_devdax_get_stats(struct zd_devdax *dd, struct zd_devdax_stats *st)
{
	struct dax_inode *inode = dd->inode;

	for (int i = 0; i < 3; i++)
		st->faults[i] = zd_atomic_load_relaxed(&inode->nr_faults[i]);
	st->fallbacks = zd_atomic_load_relaxed(&inode->nr_fallbacks);
	st->sigbus = zd_atomic_load_relaxed(&inode->nr_sigbus);
}

void zd_devdax_kill(struct zd_devdax *dd)
{
	struct dax_inode *inode = dd->inode;

	/* kill_dax(): clear "alive", then synchronize_srcu() for faults in flight. */
	zd_atomic_fetch_or_acq_rel(&inode->active, DAX_DEAD);
	zd_wait_var_event(zd_system_wait_table(inode->sys), &inode->active, dax_drained, NULL, 0);
	/* No section can start or is running: nobody reads the pointer now. */
	inode->dev_dax = NULL;
	/* kill_dev_dax(): unmap_mapping_range(inode->i_mapping, 0, 0, 1). */
	zd_unmap_mapping_range(inode->mapping, 0, 0);
}

/*
 * Wait until every folio is back at its idle refcount. Puts of a GENERIC
 * folio to 1 wake nobody, so sleep in slices and look again. Once idle a
 * folio stays idle: the device is dead and unmapped, nothing can map it or
 * find it through a page table any more. (A GUP-fast walker that read an
 * entry before the zap may still grab a reference; it re-checks the entry,
 * drops the reference at once, and does all that inside an RCU read
 * section that memunmap_pages' grace period waits for.) 0 or -EBUSY at
 * the deadline (0: none).
 */
static int wait_folios_idle(struct zd_devdax *dd, uint64_t timeout_ns)
{
	uint64_t deadline = timeout_ns ? zd_deadline_ns(timeout_ns) : 0;
	int idle = zd_pgmap_free_refcount(&dd->pgmap);
	unsigned long step = zd_pgmap_vmemmap_nr(&dd->pgmap);
	unsigned long pfn = (unsigned long)(dd->start >> ZD_PAGE_SHIFT);
	unsigned long end = pfn + (unsigned long)(dd->size >> ZD_PAGE_SHIFT);

	for (; pfn < end; pfn += step) {
		struct zd_folio *folio = zd_pfn_folio(dd->sys, pfn);

		while (zd_folio_ref_count(folio) != idle) {
			uint64_t now = zd_monotonic_ns(), slice = 10 * 1000 * 1000;

			if (deadline && now >= deadline)
				return -EBUSY;
			if (deadline && deadline - now < slice)
				slice = deadline - now;
			zd_wait_folio_refcount(folio, idle, slice);
		}
	}
	return 0;
}

int zd_devdax_unbind(struct zd_devdax *dd, uint64_t timeout_ns)
{
	int err;

	zd_devdax_kill(dd);
	/*
	 * unregister_dev_dax() -> devm release -> memunmap_pages(): no wait
	 * for GENERIC pages in the zero scheme (R1.13: a page still held is
	 * reported and its memmap orphaned); the legacy scheme's per-page
	 * pgmap references make it wait for them (L1).
	 */
	err = zd_memunmap_pages_timeout(&dd->pgmap, timeout_ns);
	if (err)
		return err;
	zd_release_mem_region(dd->sys, dd->start, dd->size);
	zd_fput(&dd->inode->file);
	free(dd);
	return 0;
}

int zd_devdax_destroy_timeout(struct zd_devdax *dd, uint64_t timeout_ns)
{
	int err;

	zd_devdax_kill(dd);
	/* Not Linux: wait for every folio to be idle before the memmap goes. */
	err = wait_folios_idle(dd, timeout_ns);
	if (err)
		return err;
	return zd_devdax_unbind(dd, 0);
}

void zd_devdax_destroy(struct zd_devdax *dd)
{
	zd_devdax_unbind(dd, 0);
}
