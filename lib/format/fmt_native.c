/*
 * fmt_native.c - the read side of the native format driver: detection,
 * metadata, commit entries, the restart point, info, batch iteration,
 * operators and partitions (ckpt-format(5)).
 *
 * Directory listings are streamed and never held whole.  Directories
 * of batch ids are read by one unsorted scan each (ckpt_store_scan, no
 * stat per file) into a bounded page of sorted ids (nat_ids_scan):
 * batch iteration merges pages of offsets/ and commits/; the restart
 * point search keeps the newest commit ids and counts commits/ for
 * info.  Batch details come from commit entries read quickly where
 * they have the plain shape (fmt_native_quick.c).  Under the listing
 * hints (ckpt_set_hints) info skips the totals and counts and the
 * iterator yields ids only.  State iteration lives in
 * fmt_native_state.c, verify and file roles in fmt_native_verify.c,
 * the writer in fmt_native_writer.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "native.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

int
nat_path_batch(char *buf, size_t cap, const char *dir, int64_t batch)
{
	size_t dl = strlen(dir);
	uint64_t v = (uint64_t)batch;

	/* "<dir>/" and 20 digits, without printf: ls makes one per batch */
	if (batch < 0 || dl + 1 + NAT_DIGITS >= cap) {
		int n = snprintf(buf, cap, "%s/%020" PRId64, dir, batch);

		return n < 0 || (size_t)n >= cap ? -1 : 0;
	}
	memcpy(buf, dir, dl);
	buf[dl] = '/';
	for (int i = NAT_DIGITS; i > 0; i--) {
		buf[dl + i] = (char)('0' + v % 10);
		v /= 10;
	}
	buf[dl + 1 + NAT_DIGITS] = '\0';
	return 0;
}

