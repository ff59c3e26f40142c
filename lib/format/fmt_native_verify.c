/*
 * fmt_native_verify.c - verify, file roles and hex-dump regions of
 * native checkpoints (ckpt-format(5), VERIFICATION).
 *
 * Structure level: the metadata parses; every commit entry parses; its
 * manifest files exist with their recorded sizes and well-formed headers
 * and footers; the chain holds (offsets for every commit, contiguous
 * ids, state_batch pointing at a commit that wrote state); leftovers are
 * warnings.  Read-state level also streams every block of every
 * manifest file (a subset of state files with --read-subset), compares
 * every checksum, decodes every record through the operator's schema,
 * checks key order, footer counts and the whole-file XXH3 against the
 * manifest.  Damage is reported with the file and byte offset; the walk
 * goes on after a damaged file.  Memory: one block at a time.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"
#include "../codec/codec.h"
#include "../ctx.h"

/* ------------------------------------------------------------------ */
/* File roles                                                           */
/* ------------------------------------------------------------------ */

struct walk {
	struct ckpt *c;
	ckpt_file_fn cb;
	void *arg;
	struct ckpt_error *err;
	int stop;
	int failed;
	int depth;
	int raw;		/* sizes only: skip classification */
	/*
	 * The commit ids in (com_lo, com_hi]: one page of commits/ from
	 * an unsorted scan, so that "has batch N a commit" costs no stat
	 * while the walk goes through a directory in id order.
	 */
	struct nat_ids com;
	int64_t com_lo, com_hi;
	int com_ok;
	int com_collect;	/* walking commits/: fill com on the way */
};

/* Keeps commit id v (they come in order) while walking commits/. */
static void
commit_collect(struct walk *w, int64_t v)
{
	struct nat_ids *ids = &w->com;

	if (ids->n >= NAT_IDS_PAGE) {
		ids->more = 1;
		return;
	}
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 256;
		int64_t *nv;

		if (cap > NAT_IDS_PAGE)
			cap = NAT_IDS_PAGE;
		nv = realloc(ids->v, cap * sizeof(*nv));
		if (nv == NULL) {
			w->com_collect = 0;	/* commit_exists scans */
			return;
		}
		ids->v = nv;
		ids->cap = cap;
	}
	ids->v[ids->n++] = v;
}

/* Whether commits/<batch> exists (one stat). */
static int
commit_stat(struct ckpt_store *st, int64_t batch)
{
	char path[NAT_PATH_MAX];
	struct ckpt_stat sb;
	struct ckpt_error e = { 0 };

	nat_path_batch(path, sizeof(path), "commits", batch);
	return ckpt_store_stat(st, path, &sb, &e) == CKPT_OK;
}

/* Whether commits/<batch> exists (a page of commit ids per scan). */
static int
commit_exists(struct walk *w, int64_t batch)
{
	struct ckpt_error e = { 0 };
	size_t lo = 0, hi;

	if (!w->com_ok || batch <= w->com_lo || batch > w->com_hi) {
		w->com_ok = 0;
		if (nat_ids_scan(w->c->st, "commits", batch - 1, INT64_MAX,
		    NAT_IDS_PAGE, 0, &w->com, &e) != CKPT_OK) {
			/* no memory for a page: ask the store */
			return commit_stat(w->c->st, batch);
		}
		w->com_ok = 1;
		w->com_lo = batch - 1;
		w->com_hi = w->com.more ? w->com.v[w->com.n - 1] : INT64_MAX;
	}
	hi = w->com.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->com.v[mid] < batch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->com.n && w->com.v[lo] == batch;
}

static int
atoi_strict(const char *s, int *v)
{
	long x = 0;

	if (*s == '\0' || strlen(s) > 9)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		x = x * 10 + (*s - '0');
	}
	*v = (int)x;
	return 0;
}

/* Classifies the file at path (its last component is ent->name). */
static void
classify(struct walk *w, const char *path, const struct ckpt_stat *ent,
    struct ckpt_file *f)
{
	struct nat_priv *p = nat_priv_of(w->c);
	char top[NAT_PATH_MAX], a[NAT_PATH_MAX], b[NAT_PATH_MAX];
	int64_t v;
	int kind, op, part, n = 0;
	const char *s = path, *slash;

