/* SPDX-License-Identifier: MIT */
/*
 * zonedev/events.h - lifecycle events and the trace-sink callback.
 *
 * Models the kernel's tracepoints (include/linux/tracepoint.h and the mm
 * trace events of include/trace/events/page_ref.h, pagemap.h): the core
 * emits one struct zd_event per transition to whatever sink is registered
 * on the system (zd_system_options.trace or zd_system_set_trace), as a
 * tracepoint calls its registered probes. The core knows nothing of the
 * sinks themselves; the text and JSON sinks are in <zonedev/trace.h>.
 */
#ifndef ZONEDEV_EVENTS_H
#define ZONEDEV_EVENTS_H

#include <stdint.h>

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

/*
 * zd_event_name - the event's name as traces print it ("get", "put",
 * "free_zone_device_folio", ...). Context: any. Returns a static string,
 * "?" for a value out of range.
 */
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
 * struct zd_trace_sink - where events go: the probe registered on a
 * system. @emit is called with the system's trace lock held, so a sink
 * sees events one at a time and needs no locking of its own; it must not
 * call back into the system. @close flushes (zd_trace_sink_destroy calls
 * it). @priv is the sink's own.
 */
struct zd_trace_sink {
	void (*emit)(struct zd_trace_sink *sink, const struct zd_event *ev);
	void (*close)(struct zd_trace_sink *sink);
	void *priv;
};

#endif /* ZONEDEV_EVENTS_H */
