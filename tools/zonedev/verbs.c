// SPDX-License-Identifier: MIT
/*
 * verbs.c - the verb table of the scenario language: for every command,
 * its argument grammar (a parse function), its executor and the library
 * subsystem it needs. A verb whose subsystem this build lacks has no
 * executor: its arguments are still parsed in full, then the parser
 * refuses it, so a scenario never runs half-way into a missing feature.
 * The same holds for forms whose subsystem is missing (fsdax files, the
 * fault counter of non-devdax devices).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

const char *const zr_devtype_names[] = {
	[ZR_DEV_PRIVATE] = "private",
	[ZR_DEV_COHERENT] = "coherent",
	[ZR_DEV_DEVDAX] = "devdax",
	[ZR_DEV_FSDAX] = "fsdax",
	[ZR_DEV_GENERIC] = "generic",
	[ZR_DEV_P2PDMA] = "p2pdma",
	NULL,
};

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

static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const prot_names[] = { "rw", "r", "none", NULL };
static const char *const mem_names[] = {
	"private", "coherent", "devdax", "fsdax", "generic", "p2pdma", "ram", "none", NULL,
};
#define MEM_RAM		ZR_NR_DEVTYPES
#define MEM_NONE	(ZR_NR_DEVTYPES + 1)

/* Column of an option's value. */
static int vcol(const struct zr_opt *o)
{
	return o->col + (int)strlen(o->key) + 1;
}

#define NOPTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- machine and devices ---- */

static int parse_system(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const char *const schemes[] = { "zero", "one", NULL };
	static const char *const checks[] = { "off", "cheap", "full", NULL };
	static const char *const datas[] = { "real", "none", NULL };
	struct zr_opt o[] = {
		{ .key = "ram", .type = ZR_OPT_SIZE },
		{ .key = "scheme", .type = ZR_OPT_CHOICE, .choices = schemes },
		{ .key = "check", .type = ZR_OPT_CHOICE, .choices = checks },
		{ .key = "data", .type = ZR_OPT_CHOICE, .choices = datas },
		{ .key = "seed", .type = ZR_OPT_UINT },
	};
	int ret = zr_arg_opts(p, o, NOPTS(o));

	if (ret)
		return ret;
	if (!o[0].seen)
		return zr_perr_here(p, "ram=SIZE");
	if (!o[0].u || o[0].u % (4ull << 20))
		return zr_perr(p, vcol(&o[0]), "expected a RAM size that is a non-zero multiple of 4M, found '%s'",
			       o[0].tok->text + 4);
	cmd->u.system.ram = o[0].u;
	cmd->u.system.scheme = o[1].seen ? (o[1].choice ? ZD_SCHEME_ONE : ZD_SCHEME_ZERO) :
				ZD_SCHEME_ZERO;
	cmd->u.system.check = o[2].seen ? o[2].choice : ZD_CHECK_CHEAP;
	cmd->u.system.data = o[3].seen ? o[3].choice : ZD_DATA_REAL;
	cmd->u.system.seed = o[4].seen ? o[4].u : 1;
	p->prog->data_none = cmd->u.system.data == ZD_DATA_NONE;
	return 0;
}

static int parse_device(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const char *const aligns[] = { "4K", "2M", "1G", NULL };
	static const unsigned int shifts[] = { 0, 9, 18 };
	struct zr_opt o[] = {
		{ .key = "type", .type = ZR_OPT_CHOICE, .choices = zr_devtype_names },
		{ .key = "size", .type = ZR_OPT_SIZE },
		{ .key = "align", .type = ZR_OPT_CHOICE, .choices = aligns },
	};
	struct zr_device_decl decl = { 0 };
	struct zr_token *name;
	uint64_t folio;
	int ret;

	ret = zr_arg_name(p, "a device name", &name);
	if (ret)
		return ret;
	ret = zr_arg_opts(p, o, NOPTS(o));
	if (ret)
		return ret;
	if (!o[0].seen)
		return zr_perr_here(p, "type=private|coherent|devdax|fsdax|generic|p2pdma");
	if (!o[1].seen)
		return zr_perr_here(p, "size=SIZE");
	decl.type = (enum zr_devtype)o[0].choice;
	decl.size = o[1].u;
	decl.shift = o[2].seen ? shifts[o[2].choice] : 0;
	folio = ZD_PAGE_SIZE << decl.shift;
	if (!decl.size || decl.size % ZD_SUBSECTION_SIZE)
		return zr_perr(p, vcol(&o[1]), "expected a device size that is a non-zero multiple of 2M, found '%s'",
			       o[1].tok->text + 5);
	if (decl.size % folio)
		return zr_perr(p, vcol(&o[1]), "expected a device size that is a multiple of align=%s, found '%s'",
			       aligns[o[2].choice], o[1].tok->text + 5);
	return zr_declare_device(p, name, &decl, &cmd->u.device.dev);
}

