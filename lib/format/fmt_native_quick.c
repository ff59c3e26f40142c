/*
 * fmt_native_quick.c - the quick reading of a commit entry for batch
 * listings (ckpt ls -l on many batches): the time, file count, bytes
 * and whether state was written, straight from the JSON text, with no
 * allocation and no cJSON tree.
 *
 * It reads only a strict subset of JSON: strings without escapes or
 * control characters, integers of at most 15 digits (exact in a
 * double) without sign tricks, fractions or exponents, nesting at most
 * QK_DEPTH deep, nothing after the object but white space.  Within that
 * subset its answers are exactly those of nat_commit_parse() plus the
 * batch listing's sums (first occurrence of a member wins, as in
 * cJSON_GetObjectItemCaseSensitive).  Anything else -- another shape, a
 * damaged or hostile entry -- is not judged here: it returns -1 and the
 * caller parses the text in full, which reports what is wrong.
 */
#include <stdint.h>
#include <string.h>

#include "native.h"

#define QK_DEPTH 8
#define QK_DIGITS 15

struct qk {
	const char *p, *end;
};

static void
qk_ws(struct qk *q)
{
	while (q->p < q->end && (*q->p == ' ' || *q->p == '\t' ||
	    *q->p == '\n' || *q->p == '\r'))
		q->p++;
}

/* A string token: *s, *n its bytes (no escapes allowed).  0 or -1. */
static int
qk_str(struct qk *q, const char **s, size_t *n)
{
	const char *p;
	int bad = 0;

	qk_ws(q);
	if (q->p >= q->end || *q->p != '"')
		return -1;
	p = memchr(q->p + 1, '"', (size_t)(q->end - q->p - 1));
	if (p == NULL)
		return -1;
	for (const char *c = q->p + 1; c < p; c++)
		bad |= *c == '\\' || (unsigned char)*c < 0x20;
	if (bad)
		return -1;
	*s = q->p + 1;
	*n = (size_t)(p - *s);
	q->p = p + 1;
	return 0;
}

/* An integer token (JSON grammar, at most QK_DIGITS digits).  0 or -1. */
static int
qk_int(struct qk *q, int64_t *v)
{
	const char *p;
	int neg = 0, nd = 0;
	int64_t x = 0;

	qk_ws(q);
	p = q->p;
	if (p < q->end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= q->end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p + 1 < q->end && p[1] >= '0' && p[1] <= '9')
		return -1;		/* leading zero: not JSON */
	for (; p < q->end && *p >= '0' && *p <= '9'; p++) {
		if (++nd > QK_DIGITS)
			return -1;
		x = x * 10 + (*p - '0');
	}
	if (p < q->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return -1;
	*v = neg ? -x : x;
	q->p = p;
	return 0;
}

static int
qk_lit(struct qk *q, const char *lit)
{
	size_t n = strlen(lit);

	qk_ws(q);
	if ((size_t)(q->end - q->p) < n || memcmp(q->p, lit, n) != 0)
		return -1;
	q->p += n;
	return 0;
}

static int
qk_peek(struct qk *q, char c)
{
	qk_ws(q);
	return q->p < q->end && *q->p == c;
}

/* One JSON value of the subset, skipped.  0 or -1. */
static int
qk_skip(struct qk *q, int depth)
{
	const char *s;
	size_t n;
	int64_t v;
	char close;

	qk_ws(q);
	if (q->p >= q->end || depth > QK_DEPTH)
		return -1;
	switch (*q->p) {
	case '"':
		return qk_str(q, &s, &n);
	case 't':
		return qk_lit(q, "true");
	case 'f':
		return qk_lit(q, "false");
	case 'n':
		return qk_lit(q, "null");
	case '{':
	case '[':
		close = *q->p == '{' ? '}' : ']';
		q->p++;
		if (qk_peek(q, close)) {
			q->p++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				if (qk_str(q, &s, &n) != 0 || !qk_peek(q, ':'))
					return -1;
				q->p++;
			}
			if (qk_skip(q, depth + 1) != 0)
				return -1;
			if (qk_peek(q, ',')) {
				q->p++;
				continue;
			}
			if (!qk_peek(q, close))
				return -1;
			q->p++;
			return 0;
		}
	default:
		return qk_int(q, &v);
	}
}

static int
qk_key(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(s, name, n) == 0;
}

/*
 * Starts an object or array at depth: 1 when it is empty (consumed),
 * 0 when members follow, -1 when the value is not one.
 */
static int
qk_open(struct qk *q, char open)
{
	if (!qk_peek(q, open))
		return -1;
	q->p++;
	if (qk_peek(q, open == '{' ? '}' : ']')) {
		q->p++;
		return 1;
	}
	return 0;
}

