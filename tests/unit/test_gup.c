// SPDX-License-Identifier: MIT
/*
 * test_gup - get_user_pages / pin_user_pages (mm/gup.c, semantics §4).
 *
 * Argument rules (R4.1), GET vs PIN accounting (R4.2, R4.3: +1 per GET;
 * +1024 per pin of a small folio; +1 and _pincount +1 per pin of a large
 * one), folio_maybe_dma_pinned exactly while pinned (R4.6), unpin
 * restoring every count and reporting unpins of pins that are not there,
 * the refcount limit, the zero page (returned, never pinned), VMA checks
 * (R4.7-R4.9), COW broken by FOLL_WRITE and by the unshare fault of a
 * R/O pin after fork, a page pinned before fork copied eagerly, fast and
 * slow paths agreeing, THP (PMD-mapped, order 9) and device-DAX pages
 * (ZONE_DEVICE GENERIC, PTE and PMD mapped), and the long-term rules per
 * memory type (§4.4); device-DAX and small pins also in the legacy
 * 1-based scheme.
 *
 *   parent: [ P ]----fork----> child: [ P ]   one page, shared, R/O both
 *   pin(W) in parent:   parent [ P' ] (pinned, exclusive)   child [ P ]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/devdax.h>
#include <zonedev/gup.h>
#include <zonedev/mm.h>
#include "gup/internal.h"

#define MiB (1ul << 20)
#define MS (1000ull * 1000ull)
#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define BIAS ZD_GUP_PIN_COUNTING_BIAS

static long pin_locked(struct zd_mm *mm, unsigned long a, unsigned long n, unsigned int flags,
		       struct zd_page **pages)
{
	long ret;

	zd_mmap_read_lock(mm);
	ret = zd_pin_user_pages(mm, a, n, flags, pages);
	zd_mmap_read_unlock(mm);
	return ret;
}

static long get_locked(struct zd_mm *mm, unsigned long a, unsigned long n, unsigned int flags,
		       struct zd_page **pages)
{
	long ret;

	zd_mmap_read_lock(mm);
	ret = zd_get_user_pages(mm, a, n, flags, pages);
	zd_mmap_read_unlock(mm);
	return ret;
}

static void put_pages(struct zd_page **pages, long n)
{
	for (long i = 0; i < n; i++)
		zd_put_page(pages[i]);
}

/* ---- R4.1: arguments ---- */

static void test_args(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);
	struct zd_page *pages[4];

	ZT_EQ(zd_cpu_touch(fx->mm, a, 4 * PG, true), 0);
	/* GET and PIN together */
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_GET | ZD_FOLL_PIN, pages), -EINVAL);
	ZT_EQ(pin_locked(fx->mm, a, 1, ZD_FOLL_GET, pages), -EINVAL);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 1, ZD_FOLL_PIN, pages), -EINVAL);
	/* LONGTERM without PIN */
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_LONGTERM, pages), -EINVAL);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 1, ZD_FOLL_LONGTERM, pages), -EINVAL);
	/* GET/PIN without a pages array */
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_GET, NULL), -EINVAL);
	ZT_EQ(pin_locked(fx->mm, a, 1, 0, NULL), -EINVAL);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, 0, NULL), -EINVAL);
	/* LONGTERM with PCI_P2PDMA */
	ZT_EQ(pin_locked(fx->mm, a, 1, ZD_FOLL_LONGTERM | ZD_FOLL_PCI_P2PDMA, pages), -EINVAL);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_LONGTERM | ZD_FOLL_PCI_P2PDMA, pages),
	      -EINVAL);
	/* unknown flags, flags the fast path does not take, unmodelled flags */
	ZT_EQ(get_locked(fx->mm, a, 1, 1u << 30, pages), -EINVAL);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 1, ZD_FOLL_DUMP, pages), -EINVAL);
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_NOWAIT, pages), -EOPNOTSUPP);
	/* FOLL_SPLIT_PMD is modelled (test_split_pmd): on a PTE it changes nothing */
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_SPLIT_PMD, pages), 1);
	zd_put_page(pages[0]);
	/* ranges */
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 0, 0, pages), 0);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, -3, 0, pages), 0);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, ~0ul - PG, 4, 0, pages), -EOVERFLOW);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, ZD_TASK_SIZE - PG, 2, 0, pages), -EFAULT);
	ZT_EQ(get_locked(fx->mm, a, 0, 0, pages), 0);
	/* nothing was taken by any of these */
	for (int i = 0; i < 4; i++)
		ZT_EQ(zd_folio_ref_count(zt_folio_at(fx->mm, a + (unsigned long)i * PG, NULL)), 1);
}

/* Without GET/PIN and without pages the range is only faulted in. */
static void test_populate(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 8 * PG);

	ZT_EQ(get_locked(fx->mm, a, 8, ZD_FOLL_WRITE, NULL), 8);
	for (int i = 0; i < 8; i++) {
		struct zd_folio *f = zt_folio_at(fx->mm, a + (unsigned long)i * PG, NULL);

		ZT_TRUE(f != NULL);
		ZT_EQ(zd_folio_ref_count(f), 1);
		ZT_TRUE(f != zd_zero_folio(fx->sys));
	}
}

/* ---- VMA checks (R4.7-R4.9) and holes ---- */

