// SPDX-License-Identifier: MIT
/*
 * verbs_device.c - the device side of the language, grammar and
 * execution: `devread`, `devwrite`, `exclusive`, `snapshot`, `migrate
 * ... to DEVICE|ram` and `expect moved=N`, each one command of the HMM
 * test device (lib/test_hmm.c's dmirror_fops_unlocked_ioctl, by the
 * kernel's command names: HMM_DMIRROR_READ, _WRITE, _EXCLUSIVE,
 * _SNAPSHOT, _MIGRATE_TO_DEV, _MIGRATE_TO_SYS) on an open of the device
 * for the process, as tools/testing/selftests/mm/hmm-tests.c issues them.
 *
 * A private or coherent device that a device-side command names is a
 * dmirror unit as well as its declared memory: the runner loads a
 * dmirror module for it when the `device` line runs (unit 0 for a
 * private device, unit 2 for a coherent one), opens the unit for a
 * process at the first command that needs it (open("/dev/hmm_dmirrorN"))
 * and keeps that open until the process exits or the device is unbound
 * (close(): the driver then evicts every page of the unit back to RAM).
 * `devalloc` still takes folios of the declared memory; the counters of
 * `expect device` add the unit's (allocated, free, page_free), and
 * `faults=` counts the device's fault passes (the `faults` the READ and
 * WRITE commands report).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zonedev/dmirror.h>

#include "exec.h"
#include "parse.h"

/* Bytes one device-side command may name (the command's buffer is that large). */
#define DEV_MAX_LEN	(64ull << 20)

/* ---- grammar ---- */

/* The system's refcount scheme must be zero (dmirror models only it). */
static int need_zero_scheme(struct zr_parser *p, int col)
{
	if (p->prog->scheme_one)
		return zr_perr(p, col, "expected 'system scheme=zero' for a dmirror command (the HMM test device exists only in the 0-based scheme), found scheme=one");
	return 0;
}

/* DEVICE: a private or coherent device, from now on also a dmirror unit. */
static int arg_dmirror_device(struct zr_parser *p, int *dev)
{
	struct zr_token *t = zr_peek(p);
	int col = t ? t->col : 0, ret = zr_arg_device(p, dev);
	enum zr_devtype type;

	if (ret)
		return ret;
	type = p->prog->devices[*dev].type;
	if (type != ZR_DEV_PRIVATE && type != ZR_DEV_COHERENT)
		return zr_perr(p, col, "expected a private or coherent device (a dmirror unit), found '%s', a %s device",
			       p->prog->names[ZR_DEVICE].v[*dev].name, zr_devtype_name(type));
	ret = need_zero_scheme(p, col);
	if (ret)
		return ret;
	p->prog->devices[*dev].mirror = true;
	return 0;
}

/* The commands take whole pages: a page-aligned address. */
static int check_page_addr(struct zr_parser *p, int col, const struct zr_addr *a)
{
	if (a->off & (ZD_PAGE_SIZE - 1))
		return zr_perr(p, col, "expected a page-aligned address (the device commands take whole pages), found an offset of %#llx",
			       (unsigned long long)a->off);
	return 0;
}

/* A length of whole pages, 1 page to DEV_MAX_LEN. */
static int check_page_len(struct zr_parser *p, int col, uint64_t len, const char *what)
{
	if (!len || len % ZD_PAGE_SIZE)
		return zr_perr(p, col, "expected %s that is a non-zero multiple of 4K (whole pages), found %llu bytes",
			       what, (unsigned long long)len);
	if (len > DEV_MAX_LEN)
		return zr_perr(p, col, "expected %s of at most 64M (one device command's buffer), found %llu bytes",
			       what, (unsigned long long)len);
	return 0;
}

/* PROCESS ADDR LEN with a page-aligned ADDR and a LEN of whole pages. */
static int arg_page_range(struct zr_parser *p, int *proc, struct zr_addr *addr, uint64_t *len)
{
	struct zr_token *t;
	int ret = zr_arg_process(p, proc), col;

	if (ret)
		return ret;
	t = zr_peek(p);
	col = t ? t->col : 0;
	ret = zr_arg_addr(p, *proc, addr);
	if (!ret)
		ret = check_page_addr(p, col, addr);
	if (ret)
		return ret;
	t = zr_peek(p);
	col = t ? t->col : 0;
	ret = zr_arg_size(p, "a length", len);
	return ret ? ret : check_page_len(p, col, *len, "a length");
}

