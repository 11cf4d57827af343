// SPDX-License-Identifier: MIT
/*
 * test_devdax - device DAX (drivers/dax/device.c, semantics §9).
 *
 * At 4 KiB, 2 MiB and 1 GiB alignment (and in the legacy scheme at the
 * first two): creation (every folio idle at refcount 1, folio order =
 * alignment order), check_vma at mmap (R9.1: shared only, aligned VMAs,
 * -ENXIO once dead), the fault handlers' level decisions (R9.2: SIGBUS,
 * FALLBACK), faults mapping a folio of the right order at the right level
 * with refcount 1 + mappings (R9.4) and mapping/index set (R9.3), data
 * shared between mms, munmap back to idle, unbind zapping every mapping
 * and waiting for held pages (R1.13: a long-term GUP pin, which device-DAX
 * allows, holds unbind off until unpinned), a file outliving its device,
 * and faults racing unbind.
 *
 *   device:  [ folio 0 | folio 1 | ... ]     (align bytes each)
 *   mm A:      ^addr_a                        shared, aligned mapping
 *   mm B:      ^addr_b                        the same file offsets
 *   refcount(folio 0) = 1 + mappings of it (+ "GUP" references)
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

struct dx_variant {
	unsigned long align;
	uint64_t size;
	enum zd_scheme scheme;
	enum zd_data_mode data;
};

static const struct dx_variant dx_4k = { 4 * KiB, 4 * MiB, ZD_SCHEME_ZERO, ZD_DATA_REAL };
static const struct dx_variant dx_2m = { 2 * MiB, 8 * MiB, ZD_SCHEME_ZERO, ZD_DATA_REAL };
static const struct dx_variant dx_1g = { 1 * GiB, 1 * GiB, ZD_SCHEME_ZERO, ZD_DATA_REAL };
static const struct dx_variant dx_1g_nodata = { 1 * GiB, 1 * GiB, ZD_SCHEME_ZERO, ZD_DATA_NONE };
static const struct dx_variant dx_4k_one = { 4 * KiB, 4 * MiB, ZD_SCHEME_ONE, ZD_DATA_REAL };
static const struct dx_variant dx_2m_one = { 2 * MiB, 8 * MiB, ZD_SCHEME_ONE, ZD_DATA_REAL };
static const struct dx_variant dx_1g_one = { 1 * GiB, 1 * GiB, ZD_SCHEME_ONE, ZD_DATA_REAL };

#define NR_MMS 3

struct dx_fixture {
	const struct dx_variant *v;
	struct zd_system *sys;
	struct zt_reports log;
	struct zd_devdax *dd;
	struct zd_mm *mm[NR_MMS];
};

#define DX(state) ((struct dx_fixture *)*(state))

static int dx_setup(void **state)
{
	struct dx_fixture *fx = calloc(1, sizeof(*fx));
	struct zd_system_options o;

	if (!fx)
		return -1;
	fx->v = *state;
	zt_options(&o, &fx->log, fx->v ? fx->v->scheme : ZD_SCHEME_ZERO, ZD_CHECK_FULL);
	if (fx->v)
		o.data = fx->v->data;
	fx->sys = zt_system_create_opts(&o);
	*state = fx;
	if (fx->v && zd_devdax_create(fx->sys, fx->v->size, fx->v->align, &fx->dd))
		return -1;
	for (int i = 0; fx->v && i < NR_MMS; i++)
		if (zd_mm_create(fx->sys, &fx->mm[i]))
			return -1;
	return 0;
}

/*
 * Tear down what the test left (mms first: their VMAs hold the file),
 * unbind with a deadline so a held page fails instead of hanging, then the
 * leak check.
 */
static int dx_teardown(void **state)
{
	struct dx_fixture *fx = *state;
	int stuck = 0, leaks, before, after;

	for (int i = 0; i < NR_MMS; i++)
		if (fx->mm[i])
			zd_mm_destroy(fx->mm[i]);
	if (fx->dd && zd_devdax_destroy_timeout(fx->dd, 2000 * MS))
		stuck = 1;
	leaks = zd_system_leak_check(fx->sys);
	before = fx->log.nr;
	/* A device still held would be torn down under its holder: leave it. */
	if (!stuck)
		zd_system_destroy(fx->sys);
	after = fx->log.nr;
	if (stuck || leaks || after) {
		zt_reports_print(&fx->log);
		print_error("teardown: stuck %d, %d leak(s), %d report(s) before destroy, %d after\n",
			    stuck, leaks, before, after - before);
	}
	free(fx);
	if (stuck || leaks || after)
		fail_msg("teardown: the test left its machine unclean");
	return 0;
}

#define DX_TEST(fn, v) { #fn "(" #v ")", fn, dx_setup, dx_teardown, (void *)&v }
#define DX_TEST_PLAIN(fn) { #fn, fn, dx_setup, dx_teardown, NULL }

/* ---- helpers ---- */

static int expected_level(unsigned long align)
{
	return align == GiB ? 3 : align == 2 * MiB ? 2 : 1;
}

static unsigned int align_order(unsigned long align)
{
	return align == GiB ? ZD_PUD_ORDER : align == 2 * MiB ? ZD_PMD_ORDER : 0;
}

/* Folios a test maps: two where the device has them. */
static unsigned long nr_test_folios(const struct dx_fixture *fx)
{
	return fx->v->size / fx->v->align >= 2 ? 2 : 1;
}

static struct zd_folio *pgoff_folio(struct dx_fixture *fx, unsigned long pgoff)
{
	unsigned long pfn = zd_devdax_pgoff_to_pfn(fx->dd, pgoff);
	struct zd_folio *folio;

	ZT_TRUE(pfn != ZD_DEVDAX_NO_PFN);
	folio = zd_pfn_folio(fx->sys, pfn);
	ZT_TRUE(folio != NULL);
	return folio;
}

/* The idx-th folio of the device. */
static struct zd_folio *dev_folio(struct dx_fixture *fx, unsigned long idx)
{
	return pgoff_folio(fx, idx * (fx->v->align >> ZD_PAGE_SHIFT));
}

/* Level (1 PTE, 2 PMD, 3 PUD) of the present entry mapping @addr, 0 if none. */
static int entry_level(struct zd_mm *mm, unsigned long addr, zd_pte_t *e)
{
	zd_pte_t ent = 0;
	int level = 0;

	if (zd_follow_entry(mm, addr, &ent, &level) <= 0 || !zd_pte_present(ent))
		return 0;
	if (e)
		*e = ent;
	return level;
}

/* A shared RW mapping of @len bytes of the device file at @pgoff, placed by the file. */
static unsigned long map_dax(struct dx_fixture *fx, struct zd_mm *mm, unsigned long len,
			     unsigned long pgoff)
{
	unsigned long addr = 0;

	ZT_EQ(zd_mmap(mm, 0, len, RW, ZD_MAP_SHARED, zd_devdax_file(fx->dd), pgoff, 0, &addr), 0);
	/* dax_get_unmapped_area: the file asks for its alignment. */
	ZT_EQU(addr & (fx->v->align - 1), 0);
	return addr;
}

/* Legacy scheme: devmap entries, no reference or mapcount per mapping (L6). */
static bool legacy(const struct dx_fixture *fx)
{
	return fx->v->scheme == ZD_SCHEME_ONE;
}

/*
 * refcount = 1 + mappings, mapcount = mappings (R9.4, R11.4); in the
 * legacy scheme 1 and 0 whatever is mapped (L6).
 */
static void expect_mapped(const struct dx_fixture *fx, struct zd_folio *folio, int mappings)
{
	if (legacy(fx))
		mappings = 0;
	ZT_EQ(zd_folio_ref_count(folio), 1 + mappings);
	ZT_EQ(zd_folio_mapcount(folio), mappings);
}

/* @addr maps @folio whole, at the alignment's level, writable if @write. */
static void expect_entry(struct dx_fixture *fx, struct zd_mm *mm, unsigned long addr,
			 struct zd_folio *folio, bool write)
{
	zd_pte_t e = 0;

	ZT_EQ(entry_level(mm, addr, &e), expected_level(fx->v->align));
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(folio));
	ZT_TRUE(!zd_pte_special(e));	/* R12.16, B10: refcounted, so not special */
	/* legacy: a devmap entry, for which vm_normal_page finds nothing (L6) */
	ZT_EQ(zd_pte_devmap(e), legacy(fx));
	if (write)
		ZT_TRUE(zd_pte_write(e));
	if (fx->v->align > ZD_PAGE_SIZE) {
		/* the last byte of the folio's range resolves to the same leaf */
		zd_pte_t last = 0;

		ZT_EQ(entry_level(mm, addr + fx->v->align - 1, &last), expected_level(fx->v->align));
		ZT_EQU(last, e);
	}
}

