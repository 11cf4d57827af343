/* SPDX-License-Identifier: MIT */
/*
 * zonedev/debug.h - page dumps and misuse reports.
 *
 * Models include/linux/mmdebug.h and mm/debug.c (dump_page, the
 * VM_BUG_ON_PAGE/VM_WARN_ON_PAGE reports) and the bad_page() report of
 * mm/page_alloc.c. A report goes to the system's zd_report_fn
 * (<zonedev/system.h>); without one it is printed and aborts, as a
 * kernel BUG would.
 */
#ifndef ZONEDEV_DEBUG_H
#define ZONEDEV_DEBUG_H

#include <stddef.h>

struct zd_page;

enum zd_misuse {
	ZD_MISUSE_PUT_FREE = 1,		/* put of a free page / refcount underflow */
	ZD_MISUSE_GET_FREE,		/* folio_get on a refcount-0 folio (R12.17) */
	ZD_MISUSE_DOUBLE_FREE,		/* page_free twice without a new init (R3.10) */
	ZD_MISUSE_INIT_IN_USE,		/* init of a page in use (R3.3, B8) */
	ZD_MISUSE_DEVICE_ON_LRU,	/* device folio put on an LRU (R12.5) */
	ZD_MISUSE_TEARDOWN_HELD,	/* pgmap still registered / pages held at destroy */
	ZD_MISUSE_LEAK,			/* RAM page not freed at destroy */
	ZD_MISUSE_BAD_STATE,		/* other bad page state (wrong type, no pgmap) */
	ZD_MISUSE_INVARIANT,		/* an invariant failed at a check point */
	ZD_MISUSE_HAZARD,		/* a known kernel hazard reproduced (R1.13) */
};

/*
 * zd_misuse_name - a short description of @m ("put of a free page", ...).
 * Context: any. Returns a static string, "?" for a value out of range.
 */
const char *zd_misuse_name(enum zd_misuse m);

/*
 * A report: what was wrong, the rule it breaks, and the page as
 * dump_page() would show it.
 */
struct zd_report {
	enum zd_misuse kind;
	const char *rule;		/* "R3.3" etc., or "" */
	char what[160];
	unsigned long pfn;
	int mem_type;			/* enum zd_memory_type, 0 for RAM */
	int refcount, mapcount, pincount;
	unsigned long flags;
	char dump[400];
};

/*
 * zd_dump_page - describe @page as dump_page() does (pfn, type, refcount,
 * mapcount, pincount, order, head pfn, pgmap, mapping, index, a large
 * folio's own mapcounts, flags) in one paragraph written to @buf of @len
 * bytes, truncated if it does not fit. Context: any; reads the page
 * without locks, so the values of a page in flux may be inconsistent.
 * Returns what snprintf returns: the length of the whole description.
 */
int zd_dump_page(const struct zd_page *page, char *buf, size_t len);

#endif /* ZONEDEV_DEBUG_H */
