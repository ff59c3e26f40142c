/*
 * ops_migrate.c - ckpt_migrate(): named rewrites of a native checkpoint.
 *
 * Every migration is one rewrite: the source is read batch by batch
 * through the public reader and written anew through the native writer
 * with a changed job description (format version, partition count,
 * operator name, lineage id) and, for set-offsets, one more planned
 * batch.  State is streamed per target partition (ops_merge.c), as a
 * snapshot or, in format 2, as the delta between two state versions;
 * memory stays at a block per source partition.
 *
 * Safety (DESIGN.md section 5: never in place without a verified copy):
 * the result is built in a hidden sibling directory, verified
 * (--read-state level, then its state compared key by key with the
 * source's at the restart point), and only then renamed to DEST or, in
 * place, atomically exchanged with the original (renameat2
 * RENAME_EXCHANGE; a two-rename fallback where the file system lacks
 * it).  The source is locked throughout, so no job writes to it.  A
 * kill before the swap leaves the original untouched plus a hidden
 * temp directory; after it, the migrated directory plus the old one
 * under the hidden name.  The crash point "migrate.before_swap" fires
 * just before the swap.  Local directories only for now.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>

#include "ops.h"
#include "../ctx.h"
#include "../store/store.h"
#include "../format/fmt.h"
#include "../format/native.h"
#include "../engine/engine.h"
#include "../jobs/job.h"

/* glibc has it since 2.28, but declares it only with _GNU_SOURCE. */
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd,
	const char *newpath, unsigned int flags);
#define OPS_RENAME_EXCHANGE (1u << 1)

static const struct ckpt_migration migrations[] = {
	{ "format", "--to-version N",
	  "rewrite in native format version N (1: snapshots only, 2: "
	  "deltas)" },
	{ "repartition", "--partitions N",
	  "rehash every operator's state into N partitions" },
	{ "rename-operator", "OLD NEW",
	  "give operator OLD the name NEW and update the fingerprint" },
	{ "set-offsets",
	  "--to-earliest|--to-latest|--to-offset [SOURCE=]N|--shift-by N|"
	  "--to-time T",
	  "add a planned batch that resumes the input from new offsets" },
	{ "copy", "--to DEST",
	  "a versioned copy (app-v1 -> app-v2): same state, new lineage" },
	{ NULL, NULL, NULL }
};

const struct ckpt_migration *
ckpt_migrations(void)
{
	return migrations;
}

enum mig_kind { MIG_FORMAT, MIG_REPARTITION, MIG_RENAME, MIG_OFFSETS,
	MIG_COPY };

struct mig {
	struct ckpt_ctx *ctx;
	const struct ckpt_migrate_opts *o;
	int kind;
	struct ckpt *c;			/* the source */
	struct ckpt_info info;
	struct ckpt_job_desc src;	/* strings owned by c */
	struct ckpt_job_desc dst;
	char *config;			/* dst.config_json (malloc'd) */
	char *fingerprint;		/* dst.fingerprint (malloc'd) */
	int src_parts[CKPT_MAX_OPERATORS];
	ckpt_migrate_fn cb;
	void *arg;
	struct ckpt_migrate_result *res;
	struct ckpt_error *err;
	/* writing */
	struct ckpt_nwriter *w;
	int64_t prev_state;		/* last state batch written */
	int64_t nstate;			/* state checkpoints written */
	int64_t since_snapshot;		/* deltas since the snapshot */
	int wrote_state;		/* in the current batch */
	int64_t total_batches;		/* committed batches (progress) */
	char *new_offsets;		/* set-offsets: the planned batch's */
	int64_t new_time_ms;
};

static int ops_key_partition(const uint8_t *key, size_t len, int n);
static int64_t num_of(const cJSON *o, const char *k);
static int ops_fingerprint(const struct ckpt_job_desc *d, char **fp,
	struct ckpt_error *err);

/* ---- helpers ---- */

static int
emit(struct mig *m, const char *what, const char *fmt, ...)
	CKPT_PRINTF(3, 4);

static int
emit(struct mig *m, const char *what, const char *fmt, ...)
{
	struct ckpt_migrate_item it;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	it.what = what;
	it.detail = buf;
	if (m->cb != NULL && m->cb(m->arg, &it) != 0)
		return ckpt_error_set(m->err, CKPT_E_INTERRUPTED,
		    "migrate stopped: interrupted by the caller");
	return CKPT_OK;
}

/* The local path of a plain path or file:// URL, or NULL. */
static const char *
local_path(const char *url)
{
	if (strncmp(url, "file://", 7) == 0)
		return url + 7;
	if (strstr(url, "://") != NULL)
		return NULL;
	return url;
}

