// SPDX-License-Identifier: MIT
/*
 * test_memremap - dev_pagemap registration and teardown (semantics §1).
 *
 * For each of the five pgmap types, in both refcount schemes:
 * memremap_pages validation (R1.1-R1.5: missing ops, nr_range 0,
 * vmemmap_shift too large, misaligned ranges -> -EINVAL), conflicts
 * (R1.8: a range overlapping a live pgmap or another range of the same
 * pgmap -> -ENOMEM, a range in System RAM -> -ENXIO), a successful
 * registration whose every page is free at the scheme's free refcount
 * (R3.2, L1), compound memmaps (§1.8), and memunmap_pages after which the
 * pfns have neither memmap nor pgmap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)

static enum zd_memory_type vtype(void **state)
{
	return ZT_FX(state)->v->type;
}

/* A failed zd_memremap_pages leaves nothing registered behind (R1.7). */
static void assert_not_registered(struct zt_fixture *fx, struct zt_dev *d)
{
	struct zd_system_stats st;

	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, 0)), NULL);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, d->nr_pages - 1)), NULL);
	ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, zt_dev_pfn(d, 0)), NULL);
	zd_system_get_stats(fx->sys, &st);
	ZT_EQ(st.pgmaps, 0);
}

/* Try a registration: expect @want; on success tear it down again. */
static void try_register(struct zt_fixture *fx, struct zt_dev *d, int want)
{
	int err = zd_memremap_pages(fx->sys, &d->pgmap);

	if (err != want)
		fail_msg("zd_memremap_pages(%s, ops=%p owner=%p nr_range=%d shift=%u): %d, want %d",
			 zd_memory_type_name((int)d->pgmap.type), (const void *)d->pgmap.ops,
			 d->pgmap.owner, d->pgmap.nr_range, d->pgmap.vmemmap_shift, err, want);
	if (err) {
		assert_not_registered(fx, d);
		/* Linux WARNs here; whether the model reports it is not ours to fix. */
		zt_reports_clear(&fx->log);
		return;
	}
	ZT_TRUE(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, 0)) != NULL);
	zd_memunmap_pages(&d->pgmap);
	assert_not_registered(fx, d);
}

