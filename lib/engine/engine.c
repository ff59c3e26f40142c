/*
 * engine.c - ckpt_run(): the batch loop, state checkpoints, recovery.
 *
 * getOrCreate (DESIGN.md section 4): if the checkpoint directory holds
 * a checkpoint of this job, its stored configuration wins (a flag that
 * contradicts it is refused with CKPT_E_CONFIG), the state is restored
 * from the newest state checkpoint S at or before the restart point R,
 * batches S+1..R are recomputed from the input positions their offsets
 * and commit entries recorded (their committed output is compared, not
 * rewritten), and the run continues with batch R+1.  Otherwise a new
 * directory is created.
 *
 * A batch: lines are read and cut by logical time (batch k covers
 * [start + k*interval, start + (k+1)*interval)), or by arrival for a
 * wall-clock source; the job's stage and operator process them in
 * memory; every checkpoint interval (and at the end, and on a stop
 * request) the state of each partition is captured as a snapshot or a
 * delta of the keys changed since the previous state checkpoint.  Then
 * the batch is written: offsets/N (the input start and the batch time;
 * before the batch runs for a wall-clock source), the state files,
 * output/N, and the commit entry, carrying the input end position,
 * which makes it all durable at once.  The writing runs on a persister
 * thread while the next batches are computed ("Pipeline" below).
 * Nothing written depends on the wall clock for logical-time sources,
 * so the same input and configuration give byte-identical output and
 * state.
 *
 * What this file does not do: parse input (sources), know what a job
 * computes (stages and operators), lay out bytes (the native writer).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "engine_json.h"
#include "../codec/codec.h"
#include "../format/native.h"
#include "../ctx.h"
#include "../ctx_test.h"
#include "../jobs/job.h"

#define OUT_PATH_FMT "output/%020" PRId64

/*
 * Batch buffers: the one being computed and those waiting for the
 * persister thread (their outputs wait in memory, nothing of them is
 * on disk yet).
 */
#define ENG_QUEUE 8

struct bstate;
struct ckwrite;
struct run;

static int settle_all(struct run *r, struct ckpt_error *err);

/*
 * What a thread that fills partitions keeps from one to the next: its
 * zstd context and its sort scratch (one partition's worth, so the
 * checkpoint's memory does not grow with a scratch per partition:
 * that memory is the cache the engine's tables share).
 */
struct ckfill {
	struct ckpt_zstd *z;		/* NULL: one per file */
	struct eng_kitem *tmp;
	size_t tmpcap;
};

struct run {
	struct eng e;
	struct ckpt_run_result *res;
	struct ckpt_nwriter *w;
	struct ckpt *rd;		/* reader on the writer's store */
	struct eng_source *src;
	const char *url;
	char dir_hint[300];
	char lock_what[64];		/* "ckpt run wordcount" */
	/* a line read ahead that belongs to a later batch */
	char *pend;
	size_t pend_len;
	int pend_too_long;
	int have_pend;
	int64_t pend_time;
	struct eng_pos pend_pos;	/* source position before it */
	int src_done;
	int64_t since_snapshot;		/* -1: the next checkpoint is full */
	uint64_t dir_bytes;
	int64_t prev_sched;
	int sched_growth;
	int64_t new_batches;
	struct ckpt_buf out, json;	/* replay output; commit extra */
	/* counters of the batch being computed */
	uint64_t b_in, b_malformed;
	/*
	 * The persister (section "Pipeline"): batch buffers, the free
	 * ones, the queue of computed ones (a ring), its state.
	 */
	struct bstate *pool[ENG_QUEUE];
	struct bstate *freel[ENG_QUEUE], *q[ENG_QUEUE];
	int nfree, qhead, qlen;
	int busy;			/* the persister holds a batch */
	int ck_busy;			/* r->ck is captured, not written */
	int ck_help;			/* its partitions may be claimed */
	int pstop;			/* end when the queue is empty */
	int pfailed;			/* it failed: perr says why */
	struct ckpt_error perr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t pth;
	int pth_on;
	struct ckwrite *ck;		/* the captured state checkpoint */
	int async_ok;			/* may use the persister thread */
	int prep_ok;			/* the engine may prepare outputs */
	/* what each thread compresses and sorts with */
	struct ckfill ef, pf, ff;	/* engine, persister, filler */
	/* the filler: fills state partitions from the capture on */
	pthread_t fth;
	int fth_on, fstop;
	unsigned ck_gen;		/* checkpoints opened to claiming */
	struct eng_pin pin;		/* where the threads run */
};

void
ckpt_run_opts_init(struct ckpt_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->gen_skew_pct = -1;
	o->gen_late_pct = -1;
	o->gen_late_ms = -1;
	o->gen_gap_ms = -1;
	o->gen_start_ms = -1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void
eng_warn(struct eng *e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (e->o->on_warning == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->o->on_warning(e->o->cb_arg, msg);
}

static int
stopping(const struct run *r)
{
	return (r->e.o->stop != NULL && *r->e.o->stop != 0) ||
	    ckpt_ctx_interrupted(r->e.ctx);
}

static int
nomem(struct ckpt_error *err, const char *what)
{
	return ckpt_error_set(err, CKPT_E_NOMEM, "cannot %s: out of memory",
	    what);
}

/* ------------------------------------------------------------------ */
/* Parameters                                                           */
/* ------------------------------------------------------------------ */

static void
fmt_dur(int64_t ms, char *buf, size_t len)
{
	ckpt_duration_format(ms, buf, len);
}

/*
 * One parameter: the flag's value (0 = not given), the directory's (0 =
 * none), the job's default.  A given value that contradicts the
 * directory is a configuration error naming both.
 */
static int
pick(struct run *r, const char *flag, int64_t given, int64_t stored,
    int64_t *out, int is_dur, struct ckpt_error *err)
{
	char a[32], b[32];

	if (given != 0 && stored != 0 && given != stored) {
		if (is_dur) {
			fmt_dur(stored, a, sizeof(a));
			fmt_dur(given, b, sizeof(b));
		} else {
			snprintf(a, sizeof(a), "%" PRId64, stored);
			snprintf(b, sizeof(b), "%" PRId64, given);
		}
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' was written with %s %s, not %s: use a new "
		    "versioned directory (e.g. '%s') or 'ckpt migrate'",
		    r->url, flag, a, b, r->dir_hint);
	}
	if (given != 0)
		*out = given;
	else if (stored != 0)
		*out = stored;
	return CKPT_OK;
}

/* Checks the parameters are usable; warns about unwise ones. */
static int
params_check(struct run *r, struct ckpt_error *err)
{
	struct eng_params *p = &r->e.p;
	const struct job_def *j = r->e.job;
	const struct ckpt_run_opts *o = r->e.o;
	char a[32], b[32];

	if (p->batch_ms <= 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad batch interval: it must be positive");
	if (p->partitions < 1 || p->partitions > 65536)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad partition count %d: it must be between 1 and 65536",
		    p->partitions);
	if ((j->uses & JOB_USES_RATE) && p->rate <= 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad rate %" PRId64 ": it must be positive", p->rate);
	if (p->format_version != 1 && p->format_version != 2)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad format version %d: ckpt writes versions 1 and 2",
		    p->format_version);
	if (p->snapshot_every < 1)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad --snapshot-every %d: it must be at least 1",
		    p->snapshot_every);
	if (j->uses & JOB_USES_WINDOW) {
		fmt_dur(p->slide_ms, a, sizeof(a));
		fmt_dur(p->batch_ms, b, sizeof(b));
		if (p->slide_ms <= 0 || p->slide_ms % p->batch_ms != 0)
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "slide %s is not a multiple of the batch interval "
			    "%s: a window can only move by whole batches", a,
			    b);
		if (p->window_ms <= 0 || p->window_ms % p->slide_ms != 0) {
			fmt_dur(p->window_ms, b, sizeof(b));
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "window %s is not a multiple of the slide %s: the "
			    "inverse function removes whole slides", b, a);
		}
	}
	if ((j->uses & JOB_USES_TIMEOUT) && p->timeout_ms <= 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad timeout: it must be positive");
	if ((j->uses & JOB_USES_ACTIONS) &&
	    (p->max_actions < 0 || p->max_actions > 100000))
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad --max-actions %" PRId64 ": it must be 0..100000",
		    p->max_actions);
	if (o->checkpoint_ms != 0) {
		fmt_dur(o->checkpoint_ms, a, sizeof(a));
		fmt_dur(p->batch_ms, b, sizeof(b));
		if (o->checkpoint_ms < 0 || o->checkpoint_ms % p->batch_ms)
			return ckpt_error_set(err, CKPT_E_CONFIG,
			    "checkpoint interval %s is not a multiple of the "
			    "batch interval %s: state can only be "
			    "checkpointed between batches", a, b);
		p->ckpt_every = o->checkpoint_ms / p->batch_ms;
	} else if (o->checkpoint_batches != 0) {
		p->ckpt_every = o->checkpoint_batches;
	}
	if (p->ckpt_every < 1)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad checkpoint interval: it must be at least one batch");
	if ((j->uses & JOB_USES_WINDOW) &&
	    (p->ckpt_every * p->batch_ms) % p->slide_ms != 0) {
		fmt_dur(p->ckpt_every * p->batch_ms, a, sizeof(a));
		fmt_dur(p->slide_ms, b, sizeof(b));
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint interval %s is not a multiple of the slide %s: "
		    "a windowed state must be checkpointed at slide "
		    "boundaries, as Spark requires", a, b);
	}
	if (p->ckpt_every < 5 || p->ckpt_every > 10) {
		fmt_dur(p->ckpt_every * p->batch_ms, a, sizeof(a));
		eng_warn(&r->e, "checkpoint interval %s is %" PRId64 "x the "
		    "batch interval; 5-10x is recommended (%s)", a,
		    p->ckpt_every, p->ckpt_every < 5 ?
		    "more often costs I/O on every few batches" :
		    "less often makes recovery replay more batches");
	}
	return CKPT_OK;
}

