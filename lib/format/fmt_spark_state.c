/*
 * fmt_spark_state.c - Spark state stores: operators, stores, partitions,
 * and the state of a partition at a version.
 *
 * Layout (docs/spark-checkpoint-format.md section 2.1): state/<op>/<part>/
 * holds the default store, state/<op>/<part>/<store>/ named stores (a
 * stream-stream join has four).  Each (op, store) is one neutral
 * operator, named "<op>" or "<op>/<store>".  Its type comes from the
 * operator metadata (section 4.2, Spark 4.0+), else from the store names
 * and the schema file (section 4.1), else "unknown" (pre-3.1 Spark wrote
 * no schema).
 *
 * Version V of a partition is the newest V.snapshot <= V plus the deltas
 * after it, puts upserting and deletes removing keys by exact bytes
 * (section 2.4, section 10 item 6).  Spark keeps a partition's whole
 * state in a hash map on one executor, so a partition's state is small
 * by construction: rebuilding it here in an in-memory hash map is
 * acceptable, and only one partition is held at a time.  Records are
 * returned in ascending key order (bytewise), as ckpt diff's merge
 * wants.  The raw mode streams one file in file order (deltas with
 * their deletes) and holds only one record.
 *
 * It does not read RocksDB state (section 5): those versions are listed
 * by the file walk, never decoded.
 */
#include "spark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../ctx.h"
#include "../codec/codec.h"

#define MAX_OPS 256
#define MAX_STORES_PER_OP 16
/*
 * Key counts at the restart point (ls) rebuild each partition's key
 * set: bounded by the state file bytes read, per partition and per
 * operator; past either the count is unknown (-1, "?" in ls).
 */
#define KEYS_PART_MAX ((uint64_t)4 << 20)
#define KEYS_OP_MAX ((uint64_t)16 << 20)

static int64_t part_keys(struct ckpt *c, struct spark_store *s, int part,
	uint64_t budget, uint64_t *used);

static struct spark *
SP(struct ckpt *c)
{
	return c->priv;
}

void
spark_store_dir(const struct spark_store *s, int part, char *buf, size_t n)
{
	if (s->store[0])
		snprintf(buf, n, "state/%d/%d/%s", s->op_id, part, s->store);
	else
		snprintf(buf, n, "state/%d/%d", s->op_id, part);
}

void
spark_stores_free(struct spark *sp)
{
	int i;

	for (i = 0; i < sp->nstores; i++) {
		free(sp->stores[i].key_json);
		free(sp->stores[i].value_json);
		spark_type_free(sp->stores[i].kt);
		spark_type_free(sp->stores[i].vt);
	}
	free(sp->stores);
	sp->stores = NULL;
	sp->nstores = 0;
}

/* ---- discovery ---- */

struct idlist {
	int ids[MAX_OPS];
	int n;
	int max;	/* largest id seen */
	int count;	/* all numeric dirs, even past MAX_OPS */
	int has_meta;
};

static int
idlist_cb(void *arg, const struct ckpt_stat *e)
{
	struct idlist *l = arg;
	int64_t id;

	if (e->is_dir && strcmp(e->name, "_metadata") == 0)
		l->has_meta = 1;
	if (!e->is_dir || !spark_parse_id(e->name, &id) || id > 1000000)
		return 0;
	if (l->n < MAX_OPS)
		l->ids[l->n++] = (int)id;
	l->count++;
	if ((int)id > l->max)
		l->max = (int)id;
	return 0;
}

static int
list_ids(struct ckpt *c, const char *dir, struct idlist *l,
	struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	int rc;

	memset(l, 0, sizeof(*l));
	l->max = -1;
	rc = ckpt_store_list(c->st, dir, CKPT_LIST_NUMERIC, NULL, idlist_cb,
		l, &e2);
	if (rc != CKPT_OK && e2.kind != CKPT_E_NOTFOUND) {
		*err = e2;
		return rc;
	}
	return CKPT_OK;
}

struct names {
	char name[MAX_STORES_PER_OP][96];
	int n;
	int json_crc;	/* a visible "X.crc": Spark 4.1 (section 1.9) */
};

static int
storenames_cb(void *arg, const struct ckpt_stat *e)
{
	struct names *nm = arg;
	size_t n = strlen(e->name);

	if (!e->is_dir && e->name[0] != '.' && n > 4 &&
	    strcmp(e->name + n - 4, ".crc") == 0)
		nm->json_crc = 1;
	if (!e->is_dir || strcmp(e->name, "_metadata") == 0 ||
	    strcmp(e->name, "SSTs") == 0 || strcmp(e->name, "logs") == 0 ||
	    e->name[0] == '.' || nm->n >= MAX_STORES_PER_OP ||
	    strlen(e->name) >= sizeof(nm->name[0]))
		return 0;
	snprintf(nm->name[nm->n++], sizeof(nm->name[0]), "%s", e->name);
	return 0;
}

static int
newest_cb(void *arg, const struct ckpt_stat *e)
{
	int64_t id;

	if (!e->is_dir && spark_parse_id(e->name, &id) &&
	    id > *(int64_t *)arg)
		*(int64_t *)arg = id;
	return 0;
}

/*
 * Operator metadata (section 4.2): v1 in _metadata/metadata, else the
 * newest v2 log entry _metadata/v2/<batch> (4.0 transformWithState);
 * both give operatorName and numPartitions.
 */