static int refuse_data_none(struct zr_parser *p, const char *verb)
{
	if (p->prog->data_none)
		return zr_perr(p, p->tok[0].col, "expected no '%s' with 'system data=none' (the device copies the pages' bytes)",
			       verb);
	return 0;
}

/* devread DEVICE PROCESS ADDR LEN [expect DATA] */
static int parse_devread(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_data *d = &cmd->u.dev.data;
	struct zr_token *t;
	int ret = arg_dmirror_device(p, &cmd->u.dev.dev), col;

	if (!ret)
		ret = arg_page_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);
	if (!ret)
		ret = refuse_data_none(p, "devread");
	if (ret)
		return ret;
	t = zr_peek(p);
	if (!t)
		return 0;
	col = t->col;
	ret = zr_arg_literal(p, "expect");
	if (!ret)
		ret = zr_arg_data(p, d);
	if (ret)
		return ret;
	if (d->len != cmd->u.dev.len)
		return zr_perr(p, col, "expected data of the %llu bytes read, found %llu bytes",
			       (unsigned long long)cmd->u.dev.len, (unsigned long long)d->len);
	return 0;
}

/* devwrite DEVICE PROCESS ADDR DATA */
static int parse_devwrite(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = arg_dmirror_device(p, &cmd->u.dev.dev), col;

	if (!ret)
		ret = zr_arg_process(p, &cmd->u.dev.proc);
	if (ret)
		return ret;
	t = zr_peek(p);
	col = t ? t->col : 0;
	ret = zr_arg_addr(p, cmd->u.dev.proc, &cmd->u.dev.addr);
	if (!ret)
		ret = check_page_addr(p, col, &cmd->u.dev.addr);
	if (!ret)
		ret = refuse_data_none(p, "devwrite");
	if (ret)
		return ret;
	t = zr_peek(p);
	col = t ? t->col : 0;
	ret = zr_arg_data(p, &cmd->u.dev.data);
	if (ret)
		return ret;
	cmd->u.dev.len = cmd->u.dev.data.len;
	return check_page_len(p, col, cmd->u.dev.len, "data");
}

/* exclusive DEVICE PROCESS ADDR LEN */
static int parse_exclusive(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = arg_dmirror_device(p, &cmd->u.dev.dev);

	if (!ret)
		ret = arg_page_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);
	return ret ? ret : refuse_data_none(p, "exclusive");
}

/*
 * Snapshot flags: the HMM_DMIRROR_PROT_* byte of each page. KIND is the
 * byte's high nibble, ACCESS its read/write bit, LEVEL its PMD/PUD bit.
 */
static const struct zr_choice snap_kinds[] = {
	{ "ram", 0x00 },
	{ "zero", ZD_HMM_DMIRROR_PROT_ZERO },
	{ "private-local", ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL },
	{ "private-remote", ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE },
	{ "coherent-local", ZD_HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL },
	{ "coherent-remote", ZD_HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE },
	{ 0 },
};

#define SNAP_KIND_MASK	0xF0
#define SNAP_FLAG_FORM	"none, error or KIND+ACCESS[+LEVEL] (KIND ram, zero, private-local, private-remote, coherent-local or coherent-remote; ACCESS r or w; LEVEL pmd or pud), optionally *N"

/* The language's word for a snapshot byte, into @buf. */
static const char *snap_name(unsigned char b, char *buf, size_t len)
{
	const char *kind = zr_choice_name(snap_kinds, b & SNAP_KIND_MASK);

	if (b == ZD_HMM_DMIRROR_PROT_ERROR)
		return "error";
	if (b == ZD_HMM_DMIRROR_PROT_NONE)
		return "none";
	if (!kind || (b & 0x0F & ~(ZD_HMM_DMIRROR_PROT_WRITE | ZD_HMM_DMIRROR_PROT_READ |
				   ZD_HMM_DMIRROR_PROT_PMD | ZD_HMM_DMIRROR_PROT_PUD))) {
		snprintf(buf, len, "0x%02x", b);
		return buf;
	}
	snprintf(buf, len, "%s+%s%s", kind, b & ZD_HMM_DMIRROR_PROT_WRITE ? "w" : "r",
		 b & ZD_HMM_DMIRROR_PROT_PUD ? "+pud" : b & ZD_HMM_DMIRROR_PROT_PMD ? "+pmd" : "");
	return buf;
}

