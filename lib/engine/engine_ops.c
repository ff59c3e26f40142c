/*
 * engine_ops.c - the engine's generic operators.
 *
 * Stateless stages: eng_stage_words (flatMap a text line into (word, 1)
 * records) and eng_stage_event (map an event line to a record, filtering
 * out malformed ones).  Stateful operators: reduceByKey (running
 * aggregate per key with the job's reduce function) and the windowed
 * reduce with an inverse function (reduceByKeyAndWindow(f, f^-1, W, S)):
 * each key keeps its window total and its per-slide partial aggregates
 * for the slides still in the window; at the end of a slide the window
 * is emitted, then the slide leaving the window is taken out with the
 * inverse function and keys whose total reaches zero are dropped.  The
 * whole window is never recomputed.  The keyed-state-with-timeout
 * operator is the session job's (lib/jobs/job_session.c).  Output lines
 * are emitted in key order, so a batch's output is a function of its
 * input and the state alone.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../codec/codec.h"
#include "../jobs/job.h"

int
eng_buf_printf(struct ckpt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->cap ? (char *)b->data + b->len : NULL, room,
		    fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		if (ckpt_buf_reserve(b, (size_t)n + 1) != 0)
			return -1;
	}
}

int
eng_buf_i64(struct ckpt_buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	return ckpt_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int
eng_touch_add(struct eng *e, struct eng_entry *en)
{
	if (en->flags & ENG_E_TOUCHED)
		return 0;
	if (e->ntouched == e->touched_cap) {
		size_t ncap = e->touched_cap ? e->touched_cap * 2 : 256;
		struct eng_entry **nt = realloc(e->touched,
		    ncap * sizeof(*nt));

		if (nt == NULL)
			return -1;
		e->touched = nt;
		e->touched_cap = ncap;
	}
	e->touched[e->ntouched++] = en;
	en->flags |= ENG_E_TOUCHED;
	return 0;
}

/* The blanks words are split on, as a table: one load per byte. */
static const unsigned char blank_tab[256] = {
	[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\v'] = 1, ['\f'] = 1,
};

static int
is_blank(int c)
{
	return blank_tab[c & 0xff];
}

int
eng_stage_words(struct eng *e, const char *line, size_t len,
    int64_t time_ms, eng_emit_fn emit, const char **why,
    struct ckpt_error *err)
{
	struct eng_rec r = { .time_ms = time_ms, .n = 1 };
	size_t i = 0;

	if (len > ENG_KEY_MAX) {
		/* reject before emitting anything: a line is all or none */
		size_t run = 0;

		for (size_t j = 0; j < len; j++) {
			run = is_blank((unsigned char)line[j]) ? 0 : run + 1;
			if (run > ENG_KEY_MAX) {
				*why = "a word is longer than 1024 bytes";
				return 1;
			}
		}
	}
	/*
	 * Words go in groups: hash a group and prefetch its slots, then
	 * update the state, so the table's cache misses overlap.
	 */
	while (i < len) {
		struct { const char *p; size_t n; uint64_t h; } w[8];
		int nw = 0;

		while (i < len && nw < 8) {
			size_t s;

			while (i < len && is_blank((unsigned char)line[i]))
				i++;
			s = i;
			while (i < len && !is_blank((unsigned char)line[i]))
				i++;
			if (i == s)
				break;
			w[nw].p = line + s;
			w[nw].n = i - s;
			w[nw].h = eng_hash(w[nw].p, w[nw].n);
			eng_table_prefetch(eng_part(e, w[nw].h), w[nw].h);
			nw++;
		}
		for (int k = 0; k < nw; k++) {
			r.key = w[k].p;
			r.klen = w[k].n;
			r.hash = w[k].h;
			r.has_hash = 1;
			if (emit(e, &r, err) != 0)
				return -1;
		}
	}
	return 0;
}

int
eng_event_time(const char *line, size_t len, int64_t *time_ms)
{
	int64_t t = 0;
	size_t i = 0;

	while (i < len && line[i] >= '0' && line[i] <= '9') {
		if (i >= 18)
			return -1;
		t = t * 10 + (line[i] - '0');
		i++;
	}
	if (i == 0 || i >= len || line[i] != '\t')
		return -1;
	*time_ms = t;
	return 0;
}

int
eng_stage_event(struct eng *e, const char *line, size_t len,
    int64_t time_ms, eng_emit_fn emit, const char **why,
    struct ckpt_error *err)
{
	struct eng_rec r = { .n = 1 };
	const char *k, *tab;
	size_t rest;

	(void)time_ms;
	if (eng_event_time(line, len, &r.time_ms) != 0) {
		*why = "expected EVENT_TIME_MS<TAB>KEY[<TAB>VALUE]";
		return 1;
	}
	k = memchr(line, '\t', len) + 1;
	rest = len - (size_t)(k - line);
	tab = memchr(k, '\t', rest);
	r.key = k;
	r.klen = tab ? (size_t)(tab - k) : rest;
	if (r.klen == 0) {
		*why = "empty key";
		return 1;
	}
	if (r.klen > ENG_KEY_MAX) {
		*why = "key longer than 1024 bytes";
		return 1;
	}
	if (tab != NULL) {
		r.val = tab + 1;
		r.vlen = rest - r.klen - 1;
		if (r.vlen > ENG_KEY_MAX) {
			*why = "value longer than 1024 bytes";
			return 1;
		}
	} else {
		r.val = "";
		r.vlen = 0;
	}
	return emit(e, &r, err);
}

/* ------------------------------------------------------------------ */
/* reduceByKey                                                          */
/* ------------------------------------------------------------------ */

static int
nomem(struct ckpt_error *err)
{
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot update the state: out of memory");
}

static int
reduce_add(struct eng *e, const struct eng_rec *r, struct ckpt_error *err)
{
	uint64_t h = r->has_hash ? r->hash : eng_hash(r->key, r->klen);
	struct eng_table *t = eng_part(e, h);
	struct eng_entry *en;
	int created;

	en = eng_table_upsert(t, r->key, r->klen, h, &created);
	if (en == NULL)
		return nomem(err);
	en->count = created ? r->n : e->job->reduce(en->count, r->n);
	if (eng_table_dirty(t, en) != 0 || eng_touch(e, en) != 0)
		return nomem(err);
	return 0;
}

/*
 * Output: the new total of every key the batch updated, in the order the
 * keys first appear in the batch (a function of the batch's input, so
 * no sort is needed for byte-identical replays).
 */
static int
reduce_end_batch(struct eng *e, int64_t batch, struct ckpt_buf *out,
    struct ckpt_error *err)
{
	(void)batch;
	for (size_t i = 0; i < e->ntouched; i++) {
		struct eng_entry *en = e->touched[i];

#if defined(__GNUC__)
		if (i + 16 < e->ntouched)
			eng_entry_prefetch(e->touched[i + 16]);
#endif
		en->flags &= ~ENG_E_TOUCHED;
		/* KEY<TAB>COUNT<NL>, written in place (one reserve) */
		if (ckpt_buf_reserve(out, en->klen + 24) != 0)
			return nomem(err);
		{
			char *o = (char *)out->data + out->len, tmp[24];
			char *d = tmp + sizeof(tmp);
			uint64_t u = en->count < 0 ? (uint64_t)0 -
			    (uint64_t)en->count : (uint64_t)en->count;
			size_t nd;

			memcpy(o, en->key, en->klen);
			o += en->klen;
			*o++ = '\t';
			do {
				*--d = (char)('0' + u % 10);
				u /= 10;
			} while (u != 0);
			if (en->count < 0)
				*--d = '-';
			nd = (size_t)(tmp + sizeof(tmp) - d);
			memcpy(o, d, nd);
			o[nd] = '\n';
			out->len += en->klen + 2 + nd;
		}
		e->batch_out++;
	}
	e->ntouched = 0;
	return 0;
}

static int
reduce_encode(struct eng *e, const struct eng_entry *en, struct ckpt_buf *b)
{
	(void)e;
	return ckpt_enc_int64(b, en->count);
}

_Static_assert(CKPT_ENC_INT64_MAX <= ENG_VALUE_AT_MAX, "encode_at room");

static size_t
reduce_encode_at(const struct eng_entry *en, uint8_t *dst)
{
	return ckpt_enc_int64_at(dst, en->count);
}

static int
reduce_decode(struct eng *e, struct eng_entry *en, const uint8_t *v,
    size_t vlen, struct ckpt_error *err)
{
	struct ckpt_dec d = { v, v + vlen, v };

	(void)e;
	return ckpt_dec_int64(&d, &en->count, err);
}

const struct eng_op_ops eng_op_reduce = {
	.type = "reduceByKey",
	.value_schema = "int64",
	.add = reduce_add,
	.end_batch = reduce_end_batch,
	.encode = reduce_encode,
	.encode_at = reduce_encode_at,
	.decode = reduce_decode,
	.free_ext = NULL,
};

/* ------------------------------------------------------------------ */
/* Windowed reduce with an inverse function                             */
/* ------------------------------------------------------------------ */

/* A key's partial aggregates, one per slide still in the window. */
struct wslides {
	uint32_t n, cap;
	struct { int64_t slide; int64_t v; } s[];
};

static int64_t
batches_per_slide(const struct eng *e)
{
	return e->p.slide_ms / e->p.batch_ms;
}

static int64_t
slides_per_window(const struct eng *e)
{
	return e->p.window_ms / e->p.slide_ms;
}

static int
slide_add(struct eng_entry *en, int64_t slide, int64_t n,
    int64_t (*reduce)(int64_t, int64_t))
{
	struct wslides *w = en->ext;

	if (w != NULL && w->n > 0 && w->s[w->n - 1].slide == slide) {
		w->s[w->n - 1].v = reduce(w->s[w->n - 1].v, n);
		return 0;
	}
	if (w == NULL || w->n == w->cap) {
		uint32_t ncap = w ? w->cap * 2 : 4;
		struct wslides *nw = realloc(w, sizeof(*nw) +
		    ncap * sizeof(nw->s[0]));

		if (nw == NULL)
			return -1;
		if (w == NULL)
			nw->n = 0;
		nw->cap = ncap;
		en->ext = w = nw;
	}
	w->s[w->n].slide = slide;
	w->s[w->n].v = n;
	w->n++;
	return 0;
}

static int
window_add(struct eng *e, const struct eng_rec *r, struct ckpt_error *err)
{
	uint64_t h = eng_hash(r->key, r->klen);
	struct eng_table *t = eng_part(e, h);
	struct eng_entry *en;
	int created;

	en = eng_table_upsert(t, r->key, r->klen, h, &created);
	if (en == NULL)
		return nomem(err);
	en->count = created ? r->n : e->job->reduce(en->count, r->n);
	if (slide_add(en, e->batch / batches_per_slide(e), r->n,
	    e->job->reduce) != 0)
		return nomem(err);
	if (eng_table_dirty(t, en) != 0)
		return nomem(err);
	return 0;
}

struct collect {
	struct eng_entry **v;
	size_t n, cap;
};

static int
collect_cb(void *arg, struct eng_entry *en)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct eng_entry **nv = realloc(c->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->n++] = en;
	return 0;
}

