// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_mmu_notifier_sites.c - every change of a user mapping
 * tells the interval notifiers first, with the event and range the kernel
 * uses (mmu_notifier_range_init at each site):
 *
 *   munmap, exit (after RELEASE), mremap's old range      UNMAP
 *   MADV_DONTNEED, MADV_FREE, unmap_mapping_range,
 *   try_to_unmap (pageout), try_to_migrate (move_pages),
 *   THP split, huge zero write, collapse, KSM, COW copy,
 *   device-exclusive restore                              CLEAR
 *   mprotect, NUMA hinting                                PROTECTION_VMA
 *   fork of a COW VMA (the parent's)                      PROTECTION_PAGE
 *
 * A recording notifier over the whole address space logs each call; each
 * test looks for the call it expects (a site may nest others, e.g. a
 * split inside a zap) and checks that the page tables had not changed yet
 * when it ran.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/huge_mm.h>
#include <zonedev/ksm.h>
#include <zonedev/mempolicy.h>
#include <zonedev/migrate.h>
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>
#include <zonedev/tmpfs.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define PMDSZ ZD_PMD_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define LOG_MAX 64

struct call {
	enum zd_mmu_notifier_event event;
	unsigned long start, end;
	void *owner;
	bool blockable;
	zd_pte_t watched;	/* the entry at rec->watch when the call came */
};

struct rec {
	struct zd_mmu_interval_notifier sub;	/* first: container-of by cast */
	struct zd_mm *mm;
	unsigned long watch;			/* an address whose entry each call records */
	int nr;
	struct call c[LOG_MAX];
};

static bool rec_invalidate(struct zd_mmu_interval_notifier *sub,
			   const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct rec *r = (struct rec *)sub;

	zd_mmu_interval_set_seq(sub, cur_seq);
	if (r->nr < LOG_MAX)
		r->c[r->nr] = (struct call){
			.event = range->event, .start = range->start, .end = range->end,
			.owner = range->owner, .blockable = zd_mmu_notifier_range_blockable(range),
			.watched = r->watch ? zt_entry_at(r->mm, r->watch, NULL) : 0,
		};
	r->nr++;
	return true;
}

static const struct zd_mmu_interval_notifier_ops rec_ops = { .invalidate = rec_invalidate };

static void rec_start(struct rec *r, struct zd_mm *mm)
{
	memset(r, 0, sizeof(*r));
	r->mm = mm;
	ZT_EQ(zd_mmu_interval_notifier_insert(&r->sub, mm, 0, ULONG_MAX, &rec_ops), 0);
}

/* A recorder over all of @mm that also reads the entry at @watch when called. */
static void rec_watch(struct rec *r, struct zd_mm *mm, unsigned long watch)
{
	rec_start(r, mm);
	r->watch = watch;
}

static const char *ev_name(enum zd_mmu_notifier_event ev)
{
	static const char *const names[] = { "UNMAP", "CLEAR", "PROTECTION_VMA",
		"PROTECTION_PAGE", "SOFT_DIRTY", "RELEASE", "MIGRATE", "EXCLUSIVE" };

	return (unsigned)ev < 8 ? names[ev] : "?";
}

static void rec_print(const struct rec *r)
{
	for (int i = 0; i < r->nr && i < LOG_MAX; i++)
		print_message("  call %d: %s [%#lx, %#lx)\n", i, ev_name(r->c[i].event),
			      r->c[i].start, r->c[i].end);
}

/* The first call of @ev over exactly [start, end), or fail listing them all. */
static const struct call *expect_call(const struct rec *r, enum zd_mmu_notifier_event ev,
				      unsigned long start, unsigned long end)
{
	for (int i = 0; i < r->nr && i < LOG_MAX; i++)
		if (r->c[i].event == ev && r->c[i].start == start && r->c[i].end == end) {
			ZT_TRUE(r->c[i].blockable);
			return &r->c[i];
		}
	rec_print(r);
	fail_msg("no %s call over [%#lx, %#lx) among %d", ev_name(ev), start, end, r->nr);
	return NULL;
}

static int count_event(const struct rec *r, enum zd_mmu_notifier_event ev)
{
	int n = 0;

	for (int i = 0; i < r->nr && i < LOG_MAX; i++)
		n += r->c[i].event == ev;
	return n;
}

static void write_byte(struct zd_mm *mm, unsigned long addr, char c)
{
	ZT_EQ(zd_cpu_write(mm, addr, &c, 1), 0);
}

/* @n new anonymous pages, page i holding 'a' + i: each present, written. */
static unsigned long map_letters(struct zd_mm *mm, int n)
{
	unsigned long a = zt_map_anon(mm, (unsigned long)n * PG);

	for (int i = 0; i < n; i++)
		write_byte(mm, a + (unsigned long)i * PG, (char)('a' + i));
	return a;
}

/* ---- UNMAP ---- */

/*
 *   [ a | a+1 | a+2 | a+3 ]  munmap(a+1, 2 pages)  ->  [ a ]       [ a+3 ]
 * One UNMAP over the unmapped range, before the pages go.
 */
static void test_munmap_unmap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_letters(fx->mm, 4);
	const struct call *c;
	struct rec r;

	rec_watch(&r, fx->mm, a + PG);
	ZT_EQ(zd_munmap(fx->mm, a + PG, 2 * PG), 0);
	ZT_EQ(r.nr, 1);
	c = expect_call(&r, ZD_MMU_NOTIFY_UNMAP, a + PG, a + 3 * PG);
	ZT_TRUE(zd_pte_present(c->watched));	/* still mapped when told */
	ZT_EQU(zt_entry_at(fx->mm, a + PG, NULL), 0);

	/* Nothing mapped there: no call. */
	ZT_EQ(zd_munmap(fx->mm, a + PG, 2 * PG), 0);
	ZT_EQ(r.nr, 1);
	/* MAP_FIXED over a mapping unmaps it first. */
	ZT_EQ(zd_mmap(fx->mm, a, PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &a), 0);
	expect_call(&r, ZD_MMU_NOTIFY_UNMAP, a, a + PG);
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* Exit: RELEASE over everything, then UNMAP over everything. */
static void test_exit_release_then_unmap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct rec r;

	write_byte(fx->mm, a, 'x');
	rec_watch(&r, fx->mm, a);
	zt_mm_exit(fx);
	ZT_EQ(r.nr, 2);
	ZT_EQ(r.c[0].event, ZD_MMU_NOTIFY_RELEASE);
	ZT_EQ(r.c[1].event, ZD_MMU_NOTIFY_UNMAP);
	ZT_EQU(r.c[1].start, 0);
	ZT_EQU(r.c[1].end, ULONG_MAX);
	ZT_TRUE(zd_pte_present(r.c[1].watched));
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* mremap moving a range: UNMAP of the old range around the move. */
static void test_mremap_unmap_old(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), n = 0;
	const struct call *c;
	struct rec r;
	char ch;

	write_byte(fx->mm, a, 'm');
	rec_watch(&r, fx->mm, a);
	ZT_EQ(zd_mremap(fx->mm, a, 2 * PG, 64 * PG, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED,
			a + (1ul << 30), &n), 0);
	ZT_EQU(n, a + (1ul << 30));
	ZT_EQ(zd_cpu_read(fx->mm, n, &ch, 1), 0);
	ZT_EQ(ch, 'm');
	c = expect_call(&r, ZD_MMU_NOTIFY_UNMAP, a, a + 2 * PG);
	ZT_TRUE(zd_pte_present(c->watched));
	ZT_EQ(r.c[0].event, ZD_MMU_NOTIFY_UNMAP);	/* the move comes first */
	ZT_EQ(count_event(&r, ZD_MMU_NOTIFY_CLEAR), 0);
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* ---- CLEAR ---- */

static void test_madvise_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_letters(fx->mm, 4);
	const struct call *c;
	struct rec r;

	rec_watch(&r, fx->mm, a + PG);
	ZT_EQ(zd_madvise(fx->mm, a + PG, 2 * PG, ZD_MADV_DONTNEED), 0);
	ZT_EQ(r.nr, 1);
	c = expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a + PG, a + 3 * PG);
	ZT_TRUE(zd_pte_present(c->watched));
	ZT_EQU(zt_entry_at(fx->mm, a + PG, NULL), 0);

	r.watch = a + 3 * PG;
	ZT_EQ(zd_madvise(fx->mm, a + 3 * PG, PG, ZD_MADV_FREE), 0);
	c = expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a + 3 * PG, a + 4 * PG);
	ZT_TRUE(zd_pte_dirty(c->watched));	/* not cleaned yet */
	ZT_TRUE(!zd_pte_dirty(zt_entry_at(fx->mm, a + 3 * PG, NULL)));

	/* MADV_COLD only ages entries: nothing to tell. */
	r.nr = 0;
	ZT_EQ(zd_madvise(fx->mm, a, PG, ZD_MADV_COLD), 0);
	ZT_EQ(r.nr, 0);
	zd_mmu_interval_notifier_remove(&r.sub);
}

