// SPDX-License-Identifier: MIT
/*
 * test_hmm - hmm_range_fault and make_device_exclusive (mm/hmm.c,
 * mm/rmap.c; semantics §7.1-§7.5).
 *
 * hmm_range_fault: the request of each page (R7.1: per-page words under
 * pfn_flags_mask, default_flags), snapshots without faulting, holes inside
 * and outside VMAs, the zero page, PROT_NONE (NUMA hinting) entries,
 * device-coherent pages, pfn maps without struct pages (ERROR),
 * VM_PFNMAP/VM_IO and !VM_READ VMAs, PMD (THP, huge zero) and PUD (device
 * DAX) leaves with their map order, the caller's own device-private pages
 * reported as they are (R7.2), another owner's faulted back through
 * migrate_to_ram (R7.3; a minimal one, then the real migrate_vma of the
 * migrate_device tests' driver), device-exclusive and migration entries, the
 * restart at the faulting address (R7.4), the return values and -EBUSY
 * from an invalidation since read_begin (R7.5), the sticky DMA bits.
 *
 * make_device_exclusive (R7.10): the entry keeps the mapping's reference
 * and mapcount, the folio comes back locked with the GUP reference, the
 * EXCLUSIVE event carries the owner, a THP is split first, CPU access
 * restores a present PTE, fork and zap with the entry.
 *
 * The mirror protocol under concurrent unmaps (R7.6-R7.9) is in
 * tests/stress/test_hmm_mirror.c.
 *
 *   CPU:    [ RAM ][ zero ][ hole ][ dev-private(own) ][ dev-private(other) ]
 *   output: pfn|V|W  pfn|V    0      dpfn|V|W            0 / faulted: pfn|V|W
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "migrate_device_drv.h"
#include <zonedev/devdax.h>
#include <zonedev/hmm.h>
#include <zonedev/mempolicy.h>
#include <zonedev/mmu_notifier.h>
#include "mm/internal.h"

#define MiB (1ul << 20)
#define GiB (1ul << 30)
#define MS (1000ull * 1000ull)
#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define V ZD_HMM_PFN_VALID
#define W ZD_HMM_PFN_WRITE
#define ERR ZD_HMM_PFN_ERROR
#define ORDER(o) ((unsigned long)(o) << ZD_HMM_PFN_ORDER_SHIFT)

/* ---- a mirror: an interval notifier and its "device page table" ---- */

struct mirror {
	struct zd_mmu_interval_notifier sub;
	struct zd_mutex *lock;		/* the driver lock (R7.6, R7.7) */
	int invalidations;
	enum zd_mmu_notifier_event last_event;
	void *last_owner;
};

static bool mirror_invalidate(struct zd_mmu_interval_notifier *sub,
			      const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct mirror *m = (struct mirror *)sub;

	if (zd_mmu_notifier_range_blockable(range))
		zd_mutex_lock(m->lock);
	else
		return false;	/* the tests never invalidate non-blockably */
	zd_mmu_interval_set_seq(sub, cur_seq);
	m->invalidations++;
	m->last_event = range->event;
	m->last_owner = range->owner;
	zd_mutex_unlock(m->lock);
	return true;
}

static const struct zd_mmu_interval_notifier_ops mirror_ops = { .invalidate = mirror_invalidate };

static void mirror_init(struct mirror *m, struct zd_mm *mm, unsigned long start, unsigned long len)
{
	memset(m, 0, sizeof(*m));
	m->lock = zd_mutex_create();
	ZT_TRUE(m->lock != NULL);
	ZT_EQ(zd_mmu_interval_notifier_insert(&m->sub, mm, start, len, &mirror_ops), 0);
}

static void mirror_fini(struct mirror *m)
{
	zd_mmu_interval_notifier_remove(&m->sub);
	zd_mutex_destroy(m->lock);
}

/*
 * One hmm_range_fault of [start, start + n pages) with @words as input,
 * retried on -EBUSY (R7.6) as a driver does; returns the final result.
 */
static int range_fault(struct mirror *m, unsigned long start, unsigned long n,
		       unsigned long *words, unsigned long default_flags,
		       unsigned long pfn_flags_mask, void *owner)
{
	struct zd_hmm_range range = {
		.notifier = &m->sub,
		.start = start,
		.end = start + n * PG,
		.hmm_pfns = words,
		.default_flags = default_flags,
		.pfn_flags_mask = pfn_flags_mask,
		.dev_private_owner = owner,
	};
	unsigned long *in = malloc(n * sizeof(*in));
	int ret, tries = 0;

	ZT_TRUE(in != NULL);
	memcpy(in, words, n * sizeof(*in));
	do {
		memcpy(words, in, n * sizeof(*in));	/* a driver starts from its request */
		range.notifier_seq = zd_mmu_interval_read_begin(&m->sub);
		zd_mmap_read_lock(m->sub.mm);
		ret = zd_hmm_range_fault(&range);
		zd_mmap_read_unlock(m->sub.mm);
	} while (ret == -EBUSY && ++tries < 100);
	free(in);
	return ret;
}

/* One snapshot pass without retry (to see -EBUSY). */
static int range_fault_once(struct mirror *m, unsigned long seq, unsigned long start,
			    unsigned long n, unsigned long *words, unsigned long default_flags)
{
	struct zd_hmm_range range = {
		.notifier = &m->sub,
		.notifier_seq = seq,
		.start = start,
		.end = start + n * PG,
		.hmm_pfns = words,
		.default_flags = default_flags,
	};
	int ret;

	zd_mmap_read_lock(m->sub.mm);
	ret = zd_hmm_range_fault(&range);
	zd_mmap_read_unlock(m->sub.mm);
	return ret;
}

static unsigned long pfn_at(struct zd_mm *mm, unsigned long addr)
{
	struct zd_page *page = zt_page_at(mm, addr, NULL);

	ZT_TRUE(page != NULL);
	return zd_page_to_pfn(page);
}

static unsigned long zero_pfn(struct zd_system *sys)
{
	return zd_folio_pfn(zd_zero_folio(sys));
}

/* ---- R7.1-R7.3: snapshots and requests ---- */

