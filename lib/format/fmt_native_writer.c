/*
 * fmt_native_writer.c - the native checkpoint writer (ckpt_nwriter_*,
 * ckpt_swriter_*): metadata on creation, the compatibility check on
 * reopen, and the commit protocol of ckpt-format(5), COMMIT PROTOCOL:
 *
 *   offsets/N            written before the batch runs
 *   state/<op>/<p>/N.*   snapshots or deltas, records in key order
 *   output/N, ...        any other file of the batch
 *   commits/N            the manifest of all the above, created with
 *                        CKPT_WRITE_EXCL: the commit point
 *
 * Every file is written once under its final name through the store's
 * durable atomic write.  The writer holds the directory's lock from open
 * to close.  It does not decide when to snapshot: the caller chooses the
 * state kind per file (the engine follows snapshot_every).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "native.h"
#include "../ctx.h"
#include "../ctx_test.h"
#include "../codec/codec.h"

#define NW_PENDING 64
#define NW_ZPOOL 16	/* zstd contexts kept for the next files */

struct ckpt_nwriter {
	struct ckpt_ctx *ctx;
	struct ckpt_store *st;
	struct ckpt_lock *lock;
	struct nat_meta meta;
	int codec;
	int64_t batch;		/* the open batch, CKPT_NONE if none */
	int64_t time_ms;
	int replay;		/* the open batch is already committed */
	int wrote_state;
	int wrote_file;
	int open_sw;		/* state writers not yet finished */
	int64_t state_batch;	/* newest committed state batch */
	cJSON *files;		/* manifest of the open batch */
	/* CKPT_BUG_COMMIT_BEFORE_STATE only: state files held back */
	struct ckpt_wfile *deferred[64];
	int ndeferred;
	/*
	 * Files of the open batch written but not yet committed: they land
	 * together (ckpt_wfile_commit_all, fsyncs overlapped) before the
	 * "commit.after_state" point (state files) and before the commit
	 * entry (batch files).  At most NW_PENDING at a time.
	 */
	struct ckpt_wfile *pending[NW_PENDING];
	int npending;
	int state_landed;	/* commit.after_state reached this batch */
	int land_failed;	/* a group failed to land: no commit */
	/*
	 * zstd contexts lent to the files being written and given back
	 * when each is finished: an engine writes a few files per batch,
	 * and setting a context up (a few hundred KB) costs more than
	 * compressing a small file with it.
	 */
	struct ckpt_zstd *zpool[NW_ZPOOL];
	int nzpool;
	/* sizes in the open batch's manifest; those of the last commit */
	uint64_t b_files, b_state;
	struct nat_commit_sizes last;
};

struct ckpt_swriter {
	struct ckpt_nwriter *w;
	struct nat_fwriter *fw;
	int kind;		/* NAT_K_SNAPSHOT / NAT_K_DELTA */
	char path[NAT_PATH_MAX];
	struct ckpt_buf last;	/* previous key */
	int has_last;
	int failed;
	struct ckpt_zstd *z;	/* lent by w, given back at the finish */
	int64_t batch;		/* the batch it belongs to */
	int attached;		/* nat_swriter_open_mem's, given its file */
};

/* A zstd context for a file about to be written (NULL: it makes its
 * own). */
static struct ckpt_zstd *
z_take(struct ckpt_nwriter *w)
{
	if (w->codec != NAT_C_ZSTD)
		return NULL;
	return w->nzpool > 0 ? w->zpool[--w->nzpool] : ckpt_zstd_new();
}

/* Gives back a context z_take() lent, its file finished. */
static void
z_give(struct ckpt_nwriter *w, struct ckpt_zstd *z)
{
	if (z == NULL)
		return;
	if (w->nzpool < NW_ZPOOL)
		w->zpool[w->nzpool++] = z;
	else
		ckpt_zstd_free(z);
}

static const char *
w_dir(const struct ckpt_nwriter *w)
{
	return ckpt_store_url(w->st);
}

/* "<dir>-v2", dropping trailing slashes of dir. */
static void
suggest_dir(char *out, size_t cap, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(out, cap, "%.*s-v2", (int)n, dir);
}

#define MISMATCH_TAIL ": use a new versioned directory (e.g. '%s') or " \
	"'ckpt migrate'"

