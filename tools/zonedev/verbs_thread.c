// SPDX-License-Identifier: MIT
/*
 * verbs_thread.c - the verbs of concurrency: `thread NAME { ... }` runs a
 * block on its own thread (kthread_run, here a zd_thread) from its
 * closing brace on, `join [NAME...]` waits for threads, `sleep DURATION`
 * pauses the thread that runs it (msleep) to make an interleaving likely.
 * The block structure itself (the braces, which thread runs) is the
 * parser's: parse.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

static int parse_thread(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t, *brace;
	int ret = zr_arg_name(p, "a thread name", &t);

	if (ret)
		return ret;
	brace = zr_peek(p);
	if (!brace || brace->kind != ZR_TOK_LBRACE)
		return zr_perr_here(p, "'{' opening the thread's block");
	p->pos++;
	ret = zr_expect_end(p);
	return ret ? ret : zr_open_thread(p, t, cmd);
}

static int parse_join(struct zr_parser *p, struct zr_cmd *cmd)
{
	int n = p->ntok - p->pos, ret;

	if (!n) {
		zr_join_all(p);
		return 0;
	}
	cmd->u.join.threads = zr_palloc(p, (size_t)n * sizeof(int));
	if (!cmd->u.join.threads)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct zr_token *t;

		ret = zr_arg_name(p, "a thread name", &t);
		if (!ret)
			ret = zr_join_thread(p, t, &cmd->u.join.threads[i]);
		if (ret)
			return ret;
	}
	cmd->u.join.n = n;
	return 0;
}

static int parse_sleep(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t = zr_peek(p);

	if (!t || t->kind != ZR_TOK_WORD || zr_parse_duration_str(t->text, &cmd->u.sleep.ns))
		return zr_perr_here(p, "a duration (100ms, 2s)");
	p->pos++;
	return 0;
}

/* ---- execution ---- */

static void *thread_main(void *arg)
{
	struct zr_ctx *ctx = arg;

	zr_run_block(ctx, ctx->body);
	return NULL;
}

static int exec_thread(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int idx = cmd->u.thread.thread;
	struct zr_ctx *tctx = calloc(1, sizeof(*tctx));
	struct zd_thread *t;
	int ret;

	if (!tctx)
		return -ENOMEM;
	tctx->run = run;
	tctx->thread = run->prog->names[ZR_THREAD].v[idx].name;
	tctx->body = cmd->u.thread.body;
	/* Publish before starting: the thread may finish before create returns. */
	zd_mutex_lock(run->lock);
	run->threads[idx].ctx = tctx;
	zd_mutex_unlock(run->lock);
	ret = zd_thread_create(&t, thread_main, tctx);
	zd_mutex_lock(run->lock);
	if (ret) {
		run->threads[idx].ctx = NULL;
	} else {
		run->threads[idx].t = t;
		run->threads[idx].running = true;
	}
	zd_mutex_unlock(run->lock);
	if (ret)
		free(tctx);
	return ret;
}

void zr_join_one(struct zr_run *run, int idx)
{
	struct zd_thread *t = NULL;
	struct zr_ctx *tctx = NULL;

	zd_mutex_lock(run->lock);
	if (run->threads[idx].running) {
		t = run->threads[idx].t;
		tctx = run->threads[idx].ctx;
		run->threads[idx].running = false;
		run->threads[idx].t = NULL;
		run->threads[idx].ctx = NULL;
	}
	zd_mutex_unlock(run->lock);
	if (!t)
		return;
	zd_thread_join(t);
	free(tctx);
}

static int exec_join(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;

	if (!cmd->u.join.n) {
		for (int i = 0; i < run->prog->names[ZR_THREAD].n; i++)
			zr_join_one(run, i);
		return 0;
	}
	for (int i = 0; i < cmd->u.join.n; i++)
		zr_join_one(run, cmd->u.join.threads[i]);
	return 0;
}

static int exec_sleep(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct timespec ts = {
		.tv_sec = (time_t)(cmd->u.sleep.ns / 1000000000ull),
		.tv_nsec = (long)(cmd->u.sleep.ns % 1000000000ull),
	};

	(void)ctx;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

const struct zr_verb zr_verbs_thread[] = {
	{ .name = "thread", .subsys = "core", .parse = parse_thread, .exec = exec_thread,
	  .flags = ZR_VERB_MAIN_ONLY },
	{ .name = "join", .subsys = "core", .parse = parse_join, .exec = exec_join,
	  .flags = ZR_VERB_MAIN_ONLY },
	{ .name = "sleep", .subsys = "core", .parse = parse_sleep, .exec = exec_sleep },
	{ 0 },
};
