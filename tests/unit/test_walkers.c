// SPDX-License-Identifier: MIT
/*
 * test_walkers - the walkers that expect LRU pages skip ZONE_DEVICE folios
 * (semantics §5 and its table of callers, R5.4, R12.5, bug B16).
 *
 * Each test maps RAM folios and device folios side by side and runs one
 * walker over them: the RAM folios change as the walker wants (collapsed,
 * merged, mlocked, hinted, migrated, split), the device folios keep their
 * entry, refcount, mapcount and flags, and none reaches an LRU. Device-
 * coherent folios enter an anonymous VMA either directly
 * (zt_map_device_anon() in helpers.c: the PMD-mapped device THP, and the
 * small pages of the plain runs) or, in the "(migrate_vma)" runs, the way a
 * driver of coherent memory puts them there: RAM pages of the range
 * migrated to the device by migrate_vma (tests/migrate_device_drv.h);
 * device-DAX folios through a shared mapping of the device.
 *
 *   anonymous VMA, 2 MiB aligned, one line per PMD block:
 *   block 0: [ ram | ram | ram | ... | zero | none ... ]   RAM only
 *   block 1: [ ram | ram | DEV | ram | none ...        ]   RAM and device
 *   block 2: [ DEV (order 9, one PMD leaf)              ]   a device THP
 *
 * Every test checks zd_check_invariants() and destroys its mms and
 * devices; the fixture's teardown is the leak check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "migrate_device_drv.h"
#include <zonedev/mm.h>
#include <zonedev/khugepaged.h>
#include <zonedev/ksm.h>
#include <zonedev/mempolicy.h>
#include <zonedev/migrate.h>
#include <zonedev/pagewalk.h>
#include <zonedev/devdax.h>
#include "mm/internal.h"

#define MiB (1ul << 20)
#define PG ZD_PAGE_SIZE
#define PMDSZ ZD_PMD_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define MS (1000ull * 1000ull)

/* ---- the machine of one test ---- */

struct wt {
	struct zd_system *sys;
	struct zd_mm *mm;
	struct zd_devmem_pool *pool;	/* device coherent, order 0 */
	struct zd_devmem_pool *hpool;	/* coherent, order 9; none in the legacy scheme (L5) */
	bool migrated;			/* device pages come from migrate_vma into td */
	struct tdrv td;			/* device coherent, its pages placed by migrate_vma */
};

/*
 * Set by a "(migrate_vma)" entry just before it runs the test body; wt_init
 * takes it and clears it, so a failed test never leaks it into the next.
 */
static bool next_migrated;

static void wt_init(struct wt *w, void **state)
{
	memset(w, 0, sizeof(*w));
	w->sys = ZT_FX(state)->sys;
	ZT_EQ(zd_mm_create(w->sys, &w->mm), 0);
	ZT_EQ(zd_devmem_pool_create(w->sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB, 0, &w->pool), 0);
	if (zd_system_scheme(w->sys) == ZD_SCHEME_ZERO)
		ZT_EQ(zd_devmem_pool_create(w->sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB,
					    ZD_PMD_ORDER, &w->hpool), 0);
	w->migrated = next_migrated;
	next_migrated = false;
	if (w->migrated)
		td_create(&w->td, w->sys, ZD_MEMORY_DEVICE_COHERENT, 4 * MiB);
}

/* Check the invariants, then unmap everything and give the device memory back. */
static void wt_fini(struct wt *w)
{
	ZT_EQ(zd_check_invariants(w->sys), 0);
	zd_mm_destroy(w->mm);
	w->mm = NULL;
	if (w->migrated)
		td_destroy(&w->td);	/* every migrated page came back once */
	ZT_EQ(zd_devmem_pool_destroy(w->pool, 2000 * MS), 0);
	if (w->hpool)
		ZT_EQ(zd_devmem_pool_destroy(w->hpool, 2000 * MS), 0);
	ZT_EQ(zd_check_invariants(w->sys), 0);
}

/* ---- mappings and pages ---- */

static unsigned long map_anon(struct zd_mm *mm, unsigned long len)
{
	unsigned long addr = 0;

	ZT_EQ(zd_mmap(mm, 0, len, RW, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0, PMDSZ, &addr), 0);
	ZT_EQU(addr & (PMDSZ - 1), 0);
	return addr;
}

static void write_page(struct zd_mm *mm, unsigned long addr, int byte)
{
	unsigned char buf[ZD_PAGE_SIZE];

	memset(buf, byte, sizeof(buf));
	ZT_EQ(zd_cpu_write(mm, addr, buf, sizeof(buf)), 0);
}