/*
 * Without any request nothing is faulted: a written page is pfn|V|W, the
 * zero page pfn|V, a hole 0; the hole stays a hole.
 *
 *   [ written ][ zero ][ hole ][ written, mprotect R/O ]
 */
static void test_snapshot_no_fault(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), w[4];
	struct mirror m;
	int lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "a", 1), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, a + PG, PG, false), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + 3 * PG, "d", 1), 0);
	ZT_EQ(zd_mprotect(fx->mm, a + 3 * PG, PG, ZD_PROT_READ), 0);
	mirror_init(&m, fx->mm, a, 4 * PG);
	/* input words with requests, but a zero mask: they do not count (R7.1) */
	for (int i = 0; i < 4; i++)
		w[i] = ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE;
	ZT_EQ(range_fault(&m, a, 4, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], pfn_at(fx->mm, a) | V | W);
	ZT_EQU(w[1], zero_pfn(fx->sys) | V);
	ZT_EQU(w[2], 0);
	ZT_EQU(w[3], pfn_at(fx->mm, a + 3 * PG) | V);
	ZT_EQ(zt_entry_at(fx->mm, a + 2 * PG, &lvl), 0);
	ZT_EQ(zd_hmm_pfn_to_map_order(w[0]), 0);
	ZT_PTR_EQ(zd_hmm_pfn_to_page(fx->sys, w[0]), zt_page_at(fx->mm, a, NULL));
	mirror_fini(&m);
}

/*
 * default_flags: REQ_FAULT read-faults a hole (the zero page: valid, not
 * writable); REQ_WRITE too write-faults it and breaks COW of the zero page.
 */
static void test_default_flags(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), w[2] = { 0, 0 };
	struct mirror m;

	mirror_init(&m, fx->mm, a, 2 * PG);
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	ZT_EQU(w[0], zero_pfn(fx->sys) | V);
	ZT_EQU(w[1], zero_pfn(fx->sys) | V);
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0, NULL), 0);
	for (int i = 0; i < 2; i++) {
		unsigned long pfn = pfn_at(fx->mm, a + (unsigned long)i * PG);

		ZT_TRUE(pfn != zero_pfn(fx->sys));
		ZT_EQU(w[i], pfn | V | W);
	}
	mirror_fini(&m);
}

/*
 * Per-page requests under pfn_flags_mask. In a PTE table a fault covers
 * the page that needs it and the rest of the range in that table
 * (hmm_vma_fault from the page on), never the pages before it: page 0,
 * without a request, stays a hole. Where no PTE table exists yet the
 * whole hole is faulted at once, with the union of the requests
 * (hmm_vma_walk_hole), so there a page without a request is faulted too.
 *
 *   request: [ - ][ R ][ W ][ - ]     result: [ 0 ][ zero|V ][ new|V|W ][ P|V|W ]
 *   no table: [ - ][ R ]               result: [ zero|V ][ zero|V ]
 */
static void test_per_page_requests(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a, b = 0;
	unsigned long w[4] = { 0, ZD_HMM_PFN_REQ_FAULT, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0 };
	const unsigned long mask = ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE;
	struct mirror m, mb;
	int lvl;

	/* b alone in its PMD range: aligned, above a */
	a = zt_map_anon(fx->mm, 4 * PG);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ANON, NULL, 0, ZD_PMD_SIZE, &b), 0);
	ZT_TRUE(b - a >= ZD_PMD_SIZE);
	ZT_EQ(zd_cpu_write(fx->mm, a + 3 * PG, "p", 1), 0);	/* the PTE table exists */
	mirror_init(&m, fx->mm, a, 4 * PG);
	ZT_EQ(range_fault(&m, a, 4, w, 0, mask, NULL), 0);
	ZT_EQU(w[0], 0);
	ZT_EQ(zt_entry_at(fx->mm, a, &lvl), 0);
	ZT_EQU(w[1], zero_pfn(fx->sys) | V);
	ZT_EQU(w[2], pfn_at(fx->mm, a + 2 * PG) | V | W);
	ZT_TRUE(zd_hmm_pfn_to_pfn(w[2]) != zero_pfn(fx->sys));
	ZT_EQU(w[3], pfn_at(fx->mm, a + 3 * PG) | V | W);
	mirror_fini(&m);

	mirror_init(&mb, fx->mm, b, 2 * PG);
	w[0] = 0;
	w[1] = ZD_HMM_PFN_REQ_FAULT;
	ZT_EQ(range_fault(&mb, b, 2, w, 0, mask, NULL), 0);
	ZT_EQU(w[0], zero_pfn(fx->sys) | V);
	ZT_EQU(w[1], zero_pfn(fx->sys) | V);
	mirror_fini(&mb);
}

/*
 * R7.5 -EPERM: a write request in a VMA without VM_WRITE (the walk stops
 * there); a read request there is fine.
 */
static void test_write_request_readonly(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = 0, w[2] = { 0, 0 };
	struct mirror m;

	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, ZD_PROT_READ, ANON, NULL, 0, 0, &a), 0);
	mirror_init(&m, fx->mm, a, 2 * PG);
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0, NULL),
	      -EPERM);
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	ZT_EQU(w[0], zero_pfn(fx->sys) | V);
	mirror_fini(&m);
}

/*
 * VMAs hmm cannot mirror: without VM_READ (PROT_NONE) every page is ERROR,
 * or -EFAULT if a page of it is requested; the walk goes on after them.
 * Outside any VMA the same. R7.4: after -EFAULT the words below the
 * failing address hold outputs, the others their inputs.
 *
 *   [ anon ][ PROT_NONE ][ no VMA ][ anon ]
 */
