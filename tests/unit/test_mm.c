// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_mm.c - address spaces: mmap/munmap/mprotect/mremap/
 * madvise edge cases, VMA split and merge, the zero page, anonymous
 * faults, COW and page reuse, THP, and the counts after munmap and exit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/gup.h>
#include <zonedev/sync/thread.h>

#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define PG ZD_PAGE_SIZE

/* ---- errors ---- */

static void test_mmap_errors(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a;

	ZT_EQ(zd_mmap(fx->mm, 0, 0, RW, ANON, NULL, 0, 0, &a), -EINVAL);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, RW, ZD_MAP_ANONYMOUS, NULL, 0, 0, &a), -EINVAL);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, RW, ANON | ZD_MAP_SHARED, NULL, 0, 0, &a), -EINVAL);
	ZT_EQ(zd_mmap(fx->mm, 0x10000001000ul + 1, PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &a),
	      -EINVAL);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, RW, ANON, NULL, 0, 3 * PG, &a), -EINVAL);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, 0x100, ANON, NULL, 0, 0, &a), -EINVAL);
	ZT_EQ(zd_mmap(fx->mm, 0, ZD_TASK_SIZE + PG, RW, ANON, NULL, 0, 0, &a), -ENOMEM);
	ZT_EQU(zt_nr_vmas(fx->mm), 0);
}

static void test_munmap_mprotect_errors(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);

	ZT_EQ(zd_munmap(fx->mm, a + 1, PG), -EINVAL);
	ZT_EQ(zd_munmap(fx->mm, a, 0), -EINVAL);
	/* munmap of nothing succeeds; mprotect of nothing is ENOMEM (as in Linux) */
	ZT_EQ(zd_munmap(fx->mm, a + 64 * PG, PG), 0);
	ZT_EQ(zd_mprotect(fx->mm, a + 64 * PG, PG, ZD_PROT_READ), -ENOMEM);
	ZT_EQ(zd_mprotect(fx->mm, a + 1, PG, ZD_PROT_READ), -EINVAL);
	/* a range running past the mapping has a hole */
	ZT_EQ(zd_mprotect(fx->mm, a, 8 * PG, ZD_PROT_READ), -ENOMEM);
	ZT_EQ(zd_madvise(fx->mm, a, 8 * PG, ZD_MADV_DONTNEED), -ENOMEM);
	ZT_EQ(zd_madvise(fx->mm, a, PG, 9999), -EINVAL);
	ZT_EQ(zd_madvise(fx->mm, a + 1, PG, ZD_MADV_DONTNEED), -EINVAL);
	/* nothing changed: one VMA, still writable */
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	/* access outside any VMA */
	ZT_EQ(zd_cpu_write(fx->mm, a + 64 * PG, "x", 1), -EFAULT);
}

/*
 *   a        a+1p     a+2p     a+3p     a+4p
 *   |-- A rw ---------------------------|   before: one VMA
 *   |-- A rw |-- B r -|-- C rw ---------|   mprotect(a+1p, 1p, R): split in three
 *   |-- A rw ---------------------------|   mprotect(a+1p, 1p, RW): merged into one
 *   |-- A rw |        |-- C rw ---------|   munmap(a+1p, 1p): two, a hole between
 *   |-- A rw ---------------------------|   mmap(a+1p, 1p, FIXED): the three merge
 *                                           munmap(a, 4p): none
 */
static void test_vma_split_merge(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), b;

	ZT_EQ(zd_mprotect(fx->mm, a + PG, PG, ZD_PROT_READ), 0);
	ZT_EQU(zt_nr_vmas(fx->mm), 3);
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "x", 1), -EFAULT);
	ZT_EQ(zd_cpu_write(fx->mm, a + 2 * PG, "x", 1), 0);
	ZT_EQ(zd_mprotect(fx->mm, a + PG, PG, RW), 0);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	ZT_EQ(zd_munmap(fx->mm, a + PG, PG), 0);
	ZT_EQU(zt_nr_vmas(fx->mm), 2);
	/* refill the hole with a FIXED mapping: the three merge */
	ZT_EQ(zd_mmap(fx->mm, a + PG, PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &b), 0);
	ZT_EQU(b, a + PG);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	ZT_EQ(zd_munmap(fx->mm, a, 4 * PG), 0);
	ZT_EQU(zt_nr_vmas(fx->mm), 0);
}

