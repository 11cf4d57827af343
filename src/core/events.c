// SPDX-License-Identifier: MIT
/*
 * src/core/events.c - lifecycle events.
 *
 * Models the kernel's tracepoint emission (include/linux/tracepoint.h and
 * the mm events of include/trace/events/page_ref.h, pagemap.h): each
 * transition becomes a struct zd_event handed to the probe registered on
 * the system (a struct zd_trace_sink) under the trace lock, so sinks need
 * no locking. The sinks themselves live above, in src/check/trace.c.
 */
#include "internal.h"

static const char *const event_names[ZD_EV_NR_TYPES] = {
	[ZD_EV_ALLOC] = "alloc",
	[ZD_EV_FREE] = "free",
	[ZD_EV_INIT] = "init",
	[ZD_EV_GET] = "get",
	[ZD_EV_PUT] = "put",
	[ZD_EV_PIN] = "pin",
	[ZD_EV_UNPIN] = "unpin",
	[ZD_EV_MAP] = "map",
	[ZD_EV_UNMAP] = "unmap",
	[ZD_EV_ISOLATE] = "isolate",
	[ZD_EV_PUTBACK] = "putback",
	[ZD_EV_LRU_ADD] = "lru_add",
	[ZD_EV_MIGRATE] = "migrate",
	[ZD_EV_DEVICE_FREE] = "free_zone_device_folio",
	[ZD_EV_PAGE_FREE] = "page_free",
	[ZD_EV_FSDAX_WAKE] = "fsdax_wake",
	[ZD_EV_GENERIC_RESET] = "generic_reset",
	[ZD_EV_PGMAP_REGISTER] = "memremap_pages",
	[ZD_EV_PGMAP_KILL] = "pgmap_kill",
	[ZD_EV_PGMAP_UNREGISTER] = "memunmap_pages",
	[ZD_EV_MISUSE] = "misuse",
};

const char *zd_event_name(enum zd_event_type t)
{
	return (unsigned)t < ZD_EV_NR_TYPES && event_names[t] ? event_names[t] : "?";
}

static void emit(struct zd_system *sys, struct zd_event *ev)
{
	struct zd_trace_sink *sink;

	ev->tid = zd_thread_id();
	ev->ts_ns = zd_monotonic_ns() - sys->t0;
	zd_spin_lock(&sys->trace_lock);
	sink = zd_atomic_load_relaxed(&sys->trace);
	if (sink)
		sink->emit(sink, ev);
	zd_spin_unlock(&sys->trace_lock);
	zd_atomic_fetch_add_relaxed(&sys->st_events, 1);
}

void _zd_emit(struct zd_system *sys, enum zd_event_type type, const struct zd_folio *folio,
	      int delta)
{
	_zd_emit_ref(sys, type, folio, delta, folio ? zd_folio_ref_count(folio) : 0);
}

void _zd_emit_ref(struct zd_system *sys, enum zd_event_type type, const struct zd_folio *folio,
		  int delta, int refcount)
{
	struct zd_dev_pagemap *pgmap = folio ? zd_folio_pgmap(folio) : NULL;
	struct zd_event ev = {
		.type = type,
		.pfn = folio ? zd_folio_pfn(folio) : 0,
		.mem_type = pgmap ? (int)pgmap->type : 0,
		.order = folio ? zd_folio_order(folio) : 0,
		.refcount = refcount,
		.delta = delta,
	};

	if (!_zd_tracing(sys))
		return;
	emit(sys, &ev);
}

void _zd_emit_pgmap(struct zd_system *sys, enum zd_event_type type,
		    const struct zd_dev_pagemap *pgmap)
{
	struct zd_event ev = {
		.type = type,
		.pfn = zd_pgmap_range_pfn(pgmap, 0),
		.mem_type = (int)pgmap->type,
		.order = pgmap->vmemmap_shift,
		.refcount = (int)zd_pgmap_ref_count(pgmap),
		.delta = (int)zd_pgmap_nr_pages(pgmap),
	};

	if (!_zd_tracing(sys))
		return;
	emit(sys, &ev);
}
