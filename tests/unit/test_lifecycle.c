// SPDX-License-Identifier: MIT
/*
 * test_lifecycle - a device folio's life, per pgmap type and per scheme
 * (semantics §3, §11, §13).
 *
 * Hand out (zone_device_folio_init for PRIVATE/COHERENT, activation for
 * FS_DAX/GENERIC/P2PDMA, or through zd_devmem_pool), get, put; the last
 * put calls the driver's folio_free exactly once with that folio while
 * the pgmap is still referenced (R3.8, R12.3), or wakes an fs-dax waiter
 * (R10.8), or leaves a GENERIC page at its idle 1 with no callback
 * (R11.4); the page can be handed out again. Compound folios (a
 * vmemmap_shift=9 pgmap, and a dynamic order-9 folio on a base-page
 * PRIVATE pgmap) free once, through their head (R3.9), and a freed
 * order-9 folio's page 1 reused at order 0 is a proper page of its own
 * (R3.5, R12.13, bug B9). The batched put ends in the same free (B2).
 */
#include <errno.h>
#include <stdlib.h>

#include "helpers.h"

#define MiB (1ull << 20)

static int free_ref(struct zt_fixture *fx)
{
	return zt_free_ref(fx->v->type, fx->v->scheme);
}

/* pgmap references a handed-out folio of @nr pages holds (R3.4, R11.1; none in legacy). */
static long alloc_pgmap_refs(struct zt_fixture *fx, unsigned long nr)
{
	if (fx->v->scheme == ZD_SCHEME_ONE)
		return 0;
	return zt_type_has_folio_free(fx->v->type) ? (long)nr : 0;
}

/* ---- an fs-dax waiter thread (dax_break_layout) ---- */

struct waiter {
	struct zd_folio *folio;
	_Atomic int started, done;
	int ret;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	zd_atomic_store_release(&w->started, 1);
	w->ret = zd_wait_fsdax_idle(w->folio, 10ull * 1000000000ull);
	zd_atomic_store_release(&w->done, 1);
	return NULL;
}

static struct zd_thread *start_waiter(struct waiter *w, struct zd_folio *folio)
{
	struct zd_thread *t = NULL;

	w->folio = folio;
	zd_atomic_init(&w->started, 0);
	zd_atomic_init(&w->done, 0);
	w->ret = -1;
	/* Not idle yet: a bounded wait times out. */
	ZT_EQ(zd_wait_fsdax_idle(folio, 20 * 1000000ull), -ETIMEDOUT);
	ZT_EQ(zd_thread_create(&t, waiter_fn, w), 0);
	while (!zd_atomic_load_acquire(&w->started))
		zt_sleep_ms(1);
	zt_sleep_ms(20);
	ZT_EQ(zd_atomic_load_acquire(&w->done), 0);	/* still blocked */
	return t;
}

