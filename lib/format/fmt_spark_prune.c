/*
 * fmt_spark_prune.c - the retention plan of Spark Structured Streaming
 * checkpoints, for ckpt_prune() (lib/ops/ops_prune.c).
 *
 * Spark's own rules (docs/spark-checkpoint-format.md sections 1.6 and
 * 2.5): with M = spark.sql.streaming.minBatchesToRetain (default 100),
 * offsets/ and commits/ keep the newest M batches, and each state
 * partition keeps every file needed to rebuild the oldest version those
 * batches may restart from: its newest snapshot at or before it (else
 * its oldest file) and everything newer.  Here --keep-last N stands for
 * M (100 when no rule is given) and --keep-within D keeps the batches
 * whose batchTimestampMs is within D of the newest.  Let K0 be the
 * oldest batch kept (never newer than the restart point R); a restart
 * right after K0 loads state version T = K0 + 1, so per store and
 * partition the files below the base of T go.
 *
 * Always kept: metadata, sources/ (file source logs compact, they are
 * not purged by batch), schema and operator metadata, RocksDB state
 * (its SST files are shared between versions), nested checkpoints and
 * DStream files (OTHER), foreign files.  Removed as leftovers: temp
 * files and orphan sidecars.  The uncommitted batch a restart re-runs
 * (offsets/L and its partial state versions) is kept unless
 * --discard-uncommitted.  Memory: one base version per store partition.
 */
#include "spark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPARK_MIN_BATCHES_TO_RETAIN 100

struct splan {
	int64_t restart;	/* R, CKPT_NONE */
	int64_t state_version;	/* what a restart loads; above: partial */
	int64_t k0;		/* oldest batch kept; CKPT_NONE keeps all */
	int64_t target;		/* version a restart after K0 loads */
	int64_t keep_last;	/* effective M */
	int64_t t_within;	/* oldest batch time kept, CKPT_NONE */
	int64_t k_last, k_within;
	int by_default;		/* no rule given: Spark's default M */
	int discard;
	int nstores;
	int *parts;		/* per store */
	int64_t **base;		/* per store, per partition; CKPT_NONE */
};

static void
plan_free(void *p)
{
	struct splan *pl = p;
	int i;

	if (!pl)
		return;
	for (i = 0; i < pl->nstores; i++)
		free(pl->base[i]);
	free(pl->base);
	free(pl->parts);
	free(pl);
}

/* Committed count, newest time; then the oldest batch each rule keeps. */
static int
rule_bounds(struct ckpt *c, struct splan *pl, int64_t within_ms,
	struct ckpt_error *err)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int64_t ncommitted = 0, tmax = CKPT_NONE;
	int rc;

	rc = ckpt_batch_iter_open(c, &it, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, err)) == CKPT_OK) {
		if (!b.committed)
			continue;
		ncommitted++;
		if (b.time_ms != CKPT_NONE && (tmax == CKPT_NONE ||
		    b.time_ms > tmax))
			tmax = b.time_ms;
	}
	ckpt_batch_iter_close(it);
	if (rc != CKPT_EOF)
		return rc;
	if (within_ms >= 0 && tmax != CKPT_NONE)
		pl->t_within = tmax - within_ms;
	return ops_prune_rule_bounds(c, ncommitted, pl->keep_last,
		pl->t_within, &pl->k_last, &pl->k_within, err);
}

struct base_walk {
	struct ckpt *c;
	const struct spark_store *s;
	int64_t *base;
	int64_t target;
	struct ckpt_error *err;
	int rc;
};

static int
base_part(void *arg, int p)
{
	struct base_walk *bw = arg;
	struct spark_part_scan ps;

	if (p >= bw->s->parts)
		return 0;
	bw->rc = spark_part_scan(bw->c, bw->s, p, bw->target, &ps, bw->err);
	if (bw->rc != CKPT_OK)
		return 1;
	bw->base[p] = ps.best_snapshot != CKPT_NONE ? ps.best_snapshot :
		ps.min_version;
	return 0;
}

