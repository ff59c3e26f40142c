/*
 * fuzz_javaser.c - the Java serialization walker and its Spark
 * extractors (lib/codec/codec_javaser.c).  Input: a raw stream, or an
 * LZ4Block-framed one (a DStream checkpoint file), decoded first with
 * the Spark LZ4 reader.  Every event's strings and frames are touched,
 * so a dangling pointer or a bad frame count shows under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec_javaser.h"
#include "codec/spark_codec.h"

#define MAX_DECODED (4u << 20)

static int
touch_cb(void *arg, const struct ckpt_jser_event *ev, struct ckpt_error *err)
{
	size_t *sum = arg;

	for (unsigned i = 0; i < ev->depth; i++) {
		const struct ckpt_jser_frame *f = &ev->frames[i];

		if (f->class_name)
			*sum += strlen(f->class_name);
		if (f->field)
			*sum += strlen(f->field);
		if (f->field_class)
			*sum += strlen(f->field_class);
	}
	if (ev->class_name)
		*sum += strlen(ev->class_name);
	if (ev->field)
		*sum += strlen(ev->field);
	if (ev->str && ev->str_len)
		*sum += (uint8_t)ev->str[ev->str_len - 1];
	return CKPT_OK;
}

static void
walk_all(const uint8_t *p, size_t n)
{
	struct ckpt_error err = { 0 };
	struct ckpt_jser_offset off[4];
	struct ckpt_jser_checkpoint cp;
	struct ckpt_jser_limits lim = { 64, 4096, 0 };
	char cls[64];
	size_t sum = 0, k;

	ckpt_jser_walk(p, n, NULL, "fuzz", touch_cb, &sum, NULL, &err);
	memset(&err, 0, sizeof(err));
	ckpt_jser_walk(p, n, &lim, "fuzz", NULL, NULL, NULL, &err);
	memset(&err, 0, sizeof(err));
	ckpt_jser_composite_offset(p, n, "fuzz", off, 4, &k, &err);
	memset(&err, 0, sizeof(err));
	if (ckpt_jser_checkpoint_decode(p, n, "fuzz", &cp, &err) == CKPT_OK) {
		ckpt_jser_checkpoint_conf(&cp, "spark.app.name");
		ckpt_jser_checkpoint_release(&cp);
	}
	memset(&err, 0, sizeof(err));
	ckpt_jser_top_class(p, n, cls, sizeof(cls), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spark_membuf m = { data, size, 0 };
	struct spark_lz4 z;
	struct ckpt_error err = { 0 };
	uint8_t *buf;
	size_t got;

	walk_all(data, size);
	if (size < 8 || memcmp(data, SPARK_LZ4_MAGIC, 8) != 0)
		return 0;
	buf = malloc(MAX_DECODED);
	if (buf == NULL)
		return 0;
	spark_lz4_init(&z, spark_membuf_read, &m, "fuzz");
	if (spark_lz4_read(&z, buf, MAX_DECODED, &got, &err) == CKPT_OK)
		walk_all(buf, got);
	spark_lz4_release(&z);
	free(buf);
	return 0;
}
