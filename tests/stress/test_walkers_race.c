// SPDX-License-Identifier: MIT
/*
 * test_walkers_race - move_pages, the debugfs split and MADV_COLLAPSE
 * against GUP-fast and CPU accesses, with a device folio in the middle.
 *
 * A migrator thread keeps moving every page of the range to "node 0"
 * (each RAM page is copied to a new folio, which takes over the mapping),
 * splitting the THP's PMD and collapsing it back, while a GUP thread takes
 * and releases references and pins (get/pin_user_pages_fast) and a reader
 * reads through the MMU. Whatever a GUP caller holds must be the page
 * that holds the data (a migration or collapse that raced with the grab
 * either saw the reference and gave up, or the walker saw the entry
 * change and dropped it); the device-coherent folio is never moved, its
 * refcount and mapcount are back where they were once the GUP references
 * are gone; at the end every count is exact (invariants with shadow
 * refcounts, leak check).
 *
 *   small: [ 1 2 3 ... 31 | DEV ]     THP: [ 0x80 0x81 ... (512 pages) ]
 *   migrator --move_pages / split / collapse-->  both
 *   gupper   --get/pin fast, check bytes, put-->  both
 *   reader   --cpu_read, check bytes-->          both
 *
 * Loop sizes: 2000 migrator rounds plain, divided by 10 under ASan and
 * TSan; ZD_TEST_SCALE=<percent> scales them.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/gup.h>
#include <zonedev/mm.h>
#include <zonedev/migrate.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define NR_SMALL 32	/* the last one is the device page */
#define DEV_BYTE 0xdd

struct race {
	struct zd_mm *mm;
	unsigned long small, thp;
	unsigned long rounds;
	struct zt_barrier start;
	_Atomic int stop;
	_Atomic long errors, gets, pins, reads, moved, busy, splits, collapses;
	char what[160];
};

static void race_fail(struct race *r, const char *what, unsigned long addr)
{
	if (zd_atomic_fetch_add_relaxed(&r->errors, 1) == 0)
		snprintf(r->what, sizeof(r->what), "%s at %#lx", what, addr);
}

/* The byte every page at @addr holds. */
static int byte_of(const struct race *r, unsigned long addr)
{
	if (addr >= r->thp)
		return 0x80 + (int)(((addr - r->thp) / PG) & 0x7f);
	if ((addr - r->small) / PG == NR_SMALL - 1)
		return DEV_BYTE;
	return 1 + (int)((addr - r->small) / PG);
}

/* An address of either region, from a simple xorshift. */
static unsigned long pick(const struct race *r, uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	if (*rng & 1)
		return r->small + (*rng >> 8) % NR_SMALL * PG;
	return r->thp + (*rng >> 8) % 512 * PG;
}

/* The i-th RAM page: the small ones but the device page, then the THP's. */
static unsigned long page_addr(const struct race *r, unsigned long i)
{
	return i < NR_SMALL - 1 ? r->small + i * PG : r->thp + (i - (NR_SMALL - 1)) * PG;
}

static bool page_holds(const struct zd_page *page, int byte)
{
	const unsigned char *p = zd_page_address(page);

	return p[0] == (unsigned char)byte && p[PG - 1] == (unsigned char)byte;
}

