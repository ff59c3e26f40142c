/*
 * ops_json.c - field-by-field comparison of two JSON documents, and the
 * state version a batch restores.
 *
 * diff uses the comparison for metadata (config, fingerprint, operator
 * schemas) and for the offsets of two batches; objects are matched by
 * key (a's key order first, then keys only b has), arrays by index.
 * Leaves are reported with a dotted path and their JSON text.  This
 * file does not parse checkpoint files; callers hand it cJSON trees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "../format/fmt.h"

#define PATH_CAP 512

struct jd {
	ops_json_diff_fn cb;
	void *arg;
	struct ckpt_error *err;
	long n;
};

/* Reports one leaf difference; -1 stops the walk. */
static int
jd_emit(struct jd *d, char change, const char *path, const cJSON *a,
	const cJSON *b)
{
	char *ta = NULL, *tb = NULL;
	int stop;

	if (a != NULL && (ta = cJSON_PrintUnformatted(a)) == NULL)
		goto nomem;
	if (b != NULL && (tb = cJSON_PrintUnformatted(b)) == NULL)
		goto nomem;
	d->n++;
	stop = d->cb ? d->cb(d->arg, change, path, ta, tb) : 0;
	cJSON_free(ta);
	cJSON_free(tb);
	return stop ? -1 : 0;
nomem:
	cJSON_free(ta);
	ckpt_error_set(d->err, CKPT_E_NOMEM,
	    "cannot compare '%s': out of memory", path);
	return -1;
}

static void
path_join(char *out, const char *prefix, const char *name)
{
	if (prefix == NULL || prefix[0] == '\0')
		snprintf(out, PATH_CAP, "%s", name);
	else
		snprintf(out, PATH_CAP, "%s.%s", prefix, name);
}

static int jd_walk(struct jd *d, const char *path, const cJSON *a,
	const cJSON *b);

static int
jd_object(struct jd *d, const char *path, const cJSON *a, const cJSON *b)
{
	const cJSON *x;
	char sub[PATH_CAP];

	cJSON_ArrayForEach(x, a) {
		path_join(sub, path, x->string ? x->string : "?");
		if (jd_walk(d, sub, x,
		    cJSON_GetObjectItemCaseSensitive(b, x->string)) < 0)
			return -1;
	}
	cJSON_ArrayForEach(x, b) {
		if (cJSON_GetObjectItemCaseSensitive(a, x->string) != NULL)
			continue;
		path_join(sub, path, x->string ? x->string : "?");
		if (jd_walk(d, sub, NULL, x) < 0)
			return -1;
	}
	return 0;
}

static int
jd_array(struct jd *d, const char *path, const cJSON *a, const cJSON *b)
{
	const cJSON *x = a->child, *y = b->child;
	char sub[PATH_CAP];
	int i = 0;

	while (x != NULL || y != NULL) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i++);
		if (jd_walk(d, sub, x, y) < 0)
			return -1;
		x = x ? x->next : NULL;
		y = y ? y->next : NULL;
	}
	return 0;
}

static int
jd_walk(struct jd *d, const char *path, const cJSON *a, const cJSON *b)
{
	if (a == NULL && b == NULL)
		return 0;
	if (a == NULL)
		return jd_emit(d, '+', path, NULL, b);
	if (b == NULL)
		return jd_emit(d, '-', path, a, NULL);
	if (cJSON_IsObject(a) && cJSON_IsObject(b))
		return jd_object(d, path, a, b);
	if (cJSON_IsArray(a) && cJSON_IsArray(b))
		return jd_array(d, path, a, b);
	if (cJSON_Compare(a, b, 1))
		return 0;
	return jd_emit(d, 'M', path, a, b);
}

long
ops_json_diff(const cJSON *a, const cJSON *b, const char *prefix,
	ops_json_diff_fn cb, void *arg, struct ckpt_error *err)
{
	struct jd d = { cb, arg, err, 0 };

	if (jd_walk(&d, prefix ? prefix : "", a, b) < 0)
		return -1;
	return d.n;
}

/*
 * Native: the batch of the state checkpoint the restart loads.  Other
 * formats: Spark's rule (docs/spark-checkpoint-format.md 1.5), state
 * version b+1 after batch b; the restart point's, and that of a batch
 * planned after it, is the one a restart loads (from info).
 */
int
ops_state_version(struct ckpt *c, int64_t batch, int64_t *version,
	struct ckpt_error *err)
{
	struct ckpt_info info;
	int rc;

	*version = CKPT_NONE;
	if (c->ops->state_version != NULL)
		return c->ops->state_version(c, batch, version, err);
	memset(&info, 0, sizeof(info));
	rc = ckpt_info_get(c, &info, err);
	if (rc != CKPT_OK)
		return rc;
	if (strcmp(info.format, "native") == 0)
		rc = ckpt_native_state_base(c, batch, version, err);
	else if (batch == CKPT_NONE || batch == info.restart_point ||
	    (info.restart_point != CKPT_NONE && batch > info.restart_point))
		/* a planned batch has no state of its own yet */
		*version = info.state_version;
	else
		*version = batch + 1;
	ckpt_info_release(&info);
	return rc;
}
