// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_nonpresent.c - non-present entries under mprotect and
 * CPU faults: migration entries (change_pte_range), device-private
 * entries (change_pte_range, do_swap_page -> migrate_to_ram) and
 * device-exclusive entries (remove_device_exclusive_entry).
 *
 * Entries HMM would create are built here as the kernel leaves them
 * (migrate_vma_pages, make_device_exclusive), through the mm internals.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/gup.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define MiB (1ul << 20)
#define MS (1000ull * 1000)
#define RW (ZD_PROT_READ | ZD_PROT_WRITE)
#define ANON (ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS)

/* ---- change_pte_range: mprotect of non-present entries ---- */

/*
 * A writable migration entry loses write on every protection change, even
 * one that keeps PROT_WRITE: an anonymous folio's entry becomes
 * READ_EXCLUSIVE (the page stays exclusive to this mapping, so the
 * restored PTE may be written without a copy), a file folio's READ.
 */
static void test_change_pte_range_migration_entry(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_folio *anon0, *anon1, *shm;
	struct zd_mm *mm = NULL;
	unsigned long a, s = 0;

	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, 2 * PG);
	ZT_EQ(zd_mmap(mm, 0, PG, RW, ZD_MAP_SHARED | ZD_MAP_ANONYMOUS, NULL, 0, 0, &s), 0);
	ZT_EQ(zd_cpu_write(mm, a, "anon0", 6), 0);
	ZT_EQ(zd_cpu_write(mm, a + PG, "anon1", 6), 0);
	ZT_EQ(zd_cpu_write(mm, s, "shmem", 6), 0);
	anon0 = zt_folio_at(mm, a, NULL);
	anon1 = zt_folio_at(mm, a + PG, NULL);
	shm = zt_folio_at(mm, s, NULL);
	ZT_TRUE(anon0 && anon1 && shm);
	ZT_TRUE(zd_folio_test_anon(anon0) && !zd_folio_test_anon(shm));

	zd_folio_get(anon0);
	zd_folio_get(anon1);
	zd_folio_get(shm);
	zd_folio_lock(anon0);
	zd_folio_lock(anon1);
	zd_folio_lock(shm);
	ZT_TRUE(zd_try_to_migrate(anon0));
	ZT_TRUE(zd_try_to_migrate(anon1));
	ZT_TRUE(zd_try_to_migrate(shm));
	ZT_EQ(zd_swp_type(zt_entry_at(mm, a, NULL)), ZD_SWP_MIGRATION_WRITE);
	ZT_EQ(zd_swp_type(zt_entry_at(mm, a + PG, NULL)), ZD_SWP_MIGRATION_WRITE);
	ZT_EQ(zd_swp_type(zt_entry_at(mm, s, NULL)), ZD_SWP_MIGRATION_WRITE);

	ZT_EQ(zd_mprotect(mm, a, PG, ZD_PROT_READ), 0);
	ZT_EQU(zt_entry_at(mm, a, NULL),
	       zd_swp_entry(ZD_SWP_MIGRATION_READ_EXCLUSIVE, zd_folio_pfn(anon0)));
	/* PROT_WRITE kept (only PROT_EXEC added): downgraded all the same */
	ZT_EQ(zd_mprotect(mm, a + PG, PG, RW | ZD_PROT_EXEC), 0);
	ZT_EQU(zt_entry_at(mm, a + PG, NULL),
	       zd_swp_entry(ZD_SWP_MIGRATION_READ_EXCLUSIVE, zd_folio_pfn(anon1)));
	ZT_EQ(zd_mprotect(mm, s, PG, ZD_PROT_READ), 0);
	ZT_EQU(zt_entry_at(mm, s, NULL), zd_swp_entry(ZD_SWP_MIGRATION_READ, zd_folio_pfn(shm)));

	/* Given up: the anonymous pages come back read-only but still exclusive. */
	zd_remove_migration_ptes(anon0, anon0);
	zd_remove_migration_ptes(anon1, anon1);
	zd_remove_migration_ptes(shm, shm);
	ZT_TRUE(!zd_pte_write(zt_entry_at(mm, a, NULL)) && !zd_pte_write(zt_entry_at(mm, a + PG, NULL)));
	ZT_TRUE(zd_page_test_flag(&anon0->page, ZD_PG_anon_exclusive));
	ZT_TRUE(zd_page_test_flag(&anon1->page, ZD_PG_anon_exclusive));
	ZT_EQ(zd_folio_mapcount(anon0), 1);
	ZT_EQ(zd_folio_mapcount(shm), 1);
	zd_folio_unlock(anon0);
	zd_folio_unlock(anon1);
	zd_folio_unlock(shm);
	zd_folio_put(anon0);
	zd_folio_put(anon1);
	zd_folio_put(shm);
	/* The write reuses the exclusive page in place. */
	ZT_EQ(zd_cpu_write(mm, a + PG, "again", 6), 0);
	ZT_PTR_EQ(zt_folio_at(mm, a + PG, NULL), anon1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
}

