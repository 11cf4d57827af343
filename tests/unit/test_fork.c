// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_fork.c - what fork copies (dup_mmap, copy_page_range):
 * non-present entries (copy_nonpresent_pte), pages that may be
 * DMA-pinned (folio_needs_cow_for_dma, MMF_HAS_PINNED), pinned THPs
 * (copy_huge_pmd's split), which VMAs copy their page tables
 * (vma_needs_copy), and the fork advice of madvise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/gup.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)

static void expect_data(struct zd_mm *mm, unsigned long addr, const char *s)
{
	char buf[32] = { 0 };

	ZT_EQ(zd_cpu_read(mm, addr, buf, strlen(s) + 1), 0);
	if (strcmp(buf, s))
		fail_msg("%#lx reads \"%s\", expected \"%s\"", addr, buf, s);
}

/* ---- copy_nonpresent_pte ---- */

/*
 * A migration entry in a COW mapping is copied readable, and the parent's
 * becomes readable too: a READ_EXCLUSIVE entry as well as a WRITE one,
 * since the page is shared from now on. Restored, neither mapping owns
 * the page: the first write of each copies.
 */
static void test_copy_nonpresent_pte_migration(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_folio *f[2];
	struct zd_mm *mm = NULL, *child = NULL;
	unsigned long a;

	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, 2 * PG);
	ZT_EQ(zd_cpu_write(mm, a, "rexcl", 6), 0);
	ZT_EQ(zd_cpu_write(mm, a + PG, "write", 6), 0);
	/* page 0: read-only but exclusive, so its migration entry is READ_EXCLUSIVE */
	ZT_EQ(zd_mprotect(mm, a, PG, ZD_PROT_READ), 0);
	for (int i = 0; i < 2; i++) {
		f[i] = zt_folio_at(mm, a + (unsigned long)i * PG, NULL);
		zd_folio_get(f[i]);
		zd_folio_lock(f[i]);
		ZT_TRUE(zd_try_to_migrate(f[i]));
	}
	ZT_EQ(zd_swp_type(zt_entry_at(mm, a, NULL)), ZD_SWP_MIGRATION_READ_EXCLUSIVE);
	ZT_EQ(zd_swp_type(zt_entry_at(mm, a + PG, NULL)), ZD_SWP_MIGRATION_WRITE);

	ZT_EQ(zd_fork(mm, &child), 0);
	for (int i = 0; i < 2; i++) {
		unsigned long ai = a + (unsigned long)i * PG;
		zd_pte_t rd = zd_swp_entry(ZD_SWP_MIGRATION_READ, zd_folio_pfn(f[i]));

		ZT_EQU(zt_entry_at(mm, ai, NULL), rd);
		ZT_EQU(zt_entry_at(child, ai, NULL), rd);
		zd_remove_migration_ptes(f[i], f[i]);
		ZT_EQ(zd_folio_mapcount(f[i]), 2);
		ZT_EQ(zd_folio_ref_count(f[i]), 3);
		ZT_TRUE(!zd_page_test_flag(&f[i]->page, ZD_PG_anon_exclusive));
		zd_folio_unlock(f[i]);
		zd_folio_put(f[i]);
	}
	/* The parent's write copies: the child keeps seeing the old data. */
	ZT_EQ(zd_mprotect(mm, a, PG, RW), 0);
	ZT_EQ(zd_cpu_write(mm, a, "parnt", 6), 0);
	ZT_EQ(zd_cpu_write(mm, a + PG, "parnt", 6), 0);
	expect_data(child, a, "rexcl");
	expect_data(child, a + PG, "write");
	ZT_TRUE(zt_folio_at(mm, a, NULL) != f[0]);
	ZT_EQ(zd_folio_mapcount(f[0]), 1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(child);
	zd_mm_destroy(mm);
}

