// SPDX-License-Identifier: MIT
/*
 * bench_migrate - migration of anonymous memory between RAM and device
 * memory through the HMM test device (lib/test_hmm.c's
 * HMM_DMIRROR_MIGRATE_TO_DEV / _TO_SYS, which drive mm/migrate_device.c's
 * migrate_vma_setup/pages/finalize), the CPU fault that brings a
 * device-private page back (the driver's migrate_to_ram), and
 * hmm_range_fault (mm/hmm.c) reading a populated range without faulting.
 *
 *   migrate_4k, migrate_2m   one page / 512 pages (a 2 MiB range of base
 *                            pages) to a device-private unit and back, as
 *                            bandwidth: the bytes copied (twice the range,
 *                            one copy each way) per second. MIGRATE_TO_DEV
 *                            also reads the range back into the caller's
 *                            buffer, as the driver does: that copy is in
 *                            the figure. Baseline: memcpy of the same
 *                            bytes (the range into a buffer and back), in
 *                            the same run. ratio = our bandwidth over
 *                            memcpy's: higher is better (goals: 0.5 for
 *                            4 KiB, 0.8 for 2 MiB).
 *   migrate_2m_thp           the same with the range one THP: it moves
 *                            whole both ways (MIGRATE_VMA_SELECT_COMPOUND,
 *                            one PMD-order device folio).
 *   migrate_to_ram_fault     ns per page of a CPU read of a device-private
 *                            page (do_swap_page -> migrate_to_ram ->
 *                            migrate_vma of one page). The migrations to
 *                            the device are outside the timing. Baseline:
 *                            the CPU's first-touch fault of an anonymous
 *                            page (allocate, zero, map), the zap between
 *                            rounds outside the timing.
 *   hmm_range_fault_snapshot ns per page of hmm_range_fault over 512
 *                            present pages, without fault flags, with the
 *                            read_begin/read_retry protocol of a driver.
 *                            Baseline: the CPU reading one byte of each of
 *                            those pages through the page table.
 *
 * check=off, no trace; the library is used as a driver and a test would.
 */
#include <zonedev/dmirror.h>
#include <zonedev/hmm.h>
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>

#include "bench.h"

#define RW		(ZD_PROT_READ | ZD_PROT_WRITE)
#define RANGE_2M	(2ul << 20)
#define NPAGES_2M	(RANGE_2M >> ZD_PAGE_SHIFT)

struct mig {
	struct zd_system *sys;
	struct zd_mm *mm;
	struct zd_dmirror_module *mod;
	struct zd_dmirror *mirror;
	unsigned long addr;		/* RANGE_2M of anonymous memory */
	unsigned long len;		/* bytes each iteration moves */
	bool thp;			/* the range is one THP (MADV_HUGEPAGE, 2 MiB aligned) */
	unsigned char *buf;		/* the command's buffer, RANGE_2M */
	unsigned char *copy;		/* memcpy baseline: RANGE_2M */
};

static int mig_cmd(struct mig *m, unsigned int c, unsigned long addr, unsigned long npages,
		   struct zd_hmm_dmirror_cmd *out)
{
	struct zd_hmm_dmirror_cmd k = {
		.addr = addr, .ptr = (uintptr_t)m->buf, .npages = npages,
	};
	int ret = zd_dmirror_ioctl(m->mirror, c, &k);

	if (out)
		*out = k;
	return ret;
}

static void mig_setup(struct mig *m)
{
	int err;

	m->sys = bench_system(ZD_SCHEME_ZERO, ZD_CHECK_OFF, NULL);
	err = zd_mm_create(m->sys, &m->mm);
	if (err)
		bench_die("zd_mm_create", err);
	err = zd_mmap(m->mm, 0, RANGE_2M, RW, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0,
		      m->thp ? RANGE_2M : 0, &m->addr);
	if (err)
		bench_die("zd_mmap", err);
	if (m->thp) {
		err = zd_madvise(m->mm, m->addr, RANGE_2M, ZD_MADV_HUGEPAGE);
		if (err)
			bench_die("zd_madvise", err);
	}
	m->buf = malloc(RANGE_2M);
	m->copy = malloc(RANGE_2M);
	if (!m->buf || !m->copy)
		bench_die("malloc", -ENOMEM);
	memset(m->buf, 0x5a, RANGE_2M);
	err = zd_cpu_write(m->mm, m->addr, m->buf, RANGE_2M);
	if (err)
		bench_die("zd_cpu_write", err);
	err = zd_dmirror_init(m->sys, false, &m->mod);
	if (err)
		bench_die("zd_dmirror_init", err);
	err = zd_dmirror_open(zd_dmirror_device(m->mod, 0), m->mm, &m->mirror);
	if (err)
		bench_die("zd_dmirror_open", err);
}

