// SPDX-License-Identifier: MIT
/*
 * bench_refcount - cost of a folio reference: one zd_folio_get() plus one
 * zd_folio_put() on a folio that stays held, so no free happens.
 *
 * The figure that matters is ram_get_put: a RAM folio on a system with
 * check=off and no trace sink, where the inline fast path of
 * include/zonedev/page.h runs (one ZONE_DEVICE flag test, one test of the
 * memmap header's slow flag, then the atomic). Its baseline is the raw
 * atomic pair the fast path performs - fetch_add relaxed, fetch_sub
 * release, each returned value tested as the fast path tests it - on an
 * _Atomic int alone in a 64-byte aligned cache line, measured in the same
 * run. The goal is a ratio within 1.2.
 *
 * The other figures show what the options cost against the same baseline:
 * check=cheap (still the fast path), check=full and a trace sink (RAM
 * gets and puts go out of line), and a device-private folio (always out
 * of line: the ZONE_DEVICE test sends it to the slow half) in both
 * refcount schemes.
 */
#include "bench.h"

/* ---- baseline: the raw atomic pair ---- */

/* The counter alone on its cache line, as a folio's refcount is on its page's. */
struct raw_line {
	_Alignas(64) _Atomic int count;
	char pad[64 - sizeof(int)];
};

static struct raw_line raw_line;
static volatile unsigned long raw_bad;	/* sink: never incremented */

static uint64_t loop_raw_atomic(void *ctx, uint64_t n)
{
	struct raw_line *l = ctx;
	uint64_t t0 = bench_now_ns(), i;
	int old;

	for (i = 0; i < n; i++) {
		/* What zd_folio_get() does once it knows the folio is plain RAM. */
		old = zd_atomic_fetch_add_relaxed(&l->count, 1);
		if (zd_unlikely(old <= 0))
			raw_bad++;
		/* What zd_folio_put() does: release, then test for the last reference. */
		old = zd_atomic_fetch_sub_release(&l->count, 1);
		if (zd_unlikely(old <= 1))
			raw_bad++;
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* ---- the figure: zd_folio_get + zd_folio_put ---- */

static uint64_t loop_folio_get_put(void *ctx, uint64_t n)
{
	struct zd_folio *folio = ctx;
	uint64_t t0 = bench_now_ns(), i;

	for (i = 0; i < n; i++) {
		zd_folio_get(folio);
		zd_folio_put(folio);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* A trace sink that drops every event: measures the out-of-line path, not I/O. */
static unsigned long null_events;

static void null_emit(struct zd_trace_sink *sink, const struct zd_event *ev)
{
	(void)sink;
	(void)ev;
	null_events++;
}

static void null_close(struct zd_trace_sink *sink)
{
	(void)sink;
}

static struct zd_trace_sink null_sink = {
	.emit = null_emit,
	.close = null_close,
};

/* One RAM folio get/put figure on a fresh system with the given options. */
static void bench_ram(const char *name, const char *what, enum zd_check_level check,
		      struct zd_trace_sink *trace)
{
	struct zd_system *sys = bench_system(ZD_SCHEME_ZERO, check, trace);
	struct zd_folio *folio = bench_ram_folio(sys);
	double v, b;

	bench_pair(loop_folio_get_put, folio, loop_raw_atomic, &raw_line, &v, &b);
	bench_report(name, what, v, "ns/pair", "raw atomic pair", b);
	if (zd_folio_ref_count(folio) != 1)
		fprintf(stderr, "bench: %s: refcount %d after the loop, expected 1\n", name,
			zd_folio_ref_count(folio));
	zd_folio_put(folio);
	zd_system_destroy(sys);
}

/* The same on a device-private folio handed out by a devmem pool. */
static void bench_device(const char *name, const char *what, enum zd_scheme scheme)
{
	struct zd_system *sys = bench_system(scheme, ZD_CHECK_OFF, NULL);
	struct zd_devmem_pool *pool;
	struct zd_folio *folio;
	double v, b;
	int err, ref;

	err = zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_PRIVATE, ZD_SUBSECTION_SIZE, 0, &pool);
	if (err)
		bench_die("zd_devmem_pool_create", err);
	err = zd_devmem_pool_alloc(pool, 0, &folio);
	if (err)
		bench_die("zd_devmem_pool_alloc", err);
	/* zone_device_folio_init hands the folio out locked; the driver unlocks it. */
	if (zd_folio_test_locked(folio))
		zd_folio_unlock(folio);
	ref = zd_folio_ref_count(folio);

	bench_pair(loop_folio_get_put, folio, loop_raw_atomic, &raw_line, &v, &b);
	bench_report(name, what, v, "ns/pair", "raw atomic pair", b);
	if (zd_folio_ref_count(folio) != ref)
		fprintf(stderr, "bench: %s: refcount %d after the loop, expected %d\n", name,
			zd_folio_ref_count(folio), ref);
	zd_folio_put(folio);
	err = zd_devmem_pool_destroy(pool, 1000000000ull);
	if (err)
		bench_die("zd_devmem_pool_destroy", err);
	zd_system_destroy(sys);
}

int main(void)
{
	zd_atomic_init(&raw_line.count, 1);	/* a held folio's count */

	printf("# bench_refcount: ns per get+put pair, best of %d; baseline: raw atomic pair\n",
	       BENCH_REPS);
	bench_ram("ram_get_put", "RAM get+put (check=off)", ZD_CHECK_OFF, NULL);
	bench_ram("ram_get_put_check_cheap", "RAM get+put (check=cheap)", ZD_CHECK_CHEAP, NULL);
	bench_ram("ram_get_put_check_full", "RAM get+put (check=full)", ZD_CHECK_FULL, NULL);
	bench_ram("ram_get_put_traced", "RAM get+put (null trace sink)", ZD_CHECK_OFF,
		  &null_sink);
	bench_device("device_get_put_zero", "device-private get+put (zero)", ZD_SCHEME_ZERO);
	bench_device("device_get_put_one", "device-private get+put (one)", ZD_SCHEME_ONE);
	return bench_exit_status();
}