static int
strdiff(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

/* Compares desc with the stored metadata m; CKPT_E_CONFIG on a change. */
static int
check_compat(const struct ckpt_nwriter *w, const struct ckpt_job_desc *d,
    struct ckpt_error *err)
{
	const struct nat_meta *m = &w->meta;
	const char *dir = w_dir(w);
	char v2[300];

	suggest_dir(v2, sizeof(v2), dir);
	if (strdiff(m->job, d->job))
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' was written by job '%s' (fingerprint %s), "
		    "not '%s'" MISMATCH_TAIL, dir, m->job, m->fingerprint,
		    d->job ? d->job : "", v2);
	if (strdiff(m->fingerprint, d->fingerprint))
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' was written by job '%s' with fingerprint "
		    "%s, not %s" MISMATCH_TAIL, dir, m->job, m->fingerprint,
		    d->fingerprint ? d->fingerprint : "(none)", v2);
	if (d->id != NULL && strdiff(m->id, d->id))
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' has lineage id %s, not %s" MISMATCH_TAIL,
		    dir, m->id, d->id, v2);
	if (m->format_version != d->format_version)
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' has format version %d, not %d"
		    MISMATCH_TAIL, dir, m->format_version, d->format_version,
		    v2);
	if (m->nops != d->nops)
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' has %d stateful operators, not %d"
		    MISMATCH_TAIL, dir, m->nops, d->nops, v2);
	for (int i = 0; i < m->nops; i++) {
		const struct nat_op *o = &m->ops[i];
		const struct ckpt_op_desc *od = &d->ops[i];

		if (strdiff(o->name, od->name))
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "checkpoint '%s' has operator %d named '%s', not "
			    "'%s'" MISMATCH_TAIL, dir, i, o->name,
			    od->name ? od->name : "", v2);
		if (o->partitions != od->partitions)
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "checkpoint '%s' has %d partitions for operator "
			    "'%s', not %d" MISMATCH_TAIL, dir, o->partitions,
			    o->name, od->partitions, v2);
		if (strdiff(o->key_schema_text, od->key_schema))
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "checkpoint '%s' has key schema '%s' for operator "
			    "'%s', not '%s'" MISMATCH_TAIL, dir,
			    o->key_schema_text, o->name,
			    od->key_schema ? od->key_schema : "", v2);
		if (strdiff(o->value_schema_text, od->value_schema))
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "checkpoint '%s' has value schema '%s' for "
			    "operator '%s', not '%s'" MISMATCH_TAIL, dir,
			    o->value_schema_text, o->name,
			    od->value_schema ? od->value_schema : "", v2);
	}
	return CKPT_OK;
}

static int
random_id(char out[33], struct ckpt_error *err)
{
	uint8_t b[16];
	int fd = open("/dev/urandom", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return ckpt_error_set_errno(err, errno,
		    "cannot make a lineage id: cannot open '/dev/urandom'");
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != (ssize_t)sizeof(b))
		return ckpt_error_set(err, CKPT_E_IO,
		    "cannot make a lineage id: short read of '/dev/urandom'");
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return CKPT_OK;
}

/* Builds the metadata JSON of a new directory from desc. */
static char *
meta_json(const struct ckpt_job_desc *d, const char *id, int64_t now)
{
	cJSON *root = cJSON_CreateObject(), *ops, *cfg = NULL;
	char *text = NULL;

	if (root == NULL)
		return NULL;
	cJSON_AddStringToObject(root, "format", "ckpt-native");
	cJSON_AddNumberToObject(root, "format_version", d->format_version);
	cJSON_AddStringToObject(root, "id", id);
	cJSON_AddStringToObject(root, "job", d->job ? d->job : "");
	cJSON_AddStringToObject(root, "fingerprint",
	    d->fingerprint ? d->fingerprint : "");
	if (d->config_json != NULL)
		cfg = cJSON_Parse(d->config_json);
	if (cfg == NULL || !cJSON_IsObject(cfg)) {
		cJSON_Delete(cfg);
		cfg = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(root, "config", cfg);
	cJSON_AddNumberToObject(root, "snapshot_every",
	    d->snapshot_every > 0 ? d->snapshot_every : 1);
	ops = cJSON_AddArrayToObject(root, "operators");
	for (int i = 0; ops != NULL && i < d->nops; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			break;
		cJSON_AddStringToObject(o, "name", d->ops[i].name);
		cJSON_AddStringToObject(o, "type",
		    d->ops[i].type ? d->ops[i].type : "");
		cJSON_AddNumberToObject(o, "partitions", d->ops[i].partitions);
		cJSON_AddStringToObject(o, "key_schema", d->ops[i].key_schema);
		cJSON_AddStringToObject(o, "value_schema",
		    d->ops[i].value_schema);
		cJSON_AddItemToArray(ops, o);
	}
	cJSON_AddNumberToObject(root, "created_ms", (double)now);
	cJSON_AddArrayToObject(root, "history");
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

static int
desc_check(const struct ckpt_job_desc *d, struct ckpt_error *err)
{
	struct ckpt_schema *s;

	if (d == NULL || d->job == NULL || d->job[0] == '\0')
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot open the native writer: no job name");
	if (d->format_version < NAT_VERSION_MIN ||
	    d->format_version > NAT_VERSION_MAX)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot open the native writer: unknown format version %d",
		    d->format_version);
	if (d->nops < 0 || d->nops > CKPT_MAX_OPERATORS)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot open the native writer: %d operators (at most %d)",
		    d->nops, CKPT_MAX_OPERATORS);
	for (int i = 0; i < d->nops; i++) {
		const struct ckpt_op_desc *o = &d->ops[i];

		if (o->name == NULL || o->name[0] == '\0' ||
		    o->partitions < 1 || o->partitions > 1000000 ||
		    o->key_schema == NULL || o->value_schema == NULL)
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "cannot open the native writer: operator %d needs "
			    "a name, 1..1000000 partitions and two schemas", i);
		if (ckpt_schema_parse(o->key_schema, &s, err) != CKPT_OK)
			return CKPT_FAILED;
		ckpt_schema_free(s);
		if (ckpt_schema_parse(o->value_schema, &s, err) != CKPT_OK)
			return CKPT_FAILED;
		ckpt_schema_free(s);
	}
	return CKPT_OK;
}