static int parse_unbind(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = { { .key = "deadline", .type = ZR_OPT_DURATION } };
	int ret = zr_arg_device(p, &cmd->u.unbind.dev);

	if (ret)
		return ret;
	ret = zr_arg_opts(p, o, NOPTS(o));
	cmd->u.unbind.has_deadline = o[0].seen;	/* else --deadline */
	cmd->u.unbind.deadline_ns = o[0].u;	/* 0: do not wait */
	return ret;
}

/* ---- processes and mappings ---- */

static int parse_process(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a process name", &t);

	return ret ? ret : zr_define(p, ZR_PROCESS, -1, t, &cmd->u.process.proc);
}

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
	return ret ? ret : zr_fork_regions(p, cmd->u.fork.child, cmd->u.fork.parent);
}

static int parse_exit(struct zr_parser *p, struct zr_cmd *cmd)
{
	return zr_arg_process(p, &cmd->u.process.proc);
}

/* PROCESS ADDR LEN, the start of most range commands. */
static int parse_range(struct zr_parser *p, int *proc, struct zr_addr *addr, uint64_t *len)
{
	int ret = zr_arg_process(p, proc);

	if (!ret)
		ret = zr_arg_addr(p, *proc, addr);
	if (!ret)
		ret = zr_arg_size(p, "a length", len);
	return ret;
}

static int device_of_type(struct zr_parser *p, const char *text, int col, unsigned int types,
			  const char *what, int *dev)
{
	struct zr_token t = { .kind = ZR_TOK_WORD, .text = (char *)text, .col = col };
	int ret = zr_resolve(p, ZR_DEVICE, -1, &t, dev);

	if (ret)
		return ret;
	if (!(types & (1u << p->prog->devices[*dev].type)))
		return zr_perr(p, col, "expected %s, found '%s' (a %s device)", what, text,
			       zr_devtype_names[p->prog->devices[*dev].type]);
	return 0;
}

/* Files of an fsdax device wait for the DAX file system; tmpfs files run. */
static int tmpfs_only(struct zr_parser *p, int file, int col, const char *verb)
{
	const char *name = p->prog->names[ZR_FILE].v[file].name;

	if (!strncmp(name, "tmpfs:", 6))
		return 0;
	return zr_perr(p, col, "'%s' of an fsdax file needs the fsdax subsystem, which this build does not have yet",
		       verb);
}

static int parse_mmap(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = {
		{ .key = "anon", .type = ZR_OPT_FLAG },
		{ .key = "shared", .type = ZR_OPT_FLAG },
		{ .key = "devdax", .type = ZR_OPT_WORD },
		{ .key = "file", .type = ZR_OPT_WORD },
		{ .key = "private", .type = ZR_OPT_FLAG },
		{ .key = "prot", .type = ZR_OPT_CHOICE, .choices = prot_names },
		{ .key = "align", .type = ZR_OPT_SIZE },
		{ .key = "thp", .type = ZR_OPT_FLAG },
	};
	struct zr_token *region;
	int ret, kinds = 0, last = 0;

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
		return zr_perr(p, p->tok[p->pos - 1].col,
			       "expected a mapping size that is a non-zero multiple of 4K, found '%s'",
			       p->tok[p->pos - 1].text);
	ret = zr_arg_opts(p, o, NOPTS(o));
	if (ret)
		return ret;
	for (int i = 0; i < 4; i++) {
		if (o[i].seen) {
			kinds++;
			if (kinds == 2)
				return zr_perr(p, o[i].col, "expected one of anon, shared, devdax= or file=, found '%s' after '%s'",
					       o[i].key, o[last].key);
			last = i;
		}
	}
	cmd->u.mmap.kind = kinds ? (enum zr_mmap_kind)last : ZR_MAP_ANON;
	cmd->u.mmap.dev = cmd->u.mmap.file = -1;
	if (o[2].seen) {
		ret = device_of_type(p, o[2].value, vcol(&o[2]), 1u << ZR_DEV_DEVDAX,
				     "a devdax device", &cmd->u.mmap.dev);
		if (ret)
			return ret;
	}
	if (o[3].seen) {
		ret = zr_file_str(p, (char *)o[3].value, vcol(&o[3]), false, &cmd->u.mmap.file);
		if (!ret)
			ret = tmpfs_only(p, cmd->u.mmap.file, vcol(&o[3]), "mmap");
		if (ret)
			return ret;
	}
	/* Extension: devdax= private asks for what the driver refuses (EINVAL). */
	if (o[4].seen && !o[3].seen && !o[2].seen)
		return zr_perr(p, o[4].col, "expected 'private' only with file=FS:PATH or devdax=DEVICE");
	cmd->u.mmap.private = o[4].seen;
	cmd->u.mmap.prot = o[5].seen ? (enum zr_prot)o[5].choice : ZR_PROT_RW;
	cmd->u.mmap.align = o[6].seen ? o[6].u : 0;
	if (o[6].seen && (!o[6].u || (o[6].u & (o[6].u - 1)) || o[6].u % ZD_PAGE_SIZE))
		return zr_perr(p, vcol(&o[6]), "expected a power-of-two alignment of at least 4K, found '%s'",
			       o[6].tok->text + 6);
	cmd->u.mmap.thp = o[7].seen;
	return 0;
}