/* ---- faults ---- */

static void test_zero_page_then_write(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_folio *zero = zd_zero_folio(fx->sys), *f;
	int zref = zd_folio_ref_count(zero);
	char buf[16] = "garbage";
	zd_pte_t e;
	int lvl;

	ZT_EQ(zd_cpu_read(fx->mm, a, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		ZT_EQ(buf[i], 0);
	ZT_TRUE(zd_follow_entry(fx->mm, a, &e, &lvl));
	ZT_TRUE(zd_pte_special(e));
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(zero));
	ZT_EQ(zd_folio_ref_count(zero), zref);		/* no reference, no mapcount */
	ZT_EQ(zd_folio_mapcount(zero), 0);

	ZT_EQ(zd_cpu_write(fx->mm, a + 5, "hello", 6), 0);
	f = zt_folio_at(fx->mm, a, &lvl);
	ZT_TRUE(f != NULL && f != zero);
	ZT_EQ(lvl, 1);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_EQ(zd_folio_mapcount(f), 1);
	ZT_TRUE(zd_folio_test_anon(f));
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_lru));
	ZT_EQ(zd_cpu_read(fx->mm, a + 5, buf, 6), 0);
	ZT_EQ(strcmp(buf, "hello"), 0);
	/* a write fault on an untouched page allocates at once */
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "w", 1), 0);
	ZT_TRUE(zt_folio_at(fx->mm, a + PG, NULL) != zero);
}

static void test_cow_after_fork(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_folio *orig, *f;
	struct zd_mm *child;
	char buf[8];

	ZT_EQ(zd_cpu_write(fx->mm, a, "parent", 7), 0);
	orig = zt_folio_at(fx->mm, a, NULL);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	/* shared, read-only on both sides */
	ZT_EQ(zd_folio_ref_count(orig), 2);
	ZT_EQ(zd_folio_mapcount(orig), 2);
	ZT_TRUE(!zd_page_test_flag(&orig->page, ZD_PG_anon_exclusive));

	ZT_EQ(zd_cpu_write(child, a, "child", 6), 0);
	f = zd_pfn_folio(fx->sys, 0);
	{
		zd_pte_t e;
		int lvl;

		ZT_TRUE(zd_follow_entry(child, a, &e, &lvl));
		f = zd_pfn_folio(fx->sys, zd_pte_pfn(e));
	}
	ZT_TRUE(f != orig);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 7), 0);
	ZT_EQ(strcmp(buf, "parent"), 0);
	ZT_EQ(zd_cpu_read(child, a, buf, 6), 0);
	ZT_EQ(strcmp(buf, "child"), 0);
	ZT_EQ(zd_folio_ref_count(orig), 1);
	ZT_EQ(zd_folio_mapcount(orig), 1);

	/* the parent's page is its own again: reused, not copied */
	ZT_EQ(zd_cpu_write(fx->mm, a, "again!", 7), 0);
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, NULL), orig);
	zd_mm_destroy(child);
	ZT_EQ(zd_folio_ref_count(orig), 1);
}

static void test_exit_child_then_reuse(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_folio *orig;
	struct zd_mm *child;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	orig = zt_folio_at(fx->mm, a, NULL);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	zd_mm_destroy(child);		/* exit: the child's mapping goes */
	ZT_EQ(zd_folio_ref_count(orig), 1);
	ZT_EQ(zd_folio_mapcount(orig), 1);
	ZT_EQ(zd_cpu_write(fx->mm, a, "y", 1), 0);
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, NULL), orig);
	ZT_TRUE(zd_page_test_flag(&orig->page, ZD_PG_anon_exclusive));
}

/* A pinned page is copied at fork, so the pin keeps seeing the parent's data. */
static void test_fork_copies_pinned_page(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_folio *pinned;
	struct zd_page *pin = NULL;
	struct zd_mm *child;
	char buf[8];

	ZT_EQ(zd_cpu_write(fx->mm, a, "parent", 7), 0);
	pinned = zt_folio_at(fx->mm, a, NULL);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_WRITE, &pin), 1);
	ZT_PTR_EQ(zd_page_folio(pin), pinned);
	ZT_TRUE(zd_folio_maybe_dma_pinned(pinned));
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_TRUE(zt_folio_at(fx->mm, a, NULL) == pinned);
	ZT_TRUE(zd_page_test_flag(&pinned->page, ZD_PG_anon_exclusive));
	ZT_EQ(zd_folio_mapcount(pinned), 1);
	ZT_EQ(zd_cpu_write(child, a, "child", 6), 0);
	memcpy(buf, zd_page_address(&pinned->page), 7);
	ZT_EQ(strcmp(buf, "parent"), 0);
	ZT_EQ(zd_cpu_read(child, a, buf, 6), 0);
	ZT_EQ(strcmp(buf, "child"), 0);
	zd_unpin_user_page(pin);
	zd_mm_destroy(child);
}

