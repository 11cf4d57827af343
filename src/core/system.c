// SPDX-License-Identifier: MIT
/*
 * src/core/system.c - the machine: creation, options, statistics, destroy.
 *
 * Models what boot (mm_core_init, free_area_init) and the global mm
 * state provide in the kernel, gathered in one object so that no state
 * is global: several machines can live side by side in one process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void zd_system_options_init(struct zd_system_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->ram_size = 64ull << 20;
	opts->scheme = ZD_SCHEME_ZERO;
	opts->check = ZD_CHECK_CHEAP;
	opts->data = ZD_DATA_REAL;
	opts->seed = 1;
	for (int i = 0; i < ZD_FAULT_NR_SITES; i++)
		opts->fault[i].times = -1;
}

static int validate(const struct zd_system_options *o)
{
	uint64_t block = ZD_PAGE_SIZE << ZD_MAX_PAGE_ORDER;

	if (!o->ram_size || o->ram_size % block)
		return -EINVAL;
	if ((o->ram_size >> ZD_PAGE_SHIFT) + 1 > ZD_MEMMAP_ALIGN / sizeof(struct zd_page))
		return -EINVAL;
	if ((unsigned)o->scheme > ZD_SCHEME_ONE || (unsigned)o->check > ZD_CHECK_FULL ||
	    (unsigned)o->data > ZD_DATA_NONE)
		return -EINVAL;
	for (int i = 0; i < ZD_FAULT_NR_SITES; i++)
		if (o->fault[i].probability > 100)
			return -EINVAL;
	return 0;
}

int zd_system_create(const struct zd_system_options *opts, struct zd_system **out)
{
	struct zd_system *sys;
	int err;

	if (!opts || !out)
		return -EINVAL;
	err = validate(opts);
	if (err)
		return err;
	sys = calloc(1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	sys->opts = *opts;
	sys->ram_pages = opts->ram_size >> ZD_PAGE_SHIFT;
	sys->t0 = zd_monotonic_ns();
	zd_spin_lock_init(&sys->zone_lock);
	zd_spin_lock_init(&sys->pt_lock);
	zd_spin_lock_init(&sys->huge_zero_lock);
	zd_spin_lock_init(&sys->lru_lock);
	zd_spin_lock_init(&sys->pgmap_lock);
	zd_spin_lock_init(&sys->trace_lock);
	zd_spin_lock_init(&sys->report_lock);
	zd_spin_lock_init(&sys->fault_lock);
	zd_spin_lock_init(&sys->mmlist_lock);
	zd_list_init(&sys->mmlist);
	for (int l = 0; l < ZD_NR_LRU_LISTS; l++)
		zd_list_init(&sys->lru[l]);
	zd_atomic_init(&sys->trace, opts->trace);
	_zd_faultinj_init(sys);
	sys->waits = zd_wait_table_create();
	if (!sys->waits) {
		err = -ENOMEM;
		goto fail;
	}
	err = _zd_memmap_ram_init(sys);
	if (err)
		goto fail;
	_zd_buddy_init(sys);
	/*
	 * ZERO_PAGE: allocated before any fault site could fire, held by the
	 * system for its lifetime, never freed or pinned.
	 */
	{
		struct zd_fault_attr saved = sys->opts.fault[ZD_FAULT_PAGE_ALLOC];

		sys->opts.fault[ZD_FAULT_PAGE_ALLOC].probability = 0;
		sys->zero_folio = zd_folio_alloc(sys, ZD_GFP_ZERO, 0);
		sys->opts.fault[ZD_FAULT_PAGE_ALLOC] = saved;
	}
	if (!sys->zero_folio) {
		err = -ENOMEM;
		goto fail;
	}
	zd_page_set_flag(&sys->zero_folio->page, ZD_PG_reserved);
	*out = sys;
	return 0;
fail:
	_zd_memmap_ram_exit(sys);
	zd_wait_table_destroy(sys->waits);
	free(sys);
	return err;
}

static int ram_leaks(struct zd_system *sys, bool report)
{
	int found = 0;

	for (unsigned long pfn = 0; pfn < sys->ram_pages;) {
		struct zd_page *p = &sys->ram_memmap[pfn];

		if (zd_page_test_flag(p, ZD_PG_buddy)) {
			pfn += 1ul << p->private;
			continue;
		}
		if (&p[0] != &sys->zero_folio->page && !zd_page_is_tail(p)) {
			if (report && found < 16)
				_zd_report_page(sys, ZD_MISUSE_LEAK, "", p,
						"RAM folio still allocated (refcount %d)",
						zd_page_count(p));
			found++;
		}
		pfn += zd_page_is_tail(p) ? 1 : zd_folio_nr_pages((struct zd_folio *)p);
	}
	return found;
}

