// SPDX-License-Identifier: MIT
/*
 * verbs_expect_page.c - expectations on an address space, grammar and
 * execution: `expect page PROCESS ADDR [...]` reads the entry mapping ADDR
 * without faulting (PTE, PMD or PUD leaf, or a device-private or migration
 * entry) and checks the page behind it as `expect set` checks a set's
 * folios; mem=none asks that nothing be mapped there. `expect process
 * PROCESS [vmas=N] [anon=N] [file=N] [shmem=N]` (an extension) checks the
 * VMA count and RSS, so splits and merges are visible; `frame=NAME` (an
 * extension) names the folio found, and later expectations naming it want
 * the same one.
 *
 * The shared zero page (a read fault on anonymous memory) is a special
 * entry: it shows as mem=ram map=0 with the zero page's own refcount,
 * which mapping it does not change; the huge zero folio (a read fault in a
 * THP region) likewise, with order=9.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

/* expect page PROCESS ADDR [KEY=VALUE...] */
static int parse_expect_page(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = zr_arg_process(p, &cmd->u.expect_folio.proc);

	if (!ret)
		ret = zr_arg_addr(p, cmd->u.expect_folio.proc, &cmd->u.expect_folio.addr);
	return ret ? ret : zr_parse_folio_keys(p, &cmd->u.expect_folio.want, false);
}

/* Extension: expect process PROCESS [vmas=N] [anon=N] [file=N] [shmem=N]. */
static int parse_expect_process(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum { PROC_VMAS, PROC_ANON, PROC_FILE, PROC_SHMEM, PROC_NOPTS };
	struct zr_opt o[PROC_NOPTS] = {
		[PROC_VMAS] = { .key = "vmas", .type = ZR_OPT_UINT, .bit = ZR_PROCEXP_VMAS },
		[PROC_ANON] = { .key = "anon", .type = ZR_OPT_UINT, .bit = ZR_PROCEXP_ANON },
		[PROC_FILE] = { .key = "file", .type = ZR_OPT_UINT, .bit = ZR_PROCEXP_FILE },
		[PROC_SHMEM] = { .key = "shmem", .type = ZR_OPT_UINT, .bit = ZR_PROCEXP_SHMEM },
	};
	int ret = zr_arg_process(p, &cmd->u.expect_proc.proc);

	if (!ret)
		ret = zr_arg_opts(p, o, PROC_NOPTS);
	if (ret)
		return ret;
	cmd->u.expect_proc.have = zr_opts_have(o, PROC_NOPTS);
	cmd->u.expect_proc.vmas = o[PROC_VMAS].u;
	cmd->u.expect_proc.anon = o[PROC_ANON].u;
	cmd->u.expect_proc.file = o[PROC_FILE].u;
	cmd->u.expect_proc.shmem = o[PROC_SHMEM].u;
	return 0;
}

/* ---- execution ---- */

#define STRLEN 256	/* "mem=... ref=..." strings */

/* The pfn of the page mapping @addr through entry @e at @level (1 PTE, 2 PMD, 3 PUD). */
static unsigned long entry_pfn(zd_pte_t e, int level, unsigned long addr)
{
	unsigned long size;

	if (!zd_pte_present(e))
		return zd_swp_offset(e);	/* device-private, exclusive, migration */
	size = 1ul << (ZD_PAGE_SHIFT + 9 * (level - 1));
	return zd_pte_pfn(e) + ((addr & (size - 1)) >> ZD_PAGE_SHIFT);
}

static const char *entry_kind(struct zr_run *run, zd_pte_t e, int level, unsigned long pfn)
{
	static const char *const levels[] = { "", "PTE", "PMD", "PUD" };

	if (zd_is_device_private_entry(e))
		return "device-private entry";
	if (zd_is_migration_entry(e))
		return "migration entry";
	if (zd_is_device_exclusive_entry(e))
		return "device-exclusive entry";
	if (pfn == zd_folio_pfn(zd_zero_folio(run->sys)))
		return "PTE of the zero page";
	if (level == 2 && zd_huge_zero_folio(run->sys) &&
	    zd_pte_pfn(e) == zd_folio_pfn(zd_huge_zero_folio(run->sys)))
		return "PMD of the huge zero folio";
	if (zd_pte_protnone(e))
		return "PROT_NONE entry";
	return level >= 1 && level <= 3 ? levels[level] : "entry";
}

/*
 * frame=NAME: the first expectation naming NAME records the folio (the
 * pfn of its head page), every later one wants the same folio (a page
 * reused, not copied; any page of one huge folio).
 */
static void check_frame(struct zr_run *run, const struct zr_folio_expect *w, unsigned long pfn,
			char *want, char *found)
{
	const char *name = run->prog->names[ZR_FRAME].v[w->frame].name;
	struct zr_frame_rt *fr = &run->frames[w->frame];
	unsigned long was = pfn;
	size_t o;

	zd_mutex_lock(run->lock);
	if (fr->seen)
		was = fr->pfn;
	fr->pfn = was;
	fr->seen = true;
	zd_mutex_unlock(run->lock);
	o = strlen(want);
	snprintf(want + o, STRLEN - o, " frame=%s", name);
	o = strlen(found);
	if (was != pfn)
		snprintf(found + o, STRLEN - o, " frame=another page (%s is pfn %#lx)", name, was);
}

/*
 * writable=: a present entry with its write bit (a PROT_NONE or
 * write-protected one is not), or a device-private or migration entry
 * that restores a writable mapping (the _WRITE swap types).
 */
static bool entry_writable(zd_pte_t e)
{
	if (zd_pte_present(e))
		return zd_pte_write(e) && !zd_pte_protnone(e);
	return zd_is_writable_device_private_entry(e) || zd_is_writable_migration_entry(e);
}

