/*
 * ops_diff.c - ckpt_diff(): what differs between two checkpoints, or
 * two batches of one.
 *
 * Order of the report: metadata fields (config, fingerprint, operators
 * and their schemas), then the offsets of the two batches, then state,
 * operator by operator (matched by name), partition by partition, key
 * by key.  State is compared as two sorted streams (ops_merge.c), so
 * memory stays at a block per side whatever the state size.  Values
 * are compared as stored bytes; their decoded JSON is only what the
 * report shows.  Lineage fields (id, created_ms, history) are reported
 * but, unless all_metadata, not counted as a difference.  Rendering (text, --stat, --json) is cmd/diff.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "../ctx.h"
#include "../format/fmt.h"

struct diff_run {
	struct ckpt *a, *b;
	const struct ckpt_diff_opts *o;
	ckpt_diff_fn cb;
	void *arg;
	struct ckpt_diff_stats *st;
	struct ckpt_error *err;
	int kind;		/* META or OFFSETS while walking JSON */
	int stopped;		/* cb asked to stop */
	uint64_t ticks;
};

/* ---- metadata and offsets ---- */

/*
 * Metadata fields that differ by nature between two directories that
 * were created separately, even from the same job and input: the
 * lineage id, the creation time and the migration history.  They say
 * where a directory came from, not what it restores to.
 */
static int
lineage_field(const char *path)
{
	size_t n = strlen("history");

	return strcmp(path, "id") == 0 || strcmp(path, "created_ms") == 0 ||
	    (strncmp(path, "history", n) == 0 &&
	    (path[n] == '\0' || path[n] == '[' || path[n] == '.'));
}

static int
json_leaf(void *arg, char change, const char *path, const char *old_json,
	const char *new_json)
{
	struct diff_run *r = arg;
	struct ckpt_diff_item it;

	memset(&it, 0, sizeof(it));
	it.kind = r->kind;
	it.change = change;
	it.field = path;
	it.partition = -1;
	it.old_json = old_json;
	it.new_json = new_json;
	if (r->kind == CKPT_DIFF_META && !r->o->all_metadata &&
	    lineage_field(path)) {
		it.lineage = 1;
		r->st->lineage++;
	} else if (r->kind == CKPT_DIFF_META)
		r->st->meta++;
	else
		r->st->offsets++;
	if (r->cb != NULL && r->cb(r->arg, &it) != 0) {
		r->stopped = 1;
		return 1;
	}
	return 0;
}

/* Parses text (may be NULL) into *out; NULL text gives NULL. */
static int
parse_json(const char *text, const char *what, cJSON **out,
	struct ckpt_error *err)
{
	*out = NULL;
	if (text == NULL)
		return CKPT_OK;
	*out = cJSON_Parse(text);
	if (*out == NULL)
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot compare %s: it is not valid JSON", what);
	return CKPT_OK;
}

static int
diff_json_texts(struct diff_run *r, int kind, const char *ta,
	const char *tb, const char *what)
{
	cJSON *ja = NULL, *jb = NULL;
	int rc;

	rc = parse_json(ta, what, &ja, r->err);
	if (rc == CKPT_OK)
		rc = parse_json(tb, what, &jb, r->err);
	if (rc == CKPT_OK) {
		r->kind = kind;
		if (ops_json_diff(ja, jb, "", json_leaf, r, r->err) < 0 &&
		    !r->stopped)
			rc = CKPT_FAILED;
	}
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return rc;
}

/*
 * The "offsets" object of a batch as text (malloc'd) or NULL when the
 * batch has none.
 */
static int
batch_offsets(struct ckpt *c, int64_t batch, char **out,
	struct ckpt_error *err)
{
	char *json = NULL;
	cJSON *root, *off;
	int rc;

	*out = NULL;
	if (batch == CKPT_NONE)
		return CKPT_OK;
	rc = ckpt_batch_json(c, batch, &json, err);
	if (rc != CKPT_OK)
		return rc;
	root = cJSON_Parse(json);
	free(json);
	if (root == NULL)
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read the offsets of batch %lld: not valid JSON",
		    (long long)batch);
	off = cJSON_GetObjectItemCaseSensitive(root, "offsets");
	if (off != NULL && !cJSON_IsNull(off)) {
		*out = cJSON_PrintUnformatted(off);
		if (*out == NULL)
			rc = ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot read the offsets of batch %lld: out of "
			    "memory", (long long)batch);
	}
	cJSON_Delete(root);
	return rc;
}

