/* SPDX-License-Identifier: MIT */
/*
 * zonedev/system.h - a machine: physical memory, pgmaps, options.
 *
 * There is no global state: every object belongs to one struct zd_system,
 * so several machines (say, the 0-based and the legacy 1-based refcount
 * scheme) can run side by side in one process.
 */
#ifndef ZONEDEV_SYSTEM_H
#define ZONEDEV_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zonedev/fault_inject.h>

#define ZD_PAGE_SHIFT	12
#define ZD_PAGE_SIZE	(1ul << ZD_PAGE_SHIFT)
#define ZD_PMD_ORDER	9
#define ZD_PUD_ORDER	18
#define ZD_MAX_PAGE_ORDER 10		/* buddy orders 0..10 (4 MiB) */
#define ZD_MAX_FOLIO_ORDER ZD_PUD_ORDER	/* largest vmemmap_shift */

struct zd_system;
struct zd_event;
struct zd_report;
struct zd_trace_sink;

/* Refcount scheme of ZONE_DEVICE pages (semantics §3 and §13). */
enum zd_scheme {
	ZD_SCHEME_ZERO = 0,	/* today's kernel: free device page at 0 */
	ZD_SCHEME_ONE,		/* legacy (<= 5.18): free at 1, 2->1 hooked */
};

enum zd_check_level {
	ZD_CHECK_OFF = 0,	/* misuse still reported; no invariant scans */
	ZD_CHECK_CHEAP,		/* invariants at quiescent points */
	ZD_CHECK_FULL,		/* plus shadow accounting of reference holders */
};

enum zd_data_mode {
	ZD_DATA_REAL = 0,	/* page frames are real bytes */
	ZD_DATA_NONE,		/* metadata only, for scale experiments */
};

/*
 * Misuse reports and invariant failures go to @report; NULL means print
 * the page dump to stderr and abort(), as a kernel BUG would.
 */
typedef void (*zd_report_fn)(void *ctx, const struct zd_report *r);

struct zd_system_options {
	uint64_t ram_size;		/* bytes, multiple of 4 MiB */
	enum zd_scheme scheme;
	enum zd_check_level check;
	enum zd_data_mode data;
	uint64_t seed;			/* every random choice derives from it */
	struct zd_trace_sink *trace;	/* NULL: no events */
	zd_report_fn report;
	void *report_ctx;
	struct zd_fault_attr fault[ZD_FAULT_NR_SITES];
};

/* Defaults: 64 MiB, scheme zero, check cheap, data real, seed 1. */
void zd_system_options_init(struct zd_system_options *opts);

/*
 * zd_system_create - build a machine.
 * Context: any thread. Returns 0 and sets *out, -EINVAL for a bad option
 * (RAM size 0, not a multiple of 4 MiB, unknown enum value), -ENOMEM.
 */
int zd_system_create(const struct zd_system_options *opts, struct zd_system **out);

/*
 * zd_system_destroy - tear the machine down.
 * Every pgmap must have been unmapped and every RAM page freed: anything
 * else is reported (ZD_MISUSE_TEARDOWN_HELD, ZD_MISUSE_LEAK) and then
 * reclaimed by force. Context: no other thread may use the system.
 */
void zd_system_destroy(struct zd_system *sys);

const struct zd_system_options *zd_system_options(const struct zd_system *sys);
enum zd_scheme zd_system_scheme(const struct zd_system *sys);

/* Replace the trace sink (NULL disables). Context: quiescent system. */
void zd_system_set_trace(struct zd_system *sys, struct zd_trace_sink *sink);

/* Counters since creation, for --stats and tests. */
struct zd_system_stats {
	uint64_t ram_pages, ram_free_pages;
	uint64_t folio_allocs, folio_frees;	/* RAM */
	uint64_t device_inits, device_frees;	/* folio_free/page_free calls */
	uint64_t fsdax_wakeups;
	uint64_t generic_resets;		/* GENERIC 1 -> 0 -> 1 */
	uint64_t lru_pages;
	uint64_t pgmaps;
	uint64_t reports;			/* misuse + invariant reports */
	uint64_t faults_injected;
	uint64_t events;
};
void zd_system_get_stats(struct zd_system *sys, struct zd_system_stats *st);

/*
 * zd_system_leak_check - report (ZD_MISUSE_LEAK) every RAM page not free
 * and every registered pgmap; returns how many were found. Context:
 * quiescent system.
 */
int zd_system_leak_check(struct zd_system *sys);

#endif /* ZONEDEV_SYSTEM_H */
