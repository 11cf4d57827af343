// SPDX-License-Identifier: MIT
/*
 * src/drivers/dmirror_cmd.c - the HMM test device's commands.
 *
 * Models lib/test_hmm.c's command half: dmirror_fops_unlocked_ioctl and
 * the commands it dispatches (dmirror_read, dmirror_write with their
 * fault passes dmirror_fault / dmirror_do_fault, dmirror_snapshot with
 * dmirror_mkentry, dmirror_exclusive, the FLAGS word,
 * dmirror_check_atomic, the RELEASE of the device memory), the
 * interval notifier, and the device page table (an xarray of tagged page
 * pointers under the mirror's mutex).
 *
 * Each open registers an mmu interval notifier over the whole address
 * space; dmirror_interval_invalidate drops the entries of an invalidated
 * range, so an entry holds no reference: the CPU mapping keeps its page
 * alive until the invalidation that removes the entry. Fault passes and
 * snapshots follow the read_begin / hmm_range_fault / read_retry
 * protocol. Migrations are in dmirror_migrate.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/dmirror.h>
#include <zonedev/hmm.h>
#include <zonedev/page_alloc.h>
#include <zonedev/memremap.h>
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>
#include "dmirror_internal.h"

/* ---- the device page table ---- */

static struct zd_page *entry_page(void *entry)
{
	return (struct zd_page *)((uintptr_t)entry & ~DPT_XA_TAG_MASK);
}

static unsigned long entry_tag(void *entry)
{
	return (uintptr_t)entry & DPT_XA_TAG_MASK;
}


void _zd_dmirror_pt_clear(struct zd_dmirror *dmirror, unsigned long start, unsigned long end)
{
	unsigned long index = start >> ZD_PAGE_SHIFT, last = (end >> ZD_PAGE_SHIFT) - 1;
	void *entry;

	if (end - start < ZD_PAGE_SIZE)
		return;
	while ((entry = _zd_xa_find(&dmirror->pt, &index, last))) {
		_zd_xa_erase(&dmirror->pt, index);
		if (index++ == last)
			break;
	}
}

/* ---- the notifier ---- */

static struct zd_dmirror *notifier_to_dmirror(struct zd_mmu_interval_notifier *mni)
{
	return (struct zd_dmirror *)((char *)mni - offsetof(struct zd_dmirror, notifier));
}

/*
 * dmirror_interval_invalidate: the CPU page table changes in @range;
 * drop the device's entries for it before it does. The driver's own
 * migrations (MIGRATE with this unit as owner) update the device page
 * table themselves.
 */
static bool dmirror_interval_invalidate(struct zd_mmu_interval_notifier *mni,
					const struct zd_mmu_notifier_range *range,
					unsigned long cur_seq)
{
	struct zd_dmirror *dmirror = notifier_to_dmirror(mni);

	if (range->event == ZD_MMU_NOTIFY_MIGRATE && range->owner == dmirror->mdevice)
		return true;
	/*
	 * The kernel only try-locks for a non-blockable range. Nothing here
	 * sleeps on the CPU page tables with the mutex held (faults run
	 * before it is taken), so waiting for it cannot deadlock.
	 */
	zd_spin_lock(&dmirror->mutex);
	zd_mmu_interval_set_seq(mni, cur_seq);
	_zd_dmirror_pt_clear(dmirror, range->start, range->end);
	zd_spin_unlock(&dmirror->mutex);
	return true;
}

static const struct zd_mmu_interval_notifier_ops dmirror_min_ops = {
	.invalidate = dmirror_interval_invalidate,
};

int _zd_dmirror_notifier_insert(struct zd_dmirror *dmirror)
{
	/* Mirror the whole address space, as test_hmm does (0 .. ULONG_MAX & PAGE_MASK). */
	return zd_mmu_interval_notifier_insert(&dmirror->notifier, dmirror->mm, 0,
					       ~0ul & ~(ZD_PAGE_SIZE - 1), &dmirror_min_ops);
}

void _zd_dmirror_notifier_remove(struct zd_dmirror *dmirror)
{
	zd_mmu_interval_notifier_remove(&dmirror->notifier);
}

/* ---- fault passes ---- */

#define DMIRROR_FAULT_WINDOW 32		/* pages per range fault, as test_hmm's pfns[] */

#define HMM_RANGE_DEFAULT_TIMEOUT_NS (1000ull * 1000 * 1000)	/* 1000 ms, include/linux/hmm.h */

/*
 * dmirror_do_fault: enter what hmm_range_fault found, writable where the
 * CPU maps it writable. Context: dmirror->mutex held, the range's
 * sequence still valid.
 */
