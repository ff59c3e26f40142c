/*
 * store.c - the public storage API over the backend table.
 *
 * Parses what the user typed (plain path, file://, s3://, archive names,
 * hdfs://), picks a backend by bid, validates every path before a
 * backend sees it, and implements what is the same for every backend:
 * sorted listing in bounded memory (a max-heap window of the smallest
 * names after a cursor, re-filled in further passes), name ordering,
 * read_all, write_atomic and the lock record.  It does no I/O itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "../ctx.h"

/* Backends, asked in this order; the highest bid wins. */
static const struct ckpt_store_ops *const store_drivers[] = {
	&ckpt_store_file_ops,
	NULL
};

#define PATH_MAX_LEN 4096

/* ---- paths and URLs ---- */

/*
 * Checks a path inside a store: relative, '/'-separated, no empty, "."
 * or ".." component, components shorter than CKPT_NAME_MAX.  "" (the
 * root) only when allow_root.
 */
static int
path_check(const char *path, int allow_root, struct ckpt_error *err)
{
	const char *p, *c;
	size_t n;

	if (path == NULL)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "invalid path: NULL");
	if (path[0] == '\0') {
		if (allow_root)
			return CKPT_OK;
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "invalid path '': empty");
	}
	if (strlen(path) >= PATH_MAX_LEN)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "invalid path '%.64s...': longer than %d bytes", path,
		    PATH_MAX_LEN - 1);
	if (path[0] == '/')
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "invalid path '%s': absolute paths are not allowed", path);
	for (p = path;; p = c + 1) {
		c = strchr(p, '/');
		n = c ? (size_t)(c - p) : strlen(p);
		if (n == 0)
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "invalid path '%s': empty component", path);
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "invalid path '%s': '%.*s' component not allowed",
			    path, (int)n, p);
		if (n >= CKPT_NAME_MAX)
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "invalid path '%.64s...': component longer than %d bytes",
			    path, CKPT_NAME_MAX - 1);
		if (c == NULL)
			break;
	}
	return CKPT_OK;
}

static int
has_prefix_ci(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++) {
		char a = *s, b = *prefix;

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Length of "scheme" in "scheme://...", or 0 when url has no scheme. */
static size_t
url_scheme_len(const char *url)
{
	size_t n = 0;

	while ((url[n] >= 'a' && url[n] <= 'z') ||
	    (url[n] >= 'A' && url[n] <= 'Z') ||
	    (n > 0 && ((url[n] >= '0' && url[n] <= '9') || url[n] == '+' ||
	    url[n] == '-' || url[n] == '.')))
		n++;
	if (n > 0 && strncmp(url + n, "://", 3) == 0)
		return n;
	return 0;
}

int
ckpt_store_archive_name(const char *url)
{
	static const char *const sfx[] = { ".tar", ".tar.gz", ".tar.zst",
		".tgz", ".zip", NULL };

	for (int i = 0; sfx[i] != NULL; i++)
		if (has_suffix(url, sfx[i]))
			return 1;
	return 0;
}

/*
 * The URL with secrets stripped: no "user:password@" and no query
 * string (signed URLs) after a scheme.  Plain paths are kept as is.
 */
static char *
url_redact(const char *url)
{
	size_t sl = url_scheme_len(url), n;
	const char *auth, *at, *slash, *q;
	char *out;

	if (sl == 0)
		return strdup(url);
	out = malloc(strlen(url) + 1);
	if (out == NULL)
		return NULL;
	auth = url + sl + 3;
	slash = strchr(auth, '/');
	at = strchr(auth, '@');
	if (at != NULL && (slash == NULL || at < slash))
		auth = at + 1;
	memcpy(out, url, sl + 3);
	n = sl + 3;
	q = strchr(auth, '?');
	memcpy(out + n, auth, q ? (size_t)(q - auth) : strlen(auth));
	n += q ? (size_t)(q - auth) : strlen(auth);
	out[n] = '\0';
	return out;
}

int
ckpt_store_open(struct ckpt_ctx *ctx, const char *url, unsigned flags,
    struct ckpt_store **out, struct ckpt_error *err)
{
	const struct ckpt_store_ops *best = NULL;
	struct ckpt_store *st;
	int bid, best_bid = 0;
	size_t sl;

	*out = NULL;
	if (url == NULL || url[0] == '\0')
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot open '': empty path");
	if (has_prefix_ci(url, "hdfs://"))
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "hdfs:// is not supported: copy the checkpoint out first (hdfs dfs -get)");
	for (int i = 0; store_drivers[i] != NULL; i++) {
		bid = store_drivers[i]->bid(url);
		if (bid > best_bid) {
			best_bid = bid;
			best = store_drivers[i];
		}
	}
	if (best == NULL) {
		/* Messages show the URL without its secrets. */
		char *shown = url_redact(url);
		const char *u = shown != NULL ? shown : "(url)";
		int rc;

		sl = url_scheme_len(url);
		if (has_prefix_ci(url, "s3://"))
			rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			    "cannot open '%s': s3:// support is not built yet",
			    u);
		else if (sl == 0 && ckpt_store_archive_name(url))
			rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			    "cannot open '%s': archive support is not built yet",
			    u);
		else
			rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			    "cannot open '%s': unsupported URL scheme '%.*s://'",
			    u, (int)sl, url);
		free(shown);
		return rc;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", url);
	st->ops = best;
	st->ctx = ctx;
	st->flags = flags;
	st->url = url_redact(url);
	if (st->url == NULL) {
		free(st);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", url);
	}
	if (best->open(st, err) != CKPT_OK) {
		free(st->url);
		free(st->loc);
		free(st);
		return CKPT_FAILED;
	}
	*out = st;
	return CKPT_OK;
}

