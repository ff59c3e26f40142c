/*
 * test_ops.c - ckpt_diff, ckpt_prune and ckpt_migrate through the
 * public API, on checkpoints written with the native writer.
 *
 * The big case writes two checkpoints of 1,000,000 keys that differ in
 * one value and checks that diff reports exactly that key, in a child
 * process whose peak RSS must stay under a fixed bound (the state is
 * streamed, never loaded).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#define BIG_KEYS 1000000
#define BIG_PARTS 4
#define RSS_LIMIT_KB (64 * 1024)

/* ASan's shadow memory and quarantine make RSS meaningless. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static int
key_part(int64_t i, int nparts)
{
	return (int)(i % nparts);
}

/*
 * Writes a one-batch checkpoint at dir: nkeys keys "k%07d" spread over
 * nparts partitions by part_of, value i (or changed_val for key
 * `changed`).  Returns 0 on success.
 */
static int
write_ckpt(const char *dir, int64_t nkeys, int nparts,
	int (*part_of)(int64_t, int), int64_t changed, int64_t changed_val)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw;
	struct ckpt_job_desc d;
	struct ckpt_buf k = { 0 }, v = { 0 };
	char name[16];
	int p, rc = -1;

	memset(&d, 0, sizeof(d));
	d.job = "unit";
	d.id = "0123456789abcdef0123456789abcdef";
	d.fingerprint = "f";
	d.config_json = "{}";
	d.format_version = 2;
	d.snapshot_every = 2;
	d.nops = 1;
	d.ops[0].name = "counts";
	d.ops[0].type = "reduceByKey";
	d.ops[0].partitions = nparts;
	d.ops[0].key_schema = "string";
	d.ops[0].value_schema = "int64";
	if (ckpt_ctx_new(&ctx, &err) != CKPT_OK ||
	    ckpt_nwriter_open(ctx, dir, &d, CKPT_NW_CREATE, &w, &err) !=
	    CKPT_OK ||
	    ckpt_nwriter_begin_batch(w, 0, 1000, "{\"src\":{\"off\":1}}",
	    &err) != CKPT_OK)
		goto out;
	for (p = 0; p < nparts; p++) {
		if (ckpt_nwriter_state_open(w, 0, p, CKPT_STATE_SNAPSHOT, &sw,
		    &err) != CKPT_OK)
			goto out;
		for (int64_t i = 0; i < nkeys; i++) {
			if (part_of(i, nparts) != p)
				continue;
			k.len = v.len = 0;
			snprintf(name, sizeof(name), "k%07" PRId64, i);
			if (ckpt_enc_string(&k, name, strlen(name)) != 0 ||
			    ckpt_enc_int64(&v, i == changed ? changed_val :
			    i) != 0 ||
			    ckpt_swriter_put(sw, k.data, k.len, v.data, v.len,
			    &err) != CKPT_OK) {
				(void)ckpt_swriter_finish(sw, NULL);
				goto out;
			}
		}
		if (ckpt_swriter_finish(sw, &err) != CKPT_OK)
			goto out;
	}
	if (ckpt_nwriter_commit(w, NULL, &err) == CKPT_OK)
		rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "  write_ckpt %s: %s\n", dir, err.msg);
	ckpt_buf_release(&k);
	ckpt_buf_release(&v);
	ckpt_nwriter_close(w);
	ckpt_ctx_free(ctx);
	return rc;
}

struct seen {
	int items;
	int state;
	char change;
	char key[64];
	char old[32], new_[32];
	uint64_t part_added, part_removed, part_modified;
};

static int
on_diff(void *arg, const struct ckpt_diff_item *it)
{
	struct seen *s = arg;

	s->items++;
	if (it->kind == CKPT_DIFF_PARTITION) {
		s->part_added += it->added;
		s->part_removed += it->removed;
		s->part_modified += it->modified;
		return 0;
	}
	if (it->kind != CKPT_DIFF_STATE)
		return 0;
	s->state++;
	s->change = it->change;
	snprintf(s->key, sizeof(s->key), "%s", it->key_json);
	snprintf(s->old, sizeof(s->old), "%s", it->old_json ? it->old_json :
	    "");
	snprintf(s->new_, sizeof(s->new_), "%s", it->new_json ?
	    it->new_json : "");
	return 0;
}