static int dmirror_do_fault(struct zd_dmirror *dmirror, struct zd_hmm_range *range)
{
	struct zd_system *sys = dmirror->mdevice->sys;
	unsigned long *pfns = range->hmm_pfns;

	for (unsigned long vpn = range->start >> ZD_PAGE_SHIFT;
	     vpn < range->end >> ZD_PAGE_SHIFT; vpn++, pfns++) {
		struct zd_page *page;
		unsigned long tag = 0;
		int err;

		/* Faulting was asked for: no error entry, every page valid. */
		if ((*pfns & ZD_HMM_PFN_ERROR) || !(*pfns & ZD_HMM_PFN_VALID))
			return -EFAULT;
		page = zd_hmm_pfn_to_page(sys, *pfns);
		if (*pfns & ZD_HMM_PFN_WRITE)
			tag = DPT_XA_TAG_WRITE;
		else if (range->default_flags & ZD_HMM_PFN_REQ_WRITE)
			return -EFAULT;
		err = _zd_dmirror_pt_store(dmirror, vpn, _zd_dmirror_tag_pointer(page, tag));
		if (err)
			return err;
	}
	return 0;
}

/*
 * hmm_range_fault on @range, retried while invalidations race it, for at
 * most HMM_RANGE_DEFAULT_TIMEOUT (-EBUSY). On success dmirror->mutex is
 * held, so that range->hmm_pfns stay valid while the caller uses them.
 */
static int dmirror_hmm_range_fault_locked(struct zd_dmirror *dmirror, struct zd_hmm_range *range)
{
	uint64_t deadline = zd_deadline_ns(HMM_RANGE_DEFAULT_TIMEOUT_NS);
	struct zd_mm *mm = dmirror->notifier.mm;
	int ret;

	for (;;) {
		if (zd_monotonic_ns() > deadline)
			return -EBUSY;
		range->notifier_seq = zd_mmu_interval_read_begin(range->notifier);
		zd_mmap_read_lock(mm);
		ret = zd_hmm_range_fault(range);
		zd_mmap_read_unlock(mm);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;
		zd_spin_lock(&dmirror->mutex);
		if (!zd_mmu_interval_read_retry(range->notifier, range->notifier_seq))
			return 0;
		zd_spin_unlock(&dmirror->mutex);
	}
}

/*
 * dmirror_range_fault: one window of a fault pass, retried while
 * invalidations race it, for at most HMM_RANGE_DEFAULT_TIMEOUT (-EBUSY).
 */
static int dmirror_range_fault(struct zd_dmirror *dmirror, struct zd_hmm_range *range)
{
	int ret = dmirror_hmm_range_fault_locked(dmirror, range);

	if (ret)
		return ret;
	ret = dmirror_do_fault(dmirror, range);
	zd_spin_unlock(&dmirror->mutex);
	return ret;
}

