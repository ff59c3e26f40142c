/*
 * fuzz_spark_offsets.c - Spark offsets log files (lib/format/fmt_spark.c,
 * docs/spark-checkpoint-format.md sections 1.3, 8, 10 item 8): v1/v2
 * text with a metadata line and one offset per source, or Spark 2.0
 * Java serialization.  The input is one whole offsets/<N> file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "format/spark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_error err = { 0 };
	char *json = NULL;

	if (spark_offsets_json(NULL, "offsets/0", (const char *)data, size,
	    &json, &err) == CKPT_OK && !json)
		abort();
	free(json);
	return 0;
}
