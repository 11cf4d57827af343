/* SPDX-License-Identifier: MIT */
/*
 * tests/kselftest/vm_util.h - what the ported mm selftests use in place of
 * libc and tools/testing/selftests/mm/vm_util.c: memory access through
 * the model's MMU, pagemap queries, and the files the tests map.
 *
 * Files: memfd_create is a shmem file (zd_shmem_file_setup); tmpfile()
 * and a file in the test's directory are files of "diskfs", a small
 * disk file system written here against the public API, as a driver or
 * file system outside the library would be: its own page cache, an
 * address_space from zd_address_space_alloc, ->fault returning page-cache
 * folios, ->page_mkwrite dirtying them. It stands for ext4/xfs/btrfs:
 * dirty pages are written back, so long-term writable pins of its shared
 * mappings are refused (fstatfs reports EXT4_SUPER_MAGIC for it).
 */
#ifndef ZD_KSFT_VM_UTIL_H
#define ZD_KSFT_VM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zonedev/zonedev.h>

#define TMPFS_MAGIC		0x01021994
#define EXT4_SUPER_MAGIC	0xEF53

#define MAP_FAILED_ADDR		(~0ul)

/* mmap(NULL, len, prot, flags, file, 0): the address, or MAP_FAILED_ADDR. */
unsigned long ksft_mmap(struct zd_mm *mm, size_t len, int prot, int flags, struct zd_file *file);

/* memset / memcpy through the MMU (faults and COW as a CPU store does). */
int ksft_memset(struct zd_mm *mm, unsigned long addr, int c, size_t len);
/* Load @len bytes into @buf (memcpy out of user memory, FORCE_READ). */
int ksft_load(struct zd_mm *mm, unsigned long addr, void *buf, size_t len);
/* A CPU read of one byte: the read fault of FORCE_READ. */
int ksft_force_read(struct zd_mm *mm, unsigned long addr);

/* pagemap: present or swapped (PM_PRESENT | PM_SWAP). */
bool pagemap_is_populated(struct zd_mm *mm, unsigned long addr);
/* pagemap PM_SWAP: the model has no swap, never. */
bool pagemap_is_swapped(struct zd_mm *mm, unsigned long addr);

/*
 * The entry mapping @addr (no fault): its level (1 PTE, 2 PMD, 3 PUD; 0
 * if none) and the pfn of the 4 KiB page @addr lies in (*pfn, may be
 * NULL; ~0 for a non-present entry).
 */
int ksft_entry_level(struct zd_mm *mm, unsigned long addr, unsigned long *pfn);
/* The folio mapped at @addr, or NULL. */
struct zd_folio *ksft_mapped_folio(struct zd_mm *mm, unsigned long addr);

/* read_pmd_pagesize(): the model's THP size. */
size_t read_pmd_pagesize(void);

/* memfd_create("test", 0) + ftruncate(size) + fallocate: a shmem file. */
struct zd_file *ksft_memfd(struct zd_system *sys, size_t size);
/* tmpfile() (or mkstemp + unlink) + fallocate: a diskfs file of @size bytes. */
struct zd_file *ksft_diskfs_file(struct zd_system *sys, size_t size);
/* fstatfs()->f_type. */
unsigned long ksft_fs_type(struct zd_file *file);

#endif /* ZD_KSFT_VM_UTIL_H */