	memset(f, 0, sizeof(*f));
	f->path = path;
	f->batch = CKPT_NONE;
	f->op = f->partition = -1;
	f->size = ent->size;
	f->mtime_ms = ent->mtime_ms;
	f->role = CKPT_F_FOREIGN;
	if (nat_is_temp_name(ent->name)) {
		f->role = CKPT_F_TEMP;
		return;
	}
	/* split the first two components */
	top[0] = a[0] = b[0] = '\0';
	while ((slash = strchr(s, '/')) != NULL && n < 3) {
		char *dst = n == 0 ? top : n == 1 ? a : b;
		size_t len = (size_t)(slash - s);

		if (len >= NAT_PATH_MAX)
			len = NAT_PATH_MAX - 1;
		memcpy(dst, s, len);
		dst[len] = '\0';
		s = slash + 1;
		n++;
	}
	if (n == 0) {
		if (strcmp(ent->name, "lock") == 0)
			f->role = CKPT_F_LOCK;
		return;
	}
	if (n == 1 && strcmp(top, "meta") == 0) {
		if (nat_parse_seq(ent->name, &v) == 0) {
			f->role = CKPT_F_METADATA;
			f->batch = v;
		}
		return;
	}
	if (n == 1 && (strcmp(top, "offsets") == 0 ||
	    strcmp(top, "commits") == 0)) {
		if (nat_parse_seq(ent->name, &v) != 0)
			return;
		f->batch = v;
		if (top[0] == 'c' && w->com_collect && !ent->is_dir)
			commit_collect(w, v);
		if (top[0] == 'c')
			f->role = CKPT_F_COMMIT;
		else if (v == p->restart || commit_exists(w, v))
			f->role = CKPT_F_OFFSETS;
		else
			f->role = CKPT_F_UNCOMMITTED;
		return;
	}
	if (n == 3 && strcmp(top, "state") == 0 && atoi_strict(a, &op) == 0 &&
	    atoi_strict(b, &part) == 0 && op < p->meta.nops &&
	    part < p->meta.ops[op].partitions &&
	    nat_parse_state_name(ent->name, &v, &kind) == 0) {
		f->batch = v;
		f->op = op;
		f->partition = part;
		if (!commit_exists(w, v))
			f->role = CKPT_F_ORPHAN;
		else
			f->role = kind == NAT_K_SNAPSHOT ? CKPT_F_SNAPSHOT :
			    CKPT_F_DELTA;
		return;
	}
	if (n == 1 && (strcmp(top, "output") == 0 || strcmp(top, "wal") == 0 ||
	    strcmp(top, "sources") == 0)) {
		int role = top[0] == 'o' ? CKPT_F_OUTPUT : top[0] == 'w' ?
		    CKPT_F_WAL : CKPT_F_SOURCE;

		if (nat_parse_seq(ent->name, &v) == 0) {
			f->batch = v;
			if (role == CKPT_F_OUTPUT && !commit_exists(w, v))
				role = CKPT_F_UNCOMMITTED;
		}
		f->role = role;
	}
}

static int walk_dir(struct walk *w, const char *dir);

struct walk_frame {
	struct walk *w;
	const char *dir;
};

static int
frame_cb(void *arg, const struct ckpt_stat *ent)
{
	struct walk_frame *fr = arg;
	struct walk *w = fr->w;
	char path[NAT_PATH_MAX];
	struct ckpt_file f;
	int n;

	{
		size_t dl = strlen(fr->dir), nl = strlen(ent->name);

		if (dl + 1 + nl >= sizeof(path))
			return 0;
		memcpy(path, fr->dir, dl);
		n = dl > 0;
		if (n)
			path[dl] = '/';
		memcpy(path + dl + n, ent->name, nl + 1);
	}
	if (ckpt_ctx_interrupted(w->c->ctx)) {
		ckpt_ctx_check_interrupt(w->c->ctx, "cannot list files",
		    w->err);
		w->failed = 1;
		return 1;
	}
	if (ent->is_dir) {
		if (w->depth >= 8)
			return 0;
		w->depth++;
		if (walk_dir(w, path) != CKPT_OK)
			w->failed = 1;
		w->depth--;
		return w->failed || w->stop;
	}
	if (w->raw) {
		memset(&f, 0, sizeof(f));
		f.path = path;
		f.role = CKPT_F_OTHER;
		f.batch = CKPT_NONE;
		f.op = f.partition = -1;
		f.size = ent->size;
		f.mtime_ms = ent->mtime_ms;
	} else {
		classify(w, path, ent, &f);
	}
	if (w->cb(w->arg, &f) != 0)
		w->stop = 1;
	return w->stop;
}

static int
walk_dir(struct walk *w, const char *dir)
{
	struct walk_frame fr = { w, dir };
	int commits = !w->raw && strcmp(dir, "commits") == 0;

	/* commits/ is listed in order anyway: its ids are the commit set */
	if (commits) {
		w->com_ok = 0;
		w->com.n = 0;
		w->com.more = 0;
		w->com_collect = 1;
	}
	if (nat_list(w->c->st, dir, frame_cb, &fr, w->err) != CKPT_OK) {
		w->com_collect = 0;
		return CKPT_FAILED;
	}
	if (commits && w->com_collect && !w->stop && !w->failed) {
		w->com_ok = 1;
		w->com_lo = -1;
		w->com_hi = w->com.more ? w->com.v[w->com.n - 1] : INT64_MAX;
	}
	w->com_collect = 0;
	return w->failed ? CKPT_FAILED : CKPT_OK;
}

int
nat_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
    struct ckpt_error *err)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.cb = cb;
	w.arg = arg;
	w.err = err;
	rc = walk_dir(&w, "");
	nat_ids_free(&w.com);
	return rc;
}

int
nat_files_walk_raw(struct ckpt *c, ckpt_file_fn cb, void *arg,
    struct ckpt_error *err)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.cb = cb;
	w.arg = arg;
	w.err = err;
	w.raw = 1;
	return walk_dir(&w, "");
}

/* ------------------------------------------------------------------ */
/* Verify                                                               */
/* ------------------------------------------------------------------ */

struct vctx {
	struct ckpt *c;
	struct nat_priv *p;
	const struct ckpt_verify_opts *o;
	ckpt_problem_fn cb;
	void *arg;
	struct ckpt_verify_stats *stats;
	struct ckpt_error *err;
	int stop;
	uint64_t state_index;	/* state files seen, for --read-subset */
	char *jbuf;
	size_t jcap;
};

static void
problem(struct vctx *v, int sev, int kind, const char *path, int64_t off,
    const char *fmt, ...) CKPT_PRINTF(6, 7);

