/* SPDX-License-Identifier: MIT */
/*
 * src/mm/shmem_internal.h - what the page cache (filemap.c) and shmem.c share.
 *
 * Models the parts of include/linux/fs.h (struct inode, i_size), of
 * include/linux/shmem_fs.h (struct shmem_inode_info) and of
 * include/linux/pagemap.h (the page-cache API) that mm/shmem.c,
 * mm/filemap.c and mm/truncate.c use between themselves.
 */
#ifndef ZD_MM_SHMEM_INTERNAL_H
#define ZD_MM_SHMEM_INTERNAL_H

#include <zonedev/tmpfs.h>
#include "mm/internal.h"
#include "lib/xarray.h"

/* ---- the page cache (filemap.c, truncate) ---- */

/*
 * mapping->i_pages: index -> RAM folio, each holding one cache reference.
 * An address_space with a page cache points to it from private_data.
 */
struct _zd_page_cache {
	struct zd_spinlock lock;	/* xa_lock: the array */
	struct zd_xarray pages;
};

/* Attach an initialised, empty page cache to @mapping (its private_data). */
void _zd_page_cache_init(struct zd_address_space *mapping, struct _zd_page_cache *pc);
/* Free it. Context: the cache is empty (truncated) and unreachable. */
void _zd_page_cache_destroy(struct _zd_page_cache *pc);
/* The page cache of @mapping, or NULL if it has none. */
struct _zd_page_cache *_zd_mapping_cache(struct zd_address_space *mapping);

/*
 * filemap_add_folio(): insert @folio (RAM, order 0, unmapped, the caller's
 * reference) at @index. The cache takes a reference of its own, sets
 * mapping/index and PG_swapbacked and puts the folio on the LRU. 0,
 * -EEXIST (the index is taken), -ENOMEM. Context: takes the cache lock.
 */
int _zd_filemap_add_folio(struct zd_address_space *mapping, struct zd_folio *folio,
			  unsigned long index);

/*
 * filemap_remove_folio(): take @folio out of the cache: mapping cleared,
 * PG_dirty cancelled, the cache reference dropped. The caller keeps its
 * own reference. Context: folio locked, no longer mapped (see
 * _zd_truncate_inode_folio).
 */
void _zd_filemap_remove_folio(struct zd_folio *folio);

/*
 * truncate_inode_folio(): unmap a locked folio that may still be mapped
 * (zd_try_to_unmap, like unmap_mapping_folio) and remove it from the
 * cache; nothing if it left @mapping meanwhile. Context: folio locked,
 * the caller holds a reference.
 */
void _zd_truncate_inode_folio(struct zd_address_space *mapping, struct zd_folio *folio);

/*
 * truncate_inode_pages_range(): remove every folio wholly inside the
 * byte range [lstart, lend) (lend UINT64_MAX: to the end) and zero the
 * part of a partially covered first or last page inside the range.
 * Mapped folios are unmapped one by one; callers that also want private
 * COW copies gone unmap the range first. Context: may sleep; inode lock
 * held (or the inode is being freed).
 */
void _zd_truncate_inode_pages_range(struct zd_address_space *mapping, uint64_t lstart,
				    uint64_t lend);

/* mapping->nrpages. */
unsigned long _zd_mapping_nrpages(struct zd_address_space *mapping);

/* ---- shmem inodes (shmem.c) ---- */

/*
 * struct inode + struct shmem_inode_info. @i_count counts opens (struct
 * zd_file), plus one while the inode has a name; the last iput frees it.
 */
struct _zd_shmem_inode {
	struct zd_address_space i_data;	/* f_mapping of every open */
	struct zd_system *sys;
	struct zd_tmpfs *sb;		/* NULL for shmem_file_setup files */
	_Atomic long i_count;
	struct zd_rwsem i_rwsem;	/* inode_lock: write, truncate, punch */
	_Atomic uint64_t i_size;	/* stores under i_rwsem, release */
	struct _zd_page_cache cache;
	/* the name space, under sb->lock */
	char *name;			/* NULL once unlinked */
	struct _zd_shmem_inode *hash_next;
};

#endif /* ZD_MM_SHMEM_INTERNAL_H */
