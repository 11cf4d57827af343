// SPDX-License-Identifier: MIT
/*
 * test_page_alloc - the RAM arena: buddy allocator and LRU lists.
 *
 * Buddy (mm/page_alloc.c): every order 0..10 allocates and frees back,
 * an order-9 (2 MiB) folio has a head and 511 tails that resolve to it,
 * exhaustion returns NULL, merging restores the free count and the
 * largest blocks, __GFP_ZERO zeroes. LRU (mm/swap.c, mm/vmscan.c): a RAM
 * folio's last put frees it to the buddy allocator and takes it off its
 * LRU; isolate and putback; a device folio is never put on an LRU
 * (R12.5, reported as ZD_MISUSE_DEVICE_ON_LRU).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)

static struct zd_system *fx_sys(void **state)
{
	return ZT_FX(state)->sys;
}

/* One folio of each order 0..10: counts, structure, and back. */
static void test_orders(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_system_stats st0, st;

	zd_system_get_stats(sys, &st0);
	ZT_EQU(st0.ram_free_pages, free0);
	for (unsigned int order = 0; order <= ZD_MAX_PAGE_ORDER; order++) {
		struct zd_folio *f = zd_folio_alloc(sys, 0, order);
		unsigned long nr = 1ul << order, pfn;

		ZT_TRUE(f != NULL);
		pfn = zd_folio_pfn(f);
		ZT_EQU(pfn % nr, 0);			/* naturally aligned */
		ZT_EQU(zd_nr_free_pages(sys), free0 - nr);
		ZT_EQ(zd_folio_order(f), order);
		ZT_EQU(zd_folio_nr_pages(f), nr);
		ZT_EQ(zd_folio_test_large(f), order > 0);
		ZT_EQ(zd_folio_ref_count(f), 1);
		ZT_TRUE(!zd_folio_is_zone_device(f));
		ZT_PTR_EQ(zd_folio_pgmap(f), NULL);
		ZT_PTR_EQ(zd_page_system(&f->page), sys);
		ZT_PTR_EQ(zd_pfn_to_page(sys, pfn), &f->page);
		ZT_EQ(zd_check_invariants(sys), 0);
		zd_folio_put(f);
		ZT_EQU(zd_nr_free_pages(sys), free0);
	}
	ZT_PTR_EQ(zd_folio_alloc(sys, 0, ZD_MAX_PAGE_ORDER + 1), NULL);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.folio_allocs - st0.folio_allocs, ZD_MAX_PAGE_ORDER + 1);
	ZT_EQU(st.folio_frees - st0.folio_frees, ZD_MAX_PAGE_ORDER + 1);
	ZT_EQ(zd_check_invariants(sys), 0);
}

/* An order-9 (2 MiB) folio: head and tails, gets through tails. */
static void test_order9_structure(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_folio *f = zd_folio_alloc(sys, 0, ZD_PMD_ORDER);
	unsigned long pfn;

	ZT_TRUE(f != NULL);
	pfn = zd_folio_pfn(f);
	ZT_TRUE(!zd_page_is_tail(&f->page));
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_head));
	for (unsigned long i = 1; i < 512; i++) {
		struct zd_page *t = zd_folio_page(f, i);

		ZT_PTR_EQ(zd_pfn_to_page(sys, pfn + i), t);
		ZT_TRUE(zd_page_is_tail(t));
		ZT_PTR_EQ(zd_page_folio(t), f);
		ZT_EQ(zd_folio_order(zd_page_folio(t)), ZD_PMD_ORDER);
		ZT_EQ(zd_page_ref_count(t), 0);
		ZT_EQ(zd_page_count(t), 1);
		ZT_EQU(zd_page_to_pfn(t), pfn + i);
	}
	/* Page frames are contiguous bytes. */
	ZT_PTR_EQ((char *)zd_page_address(zd_folio_page(f, 511)),
		  (char *)zd_page_address(&f->page) + 511 * ZD_PAGE_SIZE);
	zd_get_page(zd_folio_page(f, 300));
	ZT_EQ(zd_folio_ref_count(f), 2);
	zd_put_page(zd_folio_page(f, 3));
	ZT_EQ(zd_folio_ref_count(f), 1);
	zd_put_page(zd_folio_page(f, 511));	/* last put through a tail */
	ZT_EQ(zd_check_invariants(sys), 0);
	/* The tails are plain pages again once merged back. */
	ZT_TRUE(!zd_page_is_tail(zd_pfn_to_page(sys, pfn + 1)));
}