static void test_munmap_restores_counts(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 64 * PG);
	struct zd_mm_stats st;

	ZT_EQ(zd_cpu_touch(fx->mm, a, 64 * PG, true), 0);
	zd_mm_get_stats(fx->mm, &st);
	ZT_EQ(st.rss_anon, 64);
	ZT_TRUE(st.nr_pgtables >= 4);
	ZT_EQU(zd_nr_free_pages(fx->sys), fx->free0 - 64);
	ZT_EQ(zd_munmap(fx->mm, a, 64 * PG), 0);
	zd_mm_get_stats(fx->mm, &st);
	ZT_EQ(st.rss_anon, 0);
	ZT_EQU(st.nr_pgtables, 1);		/* only the PGD is left */
	ZT_EQU(zd_nr_free_pages(fx->sys), fx->free0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
}

/* ---- THP ---- */

/*
 * A write fault in a THP-enabled, PMD-aligned VMA maps a whole order-9
 * folio with one PMD leaf; munmap of one page of it splits the leaf:
 *
 *   a        a+1p     a+2p                      a+2M
 *   |== PMD leaf: folio F, 512 pages ===========|   before: 1 ref, entire mapcount 1
 *   |- PTE --|        |- PTE --|-- ... PTE -----|   after munmap(a+1p, 1p): 511 PTEs of F,
 *                                                   511 refs, mapcount 511, no entire map
 */
static void test_thp_fault_and_split(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = 0;
	struct zd_folio *f;
	int lvl = 0;

	ZT_EQ(zd_mmap(fx->mm, 0, 4ul << 20, RW, ANON, NULL, 0, ZD_PMD_SIZE, &a), 0);
	ZT_EQU(a & (ZD_PMD_SIZE - 1), 0);
	ZT_EQ(zd_madvise(fx->mm, a, 4ul << 20, ZD_MADV_HUGEPAGE), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + 8 * PG, "thp", 4), 0);
	f = zt_folio_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	ZT_EQU(zd_folio_order(f), ZD_PMD_ORDER);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_EQ(zd_folio_mapcount(f), 1);
	ZT_EQ(zd_folio_entire_mapcount(f), 1);
	/* unmapping one page splits the PMD: 511 PTEs, one reference each */
	ZT_EQ(zd_munmap(fx->mm, a + PG, PG), 0);
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, &lvl), f);
	ZT_EQ(lvl, 1);
	ZT_EQ(zd_folio_entire_mapcount(f), 0);
	ZT_EQ(zd_folio_mapcount(f), 511);
	ZT_EQ(zd_folio_ref_count(f), 511);
	{
		char buf[4];

		ZT_EQ(zd_cpu_read(fx->mm, a + 8 * PG, buf, 4), 0);
		ZT_EQ(strcmp(buf, "thp"), 0);
	}
	ZT_EQ(zd_munmap(fx->mm, a, 4ul << 20), 0);
}

/* ---- mprotect, madvise ---- */

static void test_mprotect_none_and_back(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	char buf[6];

	ZT_EQ(zd_cpu_write(fx->mm, a, "keep", 5), 0);
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, ZD_PROT_NONE), 0);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 1), -EFAULT);
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, ZD_PROT_READ), 0);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 5), 0);
	ZT_EQ(strcmp(buf, "keep"), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), -EFAULT);
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, RW), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
}

static bool entry_writable(struct zd_mm *mm, unsigned long addr)
{
	zd_pte_t e;
	int lvl;

	return zd_follow_entry(mm, addr, &e, &lvl) && zd_pte_present(e) && zd_pte_write(e);
}

