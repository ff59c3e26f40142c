/*
 * fmt.h - the format driver interface (private to lib/).
 *
 * A format driver knows how one family of checkpoints is laid out in a
 * store (native, Spark Structured Streaming, Spark DStream) and yields
 * the neutral objects of ckpt.h.  Drivers are listed once, in
 * fmt_drivers[] in fmt.c, cheap bidders first; detection asks each to
 * bid 0..100 on a store and the highest bid wins (libarchive's
 * archive_read_support_format_all.c).  A tie is reported as ambiguous.
 *
 * Adding a driver: one fmt_<name>.c exporting one const ops struct, one
 * line in fmt_drivers[].  Optional ops may be NULL: the public call then
 * fails with CKPT_E_UNSUPPORTED naming the format.
 */
#ifndef CKPT_FMT_H
#define CKPT_FMT_H

#include "../ckpt.h"

struct ckpt {
	struct ckpt_ctx *ctx;
	struct ckpt_store *st;
	int own_store;
	const struct ckpt_format_ops *ops;
	void *priv;			/* the driver's state */
	unsigned hints;			/* CKPT_HINT_* in force (ckpt_set_hints) */
};

struct ckpt_format_ops {
	const char *name;		/* "native", "spark", "dstream" */

	/*
	 * How sure the driver is that st holds its format: 0 (no) .. 100
	 * (magic matched).  Must be cheap: a few stats and small reads.
	 * Negative on I/O failure (err set).
	 */
	int (*bid)(struct ckpt_store *st, struct ckpt_error *err);

	int (*open)(struct ckpt *c, struct ckpt_error *err);
	void (*close)(struct ckpt *c);

	int (*info)(struct ckpt *c, struct ckpt_info *out,
		struct ckpt_error *err);

	/* Batch iteration in ascending id; *state is the driver's. */
	int (*batch_iter_open)(struct ckpt *c, void **state,
		struct ckpt_error *err);
	int (*batch_iter_next)(struct ckpt *c, void *state,
		struct ckpt_batch *out, struct ckpt_error *err);
	void (*batch_iter_close)(struct ckpt *c, void *state);
	/* Optional (with CKPT_HINT_BATCH_IDS): fills the rest of b. */
	int (*batch_fill)(struct ckpt *c, struct ckpt_batch *b,
		struct ckpt_error *err);
	int (*batch_json)(struct ckpt *c, int64_t batch, char **json,
		struct ckpt_error *err);

	int (*operator_count)(struct ckpt *c);
	int (*operator_get)(struct ckpt *c, int index,
		struct ckpt_operator *out, struct ckpt_error *err);
	int (*partition_get)(struct ckpt *c, int op, int partition,
		struct ckpt_partition *out, struct ckpt_error *err);

	int (*state_open)(struct ckpt *c, int op, int partition,
		int64_t version, unsigned flags, void **state,
		struct ckpt_error *err);
	int (*state_next)(struct ckpt *c, void *state,
		struct ckpt_record *out, struct ckpt_error *err);
	void (*state_close)(struct ckpt *c, void *state);

	int (*files_walk)(struct ckpt *c, ckpt_file_fn cb, void *arg,
		struct ckpt_error *err);
	int (*verify)(struct ckpt *c, const struct ckpt_verify_opts *o,
		ckpt_problem_fn cb, void *arg,
		struct ckpt_verify_stats *stats, struct ckpt_error *err);
	int (*file_regions)(struct ckpt *c, const char *path,
		ckpt_region_fn cb, void *arg, struct ckpt_error *err);

	/* Later issues append optional ops here (prune, diff, migrate). */