/* One FLAG word (without its *N): its byte, or -1. */
static int snap_parse_flag(const char *w, size_t n)
{
	char word[40];
	char *access, *level;
	int kind = -1, b;

	if (n >= sizeof(word))
		return -1;
	memcpy(word, w, n);
	word[n] = '\0';
	if (!strcmp(word, "none"))
		return ZD_HMM_DMIRROR_PROT_NONE;
	if (!strcmp(word, "error"))
		return ZD_HMM_DMIRROR_PROT_ERROR;
	access = strchr(word, '+');
	if (!access)
		return -1;
	*access++ = '\0';
	level = strchr(access, '+');
	if (level)
		*level++ = '\0';
	for (const struct zr_choice *c = snap_kinds; c->name; c++)
		if (!strcmp(c->name, word))
			kind = c->value;
	if (kind < 0)
		return -1;
	if (!strcmp(access, "r"))
		b = kind | ZD_HMM_DMIRROR_PROT_READ;
	else if (!strcmp(access, "w"))
		b = kind | ZD_HMM_DMIRROR_PROT_WRITE;
	else
		return -1;
	if (!level)
		return b;
	if (!strcmp(level, "pmd"))
		return b | ZD_HMM_DMIRROR_PROT_PMD;
	if (!strcmp(level, "pud"))
		return b | ZD_HMM_DMIRROR_PROT_PUD;
	return -1;
}

/* snapshot DEVICE PROCESS ADDR LEN expect FLAG... (FLAG*N: N pages of FLAG) */
static int parse_snapshot(struct zr_parser *p, struct zr_cmd *cmd)
{
	uint64_t npages, have = 0;
	unsigned char *flags;
	struct zr_token *t;
	int ret = arg_dmirror_device(p, &cmd->u.dev.dev);

	if (!ret)
		ret = arg_page_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);
	if (!ret)
		ret = zr_arg_literal(p, "expect");
	if (ret)
		return ret;
	npages = cmd->u.dev.len >> ZD_PAGE_SHIFT;
	flags = zr_palloc(p, (size_t)npages);
	if (!flags)
		return -ENOMEM;
	while ((t = zr_peek(p))) {
		const char *star = t->kind == ZR_TOK_WORD ? strchr(t->text, '*') : NULL;
		size_t n = star ? (size_t)(star - t->text) : t->len;
		uint64_t rep = 1;
		int b = t->kind == ZR_TOK_WORD ? snap_parse_flag(t->text, n) : -1;

		if (b < 0)
			return zr_perr_here(p, "a snapshot flag: " SNAP_FLAG_FORM);
		if (star && (zr_parse_uint_str(star + 1, &rep) || !rep))
			return zr_perr(p, t->col + (int)n + 1, "expected a page count of at least 1 after '*', found '%s'",
				       star + 1);
		if (rep > npages - have)
			return zr_perr(p, t->col, "expected %llu snapshot flag%s (one a page of the %llu bytes), found more",
				       (unsigned long long)npages, npages == 1 ? "" : "s",
				       (unsigned long long)cmd->u.dev.len);
		memset(flags + have, b, (size_t)rep);
		have += rep;
		p->pos++;
	}
	if (have != npages)
		return zr_perr_here(p, have ? "one more snapshot flag (one a page of the range)" :
				       "a snapshot flag: " SNAP_FLAG_FORM);
	cmd->u.dev.flags = flags;
	return 0;
}

/* migrate PROCESS ADDR LEN to DEVICE|ram */
static int parse_migrate(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = arg_page_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len), col;
	bool any = false;

	if (!ret)
		ret = zr_arg_literal(p, "to");
	if (!ret)
		ret = refuse_data_none(p, "migrate");
	if (ret)
		return ret;
	t = zr_peek(p);
	if (t && t->kind == ZR_TOK_WORD && !strcmp(t->text, "ram") &&
	    zr_lookup(p->prog, ZR_DEVICE, -1, "ram") < 0) {
		col = t->col;
		p->pos++;
		cmd->u.dev.dev = -1;
		ret = need_zero_scheme(p, col);
		if (ret)
			return ret;
		/* Every private and coherent device so far may hold pages of the range. */
		for (int d = 0; d < p->prog->ndevices; d++) {
			enum zr_devtype type = p->prog->devices[d].type;

			if (type == ZR_DEV_PRIVATE || type == ZR_DEV_COHERENT) {
				p->prog->devices[d].mirror = true;
				any = true;
			}
		}
		if (!any)
			return zr_perr(p, col, "expected a private or coherent device declared before 'migrate ... to ram', found none");
		return 0;
	}
	return arg_dmirror_device(p, &cmd->u.dev.dev);
}