/* Every byte of the page at @addr reads @byte. */
static void expect_page(struct zd_mm *mm, unsigned long addr, int byte)
{
	unsigned char buf[ZD_PAGE_SIZE];

	ZT_EQ(zd_cpu_read(mm, addr, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != (unsigned char)byte)
			fail_msg("page %#lx byte %zu: %#x, expected %#x", addr, i, buf[i], byte);
}

static int level_at(struct zd_mm *mm, unsigned long addr)
{
	int l;

	zt_entry_at(mm, addr, &l);
	return l;
}

static unsigned long lru_pages(struct zd_system *sys)
{
	return zd_lru_count(sys, ZD_LRU_INACTIVE) + zd_lru_count(sys, ZD_LRU_ACTIVE);
}

/* A device-coherent folio from @pool, its bytes filled with @byte. */
static struct zd_folio *new_device(struct zd_devmem_pool *pool, unsigned int order, int byte)
{
	struct zd_folio *f = NULL;

	ZT_EQ(zd_devmem_pool_alloc(pool, order, &f), 0);
	ZT_TRUE(f && zd_folio_is_zone_device(f));
	memset(zd_page_address(&f->page), byte, PG << order);
	return f;
}

/*
 * A device-coherent page holding @byte mapped at @addr of @w's anonymous
 * VMA: a folio of the pool put there directly, or, in a "(migrate_vma)"
 * run, the RAM page written at @addr migrated to w->td by migrate_vma
 * (setup, pages, finalize), as a driver of coherent memory does.
 */
static struct zd_folio *map_device(struct wt *w, unsigned long addr, int byte)
{
	struct zd_folio *f;

	if (!w->migrated) {
		f = new_device(w->pool, 0, byte);
		zt_map_device_anon(w->mm, addr, f);
		return f;
	}
	write_page(w->mm, addr, byte);
	ZT_EQ(td_migrate_to_dev(&w->td, w->mm, addr, addr + PG, ZD_MIGRATE_VMA_SELECT_SYSTEM, NULL),
	      1);
	f = zt_folio_at(w->mm, addr, NULL);
	ZT_TRUE(zd_folio_is_zone_device(f));
	ZT_PTR_EQ(zd_folio_pgmap(f), &w->td.d.pgmap);
	ZT_TRUE(!zd_folio_test_flag(f, ZD_PG_lru));
	expect_page(w->mm, addr, byte);
	return f;
}

/* ---- device folios: nothing may change ---- */

struct dev_snap {
	unsigned long addr;
	struct zd_folio *folio;
	zd_pte_t entry;
	int level, ref, mapcount, entire, shadow;
	unsigned long flags;
	void *mapping;
};

static void snap(struct zd_mm *mm, unsigned long addr, struct dev_snap *s)
{
	s->addr = addr;
	s->entry = zt_entry_at(mm, addr, &s->level);
	ZT_TRUE(zd_pte_present(s->entry));
	s->folio = zd_pfn_folio(zd_mm_system(mm), zd_pte_pfn(s->entry));
	ZT_TRUE(s->folio && zd_folio_is_zone_device(s->folio));
	s->ref = zd_folio_ref_count(s->folio);
	s->mapcount = zd_folio_mapcount(s->folio);
	s->entire = zd_folio_entire_mapcount(s->folio);
	s->shadow = zd_shadow_refcount(s->folio);
	s->flags = zd_atomic_load_relaxed(&s->folio->page.flags);
	s->mapping = s->folio->page.mapping;
	ZT_TRUE(!zd_folio_test_flag(s->folio, ZD_PG_lru));
}

#define EXPECT_UNTOUCHED(mm, s) expect_untouched((mm), (s), __LINE__)

/* The walker left the device folio exactly as it was, and off every LRU (R12.5). */
static void expect_untouched(struct zd_mm *mm, const struct dev_snap *s, int line)
{
	struct dev_snap now;

	if (!s->folio)
		return;		/* no such folio in this scheme */
	snap(mm, s->addr, &now);
	if (now.entry != s->entry || now.level != s->level || now.folio != s->folio ||
	    now.ref != s->ref || now.mapcount != s->mapcount || now.entire != s->entire ||
	    now.shadow != s->shadow || now.flags != s->flags || now.mapping != s->mapping)
		fail_msg("line %d: device folio at %#lx changed: entry %#llx->%#llx level %d->%d "
			 "ref %d->%d mapcount %d->%d entire %d->%d shadow %d->%d flags %#lx->%#lx",
			 line, s->addr, (unsigned long long)s->entry, (unsigned long long)now.entry,
			 s->level, now.level, s->ref, now.ref, s->mapcount, now.mapcount, s->entire,
			 now.entire, s->shadow, now.shadow, s->flags, now.flags);
}

/*
 * An order-9 device-coherent folio mapped by a PMD leaf at @addr, and its
 * snapshot; NULL (and an empty snapshot) in the legacy scheme, which had
 * no large device folios (L5).
 */
static struct zd_folio *map_device_huge(struct wt *w, unsigned long addr, int byte,
					struct dev_snap *s)
{
	struct zd_folio *f;

	memset(s, 0, sizeof(*s));
	if (!w->hpool)
		return NULL;
	f = new_device(w->hpool, ZD_PMD_ORDER, byte);
	zt_map_device_anon(w->mm, addr, f);
	snap(w->mm, addr, s);
	return f;
}

/*
 * In a "(migrate_vma)" run, an order-9 device-coherent folio mapped by 512
 * PTEs at @addr (PMD aligned, in a VM_HUGEPAGE VMA): a RAM THP written
 * there and migrated whole (SELECT_COMPOUND), and its snapshot; NULL (and
 * an empty snapshot) otherwise.
 */
static struct zd_folio *map_device_large_ptes(struct wt *w, unsigned long addr, int byte,
					      struct dev_snap *s)
{
	struct zd_folio *f;

	memset(s, 0, sizeof(*s));
	if (!w->migrated)
		return NULL;
	write_page(w->mm, addr, byte);
	ZT_EQ(level_at(w->mm, addr), 2);
	ZT_EQ(td_migrate_to_dev(&w->td, w->mm, addr, addr + PMDSZ,
				ZD_MIGRATE_VMA_SELECT_SYSTEM | ZD_MIGRATE_VMA_SELECT_COMPOUND, NULL),
	      1);	/* one COMPOUND entry stands for the folio */
	f = zt_folio_at(w->mm, addr, NULL);
	ZT_TRUE(zd_folio_is_zone_device(f));
	ZT_EQ(zd_folio_order(f), ZD_PMD_ORDER);
	ZT_EQ(level_at(w->mm, addr), 1);
	ZT_PTR_EQ(zt_folio_at(w->mm, addr + PMDSZ - PG, NULL), f);
	expect_page(w->mm, addr, byte);
	snap(w->mm, addr, s);
	return f;
}

/* ---- follow_page(FOLL_LRU) and folio_walk (R5.4, B16) ---- */

static void test_follow_page_lru(void **state)
{
	struct wt w;
	unsigned long a;
	struct zd_vm_area_struct *vma;
	struct zd_folio *ram, *dev, *huge;
	struct zd_folio_walk fw;
	struct zd_page *page = NULL;
	struct dev_snap ds, hs;

	wt_init(&w, state);
	a = map_anon(w.mm, 4 * MiB);
	write_page(w.mm, a, 0x5a);
	dev = map_device(&w, a + PG, 0xd0);
	expect_page(w.mm, a + 2 * PG, 0);		/* the zero page */
	huge = map_device_huge(&w, a + 2 * MiB, 0xd1, &hs);
	ram = zt_folio_at(w.mm, a, NULL);
	snap(w.mm, a + PG, &ds);

	zd_mmap_read_lock(w.mm);
	vma = zd_vma_lookup(w.mm, a);
	/* A RAM page: found, with a reference. */
	ZT_EQ(zd_follow_page(vma, a, ZD_FW_GET | ZD_FW_LRU, &page), 0);
	ZT_PTR_EQ(page, &ram->page);
	ZT_EQ(zd_folio_ref_count(ram), 2);
	zd_folio_put(ram);
	/* A device page with FOLL_LRU: refused, and the reference taken for it is back (B16). */
	for (int i = 0; i < 1000; i++)
		ZT_EQ(zd_follow_page(vma, a + PG, ZD_FW_GET | ZD_FW_LRU, &page), -EEXIST);
	EXPECT_UNTOUCHED(w.mm, &ds);
	if (huge) {
		ZT_EQ(zd_follow_page(vma, a + 2 * MiB + 7 * PG, ZD_FW_GET | ZD_FW_LRU, &page),
		      -EEXIST);
		EXPECT_UNTOUCHED(w.mm, &hs);
	}
	/* Without FOLL_LRU the walker sees it (R5.1, R5.4): each caller filters. */
	ZT_EQ(zd_follow_page(vma, a + PG, ZD_FW_GET, &page), 0);
	ZT_PTR_EQ(page, &dev->page);
	ZT_EQ(zd_folio_ref_count(dev), ds.ref + 1);
	zd_folio_put(dev);
	/* The zero page only when asked for; holes and the outside. */
	ZT_EQ(zd_follow_page(vma, a + 2 * PG, ZD_FW_GET, &page), -ENOENT);
	ZT_EQ(zd_follow_page(vma, a + 2 * PG, ZD_FW_ZEROPAGE, &page), 0);
	ZT_PTR_EQ(page, &zd_zero_folio(w.sys)->page);
	ZT_EQ(zd_follow_page(vma, a + 9 * PG, ZD_FW_GET, &page), -ENOENT);
	ZT_EQ(zd_follow_page(vma, a - PG, ZD_FW_GET, &page), -EFAULT);
	/* folio_walk at the PMD level: the page inside the leaf, the lock held. */
	if (huge) {
		ZT_PTR_EQ(zd_folio_walk_start(&fw, vma, a + 2 * MiB + 3 * PG, 0), huge);
		ZT_EQ(fw.level, 2);
		ZT_PTR_EQ(fw.page, zd_folio_page(huge, 3));
		ZT_TRUE(zd_pte_huge(fw.entry));
		zd_folio_walk_end(&fw);
	}
	ZT_PTR_EQ(zd_folio_walk_start(&fw, vma, a + 9 * PG, 0), NULL);
	zd_mmap_read_unlock(w.mm);

	EXPECT_UNTOUCHED(w.mm, &ds);
	EXPECT_UNTOUCHED(w.mm, &hs);
	ZT_EQ(zd_folio_ref_count(ram), 1);
	wt_fini(&w);
}

/* ---- MADV_COLLAPSE ---- */

/*
 *   block 0: [ 1 2 3 ... 10 | zero | none ... ]     -> one PMD leaf, same bytes
 *   block 1: [ 1 2 3 4 DEV 6 | none ... ]           -> -EINVAL, unchanged
 *   block 2: [ 1 2* | none ... ]  (* pinned)        -> -EAGAIN; no THP: -ENOMEM;
 *                                                      then collapsed
 */
static void test_madv_collapse(void **state)
{
	struct wt w;
	struct zd_folio *old[10], *dev, *pinned, *thp, *b1[6], *hog[64];
	struct zd_mm_stats st0, st1;
	int nr_hog = 0;
	struct dev_snap ds;
	unsigned long a, b1a, b2a;

	wt_init(&w, state);
	a = map_anon(w.mm, 6 * MiB);
	b1a = a + PMDSZ;
	b2a = a + 2 * PMDSZ;
	for (int i = 0; i < 10; i++) {
		write_page(w.mm, a + (unsigned long)i * PG, i + 1);
		old[i] = zt_folio_at(w.mm, a + (unsigned long)i * PG, NULL);
	}
	expect_page(w.mm, a + 10 * PG, 0);
	for (int i = 0; i < 6; i++) {
		if (i == 4)
			continue;
		write_page(w.mm, b1a + (unsigned long)i * PG, i + 1);
		b1[i] = zt_folio_at(w.mm, b1a + (unsigned long)i * PG, NULL);
	}
	dev = map_device(&w, b1a + 4 * PG, 0xd4);
	snap(w.mm, b1a + 4 * PG, &ds);
	ZT_PTR_EQ(ds.folio, dev);
	write_page(w.mm, b2a, 1);
	write_page(w.mm, b2a + PG, 2);
	pinned = zt_folio_at(w.mm, b2a + PG, NULL);
	zd_folio_ref_add(pinned, ZD_GUP_PIN_COUNTING_BIAS);	/* as pin_user_pages would */
	zd_mm_get_stats(w.mm, &st0);

	/* A RAM-only block becomes one PMD-mapped THP holding the same bytes. */
	ZT_EQ(zd_madvise(w.mm, a, PMDSZ, ZD_MADV_COLLAPSE), 0);
	ZT_EQ(level_at(w.mm, a), 2);
	thp = zt_folio_at(w.mm, a, NULL);
	ZT_EQ(zd_folio_order(thp), ZD_PMD_ORDER);
	ZT_TRUE(!zd_folio_is_zone_device(thp));
	ZT_EQ(zd_folio_ref_count(thp), 1);
	ZT_EQ(zd_folio_entire_mapcount(thp), 1);
	ZT_TRUE(zd_folio_test_flag(thp, ZD_PG_lru));
	for (int i = 0; i < 10; i++) {
		ZT_EQ(zd_folio_ref_count(old[i]), 0);	/* the old pages were freed */
		expect_page(w.mm, a + (unsigned long)i * PG, i + 1);
	}
	expect_page(w.mm, a + 10 * PG, 0);
	expect_page(w.mm, a + 300 * PG, 0);
	zd_mm_get_stats(w.mm, &st1);
	ZT_EQ(st1.rss_anon, st0.rss_anon + 512 - 10);
	ZT_EQ(st1.nr_pgtables, st0.nr_pgtables);	/* the PTE table became the leaf's deposit */

	/* A block holding a device folio is never collapsed (SCAN_PAGE_NULL). */
	ZT_EQ(zd_madvise(w.mm, b1a, PMDSZ, ZD_MADV_COLLAPSE), -EINVAL);
	EXPECT_UNTOUCHED(w.mm, &ds);
	for (int i = 0; i < 6; i++) {
		if (i == 4)
			continue;
		ZT_EQ(level_at(w.mm, b1a + (unsigned long)i * PG), 1);
		ZT_PTR_EQ(zt_folio_at(w.mm, b1a + (unsigned long)i * PG, NULL), b1[i]);
		ZT_EQ(zd_folio_ref_count(b1[i]), 1);
		ZT_EQ(zd_folio_mapcount(b1[i]), 1);
	}

	/* A pinned page: -EAGAIN (SCAN_PAGE_COUNT); without the pin it goes. */
	ZT_EQ(zd_madvise(w.mm, b2a, PMDSZ, ZD_MADV_COLLAPSE), -EAGAIN);
	ZT_EQ(level_at(w.mm, b2a), 1);
	ZT_PTR_EQ(zt_folio_at(w.mm, b2a + PG, NULL), pinned);
	zd_folio_put_refs(pinned, ZD_GUP_PIN_COUNTING_BIAS);
	/* No order-9 RAM folio left: -ENOMEM (SCAN_ALLOC_HUGE_PAGE_FAIL), nothing changes. */
	while (nr_hog < 64 && (hog[nr_hog] = zd_folio_alloc(w.sys, 0, ZD_PMD_ORDER)))
		nr_hog++;
	ZT_TRUE(nr_hog < 64);
	ZT_EQ(zd_madvise(w.mm, b2a, PMDSZ, ZD_MADV_COLLAPSE), -ENOMEM);
	ZT_EQ(level_at(w.mm, b2a), 1);
	ZT_PTR_EQ(zt_folio_at(w.mm, b2a + PG, NULL), pinned);
	while (nr_hog)
		zd_folio_put(hog[--nr_hog]);
	ZT_EQ(zd_madvise(w.mm, b2a, PMDSZ, ZD_MADV_COLLAPSE), 0);
	ZT_EQ(level_at(w.mm, b2a), 2);
	expect_page(w.mm, b2a + PG, 2);

	/* The whole range: blocks 0 and 2 are PMD-mapped, block 1 still fails. */
	ZT_EQ(zd_madvise(w.mm, a, 3 * PMDSZ, ZD_MADV_COLLAPSE), -EINVAL);
	EXPECT_UNTOUCHED(w.mm, &ds);
	/* Argument checks. */
	ZT_EQ(zd_madvise(w.mm, a + 1, PMDSZ, ZD_MADV_COLLAPSE), -EINVAL);
	ZT_EQ(zd_madvise(w.mm, a, 0, ZD_MADV_COLLAPSE), 0);
	ZT_EQ(zd_madvise(w.mm, a + 6 * MiB, PMDSZ, ZD_MADV_COLLAPSE), -ENOMEM);
	ZT_EQ(zd_check_invariants(w.sys), 0);
	wt_fini(&w);
}

/* khugepaged collapses VM_HUGEPAGE blocks of RAM and leaves the device block. */
static void test_khugepaged_scan(void **state)
{
	struct zd_khugepaged_stats st;
	struct wt w;
	struct zd_folio *dev, *huge;
	struct dev_snap ds, hs;
	unsigned long a;

	wt_init(&w, state);
	a = map_anon(w.mm, 6 * MiB);
	for (int i = 0; i < 8; i++) {
		write_page(w.mm, a + (unsigned long)i * 3 * PG, 0x10 + i);
		write_page(w.mm, a + PMDSZ + (unsigned long)i * PG, 0x20 + i);
	}
	dev = map_device(&w, a + PMDSZ + 100 * PG, 0xd5);
	huge = map_device_huge(&w, a + 2 * PMDSZ, 0xd6, &hs);
	snap(w.mm, a + PMDSZ + 100 * PG, &ds);
	ZT_PTR_EQ(ds.folio, dev);
	/* Not VM_HUGEPAGE yet: khugepaged leaves the VMA alone. */
	ZT_EQ(zd_khugepaged_scan_mm(w.mm, &st), 0);
	ZT_EQ(st.pmds_scanned, 0);
	ZT_EQ(zd_madvise(w.mm, a, 6 * MiB, ZD_MADV_HUGEPAGE), 0);

	ZT_EQ(zd_khugepaged_scan_mm(w.mm, &st), 1);
	ZT_EQ(st.pmds_scanned, 3);
	ZT_EQ(st.results[ZD_SCAN_SUCCEED], 1);
	ZT_EQ(st.results[ZD_SCAN_PAGE_NULL], 1);	/* the block with the device page */
	ZT_EQ(st.results[ZD_SCAN_PMD_MAPPED], huge ? 1 : 0);	/* the device THP */
	ZT_EQ(level_at(w.mm, a), 2);
	for (int i = 0; i < 8; i++) {
		expect_page(w.mm, a + (unsigned long)i * 3 * PG, 0x10 + i);
		ZT_EQ(level_at(w.mm, a + PMDSZ + (unsigned long)i * PG), 1);
	}
	EXPECT_UNTOUCHED(w.mm, &ds);
	EXPECT_UNTOUCHED(w.mm, &hs);
	/* A second pass finds nothing more to do. */
	ZT_EQ(zd_khugepaged_scan_mm(w.mm, NULL), 0);
	EXPECT_UNTOUCHED(w.mm, &ds);
	wt_fini(&w);
}

/* ---- KSM ---- */

/*
 *   mm A: [ 11 11 11 11 | 22 | DEV(11) | 33 | 55  ]
 *   mm B: [ 11 11 | 33 | 44 | 55* ]   (* pinned)
 *   -> every 11 maps one read-only page; 33 too; DEV, 22, 44 and 55 stay.
 */
static void test_ksm_merge(void **state)
{
	struct wt w;
	struct zd_mm *b, *mms[3];
	struct zd_folio *dev, *kept, *p55;
	struct dev_snap ds;
	struct zd_mm_stats sa0, sa1;
	unsigned long a, bb;
	zd_pte_t e;

	wt_init(&w, state);
	ZT_EQ(zd_mm_create(w.sys, &b), 0);
	a = map_anon(w.mm, 2 * MiB);
	bb = map_anon(b, 2 * MiB);
	ZT_EQ(zd_madvise(w.mm, a, 2 * MiB, ZD_MADV_MERGEABLE), 0);
	ZT_EQ(zd_madvise(b, bb, 2 * MiB, ZD_MADV_MERGEABLE), 0);
	for (int i = 0; i < 4; i++)
		write_page(w.mm, a + (unsigned long)i * PG, 0x11);
	write_page(w.mm, a + 4 * PG, 0x22);
	dev = map_device(&w, a + 5 * PG, 0x11);	/* the same bytes as the 0x11 pages */
	write_page(w.mm, a + 6 * PG, 0x33);
	write_page(w.mm, a + 7 * PG, 0x55);
	write_page(b, bb, 0x11);
	write_page(b, bb + PG, 0x11);
	write_page(b, bb + 2 * PG, 0x33);
	write_page(b, bb + 3 * PG, 0x44);
	write_page(b, bb + 4 * PG, 0x55);
	p55 = zt_folio_at(b, bb + 4 * PG, NULL);
	zd_folio_ref_add(p55, ZD_GUP_PIN_COUNTING_BIAS);
	snap(w.mm, a + 5 * PG, &ds);
	ZT_PTR_EQ(ds.folio, dev);
	zd_mm_get_stats(w.mm, &sa0);

	/* mms may repeat: each is locked once. */
	mms[0] = b;
	mms[1] = w.mm;
	mms[2] = b;
	ZT_EQ(zd_ksm_scan(mms, 3), 5 + 1);
	kept = zt_folio_at(w.mm, a, NULL);
	ZT_EQ(zd_folio_mapcount(kept), 6);
	ZT_EQ(zd_folio_ref_count(kept), 6);
	for (int i = 0; i < 4; i++) {
		ZT_PTR_EQ(zt_folio_at(w.mm, a + (unsigned long)i * PG, NULL), kept);
		ZT_TRUE(!zd_pte_write(zt_entry_at(w.mm, a + (unsigned long)i * PG, NULL)));
	}
	ZT_PTR_EQ(zt_folio_at(b, bb, NULL), kept);
	ZT_PTR_EQ(zt_folio_at(b, bb + PG, NULL), kept);
	ZT_PTR_EQ(zt_folio_at(w.mm, a + 6 * PG, NULL), zt_folio_at(b, bb + 2 * PG, NULL));
	ZT_TRUE(zt_folio_at(w.mm, a + 7 * PG, NULL) != p55);	/* pinned: never merged */
	ZT_PTR_EQ(zt_folio_at(b, bb + 4 * PG, NULL), p55);
	ZT_TRUE(zd_pte_write(zt_entry_at(w.mm, a + 4 * PG, NULL)));	/* unique: untouched */
	ZT_TRUE(zd_pte_write(zt_entry_at(b, bb + 3 * PG, NULL)));
	/* The device page with the same bytes is not merged (R12.5). */
	EXPECT_UNTOUCHED(w.mm, &ds);
	zd_mm_get_stats(w.mm, &sa1);
	ZT_EQ(sa1.rss_anon, sa0.rss_anon);
	expect_page(b, bb + PG, 0x11);
	ZT_EQ(zd_check_invariants(w.sys), 0);

	/* A write breaks the sharing through COW; the others keep the bytes. */
	write_page(w.mm, a + PG, 0x66);
	ZT_TRUE(zt_folio_at(w.mm, a + PG, NULL) != kept);
	ZT_EQ(zd_folio_mapcount(kept), 5);
	expect_page(b, bb, 0x11);
	expect_page(w.mm, a, 0x11);
	/* Back to the same bytes: the next pass merges it into the page mapped most. */
	write_page(w.mm, a + PG, 0x11);
	ZT_EQ(zd_ksm_scan(mms, 2), 1);
	ZT_PTR_EQ(zt_folio_at(w.mm, a + PG, NULL), kept);
	ZT_EQ(zd_folio_mapcount(kept), 6);
	/* Without the pin, the 0x55 pages merge too. */
	zd_folio_put_refs(p55, ZD_GUP_PIN_COUNTING_BIAS);
	ZT_EQ(zd_ksm_scan(mms, 2), 1);
	ZT_PTR_EQ(zt_folio_at(w.mm, a + 7 * PG, NULL), zt_folio_at(b, bb + 4 * PG, NULL));
	EXPECT_UNTOUCHED(w.mm, &ds);
	e = zt_entry_at(w.mm, a + 5 * PG, NULL);
	ZT_TRUE(zd_pte_write(e));
	ZT_EQ(zd_ksm_scan(NULL, 1), -EINVAL);
	ZT_EQ(zd_ksm_scan(mms, 0), 0);
	zd_mm_destroy(b);
	wt_fini(&w);
}

/* ---- mlock ---- */

static void test_mlock(void **state)
{
	struct wt w;
	struct zd_folio *dev[2], *huge, *f;
	struct dev_snap ds[2], hs;
	struct zd_vm_area_struct *vma;
	unsigned long a, lru0, lru1, nr_ram = 0;

	wt_init(&w, state);
	a = map_anon(w.mm, 4 * MiB);
	for (int i = 0; i < 5; i++)
		write_page(w.mm, a + (unsigned long)i * PG, 0x30 + i);
	for (int i = 0; i < 2; i++) {
		dev[i] = map_device(&w, a + (5ul + (unsigned long)i) * PG, 0xd7);
		snap(w.mm, a + (5ul + (unsigned long)i) * PG, &ds[i]);
	}
	expect_page(w.mm, a + 7 * PG, 0);	/* zero page: the fault-in will COW it */
	huge = map_device_huge(&w, a + PMDSZ, 0xd8, &hs);
	lru0 = lru_pages(w.sys);

	ZT_EQ(zd_mlock(w.mm, a + 1, 4 * MiB - 1), 0);	/* widened to whole pages */
	zd_mmap_read_lock(w.mm);
	vma = zd_vma_lookup(w.mm, a);
	ZT_TRUE(vma->vm_flags & ZD_VM_LOCKED);
	ZT_EQU(vma->vm_end, a + 4 * MiB);
	zd_mmap_read_unlock(w.mm);
	/* Every RAM page of the range is faulted in, mlocked and off the LRU lists. */
	for (unsigned long i = 0; i < 1024; i++) {
		f = zt_folio_at(w.mm, a + i * PG, NULL);
		ZT_TRUE(f != NULL);
		if (zd_folio_is_zone_device(f))
			continue;
		ZT_TRUE(zd_folio_test_flag(f, ZD_PG_unevictable));
		ZT_TRUE(!zd_folio_test_flag(f, ZD_PG_lru));
		nr_ram++;
	}
	ZT_EQ(nr_ram, huge ? 510 : 1022);
	lru1 = lru_pages(w.sys);
	ZT_EQ(lru1, lru0 - 5);		/* the 5 written before; the new ones never stayed */
	for (int i = 0; i < 5; i++)
		expect_page(w.mm, a + (unsigned long)i * PG, 0x30 + i);
	/* Device folios: skipped by mlock_pte_range, PTE or PMD. */
	EXPECT_UNTOUCHED(w.mm, &ds[0]);
	EXPECT_UNTOUCHED(w.mm, &ds[1]);
	EXPECT_UNTOUCHED(w.mm, &hs);
	ZT_TRUE(!zd_folio_test_flag(dev[0], ZD_PG_unevictable));
	(void)huge;
	ZT_EQ(zd_check_invariants(w.sys), 0);
	/* A hole: -ENOMEM and nothing changes. */
	ZT_EQ(zd_mlock(w.mm, a + 3 * MiB, 2 * MiB), -ENOMEM);
	ZT_EQ(zd_munlock(w.mm, a + 3 * MiB, 2 * MiB), -ENOMEM);

	/* munlock: back to the LRU. */
	ZT_EQ(zd_munlock(w.mm, a, 4 * MiB), 0);
	zd_mmap_read_lock(w.mm);
	ZT_TRUE(!(zd_vma_lookup(w.mm, a)->vm_flags & ZD_VM_LOCKED));
	zd_mmap_read_unlock(w.mm);
	ZT_EQ(lru_pages(w.sys), lru0 - 5 + nr_ram);
	for (int i = 0; i < 5; i++) {
		f = zt_folio_at(w.mm, a + (unsigned long)i * PG, NULL);
		ZT_TRUE(!zd_folio_test_flag(f, ZD_PG_unevictable));
		ZT_TRUE(zd_folio_test_flag(f, ZD_PG_lru));
	}
	EXPECT_UNTOUCHED(w.mm, &ds[0]);
	EXPECT_UNTOUCHED(w.mm, &ds[1]);
	EXPECT_UNTOUCHED(w.mm, &hs);

	/* Partly: a split VMA, and a page still mapped by a locked VMA stays mlocked. */
	ZT_EQ(zd_mlock(w.mm, a, 8 * PG), 0);
	ZT_EQ(zd_mm_nr_vmas(w.mm), 2);
	f = zt_folio_at(w.mm, a, NULL);
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_unevictable));
	ZT_TRUE(!zd_folio_test_flag(zt_folio_at(w.mm, a + 8 * PG, NULL), ZD_PG_unevictable));
	ZT_EQ(zd_munlock(w.mm, a, 8 * PG), 0);
	ZT_EQ(zd_mm_nr_vmas(w.mm), 1);	/* merged again */
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_lru));
	EXPECT_UNTOUCHED(w.mm, &ds[0]);
	wt_fini(&w);
}

