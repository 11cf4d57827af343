// SPDX-License-Identifier: MIT
/*
 * test_tmpfs - the memory file system and its page cache (mm/shmem.c,
 * mm/filemap.c, mm/truncate.c).
 *
 * Without mappings: the name space (create/open/unlink, -EEXIST,
 * -ENOENT, bad names), read/write through the page cache with pattern
 * data (unaligned, across pages, short reads at EOF, holes as zeros,
 * growth), truncate (shrink drops folios and zeroes the partial page,
 * grow reads zeros), punch hole, the page cache's own reference on each
 * folio, folio flags and LRU membership, unlinked-but-open files, lazy
 * unmount, shmem_file_setup, allocation failure, data=none, the xarray.
 *
 * With mappings: MAP_SHARED (CPU writes reach read(), write() reaches
 * the CPU), MAP_PRIVATE (COW: the file never sees the writes), truncate
 * zapping every mapping (an access beyond EOF is SIGBUS, -EIO), punch
 * hole keeping private COW copies, shared anonymous memory across fork,
 * and munmap giving back every reference and mapcount.
 *
 *   file:   [ page 0 | page 1 | page 2 | page 3 ]   i_size
 *   cache:  folio refcount = 1 (cache) + mappings (+ our lookups)
 *   mm:     [ vma: MAP_SHARED pgoff 0            ]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/tmpfs.h>
#include "lib/xarray.h"

#define PAGE ZD_PAGE_SIZE
#define MiB (1ull << 20)
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)

static struct zd_system *fx_sys(void **state)
{
	return ZT_FX(state)->sys;
}

/* Pattern @seed over file offsets [pos, pos + len): each byte depends on its offset. */
static void pattern(unsigned char *buf, uint64_t pos, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t o = pos + i;

		buf[i] = (unsigned char)(seed + o * 7 + (o >> 12) * 13 + 1);
	}
}

static bool all_zero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* The cached folio at @index: refcount without our lookup reference, or -1 for a hole. */
static int cache_ref(struct zd_file *file, unsigned long index)
{
	struct zd_folio *folio = zd_filemap_get_folio(file->f_mapping, index);
	int ref;

	if (!folio)
		return -1;
	ref = zd_folio_ref_count(folio) - 1;
	zd_folio_put(folio);
	return ref;
}

static int cache_mapcount(struct zd_file *file, unsigned long index)
{
	struct zd_folio *folio = zd_filemap_get_folio(file->f_mapping, index);
	int mc;

	if (!folio)
		return -1;
	mc = zd_folio_mapcount(folio);
	zd_folio_put(folio);
	return mc;
}

/*
 * Data helpers return what they saw, and macros assert at the caller's
 * line: write_pattern() writes pattern @seed at @off, expect_pattern()
 * and expect_zeros() read back through the page cache.
 */
static ssize_t do_write_pattern(struct zd_file *file, uint64_t off, size_t len, unsigned int seed)
{
	unsigned char *buf = malloc(len);
	ssize_t ret;

	if (!buf)
		return -ENOMEM;
	pattern(buf, off, len, seed);
	ret = zd_tmpfs_write(file, off, buf, len);
	free(buf);
	return ret;
}

/* 1: the read returned @len bytes of pattern @seed (or zeros with @zeros); 0: not. */
static int read_matches(struct zd_file *file, uint64_t off, size_t len, unsigned int seed,
			bool zeros)
{
	unsigned char *want = calloc(1, len), *got = malloc(len);
	int ok = 0;

	if (want && got) {
		if (!zeros)
			pattern(want, off, len, seed);
		memset(got, 0xa5, len);
		ok = zd_tmpfs_read(file, off, got, len) == (ssize_t)len && !memcmp(want, got, len);
	}
	free(want);
	free(got);
	return ok;
}

#define write_pattern(f, off, len, seed) \
	ZT_EQ(do_write_pattern(f, off, len, seed), (long)(len))
#define expect_pattern(f, off, len, seed) \
	ZT_TRUE(read_matches(f, off, len, seed, false))
#define expect_zeros(f, off, len) \
	ZT_TRUE(read_matches(f, off, len, 0, true))

/* ---- the name space ---- */

static void test_create_open_unlink(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_tmpfs *fs;
	struct zd_file *f, *g;
	char longname[ZD_TMPFS_NAME_MAX + 2];

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "a", 3 * PAGE, &f), 0);
	ZT_TRUE(zd_file_is_shmem(f));
	ZT_EQ(zd_atomic_load_relaxed(&f->f_count), 1);
	ZT_EQU(zd_tmpfs_size(f), 3 * PAGE);
	ZT_EQ(zd_tmpfs_nr_pages(f), 0);			/* sparse: no data yet */
	ZT_EQ(zd_tmpfs_create_file(fs, "a", 0, NULL), -EEXIST);
	ZT_EQ(zd_tmpfs_create_file(fs, "b", 0, NULL), 0);	/* created, not opened */
	ZT_EQ(zd_tmpfs_nr_files(fs), 2);

	ZT_EQ(zd_tmpfs_open(fs, "a", &g), 0);
	ZT_TRUE(g != f);
	ZT_PTR_EQ(g->f_mapping, f->f_mapping);		/* one inode */
	zd_fput(g);
	g = NULL;
	ZT_EQ(zd_tmpfs_open(fs, "nosuch", &g), -ENOENT);
	ZT_PTR_EQ(g, NULL);

	/* names */
	ZT_EQ(zd_tmpfs_create_file(fs, "", 0, NULL), -EINVAL);
	ZT_EQ(zd_tmpfs_create_file(fs, NULL, 0, NULL), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	ZT_EQ(zd_tmpfs_create_file(fs, longname, 0, NULL), -ENAMETOOLONG);
	longname[ZD_TMPFS_NAME_MAX] = 0;
	ZT_EQ(zd_tmpfs_create_file(fs, longname, 0, NULL), 0);
	ZT_EQ(zd_tmpfs_unlink(fs, longname), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "big", ZD_TMPFS_MAX_FILE_SIZE + 1, NULL), -EFBIG);

	/* unlink */
	ZT_EQ(zd_tmpfs_unlink(fs, "b"), 0);
	ZT_EQ(zd_tmpfs_unlink(fs, "b"), -ENOENT);
	ZT_EQ(zd_tmpfs_open(fs, "b", &g), -ENOENT);
	ZT_EQ(zd_tmpfs_nr_files(fs), 1);
	ZT_EQ(zd_tmpfs_open(fs, "a", &g), 0);
	zd_fput(g);
	zd_fput(f);

	/* many names: the hash table grows */
	for (int i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		ZT_EQ(zd_tmpfs_create_file(fs, name, (uint64_t)i, NULL), 0);
	}
	ZT_EQ(zd_tmpfs_nr_files(fs), 101);
	for (int i = 0; i < 100; i += 3) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		ZT_EQ(zd_tmpfs_open(fs, name, &f), 0);
		ZT_EQU(zd_tmpfs_size(f), (uint64_t)i);
		zd_fput(f);
	}
	zd_tmpfs_destroy(fs);
	ZT_EQ(zd_check_invariants(sys), 0);
}

