/*
 * store_file.c - the local-disk backend: a directory on a POSIX file
 * system.
 *
 * Paths are resolved one component at a time from a descriptor of the
 * root with O_NOFOLLOW, so nothing inside the store is ever reached
 * through a symbolic link (the root itself may be one: the user named
 * it).  Descriptors of the directories so opened are cached (a few, by
 * store path, least recently used out), so that a file is reached with
 * one openat or fstatat below its directory's descriptor: listing and
 * reading a checkpoint of many batches costs about what readdir + stat
 * cost.  The cache forgets a directory this handle removes; one that
 * another process removes is noticed (its descriptor has no links) when
 * a lookup through it fails, and opened again.  Writes are durable and atomic: a temp file
 * ".<name>.<pid>.<counter>.tmp" beside the target, fsync, rename (or
 * link + unlink for a conditional create), fsync of the directory; new
 * directories are fsynced into their parent.  The lock is a file "lock"
 * in the root holding one JSON line, created by link(2) so that it is
 * never seen half-written.
 *
 * Every write, fsync, rename, link, mkdir and unlink goes through one
 * wrapper per syscall below, which consults the context's fault plan
 * (CKPT_FAULT).  It does not watch the directory for changes made by
 * others; directories inside the store renamed by another process
 * while a handle is open are followed to where they went (ckpt itself
 * never renames a directory).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "store.h"
#include "../ctx.h"
#include "../ctx_test.h"

#define FS_WBUF (64 * 1024)		/* write buffer of a wfile */
#define FS_LOCK_NAME "lock"
#define FS_LOCK_MAX 4096		/* a lock file is at most this big */
#define FS_LOCK_CORRUPT_MS 5000		/* unreadable lock: taken over after */
#define FS_MSG_PATH 1100		/* path buffer for messages */

#define FS_DCACHE 16		/* directory descriptors kept open */
#define FS_DPATH 256		/* longest directory path cached */

/* One cached directory descriptor (see fs_dir_get). */
struct fs_dslot {
	int fd;			/* -1: free */
	unsigned refs;		/* borrowers now */
	int dead;		/* dropped while borrowed: the last put closes */
	unsigned long used;	/* for least recently used eviction */
	char path[FS_DPATH];
};

struct fs_store {
	int rootfd;
	char *root;		/* the directory, for messages */
	pthread_mutex_t mu;	/* guards clock and dc: handles are shared */
	unsigned long clock;
	struct fs_dslot dc[FS_DCACHE];
	struct fs_syncpool *sync;	/* group commit's fsyncs; NULL: in turn */
};

struct fs_rfile {
	int fd;
	char *path;		/* in the store, for messages */
};

struct fs_wfile {
	int dirfd;		/* the target's directory */
	int fd;			/* the temp file, -1 once closed */
	int crash_points;	/* call the store.* crash points */
	char base[CKPT_NAME_MAX];
	char tmp[CKPT_NAME_MAX + 64];
	char *full;		/* target path, for messages */
	unsigned char *buf;
	size_t blen;
};

struct fs_lock {
	dev_t dev;
	ino_t ino;
	struct ckpt_lock_info info;
};

static struct fs_store *
fs(struct ckpt_store *st)
{
	return st->priv;
}

/* Root-joined path for messages ("root/path", or root for ""). */
static void
fs_full(struct ckpt_store *st, const char *path, char *buf, size_t n)
{
	const char *root = fs(st)->root;
	size_t rl = strlen(root);

	if (path[0] == '\0')
		snprintf(buf, n, "%s", root);
	else if (rl > 0 && root[rl - 1] == '/')
		snprintf(buf, n, "%s%s", root, path);
	else
		snprintf(buf, n, "%s/%s", root, path);
}

static char *
fs_full_dup(struct ckpt_store *st, const char *path)
{
	char buf[FS_MSG_PATH];

	fs_full(st, path, buf, sizeof(buf));
	return strdup(buf);
}

/* ------------------------------------------------------------------ */
/* Syscall wrappers                                                     */
/* ------------------------------------------------------------------ */

/*
 * Every write, fsync, rename, link, mkdir and unlink of this backend
 * goes through exactly one of these.  Each first asks the fault plan
 * whether to fail this call (CKPT_FAULT), then makes the call.
 *
 * POWER-LOSS MODE goes here, and only here: record in the context each
 * effect that is not yet durable (data written to a file since its last
 * fsync; entries renamed, linked, made or unlinked in a directory since
 * that directory's last fsync), forget what an fsync makes durable, and
 * let ckpt_crash_point() undo every recorded effect before it raises
 * SIGKILL.  No caller outside this block needs to change.  The journal
 * is ctx_test.c's (CKPT_POWER_LOSS=1): in that mode the wrappers hand
 * the call to its ckpt_pl_* twin, which makes it and records it.
 */

static ssize_t
sys_write(struct ckpt_ctx *ctx, int fd, const void *buf, size_t n)
{
	int e = ckpt_fault_hit(ctx, CKPT_FOP_WRITE);

	if (ckpt_pl_on(ctx) && (e == 0 || e == CKPT_FAULT_SHORT))
		ckpt_pl_note_write(ctx, fd);
	if (e == CKPT_FAULT_SHORT) {
		if (n / 2 == 0) {
			errno = ENOSPC;
			return -1;
		}
		return write(fd, buf, n / 2);
	}
	if (e != 0) {
		errno = e;
		return -1;
	}
	return write(fd, buf, n);
}

static int
sys_fsync(struct ckpt_ctx *ctx, int fd)
{
	int e = ckpt_fault_hit(ctx, CKPT_FOP_FSYNC);

	if (e != 0) {
		errno = e;
		return -1;
	}
	e = fsync(fd);
	if (e == 0 && ckpt_pl_on(ctx))
		ckpt_pl_note_fsync(ctx, fd);
	return e;
}

static int
sys_rename(struct ckpt_ctx *ctx, int ofd, const char *from, int nfd,
    const char *to)
{
	int e = ckpt_fault_hit(ctx, CKPT_FOP_RENAME);

	if (e != 0) {
		errno = e;
		return -1;
	}
	if (ckpt_pl_on(ctx))
		return ckpt_pl_renameat(ctx, ofd, from, nfd, to);
	return renameat(ofd, from, nfd, to);
}

static int
sys_link(struct ckpt_ctx *ctx, int ofd, const char *from, int nfd,
    const char *to)
{
	int e = ckpt_fault_hit(ctx, CKPT_FOP_LINK);

	if (e != 0) {
		errno = e;
		return -1;
	}
	if (ckpt_pl_on(ctx))
		return ckpt_pl_linkat(ctx, ofd, from, nfd, to);
	return linkat(ofd, from, nfd, to, 0);
}

static int
sys_mkdir(struct ckpt_ctx *ctx, int fd, const char *name)
{
	int e = ckpt_fault_hit(ctx, CKPT_FOP_MKDIR);

	if (e != 0) {
		errno = e;
		return -1;
	}
	if (ckpt_pl_on(ctx))
		return ckpt_pl_mkdirat(ctx, fd, name);
	return mkdirat(fd, name, 0755);
}

static int
sys_unlink(struct ckpt_ctx *ctx, int fd, const char *name, int flags)
{
	int e = ckpt_fault_hit(ctx, CKPT_FOP_UNLINK);

	if (e != 0) {
		errno = e;
		return -1;
	}
	if (ckpt_pl_on(ctx))
		return ckpt_pl_unlinkat(ctx, fd, name, flags);
	return unlinkat(fd, name, flags);
}

/* ------------------------------------------------------------------ */
/* Resolving paths without following symlinks                          */
/* ------------------------------------------------------------------ */