/* ---- NUMA hinting, numa_maps, move_pages ---- */

static void test_numa_hinting(void **state)
{
	struct wt w;
	struct zd_folio *dev, *huge;
	struct zd_vm_area_struct *vma;
	struct zd_numa_stats ns;
	struct dev_snap ds, hs;
	unsigned long a;
	zd_pte_t zero;

	wt_init(&w, state);
	a = map_anon(w.mm, 4 * MiB);
	for (int i = 0; i < 4; i++)
		write_page(w.mm, a + (unsigned long)i * PG, 0x40 + i);
	dev = map_device(&w, a + 4 * PG, 0xd9);
	expect_page(w.mm, a + 5 * PG, 0);
	huge = map_device_huge(&w, a + PMDSZ, 0xda, &hs);
	snap(w.mm, a + 4 * PG, &ds);
	ZT_PTR_EQ(ds.folio, dev);
	(void)huge;
	zero = zt_entry_at(w.mm, a + 5 * PG, NULL);

	/* numa_maps counts the RAM pages only (can_gather_numa_stats). */
	ZT_EQ(zd_numa_maps(w.mm, &ns), 0);
	ZT_EQ(ns.pages, 4);
	ZT_EQ(ns.anon, 4);
	ZT_EQ(ns.dirty, 4);
	ZT_EQ(ns.node[0], 4);
	ZT_EQ(ns.mapcount_max, 1);

	zd_mmap_read_lock(w.mm);
	vma = zd_vma_lookup(w.mm, a);
	ZT_EQ(zd_change_prot_numa(vma, vma->vm_start, vma->vm_end), 4);
	zd_mmap_read_unlock(w.mm);
	for (int i = 0; i < 4; i++) {
		zd_pte_t e = zt_entry_at(w.mm, a + (unsigned long)i * PG, NULL);

		ZT_TRUE(zd_pte_protnone(e));
		ZT_TRUE(!zd_pte_write(e));
	}
	EXPECT_UNTOUCHED(w.mm, &ds);
	EXPECT_UNTOUCHED(w.mm, &hs);
	ZT_EQU(zt_entry_at(w.mm, a + 5 * PG, NULL), zero);
	/* Already PROT_NONE: nothing to do a second time. */
	zd_mmap_read_lock(w.mm);
	ZT_EQ(zd_change_prot_numa(zd_vma_lookup(w.mm, a), a, a + 4 * MiB), 0);
	zd_mmap_read_unlock(w.mm);
	ZT_EQ(zd_numa_maps(w.mm, &ns), 0);
	ZT_EQ(ns.pages, 4);
	/* The hinting fault (do_numa_page) restores the entry; writes work again. */
	expect_page(w.mm, a, 0x40);
	ZT_TRUE(zt_entry_at(w.mm, a, NULL) & ZD_PTE_PRESENT);
	write_page(w.mm, a + PG, 0x4f);
	ZT_TRUE(zd_pte_write(zt_entry_at(w.mm, a + PG, NULL)));
	EXPECT_UNTOUCHED(w.mm, &ds);
	ZT_EQ(zd_check_invariants(w.sys), 0);
	wt_fini(&w);
}