static void expect_idle(struct dx_fixture *fx)
{
	unsigned long nr = fx->v->size / fx->v->align;

	for (unsigned long i = 0; i < nr; i++)
		expect_mapped(fx, dev_folio(fx, i), 0);
}

/* ---- creation ---- */

static void test_create_args(void **state)
{
	struct dx_fixture *fx = DX(state);
	struct zd_devdax *dd = NULL;
	struct zd_system_stats st;

	ZT_EQ(zd_devdax_create(fx->sys, 4 * MiB, 0, &dd), -EINVAL);
	ZT_EQ(zd_devdax_create(fx->sys, 4 * MiB, 8 * KiB, &dd), -EINVAL);
	ZT_EQ(zd_devdax_create(fx->sys, 4 * MiB, 4 * MiB, &dd), -EINVAL);
	ZT_EQ(zd_devdax_create(fx->sys, 0, 4 * KiB, &dd), -EINVAL);
	/* size: a multiple of 2 MiB (ZONE_DEVICE granularity) and of align */
	ZT_EQ(zd_devdax_create(fx->sys, 1 * MiB, 4 * KiB, &dd), -EINVAL);
	ZT_EQ(zd_devdax_create(fx->sys, 2 * MiB + 4 * KiB, 4 * KiB, &dd), -EINVAL);
	ZT_EQ(zd_devdax_create(fx->sys, 3 * MiB, 2 * MiB, &dd), -EINVAL);
	ZT_EQ(zd_devdax_create(fx->sys, 2 * MiB, 1 * GiB, &dd), -EINVAL);
	ZT_PTR_EQ(dd, NULL);
	zd_system_get_stats(fx->sys, &st);
	ZT_EQ(st.pgmaps, 0);
	/* two devices side by side, then gone */
	{
		struct zd_devdax *a = NULL, *b = NULL;

		ZT_EQ(zd_devdax_create(fx->sys, 2 * MiB, 4 * KiB, &a), 0);
		ZT_EQ(zd_devdax_create(fx->sys, 4 * MiB, 2 * MiB, &b), 0);
		ZT_TRUE(zd_devdax_pgoff_to_pfn(a, 0) != zd_devdax_pgoff_to_pfn(b, 0));
		zd_system_get_stats(fx->sys, &st);
		ZT_EQ(st.pgmaps, 2);
		zd_devdax_destroy(a);
		ZT_EQ(zd_devdax_destroy_timeout(b, 1000 * MS), 0);
	}
	zt_expect_no_reports(&fx->log);
}

