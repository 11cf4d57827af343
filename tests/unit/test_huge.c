// SPDX-License-Identifier: MIT
/*
 * test_huge - huge (PMD and PUD) entries where they meet a range that
 * covers only part of them, as mm/huge_memory.c handles them: a zap of
 * part of a leaf (__split_huge_pmd_locked / __split_huge_pud_locked), a
 * move (move_huge_pmd / move_huge_pud), a VMA boundary inside a leaf
 * (vma_adjust_trans_huge), reuse of an anonymous THP by an unshare fault
 * (do_huge_pmd_wp_page) and the huge zero folio (do_huge_pmd_anonymous_page).
 *
 *   2 MiB device DAX:  [ PMD leaf | PMD leaf | ... ]   one folio per leaf
 *   zap of 4 KiB:          ^--- the whole leaf goes; the next access refaults
 *   anonymous THP:     [ PMD leaf ]  ->  [ 512 PTEs ]   split, not removed
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/gup.h>
#include <zonedev/devdax.h>

#define KiB (1ul << 10)
#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define MS (1000ull * 1000ull)
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define PG ZD_PAGE_SIZE

/* ---- helpers ---- */

/* The entry mapping @addr and its level (1 PTE, 2 PMD, 3 PUD), 0 if none. */
static int entry_at(struct zd_mm *mm, unsigned long addr, zd_pte_t *e)
{
	zd_pte_t ent = 0;
	int level = 0;

	if (zd_follow_entry(mm, addr, &ent, &level) <= 0 || zd_pte_none(ent))
		level = 0;
	if (e)
		*e = ent;
	return level;
}

/* A device-DAX instance of @size bytes at @align, mapped shared RW whole. */
static unsigned long map_devdax(struct zt_fixture *fx, uint64_t size, unsigned long align)
{
	unsigned long addr = 0;

	ZT_EQ(zd_devdax_create(fx->sys, size, align, &fx->dd), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, size, RW, ZD_MAP_SHARED, zd_devdax_file(fx->dd), 0, 0, &addr), 0);
	ZT_EQU(addr & (align - 1), 0);
	return addr;
}

static struct zd_folio *devdax_folio(struct zt_fixture *fx, unsigned long pgoff)
{
	struct zd_folio *folio = zd_pfn_folio(fx->sys, zd_devdax_pgoff_to_pfn(fx->dd, pgoff));

	ZT_TRUE(folio != NULL);
	return folio;
}

static long rss_file(struct zd_mm *mm)
{
	struct zd_mm_stats st;

	zd_mm_get_stats(mm, &st);
	return st.rss_file;
}

/* ---- a zap over part of a huge entry ---- */

/*
 * __split_huge_pmd_locked() for a device-DAX VMA: MADV_DONTNEED of one
 * 4 KiB page of a 2 MiB PMD leaf removes the whole leaf (one rmap
 * removal, one put), it does not split it into 511 PTEs with 511
 * references; the next access refaults the PMD, with the data kept.
 *
 *   a          a+1p                 a+2M                 a+4M
 *   |== PMD leaf F0 (ref 2) ========|                    |   write at a+5p
 *   |    none  ^                    |                    |   DONTNEED(a+1p, 1p): F0's
 *               zapped 4 KiB                                 whole leaf goes (ref 1)
 *   |== PMD leaf F0 ================|== PMD leaf F1 =====|   reads at a+1p, a+2M refault
 *   |== PMD leaf F0 ================|                        munmap(a+1p, 1p): EINVAL;
 *                                                            munmap(a+2M, 2M): F1 goes
 *   |    none                       |                        DONTNEED(a+2M-1p, 1p): F0 goes
 */
