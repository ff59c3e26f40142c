/*
 * test_hadoopcrc.c - Hadoop .crc sidecars (lib/codec/codec_hadoopcrc.c,
 * docs/spark-checkpoint-format.md section 6): sidecars built here with
 * zlib's crc32 (large enough to need several data and sum windows),
 * every verdict, the name helpers, and a fixture file when present.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "unit.h"
#include "codec/codec_hadoopcrc.h"

/* Builds the sidecar of data with bytes-per-checksum bpc; caller frees. */
static uint8_t *
make_crc(const uint8_t *data, size_t n, uint32_t bpc, size_t *out)
{
	size_t chunks = (n + bpc - 1) / bpc, i;
	uint8_t *c = malloc(8 + 4 * chunks);

	memcpy(c, "crc\0", 4);
	c[4] = (uint8_t)(bpc >> 24);
	c[5] = (uint8_t)(bpc >> 16);
	c[6] = (uint8_t)(bpc >> 8);
	c[7] = (uint8_t)bpc;
	for (i = 0; i < chunks; i++) {
		size_t len = n - i * bpc < bpc ? n - i * bpc : bpc;
		uint32_t v = (uint32_t)crc32(0L, data + i * bpc, (uInt)len);

		c[8 + 4 * i] = (uint8_t)(v >> 24);
		c[9 + 4 * i] = (uint8_t)(v >> 16);
		c[10 + 4 * i] = (uint8_t)(v >> 8);
		c[11 + 4 * i] = (uint8_t)v;
	}
	*out = 8 + 4 * chunks;
	return c;
}

DEFINE_TEST(test_hadoopcrc_verdicts)
{
	struct ckpt_error err = { 0 };
	struct ckpt_hcrc_result r;
	size_t n = 700001, cn;	/* 1368 chunks: several windows of each */
	uint8_t *d = malloc(n), *c;

	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(i * 2654435761u >> 13);
	c = make_crc(d, n, 512, &cn);
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_OK);
	CHECK_EQ_INT(r.chunks, 1368);
	CHECK_EQ_INT(r.bytes_per_checksum, 512);
	/* a flipped byte in chunk 1200 */
	d[1200 * 512 + 7] ^= 1;
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_MISMATCH);
	CHECK_EQ_INT(r.bad_chunk, 1200);
	CHECK_EQ_INT(r.bad_offset, 1200 * 512);
	CHECK(strstr(r.why, "chunk 1200") != NULL);
	d[1200 * 512 + 7] ^= 1;
	/* the last, short chunk */
	d[n - 1] ^= 0x80;
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_MISMATCH);
	CHECK_EQ_INT(r.bad_chunk, 1367);
	d[n - 1] ^= 0x80;
	/* sizes that disagree with the chunk count */
	CHECK_OK(ckpt_hcrc_check_mem(d, n - 1000, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_SIZE);
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn - 2, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_SIZE);
	/* another bytes-per-checksum, larger than the data window */
	free(c);
	c = make_crc(d, n, 100000, &cn);
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_OK);
	CHECK_EQ_INT(r.chunks, 8);
	/* only an empty sidecar is unverifiable (section 10 item 3) */
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, 0, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_UNVERIFIABLE);
	/* a damaged, non-empty header is damage (section 6) */
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, 6, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_BAD_HEADER);
	c[0] = 'C';
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_BAD_HEADER);
	CHECK(strstr(r.why, "magic") != NULL);
	c[0] = 'c';
	memset(c + 4, 0, 4);
	CHECK_OK(ckpt_hcrc_check_mem(d, n, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_BAD_HEADER);
	/* an empty file has an 8-byte sidecar */
	free(c);
	c = make_crc(d, 0, 512, &cn);
	CHECK_EQ_INT(cn, 8);
	CHECK_OK(ckpt_hcrc_check_mem(d, 0, c, cn, &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_OK);
	CHECK_EQ_INT(r.chunks, 0);
	free(c);
	free(d);
}

DEFINE_TEST(test_hadoopcrc_names)
{
	struct ckpt_error err = { 0 };
	char out[64];

	CHECK_OK(ckpt_hcrc_sidecar_name("a/b/part-00000", out, sizeof(out),
		&err));
	CHECK_STR(out, "a/b/.part-00000.crc");
	CHECK_OK(ckpt_hcrc_sidecar_name("checkpoint-1", out, sizeof(out),
		&err));
	CHECK_STR(out, ".checkpoint-1.crc");
	CHECK_FAILS(ckpt_hcrc_sidecar_name("a/very-long-name-that-does-not-fit-in-the-buffer-given",
		out, 16, &err), CKPT_E_USAGE);
	CHECK(ckpt_hcrc_sidecar_target(".checkpoint-1.bk.crc", out,
		sizeof(out)));
	CHECK_STR(out, "checkpoint-1.bk");
	CHECK(ckpt_hcrc_sidecar_target("..x.tmp.crc", out, sizeof(out)));
	CHECK_STR(out, ".x.tmp");
	CHECK(!ckpt_hcrc_sidecar_target(".crc", out, sizeof(out)));
	CHECK(!ckpt_hcrc_sidecar_target("x.crc", out, sizeof(out)));
	CHECK(!ckpt_hcrc_sidecar_target(".x.crcx", out, sizeof(out)));
	CHECK(!ckpt_hcrc_sidecar_target(".abcdef.crc", out, 4));
}

DEFINE_TEST(test_hadoopcrc_store)
{
	struct ckpt_error err = { 0 };
	struct ckpt_hcrc_result r;
	struct ckpt_store *st = NULL;
	uint8_t d[1500], *c;
	size_t cn;

	memset(d, 'x', sizeof(d));
	c = make_crc(d, sizeof(d), 512, &cn);
	unit_write_file("f", d, sizeof(d));
	unit_write_file(".f.crc", c, cn);
	CHECK_OK(ckpt_store_open(NULL, ".", CKPT_STORE_RDONLY, &st, &err));
	if (st == NULL) {
		free(c);
		return;
	}
	CHECK_OK(ckpt_hcrc_check_store(st, "f", ".f.crc", &r, &err));
	CHECK_EQ_INT(r.status, CKPT_HCRC_OK);
	CHECK_EQ_INT(r.chunks, 3);
	CHECK_FAILS(ckpt_hcrc_check_store(st, "f", ".g.crc", &r, &err),
		CKPT_E_NOTFOUND);
	ckpt_store_close(st);
	free(c);
}