static void test_vma_checks(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 8 * PG), ro = 0;
	struct zd_page *pages[8];

	ZT_EQ(zd_cpu_touch(fx->mm, a, 8 * PG, true), 0);
	/* no VMA */
	ZT_EQ(get_locked(fx->mm, a + 64 * PG, 1, 0, pages), -EFAULT);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + 64 * PG, 1, 0, pages), -EFAULT);
	/* a hole after the first VMA: what was before it is returned */
	ZT_EQ(zd_munmap(fx->mm, a + 4 * PG, 4 * PG), 0);
	ZT_EQ(get_locked(fx->mm, a, 8, 0, pages), 4);
	put_pages(pages, 4);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 8, 0, pages), 4);
	zd_unpin_user_pages(pages, 4);

	/* read-only VMA: a write needs FORCE (test_force_write_cow) */
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, ZD_PROT_READ, ANON, NULL, 0, 0, &ro), 0);
	ZT_EQ(get_locked(fx->mm, ro, 1, ZD_FOLL_WRITE, pages), -EFAULT);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, ro, 1, ZD_FOLL_WRITE, pages), -EFAULT);

	/* PROT_NONE: no access without FORCE; FORCE reads the page */
	ZT_EQ(zd_cpu_write(fx->mm, a, "n", 2), 0);
	ZT_EQ(zd_mprotect(fx->mm, a, PG, ZD_PROT_NONE), 0);
	ZT_EQ(get_locked(fx->mm, a, 1, 0, pages), -EFAULT);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 1, 0, pages), -EFAULT);
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_FORCE, pages), 1);
	ZT_EQ(memcmp(zd_page_address(pages[0]), "n", 2), 0);
	zd_put_page(pages[0]);

	/* FOLL_ANON refuses a file mapping: shared anonymous memory is shmem */
	{
		unsigned long sh = 0, shro = 0;

		ZT_EQ(zd_mmap(fx->mm, 0, PG, RW, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0, 0, &sh),
		      0);
		ZT_EQ(get_locked(fx->mm, sh, 1, ZD_FOLL_ANON, pages), -EFAULT);
		ZT_EQ(get_locked(fx->mm, sh, 1, 0, pages), 1);
		zd_put_page(pages[0]);
		/* FORCE writes only private (COW) mappings */
		ZT_EQ(zd_mmap(fx->mm, 0, PG, ZD_PROT_READ, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0,
			      0, &shro), 0);
		ZT_EQ(get_locked(fx->mm, shro, 1, ZD_FOLL_FORCE | ZD_FOLL_WRITE, pages), -EFAULT);
	}
}

/*
 * R4.7: FOLL_LONGTERM on an fs-dax VMA is -EOPNOTSUPP (check_vma_flags).
 * Registered as a skip: no DAX file system exists yet to map one.
 */
static void test_check_vma_flags_fsdax_longterm(void **state)
{
	(void)state;
	print_message("R4.7 needs an fs-dax mapping: no DAX file system yet\n");
	skip();
}

/*
 * ptrace's FOLL_FORCE write to a read-only private mapping: the write
 * fault COWs the page into an exclusive anonymous page that stays
 * read-only for the CPU (check_vma_flags, can_follow_write_pte).
 */
static void test_force_write_cow(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long ro = 0;
	struct zd_page *pages[1];
	zd_pte_t e;
	int lvl;

	ZT_EQ(zd_mmap(fx->mm, 0, PG, ZD_PROT_READ, ANON, NULL, 0, 0, &ro), 0);
	ZT_EQ(get_locked(fx->mm, ro, 1, ZD_FOLL_WRITE | ZD_FOLL_FORCE, pages), 1);
	ZT_TRUE(zd_page_folio(pages[0]) != zd_zero_folio(fx->sys));
	ZT_TRUE(zd_folio_test_anon(zd_page_folio(pages[0])));
	zd_put_page(pages[0]);
	/* the mapping stays read-only for the CPU */
	ZT_EQ(zd_follow_entry(fx->mm, ro, &e, &lvl), 1);
	ZT_TRUE(!zd_pte_write(e));
	ZT_EQ(zd_cpu_write(fx->mm, ro, "x", 1), -EFAULT);
	/* without FORCE the same write is refused */
	ZT_EQ(get_locked(fx->mm, ro, 1, ZD_FOLL_WRITE, pages), -EFAULT);
}

/*
 * A R/O long-term pin must keep seeing later writes made through the page
 * table (cow.c "Longterm R/O pin is reliable"): in a private mapping the
 * zero page is first replaced by an exclusive anonymous page, mapped
 * read-only (gup_must_unshare for non-anonymous pages, FAULT_FLAG_UNSHARE).
 */
static void test_longterm_ro_pin_zero_page(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_page *pages[1];
	zd_vm_fault_t ret;
	zd_pte_t e;
	int lvl;
	char c;

	/* probe: does an unshare fault replace the zero page? */
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, &c, 1), 0);
	zd_mmap_read_lock(fx->mm);
	ret = zd_handle_mm_fault(zd_vma_lookup(fx->mm, a + PG), a + PG,
				 ZD_FAULT_FLAG_UNSHARE | ZD_FAULT_FLAG_REMOTE);
	zd_mmap_read_unlock(fx->mm);
	ZT_EQ(ret & ZD_VM_FAULT_ERROR, 0);
	ZT_EQ(zd_follow_entry(fx->mm, a + PG, &e, &lvl), 1);
	/* an unshare fault replaces the zero page (wp_page_copy) */
	ZT_TRUE(zd_pte_pfn(e) != zd_folio_pfn(zd_zero_folio(fx->sys)));

	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);		/* the zero page */
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_LONGTERM, pages), 1);
	ZT_TRUE(zd_page_folio(pages[0]) != zd_zero_folio(fx->sys));
	ZT_TRUE(zd_folio_test_anon(zd_page_folio(pages[0])));
	ZT_TRUE(zd_page_test_flag(pages[0], ZD_PG_anon_exclusive));
	ZT_EQ(zd_folio_ref_count(zd_page_folio(pages[0])), 1 + BIAS);
	ZT_EQ(zd_follow_entry(fx->mm, a, &e, &lvl), 1);
	ZT_TRUE(!zd_pte_write(e));
	/* a later write through the page table reaches the pinned page */
	ZT_EQ(zd_cpu_write(fx->mm, a, "late", 5), 0);
	ZT_EQ(memcmp(zd_page_address(pages[0]), "late", 5), 0);
	zd_unpin_user_page(pages[0]);
}

