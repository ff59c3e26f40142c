/*
 * test_javaser.c - the Java serialization walker (lib/codec/
 * codec_javaser.c): real Spark streams from the fixtures (Spark 2.0
 * CompositeOffset, DStream Checkpoint), hand-built streams covering
 * every tag, and hostile input (truncation, flipped bytes, huge
 * lengths, deep nesting, cycles).  Fixture tests skip with a message
 * when $CKPT_SPARK_FIXTURES (default ../shared/fixtures/spark from the
 * directory the runner started in) is absent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "codec/codec_javaser.h"
#include "codec/spark_codec.h"

#define F14 "Atuneros--proy_twitter--checkpoint"
#define F1 "Peter-32--HelloSpark--checkpoint"

/* The Spark fixtures directory, or NULL (message printed) if absent. */
static const char *
jser_fixtures(const char *test)
{
	static char dir[4096];
	const char *env = getenv("CKPT_SPARK_FIXTURES");
	const char *pwd = getenv("PWD");
	FILE *f;
	char probe[4200];

	if (env != NULL && env[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/fixtures/spark",
			pwd ? pwd : ".");
	snprintf(probe, sizeof(probe), "%s/CATALOG.md", dir);
	f = fopen(probe, "rb");
	if (f == NULL) {
		fprintf(stderr, "  %s: skipped: Spark fixtures not found in '%s' (set CKPT_SPARK_FIXTURES)\n",
			test, dir);
		return NULL;
	}
	fclose(f);
	return dir;
}

static void *
read_fixture(const char *dir, const char *rel, size_t *n)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return unit_read_file(path, n);
}

/* Decodes an LZ4Block file into a malloc'd buffer. */
static uint8_t *
unlz4(const uint8_t *p, size_t n, size_t *out)
{
	struct spark_membuf m = { p, n, 0 };
	struct spark_lz4 z;
	struct ckpt_error err = { 0 };
	uint8_t *buf = malloc(1 << 20);
	size_t got;

	spark_lz4_init(&z, spark_membuf_read, &m, "fixture");
	if (spark_lz4_read(&z, buf, 1 << 20, &got, &err) != CKPT_OK) {
		fprintf(stderr, "  unlz4: %s\n", err.msg);
		got = 0;
	}
	spark_lz4_release(&z);
	*out = got;
	return buf;
}

/* ---- a tiny stream builder ---- */

struct jb {
	uint8_t b[1 << 18];
	size_t n;
};

static void
put(struct jb *j, const void *p, size_t n)
{
	memcpy(j->b + j->n, p, n);
	j->n += n;
}

static void
u8(struct jb *j, unsigned v)
{
	j->b[j->n++] = (uint8_t)v;
}

static void
u16(struct jb *j, unsigned v)
{
	u8(j, v >> 8);
	u8(j, v);
}

static void
u32(struct jb *j, uint32_t v)
{
	u16(j, v >> 16);
	u16(j, v & 0xFFFF);
}

static void
u64(struct jb *j, uint64_t v)
{
	u32(j, (uint32_t)(v >> 32));
	u32(j, (uint32_t)v);
}

static void
utf(struct jb *j, const char *s)
{
	u16(j, (unsigned)strlen(s));
	put(j, s, strlen(s));
}

static void
header(struct jb *j)
{
	j->n = 0;
	u16(j, 0xACED);
	u16(j, 5);
}

/* TC_CLASSDESC name, suid, flags, then nf fields "Tname" (L: Ljava/lang/Object;) */
static void
classdesc(struct jb *j, const char *name, unsigned flags, int nf,
	const char *const *fields)
{
	u8(j, 0x72);
	utf(j, name);
	u64(j, 0x1234);
	u8(j, flags);
	u16(j, (unsigned)nf);
	for (int i = 0; i < nf; i++) {
		u8(j, (unsigned)fields[i][0]);
		utf(j, fields[i] + 1);
		if (fields[i][0] == 'L' || fields[i][0] == '[') {
			u8(j, 0x74);
			utf(j, "Ljava/lang/Object;");
		}
	}
	u8(j, 0x78);	/* end of class annotation */
}

struct evlog {
	int n;
	int types[256];
	char text[256][64];
	int64_t ival[256];
};