static void
load_op_metadata(struct ckpt *c, int op, char *name, size_t n, int *parts)
{
	char path[96], *buf = NULL;
	struct ckpt_error e2 = { 0 };
	const char *nl;
	size_t len;
	int64_t newest = -1;
	cJSON *j, *oi, *on, *si, *np;

	*parts = 0;
	snprintf(path, sizeof(path), "state/%d/_metadata/metadata", op);
	if (spark_read_small(c, path, &buf, &len, &e2) != CKPT_OK) {
		snprintf(path, sizeof(path), "state/%d/_metadata/v2", op);
		ckpt_error_clear(&e2);
		(void)ckpt_store_list(c->st, path, CKPT_LIST_NUMERIC, NULL,
			newest_cb, &newest, &e2);
		if (newest < 0)
			return;
		snprintf(path, sizeof(path), "state/%d/_metadata/v2/%lld", op,
			(long long)newest);
		ckpt_error_clear(&e2);
		if (spark_read_small(c, path, &buf, &len, &e2) != CKPT_OK)
			return;
	}
	SP(c)->has_op_metadata = 1;
	nl = memchr(buf, '\n', len);
	j = nl ? cJSON_ParseWithLength(nl + 1, (size_t)(buf + len - nl - 1))
		: NULL;
	oi = cJSON_GetObjectItemCaseSensitive(j, "operatorInfo");
	on = cJSON_GetObjectItemCaseSensitive(oi, "operatorName");
	if (cJSON_IsString(on))
		snprintf(name, n, "%s", on->valuestring);
	si = cJSON_GetObjectItemCaseSensitive(j, "stateStoreInfo");
	np = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(si, 0),
		"numPartitions");
	if (cJSON_IsNumber(np) && np->valuedouble > 0 &&
	    np->valuedouble < 1e6)
		*parts = (int)np->valuedouble;
	cJSON_Delete(j);
	free(buf);
}

static int
is_agg_buffer(const char *name)
{
	static const char *const aggs[] = { "sum", "count", "avg", "max",
		"min", "first", "last", "mean", "collect_list", "collect_set",
		"approx_count_distinct", NULL };
	int i;

	for (i = 0; aggs[i]; i++)
		if (strncmp(name, aggs[i], strlen(aggs[i])) == 0)
			return 1;
	return 0;
}

/* Operator type from metadata, store names or the schema. */
static void
guess_type(struct spark_store *s)
{
	const struct spark_type *k = s->kt, *v = s->vt;
	const char *on = s->op_name;
	int i;

	if (on[0]) {
		if (strncmp(on, "dedupe", 6) == 0)
			snprintf(s->type, sizeof(s->type), "dedupe");
		else if (strcmp(on, "stateStoreSave") == 0)
			snprintf(s->type, sizeof(s->type), "aggregation");
		else if (strcmp(on, "symmetricHashJoin") == 0)
			snprintf(s->type, sizeof(s->type), "join");
		else if (strstr(on, "imit"))
			snprintf(s->type, sizeof(s->type), "limit");
		else
			snprintf(s->type, sizeof(s->type), "%s", on);
		return;
	}
	if (strncmp(s->store, "left-", 5) == 0 ||
	    strncmp(s->store, "right-", 6) == 0) {
		snprintf(s->type, sizeof(s->type), "join");
		return;
	}
	snprintf(s->type, sizeof(s->type), "unknown");
	if (!k || !v || k->kind != SPARK_T_STRUCT || v->kind != SPARK_T_STRUCT)
		return;
	if (v->nfields == 1 && strcmp(v->fields[0].name, "__dummy__") == 0) {
		snprintf(s->type, sizeof(s->type), "dedupe");
		return;
	}
	if (k->nfields == 1 && strcmp(k->fields[0].name, "key") == 0 &&
	    v->nfields == 1 && strcmp(v->fields[0].name, "value") == 0) {
		snprintf(s->type, sizeof(s->type), "limit");
		return;
	}
	for (i = 0; i < v->nfields; i++) {
		if (v->fields[i].type->kind == SPARK_T_STRUCT &&
		    strcmp(v->fields[i].name, "groupState") == 0) {
			snprintf(s->type, sizeof(s->type),
				"flatMapGroupsWithState");
			return;
		}
	}
	for (i = 0; i < v->nfields; i++) {
		if (is_agg_buffer(v->fields[i].name)) {
			snprintf(s->type, sizeof(s->type), "aggregation");
			return;
		}
	}
}

/* Schema file of a store (section 4.1); absent is fine (pre-3.1). */
static void
load_schema(struct ckpt *c, struct spark_store *s)
{
	struct spark_schema_file sf;
	struct ckpt_error e2 = { 0 };
	char dir[SPARK_PATH_MAX - 32], *buf = NULL;
	size_t len;

	spark_store_dir(s, 0, dir, sizeof(dir));
	snprintf(s->schema_path, sizeof(s->schema_path), "%s/_metadata/schema",
		dir);
	if (spark_read_small(c, s->schema_path, &buf, &len, &e2) !=
	    CKPT_OK) {
		if (e2.kind != CKPT_E_NOTFOUND)
			s->schema_error = 1;
		if (e2.kind == CKPT_E_NOTFOUND)
			s->schema_path[0] = 0;
		return;
	}
	if (spark_schema_file_parse((const uint8_t *)buf, len,
	    s->schema_path, &sf, &e2) != CKPT_OK) {
		s->schema_error = 1;
		free(buf);
		return;
	}
	free(buf);
	s->schema_version = sf.version;
	if (spark_type_parse(sf.key_json, strlen(sf.key_json), &s->kt,
	    &e2) != CKPT_OK ||
	    spark_type_parse(sf.value_json, strlen(sf.value_json), &s->vt,
	    &e2) != CKPT_OK) {
		s->schema_error = 1;
		spark_type_free(s->kt);
		spark_type_free(s->vt);
		s->kt = s->vt = NULL;
	}
	s->key_json = sf.key_json;
	s->value_json = sf.value_json;
	sf.key_json = sf.value_json = NULL;
	spark_schema_file_release(&sf);
}

