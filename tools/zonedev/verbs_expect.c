// SPDX-License-Identifier: MIT
/*
 * verbs_expect.c - expectations, grammar and execution: the result of the
 * previous command (`expect ok`, `expect error E`), the state of every
 * folio a set holds (`expect set`: memory type, refcount, mapcount, pins,
 * LRU, order, as dump_page() shows them), a device's counters (`expect
 * device`) and the invariant checker (`check`). A failed one prints
 * "FILE:LINE: expected ..., found ..." and a page dump. The folio keys
 * and their names (mem=, yes/no) are shared with expect page
 * (verbs_expect_page.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/devdax.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

static const struct zr_choice yes_no[] = { { "no", 0 }, { "yes", 1 }, { 0 } };

/* mem=: a device type, ram or none. */
static const struct zr_choice mems[] = {
	ZR_DEVTYPE_CHOICES, { "ram", ZR_MEM_RAM }, { "none", ZR_MEM_NONE }, { 0 },
};

static int parse_nothing(struct zr_parser *p, struct zr_cmd *cmd)
{
	(void)p;
	(void)cmd;
	return 0;
}

/* expect error ERRNO */
static int parse_expect_error(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const char what[] = "an errno name (EBUSY, EFAULT, EINVAL, ENOMEM, ...: any Linux errno name)";
	struct zr_token *t = zr_peek(p);

	if (!t || t->kind != ZR_TOK_WORD || !(cmd->u.error.err = zr_errno_from_name(t->text)))
		return zr_perr_here(p, what);
	p->pos++;
	return 0;
}

int zr_parse_folio_keys(struct zr_parser *p, struct zr_folio_expect *w, bool set)
{
	enum {
		KEY_MEM, KEY_REF, KEY_MAP, KEY_PINNED, KEY_LRU, KEY_ORDER,
		KEY_COUNT, KEY_FRAME, KEY_WRITABLE, KEY_NOPTS
	};
	struct zr_opt o[KEY_NOPTS] = {
		[KEY_MEM] = { .key = "mem", .type = ZR_OPT_CHOICE, .choices = mems,
			      .bit = ZR_EXP_MEM },
		[KEY_REF] = { .key = "ref", .type = ZR_OPT_UINT, .bit = ZR_EXP_REF },
		[KEY_MAP] = { .key = "map", .type = ZR_OPT_UINT, .bit = ZR_EXP_MAP },
		[KEY_PINNED] = { .key = "pinned", .type = ZR_OPT_CHOICE, .choices = yes_no,
				 .bit = ZR_EXP_PINNED },
		[KEY_LRU] = { .key = "lru", .type = ZR_OPT_CHOICE, .choices = yes_no,
			      .bit = ZR_EXP_LRU },
		[KEY_ORDER] = { .key = "order", .type = ZR_OPT_UINT, .bit = ZR_EXP_ORDER },
		[KEY_COUNT] = { .key = "count", .type = ZR_OPT_UINT, .bit = ZR_EXP_COUNT,
				.absent = !set },
		[KEY_FRAME] = { .key = "frame", .type = ZR_OPT_WORD, .bit = ZR_EXP_FRAME,
				.absent = set },
		[KEY_WRITABLE] = { .key = "writable", .type = ZR_OPT_CHOICE, .choices = yes_no,
				   .bit = ZR_EXP_WRITABLE, .absent = set },
	};
	const struct zr_opt *mem = &o[KEY_MEM], *frame = &o[KEY_FRAME];
	struct zr_token t;
	int ret;

	ret = zr_arg_opts(p, o, KEY_NOPTS);
	if (ret)
		return ret;
	if (mem->seen && set && mem->choice == ZR_MEM_NONE)
		return zr_perr(p, zr_opt_vcol(mem), "expected mem=ram or a device type for a set, found 'none'");
	for (int i = 0; mem->seen && mem->choice == ZR_MEM_NONE && i < KEY_NOPTS; i++)
		if (i != KEY_MEM && o[i].seen)
			return zr_perr(p, o[i].col, "expected no other key with mem=none (nothing mapped), found '%s='",
				       o[i].key);
	w->have = zr_opts_have(o, KEY_NOPTS);
	w->mem = mem->choice;
	w->ref = o[KEY_REF].u;
	w->map = o[KEY_MAP].u;
	w->pinned = o[KEY_PINNED].choice;
	w->lru = o[KEY_LRU].choice;
	w->order = o[KEY_ORDER].u;
	w->count = o[KEY_COUNT].u;
	w->writable = o[KEY_WRITABLE].choice;
	if (frame->seen) {
		/* Extension: the first frame=NAME records the page frame, later ones compare. */
		if (!zr_is_name(frame->value))
			return zr_perr(p, zr_opt_vcol(frame), "expected a frame name after frame=, found '%s'",
				       frame->value);
		t = (struct zr_token){ .kind = ZR_TOK_WORD, .text = (char *)frame->value,
				       .col = zr_opt_vcol(frame) };
		ret = zr_define_or_get(p, ZR_FRAME, -1, &t, &w->frame);
		if (ret)
			return ret;
	}
	return 0;
}

