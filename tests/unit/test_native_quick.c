/*
 * test_native_quick.c - the quick commit entry reader of batch listings
 * (lib/format/fmt_native_quick.c) against the full one: whenever
 * nat_commit_quick answers, nat_commit_parse must accept the same text
 * for the same batch with the same time, file count, bytes and state
 * flag.  Hand-written shapes first (each quick or not, as the comment
 * says), then every one-byte change and every truncation of two real
 * entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "unit.h"
#include "format/native.h"

/* The full reading: 0 and *out, or -1 when the entry is refused. */
static int
full_read(const char *text, int64_t batch, struct nat_quick *out)
{
	struct ckpt_error err = { 0 };
	struct nat_commit cm;
	const cJSON *e;

	memset(out, 0, sizeof(*out));
	if (nat_commit_parse(text, "commits/x", &cm, &err) != CKPT_OK)
		return -1;
	if (cm.batch != batch) {
		nat_commit_release(&cm);
		return -1;
	}
	out->time_ms = cm.time_ms;
	cJSON_ArrayForEach(e, cm.files) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "kind");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "size");

		out->files++;
		out->bytes += (uint64_t)s->valuedouble;
		if (cJSON_IsString(k) && (strcmp(k->valuestring,
		    "snapshot") == 0 || strcmp(k->valuestring, "delta") == 0))
			out->has_state = 1;
	}
	nat_commit_release(&cm);
	return 0;
}

/* quick answers (or not, as wanted) and agrees with the full reading. */
static int
agrees(const char *text, size_t len, int64_t batch, int want_quick)
{
	struct nat_quick q, f;
	char *z = malloc(len + 1);
	int rq, rf, ok;

	if (z == NULL)
		return 0;
	memcpy(z, text, len);
	z[len] = '\0';
	rq = nat_commit_quick(z, len, batch, &q);
	rf = full_read(z, batch, &f);
	ok = rq != 0 || (rf == 0 && q.time_ms == f.time_ms &&
	    q.files == f.files && q.bytes == f.bytes &&
	    q.has_state == f.has_state);
	if (want_quick >= 0 && (rq == 0) != want_quick)
		ok = 0;
	if (!ok)
		fprintf(stderr, "  quick %d full %d on: %s\n", rq, rf, z);
	free(z);
	return ok;
}

#define E1 "{\"path\":\"offsets/00000000000000000007\",\"kind\":\"offsets\"," \
	"\"size\":161,\"xxh3\":\"07ad521fe4465376\",\"records\":1}"
#define E2 "{\"path\":\"state/0/1/00000000000000000007.delta\",\"kind\":" \
	"\"delta\",\"size\":165,\"xxh3\":\"c3be9f4c207ab2ae\",\"records\":10}"
#define GOOD "{\"batch\":7,\"time_ms\":1700000007000,\"state_batch\":7," \
	"\"files\":[" E1 "," E2 "]}"

DEFINE_TEST(test_native_quick_shapes)
{
	static const struct {
		const char *text;
		int quick;	/* 1 quick, 0 full parse, -1 either */
	} cases[] = {
		{ GOOD, 1 },
		{ " {\n \"batch\" : 7 ,\"state_batch\":null,\"files\":[]}\n",
		    1 },
		/* time_ms not a number: CKPT_NONE both ways */
		{ "{\"batch\":7,\"time_ms\":\"x\",\"state_batch\":null,"
		    "\"files\":[]}", 1 },
		/* unknown members, nested, skipped */
		{ "{\"batch\":7,\"x\":{\"a\":[1,true,null,{}]},\"state_batch\":"
		    "3,\"state_base\":2,\"files\":[" E1 "]}", 1 },
		/* first member wins, as in cJSON */
		{ "{\"batch\":7,\"batch\":8,\"state_batch\":null,\"files\":[" E1
		    "],\"files\":7}", 1 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":\"a\","
		    "\"kind\":\"snapshot\",\"kind\":\"x\",\"size\":1,\"size\":2,"
		    "\"xxh3\":\"0000000000000000\"}]}", 1 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":\"a\","
		    "\"kind\":3,\"size\":1,\"xxh3\":\"0000000000000000\"}]}", 1 },
		/* refused by both: the full parse says why */
		{ "{\"batch\":8,\"state_batch\":null,\"files\":[]}", 0 },
		{ "{\"batch\":7,\"files\":[]}", 0 },
		{ "{\"batch\":7,\"state_batch\":8,\"files\":[]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":{}}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":"
		    "\"../x\",\"size\":1,\"xxh3\":\"0000000000000000\"}]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":\"/x\","
		    "\"size\":1,\"xxh3\":\"0000000000000000\"}]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":\"\","
		    "\"size\":1,\"xxh3\":\"0000000000000000\"}]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":\"x\","
		    "\"size\":-1,\"xxh3\":\"0000000000000000\"}]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":\"x\","
		    "\"size\":1,\"xxh3\":\"000000000000000G\"}]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[7]}", 0 },
		{ "[1]", 0 },
		{ "", 0 },
		/* valid, but outside the quick subset: the full parse reads it */
		{ "{\"batch\":7.0,\"state_batch\":null,\"files\":[]}", 0 },
		{ "{\"batch\":7,\"time_ms\":1e3,\"state_batch\":null,"
		    "\"files\":[]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[{\"path\":"
		    "\"a\\/b\",\"size\":1,\"xxh3\":\"0000000000000000\"}]}", 0 },
		{ "{\"batch\":7,\"time_ms\":1234567890123456,\"state_batch\":"
		    "null,\"files\":[]}", 0 },
		{ "{\"batch\":7,\"state_batch\":null,\"files\":[]} trailing", 0 },
		{ "{\"batch\":07,\"state_batch\":null,\"files\":[]}", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(agrees(cases[i].text, strlen(cases[i].text), 7,
		    cases[i].quick));
}

/* Every byte changed to a few telling values, every truncation. */
DEFINE_TEST(test_native_quick_mutations)
{
	static const char *const texts[] = { GOOD,
		"{\"batch\":7,\"time_ms\":-5,\"state_batch\":null,\"x\":[{},[]],"
		"\"files\":[" E2 "]}" };
	static const char repl[] = { '"', '\\', ',', ':', '{', '}', '[', ']',
		'.', '0', '9', '-', 'e', 'n', ' ', '\0', '\n', 'x' };

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t len = strlen(texts[t]);
		char *buf = malloc(len + 1);
		int bad = 0;

		if (buf == NULL) {
			CHECK(buf != NULL);
			return;
		}
		for (size_t i = 0; i < len && bad < 5; i++) {
			for (size_t r = 0; r < sizeof(repl); r++) {
				memcpy(buf, texts[t], len + 1);
				buf[i] = repl[r];
				if (!agrees(buf, len, 7, -1))
					bad++;
			}
			if (!agrees(texts[t], i, 7, -1))
				bad++;
		}
		CHECK_EQ_INT(bad, 0);
		free(buf);
	}
}
