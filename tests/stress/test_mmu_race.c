// SPDX-License-Identifier: MIT
/*
 * test_mmu_race - the CPU's loads, stores and atomics (the MMU of
 * src/mm/access.c, whose first attempt walks without mmap_lock) against
 * munmap, MADV_DONTNEED, mprotect and MADV_COLLAPSE.
 *
 * Kernel counterpart: none as such; it races what the hardware walker
 * does against mm/mmap.c, mm/madvise.c, mm/mprotect.c and
 * mm/khugepaged.c, as test_gup_fast_race does for GUP-fast.
 *
 *   keep:    [ 2 MiB of small pages ]  writer, readers, adders  vs
 *            mprotect read-only and back (which splits a collapsed
 *            block again) and MADV_COLLAPSE (the PTE table is replaced
 *            by a PMD leaf): nothing written may be lost.
 *   discard: [ 2 MiB of small pages ]  writer, readers  vs  munmap +
 *            mmap(FIXED) and MADV_DONTNEED: a page reads as what was
 *            last written to it or as zeroes.
 *
 * Every store writes a whole page of one 8-byte word (page index << 32 |
 * a per-page sequence number) with one zd_cpu_write, and every load reads
 * a whole page: a page that reads as anything but one word repeated, or a
 * word of another page, is torn or misplaced. The last page of "keep" is
 * a counter that two threads add to: the sum must come out exact. At the
 * end every RAM page is back, the invariants hold and nothing is
 * reported; the TSan and ASan builds run it too (label concurrency).
 *
 * Loop sizes: 4000 writer rounds plain, divided by 10 under ASan and TSan;
 * ZD_TEST_SCALE=<percent> scales them. ZT_SEED=<n> replays a seed.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/mm.h>

#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define NPAGES (ZD_PMD_SIZE / PG)
#define WORDS (PG / sizeof(uint64_t))
#define COUNTER (NPAGES - 1)	/* the last page of "keep" */

struct race {
	struct zd_mm *mm;
	unsigned long keep, discard;
	unsigned long rounds, adds;
	long min_other;
	uint64_t seed;
	struct zt_barrier start;
	_Atomic int stop;
	_Atomic long writers_done;
	_Atomic long errors, writes, reads, efaults, added;
	_Atomic long protects, collapses, collapsed, unmaps, dontneeds;
	char what[200];
};

static void race_fail(struct race *r, const char *what, unsigned long page, uint64_t got)
{
	if (zd_atomic_fetch_add_relaxed(&r->errors, 1) == 0)
		snprintf(r->what, sizeof(r->what), "%s (page %lu, word %#llx)", what, page,
			 (unsigned long long)got);
}

static bool stopped(struct race *r)
{
	return zd_atomic_load_acquire(&r->stop);
}

/* Every word of @buf is @buf[0]; else report a torn page. */
static bool uniform(struct race *r, const uint64_t *buf, unsigned long page)
{
	for (unsigned long i = 1; i < WORDS; i++) {
		if (buf[i] != buf[0]) {
			race_fail(r, "a page read torn", page, buf[i]);
			return false;
		}
	}
	return true;
}

static void fill(uint64_t *buf, uint64_t w)
{
	for (unsigned long i = 0; i < WORDS; i++)
		buf[i] = w;
}

struct writer_arg {
	struct race *r;
	bool keep;
};

/*
 * The only writer of its block's pages: writes a page, reads it back.
 * In "keep" the page must read as what was written (a collapse or an
 * mprotect moves or keeps the data, never loses it); in "discard" as that
 * or as zeroes (the page was discarded after the write).
 */
static void *writer(void *arg)
{
	struct writer_arg *wa = arg;
	struct race *r = wa->r;
	unsigned long base = wa->keep ? r->keep : r->discard;
	uint64_t s = r->seed ^ (wa->keep ? 0x1111ull : 0x2222ull);
	uint64_t *buf = malloc(PG), *back = malloc(PG);
	uint32_t *seq = calloc(NPAGES, sizeof(*seq));

	zt_barrier_wait(&r->start);
	for (unsigned long i = 0; buf && back && seq && i < r->rounds; i++) {
		unsigned long p = zt_rnd(&s) % (wa->keep ? COUNTER : NPAGES);
		uint64_t w = (uint64_t)p << 32 | (seq[p] + 1);
		int ret;

		fill(buf, w);
		ret = zd_cpu_write(r->mm, base + p * PG, buf, PG);
		if (ret == -EFAULT) {	/* read-only for a moment, or a hole */
			zd_atomic_fetch_add_relaxed(&r->efaults, 1);
			continue;
		}
		if (ret) {
			race_fail(r, "a store failed with an error other than -EFAULT", p, 0);
			continue;
		}
		seq[p]++;
		zd_atomic_fetch_add_relaxed(&r->writes, 1);
		ret = zd_cpu_read(r->mm, base + p * PG, back, PG);
		if (ret == -EFAULT && !wa->keep)
			continue;	/* unmapped since */
		if (ret) {
			race_fail(r, "a load of a page just written failed", p, (uint64_t)-ret);
			continue;
		}
		if (!uniform(r, back, p))
			continue;
		if (back[0] != w && !(back[0] == 0 && !wa->keep))
			race_fail(r, wa->keep ? "a store was lost" : "a page read as neither the "
				  "last store nor zeroes", p, back[0]);
	}
	free(buf);
	free(back);
	free(seq);
	zd_atomic_fetch_add_acq_rel(&r->writers_done, 1);
	return NULL;
}

