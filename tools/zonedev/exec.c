// SPDX-License-Identifier: MIT
/*
 * exec.c - running a parsed scenario: the command loop (of the main script
 * and of each thread block), failure and misuse-report bookkeeping, and
 * the end of the run (leaks held by sets, exit of every process, unbind
 * of every device, closing files and unmounting, the machine's own leak
 * check and teardown). The verbs' executors are in their families,
 * verbs_*.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

/* ---- failures and reports ---- */

bool zr_run_failed(struct zr_run *run)
{
	bool failed;

	zd_mutex_lock(run->lock);
	failed = run->failed;
	zd_mutex_unlock(run->lock);
	return failed;
}

static void mark_failed(struct zr_run *run)
{
	zd_mutex_lock(run->lock);
	run->failed = true;
	zd_mutex_unlock(run->lock);
}

void zr_fail(struct zr_ctx *ctx, int line, const char *fmt, ...)
{
	char msg[1024];
	size_t o;
	va_list ap;

	if (line)
		o = (size_t)snprintf(msg, sizeof(msg), "%s:%d: ", ctx->run->prog->file, line);
	else
		o = (size_t)snprintf(msg, sizeof(msg), "%s: ", ctx->run->prog->file);
	va_start(ap, fmt);
	if (o < sizeof(msg))
		o += (size_t)vsnprintf(msg + o, sizeof(msg) - o, fmt, ap);
	va_end(ap);
	if (ctx->thread && o < sizeof(msg))
		snprintf(msg + o, sizeof(msg) - o, " (in thread %s)", ctx->thread);
	fprintf(stderr, "%s\n", msg);
	ctx->reported = true;
	mark_failed(ctx->run);
}

/* Print @text indented by two blanks, line by line. */
static void print_indented(FILE *f, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(f, "  %.*s\n", (int)n, text);
		text += n;
		if (*text)
			text++;
	}
}

