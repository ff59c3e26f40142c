/*
 * fuzz_dstream_wal.c - DStream write-ahead log segments
 * (lib/format/fmt_dstream_files.c): record framing (int32 BE length +
 * payload, a cut last record, negative lengths) and the Java walk of
 * each record (batched byte[][] of block-tracker events, or one event).
 */
#include <stdint.h>
#include <string.h>

#include "format/dstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_dstream_log l;
	struct ckpt_error err = { 0 };

	dstream_wal_scan_mem(data, size, "receivedBlockMetadata/log-1-2", 1,
		&l, &err);
	memset(&err, 0, sizeof(err));
	dstream_wal_scan_mem(data, size, "log-x", 0, &l, &err);
	return 0;
}
