/*
 * test_native_sweep.c - the corruption sweep of the native format: a
 * small v2 checkpoint (2 batches, both operators, a snapshot, a delta
 * with a tombstone, output files), then for every file, every byte
 * flipped (xor 0x01 and xor 0x80) and every truncation length, an
 * in-process ckpt_verify at READ_STATE must report at least one ERROR
 * naming that file (or ckpt_open must fail naming it), and never crash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"

#define SWEEP_DIR "sw"
#define MAXFILES 64

static void
enc_key(struct ckpt_buf *b, const char *s)
{
	b->len = 0;
	ckpt_enc_string(b, s, strlen(s));
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
build(struct ckpt_error *err)
{
	struct ckpt_job_desc d;
	struct ckpt_nwriter *w = NULL;
	struct ckpt_swriter *sw;
	struct ckpt_buf kb = { 0 }, vb = { 0 };
	/*
	 * Three keys everywhere, and for "sessions" 30 more with repetitive
	 * values so its blocks are zstd-compressed.  Keys are all 4 bytes:
	 * encoded order is strcmp order.
	 */
	static char more[30][8];
	const char *keys[33] = { "figs", "kiwi", "pear" };
	int rc = CKPT_FAILED;

	for (int i = 0; i < 30; i++) {
		snprintf(more[i], sizeof(more[i]), "k%03d", i);
		keys[3 + i] = more[i];
	}
	qsort(keys, 33, sizeof(keys[0]), cmpstr);

	memset(&d, 0, sizeof(d));
	d.job = "sweep";
	d.id = "0123456789abcdef0123456789abcdef";
	d.fingerprint = "fp";
	d.format_version = 2;
	d.snapshot_every = 4;
	d.nops = 2;
	d.ops[0] = (struct ckpt_op_desc){ "counts", "reduceByKey", 1,
	    "string", "int64" };
	d.ops[1] = (struct ckpt_op_desc){ "sessions", "session", 1, "string",
	    "struct<count:int64,last_seen:timestamp,actions:list<string>>" };
	if (ckpt_nwriter_open(NULL, SWEEP_DIR, &d, CKPT_NW_CREATE, &w, err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	for (int b = 0; b < 2; b++) {
		if (ckpt_nwriter_begin_batch(w, b, 1000 + b, "{\"s\":1}",
		    err) != CKPT_OK)
			goto out;
		for (int op = 0; op < 2; op++) {
			if (ckpt_nwriter_state_open(w, op, 0, b ?
			    CKPT_STATE_DELTA : CKPT_STATE_SNAPSHOT, &sw,
			    err) != CKPT_OK)
				goto out;
			for (int k = 0; k < 33; k++) {
				int plain = keys[k][0] != 'k' ||
				    keys[k][1] == 'i';

				if (op == 0 && !plain)
					continue;
				enc_key(&kb, keys[k]);
				if (b == 1 && strcmp(keys[k], "kiwi") == 0) {
					if (ckpt_swriter_del(sw, kb.data,
					    kb.len, err) != CKPT_OK)
						goto fail_sw;
					continue;
				}
				vb.len = 0;
				if (op == 0) {
					ckpt_enc_int64(&vb, k + b);
				} else {
					ckpt_enc_struct_begin(&vb, 3);
					ckpt_enc_int64(&vb, k);
					ckpt_enc_timestamp(&vb, 5000 + b);
					ckpt_enc_list_begin(&vb, 3);
					for (int a = 0; a < 3; a++)
						ckpt_enc_string(&vb,
						    "view-item-page", 14);
				}
				if (ckpt_swriter_put(sw, kb.data, kb.len,
				    vb.data, vb.len, err) != CKPT_OK)
					goto fail_sw;
			}
			if (ckpt_swriter_finish(sw, err) != CKPT_OK)
				goto out;
		}
		if (ckpt_nwriter_file(w, b ? "output/00000000000000000001" :
		    "output/00000000000000000000", "out\n", 4, err) != CKPT_OK)
			goto out;
		if (ckpt_nwriter_commit(w, NULL, err) != CKPT_OK)
			goto out;
	}
	rc = CKPT_OK;
	goto out;
fail_sw:
	ckpt_swriter_finish(sw, NULL);
out:
	ckpt_nwriter_close(w);
	ckpt_buf_release(&kb);
	ckpt_buf_release(&vb);
	return rc;
}

/* Relative paths of every regular file under dir (except the lock). */
static int
collect(const char *dir, const char *rel, char files[][128], int n)
    __attribute__((noinline));
static int
collect(const char *dir, const char *rel, char files[][128], int n)
{
	char path[600], sub[300];
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);

	if (d == NULL)
		return n;
	while ((de = readdir(d)) != NULL && n < MAXFILES) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
		    de->d_name);
		if (stat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			n = collect(path, sub, files, n);
		else if (strcmp(sub, "lock") != 0 && strlen(sub) < 128)
			memcpy(files[n++], sub, strlen(sub) + 1);
	}
	closedir(d);
	return n;
}

