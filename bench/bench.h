/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h - timing helpers shared by the benchmarks.
 *
 * Every benchmark measures a figure and its baseline in the same run,
 * interleaved, and keeps the best (minimum) of several repetitions so that
 * a scheduler hiccup or a frequency change only ever makes a figure look
 * worse, never better. Each figure ends in one machine-readable line:
 *
 *   BENCH <name> value=<v> unit=<u> baseline=<b> ratio=<value/baseline>
 *
 * preceded by a line for humans. Benchmarks never gate CI.
 */
#ifndef ZD_BENCH_H
#define ZD_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zonedev/zonedev.h>

#define BENCH_REPS		7		/* repetitions; the minimum is kept */
/*
 * Multi-threaded figures swing with where the threads land and with any
 * other load on the machine: more, independent repetitions (new threads
 * each time) give the minimum more chances to be an undisturbed run.
 */
#define BENCH_REPS_MT		21
#define BENCH_TARGET_NS		20000000ull	/* one repetition lasts >= 20 ms */
#define BENCH_MAX_ITERS		(1ull << 30)

/* Keeps the compiler from caching memory across it or dropping a loop body. */
#define bench_barrier()		__asm__ __volatile__("" ::: "memory")

/*
 * The clock of the measured loops: the wall clock (CLOCK_MONOTONIC), or
 * with ZD_BENCH_CLOCK=cpu the calling thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID, user and system), which leaves out the time
 * the thread spends preempted on a loaded machine. Multi-threaded figures
 * always take wall time from bench_wall_ns().
 */
static clockid_t bench_clock = CLOCK_MONOTONIC;

__attribute__((constructor)) static void bench_clock_init(void)
{
	const char *s = getenv("ZD_BENCH_CLOCK");

	if (s && !strcmp(s, "cpu"))
		bench_clock = CLOCK_THREAD_CPUTIME_ID;
}

static inline uint64_t bench_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_now_ns(void)
{
	return bench_clock_ns(bench_clock);
}

static inline uint64_t bench_wall_ns(void)
{
	return bench_clock_ns(CLOCK_MONOTONIC);
}

/*
 * A measured loop: run @n iterations and return the elapsed nanoseconds
 * (the function times itself, so that thread start-up can be left out).
 */
typedef uint64_t (*bench_fn)(void *ctx, uint64_t n);

/* The smallest power-of-two iteration count whose run lasts BENCH_TARGET_NS. */
static inline uint64_t bench_calibrate(bench_fn fn, void *ctx)
{
	uint64_t n = 64;

	while (n < BENCH_MAX_ITERS && fn(ctx, n) < BENCH_TARGET_NS)
		n *= 2;
	return n;
}

/*
 * ZD_BENCH_PROFILE=<seconds>: a run for a profiler. Each figure's own loop
 * runs alone for that long and its baseline not at all, so that every
 * sample of `perf record` is the model's; the figures printed are 0.
 */
static inline bool bench_profiling(bench_fn fn, void *ctx, uint64_t n)
{
	const char *s = getenv("ZD_BENCH_PROFILE");
	uint64_t end;

	if (!s || !*s)
		return false;
	end = bench_wall_ns() + (uint64_t)(atof(s) * 1e9);
	while (bench_wall_ns() < end)
		fn(ctx, n);
	return true;
}

/*
 * bench_pair_reps - best ns per iteration of @fn and of its @base,
 * interleaved over @reps repetitions. Each is calibrated on its own, so a
 * slow figure against a fast baseline still gets a long enough run.
 */
