/*
 * codec.h - checksums, zstd blocks and varints (private to lib/).
 *
 * Thin, allocation-free wrappers (except the streaming hash states)
 * over libxxhash, libzstd and zlib, plus a software CRC-32C and LEB128
 * varints.  Every decoder is bounded by the length it is given and
 * fails (returns non-zero) on garbage instead of crashing; none of them
 * sets a struct ckpt_error, since only the caller knows the file and
 * offset to name.  Other codecs (lz4, UnsafeRow, ...) have their own
 * headers.
 */
#ifndef CKPT_CODEC_H
#define CKPT_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../ckpt.h"

/* ---- hashes and checksums (codec_hash.c) ---- */

/* XXH3-64 with seed 0, one shot. */
uint64_t ckpt_xxh3_64(const void *p, size_t n);

/* Streaming XXH3-64 (seed 0).  new returns NULL on ENOMEM. */
struct ckpt_xxh3;
struct ckpt_xxh3 *ckpt_xxh3_new(void);
void ckpt_xxh3_reset(struct ckpt_xxh3 *h);
void ckpt_xxh3_update(struct ckpt_xxh3 *h, const void *p, size_t n);
/* The hash of everything so far; h stays usable. */
uint64_t ckpt_xxh3_digest(const struct ckpt_xxh3 *h);
void ckpt_xxh3_free(struct ckpt_xxh3 *h);

/* XXH32, one shot and streaming (lz4-java uses seed 0x9747B28C). */
#define CKPT_LZ4_JAVA_SEED 0x9747B28Cu
uint32_t ckpt_xxh32(const void *p, size_t n, uint32_t seed);
struct ckpt_xxh32;
struct ckpt_xxh32 *ckpt_xxh32_new(uint32_t seed);
void ckpt_xxh32_update(struct ckpt_xxh32 *h, const void *p, size_t n);
uint32_t ckpt_xxh32_digest(const struct ckpt_xxh32 *h);
void ckpt_xxh32_free(struct ckpt_xxh32 *h);

/*
 * CRC-32C (Castagnoli, reflected 0x82F63B78) and CRC-32 (zlib's, IEEE),
 * zlib-style: start with crc 0, feed pieces, the result is final
 * ("123456789" gives 0xE3069283 and 0xCBF43926).
 */
uint32_t ckpt_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t ckpt_crc32(uint32_t crc, const void *p, size_t n);

/* ---- zstd blocks (codec_zstd.c) ---- */

/* The largest block ckpt_zstd_decompress accepts (a hard cap). */
#define CKPT_ZSTD_MAX_BLOCK ((size_t)256 << 20)

/* Worst-case compressed size of n bytes (0 if n is absurd). */
size_t ckpt_zstd_bound(size_t n);
/*
 * Compresses src[0..n) into dst[0..cap) at level (1..19; 0 = default),
 * *out its size.  0, or -1 (dst too small, bad level, ENOMEM).
 */
int ckpt_zstd_compress(void *dst, size_t cap, const void *src, size_t n,
    int level, size_t *out);
/*
 * Decompresses one or more zstd frames that must yield exactly
 * `expected` bytes (at most CKPT_ZSTD_MAX_BLOCK) into dst, which holds
 * `expected` bytes.  *out is the size produced.  0 on success; -1 on
 * truncated or corrupt data, a size other than expected, or a frame
 * header announcing more than expected (nothing is over-allocated:
 * the only buffer written is dst).  why, if non-NULL, gets a short
 * lowercase reason.
 */
int ckpt_zstd_decompress(void *dst, size_t expected, const void *src,
    size_t n, size_t *out);
int ckpt_zstd_decompress_why(void *dst, size_t expected, const void *src,
    size_t n, size_t *out, char *why, size_t whylen);

/*
 * Reusable contexts: one per writer or reader, so that each block does
 * not build (and zero) a zstd context of its own.  The two calls below
 * behave exactly as the ones above (same bytes out, same checks); z may
 * be NULL (a context per call).  new returns NULL when out of memory;
 * the contexts themselves are made on first use.
 */