/* Splits path into its parent directory and last component. */
static int
split_path(const char *path, char *parent, size_t pcap, char *base,
	size_t bcap)
{
	char tmp[1024];
	size_t n = strlen(path);
	char *slash;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	slash = strrchr(tmp, '/');
	if (slash == NULL) {
		snprintf(parent, pcap, ".");
		snprintf(base, bcap, "%s", tmp);
	} else {
		snprintf(base, bcap, "%s", slash + 1);
		if (slash == tmp)
			snprintf(parent, pcap, "/");
		else {
			*slash = '\0';
			snprintf(parent, pcap, "%s", tmp);
		}
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return -1;
	return 0;
}

/* Collects up to this many names per listing round when removing. */
#define RM_CHUNK 64

struct rm_list {
	char names[RM_CHUNK][CKPT_NAME_MAX];
	int is_dir[RM_CHUNK];
	int n;
};

static int
rm_collect(void *arg, const struct ckpt_stat *ent)
{
	struct rm_list *l = arg;

	snprintf(l->names[l->n], CKPT_NAME_MAX, "%s", ent->name);
	l->is_dir[l->n] = ent->is_dir;
	return ++l->n == RM_CHUNK;
}

/*
 * Removes dir (relative to st's root, "" = everything under the root)
 * recursively, a bounded chunk of names at a time.
 */
static int
rm_tree(struct ckpt_store *st, const char *dir, int depth,
	struct ckpt_error *err)
{
	struct rm_list *l;
	char path[1024];
	int i, rc = CKPT_OK;

	if (depth > 32)
		return ckpt_error_set(err, CKPT_E_IO,
		    "cannot remove '%s': directories nested too deep", dir);
	l = malloc(sizeof(*l));
	if (l == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot remove '%s': out of memory", dir);
	for (;;) {
		l->n = 0;
		rc = ckpt_store_list(st, dir, CKPT_LIST_NAME, NULL,
		    rm_collect, l, err);
		if (rc != CKPT_OK || l->n == 0)
			break;
		for (i = 0; i < l->n && rc == CKPT_OK; i++) {
			snprintf(path, sizeof(path), "%s%s%s", dir,
			    dir[0] ? "/" : "", l->names[i]);
			if (l->is_dir[i])
				rc = rm_tree(st, path, depth + 1, err);
			else
				rc = ckpt_store_remove(st, path, err);
		}
		if (rc != CKPT_OK)
			break;
	}
	free(l);
	if (rc == CKPT_OK && dir[0] != '\0')
		rc = ckpt_store_remove(st, dir, err);
	return rc;
}

/* Removes the local directory path and everything in it. */
static int
rm_local_dir(struct ckpt_ctx *ctx, const char *path, struct ckpt_error *err)
{
	struct ckpt_store *st = NULL;
	struct stat sb;
	int rc;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? CKPT_OK : ckpt_error_set_errno(err,
		    errno, "cannot remove '%s'", path);
	rc = ckpt_store_open(ctx, path, CKPT_STORE_RDWR, &st, err);
	if (rc == CKPT_OK)
		rc = rm_tree(st, "", 0, err);
	ckpt_store_close(st);
	if (rc == CKPT_OK && rmdir(path) != 0 && errno != ENOENT)
		rc = ckpt_error_set_errno(err, errno, "cannot remove '%s'",
		    path);
	return rc;
}

/* ---- the new job description ---- */

static int
find_op(const struct ckpt_job_desc *d, const char *name)
{
	for (int i = 0; i < d->nops; i++)
		if (strcmp(d->ops[i].name, name) == 0)
			return i;
	return -1;
}

/* Sets config[key] = v (a number) in the JSON object text *cfg. */
static int
config_set_int(char **cfg, const char *key, int64_t v,
	struct ckpt_error *err)
{
	cJSON *root = cJSON_Parse(*cfg ? *cfg : "{}");
	char *text;

	if (root == NULL || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		root = cJSON_CreateObject();
	}
	if (root == NULL)
		goto nomem;
	if (cJSON_GetObjectItemCaseSensitive(root, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(root, key,
		    cJSON_CreateNumber((double)v));
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		goto nomem;
	free(*cfg);
	*cfg = text;
	return CKPT_OK;
nomem:
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot rewrite the configuration: out of memory");
}

static int
strdup_to(char **out, const char *s, struct ckpt_error *err)
{
	*out = strdup(s ? s : "");
	if (*out == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot migrate: out of memory");
	return CKPT_OK;
}

/*
 * Fills m->dst from m->src for the migration, or fails with
 * CKPT_E_USAGE when the options make no sense for this checkpoint.
 */
static int
plan_desc(struct mig *m)
{
	const struct ckpt_migrate_opts *o = m->o;
	int i, rc;

	m->dst = m->src;
	m->dst.lock_what = "ckpt migrate";
	rc = strdup_to(&m->config, m->src.config_json, m->err);
	if (rc == CKPT_OK)
		rc = strdup_to(&m->fingerprint, m->src.fingerprint, m->err);
	if (rc != CKPT_OK)
		return rc;
	switch (m->kind) {
	case MIG_FORMAT:
		if (o->to_version < NAT_VERSION_MIN ||
		    o->to_version > NAT_VERSION_MAX)
			return ckpt_error_set(m->err, CKPT_E_USAGE,
			    "cannot migrate to format version %d: versions "
			    "%d to %d exist", o->to_version, NAT_VERSION_MIN,
			    NAT_VERSION_MAX);
		if (o->to_version == m->src.format_version)
			return ckpt_error_set(m->err, CKPT_E_USAGE,
			    "cannot migrate '%s': it is already format "
			    "version %d", ckpt_store_url(ckpt_get_store(m->c)),
			    o->to_version);
		m->dst.format_version = o->to_version;
		if (m->dst.snapshot_every < 1)
			m->dst.snapshot_every = 1;
		rc = config_set_int(&m->config, "format_version",
		    o->to_version, m->err);
		break;
	case MIG_REPARTITION:
		if (o->partitions < 1 || o->partitions > 1000000)
			return ckpt_error_set(m->err, CKPT_E_USAGE,
			    "cannot repartition into %d partitions: want 1 to "
			    "1000000", o->partitions);
		for (i = 0; i < m->dst.nops; i++)
			if (m->src.ops[i].partitions != o->partitions)
				break;
		if (i == m->dst.nops)
			return ckpt_error_set(m->err, CKPT_E_USAGE,
			    "cannot repartition '%s': every operator already "
			    "has %d partitions",
			    ckpt_store_url(ckpt_get_store(m->c)),
			    o->partitions);
		for (i = 0; i < m->dst.nops; i++)
			m->dst.ops[i].partitions = o->partitions;
		rc = config_set_int(&m->config, "partitions", o->partitions,
		    m->err);
		break;
	case MIG_RENAME:
		i = find_op(&m->src, o->old_name);
		if (i < 0)
			return ckpt_error_set(m->err, CKPT_E_NOTFOUND,
			    "cannot rename operator '%s': no such operator",
			    o->old_name);
		if (o->new_name[0] == '\0' || strlen(o->new_name) >=
		    CKPT_OP_NAME_MAX || strchr(o->new_name, '/') != NULL)
			return ckpt_error_set(m->err, CKPT_E_USAGE,
			    "cannot rename operator '%s' to '%s': not a valid "
			    "operator name", o->old_name, o->new_name);
		if (find_op(&m->src, o->new_name) >= 0)
			return ckpt_error_set(m->err, CKPT_E_USAGE,
			    "cannot rename operator '%s' to '%s': an operator "
			    "of that name exists", o->old_name, o->new_name);
		m->dst.ops[i].name = o->new_name;
		rc = ops_fingerprint(&m->dst, &m->fingerprint, m->err);
		break;
	case MIG_COPY:
		m->dst.id = NULL;	/* a new lineage */
		break;
	default:
		break;
	}
	m->dst.config_json = m->config;
	m->dst.fingerprint = m->fingerprint;
	return rc;
}

/* ---- state ---- */

/* The engine's partition of a stored key (see ops_key_partition). */
struct part_filter {
	int n;
	int want;
};

static int
keep_partition(void *arg, const uint8_t *key, size_t len)
{
	const struct part_filter *f = arg;

	return ops_key_partition(key, len, f->n) == f->want;
}

/*
 * Opens the stream of target partition q of operator op at version v:
 * the same partition of the source, or, when repartitioning, every
 * source partition filtered to the keys that hash to q.
 */
static int
open_target(struct mig *m, int op, int q, int64_t v, struct part_filter *pf,
	struct ops_merge **out)
{
	if (m->kind != MIG_REPARTITION)
		return ops_merge_open(m->c, op, q, 1, v, NULL, NULL, out,
		    m->err);
	pf->n = m->dst.ops[op].partitions;
	pf->want = q;
	return ops_merge_open(m->c, op, 0, m->src_parts[op], v,
	    keep_partition, pf, out, m->err);
}

/* Writes the full state of (op, q) at version v. */
static int
write_snapshot(struct mig *m, struct ckpt_swriter *sw, int op, int q,
	int64_t v)
{
	struct ops_merge *mg = NULL;
	struct part_filter pf;
	struct ckpt_record r;
	int rc;

	rc = open_target(m, op, q, v, &pf, &mg);
	while (rc == CKPT_OK &&
	    (rc = ops_merge_next(mg, &r, m->err)) == CKPT_OK) {
		rc = ckpt_swriter_put(sw, r.key, r.key_len, r.value,
		    r.value_len, m->err);
		m->res->records++;
	}
	ops_merge_close(mg);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

struct delta_zip {
	struct mig *m;
	struct ckpt_swriter *sw;
};

/* Writes one change between two versions as a put or a tombstone. */
static int
delta_key(void *arg, char change, const struct ckpt_record *ra,
	const struct ckpt_record *rb)
{
	struct delta_zip *z = arg;
	int rc;

	if (change == '=')
		return CKPT_OK;
	if (change == '-')
		return ckpt_swriter_del(z->sw, ra->key, ra->key_len,
		    z->m->err);
	rc = ckpt_swriter_put(z->sw, rb->key, rb->key_len, rb->value,
	    rb->value_len, z->m->err);
	z->m->res->records++;
	return rc;
}

/* Writes what changed in (op, q) from version prev to version v. */
static int
write_delta(struct mig *m, struct ckpt_swriter *sw, int op, int q,
	int64_t prev, int64_t v)
{
	struct ops_merge *ma = NULL, *mb = NULL;
	struct part_filter pa, pb;
	struct delta_zip z = { m, sw };
	int rc;

	rc = open_target(m, op, q, prev, &pa, &ma);
	if (rc == CKPT_OK)
		rc = open_target(m, op, q, v, &pb, &mb);
	if (rc == CKPT_OK)
		rc = ops_merge_zip(ma, mb, delta_key, &z, m->err);
	ops_merge_close(ma);
	ops_merge_close(mb);
	return rc;
}

/* Writes the state checkpoint of batch b for every target partition. */
static int
write_state(struct mig *m, int64_t b)
{
	enum ckpt_state_kind kind = CKPT_STATE_SNAPSHOT;
	struct ckpt_swriter *sw;
	int op, q, rc = CKPT_OK;

	if (m->dst.format_version >= 2 && m->prev_state != CKPT_NONE &&
	    m->nstate % (m->dst.snapshot_every > 0 ?
	    m->dst.snapshot_every : 1) != 0)
		kind = CKPT_STATE_DELTA;
	for (op = 0; op < m->dst.nops && rc == CKPT_OK; op++)
		for (q = 0; q < m->dst.ops[op].partitions && rc == CKPT_OK;
		    q++) {
			rc = ckpt_ctx_check_interrupt(m->ctx,
			    "migrate stopped", m->err);
			if (rc != CKPT_OK)
				break;
			rc = ckpt_nwriter_state_open(m->w, op, q, kind, &sw,
			    m->err);
			if (rc != CKPT_OK)
				break;
			if (kind == CKPT_STATE_SNAPSHOT)
				rc = write_snapshot(m, sw, op, q, b);
			else
				rc = write_delta(m, sw, op, q, m->prev_state,
				    b);
			if (rc == CKPT_OK)
				rc = ckpt_swriter_finish(sw, m->err);
			else
				(void)ckpt_swriter_finish(sw, NULL);
			m->res->state_files++;
		}
	if (rc == CKPT_OK) {
		m->prev_state = b;
		m->nstate++;
		m->since_snapshot = kind == CKPT_STATE_DELTA ?
		    m->since_snapshot + 1 : 0;
		m->wrote_state = 1;
	}
	return rc;
}

/* ---- batches ---- */

/* Copies the non-state files of a batch's manifest. */
static int
copy_files(struct mig *m, const cJSON *files)
{
	const cJSON *f;
	char *data;
	size_t len;
	int rc = CKPT_OK;

	cJSON_ArrayForEach(f, files) {
		const char *path = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(f, "path"));

		/* the writer makes offsets, commits, meta and state itself */
		if (path == NULL || strncmp(path, "state/", 6) == 0 ||
		    strncmp(path, "offsets/", 8) == 0 ||
		    strncmp(path, "commits/", 8) == 0 ||
		    strncmp(path, "meta/", 5) == 0)
			continue;
		rc = ckpt_native_read_file(m->c, path, &data, &len, m->err);
		if (rc != CKPT_OK)
			break;
		rc = ckpt_nwriter_file(m->w, path, data, len, m->err);
		free(data);
		if (rc != CKPT_OK)
			break;
	}
	return rc;
}

/*
 * The members of a commit entry other than the writer's own, as text.
 * The engine's "checkpoint" member (kind of the state checkpoint and
 * deltas since the last snapshot; recovery continues the count from
 * it) is rewritten to say what this rewrite wrote.
 */
static int
commit_extra(struct mig *m, const cJSON *commit, char **out,
	struct ckpt_error *err)
{
	/* the members ckpt_nwriter_commit writes itself */
	static const char *const own[] = { "batch", "time_ms",
		"state_batch", "state_base", "files", NULL };
	cJSON *x = cJSON_Duplicate(commit, 1);
	int i;

	*out = NULL;
	if (x == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot copy a commit entry: out of memory");
	for (i = 0; own[i] != NULL; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(x, own[i]);
	if (m->wrote_state && cJSON_GetObjectItemCaseSensitive(x,
	    "checkpoint") != NULL) {
		cJSON *ck = cJSON_CreateObject();

		cJSON_AddStringToObject(ck, "kind", m->since_snapshot == 0 ?
		    "snapshot" : "delta");
		cJSON_AddNumberToObject(ck, "since_snapshot",
		    (double)m->since_snapshot);
		cJSON_ReplaceItemInObjectCaseSensitive(x, "checkpoint", ck);
	}
	if (x->child != NULL)
		*out = cJSON_PrintUnformatted(x);
	cJSON_Delete(x);
	return CKPT_OK;
}

/* Rewrites one batch of the source into the writer. */
static int
copy_batch(struct mig *m, const struct ckpt_batch *b)
{
	char *json = NULL, *offs = NULL, *extra = NULL;
	cJSON *root = NULL, *commit;
	int64_t sb;
	int rc;

	rc = ckpt_batch_json(m->c, b->id, &json, m->err);
	if (rc != CKPT_OK)
		return rc;
	root = cJSON_Parse(json);
	free(json);
	if (root == NULL)
		return ckpt_error_set(m->err, CKPT_E_FORMAT,
		    "cannot read batch %lld: not valid JSON",
		    (long long)b->id);
	offs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root,
	    "offsets"));
	commit = cJSON_GetObjectItemCaseSensitive(root, "commit");
	rc = ckpt_nwriter_begin_batch(m->w, b->id, b->time_ms, offs ? offs :
	    "{}", m->err);
	if (rc != CKPT_OK || !b->committed)
		goto out;
	m->wrote_state = 0;
	sb = num_of(commit, "state_batch");
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(commit,
	    "state_batch")) && sb == b->id)
		rc = write_state(m, b->id);
	if (rc == CKPT_OK)
		rc = copy_files(m, cJSON_GetObjectItemCaseSensitive(commit,
		    "files"));
	if (rc == CKPT_OK)
		rc = commit_extra(m, commit, &extra, m->err);
	if (rc == CKPT_OK)
		rc = ckpt_nwriter_commit(m->w, extra, m->err);
	m->res->batches++;
out:
	cJSON_free(offs);
	free(extra);
	cJSON_Delete(root);
	return rc;
}

/*
 * Rewrites every committed batch, then the uncommitted batch after the
 * restart point (recovery re-runs it) or, for set-offsets, the new
 * planned batch.  Uncommitted batches older than the restart point are
 * leftovers and are not copied.
 */
static int
copy_batches(struct mig *m)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int64_t r = m->info.restart_point;
	int rc, tail = 0;

	rc = ckpt_batch_iter_open(m->c, &it, m->err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, m->err)) == CKPT_OK) {
		rc = ckpt_ctx_check_interrupt(m->ctx, "migrate stopped",
		    m->err);
		if (rc != CKPT_OK)
			break;
		if (!b.committed && (r == CKPT_NONE || b.id < r))
			continue;
		if (!b.committed) {
			if (m->kind == MIG_OFFSETS || tail)
				continue;
			tail = 1;
		}
		rc = copy_batch(m, &b);
		if (rc != CKPT_OK)
			break;
		ckpt_ctx_progress(m->ctx, "migrate", (uint64_t)m->res->batches,
		    (uint64_t)m->total_batches);
	}
	ckpt_batch_iter_close(it);
	if (rc != CKPT_EOF)
		return rc;
	rc = CKPT_OK;
	if (m->kind == MIG_OFFSETS) {
		m->res->new_batch = r == CKPT_NONE ? 0 : r + 1;
		rc = ckpt_nwriter_begin_batch(m->w, m->res->new_batch,
		    m->new_time_ms, m->new_offsets, m->err);
	}
	return rc;
}