/*
 * change_pte_range() with MM_CP_TRY_CHANGE_WRITABLE: giving write back to
 * a private mapping makes an exclusive anonymous page writable at once (no
 * write fault needed); a page shared with a child stays read-only; a
 * shared mapping without write notification takes its writable
 * vm_page_prot.
 */
static void test_change_pte_range_try_change_writable(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), s = 0;
	struct zd_mm *child;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	ZT_TRUE(entry_writable(fx->mm, a));
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, ZD_PROT_READ), 0);
	ZT_TRUE(!entry_writable(fx->mm, a));
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, RW), 0);
	ZT_TRUE(entry_writable(fx->mm, a));

	/* shared with a child: not exclusive, stays read-only until a write */
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, ZD_PROT_READ), 0);
	ZT_EQ(zd_mprotect(fx->mm, a, 2 * PG, RW), 0);
	ZT_TRUE(!entry_writable(fx->mm, a));
	zd_mm_destroy(child);

	/*
	 * A shared mapping with write notification (the model's shmem has a
	 * page_mkwrite): only a dirty entry, already notified, gets write back.
	 */
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0, 0, &s), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, s, PG, false), 0);
	ZT_EQ(zd_cpu_write(fx->mm, s + PG, "y", 1), 0);
	ZT_EQ(zd_mprotect(fx->mm, s, 2 * PG, ZD_PROT_READ), 0);
	ZT_TRUE(!entry_writable(fx->mm, s + PG));
	ZT_EQ(zd_mprotect(fx->mm, s, 2 * PG, RW), 0);
	ZT_TRUE(!entry_writable(fx->mm, s));
	ZT_TRUE(entry_writable(fx->mm, s + PG));
	ZT_EQ(zd_munmap(fx->mm, s, 2 * PG), 0);
}

/*
 * mprotect_fixup(): a change that leaves the VMA's flags as they are
 * touches no entry: a writable migration entry stays writable.
 */
static void test_mprotect_fixup_unchanged(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_folio *folio;
	zd_pte_t e;
	int lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "w", 1), 0);
	folio = zt_folio_at(fx->mm, a, NULL);
	zd_folio_get(folio);
	zd_folio_lock(folio);
	ZT_TRUE(zd_try_to_migrate(folio));
	ZT_TRUE(zd_follow_entry(fx->mm, a, &e, &lvl) && zd_is_writable_migration_entry(e));
	ZT_EQ(zd_mprotect(fx->mm, a, PG, RW), 0);
	ZT_TRUE(zd_follow_entry(fx->mm, a, &e, &lvl) && zd_is_writable_migration_entry(e));
	zd_remove_migration_ptes(folio, folio);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	ZT_TRUE(entry_writable(fx->mm, a));
}

/*
 *   a        a+1p     a+2p     a+3p     a+4p
 *   |  none  |  P rw  |  none  |  none  |   before: page 1 written (one RAM page)
 *   |  none  |  none  |  none  |  none  |   MADV_DONTNEED(a, 4p): the PTE zapped, the
 *                                           page freed; the VMA stays, a read sees zeros
 */
static void test_madvise_dontneed(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);
	char c = 1;

	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "data", 5), 0);
	ZT_EQU(zd_nr_free_pages(fx->sys), fx->free0 - 1);
	ZT_EQ(zd_madvise(fx->mm, a, 4 * PG, ZD_MADV_DONTNEED), 0);
	ZT_EQU(zd_nr_free_pages(fx->sys), fx->free0);
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, &c, 1), 0);
	ZT_EQ(c, 0);
}

/* ---- mremap ---- */

/*
 *   a    a+1p a+2p a+3p a+4p a+5p
 *   |-- A ----|                       mmap 2 pages; "moved" written at a+1p
 *   |-- A --------------|             mremap(a, 2p -> 4p): grown in place
 *   |-- A --------------|-B r|        B at a+4p: growing to 8p fails (ENOMEM) ...
 *                       |-B r|        ... but with MREMAP_MAYMOVE A moves to out,
 *                                     8 pages, "moved" at out+1p; reads at a fault
 *
 *   a := out                        out
 *   |-- A, 8 pages, empty --|  ...  |-- A, 8 pages ----------|
 *   MREMAP_DONTUNMAP (a, 8p -> 8p): the pages move to out, the old range
 *   stays mapped and empty (it reads zeros)
 */
