// SPDX-License-Identifier: MIT
/*
 * test_tmpfs_race - shmem faults racing truncation and hole punching.
 *
 * Two threads, each with its own mm mapping one tmpfs file MAP_SHARED,
 * fault its pages in (CPU reads and touches: an access is fine or
 * SIGBUS, -EIO, nothing else) while a third shrinks and regrows the file,
 * punches holes and reads it through the page cache. The folio lock,
 * the i_size rechecks and truncate_pagecache's unmap - drop - unmap order
 * must leave, once the threads stop: no report, refcount = 1 (cache) +
 * mappings for every cached folio, nothing mapped beyond EOF after a
 * final truncate, and every page back in the buddy allocator after
 * munmap and the last fput.
 *
 * No thread writes file bytes while others run (the bytes would be a
 * data race for TSan, as racing user writes are); sizes are page-aligned
 * so truncation zeroes no partial page. Loop sizes scale with
 * ZD_TEST_SCALE and shrink under sanitizers (helpers.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/tmpfs.h>

#define PAGE ZD_PAGE_SIZE
#define NR_PAGES 8
#define NR_FAULTERS 2

struct race {
	struct zd_file *file;
	struct zd_mm *mm[NR_FAULTERS];
	unsigned long addr[NR_FAULTERS];
	unsigned long iters;
	struct zt_barrier start;
	_Atomic int stop;
	_Atomic long errors, sigbus, ok;
};

struct faulter {
	struct race *r;
	int id;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *faulter_fn(void *arg)
{
	struct faulter *f = arg;
	struct race *r = f->r;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(f->id + 1);
	unsigned char buf[16];

	zt_barrier_wait(&r->start);
	while (!zd_atomic_load_acquire(&r->stop)) {
		unsigned long page = xorshift(&seed) % NR_PAGES;
		unsigned long addr = r->addr[f->id] + page * PAGE + (xorshift(&seed) % (PAGE - 16));
		int ret = (xorshift(&seed) & 1) ?
			  zd_cpu_read(r->mm[f->id], addr, buf, sizeof(buf)) :
			  zd_cpu_touch(r->mm[f->id], addr, 1, false);

		if (ret == 0)
			zd_atomic_fetch_add_relaxed(&r->ok, 1);
		else if (ret == -EIO)
			zd_atomic_fetch_add_relaxed(&r->sigbus, 1);
		else
			zd_atomic_fetch_add_relaxed(&r->errors, 1);
	}
	return NULL;
}

/* The third thread: truncate, regrow, punch, read through the cache. */
static void truncator(struct race *r)
{
	uint64_t seed = 42;
	unsigned char buf[2 * PAGE];

	zt_barrier_wait(&r->start);
	for (unsigned long i = 0; i < r->iters; i++) {
		uint64_t x = xorshift(&seed);
		uint64_t pages = x % (NR_PAGES + 1);

		switch ((x >> 8) % 4) {
		case 0:
		case 1:
			if (zd_tmpfs_truncate(r->file, pages * PAGE))
				zd_atomic_fetch_add_relaxed(&r->errors, 1);
			break;
		case 2:
			if (zd_tmpfs_punch_hole(r->file, (pages % NR_PAGES) * PAGE, PAGE))
				zd_atomic_fetch_add_relaxed(&r->errors, 1);
			break;
		default:
			if (zd_tmpfs_read(r->file, (pages % NR_PAGES) * PAGE, buf, sizeof(buf)) < 0)
				zd_atomic_fetch_add_relaxed(&r->errors, 1);
			break;
		}
	}
	zd_atomic_store_release(&r->stop, 1);
}

static void test_fault_truncate_race(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_thread *t[NR_FAULTERS];
	struct faulter fa[NR_FAULTERS];
	struct race r;
	zd_pte_t entry;
	int level;

	memset(&r, 0, sizeof(r));
	r.iters = zt_iters(20000, 10);
	zt_barrier_init(&r.start, NR_FAULTERS + 1);
	ZT_EQ(zd_shmem_file_setup(sys, NR_PAGES * PAGE, &r.file), 0);
	for (int i = 0; i < NR_FAULTERS; i++) {
		ZT_EQ(zd_mm_create(sys, &r.mm[i]), 0);
		ZT_EQ(zd_mmap(r.mm[i], 0, NR_PAGES * PAGE, ZD_PROT_READ | ZD_PROT_WRITE,
			      ZD_MAP_SHARED, r.file, 0, 0, &r.addr[i]), 0);
		fa[i].r = &r;
		fa[i].id = i;
		ZT_EQ(zd_thread_create(&t[i], faulter_fn, &fa[i]), 0);
	}
	truncator(&r);
	for (int i = 0; i < NR_FAULTERS; i++)
		zd_thread_join(t[i]);
	print_message("%ld accesses, %ld SIGBUS over %lu truncator steps\n",
		      zd_atomic_load_relaxed(&r.ok), zd_atomic_load_relaxed(&r.sigbus), r.iters);
	ZT_EQ(zd_atomic_load_relaxed(&r.errors), 0);
	ZT_EQ(zd_check_invariants(sys), 0);

	/* quiescent: every cached folio holds the cache's reference + its mappings */
	for (unsigned long idx = 0; idx < NR_PAGES; idx++) {
		struct zd_folio *folio = zd_filemap_get_folio(r.file->f_mapping, idx);

		if (!folio)
			continue;
		ZT_TRUE(idx < zd_tmpfs_size(r.file) / PAGE);
		ZT_PTR_EQ(folio->page.mapping, r.file->f_mapping);
		ZT_EQ(zd_folio_ref_count(folio), 2 + zd_folio_mapcount(folio));
		zd_folio_put(folio);
	}
	/* a final truncate leaves nothing mapped */
	ZT_EQ(zd_tmpfs_truncate(r.file, 0), 0);
	ZT_EQ(zd_tmpfs_nr_pages(r.file), 0);
	for (int i = 0; i < NR_FAULTERS; i++)
		for (unsigned long p = 0; p < NR_PAGES; p++) {
			ZT_EQ(zd_follow_entry(r.mm[i], r.addr[i] + p * PAGE, &entry, &level), 0);
			ZT_TRUE(zd_pte_none(entry));
		}
	for (int i = 0; i < NR_FAULTERS; i++)
		zd_mm_destroy(r.mm[i]);
	zd_fput(r.file);
	ZT_EQU(zd_nr_free_pages(sys), free0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_fault_truncate_race),
	};

	return cmocka_run_group_tests_name("tmpfs_race", tests, NULL, NULL);
}
