/*
 * fmt_native_state.c - state versions of a native operator partition
 * (ckpt-format(5), STATE VERSIONS).
 *
 * Version V of a partition is the newest snapshot at or before V plus
 * every delta after it up to V.  The iterator merges those files as a
 * streaming k-way merge in key order: the newest file holding a key
 * wins and a tombstone drops the key.  Memory is one block per file.
 * With CKPT_STATE_RAW_DELTAS it returns exactly one file's records,
 * tombstones included (the delta of V if both kinds exist).
 *
 * Key order inside every file is checked as records stream by; a file
 * out of order fails the iteration naming it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"
#include "../codec/codec.h"

struct src {
	struct nat_freader fr;
	int kind;
	int64_t version;
	int live;		/* has a current record */
	int consumed;		/* advance before the next pick */
	const uint8_t *key;
	size_t klen;
	const uint8_t *val;
	size_t vlen_p1;
	struct ckpt_buf prev;	/* previous key, for the order check */
	int has_prev;
};

struct nat_state_iter {
	struct ckpt *c;
	int op;
	int partition;
	int raw;
	int nsrc;
	struct src *src;
	char *kjson, *vjson;
	size_t kcap, vcap;
	uint64_t records;
	int norender;		/* counting: keys and values stay raw */
};

struct chain_arg {
	int64_t version;
	int64_t snap;		/* newest snapshot <= version, -1 none */
	int have_delta_v, have_snap_v;
	int64_t *deltas;	/* second pass */
	int ndeltas;
	int overflow;
};

static int
snap_cb(void *arg, const struct ckpt_stat *ent)
{
	struct chain_arg *a = arg;
	int64_t v;
	int kind;

	if (ent->is_dir || nat_parse_state_name(ent->name, &v, &kind) != 0 ||
	    v > a->version)
		return 0;
	if (kind == NAT_K_SNAPSHOT && v > a->snap)
		a->snap = v;
	if (v == a->version) {
		if (kind == NAT_K_DELTA)
			a->have_delta_v = 1;
		else
			a->have_snap_v = 1;
	}
	return 0;
}

static int
delta_cb(void *arg, const struct ckpt_stat *ent)
{
	struct chain_arg *a = arg;
	int64_t v;
	int kind;

	if (ent->is_dir || nat_parse_state_name(ent->name, &v, &kind) != 0 ||
	    kind != NAT_K_DELTA || v <= a->snap || v > a->version)
		return 0;
	if (a->ndeltas == NAT_CHAIN_MAX) {
		a->overflow = 1;
		return 1;
	}
	a->deltas[a->ndeltas++] = v;
	return 0;
}

static int
src_open(struct nat_state_iter *it, struct src *s, int64_t v, int kind,
    struct ckpt_error *err)
{
	char path[NAT_PATH_MAX];

	nat_path_state(path, sizeof(path), it->op, it->partition, v, kind);
	s->kind = kind;
	s->version = v;
	s->consumed = 1;	/* load the first record on the first pick */
	s->live = 1;
	return nat_fr_open(it->c->st, path, kind, &s->fr, err);
}

void
nat_state_close(struct ckpt *c, void *state)
{
	struct nat_state_iter *it = state;

	if (it == NULL)
		return;
	for (int i = 0; i < it->nsrc; i++) {
		nat_fr_close(&it->src[i].fr);
		ckpt_buf_release(&it->src[i].prev);
	}
	free(it->src);
	free(it->kjson);
	free(it->vjson);
	free(it);
}

