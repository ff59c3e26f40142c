/*
 * store.h - the storage backend interface (private to lib/).
 *
 * A backend knows where bytes live: a local directory (store_file.c),
 * later an S3 prefix or an archive.  Backends are listed once, in
 * store_drivers[] in store.c; ckpt_store_open() asks each to bid on a
 * URL and the highest bid wins.  store.c validates every path before a
 * backend sees it (relative, '/'-separated, no "", "." or ".."
 * component), so backends never re-check that.  store.c also owns the
 * public handles (struct ckpt_store, ckpt_rfile, ckpt_wfile, ckpt_lock);
 * a backend keeps its own state in their priv pointers.
 *
 * Every op reports failures through err with the path quoted; the
 * caller's struct ckpt_error keeps the first message.  Ops marked
 * optional may be NULL: store.c then fails with CKPT_E_UNSUPPORTED
 * ("<backend> stores are read-only") or uses a generic fallback.
 */
#ifndef CKPT_STORE_H
#define CKPT_STORE_H

#include "../ckpt.h"

struct ckpt_store_ops;

struct ckpt_store {
	const struct ckpt_store_ops *ops;
	struct ckpt_ctx *ctx;		/* the caller's; may be NULL */
	char *url;			/* as given, secrets stripped */
	char *loc;			/* backend location: path, bucket/prefix */
	unsigned flags;			/* CKPT_STORE_* */
	unsigned long tmp_counter;	/* unique temp names per handle */
	void *priv;			/* the backend's state */
};

struct ckpt_rfile {
	struct ckpt_store *st;
	uint64_t size;
	void *priv;
};

struct ckpt_wfile {
	struct ckpt_store *st;
	unsigned flags;			/* CKPT_WRITE_* */
	uint64_t size;			/* bytes accepted so far */
	int failed;			/* a write failed: commit refuses */
	void *priv;
};

struct ckpt_lock {
	struct ckpt_store *st;
	void *priv;
};

/*
 * Callback of list_page: one entry, in order.  Returns 0 to go on,
 * non-zero to stop (list_page then returns CKPT_OK with *stopped = 1).
 */
typedef int (*ckpt_page_fn)(void *arg, const struct ckpt_stat *ent);

struct ckpt_store_ops {
	const char *name;		/* "file", "s3", "archive" */

	/*
	 * How well the backend fits url (already known not to be hdfs://):
	 * 0 not at all .. 100 certain.  Cheap: string tests, at most a
	 * stat.  url is the text the caller gave.
	 */
	int (*bid)(const char *url);

	/*
	 * Opens st->url (st->ctx, st->flags set; st->loc NULL): sets
	 * st->loc and st->priv.  A missing root is CKPT_E_NOTFOUND unless
	 * CKPT_STORE_CREATE; a root that cannot hold a checkpoint (a plain
	 * file) is CKPT_E_NOTCKPT.
	 */
	int (*open)(struct ckpt_store *st, struct ckpt_error *err);
	void (*close)(struct ckpt_store *st);

	/* path "" is the root.  Never follows symlinks. */
	int (*stat)(struct ckpt_store *st, const char *path,
		struct ckpt_stat *out, struct ckpt_error *err);

	/*
	 * One page of directory dir ("" = root): up to max entries whose
	 * names sort strictly after `after` (NULL: from the start) in
	 * order, delivered to cb in that order.  *more is set to 1 when
	 * entries after the last one delivered may remain (store.c then
	 * calls again with that name as `after`), else 0.  Backends that
	 * read entries unsorted (readdir, archives) use the window below;
	 * S3 can answer CKPT_LIST_NAME pages with start-after directly.
	 */
	int (*list_page)(struct ckpt_store *st, const char *dir,
		enum ckpt_list_order order, const char *after, size_t max,
		ckpt_page_fn cb, void *arg, int *more, int *stopped,
		struct ckpt_error *err);

	/*
	 * Optional: ckpt_store_scan (every entry once, backend order;
	 * size and mtime only with CKPT_SCAN_STAT).  NULL: store.c lists
	 * in name order instead.
	 */
	int (*scan)(struct ckpt_store *st, const char *dir, unsigned flags,
		ckpt_page_fn cb, void *arg, struct ckpt_error *err);

	/* Streaming read: open sets f->size and f->priv. */
	int (*open_read)(struct ckpt_store *st, const char *path,
		struct ckpt_rfile *f, struct ckpt_error *err);
	int (*read)(struct ckpt_rfile *f, void *buf, size_t len,
		size_t *got, struct ckpt_error *err);
	void (*close_read)(struct ckpt_rfile *f);
	/*
	 * Optional: up to len bytes at off; *got < len only at end of file.
	 * NULL: store.c opens, reads and discards up to off, then reads.
	 */
	int (*read_range)(struct ckpt_store *st, const char *path,
		uint64_t off, void *buf, size_t len, size_t *got,
		struct ckpt_error *err);

	/*
	 * Optional: ckpt_store_read_all at once (path checked, max at most
	 * SIZE_MAX / 4), with store.c's messages.  NULL: store.c opens,
	 * reads and closes.
	 */
	int (*read_all)(struct ckpt_store *st, const char *path, size_t max,
		char **out, size_t *len, struct ckpt_error *err);