/* Hand out, get, put, last put, per type; twice on the same page. */
static void test_alloc_get_put_free(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	const unsigned long idx = 5;
	struct zd_system_stats st;
	static int mapping_cookie;
	long base;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);

	for (unsigned long round = 0; round < 2; round++) {
		struct zd_folio *folio = zt_dev_folio(d, idx);
		struct zd_thread *t = NULL;
		struct waiter w;

		if (zt_type_inits(type)) {
			/* R3.5: refcount 1 (legacy: 2) and locked. */
			ZT_EQ(zd_zone_device_folio_init(folio, &d->pgmap, 0), 0);
			ZT_TRUE(zd_folio_test_locked(folio));
			zd_folio_unlock(folio);
		} else {
			ZT_EQ(zd_device_folio_activate(folio), 0);
		}
		ZT_EQ(zd_folio_ref_count(folio), free_ref(fx) + 1);
		ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base + alloc_pgmap_refs(fx, 1));
		ZT_EQ(zd_shadow_refcount(folio), free_ref(fx) + 1);
		ZT_EQ(zd_check_invariants(fx->sys), 0);

		zd_folio_get(folio);
		ZT_EQ(zd_folio_ref_count(folio), free_ref(fx) + 2);
		zd_folio_put(folio);
		ZT_EQ(zd_folio_ref_count(folio), free_ref(fx) + 1);
		ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? round : 0);
		ZT_EQ(zd_check_invariants(fx->sys), 0);

		/* A user's mapping: cleared at free except fs-dax and dax (R3.7, B1). */
		folio->page.mapping = &mapping_cookie;
		if (type == ZD_MEMORY_DEVICE_FS_DAX)
			t = start_waiter(&w, folio);

		zd_folio_put(folio);		/* the last one */

		ZT_EQ(zd_folio_ref_count(folio), free_ref(fx));
		ZT_EQ(zd_shadow_refcount(folio), free_ref(fx));
		ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
		zd_system_get_stats(fx->sys, &st);
		if (zt_type_has_folio_free(type)) {
			/* R12.3: exactly once, with this folio, pgmap still referenced (R3.8). */
			ZT_EQU(zt_dev_nr_free(d), round + 1);
			ZT_EQU(d->page_frees[idx], round + 1);
			ZT_PTR_EQ(zd_atomic_load_relaxed(&d->last_free), folio);
			ZT_EQ(zd_atomic_load_relaxed(&d->count_at_free), free_ref(fx));
			ZT_EQ(zd_atomic_load_relaxed(&d->ref_at_free),
			      base + alloc_pgmap_refs(fx, 1));
			ZT_EQU(st.device_frees, round + 1);
			ZT_PTR_EQ(folio->page.mapping, NULL);
		} else {
			ZT_EQU(zt_dev_nr_free(d), 0);
			ZT_EQU(st.device_frees, 0);
			ZT_PTR_EQ(folio->page.mapping, &mapping_cookie);
			folio->page.mapping = NULL;
		}
		if (type == ZD_MEMORY_DEVICE_FS_DAX) {
			zd_thread_join(t);
			ZT_EQ(w.ret, 0);		/* the waiter was woken (R10.8) */
			ZT_EQU(st.fsdax_wakeups, round + 1);
			ZT_EQ(zd_wait_fsdax_idle(folio, 1000000ull), 0);
		} else {
			ZT_EQU(st.fsdax_wakeups, 0);
		}
		/* GENERIC: back at its idle 1 without ever reaching 0 (R11.4). */
		ZT_EQU(st.generic_resets, 0);
		ZT_TRUE(!zd_folio_test_locked(folio));
		ZT_EQ(zd_check_invariants(fx->sys), 0);
	}
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/* The same life through zd_devmem_pool, and its exhaustion. */
static void test_pool_lifecycle(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zd_devmem_pool *pool = NULL;
	struct zd_devmem_stats st;
	struct zd_folio *f, *again, **all;
	unsigned long expect_frees;
	unsigned char *seen;

	ZT_EQ(zd_devmem_pool_create(fx->sys, type, 2 * MiB, 0, &pool), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &f), 0);
	ZT_PTR_EQ(zd_folio_pgmap(f), zd_devmem_pool_pgmap(pool));
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx) + 1);
	ZT_TRUE(!zd_folio_test_locked(f));
	zd_devmem_pool_stats(pool, &st);
	ZT_EQU(st.nr_pages, 512);
	ZT_EQU(st.allocated, 1);
	ZT_EQU(st.free, 511);
	zd_folio_get(f);
	zd_folio_put(f);
	zd_devmem_pool_stats(pool, &st);
	ZT_EQU(st.page_free, 0);
	zd_folio_put(f);
	ZT_EQ(zd_folio_ref_count(f), free_ref(fx));
	zd_devmem_pool_stats(pool, &st);
	expect_frees = zt_type_has_folio_free(type) ? 1 : 0;
	ZT_EQU(st.page_free, expect_frees);
	ZT_EQU(st.wakeups, type == ZD_MEMORY_DEVICE_FS_DAX ? 1 : 0);
	ZT_EQU(st.allocated, 0);

	/* Handed out again (whichever page the pool picks). */
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &again), 0);
	ZT_EQ(zd_folio_ref_count(again), free_ref(fx) + 1);
	zd_folio_put(again);
	expect_frees += zt_type_has_folio_free(type) ? 1 : 0;

	/* Exhaust: 512 distinct pages, the freed ones among them, then -ENOMEM. */
	all = calloc(512, sizeof(*all));
	seen = calloc(512, 1);
	ZT_TRUE(all && seen);
	for (int i = 0; i < 512; i++) {
		unsigned long off;

		ZT_EQ(zd_devmem_pool_alloc(pool, 0, &all[i]), 0);
		ZT_EQ(zd_folio_ref_count(all[i]), free_ref(fx) + 1);
		off = zd_folio_pfn(all[i]) - zd_pgmap_range_pfn(zd_devmem_pool_pgmap(pool), 0);
		ZT_TRUE(off < 512);
		ZT_EQ(seen[off], 0);
		seen[off] = 1;
	}
	ZT_EQ(seen[zd_folio_pfn(f) - zd_pgmap_range_pfn(zd_devmem_pool_pgmap(pool), 0)], 1);
	ZT_EQ(seen[zd_folio_pfn(again) - zd_pgmap_range_pfn(zd_devmem_pool_pgmap(pool), 0)], 1);
	free(seen);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &f), -ENOMEM);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folios_put_refs(all, NULL, 512);
	expect_frees += zt_type_has_folio_free(type) ? 512 : 0;
	free(all);
	zd_devmem_pool_stats(pool, &st);
	ZT_EQU(st.page_free, expect_frees);
	ZT_EQU(st.allocated, 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000000000ull), 0);
	zt_expect_no_reports(&fx->log);
}

