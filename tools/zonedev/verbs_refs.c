// SPDX-License-Identifier: MIT
/*
 * verbs_refs.c - reference sets, grammar and execution: the references one
 * holder owns (a driver's allocations, a GUP caller's references or pins).
 * `devalloc` takes folios from a device as a driver does for a migration
 * (zone_device_folio_init or activation: one reference each), `get` takes
 * one more plain reference on each (folio_get), `release` drops all of
 * them (folio_put_refs, and unpin_user_folio for pins).
 *
 * A set has one entry per folio, found through a small hash index, so a
 * folio reached twice (two GUP calls, 512 pages of one THP) is counted
 * once with all its references.
 *
 * A set is used by one thread at a time by convention; run->lock still
 * guards its array, which the end of the run and unbind's report read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/devdax.h>
#include <zonedev/gup.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

/* devalloc SET DEVICE N [order=K] */
static int parse_devalloc(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum { DEVALLOC_ORDER, DEVALLOC_NOPTS };
	struct zr_opt o[DEVALLOC_NOPTS] = {
		[DEVALLOC_ORDER] = { .key = "order", .type = ZR_OPT_UINT },
	};
	const struct zr_opt *order = &o[DEVALLOC_ORDER];
	int ret = zr_arg_set(p, true, &cmd->u.devalloc.set);

	if (!ret)
		ret = zr_arg_device(p, &cmd->u.devalloc.dev);
	if (!ret)
		ret = zr_arg_count(p, "a number of folios", "folios", 1u << 24, &cmd->u.devalloc.n);
	if (!ret)
		ret = zr_arg_opts(p, o, DEVALLOC_NOPTS);
	if (!ret && order->seen && order->u > ZD_MAX_FOLIO_ORDER)
		ret = zr_perr(p, zr_opt_vcol(order), "expected an order from 0 to %d, found '%s'",
			      ZD_MAX_FOLIO_ORDER, order->tok->text + 6);
	cmd->u.devalloc.order = order->seen ? order->u : 0;
	return ret;
}

/* get SET, release SET */
static int parse_set_use(struct zr_parser *p, struct zr_cmd *cmd)
{
	return zr_arg_set(p, false, &cmd->u.set.set);
}

/* ---- execution ---- */

static size_t slot_of(const struct zr_set_rt *s, const struct zd_folio *folio)
{
	uint64_t h = (uint64_t)(uintptr_t)folio;

	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) & (s->nindex - 1);
}

/* Rebuild the index with @nindex slots. Context: run->lock held. */
static int set_reindex(struct zr_set_rt *s, size_t nindex)
{
	size_t *index = calloc(nindex, sizeof(*index));

	if (!index)
		return -ENOMEM;
	free(s->index);
	s->index = index;
	s->nindex = nindex;
	for (size_t i = 0; i < s->n; i++) {
		size_t j = slot_of(s, s->v[i].folio);

		while (s->index[j])
			j = (j + 1) & (nindex - 1);
		s->index[j] = i + 1;
	}
	return 0;
}

/* The entry of @folio in @s, or NULL. Context: run->lock held. */
static struct zr_set_entry *set_find(struct zr_set_rt *s, const struct zd_folio *folio)
{
	if (!s->nindex)
		return NULL;
	for (size_t j = slot_of(s, folio); s->index[j]; j = (j + 1) & (s->nindex - 1))
		if (s->v[s->index[j] - 1].folio == folio)
			return &s->v[s->index[j] - 1];
	return NULL;
}

