/*
 * test_spark.c - the Spark Structured Streaming driver against the 30
 * real checkpoints in fixtures/spark, plus damaged copies.
 *
 * The expected table below was taken from fixtures/spark/EXPECTED.json
 * ("summary" of each directory, read by an independent decoder) and
 * checked against the bytes where ckpt disagreed:
 *  - pierrine-bit: EXPECTED says "4.x"; its Spark 4.1 JSON checksum
 *    files (spark-checkpoint-format.md section 1.9) narrow it to 4.1+;
 *  - davidZal1992 op 0: EXPECTED counts 3 partition dirs (0, 5, 6);
 *    ckpt reports partitions as the highest partition id + 1 = 7, the
 *    range a reader iterates;
 *  - Atuneros (mixed with DStream): its 64 sidecars belong to the
 *    DStream part, which the spark driver's verify hands to dstream.h.
 * Tests skip with a message when $CKPT_SPARK_FIXTURES (set by
 * tests/run-all.sh, default ../shared/fixtures/spark) is absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

struct fx {
	const char *dir;
	const char *version;
	int64_t offsets, first, last, last_commit;
	int64_t restart_point, next_batch, state_version;
	int stores, partitions0, state_files, records, live_keys, deletes;
	int checksums, temps, orphans, foreign, nested, uncommitted;
	/* operator 0 (its first store): versions, delta and snapshot files */
	int64_t min_version, max_version;
	int deltas0, snapshots0;
	const char *source_types;	/* at the newest offsets, in order */
};

