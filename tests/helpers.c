// SPDX-License-Identifier: MIT
/*
 * tests/helpers.c - shared test machinery: report capture, machines with
 * a leak check, fixture variants, a counting driver (struct zt_dev), the
 * address-space fixture and lookups of the mm tests, a barrier and
 * sanitizer-aware iteration counts. See helpers.h.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "mm/internal.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZT_SANITIZED 1
#endif
#endif

/* ---- reports ---- */

void zt_report_cb(void *ctx, const struct zd_report *r)
{
	struct zt_reports *log = ctx;

	/* Called under the system's report lock: one report at a time. */
	if (log->nr < ZT_MAX_REPORTS)
		log->r[log->nr] = *r;
	log->nr++;
}

void zt_reports_clear(struct zt_reports *log)
{
	memset(log, 0, sizeof(*log));
}

int zt_reports_count(const struct zt_reports *log, enum zd_misuse kind)
{
	int n = 0;

	for (int i = 0; i < log->nr && i < ZT_MAX_REPORTS; i++)
		if (log->r[i].kind == kind)
			n++;
	return n;
}

void zt_reports_print(const struct zt_reports *log)
{
	print_message("%d report(s):\n", log->nr);
	for (int i = 0; i < log->nr && i < ZT_MAX_REPORTS; i++) {
		const struct zd_report *r = &log->r[i];

		print_message("  [%d] %s (%s): %s\n      %s\n", i, zd_misuse_name(r->kind),
			      r->rule ? r->rule : "", r->what, r->dump);
	}
}

const struct zd_report *zt_expect_report(const struct zt_reports *log, enum zd_misuse kind,
					 unsigned long pfn, int mem_type)
{
	const struct zd_report *r = &log->r[0];

	if (log->nr != 1 || r->kind != kind || r->pfn != pfn || r->mem_type != mem_type) {
		zt_reports_print(log);
		fail_msg("expected exactly one report \"%s\" for pfn %#lx type %s",
			 zd_misuse_name(kind), pfn, zd_memory_type_name(mem_type));
	}
	if (!strstr(r->dump, "pfn=") || !r->what[0])
		fail_msg("report without a page dump or description: \"%s\" \"%s\"", r->what,
			 r->dump);
	return r;
}

void zt_expect_no_reports(const struct zt_reports *log)
{
	if (log->nr) {
		zt_reports_print(log);
		fail_msg("expected no reports, got %d", log->nr);
	}
}

/* ---- machines ---- */

void zt_options(struct zd_system_options *o, struct zt_reports *log, enum zd_scheme scheme,
		enum zd_check_level check)
{
	zd_system_options_init(o);
	o->scheme = scheme;
	o->check = check;
	o->report = zt_report_cb;
	o->report_ctx = log;
}

struct zd_system *zt_system_create_opts(const struct zd_system_options *o)
{
	struct zd_system *sys = NULL;

	ZT_EQ(zd_system_create(o, &sys), 0);
	ZT_TRUE(sys != NULL);
	return sys;
}

struct zd_system *zt_system_create(struct zt_reports *log, enum zd_scheme scheme,
				   enum zd_check_level check, uint64_t ram_size)
{
	struct zd_system_options o;

	zt_options(&o, log, scheme, check);
	if (ram_size)
		o.ram_size = ram_size;
	return zt_system_create_opts(&o);
}

/* The leak check without asserting: prints what it found, 0 if clean. */
static int destroy_checked(struct zd_system *sys, struct zt_reports *log)
{
	int leaks = zd_system_leak_check(sys), before = log->nr;

	zd_system_destroy(sys);
	if (leaks || log->nr) {
		zt_reports_print(log);
		print_error("leak check: %d leak(s), %d report(s) before destroy, %d after\n",
			    leaks, before, log->nr - before);
		return -1;
	}
	return 0;
}