static int parse_mremap(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = {
		{ .key = "size", .type = ZR_OPT_SIZE },
		{ .key = "at", .type = ZR_OPT_WORD },
		{ .key = "dontunmap", .type = ZR_OPT_FLAG },
	};
	struct zr_token *region;
	int ret;

	ret = parse_range(p, &cmd->u.mremap.proc, &cmd->u.mremap.addr, &cmd->u.mremap.len);
	if (ret)
		return ret;
	ret = zr_arg_name(p, "a new region name", &region);
	if (ret)
		return ret;
	ret = zr_define_or_get(p, ZR_REGION, cmd->u.mremap.proc, region, &cmd->u.mremap.region);
	if (ret)
		return ret;
	ret = zr_arg_opts(p, o, NOPTS(o));
	if (ret)
		return ret;
	cmd->u.mremap.size = o[0].seen ? o[0].u : cmd->u.mremap.len;
	cmd->u.mremap.has_at = o[1].seen;
	if (o[1].seen) {
		ret = zr_addr_str(p, cmd->u.mremap.proc, (char *)o[1].value, vcol(&o[1]),
				  &cmd->u.mremap.at);
		if (ret)
			return ret;
	}
	cmd->u.mremap.dontunmap = o[2].seen;
	return 0;
}

static int parse_munmap(struct zr_parser *p, struct zr_cmd *cmd)
{
	return parse_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);
}

static int parse_mprotect(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = parse_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);

	return ret ? ret : zr_arg_choice(p, "a protection", prot_names, &cmd->u.range.how);
}

static int parse_madvise(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const char *const advice[] = {
		"dontneed", "free", "cold", "pageout", "mergeable", "hugepage", "nohugepage",
		"collapse", "dontfork", "dofork", "wipeonfork", "keeponfork", NULL,
	};
	int ret = parse_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);

	return ret ? ret : zr_arg_choice(p, "an advice", advice, &cmd->u.range.how);
}

static int parse_file(struct zr_parser *p, struct zr_cmd *cmd)
{
	int col = zr_peek(p) ? zr_peek(p)->col : 0, dcol;
	int ret = zr_arg_file(p, true, &cmd->u.file.file);

	if (!ret)
		ret = zr_arg_size(p, "a file size", &cmd->u.file.size);
	if (!ret && zr_peek(p)) {
		dcol = zr_peek(p)->col;
		ret = zr_arg_data(p, &cmd->u.file.data);
		if (!ret && cmd->u.file.data.len > cmd->u.file.size)
			ret = zr_perr(p, p->tok[p->pos - 1].col,
				      "expected at most the file's %llu bytes of data, found %llu",
				      (unsigned long long)cmd->u.file.size,
				      (unsigned long long)cmd->u.file.data.len);
		if (!ret && p->prog->data_none)
			ret = zr_perr(p, dcol, "expected no file data with 'system data=none'");
	}
	return ret ? ret : tmpfs_only(p, cmd->u.file.file, col, "file");
}

static int parse_truncate(struct zr_parser *p, struct zr_cmd *cmd)
{
	int col = zr_peek(p) ? zr_peek(p)->col : 0;
	int ret = zr_arg_file(p, false, &cmd->u.file.file);

	if (!ret)
		ret = zr_arg_size(p, "a new file size", &cmd->u.file.size);
	return ret ? ret : tmpfs_only(p, cmd->u.file.file, col, "truncate");
}

