// SPDX-License-Identifier: MIT
/*
 * bench_mm - cost of the address-space model: anonymous faults, CPU reads
 * and the memory the model spends on metadata per mapped page.
 *
 * anon_write_fault: ns per page of an anonymous 4 KiB write fault in
 * steady state, on a system with check=off and no trace sink: a 256 KiB
 * private anonymous region, mapped once (MADV_NOHUGEPAGE), gets one
 * zd_cpu_write of one byte per page (each a write fault: a zeroed RAM
 * folio, rmap, LRU, the PTE), then zd_madvise(MADV_DONTNEED) empties it
 * (zap, free), round after round. Two baselines, each its own BENCH line:
 * anon_write_fault_limit, the work no fault can skip, zeroing a 4 KiB page
 * frame and storing one page-table entry (over frames as many as the
 * region's pages); goal: within 3x of it. anon_write_fault, the real
 * kernel's fault on this machine in the same steady state (store a byte
 * per page of a mapped region, MADV_DONTNEED, again): a guest kernel's
 * fault costs 1.5 us on one host and 20 us on another, so that ratio says
 * more about the host than about the model.
 * anon_touch_fault is the same with one zd_cpu_touch(write) of the whole
 * region instead of a zd_cpu_write per page (one mmap_lock round trip).
 *
 * cpu_read_page: ns per zd_cpu_read of 4 KiB from an already faulted page
 * (a 256 KiB working set, so it stays in cache). Baseline: memcpy of
 * 4 KiB over a working set of the same size.
 *
 * scale_metadata_per_page: bytes of metadata per mapped page (memmap,
 * page-table share, VMA share), from the process RSS before the system
 * is created and after every page of a region of the system's size has
 * been write-touched, less the page frames themselves (data=real: counted
 * with mincore on the system's RAM). Each size runs in a child process
 * forked before anything else, so that no memory freed by an earlier
 * figure is reused and hidden from the RSS delta. By default 8 GiB with
 * data=none (scale_metadata_per_page) and 1 GiB with data=real
 * (scale_metadata_per_page_real); ZD_BENCH_SCALE=1 runs 64 GiB and 8 GiB
 * instead (needs about 10 GiB of free RAM and a minute). Baseline: 72,
 * the kernel's struct page and the page's PTE.
 *
 * Arguments name the figures to run; none runs all.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zonedev/mm.h>

#include "bench.h"

#define FAULT_PAGES	64ul			/* a 256 KiB region per round */
#define READ_PAGES	64ul			/* 256 KiB working set */
#define GIB		(1ull << 30)
/*
 * What the kernel spends per mapped 4 KiB page: its 64-byte struct page and
 * the page's 8-byte entry in a PTE table (whose own descriptor, a struct
 * ptdesc, is the table page's struct page: 64 more bytes per 512 pages).
 */
#define KERNEL_META_PER_PAGE	72.0

static unsigned long bench_mmap(struct zd_mm *mm, unsigned long len)
{
	unsigned long addr;
	int err;

	err = zd_mmap(mm, 0, len, ZD_PROT_READ | ZD_PROT_WRITE, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS,
		      NULL, 0, 0, &addr);
	if (err)
		bench_die("zd_mmap", err);
	return addr;
}

static void bench_munmap(struct zd_mm *mm, unsigned long addr, unsigned long len)
{
	int err = zd_munmap(mm, addr, len);

	if (err)
		bench_die("zd_munmap", err);
}

static struct zd_mm *bench_mm(struct zd_system *sys)
{
	struct zd_mm *mm;
	int err = zd_mm_create(sys, &mm);

	if (err)
		bench_die("zd_mm_create", err);
	return mm;
}

/* ---- anonymous write faults ---- */

/*
 * The fault loops run in steady state: one region, mapped once, write-
 * faulted page by page and emptied again with MADV_DONTNEED, over and
 * over. The freed pages stay in the allocator (the kernel's per-CPU lists,
 * the model's buddy lists) and come back in the next round, so neither
 * side pays for memory handed back to the host, or touched for the first
 * time, between rounds.
 */
struct fault_ctx {
	struct zd_mm *mm;
	unsigned long addr;		/* the model's region */
	volatile char *kaddr;		/* the kernel's region */
	unsigned char *frames;		/* the limit's page frames */
	_Atomic zd_pte_t *ptes;		/* the limit's page table */
};

