/* SPDX-License-Identifier: MIT */
/*
 * tests/helpers.h - what every unit and stress test shares.
 *
 * In the manner of the kernel's kselftest_harness.h: typed assertions that
 * print both sides, fixture variants (pgmap type x refcount scheme), a
 * machine per test with a report-capturing callback, a driver of our own
 * (struct zt_dev: a pgmap whose folio_free counts its calls), and a leak
 * check at teardown: zd_system_leak_check() == 0 and no report nobody
 * expected. The mm, GUP and tmpfs tests share an address-space fixture
 * (zt_mm_setup: a machine and an empty mm, every RAM page back at
 * teardown) and the lookups they all make (zt_entry_at, zt_folio_at).
 *
 * Threads in tests must not call cmocka assertions (they longjmp on the
 * main thread's stack): they count failures and the main thread asserts.
 */
#ifndef ZD_TESTS_HELPERS_H
#define ZD_TESTS_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zonedev/zonedev.h>

/* ---- typed assertions: both values printed, signed or unsigned ---- */

#define ZT_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) \
		fail_msg("%s:%d: %s == %s: %lld != %lld", __FILE__, __LINE__, #a, #b, _a, _b); \
} while (0)

#define ZT_NE(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a == _b) \
		fail_msg("%s:%d: %s != %s: both %lld", __FILE__, __LINE__, #a, #b, _a); \
} while (0)

#define ZT_EQU(a, b) do { \
	unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
	if (_a != _b) \
		fail_msg("%s:%d: %s == %s: %#llx != %#llx", __FILE__, __LINE__, #a, #b, _a, _b); \
} while (0)

#define ZT_PTR_EQ(a, b) do { \
	const void *_a = (const void *)(a), *_b = (const void *)(b); \
	if (_a != _b) \
		fail_msg("%s:%d: %s == %s: %p != %p", __FILE__, __LINE__, #a, #b, _a, _b); \
} while (0)

#define ZT_TRUE(c) do { \
	if (!(c)) \
		fail_msg("%s:%d: expected %s", __FILE__, __LINE__, #c); \
} while (0)

/* ---- reports ---- */

#define ZT_MAX_REPORTS 64

/* Reports seen by a system: all are counted, the first ZT_MAX_REPORTS kept. */
struct zt_reports {
	int nr;
	struct zd_report r[ZT_MAX_REPORTS];
};

/* The zd_report_fn: appends to the struct zt_reports given as context. */
void zt_report_cb(void *ctx, const struct zd_report *r);
void zt_reports_clear(struct zt_reports *log);
int zt_reports_count(const struct zt_reports *log, enum zd_misuse kind);
/* Print every kept report (used when an assertion about them fails). */
void zt_reports_print(const struct zt_reports *log);

/*
 * Assert the log holds exactly one report, of @kind, for @pfn, of memory
 * type @mem_type (0: RAM) and return it so the caller can check refcount
 * and flags. The caller clears the log when done with it.
 */
const struct zd_report *zt_expect_report(const struct zt_reports *log, enum zd_misuse kind,
					 unsigned long pfn, int mem_type);
/* Assert the log is empty (printing it if not). */
void zt_expect_no_reports(const struct zt_reports *log);

/* ---- machines ---- */

/* Options with zt_report_cb into @log; the rest as zd_system_options_init. */
void zt_options(struct zd_system_options *o, struct zt_reports *log, enum zd_scheme scheme,
		enum zd_check_level check);
/* A machine of @ram_size bytes (0: 64 MiB) reporting into @log; asserts success. */
struct zd_system *zt_system_create(struct zt_reports *log, enum zd_scheme scheme,
				   enum zd_check_level check, uint64_t ram_size);
struct zd_system *zt_system_create_opts(const struct zd_system_options *o);
/*
 * The leak check: zd_system_leak_check() == 0, no report in @log, then
 * zd_system_destroy() and still no report. Asserts.
 */
void zt_system_destroy_clean(struct zd_system *sys, struct zt_reports *log);

/* ---- variants: one test body run per pgmap type and refcount scheme ---- */

struct zt_variant {
	enum zd_memory_type type;	/* 0: RAM */
	enum zd_scheme scheme;
};

/*
 * The refcount of a free (idle) page of @type under @scheme, from the
 * semantics document (R3.2, R11.4, L1), not from the library.
 */
int zt_free_ref(enum zd_memory_type type, enum zd_scheme scheme);
/* Types handed out by zone_device_folio_init (PRIVATE, COHERENT). */
bool zt_type_inits(enum zd_memory_type type);
/* Types whose last put calls the driver's folio_free (R12.3). */
bool zt_type_has_folio_free(enum zd_memory_type type);

/* Every pgmap type in both schemes: zt_variant_private_zero ... zt_variant_p2pdma_one. */
extern const struct zt_variant zt_variant_private_zero, zt_variant_coherent_zero,
	zt_variant_fsdax_zero, zt_variant_generic_zero, zt_variant_p2pdma_zero,
	zt_variant_private_one, zt_variant_coherent_one, zt_variant_fsdax_one,
	zt_variant_generic_one, zt_variant_p2pdma_one;