static int parse_punch(struct zr_parser *p, struct zr_cmd *cmd)
{
	int col = zr_peek(p) ? zr_peek(p)->col : 0;
	int ret = zr_arg_file(p, false, &cmd->u.file.file);

	if (!ret)
		ret = zr_arg_size(p, "an offset", &cmd->u.file.off);
	if (!ret)
		ret = zr_arg_size(p, "a length", &cmd->u.file.size);
	return ret ? ret : tmpfs_only(p, cmd->u.file.file, col, "punch");
}

/* ---- CPU access ---- */

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

/* [expect DATA] of read and devread: LEN bytes, refused with data=none. */
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
	struct zr_token *t, *second = p->pos + 1 < p->ntok ? &p->tok[p->pos + 1] : NULL;
	int ret;

	if (second && second->kind == ZR_TOK_WORD && second->text[0] >= '0' &&
	    second->text[0] <= '9') {
		int col = p->tok[p->pos].col;

		ret = zr_arg_name(p, "a reference set name", &t);
		if (!ret)
			ret = zr_resolve(p, ZR_SET, -1, t, &cmd->u.access.set);
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
	ret = parse_range(p, &cmd->u.access.proc, &cmd->u.access.addr, &cmd->u.access.len);
	return ret ? ret : parse_data_expect(p, cmd->u.access.len, &cmd->u.access.data);
}

static int parse_touch(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = { { .key = "write", .type = ZR_OPT_FLAG } };
	int ret = parse_range(p, &cmd->u.range.proc, &cmd->u.range.addr, &cmd->u.range.len);

	if (!ret)
		ret = zr_arg_opts(p, o, NOPTS(o));
	cmd->u.range.how = o[0].seen;
	return ret;
}

/* ---- references ---- */

static int parse_set_def(struct zr_parser *p, int *set)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a reference set name", &t);

	return ret ? ret : zr_define_or_get(p, ZR_SET, -1, t, set);
}

static int parse_gup_common(struct zr_parser *p, struct zr_cmd *cmd, bool pin)
{
	struct zr_opt o[] = {
		{ .key = "write", .type = ZR_OPT_FLAG },
		{ .key = "fast", .type = ZR_OPT_FLAG },
		{ .key = "longterm", .type = ZR_OPT_FLAG },
	};
	int ret = parse_set_def(p, &cmd->u.gup.set);

	if (!ret)
		ret = zr_arg_process(p, &cmd->u.gup.proc);
	if (!ret)
		ret = zr_arg_addr(p, cmd->u.gup.proc, &cmd->u.gup.addr);
	if (!ret)
		ret = zr_arg_uint(p, "a number of pages", &cmd->u.gup.npages);
	if (!ret && (!cmd->u.gup.npages || cmd->u.gup.npages > (1u << 24)))
		ret = zr_perr(p, p->tok[p->pos - 1].col, "expected 1 to %u pages, found '%s'",
			      1u << 24, p->tok[p->pos - 1].text);
	if (!ret)
		ret = zr_arg_opts(p, o, pin ? 3 : 2);
	cmd->u.gup.write = o[0].seen;
	cmd->u.gup.fast = o[1].seen;
	cmd->u.gup.longterm = o[2].seen;
	return ret;
}

static int parse_gup(struct zr_parser *p, struct zr_cmd *cmd)
{
	return parse_gup_common(p, cmd, false);
}

static int parse_pin(struct zr_parser *p, struct zr_cmd *cmd)
{
	return parse_gup_common(p, cmd, true);
}

static int parse_devalloc(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = { { .key = "order", .type = ZR_OPT_UINT } };
	int ret = parse_set_def(p, &cmd->u.devalloc.set);

	if (!ret)
		ret = zr_arg_device(p, &cmd->u.devalloc.dev);
	if (!ret)
		ret = zr_arg_uint(p, "a number of folios", &cmd->u.devalloc.n);
	if (!ret && (!cmd->u.devalloc.n || cmd->u.devalloc.n > (1u << 24)))
		ret = zr_perr(p, p->tok[p->pos - 1].col, "expected 1 to %u folios, found '%s'",
			      1u << 24, p->tok[p->pos - 1].text);
	if (!ret)
		ret = zr_arg_opts(p, o, NOPTS(o));
	if (!ret && o[0].seen && o[0].u > ZD_MAX_FOLIO_ORDER)
		ret = zr_perr(p, vcol(&o[0]), "expected an order from 0 to %d, found '%s'",
			      ZD_MAX_FOLIO_ORDER, o[0].tok->text + 6);
	cmd->u.devalloc.order = o[0].seen ? o[0].u : 0;
	return ret;
}

