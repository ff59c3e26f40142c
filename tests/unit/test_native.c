/*
 * test_native.c - the native format through the public API: writer and
 * reader round trips (v1, v2 with deltas and tombstones), reopen, the
 * compatibility check, replayed commits, restart point rules, state
 * batch tracking, detection, bounded memory, verify and regions.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "format/native.h"

static void
desc_init(struct ckpt_job_desc *d, int version, int partitions)
{
	memset(d, 0, sizeof(*d));
	d->job = "wordcount";
	d->fingerprint = "fp-1";
	d->config_json = "{\"batch_interval_ms\":1000}";
	d->format_version = version;
	d->snapshot_every = 3;
	d->nops = 2;
	d->ops[0] = (struct ckpt_op_desc){ "counts", "reduceByKey",
	    partitions, "string", "int64" };
	d->ops[1] = (struct ckpt_op_desc){ "sessions", "session",
	    partitions, "string",
	    "struct<count:int64,last_seen:timestamp,actions:list<string>>" };
}

static void
key_of(struct ckpt_buf *b, const char *s)
{
	b->len = 0;
	ckpt_enc_string(b, s, strlen(s));
}

static void
int_of(struct ckpt_buf *b, int64_t v)
{
	b->len = 0;
	ckpt_enc_int64(b, v);
}

/* Writes op 0 partition 0: keys k[i] = v[i] (v < 0: tombstone). */
static int
put_state(struct ckpt_nwriter *w, enum ckpt_state_kind kind,
    const char *const *keys, const int64_t *vals, int n,
    struct ckpt_error *err)
{
	struct ckpt_swriter *sw;
	struct ckpt_buf kb = { 0 }, vb = { 0 };
	int rc = CKPT_OK;

	if (ckpt_nwriter_state_open(w, 0, 0, kind, &sw, err) != CKPT_OK)
		return CKPT_FAILED;
	for (int i = 0; i < n && rc == CKPT_OK; i++) {
		key_of(&kb, keys[i]);
		if (vals[i] < 0) {
			rc = ckpt_swriter_del(sw, kb.data, kb.len, err);
		} else {
			int_of(&vb, vals[i]);
			rc = ckpt_swriter_put(sw, kb.data, kb.len, vb.data,
			    vb.len, err);
		}
	}
	if (rc != CKPT_OK) {
		ckpt_swriter_finish(sw, NULL);
	} else {
		rc = ckpt_swriter_finish(sw, err);
	}
	ckpt_buf_release(&kb);
	ckpt_buf_release(&vb);
	return rc;
}

