/* SPDX-License-Identifier: MIT */
/*
 * zonedev/dmirror.h - the HMM test device ("dmirror").
 *
 * Models lib/test_hmm.c and its user API lib/test_hmm_uapi.h: a device
 * that mirrors a process's address space in a page table of its own and
 * has memory of its own (device-private or device-coherent ZONE_DEVICE
 * pages carved from chunks), driven by commands with the kernel's names.
 *
 * How the character device maps: loading the module is
 * zd_dmirror_init (units 0 and 1 device-private, 2 and 3 device-coherent
 * when asked for, as with the module's spm_addr_dev0/1 parameters);
 * open("/dev/hmm_dmirrorN") is zd_dmirror_open on the unit for the
 * opening process's mm; ioctl() is zd_dmirror_ioctl; close() is
 * zd_dmirror_close. The command's @ptr is a buffer in the caller's own
 * memory (a host pointer), standing for the user buffer that the kernel
 * reaches with copy_to_user/copy_from_user.
 */
#ifndef ZONEDEV_DMIRROR_H
#define ZONEDEV_DMIRROR_H

#include <stdbool.h>
#include <stdint.h>
#include <zonedev/mm.h>
#include <zonedev/system.h>

/* struct hmm_dmirror_cmd: five u64 fields, see each command below. */
struct zd_hmm_dmirror_cmd {
	uint64_t addr;		/* start address in the opener's address space, page aligned */
	uint64_t ptr;		/* the caller's buffer (host pointer) */
	uint64_t npages;	/* pages; the flags word for ZD_HMM_DMIRROR_FLAGS */
	uint64_t cpages;	/* out: pages copied/migrated (per command) */
	uint64_t faults;	/* out: device fault passes (READ/WRITE) */
};

/* The commands, by the kernel's names and numbers (newest uapi). */
enum zd_hmm_dmirror_ioctl {
	ZD_HMM_DMIRROR_READ = 0x00,
	ZD_HMM_DMIRROR_WRITE = 0x01,
	ZD_HMM_DMIRROR_MIGRATE_TO_DEV = 0x02,
	ZD_HMM_DMIRROR_MIGRATE_TO_SYS = 0x03,
	ZD_HMM_DMIRROR_SNAPSHOT = 0x04,
	ZD_HMM_DMIRROR_EXCLUSIVE = 0x05,
	ZD_HMM_DMIRROR_CHECK_EXCLUSIVE = 0x06,
	ZD_HMM_DMIRROR_RELEASE = 0x07,
	ZD_HMM_DMIRROR_FLAGS = 0x08,
};

/* HMM_DMIRROR_FLAGS: make the next large device/system allocation fail, once. */
#define ZD_HMM_DMIRROR_FLAG_FAIL_ALLOC (1ull << 0)

/* SNAPSHOT: one byte per page (enum HMM_DMIRROR_PROT_*). */
enum {
	ZD_HMM_DMIRROR_PROT_ERROR = 0xFF,
	ZD_HMM_DMIRROR_PROT_NONE = 0x00,
	ZD_HMM_DMIRROR_PROT_READ = 0x01,
	ZD_HMM_DMIRROR_PROT_WRITE = 0x02,
	ZD_HMM_DMIRROR_PROT_PMD = 0x04,
	ZD_HMM_DMIRROR_PROT_PUD = 0x08,
	ZD_HMM_DMIRROR_PROT_ZERO = 0x10,
	ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL = 0x20,
	ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE = 0x30,
	ZD_HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL = 0x40,
	ZD_HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE = 0x50,
};

/* enum of the device's memory (0 is reserved to catch an unset field). */
enum {
	ZD_HMM_DMIRROR_MEMORY_DEVICE_PRIVATE = 1,
	ZD_HMM_DMIRROR_MEMORY_DEVICE_COHERENT = 2,
};

#define ZD_DMIRROR_NDEVICES	4
/*
 * Device memory is added in chunks of this size (the kernel's
 * DEVMEM_CHUNK_SIZE is 256 MiB; the model's machines are small).
 */
#define ZD_DMIRROR_CHUNK_SIZE	(64ul << 20)

struct zd_dmirror_module;	/* the loaded module: its units */
struct zd_dmirror_device;	/* one unit (struct dmirror_device) */
struct zd_dmirror;		/* one open file (struct dmirror) */

/*
 * zd_dmirror_init - load the module (hmm_dmirror_init): create units 0
 * and 1 (device-private) and, with @coherent, units 2 and 3
 * (device-coherent), each with one chunk of device memory registered
 * (zd_memremap_pages). Only the zero refcount scheme is modelled
 * (-EOPNOTSUPP for scheme one). Returns 0 and *out, -ENOMEM, -ENOSPC, or
 * what zd_memremap_pages returned; nothing stays registered on error.
 * Context: may sleep.
 */
int zd_dmirror_init(struct zd_system *sys, bool coherent, struct zd_dmirror_module **out);

