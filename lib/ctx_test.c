/*
 * ctx_test.c - test-only hooks: hit trace, power-loss journal, bugs.
 *
 * See ctx_test.h for the three environment variables.  The power-loss
 * journal models what a power cut keeps on a POSIX file system:
 *
 *  - file data reaches the disk with fsync(file); data written since
 *    the last fsync is lost (the file is cut back to its durable size);
 *  - a directory entry made, replaced or removed by rename, link, mkdir
 *    or unlink reaches the disk with fsync(directory); until then the
 *    change is undone (a replaced or unlinked file is kept under a
 *    hidden ".pl" temp name so that it can come back).
 *
 * Entries are kept in order and dropped as fsyncs make them durable, so
 * a correct writer keeps the journal short.  At the crash point the
 * data entries are cut first (by their current names), then namespace
 * entries are undone newest first.  Directories are named by absolute
 * path (from /proc/self/fd), which the store's descriptor-relative
 * calls do not need otherwise.
 *
 * It does not model the page cache reordering writes inside one file,
 * nor metadata-only updates (mtime); it does not journal the temp
 * files' O_CREAT (a temp left behind is garbage by name either way).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctx_test.h"

#define PL_PATH 4096

enum pl_type { PL_DATA, PL_RENAME, PL_LINK, PL_MKDIR, PL_RMDIR, PL_UNLINK };

struct pl_entry {
	enum pl_type type;
	unsigned pending;	/* 1: dir_a not yet fsynced, 2: dir_b */
	char *dir_a, *dir_b;
	char *path;		/* DATA: the file; RENAME: from; others */
	char *path2;		/* RENAME, LINK: the new name */
	char *backup;		/* the replaced or unlinked file, kept */
	dev_t dev;		/* DATA */
	ino_t ino;
	off_t size;		/* DATA: durable size */
	struct pl_entry *prev, *next;
};

struct ckpt_pl_journal {
	struct pl_entry *head, *tail;
	unsigned long counter;
};

/* ---- setup ---- */

static const struct {
	const char *name;
	unsigned bit;
} bug_names[] = {
	{ "commit-before-state", CKPT_BUG_COMMIT_BEFORE_STATE },
	{ "skip-dir-fsync", CKPT_BUG_SKIP_DIR_FSYNC },
	{ "skip-all-dir-fsync", CKPT_BUG_SKIP_ALL_DIR_FSYNC },
};

static int
hooks(struct ckpt_ctx *ctx, struct ckpt_error *err)
{
	if (ctx->test != NULL)
		return CKPT_OK;
	ctx->test = calloc(1, sizeof(*ctx->test));
	if (ctx->test == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot allocate the test hooks: out of memory");
	ctx->test->trace_fd = -1;
	return CKPT_OK;
}

int
ckpt_testhooks_init(struct ckpt_ctx *ctx, struct ckpt_error *err)
{
	const char *v;

	v = getenv("CKPT_TRACE_HITS");
	if (v != NULL && *v != '\0') {
		if (hooks(ctx, err) != CKPT_OK)
			return CKPT_FAILED;
		ctx->test->trace_fd = open(v,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (ctx->test->trace_fd < 0)
			return ckpt_error_set_errno(err, errno,
			    "cannot open CKPT_TRACE_HITS file '%s'", v);
	}
	v = getenv("CKPT_POWER_LOSS");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "bad CKPT_POWER_LOSS '%s': want 1 or 0", v);
		if (strcmp(v, "1") == 0 && ckpt_crash_armed(ctx)) {
			if (hooks(ctx, err) != CKPT_OK)
				return CKPT_FAILED;
			ctx->test->pl = calloc(1, sizeof(*ctx->test->pl));
			if (ctx->test->pl == NULL)
				return ckpt_error_set(err, CKPT_E_NOMEM,
				    "cannot allocate the power-loss journal: out of memory");
		}
	}
#ifdef CKPT_TEST_HOOKS
	v = getenv("CKPT_TEST_BUG");
	if (v != NULL && *v != '\0') {
		size_t i;

		for (i = 0; i < sizeof(bug_names) / sizeof(bug_names[0]); i++)
			if (strcmp(bug_names[i].name, v) == 0)
				break;
		if (i == sizeof(bug_names) / sizeof(bug_names[0]))
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "bad CKPT_TEST_BUG '%s': want commit-before-state, skip-dir-fsync or skip-all-dir-fsync",
			    v);
		if (hooks(ctx, err) != CKPT_OK)
			return CKPT_FAILED;
		ctx->test->bugs |= bug_names[i].bit;
	}
#else
	(void)bug_names;
#endif
	return CKPT_OK;
}

static void
entry_free(struct pl_entry *e)
{
	free(e->dir_a);
	free(e->dir_b);
	free(e->path);
	free(e->path2);
	free(e->backup);
	free(e);
}