static void test_unmirrorable_and_gaps(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), w[4];
	const unsigned long in = ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_DMA_MAPPED;
	struct mirror m;

	ZT_EQ(zd_cpu_touch(fx->mm, a, 4 * PG, true), 0);
	ZT_EQ(zd_mprotect(fx->mm, a + PG, PG, ZD_PROT_NONE), 0);
	ZT_EQ(zd_munmap(fx->mm, a + 2 * PG, PG), 0);
	mirror_init(&m, fx->mm, a, 4 * PG);
	memset(w, 0, sizeof(w));
	ZT_EQ(range_fault(&m, a, 4, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], pfn_at(fx->mm, a) | V | W);
	ZT_EQU(w[1], ERR);
	ZT_EQU(w[2], ERR);
	ZT_EQU(w[3], pfn_at(fx->mm, a + 3 * PG) | V | W);

	/* a request in the PROT_NONE VMA: -EFAULT; page 0 has its output, 1.. their input */
	for (int i = 0; i < 4; i++)
		w[i] = in;
	ZT_EQ(range_fault(&m, a, 4, w, 0, ZD_HMM_PFN_REQ_FAULT, NULL), -EFAULT);
	ZT_EQU(w[0], pfn_at(fx->mm, a) | V | W | ZD_HMM_PFN_DMA_MAPPED);
	ZT_EQU(w[1], in);
	ZT_EQU(w[3], in);
	/* a request only in the gap: -EFAULT there */
	w[0] = w[1] = w[3] = 0;
	w[2] = ZD_HMM_PFN_REQ_FAULT;
	ZT_EQ(range_fault(&m, a, 4, w, 0, ZD_HMM_PFN_REQ_FAULT, NULL), -EFAULT);
	ZT_EQU(w[1], ERR);
	ZT_EQU(w[2], ZD_HMM_PFN_REQ_FAULT);
	mirror_fini(&m);
}

/* ---- pfn maps: VM_PFNMAP/VM_IO, and entries without a normal page ---- */

struct pfn_drv {
	struct zd_file file;
	unsigned long pfn;
	unsigned long vm_flags;
};

static zd_vm_fault_t pfn_fault(struct zd_vm_fault *vmf)
{
	struct pfn_drv *d = vmf->vma->vm_private_data;

	return zd_vmf_insert_pfn(vmf, d->pfn, vmf->flags & ZD_FAULT_FLAG_WRITE);
}

static const struct zd_vm_operations_struct pfn_vm_ops = { .fault = pfn_fault, .name = "pfn" };

static int pfn_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	struct pfn_drv *d = file->private_data;

	vma->vm_flags |= d->vm_flags;
	vma->vm_ops = &pfn_vm_ops;
	vma->vm_private_data = d;
	return 0;
}

static const struct zd_file_operations pfn_fops = { .mmap = pfn_mmap, .name = "pfn" };

/*
 * A VM_PFNMAP | VM_IO mapping: ERROR for every page without a request,
 * -EFAULT with one. A VM_MIXEDMAP mapping is walked (as since 6.x): its
 * special entry has no normal page, so ERROR, or -EFAULT if requested.
 */
static void test_pfnmap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_folio *frame = zd_folio_alloc(fx->sys, ZD_GFP_ZERO, 0);
	struct pfn_drv io = { .file = { .f_op = &pfn_fops }, .pfn = zd_folio_pfn(frame),
			      .vm_flags = ZD_VM_PFNMAP | ZD_VM_IO };
	struct pfn_drv mixed = io;
	unsigned long a = 0, b = 0, w[2];
	struct mirror m, mb;

	mixed.vm_flags = ZD_VM_MIXEDMAP;
	io.file.private_data = &io;
	mixed.file.private_data = &mixed;
	zd_atomic_init(&io.file.f_count, 1l);
	zd_atomic_init(&mixed.file.f_count, 1l);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ZD_MAP_SHARED, &io.file, 0, 0, &a), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, 2 * PG, RW, ZD_MAP_SHARED, &mixed.file, 0, 0, &b), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, a, 2 * PG, false), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, b, PG, false), 0);
	mirror_init(&m, fx->mm, a, 2 * PG);
	mirror_init(&mb, fx->mm, b, 2 * PG);

	memset(w, 0, sizeof(w));
	ZT_EQ(range_fault(&m, a, 2, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], ERR);
	ZT_EQU(w[1], ERR);
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), -EFAULT);

	memset(w, 0, sizeof(w));
	ZT_EQ(range_fault(&mb, b, 2, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], ERR);	/* special: vm_normal_page is NULL */
	ZT_EQU(w[1], 0);	/* a hole in a walkable VMA */
	w[0] = 0;
	ZT_EQ(range_fault(&mb, b, 1, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), -EFAULT);
	mirror_fini(&m);
	mirror_fini(&mb);
	ZT_EQ(zd_munmap(fx->mm, a, 2 * PG), 0);
	ZT_EQ(zd_munmap(fx->mm, b, 2 * PG), 0);
	zd_folio_put(frame);
}

/* ---- huge leaves: every subpage filled, with the leaf's map order ---- */

/*
 * A PMD-mapped THP: order 9, pfns consecutive from the leaf's first page,
 * also from a range that starts inside the leaf; the huge zero folio the
 * same, read-only.
 */
