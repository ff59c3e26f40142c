/*
 * engine_ksort.c - sorting the keys a state checkpoint captured.
 *
 * capture() (engine.c) lays each partition's keys out in an arena, one
 * item per key: a struct eng_khdr (lengths), the encoded key, the
 * encoded value.  State files want the keys in ascending order of
 * their encoded bytes (memcmp, then the shorter first), which is what
 * eng_ksort() gives, working on 16-byte handles {8 key bytes
 * big-endian, the item's arena offset}: an LSD radix sort over the
 * prefix bytes that are not the same in every key, then a merge sort
 * of each run of equal prefixes by the whole key.  The 8 bytes are
 * the ones after the first: every key is a string, so the first byte
 * (the value tag) is the same in all of them.
 *
 * The handles are small on purpose: a partition of ~30k keys sorts
 * (handles and scratch) inside one core's L2, instead of streaming
 * tens of megabytes through the cache the engine's tables share while
 * the next batches are computed.
 */
#include <string.h>

#include "engine.h"
#include "../codec/codec.h"

static struct eng_khdr
hdr_at(const uint8_t *base, uint64_t off)
{
	struct eng_khdr h;

	memcpy(&h, base + off, sizeof(h));
	return h;
}

/* The order of state files: key bytes (memcmp), then length. */
static int
kcmp(const struct eng_kitem *x, const struct eng_kitem *y,
    const uint8_t *base)
{
	struct eng_khdr hx, hy;

	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	hx = hdr_at(base, x->off);
	hy = hdr_at(base, y->off);
	return ckpt_key_cmp(eng_kitem_key(base, x), hx.klen,
	    eng_kitem_key(base, y), hy.klen);
}

/* Merge sort of v[0..n) by kcmp; tmp holds n/2 + 1 items. */
static void
msort(struct eng_kitem *v, struct eng_kitem *tmp, size_t n,
    const uint8_t *base)
{
	size_t h = n / 2, i = 0, j, k = 0;

	if (n < 16) {
		for (size_t a = 1; a < n; a++) {
			struct eng_kitem x = v[a];
			size_t b = a;

			while (b > 0 && kcmp(&v[b - 1], &x, base) > 0) {
				v[b] = v[b - 1];
				b--;
			}
			v[b] = x;
		}
		return;
	}
	msort(v, tmp, h, base);
	msort(v + h, tmp, n - h, base);
	if (kcmp(&v[h - 1], &v[h], base) <= 0)
		return;		/* already in order */
	memcpy(tmp, v, h * sizeof(*v));
	j = h;
	while (i < h && j < n)
		v[k++] = kcmp(&v[j], &tmp[i], base) < 0 ? v[j++] : tmp[i++];
	while (i < h)
		v[k++] = tmp[i++];
}

void
eng_ksort(struct eng_kitem *v, struct eng_kitem *tmp, size_t n,
    const uint8_t *base)
{
	struct eng_kitem *a = v, *b = tmp;
	size_t cnt[8][256];
	uint64_t all_or = 0, all_and = ~(uint64_t)0;

	if (n < 64) {
		msort(v, tmp, n, base);
		return;
	}
	memset(cnt, 0, sizeof(cnt));
	for (size_t i = 0; i < n; i++) {
		uint64_t x = v[i].pfx;

		all_or |= x;
		all_and &= x;
		for (int d = 0; d < 8; d++)
			cnt[d][(x >> (8 * d)) & 0xff]++;
	}
	for (int d = 0; d < 8; d++) {
		size_t sum = 0;

		if ((((all_or ^ all_and) >> (8 * d)) & 0xff) == 0)
			continue;	/* one value in every key */
		for (int k = 0; k < 256; k++) {
			size_t c = cnt[d][k];

			cnt[d][k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[d][(a[i].pfx >> (8 * d)) & 0xff]++] = a[i];
		{
			struct eng_kitem *t = a;

			a = b;
			b = t;
		}
	}
	if (a != v)
		memcpy(v, a, n * sizeof(*v));
	/* equal prefixes: the rest of the key decides */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && v[j].pfx == v[i].pfx)
			j++;
		if (j - i > 1)
			msort(v + i, tmp, j - i, base);
		i = j;
	}
}