/* dmirror_fault: a fault pass over [start, end), window by window. */
static int dmirror_fault(struct zd_dmirror *dmirror, unsigned long start, unsigned long end,
			 bool write)
{
	unsigned long pfns[DMIRROR_FAULT_WINDOW];
	struct zd_hmm_range range = {
		.notifier = &dmirror->notifier,
		.hmm_pfns = pfns,
		.pfn_flags_mask = 0,
		.default_flags = ZD_HMM_PFN_REQ_FAULT | (write ? ZD_HMM_PFN_REQ_WRITE : 0),
		.dev_private_owner = dmirror->mdevice,
	};

	for (unsigned long addr = start; addr < end; addr = range.end) {
		int ret;

		range.start = addr;
		range.end = addr + DMIRROR_FAULT_WINDOW * ZD_PAGE_SIZE;
		if (range.end > end || range.end < addr)
			range.end = end;
		ret = dmirror_range_fault(dmirror, &range);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- READ and WRITE ---- */

/* struct dmirror_bounce: the kernel's vmalloc'ed copy of the user buffer. */
struct dmirror_bounce {
	unsigned char *ptr;
	unsigned long size;
	unsigned long addr;
	unsigned long cpages;
};

static int dmirror_bounce_init(struct dmirror_bounce *bounce, unsigned long addr,
			       unsigned long size)
{
	bounce->addr = addr;
	bounce->size = size;
	bounce->cpages = 0;
	bounce->ptr = malloc(size);
	return bounce->ptr ? 0 : -ENOMEM;
}

static void dmirror_bounce_fini(struct dmirror_bounce *bounce)
{
	free(bounce->ptr);
}

/* Copy out of the device page table; -ENOENT at the first page without an entry. */
static int dmirror_do_read(struct zd_dmirror *dmirror, unsigned long start, unsigned long end,
			   struct dmirror_bounce *bounce)
{
	unsigned char *ptr = bounce->ptr + (start - bounce->addr);

	for (unsigned long vpn = start >> ZD_PAGE_SHIFT; vpn < end >> ZD_PAGE_SHIFT; vpn++) {
		void *entry = _zd_xa_load(&dmirror->pt, vpn);
		struct zd_page *page = entry_page(entry);
		void *data;

		if (!page)
			return -ENOENT;
		data = _zd_dmirror_map_page(page);
		if (!data)
			return -EOPNOTSUPP;
		memcpy(ptr, data, ZD_PAGE_SIZE);
		ptr += ZD_PAGE_SIZE;
		bounce->cpages++;
	}
	return 0;
}

/* Copy into the device page table; -ENOENT at the first page not mapped writable. */
static int dmirror_do_write(struct zd_dmirror *dmirror, unsigned long start, unsigned long end,
			    struct dmirror_bounce *bounce)
{
	const unsigned char *ptr = bounce->ptr + (start - bounce->addr);

	for (unsigned long vpn = start >> ZD_PAGE_SHIFT; vpn < end >> ZD_PAGE_SHIFT; vpn++) {
		void *entry = _zd_xa_load(&dmirror->pt, vpn);
		struct zd_page *page = entry_page(entry);
		void *data;

		if (!page || entry_tag(entry) != DPT_XA_TAG_WRITE)
			return -ENOENT;
		data = _zd_dmirror_map_page(page);
		if (!data)
			return -EOPNOTSUPP;
		memcpy(data, ptr, ZD_PAGE_SIZE);
		ptr += ZD_PAGE_SIZE;
		bounce->cpages++;
	}
	return 0;
}

typedef int (*dmirror_copy_fn)(struct zd_dmirror *, unsigned long, unsigned long,
			       struct dmirror_bounce *);

/* dmirror_read / dmirror_write: copy, and on a missing entry fault and go on. */
static int dmirror_rw(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd, bool write)
{
	dmirror_copy_fn copy = write ? dmirror_do_write : dmirror_do_read;
	unsigned long size = cmd->npages << ZD_PAGE_SHIFT;
	unsigned long start = cmd->addr, end = start + size;
	struct dmirror_bounce bounce;
	int ret;

	if (end < start)
		return -EINVAL;
	ret = dmirror_bounce_init(&bounce, start, size);
	if (ret)
		return ret;
	if (write)
		memcpy(bounce.ptr, (const void *)(uintptr_t)cmd->ptr, size);
	for (;;) {
		zd_spin_lock(&dmirror->mutex);
		ret = copy(dmirror, start, end, &bounce);
		zd_spin_unlock(&dmirror->mutex);
		if (ret != -ENOENT)
			break;
		start = cmd->addr + (bounce.cpages << ZD_PAGE_SHIFT);
		ret = dmirror_fault(dmirror, start, end, write);
		if (ret)
			break;
		cmd->faults++;
	}
	if (!ret && !write)
		memcpy((void *)(uintptr_t)cmd->ptr, bounce.ptr, size);
	cmd->cpages = bounce.cpages;
	dmirror_bounce_fini(&bounce);
	return ret;
}

int _zd_dmirror_read_back(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd)
{
	unsigned long size = cmd->npages << ZD_PAGE_SHIFT;
	struct dmirror_bounce bounce;
	int ret;

	ret = dmirror_bounce_init(&bounce, cmd->addr, size);
	if (ret)
		return ret;
	zd_spin_lock(&dmirror->mutex);
	ret = dmirror_do_read(dmirror, cmd->addr, cmd->addr + size, &bounce);
	zd_spin_unlock(&dmirror->mutex);
	if (!ret)
		memcpy((void *)(uintptr_t)cmd->ptr, bounce.ptr, size);	/* copy_to_user */
	cmd->cpages = bounce.cpages;
	dmirror_bounce_fini(&bounce);
	return ret;
}

/* ---- SNAPSHOT ---- */

#define DMIRROR_SNAPSHOT_WINDOW 64	/* pages per snapshot step */

/* One byte of the snapshot (dmirror_mkentry). */
static unsigned char dmirror_mkentry(struct zd_dmirror *dmirror, unsigned long entry)
{
	struct zd_page *page;
	unsigned char perm;
	unsigned int order;

	if (entry & ZD_HMM_PFN_ERROR)
		return ZD_HMM_DMIRROR_PROT_ERROR;
	if (!(entry & ZD_HMM_PFN_VALID))
		return ZD_HMM_DMIRROR_PROT_NONE;
	page = zd_hmm_pfn_to_page(dmirror->mdevice->sys, entry);
	if (zd_is_zone_device_page(page) &&
	    zd_page_pgmap(page)->type == ZD_MEMORY_DEVICE_PRIVATE)
		/* Is the page migrated to this device or some other? */
		perm = zd_page_pgmap(page)->owner == dmirror->mdevice ?
		       ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL : ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
	else if (zd_is_zone_device_page(page) &&
		 zd_page_pgmap(page)->type == ZD_MEMORY_DEVICE_COHERENT)
		perm = zd_page_pgmap(page)->owner == dmirror->mdevice ?
		       ZD_HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL :
		       ZD_HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
	else if (zd_page_folio(page) == zd_zero_folio(dmirror->mdevice->sys))
		perm = ZD_HMM_DMIRROR_PROT_ZERO;
	else
		perm = ZD_HMM_DMIRROR_PROT_NONE;
	perm |= entry & ZD_HMM_PFN_WRITE ? ZD_HMM_DMIRROR_PROT_WRITE : ZD_HMM_DMIRROR_PROT_READ;
	order = zd_hmm_pfn_to_map_order(entry);
	if (order == ZD_PMD_ORDER)
		perm |= ZD_HMM_DMIRROR_PROT_PMD;
	else if (order == ZD_PUD_ORDER)
		perm |= ZD_HMM_DMIRROR_PROT_PUD;
	return perm;
}

/* The snapshot's own notifier: it only moves the sequence on. */
struct dmirror_interval {
	struct zd_mmu_interval_notifier notifier;
	struct zd_dmirror *dmirror;
};

static bool dmirror_snapshot_invalidate(struct zd_mmu_interval_notifier *mni,
					const struct zd_mmu_notifier_range *range,
					unsigned long cur_seq)
{
	struct dmirror_interval *dmi = (struct dmirror_interval *)mni;

	(void)range;
	zd_spin_lock(&dmi->dmirror->mutex);
	zd_mmu_interval_set_seq(mni, cur_seq);
	zd_spin_unlock(&dmi->dmirror->mutex);
	return true;
}

static const struct zd_mmu_interval_notifier_ops dmirror_mrn_ops = {
	.invalidate = dmirror_snapshot_invalidate,
};

/*
 * dmirror_range_snapshot: one step, without faulting; a temporary
 * notifier over the step sees invalidations even where the mirror's own
 * (which the driver's migrations skip) would not.
 */
static int dmirror_range_snapshot(struct zd_dmirror *dmirror, struct zd_hmm_range *range,
				  unsigned char *perm)
{
	struct zd_mm *mm = dmirror->notifier.mm;
	struct dmirror_interval notifier = { .dmirror = dmirror };
	int ret;

	range->notifier = &notifier.notifier;
	ret = zd_mmu_interval_notifier_insert(range->notifier, mm, range->start,
					      range->end - range->start, &dmirror_mrn_ops);
	if (ret)
		return ret;
	ret = dmirror_hmm_range_fault_locked(dmirror, range);
	if (ret)
		goto out;
	for (unsigned long i = 0; i < (range->end - range->start) >> ZD_PAGE_SHIFT; i++)
		perm[i] = dmirror_mkentry(dmirror, range->hmm_pfns[i]);
	zd_spin_unlock(&dmirror->mutex);
out:
	zd_mmu_interval_notifier_remove(range->notifier);
	return ret;
}

static int dmirror_snapshot(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd)
{
	unsigned long size = cmd->npages << ZD_PAGE_SHIFT;
	unsigned long start = cmd->addr, end = start + size;
	unsigned long pfns[DMIRROR_SNAPSHOT_WINDOW];
	unsigned char perm[DMIRROR_SNAPSHOT_WINDOW];
	unsigned char *uptr = (unsigned char *)(uintptr_t)cmd->ptr;
	struct zd_hmm_range range = {
		.hmm_pfns = pfns,
		.dev_private_owner = dmirror->mdevice,
	};
	int ret = 0;

	if (end < start)
		return -EINVAL;
	for (unsigned long addr = start; addr < end; addr = range.end) {
		unsigned long n;

		range.start = addr;
		range.end = addr + DMIRROR_SNAPSHOT_WINDOW * ZD_PAGE_SIZE;
		if (range.end > end || range.end < addr)
			range.end = end;
		ret = dmirror_range_snapshot(dmirror, &range, perm);
		if (ret)
			break;
		n = (range.end - range.start) >> ZD_PAGE_SHIFT;
		memcpy(uptr, perm, n);	/* copy_to_user */
		cmd->cpages += n;
		uptr += n;
	}
	return ret;
}

/* ---- EXCLUSIVE ---- */

/* dmirror_atomic_map: the device holds @page for atomic access at @addr. */
static int dmirror_atomic_map(unsigned long addr, struct zd_page *page, struct zd_dmirror *dmirror)
{
	int ret;

	zd_spin_lock(&dmirror->mutex);
	ret = _zd_dmirror_pt_store(dmirror, addr >> ZD_PAGE_SHIFT, _zd_dmirror_tag_pointer(page, DPT_XA_TAG_ATOMIC));
	zd_spin_unlock(&dmirror->mutex);
	return ret;
}

/*
 * dmirror_exclusive: make each page device-exclusive (any CPU access then
 * faults and revokes it), map it atomic, then read the range back.
 */
static int dmirror_exclusive(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd)
{
	unsigned long size = cmd->npages << ZD_PAGE_SHIFT;
	unsigned long start = cmd->addr, end = start + size;
	struct zd_mm *mm = dmirror->notifier.mm;
	int ret = 0;

	if (end < start)
		return -EINVAL;
	zd_mmap_read_lock(mm);
	for (unsigned long addr = start; !ret && addr < end; addr += ZD_PAGE_SIZE) {
		struct zd_folio *folio;
		struct zd_page *page;

		page = zd_make_device_exclusive(mm, addr, NULL, &folio, &ret);
		if (!page)
			break;
		ret = dmirror_atomic_map(addr, page, dmirror);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
	}
	zd_mmap_read_unlock(mm);
	if (ret)
		return ret;

	/* Return the data for verification. */
	return _zd_dmirror_read_back(dmirror, cmd);
}

/* ---- CHECK_EXCLUSIVE ---- */

/* dmirror_check_atomic: -EPERM while a page of the range is still tagged atomic. */
static int dmirror_check_atomic(struct zd_dmirror *dmirror, unsigned long start,
				unsigned long end)
{
	unsigned long index = start >> ZD_PAGE_SHIFT, last = (end >> ZD_PAGE_SHIFT) - 1;
	int ret = 0;
	void *entry;

	zd_spin_lock(&dmirror->mutex);
	while ((entry = _zd_xa_find(&dmirror->pt, &index, last))) {
		if (entry_tag(entry) == DPT_XA_TAG_ATOMIC) {
			ret = -EPERM;
			break;
		}
		if (index++ == last)
			break;
	}
	zd_spin_unlock(&dmirror->mutex);
	return ret;
}

/* ---- the ioctl ---- */

int zd_dmirror_ioctl(struct zd_dmirror *dmirror, unsigned int command, struct zd_hmm_dmirror_cmd *c)
{
	struct zd_hmm_dmirror_cmd cmd = *c;	/* copy_from_user */
	int ret;

	if (cmd.addr & (ZD_PAGE_SIZE - 1))
		return -EINVAL;
	if (cmd.addr >= cmd.addr + (cmd.npages << ZD_PAGE_SHIFT))
		return -EINVAL;
	cmd.cpages = 0;
	cmd.faults = 0;

	switch (command) {
	case ZD_HMM_DMIRROR_READ:
		ret = dmirror_rw(dmirror, &cmd, false);
		break;
	case ZD_HMM_DMIRROR_WRITE:
		ret = dmirror_rw(dmirror, &cmd, true);
		break;
	case ZD_HMM_DMIRROR_CHECK_EXCLUSIVE:
		ret = dmirror_check_atomic(dmirror, cmd.addr,
					   cmd.addr + (cmd.npages << ZD_PAGE_SHIFT));
		break;
	case ZD_HMM_DMIRROR_RELEASE:
		_zd_dmirror_device_remove_chunks(dmirror->mdevice);
		ret = 0;
		break;
	case ZD_HMM_DMIRROR_FLAGS:
		dmirror->flags = cmd.npages;
		ret = 0;
		break;
	case ZD_HMM_DMIRROR_SNAPSHOT:
		ret = dmirror_snapshot(dmirror, &cmd);
		break;
	case ZD_HMM_DMIRROR_EXCLUSIVE:
		ret = dmirror_exclusive(dmirror, &cmd);
		break;
	case ZD_HMM_DMIRROR_MIGRATE_TO_DEV:
		ret = _zd_dmirror_migrate_to_device(dmirror, &cmd);
		break;
	case ZD_HMM_DMIRROR_MIGRATE_TO_SYS:
		ret = _zd_dmirror_migrate_to_system(dmirror, &cmd);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	*c = cmd;	/* copy_to_user */
	return 0;
}