/*
 * A device-exclusive entry is made present again in the parent (the
 * folio trylocked) and then copied as a present page: shared COW. If the
 * folio lock is taken, the copy fails with -EBUSY, which fork reports as
 * -ENOMEM (dup_mm), leaving the parent as it was.
 */
static void test_copy_nonpresent_pte_device_exclusive(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_mm *mm = NULL, *child = NULL;
	struct zd_folio *folio;
	zd_pte_t excl;
	unsigned long a;

	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, PG);
	ZT_EQ(zd_cpu_write(mm, a, "device", 7), 0);
	folio = zt_folio_at(mm, a, NULL);
	zt_make_device_exclusive(mm, a);
	excl = zt_entry_at(mm, a, NULL);

	/* try_restore_exclusive_pte cannot lock the folio: -EBUSY, fork fails */
	zd_folio_lock(folio);
	ZT_EQ(zd_fork(mm, &child), -ENOMEM);
	zd_folio_unlock(folio);
	ZT_EQU(zt_entry_at(mm, a, NULL), excl);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_EQ(zd_check_invariants(sys), 0);

	/*
	 * Restored writable and, the folio being dirty, dirty; then COW
	 * write-protects both sides and the dirty bit stays (a private mapping).
	 */
	ZT_TRUE(zd_page_test_flag(&folio->page, ZD_PG_dirty));
	ZT_EQ(zd_fork(mm, &child), 0);
	ZT_EQU(zt_entry_at(mm, a, NULL), zd_pfn_pte(zd_folio_pfn(folio), ZD_PTE_PRESENT | ZD_PTE_DIRTY));
	ZT_EQU(zt_entry_at(child, a, NULL), zd_pfn_pte(zd_folio_pfn(folio), ZD_PTE_PRESENT | ZD_PTE_DIRTY));
	ZT_EQ(zd_folio_ref_count(folio), 2);
	ZT_EQ(zd_folio_mapcount(folio), 2);
	ZT_TRUE(!zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));
	ZT_EQ(zd_cpu_write(child, a, "child", 6), 0);
	expect_data(mm, a, "device");
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(child);
	zd_mm_destroy(mm);
}

/* ---- folio_needs_cow_for_dma: MMF_HAS_PINNED ---- */

/*
 * A small folio with 1024 plain references looks "maybe pinned". In an
 * mm that never pinned anything, fork shares it COW as any page; once a
 * FOLL_PIN GUP (fast or slow) ran on the mm, such pages are copied at
 * fork.
 */