/* FOLL_DUMP leaves holes for unpopulated anon memory and the zero page; NOFAULT never faults. */
static void test_dump_and_nofault(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);
	struct zd_page *pages[4];
	char c;

	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_DUMP, pages), -EFAULT);
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_NOFAULT, pages), -EFAULT);
	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);		/* the zero page */
	ZT_EQ(get_locked(fx->mm, a, 1, ZD_FOLL_DUMP, pages), -EFAULT);
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "d", 1), 0);
	ZT_EQ(get_locked(fx->mm, a + PG, 1, ZD_FOLL_DUMP, pages), 1);
	zd_put_page(pages[0]);
	ZT_EQ(get_locked(fx->mm, a + PG, 1, ZD_FOLL_NOFAULT, pages), 1);
	zd_put_page(pages[0]);
}

/* ---- GET and PIN accounting ---- */

static void test_get_counts(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);
	struct zd_page *pages[4], *fast[4];

	ZT_EQ(zd_cpu_touch(fx->mm, a, 4 * PG, true), 0);
	ZT_EQ(get_locked(fx->mm, a, 4, 0, pages), 4);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 4, 0, fast), 4);
	for (int i = 0; i < 4; i++) {
		struct zd_folio *f = zd_page_folio(pages[i]);

		ZT_PTR_EQ(pages[i], zt_page_at(fx->mm, a + (unsigned long)i * PG, NULL));
		ZT_PTR_EQ(fast[i], pages[i]);		/* fast and slow agree */
		ZT_EQ(zd_folio_ref_count(f), 3);	/* the mapping + two GETs */
		ZT_EQ(zd_folio_mapcount(f), 1);
		ZT_TRUE(!zd_folio_maybe_dma_pinned(f));
	}
	put_pages(pages, 4);
	put_pages(fast, 4);
	for (int i = 0; i < 4; i++)
		ZT_EQ(zd_folio_ref_count(zt_folio_at(fx->mm, a + (unsigned long)i * PG, NULL)), 1);
	/* the lockless walk alone takes all of them */
	ZT_EQ(zd_get_user_pages_fast_only(fx->mm, a, 4, 0, fast), 4);
	ZT_PTR_EQ(fast[3], pages[3]);
	put_pages(fast, 4);
	/* but stops at a hole, without falling back */
	ZT_EQ(zd_munmap(fx->mm, a + 2 * PG, PG), 0);
	ZT_EQ(zd_get_user_pages_fast_only(fx->mm, a, 4, 0, fast), 2);
	put_pages(fast, 2);
	/* the unlocked variant */
	ZT_EQ(zd_get_user_pages_unlocked(fx->mm, a, 2, pages, ZD_FOLL_WRITE), 2);
	put_pages(pages, 2);
}

/* R4.2/R4.3/R4.6 on a small folio: the bias; pinned exactly while pinned. */
static void test_pin_small(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_page *p1[2], *p2[2], *p3[2];
	struct zd_folio *f;

	ZT_EQ(zd_cpu_write(fx->mm, a, "pin", 4), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "pin", 4), 0);
	f = zt_folio_at(fx->mm, a, NULL);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f));

	ZT_EQ(pin_locked(fx->mm, a, 2, ZD_FOLL_WRITE, p1), 2);
	ZT_PTR_EQ(zd_page_folio(p1[0]), f);
	ZT_EQ(zd_folio_ref_count(f), 1 + BIAS);
	ZT_EQ(zd_folio_pincount(f), 0);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f));
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 2, 0, p2), 2);
	ZT_PTR_EQ(p2[0], p1[0]);
	ZT_EQ(zd_folio_ref_count(f), 1 + 2 * BIAS);
	ZT_EQ(zd_pin_user_pages_unlocked(fx->mm, a, 2, p3, ZD_FOLL_LONGTERM), 2);
	ZT_EQ(zd_folio_ref_count(f), 1 + 3 * BIAS);
	zd_folio_add_pin(f);					/* R4.5 */
	ZT_EQ(zd_folio_ref_count(f), 1 + 4 * BIAS);

	zd_unpin_folio(f);
	zd_unpin_user_pages(p3, 2);
	zd_unpin_user_page(p2[0]);
	zd_unpin_user_page(p2[1]);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f));
	ZT_EQ(zd_folio_ref_count(f), 1 + BIAS);
	zd_unpin_user_pages_dirty_lock(p1, 2, true);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f));
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_dirty));
	ZT_EQ(zd_folio_ref_count(zt_folio_at(fx->mm, a + PG, NULL)), 1);
	/* the pin still sees the page the CPU writes */
	{
		char buf[4];

		ZT_EQ(zd_cpu_read(fx->mm, a, buf, 4), 0);
		ZT_EQ(strcmp(buf, "pin"), 0);
	}
}

