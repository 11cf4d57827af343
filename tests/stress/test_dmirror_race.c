// SPDX-License-Identifier: MIT
/*
 * test_dmirror_race - the HMM test device (lib/test_hmm.c) under
 * concurrent CPU writes, unmaps and remaps.
 *
 * A device thread loops dmirror commands over a range (migrate to the
 * device, snapshot, migrate back; a coherent unit also reads), ignoring
 * the errors a racing unmap causes, while the CPU thread works on the
 * same range and now and then unmaps its upper half and maps it again.
 * Private unit: the CPU writes whole pages with a new byte each time
 * (faulting device pages back); no write may be lost or torn: at the end
 * every page holds the last byte written to it (0 after a remap).
 * Coherent unit: the CPU reads device memory in place, so it only reads
 * here (a device copy racing a CPU store to the same page is a real data
 * race, with no defined result in the kernel either); every read sees
 * the whole page it wrote before the device thread started. The machine
 * checks itself at teardown (no report, no leak). Label "concurrency"
 * (TSan).
 *
 *   CPU:     write (or read) page i ... munmap/mmap [half, end) ...
 *   device:  MIGRATE_TO_DEV | SNAPSHOT | MIGRATE_TO_SYS (| READ)
 *   end:     page i == last byte written to it
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/dmirror.h>

#define PG ZD_PAGE_SIZE
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)
#define NPAGES 32

struct race {
	struct zd_dmirror *m;
	unsigned long addr;
	int unit;
	_Atomic int stop;
	_Atomic long ops, done;
	unsigned char *buf;	/* the device thread's buffer */
};

static void *device_thread(void *arg)
{
	struct race *r = arg;
	static const unsigned int cmds[] = {
		ZD_HMM_DMIRROR_MIGRATE_TO_DEV, ZD_HMM_DMIRROR_SNAPSHOT,
		ZD_HMM_DMIRROR_MIGRATE_TO_SYS, ZD_HMM_DMIRROR_READ,
	};
	unsigned int n = r->unit >= 2 ? 4 : 3;
	unsigned long i = 0;

	while (!zd_atomic_load_relaxed(&r->stop)) {
		struct zd_hmm_dmirror_cmd c = {
			.addr = r->addr, .ptr = (uintptr_t)r->buf, .npages = NPAGES,
		};

		if (!zd_dmirror_ioctl(r->m, cmds[i++ % n], &c))
			zd_atomic_fetch_add_relaxed(&r->done, 1);
		zd_atomic_fetch_add_relaxed(&r->ops, 1);
	}
	return NULL;
}

static void race(void **state, int unit)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_dmirror_module *mod;
	unsigned char last[NPAGES] = { 0 }, page[PG];
	unsigned long iters = zt_iters(20000, 10), half = NPAGES / 2 * PG, out = 0;
	uint64_t seed = 12345;
	struct race r = { .unit = unit };
	struct zd_thread *t;

	ZT_EQ(zd_dmirror_init(fx->sys, true, &mod), 0);
	r.addr = zt_map_anon(fx->mm, NPAGES * PG);
	r.buf = malloc(NPAGES * PG);
	ZT_TRUE(r.buf != NULL);
	ZT_EQ(zd_dmirror_open(zd_dmirror_device(mod, unit), fx->mm, &r.m), 0);
	for (unsigned long i = 0; i < NPAGES; i++) {
		last[i] = (unsigned char)(2 * i + 1);
		memset(page, last[i], PG);
		ZT_EQ(zd_cpu_write(fx->mm, r.addr + i * PG, page, PG), 0);
	}
	ZT_EQ(zd_thread_create(&t, device_thread, &r), 0);

	/* At least @iters CPU steps, and until the device has run its commands a while. */
	for (unsigned long it = 1; it <= iters || zd_atomic_load_relaxed(&r.ops) < 2000; it++) {
		unsigned long i;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = (seed >> 33) % NPAGES;
		if (it % 97 == 0) {
			ZT_EQ(zd_munmap(fx->mm, r.addr + half, half), 0);
			ZT_EQ(zd_mmap(fx->mm, r.addr + half, half, RW, ANON | ZD_MAP_FIXED, NULL, 0, 0,
				      &out), 0);
			memset(last + NPAGES / 2, 0, NPAGES / 2);
			continue;
		}
		if (unit >= 2) {
			ZT_EQ(zd_cpu_read(fx->mm, r.addr + i * PG, page, PG), 0);
			ZT_EQ(page[0], last[i]);
			ZT_EQ(page[PG - 1], last[i]);
			continue;
		}
		last[i] = (unsigned char)(it | 1);
		memset(page, last[i], PG);
		ZT_EQ(zd_cpu_write(fx->mm, r.addr + i * PG, page, PG), 0);
	}
	zd_atomic_store_relaxed(&r.stop, 1);
	zd_thread_join(t);
	ZT_TRUE(zd_atomic_load_relaxed(&r.ops) > 0);

	/* No CPU write lost or torn, whatever the device did. */
	for (unsigned long i = 0; i < NPAGES; i++) {
		ZT_EQ(zd_cpu_read(fx->mm, r.addr + i * PG, page, PG), 0);
		for (unsigned long b = 0; b < PG; b++)
			if (page[b] != last[i])
				ZT_EQ(page[b], last[i]);
	}
	ZT_EQ(zd_dmirror_close(r.m), 0);
	zd_dmirror_exit(mod);
	ZT_EQ(zd_munmap(fx->mm, r.addr, NPAGES * PG), 0);
	free(r.buf);
}

static void test_dmirror_race_private(void **state)
{
	race(state, 0);
}

static void test_dmirror_race_coherent(void **state)
{
	race(state, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_dmirror_race_private),
		ZT_MM_TEST(test_dmirror_race_coherent),
	};

	return cmocka_run_group_tests_name("dmirror_race", tests, NULL, NULL);
}