static void test_mremap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), b, out;
	char buf[8];

	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "moved", 6), 0);
	/* grow in place */
	ZT_EQ(zd_mremap(fx->mm, a, 2 * PG, 4 * PG, 0, 0, &out), 0);
	ZT_EQU(out, a);
	/* block the end, then grow: only with MAYMOVE */
	ZT_EQ(zd_mmap(fx->mm, a + 4 * PG, PG, ZD_PROT_READ, ANON | ZD_MAP_FIXED, NULL, 0, 0, &b), 0);
	ZT_EQ(zd_mremap(fx->mm, a, 4 * PG, 8 * PG, 0, 0, &out), -ENOMEM);
	ZT_EQ(zd_mremap(fx->mm, a, 4 * PG, 8 * PG, ZD_MREMAP_MAYMOVE, 0, &out), 0);
	ZT_TRUE(out != a);
	ZT_EQ(zd_cpu_read(fx->mm, out + PG, buf, 6), 0);
	ZT_EQ(strcmp(buf, "moved"), 0);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 1), -EFAULT);	/* the old range is gone */
	/* DONTUNMAP: the old range stays, empty */
	a = out;
	ZT_EQ(zd_mremap(fx->mm, a, 8 * PG, 8 * PG, ZD_MREMAP_MAYMOVE | ZD_MREMAP_DONTUNMAP, 0, &out),
	      0);
	ZT_EQ(zd_cpu_read(fx->mm, out + PG, buf, 6), 0);
	ZT_EQ(strcmp(buf, "moved"), 0);
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, buf, 1), 0);
	ZT_EQ(buf[0], 0);
	/* errors */
	ZT_EQ(zd_mremap(fx->mm, a + 1, PG, PG, 0, 0, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, 1ul << 46, PG, 2 * PG, ZD_MREMAP_MAYMOVE, 0, &out), -EFAULT);
	ZT_EQ(zd_mremap(fx->mm, a, PG, PG, ZD_MREMAP_FIXED, a + PG, &out), -EINVAL);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
}

/* ---- migration entries ---- */

/*
 * An anon page shared by parent and child (after fork) moves to a new
 * folio through rmap: both mappings become migration entries holding
 * nothing, then both map the copy.
 */
static void test_try_to_migrate_across_fork(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_folio *old, *new;
	struct zd_mm *child;
	char buf[8];
	zd_pte_t e;
	int lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "moving", 7), 0);
	old = zt_folio_at(fx->mm, a, NULL);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	zd_folio_get(old);			/* the migrating thread's reference */
	zd_folio_lock(old);

	/* given up: everything back as it was */
	ZT_TRUE(zd_try_to_migrate(old));
	ZT_EQ(zd_folio_mapcount(old), 0);
	ZT_EQ(zd_folio_ref_count(old), 1);
	ZT_TRUE(zd_follow_entry(child, a, &e, &lvl) && zd_is_migration_entry(e));
	ZT_TRUE(!zd_is_writable_migration_entry(e));
	zd_remove_migration_ptes(old, old);
	ZT_EQ(zd_folio_mapcount(old), 2);
	ZT_EQ(zd_folio_ref_count(old), 3);

	/* done: both mms map the copy */
	ZT_TRUE(zd_try_to_migrate(old));
	new = zd_folio_alloc(fx->sys, 0, 0);
	memcpy(zd_page_address(&new->page), zd_page_address(&old->page), PG);
	new->page.mapping = old->page.mapping;
	new->page.index = old->page.index;
	zd_remove_migration_ptes(old, new);
	ZT_EQ(zd_folio_mapcount(new), 2);
	ZT_EQ(zd_folio_ref_count(new), 3);
	zd_folio_put(new);
	zd_folio_unlock(old);
	ZT_EQ(zd_folio_ref_count(old), 1);
	zd_folio_put(old);			/* freed now */
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, NULL), new);
	ZT_EQ(zd_cpu_read(child, a, buf, 7), 0);
	ZT_EQ(strcmp(buf, "moving"), 0);
	/* still COW: the parent's write copies, the child keeps the data */
	ZT_EQ(zd_cpu_write(fx->mm, a, "parent", 7), 0);
	ZT_EQ(zd_cpu_read(child, a, buf, 7), 0);
	ZT_EQ(strcmp(buf, "moving"), 0);
	zd_mm_destroy(child);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
}

