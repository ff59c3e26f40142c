/*
 * test_codec.c - checksums, zstd blocks and varints (lib/codec/codec.h).
 * White-box: includes the private header, as codec users in lib/ do.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zlib.h>

#include "unit.h"
#include "codec/codec.h"

DEFINE_TEST(test_codec_crc32c_vectors)
{
	static const uint8_t zeros[32], ones[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t inc[32];
	const char *s = "123456789";
	uint32_t c;

	CHECK_EQ_INT(ckpt_crc32c(0, s, 9), 0xE3069283u);
	/* incremental equals one shot */
	c = ckpt_crc32c(0, s, 4);
	c = ckpt_crc32c(c, s + 4, 5);
	CHECK_EQ_INT(c, 0xE3069283u);
	CHECK_EQ_INT(ckpt_crc32c(0, s, 0), 0);
	/* RFC 3720 (iSCSI) B.4 vectors */
	CHECK_EQ_INT(ckpt_crc32c(0, zeros, 32), 0x8A9136AAu);
	CHECK_EQ_INT(ckpt_crc32c(0, ones, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	CHECK_EQ_INT(ckpt_crc32c(0, inc, 32), 0x46DD794Eu);
}

DEFINE_TEST(test_codec_crc32_zlib)
{
	const char *s = "123456789";
	uint32_t c;

	CHECK_EQ_INT(ckpt_crc32(0, s, 9), 0xCBF43926u);
	c = ckpt_crc32(0, s, 2);
	CHECK_EQ_INT(ckpt_crc32(c, s + 2, 7), 0xCBF43926u);
	CHECK_EQ_INT(ckpt_crc32(0, s, 9), crc32(0, (const Bytef *)s, 9));
}

DEFINE_TEST(test_codec_xxhash)
{
	static uint8_t data[100000];
	struct ckpt_xxh3 *h;
	struct ckpt_xxh32 *h32;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);
	CHECK(ckpt_xxh3_64(data, sizeof(data)) ==
	    XXH3_64bits(data, sizeof(data)));
	/* XXH3-64 of the empty input, seed 0 (xxhash's own test vector) */
	CHECK(ckpt_xxh3_64("", 0) == 0x2D06800538D394C2ULL);
	h = ckpt_xxh3_new();
	CHECK(h != NULL);
	if (h != NULL) {
		ckpt_xxh3_update(h, data, 1);
		ckpt_xxh3_update(h, data + 1, 0);
		ckpt_xxh3_update(h, data + 1, 4999);
		ckpt_xxh3_update(h, data + 5000, sizeof(data) - 5000);
		CHECK(ckpt_xxh3_digest(h) == XXH3_64bits(data, sizeof(data)));
		/* digest does not consume the state */
		CHECK(ckpt_xxh3_digest(h) == XXH3_64bits(data, sizeof(data)));
		ckpt_xxh3_reset(h);
		ckpt_xxh3_update(h, "abc", 3);
		CHECK(ckpt_xxh3_digest(h) == ckpt_xxh3_64("abc", 3));
		ckpt_xxh3_free(h);
	}
	ckpt_xxh3_free(NULL);
	CHECK_EQ_INT(ckpt_xxh32(data, 1000, CKPT_LZ4_JAVA_SEED),
	    XXH32(data, 1000, 0x9747B28Cu));
	CHECK(ckpt_xxh32(data, 1000, CKPT_LZ4_JAVA_SEED) !=
	    ckpt_xxh32(data, 1000, 0));
	/* XXH32 of the empty input, seed 0 */
	CHECK_EQ_INT(ckpt_xxh32("", 0, 0), 0x02CC5D05u);
	h32 = ckpt_xxh32_new(CKPT_LZ4_JAVA_SEED);
	CHECK(h32 != NULL);
	if (h32 != NULL) {
		ckpt_xxh32_update(h32, data, 333);
		ckpt_xxh32_update(h32, data + 333, 667);
		CHECK_EQ_INT(ckpt_xxh32_digest(h32),
		    XXH32(data, 1000, 0x9747B28Cu));
		ckpt_xxh32_free(h32);
	}
	ckpt_xxh32_free(NULL);
}