static void
problem(struct vctx *v, int sev, int kind, const char *path, int64_t off,
    const char *fmt, ...)
{
	char msg[CKPT_ERROR_MSG_MAX];
	struct ckpt_problem pr;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == CKPT_PROBLEM_ERROR)
		v->stats->errors++;
	else
		v->stats->warnings++;
	pr.severity = sev;
	pr.kind = kind;
	pr.path = path;
	pr.offset = off;
	pr.msg = msg;
	if (v->cb != NULL && v->cb(v->arg, &pr) != 0)
		v->stop = 1;
}

/* I/O and allocation failures end the walk; damage does not. */
static int
fatal_kind(int kind)
{
	return kind == CKPT_E_IO || kind == CKPT_E_NOMEM ||
	    kind == CKPT_E_BACKEND || kind == CKPT_E_INTERRUPTED;
}

/*
 * Reads a small framed file whole and checks it; *text on success.
 * Damage is reported as an ERROR; returns CKPT_WARN then.
 */
static int
v_small(struct vctx *v, const char *path, int kind, char **text)
{
	char *data = NULL, why[CKPT_ERROR_MSG_MAX];
	size_t n = 0, len;
	int64_t off;
	struct nat_header h;

	*text = NULL;
	if (ckpt_store_read_all(v->c->st, path, NAT_SMALL_MAX, &data, &n,
	    v->err) != CKPT_OK) {
		if (fatal_kind(v->err->kind))
			return CKPT_FAILED;
		problem(v, CKPT_PROBLEM_ERROR, v->err->kind, path, -1, "%s",
		    v->err->msg);
		ckpt_error_clear(v->err);
		return CKPT_WARN;
	}
	v->stats->files++;
	v->stats->bytes += n;
	if (nat_decode_small((const uint8_t *)data, n, kind, text, &len, &h,
	    why, sizeof(why), &off) != 0) {
		free(data);
		problem(v, CKPT_PROBLEM_ERROR, strstr(why, "checksum") ?
		    CKPT_E_CHECKSUM : CKPT_E_FORMAT, path, off, "%s", why);
		return CKPT_WARN;
	}
	free(data);
	v->stats->checksums += 2;
	v->stats->blocks++;
	if (h.version != v->p->meta.format_version) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, 8,
		    "format version %d in a version %d checkpoint", h.version,
		    v->p->meta.format_version);
		free(*text);
		*text = NULL;
		return CKPT_WARN;
	}
	return CKPT_OK;
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Parses "<op>/<partition>/..." without sscanf's overflow. */
static int
state_ids(const char *p, int *op, int *part)
{
	char a[16], b[16];
	const char *s1 = strchr(p, '/'), *s2;

	if (s1 == NULL || s1 - p >= (long)sizeof(a))
		return -1;
	s2 = strchr(s1 + 1, '/');
	if (s2 == NULL || s2 - s1 - 1 >= (long)sizeof(b))
		return -1;
	memcpy(a, p, (size_t)(s1 - p));
	a[s1 - p] = '\0';
	memcpy(b, s1 + 1, (size_t)(s2 - s1 - 1));
	b[s2 - s1 - 1] = '\0';
	return atoi_strict(a, op) != 0 || atoi_strict(b, part) != 0 ? -1 : 0;
}

/* Expected kind of a manifest path; op/partition for state files. */
static int
path_kind(const struct nat_priv *p, const char *path, int64_t batch,
    int *op, int *part)
{
	char want[NAT_PATH_MAX];
	int64_t v;
	int kind;
	const char *slash = strrchr(path, '/');

	*op = *part = -1;
	nat_path_batch(want, sizeof(want), "offsets", batch);
	if (strcmp(path, want) == 0)
		return NAT_K_OFFSETS;
	if (strncmp(path, "state/", 6) == 0) {
		if (slash == NULL || state_ids(path + 6, op, part) != 0 ||
		    *op < 0 || *op >= p->meta.nops || *part < 0 ||
		    *part >= p->meta.ops[*op].partitions ||
		    nat_parse_state_name(slash + 1, &v, &kind) != 0 ||
		    v != batch)
			return -1;
		nat_path_state(want, sizeof(want), *op, *part, v, kind);
		return strcmp(want, path) == 0 ? kind : -1;
	}
	if (strncmp(path, "meta/", 5) == 0 || strncmp(path, "offsets/", 8) ==
	    0 || strncmp(path, "commits/", 8) == 0 || strchr(path, '/') ==
	    NULL)
		return -1;
	return NAT_K_BLOB;
}

static int
subset_pick(struct vctx *v)
{
	uint64_t i = v->state_index++;

	if (v->o->subset_of > 0 && v->o->subset_n > 0)
		return i % v->o->subset_of == (v->o->subset_n - 1) %
		    v->o->subset_of;
	if (v->o->subset_pct > 0) {
		uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;

		return (double)(h >> 11) / 9007199254740992.0 * 100.0 <
		    v->o->subset_pct;
	}
	return 1;
}

