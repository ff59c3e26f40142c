/*
 * fmt.c - format detection and the public "Checkpoints (any format)"
 * calls of ckpt.h, forwarded to the driver's ops.
 *
 * Drivers are listed once in fmt_drivers[], cheap bidders first.  Each
 * bids 0..100 on a store; the highest bid wins, a tie between the best
 * bids is CKPT_E_FORMAT (ambiguous) and no bid at all CKPT_E_NOTCKPT
 * (libarchive's archive_read_support_format_all.c).  A NULL op makes
 * its public call fail with CKPT_E_UNSUPPORTED naming the format.
 * Nothing here knows any format's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "native.h"

static const struct ckpt_format_ops *const fmt_drivers[] = {
	&ckpt_fmt_native_ops,
	&ckpt_fmt_spark_ops,
	&ckpt_fmt_dstream_ops,
	NULL
};

/* The drivers' names, in the order of fmt_drivers[] (a unit test checks
 * that the two tables agree). */
static const char *const fmt_names[] = {
	"native",
	"spark",
	"dstream",
	NULL
};

const char *const *
ckpt_format_names(void)
{
	return fmt_names;
}

/* Tests: the driver name at index i of fmt_drivers[], NULL past the end. */
const char *
ckpt_format_driver_name(size_t i)
{
	for (size_t k = 0; k <= i; k++)
		if (fmt_drivers[k] == NULL)
			return NULL;
	return fmt_drivers[i]->name;
}

static const char *const role_names[] = {
	[CKPT_F_METADATA] = "metadata", [CKPT_F_OFFSETS] = "offsets",
	[CKPT_F_COMMIT] = "commit", [CKPT_F_SNAPSHOT] = "snapshot",
	[CKPT_F_DELTA] = "delta", [CKPT_F_SCHEMA] = "schema",
	[CKPT_F_OUTPUT] = "output", [CKPT_F_WAL] = "wal",
	[CKPT_F_SOURCE] = "source", [CKPT_F_CHECKSUM] = "checksum",
	[CKPT_F_LOCK] = "lock", [CKPT_F_TEMP] = "temp",
	[CKPT_F_ORPHAN] = "orphan", [CKPT_F_FOREIGN] = "foreign",
	[CKPT_F_UNCOMMITTED] = "uncommitted", [CKPT_F_OTHER] = "other",
};

const char *
ckpt_file_role_name(int role)
{
	if (role < 0 || role > CKPT_F_OTHER)
		return "unknown";
	return role_names[role];
}

static int
unsupported(struct ckpt *c, const char *what, struct ckpt_error *err)
{
	return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
	    "cannot %s: not supported for %s checkpoints", what,
	    c->ops->name);
}

/* Asks every driver to bid; picks the highest. */
static int
detect(struct ckpt_store *st, const struct ckpt_format_ops **out,
    struct ckpt_error *err)
{
	const struct ckpt_format_ops *best = NULL, *tie = NULL;
	int best_bid = 0;

	*out = NULL;
	for (size_t i = 0; fmt_drivers[i] != NULL; i++) {
		int b = fmt_drivers[i]->bid(st, err);

		if (b < 0)
			return CKPT_FAILED;
		if (b > best_bid) {
			best_bid = b;
			best = fmt_drivers[i];
			tie = NULL;
		} else if (b == best_bid && b > 0) {
			tie = fmt_drivers[i];
		}
		/*
		 * 100 is a matched magic number (only native has one): no
		 * later bid can beat it, and the later bidders may list
		 * whole directories (Spark's offsets/) to find out.
		 */
		if (best_bid >= 100 && tie == NULL)
			break;
	}
	if (best == NULL)
		return ckpt_error_set(err, CKPT_E_NOTCKPT,
		    "'%s' is not a checkpoint (no known format found)",
		    ckpt_store_url(st));
	if (tie != NULL)
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot open '%s': ambiguous format (%s and %s both "
		    "match)", ckpt_store_url(st), best->name, tie->name);
	*out = best;
	return CKPT_OK;
}

