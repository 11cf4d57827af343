// SPDX-License-Identifier: MIT
/*
 * test_dmirror - the HMM test device (lib/test_hmm.c).
 *
 * Units and their device memory: four units (two private, two
 * coherent), one chunk each at load, pages handed out from the free list
 * referenced and locked, folio_free exactly once per last put and the
 * page back on the list (LIFO), RELEASE dropping every chunk and the
 * next allocation adding one, unload leaving nothing registered.
 * Commands: the common range checks, counters written back only on
 * success, READ/WRITE round trips with data (CPU pattern -> device ->
 * device write -> CPU) on both unit kinds with cpages and faults, the
 * permission errors, FLAGS. Migrations: MIGRATE_TO_DEV with data and
 * counters, the device writing its own memory, the way back (private: the
 * CPU fault; coherent: MIGRATE_TO_SYS), folio_free once per page and the
 * allocated count back to 0; RELEASE and close evicting every page with
 * its data and write permission; a THP migrating whole both ways and
 * FAIL_ALLOC failing the large allocation once.
 *
 *   mm:      [ buf: npages, RW anon ]
 *   unit 0:  mirror (device page table) --READ--> host buffer
 *            host buffer --WRITE--> mirror --> the CPU sees it
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/dmirror.h>
#include <zonedev/mm.h>

#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define NPAGES 64ul

struct dm {
	struct zt_fixture *fx;
	struct zd_dmirror_module *mod;
};

static struct dm dm_load(void **state)
{
	struct dm d = { .fx = ZT_FX(state) };

	ZT_EQ(zd_dmirror_init(d.fx->sys, true, &d.mod), 0);
	return d;
}

static void dm_unload(struct dm *d)
{
	zd_dmirror_exit(d->mod);
	zt_expect_no_reports(&d->fx->log);
}

/* A test of @fn on unit @u0, then on unit @u1, of one loaded module. */
static void dm_run_units(void **state, void (*fn)(struct dm *d, int unit), int u0, int u1)
{
	struct dm d = dm_load(state);

	fn(&d, u0);
	fn(&d, u1);
	dm_unload(&d);
}

static int cmd(struct zd_dmirror *m, unsigned int c, unsigned long addr, void *ptr,
	       unsigned long npages, struct zd_hmm_dmirror_cmd *out)
{
	struct zd_hmm_dmirror_cmd k = {
		.addr = addr, .ptr = (uintptr_t)ptr, .npages = npages,
		.cpages = 0xdead, .faults = 0xbeef,
	};
	int ret = zd_dmirror_ioctl(m, c, &k);

	if (out)
		*out = k;
	return ret;
}

/* @c on @npages pages from @addr: it succeeds and covers every one. */
static void cmd_all(struct zd_dmirror *m, unsigned int c, unsigned long addr, void *ptr,
		    unsigned long npages, struct zd_hmm_dmirror_cmd *out)
{
	ZT_EQ(cmd(m, c, addr, ptr, npages, out), 0);
	ZT_EQU(out->cpages, npages);
}

/* The CPU reads @size bytes at @addr into @b (cleared first): they are @a. */
static void cpu_read_expect(struct zd_mm *mm, unsigned long addr, unsigned char *b,
			    const unsigned char *a, unsigned long size)
{
	memset(b, 0, size);
	ZT_EQ(zd_cpu_read(mm, addr, b, size), 0);
	ZT_EQ(memcmp(a, b, size), 0);
}

/* ---- units and device memory ---- */

static void test_units(void **state)
{
	struct dm d = dm_load(state);
	struct zd_dmirror_stats st;

	for (int u = 0; u < ZD_DMIRROR_NDEVICES; u++) {
		struct zd_dmirror_device *dev = zd_dmirror_device(d.mod, u);

		ZT_TRUE(dev != NULL);
		ZT_EQ(zd_dmirror_device_type(dev), u < 2 ? ZD_HMM_DMIRROR_MEMORY_DEVICE_PRIVATE :
							   ZD_HMM_DMIRROR_MEMORY_DEVICE_COHERENT);
		zd_dmirror_device_stats(dev, &st);
		ZT_EQU(st.nr_chunks, 1);
		ZT_EQU(st.nr_free_pages, ZD_DMIRROR_CHUNK_SIZE >> ZD_PAGE_SHIFT);
		ZT_EQU(st.calloc, 0);
	}
	ZT_TRUE(zd_dmirror_device(d.mod, ZD_DMIRROR_NDEVICES) == NULL);
	dm_unload(&d);

	/* Without the spm ranges only the two private units exist. */
	ZT_EQ(zd_dmirror_init(d.fx->sys, false, &d.mod), 0);
	ZT_TRUE(zd_dmirror_device(d.mod, 1) != NULL);
	ZT_TRUE(zd_dmirror_device(d.mod, 2) == NULL);
	dm_unload(&d);
}

