/*
 * ops_merge.c - one sorted record stream over several state partitions.
 *
 * diff compares two such streams; migrate writes them out, either as
 * they are (format, rename, copy) or routed to new partitions
 * (repartition: every source partition is merged and a keep filter
 * picks the keys of one target partition, so the target's keys come
 * out in ascending order as the writer requires).  Each source is a
 * ckpt_state_open() iterator; the smallest head is found by a linear
 * scan, which is cheap for the partition counts jobs use.  Every
 * format yields a partition's records in ascending bytewise key order
 * (native: a streaming merge of snapshot and deltas; Spark: the
 * partition rebuilt and sorted by its driver); a source that does not
 * is reported, never silently mis-compared.  This file does not decode
 * values and holds no more than one block per source plus one copy of
 * the last key (for the order check).  ops_merge_zip() walks two
 * streams side by side for diff (what changed), migrate (the delta to
 * write) and migrate's check of a copy (nothing changed).
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "../codec/codec.h"

struct merge_src {
	struct ckpt_state_iter *it;
	struct ckpt_record rec;
	int live;		/* rec holds the head */
	int partition;
};

struct ops_merge {
	struct ckpt *c;
	int op;
	int n;
	struct merge_src *src;
	ops_keep_fn keep;
	void *keep_arg;
	uint8_t *last;		/* copy of the last key returned */
	size_t last_len;
	size_t last_cap;
	int have_last;
	int last_src;
};

/* Loads the next record of s into s->rec (s->live 0 at the end). */
static int
src_advance(struct merge_src *s, struct ckpt_error *err)
{
	int rc;

	if (s->it == NULL) {
		s->live = 0;
		return CKPT_OK;
	}
	rc = ckpt_state_next(s->it, &s->rec, err);
	if (rc == CKPT_EOF) {
		s->live = 0;
		return CKPT_OK;
	}
	if (rc != CKPT_OK)
		return rc;
	s->live = 1;
	return CKPT_OK;
}

int
ops_merge_open(struct ckpt *c, int op, int first_part, int nparts,
	int64_t version, ops_keep_fn keep, void *keep_arg,
	struct ops_merge **out, struct ckpt_error *err)
{
	struct ops_merge *m;
	int i, rc;

	*out = NULL;
	if (nparts < 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot merge state: bad partition count %d", nparts);
	m = calloc(1, sizeof(*m));
	if (m == NULL || (nparts > 0 &&
	    (m->src = calloc((size_t)nparts, sizeof(*m->src))) == NULL)) {
		free(m);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot merge state: out of memory");
	}
	m->c = c;
	m->op = op;
	m->n = nparts;
	m->keep = keep;
	m->keep_arg = keep_arg;
	m->last_src = -1;
	for (i = 0; i < nparts; i++) {
		m->src[i].partition = first_part + i;
		if (version != CKPT_NONE) {
			rc = ckpt_state_open(c, op, first_part + i, version, 0,
			    &m->src[i].it, err);
			if (rc != CKPT_OK)
				goto fail;
		}
		rc = src_advance(&m->src[i], err);
		if (rc != CKPT_OK)
			goto fail;
	}
	*out = m;
	return CKPT_OK;
fail:
	ops_merge_close(m);
	return rc;
}

/* Remembers key as the last one returned (for the order check). */
static int
merge_remember(struct ops_merge *m, const uint8_t *key, size_t len,
	struct ckpt_error *err)
{
	if (len > m->last_cap) {
		size_t cap = len < 64 ? 64 : len;
		uint8_t *p = realloc(m->last, cap);

		if (p == NULL)
			return ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot merge state: out of memory");
		m->last = p;
		m->last_cap = cap;
	}
	if (len)
		memcpy(m->last, key, len);
	m->last_len = len;
	m->have_last = 1;
	return CKPT_OK;
}

/*
 * Returns the smallest head that passes the filter.  The previous
 * winner was advanced before, so its record is fresh.
 */
int
ops_merge_next(struct ops_merge *m, struct ckpt_record *out,
	struct ckpt_error *err)
{
	int i, best, rc, cmp;

