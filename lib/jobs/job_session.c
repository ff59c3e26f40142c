/*
 * job_session.c - the session job: keyed state with a timeout.
 *
 * updateStateByKey in the style of the seed's SessionState: per key
 * (user) the event count, the last-seen event time (the largest seen,
 * so a late event never moves it back) and the last max_actions actions
 * in arrival order.  At the end of every batch, a key whose last-seen
 * time lies timeout_ms or more before the batch's end time is closed:
 * emitted as "KEY<TAB>COUNT<TAB>LAST_SEEN_MS<TAB>ACTIONS" (actions
 * joined by ',') in key order and removed from the state.  The expiry
 * scan runs only when the oldest possible last-seen time could have
 * expired, so idle batches cost nothing.  Open sessions stay in the
 * state at the end of the input; nothing is emitted for them.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

struct sess {
	uint32_t n, cap;
	char *a[];		/* NUL-terminated actions, oldest first */
};

/* Lower bound of every live key's last-seen time (INT64_MIN: unknown). */
struct sess_op {
	int64_t oldest;
};

static void
sess_free(void *p)
{
	struct sess *s = p;

	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->n; i++)
		free(s->a[i]);
	free(s);
}

static int
nomem(struct ckpt_error *err)
{
	return ckpt_error_set(err, CKPT_E_NOMEM,
	    "cannot update the session state: out of memory");
}

static struct sess_op *
sess_op(struct eng *e)
{
	if (e->opstate == NULL) {
		e->opstate = malloc(sizeof(struct sess_op));
		if (e->opstate != NULL)
			((struct sess_op *)e->opstate)->oldest = INT64_MIN;
	}
	return e->opstate;
}

/* Appends an action, dropping the oldest beyond max. */
static int
push_action(struct eng_entry *en, const char *v, size_t n, int64_t max)
{
	struct sess *s = en->ext;
	char *copy;

	if (max <= 0)
		return 0;
	copy = malloc(n + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, v, n);
	copy[n] = '\0';
	if (s == NULL || s->n == s->cap) {
		uint32_t ncap = s ? s->cap * 2 : 4;
		struct sess *ns;

		if (s != NULL && (int64_t)s->n >= max) {
			free(s->a[0]);
			memmove(s->a, s->a + 1, (s->n - 1) * sizeof(s->a[0]));
			s->a[s->n - 1] = copy;
			return 0;
		}
		if ((int64_t)ncap > max)
			ncap = (uint32_t)max;
		ns = realloc(s, sizeof(*ns) + ncap * sizeof(ns->a[0]));
		if (ns == NULL) {
			free(copy);
			return -1;
		}
		if (s == NULL)
			ns->n = 0;
		ns->cap = ncap;
		en->ext = s = ns;
	}
	s->a[s->n++] = copy;
	return 0;
}

static int
sess_add(struct eng *e, const struct eng_rec *r, struct ckpt_error *err)
{
	uint64_t h = eng_hash(r->key, r->klen);
	struct eng_table *t = eng_part(e, h);
	struct sess_op *so = sess_op(e);
	struct eng_entry *en;
	int created;

	if (so == NULL)
		return nomem(err);
	en = eng_table_upsert(t, r->key, r->klen, h, &created);
	if (en == NULL)
		return nomem(err);
	en->count += r->n;
	if (created || r->time_ms > en->aux)
		en->aux = r->time_ms;
	if (en->aux < so->oldest)
		so->oldest = en->aux;
	if (push_action(en, r->val, r->vlen, e->p.max_actions) != 0 ||
	    eng_table_dirty(t, en) != 0)
		return nomem(err);
	return 0;
}

struct expire {
	struct eng *e;
	int64_t cutoff;		/* last seen <= cutoff: closed */
	int64_t oldest;		/* of the keys that stay */
	struct eng_entry **v;
	size_t n, cap;
};

