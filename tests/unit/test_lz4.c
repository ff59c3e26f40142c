/*
 * test_lz4.c - lz4-java LZ4Block framing and the state record stream
 * (lib/codec/codec_lz4.c, white-box through spark_codec.h), on streams
 * built here as lz4-java writes them (docs/spark-checkpoint-format.md
 * section 2.2-2.3): raw and compressed blocks, the end block, the masked
 * XXH32, and every way a stream can be cut or bent.
 */
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <xxhash.h>

#include "unit.h"
#include "codec/spark_codec.h"

static size_t
put_block(uint8_t *out, const uint8_t *data, size_t n, int compress)
{
	static const uint8_t none[1];
	uint32_t sum;
	int clen = (int)n;
	uint8_t *h = out;
	int i;

	if (!data)
		data = none;
	sum = XXH32(data, n, SPARK_LZ4_SEED) & 0x0FFFFFFFu;
	memcpy(h, "LZ4Block", 8);
	if (compress) {
		clen = LZ4_compress_default((const char *)data,
			(char *)out + 21, (int)n, LZ4_compressBound((int)n));
		h[8] = 0x25;
	} else {
		memcpy(out + 21, data, n);
		h[8] = 0x15;
	}
	for (i = 0; i < 4; i++) {
		h[9 + i] = (uint8_t)(clen >> (8 * i));
		h[13 + i] = (uint8_t)(n >> (8 * i));
		h[17 + i] = (uint8_t)(sum >> (8 * i));
	}
	if (n == 0)
		memset(h + 17, 0, 4);
	return 21 + (size_t)clen;
}

