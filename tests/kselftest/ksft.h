/* SPDX-License-Identifier: MIT */
/*
 * tests/kselftest/ksft.h - the kselftest TAP conventions, for the kernel's
 * mm selftests ported to the model.
 *
 * Follows tools/testing/selftests/kselftest.h and the log_test_start /
 * log_test_result pair of selftests/mm/vm_util.h: "TAP version 13", the
 * plan "1..N", "# " before messages, "ok N name", "not ok N name",
 * "ok N # SKIP name", "ok N # XFAIL name", "ok N # XPASS name" and the
 * closing "# Totals:" line. As in kselftest, the run fails (exit 1) unless
 * every planned test passed, was skipped or failed as expected: a test
 * that fails, an expected failure that passes (XPASS) and a plan that was
 * not met all fail it, so ctest fails with it.
 *
 * Each case runs on a machine of its own (struct ksft_case): a fresh
 * zd_system and a "current" process (zd_mm). At the end of the case the
 * invariants are checked while its mappings still exist, every process is
 * torn down, and the leak check runs; a misuse report or an invariant or
 * leak failure anywhere in the case fails it, as a kernel WARN would fail
 * a kselftest run read by a careful developer.
 *
 * Expected failures: a port lists, in one table at the top of its file,
 * the test names (fnmatch patterns) that fail because of a known,
 * not-yet-fixed difference from the kernel, each with its issue item. A
 * listed test that fails is reported as XFAIL with the reason; one that
 * passes is XPASS, which fails the run until its row is deleted.
 */
#ifndef ZD_KSFT_H
#define ZD_KSFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zonedev/zonedev.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_XFAIL	2
#define KSFT_XPASS	3
#define KSFT_SKIP	4

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One expected failure: tests whose name matches @pattern (fnmatch). A
 * NULL pattern matches nothing (an empty table holds just that).
 */
struct ksft_pending {
	const char *pattern;
	const char *item;	/* "issue 6 item 15" */
	const char *why;
};

void ksft_print_header(void);
void ksft_set_plan(unsigned int plan);
void ksft_print_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ksft_set_pending(const struct ksft_pending *table, size_t n);
/* ksft_finished(): the totals line; returns the process exit status. */
int ksft_finished(void);

/* ---- one test case ---- */

/*
 * log_test_start - name the next test ("[RUN] name" is printed) and start
 * its machine: ksft_sys and ksft_mm (the process that runs the test) are
 * valid until log_test_result's report is printed. The machine has
 * ksft_ram bytes of RAM (KSFT_RAM unless the test sets it).
 */
#define KSFT_RAM (64ul << 20)
extern uint64_t ksft_ram;
extern struct zd_system *ksft_sys;
extern struct zd_mm *ksft_mm;
void log_test_start(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * log_test_result - record the test's result. The first result recorded
 * counts (a test records exactly one, as in the kernel); it is printed by
 * ksft_test_end.
 */
void log_test_result(int result);
/*
 * ksft_test_end - check the machine (invariants, then every process torn
 * down, then the leak check) and print the test's TAP line. Every mm
 * created with ksft_fork is destroyed here if the test left it.
 */
void ksft_test_end(void);

/*
 * ksft_model_fail - a check the kernel's test cannot make but the model
 * can (the page-table level, which folio is mapped) found a difference
 * from what Linux does at this step: printed, and the case fails even if
 * the kernel's own check passes.
 */
void ksft_model_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fork(): a child of @parent; the case tears it down if the test does not. */
struct zd_mm *ksft_fork(struct zd_mm *parent);
/* exit(): tear a child down now. */
void ksft_exit_mm(struct zd_mm *mm);

#endif /* ZD_KSFT_H */