static void test_folio_needs_cow_for_dma_mmf_has_pinned(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_mm *mm[3] = { NULL }, *child = NULL;
	struct zd_page *page, *pin = NULL;
	struct zd_folio *folio;
	unsigned long a[3];

	for (int m = 0; m < 3; m++) {
		ZT_EQ(zd_mm_create(sys, &mm[m]), 0);
		a[m] = zt_map_anon(mm[m], 2 * PG);
		ZT_EQ(zd_cpu_write(mm[m], a[m], "gup", 4), 0);
		ZT_EQ(zd_cpu_write(mm[m], a[m] + PG, "pin", 4), 0);
		/* 1024 GUP references (FOLL_GET): no pin, yet "maybe pinned" */
		for (int i = 0; i < ZD_GUP_PIN_COUNTING_BIAS; i++)
			ZT_EQ(zd_get_user_pages_unlocked(mm[m], a[m], 1, &page, 0), 1);
		ZT_TRUE(zd_folio_maybe_dma_pinned(zt_folio_at(mm[m], a[m], NULL)));
	}
	/* mm 1 pins through GUP-fast (its PTE is writable: no fallback), mm 2 through GUP */
	ZT_EQ(zd_get_user_pages_fast_only(mm[1], a[1] + PG, 1, 0, &page), 1);
	zd_put_page(page);
	ZT_EQ(zd_pin_user_pages_fast(mm[1], a[1] + PG, 1, ZD_FOLL_WRITE, &pin), 1);
	zd_unpin_user_page(pin);
	zd_mmap_read_lock(mm[2]);
	ZT_EQ(zd_pin_user_pages(mm[2], a[2] + PG, 1, ZD_FOLL_WRITE, &pin), 1);
	zd_mmap_read_unlock(mm[2]);
	zd_unpin_user_page(pin);

	for (int m = 0; m < 3; m++) {
		folio = zt_folio_at(mm[m], a[m], NULL);
		ZT_EQ(zd_fork(mm[m], &child), 0);
		if (m == 0) {
			/* never pinned: shared copy-on-write */
			ZT_PTR_EQ(zt_folio_at(child, a[m], NULL), folio);
			ZT_EQ(zd_folio_mapcount(folio), 2);
			ZT_TRUE(!zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));
		} else {
			/* has pinned: copied for the child at once */
			ZT_TRUE(zt_folio_at(child, a[m], NULL) != folio);
			ZT_EQ(zd_folio_mapcount(folio), 1);
			ZT_TRUE(zd_page_test_flag(&folio->page, ZD_PG_anon_exclusive));
			ZT_TRUE(zd_pte_write(zt_entry_at(mm[m], a[m], NULL)));
			ZT_TRUE(zd_pte_write(zt_entry_at(child, a[m], NULL)));
		}
		expect_data(child, a[m], "gup");
		/* the unpinned page next to it is shared either way */
		ZT_PTR_EQ(zt_folio_at(child, a[m] + PG, NULL), zt_folio_at(mm[m], a[m] + PG, NULL));
		zd_mm_destroy(child);
		for (int i = 0; i < ZD_GUP_PIN_COUNTING_BIAS; i++)
			zd_put_page(&folio->page);
		ZT_EQ(zd_folio_ref_count(folio), 1);
		zd_mm_destroy(mm[m]);
	}
	ZT_EQ(zd_check_invariants(sys), 0);
}

/* ---- copy_huge_pmd: a pinned THP ---- */

/*
 * A PMD-mapped anonymous THP that may be pinned is not copied whole: the
 * parent's PMD is split and each (exclusive, maybe pinned) PTE copied for
 * the child as a small page. The parent keeps the THP and its pin.
 *
 *   a          a+7p       a+8p                       a+2M
 *   |== PMD leaf: THP T, page 7 pinned ==============|   parent, before fork
 *   |- PTEs ---|- T+7 rw -|- PTEs of T --------------|   parent after fork: 512 PTEs of T,
 *                                                        writable and exclusive, the pin kept
 *   |- copies -|- copy ---|- copies -----------------|   child: 512 order-0 copies
 */
