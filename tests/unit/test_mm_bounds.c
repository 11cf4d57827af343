// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_mm_bounds.c - address ranges at the edges of the
 * address space: every `start + len` the mm entry points form is checked
 * against the task size (and for wrapping) before it is used, with the
 * errors Linux returns (mm/mremap.c check_mremap_params and
 * remap_is_valid, mm/mmap.c do_mmap, mm/vma.c do_vmi_munmap,
 * mm/mprotect.c do_mprotect_pkey, mm/madvise.c, mm/gup.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/gup.h>
#include <zonedev/tmpfs.h>

#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define PG ZD_PAGE_SIZE
#define TOP (~0ul & ~(PG - 1))	/* the last page-aligned address */

/* The one VMA at @a still spans exactly [a, a + len). */
static void assert_vma(struct zt_fixture *fx, unsigned long a, unsigned long len)
{
	struct zd_vm_area_struct *vma = zd_vma_lookup(fx->mm, a);

	assert_non_null(vma);
	ZT_EQU(vma->vm_start, a);
	ZT_EQU(vma->vm_end, a + len);
}

/* check_mremap_params: new_len above the task size, or rounding up past 2^64, is EINVAL. */
static void test_check_mremap_params_new_len(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG), out = 0;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	ZT_EQ(zd_mremap(fx->mm, a, PG, 0xfffffffffffff000ul, ZD_MREMAP_MAYMOVE, 0, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, a, PG, 0xfffffffffffff000ul, 0, 0, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, a, PG, ZD_TASK_SIZE + PG, ZD_MREMAP_MAYMOVE, 0, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, a, PG, ~0ul, ZD_MREMAP_MAYMOVE, 0, &out), -EINVAL);
	/* the whole task size is a possible length (it just finds no room) */
	ZT_EQ(zd_mremap(fx->mm, a, PG, ZD_TASK_SIZE, ZD_MREMAP_MAYMOVE, 0, &out), -ENOMEM);
	ZT_EQU(out, 0);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	assert_vma(fx, a, PG);
}

/* check_mremap_params: with MREMAP_FIXED, new_addr + new_len must stay below the task size. */
static void test_check_mremap_params_new_addr(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG), out = 0;
	const int fixed = ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED;

	ZT_EQ(zd_mremap(fx->mm, a, PG, 2 * PG, fixed, TOP - PG, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, a, PG, 2 * PG, fixed, ZD_TASK_SIZE - PG, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, a, PG, 0xfffffffffffff000ul, fixed, 1ul << 41, &out), -EINVAL);
	ZT_EQ(zd_mremap(fx->mm, a, PG, PG, fixed | ZD_MREMAP_DONTUNMAP, TOP, &out), -EINVAL);
	ZT_EQU(out, 0);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	assert_vma(fx, a, PG);
	/* below mmap_min_addr: security_mmap_addr() says EPERM, for mremap as for mmap */
	ZT_EQ(zd_mremap(fx->mm, a, PG, PG, fixed, 0, &out), -EPERM);
	ZT_EQ(zd_mmap(fx->mm, PG, PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &out), -EPERM);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	/* the last page below the task size is fine */
	ZT_EQ(zd_mremap(fx->mm, a, PG, PG, fixed, ZD_TASK_SIZE - PG, &out), 0);
	ZT_EQU(out, ZD_TASK_SIZE - PG);
	assert_vma(fx, out, PG);
	ZT_EQ(zd_cpu_write(fx->mm, out, "x", 1), 0);
}

/* remap_is_valid: old_len 0 (a duplicate) of a private mapping is EINVAL; old_len past the VMA EFAULT. */
static void test_remap_is_valid(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), out = 0;

	ZT_EQ(zd_mremap(fx->mm, a, 0, PG, ZD_MREMAP_MAYMOVE, 0, &out), -EINVAL);
	/* ~0 rounds up to 0: the same duplicate request */
	ZT_EQ(zd_mremap(fx->mm, a, ~0ul, 8 * PG, ZD_MREMAP_MAYMOVE, 0, &out), -EINVAL);
	/* a shrink that moves checks new_len against the VMA */
	ZT_EQ(zd_mremap(fx->mm, a, 0xfffffffffffff000ul, 8 * PG,
			ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED, 1ul << 41, &out), -EFAULT);
	ZT_EQ(zd_mremap(fx->mm, a + PG, 4 * PG, 8 * PG, ZD_MREMAP_MAYMOVE, 0, &out), -EFAULT);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	assert_vma(fx, a, 4 * PG);
}