struct any_arg {
	int found;
};

static int
any_cb(void *arg, const struct ckpt_stat *ent)
{
	struct any_arg *a = arg;

	if (strcmp(ent->name, "lock") == 0 || nat_is_temp_name(ent->name))
		return 0;
	a->found = 1;
	return 1;
}

struct temps_arg {
	char names[8][CKPT_NAME_MAX];
	int n;
	int other;	/* a name that is not a temp file */
};

static int
temps_cb(void *arg, const struct ckpt_stat *ent)
{
	struct temps_arg *a = arg;

	if (!nat_is_temp_name(ent->name) || a->n == 8) {
		a->other = 1;
		return 1;
	}
	snprintf(a->names[a->n++], CKPT_NAME_MAX, "%s", ent->name);
	return 0;
}

/*
 * A creation killed before its metadata landed leaves meta/ holding
 * temp files only: remove them and meta/, so that the directory is
 * created afresh (found by ckpt restore-test).  Anything else in meta/
 * is left alone.
 */
static int
clear_unfinished_meta(struct ckpt_store *st, struct ckpt_error *err)
{
	struct temps_arg a;
	char path[NAT_PATH_MAX];

	memset(&a, 0, sizeof(a));
	if (ckpt_store_list(st, "meta", CKPT_LIST_NAME, NULL, temps_cb, &a,
	    err) != CKPT_OK)
		return CKPT_FAILED;
	if (a.other)
		return CKPT_OK;
	for (int i = 0; i < a.n; i++) {
		snprintf(path, sizeof(path), "meta/%s", a.names[i]);
		if (ckpt_store_remove(st, path, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	if (ckpt_store_remove(st, "meta", err) != CKPT_OK ||
	    ckpt_store_sync_dir(st, "", err) != CKPT_OK)
		return CKPT_FAILED;
	return CKPT_OK;
}

/* Creates meta/00..0 in an empty directory. */
static int
create_meta(struct ckpt_nwriter *w, const struct ckpt_job_desc *d,
    struct ckpt_error *err)
{
	char id[33], path[NAT_PATH_MAX];
	char *text;
	int rc;

	if (d->id == NULL && random_id(id, err) != CKPT_OK)
		return CKPT_FAILED;
	text = meta_json(d, d->id ? d->id : id, nat_now_ms());
	if (text == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write metadata: out of memory");
	nat_path_batch(path, sizeof(path), "meta", 0);
	rc = nat_write_small(w->st, path, CKPT_WRITE_EXCL, d->format_version,
	    NAT_K_META, text, strlen(text), NULL, err);
	if (rc == CKPT_OK)
		rc = nat_meta_parse(text, path, &w->meta, err);
	free(text);
	return rc;
}

int
ckpt_nwriter_open(struct ckpt_ctx *ctx, const char *url,
    const struct ckpt_job_desc *desc, unsigned flags,
    struct ckpt_nwriter **out, struct ckpt_error *err)
{
	struct ckpt_nwriter *w;
	struct ckpt_stat sb;
	char what[64];
	int64_t restart, newest;
	struct ckpt_error local = { 0 };
	int rc;

	if (err == NULL)
		err = &local;
	*out = NULL;
	if (desc_check(desc, err) != CKPT_OK)
		return CKPT_FAILED;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open the native writer: out of memory");
	w->ctx = ctx;
	w->batch = CKPT_NONE;
	w->state_batch = CKPT_NONE;
	w->codec = (flags & CKPT_NW_RAW) ? NAT_C_RAW : NAT_C_ZSTD;
	if (ckpt_store_open(ctx, url, CKPT_STORE_RDWR |
	    ((flags & CKPT_NW_CREATE) ? CKPT_STORE_CREATE : 0), &w->st,
	    err) != CKPT_OK)
		goto fail;
	if (desc->lock_what != NULL)
		snprintf(what, sizeof(what), "%s", desc->lock_what);
	else
		snprintf(what, sizeof(what), "ckpt %s", desc->job);
	if (ckpt_store_lock(w->st, what, &w->lock, err) != CKPT_OK)
		goto fail;
	rc = ckpt_store_stat(w->st, "meta", &sb, err);
	if (rc == CKPT_OK && (flags & CKPT_NW_CREATE)) {
		if (clear_unfinished_meta(w->st, err) != CKPT_OK)
			goto fail;
		rc = ckpt_store_stat(w->st, "meta", &sb, err);
	}
	if (rc != CKPT_OK && err != NULL && err->kind == CKPT_E_NOTFOUND) {
		struct any_arg a = { 0 };

		ckpt_error_clear(err);
		if (ckpt_store_list(w->st, "", CKPT_LIST_NAME, NULL, any_cb,
		    &a, err) != CKPT_OK)
			goto fail;
		if (a.found) {
			ckpt_error_set(err, CKPT_E_NOTCKPT,
			    "cannot create a checkpoint in '%s': the directory "
			    "is not empty and holds no native checkpoint", url);
			goto fail;
		}
		if (!(flags & CKPT_NW_CREATE)) {
			ckpt_error_set(err, CKPT_E_NOTCKPT,
			    "'%s' is not a checkpoint (no metadata)", url);
			goto fail;
		}
		if (create_meta(w, desc, err) != CKPT_OK)
			goto fail;
	} else if (rc != CKPT_OK) {
		goto fail;
	} else {
		if (nat_meta_load(w->st, &w->meta, err) != CKPT_OK)
			goto fail;
		if (!(flags & CKPT_NW_NO_CHECK) &&
		    check_compat(w, desc, err) != CKPT_OK)
			goto fail;
		if (nat_find_restart(w->st, &restart, &w->state_batch,
		    &newest, err) != CKPT_OK)
			goto fail;
		if (newest != CKPT_NONE && newest != restart) {
			struct nat_commit cm;

			if (nat_commit_load(w->st, newest, &cm, err) ==
			    CKPT_OK) {
				w->state_batch = cm.state_batch;
				nat_commit_release(&cm);
			} else {
				ckpt_error_clear(err);
			}
		}
	}
	*out = w;
	return CKPT_OK;
fail:
	ckpt_nwriter_close(w);
	return CKPT_FAILED;
}

static int land_pending(struct ckpt_nwriter *w, struct ckpt_error *err);

void
ckpt_nwriter_close(struct ckpt_nwriter *w)
{
	if (w == NULL)
		return;
	while (w->ndeferred > 0)
		ckpt_wfile_abort(w->deferred[--w->ndeferred]);
	/* files finished but not landed stay, as uncommitted files do */
	if (w->npending > 0 && !w->land_failed)
		(void)land_pending(w, NULL);
	while (w->npending > 0)
		ckpt_wfile_abort(w->pending[--w->npending]);
	while (w->nzpool > 0)
		ckpt_zstd_free(w->zpool[--w->nzpool]);
	cJSON_Delete(w->files);
	nat_meta_release(&w->meta);
	ckpt_lock_release(w->lock);
	ckpt_store_close(w->st);
	free(w);
}

struct ckpt_store *
ckpt_nwriter_store(struct ckpt_nwriter *w)
{
	return w->st;
}

const char *
ckpt_nwriter_lineage_id(const struct ckpt_nwriter *w)
{
	return w->meta.id;
}

int
ckpt_nwriter_state_batch(const struct ckpt_nwriter *w, int64_t *batch)
{
	*batch = w->state_batch;
	return CKPT_OK;
}

/* Appends a manifest entry for a file just written. */
static int
manifest_add(struct ckpt_nwriter *w, const char *path, int kind,
    const struct nat_fw_result *r, struct ckpt_error *err)
{
	cJSON *e = cJSON_CreateObject();
	char hex[17];

	if (e == NULL)
		goto nomem;
	nat_hex64(hex, r->xxh3);
	if (cJSON_AddStringToObject(e, "path", path) == NULL ||
	    cJSON_AddStringToObject(e, "kind", nat_kind_name(kind)) == NULL ||
	    cJSON_AddNumberToObject(e, "size", (double)r->size) == NULL ||
	    cJSON_AddStringToObject(e, "xxh3", hex) == NULL ||
	    cJSON_AddNumberToObject(e, "records", (double)r->records) ==
	    NULL) {
		cJSON_Delete(e);
		goto nomem;
	}
	cJSON_AddItemToArray(w->files, e);
	w->b_files += r->size;
	if (kind == NAT_K_SNAPSHOT || kind == NAT_K_DELTA)
		w->b_state += r->size;
	return CKPT_OK;
nomem:
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot record '%s' in the manifest: out of memory", path);
}

static int
manifest_has(const struct ckpt_nwriter *w, const char *path)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, w->files) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");

		if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
			return 1;
	}
	return 0;
}

/* Lands every pending file of the batch (durably) at once. */
static int
land_pending(struct ckpt_nwriter *w, struct ckpt_error *err)
{
	int n = w->npending;

	if (w->land_failed)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot commit batch %" PRId64 ": an earlier write of it "
		    "failed", w->batch);
	w->npending = 0;
	if (ckpt_wfile_commit_all(w->pending, (size_t)n, err) != CKPT_OK) {
		w->land_failed = 1;
		return CKPT_FAILED;
	}
	return CKPT_OK;
}

