// SPDX-License-Identifier: MIT
/*
 * exec_file.c - files of the memory file system: `file tmpfs:PATH SIZE
 * [DATA]` creates one (the first mounts the run's tmpfs), `truncate` sets
 * its size (zapping mappings beyond the new end), `punch` deallocates a
 * hole. The runner keeps each file open until the end of the run, as a
 * process holding its descriptor would, so mappings and expectations can
 * name it; then it closes them and unmounts. fsdax files are refused at
 * parse time until the DAX file system exists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zonedev/tmpfs.h>

#include "runner.h"

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
int zr_exec_file(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
int zr_exec_truncate(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
int zr_exec_punch(struct zr_ctx *ctx, const struct zr_cmd *cmd)
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
