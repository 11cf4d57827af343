// SPDX-License-Identifier: MIT
/*
 * test_trace - lifecycle events and the two trace sinks.
 *
 * The text sink (one line per event) shows a device page's life in
 * order - memremap_pages, init, get, put, free_zone_device_folio,
 * page_free, pgmap_kill, memunmap_pages - and a RAM folio's (alloc, get,
 * put, lru_add, isolate, putback, free), each line with the right pfn
 * and type; a misuse shows as a "misuse" event; switching the sink off
 * stops the lines. The Chrome sink writes JSON that starts with
 * {"traceEvents":[ , parses as JSON and closes properly, even when empty.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define MiB (1ull << 20)

/* ---- text lines parsed back into (name, pfn, type) ---- */

struct ev {
	char name[32];
	unsigned long pfn;
	char type[16];
};

static int parse_text(const char *buf, struct ev *evs, int max)
{
	int n = 0;

	for (const char *line = buf; *line && n < max;) {
		const char *nl = strchr(line, '\n');
		char tmp[256];
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len >= sizeof(tmp))
			fail_msg("trace line too long: %.60s", line);
		memcpy(tmp, line, len);
		tmp[len] = '\0';
		if (sscanf(tmp, "%*s tid=%*u %31s pfn=%lx type=%15s", evs[n].name, &evs[n].pfn,
			   evs[n].type) != 3)
			fail_msg("unparsable trace line: \"%s\"", tmp);
		n++;
		line = nl ? nl + 1 : line + len;
	}
	return n;
}

/* Assert @want[] (name, pfn, type) appears in @evs in this order (other events may interleave). */
static void expect_sequence(const struct ev *evs, int n, const struct ev *want, int nw)
{
	int i = 0;

	for (int w = 0; w < nw; w++) {
		while (i < n && (strcmp(evs[i].name, want[w].name) || evs[i].pfn != want[w].pfn ||
				 strcmp(evs[i].type, want[w].type)))
			i++;
		if (i == n) {
			for (int k = 0; k < n; k++)
				print_message("  %s pfn=%#lx type=%s\n", evs[k].name, evs[k].pfn,
					      evs[k].type);
			fail_msg("event %d \"%s pfn=%#lx type=%s\" missing or out of order", w,
				 want[w].name, want[w].pfn, want[w].type);
		}
		i++;
	}
}

static int count_named(const struct ev *evs, int n, const char *name)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += !strcmp(evs[i].name, name);
	return c;
}

#define MAX_EV 256

/* A device-private page's life, through a text sink given at creation. */
static void test_text_device(void **state)
{
	struct zt_reports log = { 0 };
	struct zd_system_options o;
	struct zd_trace_sink *sink;
	struct zd_system_stats st;
	struct zd_system *sys;
	struct zt_dev *d = calloc(1, sizeof(*d));
	struct ev *evs = calloc(MAX_EV, sizeof(*evs));
	FILE *f = tmpfile();
	unsigned long pfn, base;
	char *buf;
	int n;

	(void)state;
	ZT_TRUE(d && evs && f);
	sink = zd_trace_sink_text(f);
	ZT_TRUE(sink != NULL);
	zt_options(&o, &log, ZD_SCHEME_ZERO, ZD_CHECK_CHEAP);
	o.trace = sink;
	sys = zt_system_create_opts(&o);

	zt_dev_create(d, sys, ZD_MEMORY_DEVICE_PRIVATE, 2 * MiB, 0);
	base = zt_dev_pfn(d, 0);
	pfn = zt_dev_pfn(d, 3);
	ZT_EQ(zt_dev_alloc(d, 3, 0), 0);
	zd_folio_get(zt_dev_folio(d, 3));
	zd_folio_put(zt_dev_folio(d, 3));
	zd_folio_put(zt_dev_folio(d, 3));
	ZT_EQU(zt_dev_nr_free(d), 1);
	zt_dev_destroy(d);
	zd_system_get_stats(sys, &st);
	zt_system_destroy_clean(sys, &log);
	zd_trace_sink_destroy(sink);

	buf = zt_slurp(f, NULL);
	ZT_TRUE(buf != NULL);
	n = parse_text(buf, evs, MAX_EV);
	{
		const struct ev want[] = {
			{ "memremap_pages", base, "private" },
			{ "init", pfn, "private" },
			{ "get", pfn, "private" },
			{ "put", pfn, "private" },
			{ "put", pfn, "private" },
			{ "free_zone_device_folio", pfn, "private" },
			{ "page_free", pfn, "private" },
			{ "pgmap_kill", base, "private" },
			{ "memunmap_pages", base, "private" },
		};

		expect_sequence(evs, n, want, (int)(sizeof(want) / sizeof(want[0])));
	}
	ZT_EQ(count_named(evs, n, "page_free"), 1);
	ZT_EQ(count_named(evs, n, "misuse"), 0);
	ZT_TRUE(st.events > 0 && st.events <= (uint64_t)n);
	free(buf);
	fclose(f);
	free(evs);
	free(d);
}