/*
 * Writes meta/<next> in dir: the writer's metadata with the source's
 * history plus an entry for this migration.
 */
static int
write_history(struct mig *m, struct ckpt_store *st)
{
	char path[NAT_PATH_MAX], *text = NULL, *out = NULL;
	cJSON *dst = NULL, *src = NULL, *hist, *e, *args;
	size_t len;
	int rc;

	nat_path_batch(path, sizeof(path), "meta", 0);
	rc = nat_read_small(st, path, NAT_K_META, &text, &len, NULL, m->err);
	if (rc != CKPT_OK)
		return rc;
	dst = cJSON_Parse(text);
	free(text);
	src = cJSON_Parse(m->info.metadata_json ? m->info.metadata_json :
	    "{}");
	if (dst == NULL || src == NULL)
		goto nomem;
	hist = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(src,
	    "history"), 1);
	if (hist == NULL || !cJSON_IsArray(hist)) {
		cJSON_Delete(hist);
		hist = cJSON_CreateArray();
	}
	e = cJSON_CreateObject();
	args = cJSON_CreateObject();
	if (hist == NULL || e == NULL || args == NULL) {
		cJSON_Delete(hist);
		cJSON_Delete(e);
		cJSON_Delete(args);
		goto nomem;
	}
	cJSON_AddStringToObject(e, "migration", m->o->migration);
	cJSON_AddNumberToObject(e, "time_ms", (double)nat_now_ms());
	cJSON_AddStringToObject(e, "from", ckpt_store_url(ckpt_get_store(
	    m->c)));
	cJSON_AddStringToObject(e, "from_id", m->src.id ? m->src.id : "");
	if (m->info.restart_point == CKPT_NONE)
		cJSON_AddNullToObject(e, "from_restart_point");
	else
		cJSON_AddNumberToObject(e, "from_restart_point",
		    (double)m->info.restart_point);
	switch (m->kind) {
	case MIG_FORMAT:
		cJSON_AddNumberToObject(args, "from_version",
		    m->src.format_version);
		cJSON_AddNumberToObject(args, "to_version",
		    m->dst.format_version);
		break;
	case MIG_REPARTITION:
		cJSON_AddNumberToObject(args, "from_partitions",
		    m->src.nops ? m->src.ops[0].partitions : 0);
		cJSON_AddNumberToObject(args, "partitions", m->o->partitions);
		break;
	case MIG_RENAME:
		cJSON_AddStringToObject(args, "old", m->o->old_name);
		cJSON_AddStringToObject(args, "new", m->o->new_name);
		cJSON_AddStringToObject(args, "old_fingerprint",
		    m->src.fingerprint ? m->src.fingerprint : "");
		cJSON_AddStringToObject(args, "new_fingerprint",
		    m->fingerprint);
		break;
	case MIG_OFFSETS:
		cJSON_AddNumberToObject(args, "batch",
		    (double)m->res->new_batch);
		cJSON_AddItemToObject(args, "offsets",
		    cJSON_Parse(m->new_offsets));
		break;
	default:
		break;
	}
	cJSON_AddItemToObject(e, "args", args);
	cJSON_AddItemToArray(hist, e);
	cJSON_DeleteItemFromObjectCaseSensitive(dst, "history");
	cJSON_AddItemToObject(dst, "history", hist);
	out = cJSON_PrintUnformatted(dst);
	if (out == NULL)
		goto nomem;
	nat_path_batch(path, sizeof(path), "meta", 1);
	rc = nat_write_small(st, path, CKPT_WRITE_EXCL,
	    m->dst.format_version, NAT_K_META, out, strlen(out), NULL,
	    m->err);
	cJSON_free(out);
	cJSON_Delete(dst);
	cJSON_Delete(src);
	return rc;