/* Suggested versioned directory name for messages: "<dir>-v2". */
static void
make_hint(struct run *r)
{
	size_t n = strlen(r->url);

	while (n > 1 && r->url[n - 1] == '/')
		n--;
	snprintf(r->dir_hint, sizeof(r->dir_hint), "%.*s-v2", (int)n,
	    r->url);
}

/*
 * Reads the stored job of an existing directory and merges parameters:
 * flags > directory > job defaults.  *resumed says whether one exists.
 */
static int
params_resolve(struct run *r, char **id, int *resumed,
    struct ckpt_error *err)
{
	const struct ckpt_run_opts *o = r->e.o;
	const struct job_def *j = r->e.job;
	struct eng_params st = { 0 };
	struct ckpt_error lerr = { 0 };
	struct ckpt_job_desc d;
	struct ckpt *c = NULL;
	int rc = CKPT_OK;
	int64_t v;

	r->e.p = j->defaults;
	*resumed = 0;
	*id = NULL;
	if (ckpt_open(r->e.ctx, r->url, &c, &lerr) != CKPT_OK) {
		if (lerr.kind == CKPT_E_NOTFOUND || lerr.kind == CKPT_E_NOTCKPT)
			goto flags_only;
		*err = lerr;
		return CKPT_FAILED;
	}
	if (ckpt_native_job(c, &d, err) != CKPT_OK) {
		rc = CKPT_FAILED;
		goto out;
	}
	*resumed = 1;
	if (d.job == NULL || strcmp(d.job, j->name) != 0) {
		rc = ckpt_error_set(err, CKPT_E_CONFIG,
		    "checkpoint '%s' was written by job '%s', not '%s': use a "
		    "new versioned directory (e.g. '%s') or 'ckpt migrate'",
		    r->url, d.job ? d.job : "?", j->name, r->dir_hint);
		goto out;
	}
	if (eng_config_parse(d.config_json, &st, err) != CKPT_OK) {
		rc = CKPT_FAILED;
		goto out;
	}
	if (d.nops >= 1)
		st.partitions = d.ops[0].partitions;
	st.format_version = d.format_version;
	st.snapshot_every = d.snapshot_every;
	if (d.id != NULL)
		*id = strdup(d.id);
	if (pick(r, "--batch-interval", o->batch_ms, st.batch_ms,
	    &r->e.p.batch_ms, 1, err) != 0 ||
	    pick(r, "--rate", o->rate, st.rate, &r->e.p.rate, 0, err) != 0 ||
	    pick(r, "--window", o->window_ms, st.window_ms,
	    &r->e.p.window_ms, 1, err) != 0 ||
	    pick(r, "--slide", o->slide_ms, st.slide_ms, &r->e.p.slide_ms, 1,
	    err) != 0 ||
	    pick(r, "--timeout", o->timeout_ms, st.timeout_ms,
	    &r->e.p.timeout_ms, 1, err) != 0 ||
	    pick(r, "--max-actions", o->max_actions, st.max_actions,
	    &r->e.p.max_actions, 0, err) != 0 ||
	    pick(r, "--partitions", o->partitions, st.partitions, &v, 0,
	    err) != 0 ||
	    pick(r, "--format-version", o->format_version, st.format_version,
	    &v, 0, err) != 0) {
		rc = CKPT_FAILED;
		goto out;
	}
	r->e.p.partitions = st.partitions;
	r->e.p.format_version = st.format_version;
	if (st.ckpt_every > 0)
		r->e.p.ckpt_every = st.ckpt_every;
	if (st.snapshot_every > 0)
		r->e.p.snapshot_every = st.snapshot_every;
	if (o->snapshot_every != 0)
		r->e.p.snapshot_every = o->snapshot_every;
	goto out;

flags_only:
	if (o->batch_ms)
		r->e.p.batch_ms = o->batch_ms;
	if (o->rate)
		r->e.p.rate = o->rate;
	if (o->window_ms)
		r->e.p.window_ms = o->window_ms;
	if (o->slide_ms)
		r->e.p.slide_ms = o->slide_ms;
	if (o->timeout_ms)
		r->e.p.timeout_ms = o->timeout_ms;
	if (o->max_actions)
		r->e.p.max_actions = o->max_actions;
	if (o->partitions)
		r->e.p.partitions = o->partitions;
	if (o->format_version)
		r->e.p.format_version = o->format_version;
	if (o->snapshot_every)
		r->e.p.snapshot_every = o->snapshot_every;
out:
	ckpt_close(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Directory size (metrics)                                             */
/* ------------------------------------------------------------------ */

struct du {
	struct ckpt_store *st;
	char dir[1024];
	uint64_t bytes;
	struct ckpt_error *err;
	int failed;
};

static int
du_cb(void *arg, const struct ckpt_stat *ent)
{
	struct du *d = arg;

	if (ent->is_dir) {
		size_t n = strlen(d->dir);

		if (n + strlen(ent->name) + 2 >= sizeof(d->dir))
			return 0;
		snprintf(d->dir + n, sizeof(d->dir) - n, "%s%s",
		    n ? "/" : "", ent->name);
		if (ckpt_store_list(d->st, d->dir, CKPT_LIST_NAME, NULL,
		    du_cb, d, d->err) != CKPT_OK)
			d->failed = 1;
		d->dir[n] = '\0';
		return d->failed;
	}
	d->bytes += ent->size;
	return 0;
}

static uint64_t
dir_size(struct ckpt_store *st)
{
	struct ckpt_error err = { 0 };
	struct du d = { .st = st, .err = &err };

	ckpt_store_list(st, "", CKPT_LIST_NAME, NULL, du_cb, &d, &err);
	return d.bytes;
}

/* ------------------------------------------------------------------ */
/* State checkpoints and restore                                        */
/* ------------------------------------------------------------------ */

/*
 * A state checkpoint is taken in two steps.  capture() runs on the
 * engine's thread between batches: it encodes every key to write
 * (snapshot: all live keys; delta: the dirty ones, removed keys as
 * tombstones) into one arena per partition, so the tables may change
 * right after.  Then each partition's keys are sorted and written as
 * its state file through the native writer (ckw_fill): with threads,
 * into memory from the capture on by the filler, the persister or the
 * waiting engine, the persister creating the files in order when it
 * reaches the batch (ckw_write); without, by the persister (or inline)
 * straight into the files.  The arenas are kept for the next
 * checkpoint.
 */
struct ckpart {
	struct ckpt_buf kbuf;		/* captured items (struct eng_khdr) */
	struct eng_kitem *v;		/* n sort handles */
	size_t n, cap;
};

struct ckwrite {
	struct ckpart *parts;
	int nparts;
	int delta;
	int64_t batch;			/* the batch it belongs to */
	struct ckpt_nwriter *w;
	int64_t t0;			/* capture start (mono ms) */
	int64_t ms;			/* capture start to files written */
	struct ckpt_swriter **sw;	/* per partition, while written */
	/*
	 * par: the partitions are filled into state writers held in
	 * memory (nat_swriter_open_mem) from the capture on, by whichever
	 * thread claims them first (the filler, the persister, the engine
	 * while it waits); the persister gives them their files in
	 * partition order.  Else the persister opens the files and fills
	 * them itself.  Under mu:
	 */
	int par;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open, next, done, rc;
	struct ckpt_error err;
};

/*
 * Appends en's encoded key and (unless a tombstone) value to the
 * partition's arena, with its sort handle.
 */
#define CAP_AHEAD 512	/* bytes of arena and handles written ahead */
static int
add_item(struct run *r, struct ckpart *cp, const struct eng_entry *en,
    int tomb)
{
	struct ckpt_buf *b = &cp->kbuf;
	struct eng_khdr h;
	size_t at = b->len, v0;
	size_t need = sizeof(h) + CKPT_ENC_STRING_MAX(en->klen) +
	    ENG_VALUE_AT_MAX;
	uint8_t *k;

	if (b->cap - b->len < need && ckpt_buf_reserve(b, need) != 0)
		return -1;
#if defined(__GNUC__)
	/*
	 * Ask for the lines a few items ahead, to write: the arena and the
	 * handles are kept from one checkpoint to the next, and the filler
	 * read them last, on another CPU, so each line written here is
	 * first fetched from that CPU's cache.  Asked ahead, those fetches
	 * overlap: the 10 captures of a make bench run took 25-35 ms
	 * instead of 43-62 ms (6 runs each; 256 to 2048 bytes ahead did
	 * alike).
	 */
	if (at + CAP_AHEAD < b->cap)
		__builtin_prefetch(b->data + at + CAP_AHEAD, 1);
	if (cp->n + CAP_AHEAD / sizeof(*cp->v) < cp->cap)
		__builtin_prefetch(&cp->v[cp->n + CAP_AHEAD / sizeof(*cp->v)],
		    1);
#endif
	k = b->data + at + sizeof(h);
	h.klen = (uint32_t)eng_key_encode_at(k, en, &cp->v[cp->n].pfx);
	cp->v[cp->n].off = at;
	b->len = v0 = at + sizeof(h) + h.klen;
	h.vlen = ENG_KTOMB;
	if (!tomb && r->e.op->encode_at != NULL) {
		h.vlen = (uint32_t)r->e.op->encode_at(en, k + h.klen);
		b->len += h.vlen;
	} else if (!tomb) {
		if (r->e.op->encode(&r->e, en, b) != 0 ||
		    b->len - v0 >= ENG_KTOMB)
			return -1;
		h.vlen = (uint32_t)(b->len - v0);
	}
	memcpy(b->data + at, &h, sizeof(h));
	cp->n++;
	return 0;
}

struct cap_arg {
	struct run *r;
	struct ckpart *cp;
};

/* A dirty entry into a delta: its value, or a tombstone when removed
 * (unless no checkpoint ever wrote it). */
static int
cap_dirty(void *arg, struct eng_entry *en)
{
	struct cap_arg *a = arg;
	int del = (en->flags & ENG_E_DELETED) != 0;

	if (del && !(en->flags & ENG_E_PERSISTED))
		return 0;
	return add_item(a->r, a->cp, en, del);
}

/*
 * Encodes partition p's keys to write into ck->parts[p] and marks its
 * table checkpointed (the next delta starts here).
 */
static int
capture_partition(struct run *r, struct ckwrite *ck, int p)
{
	struct eng_table *t = &r->e.parts[p];
	struct ckpart *cp = &ck->parts[p];
	size_t cap = ck->delta ? t->ndirty : t->live;

	if (cp->cap < cap) {
		void *nv = realloc(cp->v, cap * sizeof(*cp->v));

		if (nv == NULL)
			return -1;
		cp->v = nv;
		cp->cap = cap;
	}
	cp->n = 0;
	cp->kbuf.len = 0;
	if (ck->delta) {
		struct cap_arg a = { r, cp };

		if (eng_table_take_dirty(t, cap_dirty, &a) != 0)
			return -1;
	} else {
		/*
		 * A snapshot: the live entries changed since the last
		 * checkpoint first, from the dirty list (in the order they
		 * changed, which is mostly memory order), then a scan of the
		 * slots for the others, unless every live entry changed (a
		 * first checkpoint, or after a busy interval): the scan
		 * visits the entries in hash order, several times slower.
		 */
		size_t live_dirty = 0;

		for (size_t d = 0; d < t->ndirty; d++) {
			struct eng_entry *en = t->dirty[d];

#if defined(__GNUC__)
			if (d + 32 < t->ndirty)
				eng_entry_prefetch(t->dirty[d + 32]);
#endif
			if (en->flags & ENG_E_DELETED)
				continue;
			if (add_item(r, cp, en, 0) != 0)
				return -1;
			live_dirty++;
		}
		for (size_t i = 0; live_dirty < t->live && i < t->cap; i++) {
			struct eng_entry *en = t->slots[i].e;

#if defined(__GNUC__)
			if (i + 32 < t->cap && t->slots[i + 32].e != NULL)
				eng_entry_prefetch(t->slots[i + 32].e);
#endif
			if (en == NULL ||
			    (en->flags & (ENG_E_DELETED | ENG_E_DIRTY)))
				continue;
			if (add_item(r, cp, en, 0) != 0)
				return -1;
		}
	}
	eng_table_checkpointed(t, r->e.op->free_ext);
	return 0;
}

/* Capture buffers for np partitions, or NULL. */
static struct ckwrite *
ckw_new(int np)
{
	struct ckwrite *ck = calloc(1, sizeof(*ck));

	if (ck == NULL)
		return NULL;
	ck->parts = calloc((size_t)np, sizeof(*ck->parts));
	ck->sw = calloc((size_t)np, sizeof(*ck->sw));
	if (ck->parts == NULL || ck->sw == NULL)
		goto fail;
	if (pthread_mutex_init(&ck->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&ck->cv, NULL) != 0) {
		pthread_mutex_destroy(&ck->mu);
		goto fail;
	}
	ck->nparts = np;
	return ck;
fail:
	free(ck->sw);
	free(ck->parts);
	free(ck);
	return NULL;
}

/*
 * Captures the state to checkpoint at the end of the batch just
 * computed and marks the tables checkpointed (the next delta starts
 * here).  Sets *kind to "snapshot" or "delta".
 */
static int
capture(struct run *r, int64_t batch, const char **kind,
    struct ckpt_error *err)
{
	struct ckwrite *ck = r->ck;
	int np = r->e.p.partitions;

	if (ck == NULL) {
		if ((ck = ckw_new(np)) == NULL)
			return nomem(err, "write a state checkpoint");
		r->ck = ck;
	}
	/*
	 * Both threads may fill partitions unless calls are counted
	 * (crash points, the hit trace): those want one order.
	 */
	ck->par = r->pth_on && !ckpt_crash_armed(r->e.ctx);
	ck->delta = r->e.p.format_version >= 2 && r->since_snapshot >= 0 &&
	    r->since_snapshot + 1 < r->e.p.snapshot_every;
	ck->w = r->w;
	ck->batch = batch;
	ck->t0 = eng_mono_ms();
	ckpt_crash_point(r->e.ctx, "engine.before_checkpoint");
	for (int p = 0; p < np; p++)
		if (capture_partition(r, ck, p) != 0)
			return nomem(err, "write a state checkpoint");
	*kind = ck->delta ? "delta" : "snapshot";
	r->since_snapshot = ck->delta ? r->since_snapshot + 1 : 0;
	return CKPT_OK;
}

static void
ckfill_release(struct ckfill *f)
{
	ckpt_zstd_free(f->z);
	free(f->tmp);
	memset(f, 0, sizeof(*f));
}

/*
 * Sorts partition p's captured keys and writes them to ck->sw[p] (par:
 * a writer in memory made here, compressing with f's context, sealed).
 */
static int
ckw_fill(struct ckwrite *ck, int p, struct ckfill *f, struct ckpt_error *err)
{
	struct ckpart *cp = &ck->parts[p];
	struct ckpt_swriter *sw;
	const uint8_t *base = cp->kbuf.data;
	size_t n = cp->n;
	int rc = CKPT_OK;

	if (f->tmpcap < n) {
		void *nt = realloc(f->tmp, n * sizeof(*f->tmp));

		if (nt == NULL)
			return ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot write a state checkpoint: out of memory");
		f->tmp = nt;
		f->tmpcap = n;
	}
	if (ck->par && nat_swriter_open_mem(ck->w, 0, p, ck->batch,
	    ck->delta ? CKPT_STATE_DELTA : CKPT_STATE_SNAPSHOT, f->z,
	    &ck->sw[p], err) != CKPT_OK)
		return CKPT_FAILED;
	sw = ck->sw[p];

	if (n > 1)	/* v is NULL for an empty partition */
		eng_ksort(cp->v, f->tmp, n, base);
	for (size_t i = 0; i < n && rc == CKPT_OK; i++) {
		struct eng_khdr h;
		const uint8_t *k = eng_kitem_key(base, &cp->v[i]);

#if defined(__GNUC__)	/* sorted: the items are scattered in the arena */
		if (i + 8 < n)
			__builtin_prefetch(base + cp->v[i + 8].off);
#endif
		memcpy(&h, base + cp->v[i].off, sizeof(h));
		if (h.vlen == ENG_KTOMB)
			rc = ckpt_swriter_del(sw, k, h.klen, err);
		else
			rc = ckpt_swriter_put(sw, k, h.klen, k + h.klen,
			    h.vlen, err);
	}
	if (rc == CKPT_OK && ck->par)
		rc = nat_swriter_seal(sw, err);
	return rc;
}

/*
 * Fills partitions of the checkpoint being written until none is left
 * to claim, with the caller's f; the number filled.  Called by the
 * persister, the filler and, while it waits for the persister anyway,
 * the engine's thread.
 */
static int
ckw_help(struct ckwrite *ck, struct ckfill *f)
{
	struct ckpt_error err = { 0 };
	int n = 0, p, rc;

	pthread_mutex_lock(&ck->mu);
	while (ck->open && ck->next < ck->nparts) {
		p = ck->next++;
		pthread_mutex_unlock(&ck->mu);
		rc = ckw_fill(ck, p, f, &err);
		pthread_mutex_lock(&ck->mu);
		if (rc != CKPT_OK && ck->rc == CKPT_OK) {
			ck->rc = rc;
			ck->err = err;
		}
		n++;
		if (++ck->done == ck->nparts)
			pthread_cond_broadcast(&ck->cv);
	}
	pthread_mutex_unlock(&ck->mu);
	return n;
}

/*
 * Opens the partitions of the checkpoint just captured to claiming
 * (par), wakes the filler; the engine's thread, under r->mu.
 */
static void
ckw_open(struct run *r, struct ckwrite *ck)
{
	pthread_mutex_lock(&ck->mu);
	ck->next = 0;
	ck->done = 0;
	ck->rc = CKPT_OK;
	ck->open = 1;
	pthread_mutex_unlock(&ck->mu);
	r->ck_help = 1;
	r->ck_gen++;
	pthread_cond_broadcast(&r->cv);
}

/*
 * Writes every partition's state file and lands them (the persister).
 * The files are opened and finished in partition order, so the
 * manifest is the same however the filling was shared.
 */
static int
ckw_write(struct run *r, struct ckwrite *ck, struct ckpt_error *err)
{
	int np = ck->nparts, rc = CKPT_OK, opened = 0;

	if (ck->par) {
		ckw_help(ck, &r->pf);	/* what no one has claimed yet */
		pthread_mutex_lock(&ck->mu);
		while (ck->done < np)
			pthread_cond_wait(&ck->cv, &ck->mu);
		ck->open = 0;
		if (ck->rc != CKPT_OK) {
			rc = ck->rc;
			*err = ck->err;
		}
		pthread_mutex_unlock(&ck->mu);
		pthread_mutex_lock(&r->mu);
		r->ck_help = 0;
		pthread_mutex_unlock(&r->mu);
		for (int p = 0; p < np; p++) {
			if (rc == CKPT_OK &&
			    (rc = nat_swriter_attach(ck->w, ck->sw[p], err)) ==
			    CKPT_OK) {
				rc = ckpt_swriter_finish(ck->sw[p], err);
			} else {
				nat_swriter_abort(ck->sw[p]);
			}
			ck->sw[p] = NULL;
		}
	} else {
		for (; opened < np && rc == CKPT_OK; opened++)
			rc = ckpt_nwriter_state_open(ck->w, 0, opened,
			    ck->delta ? CKPT_STATE_DELTA :
			    CKPT_STATE_SNAPSHOT, &ck->sw[opened], err);
		if (rc != CKPT_OK)
			opened--;	/* the failed one is not open */
		for (int p = 0; p < opened && rc == CKPT_OK; p++)
			rc = ckw_fill(ck, p, &r->pf, err);
		for (int p = 0; p < opened; p++) {
			if (rc == CKPT_OK)
				rc = ckpt_swriter_finish(ck->sw[p], err);
			else
				ckpt_swriter_finish(ck->sw[p], NULL);
			ck->sw[p] = NULL;
		}
	}
	if (rc == CKPT_OK)	/* the fsyncs too, off the engine's thread */
		rc = ckpt_nwriter_land_state(ck->w, err);
	ck->ms = eng_mono_ms() - ck->t0;
	return rc;
}

static void
ckw_free(struct run *r)
{
	struct ckwrite *ck = r->ck;

	if (ck == NULL)
		return;
	for (int p = 0; p < ck->nparts; p++) {
		ckpt_buf_release(&ck->parts[p].kbuf);
		free(ck->parts[p].v);
		nat_swriter_abort(ck->sw[p]);	/* a failed run's */
	}
	pthread_cond_destroy(&ck->cv);
	pthread_mutex_destroy(&ck->mu);
	free(ck->sw);
	free(ck->parts);
	free(ck);
	r->ck = NULL;
}

/* Loads partition p's records at state batch sb into the tables. */
static int
restore_partition(struct run *r, int p, int64_t sb, struct ckpt_error *err)
{
	struct ckpt_state_iter *it = NULL;
	struct ckpt_record rec;
	int rc;

	if (ckpt_state_open(r->rd, 0, p, sb, CKPT_STATE_NO_JSON, &it,
	    err) != CKPT_OK)
		return CKPT_FAILED;
	while ((rc = ckpt_state_next(it, &rec, err)) == CKPT_OK) {
		struct ckpt_dec d = { rec.key, rec.key + rec.key_len,
			rec.key };
		struct eng_entry *en;
		const char *k;
		size_t kl;
		uint64_t h;

		if (rec.value == NULL)
			continue;
		if (ckpt_dec_string(&d, &k, &kl, err) != CKPT_OK)
			break;
		h = eng_hash(k, kl);
		en = eng_table_upsert(eng_part(&r->e, h), k, kl, h, NULL);
		if (en == NULL) {
			rc = nomem(err, "restore the state");
			break;
		}
		if (r->e.op->decode(&r->e, en, rec.value, rec.value_len,
		    err) != CKPT_OK) {
			rc = CKPT_FAILED;
			break;
		}
		en->flags |= ENG_E_PERSISTED;
	}
	ckpt_state_close(it);
	return rc == CKPT_EOF ? CKPT_OK : CKPT_FAILED;
}

/* ------------------------------------------------------------------ */
/* Batches                                                              */
/* ------------------------------------------------------------------ */

static int
read_entry(struct run *r, const char *dir, int64_t batch, char **text,
    struct ckpt_error *err)
{
	char path[64];
	size_t len;

	snprintf(path, sizeof(path), "%s/%020" PRId64, dir, batch);
	return ckpt_native_read_file(r->rd, path, text, &len, err);
}

static int
load_batch(struct run *r, int64_t batch, int committed,
    struct eng_batch_info *bi, struct ckpt_error *err)
{
	char *text = NULL;
	char path[64];
	int rc;

	memset(bi, 0, sizeof(*bi));
	snprintf(path, sizeof(path), "offsets/%020" PRId64, batch);
	if (read_entry(r, "offsets", batch, &text, err) != CKPT_OK)
		return CKPT_FAILED;
	rc = eng_parse_offsets(text, path, bi, err);
	free(text);
	if (rc != CKPT_OK || !committed)
		return rc;
	snprintf(path, sizeof(path), "commits/%020" PRId64, batch);
	if (read_entry(r, "commits", batch, &text, err) != CKPT_OK)
		return CKPT_FAILED;
	rc = eng_parse_commit(text, path, bi, err);
	free(text);
	return rc;
}

static int
line_time(struct run *r, const char *data, size_t len, uint64_t rec,
    int64_t *t)
{
	if (!r->e.job->timed) {
		*t = r->e.start_ms + (int64_t)(rec * 1000 /
		    (uint64_t)r->e.p.rate);
		return 0;
	}
	if (eng_event_time(data, len, t) != 0) {
		*t = INT64_MIN;	/* malformed: stays in the current batch */
		return -1;
	}
	return 0;
}

static int
stash(struct run *r, const struct eng_line *ln, const struct eng_pos *before,
    int64_t t, struct ckpt_error *err)
{
	if (r->pend == NULL && (r->pend = malloc(ENG_LINE_MAX + 1)) == NULL)
		return nomem(err, "read input");
	if (ln->data != r->pend)
		memcpy(r->pend, ln->data, ln->len);
	r->pend_len = ln->len;
	r->pend_too_long = ln->too_long;
	r->pend_time = t;
	r->pend_pos = *before;
	r->have_pend = 1;
	return CKPT_OK;
}

/* The emit function the stage hands records to: the operator's add. */
static int
emit_op(struct eng *e, const struct eng_rec *rec, struct ckpt_error *err)
{
	return e->op->add(e, rec, err);
}

static int
process_line(struct run *r, const struct eng_line *ln, int64_t t,
    struct ckpt_error *err)
{
	const char *why = NULL;
	int rc;

	r->b_in++;
	if (ln->too_long) {
		why = "line longer than 1 MiB";
		rc = 1;
	} else {
		rc = r->e.job->stage(&r->e, ln->data, ln->len, t, emit_op,
		    &why, err);
	}
	if (rc < 0)
		return CKPT_FAILED;
	if (rc == 0)
		return CKPT_OK;
	r->b_malformed++;
	if (r->e.o->strict)
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "malformed input line %" PRIu64 " in batch %" PRId64
		    ": %s", r->src->pos.rec, r->e.batch, why);
	eng_warn(&r->e, "malformed input line %" PRIu64 " in batch %" PRId64
	    " skipped: %s", r->src->pos.rec, r->e.batch, why);
	return CKPT_OK;
}

/*
 * Reads and processes the lines of the current batch.  With end set,
 * exactly the lines before end (replay, wall clock); otherwise the
 * lines whose time is before the batch's end, stashing the first line
 * past it.  *endpos receives the input position after the batch.
 */
static int
read_batch(struct run *r, const struct eng_pos *end, struct eng_pos *endpos,
    struct ckpt_error *err)
{
	struct eng_source *s = r->src;
	int64_t idle_since = -1;
	struct eng_line ln;
	struct eng_pos before;
	int64_t t;
	int done, rc;

