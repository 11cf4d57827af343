// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_migrate_device.c - migrate_vma and migrate_device
 * (mm/migrate_device.c, semantics §8) with a small driver of the test's
 * own (migrate_device_drv.h): round trips RAM -> device-private -> RAM
 * through migrate_to_ram, 4 KiB and THP (whole, and split in collect,
 * in the fault and in migrate_vma_pages); device-coherent destinations;
 * pinned and GUP-referenced pages; holes and the zero page; other owners;
 * the -EINVAL cases of R8.1; eviction of a whole device with
 * migrate_device_range. Each test checks the invariants (full level)
 * after every step and ends with every device page freed exactly once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "migrate_device_drv.h"
#include <zonedev/check.h>
#include <zonedev/gup.h>
#include <zonedev/mm.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define MiB (1ul << 20)
#define SEL_SYS ZD_MIGRATE_VMA_SELECT_SYSTEM
#define SEL_PRIV ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE
#define SEL_COH ZD_MIGRATE_VMA_SELECT_DEVICE_COHERENT
#define SEL_COMPOUND ZD_MIGRATE_VMA_SELECT_COMPOUND

#define CHECK(sys) ZT_EQ(zd_check_invariants(sys), 0)

/* The byte pattern of page @i of a test's range. */
static void fill(unsigned char *buf, unsigned long i)
{
	for (unsigned long b = 0; b < PG; b++)
		buf[b] = (unsigned char)(i * 31 + b * 7 + 1);
}

static void write_pattern(struct zd_mm *mm, unsigned long a, unsigned long i)
{
	unsigned char buf[PG];

	fill(buf, i);
	ZT_EQ(zd_cpu_write(mm, a, buf, PG), 0);
}

static void expect_pattern_bytes(const void *p, unsigned long i)
{
	unsigned char want[PG];

	fill(want, i);
	ZT_TRUE(memcmp(p, want, PG) == 0);
}

/* Read through the MMU (faulting device-private pages back) and compare. */
static void expect_pattern(struct zd_mm *mm, unsigned long a, unsigned long i)
{
	unsigned char got[PG];

	ZT_EQ(zd_cpu_read(mm, a, got, PG), 0);
	expect_pattern_bytes(got, i);
}

/* Pages 0, @step, 2 * @step ... below @n of the range at @a get their patterns. */
static void write_patterns(struct zd_mm *mm, unsigned long a, unsigned long n, unsigned long step)
{
	for (unsigned long i = 0; i < n; i += step)
		write_pattern(mm, a + i * PG, i);
}

/* Those pages read back (through the MMU) with their patterns. */
static void expect_patterns(struct zd_mm *mm, unsigned long a, unsigned long n, unsigned long step)
{
	for (unsigned long i = 0; i < n; i += step)
		expect_pattern(mm, a + i * PG, i);
}

/* td_migrate_to_dev of [a, end): @moved entries migrate, @collected were collected. */
static void migrate_expect(struct tdrv *t, struct zd_mm *mm, unsigned long a, unsigned long end,
			   unsigned long flags, long moved, unsigned long collected)
{
	unsigned long cpages = ~0ul;	/* set by a setup that succeeds */

	ZT_EQ(td_migrate_to_dev(t, mm, a, end, flags, &cpages), moved);
	ZT_EQU(cpages, collected);
}

/* The end of a test: the range unmapped, the invariants hold, the device goes. */
static void unmap_and_destroy(struct tdrv *t, struct zd_mm *mm, unsigned long a,
			      unsigned long size)
{
	ZT_EQ(zd_munmap(mm, a, size), 0);
	CHECK(t->d.sys);
	td_destroy(t);
}

/* The device-private page an entry names (asserting it is one). */
static struct zd_page *dp_page(struct zd_mm *mm, unsigned long a, bool *writable)
{
	zd_pte_t e = zt_entry_at(mm, a, NULL);

	ZT_TRUE(zd_is_device_private_entry(e));
	if (writable)
		*writable = zd_is_writable_device_private_entry(e);
	return zd_pfn_to_page(zd_mm_system(mm), zd_swp_offset(e));
}