void
ckpt_store_close(struct ckpt_store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
	free(st->url);
	free(st->loc);
	free(st);
}

const char *
ckpt_store_url(const struct ckpt_store *st)
{
	return st->url;
}

const char *
ckpt_store_backend(const struct ckpt_store *st)
{
	return st->ops->name;
}

int
ckpt_store_stat(struct ckpt_store *st, const char *path,
    struct ckpt_stat *out, struct ckpt_error *err)
{
	if (path_check(path, 1, err) != CKPT_OK)
		return CKPT_FAILED;
	memset(out, 0, sizeof(*out));
	return st->ops->stat(st, path, out, err);
}

/* ---- name order ---- */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Numeric order: leading decimal numbers of any length, then the rest. */
static int
numeric_cmp(const char *a, const char *b)
{
	const char *za, *zb;
	size_t la = 0, lb = 0, ea, eb;
	int c;

	if (is_digit(a[0]) != is_digit(b[0]))
		return is_digit(a[0]) ? -1 : 1;
	if (!is_digit(a[0]))
		return strcmp(a, b);
	for (za = a; *za == '0' && is_digit(za[1]); za++)
		;
	for (zb = b; *zb == '0' && is_digit(zb[1]); zb++)
		;
	while (is_digit(za[la]))
		la++;
	while (is_digit(zb[lb]))
		lb++;
	if (la != lb)
		return la < lb ? -1 : 1;
	c = memcmp(za, zb, la);
	if (c != 0)
		return c;
	/* same number: the rest decides, then the leading zeros */
	ea = (size_t)(za - a) + la;
	eb = (size_t)(zb - b) + lb;
	c = strcmp(a + ea, b + eb);
	if (c != 0)
		return c;
	return strcmp(a, b);
}

int
ckpt_name_cmp(enum ckpt_list_order order, const char *a, const char *b)
{
	if (order == CKPT_LIST_NUMERIC)
		return numeric_cmp(a, b);
	return strcmp(a, b);
}

/* ---- the bounded sorted window ---- */

