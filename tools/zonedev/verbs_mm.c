// SPDX-License-Identifier: MIT
/*
 * verbs_mm.c - processes and their mappings, grammar and execution:
 * `process` (mm_alloc), `fork` (dup_mm in kernel/fork.c), `exit`
 * (exit_mmap), `mmap` of anonymous, shared anonymous, device-DAX and
 * tmpfs memory (mm/mmap.c), `mremap` (mm/mremap.c), `munmap`, `mprotect`
 * (mm/mprotect.c) and `madvise` (mm/madvise.c), each returning the
 * kernel's error. A region name is bound to where its last successful
 * mmap or mremap put it, per process; a forked child starts with its
 * parent's bindings. The protection and advice names live here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "parse.h"

static const struct zr_choice prots[] = {
	{ "rw", ZD_PROT_READ | ZD_PROT_WRITE },
	{ "r", ZD_PROT_READ },
	{ "none", ZD_PROT_NONE },
	{ 0 },
};

static const struct zr_choice advices[] = {
	{ "dontneed", ZD_MADV_DONTNEED },
	{ "free", ZD_MADV_FREE },
	{ "cold", ZD_MADV_COLD },
	{ "pageout", ZD_MADV_PAGEOUT },
	{ "mergeable", ZD_MADV_MERGEABLE },
	{ "hugepage", ZD_MADV_HUGEPAGE },
	{ "nohugepage", ZD_MADV_NOHUGEPAGE },
	{ "collapse", ZD_MADV_COLLAPSE },
	{ "dontfork", ZD_MADV_DONTFORK },
	{ "dofork", ZD_MADV_DOFORK },
	{ "wipeonfork", ZD_MADV_WIPEONFORK },
	{ "keeponfork", ZD_MADV_KEEPONFORK },
	{ 0 },
};

/* ---- grammar ---- */

static int parse_process(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a process name", &t);

	return ret ? ret : zr_define(p, ZR_PROCESS, -1, t, &cmd->u.process.proc);
}

/* fork CHILD PARENT: the child knows the parent's region names. */
static int parse_fork(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *child;
	int ret = zr_arg_name(p, "a new process name", &child);

	if (ret)
		return ret;
	ret = zr_arg_process(p, &cmd->u.fork.parent);
	if (ret)
		return ret;
	ret = zr_define(p, ZR_PROCESS, -1, child, &cmd->u.fork.child);
	return ret ? ret : zr_names_inherit(p, ZR_REGION, cmd->u.fork.parent, cmd->u.fork.child);
}

static int parse_exit(struct zr_parser *p, struct zr_cmd *cmd)
{
	return zr_arg_process(p, &cmd->u.process.proc);
}

/* devdax=DEVICE: a device of one of @types. */
static int device_of_type(struct zr_parser *p, const char *text, int col, unsigned int types,
			  const char *what, int *dev)
{
	struct zr_token t = { .kind = ZR_TOK_WORD, .text = (char *)text, .col = col };
	int ret = zr_resolve(p, ZR_DEVICE, -1, &t, dev);

	if (ret)
		return ret;
	if (!(types & (1u << p->prog->devices[*dev].type)))
		return zr_perr(p, col, "expected %s, found '%s' (a %s device)", what, text,
			       zr_devtype_name(p->prog->devices[*dev].type));
	return 0;
}

/*
 * mmap PROCESS REGION SIZE [anon|shared|devdax=DEVICE|file=FS:PATH [private]]
 *      [prot=rw|r|none] [align=SIZE] [thp]
 */