int
nat_state_open(struct ckpt *c, int op, int partition, int64_t version,
    unsigned flags, void **state, struct ckpt_error *err)
{
	struct nat_priv *p = nat_priv_of(c);
	struct nat_state_iter *it;
	struct chain_arg a = { 0 };
	char dir[NAT_PATH_MAX];
	int n;

	*state = NULL;
	if (op < 0 || op >= p->meta.nops)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "no operator %d in '%s'", op, ckpt_store_url(c->st));
	if (partition < 0 || partition >= p->meta.ops[op].partitions)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
		    "operator '%s' has no partition %d", p->meta.ops[op].name,
		    partition);
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot read state: out of memory");
	it->c = c;
	it->op = op;
	it->partition = partition;
	it->raw = (flags & CKPT_STATE_RAW_DELTAS) != 0;
	it->norender = (flags & CKPT_STATE_NO_JSON) != 0;
	if (version == CKPT_NONE)
		version = p->restart_state;
	if (version == CKPT_NONE) {	/* no state checkpoint yet */
		if (it->raw) {
			nat_state_close(c, it);
			return ckpt_error_set(err, CKPT_E_NOTFOUND,
			    "operator '%s' partition %d has no state "
			    "checkpoint in '%s'", p->meta.ops[op].name,
			    partition, ckpt_store_url(c->st));
		}
		*state = it;
		return CKPT_OK;
	}
	a.version = version;
	a.snap = -1;
	snprintf(dir, sizeof(dir), "state/%d/%d", op, partition);
	if (nat_list(c->st, dir, snap_cb, &a, err) != CKPT_OK)
		goto fail;
	if (it->raw) {
		if (!a.have_delta_v && !a.have_snap_v) {
			ckpt_error_set(err, CKPT_E_NOTFOUND,
			    "operator '%s' partition %d has no state file at "
			    "version %" PRId64, p->meta.ops[op].name,
			    partition, version);
			goto fail;
		}
		it->src = calloc(1, sizeof(*it->src));
		if (it->src == NULL)
			goto nomem;
		it->nsrc = 1;
		if (src_open(it, &it->src[0], version, a.have_delta_v ?
		    NAT_K_DELTA : NAT_K_SNAPSHOT, err) != CKPT_OK)
			goto fail;
		*state = it;
		return CKPT_OK;
	}
	a.deltas = malloc(NAT_CHAIN_MAX * sizeof(*a.deltas));
	if (a.deltas == NULL)
		goto nomem;
	if (nat_list(c->st, dir, delta_cb, &a, err) != CKPT_OK) {
		free(a.deltas);
		goto fail;
	}
	if (a.overflow) {
		free(a.deltas);
		ckpt_error_set(err, CKPT_E_FORMAT, "cannot read '%s': more "
		    "than %d deltas after the newest snapshot", dir,
		    NAT_CHAIN_MAX);
		goto fail;
	}
	n = a.ndeltas + (a.snap >= 0);
	it->src = calloc(n ? (size_t)n : 1, sizeof(*it->src));
	if (it->src == NULL) {
		free(a.deltas);
		goto nomem;
	}
	if (a.snap >= 0) {
		if (src_open(it, &it->src[it->nsrc++], a.snap, NAT_K_SNAPSHOT,
		    err) != CKPT_OK) {
			free(a.deltas);
			goto fail;
		}
	}
	for (int i = 0; i < a.ndeltas; i++) {
		if (src_open(it, &it->src[it->nsrc++], a.deltas[i],
		    NAT_K_DELTA, err) != CKPT_OK) {
			free(a.deltas);
			goto fail;
		}
	}
	free(a.deltas);
	*state = it;
	return CKPT_OK;
nomem:
	ckpt_error_set(err, CKPT_E_NOMEM, "cannot read state: out of memory");
fail:
	nat_state_close(c, it);
	return CKPT_FAILED;
}

/* Moves s to its next record, checking key order and tombstones. */
static int
src_advance(struct src *s, struct ckpt_error *err)
{
	int rc;

	if (s->live && s->key != NULL) {
		s->prev.len = 0;
		if (ckpt_buf_append(&s->prev, s->key, s->klen) != 0)
			return ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot read '%s': out of memory", s->fr.path);
		s->has_prev = 1;
	}
	s->consumed = 0;
	rc = nat_fr_next_record(&s->fr, &s->key, &s->klen, &s->val,
	    &s->vlen_p1, err);
	if (rc == CKPT_EOF) {
		s->live = 0;
		s->key = NULL;
		return CKPT_OK;
	}
	if (rc != CKPT_OK)
		return CKPT_FAILED;
	if (s->has_prev && ckpt_key_cmp(s->prev.data, s->prev.len, s->key,
	    s->klen) >= 0) {
		s->fr.fail_off = (int64_t)s->fr.blk_off;
		snprintf(s->fr.why, sizeof(s->fr.why), "block %" PRIu64
		    " at offset %" PRIu64 ": keys are not in strictly "
		    "ascending order", s->fr.blk_index, s->fr.blk_off);
		return ckpt_error_set(err, CKPT_E_FORMAT, "cannot read '%s': "
		    "%s", s->fr.path, s->fr.why);
	}
	if (s->vlen_p1 == 0 && s->kind == NAT_K_SNAPSHOT) {
		s->fr.fail_off = (int64_t)s->fr.blk_off;
		snprintf(s->fr.why, sizeof(s->fr.why), "block %" PRIu64
		    " at offset %" PRIu64 ": a snapshot holds a tombstone",
		    s->fr.blk_index, s->fr.blk_off);
		return ckpt_error_set(err, CKPT_E_FORMAT, "cannot read '%s': "
		    "%s", s->fr.path, s->fr.why);
	}
	return CKPT_OK;
}

