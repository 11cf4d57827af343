// SPDX-License-Identifier: MIT
/*
 * runner.h - the scenario runner (`zonedev run`): tokens, the parsed
 * program, the verb table and the state of one run.
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

/* ---- lexer (lexer.c) ---- */

enum zr_tok_kind {
	ZR_TOK_WORD,		/* a run of non-blank characters */
	ZR_TOK_STRING,		/* "text", C escapes decoded */
	ZR_TOK_LBRACE,		/* { */
	ZR_TOK_RBRACE,		/* } */
};

struct zr_token {
	enum zr_tok_kind kind;
	char *text;		/* NUL-terminated; a string may hold NULs too */
	size_t len;		/* bytes in text */
	int col;		/* 1-based column of the first character */
};

struct zr_parser;

/*
 * zr_lex_line - split one line (without its newline) into tokens; a '#'
 * outside a string ends it. Returns 0 and sets *tokp / *ntokp (free them
 * with zr_tokens_free), or -EINVAL after reporting a lexical error.
 */
int zr_lex_line(struct zr_parser *p, const char *line, size_t len,
		struct zr_token **tokp, int *ntokp);
void zr_tokens_free(struct zr_token *tok, int ntok);

/* ---- names ---- */

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

struct zr_name {
	char *name;
	int owner;		/* ZR_REGION: the process index; else -1 */
	int line;		/* where it was defined */
};

struct zr_names {
	struct zr_name *v;
	int n, cap;
};

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

extern const char *const zr_devtype_names[];	/* read-only tables */
enum zd_memory_type zr_devtype_memtype(enum zr_devtype t);

struct zr_device_decl {
	enum zr_devtype type;
	uint64_t size;
	unsigned int shift;	/* vmemmap_shift from align= */
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
enum zr_prot { ZR_PROT_RW, ZR_PROT_R, ZR_PROT_NONE };

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

struct zr_folio_expect {
	unsigned int have;	/* ZR_EXP_* */
	int mem;		/* -1 ram, -2 none, else enum zr_devtype */
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
			enum zr_prot prot;
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
			int how;	/* prot, advice, or touch's write */
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
		struct {	/* migrate, devread, devwrite, exclusive, snapshot */
			int dev, proc;		/* migrate: dev -1 means ram */
			struct zr_addr addr;
			uint64_t len;
			struct zr_data data;
			const char **flags;	/* snapshot */
			int nflags;
		} dev;
		struct { int thread; struct zr_block *body; } thread;
		struct { int *threads; int n; } join;	/* n == 0: all */
		struct { int err; } error;		/* expect error */
		struct { uint64_t moved; } moved;
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
	} u;
};

/* ---- the verb table (verbs.c) ---- */

enum {
	ZR_VERB_RESULT		= 1u << 0,	/* expect ok|error: checks the previous command */
	ZR_VERB_EXPECTATION	= 1u << 1,	/* does not count as "the previous command" */
	ZR_VERB_MAIN_ONLY	= 1u << 2,	/* not inside a thread block */
	ZR_VERB_QUIESCENT	= 1u << 3,	/* no thread may be running */
};

struct zr_verb {
	const char *name;	/* "devalloc", or two words: "expect set" */
	const char *subsys;	/* the library subsystem it needs */
	int (*parse)(struct zr_parser *p, struct zr_cmd *cmd);
	int (*exec)(struct zr_ctx *ctx, const struct zr_cmd *cmd);	/* NULL: refused */
	unsigned int flags;
};

const struct zr_verb *zr_verb_lookup(const char *name);
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
	struct zr_alloc *allocs;	/* everything above is freed with the program */
};

/* The parser's state: the program being built and the current line. */
struct zr_parser {
	struct zr_program *prog;
	FILE *err;			/* where errors go */
	int nerrors;
	int line;
	struct zr_token *tok;		/* tokens of the current line */
	int ntok, pos;
	const char *src;		/* the current line, trimmed */
	int indent;			/* blanks trimmed before src */
	struct zr_block *block;		/* main, or the open thread body */
	int thread;			/* the open thread block, or -1 */
	int thread_line;
	bool *running;			/* thread started and not joined (main's view) */
	int *started_line;		/* line of each thread's closing brace */
	bool have_system, said_system;
	int system_line;
};