/* ---- data through the page cache ---- */

static void test_read_write(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_tmpfs *fs;
	struct zd_file *f;
	unsigned char buf[3 * PAGE];
	unsigned long free0 = zd_nr_free_pages(sys);

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "data", 0, &f), 0);
	ZT_EQ(zd_tmpfs_read(f, 0, buf, sizeof(buf)), 0);	/* empty */

	/* unaligned, across three pages: size grows to the end of the write */
	write_pattern(f, 1000, 2 * PAGE + 500, 1);
	ZT_EQU(zd_tmpfs_size(f), 1000 + 2 * PAGE + 500);
	ZT_EQ(zd_tmpfs_nr_pages(f), 3);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 3);
	expect_pattern(f, 1000, 2 * PAGE + 500, 1);
	expect_zeros(f, 0, 1000);

	/* short read across EOF, empty reads at and beyond it */
	memset(buf, 0, sizeof(buf));
	ZT_EQ(zd_tmpfs_read(f, 2 * PAGE, buf, sizeof(buf)), 1000 + 500);
	ZT_EQ(zd_tmpfs_read(f, zd_tmpfs_size(f), buf, 1), 0);
	ZT_EQ(zd_tmpfs_read(f, 100 * PAGE, buf, 1), 0);
	ZT_EQ(zd_tmpfs_read(f, 0, buf, 0), 0);

	/* overwrite in the middle: neighbours intact */
	write_pattern(f, PAGE + 10, 20, 9);
	expect_pattern(f, PAGE + 10, 20, 9);
	expect_pattern(f, 1000, PAGE + 10 - 1000, 1);

	/* a write far out leaves a hole that reads as zeros and has no folios */
	write_pattern(f, 10 * PAGE + 5, 10, 3);
	ZT_EQU(zd_tmpfs_size(f), 10 * PAGE + 15);
	ZT_EQ(zd_tmpfs_nr_pages(f), 4);
	expect_zeros(f, 3 * PAGE, 7 * PAGE + 5);
	ZT_EQ(zd_tmpfs_nr_pages(f), 4);			/* reading a hole allocates nothing */
	expect_pattern(f, 10 * PAGE + 5, 10, 3);

	/* errors */
	ZT_EQ(zd_tmpfs_write(f, 0, buf, 0), 0);
	ZT_EQ(zd_tmpfs_write(f, ZD_TMPFS_MAX_FILE_SIZE - 1, buf, 2), -EFBIG);
	ZT_EQ(zd_tmpfs_write(f, UINT64_MAX, buf, 2), -EFBIG);
	ZT_EQ(zd_tmpfs_write(NULL, 0, buf, 1), -EINVAL);
	ZT_EQ(zd_tmpfs_read(NULL, 0, buf, 1), -EINVAL);
	ZT_EQ(zd_tmpfs_truncate(f, ZD_TMPFS_MAX_FILE_SIZE + 1), -EFBIG);
	ZT_EQ(zd_check_invariants(sys), 0);

	zd_fput(f);
	zd_tmpfs_destroy(fs);
	ZT_EQU(zd_nr_free_pages(sys), free0);
}

/* The cache holds one reference per folio; folios are file pages on the LRU. */
static void test_page_cache_refs(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long lru0 = zd_lru_count(sys, ZD_LRU_INACTIVE) + zd_lru_count(sys, ZD_LRU_ACTIVE);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_system_stats st0, st;
	struct zd_tmpfs *fs;
	struct zd_file *f;

	zd_system_get_stats(sys, &st0);
	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "c", 0, &f), 0);
	write_pattern(f, 0, 8 * PAGE, 4);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE) + zd_lru_count(sys, ZD_LRU_ACTIVE), lru0 + 8);
	for (unsigned long i = 0; i < 8; i++) {
		struct zd_folio *folio = zd_filemap_get_folio(f->f_mapping, i);

		ZT_TRUE(folio != NULL);
		ZT_EQ(zd_folio_ref_count(folio), 2);		/* the cache's and ours */
		ZT_EQ(zd_folio_mapcount(folio), 0);
		ZT_PTR_EQ(folio->page.mapping, f->f_mapping);
		ZT_EQU(folio->page.index, i);
		ZT_TRUE(!zd_folio_test_anon(folio));
		ZT_TRUE(!zd_folio_is_zone_device(folio));
		ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_lru));
		ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_uptodate));
		ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_dirty));
		ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_swapbacked));
		ZT_TRUE(!zd_folio_test_locked(folio));
		zd_folio_put(folio);
		ZT_EQ(cache_ref(f, i), 1);
	}
	ZT_PTR_EQ(zd_filemap_get_folio(f->f_mapping, 8), NULL);
	ZT_PTR_EQ(zd_filemap_get_folio(NULL, 0), NULL);
	ZT_EQ(zd_check_invariants(sys), 0);

	/* a folio someone holds survives truncation, out of the cache */
	{
		struct zd_folio *held = zd_filemap_get_folio(f->f_mapping, 7);

		ZT_EQ(zd_tmpfs_truncate(f, 4 * PAGE), 0);
		ZT_EQ(zd_tmpfs_nr_pages(f), 4);
		ZT_EQ(zd_folio_ref_count(held), 1);		/* only ours now */
		ZT_PTR_EQ(held->page.mapping, NULL);
		ZT_TRUE(!zd_folio_test_flag(held, ZD_PG_dirty));
		ZT_EQU(zd_nr_free_pages(sys), free0 - 5);
		zd_folio_put(held);
		ZT_EQU(zd_nr_free_pages(sys), free0 - 4);
	}
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE) + zd_lru_count(sys, ZD_LRU_ACTIVE), lru0 + 4);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.folio_allocs - st0.folio_allocs, 8);
	ZT_EQU(st.folio_frees - st0.folio_frees, 4);

	zd_fput(f);
	zd_tmpfs_destroy(fs);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE) + zd_lru_count(sys, ZD_LRU_ACTIVE), lru0);
}

