/*
 * test_dstream.c - the DStream driver (lib/format/fmt_dstream*.c) on
 * fixture 14's legacy Spark Streaming files: generations as batches,
 * the restart file, the write-ahead log, RDD checkpoint dirs, verify,
 * the mixed directory agreement with the Spark driver, and damaged or
 * hostile copies.  Expected values are EXPECTED.json's (fixture 14
 * "dstream" member).  Tests skip with a message when
 * $CKPT_SPARK_FIXTURES (default ../shared/fixtures/spark from the
 * runner's starting directory) is absent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "format/dstream.h"

#define F14 "Atuneros--proy_twitter--checkpoint"
#define WAL "receivedBlockMetadata/log-1621164543071-1621164603071"
#define T_LAST 1621164555000LL

static const int64_t f14_times[] = { 1621164245000LL, 1621164250000LL,
	1621164545000LL, 1621164550000LL, 1621164555000LL };

static const char *
ds_fixtures(const char *test)
{
	static char dir[4096];
	const char *env = getenv("CKPT_SPARK_FIXTURES");
	const char *pwd = getenv("PWD");
	char probe[4200];
	FILE *f;

	if (env != NULL && env[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/fixtures/spark",
			pwd ? pwd : ".");
	snprintf(probe, sizeof(probe), "%s/%s/" WAL, dir, F14);
	f = fopen(probe, "rb");
	if (f == NULL) {
		fprintf(stderr, "  %s: skipped: Spark fixture 14 not found in '%s' (set CKPT_SPARK_FIXTURES)\n",
			test, dir);
		return NULL;
	}
	fclose(f);
	return dir;
}

/* Copies the DStream part of fixture 14 into ./<to> (no offsets/...). */
static int
copy_dstream_part(const char *fx, const char *to)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
		"mkdir -p '%s' && cd '%s/" F14 "' && cp -r checkpoint-* "
		".checkpoint-* receivedBlockMetadata *-*-*-*-*/ '%s/%s/' && "
		"chmod -R u+w '%s/%s'",
		to, fx, unit_tmpdir, to, unit_tmpdir, to);
	return system(cmd) == 0;
}

static struct ckpt_store *
open_store(const char *path)
{
	struct ckpt_error err = { 0 };
	struct ckpt_store *st = NULL;

	if (ckpt_store_open(NULL, path, CKPT_STORE_RDONLY, &st, &err) !=
	    CKPT_OK)
		fprintf(stderr, "  open_store: %s\n", err.msg);
	return st;
}

DEFINE_TEST(test_dstream_names)
{
	int64_t t = 0;
	int bk = -1;

	CHECK(dstream_parse_name("checkpoint-1621164555000", &t, &bk));
	CHECK_EQ_INT(t, T_LAST);
	CHECK_EQ_INT(bk, 0);
	CHECK(dstream_parse_name("checkpoint-7.bk", &t, &bk));
	CHECK_EQ_INT(t, 7);
	CHECK_EQ_INT(bk, 1);
	CHECK(!dstream_parse_name("checkpoint-", &t, &bk));
	CHECK(!dstream_parse_name("checkpoint-12x", &t, &bk));
	CHECK(!dstream_parse_name("checkpoint-1.bkk", &t, &bk));
	CHECK(!dstream_parse_name("checkpoint-1234567890123456789", &t, &bk));
	CHECK(!dstream_parse_name("offsets", &t, &bk));
	CHECK(dstream_owns_name("checkpoint-1.tmp", 0));
	CHECK(dstream_owns_name(".checkpoint-1.bk.crc", 0));
	CHECK(dstream_owns_name("temp", 0));
	CHECK(dstream_owns_name(".temp.crc", 0));
	CHECK(dstream_owns_name("receivedData", 1));
	CHECK(dstream_owns_name("017727d4-7eb4-48da-8c97-86320bb639e5", 1));
	CHECK(!dstream_owns_name("017727d4-7eb4-48da-8c97-86320bb639e5", 0));
	CHECK(!dstream_owns_name("offsets", 1));
	CHECK(!dstream_owns_name("metadata", 0));
	CHECK(!dstream_owns_name(".metadata.crc", 0));
	CHECK(!dstream_owns_name(".crc", 0));
}