/* After a member or element: 1 more follow, 0 the container closed. */
static int
qk_next(struct qk *q, char close)
{
	if (qk_peek(q, ',')) {
		q->p++;
		return 1;
	}
	if (qk_peek(q, close)) {
		q->p++;
		return 0;
	}
	return -1;
}

/* One manifest entry: what nat_commit_parse demands of it, summed. */
static int
qk_entry(struct qk *q, struct nat_quick *out)
{
	const char *s, *path = NULL, *kind = NULL, *hex = NULL;
	size_t n, plen = 0, klen = 0, hlen = 0;
	int64_t size = -1;
	int seen_kind = 0, seen_size = 0, r;

	r = qk_open(q, '{');
	if (r < 0)
		return -1;
	while (r == 0) {
		if (qk_str(q, &s, &n) != 0 || !qk_peek(q, ':'))
			return -1;
		q->p++;
		if (qk_key(s, n, "path") && path == NULL) {
			if (qk_str(q, &path, &plen) != 0)
				return -1;
		} else if (qk_key(s, n, "xxh3") && hex == NULL) {
			if (qk_str(q, &hex, &hlen) != 0)
				return -1;
		} else if (qk_key(s, n, "size") && !seen_size) {
			seen_size = 1;
			if (qk_int(q, &size) != 0)
				return -1;
		} else if (qk_key(s, n, "kind") && !seen_kind) {
			seen_kind = 1;
			if (qk_peek(q, '"')) {
				if (qk_str(q, &kind, &klen) != 0)
					return -1;
			} else if (qk_skip(q, 2) != 0) {
				return -1;
			}
		} else if (qk_skip(q, 2) != 0) {
			return -1;
		}
		r = qk_next(q, '}');
		if (r < 0)
			return -1;
		r = !r;
	}
	/* nat_commit_parse's checks, else the full parse reports it */
	if (path == NULL || plen == 0 || plen >= NAT_PATH_MAX ||
	    path[0] == '/' || size < 0 || hex == NULL || hlen != 16)
		return -1;
	for (size_t i = 0; i + 1 < plen; i++)
		if (path[i] == '.' && path[i + 1] == '.')
			return -1;
	for (size_t i = 0; i < 16; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	out->files++;
	out->bytes += (uint64_t)size;
	if (kind != NULL && (qk_key(kind, klen, "snapshot") ||
	    qk_key(kind, klen, "delta")))
		out->has_state = 1;
	return 0;
}

int
nat_commit_quick(const char *text, size_t len, int64_t batch,
    struct nat_quick *out)
{
	struct qk q = { text, text + len };
	const char *s;
	size_t n;
	int64_t v, got_batch = -1, state = -2;
	int r, seen_time = 0, seen_state = 0, seen_files = 0;

	memset(out, 0, sizeof(*out));
	out->time_ms = CKPT_NONE;
	r = qk_open(&q, '{');
	if (r != 0)
		return -1;
	while (r == 0) {
		if (qk_str(&q, &s, &n) != 0 || !qk_peek(&q, ':'))
			return -1;
		q.p++;
		if (qk_key(s, n, "batch") && got_batch < 0) {
			if (qk_int(&q, &got_batch) != 0 || got_batch < 0)
				return -1;
		} else if (qk_key(s, n, "time_ms") && !seen_time) {
			seen_time = 1;
			if (qk_peek(&q, '-') || (q.p < q.end && *q.p >= '0' &&
			    *q.p <= '9')) {
				if (qk_int(&q, &v) != 0)
					return -1;
				out->time_ms = v;
			} else if (qk_skip(&q, 1) != 0) {
				return -1;
			}
		} else if (qk_key(s, n, "state_batch") && !seen_state) {
			seen_state = 1;
			if (qk_peek(&q, 'n')) {
				if (qk_lit(&q, "null") != 0)
					return -1;
				state = CKPT_NONE;
			} else if (qk_int(&q, &state) != 0 || state < 0) {
				return -1;
			}
		} else if (qk_key(s, n, "files") && !seen_files) {
			seen_files = 1;
			r = qk_open(&q, '[');
			if (r < 0)
				return -1;
			while (r == 0) {
				if (qk_entry(&q, out) != 0)
					return -1;
				r = qk_next(&q, ']');
				if (r < 0)
					return -1;
				r = !r;
			}
		} else if (qk_skip(&q, 1) != 0) {
			return -1;
		}
		r = qk_next(&q, '}');
		if (r < 0)
			return -1;
		r = !r;
	}
	qk_ws(&q);
	if (q.p != q.end || got_batch != batch || !seen_files ||
	    state == -2 || (state != CKPT_NONE && state > batch))
		return -1;
	return 0;
}