static int
expire_cb(void *arg, struct eng_entry *en)
{
	struct expire *x = arg;

	if (en->aux > x->cutoff) {
		if (en->aux < x->oldest)
			x->oldest = en->aux;
		return 0;
	}
	if (x->n == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 64;
		struct eng_entry **nv = realloc(x->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		x->v = nv;
		x->cap = ncap;
	}
	x->v[x->n++] = en;
	return 0;
}

static int
emit_session(struct ckpt_buf *out, const struct eng_entry *en)
{
	const struct sess *s = en->ext;

	if (ckpt_buf_append(out, en->key, en->klen) != 0 ||
	    eng_buf_printf(out, "\t%" PRId64 "\t%" PRId64 "\t", en->count,
	    en->aux) != 0)
		return -1;
	for (uint32_t i = 0; s != NULL && i < s->n; i++)
		if ((i > 0 && ckpt_buf_append(out, ",", 1) != 0) ||
		    ckpt_buf_append(out, s->a[i], strlen(s->a[i])) != 0)
			return -1;
	return ckpt_buf_append(out, "\n", 1);
}

static int
sess_end_batch(struct eng *e, int64_t batch, struct ckpt_buf *out,
    struct ckpt_error *err)
{
	struct sess_op *so = sess_op(e);
	struct expire x = { 0 };

	(void)batch;
	if (so == NULL)
		return nomem(err);
	x.e = e;
	x.cutoff = e->batch_end_ms - e->p.timeout_ms;
	x.oldest = INT64_MAX;
	if (so->oldest != INT64_MIN && so->oldest > x.cutoff)
		return 0;
	for (int p = 0; p < e->p.partitions; p++)
		if (eng_table_each(&e->parts[p], expire_cb, &x) != 0)
			goto enomem;
	so->oldest = x.oldest;
	if (eng_entries_sort(x.v, x.n) != 0)
		goto enomem;
	for (size_t i = 0; i < x.n; i++) {
		struct eng_entry *en = x.v[i];

		if (emit_session(out, en) != 0 ||
		    eng_table_delete(eng_part(e, en->hash), en,
		    sess_free) != 0)
			goto enomem;
		e->batch_out++;
	}
	free(x.v);
	return 0;
enomem:
	free(x.v);
	return nomem(err);
}

/* struct<count:int64,last_seen:timestamp,actions:list<string>> */
static int
sess_encode(struct eng *e, const struct eng_entry *en, struct ckpt_buf *b)
{
	const struct sess *s = en->ext;
	uint32_t n = s ? s->n : 0;

	(void)e;
	if (ckpt_enc_struct_begin(b, 3) != 0 ||
	    ckpt_enc_int64(b, en->count) != 0 ||
	    ckpt_enc_timestamp(b, en->aux) != 0 ||
	    ckpt_enc_list_begin(b, n) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (ckpt_enc_string(b, s->a[i], strlen(s->a[i])) != 0)
			return -1;
	return 0;
}

static int
sess_decode(struct eng *e, struct eng_entry *en, const uint8_t *v,
    size_t vlen, struct ckpt_error *err)
{
	struct ckpt_dec d = { v, v + vlen, v };
	struct sess_op *so = sess_op(e);
	unsigned nf;
	uint64_t n;

	if (so == NULL)
		return nomem(err);
	if (ckpt_dec_struct_begin(&d, &nf, err) != 0 ||
	    ckpt_dec_int64(&d, &en->count, err) != 0 ||
	    ckpt_dec_timestamp(&d, &en->aux, err) != 0 ||
	    ckpt_dec_list_begin(&d, &n, err) != 0)
		return CKPT_FAILED;
	if (nf != 3 || n > (uint64_t)(d.end - d.p))
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "bad session state of key '%.64s'", en->key);
	for (uint64_t i = 0; i < n; i++) {
		const char *s;
		size_t sl;

		if (ckpt_dec_string(&d, &s, &sl, err) != 0)
			return CKPT_FAILED;
		if (push_action(en, s, sl, e->p.max_actions) != 0)
			return nomem(err);
	}
	so->oldest = INT64_MIN;	/* rescan after a restore */
	return CKPT_OK;
}

static const struct eng_op_ops session_op = {
	.type = "session",
	.value_schema = "struct<count:int64,last_seen:timestamp,"
	    "actions:list<string>>",
	.add = sess_add,
	.end_batch = sess_end_batch,
	.encode = sess_encode,
	.decode = sess_decode,
	.free_ext = sess_free,
};

const struct job_def job_session = {
	.name = "session",
	.summary = "per key: event count, last seen, last actions; "
	    "a key idle for the timeout is closed, emitted and removed",
	.input = "EVENT_TIME_MS<TAB>KEY[<TAB>ACTION]",
	.output = "KEY<TAB>COUNT<TAB>LAST_SEEN_MS<TAB>ACTION,ACTION,... "
	    "(closed sessions)",
	.timed = 1,
	.stage = eng_stage_event,
	.op = &session_op,
	.op_name = "sessions",
	.key_schema = "string",
	.graph = "session/1: map(parse TIME KEY ACTION) filter(well-formed) "
	    "updateStateByKey(count+1, last_seen=max, actions+=action "
	    "keep last N; close idle >= timeout at batch end)",
	.defaults = {
		.batch_ms = 10000, .timeout_ms = 30 * 60 * 1000,
		.max_actions = 100, .partitions = 8, .ckpt_every = 10,
		.snapshot_every = 10, .format_version = 2,
	},
	.uses = JOB_USES_TIMEOUT | JOB_USES_ACTIONS,
};