static int parse_mmap(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum {
		MMAP_ANON, MMAP_SHARED, MMAP_DEVDAX, MMAP_FILE, MMAP_PRIVATE, MMAP_PROT,
		MMAP_ALIGN, MMAP_THP, MMAP_NOPTS
	};
	struct zr_opt o[MMAP_NOPTS] = {
		[MMAP_ANON] = { .key = "anon", .type = ZR_OPT_FLAG },
		[MMAP_SHARED] = { .key = "shared", .type = ZR_OPT_FLAG },
		[MMAP_DEVDAX] = { .key = "devdax", .type = ZR_OPT_WORD },
		[MMAP_FILE] = { .key = "file", .type = ZR_OPT_WORD },
		[MMAP_PRIVATE] = { .key = "private", .type = ZR_OPT_FLAG },
		[MMAP_PROT] = { .key = "prot", .type = ZR_OPT_CHOICE, .choices = prots },
		[MMAP_ALIGN] = { .key = "align", .type = ZR_OPT_SIZE },
		[MMAP_THP] = { .key = "thp", .type = ZR_OPT_FLAG },
	};
	static const struct {
		int opt;
		enum zr_mmap_kind kind;
	} kinds[] = {
		{ MMAP_ANON, ZR_MAP_ANON }, { MMAP_SHARED, ZR_MAP_SHARED },
		{ MMAP_DEVDAX, ZR_MAP_DEVDAX }, { MMAP_FILE, ZR_MAP_FILE },
	};
	const struct zr_opt *devdax = &o[MMAP_DEVDAX], *file = &o[MMAP_FILE];
	const struct zr_opt *align = &o[MMAP_ALIGN], *kind = NULL;
	struct zr_token *region;
	int ret;

	ret = zr_arg_process(p, &cmd->u.mmap.proc);
	if (ret)
		return ret;
	ret = zr_arg_name(p, "a region name", &region);
	if (ret)
		return ret;
	ret = zr_define_or_get(p, ZR_REGION, cmd->u.mmap.proc, region, &cmd->u.mmap.region);
	if (ret)
		return ret;
	ret = zr_arg_size(p, "a mapping size", &cmd->u.mmap.size);
	if (ret)
		return ret;
	if (!cmd->u.mmap.size || cmd->u.mmap.size % ZD_PAGE_SIZE)
		return zr_perr(p, zr_prev(p)->col,
			       "expected a mapping size that is a non-zero multiple of 4K, found '%s'",
			       zr_prev(p)->text);
	ret = zr_arg_opts(p, o, MMAP_NOPTS);
	if (ret)
		return ret;
	cmd->u.mmap.kind = ZR_MAP_ANON;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct zr_opt *k = &o[kinds[i].opt];

		if (!k->seen)
			continue;
		if (kind)
			return zr_perr(p, k->col, "expected one of anon, shared, devdax= or file=, found '%s' after '%s'",
				       k->key, kind->key);
		kind = k;
		cmd->u.mmap.kind = kinds[i].kind;
	}
	cmd->u.mmap.dev = cmd->u.mmap.file = -1;
	if (devdax->seen) {
		ret = device_of_type(p, devdax->value, zr_opt_vcol(devdax), 1u << ZR_DEV_DEVDAX,
				     "a devdax device", &cmd->u.mmap.dev);
		if (ret)
			return ret;
	}
	if (file->seen) {
		ret = zr_file_str(p, (char *)file->value, zr_opt_vcol(file), false, &cmd->u.mmap.file);
		if (ret)
			return ret;
	}
	/* Extension: devdax= private asks for what the driver refuses (EINVAL). */
	if (o[MMAP_PRIVATE].seen && !file->seen && !devdax->seen)
		return zr_perr(p, o[MMAP_PRIVATE].col, "expected 'private' only with file=FS:PATH or devdax=DEVICE");
	cmd->u.mmap.private = o[MMAP_PRIVATE].seen;
	cmd->u.mmap.prot = o[MMAP_PROT].seen ? o[MMAP_PROT].choice : ZD_PROT_READ | ZD_PROT_WRITE;
	cmd->u.mmap.align = align->seen ? align->u : 0;
	if (align->seen && (!align->u || (align->u & (align->u - 1)) || align->u % ZD_PAGE_SIZE))
		return zr_perr(p, zr_opt_vcol(align), "expected a power-of-two alignment of at least 4K, found '%s'",
			       align->tok->text + 6);
	cmd->u.mmap.thp = o[MMAP_THP].seen;
	return 0;
}

