// SPDX-License-Identifier: MIT
/*
 * verbs_access.c - the CPU's accesses, grammar and execution (the MMU's
 * side of mm/memory.c): `write` stores DATA, `read` loads LEN bytes and
 * compares them with the expected DATA, `touch` faults a range in (a read,
 * or a write of nothing), all through the page table as the MMU does
 * (zd_cpu_read/write/touch: a missing entry faults, a forbidden access is
 * EFAULT, SIGBUS is EIO). With `system data=none` pages have no bytes:
 * `write` and `read` then only fault the range in, as `touch` does (data
 * expectations are refused at parse time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

/* write PROCESS ADDR DATA */
static int parse_write(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = zr_arg_process(p, &cmd->u.access.proc);

	if (!ret)
		ret = zr_arg_addr(p, cmd->u.access.proc, &cmd->u.access.addr);
	if (!ret)
		ret = zr_arg_data(p, &cmd->u.access.data);
	cmd->u.access.len = cmd->u.access.data.len;
	return ret;
}

/* [expect DATA] of read: LEN bytes, refused with data=none. */
static int parse_data_expect(struct zr_parser *p, uint64_t len, struct zr_data *d)
{
	struct zr_token *t = zr_peek(p);
	int col, ret;

	if (!t)
		return 0;
	col = t->col;
	ret = zr_arg_literal(p, "expect");
	if (ret)
		return ret;
	if (p->prog->data_none)
		return zr_perr(p, col, "expected no data expectation with 'system data=none'");
	ret = zr_arg_data(p, d);
	if (ret)
		return ret;
	if (d->len != len)
		return zr_perr(p, col, "expected data of the %llu bytes read, found %llu bytes",
			       (unsigned long long)len, (unsigned long long)d->len);
	return 0;
}

/*
 * read PROCESS ADDR LEN [expect DATA], or read SET OFFSET LEN [expect DATA]:
 * the bytes a reference set's pages hold (what DMA through those
 * references reads). An address starts with a region name, an offset
 * with a digit: the second word tells the two apart.
 */
static int parse_read(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *second = zr_peek_ahead(p, 1);
	int ret;

	if (second && second->kind == ZR_TOK_WORD && second->text[0] >= '0' &&
	    second->text[0] <= '9') {
		int col = zr_peek(p)->col;

		ret = zr_arg_set(p, false, &cmd->u.access.set);
		if (!ret)
			ret = zr_arg_size(p, "an offset into the set's pages", &cmd->u.access.off);
		if (!ret)
			ret = zr_arg_size(p, "a length", &cmd->u.access.len);
		if (ret)
			return ret;
		if (p->prog->data_none)
			return zr_perr(p, col, "expected no read of a set's bytes with 'system data=none' (pages have none)");
		cmd->u.access.from_set = true;
		cmd->u.access.proc = -1;
		return parse_data_expect(p, cmd->u.access.len, &cmd->u.access.data);
	}
	ret = zr_arg_range(p, &cmd->u.access.proc, &cmd->u.access.addr, &cmd->u.access.len);
	return ret ? ret : parse_data_expect(p, cmd->u.access.len, &cmd->u.access.data);
}

/* touch PROCESS ADDR LEN [write] */
static int parse_touch(struct zr_parser *p, struct zr_cmd *cmd)
{
	enum { TOUCH_WRITE, TOUCH_NOPTS };
	struct zr_opt o[TOUCH_NOPTS] = {
		[TOUCH_WRITE] = { .key = "write", .type = ZR_OPT_FLAG },
	};
	int ret = zr_arg_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);

	if (!ret)
		ret = zr_arg_opts(p, o, TOUCH_NOPTS);
	cmd->u.range.how = o[TOUCH_WRITE].seen;
	return ret;
}

/* ---- execution ---- */

static bool data_none(struct zr_run *run)
{
	return run->prog->data_none;
}

/*
 * A range the CPU cannot reach at all (past the task size, or wrapping
 * past 2^64) is EFAULT before anything is allocated or touched.
 */
static bool range_ok(unsigned long addr, uint64_t len)
{
	return len <= ZD_TASK_SIZE && addr <= ZD_TASK_SIZE - len;
}

/*
 * The start of a write or read of the command's range: its address in
 * *addr; unless the run moves no data, ZR_IO_CHUNK bytes at *buf and, when
 * @check, at *exp (else NULL); then the command's process's mm, which the
 * caller puts. NULL when the command ends here, with *ret its result and
 * nothing left allocated.
 */
