// SPDX-License-Identifier: MIT
/*
 * verbs_files.c - files of the memory file system (mm/shmem.c), grammar
 * and execution: FS:PATH file names, `file tmpfs:PATH SIZE [DATA]`
 * creates one (the first mounts the run's tmpfs), `truncate` sets its
 * size (shmem_setattr, zapping mappings beyond the new end), `punch`
 * deallocates a hole (shmem_fallocate). The runner keeps each file open
 * until the end of the run, as a process holding its descriptor would,
 * so mappings and expectations can name it; then it closes them and
 * unmounts. A file of an fsdax device is refused by name until the DAX
 * file system exists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/tmpfs.h>

#include "exec.h"
#include "parse.h"

/* ---- grammar ---- */

int zr_file_str(struct zr_parser *p, char *text, int col, bool define, int *file)
{
	struct zr_token name = { .kind = ZR_TOK_WORD, .text = text, .col = col };
	char *colon = strchr(text, ':');
	int dev = -1;

	if (!colon || colon[1] == '\0' || strchr(colon + 1, ':'))
		return zr_perr(p, col, "expected a file FS:PATH, found '%s'", text);
	*colon = '\0';
	if (strcmp(text, "tmpfs")) {
		dev = zr_is_name(text) ? zr_lookup(p->prog, ZR_DEVICE, -1, text) : -1;
		if (dev < 0 || p->prog->devices[dev].type != ZR_DEV_FSDAX) {
			zr_perr(p, col, "expected tmpfs or an fsdax device before ':', found '%s'",
				text);
			*colon = ':';
			return -EINVAL;
		}
	}
	*colon = ':';
	if (dev >= 0)
		return zr_perr(p, col, "'%s' of an fsdax file needs the fsdax subsystem, which this build does not have yet",
			       p->cmd->verb->name);
	if (define)
		return zr_define_or_get(p, ZR_FILE, -1, &name, file);
	return zr_resolve(p, ZR_FILE, -1, &name, file);
}

/* FS:PATH, FS tmpfs (or, once the DAX file system exists, an fsdax device). */
static int arg_file(struct zr_parser *p, bool define, int *file)
{
	struct zr_token *t;
	int ret = zr_arg_word(p, "a file FS:PATH (FS an fsdax device or tmpfs)", &t);

	return ret ? ret : zr_file_str(p, t->text, t->col, define, file);
}

/* file FS:PATH SIZE [DATA] */
static int parse_file(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = arg_file(p, true, &cmd->u.file.file), dcol;

	if (!ret)
		ret = zr_arg_size(p, "a file size", &cmd->u.file.size);
	if (!ret && zr_peek(p)) {
		dcol = zr_peek(p)->col;
		ret = zr_arg_data(p, &cmd->u.file.data);
		if (!ret && cmd->u.file.data.len > cmd->u.file.size)
			ret = zr_perr(p, zr_prev(p)->col,
				      "expected at most the file's %llu bytes of data, found %llu",
				      (unsigned long long)cmd->u.file.size,
				      (unsigned long long)cmd->u.file.data.len);
		if (!ret && p->prog->data_none)
			ret = zr_perr(p, dcol, "expected no file data with 'system data=none'");
	}
	return ret;
}

/* truncate FS:PATH SIZE */
static int parse_truncate(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = arg_file(p, false, &cmd->u.file.file);

	return ret ? ret : zr_arg_size(p, "a new file size", &cmd->u.file.size);
}

/* punch FS:PATH OFF LEN */
static int parse_punch(struct zr_parser *p, struct zr_cmd *cmd)
{
	int ret = arg_file(p, false, &cmd->u.file.file);

	if (!ret)
		ret = zr_arg_size(p, "an offset", &cmd->u.file.off);
	return ret ? ret : zr_arg_size(p, "a length", &cmd->u.file.size);
}

/* ---- execution ---- */

/* "tmpfs:PATH" -> "PATH" */
static const char *file_path(const struct zr_run *run, int file)
{
	const char *name = run->prog->names[ZR_FILE].v[file].name;

	return strchr(name, ':') + 1;
}

struct zd_file *zr_file_get(struct zr_run *run, int file)
{
	struct zd_file *f;