DEFINE_TEST(test_dstream_generations)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_generations");
	struct ckpt_store *st;
	struct dstream_scan sc;
	struct dstream_gen g;
	struct dstream_file f;
	char path[4200], name[64];
	int64_t t = CKPT_NONE;
	int i = 0, bk;

	if (fx == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", fx, F14);
	st = open_store(path);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK_OK(dstream_scan(st, &sc, &err));
	CHECK_EQ_INT(sc.gens, 5);
	CHECK_EQ_INT(sc.plain, 5);
	CHECK_EQ_INT(sc.bk, 5);
	CHECK_EQ_INT(sc.first_ms, f14_times[0]);
	CHECK_EQ_INT(sc.last_ms, T_LAST);
	CHECK(sc.has_offsets && sc.has_wal_meta && !sc.has_wal_data);
	CHECK_EQ_INT(dstream_bid(st, &err), 40);	/* mixed: Spark wins */
	while (dstream_gen_next(st, t, &g, &err) == CKPT_OK) {
		CHECK(i < 5);
		if (i >= 5)
			break;
		CHECK_EQ_INT(g.time_ms, f14_times[i]);
		CHECK(g.has_plain && g.has_bk && g.plain_crc && g.bk_crc);
		CHECK_EQ_INT(g.files, 4);
		CHECK_EQ_INT(g.bk_bytes, g.plain_bytes + 5);
		for (bk = 0; bk < 2; bk++) {
			/* section 10 item 13: the name's t is checkpointTime;
			 * the .bk was written with pendingTimes = [t] */
			snprintf(name, sizeof(name), "checkpoint-%lld%s",
				(long long)g.time_ms, bk ? ".bk" : "");
			CHECK_OK(dstream_read_checkpoint(st, name, &f, &err));
			CHECK_EQ_INT(f.cp.checkpoint_time_ms, g.time_ms);
			CHECK_EQ_INT(f.cp.n_pending, bk);
			if (bk)
				CHECK_EQ_INT(f.cp.pending_times[0], g.time_ms);
			CHECK_EQ_INT(f.lz4_blocks, 1);
			CHECK_EQ_INT(f.bytes, bk ? g.bk_bytes : g.plain_bytes);
			CHECK(f.java9);
			dstream_file_release(&f);
		}
		t = g.time_ms;
		i++;
	}
	CHECK_EQ_INT(i, 5);
	CHECK_FAILS(dstream_gen_get(st, 5, &g, &err), CKPT_E_NOTFOUND);
	CHECK_OK(dstream_restart(st, &sc, &f, &bk, name, sizeof(name), &err));
	CHECK_EQ_INT(f.cp.checkpoint_time_ms, T_LAST);
	CHECK_EQ_INT(bk, 0);
	dstream_file_release(&f);
	ckpt_store_close(st);
}

static int
log_cb(void *arg, const struct ckpt_dstream_log *l)
{
	struct ckpt_dstream_log *out = arg;

	*out = *l;
	out->path = NULL;
	out->stream = NULL;
	return 0;
}