static void alloc_free(struct dm *d, int unit)
{
	struct zd_dmirror_device *dev = zd_dmirror_device(d->mod, unit);
	enum zd_memory_type type = unit < 2 ? ZD_MEMORY_DEVICE_PRIVATE : ZD_MEMORY_DEVICE_COHERENT;
	struct zd_page *pages[8];
	struct zd_dmirror_stats st;

	for (int i = 0; i < 8; i++) {
		pages[i] = zd_dmirror_devmem_alloc_page(dev);
		ZT_TRUE(pages[i] != NULL);
		ZT_EQ(zd_page_ref_count(pages[i]), 1);
		ZT_TRUE(zd_folio_test_locked(zd_page_folio(pages[i])));
		ZT_EQ((int)zd_page_pgmap(pages[i])->type, (int)type);
		ZT_PTR_EQ(zd_page_pgmap(pages[i])->owner, dev);
		zd_folio_unlock(zd_page_folio(pages[i]));
	}
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.calloc, 8);
	ZT_EQU(st.allocated, 8);
	ZT_EQU(st.nr_page_free, 0);

	/* Each last put calls folio_free once; the page is reused first. */
	for (int i = 0; i < 8; i++)
		zd_put_page(pages[i]);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.cfree, 8);
	ZT_EQU(st.allocated, 0);
	ZT_EQU(st.nr_page_free, 8);
	ZT_EQU(st.nr_free_pages, ZD_DMIRROR_CHUNK_SIZE >> ZD_PAGE_SHIFT);
	ZT_PTR_EQ(zd_dmirror_devmem_alloc_page(dev), pages[7]);
	zd_folio_unlock(zd_page_folio(pages[7]));
	zd_put_page(pages[7]);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.nr_page_free, 9);
	ZT_EQU(st.allocated, 0);
}

static void test_alloc_free(void **state)
{
	dm_run_units(state, alloc_free, 0, 2);	/* a private unit, a coherent one */
}

/* RELEASE drops every chunk; the next allocation adds one again. */
static void test_release(void **state)
{
	struct dm d = dm_load(state);
	struct zd_dmirror_device *dev = zd_dmirror_device(d.mod, 0);
	unsigned long addr = zt_map_anon(d.fx->mm, ZD_PAGE_SIZE);
	struct zd_dmirror_stats st;
	struct zd_dmirror *m;
	struct zd_page *page;

	ZT_EQ(zd_dmirror_open(dev, d.fx->mm, &m), 0);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_RELEASE, addr, NULL, 1, NULL), 0);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.nr_chunks, 0);
	ZT_EQU(st.nr_free_pages, 0);
	page = zd_dmirror_devmem_alloc_page(dev);
	ZT_TRUE(page != NULL);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.nr_chunks, 1);
	ZT_EQU(st.nr_free_pages, (ZD_DMIRROR_CHUNK_SIZE >> ZD_PAGE_SHIFT) - 1);
	zd_folio_unlock(zd_page_folio(page));
	zd_put_page(page);
	ZT_EQ(zd_dmirror_close(m), 0);
	dm_unload(&d);
}

/* The "device_alloc" fault site makes an allocation fail. */
static void test_alloc_fault_injection(void **state)
{
	struct dm d = dm_load(state);
	struct zd_dmirror_device *dev = zd_dmirror_device(d.mod, 0);
	struct zd_fault_attr attr = { .probability = 100, .times = 1 };
	struct zd_dmirror_stats st;

	ZT_EQ(zd_system_set_fault(d.fx->sys, ZD_FAULT_DEVICE_ALLOC, &attr), 0);
	ZT_TRUE(zd_dmirror_devmem_alloc_page(dev) == NULL);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.calloc, 0);
	dm_unload(&d);
}

/* ---- commands ---- */