/*
 * zd_dmirror_exit - unload (hmm_dmirror_exit): every unit evicts the
 * pages still in use back to system RAM (migrate_device_range) and
 * unregisters its chunks (zd_memunmap_pages, which waits for the last
 * reference). Every open mirror must have been closed.
 * Context: may sleep.
 */
void zd_dmirror_exit(struct zd_dmirror_module *mod);

/* The unit @unit (/dev/hmm_dmirror<unit>), or NULL if it was not created. */
struct zd_dmirror_device *zd_dmirror_device(struct zd_dmirror_module *mod, int unit);

/* The unit's memory type: ZD_HMM_DMIRROR_MEMORY_DEVICE_PRIVATE or _COHERENT. */
int zd_dmirror_device_type(const struct zd_dmirror_device *mdevice);

/*
 * zd_dmirror_open - open the unit on behalf of the process @mm
 * (dmirror_fops_open): a new mirror with an empty device page table,
 * kept coherent with @mm by an mmu interval notifier over the whole
 * address space. Returns 0 and *out, -ENOMEM, or the notifier's error.
 * Context: may sleep; @mm alive until zd_dmirror_close.
 */
int zd_dmirror_open(struct zd_dmirror_device *mdevice, struct zd_mm *mm,
		    struct zd_dmirror **out);

/*
 * zd_dmirror_close - close (dmirror_fops_release): remove the notifier,
 * evict every in-use page of the unit's chunks back to system RAM (as the
 * kernel does since 6.1: pages migrated by other opens too), free the
 * mirror. Returns 0. Context: may sleep; no command of this mirror running.
 */
int zd_dmirror_close(struct zd_dmirror *dmirror);

/*
 * zd_dmirror_ioctl - run one command (dmirror_fops_unlocked_ioctl).
 * Common to every command: @cmd->addr not page aligned, npages 0, or a
 * range that wraps -> -EINVAL; cpages and faults are zeroed; the
 * structure is written back only on success (on error *@cmd is
 * unchanged). Unknown command -> -EINVAL. Per command:
 *  READ / WRITE: copy npages between the range and @cmd->ptr through the
 *	device page table, running a fault pass (counted in faults) at the
 *	first page without a (writable, for WRITE) entry; cpages = npages.
 *	-EFAULT (no VMA, no read permission), -EPERM (write to a read-only
 *	VMA), -EBUSY (invalidations kept the fault pass from completing for
 *	HMM_RANGE_DEFAULT_TIMEOUT, 1 s).
 *  MIGRATE_TO_DEV: migrate the range's system pages into device memory,
 *	then read the range back into @cmd->ptr; cpages = pages present in
 *	the device page table; -EINVAL (hole or unreadable VMA), -ENOENT
 *	(a page did not reach the device, e.g. shared anonymous memory).
 *  MIGRATE_TO_SYS: migrate the unit's pages of the range back to RAM;
 *	cpages = pages moved; -EINVAL, -ENOMEM.
 *  SNAPSHOT: one ZD_HMM_DMIRROR_PROT_* byte per page into @cmd->ptr,
 *	faulting nothing; cpages = npages; -EBUSY.
 *  EXCLUSIVE: make every page device-exclusive (make_device_exclusive),
 *	then read the range back; cpages = npages. CHECK_EXCLUSIVE: -EPERM
 *	while a page of the range is still exclusive, 0 once all are revoked.
 *  RELEASE: evict every page of the unit's chunks to RAM and unregister
 *	the chunks (the next allocation adds one again); 0.
 *  FLAGS: set the mirror's flags word to @cmd->npages
 *	(ZD_HMM_DMIRROR_FLAG_FAIL_ALLOC); flags 0 is -EINVAL (range check).
 * Context: may sleep; takes @mm's mmap_lock.
 */
int zd_dmirror_ioctl(struct zd_dmirror *dmirror, unsigned int cmd, struct zd_hmm_dmirror_cmd *c);

/*
 * The unit's counters: calloc/cfree are the driver's cumulative
 * allocation and free counts (the kernel keeps them internally and never
 * exports them), allocated is calloc - cfree as it stands, nr_chunks the
 * chunks registered now, nr_page_free the core's folio_free calls.
 */
struct zd_dmirror_stats {
	unsigned long calloc, cfree, allocated;
	unsigned long nr_chunks, nr_pages, nr_free_pages;
	unsigned long nr_page_free;
};
void zd_dmirror_device_stats(struct zd_dmirror_device *mdevice, struct zd_dmirror_stats *st);

/*
 * zd_dmirror_devmem_alloc_page - hand out one device page of the unit
 * (dmirror_devmem_alloc_page): from the free list, else from a newly
 * added chunk; zone_device_page_init'ed, so referenced once and locked.
 * The driver's own migrations use it; it is public so tests can check the
 * allocator and the free path (the page goes back through folio_free at
 * its last put). NULL when no page is left or the "device_alloc" fault
 * site fired. Context: may sleep.
 */
struct zd_page *zd_dmirror_devmem_alloc_page(struct zd_dmirror_device *mdevice);

#endif /* ZONEDEV_DMIRROR_H */
