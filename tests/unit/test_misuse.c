// SPDX-License-Identifier: MIT
/*
 * test_misuse - every misuse is detected and reported, never silent
 * (ARCHITECTURE principle 5), with the page's pfn, type, refcount and
 * flags in the report, and leaves the state as it was.
 *
 * Put of a free page (ZD_MISUSE_PUT_FREE, R12.1; legacy L9), get of a
 * free page (ZD_MISUSE_GET_FREE, R12.17), page_free twice
 * (ZD_MISUSE_DOUBLE_FREE, R3.10), init of a page in use
 * (ZD_MISUSE_INIT_IN_USE, R3.3 and bug B8; legacy L5), handing a folio out
 * through the wrong type's path, and teardown with pages still held or
 * pgmaps still registered at destroy (ZD_MISUSE_TEARDOWN_HELD, R1.12;
 * ZD_MISUSE_LEAK for RAM). Both refcount schemes where meaningful.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)

static int free_ref(struct zt_fixture *fx)
{
	return zt_free_ref(fx->v->type, fx->v->scheme);
}

/* RAM: put of a freed folio, and a put of more references than exist. */
static void test_put_free_ram(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	unsigned long free0 = zd_nr_free_pages(sys), pfn;
	struct zd_folio *f = zd_folio_alloc(sys, 0, 0);
	const struct zd_report *r;

	ZT_TRUE(f != NULL);
	pfn = zd_folio_pfn(f);
	zd_folio_put(f);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	zt_expect_no_reports(&fx->log);

	zd_folio_put(f);			/* again */
	r = zt_expect_report(&fx->log, ZD_MISUSE_PUT_FREE, pfn, 0);
	ZT_EQ(r->refcount, 0);
	zt_reports_clear(&fx->log);
	ZT_EQU(zd_nr_free_pages(sys), free0);	/* not freed twice */
	ZT_EQ(zd_page_ref_count(&f->page), 0);
	ZT_EQ(zd_check_invariants(sys), 0);

	/* Two references held, three dropped: reported, nothing dropped. */
	f = zd_folio_alloc(sys, 0, 2);
	ZT_TRUE(f != NULL);
	zd_folio_get(f);
	zd_folio_put_refs(f, 3);
	r = zt_expect_report(&fx->log, ZD_MISUSE_PUT_FREE, zd_folio_pfn(f), 0);
	ZT_EQ(r->refcount, 2);
	ZT_TRUE(r->flags & ZD_PG_BIT(ZD_PG_head));
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(f), 2);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_folio_put_refs(f, 2);
	ZT_EQU(zd_nr_free_pages(sys), free0);
}

/* Device: a put on a free (idle) page, and dropping more than exist. */
static void test_put_free_device(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f;
	const struct zd_report *r;
	struct zd_system_stats st;
	long base;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);
	f = zt_dev_folio(d, 8);

	/*
	 * A plain put of a free page. (A GENERIC page idles at 1; its 1 -> 0
	 * is silently reset by the core, R11.4, see test_lifecycle.)
	 */
	if (!(type == ZD_MEMORY_DEVICE_GENERIC && fx->v->scheme == ZD_SCHEME_ZERO)) {
		zd_folio_put(f);
		r = zt_expect_report(&fx->log, ZD_MISUSE_PUT_FREE, zt_dev_pfn(d, 8), (int)type);
		ZT_EQ(r->refcount, free_ref(fx));
		ZT_TRUE(r->flags & ZD_PG_BIT(ZD_PG_zone_device));
		zt_reports_clear(&fx->log);
		ZT_EQ(zd_folio_ref_count(f), free_ref(fx));
	}
	/* More references than the free page has. */
	zd_folio_put_refs(f, free_ref(fx) + 1);
	r = zt_expect_report(&fx->log, ZD_MISUSE_PUT_FREE, zt_dev_pfn(d, 8), (int)type);
	ZT_EQ(r->refcount, free_ref(fx));
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx));
	ZT_EQU(zt_dev_nr_free(d), 0);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	zd_system_get_stats(fx->sys, &st);
	ZT_EQU(st.device_frees, 0);
	ZT_EQU(st.fsdax_wakeups, 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* An allocated page: one reference too many dropped, then a proper put. */
	ZT_EQ(zt_dev_alloc(d, 8, 0), 0);
	zd_folio_put_refs(f, free_ref(fx) + 2);
	r = zt_expect_report(&fx->log, ZD_MISUSE_PUT_FREE, zt_dev_pfn(d, 8), (int)type);
	ZT_EQ(r->refcount, free_ref(fx) + 1);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx) + 1);
	ZT_EQU(zt_dev_nr_free(d), 0);
	zd_folio_put(f);
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx));
	ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? 1 : 0);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/*
 * page_free twice (R3.10): a get on a freed device page (itself misuse in
 * the 0-based scheme, R12.17; invisible in the legacy one, L9) and the put
 * that follows must not hand the page to the driver again, nor drop pgmap
 * references the page no longer holds (R12.4).
 */