/*
 *   before:  [ AAAA | AAAA | AAAA ]            size 3 pages
 *   shrink:  [ AAAA | AA00 ]                   size 1.5 pages, page 2 dropped
 *   grow:    [ AAAA | AA00 | hole | hole ]     size 4 pages
 */
static void test_truncate(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_tmpfs *fs;
	struct zd_file *f;
	unsigned char buf[PAGE];

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "t", 0, &f), 0);
	write_pattern(f, 0, 3 * PAGE, 5);

	ZT_EQ(zd_tmpfs_truncate(f, PAGE + PAGE / 2), 0);
	ZT_EQU(zd_tmpfs_size(f), PAGE + PAGE / 2);
	ZT_EQ(zd_tmpfs_nr_pages(f), 2);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 2);
	ZT_EQ(zd_tmpfs_read(f, PAGE, buf, PAGE), PAGE / 2);	/* short read */
	expect_pattern(f, 0, PAGE + PAGE / 2, 5);

	ZT_EQ(zd_tmpfs_truncate(f, 4 * PAGE), 0);
	ZT_EQU(zd_tmpfs_size(f), 4 * PAGE);
	ZT_EQ(zd_tmpfs_nr_pages(f), 2);				/* growing allocates nothing */
	expect_pattern(f, 0, PAGE + PAGE / 2, 5);
	expect_zeros(f, PAGE + PAGE / 2, 2 * PAGE + PAGE / 2);	/* the old tail was zeroed */

	/* to a page boundary, then to zero */
	ZT_EQ(zd_tmpfs_truncate(f, PAGE), 0);
	ZT_EQ(zd_tmpfs_nr_pages(f), 1);
	ZT_EQ(zd_tmpfs_truncate(f, PAGE), 0);			/* same size: nothing */
	ZT_EQ(zd_tmpfs_truncate(f, 0), 0);
	ZT_EQ(zd_tmpfs_nr_pages(f), 0);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	ZT_EQ(zd_tmpfs_read(f, 0, buf, 1), 0);
	ZT_EQ(zd_check_invariants(sys), 0);

	zd_fput(f);
	zd_tmpfs_destroy(fs);
}

/*
 *   before:  [ AAAA | AAAA | AAAA | AAAA ]
 *   punch [100, 2 pages + 200):
 *            [ A000 | hole | 00AA | AAAA ]     size unchanged
 */
static void test_punch_hole(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_tmpfs *fs;
	struct zd_file *f;

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "p", 0, &f), 0);
	write_pattern(f, 0, 4 * PAGE, 6);
	ZT_EQ(zd_tmpfs_punch_hole(f, 100, 2 * PAGE + 100), 0);
	ZT_EQU(zd_tmpfs_size(f), 4 * PAGE);
	ZT_EQ(zd_tmpfs_nr_pages(f), 3);
	ZT_EQ(cache_ref(f, 1), -1);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 3);
	expect_pattern(f, 0, 100, 6);
	expect_zeros(f, 100, 2 * PAGE + 100);
	{
		unsigned char want[4 * PAGE], got[2 * PAGE - 200];

		pattern(want, 0, sizeof(want), 6);
		ZT_EQ(zd_tmpfs_read(f, 2 * PAGE + 200, got, sizeof(got)), (long)sizeof(got));
		ZT_TRUE(memcmp(got, want + 2 * PAGE + 200, sizeof(got)) == 0);
	}

	/* within one page; beyond EOF; whole file */
	ZT_EQ(zd_tmpfs_punch_hole(f, 3 * PAGE + 10, 20), 0);
	expect_zeros(f, 3 * PAGE + 10, 20);
	ZT_EQ(zd_tmpfs_nr_pages(f), 3);
	ZT_EQ(zd_tmpfs_punch_hole(f, 100 * PAGE, PAGE), 0);
	ZT_EQ(zd_tmpfs_punch_hole(f, 0, 4 * PAGE), 0);
	ZT_EQ(zd_tmpfs_nr_pages(f), 0);
	ZT_EQU(zd_tmpfs_size(f), 4 * PAGE);
	expect_zeros(f, 0, 4 * PAGE);
	ZT_EQU(zd_nr_free_pages(sys), free0);

	/* a punched page comes back, zeroed, on the next write */
	write_pattern(f, PAGE + 1, 1, 7);
	ZT_EQ(zd_tmpfs_nr_pages(f), 1);
	expect_zeros(f, PAGE, 1);
	expect_zeros(f, PAGE + 2, PAGE - 2);

	ZT_EQ(zd_tmpfs_punch_hole(f, 0, 0), -EINVAL);
	ZT_EQ(zd_tmpfs_punch_hole(f, UINT64_MAX - 1, 4), -EINVAL);
	ZT_EQ(zd_tmpfs_punch_hole(NULL, 0, 1), -EINVAL);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_fput(f);
	zd_tmpfs_destroy(fs);
	ZT_EQU(zd_nr_free_pages(sys), free0);
}

/* ---- lifetimes ---- */