void zt_system_destroy_clean(struct zd_system *sys, struct zt_reports *log)
{
	if (destroy_checked(sys, log))
		fail_msg("the machine was not clean at destroy");
}

/* ---- variants ---- */

#define ZT_DEF_VARIANT(name, t, s) \
	const struct zt_variant zt_variant_##name = { .type = ZD_MEMORY_DEVICE_##t, \
						       .scheme = ZD_SCHEME_##s }
ZT_DEF_VARIANT(private_zero, PRIVATE, ZERO);
ZT_DEF_VARIANT(coherent_zero, COHERENT, ZERO);
ZT_DEF_VARIANT(fsdax_zero, FS_DAX, ZERO);
ZT_DEF_VARIANT(generic_zero, GENERIC, ZERO);
ZT_DEF_VARIANT(p2pdma_zero, PCI_P2PDMA, ZERO);
ZT_DEF_VARIANT(private_one, PRIVATE, ONE);
ZT_DEF_VARIANT(coherent_one, COHERENT, ONE);
ZT_DEF_VARIANT(fsdax_one, FS_DAX, ONE);
ZT_DEF_VARIANT(generic_one, GENERIC, ONE);
ZT_DEF_VARIANT(p2pdma_one, PCI_P2PDMA, ONE);

int zt_free_ref(enum zd_memory_type type, enum zd_scheme scheme)
{
	if (scheme == ZD_SCHEME_ONE)
		return 1;			/* L1 */
	return type == ZD_MEMORY_DEVICE_GENERIC ? 1 : 0;	/* R3.2, R11.4 */
}

bool zt_type_inits(enum zd_memory_type type)
{
	return type == ZD_MEMORY_DEVICE_PRIVATE || type == ZD_MEMORY_DEVICE_COHERENT;
}

bool zt_type_has_folio_free(enum zd_memory_type type)
{
	return type == ZD_MEMORY_DEVICE_PRIVATE || type == ZD_MEMORY_DEVICE_COHERENT ||
	       type == ZD_MEMORY_DEVICE_PCI_P2PDMA;
}

/* ---- the counting driver ---- */

static void zt_record_free(struct zd_folio *folio)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);
	struct zt_dev *d = (struct zt_dev *)pgmap;
	unsigned long pfn = zd_folio_pfn(folio), nr = zd_folio_nr_pages(folio);

	zd_atomic_store_relaxed(&d->last_free, folio);
	zd_atomic_store_relaxed(&d->ref_at_free, zd_pgmap_ref_count(pgmap));
	zd_atomic_store_relaxed(&d->count_at_free, zd_folio_ref_count(folio));
	if (d->page_frees && pfn >= zt_dev_pfn(d, 0) && pfn - zt_dev_pfn(d, 0) < d->nr_pages)
		zd_atomic_fetch_add_relaxed(&d->page_frees[pfn - zt_dev_pfn(d, 0)], 1u);
	/* Release: the counter is read after the folio's state by the test thread. */
	zd_atomic_fetch_add_acq_rel(&d->nr_free, 1ul);
	/* p2pdma's provider drops the pgmap reference of each page itself (R11.2). */
	if (pgmap->type == ZD_MEMORY_DEVICE_PCI_P2PDMA &&
	    zd_system_scheme(d->sys) == ZD_SCHEME_ZERO)
		for (unsigned long i = 0; i < nr; i++)
			zd_put_dev_pagemap(pgmap);
}

static void zt_folio_free(struct zd_folio *folio)
{
	zt_record_free(folio);
}

static void zt_page_free(struct zd_page *page)
{
	zt_record_free(zd_page_folio(page));
}

static zd_vm_fault_t zt_migrate_to_ram(struct zd_vm_fault *vmf)
{
	(void)vmf;
	return ZD_VM_FAULT_SIGBUS;
}

const struct zd_dev_pagemap_ops zt_ops_folio_free = {
	.folio_free = zt_folio_free,
	.migrate_to_ram = zt_migrate_to_ram,
};