static void fill(unsigned char *p, unsigned long n, unsigned int seed)
{
	for (unsigned long i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

static void round_trip(struct dm *d, int unit)
{
	struct zd_mm *mm = d->fx->mm;
	unsigned long size = NPAGES * ZD_PAGE_SIZE, addr = zt_map_anon(mm, size);
	unsigned char *a = malloc(size), *b = malloc(size);
	struct zd_hmm_dmirror_cmd k;
	struct zd_dmirror_stats st;
	struct zd_dmirror *m;

	ZT_EQ(zd_dmirror_open(zd_dmirror_device(d->mod, unit), mm, &m), 0);

	/* CPU pattern -> device */
	fill(a, size, 1);
	ZT_EQ(zd_cpu_write(mm, addr, a, size), 0);
	memset(b, 0, size);
	cmd_all(m, ZD_HMM_DMIRROR_READ, addr, b, NPAGES, &k);
	ZT_EQU(k.faults, 1);
	ZT_EQ(memcmp(a, b, size), 0);

	/* device write -> CPU: the read fault mirrored the pages writable */
	fill(a, size, 99);
	cmd_all(m, ZD_HMM_DMIRROR_WRITE, addr, a, NPAGES, &k);
	ZT_EQU(k.faults, 0);
	cpu_read_expect(mm, addr, b, a, size);

	/* the device reads back what it wrote, from its page table */
	memset(b, 0, size);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, b, NPAGES, &k), 0);
	ZT_EQU(k.faults, 0);
	ZT_EQ(memcmp(a, b, size), 0);

	/* mprotect invalidates the mirror: the next write faults, then is refused */
	ZT_EQ(zd_mprotect(mm, addr, size, ZD_PROT_READ), 0);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_WRITE, addr, a, NPAGES, &k), -EPERM);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, b, NPAGES, &k), 0);
	ZT_EQU(k.faults, 1);
	ZT_EQ(memcmp(a, b, size), 0);

	/* a CPU write after fork (COW) replaces the page: the device follows */
	{
		struct zd_mm *child;
		unsigned char c = 0xab;

		ZT_EQ(zd_mprotect(mm, addr, size, RW), 0);
		ZT_EQ(zd_fork(mm, &child), 0);
		ZT_EQ(zd_cpu_write(mm, addr, &c, 1), 0);
		ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, b, 1, &k), 0);
		ZT_EQU(k.faults, 1);
		ZT_EQ(b[0], 0xab);
		zd_mm_destroy(child);
	}

	ZT_EQ(zd_dmirror_close(m), 0);
	zd_dmirror_device_stats(zd_dmirror_device(d->mod, unit), &st);
	ZT_EQU(st.allocated, 0);
	ZT_EQ(zd_munmap(mm, addr, size), 0);
	free(a);
	free(b);
}

static void test_read_write(void **state)
{
	dm_run_units(state, round_trip, 0, 2);	/* a private unit, a coherent one */
}

/* Zero-page and never-touched pages read as zeros; write replaces them. */
static void test_read_zero_then_write(void **state)
{
	struct dm d = dm_load(state);
	struct zd_mm *mm = d.fx->mm;
	unsigned long size = 4 * ZD_PAGE_SIZE, addr = zt_map_anon(mm, size);
	unsigned char a[4 * ZD_PAGE_SIZE], b[4 * ZD_PAGE_SIZE], zero[4 * ZD_PAGE_SIZE] = { 0 };
	struct zd_hmm_dmirror_cmd k;
	struct zd_dmirror *m;

	ZT_EQ(zd_dmirror_open(zd_dmirror_device(d.mod, 0), mm, &m), 0);
	ZT_EQ(zd_cpu_touch(mm, addr + ZD_PAGE_SIZE, ZD_PAGE_SIZE, false), 0);
	memset(b, 0xff, size);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, b, 4, &k), 0);
	ZT_EQ(memcmp(b, zero, size), 0);
	fill(a, size, 5);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_WRITE, addr, a, 4, &k), 0);
	ZT_EQ(zd_cpu_read(mm, addr, b, size), 0);
	ZT_EQ(memcmp(a, b, size), 0);
	ZT_EQ(zd_dmirror_close(m), 0);
	dm_unload(&d);
}

