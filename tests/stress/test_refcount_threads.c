// SPDX-License-Identifier: MIT
/*
 * test_refcount_threads - folio refcounts under real concurrency.
 *
 * Two threads (plus the main one) doing millions of get/put on shared
 * folios - RAM (order 0 and 9, on the inline path and on the slow path
 * of full checking) and device folios of every type in both schemes -
 * end at exactly the count they started with, and the last put frees
 * exactly once (folio_free once per allocation, R12.3; one buddy free).
 * The last-put race (every thread drops one reference at the same
 * moment) frees exactly once per round. An alloc/free churn through
 * zd_devmem_pool from two threads in both schemes ends with
 * page_free == allocations, and no page is ever handed to two owners
 * (each owner's bytes survive until it puts the page).
 *
 * Loop sizes: 1 << 20 get/put pairs per thread plain, divided under ASan
 * and TSan; ZD_TEST_SCALE=<percent> scales them (helpers.c).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)
#define NR_THREADS 2

/* ---- shared get/put ---- */

struct hammer {
	struct zd_folio **folios;
	int nr_folios;
	unsigned long iters;
	struct zt_barrier *start;
	_Atomic long errors;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;

	zt_barrier_wait(h->start);
	for (unsigned long i = 0; i < h->iters; i++) {
		struct zd_folio *f = h->folios[i % (unsigned long)h->nr_folios];

		zd_folio_get(f);
		if ((i & 7) == 0) {
			/* A lockless lookup's try-get: the folio is held, it cannot fail. */
			if (!zd_folio_try_get(f))
				zd_atomic_fetch_add_relaxed(&h->errors, 1);
			else
				zd_folio_put(f);
		}
		if ((i & 15) == 1) {
			zd_folio_ref_add(f, 3);
			zd_folio_put_refs(f, 3);
		}
		zd_folio_put(f);
	}
	return NULL;
}

/* Run NR_THREADS hammers on @folios (each held once by the caller). */
static long run_hammers(struct zd_folio **folios, int nr, unsigned long iters)
{
	struct zd_thread *t[NR_THREADS];
	struct zt_barrier start;
	struct hammer h = { .folios = folios, .nr_folios = nr, .iters = iters, .start = &start };

	zd_atomic_init(&h.errors, 0l);
	zt_barrier_init(&start, NR_THREADS);
	for (int i = 0; i < NR_THREADS; i++)
		ZT_EQ(zd_thread_create(&t[i], hammer_fn, &h), 0);
	for (int i = 0; i < NR_THREADS; i++)
		zd_thread_join(t[i]);
	return zd_atomic_load_relaxed(&h.errors);
}

static void ram_hammer(enum zd_check_level check, unsigned long iters)
{
	struct zt_reports log = { 0 };
	struct zd_system *sys = zt_system_create(&log, ZD_SCHEME_ZERO, check, 16 * MiB);
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_system_stats st0, st;
	struct zd_folio *f[2];

	zd_system_get_stats(sys, &st0);
	f[0] = zd_folio_alloc(sys, 0, 0);
	f[1] = zd_folio_alloc(sys, 0, ZD_PMD_ORDER);
	ZT_TRUE(f[0] && f[1]);
	ZT_EQ(zd_folio_add_lru(f[1]), 0);
	ZT_EQ(run_hammers(f, 2, iters), 0);
	zt_expect_no_reports(&log);
	for (int i = 0; i < 2; i++) {
		ZT_EQ(zd_folio_ref_count(f[i]), 1);
		if (check == ZD_CHECK_FULL)
			ZT_EQ(zd_shadow_refcount(f[i]), 1);
	}
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.folio_frees, st0.folio_frees);	/* nothing freed under the hammer */
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_folio_put(f[0]);
	zd_folio_put(f[1]);
	zd_system_get_stats(sys, &st);
	ZT_EQU(st.folio_frees, st0.folio_frees + 2);
	ZT_EQU(zd_nr_free_pages(sys), free0);
	ZT_EQU(zd_lru_count(sys, ZD_LRU_INACTIVE), 0);
	zt_system_destroy_clean(sys, &log);
}

