/*
 * codec_hash.c - XXH3-64 and XXH32 over libxxhash (one shot and
 * streaming), CRC-32C in software, CRC-32 through zlib.
 *
 * CRC-32C is the byte-wise table algorithm; the table is a static const
 * built by the preprocessor (a table filled on first use would be a
 * mutable global).  No hardware CRC instructions: portability first.
 */
#include <limits.h>
#include <stdlib.h>
#include <xxhash.h>
#include <zlib.h>

#include "codec.h"

uint64_t
ckpt_xxh3_64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

struct ckpt_xxh3 {
	XXH3_state_t *s;
};

struct ckpt_xxh3 *
ckpt_xxh3_new(void)
{
	struct ckpt_xxh3 *h = malloc(sizeof(*h));

	if (h == NULL)
		return NULL;
	h->s = XXH3_createState();
	if (h->s == NULL) {
		free(h);
		return NULL;
	}
	XXH3_64bits_reset(h->s);
	return h;
}

void
ckpt_xxh3_reset(struct ckpt_xxh3 *h)
{
	XXH3_64bits_reset(h->s);
}

void
ckpt_xxh3_update(struct ckpt_xxh3 *h, const void *p, size_t n)
{
	if (n > 0)
		XXH3_64bits_update(h->s, p, n);
}

uint64_t
ckpt_xxh3_digest(const struct ckpt_xxh3 *h)
{
	return XXH3_64bits_digest(h->s);
}

void
ckpt_xxh3_free(struct ckpt_xxh3 *h)
{
	if (h == NULL)
		return;
	XXH3_freeState(h->s);
	free(h);
}

uint32_t
ckpt_xxh32(const void *p, size_t n, uint32_t seed)
{
	return XXH32(p, n, seed);
}

struct ckpt_xxh32 {
	XXH32_state_t *s;
};

struct ckpt_xxh32 *
ckpt_xxh32_new(uint32_t seed)
{
	struct ckpt_xxh32 *h = malloc(sizeof(*h));

	if (h == NULL)
		return NULL;
	h->s = XXH32_createState();
	if (h->s == NULL) {
		free(h);
		return NULL;
	}
	XXH32_reset(h->s, seed);
	return h;
}

void
ckpt_xxh32_update(struct ckpt_xxh32 *h, const void *p, size_t n)
{
	if (n > 0)
		XXH32_update(h->s, p, n);
}

uint32_t
ckpt_xxh32_digest(const struct ckpt_xxh32 *h)
{
	return XXH32_digest(h->s);
}

void
ckpt_xxh32_free(struct ckpt_xxh32 *h)
{
	if (h == NULL)
		return;
	XXH32_freeState(h->s);
	free(h);
}

/*
 * CRC-32C table, reflected polynomial 0x82F63B78, built by the
 * preprocessor: entry i is eight shift-and-xor steps of i.
 */
#define P 0x82F63B78u
#define S1(c) (((c) & 1) ? ((c) >> 1) ^ P : (c) >> 1)
#define S8(c) S1(S1(S1(S1(S1(S1(S1(S1(c))))))))
#define R1(i) S8((uint32_t)(i))
#define R4(i) R1(i), R1((i) + 1), R1((i) + 2), R1((i) + 3)
#define R16(i) R4(i), R4((i) + 4), R4((i) + 8), R4((i) + 12)
#define R64(i) R16(i), R16((i) + 16), R16((i) + 32), R16((i) + 48)

static const uint32_t crc32c_table[256] = {
	R64(0), R64(64), R64(128), R64(192)
};

#undef P
#undef S1
#undef S8
#undef R1
#undef R4
#undef R16
#undef R64

uint32_t
ckpt_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (n-- > 0)
		crc = crc32c_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t
ckpt_crc32(uint32_t crc, const void *p, size_t n)
{
	const Bytef *b = p;
	uLong c = crc;

	while (n > 0) {
		uInt k = n > UINT_MAX ? UINT_MAX : (uInt)n;

		c = crc32(c, b, k);
		b += k;
		n -= k;
	}
	return (uint32_t)c;
}
