/*
 * codec_varint.c - LEB128 unsigned varints and zigzag signed varints.
 *
 * Seven bits per byte, low group first, high bit set on every byte but
 * the last (protobuf's encoding).  Decoding is bounded by the given
 * length and by 10 bytes, and rejects bits beyond 64.  Overlong but
 * in-range encodings (0x80 0x00) decode; the encoder never makes them.
 */
#include "codec.h"

size_t
ckpt_varint_encode(uint8_t *out, uint64_t v)
{
	return ckpt_varint_encode_in(out, v);
}

int
ckpt_varint_put(struct ckpt_buf *b, uint64_t v)
{
	uint8_t tmp[CKPT_VARINT_MAX];

	return ckpt_buf_append(b, tmp, ckpt_varint_encode(tmp, v));
}

int
ckpt_varint_get(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len && i < CKPT_VARINT_MAX; i++) {
		uint8_t c = p[i];

		if (i == CKPT_VARINT_MAX - 1 && c > 1)
			return CKPT_VARINT_OVERFLOW;
		r |= (uint64_t)(c & 0x7f) << (7 * i);
		if ((c & 0x80) == 0) {
			*v = r;
			*used = i + 1;
			return 0;
		}
	}
	return i == CKPT_VARINT_MAX ? CKPT_VARINT_OVERFLOW :
	    CKPT_VARINT_TRUNCATED;
}

int64_t
ckpt_unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int
ckpt_svarint_put(struct ckpt_buf *b, int64_t v)
{
	return ckpt_varint_put(b, ckpt_zigzag(v));
}

int
ckpt_svarint_get(const uint8_t *p, size_t len, int64_t *v, size_t *used)
{
	uint64_t u;
	int rc = ckpt_varint_get(p, len, &u, used);

	if (rc == 0)
		*v = ckpt_unzigzag(u);
	return rc;
}