/* expect moved=N: right after a migrate (expectations between allowed). */
static int parse_expect_moved(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t = zr_next(p);
	const struct zr_block *b = p->block;
	const char *v = strchr(t->text, '=') + 1;
	int i;

	if (zr_parse_uint_str(v, &cmd->u.moved.n))
		return zr_perr(p, t->col + (int)(v - t->text), "expected a page count after 'moved=', found '%s'", v);
	for (i = b->n - 1; i >= 0 && (b->v[i]->verb->flags & ZR_VERB_EXPECTATION); i--)
		;
	if (i < 0 || strcmp(b->v[i]->verb->name, "migrate"))
		return zr_perr(p, p->tok[0].col, "expected 'expect moved=N' after a 'migrate', found it after %s",
			       i < 0 ? "no command" : "another command");
	return 0;
}

/* ---- the device's runtime: its dmirror unit and the opens ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap(void)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	nanosleep(&ts, NULL);
}

int zr_mirror_create(struct zr_run *run, int dev)
{
	const struct zr_device_decl *decl = &run->prog->devices[dev];
	bool coherent = decl->type == ZR_DEV_COHERENT;
	int nproc = run->prog->names[ZR_PROCESS].n;
	struct zd_dmirror_module *mod;
	struct zd_dmirror **opens;
	int ret;

	opens = calloc(nproc ? (size_t)nproc : 1, sizeof(*opens));
	if (!opens)
		return -ENOMEM;
	/* hmm_dmirror_init: units 0-1 private, 2-3 coherent (with spm_addr_dev0/1). */
	ret = zd_dmirror_init(run->sys, coherent, &mod);
	if (ret) {
		free(opens);
		return ret;
	}
	zd_mutex_lock(run->lock);
	run->devs[dev].dmod = mod;
	run->devs[dev].mdev = zd_dmirror_device(mod, coherent ? 2 : 0);
	run->devs[dev].opens = opens;
	zd_mutex_unlock(run->lock);
	return 0;
}

/*
 * The open of @dev for @proc (created at first use), with a use counted:
 * unbind waits for none before closing. NULL and *err if the device is
 * not bound (-ENODEV) or the open failed.
 */
static struct zd_dmirror *mirror_get(struct zr_run *run, int dev, int proc, struct zd_mm *mm,
				     int *err)
{
	struct zr_device_rt *d = &run->devs[dev];
	struct zd_dmirror *m = NULL;

	zd_mutex_lock(run->lock);
	if (d->state != ZR_DS_BOUND || !d->mdev) {
		*err = -ENODEV;
	} else {
		m = d->opens[proc];
		*err = 0;
		if (!m) {
			*err = zd_dmirror_open(d->mdev, mm, &m);
			if (!*err)
				d->opens[proc] = m;
		}
		if (!*err)
			d->users++;
	}
	zd_mutex_unlock(run->lock);
	return *err ? NULL : m;
}

static void mirror_put(struct zr_run *run, int dev, uint64_t faults)
{
	zd_mutex_lock(run->lock);
	run->devs[dev].users--;
	run->devs[dev].faults += faults;
	zd_mutex_unlock(run->lock);
}

/* close() of every open of @dev (and of @proc only, if >= 0). Context: no command of them runs. */
static void close_opens(struct zr_run *run, int dev, int proc)
{
	struct zr_device_rt *d = &run->devs[dev];

	for (int i = 0; i < run->prog->names[ZR_PROCESS].n; i++) {
		struct zd_dmirror *m;

		if (proc >= 0 && i != proc)
			continue;
		zd_mutex_lock(run->lock);
		m = d->opens ? d->opens[i] : NULL;
		if (m)
			d->opens[i] = NULL;
		zd_mutex_unlock(run->lock);
		if (m)
			zd_dmirror_close(m);
	}
}

