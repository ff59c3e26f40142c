/*
 * codec_value.c - the typed value encoding of native state records and
 * its schema language (ckpt-format(5), VALUES).
 *
 * A schema is text: "string", "int64", "double", "bool", "bytes",
 * "timestamp", "null", "list<T>" and "struct<name:T,...>".  Encoded
 * values are self-describing: every value starts with a one-byte type
 * tag (enum ckpt_type), so ckpt_dec_skip() needs no schema, null may
 * stand for any type, and a decoder checks the tag against the schema.
 *
 *   null       tag
 *   bool       tag, one byte 0 or 1
 *   int64      tag, zigzag LEB128 varint (at most 10 bytes)
 *   timestamp  tag, zigzag LEB128 varint of milliseconds since the epoch
 *   double     tag, 8 bytes IEEE 754 little-endian
 *   string     tag, LEB128 length, UTF-8 bytes
 *   bytes      tag, LEB128 length, bytes
 *   list       tag, LEB128 count, count values
 *   struct     tag, LEB128 field count, the fields in schema order; a
 *              struct with fewer fields than its schema has nulls for
 *              the missing trailing fields, one with more is malformed
 *
 * This file does not know about files, blocks or records; decoding never
 * reads past the end it is given and never allocates by a length it has
 * not checked against the bytes that remain.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ckpt.h"
#include "codec.h"

#define SCHEMA_DEPTH_MAX 32
#define SCHEMA_FIELDS_MAX 256
#define SCHEMA_NAME_MAX 64

struct ckpt_schema {
	enum ckpt_type type;
	struct ckpt_schema *elem;	/* list */
	unsigned nfields;		/* struct */
	char **names;
	struct ckpt_schema **fields;
};

static const char *const type_names[] = {
	[CKPT_T_NULL] = "null", [CKPT_T_BOOL] = "bool",
	[CKPT_T_INT64] = "int64", [CKPT_T_DOUBLE] = "double",
	[CKPT_T_STRING] = "string", [CKPT_T_BYTES] = "bytes",
	[CKPT_T_TIMESTAMP] = "timestamp", [CKPT_T_LIST] = "list",
	[CKPT_T_STRUCT] = "struct",
};

static const char *
type_name(unsigned t)
{
	return t <= CKPT_T_STRUCT ? type_names[t] : "unknown";
}

/* ------------------------------------------------------------------ */
/* Schema text parser                                                   */
/* ------------------------------------------------------------------ */

struct sp {
	const char *text;
	const char *p;
	struct ckpt_error *err;
};

static void
sp_ws(struct sp *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n')
		s->p++;
}

static int
sp_fail(struct sp *s, const char *why)
{
	return ckpt_error_set(s->err, CKPT_E_FORMAT,
	    "cannot parse schema '%.200s': %s at offset %td", s->text, why,
	    s->p - s->text);
}

static int
is_ident(int c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '-');
}

void
ckpt_schema_free(struct ckpt_schema *s)
{
	if (s == NULL)
		return;
	ckpt_schema_free(s->elem);
	for (unsigned i = 0; i < s->nfields; i++) {
		free(s->names[i]);
		ckpt_schema_free(s->fields[i]);
	}
	free(s->names);
	free(s->fields);
	free(s);
}

static int sp_type(struct sp *s, int depth, struct ckpt_schema **out);