static void test_move_pages(void **state)
{
	struct wt w;
	struct zd_folio *dev, *huge, *old0, *old1, *pinned, *thp;
	struct zd_system_stats st0, st1;
	struct dev_snap ds, hs;
	unsigned long a, t, addrs[9], free0;
	int nodes[9] = { 0 }, status[9], bad[1] = { 1 };
	int want[9] = { 0, 0, -ENOENT, -EFAULT, -ENOENT, -EFAULT, -ENOENT, -EBUSY, -EOPNOTSUPP };
	int want_stat[9] = { 0, 0, -ENOENT, -EFAULT, -ENOENT, -EFAULT, -ENOENT, 0, 0 };

	wt_init(&w, state);
	a = map_anon(w.mm, 4 * MiB);
	write_page(w.mm, a, 0x50);
	write_page(w.mm, a + PG, 0x51);
	dev = map_device(&w, a + 2 * PG, 0xdb);
	expect_page(w.mm, a + 3 * PG, 0);
	huge = map_device_huge(&w, a + PMDSZ, 0xdc, &hs);
	(void)huge;
	write_page(w.mm, a + 5 * PG, 0x55);
	pinned = zt_folio_at(w.mm, a + 5 * PG, NULL);
	zd_folio_ref_add(pinned, ZD_GUP_PIN_COUNTING_BIAS);
	/* A RAM THP in a VM_HUGEPAGE mapping of its own. */
	t = map_anon(w.mm, 2 * MiB);
	ZT_EQ(zd_madvise(w.mm, t, 2 * MiB, ZD_MADV_HUGEPAGE), 0);
	write_page(w.mm, t + 9 * PG, 0x59);
	ZT_EQ(level_at(w.mm, t), 2);
	thp = zt_folio_at(w.mm, t, NULL);
	snap(w.mm, a + 2 * PG, &ds);
	ZT_PTR_EQ(ds.folio, dev);
	old0 = zt_folio_at(w.mm, a, NULL);
	old1 = zt_folio_at(w.mm, a + PG, NULL);
	addrs[0] = a;			/* RAM */
	addrs[1] = a + PG + 123;	/* RAM, inside the page */
	addrs[2] = a + 2 * PG;		/* device coherent */
	addrs[3] = a + 3 * PG;		/* the zero page */
	addrs[4] = a + 4 * PG;		/* nothing mapped */
	addrs[5] = a - PG;		/* no VMA */
	addrs[6] = a + PMDSZ + 17 * PG;	/* the device THP (nothing in the legacy scheme) */
	addrs[7] = a + 5 * PG;		/* pinned RAM */
	addrs[8] = t + 9 * PG;		/* a RAM THP */

	/* The status query first: device pages are -ENOENT (do_pages_stat_array). */
	ZT_EQ(zd_move_pages(w.mm, 9, addrs, NULL, status), 0);
	for (int i = 0; i < 9; i++)
		if (status[i] != want_stat[i])
			fail_msg("stat %d: %d, expected %d", i, status[i], want_stat[i]);

	zd_system_get_stats(w.sys, &st0);
	free0 = zd_nr_free_pages(w.sys);
	ZT_EQ(zd_move_pages(w.mm, 9, addrs, nodes, status), 0);
	for (int i = 0; i < 9; i++)
		if (status[i] != want[i])
			fail_msg("move %d: %d, expected %d", i, status[i], want[i]);
	/*
	 * RAM pages now live in new folios holding the same bytes; the old
	 * ones are free (and may already hold a later page's copy).
	 */
	zd_system_get_stats(w.sys, &st1);
	/* two copies, and one target allocated for the pinned page and given back */
	ZT_EQ(st1.folio_allocs - st0.folio_allocs, 3);
	ZT_EQ(st1.folio_frees - st0.folio_frees, 3);
	ZT_EQ(zd_nr_free_pages(w.sys), free0);
	ZT_TRUE(zt_folio_at(w.mm, a, NULL) != old0);
	ZT_TRUE(zt_folio_at(w.mm, a + PG, NULL) != old1);
	ZT_TRUE(zd_folio_test_flag(zt_folio_at(w.mm, a, NULL), ZD_PG_lru));
	ZT_TRUE(zd_page_test_flag(&zt_folio_at(w.mm, a, NULL)->page, ZD_PG_anon_exclusive));
	expect_page(w.mm, a, 0x50);
	expect_page(w.mm, a + PG, 0x51);
	/* THP migration is not modelled: the THP stays. */
	ZT_PTR_EQ(zt_folio_at(w.mm, t, NULL), thp);
	ZT_EQ(level_at(w.mm, t), 2);
	ZT_EQ(zd_folio_ref_count(thp), 1);
	expect_page(w.mm, t + 9 * PG, 0x59);
	/* Device memory never moves this way, and no reference is left behind (B16). */
	EXPECT_UNTOUCHED(w.mm, &ds);
	EXPECT_UNTOUCHED(w.mm, &hs);
	ZT_PTR_EQ(zt_folio_at(w.mm, a + 5 * PG, NULL), pinned);
	zd_folio_put_refs(pinned, ZD_GUP_PIN_COUNTING_BIAS);
	ZT_EQ(zd_move_pages(w.mm, 1, &addrs[7], nodes, status), 0);
	ZT_EQ(status[0], 0);
	expect_page(w.mm, a + 5 * PG, 0x55);
	/* One node only. */
	ZT_EQ(zd_move_pages(w.mm, 1, addrs, bad, status), -ENODEV);
	ZT_EQ(zd_move_pages(w.mm, 1, NULL, nodes, status), -EINVAL);
	ZT_EQ(zd_check_invariants(w.sys), 0);
	wt_fini(&w);
}