/* Collects "key=value;" of op 0 partition 0 at version into out. */
static int
dump_state(struct ckpt *c, int64_t version, unsigned flags, char *out,
    size_t cap, struct ckpt_error *err)
{
	struct ckpt_state_iter *it;
	struct ckpt_record r;
	int rc;

	out[0] = '\0';
	if (ckpt_state_open(c, 0, 0, version, flags, &it, err) != CKPT_OK)
		return CKPT_FAILED;
	while ((rc = ckpt_state_next(it, &r, err)) == CKPT_OK) {
		size_t n = strlen(out);

		snprintf(out + n, cap - n, "%s=%s;", r.key_json,
		    r.value_json);
	}
	ckpt_state_close(it);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

static void
batch(struct ckpt_nwriter *w, int64_t b, struct ckpt_error *e)
{
	struct ckpt_error err = { 0 };

	(void)e;
	CHECK_OK(ckpt_nwriter_begin_batch(w, b, 1000 * b, "{\"x\":1}",
	    &err));
}

DEFINE_TEST(test_native_roundtrip_v2)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt *c = NULL;
	struct ckpt_info info;
	char got[1024];
	static const char *const k0[] = { "a", "b", "c" };
	static const int64_t v0[] = { 1, 2, 3 };
	static const char *const k1[] = { "b", "d" };
	static const int64_t v1[] = { -1, 4 };
	static const char *const k2[] = { "a", "b" };
	static const int64_t v2[] = { 10, 20 };

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, "ck", &d, CKPT_NW_CREATE, &w, &err));
	if (w == NULL)
		return;
	batch(w, 0, &err);
	CHECK_OK(put_state(w, CKPT_STATE_SNAPSHOT, k0, v0, 3, &err));
	CHECK_OK(ckpt_nwriter_commit(w, "{\"note\":\"x\"}", &err));
	batch(w, 1, &err);
	CHECK_OK(put_state(w, CKPT_STATE_DELTA, k1, v1, 2, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	batch(w, 2, &err);	/* no state */
	CHECK_OK(ckpt_nwriter_file(w, "output/00000000000000000002", "hi\n",
	    3, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	batch(w, 3, &err);
	CHECK_OK(put_state(w, CKPT_STATE_DELTA, k2, v2, 2, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	ckpt_nwriter_close(w);

	CHECK_OK(ckpt_open(NULL, "ck", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_STR(info.format, "native");
	CHECK_STR(info.kind, "native v2");
	CHECK_EQ_INT(info.restart_point, 3);
	CHECK_EQ_INT(info.next_batch, 4);
	CHECK_EQ_INT(info.state_version, 3);
	CHECK_EQ_INT(info.batches, 4);
	CHECK_EQ_INT(info.operators, 2);
	CHECK(info.metadata_json && strstr(info.metadata_json, "wordcount"));
	ckpt_info_release(&info);

	CHECK_OK(dump_state(c, 0, 0, got, sizeof(got), &err));
	CHECK_STR(got, "\"a\"=1;\"b\"=2;\"c\"=3;");
	CHECK_OK(dump_state(c, 1, 0, got, sizeof(got), &err));
	CHECK_STR(got, "\"a\"=1;\"c\"=3;\"d\"=4;");
	CHECK_OK(dump_state(c, 2, 0, got, sizeof(got), &err));
	CHECK_STR(got, "\"a\"=1;\"c\"=3;\"d\"=4;");
	CHECK_OK(dump_state(c, CKPT_NONE, 0, got, sizeof(got), &err));
	CHECK_STR(got, "\"a\"=10;\"b\"=20;\"c\"=3;\"d\"=4;");
	{
		struct ckpt_operator op;

		/* deltas: counted by a merge, the files being small */
		CHECK_OK(ckpt_operator_get(c, 0, &op, &err));
		CHECK_EQ_INT(op.keys, 4);
		CHECK_EQ_INT(op.snapshots, 1);
		CHECK_EQ_INT(op.deltas, 2);
		ckpt_operator_release(&op);
	}
	/* raw: one file, tombstones included */
	CHECK_OK(dump_state(c, 1, CKPT_STATE_RAW_DELTAS, got, sizeof(got),
	    &err));
	CHECK_STR(got, "\"b\"=null;\"d\"=4;");
	CHECK_FAILS(dump_state(c, 2, CKPT_STATE_RAW_DELTAS, got, sizeof(got),
	    &err), CKPT_E_NOTFOUND);

	/* batch 2 carries state_batch 1; the output blob reads back */
	{
		char *j = NULL, *data = NULL;
		size_t len = 0;
		int64_t sb = -5;

		CHECK_OK(ckpt_batch_json(c, 2, &j, &err));
		CHECK(j && strstr(j, "\"state_batch\":1"));
		free(j);
		CHECK_OK(ckpt_batch_json(c, 0, &j, &err));
		CHECK(j && strstr(j, "\"note\":\"x\""));
		free(j);
		CHECK_FAILS(ckpt_batch_json(c, 9, &j, &err), CKPT_E_NOTFOUND);
		CHECK_OK(ckpt_native_read_file(c,
		    "output/00000000000000000002", &data, &len, &err));
		CHECK(data && len == 3 && memcmp(data, "hi\n", 3) == 0);
		free(data);
		CHECK_OK(ckpt_native_state_base(c, 2, &sb, &err));
		CHECK_EQ_INT(sb, 1);
		CHECK_OK(ckpt_native_state_base(c, CKPT_NONE, &sb, &err));
		CHECK_EQ_INT(sb, 3);
	}
	ckpt_close(c);
}

DEFINE_TEST(test_native_roundtrip_v1_and_usage)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw = NULL;
	struct ckpt *c = NULL;
	struct ckpt_buf kb = { 0 }, vb = { 0 };
	struct ckpt_info info;
	char got[256];
	static const char *const k0[] = { "x", "y" };
	static const int64_t v0[] = { 7, 8 };

	desc_init(&d, 1, 2);
	CHECK_OK(ckpt_nwriter_open(NULL, "v1", &d, CKPT_NW_CREATE |
	    CKPT_NW_RAW, &w, &err));
	if (w == NULL)
		return;
	batch(w, 0, &err);
	CHECK_FAILS(ckpt_nwriter_state_open(w, 0, 0, CKPT_STATE_DELTA, &sw,
	    &err), CKPT_E_USAGE);
	CHECK(strstr(err.msg, "format version 1") != NULL);
	CHECK_FAILS(ckpt_nwriter_state_open(w, 5, 0, CKPT_STATE_SNAPSHOT,
	    &sw, &err), CKPT_E_USAGE);
	CHECK_FAILS(ckpt_nwriter_state_open(w, 0, 2, CKPT_STATE_SNAPSHOT,
	    &sw, &err), CKPT_E_USAGE);
	CHECK_OK(ckpt_nwriter_state_open(w, 0, 1, CKPT_STATE_SNAPSHOT, &sw,
	    &err));
	key_of(&kb, "b");
	int_of(&vb, 1);
	CHECK_OK(ckpt_swriter_put(sw, kb.data, kb.len, vb.data, vb.len,
	    &err));
	CHECK_FAILS(ckpt_swriter_put(sw, kb.data, kb.len, vb.data, vb.len,
	    &err), CKPT_E_USAGE);	/* not strictly ascending */
	CHECK_FAILS(ckpt_swriter_del(sw, kb.data, kb.len, &err),
	    CKPT_E_USAGE);		/* tombstone in a snapshot */
	CHECK_FAILS(ckpt_nwriter_commit(w, NULL, &err), CKPT_E_USAGE);
	CHECK_OK(ckpt_swriter_finish(sw, &err));
	CHECK_OK(put_state(w, CKPT_STATE_SNAPSHOT, k0, v0, 2, &err));
	CHECK_FAILS(ckpt_nwriter_file(w, "commits/x", "a", 1, &err),
	    CKPT_E_USAGE);
	CHECK_FAILS(ckpt_nwriter_commit(w, "[1]", &err), CKPT_E_USAGE);
	CHECK_FAILS(ckpt_nwriter_commit(w, "{\"batch\":3}", &err),
	    CKPT_E_USAGE);
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	ckpt_nwriter_close(w);
	ckpt_buf_release(&kb);
	ckpt_buf_release(&vb);

	CHECK_OK(ckpt_open(NULL, "v1", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_STR(info.kind, "native v1");
	ckpt_info_release(&info);
	CHECK_OK(dump_state(c, CKPT_NONE, 0, got, sizeof(got), &err));
	CHECK_STR(got, "\"x\"=7;\"y\"=8;");
	{
		struct ckpt_operator op;
		struct ckpt_partition pt;

		CHECK_OK(ckpt_operator_get(c, 0, &op, &err));
		CHECK_STR(op.name, "counts");
		CHECK_EQ_INT(op.partitions, 2);
		CHECK_EQ_INT(op.snapshots, 2);
		CHECK_EQ_INT(op.keys, 3);
		CHECK_STR(op.value_schema, "\"int64\"");
		ckpt_operator_release(&op);
		CHECK_OK(ckpt_partition_get(c, 0, 1, &pt, &err));
		CHECK_EQ_INT(pt.keys, 1);
		CHECK_EQ_INT(ckpt_operator_find(c, "sessions"), 1);
		CHECK_EQ_INT(ckpt_operator_find(c, "0"), 0);
		CHECK_EQ_INT(ckpt_operator_find(c, "nope"), -1);
	}
	ckpt_close(c);
}

DEFINE_TEST(test_native_reopen_and_replay)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw = NULL;
	struct ckpt *c = NULL;
	char got[256];
	int64_t sb = 0;
	static const char *const k0[] = { "a" };
	static const int64_t v0[] = { 1 };
	static const char *const k1[] = { "a" };
	static const int64_t v1[] = { 2 };

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, "r", &d, CKPT_NW_CREATE, &w, &err));
	if (w == NULL)
		return;
	batch(w, 0, &err);
	CHECK_OK(put_state(w, CKPT_STATE_SNAPSHOT, k0, v0, 1, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	batch(w, 1, &err);
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	ckpt_nwriter_close(w);

	/* reopen: state batch 0 is remembered; deltas build on it */
	w = NULL;
	CHECK_OK(ckpt_nwriter_open(NULL, "r", &d, 0, &w, &err));
	if (w == NULL)
		return;
	CHECK_OK(ckpt_nwriter_state_batch(w, &sb));
	CHECK_EQ_INT(sb, 0);
	/* replaying a committed batch writes nothing and commit says so */
	batch(w, 1, &err);
	CHECK_FAILS(ckpt_nwriter_state_open(w, 0, 0, CKPT_STATE_DELTA, &sw,
	    &err), CKPT_E_EXISTS);
	CHECK_FAILS(ckpt_nwriter_commit(w, NULL, &err), CKPT_E_EXISTS);
	batch(w, 2, &err);
	CHECK_OK(put_state(w, CKPT_STATE_DELTA, k1, v1, 1, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	CHECK_OK(ckpt_nwriter_state_batch(w, &sb));
	CHECK_EQ_INT(sb, 2);
	ckpt_nwriter_close(w);

	CHECK_OK(ckpt_open(NULL, "r", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(dump_state(c, CKPT_NONE, 0, got, sizeof(got), &err));
	CHECK_STR(got, "\"a\"=2;");
	ckpt_close(c);
}

DEFINE_TEST(test_native_config_mismatch)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d, d2;
	struct ckpt_nwriter *w = NULL;

	desc_init(&d, 2, 2);
	CHECK_OK(ckpt_nwriter_open(NULL, "m", &d, CKPT_NW_CREATE, &w, &err));
	ckpt_nwriter_close(w);
	w = NULL;

	d2 = d;
	d2.job = "window";
	CHECK_FAILS(ckpt_nwriter_open(NULL, "m", &d2, 0, &w, &err),
	    CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "written by job 'wordcount' (fingerprint fp-1),"
	    " not 'window'") != NULL);
	CHECK(strstr(err.msg, "'m-v2'") != NULL);
	CHECK(strstr(err.msg, "'ckpt migrate'") != NULL);
	d2 = d;
	d2.fingerprint = "fp-2";
	CHECK_FAILS(ckpt_nwriter_open(NULL, "m", &d2, 0, &w, &err),
	    CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "fingerprint fp-1, not fp-2") != NULL);
	d2 = d;
	d2.ops[1].partitions = 8;
	CHECK_FAILS(ckpt_nwriter_open(NULL, "m", &d2, 0, &w, &err),
	    CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "2 partitions for operator 'sessions', not 8")
	    != NULL);
	d2 = d;
	d2.ops[0].value_schema = "double";
	CHECK_FAILS(ckpt_nwriter_open(NULL, "m", &d2, 0, &w, &err),
	    CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "value schema 'int64'") != NULL);
	d2 = d;
	d2.format_version = 1;
	CHECK_FAILS(ckpt_nwriter_open(NULL, "m", &d2, 0, &w, &err),
	    CKPT_E_CONFIG);
	CHECK(strstr(err.msg, "format version 2, not 1") != NULL);
	d2 = d;
	d2.ops[0].name = "totals";
	CHECK_FAILS(ckpt_nwriter_open(NULL, "m", &d2, 0, &w, &err),
	    CKPT_E_CONFIG);
	d2.job = "window";
	ckpt_error_clear(&err);
	CHECK_OK(ckpt_nwriter_open(NULL, "m", &d2, CKPT_NW_NO_CHECK, &w,
	    &err));
	ckpt_nwriter_close(w);
	w = NULL;
	/* bad descriptions and foreign directories */
	d2 = d;
	d2.ops[0].key_schema = "list<";
	CHECK_FAILS(ckpt_nwriter_open(NULL, "n", &d2, CKPT_NW_CREATE, &w,
	    &err), CKPT_E_FORMAT);
	mkdir("foreign", 0755);
	unit_write_file("foreign/file", "x", 1);
	CHECK_FAILS(ckpt_nwriter_open(NULL, "foreign", &d, CKPT_NW_CREATE, &w,
	    &err), CKPT_E_NOTCKPT);
	mkdir("empty", 0755);
	CHECK_FAILS(ckpt_nwriter_open(NULL, "empty", &d, 0, &w, &err),
	    CKPT_E_NOTCKPT);
}

static void
write_n(const char *dir, int n, int uncommitted)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	static const char *const k0[] = { "a" };
	static const int64_t v0[] = { 1 };

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, dir, &d, CKPT_NW_CREATE, &w, &err));
	if (w == NULL)
		return;
	for (int b = 0; b < n; b++) {
		batch(w, b, &err);
		CHECK_OK(put_state(w, CKPT_STATE_SNAPSHOT, k0, v0, 1, &err));
		CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	}
	if (uncommitted) {
		batch(w, n, &err);
		CHECK_OK(put_state(w, CKPT_STATE_SNAPSHOT, k0, v0, 1, &err));
	}
	ckpt_nwriter_close(w);
}

struct roles {
	int n[CKPT_F_OTHER + 1];
};

static int
role_cb(void *arg, const struct ckpt_file *f)
{
	((struct roles *)arg)->n[f->role]++;
	return 0;
}

struct probs {
	int errors, warnings;
	char first[512];
};

static int
prob_cb(void *arg, const struct ckpt_problem *p)
{
	struct probs *ps = arg;

	if (p->severity == CKPT_PROBLEM_ERROR) {
		if (ps->errors++ == 0)
			snprintf(ps->first, sizeof(ps->first), "%s: %s",
			    p->path, p->msg);
	} else {
		ps->warnings++;
	}
	return 0;
}

DEFINE_TEST(test_native_restart_point)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	struct ckpt_info info;
	struct roles ro = { { 0 } };
	struct probs pr = { 0 };
	struct ckpt_verify_opts vo = { CKPT_VERIFY_READ_STATE, 0, 0, 0 };
	struct ckpt_verify_stats vs;
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int n = 0, last_committed = -1;

	write_n("u", 3, 1);
	unit_write_file("u/state/0/0/.x.1.2.tmp", "junk", 4);
	unit_write_file("u/README", "x", 1);
	CHECK_OK(ckpt_open(NULL, "u", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_EQ_INT(info.restart_point, 2);
	CHECK_EQ_INT(info.last_batch, 3);
	CHECK_EQ_INT(info.last_commit, 2);
	ckpt_info_release(&info);
	CHECK_OK(ckpt_files_walk(c, role_cb, &ro, &err));
	CHECK_EQ_INT(ro.n[CKPT_F_METADATA], 1);
	CHECK_EQ_INT(ro.n[CKPT_F_OFFSETS], 3);
	CHECK_EQ_INT(ro.n[CKPT_F_UNCOMMITTED], 1);
	CHECK_EQ_INT(ro.n[CKPT_F_COMMIT], 3);
	CHECK_EQ_INT(ro.n[CKPT_F_SNAPSHOT], 3);
	CHECK_EQ_INT(ro.n[CKPT_F_ORPHAN], 1);
	CHECK_EQ_INT(ro.n[CKPT_F_TEMP], 1);
	CHECK_EQ_INT(ro.n[CKPT_F_FOREIGN], 1);
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 0);
	CHECK_EQ_INT(pr.warnings, 4);	/* uncommitted, orphan, temp, foreign */
	CHECK(vs.records == 3 && vs.files >= 10);
	CHECK_OK(ckpt_batch_iter_open(c, &it, &err));
	while (it && ckpt_batch_iter_next(it, &b, &err) == CKPT_OK) {
		CHECK_EQ_INT(b.id, n);
		if (b.committed)
			last_committed = (int)b.id;
		CHECK_EQ_INT(b.is_restart_point, b.id == 2);
		CHECK_EQ_INT(b.time_ms, 1000 * b.id);
		n++;
	}
	ckpt_batch_iter_close(it);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(last_committed, 2);
	ckpt_close(c);

	/* a commit whose manifest file is missing is not a restart point */
	write_n("m", 3, 0);
	CHECK(unlink("m/state/0/0/00000000000000000002.snapshot") == 0);
	c = NULL;
	CHECK_OK(ckpt_open(NULL, "m", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_EQ_INT(info.restart_point, 1);
	CHECK(strstr(info.restart_rule, "batch 2") != NULL);
	ckpt_info_release(&info);
	memset(&pr, 0, sizeof(pr));
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK(pr.errors >= 1);
	CHECK(strstr(pr.first, "00000000000000000002.snapshot: missing") !=
	    NULL);
	ckpt_close(c);
}

DEFINE_TEST(test_native_detection)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	const char *const *names = ckpt_format_names();
	extern const char *ckpt_format_driver_name(size_t i);
	size_t i;

	mkdir("empty", 0755);
	CHECK_FAILS(ckpt_open(NULL, "empty", &c, &err), CKPT_E_NOTCKPT);
	CHECK(strstr(err.msg, "'empty' is not a checkpoint (no known format "
	    "found)") != NULL);
	mkdir("junk", 0755);
	unit_write_file("junk/a", "hello", 5);
	unit_write_file("junk/b", "\x89" "CKPT", 5);
	CHECK_FAILS(ckpt_open(NULL, "junk", &c, &err), CKPT_E_NOTCKPT);
	CHECK_FAILS(ckpt_open(NULL, "missing", &c, &err), CKPT_E_NOTFOUND);
	/* damaged metadata: still native, and the open names the file */
	write_n("n", 1, 0);
	unit_write_file("n/meta/00000000000000000000", "garbage!", 8);
	CHECK_FAILS(ckpt_open(NULL, "n", &c, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "meta/00000000000000000000") != NULL);
	/* the names list matches the driver table */
	for (i = 0; names[i] != NULL; i++)
		CHECK_STR(names[i], ckpt_format_driver_name(i));
	CHECK(ckpt_format_driver_name(i) == NULL);
	CHECK_STR(names[0], "native");
	CHECK_STR(ckpt_file_role_name(CKPT_F_ORPHAN), "orphan");
	CHECK_STR(ckpt_file_role_name(99), "unknown");
}

DEFINE_TEST(test_native_bounded_memory)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw = NULL;
	struct ckpt *c = NULL;
	struct ckpt_state_iter *it = NULL;
	struct ckpt_record r;
	struct ckpt_buf kb = { 0 }, vb = { 0 };
	char k[32];
	long n = 0;
	uint64_t mem;
	int rc;

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, "big", &d, CKPT_NW_CREATE, &w,
	    &err));
	if (w == NULL)
		return;
	batch(w, 0, &err);
	CHECK_OK(ckpt_nwriter_state_open(w, 0, 0, CKPT_STATE_SNAPSHOT, &sw,
	    &err));
	for (int i = 0; i < 200000; i++) {
		snprintf(k, sizeof(k), "k%09d", i);
		key_of(&kb, k);
		int_of(&vb, i);
		CHECK_OK(ckpt_swriter_put(sw, kb.data, kb.len, vb.data, vb.len,
		    &err));
	}
	CHECK_OK(ckpt_swriter_finish(sw, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	batch(w, 1, &err);
	CHECK_OK(ckpt_nwriter_state_open(w, 0, 0, CKPT_STATE_DELTA, &sw,
	    &err));
	for (int i = 0; i < 200000; i += 2) {
		snprintf(k, sizeof(k), "k%09d", i);
		key_of(&kb, k);
		CHECK_OK(ckpt_swriter_del(sw, kb.data, kb.len, &err));
	}
	CHECK_OK(ckpt_swriter_finish(sw, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	ckpt_nwriter_close(w);
	ckpt_buf_release(&kb);
	ckpt_buf_release(&vb);

	CHECK_OK(ckpt_open(NULL, "big", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_state_open(c, 0, 0, CKPT_NONE, 0, &it, &err));
	while (it && (rc = ckpt_state_next(it, &r, &err)) == CKPT_OK) {
		if (n < 3 || n % 5000 == 0) {
			/* odd keys survive, in order */
			snprintf(k, sizeof(k), "\"k%09ld\"", 2 * n + 1);
			CHECK_STR(r.key_json, k);
		}
		n++;
	}
	CHECK_EQ_INT(n, 100000);
	mem = ckpt_state_iter_mem(it);
	/* two files, one ~64 KiB block each (stored + raw), no more */
	CHECK(mem > 0 && mem < 4 * 64 * 1024 + 4096);
	ckpt_state_close(it);
	ckpt_close(c);
}

struct regs {
	int n, bad;
	char last[64];
};

static int
reg_cb(void *arg, const struct ckpt_region *r)
{
	struct regs *g = arg;

	g->n++;
	if (r->ok == 0)
		g->bad++;
	snprintf(g->last, sizeof(g->last), "%s", r->what);
	return 0;
}

DEFINE_TEST(test_native_verify_damage)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	struct probs pr = { 0 };
	struct ckpt_verify_opts vo = { CKPT_VERIFY_READ_STATE, 0, 0, 0 };
	struct ckpt_verify_opts so = { CKPT_VERIFY_STRUCTURE, 0, 0, 0 };
	struct ckpt_verify_stats vs;
	struct regs g = { 0 };
	const char *f = "d/state/0/0/00000000000000000001.snapshot";
	unsigned char *data;
	size_t n;

	write_n("d", 2, 0);
	CHECK_OK(ckpt_open(NULL, "d", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_file_regions(c, f + 2, reg_cb, &g, &err));
	CHECK_EQ_INT(g.n, 4);		/* header, block 0, record 0, footer */
	CHECK_EQ_INT(g.bad, 0);
	CHECK_STR(g.last, "footer");
	ckpt_close(c);

	data = unit_read_file(f, &n);
	data[16 + 24 + 1] ^= 0x40;	/* first payload byte of block 0 */
	unit_write_file(f, data, n);
	c = NULL;
	CHECK_OK(ckpt_open(NULL, "d", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_verify(c, &so, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 0);	/* structure reads ends only */
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 1);
	CHECK(strstr(pr.first, "block 0 at offset 16: checksum mismatch "
	    "(stored ") != NULL);
	memset(&g, 0, sizeof(g));
	CHECK_OK(ckpt_file_regions(c, f + 2, reg_cb, &g, &err));
	CHECK_EQ_INT(g.bad, 1);
	{
		struct ckpt_state_iter *it = NULL;
		struct ckpt_record r;

		CHECK_OK(ckpt_state_open(c, 0, 0, CKPT_NONE, 0, &it, &err));
		CHECK_FAILS(ckpt_state_next(it, &r, &err), CKPT_E_CHECKSUM);
		CHECK(strstr(err.msg, "cannot read 'state/0/0/000000000000000"
		    "00001.snapshot': block 0 at offset 16: checksum") !=
		    NULL);
		ckpt_state_close(it);
	}
	ckpt_close(c);
	free(data);
}

DEFINE_TEST(test_native_verify_subset_and_truncation)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	struct probs pr = { 0 };
	struct ckpt_verify_opts vo = { CKPT_VERIFY_READ_STATE, 1, 2, 0 };
	struct ckpt_verify_stats vs;
	unsigned char *data;
	size_t n;

	write_n("s", 4, 0);
	CHECK_OK(ckpt_open(NULL, "s", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(vs.records, 2);	/* 1/2: versions 0 and 2 */
	vo.subset_n = 2;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(vs.records, 2);
	vo.subset_n = vo.subset_of = 0;
	vo.subset_pct = 100;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(vs.records, 4);
	CHECK_EQ_INT(pr.errors + pr.warnings, 0);
	ckpt_close(c);

	/* a truncated state file is an error at the structure level */
	data = unit_read_file("s/state/0/0/00000000000000000003.snapshot", &n);
	unit_write_file("s/state/0/0/00000000000000000003.snapshot", data,
	    n - 5);
	free(data);
	c = NULL;
	CHECK_OK(ckpt_open(NULL, "s", &c, &err));
	if (c == NULL)
		return;
	vo.level = CKPT_VERIFY_STRUCTURE;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 1);
	CHECK(strstr(pr.first, "00000000000000000003.snapshot: size") != NULL);
	/* and the restart point fell back to batch 2 */
	{
		struct ckpt_info info;

		CHECK_OK(ckpt_info_get(c, &info, &err));
		CHECK_EQ_INT(info.restart_point, 2);
		ckpt_info_release(&info);
	}
	ckpt_close(c);
}

DEFINE_TEST(test_native_regions_small_and_garbage)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	struct regs g = { 0 };

	write_n("g", 1, 0);
	mkdir("g/output", 0755);
	unit_write_file("g/output/x", "not native", 10);
	CHECK_OK(ckpt_open(NULL, "g", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_file_regions(c, "commits/00000000000000000000", reg_cb,
	    &g, &err));
	CHECK_EQ_INT(g.n, 3);
	CHECK_EQ_INT(g.bad, 0);
	memset(&g, 0, sizeof(g));
	CHECK_OK(ckpt_file_regions(c, "output/x", reg_cb, &g, &err));
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(g.bad, 1);
	CHECK_FAILS(ckpt_file_regions(c, "nope", reg_cb, &g, &err),
	    CKPT_E_NOTFOUND);
	ckpt_close(c);
}

DEFINE_TEST(test_native_verify_state_chain)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt *c = NULL;
	struct probs pr = { 0 };
	struct ckpt_verify_opts vo = { CKPT_VERIFY_STRUCTURE, 0, 0, 0 };
	struct ckpt_verify_stats vs;
	static const char *const k0[] = { "a", "b" };
	static const int64_t v0[] = { 1, 2 };
	static const char *const k1[] = { "b" };
	static const int64_t v1[] = { 3 };

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, "ch", &d, CKPT_NW_CREATE, &w, &err));
	if (w == NULL)
		return;
	batch(w, 0, &err);
	CHECK_OK(put_state(w, CKPT_STATE_SNAPSHOT, k0, v0, 2, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	for (int b = 1; b < 3; b++) {
		batch(w, b, &err);
		CHECK_OK(put_state(w, CKPT_STATE_DELTA, k1, v1, 1, &err));
		CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	}
	ckpt_nwriter_close(w);
	CHECK_OK(ckpt_open(NULL, "ch", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 0);
	ckpt_close(c);
	/* an over-eager prune: batch 0 (the snapshot) is gone */
	CHECK(unlink("ch/commits/00000000000000000000") == 0);
	CHECK(unlink("ch/offsets/00000000000000000000") == 0);
	CHECK(unlink("ch/state/0/0/00000000000000000000.snapshot") == 0);
	c = NULL;
	CHECK_OK(ckpt_open(NULL, "ch", &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 1);
	CHECK(strstr(pr.first, "commits/00000000000000000000: the restart "
	    "point's state chain needs this commit entry: operator 'counts' "
	    "partition 0 has deltas but no snapshot") != NULL);
	ckpt_close(c);
}

DEFINE_TEST(test_native_second_writer_locked)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL, *w2 = NULL;
	struct ckpt_lock_info li;

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, "lk", &d, CKPT_NW_CREATE, &w, &err));
	if (w == NULL)
		return;
	CHECK_FAILS(ckpt_nwriter_open(NULL, "lk", &d, 0, &w2, &err),
	    CKPT_E_LOCKED);
	CHECK(w2 == NULL);
	ckpt_error_clear(&err);
	CHECK_OK(ckpt_store_lock_holder(ckpt_nwriter_store(w), &li, &err));
	CHECK_STR(li.what, "ckpt wordcount");
	CHECK(ckpt_nwriter_lineage_id(w) != NULL &&
	    strlen(ckpt_nwriter_lineage_id(w)) == 32);
	ckpt_nwriter_close(w);
	CHECK_OK(ckpt_nwriter_open(NULL, "lk", &d, 0, &w2, &err));
	ckpt_nwriter_close(w2);
}

/*
 * A batch file framed and compressed ahead (nat_blob_prepare, as the
 * engine's thread does while it waits) lands with the same bytes and
 * manifest entry as one written by ckpt_nwriter_file; the usual checks
 * still apply when it is written, and a refused one is freed.
 */
DEFINE_TEST(test_native_prepared_file_same_bytes)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct nat_fwriter *fw = NULL;
	char *big = malloc(300000), *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	const char *p = "output/00000000000000000000";

	if (big == NULL)
		return;
	for (size_t i = 0; i < 300000; i++)	/* several blocks */
		big[i] = (char)("w123\t45\n"[i % 8] + (i / 4096) % 3);
	desc_init(&d, 2, 1);
	for (int pass = 0; pass < 2; pass++) {
		const char *dir = pass ? "prep" : "direct";

		CHECK_OK(ckpt_nwriter_open(NULL, dir, &d, CKPT_NW_CREATE, &w,
		    &err));
		if (w == NULL)
			break;
		batch(w, 0, &err);
		if (pass == 0) {
			CHECK_OK(ckpt_nwriter_file(w, p, big, 300000, &err));
		} else {
			CHECK_OK(nat_blob_prepare(w, p, NULL, big, 300000,
			    &fw, &err));
			CHECK_OK(nat_nwriter_file_prepared(w, fw, &err));
			/* the same path twice: refused at the write, freed */
			CHECK_OK(nat_blob_prepare(w, p, NULL, "x", 1, &fw,
			    &err));
			CHECK_FAILS(nat_nwriter_file_prepared(w, fw, &err),
			    CKPT_E_USAGE);
		}
		CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
		ckpt_nwriter_close(w);
		w = NULL;
	}
	a = unit_read_file("direct/output/00000000000000000000", &na);
	b = unit_read_file("prep/output/00000000000000000000", &nb);
	CHECK(a != NULL && b != NULL && na == nb && na < 300000 &&
	    memcmp(a, b, na) == 0);
	free(a);
	free(b);
	{
		struct ckpt *c = NULL;
		char *data = NULL, *j = NULL, *k = NULL;
		size_t len = 0;

		CHECK_OK(ckpt_open(NULL, "prep", &c, &err));
		if (c != NULL) {
			CHECK_OK(ckpt_native_read_file(c, p, &data, &len,
			    &err));
			CHECK(data && len == 300000 &&
			    memcmp(data, big, len) == 0);
			CHECK_OK(ckpt_batch_json(c, 0, &j, &err));
			ckpt_close(c);
		}
		CHECK_OK(ckpt_open(NULL, "direct", &c, &err));
		if (c != NULL) {
			CHECK_OK(ckpt_batch_json(c, 0, &k, &err));
			ckpt_close(c);
		}
		/* the manifests: same sizes and hashes */
		CHECK(j && k && strstr(j, "\"files\"") &&
		    strcmp(strstr(j, "\"files\""), strstr(k, "\"files\"")) ==
		    0);
		free(data);
		free(j);
		free(k);
	}
	free(big);
}

/*
 * The state writer's order check (strictly ascending encoded keys:
 * memcmp, the shorter first) on keys long enough to be compared a word
 * at a time, and on prefixes.
 */
DEFINE_TEST(test_native_key_order_check)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw = NULL;
	struct ckpt_buf k = { 0 }, v = { 0 };
	/* ascending as encoded: the length comes first */
	static const char *const up[] = { "b", "ab", "abd", "abcdefghij",
	    "abcdefghik", "abcdefghika", "abcdefghijklmnopqrstu",
	    "abcdefghijklmnopqrstv" };
	static const char *const bad[] = { "abcdefghiz", "abcdefghijklmnopqrstu",
	    "zz", "abcdefghijklmnopqrsta" };

	desc_init(&d, 2, 1);
	CHECK_OK(ckpt_nwriter_open(NULL, "o", &d, CKPT_NW_CREATE, &w, &err));
	if (w == NULL)
		return;
	batch(w, 0, &err);
	CHECK_OK(ckpt_nwriter_state_open(w, 0, 0, CKPT_STATE_SNAPSHOT, &sw,
	    &err));
	int_of(&v, 1);
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		key_of(&k, up[i]);
		CHECK_OK(ckpt_swriter_put(sw, k.data, k.len, v.data, v.len,
		    &err));
	}
	/* each below the last ("abcdefghijklmnopqrstv"): refused */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		key_of(&k, bad[i]);
		CHECK_FAILS(ckpt_swriter_put(sw, k.data, k.len, v.data,
		    v.len, &err), CKPT_E_USAGE);
		CHECK(strstr(err.msg, "ascending") != NULL);
	}
	key_of(&k, "abcdefghijklmnopqrstvv");	/* longer: after */
	CHECK_OK(ckpt_swriter_put(sw, k.data, k.len, v.data, v.len, &err));
	CHECK_OK(ckpt_swriter_finish(sw, &err));
	CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
	ckpt_nwriter_close(w);
	ckpt_buf_release(&k);
	ckpt_buf_release(&v);
}

/*
 * A state file filled in memory before its batch is open
 * (nat_swriter_open_mem, as the engine's filler does) lands with the
 * same bytes as one written through ckpt_nwriter_state_open; it is
 * refused in another batch, and one never attached is freed.
 */
DEFINE_TEST(test_native_state_in_memory_same_bytes)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw = NULL, *other = NULL;
	struct ckpt_buf k = { 0 }, v = { 0 };
	char key[32], *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	const char *f = "state/0/0/00000000000000000001.delta";

	desc_init(&d, 2, 1);
	for (int pass = 0; pass < 2; pass++) {
		const char *dir = pass ? "mem" : "direct";

		CHECK_OK(ckpt_nwriter_open(NULL, dir, &d, CKPT_NW_CREATE, &w,
		    &err));
		if (w == NULL)
			break;
		batch(w, 0, &err);
		CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
		if (pass == 1) {	/* filled before batch 1 is open */
			CHECK_OK(nat_swriter_open_mem(w, 0, 0, 1,
			    CKPT_STATE_DELTA, NULL, &sw, &err));
			CHECK_OK(nat_swriter_open_mem(w, 0, 0, 7,
			    CKPT_STATE_DELTA, NULL, &other, &err));
		}
		batch(w, 1, &err);
		if (pass == 0)
			CHECK_OK(ckpt_nwriter_state_open(w, 0, 0,
			    CKPT_STATE_DELTA, &sw, &err));
		for (int i = 0; i < 20000 && sw != NULL; i++) {
			snprintf(key, sizeof(key), "key%06d", i);
			key_of(&k, key);
			int_of(&v, i * 7);
			if (i % 5 == 0)
				CHECK_OK(ckpt_swriter_del(sw, k.data, k.len,
				    &err));
			else
				CHECK_OK(ckpt_swriter_put(sw, k.data, k.len,
				    v.data, v.len, &err));
		}
		if (pass == 1) {
			CHECK_OK(nat_swriter_seal(sw, &err));
			CHECK_OK(nat_swriter_attach(w, sw, &err));
			/* batch 7's writer does not belong to batch 1 */
			CHECK_FAILS(nat_swriter_attach(w, other, &err),
			    CKPT_E_USAGE);
			nat_swriter_abort(other);
			/* attached, then dropped: no file, not counted open */
			CHECK_OK(nat_swriter_open_mem(w, 1, 0, 1,
			    CKPT_STATE_DELTA, NULL, &other, &err));
			CHECK_OK(nat_swriter_attach(w, other, &err));
			nat_swriter_abort(other);
		}
		CHECK_OK(ckpt_swriter_finish(sw, &err));
		sw = NULL;
		CHECK_OK(ckpt_nwriter_commit(w, NULL, &err));
		ckpt_nwriter_close(w);
		w = NULL;
	}
	{
		char pa[128], pb[128];

		snprintf(pa, sizeof(pa), "direct/%s", f);
		snprintf(pb, sizeof(pb), "mem/%s", f);
		a = unit_read_file(pa, &na);
		b = unit_read_file(pb, &nb);
	}
	CHECK(a != NULL && b != NULL && na == nb && memcmp(a, b, na) == 0);
	free(a);
	free(b);
	{
		struct stat sb;

		CHECK(stat("mem/state/1/0/00000000000000000001.delta", &sb) !=
		    0);
	}
	{
		struct ckpt *c = NULL;
		struct ckpt_verify_stats st;

		memset(&st, 0, sizeof(st));
		CHECK_OK(ckpt_open(NULL, "mem", &c, &err));
		if (c != NULL) {
			struct ckpt_verify_opts o;

			memset(&o, 0, sizeof(o));
			o.level = CKPT_VERIFY_READ_STATE;
			CHECK_OK(ckpt_verify(c, &o, NULL, NULL, &st, &err));
			CHECK_EQ_INT(st.errors, 0);
			ckpt_close(c);
		}
	}
	ckpt_buf_release(&k);
	ckpt_buf_release(&v);
}