static int
add_store(struct spark *sp, int op, const char *store, const char *op_name,
	const struct idlist *parts, int meta_parts)
{
	struct spark_store *s, *ns;

	if (sp->nstores >= SPARK_MAX_STORES)
		return 0;
	ns = realloc(sp->stores, (size_t)(sp->nstores + 1) * sizeof(*ns));
	if (!ns)
		return -1;
	sp->stores = ns;
	s = &ns[sp->nstores++];
	memset(s, 0, sizeof(*s));
	s->op_id = op;
	snprintf(s->store, sizeof(s->store), "%s", store);
	snprintf(s->op_name, sizeof(s->op_name), "%s", op_name);
	if (store[0])
		snprintf(s->name, sizeof(s->name), "%d/%s", op, store);
	else
		snprintf(s->name, sizeof(s->name), "%d", op);
	s->part_dirs = parts->count;
	s->parts = parts->max + 1;
	s->meta_parts = meta_parts;
	if (meta_parts > s->parts)
		s->parts = meta_parts;
	s->min_version = s->max_version = CKPT_NONE;
	return 0;
}

int
spark_stores_load(struct ckpt *c, struct spark *sp, struct ckpt_error *err)
{
	struct idlist *ops = NULL, *parts = NULL;
	struct names nm;
	char dir[64], op_name[64];
	int i, j, rc, first, meta_parts;

	ops = malloc(sizeof(*ops));
	parts = malloc(sizeof(*parts));
	if (!ops || !parts) {
		rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
		goto out;
	}
	rc = list_ids(c, "state", ops, err);
	for (i = 0; rc == CKPT_OK && i < ops->n; i++) {
		snprintf(dir, sizeof(dir), "state/%d", ops->ids[i]);
		rc = list_ids(c, dir, parts, err);
		if (rc != CKPT_OK)
			break;
		op_name[0] = 0;
		meta_parts = 0;
		if (parts->has_meta)
			load_op_metadata(c, ops->ids[i], op_name,
				sizeof(op_name), &meta_parts);
		memset(&nm, 0, sizeof(nm));
		first = parts->n ? parts->ids[0] : 0;
		snprintf(dir, sizeof(dir), "state/%d/%d", ops->ids[i], first);
		if (parts->n) {
			struct ckpt_error e2 = { 0 };
			(void)ckpt_store_list(c->st, dir, CKPT_LIST_NAME, NULL,
				storenames_cb, &nm, &e2);
			if (nm.json_crc)
				sp->has_json_crc = 1;
		}
		if (nm.n == 0) {
			if (add_store(sp, ops->ids[i], "", op_name, parts,
			    meta_parts) != 0)
				rc = ckpt_error_set(err, CKPT_E_NOMEM,
					"out of memory");
		}
		for (j = 0; rc == CKPT_OK && j < nm.n; j++)
			if (add_store(sp, ops->ids[i], nm.name[j], op_name,
			    parts, meta_parts) != 0)
				rc = ckpt_error_set(err, CKPT_E_NOMEM,
					"out of memory");
	}
	for (i = 0; rc == CKPT_OK && i < sp->nstores; i++) {
		load_schema(c, &sp->stores[i]);
		guess_type(&sp->stores[i]);
	}
out:
	free(ops);
	free(parts);
	return rc;
}

/* ---- partition scans ---- */

/*
 * "<N>.delta" / "<N>.snapshot": 1 delta, 2 snapshot, 0 other.  RocksDB
 * files (section 5.1) count the same way, "<N>[_<uuid>].changelog" as
 * a delta and "<N>[_<uuid>].zip" as a snapshot, with *rocks set.
 */
static int
state_file_kind(const char *name, int64_t *v, int *rocks)
{
	char num[24];
	size_t n = strcspn(name, "._");
	const char *dot = strrchr(name, '.');

	*rocks = 0;
	if (n == 0 || n >= sizeof(num) || !dot)
		return 0;
	memcpy(num, name, n);
	num[n] = 0;
	if (!spark_parse_id(num, v))
		return 0;
	if (dot == name + n && strcmp(dot, ".delta") == 0)
		return 1;
	if (dot == name + n && strcmp(dot, ".snapshot") == 0)
		return 2;
	*rocks = 1;
	if (strcmp(dot, ".changelog") == 0)
		return 1;
	if (strcmp(dot, ".zip") == 0)
		return 2;
	*rocks = 0;
	return 0;
}

static int
part_cb(void *arg, const struct ckpt_stat *e)
{
	struct spark_part_scan *s = arg;
	int64_t v;
	int k, rocks;

	if (e->is_dir)
		return 0;
	k = state_file_kind(e->name, &v, &rocks);
	if (!k)
		return 0;
	s->rocksdb += rocks;
	if (s->min_version == CKPT_NONE || v < s->min_version)
		s->min_version = v;
	if (s->max_version == CKPT_NONE || v > s->max_version)
		s->max_version = v;
	s->bytes += e->size;
	if (k == 1) {
		s->deltas++;
		if (s->count_lo != CKPT_NONE && v > s->count_lo &&
		    v <= s->target)
			s->counted++;
		if (s->max_delta == CKPT_NONE || v > s->max_delta)
			s->max_delta = v;
	} else {
		s->snapshots++;
		if (v <= s->target && (s->best_snapshot == CKPT_NONE ||
		    v > s->best_snapshot))
			s->best_snapshot = v;
	}
	return 0;
}