/* A compound pool (vmemmap_shift=9): order-9 folios out and back, and unbind completes. */
static void test_pool_compound(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zd_devmem_pool *pool = NULL;
	struct zd_devmem_stats st;
	struct zd_folio *a, *b, *c;

	ZT_EQ(zd_devmem_pool_create(fx->sys, type, 4 * MiB, ZD_PMD_ORDER, &pool), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &c), -EINVAL);	/* order must be the shift */
	ZT_EQ(zd_devmem_pool_alloc(pool, ZD_PMD_ORDER, &a), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, ZD_PMD_ORDER, &b), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, ZD_PMD_ORDER, &c), -ENOMEM);
	ZT_TRUE(a != b);
	ZT_EQ(zd_folio_order(a), ZD_PMD_ORDER);
	ZT_EQ(zd_folio_ref_count(b), free_ref(fx) + 1);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_put_page(zd_folio_page(a, 17));
	zd_folio_put(b);
	zd_devmem_pool_stats(pool, &st);
	ZT_EQU(st.allocated, 0);
	ZT_EQU(st.page_free, zt_type_has_folio_free(type) ? 2 : 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	/* Every folio is back: unbind must not wait (R12.4: references balanced). */
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000000000ull), 0);
	zt_expect_no_reports(&fx->log);
}

/* A vmemmap_shift=9 pgmap: gets and puts through tail pages, one free through the head. */
static void test_compound_free_once(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *head;
	struct zd_system_stats st;
	long base;

	zt_dev_create(d, fx->sys, type, 4 * MiB, ZD_PMD_ORDER);
	base = zd_pgmap_ref_count(&d->pgmap);
	head = zt_dev_folio(d, 512);
	ZT_EQ(zt_dev_alloc(d, 512, ZD_PMD_ORDER), 0);
	ZT_EQ(zd_folio_ref_count(head), free_ref(fx) + 1);
	ZT_EQ(zd_folio_order(head), ZD_PMD_ORDER);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base + alloc_pgmap_refs(fx, 512));
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	zd_get_page(zt_dev_page(d, 512 + 100));
	ZT_EQ(zd_folio_ref_count(head), free_ref(fx) + 2);
	ZT_EQ(zd_page_count(zt_dev_page(d, 512 + 511)), free_ref(fx) + 2);
	ZT_EQ(zd_page_ref_count(zt_dev_page(d, 512 + 100)), 0);
	zd_put_page(zt_dev_page(d, 512 + 200));
	ZT_EQ(zd_folio_ref_count(head), free_ref(fx) + 1);
	ZT_EQU(zt_dev_nr_free(d), 0);
	zd_put_page(zt_dev_page(d, 512 + 300));	/* the last one, through a tail */

	ZT_EQ(zd_folio_ref_count(head), free_ref(fx));
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	zd_system_get_stats(fx->sys, &st);
	if (zt_type_has_folio_free(type)) {
		ZT_EQU(zt_dev_nr_free(d), 1);
		ZT_PTR_EQ(zd_atomic_load_relaxed(&d->last_free), head);
		ZT_EQU(d->page_frees[512], 1);
		ZT_EQ(zd_atomic_load_relaxed(&d->ref_at_free), base + alloc_pgmap_refs(fx, 512));
	} else {
		ZT_EQU(zt_dev_nr_free(d), 0);
	}
	ZT_EQU(st.fsdax_wakeups, type == ZD_MEMORY_DEVICE_FS_DAX ? 1 : 0);
	ZT_EQU(st.generic_resets, 0);
	/* Still one order-9 folio: the tails still belong to the head. */
	ZT_EQ(zd_folio_order(head), ZD_PMD_ORDER);
	ZT_PTR_EQ(zd_page_folio(zt_dev_page(d, 512 + 7)), head);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* And it can be handed out again. */
	ZT_EQ(zt_dev_alloc(d, 512, ZD_PMD_ORDER), 0);
	zd_folio_put(head);
	ZT_EQ(zd_folio_ref_count(head), free_ref(fx));
	ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? 2 : 0);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/*
 * A dynamic order-9 device-private folio on a base-page pgmap (R3.2,
 * R3.9), freed once through its head; then its page 1 reused at order 0
 * (bug B9): a page of its own, with the right pgmap and order.
 */
