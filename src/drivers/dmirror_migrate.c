// SPDX-License-Identifier: MIT
/*
 * src/drivers/dmirror_migrate.c - the HMM test device's migrations.
 *
 * Models lib/test_hmm.c's migration half: dmirror_migrate_to_device
 * (dmirror_migrate_alloc_and_copy, dmirror_migrate_finalize_and_map),
 * dmirror_migrate_to_system and the CPU fault on a device-private page
 * (dmirror_devmem_fault, both through
 * dmirror_devmem_fault_alloc_and_copy), and dmirror_device_evict_chunk
 * (migrate_device_range: every page of a chunk back to RAM).
 *
 *   MIGRATE_TO_DEV, per VMA step of at most PTRS_PER_PTE pages:
 *     migrate_vma_setup (SELECT_SYSTEM)  ->  device page per src entry,
 *     copy (zero fill for a hole)  ->  migrate_vma_pages  ->  device
 *     page table entries for what moved  ->  migrate_vma_finalize;
 *     then the range is read back through the device page table
 *     (-ENOENT where a page is not there).
 *   MIGRATE_TO_SYS and the CPU fault: SELECT_DEVICE_PRIVATE or
 *     _COHERENT with this unit as owner; a RAM page per entry, the device
 *     page table entry dropped, copy.
 *
 * A device folio's head zone_device_data points to the mirror that
 * migrated it there (test_hmm keeps that pointer in the backing page),
 * which is how the CPU fault finds the mirror. A THP moves whole
 * (MIGRATE_VMA_SELECT_COMPOUND) into a PMD-order device folio and comes
 * back whole into a PMD-order RAM folio. Where the kernel then splits a
 * folio (the one-shot FAIL_ALLOC making the large allocation fail, a CPU
 * fault on a partly unmapped or misaligned device THP) the model's
 * migrate_vma cannot: the THP stays where it is (the read back reports
 * -ENOENT; the fault is SIGBUS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/dmirror.h>
#include <zonedev/memremap.h>
#include <zonedev/migrate.h>
#include <zonedev/mm.h>
#include <zonedev/page_alloc.h>
#include "dmirror_internal.h"

#define PTRS_PER_PTE 512

/* The pages this unit's migrations collect: its own memory type. */
static unsigned long dmirror_select_device(struct zd_dmirror *dmirror)
{
	return dmirror->mdevice->zone_device_type == ZD_HMM_DMIRROR_MEMORY_DEVICE_PRIVATE ?
	       ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE : ZD_MIGRATE_VMA_SELECT_DEVICE_COHERENT;
}

static void copy_page_data(struct zd_page *dst, struct zd_page *src)
{
	void *d = _zd_dmirror_map_page(dst);

	if (!d)
		return;		/* data=none: nothing to copy */
	if (src)
		memcpy(d, _zd_dmirror_map_page(src), ZD_PAGE_SIZE);
	else
		memset(d, 0, ZD_PAGE_SIZE);
}

/* folio_copy: @nr pages (a hole's source is NULL: zero fill). */
static void copy_folio_data(struct zd_page *dst, struct zd_page *src, unsigned long nr)
{
	for (unsigned long i = 0; i < nr; i++)
		copy_page_data(dst + i, src ? src + i : NULL);
}

/*
 * The one-shot HMM_DMIRROR_FLAG_FAIL_ALLOC: the next large allocation of
 * this mirror fails. Context: mmap_lock held (commands of one mirror
 * are serialised by it for the flag's purpose, as in test_hmm).
 */
static bool dmirror_fail_large_alloc(struct zd_dmirror *dmirror)
{
	if (!(dmirror->flags & ZD_HMM_DMIRROR_FLAG_FAIL_ALLOC))
		return false;
	dmirror->flags &= ~ZD_HMM_DMIRROR_FLAG_FAIL_ALLOC;
	return true;
}