static int
sp_struct(struct sp *s, int depth, struct ckpt_schema *t)
{
	unsigned cap = 0;

	for (;;) {
		const char *n0;
		size_t nlen;
		struct ckpt_schema *f = NULL;

		sp_ws(s);
		n0 = s->p;
		while (is_ident((unsigned char)*s->p, s->p == n0))
			s->p++;
		nlen = (size_t)(s->p - n0);
		if (nlen == 0)
			return sp_fail(s, "expected a field name");
		if (nlen > SCHEMA_NAME_MAX)
			return sp_fail(s, "field name too long");
		for (unsigned i = 0; i < t->nfields; i++)
			if (strlen(t->names[i]) == nlen &&
			    memcmp(t->names[i], n0, nlen) == 0)
				return sp_fail(s, "duplicate field name");
		sp_ws(s);
		if (*s->p != ':')
			return sp_fail(s, "expected ':'");
		s->p++;
		if (t->nfields == SCHEMA_FIELDS_MAX)
			return sp_fail(s, "too many fields");
		if (t->nfields == cap) {
			unsigned nc = cap ? cap * 2 : 4;
			char **nn = realloc(t->names, nc * sizeof(*nn));

			if (nn == NULL)
				goto nomem;
			t->names = nn;
			struct ckpt_schema **nf = realloc(t->fields,
			    nc * sizeof(*nf));
			if (nf == NULL)
				goto nomem;
			t->fields = nf;
			cap = nc;
		}
		if (sp_type(s, depth + 1, &f) != CKPT_OK)
			return CKPT_FAILED;
		t->names[t->nfields] = malloc(nlen + 1);
		if (t->names[t->nfields] == NULL) {
			ckpt_schema_free(f);
			goto nomem;
		}
		memcpy(t->names[t->nfields], n0, nlen);
		t->names[t->nfields][nlen] = '\0';
		t->fields[t->nfields++] = f;
		sp_ws(s);
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p == '>') {
			s->p++;
			return CKPT_OK;
		}
		return sp_fail(s, "expected ',' or '>'");
	}
nomem:
	return ckpt_error_set(s->err, CKPT_E_NOMEM,
	    "cannot parse schema: out of memory");
}

static int
sp_type(struct sp *s, int depth, struct ckpt_schema **out)
{
	static const struct { const char *name; enum ckpt_type t; } scal[] = {
		{ "string", CKPT_T_STRING }, { "int64", CKPT_T_INT64 },
		{ "double", CKPT_T_DOUBLE }, { "bool", CKPT_T_BOOL },
		{ "bytes", CKPT_T_BYTES }, { "timestamp", CKPT_T_TIMESTAMP },
		{ "null", CKPT_T_NULL },
	};
	struct ckpt_schema *t;
	const char *w0;
	size_t wlen;

	*out = NULL;
	if (depth > SCHEMA_DEPTH_MAX)
		return sp_fail(s, "nested too deeply");
	sp_ws(s);
	w0 = s->p;
	while (is_ident((unsigned char)*s->p, s->p == w0))
		s->p++;
	wlen = (size_t)(s->p - w0);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return ckpt_error_set(s->err, CKPT_E_NOMEM,
		    "cannot parse schema: out of memory");
	for (size_t i = 0; i < sizeof(scal) / sizeof(scal[0]); i++) {
		if (strlen(scal[i].name) == wlen &&
		    memcmp(scal[i].name, w0, wlen) == 0) {
			t->type = scal[i].t;
			*out = t;
			return CKPT_OK;
		}
	}
	if (wlen == 4 && memcmp(w0, "list", 4) == 0) {
		t->type = CKPT_T_LIST;
		sp_ws(s);
		if (*s->p != '<') {
			free(t);
			return sp_fail(s, "expected '<'");
		}
		s->p++;
		if (sp_type(s, depth + 1, &t->elem) != CKPT_OK)
			goto fail;
		sp_ws(s);
		if (*s->p != '>') {
			sp_fail(s, "expected '>'");
			goto fail;
		}
		s->p++;
		*out = t;
		return CKPT_OK;
	}
	if (wlen == 6 && memcmp(w0, "struct", 6) == 0) {
		t->type = CKPT_T_STRUCT;
		sp_ws(s);
		if (*s->p != '<') {
			free(t);
			return sp_fail(s, "expected '<'");
		}
		s->p++;
		if (sp_struct(s, depth, t) != CKPT_OK)
			goto fail;
		*out = t;
		return CKPT_OK;
	}
	free(t);
	s->p = w0;
	return sp_fail(s, "unknown type");
fail:
	ckpt_schema_free(t);
	return CKPT_FAILED;
}

/*
 * Parses schema text into *out (caller frees with ckpt_schema_free).
 * Malformed text is CKPT_E_FORMAT naming the offset.
 */