static struct zd_mm *access_begin(struct zr_ctx *ctx, const struct zr_cmd *cmd, bool check,
				  unsigned long *addr, unsigned char **buf, unsigned char **exp,
				  int *ret)
{
	struct zd_mm *mm;

	*buf = *exp = NULL;
	*ret = 0;
	if (!zr_addr_resolve(ctx, cmd, &cmd->u.access.addr, addr))
		return NULL;
	if (!range_ok(*addr, cmd->u.access.len)) {
		*ret = -EFAULT;
		return NULL;
	}
	if (!data_none(ctx->run)) {
		*buf = malloc(ZR_IO_CHUNK);
		*exp = check ? malloc(ZR_IO_CHUNK) : NULL;
		if (!*buf || (check && !*exp)) {
			*ret = -ENOMEM;
			goto out_free;
		}
	}
	mm = zr_proc_get(ctx, cmd, cmd->u.access.proc);
	if (mm)
		return mm;
out_free:
	free(*buf);
	free(*exp);
	*buf = *exp = NULL;
	return NULL;
}

/*
 * The bytes move in ZR_IO_CHUNK steps through one bounded buffer, so a
 * length far beyond the mapping fails at its first unmapped page, as the
 * CPU's copy would, without first allocating the whole length.
 */
static int exec_write(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	const struct zr_data *d = &cmd->u.access.data;
	uint64_t len = cmd->u.access.len;
	unsigned char *buf, *exp;
	unsigned long addr;
	struct zd_mm *mm;
	int ret;

	mm = access_begin(ctx, cmd, false, &addr, &buf, &exp, &ret);
	if (!mm)
		return ret;
	if (!buf) {
		ret = len ? zd_cpu_touch(mm, addr, (size_t)len, true) : 0;
	} else {
		for (uint64_t done = 0; done < len && !ret;) {
			size_t n = len - done < ZR_IO_CHUNK ? (size_t)(len - done) : ZR_IO_CHUNK;

			zr_data_fill_range(d, done, buf, n);
			ret = zd_cpu_write(mm, addr + done, buf, n);
			done += n;
		}
	}
	zr_proc_put(ctx->run, cmd->u.access.proc);
	free(buf);
	return ret;
}

/* The first difference of a read against its DATA, gathered chunk by chunk. */
struct mismatch {
	uint64_t first;		/* offset of the first differing byte */
	uint64_t ndiff;		/* bytes that differ */
	unsigned char want[16], found[16];
	size_t shown;		/* bytes of want/found from @first */
	bool any;
};

static void compare_chunk(struct mismatch *m, uint64_t off, const unsigned char *want,
			  const unsigned char *found, size_t n)
{
	if (!m->any || m->shown == sizeof(m->want)) {
		if (!memcmp(want, found, n))
			return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!m->any && want[i] != found[i]) {
			m->any = true;
			m->first = off + i;
		}
		if (m->any && m->shown < sizeof(m->want)) {
			m->want[m->shown] = want[i];
			m->found[m->shown] = found[i];
			m->shown++;
		}
		m->ndiff += want[i] != found[i];
	}
}

/* The bytes shown of a mismatch, " 61 62 ...", wanted and found. */
struct mismatch_hex {
	char want[3 * 16 + 1], found[3 * 16 + 1];
};

static void mismatch_hex(const struct mismatch *m, struct mismatch_hex *h)
{
	h->want[0] = h->found[0] = '\0';
	for (size_t i = 0; i < m->shown; i++) {
		snprintf(h->want + 3 * i, sizeof(h->want) - 3 * i, " %02x", m->want[i]);
		snprintf(h->found + 3 * i, sizeof(h->found) - 3 * i, " %02x", m->found[i]);
	}
}

/* Print the first difference (of a read of @len bytes from @addr). */
static void report_mismatch(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long addr,
			    const struct mismatch *m)
{
	struct mismatch_hex h;

	mismatch_hex(m, &h);
	zr_fail(ctx, cmd->line, "expected at byte %llu (address %#lx, page %llu of the read)%s, found%s (%llu byte%s differ)",
		(unsigned long long)m->first, addr + (unsigned long)m->first,
		(unsigned long long)(((addr & (ZD_PAGE_SIZE - 1)) + m->first) >> ZD_PAGE_SHIFT),
		h.want, h.found, (unsigned long long)m->ndiff, m->ndiff == 1 ? "" : "s");
}

/* Print the first difference of `read SET`'s bytes. */
static void report_set_mismatch(struct zr_ctx *ctx, const struct zr_cmd *cmd, uint64_t off,
				const struct mismatch *m)
{
	struct mismatch_hex h;

	mismatch_hex(m, &h);
	zr_fail(ctx, cmd->line, "expected at byte %llu of the read (page %llu of set '%s', offset %#llx)%s, found%s (%llu byte%s differ)",
		(unsigned long long)m->first, (unsigned long long)((off + m->first) >> ZD_PAGE_SHIFT),
		ctx->run->prog->names[ZR_SET].v[cmd->u.access.set].name,
		(unsigned long long)((off + m->first) & (ZD_PAGE_SIZE - 1)), h.want, h.found,
		(unsigned long long)m->ndiff, m->ndiff == 1 ? "" : "s");
}

