/* SPDX-License-Identifier: MIT */
/*
 * zonedev/tmpfs.h - the memory file system and shared anonymous memory.
 *
 * Models mm/shmem.c (tmpfs files, shmem_fault, shmem_file_setup,
 * shmem_zero_setup, truncate and hole punching), the page cache of
 * mm/filemap.c and mm/truncate.c, and the bits of fs/libfs.c a flat
 * tmpfs directory needs. File data lives in RAM folios of the page cache
 * (order 0: no huge tmpfs pages); the cache holds one reference on each,
 * sets folio->mapping/index and keeps the folio on the LRU.
 *
 * Files are struct zd_file (zonedev/mm.h): one per open, each holding a
 * reference on the inode; zd_fput() drops it, and the last reference of
 * an unlinked inode frees the inode and its page cache. A mapping of a
 * file (zd_mmap) holds a file reference of its own.
 *
 * Locking, as in Linux: an inode rwsem (inode_lock) serialises writes,
 * truncation and hole punching; the page cache has a lock of its own
 * (xa_lock); a folio leaves the cache under its folio lock. Faults take
 * no inode lock. Reads take none either and may see concurrent writes
 * half done, as read(2) may.
 *
 * Not modelled: directories (the name space is flat), permissions,
 * timestamps, the size= limit (-ENOSPC) and swap: allocation failure is
 * -ENOMEM.
 */
#ifndef ZONEDEV_TMPFS_H
#define ZONEDEV_TMPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zonedev/mm.h>

struct zd_tmpfs;

/* Longest file name (NAME_MAX). */
#define ZD_TMPFS_NAME_MAX	255
/* Largest file size (s_maxbytes); beyond it writes and truncates fail with -EFBIG. */
#define ZD_TMPFS_MAX_FILE_SIZE	(1ull << 44)

/* ---- the file system ---- */

/*
 * zd_tmpfs_create - mount a new, empty tmpfs on @sys (shmem_fill_super).
 * Returns 0 and sets *out, or -EINVAL (NULL argument), -ENOMEM.
 * Context: any.
 */
int zd_tmpfs_create(struct zd_system *sys, struct zd_tmpfs **out);

/*
 * zd_tmpfs_destroy - unmount, lazily (umount -l): every name is unlinked
 * at once; files still open or mapped live on until their last
 * reference is dropped, and the superblock goes with the last of them.
 * Context: no other thread uses @fs's name space meanwhile.
 */
void zd_tmpfs_destroy(struct zd_tmpfs *fs);

/*
 * zd_tmpfs_create_file - create @path (open with O_CREAT|O_EXCL) with
 * i_size @size and no data (it reads as zeros). With @out, the new file
 * is returned open (f_count 1; zd_fput it); with @out NULL it is only
 * created. Names are opaque strings of 1..ZD_TMPFS_NAME_MAX bytes (no
 * directories). Returns 0, -EEXIST, -EINVAL (NULL or empty name),
 * -ENAMETOOLONG, -EFBIG (@size above ZD_TMPFS_MAX_FILE_SIZE), -ENOMEM.
 * Context: may sleep.
 */
int zd_tmpfs_create_file(struct zd_tmpfs *fs, const char *path, uint64_t size,
			 struct zd_file **out);

/*
 * zd_tmpfs_open - open an existing file: a new struct zd_file (f_count
 * 1; zd_fput it) on the same inode, so every open sees the same data.
 * Returns 0, -ENOENT, -EINVAL, -ENAMETOOLONG, -ENOMEM. Context: may sleep.
 */
int zd_tmpfs_open(struct zd_tmpfs *fs, const char *path, struct zd_file **out);

/*
 * zd_tmpfs_unlink - remove @path from the name space (shmem_unlink). An
 * inode still open or mapped lives on, unnamed, until its last file
 * reference; otherwise it and its page cache are freed now. Returns 0,
 * -ENOENT, -EINVAL, -ENAMETOOLONG. Context: may sleep.
 */
int zd_tmpfs_unlink(struct zd_tmpfs *fs, const char *path);

/* Names in the name space now. Context: any. */
unsigned long zd_tmpfs_nr_files(struct zd_tmpfs *fs);

/* ---- file data ---- */

/*
 * zd_tmpfs_read - copy up to @len bytes at @off into @buf through the
 * page cache (shmem_file_read_iter). Holes read as zeros without
 * allocating; a read that crosses EOF is short and one at or beyond EOF
 * returns 0. Returns the bytes read, or -EINVAL (not a tmpfs file),
 * -EOPNOTSUPP (the system has data=none). Context: may sleep; no lock
 * against concurrent writes.
 */
ssize_t zd_tmpfs_read(struct zd_file *file, uint64_t off, void *buf, size_t len);

