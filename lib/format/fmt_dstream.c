/*
 * fmt_dstream.c - the legacy Spark Streaming (DStream) format driver
 * (docs/spark-checkpoint-format.md section 7, section 10 items 4, 13).
 *
 * A DStream checkpoint directory holds checkpoint-<ms> files, each an
 * LZ4Block stream (section 2.2) of one Java-serialized
 * org.apache.spark.streaming.Checkpoint, plus checkpoint-<ms>.bk (the
 * write made when batch <ms> was generated, pendingTimes = [ms]; the
 * plain file is the write after it completed), Hadoop .crc sidecars,
 * write-ahead logs and RDD checkpoint dirs (fmt_dstream_files.c).
 * Each checkpoint time is one batch: id = time in ms, committed when
 * the plain file exists.  The restart point is the file Spark's
 * CheckpointReader would load: newest plain first, then its .bk, then
 * older ones; the first that decodes wins.  Nothing here writes; prune
 * (keep the newest K generations) is to be built on dstream_gen_window(),
 * dstream_restart() and dstream_files_walk() (roles and batch = time for
 * checkpoint files and their sidecars).
 *
 * Mixed directories (fixture 14: DStream files inside a Structured
 * Streaming checkpoint).  Agreement with the Spark driver (fmt_spark*.c):
 *  - detection: the dstream driver bids 90 when checkpoint-<t> files
 *    exist and offsets/ does not, only 40 when offsets/ exists too, 30
 *    for WAL dirs alone; the Spark driver bids above 40 whenever
 *    offsets/ exists, so it wins mixed dirs, and says so in its info
 *    (kind "structured streaming + dstream");
 *  - the Spark driver reports the DStream part through this module's
 *    store-level calls (dstream.h): dstream_scan() to detect it,
 *    dstream_summary_json() for its metadata_json ("dstream" member),
 *    dstream_files_walk(st, 1, ...) for those files' roles (it skips
 *    root names dstream_owns_name() accepts), dstream_verify(st, 1, ...)
 *    in its verify, dstream_file_regions() for inspect --hex (for
 *    paths dstream_owns_path() accepts), and dstream_gen_window() /
 *    dstream_gen_next() to list generations;
 *  - ckpt_dstream_files() / _logs() / _rdds() (ckpt.h) work on either
 *    driver: ls shows those sections for both.
 */
#include "dstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/spark_codec.h"

struct dstream {
	struct dstream_scan sc;
	int restart_ok;
	int restart_bk;
	struct dstream_file rf;		/* the restart file, decoded */
	char rule[160];
};

/* ---- names ---- */