/*
 * The state files are durable, nothing after them is written: lands
 * them and reaches the "commit.after_state" point, once per batch.
 */
static int
state_landed(struct ckpt_nwriter *w, struct ckpt_error *err)
{
	if (w->state_landed)
		return CKPT_OK;
	if (land_pending(w, err) != CKPT_OK)
		return CKPT_FAILED;
	w->state_landed = 1;
	ckpt_crash_point(w->ctx, "commit.after_state");
	return CKPT_OK;
}

/* Finishes fw into the pending group (landing the group when full). */
static int
finish_pending(struct ckpt_nwriter *w, struct nat_fwriter *fw,
    struct nat_fw_result *r, struct ckpt_error *err)
{
	if (w->npending == NW_PENDING && land_pending(w, err) != CKPT_OK) {
		nat_fw_abort(fw);
		return CKPT_FAILED;
	}
	if (nat_fw_finish_keep(fw, r, &w->pending[w->npending], err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	w->npending++;
	return CKPT_OK;
}

int
ckpt_nwriter_begin_batch(struct ckpt_nwriter *w, int64_t batch,
    int64_t time_ms, const char *offsets_json, struct ckpt_error *err)
{
	char path[NAT_PATH_MAX];
	struct nat_fw_result r;
	struct ckpt_stat sb;
	cJSON *root = NULL, *off = NULL;
	char *text = NULL;
	struct ckpt_error local = { 0 };
	int rc;

	if (err == NULL)
		err = &local;
	if (w->batch != CKPT_NONE)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot begin batch %" PRId64 ": batch %" PRId64
		    " is still open", batch, w->batch);
	if (batch < 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot begin batch %" PRId64 ": negative id", batch);
	off = cJSON_Parse(offsets_json ? offsets_json : "{}");
	if (off == NULL || !cJSON_IsObject(off)) {
		cJSON_Delete(off);
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot begin batch %" PRId64 ": offsets are not a JSON "
		    "object", batch);
	}
	nat_path_batch(path, sizeof(path), "commits", batch);
	rc = ckpt_store_stat(w->st, path, &sb, err);
	if (rc == CKPT_OK) {
		/* replay of a committed batch: write nothing */
		cJSON_Delete(off);
		w->batch = batch;
		w->time_ms = time_ms;
		w->replay = 1;
		return CKPT_OK;
	}
	if (err == NULL || err->kind != CKPT_E_NOTFOUND) {
		cJSON_Delete(off);
		return CKPT_FAILED;
	}
	ckpt_error_clear(err);
	root = cJSON_CreateObject();
	if (root == NULL ||
	    cJSON_AddNumberToObject(root, "batch", (double)batch) == NULL ||
	    cJSON_AddNumberToObject(root, "time_ms", (double)time_ms) == NULL) {
		cJSON_Delete(off);
		goto nomem;
	}
	cJSON_AddItemToObject(root, "offsets", off);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		goto nomem;
	cJSON_Delete(w->files);
	w->files = cJSON_CreateArray();
	if (w->files == NULL) {
		free(text);
		goto nomem;
	}
	w->b_files = w->b_state = 0;
	nat_path_batch(path, sizeof(path), "offsets", batch);
	rc = nat_write_small(w->st, path, 0, w->meta.format_version,
	    NAT_K_OFFSETS, text, strlen(text), &r, err);
	free(text);
	if (rc != CKPT_OK)
		return CKPT_FAILED;
	if (manifest_add(w, path, NAT_K_OFFSETS, &r, err) != CKPT_OK)
		return CKPT_FAILED;
	w->batch = batch;
	w->time_ms = time_ms;
	w->replay = 0;
	w->wrote_state = 0;
	w->wrote_file = 0;
	w->open_sw = 0;
	w->state_landed = 0;
	w->land_failed = 0;
	while (w->npending > 0)	/* of an abandoned batch */
		ckpt_wfile_abort(w->pending[--w->npending]);
	ckpt_crash_point(w->ctx, "commit.after_offsets");
	return CKPT_OK;
nomem:
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot begin batch %" PRId64 ": out of memory", batch);
}

static int
need_batch(struct ckpt_nwriter *w, const char *what, struct ckpt_error *err)
{
	if (w->batch == CKPT_NONE)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot %s: no batch is open", what);
	if (w->replay)
		return ckpt_error_set(err, CKPT_E_EXISTS,
		    "cannot %s: batch %" PRId64 " is already committed in '%s'",
		    what, w->batch, w_dir(w));
	return CKPT_OK;
}

int
ckpt_nwriter_land_state(struct ckpt_nwriter *w, struct ckpt_error *err)
{
	if (need_batch(w, "land state files", err) != CKPT_OK)
		return CKPT_FAILED;
	if (w->open_sw > 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot land the state files of batch %" PRId64 ": %d are "
		    "not finished", w->batch, w->open_sw);
	return state_landed(w, err);
}

/*
 * A state writer for op/partition of batch (checks that need only the
 * writer's metadata, fixed at open), not yet given a file.
 */
static int
sw_new(const struct ckpt_nwriter *w, int op, int partition, int64_t batch,
    enum ckpt_state_kind kind, struct ckpt_swriter **out,
    struct ckpt_error *err)
{
	struct ckpt_swriter *sw;
	int nk = kind == CKPT_STATE_DELTA ? NAT_K_DELTA : NAT_K_SNAPSHOT;