static const struct fx fixtures[] = {
	{ "Atuneros--proy_twitter--checkpoint",
	  "3.1.x", 4, 0, 3, 2, 2, 3, 3,
	  0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "long" },
	{ "Cloud-Computing-Spring-2025--ride-sharing-analytics-spark-streaming-BhanuThanniru--checkpoint_chk_task2",
	  "3.5.5+ (or 4.x)", 5, 0, 4, 3, 3, 4, 4,
	  1, 200, 995, 72, 48, 0, 1006, 1, 0, 0, 0, 1,
	  1, 5, 995, 0,
	  "long" },
	{ "Facu4798--tp-kafka-aviones--tmp_checkpoint",
	  "4.x", 101, 205, 305, 304, 304, 305, 305,
	  0, 0, 0, 0, 0, 0, 203, 0, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "ISakhanda--earthquake-prediction--checkpoint",
	  "3.3-3.5", 101, 483, 583, 583, 583, 584, 584,
	  0, 0, 0, 0, 0, 0, 203, 0, 0, 0, 0, 0,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "long" },
	{ "MLSaj--BlogSimilaritySpark--checkpoint",
	  "3.0.x", 17, 0, 16, 15, 15, 16, 16,
	  1, 200, 3424, 3, 1, 0, 0, 0, 0, 0, 0, 1,
	  1, 17, 3224, 200,
	  "kafka" },
	{ "Macrometacorp--macrometa-connector-databricks--checkpoint",
	  "3.3-3.5", 101, 35, 135, 134, 134, 135, 135,
	  0, 0, 0, 0, 0, 0, 202, 0, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "pulsar" },
	{ "Mrblue00--BD_Scala_Kafka_Spark_project--checkpoint",
	  "2.2.x", 9, 0, 8, 7, 7, 8, 8,
	  0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "NdongoMamoudou--planet-discovery-pipeline--checkpoints",
	  "3.3-3.5", 1, 0, 0, 0, 0, 1, 1,
	  0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2, 0,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "Peter-32--HelloSpark--checkpoint",
	  "2.0.x", 1, 3, 3, CKPT_NONE, 2, 3, 3,
	  0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "file" },
	{ "TedBear42--spark_training--checkpoint",
	  "2.2.x", 7, 0, 6, 6, 6, 7, 7,
	  1, 200, 1400, 12, 2, 0, 1401, 0, 0, 0, 0, 0,
	  1, 7, 1400, 0,
	  "long" },
	{ "Trangnguyen0824--Streaming-API-Documentation-and-Development---checkpoint",
	  "2.4.x", 6, 0, 5, 4, 4, 5, 5,
	  4, 200, 4000, 5040, 2835, 0, 0, 0, 0, 2, 0, 1,
	  1, 5, 1000, 0,
	  "kafka,kafka" },
	{ "USTriett--Streamming-Processing-PySpark--checkpoint",
	  "3.3-3.5", 4, 0, 3, 2, 2, 3, 3,
	  1, 200, 745, 254, 123, 0, 758, 0, 0, 0, 0, 1,
	  1, 4, 745, 0,
	  "file" },
	{ "Vrushabhdeo--spark-multi-sink-streaming--checkpoint_dir_kafka_3",
	  "3.3-3.5", 2, 0, 1, 1, 1, 2, 2,
	  1, 8, 16, 4, 4, 0, 0, 0, 0, 0, 0, 0,
	  1, 2, 16, 0,
	  "kafka" },
	{ "aadian--spark23--spark-test-resources_checkpoint-version-2.1.0",
	  "2.1.x", 2, 0, 1, CKPT_NONE, 0, 1, 1,
	  1, 10, 20, 10, 4, 0, 0, 0, 0, 0, 0, 1,
	  1, 2, 20, 0,
	  "long" },
	{ "adaezeudeh--Batch_processing_wkld--checkpoints1",
	  "3.2.x", 16, 0, 15, 15, 15, 16, 16,
	  1, 200, 3400, 21, 2, 4, 3446, 0, 0, 0, 0, 0,
	  1, 16, 3200, 200,
	  "file" },
	{ "alexsni--khols-spark-job--checkpoint",
	  "2.4+", 100, 275905, 276004, 276004, 276004, 276005, 276005,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "chaithanyarlk--Apache-Spark-Streaming-Projects--checkpointStreamin",
	  "3.3-3.5", 3, 0, 2, 2, 2, 3, 3,
	  4, 3, 36, 7, 5, 0, 0, 0, 0, 0, 0, 0,
	  1, 3, 9, 0,
	  "kafka,kafka" },
	{ "davidZal1992--israel-flights-realtime-dashboard--resources_checkpoint",
	  "3.3-3.5", 1, 0, 0, CKPT_NONE, CKPT_NONE, 0, 0,
	  2, 7, 200, 0, 0, 0, 206, 3, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "devfranhan--data-eng-filling--checkpoint",
	  "3.5.5+ (or 4.x)", 2, 0, 1, 1, 1, 2, 2,
	  1, 1, 2, 1, 1, 0, 10, 0, 0, 0, 0, 0,
	  1, 2, 2, 0,
	  "file" },
	{ "dome0luis0valentin--Etl-Kafka--checkpoint_dir",
	  "3.3-3.5", 21, 0, 20, 19, 19, 20, 20,
	  1, 4, 84, 19, 3, 0, 128, 0, 0, 0, 0, 1,
	  1, 20, 80, 4,
	  "kafka" },
	{ "harshal-patil2005--crypto-streaming-pipeline--data_checkpoint",
	  "4.x", 10, 0, 9, 9, 9, 10, 10,
	  1, 200, 2000, 14, 2, 2, 2033, 0, 0, 0, 0, 0,
	  1, 10, 2000, 0,
	  "file" },
	{ "hutaojiazi--application--checkpointLocation",
	  "3.0.x", 8, 0, 7, 7, 7, 8, 8,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "ignaciogallegossanchez--KeepcodingKafkaSniffer--checkpoint",
	  "2.3.x", 2, 0, 1, 0, 0, 1, 1,
	  1, 200, 208, 0, 0, 0, 209, 2, 0, 0, 0, 1,
	  1, 2, 208, 0,
	  "kafka" },
	{ "kathyatskiv--Big-Data-2021-Spark-Streaming--checkpoint",
	  "3.1.x", 13, 0, 12, 11, 11, 12, 12,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "keerthinmurali6182-crypto--realtime-iot-pipeline--checkpoint",
	  "4.x", 84, 0, 83, 82, 82, 83, 83,
	  0, 0, 0, 0, 0, 0, 169, 1, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "long" },
	{ "leongu-tc--myspark--checkpoints",
	  "2.4.x", 7, 0, 6, 6, 6, 7, 7,
	  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "kafka" },
	{ "moamen-mohasseb--Evaluate-Human-Balance--checkpoint",
	  "2.3.x", 2, 0, 1, 1, 1, 2, 2,
	  7, 200, 2800, 0, 0, 0, 2801, 0, 0, 0, 0, 0,
	  1, 2, 400, 0,
	  "kafka,kafka" },
	{ "pierrine-bit--real-time-ecommerce-event-pipeline--checkpoint",
	  "4.1+", 31, 0, 30, 29, 29, 30, 30,
	  1, 2, 60, 30000, 30000, 0, 275, 0, 0, 0, 0, 1,
	  1, 30, 60, 0,
	  "file" },
	{ "spookyTanya--pyspark-hw--checkpoint",
	  "3.3-3.5", 1, 0, 0, 0, 0, 1, 1,
	  1, 200, 200, 49064, 49064, 0, 205, 0, 0, 0, 0, 0,
	  1, 1, 200, 0,
	  "file" },
	{ "tongda--stream-sample--data_checkpoint",
	  "2.1.x", 1, 0, 0, CKPT_NONE, CKPT_NONE, 0, 0,
	  0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1,
	  CKPT_NONE, CKPT_NONE, 0, 0,
	  "file" },
};

#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* The fixtures dir, or NULL (tests then skip, saying why). */
static const char *
fixtures_dir(void)
{
	static char buf[4096];
	const char *e = getenv("CKPT_SPARK_FIXTURES");
	const char *top = getenv("CKPT_TOP");
	struct stat sb;

	if (e && stat(e, &sb) == 0)
		return e;
	if (top) {
		snprintf(buf, sizeof(buf), "%s/../shared/fixtures/spark", top);
		if (stat(buf, &sb) == 0)
			return buf;
	}
	if (stat("../shared/fixtures/spark", &sb) == 0)
		return "../shared/fixtures/spark";
	fprintf(stderr, "  # skip: spark fixtures not found (set "
		"CKPT_SPARK_FIXTURES)\n");
	return NULL;
}

static struct ckpt *
open_fixture(struct ckpt_ctx *ctx, const char *root, const char *name)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	CHECK_OK(ckpt_open(ctx, path, &c, &err));
	return c;
}