/* Exhaustion at every order, then merging restores the largest blocks. */
static void test_exhaustion_and_merge(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_reports log;
	struct zd_system *sys;
	unsigned long total, free0, n10 = 0, n0 = 0;
	struct zd_folio **held;
	size_t cap;

	(void)fx;
	memset(&log, 0, sizeof(log));
	sys = zt_system_create(&log, ZD_SCHEME_ZERO, ZD_CHECK_CHEAP, 8 * MiB);
	total = 8 * MiB / ZD_PAGE_SIZE;
	free0 = zd_nr_free_pages(sys);
	ZT_EQU(free0, total - 1);		/* the zero page is held for good */
	cap = total;
	held = calloc(cap, sizeof(*held));
	ZT_TRUE(held != NULL);

	/* 2 blocks of 4 MiB; the zero page split one: a single order-10 block left. */
	while ((held[n10] = zd_folio_alloc(sys, 0, ZD_MAX_PAGE_ORDER)) != NULL)
		n10++;
	ZT_EQU(n10, total / 1024 - 1);
	/* The split block still has 1023 single pages, found at lower orders. */
	while ((held[n10 + n0] = zd_folio_alloc(sys, 0, 0)) != NULL)
		n0++;
	ZT_EQU(n0, 1023);
	ZT_EQU(zd_nr_free_pages(sys), 0);
	for (unsigned int o = 0; o <= ZD_MAX_PAGE_ORDER; o++)
		ZT_PTR_EQ(zd_folio_alloc(sys, 0, o), NULL);
	ZT_EQ(zd_check_invariants(sys), 0);

	/* Free in an interleaved order: buddies still merge. */
	for (unsigned long i = n10; i < n10 + n0; i += 2)
		zd_folio_put(held[i]);
	for (unsigned long i = n10 + 1; i < n10 + n0; i += 2)
		zd_folio_put(held[i]);
	for (unsigned long i = 0; i < n10; i++)
		zd_folio_put(held[i]);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	ZT_EQ(zd_check_invariants(sys), 0);

	/* Merged back: the same number of order-10 blocks again. */
	n10 = 0;
	while ((held[n10] = zd_folio_alloc(sys, 0, ZD_MAX_PAGE_ORDER)) != NULL)
		n10++;
	ZT_EQU(n10, total / 1024 - 1);
	for (unsigned long i = 0; i < n10; i++)
		zd_folio_put(held[i]);
	free(held);
	zt_system_destroy_clean(sys, &log);
}

/* __GFP_ZERO, and real bytes per page frame. */
static void test_gfp_zero(void **state)
{
	struct zd_system *sys = fx_sys(state);
	struct zd_folio *f[64];
	unsigned long dirty[64];
	int reused = 0;

	/* Dirty 64 order-1 folios, free them, and allocate 64 zeroed ones. */
	for (int i = 0; i < 64; i++) {
		f[i] = zd_folio_alloc(sys, 0, 1);
		ZT_TRUE(f[i] != NULL);
		ZT_TRUE(zd_page_address(&f[i]->page) != NULL);
		memset(zd_page_address(&f[i]->page), 0xa5, 2 * ZD_PAGE_SIZE);
		dirty[i] = zd_folio_pfn(f[i]);
	}
	for (int i = 0; i < 64; i++)
		zd_folio_put(f[i]);
	for (int i = 0; i < 64; i++) {
		unsigned char *p;

		f[i] = zd_folio_alloc(sys, ZD_GFP_ZERO, 1);
		ZT_TRUE(f[i] != NULL);
		p = zd_page_address(&f[i]->page);
		for (size_t b = 0; b < 2 * ZD_PAGE_SIZE; b++)
			if (p[b])
				fail_msg("byte %zu of a __GFP_ZERO folio is %#x", b, p[b]);
		for (int j = 0; j < 64; j++)
			reused += zd_folio_pfn(f[i]) == dirty[j];
	}
	ZT_TRUE(reused > 0);		/* some of them were the dirtied frames */
	for (int i = 0; i < 64; i++)
		zd_folio_put(f[i]);
	/* The zero page is there, zeroed, and never counted as a leak. */
	ZT_TRUE(zd_zero_folio(sys) != NULL);
	ZT_EQ(((unsigned char *)zd_page_address(&zd_zero_folio(sys)->page))[100], 0);
	ZT_EQ(zd_system_leak_check(sys), 0);
}

