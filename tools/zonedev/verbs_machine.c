// SPDX-License-Identifier: MIT
/*
 * verbs_machine.c - the machine and its devices, grammar and execution:
 * `system` builds a struct zd_system, `device` stands a driver up (a
 * devdax device on the device-DAX driver, drivers/dax/device.c, every
 * other type on a devmem pool, as a driver's probe does around
 * memremap_pages in mm/memremap.c), `unbind` tears it down as a driver's
 * remove does (device-DAX: kill, zap every mapping, wait for every folio
 * to be idle; pool: memunmap_pages waiting for every page), never past
 * the deadline. A device type's name and memory type are looked up here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/devdax.h>

#include "exec.h"
#include "parse.h"

/* ---- device types ---- */

static const struct zr_choice devtypes[] = { ZR_DEVTYPE_CHOICES, { 0 } };

const char *zr_devtype_name(enum zr_devtype t)
{
	return zr_choice_name(devtypes, (int)t);
}

enum zd_memory_type zr_devtype_memtype(enum zr_devtype t)
{
	switch (t) {
	case ZR_DEV_PRIVATE: return ZD_MEMORY_DEVICE_PRIVATE;
	case ZR_DEV_COHERENT: return ZD_MEMORY_DEVICE_COHERENT;
	case ZR_DEV_FSDAX: return ZD_MEMORY_DEVICE_FS_DAX;
	case ZR_DEV_P2PDMA: return ZD_MEMORY_DEVICE_PCI_P2PDMA;
	case ZR_DEV_DEVDAX:
	case ZR_DEV_GENERIC:
	default:
		return ZD_MEMORY_DEVICE_GENERIC;
	}
}

/* ---- grammar ---- */

/* system ram=SIZE [scheme=zero|one] [check=off|cheap|full] [data=real|none] [seed=N] */
static int parse_system(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const struct zr_choice schemes[] = {
		{ "zero", ZD_SCHEME_ZERO }, { "one", ZD_SCHEME_ONE }, { 0 },
	};
	static const struct zr_choice checks[] = {
		{ "off", ZD_CHECK_OFF }, { "cheap", ZD_CHECK_CHEAP }, { "full", ZD_CHECK_FULL },
		{ 0 },
	};
	static const struct zr_choice datas[] = {
		{ "real", ZD_DATA_REAL }, { "none", ZD_DATA_NONE }, { 0 },
	};
	enum { SYS_RAM, SYS_SCHEME, SYS_CHECK, SYS_DATA, SYS_SEED, SYS_NOPTS };
	struct zr_opt o[SYS_NOPTS] = {
		[SYS_RAM] = { .key = "ram", .type = ZR_OPT_SIZE },
		[SYS_SCHEME] = { .key = "scheme", .type = ZR_OPT_CHOICE, .choices = schemes },
		[SYS_CHECK] = { .key = "check", .type = ZR_OPT_CHOICE, .choices = checks },
		[SYS_DATA] = { .key = "data", .type = ZR_OPT_CHOICE, .choices = datas },
		[SYS_SEED] = { .key = "seed", .type = ZR_OPT_UINT },
	};
	const struct zr_opt *ram = &o[SYS_RAM];
	int ret = zr_arg_opts(p, o, SYS_NOPTS);

	if (ret)
		return ret;
	if (!ram->seen)
		return zr_perr_here(p, "ram=SIZE");
	if (!ram->u || ram->u % (4ull << 20))
		return zr_perr(p, zr_opt_vcol(ram), "expected a RAM size that is a non-zero multiple of 4M, found '%s'",
			       ram->tok->text + 4);
	cmd->u.system.ram = ram->u;
	cmd->u.system.scheme = o[SYS_SCHEME].seen ? o[SYS_SCHEME].choice : ZD_SCHEME_ZERO;
	cmd->u.system.check = o[SYS_CHECK].seen ? o[SYS_CHECK].choice : ZD_CHECK_CHEAP;
	cmd->u.system.data = o[SYS_DATA].seen ? o[SYS_DATA].choice : ZD_DATA_REAL;
	cmd->u.system.seed = o[SYS_SEED].seen ? o[SYS_SEED].u : 1;
	p->prog->data_none = cmd->u.system.data == ZD_DATA_NONE;
	p->prog->scheme_one = cmd->u.system.scheme == ZD_SCHEME_ONE;
	return 0;
}