/* A RAM folio's life, with the sink switched on and off at run time. */
static void test_text_ram_switch(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct ev *evs = calloc(MAX_EV, sizeof(*evs));
	struct zd_trace_sink *sink;
	struct zd_folio *folio;
	FILE *f = tmpfile();
	unsigned long pfn;
	size_t len1, len2;
	char *buf;
	int n;

	ZT_TRUE(evs && f);
	sink = zd_trace_sink_text(f);
	zd_system_set_trace(fx->sys, sink);
	folio = zd_folio_alloc(fx->sys, 0, 2);
	ZT_TRUE(folio != NULL);
	pfn = zd_folio_pfn(folio);
	zd_folio_get(folio);
	ZT_EQ(zd_folio_add_lru(folio), 0);
	ZT_TRUE(zd_folio_isolate_lru(folio));
	zd_folio_putback_lru(folio);
	zd_folio_put(folio);
	zd_folio_put(folio);
	zd_system_set_trace(fx->sys, NULL);
	fflush(f);
	len1 = (size_t)ftell(f);
	folio = zd_folio_alloc(fx->sys, 0, 0);	/* not traced */
	zd_folio_put(folio);
	fflush(f);
	len2 = (size_t)ftell(f);
	ZT_EQU(len2, len1);
	zd_trace_sink_destroy(sink);

	buf = zt_slurp(f, NULL);
	n = parse_text(buf, evs, MAX_EV);
	{
		const struct ev want[] = {
			{ "alloc", pfn, "ram" },
			{ "get", pfn, "ram" },
			{ "lru_add", pfn, "ram" },
			{ "isolate", pfn, "ram" },
			{ "putback", pfn, "ram" },
			{ "put", pfn, "ram" },
			{ "put", pfn, "ram" },
			{ "free", pfn, "ram" },
		};

		expect_sequence(evs, n, want, (int)(sizeof(want) / sizeof(want[0])));
	}
	ZT_EQ(count_named(evs, n, "alloc"), 1);
	ZT_EQ(count_named(evs, n, "free"), 1);
	free(buf);
	fclose(f);
	free(evs);
}

/* A misuse is an event too, for the page it concerns. */
static void test_text_misuse(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct ev *evs = calloc(MAX_EV, sizeof(*evs));
	struct zt_dev *d = &fx->dev[0];
	struct zd_trace_sink *sink;
	FILE *f = tmpfile();
	char *buf;
	int n;

	ZT_TRUE(evs && f);
	zt_dev_create(d, fx->sys, ZD_MEMORY_DEVICE_COHERENT, 2 * MiB, 0);
	sink = zd_trace_sink_text(f);
	zd_system_set_trace(fx->sys, sink);
	zd_folio_put(zt_dev_folio(d, 1));	/* put of a free page */
	zd_system_set_trace(fx->sys, NULL);
	zd_trace_sink_destroy(sink);
	zt_expect_report(&fx->log, ZD_MISUSE_PUT_FREE, zt_dev_pfn(d, 1),
			 ZD_MEMORY_DEVICE_COHERENT);
	zt_reports_clear(&fx->log);
	buf = zt_slurp(f, NULL);
	n = parse_text(buf, evs, MAX_EV);
	{
		const struct ev want[] = { { "misuse", zt_dev_pfn(d, 1), "coherent" } };

		expect_sequence(evs, n, want, 1);
	}
	ZT_EQ(count_named(evs, n, "page_free"), 0);
	free(buf);
	fclose(f);
	free(evs);
	zt_dev_destroy(d);
}