/* ---- debugfs split_huge_pages ---- */

/*
 *   block 0: [ RAM THP, PMD ]   -> 512 PTEs to the same (still large) folio
 *   block 1: [ DEV THP, PMD ]   -> untouched
 *   block 2: migrate_vma runs: [ DEV order 9, 512 PTEs ]  -> untouched
 *   then MADV_COLLAPSE puts block 0 back into a new THP
 */
/*
 * A THP already mapped by PTEs (one page zapped: the folio stays large,
 * 511 pages mapped) is split too, as split_huge_pages_pid splits every
 * large anonymous folio it meets, not only PMD-mapped ones.
 */
static void test_split_huge_pages_pte_mapped(void **state)
{
	struct wt w;
	struct zd_folio *thp;
	unsigned long a;

	wt_init(&w, state);
	a = map_anon(w.mm, 2 * MiB);
	ZT_EQ(zd_madvise(w.mm, a, 2 * MiB, ZD_MADV_HUGEPAGE), 0);
	write_page(w.mm, a + 5 * PG, 0x61);
	ZT_EQ(level_at(w.mm, a), 2);
	thp = zt_folio_at(w.mm, a + 5 * PG, NULL);
	ZT_EQ(zd_madvise(w.mm, a, PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(level_at(w.mm, a + 5 * PG), 1);
	ZT_EQ(zd_folio_order(thp), ZD_PMD_ORDER);
	ZT_EQ(zd_folio_mapcount(thp), 511);

	ZT_EQ(zd_split_huge_pages(w.mm, a, a + 2 * MiB), 1);
	ZT_EQ(zd_folio_order(zt_folio_at(w.mm, a + 5 * PG, NULL)), 0);
	ZT_EQ(zd_folio_mapcount(zt_folio_at(w.mm, a + 5 * PG, NULL)), 1);
	ZT_EQ(zd_folio_ref_count(zt_folio_at(w.mm, a + 5 * PG, NULL)), 1);
	ZT_EQ(zd_folio_order(thp), 0);
	ZT_EQ(zd_folio_ref_count(thp), 0);	/* the zapped first page is freed */
	expect_page(w.mm, a + 5 * PG, 0x61);
	ZT_EQ(zd_split_huge_pages(w.mm, a, a + 2 * MiB), 0);
	wt_fini(&w);
}

static void test_split_huge_pages(void **state)
{
	struct wt w;
	struct zd_folio *thp, *huge, *large;
	struct dev_snap hs, ls;
	unsigned long a;

	wt_init(&w, state);
	a = map_anon(w.mm, 6 * MiB);
	ZT_EQ(zd_madvise(w.mm, a, 6 * MiB, ZD_MADV_HUGEPAGE), 0);
	write_page(w.mm, a + 5 * PG, 0x60);
	ZT_EQ(level_at(w.mm, a), 2);
	thp = zt_folio_at(w.mm, a, NULL);
	huge = map_device_huge(&w, a + PMDSZ, 0xdd, &hs);
	(void)huge;
	/* block 2, migrate_vma runs: a large coherent folio mapped by PTEs, never split */
	large = map_device_large_ptes(&w, a + 2 * PMDSZ, 0xde, &ls);

	/* Extra references (GUP): can_split_folio refuses. */
	zd_folio_get(thp);
	ZT_EQ(zd_split_huge_pages(w.mm, a, a + 6 * MiB), 0);
	zd_folio_put(thp);
	ZT_EQ(level_at(w.mm, a), 2);

	ZT_EQ(zd_split_huge_pages(w.mm, a, a + 6 * MiB), 1);
	ZT_EQ(level_at(w.mm, a), 1);
	ZT_EQ(level_at(w.mm, a + PMDSZ - PG), 1);
	/* split_folio_to_order(): 512 small folios, each mapped once where its page was. */
	ZT_PTR_EQ(zt_folio_at(w.mm, a + 77 * PG, NULL), (struct zd_folio *)zd_folio_page(thp, 77));
	ZT_EQ(zd_folio_order(thp), 0);
	ZT_EQ(zd_folio_mapcount(thp), 1);
	ZT_EQ(zd_folio_ref_count(thp), 1);
	ZT_EQ(zd_folio_order(zt_folio_at(w.mm, a + 77 * PG, NULL)), 0);
	ZT_EQ(zd_folio_mapcount(zt_folio_at(w.mm, a + 77 * PG, NULL)), 1);
	ZT_EQ(zd_folio_ref_count(zt_folio_at(w.mm, a + 77 * PG, NULL)), 1);
	ZT_TRUE(zd_folio_test_flag(thp, ZD_PG_lru));
	ZT_TRUE(zd_folio_test_flag(zt_folio_at(w.mm, a + 77 * PG, NULL), ZD_PG_lru));
	expect_page(w.mm, a + 5 * PG, 0x60);
	/* The device THP is not a transparent huge page to split. */
	EXPECT_UNTOUCHED(w.mm, &hs);
	EXPECT_UNTOUCHED(w.mm, &ls);
	ZT_EQ(zd_split_huge_pages(w.mm, a, a + 6 * MiB), 0);
	EXPECT_UNTOUCHED(w.mm, &hs);
	EXPECT_UNTOUCHED(w.mm, &ls);
	if (large) {
		ZT_EQ(zd_folio_order(large), ZD_PMD_ORDER);
		/* Nor collapsed: a device page makes the block SCAN_PAGE_NULL. */
		ZT_EQ(zd_madvise(w.mm, a + 2 * PMDSZ, PMDSZ, ZD_MADV_COLLAPSE), -EINVAL);
		EXPECT_UNTOUCHED(w.mm, &ls);
		expect_page(w.mm, a + 2 * PMDSZ, 0xde);
	}
	ZT_EQ(zd_check_invariants(w.sys), 0);

	/* The small folios collapse into a new THP; the old ones are freed. */
	ZT_EQ(zd_madvise(w.mm, a, PMDSZ, ZD_MADV_COLLAPSE), 0);
	ZT_EQ(level_at(w.mm, a), 2);
	ZT_TRUE(zt_folio_at(w.mm, a, NULL) != thp);
	ZT_EQ(zd_folio_ref_count(thp), 0);
	expect_page(w.mm, a + 5 * PG, 0x60);
	ZT_EQ(zd_split_huge_pages(w.mm, a + PG, a), -EINVAL);
	EXPECT_UNTOUCHED(w.mm, &hs);
	EXPECT_UNTOUCHED(w.mm, &ls);
	wt_fini(&w);
}

/* ---- MADV_COLD, MADV_PAGEOUT, MADV_FREE ---- */

/*
 *   block 0: [ 70 71 72 73 | DEV DEV | none ... ]
 *   block 1: [ DEV (order 9, one PMD leaf) ]
 *   -> the RAM pages made old and deactivated (FREE: clean and lazyfree);
 *      madvise_cold_or_pageout_pte_range and madvise_free_pte_range skip
 *      the device folios, which keep entry, counts and flags.
 */
static void test_madv_cold_pageout_free(void **state)
{
	static const int advice[3] = { ZD_MADV_COLD, ZD_MADV_PAGEOUT, ZD_MADV_FREE };
	struct wt w;
	struct zd_folio *dev[2], *ram[4];
	struct dev_snap ds[2], hs;
	unsigned long a;

	wt_init(&w, state);
	a = map_anon(w.mm, 4 * MiB);
	for (int i = 0; i < 4; i++) {
		write_page(w.mm, a + (unsigned long)i * PG, 0x70 + i);
		ram[i] = zt_folio_at(w.mm, a + (unsigned long)i * PG, NULL);
	}
	for (int i = 0; i < 2; i++) {
		dev[i] = map_device(&w, a + (4ul + (unsigned long)i) * PG, 0xe0 + i);
		snap(w.mm, a + (4ul + (unsigned long)i) * PG, &ds[i]);
		ZT_PTR_EQ(ds[i].folio, dev[i]);
	}
	map_device_huge(&w, a + PMDSZ, 0xe2, &hs);

	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 4; i++)	/* young and dirty again */
			write_page(w.mm, a + (unsigned long)i * PG, 0x70 + i);
		ZT_EQ(zd_madvise(w.mm, a, 4 * MiB, advice[k]), 0);
		for (int i = 0; i < 4; i++) {
			zd_pte_t e = zt_entry_at(w.mm, a + (unsigned long)i * PG, NULL);

			ZT_PTR_EQ(zt_folio_at(w.mm, a + (unsigned long)i * PG, NULL), ram[i]);
			ZT_TRUE(!zd_pte_young(e));
			ZT_TRUE(zd_folio_test_flag(ram[i], ZD_PG_lru));
			ZT_TRUE(!zd_folio_test_flag(ram[i], ZD_PG_active));
			if (advice[k] == ZD_MADV_FREE) {
				ZT_TRUE(!zd_pte_dirty(e));
				ZT_TRUE(!zd_folio_test_flag(ram[i], ZD_PG_dirty));
				ZT_TRUE(!zd_folio_test_flag(ram[i], ZD_PG_swapbacked));
			}
		}
		EXPECT_UNTOUCHED(w.mm, &ds[0]);
		EXPECT_UNTOUCHED(w.mm, &ds[1]);
		EXPECT_UNTOUCHED(w.mm, &hs);
		ZT_EQ(zd_check_invariants(w.sys), 0);
	}
	expect_page(w.mm, a + 4 * PG, 0xe0);
	expect_page(w.mm, a + 5 * PG, 0xe1);
	wt_fini(&w);
}

