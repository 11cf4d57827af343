// SPDX-License-Identifier: MIT
/*
 * machine.c - the machine and its devices: `system` builds a struct
 * zd_system, `device` stands a driver up (a devdax device on the
 * device-DAX driver, every other type on a devmem pool, as a driver's
 * probe does around memremap_pages), `unbind` tears it down as a
 * driver's remove does (device-DAX: kill, zap every mapping, wait for
 * every folio to be idle; pool: memunmap_pages waiting for every page),
 * never past the deadline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/devdax.h>

#include "runner.h"

int zr_exec_system(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	struct zd_system_options o;

	zd_system_options_init(&o);
	o.ram_size = cmd->u.system.ram;
	o.scheme = (enum zd_scheme)cmd->u.system.scheme;
	o.check = (enum zd_check_level)cmd->u.system.check;
	o.data = (enum zd_data_mode)cmd->u.system.data;
	o.seed = cmd->u.system.seed;
	memcpy(o.fault, run->opts->fault, sizeof(o.fault));
	o.trace = run->trace;
	o.report = zr_report_cb;
	o.report_ctx = run;
	return zd_system_create(&o, &run->sys);
}

/*
 * A devdax device: zd_devdax_create (devm_create_dev_dax + probe). The
 * runner keeps the device's file open, as a process holding /dev/daxX.Y
 * open would: after unbind its mmap fails with ENXIO.
 */
static int create_devdax(struct zr_run *run, int dev, const struct zr_device_decl *decl)
{
	struct zd_devdax *dd;
	struct zd_file *file;
	int ret;

	ret = zd_devdax_create(run->sys, decl->size, ZD_PAGE_SIZE << decl->shift, &dd);
	if (ret)
		return ret;
	file = zd_devdax_file(dd);
	zd_get_file(file);
	zd_mutex_lock(run->lock);
	run->devs[dev].dax = dd;
	run->devs[dev].pgmap = zd_devdax_pgmap(dd);
	run->devs[dev].dax_file = file;
	run->devs[dev].state = ZR_DS_BOUND;
	zd_mutex_unlock(run->lock);
	return 0;
}

int zr_exec_device(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int dev = cmd->u.device.dev;
	const struct zr_device_decl *decl = &run->prog->devices[dev];
	struct zd_devmem_pool *pool;
	int ret;

	zd_mutex_lock(run->lock);
	ret = run->devs[dev].state == ZR_DS_ABSENT ? 0 : -EEXIST;
	zd_mutex_unlock(run->lock);
	if (ret)
		return ret;
	if (decl->type == ZR_DEV_DEVDAX)
		return create_devdax(run, dev, decl);
	ret = zd_devmem_pool_create(run->sys, zr_devtype_memtype(decl->type), decl->size,
				    decl->shift, &pool);
	if (ret)
		return ret;
	zd_mutex_lock(run->lock);
	run->devs[dev].pool = pool;
	run->devs[dev].pgmap = zd_devmem_pool_pgmap(pool);
	run->devs[dev].state = ZR_DS_BOUND;
	zd_mutex_unlock(run->lock);
	return 0;
}

int zr_device_of_folio(struct zr_run *run, const struct zd_folio *folio)
{
	struct zd_dev_pagemap *pgmap = zd_folio_pgmap(folio);
	int dev = -1;

	if (!pgmap)
		return -1;
	zd_mutex_lock(run->lock);
	for (int d = 0; d < run->prog->ndevices && dev < 0; d++)
		if ((run->devs[d].state == ZR_DS_BOUND || run->devs[d].state == ZR_DS_DYING ||
		     run->devs[d].state == ZR_DS_UNBINDING) && run->devs[d].pgmap == pgmap)
			dev = d;
	zd_mutex_unlock(run->lock);
	return dev;
}

/* Close the devdax files the runner kept open (after every unbind). */
void zr_close_device_files(struct zr_run *run)
{
	for (int d = 0; d < run->prog->ndevices; d++) {
		struct zd_file *f;

		zd_mutex_lock(run->lock);
		f = run->devs[d].dax_file;
		run->devs[d].dax_file = NULL;
		zd_mutex_unlock(run->lock);
		if (f)
			zd_fput(f);
	}
}