static int parse_set_use(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a reference set name", &t);

	return ret ? ret : zr_resolve(p, ZR_SET, -1, t, &cmd->u.set.set);
}

/* ---- device side (dmirror) ---- */

#define DMIRROR_TYPES ((1u << ZR_DEV_PRIVATE) | (1u << ZR_DEV_COHERENT))

static int parse_dmirror(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a device name", &t);

	return ret ? ret : device_of_type(p, t->text, t->col, DMIRROR_TYPES,
					   "a private or coherent device", &cmd->u.dev.dev);
}

static int parse_migrate(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = parse_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);

	if (!ret)
		ret = zr_arg_literal(p, "to");
	if (!ret)
		ret = zr_arg_name(p, "a device name or ram", &t);
	if (ret)
		return ret;
	if (!strcmp(t->text, "ram")) {
		cmd->u.dev.dev = -1;
		return 0;
	}
	return device_of_type(p, t->text, t->col, DMIRROR_TYPES,
			      "a private or coherent device, or ram", &cmd->u.dev.dev);
}

static int parse_devread(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = parse_dmirror(p, cmd);

	if (!ret)
		ret = parse_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);
	return ret ? ret : parse_data_expect(p, cmd->u.dev.len, &cmd->u.dev.data);
}

static int parse_devwrite(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = parse_dmirror(p, cmd);

	if (!ret)
		ret = zr_arg_process(p, &cmd->u.dev.proc);
	if (!ret)
		ret = zr_arg_addr(p, cmd->u.dev.proc, &cmd->u.dev.addr);
	if (!ret)
		ret = zr_arg_data(p, &cmd->u.dev.data);
	cmd->u.dev.len = cmd->u.dev.data.len;
	return ret;
}

static int parse_exclusive(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = parse_dmirror(p, cmd);

	return ret ? ret : parse_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);
}

/* none | error | KIND+ACCESS[+LEVEL] */
static bool snapshot_flag_ok(const char *s)
{
	static const char *const kinds[] = {
		"ram", "zero", "private-local", "private-remote", "coherent-local",
		"coherent-remote", NULL,
	};
	char buf[64], *access, *level;
	bool ok = false;

	if (!strcmp(s, "none") || !strcmp(s, "error"))
		return true;
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	access = strchr(buf, '+');
	if (!access)
		return false;
	*access++ = '\0';
	level = strchr(access, '+');
	if (level)
		*level++ = '\0';
	for (int i = 0; kinds[i]; i++)
		ok |= !strcmp(buf, kinds[i]);
	ok &= !strcmp(access, "r") || !strcmp(access, "w");
	if (level)
		ok &= !strcmp(level, "pmd") || !strcmp(level, "pud");
	return ok;
}

static int parse_snapshot(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = parse_dmirror(p, cmd), first;
	struct zr_token *t;

	if (!ret)
		ret = parse_range(p, &cmd->u.dev.proc, &cmd->u.dev.addr, &cmd->u.dev.len);
	if (!ret)
		ret = zr_arg_literal(p, "expect");
	if (ret)
		return ret;
	first = p->pos;
	while ((t = zr_peek(p))) {
		if (t->kind != ZR_TOK_WORD || !snapshot_flag_ok(t->text))
			return zr_perr_here(p, "a snapshot flag (none, error, or KIND+r|w[+pmd|+pud], KIND ram, zero, private-local, private-remote, coherent-local or coherent-remote)");
		p->pos++;
	}
	cmd->u.dev.nflags = p->pos - first;
	if (!cmd->u.dev.nflags)
		return zr_perr_here(p, "one snapshot flag per page");
	if (cmd->u.dev.len % ZD_PAGE_SIZE == 0 &&
	    (uint64_t)cmd->u.dev.nflags != cmd->u.dev.len / ZD_PAGE_SIZE)
		return zr_perr(p, p->tok[first].col, "expected %llu snapshot flags (one per page), found %d",
			       (unsigned long long)(cmd->u.dev.len / ZD_PAGE_SIZE), cmd->u.dev.nflags);
	cmd->u.dev.flags = zr_palloc(p, (size_t)cmd->u.dev.nflags * sizeof(char *));
	if (!cmd->u.dev.flags)
		return -ENOMEM;
	for (int i = 0; i < cmd->u.dev.nflags; i++) {
		t = &p->tok[first + i];
		cmd->u.dev.flags[i] = zr_pstrdup(p, t->text, t->len);
		if (!cmd->u.dev.flags[i])
			return -ENOMEM;
	}
	return 0;
}

