/*
 * fmt_dstream_prune.c - the retention plan of legacy Spark Streaming
 * (DStream) checkpoints, for ckpt_prune() (lib/ops/ops_prune.c).
 *
 * A DStream directory holds generations: checkpoint-<t> and
 * checkpoint-<t>.bk with their Hadoop sidecars (docs/spark-checkpoint-
 * format.md section 7.1).  Spark itself keeps the newest 10 files.
 * Kept here: the newest N generations (--keep-last N), those within D
 * of the newest (--keep-within D), the generation holding the restart
 * file (the one Spark's CheckpointReader would load, even when newer
 * files do not decode), and, with no rule, every generation.  As the
 * kept generations are always the newest ones, everything from the
 * oldest kept generation on stays.  Removed: older generations with
 * their sidecars, the "temp" file of an interrupted write, orphan
 * sidecars.  Write-ahead logs (receivedBlockMetadata/, receivedData/)
 * and RDD checkpoint dirs are kept: Spark cleans them by time from
 * state this driver cannot see.  Memory: the plan is a few numbers;
 * generations are found by passes over the root listing.
 */
#include "dstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dplan {
	int64_t restart;	/* generation of the restart file, CKPT_NONE */
	int64_t k0;		/* oldest generation kept; CKPT_NONE: all */
	int64_t k_last;		/* oldest kept by --keep-last */
	int64_t t_within;	/* oldest time kept by --keep-within */
	int64_t keep_last;
	int64_t within_ms;
	char within_text[32];
};

/* Counts generations; *newest the time of the newest. */
static int
count_gens(struct ckpt_store *st, uint64_t *n, int64_t *newest,
	struct ckpt_error *err)
{
	struct dstream_gen g;
	int64_t after = CKPT_NONE;
	int rc;

	*n = 0;
	*newest = CKPT_NONE;
	while ((rc = dstream_gen_next(st, after, &g, err)) == CKPT_OK) {
		(*n)++;
		*newest = after = g.time_ms;
	}
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

/* The time of the generation whose index (from the oldest) is idx. */
static int
gen_at(struct ckpt_store *st, uint64_t idx, int64_t *t,
	struct ckpt_error *err)
{
	struct dstream_gen g;
	int64_t after = CKPT_NONE;
	uint64_t i = 0;
	int rc;