/*
 * A writable device-private entry becomes readable on every protection
 * change, PROT_WRITE kept or not; its reference and mapcount stay.
 */
static void test_change_pte_range_device_private(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_devmem_pool *pool = NULL;
	struct zd_folio *p0, *p1;
	struct zd_mm *mm = NULL;
	unsigned long a;
	int ref;

	ZT_EQ(zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0, &pool), 0);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, 2 * PG);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &p0), 0);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &p1), 0);
	zt_map_device_private(mm, a, p0);
	zt_map_device_private(mm, a + PG, p1);
	ref = zd_folio_ref_count(p0);

	/* A change that keeps PROT_WRITE (adds PROT_EXEC); an unchanged one is no change. */
	ZT_EQ(zd_mprotect(mm, a, PG, RW), 0);
	ZT_EQU(zt_entry_at(mm, a, NULL), zd_swp_entry(ZD_SWP_DEVICE_PRIVATE_WRITE, zd_folio_pfn(p0)));
	ZT_EQ(zd_mprotect(mm, a, PG, RW | ZD_PROT_EXEC), 0);
	ZT_EQU(zt_entry_at(mm, a, NULL), zd_swp_entry(ZD_SWP_DEVICE_PRIVATE_READ, zd_folio_pfn(p0)));
	ZT_EQ(zd_mprotect(mm, a + PG, PG, ZD_PROT_READ), 0);
	ZT_EQU(zt_entry_at(mm, a + PG, NULL), zd_swp_entry(ZD_SWP_DEVICE_PRIVATE_READ, zd_folio_pfn(p1)));
	ZT_EQ(zd_folio_ref_count(p0), ref);
	ZT_EQ(zd_folio_mapcount(p0), 1);
	ZT_EQ(zd_folio_mapcount(p1), 1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000 * MS), 0);
}

/* ---- migration_entry_wait ---- */

struct blocked_read {
	struct zd_mm *mm;
	unsigned long addr;
	char buf[8];
	_Atomic int ret;
};

static void *blocked_read_fn(void *arg)
{
	struct blocked_read *r = arg;

	zd_atomic_store_release(&r->ret, zd_cpu_read(r->mm, r->addr, r->buf, sizeof(r->buf)));
	return NULL;
}

/*
 * A CPU access that meets a migration entry sleeps until the migrating
 * thread unlocks the folio, and holds no reference meanwhile (5.19's
 * migration_entry_wait_on_locked): a waiter's reference would make the
 * migration fail its refcount check, so a page under constant access
 * could never migrate.
 */
