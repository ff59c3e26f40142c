/*
 * ops_prune.c - ckpt_prune(): remove what no kept batch needs, in an
 * order that survives being killed at any point.
 *
 * The format's retention plan (struct ckpt_prune_ops: native in
 * ops_prune_native.c, Spark and DStream in their drivers) is computed
 * once under the writer lock.  Deletion then runs in two phases.
 * Phase 1 removes the commit entries of the batches that go, newest
 * first (a batch without its commit is merely uncommitted, never a
 * broken committed one; and as the older batches keep theirs until
 * last, every batch still committed at any moment still has all its
 * files), and makes that durable.  Phase 2 removes everything else
 * planned (offsets, state, output, temp files, orphans).  Nothing the
 * restart point needs is ever touched, so an interrupted prune leaves
 * a directory that restores, and running prune again finishes the
 * job.  The crash point "prune.mid_delete" fires before every removal.
 *
 * Phase 2 removes files from inside the walk callback (the walk lists
 * the store in bounded windows after a name cursor, so removing entries
 * it has passed is harmless).  Phase 1 keeps the PRUNE_CHUNK newest
 * planned commit entries a walk meets, removes them newest first, and
 * walks again until none is left.  A final walk re-checks that nothing
 * planned is left, and repeats a pass if something was.  Memory is a
 * chunk of paths and the plan, whatever the size of the directory.
 * This file does not know any format's layout; it also holds what the
 * plans share (declared in fmt.h): the kept-batch walk and the batches
 * the keep rules start at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "../ctx.h"
#include "../format/fmt.h"

#define PRUNE_PASSES 4
#define PRUNE_CHUNK 512

/* A phase-1 file kept for removal in newest-first order. */
struct chunk_ent {
	int64_t batch;
	uint64_t size;
	int role;
	char path[512];
};

struct prune_run {
	struct ckpt *c;
	const struct ckpt_prune_ops *pops;
	void *plan;
	const struct ckpt_prune_opts *o;
	ckpt_prune_fn file_cb;
	void *arg;
	struct ckpt_prune_stats *st;
	struct ckpt_error *err;
	int phase;		/* 1, 2; 0 = dry run (every phase) */
	int rc;			/* failure inside a callback */
	uint64_t left;		/* planned files still there (recheck) */
	int recheck;
	int count_kept;		/* this walk counts the files kept */
	char dir[1024];		/* directory of the last removal */
	int dirty;		/* dir needs an fsync */
	struct chunk_ent *chunk;	/* phase 1: newest planned commits */
	size_t nchunk;
};

/* The plan of c's format, or NULL. */
static const struct ckpt_prune_ops *
prune_ops_of(struct ckpt *c)
{
	if (c->ops->prune != NULL)
		return c->ops->prune;
	if (strcmp(c->ops->name, "native") == 0)
		return &ckpt_prune_native_ops;
	return NULL;
}

/* Copies the directory part of path ("" for the root) into out. */
static void
dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

/* fsyncs the directory of earlier removals, if any. */
static int
flush_dir(struct prune_run *r)
{
	int rc;

	if (!r->dirty)
		return CKPT_OK;
	r->dirty = 0;
	rc = ckpt_store_sync_dir(ckpt_get_store(r->c), r->dir, r->err);
	return rc;
}

static int
report(struct prune_run *r, const struct ckpt_file *f, const char *reason)
{
	struct ckpt_prune_item it;

	r->st->files_removed++;
	r->st->bytes_freed += f->size;
	if (r->file_cb == NULL)
		return 0;
	memset(&it, 0, sizeof(it));
	it.what = CKPT_PRUNE_FILE;
	it.path = f->path;
	it.role = f->role;
	it.batch = f->batch;
	it.bytes = f->size;
	it.reason = reason;
	return r->file_cb(r->arg, &it);
}

static int
remove_one(struct prune_run *r, const struct ckpt_file *f)
{
	char dir[sizeof(r->dir)];
	int rc;

	dir_of(f->path, dir, sizeof(dir));
	if (r->dirty && strcmp(dir, r->dir) != 0) {
		rc = flush_dir(r);
		if (rc != CKPT_OK)
			return rc;
	}
	rc = ckpt_ctx_check_interrupt(r->c->ctx, "prune stopped", r->err);
	if (rc != CKPT_OK)
		return rc;
	ckpt_crash_point(r->c->ctx, "prune.mid_delete");
	rc = ckpt_store_remove(ckpt_get_store(r->c), f->path, r->err);
	if (rc != CKPT_OK)
		return rc;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->dirty = 1;
	/* the total is unknown: the walk decides file by file */
	ckpt_ctx_progress(r->c->ctx, "prune", r->st->files_removed + 1, 0);
	return CKPT_OK;
}