/* ---- device-private entries: not present, so no walker even sees a page ---- */

static void test_device_private(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_devmem_pool *pp = NULL;
	struct zd_khugepaged_stats st;
	struct zd_vm_area_struct *vma;
	struct zd_numa_stats ns;
	struct zd_folio *priv;
	struct zd_page *page;
	struct zd_mm *mm = NULL;
	unsigned long a, addrs[2];
	int status[2], nodes[2] = { 0, 0 }, ref, mapcount;
	zd_pte_t e;

	ZT_EQ(zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0, &pp), 0);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = map_anon(mm, 2 * MiB);
	ZT_EQ(zd_madvise(mm, a, 2 * MiB, ZD_MADV_MERGEABLE), 0);
	write_page(mm, a, 0x11);
	write_page(mm, a + PG, 0x11);
	ZT_EQ(zd_devmem_pool_alloc(pp, 0, &priv), 0);
	zt_map_device_private(mm, a + 2 * PG, priv);
	e = zt_entry_at(mm, a + 2 * PG, NULL);
	ref = zd_folio_ref_count(priv);
	mapcount = zd_folio_mapcount(priv);
	ZT_EQ(ref, zd_pgmap_free_refcount(zd_devmem_pool_pgmap(pp)) + 1);	/* the entry's */
	ZT_EQ(mapcount, 1);

	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, a);
	ZT_EQ(zd_follow_page(vma, a + 2 * PG, ZD_FW_GET, &page), -ENOENT);
	ZT_EQ(zd_change_prot_numa(vma, a, a + 2 * MiB), 2);
	zd_mmap_read_unlock(mm);
	ZT_EQ(zd_numa_maps(mm, &ns), 0);
	ZT_EQ(ns.pages, 2);
	addrs[0] = a + 2 * PG;
	addrs[1] = a;
	ZT_EQ(zd_move_pages(mm, 2, addrs, nodes, status), 0);
	ZT_EQ(status[0], -ENOENT);
	ZT_EQ(status[1], 0);
	ZT_EQ(zd_move_pages(mm, 2, addrs, NULL, status), 0);
	ZT_EQ(status[0], -ENOENT);
	ZT_EQ(zd_ksm_scan(&mm, 1), 1);		/* the two RAM pages only */
	/* SCAN_PTE_NON_PRESENT */
	ZT_EQ(zd_madvise(mm, a, 2 * MiB, ZD_MADV_COLLAPSE), -EINVAL);
	ZT_EQ(zd_madvise(mm, a, 2 * MiB, ZD_MADV_HUGEPAGE), 0);
	ZT_EQ(zd_khugepaged_scan_mm(mm, &st), 0);
	ZT_EQ(st.results[ZD_SCAN_PTE_NON_PRESENT], 1);
	ZT_EQ(zd_split_huge_pages(mm, a, a + 2 * MiB), 0);

	ZT_EQU(zt_entry_at(mm, a + 2 * PG, NULL), e);
	ZT_EQ(zd_folio_ref_count(priv), ref);
	ZT_EQ(zd_folio_mapcount(priv), mapcount);
	ZT_TRUE(!zd_folio_test_flag(priv, ZD_PG_lru));
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
	ZT_EQ(zd_devmem_pool_destroy(pp, 2000 * MS), 0);
	ZT_EQ(zd_check_invariants(sys), 0);
}

