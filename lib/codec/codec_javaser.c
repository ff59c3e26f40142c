/*
 * codec_javaser.c - a bounded, tag-driven walker for Java Object
 * Serialization streams (docs/spark-checkpoint-format.md section 7.2,
 * and the JDK's java.io.ObjectInputStream for the order handles are
 * assigned in).
 *
 * It keeps the handle table (class descriptors with their fields,
 * strings, object and array classes) in an arena freed at the end of
 * the walk, and reports values as events with a frame stack (see
 * codec_javaser.h).  It never instantiates anything, never calls back
 * into class-specific code, and cannot read externalizable objects
 * written without block data (protocol version 1).  Recursion is
 * limited by max_depth, class hierarchies by CKPT_JSER_MAX_HIERARCHY,
 * and the total work by a budget proportional to the input, so no
 * input makes it crash, hang or allocate much more than its size.
 *
 * The Spark-specific extractors (CompositeOffset, Checkpoint) are thin
 * callbacks over the same walk, in codec_javaser_spark.c.
 */
#include "codec_javaser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSER_DEFAULT_DEPTH 256u
#define JSER_DEFAULT_HANDLES ((size_t)1 << 20)
#define JSER_DEFAULT_BYTES ((size_t)16 << 20)
#define JSER_ARENA_CHUNK ((size_t)64 << 10)

/* Class descriptor flags. */
#define SC_WRITE_METHOD 0x01
#define SC_SERIALIZABLE 0x02
#define SC_EXTERNALIZABLE 0x04
#define SC_BLOCK_DATA 0x08
#define SC_ENUM 0x10

enum jser_hkind {
	H_CLASSDESC = 1, H_STRING, H_OBJECT, H_ARRAY, H_ENUM, H_CLASS
};

struct jser_field {
	char type;
	const char *name;
	const char *cls;	/* object fields: type string, may be NULL */
};

struct jser_class {
	const char *name;
	uint8_t flags;
	uint8_t complete;	/* super desc read */
	uint16_t nfields;
	struct jser_field *fields;
	uint32_t super;		/* handle index + 1, 0 = none */
};

struct jser_handle {
	uint8_t kind;		/* enum jser_hkind */
	uint8_t has_long;
	const char *name;	/* class name, or string text */
	size_t name_len;	/* string length */
	struct jser_class *cls;	/* H_CLASSDESC */
	int64_t long_val;	/* H_OBJECT: first J field */
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	/* data follows, max_align_t aligned */
};

struct jser {
	const uint8_t *p;
	size_t len, pos;
	const char *what;
	struct ckpt_error *err;
	ckpt_jser_event_fn cb;
	void *arg;
	unsigned max_depth;
	size_t max_handles;
	struct jser_handle *h;
	size_t nh, caph;
	struct arena_chunk *arena;
	size_t arena_total, arena_max;
	int arena_full;		/* arena_max reached */
	struct ckpt_jser_frame *frames;
	unsigned depth;		/* frames in use */
	unsigned nest;		/* recursion depth */
	uint64_t budget;
	int stop;		/* callback asked to stop */
};

static int
jfail(struct jser *j, size_t off, const char *why)
{
	return ckpt_error_set(j->err, CKPT_E_FORMAT,
		"cannot decode '%s': java serialization at offset %zu: %s",
		j->what, off, why);
}

static int
jfailu(struct jser *j, size_t off, const char *why, const char *name)
{
	return ckpt_error_set(j->err, CKPT_E_UNSUPPORTED,
		"cannot decode '%s': java serialization at offset %zu: %s '%s'",
		j->what, off, why, name ? name : "?");
}

/* Allocation failed: the system's fault, or a graph too big for its bytes. */
static int
jnomem(struct jser *j)
{
	if (j->arena_full)
		return jfail(j, j->pos, "object graph too large for the stream's size");
	return ckpt_error_set(j->err, CKPT_E_NOMEM,
		"cannot decode '%s': out of memory", j->what);
}

/* ---- arena ---- */

static void *
arena_alloc(struct jser *j, size_t n)
{
	struct arena_chunk *c = j->arena;
	size_t hdr = (sizeof(*c) + 15) & ~(size_t)15, cap;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->cap - c->used < n) {
		cap = n > JSER_ARENA_CHUNK ? n : JSER_ARENA_CHUNK;
		if (j->arena_total + cap > j->arena_max) {
			j->arena_full = 1;
			return NULL;
		}
		c = malloc(hdr + cap);
		if (c == NULL)
			return NULL;
		c->next = j->arena;
		c->used = 0;
		c->cap = cap;
		j->arena = c;
		j->arena_total += cap;
	}
	p = (char *)c + hdr + c->used;
	c->used += n;
	return p;
}

static void
arena_free(struct jser *j)
{
	struct arena_chunk *c = j->arena, *n;

	while (c != NULL) {
		n = c->next;
		free(c);
		c = n;
	}
	j->arena = NULL;
}

/* ---- primitive reads ---- */