int
nat_path_state(char *buf, size_t cap, int op, int partition,
    int64_t version, int kind)
{
	int n = snprintf(buf, cap, "state/%d/%d/%020" PRId64 ".%s", op,
	    partition, version, kind == NAT_K_DELTA ? "delta" : "snapshot");

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int
parse_digits(const char *s, size_t n, int64_t *v)
{
	int64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

int
nat_parse_seq(const char *name, int64_t *v)
{
	if (strlen(name) != NAT_DIGITS)
		return -1;
	return parse_digits(name, NAT_DIGITS, v);
}

int
nat_parse_state_name(const char *name, int64_t *v, int *kind)
{
	const char *ext = name + NAT_DIGITS;

	if (strlen(name) <= NAT_DIGITS || parse_digits(name, NAT_DIGITS, v))
		return -1;
	if (strcmp(ext, ".snapshot") == 0)
		*kind = NAT_K_SNAPSHOT;
	else if (strcmp(ext, ".delta") == 0)
		*kind = NAT_K_DELTA;
	else
		return -1;
	return 0;
}

int
nat_is_temp_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

void
nat_hex64(char out[17], uint64_t v)
{
	snprintf(out, 17, "%016" PRIx64, v);
}

int
nat_parse_hex64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (s == NULL || strlen(s) != 16)
		return -1;
	for (int i = 0; i < 16; i++) {
		int c = s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 0;
}

int64_t
nat_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
nat_list(struct ckpt_store *st, const char *dir, nat_list_fn cb, void *arg,
    struct ckpt_error *err)
{
	if (ckpt_store_list(st, dir, CKPT_LIST_NAME, NULL, cb, arg, err) ==
	    CKPT_OK)
		return CKPT_OK;
	if (err != NULL && err->kind == CKPT_E_NOTFOUND) {
		ckpt_error_clear(err);
		return CKPT_OK;
	}
	return CKPT_FAILED;
}

int
nat_scan(struct ckpt_store *st, const char *dir, nat_list_fn cb, void *arg,
    struct ckpt_error *err)
{
	if (ckpt_store_scan(st, dir, 0, cb, arg, err) == CKPT_OK)
		return CKPT_OK;
	if (err != NULL && err->kind == CKPT_E_NOTFOUND) {
		ckpt_error_clear(err);
		return CKPT_OK;
	}
	return CKPT_FAILED;
}

struct ids_arg {
	struct nat_ids *ids;
	int64_t lo, hi;
	size_t max;
	int newest;
	int heap;		/* v is a heap of the kept ids (full) */
	int nomem;
};

/* Heap order: the id to drop first at the root. */
static int
ids_above(const struct ids_arg *a, int64_t x, int64_t y)
{
	return a->newest ? x < y : x > y;
}

static void
ids_sift_down(struct ids_arg *a, size_t i)
{
	int64_t *v = a->ids->v;
	size_t n = a->ids->n;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		int64_t t;

		if (l < n && ids_above(a, v[l], v[m]))
			m = l;
		if (r < n && ids_above(a, v[r], v[m]))
			m = r;
		if (m == i)
			return;
		t = v[i];
		v[i] = v[m];
		v[m] = t;
		i = m;
	}
}

static int
ids_cb(void *arg, const struct ckpt_stat *ent)
{
	struct ids_arg *a = arg;
	struct nat_ids *ids = a->ids;
	int64_t x;

	if (ent->is_dir || nat_parse_seq(ent->name, &x) != 0 || x <= a->lo ||
	    x >= a->hi)
		return 0;
	if (ids->total++ == 0 || x < ids->min)
		ids->min = x;
	if (ids->total == 1 || x > ids->max)
		ids->max = x;
	if (ids->n < a->max) {
		if (ids->n == ids->cap) {
			size_t cap = ids->cap ? ids->cap * 2 : 256;
			int64_t *v;

			if (cap > a->max)
				cap = a->max;
			v = realloc(ids->v, cap * sizeof(*v));
			if (v == NULL) {
				a->nomem = 1;
				return 1;
			}
			ids->v = v;
			ids->cap = cap;
		}
		ids->v[ids->n++] = x;
		return 0;
	}
	ids->more = 1;
	if (!a->heap) {
		for (size_t i = ids->n / 2; i-- > 0;)
			ids_sift_down(a, i);
		a->heap = 1;
	}
	if (ids_above(a, ids->v[0], x)) {
		ids->v[0] = x;
		ids_sift_down(a, 0);
	}
	return 0;
}

static int
ids_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * Sorts n non-negative ids ascending: LSD radix, 11 bits a pass, only
 * as many passes as the largest id needs (two for 10,000 batches);
 * qsort if there is no memory for the scratch copy.
 */
static void
ids_sort(int64_t *v, size_t n, int64_t max)
{
	size_t cnt[2048];
	int64_t *tmp, *src = v, *dst;
	int shift;

	if (n < 64 || (tmp = malloc(n * sizeof(*tmp))) == NULL) {
		qsort(v, n, sizeof(*v), ids_cmp);
		return;
	}
	dst = tmp;
	for (shift = 0; shift < 64 && ((uint64_t)max >> shift) != 0;
	    shift += 11) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[((uint64_t)src[i] >> shift) & 2047]++;
		for (size_t d = 0; d < 2048; d++) {
			size_t c = cnt[d];

			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[((uint64_t)src[i] >> shift) & 2047]++] = src[i];
		src = dst;
		dst = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}

int
nat_ids_scan(struct ckpt_store *st, const char *dir, int64_t lo, int64_t hi,
    size_t max, int newest, struct nat_ids *ids, struct ckpt_error *err)
{
	struct ids_arg a;

	ids->n = 0;
	ids->more = 0;
	ids->total = 0;
	ids->min = ids->max = CKPT_NONE;
	memset(&a, 0, sizeof(a));
	a.ids = ids;
	a.lo = lo;
	a.hi = hi;
	a.max = max > 0 ? max : 1;
	a.newest = newest;
	if (nat_scan(st, dir, ids_cb, &a, err) != CKPT_OK)
		return CKPT_FAILED;
	if (a.nomem)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot list '%s': out of memory", dir);
	if (ids->n > 1)
		ids_sort(ids->v, ids->n, ids->max);
	return CKPT_OK;
}

void
nat_ids_free(struct nat_ids *ids)
{
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

static struct nat_priv *
priv(struct ckpt *c)
{
	return c->priv;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s ? s : "", n);
	return p;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                             */
/* ------------------------------------------------------------------ */

void
nat_meta_release(struct nat_meta *m)
{
	free(m->id);
	free(m->job);
	free(m->fingerprint);
	free(m->config_json);
	free(m->text);
	for (int i = 0; i < m->nops; i++) {
		free(m->ops[i].name);
		free(m->ops[i].type);
		free(m->ops[i].key_schema_text);
		free(m->ops[i].value_schema_text);
		ckpt_schema_free(m->ops[i].key_schema);
		ckpt_schema_free(m->ops[i].value_schema);
	}
	memset(m, 0, sizeof(*m));
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* An integral JSON number in [lo, hi]; -1 if absent or not one. */
static int
jint(const cJSON *o, const char *name, int64_t lo, int64_t hi, int64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (!cJSON_IsNumber(it))
		return -1;
	d = it->valuedouble;
	if (d != d || d < (double)lo || d > (double)hi ||
	    d != (double)(int64_t)d)
		return -1;
	*v = (int64_t)d;
	return 0;
}

int
nat_meta_parse(const char *text, const char *path, struct nat_meta *m,
    struct ckpt_error *err)
{
	cJSON *root = cJSON_Parse(text), *ops, *o, *cfg;
	const char *why = NULL;
	int64_t v;
	int rc = CKPT_FAILED;

	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (root == NULL || !cJSON_IsObject(root)) {
		why = "not a JSON object";
		goto out;
	}
	if (jstr(root, "format") == NULL ||
	    strcmp(jstr(root, "format"), "ckpt-native") != 0) {
		why = "\"format\" is not \"ckpt-native\"";
		goto out;
	}
	if (jint(root, "format_version", NAT_VERSION_MIN, NAT_VERSION_MAX,
	    &v) != 0) {
		why = "bad or unknown \"format_version\"";
		goto out;
	}
	m->format_version = (int)v;
	if (jstr(root, "id") == NULL || jstr(root, "job") == NULL ||
	    jstr(root, "fingerprint") == NULL) {
		why = "\"id\", \"job\" or \"fingerprint\" missing";
		goto out;
	}
	m->id = xstrdup(jstr(root, "id"));
	m->job = xstrdup(jstr(root, "job"));
	m->fingerprint = xstrdup(jstr(root, "fingerprint"));
	cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
	m->config_json = cJSON_IsObject(cfg) ? cJSON_PrintUnformatted(cfg) :
	    xstrdup("{}");
	m->snapshot_every = jint(root, "snapshot_every", 1, 1000000, &v) ?
	    1 : (int)v;
	m->created_ms = jint(root, "created_ms", INT64_MIN / 2,
	    INT64_MAX / 2, &v) ? CKPT_NONE : v;
	m->text = xstrdup(text);
	if (!m->id || !m->job || !m->fingerprint || !m->config_json ||
	    !m->text) {
		rc = ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot read '%s': out of memory", path);
		goto out;
	}
	ops = cJSON_GetObjectItemCaseSensitive(root, "operators");
	if (!cJSON_IsArray(ops) ||
	    cJSON_GetArraySize(ops) > CKPT_MAX_OPERATORS) {
		why = "\"operators\" is not an array of at most 16";
		goto out;
	}
	cJSON_ArrayForEach(o, ops) {
		struct nat_op *op = &m->ops[m->nops];

		if (jstr(o, "name") == NULL || jstr(o, "key_schema") == NULL ||
		    jstr(o, "value_schema") == NULL ||
		    jint(o, "partitions", 1, 1000000, &v) != 0) {
			why = "an operator lacks name, partitions or schemas";
			goto out;
		}
		m->nops++;
		op->name = xstrdup(jstr(o, "name"));
		op->type = xstrdup(jstr(o, "type"));
		op->partitions = (int)v;
		op->key_schema_text = xstrdup(jstr(o, "key_schema"));
		op->value_schema_text = xstrdup(jstr(o, "value_schema"));
		if (!op->name || !op->type || !op->key_schema_text ||
		    !op->value_schema_text) {
			rc = ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot read '%s': out of memory", path);
			goto out;
		}
		if (ckpt_schema_parse(op->key_schema_text, &op->key_schema,
		    err) != CKPT_OK ||
		    ckpt_schema_parse(op->value_schema_text,
		    &op->value_schema, err) != CKPT_OK)
			goto out;
	}
	rc = CKPT_OK;
out:
	if (why != NULL)
		ckpt_error_set(err, CKPT_E_FORMAT, "cannot read '%s': %s",
		    path, why);
	cJSON_Delete(root);
	if (rc != CKPT_OK)
		nat_meta_release(m);
	return rc;
}

struct newest_arg {
	int64_t seq;
	char name[CKPT_NAME_MAX];
};

static int
newest_cb(void *arg, const struct ckpt_stat *ent)
{
	struct newest_arg *a = arg;
	int64_t v;

	if (!ent->is_dir && nat_parse_seq(ent->name, &v) == 0 && v >= a->seq) {
		a->seq = v;
		snprintf(a->name, sizeof(a->name), "%s", ent->name);
	}
	return 0;
}

int
nat_meta_load(struct ckpt_store *st, struct nat_meta *m,
    struct ckpt_error *err)
{
	struct newest_arg a = { -1, "" };
	char path[NAT_PATH_MAX];
	char *text = NULL;
	size_t len;
	struct nat_header h;
	int rc;

	memset(m, 0, sizeof(*m));
	if (nat_list(st, "meta", newest_cb, &a, err) != CKPT_OK)
		return CKPT_FAILED;
	if (a.seq < 0)
		return ckpt_error_set(err, CKPT_E_NOTCKPT,
		    "'%s' is not a checkpoint (no metadata in meta/)",
		    ckpt_store_url(st));
	nat_path_batch(path, sizeof(path), "meta", a.seq);
	if (nat_read_small(st, path, NAT_K_META, &text, &len, &h, err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	rc = nat_meta_parse(text, path, m, err);
	free(text);
	if (rc == CKPT_OK && h.version != m->format_version) {
		nat_meta_release(m);
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read '%s': header says format version %d, the "
		    "metadata %d", path, h.version, m->format_version);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Commit entries                                                       */
/* ------------------------------------------------------------------ */

void
nat_commit_release(struct nat_commit *cm)
{
	cJSON_Delete(cm->root);
	memset(cm, 0, sizeof(*cm));
}

int
nat_commit_parse(const char *text, const char *path, struct nat_commit *cm,
    struct ckpt_error *err)
{
	const cJSON *sb, *e;
	const char *why = NULL;
	int64_t v;

	memset(cm, 0, sizeof(*cm));
	cm->root = cJSON_Parse(text);
	if (cm->root == NULL || !cJSON_IsObject(cm->root)) {
		why = "not a JSON object";
		goto bad;
	}
	if (jint(cm->root, "batch", 0, INT64_MAX / 2, &cm->batch) != 0) {
		why = "bad \"batch\"";
		goto bad;
	}
	if (jint(cm->root, "time_ms", INT64_MIN / 2, INT64_MAX / 2,
	    &cm->time_ms) != 0)
		cm->time_ms = CKPT_NONE;
	sb = cJSON_GetObjectItemCaseSensitive(cm->root, "state_batch");
	if (cJSON_IsNull(sb)) {
		cm->state_batch = CKPT_NONE;
	} else if (jint(cm->root, "state_batch", 0, cm->batch, &v) == 0) {
		cm->state_batch = v;
	} else {
		why = "bad \"state_batch\"";
		goto bad;
	}
	cm->files = cJSON_GetObjectItemCaseSensitive(cm->root, "files");
	if (!cJSON_IsArray(cm->files)) {
		why = "\"files\" is not an array";
		goto bad;
	}
	cJSON_ArrayForEach(e, cm->files) {
		uint64_t x;
		const char *p = jstr(e, "path");

		if (p == NULL || p[0] == '\0' || strstr(p, "..") != NULL ||
		    p[0] == '/' || strlen(p) >= NAT_PATH_MAX ||
		    jint(e, "size", 0, INT64_MAX / 2, &v) != 0 ||
		    nat_parse_hex64(jstr(e, "xxh3"), &x) != 0) {
			why = "a manifest entry lacks path, size or xxh3";
			goto bad;
		}
	}
	return CKPT_OK;
bad:
	nat_commit_release(cm);
	return ckpt_error_set(err, CKPT_E_FORMAT, "cannot read '%s': %s",
	    path, why);
}

int
nat_commit_load(struct ckpt_store *st, int64_t batch, struct nat_commit *cm,
    struct ckpt_error *err)
{
	char path[NAT_PATH_MAX];
	char *text;
	size_t len;
	int rc;

	memset(cm, 0, sizeof(*cm));
	nat_path_batch(path, sizeof(path), "commits", batch);
	if (nat_read_small(st, path, NAT_K_COMMIT, &text, &len, NULL, err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	rc = nat_commit_parse(text, path, cm, err);
	free(text);
	if (rc == CKPT_OK && cm->batch != batch) {
		nat_commit_release(cm);
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read '%s': it names batch %" PRId64, path,
		    cm->batch);
	}
	return rc;
}

int
nat_commit_files_present(struct ckpt_store *st, const struct nat_commit *cm,
    char *why, size_t whylen, struct ckpt_error *err)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cm->files) {
		struct ckpt_stat sb;
		const char *p = jstr(e, "path");
		int64_t size = 0;

		jint(e, "size", 0, INT64_MAX / 2, &size);
		if (ckpt_store_stat(st, p, &sb, err) != CKPT_OK) {
			if (err == NULL || err->kind != CKPT_E_NOTFOUND)
				return CKPT_FAILED;
			ckpt_error_clear(err);
			snprintf(why, whylen, "'%s' is missing", p);
			return CKPT_WARN;
		}
		if (sb.size != (uint64_t)size) {
			snprintf(why, whylen, "'%s' has %" PRIu64 " bytes, "
			    "the manifest says %" PRId64, p, sb.size, size);
			return CKPT_WARN;
		}
	}
	return CKPT_OK;
}

/* ------------------------------------------------------------------ */
/* Restart point                                                        */
/* ------------------------------------------------------------------ */

#define RING 256

/*
 * Newest first, RING commit ids per scan of commits/: the first whose
 * entry parses is the newest commit, the first whose manifest files are
 * all present is the restart point.
 */
struct count_arg {
	int64_t n, first, last;
};

/* nat_find_restart; *com (if not NULL) counts commits/ on the way. */
static int
find_restart(struct ckpt_store *st, int64_t *restart, int64_t *state,
    int64_t *newest_commit, struct count_arg *com, struct ckpt_error *err)
{
	struct nat_ids ids = { 0 };
	char why[CKPT_ERROR_MSG_MAX];
	int64_t upper = INT64_MAX;

	*restart = *state = *newest_commit = CKPT_NONE;
	for (;;) {
		if (nat_ids_scan(st, "commits", -1, upper, RING, 1, &ids,
		    err) != CKPT_OK)
			goto fail;
		if (com != NULL && upper == INT64_MAX) {
			com->n = ids.total;
			com->first = ids.min;
			com->last = ids.max;
		}
		if (ids.n == 0)
			break;
		for (size_t i = ids.n; i-- > 0;) {
			int64_t b = ids.v[i];
			struct nat_commit cm;
			int rc;

			if (nat_commit_load(st, b, &cm, err) != CKPT_OK) {
				if (err && (err->kind == CKPT_E_IO ||
				    err->kind == CKPT_E_BACKEND ||
				    err->kind == CKPT_E_NOMEM))
					goto fail;
				ckpt_error_clear(err);
				continue;
			}
			if (*newest_commit == CKPT_NONE)
				*newest_commit = b;
			rc = nat_commit_files_present(st, &cm, why,
			    sizeof(why), err);
			if (rc == CKPT_OK) {
				*restart = b;
				*state = cm.state_batch;
			}
			nat_commit_release(&cm);
			if (rc == CKPT_FAILED)
				goto fail;
			if (rc == CKPT_OK)
				goto done;
		}
		if (!ids.more)
			break;
		upper = ids.v[0];	/* the oldest of this round */
	}
done:
	nat_ids_free(&ids);
	return CKPT_OK;
fail:
	nat_ids_free(&ids);
	return CKPT_FAILED;
}

int
nat_find_restart(struct ckpt_store *st, int64_t *restart, int64_t *state,
    int64_t *newest_commit, struct ckpt_error *err)
{
	return find_restart(st, restart, state, newest_commit, NULL, err);
}

/* ------------------------------------------------------------------ */
/* Driver: bid, open, close                                             */
/* ------------------------------------------------------------------ */

struct first_arg {
	char name[CKPT_NAME_MAX];
};

static int
first_cb(void *arg, const struct ckpt_stat *ent)
{
	struct first_arg *a = arg;
	int64_t v;

	if (ent->is_dir || nat_parse_seq(ent->name, &v) != 0)
		return 0;
	snprintf(a->name, sizeof(a->name), "%s", ent->name);
	return 1;
}

/*
 * 100: meta/ holds a file starting with the native magic; 40: meta/
 * holds a seq file without it (damaged native metadata: open reports
 * it); 20: an empty meta/ directory; 0 otherwise.
 */
static int
nat_bid(struct ckpt_store *st, struct ckpt_error *err)
{
	struct ckpt_stat sb;
	struct first_arg a = { "" };
	char path[NAT_PATH_MAX];
	uint8_t magic[NAT_MAGIC_LEN];
	size_t got = 0;

	if (ckpt_store_stat(st, "meta", &sb, err) != CKPT_OK) {
		if (err && err->kind == CKPT_E_NOTFOUND) {
			ckpt_error_clear(err);
			return 0;
		}
		return -1;
	}
	if (!sb.is_dir)
		return 0;
	if (nat_list(st, "meta", first_cb, &a, err) != CKPT_OK)
		return -1;
	if (a.name[0] == '\0')
		return 20;
	snprintf(path, sizeof(path), "meta/%s", a.name);
	if (ckpt_store_read_range(st, path, 0, magic, sizeof(magic), &got,
	    err) != CKPT_OK) {
		ckpt_error_clear(err);
		return 40;
	}
	if (got == sizeof(magic) && memcmp(magic, NAT_MAGIC, NAT_MAGIC_LEN) ==
	    0)
		return 100;
	return 40;
}

static int
nat_open(struct ckpt *c, struct ckpt_error *err)
{
	struct nat_priv *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", ckpt_store_url(c->st));
	if (nat_meta_load(c->st, &p->meta, err) != CKPT_OK)
		goto fail;
	{
		struct count_arg com = { 0, CKPT_NONE, CKPT_NONE };

		if (find_restart(c->st, &p->restart, &p->restart_state,
		    &p->newest_commit, &com, err) != CKPT_OK)
			goto fail;
		p->ncommits = com.n;
		p->first_commit = com.first;
		p->last_commit = com.last;
	}
	if (p->restart == CKPT_NONE)
		snprintf(p->restart_rule, sizeof(p->restart_rule),
		    "no commit entry with all its files present");
	else if (p->restart == p->newest_commit)
		snprintf(p->restart_rule, sizeof(p->restart_rule),
		    "newest commit entry (commits/%020" PRId64 ") with all "
		    "manifest files present", p->restart);
	else
		snprintf(p->restart_rule, sizeof(p->restart_rule),
		    "newest commit entry with all manifest files present; "
		    "batch %" PRId64 " has files missing or damaged",
		    p->newest_commit);
	c->priv = p;
	return CKPT_OK;
fail:
	nat_meta_release(&p->meta);
	free(p);
	return CKPT_FAILED;
}

static void
nat_close(struct ckpt *c)
{
	struct nat_priv *p = priv(c);

	if (p == NULL)
		return;
	nat_meta_release(&p->meta);
	free(p);
	c->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* Info                                                                 */
/* ------------------------------------------------------------------ */

static int
count_cb(void *arg, const struct ckpt_stat *ent)
{
	struct count_arg *a = arg;
	int64_t v;

	if (ent->is_dir || nat_parse_seq(ent->name, &v) != 0)
		return 0;
	a->n++;
	if (a->first == CKPT_NONE || v < a->first)
		a->first = v;
	if (a->last == CKPT_NONE || v > a->last)
		a->last = v;
	return 0;
}

struct size_arg {
	uint64_t files, bytes;
};

static int
size_cb(void *arg, const struct ckpt_file *f)
{
	struct size_arg *a = arg;

	a->files++;
	a->bytes += f->size;
	return 0;
}

static int
nat_info(struct ckpt *c, struct ckpt_info *out, struct ckpt_error *err)
{
	struct nat_priv *p = priv(c);
	struct count_arg off = { 0, CKPT_NONE, CKPT_NONE };
	/* commits/ was counted by the restart point search at open */
	struct count_arg com = { p->ncommits, p->first_commit,
		p->last_commit };
	struct size_arg sz = { 0, 0 };

	memset(out, 0, sizeof(*out));
	if (!(c->hints & CKPT_HINT_NO_COUNTS) &&
	    nat_scan(c->st, "offsets", count_cb, &off, err) != CKPT_OK)
		return CKPT_FAILED;
	/* the totals cost a stat per file: skipped when nobody looks */
	if (!(c->hints & CKPT_HINT_NO_TOTALS) &&
	    nat_files_walk_raw(c, size_cb, &sz, err) != CKPT_OK)
		return CKPT_FAILED;
	snprintf(out->format, sizeof(out->format), "native");
	snprintf(out->kind, sizeof(out->kind), "native v%d",
	    p->meta.format_version);
	out->format_version = p->meta.format_version;
	snprintf(out->id, sizeof(out->id), "%s", p->meta.id);
	snprintf(out->name, sizeof(out->name), "%s", p->meta.job);
	out->first_batch = off.first;
	if (com.first != CKPT_NONE && (out->first_batch == CKPT_NONE ||
	    com.first < out->first_batch) &&
	    !(c->hints & CKPT_HINT_NO_COUNTS))
		out->first_batch = com.first;
	out->last_batch = off.last;
	out->last_commit = com.last;
	out->batches = off.n;
	out->restart_point = p->restart;
	out->next_batch = p->restart == CKPT_NONE ? 0 : p->restart + 1;
	out->state_version = p->restart_state;
	snprintf(out->restart_rule, sizeof(out->restart_rule), "%s",
	    p->restart_rule);
	out->watermark_ms = CKPT_NONE;
	out->operators = p->meta.nops;
	out->files = sz.files;
	out->bytes = sz.bytes;
	out->metadata_json = xstrdup(p->meta.text);
	if (out->metadata_json == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot describe '%s': out of memory",
		    ckpt_store_url(c->st));
	return CKPT_OK;
}

/* ------------------------------------------------------------------ */
/* Batches                                                              */
/* ------------------------------------------------------------------ */

/* One page of the ids of offsets/ or commits/, after a cursor. */
struct page {
	struct nat_ids ids;
	size_t pos;
	int eof;
	int64_t after;		/* ids after this one come next */
};

/* Refills pg from dir after its cursor when it is used up. */
static int
page_fill(struct ckpt_store *st, const char *dir, struct page *pg,
    struct ckpt_error *err)
{
	if (pg->pos < pg->ids.n || pg->eof)
		return CKPT_OK;
	pg->pos = 0;
	if (nat_ids_scan(st, dir, pg->after, INT64_MAX, NAT_IDS_PAGE, 0,
	    &pg->ids, err) != CKPT_OK)
		return CKPT_FAILED;
	if (!pg->ids.more)
		pg->eof = 1;
	if (pg->ids.n > 0)
		pg->after = pg->ids.v[pg->ids.n - 1];
	return CKPT_OK;
}

struct batch_iter {
	struct page off, com;
};

static int
nat_batch_iter_open(struct ckpt *c, void **state, struct ckpt_error *err)
{
	struct batch_iter *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot list batches: out of memory");
	it->off.after = it->com.after = -1;
	*state = it;
	return CKPT_OK;
}

static void
nat_batch_iter_close(struct ckpt *c, void *state)
{
	struct batch_iter *it = state;

	if (it == NULL)
		return;
	nat_ids_free(&it->off.ids);
	nat_ids_free(&it->com.ids);
	free(it);
}

/* Sums a commit's manifest into b. */
static void
manifest_sum(const struct nat_commit *cm, struct ckpt_batch *b)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cm->files) {
		const char *k = jstr(e, "kind");
		int64_t size = 0;

		jint(e, "size", 0, INT64_MAX / 2, &size);
		b->files++;
		b->bytes += (uint64_t)size;
		if (k && (strcmp(k, "snapshot") == 0 ||
		    strcmp(k, "delta") == 0))
			b->has_state = 1;
	}
}

/* Fills b for batch id from its files (best effort on damage). */
/* The fields of a batch its id and the two listings give. */
static void
batch_ids(struct ckpt *c, int64_t id, int has_off, int has_com,
    struct ckpt_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->has_offsets = has_off;
	b->committed = has_com;
	b->time_ms = CKPT_NONE;
	b->is_restart_point = id == priv(c)->restart;
}

static int
batch_fill(struct ckpt *c, int64_t id, int has_off, int has_com,
    struct ckpt_batch *b, struct ckpt_error *err)
{
	struct nat_commit cm;
	char path[NAT_PATH_MAX];

	batch_ids(c, id, has_off, has_com, b);
	if (has_com) {
		struct nat_quick q;
		char *text;
		size_t len;
		int rc;

		nat_path_batch(path, sizeof(path), "commits", id);
		rc = nat_read_small(c->st, path, NAT_K_COMMIT, &text, &len,
		    NULL, err);
		if (rc == CKPT_OK && nat_commit_quick(text, len, id, &q) == 0) {
			b->time_ms = q.time_ms;
			b->files = q.files;
			b->bytes = q.bytes;
			b->has_state = q.has_state;
			free(text);
			return CKPT_OK;
		}
		if (rc == CKPT_OK) {
			/* not the plain shape: in full, as nat_commit_load */
			rc = nat_commit_parse(text, path, &cm, err);
			free(text);
			if (rc == CKPT_OK && cm.batch != id) {
				nat_commit_release(&cm);
				rc = CKPT_FAILED;
			}
		}
		if (rc == CKPT_OK) {
			b->time_ms = cm.time_ms;
			manifest_sum(&cm, b);
			nat_commit_release(&cm);
			return CKPT_OK;
		}
	}
	ckpt_error_clear(err);
	if (has_off) {
		struct ckpt_stat sb;
		char *text;
		size_t len;

		nat_path_batch(path, sizeof(path), "offsets", id);
		if (ckpt_store_stat(c->st, path, &sb, err) == CKPT_OK) {
			b->files = 1;
			b->bytes = sb.size;
		}
		ckpt_error_clear(err);
		if (nat_read_small(c->st, path, NAT_K_OFFSETS, &text, &len,
		    NULL, err) == CKPT_OK) {
			cJSON *r = cJSON_Parse(text);
			int64_t t;

			if (r && jint(r, "time_ms", INT64_MIN / 2,
			    INT64_MAX / 2, &t) == 0)
				b->time_ms = t;
			cJSON_Delete(r);
			free(text);
		}
		ckpt_error_clear(err);
	}
	return CKPT_OK;
}

static int
nat_batch_iter_next(struct ckpt *c, void *state, struct ckpt_batch *out,
    struct ckpt_error *err)
{
	struct batch_iter *it = state;
	int64_t o, m, id;
	int ho, hc;

	if (page_fill(c->st, "offsets", &it->off, err) != CKPT_OK ||
	    page_fill(c->st, "commits", &it->com, err) != CKPT_OK)
		return CKPT_FAILED;
	ho = it->off.pos < it->off.ids.n;
	hc = it->com.pos < it->com.ids.n;
	if (!ho && !hc)
		return CKPT_EOF;
	o = ho ? it->off.ids.v[it->off.pos] : INT64_MAX;
	m = hc ? it->com.ids.v[it->com.pos] : INT64_MAX;
	id = o < m ? o : m;
	ho = o == id;
	hc = m == id;
	if (ho)
		it->off.pos++;
	if (hc)
		it->com.pos++;
	if (c->hints & CKPT_HINT_BATCH_IDS) {
		batch_ids(c, id, ho, hc, out);
		return CKPT_OK;
	}
	return batch_fill(c, id, ho, hc, out, err);
}

/* ckpt_batch_fill: the rest of a batch listed under CKPT_HINT_BATCH_IDS. */
static int
nat_batch_fill(struct ckpt *c, struct ckpt_batch *b, struct ckpt_error *err)
{
	return batch_fill(c, b->id, b->has_offsets, b->committed, b, err);
}

static int
nat_batch_json(struct ckpt *c, int64_t batch, char **json,
    struct ckpt_error *err)
{
	char path[NAT_PATH_MAX];
	char *text = NULL;
	size_t len;
	cJSON *root = cJSON_CreateObject(), *offs = NULL, *com = NULL, *src;
	int found = 0;

	*json = NULL;
	if (root == NULL)
		goto nomem;
	cJSON_AddNumberToObject(root, "batch", (double)batch);
	nat_path_batch(path, sizeof(path), "offsets", batch);
	if (nat_read_small(c->st, path, NAT_K_OFFSETS, &text, &len, NULL,
	    err) == CKPT_OK) {
		offs = cJSON_Parse(text);
		free(text);
		found = 1;
	} else if (err && err->kind != CKPT_E_NOTFOUND) {
		goto fail;
	}
	ckpt_error_clear(err);
	nat_path_batch(path, sizeof(path), "commits", batch);
	if (nat_read_small(c->st, path, NAT_K_COMMIT, &text, &len, NULL,
	    err) == CKPT_OK) {
		com = cJSON_Parse(text);
		free(text);
		found = 1;
	} else if (err && err->kind != CKPT_E_NOTFOUND) {
		goto fail;
	}
	ckpt_error_clear(err);
	if (!found) {
		cJSON_Delete(root);
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "no batch %" PRId64 " in '%s'", batch,
		    ckpt_store_url(c->st));
	}
	cJSON_AddNumberToObject(root, "time_ms", com ?
	    cJSON_GetNumberValue(cJSON_GetObjectItem(com, "time_ms")) :
	    offs ? cJSON_GetNumberValue(cJSON_GetObjectItem(offs,
	    "time_ms")) : 0);
	cJSON_AddBoolToObject(root, "committed", com != NULL);
	cJSON_AddBoolToObject(root, "restart_point",
	    batch == priv(c)->restart);
	src = cJSON_CreateArray();
	if (offs != NULL) {
		cJSON *inner = cJSON_DetachItemFromObject(offs, "offsets"), *m;
		cJSON *kind = cJSON_GetObjectItem(inner, "source");
		cJSON *start = cJSON_GetObjectItem(inner, "start");

		/*
		 * The engine's offsets (ckpt-format(5)) are one source: its
		 * kind and its position; other writers' members each are one.
		 */
		if (cJSON_IsString(kind) && start != NULL) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "name", kind->valuestring);
			cJSON_AddItemToObject(s, "offset",
			    cJSON_Duplicate(start, 1));
			m = cJSON_GetObjectItem(inner, "end");
			if (m != NULL)
				cJSON_AddItemToObject(s, "end",
				    cJSON_Duplicate(m, 1));
			cJSON_AddItemToArray(src, s);
		} else {
			cJSON_ArrayForEach(m, inner) {
				cJSON *s = cJSON_CreateObject();

				cJSON_AddStringToObject(s, "name", m->string);
				cJSON_AddItemToObject(s, "offset",
				    cJSON_Duplicate(m, 1));
				cJSON_AddItemToArray(src, s);
			}
		}
		cJSON_AddItemToObject(root, "offsets",
		    inner ? inner : cJSON_CreateObject());
		cJSON_Delete(offs);
	} else {
		cJSON_AddNullToObject(root, "offsets");
	}
	if (com != NULL)
		cJSON_AddItemToObject(root, "commit", com);
	else
		cJSON_AddNullToObject(root, "commit");
	cJSON_AddItemToObject(root, "sources", src);
	*json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (*json == NULL)
		goto nomem;
	return CKPT_OK;
nomem:
	cJSON_Delete(root);
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot describe batch %" PRId64 ": out of memory", batch);
fail:
	cJSON_Delete(root);
	cJSON_Delete(offs);
	return CKPT_FAILED;
}

/* ------------------------------------------------------------------ */
/* Operators and partitions                                             */
/* ------------------------------------------------------------------ */

static int
nat_operator_count(struct ckpt *c)
{
	return priv(c)->meta.nops;
}

struct part_arg {
	int64_t state;		/* restart state version */
	struct ckpt_partition *out;
	int64_t snap_at;	/* newest snapshot <= state */
	int64_t delta_after;	/* newest delta <= state */
	uint64_t need;		/* bytes a restart reads: snap_at + deltas */
};

static int
part_cb(void *arg, const struct ckpt_stat *ent)
{
	struct part_arg *a = arg;
	int64_t v;
	int kind;

	if (ent->is_dir || nat_parse_state_name(ent->name, &v, &kind) != 0)
		return 0;
	if (a->out->min_version == CKPT_NONE || v < a->out->min_version)
		a->out->min_version = v;
	if (a->out->max_version == CKPT_NONE || v > a->out->max_version)
		a->out->max_version = v;
	if (kind == NAT_K_SNAPSHOT)
		a->out->snapshots++;
	else
		a->out->deltas++;
	a->out->bytes += ent->size;
	if (a->state != CKPT_NONE && v <= a->state) {
		/* Names come sorted: V.delta, then V.snapshot, then V+1. */
		if (kind == NAT_K_SNAPSHOT && v > a->snap_at) {
			a->snap_at = v;
			a->need = ent->size;
		}
		if (kind == NAT_K_DELTA && v > a->delta_after)
			a->delta_after = v;
		if (kind == NAT_K_DELTA && v > a->snap_at)
			a->need += ent->size;
	}
	return 0;
}

static int
nat_partition_get(struct ckpt *c, int op, int partition,
    struct ckpt_partition *out, struct ckpt_error *err)
{
	struct nat_priv *p = priv(c);
	struct part_arg a;
	char dir[NAT_PATH_MAX], path[NAT_PATH_MAX], why[256];
	struct nat_header h;
	struct nat_footer f;
	int64_t off;

	if (op < 0 || op >= p->meta.nops)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "no operator %d in '%s'", op, ckpt_store_url(c->st));
	if (partition < 0 || partition >= p->meta.ops[op].partitions)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "operator '%s' has no partition %d", p->meta.ops[op].name,
		    partition);
	memset(out, 0, sizeof(*out));
	out->partition = partition;
	out->min_version = out->max_version = CKPT_NONE;
	out->keys = -1;
	a.state = p->restart_state;
	a.out = out;
	a.snap_at = a.delta_after = -1;
	a.need = 0;
	snprintf(dir, sizeof(dir), "state/%d/%d", op, partition);
	if (nat_list(c->st, dir, part_cb, &a, err) != CKPT_OK)
		return CKPT_FAILED;
	if (a.state == CKPT_NONE) {
		out->keys = 0;
	} else if (a.snap_at < 0 && a.delta_after < 0) {
		out->keys = 0;
	} else if (a.snap_at >= 0 && a.delta_after <= a.snap_at) {
		/* a lone snapshot: its footer counts the keys */
		nat_path_state(path, sizeof(path), op, partition, a.snap_at,
		    NAT_K_SNAPSHOT);
		if (nat_check_ends(c->st, path, NAT_K_SNAPSHOT, 0, &h, &f, why,
		    sizeof(why), &off, err) == 0)
			out->keys = (int64_t)f.records;
		ckpt_error_clear(err);
	} else if (a.need <= NAT_COUNT_BUDGET) {
		/* the files a restart reads are small enough to merge */
		int64_t n = 0;

		if (nat_state_count(c, op, partition, a.state, &n, err) ==
		    CKPT_OK)
			out->keys = n;
		ckpt_error_clear(err);
	}
	return CKPT_OK;
}