void
ckpt_testhooks_free(struct ckpt_ctx *ctx)
{
	struct pl_entry *e, *n;

	if (ctx == NULL || ctx->test == NULL)
		return;
	if (ctx->test->trace_fd >= 0)
		close(ctx->test->trace_fd);
	if (ctx->test->pl != NULL) {
		for (e = ctx->test->pl->head; e != NULL; e = n) {
			n = e->next;
			entry_free(e);
		}
		free(ctx->test->pl);
	}
	free(ctx->test);
	ctx->test = NULL;
}

void
ckpt_trace_hit(struct ckpt_ctx *ctx, const char *kind, const char *name)
{
	char line[160];
	int n;

	if (ctx == NULL || ctx->test == NULL || ctx->test->trace_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s\n", kind, name);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(ctx->test->trace_fd, line, (size_t)n) != n) {
		/* a short trace only makes the planner pick fewer cases */
	}
}

int
ckpt_test_bug(const struct ckpt_ctx *ctx, unsigned bug)
{
#ifdef CKPT_TEST_HOOKS
	return ctx != NULL && ctx->test != NULL &&
	    (ctx->test->bugs & bug) != 0;
#else
	(void)ctx;
	(void)bug;
	return 0;
#endif
}

/* ---- the journal ---- */

/* Absolute path of an open descriptor, or NULL. */
static char *
fd_path(int fd)
{
	char link[64], buf[PL_PATH];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static struct pl_entry *
add(struct ckpt_pl_journal *j, enum pl_type type)
{
	struct pl_entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->type = type;
	e->prev = j->tail;
	if (j->tail != NULL)
		j->tail->next = e;
	else
		j->head = e;
	j->tail = e;
	return e;
}

static void
drop(struct ckpt_pl_journal *j, struct pl_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		j->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		j->tail = e->prev;
	/* durable: the replaced or unlinked file is gone for good */
	if (e->backup != NULL)
		unlink(e->backup);
	entry_free(e);
}

/*
 * Keeps the file at dirfd/name alive under a hidden temp name in the
 * same directory (a hard link); returns its absolute path or NULL when
 * there is no such file.
 */
static char *
keep_aside(struct ckpt_pl_journal *j, int dirfd, const char *dir,
    const char *name)
{
	char bname[96];
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    S_ISDIR(sb.st_mode))
		return NULL;
	snprintf(bname, sizeof(bname), ".pl.%ld.%lu.tmp", (long)getpid(),
	    j->counter++);
	if (linkat(dirfd, name, dirfd, bname, 0) != 0)
		return NULL;
	return join(dir, bname);
}

/* Data entries follow their file to its new name. */
static void
rename_data(struct ckpt_pl_journal *j, const char *from, const char *to)
{
	for (struct pl_entry *e = j->head; e != NULL; e = e->next) {
		char *p;

		if (e->type != PL_DATA || strcmp(e->path, from) != 0)
			continue;
		p = strdup(to);
		if (p != NULL) {
			free(e->path);
			e->path = p;
		}
	}
}

void
ckpt_pl_note_write(struct ckpt_ctx *ctx, int fd)
{
	struct ckpt_pl_journal *j = ctx->test->pl;
	struct pl_entry *e;
	struct stat sb;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return;
	for (e = j->head; e != NULL; e = e->next)
		if (e->type == PL_DATA && e->dev == sb.st_dev &&
		    e->ino == sb.st_ino)
			return;
	e = add(j, PL_DATA);
	if (e == NULL)
		return;
	e->dev = sb.st_dev;
	e->ino = sb.st_ino;
	e->size = sb.st_size;
	e->path = fd_path(fd);
}

void
ckpt_pl_note_fsync(struct ckpt_ctx *ctx, int fd)
{
	struct ckpt_pl_journal *j = ctx->test->pl;
	struct pl_entry *e, *n;
	struct stat sb;
	char *dir;

	if (fstat(fd, &sb) != 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		for (e = j->head; e != NULL; e = n) {
			n = e->next;
			if (e->type == PL_DATA && e->dev == sb.st_dev &&
			    e->ino == sb.st_ino)
				drop(j, e);
		}
		return;
	}
	dir = fd_path(fd);
	if (dir == NULL)
		return;
	for (e = j->head; e != NULL; e = n) {
		n = e->next;
		if (e->type == PL_DATA)
			continue;
		if (e->dir_a != NULL && strcmp(e->dir_a, dir) == 0)
			e->pending &= ~1u;
		if (e->dir_b != NULL && strcmp(e->dir_b, dir) == 0)
			e->pending &= ~2u;
		if (e->pending == 0)
			drop(j, e);
	}
	free(dir);
}