/* Diffs a and b; fills *s and *st.  Returns the ckpt_diff status. */
static int
run_diff(const char *a, const char *b, const struct ckpt_diff_opts *o,
	struct seen *s, struct ckpt_diff_stats *st)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt *ca = NULL, *cb = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = ckpt_ctx_new(&ctx, &err);
	if (rc == CKPT_OK)
		rc = ckpt_open(ctx, a, &ca, &err);
	if (rc == CKPT_OK)
		rc = ckpt_open(ctx, b, &cb, &err);
	if (rc == CKPT_OK)
		rc = ckpt_diff(ca, cb, o, on_diff, s, st, &err);
	if (rc != CKPT_OK)
		fprintf(stderr, "  diff %s %s: %s\n", a, b, err.msg);
	ckpt_close(ca);
	ckpt_close(cb);
	ckpt_ctx_free(ctx);
	return rc;
}

static void
diff_opts(struct ckpt_diff_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->from_batch = CKPT_NONE;
	o->to_batch = CKPT_NONE;
}

DEFINE_TEST(test_ops_diff_identical_and_one_key)
{
	struct ckpt_diff_opts o;
	struct ckpt_diff_stats st;
	struct seen s;

	CHECK(write_ckpt("a", 1000, 3, key_part, -1, 0) == 0);
	CHECK(write_ckpt("b", 1000, 3, key_part, 417, -5) == 0);
	diff_opts(&o);
	CHECK_EQ_INT(run_diff("a", "a", &o, &s, &st), CKPT_OK);
	CHECK_EQ_INT(ckpt_diff_differs(&st), 0);
	CHECK_EQ_INT(s.items, 0);
	CHECK_EQ_INT(st.keys_a, 1000);
	CHECK_EQ_INT(st.keys_b, 1000);
	CHECK_EQ_INT(st.partitions, 3);

	CHECK_EQ_INT(run_diff("a", "b", &o, &s, &st), CKPT_OK);
	CHECK(ckpt_diff_differs(&st));
	CHECK_EQ_INT(st.offsets, 0);
	CHECK_EQ_INT(st.modified, 1);
	CHECK_EQ_INT(st.added + st.removed, 0);
	CHECK_EQ_INT(st.partitions_differ, 1);
	CHECK_EQ_INT(s.state, 1);
	CHECK_EQ_INT(s.change, 'M');
	CHECK_STR(s.key, "\"k0000417\"");
	CHECK_STR(s.old, "417");
	CHECK_STR(s.new_, "-5");
	CHECK_EQ_INT(s.part_modified, 1);

	/* the other way round, and with a key filter that misses */
	CHECK_EQ_INT(run_diff("b", "a", &o, &s, &st), CKPT_OK);
	CHECK_STR(s.old, "-5");
	o.key = "k0000001";
	CHECK_EQ_INT(run_diff("a", "b", &o, &s, &st), CKPT_OK);
	CHECK_EQ_INT(st.added + st.removed + st.modified, 0);
	CHECK_EQ_INT(s.state, 0);
	CHECK_EQ_INT(st.keys_a, 1);
}

static int
key_part_alt(int64_t i, int nparts)
{
	return (int)((i * 7 + 3) % nparts);
}

DEFINE_TEST(test_ops_diff_across_partitionings)
{
	struct ckpt_diff_opts o;
	struct ckpt_diff_stats st;
	struct seen s;

	CHECK(write_ckpt("p3", 500, 3, key_part, -1, 0) == 0);
	CHECK(write_ckpt("p5", 500, 5, key_part_alt, 499, 1) == 0);
	diff_opts(&o);
	CHECK_EQ_INT(run_diff("p3", "p5", &o, &s, &st), CKPT_OK);
	/* per partition, keys moved: adds and removes */
	CHECK(st.added > 0 && st.removed > 0);
	o.ignore_partitions = 1;
	CHECK_EQ_INT(run_diff("p3", "p5", &o, &s, &st), CKPT_OK);
	CHECK_EQ_INT(st.added + st.removed, 0);
	CHECK_EQ_INT(st.modified, 1);
	CHECK_STR(s.key, "\"k0000499\"");
	CHECK_EQ_INT(st.keys_a, 500);
}