/*
 * Keeps f among the PRUNE_CHUNK planned phase-1 files of highest batch
 * seen in this walk.
 */
static int
chunk_add(struct prune_run *r, const struct ckpt_file *f)
{
	struct chunk_ent *e;
	size_t i, low = 0;

	if (strlen(f->path) >= sizeof(e->path))
		return ckpt_error_set(r->err, CKPT_E_UNSUPPORTED,
		    "cannot prune '%s': path too long", f->path);
	if (r->nchunk < PRUNE_CHUNK) {
		e = &r->chunk[r->nchunk++];
	} else {
		for (i = 1; i < r->nchunk; i++)
			if (r->chunk[i].batch < r->chunk[low].batch)
				low = i;
		if (f->batch <= r->chunk[low].batch)
			return CKPT_OK;
		e = &r->chunk[low];
	}
	e->batch = f->batch;
	e->size = f->size;
	e->role = f->role;
	memcpy(e->path, f->path, strlen(f->path) + 1);
	return CKPT_OK;
}

static int
chunk_cmp_desc(const void *a, const void *b)
{
	const struct chunk_ent *x = a, *y = b;

	return x->batch < y->batch ? 1 : x->batch > y->batch ? -1 :
	    strcmp(x->path, y->path);
}

static int
on_file(void *arg, const struct ckpt_file *f)
{
	struct prune_run *r = arg;
	char reason[256];
	int phase;

	reason[0] = '\0';
	phase = r->pops->classify(r->plan, f, reason, sizeof(reason));
	if (phase == 0) {
		if (r->count_kept) {
			r->st->files_kept++;
			r->st->bytes_kept += f->size;
		}
		return 0;
	}
	if (r->recheck) {
		r->left++;
		return 0;
	}
	if (r->phase != 0 && phase != r->phase)
		return 0;
	if (r->phase == 1) {
		r->rc = chunk_add(r, f);
		return r->rc != CKPT_OK;
	}
	if (r->phase != 0) {
		r->rc = remove_one(r, f);
		if (r->rc != CKPT_OK)
			return 1;
	}
	if (report(r, f, reason) != 0) {
		r->rc = ckpt_error_set(r->err, CKPT_E_INTERRUPTED,
		    "prune stopped: interrupted by the caller");
		return 1;
	}
	return 0;
}

static int
walk(struct prune_run *r)
{
	int rc;

	r->rc = CKPT_OK;
	rc = ckpt_files_walk(r->c, on_file, r, r->err);
	if (r->rc != CKPT_OK)
		return r->rc;
	if (rc != CKPT_OK)
		return rc;
	return flush_dir(r);
}

/*
 * Phase 1: removes the planned commit entries newest first, a chunk
 * per walk, until a walk finds none.
 */
static int
phase1(struct prune_run *r)
{
	struct ckpt_file f;
	char reason[256];
	size_t i;
	int rc;

	for (;;) {
		r->phase = 1;
		r->nchunk = 0;
		rc = walk(r);
		r->count_kept = 0;
		if (rc != CKPT_OK || r->nchunk == 0)
			return rc;
		qsort(r->chunk, r->nchunk, sizeof(*r->chunk),
		    chunk_cmp_desc);
		for (i = 0; i < r->nchunk; i++) {
			memset(&f, 0, sizeof(f));
			f.path = r->chunk[i].path;
			f.role = r->chunk[i].role;
			f.batch = r->chunk[i].batch;
			f.size = r->chunk[i].size;
			f.op = f.partition = -1;
			reason[0] = '\0';
			(void)r->pops->classify(r->plan, &f, reason,
			    sizeof(reason));
			rc = remove_one(r, &f);
			if (rc == CKPT_OK && report(r, &f, reason) != 0)
				rc = ckpt_error_set(r->err, CKPT_E_INTERRUPTED,
				    "prune stopped: interrupted by the caller");
			if (rc != CKPT_OK)
				return rc;
		}
		rc = flush_dir(r);
		if (rc != CKPT_OK)
			return rc;
	}
}

/* Runs phase 1 then phase 2, re-walking while planned files remain. */
static int
prune_delete(struct prune_run *r)
{
	int pass, rc;

	for (pass = 0; pass < PRUNE_PASSES; pass++) {
		r->count_kept = pass == 0;
		rc = phase1(r);
		if (rc != CKPT_OK)
			return rc;
		r->phase = 2;
		rc = walk(r);
		if (rc != CKPT_OK)
			return rc;
		r->recheck = 1;
		r->left = 0;
		rc = walk(r);
		r->recheck = 0;
		if (rc != CKPT_OK)
			return rc;
		if (r->left == 0)
			return CKPT_OK;
	}
	return ckpt_error_set(r->err, CKPT_E_IO,
	    "cannot prune '%s': %llu planned file(s) still present after %d "
	    "passes", ckpt_store_url(ckpt_get_store(r->c)),
	    (unsigned long long)r->left, PRUNE_PASSES);
}