static void test_migration_entry_wait_takes_no_reference(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct blocked_read r;
	struct zd_thread *t;
	struct zd_folio *folio;
	struct zd_mm *mm = NULL;
	int ref, ref_waiting, ret_waiting, spins = 0;
	bool queued;

	zd_atomic_store_relaxed(&r.ret, 1);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	r.mm = mm;
	r.addr = zt_map_anon(mm, PG);
	ZT_EQ(zd_cpu_write(mm, r.addr, "moving", 7), 0);
	folio = zt_folio_at(mm, r.addr, NULL);
	zd_folio_get(folio);
	zd_folio_lock(folio);
	ZT_TRUE(zd_try_to_migrate(folio));
	ZT_EQ(zd_swp_type(zt_entry_at(mm, r.addr, NULL)), ZD_SWP_MIGRATION_WRITE);
	ref = zd_folio_ref_count(folio);
	ZT_EQ(ref, 1);		/* ours: the mapping's went with the entry */

	ZT_EQ(zd_thread_create(&t, blocked_read_fn, &r), 0);
	/* The reader is queued once it has marked the folio as waited on. */
	while (!zd_page_test_flag(&folio->page, ZD_PG_waiters) && spins++ < 10000000)
		sched_yield();
	queued = zd_page_test_flag(&folio->page, ZD_PG_waiters);
	ref_waiting = zd_folio_ref_count(folio);
	ret_waiting = zd_atomic_load_acquire(&r.ret);

	/* Finish the migration (given up) before asserting: the reader must end. */
	zd_remove_migration_ptes(folio, folio);
	zd_folio_unlock(folio);
	zd_thread_join(t);
	ZT_TRUE(queued);
	ZT_EQ(ref_waiting, ref);
	ZT_EQ(ret_waiting, 1);	/* it was still waiting */
	ZT_EQ(zd_atomic_load_acquire(&r.ret), 0);
	ZT_EQ(memcmp(r.buf, "moving", 7), 0);
	zd_folio_put(folio);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_EQ(zd_folio_mapcount(folio), 1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
}

/* ---- remove_device_exclusive_entry ---- */

/*
 * A CPU access restores a present PTE (restore_exclusive_pte): old, as the
 * device's accesses set no accessed bit; writable only where
 * can_change_pte_writable allows (a writable VMA and an exclusive
 * anonymous page), and then dirty only if the folio is dirty. The entry's
 * reference and mapcount carry over.
 */
static void test_remove_device_exclusive_entry(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_folio *f[3];
	struct zd_mm *mm = NULL;
	unsigned long a;
	char buf[8];
	zd_pte_t e;

	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, 3 * PG);
	for (int i = 0; i < 3; i++) {
		ZT_EQ(zd_cpu_write(mm, a + (unsigned long)i * PG, "device", 7), 0);
		f[i] = zt_folio_at(mm, a + (unsigned long)i * PG, NULL);
	}
	/* page 1: made clean first (MADV_FREE cleans the PTE and the folio) */
	ZT_EQ(zd_madvise(mm, a + PG, PG, ZD_MADV_FREE), 0);
	ZT_TRUE(!zd_folio_test_flag(f[1], ZD_PG_dirty));
	/* written directly: the real call's GUP write would dirty page 1 again */
	for (int i = 0; i < 3; i++)
		zt_install_device_exclusive_entry(mm, a + (unsigned long)i * PG);
	ZT_TRUE(zd_folio_test_flag(f[0], ZD_PG_dirty));
	/* page 2: the VMA loses write; the entry itself is left as it is */
	ZT_EQ(zd_mprotect(mm, a + 2 * PG, PG, ZD_PROT_READ), 0);
	ZT_EQU(zt_entry_at(mm, a + 2 * PG, NULL),
	       zd_swp_entry(ZD_SWP_DEVICE_EXCLUSIVE, zd_folio_pfn(f[2])));

	/* The read faults (before the access itself marks the PTE young). */
	zd_mmap_read_lock(mm);
	for (int i = 0; i < 3; i++) {
		unsigned long ai = a + (unsigned long)i * PG;

		ZT_EQU(zd_handle_mm_fault(zd_vma_lookup(mm, ai), ai, 0), 0);
		ZT_EQ(zd_folio_ref_count(f[i]), 1);
		ZT_EQ(zd_folio_mapcount(f[i]), 1);
		ZT_TRUE(zd_page_test_flag(&f[i]->page, ZD_PG_anon_exclusive));
	}
	zd_mmap_read_unlock(mm);
	e = zt_entry_at(mm, a, NULL);
	ZT_EQU(e, zd_pfn_pte(zd_folio_pfn(f[0]), ZD_PTE_PRESENT | ZD_PTE_WRITE | ZD_PTE_DIRTY));
	e = zt_entry_at(mm, a + PG, NULL);
	ZT_EQU(e, zd_pfn_pte(zd_folio_pfn(f[1]), ZD_PTE_PRESENT | ZD_PTE_WRITE));
	e = zt_entry_at(mm, a + 2 * PG, NULL);
	ZT_EQU(e, zd_pfn_pte(zd_folio_pfn(f[2]), ZD_PTE_PRESENT));
	for (int i = 0; i < 3; i++) {
		ZT_EQ(zd_cpu_read(mm, a + (unsigned long)i * PG, buf, 7), 0);
		ZT_EQ(strcmp(buf, "device"), 0);
	}
	/* the write on page 2 faults and reuses the exclusive page */
	ZT_EQ(zd_cpu_write(mm, a + 2 * PG, "x", 1), -EFAULT);
	ZT_EQ(zd_mprotect(mm, a + 2 * PG, PG, RW), 0);
	ZT_EQ(zd_cpu_write(mm, a + 2 * PG, "x", 1), 0);
	ZT_PTR_EQ(zt_folio_at(mm, a + 2 * PG, NULL), f[2]);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
}

