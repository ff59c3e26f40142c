/*
 * ops_prune_native.c - the retention plan of native checkpoints.
 *
 * Kept: the restart point R; the newest N committed batches
 * (--keep-last); the batches whose time is within D of the newest
 * batch's time (--keep-within; relative to the checkpoint, not the
 * clock, so logical-time jobs prune the same way on every machine);
 * uncommitted batches newer than R unless --discard-uncommitted; with
 * no rule, every committed batch.  Let K0 be the oldest batch kept by
 * those rules and S0 the state checkpoint a restart at K0 loads.
 * Restoring K0 needs, for every operator partition, the newest
 * snapshot at or before S0 and the deltas after it up to S0, then the
 * offsets (and output) of S0+1..K0 to replay; restoring any newer kept
 * batch needs only newer files.  So everything from batch lo (the
 * oldest of those snapshots, or S0) to the newest batch is kept, and
 * what lies before lo goes, together with leftovers: temp files,
 * orphaned files, files of batches that never committed and are older
 * than R.  Write-ahead-log segments (wal/) are the engine's to release
 * and are always kept.  Memory: a counter per operator partition and
 * a bounded list of uncommitted batches, never a list of all batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "../format/fmt.h"

struct nplan {
	int64_t restart;	/* R, CKPT_NONE */
	int64_t first_committed;
	int64_t lo;		/* oldest batch kept; CKPT_NONE: keep all */
	int64_t k0;		/* oldest batch kept by a rule */
	int64_t s0;		/* the state checkpoint K0 restores from */
	int64_t k_last;		/* oldest of the newest N committed */
	int64_t t_within;	/* oldest batch time kept by --keep-within */
	int64_t keep_last;
	int64_t within_ms;
	int discard;
	char within_text[32];
	/* uncommitted batches older than R (leftovers), ascending */
	int64_t *holes;
	size_t nholes;
};

/* At most this many uncommitted batches older than R are removed per
 * run (a later run removes the rest); bounds the plan's memory. */
#define NPLAN_HOLES_MAX 4096

static int
is_hole(const struct nplan *pl, int64_t batch)
{
	size_t lo = 0, hi = pl->nholes;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pl->holes[mid] == batch)
			return 1;
		if (pl->holes[mid] < batch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Per operator partition: the chain a restart at S0 reads. */
struct chain {
	int64_t best_snap;	/* newest snapshot <= S0 */
	int64_t min_any;	/* oldest state file <= S0 */
};

struct chain_walk {
	int64_t s0;
	int nops;
	int parts[CKPT_MAX_OPERATORS];
	struct chain *ch[CKPT_MAX_OPERATORS];
};

static int
chain_file(void *arg, const struct ckpt_file *f)
{
	struct chain_walk *w = arg;
	struct chain *c;

	if (f->role != CKPT_F_SNAPSHOT && f->role != CKPT_F_DELTA)
		return 0;
	if (f->op < 0 || f->op >= w->nops || f->partition < 0 ||
	    f->partition >= w->parts[f->op] || f->batch == CKPT_NONE ||
	    f->batch > w->s0)
		return 0;
	c = &w->ch[f->op][f->partition];
	if (f->role == CKPT_F_SNAPSHOT &&
	    (c->best_snap == CKPT_NONE || f->batch > c->best_snap))
		c->best_snap = f->batch;
	if (c->min_any == CKPT_NONE || f->batch < c->min_any)
		c->min_any = f->batch;
	return 0;
}

/* The oldest batch whose state files a restart at S0 reads. */
static int
chain_base(struct ckpt *c, int64_t s0, int64_t *lo, struct ckpt_error *err)
{
	struct chain_walk w;
	struct ckpt_operator op;
	int i, p, rc = CKPT_OK;

	memset(&w, 0, sizeof(w));
	w.s0 = s0;
	w.nops = ckpt_operator_count(c);
	if (w.nops > CKPT_MAX_OPERATORS)
		w.nops = CKPT_MAX_OPERATORS;
	for (i = 0; i < w.nops && rc == CKPT_OK; i++) {
		memset(&op, 0, sizeof(op));
		rc = ckpt_operator_get(c, i, &op, err);
		if (rc != CKPT_OK)
			break;
		w.parts[i] = op.partitions > 0 ? op.partitions : 0;
		ckpt_operator_release(&op);
		w.ch[i] = calloc((size_t)w.parts[i] + 1, sizeof(*w.ch[i]));
		if (w.ch[i] == NULL) {
			rc = ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot plan the prune: out of memory");
			break;
		}
		for (p = 0; p < w.parts[i]; p++)
			w.ch[i][p].best_snap = w.ch[i][p].min_any = CKPT_NONE;
	}
	if (rc == CKPT_OK)
		rc = ckpt_files_walk(c, chain_file, &w, err);
	*lo = s0;
	for (i = 0; i < w.nops && rc == CKPT_OK; i++)
		for (p = 0; p < w.parts[i]; p++) {
			const struct chain *ch = &w.ch[i][p];
			int64_t need = ch->best_snap != CKPT_NONE ?
			    ch->best_snap : ch->min_any;

			if (need != CKPT_NONE && need < *lo)
				*lo = need;
		}
	for (i = 0; i < w.nops; i++)
		free(w.ch[i]);
	return rc;
}

/* Pass 1: committed count, first committed, newest time. */
static int
scan_batches(struct ckpt *c, struct nplan *pl, int64_t *ncommitted,
	int64_t *first_committed, int64_t *tmax, struct ckpt_error *err)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int rc;

	*ncommitted = 0;
	*first_committed = *tmax = CKPT_NONE;
	rc = ckpt_batch_iter_open(c, &it, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, err)) == CKPT_OK) {
		if (b.time_ms != CKPT_NONE &&
		    (*tmax == CKPT_NONE || b.time_ms > *tmax))
			*tmax = b.time_ms;
		if (!b.committed && pl->restart != CKPT_NONE &&
		    b.id < pl->restart && pl->nholes < NPLAN_HOLES_MAX) {
			if (pl->holes == NULL) {
				pl->holes = malloc(NPLAN_HOLES_MAX *
				    sizeof(*pl->holes));
				if (pl->holes == NULL) {
					rc = ckpt_error_set(err, CKPT_E_NOMEM,
					    "cannot plan the prune: out of "
					    "memory");
					break;
				}
			}
			pl->holes[pl->nholes++] = b.id;
		}
		if (!b.committed)
			continue;
		if (*first_committed == CKPT_NONE)
			*first_committed = b.id;
		(*ncommitted)++;
	}
	ckpt_batch_iter_close(it);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

