/*
 * codec_unsaferow.c - Spark UnsafeRow bytes to JSON.
 *
 * Walks an UnsafeRow through its schema (docs/spark-checkpoint-format.md
 * section 3): null bitset, 8-byte slots, a variable-length region
 * addressed by (offset << 32 | size) words, nested rows, UnsafeArrayData
 * and UnsafeMapData.  All values are little-endian.  Every offset and
 * size is checked against the enclosing row before use, so a corrupt row
 * yields CKPT_E_FORMAT, never a read outside the buffer.
 *
 * Output: a struct is a JSON object (a repeated field name gets "#k",
 * k its position, section 10 item 12), an array a JSON array, a map an
 * array of [key, value] pairs; dates "YYYY-MM-DD", timestamps
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", binary a hex string, decimals exact
 * numbers, floats the shortest text that reads back to the same float
 * (section 10 item 16); NaN and infinities as strings.
 *
 * It does not know where rows come from; the format driver strips the
 * pre-2.3 junk bytes and 4.1 row checksums before calling in.
 */
#include "spark_codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* ---- buffer helpers ---- */

int
spark_buf_put(struct ckpt_buf *b, const void *p, size_t n)
{
	size_t cap;
	uint8_t *nd;

	if (!b)
		return 0;	/* check-only mode: nothing is kept */
	if (b->cap - b->len < n + 1) {
		cap = b->cap ? b->cap : 64;
		while (cap - b->len < n + 1) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		nd = realloc(b->data, cap);
		if (!nd)
			return -1;
		b->data = nd;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int
spark_buf_puts(struct ckpt_buf *b, const char *s)
{
	return spark_buf_put(b, s, strlen(s));
}

int
spark_buf_cstr(struct ckpt_buf *b)
{
	return spark_buf_put(b, "", 0);
}

static int
nomem(struct ckpt_error *err)
{
	return ckpt_error_set(err, CKPT_E_NOMEM,
		"cannot decode row: out of memory");
}

static int
rowbad(struct ckpt_error *err, const char *what, size_t off)
{
	return ckpt_error_set(err, CKPT_E_FORMAT,
		"cannot decode row: %s at row offset %zu", what, off);
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0) {
		need = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		need = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

int
spark_json_str(struct ckpt_buf *b, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	char esc[8];
	size_t i = 0, k;

	if (!b)
		return 0;
	if (spark_buf_put(b, "\"", 1) != 0)
		return -1;
	while (i < n) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (spark_buf_put(b, esc, 2) != 0)
				return -1;
			i++;
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			if (spark_buf_put(b, esc, 6) != 0)
				return -1;
			i++;
		} else {
			k = utf8_len(s + i, n - i);
			if (k == 0) {
				if (spark_buf_puts(b, "\\ufffd") != 0)
					return -1;
				i++;
			} else {
				if (spark_buf_put(b, s + i, k) != 0)
					return -1;
				i += k;
			}
		}
	}
	return spark_buf_put(b, "\"", 1);
}

static int
put_hex(struct ckpt_buf *b, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char two[2];
	size_t i;

	for (i = 0; b && i < n; i++) {
		two[0] = hx[p[i] >> 4];
		two[1] = hx[p[i] & 15];
		if (spark_buf_put(b, two, 2) != 0)
			return -1;
	}
	return 0;
}

int
spark_hex_json(const uint8_t *p, size_t len, struct ckpt_buf *b)
{
	if (spark_buf_puts(b, "{\"hex\":\"") != 0 || put_hex(b, p, len) != 0)
		return -1;
	return spark_buf_puts(b, "\"}");
}

/* ---- scalars ---- */

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static void
make_floaty(char *out, size_t n)
{
	if (!strpbrk(out, ".eEn") && strlen(out) + 3 <= n)
		strcat(out, ".0");
}

void
spark_fmt_float(float f, char *out, size_t n)
{
	int prec, lo, hi;

	if (isnan(f) || isinf(f)) {
		snprintf(out, n, "%s", isnan(f) ? "NaN" :
			f > 0 ? "Infinity" : "-Infinity");
		return;
	}
	/* round-tripping is monotonic in the precision: bisect 1..9 */
	lo = 1;
	hi = 9;
	while (lo < hi) {
		prec = (lo + hi) / 2;
		snprintf(out, n, "%.*g", prec, (double)f);
		if (strtof(out, NULL) == f)
			hi = prec;
		else
			lo = prec + 1;
	}
	snprintf(out, n, "%.*g", lo, (double)f);
	make_floaty(out, n);
}

void
spark_fmt_double(double d, char *out, size_t n)
{
	int prec, lo, hi;

	if (isnan(d) || isinf(d)) {
		snprintf(out, n, "%s", isnan(d) ? "NaN" :
			d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	lo = 1;
	hi = 17;
	while (lo < hi) {
		prec = (lo + hi) / 2;
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			hi = prec;
		else
			lo = prec + 1;
	}
	snprintf(out, n, "%.*g", lo, d);
	make_floaty(out, n);
}

static int
put_number_or_string(struct ckpt_buf *b, const char *s)
{
	char q[40];

	if (s[0] == 'N' || s[0] == 'I' || (s[0] == '-' && s[1] == 'I')) {
		snprintf(q, sizeof(q), "\"%s\"", s);
		return spark_buf_puts(b, q);
	}
	return spark_buf_puts(b, s);
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void
civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
put_date(struct ckpt_buf *b, int64_t days)
{
	char s[48];
	int64_t y;
	unsigned m, d;

	civil(days, &y, &m, &d);
	snprintf(s, sizeof(s), "\"%04lld-%02u-%02u\"", (long long)y, m, d);
	return spark_buf_puts(b, s);
}

static int
put_timestamp(struct ckpt_buf *b, int64_t us)
{
	char s[80];
	int64_t secs, days, rem, frac;
	int64_t y;
	unsigned m, d;

	secs = us / 1000000;
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil(days, &y, &m, &d);
	if (frac)
		snprintf(s, sizeof(s),
			"\"%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ\"",
			(long long)y, m, d, (int)(rem / 3600),
			(int)(rem / 60 % 60), (int)(rem % 60),
			(long long)frac);
	else
		snprintf(s, sizeof(s), "\"%04lld-%02u-%02uT%02d:%02d:%02dZ\"",
			(long long)y, m, d, (int)(rem / 3600),
			(int)(rem / 60 % 60), (int)(rem % 60));
	return spark_buf_puts(b, s);
}

static int
put_decimal(struct ckpt_buf *b, i128 v, int scale)
{
	char digits[48], out[56];
	u128 u;
	int n = 0, neg = v < 0, i, o = 0;

	u = neg ? (u128)0 - (u128)v : (u128)v;
	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u && n < 45);
	while (n <= scale)
		digits[n++] = '0';
	if (neg)
		out[o++] = '-';
	for (i = n - 1; i >= 0; i--) {
		out[o++] = digits[i];
		if (i == scale && scale > 0)
			out[o++] = '.';
	}
	out[o] = 0;
	return spark_buf_puts(b, out);
}

/* ---- rows, arrays, maps ---- */

struct ctx {
	struct ckpt_buf *b;
	struct ckpt_error *err;
};

static int value_json(struct ctx *c, const struct spark_type *t,
	const uint8_t *base, size_t blen, const uint8_t *slot, size_t width);
static int row_json(struct ctx *c, const struct spark_type *t,
	const uint8_t *p, size_t len);

/* Resolves an (offset << 32 | size) word inside [base, base + blen). */
static int
var_ref(struct ctx *c, const uint8_t *base, size_t blen, const uint8_t *slot,
	const uint8_t **p, size_t *n)
{
	uint64_t w = rd64(slot);
	uint64_t off = w >> 32, size = w & 0xFFFFFFFFu;

	if (off > blen || size > blen - off)
		return rowbad(c->err, "variable-length field out of bounds",
			(size_t)(slot - base));
	*p = base + off;
	*n = (size_t)size;
	return CKPT_OK;
}

static int
elem_width(const struct spark_type *t)
{
	switch (t->kind) {
	case SPARK_T_BOOLEAN:
	case SPARK_T_BYTE:
		return 1;
	case SPARK_T_SHORT:
		return 2;
	case SPARK_T_INT:
	case SPARK_T_FLOAT:
	case SPARK_T_DATE:
		return 4;
	default:
		return 8;
	}
}

static int
array_json(struct ctx *c, const struct spark_type *et, const uint8_t *p,
	size_t len)
{
	uint64_t n, i, bitset, data;
	int w = elem_width(et);
	int rc;

	if (len < 8)
		return rowbad(c->err, "array header truncated", 0);
	n = rd64(p);
	if (n > len)
		return rowbad(c->err, "array length out of bounds", 0);
	bitset = (n + 63) / 64 * 8;
	data = (n * (uint64_t)w + 7) / 8 * 8;
	if (8 + bitset + data > len)
		return rowbad(c->err, "array elements out of bounds", 0);
	if (spark_buf_puts(c->b, "[") != 0)
		return nomem(c->err);
	for (i = 0; i < n; i++) {
		if (i && spark_buf_puts(c->b, ",") != 0)
			return nomem(c->err);
		if (p[8 + i / 8] >> (i % 8) & 1) {
			if (spark_buf_puts(c->b, "null") != 0)
				return nomem(c->err);
			continue;
		}
		rc = value_json(c, et, p, len, p + 8 + bitset + i * w,
			(size_t)w);
		if (rc != CKPT_OK)
			return rc;
	}
	return spark_buf_puts(c->b, "]") ? nomem(c->err) : CKPT_OK;
}

static int
map_json(struct ctx *c, const struct spark_type *t, const uint8_t *p,
	size_t len)
{
	struct ckpt_buf kb = { 0 }, vb = { 0 };
	uint64_t klen;
	int rc;

	if (len < 8)
		return rowbad(c->err, "map header truncated", 0);
	klen = rd64(p);
	if (klen > len - 8)
		return rowbad(c->err, "map key array out of bounds", 0);
	/* render key and value of each entry, then emit [k, v] */
	if (len - 8 - klen < 8 || klen < 8 || rd64(p + 8) != rd64(p + 8 + klen))
		return rowbad(c->err, "map key and value counts differ", 0);
	{
		struct ctx kc = { c->b ? &kb : NULL, c->err };
		struct ctx vc = { c->b ? &vb : NULL, c->err };
		uint64_t n = rd64(p + 8), i;
		const uint8_t *ka = p + 8, *va = p + 8 + klen;
		size_t kal = (size_t)klen, val = (size_t)(len - 8 - klen);
		uint64_t kbits = (n + 63) / 64 * 8, vbits = kbits;
		int kw = elem_width(t->elem), vw = elem_width(t->value);

		if (n > kal || 8 + kbits + (n * (uint64_t)kw + 7) / 8 * 8 > kal
		    || 8 + vbits + (n * (uint64_t)vw + 7) / 8 * 8 > val)
			return rowbad(c->err, "map entries out of bounds", 0);
		rc = spark_buf_puts(c->b, "[") ? nomem(c->err) : CKPT_OK;
		for (i = 0; rc == CKPT_OK && i < n; i++) {
			kb.len = vb.len = 0;
			if (ka[8 + i / 8] >> (i % 8) & 1)
				rc = spark_buf_puts(&kb, "null") ?
					nomem(c->err) : CKPT_OK;
			else
				rc = value_json(&kc, t->elem, ka, kal,
					ka + 8 + kbits + i * kw, (size_t)kw);
			if (rc != CKPT_OK)
				break;
			if (va[8 + i / 8] >> (i % 8) & 1)
				rc = spark_buf_puts(&vb, "null") ?
					nomem(c->err) : CKPT_OK;
			else
				rc = value_json(&vc, t->value, va, val,
					va + 8 + vbits + i * vw, (size_t)vw);
			if (rc != CKPT_OK)
				break;
			if ((i && spark_buf_puts(c->b, ",") != 0) ||
			    spark_buf_puts(c->b, "[") != 0 ||
			    spark_buf_put(c->b, kb.data, kb.len) != 0 ||
			    spark_buf_puts(c->b, ",") != 0 ||
			    spark_buf_put(c->b, vb.data, vb.len) != 0 ||
			    spark_buf_puts(c->b, "]") != 0)
				rc = nomem(c->err);
		}
		if (rc == CKPT_OK && spark_buf_puts(c->b, "]") != 0)
			rc = nomem(c->err);
	}
	free(kb.data);
	free(vb.data);
	return rc;
}

/*
 * One value whose fixed part is at slot (width bytes) inside the
 * container [base, base + blen) that its offsets are relative to.
 */
static int
value_json(struct ctx *c, const struct spark_type *t, const uint8_t *base,
	size_t blen, const uint8_t *slot, size_t width)
{
	char s[160];
	const uint8_t *vp;
	size_t vn;
	int rc;

	if (!c->b && t->kind < SPARK_T_STRING &&
	    !(t->kind == SPARK_T_DECIMAL && t->precision > 18))
		return CKPT_OK;	/* check mode: a fixed slot is valid */
	switch (t->kind) {
	case SPARK_T_VOID:
		return spark_buf_puts(c->b, "null") ? nomem(c->err) : CKPT_OK;
	case SPARK_T_BOOLEAN:
		return spark_buf_puts(c->b, slot[0] ? "true" : "false") ?
			nomem(c->err) : CKPT_OK;
	case SPARK_T_BYTE:
		snprintf(s, sizeof(s), "%d", (int)(int8_t)slot[0]);
		break;
	case SPARK_T_SHORT:
		snprintf(s, sizeof(s), "%d",
			(int)(int16_t)(slot[0] | slot[1] << 8));
		break;
	case SPARK_T_INT:
		snprintf(s, sizeof(s), "%d", (int)(int32_t)rd32(slot));
		break;
	case SPARK_T_DATE:
		return put_date(c->b, (int32_t)rd32(slot)) ? nomem(c->err) :
			CKPT_OK;
	case SPARK_T_LONG:
		snprintf(s, sizeof(s), "%lld", (long long)(int64_t)rd64(slot));
		break;
	case SPARK_T_TIMESTAMP:
	case SPARK_T_TIMESTAMP_NTZ:
		return put_timestamp(c->b, (int64_t)rd64(slot)) ?
			nomem(c->err) : CKPT_OK;
	case SPARK_T_FLOAT: {
		uint32_t u = rd32(slot);
		float f;
		memcpy(&f, &u, sizeof(f));
		spark_fmt_float(f, s, sizeof(s));
		return put_number_or_string(c->b, s) ? nomem(c->err) : CKPT_OK;
	}
	case SPARK_T_DOUBLE: {
		uint64_t u = rd64(slot);
		double d;
		memcpy(&d, &u, sizeof(d));
		spark_fmt_double(d, s, sizeof(s));
		return put_number_or_string(c->b, s) ? nomem(c->err) : CKPT_OK;
	}
	case SPARK_T_DECIMAL:
		if (t->precision <= 18)
			return put_decimal(c->b, (int64_t)rd64(slot), t->scale)
				? nomem(c->err) : CKPT_OK;
		if (!c->b) {
			rc = var_ref(c, base, blen, slot, &vp, &vn);
			if (rc == CKPT_OK && (vn == 0 || vn > 16))
				rc = rowbad(c->err, "bad decimal size",
					(size_t)(slot - base));
			return rc;
		}
		rc = var_ref(c, base, blen, slot, &vp, &vn);
		if (rc != CKPT_OK)
			return rc;
		if (vn == 0 || vn > 16)
			return rowbad(c->err, "bad decimal size",
				(size_t)(slot - base));
		{
			u128 u = (vp[0] & 0x80) ? ~(u128)0 : 0;
			size_t i;
			for (i = 0; i < vn; i++)
				u = u << 8 | vp[i];
			return put_decimal(c->b, (i128)u, t->scale) ?
				nomem(c->err) : CKPT_OK;
		}
	case SPARK_T_STRING:
	case SPARK_T_BINARY:
		rc = var_ref(c, base, blen, slot, &vp, &vn);
		if (rc != CKPT_OK)
			return rc;
		if (t->kind == SPARK_T_STRING)
			return spark_json_str(c->b, (const char *)vp, vn) ?
				nomem(c->err) : CKPT_OK;
		if (spark_buf_puts(c->b, "\"") != 0 ||
		    put_hex(c->b, vp, vn) != 0 ||
		    spark_buf_puts(c->b, "\"") != 0)
			return nomem(c->err);
		return CKPT_OK;
	case SPARK_T_INTERVAL:
		rc = var_ref(c, base, blen, slot, &vp, &vn);
		if (rc != CKPT_OK)
			return rc;
		if (vn < 16)
			return rowbad(c->err, "interval truncated",
				(size_t)(slot - base));
		if (!c->b)
			return CKPT_OK;
		snprintf(s, sizeof(s),
			"{\"months\":%d,\"days\":%d,\"microseconds\":%lld}",
			(int)(int32_t)rd32(vp), (int)(int32_t)rd32(vp + 4),
			(long long)(int64_t)rd64(vp + 8));
		return spark_buf_puts(c->b, s) ? nomem(c->err) : CKPT_OK;
	case SPARK_T_STRUCT:
	case SPARK_T_ARRAY:
	case SPARK_T_MAP:
		if (width != 8)
			return rowbad(c->err, "bad element width", 0);
		rc = var_ref(c, base, blen, slot, &vp, &vn);
		if (rc != CKPT_OK)
			return rc;
		if (t->kind == SPARK_T_STRUCT)
			return row_json(c, t, vp, vn);
		if (t->kind == SPARK_T_ARRAY)
			return array_json(c, t->elem, vp, vn);
		return map_json(c, t, vp, vn);
	default:
		return rowbad(c->err, "unknown type", 0);
	}
	return spark_buf_puts(c->b, s) ? nomem(c->err) : CKPT_OK;
}

static int
row_json(struct ctx *c, const struct spark_type *t, const uint8_t *p,
	size_t len)
{
	uint64_t n = (uint64_t)t->nfields, bits, i, j;
	char sfx[24];
	int rc, dup;

	bits = (n + 63) / 64 * 8;
	if (len < bits + 8 * n)
		return rowbad(c->err, "row shorter than its fixed part", len);
	if (!c->b) {
		/* check mode (verify): only what can be out of bounds */
		for (i = 0; i < n; i++) {
			if (p[i / 8] >> (i % 8) & 1)
				continue;
			rc = value_json(c, t->fields[i].type, p, len,
				p + bits + 8 * i, 8);
			if (rc != CKPT_OK)
				return rc;
		}
		return CKPT_OK;
	}
	if (spark_buf_puts(c->b, "{") != 0)
		return nomem(c->err);
	for (i = 0; i < n; i++) {
		const char *name = t->fields[i].name;
		const uint8_t *slot = p + bits + 8 * i;

		dup = 0;
		for (j = 0; c->b && j < i && !dup; j++)
			dup = strcmp(t->fields[j].name, name) == 0;
		if ((i && spark_buf_puts(c->b, ",") != 0) ||
		    spark_json_str(c->b, name, strlen(name)) != 0)
			return nomem(c->err);
		if (dup) {
			/* re-open the key to add "#i" */
			c->b->len--;
			snprintf(sfx, sizeof(sfx), "#%llu\"",
				(unsigned long long)i);
			if (spark_buf_puts(c->b, sfx) != 0)
				return nomem(c->err);
		}
		if (spark_buf_puts(c->b, ":") != 0)
			return nomem(c->err);
		if (p[i / 8] >> (i % 8) & 1) {
			if (spark_buf_puts(c->b, "null") != 0)
				return nomem(c->err);
			continue;
		}
		rc = value_json(c, t->fields[i].type, p, len, slot, 8);
		if (rc != CKPT_OK)
			return rc;
	}
	return spark_buf_puts(c->b, "}") ? nomem(c->err) : CKPT_OK;
}

/* b NULL: check-only mode (spark_row_check). */
int
spark_row_to_json(const struct spark_type *t, const uint8_t *p, size_t len,
	struct ckpt_buf *b, struct ckpt_error *err)
{
	struct ctx c = { b, err };

	if (!t || t->kind != SPARK_T_STRUCT)
		return ckpt_error_set(err, CKPT_E_USAGE,
			"cannot decode row: schema is not a struct");
	if (len % 8 != 0)
		return rowbad(err, "row length not a multiple of 8", len);
	return row_json(&c, t, p, len);
}

int
spark_row_check(const struct spark_type *t, const uint8_t *p, size_t len,
	struct ckpt_error *err)
{
	return spark_row_to_json(t, p, len, NULL, err);
}