static int
open_common(struct ckpt_ctx *ctx, struct ckpt_store *st, int own,
    struct ckpt **out, struct ckpt_error *err)
{
	const struct ckpt_format_ops *ops;
	struct ckpt *c;

	*out = NULL;
	if (detect(st, &ops, err) != CKPT_OK)
		return CKPT_FAILED;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", ckpt_store_url(st));
	c->ctx = ctx;
	c->st = st;
	c->own_store = own;
	c->ops = ops;
	if (ops->open(c, err) != CKPT_OK) {
		free(c);
		return CKPT_FAILED;
	}
	*out = c;
	return CKPT_OK;
}

int
ckpt_open(struct ckpt_ctx *ctx, const char *url, struct ckpt **out,
    struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };
	struct ckpt_store *st;

	if (err == NULL)
		err = &local;
	*out = NULL;
	if (ckpt_store_open(ctx, url, CKPT_STORE_RDONLY, &st, err) != CKPT_OK)
		return CKPT_FAILED;
	if (open_common(ctx, st, 1, out, err) != CKPT_OK) {
		ckpt_store_close(st);
		return CKPT_FAILED;
	}
	return CKPT_OK;
}

int
ckpt_open_store(struct ckpt_ctx *ctx, struct ckpt_store *st,
    struct ckpt **out, struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };

	if (err == NULL)
		err = &local;
	return open_common(ctx, st, 0, out, err);
}

void
ckpt_close(struct ckpt *c)
{
	if (c == NULL)
		return;
	if (c->ops->close != NULL)
		c->ops->close(c);
	if (c->own_store)
		ckpt_store_close(c->st);
	free(c);
}

struct ckpt_store *
ckpt_get_store(struct ckpt *c)
{
	return c->st;
}

int
ckpt_info_get(struct ckpt *c, struct ckpt_info *out, struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };

	if (err == NULL)
		err = &local;
	memset(out, 0, sizeof(*out));
	if (c->ops->info == NULL)
		return unsupported(c, "describe the checkpoint", err);
	return c->ops->info(c, out, err);
}

void
ckpt_info_release(struct ckpt_info *info)
{
	if (info == NULL)
		return;
	free(info->metadata_json);
	info->metadata_json = NULL;
}

struct ckpt_batch_iter {
	struct ckpt *c;
	void *state;
};

int
ckpt_batch_iter_open(struct ckpt *c, struct ckpt_batch_iter **out,
    struct ckpt_error *err)
{
	struct ckpt_batch_iter *it;

	*out = NULL;
	if (c->ops->batch_iter_open == NULL)
		return unsupported(c, "list batches", err);
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot list batches: out of memory");
	it->c = c;
	if (c->ops->batch_iter_open(c, &it->state, err) != CKPT_OK) {
		free(it);
		return CKPT_FAILED;
	}
	*out = it;
	return CKPT_OK;
}

int
ckpt_batch_iter_next(struct ckpt_batch_iter *it, struct ckpt_batch *out,
    struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };

	if (err == NULL)
		err = &local;
	return it->c->ops->batch_iter_next(it->c, it->state, out, err);
}

void
ckpt_batch_iter_close(struct ckpt_batch_iter *it)
{
	if (it == NULL)
		return;
	if (it->c->ops->batch_iter_close != NULL)
		it->c->ops->batch_iter_close(it->c, it->state);
	free(it);
}

unsigned
ckpt_set_hints(struct ckpt *c, unsigned hints)
{
	c->hints = hints & c->ops->hints;
	return c->hints;
}

int
ckpt_batch_fill(struct ckpt *c, struct ckpt_batch *b, struct ckpt_error *err)
{
	if (c->ops->batch_fill == NULL)
		return unsupported(c, "describe a batch", err);
	return c->ops->batch_fill(c, b, err);
}

int
ckpt_batch_json(struct ckpt *c, int64_t batch, char **json,
    struct ckpt_error *err)
{
	*json = NULL;
	if (c->ops->batch_json == NULL)
		return unsupported(c, "describe a batch", err);
	return c->ops->batch_json(c, batch, json, err);
}

int
ckpt_operator_count(struct ckpt *c)
{
	return c->ops->operator_count ? c->ops->operator_count(c) : 0;
}