int
ckpt_schema_parse(const char *text, struct ckpt_schema **out,
    struct ckpt_error *err)
{
	struct sp s = { text, text, err };
	struct ckpt_schema *t = NULL;

	*out = NULL;
	if (text == NULL)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot parse schema: no text");
	if (sp_type(&s, 0, &t) != CKPT_OK)
		return CKPT_FAILED;
	sp_ws(&s);
	if (*s.p != '\0') {
		ckpt_schema_free(t);
		return sp_fail(&s, "trailing text");
	}
	*out = t;
	return CKPT_OK;
}

/* The type of a schema's root (CKPT_T_*), -1 for NULL. */
int
ckpt_schema_type(const struct ckpt_schema *s)
{
	return s == NULL ? -1 : (int)s->type;
}

/* ------------------------------------------------------------------ */
/* Encoders                                                             */
/* ------------------------------------------------------------------ */

static int
enc_tag_uv(struct ckpt_buf *b, int tag, uint64_t v)
{
	uint8_t t = (uint8_t)tag;

	if (ckpt_buf_append(b, &t, 1) != 0)
		return -1;
	return ckpt_varint_put(b, v);
}

int
ckpt_enc_null(struct ckpt_buf *b)
{
	uint8_t t = CKPT_T_NULL;

	return ckpt_buf_append(b, &t, 1);
}

int
ckpt_enc_bool(struct ckpt_buf *b, int v)
{
	uint8_t t[2] = { CKPT_T_BOOL, v ? 1 : 0 };

	return ckpt_buf_append(b, t, 2);
}

int
ckpt_enc_int64(struct ckpt_buf *b, int64_t v)
{
	return enc_tag_uv(b, CKPT_T_INT64, ckpt_zigzag(v));
}

int
ckpt_enc_timestamp(struct ckpt_buf *b, int64_t ms)
{
	return enc_tag_uv(b, CKPT_T_TIMESTAMP, ckpt_zigzag(ms));
}

int
ckpt_enc_double(struct ckpt_buf *b, double v)
{
	uint8_t t[9];
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	t[0] = CKPT_T_DOUBLE;
	for (int i = 0; i < 8; i++)
		t[1 + i] = (uint8_t)(u >> (8 * i));
	return ckpt_buf_append(b, t, 9);
}

int
ckpt_enc_string(struct ckpt_buf *b, const char *s, size_t n)
{
	if (enc_tag_uv(b, CKPT_T_STRING, n) != 0)
		return -1;
	return ckpt_buf_append(b, s, n);
}

int
ckpt_enc_bytes(struct ckpt_buf *b, const void *p, size_t n)
{
	if (enc_tag_uv(b, CKPT_T_BYTES, n) != 0)
		return -1;
	return ckpt_buf_append(b, p, n);
}

int
ckpt_enc_list_begin(struct ckpt_buf *b, uint64_t count)
{
	return enc_tag_uv(b, CKPT_T_LIST, count);
}

int
ckpt_enc_struct_begin(struct ckpt_buf *b, unsigned nfields)
{
	return enc_tag_uv(b, CKPT_T_STRUCT, nfields);
}

/* ------------------------------------------------------------------ */
/* Decoders                                                             */
/* ------------------------------------------------------------------ */

static long long
dec_off(const struct ckpt_dec *d)
{
	return (long long)(d->p - d->start);
}

static int
dec_fail(struct ckpt_dec *d, struct ckpt_error *err, const char *why)
{
	return ckpt_error_set(err, CKPT_E_FORMAT,
	    "cannot decode value: %s at byte %lld", why, dec_off(d));
}

static int
dec_uv(struct ckpt_dec *d, uint64_t *v, struct ckpt_error *err)
{
	size_t used;

	int rc = ckpt_varint_get(d->p, (size_t)(d->end - d->p), v, &used);

	if (rc != 0)
		return dec_fail(d, err, rc == CKPT_VARINT_TRUNCATED ?
		    "truncated varint" : "malformed varint");
	d->p += used;
	return CKPT_OK;
}