/* ---- a small JSON checker (RFC 8259 grammar, no semantics) ---- */

struct json {
	const char *s;
	int depth;
};

static void ws(struct json *j)
{
	while (*j->s == ' ' || *j->s == '\n' || *j->s == '\t' || *j->s == '\r')
		j->s++;
}

static bool value(struct json *j);

static bool string(struct json *j)
{
	if (*j->s != '"')
		return false;
	for (j->s++; *j->s != '"'; j->s++) {
		if (!*j->s || (unsigned char)*j->s < 0x20)
			return false;
		if (*j->s == '\\') {
			j->s++;
			if (!strchr("\"\\/bfnrtu", *j->s) || !*j->s)
				return false;
		}
	}
	j->s++;
	return true;
}

static bool number(struct json *j)
{
	const char *start = j->s;

	if (*j->s == '-')
		j->s++;
	if (!isdigit((unsigned char)*j->s))
		return false;
	if (*j->s == '0')
		j->s++;
	else
		while (isdigit((unsigned char)*j->s))
			j->s++;
	if (*j->s == '.') {
		j->s++;
		if (!isdigit((unsigned char)*j->s))
			return false;
		while (isdigit((unsigned char)*j->s))
			j->s++;
	}
	if (*j->s == 'e' || *j->s == 'E') {
		j->s++;
		if (*j->s == '+' || *j->s == '-')
			j->s++;
		if (!isdigit((unsigned char)*j->s))
			return false;
		while (isdigit((unsigned char)*j->s))
			j->s++;
	}
	return j->s > start;
}

static bool members(struct json *j, char close, bool object)
{
	j->s++;
	ws(j);
	if (*j->s == close) {
		j->s++;
		return true;
	}
	for (;;) {
		ws(j);
		if (object) {
			if (!string(j))
				return false;
			ws(j);
			if (*j->s++ != ':')
				return false;
		}
		if (!value(j))
			return false;
		ws(j);
		if (*j->s == ',') {
			j->s++;
			continue;
		}
		if (*j->s++ != close)
			return false;
		return true;
	}
}

static bool value(struct json *j)
{
	bool ok;

	ws(j);
	if (++j->depth > 64)
		return false;
	if (*j->s == '{')
		ok = members(j, '}', true);
	else if (*j->s == '[')
		ok = members(j, ']', false);
	else if (*j->s == '"')
		ok = string(j);
	else if (!strncmp(j->s, "true", 4) || !strncmp(j->s, "null", 4))
		ok = (j->s += 4, true);
	else if (!strncmp(j->s, "false", 5))
		ok = (j->s += 5, true);
	else
		ok = number(j);
	j->depth--;
	return ok;
}

static void expect_json(const char *buf)
{
	struct json j = { .s = buf, .depth = 0 };

	if (!value(&j)) {
		fail_msg("not JSON at offset %ld: \"%.40s\"", (long)(j.s - buf), j.s);
	}
	ws(&j);
	if (*j.s)
		fail_msg("trailing bytes after the JSON value at offset %ld", (long)(j.s - buf));
}

