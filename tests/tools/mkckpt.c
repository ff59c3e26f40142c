/*
 * mkckpt.c - writes a deterministic sample native checkpoint through the
 * public writer API (ckpt_nwriter_*), for the demo, CLI tests, the
 * corruption sweep and benchmarks.
 *
 * usage: mkckpt DIR [options]
 *   --batches N         committed batches 0..N-1 (default 10)
 *   --keys K            keys per operator, "key-00000000".. (default 1000)
 *   --partitions P      partitions per operator; key k goes to k % P (4)
 *   --value-bytes B     bytes of action strings per "sessions" value (16)
 *   --format-version V  1 (snapshots only) or 2 (deltas) (default 2)
 *   --snapshot-every S  v2: every S-th state checkpoint is a snapshot,
 *                       the others deltas against the previous one (4)
 *   --state-every E     a state checkpoint after batches E-1, 2E-1, ... (1)
 *   --uncommitted       then begin batch N, write its offsets, one state
 *                       file and its output, and stop before the commit
 *   --seed S            varies every key's values (default 1)
 *   --compress none|zstd  block codec (default zstd)
 *
 * Two operators: "counts" (string -> int64, reduceByKey) and "sessions"
 * (string -> struct<count:int64,last_seen:timestamp,actions:list<string>>).
 * Key k at batch b exists unless ((h(k) >> 8) + b) % 13 == 0, so deltas
 * hold tombstones and keys come back; its count grows on one batch in
 * four.  Batch b has logical time 1700000000000 + 1000 b and writes
 * output/<b>.  Same flags, same bytes (except metadata's created_ms).
 * Exit status 0, 2 on bad usage, 1 on a library error (message on
 * stderr).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"

struct opts {
	const char *dir;
	int64_t batches;
	int64_t keys;
	int partitions;
	int value_bytes;
	int version;
	int snapshot_every;
	int state_every;
	int uncommitted;
	uint64_t seed;
	int raw;
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
hkey(const struct opts *o, int64_t k)
{
	return mix((uint64_t)k * 0x9e3779b97f4a7c15ULL + o->seed);
}

static int
present(const struct opts *o, int64_t k, int64_t b)
{
	return ((hkey(o, k) >> 8) + (uint64_t)b) % 13 != 0;
}

/* base + the number of j in 0..b with (h + j) % 4 == 0 */
static int64_t
count_at(const struct opts *o, int64_t k, int64_t b)
{
	uint64_t h = hkey(o, k);
	int64_t r = (int64_t)((4 - h % 4) % 4);

	return (int64_t)(h % 1000) + (r <= b ? (b - r) / 4 + 1 : 0);
}

static void
enc_key(struct ckpt_buf *kb, int64_t k)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "key-%08" PRId64, k);

	kb->len = 0;
	if (ckpt_enc_string(kb, s, (size_t)n) != 0)
		abort();
}

static void
enc_value(const struct opts *o, int op, struct ckpt_buf *vb, int64_t k,
    int64_t b)
{
	int64_t c = count_at(o, k, b);

	vb->len = 0;
	if (op == 0) {
		if (ckpt_enc_int64(vb, c) != 0)
			abort();
		return;
	}
	/* the actions list only changes when the count does */
	int n = o->value_bytes / 16 > 0 ? o->value_bytes / 16 : 1;
	int each = o->value_bytes / n > 0 ? o->value_bytes / n : 1;
	char s[4096];

	if (each > (int)sizeof(s) - 1)
		each = (int)sizeof(s) - 1;
	if (ckpt_enc_struct_begin(vb, 3) != 0 || ckpt_enc_int64(vb, c) != 0 ||
	    ckpt_enc_timestamp(vb, 1700000000000LL + c * 1000) != 0 ||
	    ckpt_enc_list_begin(vb, (uint64_t)n) != 0)
		abort();
	for (int i = 0; i < n; i++) {
		int len = snprintf(s, sizeof(s), "act-%" PRId64 "-%" PRId64
		    "-%d-", k, c, i);

		if (len > each)
			len = each;
		while (len < each) {
			s[len] = (char)('a' + (len + i + k) % 26);
			len++;
		}
		if (ckpt_enc_string(vb, s, (size_t)len) != 0)
			abort();
	}
}