DEFINE_TEST(test_dstream_wal)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_wal");
	struct ckpt_dstream_log l;
	struct ckpt_store *st;
	char path[4200];
	uint8_t *p, *q;
	size_t n;

	if (fx == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s/%s", fx, F14, WAL);
	p = unit_read_file(path, &n);
	CHECK(p != NULL && n == 5348);
	if (p == NULL)
		return;
	/* section 10 item 14: 7 records ending on a record boundary */
	CHECK_OK(dstream_wal_scan_mem(p, n, WAL, 1, &l, &err));
	CHECK_EQ_INT(l.records, 7);
	CHECK_EQ_INT(l.cut_offset, -1);
	CHECK(l.batched);
	CHECK_EQ_INT(l.ev_add, 1);
	CHECK_EQ_INT(l.ev_alloc, 3);
	CHECK_EQ_INT(l.ev_cleanup, 3);
	CHECK_EQ_INT(l.ev_other, 0);
	CHECK_EQ_INT(l.start_ms, 1621164543071LL);
	CHECK_EQ_INT(l.end_ms, 1621164603071LL);
	/* EOF inside record 3 (at 2744): Spark stops there, so do we */
	CHECK_OK(dstream_wal_scan_mem(p, 3000, WAL, 0, &l, &err));
	CHECK_EQ_INT(l.records, 3);
	CHECK_EQ_INT(l.cut_offset, 2744);
	CHECK_OK(dstream_wal_scan_mem(p, 2746, WAL, 0, &l, &err));
	CHECK_EQ_INT(l.records, 3);
	CHECK_EQ_INT(l.cut_offset, 2744);
	CHECK_OK(dstream_wal_scan_mem(p, 2744, WAL, 0, &l, &err));
	CHECK_EQ_INT(l.cut_offset, -1);
	/* a negative length is damage; a garbled payload fails to decode */
	q = malloc(n);
	memcpy(q, p, n);
	q[890] = 0xFF;
	CHECK_FAILS(dstream_wal_scan_mem(q, n, WAL, 0, &l, &err),
		CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "negative length") != NULL);
	CHECK(strstr(err.msg, WAL) != NULL);
	memcpy(q, p, n);
	q[900] ^= 0xFF;
	CHECK_FAILS(dstream_wal_scan_mem(q, n, WAL, 1, &l, &err),
		CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "record at offset 890") != NULL);
	/* a huge length is a cut record, not an allocation */
	memcpy(q, p, n);
	q[0] = 0x7F;
	CHECK_OK(dstream_wal_scan_mem(q, n, WAL, 1, &l, &err));
	CHECK_EQ_INT(l.records, 0);
	CHECK_EQ_INT(l.cut_offset, 0);
	free(q);
	free(p);
	/* the same through the store */
	snprintf(path, sizeof(path), "%s/%s", fx, F14);
	st = open_store(path);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	memset(&l, 0, sizeof(l));
	CHECK_OK(dstream_logs(st, 1, log_cb, &l, &err));
	CHECK_EQ_INT(l.records, 7);
	CHECK_EQ_INT(l.bytes, 5348);
	CHECK_EQ_INT(l.ev_alloc, 3);
	ckpt_store_close(st);
}

struct rdd_count {
	int dirs, parts, partitioners, referenced;
	uint64_t bytes;
};

static int
rdd_cb(void *arg, const struct ckpt_dstream_rdd *r)
{
	struct rdd_count *c = arg;

	c->dirs++;
	c->parts += (int)r->parts;
	c->bytes += r->bytes;
	c->partitioners += r->has_partitioner;
	c->referenced += r->referenced;
	return 0;
}

DEFINE_TEST(test_dstream_rdds)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_rdds");
	struct rdd_count c = { 0 };
	struct ckpt_store *st;
	char path[4200];

	if (fx == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", fx, F14);
	st = open_store(path);
	if (st == NULL)
		return;
	CHECK_OK(dstream_rdds(st, rdd_cb, &c, &err));
	CHECK_EQ_INT(c.dirs, 6);
	CHECK_EQ_INT(c.parts, 48);
	CHECK_EQ_INT(c.partitioners, 6);
	CHECK_EQ_INT(c.bytes, 4 * 32 + 2 * 12439);
	CHECK_EQ_INT(c.referenced, 0);	/* leftovers of other runs */
	ckpt_store_close(st);
}

struct vlog {
	int errors, warnings;
	char first[512];
	char paths[2048];
};

static int
problem_cb(void *arg, const struct ckpt_problem *p)
{
	struct vlog *v = arg;
	size_t n = strlen(v->paths);

	if (p->severity == CKPT_PROBLEM_ERROR)
		v->errors++;
	else
		v->warnings++;
	if (v->first[0] == '\0')
		snprintf(v->first, sizeof(v->first), "%s: %s", p->path, p->msg);
	if (n + strlen(p->path) + 2 < sizeof(v->paths))
		snprintf(v->paths + n, sizeof(v->paths) - n, "%s;", p->path);
	return 0;
}

