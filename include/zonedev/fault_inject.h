/* SPDX-License-Identifier: MIT */
/*
 * zonedev/fault_inject.h - fault injection at named sites.
 *
 * Models include/linux/fault-inject.h and lib/fault-inject.c: each site
 * has a fault_attr (probability, interval, times); the allocation paths
 * ask should_fail() before they allocate. Attributes are set per system
 * (zd_system_options.fault, or zd_system_set_fault on a running one);
 * draws come from the system's seed, so a run with the same seed fails at
 * the same calls.
 */
#ifndef ZONEDEV_FAULT_INJECT_H
#define ZONEDEV_FAULT_INJECT_H

#include <stdbool.h>

struct zd_system;

/* Fault-injection sites. */
enum zd_fault_site {
	ZD_FAULT_PAGE_ALLOC = 0,	/* RAM folio allocation */
	ZD_FAULT_PGMAP_SETUP,		/* memremap_pages memmap/range setup */
	ZD_FAULT_DEVICE_ALLOC,		/* a driver's device folio allocation */
	ZD_FAULT_PGTABLE_ALLOC,		/* a page-table page (pte_alloc_one, p?d_alloc) */
	ZD_FAULT_VMA_ALLOC,		/* a VMA (vm_area_alloc, vm_area_dup) */
	ZD_FAULT_NR_SITES,
};

/*
 * zd_fault_site_name - "page_alloc", "pgmap_setup", "device_alloc",
 * "pgtable_alloc", "vma_alloc". Context: any. Returns a static string,
 * "?" for a value out of range.
 */
const char *zd_fault_site_name(enum zd_fault_site site);

/*
 * struct zd_fault_attr - when a site fails, like the kernel's fault_attr:
 * a call fails if @times is not exhausted (-1: unlimited), the call number
 * is a multiple of @interval (0 or 1: every call) and a seeded draw falls
 * under @probability percent (0 disables the site, 100 always).
 */
struct zd_fault_attr {
	unsigned int probability;
	unsigned int interval;
	long times;
};

/*
 * zd_fault_attr_parse - parse "SITE[:probability=P][,interval=N][,times=K]"
 * (also "SITE" alone: every call fails). Context: any. Returns 0 and fills
 * *site and *attr, or -EINVAL for an unknown site, key or value.
 */
int zd_fault_attr_parse(const char *spec, enum zd_fault_site *site, struct zd_fault_attr *attr);

/*
 * zd_should_fail - should this call at @site fail (should_fail)? Counts
 * the call and draws from the site's seeded stream as its attributes say;
 * false at once for a disabled site. For a driver's own allocation paths
 * (ZD_FAULT_DEVICE_ALLOC); the library's paths ask it themselves.
 * Context: any; takes the system's fault lock only for an enabled site.
 * Returns true if the caller must fail the call (with -ENOMEM, as an
 * allocation would).
 */
bool zd_should_fail(struct zd_system *sys, enum zd_fault_site site);

/*
 * zd_system_set_fault - change a site's attributes on a running machine
 * (as writing the kernel's debugfs fault_attr files does); the site's call
 * count and remaining @times start again. Context: no other thread may be
 * allocating meanwhile (the allocation paths read the attributes without a
 * lock). Returns 0, or -EINVAL for an unknown site or a probability above
 * 100.
 */
int zd_system_set_fault(struct zd_system *sys, enum zd_fault_site site,
			const struct zd_fault_attr *attr);

#endif /* ZONEDEV_FAULT_INJECT_H */