/* expect set SET [KEY=VALUE...] */
static int parse_expect_set(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = zr_arg_set(p, false, &cmd->u.expect_folio.set);

	return ret ? ret : zr_parse_folio_keys(p, &cmd->u.expect_folio.want, true);
}

/* expect device DEVICE [allocated=N] [free=N] [page_free=N] [faults=N] */
static int parse_expect_device(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum { DEV_ALLOCATED, DEV_FREE, DEV_PAGE_FREE, DEV_FAULTS, DEV_NOPTS };
	struct zr_opt o[DEV_NOPTS] = {
		[DEV_ALLOCATED] = { .key = "allocated", .type = ZR_OPT_UINT,
				    .bit = ZR_DEVEXP_ALLOCATED },
		[DEV_FREE] = { .key = "free", .type = ZR_OPT_UINT, .bit = ZR_DEVEXP_FREE },
		[DEV_PAGE_FREE] = { .key = "page_free", .type = ZR_OPT_UINT,
				    .bit = ZR_DEVEXP_PAGE_FREE },
		[DEV_FAULTS] = { .key = "faults", .type = ZR_OPT_UINT, .bit = ZR_DEVEXP_FAULTS },
	};
	int ret = zr_arg_device(p, &cmd->u.expect_dev.dev);
	enum zr_devtype type;

	if (!ret)
		ret = zr_arg_opts(p, o, DEV_NOPTS);
	if (ret)
		return ret;
	/* The device-DAX driver counts its faults, a dmirror unit its fault passes. */
	type = p->prog->devices[cmd->u.expect_dev.dev].type;
	if (o[DEV_FAULTS].seen && type != ZR_DEV_DEVDAX && type != ZR_DEV_PRIVATE &&
	    type != ZR_DEV_COHERENT)
		return zr_perr(p, o[DEV_FAULTS].col, "expected 'faults=' on a devdax, private or coherent device (a driver that counts faults), found a %s device",
			       zr_devtype_name(type));
	cmd->u.expect_dev.have = zr_opts_have(o, DEV_NOPTS);
	cmd->u.expect_dev.allocated = o[DEV_ALLOCATED].u;
	cmd->u.expect_dev.free = o[DEV_FREE].u;
	cmd->u.expect_dev.page_free = o[DEV_PAGE_FREE].u;
	cmd->u.expect_dev.faults = o[DEV_FAULTS].u;
	return 0;
}

/* ---- execution ---- */

static const char *err_name(int rc)
{
	const char *e = zr_errno_name(rc);

	return e ? e : "an unknown error";
}

static const char *prev_desc(struct zr_ctx *ctx, char *buf, size_t len)
{
	if (!ctx->last)
		return "";
	snprintf(buf, len, " from '%s' (line %d)", ctx->last->src, ctx->last->line);
	return buf;
}