	*t = CKPT_NONE;
	while ((rc = dstream_gen_next(st, after, &g, err)) == CKPT_OK) {
		after = g.time_ms;
		if (i++ == idx) {
			*t = g.time_ms;
			return CKPT_OK;
		}
	}
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

/* The generation (file name time) of the restart file, CKPT_NONE. */
static int
restart_gen(struct ckpt_store *st, int64_t *t, struct ckpt_error *err)
{
	struct dstream_scan sc;
	struct dstream_file f;
	char rule[160];
	int rc, bk;

	*t = CKPT_NONE;
	rc = dstream_scan(st, &sc, err);
	if (rc != CKPT_OK)
		return rc;
	memset(&f, 0, sizeof(f));
	rc = dstream_restart(st, &sc, &f, &bk, rule, sizeof(rule), err);
	if (rc == CKPT_EOF)
		return CKPT_OK;
	if (rc != CKPT_OK)
		return rc;
	if (!dstream_parse_name(f.name, t, &bk))
		*t = CKPT_NONE;
	dstream_file_release(&f);
	return CKPT_OK;
}

static int
ds_plan(struct ckpt *c, const struct ckpt_prune_opts *o, void **out,
	struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	struct dplan *pl;
	uint64_t n;
	int64_t newest;
	int rc;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot plan the prune: out of memory");
	pl->keep_last = o->keep_last;
	pl->within_ms = o->keep_within_ms;
	pl->k0 = pl->k_last = pl->t_within = CKPT_NONE;
	if (pl->within_ms >= 0)
		ckpt_duration_format(pl->within_ms, pl->within_text,
		    sizeof(pl->within_text));
	rc = restart_gen(c->st, &pl->restart, err);
	if (rc == CKPT_OK)
		rc = count_gens(c->st, &n, &newest, err);
	if (rc != CKPT_OK) {
		free(pl);
		return rc;
	}
	st->restart_point = pl->restart;
	if (pl->restart != CKPT_NONE &&
	    (pl->keep_last > 0 || pl->within_ms >= 0)) {
		if (pl->keep_last > 0) {
			rc = gen_at(c->st, (uint64_t)pl->keep_last >= n ? 0 :
			    n - (uint64_t)pl->keep_last, &pl->k_last, err);
			if (rc != CKPT_OK) {
				free(pl);
				return rc;
			}
		}
		if (pl->within_ms >= 0 && newest != CKPT_NONE)
			pl->t_within = newest - pl->within_ms;
		pl->k0 = ops_prune_min(pl->restart,
		    ops_prune_min(pl->k_last, pl->t_within));
	}
	*out = pl;
	return CKPT_OK;
}

static int
ds_classify(void *plan, const struct ckpt_file *f, char *reason,
	size_t cap)
{
	const struct dplan *pl = plan;

	switch (f->role) {
	case CKPT_F_TEMP:
		snprintf(reason, cap,
		    "temporary file left by an interrupted checkpoint write");
		return 2;
	case CKPT_F_ORPHAN:
		snprintf(reason, cap, "orphan sidecar: its file is gone");
		return 2;
	case CKPT_F_METADATA:
	case CKPT_F_CHECKSUM:
		if (pl->k0 == CKPT_NONE || f->batch == CKPT_NONE ||
		    f->batch >= pl->k0)
			return 0;
		snprintf(reason, cap, "generation %lld is older than the "
		    "oldest generation kept (%lld)", (long long)f->batch,
		    (long long)pl->k0);
		/* the checkpoint files first, their sidecars after */
		return f->role == CKPT_F_METADATA ? 1 : 2;
	default:
		return 0;
	}
}

/* Why generation g (its id the time) is kept. */
static void
kept_reason(const void *plan, const struct ckpt_batch *g, char *buf,
	size_t cap)
{
	const struct dplan *pl = plan;
	int64_t t = g->id;
	size_t n;

	buf[0] = '\0';
	if (t == pl->restart)
		snprintf(buf, cap, "restart point (the file Spark would "
		    "load)");
	if (pl->k0 == CKPT_NONE) {
		n = strlen(buf);
		snprintf(buf + n, cap - n, "%s%s", n ? "; " : "",
		    pl->restart == CKPT_NONE ? "no checkpoint file decodes: "
		    "every generation is kept" : "no --keep-last or "
		    "--keep-within: every generation is kept");
		return;
	}
	if (pl->k_last != CKPT_NONE && t >= pl->k_last) {
		n = strlen(buf);
		snprintf(buf + n, cap - n, "%sone of the newest %lld "
		    "generations (--keep-last)", n ? "; " : "",
		    (long long)pl->keep_last);
	}
	if (pl->t_within != CKPT_NONE && t >= pl->t_within) {
		n = strlen(buf);
		snprintf(buf + n, cap - n, "%swithin %s of the newest "
		    "generation (--keep-within)", n ? "; " : "",
		    pl->within_text);
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "newer than the restart point");
}

static int
ds_kept(struct ckpt *c, void *plan, ckpt_prune_fn cb, void *arg,
	struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	const struct dplan *pl = plan;
	struct ckpt_batch b;
	struct dstream_gen g;
	int64_t after = CKPT_NONE;
	int rc;

	while ((rc = dstream_gen_next(c->st, after, &g, err)) == CKPT_OK) {
		after = g.time_ms;
		memset(&b, 0, sizeof(b));
		b.id = b.time_ms = g.time_ms;
		b.bytes = g.bytes;
		if (ops_prune_tally(pl, &b, pl->k0 != CKPT_NONE &&
		    g.time_ms < pl->k0, kept_reason, cb, arg, st) != 0)
			return CKPT_OK;
	}
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

static void
ds_plan_free(void *plan)
{
	free(plan);
}

const struct ckpt_prune_ops dstream_prune_ops = {
	ds_plan, ds_classify, ds_kept, ds_plan_free
};