static void test_copy_huge_pmd_pinned_thp(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_mm *mm = NULL, *child = NULL;
	struct zd_page *pin = NULL;
	struct zd_folio *thp, *f;
	unsigned long a = 0;
	int lvl;

	ZT_EQ(zd_mm_create(sys, &mm), 0);
	ZT_EQ(zd_mmap(mm, 0, ZD_PMD_SIZE, RW, ANON, NULL, 0, ZD_PMD_SIZE, &a), 0);
	ZT_EQ(zd_madvise(mm, a, ZD_PMD_SIZE, ZD_MADV_HUGEPAGE), 0);
	ZT_EQ(zd_cpu_write(mm, a, "head", 5), 0);
	ZT_EQ(zd_cpu_write(mm, a + 7 * PG, "seven", 6), 0);
	thp = zt_folio_at(mm, a, NULL);
	zt_entry_at(mm, a, &lvl);
	ZT_EQ(lvl, 2);
	ZT_EQ(zd_pin_user_pages_fast(mm, a + 7 * PG, 1, ZD_FOLL_WRITE, &pin), 1);
	ZT_EQ(zd_folio_ref_count(thp), 2);

	ZT_EQ(zd_fork(mm, &child), 0);
	/* the parent: PTE-mapped now, same pages, still writable and exclusive */
	ZT_PTR_EQ(zt_folio_at(mm, a + 7 * PG, NULL), thp);
	zt_entry_at(mm, a, &lvl);
	ZT_EQ(lvl, 1);
	ZT_EQ(zd_folio_entire_mapcount(thp), 0);
	ZT_EQ(zd_folio_mapcount(thp), 512);
	ZT_EQ(zd_folio_ref_count(thp), 513);
	ZT_TRUE(zd_pte_write(zt_entry_at(mm, a + 7 * PG, NULL)));
	ZT_TRUE(zd_page_test_flag(zd_folio_page(thp, 7), ZD_PG_anon_exclusive));
	/* the child: 512 small copies */
	for (unsigned long i = 0; i < 512; i++) {
		f = zt_folio_at(child, a + i * PG, NULL);
		zt_entry_at(child, a + i * PG, &lvl);
		ZT_TRUE(f && f != thp && !zd_folio_test_large(f));
		ZT_EQ(lvl, 1);
		ZT_EQ(zd_folio_ref_count(f), 1);
		ZT_EQ(zd_folio_mapcount(f), 1);
	}
	expect_data(child, a, "head");
	expect_data(child, a + 7 * PG, "seven");
	/* the pin still sees the parent's page */
	ZT_EQ(zd_cpu_write(child, a + 7 * PG, "child", 6), 0);
	ZT_EQ(strcmp(zd_page_address(pin), "seven"), 0);
	ZT_EQ(zd_cpu_write(mm, a + 7 * PG, "paren", 6), 0);
	ZT_EQ(strcmp(zd_page_address(pin), "paren"), 0);
	zd_unpin_user_page(pin);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(child);
	zd_mm_destroy(mm);
}

/* ---- vma_needs_copy: VM_MIXEDMAP ---- */

struct mixed_drv {
	struct zd_file file;
	struct zd_folio *page;		/* the page every address maps */
	int faults;
	bool io;			/* VM_IO too */
};

static zd_vm_fault_t mixed_fault(struct zd_vm_fault *vmf)
{
	struct mixed_drv *d = vmf->vma->vm_private_data;

	d->faults++;
	return zd_vmf_insert_page_mkwrite(vmf, &d->page->page, vmf->flags & ZD_FAULT_FLAG_WRITE);
}

static const struct zd_vm_operations_struct mixed_vm_ops = { .fault = mixed_fault,
							     .name = "mixed" };

static int mixed_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	struct mixed_drv *d = file->private_data;

	vma->vm_flags |= ZD_VM_MIXEDMAP | (d->io ? ZD_VM_IO : 0);
	vma->vm_ops = &mixed_vm_ops;
	vma->vm_private_data = file->private_data;
	return 0;
}

static const struct zd_file_operations mixed_fops = { .mmap = mixed_mmap, .name = "mixed" };

/*
 * A VM_MIXEDMAP (like a VM_PFNMAP) mapping cannot be refilled by faults
 * in general: fork copies its page tables. The child maps the page
 * without faulting, with its own reference and mapcount; a shared
 * mapping's copy is clean.
 */
static void test_vma_needs_copy_mixedmap(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct mixed_drv d = { .file = { .f_op = &mixed_fops } };
	struct zd_mm *mm = NULL, *child = NULL;
	unsigned long a = 0;
	zd_pte_t e;

	d.page = zd_folio_alloc(sys, ZD_GFP_ZERO, 0);
	d.file.private_data = &d;
	zd_atomic_init(&d.file.f_count, 1l);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	ZT_EQ(zd_mmap(mm, 0, PG, RW, ZD_MAP_SHARED, &d.file, 0, 0, &a), 0);
	ZT_EQ(zd_cpu_write(mm, a, "mixed", 6), 0);
	ZT_EQ(d.faults, 1);
	ZT_EQ(zd_folio_ref_count(d.page), 2);

	ZT_EQ(zd_fork(mm, &child), 0);
	e = zt_entry_at(child, a, NULL);
	ZT_EQU(e, zd_pfn_pte(zd_folio_pfn(d.page), ZD_PTE_PRESENT | ZD_PTE_WRITE));
	ZT_EQ(zd_folio_ref_count(d.page), 3);
	ZT_EQ(zd_folio_mapcount(d.page), 2);
	expect_data(child, a, "mixed");
	ZT_EQ(d.faults, 1);
	zd_mm_destroy(child);
	zd_mm_destroy(mm);
	ZT_EQ(zd_folio_ref_count(d.page), 1);
	ZT_EQ(zd_atomic_load_relaxed(&d.file.f_count), 1);
	zd_folio_put(d.page);
}