struct ckpt_zstd;
struct ckpt_zstd *ckpt_zstd_new(void);
void ckpt_zstd_free(struct ckpt_zstd *z);
int ckpt_zstd_compress_z(struct ckpt_zstd *z, void *dst, size_t cap,
    const void *src, size_t n, int level, size_t *out);
int ckpt_zstd_decompress_z(struct ckpt_zstd *z, void *dst, size_t expected,
    const void *src, size_t n, size_t *out, char *why, size_t whylen);

/* ---- LEB128 varints (codec_varint.c) ---- */

#define CKPT_VARINT_MAX 10	/* bytes of the longest u64 varint */
#define CKPT_VARINT_TRUNCATED (-1)	/* input ended inside a varint */
#define CKPT_VARINT_OVERFLOW (-2)	/* more than 64 bits */

/* Encodes v into out (CKPT_VARINT_MAX bytes); returns the length. */
size_t ckpt_varint_encode(uint8_t *out, uint64_t v);
/* Appends v to b: 0, or -1 on allocation failure. */
int ckpt_varint_put(struct ckpt_buf *b, uint64_t v);
/*
 * Decodes one varint from p[0..len): 0 with *v and *used (bytes
 * consumed), or CKPT_VARINT_TRUNCATED / CKPT_VARINT_OVERFLOW.
 */
int ckpt_varint_get(const uint8_t *p, size_t len, uint64_t *v,
    size_t *used);

/*
 * The order of keys in state files, merges and diffs: bytewise
 * (memcmp), the shorter first when one is a prefix of the other.
 * Sign only.  Eight bytes a step: keys are short and compared per
 * record, where a memcmp call costs more than the compare.
 */
static inline int
ckpt_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn, i = 0;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return __builtin_bswap64(x) < __builtin_bswap64(y) ?
			    -1 : 1;
	}
#endif
	for (; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return (an > bn) - (an < bn);
}

/* Zigzag maps signed to unsigned so small magnitudes stay short. */
static inline uint64_t
ckpt_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)-(int64_t)((uint64_t)v >> 63);
}

/* ckpt_varint_encode, inline for the loops that encode per key. */
static inline size_t
ckpt_varint_encode_in(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/*
 * Writes the value encoding of string s (what ckpt_enc_string appends)
 * to dst, which has room for CKPT_ENC_STRING_MAX(n) bytes; returns the
 * bytes written.  For loops that reserve once per item (a checkpoint's
 * capture): inline, short strings copied without a call.
 */
#define CKPT_ENC_STRING_MAX(n) (1 + CKPT_VARINT_MAX + (n))
static inline size_t
ckpt_enc_string_at(uint8_t *dst, const char *s, size_t n)
{
	size_t h = 1 + ckpt_varint_encode_in(dst + 1, n);

	dst[0] = CKPT_T_STRING;
	if (n > 16)
		memcpy(dst + h, s, n);
	else
		for (size_t i = 0; i < n; i++)
			dst[h + i] = (uint8_t)s[i];
	return h + n;
}
/* The same for ckpt_enc_int64: at most CKPT_ENC_INT64_MAX bytes. */
#define CKPT_ENC_INT64_MAX (1 + CKPT_VARINT_MAX)
static inline size_t
ckpt_enc_int64_at(uint8_t *dst, int64_t v)
{
	dst[0] = CKPT_T_INT64;
	return 1 + ckpt_varint_encode_in(dst + 1, ckpt_zigzag(v));
}

/* Inverse of ckpt_zigzag; zigzag varints. */
int64_t ckpt_unzigzag(uint64_t u);
int ckpt_svarint_put(struct ckpt_buf *b, int64_t v);
int ckpt_svarint_get(const uint8_t *p, size_t len, int64_t *v,
    size_t *used);

#endif /* CKPT_CODEC_H */