/* An order-9 anonymous THP mapped by a PMD: one reference and one _pincount per pin. */
static void test_pin_thp(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_thp(fx->mm, 2 * ZD_PMD_SIZE);
	const unsigned long n = ZD_PTRS_PER_TABLE;
	struct zd_page **pages = calloc(2 * n, sizeof(*pages));
	struct zd_page *head;
	struct zd_folio *f;
	int lvl = 0;

	ZT_EQ(zd_cpu_write(fx->mm, a + 5 * PG, "thp", 4), 0);
	head = zt_page_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	f = zd_page_folio(head);
	ZT_EQU(zd_folio_order(f), ZD_PMD_ORDER);
	ZT_EQ(zd_folio_ref_count(f), 1);

	/* 16 pages from inside the folio, slow path */
	ZT_EQ(pin_locked(fx->mm, a + 3 * PG, 16, ZD_FOLL_WRITE, pages), 16);
	for (int i = 0; i < 16; i++)
		ZT_PTR_EQ(pages[i], zd_folio_page(f, 3 + (unsigned long)i));
	ZT_EQ(zd_folio_ref_count(f), 1 + 16);
	ZT_EQ(zd_folio_pincount(f), 16);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f));
	zd_unpin_user_pages(pages, 16);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_EQ(zd_folio_pincount(f), 0);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f));

	/* the whole folio and part of the next one, fast path (all at PMD level) */
	ZT_EQ(zd_cpu_touch(fx->mm, a + ZD_PMD_SIZE, PG, true), 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, (int)(n + 8), ZD_FOLL_WRITE, pages), (int)(n + 8));
	for (unsigned long i = 0; i < n; i++)
		ZT_PTR_EQ(pages[i], zd_folio_page(f, i));
	ZT_EQ(zd_folio_pincount(f), (int)n);
	ZT_EQ(zd_folio_ref_count(f), 1 + (int)n);
	ZT_EQ(zd_folio_pincount(zd_page_folio(pages[n])), 8);
	/* the same through GET on the fast path: references only */
	{
		struct zd_page *g[4];

		ZT_EQ(zd_get_user_pages_fast(fx->mm, a + 10 * PG, 4, 0, g), 4);
		ZT_EQ(zd_folio_ref_count(f), 1 + (int)n + 4);
		ZT_EQ(zd_folio_pincount(f), (int)n);
		put_pages(g, 4);
	}
	/* unpin the first folio as a range of consecutive pages, dirtying */
	zd_unpin_user_page_range_dirty_lock(pages[0], n, true);
	zd_unpin_user_pages(pages + n, 8);
	ZT_EQ(zd_folio_pincount(f), 0);
	ZT_EQ(zd_folio_ref_count(f), 1);
	ZT_TRUE(zd_folio_test_flag(f, ZD_PG_dirty));
	ZT_EQ(zd_folio_ref_count(zd_page_folio(pages[n])), 1);
	/* still PMD-mapped */
	ZT_PTR_EQ(zt_page_at(fx->mm, a, &lvl), head);
	ZT_EQ(lvl, 2);

	/*
	 * PTE-mapped tails: unmapping the last page splits the PMD. The
	 * lockless walk alone (fast_only) finds each tail's folio and takes
	 * one reference per page.
	 */
	ZT_EQ(zd_munmap(fx->mm, a + (n - 1) * PG, PG), 0);
	zt_page_at(fx->mm, a + 7 * PG, &lvl);
	ZT_EQ(lvl, 1);
	ZT_EQ(zd_folio_ref_count(f), (int)n - 1);	/* one per PTE */
	ZT_EQ(zd_get_user_pages_fast_only(fx->mm, a + 7 * PG, 9, 0, pages), 9);
	for (int i = 0; i < 9; i++)
		ZT_PTR_EQ(pages[i], zd_folio_page(f, 7 + (unsigned long)i));
	ZT_EQ(zd_folio_ref_count(f), (int)n - 1 + 9);
	put_pages(pages, 9);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + 7 * PG, 9, 0, pages), 9);
	ZT_EQ(zd_folio_pincount(f), 9);
	zd_unpin_user_pages(pages, 9);
	ZT_EQ(zd_folio_ref_count(f), (int)n - 1);
	free(pages);
}

/*
 * FOLL_SPLIT_PMD (make_device_exclusive's GUP): a PMD-mapped THP is split
 * into PTEs of the same folio before the page is taken; the huge zero
 * folio becomes small zero pages, and a write then breaks COW on one PTE.
 *
 *   before: PMD [ THP 0..511 ]      after: PTE table [ 0 ][ 1 ] ... [ 511 ]
 */
static void test_split_pmd(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_thp(fx->mm, 2 * ZD_PMD_SIZE), z = a + ZD_PMD_SIZE;
	struct zd_page *pages[2];
	struct zd_folio *f;
	int lvl = 0;

	ZT_EQ(zd_cpu_write(fx->mm, a + 5 * PG, "thp", 4), 0);
	f = zt_folio_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	ZT_EQ(get_locked(fx->mm, a + 5 * PG, 1, ZD_FOLL_WRITE | ZD_FOLL_SPLIT_PMD, pages), 1);
	ZT_PTR_EQ(pages[0], zd_folio_page(f, 5));
	ZT_PTR_EQ(zt_folio_at(fx->mm, a + 5 * PG, &lvl), f);
	ZT_EQ(lvl, 1);
	ZT_EQ(zd_folio_mapcount(f), (int)ZD_PTRS_PER_TABLE);
	ZT_EQ(zd_folio_ref_count(f), (int)ZD_PTRS_PER_TABLE + 1);	/* one per PTE + GUP */
	zd_put_page(pages[0]);
	/* already PTE-mapped: nothing more to split */
	ZT_EQ(get_locked(fx->mm, a + 6 * PG, 1, ZD_FOLL_SPLIT_PMD, pages), 1);
	ZT_PTR_EQ(pages[0], zd_folio_page(f, 6));
	zd_put_page(pages[0]);

	/* the huge zero folio: read -> small zero pages; write -> a COW copy */
	ZT_EQ(zd_cpu_touch(fx->mm, z, PG, false), 0);
	zt_entry_at(fx->mm, z, &lvl);
	ZT_EQ(lvl, 2);
	ZT_EQ(get_locked(fx->mm, z + PG, 1, ZD_FOLL_SPLIT_PMD, pages), 1);
	ZT_PTR_EQ(zd_page_folio(pages[0]), zd_zero_folio(fx->sys));
	zd_put_page(pages[0]);
	zt_entry_at(fx->mm, z + PG, &lvl);
	ZT_EQ(lvl, 1);
	ZT_EQ(get_locked(fx->mm, z + 2 * PG, 1, ZD_FOLL_WRITE | ZD_FOLL_SPLIT_PMD, pages), 1);
	ZT_TRUE(zd_page_folio(pages[0]) != zd_zero_folio(fx->sys));
	ZT_PTR_EQ(zt_page_at(fx->mm, z + 2 * PG, &lvl), pages[0]);
	ZT_EQ(lvl, 1);
	zd_put_page(pages[0]);
}