static int
nat_operator_get(struct ckpt *c, int index, struct ckpt_operator *out,
    struct ckpt_error *err)
{
	struct nat_priv *p = priv(c);
	const struct nat_op *o;
	cJSON *s;

	if (index < 0 || index >= p->meta.nops)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "no operator %d in '%s'", index, ckpt_store_url(c->st));
	o = &p->meta.ops[index];
	memset(out, 0, sizeof(*out));
	out->index = index;
	snprintf(out->name, sizeof(out->name), "%s", o->name);
	snprintf(out->type, sizeof(out->type), "%s", o->type);
	out->partitions = o->partitions;
	out->min_version = out->max_version = CKPT_NONE;
	out->keys = 0;
	for (int i = 0; i < o->partitions; i++) {
		struct ckpt_partition pt;

		if (nat_partition_get(c, index, i, &pt, err) != CKPT_OK)
			return CKPT_FAILED;
		if (pt.min_version != CKPT_NONE &&
		    (out->min_version == CKPT_NONE ||
		    pt.min_version < out->min_version))
			out->min_version = pt.min_version;
		if (pt.max_version > out->max_version)
			out->max_version = pt.max_version;
		out->snapshots += pt.snapshots;
		out->deltas += pt.deltas;
		out->bytes += pt.bytes;
		if (pt.keys < 0 || out->keys < 0)
			out->keys = -1;
		else
			out->keys += pt.keys;
	}
	s = cJSON_CreateString(o->key_schema_text);
	out->key_schema = s ? cJSON_PrintUnformatted(s) : NULL;
	cJSON_Delete(s);
	s = cJSON_CreateString(o->value_schema_text);
	out->value_schema = s ? cJSON_PrintUnformatted(s) : NULL;
	cJSON_Delete(s);
	if (out->key_schema == NULL || out->value_schema == NULL) {
		free(out->key_schema);
		free(out->value_schema);
		out->key_schema = out->value_schema = NULL;
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot describe operator '%s': out of memory", o->name);
	}
	return CKPT_OK;
}