int64_t
ops_prune_min(int64_t a, int64_t b)
{
	if (a == CKPT_NONE)
		return b;
	if (b == CKPT_NONE)
		return a;
	return a < b ? a : b;
}

int
ops_prune_rule_bounds(struct ckpt *c, int64_t ncommitted, int64_t keep_last,
	int64_t t_within, int64_t *k_last, int64_t *k_within,
	struct ckpt_error *err)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int64_t idx = 0, want = ncommitted - keep_last;
	int rc;

	*k_last = *k_within = CKPT_NONE;
	rc = ckpt_batch_iter_open(c, &it, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, err)) == CKPT_OK) {
		if (!b.committed)
			continue;
		if (keep_last > 0 && *k_last == CKPT_NONE && idx >= want)
			*k_last = b.id;
		if (t_within != CKPT_NONE && *k_within == CKPT_NONE &&
		    b.time_ms != CKPT_NONE && b.time_ms >= t_within)
			*k_within = b.id;
		idx++;
	}
	ckpt_batch_iter_close(it);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

int
ops_prune_tally(const void *plan, const struct ckpt_batch *b, int gone,
	ops_prune_why_fn why, ckpt_prune_fn cb, void *arg,
	struct ckpt_prune_stats *st)
{
	struct ckpt_prune_item item;
	char reason[512];

	if (gone) {
		st->batches_removed++;
		return 0;
	}
	st->batches_kept++;
	if (st->oldest_kept == CKPT_NONE)
		st->oldest_kept = b->id;
	if (cb == NULL)
		return 0;
	why(plan, b, reason, sizeof(reason));
	memset(&item, 0, sizeof(item));
	item.what = CKPT_PRUNE_KEPT;
	item.batch = b->id;
	item.bytes = b->bytes;
	item.reason = reason;
	item.role = -1;
	return cb(arg, &item);
}

int
ops_prune_kept_walk(struct ckpt *c, const void *plan,
	ops_prune_gone_fn gone, ops_prune_why_fn why, ckpt_prune_fn cb,
	void *arg, struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int rc;

	rc = ckpt_batch_iter_open(c, &it, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, err)) == CKPT_OK)
		if (ops_prune_tally(plan, &b, gone(plan, &b), why, cb, arg,
		    st) != 0)
			break;
	ckpt_batch_iter_close(it);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

int
ckpt_prune(struct ckpt_ctx *ctx, const char *url,
	const struct ckpt_prune_opts *o, ckpt_prune_fn file_cb,
	ckpt_prune_fn kept_cb, void *arg, struct ckpt_prune_stats *stats,
	struct ckpt_error *err)
{
	struct ckpt_store *st = NULL;
	struct ckpt_lock *lk = NULL;
	struct prune_run r;
	int rc;

	memset(stats, 0, sizeof(*stats));
	stats->restart_point = CKPT_NONE;
	stats->oldest_kept = CKPT_NONE;
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.file_cb = file_cb;
	r.arg = arg;
	r.st = stats;
	r.err = err;
	if (o->keep_last == 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot prune: --keep-last must be at least 1");
	rc = ckpt_store_open(ctx, url, o->dry_run ? CKPT_STORE_RDONLY :
	    CKPT_STORE_RDWR, &st, err);
	if (rc != CKPT_OK)
		return rc;
	if (!o->dry_run) {
		rc = ckpt_store_lock(st, "ckpt prune", &lk, err);
		if (rc != CKPT_OK)
			goto out_close_store;
	}
	rc = ckpt_open_store(ctx, st, &r.c, err);
	if (rc != CKPT_OK)
		goto out_unlock;
	r.pops = prune_ops_of(r.c);
	if (r.pops == NULL) {
		rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot prune '%s': not supported for %s checkpoints",
		    url, r.c->ops->name);
		goto out_ckpt;
	}
	rc = r.pops->plan(r.c, o, &r.plan, stats, err);
	if (rc != CKPT_OK)
		goto out_ckpt;
	rc = r.pops->kept(r.c, r.plan, kept_cb, arg, stats, err);
	if (rc != CKPT_OK)
		goto out_plan;
	if (o->dry_run) {
		r.phase = 0;
		r.count_kept = 1;
		rc = walk(&r);
	} else {
		r.chunk = malloc(PRUNE_CHUNK * sizeof(*r.chunk));
		rc = r.chunk != NULL ? prune_delete(&r) :
		    ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot prune '%s': out of memory", url);
		free(r.chunk);
	}
out_plan:
	r.pops->plan_free(r.plan);
out_ckpt:
	ckpt_close(r.c);
out_unlock:
	ckpt_lock_release(lk);
out_close_store:
	ckpt_store_close(st);
	return rc;
}