struct walk_count {
	int state_files, temps, orphans, foreign;
};

static int
count_cb(void *arg, const struct ckpt_file *f)
{
	struct walk_count *w = arg;
	size_t n = strlen(f->path);
	int state = n > 6 && (strcmp(f->path + n - 6, ".delta") == 0 ||
		(n > 9 && strcmp(f->path + n - 9, ".snapshot") == 0));

	if (state && (f->role == CKPT_F_DELTA || f->role == CKPT_F_SNAPSHOT ||
	    f->role == CKPT_F_UNCOMMITTED))
		w->state_files++;
	if (f->role == CKPT_F_TEMP && strcmp(f->path + n - 4, ".crc") != 0)
		w->temps++;
	if (f->role == CKPT_F_ORPHAN)
		w->orphans++;
	if (f->role == CKPT_F_FOREIGN)
		w->foreign++;
	return 0;
}

struct probs {
	int errors, warnings;
	char first_error[512];
	char first_path[512];
};

static int
prob_cb(void *arg, const struct ckpt_problem *p)
{
	struct probs *pr = arg;

	if (p->severity == CKPT_PROBLEM_ERROR) {
		if (!pr->errors++) {
			snprintf(pr->first_error, sizeof(pr->first_error),
				"%s", p->msg);
			snprintf(pr->first_path, sizeof(pr->first_path), "%s",
				p->path);
		}
	} else {
		pr->warnings++;
	}
	return 0;
}

/* The "type" of each source in batch JSON, comma-joined, is want. */
static void
check_source_types(const char *json, const char *want)
{
	char got[256] = "";
	const char *p = json;
	size_t n;

	while (json && (p = strstr(p, "\"type\":\"")) != NULL) {
		p += 8;
		n = strcspn(p, "\"");
		if (strlen(got) + n + 2 < sizeof(got))
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
				"%s%.*s", got[0] ? "," : "", (int)n, p);
	}
	CHECK_STR(got, want);
}

/* Live keys at the restart version, over every store and partition. */
static long
live_keys(struct ckpt *c)
{
	struct ckpt_error err = { 0 };
	struct ckpt_state_iter *it;
	struct ckpt_record r;
	long n = 0;
	int op, rc;

	for (op = 0; op < ckpt_operator_count(c); op++) {
		CHECK_OK(ckpt_state_open(c, op, -1, CKPT_NONE, 0, &it, &err));
		if (!it)
			continue;
		while ((rc = ckpt_state_next(it, &r, &err)) == CKPT_OK) {
			CHECK(r.key_json && r.value_json);
			CHECK(strstr(r.key_json, "\"hex\"") ||
				r.key_json[0] == '{');
			n++;
		}
		CHECK_EQ_INT(rc, CKPT_EOF);
		ckpt_state_close(it);
	}
	return n;
}

/* Tombstones over every delta version (raw mode). */
static long
deletes(struct ckpt *c)
{
	struct ckpt_error err = { 0 };
	struct ckpt_state_iter *it;
	struct ckpt_operator op;
	struct ckpt_record r;
	long n = 0;
	int64_t v;
	int i;

	for (i = 0; i < ckpt_operator_count(c); i++) {
		CHECK_OK(ckpt_operator_get(c, i, &op, &err));
		for (v = op.min_version; op.min_version != CKPT_NONE &&
		    v <= op.max_version; v++) {
			CHECK_OK(ckpt_state_open(c, i, -1, v,
				CKPT_STATE_RAW_DELTAS, &it, &err));
			while (ckpt_state_next(it, &r, &err) == CKPT_OK)
				n += r.value == NULL;
			ckpt_state_close(it);
		}
		ckpt_operator_release(&op);
	}
	return n;
}