DEFINE_TEST(test_codec_zstd_roundtrip)
{
	static uint8_t src[200000], back[200000];
	uint8_t *dst;
	size_t bound, n, got;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)((i % 97) ^ (i / 1000));
	bound = ckpt_zstd_bound(sizeof(src));
	CHECK(bound >= sizeof(src));
	dst = malloc(bound);
	CHECK_EQ_INT(ckpt_zstd_compress(dst, bound, src, sizeof(src), 3, &n),
	    0);
	CHECK(n > 0 && n < sizeof(src));
	CHECK_EQ_INT(ckpt_zstd_decompress(back, sizeof(back), dst, n, &got),
	    0);
	CHECK_EQ_INT(got, sizeof(src));
	CHECK(memcmp(src, back, sizeof(src)) == 0);
	/* level 0 means the default; an absurd level fails */
	CHECK_EQ_INT(ckpt_zstd_compress(dst, bound, src, sizeof(src), 0, &n),
	    0);
	CHECK_EQ_INT(ckpt_zstd_compress(dst, bound, src, sizeof(src), 99,
	    &n), -1);
	/* a destination too small to compress into fails */
	CHECK_EQ_INT(ckpt_zstd_compress(dst, 10, src, sizeof(src), 3, &n),
	    -1);
	/* an empty block round-trips */
	CHECK_EQ_INT(ckpt_zstd_compress(dst, bound, src, 0, 3, &n), 0);
	CHECK_EQ_INT(ckpt_zstd_decompress(back, 0, dst, n, &got), 0);
	CHECK_EQ_INT(got, 0);
	free(dst);
}

DEFINE_TEST(test_codec_zstd_errors)
{
	static uint8_t src[50000], back[60000];
	uint8_t *dst, junk[4096];
	size_t bound, n, got;
	char why[128];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i % 251);
	bound = ckpt_zstd_bound(sizeof(src));
	dst = malloc(bound);
	CHECK_EQ_INT(ckpt_zstd_compress(dst, bound, src, sizeof(src), 3, &n),
	    0);
	/* expected size too small: refused before writing past it */
	CHECK_EQ_INT(ckpt_zstd_decompress_why(back, sizeof(src) - 1, dst, n,
	    &got, why, sizeof(why)), -1);
	CHECK(strstr(why, "larger") != NULL);
	/* expected size too large */
	CHECK_EQ_INT(ckpt_zstd_decompress_why(back, sizeof(src) + 10, dst, n,
	    &got, why, sizeof(why)), -1);
	CHECK(strstr(why, "smaller") != NULL);
	/* every truncation fails cleanly */
	for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : 97))
		if (ckpt_zstd_decompress(back, sizeof(src), dst, cut, &got) ==
		    0) {
			unit_failures++;
			fprintf(stderr, "  truncated to %zu decoded\n", cut);
		}
	/* flipped bytes never crash (and mostly fail) */
	for (size_t i = 0; i < n; i += 7) {
		dst[i] ^= 0x5a;
		(void)ckpt_zstd_decompress(back, sizeof(src), dst, n, &got);
		CHECK(got <= sizeof(src));
		dst[i] ^= 0x5a;
	}
	/* garbage */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	CHECK_EQ_INT(ckpt_zstd_decompress_why(back, sizeof(back), junk,
	    sizeof(junk), &got, why, sizeof(why)), -1);
	CHECK(why[0] != '\0');
	CHECK_EQ_INT(ckpt_zstd_decompress(back, sizeof(back), junk, 0, &got),
	    -1);
	/* a block bigger than the hard cap is refused outright */
	CHECK_EQ_INT(ckpt_zstd_decompress_why(back, CKPT_ZSTD_MAX_BLOCK + 1,
	    dst, n, &got, why, sizeof(why)), -1);
	CHECK(strstr(why, "cap") != NULL);
	free(dst);
}