static int
log_cb(void *arg, const struct ckpt_jser_event *ev, struct ckpt_error *err)
{
	struct evlog *l = arg;

	if (l->n < 256) {
		l->types[l->n] = ev->type;
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s",
			ev->str ? ev->str : ev->class_name ?
			ev->class_name : ev->field ? ev->field : "");
		l->ival[l->n] = ev->type == CKPT_JSER_EV_PRIM ? ev->i :
		    ev->type == CKPT_JSER_EV_ARRAY ? ev->length :
		    ev->has_long ? ev->ref_long : 0;
	}
	l->n++;
	return CKPT_OK;
}

/* ---- fixtures ---- */

DEFINE_TEST(test_javaser_composite_offset)
{
	struct ckpt_error err = { 0 };
	struct ckpt_jser_offset off[4];
	const char *dir = jser_fixtures("test_javaser_composite_offset");
	uint8_t *p;
	size_t n, k = 99;
	char cls[128];

	if (dir == NULL)
		return;
	p = read_fixture(dir, F1 "/offsets/3", &n);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(ckpt_jser_is_stream(p, n));
	CHECK_OK(ckpt_jser_composite_offset(p, n, "offsets/3", off, 4, &k,
		&err));
	CHECK_EQ_INT(k, 1);
	CHECK_EQ_INT(off[0].kind, CKPT_JSER_OFF_LONG);
	CHECK_EQ_INT(off[0].value, 3);
	CHECK_STR(off[0].class_name,
		"org.apache.spark.sql.execution.streaming.LongOffset");
	CHECK_OK(ckpt_jser_top_class(p, n, cls, sizeof(cls), &err));
	CHECK_STR(cls, "org.apache.spark.sql.execution.streaming.CompositeOffset");
	/* a Checkpoint is no CompositeOffset and vice versa */
	{
		struct ckpt_jser_checkpoint cp;

		CHECK_FAILS(ckpt_jser_checkpoint_decode(p, n, "offsets/3", &cp,
			&err), CKPT_E_FORMAT);
		CHECK(strstr(err.msg, "not a DStream checkpoint") != NULL);
	}
	free(p);
}

static void
check_checkpoint_file(const char *dir, int64_t t, int bk)
{
	struct ckpt_error err = { 0 };
	struct ckpt_jser_checkpoint cp;
	char rel[256];
	uint8_t *p, *d;
	size_t n, dn;

	snprintf(rel, sizeof(rel), F14 "/checkpoint-%lld%s", (long long)t,
		bk ? ".bk" : "");
	p = read_fixture(dir, rel, &n);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	d = unlz4(p, n, &dn);
	CHECK(dn > 11000);
	CHECK_OK(ckpt_jser_checkpoint_decode(d, dn, rel, &cp, &err));
	CHECK_EQ_INT(cp.checkpoint_time_ms, t);
	CHECK_EQ_INT(cp.checkpoint_duration_ms, 5000);
	CHECK_EQ_INT(cp.batch_duration_ms, 5000);
	CHECK_EQ_INT(cp.serialized_bytes, dn);
	CHECK_STR(cp.framework, "SERVER");
	CHECK_STR(cp.master, "local[*]");
	CHECK_STR(cp.checkpoint_dir,
		"file:/mnt/c/Users/Joaqu\xc3\xadn/Desktop/pyspark/proy_twitter/checkpoint");
	CHECK_EQ_INT(cp.n_pending, bk ? 1 : 0);
	if (bk)
		CHECK_EQ_INT(cp.pending_times[0], t);
	CHECK_EQ_INT(cp.n_conf, 12);
	CHECK_STR(ckpt_jser_checkpoint_conf(&cp, "spark.app.name"), "SERVER");
	CHECK_STR(ckpt_jser_checkpoint_conf(&cp, "spark.master"), "local[*]");
	CHECK_STR(cp.graph_class, "org.apache.spark.streaming.DStreamGraph");
	CHECK_EQ_INT(cp.n_input_streams, 1);
	CHECK_STR(cp.input_streams[0],
		"org.apache.spark.streaming.dstream.SocketInputDStream");
	CHECK_EQ_INT(cp.n_output_streams, 2);
	CHECK_STR(cp.output_streams[1],
		"org.apache.spark.streaming.dstream.ForEachDStream");
	CHECK_EQ_INT(cp.zero_time_ms, t >= 1621164545000LL ?
		1621164540000LL : 1621164215000LL);
	CHECK(cp.java9_callsites);
	CHECK_EQ_INT(cp.n_rdd_refs, 0);
	ckpt_jser_checkpoint_release(&cp);
	ckpt_jser_checkpoint_release(&cp);	/* twice is harmless */
	free(d);
	free(p);
}