static void
verify_dir(const char *dir, int level, struct vlog *v,
	struct ckpt_verify_stats *stats)
{
	struct ckpt_error err = { 0 };
	struct ckpt_verify_opts o = { 0 };
	struct ckpt *c = NULL;

	memset(v, 0, sizeof(*v));
	memset(stats, 0, sizeof(*stats));
	o.level = level;
	CHECK_OK(ckpt_open(NULL, dir, &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_verify(c, &o, problem_cb, v, stats, &err));
	ckpt_close(c);
}

struct files_log {
	int n, restarts, pend_ok;
	char restart[64];
};

static int
files_cb(void *arg, const struct ckpt_dstream_file *f)
{
	struct files_log *l = arg;

	l->n++;
	if (f->is_restart) {
		l->restarts++;
		snprintf(l->restart, sizeof(l->restart), "%s", f->name);
	}
	/* section 10 item 13 */
	if (f->decodes && f->checkpoint_time_ms == f->time_ms &&
	    f->n_pending == (size_t)f->bk &&
	    (!f->bk || f->pending_times[0] == f->time_ms))
		l->pend_ok++;
	return 0;
}

DEFINE_TEST(test_dstream_open_and_batches)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_open_and_batches");
	struct ckpt *c = NULL;
	struct ckpt_info info;
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	char *json = NULL;
	int i = 0;

	if (fx == NULL)
		return;
	CHECK(copy_dstream_part(fx, "ds"));
	CHECK_OK(ckpt_open(NULL, "ds", &c, &err));
	if (c == NULL)
		return;
	memset(&info, 0, sizeof(info));
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_STR(info.format, "dstream");
	CHECK_STR(info.name, "SERVER");
	CHECK_EQ_INT(info.batches, 5);
	CHECK_EQ_INT(info.first_batch, f14_times[0]);
	CHECK_EQ_INT(info.last_batch, T_LAST);
	CHECK_EQ_INT(info.restart_point, T_LAST);
	CHECK_EQ_INT(info.next_batch, T_LAST + 5000);
	CHECK_EQ_INT(info.files, 129);
	CHECK_STR(info.version_estimate, "3.x");
	CHECK(info.metadata_json != NULL &&
		strstr(info.metadata_json, "\"records\":7") != NULL &&
		strstr(info.metadata_json, "\"BatchAllocationEvent\":3") != NULL &&
		strstr(info.metadata_json, "\"generation_count\":5") != NULL);
	ckpt_info_release(&info);
	CHECK_OK(ckpt_batch_iter_open(c, &it, &err));
	while (it != NULL && ckpt_batch_iter_next(it, &b, &err) == CKPT_OK) {
		CHECK(i < 5);
		if (i >= 5)
			break;
		CHECK_EQ_INT(b.id, f14_times[i]);
		CHECK_EQ_INT(b.time_ms, f14_times[i]);
		CHECK(b.committed && b.has_offsets);
		CHECK_EQ_INT(b.files, 4);
		CHECK_EQ_INT(b.is_restart_point, i == 4);
		i++;
	}
	CHECK_EQ_INT(i, 5);
	ckpt_batch_iter_close(it);
	CHECK_OK(ckpt_batch_json(c, T_LAST, &json, &err));
	CHECK(json != NULL && strstr(json,
		"\"file\":\"checkpoint-1621164555000.bk\"") != NULL &&
		strstr(json, "\"pending_times\":[1621164555000]") != NULL &&
		strstr(json, "\"pending_times\":[]") != NULL);
	free(json);
	CHECK_FAILS(ckpt_batch_json(c, 42, &json, &err), CKPT_E_NOTFOUND);
	{
		struct files_log fl = { 0, 0, 0, "" };

		CHECK_OK(ckpt_dstream_files(c, files_cb, &fl, &err));
		CHECK_EQ_INT(fl.n, 10);
		CHECK_EQ_INT(fl.pend_ok, 10);
		CHECK_EQ_INT(fl.restarts, 1);
		CHECK_STR(fl.restart, "checkpoint-1621164555000");
	}
	ckpt_close(c);
}