/* The zero page is returned (by GET with a reference) but never pinned. */
static void test_zero_page(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_folio *zero = zd_zero_folio(fx->sys);
	int zref = zd_folio_ref_count(zero);
	struct zd_page *pages[2];

	/* a read pin of untouched memory maps the zero page */
	ZT_EQ(pin_locked(fx->mm, a, 2, 0, pages), 2);
	ZT_PTR_EQ(zd_page_folio(pages[0]), zero);
	ZT_EQ(zd_folio_ref_count(zero), zref);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 2, 0, pages), 2);	/* special: slow path */
	ZT_PTR_EQ(zd_page_folio(pages[1]), zero);
	ZT_EQ(zd_folio_ref_count(zero), zref);
	zd_unpin_user_pages(pages, 2);					/* no-op */
	zd_unpin_user_pages(pages, 2);
	ZT_EQ(zd_folio_ref_count(zero), zref);
	/* a GET takes a real reference */
	ZT_EQ(get_locked(fx->mm, a, 2, 0, pages), 2);
	ZT_EQ(zd_folio_ref_count(zero), zref + 2);
	put_pages(pages, 2);
	ZT_EQ(zd_folio_ref_count(zero), zref);
	/* a write pin replaces it with a private page */
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_WRITE, pages), 1);
	ZT_TRUE(zd_page_folio(pages[0]) != zero);
	ZT_EQ(zd_folio_ref_count(zd_page_folio(pages[0])), 1 + BIAS);
	zd_unpin_user_page(pages[0]);
}

/* Misuse: an unpin the folio has no pin for is reported and changes nothing. */
static void test_unpin_unpinned(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_thp(fx->mm, ZD_PMD_SIZE), b = zt_map_anon(fx->mm, PG);
	struct zd_folio *large, *small;

	ZT_EQ(zd_cpu_touch(fx->mm, a, PG, true), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, b, PG, true), 0);
	large = zt_folio_at(fx->mm, a, NULL);
	small = zt_folio_at(fx->mm, b, NULL);
	ZT_TRUE(zd_folio_test_large(large));

	zd_unpin_user_page(&small->page);
	zt_expect_report(&fx->log, ZD_MISUSE_BAD_STATE, zd_folio_pfn(small), 0);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(small), 1);

	zd_unpin_folio(large);
	zt_expect_report(&fx->log, ZD_MISUSE_BAD_STATE, zd_folio_pfn(large), 0);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(large), 1);
	ZT_EQ(zd_folio_pincount(large), 0);

	zd_folio_add_pin(small);			/* not pinned: refused */
	zt_expect_report(&fx->log, ZD_MISUSE_BAD_STATE, zd_folio_pfn(small), 0);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(small), 1);

	/* error counts and NULL entries are ignored */
	{
		struct zd_page *pages[3] = { NULL, NULL, NULL };

		zd_unpin_user_pages(pages, (unsigned long)-EFAULT);
		zd_unpin_user_pages(pages, 3);
		zt_expect_no_reports(&fx->log);
	}
}

/* A pin that would take the refcount past ZD_GUP_REFCOUNT_LIMIT is refused. */
static void test_refcount_limit(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_page *pages[1];
	struct zd_folio *f;
	int extra;

	ZT_EQ(zd_cpu_touch(fx->mm, a, PG, true), 0);
	f = zt_folio_at(fx->mm, a, NULL);
	/* leave room for exactly one pin */
	extra = ZD_GUP_REFCOUNT_LIMIT - BIAS - zd_folio_ref_count(f);
	zd_folio_ref_add(f, extra);
	ZT_EQ(pin_locked(fx->mm, a, 1, 0, pages), 1);
	ZT_EQ(zd_folio_ref_count(f), ZD_GUP_REFCOUNT_LIMIT);
	ZT_EQ(pin_locked(fx->mm, a, 1, 0, pages + 0), -ENOMEM);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, 0, pages), -ENOMEM);
	ZT_EQ(_zd_try_grab_folio(f, 1, ZD_FOLL_PIN), -ENOMEM);
	ZT_EQ(_zd_try_grab_folio(f, 1, ZD_FOLL_GET), -ENOMEM);
	ZT_EQ(zd_folio_ref_count(f), ZD_GUP_REFCOUNT_LIMIT);
	zd_unpin_folio(f);
	/* GET still has room for a few */
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 1, 0, pages), 1);
	zd_put_page(pages[0]);
	zd_folio_put_refs(f, extra);
	ZT_EQ(zd_folio_ref_count(f), 1);
}

/* ---- COW and fork ---- */

/* FOLL_WRITE breaks COW: the pinned page is the parent's private copy. */
static void test_write_pin_breaks_cow(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_folio *shared, *mine;
	struct zd_page *pages[1];
	struct zd_mm *child;
	char buf[8];

	ZT_EQ(zd_cpu_write(fx->mm, a, "before", 7), 0);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	shared = zt_folio_at(fx->mm, a, NULL);
	ZT_PTR_EQ(zt_folio_at(child, a, NULL), shared);
	ZT_EQ(zd_folio_mapcount(shared), 2);

	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_WRITE, pages), 1);
	mine = zd_page_folio(pages[0]);
	ZT_TRUE(mine != shared);
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, NULL), mine);
	ZT_PTR_EQ(zt_folio_at(child, a, NULL), shared);
	ZT_EQ(zd_folio_mapcount(shared), 1);
	ZT_EQ(zd_folio_ref_count(shared), 1);
	ZT_EQ(zd_folio_ref_count(mine), 1 + BIAS);
	ZT_TRUE(zd_page_test_flag(pages[0], ZD_PG_anon_exclusive));
	ZT_EQ(memcmp(zd_page_address(pages[0]), "before", 7), 0);

	/* the parent's writes reach the pinned page; the child's do not */
	ZT_EQ(zd_cpu_write(fx->mm, a, "parent", 7), 0);
	ZT_EQ(zd_cpu_write(child, a, "child", 6), 0);
	ZT_EQ(memcmp(zd_page_address(pages[0]), "parent", 7), 0);
	ZT_EQ(zd_cpu_read(child, a, buf, 6), 0);
	ZT_EQ(strcmp(buf, "child"), 0);
	zd_unpin_user_page(pages[0]);
	zd_mm_destroy(child);
}

