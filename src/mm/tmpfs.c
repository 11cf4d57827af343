// SPDX-License-Identifier: MIT
/*
 * src/mm/tmpfs.c - a tmpfs mount and its (flat) name space.
 *
 * Models mm/shmem.c's superblock and directory operations (shmem_fill_super,
 * shmem_mknod, shmem_unlink, shmem_put_super) over fs/libfs.c's dcache
 * based directories, reduced to one hash table of names -> inodes under a
 * per-mount lock. A name holds one inode reference (the dentry's); each
 * inode holds a superblock reference, so a lazily unmounted tmpfs lives
 * until its last open file goes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shmem_internal.h"

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

/* ---- superblock lifetime ---- */

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

void _zd_tmpfs_get_super(struct zd_tmpfs *sb)
{
	zd_atomic_fetch_add_relaxed(&sb->s_active, 1);
}

void _zd_tmpfs_put_super(struct zd_tmpfs *sb)
{
	/* Release/acquire: all users of the superblock finish before it is freed. */
	if (zd_atomic_fetch_sub_acq_rel(&sb->s_active, 1) != 1)
		return;
	free(sb->hash);
	zd_spin_lock_destroy(&sb->lock);
	free(sb);
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
		_zd_shmem_iput(inode);		/* the name's reference */
	}
	_zd_tmpfs_put_super(fs);		/* the mount's */
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
	inode = _zd_shmem_inode_alloc(fs->sys, fs, size);
	if (!inode)
		return -ENOMEM;
	inode->name = strdup(path);
	/* Open before publishing, so a failure has nothing to undo in the name space. */
	if (!inode->name || (out && _zd_shmem_file_open(inode, &file))) {
		_zd_shmem_iput(inode);
		return -ENOMEM;
	}
	zd_spin_lock(&fs->lock);
	slot = lookup_slot(fs, path);
	if (*slot) {
		zd_spin_unlock(&fs->lock);
		if (file)
			zd_fput(file);
		_zd_shmem_iput(inode);
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
		_zd_shmem_igrab(inode);		/* the name's reference keeps it live */
	zd_spin_unlock(&fs->lock);
	if (!inode)
		return -ENOENT;
	err = _zd_shmem_file_open(inode, out);
	_zd_shmem_iput(inode);
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
	_zd_shmem_iput(inode);			/* the name's reference */
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
