/*
 * test_engine.c - the micro-batch engine through its public API
 * (ckpt_run): the window job's inverse-function result against a full
 * recomputation at every slide, determinism, resuming in steps, the
 * size of incremental checkpoints, configuration errors, durations.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Output collected per batch through on_output. */
struct sink {
	char *buf;
	size_t len, cap;
	int64_t batches[4096];
	size_t offs[4096];
	int n;
	uint64_t ckpt_bytes[4096];
	const char *kind[4096];
	int nm;
};

static void
sink_output(void *arg, int64_t batch, const void *data, size_t len)
{
	struct sink *s = arg;

	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (s->buf == NULL)
			abort();
	}
	if (s->n < 4096) {
		s->batches[s->n] = batch;
		s->offs[s->n++] = s->len;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
}

static void
sink_metrics(void *arg, const struct ckpt_run_metrics *m)
{
	struct sink *s = arg;

	if (s->nm < 4096) {
		s->ckpt_bytes[s->nm] = m->checkpoint_bytes;
		s->kind[s->nm++] = m->checkpoint_kind;
	}
}

static void
sink_free(struct sink *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define NEV 4000
#define NKEYS 25

struct ev {
	int64_t t;
	int key;
};

/* Events with skew, late events and two idle gaps, written to path. */
static void
make_events(const char *path, struct ev *ev, uint64_t seed)
{
	FILE *f = fopen(path, "w");
	int64_t t = 1000000;

	for (int i = 0; i < NEV; i++) {
		uint64_t r = rnd(&seed);

		t += (int64_t)(r % 200);
		if (i == 1500 || i == 3000)
			t += 3 * 60 * 1000;	/* idle gap */
		ev[i].t = t;
		if (r % 100 < 4)
			ev[i].t -= (int64_t)(rnd(&seed) % 40000); /* late */
		ev[i].key = r % 3 ? (int)(rnd(&seed) % 3) :
		    (int)(rnd(&seed) % NKEYS);
		fprintf(f, "%" PRId64 "\tk%02d\tv\n", ev[i].t, ev[i].key);
	}
	fclose(f);
}

static void
base_opts(struct ckpt_run_opts *o, const char *job, const char *dir,
    const char *input, struct sink *s)
{
	ckpt_run_opts_init(o);
	o->job = job;
	o->checkpoint = dir;
	o->source = CKPT_SRC_FILE;
	o->input = input;
	o->on_output = sink_output;
	o->on_metrics = sink_metrics;
	o->cb_arg = s;
}

/*
 * The window job subtracts the leaving slide with the inverse function;
 * here every window is recounted from the raw events, at every slide.
 */
DEFINE_TEST(test_engine_window_inverse_equals_recomputation)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_run_opts o;
	struct ckpt_run_result res;
	struct sink s = { 0 };
	static struct ev ev[NEV];
	static int batch_of[NEV];
	const int64_t B = 10000, S = 30000, W = 120000;
	int64_t start, cur = 0, nslides;
	struct ckpt_buf want = { 0 };
	int slides_checked = 0;

	make_events("in.tsv", ev, 42);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	base_opts(&o, "window", "ck", "in.tsv", &s);
	o.batch_ms = B;
	o.slide_ms = S;
	o.window_ms = W;
	o.checkpoint_ms = 60000;
	CHECK_OK(ckpt_run(ctx, &o, &res, &err));
	/* batches by the documented rule, recomputed independently */
	start = ev[0].t - ev[0].t % S;
	for (int i = 0; i < NEV; i++) {
		int64_t b = (ev[i].t - start) / B;

		if (ev[i].t >= start && b > cur)
			cur = b;
		batch_of[i] = (int)cur;
	}
	CHECK_EQ_INT(res.last_batch, cur);
	nslides = (cur + 1) / (S / B);
	for (int64_t j = 0; j < nslides; j++) {
		int64_t lo = (j - W / S + 1) * (S / B), hi = (j + 1) * (S / B);
		int64_t cnt[NKEYS] = { 0 };

		for (int i = 0; i < NEV; i++)
			if (batch_of[i] >= lo && batch_of[i] < hi)
				cnt[ev[i].key]++;
		for (int k = 0; k < NKEYS; k++) {
			char line[64];
			int n;

			if (cnt[k] == 0)
				continue;
			n = snprintf(line, sizeof(line), "%" PRId64
			    "\tk%02d\t%" PRId64 "\n", start + (j + 1) * S, k,
			    cnt[k]);
			ckpt_buf_append(&want, line, (size_t)n);
		}
		slides_checked++;
	}
	CHECK(slides_checked > 20);
	CHECK_EQ_INT(s.len, want.len);
	if (s.len == want.len)
		CHECK(memcmp(s.buf, want.data, s.len) == 0);
	else
		fprintf(stderr, "  got:\n%.300s\n  want:\n%.300s\n", s.buf,
		    (char *)want.data);
	ckpt_buf_release(&want);
	sink_free(&s);
	ckpt_ctx_free(ctx);
}

