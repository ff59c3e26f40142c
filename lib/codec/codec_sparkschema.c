/*
 * codec_sparkschema.c - Spark state schema files and DataType JSON.
 *
 * Parses state/<op>/0/[<store>/]_metadata/schema in its three versions
 * (docs/spark-checkpoint-format.md section 4.1): a Java writeUTF version
 * string, then the key and value schema JSON, written whole (v1), in
 * writeUTF chunks (v2), or per column family with encoder specs (v3).
 * It also turns DataType JSON into a struct spark_type tree that
 * codec_unsaferow.c walks, and prints the short "struct<a:int>" form.
 *
 * It does not read files (the caller hands in the bytes) and does not
 * handle the RocksDB Avro encoding.  cJSON is used only here and in the
 * format driver's small JSON logs.
 */
#include "spark_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define TYPE_DEPTH_MAX 64

struct rd {
	const uint8_t *p;
	size_t len, pos;
	const char *path;
};

static int
sbad(struct rd *r, struct ckpt_error *err, const char *why)
{
	return ckpt_error_set(err, CKPT_E_FORMAT,
		"cannot parse schema '%s': %s at offset %zu", r->path, why,
		r->pos);
}

static int
rd_u16(struct rd *r, unsigned *v, struct ckpt_error *err)
{
	if (r->len - r->pos < 2)
		return sbad(r, err, "truncated");
	*v = (unsigned)r->p[r->pos] << 8 | r->p[r->pos + 1];
	r->pos += 2;
	return CKPT_OK;
}

static int
rd_i32(struct rd *r, int32_t *v, struct ckpt_error *err)
{
	const uint8_t *p;

	if (r->len - r->pos < 4)
		return sbad(r, err, "truncated");
	p = r->p + r->pos;
	*v = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3]);
	r->pos += 4;
	return CKPT_OK;
}

/* Appends one writeUTF string to b (modified UTF-8 NUL decoded). */
static int
rd_utf(struct rd *r, struct ckpt_buf *b, struct ckpt_error *err)
{
	unsigned n = 0, i;
	const uint8_t *s;
	int rc;

	rc = rd_u16(r, &n, err);
	if (rc != CKPT_OK)
		return rc;
	if (r->len - r->pos < n)
		return sbad(r, err, "string runs past the end");
	s = r->p + r->pos;
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == 0xC0 && i + 1 < n && s[i + 1] == 0x80) {
			c = 0;
			i++;
		}
		if (spark_buf_put(b, &c, 1) != 0)
			return ckpt_error_set(err, CKPT_E_NOMEM,
				"cannot parse schema '%s': out of memory",
				r->path);
	}
	r->pos += n;
	return CKPT_OK;
}

/* A chunked string: int32 count, then count writeUTF chunks. */
static int
rd_chunked(struct rd *r, char **out, struct ckpt_error *err)
{
	struct ckpt_buf b = { 0 };
	int32_t count, i;
	int rc;

	*out = NULL;
	rc = rd_i32(r, &count, err);
	if (rc != CKPT_OK)
		return rc;
	if (count < 0 || (size_t)count > (r->len - r->pos) / 2)
		return sbad(r, err, "bad chunk count");
	for (i = 0; i < count; i++) {
		rc = rd_utf(r, &b, err);
		if (rc != CKPT_OK)
			goto fail;
	}
	if (spark_buf_cstr(&b) != 0) {
		rc = ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot parse schema '%s': out of memory", r->path);
		goto fail;
	}
	*out = (char *)b.data;
	return CKPT_OK;
fail:
	free(b.data);
	return rc;
}

static int
rd_whole(struct rd *r, char **out, struct ckpt_error *err)
{
	struct ckpt_buf b = { 0 };
	int rc;

	*out = NULL;
	rc = rd_utf(r, &b, err);
	if (rc == CKPT_OK && spark_buf_cstr(&b) != 0)
		rc = ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot parse schema '%s': out of memory", r->path);
	if (rc != CKPT_OK) {
		free(b.data);
		return rc;
	}
	*out = (char *)b.data;
	return CKPT_OK;
}

void
spark_schema_file_release(struct spark_schema_file *s)
{
	if (!s)
		return;
	free(s->key_json);
	free(s->value_json);
	free(s->store);
	memset(s, 0, sizeof(*s));
}

/* v3: entries of (column family, key, value, encoder spec, user key). */
static int
parse_v3(struct rd *r, struct spark_schema_file *out, struct ckpt_error *err)
{
	int32_t n, i;
	char *cf = NULL, *k = NULL, *v = NULL, *x = NULL;
	int rc;

	rc = rd_i32(r, &n, err);
	if (rc != CKPT_OK)
		return rc;
	if (n < 1 || (size_t)n > r->len - r->pos)
		return sbad(r, err, "bad entry count");
	out->entries = n;
	for (i = 0; i < n; i++) {
		rc = rd_whole(r, &cf, err);
		if (rc == CKPT_OK)
			rc = rd_chunked(r, &k, err);
		if (rc == CKPT_OK)
			rc = rd_chunked(r, &v, err);
		if (rc == CKPT_OK)
			rc = rd_chunked(r, &x, err);
		free(x);
		x = NULL;
		if (rc == CKPT_OK)
			rc = rd_chunked(r, &x, err);
		free(x);
		x = NULL;
		if (rc != CKPT_OK)
			break;
		if (!out->key_json) {
			out->store = cf;
			out->key_json = k;
			out->value_json = v;
		} else {
			free(cf);
			free(k);
			free(v);
		}
		cf = k = v = NULL;
	}
	free(cf);
	free(k);
	free(v);
	return rc;
}