/*
 * RAM -> device-private -> RAM, small pages.
 *
 *   before:  [P0][P1][P2][P3][P4][P5][--][--]   P = RAM page, -- = hole
 *   device:  [D0][D1][D2][D3][D4][D5][Dz][Dz]   D = device-private entry
 *   after:   [R0][R1][R2][R3][R4][R5][Rz][Rz]   R = new RAM page (faulted back)
 */
static void test_roundtrip_small(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 8 * PG);
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	write_patterns(mm, a, 6, 1);
	CHECK(sys);
	migrate_expect(&t, mm, a, a + 8 * PG, SEL_SYS, 8, 8);
	CHECK(sys);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 8);
	for (unsigned long i = 0; i < 8; i++) {
		bool w = false;
		struct zd_page *p = dp_page(mm, a + i * PG, &w);
		struct zd_folio *f = zd_page_folio(p);

		ZT_TRUE(w);	/* VM_WRITE */
		ZT_EQ(zd_folio_ref_count(f), 1);	/* the entry's; the allocation's is gone */
		ZT_EQ(zd_folio_mapcount(f), 1);
		ZT_TRUE(!zd_folio_test_locked(f));
		ZT_TRUE(zd_folio_test_anon(f));
		if (i < 6)
			expect_pattern_bytes(zd_page_address(p), i);	/* the device copy */
		else
			ZT_TRUE(((unsigned char *)zd_page_address(p))[100] == 0);
	}
	/* The CPU faults them back, one by one, through migrate_to_ram. */
	for (unsigned long i = 0; i < 6; i++) {
		expect_pattern(mm, a + i * PG, i);
		ZT_TRUE(zd_pte_present(zt_entry_at(mm, a + i * PG, NULL)));
		CHECK(sys);
	}
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram), 6);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 2);
	unmap_and_destroy(&t, mm, a, 8 * PG);
}

/* The same in the legacy scheme: the idle reference is expected (5.x). */
static void test_roundtrip_small_legacy(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 4 * PG);
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	write_patterns(mm, a, 4, 1);
	ZT_EQ(td_migrate_to_dev(&t, mm, a, a + 4 * PG, SEL_SYS, NULL), 4);
	CHECK(sys);
	expect_patterns(mm, a, 4, 1);
	CHECK(sys);
	ZT_EQ(zd_munmap(mm, a, 4 * PG), 0);
	td_destroy(&t);
}

/*
 * A PMD-mapped THP with SELECT_COMPOUND moves whole into a large device
 * folio (the model maps it with 512 PTE device-private entries) and
 * comes back whole on one CPU fault.
 *
 *   before:  [ THP, one PMD leaf               ]
 *   device:  [ D0 D1 ... D511: one order-9 device folio, 512 PTE entries ]
 *   after:   [ R0 R1 ... R511: one order-9 RAM folio, 512 PTEs ]
 */
static void test_roundtrip_thp(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_thp(mm, ZD_PMD_SIZE);
	struct zd_folio *thp, *dev, *back;
	int lvl = 0;
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 4 * MiB);
	write_patterns(mm, a, 512, 37);
	thp = zt_folio_at(mm, a, &lvl);
	ZT_EQ(lvl, ZD_LVL_PMD);
	ZT_EQ(zd_folio_order(thp), ZD_PMD_ORDER);

	migrate_expect(&t, mm, a, a + ZD_PMD_SIZE, SEL_SYS | SEL_COMPOUND, 1, 1);
	CHECK(sys);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 512);
	dev = zd_page_folio(dp_page(mm, a, NULL));
	ZT_EQ(zd_folio_order(dev), ZD_PMD_ORDER);
	ZT_EQ(zd_folio_mapcount(dev), 512);
	for (unsigned long i = 0; i < 512; i++)
		ZT_PTR_EQ(dp_page(mm, a + i * PG, NULL), zd_folio_page(dev, i));
	for (unsigned long i = 0; i < 512; i += 37)
		expect_pattern_bytes(zd_page_address(zd_folio_page(dev, i)), i);

	/* One fault in the middle brings all of it back. */
	expect_pattern(mm, a + 37 * 5 * PG, 37 * 5);
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram), 1);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 0);
	back = zt_folio_at(mm, a, NULL);
	ZT_EQ(zd_folio_order(back), ZD_PMD_ORDER);
	ZT_TRUE(!zd_folio_is_zone_device(back));
	expect_patterns(mm, a, 512, 37);
	CHECK(sys);
	unmap_and_destroy(&t, mm, a, ZD_PMD_SIZE);
}