/* Passes a locally caught error on to the caller's err. */
static int
err_pass(struct ckpt_error *err, const struct ckpt_error *tmp)
{
	if (err != NULL && err->msg[0] == '\0')
		*err = *tmp;
	return CKPT_FAILED;
}

static int
err_symlink(struct ckpt_error *err, const char *full)
{
	return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
	    "'%s' is a symbolic link: not followed", full);
}

#define FS_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | \
	O_CLOEXEC)

/*
 * Opens directory comp inside dirfd (prefix is its store path, for
 * messages) without following a symlink.  With create, a missing
 * directory is made and fsynced into its parent.  *out is new.
 */
static int
fs_open_comp(struct ckpt_store *st, int dirfd, const char *comp,
    const char *prefix, int create, int *out, struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	struct stat sb;
	int e;

	for (int tries = 0;; tries++) {
		*out = openat(dirfd, comp, FS_DIR_FLAGS);
		if (*out >= 0)
			return CKPT_OK;
		e = errno;
		fs_full(st, prefix, full, sizeof(full));
		if (e == ENOENT && create && tries < 3) {
			if (sys_mkdir(st->ctx, dirfd, comp) != 0 &&
			    errno != EEXIST)
				return ckpt_error_set_errno(err, errno,
				    "cannot create directory '%s'", full);
			if (sys_fsync(st->ctx, dirfd) != 0)
				return ckpt_error_set_errno(err, errno,
				    "cannot fsync the directory of '%s'",
				    full);
			continue;
		}
		if ((e == ELOOP || e == ENOTDIR) &&
		    fstatat(dirfd, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode))
			return err_symlink(err, full);
		return ckpt_error_set_errno(err, e, "cannot open '%s'", full);
	}
}

/*
 * The directory cache.  A borrowed directory descriptor (struct
 * fs_dref) is the root's, a cached one, or one opened for this borrower
 * alone when the cache is full of borrowed entries; fs_dir_put returns
 * it either way.  Entries are found by their store path and evicted
 * least recently used.  fs_dcache_drop forgets a path and everything
 * below it (after removing a directory); a descriptor still borrowed is
 * closed by its last borrower.
 */
enum { FS_DREF_OWN = -1, FS_DREF_ROOT = -2 };

struct fs_dref {
	int fd;
	int slot;		/* cache slot, or FS_DREF_OWN / _ROOT */
};

static int
fs_dcache_find(struct fs_store *f, const char *path, size_t len)
{
	for (int i = 0; i < FS_DCACHE; i++) {
		struct fs_dslot *d = &f->dc[i];

		if (d->fd >= 0 && !d->dead && strlen(d->path) == len &&
		    memcmp(d->path, path, len) == 0)
			return i;
	}
	return -1;
}

/* Caches fd as path (taken over) and lends it to ref. */
static void
fs_dcache_add(struct fs_store *f, const char *path, size_t len, int fd,
    struct fs_dref *ref)
{
	int i, victim = -1;

	ref->fd = fd;
	ref->slot = FS_DREF_OWN;
	if (len >= FS_DPATH)
		return;
	pthread_mutex_lock(&f->mu);
	i = fs_dcache_find(f, path, len);
	if (i >= 0) {
		/* another thread was first: borrow its descriptor */
		f->dc[i].refs++;
		f->dc[i].used = ++f->clock;
		pthread_mutex_unlock(&f->mu);
		close(fd);
		ref->fd = f->dc[i].fd;
		ref->slot = i;
		return;
	}
	for (i = 0; i < FS_DCACHE; i++) {
		struct fs_dslot *d = &f->dc[i];

		if (d->fd < 0) {
			victim = i;
			break;
		}
		if (d->refs == 0 && (victim < 0 ||
		    d->used < f->dc[victim].used))
			victim = i;
	}
	if (victim >= 0) {
		struct fs_dslot *d = &f->dc[victim];

		if (d->fd >= 0)
			close(d->fd);
		d->fd = fd;
		d->refs = 1;
		d->dead = 0;
		d->used = ++f->clock;
		memcpy(d->path, path, len);
		d->path[len] = '\0';
		ref->slot = victim;
	}
	pthread_mutex_unlock(&f->mu);
}

static void
fs_dir_put(struct ckpt_store *st, struct fs_dref *ref)
{
	struct fs_store *f = fs(st);

	if (ref->fd < 0)
		return;
	if (ref->slot == FS_DREF_OWN) {
		close(ref->fd);
	} else if (ref->slot >= 0) {
		struct fs_dslot *d = &f->dc[ref->slot];

		pthread_mutex_lock(&f->mu);
		if (--d->refs == 0 && d->dead) {
			close(d->fd);
			d->fd = -1;
			d->dead = 0;
		}
		pthread_mutex_unlock(&f->mu);
	}
	ref->fd = -1;
}

/* Forgets path and every directory below it ("" forgets everything). */
static void
fs_dcache_drop(struct fs_store *f, const char *path)
{
	size_t len = strlen(path);

	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < FS_DCACHE; i++) {
		struct fs_dslot *d = &f->dc[i];

		if (d->fd < 0 || d->dead || (len > 0 &&
		    (strncmp(d->path, path, len) != 0 ||
		    (d->path[len] != '\0' && d->path[len] != '/'))))
			continue;
		if (d->refs > 0) {
			d->dead = 1;
			continue;
		}
		close(d->fd);
		d->fd = -1;
	}
	pthread_mutex_unlock(&f->mu);
}

static int fs_dir_stale(struct ckpt_store *st, const struct fs_dref *ref);

/*
 * Borrows a descriptor of the directory made of the first len bytes of
 * path (components of a validated path; 0 is the root), opening what
 * is not cached one component at a time below its parent, never
 * following a symlink.  With create, missing directories are made,
 * each fsynced into its parent.
 */
static int
fs_dir_get(struct ckpt_store *st, const char *path, size_t len, int create,
    struct fs_dref *ref, struct ckpt_error *err)
{
	struct fs_store *f = fs(st);
	char comp[CKPT_NAME_MAX], prefix[4096];
	struct fs_dref parent;
	size_t plen;
	int i, fd;

	ref->fd = -1;
	ref->slot = FS_DREF_OWN;
	if (len == 0) {
		ref->fd = f->rootfd;
		ref->slot = FS_DREF_ROOT;
		return CKPT_OK;
	}
	if (len < FS_DPATH) {
		pthread_mutex_lock(&f->mu);
		i = fs_dcache_find(f, path, len);
		if (i >= 0) {
			f->dc[i].refs++;
			f->dc[i].used = ++f->clock;
			ref->fd = f->dc[i].fd;
			ref->slot = i;
		}
		pthread_mutex_unlock(&f->mu);
		if (i >= 0)
			return CKPT_OK;
	}
	for (plen = len; plen > 0 && path[plen - 1] != '/'; plen--)
		;
	if (len - plen >= sizeof(comp) || len >= sizeof(prefix))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot open '%.*s': path too long", (int)len, path);
	memcpy(comp, path + plen, len - plen);
	comp[len - plen] = '\0';
	memcpy(prefix, path, len);
	prefix[len] = '\0';
	for (int attempt = 0;; attempt++) {
		struct ckpt_error tmp = { 0 };

		if (fs_dir_get(st, path, plen > 0 ? plen - 1 : 0, create,
		    &parent, err) != CKPT_OK)
			return CKPT_FAILED;
		i = fs_open_comp(st, parent.fd, comp, prefix, create, &fd,
		    &tmp);
		if (i != CKPT_OK && attempt == 0 &&
		    tmp.kind == CKPT_E_NOTFOUND && fs_dir_stale(st, &parent)) {
			fs_dir_put(st, &parent);
			continue;
		}
		fs_dir_put(st, &parent);
		if (i != CKPT_OK)
			return err_pass(err, &tmp);
		break;
	}
	fs_dcache_add(f, path, len, fd, ref);
	return CKPT_OK;
}