/* ---- device DAX: a shared mapping every walker leaves alone ---- */

static void devdax_walkers(void **state, unsigned long align)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_khugepaged_stats st;
	struct zd_devdax *dd = NULL;
	struct zd_mm *mm = NULL;
	struct zd_vm_area_struct *vma;
	struct zd_numa_stats ns;
	struct zd_page *page;
	struct dev_snap ds[4];
	unsigned long d = 0, r, addrs[2];
	int status[2], nodes[2] = { 0, 0 }, nsnap = align == PG ? 4 : 1;

	ZT_EQ(zd_devdax_create(sys, 4 * MiB, align, &dd), 0);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	ZT_EQ(zd_mmap(mm, 0, 4 * MiB, RW, ZD_MAP_SHARED, zd_devdax_file(dd), 0, 0, &d), 0);
	for (int i = 0; i < nsnap; i++)
		write_page(mm, d + (unsigned long)i * PG * 3, 0x70 + i);
	/* A RAM page next to it, which the walkers do act on. */
	r = map_anon(mm, 2 * MiB);
	write_page(mm, r, 0x7f);
	for (int i = 0; i < nsnap; i++)
		snap(mm, d + (unsigned long)i * PG * 3, &ds[i]);
	ZT_EQ(ds[0].level, align == PG ? 1 : 2);

	/* mlock: a DAX VMA is never VM_LOCKED (mlock_fixup), its folios untouched. */
	ZT_EQ(zd_mlock(mm, d, 4 * MiB), 0);
	zd_mmap_read_lock(mm);
	ZT_TRUE(!(zd_vma_lookup(mm, d)->vm_flags & ZD_VM_LOCKED));
	zd_mmap_read_unlock(mm);
	/* The fault-in mapped the rest; snapshot again only what we compare. */
	for (int i = 0; i < nsnap; i++)
		EXPECT_UNTOUCHED(mm, &ds[i]);
	ZT_EQ(zd_munlock(mm, d, 4 * MiB), 0);

	/* NUMA hinting: no device entry becomes PROT_NONE; the RAM page does. */
	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, d);
	ZT_EQ(zd_change_prot_numa(vma, vma->vm_start, vma->vm_end), 0);
	vma = zd_vma_lookup(mm, r);
	ZT_EQ(zd_change_prot_numa(vma, vma->vm_start, vma->vm_end), 1);
	zd_mmap_read_unlock(mm);
	ZT_EQ(zd_numa_maps(mm, &ns), 0);
	ZT_EQ(ns.pages, 1);

	/* move_pages: a DAX VMA is not migratable; the query says -ENOENT. */
	addrs[0] = d;
	addrs[1] = r;
	ZT_EQ(zd_move_pages(mm, 2, addrs, nodes, status), 0);
	ZT_EQ(status[0], -EFAULT);
	ZT_EQ(status[1], 0);
	ZT_EQ(zd_move_pages(mm, 2, addrs, NULL, status), 0);
	ZT_EQ(status[0], -ENOENT);
	ZT_EQ(status[1], 0);

	/* KSM: identical (zeroed) device pages, shared mapping: never merged. */
	ZT_EQ(zd_madvise(mm, d, 4 * MiB, ZD_MADV_MERGEABLE), 0);
	ZT_EQ(zd_ksm_scan(&mm, 1), 0);

	/* Collapse and split: DAX is not for khugepaged nor for the debugfs split. */
	ZT_EQ(zd_madvise(mm, d, 4 * MiB, ZD_MADV_COLLAPSE), -EINVAL);
	ZT_EQ(zd_khugepaged_scan_mm(mm, &st), 0);
	ZT_EQ(st.pmds_scanned, 0);
	ZT_EQ(zd_split_huge_pages(mm, d, d + 4 * MiB), 0);

	/* follow_page(FOLL_LRU) refuses them without keeping a reference (B16). */
	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, d);
	ZT_EQ(zd_follow_page(vma, d, ZD_FW_GET | ZD_FW_LRU, &page), -EEXIST);
	zd_mmap_read_unlock(mm);

	for (int i = 0; i < nsnap; i++) {
		EXPECT_UNTOUCHED(mm, &ds[i]);
		expect_page(mm, d + (unsigned long)i * PG * 3, 0x70 + i);
	}
	expect_page(mm, r, 0x7f);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
	zd_devdax_destroy(dd);
	ZT_EQ(zd_check_invariants(sys), 0);
}