/*
 * Without SELECT_COMPOUND, or with a small destination, a large folio is
 * split and migrated per page, in both directions.
 *
 *   RAM THP  --SELECT_SYSTEM-->  512 small device folios (split in collect)
 *   faults of a driver that moves one page: small RAM pages
 *   RAM THP  --COMPOUND-->  one large device folio
 *   its fault, one page moved: split in collect with the fault page
 *   inside it (the fault path's lock and reference follow that page)
 *   large device folio, COMPOUND collect, small destination for entry 0:
 *   split in migrate_vma_pages, the other 511 restored
 */
static void test_thp_split(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_thp(mm, ZD_PMD_SIZE), *src, *dst;
	struct zd_migrate_vma m;
	struct zd_folio *dev;
	int lvl = 0;
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 4 * MiB);
	t.small_to_ram = true;
	write_patterns(mm, a, 512, 51);
	ZT_EQ(zd_folio_order(zt_folio_at(mm, a, &lvl)), ZD_PMD_ORDER);
	ZT_EQ(lvl, ZD_LVL_PMD);

	migrate_expect(&t, mm, a, a + ZD_PMD_SIZE, SEL_SYS, 512, 512);
	CHECK(sys);
	for (unsigned long i = 0; i < 512; i++)
		ZT_EQ(zd_folio_order(zd_page_folio(dp_page(mm, a + i * PG, NULL))), 0);
	expect_patterns(mm, a, 512, 51);
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram), 11);
	CHECK(sys);
	ZT_EQ(zd_munmap(mm, a, ZD_PMD_SIZE), 0);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 0);
	CHECK(sys);

	/* Whole to the device, then one page back: the split happens in the fault. */
	a = zt_map_thp(mm, ZD_PMD_SIZE);
	write_patterns(mm, a, 512, 51);
	ZT_EQ(td_migrate_to_dev(&t, mm, a, a + ZD_PMD_SIZE, SEL_SYS | SEL_COMPOUND, NULL), 1);
	dev = zd_page_folio(dp_page(mm, a, NULL));
	ZT_EQ(zd_folio_order(dev), ZD_PMD_ORDER);
	expect_pattern(mm, a + 102 * PG, 102);	/* the fault page is a tail */
	ZT_TRUE(zd_pte_present(zt_entry_at(mm, a + 102 * PG, NULL)));
	ZT_EQ(zd_folio_order(zd_page_folio(dp_page(mm, a, NULL))), 0);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 511);
	CHECK(sys);
	for (unsigned long i = 0; i < 512; i++) {
		struct zd_folio *f = i == 102 ? zt_folio_at(mm, a + i * PG, NULL) :
				     zd_page_folio(dp_page(mm, a + i * PG, NULL));

		ZT_TRUE(!zd_folio_test_locked(f));
	}
	ZT_EQ(zd_munmap(mm, a, ZD_PMD_SIZE), 0);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 0);
	CHECK(sys);

	/* Whole to the device; collected whole, but only a small destination. */
	a = zt_map_thp(mm, ZD_PMD_SIZE);
	write_patterns(mm, a, 512, 51);
	ZT_EQ(td_migrate_to_dev(&t, mm, a, a + ZD_PMD_SIZE, SEL_SYS | SEL_COMPOUND, NULL), 1);
	src = calloc(512, sizeof(*src));
	dst = calloc(512, sizeof(*dst));
	ZT_TRUE(src && dst);
	m = (struct zd_migrate_vma){ .src = src, .dst = dst, .start = a, .end = a + ZD_PMD_SIZE,
				     .pgmap_owner = &t, .flags = SEL_PRIV | SEL_COMPOUND };
	zd_mmap_read_lock(mm);
	m.vma = zd_vma_lookup(mm, a);
	ZT_EQ(zd_migrate_vma_setup(&m), 0);
	ZT_EQU(m.cpages, 1);
	ZT_TRUE(src[0] & ZD_MIGRATE_PFN_COMPOUND);
	{
		struct zd_folio *ram = td_alloc_ram(sys, 0);

		ZT_TRUE(ram != NULL);
		memcpy(zd_page_address(&ram->page),
		       zd_page_address(zd_migrate_pfn_to_page(sys, src[0])), PG);
		dst[0] = zd_migrate_pfn(zd_folio_pfn(ram)) | ZD_MIGRATE_PFN_WRITE;
	}
	zd_migrate_vma_pages(&m);
	ZT_TRUE(src[0] & ZD_MIGRATE_PFN_MIGRATE);
	ZT_TRUE(!(src[0] & ZD_MIGRATE_PFN_COMPOUND));
	for (unsigned long i = 1; i < 512; i++)
		ZT_TRUE((src[i] & ZD_MIGRATE_PFN_VALID) && !(src[i] & ZD_MIGRATE_PFN_MIGRATE));
	zd_migrate_vma_finalize(&m);
	zd_mmap_read_unlock(mm);
	CHECK(sys);
	ZT_TRUE(zd_pte_present(zt_entry_at(mm, a, NULL)));
	ZT_EQ(zd_folio_order(zd_page_folio(dp_page(mm, a + PG, NULL))), 0);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 511);
	t.small_to_ram = false;
	expect_patterns(mm, a, 512, 51);
	ZT_EQ(zd_munmap(mm, a, ZD_PMD_SIZE), 0);
	CHECK(sys);
	free(src);
	free(dst);
	td_destroy(&t);
}