/* RAM folios: the inline fast path (check cheap) and the slow path (check full). */
static void test_ram_getput(void **state)
{
	(void)state;
	ram_hammer(ZD_CHECK_CHEAP, zt_iters(1ul << 20, 8));
	ram_hammer(ZD_CHECK_FULL, zt_iters(1ul << 18, 8));
}

/* Device folios of the variant's type and scheme. */
static void test_device_getput(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	int free_ref = zt_free_ref(type, fx->v->scheme);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f[4];
	long base;

	zt_dev_create(d, fx->sys, type, 4 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);
	for (int i = 0; i < 4; i++) {
		ZT_EQ(zt_dev_alloc(d, (unsigned long)i * 3, 0), 0);
		f[i] = zt_dev_folio(d, (unsigned long)i * 3);
	}
	ZT_EQ(run_hammers(f, 4, zt_iters(1ul << 20, 8)), 0);
	zt_expect_no_reports(&fx->log);
	ZT_EQU(zt_dev_nr_free(d), 0);
	for (int i = 0; i < 4; i++) {
		ZT_EQ(zd_folio_ref_count(f[i]), free_ref + 1);
		ZT_EQ(zd_shadow_refcount(f[i]), free_ref + 1);
	}
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	for (int i = 0; i < 4; i++)
		zd_folio_put(f[i]);
	for (int i = 0; i < 4; i++) {
		ZT_EQ(zd_folio_ref_count(f[i]), free_ref);
		ZT_EQU(d->page_frees[i * 3], zt_type_has_folio_free(type) ? 1 : 0);
	}
	ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? 4 : 0);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
}

/* ---- the last-put race ---- */

struct racer {
	struct zd_folio *_Atomic folio;
	struct zt_barrier *barrier;
	unsigned long rounds;
};

static void *racer_fn(void *arg)
{
	struct racer *r = arg;

	for (unsigned long i = 0; i < r->rounds; i++) {
		struct zd_folio *f;

		zt_barrier_wait(r->barrier);		/* the folio is set up */
		f = zd_atomic_load_relaxed(&r->folio);
		if (f)
			zd_folio_put(f);
		zt_barrier_wait(r->barrier);		/* every put done */
	}
	return NULL;
}

/*
 * Each round: hand a folio out, give each thread one reference, drop the
 * allocation's own; the threads drop theirs at once and exactly one of
 * them frees it.
 */
static void test_last_put_race(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	int free_ref = zt_free_ref(type, fx->v->scheme);
	unsigned long rounds = zt_iters(2000, 4);
	struct zt_dev *d = &fx->dev[0];
	struct zd_thread *t[NR_THREADS];
	struct zt_barrier barrier;
	struct zd_system_stats st;
	struct racer r;
	unsigned long bad_round = 0;
	const char *bad_what = "";
	long base, bad_val = 0;

	zt_dev_create(d, fx->sys, type, 2 * MiB, 0);
	base = zd_pgmap_ref_count(&d->pgmap);
	zt_barrier_init(&barrier, NR_THREADS + 1);
	r.barrier = &barrier;
	r.rounds = rounds;
	zd_atomic_init(&r.folio, (struct zd_folio *)NULL);
	for (int i = 0; i < NR_THREADS; i++)
		ZT_EQ(zd_thread_create(&t[i], racer_fn, &r), 0);
	/* No assertion until the threads are joined: they wait on the barrier. */
	for (unsigned long i = 0; i < rounds; i++) {
		unsigned long idx = i % 8;
		struct zd_folio *f = zt_dev_folio(d, idx);
		int err = zt_dev_alloc(d, idx, 0);

		if (err) {
			if (!bad_round)
				bad_round = i + 1, bad_what = "hand out", bad_val = err;
			f = NULL;			/* the threads skip this round */
		} else {
			zd_folio_ref_add(f, NR_THREADS);
			zd_folio_put(f);
		}
		zd_atomic_store_relaxed(&r.folio, f);
		zt_barrier_wait(&barrier);
		zt_barrier_wait(&barrier);
		if (!f)
			continue;
		if (!bad_round && zd_folio_ref_count(f) != free_ref)
			bad_round = i + 1, bad_what = "refcount after the last put",
			bad_val = zd_folio_ref_count(f);
		if (!bad_round && zt_type_has_folio_free(type) && zt_dev_nr_free(d) != i + 1)
			bad_round = i + 1, bad_what = "folio_free calls",
			bad_val = (long)zt_dev_nr_free(d);
	}
	for (int i = 0; i < NR_THREADS; i++)
		zd_thread_join(t[i]);
	if (bad_round)
		fail_msg("round %lu: %s: %ld", bad_round - 1, bad_what, bad_val);
	zd_system_get_stats(fx->sys, &st);
	ZT_EQU(zt_dev_nr_free(d), zt_type_has_folio_free(type) ? rounds : 0);
	ZT_EQU(st.fsdax_wakeups, type == ZD_MEMORY_DEVICE_FS_DAX ? rounds : 0);
	ZT_EQU(st.generic_resets, 0);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), base);
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
}