static void test___split_huge_pmd_locked_dax(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_devdax(fx, 4 * MiB, 2 * MiB);
	struct zd_folio *folio = devdax_folio(fx, 0);
	char buf[4] = { 0 };
	zd_pte_t e;

	ZT_EQ(zd_cpu_write(fx->mm, a + 5 * PG, "dax", 4), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_EQ(zd_folio_ref_count(folio), 2);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_EQ(rss_file(fx->mm), 512);

	ZT_EQ(zd_madvise(fx->mm, a + PG, PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 0);
	ZT_EQ(entry_at(fx->mm, a + 5 * PG, NULL), 0);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 0);
	ZT_EQ(rss_file(fx->mm), 0);
	/* the entry was dirty: the folio says so */
	ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_dirty));

	/* The zapped page itself refaults the whole PMD; the data is the device's. */
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, buf, 1), 0);
	ZT_EQ(entry_at(fx->mm, a + PG, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(folio));
	ZT_EQ(zd_cpu_read(fx->mm, a + 5 * PG, buf, 4), 0);
	ZT_EQ(memcmp(buf, "dax", 4), 0);
	ZT_EQ(zd_folio_ref_count(folio), 2);
	ZT_EQ(zd_folio_mapcount(folio), 1);

	/*
	 * munmap cannot cut a leaf: device DAX refuses a VMA boundary inside
	 * its alignment (dev_dax_may_split), so the leaf stays whole.
	 */
	ZT_EQ(zd_munmap(fx->mm, a + PG, PG), -EINVAL);
	ZT_EQ(entry_at(fx->mm, a + PG, NULL), 2);
	ZT_EQ(zd_folio_ref_count(folio), 2);
	/* an aligned munmap takes the upper leaf whole and leaves the lower one */
	{
		struct zd_folio *upper = devdax_folio(fx, 512);

		ZT_EQ(zd_cpu_read(fx->mm, a + 2 * MiB, buf, 1), 0);
		ZT_EQ(entry_at(fx->mm, a + 2 * MiB, NULL), 2);
		ZT_EQ(zd_folio_ref_count(upper), 2);
		ZT_EQ(zd_munmap(fx->mm, a + 2 * MiB, 2 * MiB), 0);
		ZT_EQ(zd_folio_ref_count(upper), 1);
		ZT_EQ(zd_folio_mapcount(upper), 0);
		ZT_EQ(entry_at(fx->mm, a, NULL), 2);
		ZT_EQ(zd_folio_ref_count(folio), 2);
	}
	/* and a zap of the last 4 KiB of the VMA left removes the lower leaf whole */
	ZT_EQ(zd_madvise(fx->mm, a + 2 * MiB - PG, PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 0);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * __split_huge_pud_locked(): MADV_DONTNEED of 2 MiB inside a 1 GiB PUD
 * leaf of device DAX removes the leaf (today's kernel; it used to leave
 * it mapped, zapping nothing), and the next access refaults it.
 *
 *   a          a+2M      a+4M                              a+1G
 *   |== PUD leaf F (ref 2, mapcount 1) ====================|   write at a+3M
 *   |    none                                              |   DONTNEED(a+2M, 2M): the
 *                                                              whole leaf goes (ref 1)
 *   |== PUD leaf F ========================================|   read at a+3M refaults it
 */
static void test___split_huge_pud_locked_dax(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_devdax(fx, 1 * GiB, 1 * GiB);
	struct zd_folio *folio = devdax_folio(fx, 0);
	char buf[4] = { 0 };

	ZT_EQ(zd_cpu_write(fx->mm, a + 3 * MiB, "pud", 4), 0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 3);
	ZT_EQ(zd_folio_ref_count(folio), 2);
	ZT_EQ(zd_folio_mapcount(folio), 1);

	ZT_EQ(zd_madvise(fx->mm, a + 2 * MiB, 2 * MiB, ZD_MADV_DONTNEED), 0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 0);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 0);
	ZT_EQ(rss_file(fx->mm), 0);

	ZT_EQ(zd_cpu_read(fx->mm, a + 3 * MiB, buf, 4), 0);
	ZT_EQ(memcmp(buf, "pud", 4), 0);
	ZT_EQ(entry_at(fx->mm, a + 3 * MiB, NULL), 3);
	ZT_EQ(zd_folio_ref_count(folio), 2);
	zt_expect_no_reports(&fx->log);
}

/*
 * __split_huge_pmd_locked() for an anonymous VMA still splits: a zap of
 * one page of a THP leaves 511 PTEs holding 511 references.
 *
 *   a        a+1p     a+2p                       a+2M
 *   |== PMD leaf: THP F =========================|   before
 *   |- PTE --|  none  |- PTE --|-- ... PTE ------|   DONTNEED(a+1p, 1p): split,
 *                                                    F: ref 511, mapcount 511
 */
static void test___split_huge_pmd_locked_anon(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = 0;
	struct zd_folio *folio;
	zd_pte_t e;

	ZT_EQ(zd_mmap(fx->mm, 0, 2 * MiB, RW, ANON, NULL, 0, 2 * MiB, &a), 0);
	ZT_EQ(zd_madvise(fx->mm, a, 2 * MiB, ZD_MADV_HUGEPAGE), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "t", 1), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	folio = zd_pfn_folio(fx->sys, zd_pte_pfn(e));
	ZT_EQ(zd_madvise(fx->mm, a + PG, PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 1);
	ZT_EQ(entry_at(fx->mm, a + PG, NULL), 0);
	ZT_EQ(zd_folio_ref_count(folio), 511);
	ZT_EQ(zd_folio_mapcount(folio), 511);
	zt_expect_no_reports(&fx->log);
}

/* ---- mremap of huge entries ---- */

/*
 * move_huge_pud(): mremap of a 1 GiB device-DAX mapping moves its PUD
 * leaf whole, with its reference and mapcount; the old place maps
 * nothing and the new one needs no fault.
 *
 *   a                a+1G        b = a+4G         b+1G
 *   |== PUD leaf F ==|           |                |   before (written at a+7M)
 *   |    none        |           |== PUD leaf F ==|   mremap(a, 1G, FIXED b): the
 *                                                     same leaf, writable, ref 2, map 1
 */
static void test_move_huge_pud_dax(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_devdax(fx, 1 * GiB, 1 * GiB), b = a + 4 * GiB, got = 0;
	struct zd_folio *folio = devdax_folio(fx, 0);
	char buf[4] = { 0 };
	zd_pte_t e;

	ZT_EQ(zd_cpu_write(fx->mm, a + 7 * MiB, "mov", 4), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 3);
	ZT_EQ(zd_mremap(fx->mm, a, 1 * GiB, 1 * GiB, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED, b, &got),
	      0);
	ZT_EQU(got, b);
	ZT_EQ(entry_at(fx->mm, a, NULL), 0);
	ZT_EQ(entry_at(fx->mm, b + 7 * MiB, &e), 3);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(folio));
	ZT_TRUE(zd_pte_write(e));
	ZT_EQ(zd_folio_ref_count(folio), 2);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_EQ(rss_file(fx->mm), 1l << ZD_PUD_ORDER);
	ZT_EQ(zd_cpu_read(fx->mm, b + 7 * MiB, buf, 4), 0);
	ZT_EQ(memcmp(buf, "mov", 4), 0);
	ZT_EQ(zd_munmap(fx->mm, b, 1 * GiB), 0);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * move_huge_pmd(): mremap of a 4 MiB device-DAX mapping (2 MiB leaves)
 * moves both PMD leaves whole, references and mapcounts unchanged.
 *
 *   a         a+2M      a+4M      b = a+64M  b+2M      b+4M
 *   |== F0 ===|== F1 ===|         |          |         |   before
 *   |  none   |  none   |         |== F0 ====|== F1 ===|   mremap(a, 4M, FIXED b)
 */
static void test_move_huge_pmd_dax(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_devdax(fx, 4 * MiB, 2 * MiB), b = a + 64 * MiB, got = 0;
	struct zd_folio *f0 = devdax_folio(fx, 0), *f1 = devdax_folio(fx, 512);
	zd_pte_t e;

	ZT_EQ(zd_cpu_write(fx->mm, a, "0", 1), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + 2 * MiB, "1", 1), 0);
	ZT_EQ(zd_mremap(fx->mm, a, 4 * MiB, 4 * MiB, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED, b, &got),
	      0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 0);
	ZT_EQ(entry_at(fx->mm, a + 2 * MiB, NULL), 0);
	ZT_EQ(entry_at(fx->mm, b, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(f0));
	ZT_EQ(entry_at(fx->mm, b + 2 * MiB, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(f1));
	ZT_EQ(zd_folio_ref_count(f0), 2);
	ZT_EQ(zd_folio_mapcount(f0), 1);
	ZT_EQ(zd_folio_ref_count(f1), 2);
	ZT_EQ(zd_folio_mapcount(f1), 1);
	ZT_EQ(rss_file(fx->mm), 1024);
	zt_expect_no_reports(&fx->log);
}

/* ---- a VMA boundary inside a PMD-mapped THP ---- */

/* A written, PMD-mapped anonymous THP of 2 MiB (MADV_HUGEPAGE); returns its address. */
static unsigned long map_thp(struct zt_fixture *fx, struct zd_mm *mm, struct zd_folio **folio)
{
	unsigned long a = 0;
	zd_pte_t e;

	ZT_EQ(zd_mmap(mm, 0, 2 * MiB, RW, ANON, NULL, 0, 2 * MiB, &a), 0);
	ZT_EQ(zd_madvise(mm, a, 2 * MiB, ZD_MADV_HUGEPAGE), 0);
	ZT_EQ(zd_cpu_write(mm, a, "thp", 4), 0);
	ZT_EQ(entry_at(mm, a, &e), 2);
	*folio = zd_pfn_folio(fx->sys, zd_pte_pfn(e));
	ZT_EQ(zd_folio_order(*folio), ZD_PMD_ORDER);
	return a;
}

/*
 * vma_adjust_trans_huge(): mprotect of the upper half of a THP splits the
 * VMA and, at the boundary, the PMD; fork then copies 512 PTEs once each
 * (every page mapped twice), not the whole leaf once per VMA that
 * overlaps it (refcount 3, mapcount 3, 512 pages lost at exit).
 *
 *   a                       a+1M                     a+2M
 *   |== PMD leaf: THP F, one VMA rw =================|   before
 *   |- A rw: 256 PTEs ------|- B r: 256 PTEs --------|   mprotect(a+1M, 1M, R): ref 512,
 *                                                        map 512
 *   fork: the child copies the 512 PTEs (ref 1024, map 1024); its exit: 512 again
 */
static void test_vma_adjust_trans_huge_fork(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	struct zd_mm *child = NULL;

	ZT_EQ(zd_mprotect(fx->mm, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(zd_mm_nr_vmas(fx->mm), 2);
	ZT_EQ(entry_at(fx->mm, a, NULL), 1);
	ZT_EQ(entry_at(fx->mm, a + 1 * MiB, NULL), 1);
	ZT_EQ(zd_folio_ref_count(folio), 512);
	ZT_EQ(zd_folio_mapcount(folio), 512);

	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(zd_folio_ref_count(folio), 1024);
	ZT_EQ(zd_folio_mapcount(folio), 1024);
	zd_mm_destroy(child);
	ZT_EQ(zd_folio_ref_count(folio), 512);
	ZT_EQ(zd_folio_mapcount(folio), 512);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * vma_adjust_trans_huge(), the protection side: after mprotect(PROT_READ)
 * of the upper half and a write fault in the lower (writable) half,
 * neither a CPU write nor pin_user_pages_fast(FOLL_WRITE) may write the
 * read-only half (Linux: -EFAULT), and the entries there stay read-only.
 *
 *   a                       a+1M  ro = a+1M+3p       a+2M
 *   |== PMD leaf: THP F, one VMA rw =================|   before
 *   |- A rw: PTEs ----------|- B r: PTEs ^-----------|   mprotect(a+1M, 1M, R), write at
 *                                                        a+1p; at ro: PTE read-only, a
 *                                                        write and a FOLL_WRITE pin fail
 */
static void test_vma_adjust_trans_huge_protection(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	unsigned long ro = a + 1 * MiB + 3 * PG;
	struct zd_page *page = NULL;
	zd_pte_t e;

	ZT_EQ(zd_mprotect(fx->mm, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "w", 1), 0);
	ZT_TRUE(entry_at(fx->mm, ro, &e) > 0);
	ZT_TRUE(!zd_pte_write(e));
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, ro, 1, ZD_FOLL_WRITE, &page), -EFAULT);
	ZT_PTR_EQ(page, NULL);
	ZT_EQ(zd_cpu_write(fx->mm, ro, "w", 1), -EFAULT);
	ZT_EQ(zd_folio_maybe_dma_pinned(folio), false);
	zt_expect_no_reports(&fx->log);
}

/*
 * vma_adjust_trans_huge() from madvise: an advice that splits the VMA
 * (MADV_NOHUGEPAGE on the first 4 KiB) splits the PMD at the boundary.
 *
 *   a        a+1p                                 a+2M
 *   |== PMD leaf: THP F, one VMA =================|   before
 *   |- A ----|- B: 511 PTEs ----------------------|   MADV_NOHUGEPAGE(a, 1p): two VMAs,
 *     1 PTE                                           512 PTEs, F: ref 512, map 512
 */
static void test_vma_adjust_trans_huge_madvise(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);

	ZT_EQ(zd_madvise(fx->mm, a, PG, ZD_MADV_NOHUGEPAGE), 0);
	ZT_EQ(zd_mm_nr_vmas(fx->mm), 2);
	ZT_EQ(entry_at(fx->mm, a, NULL), 1);
	ZT_EQ(entry_at(fx->mm, a + PG, NULL), 1);
	ZT_EQ(zd_folio_mapcount(folio), 512);
	ZT_EQ(zd_folio_ref_count(folio), 512);
	zt_expect_no_reports(&fx->log);
}

/* ---- reuse of a THP that is no longer shared ---- */

/*
 * do_huge_pmd_wp_page(): a THP shared with a fork child that has exited
 * (refcount back to 1, but no longer marked exclusive) is reused in place
 * by the unshare fault of an R/O long-term pin: the pin lands on the THP,
 * the PMD stays, and no 4 KiB copy is made.
 */
static void test_do_huge_pmd_wp_page_unshare_reuse(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	struct zd_page *page = NULL;
	struct zd_mm *child = NULL;
	unsigned long free_before;
	zd_pte_t e;

	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(zd_folio_mapcount(folio), 2);
	zd_mm_destroy(child);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_TRUE(!zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));

	free_before = zd_nr_free_pages(fx->sys);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + 5 * PG, 1, ZD_FOLL_LONGTERM, &page), 1);
	ZT_PTR_EQ(page, zd_folio_page(folio, 5));
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(folio));
	ZT_TRUE(!zd_pte_write(e));	/* an unshare does not make it writable */
	ZT_TRUE(zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));
	ZT_TRUE(zd_folio_maybe_dma_pinned(folio));
	ZT_EQU(zd_nr_free_pages(fx->sys), free_before);	/* nothing copied */
	zd_unpin_user_page(page);

	/* A write now reuses the exclusive THP too: the PMD becomes writable in place. */
	ZT_EQ(zd_cpu_write(fx->mm, a + 5 * PG, "w", 1), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(folio));
	ZT_TRUE(zd_pte_write(e));
	ZT_EQ(zd_folio_ref_count(folio), 1);
	zt_expect_no_reports(&fx->log);
}