nomem:
	cJSON_Delete(dst);
	cJSON_Delete(src);
	return ckpt_error_set(m->err, CKPT_E_NOMEM,
	    "cannot write the migration history: out of memory");
}

/* ---- verification of the copy ---- */

struct vcount {
	uint64_t errors;
	char first[400];
};

static int
on_problem(void *arg, const struct ckpt_problem *p)
{
	struct vcount *v = arg;

	if (p->severity != CKPT_PROBLEM_ERROR)
		return 0;
	if (v->errors++ == 0)
		snprintf(v->first, sizeof(v->first), "'%s': %s", p->path,
		    p->msg);
	return 0;
}

struct same_zip {
	struct mig *m;
	int opb;
};

/* Fails on the first key of the copy that differs from the original. */
static int
same_key(void *arg, char change, const struct ckpt_record *ra,
	const struct ckpt_record *rb)
{
	const struct same_zip *z = arg;
	const struct ckpt_record *k = ra != NULL ? ra : rb;

	if (change == '=')
		return CKPT_OK;
	return ckpt_error_set(z->m->err, CKPT_E_FORMAT,
	    "cannot migrate: the state of operator '%s' in the copy differs "
	    "from the original (key %s)", z->m->dst.ops[z->opb].name,
	    k->key_json ? k->key_json : "?");
}

