// SPDX-License-Identifier: MIT
/*
 * exec_mm.c - processes and their mappings: `process` (mm_alloc), `fork`
 * (dup_mm), `exit` (exit_mmap), `mmap` of anonymous, shared anonymous,
 * device-DAX and tmpfs memory, `mremap`, `munmap`, `mprotect` and
 * `madvise`, each returning the kernel's error. A region name is bound to
 * where its last successful mmap or mremap put it, per process; a forked
 * child starts with its parent's bindings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* ---- processes ---- */

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

static void bind_region(struct zr_run *run, int region, unsigned long start, unsigned long len)
{
	zd_mutex_lock(run->lock);
	run->regions[region] = (struct zr_region_rt){ .start = start, .len = len, .bound = true };
	zd_mutex_unlock(run->lock);
}

int zr_exec_process(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
int zr_exec_fork(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
int zr_exec_exit(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
		zd_mm_destroy(mm);
	}
}

/* ---- mmap ---- */

static int prot_bits(int prot)
{
	switch ((enum zr_prot)prot) {
	case ZR_PROT_RW:
		return ZD_PROT_READ | ZD_PROT_WRITE;
	case ZR_PROT_R:
		return ZD_PROT_READ;
	case ZR_PROT_NONE:
	default:
		return ZD_PROT_NONE;
	}
}

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
 * mmap PROCESS REGION SIZE [anon|shared|devdax=DEVICE|file=FS:PATH [private]]
 *      [prot=rw|r|none] [align=SIZE] [thp]
 * Files and devices are mapped from offset 0; `thp` is madvise(HUGEPAGE)
 * on the new range.
 */
int zr_exec_mmap(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
		ret = zd_mmap(mm, 0, size, prot_bits(cmd->u.mmap.prot), flags, file, 0,
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
int zr_exec_mremap(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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

static int advice_of(int how)
{
	static const int advice[] = {
		ZD_MADV_DONTNEED, ZD_MADV_FREE, ZD_MADV_COLD, ZD_MADV_PAGEOUT,
		ZD_MADV_MERGEABLE, ZD_MADV_HUGEPAGE, ZD_MADV_NOHUGEPAGE,
		ZD_MADV_COLLAPSE, ZD_MADV_DONTFORK, ZD_MADV_DOFORK, ZD_MADV_WIPEONFORK,
		ZD_MADV_KEEPONFORK,
	};

	return advice[how];
}

static int exec_range(struct zr_ctx *ctx, const struct zr_cmd *cmd, enum range_op op)
{
	int proc = cmd->u.range.proc, ret;
	unsigned long addr, len = (unsigned long)cmd->u.range.len;
	struct zd_mm *mm;

	if (!zr_addr_resolve(ctx, cmd, &cmd->u.range.addr, &addr))
		return 0;
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm)
		return 0;
	switch (op) {
	case OP_MUNMAP:
		ret = zd_munmap(mm, addr, len);
		break;
	case OP_MPROTECT:
		ret = zd_mprotect(mm, addr, len, prot_bits(cmd->u.range.how));
		break;
	case OP_MADVISE:
	default:
		ret = zd_madvise(mm, addr, len, advice_of(cmd->u.range.how));
		break;
	}
	zr_proc_put(ctx->run, proc);
	return ret;
}

int zr_exec_munmap(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_range(ctx, cmd, OP_MUNMAP);
}

int zr_exec_mprotect(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_range(ctx, cmd, OP_MPROTECT);
}

int zr_exec_madvise(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return exec_range(ctx, cmd, OP_MADVISE);
}