/* Pages one src entry stands for: a COMPOUND entry a whole PMD-order folio. */
static unsigned long entry_nr_pages(unsigned long mpfn)
{
	return mpfn & ZD_MIGRATE_PFN_COMPOUND ? DMIRROR_LARGE_NR : 1;
}

/* ---- system -> device ---- */

static void dmirror_migrate_alloc_and_copy(struct zd_migrate_vma *args, struct zd_dmirror *dmirror)
{
	struct zd_system *sys = dmirror->mdevice->sys;

	for (unsigned long i = 0; i < args->npages;) {
		unsigned long src = args->src[i], nr = entry_nr_pages(src);
		struct zd_page *spage = zd_migrate_pfn_to_page(sys, src);
		struct zd_page *dpage;

		if (!(src & ZD_MIGRATE_PFN_MIGRATE)) {
			i++;
			continue;
		}
		/* SELECT_SYSTEM: a device page here would be a core bug. */
		if (spage && zd_is_zone_device_page(spage)) {
			i += nr;
			continue;
		}
		if (nr > 1) {
			/*
			 * A whole THP. When the large allocation fails, small
			 * pages are allocated for its pages: migrate_vma_pages
			 * splits the source.
			 */
			dpage = dmirror_fail_large_alloc(dmirror) ? NULL :
				_zd_dmirror_devmem_alloc(dmirror->mdevice, true);
			if (!dpage) {
				for (unsigned long k = 0; k < nr; k++) {
					struct zd_page *d = zd_dmirror_devmem_alloc_page(dmirror->mdevice);

					if (!d)
						break;
					copy_folio_data(d, spage + k, 1);
					d->zone_device_data = dmirror;
					args->dst[i + k] = zd_migrate_pfn(zd_page_to_pfn(d)) |
							   (src & ZD_MIGRATE_PFN_WRITE);
				}
				i += nr;
				continue;
			}
		} else {
			dpage = zd_dmirror_devmem_alloc_page(dmirror->mdevice);
		}
		if (dpage) {
			copy_folio_data(dpage, spage, nr);
			dpage->zone_device_data = dmirror;
			args->dst[i] = zd_migrate_pfn(zd_page_to_pfn(dpage));
			if (nr > 1)
				args->dst[i] |= ZD_MIGRATE_PFN_COMPOUND;
			if ((src & ZD_MIGRATE_PFN_WRITE) ||
			    (!spage && (args->vma->vm_flags & ZD_VM_WRITE)))
				args->dst[i] |= ZD_MIGRATE_PFN_WRITE;
		}
		/* else left behind: the read back reports -ENOENT */
		i += nr;
	}
}

static void dmirror_migrate_finalize_and_map(struct zd_migrate_vma *args,
					     struct zd_dmirror *dmirror)
{
	struct zd_system *sys = dmirror->mdevice->sys;
	unsigned long vpn0 = args->start >> ZD_PAGE_SHIFT;

	zd_spin_lock(&dmirror->mutex);
	for (unsigned long i = 0; i < args->npages;) {
		unsigned long dst = args->dst[i], nr = entry_nr_pages(dst);
		struct zd_page *dpage = zd_migrate_pfn_to_page(sys, dst);

		if (!(args->src[i] & ZD_MIGRATE_PFN_MIGRATE) || !dpage) {
			i += nr;
			continue;
		}
		/* The device pages themselves: the copy engine reaches their bytes. */
		for (unsigned long k = 0; k < nr; k++)
			_zd_dmirror_pt_store(dmirror, vpn0 + i + k,
					     _zd_dmirror_tag_pointer(dpage + k,
								     dst & ZD_MIGRATE_PFN_WRITE ?
								     DPT_XA_TAG_WRITE : 0));
		i += nr;
	}
	zd_spin_unlock(&dmirror->mutex);
}

/*
 * Runs @chunk on each step of [cmd->addr, cmd->addr + npages pages): at
 * most PTRS_PER_PTE pages, not past a VMA, collected by migrate_vma_setup
 * with @flags. -EINVAL where the range leaves the readable VMAs; the walk
 * stops at the first error, of the setup or of @chunk.
 */