static int exec_expect_ok(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	char buf[300];

	if (ctx->last_rc < 0)
		zr_fail(ctx, cmd->line, "expected ok, found %s%s", err_name(ctx->last_rc),
			prev_desc(ctx, buf, sizeof(buf)));
	return 0;
}

static int exec_expect_error(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	const char *want = zr_errno_name(cmd->u.error.err);
	char buf[300];

	if (ctx->last_rc == -cmd->u.error.err)
		return 0;
	if (ctx->last_rc >= 0)
		zr_fail(ctx, cmd->line, "expected error %s, found ok%s", want,
			prev_desc(ctx, buf, sizeof(buf)));
	else
		zr_fail(ctx, cmd->line, "expected error %s, found %s%s", want,
			err_name(ctx->last_rc), prev_desc(ctx, buf, sizeof(buf)));
	return 0;
}

/* ---- expect set ---- */

/* The scenario's name for a folio's memory: "ram" or a device type. */
static const char *folio_mem(struct zr_run *run, struct zd_folio *folio, int dev)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);

	if (!pgmap)
		return "ram";
	if (dev >= 0 && zr_devtype_memtype(run->prog->devices[dev].type) == pgmap->type)
		return zr_devtype_name(run->prog->devices[dev].type);
	return zd_memory_type_name(pgmap->type);
}

static bool mem_matches(struct zr_run *run, struct zd_folio *folio, int dev, int want)
{
	const char *found = folio_mem(run, folio, dev);

	if (want == ZR_MEM_RAM)
		return !strcmp(found, "ram");
	if (!strcmp(found, zr_devtype_name(want)))
		return true;
	/* A GENERIC page of unknown origin may be called devdax or generic. */
	return dev < 0 && zd_folio_pgmap(folio) &&
	       zd_folio_pgmap(folio)->type == ZD_MEMORY_DEVICE_GENERIC &&
	       (want == ZR_DEV_DEVDAX || want == ZR_DEV_GENERIC);
}

/* "mem=private ref=2 ..." of what @w asks, into @buf. */
void zr_want_str(const struct zr_folio_expect *w, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
#define ADD(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
	if (w->have & ZR_EXP_COUNT)
		ADD(" count=%llu", (unsigned long long)w->count);
	if (w->have & ZR_EXP_MEM)
		ADD(" mem=%s", zr_choice_name(mems, w->mem));
	if (w->have & ZR_EXP_REF)
		ADD(" ref=%llu", (unsigned long long)w->ref);
	if (w->have & ZR_EXP_MAP)
		ADD(" map=%llu", (unsigned long long)w->map);
	if (w->have & ZR_EXP_PINNED)
		ADD(" pinned=%s", w->pinned ? "yes" : "no");
	if (w->have & ZR_EXP_LRU)
		ADD(" lru=%s", w->lru ? "yes" : "no");
	if (w->have & ZR_EXP_ORDER)
		ADD(" order=%llu", (unsigned long long)w->order);
	if (w->have & ZR_EXP_WRITABLE)
		ADD(" writable=%s", w->writable ? "yes" : "no");
#undef ADD
}

