/*
 * test_ksort.c - the engine's checkpoint key sort (engine_ksort.c) and
 * the one-pass dirty walk of its tables (eng_table_take_dirty), white
 * box through lib/engine/engine.h.
 *
 * The sort is checked against qsort with the state files' order
 * (memcmp of the encoded keys, then the shorter first) on keys built
 * to hit its edges: empty keys, keys that are prefixes of others, keys
 * sharing their first 8 or 20 bytes, NUL and 0xff bytes, sizes on both
 * sides of the radix cut-over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "codec/codec.h"
#include "engine/engine.h"

static uint64_t
xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static const uint8_t *ref_base;

static int
ref_cmp(const void *a, const void *b)
{
	const struct eng_kitem *x = a, *y = b;
	struct eng_khdr hx, hy;
	size_t n;
	int c;

	memcpy(&hx, ref_base + x->off, sizeof(hx));
	memcpy(&hy, ref_base + y->off, sizeof(hy));
	n = hx.klen < hy.klen ? hx.klen : hy.klen;
	c = memcmp(eng_kitem_key(ref_base, x), eng_kitem_key(ref_base, y), n);
	if (c != 0)
		return c;
	return (hx.klen > hy.klen) - (hx.klen < hy.klen);
}

/* n keys of one of several shapes into an arena; handles into v. */
static uint8_t *
make_keys(struct eng_kitem *v, size_t n, uint64_t seed)
{
	size_t cap = n * 64 + 64, len = 0;
	uint8_t *a = malloc(cap);
	char key[48];

	if (a == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint64_t r = xs(&seed);
		size_t kl = 0;
		struct eng_khdr h;

		switch (r % 6) {
		case 0:		/* short words, many repeats of a prefix */
			kl = (size_t)snprintf(key, sizeof(key), "w%u",
			    (unsigned)(xs(&seed) % 3000));
			break;
		case 1:		/* share 20 bytes, differ after */
			memcpy(key, "common-prefix-20byte", 20);
			kl = 20 + (size_t)(xs(&seed) % 8);
			for (size_t j = 20; j < kl; j++)
				key[j] = (char)('a' + xs(&seed) % 3);
			break;
		case 2:		/* binary, NUL and 0xff included */
			kl = (size_t)(xs(&seed) % 12);
			for (size_t j = 0; j < kl; j++)
				key[j] = (char)(xs(&seed) % 3 == 0 ? 0 :
				    xs(&seed) % 2 ? 0xff : xs(&seed));
			break;
		case 3:		/* the empty key */
			kl = 0;
			break;
		case 4:		/* exactly 7, 8 or 9 bytes: the cut */
			kl = 7 + (size_t)(xs(&seed) % 3);
			memset(key, 'k', kl);
			key[kl - 1] = (char)('a' + xs(&seed) % 4);
			break;
		default:	/* long random */
			kl = 10 + (size_t)(xs(&seed) % 30);
			for (size_t j = 0; j < kl; j++)
				key[j] = (char)('a' + xs(&seed) % 26);
			break;
		}
		h.klen = (uint32_t)ckpt_enc_string_at(a + len + sizeof(h), key,
		    kl);
		h.vlen = ENG_KTOMB;
		memcpy(a + len, &h, sizeof(h));
		memset(a + len + sizeof(h) + h.klen, 0, 8);	/* padding */
		v[i].off = len;
		v[i].pfx = eng_key_prefix(a + len + sizeof(h));
		len += sizeof(h) + h.klen;
	}
	return a;
}

DEFINE_TEST(test_ksort_matches_qsort)
{
	static const size_t sizes[] = { 0, 1, 2, 5, 15, 16, 63, 64, 65, 1000,
	    30000 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		struct eng_kitem *v = calloc(2 * n + 1, sizeof(*v));
		struct eng_kitem *ref = calloc(n + 1, sizeof(*ref));
		uint8_t *a;
		int bad = 0;

		if (v == NULL || ref == NULL)
			abort();
		a = make_keys(v, n, 0x9e3779b97f4a7c15ULL + n);
		memcpy(ref, v, n * sizeof(*v));
		eng_ksort(v, v + n, n, a);
		ref_base = a;
		qsort(ref, n, sizeof(*ref), ref_cmp);
		for (size_t i = 0; i < n; i++)	/* equal keys: same order */
			if (ref_cmp(&v[i], &ref[i]) != 0)
				bad++;
		for (size_t i = 1; i < n; i++)
			if (ref_cmp(&v[i - 1], &v[i]) > 0)
				bad++;
		CHECK_EQ_INT(bad, 0);
		free(a);
		free(v);
		free(ref);
	}
}

DEFINE_TEST(test_ksort_prefix_orders_like_memcmp)
{
	/* prefixes of encoded strings: tag left out, zero-padded */
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	ckpt_enc_string_at(a, "ab", 2);
	ckpt_enc_string_at(b, "ab\0", 3);
	CHECK(eng_key_prefix(a) < eng_key_prefix(b));
	/* the 8 bytes: the length byte and 7 key bytes */
	ckpt_enc_string_at(a, "abcdefg", 7);
	ckpt_enc_string_at(b, "abcdefz", 7);
	CHECK(eng_key_prefix(a) < eng_key_prefix(b));
	ckpt_enc_string_at(a, "abcdefgh", 8);
	ckpt_enc_string_at(b, "abcdefgz", 8);
	CHECK(eng_key_prefix(a) == eng_key_prefix(b));
	memset(a, 0, sizeof(a));
	ckpt_enc_string_at(a, "", 0);
	CHECK(eng_key_prefix(a) == 0);
	ckpt_enc_string_at(a, "\x01", 1);	/* length 1, then 0x01 */
	CHECK(eng_key_prefix(a) == 0x0101000000000000ULL);
}

