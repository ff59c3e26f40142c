/*
 * engine_src_gen.c - the generator source: deterministic input lines.
 *
 * Line i is a pure function of (seed, i), computed with splitmix64, so
 * the position is just the line number, seeking is free and a replay
 * yields the same bytes.  Timed lines are "TIME<TAB>KEY<TAB>ACTION":
 * time advances by 1000/rate ms per event, jumps by gap_ms after every
 * gap_every events (idle gaps, which close sessions), and late_pct
 * percent of events carry a time up to late_ms in the past (late
 * events).  skew_pct percent of keys come from the hot 1% of the key
 * space; the others are uniform.  Text lines (wordcount) hold 1 to 8
 * words drawn the same way.  No floating point: the same on every
 * machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct gsrc {
	struct eng_source base;
	struct eng_gen_params p;
	char line[512];
};

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* The r-th random number of event i. */
static uint64_t
rnd(const struct gsrc *s, uint64_t i, unsigned r)
{
	return splitmix64(s->p.seed * 0x100000001B3ull ^
	    splitmix64(i * 16 + r));
}

static uint64_t
pick_key(const struct gsrc *s, uint64_t i, unsigned r)
{
	uint64_t hot = s->p.keys / 100 ? s->p.keys / 100 : 1;

	if (rnd(s, i, r) % 100 < s->p.skew_pct)
		return rnd(s, i, r + 1) % hot;
	return rnd(s, i, r + 1) % s->p.keys;
}

static int
gsrc_next(struct eng_source *src, struct eng_line *out, int *done,
    struct ckpt_error *err)
{
	struct gsrc *s = (struct gsrc *)src;
	uint64_t i = src->pos.rec;
	int n;

	(void)err;
	*done = 0;
	if (i >= s->p.events) {
		*done = 1;
		return CKPT_EOF;
	}
	if (s->p.timed) {
		static const char *const actions[] = { "view", "click",
		    "cart", "buy", "search", "login", "logout", "share" };
		int64_t t = s->p.start_ms +
		    (int64_t)(i * 1000 / (s->p.rate ? s->p.rate : 1));

		if (s->p.gap_every > 0)
			t += (int64_t)(i / s->p.gap_every) * s->p.gap_ms;
		if (s->p.late_ms > 0 && rnd(s, i, 0) % 100 < s->p.late_pct)
			t -= (int64_t)(rnd(s, i, 1) %
			    (uint64_t)s->p.late_ms) + 1;
		n = snprintf(s->line, sizeof(s->line),
		    "%" PRId64 "\tk%" PRIu64 "\t%s", t, pick_key(s, i, 2),
		    actions[rnd(s, i, 4) % 8]);
	} else {
		unsigned words = 1 + (unsigned)(rnd(s, i, 0) % 8);

		n = 0;
		for (unsigned w = 0; w < words; w++)
			n += snprintf(s->line + n, sizeof(s->line) - (size_t)n,
			    "%sw%" PRIu64, w ? " " : "",
			    pick_key(s, i, 2 + 2 * w));
	}
	out->data = s->line;
	out->len = (size_t)n;
	out->too_long = 0;
	src->pos.rec++;
	return CKPT_OK;
}

static int
gsrc_seek(struct eng_source *src, const struct eng_pos *pos,
    struct ckpt_error *err)
{
	(void)err;
	src->pos = *pos;
	return CKPT_OK;
}

static void
gsrc_close(struct eng_source *src)
{
	free(src);
}

static const struct eng_source_ops gsrc_ops = {
	.name = "generator",
	.next = gsrc_next,
	.seek = gsrc_seek,
	.wait = NULL,
	.release = NULL,
	.close = gsrc_close,
};

int
eng_source_gen_open(struct ckpt_ctx *ctx, const struct eng_gen_params *p,
    struct eng_source **out, struct ckpt_error *err)
{
	struct gsrc *s;

	*out = NULL;
	if (p->keys == 0 || p->rate == 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot start the generator: keys and rate must be "
		    "positive");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot start the generator: out of memory");
	s->base.ops = &gsrc_ops;
	s->base.ctx = ctx;
	s->p = *p;
	*out = &s->base;
	return CKPT_OK;
}