static void test_unlink_open_file(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_tmpfs *fs;
	struct zd_file *f, *g, *h;

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "u", 0, &f), 0);
	ZT_EQ(zd_tmpfs_open(fs, "u", &g), 0);
	write_pattern(f, 0, 2 * PAGE, 8);
	expect_pattern(g, 0, 2 * PAGE, 8);		/* two opens, one page cache */

	ZT_EQ(zd_tmpfs_unlink(fs, "u"), 0);
	ZT_EQ(zd_tmpfs_open(fs, "u", &h), -ENOENT);
	expect_pattern(f, 0, 2 * PAGE, 8);		/* still there for its opens */
	write_pattern(g, 2 * PAGE, 10, 9);
	expect_pattern(f, 2 * PAGE, 10, 9);

	/* the name is free for a new, empty file */
	ZT_EQ(zd_tmpfs_create_file(fs, "u", 0, &h), 0);
	ZT_EQU(zd_tmpfs_size(h), 0);
	ZT_TRUE(h->f_mapping != f->f_mapping);
	zd_fput(h);

	zd_fput(f);
	ZT_EQ(zd_tmpfs_nr_pages(g), 3);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 3);
	zd_fput(g);					/* the last one frees the inode */
	ZT_EQU(zd_nr_free_pages(sys), free0);
	zd_tmpfs_destroy(fs);
}

/* Unmount is lazy: open files outlive it. */
static void test_destroy_with_open_file(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_tmpfs *fs;
	struct zd_file *f;

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "keep", 0, &f), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "drop", 0, NULL), 0);
	write_pattern(f, 0, PAGE, 10);
	zd_tmpfs_destroy(fs);
	expect_pattern(f, 0, PAGE, 10);
	write_pattern(f, PAGE, PAGE, 11);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 2);
	zd_fput(f);
	ZT_EQU(zd_nr_free_pages(sys), free0);
}

static void test_shmem_file_setup(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_file *f;

	ZT_EQ(zd_shmem_file_setup(NULL, PAGE, &f), -EINVAL);
	ZT_EQ(zd_shmem_file_setup(sys, ZD_TMPFS_MAX_FILE_SIZE + 1, &f), -EFBIG);
	ZT_EQ(zd_shmem_file_setup(sys, 4 * PAGE, &f), 0);
	ZT_TRUE(zd_file_is_shmem(f));
	ZT_EQU(zd_tmpfs_size(f), 4 * PAGE);
	expect_zeros(f, 0, 4 * PAGE);
	write_pattern(f, 3 * PAGE, PAGE, 12);
	expect_pattern(f, 3 * PAGE, PAGE, 12);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 1);
	zd_fput(f);
	ZT_EQU(zd_nr_free_pages(sys), free0);
}

/* ---- machines with other options ---- */

static void test_alloc_failure(void **state)
{
	struct zd_system_options o;
	struct zt_reports log;
	struct zd_system *sys;
	struct zd_tmpfs *fs;
	struct zd_file *f;
	unsigned char buf[4 * PAGE];
	unsigned long free0;

	(void)state;
	zt_reports_clear(&log);
	zt_options(&o, &log, ZD_SCHEME_ZERO, ZD_CHECK_FULL);
	o.ram_size = 8 * MiB;
	/* the 3rd allocation fails, and only it */
	o.fault[ZD_FAULT_PAGE_ALLOC].probability = 100;
	o.fault[ZD_FAULT_PAGE_ALLOC].interval = 3;
	o.fault[ZD_FAULT_PAGE_ALLOC].times = 1;
	sys = zt_system_create_opts(&o);
	free0 = zd_nr_free_pages(sys);
	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "oom", 0, &f), 0);
	pattern(buf, 0, sizeof(buf), 13);
	ZT_EQ(zd_tmpfs_write(f, 0, buf, sizeof(buf)), 2 * PAGE);	/* short write */
	ZT_EQU(zd_tmpfs_size(f), 2 * PAGE);
	ZT_EQ(zd_tmpfs_nr_pages(f), 2);
	expect_pattern(f, 0, 2 * PAGE, 13);
	ZT_EQ(zd_tmpfs_write(f, 2 * PAGE, buf + 2 * PAGE, 2 * PAGE), 2 * PAGE);
	expect_pattern(f, 0, 4 * PAGE, 13);
	zd_fput(f);
	zd_tmpfs_destroy(fs);
	ZT_EQU(zd_nr_free_pages(sys), free0);

	/* a write that cannot allocate anything: -ENOMEM, size unchanged */
	zt_system_destroy_clean(sys, &log);
	zt_options(&o, &log, ZD_SCHEME_ZERO, ZD_CHECK_FULL);
	o.ram_size = 8 * MiB;
	o.fault[ZD_FAULT_PAGE_ALLOC].probability = 100;
	sys = zt_system_create_opts(&o);
	ZT_EQ(zd_shmem_file_setup(sys, PAGE, &f), 0);
	ZT_EQ(zd_tmpfs_write(f, 0, buf, 10), -ENOMEM);
	ZT_EQU(zd_tmpfs_size(f), PAGE);
	expect_zeros(f, 0, PAGE);
	zd_fput(f);
	zt_system_destroy_clean(sys, &log);
}

static void test_data_none(void **state)
{
	struct zd_system_options o;
	struct zt_reports log;
	struct zd_system *sys;
	struct zd_tmpfs *fs;
	struct zd_file *f;
	char c = 0;

	(void)state;
	zt_reports_clear(&log);
	zt_options(&o, &log, ZD_SCHEME_ZERO, ZD_CHECK_FULL);
	o.data = ZD_DATA_NONE;
	sys = zt_system_create_opts(&o);
	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "n", 2 * PAGE, &f), 0);
	ZT_EQ(zd_tmpfs_read(f, 0, &c, 1), -EOPNOTSUPP);
	ZT_EQ(zd_tmpfs_write(f, 0, &c, 1), -EOPNOTSUPP);
	ZT_EQ(zd_tmpfs_truncate(f, PAGE + 1), 0);
	ZT_EQ(zd_tmpfs_punch_hole(f, 0, PAGE), 0);
	ZT_EQU(zd_tmpfs_size(f), PAGE + 1);
	zd_fput(f);
	zd_tmpfs_destroy(fs);
	zt_system_destroy_clean(sys, &log);
}

