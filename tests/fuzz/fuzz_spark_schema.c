/*
 * fuzz_spark_schema.c - Spark state schema files v1/v2/v3 and the
 * DataType JSON inside them (lib/codec/codec_sparkschema.c,
 * docs/spark-checkpoint-format.md section 4.1).  The input is one whole
 * _metadata/schema file; when it parses, both schemas are turned into
 * types and described.  The input is also tried as DataType JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/spark_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
try_type(const char *json, size_t len)
{
	struct ckpt_error err = { 0 };
	struct spark_type *t = NULL;
	struct ckpt_buf b = { 0 };

	if (spark_type_parse(json, len, &t, &err) == CKPT_OK)
		spark_type_describe(t, &b);
	else if (err.msg[0] == '\0')
		abort();
	spark_type_free(t);
	free(b.data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_error err = { 0 };
	struct spark_schema_file sf;

	if (spark_schema_file_parse(data, size, "schema", &sf, &err) ==
	    CKPT_OK) {
		try_type(sf.key_json, strlen(sf.key_json));
		try_type(sf.value_json, strlen(sf.value_json));
		spark_schema_file_release(&sf);
	}
	try_type((const char *)data, size);
	return 0;
}