/*
 * Compares operator op of the source at version va with operator opb
 * of the copy at version vb, all partitions merged into key order.
 */
static int
same_state(struct mig *m, struct ckpt *copy, int op, int64_t va, int opb,
	int pb, int64_t vb)
{
	struct ops_merge *ma = NULL, *mb = NULL;
	struct same_zip z = { m, opb };
	int rc;

	rc = ops_merge_open(m->c, op, 0, m->src_parts[op], va, NULL, NULL,
	    &ma, m->err);
	if (rc == CKPT_OK)
		rc = ops_merge_open(copy, opb, 0, pb, vb, NULL, NULL, &mb,
		    m->err);
	if (rc == CKPT_OK)
		rc = ops_merge_zip(ma, mb, same_key, &z, m->err);
	ops_merge_close(ma);
	ops_merge_close(mb);
	return rc;
}

/*
 * Verifies the copy at url with --read-state, then checks that its
 * restart point and state equal the source's.
 */
static int
verify_copy(struct mig *m, const char *url)
{
	struct ckpt_verify_opts vo;
	struct ckpt_verify_stats vs;
	struct ckpt_info ci;
	struct vcount v;
	struct ckpt *copy = NULL;
	int64_t va, vb;
	int rc, op;

	memset(&v, 0, sizeof(v));
	memset(&vo, 0, sizeof(vo));
	memset(&ci, 0, sizeof(ci));
	vo.level = CKPT_VERIFY_READ_STATE;
	rc = ckpt_open(m->ctx, url, &copy, m->err);
	if (rc == CKPT_OK)
		rc = ckpt_verify(copy, &vo, on_problem, &v, &vs, m->err);
	if (rc == CKPT_OK && v.errors)
		rc = ckpt_error_set(m->err, CKPT_E_CHECKSUM,
		    "cannot migrate: the rewritten copy does not verify (%llu "
		    "error(s), first: %s)", (unsigned long long)v.errors,
		    v.first);
	if (rc == CKPT_OK)
		rc = ckpt_info_get(copy, &ci, m->err);
	if (rc == CKPT_OK && ci.restart_point != m->info.restart_point)
		rc = ckpt_error_set(m->err, CKPT_E_FORMAT,
		    "cannot migrate: the copy's restart point is %lld, the "
		    "original's %lld", (long long)ci.restart_point,
		    (long long)m->info.restart_point);
	if (rc == CKPT_OK)
		rc = ckpt_native_state_base(m->c, CKPT_NONE, &va, m->err);
	if (rc == CKPT_OK)
		rc = ckpt_native_state_base(copy, CKPT_NONE, &vb, m->err);
	for (op = 0; rc == CKPT_OK && op < m->dst.nops; op++)
		rc = same_state(m, copy, op, va, op, m->dst.ops[op].partitions,
		    vb);
	ckpt_info_release(&ci);
	ckpt_close(copy);
	return rc;
}

/* ---- the swap ---- */

/*
 * Puts the verified copy tmp in place of path: an atomic exchange
 * where the file system has one, else two renames (a crash between
 * them leaves the original complete under the temp name).  The old
 * directory ends up at tmp and is removed.
 */
static int
swap_in(struct mig *m, const char *path, const char *tmp)
{
	char aside[1500];

	ckpt_crash_point(m->ctx, "migrate.before_swap");
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
	    OPS_RENAME_EXCHANGE) != 0) {
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return ckpt_error_set_errno(m->err, errno,
			    "cannot swap '%s' with its migrated copy", path);
		snprintf(aside, sizeof(aside), "%s.old", tmp);
		if (rename(path, aside) != 0)
			return ckpt_error_set_errno(m->err, errno,
			    "cannot move '%s' aside", path);
		if (rename(tmp, path) != 0) {
			int e = errno;

			(void)rename(aside, path);
			return ckpt_error_set_errno(m->err, e,
			    "cannot move the migrated copy to '%s'", path);
		}
		return rm_local_dir(m->ctx, aside, m->err);
	}
	return rm_local_dir(m->ctx, tmp, m->err);
}

/* ---- set-offsets ---- */

/* A position of the engine's sources (lib/engine/engine.h, eng_pos). */
struct mpos {
	char name[CKPT_NAME_MAX];
	int64_t seg, off, rec;
};