/* GENERIC pgmap, compound at the alignment order, every folio idle at 1 (R3.2, R11.4). */
static void test_create_idle(void **state)
{
	struct dx_fixture *fx = DX(state);
	struct zd_dev_pagemap *pgmap = zd_devdax_pgmap(fx->dd);
	unsigned long align = fx->v->align, npages = fx->v->size >> ZD_PAGE_SHIFT;
	unsigned long pfn0 = zd_devdax_pgoff_to_pfn(fx->dd, 0);

	ZT_EQ(pgmap->type, ZD_MEMORY_DEVICE_GENERIC);
	ZT_EQ(pgmap->vmemmap_shift, align_order(align));
	ZT_EQU(zd_devdax_align(fx->dd), align);
	ZT_EQU(zd_devdax_size(fx->dd), fx->v->size);
	ZT_EQU(zd_pgmap_nr_pages(pgmap), npages);
	ZT_EQU(pfn0 & ((align >> ZD_PAGE_SHIFT) - 1), 0);	/* region aligned to align */
	ZT_EQU(zd_devdax_pgoff_to_pfn(fx->dd, npages - 1), pfn0 + npages - 1);
	ZT_EQU(zd_devdax_pgoff_to_pfn(fx->dd, npages), ZD_DEVDAX_NO_PFN);
	for (unsigned long i = 0; i < fx->v->size / align; i++) {
		struct zd_folio *folio = dev_folio(fx, i);

		ZT_EQU(zd_folio_pfn(folio), pfn0 + i * (align >> ZD_PAGE_SHIFT));
		ZT_EQ(zd_folio_order(folio), align_order(align));
		ZT_PTR_EQ(zd_folio_pgmap(folio), pgmap);
		expect_mapped(fx, folio, 0);
	}
	ZT_TRUE(zd_devdax_file(fx->dd)->f_mapping != NULL);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/* ---- mmap: check_vma (R9.1) ---- */

static void test_mmap_checks(void **state)
{
	struct dx_fixture *fx = DX(state);
	struct zd_file *file = zd_devdax_file(fx->dd);
	struct zd_mm *mm = fx->mm[0];
	unsigned long align = fx->v->align, addr, a2 = 0;
	struct zd_vm_area_struct *vma;

	addr = map_dax(fx, mm, align, 0);
	zd_mmap_read_lock(mm);
	ZT_EQ(zd_mm_nr_vmas(mm), 1);
	vma = zd_vma_lookup(mm, addr);
	ZT_TRUE(vma != NULL);
	ZT_TRUE(vma->vm_flags & ZD_VM_HUGEPAGE);
	ZT_TRUE(vma->vm_flags & ZD_VM_MAYSHARE);
	ZT_TRUE(zd_vma_is_dax(vma));
	ZT_TRUE(!zd_vma_is_fsdax(vma));
	ZT_TRUE(vma->vm_ops && vma->vm_ops->pagesize);
	ZT_EQU(vma->vm_ops->pagesize(vma), align);
	zd_mmap_read_unlock(mm);

	/* private mappings are refused */
	ZT_EQ(zd_mmap(mm, 0, align, RW, ZD_MAP_PRIVATE, file, 0, 0, &a2), -EINVAL);
	ZT_EQ(zd_mmap(mm, 0, align, ZD_PROT_READ, ZD_MAP_PRIVATE, file, 0, 0, &a2), -EINVAL);
	if (align > ZD_PAGE_SIZE) {
		/* free room, aligned, below or above the mapping */
		unsigned long fixed = addr >= 128 * align ? addr - 64 * align : addr + 64 * align;

		/* start or end not aligned to the device alignment */
		ZT_EQ(zd_mmap(mm, fixed + ZD_PAGE_SIZE, align, RW, ZD_MAP_SHARED | ZD_MAP_FIXED,
			      file, 0, 0, &a2), -EINVAL);
		ZT_EQ(zd_mmap(mm, 0, align + ZD_PAGE_SIZE, RW, ZD_MAP_SHARED, file, 0, 0, &a2),
		      -EINVAL);
		ZT_EQ(zd_mmap(mm, fixed, align - ZD_PAGE_SIZE, RW, ZD_MAP_SHARED | ZD_MAP_FIXED,
			      file, 0, 0, &a2), -EINVAL);
		/* an aligned FIXED mapping is fine */
		ZT_EQ(zd_mmap(mm, fixed, align, RW, ZD_MAP_SHARED | ZD_MAP_FIXED, file, 0, 0,
			      &a2), 0);
		ZT_EQU(a2, fixed);
		ZT_EQ(zd_munmap(mm, fixed, align), 0);
		/* may_split: no unaligned split, so no partial munmap */
		ZT_EQ(zd_munmap(mm, addr + ZD_PAGE_SIZE, ZD_PAGE_SIZE), -EINVAL);
		ZT_EQ(zd_mprotect(mm, addr, ZD_PAGE_SIZE, ZD_PROT_READ), -EINVAL);
	}
	zd_mmap_read_lock(mm);
	ZT_EQ(zd_mm_nr_vmas(mm), 1);
	vma = zd_vma_lookup(mm, addr);
	ZT_TRUE(vma && vma->vm_start == addr && vma->vm_end == addr + align);
	zd_mmap_read_unlock(mm);
	ZT_EQ(zd_munmap(mm, addr, align), 0);
	zd_mmap_read_lock(mm);
	ZT_EQ(zd_mm_nr_vmas(mm), 0);
	zd_mmap_read_unlock(mm);
	zt_expect_no_reports(&fx->log);
}

/*
 * The file and VMA operations called directly on a VMA built by hand
 * (nothing is inserted: only the paths that refuse or fall back).
 */
static void test_ops_direct(void **state)
{
	struct dx_fixture *fx = DX(state);
	struct zd_file *file = zd_devdax_file(fx->dd);
	unsigned long align = fx->v->align;
	struct zd_vm_area_struct vma;
	struct zd_vm_fault vmf;
	struct zd_devdax_stats st;
	const struct zd_vm_operations_struct *ops;

	memset(&vma, 0, sizeof(vma));
	vma.vm_mm = fx->mm[0];
	vma.vm_start = 16 * GiB;
	vma.vm_end = vma.vm_start + align;
	vma.vm_file = file;
	vma.vm_flags = ZD_VM_READ | ZD_VM_WRITE | ZD_VM_MAYREAD | ZD_VM_MAYWRITE | ZD_VM_SHARED |
		       ZD_VM_MAYSHARE;
	ZT_TRUE(file->f_op && file->f_op->mmap && file->f_op->get_unmapped_area_align);
	ZT_EQU(file->f_op->get_unmapped_area_align(file), align);
	ZT_EQ(file->f_op->mmap(file, &vma), 0);
	ZT_TRUE(vma.vm_flags & ZD_VM_HUGEPAGE);
	ops = vma.vm_ops;
	ZT_TRUE(ops && ops->fault && ops->huge_fault && ops->may_split && ops->pagesize);
	ZT_EQU(ops->pagesize(&vma), align);
	ZT_EQ(ops->may_split(&vma, vma.vm_start + align), 0);
	ZT_EQ(ops->may_split(&vma, vma.vm_start + ZD_PAGE_SIZE), align > ZD_PAGE_SIZE ? -EINVAL : 0);

	memset(&vmf, 0, sizeof(vmf));
	vmf.vma = &vma;
	vmf.address = vmf.real_address = vma.vm_start;
	vmf.pgoff = 0;
	vmf.flags = ZD_FAULT_FLAG_WRITE;
	/* R9.2: a PTE fault only at 4 KiB; a PMD fault at 2 MiB; a PUD fault at 1 GiB */
	if (align != ZD_PAGE_SIZE)
		ZT_EQU(ops->fault(&vmf), ZD_VM_FAULT_SIGBUS);
	if (align < ZD_PMD_SIZE)
		ZT_EQU(ops->huge_fault(&vmf, ZD_PMD_ORDER), ZD_VM_FAULT_FALLBACK);
	if (align > ZD_PMD_SIZE)
		ZT_EQU(ops->huge_fault(&vmf, ZD_PMD_ORDER), ZD_VM_FAULT_SIGBUS);
	if (align < ZD_PUD_SIZE)
		ZT_EQU(ops->huge_fault(&vmf, ZD_PUD_ORDER), ZD_VM_FAULT_FALLBACK);
	ZT_EQU(ops->huge_fault(&vmf, 3), ZD_VM_FAULT_SIGBUS);

	/* the huge range must lie inside the VMA: a 2 MiB VMA at 4 KiB alignment */
	if (align == ZD_PAGE_SIZE) {
		struct zd_vm_area_struct small = vma;

		small.vm_end = small.vm_start + 8 * ZD_PAGE_SIZE;
		vmf.vma = &small;
		ZT_EQU(ops->huge_fault(&vmf, ZD_PMD_ORDER), ZD_VM_FAULT_FALLBACK);
		vmf.vma = &vma;
	}

	/* check_vma at fault time too (R9.1): a private VMA SIGBUSes */
	{
		struct zd_vm_area_struct priv = vma;

		priv.vm_flags &= ~(ZD_VM_SHARED | ZD_VM_MAYSHARE);
		ZT_EQ(file->f_op->mmap(file, &priv), -EINVAL);
		vmf.vma = &priv;
		ZT_EQU(ops->huge_fault(&vmf, align_order(align)), ZD_VM_FAULT_SIGBUS);
		vmf.vma = &vma;
	}
	if (align > ZD_PAGE_SIZE) {
		struct zd_vm_area_struct unal = vma;

		unal.vm_start += ZD_PAGE_SIZE;
		ZT_EQ(file->f_op->mmap(file, &unal), -EINVAL);
		unal = vma;
		unal.vm_end += ZD_PAGE_SIZE;
		ZT_EQ(file->f_op->mmap(file, &unal), -EINVAL);
	}
	/* a file offset beyond the device SIGBUSes */
	{
		unsigned long end_pgoff = fx->v->size >> ZD_PAGE_SHIFT;
		struct zd_vm_area_struct far = vma;

		far.vm_pgoff = end_pgoff;
		vmf.vma = &far;
		vmf.pgoff = end_pgoff;
		ZT_EQU(ops->huge_fault(&vmf, align_order(align)), ZD_VM_FAULT_SIGBUS);
		vmf.vma = &vma;
		vmf.pgoff = 0;
	}

	/* dead: mmap -ENXIO, faults SIGBUS; the ops that need no device still answer */
	zd_devdax_kill(fx->dd);
	ZT_EQ(file->f_op->mmap(file, &vma), -ENXIO);
	ZT_EQU(ops->huge_fault(&vmf, align_order(align)), ZD_VM_FAULT_SIGBUS);
	ZT_EQU(ops->fault(&vmf), ZD_VM_FAULT_SIGBUS);
	ZT_EQU(ops->pagesize(&vma), align);

	zd_devdax_get_stats(fx->dd, &st);
	ZT_EQ(st.faults[0] + st.faults[1] + st.faults[2], 0);
	ZT_TRUE(st.sigbus >= 4);
	ZT_TRUE(st.fallbacks >= (align == GiB ? 0u : 1u));
	zt_expect_no_reports(&fx->log);
}

/* ---- faults (R9.2-R9.4) ---- */

static void test_fault_map(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, nr = nr_test_folios(fx), len = nr * align;
	unsigned long pages_per = align >> ZD_PAGE_SHIFT;
	struct zd_mm *a = fx->mm[0], *b = fx->mm[1];
	unsigned long addr_a, addr_b, addr_a2;
	struct zd_folio *f0 = dev_folio(fx, 0);
	struct zd_devdax_stats st;

	addr_a = map_dax(fx, a, len, 0);
	ZT_EQ(entry_level(a, addr_a, NULL), 0);
	expect_mapped(fx, f0, 0);

	/* a write fault in the middle of folio 0 maps the whole folio */
	ZT_EQ(zd_cpu_touch(a, addr_a + align / 2, 1, true), 0);
	expect_entry(fx, a, addr_a, f0, true);
	expect_mapped(fx, f0, 1);
	/* R9.3: the head carries the file's mapping and index */
	ZT_PTR_EQ(f0->page.mapping, zd_devdax_file(fx->dd)->f_mapping);
	ZT_EQU(f0->page.index, 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* a second touch of the same folio maps nothing more */
	ZT_EQ(zd_cpu_touch(a, addr_a, len > align ? align : len, true), 0);
	expect_mapped(fx, f0, 1);

	/* a read fault, then a write: one mapping, upgraded in place */
	if (nr > 1) {
		struct zd_folio *f1 = dev_folio(fx, 1);

		ZT_EQ(zd_cpu_touch(a, addr_a + align, 1, false), 0);
		expect_entry(fx, a, addr_a + align, f1, false);
		expect_mapped(fx, f1, 1);
		ZT_EQ(zd_cpu_touch(a, addr_a + align + ZD_PAGE_SIZE - 1, 1, true), 0);
		expect_entry(fx, a, addr_a + align, f1, true);
		expect_mapped(fx, f1, 1);
		ZT_EQU(f1->page.index, pages_per);
	}

	/* another mm maps the same offsets: 1 + 2 */
	addr_b = map_dax(fx, b, len, 0);
	ZT_EQ(zd_cpu_touch(b, addr_b, 1, false), 0);
	expect_entry(fx, b, addr_b, f0, false);
	expect_mapped(fx, f0, 2);

	/* a second VMA of the same file in mm A: 1 + 3 */
	addr_a2 = map_dax(fx, a, align, 0);
	ZT_TRUE(addr_a2 != addr_a);
	ZT_EQ(zd_cpu_touch(a, addr_a2 + align - 1, 1, true), 0);
	expect_entry(fx, a, addr_a2, f0, true);
	expect_mapped(fx, f0, 3);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* data written through one mm is read through the other */
	if (fx->v->data == ZD_DATA_REAL) {
		static const char msg[] = "device-dax: one page, many mappings";
		char buf[sizeof(msg)];
		unsigned long off = align > ZD_PAGE_SIZE ? align - 2 * ZD_PAGE_SIZE + 100 : 100;

		ZT_EQ(zd_cpu_write(a, addr_a + off, msg, sizeof(msg)), 0);
		memset(buf, 0, sizeof(buf));
		ZT_EQ(zd_cpu_read(b, addr_b + off, buf, sizeof(buf)), 0);
		ZT_EQ(memcmp(buf, msg, sizeof(msg)), 0);
		memset(buf, 0, sizeof(buf));
		ZT_EQ(zd_cpu_read(a, addr_a2 + off, buf, sizeof(buf)), 0);
		ZT_EQ(memcmp(buf, msg, sizeof(msg)), 0);
		/* and it is the device's memory at that offset */
		{
			unsigned long pfn = zd_devdax_pgoff_to_pfn(fx->dd, off >> ZD_PAGE_SHIFT);
			const char *p = zd_page_address(zd_pfn_to_page(fx->sys, pfn));

			ZT_TRUE(p != NULL);
			ZT_EQ(memcmp(p + (off & (ZD_PAGE_SIZE - 1)), msg, sizeof(msg)), 0);
		}
	}

	/* munmap drops one mapping at a time, back to idle */
	ZT_EQ(zd_munmap(a, addr_a2, align), 0);
	expect_mapped(fx, f0, 2);
	ZT_EQ(zd_munmap(b, addr_b, len), 0);
	expect_mapped(fx, f0, 1);
	ZT_EQ(entry_level(b, addr_b, NULL), 0);
	ZT_EQ(zd_munmap(a, addr_a, len), 0);
	ZT_EQ(entry_level(a, addr_a, NULL), 0);
	expect_idle(fx);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* mapping and index stay set while idle (R11.4) */
	ZT_PTR_EQ(f0->page.mapping, zd_devdax_file(fx->dd)->f_mapping);

	zd_devdax_get_stats(fx->dd, &st);
	ZT_TRUE(st.faults[expected_level(align) - 1] >= 3);
	ZT_EQ(st.sigbus, 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * insert_page / insert_pmd / insert_pud build the entry from vm_page_prot,
 * writable in a shared writable device-DAX mapping (no write notify): one
 * read fault maps the folio writable, a later write needs no fault, and
 * GUP-fast with FOLL_WRITE takes it without falling back. A read-only
 * mapping stays read-only.
 */
static void test_vmf_insert_vm_page_prot(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr, ro = 0;
	struct zd_mm *mm = fx->mm[0];
	struct zd_devdax_stats st;
	struct zd_page *page = NULL;
	zd_pte_t e = 0;

	addr = map_dax(fx, mm, align, 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, false), 0);
	ZT_EQ(entry_level(mm, addr, &e), expected_level(align));
	ZT_TRUE(zd_pte_write(e));
	ZT_TRUE(!zd_pte_dirty(e));
	ZT_EQ(zd_cpu_touch(mm, addr + align - 1, 1, true), 0);
	zd_devdax_get_stats(fx->dd, &st);
	ZT_EQ(st.faults[0] + st.faults[1] + st.faults[2], 1);
	ZT_EQ(zd_get_user_pages_fast_only(mm, addr + align - ZD_PAGE_SIZE, 1, ZD_FOLL_WRITE,
					  &page), 1);
	ZT_PTR_EQ(zd_page_folio(page), dev_folio(fx, 0));
	zd_put_page(page);
	ZT_EQ(zd_munmap(mm, addr, align), 0);

	/* a fresh read fault, then a fast-only write pin: no fallback needed */
	addr = map_dax(fx, mm, align, 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, false), 0);
	ZT_EQ(zd_pin_user_pages_fast(mm, addr, 1, ZD_FOLL_WRITE | ZD_FOLL_FAST_ONLY, &page), 1);
	zd_unpin_user_page(page);
	zd_devdax_get_stats(fx->dd, &st);
	ZT_EQ(st.faults[0] + st.faults[1] + st.faults[2], 2);
	ZT_EQ(zd_munmap(mm, addr, align), 0);

	ZT_EQ(zd_mmap(mm, 0, align, ZD_PROT_READ, ZD_MAP_SHARED, zd_devdax_file(fx->dd), 0, 0,
		      &ro), 0);
	ZT_EQ(zd_cpu_touch(mm, ro, 1, false), 0);
	ZT_EQ(entry_level(mm, ro, &e), expected_level(align));
	ZT_TRUE(!zd_pte_write(e));
	ZT_EQ(zd_get_user_pages_fast_only(mm, ro, 1, ZD_FOLL_WRITE, &page), 0);
	ZT_EQ(zd_munmap(mm, ro, align), 0);
	expect_idle(fx);
	zt_expect_no_reports(&fx->log);
}

/*
 * Legacy scheme: __dev_dax_{pte,pmd,pud}_fault map through vmf_insert_mixed
 * and vmf_insert_pfn_pmd/pud as 6.14 did (L6): a devmap entry, no
 * reference, no mapcount, no RSS; vm_normal_page finds nothing; zap drops
 * nothing; mremap moves the entry; fork leaves the shared VMA to refault.
 */
static void test_vmf_insert_mixed_devmap(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr, moved = 0;
	struct zd_mm *mm = fx->mm[0], *child = NULL;
	struct zd_folio *f0 = dev_folio(fx, 0);
	struct zd_vm_area_struct *vma;
	struct zd_mm_stats ms;
	zd_pte_t e = 0;

	addr = map_dax(fx, mm, align, 0);
	ZT_EQ(zd_cpu_touch(mm, addr + align - 1, 1, true), 0);
	expect_entry(fx, mm, addr, f0, true);
	ZT_EQ(entry_level(mm, addr, &e), expected_level(align));
	ZT_TRUE(zd_pte_devmap(e));
	ZT_TRUE(!zd_pte_special(e));
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_EQ(zd_folio_mapcount(f0), 0);
	ZT_PTR_EQ(f0->page.mapping, zd_devdax_file(fx->dd)->f_mapping);
	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, addr);
	ZT_PTR_EQ(zd_vm_normal_page(vma, addr, e), NULL);
	zd_mmap_read_unlock(mm);
	zd_mm_get_stats(mm, &ms);
	ZT_EQ(ms.rss_file + ms.rss_anon + ms.rss_shmem, 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* fork: a shared VMA without anonymous pages is not copied; the child refaults */
	ZT_EQ(zd_fork(mm, &child), 0);
	ZT_EQ(entry_level(child, addr, NULL), 0);
	ZT_EQ(zd_cpu_touch(child, addr, 1, false), 0);
	ZT_EQ(entry_level(child, addr, &e), expected_level(align));
	ZT_TRUE(zd_pte_devmap(e));
	ZT_EQ(zd_folio_ref_count(f0), 1);
	zd_mm_destroy(child);
	ZT_EQ(zd_folio_ref_count(f0), 1);

	/* mremap moves the entry as it is */
	ZT_EQ(zd_mremap(mm, addr, align, align, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED,
			addr + 4 * align, &moved), 0);
	ZT_EQU(moved, addr + 4 * align);
	ZT_EQ(entry_level(mm, addr, NULL), 0);
	ZT_EQ(entry_level(mm, moved, &e), expected_level(align));
	ZT_TRUE(zd_pte_devmap(e));
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(f0));
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	/* a partial zap removes the whole leaf (__split_huge_pmd_locked) and drops nothing */
	if (align > ZD_PAGE_SIZE) {
		ZT_EQ(zd_madvise(mm, moved + ZD_PAGE_SIZE, ZD_PAGE_SIZE, ZD_MADV_DONTNEED), 0);
		ZT_EQ(entry_level(mm, moved, NULL), 0);
		ZT_EQ(zd_folio_ref_count(f0), 1);
		ZT_EQ(zd_cpu_touch(mm, moved, 1, false), 0);
		ZT_EQ(entry_level(mm, moved + align - 1, &e), expected_level(align));
		ZT_TRUE(zd_pte_devmap(e));
	}

	/* zap (munmap) drops nothing */
	ZT_EQ(zd_munmap(mm, moved, align), 0);
	ZT_EQ(entry_level(mm, moved, NULL), 0);
	expect_idle(fx);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * mremap of device DAX to an unaligned address: Linux checks alignment for
 * hugetlb only, so the move succeeds; the huge leaf cannot move whole and
 * is removed (move_page_tables splits it, which for DAX removes it), and
 * a fault in the unaligned VMA is SIGBUS (check_vma). Splitting the VMA
 * at an unaligned address stays -EINVAL (dev_dax_may_split).
 */
static void test_move_page_tables_dax_unaligned(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr, moved = 0;
	struct zd_mm *mm = fx->mm[0];
	struct zd_folio *f0 = dev_folio(fx, 0);
	unsigned long target;

	addr = map_dax(fx, mm, 2 * align, 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, true), 0);
	ZT_EQ(entry_level(mm, addr, NULL), expected_level(align));
	ZT_EQ(zd_mremap(mm, addr, ZD_PAGE_SIZE, ZD_PAGE_SIZE, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED,
			addr + 8 * align, &moved), -EINVAL);	/* may_split */
	ZT_EQ(entry_level(mm, addr, NULL), expected_level(align));
	target = addr + 8 * align + ZD_PAGE_SIZE;
	ZT_EQ(zd_mremap(mm, addr, 2 * align, 2 * align, ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED,
			target, &moved), 0);
	ZT_EQU(moved, target);
	ZT_EQ(entry_level(mm, addr, NULL), 0);
	ZT_EQ(entry_level(mm, moved, NULL), 0);
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_EQ(zd_cpu_touch(mm, moved, 1, false), -EIO);
	ZT_EQ(zd_munmap(mm, moved, 2 * align), 0);
	expect_idle(fx);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/* A driver's PFN map of a device folio with huge special leaves (no struct page use). */
struct pfn_huge_drv {
	struct zd_file file;
	unsigned long pfn;
};

static zd_vm_fault_t pfn_huge_fault(struct zd_vm_fault *vmf, unsigned int order)
{
	struct pfn_huge_drv *d = vmf->vma->vm_private_data;
	bool write = vmf->flags & ZD_FAULT_FLAG_WRITE;

	if (order == ZD_PUD_ORDER)
		return zd_vmf_insert_pfn_pud(vmf, d->pfn, 0, write);
	return zd_vmf_insert_pfn_pmd(vmf, d->pfn, 0, write);
}

static const struct zd_vm_operations_struct pfn_huge_ops = {
	.huge_fault = pfn_huge_fault, .name = "pfn-huge",
};

static int pfn_huge_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	vma->vm_flags |= ZD_VM_PFNMAP | ZD_VM_IO | ZD_VM_HUGEPAGE;
	vma->vm_ops = &pfn_huge_ops;
	vma->vm_private_data = file->private_data;
	return 0;
}

static const struct zd_file_operations pfn_huge_fops = { .mmap = pfn_huge_mmap, .name = "pfn-huge" };

/*
 * copy_huge_pmd() / copy_huge_pud() of a PFN map: fork copies the special
 * leaf (pfn maps copy their page tables), old in the child, with no
 * reference or mapcount. Before, a PUD leaf failed the fork.
 */
static void test_copy_huge_pud_pfnmap(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr = 0;
	struct zd_mm *mm = fx->mm[0], *child;
	struct zd_folio *f0 = dev_folio(fx, 0);
	struct pfn_huge_drv d = { .file = { .f_op = &pfn_huge_fops }, .pfn = zd_folio_pfn(f0) };
	int ref = zd_folio_ref_count(f0);
	zd_pte_t e = 0, ce = 0;

	d.file.private_data = &d;
	zd_atomic_init(&d.file.f_count, 1l);
	ZT_EQ(zd_mmap(mm, 0, align, RW, ZD_MAP_SHARED, &d.file, 0, align, &addr), 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, false), 0);
	ZT_EQ(entry_level(mm, addr, &e), expected_level(align));
	ZT_TRUE(zd_pte_special(e) && zd_pte_young(e));
	ZT_EQ(zd_folio_ref_count(f0), ref);
	ZT_EQ(zd_fork(mm, &child), 0);
	ZT_EQ(entry_level(child, addr, &ce), expected_level(align));
	ZT_EQU(zd_pte_pfn(ce), zd_pte_pfn(e));
	ZT_TRUE(zd_pte_special(ce) && !zd_pte_young(ce));
	ZT_EQ(zd_folio_ref_count(f0), ref);
	ZT_EQ(zd_folio_mapcount(f0), 0);
	zd_mm_destroy(child);
	ZT_EQ(zd_munmap(mm, addr, align), 0);
	ZT_EQ(zd_folio_ref_count(f0), ref);
	ZT_EQ(zd_atomic_load_relaxed(&d.file.f_count), 1);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/*
 * Legacy scheme, slow GUP: follow_page_pte's devmap branch and
 * follow_devmap_pmd/pud take a page reference (or pin) per page and a pgmap
 * reference held only for the call (L7); a long-term pin of device DAX is
 * allowed; without GET or PIN there is no page to return.
 */
static void test_follow_devmap_pmd(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_mm *mm = fx->mm[0];
	struct zd_folio *f0 = dev_folio(fx, 0);
	struct zd_dev_pagemap *pgmap = zd_devdax_pgmap(fx->dd);
	long base = zd_pgmap_ref_count(pgmap);
	unsigned long n = align > ZD_PAGE_SIZE ? 2 : 1;
	int pin_weight = zd_folio_test_large(f0) ? 1 : ZD_GUP_PIN_COUNTING_BIAS;
	struct zd_page *pages[2] = { NULL, NULL };

	addr = map_dax(fx, mm, align, 0);
	/* not mapped yet: GUP faults it in, then follows the devmap entry */
	ZT_EQ(zd_get_user_pages_unlocked(mm, addr, n, pages, ZD_FOLL_WRITE), (long)n);
	for (unsigned long i = 0; i < n; i++)
		ZT_EQU(zd_page_to_pfn(pages[i]), zd_folio_pfn(f0) + i);
	ZT_EQ(zd_folio_ref_count(f0), 1 + (int)n);
	ZT_EQ(zd_folio_mapcount(f0), 0);
	ZT_EQ(zd_pgmap_ref_count(pgmap), base);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	for (unsigned long i = 0; i < n; i++)
		zd_put_page(pages[i]);
	ZT_EQ(zd_folio_ref_count(f0), 1);

	/* a long-term pin (the fast path leaves it to this one) */
	ZT_EQ(zd_pin_user_pages_fast(mm, addr, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages), 1);
	ZT_PTR_EQ(pages[0], &f0->page);
	ZT_EQ(zd_folio_ref_count(f0), 1 + pin_weight);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f0));
	ZT_EQ(zd_pgmap_ref_count(pgmap), base);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zd_unpin_user_page(pages[0]);
	ZT_EQ(zd_folio_ref_count(f0), 1);

	/* no pages wanted: the range is walked, nothing is taken */
	zd_mmap_read_lock(mm);
	ZT_EQ(zd_get_user_pages(mm, addr, n, 0, NULL), (long)n);
	zd_mmap_read_unlock(mm);
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_EQ(zd_pgmap_ref_count(pgmap), base);
	ZT_EQ(zd_munmap(mm, addr, align), 0);
	expect_idle(fx);
	zt_expect_no_reports(&fx->log);
}