static void test_errors(void **state)
{
	struct dm d = dm_load(state);
	struct zd_mm *mm = d.fx->mm;
	unsigned long size = 4 * ZD_PAGE_SIZE, addr = zt_map_anon(mm, size);
	unsigned char buf[4 * ZD_PAGE_SIZE];
	struct zd_hmm_dmirror_cmd k;
	struct zd_dmirror *m;

	ZT_EQ(zd_dmirror_open(zd_dmirror_device(d.mod, 0), mm, &m), 0);
	/* the common checks; nothing is written back on error */
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr + 1, buf, 1, &k), -EINVAL);
	ZT_EQU(k.cpages, 0xdead);
	ZT_EQU(k.faults, 0xbeef);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, buf, 0, &k), -EINVAL);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, ~0ul & ~(ZD_PAGE_SIZE - 1), buf, 2, &k), -EINVAL);
	ZT_EQ(cmd(m, 0x42, addr, buf, 1, &k), -EINVAL);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_FLAGS, addr, NULL, 0, &k), -EINVAL);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_FLAGS, addr, NULL, ZD_HMM_DMIRROR_FLAG_FAIL_ALLOC, &k), 0);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_CHECK_EXCLUSIVE, addr, NULL, 4, &k), 0);

	/* a hole, PROT_NONE: EFAULT; the caller's buffer and counters untouched */
	memset(buf, 0x5a, sizeof(buf));
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr + size, buf, 1, &k), -EFAULT);
	ZT_EQ(zd_mprotect(mm, addr, size, ZD_PROT_NONE), 0);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, buf, 4, &k), -EFAULT);
	ZT_EQU(k.cpages, 0xdead);
	ZT_EQ(buf[0], 0x5a);
	ZT_EQ(buf[sizeof(buf) - 1], 0x5a);

	/* a write to a read-only VMA: EPERM, the memory unchanged */
	ZT_EQ(zd_mprotect(mm, addr, size, ZD_PROT_READ), 0);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_WRITE, addr, buf, 4, &k), -EPERM);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, buf, 4, &k), 0);
	ZT_EQ(buf[0], 0);
	ZT_EQ(zd_mprotect(mm, addr, size, RW), 0);
	memset(buf, 0x77, sizeof(buf));
	cmd_all(m, ZD_HMM_DMIRROR_WRITE, addr, buf, 4, &k);

	ZT_EQ(zd_dmirror_close(m), 0);
	dm_unload(&d);
}

/* Two opens of one unit by two processes: each mirrors its own mm. */
static void test_two_mms(void **state)
{
	struct dm d = dm_load(state);
	struct zd_mm *mm = d.fx->mm, *mm2;
	unsigned long addr = zt_map_anon(mm, ZD_PAGE_SIZE), addr2;
	unsigned char buf[ZD_PAGE_SIZE];
	struct zd_dmirror *m, *m2;
	struct zd_hmm_dmirror_cmd k;

	ZT_EQ(zd_mm_create(d.fx->sys, &mm2), 0);
	addr2 = zt_map_anon(mm2, ZD_PAGE_SIZE);
	ZT_EQ(zd_cpu_write(mm, addr, "one", 4), 0);
	ZT_EQ(zd_cpu_write(mm2, addr2, "two", 4), 0);
	ZT_EQ(zd_dmirror_open(zd_dmirror_device(d.mod, 0), mm, &m), 0);
	ZT_EQ(zd_dmirror_open(zd_dmirror_device(d.mod, 0), mm2, &m2), 0);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, buf, 1, &k), 0);
	ZT_EQ(strcmp((char *)buf, "one"), 0);
	ZT_EQ(cmd(m2, ZD_HMM_DMIRROR_READ, addr2, buf, 1, &k), 0);
	ZT_EQ(strcmp((char *)buf, "two"), 0);
	ZT_EQ(zd_dmirror_close(m2), 0);
	ZT_EQ(zd_dmirror_close(m), 0);
	zd_mm_destroy(mm2);
	dm_unload(&d);
}

/* ---- migrations ---- */

/* The entry mapping @addr is a device page of @unit's kind (private: non-present). */
static bool on_device(struct zd_mm *mm, unsigned long addr, int unit)
{
	zd_pte_t e;
	int level;

	if (!zd_follow_entry(mm, addr, &e, &level) || level != 1)
		return false;
	if (unit < 2)
		return zd_is_device_private_entry(e);
	return zd_pte_present(e) && zd_folio_is_zone_device(zt_folio_at(mm, addr, NULL));
}

/*
 * CPU pattern -> MIGRATE_TO_DEV -> the device reads and writes its own
 * memory -> back to RAM (private: the CPU fault; coherent: read in place,
 * then MIGRATE_TO_SYS) -> the CPU sees what the device wrote. Every
 * device page goes back through folio_free exactly once.
 */