static void test_double_free(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	unsigned long pfn;
	struct zd_folio *f;
	const struct zd_report *r;
	long base;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);
	f = zt_dev_folio(d, 2);
	pfn = zt_dev_pfn(d, 2);
	ZT_EQ(zt_dev_alloc(d, 2, 0), 0);
	zd_folio_put(f);
	ZT_EQU(zt_dev_nr_free(d), 1);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	zt_expect_no_reports(&fx->log);

	zd_folio_get(f);			/* on a free page */
	if (fx->v->scheme == ZD_SCHEME_ZERO) {
		r = zt_expect_report(&fx->log, ZD_MISUSE_GET_FREE, pfn, (int)type);
		ZT_TRUE(r->refcount == 0 || r->refcount == 1);
		zt_reports_clear(&fx->log);
	} else {
		zt_expect_no_reports(&fx->log);	/* 1 -> 2 looks like a user's get */
	}
	zd_folio_put(f);
	r = zt_expect_report(&fx->log, ZD_MISUSE_DOUBLE_FREE, pfn, (int)type);
	ZT_EQ(r->refcount, free_ref(fx));
	ZT_TRUE(r->flags & ZD_PG_BIT(ZD_PG_zone_device));
	zt_reports_clear(&fx->log);
	ZT_EQU(zt_dev_nr_free(d), 1);		/* the driver was not called again */
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx));
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);

	/* The page is still usable: a new init, a put, one more folio_free. */
	ZT_EQ(zt_dev_alloc(d, 2, 0), 0);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base + (fx->v->scheme == ZD_SCHEME_ZERO ? 1 : 0));
	zd_folio_put(f);
	ZT_EQU(zt_dev_nr_free(d), 2);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/* R12.17 for fs-dax: a get on a free page is reported; its put is the normal idle wake. */
static void test_get_free_fsdax(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f;

	zt_dev_create(d, fx->sys, ZD_MEMORY_DEVICE_FS_DAX, 2 * MiB, 0);
	f = zt_dev_folio(d, 0);
	zd_folio_get(f);
	zt_expect_report(&fx->log, ZD_MISUSE_GET_FREE, zt_dev_pfn(d, 0),
			 ZD_MEMORY_DEVICE_FS_DAX);
	zt_reports_clear(&fx->log);
	zd_folio_put(f);
	ZT_EQ(zd_folio_ref_count(f), 0);
	zt_expect_no_reports(&fx->log);
	zt_dev_destroy(d);
}

/* R3.3 / B8 / L5: handing out a page that is in use is refused and reported. */
static void test_init_in_use(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f;
	const struct zd_report *r;
	long base, held;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);
	f = zt_dev_folio(d, 3);
	ZT_EQ(zt_dev_alloc(d, 3, 0), 0);
	held = zd_pgmap_ref_count(&d->pgmap);
	zd_folio_get(f);			/* a fault path's temporary reference (B8) */

	if (zt_type_inits(type))
		ZT_EQ(zd_zone_device_folio_init(f, &d->pgmap, 0), -EINVAL);
	else
		ZT_EQ(zd_device_folio_activate(f), -EINVAL);
	r = zt_expect_report(&fx->log, ZD_MISUSE_INIT_IN_USE, zt_dev_pfn(d, 3), (int)type);
	ZT_EQ(r->refcount, free_ref(fx) + 2);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx) + 2);	/* not overwritten to 1 */
	ZT_TRUE(!zd_folio_test_locked(f));
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), held);

	/* A large folio over it (0-based PRIVATE/COHERENT): refused at that page. */
	if (zt_type_inits(type) && fx->v->scheme == ZD_SCHEME_ZERO) {
		ZT_EQ(zd_zone_device_folio_init(zt_dev_folio(d, 0), &d->pgmap, 2), -EINVAL);
		r = zt_expect_report(&fx->log, ZD_MISUSE_INIT_IN_USE, zt_dev_pfn(d, 3),
				     (int)type);
		ZT_EQ(r->refcount, 2);
		zt_reports_clear(&fx->log);
		ZT_EQ(zd_folio_ref_count(zt_dev_folio(d, 0)), 0);
		ZT_TRUE(!zd_folio_test_large(zt_dev_folio(d, 0)));
		ZT_TRUE(!zd_folio_test_locked(zt_dev_folio(d, 0)));
		ZT_PTR_EQ(zd_page_folio(zt_dev_page(d, 3)), f);
		ZT_EQ(zd_pgmap_ref_count(&d->pgmap), held);
	}
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folio_put(f);
	zd_folio_put(f);
	ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? 1 : 0);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/* Each type has one way to hand folios out; the others are refused and reported. */