static int
zstd_cb(void *arg, const struct ckpt_region *r)
{
	if (r->note != NULL && strncmp(r->note, "zstd", 4) == 0)
		*(int *)arg = 1;
	return 0;
}

struct hit {
	const char *path;
	int named;
	int errors;
};

static int
hit_cb(void *arg, const struct ckpt_problem *p)
{
	struct hit *h = arg;

	if (p->severity == CKPT_PROBLEM_ERROR) {
		h->errors++;
		if (strcmp(p->path, h->path) == 0)
			h->named = 1;
	}
	return 0;
}

/* 1 when the damage in rel is reported, naming it. */
static int
detected(const char *rel, char *why, size_t cap)
{
	struct ckpt_error err = { 0 };
	struct ckpt_verify_opts vo = { CKPT_VERIFY_READ_STATE, 0, 0, 0 };
	struct ckpt_verify_stats vs;
	struct hit h = { rel, 0, 0 };
	struct ckpt *c = NULL;

	if (ckpt_open(NULL, SWEEP_DIR, &c, &err) != CKPT_OK) {
		snprintf(why, cap, "open failed: %s", err.msg);
		return err.msg[0] != '\0' && strstr(err.msg, rel) != NULL;
	}
	if (ckpt_verify(c, &vo, hit_cb, &h, &vs, &err) != CKPT_OK) {
		snprintf(why, cap, "verify failed: %s", err.msg);
		ckpt_close(c);
		return strstr(err.msg, rel) != NULL;
	}
	ckpt_close(c);
	snprintf(why, cap, "%d errors, none naming the file", h.errors);
	return h.named;
}

DEFINE_TEST(test_native_sweep_flip_truncate)
{
	struct ckpt_error err = { 0 };
	static char files[MAXFILES][128];
	char full[8400], why[600];
	int nfiles, misses = 0, runs = 0, fd;
	struct probs0 { int e; } clean = { 0 };
	struct hit h0 = { "", 0, 0 };
	struct ckpt *c = NULL;
	struct ckpt_verify_opts vo = { CKPT_VERIFY_READ_STATE, 0, 0, 0 };
	struct ckpt_verify_stats vs;

	(void)clean;
	CHECK_OK(build(&err));
	nfiles = collect(SWEEP_DIR, "", files, 0);
	CHECK(nfiles == 11);
	/* the pristine checkpoint verifies clean */
	CHECK_OK(ckpt_open(NULL, SWEEP_DIR, &c, &err));
	if (c == NULL)
		return;
	CHECK_OK(ckpt_verify(c, &vo, hit_cb, &h0, &vs, &err));
	CHECK_EQ_INT(h0.errors, 0);
	CHECK_EQ_INT(vs.warnings, 0);
	{
		int z = 0;

		CHECK_OK(ckpt_file_regions(c,
		    "state/1/0/00000000000000000000.snapshot", zstd_cb, &z,
		    &err));
		CHECK(z);	/* the sweep covers compressed blocks */
	}
	ckpt_close(c);

	for (int f = 0; f < nfiles; f++) {
		unsigned char *orig;
		size_t n;

		snprintf(full, sizeof(full), SWEEP_DIR "/%s", files[f]);
		orig = unit_read_file(full, &n);
		if (orig == NULL) {
			CHECK(orig != NULL);
			continue;
		}
		/*
		 * Damage in place (pwrite, ftruncate) rather than rewriting:
		 * replacing a file by truncation makes ext4 flush it on
		 * close, which would make the sweep crawl.
		 */
		fd = open(full, O_RDWR);
		CHECK(fd >= 0);
		for (size_t i = 0; fd >= 0 && i < 3 * n; i++) {
			size_t pos = i % n;
			int mode = (int)(i / n);	/* 0, 1 flips; 2 cut */
			unsigned char x = orig[pos] ^ (mode ? 0x80 : 0x01);

			if (mode < 2) {
				CHECK(pwrite(fd, &x, 1, (off_t)pos) == 1);
			} else {
				CHECK(ftruncate(fd, (off_t)pos) == 0);
			}
			runs++;
			if (!detected(files[f], why, sizeof(why))) {
				if (misses++ < 10)
					fprintf(stderr, "  missed: %s %s at "
					    "%zu: %s\n", files[f], mode == 2 ?
					    "truncation" : mode ? "flip 0x80" :
					    "flip 0x01", pos, why);
			}
			/* restore */
			if (mode < 2)
				CHECK(pwrite(fd, orig + pos, 1, (off_t)pos) ==
				    1);
			else
				CHECK(pwrite(fd, orig + pos, n - pos,
				    (off_t)pos) == (ssize_t)(n - pos));
		}
		if (fd >= 0)
			close(fd);
		free(orig);
	}
	CHECK_EQ_INT(misses, 0);
	CHECK(runs > 1000);
}