/* mremap PROCESS ADDR LEN NEWREGION [size=SIZE] [at=ADDR] [dontunmap] */
static int parse_mremap(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum { MREMAP_SIZE, MREMAP_AT, MREMAP_DONTUNMAP, MREMAP_NOPTS };
	struct zr_opt o[MREMAP_NOPTS] = {
		[MREMAP_SIZE] = { .key = "size", .type = ZR_OPT_SIZE },
		[MREMAP_AT] = { .key = "at", .type = ZR_OPT_WORD },
		[MREMAP_DONTUNMAP] = { .key = "dontunmap", .type = ZR_OPT_FLAG },
	};
	const struct zr_opt *at = &o[MREMAP_AT];
	struct zr_token *region;
	int ret;

	ret = zr_arg_range(p, &cmd->u.mremap.proc, &cmd->u.mremap.addr, &cmd->u.mremap.len);
	if (ret)
		return ret;
	ret = zr_arg_name(p, "a new region name", &region);
	if (ret)
		return ret;
	ret = zr_define_or_get(p, ZR_REGION, cmd->u.mremap.proc, region, &cmd->u.mremap.region);
	if (ret)
		return ret;
	ret = zr_arg_opts(p, o, MREMAP_NOPTS);
	if (ret)
		return ret;
	cmd->u.mremap.size = o[MREMAP_SIZE].seen ? o[MREMAP_SIZE].u : cmd->u.mremap.len;
	cmd->u.mremap.has_at = at->seen;
	if (at->seen) {
		ret = zr_addr_str(p, cmd->u.mremap.proc, (char *)at->value, zr_opt_vcol(at),
				  &cmd->u.mremap.at);
		if (ret)
			return ret;
	}
	cmd->u.mremap.dontunmap = o[MREMAP_DONTUNMAP].seen;
	return 0;
}

static int parse_munmap(struct zr_parser *p, struct zr_cmd *cmd)
{
	return zr_arg_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);
}

static int parse_mprotect(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = zr_arg_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);

	return ret ? ret : zr_arg_choice(p, "a protection", prots, &cmd->u.range.how);
}

static int parse_madvise(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = zr_arg_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);

	return ret ? ret : zr_arg_choice(p, "an advice", advices, &cmd->u.range.how);
}

/* ---- execution ---- */

struct zd_mm *zr_proc_get(struct zr_ctx *ctx, const struct zr_cmd *cmd, int proc)
{
	struct zr_run *run = ctx->run;
	struct zr_proc_rt *p = &run->procs[proc];
	const char *name = run->prog->names[ZR_PROCESS].v[proc].name;
	struct zd_mm *mm;
	int exit_line;

	zd_mutex_lock(run->lock);
	mm = p->mm;
	exit_line = p->exit_line;
	if (mm)
		p->users++;
	zd_mutex_unlock(run->lock);
	if (mm)
		return mm;
	if (exit_line)
		zr_fail(ctx, cmd->line, "expected a live process '%s', found it exited (line %d)",
			name, exit_line);
	else
		zr_fail(ctx, cmd->line, "expected a live process '%s', found none: its 'process' or 'fork' failed",
			name);
	return NULL;
}

void zr_proc_put(struct zr_run *run, int proc)
{
	zd_mutex_lock(run->lock);
	run->procs[proc].users--;
	zd_mutex_unlock(run->lock);
}

bool zr_addr_resolve(struct zr_ctx *ctx, const struct zr_cmd *cmd, const struct zr_addr *a,
		     unsigned long *addr)
{
	struct zr_run *run = ctx->run;
	const struct zr_name *n = &run->prog->names[ZR_REGION].v[a->region];
	bool bound;

	zd_mutex_lock(run->lock);
	bound = run->regions[a->region].bound;
	*addr = run->regions[a->region].start + (unsigned long)a->off;
	zd_mutex_unlock(run->lock);
	if (!bound)
		zr_fail(ctx, cmd->line, "expected region '%s' of process '%s' mapped, found it never was: its 'mmap' or 'mremap' failed",
			n->name, run->prog->names[ZR_PROCESS].v[n->owner].name);
	return bound;
}

struct zd_mm *zr_range_get(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long *addr)
{
	if (!zr_addr_resolve(ctx, cmd, &cmd->u.range.addr, addr))
		return NULL;
	return zr_proc_get(ctx, cmd, cmd->u.range.proc);
}

static void bind_region(struct zr_run *run, int region, unsigned long start, unsigned long len)
{
	zd_mutex_lock(run->lock);
	run->regions[region] = (struct zr_region_rt){ .start = start, .len = len, .bound = true };
	zd_mutex_unlock(run->lock);
}