struct ckpt_list_window {
	enum ckpt_list_order order;
	char *after;		/* NULL: no lower bound */
	size_t max;		/* names kept at most */
	size_t count;		/* names kept */
	size_t nslots;		/* slots allocated (<= max) */
	char (*slots)[CKPT_NAME_MAX];
	/*
	 * Per slot: an all-digit name's value and length (0: not one).
	 * Two such names of one length compare as their values, in
	 * either order: the sort of a directory of batch ids then makes
	 * no strcmp.
	 */
	uint64_t *keys;
	unsigned char *klen;
	size_t *heap;		/* slot indices, a max-heap by name */
	int more;		/* a name after `after` did not fit */
	int nomem;
	int heaped;		/* heap holds a max-heap (the window filled) */
};

int
ckpt_list_window_new(enum ckpt_list_order order, const char *after,
    size_t max, struct ckpt_list_window **out, struct ckpt_error *err)
{
	struct ckpt_list_window *w;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out_nomem;
	w->order = order;
	w->max = max > 0 ? max : 1;
	if (after != NULL) {
		w->after = strdup(after);
		if (w->after == NULL)
			goto out_nomem;
	}
	*out = w;
	return CKPT_OK;

out_nomem:
	ckpt_list_window_free(w);
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot list: out of memory");
}

void
ckpt_list_window_free(struct ckpt_list_window *w)
{
	if (w == NULL)
		return;
	free(w->after);
	free(w->slots);
	free(w->keys);
	free(w->klen);
	free(w->heap);
	free(w);
}

/* Compares the names in slots a and b. */
static int
win_slot_cmp(const struct ckpt_list_window *w, size_t a, size_t b)
{
	if (w->klen[a] != 0 && w->klen[a] == w->klen[b])
		return w->keys[a] < w->keys[b] ? -1 : w->keys[a] > w->keys[b];
	return ckpt_name_cmp(w->order, w->slots[a], w->slots[b]);
}

/* Puts name (len bytes) into slot i with its key. */
static void
win_set(struct ckpt_list_window *w, size_t i, const char *name, size_t len)
{
	uint64_t v = 0;
	size_t k;

	memcpy(w->slots[i], name, len + 1);
	for (k = 0; k < len && k < 20 && is_digit(name[k]); k++) {
		unsigned d = (unsigned)(name[k] - '0');

		if (v > (UINT64_MAX - d) / 10)
			break;
		v = v * 10 + d;
	}
	w->keys[i] = v;
	w->klen[i] = k == len && len > 0 ? (unsigned char)len : 0;
}

static int
win_cmp(const struct ckpt_list_window *w, size_t i, size_t j)
{
	return win_slot_cmp(w, w->heap[i], w->heap[j]);
}

static void
win_swap(struct ckpt_list_window *w, size_t i, size_t j)
{
	size_t t = w->heap[i];

	w->heap[i] = w->heap[j];
	w->heap[j] = t;
}

static void
win_sift_down(struct ckpt_list_window *w, size_t i, size_t n)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && win_cmp(w, l, m) > 0)
			m = l;
		if (r < n && win_cmp(w, r, m) > 0)
			m = r;
		if (m == i)
			return;
		win_swap(w, i, m);
		i = m;
	}
}

/* Grows the slot arrays (doubling, up to max).  0 or -1. */
static int
win_grow(struct ckpt_list_window *w)
{
	size_t n = w->nslots ? w->nslots * 2 : 64;
	void *s, *h;

	if (n > w->max)
		n = w->max;
	s = realloc(w->slots, n * sizeof(*w->slots));
	if (s == NULL)
		return -1;
	w->slots = s;
	h = realloc(w->heap, n * sizeof(*w->heap));
	if (h == NULL)
		return -1;
	w->heap = h;
	h = realloc(w->keys, n * sizeof(*w->keys));
	if (h == NULL)
		return -1;
	w->keys = h;
	h = realloc(w->klen, n * sizeof(*w->klen));
	if (h == NULL)
		return -1;
	w->klen = h;
	w->nslots = n;
	return 0;
}