/* do_huge_pmd_wp_page(): still shared (the child lives): the write splits and copies. */
static void test_do_huge_pmd_wp_page_shared(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	struct zd_mm *child = NULL;
	zd_pte_t e;

	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "p", 1), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 1);
	ZT_TRUE(zd_pte_pfn(e) != zd_folio_pfn(folio));
	ZT_EQ(entry_at(child, a, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(folio));
	zd_mm_destroy(child);
	zt_expect_no_reports(&fx->log);
}

/* ---- the huge zero folio ---- */

/* A 2 MiB-aligned anonymous MADV_HUGEPAGE region of @len bytes, not touched. */
static unsigned long map_thp_region(struct zd_mm *mm, unsigned long len)
{
	unsigned long a = 0;

	ZT_EQ(zd_mmap(mm, 0, len, RW, ANON, NULL, 0, 2 * MiB, &a), 0);
	ZT_EQ(zd_madvise(mm, a, len, ZD_MADV_HUGEPAGE), 0);
	return a;
}

static long rss_anon(struct zd_mm *mm)
{
	struct zd_mm_stats st;

	zd_mm_get_stats(mm, &st);
	return st.rss_anon;
}

/* @addr is mapped by a special PMD leaf of the huge zero folio. */
static void expect_huge_zero(struct zt_fixture *fx, struct zd_mm *mm, unsigned long addr)
{
	struct zd_folio *hz = zd_huge_zero_folio(fx->sys);
	zd_pte_t e;

	ZT_TRUE(hz != NULL);
	ZT_EQ(entry_at(mm, addr, &e), 2);
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(hz));
	ZT_TRUE(zd_pte_special(e));
	ZT_TRUE(!zd_pte_write(e));
	/* mapping it takes no reference and no mapcount */
	ZT_EQ(zd_folio_ref_count(hz), 1);
	ZT_EQ(zd_folio_mapcount(hz), 0);
	ZT_EQ(zd_folio_order(hz), ZD_PMD_ORDER);
}