static inline void bench_pair_reps(bench_fn fn, void *ctx, bench_fn base, void *base_ctx,
				   int reps, double *value, double *baseline)
{
	uint64_t n = bench_calibrate(fn, ctx);
	uint64_t nb;
	double best = 0, best_b = 0;
	int r;

	if (bench_profiling(fn, ctx, n)) {
		*value = *baseline = 0;
		return;
	}
	nb = bench_calibrate(base, base_ctx);

	for (r = 0; r < reps; r++) {
		double t = (double)fn(ctx, n) / (double)n;
		double tb = (double)base(base_ctx, nb) / (double)nb;

		if (r == 0 || t < best)
			best = t;
		if (r == 0 || tb < best_b)
			best_b = tb;
	}
	*value = best;
	*baseline = best_b;
}

static inline void bench_pair(bench_fn fn, void *ctx, bench_fn base, void *base_ctx,
			      double *value, double *baseline)
{
	bench_pair_reps(fn, ctx, base, base_ctx, BENCH_REPS, value, baseline);
}

/* Best ns per iteration of one loop (a baseline shared by several figures). */
static inline double bench_best(bench_fn fn, void *ctx)
{
	uint64_t n;
	double best = 0;
	int r;

	if (getenv("ZD_BENCH_PROFILE"))
		return 0;	/* a profile run measures the model's loops only */
	n = bench_calibrate(fn, ctx);

	for (r = 0; r < BENCH_REPS; r++) {
		double t = (double)fn(ctx, n) / (double)n;

		if (r == 0 || t < best)
			best = t;
	}
	return best;
}

/*
 * bench_selected - should the figure @name run? A benchmark given figure
 * names on its command line runs only those (for profiling one loop:
 * ZD_BENCH_PROFILE=10 perf record -g build/bench/bench_mm cpu_read_page);
 * with none, every figure runs.
 */
static inline bool bench_selected(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(name, argv[i]))
			return true;
	return false;
}

/* The human line, then the BENCH line. */
static inline void bench_report(const char *name, const char *what, double value,
				const char *unit, const char *base_what, double baseline)
{
	double ratio = baseline > 0 ? value / baseline : 0;

	printf("%-34s %10.2f %-16s (%s: %.2f, %.2fx)\n", what, value, unit, base_what,
	       baseline, ratio);
	printf("BENCH %s value=%.2f unit=%s baseline=%.2f ratio=%.3f\n", name, value, unit,
	       baseline, ratio);
	fflush(stdout);
}

/*
 * Misuse reports: a benchmark is not a test, but a report means the
 * figures are of a broken run, so print it and fail at the end.
 */
static unsigned long bench_nr_reports;

static inline void bench_report_fn(void *ctx, const struct zd_report *r)
{
	(void)ctx;
	if (bench_nr_reports++ < 4)
		fprintf(stderr, "bench: misuse report %s (%s): %s\n%s\n",
			zd_misuse_name(r->kind), r->rule, r->what, r->dump);
}

static inline void bench_die(const char *what, int err)
{
	fprintf(stderr, "bench: %s failed: %d (%s)\n", what, err, strerror(err < 0 ? -err : err));
	exit(1);
}

static inline struct zd_system *bench_system(enum zd_scheme scheme, enum zd_check_level check,
					     struct zd_trace_sink *trace)
{
	struct zd_system_options o;
	struct zd_system *sys;
	int err;

	zd_system_options_init(&o);
	o.scheme = scheme;
	o.check = check;
	o.trace = trace;
	o.report = bench_report_fn;
	err = zd_system_create(&o, &sys);
	if (err)
		bench_die("zd_system_create", err);
	return sys;
}

static inline struct zd_folio *bench_ram_folio(struct zd_system *sys)
{
	struct zd_folio *f = zd_folio_alloc(sys, 0, 0);

	if (!f)
		bench_die("zd_folio_alloc", -ENOMEM);
	return f;
}

/* Exit status of a benchmark: 1 if the library reported anything. */
static inline int bench_exit_status(void)
{
	if (bench_nr_reports) {
		fprintf(stderr, "bench: %lu misuse report(s): figures are not valid\n",
			bench_nr_reports);
		return 1;
	}
	return 0;
}

#endif /* ZD_BENCH_H */