static void migrate_round_trip(struct dm *d, int unit)
{
	struct zd_mm *mm = d->fx->mm;
	struct zd_dmirror_device *dev = zd_dmirror_device(d->mod, unit);
	unsigned long size = NPAGES * ZD_PAGE_SIZE, addr = zt_map_anon(mm, size);
	unsigned char *a = malloc(size), *b = malloc(size);
	struct zd_hmm_dmirror_cmd k;
	struct zd_dmirror_stats st;
	struct zd_dmirror *m;

	ZT_EQ(zd_dmirror_open(dev, mm, &m), 0);
	fill(a, size, 3);
	ZT_EQ(zd_cpu_write(mm, addr, a, size), 0);
	memset(b, 0, size);
	cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, addr, b, NPAGES, &k);
	ZT_EQ(memcmp(a, b, size), 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		ZT_TRUE(on_device(mm, addr + i * ZD_PAGE_SIZE, unit));
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, NPAGES);

	/* the device writes its own memory, through its page table */
	fill(a, size, 77);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_WRITE, addr, a, NPAGES, &k), 0);
	ZT_EQU(k.faults, 0);
	memset(b, 0, size);
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_READ, addr, b, NPAGES, &k), 0);
	ZT_EQU(k.faults, 0);
	ZT_EQ(memcmp(a, b, size), 0);

	if (unit >= 2) {
		/* coherent: the CPU reads device memory in place */
		cpu_read_expect(mm, addr, b, a, size);
		ZT_TRUE(on_device(mm, addr, unit));
		cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_SYS, addr, NULL, NPAGES, &k);
	}
	/* private: each CPU access faults its page back (migrate_to_ram) */
	cpu_read_expect(mm, addr, b, a, size);
	for (unsigned long i = 0; i < NPAGES; i++)
		ZT_TRUE(!on_device(mm, addr + i * ZD_PAGE_SIZE, unit));
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, 0);
	ZT_EQU(st.cfree, NPAGES);
	ZT_EQU(st.nr_page_free, NPAGES);

	ZT_EQ(zd_dmirror_close(m), 0);
	ZT_EQ(zd_munmap(mm, addr, size), 0);
	free(a);
	free(b);
}

static void test_migrate(void **state)
{
	dm_run_units(state, migrate_round_trip, 0, 2);	/* a private unit, a coherent one */
}

/* RELEASE and close evict every device page back to RAM with its data. */
static void evict(struct dm *d, int unit, bool release)
{
	struct zd_mm *mm = d->fx->mm;
	struct zd_dmirror_device *dev = zd_dmirror_device(d->mod, unit);
	unsigned long size = NPAGES * ZD_PAGE_SIZE, addr = zt_map_anon(mm, size);
	unsigned char *a = malloc(size), *b = malloc(size);
	struct zd_hmm_dmirror_cmd k;
	struct zd_dmirror_stats st;
	struct zd_dmirror *m;

	ZT_EQ(zd_dmirror_open(dev, mm, &m), 0);
	fill(a, size, 9);
	ZT_EQ(zd_cpu_write(mm, addr, a, size), 0);
	cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, addr, b, NPAGES, &k);
	if (release)
		ZT_EQ(cmd(m, ZD_HMM_DMIRROR_RELEASE, addr, NULL, NPAGES, &k), 0);
	ZT_EQ(zd_dmirror_close(m), 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		ZT_TRUE(!on_device(mm, addr + i * ZD_PAGE_SIZE, unit));
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, release ? NPAGES : 0);	/* a removed chunk's frees are not counted */
	ZT_EQU(st.nr_chunks, release ? 0 : 1);
	cpu_read_expect(mm, addr, b, a, size);
	/* write permission survives the round trip */
	ZT_EQ(zd_cpu_write(mm, addr, a, 1), 0);
	ZT_EQ(zd_munmap(mm, addr, size), 0);
	free(a);
	free(b);
}

static void test_release_evicts(void **state)
{
	struct dm d = dm_load(state);

	evict(&d, 0, true);
	evict(&d, 2, true);
	dm_unload(&d);
}

static void test_close_evicts(void **state)
{
	struct dm d = dm_load(state);

	evict(&d, 1, false);
	evict(&d, 3, false);
	dm_unload(&d);
}

/*
 * A THP migrates whole into one PMD-order device folio (from a chunk
 * added for the large request) and comes back whole: one folio_free of
 * 512 pages; FAIL_ALLOC makes the large allocation fail once: small
 * pages then, and the THP is split.
 */