/*
 * 2 x 1M keys differing in one: diff in a child, which reports its
 * peak RSS (KiB) and what it found through a pipe.
 */
DEFINE_TEST(test_ops_diff_million_keys_bounded_memory)
{
	struct ckpt_diff_opts o;
	struct ckpt_diff_stats st;
	struct seen s;
	struct rusage ru;
	long long got[4] = { -1, -1, -1, -1 };
	int fd[2], status;
	pid_t pid;

	CHECK(write_ckpt("m1", BIG_KEYS, BIG_PARTS, key_part, -1, 0) == 0);
	CHECK(write_ckpt("m2", BIG_KEYS, BIG_PARTS, key_part, 765432, 1) ==
	    0);
	CHECK(pipe(fd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		long long out[4];
		int rc;

		close(fd[0]);
		diff_opts(&o);
		rc = run_diff("m1", "m2", &o, &s, &st);
		getrusage(RUSAGE_SELF, &ru);
		out[0] = rc;
		out[1] = (long long)ru.ru_maxrss;
		out[2] = (long long)(st.modified * 1000000 + st.added * 1000 +
		    st.removed);
		out[3] = strcmp(s.key, "\"k0765432\"") == 0 &&
		    (long long)st.keys_a == BIG_KEYS;
		if (write(fd[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(2);
		_exit(0);
	}
	close(fd[1]);
	CHECK(read(fd[0], got, sizeof(got)) == (ssize_t)sizeof(got));
	close(fd[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(got[0], CKPT_OK);
	/* one modified, none added or removed */
	CHECK_EQ_INT(got[2], 1000000);
	CHECK_EQ_INT(got[3], 1);
	fprintf(stderr, "  diff of 2 x %d keys: peak RSS %lld KiB\n",
	    BIG_KEYS, got[1]);
	CHECK(got[1] > 0);
	if (!UNDER_ASAN)
		CHECK(got[1] < RSS_LIMIT_KB);
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

struct prune_seen {
	int files;
	int kept;
	int commits;
};

static int
on_prune(void *arg, const struct ckpt_prune_item *it)
{
	struct prune_seen *p = arg;

	if (it->what == CKPT_PRUNE_KEPT)
		p->kept++;
	else {
		p->files++;
		if (it->role == CKPT_F_COMMIT)
			p->commits++;
	}
	return 0;
}

/* Writes n batches, state every other batch, snapshot every 2nd. */
static int
write_batches(const char *dir, int n)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw;
	struct ckpt_job_desc d;
	struct ckpt_buf k = { 0 }, v = { 0 };
	int b, rc = -1, nstate = 0;

	memset(&d, 0, sizeof(d));
	d.job = "unit";
	d.fingerprint = "f";
	d.format_version = 2;
	d.snapshot_every = 2;
	d.nops = 1;
	d.ops[0].name = "counts";
	d.ops[0].partitions = 1;
	d.ops[0].key_schema = "string";
	d.ops[0].value_schema = "int64";
	if (ckpt_ctx_new(&ctx, &err) != CKPT_OK ||
	    ckpt_nwriter_open(ctx, dir, &d, CKPT_NW_CREATE, &w, &err) !=
	    CKPT_OK)
		goto out;
	for (b = 0; b < n; b++) {
		if (ckpt_nwriter_begin_batch(w, b, 1000 * b, "{}", &err) !=
		    CKPT_OK)
			goto out;
		if (b % 2 == 1) {
			enum ckpt_state_kind kind = nstate++ % 2 ?
			    CKPT_STATE_DELTA : CKPT_STATE_SNAPSHOT;

			if (ckpt_nwriter_state_open(w, 0, 0, kind, &sw,
			    &err) != CKPT_OK)
				goto out;
			k.len = v.len = 0;
			if (ckpt_enc_string(&k, "x", 1) != 0 ||
			    ckpt_enc_int64(&v, b) != 0 ||
			    ckpt_swriter_put(sw, k.data, k.len, v.data, v.len,
			    &err) != CKPT_OK ||
			    ckpt_swriter_finish(sw, &err) != CKPT_OK)
				goto out;
		}
		if (ckpt_nwriter_commit(w, NULL, &err) != CKPT_OK)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "  write_batches: %s\n", err.msg);
	ckpt_buf_release(&k);
	ckpt_buf_release(&v);
	ckpt_nwriter_close(w);
	ckpt_ctx_free(ctx);
	return rc;
}

DEFINE_TEST(test_ops_prune_keep_last)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_prune_opts o;
	struct ckpt_prune_stats st;
	struct prune_seen p;

	CHECK(write_batches("c", 10) == 0);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	memset(&o, 0, sizeof(o));
	o.keep_last = 2;
	o.keep_within_ms = -1;
	o.dry_run = 1;
	memset(&p, 0, sizeof(p));
	CHECK_OK(ckpt_prune(ctx, "c", &o, on_prune, on_prune, &p, &st, &err));
	/* batch 8 restores from its state at 7, a delta on the snapshot
	 * of 5: batches 5..9 stay */
	CHECK_EQ_INT(st.restart_point, 9);
	CHECK_EQ_INT(st.oldest_kept, 5);
	CHECK_EQ_INT(st.batches_kept, 5);
	CHECK_EQ_INT(st.batches_removed, 5);
	CHECK_EQ_INT(p.kept, 5);
	CHECK_EQ_INT(p.commits, 5);
	CHECK(exists("c/commits/00000000000000000000"));

	o.dry_run = 0;
	memset(&p, 0, sizeof(p));
	CHECK_OK(ckpt_prune(ctx, "c", &o, on_prune, NULL, &p, &st, &err));
	CHECK_EQ_INT(p.commits, 5);
	CHECK_EQ_INT(p.kept, 0);
	CHECK(!exists("c/commits/00000000000000000004"));
	CHECK(exists("c/commits/00000000000000000005"));
	CHECK(exists("c/state/0/0/00000000000000000005.snapshot"));
	CHECK(!exists("c/state/0/0/00000000000000000003.delta"));

	o.keep_last = 0;
	CHECK_FAILS(ckpt_prune(ctx, "c", &o, NULL, NULL, NULL, &st, &err),
	    CKPT_E_USAGE);
	ckpt_ctx_free(ctx);
}

DEFINE_TEST(test_ops_migrate_list_and_preview)
{
	const struct ckpt_migration *m = ckpt_migrations();
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_migrate_opts o;
	struct ckpt_migrate_result res;
	int n = 0;

	for (; m[n].name != NULL; n++)
		CHECK(m[n].summary != NULL && m[n].summary[0] != '\0');
	CHECK_EQ_INT(n, 5);
	CHECK(write_batches("c", 4) == 0);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	memset(&o, 0, sizeof(o));
	o.migration = "format";
	o.to_version = 1;
	CHECK_OK(ckpt_migrate(ctx, "c", &o, NULL, NULL, &res, &err));
	CHECK_EQ_INT(res.batches, 0);
	o.execute = 1;
	o.dest = "c1";
	CHECK_OK(ckpt_migrate(ctx, "c", &o, NULL, NULL, &res, &err));
	CHECK_EQ_INT(res.batches, 4);
	CHECK_EQ_INT(res.state_files, 2);
	CHECK_STR(res.dest, "c1");
	CHECK_FAILS(ckpt_migrate(ctx, "c", &o, NULL, NULL, &res, &err),
	    CKPT_E_EXISTS);
	o.migration = "nope";
	CHECK_FAILS(ckpt_migrate(ctx, "c", &o, NULL, NULL, &res, &err),
	    CKPT_E_USAGE);
	ckpt_ctx_free(ctx);
}
