/*
 * fuzz_native_value.c - the typed value encoding of native state
 * (lib/codec/codec_value.c, ckpt-format(5) VALUES): the input is one
 * encoded value, rendered as JSON through a struct schema and a list
 * schema, and skipped without a schema.  Failures must carry a message;
 * nothing may read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const schemas[] = {
		"struct<count:int64,last_seen:timestamp,actions:list<string>>",
		"list<struct<a:double,b:bool,c:bytes,d:list<null>>>",
		"string",
	};
	struct ckpt_error err = { 0 };
	struct ckpt_dec d = { data, data + size, data };
	char *buf = NULL;
	size_t len, cap = 0;

	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		struct ckpt_schema *s = NULL;

		if (ckpt_schema_parse(schemas[i], &s, &err) != CKPT_OK)
			abort();
		len = 0;
		ckpt_error_clear(&err);
		if (ckpt_value_to_json(s, data, size, &buf, &len, &cap,
		    &err) != CKPT_OK && err.msg[0] == '\0')
			abort();
		ckpt_schema_free(s);
	}
	ckpt_error_clear(&err);
	while (d.p < d.end && ckpt_dec_skip(&d, &err) == CKPT_OK)
		;
	if (d.p < d.end && err.msg[0] == '\0')
		abort();
	free(buf);
	return 0;
}