/*
 * Legacy scheme, GUP-fast: gup_fast_devmap_leaf and the devmap PTE branch
 * grab each page under a pgmap reference dropped before returning; a
 * FOLL_LONGTERM pin bails to the slow path (L7).
 */
static void test_gup_fast_devmap_leaf(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_mm *mm = fx->mm[0];
	struct zd_folio *f0 = dev_folio(fx, 0);
	struct zd_dev_pagemap *pgmap = zd_devdax_pgmap(fx->dd);
	long base = zd_pgmap_ref_count(pgmap);
	int n = align > ZD_PAGE_SIZE ? 2 : 1;
	int pin_weight = zd_folio_test_large(f0) ? 1 : ZD_GUP_PIN_COUNTING_BIAS;
	struct zd_page *pages[2] = { NULL, NULL };

	addr = map_dax(fx, mm, align, 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, false), 0);
	ZT_EQ(zd_get_user_pages_fast_only(mm, addr, n, ZD_FOLL_WRITE, pages), n);
	for (int i = 0; i < n; i++)
		ZT_EQU(zd_page_to_pfn(pages[i]), zd_folio_pfn(f0) + (unsigned long)i);
	ZT_EQ(zd_folio_ref_count(f0), 1 + n);
	ZT_EQ(zd_pgmap_ref_count(pgmap), base);
	for (int i = 0; i < n; i++)
		zd_put_page(pages[i]);

	ZT_EQ(zd_pin_user_pages_fast(mm, addr, 1, ZD_FOLL_WRITE | ZD_FOLL_FAST_ONLY, pages), 1);
	ZT_EQ(zd_folio_ref_count(f0), 1 + pin_weight);
	zd_unpin_user_page(pages[0]);
	/* long-term: not in the fast path */
	ZT_EQ(zd_pin_user_pages_fast(mm, addr, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM |
				     ZD_FOLL_FAST_ONLY, pages), 0);
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_EQ(zd_pgmap_ref_count(pgmap), base);
	ZT_EQ(zd_munmap(mm, addr, align), 0);
	expect_idle(fx);
	zt_expect_no_reports(&fx->log);
}