/* Streams every block (and for state files every record) of path. */
static int
v_read_file(struct vctx *v, const char *path, int kind, int op,
    uint64_t want_xxh3, int64_t want_records)
{
	struct nat_freader fr;
	struct ckpt_buf prev = { 0 };
	const struct nat_op *o = op >= 0 ? &v->p->meta.ops[op] : NULL;
	int has_prev = 0, rc, out = CKPT_OK;
	uint64_t blocks0;

	if (nat_fr_open(v->c->st, path, kind, &fr, v->err) != CKPT_OK)
		goto damaged;
	if (kind == NAT_K_SNAPSHOT || kind == NAT_K_DELTA) {
		const uint8_t *k, *val;
		size_t kl, vl;

		for (;;) {
			struct ckpt_error e2 = { 0 };

			blocks0 = fr.blocks;
			rc = nat_fr_next_record(&fr, &k, &kl, &val, &vl,
			    v->err);
			v->stats->blocks += fr.blocks - blocks0;
			v->stats->checksums += fr.blocks - blocks0;
			if (rc == CKPT_EOF)
				break;
			if (rc != CKPT_OK)
				goto damaged;
			v->stats->records++;
			if (has_prev && ckpt_key_cmp(prev.data, prev.len, k, kl) >=
			    0) {
				problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT,
				    path, (int64_t)fr.blk_off, "block %" PRIu64
				    " at offset %" PRIu64 ": record %" PRIu32
				    ": keys are not in strictly ascending "
				    "order", fr.blk_index, fr.blk_off,
				    fr.blk_seen - 1);
				goto done;
			}
			prev.len = 0;
			if (ckpt_buf_append(&prev, k, kl) != 0) {
				ckpt_error_set(v->err, CKPT_E_NOMEM,
				    "cannot verify '%s': out of memory", path);
				out = CKPT_FAILED;
				goto done;
			}
			has_prev = 1;
			if (vl == 0 && kind == NAT_K_SNAPSHOT) {
				problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT,
				    path, (int64_t)fr.blk_off, "block %" PRIu64
				    " at offset %" PRIu64 ": a snapshot holds "
				    "a tombstone", fr.blk_index, fr.blk_off);
				goto done;
			}
			if (ckpt_value_check(o->key_schema, k, kl, &e2) !=
			    CKPT_OK || (vl > 0 &&
			    ckpt_value_check(o->value_schema, val, vl - 1,
			    &e2) != CKPT_OK)) {
				problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT,
				    path, (int64_t)fr.blk_off, "block %" PRIu64
				    " at offset %" PRIu64 ": record %" PRIu32
				    ": %s", fr.blk_index, fr.blk_off,
				    fr.blk_seen - 1, e2.msg);
				goto done;
			}
		}
	} else {
		for (;;) {
			rc = nat_fr_next_block(&fr, v->err);
			if (rc == CKPT_EOF)
				break;
			if (rc != CKPT_OK)
				goto damaged;
			v->stats->blocks++;
			v->stats->checksums++;
		}
	}
	v->stats->checksums++;	/* the footer's file checksum */
	if (fr.whole_xxh3 != want_xxh3) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_CHECKSUM, path, 0,
		    "file checksum mismatch (manifest %016" PRIx64
		    ", computed %016" PRIx64 ")", want_xxh3, fr.whole_xxh3);
		goto done;
	}
	v->stats->checksums++;
	if (want_records >= 0 && (kind == NAT_K_SNAPSHOT ||
	    kind == NAT_K_DELTA) && fr.foot.records != (uint64_t)want_records)
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path,
		    (int64_t)fr.data_end, "footer counts %" PRIu64
		    " records, the manifest %" PRId64, fr.foot.records,
		    want_records);
	goto done;
damaged:
	if (fatal_kind(fr.fail_kind ? fr.fail_kind : v->err->kind) &&
	    !(v->err->kind == CKPT_E_NOTFOUND)) {
		out = CKPT_FAILED;
		goto done;
	}
	problem(v, CKPT_PROBLEM_ERROR, fr.fail_kind ? fr.fail_kind :
	    v->err->kind, path, fr.fail_off, "%s",
	    fr.why[0] ? fr.why : v->err->msg);
	ckpt_error_clear(v->err);
done:
	ckpt_buf_release(&prev);
	nat_fr_close(&fr);
	return out;
}

/* Checks one manifest entry of commit batch. */
static int
v_entry(struct vctx *v, int64_t batch, const cJSON *e, int *has_offsets)
{
	const char *path = jstr(e, "path"), *hex = jstr(e, "xxh3");
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(e, "size");
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(e, "records");
	uint64_t size = (uint64_t)cJSON_GetNumberValue(sz), xx = 0;
	int64_t recs = cJSON_IsNumber(rc) ? (int64_t)rc->valuedouble : -1;
	struct nat_header h;
	struct nat_footer f;
	char why[CKPT_ERROR_MSG_MAX];
	int64_t off;
	int op, part, kind;

	nat_parse_hex64(hex, &xx);
	kind = path_kind(v->p, path, batch, &op, &part);
	if (kind < 0) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, -1,
		    "listed in the manifest of batch %" PRId64 " but not a "
		    "file that batch can write", batch);
		return CKPT_OK;
	}
	if (kind == NAT_K_OFFSETS)
		*has_offsets = 1;
	if (nat_check_ends(v->c->st, path, kind, size, &h, &f, why,
	    sizeof(why), &off, v->err) != 0) {
		if (v->err->kind == CKPT_E_NOTFOUND) {
			ckpt_error_clear(v->err);
			problem(v, CKPT_PROBLEM_ERROR, CKPT_E_NOTFOUND, path,
			    -1, "missing (listed in the manifest of batch %"
			    PRId64 ")", batch);
			return CKPT_OK;
		}
		if (v->err->msg[0] != '\0') {
			if (fatal_kind(v->err->kind))
				return CKPT_FAILED;
			snprintf(why, sizeof(why), "%s", v->err->msg);
			ckpt_error_clear(v->err);
		}
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, off, "%s",
		    why);
		return CKPT_OK;
	}
	if (h.version != v->p->meta.format_version) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, 8,
		    "format version %d in a version %d checkpoint", h.version,
		    v->p->meta.format_version);
		return CKPT_OK;
	}
	if (kind == NAT_K_DELTA && v->p->meta.format_version < 2) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, 10,
		    "a delta in a format version 1 checkpoint (snapshots "
		    "only)");
		return CKPT_OK;
	}
	if (recs >= 0 && f.records != (uint64_t)recs) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path,
		    (int64_t)size - NAT_FOOTER_SIZE, "footer counts %" PRIu64
		    " records, the manifest %" PRId64, f.records, recs);
		return CKPT_OK;
	}
	if (v->o->level < CKPT_VERIFY_READ_STATE) {
		v->stats->files++;
		v->stats->bytes += size;
		return CKPT_OK;
	}
	if ((kind == NAT_K_SNAPSHOT || kind == NAT_K_DELTA) && !subset_pick(v))
		return CKPT_OK;
	v->stats->files++;
	v->stats->bytes += size;
	return v_read_file(v, path, kind, op, xx, recs);
}