/* ---- the xarray behind the cache ---- */

static void test_xarray(void **state)
{
	static const unsigned long idx[] = {
		0, 1, 63, 64, 65, 4095, 4096, 262143, 262144, 1ul << 30, (1ul << 40) + 7,
		ZD_XA_MAX_INDEX,
	};
	const size_t n = sizeof(idx) / sizeof(idx[0]);
	struct zd_xarray xa;
	unsigned long i;
	void *e;

	(void)state;
	_zd_xa_init(&xa);
	ZT_PTR_EQ(_zd_xa_load(&xa, 0), NULL);
	i = 0;
	ZT_PTR_EQ(_zd_xa_find(&xa, &i, ~0ul), NULL);
	ZT_PTR_EQ(_zd_xa_erase(&xa, 5), NULL);
	/* values: index + 1, as a tagged pointer-sized token */
	for (size_t k = 0; k < n; k++)
		ZT_EQ(_zd_xa_insert(&xa, idx[k], (void *)(idx[k] * 2 + 2)), 0);
	ZT_EQ(_zd_xa_insert(&xa, 64, (void *)1), -EBUSY);
	ZT_EQ(_zd_xa_insert(&xa, 7, NULL), -EINVAL);
	ZT_EQ(_zd_xa_insert(&xa, ZD_XA_MAX_INDEX + 1, (void *)1), -EINVAL);
	ZT_EQU(xa.nr, n);
	for (size_t k = 0; k < n; k++) {
		ZT_PTR_EQ(_zd_xa_load(&xa, idx[k]), (void *)(idx[k] * 2 + 2));
		if (idx[k] + 1 <= ZD_XA_MAX_INDEX && (k + 1 == n || idx[k + 1] != idx[k] + 1))
			ZT_PTR_EQ(_zd_xa_load(&xa, idx[k] + 1), NULL);
	}
	/* find walks in index order and respects max */
	i = 0;
	for (size_t k = 0; k < n; k++, i++) {
		e = _zd_xa_find(&xa, &i, ~0ul);
		ZT_PTR_EQ(e, (void *)(idx[k] * 2 + 2));
		ZT_EQU(i, idx[k]);
	}
	i = 66;
	ZT_PTR_EQ(_zd_xa_find(&xa, &i, 4094), NULL);
	ZT_EQU(i, 66);
	ZT_PTR_EQ(_zd_xa_find(&xa, &i, 4095), (void *)(4095ul * 2 + 2));
	ZT_EQU(i, 4095);
	/* erase everything but the first; the tree shrinks back */
	for (size_t k = n; k-- > 1;)
		ZT_PTR_EQ(_zd_xa_erase(&xa, idx[k]), (void *)(idx[k] * 2 + 2));
	ZT_EQU(xa.nr, 1);
	ZT_PTR_EQ(_zd_xa_load(&xa, 0), (void *)2);
	ZT_PTR_EQ(_zd_xa_load(&xa, 1ul << 30), NULL);
	ZT_PTR_EQ(_zd_xa_erase(&xa, 0), (void *)2);
	ZT_TRUE(_zd_xa_empty(&xa));
	ZT_PTR_EQ(xa.head, NULL);
	/* dense fill and destroy with entries left */
	for (i = 0; i < 5000; i++)
		ZT_EQ(_zd_xa_insert(&xa, i * 3, (void *)(i + 1)), 0);
	for (i = 0; i < 5000; i += 2)
		ZT_PTR_EQ(_zd_xa_erase(&xa, i * 3), (void *)(i + 1));
	i = 1;
	ZT_PTR_EQ(_zd_xa_find(&xa, &i, ~0ul), (void *)2);
	ZT_EQU(i, 3);
	_zd_xa_destroy(&xa);
	ZT_TRUE(_zd_xa_empty(&xa));
}

/* ---- mappings ---- */

static unsigned long map(struct zd_mm *mm, struct zd_file *f, unsigned long len, int flags,
			 unsigned long pgoff)
{
	unsigned long addr = 0;

	ZT_EQ(zd_mmap(mm, 0, len, RW, flags, f, pgoff, 0, &addr), 0);
	ZT_TRUE(addr != 0);
	return addr;
}

/* CPU access at @base + @off, with the pattern of file offset @off (pgoff 0 mappings). */
static int cpu_write_pattern_ret(struct zd_mm *mm, unsigned long base, unsigned long off,
				 size_t len, unsigned int seed)
{
	unsigned char *buf = malloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	pattern(buf, off, len, seed);
	ret = zd_cpu_write(mm, base + off, buf, len);
	free(buf);
	return ret;
}

static int cpu_read_matches(struct zd_mm *mm, unsigned long base, unsigned long off, size_t len,
			    unsigned int seed)
{
	unsigned char *want = malloc(len), *got = malloc(len);
	int ok = 0;

	if (want && got) {
		pattern(want, off, len, seed);
		ok = zd_cpu_read(mm, base + off, got, len) == 0 && !memcmp(want, got, len);
	}
	free(want);
	free(got);
	return ok;
}

#define cpu_write_pattern(mm, base, off, len, seed) \
	ZT_EQ(cpu_write_pattern_ret(mm, base, off, len, seed), 0)
#define cpu_expect_pattern(mm, base, off, len, seed) \
	ZT_TRUE(cpu_read_matches(mm, base, off, len, seed))