/* A JSON number member as int64 (0 when absent or out of range). */
static int64_t
num_of(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(x) || !(x->valuedouble >= -9.2e18 &&
	    x->valuedouble <= 9.2e18))
		return 0;
	return (int64_t)x->valuedouble;
}

static void
pos_read(const cJSON *o, struct mpos *p)
{
	const char *n = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "name"));

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", n ? n : "");
	p->seg = num_of(o, "seg");
	p->off = num_of(o, "off");
	p->rec = num_of(o, "rec");
}

/*
 * Scans the input file for the start of a line: line number `line` (0 =
 * start; past the end = the end), or with time_ms != CKPT_NONE the
 * first line whose leading event time is >= time_ms; in either case no
 * later than the line holding byte `byte` (byte itself when it starts
 * a line).  Only complete lines count.  Fills p->off and p->rec.
 */
static int
scan_input(struct mig *m, int64_t line, int64_t time_ms, int64_t byte,
	struct mpos *p)
{
	FILE *f = fopen(m->o->input, "rb");
	int64_t off = 0, rec = 0, t = 0, last_off = 0, last_rec = 0;
	int c, at_start = 1, digits = 0, neg = 0, decided = 0;

	if (f == NULL)
		return ckpt_error_set_errno(m->err, errno,
		    "cannot open the input '%s'", m->o->input);
	while ((time_ms == CKPT_NONE ? rec < line : 1) && off < byte) {
		c = getc(f);
		if (c == EOF)
			break;
		off++;
		if (time_ms != CKPT_NONE && !decided) {
			if (at_start && c == '-' && digits == 0)
				neg = 1;
			else if (c >= '0' && c <= '9' && t < INT64_MAX / 10)
				t = t * 10 + (c - '0'), digits++;
			else {
				decided = 1;
				if (digits && (neg ? -t : t) >= time_ms)
					break;
			}
			at_start = 0;
		}
		if (c == '\n') {
			rec++;
			last_off = off;
			last_rec = rec;
			at_start = 1;
			digits = neg = decided = 0;
			t = 0;
		}
	}
	fclose(f);
	/* Stop at the start of the line being read, or the last complete
	 * line when the input ended. */
	p->off = last_off;
	p->rec = last_rec;
	p->seg = 0;
	return CKPT_OK;
}

/*
 * Computes the planned batch's offsets: the restart point's entry with
 * "start" moved as asked and no "end" (the engine cuts the batch from
 * there).
 */
static int
plan_offsets(struct mig *m)
{
	const struct ckpt_migrate_opts *o = m->o;
	char *json = NULL;
	cJSON *root = NULL, *offs, *commit, *start;
	struct mpos cur, np;
	const char *src;
	int64_t r = m->info.restart_point, batch_ms, rate, start_ms;
	cJSON *cfg;
	int rc = CKPT_OK, is_gen;

	if (r == CKPT_NONE)
		return ckpt_error_set(m->err, CKPT_E_NOTFOUND,
		    "cannot set offsets in '%s': it has no committed batch",
		    ckpt_store_url(ckpt_get_store(m->c)));
	rc = ckpt_batch_json(m->c, r, &json, m->err);
	if (rc != CKPT_OK)
		return rc;
	root = cJSON_Parse(json);
	free(json);
	offs = cJSON_GetObjectItemCaseSensitive(root, "offsets");
	commit = cJSON_GetObjectItemCaseSensitive(root, "commit");
	src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(offs,
	    "source"));
	if (root == NULL || src == NULL || !cJSON_IsObject(
	    cJSON_GetObjectItemCaseSensitive(commit, "end"))) {
		rc = ckpt_error_set(m->err, CKPT_E_UNSUPPORTED,
		    "cannot set offsets in '%s': batch %lld was not written "
		    "by ckpt run (no source or end position)",
		    ckpt_store_url(ckpt_get_store(m->c)), (long long)r);
		goto out;
	}
	if (o->source != NULL && strcmp(o->source, src) != 0) {
		rc = ckpt_error_set(m->err, CKPT_E_NOTFOUND,
		    "cannot set offsets of source '%s': the job reads from "
		    "source '%s'", o->source, src);
		goto out;
	}
	is_gen = strcmp(src, "generator") == 0;
	cfg = cJSON_Parse(m->src.config_json ? m->src.config_json : "{}");
	rate = num_of(cfg, "rate");
	batch_ms = num_of(cfg, "batch_ms");
	cJSON_Delete(cfg);
	start_ms = num_of(offs, "start_ms");
	pos_read(cJSON_GetObjectItemCaseSensitive(commit, "end"), &cur);
	np = cur;
	switch (o->reset) {
	case CKPT_RESET_EARLIEST:
		memset(&np, 0, sizeof(np));
		break;
	case CKPT_RESET_TO_OFFSET:
	case CKPT_RESET_SHIFT_BY:
	case CKPT_RESET_LATEST:
	case CKPT_RESET_TO_TIME:
		if (is_gen && o->reset == CKPT_RESET_TO_OFFSET) {
			np.rec = o->value;
			break;
		}
		if (is_gen && o->reset == CKPT_RESET_SHIFT_BY) {
			np.rec = cur.rec + o->value < 0 ? 0 :
			    cur.rec + o->value;
			break;
		}
		if (strcmp(src, "file") != 0 || o->input == NULL ||
		    cur.name[0] != '\0') {
			rc = ckpt_error_set(m->err, CKPT_E_UNSUPPORTED,
			    "cannot compute the new offsets: this reset needs "
			    "--input FILE, the job's single input file (source "
			    "'%s')", src);
			goto out;
		}
		if (o->reset == CKPT_RESET_TO_TIME && rate > 0)
			/* untimed input: line i has time start + i/rate */
			rc = scan_input(m, o->value <= start_ms ? 0 :
			    ((o->value - start_ms) * rate + 999) / 1000,
			    CKPT_NONE, INT64_MAX, &np);
		else if (o->reset == CKPT_RESET_TO_TIME)
			rc = scan_input(m, INT64_MAX, o->value, INT64_MAX,
			    &np);
		else if (o->reset == CKPT_RESET_LATEST)
			rc = scan_input(m, INT64_MAX, CKPT_NONE, INT64_MAX,
			    &np);
		else if (o->reset == CKPT_RESET_SHIFT_BY)
			rc = scan_input(m, cur.rec + o->value < 0 ? 0 :
			    cur.rec + o->value, CKPT_NONE, INT64_MAX, &np);
		else {
			/* to an offset: the line boundary at or before it */
			struct mpos all;

			rc = scan_input(m, INT64_MAX, CKPT_NONE, INT64_MAX,
			    &all);
			if (rc == CKPT_OK && (o->value < 0 ||
			    o->value > all.off))
				rc = ckpt_error_set(m->err, CKPT_E_USAGE,
				    "cannot set offset %lld: the input has "
				    "%lld bytes of complete lines",
				    (long long)o->value, (long long)all.off);
			if (rc == CKPT_OK)
				rc = scan_input(m, INT64_MAX, CKPT_NONE,
				    o->value, &np);
		}
		break;
	default:
		rc = ckpt_error_set(m->err, CKPT_E_USAGE,
		    "set-offsets needs one of --to-earliest, --to-latest, "
		    "--to-offset, --shift-by or --to-time");
		break;
	}
	if (rc != CKPT_OK)
		goto out;
	start = cJSON_CreateObject();
	cJSON_AddStringToObject(start, "name", np.name);
	cJSON_AddNumberToObject(start, "seg", (double)np.seg);
	cJSON_AddNumberToObject(start, "off", (double)np.off);
	cJSON_AddNumberToObject(start, "rec", (double)np.rec);
	cJSON_DeleteItemFromObjectCaseSensitive(offs, "end");
	cJSON_ReplaceItemInObjectCaseSensitive(offs, "start", start);
	m->new_offsets = cJSON_PrintUnformatted(offs);
	m->new_time_ms = num_of(root, "time_ms") + (batch_ms > 0 ?
	    batch_ms : 0);
	if (m->new_offsets == NULL)
		rc = ckpt_error_set(m->err, CKPT_E_NOMEM,
		    "cannot set offsets: out of memory");
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- engine compatibility ---- */