void
ckpt_list_window_offer(struct ckpt_list_window *w, const char *name)
{
	size_t len = strlen(name);

	if (len >= CKPT_NAME_MAX)
		return;
	if (w->after != NULL && ckpt_name_cmp(w->order, name, w->after) <= 0)
		return;
	if (w->count < w->max) {
		if (w->count == w->nslots && win_grow(w) != 0) {
			w->nomem = 1;
			w->more = 1;
			return;
		}
		/* kept in arrival order until the window is full */
		win_set(w, w->count, name, len);
		w->heap[w->count] = w->count;
		w->count++;
		return;
	}
	w->more = 1;
	if (!w->heaped) {
		for (size_t i = w->count / 2; i-- > 0;)
			win_sift_down(w, i, w->count);
		w->heaped = 1;
	}
	if (ckpt_name_cmp(w->order, name, w->slots[w->heap[0]]) >= 0)
		return;
	win_set(w, w->heap[0], name, len);
	win_sift_down(w, 0, w->count);
}

/* Merge sort of the slot indices a[0..n) by name, tmp as scratch. */
static void
win_msort(const struct ckpt_list_window *w, size_t *a, size_t *tmp,
    size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	win_msort(w, a, tmp, h);
	win_msort(w, a + h, tmp, n - h);
	if (win_slot_cmp(w, a[h - 1], a[h]) <= 0)
		return;		/* already in order (sorted input) */
	while (i < h && j < n)
		tmp[k++] = win_slot_cmp(w, a[i], a[j]) <= 0 ? a[i++] : a[j++];
	while (i < h)
		tmp[k++] = a[i++];
	memcpy(a, tmp, k * sizeof(*a));
}

/*
 * When every kept name is all digits of one length (a directory of
 * batch ids), their order is their keys': LSD radix sort of the slot
 * indices, 11 bits a pass.  0 done, -1 not such a window.
 */
static int
win_radix(struct ckpt_list_window *w, size_t *tmp)
{
	size_t cnt[2048], *src = w->heap, *dst = tmp, n = w->count;
	uint64_t max = 0;

	for (size_t i = 0; i < n; i++) {
		if (w->klen[i] == 0 || w->klen[i] != w->klen[0])
			return -1;
		if (w->keys[i] > max)
			max = w->keys[i];
	}
	for (int shift = 0; shift < 64 && (max >> shift) != 0; shift += 11) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(w->keys[src[i]] >> shift) & 2047]++;
		for (size_t d = 0; d < 2048; d++) {
			size_t c = cnt[d];

			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(w->keys[src[i]] >> shift) & 2047]++] = src[i];
		src = dst;
		dst = src == w->heap ? tmp : w->heap;
	}
	if (src != w->heap)
		memcpy(w->heap, src, n * sizeof(*src));
	return 0;
}

size_t
ckpt_list_window_sort(struct ckpt_list_window *w, int *more)
{
	size_t *tmp = w->heaped ? NULL : malloc(w->count * sizeof(*tmp) + 1);

	*more = w->more;
	if (tmp != NULL) {
		/* slots were filled in order: heap[i] == i */
		if (w->count < 64 || win_radix(w, tmp) != 0)
			win_msort(w, w->heap, tmp, w->count);
		free(tmp);
		return w->count;
	}
	/* heap sort: pop the largest to the end */
	if (!w->heaped)
		for (size_t i = w->count / 2; i-- > 0;)
			win_sift_down(w, i, w->count);
	for (size_t n = w->count; n > 1; n--) {
		win_swap(w, 0, n - 1);
		win_sift_down(w, 0, n - 1);
	}
	return w->count;
}

const char *
ckpt_list_window_name(const struct ckpt_list_window *w, size_t i)
{
	return i < w->count ? w->slots[w->heap[i]] : NULL;
}

/* ---- listing ---- */

struct list_state {
	ckpt_list_fn cb;
	void *arg;
	char last[CKPT_NAME_MAX];
	size_t delivered;
};

static int
list_relay(void *arg, const struct ckpt_stat *ent)
{
	struct list_state *ls = arg;
	size_t n = strnlen(ent->name, sizeof(ls->last) - 1);

	memcpy(ls->last, ent->name, n);
	ls->last[n] = '\0';
	ls->delivered++;
	return ls->cb(ls->arg, ent);
}

