/* SPDX-License-Identifier: MIT */
/*
 * zonedev/devdax.h - device DAX: a character device mapping device memory
 * whole, in folios of the device's alignment.
 *
 * Models drivers/dax/device.c (dax_mmap, check_vma, the PTE/PMD/PUD fault
 * handlers, dax_set_mapping) and the parts of drivers/dax/bus.c and
 * drivers/dax/super.c a dev_dax lives by (devm_create_dev_dax,
 * kill_dev_dax, unregister_dev_dax, dax_read_lock, kill_dax). Semantics
 * §9 (R9.1-R9.4), §11 (R11.4) and R1.13.
 *
 * A device is one GENERIC pgmap whose folios have the device's alignment
 * order (0, 9 or 18) and idle at refcount 1. Mapping it goes through the
 * one struct zd_file it owns (the open /dev/daxX.Y); each mapping of a
 * folio adds one reference and one mapcount, so a mapped page has
 * refcount 1 + mappings + GUP references. In the legacy scheme (6.14 and
 * older, L6) mappings are devmap pfn entries holding neither: a mapped page
 * reads refcount 1, mapcount 0, and only GUP adds references (with a pgmap
 * reference for the duration of the call, L7).
 */
#ifndef ZONEDEV_DEVDAX_H
#define ZONEDEV_DEVDAX_H

#include <stdint.h>
#include <zonedev/memremap.h>

struct zd_devdax;
struct zd_file;

#define ZD_DEVDAX_NO_PFN (~0ul)

/*
 * zd_devdax_create - create and bind a device-DAX instance of @size bytes
 * with alignment @align (devm_create_dev_dax + dev_dax_probe): @align is
 * 4 KiB, 2 MiB or 1 GiB; @size is a non-zero multiple of @align and of
 * 2 MiB. Reserves a physical region aligned to max(@align, 2 MiB),
 * registers a GENERIC pgmap with vmemmap_shift log2(@align / 4 KiB): every
 * folio idles at refcount 1 (R3.2). Returns 0 and sets *out, -EINVAL (bad
 * alignment or size), -ENOMEM, -ENOSPC (no physical room) or what
 * zd_memremap_pages returned. Context: may sleep.
 */
int zd_devdax_create(struct zd_system *sys, uint64_t size, unsigned long align,
		     struct zd_devdax **out);

/*
 * zd_devdax_file - the device's file (the open /dev/daxX.Y): pass it to
 * zd_mmap with ZD_MAP_SHARED. Its f_op->mmap applies check_vma (R9.1):
 * -ENXIO once the device is dead, -EINVAL for a private mapping or a VMA
 * whose start or end is not aligned to the device alignment; it sets the
 * device-DAX vm_ops and VM_HUGEPAGE. Its f_mapping is a DAX address space.
 * The pointer is the device's own reference and is valid until
 * zd_devdax_destroy; zd_get_file() it to keep the file beyond that (every
 * mapping holds a reference too), and zd_fput() it when done: a file that
 * outlives its device refuses mmap with -ENXIO and its faults SIGBUS.
 */
struct zd_file *zd_devdax_file(struct zd_devdax *dd);

/* The device's pgmap (GENERIC), alignment, size and first pfn. */
struct zd_dev_pagemap *zd_devdax_pgmap(struct zd_devdax *dd);
unsigned long zd_devdax_align(const struct zd_devdax *dd);
uint64_t zd_devdax_size(const struct zd_devdax *dd);

/*
 * zd_devdax_pgoff_to_pfn - the pfn backing file page @pgoff
 * (dax_pgoff_to_phys), or ZD_DEVDAX_NO_PFN beyond the device.
 */
unsigned long zd_devdax_pgoff_to_pfn(const struct zd_devdax *dd, unsigned long pgoff);

/* What the fault handlers did, for tests (totals over the device's life). */
struct zd_devdax_stats {
	unsigned long faults[3];	/* handled at PTE, PMD, PUD level (index level - 1) */
	unsigned long fallbacks;	/* ZD_VM_FAULT_FALLBACK returned */
	unsigned long sigbus;		/* ZD_VM_FAULT_SIGBUS returned */
};
void zd_devdax_get_stats(struct zd_devdax *dd, struct zd_devdax_stats *st);

/*
 * zd_devdax_kill - kill_dev_dax: mark the device dead (from now on mmap
 * returns -ENXIO and faults SIGBUS), wait for faults in flight
 * (kill_dax's synchronize_srcu), then zap every user mapping of the file
 * (unmap_mapping_range of the whole file), dropping each mapping's
 * reference and mapcount. The VMAs stay. Idempotent. Context: may sleep;
 * not under any mm's mmap_lock.
 */
void zd_devdax_kill(struct zd_devdax *dd);

/*
 * zd_devdax_unbind - unbind as Linux does (unregister_dev_dax):
 * zd_devdax_kill, then zd_memunmap_pages_timeout, release the physical
 * region and free the device; the file is released when its last
 * reference goes. Linux does not wait for GENERIC pages (R1.13): in the
 * zero scheme a folio still held (a GUP pin) does not delay it - the pfn
 * loses its pgmap while the pin is held, which is reported
 * (ZD_MISUSE_HAZARD, R1.13) as are zd_check_invariants and a later put of
 * the page, and the model keeps the struct pages so nothing is corrupted.
 * In the legacy scheme each page holds a pgmap reference and memunmap
 * waits (L1). Returns 0, or -ETIMEDOUT after @timeout_ns (0: no limit):
 * the device stays dead and the call may be repeated. Context: may sleep;
 * not under mmap_lock.
 */
int zd_devdax_unbind(struct zd_devdax *dd, uint64_t timeout_ns);

/*
 * zd_devdax_destroy_timeout - unbind that waits for pins, which Linux does
 * not: zd_devdax_kill, then wait until every folio is idle again (refcount
 * 1: references held beyond the mappings are gone), then zd_devdax_unbind.
 * Returns 0 when the device is gone, or -EBUSY if a folio was still held
 * after @timeout_ns (0: wait without limit): the device stays dead and the
 * call may be repeated. Context: may sleep; not under mmap_lock.
 */
int zd_devdax_destroy_timeout(struct zd_devdax *dd, uint64_t timeout_ns);

/* zd_devdax_destroy - zd_devdax_unbind without a time limit. */
void zd_devdax_destroy(struct zd_devdax *dd);

#endif /* ZONEDEV_DEVDAX_H */