/*
 * The partition the engine puts a stored key in: XXH3-64 of the key's
 * bytes modulo n (lib/engine/engine_table.c, eng_hash; eng_part).
 * State keys are stored in the typed encoding; the engine hashes the
 * raw string, so a key that decodes as one string is hashed decoded.
 */
static int
ops_key_partition(const uint8_t *key, size_t len, int n)
{
	struct ckpt_dec d = { key, key + len, key };
	const char *s;
	size_t sn;

	if (n <= 1)
		return 0;
	if (ckpt_dec_string(&d, &s, &sn, NULL) == CKPT_OK && d.p == d.end)
		return (int)(eng_hash(s, sn) % (uint64_t)n);
	return (int)(eng_hash(key, len) % (uint64_t)n);
}

/*
 * The fingerprint the engine gives the job of d (job_fingerprint(),
 * lib/jobs/jobs_fingerprint.c).  Jobs the engine does not know keep
 * the fingerprint they have.
 */
static int
ops_fingerprint(const struct ckpt_job_desc *d, char **fp,
	struct ckpt_error *err)
{
	const struct job_def *j = d->job ? job_find(d->job) : NULL;
	char buf[JOB_FINGERPRINT_LEN];

	if (j == NULL)
		return CKPT_OK;
	job_fingerprint(j, buf);
	free(*fp);
	*fp = strdup(buf);
	if (*fp == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot compute the fingerprint: out of memory");
	return CKPT_OK;
}

/* ---- preview ---- */

static int
count_batches(struct mig *m, int64_t *committed, int64_t *with_state)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int rc;

	*committed = *with_state = 0;
	rc = ckpt_batch_iter_open(m->c, &it, m->err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, m->err)) == CKPT_OK) {
		if (!b.committed)
			continue;
		(*committed)++;
		if (b.has_state)
			(*with_state)++;
	}
	ckpt_batch_iter_close(it);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

static int
preview(struct mig *m, const char *where)
{
	int64_t nb = 0, ns = 0;
	int i, rc;

	switch (m->kind) {
	case MIG_FORMAT:
		rc = emit(m, "metadata", "format_version %d -> %d",
		    m->src.format_version, m->dst.format_version);
		if (rc == CKPT_OK)
			rc = emit(m, "state", "%s", m->dst.format_version == 1 ?
			    "every state checkpoint becomes a full snapshot" :
			    "state checkpoints become deltas, with a snapshot "
			    "every snapshot_every checkpoints");
		break;
	case MIG_REPARTITION:
		rc = CKPT_OK;
		for (i = 0; i < m->dst.nops && rc == CKPT_OK; i++)
			rc = emit(m, "state", "operator '%s': %d -> %d "
			    "partitions, every key rehashed",
			    m->dst.ops[i].name, m->src.ops[i].partitions,
			    m->dst.ops[i].partitions);
		break;
	case MIG_RENAME:
		rc = emit(m, "metadata", "operator '%s' renamed '%s'",
		    m->o->old_name, m->o->new_name);
		if (rc == CKPT_OK)
			rc = emit(m, "metadata", "fingerprint %s -> %s",
			    m->src.fingerprint ? m->src.fingerprint : "",
			    m->fingerprint);
		break;
	case MIG_OFFSETS:
		rc = emit(m, "batch", "new planned batch %lld with offsets %s",
		    (long long)(m->info.restart_point + 1), m->new_offsets);
		break;
	default:
		rc = emit(m, "metadata", "id %s -> a new lineage id",
		    m->src.id ? m->src.id : "");
		break;
	}
	if (rc == CKPT_OK)
		rc = count_batches(m, &nb, &ns);
	m->total_batches = nb;
	if (rc == CKPT_OK)
		rc = emit(m, "batches", "%lld committed batch(es) rewritten, "
		    "%lld with a state checkpoint; restart point %lld kept",
		    (long long)nb, (long long)ns,
		    (long long)m->info.restart_point);
	if (rc == CKPT_OK)
		rc = emit(m, "history", "metadata history gains a '%s' entry",
		    m->o->migration);
	if (rc == CKPT_OK)
		rc = emit(m, "destination", "%s", where);
	return rc;
}

/* ---- entry point ---- */

static int
kind_of(const char *name)
{
	static const char *const names[] = { "format", "repartition",
		"rename-operator", "set-offsets", "copy", NULL };

	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/*
 * Removes hidden ".<base>.ckpt-migrate-<pid>" siblings left by
 * migrations that died (their pid is gone).  Best effort.
 */
static void
rm_stale_temps(struct mig *m, const char *parent, const char *base)
{
	char prefix[300], path[1400];
	DIR *d = opendir(parent);
	struct dirent *de;
	size_t n;

	if (d == NULL)
		return;
	snprintf(prefix, sizeof(prefix), ".%s.ckpt-migrate-", base);
	n = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(de->d_name, prefix, n) != 0)
			continue;
		pid = strtol(de->d_name + n, &end, 10);
		if (pid <= 0 || (*end != '\0' && strcmp(end, ".old") != 0) ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		(void)rm_local_dir(m->ctx, path, NULL);
	}
	closedir(d);
}

