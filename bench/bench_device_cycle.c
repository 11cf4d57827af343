// SPDX-License-Identifier: MIT
/*
 * bench_device_cycle - rate of the device page lifecycle: a driver hands a
 * device-private page out (zd_devmem_pool_alloc: zone_device_folio_init,
 * pgmap reference, PG_locked, then unlocked since the pool has no
 * migration to finish), and drops the last reference (zd_folio_put ->
 * free_zone_device_folio -> the pool's folio_free, which takes the page
 * back). Measured in both refcount schemes side by side, each on its own
 * system (check=off, no trace): device_cycle_zero (today's kernel, the
 * 1->0 transition frees) and device_cycle_one (legacy, the 2->1
 * transition is hooked).
 *
 * Baseline: the RAM cycle zd_folio_alloc(order 0) + zd_folio_put (buddy
 * allocator and free path) in the same run. device_cycle_zero_vs_one puts
 * the two schemes against each other, interleaved (goal: ratio <= 1).
 *
 * Then the same with two threads contending on one pool (one system for
 * the RAM baseline): the figure is wall-clock time divided by the cycles
 * each thread ran, i.e. ns per cycle as each thread sees it. Perfect
 * scaling gives the one-thread figure; full serialisation gives twice it.
 */
#include "bench.h"

/* ---- one cycle ---- */