static size_t
be32(uint8_t *p, int32_t v)
{
	p[0] = (uint8_t)((uint32_t)v >> 24);
	p[1] = (uint8_t)((uint32_t)v >> 16);
	p[2] = (uint8_t)((uint32_t)v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* A record stream: put "key"->"value-bytes", delete "gone", end. */
static size_t
records(uint8_t *p)
{
	size_t n = 0;

	n += be32(p + n, 3);
	memcpy(p + n, "key", 3);
	n += 3;
	n += be32(p + n, 11);
	memcpy(p + n, "value-bytes", 11);
	n += 11;
	n += be32(p + n, 4);
	memcpy(p + n, "gone", 4);
	n += 4;
	n += be32(p + n, -1);
	n += be32(p + n, -1);
	return n;
}

static int
read_all(const uint8_t *s, size_t n, uint8_t *out, size_t *got,
	struct ckpt_error *err)
{
	struct spark_membuf m = { s, n, 0 };
	struct spark_lz4 z;
	int rc;

	spark_lz4_init(&z, spark_membuf_read, &m, "t");
	rc = spark_lz4_read(&z, out, 1 << 20, got, err);
	spark_lz4_release(&z);
	return rc;
}

DEFINE_TEST(test_lz4_blocks)
{
	struct ckpt_error err = { 0 };
	static uint8_t data[70000], stream[80000], out[1 << 20];
	size_t n = 0, got, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i % 251 < 100 ? 'a' : i);
	n += put_block(stream + n, data, 32768, 1);
	n += put_block(stream + n, data + 32768, 32768, 0);
	n += put_block(stream + n, data + 65536, sizeof(data) - 65536, 1);
	n += put_block(stream + n, NULL, 0, 0);
	CHECK_OK(read_all(stream, n, out, &got, &err));
	CHECK_EQ_INT(got, sizeof(data));
	CHECK(memcmp(out, data, sizeof(data)) == 0);

	/* a bad checksum is CKPT_E_CHECKSUM naming the block offset */
	stream[17] ^= 1;
	CHECK_FAILS(read_all(stream, n, out, &got, &err), CKPT_E_CHECKSUM);
	CHECK(strstr(err.msg, "offset 0") != NULL);
	stream[17] ^= 1;
	/* no end block */
	CHECK_FAILS(read_all(stream, n - 21, out, &got, &err),
		CKPT_E_FORMAT);
	/* every truncation fails, none crashes */
	for (i = 1; i < n; i += 97)
		CHECK(read_all(stream, i, out, &got, &err) != CKPT_OK);
	/* bad magic, unknown method, length above the level's block */
	stream[0] = 'X';
	CHECK_FAILS(read_all(stream, n, out, &got, &err), CKPT_E_FORMAT);
	stream[0] = 'L';
	stream[8] = 0x35;
	CHECK_FAILS(read_all(stream, n, out, &got, &err), CKPT_E_FORMAT);
	stream[8] = 0x20;	/* level 0: 1 KiB blocks */
	CHECK_FAILS(read_all(stream, n, out, &got, &err), CKPT_E_FORMAT);
	stream[8] = 0x25;
	/* a concatenated second stream is read on */
	memcpy(stream + n, stream, n);
	CHECK_OK(read_all(stream, 2 * n, out, &got, &err));
	CHECK_EQ_INT(got, 2 * sizeof(data));
}

DEFINE_TEST(test_lz4_records)
{
	struct ckpt_error err = { 0 };
	struct spark_rec_reader r;
	struct spark_membuf m;
	struct spark_rec rec;
	uint8_t raw[128], stream[512];
	size_t rn, n;

	rn = records(raw);
	n = put_block(stream, raw, rn, 0);
	n += put_block(stream + n, NULL, 0, 0);
	m = (struct spark_membuf){ stream, n, 0 };
	spark_rec_init(&r, spark_membuf_read, &m, "1.delta");
	CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
	CHECK_EQ_INT(rec.kind, SPARK_REC_PUT);
	CHECK(rec.key_len == 3 && memcmp(rec.key, "key", 3) == 0);
	CHECK(rec.value_len == 11 && memcmp(rec.value, "value-bytes", 11)
		== 0);
	CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
	CHECK_EQ_INT(rec.kind, SPARK_REC_DELETE);
	CHECK(rec.value == NULL);
	CHECK_EQ_INT(spark_rec_next(&r, 1, &rec, &err), CKPT_EOF);
	spark_rec_release(&r);

	/* a snapshot must not hold deletes */
	m = (struct spark_membuf){ stream, n, 0 };
	spark_rec_init(&r, spark_membuf_read, &m, "1.snapshot");
	CHECK_OK(spark_rec_next(&r, 0, &rec, &err));
	CHECK_FAILS(spark_rec_next(&r, 0, &rec, &err), CKPT_E_FORMAT);
	spark_rec_release(&r);

	/* data after the end marker, a missing marker, a huge length */
	raw[rn] = 7;
	n = put_block(stream, raw, rn + 1, 0);
	n += put_block(stream + n, NULL, 0, 0);
	m = (struct spark_membuf){ stream, n, 0 };
	spark_rec_init(&r, spark_membuf_read, &m, "x");
	CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
	CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
	CHECK_FAILS(spark_rec_next(&r, 1, &rec, &err), CKPT_E_FORMAT);
	spark_rec_release(&r);
	n = put_block(stream, raw, rn - 4, 0);
	n += put_block(stream + n, NULL, 0, 0);
	m = (struct spark_membuf){ stream, n, 0 };
	spark_rec_init(&r, spark_membuf_read, &m, "x");
	CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
	CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
	CHECK_FAILS(spark_rec_next(&r, 1, &rec, &err), CKPT_E_FORMAT);
	spark_rec_release(&r);
	be32(raw, 0x7FFFFFF0);
	n = put_block(stream, raw, rn, 0);
	n += put_block(stream + n, NULL, 0, 0);
	m = (struct spark_membuf){ stream, n, 0 };
	spark_rec_init(&r, spark_membuf_read, &m, "x");
	CHECK_FAILS(spark_rec_next(&r, 1, &rec, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "'x'") != NULL);
	spark_rec_release(&r);
}

/* Spark's empty delta: 46 bytes, -1 in a raw block, then the end. */
DEFINE_TEST(test_lz4_empty_delta)
{
	struct ckpt_error err = { 0 };
	struct spark_rec_reader r;
	struct spark_membuf m;
	struct spark_rec rec;
	uint8_t raw[4], stream[64];
	size_t n;

	be32(raw, -1);
	n = put_block(stream, raw, 4, 0);
	n += put_block(stream + n, NULL, 0, 0);
	CHECK_EQ_INT(n, 46);
	m = (struct spark_membuf){ stream, n, 0 };
	spark_rec_init(&r, spark_membuf_read, &m, "1.delta");
	CHECK_EQ_INT(spark_rec_next(&r, 1, &rec, &err), CKPT_EOF);
	CHECK_EQ_INT(r.z.blocks, 1);
	spark_rec_release(&r);
}

/* Other codecs Spark can be set to are named, and unsupported. */
DEFINE_TEST(test_lz4_other_codecs)
{
	struct ckpt_error err = { 0 };
	static const uint8_t snappy[] = "\x82SNAPPY\0\0\0\0\1\0\0\0\1"
		"xxxxxxxxxxxxxxxxxxxxxx";
	static const uint8_t zstd[] = "\x28\xB5\x2F\xFD\0\0\0\0\0\0\0\0"
		"xxxxxxxxxxxxxxxxxxxxxxxxxx";
	uint8_t out[64];
	size_t got;

	CHECK_FAILS(read_all(snappy, sizeof(snappy), out, &got, &err),
		CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "snappy") != NULL);
	CHECK_FAILS(read_all(zstd, sizeof(zstd), out, &got, &err),
		CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "zstd") != NULL);
}