/* A mapping at a file offset other than 0 maps the folio of that offset. */
static void test_fault_offset(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, pages_per = align >> ZD_PAGE_SHIFT;
	unsigned long last = fx->v->size / align - 1, addr;
	struct zd_folio *folio = dev_folio(fx, last);

	addr = map_dax(fx, fx->mm[0], align, last * pages_per);
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr, 1, true), 0);
	expect_entry(fx, fx->mm[0], addr, folio, true);
	expect_mapped(fx, folio, 1);
	ZT_EQU(folio->page.index, last * pages_per);
	zd_mm_destroy(fx->mm[0]);	/* exit: the mapping's reference goes too */
	fx->mm[0] = NULL;
	expect_mapped(fx, folio, 0);
	zt_expect_no_reports(&fx->log);
}

/* Beyond the device, or at a file offset that does not start a folio: SIGBUS. */
static void test_fault_sigbus(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, size = fx->v->size, addr;
	struct zd_mm *mm = fx->mm[0];
	char c = 0;

	/* mmap does not check the length against the device; the fault does */
	addr = map_dax(fx, mm, size + align, 0);
	ZT_EQ(zd_cpu_touch(mm, addr + size, 1, false), -EIO);
	ZT_EQ(zd_cpu_touch(mm, addr + size + align - 1, 1, true), -EIO);
	ZT_EQ(entry_level(mm, addr + size, NULL), 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, false), 0);
	ZT_EQ(zd_munmap(mm, addr, size + align), 0);

	addr = map_dax(fx, mm, align, size >> ZD_PAGE_SHIFT);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, false), -EIO);
	if (fx->v->data == ZD_DATA_REAL)
		ZT_EQ(zd_cpu_read(mm, addr, &c, 1), -EIO);
	ZT_EQ(zd_munmap(mm, addr, align), 0);

	if (align > ZD_PAGE_SIZE) {
		/* vm_pgoff not a multiple of the alignment (Linux would map the enclosing folio) */
		addr = map_dax(fx, mm, align, 1);
		ZT_EQ(zd_cpu_touch(mm, addr, 1, false), -EIO);
		ZT_EQ(zd_munmap(mm, addr, align), 0);
	}
	expect_idle(fx);
	zt_expect_no_reports(&fx->log);
}