/*
 * zd_tmpfs_write - copy @len bytes from @buf to @off through the page
 * cache (shmem_write_begin/end): missing folios are allocated zeroed and
 * inserted; written folios are marked uptodate and dirty; i_size grows to
 * cover what was written. Shared mappings of the file see the data at
 * once. Returns the bytes written (short only if a folio could not be
 * allocated after some progress), or -ENOMEM (nothing written), -EFBIG
 * (beyond ZD_TMPFS_MAX_FILE_SIZE), -EINVAL, -EOPNOTSUPP (data=none).
 * Context: takes the inode lock; may sleep.
 */
ssize_t zd_tmpfs_write(struct zd_file *file, uint64_t off, const void *buf, size_t len);

/*
 * zd_tmpfs_truncate - set i_size to @size (shmem_setattr). Growing only
 * moves EOF (the new range is a hole). Shrinking first zaps every user
 * mapping of the pages beyond the new EOF (zd_unmap_mapping_range, private
 * COW copies included), then removes those folios from the page cache and
 * zeroes the tail of a partial last page, so a later access beyond EOF
 * through a mapping is SIGBUS. Returns 0, -EFBIG, -EINVAL.
 * Context: takes the inode lock, then folio locks, the file's rmap lock
 * and page-table locks; may sleep.
 */
int zd_tmpfs_truncate(struct zd_file *file, uint64_t size);

/*
 * zd_tmpfs_punch_hole - deallocate [off, off + len) without changing
 * i_size (fallocate PUNCH_HOLE|KEEP_SIZE): whole pages inside the range
 * are unmapped from shared mappings (zd_try_to_unmap: private COW copies
 * stay, as with even_cows == 0) and removed from the cache; partial pages
 * at either end are zeroed over the range. The hole reads as zeros; a
 * later fault or write allocates a new zeroed folio. Returns 0, -EINVAL
 * (@len 0, @off + @len overflows, not a tmpfs file). Context: as
 * zd_tmpfs_truncate.
 */
int zd_tmpfs_punch_hole(struct zd_file *file, uint64_t off, uint64_t len);

/* i_size_read(): the file's size in bytes (0 for a non-tmpfs file). Context: any. */
uint64_t zd_tmpfs_size(struct zd_file *file);

/* mapping->nrpages: folios in the file's page cache now. Context: any. */
unsigned long zd_tmpfs_nr_pages(struct zd_file *file);

/* Is @file a tmpfs or shared-anonymous (shmem) file? */
bool zd_file_is_shmem(const struct zd_file *file);

/*
 * zd_filemap_get_folio - the folio caching @index of @mapping, with a
 * reference for the caller (filemap_get_folio); NULL if that index is a
 * hole or @mapping is not a shmem mapping. The folio may be truncated
 * as soon as this returns: check folio->page.mapping under the folio
 * lock before trusting it. Context: any; takes the cache lock.
 */
struct zd_folio *zd_filemap_get_folio(struct zd_address_space *mapping, unsigned long index);

/* ---- shared anonymous memory ---- */

/*
 * zd_shmem_file_setup - an unlinked shmem file of @size bytes, backing
 * shared anonymous memory or SysV shm (shmem_file_setup). f_count is 1,
 * owned by the caller; the inode and its page cache go away with the
 * last zd_fput. Returns 0, -EINVAL (NULL argument), -EFBIG, -ENOMEM.
 * Context: may sleep.
 */
int zd_shmem_file_setup(struct zd_system *sys, uint64_t size, struct zd_file **out);

/*
 * zd_shmem_zero_setup - make @vma a shared anonymous mapping
 * (shmem_zero_setup, from do_mmap of MAP_SHARED|MAP_ANONYMOUS): a new
 * shmem file the size of the VMA becomes vma->vm_file (the VMA owns its
 * reference; a previous vm_file is zd_fput), vm_ops becomes
 * zd_shmem_vm_ops and vm_pgoff 0 (do_mmap ignores pgoff for shared
 * anonymous memory). Returns 0 or -ENOMEM. Context: mmap_lock held for
 * write, before the VMA is linked into the file's rmap.
 */
int zd_shmem_zero_setup(struct zd_vm_area_struct *vma);

/*
 * The vm_operations of every shmem mapping: .fault finds or allocates
 * (zeroed) the page-cache folio of vmf->pgoff and returns it in
 * vmf->page with a reference for the core to map (beyond EOF:
 * ZD_VM_FAULT_SIGBUS; no memory: ZD_VM_FAULT_OOM); .page_mkwrite marks
 * the folio dirty.
 */
extern const struct zd_vm_operations_struct zd_shmem_vm_ops;

/* vma_is_shmem(): @vma maps a tmpfs file or shared anonymous memory. */
bool zd_vma_is_shmem(const struct zd_vm_area_struct *vma);

#endif /* ZONEDEV_TMPFS_H */