/* Whole-page loads of either block: one word repeated, of this page, or zeroes. */
static void *reader(void *arg)
{
	struct race *r = arg;
	uint64_t s = r->seed ^ 0x3333ull;
	uint64_t *buf = malloc(PG);

	zt_barrier_wait(&r->start);
	while (buf && !stopped(r)) {
		bool keep = zt_rnd(&s) & 1;
		unsigned long p = zt_rnd(&s) % (keep ? COUNTER : NPAGES);
		int ret = zd_cpu_read(r->mm, (keep ? r->keep : r->discard) + p * PG, buf, PG);

		if (ret == -EFAULT && !keep)
			continue;
		if (ret) {
			race_fail(r, "a load failed", p, (uint64_t)-ret);
			continue;
		}
		zd_atomic_fetch_add_relaxed(&r->reads, 1);
		if (uniform(r, buf, p) && buf[0] && buf[0] >> 32 != p)
			race_fail(r, "a page read as another page's data", p, buf[0]);
	}
	free(buf);
	return NULL;
}

/* Atomic adds to the counter page, retried while it is read-only. */
static void *adder(void *arg)
{
	struct race *r = arg;
	unsigned long addr = r->keep + COUNTER * PG;

	zt_barrier_wait(&r->start);
	for (unsigned long i = 0; i < r->adds; i++) {
		int ret;

		while ((ret = zd_cpu_atomic_add(r->mm, addr, 1, NULL)) == -EFAULT)
			sched_yield();
		if (ret) {
			race_fail(r, "an atomic add failed", COUNTER, (uint64_t)-ret);
			break;
		}
		zd_atomic_fetch_add_relaxed(&r->added, 1);
	}
	return NULL;
}

/* A random run of 1-32 pages of a block. */
static void pick(uint64_t *s, unsigned long base, unsigned long *addr, unsigned long *len)
{
	unsigned long first = zt_rnd(s) % NPAGES;
	unsigned long n = 1 + zt_rnd(s) % (NPAGES - first < 32 ? NPAGES - first : 32);

	*addr = base + first * PG;
	*len = n * PG;
}

static bool others_wait(struct race *r)
{
	return zd_atomic_load_acquire(&r->writers_done) < 2;
}

static void *protector(void *arg)
{
	struct race *r = arg;
	uint64_t s = r->seed ^ 0x4444ull;

	zt_barrier_wait(&r->start);
	while (!stopped(r)) {
		unsigned long addr, len;

		pick(&s, r->keep, &addr, &len);
		if (zd_mprotect(r->mm, addr, len, ZD_PROT_READ))
			race_fail(r, "mprotect(READ) failed", 0, 0);
		sched_yield();
		if (zd_mprotect(r->mm, addr, len, RW))
			race_fail(r, "mprotect(RW) failed", 0, 0);
		zd_atomic_fetch_add_relaxed(&r->protects, 1);
	}
	return NULL;
}

/* khugepaged's collapse of "keep": its PTE table is retracted for a PMD leaf. */
static void *collapser(void *arg)
{
	struct race *r = arg;

	zt_barrier_wait(&r->start);
	while (!stopped(r)) {
		int err = zd_madvise(r->mm, r->keep, ZD_PMD_SIZE, ZD_MADV_COLLAPSE);

		if (!err)
			zd_atomic_fetch_add_relaxed(&r->collapsed, 1);
		else if (err != -EINVAL && err != -EAGAIN && err != -ENOMEM && err != -EBUSY)
			race_fail(r, "MADV_COLLAPSE failed with an unexpected error", 0,
				  (uint64_t)-err);
		zd_atomic_fetch_add_relaxed(&r->collapses, 1);
		sched_yield();
	}
	return NULL;
}

static void *unmapper(void *arg)
{
	struct race *r = arg;
	uint64_t s = r->seed ^ 0x5555ull;

	zt_barrier_wait(&r->start);
	while (!stopped(r)) {
		unsigned long addr, len, got = 0;

		pick(&s, r->discard, &addr, &len);
		if (zd_munmap(r->mm, addr, len))
			race_fail(r, "munmap failed", 0, 0);
		sched_yield();
		if (zd_mmap(r->mm, addr, len, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &got) ||
		    got != addr)
			race_fail(r, "mmap(FIXED) failed", 0, 0);
		zd_atomic_fetch_add_relaxed(&r->unmaps, 1);
	}
	return NULL;
}