DEFINE_TEST(test_codec_varint_roundtrip)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 255, 300, 16383,
		16384, 0xFFFFFFFFull, 0x100000000ull, 0x7FFFFFFFFFFFFFFFull,
		0xFFFFFFFFFFFFFFFFull };
	static const int64_t svals[] = { 0, 1, -1, 63, -64, 64, -65,
		INT64_MAX, INT64_MIN, 1700000000000LL, -1700000000000LL };
	struct ckpt_buf b = {0};
	uint8_t tmp[CKPT_VARINT_MAX];
	uint64_t v;
	int64_t sv;
	size_t used, off = 0;

	CHECK_EQ_INT(ckpt_varint_encode(tmp, 0), 1);
	CHECK_EQ_INT(ckpt_varint_encode(tmp, 300), 2);
	CHECK(tmp[0] == 0xAC && tmp[1] == 0x02);
	CHECK_EQ_INT(ckpt_varint_encode(tmp, UINT64_MAX), 10);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		CHECK_EQ_INT(ckpt_varint_put(&b, vals[i]), 0);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		CHECK_EQ_INT(ckpt_varint_get(b.data + off, b.len - off, &v,
		    &used), 0);
		CHECK(v == vals[i]);
		off += used;
	}
	CHECK_EQ_INT(off, b.len);
	b.len = 0;
	off = 0;
	for (size_t i = 0; i < sizeof(svals) / sizeof(svals[0]); i++)
		CHECK_EQ_INT(ckpt_svarint_put(&b, svals[i]), 0);
	for (size_t i = 0; i < sizeof(svals) / sizeof(svals[0]); i++) {
		CHECK_EQ_INT(ckpt_svarint_get(b.data + off, b.len - off, &sv,
		    &used), 0);
		CHECK(sv == svals[i]);
		off += used;
	}
	CHECK(ckpt_zigzag(0) == 0 && ckpt_zigzag(-1) == 1 &&
	    ckpt_zigzag(1) == 2 && ckpt_zigzag(-2) == 3);
	CHECK(ckpt_zigzag(INT64_MIN) == UINT64_MAX);
	CHECK(ckpt_unzigzag(UINT64_MAX) == INT64_MIN);
	ckpt_buf_release(&b);
}

DEFINE_TEST(test_codec_varint_errors)
{
	static const uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t big10[10] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0x02 };
	static const uint8_t max10[10] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
	static const uint8_t cont[3] = { 0x80, 0x81, 0xFF };
	static const uint8_t overlong[2] = { 0x80, 0x00 };
	uint64_t v = 42;
	size_t used = 42;
	int64_t sv;

	CHECK_EQ_INT(ckpt_varint_get(eleven, sizeof(eleven), &v, &used),
	    CKPT_VARINT_OVERFLOW);
	CHECK_EQ_INT(ckpt_varint_get(big10, sizeof(big10), &v, &used),
	    CKPT_VARINT_OVERFLOW);
	CHECK_EQ_INT(ckpt_varint_get(max10, sizeof(max10), &v, &used), 0);
	CHECK(v == UINT64_MAX && used == 10);
	CHECK_EQ_INT(ckpt_varint_get(cont, sizeof(cont), &v, &used),
	    CKPT_VARINT_TRUNCATED);
	CHECK_EQ_INT(ckpt_varint_get(cont, 0, &v, &used),
	    CKPT_VARINT_TRUNCATED);
	CHECK_EQ_INT(ckpt_varint_get(max10, 9, &v, &used),
	    CKPT_VARINT_TRUNCATED);
	CHECK_EQ_INT(ckpt_svarint_get(big10, sizeof(big10), &sv, &used),
	    CKPT_VARINT_OVERFLOW);
	CHECK_EQ_INT(ckpt_varint_get(overlong, 2, &v, &used), 0);
	CHECK(v == 0 && used == 2);
}