/*
 * At the end of slide j: emit "WINDOW_END_MS<TAB>KEY<TAB>VALUE" for every
 * key of the window in key order, then subtract slide j - n + 1, which
 * leaves the window when slide j + 1 enters it.
 */
static int
window_end_batch(struct eng *e, int64_t batch, struct ckpt_buf *out,
    struct ckpt_error *err)
{
	int64_t bps = batches_per_slide(e), j, leaving, wend;
	struct collect c = { 0 };
	int rc = 0;

	if ((batch + 1) % bps != 0)
		return 0;
	j = batch / bps;
	leaving = j - slides_per_window(e) + 1;
	wend = e->start_ms + (j + 1) * e->p.slide_ms;
	for (int p = 0; p < e->p.partitions; p++)
		if (eng_table_each(&e->parts[p], collect_cb, &c) != 0)
			goto enomem;
	if (eng_entries_sort(c.v, c.n) != 0)
		goto enomem;
	for (size_t i = 0; i < c.n; i++) {
		struct eng_entry *en = c.v[i];
		struct wslides *w = en->ext;
		struct eng_table *t = eng_part(e, en->hash);
		uint32_t keep = 0;
		int changed = 0;

		if (eng_buf_printf(out, "%" PRId64 "\t", wend) != 0 ||
		    ckpt_buf_append(out, en->key, en->klen) != 0 ||
		    eng_buf_printf(out, "\t%" PRId64 "\n", en->count) != 0)
			goto enomem;
		e->batch_out++;
		/* the inverse function: take the leaving slide out */
		for (uint32_t s = 0; w != NULL && s < w->n; s++) {
			if (w->s[s].slide <= leaving) {
				en->count = e->job->inverse(en->count,
				    w->s[s].v);
				changed = 1;
			} else {
				w->s[keep++] = w->s[s];
			}
		}
		if (!changed)
			continue;
		w->n = keep;
		if (en->count == 0 || keep == 0)
			rc = eng_table_delete(t, en, free);
		else
			rc = eng_table_dirty(t, en);
		if (rc != 0)
			goto enomem;
	}
	free(c.v);
	return 0;
enomem:
	free(c.v);
	return nomem(err);
}

