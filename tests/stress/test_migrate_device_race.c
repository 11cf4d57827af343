// SPDX-License-Identifier: MIT
/*
 * test_migrate_device_race - CPU faults against migration to the device.
 *
 * A migrator thread moves a range of anonymous memory to device-private
 * memory over and over (migrate_vma with SELECT_SYSTEM, and sometimes
 * SELECT_DEVICE_PRIVATE too, so device pages move to other device pages)
 * while two CPU threads keep a counter in each page: read it, check it,
 * write it plus one. Each access to a device-private page faults it back
 * through migrate_to_ram (migrate_vma with the fault page); each access to
 * a page being migrated waits on its migration entry. No increment may be
 * lost (R12.10): at the end every counter equals the number of increments
 * its thread made, the invariant walk is clean, every device page was
 * freed exactly once and every RAM page is back.
 *
 *   [ p0 ][ p1 ][ p2 ] ... [ p15 ]   counters; thread k owns p(i), i % 2 == k
 *   migrator --migrate_vma--> device      CPU threads --fault--> RAM
 *
 * A second run does the same over a THP (counters 32 pages apart), every
 * other round with SELECT_COMPOUND: the folio moves whole or is split;
 * now and then the range is brought back to RAM (migrate_vma from the
 * device's side) and MADV_COLLAPSE makes it a THP again.
 *
 * Rounds: 3000 (THP: 1000) migrations plain, divided by 10 under ASan and TSan;
 * ZD_TEST_SCALE=<percent> scales them (helpers.c).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate_device_drv.h"
#include <zonedev/check.h>
#include <zonedev/mm.h>
#include <zonedev/sync/thread.h>

#define PG ZD_PAGE_SIZE
#define NPAGES 16
#define NCPU 2

struct race {
	struct zd_mm *mm;
	struct tdrv *t;
	unsigned long base, rounds, stride, len;
	bool thp;
	struct zt_barrier start;
	_Atomic int stop;
	_Atomic long errors, migrated, collapsed, increments[NPAGES];
};

struct cpu_arg {
	struct race *r;
	int k;
};

static void *cpu_thread(void *p)
{
	struct cpu_arg *ca = p;
	struct race *r = ca->r;
	uint64_t expect[NPAGES] = { 0 };

	zt_barrier_wait(&r->start);
	while (!zd_atomic_load_acquire(&r->stop)) {
		for (int i = ca->k; i < NPAGES; i += NCPU) {
			unsigned long a = r->base + (unsigned long)i * r->stride;
			uint64_t v = ~0ull;

			if (zd_cpu_read(r->mm, a, &v, sizeof(v)) || v != expect[i]) {
				zd_atomic_fetch_add_relaxed(&r->errors, 1l);
				fprintf(stderr, "page %d: read %llu, expected %llu\n", i,
					(unsigned long long)v, (unsigned long long)expect[i]);
				return NULL;
			}
			v++;
			if (zd_cpu_write(r->mm, a, &v, sizeof(v))) {
				zd_atomic_fetch_add_relaxed(&r->errors, 1l);
				return NULL;
			}
			expect[i] = v;
			zd_atomic_fetch_add_relaxed(&r->increments[i], 1l);
		}
	}
	return NULL;
}

static void *migrator_thread(void *p)
{
	struct race *r = p;

	zt_barrier_wait(&r->start);
	for (unsigned long n = 0; n < r->rounds; n++) {
		unsigned long flags = ZD_MIGRATE_VMA_SELECT_SYSTEM |
				      (n % 4 == 3 ? ZD_MIGRATE_VMA_SELECT_DEVICE_PRIVATE : 0) |
				      (r->thp && n % 2 == 0 ? ZD_MIGRATE_VMA_SELECT_COMPOUND : 0);
		long before = zd_atomic_load_relaxed(&r->increments[n % NPAGES]);

		/* Now and then all of it back to RAM, and a THP again. */
		if (r->thp && n % 8 == 7 &&
		    td_migrate_to_ram_range(r->t, r->mm, r->base, r->base + r->len) >= 0 &&
		    !zd_madvise(r->mm, r->base, r->len, ZD_MADV_COLLAPSE))
			zd_atomic_fetch_add_relaxed(&r->collapsed, 1l);
		long done = td_migrate_to_dev(r->t, r->mm, r->base, r->base + r->len, flags, NULL);

		if (done < 0) {
			zd_atomic_fetch_add_relaxed(&r->errors, 1l);
			break;
		}
		zd_atomic_fetch_add_relaxed(&r->migrated, done);
		/* Let the CPU threads fault some of it back before the next round. */
		for (int spin = 0; spin < 64 && zd_atomic_load_relaxed(&r->increments[n % NPAGES]) ==
						  before; spin++)
			sched_yield();
	}
	zd_atomic_store_release(&r->stop, 1);
	return NULL;
}