const struct zd_dev_pagemap_ops zt_ops_page_free = {
	.page_free = zt_page_free,
	.migrate_to_ram = zt_migrate_to_ram,
};

void zt_dev_prepare(struct zt_dev *d, struct zd_system *sys, enum zd_memory_type type,
		    uint64_t size, unsigned int shift)
{
	uint64_t align = ZD_SUBSECTION_SIZE;

	memset(d, 0, sizeof(*d));
	if ((ZD_PAGE_SIZE << shift) > align)
		align = ZD_PAGE_SIZE << shift;
	d->sys = sys;
	d->size = size;
	ZT_EQ(zd_request_free_mem_region(sys, size, align, &d->start), 0);
	d->region = true;
	d->nr_pages = size >> ZD_PAGE_SHIFT;
	d->page_frees = calloc(d->nr_pages, sizeof(*d->page_frees));
	ZT_TRUE(d->page_frees != NULL);
	d->pgmap.type = type;
	d->pgmap.vmemmap_shift = shift;
	d->pgmap.ops = &zt_ops_folio_free;
	d->pgmap.owner = d;
	d->pgmap.nr_range = 1;
	d->pgmap.ranges[0].start = d->start;
	d->pgmap.ranges[0].end = d->start + size - 1;
}

void zt_dev_create(struct zt_dev *d, struct zd_system *sys, enum zd_memory_type type,
		   uint64_t size, unsigned int shift)
{
	zt_dev_prepare(d, sys, type, size, shift);
	ZT_EQ(zd_memremap_pages(sys, &d->pgmap), 0);
	d->registered = true;
}

void zt_dev_destroy(struct zt_dev *d)
{
	if (d->registered) {
		d->registered = false;
		zd_memunmap_pages(&d->pgmap);
	}
	if (d->region) {
		d->region = false;
		zd_release_mem_region(d->sys, d->start, d->size);
	}
	free((void *)d->page_frees);
	d->page_frees = NULL;
}

unsigned long zt_dev_pfn(const struct zt_dev *d, unsigned long idx)
{
	return (unsigned long)(d->start >> ZD_PAGE_SHIFT) + idx;
}

struct zd_page *zt_dev_page(struct zt_dev *d, unsigned long idx)
{
	struct zd_page *p = zd_pfn_to_page(d->sys, zt_dev_pfn(d, idx));

	if (!p)
		fail_msg("no memmap for device pfn %#lx", zt_dev_pfn(d, idx));
	return p;
}

int zt_dev_alloc(struct zt_dev *d, unsigned long idx, unsigned int order)
{
	struct zd_folio *folio = zt_dev_folio(d, idx);
	int err;

	if (!zt_type_inits(d->pgmap.type))
		return zd_device_folio_activate(folio);
	err = zd_zone_device_folio_init(folio, &d->pgmap, order);
	if (!err)
		zd_folio_unlock(folio);
	return err;
}

/* ---- fixture ---- */

int zt_setup(void **state)
{
	struct zt_fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->v = *state;
	fx->sys = zt_system_create(&fx->log, fx->v ? fx->v->scheme : ZD_SCHEME_ZERO,
				   ZD_CHECK_FULL, 0);
	*state = fx;
	return 0;
}

int zt_teardown(void **state)
{
	struct zt_fixture *fx = *state;
	int stuck = 0, err;

	/*
	 * Devs a test left registered (normally only after a failed
	 * assertion) are unmapped with a deadline, so a held page cannot
	 * hang the suite; what stays registered is reported by the leak
	 * check and torn down by zd_system_destroy.
	 */
	for (int i = 0; i < ZT_MAX_DEVS; i++) {
		struct zt_dev *d = &fx->dev[i];

		if (d->registered && zd_memunmap_pages_timeout(&d->pgmap, 2000000000ull))
			stuck++;
		else
			d->registered = false;
		if (!d->registered && d->region) {
			zd_release_mem_region(d->sys, d->start, d->size);
			d->region = false;
		}
	}
	if (stuck)
		print_error("%d pgmap(s) still held at teardown\n", stuck);
	err = destroy_checked(fx->sys, &fx->log);
	/* Only now, with the machine gone, may the devs' memory go. */
	for (int i = 0; i < ZT_MAX_DEVS; i++)
		free((void *)fx->dev[i].page_frees);
	free(fx);
	if (stuck || err)
		fail_msg("teardown: the test left its machine unclean");
	return 0;
}