/*
 * MADV_NOHUGEPAGE leaves only PTE faults, which a device aligned above
 * 4 KiB refuses (R9.2).
 */
static void test_fault_nohugepage(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_mm *mm = fx->mm[0];

	addr = map_dax(fx, mm, align, 0);
	ZT_EQ(zd_madvise(mm, addr, align, ZD_MADV_NOHUGEPAGE), 0);
	ZT_EQ(zd_cpu_touch(mm, addr, 1, true), align == ZD_PAGE_SIZE ? 0 : -EIO);
	ZT_EQ(zd_munmap(mm, addr, align), 0);
	expect_idle(fx);
	zt_expect_no_reports(&fx->log);
}

/*
 * folio_mapcount(): the checker reads a folio's total mapcount (its PMD or
 * PUD mapping included), so a huge-mapped device-DAX folio whose mapping
 * reference went missing fails the check (R12.1, R12.2). A static compound
 * device folio is not large_rmappable (memmap_init_compound).
 */
static void test_folio_mapcount_missing_ref(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_folio *f0 = dev_folio(fx, 0);

	ZT_TRUE(!zd_folio_test_flag(f0, ZD_PG_large_rmappable));
	addr = map_dax(fx, fx->mm[0], align, 0);
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr, 1, true), 0);
	expect_mapped(fx, f0, 1);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	zd_folio_put(f0);	/* the mapping's reference goes missing */
	ZT_TRUE(zd_check_invariants(fx->sys) > 0);
	ZT_TRUE(zt_reports_count(&fx->log, ZD_MISUSE_INVARIANT) > 0);
	zd_folio_get(f0);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	ZT_EQ(zd_munmap(fx->mm[0], addr, align), 0);
	expect_idle(fx);
	zt_expect_no_reports(&fx->log);
}

/* ---- unbind ---- */

/* kill_dev_dax zaps every mapping in every mm and leaves every folio idle. */
static void test_unbind_zaps(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, nr = nr_test_folios(fx), len = nr * align;
	struct zd_file *file = zd_devdax_file(fx->dd);
	unsigned long addr[2], a2 = 0;
	char c = 0;

	for (int m = 0; m < 2; m++) {
		addr[m] = map_dax(fx, fx->mm[m], len, 0);
		ZT_EQ(zd_cpu_touch(fx->mm[m], addr[m], len, m == 0), 0);
		for (unsigned long i = 0; i < nr; i++)
			expect_entry(fx, fx->mm[m], addr[m] + i * align, dev_folio(fx, i), m == 0);
	}
	for (unsigned long i = 0; i < nr; i++)
		expect_mapped(fx, dev_folio(fx, i), 2);

	zd_get_file(file);	/* an open file descriptor outliving the device */
	zd_devdax_kill(fx->dd);
	for (int m = 0; m < 2; m++)
		for (unsigned long i = 0; i < nr; i++)
			ZT_EQ(entry_level(fx->mm[m], addr[m] + i * align, NULL), 0);
	/* every page back at 1 before memunmap */
	expect_idle(fx);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	/* dead: faults SIGBUS, new mappings -ENXIO */
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr[0], 1, false), -EIO);
	ZT_EQ(zd_mmap(fx->mm[2], 0, align, RW, ZD_MAP_SHARED, file, 0, 0, &a2), -ENXIO);
	expect_idle(fx);

	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 1000 * MS), 0);
	fx->dd = NULL;
	/* the VMAs and the file outlive the device safely */
	ZT_EQ(zd_cpu_touch(fx->mm[1], addr[1], 1, true), -EIO);
	if (fx->v->data == ZD_DATA_REAL)
		ZT_EQ(zd_cpu_read(fx->mm[0], addr[0], &c, 1), -EIO);
	ZT_EQ(zd_mmap(fx->mm[2], 0, align, RW, ZD_MAP_SHARED, file, 0, 0, &a2), -ENXIO);
	ZT_EQ(zd_munmap(fx->mm[0], addr[0], len), 0);
	zd_fput(file);
	/* mm[1] still maps the file: its exit releases it (ASan sees a leak otherwise) */
	zt_expect_no_reports(&fx->log);
}

/*
 * A reference held beyond the mappings (what a GUP pin is) keeps unbind
 * from tearing the memmap down (R1.13): -EBUSY at the deadline, then done
 * once it is dropped.
 */
static void test_unbind_busy(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr, a2 = 0;
	struct zd_folio *f0 = dev_folio(fx, 0);
	unsigned long pfn = zd_folio_pfn(f0);

	addr = map_dax(fx, fx->mm[0], align, 0);
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr, 1, true), 0);
	expect_mapped(fx, f0, 1);
	zd_folio_get(f0);	/* stands in for get_user_pages */
	ZT_EQ(zd_folio_ref_count(f0), 3);

	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 20 * MS), -EBUSY);
	/* dead and unmapped, but the memmap is still there */
	ZT_EQ(entry_level(fx->mm[0], addr, NULL), 0);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), &f0->page);
	ZT_EQ(zd_folio_ref_count(f0), 2);
	ZT_EQ(zd_folio_mapcount(f0), 0);
	ZT_EQ(zd_mmap(fx->mm[1], 0, align, RW, ZD_MAP_SHARED, zd_devdax_file(fx->dd), 0, 0, &a2),
	      -ENXIO);
	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 10 * MS), -EBUSY);

	zd_folio_put(f0);	/* unpin */
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 1000 * MS), 0);
	fx->dd = NULL;
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
	zt_expect_no_reports(&fx->log);
}

/*
 * A long-term pin (allowed on device-DAX: GENERIC is longterm-pinnable)
 * outlives munmap and the unbind's zap; unbind reports -EBUSY until the
 * unpin, and after the kill GUP finds nothing to pin (R1.13).
 */