/* What differs on @folio, as "ref=1 order=0", or "" if it all holds. */
void zr_folio_diff(struct zr_run *run, struct zd_folio *folio, int dev,
		   const struct zr_folio_expect *w, char *buf, size_t len)
{
	size_t o = 0;
	long ref = zd_folio_ref_count(folio);
	/* folio_mapcount(): every mapping of any page of the folio. */
	long map = zd_folio_mapcount(folio);
	bool pinned = zd_folio_maybe_dma_pinned(folio);
	bool lru = zd_folio_test_flag(folio, ZD_PG_lru);
	unsigned int order = zd_folio_order(folio);

	buf[0] = '\0';
#define ADD(...) do { if (o < len) o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); } while (0)
	if ((w->have & ZR_EXP_MEM) && !mem_matches(run, folio, dev, w->mem))
		ADD(" mem=%s", folio_mem(run, folio, dev));
	if ((w->have & ZR_EXP_REF) && (ref < 0 || (uint64_t)ref != w->ref))
		ADD(" ref=%ld", ref);
	if ((w->have & ZR_EXP_MAP) && (map < 0 || (uint64_t)map != w->map))
		ADD(" map=%ld", map);
	if ((w->have & ZR_EXP_PINNED) && pinned != w->pinned)
		ADD(" pinned=%s", pinned ? "yes" : "no");
	if ((w->have & ZR_EXP_LRU) && lru != w->lru)
		ADD(" lru=%s", lru ? "yes" : "no");
	if ((w->have & ZR_EXP_ORDER) && order != w->order)
		ADD(" order=%u", order);
#undef ADD
}

static int exec_expect_set(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	const struct zr_folio_expect *w = &cmd->u.expect_folio.want;
	const char *name = run->prog->names[ZR_SET].v[cmd->u.expect_folio.set].name;
	struct zr_set_rt *s = &run->sets[cmd->u.expect_folio.set];
	char want[200], found[200];
	struct zr_set_entry *v = NULL;
	size_t n;

	/*
	 * Copy the set under run->lock; its folios stay referenced while we
	 * look since only this thread uses the set (the runner's convention).
	 */
	zd_mutex_lock(run->lock);
	n = s->n;
	if (n) {
		v = malloc(n * sizeof(*v));
		if (v)
			memcpy(v, s->v, n * sizeof(*v));
	}
	zd_mutex_unlock(run->lock);
	if (n && !v) {
		zr_fail(ctx, cmd->line, "expected to read set %s, found no memory", name);
		return 0;
	}

	zr_want_str(w, want, sizeof(want));
	if ((w->have & ZR_EXP_COUNT) && n != w->count) {
		zr_fail(ctx, cmd->line, "expected set %s%s, found count=%zu", name, want, n);
	} else if ((w->have & ~ZR_EXP_COUNT) && !n) {
		zr_fail(ctx, cmd->line, "expected set %s%s, found an empty set", name, want);
	} else {
		for (size_t i = 0; i < n; i++) {
			zr_folio_diff(run, v[i].folio, v[i].dev, w, found, sizeof(found));
			if (!found[0])
				continue;
			zr_fail(ctx, cmd->line, "expected set %s%s, found%s on folio %zu of %zu (pfn %#lx)",
				name, want, found, i, n, zd_folio_pfn(v[i].folio));
			zr_dump_folio(v[i].folio);
			break;
		}
	}
	free(v);
	return 0;
}

/* ---- expect device ---- */

/*
 * A devdax device's figures: a base page is allocated while its folio is
 * away from its idle refcount (mapped, pinned, or held by a set); GENERIC
 * memory never reaches a driver's free callback. faults: every fault the
 * driver handled, at any level. Context: run->lock held, device bound or
 * dying (its memmap stays).
 */
static void devdax_stats(struct zr_run *run, int dev, struct zd_devmem_stats *st,
			 unsigned long *faults)
{
	struct zd_dev_pagemap *pgmap = run->devs[dev].pgmap;
	unsigned long nr = zd_pgmap_nr_pages(pgmap), step = zd_pgmap_vmemmap_nr(pgmap);
	unsigned long first = zd_pgmap_range_pfn(pgmap, 0);
	int idle = zd_pgmap_free_refcount(pgmap);
	struct zd_devdax_stats ds;

	memset(st, 0, sizeof(*st));
	st->nr_pages = nr;
	for (unsigned long i = 0; i < nr; i += step) {
		struct zd_folio *folio = zd_pfn_folio(run->sys, first + i);

		if (folio && zd_folio_ref_count(folio) != idle)
			st->allocated += step;
	}
	st->free = nr - st->allocated;
	st->page_free = 0;	/* device-DAX has no folio_free callback */
	zd_devdax_get_stats(run->devs[dev].dax, &ds);
	*faults = ds.faults[0] + ds.faults[1] + ds.faults[2];
}

