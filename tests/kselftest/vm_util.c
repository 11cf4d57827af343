// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/vm_util.c - memory access, pagemap and files for the
 * ported mm selftests; a disk file system stand-in built on the public
 * API. See vm_util.h. Counterpart: tools/testing/selftests/mm/vm_util.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm_util.h"

unsigned long ksft_mmap(struct zd_mm *mm, size_t len, int prot, int flags, struct zd_file *file)
{
	unsigned long addr;

	if (zd_mmap(mm, 0, len, prot, flags, file, 0, 0, &addr))
		return MAP_FAILED_ADDR;
	return addr;
}

int ksft_memset(struct zd_mm *mm, unsigned long addr, int c, size_t len)
{
	void *buf = malloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	memset(buf, c, len);
	ret = zd_cpu_write(mm, addr, buf, len);
	free(buf);
	return ret;
}

int ksft_load(struct zd_mm *mm, unsigned long addr, void *buf, size_t len)
{
	return zd_cpu_read(mm, addr, buf, len);
}

int ksft_force_read(struct zd_mm *mm, unsigned long addr)
{
	char c;

	return zd_cpu_read(mm, addr, &c, 1);
}

bool pagemap_is_populated(struct zd_mm *mm, unsigned long addr)
{
	zd_pte_t e;
	int level;

	return zd_follow_entry(mm, addr, &e, &level) && !zd_pte_none(e);
}

bool pagemap_is_swapped(struct zd_mm *mm, unsigned long addr)
{
	(void)mm;
	(void)addr;
	return false;
}

int ksft_entry_level(struct zd_mm *mm, unsigned long addr, unsigned long *pfn)
{
	zd_pte_t e;
	int level;

	if (!zd_follow_entry(mm, addr, &e, &level) || zd_pte_none(e))
		return 0;
	if (pfn) {
		unsigned long span = level == 1 ? 1 : 1ul << (9 * (level - 1));

		*pfn = zd_pte_present(e) ? zd_pte_pfn(e) + ((addr >> ZD_PAGE_SHIFT) & (span - 1)) :
		       ~0ul;
	}
	return level;
}

struct zd_folio *ksft_mapped_folio(struct zd_mm *mm, unsigned long addr)
{
	unsigned long pfn;

	if (!ksft_entry_level(mm, addr, &pfn) || pfn == ~0ul)
		return NULL;
	return zd_pfn_folio(zd_mm_system(mm), pfn);
}

size_t read_pmd_pagesize(void)
{
	return ZD_PAGE_SIZE << ZD_PMD_ORDER;
}

struct zd_file *ksft_memfd(struct zd_system *sys, size_t size)
{
	struct zd_file *file;
	void *zero;

	if (zd_shmem_file_setup(sys, size, &file))
		return NULL;
	/* fallocate(): the pages exist, zero-filled. */
	zero = calloc(1, size);
	if (!zero || zd_tmpfs_write(file, 0, zero, size) != (ssize_t)size) {
		free(zero);
		zd_fput(file);
		return NULL;
	}
	free(zero);
	return file;
}

/* ---- diskfs: one inode per file, its page cache an array of folios ---- */

struct diskfs_inode {
	struct zd_file file;		/* the one open file */
	struct zd_address_space *mapping;
	struct zd_system *sys;
	unsigned long nr_pages;
	struct zd_folio **cache;	/* the page cache: index -> folio (one reference) */
	unsigned long writebacks;
};

static struct diskfs_inode *diskfs_i(struct zd_file *file)
{
	return file->private_data;
}

/* filemap_fault: find or create the folio, return it locked with a reference. */
static zd_vm_fault_t diskfs_fault(struct zd_vm_fault *vmf)
{
	struct diskfs_inode *inode = diskfs_i(vmf->vma->vm_file);
	struct zd_folio *folio;

	if (vmf->pgoff >= inode->nr_pages)
		return ZD_VM_FAULT_SIGBUS;
	folio = inode->cache[vmf->pgoff];
	if (!folio) {
		folio = zd_folio_alloc(inode->sys, ZD_GFP_ZERO, 0);
		if (!folio)
			return ZD_VM_FAULT_OOM;
		/* filemap_add_folio(): the page-cache identity, and the cache's reference. */
		folio->page.mapping = inode->mapping;
		folio->page.index = vmf->pgoff;
		zd_page_set_flag(&folio->page, ZD_PG_uptodate);
		inode->cache[vmf->pgoff] = folio;
	}
	zd_folio_get(folio);
	zd_folio_lock(folio);
	vmf->page = &folio->page;
	return ZD_VM_FAULT_LOCKED;
}

/* filemap_page_mkwrite: dirty the folio; 0 lets the core make the entry writable. */
static zd_vm_fault_t diskfs_page_mkwrite(struct zd_vm_fault *vmf)
{
	zd_page_set_flag(&zd_page_folio(vmf->page)->page, ZD_PG_dirty);
	return 0;
}

static const struct zd_vm_operations_struct diskfs_vm_ops = {
	.fault = diskfs_fault,
	.page_mkwrite = diskfs_page_mkwrite,
	.name = "diskfs",
};

static int diskfs_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	(void)file;
	vma->vm_ops = &diskfs_vm_ops;
	return 0;
}

static const struct zd_file_operations diskfs_fops = {
	.mmap = diskfs_mmap,
	.name = "diskfs",
};

/* The last fput: the unlinked inode is evicted with its page cache. */
static void diskfs_release(struct zd_file *file)
{
	struct diskfs_inode *inode = diskfs_i(file);

	for (unsigned long i = 0; i < inode->nr_pages; i++) {
		struct zd_folio *folio = inode->cache[i];

		if (!folio)
			continue;
		zd_folio_lock(folio);
		folio->page.mapping = NULL;
		folio->page.index = 0;
		zd_folio_unlock(folio);
		zd_folio_put(folio);
	}
	zd_address_space_free(inode->mapping);
	free(inode->cache);
	free(inode);
}

struct zd_file *ksft_diskfs_file(struct zd_system *sys, size_t size)
{
	struct diskfs_inode *inode = calloc(1, sizeof(*inode));

	if (!inode)
		return NULL;
	inode->sys = sys;
	inode->nr_pages = (size + ZD_PAGE_SIZE - 1) / ZD_PAGE_SIZE;
	inode->cache = calloc(inode->nr_pages ? inode->nr_pages : 1, sizeof(*inode->cache));
	if (!inode->cache || zd_address_space_alloc(sys, 0, &inode->mapping)) {
		free(inode->cache);
		free(inode);
		return NULL;
	}
	inode->file.f_op = &diskfs_fops;
	inode->file.f_mapping = inode->mapping;
	inode->file.private_data = inode;
	inode->file.f_count = 1;
	inode->file.release = diskfs_release;
	return &inode->file;
}

unsigned long ksft_fs_type(struct zd_file *file)
{
	if (zd_file_is_shmem(file))
		return TMPFS_MAGIC;
	if (file->f_op == &diskfs_fops)
		return EXT4_SUPER_MAGIC;
	return 0;
}