/* MAP_SHARED: one set of folios for the CPU and read()/write(). */
static void test_mmap_shared(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_mm_stats mst;
	struct zd_tmpfs *fs;
	struct zd_file *f;
	struct zd_mm *mm = ZT_FX(state)->mm;
	unsigned long addr;
	unsigned char buf[100];

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "m", 0, &f), 0);
	write_pattern(f, 0, 4 * PAGE, 20);
	addr = map(mm, f, 4 * PAGE, ZD_MAP_SHARED, 0);
	ZT_EQ(zd_atomic_load_relaxed(&f->f_count), 2);		/* the VMA's reference */
	zd_mmap_read_lock(mm);
	ZT_TRUE(zd_vma_is_shmem(zd_vma_lookup(mm, addr)));
	zd_mmap_read_unlock(mm);

	cpu_expect_pattern(mm, addr, 0, 4 * PAGE, 20);
	for (unsigned long i = 0; i < 4; i++) {
		ZT_EQ(cache_ref(f, i), 2);			/* cache + mapping */
		ZT_EQ(cache_mapcount(f, i), 1);
	}
	zd_mm_get_stats(mm, &mst);
	ZT_EQ(mst.rss_shmem, 4);
	ZT_EQ(mst.rss_anon, 0);

	/* CPU writes reach read(); write() reaches the CPU */
	cpu_write_pattern(mm, addr, PAGE + 100, 2 * PAGE, 21);
	expect_pattern(f, PAGE + 100, 2 * PAGE, 21);
	write_pattern(f, 50, 100, 22);
	cpu_expect_pattern(mm, addr, 50, 100, 22);
	ZT_EQ(zd_tmpfs_nr_pages(f), 4);				/* no copies anywhere */

	/* a second mm sees the same data */
	{
		struct zd_mm *mm2;
		unsigned long addr2;

		ZT_EQ(zd_mm_create(sys, &mm2), 0);
		addr2 = map(mm2, f, 2 * PAGE, ZD_MAP_SHARED, 1);	/* pages 1 and 2 */
		ZT_EQ(zd_cpu_read(mm2, addr2 + 100, buf, sizeof(buf)), 0);
		ZT_EQ(zd_cpu_write(mm2, addr2, "hello", 5), 0);
		ZT_EQ(zd_cpu_read(mm, addr + PAGE, buf, 5), 0);
		ZT_TRUE(memcmp(buf, "hello", 5) == 0);
		ZT_EQ(cache_ref(f, 1), 3);
		ZT_EQ(cache_mapcount(f, 1), 2);
		zd_mm_destroy(mm2);
		ZT_EQ(cache_ref(f, 1), 2);
		ZT_EQ(cache_mapcount(f, 1), 1);
	}

	/* munmap gives every reference and mapcount back */
	ZT_EQ(zd_munmap(mm, addr, 4 * PAGE), 0);
	ZT_EQ(zd_atomic_load_relaxed(&f->f_count), 1);
	for (unsigned long i = 0; i < 4; i++) {
		ZT_EQ(cache_ref(f, i), 1);
		ZT_EQ(cache_mapcount(f, i), 0);
	}
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_mm_exit(ZT_FX(state));
	zd_fput(f);
	zd_tmpfs_destroy(fs);
}

/* MAP_PRIVATE: reads share the cache folios, writes copy. */
static void test_mmap_private(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_mm_stats mst;
	struct zd_tmpfs *fs;
	struct zd_file *f;
	struct zd_mm *mm = ZT_FX(state)->mm;
	unsigned long addr;

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "p", 0, &f), 0);
	write_pattern(f, 0, 3 * PAGE, 30);
	addr = map(mm, f, 3 * PAGE, ZD_MAP_PRIVATE, 0);

	cpu_expect_pattern(mm, addr, 0, 3 * PAGE, 30);
	ZT_EQ(cache_ref(f, 1), 2);				/* read: the cache folio is mapped */
	ZT_EQ(cache_mapcount(f, 1), 1);

	cpu_write_pattern(mm, addr, PAGE, PAGE, 31);		/* COW of page 1 */
	cpu_expect_pattern(mm, addr, PAGE, PAGE, 31);
	expect_pattern(f, PAGE, PAGE, 30);			/* the file never sees it */
	ZT_EQ(cache_ref(f, 1), 1);				/* replaced by an anon copy */
	ZT_EQ(cache_mapcount(f, 1), 0);
	ZT_EQ(cache_ref(f, 0), 2);
	zd_mm_get_stats(mm, &mst);
	ZT_EQ(mst.rss_anon, 1);
	ZT_EQ(mst.rss_shmem, 2);

	/* write() after the COW: visible on the untouched pages only */
	write_pattern(f, 0, 3 * PAGE, 32);
	cpu_expect_pattern(mm, addr, 0, PAGE, 32);
	cpu_expect_pattern(mm, addr, PAGE, PAGE, 31);
	ZT_EQ(zd_munmap(mm, addr, 3 * PAGE), 0);
	for (unsigned long i = 0; i < 3; i++) {
		ZT_EQ(cache_ref(f, i), 1);
		ZT_EQ(cache_mapcount(f, i), 0);
	}
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_mm_exit(ZT_FX(state));
	zd_fput(f);
	zd_tmpfs_destroy(fs);
}

/*
 * do_cow_fault(): the first touch of a MAP_PRIVATE page is a write. The
 * anonymous copy is mapped, the cache folio never is: the fault's own
 * reference is the only one dropped, no mapcount moves.
 */