/*
 * zr_parse - parse a whole scenario. Returns 0 and a program in *out,
 * or -EINVAL after printing every error ("FILE:LINE:COL: expected ...")
 * to @err, or -ENOMEM.
 */
int zr_parse(const char *file, const char *text, size_t len, FILE *err,
	     struct zr_program **out);
void zr_program_free(struct zr_program *prog);

/* Program-owned memory, freed with the program. */
void *zr_palloc(struct zr_parser *p, size_t size);
char *zr_pstrdup(struct zr_parser *p, const char *s, size_t len);

/* Report a parse error at @col of the current line; returns -EINVAL. */
int zr_perr(struct zr_parser *p, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Error at the current token (or the end of the line). */
int zr_perr_here(struct zr_parser *p, const char *expected);

/* Names: define (error if already defined) and look up (error if not). */
int zr_define(struct zr_parser *p, enum zr_kind kind, int owner, const struct zr_token *t,
	      int *idx);
int zr_lookup(const struct zr_program *prog, enum zr_kind kind, int owner, const char *name);
int zr_resolve(struct zr_parser *p, enum zr_kind kind, int owner, const struct zr_token *t,
	       int *idx);
/* Define if new, else return the existing one (reference sets). */
int zr_define_or_get(struct zr_parser *p, enum zr_kind kind, int owner,
		     const struct zr_token *t, int *idx);
/* `device NAME ...`: define the name with its declaration. */
int zr_declare_device(struct zr_parser *p, const struct zr_token *t,
		      const struct zr_device_decl *decl, int *idx);
/* `thread NAME {`: define the thread and make its body the open block. */
int zr_open_thread(struct zr_parser *p, const struct zr_token *t, struct zr_cmd *cmd);
/* `fork CHILD PARENT`: the child sees the parent's region names. */
int zr_fork_regions(struct zr_parser *p, int child, int parent);
/* `join NAME`: NAME must be running in the main script's order. */
int zr_join_thread(struct zr_parser *p, const struct zr_token *t, int *idx);
/* `join`: every running thread. */
void zr_join_all(struct zr_parser *p);

/* ---- argument parsers (args.c): each consumes tokens of the current line ---- */

struct zr_token *zr_peek(struct zr_parser *p);
struct zr_token *zr_next(struct zr_parser *p);
int zr_expect_end(struct zr_parser *p);
bool zr_is_name(const char *s);
int zr_parse_size_str(const char *s, uint64_t *out);
int zr_parse_uint_str(const char *s, uint64_t *out);
int zr_parse_duration_str(const char *s, uint64_t *ns);
int zr_errno_from_name(const char *s);
const char *zr_errno_name(int err);	/* "EBUSY", or NULL */

/* A name token ([A-Za-z_][A-Za-z0-9_]*), @what for the message. */
int zr_arg_name(struct zr_parser *p, const char *what, struct zr_token **t);
int zr_arg_size(struct zr_parser *p, const char *what, uint64_t *v);
int zr_arg_uint(struct zr_parser *p, const char *what, uint64_t *v);
/* One of @choices (NULL-terminated); sets *idx. */
int zr_arg_choice(struct zr_parser *p, const char *what, const char *const *choices,
		  int *idx);
/* The literal word @word. */
int zr_arg_literal(struct zr_parser *p, const char *word);
int zr_arg_process(struct zr_parser *p, int *proc);
int zr_arg_device(struct zr_parser *p, int *dev);
/* REGION or REGION+SIZE of process @proc. */
int zr_arg_addr(struct zr_parser *p, int proc, struct zr_addr *a);
/* The same on a string (an option's value) at column @col. */
int zr_addr_str(struct zr_parser *p, int proc, char *text, int col, struct zr_addr *a);
/* "text" | byte=0xAB len=SIZE | pattern=SEED len=SIZE */
int zr_arg_data(struct zr_parser *p, struct zr_data *d);
/* FS:PATH, FS an fsdax device or tmpfs; @define: create the file name. */
int zr_arg_file(struct zr_parser *p, bool define, int *file);
int zr_file_str(struct zr_parser *p, char *text, int col, bool define, int *file);

/* Trailing options: `flag` words and `key=value` pairs, any order. */
enum zr_opt_type {
	ZR_OPT_FLAG,		/* bare word */
	ZR_OPT_SIZE,
	ZR_OPT_UINT,
	ZR_OPT_CHOICE,
	ZR_OPT_WORD,		/* any non-empty value, checked by the caller */
	ZR_OPT_DURATION,	/* 100ms, 2s */
};

struct zr_opt {
	const char *key;
	enum zr_opt_type type;
	const char *const *choices;	/* ZR_OPT_CHOICE */
	/* results */
	bool seen;
	uint64_t u;		/* SIZE, UINT, DURATION (ns) */
	int choice;		/* CHOICE */
	struct zr_token *tok;	/* the token (valid until the line ends) */
	const char *value;	/* WORD: the text after '=' */
	int col;		/* column of the key */
};

int zr_arg_opts(struct zr_parser *p, struct zr_opt *opts, int nopts);

/* ---- the run (exec.c) ---- */

struct zr_set_entry {
	struct zd_folio *folio;
	int refs;		/* plain references this set holds on it */
	int pins;		/* GUP pins this set holds on it (pin_user_pages) */
	int dev;		/* the device it came from, or -1 */
};

/*
 * One entry per folio; @index finds a folio's entry (open addressing).
 * @pages lists the pages the set was given, in order (each page GUP
 * returned, every page of an allocated folio): what `read SET` reads.
 */
struct zr_set_rt {
	struct zr_set_entry *v;
	size_t n, cap;
	size_t *index;		/* entry + 1, 0 empty; nindex slots, a power of two */
	size_t nindex;
	struct zd_page **pages;
	size_t npages, pages_cap;
};

enum zr_dev_state {
	ZR_DS_ABSENT = 0,	/* not created (yet) */
	ZR_DS_BOUND,
	ZR_DS_UNBINDING,	/* a thread is in zd_devmem_pool_destroy */
	ZR_DS_DYING,		/* an unbind timed out; the pool still exists */
	ZR_DS_GONE,
};

struct zd_devdax;

/* A devdax device runs on the device-DAX driver, every other on a pool. */
struct zr_device_rt {
	struct zd_devmem_pool *pool;
	struct zd_devdax *dax;
	struct zd_dev_pagemap *pgmap;	/* valid while bound or dying */
	struct zd_file *dax_file;	/* devdax: the runner's open file, to the end */
	unsigned long cursor;		/* devdax devalloc: next folio to look at */
	enum zr_dev_state state;
};

/* A process: its mm from `process` or `fork` until `exit`. */
struct zr_proc_rt {
	struct zd_mm *mm;
	bool exited;
	int exit_line;
	int users;		/* commands using mm right now; exit waits for none */
};

/* A region: where its last successful mmap or mremap put it. */
struct zr_region_rt {
	unsigned long start, len;
	bool bound;
};

/* A frame name: the page frame the first `expect page ... frame=NAME` saw. */
struct zr_frame_rt {
	unsigned long pfn;
	bool seen;
};

/* A file: the runner's open file (FS:PATH), from `file` to the end. */
struct zr_file_rt {
	struct zd_file *file;
};

struct zr_thread_rt {
	struct zd_thread *t;
	struct zr_ctx *ctx;
	bool running;
};

struct zr_run {
	const struct zr_program *prog;
	const struct zr_options *opts;
	struct zd_system *sys;
	struct zd_trace_sink *trace;
	FILE *trace_file;

	/* lock: sets, devices, threads, failed. Never held while waiting. */
	struct zd_mutex *lock;
	struct zr_set_rt *sets;
	struct zr_device_rt *devs;
	struct zr_thread_rt *threads;
	struct zr_proc_rt *procs;
	struct zr_region_rt *regions;
	struct zr_file_rt *files;
	struct zr_frame_rt *frames;
	struct zd_tmpfs *tmpfs;		/* mounted by the first tmpfs file */
	bool failed;

	/* report_lock: a leaf lock (taken from library callbacks). */
	struct zd_mutex *report_lock;
	struct zd_report *reports;
	size_t nreports, cap, nshown, nlost;
};

/* One thread of execution: the main script or a thread block. */
struct zr_ctx {
	struct zr_run *run;
	const char *thread;		/* NULL for the main script */
	const struct zr_block *body;	/* what this context runs */
	bool reported;			/* zr_fail was called for the current command */
	const struct zr_cmd *last;	/* the previous non-expectation command */
	int last_rc;
};

/* Run a parsed program; returns the exit status (ZR_EXIT_*). */
int zr_run_program(const struct zr_program *prog, const struct zr_options *opts);
/* zd_system_options.report: record a library report. Context: any thread. */
void zr_report_cb(void *arg, const struct zd_report *r);

/* Mark the run failed and print "FILE:LINE: message" (line 0: no line). */
void zr_fail(struct zr_ctx *ctx, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print a page as dump_page() does, indented, to stderr. */
void zr_dump_folio(const struct zd_folio *folio);
bool zr_run_failed(struct zr_run *run);

/* Executors of the verbs that run today. */
int zr_exec_system(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_device(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_unbind(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_devalloc(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_get(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_release(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_thread(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_join(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_sleep(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_expect_ok(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_expect_error(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_expect_set(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_expect_device(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_check(struct zr_ctx *ctx, const struct zr_cmd *cmd);

/* Processes and mappings (exec_mm.c). */
int zr_exec_process(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_fork(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_exit(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_mmap(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_mremap(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_munmap(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_mprotect(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_madvise(struct zr_ctx *ctx, const struct zr_cmd *cmd);
/* Files (exec_file.c). */
int zr_exec_file(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_truncate(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_punch(struct zr_ctx *ctx, const struct zr_cmd *cmd);
/* CPU access (exec_access.c). */
int zr_exec_write(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_read(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_touch(struct zr_ctx *ctx, const struct zr_cmd *cmd);
/* GUP (exec_gup.c). */
int zr_exec_gup(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_pin(struct zr_ctx *ctx, const struct zr_cmd *cmd);
/* Page and process expectations (expect_page.c). */
int zr_exec_expect_page(struct zr_ctx *ctx, const struct zr_cmd *cmd);
int zr_exec_expect_process(struct zr_ctx *ctx, const struct zr_cmd *cmd);

/*
 * zr_proc_get - the mm of @proc for one command, or NULL after failing
 * the run (not created, or exited). Pair with zr_proc_put; `exit` waits
 * while the process is in use.
 */
struct zd_mm *zr_proc_get(struct zr_ctx *ctx, const struct zr_cmd *cmd, int proc);
void zr_proc_put(struct zr_run *run, int proc);
/* The address @a names, or false after failing the run (region never mapped). */
bool zr_addr_resolve(struct zr_ctx *ctx, const struct zr_cmd *cmd, const struct zr_addr *a,
		     unsigned long *addr);
/* The runner's open file @file with a reference for the caller, or NULL (not created). */
struct zd_file *zr_file_get(struct zr_run *run, int file);

/* Fill @buf with the @d->len bytes @d describes (data.c). */
void zr_data_fill(const struct zr_data *d, unsigned char *buf);
/* Fill @buf with bytes [@off, @off + @n) of what @d describes. */
void zr_data_fill_range(const struct zr_data *d, uint64_t off, unsigned char *buf, size_t n);
/* Bytes the runner moves per step of a read, write or file fill (a bounded buffer). */
#define ZR_IO_CHUNK	(64u * 1024)

/* Shared by expect set and expect page (expect.c). */
void zr_want_str(const struct zr_folio_expect *w, char *buf, size_t len);
void zr_folio_diff(struct zr_run *run, struct zd_folio *folio, int dev,
		   const struct zr_folio_expect *w, char *buf, size_t len);

/* Machine helpers (machine.c, refs.c, exec_mm.c, exec_file.c) used by the end of the run. */
int zr_unbind_device(struct zr_ctx *ctx, int dev, uint64_t deadline_ns);
void zr_release_all_sets(struct zr_run *run);
void zr_print_holders(struct zr_run *run, int dev);
/* The device whose pgmap @folio belongs to, or -1 (RAM, or not a device of the run). */
int zr_device_of_folio(struct zr_run *run, const struct zd_folio *folio);
/* Add @refs references and @pins pins on @folio to set @set (its entry, if any). */
int zr_set_add(struct zr_run *run, int set, struct zd_folio *folio, int dev, int refs, int pins);
/* Append @nr consecutive pages from @page to the pages set @set was given. */
int zr_set_add_pages(struct zr_run *run, int set, struct zd_page *page, unsigned long nr);
void zr_exit_all_processes(struct zr_run *run);
void zr_close_files(struct zr_run *run);
void zr_close_device_files(struct zr_run *run);

#endif /* ZONEDEV_TOOL_RUNNER_H */