static void test_dynamic_order9_and_b9(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *head, *p1, *p0, *p2;
	long base;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);
	head = zt_dev_folio(d, 0);

	/* Misaligned: refused, reported, nothing changed. */
	ZT_EQ(zd_zone_device_folio_init(zt_dev_folio(d, 1), &d->pgmap, ZD_PMD_ORDER), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQU(fx->log.r[0].pfn, zt_dev_pfn(d, 1));
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	ZT_EQ(zd_page_ref_count(zt_dev_page(d, 1)), 0);

	ZT_EQ(zd_zone_device_folio_init(head, &d->pgmap, ZD_PMD_ORDER), 0);
	ZT_TRUE(zd_folio_test_locked(head));
	zd_folio_unlock(head);
	ZT_EQ(zd_folio_ref_count(head), 1);
	ZT_TRUE(zd_folio_test_large(head));
	ZT_EQ(zd_folio_order(head), ZD_PMD_ORDER);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base + 512);
	for (unsigned long t = 1; t < 512; t++) {
		struct zd_page *tail = zt_dev_page(d, t);

		ZT_PTR_EQ(zd_page_folio(tail), head);
		ZT_PTR_EQ(zd_page_pgmap(tail), &d->pgmap);
		ZT_EQU(zd_page_to_pfn(tail), zt_dev_pfn(d, t));
	}
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	zd_get_page(zt_dev_page(d, 256));
	zd_put_page(zt_dev_page(d, 1));
	zd_put_page(zt_dev_page(d, 511));
	ZT_EQU(zt_dev_nr_free(d), 1);
	ZT_PTR_EQ(zd_atomic_load_relaxed(&d->last_free), head);
	ZT_EQ(zd_atomic_load_relaxed(&d->ref_at_free), base + 512);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	ZT_EQ(zd_folio_ref_count(head), 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* B9: page 1 of the freed folio handed out at order 0. */
	p1 = zt_dev_folio(d, 1);
	ZT_EQ(zd_zone_device_folio_init(p1, &d->pgmap, 0), 0);
	zd_folio_unlock(p1);
	ZT_TRUE(!zd_page_is_tail(&p1->page));
	ZT_PTR_EQ(zd_page_folio(&p1->page), p1);
	ZT_EQ(zd_folio_order(p1), 0);
	ZT_TRUE(!zd_folio_test_large(p1));
	ZT_PTR_EQ(zd_folio_pgmap(p1), &d->pgmap);
	ZT_PTR_EQ(zd_page_pgmap(&p1->page), &d->pgmap);
	ZT_EQU(zd_page_to_pfn(&p1->page), zt_dev_pfn(d, 1));
	ZT_EQ(zd_folio_ref_count(p1), 1);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base + 1);
	/* (the checker's view of this state is test_b9_invariants) */

	/* Pages 0 and 2 too: each its own order-0 folio. */
	p0 = head;
	p2 = zt_dev_folio(d, 2);
	ZT_EQ(zd_zone_device_folio_init(p0, &d->pgmap, 0), 0);
	zd_folio_unlock(p0);
	ZT_EQ(zd_zone_device_folio_init(p2, &d->pgmap, 0), 0);
	zd_folio_unlock(p2);
	ZT_EQ(zd_folio_order(p0), 0);
	ZT_PTR_EQ(zd_page_folio(&p2->page), p2);
	ZT_PTR_EQ(zd_page_pgmap(&p2->page), &d->pgmap);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base + 3);
	ZT_EQ(zd_check_invariants(fx->sys), 0);	/* no order-9 head left over them */

	zd_folio_put(p1);
	ZT_PTR_EQ(zd_atomic_load_relaxed(&d->last_free), p1);
	zd_folio_put(p0);
	zd_folio_put(p2);
	ZT_EQU(zt_dev_nr_free(d), 4);
	ZT_EQU(d->page_frees[0], 2);
	ZT_EQU(d->page_frees[1], 1);
	ZT_EQU(d->page_frees[2], 1);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* And order 9 again over the mixed remains: every page re-initialised. */
	ZT_EQ(zd_zone_device_folio_init(head, &d->pgmap, ZD_PMD_ORDER), 0);
	zd_folio_unlock(head);
	ZT_PTR_EQ(zd_page_folio(zt_dev_page(d, 1)), head);
	ZT_PTR_EQ(zd_page_folio(zt_dev_page(d, 2)), head);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folio_put(head);
	ZT_EQU(zt_dev_nr_free(d), 5);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/*
 * B9 again, as the checker sees it: after page 1 of a freed order-9
 * folio is handed out at order 0 the system is healthy (R12.4: one page
 * allocated, one pgmap reference), so zd_check_invariants finds nothing.
 */
