/*
 * fuzz_lz4block.c - lz4-java LZ4Block framing and the state store
 * record stream on top (lib/codec/codec_lz4.c,
 * docs/spark-checkpoint-format.md sections 2.2-2.3).  The input is one
 * whole .delta / .snapshot file: it is read once as records (deletes
 * allowed when the first byte is even) and once block by block.
 */
#include <stdint.h>
#include <stdlib.h>

#include "codec/spark_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_error err = { 0 };
	struct spark_rec_reader r;
	struct spark_lz4_block b;
	struct spark_membuf m = { data, size, 0 };
	struct spark_rec rec;
	struct spark_lz4 z;
	int rc, del = size > 0 && data[0] % 2 == 0;

	spark_rec_init(&r, spark_membuf_read, &m, "1.delta");
	while ((rc = spark_rec_next(&r, del, &rec, &err)) == CKPT_OK)
		if (rec.key_len > size * 256 + 64)
			abort();	/* more than the input could hold */
	if (rc != CKPT_EOF && err.msg[0] == '\0')
		abort();
	spark_rec_release(&r);

	m.pos = 0;
	spark_lz4_init(&z, spark_membuf_read, &m, "1.delta");
	while (spark_lz4_next_block(&z, &b, &err) == CKPT_OK)
		if (b.olen > (1u << (10 + b.level)))
			abort();
	spark_lz4_release(&z);
	return 0;
}