	*out = NULL;
	if (op < 0 || op >= w->meta.nops)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write state: no operator %d", op);
	if (partition < 0 || partition >= w->meta.ops[op].partitions)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write state: operator '%s' has no partition %d",
		    w->meta.ops[op].name, partition);
	if (kind != CKPT_STATE_SNAPSHOT && kind != CKPT_STATE_DELTA)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write state: unknown state kind %d", (int)kind);
	if (nk == NAT_K_DELTA && w->meta.format_version < 2)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write a delta in '%s': format version %d holds "
		    "snapshots only", w_dir(w), w->meta.format_version);
	sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write state: out of memory");
	sw->w = (struct ckpt_nwriter *)w;	/* used again at attach */
	sw->kind = nk;
	sw->batch = batch;
	nat_path_state(sw->path, sizeof(sw->path), op, partition, batch, nk);
	*out = sw;
	return CKPT_OK;
}

/* Before sw's file is created: the open batch is its batch. */
static int
sw_checks(struct ckpt_nwriter *w, const struct ckpt_swriter *sw,
    struct ckpt_error *err)
{
	if (need_batch(w, "write state", err) != CKPT_OK)
		return CKPT_FAILED;
	if (sw->batch != w->batch)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': batch %" PRId64 " is open", sw->path,
		    w->batch);
	if (manifest_has(w, sw->path))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s' twice in one batch", sw->path);
	return CKPT_OK;
}