static int
value_changed(const struct opts *o, int64_t k, int64_t prev, int64_t b)
{
	return count_at(o, k, prev) != count_at(o, k, b);
}

/* One state file for (op, p) at batch b; prev is the previous state
 * batch for a delta, -1 for a snapshot. */
static int
write_state(struct ckpt_nwriter *w, const struct opts *o, int op, int p,
    int64_t b, int64_t prev, struct ckpt_buf *kb, struct ckpt_buf *vb,
    struct ckpt_error *err)
{
	struct ckpt_swriter *sw;
	int delta = prev >= 0;

	if (ckpt_nwriter_state_open(w, op, p, delta ? CKPT_STATE_DELTA :
	    CKPT_STATE_SNAPSHOT, &sw, err) != CKPT_OK)
		return -1;
	for (int64_t k = p; k < o->keys; k += o->partitions) {
		int now = present(o, k, b);
		int rc = CKPT_OK;

		if (delta) {
			int before = present(o, k, prev);

			if (!now && before) {
				enc_key(kb, k);
				rc = ckpt_swriter_del(sw, kb->data, kb->len,
				    err);
			} else if (now && (!before ||
			    value_changed(o, k, prev, b))) {
				enc_key(kb, k);
				enc_value(o, op, vb, k, b);
				rc = ckpt_swriter_put(sw, kb->data, kb->len,
				    vb->data, vb->len, err);
			}
		} else if (now) {
			enc_key(kb, k);
			enc_value(o, op, vb, k, b);
			rc = ckpt_swriter_put(sw, kb->data, kb->len, vb->data,
			    vb->len, err);
		}
		if (rc != CKPT_OK) {
			ckpt_swriter_finish(sw, NULL);
			return -1;
		}
	}
	return ckpt_swriter_finish(sw, err) == CKPT_OK ? 0 : -1;
}

static int
write_batch_files(struct ckpt_nwriter *w, const struct opts *o, int64_t b,
    struct ckpt_error *err)
{
	char path[64], text[256];
	int n;

	snprintf(path, sizeof(path), "output/%020" PRId64, b);
	n = snprintf(text, sizeof(text), "batch %" PRId64 " seed %" PRIu64
	    " keys %" PRId64 "\n", b, o->seed, o->keys);
	return ckpt_nwriter_file(w, path, text, (size_t)n, err) == CKPT_OK ?
	    0 : -1;
}

static int
begin(struct ckpt_nwriter *w, const struct opts *o, int64_t b,
    struct ckpt_error *err)
{
	char off[256];

	snprintf(off, sizeof(off), "{\"generator\":{\"seed\":%" PRIu64
	    ",\"offset\":%" PRId64 "}}", o->seed, (b + 1) * o->keys);
	return ckpt_nwriter_begin_batch(w, b, 1700000000000LL + b * 1000, off,
	    err) == CKPT_OK ? 0 : -1;
}