static void test_mmap_private_first_write(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_file *f;
	struct zd_mm *mm = ZT_FX(state)->mm;
	unsigned long addr;

	ZT_EQ(zd_shmem_file_setup(sys, 2 * PAGE, &f), 0);
	write_pattern(f, 0, 2 * PAGE, 70);
	addr = map(mm, f, 2 * PAGE, ZD_MAP_PRIVATE, 0);
	cpu_write_pattern(mm, addr, 0, 100, 71);		/* write before any read */
	cpu_expect_pattern(mm, addr, 0, 100, 71);
	cpu_expect_pattern(mm, addr, 100, PAGE - 100, 70);	/* the rest was copied */
	expect_pattern(f, 0, 2 * PAGE, 70);
	ZT_EQ(cache_ref(f, 0), 1);
	ZT_EQ(cache_mapcount(f, 0), 0);
	ZT_EQ(zd_munmap(mm, addr, 2 * PAGE), 0);
	ZT_EQ(cache_ref(f, 0), 1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_mm_exit(ZT_FX(state));
	zd_fput(f);
}

/*
 *   file:  [ 0 | 1 | 2 | 3 ]  mapped shared in mm A, private (page 3 COWed) in mm B
 *   truncate to 1.5 pages:
 *   file:  [ 0 | 1 ]  A and B: pages 2, 3 unmapped, access is SIGBUS (-EIO)
 */
static void test_truncate_zaps_mappings(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_tmpfs *fs;
	struct zd_file *f;
	struct zd_mm *a = ZT_FX(state)->mm, *b;
	unsigned long addr_a, addr_b;
	unsigned char buf[PAGE];
	zd_pte_t entry;
	int level;

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "z", 0, &f), 0);
	write_pattern(f, 0, 4 * PAGE, 40);
	ZT_EQ(zd_mm_create(sys, &b), 0);
	addr_a = map(a, f, 4 * PAGE, ZD_MAP_SHARED, 0);
	addr_b = map(b, f, 4 * PAGE, ZD_MAP_PRIVATE, 0);
	ZT_EQ(zd_cpu_touch(a, addr_a, 4 * PAGE, true), 0);
	ZT_EQ(zd_cpu_touch(b, addr_b, 4 * PAGE, false), 0);
	cpu_write_pattern(b, addr_b, 3 * PAGE, PAGE, 41);	/* private COW copy */
	ZT_EQ(cache_ref(f, 2), 3);

	ZT_EQ(zd_tmpfs_truncate(f, PAGE + PAGE / 2), 0);
	ZT_EQ(zd_tmpfs_nr_pages(f), 2);
	for (unsigned long i = 2; i < 4; i++) {
		ZT_EQ(zd_follow_entry(a, addr_a + i * PAGE, &entry, &level), 0);
		ZT_TRUE(zd_pte_none(entry));
		ZT_EQ(zd_follow_entry(b, addr_b + i * PAGE, &entry, &level), 0);
		ZT_TRUE(zd_pte_none(entry));
		ZT_EQ(zd_cpu_read(a, addr_a + i * PAGE, buf, 1), -EIO);
		ZT_EQ(zd_cpu_read(b, addr_b + i * PAGE, buf, 1), -EIO);	/* even the COW copy */
		ZT_EQ(zd_cpu_write(a, addr_a + i * PAGE, buf, 1), -EIO);
	}
	ZT_EQ(zd_tmpfs_nr_pages(f), 2);				/* SIGBUS allocated nothing */
	/* below EOF all is well; the partial page reads zeros past EOF */
	cpu_expect_pattern(a, addr_a, 0, PAGE + PAGE / 2, 40);
	cpu_expect_pattern(b, addr_b, 0, PAGE, 40);
	ZT_EQ(zd_cpu_read(a, addr_a + PAGE + PAGE / 2, buf, PAGE / 2), 0);
	ZT_TRUE(all_zero(buf, PAGE / 2));
	ZT_EQ(cache_ref(f, 0), 3);
	ZT_EQ(cache_ref(f, 1), 3);

	/* growing again: the pages are holes, mappable again */
	ZT_EQ(zd_tmpfs_truncate(f, 4 * PAGE), 0);
	ZT_EQ(zd_cpu_read(a, addr_a + 3 * PAGE, buf, PAGE), 0);
	ZT_TRUE(all_zero(buf, PAGE));
	ZT_EQ(cache_ref(f, 3), 2);

	/* truncate to 0 unmaps everything */
	ZT_EQ(zd_tmpfs_truncate(f, 0), 0);
	ZT_EQ(zd_tmpfs_nr_pages(f), 0);
	ZT_EQ(zd_cpu_read(a, addr_a, buf, 1), -EIO);
	ZT_EQ(zd_cpu_read(b, addr_b, buf, 1), -EIO);
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_mm_exit(ZT_FX(state));
	zd_mm_destroy(b);
	zd_fput(f);
	zd_tmpfs_destroy(fs);
}

/* Faults beyond EOF are SIGBUS; the mapping may be longer than the file. */
static void test_fault_beyond_eof(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_file *f;
	struct zd_mm *mm = ZT_FX(state)->mm;
	unsigned long addr;
	unsigned char c;

	ZT_EQ(zd_shmem_file_setup(sys, PAGE + 1, &f), 0);
	addr = map(mm, f, 4 * PAGE, ZD_MAP_SHARED, 0);
	ZT_EQ(zd_cpu_read(mm, addr + PAGE + 100, &c, 1), 0);	/* the partial page */
	ZT_EQ(zd_cpu_read(mm, addr + 2 * PAGE, &c, 1), -EIO);
	ZT_EQ(zd_cpu_write(mm, addr + 3 * PAGE, &c, 1), -EIO);
	ZT_EQ(zd_tmpfs_nr_pages(f), 1);
	/* a mapping at an offset beyond EOF */
	ZT_EQ(zd_munmap(mm, addr, 4 * PAGE), 0);
	addr = map(mm, f, PAGE, ZD_MAP_PRIVATE, 5);
	ZT_EQ(zd_cpu_read(mm, addr, &c, 1), -EIO);
	ZT_EQ(zd_cpu_write(mm, addr, &c, 1), -EIO);
	zt_mm_exit(ZT_FX(state));
	zd_fput(f);
}

/*
 * Punch hole unmaps the file's folios but keeps private COW copies
 * (even_cows == 0), unlike truncate.
 */