static void mig_teardown(struct mig *m)
{
	zd_dmirror_close(m->mirror);
	zd_dmirror_exit(m->mod);
	zd_mm_destroy(m->mm);
	zd_system_destroy(m->sys);
	free(m->buf);
	free(m->copy);
}

/* ---- RAM -> device -> RAM ---- */

/* Migration command @c on the first @npages pages of the range; dies unless every page moved. */
static inline void mig_cmd_all(struct mig *m, unsigned int c, const char *name,
			       unsigned long npages)
{
	struct zd_hmm_dmirror_cmd k;
	int err = mig_cmd(m, c, m->addr, npages, &k);

	if (zd_unlikely(err || k.cpages != npages))
		bench_die(name, err ? err : -EAGAIN);
}

static uint64_t loop_round_trip(void *ctx, uint64_t n)
{
	struct mig *m = ctx;
	unsigned long npages = m->len >> ZD_PAGE_SHIFT;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < n; i++) {
		mig_cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, "MIGRATE_TO_DEV", npages);
		mig_cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_SYS, "MIGRATE_TO_SYS", npages);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* The same bytes by memcpy: the range out to a buffer and back. */
static uint64_t loop_memcpy(void *ctx, uint64_t n)
{
	struct mig *m = ctx;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < n; i++) {
		memcpy(m->copy, m->buf, m->len);
		bench_barrier();
		memcpy(m->buf, m->copy, m->len);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* MiB/s of 2 * len bytes an iteration taking @ns. */
static double mib_per_s(unsigned long len, double ns)
{
	return ns > 0 ? 2.0 * (double)len / ns * 1e9 / (1024.0 * 1024.0) : 0;
}

static void bench_round_trip(const char *name, const char *what, unsigned long len, bool thp)
{
	struct mig m = { .len = len, .thp = thp };
	double t, tb;

	mig_setup(&m);
	bench_pair(loop_round_trip, &m, loop_memcpy, &m, &t, &tb);
	bench_report(name, what, mib_per_s(len, t), "MiB/s,higher_is_better", "memcpy",
		     mib_per_s(len, tb));
	mig_teardown(&m);
}

/* ---- the CPU fault on a device-private page ---- */

/*
 * @n iterations of @step on one page of the range after another, with
 * @reset on the whole range before each pass over its NPAGES_2M pages,
 * outside the timing. Always inlined, so that the steps are direct calls.
 */
static inline __attribute__((always_inline)) uint64_t
loop_pages_reset(struct mig *m, uint64_t n, void (*reset)(struct mig *m),
		 void (*step)(struct mig *m, unsigned long addr))
{
	uint64_t total = 0, t0 = 0;

	for (uint64_t i = 0; i < n; i++) {
		unsigned long page = i % NPAGES_2M;

		if (!page) {
			if (i)
				total += bench_now_ns() - t0;
			reset(m);
			t0 = bench_now_ns();
		}
		step(m, m->addr + (page << ZD_PAGE_SHIFT));
		bench_barrier();
	}
	return total + bench_now_ns() - t0;
}

static void range_to_device(struct mig *m)
{
	int err = mig_cmd(m, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, m->addr, NPAGES_2M, NULL);

	if (zd_unlikely(err && err != -ENOENT))
		bench_die("MIGRATE_TO_DEV", err);
}

static void read_byte(struct mig *m, unsigned long addr)
{
	unsigned char byte;
	int err = zd_cpu_read(m->mm, addr, &byte, 1);

	if (zd_unlikely(err))
		bench_die("zd_cpu_read", err);
}

static uint64_t loop_fault_back(void *ctx, uint64_t n)
{
	return loop_pages_reset(ctx, n, range_to_device, read_byte);
}

static void range_dontneed(struct mig *m)
{
	int err = zd_madvise(m->mm, m->addr, RANGE_2M, ZD_MADV_DONTNEED);

	if (zd_unlikely(err))
		bench_die("zd_madvise", err);
}

static void touch_write(struct mig *m, unsigned long addr)
{
	int err = zd_cpu_touch(m->mm, addr, 1, true);

	if (zd_unlikely(err))
		bench_die("zd_cpu_touch", err);
}

static uint64_t loop_anon_fault(void *ctx, uint64_t n)
{
	return loop_pages_reset(ctx, n, range_dontneed, touch_write);
}

static void bench_fault_back(void)
{
	struct mig m = { .len = RANGE_2M };
	double t, tb;

	mig_setup(&m);
	bench_pair(loop_fault_back, &m, loop_anon_fault, &m, &t, &tb);
	bench_report("migrate_to_ram_fault", "CPU fault of a device page", t, "ns/page",
		     "anon fault", tb);
	mig_teardown(&m);
}

/* ---- hmm_range_fault ---- */

static bool snap_invalidate(struct zd_mmu_interval_notifier *mni,
			    const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	(void)range;
	zd_mmu_interval_set_seq(mni, cur_seq);
	return true;
}

static const struct zd_mmu_interval_notifier_ops snap_ops = {
	.invalidate = snap_invalidate,
};

struct snap {
	struct mig *m;
	struct zd_mmu_interval_notifier notifier;
	unsigned long pfns[NPAGES_2M];
};

/* One snapshot of the range a iteration; the figure is per page. */
static uint64_t loop_snapshot(void *ctx, uint64_t n)
{
	struct snap *s = ctx;
	struct zd_mm *mm = s->m->mm;
	struct zd_hmm_range range = {
		.notifier = &s->notifier,
		.start = s->m->addr,
		.end = s->m->addr + RANGE_2M,
		.hmm_pfns = s->pfns,
	};
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < n; i++) {
		int err;

		do {
			range.notifier_seq = zd_mmu_interval_read_begin(&s->notifier);
			zd_mmap_read_lock(mm);
			err = zd_hmm_range_fault(&range);
			zd_mmap_read_unlock(mm);
		} while (err == -EBUSY ||
			 (!err && zd_mmu_interval_read_retry(&s->notifier, range.notifier_seq)));
		if (zd_unlikely(err || !(s->pfns[NPAGES_2M - 1] & ZD_HMM_PFN_VALID)))
			bench_die("zd_hmm_range_fault", err ? err : -EFAULT);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static uint64_t loop_cpu_read_pages(void *ctx, uint64_t n)
{
	struct snap *s = ctx;
	uint64_t t0 = bench_now_ns();
	unsigned char byte;

	for (uint64_t i = 0; i < n; i++) {
		for (unsigned long p = 0; p < NPAGES_2M; p++) {
			int err = zd_cpu_read(s->m->mm, s->m->addr + (p << ZD_PAGE_SHIFT), &byte, 1);

			if (zd_unlikely(err))
				bench_die("zd_cpu_read", err);
		}
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static void bench_snapshot(void)
{
	struct mig m = { .len = RANGE_2M };
	struct snap *s = calloc(1, sizeof(*s));
	double t, tb;
	int err;

	if (!s)
		bench_die("calloc", -ENOMEM);
	mig_setup(&m);
	s->m = &m;
	err = zd_mmu_interval_notifier_insert(&s->notifier, m.mm, m.addr, RANGE_2M, &snap_ops);
	if (err)
		bench_die("zd_mmu_interval_notifier_insert", err);
	bench_pair(loop_snapshot, s, loop_cpu_read_pages, s, &t, &tb);
	bench_report("hmm_range_fault_snapshot", "hmm_range_fault, 512 present pages",
		     t / NPAGES_2M, "ns/page", "CPU read a page", tb / NPAGES_2M);
	zd_mmu_interval_notifier_remove(&s->notifier);
	mig_teardown(&m);
	free(s);
}

int main(int argc, char **argv)
{
	if (bench_selected(argc, argv, "migrate_4k"))
		bench_round_trip("migrate_4k", "4 KiB RAM->device->RAM", ZD_PAGE_SIZE, false);
	if (bench_selected(argc, argv, "migrate_2m"))
		bench_round_trip("migrate_2m", "2 MiB RAM->device->RAM", RANGE_2M, false);
	if (bench_selected(argc, argv, "migrate_2m_thp"))
		bench_round_trip("migrate_2m_thp", "2 MiB THP RAM->device->RAM", RANGE_2M, true);
	if (bench_selected(argc, argv, "migrate_to_ram_fault"))
		bench_fault_back();
	if (bench_selected(argc, argv, "hmm_range_fault_snapshot"))
		bench_snapshot();
	return bench_exit_status();
}