int
ckpt_store_list(struct ckpt_store *st, const char *dir,
    enum ckpt_list_order order, const char *after, ckpt_list_fn cb,
    void *arg, struct ckpt_error *err)
{
	struct list_state ls;
	char *cursor = NULL;
	int more, stopped, rc = CKPT_OK, idle = 0;

	if (path_check(dir, 1, err) != CKPT_OK)
		return CKPT_FAILED;
	if (order != CKPT_LIST_NAME && order != CKPT_LIST_NUMERIC)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot list '%s': unknown order %d", dir, (int)order);
	memset(&ls, 0, sizeof(ls));
	ls.cb = cb;
	ls.arg = arg;
	if (after != NULL) {
		cursor = strdup(after);
		if (cursor == NULL)
			return ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot list '%s': out of memory", dir);
	}
	for (;;) {
		rc = ckpt_ctx_check_interrupt(st->ctx, "cannot list", err);
		if (rc != CKPT_OK)
			break;
		more = stopped = 0;
		ls.delivered = 0;
		rc = st->ops->list_page(st, dir, order, cursor,
		    CKPT_LIST_WINDOW, list_relay, &ls, &more, &stopped, err);
		if (rc != CKPT_OK || stopped || !more)
			break;
		if (ls.delivered == 0) {
			/* every kept entry vanished meanwhile: look again */
			if (++idle > 3)
				break;
			continue;
		}
		idle = 0;
		free(cursor);
		cursor = strdup(ls.last);
		if (cursor == NULL) {
			rc = ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot list '%s': out of memory", dir);
			break;
		}
	}
	free(cursor);
	return rc;
}

int
ckpt_store_scan(struct ckpt_store *st, const char *dir, unsigned flags,
    ckpt_list_fn cb, void *arg, struct ckpt_error *err)
{
	if (path_check(dir, 1, err) != CKPT_OK)
		return CKPT_FAILED;
	if (st->ops->scan == NULL)
		return ckpt_store_list(st, dir, CKPT_LIST_NAME, NULL, cb, arg,
		    err);
	return st->ops->scan(st, dir, flags, cb, arg, err);
}

/* ---- reading ---- */

int
ckpt_store_open_read(struct ckpt_store *st, const char *path,
    struct ckpt_rfile **out, struct ckpt_error *err)
{
	struct ckpt_rfile *f;

	*out = NULL;
	if (path_check(path, 0, err) != CKPT_OK)
		return CKPT_FAILED;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open '%s': out of memory", path);
	f->st = st;
	if (st->ops->open_read(st, path, f, err) != CKPT_OK) {
		free(f);
		return CKPT_FAILED;
	}
	*out = f;
	return CKPT_OK;
}

int
ckpt_rfile_read(struct ckpt_rfile *f, void *buf, size_t len, size_t *got,
    struct ckpt_error *err)
{
	*got = 0;
	if (len == 0)
		return CKPT_OK;
	return f->st->ops->read(f, buf, len, got, err);
}

uint64_t
ckpt_rfile_size(const struct ckpt_rfile *f)
{
	return f->size;
}

void
ckpt_rfile_close(struct ckpt_rfile *f)
{
	if (f == NULL)
		return;
	f->st->ops->close_read(f);
	free(f);
}

int
ckpt_store_read_range(struct ckpt_store *st, const char *path, uint64_t off,
    void *buf, size_t len, size_t *got, struct ckpt_error *err)
{
	struct ckpt_rfile *f = NULL;
	char skip[8192];
	size_t n, want, total = 0;
	int rc;

	*got = 0;
	if (path_check(path, 0, err) != CKPT_OK)
		return CKPT_FAILED;
	if (st->ops->read_range != NULL)
		return st->ops->read_range(st, path, off, buf, len, got, err);
	rc = ckpt_store_open_read(st, path, &f, err);
	if (rc != CKPT_OK)
		return rc;
	while (off > 0) {
		want = off < sizeof(skip) ? (size_t)off : sizeof(skip);
		rc = ckpt_rfile_read(f, skip, want, &n, err);
		if (rc != CKPT_OK || n == 0)
			goto out_close;
		off -= n;
	}
	while (total < len) {
		rc = ckpt_rfile_read(f, (char *)buf + total, len - total, &n,
		    err);
		if (rc != CKPT_OK || n == 0)
			break;
		total += n;
	}
	*got = total;
out_close:
	ckpt_rfile_close(f);
	return rc;
}