static void test_devdax_4k(void **state)
{
	devdax_walkers(state, PG);
}

static void test_devdax_2m(void **state)
{
	devdax_walkers(state, 2 * MiB);
}

/*
 * The walker tests again with their small device pages put in place by
 * migrate_vma from RAM pages of the range (map_device()): device-coherent
 * pages mapped the way a driver maps them, never on an LRU (R5.x, R12.5).
 */
#define MIGRATED(fn)                                    \
	static void fn##_migrated(void **state)          \
	{                                                \
		next_migrated = true;                    \
		fn(state);                               \
	}
MIGRATED(test_follow_page_lru)
MIGRATED(test_madv_collapse)
MIGRATED(test_khugepaged_scan)
MIGRATED(test_ksm_merge)
MIGRATED(test_mlock)
MIGRATED(test_numa_hinting)
MIGRATED(test_move_pages)
MIGRATED(test_split_huge_pages)
MIGRATED(test_madv_cold_pageout_free)
#define ZT_TEST_MIGRATED(fn) \
	{ #fn "(migrate_vma)", fn##_migrated, zt_setup, zt_teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_follow_page_lru),
		ZT_TEST(test_madv_collapse),
		ZT_TEST(test_khugepaged_scan),
		ZT_TEST(test_ksm_merge),
		ZT_TEST(test_mlock),
		ZT_TEST(test_numa_hinting),
		ZT_TEST(test_move_pages),
		ZT_TEST(test_split_huge_pages),
		ZT_TEST(test_split_huge_pages_pte_mapped),
		ZT_TEST(test_madv_cold_pageout_free),
		ZT_TEST(test_device_private),
		ZT_TEST(test_devdax_4k),
		ZT_TEST(test_devdax_2m),
		ZT_TEST_MIGRATED(test_follow_page_lru),
		ZT_TEST_MIGRATED(test_madv_collapse),
		ZT_TEST_MIGRATED(test_khugepaged_scan),
		ZT_TEST_MIGRATED(test_ksm_merge),
		ZT_TEST_MIGRATED(test_mlock),
		ZT_TEST_MIGRATED(test_numa_hinting),
		ZT_TEST_MIGRATED(test_move_pages),
		ZT_TEST_MIGRATED(test_split_huge_pages),
		ZT_TEST_MIGRATED(test_madv_cold_pageout_free),
		/*
		 * The legacy 1-based scheme (free device pages at 1, no large
		 * device folios): the same skips.
		 */
		ZT_TEST_V(test_follow_page_lru, coherent_one),
		ZT_TEST_V(test_madv_collapse, coherent_one),
		ZT_TEST_V(test_khugepaged_scan, coherent_one),
		ZT_TEST_V(test_ksm_merge, coherent_one),
		ZT_TEST_V(test_mlock, coherent_one),
		ZT_TEST_V(test_numa_hinting, coherent_one),
		ZT_TEST_V(test_move_pages, coherent_one),
		ZT_TEST_V(test_split_huge_pages, coherent_one),
		ZT_TEST_V(test_madv_cold_pageout_free, coherent_one),
		ZT_TEST_V(test_device_private, private_one),
		ZT_TEST_V(test_devdax_4k, generic_one),
		ZT_TEST_V(test_devdax_2m, generic_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
