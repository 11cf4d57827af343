// SPDX-License-Identifier: MIT
/*
 * test_check - zd_check_invariants (semantics §12.1) and the leak check.
 *
 * A healthy machine - every pgmap type registered, pages handed out and
 * referenced, RAM folios on the LRU - passes at every checker level and
 * in both schemes. Deliberately broken states are found and reported as
 * ZD_MISUSE_INVARIANT with the page: a refcount written behind the API's
 * back (the full level's shadow count, and R12.2 for a free RAM page), a
 * pgmap reference imbalance (R12.4), a device folio flagged on an LRU
 * (R12.5). ZD_CHECK_OFF checks nothing: the same broken states go
 * unreported there, reported at cheap or full as their cost allows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "mm/internal.h"

#define MiB (1ull << 20)

static const enum zd_memory_type all_types[] = {
	ZD_MEMORY_DEVICE_PRIVATE, ZD_MEMORY_DEVICE_COHERENT, ZD_MEMORY_DEVICE_FS_DAX,
	ZD_MEMORY_DEVICE_GENERIC, ZD_MEMORY_DEVICE_PCI_P2PDMA,
};
#define NR_TYPES 5

struct busy_machine {
	struct zt_reports log;
	struct zd_system *sys;
	struct zt_dev dev[NR_TYPES];
	struct zd_folio *ram[3];
};

/* Every type registered, two folios of each handed out, one with an extra get. */
static void busy_machine_create(struct busy_machine *m, enum zd_scheme scheme,
				enum zd_check_level check)
{
	memset(m, 0, sizeof(*m));
	m->sys = zt_system_create(&m->log, scheme, check, 0);
	for (int t = 0; t < NR_TYPES; t++) {
		struct zt_dev *d = &m->dev[t];

		zt_dev_create(d, m->sys, all_types[t], 2 * MiB, 0);
		ZT_EQ(zt_dev_alloc(d, 1, 0), 0);
		ZT_EQ(zt_dev_alloc(d, 2, 0), 0);
		zd_folio_get(zt_dev_folio(d, 2));
	}
	for (int i = 0; i < 3; i++) {
		m->ram[i] = zd_folio_alloc(m->sys, 0, (unsigned int)i * 3);
		ZT_TRUE(m->ram[i] != NULL);
	}
	ZT_EQ(zd_folio_add_lru(m->ram[0]), 0);
	ZT_EQ(zd_folio_add_lru(m->ram[1]), 0);
	zd_folio_get(m->ram[2]);
}

static void busy_machine_destroy(struct busy_machine *m)
{
	for (int t = 0; t < NR_TYPES; t++) {
		struct zt_dev *d = &m->dev[t];

		zd_folio_put(zt_dev_folio(d, 1));
		zd_folio_put_refs(zt_dev_folio(d, 2), 2);
	}
	zd_folio_put(m->ram[0]);
	zd_folio_put(m->ram[1]);
	zd_folio_put_refs(m->ram[2], 2);
	ZT_EQ(zd_check_invariants(m->sys), 0);
	for (int t = 0; t < NR_TYPES; t++)
		zt_dev_destroy(&m->dev[t]);
	zt_system_destroy_clean(m->sys, &m->log);
}

static void healthy(enum zd_scheme scheme, enum zd_check_level check)
{
	struct busy_machine *m = calloc(1, sizeof(*m));

	ZT_TRUE(m != NULL);
	busy_machine_create(m, scheme, check);
	if (zd_check_invariants(m->sys)) {
		zt_reports_print(&m->log);
		fail_msg("a healthy %s-scheme machine failed its invariants at level %d",
			 scheme == ZD_SCHEME_ZERO ? "zero" : "one", (int)check);
	}
	zt_expect_no_reports(&m->log);
	busy_machine_destroy(m);
	free(m);
}

static void test_healthy(void **state)
{
	(void)state;
	/* Levels that check something: at ZD_CHECK_OFF "no report" would prove nothing. */
	for (int s = ZD_SCHEME_ZERO; s <= ZD_SCHEME_ONE; s++)
		for (int c = ZD_CHECK_CHEAP; c <= ZD_CHECK_FULL; c++)
			healthy((enum zd_scheme)s, (enum zd_check_level)c);
}

/* One invariant report about @pfn in the log, which is then cleared. */
static void expect_invariant(struct zt_reports *log, int found, unsigned long pfn, int type)
{
	const struct zd_report *r = NULL;

	for (int i = 0; i < log->nr && i < ZT_MAX_REPORTS; i++)
		if (log->r[i].kind == ZD_MISUSE_INVARIANT && log->r[i].pfn == pfn)
			r = &log->r[i];
	if (found < 1 || found != log->nr || !r || r->mem_type != type) {
		zt_reports_print(log);
		fail_msg("expected an invariant report for pfn %#lx (%s), found %d", pfn,
			 zd_memory_type_name(type), found);
	}
	if (!r->rule || !r->rule[0])
		fail_msg("invariant report without a rule: %s", r->what);
	zt_reports_clear(log);
}

