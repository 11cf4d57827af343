// SPDX-License-Identifier: MIT
/*
 * src/mm/shmem.c - tmpfs and shmem: mounts, names, inodes, file data,
 * faults, truncation, shared anonymous memory.
 *
 * Models mm/shmem.c, one file as in the kernel, so that the superblock
 * and the inode code call each other inside it: shmem_get_folio (find or
 * allocate the page-cache folio of an index), shmem_fault,
 * shmem_file_read_iter, shmem_write_begin/end, shmem_setattr (truncate),
 * shmem_fallocate (PUNCH_HOLE), shmem_file_setup and shmem_zero_setup,
 * shmem_mmap and shmem_evict_inode; and the superblock and directory
 * operations (shmem_fill_super, shmem_mknod, shmem_unlink,
 * shmem_put_super) over fs/libfs.c's dcache based directories, reduced to
 * one hash table of names -> inodes under a per-mount lock. A name holds
 * one inode reference (the dentry's); each inode holds a superblock
 * reference, so a lazily unmounted tmpfs lives until its last open file
 * goes. Order-0 folios only (no huge tmpfs), no swap, no size limit: an
 * allocation failure is -ENOMEM (VM_FAULT_OOM). The page cache itself is
 * filemap.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shmem_internal.h"

static const struct zd_file_operations shmem_file_operations;

static struct _zd_shmem_inode *file_inode(const struct zd_file *file)
{
	if (!file || file->f_op != &shmem_file_operations)
		return NULL;
	return file->private_data;
}

bool zd_file_is_shmem(const struct zd_file *file)
{
	return file_inode(file) != NULL;
}

static inline uint64_t i_size_read(struct _zd_shmem_inode *inode)
{
	/* Acquire pairs with the release in i_size_write(). */
	return zd_atomic_load_acquire(&inode->i_size);
}

/* Context: inode lock held for write. */
static inline void i_size_write(struct _zd_shmem_inode *inode, uint64_t size)
{
	zd_atomic_store_release(&inode->i_size, size);
}

/* Pages covering @size bytes (DIV_ROUND_UP(size, PAGE_SIZE)). */
static inline uint64_t size_pages(uint64_t size)
{
	return (size + ZD_PAGE_SIZE - 1) >> ZD_PAGE_SHIFT;
}

static bool has_data(struct _zd_shmem_inode *inode)
{
	return zd_system_options(inode->sys)->data == ZD_DATA_REAL;
}

/* ---- the tmpfs superblock ---- */

struct zd_tmpfs {
	struct zd_system *sys;
	struct zd_spinlock lock;		/* the name space */
	_Atomic long s_active;			/* the mount + one per inode */
	struct _zd_shmem_inode **hash;		/* chains through hash_next */
	unsigned long hash_size;		/* a power of two */
	unsigned long nr_files;
};

#define TMPFS_HASH_MIN 16

/* FNV-1a: deterministic, no seed needed for a test model. */
static unsigned long name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ull;
	return (unsigned long)h;
}