DEFINE_TEST(test_javaser_checkpoint_fixture)
{
	static const int64_t times[] = { 1621164245000LL, 1621164250000LL,
		1621164545000LL, 1621164550000LL, 1621164555000LL };
	const char *dir = jser_fixtures("test_javaser_checkpoint_fixture");

	if (dir == NULL)
		return;
	for (int i = 0; i < 5; i++) {
		check_checkpoint_file(dir, times[i], 0);
		check_checkpoint_file(dir, times[i], 1);
	}
}

/* Every prefix and every single-byte flip of a real stream. */
static void
sweep(const uint8_t *p, size_t n, int step)
{
	struct ckpt_error err;
	uint8_t *q = malloc(n);
	size_t used;
	int rc;

	/* the bare header is an empty stream; any longer cut is not */
	for (size_t k = 5; k < n; k += (size_t)step) {
		memset(&err, 0, sizeof(err));
		rc = ckpt_jser_walk(p, k, NULL, "prefix", NULL, NULL, &used,
			&err);
		/* a cut inside the only object can never parse */
		CHECK(rc < 0);
		CHECK(err.msg[0] != '\0');
		CHECK(err.kind == CKPT_E_FORMAT);
	}
	for (size_t k = 0; k < n; k += (size_t)step) {
		memcpy(q, p, n);
		q[k] ^= 0x5A;
		memset(&err, 0, sizeof(err));
		rc = ckpt_jser_walk(q, n, NULL, "flip", NULL, NULL, &used,
			&err);
		CHECK(rc == CKPT_OK || err.msg[0] != '\0');
	}
	free(q);
}

DEFINE_TEST(test_javaser_corruption_sweep)
{
	const char *dir = jser_fixtures("test_javaser_corruption_sweep");
	uint8_t *p, *d;
	size_t n, dn;

	if (dir == NULL)
		return;
	p = read_fixture(dir, F1 "/offsets/3", &n);
	CHECK(p != NULL);
	if (p != NULL)
		sweep(p, n, 1);
	free(p);
	p = read_fixture(dir, F14 "/checkpoint-1621164555000.bk", &n);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	d = unlz4(p, n, &dn);
	sweep(d, dn, 7);
	free(d);
	free(p);
}

/* ---- hand-built streams ---- */