/* ---- PFN maps ---- */

struct pfn_drv {
	struct zd_file file;
	unsigned long pfn;		/* the frame every page maps */
	int faults;
};

static zd_vm_fault_t pfn_fault(struct zd_vm_fault *vmf)
{
	struct pfn_drv *d = vmf->vma->vm_private_data;

	d->faults++;
	return zd_vmf_insert_pfn(vmf, d->pfn, vmf->flags & ZD_FAULT_FLAG_WRITE);
}

static const struct zd_vm_operations_struct pfn_vm_ops = { .fault = pfn_fault, .name = "pfn" };

static int pfn_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	vma->vm_flags |= ZD_VM_PFNMAP | ZD_VM_IO;
	vma->vm_ops = &pfn_vm_ops;
	vma->vm_private_data = file->private_data;
	return 0;
}

static const struct zd_file_operations pfn_fops = { .mmap = pfn_mmap, .name = "pfn" };

/* A driver's PFN map: special entries that hold no reference (R12.16). */
static void test_pfnmap_special(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *frame = zd_folio_alloc(fx->sys, ZD_GFP_ZERO, 0);
	struct pfn_drv d = { .file = { .f_op = &pfn_fops }, .pfn = zd_folio_pfn(frame) };
	unsigned long a = 0;
	struct zd_mm *child;
	char buf[4];
	zd_pte_t e;
	int lvl;

	d.file.private_data = &d;
	zd_atomic_init(&d.file.f_count, 1l);
	memcpy(zd_page_address(&frame->page), "mmio", 4);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ZD_MAP_SHARED, &d.file, 0, 0, &a), 0);
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, buf, 4), 0);
	ZT_EQ(memcmp(buf, "mmio", 4), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "MMIO", 4), 0);
	ZT_EQ(memcmp(zd_page_address(&frame->page), "MMIO", 4), 0);
	ZT_TRUE(zd_follow_entry(fx->mm, a, &e, &lvl));
	ZT_TRUE(zd_pte_special(e));
	zd_mmap_read_lock(fx->mm);
	ZT_TRUE(zd_vm_normal_page(zd_vma_lookup(fx->mm, a), a, e) == NULL);
	zd_mmap_read_unlock(fx->mm);
	ZT_EQ(zd_folio_ref_count(frame), 1);		/* two mappings, no references */
	ZT_EQ(zd_folio_mapcount(frame), 0);
	ZT_EQ(d.faults, 2);
	/* fork copies the special entries of a PFN map as they are */
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_TRUE(zd_follow_entry(child, a, &e, &lvl) && zd_pte_special(e));
	ZT_EQ(zd_cpu_read(child, a, buf, 4), 0);
	ZT_EQ(memcmp(buf, "MMIO", 4), 0);
	ZT_EQ(d.faults, 2);
	zd_mm_destroy(child);
	ZT_EQ(zd_munmap(fx->mm, a, 2 * PG), 0);
	ZT_EQ(zd_folio_ref_count(frame), 1);
	ZT_EQ(zd_atomic_load_relaxed(&d.file.f_count), 1);
	zd_folio_put(frame);
}

/* ---- the MMU takes no mmap_lock for a permitted access ---- */

struct mmu_job {
	struct zd_mm *mm;
	unsigned long addr;
	bool write;
	int ret;
	unsigned char byte;
	_Atomic long done;
};

static void *mmu_job_run(void *arg)
{
	struct mmu_job *j = arg;
	unsigned char b = 0x5a;

	if (j->write)
		j->ret = zd_cpu_write(j->mm, j->addr, &b, 1);
	else
		j->ret = zd_cpu_read(j->mm, j->addr, &j->byte, 1);
	zd_atomic_store_release(&j->done, 1);
	return NULL;
}

/*
 * A load or store to a present entry that allows it completes while
 * another thread holds mmap_lock for write, as on hardware (the MMU never
 * takes it); one that needs a fault (no entry yet, or a write to a
 * read-only entry) waits for the writer, as the fault handler does.
 */