DEFINE_TEST(test_dstream_verify_clean)
{
	const char *fx = ds_fixtures("test_dstream_verify_clean");
	struct ckpt_verify_stats stats;
	struct vlog v;

	if (fx == NULL)
		return;
	CHECK(copy_dstream_part(fx, "ds"));
	verify_dir("ds", CKPT_VERIFY_READ_STATE, &v, &stats);
	CHECK_EQ_INT(v.errors, 0);
	CHECK_EQ_INT(v.warnings, 0);
	if (v.first[0])
		fprintf(stderr, "  first problem: %s\n", v.first);
	CHECK_EQ_INT(stats.files, 129);
	/* EXPECTED.json hadoop_crc_checked */
	CHECK_EQ_INT(stats.checksums, 64);
	CHECK_EQ_INT(stats.errors, 0);
	CHECK(stats.records >= 10 + 7);
}

static void
patch_byte(const char *path, long off, int x)
{
	FILE *f = fopen(path, "r+b");
	int c;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fseek(f, off, SEEK_SET);
	c = fgetc(f);
	fseek(f, off, SEEK_SET);
	fputc(c ^ x, f);
	fclose(f);
}

DEFINE_TEST(test_dstream_verify_damaged)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_verify_damaged");
	struct ckpt_verify_stats stats;
	struct ckpt_info info;
	struct ckpt *c = NULL;
	struct vlog v;

	if (fx == NULL)
		return;
	CHECK(copy_dstream_part(fx, "ds"));
	/* a flipped byte in the newest checkpoint: .crc and LZ4 catch it,
	 * and the restart point falls back to its .bk */
	patch_byte("ds/checkpoint-1621164555000", 2000, 0x40);
	verify_dir("ds", CKPT_VERIFY_STRUCTURE, &v, &stats);
	CHECK(v.errors >= 1);
	CHECK(strstr(v.first, "checkpoint-1621164555000") != NULL);
	CHECK(strstr(v.paths, "checkpoint-1621164555000;") != NULL);
	CHECK_OK(ckpt_open(NULL, "ds", &c, &err));
	if (c != NULL) {
		memset(&info, 0, sizeof(info));
		CHECK_OK(ckpt_info_get(c, &info, &err));
		CHECK_EQ_INT(info.restart_point, T_LAST);
		CHECK(strstr(info.restart_rule,
			"'checkpoint-1621164555000.bk'") != NULL);
		ckpt_info_release(&info);
		ckpt_close(c);
	}
	/* the WAL cut inside a record: a warning naming the offset */
	CHECK(system("cp ds/checkpoint-1621164550000 ds/checkpoint-1621164555000") == 0);
	CHECK(system("cp ds/.checkpoint-1621164550000.crc ds/.checkpoint-1621164555000.crc") == 0);
	CHECK(system("truncate -s 3000 ds/" WAL) == 0);
	verify_dir("ds", CKPT_VERIFY_STRUCTURE, &v, &stats);
	/* the copied file's checkpointTime no longer matches its name */
	CHECK_EQ_INT(v.errors, 0);
	CHECK_EQ_INT(v.warnings, 2);
	CHECK(strstr(v.paths, WAL ";") != NULL);
	CHECK(strstr(v.paths, "checkpoint-1621164555000;") != NULL);
	/* a leftover temp file and an orphan sidecar are warnings too */
	unit_write_file("ds/temp", "x", 1);
	unit_write_file("ds/.checkpoint-99.crc", "crc\0\0\0\2\0", 8);
	verify_dir("ds", CKPT_VERIFY_STRUCTURE, &v, &stats);
	CHECK_EQ_INT(v.errors, 0);
	CHECK_EQ_INT(v.warnings, 4);
	CHECK(strstr(v.paths, "temp;") != NULL);
	CHECK(strstr(v.paths, ".checkpoint-99.crc;") != NULL);
	/* a corrupt RDD part is a warning (not referenced), at read-state */
	patch_byte("ds/52847c24-eae7-463d-af36-3e5077bbeb64/rdd-50/part-00000",
		10, 0x01);
	verify_dir("ds", CKPT_VERIFY_STRUCTURE, &v, &stats);
	CHECK_EQ_INT(v.errors, 0);
	CHECK_EQ_INT(v.warnings, 5);	/* its .crc */
	verify_dir("ds", CKPT_VERIFY_READ_STATE, &v, &stats);
	CHECK_EQ_INT(v.errors, 0);
	CHECK(v.warnings >= 5);
}