static void *dontneeder(void *arg)
{
	struct race *r = arg;
	uint64_t s = r->seed ^ 0x6666ull;

	zt_barrier_wait(&r->start);
	while (!stopped(r)) {
		unsigned long addr, len;
		int err;

		pick(&s, r->discard, &addr, &len);
		/* -ENOMEM while the unmapper has a hole there */
		err = zd_madvise(r->mm, addr, len, ZD_MADV_DONTNEED);
		if (err && err != -ENOMEM)
			race_fail(r, "MADV_DONTNEED failed", 0, (uint64_t)-err);
		zd_atomic_fetch_add_relaxed(&r->dontneeds, 1);
		sched_yield();
	}
	return NULL;
}

static void test_mmu_race(void **state)
{
	struct zt_reports log;
	struct zd_system *sys = zt_system_create(&log, ZD_SCHEME_ZERO, ZD_CHECK_FULL, 0);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct race *r = calloc(1, sizeof(*r));
	struct writer_arg wk, wd;
	struct zd_thread *t[9];
	uint64_t sum = 0;
	int n = 0;

	(void)state;
	ZT_TRUE(r != NULL);
	r->rounds = zt_iters(4000, 10);
	r->adds = zt_iters(20000, 10);
	r->min_other = (long)zt_iters(100, 10);
	r->seed = zt_seed(0x5eed0003ull);
	print_message("mmu_race: seed %#llx (ZT_SEED replays), %lu writer rounds\n",
		      (unsigned long long)r->seed, r->rounds);
	ZT_EQ(zd_mm_create(sys, &r->mm), 0);
	ZT_EQ(zd_mmap(r->mm, 0, ZD_PMD_SIZE, RW, ANON, NULL, 0, ZD_PMD_SIZE, &r->keep), 0);
	ZT_EQ(zd_mmap(r->mm, 0, ZD_PMD_SIZE, RW, ANON, NULL, 0, ZD_PMD_SIZE, &r->discard), 0);
	ZT_EQ(zd_cpu_touch(r->mm, r->keep, ZD_PMD_SIZE, true), 0);
	ZT_EQ(zd_cpu_touch(r->mm, r->discard, ZD_PMD_SIZE, true), 0);
	wk = (struct writer_arg){ .r = r, .keep = true };
	wd = (struct writer_arg){ .r = r, .keep = false };

	zt_barrier_init(&r->start, 9);
	ZT_EQ(zd_thread_create(&t[n++], writer, &wk), 0);
	ZT_EQ(zd_thread_create(&t[n++], writer, &wd), 0);
	ZT_EQ(zd_thread_create(&t[n++], reader, r), 0);
	ZT_EQ(zd_thread_create(&t[n++], adder, r), 0);
	ZT_EQ(zd_thread_create(&t[n++], adder, r), 0);
	ZT_EQ(zd_thread_create(&t[n++], protector, r), 0);
	ZT_EQ(zd_thread_create(&t[n++], collapser, r), 0);
	ZT_EQ(zd_thread_create(&t[n++], unmapper, r), 0);
	ZT_EQ(zd_thread_create(&t[n++], dontneeder, r), 0);
	/* The writers set the pace; the others keep changing the mm until they are done. */
	while (others_wait(r) ||
	       zd_atomic_load_relaxed(&r->protects) < r->min_other ||
	       zd_atomic_load_relaxed(&r->unmaps) < r->min_other ||
	       zd_atomic_load_relaxed(&r->dontneeds) < r->min_other ||
	       zd_atomic_load_relaxed(&r->collapses) < r->min_other)
		zt_sleep_ms(5);
	zd_atomic_store_release(&r->stop, 1);
	for (int i = 0; i < n; i++)
		zd_thread_join(t[i]);

	print_message("  writes %ld, reads %ld, -EFAULT %ld, adds %ld; mprotects %ld, "
		      "MADV_COLLAPSE %ld (%ld collapsed), munmaps %ld, MADV_DONTNEED %ld\n",
		      zd_atomic_load_relaxed(&r->writes), zd_atomic_load_relaxed(&r->reads),
		      zd_atomic_load_relaxed(&r->efaults), zd_atomic_load_relaxed(&r->added),
		      zd_atomic_load_relaxed(&r->protects), zd_atomic_load_relaxed(&r->collapses),
		      zd_atomic_load_relaxed(&r->collapsed), zd_atomic_load_relaxed(&r->unmaps),
		      zd_atomic_load_relaxed(&r->dontneeds));
	if (zd_atomic_load_relaxed(&r->errors))
		fail_msg("%ld error(s), first: %s", zd_atomic_load_relaxed(&r->errors), r->what);
	ZT_TRUE(zd_atomic_load_relaxed(&r->writes) > 0);
	ZT_TRUE(zd_atomic_load_relaxed(&r->reads) > 0);
	/* No atomic add lost: not to a collapse, not to a split, not to a fault. */
	ZT_EQ(zd_cpu_read(r->mm, r->keep + COUNTER * PG, &sum, sizeof(sum)), 0);
	ZT_EQU(sum, 2 * r->adds);

	zt_expect_no_reports(&log);
	ZT_EQ(zd_munmap(r->mm, r->keep, ZD_PMD_SIZE), 0);
	ZT_EQ(zd_munmap(r->mm, r->discard, ZD_PMD_SIZE), 0);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(r->mm);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_system_destroy_clean(sys, &log);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmu_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