/* Builds, verifies and moves the migrated copy into place. */
static int
execute(struct mig *m, const char *path, const char *dpath)
{
	char parent[1024], base[256], tmp[1400];
	const char *target = dpath ? dpath : path;
	struct stat sb;
	int rc;

	if (split_path(target, parent, sizeof(parent), base,
	    sizeof(base)) != 0)
		return ckpt_error_set(m->err, CKPT_E_USAGE,
		    "cannot migrate to '%s': not a directory path", target);
	if (dpath != NULL && lstat(dpath, &sb) == 0)
		return ckpt_error_set(m->err, CKPT_E_EXISTS,
		    "cannot migrate to '%s': it exists (migrate writes a new "
		    "directory)", dpath);
	/* the swap would move a symbolic link, not the directory */
	if (dpath == NULL && (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)))
		return ckpt_error_set(m->err, CKPT_E_UNSUPPORTED,
		    "cannot migrate '%s' in place: not a directory (a symbolic "
		    "link?); use --to DEST", path);
	rm_stale_temps(m, parent, base);
	snprintf(tmp, sizeof(tmp), "%s/.%s.ckpt-migrate-%ld", parent, base,
	    (long)getpid());
	rc = rm_local_dir(m->ctx, tmp, m->err);
	if (rc != CKPT_OK)
		return rc;
	rc = ckpt_nwriter_open(m->ctx, tmp, &m->dst, CKPT_NW_CREATE, &m->w,
	    m->err);
	if (rc != CKPT_OK)
		goto fail;
	m->prev_state = CKPT_NONE;
	rc = copy_batches(m);
	if (rc == CKPT_OK)
		rc = write_history(m, ckpt_nwriter_store(m->w));
	ckpt_nwriter_close(m->w);
	m->w = NULL;
	if (rc == CKPT_OK)
		rc = verify_copy(m, tmp);
	if (rc != CKPT_OK)
		goto fail;
	if (dpath != NULL) {
		ckpt_crash_point(m->ctx, "migrate.before_swap");
		if (rename(tmp, dpath) != 0) {
			rc = ckpt_error_set_errno(m->err, errno,
			    "cannot move the migrated copy to '%s'", dpath);
			goto fail;
		}
		return CKPT_OK;
	}
	return swap_in(m, path, tmp);
fail:
	(void)rm_local_dir(m->ctx, tmp, NULL);
	return rc;
}

int
ckpt_migrate(struct ckpt_ctx *ctx, const char *url,
	const struct ckpt_migrate_opts *o, ckpt_migrate_fn cb, void *arg,
	struct ckpt_migrate_result *res, struct ckpt_error *err)
{
	struct ckpt_store *st = NULL;
	struct ckpt_lock *lk = NULL;
	const char *path = local_path(url), *dpath = NULL;
	char where[1200];
	struct mig m;
	int rc, i;

	memset(res, 0, sizeof(*res));
	res->new_batch = CKPT_NONE;
	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	m.o = o;
	m.cb = cb;
	m.arg = arg;
	m.res = res;
	m.err = err;
	m.kind = o->migration ? kind_of(o->migration) : -1;
	if (m.kind < 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "unknown migration '%s' (see 'ckpt migrate --list')",
		    o->migration ? o->migration : "");
	if (o->dest != NULL && (dpath = local_path(o->dest)) == NULL)
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot migrate to '%s': migrate writes local directories "
		    "only", o->dest);
	if (dpath != NULL && ckpt_store_archive_name(dpath))
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot migrate to '%s': archive destinations are not "
		    "built yet; give a directory", o->dest);
	if (o->dest == NULL && path == NULL)
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot migrate '%s' in place: only local directories can "
		    "be swapped; use --to DEST", url);
	if (m.kind == MIG_COPY && o->dest == NULL)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "the copy migration needs --to DEST (a new versioned "
		    "directory such as app-v2)");
	rc = ckpt_store_open(ctx, url, o->execute ? CKPT_STORE_RDWR :
	    CKPT_STORE_RDONLY, &st, err);
	if (rc != CKPT_OK)
		return rc;
	if (o->execute) {
		rc = ckpt_store_lock(st, "ckpt migrate", &lk, err);
		if (rc != CKPT_OK)
			goto out_close_store;
	}
	rc = ckpt_open_store(ctx, st, &m.c, err);
	if (rc != CKPT_OK)
		goto out_unlock;
	rc = ckpt_info_get(m.c, &m.info, err);
	if (rc == CKPT_OK && strcmp(m.info.format, "native") != 0)
		rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot migrate '%s': migrations rewrite native "
		    "checkpoints, this one is %s", url, m.info.format);
	if (rc == CKPT_OK)
		rc = ckpt_native_job(m.c, &m.src, err);
	if (rc != CKPT_OK)
		goto out;
	for (i = 0; i < m.src.nops; i++)
		m.src_parts[i] = m.src.ops[i].partitions;
	rc = plan_desc(&m);
	if (rc == CKPT_OK && m.kind == MIG_OFFSETS)
		rc = plan_offsets(&m);
	if (rc != CKPT_OK)
		goto out;
	if (dpath != NULL)
		snprintf(where, sizeof(where), "new directory '%s'", o->dest);
	else
		snprintf(where, sizeof(where), "in place: rewritten into a "
		    "hidden sibling of '%s', verified, then swapped with it",
		    path);
	rc = preview(&m, where);
	if (rc != CKPT_OK || !o->execute)
		goto out;
	rc = execute(&m, path, dpath);
	if (rc == CKPT_OK) {
		snprintf(res->dest, sizeof(res->dest), "%s",
		    o->dest ? o->dest : url);
		res->in_place = o->dest == NULL;
	}
out:
	ckpt_info_release(&m.info);
	free(m.config);
	free(m.fingerprint);
	free(m.new_offsets);
	ckpt_close(m.c);
out_unlock:
	ckpt_lock_release(lk);
out_close_store:
	ckpt_store_close(st);
	return rc;
}
