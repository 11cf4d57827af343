// SPDX-License-Identifier: MIT
/*
 * exec.h - what a verb's executor uses: the state of one run (the
 * machine, and what each name of the program stands for while it runs),
 * the context of the thread running a command, failures ("FILE:LINE:
 * expected ..., found ..." and a page dump), and the helpers one verb
 * family offers the others and the end of the run.
 */
#ifndef ZONEDEV_TOOL_EXEC_H
#define ZONEDEV_TOOL_EXEC_H

#include "runner.h"

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
	/* private/coherent devices a device-side command names (verbs_device.c) */
	struct zd_dmirror_module *dmod;	/* the dmirror module loaded for it */
	struct zd_dmirror_device *mdev;	/* its unit */
	struct zd_dmirror **opens;	/* the unit's open for each process, or NULL */
	int users;			/* commands using an open now */
	unsigned long faults;		/* device fault passes its READ/WRITE commands reported */
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
	unsigned long moved;		/* pages the last migrate moved */
};

/* zd_system_options.report: record a library report. Context: any thread. */
void zr_report_cb(void *arg, const struct zd_report *r);

/* Mark the run failed and print "FILE:LINE: message" (line 0: no line). */
void zr_fail(struct zr_ctx *ctx, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print a page as dump_page() does, indented, to stderr. */
void zr_dump_folio(const struct zd_folio *folio);
bool zr_run_failed(struct zr_run *run);
/* Run the commands of @b in @ctx until the end or a failure. */
void zr_run_block(struct zr_ctx *ctx, const struct zr_block *b);

/* ---- machine and devices (verbs_machine.c) ---- */

/* The device whose pgmap @folio belongs to, or -1 (RAM, or not a device of the run). */
int zr_device_of_folio(struct zr_run *run, const struct zd_folio *folio);
int zr_unbind_device(struct zr_ctx *ctx, int dev, uint64_t deadline_ns);
void zr_print_holders(struct zr_run *run, int dev);
void zr_close_device_files(struct zr_run *run);

/* ---- the device side (verbs_device.c) ---- */

struct zd_devmem_stats;
/* Load the dmirror module of a device a device-side command names. */
int zr_mirror_create(struct zr_run *run, int dev);
/* Close the opens, evict the unit's pages, unload; -ETIMEDOUT past @deadline_ns. */
int zr_mirror_unbind(struct zr_run *run, int dev, uint64_t deadline_ns);
/* close() every open of process @proc (before its mm goes). */
void zr_mirrors_close_proc(struct zr_run *run, int proc);
/* Add the unit's counters to @st; *faults the device's fault passes. Context: run->lock held. */
void zr_mirror_stats(struct zr_run *run, int dev, struct zd_devmem_stats *st,
		     unsigned long *faults);
/* Whether @pgmap is a chunk of @dev's dmirror unit. Context: run->lock held. */
bool zr_mirror_owns(struct zr_run *run, int dev, const struct zd_dev_pagemap *pgmap);

/* ---- processes (verbs_mm.c) ---- */

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
/*
 * The address of a command's u.range in *addr and the mm of its process,
 * or NULL after failing the run. Pair with zr_proc_put.
 */
struct zd_mm *zr_range_get(struct zr_ctx *ctx, const struct zr_cmd *cmd, unsigned long *addr);
void zr_exit_all_processes(struct zr_run *run);

/* ---- files (verbs_files.c) ---- */

/* The runner's open file @file with a reference for the caller, or NULL (not created). */
struct zd_file *zr_file_get(struct zr_run *run, int file);
void zr_close_files(struct zr_run *run);

/* ---- reference sets (verbs_refs.c) ---- */

/* Add @refs references and @pins pins on @folio to set @set (its entry, if any). */
int zr_set_add(struct zr_run *run, int set, struct zd_folio *folio, int dev, int refs, int pins);
/* Append @nr consecutive pages from @page to the pages set @set was given. */
int zr_set_add_pages(struct zr_run *run, int set, struct zd_page *page, unsigned long nr);
void zr_release_all_sets(struct zr_run *run);

/* ---- threads (verbs_thread.c) ---- */

/* Wait for thread @idx if it runs. */
void zr_join_one(struct zr_run *run, int idx);

/* ---- folio expectations (verbs_expect.c), shared with expect page ---- */

void zr_want_str(const struct zr_folio_expect *w, char *buf, size_t len);
void zr_folio_diff(struct zr_run *run, struct zd_folio *folio, int dev,
		   const struct zr_folio_expect *w, char *buf, size_t len);

/* ---- data (data.c) ---- */

/* Fill @buf with bytes [@off, @off + @n) of what @d describes. */
void zr_data_fill_range(const struct zr_data *d, uint64_t off, unsigned char *buf, size_t n);
/* Bytes the runner moves per step of a read, write or file fill (a bounded buffer). */
#define ZR_IO_CHUNK	(64u * 1024)

#endif /* ZONEDEV_TOOL_EXEC_H */