/* ------------------------------------------------------------------ */
/* Native-only public helpers                                           */
/* ------------------------------------------------------------------ */

static int
need_native(struct ckpt *c, const char *what, struct ckpt_error *err)
{
	if (c == NULL || c->ops != &ckpt_fmt_native_ops)
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot %s: '%s' is a %s checkpoint, not native", what,
		    c ? ckpt_store_url(c->st) : "", c ? c->ops->name : "?");
	return CKPT_OK;
}

struct base_arg {
	int64_t upper;
	int64_t best;
};

static int
base_cb(void *arg, const struct ckpt_stat *ent)
{
	struct base_arg *a = arg;
	int64_t v;

	if (!ent->is_dir && nat_parse_seq(ent->name, &v) == 0 &&
	    v <= a->upper && v > a->best)
		a->best = v;
	return 0;
}

int
ckpt_native_state_base(struct ckpt *c, int64_t batch, int64_t *state_batch,
    struct ckpt_error *err)
{
	struct base_arg a;
	struct nat_commit cm;

	*state_batch = CKPT_NONE;
	if (need_native(c, "find the state base", err) != CKPT_OK)
		return CKPT_FAILED;
	if (batch == CKPT_NONE) {
		*state_batch = priv(c)->restart_state;
		return CKPT_OK;
	}
	a.upper = batch;
	a.best = -1;
	if (nat_list(c->st, "commits", base_cb, &a, err) != CKPT_OK)
		return CKPT_FAILED;
	if (a.best < 0)
		return CKPT_OK;
	if (nat_commit_load(c->st, a.best, &cm, err) != CKPT_OK)
		return CKPT_FAILED;
	*state_batch = cm.state_batch;
	nat_commit_release(&cm);
	return CKPT_OK;
}