static int
nat_plan(struct ckpt *c, const struct ckpt_prune_opts *o, void **out,
	struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	struct ckpt_info info;
	struct nplan *pl;
	int64_t ncommitted, tmax, k_within = CKPT_NONE;
	int rc;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot plan the prune: out of memory");
	pl->keep_last = o->keep_last;
	pl->within_ms = o->keep_within_ms;
	pl->discard = o->discard_uncommitted;
	pl->lo = pl->k0 = pl->s0 = pl->k_last = pl->t_within = CKPT_NONE;
	if (pl->within_ms >= 0)
		ckpt_duration_format(pl->within_ms, pl->within_text,
		    sizeof(pl->within_text));
	memset(&info, 0, sizeof(info));
	rc = ckpt_info_get(c, &info, err);
	if (rc != CKPT_OK)
		goto fail;
	pl->restart = info.restart_point;
	ckpt_info_release(&info);
	st->restart_point = pl->restart;
	rc = scan_batches(c, pl, &ncommitted, &pl->first_committed, &tmax, err);
	if (rc != CKPT_OK)
		goto fail;
	if (pl->restart == CKPT_NONE) {
		/* Nothing restores: keep every batch, drop only leftovers. */
		*out = pl;
		return CKPT_OK;
	}
	if (pl->within_ms >= 0 && tmax != CKPT_NONE)
		pl->t_within = tmax - pl->within_ms;
	/* Pass 2: the oldest committed batch each rule keeps. */
	rc = ops_prune_rule_bounds(c, ncommitted, pl->keep_last, pl->t_within,
	    &pl->k_last, &k_within, err);
	if (rc != CKPT_OK)
		goto fail;
	if (pl->keep_last < 0 && pl->within_ms < 0)
		pl->k0 = pl->first_committed;
	else
		pl->k0 = ops_prune_min(pl->restart,
		    ops_prune_min(pl->k_last, k_within));
	rc = ckpt_native_state_base(c, pl->k0, &pl->s0, err);
	if (rc != CKPT_OK)
		goto fail;
	if (pl->s0 == CKPT_NONE) {
		/* K0 replays from the very first batch. */
		pl->lo = CKPT_NONE;
	} else {
		rc = chain_base(c, pl->s0, &pl->lo, err);
		if (rc != CKPT_OK)
			goto fail;
	}
	*out = pl;
	return CKPT_OK;
fail:
	free(pl->holes);
	free(pl);
	return rc;
}

