// SPDX-License-Identifier: MIT
/*
 * runner.h - the scenario runner (`zonedev run`): the parsed program (its
 * names, commands and their arguments), the verb table assembled from
 * the verb families, and the two entry points, zr_parse and
 * zr_run_program. parse.h is what a verb's grammar uses, exec.h what its
 * executor uses.
 *
 * A run has two phases. parse.c turns the whole file into a program (a
 * list of commands with every name resolved) and refuses anything
 * invalid with exit status 2 before a single command runs. exec.c then
 * builds the machine and runs the commands, the main script on the
 * calling thread and each `thread NAME { ... }` block on its own thread.
 * There is no global mutable state: everything lives in struct zr_program
 * (read-only once parsed) and struct zr_run.
 */
#ifndef ZONEDEV_TOOL_RUNNER_H
#define ZONEDEV_TOOL_RUNNER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <zonedev/zonedev.h>
#include <zonedev/mm.h>

/* Exit statuses of `zonedev run`. */
#define ZR_EXIT_OK	0	/* every command and expectation held */
#define ZR_EXIT_FAIL	1	/* an expectation, invariant or leak failed */
#define ZR_EXIT_USAGE	2	/* bad command line, parse or validation error */

#define ZR_MAX_ERRORS	20	/* parse errors printed before giving up */
#define ZR_DEFAULT_DEADLINE_NS (10ull * 1000 * 1000 * 1000)
#define ZR_FAILED_DEADLINE_NS (1ull * 1000 * 1000 * 1000)	/* end of a failed run */

/* ---- command-line options of `zonedev run` ---- */

struct zr_options {
	bool verbose;			/* -v */
	bool stats;			/* --stats */
	const char *trace_path;		/* --trace FILE */
	uint64_t deadline_ns;		/* --deadline SECONDS (0: do not wait) */
	struct zd_fault_attr fault[ZD_FAULT_NR_SITES];	/* --fail SITE:... */
};

/* ---- names (names.c) ---- */

/* Each kind of name has its own namespace. */
enum zr_kind {
	ZR_PROCESS,
	ZR_REGION,		/* bound per process (owner) */
	ZR_DEVICE,
	ZR_FILE,		/* "FS:PATH" */
	ZR_SET,
	ZR_THREAD,
	ZR_FRAME,		/* expect page ... frame=NAME (extension) */
	ZR_NR_KINDS,
};

/* What a kind is called in messages, and which commands define its names. */
struct zr_kind_info {
	const char *name;	/* "reference set" */
	const char *definers;	/* "'devalloc', 'gup' or 'pin'" */
};

extern const struct zr_kind_info zr_kinds[ZR_NR_KINDS];

struct zr_name {
	char *name;
	int owner;		/* ZR_REGION: the process index; else -1 */
	int line;		/* where it was defined */
};

struct zr_names {
	struct zr_name *v;
	int n, cap;
};

/* Every Linux errno name: EBUSY <-> -EBUSY. */
int zr_errno_from_name(const char *s);
const char *zr_errno_name(int err);	/* "EBUSY", or NULL */

/* ---- devices (verbs_machine.c) ---- */

/* The scenario's device types; devdax and generic share a memory type. */
enum zr_devtype {
	ZR_DEV_PRIVATE,
	ZR_DEV_COHERENT,
	ZR_DEV_DEVDAX,
	ZR_DEV_FSDAX,
	ZR_DEV_GENERIC,
	ZR_DEV_P2PDMA,
	ZR_NR_DEVTYPES,
};

/* Their names, as struct zr_choice entries (device type=, expect mem=). */
#define ZR_DEVTYPE_CHOICES \
	{ "private", ZR_DEV_PRIVATE }, { "coherent", ZR_DEV_COHERENT }, \
	{ "devdax", ZR_DEV_DEVDAX }, { "fsdax", ZR_DEV_FSDAX }, \
	{ "generic", ZR_DEV_GENERIC }, { "p2pdma", ZR_DEV_P2PDMA }

const char *zr_devtype_name(enum zr_devtype t);		/* "private" */
enum zd_memory_type zr_devtype_memtype(enum zr_devtype t);

struct zr_device_decl {
	enum zr_devtype type;
	uint64_t size;
	unsigned int shift;	/* vmemmap_shift from align= */
	bool mirror;		/* private/coherent: a device-side command names it (a dmirror unit too) */
};

/* ---- values ---- */

struct zr_addr {
	int region;		/* index in the region names */
	uint64_t off;		/* REGION+SIZE */
};