void zr_mirrors_close_proc(struct zr_run *run, int proc)
{
	for (int d = 0; d < run->prog->ndevices; d++)
		close_opens(run, d, proc);
}

/* The unit's pages in use (the driver's calloc - cfree). */
static unsigned long unit_allocated(struct zd_dmirror_device *mdev)
{
	struct zd_dmirror_stats st;

	zd_dmirror_device_stats(mdev, &st);
	return st.allocated;
}

/*
 * The driver evicts at close: open and close the unit for a live process
 * (any: the eviction covers every page of the unit), if there is one.
 */
static void evict_again(struct zr_run *run, int dev)
{
	for (int i = 0; i < run->prog->names[ZR_PROCESS].n; i++) {
		struct zr_proc_rt *pr = &run->procs[i];
		struct zd_dmirror *m;
		struct zd_mm *mm;

		zd_mutex_lock(run->lock);
		mm = pr->exited ? NULL : pr->mm;
		if (mm)
			pr->users++;
		zd_mutex_unlock(run->lock);
		if (!mm)
			continue;
		if (!zd_dmirror_open(run->devs[dev].mdev, mm, &m))
			zd_dmirror_close(m);
		zr_proc_put(run, i);
		return;
	}
}

int zr_mirror_unbind(struct zr_run *run, int dev, uint64_t deadline_ns)
{
	struct zr_device_rt *d = &run->devs[dev];
	uint64_t until = now_ns() + deadline_ns;
	int users;

	if (until < deadline_ns)
		until = UINT64_MAX;
	if (!d->dmod)
		return 0;
	/* The state is UNBINDING: no new use starts; wait for the running ones. */
	for (;;) {
		zd_mutex_lock(run->lock);
		users = d->users;
		zd_mutex_unlock(run->lock);
		if (!users)
			break;
		if (now_ns() >= until)
			return -ETIMEDOUT;
		nap();
	}
	/* close() of each open evicts every page of the unit back to RAM. */
	close_opens(run, dev, -1);
	/*
	 * A page the eviction could not move (a pinned coherent page) is
	 * waited for, and evicted again every 10 ms by an open and close.
	 */
	for (unsigned int i = 1; unit_allocated(d->mdev); i++) {
		if (now_ns() >= until)
			return -ETIMEDOUT;
		nap();
		if (!(i % 10))
			evict_again(run, dev);
	}
	zd_dmirror_exit(d->dmod);
	zd_mutex_lock(run->lock);
	d->dmod = NULL;
	d->mdev = NULL;
	free(d->opens);
	d->opens = NULL;
	zd_mutex_unlock(run->lock);
	return 0;
}

void zr_mirror_stats(struct zr_run *run, int dev, struct zd_devmem_stats *st,
		     unsigned long *faults)
{
	struct zr_device_rt *d = &run->devs[dev];
	struct zd_dmirror_stats ms;

	*faults = d->faults;
	if (!d->mdev)
		return;
	zd_dmirror_device_stats(d->mdev, &ms);
	st->allocated += ms.allocated;
	st->free += ms.nr_free_pages;
	st->nr_pages += ms.nr_pages;
	st->page_free += ms.nr_page_free;
}

bool zr_mirror_owns(struct zr_run *run, int dev, const struct zd_dev_pagemap *pgmap)
{
	return run->devs[dev].mdev && pgmap->owner == run->devs[dev].mdev;
}

/* ---- execution ---- */

/*
 * One command of @dev's open for the command's process on [addr, addr +
 * len) with @buf as its buffer; the faults it reports are counted.
 */
static int dev_ioctl(struct zr_ctx *ctx, const struct zr_cmd *cmd, int dev, unsigned int command,
		     unsigned long addr, void *buf, struct zd_hmm_dmirror_cmd *out)
{
	struct zr_run *run = ctx->run;
	int proc = cmd->u.dev.proc, ret;
	struct zd_hmm_dmirror_cmd c = {
		.addr = addr,
		.ptr = (uint64_t)(uintptr_t)buf,
		.npages = cmd->u.dev.len >> ZD_PAGE_SHIFT,
	};
	struct zd_dmirror *m;
	struct zd_mm *mm;

	mm = zr_proc_get(ctx, cmd, proc);
	if (!mm)
		return 0;
	m = mirror_get(run, dev, proc, mm, &ret);
	if (m) {
		ret = zd_dmirror_ioctl(m, command, &c);
		mirror_put(run, dev, ret ? 0 : c.faults);
	}
	zr_proc_put(run, proc);
	if (out)
		*out = c;
	return ret;
}