/* ---- the fork advice of madvise ---- */

static unsigned long vma_flags(struct zd_mm *mm, unsigned long addr)
{
	struct zd_vm_area_struct *vma;
	unsigned long fl;

	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, addr);
	fl = vma ? vma->vm_flags : 0;
	zd_mmap_read_unlock(mm);
	ZT_TRUE(vma != NULL);
	return fl;
}

/*
 * madvise_vma_behavior(): DONTFORK/DOFORK set and clear VM_DONTCOPY,
 * WIPEONFORK/KEEPONFORK VM_WIPEONFORK, splitting and merging VMAs as any
 * flag advice; DOFORK on a VM_IO mapping and WIPEONFORK on anything but
 * private anonymous memory are -EINVAL.
 */
static void test_madvise_vma_behavior_fork_advice(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct mixed_drv d = { .file = { .f_op = &mixed_fops }, .io = true };
	struct zd_mm *mm = NULL;
	struct zd_mm_stats st;
	unsigned long a, s = 0, io = 0;

	d.page = zd_folio_alloc(sys, ZD_GFP_ZERO, 0);
	d.file.private_data = &d;
	zd_atomic_init(&d.file.f_count, 1l);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, 3 * PG);
	ZT_EQ(zd_mmap(mm, 0, PG, RW, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0, 0, &s), 0);
	ZT_EQ(zd_mmap(mm, 0, PG, RW, ZD_MAP_SHARED, &d.file, 0, 0, &io), 0);

	ZT_EQ(zd_madvise(mm, a + PG, PG, ZD_MADV_DONTFORK), 0);
	ZT_TRUE(vma_flags(mm, a + PG) & ZD_VM_DONTCOPY);
	ZT_TRUE(!(vma_flags(mm, a) & ZD_VM_DONTCOPY));
	zd_mm_get_stats(mm, &st);
	ZT_EQ(st.nr_vmas, 5);
	ZT_EQ(zd_madvise(mm, a, 3 * PG, ZD_MADV_DOFORK), 0);
	zd_mm_get_stats(mm, &st);
	ZT_EQ(st.nr_vmas, 3);
	ZT_TRUE(!(vma_flags(mm, a + PG) & ZD_VM_DONTCOPY));

	ZT_EQ(zd_madvise(mm, a, PG, ZD_MADV_WIPEONFORK), 0);
	ZT_TRUE(vma_flags(mm, a) & ZD_VM_WIPEONFORK);
	ZT_EQ(zd_madvise(mm, a, PG, ZD_MADV_KEEPONFORK), 0);
	ZT_TRUE(!(vma_flags(mm, a) & ZD_VM_WIPEONFORK));

	/* shmem and driver files: not anonymous */
	ZT_EQ(zd_madvise(mm, s, PG, ZD_MADV_WIPEONFORK), -EINVAL);
	ZT_EQ(zd_madvise(mm, io, PG, ZD_MADV_WIPEONFORK), -EINVAL);
	ZT_EQ(zd_madvise(mm, s, PG, ZD_MADV_KEEPONFORK), 0);
	/* VM_IO: may be left out of a fork, never put back */
	ZT_EQ(zd_madvise(mm, io, PG, ZD_MADV_DONTFORK), 0);
	ZT_TRUE(vma_flags(mm, io) & ZD_VM_DONTCOPY);
	ZT_EQ(zd_madvise(mm, io, PG, ZD_MADV_DOFORK), -EINVAL);
	ZT_TRUE(vma_flags(mm, io) & ZD_VM_DONTCOPY);
	ZT_EQ(zd_madvise(mm, s, PG, ZD_MADV_DOFORK), 0);
	zd_mm_destroy(mm);
	ZT_EQ(zd_atomic_load_relaxed(&d.file.f_count), 1);
	zd_folio_put(d.page);
}

