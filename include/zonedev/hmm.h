/* SPDX-License-Identifier: MIT */
/*
 * zonedev/hmm.h - mirroring a CPU address space into a device
 * (hmm_range_fault) and device-exclusive access (make_device_exclusive).
 *
 * Models include/linux/hmm.h (struct hmm_range, the hmm_pfn word and its
 * helpers, hmm_range_fault of mm/hmm.c) and the 6.15 make_device_exclusive
 * of include/linux/rmap.h (mm/rmap.c), semantics §7.1-§7.3 and §7.5.
 *
 * The hmm_pfn word (64-bit, newest layout): bit 63 VALID, 62 WRITE,
 * 61 ERROR, 60 DMA_MAPPED, 59 P2PDMA, 58 P2PDMA_BUS, the map order in the
 * 5 bits from ZD_HMM_PFN_ORDER_SHIFT (53), the pfn below. On input the
 * same bits are requests: REQ_FAULT (= VALID) and REQ_WRITE (= WRITE). The
 * three DMA bits are carried from input to output unchanged.
 *
 * A driver mirrors a range as semantics R7.6 says:
 *
 *	again:
 *	range.notifier_seq = zd_mmu_interval_read_begin(range.notifier);
 *	zd_mmap_read_lock(mm);
 *	ret = zd_hmm_range_fault(&range);
 *	zd_mmap_read_unlock(mm);
 *	if (ret == -EBUSY)
 *		goto again;
 *	take the driver lock;
 *	if (zd_mmu_interval_read_retry(range.notifier, range.notifier_seq)) {
 *		drop the driver lock;
 *		goto again;
 *	}
 *	program the device from range.hmm_pfns; drop the driver lock;
 */
#ifndef ZONEDEV_HMM_H
#define ZONEDEV_HMM_H

#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>

#define ZD_HMM_PFN_VALID	(1ul << 63)	/* output: the CPU maps it (input: REQ_FAULT) */
#define ZD_HMM_PFN_WRITE	(1ul << 62)	/* output: writable (input: REQ_WRITE) */
#define ZD_HMM_PFN_ERROR	(1ul << 61)	/* output: no struct page, or a VMA hmm cannot mirror */
#define ZD_HMM_PFN_DMA_MAPPED	(1ul << 60)	/* sticky: the driver's own DMA bookkeeping */
#define ZD_HMM_PFN_P2PDMA	(1ul << 59)	/* sticky */
#define ZD_HMM_PFN_P2PDMA_BUS	(1ul << 58)	/* sticky */
#define ZD_HMM_PFN_ORDER_SHIFT	53		/* 5 bits: log2 of the CPU mapping's size in pages */

#define ZD_HMM_PFN_REQ_FAULT	ZD_HMM_PFN_VALID
#define ZD_HMM_PFN_REQ_WRITE	ZD_HMM_PFN_WRITE

/* The bits carried from input to output (HMM_PFN_INOUT_FLAGS). */
#define ZD_HMM_PFN_INOUT_FLAGS	(ZD_HMM_PFN_DMA_MAPPED | ZD_HMM_PFN_P2PDMA | ZD_HMM_PFN_P2PDMA_BUS)
/* Every flag bit, the order included (HMM_PFN_FLAGS). */
#define ZD_HMM_PFN_FLAGS	(~((1ul << ZD_HMM_PFN_ORDER_SHIFT) - 1))

/*
 * struct zd_hmm_range - one hmm_range_fault request (struct hmm_range).
 * @notifier: the interval notifier covering [start, end) (required: its
 *            mm is the address space walked);
 * @notifier_seq: what zd_mmu_interval_read_begin returned;
 * @start, @end: page-aligned range, end exclusive;
 * @hmm_pfns: one word per page: requests on input, results on output;
 * @default_flags: requests applied to every page;
 * @pfn_flags_mask: which bits of each input word count as requests;
 * @dev_private_owner: device-private pages whose pgmap has this owner are
 *            reported as they are, never faulted back (R7.2).
 */
struct zd_hmm_range {
	struct zd_mmu_interval_notifier *notifier;
	unsigned long notifier_seq;
	unsigned long start;
	unsigned long end;
	unsigned long *hmm_pfns;
	unsigned long default_flags;
	unsigned long pfn_flags_mask;
	void *dev_private_owner;
};

/* hmm_pfn_to_pfn: the pfn of an output word (valid only with ZD_HMM_PFN_VALID). */
static inline unsigned long zd_hmm_pfn_to_pfn(unsigned long hmm_pfn)
{
	return hmm_pfn & ~ZD_HMM_PFN_FLAGS;
}

/*
 * hmm_pfn_to_map_order: log2 of the size, in pages, of the CPU mapping the
 * page sits in (0 a PTE, 9 a PMD leaf, 18 a PUD leaf). The mapping may
 * extend beyond the range; the pfn of its first page is
 * pfn & ~((1 << order) - 1).
 */
static inline unsigned int zd_hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
	return (unsigned int)(hmm_pfn >> ZD_HMM_PFN_ORDER_SHIFT) & 0x1f;
}