/*
 * A shared file mapping: truncate zaps it (unmap_mapping_range: CLEAR
 * over the mapped part past the new size); MADV_PAGEOUT drops a clean
 * page-cache page from every mapping (try_to_unmap: CLEAR of the page).
 */
static void test_file_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_file *file;
	unsigned long a;
	char c;
	struct rec r;

	ZT_EQ(zd_shmem_file_setup(fx->sys, 4 * PG, &file), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, 4 * PG, RW, ZD_MAP_SHARED, file, 0, 0, &a), 0);
	for (int i = 0; i < 4; i++)
		ZT_EQ(zd_cpu_read(fx->mm, a + (unsigned long)i * PG, &c, 1), 0);
	rec_watch(&r, fx->mm, a + PG);
	ZT_EQ(zd_madvise(fx->mm, a + PG, PG, ZD_MADV_PAGEOUT), 0);
	expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a + PG, a + 2 * PG);
	ZT_EQU(zt_entry_at(fx->mm, a + PG, NULL), 0);

	r.nr = 0;
	r.watch = a + 2 * PG;
	ZT_EQ(zd_tmpfs_truncate(file, 2 * PG), 0);
	ZT_TRUE(zd_pte_present(expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a + 2 * PG, a + 4 * PG)->watched));
	ZT_EQU(zt_entry_at(fx->mm, a + 2 * PG, NULL), 0);
	ZT_TRUE(zd_pte_present(zt_entry_at(fx->mm, a, NULL)));
	zd_mmu_interval_notifier_remove(&r.sub);
	ZT_EQ(zd_munmap(fx->mm, a, 4 * PG), 0);
	zd_fput(file);
}