static int check_name(const char *path)
{
	size_t len;

	if (!path || !*path)
		return -EINVAL;
	len = strnlen(path, ZD_TMPFS_NAME_MAX + 1);
	return len > ZD_TMPFS_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* Context: fs->lock held. */
static struct _zd_shmem_inode **lookup_slot(struct zd_tmpfs *fs, const char *name)
{
	struct _zd_shmem_inode **slot = &fs->hash[name_hash(name) & (fs->hash_size - 1)];

	for (; *slot; slot = &(*slot)->hash_next)
		if (!strcmp((*slot)->name, name))
			return slot;
	return slot;
}

/* Double the table when it is full; on -ENOMEM keep the old one (chains just grow). */
static void maybe_grow(struct zd_tmpfs *fs)
{
	unsigned long size = fs->hash_size * 2;
	struct _zd_shmem_inode **hash;

	if (fs->nr_files < fs->hash_size)
		return;
	hash = calloc(size, sizeof(*hash));
	if (!hash)
		return;
	for (unsigned long i = 0; i < fs->hash_size; i++) {
		struct _zd_shmem_inode *inode = fs->hash[i], *next;

		for (; inode; inode = next) {
			unsigned long b = name_hash(inode->name) & (size - 1);

			next = inode->hash_next;
			inode->hash_next = hash[b];
			hash[b] = inode;
		}
	}
	free(fs->hash);
	fs->hash = hash;
	fs->hash_size = size;
}

/*
 * The mount and every inode hold a superblock reference (s_active); an
 * inode drops its one at eviction, and the last put frees the superblock.
 */
static void tmpfs_get_super(struct zd_tmpfs *sb)
{
	zd_atomic_fetch_add_relaxed(&sb->s_active, 1);
}

static void tmpfs_put_super(struct zd_tmpfs *sb)
{
	/* Release/acquire: all users of the superblock finish before it is freed. */
	if (zd_atomic_fetch_sub_acq_rel(&sb->s_active, 1) != 1)
		return;
	free(sb->hash);
	zd_spin_lock_destroy(&sb->lock);
	free(sb);
}

/* ---- inodes and files ---- */

/*
 * A new inode of @size bytes with i_count 1 (the caller's), on @sb (it
 * takes a superblock reference) or none. NULL on -ENOMEM.
 */
static struct _zd_shmem_inode *shmem_inode_alloc(struct zd_system *sys, struct zd_tmpfs *sb,
						 uint64_t size)
{
	struct _zd_shmem_inode *inode = calloc(1, sizeof(*inode));

	if (!inode)
		return NULL;
	inode->sys = sys;
	inode->sb = sb;
	zd_atomic_init(&inode->i_count, 1);
	zd_atomic_init(&inode->i_size, size);
	zd_rwsem_init(&inode->i_rwsem);
	zd_address_space_init(&inode->i_data, sys, ZD_AS_SHMEM);
	_zd_page_cache_init(&inode->i_data, &inode->cache);
	if (sb)
		tmpfs_get_super(sb);
	return inode;
}

/* shmem_evict_inode(): nothing maps the file any more (mappings hold files). */
static void shmem_evict_inode(struct _zd_shmem_inode *inode)
{
	struct zd_tmpfs *sb = inode->sb;

	_zd_truncate_inode_pages_range(&inode->i_data, 0, UINT64_MAX);
	_zd_page_cache_destroy(&inode->cache);
	zd_address_space_destroy(&inode->i_data);
	zd_rwsem_destroy(&inode->i_rwsem);
	free(inode->name);
	free(inode);
	if (sb)
		tmpfs_put_super(sb);
}

/* iget/iput. The last iput truncates the page cache and frees the inode. */
static void shmem_igrab(struct _zd_shmem_inode *inode)
{
	zd_atomic_fetch_add_relaxed(&inode->i_count, 1);
}

static void shmem_iput(struct _zd_shmem_inode *inode)
{
	/* Release/acquire: every user's accesses happen before the eviction. */
	if (zd_atomic_fetch_sub_acq_rel(&inode->i_count, 1) == 1)
		shmem_evict_inode(inode);
}

/* ->release, from the last zd_fput(). */
static void shmem_release(struct zd_file *file)
{
	struct _zd_shmem_inode *inode = file->private_data;

	free(file);
	shmem_iput(inode);
}

/* A new open file on @inode (f_count 1, an inode reference). 0 or -ENOMEM. */
static int shmem_file_open(struct _zd_shmem_inode *inode, struct zd_file **out)
{
	struct zd_file *file = calloc(1, sizeof(*file));

	if (!file)
		return -ENOMEM;
	file->f_op = &shmem_file_operations;
	file->f_mapping = &inode->i_data;
	file->private_data = inode;
	file->release = shmem_release;
	zd_atomic_init(&file->f_count, 1);
	shmem_igrab(inode);
	*out = file;
	return 0;
}

/* ---- finding folios ---- */

enum sgp_type {
	SGP_READ,	/* a hole stays a hole: *foliop = NULL; unlocked */
	SGP_CACHE,	/* allocate, but not beyond EOF (-EINVAL); locked */
	SGP_WRITE,	/* allocate anywhere (the writer extends i_size); locked */
};

/*
 * shmem_get_folio(): the page-cache folio of @index, with a reference for
 * the caller, allocating a zeroed one as @sgp allows. Under SGP_CACHE and
 * SGP_WRITE it comes back locked and still in the cache (folio lock held
 * across the caller's use orders it against truncation, which removes
 * folios under their lock). Returns 0 (*foliop NULL for a hole under
 * SGP_READ), -EINVAL (beyond EOF under SGP_CACHE), -ENOMEM.
 */
static int shmem_get_folio(struct _zd_shmem_inode *inode, unsigned long index,
			   enum sgp_type sgp, struct zd_folio **foliop)
{
	struct zd_address_space *mapping = &inode->i_data;
	struct zd_folio *folio;
	int err;

repeat:
	*foliop = NULL;
	if (sgp == SGP_CACHE && index >= size_pages(i_size_read(inode)))
		return -EINVAL;
	folio = zd_filemap_get_folio(mapping, index);
	if (folio) {
		if (sgp != SGP_READ) {
			zd_folio_lock(folio);
			if (folio->page.mapping != mapping) {	/* truncated meanwhile */
				zd_folio_unlock(folio);
				zd_folio_put(folio);
				goto repeat;
			}
		}
		*foliop = folio;
		return 0;
	}
	if (sgp == SGP_READ)
		return 0;
	folio = zd_folio_alloc(inode->sys, ZD_GFP_ZERO, 0);
	if (!folio)
		return -ENOMEM;
	/* Zeroed is uptodate; shmem folios are dirty from birth (no backing store). */
	zd_page_set_flag(&folio->page, ZD_PG_uptodate);
	zd_page_set_flag(&folio->page, ZD_PG_dirty);
	zd_folio_lock(folio);			/* new folios enter the cache locked */
	err = _zd_filemap_add_folio(mapping, folio, index);
	if (err) {
		zd_folio_unlock(folio);
		zd_folio_put(folio);
		if (err == -EEXIST)
			goto repeat;		/* someone else inserted one: use theirs */
		return err;
	}
	/*
	 * A truncate that set i_size before our insertion either missed the
	 * folio (its lookup preceded the insert under the cache lock, so we
	 * see its i_size) or waits for our lock: recheck, and undo if needed.
	 */
	if (sgp == SGP_CACHE && index >= size_pages(i_size_read(inode))) {
		_zd_filemap_remove_folio(folio);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
		return -EINVAL;
	}
	*foliop = folio;
	return 0;
}

/* ---- the mapping callbacks ---- */

/*
 * shmem_fault(): the folio for vmf->pgoff, returned locked
 * (ZD_VM_FAULT_LOCKED) with a reference the core turns into the mapping's
 * (filemap_fault's checks: still in this mapping, still below EOF, both
 * under the folio lock). The core maps it before unlocking, so a truncate,
 * which removes folios from the cache under their lock, either ran before
 * (the checks fail) or finds the new mapping to zap.
 */
static zd_vm_fault_t shmem_fault(struct zd_vm_fault *vmf)
{
	struct _zd_shmem_inode *inode = file_inode(vmf->vma->vm_file);
	struct zd_folio *folio;
	int err;

	if (!inode)
		return ZD_VM_FAULT_SIGBUS;
	err = shmem_get_folio(inode, vmf->pgoff, SGP_CACHE, &folio);
	if (err == -ENOMEM)
		return ZD_VM_FAULT_OOM;
	if (err)
		return ZD_VM_FAULT_SIGBUS;
	if (vmf->pgoff >= size_pages(i_size_read(inode))) {
		/* A truncate is under way; it will remove the folio. */
		zd_folio_unlock(folio);
		zd_folio_put(folio);
		return ZD_VM_FAULT_SIGBUS;
	}
	vmf->page = &folio->page;
	return ZD_VM_FAULT_LOCKED;
}

/*
 * page_mkwrite: a shared mapping becomes writable. shmem folios are dirty
 * from birth; mark it again, as filemap_page_mkwrite does. A folio that
 * left the cache meanwhile: ZD_VM_FAULT_NOPAGE (the access retries).
 */
static zd_vm_fault_t shmem_page_mkwrite(struct zd_vm_fault *vmf)
{
	struct _zd_shmem_inode *inode = file_inode(vmf->vma->vm_file);
	struct zd_folio *folio = zd_page_folio(vmf->page);
	zd_vm_fault_t ret = 0;

	zd_folio_lock(folio);
	if (!inode || folio->page.mapping != &inode->i_data)
		ret = ZD_VM_FAULT_NOPAGE;
	else
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	zd_folio_unlock(folio);
	return ret;
}

const struct zd_vm_operations_struct zd_shmem_vm_ops = {
	.fault = shmem_fault,
	.page_mkwrite = shmem_page_mkwrite,
	.name = "shmem",
};

bool zd_vma_is_shmem(const struct zd_vm_area_struct *vma)
{
	return vma && vma->vm_ops == &zd_shmem_vm_ops;
}

/* shmem_mmap(). */
static int shmem_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	(void)file;
	vma->vm_ops = &zd_shmem_vm_ops;
	return 0;
}

