/*
 * test_value.c - the typed value encoding of native state and its schema
 * language (codec_value.c): parser, encoders, decoders, JSON rendering,
 * and every malformed-input path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Renders b through schema text; returns the JSON (static) or NULL. */
static const char *
render(const char *schema, const struct ckpt_buf *b, struct ckpt_error *err)
{
	static char *out;
	static size_t cap;
	struct ckpt_schema *s = NULL;
	size_t len = 0;
	int rc;

	ckpt_error_clear(err);
	if (ckpt_schema_parse(schema, &s, err) != CKPT_OK)
		return NULL;
	rc = ckpt_value_to_json(s, b->data, b->len, &out, &len, &cap, err);
	ckpt_schema_free(s);
	if (rc != CKPT_OK) {
		CHECK(err->msg[0] != '\0');
		return NULL;
	}
	return out;
}

static const char *
render_bytes(const char *schema, const void *p, size_t n,
    struct ckpt_error *err)
{
	struct ckpt_buf b = { (uint8_t *)p, n, n };

	return render(schema, &b, err);
}

DEFINE_TEST(test_value_schema_parse)
{
	struct ckpt_error err = { 0 };
	struct ckpt_schema *s = NULL;
	static const char *const good[] = { "string", "int64", "double",
		"bool", "bytes", "timestamp", "null", "list<int64>",
		" struct< a : int64 , b:list<list<string>> > ",
		"struct<count:int64,last_seen:timestamp,actions:list<string>>",
		NULL };
	static const char *const bad[] = { "", "int", "list", "list<>",
		"list<int64", "struct<>", "struct<a>", "struct<a:int64",
		"struct<a:int64,a:string>", "struct<1a:int64>", "int64 x",
		"struct<a:int64;b:int64>", NULL };
	char deep[400] = "";

	for (int i = 0; good[i] != NULL; i++) {
		CHECK_OK(ckpt_schema_parse(good[i], &s, &err));
		ckpt_schema_free(s);
		s = NULL;
	}
	CHECK_OK(ckpt_schema_parse("list<bool>", &s, &err));
	CHECK_EQ_INT(ckpt_schema_type(s), CKPT_T_LIST);
	ckpt_schema_free(s);
	CHECK_EQ_INT(ckpt_schema_type(NULL), -1);
	for (int i = 0; bad[i] != NULL; i++) {
		CHECK_FAILS(ckpt_schema_parse(bad[i], &s, &err), CKPT_E_FORMAT);
		CHECK(s == NULL);
		CHECK(strstr(err.msg, "cannot parse schema") != NULL);
	}
	for (int i = 0; i < 40; i++)
		strcat(deep, "list<");
	strcat(deep, "int64");
	for (int i = 0; i < 40; i++)
		strcat(deep, ">");
	CHECK_FAILS(ckpt_schema_parse(deep, &s, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "nested too deeply") != NULL);
	CHECK_FAILS(ckpt_schema_parse(NULL, &s, &err), CKPT_E_USAGE);
	ckpt_schema_free(NULL);
}