/* Full level: a RAM folio's count written directly no longer matches its shadow. */
static void test_shadow_ram(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *f = zd_folio_alloc(fx->sys, 0, 0);
	int found;

	ZT_TRUE(f != NULL);
	zd_folio_get(f);
	ZT_EQ(zd_shadow_refcount(f), 2);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_atomic_store_relaxed(&f->page._refcount, 5);		/* behind the API's back */
	found = zd_check_invariants(fx->sys);
	expect_invariant(&fx->log, found, zd_folio_pfn(f), 0);
	ZT_EQ(fx->log.nr, 0);
	zd_atomic_store_relaxed(&f->page._refcount, 2);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folio_put_refs(f, 2);
	ZT_EQ(zd_shadow_refcount(f), 0);
}

/* Full level, device page: same, for an allocated device-private page. */
static void test_shadow_device(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_folio *f;
	int found;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	f = zt_dev_folio(d, 6);
	ZT_EQ(zt_dev_alloc(d, 6, 0), 0);
	zd_folio_get(f);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_atomic_store_relaxed(&f->page._refcount, zd_folio_ref_count(f) + 1);
	found = zd_check_invariants(fx->sys);
	expect_invariant(&fx->log, found, zt_dev_pfn(d, 6), (int)fx->v->type);
	zd_atomic_store_relaxed(&f->page._refcount, zd_folio_ref_count(f) - 1);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folio_put_refs(f, 2);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
}

/* R12.2: a free RAM page with a reference (cheap level: no shadow needed). */
static void test_free_page_referenced(void **state)
{
	struct zt_reports log;
	struct zd_system *sys;
	struct zd_folio *f;
	unsigned long pfn;
	int found;

	(void)state;
	memset(&log, 0, sizeof(log));
	sys = zt_system_create(&log, ZD_SCHEME_ZERO, ZD_CHECK_CHEAP, 8 * MiB);
	f = zd_folio_alloc(sys, 0, ZD_MAX_PAGE_ORDER);	/* a whole free block of its own */
	ZT_TRUE(f != NULL);
	pfn = zd_folio_pfn(f);
	zd_folio_put(f);
	ZT_EQ(zd_shadow_refcount(f), -1);		/* no shadow below full */
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_atomic_store_relaxed(&zd_pfn_to_page(sys, pfn)->_refcount, 1);
	found = zd_check_invariants(sys);
	expect_invariant(&log, found, pfn, 0);
	zd_atomic_store_relaxed(&zd_pfn_to_page(sys, pfn)->_refcount, 0);
	ZT_EQ(zd_check_invariants(sys), 0);
	zt_system_destroy_clean(sys, &log);
}

/* R12.4: a zd_get_dev_pagemap never put back is an imbalance at a quiescent point. */
static void test_pgmap_ref_imbalance(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_dev_pagemap *got;
	int found;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	ZT_EQ(zt_dev_alloc(d, 0, 0), 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	got = zd_get_dev_pagemap(fx->sys, zt_dev_pfn(d, 100));
	ZT_PTR_EQ(got, &d->pgmap);
	found = zd_check_invariants(fx->sys);
	ZT_EQ(found, 1);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQ(fx->log.r[0].kind, ZD_MISUSE_INVARIANT);
	ZT_EQ(fx->log.r[0].mem_type, (int)fx->v->type);
	ZT_TRUE(strcmp(fx->log.r[0].rule, "R12.4") == 0);
	zt_reports_clear(&fx->log);
	zd_put_dev_pagemap(got);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_folio_put(zt_dev_folio(d, 0));
	zt_dev_destroy(d);
}

/* R12.5: a device folio flagged as on an LRU. */
static void test_device_flagged_lru(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_page *p;
	int found;

	zt_dev_create(d, fx->sys, fx->v->type, 2 * MiB, 0);
	p = zt_dev_page(d, 77);
	zd_page_set_flag(p, ZD_PG_lru);
	found = zd_check_invariants(fx->sys);
	expect_invariant(&fx->log, found, zt_dev_pfn(d, 77), (int)fx->v->type);
	zd_page_clear_flag(p, ZD_PG_lru);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
}

/*
 * The same two broken states at each level. A RAM folio flagged PG_lru on
 * no LRU list (R12.5: the flags against the lists' counts) is a cheap check; a refcount written
 * behind the API's back shows only against the full level's shadow count.
 * ZD_CHECK_OFF looks at neither: no report, though the state is still
 * there to see.
 */
static void check_level_sees(enum zd_check_level check)
{
	struct zt_reports log;
	struct zd_system *sys;
	struct zd_folio *f, *g;
	int found;

	memset(&log, 0, sizeof(log));
	sys = zt_system_create(&log, ZD_SCHEME_ZERO, check, 8 * MiB);
	f = zd_folio_alloc(sys, 0, 0);
	g = zd_folio_alloc(sys, 0, 0);
	ZT_TRUE(f != NULL && g != NULL);
	ZT_EQ(zd_check_invariants(sys), 0);

	zd_page_set_flag(&f->page, ZD_PG_lru);	/* flagged, on no list */
	found = zd_check_invariants(sys);
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_lru));
	if (check == ZD_CHECK_OFF) {
		ZT_EQ(found, 0);
		zt_expect_no_reports(&log);
	} else {
		/* a count against the LRU lists, so no page named */
		ZT_EQ(found, 1);
		ZT_EQ(log.nr, 1);
		ZT_EQ(log.r[0].kind, ZD_MISUSE_INVARIANT);
		ZT_TRUE(strcmp(log.r[0].rule, "R12.5") == 0);
		zt_reports_clear(&log);
	}
	zd_page_clear_flag(&f->page, ZD_PG_lru);
	ZT_EQ(zd_check_invariants(sys), 0);

	zd_atomic_store_relaxed(&g->page._refcount, 5);		/* behind the API's back */
	found = zd_check_invariants(sys);
	ZT_EQ(zd_folio_ref_count(g), 5);
	if (check == ZD_CHECK_FULL) {
		expect_invariant(&log, found, zd_folio_pfn(g), 0);
	} else {
		ZT_EQ(found, 0);
		zt_expect_no_reports(&log);
	}
	zd_atomic_store_relaxed(&g->page._refcount, 1);
	ZT_EQ(zd_check_invariants(sys), 0);

	zd_folio_put(f);
	zd_folio_put(g);
	zt_system_destroy_clean(sys, &log);
}