/* move_pages: try_to_migrate replaces the PTE by a migration entry under CLEAR. */
static void test_move_pages_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	int node = 0, status = -1;
	zd_pte_t before;
	struct rec r;

	write_byte(fx->mm, a, 'p');
	before = zt_entry_at(fx->mm, a, NULL);
	rec_watch(&r, fx->mm, a);
	ZT_EQ(zd_move_pages(fx->mm, 1, &a, &node, &status), 0);
	ZT_EQ(status, 0);
	ZT_EQU(expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PG)->watched, before);
	ZT_TRUE(zt_entry_at(fx->mm, a, NULL) != before);	/* a new page */
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* A THP's PMD split: CLEAR over the PMD's range. */
static void test_thp_split_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_thp(fx->mm, PMDSZ);
	const struct call *c;
	int lvl;
	struct rec r;

	write_byte(fx->mm, a, 't');
	zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	rec_watch(&r, fx->mm, a);
	ZT_EQ(zd_split_huge_pages(fx->mm, a, a + PMDSZ), 1);
	c = expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PMDSZ);
	ZT_TRUE(zd_pte_huge(c->watched));
	zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 1);

	/* mprotect of one page of a THP splits it first (split_vma), then changes it. */
	r.nr = 0;
	zd_mmu_interval_notifier_remove(&r.sub);
	ZT_EQ(zd_munmap(fx->mm, a, PMDSZ), 0);
	a = zt_map_thp(fx->mm, PMDSZ);
	write_byte(fx->mm, a, 't');
	rec_start(&r, fx->mm);
	ZT_EQ(zd_mprotect(fx->mm, a + PG, PG, ZD_PROT_READ), 0);
	ZT_EQ(r.c[0].event, ZD_MMU_NOTIFY_CLEAR);
	expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PMDSZ);
	expect_call(&r, ZD_MMU_NOTIFY_PROTECTION_VMA, a + PG, a + 2 * PG);
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* A write to the huge zero folio's PMD: a new THP replaces it under CLEAR. */
static void test_huge_zero_wp_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a;
	char c;
	int lvl;
	struct rec r;

	zd_thp_set_use_zero_page(fx->sys, true);
	a = zt_map_thp(fx->mm, PMDSZ);
	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	ZT_PTR_EQ(zt_folio_at(fx->mm, a, &lvl), zd_huge_zero_folio(fx->sys));
	ZT_EQ(lvl, 2);
	rec_start(&r, fx->mm);
	write_byte(fx->mm, a + PG, 'z');
	ZT_EQ(r.nr, 1);
	expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PMDSZ);
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* MADV_COLLAPSE: the PTE table's PMD is cleared under CLEAR of the PMD range. */
static void test_collapse_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = 0;
	int lvl;
	struct rec r;

	ZT_EQ(zd_mmap(fx->mm, 0, PMDSZ, RW, ANON, NULL, 0, PMDSZ, &a), 0);
	for (int i = 0; i < 8; i++)
		write_byte(fx->mm, a + (unsigned long)i * PG, 'c');
	rec_watch(&r, fx->mm, a);
	ZT_EQ(zd_madvise(fx->mm, a, PMDSZ, ZD_MADV_COLLAPSE), 0);
	zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	ZT_TRUE(zd_pte_present(expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PMDSZ)->watched));
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* KSM: the kept page is write-protected, the duplicate replaced; CLEAR each page. */
static void test_ksm_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_mm *mms[1] = { fx->mm };
	struct rec r;

	write_byte(fx->mm, a, 'k');
	write_byte(fx->mm, a + PG, 'k');
	ZT_EQ(zd_madvise(fx->mm, a, 2 * PG, ZD_MADV_MERGEABLE), 0);
	rec_start(&r, fx->mm);
	ZT_EQ(zd_ksm_scan(mms, 1), 1);
	ZT_EQ(r.nr, 2);
	expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PG);
	expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a + PG, a + 2 * PG);
	zd_mmu_interval_notifier_remove(&r.sub);
}

