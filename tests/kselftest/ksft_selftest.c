// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/ksft_selftest.c - the TAP shim's own verdicts (ksft.c):
 * run with one argument naming what the one test does, it must exit 0
 * only when kselftest would: "pass", "skip", "xfail" (a failure listed as
 * pending) pass; "fail", "xpass" (a pending test that passes), "report"
 * (a library misuse report during the test), "model" (a failed model
 * check), "leak" (a page left behind) and "short" (fewer tests run than
 * planned) fail. ctest runs each mode and expects that.
 */
#include <stdio.h>
#include <string.h>

#include "ksft.h"

static const struct ksft_pending pending[] = {
	{ "pending *", "issue 0 item 0", "the shim's own test" },
};

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "pass";
	bool pend = !strcmp(mode, "xfail") || !strcmp(mode, "xpass");
	int result = KSFT_PASS;

	ksft_print_header();
	ksft_set_pending(pending, ARRAY_SIZE(pending));
	ksft_set_plan(!strcmp(mode, "short") ? 2 : 1);
	log_test_start("%s%s", pend ? "pending " : "", mode);
	if (!strcmp(mode, "fail") || !strcmp(mode, "xfail"))
		result = KSFT_FAIL;
	else if (!strcmp(mode, "skip"))
		result = KSFT_SKIP;
	else if (!strcmp(mode, "model"))
		ksft_model_fail("the shim's own model check\n");
	else if (!strcmp(mode, "report")) {
		struct zd_folio *folio = zd_folio_alloc(ksft_sys, 0, 0);

		zd_unpin_user_page(&folio->page);	/* an unpin without a pin: misuse */
		zd_folio_put(folio);
	}
	else if (!strcmp(mode, "leak"))
		zd_folio_alloc(ksft_sys, 0, 0);
	log_test_result(result);
	ksft_test_end();
	return ksft_finished();
}