static int
run(const struct opts *o, struct ckpt_error *err)
{
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_buf kb = { 0 }, vb = { 0 };
	char id[40], cfg[256];
	int64_t prev_state = -1, nstate = 0;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	snprintf(id, sizeof(id), "%032" PRIx64, o->seed);
	snprintf(cfg, sizeof(cfg), "{\"batch_interval_ms\":1000,\"keys\":%"
	    PRId64 ",\"state_every\":%d,\"value_bytes\":%d}", o->keys,
	    o->state_every, o->value_bytes);
	d.job = "mkckpt";
	d.id = id;
	d.fingerprint = "mkckpt-1";
	d.config_json = cfg;
	d.format_version = o->version;
	d.snapshot_every = o->snapshot_every;
	d.nops = 2;
	d.ops[0] = (struct ckpt_op_desc){ "counts", "reduceByKey",
	    o->partitions, "string", "int64" };
	d.ops[1] = (struct ckpt_op_desc){ "sessions", "session",
	    o->partitions, "string",
	    "struct<count:int64,last_seen:timestamp,actions:list<string>>" };
	if (ckpt_nwriter_open(NULL, o->dir, &d, CKPT_NW_CREATE |
	    (o->raw ? CKPT_NW_RAW : 0), &w, err) != CKPT_OK)
		return -1;
	for (int64_t b = 0; b < o->batches; b++) {
		int state = (b + 1) % o->state_every == 0;
		int64_t prev = -1;

		if (begin(w, o, b, err) != 0)
			goto out;
		if (state) {
			if (o->version >= 2 && prev_state >= 0 &&
			    nstate % o->snapshot_every != 0)
				prev = prev_state;
			for (int op = 0; op < 2; op++)
				for (int p = 0; p < o->partitions; p++)
					if (write_state(w, o, op, p, b, prev,
					    &kb, &vb, err) != 0)
						goto out;
			prev_state = b;
			nstate++;
		}
		if (write_batch_files(w, o, b, err) != 0)
			goto out;
		if (ckpt_nwriter_commit(w, NULL, err) != CKPT_OK)
			goto out;
	}
	if (o->uncommitted) {
		int64_t b = o->batches;

		if (begin(w, o, b, err) != 0 ||
		    write_state(w, o, 0, 0, b, -1, &kb, &vb, err) != 0 ||
		    write_batch_files(w, o, b, err) != 0)
			goto out;
	}
	rc = 0;
out:
	ckpt_nwriter_close(w);
	ckpt_buf_release(&kb);
	ckpt_buf_release(&vb);
	return rc;
}

static int
num(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	char *end;
	long long x;

	if (s == NULL)
		return -1;
	x = strtoll(s, &end, 10);
	if (*end != '\0' || end == s || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mkckpt DIR [--batches N] [--keys K] "
	    "[--partitions P] [--value-bytes B] [--format-version 1|2] "
	    "[--snapshot-every S] [--state-every E] [--uncommitted] "
	    "[--seed S] [--compress none|zstd]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, 10, 1000, 4, 16, 2, 4, 1, 0, 1, 0 };
	struct ckpt_error err = { 0 };
	int64_t v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *n = i + 1 < argc ? argv[i + 1] :
		    NULL;

		if (a[0] != '-') {
			if (o.dir != NULL)
				usage();
			o.dir = a;
			continue;
		}
		if (strcmp(a, "--uncommitted") == 0) {
			o.uncommitted = 1;
			continue;
		}
		if (strcmp(a, "--compress") == 0 && n != NULL) {
			if (strcmp(n, "none") == 0)
				o.raw = 1;
			else if (strcmp(n, "zstd") == 0)
				o.raw = 0;
			else
				usage();
		} else if (strcmp(a, "--batches") == 0 &&
		    num(n, 0, INT64_MAX / 4, &v) == 0) {
			o.batches = v;
		} else if (strcmp(a, "--keys") == 0 &&
		    num(n, 0, 100000000000LL, &v) == 0) {
			o.keys = v;
		} else if (strcmp(a, "--partitions") == 0 &&
		    num(n, 1, 100000, &v) == 0) {
			o.partitions = (int)v;
		} else if (strcmp(a, "--value-bytes") == 0 &&
		    num(n, 1, 1 << 24, &v) == 0) {
			o.value_bytes = (int)v;
		} else if (strcmp(a, "--format-version") == 0 &&
		    num(n, 1, 2, &v) == 0) {
			o.version = (int)v;
		} else if (strcmp(a, "--snapshot-every") == 0 &&
		    num(n, 1, 1000000, &v) == 0) {
			o.snapshot_every = (int)v;
		} else if (strcmp(a, "--state-every") == 0 &&
		    num(n, 1, 1000000, &v) == 0) {
			o.state_every = (int)v;
		} else if (strcmp(a, "--seed") == 0 &&
		    num(n, 0, INT64_MAX, &v) == 0) {
			o.seed = (uint64_t)v;
		} else {
			usage();
		}
		i++;
	}
	if (o.dir == NULL)
		usage();
	if (run(&o, &err) != 0) {
		fprintf(stderr, "mkckpt: %s\n", err.msg);
		return 1;
	}
	return 0;
}