/* A device-coherent destination is mapped by present PTEs and never on an LRU. */
static void test_coherent_destination(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 4 * PG);
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB);
	write_patterns(mm, a, 3, 1);
	migrate_expect(&t, mm, a, a + 4 * PG, SEL_SYS, 4, 4);
	CHECK(sys);
	for (unsigned long i = 0; i < 4; i++) {
		zd_pte_t e = zt_entry_at(mm, a + i * PG, NULL);
		struct zd_folio *f = zt_folio_at(mm, a + i * PG, NULL);

		ZT_TRUE(zd_pte_present(e) && zd_pte_write(e));
		ZT_TRUE(zd_folio_is_zone_device(f));
		ZT_TRUE(!zd_folio_test_flag(f, ZD_PG_lru));
		ZT_EQ(zd_folio_ref_count(f), 1);
	}
	expect_patterns(mm, a, 3, 1);	/* no fault: the CPU reads device memory */
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram_calls), 0);

	/* Coherent pages of another owner, or without SELECT_COHERENT, stay. */
	{
		struct tdrv other;

		td_create(&other, sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB);
		migrate_expect(&other, mm, a, a + 4 * PG, SEL_COH, 0, 0);
		migrate_expect(&t, mm, a, a + 4 * PG, SEL_SYS, 0, 0);
		CHECK(sys);
		td_destroy(&other);
	}
	/*
	 * Its own owner with SELECT_COHERENT moves them to other pages of t,
	 * but for one with a GUP reference: the unmap step lets it through
	 * (the ZONE_DEVICE tolerance of R8.8, so it counts in cpages), the
	 * reference check of folio_migrate_mapping stops it.
	 */
	{
		struct zd_page *got = NULL;
		struct zd_folio *f1;
		int r1;

		zd_mmap_read_lock(mm);
		ZT_EQ(zd_get_user_pages(mm, a + PG, 1, 0, &got), 1);
		zd_mmap_read_unlock(mm);
		f1 = zd_page_folio(got);
		ZT_TRUE(zd_folio_is_zone_device(f1));
		r1 = zd_folio_ref_count(f1);
		migrate_expect(&t, mm, a, a + 4 * PG, SEL_COH, 3, 4);
		CHECK(sys);
		ZT_PTR_EQ(zt_folio_at(mm, a + PG, NULL), f1);
		ZT_EQ(zd_folio_ref_count(f1), r1);
		ZT_TRUE(!zd_folio_test_locked(f1));
		ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 4);
		zd_put_page(got);
		expect_patterns(mm, a, 3, 1);
	}
	/* A long-term pin migrates the coherent page to RAM (§8.10). */
	{
		struct zd_page *pg = NULL;
		struct zd_folio *f;

		zd_mmap_read_lock(mm);
		ZT_EQ(zd_pin_user_pages(mm, a, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, &pg), 1);
		zd_mmap_read_unlock(mm);
		f = zd_page_folio(pg);
		ZT_TRUE(!zd_folio_is_zone_device(f));
		expect_pattern_bytes(zd_page_address(pg), 0);
		zd_unpin_user_page(pg);
	}
	CHECK(sys);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 3);
	unmap_and_destroy(&t, mm, a, 4 * PG);
}

