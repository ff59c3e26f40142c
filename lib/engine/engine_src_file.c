/*
 * engine_src_file.c - the file source: an append-only input file, or a
 * directory of such files read in name order.
 *
 * Positions are (file name, byte offset), like Kafka offsets, so a batch
 * can be replayed by seeking back.  Lines end with '\n' (a '\r' before
 * it is dropped).  With --follow the source waits at the end for the
 * file to grow, hands out only complete lines, and moves to the next
 * file of a directory once one appears; without it the last line may
 * lack its newline.  A line longer than ENG_LINE_MAX is handed out as
 * too_long (a malformed line), never buffered whole.  Memory: one read
 * buffer; a directory is scanned for "the next name" with readdir, never
 * listed whole.  The input is a local path, read with POSIX calls: it is
 * the job's input, not a store.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "engine.h"

#define FBUF (256 * 1024)

struct fsrc {
	struct eng_source base;
	char *path;		/* the file or the directory */
	int is_dir;
	int follow;
	int fd;			/* current file, -1 none */
	char cur[CKPT_NAME_MAX];	/* current file in a directory */
	char *buf;		/* FBUF + ENG_LINE_MAX bytes */
	size_t cap;
	size_t head, tail;	/* unread bytes are buf[head..tail) */
	uint64_t buf_off;	/* file offset of buf[tail] */
	int skipping;		/* inside a too-long line */
	int eof;		/* last read returned 0 */
};

static int
fsrc_fail(struct fsrc *s, const char *what, struct ckpt_error *err)
{
	return ckpt_error_set_errno(err, errno, "cannot %s '%s%s%s'", what,
	    s->path, s->is_dir ? "/" : "", s->is_dir ? s->cur : "");
}

/* Finds the first regular file named after `after` (NULL: first). */
static int
next_name(struct fsrc *s, const char *after, char *out, int *found,
    struct ckpt_error *err)
{
	DIR *d = opendir(s->path);
	struct dirent *de;

	*found = 0;
	if (d == NULL)
		return ckpt_error_set_errno(err, errno,
		    "cannot read input directory '%s'", s->path);
	while ((de = readdir(d)) != NULL) {
		char full[4096];
		struct stat sb;

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= CKPT_NAME_MAX)
			continue;
		if (after != NULL && strcmp(de->d_name, after) <= 0)
			continue;
		if (*found && strcmp(de->d_name, out) >= 0)
			continue;
		snprintf(full, sizeof(full), "%s/%s", s->path, de->d_name);
		if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		strcpy(out, de->d_name);
		*found = 1;
	}
	closedir(d);
	return CKPT_OK;
}

static int
open_cur(struct fsrc *s, uint64_t off, struct ckpt_error *err)
{
	char full[4096];
	const char *p = s->path;
	struct stat sb;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->is_dir) {
		snprintf(full, sizeof(full), "%s/%s", s->path, s->cur);
		p = full;
	}
	s->fd = open(p, O_RDONLY);
	if (s->fd < 0)
		return fsrc_fail(s, "open input", err);
	if (fstat(s->fd, &sb) != 0)
		return fsrc_fail(s, "stat input", err);
	if ((uint64_t)sb.st_size < off)
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "cannot resume from input '%s%s%s': it has %lld bytes, "
		    "the checkpoint read %" PRIu64 " (was it truncated or "
		    "replaced?)", s->path, s->is_dir ? "/" : "",
		    s->is_dir ? s->cur : "", (long long)sb.st_size, off);
	if (lseek(s->fd, (off_t)off, SEEK_SET) < 0)
		return fsrc_fail(s, "seek in input", err);
	s->head = s->tail = 0;
	s->buf_off = off;
	s->skipping = 0;
	s->eof = 0;
	return CKPT_OK;
}

/* Reads more bytes after tail; *got 0 at end of file. */
static int
fill(struct fsrc *s, size_t *got, struct ckpt_error *err)
{
	ssize_t n;

	if (s->head > 0 && (s->tail == s->cap || s->head == s->tail)) {
		memmove(s->buf, s->buf + s->head, s->tail - s->head);
		s->tail -= s->head;
		s->head = 0;
	}
	*got = 0;
	if (s->tail == s->cap)
		return CKPT_OK;
	do
		n = read(s->fd, s->buf + s->tail, s->cap - s->tail);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fsrc_fail(s, "read input", err);
	s->tail += (size_t)n;
	s->buf_off += (uint64_t)n;
	*got = (size_t)n;
	s->eof = n == 0;
	return CKPT_OK;
}

/* At the end of the current file: move to the next one if there is. */
static int
advance_file(struct fsrc *s, int *moved, struct ckpt_error *err)
{
	char nx[CKPT_NAME_MAX];
	int found;

	*moved = 0;
	if (!s->is_dir)
		return CKPT_OK;
	if (next_name(s, s->cur[0] ? s->cur : NULL, nx, &found, err) != 0)
		return CKPT_FAILED;
	if (!found)
		return CKPT_OK;
	/* a partial last line of a finished file is still a line */
	strcpy(s->cur, nx);
	strcpy(s->base.pos.name, nx);
	s->base.pos.off = 0;
	*moved = 1;
	return open_cur(s, 0, err);
}