int
ckpt_store_read_all(struct ckpt_store *st, const char *path, size_t max,
    char **out, size_t *len, struct ckpt_error *err)
{
	struct ckpt_rfile *f = NULL;
	size_t cap, n = 0, got;
	char *buf = NULL, *p;
	int rc;

	*out = NULL;
	*len = 0;
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4;	/* keeps cap arithmetic from wrapping */
	if (st->ops->read_all != NULL) {
		if (path_check(path, 0, err) != CKPT_OK)
			return CKPT_FAILED;
		return st->ops->read_all(st, path, max, out, len, err);
	}
	rc = ckpt_store_open_read(st, path, &f, err);
	if (rc != CKPT_OK)
		return rc;
	if (f->size > max) {
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read '%s': file too large (%llu bytes, at most %zu)",
		    path, (unsigned long long)f->size, max);
		goto out_close;
	}
	cap = (size_t)f->size + 1;
	for (;;) {
		if (n + 1 >= cap || buf == NULL) {
			if (buf != NULL)
				cap = cap > max / 2 ? max + 2 : cap * 2;
			p = realloc(buf, cap);
			if (p == NULL) {
				rc = ckpt_error_set(err, CKPT_E_NOMEM,
				    "cannot read '%s': out of memory", path);
				goto out_close;
			}
			buf = p;
		}
		rc = ckpt_rfile_read(f, buf + n, cap - 1 - n, &got, err);
		if (rc != CKPT_OK)
			goto out_close;
		if (got == 0)
			break;
		n += got;
		if (n > max) {
			rc = ckpt_error_set(err, CKPT_E_FORMAT,
			    "cannot read '%s': file too large (more than %zu bytes)",
			    path, max);
			goto out_close;
		}
		/* the size it had when opened: no read to see end of file */
		if (n == f->size && n > 0)
			break;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out_close:
	free(buf);
	ckpt_rfile_close(f);
	return rc;
}

/* ---- writing ---- */

static int
store_writable(struct ckpt_store *st, const char *path,
    struct ckpt_error *err)
{
	if (st->ops->create == NULL)
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot write '%s': %s stores are read-only", path,
		    st->ops->name);
	if ((st->flags & (CKPT_STORE_RDWR | CKPT_STORE_CREATE)) == 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': store '%s' was opened read-only", path,
		    st->url);
	return CKPT_OK;
}

int
ckpt_store_create(struct ckpt_store *st, const char *path, unsigned flags,
    struct ckpt_wfile **out, struct ckpt_error *err)
{
	struct ckpt_wfile *f;

	*out = NULL;
	if (path_check(path, 0, err) != CKPT_OK ||
	    store_writable(st, path, err) != CKPT_OK)
		return CKPT_FAILED;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot create '%s': out of memory", path);
	f->st = st;
	f->flags = flags;
	if (st->ops->create(st, path, f, err) != CKPT_OK) {
		free(f);
		return CKPT_FAILED;
	}
	*out = f;
	return CKPT_OK;
}

int
ckpt_wfile_write(struct ckpt_wfile *f, const void *buf, size_t len,
    struct ckpt_error *err)
{
	if (f->failed)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write: an earlier write to this file failed");
	if (len == 0)
		return CKPT_OK;
	if (f->st->ops->write(f, buf, len, err) != CKPT_OK) {
		f->failed = 1;
		return CKPT_FAILED;
	}
	f->size += len;
	return CKPT_OK;
}

uint64_t
ckpt_wfile_size(const struct ckpt_wfile *f)
{
	return f->size;
}

/* Commits and frees f, success or not. */
int
ckpt_wfile_commit(struct ckpt_wfile *f, struct ckpt_error *err)
{
	int rc;

	if (f->failed) {
		f->st->ops->abort(f);
		free(f);
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot commit: an earlier write to this file failed");
	}
	rc = f->st->ops->commit(f, err);
	free(f);
	return rc;
}