static void test_thp_order(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_thp(fx->mm, 2 * ZD_PMD_SIZE), z = a + ZD_PMD_SIZE;
	const unsigned long n = ZD_PTRS_PER_TABLE;
	unsigned long *w = calloc(2 * n, sizeof(*w)), head, zhead;
	struct mirror m;
	int lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "thp", 4), 0);
	ZT_EQ(zd_cpu_touch(fx->mm, z, PG, false), 0);
	zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	zt_entry_at(fx->mm, z, &lvl);
	ZT_EQ(lvl, 2);
	head = pfn_at(fx->mm, a);
	zhead = zd_folio_pfn(zd_huge_zero_folio(fx->sys));
	mirror_init(&m, fx->mm, a, 2 * ZD_PMD_SIZE);
	ZT_EQ(range_fault(&m, a, 2 * n, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	for (unsigned long i = 0; i < n; i++) {
		ZT_EQU(w[i], (head + i) | V | W | ORDER(ZD_PMD_ORDER));
		ZT_EQU(w[n + i], (zhead + i) | V | ORDER(ZD_PMD_ORDER));
	}
	ZT_EQ(zd_hmm_pfn_to_map_order(w[7]), ZD_PMD_ORDER);
	/* from inside the leaf */
	memset(w, 0, 2 * n * sizeof(*w));
	ZT_EQ(range_fault(&m, a + 100 * PG, 8, w, 0, 0, NULL), 0);
	for (unsigned long i = 0; i < 8; i++)
		ZT_EQU(w[i], (head + 100 + i) | V | W | ORDER(ZD_PMD_ORDER));
	/* still PMD-mapped: hmm never splits */
	zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	/* a write request on the huge zero folio: COW (the PMD is split, a page allocated) */
	memset(w, 0, sizeof(*w));
	ZT_EQ(range_fault(&m, z + 3 * PG, 1, w, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0,
			  NULL), 0);
	ZT_TRUE(w[0] & W);
	ZT_TRUE(zd_hmm_pfn_to_pfn(w[0]) != zhead + 3);
	mirror_fini(&m);
	free(w);
}

/*
 * Device DAX at 1 GiB: a requested page faults the PUD leaf in, and every
 * page reads order 18 (no data behind the device: a 1 GiB arena is not
 * needed to map it).
 */
static void test_devdax_pud_order(void **state)
{
	struct zt_reports log = { 0 };
	struct zd_system_options o;
	struct zd_system *sys;
	struct zd_devdax *dd;
	struct zd_mm *mm;
	unsigned long a = 0, w[16], base, off = 12345 * PG;
	struct mirror m;
	int lvl;

	(void)state;
	zt_options(&o, &log, ZD_SCHEME_ZERO, ZD_CHECK_FULL);
	o.data = ZD_DATA_NONE;
	sys = zt_system_create_opts(&o);
	ZT_EQ(zd_devdax_create(sys, GiB, GiB, &dd), 0);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	ZT_EQ(zd_mmap(mm, 0, GiB, RW, ZD_MAP_SHARED, zd_devdax_file(dd), 0, GiB, &a), 0);
	mirror_init(&m, mm, a, GiB);
	memset(w, 0, sizeof(w));
	w[0] = ZD_HMM_PFN_REQ_FAULT;
	ZT_EQ(range_fault(&m, a + off, 16, w, 0, ZD_HMM_PFN_REQ_FAULT, NULL), 0);
	ZT_TRUE(zd_follow_entry(mm, a, &(zd_pte_t){ 0 }, &lvl));
	ZT_EQ(lvl, 3);
	base = zd_hmm_pfn_to_pfn(w[0]) - off / PG;
	ZT_EQU(base & ((1ul << ZD_PUD_ORDER) - 1), 0);
	for (unsigned long i = 0; i < 16; i++) {
		ZT_EQ(zd_hmm_pfn_to_map_order(w[i]), ZD_PUD_ORDER);
		ZT_EQU(zd_hmm_pfn_to_pfn(w[i]), base + off / PG + i);
		ZT_TRUE(w[i] & V);
		ZT_TRUE(w[i] & W);	/* a shared device-DAX mapping is writable from its first fault */
	}
	mirror_fini(&m);
	zd_mm_destroy(mm);
	ZT_EQ(zd_devdax_destroy_timeout(dd, 2000 * MS), 0);
	zt_system_destroy_clean(sys, &log);
}

/*
 * A PROT_NONE entry in an accessible VMA (NUMA hinting) has no CPU flags:
 * without a request its word is the bare pfn; a request faults it back
 * (do_numa_page). A device-coherent page is an ordinary present page.
 */
static void test_protnone_and_coherent(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), w[2] = { 0, 0 }, pfn;
	struct zd_folio *coherent;
	struct mirror m;

	ZT_EQ(zd_cpu_write(fx->mm, a, "n", 1), 0);
	pfn = pfn_at(fx->mm, a);
	zd_mmap_read_lock(fx->mm);
	ZT_EQ(zd_change_prot_numa(zd_vma_lookup(fx->mm, a), a, a + PG), 1);
	zd_mmap_read_unlock(fx->mm);
	ZT_TRUE(zd_pte_protnone(zt_entry_at(fx->mm, a, NULL)));
	zt_dev_create(d, fx->sys, ZD_MEMORY_DEVICE_COHERENT, 4 * MiB, 0);
	ZT_EQ(zt_dev_alloc(d, 0, 0), 0);
	coherent = zt_dev_folio(d, 0);
	zt_map_device_anon(fx->mm, a + PG, coherent);
	mirror_init(&m, fx->mm, a, 2 * PG);
	ZT_EQ(range_fault(&m, a, 2, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], pfn);
	ZT_EQU(w[1], zd_folio_pfn(coherent) | V | W);
	ZT_EQ(range_fault(&m, a, 1, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	ZT_EQU(zd_hmm_pfn_to_pfn(w[0]), pfn);
	ZT_TRUE(w[0] & V);
	ZT_TRUE(!zd_pte_protnone(zt_entry_at(fx->mm, a, NULL)));
	mirror_fini(&m);
	ZT_EQ(zd_munmap(fx->mm, a, 2 * PG), 0);
}

/* ---- device-private memory ---- */

/*
 * The minimal migrate_to_ram of a test driver: copy the page to a new RAM
 * page and put that in place of the device-private entry (what
 * migrate_vma_setup/pages/finalize do for one page, without their
 * notifier and migration entries).
 */
static _Atomic int migrations;

static zd_vm_fault_t test_migrate_to_ram(struct zd_vm_fault *vmf)
{
	struct zd_vm_area_struct *vma = vmf->vma;
	struct zd_mm *mm = vma->vm_mm;
	struct zd_page *page = vmf->page;
	struct zd_folio *src = zd_page_folio(page), *dst;
	_Atomic zd_pte_t *slot = _zd_pxx_offset(mm, vmf->address, ZD_LVL_PTE);
	struct zd_spinlock *ptl;
	bool moved = false;
	zd_pte_t e;

	dst = zd_folio_alloc(mm->sys, 0, 0);
	if (!dst || !slot) {
		if (dst)
			zd_folio_put(dst);
		return ZD_VM_FAULT_OOM;
	}
	if (zd_page_address(page) && zd_page_address(&dst->page))
		memcpy(zd_page_address(&dst->page), zd_page_address(page), PG);
	ptl = _zd_pte_lockptr(slot);
	zd_spin_lock(ptl);
	e = _zd_read_entry(slot);
	if (zd_is_device_private_entry(e) && zd_swp_offset(e) == zd_page_to_pfn(page)) {
		zd_pte_t bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG;

		if (zd_is_writable_device_private_entry(e))
			bits |= ZD_PTE_WRITE | ZD_PTE_DIRTY;
		_zd_folio_add_new_anon_rmap(dst, vma, vmf->address, ZD_LVL_PTE);
		_zd_set_entry(slot, zd_pfn_pte(zd_folio_pfn(dst), bits));
		_zd_folio_remove_rmap(src, page, ZD_LVL_PTE);
		moved = true;
	}
	zd_spin_unlock(ptl);
	if (moved) {
		_zd_folio_add_lru_vma(dst, vma);
		zd_folio_put(src);	/* the entry's reference */
		zd_atomic_fetch_add_relaxed(&migrations, 1);
	} else {
		zd_folio_put(dst);
	}
	return 0;
}

static struct zd_dev_pagemap_ops migrating_ops;

static void dev_private_create(struct zt_fixture *fx, struct zt_dev *d)
{
	zt_dev_prepare(d, fx->sys, ZD_MEMORY_DEVICE_PRIVATE, 4 * MiB, 0);
	migrating_ops = zt_ops_folio_free;
	migrating_ops.migrate_to_ram = test_migrate_to_ram;
	d->pgmap.ops = &migrating_ops;
	ZT_EQ(zd_memremap_pages(fx->sys, &d->pgmap), 0);
	d->registered = true;
}

/* A device page mapped by a writable device-private entry at @addr. */
static struct zd_folio *map_dev_page(struct zt_fixture *fx, struct zt_dev *d, unsigned long idx,
				     unsigned long addr, const char *data)
{
	struct zd_folio *folio;

	ZT_EQ(zt_dev_alloc(d, idx, 0), 0);
	folio = zt_dev_folio(d, idx);
	if (zd_page_address(&folio->page))
		strcpy(zd_page_address(&folio->page), data);
	zt_map_device_private(fx->mm, addr, folio);
	return folio;
}

/*
 * R7.2: the caller's own device-private pages are reported as they are,
 * VALID (+WRITE if the entry is writable), never faulted, not even for a
 * write request on a read-only entry (made read-only by fork, R6.4).
 */
static void test_device_private_own(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), w[2] = { 0, 0 };
	struct zd_folio *f0, *f1;
	struct zd_mm *child;
	struct mirror m;
	zd_pte_t e;
	int lvl;

	dev_private_create(fx, d);
	f0 = map_dev_page(fx, d, 0, a, "dev0");
	f1 = map_dev_page(fx, d, 1, a + PG, "dev1");
	mirror_init(&m, fx->mm, a, 2 * PG);
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0, d), 0);
	ZT_EQU(w[0], zd_folio_pfn(f0) | V | W);
	ZT_EQU(w[1], zd_folio_pfn(f1) | V | W);
	ZT_EQ(zd_atomic_load_relaxed(&migrations), 0);

	/* fork: both entries become read-only; a write request still faults nothing */
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	e = zt_entry_at(fx->mm, a, &lvl);
	ZT_EQ(zd_swp_type(e), ZD_SWP_DEVICE_PRIVATE_READ);
	memset(w, 0, sizeof(w));
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0, d), 0);
	ZT_EQU(w[0], zd_folio_pfn(f0) | V);
	ZT_EQU(w[1], zd_folio_pfn(f1) | V);
	ZT_EQ(zd_swp_type(zt_entry_at(fx->mm, a, &lvl)), ZD_SWP_DEVICE_PRIVATE_READ);
	ZT_EQ(zd_atomic_load_relaxed(&migrations), 0);
	zd_mm_destroy(child);
	mirror_fini(&m);
}