static int mm_setup(void **state, const struct zt_variant *v)
{
	struct zt_fixture *fx;

	if (v)
		*state = (void *)v;
	if (zt_setup(state))
		return -1;
	fx = *state;
	fx->free0 = zd_nr_free_pages(fx->sys);
	return zd_mm_create(fx->sys, &fx->mm) ? -1 : 0;
}

int zt_mm_setup(void **state)
{
	return mm_setup(state, NULL);
}

/* The legacy 1-based refcount scheme (semantics §13), for device pages. */
int zt_mm_setup_one(void **state)
{
	static const struct zt_variant legacy = { .type = 0, .scheme = ZD_SCHEME_ONE };

	return mm_setup(state, &legacy);
}

int zt_mm_teardown(void **state)
{
	struct zt_fixture *fx = *state;
	int stuck = 0;

	/* exit_mmap frees every VMA once: a VMA with vm_end below vm_start would be freed twice */
	if (fx->mm)
		zd_mm_destroy(fx->mm);
	fx->mm = NULL;
	if (fx->dd && zd_devdax_destroy_timeout(fx->dd, 2000ull * 1000 * 1000))
		stuck = 1;
	fx->dd = NULL;
	ZT_EQ(stuck, 0);
	ZT_EQ(zd_check_invariants(fx->sys), 0);
	/* every test ends with every page back: no pin or reference left behind */
	ZT_EQU(zd_nr_free_pages(fx->sys), fx->free0);
	return zt_teardown(state);
}

void zt_mm_exit(struct zt_fixture *fx)
{
	zd_mm_destroy(fx->mm);
	fx->mm = NULL;
}

/* ---- address spaces ---- */

unsigned long zt_map_anon(struct zd_mm *mm, unsigned long len)
{
	unsigned long a = 0;

	ZT_EQ(zd_mmap(mm, 0, len, ZD_PROT_READ | ZD_PROT_WRITE, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS,
		      NULL, 0, 0, &a), 0);
	return a;
}

unsigned long zt_map_thp(struct zd_mm *mm, unsigned long len)
{
	unsigned long a = 0;

	ZT_EQ(zd_mmap(mm, 0, len, ZD_PROT_READ | ZD_PROT_WRITE, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS,
		      NULL, 0, ZD_PMD_SIZE, &a), 0);
	ZT_EQ(zd_madvise(mm, a, len, ZD_MADV_HUGEPAGE), 0);
	return a;
}

zd_pte_t zt_entry_at(struct zd_mm *mm, unsigned long addr, int *level)
{
	zd_pte_t e = 0;
	int lvl = 0;

	zd_follow_entry(mm, addr, &e, &lvl);
	if (level)
		*level = lvl;
	return e;
}

struct zd_page *zt_page_at(struct zd_mm *mm, unsigned long addr, int *level)
{
	int lvl = 0;
	zd_pte_t e = zt_entry_at(mm, addr, &lvl);
	unsigned long pfn;

	if (!zd_pte_present(e))
		return NULL;
	if (level)
		*level = lvl;
	pfn = zd_pte_pfn(e);
	if (lvl > 1)	/* the subpage of the leaf */
		pfn += (addr & ((lvl == 2 ? ZD_PMD_SIZE : ZD_PUD_SIZE) - 1)) >> ZD_PAGE_SHIFT;
	return zd_pfn_to_page(zd_mm_system(mm), pfn);
}