static int
parse_digits(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

int
dstream_parse_name(const char *name, int64_t *t, int *bk)
{
	const char *d;
	size_t n;

	if (strncmp(name, "checkpoint-", 11) != 0)
		return 0;
	d = name + 11;
	n = strspn(d, "0123456789");
	if (!parse_digits(d, n, t))
		return 0;
	if (d[n] == '\0')
		*bk = 0;
	else if (strcmp(d + n, ".bk") == 0)
		*bk = 1;
	else
		return 0;
	return 1;
}

/* A SparkContext checkpoint dir name: 8-4-4-4-12 lowercase hex. */
static int
is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == '-') {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

int
dstream_owns_name(const char *name, int is_dir)
{
	char target[CKPT_NAME_MAX];
	size_t n = strlen(name);

	if (is_dir)
		return strcmp(name, "receivedBlockMetadata") == 0 ||
		    strcmp(name, "receivedData") == 0 || is_uuid(name);
	if (strncmp(name, "checkpoint-", 11) == 0 && name[11] >= '0' &&
	    name[11] <= '9')
		return 1;
	if (strcmp(name, "temp") == 0)
		return 1;
	/* a sidecar ".<x>.crc" of an owned file */
	if (n > 5 && name[0] == '.' && strcmp(name + n - 4, ".crc") == 0 &&
	    n - 5 < sizeof(target)) {
		memcpy(target, name + 1, n - 5);
		target[n - 5] = '\0';
		return dstream_owns_name(target, 0);
	}
	return 0;
}

int
dstream_owns_path(const char *path)
{
	const char *slash = strchr(path, '/');
	char first[CKPT_NAME_MAX];

	if (slash == NULL)
		return dstream_owns_name(path, 0);
	if ((size_t)(slash - path) >= sizeof(first))
		return 0;
	memcpy(first, path, (size_t)(slash - path));
	first[slash - path] = '\0';
	return dstream_owns_name(first, 1);
}

/* ---- scan and bid ---- */

struct scan_arg {
	struct dstream_scan *sc;
	int64_t last_counted;
};

/* Keeps the DSTREAM_TOPK newest distinct times, newest first. */
static void
topk_insert(struct dstream_scan *sc, int64_t t)
{
	int i;

	for (i = 0; i < sc->nnewest; i++)
		if (sc->newest[i] == t)
			return;
	if (sc->nnewest == DSTREAM_TOPK &&
	    t < sc->newest[DSTREAM_TOPK - 1])
		return;
	i = sc->nnewest < DSTREAM_TOPK ? sc->nnewest++ : DSTREAM_TOPK - 1;
	while (i > 0 && sc->newest[i - 1] < t) {
		sc->newest[i] = sc->newest[i - 1];
		i--;
	}
	sc->newest[i] = t;
}

/* One root entry: counts generations and notes the other dirs. */
static int
scan_cb(void *arg, const struct ckpt_stat *e)
{
	struct scan_arg *a = arg;
	struct dstream_scan *sc = a->sc;
	int64_t t;
	int bk;

	if (e->is_dir) {
		if (strcmp(e->name, "receivedBlockMetadata") == 0)
			sc->has_wal_meta = 1;
		else if (strcmp(e->name, "receivedData") == 0)
			sc->has_wal_data = 1;
		else if (strcmp(e->name, "offsets") == 0)
			sc->has_offsets = 1;
		else if (strcmp(e->name, "commits") == 0 ||
		    strcmp(e->name, "sources") == 0 ||
		    strcmp(e->name, "state") == 0)
			sc->has_ss_files = 1;
		return 0;
	}
	if (strcmp(e->name, "metadata") == 0)
		sc->has_ss_files = 1;
	if (strcmp(e->name, "temp") == 0)
		sc->has_temp = 1;
	if (!dstream_parse_name(e->name, &t, &bk))
		return 0;
	if (bk)
		sc->bk++;
	else
		sc->plain++;
	if (!bk && (sc->last_plain_ms == CKPT_NONE || t > sc->last_plain_ms))
		sc->last_plain_ms = t;
	if (sc->first_ms == CKPT_NONE || t < sc->first_ms)
		sc->first_ms = t;
	if (sc->last_ms == CKPT_NONE || t > sc->last_ms)
		sc->last_ms = t;
	topk_insert(sc, t);
	/* plain and .bk of one time are adjacent in name order */
	if (t != a->last_counted)
		sc->gens++;
	a->last_counted = t;
	return 0;
}

int
dstream_scan(struct ckpt_store *st, struct dstream_scan *out,
	struct ckpt_error *err)
{
	struct scan_arg a;
	int64_t t;
	int rc;

	memset(out, 0, sizeof(*out));
	out->first_ms = out->last_ms = out->last_plain_ms = CKPT_NONE;
	a.sc = out;
	a.last_counted = CKPT_NONE;
	rc = ckpt_store_list(st, "", CKPT_LIST_NAME, NULL, scan_cb, &a, err);
	if (rc != CKPT_OK || out->gens == 0)
		return rc;
	/*
	 * Times of different digit counts are not adjacent in name order:
	 * count generations exactly when that can happen (never for ms
	 * times between 2001 and 2286).
	 */
	if (out->first_ms < 1000000000000LL || out->last_ms > 9999999999999LL) {
		struct dstream_gen g;

		out->gens = 0;
		t = CKPT_NONE;
		while ((rc = dstream_gen_next(st, t, &g, err)) == CKPT_OK) {
			out->gens++;
			t = g.time_ms;
		}
		if (rc != CKPT_EOF)
			return rc;
	}
	return CKPT_OK;
}

int
dstream_bid(struct ckpt_store *st, struct ckpt_error *err)
{
	struct dstream_scan sc;
	int rc;

	rc = dstream_scan(st, &sc, err);
	if (rc != CKPT_OK)
		return rc == CKPT_FAILED && err->kind == CKPT_E_NOTFOUND ? 0 :
		    rc;
	if (sc.gens > 0)
		return sc.has_offsets ? 40 : 90;
	if (sc.has_wal_meta || sc.has_wal_data)
		return sc.has_offsets ? 0 : 30;
	return 0;
}

/* The ops bid: a missing root is "not mine", not an error. */
static int
fmt_bid(struct ckpt_store *st, struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	int rc = dstream_bid(st, &e2);

	if (rc < 0 && e2.kind != CKPT_E_NOTFOUND) {
		*err = e2;
		return rc;
	}
	return rc < 0 ? 0 : rc;
}

/* ---- generations ---- */

struct gen_arg {
	int64_t after;
	int64_t want;		/* CKPT_NONE: the smallest times > after */
	struct dstream_gen *win;	/* ascending by time */
	size_t max, n;
};

/* The window slot of time t, making room for it; NULL if t is too big. */
static struct dstream_gen *
gen_slot(struct gen_arg *a, int64_t t)
{
	size_t i;

	for (i = 0; i < a->n && a->win[i].time_ms < t; i++)
		;
	if (i < a->n && a->win[i].time_ms == t)
		return &a->win[i];
	if (i == a->max)
		return NULL;
	/* insert at i, dropping the biggest time if the window is full */
	if (a->n == a->max)
		a->n--;
	memmove(&a->win[i + 1], &a->win[i], (a->n - i) * sizeof(a->win[0]));
	a->n++;
	memset(&a->win[i], 0, sizeof(a->win[0]));
	a->win[i].time_ms = t;
	return &a->win[i];
}

/*
 * Collects the files of the smallest times > after (or of want) into
 * the window.  A time that stays in the window was in it from its first
 * file on (the window's biggest time only shrinks), so its counts are
 * complete.
 */
static int
gen_cb(void *arg, const struct ckpt_stat *e)
{
	struct gen_arg *a = arg;
	struct dstream_gen *g;
	char target[CKPT_NAME_MAX];
	size_t n = strlen(e->name);
	int64_t t;
	int bk, side = 0;

	if (e->is_dir)
		return 0;
	if (n > 5 && e->name[0] == '.' && strcmp(e->name + n - 4, ".crc") == 0 &&
	    n - 5 < sizeof(target)) {
		memcpy(target, e->name + 1, n - 5);
		target[n - 5] = '\0';
		if (!dstream_parse_name(target, &t, &bk))
			return 0;
		side = 1;
	} else if (!dstream_parse_name(e->name, &t, &bk)) {
		return 0;
	}
	if (a->want != CKPT_NONE ? t != a->want :
	    a->after != CKPT_NONE && t <= a->after)
		return 0;
	g = gen_slot(a, t);
	if (g == NULL)
		return 0;
	g->files++;
	g->bytes += e->size;
	if (side) {
		if (bk)
			g->bk_crc = 1;
		else
			g->plain_crc = 1;
	} else if (bk) {
		g->has_bk = 1;
		g->bk_bytes = e->size;
	} else {
		g->has_plain = 1;
		g->plain_bytes = e->size;
	}
	return 0;
}

/*
 * Fills win with up to max generations after `after` (or the one of
 * want), one root pass each try.  A lone sidecar is no generation: it
 * is dropped, and if nothing else was found the search goes on past it.
 */
static int
gen_find(struct ckpt_store *st, int64_t after, int64_t want,
	struct dstream_gen *win, size_t max, size_t *n,
	struct ckpt_error *err)
{
	struct gen_arg a = { after, want, win, max, 0 };
	size_t i, k;
	int64_t last;
	int rc;

	for (;;) {
		a.n = 0;
		rc = ckpt_store_list(st, "", CKPT_LIST_NAME, NULL, gen_cb, &a,
			err);
		if (rc != CKPT_OK)
			return rc;
		if (a.n == 0)
			return CKPT_EOF;
		last = win[a.n - 1].time_ms;
		for (i = k = 0; i < a.n; i++)
			if (win[i].has_plain || win[i].has_bk)
				win[k++] = win[i];
		if (k > 0) {
			*n = k;
			return CKPT_OK;
		}
		if (want != CKPT_NONE)
			return CKPT_EOF;
		a.after = last;
	}
}

int
dstream_gen_window(struct ckpt_store *st, int64_t after,
	struct dstream_gen *win, size_t max, size_t *n, struct ckpt_error *err)
{
	return gen_find(st, after, CKPT_NONE, win, max, n, err);
}

int
dstream_gen_next(struct ckpt_store *st, int64_t after,
	struct dstream_gen *out, struct ckpt_error *err)
{
	size_t n;

	return gen_find(st, after, CKPT_NONE, out, 1, &n, err);
}

int
dstream_gen_get(struct ckpt_store *st, int64_t t, struct dstream_gen *out,
	struct ckpt_error *err)
{
	size_t n;
	int rc = gen_find(st, CKPT_NONE, t, out, 1, &n, err);

	if (rc == CKPT_EOF)
		return ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no checkpoint file for time %" PRId64, t);
	return rc;
}

/* ---- reading one checkpoint file ---- */

struct rfile_arg {
	struct ckpt_rfile *f;
};

/* spark_read_fn over a ckpt_rfile, filling whole reads. */
static int
rfile_read(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	struct rfile_arg *a = arg;
	size_t n = 0, g;
	int rc;

	/* the LZ4 reader wants full reads except at the end */
	while (n < len) {
		rc = ckpt_rfile_read(a->f, (char *)buf + n, len - n, &g, err);
		if (rc != CKPT_OK)
			return rc;
		if (g == 0)
			break;
		n += g;
	}
	*got = n;
	return CKPT_OK;
}

/* Room for more decoded bytes, capped at DSTREAM_MAX_FILE. */
static int
buf_grow(struct ckpt_buf *b, size_t more, const char *path,
	struct ckpt_error *err)
{
	if (b->len + more > DSTREAM_MAX_FILE)
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot read '%s': decoded checkpoint larger than %u bytes",
			path, DSTREAM_MAX_FILE);
	if (ckpt_buf_reserve(b, more) != CKPT_OK)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot read '%s': out of memory", path);
	return CKPT_OK;
}