	zd_mutex_lock(run->lock);
	f = run->files[file].file;
	if (f)
		zd_get_file(f);
	zd_mutex_unlock(run->lock);
	return f;
}

/* The run's tmpfs, mounted on first use. */
static int get_tmpfs(struct zr_run *run, struct zd_tmpfs **out)
{
	int ret = 0;

	zd_mutex_lock(run->lock);
	if (!run->tmpfs)
		ret = zd_tmpfs_create(run->sys, &run->tmpfs);
	*out = run->tmpfs;
	zd_mutex_unlock(run->lock);
	return ret;
}

/* file FS:PATH SIZE [DATA]: create it (O_CREAT|O_EXCL) and write DATA at offset 0. */
static int exec_file(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zr_run *run = ctx->run;
	const struct zr_data *d = &cmd->u.file.data;
	struct zd_tmpfs *fs;
	struct zd_file *f;
	int ret = get_tmpfs(run, &fs);

	if (ret)
		return ret;
	ret = zd_tmpfs_create_file(fs, file_path(run, cmd->u.file.file), cmd->u.file.size, &f);
	if (ret)
		return ret;
	if (d->kind != ZR_DATA_NONE && d->len) {
		/* Through a bounded buffer: DATA may be as large as the file. */
		unsigned char *buf = malloc(ZR_IO_CHUNK);

		if (!buf)
			ret = -ENOMEM;
		for (uint64_t done = 0; buf && done < d->len && !ret;) {
			size_t len = d->len - done < ZR_IO_CHUNK ? (size_t)(d->len - done) : ZR_IO_CHUNK;
			ssize_t n;

			zr_data_fill_range(d, done, buf, len);
			n = zd_tmpfs_write(f, done, buf, len);
			ret = n < 0 ? (int)n : (size_t)n != len ? -ENOMEM : 0;
			done += len;
		}
		free(buf);
		if (ret) {
			/* The file exists now but without its data: close and forget it. */
			zd_fput(f);
			zd_tmpfs_unlink(fs, file_path(run, cmd->u.file.file));
			return ret;
		}
	}
	zd_mutex_lock(run->lock);
	run->files[cmd->u.file.file].file = f;
	zd_mutex_unlock(run->lock);
	return 0;
}

/* truncate FS:PATH SIZE (shmem_setattr). */
static int exec_truncate(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zd_file *f = zr_file_get(ctx->run, cmd->u.file.file);
	int ret;

	if (!f)
		return -ENOENT;
	ret = zd_tmpfs_truncate(f, cmd->u.file.size);
	zd_fput(f);
	return ret;
}

/* punch FS:PATH OFF LEN (fallocate PUNCH_HOLE|KEEP_SIZE). */
static int exec_punch(struct zr_ctx *ctx, const struct zr_cmd *cmd)
{
	struct zd_file *f = zr_file_get(ctx->run, cmd->u.file.file);
	int ret;

	if (!f)
		return -ENOENT;
	ret = zd_tmpfs_punch_hole(f, cmd->u.file.off, cmd->u.file.size);
	zd_fput(f);
	return ret;
}

/* The end of the run: close every file, then unmount (files still mapped live on). */
void zr_close_files(struct zr_run *run)
{
	struct zd_tmpfs *fs;

	for (int i = 0; i < run->prog->names[ZR_FILE].n; i++) {
		struct zd_file *f;

		zd_mutex_lock(run->lock);
		f = run->files[i].file;
		run->files[i].file = NULL;
		zd_mutex_unlock(run->lock);
		if (f)
			zd_fput(f);
	}
	zd_mutex_lock(run->lock);
	fs = run->tmpfs;
	run->tmpfs = NULL;
	zd_mutex_unlock(run->lock);
	if (fs)
		zd_tmpfs_destroy(fs);
}

const struct zr_verb zr_verbs_files[] = {
	{ .name = "file", .subsys = "fs", .parse = parse_file, .exec = exec_file },
	{ .name = "truncate", .subsys = "fs", .parse = parse_truncate, .exec = exec_truncate },
	{ .name = "punch", .subsys = "fs", .parse = parse_punch, .exec = exec_punch },
	{ 0 },
};