/* Renders bytes through schema s into *buf, or {"hex":...} if they do
 * not decode. */
static int
render(const struct ckpt_schema *s, const uint8_t *p, size_t n, char **buf,
    size_t *cap, struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	size_t len = 0;
	static const char hx[] = "0123456789abcdef";

	if (ckpt_value_to_json(s, p, n, buf, &len, cap, &e2) == CKPT_OK)
		return CKPT_OK;
	if (*cap < 2 * n + 12) {
		char *nb = realloc(*buf, 2 * n + 12);

		if (nb == NULL)
			return ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot render state: out of memory");
		*buf = nb;
		*cap = 2 * n + 12;
	}
	memcpy(*buf, "{\"hex\":\"", 8);
	for (size_t i = 0; i < n; i++) {
		(*buf)[8 + 2 * i] = hx[p[i] >> 4];
		(*buf)[9 + 2 * i] = hx[p[i] & 15];
	}
	memcpy(*buf + 8 + 2 * n, "\"}", 3);
	return CKPT_OK;
}

int
nat_state_next(struct ckpt *c, void *state, struct ckpt_record *out,
    struct ckpt_error *err)
{
	struct nat_state_iter *it = state;
	const struct nat_op *o = &nat_priv_of(c)->meta.ops[it->op];
	struct src *win;

	for (;;) {
		win = NULL;
		for (int i = 0; i < it->nsrc; i++) {
			struct src *s = &it->src[i];

			if (s->consumed && s->live &&
			    src_advance(s, err) != CKPT_OK)
				return CKPT_FAILED;
		}
		/* the newest source with the smallest key wins */
		for (int i = 0; i < it->nsrc; i++) {
			struct src *s = &it->src[i];

			if (!s->live)
				continue;
			if (win == NULL || ckpt_key_cmp(s->key, s->klen, win->key,
			    win->klen) <= 0)
				win = s;
		}
		if (win == NULL)
			return CKPT_EOF;
		for (int i = 0; i < it->nsrc; i++) {
			struct src *s = &it->src[i];

			if (s->live && ckpt_key_cmp(s->key, s->klen, win->key,
			    win->klen) == 0)
				s->consumed = 1;
		}
		if (win->vlen_p1 == 0 && !it->raw)
			continue;	/* deleted */
		break;
	}
	memset(out, 0, sizeof(*out));
	out->key = win->key;
	out->key_len = win->klen;
	out->value = win->vlen_p1 ? win->val : NULL;
	out->value_len = win->vlen_p1 ? win->vlen_p1 - 1 : 0;
	out->partition = it->partition;
	it->records++;
	if (it->norender)
		return CKPT_OK;
	if (render(o->key_schema, win->key, win->klen, &it->kjson, &it->kcap,
	    err) != CKPT_OK)
		return CKPT_FAILED;
	if (out->value != NULL) {
		if (render(o->value_schema, out->value, out->value_len,
		    &it->vjson, &it->vcap, err) != CKPT_OK)
			return CKPT_FAILED;
		out->value_json = it->vjson;
	} else {
		out->value_json = "null";
	}
	out->key_json = it->kjson;
	return CKPT_OK;
}

int
nat_state_count(struct ckpt *c, int op, int partition, int64_t version,
    int64_t *n, struct ckpt_error *err)
{
	void *state = NULL;
	struct ckpt_record r;
	int rc;

	*n = 0;
	if (nat_state_open(c, op, partition, version, 0, &state, err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	((struct nat_state_iter *)state)->norender = 1;
	while ((rc = nat_state_next(c, state, &r, err)) == CKPT_OK)
		(*n)++;
	nat_state_close(c, state);
	return rc == CKPT_EOF ? CKPT_OK : CKPT_FAILED;
}

uint64_t
nat_state_peak(void *state)
{
	struct nat_state_iter *it = state;
	uint64_t n = 0;

	if (it == NULL)
		return 0;
	for (int i = 0; i < it->nsrc; i++)
		n += it->src[i].fr.peak + it->src[i].prev.cap;
	return n;
}