/* Decodes the LZ4Block stream of an open file into b. */
static int
read_lz4(struct ckpt_rfile *f, const char *path, struct ckpt_buf *b,
	uint64_t *blocks, struct ckpt_error *err)
{
	struct rfile_arg ra = { f };
	struct spark_lz4 z;
	size_t got;
	int rc;

	spark_lz4_init(&z, rfile_read, &ra, path);
	for (;;) {
		rc = buf_grow(b, 32768, path, err);
		if (rc != CKPT_OK)
			break;
		rc = spark_lz4_read(&z, b->data + b->len, 32768, &got, err);
		if (rc != CKPT_OK)
			break;
		b->len += got;
		if (got < 32768)
			break;
	}
	*blocks = z.blocks;
	spark_lz4_release(&z);
	return rc;
}

/* Reads a file that is not LZ4-framed (raw Java serialization). */
static int
read_raw(struct ckpt_rfile *f, const char *path, const uint8_t *head,
	size_t hn, struct ckpt_buf *b, struct ckpt_error *err)
{
	size_t got;
	int rc;

	rc = buf_grow(b, hn, path, err);
	if (rc != CKPT_OK)
		return rc;
	memcpy(b->data, head, hn);
	b->len = hn;
	for (;;) {
		rc = buf_grow(b, 32768, path, err);
		if (rc != CKPT_OK)
			return rc;
		rc = ckpt_rfile_read(f, b->data + b->len, 32768, &got, err);
		if (rc != CKPT_OK || got == 0)
			return rc;
		b->len += got;
	}
}

/* Spark's other io codecs (section 2.2), named for the error. */
static const char *
codec_by_magic(const uint8_t *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x82SNAPPY", 7) == 0)
		return "snappy";
	if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	if (n >= 2 && p[0] == 'Z' && p[1] == 'V')
		return "lzf";
	return NULL;
}

/*
 * The decoded bytes of a checkpoint file: LZ4Block (Spark's default
 * codec) or, tolerated, raw Java serialization.
 */
static int
read_decoded(struct ckpt_store *st, const char *path, struct ckpt_buf *b,
	uint64_t *bytes, uint64_t *blocks, struct ckpt_error *err)
{
	struct ckpt_rfile *f = NULL;
	uint8_t head[8];
	const char *codec;
	size_t hn = 0, g;
	int rc;

	*blocks = 0;
	rc = ckpt_store_open_read(st, path, &f, err);
	if (rc != CKPT_OK)
		return rc;
	*bytes = ckpt_rfile_size(f);
	while (hn < sizeof(head)) {
		rc = ckpt_rfile_read(f, head + hn, sizeof(head) - hn, &g, err);
		if (rc != CKPT_OK)
			goto out;
		if (g == 0)
			break;
		hn += g;
	}
	if (hn == sizeof(head) && memcmp(head, SPARK_LZ4_MAGIC, 8) == 0) {
		/* restart the stream: the LZ4 reader wants the magic */
		ckpt_rfile_close(f);
		f = NULL;
		rc = ckpt_store_open_read(st, path, &f, err);
		if (rc == CKPT_OK)
			rc = read_lz4(f, path, b, blocks, err);
	} else if (ckpt_jser_is_stream(head, hn)) {
		rc = read_raw(f, path, head, hn, b, err);
	} else if ((codec = codec_by_magic(head, hn)) != NULL) {
		rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
			"cannot read '%s': compressed with %s, only lz4 is supported",
			path, codec);
	} else if (hn == 0) {
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot read '%s': empty file", path);
	} else {
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot read '%s': at offset 0: no LZ4Block magic", path);
	}
out:
	ckpt_rfile_close(f);
	return rc;
}

