// SPDX-License-Identifier: MIT
/*
 * test_faultinj - fault injection at named sites (lib/fault-inject.c).
 *
 * ZD_FAULT_PAGE_ALLOC with probability / interval / times: exactly the
 * calls the attributes select fail, each with NULL (-ENOMEM semantics),
 * zd_system_get_stats counts them, and the same seed gives the same
 * failure pattern. ZD_FAULT_PGMAP_SETUP makes zd_memremap_pages return
 * -ENOMEM with nothing left registered; ZD_FAULT_DEVICE_ALLOC makes a
 * driver's allocation fail. Every machine is leak-free at destroy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)
#define NR_CALLS 200

static struct zd_system *faulty_system(struct zt_reports *log, enum zd_fault_site site,
				       unsigned int probability, unsigned int interval, long times,
				       uint64_t seed)
{
	struct zd_system_options o;

	zt_options(&o, log, ZD_SCHEME_ZERO, ZD_CHECK_CHEAP);
	o.ram_size = 8 * MiB;
	o.seed = seed;
	o.fault[site].probability = probability;
	o.fault[site].interval = interval;
	o.fault[site].times = times;
	return zt_system_create_opts(&o);
}

/* Allocate @n order-0 folios; fail[i] = 1 where call i returned NULL. Frees them. */
static int alloc_pattern(struct zd_system *sys, int n, unsigned char *fail)
{
	struct zd_folio **f = calloc((size_t)n, sizeof(*f));
	unsigned long free0 = zd_nr_free_pages(sys);
	int failed = 0, ok = 0;

	ZT_TRUE(f != NULL);
	for (int i = 0; i < n; i++) {
		f[i] = zd_folio_alloc(sys, 0, 0);
		fail[i] = f[i] == NULL;
		failed += fail[i];
		if (f[i]) {
			ok++;
			ZT_EQ(zd_folio_ref_count(f[i]), 1);
		}
	}
	ZT_EQU(zd_nr_free_pages(sys), free0 - (unsigned long)ok);
	for (int i = 0; i < n; i++)
		if (f[i])
			zd_folio_put(f[i]);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	free(f);
	return failed;
}

static void check_stats(struct zd_system *sys, int failed, int succeeded)
{
	struct zd_system_stats st;

	zd_system_get_stats(sys, &st);
	ZT_EQU(st.faults_injected, (unsigned)failed);
	ZT_EQU(st.folio_allocs, (unsigned)succeeded + 1);	/* + the zero page */
	ZT_EQU(st.folio_frees, (unsigned)succeeded);
}

/* probability 100, interval N, times K: calls N, 2N, ... KN fail, no others. */
static void interval_times(unsigned int interval, long times)
{
	struct zt_reports log = { 0 };
	unsigned char fail[NR_CALLS];
	struct zd_system *sys;
	int failed, want = 0;

	sys = faulty_system(&log, ZD_FAULT_PAGE_ALLOC, 100, interval, times, 1);
	failed = alloc_pattern(sys, NR_CALLS, fail);
	for (int i = 0; i < NR_CALLS; i++) {
		unsigned int call = (unsigned int)i + 1;
		bool due = (interval <= 1 || call % interval == 0) && (times < 0 || want < times);

		if (fail[i] != due)
			fail_msg("interval=%u times=%ld: call %u %s", interval, times, call,
				 fail[i] ? "failed, should not" : "succeeded, should fail");
		want += due;
	}
	ZT_EQ(failed, want);
	check_stats(sys, failed, NR_CALLS - failed);
	zt_system_destroy_clean(sys, &log);
}

static void test_interval_times(void **state)
{
	(void)state;
	interval_times(3, 4);		/* calls 3, 6, 9, 12 */
	interval_times(7, -1);		/* every 7th */
	interval_times(1, 5);		/* the first five */
	interval_times(0, 2);		/* interval 0 means every call */
	interval_times(1, -1);		/* all */
	interval_times(5, 0);		/* times 0: none */
}

