// SPDX-License-Identifier: MIT
/*
 * test_teardown_race - memunmap_pages against page holders and lookups
 * (semantics §1.6, §1.7, R1.11, R1.12, R12.4, bug B7).
 *
 * Teardown blocks while one page is held (zd_memunmap_pages_timeout
 * returns -ETIMEDOUT; new lookups already fail and new allocations are
 * refused) and completes only once another thread drops the page;
 * afterwards zd_pfn_to_page and zd_get_dev_pagemap for its pfns return
 * NULL. The same through zd_devmem_pool unbind, and with many holders on
 * several threads. A reader thread looping zd_get_dev_pagemap through
 * repeated register/unregister cycles either gets NULL or a live pgmap
 * whose memmap it may read until it puts it back; under ASan any touch of
 * freed memory fails the test.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)
#define MS (1000000ull)

/* ---- a thread that drops references after a delay ---- */

struct dropper {
	struct zd_folio **folios;
	int nr;
	unsigned int delay_ms;
	_Atomic int dropping;		/* set just before the first put */
};

static void *dropper_fn(void *arg)
{
	struct dropper *d = arg;

	zt_sleep_ms(d->delay_ms);
	zd_atomic_store_release(&d->dropping, 1);
	for (int i = 0; i < d->nr; i++) {
		zd_folio_put(d->folios[i]);
		if (i % 4 == 3)
			sched_yield();
	}
	return NULL;
}

static struct zd_thread *start_dropper(struct dropper *d, struct zd_folio **folios, int nr,
				       unsigned int delay_ms)
{
	struct zd_thread *t = NULL;

	d->folios = folios;
	d->nr = nr;
	d->delay_ms = delay_ms;
	zd_atomic_init(&d->dropping, 0);
	ZT_EQ(zd_thread_create(&t, dropper_fn, d), 0);
	return t;
}

/* R1.12 / L1: teardown waits for a held page; another thread's put lets it finish. */
static void test_teardown_blocks(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f, *fs[2];
	struct zd_thread *t;
	struct dropper dr;
	unsigned long pfn;
	int err, nr_held = 1;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	pfn = zt_dev_pfn(d, 7);
	f = zt_dev_folio(d, 7);
	fs[0] = f;
	ZT_EQ(zt_dev_alloc(d, 7, 0), 0);

	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 50 * MS), -ETIMEDOUT);
	/* Killed: lookups fail, the memmap stays while the page is held. */
	ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn), NULL);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), &f->page);
	ZT_PTR_EQ(zd_page_pgmap(&f->page), &d->pgmap);
	/*
	 * R3.4: zone_device_page_init takes its pgmap references with
	 * percpu_ref_tryget_many, which ignores the kill: while page 7 keeps
	 * the count up, a new allocation succeeds (and teardown then waits for
	 * it too). The legacy scheme (6.1: tryget_live) and the other types'
	 * hand-out paths refuse.
	 */
	err = zt_dev_alloc(d, 8, 0);
	if (fx->v->scheme == ZD_SCHEME_ZERO && zt_type_inits(type)) {
		ZT_EQ(err, 0);
		ZT_EQ(zd_folio_ref_count(zt_dev_folio(d, 8)), 1);
		fs[1] = zt_dev_folio(d, 8);
		nr_held = 2;
	} else {
		ZT_EQ(err, -ENODEV);
		zt_reports_clear(&fx->log);	/* refusing may be reported (R3.4) */
	}
	/* Still blocked: a second timed wait times out again. */
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20 * MS), -ETIMEDOUT);

	t = start_dropper(&dr, fs, nr_held, 100);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20000 * MS), 0);
	d->registered = false;
	ZT_EQ(zd_atomic_load_acquire(&dr.dropping), 1);	/* not before the put */
	zd_thread_join(t);

	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, 0)), NULL);
	ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn), NULL);
	if (fx->v->scheme == ZD_SCHEME_ZERO && zt_type_has_folio_free(type)) {
		ZT_EQU(zt_dev_nr_free(d), (unsigned long)nr_held);
		ZT_EQU(d->page_frees[7], 1);
		if (nr_held == 2)
			ZT_EQU(d->page_frees[8], 1);
	}
	zt_expect_no_reports(&fx->log);
}

/*
 * FS_DAX and GENERIC (0-based): the core does not wait for their pages
 * (R1.13), only for transient zd_get_dev_pagemap users (§1.7 step 3).
 */
