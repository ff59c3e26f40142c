/*
 * fuzz_spark_commit.c - Spark commit log files (lib/format/fmt_spark.c,
 * docs/spark-checkpoint-format.md section 1.4): "v1" or "v2", then an
 * optional JSON object with nextBatchWatermarkMs.  The input is one
 * whole commits/<N> file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "format/spark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_error err = { 0 };
	int64_t wm;

	if (spark_commit_check("commits/0", (const char *)data, size, &wm,
	    &err) != CKPT_OK && err.msg[0] == '\0')
		abort();
	return 0;
}