struct excl_reader {
	struct zd_mm *mm;
	unsigned long addr;
	_Atomic int done;
	int ret;
};

static void *excl_read(void *arg)
{
	struct excl_reader *r = arg;
	char c;

	r->ret = zd_cpu_read(r->mm, r->addr, &c, 1);
	zd_atomic_store_release(&r->done, 1);
	return NULL;
}

/*
 * The fault holds no PTL while it sleeps on the folio lock, so it takes a
 * reference first (folio_try_get): while another thread holds the lock,
 * the faulting thread's reference is visible.
 */
static void test_remove_device_exclusive_entry_folio_try_get(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct excl_reader r = { 0 };
	struct zd_thread *t = NULL;
	struct zd_folio *folio;
	int seen = 0, done_early;

	ZT_EQ(zd_mm_create(sys, &r.mm), 0);
	r.addr = zt_map_anon(r.mm, PG);
	ZT_EQ(zd_cpu_write(r.mm, r.addr, "x", 1), 0);
	folio = zt_folio_at(r.mm, r.addr, NULL);
	zt_make_device_exclusive(r.mm, r.addr);

	zd_folio_lock(folio);
	ZT_EQ(zd_thread_create(&t, excl_read, &r), 0);
	for (int i = 0; i < 10000 && seen != 2; i++) {	/* up to 10 s */
		seen = zd_folio_ref_count(folio);
		if (seen != 2)
			zt_sleep_ms(1);
	}
	done_early = zd_atomic_load_acquire(&r.done);
	zd_folio_unlock(folio);
	zd_thread_join(t);
	ZT_EQ(seen, 2);
	ZT_EQ(done_early, 0);
	ZT_EQ(r.ret, 0);
	ZT_EQ(zd_folio_ref_count(folio), 1);
	ZT_TRUE(zd_pte_present(zt_entry_at(r.mm, r.addr, NULL)));
	zd_mm_destroy(r.mm);
}

/* ---- do_swap_page -> migrate_to_ram ---- */

/*
 * The built-in pool cannot migrate: its migrate_to_ram returns
 * VM_FAULT_SIGBUS (R6.2). The CPU access gets SIGBUS (the model's -EIO),
 * GUP gets -EFAULT (vm_fault_to_errno), and the entry, its reference and
 * mapcount stay as they were.
 */
static void test_do_swap_page_migrate_to_ram_sigbus(void **state)
{
	struct zd_system *sys = ZT_FX(state)->sys;
	struct zd_devmem_pool *pool = NULL;
	struct zd_folio *priv;
	struct zd_page *page = NULL;
	struct zd_mm *mm = NULL;
	unsigned long a;
	zd_pte_t e;
	char c;
	int ref;

	ZT_EQ(zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0, &pool), 0);
	ZT_EQ(zd_mm_create(sys, &mm), 0);
	a = zt_map_anon(mm, PG);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &priv), 0);
	zt_map_device_private(mm, a, priv);
	e = zt_entry_at(mm, a, NULL);
	ref = zd_folio_ref_count(priv);

	zd_mmap_read_lock(mm);
	ZT_EQU(zd_handle_mm_fault(zd_vma_lookup(mm, a), a, 0), ZD_VM_FAULT_SIGBUS);
	zd_mmap_read_unlock(mm);
	ZT_EQ(zd_cpu_read(mm, a, &c, 1), -EIO);
	ZT_EQ(zd_cpu_write(mm, a, "x", 1), -EIO);
	ZT_EQ(zd_get_user_pages_unlocked(mm, a, 1, &page, 0), -EFAULT);
	ZT_EQU(zt_entry_at(mm, a, NULL), e);
	ZT_EQ(zd_folio_ref_count(priv), ref);
	ZT_EQ(zd_folio_mapcount(priv), 1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000 * MS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_change_pte_range_migration_entry),
		ZT_TEST(test_migration_entry_wait_takes_no_reference),
		ZT_TEST(test_change_pte_range_device_private),
		ZT_TEST(test_remove_device_exclusive_entry),
		ZT_TEST(test_remove_device_exclusive_entry_folio_try_get),
		ZT_TEST(test_do_swap_page_migrate_to_ram_sigbus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