static void test_teardown_waits_for_lookup(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_dev_pagemap *got;
	unsigned long pfn;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	pfn = zt_dev_pfn(d, 9);
	got = zd_get_dev_pagemap(fx->sys, pfn);
	ZT_PTR_EQ(got, &d->pgmap);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 50 * MS), -ETIMEDOUT);
	ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn), NULL);
	/* R1.11: the memmap is still there for the holder of the reference. */
	ZT_TRUE(zd_pfn_to_page(fx->sys, pfn) != NULL);
	ZT_EQ(zd_page_ref_count(zd_pfn_to_page(fx->sys, pfn)),
	      zt_free_ref(fx->v->type, fx->v->scheme));
	zd_put_dev_pagemap(got);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20000 * MS), 0);
	d->registered = false;
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
	zt_expect_no_reports(&fx->log);
}

/*
 * zone_device_page_init on a killed pgmap (percpu_ref_tryget_many): while a
 * held page keeps the count up, the allocation succeeds and takes its own
 * pgmap reference; teardown completes only after both pages are freed.
 */
static void test_zone_device_page_init_tryget_many(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f = NULL;
	long before;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	ZT_EQ(zt_dev_alloc(d, 3, 0), 0);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20 * MS), -ETIMEDOUT);
	before = zd_pgmap_ref_count(&d->pgmap);
	ZT_EQ(before, 1);
	ZT_EQ(zd_zone_device_folio_init(zt_dev_folio(d, 4), &d->pgmap, 0), 0);
	f = zt_dev_folio(d, 4);
	zd_folio_unlock(f);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), before + 1);
	zd_folio_put(zt_dev_folio(d, 3));
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20 * MS), -ETIMEDOUT);
	zd_folio_put(f);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20000 * MS), 0);
	d->registered = false;
	ZT_EQU(d->page_frees[3], 1);
	ZT_EQU(d->page_frees[4], 1);
	zt_expect_no_reports(&fx->log);
}

/*
 * Unbind through the pool: blocks while a folio is out, refuses allocations,
 * then completes. Not for GENERIC in the zero scheme: Linux does not wait
 * for those pages (R1.13), so the unbind completes at once and the held
 * page is reported as the known hazard, and so is its late put.
 */
static void test_pool_unbind_blocks(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_devmem_pool *pool = NULL;
	struct zd_folio *f, *g;
	struct zd_thread *t;
	struct dropper dr;
	unsigned long pfn;

	ZT_EQ(zd_devmem_pool_create(fx->sys, fx->v->type, 2 * MiB, 0, &pool), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &f), 0);
	pfn = zd_folio_pfn(f);
	if (fx->v->type == ZD_MEMORY_DEVICE_GENERIC && fx->v->scheme == ZD_SCHEME_ZERO) {
		ZT_EQ(zd_devmem_pool_destroy(pool, 50 * MS), 0);
		zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
		ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
		ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn), NULL);
		zt_reports_clear(&fx->log);
		zd_folio_put(f);
		zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
		zt_reports_clear(&fx->log);
		return;
	}
	ZT_EQ(zd_devmem_pool_destroy(pool, 50 * MS), -ETIMEDOUT);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &g), -ENODEV);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), &f->page);
	t = start_dropper(&dr, &f, 1, 100);
	ZT_EQ(zd_devmem_pool_destroy(pool, 20000 * MS), 0);
	ZT_EQ(zd_atomic_load_acquire(&dr.dropping), 1);
	zd_thread_join(t);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
	ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn), NULL);
	zt_reports_clear(&fx->log);	/* the refused allocation may be reported */
}

/* Many pages held by several threads, dropped in their own time (B7). */
static void test_teardown_many_holders(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *held[64];
	struct zd_thread *t[4];
	struct dropper dr[4];

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	for (int i = 0; i < 64; i++) {
		ZT_EQ(zt_dev_alloc(d, (unsigned long)i * 5, 0), 0);
		held[i] = zt_dev_folio(d, (unsigned long)i * 5);
		zd_folio_get(held[i]);		/* a second holder: put by the same thread */
	}
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20 * MS), -ETIMEDOUT);
	for (int i = 0; i < 4; i++)
		t[i] = start_dropper(&dr[i], &held[i * 16], 16, 20u * (unsigned)i);
	/* Each thread drops one reference per page; the second round ends teardown. */
	for (int i = 0; i < 4; i++)
		zd_thread_join(t[i]);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 20 * MS), -ETIMEDOUT);
	for (int i = 0; i < 4; i++)
		t[i] = start_dropper(&dr[i], &held[i * 16], 16, 10u * (unsigned)(3 - i));
	zd_memunmap_pages(&d->pgmap);
	d->registered = false;
	for (int i = 0; i < 4; i++) {
		ZT_EQ(zd_atomic_load_acquire(&dr[i].dropping), 1);
		zd_thread_join(t[i]);
	}
	if (fx->v->scheme == ZD_SCHEME_ZERO && zt_type_has_folio_free(type)) {
		ZT_EQU(zt_dev_nr_free(d), 64);
		for (int i = 0; i < 64; i++)
			ZT_EQU(d->page_frees[i * 5], 1);
	}
	zt_reports_clear(&fx->log);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, 0)), NULL);
}