/*
 * mremap shrinking in place unmaps [addr + new_len, addr + old_len) as
 * munmap does: across holes, and an old_len running past the task size
 * is EINVAL (do_vmi_munmap), never a range that wraps.
 *
 *   a        a+2p     a+4p              a+8p
 *   |-- A ------------|                 |   before: one VMA of 4 pages
 *   |-- A ---|                          |   mremap(a, 8p -> 2p): [a+2p, a+8p) unmapped,
 *                                           the hole past the VMA included
 */
static void test_mremap_shrink_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), out = 0;

	ZT_EQ(zd_mremap(fx->mm, a, 0xfffffffffffff000ul, PG, 0, 0, &out), -EINVAL);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	assert_vma(fx, a, 4 * PG);
	/* past the VMA's end into nothing: allowed for a shrink */
	ZT_EQ(zd_mremap(fx->mm, a, 8 * PG, 2 * PG, 0, 0, &out), 0);
	ZT_EQU(out, a);
	assert_vma(fx, a, 2 * PG);
}

/* do_mmap: a MAP_FIXED range must end below the task size; the file offset must not wrap. */
static void test_do_mmap_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_file *file;
	unsigned long out = 0;

	ZT_EQ(zd_mmap(fx->mm, TOP - PG, 2 * PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &out), -ENOMEM);
	ZT_EQ(zd_mmap(fx->mm, TOP, 2 * PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &out), -ENOMEM);
	ZT_EQ(zd_mmap(fx->mm, ZD_TASK_SIZE - PG, 2 * PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &out),
	      -ENOMEM);
	ZT_EQ(zd_mmap(fx->mm, 0, ~0ul, RW, ANON, NULL, 0, 0, &out), -ENOMEM);
	ZT_EQU(zt_nr_vmas(fx->mm), 0);
	ZT_EQ(zd_mmap(fx->mm, ZD_TASK_SIZE - PG, PG, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0, &out), 0);
	assert_vma(fx, ZD_TASK_SIZE - PG, PG);

	ZT_EQ(zd_shmem_file_setup(fx->sys, 2 * PG, &file), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ZD_MAP_SHARED, file, ~0ul, 0, &out), -EOVERFLOW);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ZD_MAP_SHARED, file, ~0ul - 1, 0, &out), -EOVERFLOW);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	zd_fput(file);
}

/* do_vmi_munmap: the length is bounded before it is rounded up (EINVAL, nothing unmapped). */
static void test_do_vmi_munmap_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);

	ZT_EQ(zd_munmap(fx->mm, a, ~0ul), -EINVAL);
	ZT_EQ(zd_munmap(fx->mm, a, 0xfffffffffffff001ul), -EINVAL);
	ZT_EQ(zd_munmap(fx->mm, a, ZD_TASK_SIZE), -EINVAL);
	ZT_EQ(zd_munmap(fx->mm, TOP, PG), -EINVAL);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	assert_vma(fx, a, 4 * PG);
}

/* do_mprotect_pkey: a length that wraps, or rounds up to 0, is ENOMEM; 0 is a no-op. */
static void test_do_mprotect_pkey_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);

	ZT_EQ(zd_mprotect(fx->mm, a, 0, ZD_PROT_READ), 0);
	ZT_EQ(zd_mprotect(fx->mm, a, ~0ul, ZD_PROT_READ), -ENOMEM);
	ZT_EQ(zd_mprotect(fx->mm, a, 0xfffffffffffff001ul, ZD_PROT_READ), -ENOMEM);
	ZT_EQ(zd_mprotect(fx->mm, a, TOP, ZD_PROT_READ), -ENOMEM);
	ZT_EQ(zd_mprotect(fx->mm, TOP, 2 * PG, ZD_PROT_READ), -ENOMEM);
	ZT_EQU(zt_nr_vmas(fx->mm), 1);
	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);	/* still writable */
}