struct zd_folio *zt_folio_at(struct zd_mm *mm, unsigned long addr, int *level)
{
	struct zd_page *p = zt_page_at(mm, addr, level);

	return p ? zd_page_folio(p) : NULL;
}

unsigned long zt_nr_vmas(struct zd_mm *mm)
{
	struct zd_mm_stats st;

	zd_mm_get_stats(mm, &st);
	return st.nr_vmas;
}

/* ---- threads and time ---- */

void zt_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000l };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void zt_barrier_init(struct zt_barrier *b, int n)
{
	zd_atomic_init(&b->arrived, 0);
	zd_atomic_init(&b->generation, 0);
	b->n = n;
}

void zt_barrier_wait(struct zt_barrier *b)
{
	int gen = zd_atomic_load_acquire(&b->generation);

	/* acq_rel: the last arriver sees every thread's work before the barrier. */
	if (zd_atomic_fetch_add_acq_rel(&b->arrived, 1) == b->n - 1) {
		zd_atomic_store_relaxed(&b->arrived, 0);
		/* Release pairs with the acquire loads of the waiters below. */
		zd_atomic_store_release(&b->generation, gen + 1);
		return;
	}
	while (zd_atomic_load_acquire(&b->generation) == gen)
		sched_yield();
}

uint64_t zt_seed(uint64_t dflt)
{
	const char *e = getenv("ZT_SEED");

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

bool zt_wait_positive(_Atomic long *v, unsigned int seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (zd_atomic_load_acquire(v) <= 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > (time_t)seconds)
			return false;
		sched_yield();
	}
	return true;
}

unsigned long zt_iters(unsigned long plain, unsigned long sanitizer_div)
{
	const char *s = getenv("ZD_TEST_SCALE");
	unsigned long n = plain;

#ifdef ZT_SANITIZED
	n = sanitizer_div ? plain / sanitizer_div : plain;
#else
	(void)sanitizer_div;
#endif
	if (s && *s) {
		unsigned long pct = strtoul(s, NULL, 10);

		n = n * pct / 100;
	}
	return n ? n : 1;
}

char *zt_slurp(FILE *f, size_t *len)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	if (n < 0)
		return NULL;
	buf = malloc((size_t)n + 1);
	if (!buf)
		return NULL;
	rewind(f);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	fseek(f, 0, SEEK_END);
	return buf;
}

/* ---- device pages in anonymous memory ---- */

/*
 * What migrate_vma_pages does for the page it moved to the device
 * (test-only until HMM lands): the allocation's reference becomes a
 * present, writable anonymous PTE (or PMD leaf for an order-9 folio) with
 * the anon rmap and RSS, installed under the entry's lock.
 */
void zt_map_device_anon(struct zd_mm *mm, unsigned long addr, struct zd_folio *folio)
{
	unsigned int order = zd_folio_order(folio);
	enum zd_pt_level lvl = order ? ZD_LVL_PMD : ZD_LVL_PTE;
	zd_pte_t bits = ZD_PTE_PRESENT | ZD_PTE_YOUNG | ZD_PTE_WRITE | ZD_PTE_DIRTY |
			(order ? ZD_PTE_HUGE : 0);
	struct zd_vm_area_struct *vma;
	_Atomic zd_pte_t *slot = NULL;
	struct zd_spinlock *ptl;
	struct zd_pgtable *pgtable = NULL;
	bool busy = true;

	ZT_TRUE(order == 0 || order == ZD_PMD_ORDER);
	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, addr);
	if (vma && zd_vma_is_anonymous(vma) && !_zd_anon_vma_prepare(vma))
		slot = _zd_pxx_alloc(mm, addr, lvl);
	/* migrate_vma_insert_huge_pmd_page(): an anonymous PMD leaf carries a deposit. */
	if (slot && order) {
		pgtable = _zd_pte_alloc_one(mm);
		ZT_TRUE(pgtable != NULL);
	}
	if (slot) {
		ptl = lvl == ZD_LVL_PTE ? _zd_pte_lockptr(slot) : _zd_huge_lockptr(mm);
		zd_spin_lock(ptl);
		busy = !zd_pte_none(_zd_read_entry(slot));
		if (!busy) {
			if (pgtable)
				_zd_pgtable_trans_huge_deposit(mm, pgtable);
			pgtable = NULL;
			_zd_folio_add_new_anon_rmap(folio, vma, addr, lvl);
			_zd_add_mm_counter(mm, ZD_MM_ANONPAGES, 1l << order);
			_zd_set_entry(slot, zd_pfn_pte(zd_folio_pfn(folio), bits));
		}
		zd_spin_unlock(ptl);
	}
	if (pgtable)
		_zd_pte_free(mm, pgtable);
	zd_mmap_read_unlock(mm);
	ZT_TRUE(slot != NULL);
	ZT_TRUE(!busy);
}

