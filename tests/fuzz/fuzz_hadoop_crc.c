/*
 * fuzz_hadoop_crc.c - the Hadoop .crc sidecar checker
 * (lib/codec/codec_hadoopcrc.c).  Input: a 2-byte big-endian split
 * point s, then the data file (s bytes, clamped) and the sidecar (the
 * rest).  Also exercises the sidecar name helpers on the input as a
 * name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_hadoopcrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_hcrc_result res;
	struct ckpt_error err = { 0 };
	char name[300], out[300];
	size_t split;

	if (size < 2)
		return 0;
	split = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (split > size)
		split = size;
	ckpt_hcrc_check_mem(data, split, data + split, size - split, &res,
		&err);
	if (size < sizeof(name)) {
		memcpy(name, data, size);
		name[size] = '\0';
		ckpt_hcrc_sidecar_target(name, out, sizeof(out));
		memset(&err, 0, sizeof(err));
		ckpt_hcrc_sidecar_name(name, out, sizeof(out), &err);
	}
	return 0;
}