/* madvise: a wrapping range is EINVAL, nothing advised. */
static void test_madvise_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG);
	char c = 0;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	ZT_EQ(zd_madvise(fx->mm, a, ~0ul, ZD_MADV_DONTNEED), -EINVAL);
	ZT_EQ(zd_madvise(fx->mm, a, TOP, ZD_MADV_DONTNEED), -EINVAL);
	ZT_EQ(zd_madvise(fx->mm, TOP, 2 * PG, ZD_MADV_DONTNEED), -EINVAL);
	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	ZT_EQ(c, 'x');
}

/* The CPU's accesses: a range that wraps is EFAULT (SIGSEGV), before any byte moves. */
static void test_cpu_access_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	char c = 0;

	ZT_EQ(zd_cpu_touch(fx->mm, a + 1, SIZE_MAX, true), -EFAULT);
	ZT_EQ(zd_cpu_touch(fx->mm, a + 1, SIZE_MAX - 1, false), -EFAULT);
	ZT_EQ(zd_cpu_read(fx->mm, a, &c, SIZE_MAX), -EFAULT);
	ZT_EQ(zd_cpu_write(fx->mm, TOP, &c, 2 * PG), -EFAULT);
	ZT_EQ(zd_cpu_touch(fx->mm, TOP, 2 * PG, true), -EFAULT);
	/* nothing was faulted in */
	{
		zd_pte_t e;
		int lvl;

		ZT_TRUE(!zd_follow_entry(fx->mm, a, &e, &lvl) || !zd_pte_present(e));
	}
}

/*
 * follow_pte: an address above the task size maps nothing, even where
 * its page-table indices equal those of a mapped address.
 */
static void test_follow_pte_above_task_size(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG);
	zd_pte_t e = 1;
	int lvl = 1;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	ZT_EQ(zd_follow_entry(fx->mm, a, &e, &lvl), 1);
	ZT_EQ(zd_follow_entry(fx->mm, a + (1ul << 48), &e, &lvl), 0);
	ZT_EQU(e, 0);
	ZT_EQ(lvl, 0);
	ZT_EQ(zd_follow_entry(fx->mm, a | (0xffffull << 48), &e, &lvl), 0);
}

/* gup_fast_fallback: start + nr_pages wrapping is EOVERFLOW; past the task size EFAULT. */
static void test_gup_fast_fallback_bounds(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_page *pages[2];
	unsigned long a = zt_map_anon(fx->mm, PG);

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm, TOP, 2, 0, pages), -EOVERFLOW);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, TOP, 2, 0, pages), -EOVERFLOW);
	ZT_EQ(zd_get_user_pages_fast(fx->mm, ZD_TASK_SIZE - PG, 2, 0, pages), -EFAULT);
	/* the slow path stops at the first page outside any VMA */
	zd_mmap_read_lock(fx->mm);
	ZT_EQ(zd_get_user_pages(fx->mm, TOP, ~0ul, 0, pages), -EFAULT);
	zd_mmap_read_unlock(fx->mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_check_mremap_params_new_len),
		ZT_MM_TEST(test_check_mremap_params_new_addr),
		ZT_MM_TEST(test_remap_is_valid),
		ZT_MM_TEST(test_mremap_shrink_bounds),
		ZT_MM_TEST(test_do_mmap_bounds),
		ZT_MM_TEST(test_do_vmi_munmap_bounds),
		ZT_MM_TEST(test_do_mprotect_pkey_bounds),
		ZT_MM_TEST(test_madvise_bounds),
		ZT_MM_TEST(test_cpu_access_bounds),
		ZT_MM_TEST(test_gup_fast_fallback_bounds),
		ZT_MM_TEST(test_follow_pte_above_task_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