/*
 * Pages with references nobody expects (R8.8, R8.10) are restored as they
 * were: a FOLL_PIN pin and a plain GUP reference.
 *
 *   before:  [pinned][gup][P2][P3]
 *   after:   [pinned][gup][D2][D3]   cpages 2, src[0] = src[1] = 0
 */
static void test_pinned_not_migrated(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 4 * PG);
	struct zd_page *pin = NULL, *got = NULL;
	struct zd_folio *f0, *f1;
	int r0, r1, m0, m1;
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	write_patterns(mm, a, 4, 1);
	zd_mmap_read_lock(mm);
	ZT_EQ(zd_pin_user_pages(mm, a, 1, ZD_FOLL_WRITE, &pin), 1);
	ZT_EQ(zd_get_user_pages(mm, a + PG, 1, ZD_FOLL_WRITE, &got), 1);
	zd_mmap_read_unlock(mm);
	f0 = zd_page_folio(pin);
	f1 = zd_page_folio(got);
	r0 = zd_folio_ref_count(f0);
	r1 = zd_folio_ref_count(f1);
	m0 = zd_folio_mapcount(f0);
	m1 = zd_folio_mapcount(f1);

	migrate_expect(&t, mm, a, a + 4 * PG, SEL_SYS, 2, 2);
	CHECK(sys);
	ZT_PTR_EQ(zt_folio_at(mm, a, NULL), f0);
	ZT_PTR_EQ(zt_folio_at(mm, a + PG, NULL), f1);
	ZT_EQ(zd_folio_ref_count(f0), r0);
	ZT_EQ(zd_folio_ref_count(f1), r1);
	ZT_EQ(zd_folio_mapcount(f0), m0);
	ZT_EQ(zd_folio_mapcount(f1), m1);
	ZT_TRUE(zd_page_test_flag(pin, ZD_PG_anon_exclusive));	/* a pinned page stays exclusive */
	ZT_TRUE(zd_pte_write(zt_entry_at(mm, a, NULL)));
	ZT_TRUE(!zd_folio_test_locked(f0) && !zd_folio_test_locked(f1));
	ZT_TRUE(zd_folio_test_flag(f0, ZD_PG_lru) && zd_folio_test_flag(f1, ZD_PG_lru));
	dp_page(mm, a + 2 * PG, NULL);
	dp_page(mm, a + 3 * PG, NULL);
	expect_pattern_bytes(zd_page_address(pin), 0);
	expect_pattern_bytes(zd_page_address(got), 1);
	zd_unpin_user_page(pin);
	zd_put_page(got);
	CHECK(sys);
	expect_patterns(mm, a, 4, 1);
	unmap_and_destroy(&t, mm, a, 4 * PG);
}

/*
 * Holes and the zero page (SELECT_SYSTEM) are MIGRATE entries without a
 * page; the zero page without SELECT_SYSTEM is left.
 *
 *   before:  [zero][--][--][P3]
 *   SELECT_DEVICE_PRIVATE only: src = [0][M][M][0]
 *   SELECT_SYSTEM:              src = [M][M][M][M|pfn]
 */
