/* SPDX-License-Identifier: MIT */
/*
 * zonedev/check.h - lifecycle events, trace sinks, misuse reports and
 * invariants.
 *
 * Models the role of the kernel's tracepoints (include/trace/events/),
 * dump_page() and the VM_BUG_ON/VM_WARN_ON checks of mm/debug.c.
 */
#ifndef ZONEDEV_CHECK_H
#define ZONEDEV_CHECK_H

#include <stdio.h>
#include <zonedev/memremap.h>

enum zd_event_type {
	ZD_EV_ALLOC,		/* RAM folio allocated */
	ZD_EV_FREE,		/* RAM folio back to the buddy allocator */
	ZD_EV_INIT,		/* zone_device_folio_init / activate */
	ZD_EV_GET,
	ZD_EV_PUT,
	ZD_EV_PIN,
	ZD_EV_UNPIN,
	ZD_EV_MAP,
	ZD_EV_UNMAP,
	ZD_EV_ISOLATE,
	ZD_EV_PUTBACK,
	ZD_EV_LRU_ADD,
	ZD_EV_MIGRATE,
	ZD_EV_DEVICE_FREE,	/* free_zone_device_folio */
	ZD_EV_PAGE_FREE,	/* driver folio_free/page_free called */
	ZD_EV_FSDAX_WAKE,
	ZD_EV_GENERIC_RESET,
	ZD_EV_PGMAP_REGISTER,
	ZD_EV_PGMAP_KILL,
	ZD_EV_PGMAP_UNREGISTER,
	ZD_EV_MISUSE,
	ZD_EV_NR_TYPES,
};

const char *zd_event_name(enum zd_event_type t);

/* One lifecycle transition. */
struct zd_event {
	enum zd_event_type type;
	unsigned long pfn;		/* head pfn, or first pfn of a pgmap */
	int mem_type;			/* enum zd_memory_type, 0 for RAM */
	unsigned int order;
	int refcount;			/* after the transition */
	int delta;			/* references added (+) or dropped (-) */
	unsigned long tid;		/* the OS thread id (gettid) */
	uint64_t ts_ns;			/* monotonic, from the system's start */
};

/*
 * struct zd_trace_sink - where events go. @emit is called with the sink's
 * lock held, so a sink sees events one at a time; @close flushes.
 */
struct zd_trace_sink {
	void (*emit)(struct zd_trace_sink *sink, const struct zd_event *ev);
	void (*close)(struct zd_trace_sink *sink);
	void *priv;
};

/* Text lines: "ts tid EVENT pfn=... type=... order=... ref=... delta=...". */
struct zd_trace_sink *zd_trace_sink_text(FILE *out);
/* Chrome trace-event JSON (opens in Perfetto): instant events, one array. */
struct zd_trace_sink *zd_trace_sink_chrome(FILE *out);
/* Flush, close and free a sink (the FILE is not closed). */
void zd_trace_sink_destroy(struct zd_trace_sink *sink);

enum zd_misuse {
	ZD_MISUSE_PUT_FREE = 1,		/* put of a free page / refcount underflow */
	ZD_MISUSE_GET_FREE,		/* folio_get on a refcount-0 folio (R12.17) */
	ZD_MISUSE_DOUBLE_FREE,		/* page_free twice without a new init (R3.10) */
	ZD_MISUSE_INIT_IN_USE,		/* init of a page in use (R3.3, B8) */
	ZD_MISUSE_DEVICE_ON_LRU,	/* device folio put on an LRU (R12.5) */
	ZD_MISUSE_TEARDOWN_HELD,	/* pgmap still registered / pages held at destroy */
	ZD_MISUSE_LEAK,			/* RAM page not freed at destroy */
	ZD_MISUSE_BAD_STATE,		/* other bad page state (wrong type, no pgmap) */
	ZD_MISUSE_INVARIANT,		/* an invariant failed at a check point */
	ZD_MISUSE_HAZARD,		/* a known kernel hazard reproduced (R1.13) */
};

const char *zd_misuse_name(enum zd_misuse m);

/*
 * A report: what was wrong, the rule it breaks, and the page as
 * dump_page() would show it.
 */
struct zd_report {
	enum zd_misuse kind;
	const char *rule;		/* "R3.3" etc., or "" */
	char what[160];
	unsigned long pfn;
	int mem_type;			/* enum zd_memory_type, 0 for RAM */
	int refcount, mapcount, pincount;
	unsigned long flags;
	char dump[400];
};

/*
 * zd_check_invariants - check every page and pgmap now (R12.1, R12.2,
 * R12.4, R12.5; buddy and LRU consistency; mapcounts are folio totals; at
 * ZD_CHECK_FULL the shadow refcounts, and every mm's page tables walked so
 * that each folio's mapcount equals the entries mapping it). Reports each
 * failure (ZD_MISUSE_INVARIANT) and returns how
 * many were found. Does nothing at ZD_CHECK_OFF. Context: quiescent
 * system (no concurrent users).
 */
int zd_check_invariants(struct zd_system *sys);

/*
 * Full-level shadow accounting: every get/put through the API is mirrored
 * in a per-page shadow count; zd_check_invariants compares. Returns the
 * shadow count of @page's folio, or -1 below ZD_CHECK_FULL.
 */
int zd_shadow_refcount(struct zd_folio *folio);

#endif /* ZONEDEV_CHECK_H */