/* A cmocka test entry for @fn under variant @v, named "fn(v)". */
#define ZT_TEST_V(fn, v) \
	{ #fn "(" #v ")", fn, zt_setup, zt_teardown, (void *)&zt_variant_##v }
#define ZT_TEST(fn) \
	{ #fn, fn, zt_setup, zt_teardown, NULL }
/* @fn for each of the five types in the 0-based scheme. */
#define ZT_TEST_TYPES_ZERO(fn) \
	ZT_TEST_V(fn, private_zero), ZT_TEST_V(fn, coherent_zero), ZT_TEST_V(fn, fsdax_zero), \
	ZT_TEST_V(fn, generic_zero), ZT_TEST_V(fn, p2pdma_zero)
/* @fn for each of the five types in the legacy 1-based scheme. */
#define ZT_TEST_TYPES_ONE(fn) \
	ZT_TEST_V(fn, private_one), ZT_TEST_V(fn, coherent_one), ZT_TEST_V(fn, fsdax_one), \
	ZT_TEST_V(fn, generic_one), ZT_TEST_V(fn, p2pdma_one)
#define ZT_TEST_ALL(fn) ZT_TEST_TYPES_ZERO(fn), ZT_TEST_TYPES_ONE(fn)

/* The struct zt_fixture of a test, from cmocka's state. */
#define ZT_FX(state) ((struct zt_fixture *)*(state))

/* ---- a driver of our own ---- */

#define ZT_MAX_DEVS 4

/*
 * struct zt_dev - a pgmap with ops that count. folio_free records the
 * call, the folio, its refcount and the pgmap's reference count at the
 * time (R3.8: still referenced), and per base page how often a folio
 * starting there was freed. As p2pdma's provider does (R11.2), the
 * zero-scheme P2PDMA folio_free drops the folio's pgmap references.
 */
struct zt_dev {
	struct zd_dev_pagemap pgmap;	/* first: container-of by cast */
	struct zd_system *sys;
	uint64_t start, size;
	bool region, registered;
	_Atomic unsigned long nr_free;
	_Atomic(struct zd_folio *) last_free;
	_Atomic long ref_at_free;	/* zd_pgmap_ref_count inside the last call */
	_Atomic int count_at_free;	/* folio refcount inside the last call */
	_Atomic unsigned int *page_frees;	/* per base page */
	unsigned long nr_pages;
};

extern const struct zd_dev_pagemap_ops zt_ops_folio_free;
extern const struct zd_dev_pagemap_ops zt_ops_page_free;

/*
 * Reserve @size bytes of device address space and fill the pgmap (type,
 * ops with folio_free and migrate_to_ram, owner, one range, shift); not
 * registered. Asserts.
 */
void zt_dev_prepare(struct zt_dev *d, struct zd_system *sys, enum zd_memory_type type,
		    uint64_t size, unsigned int shift);
/* zt_dev_prepare + zd_memremap_pages; asserts it returns 0. */
void zt_dev_create(struct zt_dev *d, struct zd_system *sys, enum zd_memory_type type,
		   uint64_t size, unsigned int shift);
/* zd_memunmap_pages (if registered), give the range back, free counters. */
void zt_dev_destroy(struct zt_dev *d);
unsigned long zt_dev_pfn(const struct zt_dev *d, unsigned long idx);
/* The idx-th page of range 0 (asserts the memmap is there). */
struct zd_page *zt_dev_page(struct zt_dev *d, unsigned long idx);
static inline struct zd_folio *zt_dev_folio(struct zt_dev *d, unsigned long idx)
{
	return (struct zd_folio *)zt_dev_page(d, idx);
}
/*
 * Hand the folio at @idx out through its type's path:
 * zd_zone_device_folio_init (then unlocked, as a driver does after its
 * copy) for PRIVATE/COHERENT, zd_device_folio_activate for the others.
 * Returns what those return.
 */
int zt_dev_alloc(struct zt_dev *d, unsigned long idx, unsigned int order);
static inline unsigned long zt_dev_nr_free(struct zt_dev *d)
{
	return zd_atomic_load_relaxed(&d->nr_free);
}

/* ---- the per-test fixture ---- */

struct zd_mm;
struct zd_devdax;

struct zt_fixture {
	const struct zt_variant *v;	/* NULL for plain tests */
	struct zd_system *sys;
	struct zt_reports log;
	struct zt_dev dev[ZT_MAX_DEVS];
	/* zt_mm_setup only: */
	struct zd_mm *mm;		/* an empty address space; a test may destroy it (NULL) */
	unsigned long free0;		/* free RAM pages before the test */
	struct zd_devdax *dd;		/* a device-DAX instance the test made, or NULL */
};

/*
 * zt_setup: a 64 MiB machine of the variant's scheme (zero for plain
 * tests) at ZD_CHECK_FULL. zt_teardown: unmap the devs a test left
 * registered (with a deadline, so a held page fails the test instead of
 * hanging it), then the leak check of zt_system_destroy_clean; it fails
 * the test if anything was left behind.
 */
int zt_setup(void **state);
int zt_teardown(void **state);

/*
 * The fixture of the mm, GUP and tmpfs tests. zt_mm_setup: zt_setup, then
 * fx->mm, an empty address space, and fx->free0. zt_mm_setup_one: the
 * same in the legacy 1-based scheme. zt_mm_teardown: destroy fx->mm (if
 * the test did not), unbind fx->dd (with a deadline), check the
 * invariants and that every RAM page is free again, then zt_teardown.
 */
int zt_mm_setup(void **state);
int zt_mm_setup_one(void **state);
int zt_mm_teardown(void **state);
/* The fixture's mm exits now (exit_mmap), before what the test does next. */
void zt_mm_exit(struct zt_fixture *fx);
#define ZT_MM_TEST(fn) \
	{ #fn, fn, zt_mm_setup, zt_mm_teardown, NULL }
#define ZT_MM_TEST_ONE(fn) \
	{ #fn "(legacy)", fn, zt_mm_setup_one, zt_mm_teardown, NULL }

/* ---- address spaces ---- */

/* A private anonymous read-write mapping of @len bytes; asserts. */
unsigned long zt_map_anon(struct zd_mm *mm, unsigned long len);
/* The same, PMD-aligned and MADV_HUGEPAGE (THP-enabled); asserts. */
unsigned long zt_map_thp(struct zd_mm *mm, unsigned long len);
/* The entry mapping @addr (0 if none) and its level (1 PTE, 2 PMD, 3 PUD; 0 if none). */
zd_pte_t zt_entry_at(struct zd_mm *mm, unsigned long addr, int *level);
/* The page a present entry maps at @addr (inside a PMD or PUD leaf too), or NULL. */
struct zd_page *zt_page_at(struct zd_mm *mm, unsigned long addr, int *level);
/* The folio of that page, or NULL. */
struct zd_folio *zt_folio_at(struct zd_mm *mm, unsigned long addr, int *level);
unsigned long zt_nr_vmas(struct zd_mm *mm);

/* ---- threads and time ---- */

void zt_sleep_ms(unsigned int ms);

/* A reusable spinning barrier for @n threads (yields while waiting). */
struct zt_barrier {
	_Atomic int arrived;
	_Atomic int generation;
	int n;
};
void zt_barrier_init(struct zt_barrier *b, int n);
void zt_barrier_wait(struct zt_barrier *b);

/*
 * Iteration counts for loops: @plain in a normal build, divided by
 * @sanitizer_div under ASan or TSan; ZD_TEST_SCALE=<percent> in the
 * environment scales either.
 */
unsigned long zt_iters(unsigned long plain, unsigned long sanitizer_div);
/* A stress test's pseudo-random stream (xorshift64*): cheap, and replayable from a seed. */
static inline uint64_t zt_rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}
/* The seed of a stress test: ZT_SEED from the environment (to replay a run), else @dflt. */
uint64_t zt_seed(uint64_t dflt);
/*
 * Wait (yielding) until *@v is positive or @seconds pass; returns whether
 * it became positive. For a stress test that must see at least one
 * success: its racing loop may end first on a slow or sanitized build, so
 * the test stops the race and then waits for the success it must get.
 */
bool zt_wait_positive(_Atomic long *v, unsigned int seconds);

/* Whole contents of a FILE written so far (rewinds it); free() the result. */
char *zt_slurp(FILE *f, size_t *len);

/*
 * What migrate_vma_pages does for a page moved to the device (until HMM
 * exists): the allocation's reference on @folio (order 0 or 9) becomes a
 * present, writable anonymous PTE (or PMD leaf) at @addr of an anonymous
 * VMA of @mm, with the anon rmap and RSS. Asserts.
 */
struct zd_mm;
void zt_map_device_anon(struct zd_mm *mm, unsigned long addr, struct zd_folio *folio);
/*
 * The same for device-private memory: a writable device-private entry at
 * @addr holding one reference and one mapcount of @folio (order 0). Asserts.
 */
void zt_map_device_private(struct zd_mm *mm, unsigned long addr, struct zd_folio *folio);

/*
 * zd_make_device_exclusive on the page at @addr of @mm (faulted in
 * writable first), with no owner; the folio it returns locked and
 * referenced is unlocked and put. What stays is the device-exclusive
 * entry with the mapping's reference and mapcount (R7.10). Asserts.
 */
void zt_make_device_exclusive(struct zd_mm *mm, unsigned long addr);
/*
 * The same entry written directly, nothing faulted or dirtied: a clean
 * folio can stay behind it (the real call's GUP write dirties the folio),
 * for restore_exclusive_pte's clean case. Asserts.
 */
void zt_install_device_exclusive_entry(struct zd_mm *mm, unsigned long addr);

#endif /* ZD_TESTS_HELPERS_H */