int
spark_schema_file_parse(const uint8_t *p, size_t len, const char *path,
	struct spark_schema_file *out, struct ckpt_error *err)
{
	struct rd r = { p, len, 0, path ? path : "" };
	struct ckpt_buf ver = { 0 };
	int rc, v;

	memset(out, 0, sizeof(*out));
	rc = rd_utf(&r, &ver, err);
	if (rc != CKPT_OK)
		goto out;
	if (ver.len != 2 || ver.data[0] != 'v' || ver.data[1] < '1' ||
	    ver.data[1] > '3') {
		r.pos = 0;
		rc = sbad(&r, err, "unknown version");
		goto out;
	}
	v = ver.data[1] - '0';
	out->version = v;
	out->entries = 1;
	if (v == 1) {
		rc = rd_whole(&r, &out->key_json, err);
		if (rc == CKPT_OK)
			rc = rd_whole(&r, &out->value_json, err);
	} else if (v == 2) {
		rc = rd_chunked(&r, &out->key_json, err);
		if (rc == CKPT_OK)
			rc = rd_chunked(&r, &out->value_json, err);
	} else {
		rc = parse_v3(&r, out, err);
	}
	if (rc == CKPT_OK && r.pos != r.len)
		rc = sbad(&r, err, "trailing bytes");
out:
	free(ver.data);
	if (rc != CKPT_OK)
		spark_schema_file_release(out);
	return rc;
}

/* ---- DataType JSON ---- */

void
spark_type_free(struct spark_type *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nfields; i++) {
		free(t->fields[i].name);
		spark_type_free(t->fields[i].type);
	}
	free(t->fields);
	spark_type_free(t->elem);
	spark_type_free(t->value);
	free(t);
}

static const struct {
	const char *name;
	int kind;
} prims[] = {
	{ "void", SPARK_T_VOID }, { "null", SPARK_T_VOID },
	{ "boolean", SPARK_T_BOOLEAN }, { "byte", SPARK_T_BYTE },
	{ "short", SPARK_T_SHORT }, { "integer", SPARK_T_INT },
	{ "long", SPARK_T_LONG }, { "float", SPARK_T_FLOAT },
	{ "double", SPARK_T_DOUBLE }, { "date", SPARK_T_DATE },
	{ "timestamp", SPARK_T_TIMESTAMP },
	{ "timestamp_ntz", SPARK_T_TIMESTAMP_NTZ },
	{ "string", SPARK_T_STRING }, { "binary", SPARK_T_BINARY },
	{ "interval", SPARK_T_INTERVAL },
	{ "calendarinterval", SPARK_T_INTERVAL },
};

static int
tbad(struct ckpt_error *err, const char *why, const char *what)
{
	return ckpt_error_set(err, CKPT_E_FORMAT,
		"cannot parse spark type: %s '%.80s'", why, what);
}

static int type_from(const cJSON *j, int depth, struct spark_type **out,
	struct ckpt_error *err);

static int
prim_from(const char *s, struct spark_type *t, struct ckpt_error *err)
{
	size_t i;
	int p, sc;
	char tail;

	for (i = 0; i < sizeof(prims) / sizeof(prims[0]); i++) {
		if (strcmp(s, prims[i].name) == 0) {
			t->kind = prims[i].kind;
			return CKPT_OK;
		}
	}
	if (strcmp(s, "decimal") == 0) {
		t->kind = SPARK_T_DECIMAL;
		t->precision = 10;
		return CKPT_OK;
	}
	if (sscanf(s, "decimal(%d,%d%c", &p, &sc, &tail) == 3 &&
	    tail == ')' && p >= 1 && p <= 38 && sc >= 0 && sc <= p) {
		t->kind = SPARK_T_DECIMAL;
		t->precision = p;
		t->scale = sc;
		return CKPT_OK;
	}
	/* char(n)/varchar(n) are stored as strings */
	if (strncmp(s, "char(", 5) == 0 || strncmp(s, "varchar(", 8) == 0) {
		t->kind = SPARK_T_STRING;
		return CKPT_OK;
	}
	/* ANSI intervals: year-month is an int, day-time a long */
	if (strncmp(s, "interval year", 13) == 0 ||
	    strncmp(s, "interval month", 14) == 0) {
		t->kind = SPARK_T_INT;
		return CKPT_OK;
	}
	if (strncmp(s, "interval ", 9) == 0) {
		t->kind = SPARK_T_LONG;
		return CKPT_OK;
	}
	return tbad(err, "unknown type", s);
}