/* Per store partition: the oldest version rebuilding T needs. */
static int
state_bases(struct ckpt *c, struct splan *pl, struct ckpt_error *err)
{
	struct spark *sp = c->priv;
	struct base_walk bw;
	int i, p, rc;

	pl->nstores = sp->nstores;
	if (!pl->nstores)
		return CKPT_OK;
	pl->parts = calloc((size_t)pl->nstores, sizeof(*pl->parts));
	pl->base = calloc((size_t)pl->nstores, sizeof(*pl->base));
	if (!pl->parts || !pl->base)
		goto nomem;
	for (i = 0; i < pl->nstores; i++) {
		struct spark_store *s = &sp->stores[i];
		rc = spark_store_stats(c, s, err);
		if (rc != CKPT_OK)
			return rc;
		if (s->rocksdb)
			continue;	/* kept whole: shared SST files */
		pl->base[i] = malloc(((size_t)s->parts + 1) *
			sizeof(**pl->base));
		if (!pl->base[i])
			goto nomem;
		pl->parts[i] = s->parts;
		for (p = 0; p < s->parts; p++)
			pl->base[i][p] = CKPT_NONE;
		bw.c = c;
		bw.s = s;
		bw.base = pl->base[i];
		bw.target = pl->target;
		bw.err = err;
		bw.rc = CKPT_OK;
		rc = spark_parts_each(c, s, base_part, &bw, err);
		if (rc == CKPT_OK)
			rc = bw.rc;
		if (rc != CKPT_OK)
			return rc;
	}
	return CKPT_OK;
nomem:
	return ckpt_error_set(err, CKPT_E_NOMEM,
		"cannot plan the prune: out of memory");
}

static int
spark_prune_plan(struct ckpt *c, const struct ckpt_prune_opts *o,
	void **out, struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	struct spark *sp = c->priv;
	struct splan *pl;
	int rc;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot plan the prune: out of memory");
	pl->restart = sp->restart_point;
	pl->state_version = sp->state_version;
	pl->discard = o->discard_uncommitted;
	pl->k0 = pl->target = pl->t_within = CKPT_NONE;
	pl->by_default = o->keep_last < 0 && o->keep_within_ms < 0;
	pl->keep_last = o->keep_last >= 0 ? o->keep_last :
		pl->by_default ? SPARK_MIN_BATCHES_TO_RETAIN : -1;
	st->restart_point = pl->restart;
	if (pl->restart == CKPT_NONE) {
		*out = pl;	/* nothing restores: only leftovers go */
		return CKPT_OK;
	}
	rc = rule_bounds(c, pl, o->keep_within_ms, err);
	if (rc != CKPT_OK)
		goto fail;
	if (pl->keep_last < 0)
		pl->k_last = CKPT_NONE;
	if (pl->keep_last == 0 && pl->k_within == CKPT_NONE)
		pl->k_last = pl->restart;
	pl->k0 = ops_prune_min(pl->restart,
		ops_prune_min(pl->k_last, pl->k_within));
	if (pl->k0 == CKPT_NONE)
		pl->k0 = pl->restart;
	pl->target = pl->k0 + 1;
	rc = state_bases(c, pl, err);
	if (rc != CKPT_OK)
		goto fail;
	*out = pl;
	return CKPT_OK;
fail:
	plan_free(pl);
	return rc;
}

static int
is_log(const char *path)
{
	return strncmp(path, "offsets/", 8) == 0 ||
		strncmp(path, "commits/", 8) == 0;
}