static uint64_t loop_ram_cycle(void *ctx, uint64_t n)
{
	struct zd_system *sys = ctx;
	uint64_t t0 = bench_now_ns(), i;
	struct zd_folio *f;

	for (i = 0; i < n; i++) {
		f = zd_folio_alloc(sys, 0, 0);
		if (zd_unlikely(!f))
			bench_die("zd_folio_alloc", -ENOMEM);
		zd_folio_put(f);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

static uint64_t loop_device_cycle(void *ctx, uint64_t n)
{
	struct zd_devmem_pool *pool = ctx;
	uint64_t t0 = bench_now_ns(), i;
	struct zd_folio *f;
	int err;

	for (i = 0; i < n; i++) {
		err = zd_devmem_pool_alloc(pool, 0, &f);
		if (zd_unlikely(err))
			bench_die("zd_devmem_pool_alloc", err);
		/* The pool unlocks already; a driver would after its migration. */
		if (zd_unlikely(zd_folio_test_locked(f)))
			zd_folio_unlock(f);
		zd_folio_put(f);
		bench_barrier();
	}
	return bench_now_ns() - t0;
}

/* ---- two threads running the same loop ---- */

#define NR_THREADS 2

struct mt_run {
	bench_fn body;
	void *ctx;
	uint64_t n;
	_Atomic int ready;
	_Atomic int go;
};

static void *mt_thread(void *arg)
{
	struct mt_run *run = arg;

	zd_atomic_fetch_add_relaxed(&run->ready, 1);
	/* Acquire pairs with the release store of go in loop_mt(). */
	while (!zd_atomic_load_acquire(&run->go))
		;
	run->body(run->ctx, run->n);
	return NULL;
}

/* Both threads start together; wall time from the start to the last join. */
static uint64_t loop_mt(struct mt_run *run, uint64_t n)
{
	struct zd_thread *t[NR_THREADS];
	uint64_t t0;
	int i, err;

	run->n = n;
	zd_atomic_store_relaxed(&run->ready, 0);
	zd_atomic_store_relaxed(&run->go, 0);
	for (i = 0; i < NR_THREADS; i++) {
		err = zd_thread_create(&t[i], mt_thread, run);
		if (err)
			bench_die("zd_thread_create", err);
	}
	while (zd_atomic_load_relaxed(&run->ready) < NR_THREADS)
		;
	t0 = bench_wall_ns();
	/* Release pairs with the acquire load of go in mt_thread(). */
	zd_atomic_store_release(&run->go, 1);
	for (i = 0; i < NR_THREADS; i++)
		zd_thread_join(t[i]);
	return bench_wall_ns() - t0;
}

static uint64_t loop_mt_fn(void *ctx, uint64_t n)
{
	return loop_mt(ctx, n);
}

/* ---- setup ---- */

static struct zd_devmem_pool *make_pool(struct zd_system *sys)
{
	struct zd_devmem_pool *pool;
	int err;

	err = zd_devmem_pool_create(sys, ZD_MEMORY_DEVICE_PRIVATE, ZD_SUBSECTION_SIZE, 0, &pool);
	if (err)
		bench_die("zd_devmem_pool_create", err);
	return pool;
}

/* Every cycle must have gone back through folio_free. */
static void check_pool(const char *scheme, struct zd_devmem_pool *pool)
{
	struct zd_devmem_stats st;

	zd_devmem_pool_stats(pool, &st);
	if (st.allocated != 0 || st.free != st.nr_pages)
		fprintf(stderr, "bench: %s pool: %lu pages allocated after the run, %lu free of %lu\n",
			scheme, st.allocated, st.free, st.nr_pages);
}

static void destroy_pool(struct zd_devmem_pool *pool)
{
	int err = zd_devmem_pool_destroy(pool, 1000000000ull);

	if (err)
		bench_die("zd_devmem_pool_destroy", err);
}

int main(int argc, char **argv)
{
	struct zd_system *sys_zero = bench_system(ZD_SCHEME_ZERO, ZD_CHECK_OFF, NULL);
	struct zd_system *sys_one = bench_system(ZD_SCHEME_ONE, ZD_CHECK_OFF, NULL);
	struct zd_devmem_pool *pool_zero = make_pool(sys_zero);
	struct zd_devmem_pool *pool_one = make_pool(sys_one);
	struct mt_run mt_ram = { .body = loop_ram_cycle, .ctx = sys_zero };
	struct mt_run mt_zero = { .body = loop_device_cycle, .ctx = pool_zero };
	struct mt_run mt_one = { .body = loop_device_cycle, .ctx = pool_one };
	double ram, zero, one, ram_b, zero_b, one_b;

	printf("# bench_device_cycle: device-private alloc -> put -> folio_free, best of %d;"
	       " baseline: RAM alloc+put\n", BENCH_REPS);

	/* One thread: the two schemes and the RAM baseline, interleaved. */
	zero = one = ram = ram_b = 0;
	if (bench_selected(argc, argv, "device_cycle_zero"))
		bench_pair(loop_device_cycle, pool_zero, loop_ram_cycle, sys_zero, &zero, &ram);
	if (bench_selected(argc, argv, "device_cycle_one"))
		bench_pair(loop_device_cycle, pool_one, loop_ram_cycle, sys_zero, &one, &ram_b);
	if (!ram || (ram_b && ram_b < ram))
		ram = ram_b;
	if (bench_selected(argc, argv, "device_cycle_zero"))
		bench_report("device_cycle_zero", "device cycle, scheme zero", zero, "ns/cycle",
			     "RAM alloc+put", ram);
	if (bench_selected(argc, argv, "device_cycle_one"))
		bench_report("device_cycle_one", "device cycle, scheme one", one, "ns/cycle",
			     "RAM alloc+put", ram);
	/* The schemes against each other, interleaved: the goal is zero no slower than one. */
	if (bench_selected(argc, argv, "device_cycle_zero_vs_one")) {
		bench_pair(loop_device_cycle, pool_zero, loop_device_cycle, pool_one, &zero, &one);
		bench_report("device_cycle_zero_vs_one", "device cycle, scheme zero", zero,
			     "ns/cycle", "scheme one", one);
		printf("# goal device_cycle_zero_vs_one ratio <= 1: %s\n",
		       zero <= one ? "met" : "NOT met");
	}

	/* Two threads on one pool (one RAM zone for the baseline). */
	if (bench_selected(argc, argv, "device_cycle_zero_2t") ||
	    bench_selected(argc, argv, "device_cycle_one_2t")) {
		printf("# %d threads contending on one pool, best of %d; figures are ns per cycle"
		       " per thread (wall time / cycles each thread ran)\n", NR_THREADS,
		       BENCH_REPS_MT);
		bench_pair_reps(loop_mt_fn, &mt_zero, loop_mt_fn, &mt_ram, BENCH_REPS_MT, &zero_b,
				&ram);
		bench_pair_reps(loop_mt_fn, &mt_one, loop_mt_fn, &mt_ram, BENCH_REPS_MT, &one_b,
				&ram_b);
		if (ram_b < ram)
			ram = ram_b;
		bench_report("device_cycle_zero_2t", "device cycle, scheme zero, 2 threads", zero_b,
			     "ns/cycle/thread", "RAM alloc+put, 2 threads", ram);
		bench_report("device_cycle_one_2t", "device cycle, scheme one, 2 threads", one_b,
			     "ns/cycle/thread", "RAM alloc+put, 2 threads", ram);
	}

	check_pool("zero", pool_zero);
	check_pool("one", pool_one);
	destroy_pool(pool_zero);
	destroy_pool(pool_one);
	zd_system_destroy(sys_zero);
	zd_system_destroy(sys_one);
	return bench_exit_status();
}