static int exec_process(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	struct zd_mm *mm;
	int ret = zd_mm_create(run->sys, &mm);

	if (ret)
		return ret;
	zd_mutex_lock(run->lock);
	run->procs[cmd->u.process.proc].mm = mm;
	zd_mutex_unlock(run->lock);
	return 0;
}

/* fork CHILD PARENT: dup_mm, and the child inherits the parent's region bindings. */
static int exec_fork(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	const struct zr_names *regions = &run->prog->names[ZR_REGION];
	int parent = cmd->u.fork.parent, child = cmd->u.fork.child;
	struct zd_mm *pmm = zr_proc_get(ctx, cmd, parent), *cmm;
	int ret;

	if (!pmm)
		return 0;
	ret = zd_fork(pmm, &cmm);
	zr_proc_put(run, parent);
	if (ret)
		return ret;
	zd_mutex_lock(run->lock);
	run->procs[child].mm = cmm;
	for (int i = 0; i < regions->n; i++) {
		int j;

		if (regions->v[i].owner != parent || !run->regions[i].bound)
			continue;
		j = zr_lookup(run->prog, ZR_REGION, child, regions->v[i].name);
		if (j >= 0)
			run->regions[j] = run->regions[i];
	}
	zd_mutex_unlock(run->lock);
	return 0;
}

/* exit PROCESS: exit_mmap drops every mapping's references and mapcounts. */
static int exec_exit(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int proc = cmd->u.process.proc;
	struct zr_proc_rt *p = &run->procs[proc];
	struct zd_mm *mm;

	if (!zr_proc_get(ctx, cmd, proc))
		return 0;
	zd_mutex_lock(run->lock);
	p->users--;
	if (p->users) {
		zd_mutex_unlock(run->lock);
		/* Another thread is inside a command on it: freeing now would pull the mm from under it. */
		return -EBUSY;
	}
	mm = p->mm;
	p->mm = NULL;
	p->exited = true;
	p->exit_line = cmd->line;
	zd_mutex_unlock(run->lock);
	zr_mirrors_close_proc(run, proc);	/* its device files close first */
	zd_mm_destroy(mm);
	return 0;
}

/* The end of the run: every live process exits. */
void zr_exit_all_processes(struct zr_run *run)
{
	for (int i = 0; i < run->prog->names[ZR_PROCESS].n; i++) {
		struct zd_mm *mm;

		zd_mutex_lock(run->lock);
		mm = run->procs[i].mm;
		run->procs[i].mm = NULL;
		run->procs[i].exited = true;
		zd_mutex_unlock(run->lock);
		zr_mirrors_close_proc(run, i);
		zd_mm_destroy(mm);
	}
}

/* ---- mmap ---- */

/* The file a devdax or file= mapping maps, with a reference; -errno if none. */
static int mmap_file(struct zr_run *run, const struct zr_cmd *cmd, struct zd_file **out)
{
	struct zd_file *file = NULL;

	*out = NULL;
	if (cmd->u.mmap.kind == ZR_MAP_DEVDAX) {
		zd_mutex_lock(run->lock);
		/* The runner keeps the device's file open past unbind: the driver then says ENXIO. */
		file = run->devs[cmd->u.mmap.dev].dax_file;
		if (file)
			zd_get_file(file);
		zd_mutex_unlock(run->lock);
		if (!file)
			return -ENODEV;	/* the device was never created */
	} else if (cmd->u.mmap.kind == ZR_MAP_FILE) {
		file = zr_file_get(run, cmd->u.mmap.file);
		if (!file)
			return -ENOENT;	/* its `file` command failed */
	}
	*out = file;
	return 0;
}

/*
 * mmap: files and devices are mapped from offset 0; `thp` is
 * madvise(HUGEPAGE) on the new range.
 */
