// SPDX-License-Identifier: MIT
/*
 * src/drivers/dmirror_cmd.c - the HMM test device's commands.
 *
 * Models lib/test_hmm.c's command half: dmirror_fops_unlocked_ioctl and
 * the commands it dispatches (dmirror_read, dmirror_write with their
 * fault passes dmirror_fault / dmirror_do_fault, the FLAGS word,
 * dmirror_check_atomic, the RELEASE of the device memory), the device
 * page table (an xarray of tagged page pointers under the mirror's
 * mutex) and the device's copy engine.
 *
 * Each open registers an mmu interval notifier over the whole address
 * space (dmirror_interval_invalidate drops the entries of an invalidated
 * range) and fault passes follow the read_begin/read_retry protocol. The
 * model's core does not have hmm_range_fault or migrate_vma yet, and its
 * page-table changes do not all invalidate yet; until they do, a fault
 * pass is get_user_pages on the opener's mm (the same faults
 * hmm_range_fault would take, write faults breaking COW), and the device
 * page table holds what it found only for the command that faulted it,
 * each entry keeping the GUP reference. So every READ/WRITE of a range
 * counts one fault pass. The commands that need the missing pieces
 * (migration, snapshot, exclusive access) return -EOPNOTSUPP, and no
 * device page can be mapped by a process yet (only migrate_vma puts one
 * there).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/dmirror.h>
#include <zonedev/gup.h>
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

static void *tag_pointer(struct zd_page *page, unsigned long tag)
{
	return (void *)((uintptr_t)page | tag);
}

void _zd_dmirror_pt_clear(struct zd_dmirror *dmirror, unsigned long start, unsigned long end)
{
	unsigned long index = start >> ZD_PAGE_SHIFT, last = (end >> ZD_PAGE_SHIFT) - 1;
	void *entry;

	if (end - start < ZD_PAGE_SIZE)
		return;
	while ((entry = _zd_xa_find(&dmirror->pt, &index, last))) {
		_zd_xa_erase(&dmirror->pt, index);
		/* The entry's GUP reference (see the file comment). */
		zd_put_page(entry_page(entry));
		if (index++ == last)
			break;
	}
}

/* ---- the copy engine ---- */

/*
 * The bytes of a page as the device reaches them: system RAM and
 * device-coherent memory over the bus, its own device-private memory
 * directly. NULL with data=none.
 */
static void *device_map_page(struct zd_page *page)
{
	return zd_page_address(page);
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

/* ---- device memory that processes map: only migrate_vma puts it there ---- */

/* migrate_to_ram (dmirror_devmem_fault): unreachable until migrate_vma exists. */
zd_vm_fault_t _zd_dmirror_devmem_fault(struct zd_vm_fault *vmf)
{
	(void)vmf;
	return ZD_VM_FAULT_SIGBUS;
}

/*
 * dmirror_device_evict_chunk: with no migrate_vma no process maps a
 * device page, so nothing is to be migrated back; a page a caller still
 * holds (zd_dmirror_devmem_alloc_page) keeps memunmap_pages waiting, as
 * it would in the kernel.
 */
void _zd_dmirror_evict_chunk(struct dmirror_chunk *chunk)
{
	(void)chunk;
}

/* ---- fault passes ---- */

#define DMIRROR_FAULT_WINDOW 32		/* pages per range fault, as test_hmm's pfns[] */

#define HMM_RANGE_DEFAULT_TIMEOUT_NS (1000ull * 1000 * 1000)	/* 1000 ms, include/linux/hmm.h */

/*
 * Fault [start, end) in (with write access for @write) and take a
 * reference on each page: hmm_range_fault's faults and errors, -EFAULT
 * for a hole or a VMA without read permission, -EPERM for a write to a
 * VMA without write permission. Context: mmap_lock held for read.
 */
static long dmirror_get_pages(struct zd_mm *mm, unsigned long start, unsigned long end,
			      bool write, struct zd_page **pages)
{
	unsigned long npages = (end - start) >> ZD_PAGE_SHIFT;
	long got;

	for (unsigned long addr = start; addr < end;) {
		struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);

		if (!vma || !(vma->vm_flags & ZD_VM_READ) ||
		    (vma->vm_flags & (ZD_VM_IO | ZD_VM_PFNMAP)))
			return -EFAULT;
		if (write && !(vma->vm_flags & ZD_VM_WRITE))
			return -EPERM;
		addr = vma->vm_end;
	}
	got = zd_get_user_pages_remote(mm, start, npages,
				       ZD_FOLL_GET | (write ? ZD_FOLL_WRITE : 0), pages, NULL);
	if (got >= 0 && (unsigned long)got < npages) {
		while (got > 0)
			zd_put_page(pages[--got]);
		return -EFAULT;
	}
	return got;
}