/* Reads the tag, which must be want. */
static int
dec_tag(struct ckpt_dec *d, int want, struct ckpt_error *err)
{
	char why[64];

	if (d->p >= d->end)
		return dec_fail(d, err, "truncated value");
	if (*d->p != want) {
		snprintf(why, sizeof(why), "expected %s, found %s",
		    type_name((unsigned)want), type_name(*d->p));
		return dec_fail(d, err, why);
	}
	d->p++;
	return CKPT_OK;
}

/* The next value's type tag, or -1 at the end. */
int
ckpt_dec_type(const struct ckpt_dec *d)
{
	return d->p < d->end ? *d->p : -1;
}

int
ckpt_dec_int64(struct ckpt_dec *d, int64_t *v, struct ckpt_error *err)
{
	uint64_t u;

	if (dec_tag(d, CKPT_T_INT64, err) != CKPT_OK ||
	    dec_uv(d, &u, err) != CKPT_OK)
		return CKPT_FAILED;
	*v = ckpt_unzigzag(u);
	return CKPT_OK;
}

int
ckpt_dec_timestamp(struct ckpt_dec *d, int64_t *ms, struct ckpt_error *err)
{
	uint64_t u;

	if (dec_tag(d, CKPT_T_TIMESTAMP, err) != CKPT_OK ||
	    dec_uv(d, &u, err) != CKPT_OK)
		return CKPT_FAILED;
	*ms = ckpt_unzigzag(u);
	return CKPT_OK;
}

int
ckpt_dec_double(struct ckpt_dec *d, double *v, struct ckpt_error *err)
{
	uint64_t u = 0;

	if (dec_tag(d, CKPT_T_DOUBLE, err) != CKPT_OK)
		return CKPT_FAILED;
	if (d->end - d->p < 8)
		return dec_fail(d, err, "truncated double");
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)d->p[i] << (8 * i);
	d->p += 8;
	memcpy(v, &u, sizeof(*v));
	return CKPT_OK;
}

int
ckpt_dec_bool(struct ckpt_dec *d, int *v, struct ckpt_error *err)
{
	if (dec_tag(d, CKPT_T_BOOL, err) != CKPT_OK)
		return CKPT_FAILED;
	if (d->p >= d->end)
		return dec_fail(d, err, "truncated bool");
	if (*d->p > 1)
		return dec_fail(d, err, "bool is neither 0 nor 1");
	*v = *d->p++;
	return CKPT_OK;
}

static int
dec_len_bytes(struct ckpt_dec *d, const char **s, size_t *n,
    struct ckpt_error *err)
{
	uint64_t len;

	if (dec_uv(d, &len, err) != CKPT_OK)
		return CKPT_FAILED;
	if (len > (uint64_t)(d->end - d->p))
		return dec_fail(d, err, "length runs past the end");
	*s = (const char *)d->p;
	*n = (size_t)len;
	d->p += len;
	return CKPT_OK;
}

/* A string or bytes value; *s points into the input (not terminated). */
int
ckpt_dec_string(struct ckpt_dec *d, const char **s, size_t *n,
    struct ckpt_error *err)
{
	if (d->p < d->end && *d->p == CKPT_T_BYTES)
		d->p++;
	else if (dec_tag(d, CKPT_T_STRING, err) != CKPT_OK)
		return CKPT_FAILED;
	return dec_len_bytes(d, s, n, err);
}

int
ckpt_dec_list_begin(struct ckpt_dec *d, uint64_t *count,
    struct ckpt_error *err)
{
	if (dec_tag(d, CKPT_T_LIST, err) != CKPT_OK ||
	    dec_uv(d, count, err) != CKPT_OK)
		return CKPT_FAILED;
	/* every element takes at least its tag byte */
	if (*count > (uint64_t)(d->end - d->p))
		return dec_fail(d, err, "list count runs past the end");
	return CKPT_OK;
}

int
ckpt_dec_struct_begin(struct ckpt_dec *d, unsigned *nfields,
    struct ckpt_error *err)
{
	uint64_t n;