static void
sw_free(struct ckpt_swriter *sw)
{
	if (sw == NULL)
		return;
	nat_fw_abort(sw->fw);
	ckpt_buf_release(&sw->last);
	free(sw);
}

int
ckpt_nwriter_state_open(struct ckpt_nwriter *w, int op, int partition,
    enum ckpt_state_kind kind, struct ckpt_swriter **out,
    struct ckpt_error *err)
{
	struct ckpt_swriter *sw;

	*out = NULL;
	if (need_batch(w, "write state", err) != CKPT_OK ||
	    sw_new(w, op, partition, w->batch, kind, &sw, err) != CKPT_OK)
		return CKPT_FAILED;
	if (sw_checks(w, sw, err) != CKPT_OK ||
	    nat_fw_open(w->st, sw->path, 0, w->meta.format_version, sw->kind,
	    w->codec, &sw->fw, err) != CKPT_OK) {
		sw_free(sw);
		return CKPT_FAILED;
	}
	sw->z = z_take(w);
	nat_fw_lend_zstd(sw->fw, sw->z);
	w->open_sw++;
	*out = sw;
	return CKPT_OK;
}

int
nat_swriter_open_mem(const struct ckpt_nwriter *w, int op, int partition,
    int64_t batch, enum ckpt_state_kind kind, struct ckpt_zstd *z,
    struct ckpt_swriter **out, struct ckpt_error *err)
{
	struct ckpt_swriter *sw;

	*out = NULL;
	if (sw_new(w, op, partition, batch, kind, &sw, err) != CKPT_OK)
		return CKPT_FAILED;
	if (nat_fw_open_mem(sw->path, w->meta.format_version, sw->kind,
	    w->codec, &sw->fw, err) != CKPT_OK) {
		sw_free(sw);
		return CKPT_FAILED;
	}
	nat_fw_lend_zstd(sw->fw, z);
	*out = sw;
	return CKPT_OK;
}

int
nat_swriter_seal(struct ckpt_swriter *sw, struct ckpt_error *err)
{
	if (sw->failed)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': an earlier write failed", sw->path);
	if (nat_fw_flush(sw->fw, err) != CKPT_OK) {
		sw->failed = 1;
		return CKPT_FAILED;
	}
	nat_fw_lend_zstd(sw->fw, NULL);
	return CKPT_OK;
}

int
nat_swriter_attach(struct ckpt_nwriter *w, struct ckpt_swriter *sw,
    struct ckpt_error *err)
{
	if (sw->w != w || sw->failed)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': %s", sw->path, sw->failed ?
		    "an earlier write failed" : "made for another writer");
	if (sw_checks(w, sw, err) != CKPT_OK ||
	    nat_fw_attach(sw->fw, w->st, 0, err) != CKPT_OK)
		return CKPT_FAILED;
	w->open_sw++;
	sw->attached = 1;
	return CKPT_OK;
}

void
nat_swriter_abort(struct ckpt_swriter *sw)
{
	if (sw != NULL && sw->attached)
		sw->w->open_sw--;	/* counted open at the attach */
	sw_free(sw);		/* and its temp file, if it has one */
}

static int
sw_add(struct ckpt_swriter *sw, const void *key, size_t klen,
    const void *val, size_t vlen, int tomb, struct ckpt_error *err)
{
	if (sw->failed)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': an earlier write failed", sw->path);
	if (klen + vlen > NAT_RECORD_MAX)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': a record of %zu bytes exceeds the "
		    "64 MiB limit", sw->path, klen + vlen);
	if (sw->has_last && ckpt_key_cmp(sw->last.data, sw->last.len, key,
	    klen) >= 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': keys are not in strictly ascending "
		    "order", sw->path);
	sw->last.len = 0;
	if (klen > sw->last.cap && ckpt_buf_reserve(&sw->last, klen) != 0)
		goto nomem;
	if (klen > 0)
		memcpy(sw->last.data, key, klen);
	sw->last.len = klen;
	sw->has_last = 1;
	if (nat_fw_state_record(sw->fw, key, klen, val, vlen, tomb, err) !=
	    CKPT_OK) {
		sw->failed = 1;
		return CKPT_FAILED;
	}
	return CKPT_OK;