static int exec_mmap(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int proc = cmd->u.mmap.proc, flags, ret;
	unsigned long size = (unsigned long)cmd->u.mmap.size, start = 0;
	struct zd_file *file;
	struct zd_mm *mm;

	switch (cmd->u.mmap.kind) {
	case ZR_MAP_ANON:
		flags = ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS;
		break;
	case ZR_MAP_SHARED:
		flags = ZD_MAP_SHARED | ZD_MAP_ANONYMOUS;
		break;
	default:
		flags = cmd->u.mmap.private ? ZD_MAP_PRIVATE : ZD_MAP_SHARED;
		break;
	}
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm)
		return 0;
	ret = mmap_file(run, cmd, &file);
	if (!ret)
		ret = zd_mmap(mm, 0, size, cmd->u.mmap.prot, flags, file, 0,
			      (unsigned long)cmd->u.mmap.align, &start);
	if (file)
		zd_fput(file);
	if (!ret) {
		bind_region(run, cmd->u.mmap.region, start, size);
		if (cmd->u.mmap.thp)
			ret = zd_madvise(mm, start, size, ZD_MADV_HUGEPAGE);
	}
	zr_proc_put(run, proc);
	return ret;
}

/*
 * mremap PROCESS ADDR LEN NEWREGION [size=SIZE] [at=ADDR] [dontunmap]:
 * MREMAP_MAYMOVE always (NEWREGION names wherever the range ends up),
 * MREMAP_FIXED with at=, MREMAP_DONTUNMAP with dontunmap.
 */
static int exec_mremap(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int proc = cmd->u.mremap.proc, flags = ZD_MREMAP_MAYMOVE, ret;
	unsigned long old, at = 0, out = 0;
	struct zd_mm *mm;

	if (!zr_addr_resolve(ctx, cmd, &cmd->u.mremap.addr, &old))
		return 0;
	if (cmd->u.mremap.has_at) {
		if (!zr_addr_resolve(ctx, cmd, &cmd->u.mremap.at, &at))
			return 0;
		flags |= ZD_MREMAP_FIXED;
	}
	if (cmd->u.mremap.dontunmap)
		flags |= ZD_MREMAP_DONTUNMAP;
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm)
		return 0;
	ret = zd_mremap(mm, old, (unsigned long)cmd->u.mremap.len,
			(unsigned long)cmd->u.mremap.size, flags, at, &out);
	if (!ret)
		bind_region(run, cmd->u.mremap.region, out, (unsigned long)cmd->u.mremap.size);
	zr_proc_put(run, proc);
	return ret;
}

/* ---- munmap, mprotect, madvise ---- */

enum range_op { OP_MUNMAP, OP_MPROTECT, OP_MADVISE };

static int exec_range(struct zr_ctx *ctx, const struct zr_cmd *cmd, enum range_op op)
{
	int proc = cmd->u.range.proc, ret;
	unsigned long addr, len = (unsigned long)cmd->u.range.len;
	struct zd_mm *mm;

	mm = zr_range_get(ctx, cmd, &addr);
	if (!mm)
		return 0;
	switch (op) {
	case OP_MUNMAP:
		ret = zd_munmap(mm, addr, len);
		break;
	case OP_MPROTECT:
		ret = zd_mprotect(mm, addr, len, cmd->u.range.how);
		break;
	case OP_MADVISE:
	default:
		ret = zd_madvise(mm, addr, len, cmd->u.range.how);
		break;
	}
	zr_proc_put(ctx->run, proc);
	return ret;
}

static int exec_munmap(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_range(ctx, cmd, OP_MUNMAP);
}

static int exec_mprotect(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_range(ctx, cmd, OP_MPROTECT);
}

static int exec_madvise(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_range(ctx, cmd, OP_MADVISE);
}

const struct zr_verb zr_verbs_mm[] = {
	{ .name = "process", .subsys = "mm", .parse = parse_process, .exec = exec_process },
	{ .name = "fork", .subsys = "mm", .parse = parse_fork, .exec = exec_fork },
	{ .name = "exit", .subsys = "mm", .parse = parse_exit, .exec = exec_exit },
	{ .name = "mmap", .subsys = "mm", .parse = parse_mmap, .exec = exec_mmap },
	{ .name = "mremap", .subsys = "mm", .parse = parse_mremap, .exec = exec_mremap },
	{ .name = "munmap", .subsys = "mm", .parse = parse_munmap, .exec = exec_munmap },
	{ .name = "mprotect", .subsys = "mm", .parse = parse_mprotect, .exec = exec_mprotect },
	{ .name = "madvise", .subsys = "mm", .parse = parse_madvise, .exec = exec_madvise },
	{ 0 },
};