/*
 * dmirror_range_fault + dmirror_do_fault: one window of a fault pass.
 * The mmu_interval_read_begin / read_retry protocol: fault, then under
 * the mirror's mutex check that no invalidation ran meanwhile (else
 * fault again, for at most HMM_RANGE_DEFAULT_TIMEOUT: -EBUSY), and enter
 * the pages in the device page table, writable for a write fault.
 */
static int dmirror_range_fault(struct zd_dmirror *dmirror, unsigned long start,
			       unsigned long end, bool write)
{
	uint64_t deadline = zd_deadline_ns(HMM_RANGE_DEFAULT_TIMEOUT_NS);
	struct zd_page *pages[DMIRROR_FAULT_WINDOW];
	struct zd_mm *mm = dmirror->notifier.mm;
	unsigned long seq;
	long got;
	int ret = 0;

	for (;;) {
		if (zd_monotonic_ns() > deadline)
			return -EBUSY;
		seq = zd_mmu_interval_read_begin(&dmirror->notifier);
		zd_mmap_read_lock(mm);
		got = dmirror_get_pages(mm, start, end, write, pages);
		zd_mmap_read_unlock(mm);
		if (got < 0)
			return (int)got;
		zd_spin_lock(&dmirror->mutex);
		if (!zd_mmu_interval_read_retry(&dmirror->notifier, seq))
			break;
		zd_spin_unlock(&dmirror->mutex);
		for (long i = 0; i < got; i++)
			zd_put_page(pages[i]);
	}

	for (long i = 0; i < got; i++) {
		unsigned long vpn = (start >> ZD_PAGE_SHIFT) + (unsigned long)i;
		void *old = _zd_xa_erase(&dmirror->pt, vpn);

		if (old)
			zd_put_page(entry_page(old));
		/* The entry keeps the GUP reference (see the file comment). */
		if (ret || _zd_xa_insert(&dmirror->pt, vpn,
					 tag_pointer(pages[i], write ? DPT_XA_TAG_WRITE : 0))) {
			zd_put_page(pages[i]);
			ret = -ENOMEM;
		}
	}
	zd_spin_unlock(&dmirror->mutex);
	return ret;
}

/* dmirror_fault: a fault pass over [start, end), window by window. */
static int dmirror_fault(struct zd_dmirror *dmirror, unsigned long start, unsigned long end,
			 bool write)
{
	for (unsigned long addr = start; addr < end;) {
		unsigned long next = addr + DMIRROR_FAULT_WINDOW * ZD_PAGE_SIZE;
		int ret;

		if (next > end || next < addr)
			next = end;
		ret = dmirror_range_fault(dmirror, addr, next, write);
		if (ret)
			return ret;
		addr = next;
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
		data = device_map_page(page);
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
		data = device_map_page(page);
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
	/* The entries held references for this command only (see the file comment). */
	zd_spin_lock(&dmirror->mutex);
	_zd_dmirror_pt_clear(dmirror, cmd->addr, end);
	zd_spin_unlock(&dmirror->mutex);
	if (!ret && !write)
		memcpy((void *)(uintptr_t)cmd->ptr, bounce.ptr, size);
	cmd->cpages = bounce.cpages;
	dmirror_bounce_fini(&bounce);
	return ret;
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
	case ZD_HMM_DMIRROR_MIGRATE_TO_DEV:
	case ZD_HMM_DMIRROR_MIGRATE_TO_SYS:
	case ZD_HMM_DMIRROR_SNAPSHOT:
	case ZD_HMM_DMIRROR_EXCLUSIVE:
		return -EOPNOTSUPP;	/* migrate_vma, hmm_range_fault: not in the model yet */
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	*c = cmd;	/* copy_to_user */
	return 0;
}