/* R1.3-R1.5: which ops and owner each type needs. */
static void test_validate_ops(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = vtype(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_dev_pagemap_ops none, no_free, no_migrate, page_free_only;
	bool needs_free = type == ZD_MEMORY_DEVICE_PRIVATE || type == ZD_MEMORY_DEVICE_COHERENT ||
			  type == ZD_MEMORY_DEVICE_PCI_P2PDMA;
	bool needs_migrate = type == ZD_MEMORY_DEVICE_PRIVATE;
	bool needs_owner = type == ZD_MEMORY_DEVICE_PRIVATE || type == ZD_MEMORY_DEVICE_COHERENT;

	memset(&none, 0, sizeof(none));
	no_free = zt_ops_folio_free;
	no_free.folio_free = NULL;
	no_migrate = zt_ops_folio_free;
	no_migrate.migrate_to_ram = NULL;
	page_free_only = zt_ops_page_free;	/* the pre-6.x name, with migrate_to_ram */

	zt_dev_prepare(d, fx->sys, type, 2 * MiB, 0);

	d->pgmap.ops = NULL;
	try_register(fx, d, needs_free ? -EINVAL : 0);
	d->pgmap.ops = &none;
	try_register(fx, d, needs_free ? -EINVAL : 0);
	d->pgmap.ops = &no_free;
	try_register(fx, d, needs_free ? -EINVAL : 0);
	d->pgmap.ops = &no_migrate;
	try_register(fx, d, needs_migrate ? -EINVAL : 0);
	d->pgmap.ops = &page_free_only;
	try_register(fx, d, 0);
	d->pgmap.ops = &zt_ops_folio_free;
	d->pgmap.owner = NULL;
	try_register(fx, d, needs_owner ? -EINVAL : 0);
	d->pgmap.owner = d;
	try_register(fx, d, 0);
}

/* R1.1, R1.2 and range alignment: -EINVAL before anything is set up. */
static void test_validate_geometry(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	struct zd_range good;

	zt_dev_prepare(d, fx->sys, vtype(state), 4 * MiB, 0);
	good = d->pgmap.ranges[0];

	d->pgmap.nr_range = 0;
	try_register(fx, d, -EINVAL);
	d->pgmap.nr_range = 1;

	d->pgmap.vmemmap_shift = ZD_MAX_FOLIO_ORDER + 1;
	try_register(fx, d, -EINVAL);
	d->pgmap.vmemmap_shift = 0;

	/* Not 2 MiB aligned at the start, at the end, or both by a page. */
	d->pgmap.ranges[0].start = good.start + ZD_PAGE_SIZE;
	try_register(fx, d, -EINVAL);
	d->pgmap.ranges[0].start = good.start;
	d->pgmap.ranges[0].end = good.end - ZD_PAGE_SIZE;
	try_register(fx, d, -EINVAL);
	d->pgmap.ranges[0].start = good.start + ZD_PAGE_SIZE;
	d->pgmap.ranges[0].end = good.end + ZD_PAGE_SIZE;
	try_register(fx, d, -EINVAL);
	/* end before start */
	d->pgmap.ranges[0].start = good.start + 2 * MiB;
	d->pgmap.ranges[0].end = good.start + 2 * MiB - ZD_PAGE_SIZE - 1;
	try_register(fx, d, -EINVAL);
	d->pgmap.ranges[0] = good;

	/* A 4 MiB folio (order 10) does not fit a 2 MiB-aligned 2 MiB range. */
	d->pgmap.vmemmap_shift = 10;
	d->pgmap.ranges[0].end = good.start + 2 * MiB - 1;
	try_register(fx, d, -EINVAL);
	d->pgmap.ranges[0] = good;
	/* ... but does fit the 4 MiB one, which zt_dev_prepare aligned to 2 MiB only. */
	if (good.start % (4 * MiB) == 0)
		try_register(fx, d, 0);
	d->pgmap.vmemmap_shift = 0;

	/* altmap is not modelled: refused, not ignored (STYLE 8). */
	d->pgmap.flags = ZD_PGMAP_ALTMAP_VALID;
	try_register(fx, d, -EOPNOTSUPP);
	d->pgmap.flags = 0;

	try_register(fx, d, 0);
}

/* R1.8: -ENXIO for System RAM, -ENOMEM for a conflicting mapping. */
static void test_conflicts(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	enum zd_memory_type type = vtype(state);
	struct zt_dev *a = &fx->dev[0], *b = &fx->dev[1];
	uint64_t ram = zd_system_options(fx->sys)->ram_size;
	struct zd_dev_pagemap *found;

	zt_dev_create(a, fx->sys, type, 4 * MiB, 0);
	zt_dev_prepare(b, fx->sys, type, 4 * MiB, 0);

	/* Entirely inside RAM, and straddling its end. */
	b->pgmap.ranges[0].start = 0;
	b->pgmap.ranges[0].end = 2 * MiB - 1;
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENXIO);
	b->pgmap.ranges[0].start = ram - 2 * MiB;
	b->pgmap.ranges[0].end = ram + 2 * MiB - 1;
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENXIO);
	zt_reports_clear(&fx->log);

	/* Overlapping a's upper half, a exactly, a's lower half from below. */
	b->pgmap.ranges[0].start = a->start + 2 * MiB;
	b->pgmap.ranges[0].end = a->start + 6 * MiB - 1;
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENOMEM);
	b->pgmap.ranges[0] = a->pgmap.ranges[0];
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENOMEM);
	if (a->start >= ram + 2 * MiB) {
		b->pgmap.ranges[0].start = a->start - 2 * MiB;
		b->pgmap.ranges[0].end = a->start + 2 * MiB - 1;
		ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENOMEM);
	}
	/* The second range of b overlapping a, the first one free. */
	b->pgmap.nr_range = 2;
	b->pgmap.ranges[0].start = b->start;
	b->pgmap.ranges[0].end = b->start + 2 * MiB - 1;
	b->pgmap.ranges[1].start = a->start;
	b->pgmap.ranges[1].end = a->start + 2 * MiB - 1;
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENOMEM);
	/* Two ranges of b overlapping each other. */
	b->pgmap.ranges[0].start = b->start;
	b->pgmap.ranges[0].end = b->start + 4 * MiB - 1;
	b->pgmap.ranges[1].start = b->start + 2 * MiB;
	b->pgmap.ranges[1].end = b->start + 4 * MiB - 1;
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), -ENOMEM);
	zt_reports_clear(&fx->log);

	/* None of that disturbed a, and b's own range is still free. */
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(b, 0)), NULL);
	for (unsigned long i = 0; i < a->nr_pages; i++) {
		struct zd_page *p = zt_dev_page(a, i);

		ZT_PTR_EQ(zd_page_pgmap(p), &a->pgmap);
		ZT_EQ(zd_page_ref_count(p), zt_free_ref(type, fx->v->scheme));
	}
	found = zd_get_dev_pagemap(fx->sys, zt_dev_pfn(a, a->nr_pages - 1));
	ZT_PTR_EQ(found, &a->pgmap);
	zd_put_dev_pagemap(found);

	/* Adjacent, not overlapping: fine, as two ranges of one pgmap. */
	b->pgmap.ranges[0].start = b->start;
	b->pgmap.ranges[0].end = b->start + 2 * MiB - 1;
	b->pgmap.ranges[1].start = b->start + 2 * MiB;
	b->pgmap.ranges[1].end = b->start + 4 * MiB - 1;
	ZT_EQ(zd_memremap_pages(fx->sys, &b->pgmap), 0);
	b->registered = true;
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(b);
	zt_dev_destroy(a);
	zt_expect_no_reports(&fx->log);
}