/*
 * do_huge_pmd_anonymous_page(): a read fault in a THP region maps the
 * huge zero folio (one for the machine, held by each mm that maps it
 * until it exits), not a new THP; with use_zero_page off it allocates.
 */
static void test_do_huge_pmd_anonymous_page_huge_zero(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_thp_region(fx->mm, 4 * MiB), free0;
	struct zd_mm *other = NULL;
	unsigned char buf[64];
	zd_pte_t e;

	ZT_TRUE(zd_thp_use_zero_page(fx->sys));
	ZT_PTR_EQ(zd_huge_zero_folio(fx->sys), NULL);
	free0 = zd_nr_free_pages(fx->sys);
	memset(buf, 0xaa, sizeof(buf));
	ZT_EQ(zd_cpu_read(fx->mm, a + 3 * PG, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		ZT_EQ(buf[i], 0);
	expect_huge_zero(fx, fx->mm, a);
	ZT_EQ(rss_anon(fx->mm), 0);
	ZT_EQU(zd_nr_free_pages(fx->sys), free0 - 512);	/* the huge zero folio itself */
	/* the second PMD and another mm: the same folio, nothing more allocated */
	ZT_EQ(zd_cpu_read(fx->mm, a + 2 * MiB, buf, 1), 0);
	expect_huge_zero(fx, fx->mm, a + 2 * MiB);
	ZT_EQ(zd_mm_create(fx->sys, &other), 0);
	{
		unsigned long b = map_thp_region(other, 2 * MiB);

		ZT_EQ(zd_cpu_read(other, b, buf, 1), 0);
		expect_huge_zero(fx, other, b);
	}
	ZT_EQU(zd_nr_free_pages(fx->sys), free0 - 512);
	zd_mm_destroy(other);
	ZT_TRUE(zd_huge_zero_folio(fx->sys) != NULL);	/* fx->mm still holds it */
	ZT_EQ(zd_munmap(fx->mm, a, 4 * MiB), 0);
	ZT_TRUE(zd_huge_zero_folio(fx->sys) != NULL);	/* until it exits */
	zd_mm_destroy(fx->mm);
	fx->mm = NULL;
	ZT_PTR_EQ(zd_huge_zero_folio(fx->sys), NULL);
	ZT_EQU(zd_nr_free_pages(fx->sys), free0);

	/* use_zero_page = 0: a read fault allocates a THP */
	ZT_EQ(zd_mm_create(fx->sys, &fx->mm), 0);
	zd_thp_set_use_zero_page(fx->sys, false);
	a = map_thp_region(fx->mm, 2 * MiB);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 1), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_TRUE(!zd_pte_special(e));
	ZT_PTR_EQ(zd_huge_zero_folio(fx->sys), NULL);
	ZT_EQ(rss_anon(fx->mm), 512);
	zt_expect_no_reports(&fx->log);
}

/*
 * do_huge_zero_wp_pmd(): a write to the huge zero folio gets a new,
 * zeroed, exclusive THP mapped writable by the same PMD.
 */
static void test_do_huge_zero_wp_pmd(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_thp_region(fx->mm, 2 * MiB);
	unsigned char buf[8];
	struct zd_folio *folio;
	zd_pte_t e;

	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 1), 0);
	expect_huge_zero(fx, fx->mm, a);
	ZT_EQ(zd_cpu_write(fx->mm, a + 7 * PG, "zero", 4), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_TRUE(!zd_pte_special(e));
	ZT_TRUE(zd_pte_write(e));
	folio = zd_pfn_folio(fx->sys, zd_pte_pfn(e));
	ZT_TRUE(folio != zd_huge_zero_folio(fx->sys));
	ZT_EQ(zd_folio_order(folio), ZD_PMD_ORDER);
	ZT_TRUE(zd_folio_test_anon(folio));
	ZT_TRUE(zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_EQ(rss_anon(fx->mm), 512);
	ZT_EQ(zd_cpu_read(fx->mm, a + 7 * PG, buf, 8), 0);
	ZT_EQ(memcmp(buf, "zero\0\0\0\0", 8), 0);
	/* the huge zero folio itself was not written */
	ZT_EQ(((unsigned char *)zd_page_address(&zd_huge_zero_folio(fx->sys)->page))[7 * PG], 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * __split_huge_zero_page_pmd(): a split of the huge zero folio's leaf
 * (a VMA boundary from mprotect, a partial zap) maps the small zero page
 * in every PTE, read-only and special.
 */
static void test___split_huge_zero_page_pmd(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_thp_region(fx->mm, 2 * MiB);
	unsigned long zpfn = zd_folio_pfn(zd_zero_folio(fx->sys));
	unsigned char c = 1;
	zd_pte_t e;

	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	expect_huge_zero(fx, fx->mm, a);
	ZT_EQ(zd_mprotect(fx->mm, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	for (unsigned long off = 0; off < 2 * MiB; off += 1 * MiB - PG) {
		ZT_EQ(entry_at(fx->mm, a + off, &e), 1);
		ZT_EQU(zd_pte_pfn(e), zpfn);
		ZT_TRUE(zd_pte_special(e));
		ZT_TRUE(!zd_pte_write(e));
	}
	ZT_EQ(zd_madvise(fx->mm, a + PG, PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(entry_at(fx->mm, a + PG, NULL), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 1);
	ZT_EQU(zd_pte_pfn(e), zpfn);
	/* the writable half: a write copies the small zero page, as at PTE level */
	ZT_EQ(zd_cpu_write(fx->mm, a, "s", 1), 0);
	ZT_EQ(entry_at(fx->mm, a, &e), 1);
	ZT_TRUE(zd_pte_pfn(e) != zpfn && zd_pte_write(e));
	ZT_EQ(zd_cpu_write(fx->mm, a + 1 * MiB, "s", 1), -EFAULT);
	ZT_EQ(zd_cpu_read(fx->mm, a + 1 * MiB, &c, 1), 0);
	ZT_EQ(c, 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * __split_huge_zero_page_pmd() builds each PTE from vm_page_prot (present,
 * young: x86's protections carry ACCESSED), not from the PMD: the old
 * leaf fork gives the child splits into young PTEs of the small zero page.
 */
static void test___split_huge_zero_page_pmd_vm_page_prot(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_thp_region(fx->mm, 2 * MiB);
	unsigned long zpfn = zd_folio_pfn(zd_zero_folio(fx->sys));
	struct zd_mm *child = NULL;
	unsigned char c = 1;
	zd_pte_t e;

	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(entry_at(child, a, &e), 2);
	ZT_TRUE(!zd_pte_young(e));
	ZT_EQ(zd_mprotect(child, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	for (unsigned long off = 0; off < 2 * MiB; off += 1 * MiB - PG) {
		ZT_EQ(entry_at(child, a + off, &e), 1);
		ZT_EQU(zd_pte_pfn(e), zpfn);
		ZT_TRUE(zd_pte_special(e));
		ZT_TRUE(zd_pte_young(e));
		ZT_TRUE(!zd_pte_write(e));
		ZT_TRUE(!zd_pte_dirty(e));
	}
	zd_mm_destroy(child);
	zt_expect_no_reports(&fx->log);
}

/*
 * copy_huge_pmd(): fork shares the huge zero leaf (old, read-only); the
 * child holds the folio too, so it outlives the parent.
 */
static void test_copy_huge_pmd_huge_zero(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_thp_region(fx->mm, 2 * MiB);
	struct zd_mm *child = NULL;
	unsigned char c = 1;
	zd_pte_t e;

	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	expect_huge_zero(fx, child, a);
	ZT_EQ(entry_at(child, a, &e), 2);
	ZT_TRUE(!zd_pte_young(e));
	zd_mm_destroy(fx->mm);
	fx->mm = NULL;
	expect_huge_zero(fx, child, a);
	ZT_EQ(zd_cpu_write(child, a, "c", 1), 0);
	ZT_EQ(entry_at(child, a, &e), 2);
	ZT_TRUE(!zd_pte_special(e));
	fx->mm = child;
	zt_expect_no_reports(&fx->log);
}

/*
 * follow_huge_pmd() and the unshare of the huge zero folio, as the
 * kernel's cow selftest (run_with_huge_zeropage) expects:
 *  - GUP-fast does not take the special leaf; the slow path follows it,
 *    and a plain R/O pin or a GET lands on the huge zero folio itself;
 *  - an R/O long-term pin (slow or fast) unshares it: the pin lands on a
 *    new anonymous THP that the page table maps, so a later write through
 *    the page table is what the pin sees ("R/O longterm GUP pin");
 *  - a core dump (FOLL_DUMP) skips it.
 */
static void test_follow_huge_pmd_huge_zero(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_thp_region(fx->mm, 2 * MiB);
	struct zd_folio *hz, *folio;
	struct zd_page *pages[2] = { NULL, NULL };
	unsigned char c = 1;
	zd_pte_t e;

	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	hz = zd_huge_zero_folio(fx->sys);
	expect_huge_zero(fx, fx->mm, a);

	ZT_EQ(zd_get_user_pages_fast_only(fx->mm, a, 1, 0, pages), 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + 2 * PG, 2, 0, pages), 2);
	ZT_PTR_EQ(pages[0], zd_folio_page(hz, 2));
	ZT_PTR_EQ(pages[1], zd_folio_page(hz, 3));
	ZT_EQ(zd_folio_pincount(hz), 2);
	zd_unpin_user_pages(pages, 2);
	ZT_EQ(zd_folio_ref_count(hz), 1);

	zd_mmap_read_lock(fx->mm);
	ZT_EQ(zd_get_user_pages(fx->mm, a, 1, 0, pages), 1);
	ZT_PTR_EQ(pages[0], &hz->page);
	ZT_EQ(zd_folio_ref_count(hz), 2);
	zd_folio_put(hz);
	ZT_EQ(zd_get_user_pages(fx->mm, a, 1, ZD_FOLL_DUMP, pages), -EFAULT);
	zd_mmap_read_unlock(fx->mm);

	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + 5 * PG, 1, ZD_FOLL_LONGTERM, pages), 1);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_TRUE(!zd_pte_special(e));
	folio = zd_pfn_folio(fx->sys, zd_pte_pfn(e));
	ZT_PTR_EQ(pages[0], zd_folio_page(folio, 5));
	ZT_TRUE(zd_folio_test_anon(folio));
	ZT_TRUE(zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));
	ZT_EQ(zd_folio_pincount(folio), 1);
	ZT_EQ(zd_folio_ref_count(hz), 1);
	/* the write goes to the pinned page: the pin reads it */
	ZT_EQ(zd_cpu_write(fx->mm, a + 5 * PG + 9, "P", 1), 0);
	ZT_EQ(((unsigned char *)zd_page_address(pages[0]))[9], 'P');
	zd_unpin_user_page(pages[0]);
	zt_expect_no_reports(&fx->log);
}

/*
 * map_anon_folio_pmd(): a new THP's leaf is always dirty, writable only
 * where the VMA is. In a read-only VMA, the THP that an R/O long-term pin
 * gets by unsharing the huge zero folio (do_huge_zero_wp_pmd), and the
 * one a read fault allocates with use_zero_page off, are dirty too.
 */
static void test_map_anon_folio_pmd_dirty(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_page *page = NULL;
	unsigned long a = 0;
	unsigned char c = 1;
	zd_pte_t e;

	ZT_EQ(zd_mmap(fx->mm, 0, 4 * MiB, ZD_PROT_READ, ANON, NULL, 0, 2 * MiB, &a), 0);
	ZT_EQ(zd_madvise(fx->mm, a, 4 * MiB, ZD_MADV_HUGEPAGE), 0);
	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	expect_huge_zero(fx, fx->mm, a);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + 3 * PG, 1, ZD_FOLL_LONGTERM, &page), 1);
	ZT_EQ(entry_at(fx->mm, a, &e), 2);
	ZT_TRUE(!zd_pte_special(e));
	ZT_TRUE(zd_pte_dirty(e));
	ZT_TRUE(!zd_pte_write(e));
	ZT_PTR_EQ(page, zd_folio_page(zd_pfn_folio(fx->sys, zd_pte_pfn(e)), 3));
	zd_unpin_user_page(page);

	zd_thp_set_use_zero_page(fx->sys, false);
	ZT_EQ(zd_cpu_read(fx->mm, a + 2 * MiB, &c, 1), 0);
	ZT_EQ(entry_at(fx->mm, a + 2 * MiB, &e), 2);
	ZT_TRUE(!zd_pte_special(e));
	ZT_TRUE(zd_pte_dirty(e));
	ZT_TRUE(!zd_pte_write(e));
	zd_thp_set_use_zero_page(fx->sys, true);
	zt_expect_no_reports(&fx->log);
}

/* ---- the PTE table deposited with an anonymous PMD leaf ---- */

/* Make every call at @site fail (@times of them; -1 all), or none (0). */
static void fail_site(struct zt_fixture *fx, enum zd_fault_site site, long times)
{
	struct zd_fault_attr attr = { .probability = times ? 100 : 0, .interval = 1, .times = times };

	ZT_EQ(zd_system_set_fault(fx->sys, site, &attr), 0);
}

static long nr_pgtables(struct zd_mm *mm)
{
	struct zd_mm_stats st;

	zd_mm_get_stats(mm, &st);
	return (long)st.nr_pgtables;
}

/*
 * pgtable_trans_huge_deposit(): a THP and a huge zero leaf each carry the
 * PTE table their split will use, so splitting them allocates nothing and
 * cannot fail. With every page-table allocation failing, mprotect of half
 * of each, a partial munmap and a partial MADV_DONTNEED all succeed, as
 * they do in Linux; the split only withdraws a table already counted.
 */
static void test_pgtable_trans_huge_deposit(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	unsigned long z = map_thp_region(fx->mm, 4 * MiB);
	unsigned long zpfn = zd_folio_pfn(zd_zero_folio(fx->sys));
	unsigned char c = 1;
	long nr;
	zd_pte_t e;

	ZT_EQ(zd_cpu_read(fx->mm, z, &c, 1), 0);
	ZT_EQ(zd_cpu_read(fx->mm, z + 2 * MiB, &c, 1), 0);
	expect_huge_zero(fx, fx->mm, z);
	expect_huge_zero(fx, fx->mm, z + 2 * MiB);
	nr = nr_pgtables(fx->mm);

	fail_site(fx, ZD_FAULT_PGTABLE_ALLOC, -1);
	ZT_EQ(zd_mprotect(fx->mm, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(entry_at(fx->mm, a, NULL), 1);
	ZT_EQ(entry_at(fx->mm, a + 1 * MiB, &e), 1);
	ZT_TRUE(!zd_pte_write(e));
	ZT_EQ(zd_folio_mapcount(folio), 512);
	ZT_EQ(zd_folio_ref_count(folio), 512);
	ZT_EQ(zd_mprotect(fx->mm, z + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(entry_at(fx->mm, z + 1 * MiB, &e), 1);
	ZT_EQU(zd_pte_pfn(e), zpfn);
	ZT_EQ(zd_munmap(fx->mm, z + 3 * MiB, 1 * MiB), 0);
	ZT_EQ(entry_at(fx->mm, z + 2 * MiB, &e), 1);
	ZT_EQU(zd_pte_pfn(e), zpfn);
	ZT_EQ(zd_madvise(fx->mm, a + PG, PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(entry_at(fx->mm, a + PG, NULL), 0);
	ZT_EQ(zd_folio_mapcount(folio), 511);
	ZT_EQ(nr_pgtables(fx->mm), nr);		/* three deposits withdrawn, none allocated */
	fail_site(fx, ZD_FAULT_PGTABLE_ALLOC, 0);
	ZT_EQ(zd_cpu_read(fx->mm, a + 2 * PG, &c, 1), 0);
	ZT_EQ(c, 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	/* zap_deposited_table(): leaves zapped whole take their deposits (the checker counts them) */
	ZT_EQ(zd_cpu_write(fx->mm, z + PG, "w", 1), 0);
	ZT_EQ(zd_munmap(fx->mm, z, 3 * MiB), 0);
	{
		unsigned long b = map_thp_region(fx->mm, 4 * MiB);

		ZT_EQ(zd_cpu_write(fx->mm, b, "t", 1), 0);
		ZT_EQ(zd_cpu_read(fx->mm, b + 2 * MiB, &c, 1), 0);
		ZT_EQ(entry_at(fx->mm, b, NULL), 2);
		expect_huge_zero(fx, fx->mm, b + 2 * MiB);
		ZT_EQ(zd_check_invariants(fx->sys), 0);
		ZT_EQ(zd_munmap(fx->mm, b, 4 * MiB), 0);
	}
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * copy_huge_pmd() gives the child's THP and huge zero leaves deposits of
 * their own, and move_huge_pmd() keeps a moved leaf's: with page-table
 * allocation failing, the child splits both and the parent splits the
 * moved THP. A fork that cannot allocate the child's deposit is -ENOMEM.
 */
static void test_copy_huge_pmd_deposit(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	unsigned long z = map_thp_region(fx->mm, 2 * MiB);
	unsigned long b = 0, got = 0;
	struct zd_mm *child = NULL;
	unsigned char c = 1;

	ZT_EQ(zd_cpu_read(fx->mm, z, &c, 1), 0);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(zd_folio_mapcount(folio), 2);
	fail_site(fx, ZD_FAULT_PGTABLE_ALLOC, -1);
	ZT_EQ(zd_mprotect(child, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(zd_mprotect(child, z + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(entry_at(child, a, NULL), 1);
	ZT_EQ(entry_at(child, z, NULL), 1);
	ZT_EQ(entry_at(fx->mm, a, NULL), 2);
	ZT_EQ(zd_folio_mapcount(folio), 513);
	fail_site(fx, ZD_FAULT_PGTABLE_ALLOC, 0);
	zd_mm_destroy(child);
	child = NULL;
	ZT_EQ(zd_folio_mapcount(folio), 1);

	/* mremap moves the leaf whole; its split still needs no allocation */
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * MiB, RW, ANON, NULL, 0, 2 * MiB, &b), 0);
	ZT_EQ(zd_mremap(fx->mm, a, 2 * MiB, 2 * MiB, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED, b, &got), 0);
	ZT_EQU(got, b);
	ZT_EQ(entry_at(fx->mm, b, NULL), 2);
	fail_site(fx, ZD_FAULT_PGTABLE_ALLOC, -1);
	ZT_EQ(zd_mprotect(fx->mm, b + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(entry_at(fx->mm, b, NULL), 1);
	ZT_EQ(zd_folio_mapcount(folio), 512);
	ZT_EQ(zd_fork(fx->mm, &child), -ENOMEM);
	fail_site(fx, ZD_FAULT_PGTABLE_ALLOC, 0);
	ZT_PTR_EQ(child, NULL);
	ZT_EQ(zd_folio_mapcount(folio), 512);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * __split_vma(): the new VMA is allocated before vma_adjust_trans_huge(),
 * so when its allocation fails, mprotect of half a THP fails with the VMA
 * and the PMD leaf as they were (not split under a VMA that stays whole).
 */
static void test___split_vma_alloc_before_split(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *folio;
	unsigned long a = map_thp(fx, fx->mm, &folio);
	zd_pte_t e0, e;

	ZT_EQ(entry_at(fx->mm, a, &e0), 2);
	fail_site(fx, ZD_FAULT_VMA_ALLOC, 1);
	ZT_EQ(zd_mprotect(fx->mm, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), -ENOMEM);
	fail_site(fx, ZD_FAULT_VMA_ALLOC, 0);
	ZT_EQ(zd_mm_nr_vmas(fx->mm), 1);
	ZT_EQ(entry_at(fx->mm, a + 1 * MiB, &e), 2);
	ZT_TRUE(e == e0);
	ZT_EQ(zd_folio_entire_mapcount(folio), 1);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	/* the same call without the failure splits both */
	ZT_EQ(zd_mprotect(fx->mm, a + 1 * MiB, 1 * MiB, ZD_PROT_READ), 0);
	ZT_EQ(zd_mm_nr_vmas(fx->mm), 2);
	ZT_EQ(entry_at(fx->mm, a + 1 * MiB, NULL), 1);
	zt_expect_no_reports(&fx->log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test___split_huge_pmd_locked_dax),
		ZT_MM_TEST(test___split_huge_pud_locked_dax),
		ZT_MM_TEST(test___split_huge_pmd_locked_anon),
		ZT_MM_TEST(test_move_huge_pud_dax),
		ZT_MM_TEST(test_move_huge_pmd_dax),
		ZT_MM_TEST(test_vma_adjust_trans_huge_fork),
		ZT_MM_TEST(test_vma_adjust_trans_huge_protection),
		ZT_MM_TEST(test_vma_adjust_trans_huge_madvise),
		ZT_MM_TEST(test_do_huge_pmd_wp_page_unshare_reuse),
		ZT_MM_TEST(test_do_huge_pmd_wp_page_shared),
		ZT_MM_TEST(test_do_huge_pmd_anonymous_page_huge_zero),
		ZT_MM_TEST(test_do_huge_zero_wp_pmd),
		ZT_MM_TEST(test___split_huge_zero_page_pmd),
		ZT_MM_TEST(test___split_huge_zero_page_pmd_vm_page_prot),
		ZT_MM_TEST(test_copy_huge_pmd_huge_zero),
		ZT_MM_TEST(test_follow_huge_pmd_huge_zero),
		ZT_MM_TEST(test_map_anon_folio_pmd_dirty),
		ZT_MM_TEST(test_pgtable_trans_huge_deposit),
		ZT_MM_TEST(test_copy_huge_pmd_deposit),
		ZT_MM_TEST(test___split_vma_alloc_before_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