static void test_punch_hole_mapped(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_file *f;
	struct zd_mm *a = ZT_FX(state)->mm, *b;
	unsigned long addr_a, addr_b;
	unsigned char buf[PAGE];

	ZT_EQ(zd_shmem_file_setup(sys, 3 * PAGE, &f), 0);
	write_pattern(f, 0, 3 * PAGE, 50);
	ZT_EQ(zd_mm_create(sys, &b), 0);
	addr_a = map(a, f, 3 * PAGE, ZD_MAP_SHARED, 0);
	addr_b = map(b, f, 3 * PAGE, ZD_MAP_PRIVATE, 0);
	ZT_EQ(zd_cpu_touch(a, addr_a, 3 * PAGE, false), 0);
	ZT_EQ(zd_cpu_touch(b, addr_b, 3 * PAGE, false), 0);
	cpu_write_pattern(b, addr_b, PAGE, PAGE, 51);		/* b's own copy of page 1 */

	ZT_EQ(zd_tmpfs_punch_hole(f, 0, 2 * PAGE), 0);
	ZT_EQ(zd_tmpfs_nr_pages(f), 1);
	ZT_EQU(zd_tmpfs_size(f), 3 * PAGE);
	/* the shared mapping and b's unCOWed page 0 refault a new zeroed folio */
	ZT_EQ(zd_cpu_read(a, addr_a, buf, PAGE), 0);
	ZT_TRUE(all_zero(buf, PAGE));
	ZT_EQ(zd_cpu_read(b, addr_b, buf, PAGE), 0);
	ZT_TRUE(all_zero(buf, PAGE));
	cpu_expect_pattern(b, addr_b, PAGE, PAGE, 51);		/* COW copy kept */
	ZT_EQ(cache_ref(f, 0), 3);
	ZT_EQ(cache_ref(f, 1), -1);
	ZT_EQ(cache_ref(f, 2), 3);				/* untouched */
	{
		unsigned char want[3 * PAGE];

		pattern(want, 0, sizeof(want), 50);
		ZT_EQ(zd_cpu_read(a, addr_a + 2 * PAGE, buf, PAGE), 0);
		ZT_TRUE(memcmp(buf, want + 2 * PAGE, PAGE) == 0);
	}
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_mm_exit(ZT_FX(state));
	zd_mm_destroy(b);
	zd_fput(f);
}

/* MAP_SHARED|MAP_ANONYMOUS is shmem: shared across fork, freed with the last mapping. */
static void test_shared_anon(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_vm_area_struct *vma;
	struct zd_file *file;
	struct zd_mm *mm = ZT_FX(state)->mm, *child;
	unsigned long addr;
	unsigned char buf[8];

	addr = map(mm, NULL, 2 * PAGE, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, 0);
	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, addr);
	ZT_TRUE(vma != NULL && zd_vma_is_shmem(vma));
	file = vma->vm_file;
	ZT_TRUE(zd_file_is_shmem(file));
	ZT_EQU(zd_tmpfs_size(file), 2 * PAGE);
	ZT_EQU(vma->vm_pgoff, 0);
	zd_mmap_read_unlock(mm);

	ZT_EQ(zd_cpu_read(mm, addr, buf, 8), 0);
	ZT_TRUE(all_zero(buf, 8));
	ZT_EQ(zd_cpu_write(mm, addr + PAGE, "parent", 6), 0);
	ZT_EQ(zd_fork(mm, &child), 0);
	ZT_EQ(zd_cpu_read(child, addr + PAGE, buf, 6), 0);
	ZT_TRUE(memcmp(buf, "parent", 6) == 0);
	ZT_EQ(zd_cpu_write(child, addr, "child", 5), 0);
	ZT_EQ(zd_cpu_read(mm, addr, buf, 5), 0);
	ZT_TRUE(memcmp(buf, "child", 5) == 0);			/* no COW for shared memory */
	ZT_EQ(zd_tmpfs_read(file, PAGE, buf, 6), 6);
	ZT_TRUE(memcmp(buf, "parent", 6) == 0);
	ZT_EQ(cache_ref(file, 0), 3);
	ZT_EQ(cache_mapcount(file, 1), 2);
	zd_mm_destroy(child);
	ZT_EQ(cache_ref(file, 0), 2);
	ZT_EQ(zd_munmap(mm, addr, 2 * PAGE), 0);		/* the last reference to the file */
	ZT_EQ(zd_check_invariants(sys), 0);
}

/* A mapping keeps an unlinked file alive; its munmap frees everything. */
static void test_unlink_while_mapped(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_tmpfs *fs;
	struct zd_file *f;
	struct zd_mm *mm = ZT_FX(state)->mm;
	unsigned long addr;

	ZT_EQ(zd_tmpfs_create(sys, &fs), 0);
	ZT_EQ(zd_tmpfs_create_file(fs, "gone", 0, &f), 0);
	write_pattern(f, 0, 2 * PAGE, 60);
	addr = map(mm, f, 2 * PAGE, ZD_MAP_SHARED, 0);
	ZT_EQ(zd_tmpfs_unlink(fs, "gone"), 0);
	zd_fput(f);
	zd_tmpfs_destroy(fs);
	cpu_expect_pattern(mm, addr, 0, 2 * PAGE, 60);
	cpu_write_pattern(mm, addr, 0, 2 * PAGE, 61);
	cpu_expect_pattern(mm, addr, 0, 2 * PAGE, 61);
	ZT_EQ(zd_munmap(mm, addr, 2 * PAGE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_create_open_unlink),
		ZT_TEST(test_read_write),
		ZT_TEST(test_page_cache_refs),
		ZT_TEST(test_truncate),
		ZT_TEST(test_punch_hole),
		ZT_TEST(test_unlink_open_file),
		ZT_TEST(test_destroy_with_open_file),
		ZT_TEST(test_shmem_file_setup),
		ZT_TEST(test_alloc_failure),
		ZT_TEST(test_data_none),
		ZT_TEST(test_xarray),
		ZT_MM_TEST(test_mmap_shared),
		ZT_MM_TEST(test_mmap_private),
		ZT_MM_TEST(test_mmap_private_first_write),
		ZT_MM_TEST(test_truncate_zaps_mappings),
		ZT_MM_TEST(test_fault_beyond_eof),
		ZT_MM_TEST(test_punch_hole_mapped),
		ZT_MM_TEST(test_shared_anon),
		ZT_MM_TEST(test_unlink_while_mapped),
	};

	return cmocka_run_group_tests_name("tmpfs", tests, NULL, NULL);
}