static int
part_scan_ex(struct ckpt *c, const struct spark_store *st, int part,
	int64_t target, int64_t count_lo, struct spark_part_scan *out,
	struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	char dir[SPARK_PATH_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	out->min_version = out->max_version = CKPT_NONE;
	out->max_delta = out->best_snapshot = CKPT_NONE;
	out->target = target;
	out->count_lo = count_lo;
	out->exists = 1;
	spark_store_dir(st, part, dir, sizeof(dir));
	rc = ckpt_store_list(c->st, dir, CKPT_LIST_NUMERIC, NULL, part_cb, out,
		&e2);
	if (rc != CKPT_OK) {
		if (e2.kind == CKPT_E_NOTFOUND) {
			out->exists = 0;
			return CKPT_OK;
		}
		*err = e2;
		return rc;
	}
	return CKPT_OK;
}

int
spark_part_scan(struct ckpt *c, const struct spark_store *st, int part,
	int64_t target, struct spark_part_scan *out, struct ckpt_error *err)
{
	return part_scan_ex(c, st, part, target, CKPT_NONE, out, err);
}

int
spark_part_chain(struct ckpt *c, const struct spark_store *s, int part,
	int64_t v, int64_t *base, int *complete, int *exists,
	struct ckpt_error *err)
{
	struct spark_part_scan ps;
	int rc;

	*base = 0;
	*complete = 0;
	rc = part_scan_ex(c, s, part, v, CKPT_NONE, &ps, err);
	if (rc != CKPT_OK)
		return rc;
	*exists = ps.exists;
	if (!ps.exists)
		return CKPT_OK;
	if (ps.best_snapshot != CKPT_NONE)
		*base = ps.best_snapshot;
	rc = part_scan_ex(c, s, part, v, *base, &ps, err);
	if (rc != CKPT_OK)
		return rc;
	*complete = ps.counted == (uint64_t)(v - *base);
	return CKPT_OK;
}

struct parts_each {
	spark_part_fn fn;
	void *arg;
};

static int
parts_each_cb(void *arg, const struct ckpt_stat *e)
{
	struct parts_each *pe = arg;
	int64_t id;

	if (!e->is_dir || !spark_parse_id(e->name, &id) || id > 1000000)
		return 0;
	return pe->fn(pe->arg, (int)id);
}

int
spark_parts_each(struct ckpt *c, const struct spark_store *s,
	spark_part_fn fn, void *arg, struct ckpt_error *err)
{
	struct parts_each pe = { fn, arg };
	struct ckpt_error e2 = { 0 };
	char dir[32];
	int rc;

	snprintf(dir, sizeof(dir), "state/%d", s->op_id);
	rc = ckpt_store_list(c->st, dir, CKPT_LIST_NUMERIC, NULL,
		parts_each_cb, &pe, &e2);
	if (rc != CKPT_OK && e2.kind != CKPT_E_NOTFOUND) {
		*err = e2;
		return rc;
	}
	return CKPT_OK;
}

struct stats_walk {
	struct ckpt *c;
	struct spark_store *s;
	struct ckpt_error *err;
	int rc;
};

static int
stats_part(void *arg, int p)
{
	struct stats_walk *sw = arg;
	struct spark_store *s = sw->s;
	struct spark_part_scan ps;

	sw->rc = spark_part_scan(sw->c, s, p, CKPT_NONE, &ps, sw->err);
	if (sw->rc != CKPT_OK)
		return 1;
	if (ps.min_version != CKPT_NONE && (s->min_version == CKPT_NONE ||
	    ps.min_version < s->min_version))
		s->min_version = ps.min_version;
	if (ps.max_version != CKPT_NONE && (s->max_version == CKPT_NONE ||
	    ps.max_version > s->max_version))
		s->max_version = ps.max_version;
	s->snapshots += ps.snapshots;
	s->deltas += ps.deltas;
	s->bytes += ps.bytes;
	if (ps.rocksdb)
		s->rocksdb = 1;
	return 0;
}

int
spark_store_stats(struct ckpt *c, struct spark_store *s,
	struct ckpt_error *err)
{
	struct stats_walk sw = { c, s, err, CKPT_OK };
	int rc;

	if (s->stats_done)
		return CKPT_OK;
	s->min_version = s->max_version = CKPT_NONE;
	s->snapshots = s->deltas = s->bytes = 0;
	rc = spark_parts_each(c, s, stats_part, &sw, err);
	if (rc == CKPT_OK)
		rc = sw.rc;
	if (rc != CKPT_OK)
		return rc;
	s->stats_done = 1;
	return CKPT_OK;
}

struct keys_walk {
	struct ckpt *c;
	struct spark_store *s;
	uint64_t used;
	int64_t keys;
};

static int
keys_part(void *arg, int p)
{
	struct keys_walk *kw = arg;
	int64_t n;

	if (kw->used >= KEYS_OP_MAX) {
		kw->keys = -1;
		return 1;
	}
	n = part_keys(kw->c, kw->s, p, KEYS_OP_MAX - kw->used < KEYS_PART_MAX ?
		KEYS_OP_MAX - kw->used : KEYS_PART_MAX, &kw->used);
	if (n < 0) {
		kw->keys = -1;
		return 1;
	}
	kw->keys += n;
	return 0;
}

/* Live keys of a store at the restart state version, cached; -1 unknown. */
static int64_t
store_keys(struct ckpt *c, struct spark_store *s)
{
	struct spark *sp = SP(c);
	struct keys_walk kw = { c, s, 0, 0 };
	struct ckpt_error e = { 0 };

	if (s->keys_done)
		return s->keys;
	s->keys_done = 1;
	s->keys = -1;
	if (s->rocksdb)
		return -1;
	if (sp->state_version <= 0) {
		s->keys = 0;	/* version 0 is the empty state */
		return 0;
	}
	if (s->part_dirs < s->parts)
		return -1;	/* a partition cannot be rebuilt */
	if (spark_parts_each(c, s, keys_part, &kw, &e) != CKPT_OK)
		return -1;
	s->keys = kw.keys;
	return s->keys;
}

int
spark_operator_count(struct ckpt *c)
{
	return SP(c)->nstores;
}

int
spark_operator_get(struct ckpt *c, int index, struct ckpt_operator *out,
	struct ckpt_error *err)
{
	struct spark *sp = SP(c);
	struct spark_store *s;
	int rc;

	if (index < 0 || index >= sp->nstores)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no operator %d (the checkpoint has %d)", index,
			sp->nstores);
	s = &sp->stores[index];
	rc = spark_store_stats(c, s, err);
	if (rc != CKPT_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->index = index;
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	snprintf(out->type, sizeof(out->type), "%s", s->type);
	out->partitions = s->parts;
	out->min_version = s->min_version;
	out->max_version = s->max_version;
	out->snapshots = s->snapshots;
	out->deltas = s->deltas;
	out->keys = store_keys(c, s);
	out->bytes = s->bytes;
	if (s->key_json && !(out->key_schema = strdup(s->key_json)))
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	if (s->value_json && !(out->value_schema = strdup(s->value_json))) {
		free(out->key_schema);
		out->key_schema = NULL;
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	}
	return CKPT_OK;
}

int
spark_partition_get(struct ckpt *c, int op, int partition,
	struct ckpt_partition *out, struct ckpt_error *err)
{
	struct spark *sp = SP(c);
	struct spark_part_scan ps;
	int rc;

	if (op < 0 || op >= sp->nstores)
		return ckpt_error_set(err, CKPT_E_NOTFOUND, "no operator %d",
			op);
	if (partition < 0 || partition >= sp->stores[op].parts)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no partition %d in operator '%s' (it has %d)",
			partition, sp->stores[op].name, sp->stores[op].parts);
	rc = spark_part_scan(c, &sp->stores[op], partition, CKPT_NONE, &ps,
		err);
	if (rc != CKPT_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->partition = partition;
	out->min_version = ps.min_version;
	out->max_version = ps.max_version;
	out->snapshots = ps.snapshots;
	out->deltas = ps.deltas;
	out->bytes = ps.bytes;
	out->keys = -1;
	if (!ps.rocksdb && sp->state_version <= 0) {
		out->keys = 0;	/* version 0 is the empty state */
	} else if (ps.exists && !ps.rocksdb) {
		uint64_t used = 0;

		out->keys = part_keys(c, &sp->stores[op], partition,
			KEYS_PART_MAX, &used);
	}
	return CKPT_OK;
}

/* ---- records ---- */

int
spark_rfile_read(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	return ckpt_rfile_read(arg, buf, len, got, err);
}

static int
hex_fallback(const struct spark_rec *r, struct ckpt_buf *kb,
	struct ckpt_buf *vb)
{
	kb->len = vb->len = 0;
	if (spark_hex_json(r->key, r->key_len, kb) != 0)
		return -1;
	if (r->value)
		return spark_hex_json(r->value, r->value_len, vb);
	return spark_buf_puts(vb, "null");
}

int
spark_rec_json(const struct spark *sp, const struct spark_store *s,
	const struct spark_rec *r, struct ckpt_buf *kb, struct ckpt_buf *vb,
	struct ckpt_error *err)
{
	const uint8_t *v = r->value;
	size_t vl = r->value_len;
	int rc;

	kb->len = vb->len = 0;
	if (!s->kt || !s->vt) {
		if (hex_fallback(r, kb, vb) != 0)
			return ckpt_error_set(err, CKPT_E_NOMEM,
				"out of memory");
		return CKPT_OK;
	}
	if (!v && sp->row_checksums && r->key_len >= 4) {
		/* a delete's key carries the 4.1 row checksum */
		rc = spark_row_to_json(s->kt, r->key + 4, r->key_len - 4, kb,
			err);
	} else {
		rc = spark_row_to_json(s->kt, r->key, r->key_len, kb, err);
	}
	if (rc == CKPT_OK && v) {
		if (sp->row_checksums && vl >= 4) {
			v += 4;	/* 4.1 row checksum (section 2.3) */
			vl -= 4;
		}
		vl &= ~(size_t)7;	/* pre-2.3 junk bytes (section 2.3) */
		rc = spark_row_to_json(s->vt, v, vl, vb, err);
	} else if (rc == CKPT_OK && spark_buf_puts(vb, "null") != 0) {
		rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	}
	if (rc != CKPT_OK && hex_fallback(r, kb, vb) != 0)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	return rc;
}

int
spark_rec_check(const struct spark *sp, const struct spark_store *s,
	const struct spark_rec *r, struct ckpt_error *err)
{
	const uint8_t *v = r->value;
	size_t vl = r->value_len;
	int rc;

	if (!s->kt || !s->vt)
		return CKPT_OK;
	if (!v && sp->row_checksums && r->key_len >= 4)
		rc = spark_row_check(s->kt, r->key + 4, r->key_len - 4, err);
	else
		rc = spark_row_check(s->kt, r->key, r->key_len, err);
	if (rc == CKPT_OK && v) {
		if (sp->row_checksums && vl >= 4) {
			v += 4;
			vl -= 4;
		}
		rc = spark_row_check(s->vt, v, vl & ~(size_t)7, err);
	}
	return rc;
}

/* ---- the per-partition map ---- */

struct kv {
	uint8_t *key, *val;
	uint32_t klen, vlen;
	uint32_t hash;
	int live;
};

struct kvmap {
	struct kv *e;
	size_t n, cap;
	uint32_t *slot;		/* index + 1, 0 = empty */
	size_t nslot;
};

static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void
kvmap_clear(struct kvmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].key);
		free(m->e[i].val);
	}
	free(m->e);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static int