/* struct<count:int64,slides:list<struct<slide:int64,count:int64>>> */
static int
window_encode(struct eng *e, const struct eng_entry *en, struct ckpt_buf *b)
{
	const struct wslides *w = en->ext;
	uint32_t n = w ? w->n : 0;

	(void)e;
	if (ckpt_enc_struct_begin(b, 2) != 0 ||
	    ckpt_enc_int64(b, en->count) != 0 ||
	    ckpt_enc_list_begin(b, n) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (ckpt_enc_struct_begin(b, 2) != 0 ||
		    ckpt_enc_int64(b, w->s[i].slide) != 0 ||
		    ckpt_enc_int64(b, w->s[i].v) != 0)
			return -1;
	return 0;
}

static int
window_decode(struct eng *e, struct eng_entry *en, const uint8_t *v,
    size_t vlen, struct ckpt_error *err)
{
	struct ckpt_dec d = { v, v + vlen, v };
	unsigned nf;
	uint64_t n;

	(void)e;
	if (ckpt_dec_struct_begin(&d, &nf, err) != 0 ||
	    ckpt_dec_int64(&d, &en->count, err) != 0 ||
	    ckpt_dec_list_begin(&d, &n, err) != 0)
		return CKPT_FAILED;
	if (nf != 2 || n > (uint64_t)(d.end - d.p))
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "bad window state of key '%.64s'", en->key);
	for (uint64_t i = 0; i < n; i++) {
		int64_t slide, c;

		if (ckpt_dec_struct_begin(&d, &nf, err) != 0 ||
		    ckpt_dec_int64(&d, &slide, err) != 0 ||
		    ckpt_dec_int64(&d, &c, err) != 0)
			return CKPT_FAILED;
		if (slide_add(en, slide, c, e->job->reduce) != 0)
			return nomem(err);
	}
	return CKPT_OK;
}

const struct eng_op_ops eng_op_window = {
	.type = "window",
	.value_schema = "struct<count:int64,slides:list<struct<slide:int64,"
	    "count:int64>>>",
	.add = window_add,
	.end_batch = window_end_batch,
	.encode = window_encode,
	.decode = window_decode,
	.free_ext = free,
};