DEFINE_TEST(test_dstream_hostile_files)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_hostile_files");
	struct ckpt_verify_stats stats;
	struct ckpt_info info;
	struct ckpt *c = NULL;
	struct vlog v;
	/* LZ4Block header claiming a 2 GiB block */
	static const uint8_t huge[] = { 'L', 'Z', '4', 'B', 'l', 'o', 'c', 'k',
		0x25, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0,
		0 };

	if (fx == NULL)
		return;
	CHECK(copy_dstream_part(fx, "ds"));
	unit_write_file("ds/checkpoint-1621164560000", huge, sizeof(huge));
	unit_write_file("ds/checkpoint-1621164560000.bk", "", 0);
	unit_write_file("ds/checkpoint-1621164565000", "\xac\xed\x00\x05\x73",
		5);
	unit_write_file("ds/checkpoint-1621164570000", "\x82SNAPPY\0", 8);
	CHECK_OK(ckpt_open(NULL, "ds", &c, &err));
	if (c == NULL)
		return;
	memset(&info, 0, sizeof(info));
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_EQ_INT(info.batches, 8);
	CHECK_EQ_INT(info.last_batch, 1621164570000LL);
	CHECK_EQ_INT(info.restart_point, T_LAST);
	CHECK(strstr(info.restart_rule, "checkpoint-1621164570000") != NULL);
	ckpt_info_release(&info);
	ckpt_close(c);
	verify_dir("ds", CKPT_VERIFY_READ_STATE, &v, &stats);
	CHECK_EQ_INT(v.errors, 4);
	CHECK(strstr(v.paths, "checkpoint-1621164560000;") != NULL);
	CHECK(strstr(v.paths, "checkpoint-1621164560000.bk;") != NULL);
	CHECK(strstr(v.paths, "checkpoint-1621164565000;") != NULL);
	CHECK(strstr(v.paths, "checkpoint-1621164570000;") != NULL);
	/* nothing decodes at all: Spark cannot restart */
	CHECK(system("cd ds && for t in 1621164245000 1621164250000 "
		"1621164545000 1621164550000 1621164555000; do "
		"rm -f checkpoint-$t checkpoint-$t.bk; done") == 0);
	verify_dir("ds", CKPT_VERIFY_STRUCTURE, &v, &stats);
	CHECK(strstr(v.paths, ";;") != NULL || v.paths[0] == ';');
	CHECK_EQ_INT(v.errors, 5);
}

static int
count_file_cb(void *arg, const struct ckpt_file *f)
{
	int *n = arg;

	if (strncmp(f->path, "offsets", 7) == 0 ||
	    strncmp(f->path, "commits", 7) == 0 ||
	    strcmp(f->path, "metadata") == 0)
		n[1]++;
	n[0]++;
	return 0;
}