	if (m->last_src >= 0) {
		rc = src_advance(&m->src[m->last_src], err);
		if (rc != CKPT_OK)
			return rc;
		m->last_src = -1;
	}
	for (;;) {
		best = -1;
		for (i = 0; i < m->n; i++) {
			if (!m->src[i].live)
				continue;
			if (best < 0) {
				best = i;
				continue;
			}
			cmp = ckpt_key_cmp(m->src[i].rec.key,
			    m->src[i].rec.key_len, m->src[best].rec.key,
			    m->src[best].rec.key_len);
			if (cmp == 0)
				return ckpt_error_set(err, CKPT_E_FORMAT,
				    "cannot merge state of operator %d: a key "
				    "is in partitions %d and %d", m->op,
				    m->src[best].partition,
				    m->src[i].partition);
			if (cmp < 0)
				best = i;
		}
		if (best < 0)
			return CKPT_EOF;
		if (m->have_last && ckpt_key_cmp(m->last, m->last_len,
		    m->src[best].rec.key, m->src[best].rec.key_len) >= 0)
			return ckpt_error_set(err, CKPT_E_FORMAT,
			    "cannot merge state of operator %d partition %d: "
			    "keys are not in ascending order", m->op,
			    m->src[best].partition);
		rc = merge_remember(m, m->src[best].rec.key,
		    m->src[best].rec.key_len, err);
		if (rc != CKPT_OK)
			return rc;
		if (m->keep == NULL || m->keep(m->keep_arg,
		    m->src[best].rec.key, m->src[best].rec.key_len)) {
			*out = m->src[best].rec;
			out->partition = m->src[best].partition;
			m->last_src = best;
			return CKPT_OK;
		}
		rc = src_advance(&m->src[best], err);
		if (rc != CKPT_OK)
			return rc;
	}
}

/* Next record of m into *rec; *have 0 at the end. */
static int
merge_step(struct ops_merge *m, struct ckpt_record *rec, int *have,
	struct ckpt_error *err)
{
	int rc = ops_merge_next(m, rec, err);

	if (rc < 0)
		return rc;
	*have = rc == CKPT_OK;
	return CKPT_OK;
}

int
ops_merge_zip(struct ops_merge *a, struct ops_merge *b, ops_zip_fn fn,
	void *arg, struct ckpt_error *err)
{
	struct ckpt_record ra, rb;
	int rc, ha = 0, hb = 0, cmp, stop = 0;
	char change;

	rc = merge_step(a, &ra, &ha, err);
	if (rc == CKPT_OK)
		rc = merge_step(b, &rb, &hb, err);
	while (rc == CKPT_OK && (ha || hb) && !stop) {
		cmp = ha && hb ? ckpt_key_cmp(ra.key, ra.key_len, rb.key,
		    rb.key_len) : ha ? -1 : 1;
		if (cmp != 0)
			change = cmp < 0 ? '-' : '+';
		else if (ra.value_len != rb.value_len || (ra.value_len &&
		    memcmp(ra.value, rb.value, ra.value_len) != 0))
			change = 'M';
		else
			change = '=';
		rc = fn(arg, change, ha ? &ra : NULL, hb ? &rb : NULL);
		if (rc == CKPT_EOF) {
			stop = 1;
			rc = CKPT_OK;
		}
		if (rc == CKPT_OK && cmp <= 0)
			rc = merge_step(a, &ra, &ha, err);
		if (rc == CKPT_OK && cmp >= 0)
			rc = merge_step(b, &rb, &hb, err);
	}
	return rc;
}

void
ops_merge_close(struct ops_merge *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		ckpt_state_close(m->src[i].it);
	free(m->src);
	free(m->last);
	free(m);
}