static int dmirror_migrate_walk(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd,
				unsigned long flags,
				int (*chunk)(struct zd_migrate_vma *args,
					     struct zd_dmirror *dmirror, void *arg),
				void *arg)
{
	unsigned long size = cmd->npages << ZD_PAGE_SHIFT;
	unsigned long start = cmd->addr, end = start + size, next;
	struct zd_mm *mm = dmirror->notifier.mm;
	unsigned long *src_pfns, *dst_pfns;
	int ret = 0;

	if (end < start)
		return -EINVAL;
	src_pfns = calloc(PTRS_PER_PTE, sizeof(*src_pfns));
	dst_pfns = calloc(PTRS_PER_PTE, sizeof(*dst_pfns));
	if (!src_pfns || !dst_pfns) {
		ret = -ENOMEM;
		goto free;
	}
	zd_mmap_read_lock(mm);
	for (unsigned long addr = start; addr < end; addr = next) {
		struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);
		struct zd_migrate_vma args = { 0 };

		if (!vma || !(vma->vm_flags & ZD_VM_READ)) {
			ret = -EINVAL;
			break;
		}
		next = addr + PTRS_PER_PTE * ZD_PAGE_SIZE;
		if (next > end || next < addr)
			next = end;
		if (next > vma->vm_end)
			next = vma->vm_end;
		memset(dst_pfns, 0, PTRS_PER_PTE * sizeof(*dst_pfns));
		args.vma = vma;
		args.src = src_pfns;
		args.dst = dst_pfns;
		args.start = addr;
		args.end = next;
		args.pgmap_owner = dmirror->mdevice;
		args.flags = flags;
		ret = zd_migrate_vma_setup(&args);
		if (ret)
			break;
		ret = chunk(&args, dmirror, arg);
		if (ret)
			break;
	}
	zd_mmap_read_unlock(mm);
free:
	free(src_pfns);
	free(dst_pfns);
	return ret;
}

static int dmirror_migrate_chunk_to_device(struct zd_migrate_vma *args,
					   struct zd_dmirror *dmirror, void *arg)
{
	(void)arg;
	dmirror_migrate_alloc_and_copy(args, dmirror);
	zd_migrate_vma_pages(args);
	dmirror_migrate_finalize_and_map(args, dmirror);
	zd_migrate_vma_finalize(args);
	return 0;
}

int _zd_dmirror_migrate_to_device(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd)
{
	int ret = dmirror_migrate_walk(dmirror, cmd,
				       ZD_MIGRATE_VMA_SELECT_SYSTEM | ZD_MIGRATE_VMA_SELECT_COMPOUND,
				       dmirror_migrate_chunk_to_device, NULL);

	/* Return the migrated data for verification (only pages in the device). */
	if (!ret)
		ret = _zd_dmirror_read_back(dmirror, cmd);
	return ret;
}

/* ---- device -> system ---- */

/*
 * A RAM page for each device page collected, its device page table entry
 * dropped, the data copied. ZD_VM_FAULT_OOM when RAM is exhausted.
 */
static zd_vm_fault_t dmirror_devmem_fault_alloc_and_copy(struct zd_migrate_vma *args,
							 struct zd_dmirror *dmirror)
{
	struct zd_system *sys = dmirror->mdevice->sys;
	unsigned long vpn0 = args->start >> ZD_PAGE_SHIFT;