static int count_str(const char *buf, const char *needle)
{
	int c = 0;

	for (const char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
		c++;
	return c;
}

static void expect_chrome_frame(const char *buf)
{
	size_t len = strlen(buf);

	ZT_TRUE(strncmp(buf, "{\"traceEvents\":[", 16) == 0);
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	ZT_TRUE(len > 0 && buf[len - 1] == '}');
	expect_json(buf);
}

/* The Chrome sink: valid JSON with the expected events. */
static void test_chrome(void **state)
{
	struct zt_reports log = { 0 };
	struct zd_system_options o;
	struct zd_trace_sink *sink;
	struct zd_system_stats st;
	struct zd_system *sys;
	struct zt_dev *d = calloc(1, sizeof(*d));
	struct zd_folio *ram;
	FILE *f = tmpfile();
	char *buf, pfnbuf[64];

	(void)state;
	ZT_TRUE(d && f);
	sink = zd_trace_sink_chrome(f);
	ZT_TRUE(sink != NULL);
	zt_options(&o, &log, ZD_SCHEME_ONE, ZD_CHECK_CHEAP);
	o.trace = sink;
	sys = zt_system_create_opts(&o);
	zt_dev_create(d, sys, ZD_MEMORY_DEVICE_PCI_P2PDMA, 2 * MiB, 0);
	ZT_EQ(zt_dev_alloc(d, 4, 0), 0);
	zd_folio_put(zt_dev_folio(d, 4));
	ram = zd_folio_alloc(sys, 0, 0);
	zd_folio_put(ram);
	zt_dev_destroy(d);
	zd_system_get_stats(sys, &st);
	zt_system_destroy_clean(sys, &log);
	zd_trace_sink_destroy(sink);

	buf = zt_slurp(f, NULL);
	ZT_TRUE(buf != NULL);
	expect_chrome_frame(buf);
	ZT_EQ(count_str(buf, "\"name\":\"page_free\""), 1);
	ZT_EQ(count_str(buf, "\"name\":\"alloc\""), 2);	/* ours and the zero page's */
	ZT_EQ(count_str(buf, "\"name\":\"memremap_pages\""), 1);
	ZT_EQ(count_str(buf, "\"ph\":\"i\""), (int)st.events);
	snprintf(pfnbuf, sizeof(pfnbuf), "\"pfn\":\"%#lx\"", zt_dev_pfn(d, 4));
	ZT_TRUE(count_str(buf, pfnbuf) >= 3);		/* init, put, page_free at least */
	free(buf);
	fclose(f);
	free(d);
}

/* Nothing traced: still a well-formed, empty event array. */
static void test_chrome_empty(void **state)
{
	FILE *f = tmpfile();
	struct zd_trace_sink *sink;
	char *buf;

	(void)state;
	ZT_TRUE(f != NULL);
	sink = zd_trace_sink_chrome(f);
	zd_trace_sink_destroy(sink);
	buf = zt_slurp(f, NULL);
	expect_chrome_frame(buf);
	ZT_EQ(count_str(buf, "\"ph\""), 0);
	free(buf);
	fclose(f);
}

/* Every event and misuse kind has a name of its own. */
static void test_names(void **state)
{
	(void)state;
	for (int a = 0; a < ZD_EV_NR_TYPES; a++) {
		ZT_TRUE(strcmp(zd_event_name((enum zd_event_type)a), "?") != 0);
		for (int b = 0; b < a; b++)
			ZT_TRUE(strcmp(zd_event_name((enum zd_event_type)a),
				       zd_event_name((enum zd_event_type)b)) != 0);
	}
	ZT_TRUE(strcmp(zd_event_name(ZD_EV_NR_TYPES), "?") == 0);
	for (int m = ZD_MISUSE_PUT_FREE; m <= ZD_MISUSE_INVARIANT; m++)
		ZT_TRUE(strcmp(zd_misuse_name((enum zd_misuse)m), "?") != 0);
	ZT_TRUE(strcmp(zd_memory_type_name(ZD_MEMORY_DEVICE_FS_DAX), "fsdax") == 0);
	ZT_TRUE(strcmp(zd_memory_type_name(0), "ram") == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_device),
		ZT_TEST(test_text_ram_switch),
		ZT_TEST(test_text_misuse),
		cmocka_unit_test(test_chrome),
		cmocka_unit_test(test_chrome_empty),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