static void test_cpu_access_without_mmap_lock(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 3 * PG);
	struct mmu_job rd = { .mm = fx->mm, .addr = a + 7 };
	struct mmu_job wr = { .mm = fx->mm, .addr = a + 8, .write = true };
	struct mmu_job miss = { .mm = fx->mm, .addr = a + PG };
	struct mmu_job ro = { .mm = fx->mm, .addr = a + 2 * PG, .write = true };
	struct zd_thread *t[4];
	unsigned char b = 0x33, buf[2];
	zd_pte_t e;
	int lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a + 7, &b, 1), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + 2 * PG, &b, 1), 0);
	ZT_EQ(zd_mprotect(fx->mm, a + 2 * PG, PG, ZD_PROT_READ), 0);
	e = zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 1);
	ZT_TRUE(zd_pte_write(e));

	zd_mmap_write_lock(fx->mm);
	ZT_EQ(zd_thread_create(&t[0], mmu_job_run, &rd), 0);
	ZT_EQ(zd_thread_create(&t[1], mmu_job_run, &wr), 0);
	ZT_TRUE(zt_wait_positive(&rd.done, 30));
	ZT_TRUE(zt_wait_positive(&wr.done, 30));
	ZT_EQ(rd.ret, 0);
	ZT_EQU(rd.byte, 0x33);
	ZT_EQ(wr.ret, 0);
	e = zt_entry_at(fx->mm, a, &lvl);
	ZT_TRUE(e & ZD_PTE_YOUNG);
	ZT_TRUE(e & ZD_PTE_DIRTY);
	/* Faults: the fault handler waits for mmap_lock. */
	ZT_EQ(zd_thread_create(&t[2], mmu_job_run, &miss), 0);
	ZT_EQ(zd_thread_create(&t[3], mmu_job_run, &ro), 0);
	zt_sleep_ms(100);
	ZT_EQ(zd_atomic_load_acquire(&miss.done), 0);
	ZT_EQ(zd_atomic_load_acquire(&ro.done), 0);
	ZT_EQU(zt_entry_at(fx->mm, a + PG, &lvl), 0);
	zd_mmap_write_unlock(fx->mm);
	for (int i = 0; i < 4; i++)
		zd_thread_join(t[i]);
	ZT_EQ(miss.ret, 0);
	ZT_EQU(miss.byte, 0);
	ZT_EQ(ro.ret, -EFAULT);		/* SIGSEGV: the VMA is read-only */
	ZT_EQ(zd_cpu_read(fx->mm, a + 7, buf, 2), 0);
	ZT_EQU(buf[0], 0x33);
	ZT_EQU(buf[1], 0x5a);
}

/* ---- data=none ---- */

static void test_data_none(void **state)
{
	struct zt_reports log = { 0 };
	struct zd_system_options o;
	struct zd_system *sys;
	struct zd_mm *mm;
	unsigned long a;
	char c;

	(void)state;
	zt_options(&o, &log, ZD_SCHEME_ZERO, ZD_CHECK_CHEAP);
	o.data = ZD_DATA_NONE;
	sys = zt_system_create_opts(&o);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	ZT_EQ(zd_mmap(mm, 0, 16 * PG, RW, ANON, NULL, 0, 0, &a), 0);
	ZT_EQ(zd_cpu_touch(mm, a, 16 * PG, true), 0);
	ZT_EQ(zd_cpu_read(mm, a, &c, 1), -EOPNOTSUPP);
	zd_mm_destroy(mm);
	zt_system_destroy_clean(sys, &log);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_mmap_errors),
		ZT_MM_TEST(test_munmap_mprotect_errors),
		ZT_MM_TEST(test_vma_split_merge),
		ZT_MM_TEST(test_zero_page_then_write),
		ZT_MM_TEST(test_cow_after_fork),
		ZT_MM_TEST(test_exit_child_then_reuse),
		ZT_MM_TEST(test_fork_copies_pinned_page),
		ZT_MM_TEST(test_munmap_restores_counts),
		ZT_MM_TEST(test_thp_fault_and_split),
		ZT_MM_TEST(test_mprotect_none_and_back),
		ZT_MM_TEST(test_change_pte_range_try_change_writable),
		ZT_MM_TEST(test_mprotect_fixup_unchanged),
		ZT_MM_TEST(test_madvise_dontneed),
		ZT_MM_TEST(test_mremap),
		ZT_MM_TEST(test_pfnmap_special),
		ZT_MM_TEST(test_try_to_migrate_across_fork),
		ZT_MM_TEST(test_cpu_access_without_mmap_lock),
		cmocka_unit_test(test_data_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
