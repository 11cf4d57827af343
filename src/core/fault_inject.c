// SPDX-License-Identifier: MIT
/*
 * src/core/fault_inject.c - fault injection at named sites.
 *
 * Models lib/fault-inject.c (should_fail with probability, interval and
 * times). Draws come from a per-site splitmix64 stream seeded from the
 * system seed, so a run with the same seed fails at the same calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void _zd_faultinj_init(struct zd_system *sys)
{
	for (int i = 0; i < ZD_FAULT_NR_SITES; i++) {
		sys->fault_rng[i] = sys->opts.seed * 0x100000001b3ull + (uint64_t)i;
		sys->fault_calls[i] = 0;
		sys->fault_times_left[i] = sys->opts.fault[i].times;
	}
}

bool _zd_should_fail(struct zd_system *sys, enum zd_fault_site site)
{
	const struct zd_fault_attr *a = &sys->opts.fault[site];
	bool fail = false;

	if (zd_likely(!a->probability))
		return false;
	zd_spin_lock(&sys->fault_lock);
	sys->fault_calls[site]++;
	if (sys->fault_times_left[site] != 0 &&
	    (a->interval <= 1 || sys->fault_calls[site] % a->interval == 0) &&
	    (a->probability >= 100 || splitmix64(&sys->fault_rng[site]) % 100 < a->probability)) {
		fail = true;
		if (sys->fault_times_left[site] > 0)
			sys->fault_times_left[site]--;
	}
	zd_spin_unlock(&sys->fault_lock);
	if (fail)
		zd_atomic_fetch_add_relaxed(&sys->st_faults, 1);
	return fail;
}

bool zd_should_fail(struct zd_system *sys, enum zd_fault_site site)
{
	return _zd_should_fail(sys, site);
}

int zd_system_set_fault(struct zd_system *sys, enum zd_fault_site site,
			const struct zd_fault_attr *attr)
{
	if ((unsigned)site >= ZD_FAULT_NR_SITES || !attr || attr->probability > 100)
		return -EINVAL;
	zd_spin_lock(&sys->fault_lock);
	sys->opts.fault[site] = *attr;
	sys->fault_calls[site] = 0;
	sys->fault_times_left[site] = attr->times;
	zd_spin_unlock(&sys->fault_lock);
	return 0;
}

static const char *const site_names[ZD_FAULT_NR_SITES] = {
	[ZD_FAULT_PAGE_ALLOC] = "page_alloc",
	[ZD_FAULT_PGMAP_SETUP] = "pgmap_setup",
	[ZD_FAULT_DEVICE_ALLOC] = "device_alloc",
	[ZD_FAULT_PGTABLE_ALLOC] = "pgtable_alloc",
	[ZD_FAULT_VMA_ALLOC] = "vma_alloc",
};

const char *zd_fault_site_name(enum zd_fault_site site)
{
	return (unsigned)site < ZD_FAULT_NR_SITES ? site_names[site] : "?";
}

static int parse_num(const char *s, size_t len, long *out)
{
	char buf[32], *end;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtol(buf, &end, 0);
	return *end ? -EINVAL : 0;
}

int zd_fault_attr_parse(const char *spec, enum zd_fault_site *site, struct zd_fault_attr *attr)
{
	const char *colon = strchr(spec, ':'), *p;
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	int s;

	for (s = 0; s < ZD_FAULT_NR_SITES; s++)
		if (strlen(site_names[s]) == nlen && !strncmp(spec, site_names[s], nlen))
			break;
	if (s == ZD_FAULT_NR_SITES)
		return -EINVAL;
	*site = (enum zd_fault_site)s;
	attr->probability = 100;
	attr->interval = 1;
	attr->times = -1;
	for (p = colon ? colon + 1 : NULL; p && *p;) {
		const char *comma = strchr(p, ','), *eq = strchr(p, '=');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		long v;

		if (!eq || eq > p + len || parse_num(eq + 1, (size_t)(p + len - eq - 1), &v))
			return -EINVAL;
		if ((size_t)(eq - p) == 11 && !strncmp(p, "probability", 11) && v >= 0 && v <= 100)
			attr->probability = (unsigned int)v;
		else if ((size_t)(eq - p) == 8 && !strncmp(p, "interval", 8) && v >= 0)
			attr->interval = (unsigned int)v;
		else if ((size_t)(eq - p) == 5 && !strncmp(p, "times", 5) && v >= -1)
			attr->times = v;
		else
			return -EINVAL;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}