/*
 * read SET OFFSET LEN [expect DATA]: the bytes behind the pages the set
 * was given (each page GUP returned, every page of an allocated folio),
 * OFFSET counted across them in order: what a device's DMA through those
 * references reads, whatever is mapped where now. Past the set's pages:
 * EFAULT. The set's references keep the pages alive; run->lock keeps a
 * concurrent release out while the bytes are copied.
 */
static int read_set(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	const struct zr_data *want = &cmd->u.access.data;
	struct zr_set_rt *s = &run->sets[cmd->u.access.set];
	uint64_t off = cmd->u.access.off, len = cmd->u.access.len, total;
	unsigned char *buf = malloc(ZR_IO_CHUNK), *exp = malloc(ZR_IO_CHUNK);
	struct mismatch m = { 0 };
	int ret = 0;

	if (!buf || !exp) {
		free(buf);
		free(exp);
		return -ENOMEM;
	}
	zd_mutex_lock(run->lock);
	total = (uint64_t)s->npages * ZD_PAGE_SIZE;
	if (off > total || len > total - off)
		ret = -EFAULT;
	for (uint64_t done = 0; !ret && done < len;) {
		size_t n = len - done < ZR_IO_CHUNK ? (size_t)(len - done) : ZR_IO_CHUNK;

		for (size_t got = 0; got < n;) {
			uint64_t pos = off + done + got;
			size_t poff = (size_t)(pos & (ZD_PAGE_SIZE - 1));
			size_t k = ZD_PAGE_SIZE - poff < n - got ? ZD_PAGE_SIZE - poff : n - got;
			const unsigned char *src = zd_page_address(s->pages[pos >> ZD_PAGE_SHIFT]);

			if (!src) {
				ret = -EOPNOTSUPP;	/* a page without bytes */
				break;
			}
			memcpy(buf + got, src + poff, k);
			got += k;
		}
		if (!ret && want->kind != ZR_DATA_NONE) {
			zr_data_fill_range(want, done, exp, n);
			compare_chunk(&m, done, exp, buf, n);
		}
		done += n;
	}
	zd_mutex_unlock(run->lock);
	if (!ret && m.any)
		report_set_mismatch(ctx, cmd, off, &m);
	free(buf);
	free(exp);
	return ret;
}

static int exec_read(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	const struct zr_data *want = &cmd->u.access.data;
	uint64_t len = cmd->u.access.len;
	unsigned char *buf, *exp;
	struct mismatch m = { 0 };
	unsigned long addr;
	struct zd_mm *mm;
	int ret;

	if (cmd->u.access.from_set)
		return read_set(ctx, cmd);
	mm = access_begin(ctx, cmd, want->kind != ZR_DATA_NONE, &addr, &buf, &exp, &ret);
	if (!mm)
		return ret;
	if (!buf) {
		ret = len ? zd_cpu_touch(mm, addr, (size_t)len, false) : 0;
	} else {
		for (uint64_t done = 0; done < len && !ret;) {
			size_t n = len - done < ZR_IO_CHUNK ? (size_t)(len - done) : ZR_IO_CHUNK;

			ret = zd_cpu_read(mm, addr + done, buf, n);
			if (!ret && exp) {
				zr_data_fill_range(want, done, exp, n);
				compare_chunk(&m, done, exp, buf, n);
			}
			done += n;
		}
	}
	zr_proc_put(ctx->run, cmd->u.access.proc);
	/* The bytes are compared only when the whole read succeeded. */
	if (!ret && m.any)
		report_mismatch(ctx, cmd, addr, &m);
	free(buf);
	free(exp);
	return ret;
}

static int exec_touch(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	int proc = cmd->u.range.proc, ret;
	unsigned long addr;
	struct zd_mm *mm;

	mm = zr_range_get(ctx, cmd, &addr);
	if (!mm)
		return 0;
	ret = zd_cpu_touch(mm, addr, (size_t)cmd->u.range.len, cmd->u.range.how);
	zr_proc_put(ctx->run, proc);
	return ret;
}

const struct zr_verb zr_verbs_access[] = {
	{ .name = "write", .subsys = "mm", .parse = parse_write, .exec = exec_write },
	{ .name = "read", .subsys = "mm", .parse = parse_read, .exec = exec_read },
	{ .name = "touch", .subsys = "mm", .parse = parse_touch, .exec = exec_touch },
	{ 0 },
};