/*
 * R7.3: another owner's device-private page reads 0 without a request and
 * is faulted back with one: migrate_to_ram moves it to RAM, the snapshot
 * shows the RAM page, the device page goes back to its driver.
 */
static void test_device_private_other_owner(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zt_dev *d = &fx->dev[0];
	unsigned long a = zt_map_anon(fx->mm, 2 * PG), w[2] = { 0, 0 };
	int other_owner;
	struct mirror m;
	char buf[8];
	int lvl;

	zd_atomic_store_relaxed(&migrations, 0);
	dev_private_create(fx, d);
	map_dev_page(fx, d, 0, a, "dev0");
	map_dev_page(fx, d, 1, a + PG, "dev1");
	mirror_init(&m, fx->mm, a, 2 * PG);
	ZT_EQ(range_fault(&m, a, 2, w, 0, 0, &other_owner), 0);
	ZT_EQU(w[0], 0);
	ZT_EQU(w[1], 0);
	ZT_EQ(zd_atomic_load_relaxed(&migrations), 0);

	/* a read request on page 1 only: page 1 (and the rest of its table) comes back */
	w[0] = 0;
	w[1] = ZD_HMM_PFN_REQ_FAULT;
	ZT_EQ(range_fault(&m, a, 2, w, 0, ZD_HMM_PFN_REQ_FAULT, &other_owner), 0);
	ZT_EQU(w[0], 0);
	ZT_EQU(w[1], pfn_at(fx->mm, a + PG) | V | W);
	ZT_TRUE(!zd_folio_is_zone_device(zt_folio_at(fx->mm, a + PG, &lvl)));
	ZT_EQ(zd_atomic_load_relaxed(&migrations), 1);
	ZT_EQ(zt_dev_nr_free(d), 1);
	ZT_TRUE(zd_is_device_private_entry(zt_entry_at(fx->mm, a, &lvl)));
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, buf, 5), 0);
	ZT_EQ(memcmp(buf, "dev1", 5), 0);
	/* a default request: page 0 too */
	ZT_EQ(range_fault(&m, a, 2, w, ZD_HMM_PFN_REQ_FAULT, 0, &other_owner), 0);
	ZT_EQU(w[0], pfn_at(fx->mm, a) | V | W);
	ZT_EQ(zt_dev_nr_free(d), 2);
	mirror_fini(&m);
}