/* Add @refs and @pins on @folio, a new entry if needed. Context: run->lock held. */
static int set_add_locked(struct zr_set_rt *s, struct zd_folio *folio, int dev, int refs, int pins)
{
	struct zr_set_entry *e = set_find(s, folio);
	size_t j;

	if (e) {
		e->refs += refs;
		e->pins += pins;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct zr_set_entry *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	/* Keep the index at most half full. */
	if (2 * (s->n + 1) > s->nindex && set_reindex(s, s->nindex ? 2 * s->nindex : 32))
		return -ENOMEM;
	s->v[s->n] = (struct zr_set_entry){ .folio = folio, .refs = refs, .pins = pins, .dev = dev };
	for (j = slot_of(s, folio); s->index[j]; j = (j + 1) & (s->nindex - 1))
		;
	s->index[j] = ++s->n;
	return 0;
}

static int set_add_pages_locked(struct zr_set_rt *s, struct zd_page *page, unsigned long nr)
{
	if (nr > s->pages_cap - s->npages) {
		size_t cap = s->pages_cap ? s->pages_cap : 64;
		struct zd_page **v;

		while (cap - s->npages < nr)
			cap *= 2;
		v = realloc(s->pages, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->pages = v;
		s->pages_cap = cap;
	}
	for (unsigned long i = 0; i < nr; i++)
		s->pages[s->npages++] = page + i;
	return 0;
}

int zr_set_add_pages(struct zr_run *run, int set, struct zd_page *page, unsigned long nr)
{
	int ret;

	zd_mutex_lock(run->lock);
	ret = set_add_pages_locked(&run->sets[set], page, nr);
	zd_mutex_unlock(run->lock);
	return ret;
}

int zr_set_add(struct zr_run *run, int set, struct zd_folio *folio, int dev, int refs, int pins)
{
	int ret;

	zd_mutex_lock(run->lock);
	ret = set_add_locked(&run->sets[set], folio, dev, refs, pins);
	zd_mutex_unlock(run->lock);
	return ret;
}

/*
 * A devdax device has no allocator: device-DAX hands its pages to whoever
 * maps them. `devalloc` on it takes N idle folios (at their idle refcount,
 * neither mapped nor held) the way a new mapping does (activation, 1 ->
 * 2), next-fit from where the last one stopped. Context: run->lock held
 * (unbind cannot start meanwhile); nothing else may map the device's
 * pages concurrently (a folio mapped between the look and the activation
 * would be reported as misuse).
 */
static int devdax_take(struct zr_run *run, int dev, unsigned int order, struct zd_folio **out)
{
	struct zr_device_rt *d = &run->devs[dev];
	struct zd_dev_pagemap *pgmap = d->pgmap;
	unsigned long nr = zd_pgmap_nr_pages(pgmap), step = zd_pgmap_vmemmap_nr(pgmap);
	unsigned long first = zd_pgmap_range_pfn(pgmap, 0);
	int idle = zd_pgmap_free_refcount(pgmap);

	if (order != pgmap->vmemmap_shift)
		return -EINVAL;
	for (unsigned long i = 0; i < nr; i += step) {
		unsigned long off = (d->cursor + i) % nr;
		struct zd_folio *folio = zd_pfn_folio(run->sys, first + off);

		if (!folio || zd_folio_ref_count(folio) != idle)
			continue;
		if (zd_device_folio_activate(folio))
			return -EINVAL;
		d->cursor = (off + step) % nr;
		*out = folio;
		return 0;
	}
	return -ENOMEM;
}

/*
 * devalloc SET DEVICE N [order=K]: N folios, one reference each. On a
 * failure the folios already allocated stay in the set.
 */
static int exec_devalloc(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int dev = cmd->u.devalloc.dev, ret = 0;
	struct zr_set_rt *s = &run->sets[cmd->u.devalloc.set];
	unsigned int order = (unsigned int)cmd->u.devalloc.order;

	/* Held across the allocations: neither path sleeps. */
	zd_mutex_lock(run->lock);
	if (run->devs[dev].state != ZR_DS_BOUND) {
		zd_mutex_unlock(run->lock);
		return -ENODEV;
	}
	for (uint64_t i = 0; i < cmd->u.devalloc.n; i++) {
		struct zd_folio *folio;

		if (run->devs[dev].dax)
			ret = devdax_take(run, dev, order, &folio);
		else
			ret = zd_devmem_pool_alloc(run->devs[dev].pool, order, &folio);
		if (ret)
			break;
		ret = set_add_locked(s, folio, dev, 1, 0);
		if (ret) {
			zd_folio_put(folio);
			break;
		}
		/* Its pages, for `read SET` (a failure here leaves the folio held, unread). */
		ret = set_add_pages_locked(s, &folio->page, zd_folio_nr_pages(folio));
		if (ret)
			break;
	}
	zd_mutex_unlock(run->lock);
	return ret;
}

/* get SET: one more plain reference on every folio (pinned ones too). */
static int exec_get(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	struct zr_set_rt *s = &run->sets[cmd->u.set.set];

	zd_mutex_lock(run->lock);
	for (size_t i = 0; i < s->n; i++) {
		zd_folio_get(s->v[i].folio);
		s->v[i].refs++;
	}
	zd_mutex_unlock(run->lock);
	return 0;
}

/* Empty @s and drop what it held, outside run->lock (folio_free may run). */
static void set_release(struct zr_run *run, struct zr_set_rt *s)
{
	struct zr_set_entry *v;
	size_t n;

	zd_mutex_lock(run->lock);
	v = s->v;
	n = s->n;
	s->v = NULL;
	s->n = s->cap = 0;
	free(s->index);
	s->index = NULL;
	s->nindex = 0;
	free(s->pages);
	s->pages = NULL;
	s->npages = s->pages_cap = 0;
	zd_mutex_unlock(run->lock);
	for (size_t i = 0; i < n; i++) {
		/* Pins first: the plain references keep the folio alive across it. */
		if (v[i].pins)
			zd_unpin_user_folio(v[i].folio, (unsigned long)v[i].pins);
		if (v[i].refs)
			zd_folio_put_refs(v[i].folio, v[i].refs);
	}
	free(v);
}

static int exec_release(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	set_release(ctx->run, &ctx->run->sets[cmd->u.set.set]);
	return 0;
}

void zr_release_all_sets(struct zr_run *run)
{
	for (int i = 0; i < run->prog->names[ZR_SET].n; i++)
		set_release(run, &run->sets[i]);
}

const struct zr_verb zr_verbs_refs[] = {
	{ .name = "devalloc", .subsys = "core",
	  .parse = parse_devalloc, .exec = exec_devalloc },
	{ .name = "get", .subsys = "core", .parse = parse_set_use, .exec = exec_get },
	{ .name = "release", .subsys = "core", .parse = parse_set_use, .exec = exec_release },
	{ 0 },
};