int
dstream_read_checkpoint(struct ckpt_store *st, const char *path,
	struct dstream_file *out, struct ckpt_error *err)
{
	struct ckpt_buf b = { 0 };
	const char *base = strrchr(path, '/');
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", base ? base + 1 : path);
	rc = read_decoded(st, path, &b, &out->bytes, &out->lz4_blocks, err);
	if (rc == CKPT_OK)
		rc = ckpt_jser_checkpoint_decode(b.data, b.len, path, &out->cp,
			err);
	if (rc == CKPT_OK)
		out->java9 = out->cp.java9_callsites;
	ckpt_buf_release(&b);
	return rc;
}

void
dstream_file_release(struct dstream_file *f)
{
	if (f != NULL)
		ckpt_jser_checkpoint_release(&f->cp);
}

/* ---- restart point ---- */

static int
exists(struct ckpt_store *st, const char *path, struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat s;
	int rc = ckpt_store_stat(st, path, &s, &e2);

	if (rc == CKPT_OK)
		return !s.is_dir;
	if (e2.kind == CKPT_E_NOTFOUND)
		return 0;
	*err = e2;
	return rc;
}

int
dstream_restart(struct ckpt_store *st, const struct dstream_scan *sc,
	struct dstream_file *out, int *bk, char *rule, size_t rulelen,
	struct ckpt_error *err)
{
	char name[64], first_bad[64] = "";
	struct ckpt_error e2;
	int rc, k, tried = 0;

	for (int i = 0; i < sc->nnewest; i++) {
		for (k = 0; k < 2; k++) {
			snprintf(name, sizeof(name), "checkpoint-%" PRId64 "%s",
				sc->newest[i], k ? ".bk" : "");
			rc = exists(st, name, err);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue;
			tried++;
			memset(&e2, 0, sizeof(e2));
			rc = dstream_read_checkpoint(st, name, out, &e2);
			if (rc == CKPT_OK) {
				*bk = k;
				if (tried == 1)
					snprintf(rule, rulelen,
						"newest checkpoint file '%s' decodes",
						name);
				else
					snprintf(rule, rulelen,
						"'%s' is the newest file that decodes ('%s' does not; Spark reads newest first, .bk after its plain file)",
						name, first_bad);
				return CKPT_OK;
			}
			if (e2.kind == CKPT_E_NOMEM || e2.kind == CKPT_E_IO) {
				*err = e2;
				return rc;
			}
			if (first_bad[0] == '\0')
				snprintf(first_bad, sizeof(first_bad), "%s",
					name);
		}
	}
	if (tried == 0)
		snprintf(rule, rulelen, "no checkpoint file");
	else
		snprintf(rule, rulelen,
			"none of the %d newest checkpoint files decodes", tried);
	return CKPT_EOF;
}

/* ---- JSON helpers ---- */

static int
jput(struct ckpt_buf *b, const char *s)
{
	return spark_buf_puts(b, s) == 0 ? CKPT_OK : CKPT_FAILED;
}

static int
jstr(struct ckpt_buf *b, const char *s)
{
	return spark_json_str(b, s, strlen(s)) == 0 ? CKPT_OK : CKPT_FAILED;
}

static int
ji64(struct ckpt_buf *b, int64_t v)
{
	char t[32];

	if (v == CKPT_NONE)
		return jput(b, "null");
	snprintf(t, sizeof(t), "%" PRId64, v);
	return jput(b, t);
}

static int
ju64(struct ckpt_buf *b, uint64_t v)
{
	char t[32];

	snprintf(t, sizeof(t), "%" PRIu64, v);
	return jput(b, t);
}

/* ,"key": */
static int
jkey(struct ckpt_buf *b, const char *key, int first)
{
	if (!first && jput(b, ",") != CKPT_OK)
		return CKPT_FAILED;
	if (jstr(b, key) != CKPT_OK)
		return CKPT_FAILED;
	return jput(b, ":");
}

static int
jnomem(struct ckpt_error *err)
{
	return ckpt_error_set(err, CKPT_E_NOMEM,
		"cannot describe dstream checkpoint: out of memory");
}

/* The decoded fields of one checkpoint file (no braces). */
static int
cp_fields_json(struct ckpt_buf *b, const struct ckpt_jser_checkpoint *cp)
{
	int rc = CKPT_OK;
	size_t i;

	rc |= jkey(b, "checkpoint_time_ms", 0) | ji64(b, cp->checkpoint_time_ms);
	rc |= jkey(b, "pending_times", 0) | jput(b, "[");
	for (i = 0; i < cp->n_pending && i < CKPT_JSER_MAX_PENDING; i++)
		rc |= jput(b, i ? "," : "") | ji64(b, cp->pending_times[i]);
	rc |= jput(b, "]");
	rc |= jkey(b, "pending_count", 0) | ju64(b, cp->n_pending);
	rc |= jkey(b, "checkpoint_duration_ms", 0) |
	    ji64(b, cp->checkpoint_duration_ms);
	rc |= jkey(b, "batch_duration_ms", 0) | ji64(b, cp->batch_duration_ms);
	rc |= jkey(b, "zero_time_ms", 0) | ji64(b, cp->zero_time_ms);
	rc |= jkey(b, "app_name", 0) | jstr(b, cp->framework);
	rc |= jkey(b, "master", 0) | jstr(b, cp->master);
	rc |= jkey(b, "checkpoint_dir", 0) | jstr(b, cp->checkpoint_dir);
	rc |= jkey(b, "serialized_bytes", 0) | ju64(b, cp->serialized_bytes);
	return rc == CKPT_OK ? CKPT_OK : CKPT_FAILED;
}