static void test_holes_and_zero_page(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 4 * PG), src[4], dst[4], p3;
	struct zd_migrate_vma m = { .src = src, .dst = dst, .start = a, .end = a + 4 * PG };
	unsigned char c = 1;
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	ZT_EQ(zd_cpu_read(mm, a, &c, 1), 0);	/* the zero page */
	ZT_EQ(c, 0);
	write_pattern(mm, a + 3 * PG, 3);
	ZT_TRUE(zd_pte_special(zt_entry_at(mm, a, NULL)));

	zd_mmap_read_lock(mm);
	m.vma = zd_vma_lookup(mm, a);
	m.pgmap_owner = &t;
	m.flags = SEL_PRIV;
	ZT_EQ(zd_migrate_vma_setup(&m), 0);
	ZT_EQU(m.npages, 4);
	ZT_EQU(m.cpages, 2);
	ZT_EQU(src[0], 0);
	ZT_EQU(src[1], ZD_MIGRATE_PFN_MIGRATE);
	ZT_EQU(src[2], ZD_MIGRATE_PFN_MIGRATE);
	ZT_EQU(src[3], 0);
	/* The driver migrates nothing: the finalize leaves everything as it was. */
	zd_migrate_vma_pages(&m);
	ZT_EQU(src[1], 0);
	zd_migrate_vma_finalize(&m);
	zd_mmap_read_unlock(mm);
	CHECK(sys);

	m.start = a;
	m.end = a + 4 * PG;
	m.flags = SEL_SYS;
	p3 = zd_page_to_pfn(zt_page_at(mm, a + 3 * PG, NULL));
	zd_mmap_read_lock(mm);
	ZT_EQ(zd_migrate_vma_setup(&m), 0);
	ZT_EQU(m.cpages, 4);
	ZT_EQU(src[0], ZD_MIGRATE_PFN_MIGRATE);
	ZT_EQU(src[3], zd_migrate_pfn(p3) | ZD_MIGRATE_PFN_MIGRATE | ZD_MIGRATE_PFN_WRITE);
	ZT_TRUE(zd_is_migration_entry(zt_entry_at(mm, a + 3 * PG, NULL)));
	td_fill_dst(sys, src, dst, 4, td_alloc_dev, &t);
	zd_migrate_vma_pages(&m);
	for (int i = 0; i < 4; i++)
		ZT_TRUE(src[i] & ZD_MIGRATE_PFN_MIGRATE);
	zd_migrate_vma_finalize(&m);
	zd_mmap_read_unlock(mm);
	CHECK(sys);
	for (unsigned long i = 0; i < 4; i++)
		dp_page(mm, a + i * PG, NULL);
	ZT_EQ(zd_cpu_read(mm, a + PG, &c, 1), 0);
	ZT_EQ(c, 0);
	expect_pattern(mm, a + 3 * PG, 3);
	unmap_and_destroy(&t, mm, a, 4 * PG);
}

/* Device-private pages of another owner are skipped (R8.3). */
static void test_other_owner_skipped(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 2 * PG);
	struct tdrv t, u;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	td_create(&u, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	write_pattern(mm, a, 0);
	write_pattern(mm, a + PG, 1);
	ZT_EQ(td_migrate_to_dev(&t, mm, a, a + 2 * PG, SEL_SYS, NULL), 2);
	/* u asks for its own pages: t's are not its own. */
	migrate_expect(&u, mm, a, a + 2 * PG, SEL_PRIV, 0, 0);
	ZT_EQ(zd_atomic_load_relaxed(&u.allocated), 0);
	/* Nor does SELECT_SYSTEM select them. */
	migrate_expect(&u, mm, a, a + 2 * PG, SEL_SYS, 0, 0);
	/* t's owner selects them: device to device, t -> t. */
	migrate_expect(&t, mm, a, a + 2 * PG, SEL_PRIV, 2, 2);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 2);
	CHECK(sys);
	expect_pattern(mm, a, 0);
	expect_pattern(mm, a + PG, 1);
	ZT_EQ(zd_munmap(mm, a, 2 * PG), 0);
	CHECK(sys);
	td_destroy(&u);
	td_destroy(&t);
}

/* Every -EINVAL of R8.1. */
static void test_setup_einval(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 4 * PG), src[8], dst[8], io = 0;
	struct zd_vm_area_struct *vma, *iovma;
	struct zd_migrate_vma m;
	struct zd_folio *dev;
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	/* Read-only: it does not merge with the first. */
	ZT_EQ(zd_mmap(mm, 0, PG, ZD_PROT_READ, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0, 0, &io),
	      0);
	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, a);
	iovma = zd_vma_lookup(mm, io);
	/* Each case changes one field of a valid request. */