/* Expected live pgmap references after registration (R1.8, L1). */
static long expected_pgmap_refs(const struct zt_variant *v, unsigned long nr_folios)
{
	if (v->scheme == ZD_SCHEME_ZERO && zt_type_inits(v->type))
		return 1;
	return 1 + (long)nr_folios;
}

static void check_free_page(struct zt_fixture *fx, struct zd_dev_pagemap *pgmap,
			    unsigned long pfn)
{
	struct zd_page *p = zd_pfn_to_page(fx->sys, pfn);
	struct zd_folio *f;

	if (!p)
		fail_msg("no page for pfn %#lx", pfn);
	f = zd_page_folio(p);
	ZT_PTR_EQ(f, p);
	ZT_EQU(zd_page_to_pfn(p), pfn);
	ZT_TRUE(zd_is_zone_device_page(p));
	ZT_PTR_EQ(zd_page_pgmap(p), pgmap);
	ZT_PTR_EQ(zd_page_system(p), fx->sys);
	ZT_EQ(zd_folio_ref_count(f), zt_free_ref(fx->v->type, fx->v->scheme));
	ZT_EQ(zd_page_mapcount(p), 0);
	ZT_EQ(zd_folio_order(f), 0);
	ZT_TRUE(!zd_folio_test_locked(f));
	ZT_TRUE(!zd_page_test_flag(p, ZD_PG_lru));
	ZT_PTR_EQ(p->mapping, NULL);
	ZT_TRUE(zd_pgmap_pfn_valid(pgmap, pfn));
}