/* `device NAME ...`: define the name with its declaration. */
static int declare_device(struct zr_parser *p, const struct zr_token *t,
			  const struct zr_device_decl *decl, int *idx)
{
	struct zr_program *prog = p->prog;
	int n = prog->names[ZR_DEVICE].n, ret;
	struct zr_device_decl *v = realloc(prog->devices, (size_t)(n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	prog->devices = v;
	ret = zr_define(p, ZR_DEVICE, -1, t, idx);
	if (ret)
		return ret;
	prog->devices[*idx] = *decl;
	prog->ndevices = *idx + 1;
	return 0;
}

/* device NAME type=TYPE size=SIZE [align=4K|2M|1G] */
static int parse_device(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const struct zr_choice aligns[] = {	/* the folio size: its vmemmap_shift */
		{ "4K", 0 }, { "2M", 9 }, { "1G", 18 }, { 0 },
	};
	enum { DEV_TYPE, DEV_SIZE, DEV_ALIGN, DEV_NOPTS };
	struct zr_opt o[DEV_NOPTS] = {
		[DEV_TYPE] = { .key = "type", .type = ZR_OPT_CHOICE, .choices = devtypes },
		[DEV_SIZE] = { .key = "size", .type = ZR_OPT_SIZE },
		[DEV_ALIGN] = { .key = "align", .type = ZR_OPT_CHOICE, .choices = aligns },
	};
	const struct zr_opt *size = &o[DEV_SIZE], *align = &o[DEV_ALIGN];
	struct zr_device_decl decl = { 0 };
	struct zr_token *name;
	uint64_t folio;
	int ret;

	ret = zr_arg_name(p, "a device name", &name);
	if (ret)
		return ret;
	ret = zr_arg_opts(p, o, DEV_NOPTS);
	if (ret)
		return ret;
	if (!o[DEV_TYPE].seen)
		return zr_perr_here(p, "type=private|coherent|devdax|fsdax|generic|p2pdma");
	if (!size->seen)
		return zr_perr_here(p, "size=SIZE");
	decl.type = (enum zr_devtype)o[DEV_TYPE].choice;
	decl.size = size->u;
	decl.shift = align->seen ? (unsigned int)align->choice : 0;
	folio = ZD_PAGE_SIZE << decl.shift;
	if (!decl.size || decl.size % ZD_SUBSECTION_SIZE)
		return zr_perr(p, zr_opt_vcol(size), "expected a device size that is a non-zero multiple of 2M, found '%s'",
			       size->tok->text + 5);
	if (decl.size % folio)
		return zr_perr(p, zr_opt_vcol(size), "expected a device size that is a multiple of align=%s, found '%s'",
			       align->value, size->tok->text + 5);
	return declare_device(p, name, &decl, &cmd->u.device.dev);
}

/* unbind DEVICE [deadline=DURATION] */
static int parse_unbind(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum { UNBIND_DEADLINE, UNBIND_NOPTS };
	struct zr_opt o[UNBIND_NOPTS] = {
		[UNBIND_DEADLINE] = { .key = "deadline", .type = ZR_OPT_DURATION },
	};
	int ret = zr_arg_device(p, &cmd->u.unbind.dev);

	if (ret)
		return ret;
	ret = zr_arg_opts(p, o, UNBIND_NOPTS);
	cmd->u.unbind.has_deadline = o[UNBIND_DEADLINE].seen;	/* else --deadline */
	cmd->u.unbind.deadline_ns = o[UNBIND_DEADLINE].u;	/* 0: do not wait */
	return ret;
}

/* ---- execution ---- */

static int exec_system(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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

static int exec_device(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
	if (decl->mirror) {
		/* A device-side command names it: the dmirror driver's unit too. */
		ret = zr_mirror_create(run, dev);
		if (ret) {
			zd_devmem_pool_destroy(pool, 1);
			return ret;
		}
	}
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
		     run->devs[d].state == ZR_DS_UNBINDING) &&
		    (run->devs[d].pgmap == pgmap || zr_mirror_owns(run, d, pgmap)))
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
		/* dmirror's removal first: its pages go back to RAM. */
		ret = zr_mirror_unbind(run, dev, deadline_ns);
		if (!ret)
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

static int exec_unbind(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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

const struct zr_verb zr_verbs_machine[] = {
	{ .name = "system", .subsys = "core", .parse = parse_system, .exec = exec_system,
	  .flags = ZR_VERB_MAIN_ONLY | ZR_VERB_FIRST, .usage = "system ram=SIZE" },
	{ .name = "device", .subsys = "core", .parse = parse_device, .exec = exec_device },
	{ .name = "unbind", .subsys = "core", .parse = parse_unbind, .exec = exec_unbind },
	{ 0 },
};