enum zr_data_kind {
	ZR_DATA_NONE = 0,
	ZR_DATA_TEXT,		/* "text" */
	ZR_DATA_BYTE,		/* byte=0xAB len=SIZE */
	ZR_DATA_PATTERN,	/* pattern=SEED len=SIZE */
};

struct zr_data {
	enum zr_data_kind kind;
	const char *text;	/* ZR_DATA_TEXT, program-owned */
	uint64_t len;
	uint32_t seed;
	uint8_t byte;
};

/* ---- commands ---- */

struct zr_cmd;
struct zr_ctx;

struct zr_block {
	struct zr_cmd **v;
	int n, cap;
};

enum zr_mmap_kind { ZR_MAP_ANON, ZR_MAP_SHARED, ZR_MAP_DEVDAX, ZR_MAP_FILE };

/* expect set/page keys (ZR_EXP_* bits say which were given). */
enum {
	ZR_EXP_MEM	= 1u << 0,
	ZR_EXP_REF	= 1u << 1,
	ZR_EXP_MAP	= 1u << 2,
	ZR_EXP_PINNED	= 1u << 3,
	ZR_EXP_LRU	= 1u << 4,
	ZR_EXP_ORDER	= 1u << 5,
	ZR_EXP_COUNT	= 1u << 6,	/* expect set only: folios held */
	ZR_EXP_FRAME	= 1u << 7,	/* expect page only: the same page frame as before */
	ZR_EXP_WRITABLE	= 1u << 8,	/* expect page only: the entry is writable */
};

/* expect process keys (extension). */
enum {
	ZR_PROCEXP_VMAS		= 1u << 0,
	ZR_PROCEXP_ANON		= 1u << 1,
	ZR_PROCEXP_FILE		= 1u << 2,
	ZR_PROCEXP_SHMEM	= 1u << 3,
};

/* mem= besides the device types. */
#define ZR_MEM_RAM	(-1)
#define ZR_MEM_NONE	(-2)	/* expect page: nothing mapped */

struct zr_folio_expect {
	unsigned int have;	/* ZR_EXP_* */
	int mem;		/* ZR_MEM_RAM, ZR_MEM_NONE or an enum zr_devtype */
	uint64_t ref, map, order, count;
	bool pinned, lru, writable;
	int frame;		/* ZR_FRAME name */
};

enum {
	ZR_DEVEXP_ALLOCATED	= 1u << 0,
	ZR_DEVEXP_FREE		= 1u << 1,
	ZR_DEVEXP_PAGE_FREE	= 1u << 2,
	ZR_DEVEXP_FAULTS	= 1u << 3,
};

struct zr_cmd {
	const struct zr_verb *verb;
	int line, col;
	const char *src;	/* the command's text, for -v */
	bool checked;		/* the next command is `expect ok|error` */
	union {
		struct {
			uint64_t ram, seed;
			int scheme, check, data;
		} system;
		struct { int dev; } device;		/* decl in prog->devices */
		struct { int dev; uint64_t deadline_ns; bool has_deadline; } unbind;
		struct { int proc; } process;		/* process, exit */
		struct { int child, parent; } fork;
		struct {
			int proc, region, dev, file;
			uint64_t size, align;
			enum zr_mmap_kind kind;
			int prot;		/* ZD_PROT_* bits */
			bool private, thp;
		} mmap;
		struct {
			int proc, region;
			struct zr_addr addr, at;
			uint64_t len, size;
			bool has_at, dontunmap;
		} mremap;
		struct {	/* munmap, mprotect, madvise, touch */
			int proc;
			struct zr_addr addr;
			uint64_t len;
			int how;	/* ZD_PROT_* bits, ZD_MADV_*, or touch's write */
		} range;
		struct {	/* file, truncate, punch */
			int file;
			uint64_t size, off;
			struct zr_data data;
		} file;
		struct {	/* write, read */
			int proc;
			struct zr_addr addr;
			uint64_t len;
			struct zr_data data;
			bool from_set;		/* read SET OFFSET LEN */
			int set;
			uint64_t off;
		} access;
		struct {	/* gup, pin */
			int set, proc;
			struct zr_addr addr;
			uint64_t npages;
			bool write, fast, longterm;
		} gup;
		struct { int set, dev; uint64_t n, order; } devalloc;
		struct { int set; } set;		/* get, release */
		struct { int thread; struct zr_block *body; } thread;
		struct { int *threads; int n; } join;	/* n == 0: all */
		struct { int err; } error;		/* expect error */
		struct {
			int set, proc;
			struct zr_addr addr;
			struct zr_folio_expect want;
		} expect_folio;		/* expect set, expect page */
		struct {
			int dev;
			unsigned int have;	/* ZR_DEVEXP_* */
			uint64_t allocated, free, page_free, faults;
		} expect_dev;
		struct {
			int proc;
			unsigned int have;	/* ZR_PROCEXP_* */
			uint64_t vmas, anon, file, shmem;
		} expect_proc;
		struct { uint64_t ns; } sleep;
		struct {	/* devread, devwrite, exclusive, snapshot, migrate */
			int dev;		/* migrate ... to ram: -1 */
			int proc;
			struct zr_addr addr;
			uint64_t len;
			struct zr_data data;	/* devread's expectation, devwrite's bytes */
			const unsigned char *flags;	/* snapshot: one HMM_DMIRROR_PROT_* byte a page */
		} dev;
		struct { uint64_t n; } moved;		/* expect moved=N */
	} u;
};