kvmap_rehash(struct kvmap *m)
{
	size_t ns = m->nslot ? m->nslot * 2 : 64, i, j;
	uint32_t *s = calloc(ns, sizeof(*s));

	if (!s)
		return -1;
	for (i = 0; i < m->n; i++) {
		j = m->e[i].hash & (ns - 1);
		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = (uint32_t)(i + 1);
	}
	free(m->slot);
	m->slot = s;
	m->nslot = ns;
	return 0;
}

/* Finds key; returns its entry or NULL, *slot the free/found slot. */
static struct kv *
kvmap_find(struct kvmap *m, const uint8_t *k, size_t kl, uint32_t h,
	size_t *slot)
{
	size_t j = h & (m->nslot - 1);
	struct kv *e;

	while (m->slot[j]) {
		e = &m->e[m->slot[j] - 1];
		if (e->hash == h && e->klen == kl &&
		    memcmp(e->key, k, kl) == 0) {
			*slot = j;
			return e;
		}
		j = (j + 1) & (m->nslot - 1);
	}
	*slot = j;
	return NULL;
}

/* Applies a put or delete; keep_val 0 keeps keys only (counting). */
static int
kvmap_apply(struct kvmap *m, const struct spark_rec *r, int keep_val)
{
	uint32_t h = fnv(r->key, r->key_len);
	struct kv *e;
	size_t slot;
	uint8_t *nv = NULL;

	if ((m->n + 1) * 2 > m->nslot && kvmap_rehash(m) != 0)
		return -1;
	e = kvmap_find(m, r->key, r->key_len, h, &slot);
	if (r->kind == SPARK_REC_DELETE) {
		if (e && e->live) {
			e->live = 0;
			free(e->val);
			e->val = NULL;
		}
		return 0;
	}
	nv = malloc(r->value_len && keep_val ? r->value_len : 1);
	if (!nv)
		return -1;
	if (keep_val)
		memcpy(nv, r->value, r->value_len);
	if (e) {
		free(e->val);
		e->val = nv;
		e->vlen = keep_val ? (uint32_t)r->value_len : 0;
		e->live = 1;
		return 0;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct kv *ne = realloc(m->e, nc * sizeof(*ne));
		if (!ne) {
			free(nv);
			return -1;
		}
		m->e = ne;
		m->cap = nc;
	}
	e = &m->e[m->n];
	e->key = malloc(r->key_len ? r->key_len : 1);
	if (!e->key) {
		free(nv);
		return -1;
	}
	memcpy(e->key, r->key, r->key_len);
	e->klen = (uint32_t)r->key_len;
	e->val = nv;
	e->vlen = keep_val ? (uint32_t)r->value_len : 0;
	e->hash = h;
	e->live = 1;
	m->slot[slot] = (uint32_t)(++m->n);
	return 0;
}