/*
 * fork write-protects the parent's COW entries (PROTECTION_PAGE over the
 * VMA); the parent's next write copies the page (wp_page_copy: CLEAR of
 * the page); a write that reuses the page in place tells nobody.
 */
static void test_fork_and_cow(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), s = 0;
	struct zd_mm *child = NULL;
	const struct call *c;
	struct zd_file *file;
	struct rec r;

	write_byte(fx->mm, a, 'f');
	ZT_EQ(zd_shmem_file_setup(fx->sys, PG, &file), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, RW, ZD_MAP_SHARED, file, 0, 0, &s), 0);
	rec_watch(&r, fx->mm, a);
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	ZT_EQ(r.nr, 1);		/* the shared mapping is not write-protected */
	c = expect_call(&r, ZD_MMU_NOTIFY_PROTECTION_PAGE, a, a + 4 * PG);
	ZT_TRUE(zd_pte_write(c->watched));
	ZT_TRUE(!zd_pte_write(zt_entry_at(fx->mm, a, NULL)));

	r.nr = 0;
	write_byte(fx->mm, a + 10, 'g');
	ZT_EQ(r.nr, 1);
	c = expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PG);
	ZT_TRUE(!zd_pte_write(c->watched));
	zd_mm_destroy(child);
	/* Now the page is the parent's alone: reused in place, nobody told. */
	r.nr = 0;
	write_byte(fx->mm, a + 11, 'h');
	ZT_EQ(r.nr, 0);
	zd_mmu_interval_notifier_remove(&r.sub);
	ZT_EQ(zd_munmap(fx->mm, s, PG), 0);
	zd_fput(file);
}