DEFINE_TEST(test_javaser_every_tag)
{
	static const char *const fields[] = { "Jmillis", "Lname", "[arr" };
	struct ckpt_error err = { 0 };
	struct evlog *l = calloc(1, sizeof(*l));
	struct jb *j = calloc(1, sizeof(*j));
	size_t used;
	int i;

	header(j);
	/* object of class A { long millis; Object name; Object[] arr } */
	u8(j, 0x73);
	classdesc(j, "A", 0x02, 3, fields);	/* desc 0, type strings 1, 2 */
	u8(j, 0x70);				/* no superclass */
	u64(j, 42);				/* millis; the object is 3 */
	u8(j, 0x74);				/* name: new string, handle 4 */
	utf(j, "hello");
	u8(j, 0x75);				/* arr: int[] { 7, -1 } */
	classdesc(j, "[I", 0x02, 0, NULL);	/* handle 5 */
	u8(j, 0x70);
	u32(j, 2);				/* array handle 6 */
	u32(j, 7);
	u32(j, 0xFFFFFFFF);
	/* top level: block data, reference, enum, class, long string */
	u8(j, 0x77);
	u8(j, 3);
	put(j, "abc", 3);
	u8(j, 0x71);
	u32(j, 0x7E0003);			/* the A object */
	u8(j, 0x7E);				/* enum E.RED */
	u8(j, 0x72);
	utf(j, "E");
	u64(j, 0);
	u8(j, 0x12);
	u16(j, 0);
	u8(j, 0x78);
	u8(j, 0x70);
	u8(j, 0x74);
	utf(j, "RED");
	u8(j, 0x76);				/* class object of A */
	u8(j, 0x71);
	u32(j, 0x7E0000);
	u8(j, 0x7C);				/* long string */
	u64(j, 2);
	put(j, "xy", 2);
	u8(j, 0x79);				/* reset */
	u8(j, 0x7D);				/* proxy desc, handle 0 again */
	u32(j, 1);
	utf(j, "java.lang.Runnable");
	u8(j, 0x78);
	u8(j, 0x70);
	u8(j, 0x71);				/* its handle after the reset */
	u32(j, 0x7E0000);
	CHECK_OK(ckpt_jser_walk(j->b, j->n, NULL, "built", log_cb, l, &used,
		&err));
	CHECK_EQ_INT(used, j->n);
	i = 0;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_OBJECT);
	CHECK_STR(l->text[i], "A");
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_PRIM);
	CHECK_EQ_INT(l->ival[i], 42);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_STRING);
	CHECK_STR(l->text[i], "hello");
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_ARRAY);
	CHECK_EQ_INT(l->ival[i], 2);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_PRIM);
	CHECK_EQ_INT(l->ival[i], 7);
	i++;
	CHECK_EQ_INT(l->ival[i], -1);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_ARRAY_END);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_OBJECT_END);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_BLOCKDATA);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_REF);
	CHECK_STR(l->text[i], "A");
	CHECK_EQ_INT(l->ival[i], 42);		/* its first J field */
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_ENUM);
	CHECK_STR(l->text[i], "RED");
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_CLASS);
	CHECK_STR(l->text[i], "A");
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_STRING);
	CHECK_STR(l->text[i], "xy");
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_RESET);
	i++;
	CHECK_EQ_INT(l->types[i], CKPT_JSER_EV_REF);
	CHECK_STR(l->text[i], "java.lang.Runnable");
	CHECK_EQ_INT(l->n, i + 1);
	/* after the reset, the old A handle 0x7E0003 is gone */
	j->n -= 4;
	u32(j, 0x7E0003);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "built", NULL, NULL,
		NULL, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "unknown handle") != NULL);
	free(l);
	free(j);
}

DEFINE_TEST(test_javaser_write_object_and_super)
{
	static const char *const base_f[] = { "Ia" };
	static const char *const sub_f[] = { "Jb" };
	struct ckpt_error err = { 0 };
	struct evlog *l = calloc(1, sizeof(*l));
	struct jb *j = calloc(1, sizeof(*j));

	header(j);
	u8(j, 0x73);
	classdesc(j, "Sub", 0x03, 1, sub_f);	/* writeObject */
	classdesc(j, "Base", 0x02, 1, base_f);	/* super */
	u8(j, 0x70);
	u32(j, 5);				/* Base.a first */
	u64(j, 6);				/* Sub.b */
	u8(j, 0x77);				/* Sub's extra data */
	u8(j, 1);
	u8(j, 9);
	u8(j, 0x74);
	utf(j, "extra");
	u8(j, 0x78);
	CHECK_OK(ckpt_jser_walk(j->b, j->n, NULL, "built", log_cb, l, NULL,
		&err));
	CHECK_EQ_INT(l->types[1], CKPT_JSER_EV_PRIM);
	CHECK_EQ_INT(l->ival[1], 5);
	CHECK_STR(l->text[1], "a");
	CHECK_EQ_INT(l->ival[2], 6);
	CHECK_STR(l->text[2], "b");
	CHECK_EQ_INT(l->types[3], CKPT_JSER_EV_BLOCKDATA);
	CHECK_EQ_INT(l->types[4], CKPT_JSER_EV_STRING);
	CHECK_STR(l->text[4], "extra");
	CHECK_EQ_INT(l->types[5], CKPT_JSER_EV_OBJECT_END);
	/* an externalizable class without block data cannot be walked */
	header(j);
	u8(j, 0x73);
	classdesc(j, "Ext", 0x04, 0, NULL);
	u8(j, 0x70);
	u32(j, 1);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "built", NULL, NULL,
		NULL, &err), CKPT_E_UNSUPPORTED);
	/* with block data it can */
	header(j);
	u8(j, 0x73);
	classdesc(j, "Ext", 0x0C, 0, NULL);
	u8(j, 0x70);
	u8(j, 0x7A);				/* BLOCKDATALONG */
	u32(j, 2);
	u16(j, 0xBEEF);
	u8(j, 0x78);
	CHECK_OK(ckpt_jser_walk(j->b, j->n, NULL, "built", NULL, NULL, NULL,
		&err));
	free(l);
	free(j);
}