/*
 * Records read in place from one block and copied across block
 * boundaries decode alike: the same stream cut into blocks of every
 * size from 1 to 64 bytes.
 */
DEFINE_TEST(test_lz4_records_across_blocks)
{
	struct ckpt_error err = { 0 };
	static uint8_t raw[4096], stream[4096 * 24];
	struct spark_rec_reader r;
	struct spark_membuf m;
	struct spark_rec rec;
	size_t n = 0, sn, bs, off, i, k;

	for (i = 0; i < 40; i++) {
		n += be32(raw + n, (int32_t)(i % 7));
		memset(raw + n, 'k' + (int)(i % 5), i % 7);
		n += i % 7;
		if (i % 9 == 4) {
			n += be32(raw + n, -1);	/* a delete */
			continue;
		}
		n += be32(raw + n, (int32_t)(i % 13));
		memset(raw + n, (int)i, i % 13);
		n += i % 13;
	}
	n += be32(raw + n, -1);
	for (bs = 1; bs <= 64; bs++) {
		for (sn = 0, off = 0; off < n; off += bs)
			sn += put_block(stream + sn, raw + off,
				n - off < bs ? n - off : bs, (int)(bs & 1));
		sn += put_block(stream + sn, NULL, 0, 0);
		m = (struct spark_membuf){ stream, sn, 0 };
		spark_rec_init(&r, spark_membuf_read, &m, "t");
		for (i = 0; i < 40; i++) {
			CHECK_OK(spark_rec_next(&r, 1, &rec, &err));
			CHECK_EQ_INT(rec.key_len, i % 7);
			for (k = 0; k < rec.key_len; k++)
				CHECK_EQ_INT(rec.key[k], 'k' + (int)(i % 5));
			if (i % 9 == 4) {
				CHECK_EQ_INT(rec.kind, SPARK_REC_DELETE);
				CHECK(rec.value == NULL);
				continue;
			}
			CHECK_EQ_INT(rec.kind, SPARK_REC_PUT);
			CHECK_EQ_INT(rec.value_len, i % 13);
			for (k = 0; k < rec.value_len; k++)
				CHECK_EQ_INT(rec.value[k], (int)i);
		}
		CHECK_EQ_INT(spark_rec_next(&r, 1, &rec, &err), CKPT_EOF);
		spark_rec_release(&r);
		/* a snapshot refuses the delete, in a block or across */
		m = (struct spark_membuf){ stream, sn, 0 };
		spark_rec_init(&r, spark_membuf_read, &m, "t");
		for (i = 0; i < 4; i++)
			CHECK_OK(spark_rec_next(&r, 0, &rec, &err));
		CHECK_FAILS(spark_rec_next(&r, 0, &rec, &err), CKPT_E_FORMAT);
		CHECK(strstr(err.msg, "delete record in a snapshot") != NULL);
		spark_rec_release(&r);
	}
}