/* ---- concurrency ---- */

static int parse_thread(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t, *brace;
	int ret = zr_arg_name(p, "a thread name", &t);

	if (ret)
		return ret;
	brace = zr_peek(p);
	if (!brace || brace->kind != ZR_TOK_LBRACE)
		return zr_perr_here(p, "'{' opening the thread's block");
	p->pos++;
	ret = zr_expect_end(p);
	return ret ? ret : zr_open_thread(p, t, cmd);
}

static int parse_join(struct zr_parser *p, struct zr_cmd *cmd)
{
	int n = p->ntok - p->pos, ret;

	if (!n) {
		zr_join_all(p);
		return 0;
	}
	cmd->u.join.threads = zr_palloc(p, (size_t)n * sizeof(int));
	if (!cmd->u.join.threads)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct zr_token *t;

		ret = zr_arg_name(p, "a thread name", &t);
		if (!ret)
			ret = zr_join_thread(p, t, &cmd->u.join.threads[i]);
		if (ret)
			return ret;
	}
	cmd->u.join.n = n;
	return 0;
}

static int parse_sleep(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t = zr_peek(p);

	if (!t || t->kind != ZR_TOK_WORD || zr_parse_duration_str(t->text, &cmd->u.sleep.ns))
		return zr_perr_here(p, "a duration (100ms, 2s)");
	p->pos++;
	return 0;
}

/* ---- expectations ---- */

static int parse_expect_ok(struct zr_parser *p, struct zr_cmd *cmd)
{
	(void)p;
	(void)cmd;
	return 0;
}

static int parse_expect_error(struct zr_parser *p, struct zr_cmd *cmd)
{
	static const char what[] = "an errno name (EBUSY, EFAULT, EINVAL, ENOMEM, ...: any Linux errno name)";
	struct zr_token *t = zr_peek(p);

	if (!t || t->kind != ZR_TOK_WORD || !(cmd->u.error.err = zr_errno_from_name(t->text)))
		return zr_perr_here(p, what);
	p->pos++;
	return 0;
}

static int parse_expect_moved(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = { { .key = "moved", .type = ZR_OPT_UINT } };
	int ret = zr_arg_opts(p, o, NOPTS(o));

	cmd->u.moved.moved = o[0].u;
	return ret;
}

/* The folio keys shared by expect set and expect page (count= sets only, frame= pages only). */
static int parse_folio_keys(struct zr_parser *p, struct zr_folio_expect *w, bool set)
{
	struct zr_opt o[] = {
		{ .key = "mem", .type = ZR_OPT_CHOICE, .choices = mem_names },
		{ .key = "ref", .type = ZR_OPT_UINT },
		{ .key = "map", .type = ZR_OPT_UINT },
		{ .key = "pinned", .type = ZR_OPT_CHOICE, .choices = yes_no },
		{ .key = "lru", .type = ZR_OPT_CHOICE, .choices = yes_no },
		{ .key = "order", .type = ZR_OPT_UINT },
		{ .key = "count", .type = ZR_OPT_UINT },	/* ZR_EXP_COUNT; page: frame */
		{ .key = "writable", .type = ZR_OPT_CHOICE, .choices = yes_no },	/* page only */
	};
	struct zr_token t;
	int ret;

	if (!set)
		o[6] = (struct zr_opt){ .key = "frame", .type = ZR_OPT_WORD };
	ret = zr_arg_opts(p, o, NOPTS(o) - (set ? 1 : 0));
	if (ret)
		return ret;
	if (o[0].seen && set && o[0].choice == MEM_NONE)
		return zr_perr(p, vcol(&o[0]), "expected mem=ram or a device type for a set, found 'none'");
	for (int i = 1; o[0].seen && o[0].choice == MEM_NONE && i < NOPTS(o); i++)
		if (o[i].seen)
			return zr_perr(p, o[i].col, "expected no other key with mem=none (nothing mapped), found '%s='",
				       o[i].key);
	for (int i = 0; i <= 5; i++)	/* mem .. order: ZR_EXP_MEM .. ZR_EXP_ORDER */
		if (o[i].seen)
			w->have |= 1u << i;
	if (o[7].seen) {
		w->have |= ZR_EXP_WRITABLE;
		w->writable = o[7].choice == 1;
	}
	w->mem = o[0].choice == MEM_RAM ? -1 : o[0].choice == MEM_NONE ? -2 : o[0].choice;
	w->ref = o[1].u;
	w->map = o[2].u;
	w->pinned = o[3].choice == 1;
	w->lru = o[4].choice == 1;
	w->order = o[5].u;
	if (set && o[6].seen) {
		w->have |= ZR_EXP_COUNT;
		w->count = o[6].u;
	} else if (!set && o[6].seen) {
		/* Extension: the first frame=NAME records the page frame, later ones compare. */
		if (!zr_is_name(o[6].value))
			return zr_perr(p, vcol(&o[6]), "expected a frame name after frame=, found '%s'",
				       o[6].value);
		t = (struct zr_token){ .kind = ZR_TOK_WORD, .text = (char *)o[6].value,
				       .col = vcol(&o[6]) };
		ret = zr_define_or_get(p, ZR_FRAME, -1, &t, &w->frame);
		if (ret)
			return ret;
		w->have |= ZR_EXP_FRAME;
	}
	return 0;
}