static int
struct_from(const cJSON *j, int depth, struct spark_type *t,
	struct ckpt_error *err)
{
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
	const cJSON *f;
	int n, rc;

	t->kind = SPARK_T_STRUCT;
	if (!cJSON_IsArray(fields))
		return tbad(err, "struct without fields", "");
	n = cJSON_GetArraySize(fields);
	if (n > 0) {
		t->fields = calloc((size_t)n, sizeof(*t->fields));
		if (!t->fields)
			return ckpt_error_set(err, CKPT_E_NOMEM,
				"cannot parse spark type: out of memory");
	}
	cJSON_ArrayForEach(f, fields) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(f, "type");
		struct spark_field *sf = &t->fields[t->nfields];

		if (!cJSON_IsString(name) || !ty)
			return tbad(err, "bad struct field", "");
		sf->name = strdup(name->valuestring);
		if (!sf->name)
			return ckpt_error_set(err, CKPT_E_NOMEM,
				"cannot parse spark type: out of memory");
		t->nfields++;
		rc = type_from(ty, depth + 1, &sf->type, err);
		if (rc != CKPT_OK)
			return rc;
	}
	return CKPT_OK;
}

static int
type_from(const cJSON *j, int depth, struct spark_type **out,
	struct ckpt_error *err)
{
	struct spark_type *t;
	const cJSON *ty;
	int rc;

	*out = NULL;
	if (depth > TYPE_DEPTH_MAX)
		return tbad(err, "nested too deeply", "");
	t = calloc(1, sizeof(*t));
	if (!t)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot parse spark type: out of memory");
	*out = t;
	if (cJSON_IsString(j))
		return prim_from(j->valuestring, t, err);
	if (!cJSON_IsObject(j))
		return tbad(err, "not a type", "");
	ty = cJSON_GetObjectItemCaseSensitive(j, "type");
	if (!cJSON_IsString(ty))
		return tbad(err, "object without a type", "");
	if (strcmp(ty->valuestring, "struct") == 0)
		return struct_from(j, depth, t, err);
	if (strcmp(ty->valuestring, "array") == 0) {
		t->kind = SPARK_T_ARRAY;
		return type_from(cJSON_GetObjectItemCaseSensitive(j,
			"elementType"), depth + 1, &t->elem, err);
	}
	if (strcmp(ty->valuestring, "map") == 0) {
		t->kind = SPARK_T_MAP;
		rc = type_from(cJSON_GetObjectItemCaseSensitive(j, "keyType"),
			depth + 1, &t->elem, err);
		if (rc != CKPT_OK)
			return rc;
		return type_from(cJSON_GetObjectItemCaseSensitive(j,
			"valueType"), depth + 1, &t->value, err);
	}
	if (strcmp(ty->valuestring, "udt") == 0) {
		/* a user-defined type is stored as its sqlType */
		free(t);
		*out = NULL;
		return type_from(cJSON_GetObjectItemCaseSensitive(j,
			"sqlType"), depth + 1, out, err);
	}
	return tbad(err, "unknown type", ty->valuestring);
}

int
spark_type_parse(const char *json, size_t len, struct spark_type **out,
	struct ckpt_error *err)
{
	cJSON *j;
	int rc;

	*out = NULL;
	j = cJSON_ParseWithLength(json, len);
	if (!j)
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot parse spark type: invalid JSON");
	rc = type_from(j, 0, out, err);
	cJSON_Delete(j);
	if (rc != CKPT_OK) {
		spark_type_free(*out);
		*out = NULL;
	}
	return rc;
}

static const char *
prim_name(const struct spark_type *t)
{
	size_t i;

	for (i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
		if (prims[i].kind == t->kind)
			return prims[i].name;
	return "?";
}

int
spark_type_describe(const struct spark_type *t, struct ckpt_buf *b)
{
	char tmp[48];
	int i;

	switch (t->kind) {
	case SPARK_T_STRUCT:
		if (spark_buf_puts(b, "struct<") != 0)
			return -1;
		for (i = 0; i < t->nfields; i++) {
			if ((i && spark_buf_puts(b, ",") != 0) ||
			    spark_buf_puts(b, t->fields[i].name) != 0 ||
			    spark_buf_puts(b, ":") != 0 ||
			    spark_type_describe(t->fields[i].type, b) != 0)
				return -1;
		}
		return spark_buf_puts(b, ">");
	case SPARK_T_ARRAY:
		if (spark_buf_puts(b, "array<") != 0 ||
		    spark_type_describe(t->elem, b) != 0)
			return -1;
		return spark_buf_puts(b, ">");
	case SPARK_T_MAP:
		if (spark_buf_puts(b, "map<") != 0 ||
		    spark_type_describe(t->elem, b) != 0 ||
		    spark_buf_puts(b, ",") != 0 ||
		    spark_type_describe(t->value, b) != 0)
			return -1;
		return spark_buf_puts(b, ">");
	case SPARK_T_DECIMAL:
		snprintf(tmp, sizeof(tmp), "decimal(%d,%d)", t->precision,
			t->scale);
		return spark_buf_puts(b, tmp);
	default:
		return spark_buf_puts(b, prim_name(t));
	}
}
