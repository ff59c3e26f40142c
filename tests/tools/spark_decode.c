/*
 * spark_decode.c - the library side of the Spark decode benchmark with
 * nothing around it: for every DIR/state/<op>/<part>/<V>.delta, stream
 * the file through libckpt's lz4-java decoder (lib/codec/codec_lz4.c:
 * header checks, LZ4 block decode, masked XXH32 per block) and, with
 * --records, also through its record framing (spark_rec_next).  No
 * UnsafeRow decoding, no JSON, no directory model: `ckpt verify
 * --read-state` does all of that on top.
 *
 * usage: spark_decode [--records] DIR
 * Prints "<files> files <blocks> blocks <bytes> bytes [<n> records]"
 * (bytes = decoded bytes).  Exit 0, 1 on the first decode error (message
 * on stderr), 2 on bad usage.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/spark_codec.h"

struct totals {
	uint64_t files, blocks, bytes, records;
	int records_mode;
};

static int
file_read(void *arg, void *buf, size_t len, size_t *got,
    struct ckpt_error *err)
{
	FILE *f = arg;

	*got = fread(buf, 1, len, f);
	if (*got < len && ferror(f))
		return ckpt_error_set(err, CKPT_E_IO, "read error");
	return CKPT_OK;
}

static int
is_delta(const char *name)
{
	size_t n = strlen(name);
	size_t i = 0;

	while (i < n && name[i] >= '0' && name[i] <= '9')
		i++;
	return i > 0 && strcmp(name + i, ".delta") == 0;
}

static int
decode(const char *path, struct totals *t)
{
	struct ckpt_error err = { 0 };
	FILE *f = fopen(path, "rb");
	int rc;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	if (t->records_mode) {
		struct spark_rec_reader rr;
		struct spark_rec r;

		spark_rec_init(&rr, file_read, f, path);
		while ((rc = spark_rec_next(&rr, 1, &r, &err)) == CKPT_OK)
			t->records++;
		t->blocks += rr.z.blocks;
		t->bytes += rr.z.out_total;
		spark_rec_release(&rr);
	} else {
		struct spark_lz4 z;
		struct spark_lz4_block b;

		spark_lz4_init(&z, file_read, f, path);
		while ((rc = spark_lz4_next_block(&z, &b, &err)) == CKPT_OK)
			t->bytes += b.olen;
		t->blocks += z.blocks;
		spark_lz4_release(&z);
	}
	fclose(f);
	if (rc != CKPT_EOF) {
		fprintf(stderr, "spark_decode: %s\n", err.msg);
		return -1;
	}
	t->files++;
	return 0;
}

/* Calls fn on DIR/name for every entry passing keep(), in readdir order. */
static int
each(const char *dir, int (*keep)(const char *),
    int (*fn)(const char *, struct totals *), struct totals *t)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!keep(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = fn(path, t);
	}
	closedir(d);
	return rc;
}

static int
is_number(const char *name)
{
	return name[0] >= '0' && name[0] <= '9' &&
	    strspn(name, "0123456789") == strlen(name);
}

static int
partition(const char *path, struct totals *t)
{
	return each(path, is_delta, decode, t);
}

static int
operator(const char *path, struct totals *t)
{
	return each(path, is_number, partition, t);
}

int
main(int argc, char **argv)
{
	struct totals t = { 0 };
	char path[4096];
	int i = 1;

	if (i < argc && strcmp(argv[i], "--records") == 0) {
		t.records_mode = 1;
		i++;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: spark_decode [--records] DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/state", argv[i]);
	if (each(path, is_number, operator, &t) != 0)
		return 1;
	printf("%" PRIu64 " files %" PRIu64 " blocks %" PRIu64 " bytes",
	    t.files, t.blocks, t.bytes);
	if (t.records_mode)
		printf(" %" PRIu64 " records", t.records);
	printf("\n");
	return 0;
}