/*
 * After an operation through a cached directory failed with ENOENT
 * (and before a write or fsync through one): 1 when that directory has
 * been removed meanwhile (by another process; it may have been made
 * again), so that the cache is dropped and the caller should try once
 * more, else 0.  One fstat; the root and uncached ones are never stale.
 */
static int
fs_dir_stale(struct ckpt_store *st, const struct fs_dref *ref)
{
	struct stat sb;

	if (ref->slot < 0 || fstat(ref->fd, &sb) != 0 || sb.st_nlink > 0)
		return 0;
	fs_dcache_drop(fs(st), "");
	return 1;
}

/*
 * Borrows the parent directory of path and points *base at path's last
 * component.
 */
static int
fs_walk(struct ckpt_store *st, const char *path, int create,
    struct fs_dref *dir, const char **base, struct ckpt_error *err)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	return fs_dir_get(st, path, slash ? (size_t)(slash - path) : 0,
	    create, dir, err);
}

/*
 * A new descriptor of directory path (the caller closes it): a new open
 * file description, so that readdir offsets are never shared.
 */
static int
fs_open_dir(struct ckpt_store *st, const char *path, int *out,
    struct ckpt_error *err)
{
	struct fs_dref parent;
	const char *base;
	int rc;

	*out = -1;
	if (path[0] == '\0') {
		*out = openat(fs(st)->rootfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (*out < 0)
			return ckpt_error_set_errno(err, errno,
			    "cannot open '%s'", fs(st)->root);
		return CKPT_OK;
	}
	for (int attempt = 0;; attempt++) {
		struct ckpt_error tmp = { 0 };

		if (fs_walk(st, path, 0, &parent, &base, err) != CKPT_OK)
			return CKPT_FAILED;
		rc = fs_open_comp(st, parent.fd, base, path, 0, out, &tmp);
		if (rc != CKPT_OK && attempt == 0 &&
		    tmp.kind == CKPT_E_NOTFOUND && fs_dir_stale(st, &parent)) {
			fs_dir_put(st, &parent);
			continue;
		}
		fs_dir_put(st, &parent);
		return rc == CKPT_OK ? CKPT_OK : err_pass(err, &tmp);
	}
}

static void
fill_stat(struct ckpt_stat *out, const char *name, const struct stat *sb)
{
	size_t n = strlen(name);

	if (n >= sizeof(out->name))
		n = sizeof(out->name) - 1;
	memcpy(out->name, name, n);
	out->name[n] = '\0';
	out->is_dir = S_ISDIR(sb->st_mode) ? 1 : 0;
	out->size = S_ISREG(sb->st_mode) ? (uint64_t)sb->st_size : 0;
	out->mtime_ms = (int64_t)sb->st_mtim.tv_sec * 1000 +
	    sb->st_mtim.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                       */
/* ------------------------------------------------------------------ */

static int
fs_bid(const char *url)
{
	const char *p = url;
	struct stat sb;

	if (strncmp(url, "file://", 7) == 0)
		return 100;
	for (; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (p > url && ((*p >= '0' && *p <= '9') || *p == '+' ||
	    *p == '-' || *p == '.')); p++)
		;
	if (p > url && strncmp(p, "://", 3) == 0)
		return 0;
	{
		static const char *const sfx[] = { ".tar", ".tar.gz",
			".tar.zst", ".tgz", ".zip", NULL };
		size_t n = strlen(url);

		for (int i = 0; sfx[i] != NULL; i++) {
			size_t m = strlen(sfx[i]);

			if (n > m && strcmp(url + n - m, sfx[i]) == 0)
				return stat(url, &sb) == 0 &&
				    S_ISDIR(sb.st_mode) ? 50 : 0;
		}
	}
	return 10;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The local path of a plain path or file:// URL (malloc'd), or NULL. */
static char *
fs_url_path(const char *url, struct ckpt_error *err)
{
	const char *p = url;
	int is_url = strncmp(url, "file://", 7) == 0;
	char *out, *o;

	if (is_url) {
		p = url + 7;
		if (strncmp(p, "localhost/", 10) == 0)
			p += 9;
		if (*p != '/') {
			ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			    "cannot open '%s': file:// URLs must name a local absolute path",
			    url);
			return NULL;
		}
	}
	out = malloc(strlen(p) + 1);
	if (out == NULL) {
		ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", url);
		return NULL;
	}
	for (o = out; *p != '\0'; p++) {
		if (is_url && *p == '%' && hexval(p[1]) >= 0 &&
		    hexval(p[2]) >= 0) {
			*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	if (out[0] == '\0' || strlen(out) >= 4096 - CKPT_NAME_MAX) {
		ckpt_error_set(err, CKPT_E_USAGE, "cannot open '%s': %s",
		    url, out[0] ? "path too long" : "empty path");
		free(out);
		return NULL;
	}
	return out;
}

/* mkdir -p root, fsyncing each new directory into its parent. */
static int
fs_make_root(struct ckpt_store *st, const char *root, struct ckpt_error *err)
{
	char *tmp = strdup(root), *p;
	char *slash;
	int rc = CKPT_OK, pfd, e;

	if (tmp == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot create '%s': out of memory", root);
	for (p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char save = *p;

			*p = '\0';
			if (sys_mkdir(st->ctx, AT_FDCWD, tmp) == 0) {
				slash = strrchr(tmp, '/');
				if (slash == NULL) {
					pfd = open(".", O_RDONLY | O_DIRECTORY |
					    O_CLOEXEC);
				} else if (slash == tmp) {
					pfd = open("/", O_RDONLY | O_DIRECTORY |
					    O_CLOEXEC);
				} else {
					*slash = '\0';
					pfd = open(tmp, O_RDONLY | O_DIRECTORY |
					    O_CLOEXEC);
					*slash = '/';
				}
				if (pfd < 0 || sys_fsync(st->ctx, pfd) != 0) {
					e = errno;
					if (pfd >= 0)
						close(pfd);
					rc = ckpt_error_set_errno(err, e,
					    "cannot fsync the parent of '%s'",
					    tmp);
					break;
				}
				close(pfd);
			} else if (errno != EEXIST) {
				rc = ckpt_error_set_errno(err, errno,
				    "cannot create directory '%s'", tmp);
				break;
			}
			*p = save;
			if (save == '\0')
				break;
		}
	}
	free(tmp);
	return rc;
}

static int
fs_open(struct ckpt_store *st, struct ckpt_error *err)
{
	struct fs_store *f;
	struct stat sb;
	int e;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", st->url);
	f->rootfd = -1;
	for (int i = 0; i < FS_DCACHE; i++)
		f->dc[i].fd = -1;
	if (pthread_mutex_init(&f->mu, NULL) != 0) {
		free(f);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of resources", st->url);
	}
	st->priv = f;
	f->sync = fs_syncpool_new();	/* threads start on first use */
	f->root = fs_url_path(st->url, err);
	if (f->root == NULL)
		goto out_free;
	st->loc = strdup(f->root);
	if (st->loc == NULL) {
		ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", st->url);
		goto out_free;
	}
	if (stat(f->root, &sb) != 0) {
		e = errno;
		if (e != ENOENT || (st->flags & CKPT_STORE_CREATE) == 0) {
			ckpt_error_set_errno(err, e, "cannot open '%s'",
			    st->url);
			goto out_free;
		}
		if (fs_make_root(st, f->root, err) != CKPT_OK)
			goto out_free;
	} else if (!S_ISDIR(sb.st_mode)) {
		ckpt_error_set(err, CKPT_E_NOTCKPT, "'%s' is not a directory",
		    st->url);
		goto out_free;
	}
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->rootfd < 0) {
		e = errno;
		if (e == ENOTDIR)
			ckpt_error_set(err, CKPT_E_NOTCKPT,
			    "'%s' is not a directory", st->url);
		else
			ckpt_error_set_errno(err, e, "cannot open '%s'",
			    st->url);
		goto out_free;
	}
	return CKPT_OK;

out_free:
	fs_syncpool_free(f->sync);
	pthread_mutex_destroy(&f->mu);
	free(f->root);
	free(f);
	st->priv = NULL;
	return CKPT_FAILED;
}

static void
fs_close(struct ckpt_store *st)
{
	struct fs_store *f = fs(st);

	if (f == NULL)
		return;
	for (int i = 0; i < FS_DCACHE; i++)
		if (f->dc[i].fd >= 0)
			close(f->dc[i].fd);
	fs_syncpool_free(f->sync);
	pthread_mutex_destroy(&f->mu);
	if (f->rootfd >= 0)
		close(f->rootfd);
	free(f->root);
	free(f);
	st->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* Stat and list                                                        */
/* ------------------------------------------------------------------ */

static int
fs_stat(struct ckpt_store *st, const char *path, struct ckpt_stat *out,
    struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	const char *base, *slash;
	struct fs_dref dir;
	struct stat sb;
	int e;

	if (path[0] == '\0') {
		if (fstat(fs(st)->rootfd, &sb) != 0)
			return ckpt_error_set_errno(err, errno,
			    "cannot stat '%s'", fs(st)->root);
		slash = strrchr(fs(st)->root, '/');
		fill_stat(out, slash && slash[1] ? slash + 1 : fs(st)->root,
		    &sb);
		return CKPT_OK;
	}
	for (int attempt = 0;; attempt++) {
		if (fs_walk(st, path, 0, &dir, &base, err) != CKPT_OK)
			return CKPT_FAILED;
		if (fstatat(dir.fd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			break;
		e = errno;
		if (e == ENOENT && attempt == 0 && fs_dir_stale(st, &dir)) {
			fs_dir_put(st, &dir);
			continue;
		}
		fs_dir_put(st, &dir);
		fs_full(st, path, full, sizeof(full));
		return ckpt_error_set_errno(err, e, "cannot stat '%s'", full);
	}
	fs_dir_put(st, &dir);
	fill_stat(out, base, &sb);
	return CKPT_OK;
}

static int
fs_list_page(struct ckpt_store *st, const char *dir,
    enum ckpt_list_order order, const char *after, size_t max,
    ckpt_page_fn cb, void *arg, int *more, int *stopped,
    struct ckpt_error *err)
{
	struct ckpt_list_window *w = NULL;
	char full[FS_MSG_PATH];
	struct dirent *de;
	struct ckpt_stat ent;
	struct stat sb;
	DIR *d = NULL;
	size_t n, i;
	unsigned long seen = 0;
	int fd, rc = CKPT_OK;

	*more = 0;
	*stopped = 0;
	if (fs_open_dir(st, dir, &fd, err) != CKPT_OK)
		return CKPT_FAILED;
	fs_full(st, dir, full, sizeof(full));
	d = fdopendir(fd);
	if (d == NULL) {
		rc = ckpt_error_set_errno(err, errno, "cannot list '%s'", full);
		close(fd);
		return rc;
	}
	rewinddir(d);
	rc = ckpt_list_window_new(order, after, max, &w, err);
	if (rc != CKPT_OK)
		goto out_close;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = ckpt_error_set_errno(err, errno,
				    "cannot list '%s'", full);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((++seen & 4095) == 0) {
			rc = ckpt_ctx_check_interrupt(st->ctx, "cannot list",
			    err);
			if (rc != CKPT_OK)
				break;
		}
		ckpt_list_window_offer(w, de->d_name);
	}
	if (rc != CKPT_OK)
		goto out_close;
	n = ckpt_list_window_sort(w, more);
	for (i = 0; i < n; i++) {
		const char *name = ckpt_list_window_name(w, i);

		if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;	/* removed meanwhile */
			rc = ckpt_error_set_errno(err, errno,
			    "cannot stat '%s/%s'", full, name);
			break;
		}
		memset(&ent, 0, sizeof(ent));
		fill_stat(&ent, name, &sb);
		if (cb(arg, &ent) != 0) {
			*stopped = 1;
			*more = 0;
			break;
		}
	}
out_close:
	ckpt_list_window_free(w);
	closedir(d);
	return rc;
}

/*
 * What readdir says of an entry's type: 1 directory, 0 not one, -1
 * unknown (the file system does not say; stat then).  The DT_ values
 * are Linux's ABI; glibc names them only outside strict POSIX.
 */
static int
dirent_is_dir(const struct dirent *de)
{
#ifdef _DIRENT_HAVE_D_TYPE
	if (de->d_type == 4)		/* DT_DIR */
		return 1;
	if (de->d_type != 0)		/* not DT_UNKNOWN */
		return 0;
#endif
	(void)de;
	return -1;
}

/* ckpt_store_scan: one readdir pass; a stat only when asked or needed. */
static int
fs_scan(struct ckpt_store *st, const char *dir, unsigned flags,
    ckpt_page_fn cb, void *arg, struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	struct dirent *de;
	struct ckpt_stat ent;
	struct stat sb;
	unsigned long seen = 0;
	DIR *d;
	int fd, rc = CKPT_OK, isdir;

	if (fs_open_dir(st, dir, &fd, err) != CKPT_OK)
		return CKPT_FAILED;
	d = fdopendir(fd);
	if (d == NULL) {
		fs_full(st, dir, full, sizeof(full));
		rc = ckpt_error_set_errno(err, errno, "cannot list '%s'", full);
		close(fd);
		return rc;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				fs_full(st, dir, full, sizeof(full));
				rc = ckpt_error_set_errno(err, errno,
				    "cannot list '%s'", full);
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strlen(de->d_name) >= CKPT_NAME_MAX)
			continue;
		if ((++seen & 4095) == 0) {
			rc = ckpt_ctx_check_interrupt(st->ctx, "cannot list",
			    err);
			if (rc != CKPT_OK)
				break;
		}
		isdir = dirent_is_dir(de);
		if ((flags & CKPT_SCAN_STAT) || isdir < 0) {
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno == ENOENT)
					continue;	/* removed meanwhile */
				fs_full(st, dir, full, sizeof(full));
				rc = ckpt_error_set_errno(err, errno,
				    "cannot stat '%s/%s'", full, de->d_name);
				break;
			}
			fill_stat(&ent, de->d_name, &sb);
			if (!(flags & CKPT_SCAN_STAT)) {
				ent.size = 0;
				ent.mtime_ms = 0;
			}
		} else {
			memset(&ent, 0, sizeof(ent));
			memcpy(ent.name, de->d_name, strlen(de->d_name) + 1);
			ent.is_dir = isdir;
		}
		if (cb(arg, &ent) != 0)
			break;
	}
	closedir(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

/*
 * Opens a regular file for reading without following a symlink and
 * without blocking on a FIFO.  *fdp is the descriptor.
 */
static int
fs_open_file(struct ckpt_store *st, const char *path, int *fdp,
    struct stat *sb, struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	const char *base;
	struct fs_dref dir;
	int fd, e;
	struct stat lsb;

	*fdp = -1;
	for (int attempt = 0;; attempt++) {
		if (fs_walk(st, path, 0, &dir, &base, err) != CKPT_OK)
			return CKPT_FAILED;
		fd = openat(dir.fd, base,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			break;
		e = errno;
		if (e == ENOENT && attempt == 0 && fs_dir_stale(st, &dir)) {
			fs_dir_put(st, &dir);
			continue;
		}
		fs_full(st, path, full, sizeof(full));
		if ((e == ELOOP || e == EMLINK) &&
		    fstatat(dir.fd, base, &lsb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(lsb.st_mode)) {
			fs_dir_put(st, &dir);
			return err_symlink(err, full);
		}
		fs_dir_put(st, &dir);
		return ckpt_error_set_errno(err, e, "cannot open '%s'", full);
	}
	fs_dir_put(st, &dir);
	if (fstat(fd, sb) != 0) {
		e = errno;
		close(fd);
		fs_full(st, path, full, sizeof(full));
		return ckpt_error_set_errno(err, e, "cannot stat '%s'", full);
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		fs_full(st, path, full, sizeof(full));
		if (S_ISDIR(sb->st_mode))
			return ckpt_error_set_errno(err, EISDIR,
			    "cannot read '%s'", full);
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot read '%s': not a regular file", full);
	}
	/* O_NONBLOCK stays: it means nothing to a regular file */
	*fdp = fd;
	return CKPT_OK;
}

static int
fs_open_read(struct ckpt_store *st, const char *path, struct ckpt_rfile *f,
    struct ckpt_error *err)
{
	struct fs_rfile *r;
	struct stat sb;
	int fd;

	if (fs_open_file(st, path, &fd, &sb, err) != CKPT_OK)
		return CKPT_FAILED;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->path = strdup(path)) == NULL) {
		free(r);
		close(fd);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", path);
	}
	r->fd = fd;
	f->priv = r;
	f->size = (uint64_t)sb.st_size;
	return CKPT_OK;
}

static int read_full(int fd, void *buf, size_t len, uint64_t off,
    int use_off, size_t *got);

/*
 * ckpt_store_read_all in one go: no handle, no second read to see the
 * end (the size it had when opened), store.c's messages.
 */
static int
fs_read_all(struct ckpt_store *st, const char *path, size_t max, char **out,
    size_t *len, struct ckpt_error *err)
{
	char full[FS_MSG_PATH], *buf;
	struct stat sb;
	size_t got = 0;
	int fd, e;

	*out = NULL;
	*len = 0;
	if (fs_open_file(st, path, &fd, &sb, err) != CKPT_OK)
		return CKPT_FAILED;
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read '%s': file too large (%llu bytes, at most %zu)",
		    path, (unsigned long long)sb.st_size, max);
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot read '%s': out of memory", path);
	}
	if (sb.st_size > 0 &&
	    read_full(fd, buf, (size_t)sb.st_size, 0, 0, &got) != 0) {
		e = errno;
		close(fd);
		free(buf);
		fs_full(st, path, full, sizeof(full));
		return ckpt_error_set_errno(err, e, "cannot read '%s'", full);
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return CKPT_OK;
}

/* read(2) until len bytes or end of file. */
static int
read_full(int fd, void *buf, size_t len, uint64_t off, int use_off,
    size_t *got)
{
	size_t n = 0;
	ssize_t k;

	while (n < len) {
		if (use_off)
			k = pread(fd, (char *)buf + n, len - n,
			    (off_t)(off + n));
		else
			k = read(fd, (char *)buf + n, len - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			*got = n;
			return -1;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*got = n;
	return 0;
}

static int
fs_read(struct ckpt_rfile *f, void *buf, size_t len, size_t *got,
    struct ckpt_error *err)
{
	struct fs_rfile *r = f->priv;
	char full[FS_MSG_PATH];
	int e;

	if (read_full(r->fd, buf, len, 0, 0, got) != 0) {
		e = errno;
		fs_full(f->st, r->path, full, sizeof(full));
		return ckpt_error_set_errno(err, e, "cannot read '%s'", full);
	}
	return CKPT_OK;
}

static void
fs_close_read(struct ckpt_rfile *f)
{
	struct fs_rfile *r = f->priv;

	if (r == NULL)
		return;
	close(r->fd);
	free(r->path);
	free(r);
	f->priv = NULL;
}

static int
fs_read_range(struct ckpt_store *st, const char *path, uint64_t off,
    void *buf, size_t len, size_t *got, struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	struct stat sb;
	int fd, rc = CKPT_OK;

	*got = 0;
	if (fs_open_file(st, path, &fd, &sb, err) != CKPT_OK)
		return CKPT_FAILED;
	if (off >= (uint64_t)sb.st_size) {
		close(fd);
		return CKPT_OK;
	}
	if (read_full(fd, buf, len, off, 1, got) != 0) {
		fs_full(st, path, full, sizeof(full));
		rc = ckpt_error_set_errno(err, errno,
		    "cannot read '%s' at offset %llu", full,
		    (unsigned long long)off);
	}
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Durable writes                                                       */
/* ------------------------------------------------------------------ */

/*
 * Writes all n bytes.  With crash points on and one armed, the first
 * half goes out, then "store.mid_write", then the rest.
 */
static int
write_all(struct ckpt_store *st, int fd, const void *buf, size_t n,
    int crash_points)
{
	const char *p = buf;
	size_t half = n, done = 0;
	ssize_t k;

	if (crash_points && ckpt_crash_armed(st->ctx))
		half = n / 2;
	while (done < n) {
		if (done == half && half < n && crash_points)
			ckpt_crash_point(st->ctx, "store.mid_write");
		k = sys_write(st->ctx, fd, p + done,
		    (done < half ? half : n) - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ENOSPC;
			return -1;
		}
		done += (size_t)k;
	}
	return 0;
}

static void
fs_wfile_free(struct fs_wfile *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->full);
	free(w->buf);
	free(w);
}

/* Removes the temp file (if any) and frees w. */
static void
fs_wfile_discard(struct ckpt_store *st, struct fs_wfile *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmp[0] != '\0' && w->dirfd >= 0)
		sys_unlink(st->ctx, w->dirfd, w->tmp, 0);
	fs_wfile_free(w);
}

/* Starts a temp file for base in dirfd (taken over by the wfile). */
static int
fs_wfile_start(struct ckpt_store *st, int dirfd, const char *base,
    const char *path, int crash_points, struct fs_wfile **out,
    struct ckpt_error *err)
{
	struct fs_wfile *w;
	size_t bl = strlen(base);
	int e;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		close(dirfd);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot create '%s': out of memory", path);
	}
	w->dirfd = dirfd;
	w->fd = -1;
	w->crash_points = crash_points;
	memcpy(w->base, base, bl + 1);
	w->full = fs_full_dup(st, path);
	w->buf = malloc(FS_WBUF);
	if (w->full == NULL || w->buf == NULL) {
		fs_wfile_free(w);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot create '%s': out of memory", path);
	}
	/* keep the temp name within NAME_MAX: shorten the copied base */
	if (bl > 180)
		bl = 180;
	/* another handle of this process may hold the same name: skip it */
	for (int tries = 0; tries < 16 && w->fd < 0; tries++) {
		unsigned long k;

		/* the engine's writer thread creates files too */
		pthread_mutex_lock(&fs(st)->mu);
		k = st->tmp_counter++;
		pthread_mutex_unlock(&fs(st)->mu);
		snprintf(w->tmp, sizeof(w->tmp), ".%.*s.%ld.%lu.tmp", (int)bl,
		    base, (long)getpid(), k);
		w->fd = openat(dirfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
		if (w->fd < 0 && errno != EEXIST)
			break;
	}
	if (w->fd < 0) {
		e = errno;
		w->tmp[0] = '\0';
		ckpt_error_set_errno(err, e, "cannot create '%s'", w->full);
		fs_wfile_free(w);
		return CKPT_FAILED;
	}
	*out = w;
	return CKPT_OK;
}

static int
fs_flush(struct ckpt_store *st, struct fs_wfile *w, struct ckpt_error *err)
{
	if (w->blen == 0)
		return CKPT_OK;
	if (write_all(st, w->fd, w->buf, w->blen, w->crash_points) != 0)
		return ckpt_error_set_errno(err, errno, "cannot write '%s'",
		    w->full);
	w->blen = 0;
	return CKPT_OK;
}

static int
fs_wfile_put(struct ckpt_store *st, struct fs_wfile *w, const void *buf,
    size_t len, struct ckpt_error *err)
{
	if (w->blen + len > FS_WBUF && fs_flush(st, w, err) != CKPT_OK)
		return CKPT_FAILED;
	if (len >= FS_WBUF) {
		if (write_all(st, w->fd, buf, len, w->crash_points) != 0)
			return ckpt_error_set_errno(err, errno,
			    "cannot write '%s'", w->full);
		return CKPT_OK;
	}
	memcpy(w->buf + w->blen, buf, len);
	w->blen += len;
	return CKPT_OK;
}

/*
 * The commit protocol: flush, fsync, rename (or link + unlink with
 * excl), fsync the directory.  Frees w, success or not; on failure
 * before the rename no trace is left.  After a successful link the
 * temp's unlink may fail harmlessly (prune removes such leftovers).
 */
static int
fs_wfile_finish(struct ckpt_store *st, struct fs_wfile *w, int excl,
    struct ckpt_error *err)
{
	struct ckpt_ctx *ctx = st->ctx;
	int cp = w->crash_points, e;

	if (fs_flush(st, w, err) != CKPT_OK)
		goto out_discard;
	if (cp)
		ckpt_crash_point(ctx, "store.before_fsync");
	if (sys_fsync(ctx, w->fd) != 0) {
		ckpt_error_set_errno(err, errno, "cannot fsync '%s'", w->full);
		goto out_discard;
	}
	e = close(w->fd);
	w->fd = -1;
	if (e != 0) {
		ckpt_error_set_errno(err, errno, "cannot close '%s'", w->full);
		goto out_discard;
	}
	if (cp)
		ckpt_crash_point(ctx, "store.before_rename");
	if (excl) {
		if (sys_link(ctx, w->dirfd, w->tmp, w->dirfd, w->base) != 0) {
			e = errno;
			if (e == EEXIST)
				ckpt_error_set(err, CKPT_E_EXISTS,
				    "cannot create '%s': already exists",
				    w->full);
			else
				ckpt_error_set_errno(err, e,
				    "cannot link '%s'", w->full);
			goto out_discard;
		}
		sys_unlink(ctx, w->dirfd, w->tmp, 0);
	} else if (sys_rename(ctx, w->dirfd, w->tmp, w->dirfd, w->base) != 0) {
		ckpt_error_set_errno(err, errno, "cannot rename into '%s'",
		    w->full);
		goto out_discard;
	}
	w->tmp[0] = '\0';
	if (cp)
		ckpt_crash_point(ctx, "store.before_dir_fsync");
	/* CKPT_TEST_HOOKS builds only: the classic missing-fsync bug */
	if ((!excl && ckpt_test_bug(ctx, CKPT_BUG_SKIP_DIR_FSYNC)) ||
	    ckpt_test_bug(ctx, CKPT_BUG_SKIP_ALL_DIR_FSYNC)) {
		fs_wfile_free(w);
		return CKPT_OK;
	}
	if (sys_fsync(ctx, w->dirfd) != 0) {
		ckpt_error_set_errno(err, errno,
		    "cannot fsync the directory of '%s'", w->full);
		fs_wfile_free(w);
		return CKPT_FAILED;
	}
	fs_wfile_free(w);
	return CKPT_OK;

out_discard:
	fs_wfile_discard(st, w);
	return CKPT_FAILED;
}

/*
 * Group commit (ckpt_wfile_commit_all): the protocol above for n files
 * with each step done for all of them before the next, so that the
 * waits of their fsyncs overlap: they run on the handle's fsync threads
 * (store_file_sync.c), except when a test hook is on (fault plan, crash
 * trace, power-loss journal: those count and journal calls in order),
 * when they run in turn.  Each distinct directory is fsynced once.
 */
static void fs_abort(struct ckpt_wfile *f);

/* fsyncs fd[0..n-1]; err[i] gets each one's errno (0: durable). */
static void
fs_fsync_all(struct ckpt_store *st, const int *fd, int *err, size_t n)
{
	struct ckpt_ctx *ctx = st->ctx;

	if (ctx != NULL && (ctx->test != NULL || ctx->fault != NULL))
		goto in_turn;
	if (fs_syncpool_run(fs(st)->sync, fd, err, n) == 0)
		return;
in_turn:
	for (size_t i = 0; i < n; i++)
		err[i] = sys_fsync(ctx, fd[i]) == 0 ? 0 : errno;
}

static int
fs_commit_all(struct ckpt_wfile **f, size_t n, struct ckpt_error *err)
{
	struct ckpt_store *st = f[0]->st;
	struct ckpt_ctx *ctx = st->ctx;
	struct fs_wfile **w;
	int *fd, *e, rc = CKPT_FAILED, skip_dirs;
	size_t i, nd = 0, done = 0;

	w = calloc(n, sizeof(*w));
	fd = calloc(n, sizeof(*fd));
	e = calloc(n, sizeof(*e));
	if (w == NULL || fd == NULL || e == NULL) {
		for (i = 0; i < n; i++)
			fs_abort(f[i]);
		free(w);
		free(fd);
		free(e);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot commit %zu files: out of memory", n);
	}
	for (i = 0; i < n; i++) {
		w[i] = f[i]->priv;
		f[i]->priv = NULL;
	}
	for (i = 0; i < n; i++) {
		if (fs_flush(st, w[i], err) != CKPT_OK)
			goto out;
		if (w[i]->crash_points)
			ckpt_crash_point(ctx, "store.before_fsync");
		fd[i] = w[i]->fd;
	}
	fs_fsync_all(st, fd, e, n);
	for (i = 0; i < n; i++) {
		int ce = close(w[i]->fd);

		w[i]->fd = -1;
		if (e[i] == 0 && ce != 0)
			e[i] = errno;
	}
	for (i = 0; i < n; i++)
		if (e[i] != 0) {
			ckpt_error_set_errno(err, e[i], "cannot fsync '%s'",
			    w[i]->full);
			goto out;
		}
	/* rename (or link) each into place, in order */
	for (done = 0; done < n; done++) {
		struct fs_wfile *x = w[done];
		int excl = (f[done]->flags & CKPT_WRITE_EXCL) != 0;

		if (x->crash_points)
			ckpt_crash_point(ctx, "store.before_rename");
		if (excl) {
			if (sys_link(ctx, x->dirfd, x->tmp, x->dirfd,
			    x->base) != 0) {
				if (errno == EEXIST)
					ckpt_error_set(err, CKPT_E_EXISTS,
					    "cannot create '%s': already "
					    "exists", x->full);
				else
					ckpt_error_set_errno(err, errno,
					    "cannot link '%s'", x->full);
				goto out;
			}
			sys_unlink(ctx, x->dirfd, x->tmp, 0);
		} else if (sys_rename(ctx, x->dirfd, x->tmp, x->dirfd,
		    x->base) != 0) {
			ckpt_error_set_errno(err, errno,
			    "cannot rename into '%s'", x->full);
			goto out;
		}
		x->tmp[0] = '\0';
		if (x->crash_points)
			ckpt_crash_point(ctx, "store.before_dir_fsync");
	}
	/* each distinct directory once (fd[] now holds directories) */
	skip_dirs = ckpt_test_bug(ctx, CKPT_BUG_SKIP_ALL_DIR_FSYNC);
	for (i = 0; i < n && !skip_dirs; i++) {
		struct stat a, b;
		size_t j;

		if (!(f[i]->flags & CKPT_WRITE_EXCL) &&
		    ckpt_test_bug(ctx, CKPT_BUG_SKIP_DIR_FSYNC))
			continue;
		if (fstat(w[i]->dirfd, &a) != 0) {
			fd[nd] = w[i]->dirfd;
			e[nd++] = (int)i;
			continue;
		}
		for (j = 0; j < nd; j++)
			if (fstat(fd[j], &b) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino)
				break;
		if (j == nd) {
			fd[nd] = w[i]->dirfd;
			e[nd++] = (int)i;	/* which file, for messages */
		}
	}
	{
		int *de = calloc(nd ? nd : 1, sizeof(*de));

		if (de == NULL) {
			ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot commit %zu files: out of memory", n);
			goto out;
		}
		fs_fsync_all(st, fd, de, nd);
		for (i = 0; i < nd; i++)
			if (de[i] != 0) {
				ckpt_error_set_errno(err, de[i], "cannot "
				    "fsync the directory of '%s'",
				    w[e[i]]->full);
				free(de);
				goto out;
			}
		free(de);
	}
	rc = CKPT_OK;
out:
	for (i = 0; i < n; i++) {
		if (w[i] == NULL)
			continue;
		if (i < done || rc == CKPT_OK)
			fs_wfile_free(w[i]);
		else
			fs_wfile_discard(st, w[i]);
	}
	free(w);
	free(fd);
	free(e);
	return rc;
}

static int
fs_create(struct ckpt_store *st, const char *path, struct ckpt_wfile *f,
    struct ckpt_error *err)
{
	struct fs_wfile *w;
	const char *base;
	struct fs_dref dir;
	int dirfd;

	if (fs_walk(st, path, 1, &dir, &base, err) != CKPT_OK)
		return CKPT_FAILED;
	/* a write must not land in a directory removed meanwhile */
	if (fs_dir_stale(st, &dir)) {
		fs_dir_put(st, &dir);
		if (fs_walk(st, path, 1, &dir, &base, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	/* the wfile owns a descriptor of its own */
	if (dir.slot == FS_DREF_OWN) {
		dirfd = dir.fd;
	} else {
		dirfd = fcntl(dir.fd, F_DUPFD_CLOEXEC, 0);
		fs_dir_put(st, &dir);
		if (dirfd < 0)
			return ckpt_error_set_errno(err, errno,
			    "cannot create '%s'", path);
	}
	if (fs_wfile_start(st, dirfd, base, path, 1, &w, err) != CKPT_OK)
		return CKPT_FAILED;
	f->priv = w;
	return CKPT_OK;
}

static int
fs_write(struct ckpt_wfile *f, const void *buf, size_t len,
    struct ckpt_error *err)
{
	return fs_wfile_put(f->st, f->priv, buf, len, err);
}

static int
fs_commit(struct ckpt_wfile *f, struct ckpt_error *err)
{
	struct fs_wfile *w = f->priv;

	f->priv = NULL;
	return fs_wfile_finish(f->st, w, (f->flags & CKPT_WRITE_EXCL) != 0,
	    err);
}

static void
fs_abort(struct ckpt_wfile *f)
{
	fs_wfile_discard(f->st, f->priv);
	f->priv = NULL;
}

static int
fs_remove(struct ckpt_store *st, const char *path, struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	const char *base;
	struct stat sb;
	struct fs_dref dir;
	int e, rc = CKPT_OK;
	struct ckpt_error tmp = {0};

	for (int attempt = 0;; attempt++) {
		if (fs_walk(st, path, 0, &dir, &base, &tmp) != CKPT_OK) {
			if (tmp.kind == CKPT_E_NOTFOUND)
				return CKPT_OK;
			return err_pass(err, &tmp);
		}
		if (fstatat(dir.fd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			break;
		e = errno;
		if (e == ENOENT && attempt == 0 && fs_dir_stale(st, &dir)) {
			fs_dir_put(st, &dir);
			continue;
		}
		fs_dir_put(st, &dir);
		if (e == ENOENT)
			return CKPT_OK;
		fs_full(st, path, full, sizeof(full));
		return ckpt_error_set_errno(err, e, "cannot remove '%s'", full);
	}
	if (S_ISDIR(sb.st_mode))
		fs_dcache_drop(fs(st), path);
	if (sys_unlink(st->ctx, dir.fd, base,
	    S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
		e = errno;
		fs_full(st, path, full, sizeof(full));
		rc = ckpt_error_set_errno(err, e, "cannot remove '%s'", full);
	}
	fs_dir_put(st, &dir);
	return rc;
}

static int
fs_sync_dir(struct ckpt_store *st, const char *dir, struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	struct fs_dref d;
	int e;

	if (fs_dir_get(st, dir, strlen(dir), 0, &d, err) != CKPT_OK)
		return CKPT_FAILED;
	if (fs_dir_stale(st, &d)) {
		fs_dir_put(st, &d);
		if (fs_dir_get(st, dir, strlen(dir), 0, &d, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	if (sys_fsync(st->ctx, d.fd) != 0) {
		e = errno;
		fs_dir_put(st, &d);
		fs_full(st, dir, full, sizeof(full));
		return ckpt_error_set_errno(err, e, "cannot fsync '%s'", full);
	}
	fs_dir_put(st, &d);
	return CKPT_OK;
}

/* ------------------------------------------------------------------ */
/* The lock                                                             */
/* ------------------------------------------------------------------ */

static void
my_host(char *buf, size_t n)
{
	if (gethostname(buf, n) != 0)
		snprintf(buf, n, "unknown");
	buf[n - 1] = '\0';
}

/*
 * Reads the lock file: CKPT_OK with *info (parsed 1 or 0), its inode
 * and mtime; CKPT_EOF when there is none.
 */
static int
fs_lock_read(struct ckpt_store *st, struct ckpt_lock_info *info,
    int *parsed, struct stat *sb, struct ckpt_error *err)
{
	char buf[FS_LOCK_MAX], full[FS_MSG_PATH];
	size_t got;
	int fd, e;

	*parsed = 0;
	fs_full(st, FS_LOCK_NAME, full, sizeof(full));
	fd = openat(fs(st)->rootfd, FS_LOCK_NAME,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return CKPT_EOF;
		if (errno == ELOOP)
			return err_symlink(err, full);
		return ckpt_error_set_errno(err, errno, "cannot read '%s'",
		    full);
	}
	if (fstat(fd, sb) != 0) {
		e = errno;
		close(fd);
		return ckpt_error_set_errno(err, e, "cannot read '%s'", full);
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read '%s': not a regular file", full);
	}
	if (read_full(fd, buf, sizeof(buf) - 1, 0, 0, &got) != 0) {
		e = errno;
		close(fd);
		return ckpt_error_set_errno(err, e, "cannot read '%s'", full);
	}
	close(fd);
	buf[got] = '\0';
	*parsed = ckpt_lock_info_parse(buf, got, info) == 0;
	return CKPT_OK;
}

/*
 * Moves a dead holder's lock aside and removes it.  CKPT_OK when the
 * caller should retry taking the lock.  rename(2) lets one taker win;
 * the stale name carries the taker's pid too, so two takers never
 * share it.  A taker that finds it moved a lock other than the one it
 * read (a new holder got in between) links it back.  What stays open
 * is a third writer creating a lock in that instant; the window is a
 * few syscalls wide and needs three writers racing on a dead lock.
 */
static int
fs_lock_takeover(struct ckpt_store *st, long pid, const struct stat *seen,
    struct ckpt_error *err)
{
	char stale[64], full[FS_MSG_PATH];
	int rootfd = fs(st)->rootfd;
	struct stat sb;

	snprintf(stale, sizeof(stale), "%s.stale.%ld.%ld", FS_LOCK_NAME, pid,
	    (long)getpid());
	if (sys_rename(st->ctx, rootfd, FS_LOCK_NAME, rootfd, stale) != 0) {
		if (errno == ENOENT)
			return CKPT_OK;	/* another taker won */
		fs_full(st, FS_LOCK_NAME, full, sizeof(full));
		return ckpt_error_set_errno(err, errno,
		    "cannot take over the stale lock '%s'", full);
	}
	if (fstatat(rootfd, stale, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (sb.st_ino != seen->st_ino || sb.st_dev != seen->st_dev)) {
		/* a new holder's lock was moved: put it back */
		sys_link(st->ctx, rootfd, stale, rootfd, FS_LOCK_NAME);
		sys_unlink(st->ctx, rootfd, stale, 0);
		return CKPT_OK;
	}
	ckpt_crash_point(st->ctx, "lock.takeover");
	sys_unlink(st->ctx, rootfd, stale, 0);
	if (sys_fsync(st->ctx, rootfd) != 0)
		return ckpt_error_set_errno(err, errno,
		    "cannot fsync '%s'", fs(st)->root);
	return CKPT_OK;
}

static int
fs_lock(struct ckpt_store *st, const char *what, struct ckpt_lock *lk,
    struct ckpt_error *err)
{
	struct ckpt_lock_info held;
	struct fs_lock *l;
	struct fs_wfile *w;
	struct stat sb;
	char text[FS_LOCK_MAX];
	int len, parsed, rc, dirfd;
	struct ckpt_error tmp;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot lock '%s': out of memory", st->url);
	my_host(l->info.host, sizeof(l->info.host));
	l->info.pid = (long)getpid();
	l->info.since_ms = ckpt_now_ms();
	snprintf(l->info.what, sizeof(l->info.what), "%s", what);
	len = ckpt_lock_info_format(&l->info, text, sizeof(text));
	if (len < 0) {
		free(l);
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot lock '%s': lock record too long", st->url);
	}
	for (int attempt = 0; attempt < 8; attempt++) {
		dirfd = fcntl(fs(st)->rootfd, F_DUPFD_CLOEXEC, 0);
		if (dirfd < 0) {
			rc = ckpt_error_set_errno(err, errno,
			    "cannot lock '%s'", st->url);
			goto out_free;
		}
		rc = fs_wfile_start(st, dirfd, FS_LOCK_NAME, FS_LOCK_NAME, 0,
		    &w, err);
		if (rc != CKPT_OK)
			goto out_free;
		ckpt_error_clear(&tmp);
		rc = fs_wfile_put(st, w, text, (size_t)len, &tmp);
		if (rc == CKPT_OK)
			rc = fs_wfile_finish(st, w, 1, &tmp);
		else
			fs_wfile_discard(st, w);
		if (rc == CKPT_OK) {
			if (fstatat(fs(st)->rootfd, FS_LOCK_NAME, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0) {
				l->dev = sb.st_dev;
				l->ino = sb.st_ino;
			}
			lk->priv = l;
			return CKPT_OK;
		}
		if (tmp.kind != CKPT_E_EXISTS) {
			err_pass(err, &tmp);
			goto out_free;
		}
		rc = fs_lock_read(st, &held, &parsed, &sb, err);
		if (rc == CKPT_EOF)
			continue;	/* released meanwhile */
		if (rc != CKPT_OK)
			goto out_free;
		if (parsed) {
			if (strcmp(held.host, l->info.host) != 0 ||
			    held.pid == l->info.pid ||
			    kill((pid_t)held.pid, 0) == 0 || errno != ESRCH) {
				rc = ckpt_lock_conflict(err, fs(st)->root,
				    &held);
				goto out_free;
			}
		} else if (ckpt_now_ms() - ((int64_t)sb.st_mtim.tv_sec *
		    1000 + sb.st_mtim.tv_nsec / 1000000) <
		    FS_LOCK_CORRUPT_MS) {
			rc = ckpt_error_set(err, CKPT_E_LOCKED,
			    "'%s' is locked: its lock file is being written or unreadable",
			    fs(st)->root);
			goto out_free;
		}
		rc = fs_lock_takeover(st, parsed ? held.pid : 0, &sb, err);
		if (rc != CKPT_OK)
			goto out_free;
	}
	rc = ckpt_error_set(err, CKPT_E_LOCKED,
	    "cannot lock '%s': the lock keeps changing hands", fs(st)->root);
out_free:
	free(l);
	return CKPT_FAILED;
}

static void
fs_unlock(struct ckpt_lock *lk)
{
	struct ckpt_store *st = lk->st;
	struct fs_lock *l = lk->priv;
	struct ckpt_lock_info held;
	struct ckpt_error tmp = {0};
	struct stat sb;
	int parsed;

	if (l == NULL)
		return;
	if (fs_lock_read(st, &held, &parsed, &sb, &tmp) == CKPT_OK &&
	    parsed && sb.st_ino == l->ino && sb.st_dev == l->dev &&
	    held.pid == l->info.pid && held.since_ms == l->info.since_ms &&
	    strcmp(held.host, l->info.host) == 0) {
		/*
		 * Best effort, so not through the fault wrappers: a lock
		 * that comes back after a crash is a stale lock, which the
		 * next writer takes over; the run has succeeded either way.
		 */
		if (sys_unlink(st->ctx, fs(st)->rootfd, FS_LOCK_NAME, 0) == 0)
			(void)fsync(fs(st)->rootfd);
	}
	free(l);
	lk->priv = NULL;
}

static int
fs_lock_holder(struct ckpt_store *st, struct ckpt_lock_info *out,
    struct ckpt_error *err)
{
	char full[FS_MSG_PATH];
	struct stat sb;
	int parsed, rc;

	rc = fs_lock_read(st, out, &parsed, &sb, err);
	if (rc != CKPT_OK)
		return rc;
	if (!parsed) {
		fs_full(st, FS_LOCK_NAME, full, sizeof(full));
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read '%s': not a lock record", full);
	}
	return CKPT_OK;
}

const struct ckpt_store_ops ckpt_store_file_ops = {
	.name = "file",
	.bid = fs_bid,
	.open = fs_open,
	.close = fs_close,
	.stat = fs_stat,
	.list_page = fs_list_page,
	.scan = fs_scan,
	.open_read = fs_open_read,
	.read = fs_read,
	.close_read = fs_close_read,
	.read_range = fs_read_range,
	.read_all = fs_read_all,
	.create = fs_create,
	.write = fs_write,
	.commit = fs_commit,
	.abort = fs_abort,
	.commit_all = fs_commit_all,
	.remove = fs_remove,
	.sync_dir = fs_sync_dir,
	.lock = fs_lock,
	.unlock = fs_unlock,
	.lock_holder = fs_lock_holder,
};