	if (dec_tag(d, CKPT_T_STRUCT, err) != CKPT_OK ||
	    dec_uv(d, &n, err) != CKPT_OK)
		return CKPT_FAILED;
	if (n > SCHEMA_FIELDS_MAX || n > (uint64_t)(d->end - d->p))
		return dec_fail(d, err, "struct field count runs past the end");
	*nfields = (unsigned)n;
	return CKPT_OK;
}

static int
dec_skip_depth(struct ckpt_dec *d, int depth, struct ckpt_error *err)
{
	uint64_t n;
	const char *s;
	size_t len;

	if (depth > SCHEMA_DEPTH_MAX)
		return dec_fail(d, err, "nested too deeply");
	if (d->p >= d->end)
		return dec_fail(d, err, "truncated value");
	switch (*d->p) {
	case CKPT_T_NULL:
		d->p++;
		return CKPT_OK;
	case CKPT_T_BOOL: {
		int b;
		return ckpt_dec_bool(d, &b, err);
	}
	case CKPT_T_INT64:
	case CKPT_T_TIMESTAMP:
		d->p++;
		return dec_uv(d, &n, err);
	case CKPT_T_DOUBLE: {
		double x;
		return ckpt_dec_double(d, &x, err);
	}
	case CKPT_T_STRING:
	case CKPT_T_BYTES:
		return ckpt_dec_string(d, &s, &len, err);
	case CKPT_T_LIST:
		if (ckpt_dec_list_begin(d, &n, err) != CKPT_OK)
			return CKPT_FAILED;
		break;
	case CKPT_T_STRUCT: {
		unsigned nf;
		if (ckpt_dec_struct_begin(d, &nf, err) != CKPT_OK)
			return CKPT_FAILED;
		n = nf;
		break;
	}
	default:
		return dec_fail(d, err, "unknown type tag");
	}
	for (uint64_t i = 0; i < n; i++)
		if (dec_skip_depth(d, depth + 1, err) != CKPT_OK)
			return CKPT_FAILED;
	return CKPT_OK;
}

int
ckpt_dec_skip(struct ckpt_dec *d, struct ckpt_error *err)
{
	return dec_skip_depth(d, 0, err);
}

/* ------------------------------------------------------------------ */
/* JSON rendering                                                       */
/* ------------------------------------------------------------------ */

struct jout {
	char **buf;
	size_t *len;
	size_t *cap;
	struct ckpt_error *err;
	int dry;		/* check only, render nothing */
};

static int
jput(struct jout *o, const char *s, size_t n)
{
	if (o->dry)
		return CKPT_OK;
	if (*o->len + n + 1 > *o->cap) {
		size_t nc = *o->cap ? *o->cap : 64;
		char *nb;

		while (nc < *o->len + n + 1)
			nc *= 2;
		nb = realloc(*o->buf, nc);
		if (nb == NULL)
			return ckpt_error_set(o->err, CKPT_E_NOMEM,
			    "cannot render value: out of memory");
		*o->buf = nb;
		*o->cap = nc;
	}
	memcpy(*o->buf + *o->len, s, n);
	*o->len += n;
	(*o->buf)[*o->len] = '\0';
	return CKPT_OK;
}