static void race(struct zt_fixture *fx, bool thp)
{
	struct zd_thread *cpu[NCPU], *mig;
	struct cpu_arg ca[NCPU];
	struct race r = { .mm = fx->mm, .thp = thp };
	struct tdrv t;

	td_create(&t, fx->sys, ZD_MEMORY_DEVICE_PRIVATE, 4ul << 20);
	r.t = &t;
	r.rounds = zt_iters(thp ? 1000 : 3000, 10);
	r.len = thp ? ZD_PMD_SIZE : NPAGES * PG;
	r.stride = r.len / NPAGES;
	r.base = thp ? zt_map_thp(fx->mm, r.len) : zt_map_anon(fx->mm, r.len);
	for (int i = 0; i < NPAGES; i++) {
		uint64_t zero = 0;

		ZT_EQ(zd_cpu_write(fx->mm, r.base + (unsigned long)i * r.stride, &zero,
				   sizeof(zero)), 0);
	}
	zt_barrier_init(&r.start, NCPU + 1);
	for (int k = 0; k < NCPU; k++) {
		ca[k] = (struct cpu_arg){ .r = &r, .k = k };
		ZT_EQ(zd_thread_create(&cpu[k], cpu_thread, &ca[k]), 0);
	}
	ZT_EQ(zd_thread_create(&mig, migrator_thread, &r), 0);
	zd_thread_join(mig);
	for (int k = 0; k < NCPU; k++)
		zd_thread_join(cpu[k]);
	ZT_EQ(zd_atomic_load_relaxed(&r.errors), 0);
	print_message("%lu rounds: %ld entries migrated to the device, %lu faulted back, "
		      "%ld collapses\n", r.rounds, zd_atomic_load_relaxed(&r.migrated),
		      zd_atomic_load_relaxed(&t.to_ram), zd_atomic_load_relaxed(&r.collapsed));
	ZT_TRUE(zd_atomic_load_relaxed(&r.migrated) > 0);
	ZT_TRUE(zd_atomic_load_relaxed(&t.to_ram) > 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	for (int i = 0; i < NPAGES; i++) {
		uint64_t v = ~0ull;

		ZT_EQ(zd_cpu_read(fx->mm, r.base + (unsigned long)i * r.stride, &v, sizeof(v)), 0);
		ZT_EQU(v, zd_atomic_load_relaxed(&r.increments[i]));
	}
	ZT_EQ(zd_munmap(fx->mm, r.base, r.len), 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	td_destroy(&t);
}

static void test_faults_against_migration(void **state)
{
	race(ZT_FX(state), false);
}

/*
 * The same over a THP: rounds alternate SELECT_COMPOUND (the folio moves
 * whole, and comes back whole) with per-page rounds (it is split).
 */
static void test_faults_against_thp_migration(void **state)
{
	race(ZT_FX(state), true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_faults_against_migration),
		ZT_MM_TEST(test_faults_against_thp_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
