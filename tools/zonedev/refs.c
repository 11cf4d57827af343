// SPDX-License-Identifier: MIT
/*
 * refs.c - reference sets: the references one holder owns (a driver's
 * allocations, later a GUP caller's pages). `devalloc` takes folios from
 * a device as a driver does for a migration (zone_device_folio_init or
 * activation: one reference each), `get` takes one more reference on
 * each (folio_get), `release` drops all of them (folio_put_refs).
 *
 * A set is used by one thread at a time by convention; run->lock still
 * guards its array, which the end of the run and unbind's report read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static int set_append(struct zr_set_rt *s, struct zd_folio *folio, int dev)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct zr_set_entry *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct zr_set_entry){ .folio = folio, .refs = 1, .dev = dev };
	return 0;
}

/*
 * devalloc SET DEVICE N [order=K]: N folios, one reference each. On a
 * failure the folios already allocated stay in the set.
 */
int zr_exec_devalloc(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int dev = cmd->u.devalloc.dev, ret = 0;
	struct zr_set_rt *s = &run->sets[cmd->u.devalloc.set];
	struct zd_devmem_pool *pool;

	/* Held across the allocations: zd_devmem_pool_alloc never sleeps. */
	zd_mutex_lock(run->lock);
	if (run->devs[dev].state != ZR_DS_BOUND) {
		zd_mutex_unlock(run->lock);
		return -ENODEV;
	}
	pool = run->devs[dev].pool;
	for (uint64_t i = 0; i < cmd->u.devalloc.n; i++) {
		struct zd_folio *folio;

		ret = zd_devmem_pool_alloc(pool, (unsigned int)cmd->u.devalloc.order, &folio);
		if (ret)
			break;
		ret = set_append(s, folio, dev);
		if (ret) {
			zd_folio_put(folio);
			break;
		}
	}
	zd_mutex_unlock(run->lock);
	return ret;
}

int zr_exec_get(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
	zd_mutex_unlock(run->lock);
	for (size_t i = 0; i < n; i++)
		zd_folio_put_refs(v[i].folio, v[i].refs);
	free(v);
}

int zr_exec_release(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	set_release(ctx->run, &ctx->run->sets[cmd->u.set.set]);
	return 0;
}

void zr_release_all_sets(struct zr_run *run)
{
	for (int i = 0; i < run->prog->names[ZR_SET].n; i++)
		set_release(run, &run->sets[i]);
}