/* Bytewise key order, shorter first on a tie (ckpt_key_cmp). */
static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a;
	const struct kv *y = *(const struct kv *const *)b;

	return ckpt_key_cmp(x->key, x->klen, y->key, y->klen);
}

/* ---- state iterator ---- */

struct state_iter {
	struct spark *sp;
	struct spark_store *s;
	int part, part_end;
	int64_t version;
	unsigned flags;
	int loaded;		/* current partition ready */
	/* raw mode */
	struct ckpt_rfile *rf;
	struct spark_rec_reader rr;
	int rr_open, rr_snap;
	/* merged mode: the map, and its live entries in key order */
	struct kvmap map;
	struct kv **order;
	size_t norder;
	size_t pos;
	struct ckpt_buf kb, vb;
	char path[SPARK_PATH_MAX];
	/* key counting: keys only, at most budget state bytes read */
	int count_only;
	uint64_t budget, used;
};

static int
open_state_file(struct state_iter *it, const char *path, int snap,
	struct ckpt_error *err)
{
	int rc;

	snprintf(it->path, sizeof(it->path), "%s", path);
	rc = ckpt_store_open_read(it->sp->c->st, it->path, &it->rf, err);
	if (rc != CKPT_OK)
		return rc;
	spark_rec_init(&it->rr, spark_rfile_read, it->rf, it->path);
	it->rr_open = 1;
	it->rr_snap = snap;
	return CKPT_OK;
}