	for (unsigned long i = 0; i < args->npages;) {
		unsigned long src = args->src[i], nr = entry_nr_pages(src);
		struct zd_page *spage = zd_migrate_pfn_to_page(sys, src);
		struct zd_folio *dfolio;

		if (!spage || !(src & ZD_MIGRATE_PFN_MIGRATE)) {
			i += nr;
			continue;
		}
		/*
		 * A large device folio comes back as a large RAM folio. When
		 * that allocation fails, small RAM folios are allocated for its
		 * pages: migrate_vma_pages splits the device folio.
		 */
		dfolio = nr > 1 && dmirror_fail_large_alloc(dmirror) ? NULL :
			 zd_folio_alloc(sys, 0, nr > 1 ? ZD_PMD_ORDER : 0);
		if (!dfolio && nr > 1) {
			for (unsigned long k = 0; k < nr; k++) {
				struct zd_folio *d = zd_folio_alloc(sys, 0, 0);

				if (!d)
					return ZD_VM_FAULT_OOM;
				zd_folio_lock(d);
				zd_spin_lock(&dmirror->mutex);
				_zd_xa_erase(&dmirror->pt, vpn0 + i + k);
				zd_spin_unlock(&dmirror->mutex);
				copy_folio_data(&d->page, spage + k, 1);
				args->dst[i + k] = zd_migrate_pfn(zd_folio_pfn(d)) |
						   (src & ZD_MIGRATE_PFN_WRITE);
			}
			i += nr;
			continue;
		}
		if (!dfolio)
			return ZD_VM_FAULT_OOM;
		zd_folio_lock(dfolio);
		zd_spin_lock(&dmirror->mutex);
		for (unsigned long k = 0; k < nr; k++)
			_zd_xa_erase(&dmirror->pt, vpn0 + i + k);
		zd_spin_unlock(&dmirror->mutex);
		copy_folio_data(&dfolio->page, spage, nr);
		args->dst[i] = zd_migrate_pfn(zd_folio_pfn(dfolio));
		if (nr > 1)
			args->dst[i] |= ZD_MIGRATE_PFN_COMPOUND;
		if (src & ZD_MIGRATE_PFN_WRITE)
			args->dst[i] |= ZD_MIGRATE_PFN_WRITE;
		i += nr;
	}
	return 0;
}

/* Pages that had a page and still have MIGRATE after migrate_vma_pages. */
static unsigned long dmirror_successful_migrated_pages(const struct zd_migrate_vma *args)
{
	unsigned long cpages = 0;

	for (unsigned long i = 0; i < args->npages; i++)
		if ((args->src[i] & ZD_MIGRATE_PFN_VALID) && (args->src[i] & ZD_MIGRATE_PFN_MIGRATE))
			cpages += entry_nr_pages(args->src[i]);
	return cpages;
}

/* @arg counts the pages moved, as cmd->cpages reports them. */
static int dmirror_migrate_chunk_to_system(struct zd_migrate_vma *args,
					   struct zd_dmirror *dmirror, void *arg)
{
	unsigned long *cpages = arg;
	int ret = 0;

	if (dmirror_devmem_fault_alloc_and_copy(args, dmirror))
		ret = -ENOMEM;
	zd_migrate_vma_pages(args);
	*cpages += dmirror_successful_migrated_pages(args);
	zd_migrate_vma_finalize(args);
	return ret;
}

int _zd_dmirror_migrate_to_system(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd)
{
	unsigned long cpages = 0;
	int ret = dmirror_migrate_walk(dmirror, cmd,
				       dmirror_select_device(dmirror) |
				       ZD_MIGRATE_VMA_SELECT_COMPOUND,
				       dmirror_migrate_chunk_to_system, &cpages);

	cmd->cpages = cpages;
	return ret;
}

/*
 * migrate_to_ram (dmirror_devmem_fault): the CPU touched a device-private
 * page; migrate that one page back. vmf->page is locked and referenced by
 * the fault path (semantics R6.1).
 */