int
ckpt_wfile_commit_all(struct ckpt_wfile **f, size_t n,
    struct ckpt_error *err)
{
	struct ckpt_store *st;
	int rc = CKPT_OK;
	size_t i;

	if (n == 0)
		return CKPT_OK;
	st = f[0]->st;
	for (i = 0; i < n; i++)
		if (f[i]->failed || f[i]->st != st)
			break;
	if (i < n || st->ops->commit_all == NULL) {
		/* one by one; the first failure aborts the rest */
		for (i = 0; i < n; i++) {
			if (rc != CKPT_OK) {
				ckpt_wfile_abort(f[i]);
			} else if (f[i]->st != st) {
				ckpt_wfile_abort(f[i]);
				rc = ckpt_error_set(err, CKPT_E_USAGE,
				    "cannot commit: files of two stores in "
				    "one group");
			} else {
				rc = ckpt_wfile_commit(f[i], err);
			}
		}
		return rc;
	}
	rc = st->ops->commit_all(f, n, err);
	for (i = 0; i < n; i++)
		free(f[i]);
	return rc;
}

void
ckpt_wfile_abort(struct ckpt_wfile *f)
{
	if (f == NULL)
		return;
	f->st->ops->abort(f);
	free(f);
}

int
ckpt_store_write_atomic(struct ckpt_store *st, const char *path,
    unsigned flags, const void *buf, size_t len, struct ckpt_error *err)
{
	struct ckpt_wfile *f = NULL;
	int rc;

	rc = ckpt_store_create(st, path, flags, &f, err);
	if (rc != CKPT_OK)
		return rc;
	rc = ckpt_wfile_write(f, buf, len, err);
	if (rc != CKPT_OK) {
		ckpt_wfile_abort(f);
		return rc;
	}
	return ckpt_wfile_commit(f, err);
}

int
ckpt_store_remove(struct ckpt_store *st, const char *path,
    struct ckpt_error *err)
{
	if (path_check(path, 0, err) != CKPT_OK ||
	    store_writable(st, path, err) != CKPT_OK)
		return CKPT_FAILED;
	return st->ops->remove(st, path, err);
}

int
ckpt_store_sync_dir(struct ckpt_store *st, const char *dir,
    struct ckpt_error *err)
{
	if (path_check(dir, 1, err) != CKPT_OK)
		return CKPT_FAILED;
	if (st->ops->sync_dir == NULL)
		return CKPT_OK;
	return st->ops->sync_dir(st, dir, err);
}

/* ---- the lock ---- */

int
ckpt_store_lock(struct ckpt_store *st, const char *what,
    struct ckpt_lock **out, struct ckpt_error *err)
{
	struct ckpt_lock *lk;

	*out = NULL;
	if (st->ops->lock == NULL)
		return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		    "cannot lock '%s': %s stores are read-only", st->url,
		    st->ops->name);
	if ((st->flags & (CKPT_STORE_RDWR | CKPT_STORE_CREATE)) == 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot lock '%s': store was opened read-only", st->url);
	lk = calloc(1, sizeof(*lk));
	if (lk == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot lock '%s': out of memory", st->url);
	lk->st = st;
	if (st->ops->lock(st, what ? what : "", lk, err) != CKPT_OK) {
		free(lk);
		return CKPT_FAILED;
	}
	*out = lk;
	return CKPT_OK;
}

void
ckpt_lock_release(struct ckpt_lock *lk)
{
	if (lk == NULL)
		return;
	lk->st->ops->unlock(lk);
	free(lk);
}

int
ckpt_store_lock_holder(struct ckpt_store *st, struct ckpt_lock_info *out,
    struct ckpt_error *err)
{
	memset(out, 0, sizeof(*out));
	if (st->ops->lock_holder == NULL)
		return CKPT_EOF;
	return st->ops->lock_holder(st, out, err);
}

int64_t
ckpt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends s as a JSON string to buf at *n (bounded by cap). */
static void
json_str(char *buf, size_t cap, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (*n < cap)
		buf[(*n)++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		size_t k = 0;

		if (c == '"' || c == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)c;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			k = 4;
			esc[k++] = hex[c >> 4];
			esc[k++] = hex[c & 15];
		} else {
			esc[k++] = (char)c;
		}
		for (size_t i = 0; i < k; i++)
			if (*n < cap)
				buf[(*n)++] = esc[i];
	}
	if (*n < cap)
		buf[(*n)++] = '"';
}