/* The address the command names, or false after failing the run. */
static bool dev_addr(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long *addr)
{
	return zr_addr_resolve(ctx, cmd, &cmd->u.dev.addr, addr);
}

/* Checks the buffer of a command whose ioctl succeeded: 0, or an error. */
typedef int (*dev_check_fn)(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long addr,
			    const unsigned char *buf);

/*
 * The command's address resolved, a buffer of @size bytes (a write's
 * filled with the command's data), @command on it with the command's
 * device, then @check on the buffer if the ioctl succeeded.
 */
static int dev_ioctl_buffer(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned int command,
			    size_t size, dev_check_fn check)
{
	unsigned long addr;
	unsigned char *buf;
	int ret;

	if (!dev_addr(ctx, cmd, &addr))
		return 0;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	if (command == ZD_HMM_DMIRROR_WRITE)
		zr_data_fill_range(&cmd->u.dev.data, 0, buf, size);
	ret = dev_ioctl(ctx, cmd, cmd->u.dev.dev, command, addr, buf, NULL);
	if (!ret && check)
		ret = check(ctx, cmd, addr, buf);
	free(buf);
	return ret;
}

static int check_devread(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long addr,
			 const unsigned char *buf)
{
	const struct zr_data *want = &cmd->u.dev.data;
	size_t len = (size_t)cmd->u.dev.len;
	unsigned char *exp;

	if (want->kind == ZR_DATA_NONE)
		return 0;
	exp = malloc(len);
	if (!exp)
		return -ENOMEM;
	zr_data_fill_range(want, 0, exp, len);
	if (memcmp(exp, buf, len)) {
		size_t first = 0, ndiff = 0;

		while (exp[first] == buf[first])
			first++;
		for (size_t i = first; i < len; i++)
			ndiff += exp[i] != buf[i];
		zr_fail(ctx, cmd->line, "expected at byte %zu (address %#lx, page %zu of the device's read) %02x, found %02x (%zu byte%s differ)",
			first, addr + first, first >> ZD_PAGE_SHIFT, exp[first], buf[first],
			ndiff, ndiff == 1 ? "" : "s");
	}
	free(exp);
	return 0;
}

static int exec_devread(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return dev_ioctl_buffer(ctx, cmd, ZD_HMM_DMIRROR_READ, (size_t)cmd->u.dev.len,
				check_devread);
}

static int exec_devwrite(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return dev_ioctl_buffer(ctx, cmd, ZD_HMM_DMIRROR_WRITE, (size_t)cmd->u.dev.len, NULL);
}

static int exec_exclusive(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return dev_ioctl_buffer(ctx, cmd, ZD_HMM_DMIRROR_EXCLUSIVE, (size_t)cmd->u.dev.len, NULL);
}

static int check_snapshot(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long addr,
			  const unsigned char *buf)
{
	size_t npages = (size_t)(cmd->u.dev.len >> ZD_PAGE_SHIFT);
	const unsigned char *want = cmd->u.dev.flags;

	for (size_t i = 0; i < npages; i++) {
		char w[40], f[40];
		size_t ndiff = 0;

		if (buf[i] == want[i])
			continue;
		for (size_t j = i; j < npages; j++)
			ndiff += buf[j] != want[j];
		zr_fail(ctx, cmd->line, "expected page %zu (address %#lx) to be %s, found %s (%zu page%s differ)",
			i, addr + (i << ZD_PAGE_SHIFT), snap_name(want[i], w, sizeof(w)),
			snap_name(buf[i], f, sizeof(f)), ndiff, ndiff == 1 ? "" : "s");
		break;
	}
	return 0;
}

static int exec_snapshot(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	return dev_ioctl_buffer(ctx, cmd, ZD_HMM_DMIRROR_SNAPSHOT,
				(size_t)(cmd->u.dev.len >> ZD_PAGE_SHIFT), check_snapshot);
}

