// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/ksft.c - kselftest's TAP output and a machine per test
 * case. See ksft.h. Counterparts: tools/testing/selftests/kselftest.h,
 * log_test_start/log_test_result of tools/testing/selftests/mm/vm_util.h.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksft.h"

struct zd_system *ksft_sys;
struct zd_mm *ksft_mm;
uint64_t ksft_ram = KSFT_RAM;

static unsigned int plan, nr_run;
static unsigned int cnt_pass, cnt_fail, cnt_xfail, cnt_xpass, cnt_skip;
static const struct ksft_pending *pending;
static size_t nr_pending;

static char test_name[1024];
static int result;		/* -1: none recorded yet */
static unsigned int nr_reports;
static bool model_failed;
static struct zd_report first_report;

#define KSFT_MAX_CHILDREN 8
static struct zd_mm *children[KSFT_MAX_CHILDREN];

void ksft_print_header(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

void ksft_set_plan(unsigned int n)
{
	plan = n;
	printf("1..%u\n", n);
	fflush(stdout);
}

void ksft_print_msg(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void ksft_set_pending(const struct ksft_pending *table, size_t n)
{
	pending = table;
	nr_pending = n;
}

int ksft_finished(void)
{
	bool ok = plan == cnt_pass + cnt_xfail + cnt_skip && nr_run == plan;

	if (nr_run != plan)
		ksft_print_msg("Planned tests != run tests (%u != %u)\n", plan, nr_run);
	printf("# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:0\n", cnt_pass,
	       cnt_fail, cnt_xfail, cnt_xpass, cnt_skip);
	fflush(stdout);
	return ok ? 0 : 1;
}

/* Misuse and invariant reports fail the case; the first one is printed. */
static void report_cb(void *ctx, const struct zd_report *r)
{
	(void)ctx;
	if (!nr_reports++)
		first_report = *r;
}

void log_test_start(const char *fmt, ...)
{
	struct zd_system_options o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test_name, sizeof(test_name), fmt, ap);
	va_end(ap);
	ksft_print_msg("[RUN] %s\n", test_name);

	result = -1;
	nr_reports = 0;
	model_failed = false;
	zd_system_options_init(&o);
	o.ram_size = ksft_ram;
	o.check = ZD_CHECK_CHEAP;
	o.report = report_cb;
	if (zd_system_create(&o, &ksft_sys) || zd_mm_create(ksft_sys, &ksft_mm)) {
		fprintf(stderr, "cannot create the machine\n");
		exit(1);
	}
}

void log_test_result(int r)
{
	if (result < 0)
		result = r;
}

void ksft_model_fail(const char *fmt, ...)
{
	va_list ap;

	printf("# model check: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	model_failed = true;
}

struct zd_mm *ksft_fork(struct zd_mm *parent)
{
	struct zd_mm *child = NULL;

	if (zd_fork(parent, &child))
		return NULL;
	for (int i = 0; i < KSFT_MAX_CHILDREN; i++) {
		if (!children[i]) {
			children[i] = child;
			return child;
		}
	}
	fprintf(stderr, "too many children\n");
	exit(1);
}

void ksft_exit_mm(struct zd_mm *mm)
{
	for (int i = 0; i < KSFT_MAX_CHILDREN; i++)
		if (children[i] == mm)
			children[i] = NULL;
	zd_mm_destroy(mm);
}

static const struct ksft_pending *find_pending(void)
{
	for (size_t i = 0; i < nr_pending; i++)
		if (pending[i].pattern && !fnmatch(pending[i].pattern, test_name, 0))
			return &pending[i];
	return NULL;
}

void ksft_test_end(void)
{
	const struct ksft_pending *p = find_pending();
	int r = result;

	/* Invariants while the mappings exist, then exit of every process. */
	zd_check_invariants(ksft_sys);
	for (int i = 0; i < KSFT_MAX_CHILDREN; i++)
		if (children[i])
			ksft_exit_mm(children[i]);
	zd_mm_destroy(ksft_mm);
	ksft_mm = NULL;
	zd_system_leak_check(ksft_sys);
	zd_system_destroy(ksft_sys);
	ksft_sys = NULL;

	if (r < 0) {
		ksft_print_msg("no result recorded\n");
		r = KSFT_FAIL;
	}
	if (nr_reports && r != KSFT_SKIP) {
		ksft_print_msg("%u report(s); first: %s (%s): %s\n", nr_reports,
			       zd_misuse_name(first_report.kind), first_report.rule,
			       first_report.what);
		ksft_print_msg("  %s\n", first_report.dump);
		r = KSFT_FAIL;
	}
	if (model_failed && r == KSFT_PASS)
		r = KSFT_FAIL;
	if (p && r == KSFT_FAIL) {
		ksft_print_msg("pending: %s: %s\n", p->item, p->why);
		r = KSFT_XFAIL;
	} else if (p && r == KSFT_PASS) {
		ksft_print_msg("%s is fixed: delete the row \"%s\" from the pending table\n",
			       p->item, p->pattern);
		r = KSFT_XPASS;
	}
	nr_run++;
	switch (r) {
	case KSFT_PASS:
		cnt_pass++;
		printf("ok %u %s\n", nr_run, test_name);
		break;
	case KSFT_XFAIL:
		cnt_xfail++;
		printf("ok %u # XFAIL %s\n", nr_run, test_name);
		break;
	case KSFT_XPASS:
		cnt_xpass++;
		printf("ok %u # XPASS %s\n", nr_run, test_name);
		break;
	case KSFT_SKIP:
		cnt_skip++;
		printf("ok %u # SKIP %s\n", nr_run, test_name);
		break;
	default:
		cnt_fail++;
		printf("not ok %u %s\n", nr_run, test_name);
		break;
	}
	fflush(stdout);
}