static void test_wrong_path(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *priv = &fx->dev[0], *dax = &fx->dev[1];
	struct zd_folio *ram;

	zt_dev_create(priv, fx->sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0);
	zt_dev_create(dax, fx->sys, ZD_MEMORY_DEVICE_FS_DAX, 4 * MiB, ZD_PMD_ORDER);

	ZT_EQ(zd_device_folio_activate(zt_dev_folio(priv, 0)), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQU(fx->log.r[0].pfn, zt_dev_pfn(priv, 0));
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(zt_dev_folio(priv, 0)), 0);

	ZT_EQ(zd_zone_device_folio_init(zt_dev_folio(dax, 0), &dax->pgmap, ZD_PMD_ORDER), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	zt_reports_clear(&fx->log);
	/* A page of another pgmap. */
	ZT_EQ(zd_zone_device_folio_init(zt_dev_folio(dax, 0), &priv->pgmap, 0), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	zt_reports_clear(&fx->log);
	/* A tail page of a compound fs-dax folio. */
	ZT_EQ(zd_device_folio_activate((struct zd_folio *)zt_dev_page(dax, 5)), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(zt_dev_folio(dax, 0)), 0);

	/* A RAM folio is no device folio. */
	ram = zd_folio_alloc(fx->sys, 0, 0);
	ZT_TRUE(ram != NULL);
	ZT_EQ(zd_device_folio_activate(ram), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQU(fx->log.r[0].pfn, zd_folio_pfn(ram));
	ZT_EQ(fx->log.r[0].mem_type, 0);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(ram), 1);
	zd_folio_put(ram);

	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(dax);
	zt_dev_destroy(priv);
	zt_expect_no_reports(&fx->log);
}

/*
 * R1.12: destroying a machine whose pgmaps are still registered (one with
 * a page held) and with a RAM folio still allocated: zd_system_leak_check
 * and zd_system_destroy report each, with the held page's pfn and count.
 */
static void test_teardown_held(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_reports *log = calloc(1, sizeof(*log));
	struct zt_dev *held = calloc(1, sizeof(*held)), *idle = calloc(1, sizeof(*idle));
	const struct zd_report *r = NULL;
	struct zd_system *sys;
	struct zd_folio *ram;
	int n;

	ZT_TRUE(log && held && idle);
	sys = zt_system_create(log, fx->v->scheme, ZD_CHECK_CHEAP, 0);
	zt_dev_create(held, sys, type, 2 * MiB, 0);
	zt_dev_create(idle, sys, type, 2 * MiB, 0);
	ZT_EQ(zt_dev_alloc(held, 4, 0), 0);
	zd_folio_get(zt_dev_folio(held, 4));
	ram = zd_folio_alloc(sys, 0, 0);
	ZT_TRUE(ram != NULL);
	zt_expect_no_reports(log);

	n = zd_system_leak_check(sys);
	ZT_EQ(n, 3);
	ZT_EQ(log->nr, 3);
	ZT_EQ(zt_reports_count(log, ZD_MISUSE_LEAK), 1);
	ZT_EQ(zt_reports_count(log, ZD_MISUSE_TEARDOWN_HELD), 2);
	for (int i = 0; i < log->nr; i++) {
		if (log->r[i].kind == ZD_MISUSE_LEAK) {
			ZT_EQU(log->r[i].pfn, zd_folio_pfn(ram));
			ZT_EQ(log->r[i].mem_type, 0);
			ZT_EQ(log->r[i].refcount, 1);
		} else if (log->r[i].pfn == zt_dev_pfn(held, 4)) {
			r = &log->r[i];
		} else {
			ZT_TRUE(log->r[i].pfn >= zt_dev_pfn(idle, 0) &&
				log->r[i].pfn < zt_dev_pfn(idle, idle->nr_pages));
		}
	}
	if (!r) {
		zt_reports_print(log);
		fail_msg("no TEARDOWN_HELD report for the held page %#lx", zt_dev_pfn(held, 4));
	}
	ZT_EQ(r->mem_type, (int)type);
	ZT_EQ(r->refcount, zt_free_ref(type, fx->v->scheme) + 2);
	ZT_TRUE(r->flags & ZD_PG_BIT(ZD_PG_zone_device));
	zt_reports_clear(log);

	/* zd_system_destroy reports the same, then reclaims everything. */
	held->registered = idle->registered = false;
	held->region = idle->region = false;
	zd_system_destroy(sys);
	ZT_EQ(zt_reports_count(log, ZD_MISUSE_TEARDOWN_HELD), 2);
	ZT_EQ(zt_reports_count(log, ZD_MISUSE_LEAK), 1);
	zt_dev_destroy(held);
	zt_dev_destroy(idle);
	free(held);
	free(idle);
	free(log);
}

/* A pgmap whose teardown timed out (killed, a page held) is reported at destroy. */
static void test_teardown_timed_out(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_reports *log = calloc(1, sizeof(*log));
	struct zt_dev *d = calloc(1, sizeof(*d));
	struct zd_system *sys;

	ZT_TRUE(log && d);
	sys = zt_system_create(log, fx->v->scheme, ZD_CHECK_CHEAP, 0);
	zt_dev_create(d, sys, fx->v->type, 2 * MiB, 0);
	ZT_EQ(zt_dev_alloc(d, 0, 0), 0);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 10 * 1000000ull), -ETIMEDOUT);
	zt_expect_no_reports(log);
	d->registered = d->region = false;
	zd_system_destroy(sys);
	ZT_EQ(log->nr, 1);
	ZT_EQ(log->r[0].kind, ZD_MISUSE_TEARDOWN_HELD);
	ZT_EQU(log->r[0].pfn, zt_dev_pfn(d, 0));
	ZT_EQ(log->r[0].refcount, zt_free_ref(fx->v->type, fx->v->scheme) + 1);
	zt_dev_destroy(d);
	free(d);
	free(log);
}