/*
 * A read-only pin of a page shared with a fork child must not see the
 * child's later writes, nor miss the parent's: the unshare fault gives
 * the parent an exclusive copy before the pin (FAULT_FLAG_UNSHARE).
 */
static void test_readonly_pin_unshares(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_page *slow[1], *fast[1];
	struct zd_folio *shared;
	struct zd_mm *child;

	ZT_EQ(zd_cpu_write(fx->mm, a, "orig", 5), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "orig", 5), 0);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	shared = zt_folio_at(fx->mm, a, NULL);

	ZT_EQ(pin_locked(fx->mm, a, 1, 0, slow), 1);
	ZT_TRUE(zd_page_folio(slow[0]) != shared);
	ZT_TRUE(zd_page_test_flag(slow[0], ZD_PG_anon_exclusive));
	ZT_PTR_EQ(zt_folio_at(child, a, NULL), shared);
	ZT_EQ(zd_folio_ref_count(shared), 1);
	/* the fast path cannot unshare: it falls back and gets the same result */
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a + PG, 1, 0, fast), 1);
	ZT_TRUE(zd_page_folio(fast[0]) != zt_folio_at(child, a + PG, NULL));
	ZT_TRUE(zd_page_test_flag(fast[0], ZD_PG_anon_exclusive));

	/* the pinned copy follows the parent, not the child */
	ZT_EQ(zd_cpu_write(child, a, "kid", 4), 0);
	ZT_EQ(memcmp(zd_page_address(slow[0]), "orig", 5), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "dad", 4), 0);
	ZT_EQ(memcmp(zd_page_address(slow[0]), "dad", 4), 0);
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, NULL), zd_page_folio(slow[0]));
	zd_unpin_user_page(slow[0]);
	zd_unpin_user_page(fast[0]);
	zd_mm_destroy(child);
}

/*
 * A page pinned before fork is copied eagerly for the child, so the
 * parent's pin still sees the parent's data after the child writes.
 */
static void test_pinned_before_fork(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG), t = zt_map_thp(fx->mm, ZD_PMD_SIZE);
	struct zd_page *pages[2];
	struct zd_mm *child;
	char buf[8];

	ZT_EQ(zd_cpu_write(fx->mm, a, "parent", 7), 0);
	ZT_EQ(zd_cpu_write(fx->mm, t, "thpar", 6), 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_WRITE, pages), 1);
	ZT_EQ(pin_locked(fx->mm, t, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages + 1), 1);
	ZT_EQ(zd_fork(fx->mm, &child), 0);

	for (int i = 0; i < 2; i++) {
		unsigned long addr = i ? t : a;
		struct zd_folio *f = zd_page_folio(pages[i]);

		ZT_PTR_EQ(zt_folio_at(fx->mm, addr, NULL), f);		/* the parent keeps it */
		ZT_TRUE(zt_folio_at(child, addr, NULL) != f);		/* the child got a copy */
		/* the THP's PMD was split, its pages copied one by one (copy_huge_pmd) */
		ZT_EQ(zd_folio_mapcount(f), i ? 512 : 1);
		ZT_TRUE(zd_page_test_flag(pages[i], ZD_PG_anon_exclusive));
		ZT_EQ(zd_cpu_write(child, addr, "child", 6), 0);
	}
	ZT_EQ(memcmp(zd_page_address(pages[0]), "parent", 7), 0);
	ZT_EQ(memcmp(zd_page_address(pages[1]), "thpar", 6), 0);
	ZT_EQ(zd_cpu_read(child, a, buf, 6), 0);
	ZT_EQ(strcmp(buf, "child"), 0);
	/* the parent's page is still writable in place: the pin sees its writes */
	ZT_EQ(zd_cpu_write(fx->mm, a, "again", 6), 0);
	ZT_EQ(memcmp(zd_page_address(pages[0]), "again", 6), 0);
	zd_unpin_user_pages(pages, 2);
	zd_mm_destroy(child);
}

/* ---- long-term rules (§4.4) ---- */

static void test_longterm_pinnable_by_type(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	static const struct {
		enum zd_memory_type type;
		bool pinnable;
	} types[] = {
		{ ZD_MEMORY_DEVICE_PRIVATE, true },	/* never returned by GUP anyway */
		{ ZD_MEMORY_DEVICE_COHERENT, false },
		{ ZD_MEMORY_DEVICE_FS_DAX, false },
		{ ZD_MEMORY_DEVICE_GENERIC, true },
		{ ZD_MEMORY_DEVICE_PCI_P2PDMA, true },
	};
	unsigned long a = zt_map_anon(fx->mm, PG);

	ZT_EQ(zd_cpu_touch(fx->mm, a, PG, true), 0);
	ZT_TRUE(zd_folio_is_longterm_pinnable(zt_folio_at(fx->mm, a, NULL)));
	ZT_TRUE(zd_folio_is_longterm_pinnable(zd_zero_folio(fx->sys)));
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct zd_devmem_pool *pool;
		struct zd_folio *f;

		ZT_EQ(zd_devmem_pool_create(fx->sys, types[i].type, 2 * MiB, 0, &pool), 0);
		ZT_EQ(zd_devmem_pool_alloc(pool, 0, &f), 0);
		if (zd_folio_test_locked(f))
			zd_folio_unlock(f);
		ZT_EQ(zd_folio_is_longterm_pinnable(f), types[i].pinnable);
		zd_folio_put(f);
		ZT_EQ(zd_devmem_pool_destroy(pool, 2000 * MS), 0);
	}
}

