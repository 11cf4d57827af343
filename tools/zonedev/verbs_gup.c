// SPDX-License-Identifier: MIT
/*
 * verbs_gup.c - grammar and execution of `gup SET PROCESS ADDR NPAGES
 * [write] [fast]` and `pin SET PROCESS ADDR NPAGES [write] [longterm]
 * [fast]`: get_user_pages / pin_user_pages (mm/gup.c) on a process's range
 * (the slow path taking mmap_lock itself, or GUP-fast with its fallback),
 * the references or pins going to SET, which `release` puts or unpins.
 *
 * GUP may return fewer pages than asked; as its kernel callers do, the
 * runner then asks again from the first page it did not get, so the
 * command either gets every page or ends with the error that stopped the
 * walk (the pages taken before it stay in the set, as with devalloc).
 */
#include <errno.h>
#include <stdlib.h>

#include <zonedev/gup.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

static int parse_gup_common(struct zr_parser *p, struct zr_cmd *cmd, bool pin)
{
	enum { GUP_WRITE, GUP_FAST, GUP_LONGTERM, GUP_NOPTS };
	struct zr_opt o[GUP_NOPTS] = {
		[GUP_WRITE] = { .key = "write", .type = ZR_OPT_FLAG },
		[GUP_FAST] = { .key = "fast", .type = ZR_OPT_FLAG },
		[GUP_LONGTERM] = { .key = "longterm", .type = ZR_OPT_FLAG, .absent = !pin },
	};
	int ret = zr_arg_set(p, true, &cmd->u.gup.set);

	if (!ret)
		ret = zr_arg_process(p, &cmd->u.gup.proc);
	if (!ret)
		ret = zr_arg_addr(p, cmd->u.gup.proc, &cmd->u.gup.addr);
	if (!ret)
		ret = zr_arg_count(p, "a number of pages", "pages", 1u << 24, &cmd->u.gup.npages);
	if (!ret)
		ret = zr_arg_opts(p, o, GUP_NOPTS);
	cmd->u.gup.write = o[GUP_WRITE].seen;
	cmd->u.gup.fast = o[GUP_FAST].seen;
	cmd->u.gup.longterm = o[GUP_LONGTERM].seen;
	return ret;
}

static int parse_gup(struct zr_parser *p, struct zr_cmd *cmd)
{
	return parse_gup_common(p, cmd, false);
}

static int parse_pin(struct zr_parser *p, struct zr_cmd *cmd)
{
	return parse_gup_common(p, cmd, true);
}

/* ---- execution ---- */

#define GUP_BATCH 4096ul	/* pages asked for in one call */

static long gup_call(struct zd_mm *mm, const struct zr_cmd *cmd, bool pin, unsigned long start,
		     unsigned long nr, struct zd_page **pages)
{
	unsigned int flags = 0;

	if (cmd->u.gup.write)
		flags |= ZD_FOLL_WRITE;
	if (cmd->u.gup.longterm)
		flags |= ZD_FOLL_LONGTERM;
	if (pin && cmd->u.gup.fast)
		return zd_pin_user_pages_fast(mm, start, (int)nr, flags, pages);
	if (pin)
		return zd_pin_user_pages_unlocked(mm, start, nr, pages, flags);
	if (cmd->u.gup.fast)
		return zd_get_user_pages_fast(mm, start, (int)nr, flags, pages);
	return zd_get_user_pages_unlocked(mm, start, nr, pages, flags);
}

/* Hand @n pages to the set; on failure drop what could not be recorded. */
static int record(struct zr_run *run, int set, bool pin, struct zd_page **pages, long n)
{
	int ret = 0;

	for (long i = 0; i < n; i++) {
		struct zd_folio *folio = zd_page_folio(pages[i]);

		if (!ret)
			ret = zr_set_add(run, set, folio, zr_device_of_folio(run, folio),
					 pin ? 0 : 1, pin ? 1 : 0);
		/* The page itself, for `read SET` (its reference is the set's already). */
		if (!ret) {
			ret = zr_set_add_pages(run, set, pages[i], 1);
			continue;
		}
		if (pin)
			zd_unpin_user_page(pages[i]);
		else
			zd_put_page(pages[i]);
	}
	return ret;
}

static int exec_gup_common(struct zr_ctx *ctx, const struct zr_cmd *cmd, bool pin)
{
	struct zr_run *run = ctx->run;
	unsigned long start, done = 0, npages = (unsigned long)cmd->u.gup.npages;
	int proc = cmd->u.gup.proc, ret = 0;
	struct zd_page **pages;
	struct zd_mm *mm;

	if (!zr_addr_resolve(ctx, cmd, &cmd->u.gup.addr, &start))
		return 0;
	pages = calloc(npages < GUP_BATCH ? npages : GUP_BATCH, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm) {
		free(pages);
		return 0;
	}
	while (done < npages && !ret) {
		unsigned long nr = npages - done < GUP_BATCH ? npages - done : GUP_BATCH;
		long got = gup_call(mm, cmd, pin, start + done * ZD_PAGE_SIZE, nr, pages);

		if (got <= 0) {
			/* 0 pages and no error: nothing could be taken there. */
			ret = got ? (int)got : -EFAULT;
			break;
		}
		if ((unsigned long)got > nr) {
			zr_fail(ctx, cmd->line, "expected at most %lu pages from %s, found %ld",
				nr, cmd->verb->name, got);
			got = (long)nr;
		}
		ret = record(run, cmd->u.gup.set, pin, pages, got);
		done += (unsigned long)got;
	}
	zr_proc_put(run, proc);
	free(pages);
	return ret;
}

static int exec_gup(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_gup_common(ctx, cmd, false);
}

static int exec_pin(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_gup_common(ctx, cmd, true);
}

const struct zr_verb zr_verbs_gup[] = {
	{ .name = "gup", .subsys = "gup", .parse = parse_gup, .exec = exec_gup },
	{ .name = "pin", .subsys = "gup", .parse = parse_pin, .exec = exec_pin },
	{ 0 },
};
