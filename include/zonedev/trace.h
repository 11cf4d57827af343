/* SPDX-License-Identifier: MIT */
/*
 * zonedev/trace.h - trace sinks: text lines and Chrome trace-event JSON.
 *
 * The consumers above the core, as the kernel's trace buffer and its
 * output formats sit above the tracepoints. Register a sink with
 * zd_system_options.trace or zd_system_set_trace (<zonedev/system.h>).
 */
#ifndef ZONEDEV_TRACE_H
#define ZONEDEV_TRACE_H

#include <stdio.h>
#include <zonedev/events.h>

/*
 * zd_trace_sink_text - a sink writing one line per event to @out:
 * "ts tid EVENT pfn=... type=... order=... ref=... delta=...".
 * Context: any. Returns the sink, or NULL when out of memory.
 */
struct zd_trace_sink *zd_trace_sink_text(FILE *out);

/*
 * zd_trace_sink_chrome - a sink writing Chrome trace-event JSON to @out
 * (opens in Perfetto): one instant event per transition and a refcount
 * counter track per pfn, in one "traceEvents" array that
 * zd_trace_sink_destroy closes. Context: any. Returns the sink, or NULL
 * when out of memory.
 */
struct zd_trace_sink *zd_trace_sink_chrome(FILE *out);

/*
 * zd_trace_sink_destroy - flush, close and free a sink made by the
 * functions above (its FILE is not closed); NULL is ignored. Context: the
 * sink must no longer be registered on a running system.
 */
void zd_trace_sink_destroy(struct zd_trace_sink *sink);

#endif /* ZONEDEV_TRACE_H */