/* probability P: a seeded pattern, reproducible, about P percent. */
static void test_probability_seeded(void **state)
{
	struct zt_reports log = { 0 };
	unsigned char a[NR_CALLS], b[NR_CALLS], c[NR_CALLS];
	struct zd_system *sys;
	int fa, fb, fc;

	(void)state;
	sys = faulty_system(&log, ZD_FAULT_PAGE_ALLOC, 30, 1, -1, 42);
	fa = alloc_pattern(sys, NR_CALLS, a);
	check_stats(sys, fa, NR_CALLS - fa);
	zt_system_destroy_clean(sys, &log);

	sys = faulty_system(&log, ZD_FAULT_PAGE_ALLOC, 30, 1, -1, 42);
	fb = alloc_pattern(sys, NR_CALLS, b);
	zt_system_destroy_clean(sys, &log);
	ZT_EQ(fa, fb);
	ZT_TRUE(memcmp(a, b, sizeof(a)) == 0);		/* same seed, same failures */
	/* 30% of 200: the seeded draw is fixed, so a loose band is not flaky. */
	ZT_TRUE(fa > 20 && fa < 100);

	sys = faulty_system(&log, ZD_FAULT_PAGE_ALLOC, 30, 1, -1, 4242);
	fc = alloc_pattern(sys, NR_CALLS, c);
	zt_system_destroy_clean(sys, &log);
	ZT_TRUE(fc > 20 && fc < 100);
	ZT_TRUE(memcmp(a, c, sizeof(a)) != 0);		/* another seed, another pattern */

	/* Probability 0 disables the site whatever the other attributes say. */
	sys = faulty_system(&log, ZD_FAULT_PAGE_ALLOC, 0, 1, -1, 42);
	ZT_EQ(alloc_pattern(sys, NR_CALLS, a), 0);
	check_stats(sys, 0, NR_CALLS);
	zt_system_destroy_clean(sys, &log);
}

/* Fault options are validated at creation. */
static void test_bad_options(void **state)
{
	struct zd_system_options o;
	struct zd_system *sys = NULL;

	(void)state;
	zd_system_options_init(&o);
	o.fault[ZD_FAULT_PAGE_ALLOC].probability = 101;
	ZT_EQ(zd_system_create(&o, &sys), -EINVAL);
	ZT_PTR_EQ(sys, NULL);
}

/* ZD_FAULT_PGMAP_SETUP: -ENOMEM, nothing registered, the next try works. */
static void test_pgmap_setup(void **state)
{
	struct zt_reports log = { 0 };
	struct zt_dev *d = calloc(1, sizeof(*d));
	struct zd_devmem_pool *pool = NULL;
	struct zd_system_stats st;
	struct zd_system *sys;
	uint64_t first, again;

	(void)state;
	ZT_TRUE(d != NULL);
	sys = faulty_system(&log, ZD_FAULT_PGMAP_SETUP, 100, 1, 2, 1);
	zt_dev_prepare(d, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0);
	ZT_EQ(zd_memremap_pages(sys, &d->pgmap), -ENOMEM);
	ZT_PTR_EQ(zd_pfn_to_page(sys, zt_dev_pfn(d, 0)), NULL);
	ZT_PTR_EQ(zd_get_dev_pagemap(sys, zt_dev_pfn(d, 0)), NULL);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.pgmaps, 0);
	ZT_EQU(st.faults_injected, 1);

	/* A pool fails the same way and gives its address range back. */
	ZT_EQ(zd_request_free_mem_region(sys, 2 * MiB, 2 * MiB, &first), 0);
	zd_release_mem_region(sys, first, 2 * MiB);
	ZT_EQ(zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB, 0, &pool), -ENOMEM);
	ZT_EQ(zd_request_free_mem_region(sys, 2 * MiB, 2 * MiB, &again), 0);
	ZT_EQU(again, first);
	zd_release_mem_region(sys, again, 2 * MiB);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.faults_injected, 2);
	ZT_EQU(st.pgmaps, 0);

	/* times=2 is used up: registration works now. */
	ZT_EQ(zd_memremap_pages(sys, &d->pgmap), 0);
	d->registered = true;
	ZT_EQ(zd_page_ref_count(zt_dev_page(d, 0)), 0);
	ZT_EQ(zt_dev_alloc(d, 0, 0), 0);
	zd_folio_put(zt_dev_folio(d, 0));
	ZT_EQU(zt_dev_nr_free(d), 1);
	zt_dev_destroy(d);
	free(d);
	zt_system_destroy_clean(sys, &log);
}

/* ZD_FAULT_DEVICE_ALLOC: the pool's allocation fails with -ENOMEM, nothing handed out. */
static void test_device_alloc(void **state)
{
	struct zt_reports log = { 0 };
	struct zd_devmem_pool *pool = NULL;
	struct zd_devmem_stats ds;
	struct zd_system_stats st;
	struct zd_folio *f[12];
	struct zd_system *sys;
	int failed = 0;

	(void)state;
	sys = faulty_system(&log, ZD_FAULT_DEVICE_ALLOC, 100, 4, -1, 1);
	ZT_EQ(zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0, &pool), 0);
	for (int i = 0; i < 12; i++) {
		int err = zd_devmem_pool_alloc(pool, 0, &f[i]);

		if ((i + 1) % 4 == 0) {
			ZT_EQ(err, -ENOMEM);
			f[i] = NULL;
			failed++;
		} else {
			ZT_EQ(err, 0);
			ZT_EQ(zd_folio_ref_count(f[i]), 1);
		}
	}
	zd_devmem_pool_stats(pool, &ds);
	ZT_EQU(ds.allocated, 12 - failed);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.faults_injected, failed);
	zd_folios_put_refs(f, NULL, 12);
	zd_devmem_pool_stats(pool, &ds);
	ZT_EQU(ds.allocated, 0);
	ZT_EQU(ds.page_free, 12 - failed);
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000000000ull), 0);
	zt_system_destroy_clean(sys, &log);
}