int
ckpt_native_job(struct ckpt *c, struct ckpt_job_desc *out,
    struct ckpt_error *err)
{
	const struct nat_meta *m;

	if (need_native(c, "describe the job", err) != CKPT_OK)
		return CKPT_FAILED;
	m = &priv(c)->meta;
	memset(out, 0, sizeof(*out));
	out->job = m->job;
	out->id = m->id;
	out->fingerprint = m->fingerprint;
	out->config_json = m->config_json;
	out->format_version = m->format_version;
	out->snapshot_every = m->snapshot_every;
	out->nops = m->nops;
	for (int i = 0; i < m->nops; i++) {
		out->ops[i].name = m->ops[i].name;
		out->ops[i].type = m->ops[i].type;
		out->ops[i].partitions = m->ops[i].partitions;
		out->ops[i].key_schema = m->ops[i].key_schema_text;
		out->ops[i].value_schema = m->ops[i].value_schema_text;
	}
	return CKPT_OK;
}

int
ckpt_native_read_file(struct ckpt *c, const char *path, char **data,
    size_t *len, struct ckpt_error *err)
{
	*data = NULL;
	if (need_native(c, "read a native file", err) != CKPT_OK)
		return CKPT_FAILED;
	return nat_read_small(c->st, path, 0, data, len, NULL, err);
}