static int
jputs(struct jout *o, const char *s)
{
	if (o->dry)
		return CKPT_OK;
	return jput(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid. */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	uint32_t c;
	size_t k;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		k = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		k = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		k = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((k == 2 && c < 0x80) || (k == 3 && c < 0x800) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return k;
}

/*
 * Appends s as a JSON string; invalid UTF-8 is a format error (a string
 * value is UTF-8 by definition).
 */
static int
jstring(struct jout *o, struct ckpt_dec *d, const uint8_t *s, size_t n)
{
	char esc[8];
	size_t i = 0, run = 0;

	if (o->dry) {
		while (i < n) {
			size_t k;
			uint64_t w;

			/* eight ASCII bytes at a time */
			if (n - i >= 8) {
				memcpy(&w, s + i, 8);
				if ((w & 0x8080808080808080ULL) == 0) {
					i += 8;
					continue;
				}
			}
			k = s[i] < 0x80 ? 1 : utf8_len(s + i, n - i);

			if (k == 0) {
				d->p = s + i;
				return dec_fail(d, o->err,
				    "invalid utf-8 in string");
			}
			i += k;
		}
		return CKPT_OK;
	}
	if (jput(o, "\"", 1) != CKPT_OK)
		return CKPT_FAILED;
	while (i < n) {
		size_t k = utf8_len(s + i, n - i);

		if (k == 0) {
			d->p = s + i;
			return dec_fail(d, o->err, "invalid utf-8 in string");
		}
		if (k == 1 && (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')) {
			if (jput(o, (const char *)s + run, i - run) != CKPT_OK)
				return CKPT_FAILED;
			if (s[i] == '"' || s[i] == '\\')
				snprintf(esc, sizeof(esc), "\\%c", s[i]);
			else if (s[i] == '\n')
				snprintf(esc, sizeof(esc), "\\n");
			else if (s[i] == '\t')
				snprintf(esc, sizeof(esc), "\\t");
			else
				snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			if (jputs(o, esc) != CKPT_OK)
				return CKPT_FAILED;
			run = i + 1;
		}
		i += k;
	}
	if (jput(o, (const char *)s + run, n - run) != CKPT_OK)
		return CKPT_FAILED;
	return jput(o, "\"", 1);
}

static int
jhex(struct jout *o, const uint8_t *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char two[2];

	if (jput(o, "\"", 1) != CKPT_OK)
		return CKPT_FAILED;
	for (size_t i = 0; i < n; i++) {
		two[0] = hx[s[i] >> 4];
		two[1] = hx[s[i] & 15];
		if (jput(o, two, 2) != CKPT_OK)
			return CKPT_FAILED;
	}
	return jput(o, "\"", 1);
}

/* Milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static int
jtime(struct jout *o, int64_t ms)
{
	char tmp[64];
	struct tm tm;
	int64_t sec = ms / 1000, frac = ms % 1000;
	time_t t;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	/* years outside 0..9999 render as the raw number */
	if (sec < -62167219200LL || sec > 253402300799LL ||
	    gmtime_r(&t, &tm) == NULL) {
		snprintf(tmp, sizeof(tmp), "%" PRId64, ms);
		return jputs(o, tmp);
	}
	snprintf(tmp, sizeof(tmp), "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
	return jputs(o, tmp);
}

static int
jvalue(struct jout *o, const struct ckpt_schema *s, struct ckpt_dec *d,
    int depth)
{
	char tmp[64];

	if (depth > SCHEMA_DEPTH_MAX)
		return dec_fail(d, o->err, "nested too deeply");
	if (d->p < d->end && *d->p == CKPT_T_NULL) {
		d->p++;
		return jputs(o, "null");
	}
	switch (s->type) {
	case CKPT_T_NULL:
		return dec_tag(d, CKPT_T_NULL, o->err);
	case CKPT_T_BOOL: {
		int b;
		if (ckpt_dec_bool(d, &b, o->err) != CKPT_OK)
			return CKPT_FAILED;
		return jputs(o, b ? "true" : "false");
	}
	case CKPT_T_INT64: {
		int64_t v;
		if (ckpt_dec_int64(d, &v, o->err) != CKPT_OK)
			return CKPT_FAILED;
		if (o->dry)
			return CKPT_OK;
		snprintf(tmp, sizeof(tmp), "%" PRId64, v);
		return jputs(o, tmp);
	}
	case CKPT_T_TIMESTAMP: {
		int64_t v;
		if (ckpt_dec_timestamp(d, &v, o->err) != CKPT_OK)
			return CKPT_FAILED;
		return o->dry ? CKPT_OK : jtime(o, v);
	}
	case CKPT_T_DOUBLE: {
		double v;
		if (ckpt_dec_double(d, &v, o->err) != CKPT_OK)
			return CKPT_FAILED;
		if (o->dry)
			return CKPT_OK;
		if (v != v || v - v != 0)	/* NaN, inf: not JSON */
			snprintf(tmp, sizeof(tmp), "\"%g\"", v);
		else
			snprintf(tmp, sizeof(tmp), "%.17g", v);
		return jputs(o, tmp);
	}
	case CKPT_T_STRING:
	case CKPT_T_BYTES: {
		const char *p = NULL;
		size_t n = 0;
		if (dec_tag(d, (int)s->type, o->err) != CKPT_OK ||
		    dec_len_bytes(d, &p, &n, o->err) != CKPT_OK)
			return CKPT_FAILED;
		if (s->type == CKPT_T_STRING)
			return jstring(o, d, (const uint8_t *)p, n);
		return o->dry ? CKPT_OK : jhex(o, (const uint8_t *)p, n);
	}
	case CKPT_T_LIST: {
		uint64_t n;
		if (ckpt_dec_list_begin(d, &n, o->err) != CKPT_OK ||
		    jputs(o, "[") != CKPT_OK)
			return CKPT_FAILED;
		for (uint64_t i = 0; i < n; i++) {
			if (i > 0 && jputs(o, ",") != CKPT_OK)
				return CKPT_FAILED;
			if (jvalue(o, s->elem, d, depth + 1) != CKPT_OK)
				return CKPT_FAILED;
		}
		return jputs(o, "]");
	}
	case CKPT_T_STRUCT: {
		unsigned n;
		if (ckpt_dec_struct_begin(d, &n, o->err) != CKPT_OK)
			return CKPT_FAILED;
		if (n > s->nfields) {
			snprintf(tmp, sizeof(tmp),
			    "struct has %u fields, schema has %u", n,
			    s->nfields);
			return dec_fail(d, o->err, tmp);
		}
		if (jputs(o, "{") != CKPT_OK)
			return CKPT_FAILED;
		for (unsigned i = 0; i < s->nfields; i++) {
			if (i > 0 && jputs(o, ",") != CKPT_OK)
				return CKPT_FAILED;
			if (jputs(o, "\"") != CKPT_OK ||
			    jputs(o, s->names[i]) != CKPT_OK ||
			    jputs(o, "\":") != CKPT_OK)
				return CKPT_FAILED;
			if (i >= n) {
				if (jputs(o, "null") != CKPT_OK)
					return CKPT_FAILED;
			} else if (jvalue(o, s->fields[i], d, depth + 1) !=
			    CKPT_OK) {
				return CKPT_FAILED;
			}
		}
		return jputs(o, "}");
	}
	}
	return dec_fail(d, o->err, "unknown schema type");
}

/*
 * Decodes the one value in data[0..len) as JSON appended to *buf.  The
 * value must take all len bytes.  On failure *len_out is unchanged.
 */
int
ckpt_value_to_json(const struct ckpt_schema *s, const uint8_t *data,
    size_t len, char **buf, size_t *len_out, size_t *cap,
    struct ckpt_error *err)
{
	struct ckpt_dec d;
	struct jout o = { buf, len_out, cap, err, 0 };
	size_t mark;

	if (s == NULL || buf == NULL || len_out == NULL || cap == NULL ||
	    (data == NULL && len > 0))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot decode value: no schema or no output buffer");
	if (data == NULL)
		data = (const uint8_t *)"";
	d = (struct ckpt_dec){ data, data + len, data };
	mark = *len_out;
	if (jvalue(&o, s, &d, 0) != CKPT_OK)
		goto fail;
	if (d.p != d.end) {
		dec_fail(&d, err, "trailing bytes after the value");
		goto fail;
	}
	return CKPT_OK;
fail:
	*len_out = mark;
	if (*buf != NULL)
		(*buf)[mark] = '\0';
	return CKPT_FAILED;
}

/* A varint for vfast: 1 and *pp advanced, or 0 (let jvalue say why). */
static inline int
vuv(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	size_t used;

	if (*pp < end && **pp < 0x80) {
		*v = *(*pp)++;
		return 1;
	}
	if (ckpt_varint_get(*pp, (size_t)(end - *pp), v, &used) != 0)
		return 0;
	*pp += used;
	return 1;
}

/*
 * The fast path of ckpt_value_check: 1 when the value at *pp is well
 * formed by exactly the rules jvalue applies (and *pp is past it), 0
 * when it is not or when unsure.  No error text: on 0 the caller runs
 * jvalue, which finds and words the problem.
 */
static int
vfast(const struct ckpt_schema *s, const uint8_t **pp, const uint8_t *end,
    int depth)
{
	const uint8_t *p = *pp;
	uint64_t n;

	if (depth > SCHEMA_DEPTH_MAX || p >= end)
		return 0;
	if (*p == CKPT_T_NULL) {
		*pp = p + 1;
		return 1;
	}
	if (*p != s->type)
		return 0;
	p++;
	switch (s->type) {
	case CKPT_T_BOOL:
		if (p >= end || *p > 1)
			return 0;
		p++;
		break;
	case CKPT_T_INT64:
	case CKPT_T_TIMESTAMP:
		if (!vuv(&p, end, &n))
			return 0;
		break;
	case CKPT_T_DOUBLE:
		if (end - p < 8)
			return 0;
		p += 8;
		break;
	case CKPT_T_STRING:
	case CKPT_T_BYTES: {
		const uint8_t *q;

		if (!vuv(&p, end, &n) || n > (uint64_t)(end - p))
			return 0;
		q = p;
		p += n;
		if (s->type == CKPT_T_BYTES)
			break;
		while (q < p) {
			uint64_t w;

			if (p - q >= 8) {
				memcpy(&w, q, 8);
				if ((w & 0x8080808080808080ULL) == 0) {
					q += 8;
					continue;
				}
			}
			if (*q < 0x80) {
				q++;
				continue;
			}
			if ((n = utf8_len(q, (size_t)(p - q))) == 0)
				return 0;
			q += n;
		}
		break;
	}
	case CKPT_T_LIST:
		if (!vuv(&p, end, &n) || n > (uint64_t)(end - p))
			return 0;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t w, k;

			/* short ASCII strings inline (the common element) */
			if (s->elem->type == CKPT_T_STRING && end - p >= 2 &&
			    p[0] == CKPT_T_STRING && p[1] < 0x80 &&
			    p[1] <= end - p - 2) {
				const uint8_t *q = p + 2;
				uint64_t acc = 0;

				k = p[1];
				for (; k >= 8; k -= 8, q += 8) {
					memcpy(&w, q, 8);
					acc |= w;
				}
				while (k-- > 0)
					acc |= *q++;
				if ((acc & 0x8080808080808080ULL) == 0) {
					p = q;
					continue;
				}
			}
			if (!vfast(s->elem, &p, end, depth + 1))
				return 0;
		}
		break;
	case CKPT_T_STRUCT:
		if (!vuv(&p, end, &n) || n > SCHEMA_FIELDS_MAX ||
		    n > (uint64_t)(end - p) || n > s->nfields)
			return 0;
		for (uint64_t i = 0; i < n; i++)
			if (!vfast(s->fields[i], &p, end, depth + 1))
				return 0;
		break;
	default:
		return 0;
	}
	*pp = p;
	return 1;
}

/*
 * Checks that data[0..len) is exactly one well-formed value of schema s
 * (the checks of ckpt_value_to_json, without rendering).
 */
int
ckpt_value_check(const struct ckpt_schema *s, const uint8_t *data,
    size_t len, struct ckpt_error *err)
{
	struct ckpt_dec d;
	struct jout o = { NULL, NULL, NULL, err, 1 };
	const uint8_t *p;

	if (s == NULL || (data == NULL && len > 0))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot check value: no schema");
	if (data == NULL)
		data = (const uint8_t *)"";
	p = data;
	if (vfast(s, &p, data + len, 0) && p == data + len)
		return CKPT_OK;
	d = (struct ckpt_dec){ data, data + len, data };
	if (jvalue(&o, s, &d, 0) != CKPT_OK)
		return CKPT_FAILED;
	if (d.p != d.end)
		return dec_fail(&d, err, "trailing bytes after the value");
	return CKPT_OK;
}