void zr_dump_folio(const struct zd_folio *folio)
{
	char buf[512];

	if (zd_dump_page(&folio->page, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "(no dump: pfn %#lx)", zd_folio_pfn(folio));
	print_indented(stderr, buf);
}

void zr_report_cb(void *arg, const struct zd_report *r)
{
	struct zr_run *run = arg;

	zd_mutex_lock(run->report_lock);
	if (run->nreports == run->cap) {
		size_t cap = run->cap ? run->cap * 2 : 16;
		struct zd_report *v = realloc(run->reports, cap * sizeof(*v));

		if (!v) {
			run->nlost++;
			zd_mutex_unlock(run->report_lock);
			return;
		}
		run->reports = v;
		run->cap = cap;
	}
	run->reports[run->nreports++] = *r;
	zd_mutex_unlock(run->report_lock);
}

static size_t reports_seen(struct zr_run *run)
{
	size_t n;

	zd_mutex_lock(run->report_lock);
	n = run->nreports + run->nlost;
	zd_mutex_unlock(run->report_lock);
	return n;
}

/* Print every report not printed yet after @header; returns how many. */
static size_t show_reports(struct zr_run *run, const char *header)
{
	size_t n = 0;

	zd_mutex_lock(run->report_lock);
	for (; run->nshown < run->nreports; run->nshown++, n++) {
		const struct zd_report *r = &run->reports[run->nshown];

		if (!n && header)
			fprintf(stderr, "%s\n", header);
		fprintf(stderr, "  %s%s%s%s: %s\n", zd_misuse_name(r->kind),
			r->rule && *r->rule ? " [" : "", r->rule && *r->rule ? r->rule : "",
			r->rule && *r->rule ? "]" : "", r->what);
		if (r->dump[0])
			print_indented(stderr, r->dump);
	}
	if (run->nlost) {
		fprintf(stderr, "  (%zu more reports lost: out of memory)\n", run->nlost);
		n += run->nlost;
		run->nlost = 0;
	}
	zd_mutex_unlock(run->report_lock);
	return n;
}

/* ---- the command loop ---- */

static void verbose(struct zr_ctx *ctx, const struct zr_cmd *cmd, int rc)
{
	const char *e = zr_errno_name(rc);
	char out[32];

	if (!ctx->run->opts->verbose)
		return;
	if (cmd->verb->flags & ZR_VERB_EXPECTATION)
		snprintf(out, sizeof(out), "%s", ctx->reported ? "FAILED" : "held");
	else if (rc < 0 && e)
		snprintf(out, sizeof(out), "%s", e);
	else if (rc < 0)
		snprintf(out, sizeof(out), "error %d", rc);
	else
		snprintf(out, sizeof(out), "ok");
	fprintf(stdout, "%s%s%s%s:%d: %s -> %s\n", ctx->thread ? "[" : "",
		ctx->thread ? ctx->thread : "", ctx->thread ? "] " : "",
		ctx->run->prog->file, cmd->line, cmd->src, out);
	fflush(stdout);
}

void zr_run_block(struct zr_ctx *ctx, const struct zr_block *b)
{
	struct zr_run *run = ctx->run;

	for (int i = 0; i < b->n; i++) {
		const struct zr_cmd *cmd = b->v[i];
		size_t before = reports_seen(run);
		char header[600];
		int rc;

		if (zr_run_failed(run))
			break;
		ctx->reported = false;
		if (!run->sys && !(cmd->verb->flags & (ZR_VERB_FIRST | ZR_VERB_RESULT))) {
			zr_fail(ctx, cmd->line, "expected a machine for '%s', found none: 'system' failed",
				cmd->verb->name);
			break;
		}
		rc = cmd->verb->exec(ctx, cmd);
		verbose(ctx, cmd, rc);
		if (!(cmd->verb->flags & ZR_VERB_EXPECTATION)) {
			ctx->last = cmd;
			ctx->last_rc = rc;
			if (rc < 0 && !cmd->checked && !ctx->reported)
				zr_fail(ctx, cmd->line, "expected '%s' to succeed, found %s (%s); add 'expect error %s' if that is intended",
					cmd->verb->name, zr_errno_name(rc) ? zr_errno_name(rc) : "an error",
					strerror(-rc), zr_errno_name(rc) ? zr_errno_name(rc) : "...");
		}
		if (reports_seen(run) != before) {
			snprintf(header, sizeof(header), "%s:%d: expected no misuse report, found reports during '%s'%s%s:",
				 run->prog->file, cmd->line, cmd->src,
				 ctx->thread ? " in thread " : "", ctx->thread ? ctx->thread : "");
			if (show_reports(run, header))
				mark_failed(run);
		}
	}
}

/* ---- the run ---- */

static void print_stats(struct zr_run *run)
{
	struct zd_system_stats st;

	zd_system_get_stats(run->sys, &st);
	printf("stats:\n");
#define STAT(f) printf("  %-16s %llu\n", #f, (unsigned long long)st.f)
	STAT(ram_pages);
	STAT(ram_free_pages);
	STAT(folio_allocs);
	STAT(folio_frees);
	STAT(device_inits);
	STAT(device_frees);
	STAT(fsdax_wakeups);
	STAT(generic_resets);
	STAT(lru_pages);
	STAT(pgmaps);
	STAT(reports);
	STAT(faults_injected);
	STAT(events);
#undef STAT
	fflush(stdout);
}

/* Sets still holding references at the end are leaks (no waiting on them). */
static void report_set_leaks(struct zr_ctx *ctx)
{
	struct zr_run *run = ctx->run;
	const struct zr_names *sets = &run->prog->names[ZR_SET];

	for (int i = 0; i < sets->n; i++) {
		struct zr_set_rt *s = &run->sets[i];
		unsigned long refs = 0, pins = 0;
		char what[80];

		if (!s->n)
			continue;
		for (size_t j = 0; j < s->n; j++) {
			refs += (unsigned long)s->v[j].refs;
			pins += (unsigned long)s->v[j].pins;
		}
		if (pins && refs)
			snprintf(what, sizeof(what), "%lu reference%s and %lu pin%s", refs,
				 refs == 1 ? "" : "s", pins, pins == 1 ? "" : "s");
		else if (pins)
			snprintf(what, sizeof(what), "%lu pin%s", pins, pins == 1 ? "" : "s");
		else
			snprintf(what, sizeof(what), "%lu reference%s", refs, refs == 1 ? "" : "s");
		zr_fail(ctx, 0, "expected no reference held at the end, found set '%s' (line %d) holding %s on %zu folio%s: a leak; 'release %s' before the end",
			sets->v[i].name, sets->v[i].line, what, s->n, s->n == 1 ? "" : "s",
			sets->v[i].name);
		zr_dump_folio(s->v[0].folio);
	}
}

static void end_of_run(struct zr_ctx *ctx)
{
	struct zr_run *run = ctx->run;
	const struct zr_program *prog = run->prog;
	uint64_t deadline = run->opts->deadline_ns;
	bool failed_before;
	char header[300];
	int n;

	for (int i = 0; i < prog->names[ZR_THREAD].n; i++)
		zr_join_one(run, i);
	if (!run->sys)
		return;
	failed_before = zr_run_failed(run);
	snprintf(header, sizeof(header), "%s: expected no misuse report at the end of the run, found:",
		 prog->file);
	if (!failed_before)
		report_set_leaks(ctx);
	zr_release_all_sets(run);
	/* exit_mmap of every process drops every mapping's references. */
	zr_exit_all_processes(run);
	for (int d = 0; d < prog->ndevices; d++) {
		int ret;

		if (run->devs[d].state != ZR_DS_BOUND && run->devs[d].state != ZR_DS_DYING)
			continue;
		/* Every holder the runner knows is gone: after a failure, don't linger. */
		ret = zr_unbind_device(ctx, d, failed_before && deadline > ZR_FAILED_DEADLINE_NS ?
				       ZR_FAILED_DEADLINE_NS : deadline);
		if (ret == -ETIMEDOUT) {
			zr_fail(ctx, 0, "expected device '%s' to unbind at the end of the run, found pages still held after the deadline: a leak",
				prog->names[ZR_DEVICE].v[d].name);
			zr_print_holders(run, d);
		}
	}
	zr_close_device_files(run);
	zr_close_files(run);
	if (show_reports(run, header))
		mark_failed(run);
	n = zd_system_leak_check(run->sys);
	if (n > 0) {
		zr_fail(ctx, 0, "expected no leak at the end of the run, found %d", n);
	}
	if (show_reports(run, header))
		mark_failed(run);
	if (run->opts->stats)
		print_stats(run);
	zd_system_destroy(run->sys);
	run->sys = NULL;
	if (show_reports(run, header))
		mark_failed(run);
}

int zr_run_program(const struct zr_program *prog, const struct zr_options *opts)
{
	struct zr_run run = { .prog = prog, .opts = opts };
	struct zr_ctx ctx = { .run = &run, .body = &prog->main };
	int status = ZR_EXIT_FAIL, d;

	run.lock = zd_mutex_create();
	run.report_lock = zd_mutex_create();
	run.sets = calloc((size_t)prog->names[ZR_SET].n + 1, sizeof(*run.sets));
	run.devs = calloc((size_t)prog->ndevices + 1, sizeof(*run.devs));
	run.threads = calloc((size_t)prog->names[ZR_THREAD].n + 1, sizeof(*run.threads));
	run.procs = calloc((size_t)prog->names[ZR_PROCESS].n + 1, sizeof(*run.procs));
	run.regions = calloc((size_t)prog->names[ZR_REGION].n + 1, sizeof(*run.regions));
	run.files = calloc((size_t)prog->names[ZR_FILE].n + 1, sizeof(*run.files));
	run.frames = calloc((size_t)prog->names[ZR_FRAME].n + 1, sizeof(*run.frames));
	if (!run.lock || !run.report_lock || !run.sets || !run.devs || !run.threads ||
	    !run.procs || !run.regions || !run.files || !run.frames) {
		fprintf(stderr, "%s: out of memory\n", prog->file);
		goto out;
	}
	if (opts->trace_path) {
		run.trace_file = fopen(opts->trace_path, "w");
		if (!run.trace_file) {
			fprintf(stderr, "%s: cannot write the trace to %s: %s\n", prog->file,
				opts->trace_path, strerror(errno));
			status = ZR_EXIT_USAGE;
			goto out;
		}
		run.trace = zd_trace_sink_chrome(run.trace_file);
		if (!run.trace) {
			fprintf(stderr, "%s: cannot create the trace sink\n", prog->file);
			goto out;
		}
	}

	zr_run_block(&ctx, &prog->main);
	end_of_run(&ctx);
	status = run.failed ? ZR_EXIT_FAIL : ZR_EXIT_OK;
	if (run.failed)
		fprintf(stderr, "%s: FAILED (replay: zonedev run %s)\n", prog->file, prog->file);
out:
	if (run.trace)
		zd_trace_sink_destroy(run.trace);
	if (run.trace_file) {
		/* A trace that could not be written fails the run (a full disk, /dev/full). */
		int err = fflush(run.trace_file) ? errno : 0;

		if (!err && ferror(run.trace_file)) {
			/* stdio kept no errno: one more byte of the broken trace asks again */
			clearerr(run.trace_file);
			err = fputc(' ', run.trace_file) == EOF || fflush(run.trace_file) ? errno : EIO;
			if (!err)
				err = EIO;
		}

		if (fclose(run.trace_file) && !err)
			err = errno;
		if (err) {
			fprintf(stderr, "%s: cannot write the trace to %s: %s\n", prog->file,
				opts->trace_path, strerror(err));
			if (status == ZR_EXIT_OK)
				status = ZR_EXIT_FAIL;
		}
	}
	for (d = 0; run.sets && d < prog->names[ZR_SET].n; d++) {
		free(run.sets[d].v);
		free(run.sets[d].index);
		free(run.sets[d].pages);
	}
	free(run.sets);
	free(run.devs);
	free(run.threads);
	free(run.procs);
	free(run.regions);
	free(run.files);
	free(run.frames);
	free(run.reports);
	if (run.lock)
		zd_mutex_destroy(run.lock);
	if (run.report_lock)
		zd_mutex_destroy(run.report_lock);
	return status;
}