static void
check_fixture(struct ckpt_ctx *ctx, const char *root, const struct fx *x,
	long *tot_records, long *tot_files, long *tot_deletes)
{
	struct ckpt_error err = { 0 };
	struct ckpt_info in;
	struct ckpt_batch_iter *bi;
	struct ckpt_batch b;
	struct ckpt_operator op;
	struct ckpt_verify_opts vo;
	struct ckpt_verify_stats vs;
	struct walk_count wc;
	struct probs pr;
	int before = unit_failures, mixed;
	int64_t nb = 0, rp_seen = 0;
	long d;
	struct ckpt *c;

	c = open_fixture(ctx, root, x->dir);
	if (!c) {
		fprintf(stderr, "  in fixture %s\n", x->dir);
		return;
	}
	memset(&in, 0, sizeof(in));
	CHECK_OK(ckpt_info_get(c, &in, &err));
	CHECK_STR(in.format, "spark");
	mixed = strstr(in.kind, "dstream") != NULL;
	CHECK_EQ_INT(mixed, strncmp(x->dir, "Atuneros", 8) == 0);
	CHECK_STR(in.version_estimate, x->version);
	CHECK(in.version_reason[0] != 0);
	CHECK_EQ_INT(in.batches, x->offsets);
	CHECK_EQ_INT(in.first_batch, x->first);
	CHECK_EQ_INT(in.last_batch, x->last);
	CHECK_EQ_INT(in.last_commit, x->last_commit);
	CHECK_EQ_INT(in.restart_point, x->restart_point);
	CHECK_EQ_INT(in.next_batch, x->next_batch);
	CHECK_EQ_INT(in.state_version, x->state_version);
	CHECK(in.restart_rule[0] != 0);
	CHECK_EQ_INT(in.operators, x->stores);
	CHECK(in.metadata_json && in.metadata_json[0] == '{');
	ckpt_info_release(&in);

	/* batches: offsets ids plus commit-only ids, in ascending order */
	CHECK_OK(ckpt_batch_iter_open(c, &bi, &err));
	{
		int64_t prev = CKPT_NONE;
		while (ckpt_batch_iter_next(bi, &b, &err) == CKPT_OK) {
			CHECK(prev == CKPT_NONE || b.id > prev);
			prev = b.id;
			nb += b.has_offsets;
			rp_seen += b.is_restart_point;
		}
	}
	ckpt_batch_iter_close(bi);
	CHECK_EQ_INT(nb, x->offsets);
	CHECK_EQ_INT(rp_seen, x->restart_point != CKPT_NONE &&
		x->restart_point >= x->first);
	if (x->last != CKPT_NONE) {
		char *json = NULL;
		CHECK_OK(ckpt_batch_json(c, x->last, &json, &err));
		CHECK(json && strstr(json, "\"sources\":[{"));
		check_source_types(json, x->source_types);
		free(json);
	}

	if (x->stores > 0) {
		CHECK_OK(ckpt_operator_get(c, 0, &op, &err));
		CHECK_EQ_INT(op.partitions, x->partitions0);
		CHECK(op.type[0] != 0);
		CHECK_EQ_INT(op.min_version, x->min_version);
		CHECK_EQ_INT(op.max_version, x->max_version);
		CHECK_EQ_INT(op.deltas, x->deltas0);
		CHECK_EQ_INT(op.snapshots, x->snapshots0);
		ckpt_operator_release(&op);
	}
	CHECK_EQ_INT(live_keys(c), x->live_keys);
	d = deletes(c);
	CHECK_EQ_INT(d, x->deletes);
	*tot_deletes += d;

	memset(&wc, 0, sizeof(wc));
	CHECK_OK(ckpt_files_walk(c, count_cb, &wc, &err));
	CHECK_EQ_INT(wc.state_files, x->state_files);
	CHECK_EQ_INT(wc.temps, x->temps);
	CHECK_EQ_INT(wc.orphans, x->orphans);
	CHECK_EQ_INT(wc.foreign, x->foreign);
	*tot_files += wc.state_files;

	memset(&vo, 0, sizeof(vo));
	vo.level = CKPT_VERIFY_READ_STATE;
	memset(&pr, 0, sizeof(pr));
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err));
	if (pr.errors)
		fprintf(stderr, "  verify error: %s: %s\n", pr.first_path,
			pr.first_error);
	CHECK_EQ_INT(pr.errors, 0);
	CHECK_EQ_INT(vs.errors, 0);
	/* a mixed dir's verify also counts the DStream WAL records */
	if (!mixed)
		CHECK_EQ_INT(vs.records, x->records);
	else
		CHECK(vs.records >= (uint64_t)x->records);
	*tot_records += mixed ? x->records : (long)vs.records;
	CHECK_EQ_INT(vs.checksums, x->checksums);
	/* crash leftovers and nested dirs are warnings, never errors */
	if (x->uncommitted || x->temps || x->orphans || x->foreign ||
	    x->nested)
		CHECK(pr.warnings > 0);
	ckpt_close(c);
	if (unit_failures != before)
		fprintf(stderr, "  in fixture %s\n", x->dir);
}

DEFINE_TEST(test_spark_fixtures)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	long records = 0, files = 0, dels = 0;
	size_t i;

	if (!root)
		return;
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	for (i = 0; i < NFIX; i++)
		check_fixture(ctx, root, &fixtures[i], &records, &files,
			&dels);
	/* EXPECTED.json totals: every .delta/.snapshot record decoded */
	CHECK_EQ_INT(records, 84521);
	CHECK_EQ_INT(files, 19590);
	CHECK_EQ_INT(dels, 6);
	ckpt_ctx_free(ctx);
}