/*
 * dup_mmap(): a VM_DONTCOPY VMA is not in the child at all; a
 * VM_WIPEONFORK one is, empty (no page copied or shared; it reads zeros
 * and faults in its own pages). After KEEPONFORK it is copied again.
 */
static void test_dup_mmap_dontcopy_wipeonfork(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_mm *mm = NULL, *child = NULL;
	struct zd_folio *w;
	struct zd_mm_stats st;
	unsigned long a, b;
	char c;

	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, 3 * PG);
	b = zt_map_anon(mm, PG);
	for (int i = 0; i < 3; i++)
		ZT_EQ(zd_cpu_write(mm, a + (unsigned long)i * PG, "keep", 5), 0);
	ZT_EQ(zd_cpu_write(mm, b, "wipe", 5), 0);
	w = zt_folio_at(mm, b, NULL);
	ZT_EQ(zd_madvise(mm, a + PG, PG, ZD_MADV_DONTFORK), 0);
	ZT_EQ(zd_madvise(mm, b, PG, ZD_MADV_WIPEONFORK), 0);

	ZT_EQ(zd_fork(mm, &child), 0);
	expect_data(child, a, "keep");
	expect_data(child, a + 2 * PG, "keep");
	ZT_EQ(zd_cpu_read(child, a + PG, &c, 1), -EFAULT);	/* no VMA there */
	ZT_TRUE(vma_flags(child, b) & ZD_VM_WIPEONFORK);
	ZT_EQ(zt_entry_at(child, b, NULL), 0);
	ZT_EQ(zd_folio_mapcount(w), 1);
	ZT_EQ(zd_folio_ref_count(w), 1);
	ZT_TRUE(zd_page_test_flag(&w->page, ZD_PG_anon_exclusive));
	zd_mm_get_stats(child, &st);
	ZT_EQ(st.rss_anon, 2);
	ZT_EQ(zd_cpu_read(child, b, &c, 1), 0);
	ZT_EQ(c, 0);
	ZT_EQ(zd_cpu_write(child, b, "new", 4), 0);
	ZT_TRUE(zt_folio_at(child, b, NULL) != w);
	expect_data(mm, b, "wipe");
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(child);

	/* undone: copied as usual */
	ZT_EQ(zd_madvise(mm, a, 3 * PG, ZD_MADV_DOFORK), 0);
	ZT_EQ(zd_madvise(mm, b, PG, ZD_MADV_KEEPONFORK), 0);
	ZT_EQ(zd_fork(mm, &child), 0);
	expect_data(child, a + PG, "keep");
	expect_data(child, b, "wipe");
	ZT_PTR_EQ(zt_folio_at(child, b, NULL), w);
	zd_mm_destroy(child);
	zd_mm_destroy(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_copy_nonpresent_pte_migration),
		ZT_TEST(test_copy_nonpresent_pte_device_exclusive),
		ZT_TEST(test_folio_needs_cow_for_dma_mmf_has_pinned),
		ZT_TEST(test_copy_huge_pmd_pinned_thp),
		ZT_TEST(test_vma_needs_copy_mixedmap),
		ZT_TEST(test_madvise_vma_behavior_fork_advice),
		ZT_TEST(test_dup_mmap_dontcopy_wipeonfork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