/*
 * try_grab_folio on device folios (coherent and p2pdma pages are mapped
 * only by HMM migration and the p2pdma driver, which come later, so the
 * grab and the long-term check are driven directly): p2pdma needs
 * FOLL_PCI_P2PDMA (-EREMOTEIO); a long-term pin of a coherent folio must
 * migrate it, which fails for a folio no process maps: -EBUSY, every pin
 * dropped (R4.10, R12.8).
 */
static void test_device_grab_rules(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_devmem_pool *p2p, *coh;
	struct zd_folio *pf, *cf;
	struct zd_page *pages[2];
	unsigned long a = zt_map_anon(fx->mm, PG);

	ZT_EQ(zd_devmem_pool_create(fx->sys, ZD_MEMORY_DEVICE_PCI_P2PDMA, 2 * MiB, 0, &p2p), 0);
	ZT_EQ(zd_devmem_pool_alloc(p2p, 0, &pf), 0);
	ZT_EQ(_zd_try_grab_folio(pf, 1, ZD_FOLL_GET), -EREMOTEIO);
	ZT_EQ(_zd_try_grab_folio(pf, 1, ZD_FOLL_PIN), -EREMOTEIO);
	ZT_EQ(zd_folio_ref_count(pf), 1);
	ZT_EQ(_zd_try_grab_folio(pf, 1, ZD_FOLL_PIN | ZD_FOLL_PCI_P2PDMA), 0);
	ZT_EQ(zd_folio_ref_count(pf), 1 + BIAS);
	ZT_TRUE(zd_folio_maybe_dma_pinned(pf));
	zd_unpin_folio(pf);
	ZT_EQ(zd_folio_ref_count(pf), 1);
	zd_folio_put(pf);

	ZT_EQ(zd_devmem_pool_create(fx->sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB, 0, &coh), 0);
	ZT_EQ(zd_devmem_pool_alloc(coh, 0, &cf), 0);
	zd_folio_unlock(cf);
	/* a short-term pin keeps a coherent page in place */
	ZT_EQ(_zd_try_grab_folio(cf, 1, ZD_FOLL_PIN), 0);
	ZT_EQ(zd_folio_ref_count(cf), 1 + BIAS);
	/* with a RAM page pinned next to it, the long-term check drops both pins */
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages), 1);
	pages[1] = &cf->page;
	ZT_EQ(_zd_check_and_migrate_movable_pages(2, pages), -EBUSY);
	ZT_EQ(zd_folio_ref_count(cf), 1);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(cf));
	ZT_EQ(zd_folio_ref_count(zt_folio_at(fx->mm, a, NULL)), 1);
	/* a pinnable set passes untouched */
	ZT_EQ(pin_locked(fx->mm, a, 1, ZD_FOLL_LONGTERM, pages), 1);
	ZT_EQ(_zd_check_and_migrate_movable_pages(1, pages), 0);
	ZT_EQ(zd_folio_ref_count(zt_folio_at(fx->mm, a, NULL)), 1 + BIAS);
	zd_unpin_user_page(pages[0]);
	zd_folio_put(cf);
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_devmem_pool_destroy(coh, 2000 * MS), 0);
	ZT_EQ(zd_devmem_pool_destroy(p2p, 2000 * MS), 0);
}

/*
 * A device-coherent page mapped anonymously (as migration to the device
 * leaves it): plain pins keep it in place; a long-term pin migrates it to
 * RAM first (R4.10, B21), its data intact, and the device page goes back
 * to its driver.
 */
static void test_longterm_pin_migrates_coherent(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_devmem_pool *coh;
	struct zd_devmem_stats st;
	struct zd_page *pages[1];
	struct zd_folio *cf, *f;
	char buf[8];

	ZT_EQ(zd_devmem_pool_create(fx->sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB, 0, &coh), 0);
	ZT_EQ(zd_devmem_pool_alloc(coh, 0, &cf), 0);
	memcpy(zd_page_address(&cf->page), "device", 7);
	zt_map_device_anon(fx->mm, a, cf);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 7), 0);
	ZT_EQ(strcmp(buf, "device"), 0);

	/* short-term: the coherent page itself */
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, 0, pages), 1);
	ZT_PTR_EQ(zd_page_folio(pages[0]), cf);
	ZT_EQ(zd_folio_ref_count(cf), 1 + BIAS);
	zd_unpin_user_page(pages[0]);

	/* long-term: migrated to RAM, then pinned */
	ZT_EQ(pin_locked(fx->mm, a, 1, ZD_FOLL_LONGTERM, pages), 1);
	f = zd_page_folio(pages[0]);
	ZT_TRUE(!zd_folio_is_zone_device(f));
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, NULL), f);
	ZT_EQ(zd_folio_ref_count(f), 1 + BIAS);
	ZT_EQ(memcmp(zd_page_address(&f->page), "device", 7), 0);
	zd_devmem_pool_stats(coh, &st);
	ZT_EQU(st.page_free, 1);
	ZT_EQU(st.allocated, 0);
	ZT_EQ(zd_cpu_read(fx->mm, a, buf, 7), 0);
	ZT_EQ(strcmp(buf, "device"), 0);
	zd_unpin_user_page(pages[0]);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_devmem_pool_destroy(coh, 2000 * MS), 0);
}

/* ---- device-DAX (ZONE_DEVICE GENERIC) pages through GUP ---- */

