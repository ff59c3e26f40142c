/*
 * fuzz_dstream_checkpoint.c - the DStream driver end to end
 * (lib/format/fmt_dstream*.c): the input becomes checkpoint-1000 in a
 * scratch directory next to a copy of itself as checkpoint-2000.bk, and
 * the directory is opened, described (info, the summary JSON, batch
 * JSON), listed and verified at --read-state.  Covers the codec
 * detection, LZ4Block framing, the Java walk of a Checkpoint, the
 * restart-file fallback and the JSON writers on hostile bytes: every
 * JSON text produced must parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];

static int
put(const char *name, const uint8_t *p, size_t n)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	remove(path);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (n > 0 && fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Removes the scratch directory when the process ends. */
static void
cleanup(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/checkpoint-1000", dir);
	remove(path);
	snprintf(path, sizeof(path), "%s/checkpoint-2000.bk", dir);
	remove(path);
	rmdir(dir);
}

/* JSON the library produced must be valid, whatever the input. */
static void
must_parse(const char *json)
{
	cJSON *j;

	if (json == NULL)
		return;
	j = cJSON_Parse(json);
	if (j == NULL)
		abort();
	cJSON_Delete(j);
}

static int
count_cb(void *arg, const struct ckpt_problem *p)
{
	(*(int *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_error err = { 0 };
	struct ckpt_verify_opts o = { 0 };
	struct ckpt_verify_stats vs;
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	struct ckpt_info info;
	struct ckpt *c = NULL;
	char *json = NULL;
	int problems = 0;

	if (dir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/ckpt-fuzz-dstream-XXXXXX",
			tmp ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(cleanup);
	}
	if (put("checkpoint-1000", data, size) != 0 ||
	    put("checkpoint-2000.bk", data, size) != 0)
		abort();
	if (ckpt_open(NULL, dir, &c, &err) != CKPT_OK)
		return 0;
	memset(&info, 0, sizeof(info));
	if (ckpt_info_get(c, &info, &err) == CKPT_OK) {
		must_parse(info.metadata_json);
		ckpt_info_release(&info);
	}
	if (ckpt_batch_iter_open(c, &it, &err) == CKPT_OK) {
		while (ckpt_batch_iter_next(it, &b, &err) == CKPT_OK)
			;
		ckpt_batch_iter_close(it);
	}
	if (ckpt_batch_json(c, 2000, &json, &err) == CKPT_OK) {
		must_parse(json);
		free(json);
	}
	o.level = CKPT_VERIFY_READ_STATE;
	ckpt_verify(c, &o, count_cb, &problems, &vs, &err);
	ckpt_close(c);
	return 0;
}