static const struct zd_file_operations shmem_file_operations = {
	.mmap = shmem_mmap,
	.name = "shmem",
};

/* ---- read and write ---- */

uint64_t zd_tmpfs_size(struct zd_file *file)
{
	struct _zd_shmem_inode *inode = file_inode(file);

	return inode ? i_size_read(inode) : 0;
}

unsigned long zd_tmpfs_nr_pages(struct zd_file *file)
{
	struct _zd_shmem_inode *inode = file_inode(file);

	return inode ? _zd_mapping_nrpages(&inode->i_data) : 0;
}

ssize_t zd_tmpfs_read(struct zd_file *file, uint64_t off, void *buf, size_t len)
{
	struct _zd_shmem_inode *inode = file_inode(file);
	unsigned char *dst = buf;
	uint64_t size;
	size_t done = 0;

	if (!inode || (!buf && len))
		return -EINVAL;
	if (!has_data(inode))
		return -EOPNOTSUPP;
	size = i_size_read(inode);
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (len > (size_t)SSIZE_MAX)
		len = (size_t)SSIZE_MAX & ~(ZD_PAGE_SIZE - 1);
	while (done < len) {
		uint64_t pos = off + done;
		unsigned long index = (unsigned long)(pos >> ZD_PAGE_SHIFT);
		size_t poff = (size_t)(pos & (ZD_PAGE_SIZE - 1));
		size_t n = ZD_PAGE_SIZE - poff;
		struct zd_folio *folio = NULL;

		if (n > len - done)
			n = len - done;
		shmem_get_folio(inode, index, SGP_READ, &folio);	/* cannot fail: no allocation */
		if (folio) {
			memcpy(dst + done, (unsigned char *)zd_page_address(&folio->page) + poff, n);
			zd_folio_put(folio);
		} else {
			memset(dst + done, 0, n);	/* a hole: the ZERO_PAGE copy */
		}
		done += n;
	}
	return (ssize_t)done;
}