static int exec_expect_device(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int dev = cmd->u.expect_dev.dev;
	const char *name = run->prog->names[ZR_DEVICE].v[dev].name;
	unsigned int have = cmd->u.expect_dev.have;
	struct zd_devmem_stats st;
	enum zr_dev_state state;
	char want[200], found[200];
	size_t w = 0, f = 0;

	unsigned long faults = 0;

	zd_mutex_lock(run->lock);
	state = run->devs[dev].state;
	if ((state == ZR_DS_BOUND || state == ZR_DS_DYING) && run->devs[dev].dax)
		devdax_stats(run, dev, &st, &faults);
	else if (state == ZR_DS_BOUND || state == ZR_DS_DYING) {
		zd_devmem_pool_stats(run->devs[dev].pool, &st);
		zr_mirror_stats(run, dev, &st, &faults);
	}
	zd_mutex_unlock(run->lock);
	if (state != ZR_DS_BOUND && state != ZR_DS_DYING) {
		zr_fail(ctx, cmd->line, "expected device %s bound, found it %s", name,
			state == ZR_DS_ABSENT ? "not created (its 'device' command failed)" :
			state == ZR_DS_UNBINDING ? "being unbound" : "unbound");
		return 0;
	}

	want[0] = found[0] = '\0';
#define CMP(bit, key, val) do { \
	if ((have & (bit)) && (uint64_t)(val) != cmd->u.expect_dev.key) { \
		w += (size_t)snprintf(want + w, sizeof(want) - w, " " #key "=%llu", \
				      (unsigned long long)cmd->u.expect_dev.key); \
		f += (size_t)snprintf(found + f, sizeof(found) - f, " " #key "=%lu", \
				      (unsigned long)(val)); \
	} } while (0)
	CMP(ZR_DEVEXP_ALLOCATED, allocated, st.allocated);
	CMP(ZR_DEVEXP_FREE, free, st.free);
	CMP(ZR_DEVEXP_PAGE_FREE, page_free, st.page_free);
	CMP(ZR_DEVEXP_FAULTS, faults, faults);
#undef CMP
	if (found[0])
		zr_fail(ctx, cmd->line, "expected device %s%s, found%s", name, want, found);
	return 0;
}

/* ---- check ---- */

static int exec_check(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	int n = zd_check_invariants(ctx->run->sys);

	if (n > 0)
		zr_fail(ctx, cmd->line, "expected every invariant to hold, found %d failure%s", n,
			n == 1 ? "" : "s");
	return 0;
}

#define EXPECT ZR_VERB_EXPECTATION

const struct zr_verb zr_verbs_expect[] = {
	{ .name = "expect", .subsys = "core", .flags = ZR_VERB_PREFIX,
	  .usage = "an expectation (ok, error, moved=N, page, process, device or set)" },
	{ .name = "expect ok", .subsys = "core", .parse = parse_nothing, .exec = exec_expect_ok,
	  .flags = EXPECT | ZR_VERB_RESULT },
	{ .name = "expect error", .subsys = "core",
	  .parse = parse_expect_error, .exec = exec_expect_error,
	  .flags = EXPECT | ZR_VERB_RESULT },
	{ .name = "expect device", .subsys = "core",
	  .parse = parse_expect_device, .exec = exec_expect_device, .flags = EXPECT },
	{ .name = "expect set", .subsys = "core",
	  .parse = parse_expect_set, .exec = exec_expect_set, .flags = EXPECT },
	{ .name = "check", .subsys = "core", .parse = parse_nothing, .exec = exec_check,
	  .flags = EXPECT | ZR_VERB_QUIESCENT },
	{ 0 },
};