/* ---- the verb table (verbs.c and the verb families, verbs_*.c) ---- */

struct zr_parser;

enum {
	ZR_VERB_RESULT		= 1u << 0,	/* expect ok|error: checks the previous command */
	ZR_VERB_EXPECTATION	= 1u << 1,	/* does not count as "the previous command" */
	ZR_VERB_MAIN_ONLY	= 1u << 2,	/* not inside a thread block */
	ZR_VERB_QUIESCENT	= 1u << 3,	/* no thread may be running */
	ZR_VERB_FIRST		= 1u << 4,	/* system: the first command, once; builds the machine */
	ZR_VERB_PREFIX		= 1u << 5,	/* expect: the first word of two-word verbs */
	ZR_VERB_KEYWORD		= 1u << 6,	/* expect moved=N: the second word is KEY=VALUE */
};

/*
 * A verb: its grammar and its executor. A verb whose subsystem this build
 * lacks has neither: the parser refuses it by name ("'migrate' needs the
 * hmm subsystem, ..."), so a scenario never runs half-way into a missing
 * feature. Each family (verbs_*.c) exports its slice of the table, ended
 * by an entry without a name.
 */
struct zr_verb {
	const char *name;	/* "devalloc", or two words: "expect set" */
	const char *subsys;	/* the library subsystem it needs */
	int (*parse)(struct zr_parser *p, struct zr_cmd *cmd);	/* NULL: not in this build */
	int (*exec)(struct zr_ctx *ctx, const struct zr_cmd *cmd);
	unsigned int flags;	/* ZR_VERB_* */
	const char *usage;	/* FIRST and PREFIX verbs: what the parser asks for */
};

extern const struct zr_verb zr_verbs_machine[], zr_verbs_mm[], zr_verbs_files[],
	zr_verbs_access[], zr_verbs_gup[], zr_verbs_refs[], zr_verbs_thread[],
	zr_verbs_expect[], zr_verbs_expect_page[], zr_verbs_device[], zr_verbs_migrate[];

const struct zr_verb *zr_verb_lookup(const char *name);
/* The ZR_VERB_FIRST verb (system). */
const struct zr_verb *zr_verb_first(void);
/* The verb closest to a misspelt @name (two edits at most), or NULL. */
const char *zr_verb_suggest(const char *name);

/* ---- the program (parse.c) ---- */

struct zr_alloc;

struct zr_program {
	const char *file;		/* as given, for messages */
	struct zr_block main;
	struct zr_names names[ZR_NR_KINDS];
	struct zr_device_decl *devices;	/* indexed like names[ZR_DEVICE] */
	int ndevices;
	struct zr_block **bodies;	/* thread bodies, indexed like names[ZR_THREAD] */
	int data_none;			/* system data=none */
	int scheme_one;			/* system scheme=one */
	struct zr_alloc *allocs;	/* everything above is freed with the program */
};

/*
 * zr_parse - parse a whole scenario. Returns 0 and a program in *out,
 * or -EINVAL after printing every error ("FILE:LINE:COL: expected ...")
 * to @err, or -ENOMEM.
 */
int zr_parse(const char *file, const char *text, size_t len, FILE *err,
	     struct zr_program **out);
void zr_program_free(struct zr_program *prog);
int zr_lookup(const struct zr_program *prog, enum zr_kind kind, int owner, const char *name);

/* Run a parsed program; returns the exit status (ZR_EXIT_*). */
int zr_run_program(const struct zr_program *prog, const struct zr_options *opts);

#endif /* ZONEDEV_TOOL_RUNNER_H */
