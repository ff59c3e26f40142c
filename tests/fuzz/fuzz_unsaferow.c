/*
 * fuzz_unsaferow.c - UnsafeRow to JSON (lib/codec/codec_unsaferow.c,
 * docs/spark-checkpoint-format.md section 3).  The first input byte
 * picks one of the schemas below (every type, nesting, decimals of
 * both sizes, maps); the rest is the row.  Every decode must either
 * produce valid JSON text or fail with a message, and the check-only
 * walk (spark_row_check, used by verify) must agree with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec/spark_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define F(n, t) "{\"name\":\"" n "\",\"type\":" t ",\"nullable\":true}"
#define ST(fields) "{\"type\":\"struct\",\"fields\":[" fields "]}"

static const char *const schemas[] = {
	ST(F("name", "\"string\"")),
	ST(F("sum", "\"double\"") "," F("sum", "\"double\"") ","
	   F("count", "\"long\"")),
	ST(F("window", ST(F("start", "\"timestamp\"") ","
	   F("end", "\"timestamp\""))) "," F("word", "\"string\"")),
	ST(F("__dummy__", "\"void\"")),
	ST(F("a", "\"boolean\"") "," F("b", "\"byte\"") ","
	   F("c", "\"short\"") "," F("d", "\"integer\"") ","
	   F("e", "\"float\"") "," F("f", "\"date\"") ","
	   F("g", "\"timestamp_ntz\"") "," F("h", "\"binary\"") ","
	   F("i", "\"interval\"")),
	ST(F("small", "\"decimal(10,3)\"") "," F("big", "\"decimal(38,6)\"")),
	ST(F("xs", "{\"type\":\"array\",\"elementType\":\"string\","
	   "\"containsNull\":true}") "," F("ys", "{\"type\":\"array\","
	   "\"elementType\":\"short\",\"containsNull\":true}")),
	ST(F("m", "{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":"
	   ST(F("n", "\"long\"")) ",\"valueContainsNull\":true}")),
	ST(F("deep", "{\"type\":\"array\",\"elementType\":{\"type\":"
	   "\"array\",\"elementType\":" ST(F("s", "\"string\"")) ","
	   "\"containsNull\":true},\"containsNull\":true}")),
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t n = sizeof(schemas) / sizeof(schemas[0]);
	struct ckpt_error err = { 0 };
	struct spark_type *t = NULL;
	struct ckpt_buf b = { 0 };
	const char *s;
	cJSON *j;

	if (size < 1)
		return 0;
	s = schemas[data[0] % n];
	if (spark_type_parse(s, strlen(s), &t, &err) != CKPT_OK)
		abort();
	struct ckpt_error err2 = { 0 };
	int rc_check = spark_row_check(t, data + 1, size - 1, &err2);

	if (spark_row_to_json(t, data + 1, size - 1, &b, &err) == CKPT_OK) {
		if (rc_check != CKPT_OK)
			abort();	/* check mode refused a valid row */
		if (spark_buf_cstr(&b) != 0)
			abort();
		j = cJSON_Parse((const char *)b.data);
		if (!j)
			abort();	/* we printed invalid JSON */
		cJSON_Delete(j);
	} else if (err.msg[0] == '\0' || rc_check == CKPT_OK) {
		abort();
	}
	spark_type_free(t);
	free(b.data);
	return 0;
}