	for (;;) {
		if (end != NULL && s->pos.rec >= end->rec)
			break;
		if (r->have_pend && end == NULL) {
			if (r->pend_time >= r->e.batch_end_ms) {
				*endpos = r->pend_pos;
				return CKPT_OK;
			}
			ln.data = r->pend;
			ln.len = r->pend_len;
			ln.too_long = r->pend_too_long;
			r->have_pend = 0;
			if (process_line(r, &ln, r->pend_time, err) != 0)
				return CKPT_FAILED;
			continue;
		}
		before = s->pos;
		rc = s->ops->next(s, &ln, &done, err);
		if (rc < 0)
			return CKPT_FAILED;
		if (rc == CKPT_EOF) {
			/* a recorded range must be there in full */
			if (end != NULL)
				return ckpt_error_set(err, CKPT_E_CONFIG,
				    "cannot replay batch %" PRId64 ": the "
				    "input ends before line %" PRIu64 " (was "
				    "it truncated or replaced?)", r->e.batch,
				    end->rec);
			if (done) {
				r->src_done = 1;
				break;
			}
			if (stopping(r))
				break;
			/* a committed batch never waits for input */
			if (settle_all(r, err) != CKPT_OK)
				return CKPT_FAILED;
			if (idle_since < 0)
				idle_since = eng_mono_ms();
			else if (eng_mono_ms() - idle_since >=
			    r->e.o->idle_flush_ms)
				break;
			if (s->ops->wait != NULL) {
				if (s->ops->wait(s, 50, err) != CKPT_OK)
					return CKPT_FAILED;
			} else {
				sleep_ms(20);
			}
			continue;
		}
		idle_since = -1;
		line_time(r, ln.data, ln.len, before.rec, &t);
		if (end == NULL && t >= r->e.batch_end_ms) {
			if (stash(r, &ln, &before, t, err) != CKPT_OK)
				return CKPT_FAILED;
			*endpos = before;
			return CKPT_OK;
		}
		if (process_line(r, &ln, t, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	*endpos = s->pos;
	return CKPT_OK;
}

/*
 * A batch computed and not yet committed: everything its offsets
 * entry, output file, commit entry and metrics need.
 */
struct bstate {
	int64_t batch, time_ms;
	int64_t t0, sched;		/* compute start (mono), delay */
	struct eng_pos start, endpos;
	uint64_t in, malformed, out_records, keys;
	int due;			/* a state checkpoint is due */
	const char *ckpt_kind;		/* NULL: no state checkpoint */
	int64_t since_snapshot;		/* after this checkpoint */
	int64_t ckpt_ms;
	uint64_t ckpt_bytes;
	struct ckpt_buf out, offs;	/* output; offsets JSON */
	/* its output file framed and compressed ahead (prep_output) */
	int pre_state;			/* PRE_NONE, PRE_BUSY, PRE_DONE */
	struct nat_fwriter *pre;	/* NULL: write it the usual way */
};

enum { PRE_NONE, PRE_BUSY, PRE_DONE };

static void
emit_metrics(struct run *r, const struct bstate *bs, int64_t proc,
    int replayed)
{
	struct ckpt_run_metrics m = { 0 };
	int64_t sched = bs->sched;

	if (!replayed && sched > 0 && sched > r->prev_sched) {
		if (++r->sched_growth == 3)
			eng_warn(&r->e, "scheduling delay has grown for 3 "
			    "batches in a row (now %" PRId64 " ms at batch %"
			    PRId64 "): batches take longer than the batch "
			    "interval", sched, bs->batch);
	} else {
		r->sched_growth = 0;
	}
	r->prev_sched = sched;
	if (r->e.o->on_metrics == NULL)
		return;
	m.batch = bs->batch;
	m.batch_time_ms = bs->time_ms;
	m.records_in = bs->in;
	m.records_out = bs->out_records;
	m.malformed = bs->malformed;
	m.scheduling_delay_ms = sched;
	m.processing_delay_ms = proc;
	m.checkpoint_ms = bs->ckpt_kind ? bs->ckpt_ms : -1;
	m.checkpoint_bytes = bs->ckpt_bytes;
	m.dir_bytes = r->dir_bytes;
	m.state_keys = bs->keys;
	m.replayed = replayed;
	m.checkpoint_kind = bs->ckpt_kind;
	r->e.o->on_metrics(r->e.o->cb_arg, &m);
}

/* Compares a recomputed batch output with the committed one. */
static int
compare_output(struct run *r, int64_t batch, struct ckpt_error *err)
{
	char path[64], *data = NULL;
	struct ckpt_error lerr = { 0 };
	size_t len = 0;
	int same;

	snprintf(path, sizeof(path), OUT_PATH_FMT, batch);
	if (ckpt_native_read_file(r->rd, path, &data, &len, &lerr) !=
	    CKPT_OK) {
		if (lerr.kind != CKPT_E_NOTFOUND) {
			*err = lerr;
			return CKPT_FAILED;
		}
		len = 0;
	}
	same = len == r->out.len && (len == 0 ||
	    memcmp(data, r->out.data, len) == 0);
	free(data);
	if (!same)
		return ckpt_error_set(err, CKPT_E_CONFIG,
		    "cannot replay batch %" PRId64 ": its output differs from "
		    "the committed '%s' (did the input change?)", batch, path);
	return CKPT_OK;
}

static void
batch_reset(struct run *r, int64_t batch, int64_t time_ms)
{
	r->e.batch = batch;
	r->e.batch_start_ms = time_ms;
	r->e.batch_end_ms = time_ms + r->e.p.batch_ms;
	r->e.batch_out = 0;
	r->b_in = 0;
	r->b_malformed = 0;
}

static uint64_t
live_keys(const struct run *r)
{
	uint64_t keys = 0;

	for (int p = 0; p < r->e.p.partitions; p++)
		keys += r->e.parts[p].live;
	return keys;
}

/* Recomputes committed batch `batch` from its recorded input range. */
static int
replay_batch(struct run *r, int64_t batch, struct ckpt_error *err)
{
	struct eng_batch_info bi;
	struct eng_pos endpos;
	struct bstate bs;
	int64_t t0 = eng_mono_ms();

	if (load_batch(r, batch, 1, &bi, err) != CKPT_OK)
		return CKPT_FAILED;
	batch_reset(r, batch, bi.time_ms);
	r->out.len = 0;
	r->e.start_ms = bi.start_ms;
	if (r->src->ops->seek(r->src, &bi.start, err) != CKPT_OK)
		return CKPT_FAILED;
	r->have_pend = 0;
	if (read_batch(r, &bi.end, &endpos, err) != CKPT_OK)
		return CKPT_FAILED;
	ckpt_crash_point(r->e.ctx, "engine.mid_batch");
	if (r->e.op->end_batch(&r->e, batch, &r->out, err) != CKPT_OK)
		return CKPT_FAILED;
	if (compare_output(r, batch, err) != CKPT_OK)
		return CKPT_FAILED;
	r->res->batches_replayed++;
	memset(&bs, 0, sizeof(bs));
	bs.batch = batch;
	bs.time_ms = bi.time_ms;
	bs.in = r->b_in;
	bs.malformed = r->b_malformed;
	bs.out_records = r->e.batch_out;
	bs.keys = live_keys(r);
	emit_metrics(r, &bs, eng_mono_ms() - t0, 1);
	return CKPT_OK;
}

static int
commit_extra(struct run *r, const struct bstate *bs)
{
	struct ckpt_buf *b = &r->json;

	b->len = 0;
	if (ckpt_buf_append(b, "{\"end\":", 7) != 0 ||
	    eng_pos_json(b, &bs->endpos) != 0 ||
	    eng_buf_printf(b, ",\"records_in\":%" PRIu64 ",\"records_out\":%"
	    PRIu64 ",\"malformed\":%" PRIu64, bs->in, bs->out_records,
	    bs->malformed) != 0)
		return -1;
	if (bs->ckpt_kind != NULL && eng_buf_printf(b, ",\"checkpoint\":"
	    "{\"kind\":\"%s\",\"since_snapshot\":%" PRId64 "}",
	    bs->ckpt_kind, bs->since_snapshot) != 0)
		return -1;
	return ckpt_buf_append(b, "}", 2);
}

/* After a commit: sizes for the metrics, WAL release after state. */
static void
account_commit(struct run *r, struct bstate *bs)
{
	struct ckpt_error lerr = { 0 };
	struct nat_commit_sizes cs;

	nat_nwriter_last_commit(r->w, &cs);	/* no need to read it back */
	r->dir_bytes += cs.files_bytes + cs.entry_bytes;
	bs->ckpt_bytes = cs.state_bytes;
	if (bs->ckpt_kind != NULL && r->src->ops->release != NULL) {
		ckpt_error_clear(&lerr);
		if (r->src->ops->release(r->src, &bs->start, &lerr) !=
		    CKPT_OK)
			eng_warn(&r->e, "%s", lerr.msg);
	}
}

/* ------------------------------------------------------------------ */
/* Pipeline                                                             */
/* ------------------------------------------------------------------ */

/*
 * A new batch is computed in memory by compute_batch() (a wall-clock
 * source writes its offsets entry first: its range is cut by the
 * clock); when a state checkpoint is due, capture() copies the state
 * right after; then persist() writes the batch: offsets entry, state
 * files, output, commit entry.  So the disk sees, batch after batch,
 * exactly the sequence of the commit protocol, and nothing of a batch
 * is written before its offsets entry.
 *
 * persist() runs on a thread of its own, the persister, fed through
 * the queue r->q: while it compresses, writes, syncs and commits batch
 * N (and its state checkpoint, if any), the engine computes batches
 * N+1, N+2, ... (up to ENG_QUEUE waiting).  The engine waits for the
 * persister only to take a free batch buffer, to capture a checkpoint
 * while the previous one is still being written, and to drain the
 * queue before it waits for input and at the end of the run, so a
 * computed batch is never held back by an idle source.  While it
 * waits it works for the persister (pwait): it fills partitions of
 * the checkpoint being written (ckw_help), else compresses the output
 * of a queued batch (prep_output).  A third thread, the filler, fills
 * the partitions of each checkpoint into memory as soon as it is
 * captured (ckw_open), so they are mostly compressed by the time the
 * persister reaches the batch and gives them their files.  Without
 * threads (a fault plan, the power-loss journal, --sync-checkpoint, a
 * wall-clock source) persist() runs inline, right after the capture.
 *
 * The threads share: the queue, the free list and the flags below,
 * under r->mu; the capture buffers r->ck, handed over by ck_busy, its
 * partitions claimed under ck->mu; a queued batch being compressed by
 * the engine, handed over by its pre_state (the persister waits while
 * it is PRE_BUSY); nothing else.
 * The persister alone uses the writer (the engine reads only its
 * format version and codec, fixed at open), the reader, the commit
 * text, the run result and the metrics state; the engine alone uses
 * the source, the tables and the batch counters.
 */

static struct bstate *
bstate_new(void)
{
	return calloc(1, sizeof(struct bstate));
}

static void
bstate_free(struct bstate *bs)
{
	if (bs == NULL)
		return;
	ckpt_buf_release(&bs->out);
	ckpt_buf_release(&bs->offs);
	nat_fw_abort(bs->pre);
	free(bs);
}

/* Runs batch `batch` into bs; *last tells whether the run ends. */
static int
compute_batch(struct run *r, struct bstate *bs, int64_t batch,
    int64_t time_ms, int *last, struct ckpt_error *err)
{
	int wall = r->src->wall_clock;
	struct eng_pos end;

	bs->start = r->have_pend ? r->pend_pos : r->src->pos;
	bs->t0 = eng_mono_ms();
	bs->sched = 0;
	bs->batch = batch;
	bs->time_ms = time_ms;
	bs->out.len = 0;
	bs->offs.len = 0;
	bs->pre_state = PRE_NONE;	/* bs->pre went with its batch */
	bs->ckpt_kind = NULL;
	bs->ckpt_ms = 0;
	bs->ckpt_bytes = 0;
	batch_reset(r, batch, time_ms);
	if (wall) {
		int64_t deadline = time_ms + r->e.p.batch_ms;

		while (!stopping(r) && now_ms() < deadline) {
			if (r->src->ops->wait(r->src, deadline - now_ms(),
			    err) != CKPT_OK)
				return CKPT_FAILED;
		}
		bs->sched = now_ms() - deadline;
		if (bs->sched < 0)
			bs->sched = 0;
		bs->t0 = eng_mono_ms();
		if (r->src->ops->avail(r->src, &end, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	if (eng_buf_printf(&bs->offs, "{\"source\":\"%s\",\"start_ms\":%"
	    PRId64 ",\"batch_ms\":%" PRId64 ",\"start\":",
	    r->src->ops->name, r->e.start_ms, r->e.p.batch_ms) != 0 ||
	    eng_pos_json(&bs->offs, &bs->start) != 0 ||
	    (wall && (ckpt_buf_append(&bs->offs, ",\"end\":", 7) != 0 ||
	    eng_pos_json(&bs->offs, &end) != 0)) ||
	    ckpt_buf_append(&bs->offs, "}", 2) != 0)
		return nomem(err, "plan a batch");
	if (wall && ckpt_nwriter_begin_batch(r->w, batch, time_ms,
	    (char *)bs->offs.data, err) != CKPT_OK)
		return CKPT_FAILED;
	if (read_batch(r, wall ? &end : NULL, &bs->endpos, err) != CKPT_OK)
		return CKPT_FAILED;
	ckpt_crash_point(r->e.ctx, "engine.mid_batch");
	if (r->e.op->end_batch(&r->e, batch, &bs->out, err) != CKPT_OK)
		return CKPT_FAILED;
	r->new_batches++;
	*last = (r->src_done && !r->have_pend) || stopping(r) ||
	    (r->e.o->max_batches > 0 &&
	    r->new_batches >= r->e.o->max_batches);
	bs->due = *last || (batch + 1) % r->e.p.ckpt_every == 0;
	bs->in = r->b_in;
	bs->malformed = r->b_malformed;
	bs->out_records = r->e.batch_out;
	bs->keys = live_keys(r);
	return CKPT_OK;
}

/*
 * Writes and commits bs: its offsets entry (unless the clock already
 * did), the state captured with it, its output, its commit entry.
 */
static int
persist(struct run *r, struct bstate *bs, struct ckpt_error *err)
{
	char path[64];

	if (!r->src->wall_clock && ckpt_nwriter_begin_batch(r->w, bs->batch,
	    bs->time_ms, (char *)bs->offs.data, err) != CKPT_OK)
		return CKPT_FAILED;
	if (bs->ckpt_kind != NULL) {
		if (ckw_write(r, r->ck, err) != CKPT_OK)
			return CKPT_FAILED;
		bs->ckpt_ms = r->ck->ms;
		ckpt_crash_point(r->e.ctx, "engine.after_checkpoint");
	}
	if (bs->out.len > 0) {
		int rc;

		snprintf(path, sizeof(path), OUT_PATH_FMT, bs->batch);
		if (bs->pre != NULL)
			rc = nat_nwriter_file_prepared(r->w, bs->pre, err);
		else
			rc = ckpt_nwriter_file(r->w, path, bs->out.data,
			    bs->out.len, err);
		bs->pre = NULL;
		if (rc != CKPT_OK)
			return CKPT_FAILED;
		ckpt_crash_point(r->e.ctx, "output.after_write");
	}
	if (commit_extra(r, bs) != 0)
		return nomem(err, "commit a batch");
	if (ckpt_nwriter_commit(r->w, (char *)r->json.data, err) != CKPT_OK)
		return CKPT_FAILED;
	account_commit(r, bs);
	if (r->res->first_new_batch == CKPT_NONE)
		r->res->first_new_batch = bs->batch;
	r->res->last_batch = bs->batch;
	r->res->batches_run++;
	r->res->records_in += bs->in;
	r->res->malformed += bs->malformed;
	if (r->e.o->on_output != NULL && bs->out.len > 0)
		r->e.o->on_output(r->e.o->cb_arg, bs->batch, bs->out.data,
		    bs->out.len);
	emit_metrics(r, bs, eng_mono_ms() - bs->t0, 0);
	return CKPT_OK;
}

/* The persister thread: persists queued batches in order. */
static void *
persister(void *arg)
{
	struct run *r = arg;
	struct ckpt_error err = { 0 };

	eng_thread_name("ckpt-persist");	/* fsync helpers inherit it */
	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct bstate *bs;
		int rc;

		while (r->qlen == 0 && !r->pstop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->qlen == 0)
			break;
		bs = r->q[r->qhead];
		if (bs->pre_state == PRE_BUSY) {	/* being compressed */
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		r->qhead = (r->qhead + 1) % ENG_QUEUE;
		r->qlen--;
		r->busy = 1;
		pthread_mutex_unlock(&r->mu);
		rc = persist(r, bs, &err);
		pthread_mutex_lock(&r->mu);
		r->busy = 0;
		if (bs->ckpt_kind != NULL)
			r->ck_busy = 0;
		r->freel[r->nfree++] = bs;
		if (rc != CKPT_OK) {
			r->pfailed = 1;
			r->perr = err;
			r->qlen = 0;
		}
		pthread_cond_broadcast(&r->cv);
		if (rc != CKPT_OK)
			break;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/*
 * Called by the engine's thread (under r->mu, held) while it waits for
 * the persister anyway: frames and compresses the output file of a
 * queued batch the persister has not taken yet, so the persister only
 * writes its bytes (the same bytes; nat_blob_prepare).  1 if it did
 * one.  Not when calls are counted (crash points, the hit trace): a
 * prepared file is written in fewer calls.
 */
static int
prep_output(struct run *r)
{
	struct ckpt_error err = { 0 };
	struct nat_fwriter *fw = NULL;
	struct bstate *bs = NULL;
	char path[64];

	if (!r->prep_ok)
		return 0;
	for (int i = 0; i < r->qlen && bs == NULL; i++) {
		struct bstate *b = r->q[(r->qhead + i) % ENG_QUEUE];

		if (b->out.len > 0 && b->pre_state == PRE_NONE)
			bs = b;
	}
	if (bs == NULL)
		return 0;
	bs->pre_state = PRE_BUSY;	/* the persister waits for it */
	pthread_mutex_unlock(&r->mu);
	snprintf(path, sizeof(path), OUT_PATH_FMT, bs->batch);
	if (nat_blob_prepare(r->w, path, r->ef.z, bs->out.data, bs->out.len,
	    &fw, &err) != CKPT_OK)
		fw = NULL;	/* out of memory: written the usual way */
	pthread_mutex_lock(&r->mu);
	bs->pre = fw;
	bs->pre_state = PRE_DONE;
	pthread_cond_broadcast(&r->cv);
	return 1;
}

/*
 * Waits (under r->mu, held) until what() holds or the persister
 * failed; CKPT_FAILED with its error then.  Idle anyway, the engine's
 * thread helps: it fills partitions of the checkpoint being written,
 * else compresses queued output.
 */
static int
pwait(struct run *r, int (*what)(const struct run *), struct ckpt_error *err)
{
	while (!r->pfailed && !what(r)) {
		if (r->ck_help) {
			int n;

			pthread_mutex_unlock(&r->mu);
			n = ckw_help(r->ck, &r->ef);
			pthread_mutex_lock(&r->mu);
			if (n > 0)
				continue;
		}
		if (prep_output(r))
			continue;
		pthread_cond_wait(&r->cv, &r->mu);
	}
	if (r->pfailed) {
		*err = r->perr;
		return CKPT_FAILED;
	}
	return CKPT_OK;
}

static int has_free(const struct run *r) { return r->nfree > 0; }
static int ck_free(const struct run *r) { return !r->ck_busy; }
static int drained(const struct run *r) { return r->qlen == 0 && !r->busy; }

/* pwait() taking the lock; CKPT_OK at once without a persister. */
static int
pwait_for(struct run *r, int (*what)(const struct run *),
    struct ckpt_error *err)
{
	int rc;

	if (!r->pth_on)
		return CKPT_OK;
	pthread_mutex_lock(&r->mu);
	rc = pwait(r, what, err);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* Before waiting for input and at the end: every batch committed. */
static int
settle_all(struct run *r, struct ckpt_error *err)
{
	return pwait_for(r, drained, err);
}

/*
 * The filler thread: fills the partitions of each state checkpoint
 * into memory as soon as it is captured, so the persister finds them
 * compressed when it reaches the batch (it waits on the disk in the
 * meantime, and the filler uses that time).
 */
static void *
filler(void *arg)
{
	struct run *r = arg;
	unsigned seen = 0;

	eng_thread_name("ckpt-fill");
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->fstop && !(r->ck_help && r->ck_gen != seen))
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->fstop)
			break;
		seen = r->ck_gen;
		pthread_mutex_unlock(&r->mu);
		ckw_help(r->ck, &r->ff);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/*
 * Plans where the threads run (engine_cpu.c).  Only a run with a
 * persister has threads to keep apart; with --pin-threads (loud) a
 * warning says why they will not be.
 */
static void
pin_plan(struct run *r, int loud)
{
	const char *why;

	if (!r->async_ok) {
		if (loud)
			eng_warn(&r->e, "--pin-threads: this run writes on the "
			    "engine's thread (%s); nothing to pin",
			    r->src->wall_clock ? "a socket source" :
			    r->e.o->sync_checkpoint ? "--sync-checkpoint" :
			    "a test hook is on");
		return;
	}
	if ((why = eng_pin_plan(&r->pin)) != NULL && loud)
		eng_warn(&r->e, "--pin-threads: %s; threads not pinned", why);
}

/* The writer threads running, into th[2]; how many. */
static int
writers(const struct run *r, pthread_t *th)
{
	int n = 0;

	if (r->pth_on)
		th[n++] = r->pth;
	if (r->fth_on)
		th[n++] = r->fth;
	return n;
}

/* After a batch: the writers leave the CPU the engine moved to. */
static void
pin_follow(struct run *r)
{
	pthread_t th[2];

	if (!r->pin.on || !r->pth_on)
		return;
	(void)eng_pin_follow(&r->pin, th, writers(r, th));
}

/* Starts the persister when threads may be used (else runs inline). */
static void
persister_start(struct run *r)
{
	if (!r->async_ok || pthread_mutex_init(&r->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&r->cv, NULL) != 0) {
		pthread_mutex_destroy(&r->mu);
		return;
	}
	r->prep_ok = !ckpt_crash_armed(r->e.ctx);
	r->pf.z = ckpt_zstd_new();	/* NULL: one per file */
	r->ef.z = ckpt_zstd_new();	/* the engine's, while it waits */
	if (pthread_create(&r->pth, NULL, persister, r) != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		return;
	}
	r->pth_on = 1;
	if (r->prep_ok) {
		r->ff.z = ckpt_zstd_new();
		r->fth_on = pthread_create(&r->fth, NULL, filler, r) == 0;
	}
	{
		pthread_t th[2];

		/* from here: the writers never read r->pin themselves */
		eng_pin_writers(&r->pin, th, writers(r, th));
	}
}

/* Ends the persister: after the queue with drain, else at once. */
static void
persister_stop(struct run *r, int drain)
{
	if (!r->pth_on)
		return;
	pthread_mutex_lock(&r->mu);
	r->pstop = 1;
	if (!drain)
		r->qlen = 0;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->pth, NULL);
	if (r->fth_on) {
		pthread_mutex_lock(&r->mu);
		r->fstop = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->fth, NULL);
		r->fth_on = 0;
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	r->pth_on = 0;
}

/*
 * Runs batch `batch` (new or re-planned): computes it, captures its
 * state when a checkpoint is due, and hands it to the persister (or
 * persists it now).
 */
static int
run_batch(struct run *r, int64_t batch, int64_t time_ms, int *last,
    struct ckpt_error *err)
{
	struct bstate *bs = r->pool[0];	/* the only one without threads */
	int rc = CKPT_OK;

	if (r->pth_on) {
		pthread_mutex_lock(&r->mu);
		rc = pwait(r, has_free, err);
		if (rc == CKPT_OK)
			bs = r->freel[--r->nfree];
		pthread_mutex_unlock(&r->mu);
		if (rc != CKPT_OK)
			return CKPT_FAILED;
	}
	rc = compute_batch(r, bs, batch, time_ms, last, err);
	pin_follow(r);
	if (rc == CKPT_OK && bs->due &&
	    (rc = pwait_for(r, ck_free, err)) == CKPT_OK) {
		rc = capture(r, bs->batch, &bs->ckpt_kind, err);
		bs->since_snapshot = r->since_snapshot;
	}
	if (!r->pth_on)
		return rc == CKPT_OK ? persist(r, bs, err) : rc;
	pthread_mutex_lock(&r->mu);
	if (rc != CKPT_OK) {
		r->freel[r->nfree++] = bs;
	} else {
		if (bs->ckpt_kind != NULL) {
			r->ck_busy = 1;
			if (r->ck->par)
				ckw_open(r, r->ck);
		}
		r->q[(r->qhead + r->qlen) % ENG_QUEUE] = bs;
		r->qlen++;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/*
 * Logical start time of a new timed job: the first valid event time,
 * aligned down to the slide (window) or the batch interval.  Reads
 * ahead, then seeks back.  *found 0 when no line is there yet.
 */
static int
find_start(struct run *r, int *found, struct ckpt_error *err)
{
	struct eng_source *s = r->src;
	struct eng_pos here = s->pos;
	int64_t align = r->e.p.batch_ms, t = 0;
	struct eng_line ln;
	int done, rc;

	*found = 0;
	if (!r->e.job->timed || s->wall_clock) {
		r->e.start_ms = 0;
		*found = 1;
		return CKPT_OK;
	}
	if (r->e.job->uses & JOB_USES_WINDOW)
		align = r->e.p.slide_ms;
	if (r->have_pend && r->pend_time != INT64_MIN) {
		t = r->pend_time;
	} else {
		for (;;) {
			rc = s->ops->next(s, &ln, &done, err);
			if (rc < 0)
				return CKPT_FAILED;
			if (rc == CKPT_EOF) {
				if (!done)	/* no valid line yet: wait */
					return s->ops->seek(s, &here, err);
				t = 0;	/* no valid time in the input */
				break;
			}
			if (!ln.too_long &&
			    eng_event_time(ln.data, ln.len, &t) == 0)
				break;
		}
		if (s->ops->seek(s, &here, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	r->e.start_ms = t - ((t % align) + align) % align;
	*found = 1;
	return CKPT_OK;
}

/* ------------------------------------------------------------------ */
/* Setup and the main loop                                              */
/* ------------------------------------------------------------------ */

static int
open_source(struct run *r, struct ckpt_error *err)
{
	const struct ckpt_run_opts *o = r->e.o;
	struct eng_gen_params g = { 0 };

	switch (o->source) {
	case CKPT_SRC_FILE:
		if (o->input == NULL)
			break;
		return eng_source_file_open(r->e.ctx, o->input, o->follow,
		    &r->src, err);
	case CKPT_SRC_GENERATOR:
		g.seed = o->seed;
		g.keys = o->gen_keys ? o->gen_keys : 1000;
		g.events = o->gen_events ? o->gen_events : 100000;
		g.rate = o->gen_rate ? o->gen_rate : 1000;
		g.skew_pct = o->gen_skew_pct >= 0 ?
		    (unsigned)o->gen_skew_pct : 50;
		g.late_pct = o->gen_late_pct >= 0 ?
		    (unsigned)o->gen_late_pct : 2;
		g.late_ms = o->gen_late_ms >= 0 ? o->gen_late_ms : 30000;
		g.gap_every = o->gen_gap_every;
		g.gap_ms = o->gen_gap_ms >= 0 ? o->gen_gap_ms : 3600000;
		g.start_ms = o->gen_start_ms >= 0 ? o->gen_start_ms :
		    INT64_C(1700000000000);
		g.timed = r->e.job->timed;
		if (g.skew_pct > 100 || g.late_pct > 100)
			return ckpt_error_set(err, CKPT_E_USAGE,
			    "bad generator setting: percentages go to 100");
		return eng_source_gen_open(r->e.ctx, &g, &r->src, err);
	case CKPT_SRC_SOCKET:
		if (o->socket == NULL)
			break;
		if (strcmp(ckpt_store_backend(ckpt_nwriter_store(r->w)),
		    "file") != 0)
			return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			    "cannot use the socket source with '%s': its "
			    "write-ahead log needs a local directory", r->url);
		return eng_source_socket_open(r->e.ctx, o->socket, r->url,
		    o->wal_segment_bytes, &r->src, err);
	default:
		break;
	}
	return ckpt_error_set(err, CKPT_E_USAGE,
	    "cannot run: no input (give --input, --generate or --socket)");
}

/* Hands the source's lines to on_output, nothing else (--dump-input). */
static int
dump_input(struct run *r, struct ckpt_error *err)
{
	struct eng_line ln;
	int done, rc;

	if (r->e.o->source == CKPT_SRC_SOCKET)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot dump the input of a socket");
	if (open_source(r, err) != CKPT_OK)
		return CKPT_FAILED;
	while ((rc = r->src->ops->next(r->src, &ln, &done, err)) ==
	    CKPT_OK) {
		if (r->e.o->on_output != NULL) {
			r->e.o->on_output(r->e.o->cb_arg, -1, ln.data, ln.len);
			r->e.o->on_output(r->e.o->cb_arg, -1, "\n", 1);
		}
	}
	if (rc < 0)
		return CKPT_FAILED;
	return CKPT_OK;
}

/*
 * Recovery: restores the state of the newest state checkpoint, replays
 * the committed batches after it, and positions the source after the
 * restart point.  *next receives the batch to run next.
 */
static int
recover(struct run *r, int64_t *next, int64_t *next_time, int *planned,
    struct ckpt_error *err)
{
	struct ckpt_info info;
	struct eng_batch_info bi;
	int64_t R, S;
	int rc;

	*planned = 0;
	/* the restart point, not the totals (a stat of every file) */
	ckpt_set_hints(r->rd, CKPT_HINT_NO_TOTALS);
	rc = ckpt_info_get(r->rd, &info, err);
	ckpt_set_hints(r->rd, 0);
	if (rc != CKPT_OK)
		return CKPT_FAILED;
	R = info.restart_point;
	*next = info.next_batch != CKPT_NONE ? info.next_batch :
	    (R == CKPT_NONE ? 0 : R + 1);
	rc = info.last_batch != CKPT_NONE && info.last_batch >= *next;
	ckpt_info_release(&info);
	if (R != CKPT_NONE &&
	    ckpt_native_state_base(r->rd, R, &S, err) != CKPT_OK)
		return CKPT_FAILED;
	if (R == CKPT_NONE)
		S = CKPT_NONE;
	if (S != CKPT_NONE) {
		if (load_batch(r, S, 1, &bi, err) != CKPT_OK)
			return CKPT_FAILED;
		r->since_snapshot = strcmp(bi.state_kind, "snapshot") == 0 ?
		    0 : bi.since_snapshot;
		r->e.start_ms = bi.start_ms;
		for (int p = 0; p < r->e.p.partitions; p++)
			if (restore_partition(r, p, S, err) != CKPT_OK)
				return CKPT_FAILED;
		if (r->src->ops->seek(r->src, &bi.end, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	for (int64_t b = S == CKPT_NONE ? 0 : S + 1; R != CKPT_NONE &&
	    b <= R; b++) {
		if (stopping(r))
			return ckpt_error_set(err, CKPT_E_INTERRUPTED,
			    "recovery of '%s' interrupted", r->url);
		if (replay_batch(r, b, err) != CKPT_OK)
			return CKPT_FAILED;
	}
	if (R != CKPT_NONE) {
		/* the source stands after the restart point */
		if (load_batch(r, R, 1, &bi, err) != CKPT_OK ||
		    r->src->ops->seek(r->src, &bi.end, err) != CKPT_OK)
			return CKPT_FAILED;
		r->e.start_ms = bi.start_ms;
		*next_time = bi.time_ms + r->e.p.batch_ms;
	}
	if (rc) {
		/* a planned batch that never committed: same start, time */
		if (load_batch(r, *next, 0, &bi, err) != CKPT_OK)
			return CKPT_FAILED;
		if (R == CKPT_NONE)
			r->e.start_ms = bi.start_ms;
		if (r->src->ops->seek(r->src, &bi.start, err) != CKPT_OK)
			return CKPT_FAILED;
		*next_time = bi.time_ms;
		*planned = 1;
	}
	return CKPT_OK;
}

static int
build_desc(struct run *r, struct ckpt_job_desc *d, const char *id,
    char fp[17], struct ckpt_buf *cfg, struct ckpt_error *err)
{
	memset(d, 0, sizeof(*d));
	job_fingerprint(r->e.job, fp);
	cfg->len = 0;
	if (eng_config_json(cfg, &r->e.p, r->e.job->uses) != 0 ||
	    ckpt_buf_append(cfg, "", 1) != 0)
		return nomem(err, "describe the job");
	d->job = r->e.job->name;
	d->id = id;
	d->fingerprint = fp;
	d->config_json = (const char *)cfg->data;
	d->format_version = r->e.p.format_version;
	d->snapshot_every = r->e.p.snapshot_every;
	d->nops = 1;
	d->ops[0].name = r->e.job->op_name;
	d->ops[0].type = r->e.op->type;
	d->ops[0].partitions = r->e.p.partitions;
	d->ops[0].key_schema = r->e.job->key_schema;
	d->ops[0].value_schema = r->e.op->value_schema;
	snprintf(r->lock_what, sizeof(r->lock_what), "ckpt run %s",
	    r->e.job->name);
	d->lock_what = r->lock_what;
	return CKPT_OK;
}

static int
main_loop(struct run *r, int64_t next, int64_t next_time, int planned,
    struct ckpt_error *err)
{
	int last = 0, found, done, rc;
	struct eng_line ln;
	struct eng_pos before;
	int64_t t;

	while (!last) {
		if (!r->src->wall_clock && !r->have_pend) {
			/* is there anything to run? */
			before = r->src->pos;
			rc = r->src->ops->next(r->src, &ln, &done, err);
			if (rc < 0)
				return CKPT_FAILED;
			if (rc == CKPT_EOF) {
				if (done || stopping(r)) {
					r->src_done = done;
					break;
				}
				if (settle_all(r, err) != CKPT_OK)
					return CKPT_FAILED;
				if (r->src->ops->wait != NULL)
					rc = r->src->ops->wait(r->src, 50,
					    err);
				else
					sleep_ms(20);
				if (rc < 0)
					return CKPT_FAILED;
				continue;
			}
			line_time(r, ln.data, ln.len, before.rec, &t);
			if (stash(r, &ln, &before, t, err) != CKPT_OK)
				return CKPT_FAILED;
		}
		if (r->src->wall_clock && !planned) {
			int64_t now = now_ms();
			int64_t aligned = now - now % r->e.p.batch_ms;

			if (next_time == CKPT_NONE || next_time < aligned)
				next_time = aligned;
		}
		if (next_time == CKPT_NONE) {
			if (find_start(r, &found, err) != CKPT_OK)
				return CKPT_FAILED;
			if (!found) {
				if (stopping(r))
					break;
				if (settle_all(r, err) != CKPT_OK)
					return CKPT_FAILED;
				sleep_ms(20);
				continue;
			}
		}
		if (!r->src->wall_clock && !planned)
			next_time = r->e.start_ms + next * r->e.p.batch_ms;
		if (run_batch(r, next, next_time, &last, err) != CKPT_OK)
			return CKPT_FAILED;
		planned = 0;
		next++;
		next_time += r->e.p.batch_ms;
	}
	if (settle_all(r, err) != CKPT_OK)
		return CKPT_FAILED;
	r->res->stopped = stopping(r);
	return CKPT_OK;
}

static void
run_release(struct run *r)
{
	if (r->e.parts != NULL)
		for (int p = 0; p < r->e.p.partitions; p++)
			eng_table_release(&r->e.parts[p], r->e.op->free_ext);
	free(r->e.parts);
	free(r->e.touched);
	free(r->e.opstate);
	ckpt_buf_release(&r->e.tmp);
	if (r->src != NULL)
		r->src->ops->close(r->src);
	ckpt_close(r->rd);
	ckpt_nwriter_close(r->w);
	free(r->pend);
	ckpt_buf_release(&r->out);
	ckpt_buf_release(&r->json);
	ckw_free(r);
	for (int i = 0; i < ENG_QUEUE; i++)
		bstate_free(r->pool[i]);
	ckfill_release(&r->ef);
	ckfill_release(&r->pf);
	ckfill_release(&r->ff);
}

int
ckpt_run(struct ckpt_ctx *ctx, const struct ckpt_run_opts *o,
    struct ckpt_run_result *res, struct ckpt_error *err)
{
	struct ckpt_run_result dummy;
	struct ckpt_job_desc desc;
	struct ckpt_buf cfg = { 0 };
	struct run r;
	char fp[17], *id = NULL;
	int64_t next = 0, next_time = CKPT_NONE;
	int resumed = 0, planned = 0, rc = CKPT_FAILED;

	if (res == NULL)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	res->first_new_batch = CKPT_NONE;
	res->pinned_cpu = -1;
	res->last_batch = CKPT_NONE;
	memset(&r, 0, sizeof(r));
	r.res = res;
	r.e.ctx = ctx;
	r.e.o = o;
	r.since_snapshot = -1;
	r.e.job = job_find(o->job);
	if (r.e.job == NULL)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "unknown job '%s' (see 'ckpt run --list')",
		    o->job ? o->job : "");
	r.e.op = r.e.job->op;
	r.e.p = r.e.job->defaults;
	if (o->dump_input) {
		rc = dump_input(&r, err);
		goto out;
	}
	if (o->checkpoint == NULL || o->checkpoint[0] == '\0')
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot run: no checkpoint directory (--checkpoint DIR)");
	r.url = o->checkpoint;
	make_hint(&r);
	if (params_resolve(&r, &id, &resumed, err) != CKPT_OK ||
	    params_check(&r, err) != CKPT_OK ||
	    build_desc(&r, &desc, id, fp, &cfg, err) != CKPT_OK)
		goto out;
	res->resumed = resumed;
	if (ckpt_nwriter_open(ctx, r.url, &desc, CKPT_NW_CREATE, &r.w,
	    err) != CKPT_OK)
		goto out;
	if (ckpt_open_store(ctx, ckpt_nwriter_store(r.w), &r.rd, err) !=
	    CKPT_OK)
		goto out;
	r.e.parts = calloc((size_t)r.e.p.partitions, sizeof(*r.e.parts));
	if (r.e.parts == NULL) {
		nomem(err, "allocate the state");
		goto out;
	}
	for (int p = 0; p < r.e.p.partitions; p++)
		eng_table_init(&r.e.parts[p]);
	for (int i = 0; i < ENG_QUEUE; i++) {
		if ((r.pool[i] = bstate_new()) == NULL) {
			nomem(err, "allocate the state");
			goto out;
		}
		r.freel[r.nfree++] = r.pool[i];
	}
	if (open_source(&r, err) != CKPT_OK)
		goto out;
	r.src->stop = o->stop;
	/*
	 * A fault plan counts calls across threads and the power-loss
	 * journal is not shared: both keep the writes in one thread.
	 * (Crash points and the hit trace are safe: while the thread
	 * writes, the engine's thread reaches only engine.mid_batch, and
	 * a trace line is one O_APPEND write.)
	 */
	r.async_ok = !r.src->wall_clock && !o->sync_checkpoint &&
	    !(ctx != NULL && (ctx->fault != NULL || ckpt_pl_on(ctx)));
	r.dir_bytes = dir_size(ckpt_nwriter_store(r.w));
	if (resumed && recover(&r, &next, &next_time, &planned, err) !=
	    CKPT_OK)
		goto out;
	if (o->pin_threads >= 0)
		pin_plan(&r, o->pin_threads > 0);
	persister_start(&r);
	if (o->pin_threads > 0 && r.pin.on && r.pth_on) {
		if (eng_pin_engine(&r.pin) == 0)
			res->pinned_cpu = r.pin.cpu;
		else
			eng_warn(&r.e, "--pin-threads: the system refused to "
			    "pin the engine's thread; it runs unpinned");
	}
	rc = main_loop(&r, next, next_time, planned, err);
	if (rc == CKPT_OK)
		rc = settle_all(&r, err);
	persister_stop(&r, 0);
	eng_pin_release(&r.pin);	/* the caller's thread, as it was */
out:
	free(id);
	ckpt_buf_release(&cfg);
	run_release(&r);
	return rc;
}