/* ---- lookups racing with register/unregister cycles ---- */

struct reader {
	struct zd_system *sys;
	struct zd_dev_pagemap *pgmap;
	unsigned long pfn0, nr_pages;
	_Atomic int stop;
	_Atomic unsigned long live, none, wrong;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	unsigned long x = 12345;

	while (!zd_atomic_load_acquire(&r->stop)) {
		unsigned long pfn, off;
		struct zd_dev_pagemap *got;
		struct zd_page *p, *p0;

		x = x * 6364136223846793005ul + 1442695040888963407ul;
		off = (x >> 33) % (r->nr_pages + 8);		/* a few beyond the end */
		pfn = r->pfn0 + off;
		got = zd_get_dev_pagemap(r->sys, pfn);
		if (!got) {
			zd_atomic_fetch_add_relaxed(&r->none, 1ul);
			continue;
		}
		/*
		 * A live pgmap: its memmap stays until we put it (R1.11), so
		 * reading it is safe (ASan fails the test otherwise). Only
		 * atomic fields: main may be handing a page out meanwhile, and
		 * we hold no page reference.
		 */
		p = zd_pfn_to_page(r->sys, pfn);
		p0 = zd_pfn_to_page(r->sys, r->pfn0);
		if (off >= r->nr_pages || got != r->pgmap || !p || !p0 || p != p0 + off ||
		    !zd_pgmap_pfn_valid(got, pfn) || !zd_is_zone_device_page(p) ||
		    zd_page_ref_count(p) < 0 || got->type != r->pgmap->type)
			zd_atomic_fetch_add_relaxed(&r->wrong, 1ul);
		zd_atomic_fetch_add_relaxed(&r->live, 1ul);
		zd_put_dev_pagemap(got);
	}
	return NULL;
}

static void test_lookup_vs_teardown(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	unsigned long rounds = zt_iters(200, 4), stuck = 0;
	struct zd_thread *t;
	struct reader r;

	zt_dev_prepare(d, fx->sys, fx->v->type, 2 * MiB, 0);
	memset(&r, 0, sizeof(r));
	r.sys = fx->sys;
	r.pgmap = &d->pgmap;
	r.pfn0 = zt_dev_pfn(d, 0);
	r.nr_pages = d->nr_pages;
	ZT_EQ(zd_thread_create(&t, reader_fn, &r), 0);
	for (unsigned long i = 0; i < rounds; i++) {
		unsigned long seen = zd_atomic_load_relaxed(&r.live);
		uint64_t waited = 0;

		if (zd_memremap_pages(fx->sys, &d->pgmap)) {
			stuck++;
			break;
		}
		/* Let the reader find it live at least once (bounded). */
		while (zd_atomic_load_relaxed(&r.live) == seen && waited++ < 2000)
			sched_yield();
		if (i % 2 && !zt_dev_alloc(d, i % 512, 0))
			zd_folio_put(zt_dev_folio(d, i % 512));
		zd_memunmap_pages(&d->pgmap);
		/* Gone: no lookup can find it until the next registration. */
		if (zd_get_dev_pagemap(fx->sys, r.pfn0) || zd_pfn_to_page(fx->sys, r.pfn0))
			stuck++;
	}
	zd_atomic_store_release(&r.stop, 1);
	zd_thread_join(t);
	ZT_EQU(stuck, 0);
	ZT_EQU(zd_atomic_load_relaxed(&r.wrong), 0);
	ZT_TRUE(zd_atomic_load_relaxed(&r.live) > 0);
	ZT_TRUE(zd_atomic_load_relaxed(&r.none) > 0);
	zt_expect_no_reports(&fx->log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST_V(test_teardown_blocks, private_zero),
		ZT_TEST_V(test_teardown_blocks, coherent_zero),
		ZT_TEST_V(test_teardown_blocks, p2pdma_zero),
		ZT_TEST_TYPES_ONE(test_teardown_blocks),
		ZT_TEST_V(test_zone_device_page_init_tryget_many, private_zero),
		ZT_TEST_V(test_zone_device_page_init_tryget_many, coherent_zero),
		ZT_TEST_V(test_teardown_waits_for_lookup, fsdax_zero),
		ZT_TEST_V(test_teardown_waits_for_lookup, generic_zero),
		ZT_TEST_ALL(test_pool_unbind_blocks),
		ZT_TEST_V(test_teardown_many_holders, private_zero),
		ZT_TEST_V(test_teardown_many_holders, coherent_zero),
		ZT_TEST_V(test_teardown_many_holders, p2pdma_zero),
		ZT_TEST_V(test_teardown_many_holders, private_one),
		ZT_TEST_ALL(test_lookup_vs_teardown),
	};

	return cmocka_run_group_tests_name("teardown_race", tests, NULL, NULL);
}