int
ckpt_lock_info_format(const struct ckpt_lock_info *li, char *buf, size_t n)
{
	size_t len = 0;
	int k;

	k = snprintf(buf, n, "{\"host\":");
	if (k < 0 || (size_t)k >= n)
		return -1;
	len = (size_t)k;
	json_str(buf, n, &len, li->host);
	if (len >= n)
		return -1;
	k = snprintf(buf + len, n - len, ",\"pid\":%ld,\"since_ms\":%lld,"
	    "\"what\":", li->pid, (long long)li->since_ms);
	if (k < 0 || (size_t)k >= n - len)
		return -1;
	len += (size_t)k;
	json_str(buf, n, &len, li->what);
	if (len + 3 > n)
		return -1;
	buf[len++] = '}';
	buf[len++] = '\n';
	buf[len] = '\0';
	return (int)len;
}

/* Parses a JSON string at *p (after the quote) into out (truncating). */
static int
parse_str(const char **p, const char *end, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = *p;

	while (s < end && *s != '"') {
		char c = *s++;

		if (c == '\\') {
			if (s >= end)
				return -1;
			c = *s++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				if (end - s < 4)
					return -1;
				/* only \u00XX is ever written */
				c = (char)strtol((char[]){ s[2], s[3], 0 },
				    NULL, 16);
				s += 4;
				break;
			default:
				break;	/* \" \\ \/ */
			}
		}
		if (n + 1 < cap)
			out[n++] = c;
	}
	if (s >= end)
		return -1;
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

static void
copy_trunc(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

int
ckpt_lock_info_parse(const char *text, size_t len,
    struct ckpt_lock_info *out)
{
	const char *p = text, *end = text + len;
	char key[32], num[32];
	int have_host = 0, have_pid = 0;

	memset(out, 0, sizeof(*out));
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		p = skip_ws(p, end);
		if (p < end && *p == '}')
			break;
		if (p >= end || *p++ != '"' ||
		    parse_str(&p, end, key, sizeof(key)) != 0)
			return -1;
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		if (p < end && *p == '"') {
			char val[256];

			p++;
			if (parse_str(&p, end, val, sizeof(val)) != 0)
				return -1;
			if (strcmp(key, "host") == 0) {
				copy_trunc(out->host, sizeof(out->host), val);
				have_host = 1;
			} else if (strcmp(key, "what") == 0) {
				copy_trunc(out->what, sizeof(out->what), val);
			}
		} else {
			size_t n = 0;

			while (p < end && n + 1 < sizeof(num) &&
			    (is_digit(*p) || *p == '-'))
				num[n++] = *p++;
			num[n] = '\0';
			if (n == 0)
				return -1;
			if (strcmp(key, "pid") == 0) {
				out->pid = strtol(num, NULL, 10);
				have_pid = out->pid > 0;
			} else if (strcmp(key, "since_ms") == 0) {
				out->since_ms = strtoll(num, NULL, 10);
			}
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			break;
		return -1;
	}
	return have_host && have_pid ? 0 : -1;
}

int
ckpt_lock_conflict(struct ckpt_error *err, const char *root,
    const struct ckpt_lock_info *li)
{
	char when[40] = "an unknown time";
	time_t t = (time_t)(li->since_ms / 1000);
	struct tm tm;

	if (li->since_ms > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ckpt_error_set(err, CKPT_E_LOCKED,
	    "'%s' is locked by pid %ld on %s since %s (%s)", root, li->pid,
	    li->host, when, li->what[0] ? li->what : "unknown");
}
