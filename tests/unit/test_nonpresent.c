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

static unsigned long map_anon(struct zd_mm *mm, unsigned long len)
{
	unsigned long a = 0;

	ZT_EQ(zd_mmap(mm, 0, len, RW, ANON, NULL, 0, 0, &a), 0);
	return a;
}

static zd_pte_t entry_at(struct zd_mm *mm, unsigned long addr)
{
	zd_pte_t e = 0;
	int lvl = 0;

	zd_follow_entry(mm, addr, &e, &lvl);
	return e;
}

/*
 * What migrate_vma_pages leaves for a page moved to device-private memory:
 * a writable device-private entry holding one reference and one mapcount
 * of the anonymous device folio (R6.6).
 */
static void map_device_private(struct zd_mm *mm, unsigned long addr, struct zd_folio *folio)
{
	struct zd_vm_area_struct *vma;
	_Atomic zd_pte_t *slot = NULL;
	bool busy = true;

	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, addr);
	if (vma && zd_vma_is_anonymous(vma) && !_zd_anon_vma_prepare(vma))
		slot = _zd_walk(mm, addr, ZD_LVL_PTE, true);
	if (slot) {
		zd_spin_lock(_zd_pte_lockptr(slot));
		busy = !zd_pte_none(_zd_read_entry(slot));
		if (!busy) {
			_zd_folio_add_new_anon_rmap(folio, vma, addr, ZD_LVL_PTE);
			_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1);
			_zd_set_entry(slot, zd_swp_entry(ZD_SWP_DEVICE_PRIVATE_WRITE,
							 zd_folio_pfn(folio)));
		}
		zd_spin_unlock(_zd_pte_lockptr(slot));
	}
	zd_mmap_read_unlock(mm);
	ZT_TRUE(slot != NULL);
	ZT_TRUE(!busy);
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
	a = map_anon(mm, PG);
	ZT_EQ(zd_devmem_pool_alloc(pool, 0, &priv), 0);
	map_device_private(mm, a, priv);
	e = entry_at(mm, a);
	ref = zd_folio_ref_count(priv);

	zd_mmap_read_lock(mm);
	ZT_EQU(zd_handle_mm_fault(zd_vma_lookup(mm, a), a, 0), ZD_VM_FAULT_SIGBUS);
	zd_mmap_read_unlock(mm);
	ZT_EQ(zd_cpu_read(mm, a, &c, 1), -EIO);
	ZT_EQ(zd_cpu_write(mm, a, "x", 1), -EIO);
	ZT_EQ(zd_get_user_pages_unlocked(mm, a, 1, &page, 0), -EFAULT);
	ZT_EQU(entry_at(mm, a), e);
	ZT_EQ(zd_folio_ref_count(priv), ref);
	ZT_EQ(zd_folio_mapcount(priv), 1);
	ZT_EQ(zd_check_invariants(sys), 0);
	zd_mm_destroy(mm);
	ZT_EQ(zd_devmem_pool_destroy(pool, 2000 * MS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_TEST(test_do_swap_page_migrate_to_ram_sigbus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