static void test_b9_invariants(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *head, *p1;
	int found;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	head = zt_dev_folio(d, 0);
	ZT_EQ(zd_zone_device_folio_init(head, &d->pgmap, ZD_PMD_ORDER), 0);
	zd_folio_unlock(head);
	zd_folio_put(head);
	ZT_EQU(zt_dev_nr_free(d), 1);

	p1 = zt_dev_folio(d, 1);
	ZT_EQ(zd_zone_device_folio_init(p1, &d->pgmap, 0), 0);
	zd_folio_unlock(p1);
	found = zd_check_invariants(fx->sys);
	if (found)
		zt_reports_print(&fx->log);
	zt_reports_clear(&fx->log);
	zd_folio_put(p1);		/* clean up before asserting */
	ZT_EQ(found, 0);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/* Legacy (L5): no large device-private folios on a base-page pgmap. */
static void test_legacy_no_dynamic_order9(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *head;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	head = zt_dev_folio(d, 0);
	ZT_EQ(zd_zone_device_folio_init(head, &d->pgmap, ZD_PMD_ORDER), -EINVAL);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQU(fx->log.r[0].pfn, zt_dev_pfn(d, 0));
	ZT_EQ(fx->log.r[0].mem_type, fx->v->type);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(head), 1);
	ZT_TRUE(!zd_folio_test_large(head));
	ZT_TRUE(!zd_folio_test_locked(head));
	/* Order 0 is fine. */
	ZT_EQ(zt_dev_alloc(d, 0, 0), 0);
	ZT_EQ(zd_folio_ref_count(head), 2);
	zd_folio_put(head);
	ZT_EQU(zt_dev_nr_free(d), 1);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/* B2: every put variant ends in exactly one free per folio. */
static void test_batched_put(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *folios[4];
	int refs[4] = { 3, 1, 1, 1 };
	struct zd_system_stats st;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	for (int i = 0; i < 3; i++) {
		ZT_EQ(zt_dev_alloc(d, 10 + (unsigned long)i, 0), 0);
		folios[i] = zt_dev_folio(d, 10 + (unsigned long)i);
	}
	folios[3] = NULL;			/* skipped */
	zd_folio_ref_add(folios[0], 2);
	ZT_EQ(zd_folio_ref_count(folios[0]), free_ref(fx) + 3);
	zd_folios_put_refs(folios, refs, 4);
	zd_system_get_stats(fx->sys, &st);
	for (int i = 0; i < 3; i++) {
		ZT_EQ(zd_folio_ref_count(folios[i]), free_ref(fx));
		ZT_EQU(d->page_frees[10 + i], zt_type_has_folio_free(type) ? 1 : 0);
	}
	ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? 3 : 0);
	ZT_EQU(st.fsdax_wakeups, type == ZD_MEMORY_DEVICE_FS_DAX ? 3 : 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/* R11.4: a device-dax page that reaches 0 is set back to 1, no callback, no report. */
static void test_generic_reset(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f;
	struct zd_system_stats st;

	zt_dev_create(d, fx->sys, ZD_MEMORY_DEVICE_GENERIC, 2 * MiB, 0);
	f = zt_dev_folio(d, 3);
	ZT_EQ(zd_folio_ref_count(f), 1);
	zd_folio_put(f);			/* the idle reference itself */
	ZT_EQ(zd_folio_ref_count(f), 1);
	zd_system_get_stats(fx->sys, &st);
	ZT_EQU(st.generic_resets, 1);
	ZT_EQU(zt_dev_nr_free(d), 0);
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
}

/* The pre-6.x page_free op is called instead when folio_free is absent. */
static void test_page_free_op(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];

	zt_dev_prepare(d, fx->sys, fx->v->type, 2 * MiB, 0);
	d->pgmap.ops = &zt_ops_page_free;
	ZT_EQ(zd_memremap_pages(fx->sys, &d->pgmap), 0);
	d->registered = true;
	ZT_EQ(zt_dev_alloc(d, 7, 0), 0);
	zd_folio_put(zt_dev_folio(d, 7));
	ZT_EQU(zt_dev_nr_free(d), 1);
	ZT_PTR_EQ(zd_atomic_load_relaxed(&d->last_free), zt_dev_folio(d, 7));
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

/*
 * fs/dax.c (dax_folio_init, dax_insert_entry): an fs-dax block owned by a
 * file system stays at its idle count; only a user (a DAX fault's
 * temporary reference, GUP) raises it. The stand-in hand-out is that
 * user's reference: no association, no init counted or traced.
 */
static void test_dax_folio_user_reference(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_system_stats st;
	struct zd_folio *folio;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	folio = zt_dev_folio(d, 5);
	ZT_EQ(zd_folio_ref_count(folio), free_ref(fx));
	ZT_EQ(zd_device_folio_activate(folio), 0);
	ZT_EQ(zd_folio_ref_count(folio), free_ref(fx) + 1);
	ZT_PTR_EQ(folio->page.mapping, NULL);
	ZT_EQU(zd_atomic_load_relaxed(&d->pgmap.nr_inits), 0);
	zd_system_get_stats(fx->sys, &st);
	ZT_EQU(st.device_inits, 0);
	zd_folio_put(folio);
	ZT_EQ(zd_folio_ref_count(folio), free_ref(fx));
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
	zt_expect_no_reports(&fx->log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST_ALL(test_alloc_get_put_free),
		ZT_TEST_ALL(test_pool_lifecycle),
		ZT_TEST_ALL(test_compound_free_once),
		ZT_TEST_ALL(test_pool_compound),
		ZT_TEST_ALL(test_batched_put),
		ZT_TEST_V(test_dynamic_order9_and_b9, private_zero),
		ZT_TEST_V(test_dynamic_order9_and_b9, coherent_zero),
		ZT_TEST_V(test_b9_invariants, private_zero),
		ZT_TEST_V(test_b9_invariants, coherent_zero),
		ZT_TEST_V(test_legacy_no_dynamic_order9, private_one),
		ZT_TEST_V(test_legacy_no_dynamic_order9, coherent_one),
		ZT_TEST_V(test_generic_reset, generic_zero),
		ZT_TEST_V(test_dax_folio_user_reference, fsdax_zero),
		ZT_TEST_V(test_dax_folio_user_reference, fsdax_one),
		ZT_TEST_V(test_page_free_op, private_zero),
		ZT_TEST_V(test_page_free_op, coherent_one),
		ZT_TEST_V(test_page_free_op, p2pdma_zero),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