DEFINE_TEST(test_value_roundtrip_json)
{
	struct ckpt_error err = { 0 };
	struct ckpt_buf b = { 0 };
	const char *j;

	ckpt_enc_int64(&b, -123456789012LL);
	CHECK_STR(render("int64", &b, &err), "-123456789012");
	b.len = 0;
	ckpt_enc_int64(&b, INT64_MIN);
	CHECK_STR(render("int64", &b, &err), "-9223372036854775808");
	b.len = 0;
	ckpt_enc_bool(&b, 7);
	CHECK_STR(render("bool", &b, &err), "true");
	b.len = 0;
	ckpt_enc_double(&b, 0.5);
	CHECK_STR(render("double", &b, &err), "0.5");
	b.len = 0;
	ckpt_enc_double(&b, NAN);
	CHECK_STR(render("double", &b, &err), "\"nan\"");
	b.len = 0;
	ckpt_enc_string(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
	CHECK_STR(render("string", &b, &err),
	    "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
	b.len = 0;
	ckpt_enc_bytes(&b, "\x00\xff", 2);
	CHECK_STR(render("bytes", &b, &err), "\"00ff\"");
	b.len = 0;
	ckpt_enc_timestamp(&b, 1700000000123LL);
	CHECK_STR(render("timestamp", &b, &err),
	    "\"2023-11-14T22:13:20.123Z\"");
	b.len = 0;
	ckpt_enc_timestamp(&b, -1);
	CHECK_STR(render("timestamp", &b, &err),
	    "\"1969-12-31T23:59:59.999Z\"");
	b.len = 0;
	ckpt_enc_null(&b);
	CHECK_STR(render("int64", &b, &err), "null");
	/* struct with a nested list, then one with a missing field */
	b.len = 0;
	ckpt_enc_struct_begin(&b, 3);
	ckpt_enc_int64(&b, 4);
	ckpt_enc_timestamp(&b, 0);
	ckpt_enc_list_begin(&b, 2);
	ckpt_enc_string(&b, "x", 1);
	ckpt_enc_null(&b);
	j = render("struct<count:int64,last_seen:timestamp,"
	    "actions:list<string>>", &b, &err);
	CHECK_STR(j, "{\"count\":4,\"last_seen\":\"1970-01-01T00:00:00.000Z\","
	    "\"actions\":[\"x\",null]}");
	b.len = 0;
	ckpt_enc_struct_begin(&b, 1);
	ckpt_enc_int64(&b, 4);
	CHECK_STR(render("struct<a:int64,b:string>", &b, &err),
	    "{\"a\":4,\"b\":null}");
	{
		struct ckpt_schema *s = NULL;

		CHECK_OK(ckpt_schema_parse("struct<a:int64,b:string>", &s,
		    &err));
		CHECK_OK(ckpt_value_check(s, b.data, b.len, &err));
		ckpt_schema_free(s);
	}
	ckpt_buf_release(&b);
}

DEFINE_TEST(test_value_decoders)
{
	struct ckpt_error err = { 0 };
	struct ckpt_buf b = { 0 };
	struct ckpt_dec d;
	int64_t i64;
	double dbl;
	int bo;
	const char *s;
	size_t n;
	uint64_t cnt;
	unsigned nf;

	ckpt_enc_struct_begin(&b, 5);
	ckpt_enc_int64(&b, -5);
	ckpt_enc_double(&b, 2.25);
	ckpt_enc_bool(&b, 0);
	ckpt_enc_string(&b, "hey", 3);
	ckpt_enc_list_begin(&b, 1);
	ckpt_enc_timestamp(&b, 99);
	ckpt_enc_bytes(&b, "zz", 2);
	d = (struct ckpt_dec){ b.data, b.data + b.len, b.data };
	CHECK_EQ_INT(ckpt_dec_type(&d), CKPT_T_STRUCT);
	CHECK_OK(ckpt_dec_struct_begin(&d, &nf, &err));
	CHECK_EQ_INT(nf, 5);
	CHECK_OK(ckpt_dec_int64(&d, &i64, &err));
	CHECK_EQ_INT(i64, -5);
	CHECK_OK(ckpt_dec_double(&d, &dbl, &err));
	CHECK(dbl == 2.25);
	CHECK_OK(ckpt_dec_bool(&d, &bo, &err));
	CHECK_EQ_INT(bo, 0);
	CHECK_OK(ckpt_dec_string(&d, &s, &n, &err));
	CHECK(n == 3 && memcmp(s, "hey", 3) == 0);
	CHECK_OK(ckpt_dec_list_begin(&d, &cnt, &err));
	CHECK_EQ_INT(cnt, 1);
	CHECK_OK(ckpt_dec_timestamp(&d, &i64, &err));
	CHECK_EQ_INT(i64, 99);
	CHECK_OK(ckpt_dec_string(&d, &s, &n, &err));	/* bytes too */
	CHECK(n == 2);
	CHECK_EQ_INT(ckpt_dec_type(&d), -1);
	/* skip walks the whole thing without a schema */
	d = (struct ckpt_dec){ b.data, b.data + b.len, b.data };
	CHECK_OK(ckpt_dec_skip(&d, &err));
	CHECK_OK(ckpt_dec_skip(&d, &err));
	CHECK(d.p == d.end);
	CHECK_FAILS(ckpt_dec_skip(&d, &err), CKPT_E_FORMAT);
	/* wrong tag */
	d = (struct ckpt_dec){ b.data, b.data + b.len, b.data };
	CHECK_FAILS(ckpt_dec_int64(&d, &i64, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "expected int64, found struct at byte 0") !=
	    NULL);
	ckpt_buf_release(&b);
}

DEFINE_TEST(test_value_malformed)
{
	struct ckpt_error err = { 0 };
	struct ckpt_dec d;
	struct ckpt_buf b = { 0 };
	int64_t v;
	uint64_t cnt;
	unsigned nf;
	static const struct {
		const char *schema;
		const char *bytes;
		size_t n;
		const char *why;
	} cases[] = {
		{ "int64", "", 0, "truncated value" },
		{ "int64", "\x02", 1, "truncated varint" },
		{ "int64", "\x02\x80\x80", 3, "truncated varint" },
		{ "int64", "\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		    12, "malformed varint" },
		{ "int64", "\x02\x02\x00", 3, "trailing bytes" },
		{ "int64", "\x04\x00", 2, "expected int64, found string" },
		{ "bool", "\x01\x02", 2, "neither 0 nor 1" },
		{ "bool", "\x01", 1, "truncated bool" },
		{ "double", "\x03\x00\x00", 3, "truncated double" },
		{ "string", "\x04\x05" "abc", 5, "runs past the end" },
		{ "string", "\x04\x02\xff\xfe", 4, "invalid utf-8" },
		{ "string", "\x04\x02\xc0\xaf", 4, "invalid utf-8" },
		{ "string", "\x04\x03\xed\xa0\x80", 5, "invalid utf-8" },
		{ "list<int64>", "\x07\x05\x00", 3, "list count runs past" },
		{ "list<int64>", "\x07\x01", 2, "list count runs past" },
		{ "struct<a:int64>", "\x08\x02\x00\x00", 4,
		    "struct has 2 fields, schema has 1" },
		{ "struct<a:int64>", "\x08\xff\x7f", 3, "field count" },
		{ "int64", "\x09", 1, "expected int64, found unknown" },
		{ "timestamp", "\x06", 1, "truncated varint" },
		{ "bytes", "\x05\x01", 2, "runs past the end" },
		{ "null", "\x02\x00", 2, "expected null, found int64" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *j = render_bytes(cases[i].schema, cases[i].bytes,
		    cases[i].n, &err);

		CHECK(j == NULL);
		CHECK_EQ_INT(err.kind, CKPT_E_FORMAT);
		{
			struct ckpt_schema *s = NULL;

			ckpt_error_clear(&err);
			CHECK_OK(ckpt_schema_parse(cases[i].schema, &s, &err));
			CHECK_FAILS(ckpt_value_check(s, (const uint8_t *)
			    cases[i].bytes, cases[i].n, &err), CKPT_E_FORMAT);
			ckpt_schema_free(s);
		}
		if (strstr(err.msg, cases[i].why) == NULL) {
			unit_failures++;
			fprintf(stderr, "  case %zu: '%s' lacks '%s'\n", i,
			    err.msg, cases[i].why);
		}
	}
	/* nesting bomb: lists 100 deep */
	for (int i = 0; i < 100; i++)
		ckpt_enc_list_begin(&b, 1);
	ckpt_enc_null(&b);
	d = (struct ckpt_dec){ b.data, b.data + b.len, b.data };
	CHECK_FAILS(ckpt_dec_skip(&d, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "nested too deeply") != NULL);
	CHECK(render("list<list<int64>>", &b, &err) == NULL);
	ckpt_buf_release(&b);
	/* direct decoders on short input */
	d = (struct ckpt_dec){ (const uint8_t *)"\x07\x09", NULL, NULL };
	d.end = d.p + 2;
	d.start = d.p;
	CHECK_FAILS(ckpt_dec_list_begin(&d, &cnt, &err), CKPT_E_FORMAT);
	d = (struct ckpt_dec){ (const uint8_t *)"\x08", NULL, NULL };
	d.end = d.p + 1;
	d.start = d.p;
	CHECK_FAILS(ckpt_dec_struct_begin(&d, &nf, &err), CKPT_E_FORMAT);
	d = (struct ckpt_dec){ (const uint8_t *)"\x06\x80", NULL, NULL };
	d.end = d.p + 2;
	d.start = d.p;
	CHECK_FAILS(ckpt_dec_timestamp(&d, &v, &err), CKPT_E_FORMAT);
	CHECK_FAILS(ckpt_value_to_json(NULL, NULL, 0, NULL, NULL, NULL, &err),
	    CKPT_E_USAGE);
}