/* Decoded rows of two fixtures, as EXPECTED.json's samples show them. */
DEFINE_TEST(test_spark_state_rows)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_state_iter *it;
	struct ckpt_record r;
	const char *root = fixtures_dir();
	struct ckpt *c;
	int found = 0;

	if (!root)
		return;
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	c = open_fixture(ctx, root,
		"USTriett--Streamming-Processing-PySpark--checkpoint");
	if (c) {
		CHECK_OK(ckpt_state_open(c, 0, 1, CKPT_NONE, 0, &it, &err));
		while (it && ckpt_state_next(it, &r, &err) == CKPT_OK)
			found += strcmp(r.key_json, "{\"window\":{\"start\":"
				"\"2015-11-30T21:40:00Z\",\"end\":"
				"\"2015-11-30T21:50:00Z\"},\"headquarters\":"
				"\"none\"}") == 0 &&
				strcmp(r.value_json, "{\"count\":111}") == 0;
		ckpt_state_close(it);
		CHECK_EQ_INT(found, 1);
		ckpt_close(c);
	}
	c = open_fixture(ctx, root, "adaezeudeh--Batch_processing_wkld--"
		"checkpoints1");
	if (c) {
		found = 0;
		CHECK_OK(ckpt_state_open(c, 0, 179, CKPT_NONE, 0, &it, &err));
		while (it && ckpt_state_next(it, &r, &err) == CKPT_OK)
			found += strcmp(r.value_json, "{\"sum\":3250,"
				"\"sum#1\":3115,\"sum#2\":8894,\"sum#3\":"
				"2897.6000000000004}") == 0;
		ckpt_state_close(it);
		CHECK_EQ_INT(found, 1);
		/* a version above what exists cannot be rebuilt */
		CHECK_OK(ckpt_state_open(c, 0, 179, 999, 0, &it, &err));
		CHECK_FAILS(ckpt_state_next(it, &r, &err), CKPT_E_NOTFOUND);
		CHECK(strstr(err.msg, "1.delta") || strstr(err.msg, "missing"));
		ckpt_state_close(it);
		ckpt_close(c);
	}
	ckpt_ctx_free(ctx);
}

/* ---- damaged copies ---- */

static int
copy_fixture(const char *root, const char *name)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "cp -r '%s/%s' ck && chmod -R u+w ck",
		root, name);
	return system(cmd);
}

static void
verify_copy(struct ckpt_ctx *ctx, struct probs *pr)
{
	struct ckpt_error err = { 0 };
	struct ckpt_verify_opts vo;
	struct ckpt_verify_stats vs;
	struct ckpt *c = NULL;

	memset(pr, 0, sizeof(*pr));
	memset(&vo, 0, sizeof(vo));
	vo.level = CKPT_VERIFY_READ_STATE;
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (!c)
		return;
	CHECK_OK(ckpt_verify(c, &vo, prob_cb, pr, &vs, &err));
	ckpt_close(c);
}

#define DOME "dome0luis0valentin--Etl-Kafka--checkpoint_dir"

DEFINE_TEST(test_spark_damage_flipped_delta)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	const char *victim = "ck/state/0/2/9.delta";
	struct probs pr;
	uint8_t *buf;
	size_t n = 0;

	if (!root)
		return;
	CHECK_EQ_INT(copy_fixture(root, DOME), 0);
	buf = unit_read_file(victim, &n);
	CHECK(buf && n > 46);
	if (!buf || n <= 46)
		return;
	buf[30] ^= 0x40;	/* inside the first block's payload */
	unit_write_file(victim, buf, n);
	free(buf);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	verify_copy(ctx, &pr);
	CHECK(pr.errors > 0);
	CHECK_STR(pr.first_path, "state/0/2/9.delta");
	ckpt_ctx_free(ctx);
}

DEFINE_TEST(test_spark_damage_truncated_offsets)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	struct probs pr;

	if (!root)
		return;
	CHECK_EQ_INT(copy_fixture(root, DOME), 0);
	CHECK_EQ_INT(truncate("ck/offsets/19", 20), 0);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	verify_copy(ctx, &pr);
	CHECK(pr.errors > 0);
	CHECK_STR(pr.first_path, "offsets/19");
	ckpt_ctx_free(ctx);
}

DEFINE_TEST(test_spark_damage_missing_delta)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	struct probs pr;

	if (!root)
		return;
	CHECK_EQ_INT(copy_fixture(root, DOME), 0);
	/* the restart loads version 20 = 18.snapshot + 19 + 20 deltas */
	CHECK_EQ_INT(unlink("ck/state/0/2/19.delta"), 0);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	verify_copy(ctx, &pr);
	CHECK(pr.errors > 0);
	CHECK_STR(pr.first_path, "state/0/2/19.delta");
	CHECK(strstr(pr.first_error, "missing") != NULL);
	ckpt_ctx_free(ctx);
}

/* An older delta that no restart needs any more is still damage. */
DEFINE_TEST(test_spark_damage_uncommitted_is_warning)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	struct probs pr;
	uint8_t *buf;
	size_t n = 0;

	if (!root)
		return;
	/* USTriett: batch 3 uncommitted, its version-4 deltas partial */
	CHECK_EQ_INT(copy_fixture(root,
		"USTriett--Streamming-Processing-PySpark--checkpoint"), 0);
	buf = unit_read_file("ck/state/0/1/4.delta", &n);
	if (buf && n > 10) {
		unit_write_file("ck/state/0/1/4.delta", buf, n - 10);
		unlink("ck/state/0/1/.4.delta.crc");
	}
	free(buf);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	verify_copy(ctx, &pr);
	CHECK_EQ_INT(pr.errors, 0);
	CHECK(pr.warnings > 0);
	ckpt_ctx_free(ctx);
}

/* ---- synthetic checkpoints ---- */

static void
mkfile(const char *path, const char *text)
{
	char dir[512], *sl;

	snprintf(dir, sizeof(dir), "%s", path);
	sl = strrchr(dir, '/');
	if (sl) {
		*sl = 0;
		for (sl = dir; (sl = strchr(sl + 1, '/')) != NULL;) {
			*sl = 0;
			mkdir(dir, 0755);
			*sl = '/';
		}
		mkdir(dir, 0755);
	}
	unit_write_file(path, text, strlen(text));
}