static uint64_t loop_kernel_fault(void *ctx, uint64_t n)
{
	struct fault_ctx *fc = ctx;
	size_t len = FAULT_PAGES * 4096;
	uint64_t t0 = bench_now_ns(), i;

	for (i = 0; i < n; i++) {
		for (size_t off = 0; off < len; off += 4096)
			fc->kaddr[off] = 1;
		if (madvise((void *)fc->kaddr, len, MADV_DONTNEED))
			bench_die("madvise", -errno);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static void zd_dontneed(struct fault_ctx *fc)
{
	int err = zd_madvise(fc->mm, fc->addr, FAULT_PAGES * ZD_PAGE_SIZE, ZD_MADV_DONTNEED);

	if (zd_unlikely(err))
		bench_die("zd_madvise", err);
}

static uint64_t loop_zd_fault(void *ctx, uint64_t n)
{
	struct fault_ctx *fc = ctx;
	unsigned long len = FAULT_PAGES * ZD_PAGE_SIZE;
	uint64_t t0 = bench_now_ns(), i;
	const char one = 1;
	int err;

	for (i = 0; i < n; i++) {
		for (unsigned long off = 0; off < len; off += ZD_PAGE_SIZE) {
			err = zd_cpu_write(fc->mm, fc->addr + off, &one, 1);
			if (zd_unlikely(err))
				bench_die("zd_cpu_write", err);
		}
		zd_dontneed(fc);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static uint64_t loop_zd_touch_fault(void *ctx, uint64_t n)
{
	struct fault_ctx *fc = ctx;
	uint64_t t0 = bench_now_ns(), i;
	int err;

	for (i = 0; i < n; i++) {
		err = zd_cpu_touch(fc->mm, fc->addr, FAULT_PAGES * ZD_PAGE_SIZE, true);
		if (zd_unlikely(err))
			bench_die("zd_cpu_touch", err);
		zd_dontneed(fc);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/*
 * The limit of an anonymous write fault: what no implementation can skip,
 * zeroing the new 4 KiB page frame and storing its page-table entry. The
 * frames are a working set as large as the faulting region, as the
 * model's allocator hands the same frames back round after round.
 */
static uint64_t loop_fault_limit(void *ctx, uint64_t n)
{
	struct fault_ctx *fc = ctx;
	uint64_t t0 = bench_now_ns(), i;

	for (i = 0; i < n; i++) {
		for (unsigned long p = 0; p < FAULT_PAGES; p++) {
			memset(fc->frames + p * ZD_PAGE_SIZE, 0, ZD_PAGE_SIZE);
			zd_atomic_store_release(&fc->ptes[p], zd_pfn_pte(p, ZD_PTE_PRESENT |
					ZD_PTE_WRITE | ZD_PTE_DIRTY | ZD_PTE_YOUNG));
		}
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* The same with one frame only, always hot in L1: a reference, not a baseline. */
static uint64_t loop_fault_limit_hot(void *ctx, uint64_t n)
{
	struct fault_ctx *fc = ctx;
	uint64_t t0 = bench_now_ns(), i;

	for (i = 0; i < n; i++) {
		for (unsigned long p = 0; p < FAULT_PAGES; p++) {
			memset(fc->frames, 0, ZD_PAGE_SIZE);
			zd_atomic_store_release(&fc->ptes[p], zd_pfn_pte(p, ZD_PTE_PRESENT |
					ZD_PTE_WRITE | ZD_PTE_DIRTY | ZD_PTE_YOUNG));
		}
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* One round faulted in: every page must be a private anonymous 4 KiB page. */
static void check_fault_cycle(struct zd_system *sys, struct fault_ctx *fc)
{
	unsigned long len = FAULT_PAGES * ZD_PAGE_SIZE;
	unsigned long free0 = zd_nr_free_pages(sys);
	struct zd_mm_stats st;
	zd_pte_t e;
	int level = 0;

	if (zd_cpu_touch(fc->mm, fc->addr, len, true))
		bench_die("zd_cpu_touch", -EFAULT);
	zd_mm_get_stats(fc->mm, &st);
	if (st.rss_anon != (long)FAULT_PAGES || free0 - zd_nr_free_pages(sys) != FAULT_PAGES ||
	    !zd_follow_entry(fc->mm, fc->addr, &e, &level) || level != 1)
		fprintf(stderr, "bench: anon fault: %ld anon pages, %lu allocated, level %d;"
			" expected %lu 4 KiB pages\n", st.rss_anon,
			free0 - zd_nr_free_pages(sys), level, FAULT_PAGES);
	zd_dontneed(fc);
	zd_mm_get_stats(fc->mm, &st);
	if (st.rss_anon || zd_nr_free_pages(sys) != free0)
		fprintf(stderr, "bench: anon fault: MADV_DONTNEED left %ld anon pages, %lu allocated\n",
			st.rss_anon, free0 - zd_nr_free_pages(sys));
}

static void bench_faults(int argc, char **argv)
{
	struct zd_system *sys;
	struct fault_ctx fc = { 0 };
	unsigned long len = FAULT_PAGES * ZD_PAGE_SIZE;
	double v, b, vt, bt, vl, lim;
	int err;

	bool limit = bench_selected(argc, argv, "anon_write_fault_limit");
	bool kernel = bench_selected(argc, argv, "anon_write_fault");
	bool touch = bench_selected(argc, argv, "anon_touch_fault");

	if (!limit && !kernel && !touch)
		return;
	sys = bench_system(ZD_SCHEME_ZERO, ZD_CHECK_OFF, NULL);
	fc.mm = bench_mm(sys);
	fc.addr = bench_mmap(fc.mm, len);
	err = zd_madvise(fc.mm, fc.addr, len, ZD_MADV_NOHUGEPAGE);
	if (err)
		bench_die("zd_madvise", err);
	fc.kaddr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			-1, 0);
	if (fc.kaddr == MAP_FAILED)
		bench_die("mmap", -errno);
	if (madvise((void *)fc.kaddr, len, MADV_NOHUGEPAGE))
		bench_die("madvise", -errno);
	fc.frames = aligned_alloc(ZD_PAGE_SIZE, len);
	fc.ptes = aligned_alloc(ZD_PAGE_SIZE, ZD_PTRS_PER_TABLE * sizeof(*fc.ptes));
	if (!fc.frames || !fc.ptes)
		bench_die("aligned_alloc", -ENOMEM);
	memset(fc.frames, 1, len);
	for (unsigned i = 0; i < ZD_PTRS_PER_TABLE; i++)
		zd_atomic_init(&fc.ptes[i], (zd_pte_t)0);

	check_fault_cycle(sys, &fc);
	printf("# anonymous write faults, steady state: a %lu KiB region, 1 byte written per"
	       " 4 KiB page, then MADV_DONTNEED, round after round; ns per page, best of %d\n",
	       FAULT_PAGES * 4, BENCH_REPS);
	/* Each loop pairs with its baselines; the best of each is kept. */
	v = vl = vt = lim = b = bt = 0;
	if (limit || kernel)
		bench_pair(loop_zd_fault, &fc, loop_fault_limit, &fc, &vl, &lim);
	if (kernel)
		bench_pair(loop_zd_fault, &fc, loop_kernel_fault, &fc, &v, &b);
	if (touch)
		bench_pair(loop_zd_touch_fault, &fc, loop_kernel_fault, &fc, &vt, &bt);
	if (!v || (vl && vl < v))
		v = vl;
	if (!b || (bt && bt < b))
		b = bt;
	v /= FAULT_PAGES;
	vt /= FAULT_PAGES;
	b /= FAULT_PAGES;
	lim /= FAULT_PAGES;
	if (limit) {
		bench_report("anon_write_fault_limit", "anon write fault (zd_cpu_write)", v,
			     "ns/page", "zero 4 KiB + store PTE", lim);
		printf("# goal anon_write_fault_limit ratio <= 3: %s (for reference: zeroing one"
		       " 4 KiB frame that stays in L1 + PTE store: %.2f ns)\n",
		       lim && v / lim <= 3 ? "met" : "NOT met",
		       bench_best(loop_fault_limit_hot, &fc) / FAULT_PAGES);
	}
	if (kernel)
		bench_report("anon_write_fault", "anon write fault (zd_cpu_write)", v, "ns/page",
			     "kernel anon fault", b);
	if (touch)
		bench_report("anon_touch_fault", "anon write fault (zd_cpu_touch)", vt, "ns/page",
			     "kernel anon fault", b);
	free(fc.frames);
	free(fc.ptes);
	munmap((void *)fc.kaddr, len);
	bench_munmap(fc.mm, fc.addr, len);
	zd_mm_destroy(fc.mm);
	zd_system_destroy(sys);
}

/* ---- reading a faulted page ---- */

struct read_ctx {
	struct zd_mm *mm;
	unsigned long addr;
	unsigned char *src;	/* the baseline's working set */
};

static _Alignas(64) unsigned char read_buf[4096];

static uint64_t loop_zd_read(void *ctx, uint64_t n)
{
	struct read_ctx *rc = ctx;
	uint64_t t0 = bench_now_ns(), i;
	int err;

	for (i = 0; i < n; i++) {
		err = zd_cpu_read(rc->mm, rc->addr + (i % READ_PAGES) * ZD_PAGE_SIZE, read_buf,
				  sizeof(read_buf));
		if (zd_unlikely(err))
			bench_die("zd_cpu_read", err);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static uint64_t loop_memcpy(void *ctx, uint64_t n)
{
	struct read_ctx *rc = ctx;
	uint64_t t0 = bench_now_ns(), i;

	for (i = 0; i < n; i++) {
		memcpy(read_buf, rc->src + (i % READ_PAGES) * 4096, sizeof(read_buf));
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static void bench_read(int argc, char **argv)
{
	struct zd_system *sys;
	struct zd_mm *mm;
	unsigned long len = READ_PAGES * ZD_PAGE_SIZE;
	struct read_ctx rc = { 0 };
	double v, b;
	int err;

	if (!bench_selected(argc, argv, "cpu_read_page"))
		return;
	sys = bench_system(ZD_SCHEME_ZERO, ZD_CHECK_OFF, NULL);
	rc.mm = mm = bench_mm(sys);

	rc.addr = bench_mmap(mm, len);
	rc.src = aligned_alloc(4096, len);
	if (!rc.src)
		bench_die("aligned_alloc", -ENOMEM);
	memset(rc.src, 1, len);
	err = zd_cpu_touch(mm, rc.addr, len, true);
	if (err)
		bench_die("zd_cpu_touch", err);
	printf("# reading a faulted page: 4 KiB per read over %lu KiB, best of %d\n",
	       len >> 10, BENCH_REPS);
	bench_pair(loop_zd_read, &rc, loop_memcpy, &rc, &v, &b);
	bench_report("cpu_read_page", "zd_cpu_read 4 KiB", v, "ns/page", "memcpy 4 KiB", b);
	free(rc.src);
	bench_munmap(mm, rc.addr, len);
	zd_mm_destroy(mm);
	zd_system_destroy(sys);
}

/* ---- metadata per page at scale ---- */

struct scale_result {
	int err;
	uint64_t region;		/* bytes touched */
	unsigned long pages;		/* pages mapped (MM_ANONPAGES) */
	unsigned long nr_pgtables;
	double meta;			/* RSS delta less the page frames, bytes */
	double memmap;			/* bytes of memmap (64 per RAM page) */
	double data_pages;		/* resident page frames (data=real) */
	double setup_ns, touch_ns;	/* system creation; the write-touch of every page */
};

static double rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		bench_die("fopen /proc/self/statm", -errno);
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		bench_die("read /proc/self/statm", -EIO);
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* Resident frames of the system's RAM (data=real). */
static double resident_data_pages(struct zd_system *sys, uint64_t ram)
{
	unsigned char *base = zd_page_address(zd_pfn_to_page(sys, 0));
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), nr = ram / psz, resident = 0;
	unsigned char *vec;

	if (!base)
		return 0;
	vec = malloc(nr);
	if (!vec)
		bench_die("malloc", -ENOMEM);
	if (mincore(base, ram, vec))
		bench_die("mincore", -errno);
	for (size_t i = 0; i < nr; i++)
		resident += vec[i] & 1;
	free(vec);
	return (double)resident * (double)psz / ZD_PAGE_SIZE;
}

/* The measurement itself, in the child. */
static void scale_child(enum zd_data_mode data, uint64_t region, struct scale_result *res)
{
	struct zd_system_options o;
	struct zd_system *sys;
	struct zd_mm_stats st;
	struct zd_mm *mm;
	unsigned long addr;
	double rss0, rss1;
	uint64_t t0, t1;

	memset(res, 0, sizeof(*res));
	res->region = region;
	zd_system_options_init(&o);
	o.check = ZD_CHECK_OFF;
	o.data = data;
	o.report = bench_report_fn;
	/* Room for the region and the zero page. */
	o.ram_size = region + (ZD_PAGE_SIZE << ZD_MAX_PAGE_ORDER);

	rss0 = rss_bytes();
	t0 = bench_wall_ns();
	res->err = zd_system_create(&o, &sys);
	if (res->err)
		return;
	mm = bench_mm(sys);
	addr = bench_mmap(mm, region);
	t1 = bench_wall_ns();
	res->err = zd_cpu_touch(mm, addr, region, true);
	res->touch_ns = (double)(bench_wall_ns() - t1);
	res->setup_ns = (double)(t1 - t0);
	if (!res->err) {
		rss1 = rss_bytes();
		zd_mm_get_stats(mm, &st);
		res->pages = (unsigned long)st.rss_anon;
		res->nr_pgtables = st.nr_pgtables;
		res->data_pages = resident_data_pages(sys, o.ram_size);
		res->memmap = (double)((o.ram_size >> ZD_PAGE_SHIFT) + 1) * sizeof(struct zd_page);
		res->meta = rss1 - rss0 - res->data_pages * ZD_PAGE_SIZE;
	}
	bench_munmap(mm, addr, region);
	zd_mm_destroy(mm);
	zd_system_destroy(sys);
	if (bench_nr_reports)
		res->err = -EINVAL;
}

/*
 * Run scale_child() in a child process: a fresh heap, and every byte
 * given back to the machine when it exits. Context: before the parent
 * starts any library thread (fork copies only the caller).
 */
static void scale_run(enum zd_data_mode data, uint64_t region, struct scale_result *res)
{
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds))
		bench_die("pipe", -errno);
	pid = fork();
	if (pid < 0)
		bench_die("fork", -errno);
	if (pid == 0) {
		struct scale_result r;

		close(fds[0]);
		scale_child(data, region, &r);
		_exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	got = read(fds[0], res, sizeof(*res));
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		bench_die("waitpid", -errno);
	if (got != (ssize_t)sizeof(*res) || !WIFEXITED(status) || WEXITSTATUS(status)) {
		memset(res, 0, sizeof(*res));
		res->err = -ECHILD;
	}
}

static void scale_report(const char *name, const char *mode, const struct scale_result *r,
			 const char *note)
{
	double pages = (double)r->pages;
	char what[64];

	if (r->err || !r->pages) {
		printf("# %s: data=%s %.0f GiB failed: %d (%s)\n", name, mode,
		       (double)r->region / GIB, r->err, strerror(-r->err));
		bench_nr_reports++;
		return;
	}
	printf("# %s: data=%s, %.0f GiB (%lu pages)%s: system created in %.2f s, every page"
	       " write-faulted in %.2f s (%.0f ns/page)\n", name, mode, (double)r->region / GIB,
	       r->pages, note, r->setup_ns / 1e9, r->touch_ns / 1e9, r->touch_ns / pages);
	printf("#   memmap %.2f B/page; the rest %.2f B/page: %lu page-table pages, %.0f B each"
	       " if they were all of it%s\n", r->memmap / pages, (r->meta - r->memmap) / pages,
	       r->nr_pgtables, (r->meta - r->memmap) / (double)r->nr_pgtables,
	       r->data_pages ? "; page frames subtracted" : "");
	snprintf(what, sizeof(what), "metadata per page (data=%s)", mode);
	bench_report(name, what, r->meta / pages, "bytes/page", "kernel: struct page + PTE",
		     KERNEL_META_PER_PAGE);
}

static bool bench_scale_big(void)
{
	const char *s = getenv("ZD_BENCH_SCALE");

	return s && *s && strcmp(s, "0");
}

int main(int argc, char **argv)
{
	bool big = bench_scale_big();
	uint64_t none_size = big ? 64 * GIB : 8 * GIB, real_size = big ? 8 * GIB : 1 * GIB;
	uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	struct scale_result none = { 0 }, real = { 0 };
	const char *note = big ? "" : " (ZD_BENCH_SCALE=1: 64 GiB / 8 GiB)";
	const char *note_real = note;
	bool scale_none = bench_selected(argc, argv, "scale_metadata_per_page");
	bool scale_real = bench_selected(argc, argv, "scale_metadata_per_page_real");

	/* Children first: nothing of the library runs in this process yet. */
	if (scale_none)
		scale_run(ZD_DATA_NONE, none_size, &none);
	if (real_size + real_size / 16 >= phys / 4 * 3) {
		real_size = 1 * GIB;
		note_real = " (reduced: not enough RAM for 8 GiB)";
	}
	if (scale_real)
		scale_run(ZD_DATA_REAL, real_size, &real);

	printf("# bench_mm: anonymous faults, CPU access, metadata per page; check=off, no trace\n");
	bench_faults(argc, argv);
	bench_read(argc, argv);
	if (scale_none || scale_real)
		printf("# metadata per mapped page: RSS after write-faulting a region as large as the"
		       " system's RAM, less RSS before creating the system, less page frames\n");
	if (scale_none)
		scale_report("scale_metadata_per_page", "none", &none, note);
	if (scale_real)
		scale_report("scale_metadata_per_page_real", "real", &real, note_real);
	return bench_exit_status();
}