/* One checkpoint file of a generation as a JSON object. */
static int
file_json(struct ckpt_store *st, struct ckpt_buf *b, int64_t t, int bk,
	uint64_t bytes, int crc, struct ckpt_error *err)
{
	struct dstream_file f;
	struct ckpt_error e2 = { 0 };
	char name[64];
	int rc = CKPT_OK;

	snprintf(name, sizeof(name), "checkpoint-%" PRId64 "%s", t,
		bk ? ".bk" : "");
	rc |= jput(b, "{") | jkey(b, "file", 1) | jstr(b, name);
	rc |= jkey(b, "bk", 0) | jput(b, bk ? "true" : "false");
	rc |= jkey(b, "bytes", 0) | ju64(b, bytes);
	rc |= jkey(b, "crc_sidecar", 0) | jput(b, crc ? "true" : "false");
	if (rc != CKPT_OK)
		return jnomem(err);
	if (dstream_read_checkpoint(st, name, &f, &e2) == CKPT_OK) {
		rc |= jkey(b, "lz4_blocks", 0) | ju64(b, f.lz4_blocks);
		rc |= cp_fields_json(b, &f.cp);
		dstream_file_release(&f);
	} else {
		if (e2.kind == CKPT_E_NOMEM || e2.kind == CKPT_E_IO) {
			*err = e2;
			return CKPT_FAILED;
		}
		rc |= jkey(b, "error", 0) | jstr(b, e2.msg);
	}
	rc |= jput(b, "}");
	return rc == CKPT_OK ? CKPT_OK : jnomem(err);
}

/*
 * The "offsets" of a generation, for diff: what a restart from it would
 * resume (the file Spark would load for time t: the plain one if it
 * decodes, else the .bk), or null when neither decodes.
 */
static int
gen_offsets_json(struct ckpt_store *st, const struct dstream_gen *g,
	struct ckpt_buf *b, struct ckpt_error *err)
{
	struct ckpt_jser_checkpoint *cp;
	struct dstream_file f;
	struct ckpt_error e2;
	char name[64];
	int rc = CKPT_OK;
	size_t i;

	for (int bk = 0; bk < 2; bk++) {
		if (!(bk ? g->has_bk : g->has_plain))
			continue;
		snprintf(name, sizeof(name), "checkpoint-%" PRId64 "%s",
			g->time_ms, bk ? ".bk" : "");
		memset(&e2, 0, sizeof(e2));
		if (dstream_read_checkpoint(st, name, &f, &e2) != CKPT_OK) {
			if (e2.kind == CKPT_E_IO || e2.kind == CKPT_E_NOMEM) {
				*err = e2;
				return CKPT_FAILED;
			}
			continue;
		}
		cp = &f.cp;
		rc |= jput(b, "{") | jkey(b, "file", 1) | jstr(b, name);
		rc |= jkey(b, "checkpoint_time_ms", 0) |
		    ji64(b, cp->checkpoint_time_ms);
		rc |= jkey(b, "pending_times", 0) | jput(b, "[");
		for (i = 0; i < cp->n_pending && i < CKPT_JSER_MAX_PENDING; i++)
			rc |= jput(b, i ? "," : "") |
			    ji64(b, cp->pending_times[i]);
		rc |= jput(b, "]") | jkey(b, "zero_time_ms", 0) |
		    ji64(b, cp->zero_time_ms);
		rc |= jkey(b, "batch_duration_ms", 0) |
		    ji64(b, cp->batch_duration_ms) | jput(b, "}");
		dstream_file_release(&f);
		return rc == CKPT_OK ? CKPT_OK : jnomem(err);
	}
	return jput(b, "null") == CKPT_OK ? CKPT_OK : jnomem(err);
}

int
dstream_gen_json(struct ckpt_store *st, int64_t t, struct ckpt_buf *b,
	struct ckpt_error *err)
{
	struct dstream_gen g;
	int rc;

	rc = dstream_gen_get(st, t, &g, err);
	if (rc != CKPT_OK)
		return rc;
	if ((jput(b, "{") | jkey(b, "batch", 1) | ji64(b, t) |
	    jkey(b, "time_ms", 0) | ji64(b, t) |
	    jkey(b, "committed", 0) | jput(b, g.has_plain ? "true" : "false") |
	    jkey(b, "offsets", 0)) != CKPT_OK)
		return jnomem(err);
	rc = gen_offsets_json(st, &g, b, err);
	if (rc != CKPT_OK)
		return rc;
	if ((jkey(b, "commit", 0) | jput(b, g.has_plain ? "{\"file\":" :
	    "null")) != CKPT_OK)
		return jnomem(err);
	if (g.has_plain) {
		char name[64];

		snprintf(name, sizeof(name), "checkpoint-%" PRId64, t);
		if ((jstr(b, name) | jput(b, "}")) != CKPT_OK)
			return jnomem(err);
	}
	if (jkey(b, "files", 0) != CKPT_OK || jput(b, "[") != CKPT_OK)
		return jnomem(err);
	if (g.has_plain) {
		rc = file_json(st, b, t, 0, g.plain_bytes, g.plain_crc, err);
		if (rc != CKPT_OK)
			return rc;
	}
	if (g.has_bk) {
		if (g.has_plain && jput(b, ",") != CKPT_OK)
			return jnomem(err);
		rc = file_json(st, b, t, 1, g.bk_bytes, g.bk_crc, err);
		if (rc != CKPT_OK)
			return rc;
	}
	return jput(b, "]}") == CKPT_OK ? CKPT_OK : jnomem(err);
}

/* ---- summary JSON (info metadata, and the Spark driver's) ---- */

#define SUMMARY_MAX_GENS 1000

/* The generations array (at most SUMMARY_MAX_GENS shown). */
static int
summary_gens(struct ckpt_store *st, struct ckpt_buf *b,
	struct ckpt_error *err)
{
	struct dstream_gen g;
	int64_t t = CKPT_NONE;
	unsigned n = 0;
	int rc;

	if (jkey(b, "generations", 1) != CKPT_OK || jput(b, "[") != CKPT_OK)
		return jnomem(err);
	while ((rc = dstream_gen_next(st, t, &g, err)) == CKPT_OK) {
		t = g.time_ms;
		if (n++ == SUMMARY_MAX_GENS)
			continue;	/* counted in "generation_count" */
		if ((jput(b, n > 1 ? ",{" : "{") | jkey(b, "time_ms", 1) |
		    ji64(b, t) | jkey(b, "plain", 0) |
		    jput(b, g.has_plain ? "true" : "false") |
		    jkey(b, "bk", 0) | jput(b, g.has_bk ? "true" : "false") |
		    jkey(b, "bytes", 0) | ju64(b, g.bytes) |
		    jput(b, "}")) != CKPT_OK)
			return jnomem(err);
	}
	if (rc != CKPT_EOF)
		return rc;
	if ((jput(b, "]") | jkey(b, "generation_count", 0) |
	    ju64(b, n)) != CKPT_OK)
		return jnomem(err);
	return CKPT_OK;
}