static int
role_cb(void *arg, const struct ckpt_file *f)
{
	int *roles = arg;

	roles[f->role]++;
	return 0;
}

/* RocksDB state (section 5): versions listed, never decoded. */
DEFINE_TEST(test_spark_rocksdb_listing)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_state_iter *it = NULL;
	struct ckpt_operator op;
	struct ckpt_verify_stats vs;
	struct probs pr;
	struct ckpt *c = NULL;
	int roles[CKPT_F_OTHER + 1] = { 0 };

	mkfile("ck/metadata",
		"{\"id\":\"a6c2b7d0-0000-4000-8000-000000000001\"}");
	mkfile("ck/offsets/0", "v1\n{\"batchWatermarkMs\":0,"
		"\"batchTimestampMs\":1,\"conf\":{\"spark.sql.streaming."
		"stateStore.providerClass\":\"org.apache.spark.sql.execution."
		"streaming.state.RocksDBStateStoreProvider\"}}\n"
		"{\"t\":{\"0\":5}}");
	mkfile("ck/offsets/1", "v1\n{\"batchWatermarkMs\":0,"
		"\"batchTimestampMs\":2,\"conf\":{}}\n{\"t\":{\"0\":9}}");
	mkfile("ck/commits/0", "v1\n{\"nextBatchWatermarkMs\":0}");
	mkfile("ck/commits/1", "v1\n{\"nextBatchWatermarkMs\":0}");
	mkfile("ck/state/0/0/1.zip", "PK");
	mkfile("ck/state/0/0/2.changelog", "x");
	mkfile("ck/state/0/0/SSTs/000007-1c2d.sst", "sst");
	mkfile("ck/state/0/1/2_0f3e.zip", "PK");
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (!c)
		goto out;
	CHECK_EQ_INT(ckpt_operator_count(c), 1);
	CHECK_OK(ckpt_operator_get(c, 0, &op, &err));
	CHECK_EQ_INT(op.partitions, 2);
	CHECK_EQ_INT(op.snapshots, 2);
	CHECK_EQ_INT(op.deltas, 1);
	CHECK_EQ_INT(op.min_version, 1);
	CHECK_EQ_INT(op.max_version, 2);
	CHECK_EQ_INT(op.keys, -1);	/* SST files are not read */
	ckpt_operator_release(&op);
	CHECK_FAILS(ckpt_state_open(c, 0, 0, CKPT_NONE, 0, &it, &err),
		CKPT_E_UNSUPPORTED);
	CHECK_OK(ckpt_files_walk(c, role_cb, roles, &err));
	CHECK_EQ_INT(roles[CKPT_F_SNAPSHOT], 2);
	CHECK_EQ_INT(roles[CKPT_F_DELTA], 1);
	CHECK_EQ_INT(roles[CKPT_F_OTHER], 1);
	CHECK_EQ_INT(roles[CKPT_F_FOREIGN], 0);
	memset(&pr, 0, sizeof(pr));
	CHECK_OK(ckpt_verify(c, NULL, prob_cb, &pr, &vs, &err));
	CHECK_EQ_INT(pr.errors, 0);
	CHECK(pr.warnings > 0);
	ckpt_close(c);
out:
	ckpt_ctx_free(ctx);
}

/* Restart rules without fixtures: C < L-1, fresh start, commits only. */
DEFINE_TEST(test_spark_restart_rules)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_info in;
	struct ckpt *c = NULL;
	static const char *off = "v1\n{\"batchWatermarkMs\":7,"
		"\"batchTimestampMs\":1,\"conf\":{\"spark.sql.shuffle."
		"partitions\":\"2\"}}\n5";

	mkfile("ck/metadata", "{\"id\":\"q\"}");
	mkfile("ck/offsets/0", off);
	mkfile("ck/offsets/1", off);
	mkfile("ck/offsets/2", off);
	mkfile("ck/offsets/3", off);
	mkfile("ck/commits/0", "v1\n{\"nextBatchWatermarkMs\":9}");
	mkfile("ck/commits/1", "v1\n{\"nextBatchWatermarkMs\":9}");
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (c) {
		memset(&in, 0, sizeof(in));
		CHECK_OK(ckpt_info_get(c, &in, &err));
		CHECK_EQ_INT(in.restart_point, 1);
		CHECK_EQ_INT(in.next_batch, 3);
		CHECK_EQ_INT(in.state_version, 3);
		CHECK(strstr(in.restart_rule, "C < L-1") != NULL);
		/* C != L: the watermark comes from offsets/L only */
		CHECK_EQ_INT(in.watermark_ms, 7);
		CHECK_STR(in.version_estimate, "2.2.x");
		ckpt_info_release(&in);
		ckpt_close(c);
	}
	/* commits without offsets: a fresh start (section 10 item 9) */
	mkfile("c2/metadata", "{\"id\":\"q\"}");
	mkfile("c2/commits/0", "v1\n{}");
	c = NULL;
	CHECK_OK(ckpt_open(ctx, "c2", &c, &err));
	if (c) {
		memset(&in, 0, sizeof(in));
		CHECK_OK(ckpt_info_get(c, &in, &err));
		CHECK_EQ_INT(in.restart_point, CKPT_NONE);
		CHECK_EQ_INT(in.next_batch, 0);
		CHECK_EQ_INT(in.state_version, 0);
		ckpt_info_release(&in);
		ckpt_close(c);
	}
	ckpt_ctx_free(ctx);
}

