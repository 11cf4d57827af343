// SPDX-License-Identifier: MIT
/*
 * src/check/trace.c - trace sinks: text lines and Chrome trace-event JSON.
 *
 * Models the consumer side of the kernel's tracing (kernel/trace/: the
 * probes a tracepoint calls and trace_output.c's formatting); the events
 * come up from src/core/events.c through the sink registered on the
 * system. The JSON sink writes the "traceEvents" array format that
 * Perfetto and chrome://tracing open: one instant event per transition,
 * the pfn and counts in "args", one track per thread, and a counter track
 * of the refcount per pfn.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <zonedev/memremap.h>	/* zd_memory_type_name */
#include <zonedev/trace.h>

struct text_sink {
	struct zd_trace_sink sink;
	FILE *out;
};

struct chrome_sink {
	struct zd_trace_sink sink;
	FILE *out;
	bool first;
};

static void text_emit(struct zd_trace_sink *s, const struct zd_event *ev)
{
	struct text_sink *t = (struct text_sink *)s;

	fprintf(t->out, "%llu.%06llu tid=%lu %-22s pfn=%#lx type=%s order=%u ref=%d delta=%+d\n",
		(unsigned long long)(ev->ts_ns / 1000000000ull),
		(unsigned long long)(ev->ts_ns / 1000 % 1000000ull), ev->tid,
		zd_event_name(ev->type), ev->pfn, zd_memory_type_name(ev->mem_type), ev->order,
		ev->refcount, ev->delta);
}

static void text_close(struct zd_trace_sink *s)
{
	fflush(((struct text_sink *)s)->out);
}

struct zd_trace_sink *zd_trace_sink_text(FILE *out)
{
	struct text_sink *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->out = out;
	t->sink.emit = text_emit;
	t->sink.close = text_close;
	return &t->sink;
}

static void chrome_emit(struct zd_trace_sink *s, const struct zd_event *ev)
{
	struct chrome_sink *c = (struct chrome_sink *)s;
	double us = (double)ev->ts_ns / 1000.0;

	fprintf(c->out,
		"%s{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,"
		"\"pid\":1,\"tid\":%lu,\"args\":{\"pfn\":\"%#lx\",\"type\":\"%s\",\"order\":%u,"
		"\"refcount\":%d,\"delta\":%d}}",
		c->first ? "" : ",\n", zd_event_name(ev->type), zd_memory_type_name(ev->mem_type),
		us, ev->tid, ev->pfn, zd_memory_type_name(ev->mem_type), ev->order, ev->refcount,
		ev->delta);
	fprintf(c->out,
		",\n{\"name\":\"refcount %#lx\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":1,"
		"\"args\":{\"refcount\":%d}}", ev->pfn, us, ev->refcount);
	c->first = false;
}

static void chrome_close(struct zd_trace_sink *s)
{
	struct chrome_sink *c = (struct chrome_sink *)s;

	fprintf(c->out, "\n],\"displayTimeUnit\":\"ns\"}\n");
	fflush(c->out);
}

struct zd_trace_sink *zd_trace_sink_chrome(FILE *out)
{
	struct chrome_sink *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->out = out;
	c->first = true;
	c->sink.emit = chrome_emit;
	c->sink.close = chrome_close;
	fprintf(out, "{\"traceEvents\":[\n");
	return &c->sink;
}

void zd_trace_sink_destroy(struct zd_trace_sink *sink)
{
	if (!sink)
		return;
	if (sink->close)
		sink->close(sink);
	free(sink);
}