int
ckpt_operator_get(struct ckpt *c, int index, struct ckpt_operator *out,
    struct ckpt_error *err)
{
	memset(out, 0, sizeof(*out));
	if (c->ops->operator_get == NULL)
		return unsupported(c, "describe operators", err);
	return c->ops->operator_get(c, index, out, err);
}

void
ckpt_operator_release(struct ckpt_operator *op)
{
	if (op == NULL)
		return;
	free(op->key_schema);
	free(op->value_schema);
	op->key_schema = op->value_schema = NULL;
}

/* By exact name first, then as a decimal index. */
int
ckpt_operator_find(struct ckpt *c, const char *name)
{
	int n = ckpt_operator_count(c);
	struct ckpt_error err = { 0 };
	char *end;
	long v;

	if (name == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		struct ckpt_operator op;
		int match;

		if (ckpt_operator_get(c, i, &op, &err) != CKPT_OK) {
			ckpt_error_clear(&err);
			continue;
		}
		match = strcmp(op.name, name) == 0;
		ckpt_operator_release(&op);
		if (match)
			return i;
	}
	if (name[0] < '0' || name[0] > '9')
		return -1;
	v = strtol(name, &end, 10);
	if (*end != '\0' || v < 0 || v >= n)
		return -1;
	return (int)v;
}

int
ckpt_partition_get(struct ckpt *c, int op, int partition,
    struct ckpt_partition *out, struct ckpt_error *err)
{
	memset(out, 0, sizeof(*out));
	if (c->ops->partition_get == NULL)
		return unsupported(c, "describe partitions", err);
	return c->ops->partition_get(c, op, partition, out, err);
}

struct ckpt_state_iter {
	struct ckpt *c;
	void *state;
};

int
ckpt_state_open(struct ckpt *c, int op, int partition, int64_t version,
    unsigned flags, struct ckpt_state_iter **out, struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };
	struct ckpt_state_iter *it;

	if (err == NULL)
		err = &local;
	*out = NULL;
	if (c->ops->state_open == NULL)
		return unsupported(c, "read state", err);
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot read state: out of memory");
	it->c = c;
	if (c->ops->state_open(c, op, partition, version, flags, &it->state,
	    err) != CKPT_OK) {
		free(it);
		return CKPT_FAILED;
	}
	*out = it;
	return CKPT_OK;
}

int
ckpt_state_next(struct ckpt_state_iter *it, struct ckpt_record *out,
    struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };

	if (err == NULL)
		err = &local;
	return it->c->ops->state_next(it->c, it->state, out, err);
}

void
ckpt_state_close(struct ckpt_state_iter *it)
{
	if (it == NULL)
		return;
	if (it->c->ops->state_close != NULL)
		it->c->ops->state_close(it->c, it->state);
	free(it);
}

uint64_t
ckpt_state_iter_mem(const struct ckpt_state_iter *it)
{
	if (it == NULL || it->c->ops != &ckpt_fmt_native_ops)
		return 0;
	return nat_state_peak(it->state);
}

int
ckpt_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
    struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };

	if (err == NULL)
		err = &local;
	if (c->ops->files_walk == NULL)
		return unsupported(c, "list files", err);
	return c->ops->files_walk(c, cb, arg, err);
}

int
ckpt_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
    ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
    struct ckpt_error *err)
{
	struct ckpt_verify_opts def = { 0 };
	struct ckpt_verify_stats tmp;

	if (stats == NULL)
		stats = &tmp;
	memset(stats, 0, sizeof(*stats));
	if (c->ops->verify == NULL)
		return unsupported(c, "verify", err);
	return c->ops->verify(c, o ? o : &def, cb, arg, stats, err);
}

int
ckpt_file_regions(struct ckpt *c, const char *path, ckpt_region_fn cb,
    void *arg, struct ckpt_error *err)
{
	struct ckpt_error local = { 0 };

	if (err == NULL)
		err = &local;
	if (c->ops->file_regions == NULL)
		return unsupported(c, "describe file regions", err);
	return c->ops->file_regions(c, path, cb, arg, err);
}