/* Reads all state records of a checkpoint into one buffer. */
static void
state_dump(struct ckpt_ctx *ctx, const char *dir, struct ckpt_buf *out)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	struct ckpt_operator op;

	CHECK_OK(ckpt_open(ctx, dir, &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_operator_get(c, 0, &op, &err));
	for (int p = 0; p < op.partitions; p++) {
		struct ckpt_state_iter *it = NULL;
		struct ckpt_record r;

		CHECK_OK(ckpt_state_open(c, 0, p, CKPT_NONE, 0, &it, &err));
		while (it != NULL && ckpt_state_next(it, &r, &err) == CKPT_OK) {
			ckpt_buf_append(out, r.key, r.key_len);
			ckpt_buf_append(out, "=", 1);
			ckpt_buf_append(out, r.value, r.value_len);
			ckpt_buf_append(out, ";", 1);
		}
		ckpt_state_close(it);
	}
	ckpt_operator_release(&op);
	ckpt_close(c);
}

/*
 * Same input and configuration: byte-identical output and state, also
 * when the run is cut into pieces by --max-batches and resumed.
 */
DEFINE_TEST(test_engine_deterministic_and_resumable)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_run_opts o;
	struct ckpt_run_result res;
	struct sink a = { 0 }, b = { 0 };
	struct ckpt_buf sa = { 0 }, sb = { 0 };
	static struct ev ev[NEV];
	int steps = 0;

	make_events("in.tsv", ev, 7);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	base_opts(&o, "session", "a", "in.tsv", &a);
	o.batch_ms = 20000;
	o.timeout_ms = 120000;
	o.max_actions = 3;
	CHECK_OK(ckpt_run(ctx, &o, &res, &err));
	CHECK(res.batches_run > 30);
	CHECK(a.len > 0);
	base_opts(&o, "session", "b", "in.tsv", &b);
	o.batch_ms = 20000;
	o.timeout_ms = 120000;
	o.max_actions = 3;
	o.max_batches = 7;
	do {
		CHECK_OK(ckpt_run(ctx, &o, &res, &err));
		/* later steps take the parameters from the directory */
		o.batch_ms = o.timeout_ms = o.max_actions = 0;
		steps++;
	} while (res.batches_run > 0 && steps < 100);
	CHECK(steps > 5);
	CHECK_EQ_INT(a.len, b.len);
	CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
	state_dump(ctx, "a", &sa);
	state_dump(ctx, "b", &sb);
	CHECK(sa.len > 0);
	CHECK(sa.len == sb.len && memcmp(sa.data, sb.data, sa.len) == 0);
	ckpt_buf_release(&sa);
	ckpt_buf_release(&sb);
	sink_free(&a);
	sink_free(&b);
	ckpt_ctx_free(ctx);
}

