// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_scenario.c - libFuzzer harness for the scenario parser
 * and runner (`zonedev run`): every input is parsed, and one that parses
 * and fits the fuzzing budget is run on a fresh machine, end-of-run checks
 * and teardown included. Built with clang (-fsanitize=fuzzer,address,
 * undefined) by `make fuzz`; see docs/fuzzing.md.
 *
 * Nothing carries over between inputs: the parser and the runner keep all
 * their state in the program and the run (no globals), each run builds
 * and destroys its own system, and the harness itself keeps no state.
 *
 * The budget keeps each input short and deterministic: no `thread`
 * blocks (interleavings are not reproducible), sleeps and unbind
 * deadlines capped at a few milliseconds, and lengths, sizes and counts
 * that would take seconds of page-by-page work (a touch of a terabyte of
 * zero pages) skipped. Such inputs still exercise the parser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define FUZZ_MAX_RAM		(64ull << 20)
#define FUZZ_MAX_DEVICE		(64ull << 20)
#define FUZZ_MAX_BYTES		(16ull << 20)	/* read, write, touch, file data */
#define FUZZ_MAX_FILE		(1ull << 30)
#define FUZZ_MAX_PAGES		65536ull	/* gup, pin, devalloc */
#define FUZZ_MAX_SLEEP_NS	(1ull * 1000 * 1000)
#define FUZZ_DEADLINE_NS	(20ull * 1000 * 1000)
#define FUZZ_MAX_COMMANDS	256

static bool verb_is(const struct zr_cmd *cmd, const char *name)
{
	return !strcmp(cmd->verb->name, name);
}

/* Does @prog fit the budget? (It has no threads, so main is every command.) */
static bool within_budget(const struct zr_program *prog)
{
	const struct zr_block *b = &prog->main;

	if (prog->names[ZR_THREAD].n || b->n > FUZZ_MAX_COMMANDS)
		return false;
	for (int i = 0; i < prog->ndevices; i++)
		if (prog->devices[i].size > FUZZ_MAX_DEVICE)
			return false;
	for (int i = 0; i < b->n; i++) {
		const struct zr_cmd *c = b->v[i];

		if (verb_is(c, "system") && c->u.system.ram > FUZZ_MAX_RAM)
			return false;
		if (verb_is(c, "sleep") && c->u.sleep.ns > FUZZ_MAX_SLEEP_NS)
			return false;
		if (verb_is(c, "unbind") &&
		    (!c->u.unbind.has_deadline || c->u.unbind.deadline_ns > FUZZ_DEADLINE_NS))
			return false;
		if ((verb_is(c, "read") || verb_is(c, "write")) &&
		    c->u.access.len > FUZZ_MAX_BYTES)
			return false;
		if (verb_is(c, "touch") && c->u.range.len > FUZZ_MAX_BYTES)
			return false;
		if ((verb_is(c, "file") || verb_is(c, "truncate")) &&
		    (c->u.file.size > FUZZ_MAX_FILE || c->u.file.data.len > FUZZ_MAX_BYTES))
			return false;
		if ((verb_is(c, "gup") || verb_is(c, "pin")) && c->u.gup.npages > FUZZ_MAX_PAGES)
			return false;
		if (verb_is(c, "devalloc") && c->u.devalloc.n > FUZZ_MAX_PAGES)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zr_options opts = { .deadline_ns = FUZZ_DEADLINE_NS };
	struct zr_program *prog = NULL;
	char *text = malloc(size + 1);
	FILE *sink = fopen("/dev/null", "w");

	if (!text || !sink) {
		free(text);
		if (sink)
			fclose(sink);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (int s = 0; s < ZD_FAULT_NR_SITES; s++)
		opts.fault[s].times = -1;
	if (!zr_parse("fuzz.zds", text, size, sink, &prog)) {
		if (within_budget(prog))
			zr_run_program(prog, &opts);
		zr_program_free(prog);
	}
	fclose(sink);
	free(text);
	return 0;
}