DEFINE_TEST(test_dstream_mixed_dir)
{
	struct ckpt_error err = { 0 };
	const char *fx = ds_fixtures("test_dstream_mixed_dir");
	struct ckpt_store *st;
	char path[4200];
	int n[2] = { 0, 0 };

	if (fx == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", fx, F14);
	st = open_store(path);
	if (st == NULL)
		return;
	/* the Spark driver reports the DStream part through these calls */
	CHECK_OK(dstream_files_walk(st, 1, count_file_cb, n, &err));
	CHECK_EQ_INT(n[0], 129);
	CHECK_EQ_INT(n[1], 0);
	n[0] = n[1] = 0;
	CHECK_OK(dstream_files_walk(st, 0, count_file_cb, n, &err));
	CHECK_EQ_INT(n[0], 137);
	ckpt_store_close(st);
}

static int
logs_cb(void *arg, const struct ckpt_dstream_log *l)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s|%s|%llu|%lld|%lld|%lld;", l->path,
		l->stream, (unsigned long long)l->records,
		(long long)l->start_ms, (long long)l->end_ms,
		(long long)l->cut_offset);
	return 0;
}

/* Receiver data logs (no fixture has one): framed, never decoded. */
DEFINE_TEST(test_dstream_receiver_logs)
{
	static const uint8_t rec[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0,
		0, 0, 0, 10, 'x', 'y' };
	struct ckpt_error err = { 0 };
	struct ckpt_verify_stats stats;
	struct ckpt_info info;
	struct ckpt *c = NULL;
	struct vlog v;
	char out[512] = "";

	CHECK(system("mkdir -p rd/receivedData/0 rd/receivedData/1") == 0);
	unit_write_file("rd/receivedData/0/log-1000-61000", rec, sizeof(rec));
	unit_write_file("rd/receivedData/1/log-2000-62000", "", 0);
	CHECK_OK(ckpt_open(NULL, "rd", &c, &err));
	if (c == NULL)
		return;
	memset(&info, 0, sizeof(info));
	CHECK_OK(ckpt_info_get(c, &info, &err));
	CHECK_STR(info.format, "dstream");
	CHECK_EQ_INT(info.batches, 0);
	CHECK_EQ_INT(info.restart_point, CKPT_NONE);
	ckpt_info_release(&info);
	CHECK_OK(ckpt_dstream_logs(c, logs_cb, out, &err));
	CHECK_STR(out, "receivedData/0/log-1000-61000|0|2|1000|61000|11;"
		"receivedData/1/log-2000-62000|1|0|2000|62000|-1;");
	ckpt_close(c);
	verify_dir("rd", CKPT_VERIFY_READ_STATE, &v, &stats);
	CHECK_EQ_INT(v.errors, 0);
	CHECK_EQ_INT(v.warnings, 2);	/* the cut record, no checkpoint */
	CHECK_EQ_INT(stats.records, 2);
	/* an empty directory is no checkpoint at all */
	CHECK(system("mkdir -p empty") == 0);
	CHECK_FAILS(ckpt_open(NULL, "empty", &c, &err), CKPT_E_NOTCKPT);
}

/*
 * DESIGN.md section 7: flip or cut every byte of a checkpoint file; each
 * read ends in a clear error naming the file, or decodes to the same
 * checkpoint (never a wrong answer).
 */
DEFINE_TEST(test_dstream_corruption_sweep)
{
	struct ckpt_error err;
	const char *fx = ds_fixtures("test_dstream_corruption_sweep");
	struct ckpt_store *st;
	struct dstream_file f;
	char path[4200];
	uint8_t *p, *q;
	size_t n, k;
	int rc, ok = 0, bad = 0;

	if (fx == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s/checkpoint-1621164545000.bk", fx,
		F14);
	p = unit_read_file(path, &n);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	q = malloc(n);
	CHECK(system("mkdir -p sw") == 0);
	st = open_store("sw");
	if (st == NULL) {
		free(p);
		free(q);
		return;
	}
	for (k = 0; k < 2 * n; k++) {
		memcpy(q, p, n);
		if (k < n)
			q[k] ^= 0x21;
		/* a fresh file each time: ext4 flushes truncated rewrites */
		remove("sw/checkpoint-1");
		unit_write_file("sw/checkpoint-1", q, k < n ? n : k - n);
		memset(&err, 0, sizeof(err));
		rc = dstream_read_checkpoint(st, "checkpoint-1", &f, &err);
		if (rc == CKPT_OK) {
			ok++;
			CHECK_EQ_INT(f.cp.checkpoint_time_ms, 1621164545000LL);
			CHECK_EQ_INT(f.cp.n_pending, 1);
			CHECK_EQ_INT(f.cp.pending_times[0], 1621164545000LL);
			dstream_file_release(&f);
		} else {
			bad++;
			CHECK(strstr(err.msg, "checkpoint-1") != NULL);
			CHECK(err.kind == CKPT_E_FORMAT ||
				err.kind == CKPT_E_CHECKSUM ||
				err.kind == CKPT_E_UNSUPPORTED);
		}
	}
	/* only flips the framing does not see (the level nibble) pass */
	CHECK(ok < 8);
	CHECK(bad > (int)(2 * n) - 8);
	ckpt_store_close(st);
	free(q);
	free(p);
}