static void test_check_levels(void **state)
{
	(void)state;
	for (int c = ZD_CHECK_OFF; c <= ZD_CHECK_FULL; c++)
		check_level_sees((enum zd_check_level)c);
}

/* The leak check itself: 0 on a clean machine, a count after a leak. */
static void test_leak_check(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *f;

	ZT_EQ(zd_system_leak_check(fx->sys), 0);
	f = zd_folio_alloc(fx->sys, 0, 4);
	ZT_TRUE(f != NULL);
	ZT_EQ(zd_system_leak_check(fx->sys), 1);
	zt_expect_report(&fx->log, ZD_MISUSE_LEAK, zd_folio_pfn(f), 0);
	zt_reports_clear(&fx->log);
	zd_folio_put(f);
	ZT_EQ(zd_system_leak_check(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * folio_mapcount() against the page tables (full level): a mapcount larger
 * than the entries that map the folio - in a forked child too - is found;
 * so is one smaller. The checker walks every live mm.
 */
static void test_folio_mapcount_vs_page_tables(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mm *mm, *child = NULL;
	unsigned long addr = 0;
	struct zd_folio *folio;
	zd_pte_t e = 0;
	int level = 0, found;

	ZT_EQ(zd_mm_create(fx->sys, &mm), 0);
	ZT_EQ(zd_mmap(mm, 0, ZD_PAGE_SIZE, ZD_PROT_READ | ZD_PROT_WRITE,
		      ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0, 0, &addr), 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, true), 0);
	ZT_EQ(zd_follow_entry(mm, addr, &e, &level), 1);
	folio = zd_pfn_folio(fx->sys, zd_pte_pfn(e));
	ZT_TRUE(folio != NULL);
	ZT_EQ(zd_fork(mm, &child), 0);
	ZT_EQ(zd_folio_mapcount(folio), 2);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* one mapcount (and its reference) more than the two entries */
	zd_folio_get(folio);
	_zd_folio_add_rmap(folio, &folio->page, ZD_LVL_PTE);
	found = zd_check_invariants(fx->sys);
	expect_invariant(&fx->log, found, zd_folio_pfn(folio), 0);
	_zd_folio_remove_rmap(folio, &folio->page, ZD_LVL_PTE);
	zd_folio_put(folio);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* the child gone, its entry too: a mapcount it left behind is found */
	zd_mm_destroy(child);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	_zd_folio_add_rmap(folio, &folio->page, ZD_LVL_PTE);
	zd_folio_get(folio);
	found = zd_check_invariants(fx->sys);
	expect_invariant(&fx->log, found, zd_folio_pfn(folio), 0);
	_zd_folio_remove_rmap(folio, &folio->page, ZD_LVL_PTE);
	zd_folio_put(folio);

	/* one mapcount fewer than the entries */
	_zd_folio_remove_rmap(folio, &folio->page, ZD_LVL_PTE);
	found = zd_check_invariants(fx->sys);
	expect_invariant(&fx->log, found, zd_folio_pfn(folio), 0);
	_zd_folio_add_rmap(folio, &folio->page, ZD_LVL_PTE);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_mm_destroy(mm);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_healthy),
		ZT_TEST(test_shadow_ram),
		ZT_TEST_V(test_shadow_device, private_zero),
		ZT_TEST_V(test_shadow_device, fsdax_zero),
		ZT_TEST_V(test_shadow_device, generic_zero),
		ZT_TEST_V(test_shadow_device, p2pdma_one),
		ZT_TEST(test_free_page_referenced),
		ZT_TEST_ALL(test_pgmap_ref_imbalance),
		ZT_TEST_ALL(test_device_flagged_lru),
		ZT_TEST(test_check_levels),
		ZT_TEST(test_leak_check),
		ZT_TEST(test_folio_mapcount_vs_page_tables),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