/* What the restart file says about the job, conf secrets masked. */
static int
summary_job(struct ckpt_buf *b, const struct dstream_file *f,
	const char *rule)
{
	const struct ckpt_jser_checkpoint *cp = &f->cp;
	int rc = CKPT_OK;
	size_t i;

	rc |= jkey(b, "restart_file", 0) | jstr(b, f->name);
	rc |= jkey(b, "restart_rule", 0) | jstr(b, rule);
	rc |= cp_fields_json(b, cp);
	rc |= jkey(b, "input_streams", 0) | jput(b, "[");
	for (i = 0; i < cp->n_input_streams && i < CKPT_JSER_MAX_STREAMS; i++)
		rc |= jput(b, i ? "," : "") | jstr(b, cp->input_streams[i]);
	rc |= jput(b, "]") | jkey(b, "output_streams", 0) | jput(b, "[");
	for (i = 0; i < cp->n_output_streams && i < CKPT_JSER_MAX_STREAMS;
	    i++)
		rc |= jput(b, i ? "," : "") | jstr(b, cp->output_streams[i]);
	rc |= jput(b, "]") | jkey(b, "conf", 0) | jput(b, "{");
	for (i = 0; i < cp->n_conf; i++) {
		/* secrets never printed (DESIGN.md section 6) */
		const char *k = cp->conf[i].key ? cp->conf[i].key : "";
		const char *v = cp->conf[i].value ? cp->conf[i].value : "";

		if (strstr(k, "secret") || strstr(k, "password") ||
		    strstr(k, "token") || strstr(k, "credential"))
			v = "***";
		rc |= jput(b, i ? "," : "") | jstr(b, k) | jput(b, ":") |
		    jstr(b, v);
	}
	rc |= jput(b, "}");
	return rc == CKPT_OK ? CKPT_OK : CKPT_FAILED;
}

struct sum_arg {
	struct ckpt_buf *b;
	int n;
	int failed;
};

/* One WAL segment of the summary. */
static int
summary_log_cb(void *arg, const struct ckpt_dstream_log *l)
{
	struct sum_arg *a = arg;
	struct ckpt_buf *b = a->b;
	int rc = CKPT_OK;

	rc |= jput(b, a->n++ ? ",{" : "{") | jkey(b, "path", 1) |
	    jstr(b, l->path) | jkey(b, "stream", 0) | jstr(b, l->stream);
	rc |= jkey(b, "bytes", 0) | ju64(b, l->bytes);
	rc |= jkey(b, "records", 0) | ju64(b, l->records);
	rc |= jkey(b, "start_ms", 0) | ji64(b, l->start_ms);
	rc |= jkey(b, "end_ms", 0) | ji64(b, l->end_ms);
	rc |= jkey(b, "cut_offset", 0) |
	    ji64(b, l->cut_offset < 0 ? CKPT_NONE : l->cut_offset);
	if (l->stream[0] == '\0') {
		rc |= jkey(b, "batched", 0) |
		    jput(b, l->batched ? "true" : "false");
		rc |= jkey(b, "events", 0) | jput(b, "{") |
		    jkey(b, "BlockAdditionEvent", 1) | ju64(b, l->ev_add) |
		    jkey(b, "BatchAllocationEvent", 0) | ju64(b, l->ev_alloc) |
		    jkey(b, "BatchCleanupEvent", 0) | ju64(b, l->ev_cleanup) |
		    jkey(b, "other", 0) | ju64(b, l->ev_other) | jput(b, "}");
	}
	rc |= jput(b, "}");
	if (rc != CKPT_OK) {
		a->failed = 1;
		return 1;
	}
	return 0;
}

/* One RDD checkpoint dir of the summary. */
static int
summary_rdd_cb(void *arg, const struct ckpt_dstream_rdd *r)
{
	struct sum_arg *a = arg;
	struct ckpt_buf *b = a->b;
	int rc = CKPT_OK;

	rc |= jput(b, a->n++ ? ",{" : "{") | jkey(b, "path", 1) |
	    jstr(b, r->path) | jkey(b, "rdd_id", 0) | ji64(b, r->rdd_id);
	rc |= jkey(b, "parts", 0) | ju64(b, r->parts);
	rc |= jkey(b, "bytes", 0) | ju64(b, r->bytes);
	rc |= jkey(b, "partitioner", 0) |
	    jput(b, r->has_partitioner ? "true" : "false");
	rc |= jkey(b, "referenced", 0) |
	    jput(b, r->referenced ? "true" : "false") | jput(b, "}");
	if (rc != CKPT_OK) {
		a->failed = 1;
		return 1;
	}
	return 0;
}

int
dstream_summary_json(struct ckpt_store *st, struct ckpt_buf *b,
	struct ckpt_error *err)
{
	struct dstream_scan sc;
	struct dstream_file f;
	struct sum_arg a = { b, 0, 0 };
	char rule[256];
	int rc, bk;