static int
nat_classify(void *plan, const struct ckpt_file *f, char *reason,
	size_t cap)
{
	const struct nplan *pl = plan;
	int first = f->role == CKPT_F_COMMIT ? 1 : 2;
	long long b = (long long)f->batch;

	switch (f->role) {
	case CKPT_F_TEMP:
		snprintf(reason, cap,
		    "temporary file left by an interrupted write");
		return 2;
	case CKPT_F_LOCK:
	case CKPT_F_METADATA:
	case CKPT_F_SCHEMA:
	case CKPT_F_FOREIGN:
	case CKPT_F_OTHER:
	/*
	 * Write-ahead-log segments and source logs are numbered by
	 * segment, not by batch; the engine releases the segments no
	 * state checkpoint needs any more (its source's release()).
	 */
	case CKPT_F_WAL:
	case CKPT_F_SOURCE:
		return 0;
	default:
		break;
	}
	if (f->batch == CKPT_NONE) {
		if (f->role != CKPT_F_ORPHAN)
			return 0;
		snprintf(reason, cap, "orphaned: no batch refers to it");
		return 2;
	}
	if (pl->restart != CKPT_NONE && pl->lo != CKPT_NONE &&
	    f->batch < pl->lo) {
		snprintf(reason, cap,
		    "batch %lld is older than the oldest batch kept (%lld)", b,
		    (long long)pl->lo);
		return first;
	}
	if (pl->restart == CKPT_NONE || f->batch > pl->restart) {
		if (!pl->discard)
			return 0;
		snprintf(reason, cap, "batch %lld never committed and is newer "
		    "than the restart point (--discard-uncommitted)", b);
		return first;
	}
	if (f->role == CKPT_F_ORPHAN || f->role == CKPT_F_UNCOMMITTED ||
	    is_hole(pl, f->batch)) {
		snprintf(reason, cap, "left by batch %lld, which never "
		    "committed, before the restart point %lld", b,
		    (long long)pl->restart);
		return 2;
	}
	return 0;
}

/* Appends "; what" (or "what") to buf. */
static void
add_reason(char *buf, size_t cap, const char *what)
{
	size_t n = strlen(buf);

	snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", what);
}

static void
kept_reason(const void *plan, const struct ckpt_batch *b, char *buf,
	size_t cap)
{
	const struct nplan *pl = plan;
	char tmp[160];

	buf[0] = '\0';
	if (b->id == pl->restart)
		add_reason(buf, cap, "restart point");
	if (pl->restart == CKPT_NONE || b->id > pl->restart) {
		add_reason(buf, cap, "uncommitted, newer than the restart "
		    "point: recovery re-runs it");
		return;
	}
	if (pl->keep_last < 0 && pl->within_ms < 0 && b->committed)
		add_reason(buf, cap, "no --keep-last or --keep-within: every "
		    "committed batch is kept");
	if (pl->k_last != CKPT_NONE && b->committed && b->id >= pl->k_last) {
		snprintf(tmp, sizeof(tmp), "one of the newest %lld committed "
		    "batches (--keep-last)", (long long)pl->keep_last);
		add_reason(buf, cap, tmp);
	}
	if (pl->t_within != CKPT_NONE && b->committed &&
	    b->time_ms != CKPT_NONE && b->time_ms >= pl->t_within) {
		snprintf(tmp, sizeof(tmp), "within %s of the newest batch "
		    "(--keep-within)", pl->within_text);
		add_reason(buf, cap, tmp);
	}
	if (buf[0] != '\0' || pl->k0 == CKPT_NONE)
		return;
	if (pl->s0 == CKPT_NONE)
		snprintf(tmp, sizeof(tmp), "replayed when restoring batch %lld "
		    "(no state checkpoint before it)", (long long)pl->k0);
	else if (b->id > pl->s0)
		snprintf(tmp, sizeof(tmp), "replayed when restoring batch %lld "
		    "from the state of batch %lld", (long long)pl->k0,
		    (long long)pl->s0);
	else if (b->has_state)
		snprintf(tmp, sizeof(tmp), "holds state that batch %lld "
		    "restores from (state of batch %lld, chain from batch "
		    "%lld)", (long long)pl->k0, (long long)pl->s0,
		    (long long)pl->lo);
	else
		snprintf(tmp, sizeof(tmp), "inside the state chain that "
		    "batch %lld restores from (batches %lld..%lld are kept "
		    "whole)", (long long)pl->k0, (long long)pl->lo,
		    (long long)pl->s0);
	add_reason(buf, cap, tmp);
}

/* Whether batch b goes (kept() counts it as removed). */
static int
nat_gone(const void *plan, const struct ckpt_batch *b)
{
	const struct nplan *pl = plan;

	if (pl->restart == CKPT_NONE)
		return pl->discard;
	if (pl->lo != CKPT_NONE && b->id < pl->lo)
		return 1;
	if (b->id > pl->restart)
		return pl->discard;
	return !b->committed;
}

static int
nat_kept(struct ckpt *c, void *plan, ckpt_prune_fn cb, void *arg,
	struct ckpt_prune_stats *st, struct ckpt_error *err)
{
	return ops_prune_kept_walk(c, plan, nat_gone, kept_reason, cb, arg,
	    st, err);
}

static void
nat_plan_free(void *plan)
{
	struct nplan *pl = plan;

	if (pl != NULL)
		free(pl->holes);
	free(pl);
}

const struct ckpt_prune_ops ckpt_prune_native_ops = {
	nat_plan, nat_classify, nat_kept, nat_plan_free
};