static void
close_state_file(struct state_iter *it)
{
	if (it->rr_open)
		spark_rec_release(&it->rr);
	ckpt_rfile_close(it->rf);
	it->rf = NULL;
	it->rr_open = 0;
}

/* Reads one whole file into the map. */
static int
apply_file(struct state_iter *it, const char *path, int snap,
	struct ckpt_error *err)
{
	struct spark_rec r;
	int rc;

	rc = open_state_file(it, path, snap, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = spark_rec_next(&it->rr, !snap, &r, err)) == CKPT_OK) {
		if (it->rr.records % 4096 == 0 &&
		    (rc = ckpt_ctx_check_interrupt(it->sp->c->ctx,
		    "reading state", err)) != CKPT_OK)
			break;
		/* 4.1 row checksums prefix a delete's key (section 2.3) */
		if (r.kind == SPARK_REC_DELETE && it->sp->row_checksums &&
		    r.key_len >= 4) {
			r.key += 4;
			r.key_len -= 4;
		}
		if (kvmap_apply(&it->map, &r, !it->count_only) != 0) {
			rc = ckpt_error_set(err, CKPT_E_NOMEM,
				"out of memory rebuilding '%s'", path);
			break;
		}
	}
	close_state_file(it);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

/*
 * Orders the live entries by key, so that a partition streams in
 * ascending key order like the native format (ckpt diff merges them).
 */
static int
sort_live(struct state_iter *it, struct ckpt_error *err)
{
	size_t i;

	if (it->map.n == 0)
		return CKPT_OK;
	it->order = malloc(it->map.n * sizeof(*it->order));
	if (!it->order)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	for (i = 0; i < it->map.n; i++)
		if (it->map.e[i].live)
			it->order[it->norder++] = &it->map.e[i];
	qsort(it->order, it->norder, sizeof(*it->order), kv_cmp);
	return CKPT_OK;
}

/* Adds path's size to what a budgeted rebuild read; 1 when over. */
static int
over_budget(struct ckpt *c, struct state_iter *it, const char *path,
	struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;

	if (!it->budget)
		return 0;
	if (ckpt_store_stat(c->st, path, &sb, &e2) != CKPT_OK)
		return 0;	/* the read that follows reports it */
	it->used += sb.size;
	if (it->used <= it->budget)
		return 0;
	ckpt_error_set(err, CKPT_E_UNSUPPORTED, "'%s': over the state bytes "
		"budget", path);
	return 1;
}

/* Rebuilds version V of the current partition (section 2.4). */
static int
load_merged(struct ckpt *c, struct state_iter *it, struct ckpt_error *err)
{
	struct spark_part_scan ps;
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;
	char dir[SPARK_PATH_MAX - 32], path[SPARK_PATH_MAX];
	int64_t v, base;
	int rc;

	kvmap_clear(&it->map);
	free(it->order);
	it->order = NULL;
	it->norder = 0;
	it->pos = 0;
	if (it->version == 0)
		return CKPT_OK;	/* version 0 is the empty state */
	rc = spark_part_scan(c, it->s, it->part, it->version, &ps, err);
	if (rc != CKPT_OK)
		return rc;
	spark_store_dir(it->s, it->part, dir, sizeof(dir));
	if (!ps.exists)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
			"cannot rebuild state version %lld: partition "
			"directory '%s' is missing", (long long)it->version,
			dir);
	base = ps.best_snapshot == CKPT_NONE ? 0 : ps.best_snapshot;
	if (base > 0) {
		snprintf(path, sizeof(path), "%s/%lld.snapshot", dir,
			(long long)base);
		if (over_budget(c, it, path, err))
			return CKPT_FAILED;
		rc = apply_file(it, path, 1, err);
		if (rc != CKPT_OK)
			return rc;
	}
	for (v = base + 1; v <= it->version; v++) {
		snprintf(path, sizeof(path), "%s/%lld.delta", dir,
			(long long)v);
		if (ckpt_store_stat(c->st, path, &sb, &e2) != CKPT_OK) {
			if (e2.kind != CKPT_E_NOTFOUND) {
				*err = e2;
				return CKPT_FAILED;
			}
			return ckpt_error_set(err, CKPT_E_NOTFOUND,
				"cannot rebuild state version %lld of '%s': "
				"'%s' is missing", (long long)it->version, dir,
				path);
		}
		it->used += sb.size;
		if (it->budget && it->used > it->budget)
			return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
				"'%s': over the state bytes budget", dir);
		rc = apply_file(it, path, 0, err);
		if (rc != CKPT_OK)
			return rc;
	}
	return it->count_only ? CKPT_OK : sort_live(it, err);
}

/*
 * Live keys of one partition at the restart state version (section
 * 2.4), from its rebuilt key set (no values kept); -1 when unknown: a
 * chain that does not rebuild, or more than budget bytes of state files
 * to read.  *used adds the bytes read.
 */
static int64_t
part_keys(struct ckpt *c, struct spark_store *s, int part, uint64_t budget,
	uint64_t *used)
{
	struct state_iter it;
	struct ckpt_error e = { 0 };
	int64_t n = -1;
	size_t i;

	memset(&it, 0, sizeof(it));
	it.sp = SP(c);
	it.s = s;
	it.part = part;
	it.part_end = part + 1;
	it.version = it.sp->state_version;
	it.count_only = 1;
	it.budget = budget;
	if (load_merged(c, &it, &e) == CKPT_OK)
		for (n = 0, i = 0; i < it.map.n; i++)
			n += it.map.e[i].live;
	*used += it.used;
	close_state_file(&it);
	kvmap_clear(&it.map);
	return n;
}