zd_vm_fault_t _zd_dmirror_devmem_fault(struct zd_vm_fault *vmf)
{
	struct zd_folio *folio = zd_page_folio(vmf->page);
	struct zd_dmirror *dmirror = folio->page.zone_device_data;
	unsigned long nr = zd_folio_nr_pages(folio);
	unsigned long *src_pfns, *dst_pfns;
	struct zd_migrate_vma args = { 0 };
	zd_vm_fault_t ret = 0;

	args.vma = vmf->vma;
	args.start = vmf->address - (unsigned long)(vmf->page - &folio->page) * ZD_PAGE_SIZE;
	args.end = args.start + nr * ZD_PAGE_SIZE;
	if (nr > 1 && (args.start < vmf->vma->vm_start || args.end > vmf->vma->vm_end ||
		       args.start >> (ZD_PAGE_SHIFT + ZD_PMD_ORDER) !=
		       (args.end - 1) >> (ZD_PAGE_SHIFT + ZD_PMD_ORDER))) {
		/*
		 * Partly unmapped or not PMD-aligned: only the faulting page
		 * moves; migrate_vma splits the folio.
		 */
		nr = 1;
		args.start = vmf->address;
		args.end = args.start + ZD_PAGE_SIZE;
	}
	src_pfns = calloc(nr, sizeof(*src_pfns));
	dst_pfns = calloc(nr, sizeof(*dst_pfns));
	if (!src_pfns || !dst_pfns) {
		ret = ZD_VM_FAULT_OOM;
		goto free;
	}
	args.src = src_pfns;
	args.dst = dst_pfns;
	args.pgmap_owner = dmirror->mdevice;
	args.flags = dmirror_select_device(dmirror) | ZD_MIGRATE_VMA_SELECT_COMPOUND;
	args.fault_page = vmf->page;
	if (zd_migrate_vma_setup(&args)) {
		ret = ZD_VM_FAULT_SIGBUS;
		goto free;
	}
	ret = dmirror_devmem_fault_alloc_and_copy(&args, dmirror);
	if (!ret) {
		zd_migrate_vma_pages(&args);
		/*
		 * No device finalize step: dmirror_devmem_fault_alloc_and_copy
		 * has dropped the device page table entries already.
		 */
	}
	zd_migrate_vma_finalize(&args);
free:
	free(src_pfns);
	free(dst_pfns);
	return ret;
}

/* ---- eviction ---- */

void _zd_dmirror_evict_chunk(struct dmirror_chunk *chunk)
{
	struct zd_system *sys = chunk->mdevice->sys;
	unsigned long start_pfn = zd_pgmap_range_pfn(&chunk->pagemap, 0);
	unsigned long npages = zd_pgmap_nr_pages(&chunk->pagemap);
	unsigned long *src_pfns = calloc(npages, sizeof(*src_pfns));
	unsigned long *dst_pfns = calloc(npages, sizeof(*dst_pfns));

	if (!src_pfns || !dst_pfns)
		goto free;	/* memunmap_pages then waits for the pages, as a held page makes it */
	zd_migrate_device_range(sys, src_pfns, start_pfn, npages);
	for (unsigned long i = 0; i < npages; i++) {
		struct zd_page *spage = zd_migrate_pfn_to_page(sys, src_pfns[i]);
		struct zd_folio *dfolio;

		if (!spage || !(src_pfns[i] & ZD_MIGRATE_PFN_MIGRATE))
			continue;
		/*
		 * __GFP_NOFAIL in the kernel: the data must not be lost. The
		 * model retries a while; a page still not moved keeps
		 * memunmap_pages waiting, as a held page does.
		 */
		dfolio = zd_folio_alloc(sys, 0, 0);
		for (int tries = 0; !dfolio && tries < 1000; tries++) {
			zd_cpu_relax();
			dfolio = zd_folio_alloc(sys, 0, 0);
		}
		if (!dfolio)
			continue;
		zd_folio_lock(dfolio);
		copy_page_data(&dfolio->page, spage);
		dst_pfns[i] = zd_migrate_pfn(zd_folio_pfn(dfolio));
		if (src_pfns[i] & ZD_MIGRATE_PFN_WRITE)
			dst_pfns[i] |= ZD_MIGRATE_PFN_WRITE;
	}
	zd_migrate_device_pages(sys, src_pfns, dst_pfns, npages);
	zd_migrate_device_finalize(sys, src_pfns, dst_pfns, npages);
free:
	free(src_pfns);
	free(dst_pfns);
}