static int
fsrc_next(struct eng_source *src, struct eng_line *out, int *done,
    struct ckpt_error *err)
{
	struct fsrc *s = (struct fsrc *)src;

	*done = 0;
	for (;;) {
		char *nl = NULL;
		size_t got;
		int moved;

		if (s->fd < 0) {
			if (advance_file(s, &moved, err) != 0)
				return CKPT_FAILED;
			if (!moved) {
				*done = !s->follow;
				return CKPT_EOF;
			}
		}
		if (s->tail > s->head)
			nl = memchr(s->buf + s->head, '\n', s->tail - s->head);
		if (nl != NULL) {
			size_t len = (size_t)(nl - (s->buf + s->head));

			out->data = s->buf + s->head;
			out->len = len;
			out->too_long = s->skipping || len > ENG_LINE_MAX;
			if (out->too_long)
				out->len = 0;
			else if (len > 0 && out->data[len - 1] == '\r')
				out->len--;
			src->pos.off += len + 1;
			src->pos.rec++;
			s->head += len + 1;
			s->skipping = 0;
			return CKPT_OK;
		}
		if (s->tail - s->head > ENG_LINE_MAX) {
			/* drop the bytes of a too-long line, remember it */
			src->pos.off += s->tail - s->head;
			s->head = s->tail;
			s->skipping = 1;
		}
		if (fill(s, &got, err) != 0)
			return CKPT_FAILED;
		if (got > 0)
			continue;
		/* end of the current file */
		if (s->is_dir) {
			char nx[CKPT_NAME_MAX];
			int found;

			if (next_name(s, s->cur, nx, &found, err) != 0)
				return CKPT_FAILED;
			if (!found && s->follow) {
				*done = 0;
				return CKPT_EOF;
			}
		} else if (s->follow) {
			return CKPT_EOF;
		}
		if (s->tail > s->head || s->skipping) {
			/* a last line without its newline */
			size_t len = s->tail - s->head;

			out->data = s->buf + s->head;
			out->len = len;
			out->too_long = s->skipping || len > ENG_LINE_MAX;
			if (out->too_long)
				out->len = 0;
			else if (len > 0 && out->data[len - 1] == '\r')
				out->len--;
			src->pos.off += len;
			src->pos.rec++;
			s->head = s->tail;
			s->skipping = 0;
			return CKPT_OK;
		}
		if (!s->is_dir) {
			*done = 1;
			return CKPT_EOF;
		}
		if (advance_file(s, &moved, err) != 0)
			return CKPT_FAILED;
		if (!moved) {
			*done = 1;
			return CKPT_EOF;
		}
	}
}

static int
fsrc_seek(struct eng_source *src, const struct eng_pos *pos,
    struct ckpt_error *err)
{
	struct fsrc *s = (struct fsrc *)src;

	src->pos = *pos;
	if (s->is_dir) {
		if (pos->name[0] == '\0') {
			/* nothing read yet: the first file when there is one */
			if (s->fd >= 0)
				close(s->fd);
			s->fd = -1;
			s->cur[0] = '\0';
			return CKPT_OK;
		}
		if (strchr(pos->name, '/') != NULL || pos->name[0] == '.')
			return ckpt_error_set(err, CKPT_E_FORMAT,
			    "bad input position: file name '%s'", pos->name);
		strcpy(s->cur, pos->name);
	}
	return open_cur(s, pos->off, err);
}

static void
fsrc_close(struct eng_source *src)
{
	struct fsrc *s = (struct fsrc *)src;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s->path);
	free(s);
}

static const struct eng_source_ops fsrc_ops = {
	.name = "file",
	.next = fsrc_next,
	.seek = fsrc_seek,
	.wait = NULL,
	.release = NULL,
	.close = fsrc_close,
};

int
eng_source_file_open(struct ckpt_ctx *ctx, const char *path, int follow,
    struct eng_source **out, struct ckpt_error *err)
{
	struct fsrc *s;
	struct stat sb;

	*out = NULL;
	if (stat(path, &sb) != 0)
		return ckpt_error_set_errno(err, errno,
		    "cannot open input '%s'", path);
	if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot read input '%s': not a file or directory", path);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open input '%s': out of memory", path);
	s->base.ops = &fsrc_ops;
	s->base.ctx = ctx;
	s->fd = -1;
	s->follow = follow;
	s->is_dir = S_ISDIR(sb.st_mode);
	s->cap = FBUF + ENG_LINE_MAX + 1;
	s->path = strdup(path);
	s->buf = malloc(s->cap);
	if (s->path == NULL || s->buf == NULL) {
		fsrc_close(&s->base);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open input '%s': out of memory", path);
	}
	if (fsrc_seek(&s->base, &s->base.pos, err) != 0) {
		fsrc_close(&s->base);
		return CKPT_FAILED;
	}
	*out = &s->base;
	return CKPT_OK;
}