	rc = dstream_scan(st, &sc, err);
	if (rc != CKPT_OK)
		return rc;
	if (jput(b, "{") != CKPT_OK)
		return jnomem(err);
	rc = summary_gens(st, b, err);
	if (rc != CKPT_OK)
		return rc;
	rc = dstream_restart(st, &sc, &f, &bk, rule, sizeof(rule), err);
	if (rc == CKPT_OK) {
		rc = summary_job(b, &f, rule);
		dstream_file_release(&f);
		if (rc != CKPT_OK)
			return jnomem(err);
	} else if (rc == CKPT_EOF) {
		if ((jkey(b, "restart_file", 0) | jput(b, "null") |
		    jkey(b, "restart_rule", 0) | jstr(b, rule)) != CKPT_OK)
			return jnomem(err);
	} else {
		return rc;
	}
	if ((jkey(b, "temp_file", 0) |
	    jput(b, sc.has_temp ? "true" : "false") |
	    jkey(b, "write_ahead_logs", 0) | jput(b, "[")) != CKPT_OK)
		return jnomem(err);
	rc = dstream_logs(st, 1, summary_log_cb, &a, err);
	if (rc != CKPT_OK)
		return rc;
	if (a.failed)
		return jnomem(err);
	a.n = 0;
	if ((jput(b, "]") | jkey(b, "rdd_checkpoints", 0) |
	    jput(b, "[")) != CKPT_OK)
		return jnomem(err);
	rc = dstream_rdds(st, summary_rdd_cb, &a, err);
	if (rc != CKPT_OK)
		return rc;
	if (a.failed || jput(b, "]}") != CKPT_OK)
		return jnomem(err);
	return CKPT_OK;
}

/* ---- the driver ---- */

static int
ds_open(struct ckpt *c, struct ckpt_error *err)
{
	struct dstream *d;
	int rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot open dstream checkpoint: out of memory");
	rc = dstream_scan(c->st, &d->sc, err);
	if (rc == CKPT_OK && d->sc.gens == 0 && !d->sc.has_wal_meta &&
	    !d->sc.has_wal_data)
		rc = ckpt_error_set(err, CKPT_E_NOTCKPT,
			"cannot open '%s': no dstream checkpoint files",
			ckpt_store_url(c->st));
	if (rc == CKPT_OK) {
		rc = dstream_restart(c->st, &d->sc, &d->rf, &d->restart_bk,
			d->rule, sizeof(d->rule), err);
		d->restart_ok = rc == CKPT_OK;
		if (rc == CKPT_EOF)
			rc = CKPT_OK;
	}
	if (rc != CKPT_OK) {
		free(d);
		return rc;
	}
	c->priv = d;
	return CKPT_OK;
}

/* Frees the driver state. */
static void
ds_close(struct ckpt *c)
{
	struct dstream *d = c->priv;

	if (d == NULL)
		return;
	dstream_file_release(&d->rf);
	free(d);
	c->priv = NULL;
}

/* Adds up files and bytes for info. */
static int
count_cb(void *arg, const struct ckpt_file *f)
{
	struct ckpt_info *out = arg;

	out->files++;
	out->bytes += f->size;
	return 0;
}

/* Spark version estimate: only the JVM of the call sites tells. */
static void
ds_version(const struct dstream *d, struct ckpt_info *out)
{
	if (!d->restart_ok)
		return;
	if (d->rf.java9) {
		snprintf(out->version_estimate, sizeof(out->version_estimate),
			"3.x");
		snprintf(out->version_reason, sizeof(out->version_reason),
			"dstream checkpoint; its call sites come from Java 9+ (java.base/ frames), and Spark 2.x ran on Java 8 only");
	} else {
		snprintf(out->version_estimate, sizeof(out->version_estimate),
			"1.x-3.x");
		snprintf(out->version_reason, sizeof(out->version_reason),
			"dstream checkpoint (org.apache.spark.streaming.Checkpoint); its bytes do not narrow the version");
	}
}

/* Info from the scan and the restart file, plus the summary JSON. */
static int
ds_info(struct ckpt *c, struct ckpt_info *out, struct ckpt_error *err)
{
	struct dstream *d = c->priv;
	const struct ckpt_jser_checkpoint *cp = &d->rf.cp;
	struct ckpt_buf b = { 0 };
	int rc;

	snprintf(out->format, sizeof(out->format), "dstream");
	snprintf(out->kind, sizeof(out->kind), "spark streaming (dstream)");
	out->format_version = 0;
	ds_version(d, out);
	out->first_batch = d->sc.first_ms;
	out->last_batch = d->sc.last_ms;
	out->last_commit = d->sc.last_plain_ms;
	out->batches = (int64_t)d->sc.gens;
	out->restart_point = CKPT_NONE;
	out->next_batch = CKPT_NONE;
	out->state_version = CKPT_NONE;
	out->watermark_ms = CKPT_NONE;
	snprintf(out->restart_rule, sizeof(out->restart_rule), "%s", d->rule);
	if (d->restart_ok) {
		snprintf(out->name, sizeof(out->name), "%.*s",
			(int)sizeof(out->name) - 1, cp->framework);
		out->restart_point = cp->checkpoint_time_ms;
		/* a restart re-runs pending batches first */
		if (cp->n_pending > 0 && cp->pending_times[0] != CKPT_NONE)
			out->next_batch = cp->pending_times[0];
		else if (cp->batch_duration_ms != CKPT_NONE)
			out->next_batch = cp->checkpoint_time_ms +
			    cp->batch_duration_ms;
	}
	out->operators = 0;
	rc = dstream_files_walk(c->st, 0, count_cb, out, err);
	if (rc != CKPT_OK)
		return rc;
	rc = dstream_summary_json(c->st, &b, err);
	if (rc == CKPT_OK && spark_buf_cstr(&b) != 0)
		rc = jnomem(err);
	if (rc != CKPT_OK) {
		ckpt_buf_release(&b);
		return rc;
	}
	out->metadata_json = (char *)b.data;
	return CKPT_OK;
}

#define DS_ITER_WINDOW 32

struct ds_iter {
	int64_t last;			/* the last time returned */
	struct dstream_gen win[DS_ITER_WINDOW];
	size_t n, pos;			/* window fill and read position */
};

/* Batch iteration: the state is the last time returned. */
static int
ds_iter_open(struct ckpt *c, void **state, struct ckpt_error *err)
{
	struct ds_iter *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot list batches: out of memory");
	it->last = CKPT_NONE;
	*state = it;
	return CKPT_OK;
}

/* The next generation as a batch (one root pass per window). */
static int
ds_iter_next(struct ckpt *c, void *state, struct ckpt_batch *out,
	struct ckpt_error *err)
{
	struct dstream *d = c->priv;
	struct ds_iter *it = state;
	struct dstream_gen g;
	int rc;

