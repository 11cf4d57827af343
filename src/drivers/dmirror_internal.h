/* SPDX-License-Identifier: MIT */
/*
 * src/drivers/dmirror_internal.h - what dmirror.c (units, device memory,
 * open/close) and dmirror_cmd.c (the commands) share.
 *
 * Models the private structures of lib/test_hmm.c: struct dmirror_device,
 * struct dmirror_chunk, struct dmirror and the device page table's tags.
 */
#ifndef ZD_DRIVERS_DMIRROR_INTERNAL_H
#define ZD_DRIVERS_DMIRROR_INTERNAL_H

#include <stdint.h>
#include <zonedev/dmirror.h>
#include <zonedev/memremap.h>
#include <zonedev/mmu_notifier.h>
#include "lib/xarray.h"
#include "sync/sync.h"

#define DEVMEM_CHUNKS_RESERVE	16	/* the chunk array grows by this many slots */
#define DMIRROR_LARGE_NR	(1ul << ZD_PMD_ORDER)	/* pages of a large device folio */

/* struct dmirror_chunk: one registered range of device memory. */
struct dmirror_chunk {
	struct zd_dev_pagemap pagemap;	/* first: container-of by cast */
	struct zd_dmirror_device *mdevice;
	uint64_t start;
	bool remove;			/* being unregistered: frees do not refill the list */
};

/* struct dmirror_device: one unit. */
struct zd_dmirror_device {
	struct zd_system *sys;
	int unit;
	int zone_device_type;		/* ZD_HMM_DMIRROR_MEMORY_DEVICE_* */

	struct zd_spinlock devmem_lock;	/* the kernel's mutex: chunk array, adding/removing chunks */
	unsigned int devmem_capacity;
	unsigned int devmem_count;
	struct dmirror_chunk **devmem_chunks;

	struct zd_spinlock lock;	/* free list and counters */
	unsigned long calloc;
	unsigned long cfree;
	unsigned long nr_page_free_gone; /* folio_free calls of chunks already removed */
	struct zd_page *free_pages;	/* linked through zone_device_data */
	struct zd_page *free_folios;	/* PMD-order blocks, linked through their heads */
};

/*
 * Device page table entries: the page holding the data, with the low
 * bits as tags (xa_tag_pointer): writable, or atomic (exclusive) access.
 */
#define DPT_XA_TAG_WRITE	1ul
#define DPT_XA_TAG_ATOMIC	2ul
#define DPT_XA_TAG_MASK		3ul

/* struct dmirror: one open file, mirroring the opener's address space. */
struct zd_dmirror {
	struct zd_dmirror_device *mdevice;
	struct zd_mm *mm;
	struct zd_mmu_interval_notifier notifier;	/* the whole address space */
	struct zd_xarray pt;		/* vpn -> tagged page, under @mutex */
	struct zd_spinlock mutex;	/* the kernel's mutex: the device page table */
	uint64_t flags;			/* ZD_HMM_DMIRROR_FLAG_* */
};

static inline void *_zd_dmirror_tag_pointer(struct zd_page *page, unsigned long tag)
{
	return (void *)((uintptr_t)page | tag);
}

/* xa_store(): replace the entry at @vpn. Context: dmirror->mutex held. */
static inline int _zd_dmirror_pt_store(struct zd_dmirror *dmirror, unsigned long vpn, void *entry)
{
	_zd_xa_erase(&dmirror->pt, vpn);
	return _zd_xa_insert(&dmirror->pt, vpn, entry);
}

/*
 * The copy engine: the bytes of a page as the device reaches them, system
 * RAM and device-coherent memory over the bus, its own device-private
 * memory directly. NULL with data=none.
 */
static inline void *_zd_dmirror_map_page(struct zd_page *page)
{
	return zd_page_address(page);
}

struct zd_dmirror_device *_zd_dmirror_page_to_device(const struct zd_page *page);
struct zd_page *_zd_dmirror_devmem_alloc(struct zd_dmirror_device *mdevice, bool is_large);
void _zd_dmirror_device_remove_chunks(struct zd_dmirror_device *mdevice);
void _zd_dmirror_device_evict_all(struct zd_dmirror_device *mdevice);

/* dmirror_migrate.c */
zd_vm_fault_t _zd_dmirror_devmem_fault(struct zd_vm_fault *vmf);
void _zd_dmirror_evict_chunk(struct dmirror_chunk *chunk);
int _zd_dmirror_migrate_to_device(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd);
int _zd_dmirror_migrate_to_system(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd);

/* dmirror_cmd.c */
/* Read the command's range back through the device page table into cmd->ptr. */
int _zd_dmirror_read_back(struct zd_dmirror *dmirror, struct zd_hmm_dmirror_cmd *cmd);
int _zd_dmirror_notifier_insert(struct zd_dmirror *dmirror);
void _zd_dmirror_notifier_remove(struct zd_dmirror *dmirror);
/* Drop the entries of [start, end). Context: dmirror->mutex held. */
void _zd_dmirror_pt_clear(struct zd_dmirror *dmirror, unsigned long start, unsigned long end);

#endif /* ZD_DRIVERS_DMIRROR_INTERNAL_H */