/* ---- state ---- */

/* Does rec match the --key filter (raw bytes, JSON text or string)? */
static int
key_matches(const char *want, const struct ckpt_record *rec)
{
	size_t n = strlen(want);
	const char *kj = rec->key_json;

	if (rec->key_len == n && memcmp(rec->key, want, n) == 0)
		return 1;
	if (kj == NULL)
		return 0;
	if (strcmp(kj, want) == 0)
		return 1;
	return kj[0] == '"' && strlen(kj) == n + 2 &&
	    strncmp(kj + 1, want, n) == 0 && kj[n + 1] == '"';
}

struct part_counts {
	uint64_t added, removed, modified;
};

static int
emit_state(struct diff_run *r, const char *opname, int partition,
	char change, const struct ckpt_record *ra,
	const struct ckpt_record *rb, struct part_counts *pc)
{
	const struct ckpt_record *k = ra ? ra : rb;
	struct ckpt_diff_item it;
	uint64_t ob = ra ? ra->key_len + ra->value_len : 0;
	uint64_t nb = rb ? rb->key_len + rb->value_len : 0;

	if (r->o->key != NULL && !key_matches(r->o->key, k))
		return 0;
	switch (change) {
	case '+':
		r->st->added++;
		r->st->bytes_added += nb;
		pc->added++;
		break;
	case '-':
		r->st->removed++;
		r->st->bytes_removed += ob;
		pc->removed++;
		break;
	default:
		r->st->modified++;
		r->st->bytes_modified_old += ob;
		r->st->bytes_modified_new += nb;
		pc->modified++;
		break;
	}
	if (r->o->limit != 0 && r->st->shown >= r->o->limit) {
		r->st->truncated = 1;
		return 0;
	}
	memset(&it, 0, sizeof(it));
	it.kind = CKPT_DIFF_STATE;
	it.change = change;
	it.op = opname;
	it.partition = partition;
	it.key = k->key;
	it.key_len = k->key_len;
	it.key_json = k->key_json;
	it.old_json = ra ? ra->value_json : NULL;
	it.new_json = rb ? rb->value_json : NULL;
	it.old_bytes = ob;
	it.new_bytes = nb;
	r->st->shown++;
	if (r->cb != NULL && r->cb(r->arg, &it) != 0) {
		r->stopped = 1;
		return 1;
	}
	return 0;
}

/* Counts a record toward keys_a/keys_b if it passes the key filter. */
static void
count_key(struct diff_run *r, const struct ckpt_record *rec, uint64_t *n)
{
	if (r->o->key == NULL || key_matches(r->o->key, rec))
		(*n)++;
}

/* One partition being compared (diff_key). */
struct diff_zip {
	struct diff_run *r;
	const char *opname;
	int p;
	struct part_counts pc;
	int stop;		/* the caller's callback asked to stop */
};

/* Counts and reports one key of the partition (ops_merge_zip). */
static int
diff_key(void *arg, char change, const struct ckpt_record *ra,
	const struct ckpt_record *rb)
{
	struct diff_zip *z = arg;
	struct diff_run *r = z->r;
	int rc;

	if ((++r->ticks & 4095) == 0) {
		rc = ckpt_ctx_check_interrupt(r->a->ctx, "cannot diff",
		    r->err);
		if (rc != CKPT_OK)
			return rc;
	}
	if (change != '+')
		count_key(r, ra, &r->st->keys_a);
	if (change != '-')
		count_key(r, rb, &r->st->keys_b);
	if (change == '=')
		return CKPT_OK;
	z->stop = emit_state(r, z->opname, z->p, change,
	    change == '+' ? NULL : ra, change == '-' ? NULL : rb, &z->pc);
	return z->stop ? CKPT_EOF : CKPT_OK;
}

/*
 * Compares partition p of operator ia (of a; -1 absent) with operator
 * ib (of b; -1 absent).  A side whose operator lacks the partition is
 * empty.
 */