/* ---- alloc/free churn through the pool ---- */

struct churner {
	struct zd_devmem_pool *pool;
	unsigned long iters;
	unsigned long id;
	struct zt_barrier *start;
	int free_ref;
	unsigned long allocs, enomem, errors, corrupt;
};

static void *churn_fn(void *arg)
{
	struct churner *c = arg;

	zt_barrier_wait(c->start);
	for (unsigned long i = 0; i < c->iters; i++) {
		unsigned long stamp[2] = { c->id, i };
		struct zd_folio *f;
		unsigned char *p;
		int err = zd_devmem_pool_alloc(c->pool, 0, &f);

		if (err == -ENOMEM) {		/* the other thread holds the rest */
			c->enomem++;
			sched_yield();
			continue;
		}
		if (err) {
			c->errors++;
			continue;
		}
		c->allocs++;
		if (zd_folio_ref_count(f) != c->free_ref + 1)
			c->errors++;
		/* Our bytes stay ours until we put the page. */
		p = zd_page_address(&f->page);
		memcpy(p, stamp, sizeof(stamp));
		if ((i & 3) == 0) {
			zd_folio_get(f);
			sched_yield();
			zd_folio_put(f);
		}
		if (memcmp(p, stamp, sizeof(stamp)))
			c->corrupt++;
		zd_folio_put(f);
	}
	return NULL;
}

static void test_pool_churn(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = fx->v->type;
	struct zd_devmem_pool *pool = NULL;
	struct churner c[NR_THREADS];
	struct zd_thread *t[NR_THREADS];
	struct zt_barrier start;
	struct zd_devmem_stats st;
	unsigned long allocs = 0;

	/* A small pool, so that both threads reuse the same pages all the time. */
	ZT_EQ(zd_devmem_pool_create(fx->sys, type, 2 * MiB, 0, &pool), 0);
	zt_barrier_init(&start, NR_THREADS);
	for (int i = 0; i < NR_THREADS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].pool = pool;
		c[i].iters = zt_iters(1ul << 16, 4);
		c[i].id = (unsigned long)i + 1;
		c[i].start = &start;
		c[i].free_ref = zt_free_ref(type, fx->v->scheme);
		ZT_EQ(zd_thread_create(&t[i], churn_fn, &c[i]), 0);
	}
	/* Join them all before any assertion: a failed one must not free what they use. */
	for (int i = 0; i < NR_THREADS; i++)
		zd_thread_join(t[i]);
	for (int i = 0; i < NR_THREADS; i++) {
		ZT_EQU(c[i].errors, 0);
		ZT_EQU(c[i].corrupt, 0);
		ZT_EQU(c[i].enomem, 0);
		ZT_EQU(c[i].allocs, c[i].iters);
		allocs += c[i].allocs;
	}
	zt_expect_no_reports(&fx->log);
	zd_devmem_pool_stats(pool, &st);
	ZT_EQU(st.allocated, 0);
	ZT_EQU(st.page_free, zt_type_has_folio_free(type) ? allocs : 0);
	ZT_EQU(st.wakeups, type == ZD_MEMORY_DEVICE_FS_DAX ? allocs : 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	ZT_EQ(zd_devmem_pool_destroy(pool, 5000000000ull), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_getput),
		ZT_TEST_ALL(test_device_getput),
		ZT_TEST_ALL(test_last_put_race),
		ZT_TEST_ALL(test_pool_churn),
	};

	return cmocka_run_group_tests_name("refcount_threads", tests, NULL, NULL);
}
