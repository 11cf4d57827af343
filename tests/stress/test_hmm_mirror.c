// SPDX-License-Identifier: MIT
/*
 * test_hmm_mirror - the hmm_range_fault mirror protocol under concurrent
 * unmaps (mm/hmm.c, mm/mmu_notifier.c; semantics R7.6-R7.9).
 *
 * A device thread loops read_begin / hmm_range_fault / driver lock /
 * read_retry and copies each accepted snapshot into its device page
 * table; its invalidate callback clears the invalidated part of that
 * table under the driver lock. The mm thread unmaps half the range, maps
 * it again and writes it (new pages), and after each step checks, with
 * the mm stable and the driver lock held, that every valid device entry
 * maps what the CPU maps: a snapshot accepted by read_retry is never
 * stale. Label "concurrency" (TSan).
 *
 *   CPU:    [ A0 .. A7 ][ B0 .. B7 ]  -> munmap B -> [ A0 .. A7 ][ ------ ]
 *   device: [ A0 .. A7 ][ B0 .. B7 ]  -> invalidate -> [ A0 .. A7 ][ 0 ... ]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/hmm.h>
#include <zonedev/mmu_notifier.h>

#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define V ZD_HMM_PFN_VALID

#define CC_PAGES 16

struct cc {
	struct zd_mmu_interval_notifier sub;	/* first: container-of by cast */
	struct zd_mutex *lock;			/* the driver lock */
	struct zd_mm *mm;
	unsigned long a;
	unsigned long mirror[CC_PAGES];	/* the device page table, under lock */
	_Atomic int stop;
	_Atomic long snapshots, stale, errors;
};

/* The invalidate callback of the threaded test: tear down the device's copy (R7.7, R7.9). */
static bool cc_invalidate(struct zd_mmu_interval_notifier *sub,
			  const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct cc *c = (struct cc *)sub;

	if (!zd_mmu_notifier_range_blockable(range))
		return false;
	zd_mutex_lock(c->lock);
	zd_mmu_interval_set_seq(sub, cur_seq);
	for (unsigned long i = 0; i < CC_PAGES; i++) {
		unsigned long addr = c->a + i * PG;

		if (addr >= range->start && addr < range->end)
			c->mirror[i] = 0;
	}
	zd_mutex_unlock(c->lock);
	return true;
}

static const struct zd_mmu_interval_notifier_ops cc_ops = { .invalidate = cc_invalidate };

/* The device: read_begin / hmm_range_fault / read_retry under the driver lock. */
static void *cc_mirror(void *arg)
{
	struct cc *c = arg;
	unsigned long w[CC_PAGES], passes = 0;

	while (!zd_atomic_load_acquire(&c->stop)) {
		struct zd_hmm_range range = {
			.notifier = &c->sub, .start = c->a, .end = c->a + CC_PAGES * PG,
			.hmm_pfns = w, .default_flags = 0, .pfn_flags_mask = 0,
		};
		int ret;

		memset(w, 0, sizeof(w));
		range.notifier_seq = zd_mmu_interval_read_begin(&c->sub);
		zd_mmap_read_lock(c->mm);
		ret = zd_hmm_range_fault(&range);
		zd_mmap_read_unlock(c->mm);
		if (ret == -EBUSY)
			continue;
		if (ret) {
			zd_atomic_fetch_add_relaxed(&c->errors, 1);
			continue;
		}
		/* A device is slow: every other pass, leave the mm thread time to change the range. */
		if (++passes & 1)
			zt_sleep_ms(1);
		zd_mutex_lock(c->lock);
		if (!zd_mmu_interval_read_retry(&c->sub, range.notifier_seq)) {
			memcpy(c->mirror, w, sizeof(w));
			zd_atomic_fetch_add_relaxed(&c->snapshots, 1);
		}
		zd_mutex_unlock(c->lock);
	}
	return NULL;
}

/*
 * The mm: unmap half the range, map it again and write it (new pages).
 * After each step, with the mm stable (mmap_lock read; only this thread
 * changes mappings, the mirror only reads) and the driver lock held, every
 * valid mirror entry must be what the CPU maps now.
 */
static void cc_check(struct cc *c)
{
	zd_mmap_read_lock(c->mm);
	zd_mutex_lock(c->lock);
	for (unsigned long i = 0; i < CC_PAGES; i++) {
		zd_pte_t e = 0;
		int lvl = 0;

		if (!(c->mirror[i] & V))
			continue;
		if (!zd_follow_entry(c->mm, c->a + i * PG, &e, &lvl) || !zd_pte_present(e) ||
		    zd_pte_pfn(e) != zd_hmm_pfn_to_pfn(c->mirror[i]))
			zd_atomic_fetch_add_relaxed(&c->stale, 1);
	}
	zd_mutex_unlock(c->lock);
	zd_mmap_read_unlock(c->mm);
}

static void test_mirror_vs_munmap_concurrency(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct cc *c = calloc(1, sizeof(*c));
	unsigned long half = CC_PAGES / 2 * PG, iters = zt_iters(2000, 10), out = 0;
	struct zd_thread *t;

	ZT_TRUE(c != NULL);
	c->mm = fx->mm;
	c->a = zt_map_anon(fx->mm, CC_PAGES * PG);
	ZT_EQ(zd_cpu_touch(fx->mm, c->a, CC_PAGES * PG, true), 0);
	c->lock = zd_mutex_create();
	ZT_EQ(zd_mmu_interval_notifier_insert(&c->sub, fx->mm, c->a, CC_PAGES * PG, &cc_ops), 0);
	ZT_EQ(zd_thread_create(&t, cc_mirror, c), 0);
	for (unsigned long i = 0; i < iters; i++) {
		unsigned long at = c->a + (i & 1) * half;

		ZT_EQ(zd_munmap(fx->mm, at, half), 0);
		cc_check(c);
		ZT_EQ(zd_mmap(fx->mm, at, half, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &out), 0);
		ZT_EQ(zd_cpu_touch(fx->mm, at, half, true), 0);
		cc_check(c);
	}
	/* With no munmap racing it any more, the mirror must get a snapshot accepted. */
	ZT_TRUE(zt_wait_positive(&c->snapshots, 60));
	zd_atomic_store_release(&c->stop, 1);
	zd_thread_join(t);
	ZT_EQ(zd_atomic_load_relaxed(&c->stale), 0);
	ZT_EQ(zd_atomic_load_relaxed(&c->errors), 0);
	zd_mmu_interval_notifier_remove(&c->sub);
	zd_mutex_destroy(c->lock);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_mirror_vs_munmap_concurrency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
