/*
 * fuzz_native.c - native format files (lib/format/fmt_native_io.c,
 * fmt_native_state.c, lib/codec/codec_value.c; ckpt-format(5)).  The
 * input is one whole file.  It is decoded twice: in memory as a small
 * JSON-carrying file (meta, offsets, commit), and from disk as the state
 * file of operator 1 ("sessions", a struct schema) of a checkpoint made
 * once per process, streamed record by record with every key and value
 * rendered through the schema.  Any failure must come with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "format/native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

/* A one-batch v2 checkpoint whose state files the input replaces. */
static void
setup(void)
{
	struct ckpt_error err = { 0 };
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;

	snprintf(dir, sizeof(dir), "/tmp/fuzz-native-%ld", (long)getpid());
	memset(&d, 0, sizeof(d));
	d.job = "fuzz";
	d.fingerprint = "f";
	d.format_version = 2;
	d.nops = 2;
	d.ops[0] = (struct ckpt_op_desc){ "counts", "r", 1, "string",
	    "int64" };
	d.ops[1] = (struct ckpt_op_desc){ "sessions", "s", 1, "string",
	    "struct<count:int64,last_seen:timestamp,actions:list<string>>" };
	if (ckpt_nwriter_open(NULL, dir, &d, CKPT_NW_CREATE, &w, &err) !=
	    CKPT_OK || ckpt_nwriter_begin_batch(w, 0, 0, "{}", &err) !=
	    CKPT_OK || ckpt_nwriter_commit(w, NULL, &err) != CKPT_OK) {
		fprintf(stderr, "fuzz_native: setup: %s\n", err.msg);
		abort();
	}
	ckpt_nwriter_close(w);
	atexit(cleanup);
}

static void
stream(const uint8_t *data, size_t size)
{
	struct ckpt_error err = { 0 };
	struct ckpt *c = NULL;
	struct ckpt_state_iter *it = NULL;
	struct ckpt_record r;
	char path[128];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/state/1/0/%020d.delta", dir, 0);
	{
		char d1[128], d2[128];

		snprintf(d1, sizeof(d1), "%s/state", dir);
		snprintf(d2, sizeof(d2), "%s/state/1", dir);
		(void)!mkdir(d1, 0755);
		(void)!mkdir(d2, 0755);
		snprintf(d2, sizeof(d2), "%s/state/1/0", dir);
		(void)!mkdir(d2, 0755);
	}
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (ckpt_open(NULL, dir, &c, &err) != CKPT_OK) {
		fprintf(stderr, "fuzz_native: open: %s\n", err.msg);
		abort();
	}
	if (ckpt_state_open(c, 1, 0, 0, CKPT_STATE_RAW_DELTAS, &it, &err) ==
	    CKPT_OK) {
		while ((rc = ckpt_state_next(it, &r, &err)) == CKPT_OK)
			if (r.key_json == NULL || r.value_json == NULL)
				abort();
		if (rc != CKPT_EOF && err.msg[0] == '\0')
			abort();
		ckpt_state_close(it);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	ckpt_close(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL, why[CKPT_ERROR_MSG_MAX];
	size_t len;
	int64_t off;
	struct nat_header h;

	if (dir[0] == '\0')
		setup();
	why[0] = '\0';
	if (nat_decode_small(data, size, 0, &text, &len, &h, why, sizeof(why),
	    &off) != 0 && why[0] == '\0')
		abort();
	free(text);
	stream(data, size);
	return 0;
}