#define SETUP(field, value) (m = (struct zd_migrate_vma){ .vma = vma, .src = src, .dst = dst, \
		.start = a, .end = a + 4 * PG, .pgmap_owner = &t, .flags = SEL_SYS }, \
		m.field = (value), zd_migrate_vma_setup(&m))
	ZT_EQ(SETUP(vma, NULL), -EINVAL);
	ZT_EQ(SETUP(end, a), -EINVAL);			/* no page */
	ZT_EQ(SETUP(end, a + PG - 1), -EINVAL);		/* less than a page */
	ZT_EQ(SETUP(start, a + 5 * PG), -EINVAL);	/* negative count */
	ZT_EQ(SETUP(start, a - PG), -EINVAL);			/* start before the VMA */
	ZT_EQ(SETUP(start, a + 4 * PG), -EINVAL);	/* start after it */
	ZT_EQ(SETUP(end, a + 5 * PG), -EINVAL);		/* end past it */
	ZT_EQ(SETUP(src, NULL), -EINVAL);
	ZT_EQ(SETUP(dst, NULL), -EINVAL);
	/* fault_page: a RAM page, then an unlocked device-private page. */
	ZT_EQ(SETUP(fault_page, &zd_zero_folio(sys)->page), -EINVAL);
	dev = td_alloc(&t, 0);
	ZT_TRUE(dev != NULL);
	zd_folio_unlock(dev);
	ZT_EQ(SETUP(fault_page, &dev->page), -EINVAL);
	zd_folio_put(dev);
	/* VM_SPECIAL flags, one at a time. */
	{
		static const unsigned long special[] = {
			ZD_VM_IO, ZD_VM_DONTEXPAND, ZD_VM_PFNMAP, ZD_VM_MIXEDMAP,
		};
		unsigned long saved = iovma->vm_flags;

		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
			iovma->vm_flags = saved | special[i];
			m = (struct zd_migrate_vma){ .vma = iovma, .src = src, .dst = dst,
				.start = io, .end = io + PG, .flags = SEL_SYS };
			ZT_EQ(zd_migrate_vma_setup(&m), -EINVAL);
		}
		iovma->vm_flags = saved;
		m = (struct zd_migrate_vma){ .vma = iovma, .src = src, .dst = dst,
			.start = io, .end = io + PG, .flags = SEL_SYS };
		ZT_EQ(zd_migrate_vma_setup(&m), 0);
		zd_migrate_vma_finalize(&m);
	}
#undef SETUP
	zd_mmap_read_unlock(mm);
	/* A DAX VMA (device DAX) is refused too: covered by test_devdax's mapping kinds. */
	CHECK(sys);
	ZT_EQ(zd_munmap(mm, a, 4 * PG), 0);
	ZT_EQ(zd_munmap(mm, io, PG), 0);
	td_destroy(&t);
}

/*
 * migrate_device_range evicts every page of a device, mapped in two
 * processes after fork (readable device-private entries in both).
 */
static void test_device_range_evict_after_fork(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm, *child = NULL;
	unsigned long a = zt_map_anon(mm, 8 * PG), *src, *dst, n;
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	n = t.d.nr_pages;
	src = calloc(n, sizeof(*src));
	dst = calloc(n, sizeof(*dst));
	ZT_TRUE(src && dst);
	write_patterns(mm, a, 8, 1);
	ZT_EQ(td_migrate_to_dev(&t, mm, a, a + 8 * PG, SEL_SYS, NULL), 8);
	ZT_EQ(zd_fork(mm, &child), 0);
	CHECK(sys);
	for (unsigned long i = 0; i < 8; i++) {
		bool w = true;
		struct zd_page *p = dp_page(child, a + i * PG, &w);

		ZT_TRUE(!w);
		ZT_PTR_EQ(p, dp_page(mm, a + i * PG, &w));
		ZT_TRUE(!w);
		ZT_EQ(zd_folio_mapcount(zd_page_folio(p)), 2);
	}

	ZT_EQ(zd_migrate_device_range(sys, src, zt_dev_pfn(&t.d, 0), n), 0);
	for (unsigned long i = 0; i < n; i++) {
		if (i < 8)
			ZT_TRUE(src[i] & ZD_MIGRATE_PFN_MIGRATE);
		else
			ZT_EQU(src[i], 0);	/* free pages */
	}
	ZT_TRUE(zd_is_migration_entry(zt_entry_at(mm, a, NULL)));
	ZT_TRUE(zd_is_migration_entry(zt_entry_at(child, a, NULL)));
	td_fill_dst(sys, src, dst, n, td_alloc_ram, sys);
	zd_migrate_device_pages(sys, src, dst, n);
	for (unsigned long i = 0; i < 8; i++)
		ZT_TRUE(src[i] & ZD_MIGRATE_PFN_MIGRATE);
	zd_migrate_device_finalize(sys, src, dst, n);
	CHECK(sys);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 0);
	ZT_EQU(zd_atomic_load_relaxed(&t.frees), 8);
	for (unsigned long i = 0; i < 8; i++) {
		zd_pte_t pe = zt_entry_at(mm, a + i * PG, NULL), ce = zt_entry_at(child, a + i * PG, NULL);

		ZT_TRUE(zd_pte_present(pe) && zd_pte_present(ce));
		ZT_EQU(zd_pte_pfn(pe), zd_pte_pfn(ce));	/* still shared: COW on write */
		expect_pattern(mm, a + i * PG, i);
		expect_pattern(child, a + i * PG, i);
	}
	write_pattern(child, a, 100);
	expect_pattern(mm, a, 0);
	expect_pattern(child, a, 100);
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram_calls), 0);
	zd_mm_destroy(child);
	CHECK(sys);
	free(src);
	free(dst);
	td_destroy(&t);
}

