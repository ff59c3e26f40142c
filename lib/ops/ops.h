/*
 * ops.h - diff, prune and migrate internals (private to lib/ops).
 *
 * lib/ops implements the public ckpt_diff(), ckpt_prune() and
 * ckpt_migrate() on top of the format-neutral reader (ckpt_open,
 * ckpt_state_open, ckpt_files_walk) and the native writer.  It knows
 * the native layout only through those calls.  Pieces:
 *
 *   ops_json.c           JSON field-by-field comparison (diff, preview)
 *   ops_diff.c           ckpt_diff: metadata, offsets, state merge
 *   ops_prune.c          ckpt_prune: plan, chunked crash-safe deletion
 *   ops_prune_native.c   the native retention plan
 *   ops_migrate.c        ckpt_migrate: rewrite, verify, swap
 *   ops_merge.c          sorted record streams over many partitions
 */
#ifndef CKPT_OPS_H
#define CKPT_OPS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "../ckpt.h"

/* ---- ops_json.c ---- */

/*
 * Called for each differing leaf: path is the dotted field name
 * ("config.window_ms", "sources[0].offset"), old/new the JSON texts
 * (NULL when absent on that side), change '+', '-' or 'M'.  Returns
 * non-zero to stop.
 */
typedef int (*ops_json_diff_fn)(void *arg, char change, const char *path,
	const char *old_json, const char *new_json);
/*
 * Compares a and b (either may be NULL) recursively; objects by key,
 * arrays by index.  Returns the number of differences reported, or -1
 * when cb stopped or an allocation failed (err set for the latter).
 */
long ops_json_diff(const cJSON *a, const cJSON *b, const char *prefix,
	ops_json_diff_fn cb, void *arg, struct ckpt_error *err);


/*
 * The state version a restart at batch loads (CKPT_NONE = the restart
 * point), CKPT_NONE in *version when there is no state.
 */
int ops_state_version(struct ckpt *c, int64_t batch, int64_t *version,
	struct ckpt_error *err);

/* ---- ops_merge.c ---- */

/*
 * A sorted stream of the records of one operator at one version, merged
 * over the source partitions [first_part, first_part + nparts), keeping
 * only the keys for which keep (if non-NULL) returns non-zero.  Keys
 * must ascend within each partition and be unique across them, else
 * CKPT_E_FORMAT.  Memory: one block per source partition.  Records
 * stay valid until the next call.
 */
struct ops_merge;
typedef int (*ops_keep_fn)(void *arg, const uint8_t *key, size_t len);
int ops_merge_open(struct ckpt *c, int op, int first_part, int nparts,
	int64_t version, ops_keep_fn keep, void *keep_arg,
	struct ops_merge **out, struct ckpt_error *err);
int ops_merge_next(struct ops_merge *m, struct ckpt_record *out,
	struct ckpt_error *err);
void ops_merge_close(struct ops_merge *m);

/*
 * Walks the streams a and b in key order, calling fn once per key on
 * either side: change '-' (only in a), '+' (only in b), 'M' (in both,
 * values differ) or '=' (in both, same value).  ra and rb are the
 * current record of each side, NULL once that side has ended: the key
 * is ra's for '-', rb's for '+', both's for 'M' and '='.  fn returns
 * CKPT_OK to go on, CKPT_EOF to stop after this key (the walk then
 * returns CKPT_OK), or an error, which the walk returns at once.
 */
typedef int (*ops_zip_fn)(void *arg, char change,
	const struct ckpt_record *ra, const struct ckpt_record *rb);
int ops_merge_zip(struct ops_merge *a, struct ops_merge *b, ops_zip_fn fn,
	void *arg, struct ckpt_error *err);

#endif /* CKPT_OPS_H */