static int
diff_partition(struct diff_run *r, const char *opname, int ia, int pa_n,
	int ib, int pb_n, int p, int64_t va, int64_t vb)
{
	struct ops_merge *ma = NULL, *mb = NULL;
	struct diff_zip z;
	int rc;

	if (p < 0) {
		/* --ignore-partitions: every partition, merged by key */
		rc = ops_merge_open(r->a, ia, 0, ia >= 0 ? pa_n : 0, va,
		    NULL, NULL, &ma, r->err);
		if (rc == CKPT_OK)
			rc = ops_merge_open(r->b, ib, 0, ib >= 0 ? pb_n : 0,
			    vb, NULL, NULL, &mb, r->err);
	} else {
		rc = ops_merge_open(r->a, ia, p, (ia >= 0 && p < pa_n) ?
		    1 : 0, va, NULL, NULL, &ma, r->err);
		if (rc == CKPT_OK)
			rc = ops_merge_open(r->b, ib, p, (ib >= 0 &&
			    p < pb_n) ? 1 : 0, vb, NULL, NULL, &mb, r->err);
	}
	if (rc != CKPT_OK)
		goto out;
	r->st->partitions++;
	ckpt_ctx_progress(r->a->ctx, "diff", r->st->partitions, 0);
	memset(&z, 0, sizeof(z));
	z.r = r;
	z.opname = opname;
	z.p = p;
	rc = ops_merge_zip(ma, mb, diff_key, &z, r->err);
	if (rc != CKPT_OK)
		goto out;
	if (!z.stop && (z.pc.added || z.pc.removed || z.pc.modified)) {
		struct ckpt_diff_item it;

		r->st->partitions_differ++;
		memset(&it, 0, sizeof(it));
		it.kind = CKPT_DIFF_PARTITION;
		it.op = opname;
		it.partition = p;
		it.added = z.pc.added;
		it.removed = z.pc.removed;
		it.modified = z.pc.modified;
		if (r->cb != NULL && r->cb(r->arg, &it) != 0)
			z.stop = 1;
	}
	if (z.stop)
		r->stopped = 1;
out:
	ops_merge_close(ma);
	ops_merge_close(mb);
	return rc;
}

/* Index of the operator of c named exactly name, or -1. */
static int
op_by_name(struct ckpt *c, const char *name, int *partitions,
	struct ckpt_error *err)
{
	struct ckpt_operator op;
	int i, n = ckpt_operator_count(c), found = -1;

	*partitions = 0;
	for (i = 0; i < n && found < 0; i++) {
		memset(&op, 0, sizeof(op));
		if (ckpt_operator_get(c, i, &op, err) != CKPT_OK)
			return -2;
		if (strcmp(op.name, name) == 0) {
			found = i;
			*partitions = op.partitions;
		}
		ckpt_operator_release(&op);
	}
	return found;
}

/* Does operator name pass the --op filter (name or index on a side)? */
static int
op_selected(const char *want, const char *name, int index)
{
	char buf[32];

	if (want == NULL || strcmp(want, name) == 0)
		return 1;
	snprintf(buf, sizeof(buf), "%d", index);
	return strcmp(want, buf) == 0;
}

static int
diff_operator(struct diff_run *r, const char *name, int ia, int pa,
	int ib, int pb, int64_t va, int64_t vb)
{
	int p, n = pa > pb ? pa : pb, rc;

	if (r->o->ignore_partitions)
		return diff_partition(r, name, ia, pa, ib, pb, -1, va, vb);
	for (p = 0; p < n && !r->stopped; p++) {
		rc = diff_partition(r, name, ia, pa, ib, pb, p, va, vb);
		if (rc != CKPT_OK)
			return rc;
	}
	return CKPT_OK;
}

static int
diff_state(struct diff_run *r, int64_t va, int64_t vb)
{
	struct ckpt_operator op;
	int i, j, pa, pb, na = ckpt_operator_count(r->a);
	int nb = ckpt_operator_count(r->b), rc = CKPT_OK;

	for (i = 0; i < na && !r->stopped && rc == CKPT_OK; i++) {
		memset(&op, 0, sizeof(op));
		rc = ckpt_operator_get(r->a, i, &op, r->err);
		if (rc != CKPT_OK)
			return rc;
		pa = op.partitions;
		j = op_by_name(r->b, op.name, &pb, r->err);
		if (j == -2)
			rc = CKPT_FAILED;
		else if (op_selected(r->o->op, op.name, i))
			rc = diff_operator(r, op.name, i, pa, j, pb, va, vb);
		ckpt_operator_release(&op);
	}
	/* Operators only b has: all their keys are additions. */
	for (j = 0; j < nb && !r->stopped && rc == CKPT_OK; j++) {
		memset(&op, 0, sizeof(op));
		rc = ckpt_operator_get(r->b, j, &op, r->err);
		if (rc != CKPT_OK)
			return rc;
		i = op_by_name(r->a, op.name, &pa, r->err);
		if (i == -2)
			rc = CKPT_FAILED;
		else if (i < 0 && op_selected(r->o->op, op.name, j))
			rc = diff_operator(r, op.name, -1, 0, j, op.partitions,
			    va, vb);
		ckpt_operator_release(&op);
	}
	return rc;
}