/* A CPU access to a device-exclusive entry restores the PTE under CLEAR, no owner. */
static void test_device_exclusive_restore_clear(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	const struct call *c;
	char ch;
	struct rec r;

	write_byte(fx->mm, a, 'e');
	zt_make_device_exclusive(fx->mm, a);
	rec_watch(&r, fx->mm, a);
	ZT_EQ(zd_cpu_read(fx->mm, a, &ch, 1), 0);
	ZT_EQ(ch, 'e');
	c = expect_call(&r, ZD_MMU_NOTIFY_CLEAR, a, a + PG);
	ZT_PTR_EQ(c->owner, NULL);
	ZT_TRUE(zd_is_device_exclusive_entry(c->watched));
	ZT_TRUE(zd_pte_present(zt_entry_at(fx->mm, a, NULL)));
	zd_mmu_interval_notifier_remove(&r.sub);
}

/* ---- PROTECTION_VMA ---- */

static void test_mprotect_numa_protection_vma(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = map_letters(fx->mm, 4);
	struct zd_vm_area_struct *vma;
	const struct call *c;
	struct rec r;

	rec_watch(&r, fx->mm, a + PG);
	ZT_EQ(zd_mprotect(fx->mm, a + PG, 2 * PG, ZD_PROT_READ), 0);
	ZT_EQ(r.nr, 1);
	c = expect_call(&r, ZD_MMU_NOTIFY_PROTECTION_VMA, a + PG, a + 3 * PG);
	ZT_TRUE(zd_pte_write(c->watched));
	/* Same protection again: mprotect_fixup changes nothing, tells nobody. */
	ZT_EQ(zd_mprotect(fx->mm, a + PG, 2 * PG, ZD_PROT_READ), 0);
	ZT_EQ(r.nr, 1);

	r.nr = 0;
	r.watch = a;
	zd_mmap_read_lock(fx->mm);
	vma = zd_vma_lookup(fx->mm, a);
	ZT_EQ(zd_change_prot_numa(vma, a, a + PG), 1);
	zd_mmap_read_unlock(fx->mm);
	c = expect_call(&r, ZD_MMU_NOTIFY_PROTECTION_VMA, a, a + PG);
	ZT_TRUE(zd_pte_present(c->watched));
	ZT_TRUE(zd_pte_protnone(zt_entry_at(fx->mm, a, NULL)));
	zd_mmu_interval_notifier_remove(&r.sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_munmap_unmap),
		ZT_MM_TEST(test_exit_release_then_unmap),
		ZT_MM_TEST(test_mremap_unmap_old),
		ZT_MM_TEST(test_madvise_clear),
		ZT_MM_TEST(test_file_clear),
		ZT_MM_TEST(test_move_pages_clear),
		ZT_MM_TEST(test_thp_split_clear),
		ZT_MM_TEST(test_huge_zero_wp_clear),
		ZT_MM_TEST(test_collapse_clear),
		ZT_MM_TEST(test_ksm_clear),
		ZT_MM_TEST(test_fork_and_cow),
		ZT_MM_TEST(test_device_exclusive_restore_clear),
		ZT_MM_TEST(test_mprotect_numa_protection_vma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