static void devdax_case(struct zt_fixture *fx, unsigned long align)
{
	struct zd_devdax *dd;
	unsigned long a = 0, n = 2 * align / PG;
	struct zd_page **pages = calloc(n, sizeof(*pages));
	struct zd_folio *f;
	int lvl = 0;
	/* idle 1 + the mapping; legacy: devmap entries hold nothing (L6) */
	int mapped = zd_system_scheme(fx->sys) == ZD_SCHEME_ONE ? 1 : 2;

	ZT_EQ(zd_devdax_create(fx->sys, 4 * MiB, align, &dd), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * align, RW, ZD_MAP_SHARED, zd_devdax_file(dd), 0, 0, &a), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, a, 2 * align, true), 0);
	f = zt_folio_at(fx->mm, a, NULL);
	ZT_TRUE(zd_folio_is_zone_device(f));
	ZT_EQ(zd_folio_pgmap(f)->type, ZD_MEMORY_DEVICE_GENERIC);
	zt_page_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, align == ZD_PMD_SIZE ? 2 : 1);
	ZT_EQ(zd_folio_ref_count(f), mapped);

	/* long-term pins are allowed on device-DAX; fast and slow agree */
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, (int)n, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages),
	      (int)n);
	ZT_PTR_EQ(zd_page_folio(pages[0]), f);
	if (zd_folio_test_large(f)) {
		ZT_EQ(zd_folio_ref_count(f), mapped + (int)(n / 2));
		ZT_EQ(zd_folio_pincount(f), (int)(n / 2));
	} else {
		ZT_EQ(zd_folio_ref_count(f), mapped + BIAS);
	}
	ZT_TRUE(zd_folio_maybe_dma_pinned(f));
	zd_unpin_user_pages(pages, n);
	ZT_EQ(zd_folio_ref_count(f), mapped);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f));

	ZT_EQ(get_locked(fx->mm, a, n, ZD_FOLL_WRITE, pages), (long)n);
	for (unsigned long i = 0; i < n; i++)
		ZT_PTR_EQ(pages[i], zt_page_at(fx->mm, a + i * PG, NULL));
	ZT_EQ(zd_folio_ref_count(f), mapped + (zd_folio_test_large(f) ? (int)(n / 2) : 1));
	put_pages(pages, (long)n);
	ZT_EQ(zd_folio_ref_count(f), mapped);

	ZT_EQ(zd_munmap(fx->mm, a, 2 * align), 0);
	ZT_EQ(zd_devdax_destroy_timeout(dd, 2000 * MS), 0);
	free(pages);
}

static void test_devdax_4k(void **state)
{
	devdax_case(ZT_FX(state), PG);
}

static void test_devdax_2m(void **state)
{
	devdax_case(ZT_FX(state), ZD_PMD_SIZE);
}

/* Shared anonymous memory (shmem): long-term writable pins are allowed (R4.8). */
static void test_shmem_longterm(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long sh = 0;
	struct zd_page *pages[4];

	ZT_EQ(zd_mmap(fx->mm, 0, 4 * PG, RW, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0, 0, &sh), 0);
	ZT_EQ(zd_cpu_write(fx->mm, sh, "shm", 4), 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, sh, 4, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages), 4);
	ZT_EQ(memcmp(zd_page_address(pages[0]), "shm", 4), 0);
	for (int i = 0; i < 4; i++)
		ZT_TRUE(zd_folio_maybe_dma_pinned(zd_page_folio(pages[i])));
	zd_unpin_user_pages_dirty_lock(pages, 4, true);
	for (int i = 0; i < 4; i++)
		ZT_TRUE(!zd_folio_maybe_dma_pinned(zd_page_folio(pages[i])));
}

/* Pins and unpins are trace events (NR_FOLL_PIN_ACQUIRED/RELEASED). */
static void test_pin_events(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	struct zd_trace_sink *sink;
	struct zd_page *pages[1];
	FILE *out = tmpfile();
	char *text;
	size_t len;

	ZT_TRUE(out != NULL);
	ZT_EQ(zd_cpu_touch(fx->mm, a, PG, true), 0);
	sink = zd_trace_sink_text(out);
	zd_system_set_trace(fx->sys, sink);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, a, 1, 0, pages), 1);
	zd_unpin_user_page(pages[0]);
	zd_system_set_trace(fx->sys, NULL);
	zd_trace_sink_destroy(sink);
	text = zt_slurp(out, &len);
	ZT_TRUE(strstr(text, " pin ") != NULL);
	ZT_TRUE(strstr(text, " unpin ") != NULL);
	free(text);
	fclose(out);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_args),
		ZT_MM_TEST(test_populate),
		ZT_MM_TEST(test_vma_checks),
		cmocka_unit_test(test_check_vma_flags_fsdax_longterm),
		ZT_MM_TEST(test_force_write_cow),
		ZT_MM_TEST(test_dump_and_nofault),
		ZT_MM_TEST(test_get_counts),
		ZT_MM_TEST(test_pin_small),
		ZT_MM_TEST(test_pin_thp),
		ZT_MM_TEST(test_split_pmd),
		ZT_MM_TEST(test_zero_page),
		ZT_MM_TEST(test_longterm_ro_pin_zero_page),
		ZT_MM_TEST(test_unpin_unpinned),
		ZT_MM_TEST(test_refcount_limit),
		ZT_MM_TEST(test_write_pin_breaks_cow),
		ZT_MM_TEST(test_readonly_pin_unshares),
		ZT_MM_TEST(test_pinned_before_fork),
		ZT_MM_TEST(test_longterm_pinnable_by_type),
		ZT_MM_TEST(test_device_grab_rules),
		ZT_MM_TEST(test_longterm_pin_migrates_coherent),
		ZT_MM_TEST(test_devdax_4k),
		ZT_MM_TEST(test_devdax_2m),
		ZT_MM_TEST_ONE(test_devdax_4k),
		ZT_MM_TEST_ONE(test_devdax_2m),
		ZT_MM_TEST_ONE(test_pin_small),
		ZT_MM_TEST(test_shmem_longterm),
		ZT_MM_TEST(test_pin_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