/* Check the page at @pfn; the caller holds the mm in use. */
static void check_page(struct zr_ctx *ctx, const struct zr_cmd *cmd, const char *where,
		       zd_pte_t e, int level, unsigned long pfn)
{
	struct zr_run *run = ctx->run;
	const struct zr_folio_expect *w = &cmd->u.expect_folio.want;
	struct zd_dev_pagemap *pgmap = zd_get_dev_pagemap(run->sys, pfn);
	struct zd_page *page = zd_pfn_to_page(run->sys, pfn);
	char want[STRLEN], found[STRLEN];
	struct zd_folio *folio;

	zr_want_str(w, want, sizeof(want));
	if (!page || (zd_is_zone_device_page(page) && !pgmap)) {
		zr_fail(ctx, cmd->line, "expected page %s%s, found a %s (%#llx) for pfn %#lx %s",
			where, want, entry_kind(run, e, level, pfn), (unsigned long long)e, pfn,
			page ? "of a device being torn down" : "without a memmap");
		goto out;
	}
	folio = zd_page_folio(page);
	if ((w->have & ZR_EXP_MEM) && w->mem == ZR_MEM_NONE) {
		zr_fail(ctx, cmd->line, "expected page %s mem=none (nothing mapped), found a %s (%#llx) of pfn %#lx",
			where, entry_kind(run, e, level, pfn), (unsigned long long)e, pfn);
		zr_dump_folio(folio);
		goto out;
	}
	zr_folio_diff(run, folio, zr_device_of_folio(run, folio), w, found, sizeof(found));
	if (w->have & ZR_EXP_FRAME)
		check_frame(run, w, zd_folio_pfn(folio), want, found);
	if ((w->have & ZR_EXP_WRITABLE) && entry_writable(e) != w->writable) {
		size_t o = strlen(found);

		snprintf(found + o, sizeof(found) - o, " writable=%s", w->writable ? "no" : "yes");
	}
	if (found[0]) {
		zr_fail(ctx, cmd->line, "expected page %s%s, found%s (pfn %#lx, %s %#llx)", where,
			want, found, pfn, entry_kind(run, e, level, pfn), (unsigned long long)e);
		zr_dump_folio(folio);
	}
out:
	if (pgmap)
		zd_put_dev_pagemap(pgmap);
}

static int exec_expect_page(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	const struct zr_folio_expect *w = &cmd->u.expect_folio.want;
	int proc = cmd->u.expect_folio.proc, level = 0;
	const char *pname = run->prog->names[ZR_PROCESS].v[proc].name;
	const struct zr_addr *a = &cmd->u.expect_folio.addr;
	char where[160], want[STRLEN];
	unsigned long addr;
	struct zd_mm *mm;
	zd_pte_t e = 0;

	if (!zr_addr_resolve(ctx, cmd, a, &addr))
		return 0;
	if (a->off)
		snprintf(where, sizeof(where), "%s %s+%#llx", pname,
			 run->prog->names[ZR_REGION].v[a->region].name, (unsigned long long)a->off);
	else
		snprintf(where, sizeof(where), "%s %s", pname,
			 run->prog->names[ZR_REGION].v[a->region].name);
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm)
		return 0;
	if (!zd_follow_entry(mm, addr, &e, &level) || zd_pte_none(e)) {
		zr_want_str(w, want, sizeof(want));
		if (!(w->have & ZR_EXP_MEM) || w->mem != ZR_MEM_NONE)
			zr_fail(ctx, cmd->line, "expected page %s%s, found nothing mapped at %#lx",
				where, want, addr);
	} else {
		check_page(ctx, cmd, where, e, level, entry_pfn(e, level, addr));
	}
	zr_proc_put(run, proc);
	return 0;
}

/* ---- expect process (extension) ---- */

static int exec_expect_process(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int proc = cmd->u.expect_proc.proc;
	unsigned int have = cmd->u.expect_proc.have;
	char want[STRLEN], found[STRLEN];
	struct zd_mm_stats st;
	struct zd_mm *mm = zr_proc_get(ctx, cmd, proc);
	size_t w = 0, f = 0;

	if (!mm)
		return 0;
	zd_mmap_read_lock(mm);
	zd_mm_get_stats(mm, &st);
	zd_mmap_read_unlock(mm);
	zr_proc_put(run, proc);
	want[0] = found[0] = '\0';
#define CMP(bit, key, val) do { \
	if ((have & (bit)) && (uint64_t)(val) != cmd->u.expect_proc.key) { \
		w += (size_t)snprintf(want + w, sizeof(want) - w, " " #key "=%llu", \
				      (unsigned long long)cmd->u.expect_proc.key); \
		f += (size_t)snprintf(found + f, sizeof(found) - f, " " #key "=%ld", \
				      (long)(val)); \
	} } while (0)
	CMP(ZR_PROCEXP_VMAS, vmas, st.nr_vmas);
	CMP(ZR_PROCEXP_ANON, anon, st.rss_anon);
	CMP(ZR_PROCEXP_FILE, file, st.rss_file);
	CMP(ZR_PROCEXP_SHMEM, shmem, st.rss_shmem);
#undef CMP
	if (found[0])
		zr_fail(ctx, cmd->line, "expected process %s%s, found%s",
			run->prog->names[ZR_PROCESS].v[proc].name, want, found);
	return 0;
}

const struct zr_verb zr_verbs_expect_page[] = {
	{ .name = "expect page", .subsys = "mm",
	  .parse = parse_expect_page, .exec = exec_expect_page, .flags = ZR_VERB_EXPECTATION },
	{ .name = "expect process", .subsys = "mm",
	  .parse = parse_expect_process, .exec = exec_expect_process,
	  .flags = ZR_VERB_EXPECTATION },
	{ 0 },
};