static int parse_expect_set(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_token *t;
	int ret = zr_arg_name(p, "a reference set name", &t);

	if (!ret)
		ret = zr_resolve(p, ZR_SET, -1, t, &cmd->u.expect_folio.set);
	return ret ? ret : parse_folio_keys(p, &cmd->u.expect_folio.want, true);
}

static int parse_expect_page(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = zr_arg_process(p, &cmd->u.expect_folio.proc);

	if (!ret)
		ret = zr_arg_addr(p, cmd->u.expect_folio.proc, &cmd->u.expect_folio.addr);
	return ret ? ret : parse_folio_keys(p, &cmd->u.expect_folio.want, false);
}

static int parse_expect_device(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = {
		{ .key = "allocated", .type = ZR_OPT_UINT },
		{ .key = "free", .type = ZR_OPT_UINT },
		{ .key = "page_free", .type = ZR_OPT_UINT },
		{ .key = "faults", .type = ZR_OPT_UINT },
	};
	int ret = zr_arg_device(p, &cmd->u.expect_dev.dev);

	if (!ret)
		ret = zr_arg_opts(p, o, NOPTS(o));
	if (ret)
		return ret;
	/* Only the device-DAX driver counts its faults so far (dmirror does not exist). */
	if (o[3].seen && p->prog->devices[cmd->u.expect_dev.dev].type != ZR_DEV_DEVDAX)
		return zr_perr(p, o[3].col, "'faults=' on a %s device needs the dmirror subsystem, which this build does not have yet",
			       zr_devtype_names[p->prog->devices[cmd->u.expect_dev.dev].type]);
	for (int i = 0; i < NOPTS(o); i++)
		if (o[i].seen)
			cmd->u.expect_dev.have |= 1u << i;
	cmd->u.expect_dev.allocated = o[0].u;
	cmd->u.expect_dev.free = o[1].u;
	cmd->u.expect_dev.page_free = o[2].u;
	cmd->u.expect_dev.faults = o[3].u;
	return 0;
}

/* Extension: expect process PROCESS [vmas=N] [anon=N] [file=N] [shmem=N]. */
static int parse_expect_process(struct zr_parser *p, struct zr_cmd *cmd)
{
	struct zr_opt o[] = {
		{ .key = "vmas", .type = ZR_OPT_UINT },
		{ .key = "anon", .type = ZR_OPT_UINT },
		{ .key = "file", .type = ZR_OPT_UINT },
		{ .key = "shmem", .type = ZR_OPT_UINT },
	};
	int ret = zr_arg_process(p, &cmd->u.expect_proc.proc);

	if (!ret)
		ret = zr_arg_opts(p, o, NOPTS(o));
	if (ret)
		return ret;
	for (int i = 0; i < NOPTS(o); i++)
		if (o[i].seen)
			cmd->u.expect_proc.have |= 1u << i;
	cmd->u.expect_proc.vmas = o[0].u;
	cmd->u.expect_proc.anon = o[1].u;
	cmd->u.expect_proc.file = o[2].u;
	cmd->u.expect_proc.shmem = o[3].u;
	return 0;
}

static int parse_check(struct zr_parser *p, struct zr_cmd *cmd)
{
	(void)p;
	(void)cmd;
	return 0;
}

/* ---- the table ---- */