DEFINE_TEST(test_ksort_key_encode_matches_codec)
{
	/*
	 * eng_key_encode_at (a capture's fast path: 8-byte loads of short
	 * keys, the prefix from a register) against ckpt_enc_string_at and
	 * eng_key_prefix, for every key length 0..300, random bytes
	 * (NUL and 0xff among them), entries made by the table itself.
	 */
	struct eng_table t;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char key[300];
	uint8_t got[320], want[320];
	int bad = 0;

	eng_table_init(&t);
	for (size_t n = 0; n <= sizeof(key); n++) {
		struct eng_entry *e;
		uint64_t pfx = 0;
		size_t gl, wl;

		for (size_t i = 0; i < n; i++) {
			uint64_t r = xs(&x);

			key[i] = (char)(r % 5 == 0 ? 0 : r % 7 == 0 ? 0xff :
			    (uint8_t)(r >> 8));
		}
		e = eng_table_upsert(&t, key, n, eng_hash(key, n), NULL);
		CHECK(e != NULL);
		if (e == NULL)
			break;
		memset(got, 0xa5, sizeof(got));
		memset(want, 0, sizeof(want));
		gl = eng_key_encode_at(got, e, &pfx);
		wl = ckpt_enc_string_at(want, key, n);
		if (gl != wl || memcmp(got, want, wl) != 0 ||
		    pfx != eng_key_prefix(want))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	eng_table_release(&t, NULL);
}

struct seen {
	struct eng_entry *e[16];
	int n;
};

static int
note(void *arg, struct eng_entry *e)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->e[s->n++] = e;
	return 0;
}

static int
stop_at_second(void *arg, struct eng_entry *e)
{
	int *n = arg;

	(void)e;
	return ++*n == 2 ? 7 : 0;
}

DEFINE_TEST(test_ksort_take_dirty)
{
	struct eng_table t;
	struct eng_entry *e[6];
	struct seen s = { .n = 0 };
	char k[8];
	int n = 0;

	eng_table_init(&t);
	for (int i = 0; i < 6; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		e[i] = eng_table_upsert(&t, k, 2, eng_hash(k, 2), NULL);
		CHECK(e[i] != NULL);
		CHECK_EQ_INT(eng_table_dirty(&t, e[i]), 0);
	}
	eng_table_checkpointed(&t, NULL);	/* all six persisted */
	CHECK_EQ_INT(t.ndirty, 0);
	/* change k1, remove k2 and k4, k5 new then removed before a write */
	CHECK_EQ_INT(eng_table_dirty(&t, e[1]), 0);
	CHECK_EQ_INT(eng_table_delete(&t, e[2], NULL), 0);
	CHECK_EQ_INT(eng_table_delete(&t, e[4], NULL), 0);
	CHECK(eng_table_upsert(&t, "x", 1, eng_hash("x", 1), NULL) != NULL);
	{
		struct eng_entry *x = eng_table_get(&t, "x", 1,
		    eng_hash("x", 1));

		CHECK_EQ_INT(eng_table_dirty(&t, x), 0);
		CHECK_EQ_INT(eng_table_delete(&t, x, NULL), 0);
	}
	CHECK_EQ_INT(t.ndirty, 4);
	CHECK_EQ_INT(eng_table_take_dirty(&t, note, &s), 0);
	CHECK_EQ_INT(s.n, 4);
	CHECK(s.e[0] == e[1] && s.e[1] == e[2] && s.e[2] == e[4]);
	/* live ones checkpointed on the way; the removed ones stay */
	CHECK(!(e[1]->flags & ENG_E_DIRTY));
	CHECK(e[1]->flags & ENG_E_PERSISTED);
	CHECK_EQ_INT(t.ndirty, 3);
	eng_table_checkpointed(&t, NULL);
	CHECK_EQ_INT(t.ndirty, 0);
	CHECK(eng_table_get(&t, "k2", 2, eng_hash("k2", 2)) == NULL);
	CHECK(eng_table_get(&t, "x", 1, eng_hash("x", 1)) == NULL);
	CHECK(eng_table_get(&t, "k1", 2, eng_hash("k1", 2)) == e[1]);
	CHECK_EQ_INT(t.live, 4);
	/* fn's non-zero return stops the walk and is returned */
	CHECK_EQ_INT(eng_table_dirty(&t, e[0]), 0);
	CHECK_EQ_INT(eng_table_dirty(&t, e[3]), 0);
	CHECK_EQ_INT(eng_table_dirty(&t, e[5]), 0);
	CHECK_EQ_INT(eng_table_take_dirty(&t, stop_at_second, &n), 7);
	eng_table_release(&t, NULL);
}