/* Raw mode: V.delta, else V.snapshot; *none 1 when neither exists. */
static int
load_raw(struct ckpt *c, struct state_iter *it, int *none,
	struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;
	char dir[SPARK_PATH_MAX - 32], path[SPARK_PATH_MAX];

	*none = 0;
	spark_store_dir(it->s, it->part, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%lld.delta", dir,
		(long long)it->version);
	if (ckpt_store_stat(c->st, path, &sb, &e2) == CKPT_OK)
		return open_state_file(it, path, 0, err);
	ckpt_error_clear(&e2);
	snprintf(path, sizeof(path), "%s/%lld.snapshot", dir,
		(long long)it->version);
	if (ckpt_store_stat(c->st, path, &sb, &e2) == CKPT_OK)
		return open_state_file(it, path, 1, err);
	*none = 1;
	return CKPT_OK;
}

int
spark_state_open(struct ckpt *c, int op, int partition, int64_t version,
	unsigned flags, void **state, struct ckpt_error *err)
{
	struct spark *sp = SP(c);
	struct state_iter *it;
	struct spark_store *s;

	*state = NULL;
	if (op < 0 || op >= sp->nstores)
		return ckpt_error_set(err, CKPT_E_NOTFOUND, "no operator %d",
			op);
	s = &sp->stores[op];
	if (partition < -1 || partition >= s->parts)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no partition %d in operator '%s' (it has %d)",
			partition, s->name, s->parts);
	if (version == CKPT_NONE)
		version = sp->state_version;
	if (version < 0)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no state version %lld", (long long)version);
	if (spark_store_stats(c, s, err) != CKPT_OK)
		return CKPT_FAILED;
	if (s->rocksdb)
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			"operator '%s' uses the RocksDB state store: its "
			"versions are listed, its SST files are not decoded",
			s->name);
	it = calloc(1, sizeof(*it));
	if (!it)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	it->sp = sp;
	it->s = s;
	it->version = version;
	it->flags = flags;
	it->part = partition < 0 ? 0 : partition;
	it->part_end = partition < 0 ? s->parts : partition + 1;
	*state = it;
	return CKPT_OK;
}

static int
next_raw(struct ckpt *c, struct state_iter *it, struct ckpt_record *out,
	struct ckpt_error *err)
{
	struct spark_rec r;
	int rc, none;

	for (;;) {
		if (it->part >= it->part_end)
			return CKPT_EOF;
		if (!it->loaded) {
			rc = load_raw(c, it, &none, err);
			if (rc != CKPT_OK)
				return rc;
			if (none && it->part_end - it->part == 1)
				return ckpt_error_set(err, CKPT_E_NOTFOUND,
					"no state file for version %lld in "
					"operator '%s' partition %d",
					(long long)it->version, it->s->name,
					it->part);
			if (none) {
				it->part++;
				continue;
			}
			it->loaded = 1;
		}
		rc = spark_rec_next(&it->rr, !it->rr_snap, &r, err);
		if (rc == CKPT_EOF) {
			close_state_file(it);
			it->loaded = 0;
			it->part++;
			continue;
		}
		if (rc != CKPT_OK)
			return rc;
		(void)spark_rec_json(it->sp, it->s, &r, &it->kb, &it->vb,
			err);
		ckpt_error_clear(err);
		memset(out, 0, sizeof(*out));
		out->key = r.key;
		out->key_len = r.key_len;
		out->value = r.value;
		out->value_len = r.value_len;
		out->key_json = (const char *)it->kb.data;
		out->value_json = r.value ? (const char *)it->vb.data : NULL;
		out->partition = it->part;
		return CKPT_OK;
	}
}

int
spark_state_next(struct ckpt *c, void *state, struct ckpt_record *out,
	struct ckpt_error *err)
{
	struct state_iter *it = state;
	struct spark_rec r;
	struct kv *e;
	int rc;

	if (it->flags & CKPT_STATE_RAW_DELTAS)
		return next_raw(c, it, out, err);
	for (;;) {
		if (it->part >= it->part_end)
			return CKPT_EOF;
		if (!it->loaded) {
			rc = load_merged(c, it, err);
			if (rc != CKPT_OK)
				return rc;
			it->loaded = 1;
		}
		if (it->pos == it->norder) {
			kvmap_clear(&it->map);
			free(it->order);
			it->order = NULL;
			it->norder = 0;
			it->loaded = 0;
			it->part++;
			continue;
		}
		e = it->order[it->pos++];
		memset(&r, 0, sizeof(r));
		r.key = e->key;
		r.key_len = e->klen;
		r.value = e->val;
		r.value_len = e->vlen;
		(void)spark_rec_json(it->sp, it->s, &r, &it->kb, &it->vb,
			err);
		ckpt_error_clear(err);
		memset(out, 0, sizeof(*out));
		out->key = e->key;
		out->key_len = e->klen;
		out->value = e->val;
		out->value_len = e->vlen;
		out->key_json = (const char *)it->kb.data;
		out->value_json = (const char *)it->vb.data;
		out->partition = it->part;
		return CKPT_OK;
	}
}

void
spark_state_close(struct ckpt *c, void *state)
{
	struct state_iter *it = state;

	(void)c;
	if (!it)
		return;
	close_state_file(it);
	kvmap_clear(&it->map);
	free(it->order);
	free(it->kb.data);
	free(it->vb.data);
	free(it);
}