const struct zr_verb zr_verbs_device[] = {
	{ .name = "devread", .subsys = "dmirror", .parse = parse_devread, .exec = exec_devread },
	{ .name = "devwrite", .subsys = "dmirror", .parse = parse_devwrite, .exec = exec_devwrite },
	{ .name = "exclusive", .subsys = "dmirror", .parse = parse_exclusive,
	  .exec = exec_exclusive },
	{ .name = "snapshot", .subsys = "dmirror", .parse = parse_snapshot,
	  .exec = exec_snapshot },
	{ 0 },
};

/* Pages of [addr, addr + len) the device @dev holds (its snapshot's local pages). */
static long local_pages(struct zr_ctx *ctx, const struct zr_cmd *cmd, int dev, unsigned long addr)
{
	size_t npages = (size_t)(cmd->u.dev.len >> ZD_PAGE_SHIFT);
	unsigned char *buf = malloc(npages);
	long n = 0;

	if (!buf)
		return -ENOMEM;
	if (dev_ioctl(ctx, cmd, dev, ZD_HMM_DMIRROR_SNAPSHOT, addr, buf, NULL)) {
		free(buf);
		return 0;
	}
	for (size_t i = 0; i < npages; i++) {
		unsigned char k = buf[i] & SNAP_KIND_MASK;

		n += buf[i] != ZD_HMM_DMIRROR_PROT_ERROR &&
		     (k == ZD_HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL ||
		      k == ZD_HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL);
	}
	free(buf);
	return n;
}

/*
 * migrate ... to DEVICE: HMM_DMIRROR_MIGRATE_TO_DEV. Its -ENOENT says
 * some page stayed where it was: not an error here; what moved is the
 * device's local pages after the command less those before.
 * migrate ... to ram: HMM_DMIRROR_MIGRATE_TO_SYS of every dmirror device
 * the range may hold pages of; what moved is the sum of their cpages.
 */
static int exec_migrate(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	int dev = cmd->u.dev.dev, ret = 0;
	unsigned long addr, moved = 0;
	unsigned char *buf;

	ctx->moved = 0;
	if (!dev_addr(ctx, cmd, &addr))
		return 0;
	buf = malloc((size_t)cmd->u.dev.len);
	if (!buf)
		return -ENOMEM;
	if (dev >= 0) {
		long before = local_pages(ctx, cmd, dev, addr), after;

		ret = dev_ioctl(ctx, cmd, dev, ZD_HMM_DMIRROR_MIGRATE_TO_DEV, addr, buf, NULL);
		if (ret == -ENOENT)
			ret = 0;
		after = ret || before < 0 ? 0 : local_pages(ctx, cmd, dev, addr);
		if (after < 0)
			ret = (int)after;
		else if (!ret && after > before)
			moved = (unsigned long)(after - before);
	} else {
		for (int d = 0; !ret && d < run->prog->ndevices; d++) {
			struct zd_hmm_dmirror_cmd c;
			bool bound;

			if (!run->prog->devices[d].mirror)
				continue;
			zd_mutex_lock(run->lock);
			bound = run->devs[d].state == ZR_DS_BOUND && run->devs[d].mdev;
			zd_mutex_unlock(run->lock);
			if (!bound)
				continue;
			ret = dev_ioctl(ctx, cmd, d, ZD_HMM_DMIRROR_MIGRATE_TO_SYS, addr, buf, &c);
			if (!ret)
				moved += (unsigned long)c.cpages;
		}
	}
	free(buf);
	ctx->moved = moved;
	return ret;
}

static int exec_expect_moved(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	if (ctx->last_rc < 0)
		zr_fail(ctx, cmd->line, "expected moved=%llu, found the migrate failed (%s)",
			(unsigned long long)cmd->u.moved.n,
			zr_errno_name(ctx->last_rc) ? zr_errno_name(ctx->last_rc) : "an error");
	else if (ctx->moved != cmd->u.moved.n)
		zr_fail(ctx, cmd->line, "expected moved=%llu, found moved=%lu",
			(unsigned long long)cmd->u.moved.n, ctx->moved);
	return 0;
}

const struct zr_verb zr_verbs_migrate[] = {
	{ .name = "migrate", .subsys = "hmm", .parse = parse_migrate, .exec = exec_migrate },
	{ .name = "expect moved", .subsys = "hmm", .parse = parse_expect_moved,
	  .exec = exec_expect_moved, .flags = ZR_VERB_EXPECTATION | ZR_VERB_KEYWORD },
	{ 0 },
};