static void test_unbind_pinned(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_folio *f0 = dev_folio(fx, 0);
	bool large = zd_folio_test_large(f0);
	int pin_weight = large ? 1 : ZD_GUP_PIN_COUNTING_BIAS;
	int per_map = legacy(fx) ? 0 : 1;	/* what a mapping holds */
	struct zd_page *pages[2] = { NULL, NULL };
	struct zd_page *p = NULL;

	addr = map_dax(fx, fx->mm[0], align, 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm[0], addr + align - ZD_PAGE_SIZE, 1,
				     ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages), 1);
	ZT_PTR_EQ(zd_page_folio(pages[0]), f0);
	ZT_EQU(zd_page_to_pfn(pages[0]), zd_folio_pfn(f0) + (align >> ZD_PAGE_SHIFT) - 1);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f0));
	ZT_EQ(zd_folio_ref_count(f0), 1 + per_map + pin_weight);
	ZT_EQ(zd_folio_mapcount(f0), per_map);
	ZT_EQ(zd_check_invariants(fx->sys), 0);

	ZT_EQ(zd_munmap(fx->mm[0], addr, align), 0);
	ZT_EQ(zd_folio_ref_count(f0), 1 + pin_weight);
	ZT_EQ(zd_folio_mapcount(f0), 0);

	/* map it again elsewhere: the unbind zaps that mapping, the pin stays */
	addr = map_dax(fx, fx->mm[1], align, 0);
	ZT_EQ(zd_cpu_touch(fx->mm[1], addr, 1, true), 0);
	ZT_EQ(zd_folio_ref_count(f0), 1 + per_map + pin_weight);
	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 20 * MS), -EBUSY);
	ZT_EQ(entry_level(fx->mm[1], addr, NULL), 0);
	ZT_EQ(zd_folio_ref_count(f0), 1 + pin_weight);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f0));
	/* dead: nothing to pin, nothing to fault */
	ZT_TRUE(zd_pin_user_pages_fast(fx->mm[1], addr, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM,
				       &p) < 0);
	ZT_TRUE(zd_get_user_pages_fast(fx->mm[1], addr, 1, 0, &p) < 0);
	ZT_EQ(zd_folio_ref_count(f0), 1 + pin_weight);

	zd_unpin_user_pages(pages, 1);
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f0));
	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 1000 * MS), 0);
	fx->dd = NULL;
	zt_expect_no_reports(&fx->log);
}

struct put_later {
	struct zd_folio *folio;
	unsigned int ms;
};

static void *put_later_fn(void *arg)
{
	struct put_later *p = arg;

	zt_sleep_ms(p->ms);
	zd_folio_put(p->folio);
	return NULL;
}

/* The waiting unbind (not Linux's) without a deadline waits for the held page. */
static void test_unbind_waits(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct put_later p = { dev_folio(fx, 0), 30 };
	struct zd_thread *t;

	addr = map_dax(fx, fx->mm[0], align, 0);
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr, 1, false), 0);
	zd_folio_get(p.folio);
	ZT_EQ(zd_thread_create(&t, put_later_fn, &p), 0);
	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 0), 0);
	fx->dd = NULL;
	zd_thread_join(t);
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr, 1, false), -EIO);
	zt_expect_no_reports(&fx->log);
}

/*
 * memunmap_pages() does not wait for GENERIC pages (R1.13): unbind with a
 * long-term pin held returns at once; the pfn has no pgmap while the pin
 * is held, which unbind and the checker report as the known hazard; the
 * late unpin is reported and changes nothing else. In the legacy scheme
 * each page holds a pgmap reference, so memunmap waits for the pin (L1).
 */
static void test_memunmap_pages_generic_pinned(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_folio *f0 = dev_folio(fx, 0);
	unsigned long pfn = zd_folio_pfn(f0);
	int pin_weight = zd_folio_test_large(f0) ? 1 : ZD_GUP_PIN_COUNTING_BIAS;
	struct zd_page *pages[1] = { NULL };
	const struct zd_report *r;

	addr = map_dax(fx, fx->mm[0], align, 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm[0], addr, 1, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages),
	      1);
	ZT_EQ(zd_folio_ref_count(f0), 1 + (legacy(fx) ? 0 : 1) + pin_weight);
	if (legacy(fx)) {
		/* 5.18: the pinned page keeps its pgmap reference; memunmap waits */
		ZT_EQ(zd_devdax_unbind(fx->dd, 20 * MS), -ETIMEDOUT);
		ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), &f0->page);
		zd_unpin_user_pages(pages, 1);
		ZT_EQ(zd_devdax_unbind(fx->dd, 1000 * MS), 0);
		fx->dd = NULL;
		ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
		zt_expect_no_reports(&fx->log);
		return;
	}
	ZT_EQ(zd_devdax_unbind(fx->dd, 1000 * MS), 0);
	fx->dd = NULL;
	/* the hazard: the pfn has no pgmap, the pin is still held */
	r = zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
	ZT_EQ(strcmp(r->rule, "R1.13"), 0);
	ZT_EQ(fx->log.nr, 1);
	zt_reports_clear(&fx->log);
	ZT_EQ(entry_level(fx->mm[0], addr, NULL), 0);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn), NULL);
	ZT_PTR_EQ(zd_get_dev_pagemap(fx->sys, pfn), NULL);
	ZT_TRUE(zd_folio_maybe_dma_pinned(f0));
	ZT_EQ(zd_folio_ref_count(f0), 1 + pin_weight);
	ZT_EQU(zd_page_to_pfn(pages[0]), pfn);
	ZT_EQ(zd_check_invariants(fx->sys), 1);
	r = zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
	ZT_EQ(strcmp(r->rule, "R1.13"), 0);
	zt_reports_clear(&fx->log);

	/* the late unpin: reported, the count drops to idle, nothing is freed */
	zd_unpin_user_pages(pages, 1);
	r = zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
	ZT_EQ(fx->log.nr, 1);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f0));
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	/* the VMA outlives the device: an access is SIGBUS */
	ZT_EQ(zd_cpu_touch(fx->mm[0], addr, 1, false), -EIO);
	zt_expect_no_reports(&fx->log);
}

/*
 * The same hazard with the pin on a tail page of a compound folio: the
 * struct pages kept for the holder stay one folio (a tail still finds its
 * head), and the late unpin reaches the head.
 */
static void test_memunmap_pages_generic_pinned_tail(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align, addr;
	struct zd_folio *f0 = dev_folio(fx, 0);
	unsigned long pfn = zd_folio_pfn(f0);
	struct zd_page *pages[1] = { NULL };

	addr = map_dax(fx, fx->mm[0], align, 0);
	ZT_EQ(zd_pin_user_pages_fast(fx->mm[0], addr + 5 * 4096, 1, ZD_FOLL_WRITE, pages), 1);
	ZT_EQU(zd_page_to_pfn(pages[0]), pfn + 5);
	ZT_PTR_EQ(zd_page_folio(pages[0]), f0);
	ZT_EQ(zd_devdax_unbind(fx->dd, 1000 * MS), 0);
	fx->dd = NULL;
	zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
	zt_reports_clear(&fx->log);
	ZT_PTR_EQ(zd_pfn_to_page(fx->sys, pfn + 5), NULL);
	ZT_PTR_EQ(zd_page_folio(pages[0]), f0);
	ZT_TRUE(zd_page_is_tail(pages[0]));
	ZT_EQ(zd_folio_ref_count(f0), 2);
	zd_unpin_user_pages(pages, 1);
	zt_expect_report(&fx->log, ZD_MISUSE_HAZARD, pfn, ZD_MEMORY_DEVICE_GENERIC);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_folio_ref_count(f0), 1);
	ZT_TRUE(!zd_folio_maybe_dma_pinned(f0));
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	zt_expect_no_reports(&fx->log);
}

/* ---- faults racing unbind ---- */

#define RACE_THREADS 3
#define RACE_AFTER_DEATH 200	/* touches a thread makes after its first SIGBUS */

struct race_arg {
	struct zd_mm *mm;
	unsigned long addr, len, align;
	unsigned long cap;	/* iteration limit, in case death never shows */
	uint64_t seed;
	struct zt_barrier *barrier;
	_Atomic int *gone;	/* set once the unbind has returned */
	_Atomic unsigned long progress;
	int bad, first_bad;	/* results other than 0 / -EIO, or life after unbind */
	unsigned long ok, sigbus, zaps;
};

static void race_bad(struct race_arg *r, int what)
{
	if (!r->bad++)
		r->first_bad = what;
}

/*
 * Touch random pages and now and then zap a random folio (MADV_DONTNEED)
 * so that faults keep coming, until well after the device died.
 */