/*
 * R7.2/R7.3 with the real migration (migrate_vma): pages moved to a
 * device by its driver are reported to that device (owner) as its own
 * pfns, without faulting; another mirror's request faults them back
 * through the driver's migrate_to_ram (migrate_vma with the fault page),
 * whose MIGRATE invalidations carry the driver as owner and make the
 * passes -EBUSY until the range is stable.
 *
 *   RAM [P0][P1][P2][P3] -> device [D0][D1][D2][D3] -> other owner's request -> [R0]..[R3]
 */
static void test_device_private_migrate_vma(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), w[4];
	struct mirror m;
	struct tdrv t;
	char buf[8];

	td_create(&t, fx->sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB);
	for (unsigned long i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "page%lu", i);
		ZT_EQ(zd_cpu_write(fx->mm, a + i * PG, buf, 6), 0);
	}
	mirror_init(&m, fx->mm, a, 4 * PG);
	ZT_EQ(td_migrate_to_dev(&t, fx->mm, a, a + 4 * PG, ZD_MIGRATE_VMA_SELECT_SYSTEM, NULL), 4);
	ZT_EQ(m.last_event, ZD_MMU_NOTIFY_MIGRATE);
	ZT_PTR_EQ(m.last_owner, &t);

	memset(w, 0, sizeof(w));
	ZT_EQ(range_fault(&m, a, 4, w, ZD_HMM_PFN_REQ_FAULT | ZD_HMM_PFN_REQ_WRITE, 0, &t), 0);
	for (unsigned long i = 0; i < 4; i++) {
		zd_pte_t e = zt_entry_at(fx->mm, a + i * PG, NULL);

		ZT_TRUE(zd_is_device_private_entry(e));
		ZT_EQU(w[i], zd_swp_offset(e) | V | W);
		ZT_TRUE(zd_folio_is_zone_device(zd_page_folio(zd_hmm_pfn_to_page(fx->sys, w[i]))));
	}
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram), 0);

	memset(w, 0, sizeof(w));
	ZT_EQ(range_fault(&m, a, 4, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	ZT_EQU(zd_atomic_load_relaxed(&t.to_ram), 4);
	for (unsigned long i = 0; i < 4; i++) {
		ZT_EQU(w[i], pfn_at(fx->mm, a + i * PG) | V | W);
		ZT_TRUE(!zd_folio_is_zone_device(zd_page_folio(zd_hmm_pfn_to_page(fx->sys, w[i]))));
		ZT_EQ(zd_cpu_read(fx->mm, a + i * PG, buf, 6), 0);
		ZT_EQ(buf[4], (char)('0' + i));
	}
	ZT_EQ(m.last_event, ZD_MMU_NOTIFY_MIGRATE);
	mirror_fini(&m);
	ZT_EQ(zd_munmap(fx->mm, a, 4 * PG), 0);
	td_destroy(&t);
}

/* ---- device-exclusive and migration entries ---- */

/*
 * A device-exclusive entry reads 0 without a request; a request faults it
 * (remove_device_exclusive_entry: the PTE is present again).
 */
static void test_device_exclusive_entry(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG), w[1] = { 0 };
	struct zd_folio *folio;
	struct mirror m;
	int lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	folio = zt_folio_at(fx->mm, a, &lvl);
	zt_make_device_exclusive(fx->mm, a);
	mirror_init(&m, fx->mm, a, PG);
	ZT_EQ(range_fault(&m, a, 1, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], 0);
	ZT_TRUE(zd_is_device_exclusive_entry(zt_entry_at(fx->mm, a, &lvl)));
	ZT_EQ(range_fault(&m, a, 1, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	ZT_EQU(w[0], zd_folio_pfn(folio) | V | W);
	ZT_TRUE(zd_pte_present(zt_entry_at(fx->mm, a, &lvl)));
	mirror_fini(&m);
}

struct migration_ctx {
	struct zd_mm *mm;
	_Atomic zd_pte_t *slot;
	zd_pte_t orig;
	struct zd_folio *folio;
	_Atomic int released;
};

static void *finish_migration(void *arg)
{
	struct migration_ctx *c = arg;
	struct zd_spinlock *ptl = _zd_pte_lockptr(c->slot);

	zt_sleep_ms(50);
	zd_spin_lock(ptl);
	_zd_set_entry(c->slot, c->orig);
	zd_spin_unlock(ptl);
	zd_atomic_store_release(&c->released, 1);
	zd_folio_unlock(c->folio);
	return NULL;
}

/*
 * A migration entry reads 0 without a request; with one, hmm waits for
 * the migration (the folio lock) and walks again from that page. The
 * "migration" here holds the folio lock and swaps the PTE for a migration
 * entry and back.
 */
static void test_migration_entry(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, PG), w[1] = { 0 };
	struct migration_ctx c = { .mm = fx->mm };
	struct zd_thread *t;
	struct mirror m;

	ZT_EQ(zd_cpu_write(fx->mm, a, "x", 1), 0);
	c.folio = zt_folio_at(fx->mm, a, NULL);
	zd_mmap_read_lock(fx->mm);
	c.slot = _zd_pxx_offset(fx->mm, a, ZD_LVL_PTE);
	zd_mmap_read_unlock(fx->mm);
	zd_folio_lock(c.folio);
	zd_spin_lock(_zd_pte_lockptr(c.slot));
	c.orig = _zd_read_entry(c.slot);
	_zd_set_entry(c.slot, zd_swp_entry(ZD_SWP_MIGRATION_WRITE, zd_folio_pfn(c.folio)));
	zd_spin_unlock(_zd_pte_lockptr(c.slot));
	mirror_init(&m, fx->mm, a, PG);
	ZT_EQ(range_fault(&m, a, 1, w, 0, 0, NULL), 0);
	ZT_EQU(w[0], 0);
	ZT_EQ(zd_thread_create(&t, finish_migration, &c), 0);
	ZT_EQ(range_fault(&m, a, 1, w, ZD_HMM_PFN_REQ_FAULT, 0, NULL), 0);
	ZT_EQ(zd_atomic_load_acquire(&c.released), 1);
	ZT_EQU(w[0], zd_folio_pfn(c.folio) | V | W);
	zd_thread_join(t);
	mirror_fini(&m);
}

/* ---- R7.5: -EBUSY ---- */

/*
 * An invalidation of the range between read_begin and hmm_range_fault:
 * -EBUSY (checked before the walk); a new read_begin succeeds. First an
 * explicit invalidation (what any mapping change sends), then a munmap.
 */
static void test_ebusy_after_invalidation(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 4 * PG), w[4], seq;
	struct zd_mmu_notifier_range r;
	struct mirror m;

	ZT_EQ(zd_cpu_touch(fx->mm, a, 4 * PG, true), 0);
	mirror_init(&m, fx->mm, a, 4 * PG);
	memset(w, 0, sizeof(w));
	seq = zd_mmu_interval_read_begin(&m.sub);
	zd_mmu_notifier_range_init(&r, ZD_MMU_NOTIFY_CLEAR, ZD_MMU_NOTIFIER_RANGE_BLOCKABLE,
				   fx->mm, a + PG, a + 2 * PG);
	zd_mmap_read_lock(fx->mm);
	zd_mmu_notifier_invalidate_range_start(&r);
	zd_mmu_notifier_invalidate_range_end(&r);
	zd_mmap_read_unlock(fx->mm);
	ZT_EQ(m.invalidations, 1);
	ZT_EQ(range_fault_once(&m, seq, a, 4, w, 0), -EBUSY);
	ZT_EQU(w[0], 0);	/* nothing walked */
	seq = zd_mmu_interval_read_begin(&m.sub);
	ZT_EQ(range_fault_once(&m, seq, a, 4, w, 0), 0);
	ZT_EQU(w[0], pfn_at(fx->mm, a) | V | W);
	ZT_TRUE(!zd_mmu_interval_read_retry(&m.sub, seq));

	/* munmap of part of the range: -EBUSY, then the retry sees the hole */
	seq = zd_mmu_interval_read_begin(&m.sub);
	ZT_EQ(zd_munmap(fx->mm, a + 2 * PG, PG), 0);
	ZT_TRUE(m.invalidations >= 2);
	ZT_EQ(range_fault_once(&m, seq, a, 4, w, 0), -EBUSY);
	seq = zd_mmu_interval_read_begin(&m.sub);
	ZT_EQ(range_fault_once(&m, seq, a, 4, w, 0), 0);
	ZT_EQU(w[2], ERR);
	ZT_EQU(w[3], pfn_at(fx->mm, a + 3 * PG) | V | W);
	mirror_fini(&m);
}