struct chain {
	int64_t prev;		/* previous commit id, CKPT_NONE */
	int64_t prev_state;	/* its state_batch */
};

static int
v_commit(struct vctx *v, int64_t batch, struct chain *ch)
{
	char path[NAT_PATH_MAX];
	char *text = NULL;
	struct nat_commit cm;
	const cJSON *e;
	int has_offsets = 0, wrote_state = 0, rc;

	nat_path_batch(path, sizeof(path), "commits", batch);
	rc = v_small(v, path, NAT_K_COMMIT, &text);
	if (rc != CKPT_OK)
		return rc == CKPT_WARN ? CKPT_OK : rc;
	if (nat_commit_parse(text, path, &cm, v->err) != CKPT_OK) {
		free(text);
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path,
		    NAT_HEADER_SIZE + NAT_BLOCK_HEADER_SIZE, "%s",
		    v->err->msg);
		ckpt_error_clear(v->err);
		return CKPT_OK;
	}
	free(text);
	if (cm.batch != batch) {
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, -1,
		    "names batch %" PRId64, cm.batch);
		goto out;
	}
	if (ch->prev != CKPT_NONE && batch != ch->prev + 1)
		problem(v, CKPT_PROBLEM_WARNING, CKPT_E_FORMAT, path, -1,
		    "gap in the commit chain: batches %" PRId64 "..%" PRId64
		    " have no commit entry", ch->prev + 1, batch - 1);
	cJSON_ArrayForEach(e, cm.files) {
		const char *k = jstr(e, "path");

		if (strncmp(k, "state/", 6) == 0)
			wrote_state = 1;
		if (v_entry(v, batch, e, &has_offsets) != CKPT_OK) {
			nat_commit_release(&cm);
			return CKPT_FAILED;
		}
		if (v->stop)
			goto out;
	}
	if (!has_offsets)
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, -1,
		    "the manifest of batch %" PRId64 " lacks its offsets "
		    "entry", batch);
	if (cm.state_batch == batch && !wrote_state)
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, -1,
		    "state_batch is this batch, but it wrote no state file");
	else if (cm.state_batch != batch && wrote_state)
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, -1,
		    "batch wrote state files but state_batch is %" PRId64,
		    cm.state_batch);
	else if (cm.state_batch != batch && cm.state_batch != CKPT_NONE &&
	    ch->prev == batch - 1 && ch->prev_state != cm.state_batch)
		problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, path, -1,
		    "state_batch %" PRId64 " does not follow the previous "
		    "commit's %" PRId64, cm.state_batch, ch->prev_state);
	else if (cm.state_batch != batch && cm.state_batch != CKPT_NONE &&
	    !commit_stat(v->c->st, cm.state_batch))
		problem(v, batch == v->p->restart ? CKPT_PROBLEM_ERROR :
		    CKPT_PROBLEM_WARNING, CKPT_E_NOTFOUND, path, -1,
		    "state_batch %" PRId64 " has no commit entry",
		    cm.state_batch);
	ch->prev = batch;
	ch->prev_state = cm.state_batch;
out:
	nat_commit_release(&cm);
	return CKPT_OK;
}

/* Cursor-paged pass over one directory of seq names. */
struct seq_page {
	int64_t ids[256];
	int n;
	char after[CKPT_NAME_MAX];
	int more;
	struct vctx *v;
	const char *dir;
};

static int
seq_cb(void *arg, const struct ckpt_stat *ent)
{
	struct seq_page *pg = arg;
	int64_t id;

	snprintf(pg->after, sizeof(pg->after), "%s", ent->name);
	if (!ent->is_dir && nat_parse_seq(ent->name, &id) == 0)
		pg->ids[pg->n++] = id;
	if (pg->n == 256) {
		pg->more = 1;
		return 1;
	}
	return 0;
}

static int
seq_next_page(struct ckpt_store *st, struct seq_page *pg,
    struct ckpt_error *err)
{
	int first = pg->after[0] == '\0';

	pg->n = 0;
	pg->more = 0;
	if (!first && pg->after[0] == '\x01')
		return CKPT_OK;
	if (ckpt_store_list(st, pg->dir, CKPT_LIST_NAME, first ? NULL :
	    pg->after, seq_cb, pg, err) != CKPT_OK) {
		if (err->kind != CKPT_E_NOTFOUND)
			return CKPT_FAILED;
		ckpt_error_clear(err);
	}
	return CKPT_OK;
}