int
ckpt_pl_renameat(struct ckpt_ctx *ctx, int ofd, const char *from, int nfd,
    const char *to)
{
	struct ckpt_pl_journal *j = ctx->test->pl;
	char *da = fd_path(ofd), *db = fd_path(nfd), *bak = NULL;
	struct pl_entry *e;
	int rc, saved;

	if (db != NULL)
		bak = keep_aside(j, nfd, db, to);
	rc = renameat(ofd, from, nfd, to);
	saved = errno;
	if (rc != 0 || da == NULL || db == NULL ||
	    (e = add(j, PL_RENAME)) == NULL) {
		if (rc != 0 && bak != NULL)
			unlink(bak);
		free(bak);
		free(da);
		free(db);
		errno = saved;
		return rc;
	}
	e->path = join(da, from);
	e->path2 = join(db, to);
	e->backup = bak;
	e->pending = strcmp(da, db) == 0 ? 1u : 3u;
	e->dir_a = da;
	e->dir_b = db;
	if (e->path != NULL && e->path2 != NULL)
		rename_data(j, e->path, e->path2);
	return 0;
}

int
ckpt_pl_linkat(struct ckpt_ctx *ctx, int ofd, const char *from, int nfd,
    const char *to)
{
	struct ckpt_pl_journal *j = ctx->test->pl;
	struct pl_entry *e;
	char *da, *src;
	int rc = linkat(ofd, from, nfd, to, 0), saved = errno;

	if (rc != 0)
		return rc;
	e = add(j, PL_LINK);
	if (e != NULL) {
		e->dir_a = fd_path(nfd);
		e->path2 = e->dir_a ? join(e->dir_a, to) : NULL;
		e->pending = 1;
		da = fd_path(ofd);
		src = da ? join(da, from) : NULL;
		if (src != NULL && e->path2 != NULL)
			rename_data(j, src, e->path2);
		free(src);
		free(da);
	}
	errno = saved;
	return 0;
}

int
ckpt_pl_mkdirat(struct ckpt_ctx *ctx, int fd, const char *name)
{
	struct ckpt_pl_journal *j = ctx->test->pl;
	struct pl_entry *e;
	int rc = mkdirat(fd, name, 0755);

	if (rc != 0)
		return rc;
	e = add(j, PL_MKDIR);
	if (e != NULL) {
		e->dir_a = fd_path(fd);
		e->path = e->dir_a ? join(e->dir_a, name) : NULL;
		e->pending = 1;
	}
	return 0;
}

int
ckpt_pl_unlinkat(struct ckpt_ctx *ctx, int fd, const char *name, int flags)
{
	struct ckpt_pl_journal *j = ctx->test->pl;
	char *dir = fd_path(fd), *bak = NULL;
	struct pl_entry *e;
	int rc, saved;

	if (dir != NULL && !(flags & AT_REMOVEDIR))
		bak = keep_aside(j, fd, dir, name);
	rc = unlinkat(fd, name, flags);
	saved = errno;
	if (rc != 0 || dir == NULL || (e = add(j, (flags & AT_REMOVEDIR) ?
	    PL_RMDIR : PL_UNLINK)) == NULL) {
		if (bak != NULL)
			unlink(bak);
		free(bak);
		free(dir);
		errno = saved;
		return rc;
	}
	e->path = join(dir, name);
	e->dir_a = dir;
	e->backup = bak;
	e->pending = 1;
	return 0;
}

/* rm -r of a directory made while the power was "on". */
static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	struct stat sb;

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *p;

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			p = join(path, de->d_name);
			if (p == NULL)
				continue;
			if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
				rm_tree(p);
			else
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(path);
}

void
ckpt_pl_cut(struct ckpt_ctx *ctx)
{
	struct ckpt_pl_journal *j;
	struct pl_entry *e;

	if (!ckpt_pl_on(ctx))
		return;
	j = ctx->test->pl;
	for (e = j->head; e != NULL; e = e->next)
		if (e->type == PL_DATA && e->path != NULL)
			if (truncate(e->path, e->size) != 0) {
				/* gone already: nothing to cut */
			}
	for (e = j->tail; e != NULL; e = e->prev) {
		switch (e->type) {
		case PL_RENAME:
			if (e->path != NULL && e->path2 != NULL)
				(void)rename(e->path2, e->path);
			if (e->backup != NULL && e->path2 != NULL)
				(void)rename(e->backup, e->path2);
			break;
		case PL_LINK:
			if (e->path2 != NULL)
				(void)unlink(e->path2);
			break;
		case PL_MKDIR:
			if (e->path != NULL)
				rm_tree(e->path);
			break;
		case PL_RMDIR:
			if (e->path != NULL)
				(void)mkdir(e->path, 0755);
			break;
		case PL_UNLINK:
			if (e->backup != NULL && e->path != NULL)
				(void)rename(e->backup, e->path);
			break;
		case PL_DATA:
			break;
		}
	}
}