/* ---- make_device_exclusive (R7.10) ---- */

static struct zd_page *make_exclusive(struct zd_mm *mm, unsigned long addr, void *owner,
				      struct zd_folio **folio, int *err)
{
	struct zd_page *page;

	zd_mmap_read_lock(mm);
	page = zd_make_device_exclusive(mm, addr, owner, folio, err);
	zd_mmap_read_unlock(mm);
	return page;
}

/*
 * The entry replaces the PTE and keeps its reference and mapcount; the
 * caller gets the page, its folio locked with the GUP reference; the
 * EXCLUSIVE event carries the owner; the dirty PTE left the folio dirty.
 * A CPU read restores the PTE: writable (the VMA allows it, the page is
 * exclusive) and dirty (from the folio), the data unchanged.
 *
 *   before: PTE [ P rw dirty ]   after: [ excl(P) ]   CPU read: [ P rw dirty ]
 */
static void test_make_device_exclusive(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	struct zd_folio *folio, *f;
	struct zd_page *page;
	struct mirror m;
	int err = 1, lvl;
	char buf[4];
	zd_pte_t e;

	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "abc", 4), 0);
	f = zt_folio_at(fx->mm, a + PG, &lvl);
	mirror_init(&m, fx->mm, a, 2 * PG);
	page = make_exclusive(fx->mm, a + PG + 123, &m, &folio, &err);
	ZT_EQ(err, 0);
	ZT_PTR_EQ(page, &f->page);
	ZT_PTR_EQ(folio, f);
	ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_locked));
	ZT_TRUE(zd_folio_test_flag(folio, ZD_PG_dirty));
	e = zt_entry_at(fx->mm, a + PG, &lvl);
	ZT_TRUE(zd_is_device_exclusive_entry(e));
	ZT_EQU(zd_swp_offset(e), zd_folio_pfn(f));
	ZT_EQ(zd_folio_mapcount(f), 1);
	ZT_EQ(zd_folio_ref_count(f), 2);	/* the entry's and the caller's */
	ZT_EQ(m.last_event, ZD_MMU_NOTIFY_EXCLUSIVE);
	ZT_PTR_EQ(m.last_owner, &m);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	ZT_EQ(zd_folio_ref_count(f), 1);

	ZT_EQ(zd_cpu_read(fx->mm, a + PG, buf, 4), 0);
	ZT_EQ(memcmp(buf, "abc", 4), 0);
	e = zt_entry_at(fx->mm, a + PG, &lvl);
	ZT_TRUE(zd_pte_present(e));
	ZT_EQU(zd_pte_pfn(e), zd_folio_pfn(f));
	ZT_TRUE(zd_pte_write(e));
	ZT_TRUE(zd_pte_dirty(e));
	ZT_EQ(zd_folio_mapcount(f), 1);
	ZT_EQ(zd_folio_ref_count(f), 1);

	/* a hole: the GUP write fault gives it a fresh anonymous page first */
	page = make_exclusive(fx->mm, a, &m, &folio, &err);
	ZT_EQ(err, 0);
	ZT_TRUE(zd_folio_test_anon(folio));
	ZT_TRUE(zd_is_device_exclusive_entry(zt_entry_at(fx->mm, a, &lvl)));
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	/* again on an exclusive entry (another owner): restored by GUP, made exclusive again */
	page = make_exclusive(fx->mm, a, NULL, &folio, &err);
	ZT_EQ(err, 0);
	ZT_PTR_EQ(m.last_owner, NULL);
	ZT_TRUE(zd_is_device_exclusive_entry(zt_entry_at(fx->mm, a, &lvl)));
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_EQ(zd_folio_ref_count(folio), 2);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	/* a write restores it writable */
	ZT_EQ(zd_cpu_write(fx->mm, a, "w", 1), 0);
	ZT_TRUE(zd_pte_write(zt_entry_at(fx->mm, a, &lvl)));
	mirror_fini(&m);
}