nomem:
	sw->failed = 1;
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot write '%s': out of memory", sw->path);
}

int
ckpt_swriter_put(struct ckpt_swriter *sw, const void *key, size_t klen,
    const void *val, size_t vlen, struct ckpt_error *err)
{
	return sw_add(sw, key, klen, val, vlen, 0, err);
}

int
ckpt_swriter_del(struct ckpt_swriter *sw, const void *key, size_t klen,
    struct ckpt_error *err)
{
	if (sw->kind != NAT_K_DELTA)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write a tombstone in '%s': snapshots hold live "
		    "keys only", sw->path);
	return sw_add(sw, key, klen, NULL, 0, 1, err);
}

int
ckpt_swriter_finish(struct ckpt_swriter *sw, struct ckpt_error *err)
{
	struct ckpt_nwriter *w;
	struct nat_fw_result r;
	int rc = CKPT_FAILED;

	if (sw == NULL)
		return CKPT_OK;
	w = sw->w;
	w->open_sw--;
	if (sw->failed) {
		nat_fw_abort(sw->fw);
		ckpt_error_set(err, CKPT_E_USAGE, "cannot finish '%s': an "
		    "earlier write failed", sw->path);
	} else if (ckpt_test_bug(w->ctx, CKPT_BUG_COMMIT_BEFORE_STATE) &&
	    w->ndeferred < 64) {
		/* test build, deliberate bug: land it after the commit */
		if (nat_fw_finish_keep(sw->fw, &r, &w->deferred[w->ndeferred],
		    err) == CKPT_OK) {
			w->ndeferred++;
			if (manifest_add(w, sw->path, sw->kind, &r, err) ==
			    CKPT_OK) {
				w->wrote_state = 1;
				rc = CKPT_OK;
			}
		}
	} else if (finish_pending(w, sw->fw, &r, err) == CKPT_OK &&
	    manifest_add(w, sw->path, sw->kind, &r, err) == CKPT_OK) {
		w->wrote_state = 1;
		rc = CKPT_OK;
	}
	z_give(w, sw->z);
	ckpt_buf_release(&sw->last);
	free(sw);
	return rc;
}

static int
reserved_path(const char *path)
{
	static const char *const dirs[] = { "meta/", "offsets/", "commits/",
		"state/", NULL };

	if (strcmp(path, "lock") == 0 || strchr(path, '/') == NULL)
		return 1;
	for (int i = 0; dirs[i] != NULL; i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return 1;
	return 0;
}

/* What must hold before a batch file is written at path. */
static int
file_checks(struct ckpt_nwriter *w, const char *path, struct ckpt_error *err)
{
	if (need_batch(w, "write a batch file", err) != CKPT_OK)
		return CKPT_FAILED;
	if (path == NULL || reserved_path(path))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': batch files go in a directory other "
		    "than meta/, offsets/, commits/ and state/",
		    path ? path : "");
	if (manifest_has(w, path))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s' twice in one batch", path);
	w->wrote_file = 1;
	return state_landed(w, err);
}

int
ckpt_nwriter_file(struct ckpt_nwriter *w, const char *path,
    const void *data, size_t len, struct ckpt_error *err)
{
	struct nat_fwriter *fw;
	struct nat_fw_result r;
	struct ckpt_zstd *z;
	int rc;

	if (file_checks(w, path, err) != CKPT_OK)
		return CKPT_FAILED;
	if (nat_fw_open(w->st, path, 0, w->meta.format_version, NAT_K_BLOB,
	    w->codec, &fw, err) != CKPT_OK)
		return CKPT_FAILED;
	z = z_take(w);
	nat_fw_lend_zstd(fw, z);
	if (nat_fw_bytes(fw, data, len, err) != CKPT_OK) {
		nat_fw_abort(fw);
		z_give(w, z);
		return CKPT_FAILED;
	}
	rc = finish_pending(w, fw, &r, err);
	z_give(w, z);
	if (rc != CKPT_OK)
		return CKPT_FAILED;
	return manifest_add(w, path, NAT_K_BLOB, &r, err);
}

void
nat_nwriter_last_commit(const struct ckpt_nwriter *w,
    struct nat_commit_sizes *out)
{
	*out = w->last;
}

int
nat_blob_prepare(const struct ckpt_nwriter *w, const char *path,
    struct ckpt_zstd *z, const void *data, size_t len,
    struct nat_fwriter **out, struct ckpt_error *err)
{
	struct nat_fwriter *fw;