/* A good registration with two ranges: every page free at the free refcount. */
static void test_register_free_state(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	const struct zt_variant *v = fx->v;
	struct zt_dev *d = &fx->dev[0];
	struct zd_dev_pagemap *pgmap = &d->pgmap, *got;
	struct zd_system_stats st;
	uint64_t start2;
	unsigned long pfn2;

	zt_dev_prepare(d, fx->sys, v->type, 2 * MiB, 0);
	ZT_EQ(zd_request_free_mem_region(fx->sys, 2 * MiB, 2 * MiB, &start2), 0);
	pgmap->nr_range = 2;
	pgmap->ranges[1].start = start2;
	pgmap->ranges[1].end = start2 + 2 * MiB - 1;
	pfn2 = (unsigned long)(start2 >> ZD_PAGE_SHIFT);

	for (int round = 0; round < 2; round++) {	/* a pgmap can be registered again */
		ZT_EQ(zd_memremap_pages(fx->sys, pgmap), 0);
		d->registered = true;
		ZT_EQU(zd_pgmap_nr_pages(pgmap), 1024);
		ZT_EQU(zd_pgmap_range_pfn(pgmap, 0), zt_dev_pfn(d, 0));
		ZT_EQU(zd_pgmap_range_pfn(pgmap, 1), pfn2);
		ZT_EQ(zd_pgmap_free_refcount(pgmap), zt_free_ref(v->type, v->scheme));
		ZT_EQ(zd_pgmap_ref_count(pgmap), expected_pgmap_refs(v, 1024));
		for (unsigned long i = 0; i < 512; i++) {
			check_free_page(fx, pgmap, zt_dev_pfn(d, i));
			check_free_page(fx, pgmap, pfn2 + i);
		}
		/* Just past the second range. */
		ZT_TRUE(!zd_pgmap_pfn_valid(pgmap, pfn2 + 512));
		ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn2 + 512), NULL);

		got = zd_get_dev_pagemap(fx->sys, pfn2 + 17);
		ZT_PTR_EQ(got, pgmap);
		ZT_EQ(zd_pgmap_ref_count(pgmap), expected_pgmap_refs(v, 1024) + 1);
		zd_put_dev_pagemap(got);
		ZT_EQ(zd_pgmap_ref_count(pgmap), expected_pgmap_refs(v, 1024));

		zd_system_get_stats(fx->sys, &st);
		ZT_EQ(st.pgmaps, 1);
		ZT_EQ(zd_check_invariants(fx->sys), 0);

		zd_memunmap_pages(pgmap);
		d->registered = false;
		for (unsigned long i = 0; i < 512; i += 511) {
			ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, i)), NULL);
			ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn2 + i), NULL);
			ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, zt_dev_pfn(d, i)), NULL);
			ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn2 + i), NULL);
		}
		zd_system_get_stats(fx->sys, &st);
		ZT_EQ(st.pgmaps, 0);
	}
	zd_release_mem_region(fx->sys, start2, 2 * MiB);
	zt_expect_no_reports(&fx->log);
}

/* §1.8: vmemmap_shift = 9 makes order-9 folios: free heads, tails at 0. */
static void test_register_compound(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	const struct zt_variant *v = fx->v;
	struct zt_dev *d = &fx->dev[0];
	int free_ref = zt_free_ref(v->type, v->scheme);

	zt_dev_create(d, fx->sys, v->type, 4 * MiB, ZD_PMD_ORDER);
	ZT_EQU(zd_pgmap_vmemmap_nr(&d->pgmap), 512);
	ZT_EQ(zd_pgmap_ref_count(&d->pgmap), expected_pgmap_refs(v, 2));
	for (unsigned long h = 0; h < d->nr_pages; h += 512) {
		struct zd_folio *head = zt_dev_folio(d, h);

		ZT_PTR_EQ(zd_page_folio(&head->page), head);
		ZT_TRUE(zd_folio_test_large(head));
		ZT_EQ(zd_folio_order(head), ZD_PMD_ORDER);
		ZT_EQU(zd_folio_nr_pages(head), 512);
		ZT_EQ(zd_folio_ref_count(head), free_ref);
		ZT_PTR_EQ(zd_folio_pgmap(head), &d->pgmap);
		for (unsigned long t = 1; t < 512; t++) {
			struct zd_page *tail = zt_dev_page(d, h + t);

			ZT_TRUE(zd_page_is_tail(tail));
			ZT_PTR_EQ(zd_page_folio(tail), head);
			ZT_PTR_EQ(zd_page_pgmap(tail), &d->pgmap);
			ZT_EQ(zd_page_ref_count(tail), 0);
			ZT_EQ(zd_page_count(tail), free_ref);
			ZT_EQU(zd_page_to_pfn(tail), zt_dev_pfn(d, h + t));
		}
	}
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_dev_destroy(d);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, zt_dev_pfn(d, 0)), NULL);
	zt_expect_no_reports(&fx->log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST_ALL(test_validate_ops),
		ZT_TEST_ALL(test_validate_geometry),
		ZT_TEST_ALL(test_conflicts),
		ZT_TEST_ALL(test_register_free_state),
		ZT_TEST_ALL(test_register_compound),
	};

	return cmocka_run_group_tests_name("memremap", tests, NULL, NULL);
}