/* ---- corruption sweep (DESIGN.md section 7) ---- */

struct sweep_files {
	char path[64][256];
	uint64_t size[64];
	int n;
};

static int
sweep_list_cb(void *arg, const struct ckpt_file *f)
{
	struct sweep_files *s = arg;

	if (s->n < 64) {
		snprintf(s->path[s->n], sizeof(s->path[0]), "ck/%s", f->path);
		s->size[s->n++] = f->size;
	}
	return 0;
}

static void
flip(const char *path, uint64_t off)
{
	FILE *f = fopen(path, "r+b");
	int ch;

	if (!f)
		return;
	fseek(f, (long)off, SEEK_SET);
	ch = fgetc(f);
	fseek(f, (long)off, SEEK_SET);
	fputc(ch ^ 0xff, f);
	fclose(f);
}

/* Opens, verifies and reads all state; returns verify's error count. */
static int
sweep_one(struct ckpt_ctx *ctx)
{
	struct ckpt_error err = { 0 };
	struct ckpt_verify_opts vo;
	struct ckpt_verify_stats vs;
	struct ckpt_state_iter *it;
	struct ckpt_record r;
	struct probs pr;
	struct ckpt *c = NULL;
	int op, rc;

	if (ckpt_open(ctx, "ck", &c, &err) != CKPT_OK) {
		CHECK(err.msg[0] != 0);
		return 1;
	}
	memset(&vo, 0, sizeof(vo));
	vo.level = CKPT_VERIFY_READ_STATE;
	memset(&pr, 0, sizeof(pr));
	if (ckpt_verify(c, &vo, prob_cb, &pr, &vs, &err) != CKPT_OK)
		pr.errors++;
	for (op = 0; op < ckpt_operator_count(c); op++) {
		ckpt_error_clear(&err);
		if (ckpt_state_open(c, op, -1, CKPT_NONE, 0, &it, &err) !=
		    CKPT_OK)
			continue;
		while ((rc = ckpt_state_next(it, &r, &err)) == CKPT_OK)
			CHECK(r.key_json && r.value_json);
		if (rc != CKPT_EOF)
			CHECK(err.msg[0] != 0);
		ckpt_state_close(it);
	}
	ckpt_close(c);
	return pr.errors;
}

/*
 * Flips every byte of every file of a small fixture whose files all
 * have Hadoop sidecars: each flip must be an error (or a warning for a
 * sidecar's own header, which Hadoop ignores as unverifiable, section
 * 10 item 3), never a crash or a silent pass.
 */
DEFINE_TEST(test_spark_corruption_sweep)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct sweep_files *sf;
	const char *root = fixtures_dir();
	struct ckpt *c = NULL;
	uint64_t off;
	int i, errors, missed = 0, runs = 0;

	if (!root)
		return;
	CHECK_EQ_INT(copy_fixture(root,
		"devfranhan--data-eng-filling--checkpoint"), 0);
	sf = calloc(1, sizeof(*sf));
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (!c || !sf)
		goto out;
	CHECK_OK(ckpt_files_walk(c, sweep_list_cb, sf, &err));
	ckpt_close(c);
	CHECK_EQ_INT(sweep_one(ctx), 0);
	for (i = 0; i < sf->n; i++) {
		const char *base = strrchr(sf->path[i], '/') + 1;
		int sidecar = base[0] == '.' && strstr(base, ".crc");
		for (off = 0; off < sf->size[i]; off++) {
			flip(sf->path[i], off);
			errors = sweep_one(ctx);
			flip(sf->path[i], off);
			runs++;
			if (errors == 0 && !(sidecar && off < 8)) {
				missed++;
				fprintf(stderr, "  undetected flip: %s at "
					"%llu\n", sf->path[i],
					(unsigned long long)off);
			}
		}
	}
	CHECK_EQ_INT(missed, 0);
	CHECK(runs > 2000);
out:
	free(sf);
	ckpt_ctx_free(ctx);
}

/* ---- prune (section 1.6, 2.5) ---- */

/* Prunes a copy of fixture name keeping keep_last batches; the result
 * must verify, keep its restart point and its state at it. */
