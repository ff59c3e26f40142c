/*
 * ops_pair.c - writes two native checkpoints for the diff benchmark:
 * A and B with the same N keys ("k%09d", 8 partitions, int64 values),
 * B's value changed for PCT percent of them (every (100/PCT)-th key),
 * and the same content as sorted text ("key<TAB>value" lines) in
 * A.txt and B.txt for a reference diff(1).
 *
 *   ops_pair DIR [--keys N] [--pct P]
 *
 * Test-only; writes through the public writer API.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"

#define PARTS 8

static int
write_one(const char *dir, const char *name, int64_t n, int64_t every,
	int changed)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw;
	struct ckpt_job_desc d;
	struct ckpt_buf k = { 0 }, v = { 0 };
	char path[1024], key[32];
	FILE *txt;
	int p, rc = 1;

	snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
	txt = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	memset(&d, 0, sizeof(d));
	d.job = "bench";
	d.id = "00000000000000000000000000000bec";
	d.fingerprint = "bench";
	d.format_version = 2;
	d.snapshot_every = 1;
	d.nops = 1;
	d.ops[0].name = "counts";
	d.ops[0].partitions = PARTS;
	d.ops[0].key_schema = "string";
	d.ops[0].value_schema = "int64";
	if (txt == NULL || ckpt_ctx_new(&ctx, &err) != CKPT_OK ||
	    ckpt_nwriter_open(ctx, path, &d, CKPT_NW_CREATE, &w, &err) !=
	    CKPT_OK ||
	    ckpt_nwriter_begin_batch(w, 0, 0, "{}", &err) != CKPT_OK)
		goto out;
	for (p = 0; p < PARTS; p++) {
		if (ckpt_nwriter_state_open(w, 0, p, CKPT_STATE_SNAPSHOT, &sw,
		    &err) != CKPT_OK)
			goto out;
		for (int64_t i = p; i < n; i += PARTS) {
			int64_t val = i;

			if (changed && i % every == 0)
				val = -i - 1;
			k.len = v.len = 0;
			snprintf(key, sizeof(key), "k%09" PRId64, i);
			if (ckpt_enc_string(&k, key, strlen(key)) != 0 ||
			    ckpt_enc_int64(&v, val) != 0 ||
			    ckpt_swriter_put(sw, k.data, k.len, v.data, v.len,
			    &err) != CKPT_OK) {
				(void)ckpt_swriter_finish(sw, NULL);
				goto out;
			}
		}
		if (ckpt_swriter_finish(sw, &err) != CKPT_OK)
			goto out;
	}
	for (int64_t i = 0; i < n; i++)
		fprintf(txt, "k%09" PRId64 "\t%" PRId64 "\n", i,
		    changed && i % every == 0 ? -i - 1 : i);
	if (ckpt_nwriter_commit(w, NULL, &err) == CKPT_OK)
		rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "ops_pair: %s: %s\n", path, err.msg[0] ?
		    err.msg : "cannot write");
	if (txt != NULL && fclose(txt) != 0)
		rc = 1;
	ckpt_buf_release(&k);
	ckpt_buf_release(&v);
	ckpt_nwriter_close(w);
	ckpt_ctx_free(ctx);
	return rc;
}

int
main(int argc, char **argv)
{
	int64_t n = 1000000, pct = 1;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: ops_pair DIR [--keys N] [--pct P]\n");
		return 2;
	}
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--keys") == 0)
			n = strtoll(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--pct") == 0)
			pct = strtoll(argv[i + 1], NULL, 10);
	}
	if (n < 1 || pct < 1 || pct > 100) {
		fprintf(stderr, "ops_pair: bad --keys or --pct\n");
		return 2;
	}
	return write_one(argv[1], "A", n, 100 / pct, 0) ||
	    write_one(argv[1], "B", n, 100 / pct, 1);
}