ssize_t zd_tmpfs_write(struct zd_file *file, uint64_t off, const void *buf, size_t len)
{
	struct _zd_shmem_inode *inode = file_inode(file);
	const unsigned char *src = buf;
	size_t done = 0;
	int err = 0;

	if (!inode || (!buf && len))
		return -EINVAL;
	if (!has_data(inode))
		return -EOPNOTSUPP;
	if (!len)
		return 0;
	if (off >= ZD_TMPFS_MAX_FILE_SIZE || len > ZD_TMPFS_MAX_FILE_SIZE - off ||
	    len > (size_t)SSIZE_MAX)
		return -EFBIG;
	zd_down_write(&inode->i_rwsem);
	while (done < len) {
		uint64_t pos = off + done;
		unsigned long index = (unsigned long)(pos >> ZD_PAGE_SHIFT);
		size_t poff = (size_t)(pos & (ZD_PAGE_SIZE - 1));
		size_t n = ZD_PAGE_SIZE - poff;
		struct zd_folio *folio;

		if (n > len - done)
			n = len - done;
		err = shmem_get_folio(inode, index, SGP_WRITE, &folio);
		if (err)
			break;
		memcpy((unsigned char *)zd_page_address(&folio->page) + poff, src + done, n);
		/*
		 * shmem_write_end(): uptodate, dirty, and i_size covers the
		 * data before the folio is unlocked, so a fault that locks it
		 * next does not find it beyond EOF.
		 */
		zd_page_set_flag(&folio->page, ZD_PG_uptodate);
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
		done += n;
		if (pos + n > i_size_read(inode))
			i_size_write(inode, pos + n);
		zd_folio_unlock(folio);
		zd_folio_put(folio);
	}
	zd_up_write(&inode->i_rwsem);
	return done ? (ssize_t)done : err;
}

