// SPDX-License-Identifier: MIT
/*
 * src/core/debug.c - page dumps and misuse reports.
 *
 * Models mm/debug.c (dump_page, the VM_BUG_ON_PAGE/VM_WARN_ON_PAGE
 * reports) and the bad_page() report of mm/page_alloc.c: the report goes
 * to the system's callback, or, without one, is printed and aborts like a
 * BUG.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- dump_page ---- */

static const char *const flag_names[ZD_PG_NR_FLAGS] = {
	"locked", "referenced", "uptodate", "dirty", "lru", "active", "head", "reserved",
	"anon_exclusive", "buddy", "waiters", "swapbacked", "zone_device", "unevictable",
	"large_rmappable", "dev_free",
};

int zd_dump_page(const struct zd_page *page, char *buf, size_t len)
{
	struct zd_folio *folio = zd_page_folio(page);
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);
	unsigned long flags = zd_atomic_load_relaxed(&((struct zd_page *)page)->flags);
	int n;

	n = snprintf(buf, len,
		     "page pfn=%#lx type=%s refcount=%d mapcount=%d pincount=%d order=%u "
		     "head_pfn=%#lx pgmap=%p mapping=%p index=%#lx ",
		     zd_page_to_pfn(page), zd_memory_type_name(pgmap ? (int)pgmap->type : 0),
		     zd_page_count(page), zd_page_mapcount(page), zd_folio_pincount(folio),
		     zd_folio_order(folio), zd_page_to_pfn(&folio->page), (void *)pgmap,
		     page->mapping, page->index);
	/* A large folio's own counts: PMD/PUD mappings, and all mappings (page 1 keeps them). */
	if (zd_folio_test_large(folio) && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "entire_mapcount=%d folio_mapcount=%d ",
			      zd_atomic_load_relaxed(&folio->page._entire_mapcount) + 1,
			      zd_atomic_load_relaxed(&zd_folio_page(folio, 1)->_entire_mapcount) + 1);
	if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "flags=%#lx(", flags);
	for (int b = 0; b < ZD_PG_NR_FLAGS && n > 0 && (size_t)n < len; b++) {
		if (flags & ZD_PG_BIT(b))
			n += snprintf(buf + n, len - (size_t)n, "%s%s",
				      buf[n - 1] == '(' ? "" : "|", flag_names[b]);
	}
	if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ")");
	return n;
}

/* ---- misuse reports ---- */

static const char *const misuse_names[] = {
	[ZD_MISUSE_PUT_FREE] = "put of a free page",
	[ZD_MISUSE_GET_FREE] = "get of a free page",
	[ZD_MISUSE_DOUBLE_FREE] = "page_free twice",
	[ZD_MISUSE_INIT_IN_USE] = "init of a page in use",
	[ZD_MISUSE_DEVICE_ON_LRU] = "device folio on an LRU",
	[ZD_MISUSE_TEARDOWN_HELD] = "teardown with pages held",
	[ZD_MISUSE_LEAK] = "leak",
	[ZD_MISUSE_BAD_STATE] = "bad page state",
	[ZD_MISUSE_INVARIANT] = "invariant",
	[ZD_MISUSE_HAZARD] = "known kernel hazard",
};

const char *zd_misuse_name(enum zd_misuse m)
{
	if ((unsigned)m < sizeof(misuse_names) / sizeof(misuse_names[0]) && misuse_names[m])
		return misuse_names[m];
	return "?";
}

void _zd_report_page(struct zd_system *sys, enum zd_misuse kind, const char *rule,
		     const struct zd_page *page, const char *fmt, ...)
{
	struct zd_report r;
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.rule = rule ? rule : "";
	va_start(ap, fmt);
	vsnprintf(r.what, sizeof(r.what), fmt, ap);
	va_end(ap);
	if (page) {
		struct zd_folio *folio = zd_page_folio(page);
		struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);

		r.pfn = zd_page_to_pfn(page);
		r.mem_type = pgmap ? (int)pgmap->type : 0;
		r.refcount = zd_page_count(page);
		r.mapcount = zd_page_mapcount(page);
		r.pincount = zd_folio_pincount(folio);
		r.flags = zd_atomic_load_relaxed(&((struct zd_page *)page)->flags);
		zd_dump_page(page, r.dump, sizeof(r.dump));
	} else {
		snprintf(r.dump, sizeof(r.dump), "(no page)");
	}
	if (!sys)
		goto no_callback;	/* misuse of an object no system knows */
	zd_atomic_fetch_add_relaxed(&sys->st_reports, 1);
	if (_zd_tracing(sys) && page)
		_zd_emit(sys, ZD_EV_MISUSE, zd_page_folio(page), 0);

	if (sys->opts.report) {
		zd_spin_lock(&sys->report_lock);
		sys->opts.report(sys->opts.report_ctx, &r);
		zd_spin_unlock(&sys->report_lock);
		return;
	}
no_callback:
	fprintf(stderr, "zonedev: BUG: %s%s%s%s: %s\n  %s\n", zd_misuse_name(kind),
		*r.rule ? " (" : "", r.rule, *r.rule ? ")" : "", r.what, r.dump);
	abort();
}