DEFINE_TEST(test_javaser_modified_utf8)
{
	struct ckpt_error err = { 0 };
	struct jb *j = calloc(1, sizeof(*j));

	/* a lone continuation byte is malformed */
	header(j);
	u8(j, 0x74);
	utf(j, "\x80");
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "utf", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "UTF-8") != NULL);
	/* so is a 2-byte sequence cut by the end of the string */
	header(j);
	u8(j, 0x74);
	utf(j, "a\xC3");
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "utf", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	free(j);
}

struct bytes_arg {
	uint8_t got[16];
	size_t n;
};

static int
bytes_cb(void *arg, const struct ckpt_jser_event *ev, struct ckpt_error *err)
{
	struct bytes_arg *a = arg;

	if (ev->type == CKPT_JSER_EV_STRING && ev->str_len <= sizeof(a->got)) {
		memcpy(a->got, ev->str, ev->str_len);
		a->n = ev->str_len;
	}
	return CKPT_OK;
}

DEFINE_TEST(test_javaser_modified_utf8_bytes)
{
	struct ckpt_error err = { 0 };
	struct jb *j = calloc(1, sizeof(*j));
	struct bytes_arg a = { { 0 }, 0 };
	static const uint8_t s[] = { 'a', 0xC0, 0x80, 0xC3, 0xAD,
		0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80 };
	static const uint8_t want[] = { 'a', 0, 0xC3, 0xAD, 0xF0, 0x9F, 0x98,
		0x80 };

	header(j);
	u8(j, 0x74);
	u16(j, sizeof(s));
	put(j, s, sizeof(s));
	CHECK_OK(ckpt_jser_walk(j->b, j->n, NULL, "utf", bytes_cb, &a, NULL,
		&err));
	CHECK_EQ_INT(a.n, sizeof(want));
	CHECK(memcmp(a.got, want, sizeof(want)) == 0);
	/* a lone surrogate becomes U+FFFD */
	header(j);
	u8(j, 0x74);
	u16(j, 4);
	put(j, "\xED\xA0\xBDz", 4);
	a.n = 0;
	CHECK_OK(ckpt_jser_walk(j->b, j->n, NULL, "utf", bytes_cb, &a, NULL,
		&err));
	CHECK_EQ_INT(a.n, 4);
	CHECK(memcmp(a.got, "\xEF\xBF\xBDz", 4) == 0);
	free(j);
}

/* ---- hostile input ---- */

DEFINE_TEST(test_javaser_huge_lengths)
{
	struct ckpt_error err = { 0 };
	struct jb *j = calloc(1, sizeof(*j));

	/* string claiming 65535 bytes, 3 present */
	header(j);
	u8(j, 0x74);
	u16(j, 0xFFFF);
	put(j, "abc", 3);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "truncated string") != NULL);
	CHECK(strstr(err.msg, "'huge'") != NULL);
	/* long string claiming 2^62 bytes */
	header(j);
	u8(j, 0x7C);
	u64(j, (uint64_t)1 << 62);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	/* object array of 2^31-1 elements, none present */
	header(j);
	u8(j, 0x75);
	classdesc(j, "[Ljava.lang.Object;", 0x02, 0, NULL);
	u8(j, 0x70);
	u32(j, 0x7FFFFFFF);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "array elements") != NULL);
	/* negative array length */
	j->n -= 4;
	u32(j, 0xFFFFFFF0);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	/* long array whose elements would overflow 32 bits */
	header(j);
	u8(j, 0x75);
	classdesc(j, "[J", 0x02, 0, NULL);
	u8(j, 0x70);
	u32(j, 0x7FFFFFFF);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	/* block data long of 2^31-1 bytes */
	header(j);
	u8(j, 0x7A);
	u32(j, 0x7FFFFFFF);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	/* 65535 fields announced, none present */
	header(j);
	u8(j, 0x73);
	u8(j, 0x72);
	utf(j, "X");
	u64(j, 1);
	u8(j, 2);
	u16(j, 0xFFFF);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	/* 65535 unnamed fields: too big a graph for its bytes, not ENOMEM */
	header(j);
	u8(j, 0x73);
	u8(j, 0x72);
	utf(j, "X");
	u64(j, 1);
	u8(j, 2);
	u16(j, 0xFFFF);
	for (int i = 0; i < 0xFFFF; i++) {
		u8(j, 'B');
		u16(j, 0);
	}
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "too large for the stream") != NULL);
	/* no header, bad tag, size limit */
	CHECK_FAILS(ckpt_jser_walk("xxxx", 4, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "no stream header") != NULL);
	header(j);
	u8(j, 0x42);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "huge", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "offset 4") != NULL);
	{
		struct ckpt_jser_limits lim = { 0, 0, 4 };

		CHECK_FAILS(ckpt_jser_walk(j->b, j->n, &lim, "huge", NULL,
			NULL, NULL, &err), CKPT_E_FORMAT);
		CHECK(strstr(err.msg, "too large") != NULL);
	}
	free(j);
}