/* ---- truncate and punch hole ---- */

int zd_tmpfs_truncate(struct zd_file *file, uint64_t size)
{
	struct _zd_shmem_inode *inode = file_inode(file);
	uint64_t old;

	if (!inode)
		return -EINVAL;
	if (size > ZD_TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	zd_down_write(&inode->i_rwsem);
	old = i_size_read(inode);
	i_size_write(inode, size);
	if (size < old) {
		/*
		 * truncate_pagecache(): zap the mappings first (private COW
		 * copies too) so no one faults a page we are about to drop,
		 * then the cache, then zap again for faults that raced in.
		 */
		uint64_t holebegin = size_pages(size) << ZD_PAGE_SHIFT;

		zd_unmap_mapping_range(&inode->i_data, holebegin, 0);
		_zd_truncate_inode_pages_range(&inode->i_data, size, UINT64_MAX);
		zd_unmap_mapping_range(&inode->i_data, holebegin, 0);
	}
	zd_up_write(&inode->i_rwsem);
	return 0;
}

int zd_tmpfs_punch_hole(struct zd_file *file, uint64_t off, uint64_t len)
{
	struct _zd_shmem_inode *inode = file_inode(file);

	if (!inode || !len || off + len < off)
		return -EINVAL;
	zd_down_write(&inode->i_rwsem);
	/*
	 * shmem_fallocate(PUNCH_HOLE) unmaps with even_cows == 0: only the
	 * file's own folios go, one by one under their lock; private COW
	 * copies keep their data.
	 */
	_zd_truncate_inode_pages_range(&inode->i_data, off, off + len);
	zd_up_write(&inode->i_rwsem);
	return 0;
}

/* ---- shared anonymous memory ---- */

int zd_shmem_file_setup(struct zd_system *sys, uint64_t size, struct zd_file **out)
{
	struct _zd_shmem_inode *inode;
	int err;

	if (!sys || !out)
		return -EINVAL;
	if (size > ZD_TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	inode = shmem_inode_alloc(sys, NULL, size);
	if (!inode)
		return -ENOMEM;
	/* The file's reference replaces the allocation's: unlinked from birth. */
	err = shmem_file_open(inode, out);
	shmem_iput(inode);
	return err;
}

int zd_shmem_zero_setup(struct zd_vm_area_struct *vma)
{
	struct zd_file *file;
	int err;

	err = zd_shmem_file_setup(zd_mm_system(vma->vm_mm), vma->vm_end - vma->vm_start, &file);
	if (err)
		return err == -EFBIG ? -ENOMEM : err;
	if (vma->vm_file)
		zd_fput(vma->vm_file);
	vma->vm_file = file;
	vma->vm_ops = &zd_shmem_vm_ops;
	vma->vm_pgoff = 0;
	return 0;
}

/* ---- tmpfs mounts ---- */

int zd_tmpfs_create(struct zd_system *sys, struct zd_tmpfs **out)
{
	struct zd_tmpfs *fs;

	if (!sys || !out)
		return -EINVAL;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->hash = calloc(TMPFS_HASH_MIN, sizeof(*fs->hash));
	if (!fs->hash) {
		free(fs);
		return -ENOMEM;
	}
	fs->hash_size = TMPFS_HASH_MIN;
	fs->sys = sys;
	zd_spin_lock_init(&fs->lock);
	zd_atomic_init(&fs->s_active, 1);
	*out = fs;
	return 0;
}

void zd_tmpfs_destroy(struct zd_tmpfs *fs)
{
	struct _zd_shmem_inode *list = NULL, *inode;

	if (!fs)
		return;
	/* Unlink every name; the inodes' own references keep open files alive. */
	zd_spin_lock(&fs->lock);
	for (unsigned long i = 0; i < fs->hash_size; i++) {
		while ((inode = fs->hash[i])) {
			fs->hash[i] = inode->hash_next;
			inode->hash_next = list;
			list = inode;
		}
	}
	fs->nr_files = 0;
	zd_spin_unlock(&fs->lock);
	while ((inode = list)) {
		list = inode->hash_next;
		inode->hash_next = NULL;
		free(inode->name);
		inode->name = NULL;
		shmem_iput(inode);		/* the name's reference */
	}
	tmpfs_put_super(fs);		/* the mount's */
}

/* ---- the name space ---- */

int zd_tmpfs_create_file(struct zd_tmpfs *fs, const char *path, uint64_t size,
			 struct zd_file **out)
{
	struct _zd_shmem_inode *inode, **slot;
	struct zd_file *file = NULL;
	int err;

	if (!fs)
		return -EINVAL;
	err = check_name(path);
	if (err)
		return err;
	if (size > ZD_TMPFS_MAX_FILE_SIZE)
		return -EFBIG;
	inode = shmem_inode_alloc(fs->sys, fs, size);
	if (!inode)
		return -ENOMEM;
	inode->name = strdup(path);
	/* Open before publishing, so a failure has nothing to undo in the name space. */
	if (!inode->name || (out && shmem_file_open(inode, &file))) {
		shmem_iput(inode);
		return -ENOMEM;
	}
	zd_spin_lock(&fs->lock);
	slot = lookup_slot(fs, path);
	if (*slot) {
		zd_spin_unlock(&fs->lock);
		if (file)
			zd_fput(file);
		shmem_iput(inode);
		return -EEXIST;
	}
	/* The allocation's reference becomes the name's. */
	*slot = inode;
	fs->nr_files++;
	maybe_grow(fs);
	zd_spin_unlock(&fs->lock);
	if (out)
		*out = file;
	return 0;
}

int zd_tmpfs_open(struct zd_tmpfs *fs, const char *path, struct zd_file **out)
{
	struct _zd_shmem_inode *inode;
	int err;

	if (!fs || !out)
		return -EINVAL;
	err = check_name(path);
	if (err)
		return err;
	zd_spin_lock(&fs->lock);
	inode = *lookup_slot(fs, path);
	if (inode)
		shmem_igrab(inode);		/* the name's reference keeps it live */
	zd_spin_unlock(&fs->lock);
	if (!inode)
		return -ENOENT;
	err = shmem_file_open(inode, out);
	shmem_iput(inode);
	return err;
}

int zd_tmpfs_unlink(struct zd_tmpfs *fs, const char *path)
{
	struct _zd_shmem_inode *inode, **slot;
	int err;

	if (!fs)
		return -EINVAL;
	err = check_name(path);
	if (err)
		return err;
	zd_spin_lock(&fs->lock);
	slot = lookup_slot(fs, path);
	inode = *slot;
	if (inode) {
		*slot = inode->hash_next;
		inode->hash_next = NULL;
		fs->nr_files--;
	}
	zd_spin_unlock(&fs->lock);
	if (!inode)
		return -ENOENT;
	free(inode->name);
	inode->name = NULL;
	shmem_iput(inode);			/* the name's reference */
	return 0;
}

unsigned long zd_tmpfs_nr_files(struct zd_tmpfs *fs)
{
	unsigned long nr;

	zd_spin_lock(&fs->lock);
	nr = fs->nr_files;
	zd_spin_unlock(&fs->lock);
	return nr;
}