/*
 * zd_hmm_pfn_to_page - the page of an output word with ZD_HMM_PFN_VALID
 * (hmm_pfn_to_page; the model needs the machine to find it). NULL if the
 * pfn has no memmap.
 */
static inline struct zd_page *zd_hmm_pfn_to_page(struct zd_system *sys, unsigned long hmm_pfn)
{
	return zd_pfn_to_page(sys, zd_hmm_pfn_to_pfn(hmm_pfn));
}

/*
 * zd_hmm_range_fault - snapshot the CPU page table of [range->start,
 * range->end) of range->notifier's mm into range->hmm_pfns, faulting in
 * what is requested (hmm_range_fault; semantics §7.2-§7.3, R7.1-R7.5).
 *
 * Each page's request is (hmm_pfns[i] & pfn_flags_mask) | default_flags
 * (R7.1): without REQ_FAULT the page is never faulted; with it, a missing
 * or non-present entry is read-faulted, and with REQ_WRITE too an entry
 * that is not writable is write-faulted (-EPERM if the VMA lacks
 * VM_WRITE). As in the kernel, a fault is not limited to the page that
 * asked: in a PTE table every page of the range from it to the end of the
 * table is faulted; a hole without a table (or a leaf) is faulted whole,
 * with the union of its pages' requests. The walk then restarts at the
 * faulting address (R7.4): every word below it holds its output, the
 * others still their input.
 *
 * Outputs: pfn | VALID [| WRITE] [| order << ORDER_SHIFT] for a present
 * entry (the zero page included; 9 for a PMD leaf, 18 for a PUD leaf,
 * every subpage filled); 0 for a hole, a PROT_NONE entry, or a
 * non-present entry that was not to be faulted; pfn | VALID [| WRITE]
 * for a device-private entry whose pgmap owner is dev_private_owner,
 * never faulted even for a write request (R7.2); other owners' device-
 * private entries, device-exclusive and swap-like entries are faulted
 * when requested (R7.3: the page migrates back to RAM), migration
 * entries are waited for and the walk restarts. ERROR for a present
 * entry without a normal page (a pfn map that is not the zero page),
 * for every page of a VM_IO/VM_PFNMAP VMA or one without VM_READ, and
 * for addresses outside any VMA; when such a page is requested to fault
 * the call fails with -EFAULT instead. The sticky DMA bits are kept.
 *
 * Returns 0; -EBUSY if zd_mmu_interval_check_retry(range->notifier,
 * range->notifier_seq) says the range was invalidated meanwhile (checked
 * before each pass: the caller starts again from
 * zd_mmu_interval_read_begin); -EFAULT (a requested page cannot be made
 * valid: no VMA, an unsupported VMA or entry, a fault that failed, out of
 * memory included, as the kernel's VM_FAULT_ERROR mapping does); -EPERM
 * (a write request in a VMA without VM_WRITE). The kernel's comment also
 * lists -ENOMEM, which its walk never returns; neither does this one.
 * Context: the notifier's mm's mmap_lock held for read (or write); may
 * sleep (faults, migrate_to_ram, waiting for a migration).
 */
int zd_hmm_range_fault(struct zd_hmm_range *range);

/*
 * zd_make_device_exclusive - give a device exclusive access to the page
 * mapped at @addr of @mm (make_device_exclusive, 6.15; semantics §7.5,
 * R7.10). The page is faulted in writable through GUP (GET | WRITE |
 * SPLIT_PMD, remote: a PMD-mapped THP is split first, another device's
 * exclusive entry is restored first); only anonymous folios are accepted
 * (the model has no hugetlb). With the folio locked, an
 * ZD_MMU_NOTIFY_EXCLUSIVE invalidation carrying @owner is sent (a driver
 * must ignore its own, or it livelocks), the PTE is looked up again
 * (retrying from GUP if it no longer maps this page writable) and
 * replaced by a device-exclusive entry: the entry keeps the mapping's
 * reference and mapcount; a dirty PTE leaves the folio dirty. Any CPU
 * access later restores a present PTE (zd_handle_mm_fault,
 * ZD_MMU_NOTIFY_CLEAR), writable only if the VMA allows it.
 *
 * The kernel returns the page or ERR_PTR(-errno); the model returns the
 * page, or NULL with the negative errno in *@err. On success *@foliop is
 * the page's folio, locked, with the GUP reference: the caller programs
 * its device, then zd_folio_unlock() and zd_folio_put() it. *@err is 0.
 * Errors: what the GUP returns (-EFAULT: no VMA, a VMA that may not be
 * written or is VM_IO/VM_PFNMAP, a fault that failed; -ENOMEM),
 * -EOPNOTSUPP (the page is not anonymous: a shared file, shmem or device-
 * DAX mapping; a private file mapping is fine, its write fault copies the
 * page), -EINVAL (no VMA at @addr after a successful GUP: cannot happen
 * under mmap_lock).
 * Context: @mm's mmap_lock held for read; sleeps on the folio lock.
 */
struct zd_page *zd_make_device_exclusive(struct zd_mm *mm, unsigned long addr, void *owner,
					 struct zd_folio **foliop, int *err);

#endif /* ZONEDEV_HMM_H */