static int
v_commits(struct vctx *v)
{
	struct seq_page *pg = calloc(1, sizeof(*pg));
	struct chain ch = { CKPT_NONE, CKPT_NONE };
	int rc = CKPT_OK;

	if (pg == NULL)
		return ckpt_error_set(v->err, CKPT_E_NOMEM,
		    "cannot verify: out of memory");
	pg->dir = "commits";
	do {
		if (seq_next_page(v->c->st, pg, v->err) != CKPT_OK) {
			rc = CKPT_FAILED;
			break;
		}
		for (int i = 0; i < pg->n && !v->stop; i++) {
			if (ckpt_ctx_check_interrupt(v->c->ctx,
			    "cannot verify", v->err) != CKPT_OK ||
			    v_commit(v, pg->ids[i], &ch) != CKPT_OK) {
				rc = CKPT_FAILED;
				break;
			}
			ckpt_ctx_progress(v->c->ctx, "verify: batch",
			    pg->ids[i] + 1, v->p->newest_commit >= pg->ids[i] ?
			    (uint64_t)v->p->newest_commit + 1 : 0);
		}
	} while (rc == CKPT_OK && pg->more && !v->stop);
	free(pg);
	return rc;
}

/* Offsets without a commit: warnings; damaged offsets: errors. */
static int
v_offsets(struct vctx *v)
{
	struct seq_page *pg = calloc(1, sizeof(*pg));
	int rc = CKPT_OK;

	if (pg == NULL)
		return ckpt_error_set(v->err, CKPT_E_NOMEM,
		    "cannot verify: out of memory");
	pg->dir = "offsets";
	do {
		if (seq_next_page(v->c->st, pg, v->err) != CKPT_OK) {
			rc = CKPT_FAILED;
			break;
		}
		for (int i = 0; i < pg->n && !v->stop; i++) {
			int64_t b = pg->ids[i];
			char path[NAT_PATH_MAX], *text = NULL;
			int r;

			if (commit_stat(v->c->st, b))
				continue;	/* checked with its commit */
			nat_path_batch(path, sizeof(path), "offsets", b);
			r = v_small(v, path, NAT_K_OFFSETS, &text);
			free(text);
			if (r == CKPT_FAILED) {
				rc = CKPT_FAILED;
				break;
			}
			if (b > v->p->restart || v->p->restart == CKPT_NONE)
				problem(v, CKPT_PROBLEM_WARNING, CKPT_E_NONE,
				    path, -1, "batch %" PRId64 " is "
				    "uncommitted (newer than the restart "
				    "point: planned or interrupted)", b);
			else
				problem(v, CKPT_PROBLEM_WARNING, CKPT_E_NONE,
				    path, -1, "batch %" PRId64 " never "
				    "committed (older than the restart point: "
				    "a leftover for prune)", b);
		}
	} while (rc == CKPT_OK && pg->more && !v->stop);
	free(pg);
	return rc;
}

struct left_arg {
	struct vctx *v;
};

static int
leftover_cb(void *arg, const struct ckpt_file *f)
{
	struct vctx *v = ((struct left_arg *)arg)->v;

	switch (f->role) {
	case CKPT_F_TEMP:
		problem(v, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path, -1,
		    "leftover temp file of an interrupted write");
		break;
	case CKPT_F_ORPHAN:
		problem(v, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path, -1,
		    "state file of a batch that never committed (orphan)");
		break;
	case CKPT_F_FOREIGN:
		problem(v, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path, -1,
		    "not a file of the native format");
		break;
	case CKPT_F_UNCOMMITTED:
		if (strncmp(f->path, "offsets/", 8) != 0)
			problem(v, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path,
			    -1, "file of uncommitted batch %" PRId64,
			    f->batch);
		break;
	default:
		break;
	}
	return v->stop;
}

/* Every meta/<seq> file is checked whole (they are small). */
static int
v_meta(struct vctx *v)
{
	struct seq_page *pg = calloc(1, sizeof(*pg));
	int rc = CKPT_OK;

	if (pg == NULL)
		return ckpt_error_set(v->err, CKPT_E_NOMEM,
		    "cannot verify: out of memory");
	pg->dir = "meta";
	do {
		if (seq_next_page(v->c->st, pg, v->err) != CKPT_OK) {
			rc = CKPT_FAILED;
			break;
		}
		for (int i = 0; i < pg->n; i++) {
			char path[NAT_PATH_MAX], *text = NULL;
			struct nat_meta m;

			nat_path_batch(path, sizeof(path), "meta", pg->ids[i]);
			if (strcmp(path, v->p->meta.path) == 0)
				continue;	/* parsed by open */
			if (v_small(v, path, NAT_K_META, &text) ==
			    CKPT_FAILED) {
				rc = CKPT_FAILED;
				break;
			}
			if (text != NULL && nat_meta_parse(text, path, &m,
			    v->err) != CKPT_OK) {
				problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT,
				    path, -1, "%s", v->err->msg);
				ckpt_error_clear(v->err);
			} else if (text != NULL) {
				nat_meta_release(&m);
			}
			free(text);
		}
	} while (rc == CKPT_OK && pg->more);
	free(pg);
	return rc;
}

struct snap_le {
	int64_t s;
	int yes;
};

static int
snap_le_cb(void *arg, const struct ckpt_stat *ent)
{
	struct snap_le *a = arg;
	int64_t ver;
	int kind;

	if (!ent->is_dir && nat_parse_state_name(ent->name, &ver, &kind) ==
	    0 && kind == NAT_K_SNAPSHOT && ver <= a->s) {
		a->yes = 1;
		return 1;
	}
	return 0;
}

static int
any_file_cb(void *arg, const struct ckpt_stat *ent)
{
	int64_t ver;
	int kind;

	if (!ent->is_dir && nat_parse_state_name(ent->name, &ver, &kind) ==
	    0) {
		*(int *)arg = 1;
		return 1;
	}
	return 0;
}