/* A delta holds only the changed keys: ~1% of the snapshot here. */
DEFINE_TEST(test_engine_delta_is_small)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_run_opts o;
	struct ckpt_run_result res;
	struct sink s = { 0 };
	FILE *f = fopen("in.txt", "w");

	/* batch 0: 20000 distinct words; batch 1: 200 of them again */
	for (int i = 0; i < 20000; i++)
		fprintf(f, "word%05d\n", i);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "%s\n", i % 100 == 0 ? "word00042" : "");
	fclose(f);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	base_opts(&o, "wordcount", "ck", "in.txt", &s);
	o.rate = 20000;
	o.checkpoint_batches = 1;
	CHECK_OK(ckpt_run(ctx, &o, &res, &err));
	CHECK_EQ_INT(s.nm, 2);
	CHECK_STR(s.kind[0], "snapshot");
	CHECK_STR(s.kind[1], "delta");
	CHECK(s.ckpt_bytes[1] * 20 < s.ckpt_bytes[0]);
	sink_free(&s);
	ckpt_ctx_free(ctx);
}

DEFINE_TEST(test_engine_config_errors)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_run_opts o;
	struct sink s = { 0 };

	unit_write_file("in.txt", "a b\n", 4);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	base_opts(&o, "window", "ck", "in.txt", &s);
	o.slide_ms = 25000;
	CHECK_FAILS(ckpt_run(ctx, &o, NULL, &err), CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "slide 25s is not a multiple of the batch "
	    "interval 10s") != NULL);
	base_opts(&o, "window", "ck", "in.txt", &s);
	o.checkpoint_ms = 40000;
	CHECK_FAILS(ckpt_run(ctx, &o, NULL, &err), CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "not a multiple of the slide 30s") != NULL);
	base_opts(&o, "nope", "ck", "in.txt", &s);
	CHECK_FAILS(ckpt_run(ctx, &o, NULL, &err), CKPT_E_USAGE);
	base_opts(&o, "wordcount", "ck", "in.txt", &s);
	ckpt_error_clear(&err);
	CHECK_OK(ckpt_run(ctx, &o, NULL, &err));
	base_opts(&o, "session", "ck", "in.txt", &s);
	CHECK_FAILS(ckpt_run(ctx, &o, NULL, &err), CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "'ck-v2'") != NULL);
	base_opts(&o, "wordcount", "ck", "in.txt", &s);
	o.rate = 7;
	CHECK_FAILS(ckpt_run(ctx, &o, NULL, &err), CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "--rate 25, not 7") != NULL);
	sink_free(&s);
	ckpt_ctx_free(ctx);
}

DEFINE_TEST(test_engine_durations)
{
	int64_t ms = 0;
	char buf[32];

	CHECK(ckpt_duration_parse("500ms", &ms) == 0 && ms == 500);
	CHECK(ckpt_duration_parse("30s", &ms) == 0 && ms == 30000);
	CHECK(ckpt_duration_parse("10m", &ms) == 0 && ms == 600000);
	CHECK(ckpt_duration_parse("1m30s", &ms) == 0 && ms == 90000);
	CHECK(ckpt_duration_parse("2", &ms) == 0 && ms == 2000);
	CHECK(ckpt_duration_parse("1h", &ms) == 0 && ms == 3600000);
	CHECK(ckpt_duration_parse("", &ms) != 0);
	CHECK(ckpt_duration_parse("s", &ms) != 0);
	CHECK(ckpt_duration_parse("10x", &ms) != 0);
	CHECK(ckpt_duration_parse("-1s", &ms) != 0);
	CHECK(ckpt_duration_parse("99999999999999999999s", &ms) != 0);
	ckpt_duration_format(90000, buf, sizeof(buf));
	CHECK_STR(buf, "90s");
	ckpt_duration_format(600000, buf, sizeof(buf));
	CHECK_STR(buf, "10m");
	ckpt_duration_format(1500, buf, sizeof(buf));
	CHECK_STR(buf, "1500ms");
}

/* The job table answers --list. */
DEFINE_TEST(test_engine_job_list)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_info ji;

	CHECK_EQ_INT(ckpt_job_count(), 3);
	CHECK_OK(ckpt_job_get(1, &ji) == CKPT_OK ? CKPT_OK : CKPT_FAILED);
	CHECK_STR(ji.name, "window");
	CHECK_EQ_INT(ji.window_ms, 600000);
	CHECK_EQ_INT(ji.slide_ms, 30000);
	CHECK(ckpt_job_get(3, &ji) != CKPT_OK);
}