static int pgmap_leaks(struct zd_system *sys)
{
	int found = 0;

	zd_spin_lock(&sys->pgmap_lock);
	for (struct zd_dev_pagemap *pgmap = sys->pgmaps; pgmap; pgmap = pgmap->next) {
		struct zd_page *held = NULL;
		int free_ref = zd_pgmap_free_refcount(pgmap);

		for (int i = 0; i < pgmap->nr_range && !held; i++) {
			struct _zd_pgmap_range *rs = pgmap->rs[i];

			for (unsigned long p = 0; p < rs->nr_pages && !held; p++)
				if (!zd_page_is_tail(&rs->memmap[p]) &&
				    zd_page_ref_count(&rs->memmap[p]) != free_ref)
					held = &rs->memmap[p];
		}
		_zd_report_page(sys, ZD_MISUSE_TEARDOWN_HELD, "R1.12",
				held ? held : pgmap->rs[0]->memmap,
				"%s pgmap still registered%s", zd_memory_type_name((int)pgmap->type),
				held ? " with pages held" : "");
		found++;
	}
	zd_spin_unlock(&sys->pgmap_lock);
	return found;
}

int zd_system_leak_check(struct zd_system *sys)
{
	return ram_leaks(sys, true) + pgmap_leaks(sys);
}

void zd_system_destroy(struct zd_system *sys)
{
	if (!sys)
		return;
	zd_system_leak_check(sys);
	_zd_pgmaps_force_teardown(sys);
	_zd_pgmap_orphans_free(sys);
	zd_rcu_barrier();		/* no RCU callback may run after the system is gone */
	_zd_memmap_ram_exit(sys);
	_zd_pagetables_exit(sys);
	_zd_sections_free(sys);
	_zd_regions_free(sys);
	zd_wait_table_destroy(sys->waits);
	zd_spin_lock_destroy(&sys->zone_lock);
	zd_spin_lock_destroy(&sys->pt_lock);
	zd_spin_lock_destroy(&sys->huge_zero_lock);
	zd_spin_lock_destroy(&sys->lru_lock);
	zd_spin_lock_destroy(&sys->pgmap_lock);
	zd_spin_lock_destroy(&sys->trace_lock);
	zd_spin_lock_destroy(&sys->report_lock);
	zd_spin_lock_destroy(&sys->fault_lock);
	zd_spin_lock_destroy(&sys->mmlist_lock);
	free(sys);
}

const struct zd_system_options *zd_system_options(const struct zd_system *sys)
{
	return &sys->opts;
}

struct zd_wait_table *zd_system_wait_table(struct zd_system *sys)
{
	return sys->waits;
}

enum zd_scheme zd_system_scheme(const struct zd_system *sys)
{
	return sys->opts.scheme;
}

void zd_system_set_trace(struct zd_system *sys, struct zd_trace_sink *sink)
{
	zd_spin_lock(&sys->trace_lock);
	zd_atomic_store_relaxed(&sys->trace, sink);
	sys->opts.trace = sink;
	zd_spin_unlock(&sys->trace_lock);
	_zd_update_slow(sys);
}

void zd_system_get_stats(struct zd_system *sys, struct zd_system_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->ram_pages = sys->ram_pages;
	st->ram_free_pages = zd_nr_free_pages(sys);
	st->folio_allocs = zd_atomic_load_relaxed(&sys->st_folio_allocs);
	st->folio_frees = zd_atomic_load_relaxed(&sys->st_folio_frees);
	st->device_inits = zd_atomic_load_relaxed(&sys->st_device_inits);
	st->device_frees = zd_atomic_load_relaxed(&sys->st_device_frees);
	st->fsdax_wakeups = zd_atomic_load_relaxed(&sys->st_fsdax_wakeups);
	st->generic_resets = zd_atomic_load_relaxed(&sys->st_generic_resets);
	st->lru_pages = zd_lru_count(sys, ZD_LRU_ACTIVE) + zd_lru_count(sys, ZD_LRU_INACTIVE);
	zd_spin_lock(&sys->pgmap_lock);
	for (struct zd_dev_pagemap *p = sys->pgmaps; p; p = p->next)
		st->pgmaps++;
	zd_spin_unlock(&sys->pgmap_lock);
	st->reports = zd_atomic_load_relaxed(&sys->st_reports);
	st->faults_injected = zd_atomic_load_relaxed(&sys->st_faults);
	st->events = zd_atomic_load_relaxed(&sys->st_events);
}