	*out = NULL;
	if (nat_fw_open_mem(path, w->meta.format_version, NAT_K_BLOB,
	    w->codec, &fw, err) != CKPT_OK)
		return CKPT_FAILED;
	nat_fw_lend_zstd(fw, z);
	if (nat_fw_bytes(fw, data, len, err) != CKPT_OK ||
	    nat_fw_flush(fw, err) != CKPT_OK) {
		nat_fw_abort(fw);
		return CKPT_FAILED;
	}
	nat_fw_lend_zstd(fw, NULL);	/* z stays the caller's */
	*out = fw;
	return CKPT_OK;
}

int
nat_nwriter_file_prepared(struct ckpt_nwriter *w, struct nat_fwriter *fw,
    struct ckpt_error *err)
{
	char path[NAT_PATH_MAX];
	struct nat_fw_result r;

	snprintf(path, sizeof(path), "%s", nat_fw_path(fw));
	if (file_checks(w, path, err) != CKPT_OK ||
	    nat_fw_attach(fw, w->st, 0, err) != CKPT_OK) {
		nat_fw_abort(fw);
		return CKPT_FAILED;
	}
	if (finish_pending(w, fw, &r, err) != CKPT_OK)
		return CKPT_FAILED;
	return manifest_add(w, path, NAT_K_BLOB, &r, err);
}

/* Merges the members of extra (object text) into root; reserved names
 * are refused. */
static int
merge_extra(cJSON *root, const char *extra, struct ckpt_error *err)
{
	cJSON *x, *it;

	if (extra == NULL)
		return CKPT_OK;
	x = cJSON_Parse(extra);
	if (x == NULL || !cJSON_IsObject(x)) {
		cJSON_Delete(x);
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot commit: extra is not a JSON object");
	}
	while ((it = x->child) != NULL) {
		if (cJSON_GetObjectItemCaseSensitive(root, it->string)) {
			ckpt_error_set(err, CKPT_E_USAGE, "cannot commit: "
			    "extra field '%s' is reserved", it->string);
			cJSON_Delete(x);
			return CKPT_FAILED;
		}
		cJSON_DetachItemViaPointer(x, it);
		cJSON_AddItemToObject(root, it->string, it);
	}
	cJSON_Delete(x);
	return CKPT_OK;
}

int
ckpt_nwriter_commit(struct ckpt_nwriter *w, const char *extra_json,
    struct ckpt_error *err)
{
	char path[NAT_PATH_MAX];
	struct nat_fw_result res;
	cJSON *root;
	char *text;
	int64_t sb;
	int rc;

	if (w->replay && w->batch != CKPT_NONE) {
		rc = ckpt_error_set(err, CKPT_E_EXISTS,
		    "cannot commit batch %" PRId64 ": it is already committed "
		    "in '%s'", w->batch, w_dir(w));
		w->batch = CKPT_NONE;
		w->replay = 0;
		return rc;
	}
	if (need_batch(w, "commit", err) != CKPT_OK)
		return CKPT_FAILED;
	if (w->open_sw > 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot commit batch %" PRId64 ": %d state files are not "
		    "finished", w->batch, w->open_sw);
	if (state_landed(w, err) != CKPT_OK ||
	    land_pending(w, err) != CKPT_OK)
		return CKPT_FAILED;
	sb = w->wrote_state ? w->batch : w->state_batch;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    cJSON_AddNumberToObject(root, "batch", (double)w->batch) == NULL ||
	    cJSON_AddNumberToObject(root, "time_ms", (double)w->time_ms) ==
	    NULL ||
	    (sb == CKPT_NONE ? cJSON_AddNullToObject(root, "state_batch") :
	    cJSON_AddNumberToObject(root, "state_batch", (double)sb)) == NULL)
		goto nomem;
	if (!cJSON_AddItemReferenceToObject(root, "files", w->files))
		goto nomem;
	if (merge_extra(root, extra_json, err) != CKPT_OK) {
		cJSON_Delete(root);
		return CKPT_FAILED;
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	root = NULL;
	if (text == NULL)
		goto nomem;
	ckpt_crash_point(w->ctx, "commit.before_entry");
	nat_path_batch(path, sizeof(path), "commits", w->batch);
	rc = nat_write_small(w->st, path, CKPT_WRITE_EXCL,
	    w->meta.format_version, NAT_K_COMMIT, text, strlen(text), &res,
	    err);
	free(text);
	if (rc != CKPT_OK)	/* the batch stays open: retry or close */
		return CKPT_FAILED;
	ckpt_crash_point(w->ctx, "commit.after_entry");
	for (int i = 0; i < w->ndeferred; i++)	/* the deliberate bug */
		if (ckpt_wfile_commit(w->deferred[i], err) != CKPT_OK)
			rc = CKPT_FAILED;
	w->ndeferred = 0;
	if (rc != CKPT_OK)
		return CKPT_FAILED;
	cJSON_Delete(w->files);
	w->files = NULL;
	w->state_batch = sb;
	w->batch = CKPT_NONE;
	w->last.files_bytes = w->b_files;
	w->last.state_bytes = w->b_state;
	w->last.entry_bytes = res.size;
	return CKPT_OK;
nomem:
	cJSON_Delete(root);
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot commit batch %" PRId64 ": out of memory", w->batch);
}