/*
 * A PMD-mapped THP is split first (FOLL_SPLIT_PMD): one subpage becomes
 * exclusive, the others stay mapped by PTEs; mapcount and references of
 * the folio are unchanged by the entry.
 */
static void test_make_device_exclusive_thp(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_thp(fx->mm, ZD_PMD_SIZE);
	struct zd_folio *folio, *f;
	struct zd_page *page;
	int err, lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "thp", 4), 0);
	f = zt_folio_at(fx->mm, a, &lvl);
	ZT_EQ(lvl, 2);
	page = make_exclusive(fx->mm, a + 9 * PG, NULL, &folio, &err);
	ZT_EQ(err, 0);
	ZT_PTR_EQ(folio, f);
	ZT_PTR_EQ(page, zd_folio_page(f, 9));
	ZT_TRUE(zd_is_device_exclusive_entry(zt_entry_at(fx->mm, a + 9 * PG, &lvl)));
	ZT_EQ(lvl, 1);
	ZT_TRUE(zd_pte_present(zt_entry_at(fx->mm, a + 8 * PG, &lvl)));
	ZT_EQ(zd_folio_mapcount(f), (int)ZD_PTRS_PER_TABLE);
	ZT_EQ(zd_folio_ref_count(f), (int)ZD_PTRS_PER_TABLE + 1);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
}

/*
 * Refusals: no VMA and a read-only VMA (GUP's -EFAULT), a shared (shmem)
 * page is not anonymous (-EOPNOTSUPP, the GUP reference given back).
 */
static void test_make_device_exclusive_refused(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long ro = 0, sh = 0;
	struct zd_folio *folio = NULL, *f;
	int err = 0;

	ZT_EQ(zd_mmap(fx->mm, 0, PG, ZD_PROT_READ, ANON, NULL, 0, 0, &ro), 0);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, RW, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0, 0, &sh), 0);
	ZT_EQ(zd_cpu_write(fx->mm, sh, "s", 1), 0);
	f = zt_folio_at(fx->mm, sh, NULL);
	ZT_TRUE(make_exclusive(fx->mm, ZD_TASK_SIZE - PG, NULL, &folio, &err) == NULL);
	ZT_EQ(err, -EFAULT);
	ZT_TRUE(make_exclusive(fx->mm, ro, NULL, &folio, &err) == NULL);
	ZT_EQ(err, -EFAULT);
	ZT_EQ(zd_folio_ref_count(f), 2);	/* the page cache's and the mapping's */
	ZT_TRUE(make_exclusive(fx->mm, sh, NULL, &folio, &err) == NULL);
	ZT_EQ(err, -EOPNOTSUPP);
	ZT_EQ(zd_folio_ref_count(f), 2);
	ZT_TRUE(zd_pte_present(zt_entry_at(fx->mm, sh, NULL)));
	ZT_PTR_EQ(folio, NULL);
}

/*
 * fork with an exclusive entry (R6.5): the parent's PTE is restored and
 * copied as any anonymous page (COW, mapcount 2); zap of an entry drops
 * the mapping's reference and mapcount (R6.6): the page is freed.
 */
static void test_make_device_exclusive_fork_zap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	unsigned long a = zt_map_anon(fx->mm, 2 * PG);
	unsigned long free0;
	struct zd_folio *folio, *f;
	struct zd_mm *child;
	zd_pte_t e;
	int err, lvl;

	ZT_EQ(zd_cpu_write(fx->mm, a, "p", 2), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a + PG, "q", 2), 0);
	ZT_TRUE(make_exclusive(fx->mm, a, NULL, &folio, &err) != NULL);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	f = folio;
	ZT_EQ(zd_fork(fx->mm, &child), 0);
	e = zt_entry_at(fx->mm, a, &lvl);
	ZT_TRUE(zd_pte_present(e));
	ZT_TRUE(!zd_pte_write(e));
	ZT_EQU(zd_pte_pfn(zt_entry_at(child, a, &lvl)), zd_folio_pfn(f));
	ZT_EQ(zd_folio_mapcount(f), 2);
	ZT_EQ(zd_folio_ref_count(f), 2);
	zd_mm_destroy(child);
	ZT_EQ(zd_folio_mapcount(f), 1);

	/* zap: the entry's reference and mapcount go with it */
	ZT_TRUE(make_exclusive(fx->mm, a + PG, NULL, &folio, &err) != NULL);
	zd_folio_unlock(folio);
	zd_folio_put(folio);
	free0 = zd_nr_free_pages(fx->sys);
	ZT_EQ(zd_munmap(fx->mm, a + PG, PG), 0);
	ZT_EQ(zd_nr_free_pages(fx->sys), free0 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_snapshot_no_fault),
		ZT_MM_TEST(test_default_flags),
		ZT_MM_TEST(test_per_page_requests),
		ZT_MM_TEST(test_write_request_readonly),
		ZT_MM_TEST(test_unmirrorable_and_gaps),
		ZT_MM_TEST(test_pfnmap),
		ZT_MM_TEST(test_thp_order),
		cmocka_unit_test(test_devdax_pud_order),
		ZT_MM_TEST(test_protnone_and_coherent),
		ZT_MM_TEST(test_device_private_own),
		ZT_MM_TEST(test_device_private_other_owner),
		ZT_MM_TEST(test_device_private_migrate_vma),
		ZT_MM_TEST(test_device_exclusive_entry),
		ZT_MM_TEST(test_migration_entry),
		ZT_MM_TEST(test_ebusy_after_invalidation),
		ZT_MM_TEST(test_make_device_exclusive),
		ZT_MM_TEST(test_make_device_exclusive_thp),
		ZT_MM_TEST(test_make_device_exclusive_refused),
		ZT_MM_TEST(test_make_device_exclusive_fork_zap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