static int
spark_prune_classify(void *plan, const struct ckpt_file *f, char *reason,
	size_t cap)
{
	const struct splan *pl = plan;
	int64_t b = f->batch;
	int first = f->role == CKPT_F_COMMIT ? 1 : 2;

	switch (f->role) {
	case CKPT_F_TEMP:
		snprintf(reason, cap, "temporary file left by an interrupted "
			"write");
		return 2;
	case CKPT_F_ORPHAN:
		snprintf(reason, cap, "orphan checksum sidecar: its file is "
			"gone");
		return 2;
	case CKPT_F_OFFSETS:
	case CKPT_F_COMMIT:
	case CKPT_F_DELTA:
	case CKPT_F_SNAPSHOT:
	case CKPT_F_UNCOMMITTED:
	case CKPT_F_CHECKSUM:
		break;
	default:
		return 0;
	}
	if (b == CKPT_NONE || pl->restart == CKPT_NONE)
		return 0;
	if (is_log(f->path)) {
		if (b < pl->k0) {
			snprintf(reason, cap, "batch %lld is older than the "
				"oldest batch kept (%lld)", (long long)b,
				(long long)pl->k0);
			return first;
		}
		if (b > pl->restart && pl->discard) {
			snprintf(reason, cap, "batch %lld never committed "
				"(--discard-uncommitted)", (long long)b);
			return first;
		}
		return 0;
	}
	if (strncmp(f->path, "state/", 6) != 0 || f->op < 0 ||
	    f->op >= pl->nstores || !pl->base[f->op] || f->partition < 0 ||
	    f->partition >= pl->parts[f->op])
		return 0;
	if (f->role == CKPT_F_UNCOMMITTED ||
	    (f->role == CKPT_F_CHECKSUM && b > pl->state_version)) {
		if (!pl->discard)
			return 0;
		snprintf(reason, cap, "state version %lld of a batch that "
			"never committed (--discard-uncommitted)",
			(long long)b);
		return 2;
	}
	if (pl->base[f->op][f->partition] != CKPT_NONE &&
	    b < pl->base[f->op][f->partition]) {
		snprintf(reason, cap, "state version %lld is older than "
			"version %lld, the base of version %lld (batch %lld)",
			(long long)b, (long long)pl->base[f->op][f->partition],
			(long long)pl->target, (long long)pl->k0);
		return 2;
	}
	return 0;
}

static void
kept_reason(const void *plan, const struct ckpt_batch *b, char *buf,
	size_t cap)
{
	const struct splan *pl = plan;
	size_t n;

	buf[0] = 0;
	if (b->id == pl->restart)
		snprintf(buf, cap, "restart point; ");
	n = strlen(buf);
	if (pl->restart == CKPT_NONE || b->id > pl->restart)
		snprintf(buf + n, cap - n, "uncommitted: a restart re-runs it");
	else if (pl->by_default)
		snprintf(buf + n, cap - n, "one of the newest %d committed "
			"batches (Spark's minBatchesToRetain default)",
			SPARK_MIN_BATCHES_TO_RETAIN);
	else if (pl->k_last != CKPT_NONE && b->id >= pl->k_last)
		snprintf(buf + n, cap - n, "one of the newest %lld committed "
			"batches (--keep-last)", (long long)pl->keep_last);
	else if (pl->k_within != CKPT_NONE && b->id >= pl->k_within)
		snprintf(buf + n, cap - n, "within the --keep-within window");
	else
		snprintf(buf + n, cap - n, "newer than the oldest batch kept");
}

/* Whether batch b goes (kept() counts it as removed). */
static int
spark_prune_gone(const void *plan, const struct ckpt_batch *b)
{
	const struct splan *pl = plan;

	if (pl->restart == CKPT_NONE)
		return 0;
	if (b->id < pl->k0)
		return 1;
	return b->id > pl->restart && pl->discard;
}

static int
spark_prune_kept(struct ckpt *c, void *plan, ckpt_prune_fn cb, void *arg,
	struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	return ops_prune_kept_walk(c, plan, spark_prune_gone, kept_reason,
		cb, arg, st, err);
}

const struct ckpt_prune_ops spark_prune_ops = {
	spark_prune_plan, spark_prune_classify, spark_prune_kept, plan_free
};