/* Does partition (op, part) hold any state file? (errors: no) */
static int
has_files(struct vctx *v, int op, int part)
{
	char dir[NAT_PATH_MAX];
	struct ckpt_error e2 = { 0 };
	int yes = 0;

	snprintf(dir, sizeof(dir), "state/%d/%d", op, part);
	nat_list(v->c->st, dir, any_file_cb, &yes, &e2);
	return yes;
}

/* Does partition (op, part) hold a snapshot at or before version s? */
static int
has_snapshot(struct vctx *v, int op, int part, int64_t s, int *yes)
{
	struct snap_le a = { s, 0 };
	char dir[NAT_PATH_MAX];

	snprintf(dir, sizeof(dir), "state/%d/%d", op, part);
	*yes = 0;
	if (nat_list(v->c->st, dir, snap_le_cb, &a, v->err) != CKPT_OK)
		return CKPT_FAILED;
	*yes = a.yes;
	return CKPT_OK;
}

/*
 * The state chain of the restart point: from its state_batch S back
 * through the state checkpoints before it (the state_batch of commit
 * V-1 is the one V's deltas apply to), every state checkpoint a restart
 * merges must keep its commit entry until each operator partition has
 * met a snapshot.  A broken chain (an over-eager prune removed a
 * snapshot and the commits below it) would restore a partition from
 * deltas alone and silently lose keys: that is an error.
 */
static int
v_chain(struct vctx *v)
{
	const struct nat_meta *m = &v->p->meta;
	size_t total = 0, open_left, off[CKPT_MAX_OPERATORS];
	uint8_t *done;
	int64_t b = v->p->restart_state, steps = 0;
	char path[NAT_PATH_MAX];
	int rc = CKPT_OK;

	if (b == CKPT_NONE)
		return CKPT_OK;
	for (int i = 0; i < m->nops; i++) {
		off[i] = total;
		total += (size_t)m->ops[i].partitions;
	}
	done = calloc(total ? total : 1, 1);
	if (done == NULL)
		return ckpt_error_set(v->err, CKPT_E_NOMEM,
		    "cannot verify: out of memory");
	open_left = total;
	while (b != CKPT_NONE && open_left > 0 && !v->stop &&
	    steps++ < 10000000) {
		struct nat_commit cm;
		const cJSON *e;
		int64_t next;

		nat_path_batch(path, sizeof(path), "commits", b);
		if (nat_commit_load(v->c->st, b, &cm, v->err) != CKPT_OK)
			goto missing;
		cJSON_ArrayForEach(e, cm.files) {
			const char *p = jstr(e, "path"), *k = jstr(e, "kind");
			int op, part;

			if (p == NULL || k == NULL || strcmp(k, "snapshot") ||
			    strncmp(p, "state/", 6) != 0 ||
			    state_ids(p + 6, &op, &part) != 0 || op < 0 ||
			    op >= m->nops || part < 0 ||
			    part >= m->ops[op].partitions)
				continue;
			if (!done[off[op] + (size_t)part]) {
				done[off[op] + (size_t)part] = 1;
				open_left--;
			}
		}
		nat_commit_release(&cm);
		if (open_left == 0 || b == 0)
			break;
		/* the state checkpoint before b: commit b-1's state_batch */
		if (nat_commit_load(v->c->st, b - 1, &cm, v->err) != CKPT_OK) {
			b = b - 1;
			nat_path_batch(path, sizeof(path), "commits", b);
			goto missing;
		}
		next = cm.state_batch;
		nat_commit_release(&cm);
		if (next != CKPT_NONE && next >= b)
			break;
		b = next;
	}
	goto out;
missing:
	if (fatal_kind(v->err->kind)) {
		rc = CKPT_FAILED;
		goto out;
	}
	ckpt_error_clear(v->err);
	/* open partitions with no snapshot at all restore from deltas only */
	for (int op = 0; op < m->nops && rc == CKPT_OK; op++) {
		for (int q = 0; q < m->ops[op].partitions; q++) {
			int yes;

			if (done[off[op] + (size_t)q])
				continue;
			if (has_snapshot(v, op, q, v->p->restart_state, &yes) !=
			    CKPT_OK) {
				rc = CKPT_FAILED;
				break;
			}
			if (yes || !has_files(v, op, q))
				continue;
			problem(v, CKPT_PROBLEM_ERROR, CKPT_E_NOTFOUND, path,
			    -1, "the restart point's state chain needs this "
			    "commit entry: operator '%s' partition %d has "
			    "deltas but no snapshot to apply them to",
			    m->ops[op].name, q);
			break;
		}
	}
out:
	free(done);
	return rc;
}

int
nat_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
    ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
    struct ckpt_error *err)
{
	struct vctx v = { 0 };
	struct left_arg la = { &v };
	struct ckpt_stat sb;
	struct ckpt_error local = { 0 };
	int rc = CKPT_FAILED;