#define EXPECT (ZR_VERB_EXPECTATION)

static const struct zr_verb verbs[] = {
	/* machine and devices */
	{ "system", "core", parse_system, zr_exec_system, ZR_VERB_MAIN_ONLY },
	{ "device", "core", parse_device, zr_exec_device, 0 },
	{ "unbind", "core", parse_unbind, zr_exec_unbind, 0 },
	/* processes and mappings */
	{ "process", "mm", parse_process, zr_exec_process, 0 },
	{ "fork", "mm", parse_fork, zr_exec_fork, 0 },
	{ "exit", "mm", parse_exit, zr_exec_exit, 0 },
	{ "mmap", "mm", parse_mmap, zr_exec_mmap, 0 },
	{ "mremap", "mm", parse_mremap, zr_exec_mremap, 0 },
	{ "munmap", "mm", parse_munmap, zr_exec_munmap, 0 },
	{ "mprotect", "mm", parse_mprotect, zr_exec_mprotect, 0 },
	{ "madvise", "mm", parse_madvise, zr_exec_madvise, 0 },
	{ "file", "fs", parse_file, zr_exec_file, 0 },
	{ "truncate", "fs", parse_truncate, zr_exec_truncate, 0 },
	{ "punch", "fs", parse_punch, zr_exec_punch, 0 },
	/* CPU access */
	{ "write", "mm", parse_write, zr_exec_write, 0 },
	{ "read", "mm", parse_read, zr_exec_read, 0 },
	{ "touch", "mm", parse_touch, zr_exec_touch, 0 },
	/* references */
	{ "gup", "gup", parse_gup, zr_exec_gup, 0 },
	{ "pin", "gup", parse_pin, zr_exec_pin, 0 },
	{ "devalloc", "core", parse_devalloc, zr_exec_devalloc, 0 },
	{ "get", "core", parse_set_use, zr_exec_get, 0 },
	{ "release", "core", parse_set_use, zr_exec_release, 0 },
	/* device side */
	{ "migrate", "hmm", parse_migrate, NULL, 0 },
	{ "devread", "dmirror", parse_devread, NULL, 0 },
	{ "devwrite", "dmirror", parse_devwrite, NULL, 0 },
	{ "exclusive", "dmirror", parse_exclusive, NULL, 0 },
	{ "snapshot", "dmirror", parse_snapshot, NULL, 0 },
	/* concurrency */
	{ "thread", "core", parse_thread, zr_exec_thread, ZR_VERB_MAIN_ONLY },
	{ "join", "core", parse_join, zr_exec_join, ZR_VERB_MAIN_ONLY },
	{ "sleep", "core", parse_sleep, zr_exec_sleep, 0 },
	/* expectations */
	{ "expect ok", "core", parse_expect_ok, zr_exec_expect_ok, EXPECT | ZR_VERB_RESULT },
	{ "expect error", "core", parse_expect_error, zr_exec_expect_error,
	  EXPECT | ZR_VERB_RESULT },
	{ "expect moved", "hmm", parse_expect_moved, NULL, EXPECT },
	{ "expect page", "mm", parse_expect_page, zr_exec_expect_page, EXPECT },
	{ "expect process", "mm", parse_expect_process, zr_exec_expect_process, EXPECT },
	{ "expect device", "core", parse_expect_device, zr_exec_expect_device, EXPECT },
	{ "expect set", "core", parse_expect_set, zr_exec_expect_set, EXPECT },
	{ "check", "core", parse_check, zr_exec_check, EXPECT | ZR_VERB_QUIESCENT },
};

const struct zr_verb *zr_verb_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* Edit distance of two short words (Levenshtein, rows of at most 32). */
static unsigned int distance(const char *a, const char *b)
{
	unsigned int row[33], n = (unsigned int)strlen(b);

	if (strlen(a) > 32 || n > 32)
		return 99;
	for (unsigned int j = 0; j <= n; j++)
		row[j] = j;
	for (unsigned int i = 1; *a; a++, i++) {
		unsigned int diag = row[0];

		row[0] = i;
		for (unsigned int j = 1; j <= n; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (*a != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[n];
}

const char *zr_verb_suggest(const char *name)
{
	const char *best = NULL;
	unsigned int bestd = 3;	/* suggest within two edits */

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		unsigned int d;

		if (strchr(verbs[i].name, ' '))
			continue;
		d = distance(name, verbs[i].name);
		if (d < bestd) {
			bestd = d;
			best = verbs[i].name;
		}
	}
	return best;
}