/* The last put of a RAM folio on an LRU: off the LRU and back to the buddy allocator. */
static void test_lru_last_put(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_folio *a = zd_folio_alloc(sys, 0, 0), *b = zd_folio_alloc(sys, 0, ZD_PMD_ORDER);
	struct zd_system_stats st;

	ZT_TRUE(a && b);
	ZT_EQ(zd_folio_add_lru(a), 0);
	zd_page_set_flag(&b->page, ZD_PG_active);
	ZT_EQ(zd_folio_add_lru(b), 0);
	ZT_TRUE(zd_folio_test_flag(a, ZD_PG_lru));
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 1);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_ACTIVE), 1);
	ZT_EQ(zd_folio_add_lru(a), -EBUSY);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.lru_pages, 2);
	ZT_EQ(zd_check_invariants(sys), 0);

	zd_folio_get(a);
	zd_folio_put(a);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 1);	/* not the last put */
	zd_folio_put(a);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 0);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 512);
	zd_folio_put(b);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_ACTIVE), 0);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.lru_pages, 0);
	ZT_EQ(zd_check_invariants(sys), 0);

	/* The same page, allocated again, carries no LRU state over. */
	a = zd_folio_alloc(sys, 0, 0);
	ZT_TRUE(!zd_folio_test_flag(a, ZD_PG_lru));
	ZT_TRUE(!zd_folio_test_flag(a, ZD_PG_active));
	zd_folio_put(a);
}

/* folio_isolate_lru takes it off with a reference; putback undoes it. */
static void test_isolate_putback(void **state)
{
	struct zd_system *sys = fx_sys(state);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_folio *f = zd_folio_alloc(sys, 0, 0);

	ZT_TRUE(f != NULL);
	ZT_TRUE(!zd_folio_isolate_lru(f));	/* not on an LRU yet */
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_EQ(zd_folio_add_lru(f), 0);
	ZT_TRUE(zd_folio_isolate_lru(f));
	ZT_EQ(zd_folio_ref_count(f), 2);
	ZT_TRUE(!zd_folio_test_flag(f, ZD_PG_lru));
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 0);
	ZT_TRUE(!zd_folio_isolate_lru(f));	/* already isolated */
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_folio_putback_lru(f);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_lru));
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 1);

	/* Isolated, then the owner's put: the isolation reference keeps it alive. */
	ZT_TRUE(zd_folio_isolate_lru(f));
	zd_folio_put(f);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_EQU(zd_nr_free_pages(sys), free0 - 1);
	zd_folio_put(f);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 0);
	ZT_EQ(zd_check_invariants(sys), 0);
}

/* R12.5: a device folio put on an LRU is reported and refused, for every type. */
static void test_device_on_lru(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f;
	const struct zd_report *r;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	f = zt_dev_folio(d, 9);
	ZT_EQ(zt_dev_alloc(d, 9, 0), 0);
	ZT_EQ(zd_folio_add_lru(f), -EINVAL);
	r = zt_expect_report(&fx->log, ZD_MISUSE_DEVICE_ON_LRU, zt_dev_pfn(d, 9),
			     (int)fx->v->type);
	ZT_EQ(r->refcount, zt_free_ref(fx->v->type, fx->v->scheme) + 1);
	ZT_TRUE(r->flags & ZD_PG_BIT(ZD_PG_zone_device));
	ZT_TRUE(!(r->flags & ZD_PG_BIT(ZD_PG_lru)));
	zt_reports_clear(&fx->log);
	ZT_TRUE(!zd_folio_test_flag(f, ZD_PG_lru));
	ZT_EQU(zd_lru_count(fx->sys, ZD_LRU_INACTIVE), 0);
	ZT_EQU(zd_lru_count(fx->sys, ZD_LRU_ACTIVE), 0);
	ZT_TRUE(!zd_folio_isolate_lru(f));
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folio_put(f);
	/* A free device page is refused just the same. */
	ZT_EQ(zd_folio_add_lru(f), -EINVAL);
	ZT_EQ(zt_reports_count(&fx->log, ZD_MISUSE_DEVICE_ON_LRU), 1);
	ZT_EQU(fx->log.r[0].pfn, zt_dev_pfn(d, 9));
	zt_reports_clear(&fx->log);
	zt_dev_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_orders),
		ZT_TEST(test_order9_structure),
		ZT_TEST(test_exhaustion_and_merge),
		ZT_TEST(test_gfp_zero),
		ZT_TEST(test_lru_last_put),
		ZT_TEST(test_isolate_putback),
		ZT_TEST_ALL(test_device_on_lru),
	};

	return cmocka_run_group_tests_name("page_alloc", tests, NULL, NULL);
}