static void
prune_copy(struct ckpt_ctx *ctx, const char *root, const char *name,
	int64_t keep_last, uint64_t *removed)
{
	struct ckpt_error err = { 0 };
	struct ckpt_prune_opts po;
	struct ckpt_prune_stats st;
	struct ckpt_info a, b;
	struct probs pr;
	struct ckpt *c = NULL;
	long keys_before = -1, keys_after = -2;
	int before = unit_failures;

	system("rm -rf ck");
	CHECK_EQ_INT(copy_fixture(root, name), 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (c) {
		CHECK_OK(ckpt_info_get(c, &a, &err));
		keys_before = live_keys(c);
		ckpt_close(c);
	}
	memset(&po, 0, sizeof(po));
	po.keep_last = keep_last;
	po.keep_within_ms = -1;
	memset(&st, 0, sizeof(st));
	CHECK_OK(ckpt_prune(ctx, "ck", &po, NULL, NULL, NULL, &st, &err));
	*removed = st.files_removed;
	verify_copy(ctx, &pr);
	CHECK_EQ_INT(pr.errors, 0);
	c = NULL;
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (c) {
		CHECK_OK(ckpt_info_get(c, &b, &err));
		CHECK_EQ_INT(b.restart_point, a.restart_point);
		CHECK_EQ_INT(b.next_batch, a.next_batch);
		CHECK_EQ_INT(b.state_version, a.state_version);
		keys_after = live_keys(c);
		ckpt_close(c);
	}
	CHECK_EQ_INT(keys_after, keys_before);
	ckpt_info_release(&a);
	ckpt_info_release(&b);
	if (unit_failures != before)
		fprintf(stderr, "  pruning %s\n", name);
}

DEFINE_TEST(test_spark_prune)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	uint64_t n;

	if (!root)
		return;
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	/* snapshot at 18: deltas below it go with offsets/commits < 19 */
	prune_copy(ctx, root, DOME, 1, &n);
	CHECK_EQ_INT(n, 212);
	prune_copy(ctx, root, "pierrine-bit--real-time-ecommerce-event-"
		"pipeline--checkpoint", 5, &n);
	/* no snapshots: every delta since version 1 stays */
	CHECK(n > 0);
	prune_copy(ctx, root, "chaithanyarlk--Apache-Spark-Streaming-"
		"Projects--checkpointStreamin", 1, &n);
	/* Spark's default keeps 100 batches: here only leftovers go */
	prune_copy(ctx, root, "Macrometacorp--macrometa-connector-"
		"databricks--checkpoint", -1, &n);
	CHECK_EQ_INT(n, 0);
	prune_copy(ctx, root, "Cloud-Computing-Spring-2025--ride-sharing-"
		"analytics-spark-streaming-BhanuThanniru--checkpoint_chk_task2",
		-1, &n);
	CHECK_EQ_INT(n, 2);	/* the temp file and its sidecar */
	ckpt_ctx_free(ctx);
}

/* A source log that does not parse is damage (section 1.7). */
DEFINE_TEST(test_spark_damage_source_log)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *root = fixtures_dir();
	struct probs pr;

	if (!root)
		return;
	/* no sidecars here: only the parse can tell */
	CHECK_EQ_INT(copy_fixture(root, "chaithanyarlk--Apache-Spark-"
		"Streaming-Projects--checkpointStreamin"), 0);
	unit_write_file("ck/sources/1/0", "\0v1\n{\"notif\":{\"0\":9", 19);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	verify_copy(ctx, &pr);
	CHECK_EQ_INT(pr.errors, 1);
	CHECK_STR(pr.first_path, "sources/1/0");
	ckpt_ctx_free(ctx);
}

/* Spark 4.x logs: offsets v2 (OffsetMap), commits v2, op metadata v2. */
DEFINE_TEST(test_spark_v2_logs)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_operator op;
	struct ckpt_info in;
	struct ckpt *c = NULL;
	char *json = NULL;

	mkfile("ck/metadata", "{\"id\":\"q4\"}");
	mkfile("ck/offsets/0", "v2\n{\"batchWatermarkMs\":0,"
		"\"batchTimestampMs\":5,\"conf\":{},\"sourceMetadataInfo\":"
		"{}}\n0:{\"logOffset\":3}\n1:-");
	mkfile("ck/commits/0", "v2\n{\"nextBatchWatermarkMs\":0,"
		"\"stateUniqueIds\":{}}");
	mkfile("ck/state/0/_metadata/v2/0", "v2\n{\"operatorInfo\":"
		"{\"operatorId\":0,\"operatorName\":\"transformWithStateExec\"},"
		"\"stateStoreInfo\":[{\"storeName\":\"default\","
		"\"numColsPrefixKey\":0,\"numPartitions\":3,"
		"\"stateSchemaFilePath\":\"x\"}],\"operatorPropertiesJson\":"
		"\"{}\"}");
	mkfile("ck/state/0/0/1.changelog", "x");
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	CHECK_OK(ckpt_open(ctx, "ck", &c, &err));
	if (!c)
		goto out;
	memset(&in, 0, sizeof(in));
	CHECK_OK(ckpt_info_get(c, &in, &err));
	CHECK_STR(in.version_estimate, "4.x");
	CHECK_EQ_INT(in.restart_point, 0);
	ckpt_info_release(&in);
	CHECK_OK(ckpt_batch_json(c, 0, &json, &err));
	CHECK(json && strstr(json, "\"type\":\"file\",\"raw\":"
		"\"{\\\"logOffset\\\":3}\",\"value\":3"));
	CHECK(json && strstr(json, "\"type\":\"none\""));
	CHECK(json && strstr(json, "\"commit\":{"));
	free(json);
	CHECK_OK(ckpt_operator_get(c, 0, &op, &err));
	CHECK_STR(op.type, "transformWithStateExec");
	CHECK_EQ_INT(op.partitions, 3);
	ckpt_operator_release(&op);
	ckpt_close(c);
out:
	ckpt_ctx_free(ctx);
}