static void thp_round_trip(struct dm *d, int unit)
{
	struct zd_mm *mm = d->fx->mm;
	struct zd_dmirror_device *dev = zd_dmirror_device(d->mod, unit);
	unsigned long size = 2ul << 20, npages = size >> ZD_PAGE_SHIFT;
	unsigned long addr = zt_map_thp(mm, size);
	unsigned char *a = malloc(size), *b = malloc(size);
	struct zd_hmm_dmirror_cmd k;
	struct zd_dmirror_stats st, st0;
	struct zd_dmirror *m;
	int level;

	ZT_EQ(zd_dmirror_open(dev, mm, &m), 0);
	fill(a, size, 11);
	ZT_EQ(zd_cpu_write(mm, addr, a, size), 0);
	ZT_TRUE(zt_folio_at(mm, addr, &level) != NULL);
	ZT_EQ(level, 2);
	zd_dmirror_device_stats(dev, &st0);

	memset(b, 0, size);
	cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, addr, b, npages, &k);
	ZT_EQ(memcmp(a, b, size), 0);
	ZT_TRUE(on_device(mm, addr, unit));
	{
		/* one device folio: present (coherent) or by its device-private entry */
		struct zd_folio *f = zt_folio_at(mm, addr, NULL);

		if (!f)
			f = zd_page_folio(zd_pfn_to_page(d->fx->sys,
							 zd_swp_offset(zt_entry_at(mm, addr, NULL))));
		ZT_EQU(zd_folio_nr_pages(f), npages);
		ZT_TRUE(zd_folio_is_zone_device(f));
	}
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, npages);
	ZT_EQU(st.nr_chunks, st0.nr_chunks + 1);

	if (unit >= 2) {
		cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_SYS, addr, NULL, npages, &k);
	}
	cpu_read_expect(mm, addr, b, a, size);	/* private: one fault brings it all */
	ZT_TRUE(!on_device(mm, addr, unit));
	ZT_EQU(zd_folio_nr_pages(zt_folio_at(mm, addr, NULL)), npages);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, 0);
	ZT_EQU(st.nr_page_free, st0.nr_page_free + 1);

	/*
	 * FAIL_ALLOC: the large allocation fails once; the driver gives
	 * small pages and migrate_vma_pages splits the THP (now PTE-mapped).
	 */
	ZT_EQ(cmd(m, ZD_HMM_DMIRROR_FLAGS, addr, NULL, ZD_HMM_DMIRROR_FLAG_FAIL_ALLOC, &k), 0);
	memset(b, 0, size);
	cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, addr, b, npages, &k);
	ZT_EQ(memcmp(a, b, size), 0);
	ZT_TRUE(on_device(mm, addr, unit));
	ZT_TRUE(on_device(mm, addr + size - ZD_PAGE_SIZE, unit));
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, npages);
	if (unit >= 2) {
		ZT_EQU(zd_folio_nr_pages(zt_folio_at(mm, addr, NULL)), 1);
		cmd_all(m, ZD_HMM_DMIRROR_MIGRATE_TO_SYS, addr, NULL, npages, &k);
	}
	cpu_read_expect(mm, addr, b, a, size);	/* private: one fault a page */
	ZT_TRUE(!on_device(mm, addr, unit));
	ZT_EQU(zd_folio_nr_pages(zt_folio_at(mm, addr, NULL)), 1);
	zd_dmirror_device_stats(dev, &st);
	ZT_EQU(st.allocated, 0);
	ZT_EQ(zd_check_invariants(d->fx->sys), 0);

	ZT_EQ(zd_dmirror_close(m), 0);
	ZT_EQ(zd_munmap(mm, addr, size), 0);
	free(a);
	free(b);
}

static void test_migrate_thp(void **state)
{
	dm_run_units(state, thp_round_trip, 0, 2);	/* a private unit, a coherent one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_units),
		ZT_MM_TEST(test_alloc_free),
		ZT_MM_TEST(test_release),
		ZT_MM_TEST(test_alloc_fault_injection),
		ZT_MM_TEST(test_read_write),
		ZT_MM_TEST(test_read_zero_then_write),
		ZT_MM_TEST(test_errors),
		ZT_MM_TEST(test_two_mms),
		ZT_MM_TEST(test_migrate),
		ZT_MM_TEST(test_release_evicts),
		ZT_MM_TEST(test_close_evicts),
		ZT_MM_TEST(test_migrate_thp),
	};

	return cmocka_run_group_tests_name("dmirror", tests, NULL, NULL);
}