/* Site names and the spec parser used by the CLI. */
static void test_site_parse(void **state)
{
	enum zd_fault_site site;
	struct zd_fault_attr a;

	(void)state;
	ZT_TRUE(strcmp(zd_fault_site_name(ZD_FAULT_PAGE_ALLOC), "page_alloc") == 0);
	ZT_TRUE(strcmp(zd_fault_site_name(ZD_FAULT_PGMAP_SETUP), "pgmap_setup") == 0);
	ZT_TRUE(strcmp(zd_fault_site_name(ZD_FAULT_DEVICE_ALLOC), "device_alloc") == 0);
	ZT_EQ(zd_fault_attr_parse("page_alloc:probability=50,interval=3,times=7", &site, &a), 0);
	ZT_EQ(site, ZD_FAULT_PAGE_ALLOC);
	ZT_EQ(a.probability, 50);
	ZT_EQ(a.interval, 3);
	ZT_EQ(a.times, 7);
	ZT_EQ(zd_fault_attr_parse("pgmap_setup", &site, &a), 0);
	ZT_EQ(site, ZD_FAULT_PGMAP_SETUP);
	ZT_EQ(a.probability, 100);
	ZT_EQ(a.times, -1);
	ZT_EQ(zd_fault_attr_parse("nosuch", &site, &a), -EINVAL);
	ZT_EQ(zd_fault_attr_parse("page_alloc:probability=101", &site, &a), -EINVAL);
	ZT_EQ(zd_fault_attr_parse("page_alloc:colour=3", &site, &a), -EINVAL);
	ZT_EQ(zd_fault_attr_parse("page_alloc:times=x", &site, &a), -EINVAL);
	ZT_EQ(zd_fault_attr_parse("pgtable_alloc:times=1", &site, &a), 0);
	ZT_EQ(site, ZD_FAULT_PGTABLE_ALLOC);
	ZT_EQ(zd_fault_attr_parse("vma_alloc", &site, &a), 0);
	ZT_EQ(site, ZD_FAULT_VMA_ALLOC);
}

/*
 * zd_system_set_fault on a running machine, at the page-table and VMA
 * sites: an armed site fails the next calls (-ENOMEM from mmap and the
 * first fault), a disarmed one none; the count and times start again.
 */
static void test_set_fault_pgtable_vma(void **state)
{
	struct zt_reports log = { 0 };
	struct zd_system *sys = faulty_system(&log, ZD_FAULT_PAGE_ALLOC, 0, 0, -1, 1);
	struct zd_fault_attr once = { .probability = 100, .interval = 1, .times = 1 };
	struct zd_fault_attr off = { 0 };
	struct zd_mm *mm = NULL;
	unsigned long a = 0;
	char c = 1;

	(void)state;
	ZT_EQ(zd_system_set_fault(sys, ZD_FAULT_NR_SITES, &once), -EINVAL);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	ZT_EQ(zd_system_set_fault(sys, ZD_FAULT_VMA_ALLOC, &once), 0);
	ZT_EQ(zd_mmap(mm, 0, 64 * 1024, ZD_PROT_READ | ZD_PROT_WRITE,
		      ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0, 0, &a), -ENOMEM);
	ZT_EQ(zd_mm_nr_vmas(mm), 0);
	ZT_EQ(zd_mmap(mm, 0, 64 * 1024, ZD_PROT_READ | ZD_PROT_WRITE,
		      ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0, 0, &a), 0);
	ZT_EQ(zd_system_set_fault(sys, ZD_FAULT_PGTABLE_ALLOC, &once), 0);
	ZT_EQ(zd_cpu_write(mm, a, "x", 1), -ENOMEM);
	ZT_EQ(zd_cpu_write(mm, a, "x", 1), 0);
	ZT_EQ(zd_cpu_read(mm, a, &c, 1), 0);
	ZT_EQ(c, 'x');
	ZT_EQ(zd_system_set_fault(sys, ZD_FAULT_PGTABLE_ALLOC, &off), 0);
	zd_mm_destroy(mm);
	zt_system_destroy_clean(sys, &log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_times),
		cmocka_unit_test(test_probability_seeded),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_pgmap_setup),
		cmocka_unit_test(test_device_alloc),
		cmocka_unit_test(test_site_parse),
		cmocka_unit_test(test_set_fault_pgtable_vma),
	};

	return cmocka_run_group_tests_name("faultinj", tests, NULL, NULL);
}