static int
need(struct jser *j, size_t n, const char *what)
{
	char why[96];

	if (j->len - j->pos >= n)
		return CKPT_OK;
	snprintf(why, sizeof(why), "truncated %s (%zu bytes needed, %zu left)",
		what, n, j->len - j->pos);
	return jfail(j, j->pos, why);
}

static uint64_t
be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
rd(struct jser *j, unsigned n, uint64_t *v, const char *what)
{
	int rc = need(j, n, what);

	if (rc != CKPT_OK)
		return rc;
	*v = be(j->p + j->pos, n);
	j->pos += n;
	return CKPT_OK;
}

static int
spend(struct jser *j, uint64_t n)
{
	if (j->budget < n)
		return jfail(j, j->pos, "work budget exceeded (object graph too complex for its size)");
	j->budget -= n;
	return CKPT_OK;
}

/*
 * Converts n bytes of Java modified UTF-8 at src into NUL-terminated
 * UTF-8 in the arena (C0 80 becomes NUL, surrogate pairs become 4-byte
 * sequences, a lone surrogate becomes U+FFFD so the text stays valid
 * UTF-8).  The result is never longer than the input.
 */
static int
mutf8(struct jser *j, const uint8_t *src, size_t n, const char **out,
	size_t *outlen)
{
	char *dst = arena_alloc(j, n + 1);
	size_t i = 0, o = 0;
	uint32_t u, u2;

	if (dst == NULL)
		return jnomem(j);
	while (i < n) {
		uint8_t b = src[i];

		if (b < 0x80) {
			dst[o++] = (char)b;
			i++;
			continue;
		}
		if ((b & 0xE0) == 0xC0) {
			if (i + 1 >= n || (src[i + 1] & 0xC0) != 0x80)
				goto bad;
			u = ((uint32_t)(b & 0x1F) << 6) | (src[i + 1] & 0x3F);
			i += 2;
		} else if ((b & 0xF0) == 0xE0) {
			if (i + 2 >= n || (src[i + 1] & 0xC0) != 0x80 ||
			    (src[i + 2] & 0xC0) != 0x80)
				goto bad;
			u = ((uint32_t)(b & 0x0F) << 12) |
			    ((uint32_t)(src[i + 1] & 0x3F) << 6) |
			    (src[i + 2] & 0x3F);
			i += 3;
		} else {
			goto bad;
		}
		if (u >= 0xD800 && u <= 0xDBFF && i + 2 < n &&
		    src[i] == 0xED && (src[i + 1] & 0xF0) == 0xB0 &&
		    (src[i + 2] & 0xC0) == 0x80) {
			u2 = 0xD000 | ((uint32_t)(src[i + 1] & 0x3F) << 6) |
			    (src[i + 2] & 0x3F);
			u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
			i += 3;
			dst[o++] = (char)(0xF0 | (u >> 18));
			dst[o++] = (char)(0x80 | ((u >> 12) & 0x3F));
			dst[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
			dst[o++] = (char)(0x80 | (u & 0x3F));
		} else if (u >= 0xD800 && u <= 0xDFFF) {
			dst[o++] = (char)0xEF;
			dst[o++] = (char)0xBF;
			dst[o++] = (char)0xBD;
		} else if (u < 0x80) {
			dst[o++] = (char)u;
		} else if (u < 0x800) {
			dst[o++] = (char)(0xC0 | (u >> 6));
			dst[o++] = (char)(0x80 | (u & 0x3F));
		} else {
			dst[o++] = (char)(0xE0 | (u >> 12));
			dst[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
			dst[o++] = (char)(0x80 | (u & 0x3F));
		}
	}
	dst[o] = '\0';
	*out = dst;
	*outlen = o;
	return CKPT_OK;
bad:
	return jfail(j, j->pos - n + i, "malformed modified UTF-8");
}

/* Reads a u16-length (or, if lng, i64-length) modified UTF-8 string. */
static int
read_utf(struct jser *j, int lng, const char **out, size_t *outlen)
{
	uint64_t n;
	size_t start;
	int rc;

	rc = rd(j, lng ? 8 : 2, &n, "string length");
	if (rc != CKPT_OK)
		return rc;
	if (n > j->len - j->pos)
		return need(j, n > SIZE_MAX ? SIZE_MAX : (size_t)n, "string");
	start = j->pos;
	j->pos += (size_t)n;
	return mutf8(j, j->p + start, (size_t)n, out, outlen);
}

/* ---- handles ---- */

static int
new_handle(struct jser *j, int kind, size_t *idx)
{
	struct jser_handle *nh;
	size_t cap;

	if (j->nh >= j->max_handles)
		return jfail(j, j->pos, "too many handles");
	if (j->nh == j->caph) {
		cap = j->caph ? j->caph * 2 : 256;
		nh = realloc(j->h, cap * sizeof(*nh));
		if (nh == NULL)
			return jnomem(j);
		j->h = nh;
		j->caph = cap;
	}
	memset(&j->h[j->nh], 0, sizeof(j->h[0]));
	j->h[j->nh].kind = (uint8_t)kind;
	*idx = j->nh++;
	return CKPT_OK;
}

static int
read_handle(struct jser *j, size_t *idx)
{
	size_t at = j->pos;
	uint64_t v;
	int rc = rd(j, 4, &v, "handle");

	if (rc != CKPT_OK)
		return rc;
	if (v < CKPT_JSER_BASE_HANDLE || v - CKPT_JSER_BASE_HANDLE >= j->nh)
		return jfail(j, at, "reference to an unknown handle");
	*idx = (size_t)(v - CKPT_JSER_BASE_HANDLE);
	return CKPT_OK;
}

/* ---- frames and events ---- */

static int
push(struct jser *j, int kind, const char *cls, uint32_t handle,
	int64_t length)
{
	struct ckpt_jser_frame *f;

	if (j->depth >= j->max_depth)
		return jfail(j, j->pos, "nesting too deep");
	f = &j->frames[j->depth++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->class_name = cls;
	f->handle = handle;
	f->index = -1;
	f->length = length;
	return CKPT_OK;
}

static void
pop(struct jser *j)
{
	j->depth--;
}

static void
ev_init(struct jser *j, struct ckpt_jser_event *ev, int type, size_t off)
{
	const struct ckpt_jser_frame *f = &j->frames[j->depth - 1];

	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->offset = off;
	ev->depth = j->depth;
	ev->frames = j->frames;
	ev->index = -1;
	if (f->kind == CKPT_JSER_FR_OBJECT)
		ev->field = f->field;
	else if (f->kind == CKPT_JSER_FR_ARRAY)
		ev->index = f->index;
}

static int
emit(struct jser *j, const struct ckpt_jser_event *ev)
{
	int rc;

	if (j->stop)
		return CKPT_EOF;
	rc = spend(j, 1);
	if (rc != CKPT_OK || j->cb == NULL)
		return rc;
	rc = j->cb(j->arg, ev, j->err);
	if (rc == CKPT_EOF) {
		j->stop = 1;
		return CKPT_EOF;
	}
	if (rc < 0 && j->err != NULL && j->err->msg[0] == '\0')
		ckpt_error_set(j->err, CKPT_E_FORMAT,
			"cannot decode '%s': rejected at offset %llu",
			j->what, (unsigned long long)ev->offset);
	return rc < 0 ? rc : CKPT_OK;
}

static uint32_t
hval(size_t idx)
{
	return (uint32_t)(CKPT_JSER_BASE_HANDLE + idx);
}

/* ---- the grammar ---- */

static int read_value(struct jser *j);
static int read_classdesc(struct jser *j, size_t *cls, int *isnull);

static int
enter(struct jser *j)
{
	if (j->nest >= j->max_depth)
		return jfail(j, j->pos, "nesting too deep");
	j->nest++;
	return CKPT_OK;
}

/* Emits a block of raw data written by a writeObject method. */
static int
read_blockdata(struct jser *j, int lng)
{
	struct ckpt_jser_event ev;
	size_t off = j->pos - 1;
	uint64_t n;
	int rc;

	rc = rd(j, lng ? 4 : 1, &n, "block data length");
	if (rc != CKPT_OK)
		return rc;
	if (lng && n > INT32_MAX)
		return jfail(j, off, "negative block data length");
	rc = need(j, (size_t)n, "block data");
	if (rc != CKPT_OK)
		return rc;
	ev_init(j, &ev, CKPT_JSER_EV_BLOCKDATA, off);
	ev.str = (const char *)j->p + j->pos;
	ev.str_len = (size_t)n;
	j->pos += (size_t)n;
	return emit(j, &ev);
}

/*
 * Reads contents up to and including TC_ENDBLOCKDATA (class
 * annotations, writeObject extra data, block-data externals).
 */
static int
read_annotation(struct jser *j)
{
	int rc;

	rc = push(j, CKPT_JSER_FR_ANNOTATION, NULL, 0, 0);
	if (rc != CKPT_OK)
		return rc;
	for (;;) {
		rc = need(j, 1, "end of block data");
		if (rc != CKPT_OK)
			break;
		rc = spend(j, 1);
		if (rc != CKPT_OK)
			break;
		if (j->p[j->pos] == CKPT_JSER_TC_ENDBLOCKDATA) {
			j->pos++;
			break;
		}
		if (j->p[j->pos] == CKPT_JSER_TC_BLOCKDATA ||
		    j->p[j->pos] == CKPT_JSER_TC_BLOCKDATALONG) {
			j->pos++;
			rc = read_blockdata(j,
				j->p[j->pos - 1] == CKPT_JSER_TC_BLOCKDATALONG);
		} else {
			rc = read_value(j);
		}
		if (rc != CKPT_OK)
			break;
	}
	pop(j);
	return rc;
}

/* A field's type string: TC_STRING, TC_LONGSTRING, TC_REFERENCE, NULL. */
static int
read_type_string(struct jser *j, const char **out)
{
	size_t off = j->pos, idx, slen;
	uint64_t tc;
	int rc;

	rc = rd(j, 1, &tc, "field type");
	if (rc != CKPT_OK)
		return rc;
	switch (tc) {
	case CKPT_JSER_TC_NULL:
		*out = NULL;
		return CKPT_OK;
	case CKPT_JSER_TC_REFERENCE:
		rc = read_handle(j, &idx);
		if (rc != CKPT_OK)
			return rc;
		if (j->h[idx].kind != H_STRING)
			return jfail(j, off, "field type refers to a non-string");
		*out = j->h[idx].name;
		return CKPT_OK;
	case CKPT_JSER_TC_STRING:
	case CKPT_JSER_TC_LONGSTRING:
		rc = new_handle(j, H_STRING, &idx);
		if (rc != CKPT_OK)
			return rc;
		rc = read_utf(j, tc == CKPT_JSER_TC_LONGSTRING, out, &slen);
		if (rc != CKPT_OK)
			return rc;
		j->h[idx].name = *out;
		j->h[idx].name_len = slen;
		return CKPT_OK;
	default:
		return jfail(j, off, "bad field type tag");
	}
}

static int
valid_type(int t, int object)
{
	if (object)
		return t == 'L' || t == '[';
	return t == 'B' || t == 'C' || t == 'D' || t == 'F' || t == 'I' ||
	    t == 'J' || t == 'S' || t == 'Z';
}

static int
read_fields(struct jser *j, struct jser_class *c)
{
	uint64_t n, t;
	size_t len;
	int rc;

	rc = rd(j, 2, &n, "field count");
	if (rc != CKPT_OK)
		return rc;
	/* each field takes at least 3 bytes: do not allocate for more */
	if (n * 3 > j->len - j->pos)
		return need(j, (size_t)n * 3, "field descriptors");
	c->nfields = (uint16_t)n;
	if (n == 0)
		return CKPT_OK;
	c->fields = arena_alloc(j, (size_t)n * sizeof(*c->fields));
	if (c->fields == NULL)
		return jnomem(j);
	for (uint64_t i = 0; i < n; i++) {
		struct jser_field *f = &c->fields[i];
		size_t off = j->pos;

		rc = rd(j, 1, &t, "field type code");
		if (rc != CKPT_OK)
			return rc;
		if (!valid_type((int)t, 0) && !valid_type((int)t, 1))
			return jfail(j, off, "bad field type code");
		f->type = (char)t;
		f->cls = NULL;
		rc = read_utf(j, 0, &f->name, &len);
		if (rc != CKPT_OK)
			return rc;
		if (valid_type((int)t, 1)) {
			rc = read_type_string(j, &f->cls);
			if (rc != CKPT_OK)
				return rc;
		}
	}
	return CKPT_OK;
}

/* TC_CLASSDESC body (tag consumed). */
static int
read_plain_desc(struct jser *j, size_t *out)
{
	struct jser_class *c;
	const char *name;
	size_t idx, len, sup;
	uint64_t v;
	int rc, isnull;

	rc = read_utf(j, 0, &name, &len);
	if (rc != CKPT_OK)
		return rc;
	rc = rd(j, 8, &v, "serialVersionUID");
	if (rc != CKPT_OK)
		return rc;
	rc = new_handle(j, H_CLASSDESC, &idx);
	if (rc != CKPT_OK)
		return rc;
	c = arena_alloc(j, sizeof(*c));
	if (c == NULL)
		return jnomem(j);
	memset(c, 0, sizeof(*c));
	c->name = name;
	j->h[idx].cls = c;
	j->h[idx].name = name;
	rc = rd(j, 1, &v, "class flags");
	if (rc != CKPT_OK)
		return rc;
	c->flags = (uint8_t)v;
	if ((c->flags & SC_SERIALIZABLE) && (c->flags & SC_EXTERNALIZABLE))
		return jfail(j, j->pos - 1, "class both serializable and externalizable");
	rc = read_fields(j, c);
	if (rc != CKPT_OK)
		return rc;
	rc = read_annotation(j);
	if (rc != CKPT_OK)
		return rc;
	rc = read_classdesc(j, &sup, &isnull);
	if (rc != CKPT_OK)
		return rc;
	c->super = isnull ? 0 : (uint32_t)(sup + 1);
	c->complete = 1;
	*out = idx;
	return CKPT_OK;
}

/* TC_PROXYCLASSDESC body (tag consumed). */
static int
read_proxy_desc(struct jser *j, size_t *out)
{
	struct jser_class *c;
	const char *name;
	size_t idx, len, sup;
	uint64_t n;
	int rc, isnull;

	rc = new_handle(j, H_CLASSDESC, &idx);
	if (rc != CKPT_OK)
		return rc;
	c = arena_alloc(j, sizeof(*c));
	if (c == NULL)
		return jnomem(j);
	memset(c, 0, sizeof(*c));
	c->name = "<proxy>";
	c->flags = SC_SERIALIZABLE;
	j->h[idx].cls = c;
	j->h[idx].name = c->name;
	rc = rd(j, 4, &n, "proxy interface count");
	if (rc != CKPT_OK)
		return rc;
	if (n > j->len - j->pos)
		return need(j, (size_t)-1, "proxy interfaces");
	for (uint64_t i = 0; i < n; i++) {
		rc = read_utf(j, 0, &name, &len);
		if (rc != CKPT_OK)
			return rc;
		if (i == 0)
			c->name = name;
	}
	j->h[idx].name = c->name;
	rc = read_annotation(j);
	if (rc != CKPT_OK)
		return rc;
	rc = read_classdesc(j, &sup, &isnull);
	if (rc != CKPT_OK)
		return rc;
	c->super = isnull ? 0 : (uint32_t)(sup + 1);
	c->complete = 1;
	*out = idx;
	return CKPT_OK;
}

/*
 * A classDesc position: TC_CLASSDESC, TC_PROXYCLASSDESC, TC_NULL or a
 * reference to a class descriptor.  *isnull is set for TC_NULL.
 */
static int
read_classdesc(struct jser *j, size_t *out, int *isnull)
{
	size_t off = j->pos, idx = 0;
	uint64_t tc;
	int rc;

	*isnull = 0;
	rc = enter(j);
	if (rc != CKPT_OK)
		return rc;
	rc = rd(j, 1, &tc, "class descriptor");
	if (rc != CKPT_OK)
		goto out;
	switch (tc) {
	case CKPT_JSER_TC_NULL:
		*isnull = 1;
		break;
	case CKPT_JSER_TC_REFERENCE:
		rc = read_handle(j, &idx);
		if (rc == CKPT_OK && j->h[idx].kind != H_CLASSDESC)
			rc = jfail(j, off, "class descriptor reference to a non-class");
		break;
	case CKPT_JSER_TC_CLASSDESC:
		rc = read_plain_desc(j, &idx);
		break;
	case CKPT_JSER_TC_PROXYCLASSDESC:
		rc = read_proxy_desc(j, &idx);
		break;
	default:
		rc = jfail(j, off, "bad class descriptor tag");
		break;
	}
	if (out != NULL)
		*out = idx;
out:
	j->nest--;
	return rc;
}

/* A classDesc that must not be null (objects, arrays, enums). */
static int
read_classdesc_nn(struct jser *j, size_t *out)
{
	size_t off = j->pos;
	int rc, isnull;

	rc = read_classdesc(j, out, &isnull);
	if (rc == CKPT_OK && isnull)
		rc = jfail(j, off, "null class descriptor");
	if (rc == CKPT_OK && !j->h[*out].cls->complete)
		rc = jfail(j, off, "class descriptor used before it is complete");
	return rc;
}

static int
read_prim(struct jser *j, char t, struct ckpt_jser_event *ev)
{
	static const char types[] = "BCDFIJSZ";
	static const unsigned sizes[] = { 1, 2, 8, 4, 4, 8, 2, 1 };
	unsigned sz = sizes[strchr(types, t) - types];
	uint64_t v;
	int rc;
	union { uint64_t u; double d; } u64;
	union { uint32_t u; float f; } u32;

	rc = rd(j, sz, &v, "primitive value");
	if (rc != CKPT_OK)
		return rc;
	ev->prim = t;
	switch (t) {
	case 'B':
		ev->i = (int8_t)v;
		break;
	case 'S':
		ev->i = (int16_t)v;
		break;
	case 'I':
		ev->i = (int32_t)(uint32_t)v;
		break;
	case 'J':
		ev->i = (int64_t)v;
		break;
	case 'D':
		u64.u = v;
		ev->d = u64.d;
		ev->i = (int64_t)v;
		break;
	case 'F':
		u32.u = (uint32_t)v;
		ev->d = u32.f;
		ev->i = (int64_t)v;
		break;
	default:	/* C, Z */
		ev->i = (int64_t)v;
		break;
	}
	return CKPT_OK;
}

/* Field values of one class level of an object. */
static int
read_class_fields(struct jser *j, const struct jser_class *c, size_t hidx)
{
	struct ckpt_jser_frame *f = &j->frames[j->depth - 1];
	struct ckpt_jser_event ev;
	int rc;

	for (unsigned i = 0; i < c->nfields; i++) {
		const struct jser_field *fd = &c->fields[i];

		f->field = fd->name;
		f->field_class = c->name;
		if (fd->type == 'L' || fd->type == '[') {
			rc = read_value(j);
		} else {
			ev_init(j, &ev, CKPT_JSER_EV_PRIM, j->pos);
			rc = read_prim(j, fd->type, &ev);
			if (rc == CKPT_OK && fd->type == 'J' &&
			    !j->h[hidx].has_long) {
				j->h[hidx].has_long = 1;
				j->h[hidx].long_val = ev.i;
			}
			if (rc == CKPT_OK)
				rc = emit(j, &ev);
		}
		if (rc != CKPT_OK)
			return rc;
	}
	f->field = NULL;
	f->field_class = c->name;
	return CKPT_OK;
}

/* TC_OBJECT body (tag at off consumed). */
static int
read_object(struct jser *j, size_t off)
{
	const struct jser_class *chain[CKPT_JSER_MAX_HIERARCHY];
	const struct jser_class *c;
	struct ckpt_jser_event ev;
	size_t cidx, hidx;
	unsigned n = 0;
	int rc;

	rc = read_classdesc_nn(j, &cidx);
	if (rc != CKPT_OK)
		return rc;
	c = j->h[cidx].cls;
	rc = new_handle(j, H_OBJECT, &hidx);
	if (rc != CKPT_OK)
		return rc;
	j->h[hidx].name = c->name;
	ev_init(j, &ev, CKPT_JSER_EV_OBJECT, off);
	ev.class_name = c->name;
	ev.handle = hval(hidx);
	rc = emit(j, &ev);
	if (rc != CKPT_OK)
		return rc;
	for (const struct jser_class *k = c; k != NULL;
	    k = k->super ? j->h[k->super - 1].cls : NULL) {
		if (n == CKPT_JSER_MAX_HIERARCHY)
			return jfail(j, off, "class hierarchy too deep (or cyclic)");
		if (!k->complete)
			return jfail(j, off, "superclass descriptor used before it is complete");
		chain[n++] = k;
	}
	rc = spend(j, n);
	if (rc != CKPT_OK)
		return rc;
	rc = push(j, CKPT_JSER_FR_OBJECT, c->name, hval(hidx), 0);
	if (rc != CKPT_OK)
		return rc;
	if (c->flags & SC_EXTERNALIZABLE) {
		if (!(c->flags & SC_BLOCK_DATA))
			rc = jfailu(j, off, "externalizable class without block data (protocol 1)", c->name);
		else
			rc = read_annotation(j);
		goto out;
	}
	/* class data goes from the top superclass down */
	while (n > 0 && rc == CKPT_OK) {
		c = chain[--n];
		j->frames[j->depth - 1].field_class = c->name;
		if (!(c->flags & SC_SERIALIZABLE))
			continue;
		rc = read_class_fields(j, c, hidx);
		if (rc == CKPT_OK && (c->flags & SC_WRITE_METHOD))
			rc = read_annotation(j);
	}
out:
	pop(j);
	if (rc != CKPT_OK)
		return rc;
	ev_init(j, &ev, CKPT_JSER_EV_OBJECT_END, j->pos);
	ev.class_name = j->h[cidx].cls->name;
	ev.handle = hval(hidx);
	return emit(j, &ev);
}

/* TC_ARRAY body (tag at off consumed). */
static int
read_array(struct jser *j, size_t off)
{
	static const char types[] = "BCDFIJSZ";
	static const unsigned sizes[] = { 1, 2, 8, 4, 4, 8, 2, 1 };
	struct ckpt_jser_event ev;
	const char *cls;
	size_t cidx, hidx;
	uint64_t n;
	char et;
	int rc;

	rc = read_classdesc_nn(j, &cidx);
	if (rc != CKPT_OK)
		return rc;
	cls = j->h[cidx].cls->name;
	if (cls[0] != '[' || cls[1] == '\0' ||
	    (!valid_type(cls[1], 0) && !valid_type(cls[1], 1)))
		return jfail(j, off, "array class name is no array type");
	et = cls[1];
	rc = rd(j, 4, &n, "array length");
	if (rc != CKPT_OK)
		return rc;
	if (n > INT32_MAX)
		return jfail(j, off, "negative array length");
	if (valid_type(et, 1)) {
		if (n > j->len - j->pos)
			return need(j, (size_t)n, "array elements");
	} else {
		unsigned sz = sizes[strchr(types, et) - types];

		if (n * sz > j->len - j->pos)
			return need(j, (size_t)(n * sz), "array elements");
	}
	rc = new_handle(j, H_ARRAY, &hidx);
	if (rc != CKPT_OK)
		return rc;
	j->h[hidx].name = cls;
	ev_init(j, &ev, CKPT_JSER_EV_ARRAY, off);
	ev.class_name = cls;
	ev.handle = hval(hidx);
	ev.length = (int64_t)n;
	rc = emit(j, &ev);
	if (rc != CKPT_OK)
		return rc;
	rc = push(j, CKPT_JSER_FR_ARRAY, cls, hval(hidx), (int64_t)n);
	if (rc != CKPT_OK)
		return rc;
	if (et == 'B') {
		j->frames[j->depth - 1].index = 0;
		ev_init(j, &ev, CKPT_JSER_EV_BYTES, j->pos);
		ev.str = (const char *)j->p + j->pos;
		ev.str_len = (size_t)n;
		j->pos += (size_t)n;
		rc = emit(j, &ev);
	}
	for (uint64_t i = 0; et != 'B' && i < n && rc == CKPT_OK; i++) {
		j->frames[j->depth - 1].index = (int64_t)i;
		if (valid_type(et, 1)) {
			rc = read_value(j);
		} else {
			ev_init(j, &ev, CKPT_JSER_EV_PRIM, j->pos);
			rc = read_prim(j, et, &ev);
			if (rc == CKPT_OK)
				rc = emit(j, &ev);
		}
	}
	pop(j);
	if (rc != CKPT_OK)
		return rc;
	ev_init(j, &ev, CKPT_JSER_EV_ARRAY_END, j->pos);
	ev.class_name = cls;
	ev.handle = hval(hidx);
	ev.length = (int64_t)n;
	return emit(j, &ev);
}

static int
read_string(struct jser *j, size_t off, int lng)
{
	struct ckpt_jser_event ev;
	size_t idx;
	int rc;

	rc = new_handle(j, H_STRING, &idx);
	if (rc != CKPT_OK)
		return rc;
	rc = read_utf(j, lng, &j->h[idx].name, &j->h[idx].name_len);
	if (rc != CKPT_OK)
		return rc;
	ev_init(j, &ev, CKPT_JSER_EV_STRING, off);
	ev.handle = hval(idx);
	ev.str = j->h[idx].name;
	ev.str_len = j->h[idx].name_len;
	return emit(j, &ev);
}

static int
read_reference(struct jser *j, size_t off)
{
	struct ckpt_jser_event ev;
	const struct jser_handle *h;
	size_t idx;
	int rc;

	rc = read_handle(j, &idx);
	if (rc != CKPT_OK)
		return rc;
	h = &j->h[idx];
	if (h->kind == H_STRING) {
		ev_init(j, &ev, CKPT_JSER_EV_STRING, off);
		ev.str = h->name;
		ev.str_len = h->name_len;
	} else {
		ev_init(j, &ev, CKPT_JSER_EV_REF, off);
		ev.class_name = h->name;
		ev.has_long = h->has_long;
		ev.ref_long = h->long_val;
	}
	ev.handle = hval(idx);
	return emit(j, &ev);
}

static int
read_enum(struct jser *j, size_t off)
{
	struct ckpt_jser_event ev;
	size_t cidx, hidx, sidx, slen;
	const char *name;
	uint64_t tc;
	int rc;

	rc = read_classdesc_nn(j, &cidx);
	if (rc != CKPT_OK)
		return rc;
	rc = new_handle(j, H_ENUM, &hidx);
	if (rc != CKPT_OK)
		return rc;
	j->h[hidx].name = j->h[cidx].cls->name;
	rc = rd(j, 1, &tc, "enum constant name");
	if (rc != CKPT_OK)
		return rc;
	if (tc == CKPT_JSER_TC_REFERENCE) {
		rc = read_handle(j, &sidx);
		if (rc != CKPT_OK)
			return rc;
		if (j->h[sidx].kind != H_STRING)
			return jfail(j, off, "enum constant name is no string");
		name = j->h[sidx].name;
		slen = j->h[sidx].name_len;
	} else if (tc == CKPT_JSER_TC_STRING ||
	    tc == CKPT_JSER_TC_LONGSTRING) {
		rc = new_handle(j, H_STRING, &sidx);
		if (rc != CKPT_OK)
			return rc;
		rc = read_utf(j, tc == CKPT_JSER_TC_LONGSTRING, &name, &slen);
		if (rc != CKPT_OK)
			return rc;
		j->h[sidx].name = name;
		j->h[sidx].name_len = slen;
	} else {
		return jfail(j, off, "enum constant name is no string");
	}
	ev_init(j, &ev, CKPT_JSER_EV_ENUM, off);
	ev.class_name = j->h[cidx].cls->name;
	ev.handle = hval(hidx);
	ev.str = name;
	ev.str_len = slen;
	return emit(j, &ev);
}

/*
 * One value in an object position: object, array, string, enum, class,
 * class descriptor, reference or null.
 */
static int
read_value(struct jser *j)
{
	struct ckpt_jser_event ev;
	size_t off = j->pos, idx, cidx;
	uint64_t tc;
	int rc, isnull;

	rc = enter(j);
	if (rc != CKPT_OK)
		return rc;
	rc = rd(j, 1, &tc, "value tag");
	if (rc != CKPT_OK)
		goto out;
	switch (tc) {
	case CKPT_JSER_TC_NULL:
		ev_init(j, &ev, CKPT_JSER_EV_NULL, off);
		rc = emit(j, &ev);
		break;
	case CKPT_JSER_TC_REFERENCE:
		rc = read_reference(j, off);
		break;
	case CKPT_JSER_TC_OBJECT:
		rc = read_object(j, off);
		break;
	case CKPT_JSER_TC_ARRAY:
		rc = read_array(j, off);
		break;
	case CKPT_JSER_TC_STRING:
	case CKPT_JSER_TC_LONGSTRING:
		rc = read_string(j, off, tc == CKPT_JSER_TC_LONGSTRING);
		break;
	case CKPT_JSER_TC_ENUM:
		rc = read_enum(j, off);
		break;
	case CKPT_JSER_TC_CLASS:
		rc = read_classdesc_nn(j, &cidx);
		if (rc != CKPT_OK)
			break;
		rc = new_handle(j, H_CLASS, &idx);
		if (rc != CKPT_OK)
			break;
		j->h[idx].name = j->h[cidx].name;
		ev_init(j, &ev, CKPT_JSER_EV_CLASS, off);
		ev.handle = hval(idx);
		ev.class_name = j->h[idx].name;
		rc = emit(j, &ev);
		break;
	case CKPT_JSER_TC_CLASSDESC:
	case CKPT_JSER_TC_PROXYCLASSDESC:
		j->pos = off;
		rc = read_classdesc(j, &idx, &isnull);
		break;
	case CKPT_JSER_TC_EXCEPTION:
		rc = jfail(j, off, "stream records an exception thrown while writing");
		break;
	case CKPT_JSER_TC_RESET:
		rc = jfail(j, off, "unexpected reset inside an object");
		break;
	case CKPT_JSER_TC_ENDBLOCKDATA:
		rc = jfail(j, off, "unexpected end of block data");
		break;
	case CKPT_JSER_TC_BLOCKDATA:
	case CKPT_JSER_TC_BLOCKDATALONG:
		rc = jfail(j, off, "unexpected block data in a field");
		break;
	default:
		rc = jfail(j, off, "bad tag");
		break;
	}
out:
	j->nest--;
	return rc;
}

int
ckpt_jser_is_stream(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	return len >= 4 && p[0] == 0xAC && p[1] == 0xED && p[2] == 0x00 &&
	    p[3] == 0x05;
}

int
ckpt_jser_walk(const void *buf, size_t len,
	const struct ckpt_jser_limits *lim, const char *what,
	ckpt_jser_event_fn cb, void *arg, size_t *consumed,
	struct ckpt_error *err)
{
	struct ckpt_jser_event ev;
	struct jser j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.p = buf;
	j.len = len;
	j.what = what ? what : "java serialization stream";
	j.err = err;
	j.cb = cb;
	j.arg = arg;
	j.max_depth = lim && lim->max_depth ? lim->max_depth :
	    JSER_DEFAULT_DEPTH;
	j.max_handles = lim && lim->max_handles ? lim->max_handles :
	    JSER_DEFAULT_HANDLES;
	if (len > (lim && lim->max_bytes ? lim->max_bytes : JSER_DEFAULT_BYTES))
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot decode '%s': java serialization stream too large (%zu bytes)",
			j.what, len);
	if (!ckpt_jser_is_stream(buf, len))
		return jfail(&j, 0, "no stream header (AC ED 00 05)");
	j.pos = 4;
	j.budget = (uint64_t)len * 64 + 65536;
	/*
	 * Strings, field tables and class structs take a few times the
	 * bytes that describe them; only degenerate graphs (thousands of
	 * unnamed fields) need more, and those fail as corrupt.
	 */
	j.arena_max = len * 8 + 2 * JSER_ARENA_CHUNK;
	j.frames = calloc((size_t)j.max_depth + 1, sizeof(*j.frames));
	if (j.frames == NULL)
		return jnomem(&j);
	j.depth = 1;
	j.frames[0].kind = CKPT_JSER_FR_TOP;
	j.frames[0].index = -1;
	rc = CKPT_OK;
	while (rc == CKPT_OK && j.pos < j.len) {
		uint8_t tc = j.p[j.pos];

		if (tc == CKPT_JSER_TC_RESET) {
			ev_init(&j, &ev, CKPT_JSER_EV_RESET, j.pos);
			j.pos++;
			j.nh = 0;
			rc = emit(&j, &ev);
		} else if (tc == CKPT_JSER_TC_BLOCKDATA ||
		    tc == CKPT_JSER_TC_BLOCKDATALONG) {
			j.pos++;
			rc = read_blockdata(&j,
				tc == CKPT_JSER_TC_BLOCKDATALONG);
		} else {
			rc = read_value(&j);
		}
	}
	if (rc == CKPT_EOF)
		rc = CKPT_OK;
	if (consumed != NULL)
		*consumed = j.pos;
	free(j.frames);
	free(j.h);
	arena_free(&j);
	return rc;
}

/* ---- top class ---- */

struct top_class_arg {
	char *out;
	size_t outlen;
};

static int
top_class_cb(void *arg, const struct ckpt_jser_event *ev,
	struct ckpt_error *err)
{
	struct top_class_arg *a = arg;

	if (ev->depth == 1 && ev->type == CKPT_JSER_EV_OBJECT)
		snprintf(a->out, a->outlen, "%s", ev->class_name);
	return ev->depth == 1 ? CKPT_EOF : CKPT_OK;
}

int
ckpt_jser_top_class(const void *buf, size_t len, char *out, size_t outlen,
	struct ckpt_error *err)
{
	struct top_class_arg a = { out, outlen };

	if (outlen > 0)
		out[0] = '\0';
	return ckpt_jser_walk(buf, len, NULL, NULL, top_class_cb, &a, NULL,
		err);
}