/* migrate_device_pfns with a list; a partial destination restores the rest. */
static void test_device_pfns_partial(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_system *sys = fx->sys;
	struct zd_mm *mm = fx->mm;
	unsigned long a = zt_map_anon(mm, 4 * PG), src[4], dst[4];
	struct tdrv t;

	td_create(&t, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	write_patterns(mm, a, 4, 1);
	ZT_EQ(td_migrate_to_dev(&t, mm, a, a + 4 * PG, SEL_SYS, NULL), 4);
	for (unsigned long i = 0; i < 4; i++)
		src[i] = zd_page_to_pfn(dp_page(mm, a + i * PG, NULL));
	ZT_EQ(zd_migrate_device_pfns(sys, src, 4), 0);
	td_fill_dst(sys, src, dst, 4, td_alloc_ram, sys);
	/* Only pages 0 and 2 go: 1 and 3 are restored as they were. */
	zd_folio_unlock(zd_pfn_folio(sys, dst[1] >> ZD_MIGRATE_PFN_SHIFT));
	zd_folio_put(zd_pfn_folio(sys, dst[1] >> ZD_MIGRATE_PFN_SHIFT));
	zd_folio_unlock(zd_pfn_folio(sys, dst[3] >> ZD_MIGRATE_PFN_SHIFT));
	zd_folio_put(zd_pfn_folio(sys, dst[3] >> ZD_MIGRATE_PFN_SHIFT));
	dst[1] = dst[3] = 0;
	zd_migrate_device_pages(sys, src, dst, 4);
	zd_migrate_device_finalize(sys, src, dst, 4);
	CHECK(sys);
	ZT_TRUE(zd_pte_present(zt_entry_at(mm, a, NULL)));
	dp_page(mm, a + PG, NULL);
	ZT_TRUE(zd_pte_present(zt_entry_at(mm, a + 2 * PG, NULL)));
	dp_page(mm, a + 3 * PG, NULL);
	ZT_EQ(zd_atomic_load_relaxed(&t.allocated), 2);
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram_calls), 0);
	expect_patterns(mm, a, 4, 1);
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram_calls), 2);
	unmap_and_destroy(&t, mm, a, 4 * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_roundtrip_small),
		ZT_MM_TEST_ONE(test_roundtrip_small_legacy),
		ZT_MM_TEST(test_roundtrip_thp),
		ZT_MM_TEST(test_thp_split),
		ZT_MM_TEST(test_coherent_destination),
		ZT_MM_TEST(test_pinned_not_migrated),
		ZT_MM_TEST(test_holes_and_zero_page),
		ZT_MM_TEST(test_other_owner_skipped),
		ZT_MM_TEST(test_setup_einval),
		ZT_MM_TEST(test_device_range_evict_after_fork),
		ZT_MM_TEST(test_device_pfns_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
