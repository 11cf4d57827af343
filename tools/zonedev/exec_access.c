// SPDX-License-Identifier: MIT
/*
 * exec_access.c - the CPU's accesses: `write` stores DATA, `read` loads
 * LEN bytes and compares them with the expected DATA, `touch` faults a
 * range in (a read, or a write of nothing), all through the page table
 * as the MMU does (zd_cpu_read/write/touch: a missing entry faults, a
 * forbidden access is EFAULT, SIGBUS is EIO). With `system data=none`
 * pages have no bytes: `write` and `read` then only fault the range in,
 * as `touch` does (data expectations are refused at parse time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static bool data_none(struct zr_run *run)
{
	return run->prog->data_none;
}

int zr_exec_write(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int proc = cmd->u.access.proc, ret;
	size_t len = (size_t)cmd->u.access.len;
	unsigned char *buf = NULL;
	unsigned long addr;
	struct zd_mm *mm;

	if (!zr_addr_resolve(ctx, cmd, &cmd->u.access.addr, &addr))
		return 0;
	if (!data_none(run)) {
		buf = malloc(len ? len : 1);
		if (!buf)
			return -ENOMEM;
		zr_data_fill(&cmd->u.access.data, buf);
	}
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm) {
		free(buf);
		return 0;
	}
	if (buf)
		ret = zd_cpu_write(mm, addr, buf, len);
	else
		ret = len ? zd_cpu_touch(mm, addr, len, true) : 0;
	zr_proc_put(run, proc);
	free(buf);
	return ret;
}

/* Print the first difference of @found against @want (LEN bytes from @addr). */
static void report_mismatch(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long addr,
			    const unsigned char *want, const unsigned char *found, size_t len)
{
	char w[3 * 16 + 1], f[3 * 16 + 1];
	size_t off = 0, n, diff = 0;

	while (off < len && want[off] == found[off])
		off++;
	for (size_t i = off; i < len; i++)
		diff += want[i] != found[i];
	n = len - off < 16 ? len - off : 16;
	for (size_t i = 0; i < n; i++) {
		snprintf(w + 3 * i, sizeof(w) - 3 * i, " %02x", want[off + i]);
		snprintf(f + 3 * i, sizeof(f) - 3 * i, " %02x", found[off + i]);
	}
	zr_fail(ctx, cmd->line, "expected at byte %zu (address %#lx, page %zu of the read)%s, found%s (%zu byte%s differ)",
		off, addr + off, (size_t)(((addr & (ZD_PAGE_SIZE - 1)) + off) >> ZD_PAGE_SHIFT), w, f,
		diff, diff == 1 ? "" : "s");
}

int zr_exec_read(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	const struct zr_data *want = &cmd->u.access.data;
	int proc = cmd->u.access.proc, ret;
	size_t len = (size_t)cmd->u.access.len;
	unsigned char *buf = NULL, *exp = NULL;
	unsigned long addr;
	struct zd_mm *mm;

	if (!zr_addr_resolve(ctx, cmd, &cmd->u.access.addr, &addr))
		return 0;
	if (!data_none(run)) {
		buf = malloc(len ? len : 1);
		exp = want->kind != ZR_DATA_NONE ? malloc(len ? len : 1) : NULL;
		if (!buf || (want->kind != ZR_DATA_NONE && !exp)) {
			free(buf);
			free(exp);
			return -ENOMEM;
		}
	}
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm) {
		free(buf);
		free(exp);
		return 0;
	}
	if (buf)
		ret = zd_cpu_read(mm, addr, buf, len);
	else
		ret = len ? zd_cpu_touch(mm, addr, len, false) : 0;
	zr_proc_put(run, proc);
	if (!ret && exp) {
		zr_data_fill(want, exp);
		if (memcmp(exp, buf, len))
			report_mismatch(ctx, cmd, addr, exp, buf, len);
	}
	free(buf);
	free(exp);
	return ret;
}

int zr_exec_touch(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	int proc = cmd->u.range.proc, ret;
	unsigned long addr;
	struct zd_mm *mm;

	if (!zr_addr_resolve(ctx, cmd, &cmd->u.range.addr, &addr))
		return 0;
	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm)
		return 0;
	ret = zd_cpu_touch(mm, addr, (size_t)cmd->u.range.len, cmd->u.range.how);
	zr_proc_put(ctx->run, proc);
	return ret;
}
