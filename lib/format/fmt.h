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
};

extern const struct ckpt_format_ops ckpt_fmt_native_ops;

#endif /* CKPT_FMT_H */