	/*
	 * prune (lib/ops/ops_prune.c drives it): the format's retention
	 * plan, or NULL.  The native plan lives in lib/ops; a NULL here
	 * for another format makes ckpt_prune() CKPT_E_UNSUPPORTED.
	 */
	const struct ckpt_prune_ops *prune;
	/*
	 * diff: the state version a restart at batch (CKPT_NONE = the
	 * restart point) loads, CKPT_NONE for none.  NULL: Spark's rule,
	 * version batch+1 (docs/spark-checkpoint-format.md 1.5).
	 */
	int (*state_version)(struct ckpt *c, int64_t batch,
		int64_t *version, struct ckpt_error *err);

	/* The CKPT_HINT_* this driver honours (ckpt_set_hints). */
	unsigned hints;
};

/*
 * A format's retention rules for ckpt_prune().  plan() decides, once,
 * what to keep (under the writer lock); classify() then judges each
 * file of files_walk: 0 keep, 1 remove first (commit entries: a batch
 * without one is merely uncommitted), 2 remove after every phase-1
 * file is gone; reason gets why (for --dry-run).  kept() reports each
 * kept batch and why (--list-kept) and counts kept/removed batches in
 * st.  Memory must not grow with the number of batches.
 */
struct ckpt_prune_ops {
	int (*plan)(struct ckpt *c, const struct ckpt_prune_opts *o,
		void **plan, struct ckpt_prune_stats *st,
		struct ckpt_error *err);
	int (*classify)(void *plan, const struct ckpt_file *f, char *reason,
		size_t cap);
	int (*kept)(struct ckpt *c, void *plan, ckpt_prune_fn cb, void *arg,
		struct ckpt_prune_stats *st, struct ckpt_error *err);
	void (*plan_free)(void *plan);
};

/* The native format's plan (lib/ops/ops_prune_native.c). */
extern const struct ckpt_prune_ops ckpt_prune_native_ops;

/*
 * Shared by the plans' kept() (lib/ops/ops_prune.c).  A unit is a
 * batch, or a DStream generation passed as a batch (id = its time).
 * why() writes why a kept unit is kept; gone() says whether a unit
 * goes.  ops_prune_tally() counts one unit in st (removed when gone,
 * else kept, the first kept one being the oldest) and reports a kept
 * one to cb (if not NULL) as CKPT_PRUNE_KEPT; non-zero when cb asked
 * to stop.  ops_prune_kept_walk() is a whole kept() over the batch
 * iterator.
 */
typedef void (*ops_prune_why_fn)(const void *plan, const struct ckpt_batch *b,
	char *buf, size_t cap);
typedef int (*ops_prune_gone_fn)(const void *plan,
	const struct ckpt_batch *b);
int ops_prune_tally(const void *plan, const struct ckpt_batch *b, int gone,
	ops_prune_why_fn why, ckpt_prune_fn cb, void *arg,
	struct ckpt_prune_stats *st);
int ops_prune_kept_walk(struct ckpt *c, const void *plan,
	ops_prune_gone_fn gone, ops_prune_why_fn why, ckpt_prune_fn cb,
	void *arg, struct ckpt_prune_stats *st, struct ckpt_error *err);
/* The older of two batch ids, CKPT_NONE meaning no bound. */
int64_t ops_prune_min(int64_t a, int64_t b);
/*
 * The oldest committed batch each keep rule keeps, over the batch
 * iterator: *k_last the first of the newest keep_last committed
 * batches (ncommitted of them in all; CKPT_NONE when keep_last <= 0),
 * *k_within the first committed batch whose time is at or after
 * t_within (CKPT_NONE: no such batch, or t_within is CKPT_NONE).
 */
int ops_prune_rule_bounds(struct ckpt *c, int64_t ncommitted,
	int64_t keep_last, int64_t t_within, int64_t *k_last,
	int64_t *k_within, struct ckpt_error *err);

extern const struct ckpt_format_ops ckpt_fmt_native_ops;
extern const struct ckpt_format_ops ckpt_fmt_spark_ops;
extern const struct ckpt_format_ops ckpt_fmt_dstream_ops;

#endif /* CKPT_FMT_H */