	/*
	 * Durable atomic write (optional for read-only backends).  create
	 * sets f->priv; nothing is visible at path until commit.  commit
	 * with CKPT_WRITE_EXCL is a conditional create: CKPT_E_EXISTS when
	 * path exists (link(2) locally, If-None-Match on S3).  commit and
	 * abort both release f->priv, success or not; abort removes every
	 * trace (temp file, multipart upload).
	 */
	int (*create)(struct ckpt_store *st, const char *path,
		struct ckpt_wfile *f, struct ckpt_error *err);
	int (*write)(struct ckpt_wfile *f, const void *buf, size_t len,
		struct ckpt_error *err);
	int (*commit)(struct ckpt_wfile *f, struct ckpt_error *err);
	void (*abort)(struct ckpt_wfile *f);
	/*
	 * Optional: commit of n files of st at once (ckpt_wfile_commit_all;
	 * failed files are already refused by store.c).  NULL: store.c
	 * commits them one by one.
	 */
	int (*commit_all)(struct ckpt_wfile **f, size_t n,
		struct ckpt_error *err);

	/* A missing path is CKPT_OK.  A directory must be empty. */
	int (*remove)(struct ckpt_store *st, const char *path,
		struct ckpt_error *err);
	/* Optional: makes earlier removes in dir durable (NULL: no-op). */
	int (*sync_dir)(struct ckpt_store *st, const char *dir,
		struct ckpt_error *err);

	/*
	 * The single-writer lock (a lock file locally, a lease object on
	 * S3), recorded with ckpt_lock_info_format() below.  lock sets
	 * lk->priv or fails with CKPT_E_LOCKED naming the holder; unlock
	 * removes the lock only if it still names this holder.  lock_holder
	 * returns CKPT_EOF when nobody holds it.
	 */
	int (*lock)(struct ckpt_store *st, const char *what,
		struct ckpt_lock *lk, struct ckpt_error *err);
	void (*unlock)(struct ckpt_lock *lk);
	int (*lock_holder)(struct ckpt_store *st, struct ckpt_lock_info *out,
		struct ckpt_error *err);
};

extern const struct ckpt_store_ops ckpt_store_file_ops;

/*
 * The bounded sorted window (store.c): the max smallest names that sort
 * strictly after `after`, from one unsorted pass over a directory.
 * Memory is max names, whatever the size of the directory.  Use:
 * new, offer every name, sort, then name(i) for i < count; more is 1
 * when some offered name after `after` did not fit (another pass
 * after the last name is needed).
 */
struct ckpt_list_window;
int ckpt_list_window_new(enum ckpt_list_order order, const char *after,
    size_t max, struct ckpt_list_window **out, struct ckpt_error *err);
/* Offers one name (names longer than CKPT_NAME_MAX - 1 are skipped). */
void ckpt_list_window_offer(struct ckpt_list_window *w, const char *name);
/* Sorts the kept names; returns how many; sets *more. */
size_t ckpt_list_window_sort(struct ckpt_list_window *w, int *more);
const char *ckpt_list_window_name(const struct ckpt_list_window *w,
    size_t i);
void ckpt_list_window_free(struct ckpt_list_window *w);

/* Default page size of ckpt_store_list() (entries per pass). */
#define CKPT_LIST_WINDOW 16384

/*
 * The lock record: one JSON line {"host":..,"pid":..,"since_ms":..,
 * "what":..} and a newline.  format returns the length written (< n),
 * or -1 if it does not fit.  parse returns 0, or -1 when text is not a
 * complete record (empty or torn lock file).
 */
int ckpt_lock_info_format(const struct ckpt_lock_info *li, char *buf,
    size_t n);
int ckpt_lock_info_parse(const char *text, size_t len,
    struct ckpt_lock_info *out);
/* "'<root>' is locked by pid P on H since <ISO time> (<what>)" */
int ckpt_lock_conflict(struct ckpt_error *err, const char *root,
    const struct ckpt_lock_info *li);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t ckpt_now_ms(void);

/* Non-zero when url names an archive (.tar, .tar.gz, .tar.zst, .tgz,
 * .zip): the archive backend's, not yet built. */
int ckpt_store_archive_name(const char *url);

/*
 * The local backend's group-commit fsync threads (store_file_sync.c),
 * kept for the life of a store handle.  run fsyncs fd[0..n-1] on them
 * and the calling thread; err[i] gets each one's errno (0: durable).
 * It returns -1, having done nothing, when the pool cannot help (NULL,
 * n < 2, another commit is using it, no thread could be started, or
 * this process is a fork of the one that started them): the caller
 * then fsyncs in turn.
 */
struct fs_syncpool;
struct fs_syncpool *fs_syncpool_new(void);
void fs_syncpool_free(struct fs_syncpool *p);
int fs_syncpool_run(struct fs_syncpool *p, const int *fd, int *err,
    size_t n);

#endif /* CKPT_STORE_H */