static void *race_fn(void *arg)
{
	struct race_arg *r = arg;
	uint64_t x = r->seed;

	zt_barrier_wait(r->barrier);
	for (unsigned long i = 0; i < r->cap && r->sigbus < RACE_AFTER_DEATH; i++) {
		/* Acquire pairs with the release store after the unbind returned. */
		bool gone = zd_atomic_load_acquire(r->gone);
		unsigned long off;
		int err;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		off = (unsigned long)(x >> 17) % r->len;
		if (((x >> 40) & 7) == 0) {
			off &= ~(r->align - 1);
			err = zd_madvise(r->mm, r->addr + off, r->align, ZD_MADV_DONTNEED);
			if (err)
				race_bad(r, 1000 + err);
			r->zaps++;
			continue;
		}
		err = zd_cpu_touch(r->mm, r->addr + (off & ~(ZD_PAGE_SIZE - 1)), 1, (x >> 8) & 1);
		if (!err)
			r->ok++;
		else if (err == -EIO)
			r->sigbus++;
		else
			race_bad(r, err);
		/*
		 * Between the kill and the zap a page still mapped may be
		 * touched (as in Linux); once the unbind returned, nothing is.
		 */
		if (gone && !err)
			race_bad(r, 1);
		zd_atomic_store_relaxed(&r->progress, i + 1);
	}
	if (r->sigbus < RACE_AFTER_DEATH)
		race_bad(r, 2);
	return NULL;
}

/*
 * Faults (and zaps) racing unbind: every fault either maps a folio the
 * unbind then zaps, or SIGBUSes; none maps after the kill, and every
 * folio is idle for the memunmap.
 */
static void test_unbind_race(void **state)
{
	struct dx_fixture *fx = DX(state);
	unsigned long align = fx->v->align;
	unsigned long len = fx->v->size < 8 * align ? fx->v->size : 8 * align;
	struct race_arg r[RACE_THREADS];
	struct zd_thread *t[RACE_THREADS];
	struct zt_barrier barrier;
	struct zd_mm *extra[RACE_THREADS] = { NULL };
	unsigned long warmup = zt_iters(2000, 10);
	_Atomic int gone;

	zd_atomic_init(&gone, 0);
	zt_barrier_init(&barrier, RACE_THREADS + 1);
	for (int i = 0; i < RACE_THREADS; i++) {
		struct zd_mm *mm = i < NR_MMS ? fx->mm[i] : NULL;

		if (!mm) {
			ZT_EQ(zd_mm_create(fx->sys, &extra[i]), 0);
			mm = extra[i];
		}
		memset(&r[i], 0, sizeof(r[i]));
		r[i].mm = mm;
		r[i].len = len;
		r[i].align = align;
		r[i].addr = map_dax(fx, mm, len, 0);
		r[i].cap = 1000 * 1000 * 100;
		r[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		r[i].barrier = &barrier;
		r[i].gone = &gone;
		zd_atomic_init(&r[i].progress, 0ul);
		ZT_EQ(zd_thread_create(&t[i], race_fn, &r[i]), 0);
	}
	zt_barrier_wait(&barrier);
	/* unbind once every thread is well under way */
	for (int i = 0; i < RACE_THREADS; i++)
		while (zd_atomic_load_relaxed(&r[i].progress) < warmup)
			zt_sleep_ms(1);
	ZT_EQ(zd_devdax_destroy_timeout(fx->dd, 5000 * MS), 0);
	fx->dd = NULL;
	/* Release pairs with the threads' acquire loads. */
	zd_atomic_store_release(&gone, 1);
	for (int i = 0; i < RACE_THREADS; i++) {
		zd_thread_join(t[i]);
		if (r[i].bad)
			fail_msg("thread %d (seed %#llx): %d unexpected results, the first %d "
				 "(%lu ok, %lu sigbus, %lu zaps)", i, (unsigned long long)r[i].seed,
				 r[i].bad, r[i].first_bad, r[i].ok, r[i].sigbus, r[i].zaps);
		ZT_TRUE(r[i].ok >= warmup / 2);
		for (unsigned long off = 0; off < len; off += align)
			ZT_EQ(entry_level(r[i].mm, r[i].addr + off, NULL), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++)
		if (extra[i])
			zd_mm_destroy(extra[i]);
	zt_expect_no_reports(&fx->log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DX_TEST_PLAIN(test_create_args),
		DX_TEST(test_create_idle, dx_4k),
		DX_TEST(test_create_idle, dx_2m),
		DX_TEST(test_create_idle, dx_1g),
		DX_TEST(test_create_idle, dx_1g_nodata),
		DX_TEST(test_create_idle, dx_4k_one),
		DX_TEST(test_mmap_checks, dx_4k),
		DX_TEST(test_mmap_checks, dx_2m),
		DX_TEST(test_mmap_checks, dx_1g),
		DX_TEST(test_ops_direct, dx_4k),
		DX_TEST(test_ops_direct, dx_2m),
		DX_TEST(test_ops_direct, dx_1g),
		DX_TEST(test_fault_map, dx_4k),
		DX_TEST(test_fault_map, dx_2m),
		DX_TEST(test_fault_map, dx_1g),
		DX_TEST(test_fault_map, dx_1g_nodata),
		DX_TEST(test_fault_map, dx_4k_one),
		DX_TEST(test_fault_map, dx_2m_one),
		DX_TEST(test_fault_map, dx_1g_one),
		DX_TEST(test_vmf_insert_vm_page_prot, dx_4k),
		DX_TEST(test_vmf_insert_vm_page_prot, dx_2m),
		DX_TEST(test_vmf_insert_vm_page_prot, dx_1g),
		DX_TEST(test_vmf_insert_vm_page_prot, dx_4k_one),
		DX_TEST(test_vmf_insert_vm_page_prot, dx_2m_one),
		DX_TEST(test_vmf_insert_vm_page_prot, dx_1g_one),
		DX_TEST(test_vmf_insert_mixed_devmap, dx_4k_one),
		DX_TEST(test_vmf_insert_mixed_devmap, dx_2m_one),
		DX_TEST(test_vmf_insert_mixed_devmap, dx_1g_one),
		DX_TEST(test_follow_devmap_pmd, dx_4k_one),
		DX_TEST(test_follow_devmap_pmd, dx_2m_one),
		DX_TEST(test_follow_devmap_pmd, dx_1g_one),
		DX_TEST(test_gup_fast_devmap_leaf, dx_4k_one),
		DX_TEST(test_gup_fast_devmap_leaf, dx_2m_one),
		DX_TEST(test_gup_fast_devmap_leaf, dx_1g_one),
		DX_TEST(test_fault_offset, dx_4k),
		DX_TEST(test_fault_offset, dx_2m),
		DX_TEST(test_fault_sigbus, dx_4k),
		DX_TEST(test_fault_sigbus, dx_2m),
		DX_TEST(test_fault_sigbus, dx_1g),
		DX_TEST(test_fault_nohugepage, dx_4k),
		DX_TEST(test_fault_nohugepage, dx_2m),
		DX_TEST(test_folio_mapcount_missing_ref, dx_4k),
		DX_TEST(test_folio_mapcount_missing_ref, dx_2m),
		DX_TEST(test_folio_mapcount_missing_ref, dx_1g),
		DX_TEST(test_unbind_zaps, dx_4k),
		DX_TEST(test_unbind_zaps, dx_2m),
		DX_TEST(test_unbind_zaps, dx_1g),
		DX_TEST(test_unbind_zaps, dx_2m_one),
		DX_TEST(test_unbind_zaps, dx_1g_one),
		DX_TEST(test_unbind_zaps, dx_4k_one),
		DX_TEST(test_unbind_busy, dx_4k),
		DX_TEST(test_unbind_busy, dx_2m),
		DX_TEST(test_unbind_busy, dx_1g),
		DX_TEST(test_unbind_pinned, dx_4k),
		DX_TEST(test_unbind_pinned, dx_2m),
		DX_TEST(test_unbind_pinned, dx_1g),
		DX_TEST(test_unbind_pinned, dx_2m_one),
		DX_TEST(test_unbind_waits, dx_2m),
		DX_TEST(test_memunmap_pages_generic_pinned, dx_4k),
		DX_TEST(test_memunmap_pages_generic_pinned, dx_2m),
		DX_TEST(test_memunmap_pages_generic_pinned, dx_1g),
		DX_TEST(test_memunmap_pages_generic_pinned, dx_2m_one),
		DX_TEST(test_memunmap_pages_generic_pinned_tail, dx_2m),
		DX_TEST(test_move_page_tables_dax_unaligned, dx_2m),
		DX_TEST(test_copy_huge_pud_pfnmap, dx_2m),
		DX_TEST(test_copy_huge_pud_pfnmap, dx_1g),
		DX_TEST(test_move_page_tables_dax_unaligned, dx_2m_one),
		DX_TEST(test_memunmap_pages_generic_pinned_tail, dx_1g),
		DX_TEST(test_unbind_race, dx_4k),
		DX_TEST(test_unbind_race, dx_2m),
	};

	return cmocka_run_group_tests_name("devdax", tests, NULL, NULL);
}