	if (err == NULL)
		err = &local;
	v.c = c;
	v.p = nat_priv_of(c);
	v.o = o;
	v.cb = cb;
	v.arg = arg;
	v.stats = stats;
	v.err = err;
	/* the newest metadata parsed at open; count it */
	if (ckpt_store_stat(c->st, v.p->meta.path, &sb, err) != CKPT_OK)
		return CKPT_FAILED;
	stats->files++;
	stats->bytes += sb.size;
	stats->checksums += 2;
	if (v_meta(&v) != CKPT_OK || v.stop)
		goto out;
	if (v_commits(&v) != CKPT_OK || v.stop)
		goto out;
	if (v_offsets(&v) != CKPT_OK || v.stop)
		goto out;
	if (v_chain(&v) != CKPT_OK || v.stop)
		goto out;
	if (v.p->restart == CKPT_NONE && v.p->newest_commit != CKPT_NONE)
		problem(&v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, "commits", -1,
		    "no commit entry has all its files: no restart point");
	if (nat_files_walk(c, leftover_cb, &la, err) != CKPT_OK)
		goto out;
	rc = CKPT_OK;
out:
	if (v.stop)
		rc = CKPT_OK;
	free(v.jbuf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Regions (inspect --hex)                                              */
/* ------------------------------------------------------------------ */

static int
region(ckpt_region_fn cb, void *arg, uint64_t off, uint64_t len,
    const char *what, const char *note, int ok)
{
	struct ckpt_region r = { off, len, what, note, ok };

	return cb(arg, &r);
}

/*
 * One region per record of the raw block fr holds, noted with its key
 * (through the operator's key schema).  The block is already verified;
 * a record that does not parse ends the list with a bad region.
 */
static int
record_regions(struct ckpt *c, struct nat_freader *fr, int op,
    ckpt_region_fn cb, void *arg)
{
	const struct nat_op *o = &nat_priv_of(c)->meta.ops[op];
	uint64_t base = fr->blk_off + NAT_BLOCK_HEADER_SIZE;
	char what[64], note[200], *kj = NULL;
	size_t kcap = 0;
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && fr->pos < fr->raw_len; i++) {
		struct ckpt_error e2 = { 0 };
		const uint8_t *k, *v;
		size_t kl, vl, start = fr->pos, klen = 0;

		snprintf(what, sizeof(what), "record %" PRIu32, i);
		if (nat_fr_next_record(fr, &k, &kl, &v, &vl, &e2) != CKPT_OK) {
			rc = region(cb, arg, base + start, fr->raw_len - start,
			    what, "does not parse", 0);
			break;
		}
		if (ckpt_value_to_json(o->key_schema, k, kl, &kj, &klen,
		    &kcap, &e2) != CKPT_OK)
			snprintf(note, sizeof(note), "key of %zu bytes "
			    "(undecodable)%s", kl, vl ? "" : ", tombstone");
		else
			snprintf(note, sizeof(note), "key %.120s%s%s", kj,
			    klen > 120 ? "..." : "", vl ? "" : ", tombstone");
		rc = region(cb, arg, base + start, fr->pos - start, what,
		    note, -1);
	}
	free(kj);
	return rc;
}

int
nat_file_regions(struct ckpt *c, const char *path, ckpt_region_fn cb,
    void *arg, struct ckpt_error *err)
{
	struct nat_freader fr;
	struct ckpt_error e2 = { 0 };
	char what[64], note[CKPT_ERROR_MSG_MAX];
	int rc, op, part;

	if (strncmp(path, "state/", 6) != 0 || state_ids(path + 6, &op,
	    &part) != 0 || op < 0 || op >= nat_priv_of(c)->meta.nops)
		op = -1;
	if (nat_fr_open(c->st, path, 0, &fr, &e2) != CKPT_OK) {
		if (fr.size == 0 && e2.kind != CKPT_E_FORMAT) {
			*err = e2;
			return CKPT_FAILED;
		}
		region(cb, arg, 0, fr.size, "file", fr.why, 0);
		return CKPT_OK;
	}
	snprintf(note, sizeof(note), "native v%d %s", fr.hdr.version,
	    nat_kind_name(fr.hdr.kind));
	if (region(cb, arg, 0, NAT_HEADER_SIZE, "header", note, 1) != 0)
		goto out;
	for (;;) {
		rc = nat_fr_next_block(&fr, &e2);
		if (rc == CKPT_EOF)
			break;
		if (rc != CKPT_OK) {
			snprintf(what, sizeof(what), "block %" PRIu64,
			    fr.blocks);
			if (fr.fail_off >= 0 &&
			    (uint64_t)fr.fail_off < fr.data_end) {
				region(cb, arg, (uint64_t)fr.fail_off,
				    fr.data_end - (uint64_t)fr.fail_off, what,
				    fr.why, 0);
				region(cb, arg, fr.data_end, NAT_FOOTER_SIZE,
				    "footer", "not checked", -1);
			} else {
				region(cb, arg, fr.data_end, NAT_FOOTER_SIZE,
				    "footer", fr.why, 0);
			}
			goto out;
		}
		snprintf(what, sizeof(what), "block %" PRIu64, fr.blk_index);
		snprintf(note, sizeof(note), "%s %zu->%zu bytes, %" PRIu32
		    " records, xxh3 ok", fr.blk_codec == NAT_C_ZSTD ? "zstd" :
		    "raw", (size_t)(fr.off - fr.blk_off -
		    NAT_BLOCK_HEADER_SIZE), fr.raw_len, fr.blk_records);
		if (op >= 0 && fr.blk_codec == NAT_C_RAW) {
			/* the header, then each record where it lies */
			if (region(cb, arg, fr.blk_off, NAT_BLOCK_HEADER_SIZE,
			    what, note, 1) != 0 ||
			    record_regions(c, &fr, op, cb, arg) != 0)
				goto out;
			continue;
		}
		if (region(cb, arg, fr.blk_off, fr.off - fr.blk_off, what,
		    note, 1) != 0)
			goto out;
	}
	snprintf(note, sizeof(note), "%" PRIu64 " records, %" PRIu64
	    " blocks, file xxh3 ok", fr.foot.records, fr.foot.blocks);
	region(cb, arg, fr.data_end, NAT_FOOTER_SIZE, "footer", note, 1);
out:
	nat_fr_close(&fr);
	return CKPT_OK;
}
