// SPDX-License-Identifier: MIT
/*
 * src/check/faultinj.c - fault injection at named sites.
 *
 * Models lib/fault-inject.c (should_fail with probability, interval and
 * times). Draws come from a per-site splitmix64 stream seeded from the
 * system seed, so a run with the same seed fails at the same calls.
 */
#include "core/internal.h"

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