/*
 * What migrate_vma_pages leaves for a page moved to device-private memory:
 * a writable device-private entry holding one reference and one mapcount
 * of the anonymous device folio (R6.6).
 */
void zt_map_device_private(struct zd_mm *mm, unsigned long addr, struct zd_folio *folio)
{
	struct zd_vm_area_struct *vma;
	_Atomic zd_pte_t *slot = NULL;
	bool busy = true;

	zd_mmap_read_lock(mm);
	vma = zd_vma_lookup(mm, addr);
	if (vma && zd_vma_is_anonymous(vma) && !_zd_anon_vma_prepare(vma))
		slot = _zd_pxx_alloc(mm, addr, ZD_LVL_PTE);
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

/*
 * make_device_exclusive (R7.10) for tests that want the entry and not the
 * device: the page is made exclusive for no owner, and the locked,
 * referenced folio the call returns is given back at once.
 */
void zt_make_device_exclusive(struct zd_mm *mm, unsigned long addr)
{
	struct zd_folio *folio = NULL;
	struct zd_page *page;
	int err = 0;

	zd_mmap_read_lock(mm);
	page = zd_make_device_exclusive(mm, addr, NULL, &folio, &err);
	zd_mmap_read_unlock(mm);
	ZT_EQ(err, 0);
	ZT_TRUE(page != NULL && zd_folio_test_anon(folio));
	zd_folio_unlock(folio);
	zd_folio_put(folio);
}

/*
 * The entry make_device_exclusive leaves, written directly: the present
 * PTE of an anonymous page replaced by a device-exclusive entry keeping
 * the mapping's reference and mapcount; a dirty PTE's dirtiness moves to
 * the folio. Unlike the real call nothing is faulted or dirtied, so a
 * clean folio can be left behind the entry (restore_exclusive_pte's clean
 * case, which the real call cannot reach: its GUP write dirties the folio).
 */
void zt_install_device_exclusive_entry(struct zd_mm *mm, unsigned long addr)
{
	_Atomic zd_pte_t *slot;
	struct zd_folio *folio;
	zd_pte_t e;

	zd_mmap_read_lock(mm);
	slot = _zd_pxx_offset(mm, addr, ZD_LVL_PTE);
	ZT_TRUE(slot != NULL);
	zd_spin_lock(_zd_pte_lockptr(slot));
	e = _zd_read_entry(slot);
	folio = zd_pte_present(e) ? zd_pfn_folio(zd_mm_system(mm), zd_pte_pfn(e)) : NULL;
	if (folio && zd_pte_dirty(e))
		zd_page_set_flag(&folio->page, ZD_PG_dirty);
	if (folio)
		_zd_set_entry(slot, zd_swp_entry(ZD_SWP_DEVICE_EXCLUSIVE, zd_pte_pfn(e)));
	zd_spin_unlock(_zd_pte_lockptr(slot));
	zd_mmap_read_unlock(mm);
	ZT_TRUE(folio && zd_folio_test_anon(folio));
}