/*
 * memunmap_pages twice, or on a pgmap whose memremap_pages failed, is a
 * misuse (Linux would kill a dead percpu_ref and WARN): reported with
 * -EINVAL, nothing torn down twice.
 */
static void test_memunmap_pages_not_registered(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0], *e = &fx->dev[1];
	const struct zd_report *r;

	zt_dev_create(d, fx->sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0);
	d->registered = false;
	zd_memunmap_pages(&d->pgmap);
	zt_expect_no_reports(&fx->log);
	zd_memunmap_pages(&d->pgmap);		/* again */
	ZT_EQ(fx->log.nr, 1);
	r = &fx->log.r[0];
	ZT_EQ(r->kind, ZD_MISUSE_BAD_STATE);
	ZT_TRUE(strstr(r->what, "memunmap_pages of a pgmap that is not registered") != NULL);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_memunmap_pages_timeout(&d->pgmap, 0), -EINVAL);
	ZT_EQ(zt_reports_count(&fx->log, ZD_MISUSE_BAD_STATE), 1);
	zt_reports_clear(&fx->log);

	/* A pgmap whose registration failed (its range overlaps a live one). */
	zt_dev_create(e, fx->sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0);
	e->registered = false;
	{
		struct zd_dev_pagemap bad = e->pgmap;

		memset(&bad, 0, sizeof(bad));
		bad.type = e->pgmap.type;
		bad.ops = e->pgmap.ops;
		bad.owner = e->pgmap.owner;
		bad.nr_range = 1;
		bad.ranges[0] = e->pgmap.ranges[0];
		ZT_NE(zd_memremap_pages(fx->sys, &bad), 0);
		zt_expect_no_reports(&fx->log);
		ZT_EQ(zd_memunmap_pages_timeout(&bad, 0), -EINVAL);
		ZT_EQ(zt_reports_count(&fx->log, ZD_MISUSE_BAD_STATE), 1);
		zt_reports_clear(&fx->log);
	}
	zd_memunmap_pages(&e->pgmap);
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_put_free_ram),
		ZT_TEST_ALL(test_put_free_device),
		ZT_TEST_V(test_double_free, private_zero),
		ZT_TEST_V(test_double_free, coherent_zero),
		ZT_TEST_V(test_double_free, p2pdma_zero),
		ZT_TEST_V(test_double_free, private_one),
		ZT_TEST_V(test_double_free, coherent_one),
		ZT_TEST_V(test_double_free, p2pdma_one),
		ZT_TEST_V(test_get_free_fsdax, fsdax_zero),
		ZT_TEST_V(test_init_in_use, private_zero),
		ZT_TEST_V(test_init_in_use, coherent_zero),
		ZT_TEST_V(test_init_in_use, fsdax_zero),
		ZT_TEST_V(test_init_in_use, p2pdma_zero),
		ZT_TEST_V(test_init_in_use, private_one),
		ZT_TEST_V(test_init_in_use, coherent_one),
		ZT_TEST_V(test_init_in_use, fsdax_one),
		ZT_TEST_V(test_init_in_use, p2pdma_one),
		ZT_TEST(test_wrong_path),
		ZT_TEST_ALL(test_teardown_held),
		ZT_TEST_V(test_teardown_timed_out, private_zero),
		ZT_TEST_V(test_teardown_timed_out, coherent_zero),
		ZT_TEST_V(test_teardown_timed_out, p2pdma_zero),
		ZT_TEST(test_memunmap_pages_not_registered),
	};

	return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