DEFINE_TEST(test_javaser_deep_nesting)
{
	struct ckpt_error err = { 0 };
	struct jb *j = calloc(1, sizeof(*j));
	int i;

	/* Object[] { Object[] { ... } } 5000 deep */
	header(j);
	u8(j, 0x75);
	classdesc(j, "[Ljava.lang.Object;", 0x02, 0, NULL);
	u8(j, 0x70);
	u32(j, 1);
	for (i = 0; i < 5000; i++) {
		u8(j, 0x75);
		u8(j, 0x71);
		u32(j, 0x7E0000);
		u32(j, 1);
	}
	u8(j, 0x70);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "deep", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "nesting too deep") != NULL);
	/* a generous limit lets the same stream through */
	{
		struct ckpt_jser_limits lim = { 20000, 0, 0 };

		ckpt_error_clear(&err);
		CHECK_OK(ckpt_jser_walk(j->b, j->n, &lim, "deep", NULL, NULL,
			NULL, &err));
	}
	/* a class whose superclass is itself */
	header(j);
	u8(j, 0x73);
	u8(j, 0x72);
	utf(j, "Loop");
	u64(j, 1);
	u8(j, 2);
	u16(j, 0);
	u8(j, 0x78);
	u8(j, 0x71);				/* super = itself (handle 0) */
	u32(j, 0x7E0000);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "loop", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "complete") != NULL ||
		strstr(err.msg, "hierarchy") != NULL);
	/* too many handles */
	{
		struct ckpt_jser_limits lim = { 0, 10, 0 };

		header(j);
		for (i = 0; i < 20; i++) {
			u8(j, 0x74);
			utf(j, "s");
		}
		CHECK_FAILS(ckpt_jser_walk(j->b, j->n, &lim, "handles", NULL,
			NULL, NULL, &err), CKPT_E_FORMAT);
		CHECK(strstr(err.msg, "too many handles") != NULL);
	}
	free(j);
}

static int
stop_cb(void *arg, const struct ckpt_jser_event *ev, struct ckpt_error *err)
{
	int *n = arg;

	return ++*n == 2 ? CKPT_EOF : CKPT_OK;
}

static int
reject_cb(void *arg, const struct ckpt_jser_event *ev, struct ckpt_error *err)
{
	return CKPT_FAILED;	/* without a message: the walker adds one */
}

DEFINE_TEST(test_javaser_callback_control)
{
	struct ckpt_error err = { 0 };
	struct jb *j = calloc(1, sizeof(*j));
	int n = 0;

	header(j);
	for (int i = 0; i < 5; i++) {
		u8(j, 0x74);
		utf(j, "s");
	}
	CHECK_OK(ckpt_jser_walk(j->b, j->n, NULL, "cb", stop_cb, &n, NULL,
		&err));
	CHECK_EQ_INT(n, 2);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "cb", reject_cb, NULL,
		NULL, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "'cb'") != NULL);
	/* a reset inside an object is corrupt */
	header(j);
	u8(j, 0x75);
	classdesc(j, "[Ljava.lang.Object;", 0x02, 0, NULL);
	u8(j, 0x70);
	u32(j, 1);
	u8(j, 0x79);
	CHECK_FAILS(ckpt_jser_walk(j->b, j->n, NULL, "cb", NULL, NULL, NULL,
		&err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "reset") != NULL);
	free(j);
}