/*
 * zr_unbind_device - destroy @dev's pool, waiting at most @deadline_ns
 * (0: do not wait, look once). -ETIMEDOUT leaves it dying (a later
 * unbind resumes the wait); -EBUSY if another thread is unbinding it,
 * -ENODEV if it is not bound.
 */
int zr_unbind_device(struct zr_ctx *ctx, int dev, uint64_t deadline_ns)
{
	struct zr_run *run = ctx->run;
	struct zr_device_rt *d = &run->devs[dev];
	struct zd_devmem_pool *pool;
	struct zd_devdax *dax;
	enum zr_dev_state st;
	int ret;

	/* The library's 0 means no limit; "do not wait" is the shortest wait it has. */
	if (!deadline_ns)
		deadline_ns = 1;
	zd_mutex_lock(run->lock);
	st = d->state;
	if (st == ZR_DS_BOUND || st == ZR_DS_DYING)
		d->state = ZR_DS_UNBINDING;
	pool = d->pool;
	dax = d->dax;
	zd_mutex_unlock(run->lock);
	if (st == ZR_DS_UNBINDING)
		return -EBUSY;
	if (st != ZR_DS_BOUND && st != ZR_DS_DYING)
		return -ENODEV;

	/* Not under run->lock: the wait needs other threads to release. */
	if (dax) {
		/* Linux's unbind: no wait for held pages in the zero scheme (R1.13). */
		ret = zd_devdax_unbind(dax, deadline_ns);
	} else {
		ret = zd_devmem_pool_destroy(pool, deadline_ns);
	}

	zd_mutex_lock(run->lock);
	if (!ret) {
		d->pool = NULL;
		d->dax = NULL;
		d->pgmap = NULL;
		d->state = ZR_DS_GONE;
	} else {
		d->state = ZR_DS_DYING;
	}
	zd_mutex_unlock(run->lock);
	return ret;
}

/* Name every set that still holds pages of @dev, with a page dump. */
void zr_print_holders(struct zr_run *run, int dev)
{
	const struct zr_names *sets = &run->prog->names[ZR_SET];
	struct zd_folio *first = NULL;
	int holders = 0;

	zd_mutex_lock(run->lock);
	for (int i = 0; i < sets->n; i++) {
		const struct zr_set_rt *s = &run->sets[i];
		unsigned long refs = 0, pins = 0, folios = 0;
		char pinstr[40] = "";

		for (size_t j = 0; j < s->n; j++) {
			if (s->v[j].dev != dev)
				continue;
			refs += (unsigned long)s->v[j].refs;
			pins += (unsigned long)s->v[j].pins;
			folios++;
			if (!first)
				first = s->v[j].folio;
		}
		if (!folios)
			continue;
		holders++;
		if (pins)
			snprintf(pinstr, sizeof(pinstr), " and %lu pin%s", pins, pins == 1 ? "" : "s");
		fprintf(stderr, "  set '%s' (line %d) holds %lu reference%s%s on %lu folio%s of '%s'\n",
			sets->v[i].name, sets->v[i].line, refs, refs == 1 ? "" : "s", pinstr, folios,
			folios == 1 ? "" : "s", run->prog->names[ZR_DEVICE].v[dev].name);
	}
	if (!holders)
		fprintf(stderr, "  no reference set holds pages of '%s': the holder is elsewhere\n",
			run->prog->names[ZR_DEVICE].v[dev].name);
	/* Dump while still under the lock: the set may be released meanwhile. */
	if (first)
		zr_dump_folio(first);
	zd_mutex_unlock(run->lock);
}

int zr_exec_unbind(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int dev = cmd->u.unbind.dev;
	uint64_t deadline = cmd->u.unbind.has_deadline ? cmd->u.unbind.deadline_ns :
			    run->opts->deadline_ns;
	int ret = zr_unbind_device(ctx, dev, deadline);

	if (ret == -ETIMEDOUT && !cmd->checked) {
		zr_fail(ctx, cmd->line, "expected unbind '%s' to finish within %.3gs, found pages still held (ETIMEDOUT):",
			run->prog->names[ZR_DEVICE].v[dev].name, (double)deadline / 1e9);
		zr_print_holders(run, dev);
	}
	return ret;
}