	if (it->pos == it->n) {
		it->pos = it->n = 0;
		rc = dstream_gen_window(c->st, it->last, it->win,
			DS_ITER_WINDOW, &it->n, err);
		if (rc != CKPT_OK)
			return rc;
	}
	g = it->win[it->pos++];
	it->last = g.time_ms;
	memset(out, 0, sizeof(*out));
	out->id = g.time_ms;
	out->has_offsets = 1;
	out->committed = g.has_plain;
	out->time_ms = g.time_ms;
	out->files = g.files;
	out->bytes = g.bytes;
	out->is_restart_point = d->restart_ok &&
	    d->rf.cp.checkpoint_time_ms == g.time_ms;
	out->has_state = 0;
	return CKPT_OK;
}

/* Frees the iterator state. */
static void
ds_iter_close(struct ckpt *c, void *state)
{
	free(state);
}

/* A generation as JSON (dstream_gen_json). */
static int
ds_batch_json(struct ckpt *c, int64_t batch, char **json,
	struct ckpt_error *err)
{
	struct ckpt_buf b = { 0 };
	int rc;

	*json = NULL;
	rc = dstream_gen_json(c->st, batch, &b, err);
	if (rc == CKPT_OK && spark_buf_cstr(&b) != 0)
		rc = jnomem(err);
	if (rc != CKPT_OK) {
		ckpt_buf_release(&b);
		return rc;
	}
	*json = (char *)b.data;
	return CKPT_OK;
}

/* DStream checkpoints keep no operator state files here. */
static int
ds_operator_count(struct ckpt *c)
{
	return 0;
}

/* Every file, nothing skipped (not mixed). */
static int
ds_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
	struct ckpt_error *err)
{
	return dstream_files_walk(c->st, 0, cb, arg, err);
}

/* Verify everything (not mixed). */
static int
ds_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
	ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
	struct ckpt_error *err)
{
	return dstream_verify(c->st, 0, o, cb, arg, stats, err);
}

/* Hex dump regions of one file. */
static int
ds_file_regions(struct ckpt *c, const char *path, ckpt_region_fn cb,
	void *arg, struct ckpt_error *err)
{
	return dstream_file_regions(c->st, path, cb, arg, err);
}

int
ckpt_dstream_logs(struct ckpt *c, ckpt_dstream_log_fn cb, void *arg,
	struct ckpt_error *err)
{
	return dstream_logs(ckpt_get_store(c), 1, cb, arg, err);
}

/* One checkpoint file for ckpt_dstream_files(). */
static int
public_file(struct ckpt_store *st, int64_t t, int bk, uint64_t bytes,
	const char *restart, ckpt_dstream_file_fn cb, void *arg,
	struct ckpt_error *err)
{
	struct ckpt_dstream_file pf;
	struct dstream_file f;
	struct ckpt_error e2 = { 0 };
	char name[64];
	int rc, stop;

	snprintf(name, sizeof(name), "checkpoint-%" PRId64 "%s", t,
		bk ? ".bk" : "");
	memset(&pf, 0, sizeof(pf));
	pf.name = name;
	pf.time_ms = t;
	pf.bk = bk;
	pf.bytes = bytes;
	pf.checkpoint_time_ms = CKPT_NONE;
	pf.is_restart = strcmp(name, restart) == 0;
	rc = dstream_read_checkpoint(st, name, &f, &e2);
	if (rc == CKPT_OK) {
		pf.decodes = 1;
		pf.checkpoint_time_ms = f.cp.checkpoint_time_ms;
		pf.pending_times = f.cp.pending_times;
		pf.n_pending = f.cp.n_pending;
	} else if (e2.kind == CKPT_E_IO || e2.kind == CKPT_E_NOMEM) {
		*err = e2;
		return rc;
	} else {
		pf.error = e2.msg;
	}
	stop = cb(arg, &pf);
	if (rc == CKPT_OK)
		dstream_file_release(&f);
	return stop ? CKPT_EOF : CKPT_OK;
}

int
ckpt_dstream_files(struct ckpt *c, ckpt_dstream_file_fn cb, void *arg,
	struct ckpt_error *err)
{
	struct ckpt_store *st = ckpt_get_store(c);
	struct dstream_scan sc;
	struct dstream_file rf;
	struct dstream_gen g;
	char restart[CKPT_NAME_MAX] = "", rule[256];
	int64_t t = CKPT_NONE;
	int rc, bk;

	rc = dstream_scan(st, &sc, err);
	if (rc != CKPT_OK || sc.gens == 0)
		return rc;
	rc = dstream_restart(st, &sc, &rf, &bk, rule, sizeof(rule), err);
	if (rc == CKPT_OK) {
		snprintf(restart, sizeof(restart), "%s", rf.name);
		dstream_file_release(&rf);
	} else if (rc != CKPT_EOF) {
		return rc;
	}
	while ((rc = dstream_gen_next(st, t, &g, err)) == CKPT_OK) {
		t = g.time_ms;
		if (g.has_plain)
			rc = public_file(st, t, 0, g.plain_bytes, restart, cb,
				arg, err);
		if (rc == CKPT_OK && g.has_bk)
			rc = public_file(st, t, 1, g.bk_bytes, restart, cb,
				arg, err);
		if (rc != CKPT_OK)
			break;
	}
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

int
ckpt_dstream_rdds(struct ckpt *c, ckpt_dstream_rdd_fn cb, void *arg,
	struct ckpt_error *err)
{
	return dstream_rdds(ckpt_get_store(c), cb, arg, err);
}

const struct ckpt_format_ops ckpt_fmt_dstream_ops = {
	.name = "dstream",
	.bid = fmt_bid,
	.open = ds_open,
	.close = ds_close,
	.info = ds_info,
	.batch_iter_open = ds_iter_open,
	.batch_iter_next = ds_iter_next,
	.batch_iter_close = ds_iter_close,
	.batch_json = ds_batch_json,
	.operator_count = ds_operator_count,
	.files_walk = ds_files_walk,
	.verify = ds_verify,
	.file_regions = ds_file_regions,
	.prune = &dstream_prune_ops,
};