/* Cutting the WAL anywhere: complete records before the cut, no more. */
DEFINE_TEST(test_dstream_wal_cut_sweep)
{
	static const uint64_t ends[] = { 890, 2347, 2744, 3565, 3962, 4783,
		5348 };
	struct ckpt_error err;
	const char *fx = ds_fixtures("test_dstream_wal_cut_sweep");
	struct ckpt_dstream_log l;
	char path[4200];
	uint8_t *p;
	size_t n, k;
	uint64_t want;

	if (fx == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s/%s", fx, F14, WAL);
	p = unit_read_file(path, &n);
	CHECK(p != NULL && n == 5348);
	if (p == NULL || n != 5348)
		return;
	for (k = 0; k <= n; k++) {
		memset(&err, 0, sizeof(err));
		CHECK_OK(dstream_wal_scan_mem(p, k, WAL, 1, &l, &err));
		for (want = 0; want < 7 && ends[want] <= k; want++)
			;
		CHECK_EQ_INT(l.records, want);
		CHECK_EQ_INT(l.cut_offset, k == (want ? ends[want - 1] : 0) ?
			-1 : (int64_t)(want ? ends[want - 1] : 0));
	}
	free(p);
}

/* Windows of generations: every time once, ascending, lone sidecars skipped. */
DEFINE_TEST(test_dstream_gen_window)
{
	struct ckpt_error err = { 0 };
	struct dstream_gen win[7], g;
	struct ckpt_store *st;
	char name[64];
	int64_t t = CKPT_NONE, prev = -1;
	size_t n, total = 0;
	int i, files = 0;

	CHECK(system("mkdir -p gw") == 0);
	/* times of different digit counts, so name order != time order */
	for (i = 1; i <= 60; i++) {
		snprintf(name, sizeof(name), "gw/checkpoint-%d%s",
			i * 37 % 1000 * (i % 3 ? 1 : 1000), i % 4 ? "" : ".bk");
		unit_write_file(name, "x", 1);
		files++;
		/* lone sidecars of times that have no file */
		snprintf(name, sizeof(name), "gw/.checkpoint-%d.crc", i * 7919);
		unit_write_file(name, "crc", 3);
	}
	st = open_store("gw");
	if (st == NULL)
		return;
	while (dstream_gen_window(st, t, win, 7, &n, &err) == CKPT_OK) {
		CHECK(n >= 1 && n <= 7);
		for (size_t k = 0; k < n; k++) {
			CHECK(win[k].time_ms > prev);
			CHECK(win[k].has_plain || win[k].has_bk);
			CHECK_EQ_INT(win[k].files, 1);
			prev = win[k].time_ms;
		}
		total += n;
		t = win[n - 1].time_ms;
	}
	CHECK_EQ_INT(total, files);
	/* the same sequence one at a time */
	t = CKPT_NONE;
	n = 0;
	while (dstream_gen_next(st, t, &g, &err) == CKPT_OK) {
		t = g.time_ms;
		n++;
	}
	CHECK_EQ_INT(n, files);
	CHECK_EQ_INT(t, prev);
	ckpt_store_close(st);
}