int
ckpt_diff(struct ckpt *a, struct ckpt *b, const struct ckpt_diff_opts *o,
	ckpt_diff_fn cb, void *arg, struct ckpt_diff_stats *stats,
	struct ckpt_error *err)
{
	struct ckpt_info ia, ib;
	struct diff_run r;
	char *oa = NULL, *ob = NULL;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&ia, 0, sizeof(ia));
	memset(&ib, 0, sizeof(ib));
	memset(&r, 0, sizeof(r));
	r.a = a;
	r.b = b;
	r.o = o;
	r.cb = cb;
	r.arg = arg;
	r.st = stats;
	r.err = err;
	rc = ckpt_info_get(a, &ia, err);
	if (rc != CKPT_OK)
		goto out;
	rc = ckpt_info_get(b, &ib, err);
	if (rc != CKPT_OK)
		goto out;
	stats->from_batch = o->from_batch != CKPT_NONE ? o->from_batch :
	    ia.restart_point;
	stats->to_batch = o->to_batch != CKPT_NONE ? o->to_batch :
	    ib.restart_point;
	if (o->op != NULL && ckpt_operator_find(a, o->op) < 0 &&
	    ckpt_operator_find(b, o->op) < 0) {
		rc = ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "cannot diff operator '%s': no such operator", o->op);
		goto out;
	}

	if (a != b) {
		rc = diff_json_texts(&r, CKPT_DIFF_META, ia.metadata_json,
		    ib.metadata_json, "the metadata");
		if (rc != CKPT_OK || r.stopped)
			goto out;
	}
	rc = batch_offsets(a, stats->from_batch, &oa, err);
	if (rc == CKPT_OK)
		rc = batch_offsets(b, stats->to_batch, &ob, err);
	if (rc == CKPT_OK)
		rc = diff_json_texts(&r, CKPT_DIFF_OFFSETS, oa, ob,
		    "the offsets");
	if (rc != CKPT_OK || r.stopped || o->no_state)
		goto out;

	rc = ops_state_version(a, stats->from_batch, &stats->from_version,
	    err);
	if (rc == CKPT_OK)
		rc = ops_state_version(b, stats->to_batch, &stats->to_version,
		    err);
	if (rc == CKPT_OK)
		rc = diff_state(&r, stats->from_version, stats->to_version);
out:
	free(oa);
	free(ob);
	ckpt_info_release(&ia);
	ckpt_info_release(&ib);
	return rc;
}

int
ckpt_diff_differs(const struct ckpt_diff_stats *s)
{
	return s->meta || s->offsets || s->added || s->removed ||
	    s->modified;
}

int
ckpt_diff_default_batches(struct ckpt *c, int64_t *older, int64_t *newer,
	struct ckpt_error *err)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int64_t last = CKPT_NONE;
	int rc;

	*older = *newer = CKPT_NONE;
	rc = ckpt_batch_iter_open(c, &it, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, err)) == CKPT_OK) {
		last = b.id;
		if (!b.committed)
			continue;
		*older = *newer;
		*newer = b.id;
	}
	ckpt_batch_iter_close(it);
	if (rc != CKPT_EOF)
		return rc;
	if (*older == CKPT_NONE && *newer != CKPT_NONE && last > *newer) {
		/* one committed batch: compare it with the planned one */
		*older = *newer;
		*newer = last;
	}
	if (*older == CKPT_NONE)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "cannot pick two batches to compare: '%s' has fewer than "
		    "two committed batches", ckpt_store_url(ckpt_get_store(c)));
	return CKPT_OK;
}