static int
nat_state_version(struct ckpt *c, int64_t batch, int64_t *version,
    struct ckpt_error *err)
{
	return ckpt_native_state_base(c, batch, version, err);
}

const struct ckpt_format_ops ckpt_fmt_native_ops = {
	.name = "native",
	.bid = nat_bid,
	.open = nat_open,
	.close = nat_close,
	.info = nat_info,
	.batch_iter_open = nat_batch_iter_open,
	.batch_iter_next = nat_batch_iter_next,
	.batch_iter_close = nat_batch_iter_close,
	.batch_fill = nat_batch_fill,
	.batch_json = nat_batch_json,
	.operator_count = nat_operator_count,
	.operator_get = nat_operator_get,
	.partition_get = nat_partition_get,
	.state_open = nat_state_open,
	.state_next = nat_state_next,
	.state_close = nat_state_close,
	.files_walk = nat_files_walk,
	.verify = nat_verify,
	.file_regions = nat_file_regions,
	.prune = &ckpt_prune_native_ops,
	.state_version = nat_state_version,
	.hints = CKPT_HINT_NO_TOTALS | CKPT_HINT_BATCH_IDS |
	    CKPT_HINT_NO_COUNTS,
};

/* For fmt_native_state.c and fmt_native_verify.c. */
struct nat_priv *
nat_priv_of(struct ckpt *c)
{
	return c->priv;
}