static void *gupper(void *arg)
{
	struct race *r = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	zt_barrier_wait(&r->start);
	while (!zd_atomic_load_acquire(&r->stop)) {
		unsigned long a = pick(r, &rng);
		bool pin = rng & 2;
		struct zd_page *page = NULL;
		int got = pin ? zd_pin_user_pages_fast(r->mm, a, 1, 0, &page) :
				zd_get_user_pages_fast(r->mm, a, 1, 0, &page);

		if (got != 1) {
			race_fail(r, "GUP-fast failed", a);
			continue;
		}
		/* Held: nobody may free or replace this page's data now. */
		if (!page_holds(page, byte_of(r, a)))
			race_fail(r, "a GUP reference holds the wrong bytes", a);
		sched_yield();
		if (!page_holds(page, byte_of(r, a)))
			race_fail(r, "the bytes changed under a GUP reference", a);
		if (pin) {
			zd_unpin_user_page(page);
			zd_atomic_fetch_add_relaxed(&r->pins, 1);
		} else {
			zd_put_page(page);
			zd_atomic_fetch_add_relaxed(&r->gets, 1);
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	uint64_t rng = 0x2545f4914f6cdd1dull;
	unsigned char c[2];

	zt_barrier_wait(&r->start);
	while (!zd_atomic_load_acquire(&r->stop)) {
		unsigned long a = pick(r, &rng);

		if (zd_cpu_read(r->mm, a, &c[0], 1) || zd_cpu_read(r->mm, a + PG - 1, &c[1], 1))
			race_fail(r, "CPU read failed", a);
		else if (c[0] != (unsigned char)byte_of(r, a) || c[1] != c[0])
			race_fail(r, "the CPU reads the wrong bytes", a);
		zd_atomic_fetch_add_relaxed(&r->reads, 1);
	}
	return NULL;
}

static void migrate_round(struct race *r, unsigned long round)
{
	unsigned long addrs[NR_SMALL + 1];
	int nodes[NR_SMALL + 1] = { 0 }, status[NR_SMALL + 1];
	long n;
	int err;

	for (int i = 0; i < NR_SMALL; i++)
		addrs[i] = r->small + (unsigned long)i * PG;
	addrs[NR_SMALL] = r->thp + (round % 512) * PG;
	if (zd_move_pages(r->mm, NR_SMALL + 1, addrs, nodes, status)) {
		race_fail(r, "move_pages failed", r->small);
		return;
	}
	for (int i = 0; i <= NR_SMALL; i++) {
		int want_dev = i == NR_SMALL - 1;

		if (want_dev ? status[i] != -ENOENT :
		    (status[i] != 0 && status[i] != -EBUSY && status[i] != -EOPNOTSUPP))
			race_fail(r, "unexpected move_pages status", addrs[i]);
		else if (!want_dev)
			zd_atomic_fetch_add_relaxed(status[i] ? &r->busy : &r->moved, 1);
	}
	/* Every few rounds: split the THP's PMD, then collapse it into a new THP. */
	if (round % 4 == 0) {
		n = zd_split_huge_pages(r->mm, r->thp, r->thp + ZD_PMD_SIZE);
		if (n < 0)
			race_fail(r, "split failed", r->thp);
		zd_atomic_fetch_add_relaxed(&r->splits, n > 0 ? n : 0);
		err = zd_madvise(r->mm, r->thp, ZD_PMD_SIZE, ZD_MADV_COLLAPSE);
		if (!err)
			zd_atomic_fetch_add_relaxed(&r->collapses, 1);
		else if (err != -EAGAIN)
			race_fail(r, "MADV_COLLAPSE failed", r->thp);
	}
}

static void test_walkers_race(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_devmem_pool *pool = NULL;
	struct zd_vm_area_struct *vma;
	struct zd_thread *t[2];
	struct zd_folio *dev = NULL;
	struct race *r = calloc(1, sizeof(*r));
	unsigned char buf[PG];
	int dev_ref, dev_map, level;
	zd_pte_t e;

	ZT_TRUE(r != NULL);
	r->rounds = zt_iters(2000, 10);
	ZT_EQ(zd_mm_create(sys, &r->mm), 0);
	ZT_EQ(zd_mmap(r->mm, 0, 2 * ZD_PMD_SIZE, RW, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0,
		      ZD_PMD_SIZE, &r->small), 0);
	r->thp = r->small + ZD_PMD_SIZE;
	ZT_EQ(zd_madvise(r->mm, r->thp, ZD_PMD_SIZE, ZD_MADV_HUGEPAGE), 0);
	for (unsigned long i = 0; i < NR_SMALL - 1 + 512; i++) {
		unsigned long a = page_addr(r, i);

		memset(buf, byte_of(r, a), sizeof(buf));
		ZT_EQ(zd_cpu_write(r->mm, a, buf, sizeof(buf)), 0);
	}
	ZT_EQ(zd_follow_entry(r->mm, r->thp, &e, &level), 1);
	ZT_EQ(level, 2);
	/* The device page, mapped as migrate_vma_pages would (see test_walkers.c). */
	ZT_EQ(zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_COHERENT, 2ul << 20, 0, &pool), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &dev), 0);
	memset(zd_page_address(&dev->page), DEV_BYTE, PG);
	zd_mmap_read_lock(r->mm);
	vma = zd_vma_lookup(r->mm, r->small);
	{
		unsigned long a = r->small + (NR_SMALL - 1) * PG;
		_Atomic zd_pte_t *slot = _zd_pxx_alloc(r->mm, a, ZD_LVL_PTE);

		if (slot) {
			zd_spin_lock(_zd_pte_lockptr(slot));
			_zd_folio_add_new_anon_rmap(dev, vma, a, ZD_LVL_PTE);
			_zd_add_mm_counter(r->mm, ZD_MM_ANONPAGES, 1);
			_zd_set_entry(slot, zd_pfn_pte(zd_folio_pfn(dev), ZD_PTE_PRESENT |
						       ZD_PTE_WRITE | ZD_PTE_YOUNG | ZD_PTE_DIRTY));
			zd_spin_unlock(_zd_pte_lockptr(slot));
		}
		zd_mmap_read_unlock(r->mm);
		ZT_TRUE(slot != NULL);
	}
	dev_ref = zd_folio_ref_count(dev);
	dev_map = zd_folio_mapcount(dev);

	zt_barrier_init(&r->start, 3);
	ZT_EQ(zd_thread_create(&t[0], gupper, r), 0);
	ZT_EQ(zd_thread_create(&t[1], reader, r), 0);
	zt_barrier_wait(&r->start);
	for (unsigned long i = 0; i < r->rounds && !zd_atomic_load_relaxed(&r->errors); i++)
		migrate_round(r, i);
	zd_atomic_store_release(&r->stop, 1);
	zd_thread_join(t[0]);
	zd_thread_join(t[1]);
	print_message("walkers_race: %lu rounds: %ld moved, %ld busy, %ld splits, %ld collapses; "
		      "%ld gets, %ld pins, %ld reads\n", r->rounds,
		      zd_atomic_load_relaxed(&r->moved), zd_atomic_load_relaxed(&r->busy),
		      zd_atomic_load_relaxed(&r->splits), zd_atomic_load_relaxed(&r->collapses),
		      zd_atomic_load_relaxed(&r->gets), zd_atomic_load_relaxed(&r->pins),
		      zd_atomic_load_relaxed(&r->reads));
	if (zd_atomic_load_relaxed(&r->errors))
		fail_msg("%ld error(s), first: %s", zd_atomic_load_relaxed(&r->errors), r->what);
	ZT_TRUE(zd_atomic_load_relaxed(&r->moved) > 0);

	/* Device memory never moved; its counts are back where they were. */
	ZT_EQ(zd_follow_entry(r->mm, r->small + (NR_SMALL - 1) * PG, &e, &level), 1);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(dev));
	ZT_EQ(zd_folio_ref_count(dev), dev_ref);
	ZT_EQ(zd_folio_mapcount(dev), dev_map);
	ZT_TRUE(!zd_folio_test_flag(dev, ZD_PG_lru));
	for (unsigned long i = 0; i < NR_SMALL + 512; i++) {
		unsigned long a = i < NR_SMALL ? r->small + i * PG : r->thp + (i - NR_SMALL) * PG;

		ZT_EQ(zd_cpu_read(r->mm, a, buf, sizeof(buf)), 0);
		if (buf[0] != (unsigned char)byte_of(r, a) || buf[PG - 1] != buf[0])
			fail_msg("page %#lx lost its bytes", a);
	}
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(r->mm);
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000ull * 1000 * 1000), 0);
	ZT_EQ(zd_check_invariants(sys), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_walkers_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
