/*
 * fmt_spark_files.c - roles of every file in a Spark checkpoint, their
 * checksums, verify, and hex-dump regions.
 *
 * The walk gives each file a role (docs/spark-checkpoint-format.md
 * sections 1-6, 10): logs (offsets/<N> after the restart point are
 * UNCOMMITTED: planned, never committed; verify still parses them, a
 * restart re-runs the newest), sources, state deltas/snapshots (versions
 * above the restart state version are UNCOMMITTED: partial writes of
 * the batch a restart re-runs), schema and operator metadata, Hadoop
 * `.X.crc` sidecars and Spark 4.1 JSON `X.crc` checksum files (CHECKSUM,
 * or ORPHAN when X is gone, section 10 item 7), temp files of crashed
 * writes (TEMP, section 10 items 1-3), foreign files (.DS_Store...), and
 * OTHER for nested checkpoints, DStream files and RocksDB SST/log dirs.
 *
 * verify checks every sidecar (Hadoop CRC-32 through codec_hadoopcrc,
 * Spark CRC-32C through codec.h), parses every offsets, commit,
 * metadata and schema file,
 * decodes every state file (LZ4 block checksums, record framing, rows)
 * at --read-state, and checks that every state version the restart
 * point needs is present.  Crash leftovers are warnings; damage is an
 * error naming the file.  Directories are walked in NAME order, one
 * listing window at a time.
 */
#include "spark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../ctx.h"
#include "../codec/codec.h"
#include "../codec/codec_hadoopcrc.h"
#include "dstream.h"

#define WALK_DEPTH_MAX 16

static struct spark *
SP(struct ckpt *c)
{
	return c->priv;
}

/* ---- classification ---- */

struct fclass {
	int role;
	int64_t batch;
	int op;
	int partition;
	int sidecar;		/* a checksum file of some other file */
	int json_crc;		/* Spark 4.1 JSON checksum */
	int nested;		/* inside a nested checkpoint */
	int state;		/* a .delta/.snapshot */
	int snapshot;
	int rocksdb;
	int op_meta;
	int log;		/* offsets/<N> or commits/<N> */
};

static int
is_foreign_name(const char *name)
{
	return strcmp(name, ".DS_Store") == 0 ||
		strcmp(name, "Thumbs.db") == 0 ||
		strcmp(name, "desktop.ini") == 0 ||
		strncmp(name, "._", 2) == 0;
}

static int
store_index(const struct spark *sp, int op, const char *store)
{
	int i;

	for (i = 0; i < sp->nstores; i++)
		if (sp->stores[i].op_id == op &&
		    strcmp(sp->stores[i].store, store) == 0)
			return i;
	return -1;
}

static int
exists(struct ckpt *c, const char *path)
{
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;

	return ckpt_store_stat(c->st, path, &sb, &e2) == CKPT_OK;
}

/* A state file name: <V>.delta, .snapshot, .zip, .changelog, <V>_<id>. */
static int
state_name(const char *name, int64_t *v, int *snap, int *rocks)
{
	char num[24];
	size_t n = strcspn(name, "._");
	const char *ext;

	if (n == 0 || n >= sizeof(num))
		return 0;
	memcpy(num, name, n);
	num[n] = 0;
	if (!spark_parse_id(num, v))
		return 0;
	ext = strrchr(name, '.');
	if (!ext)
		return 0;
	*rocks = 0;
	*snap = 0;
	if (strcmp(ext, ".delta") == 0 && name[n] == '.')
		return ext == name + n;
	if (strcmp(ext, ".snapshot") == 0 && ext == name + n) {
		*snap = 1;
		return 1;
	}
	if (strcmp(ext, ".zip") == 0 || strcmp(ext, ".changelog") == 0) {
		*rocks = 1;
		*snap = strcmp(ext, ".zip") == 0;
		return 1;
	}
	return 0;
}

static void classify(struct ckpt *c, const char *path, struct fclass *f);

/* Parent dir of path into dir ("" for the root). */
static void
parent_of(const char *path, char *dir, size_t n)
{
	const char *sl = strrchr(path, '/');

	if (!sl)
		dir[0] = 0;
	else
		snprintf(dir, n, "%.*s", (int)(sl - path), path);
}

static void
classify_sidecar(struct ckpt *c, const char *path, const char *target,
	struct fclass *f)
{
	char dir[SPARK_PATH_MAX], tpath[SPARK_PATH_MAX + 8];
	struct fclass tf;

	parent_of(path, dir, sizeof(dir));
	snprintf(tpath, sizeof(tpath), "%s%s%s", dir, dir[0] ? "/" : "",
		target);
	f->sidecar = 1;
	if (!exists(c, tpath)) {
		f->role = CKPT_F_ORPHAN;
		return;
	}
	if (spark_is_temp_name(target)) {
		f->role = CKPT_F_TEMP;
		return;
	}
	classify(c, tpath, &tf);
	f->role = tf.role == CKPT_F_FOREIGN || tf.role == CKPT_F_OTHER ?
		tf.role : CKPT_F_CHECKSUM;
	f->batch = tf.batch;
	f->op = tf.op;
	f->partition = tf.partition;
	f->nested = tf.nested;
}

/* Files under state/ (section 2.1, 4, 5). */
static void
classify_state(struct ckpt *c, char **comp, int n, struct fclass *f)
{
	struct spark *sp = SP(c);
	const char *name = comp[n - 1], *store = "";
	int64_t op, part, v;
	int snap, rocks, depth;

	f->role = CKPT_F_FOREIGN;
	if (n < 3 || !spark_parse_id(comp[1], &op))
		return;
	if (strcmp(comp[2], "_metadata") == 0) {
		f->role = CKPT_F_METADATA;
		f->op_meta = 1;
		return;
	}
	if (strcmp(comp[2], "_stateSchema") == 0) {
		f->role = CKPT_F_SCHEMA;
		return;
	}
	if (n < 4 || !spark_parse_id(comp[2], &part))
		return;
	depth = 4;
	if (n >= 5 && strcmp(comp[3], "_metadata") != 0 &&
	    strcmp(comp[3], "SSTs") != 0 && strcmp(comp[3], "logs") != 0) {
		store = comp[3];
		depth = 5;
	}
	f->op = store_index(sp, (int)op, store);
	f->partition = (int)part;
	if (n > depth) {
		const char *sub = comp[depth - 1];
		if (strcmp(sub, "_metadata") == 0)
			f->role = strcmp(name, "schema") == 0 ||
				strncmp(name, "schema", 6) == 0 ?
				CKPT_F_SCHEMA : CKPT_F_METADATA;
		else if (strcmp(sub, "SSTs") == 0 || strcmp(sub, "logs") == 0)
			f->role = CKPT_F_OTHER;
		return;
	}
	if (n != depth)
		return;
	if (state_name(name, &v, &snap, &rocks)) {
		f->role = snap ? CKPT_F_SNAPSHOT : CKPT_F_DELTA;
		f->batch = v;
		f->state = !rocks;
		f->snapshot = snap;
		f->rocksdb = rocks;
		if (v > sp->state_version)
			f->role = CKPT_F_UNCOMMITTED;
		return;
	}
}

static void
classify(struct ckpt *c, const char *path, struct fclass *f)
{
	struct spark *sp = SP(c);
	char buf[SPARK_PATH_MAX], target[CKPT_NAME_MAX];
	char *comp[WALK_DEPTH_MAX + 1], *save = NULL, *t;
	const char *name;
	size_t len;
	int n = 0, i;
	int64_t id;

	memset(f, 0, sizeof(*f));
	f->role = CKPT_F_FOREIGN;
	f->batch = CKPT_NONE;
	f->op = f->partition = -1;
	snprintf(buf, sizeof(buf), "%s", path);
	for (t = strtok_r(buf, "/", &save); t && n < WALK_DEPTH_MAX;
	    t = strtok_r(NULL, "/", &save))
		comp[n++] = t;
	if (n == 0)
		return;
	name = comp[n - 1];
	len = strlen(name);
	for (i = 0; i < sp->nnested; i++) {
		if (n > 1 && strcmp(comp[0], sp->nested[i]) == 0) {
			f->role = CKPT_F_OTHER;
			f->nested = 1;
			return;
		}
	}
	if (is_foreign_name(name))
		return;
	if (ckpt_hcrc_sidecar_target(name, target, sizeof(target))) {
		classify_sidecar(c, path, target, f);
		return;
	}
	if (spark_is_temp_name(name)) {
		f->role = CKPT_F_TEMP;
		return;
	}
	if (n == 1) {
		if (strcmp(name, "metadata") == 0)
			f->role = CKPT_F_METADATA;
		else if (strncmp(name, "checkpoint-", 11) == 0 ||
		    strcmp(name, "temp") == 0)
			f->role = sp->dstream ? CKPT_F_OTHER : CKPT_F_FOREIGN;
		return;
	}
	if (strcmp(comp[0], "offsets") == 0 || strcmp(comp[0], "commits") ==
	    0) {
		if (n == 2 && spark_parse_id(name, &id)) {
			f->role = comp[0][0] == 'o' ? CKPT_F_OFFSETS :
				CKPT_F_COMMIT;
			f->batch = id;
			f->log = 1;
			/* planned, never committed: re-run or ignored (1.5) */
			if (f->role == CKPT_F_OFFSETS &&
			    (sp->restart_point == CKPT_NONE ||
			    id > sp->restart_point))
				f->role = CKPT_F_UNCOMMITTED;
		}
		return;
	}
	if (strcmp(comp[0], "sources") == 0) {
		f->role = CKPT_F_SOURCE;
		if (spark_parse_id(name, &id))
			f->batch = id;
		return;
	}
	if (strcmp(comp[0], "state") == 0) {
		/* Spark 4.1 JSON checksum "X.crc" next to state file X */
		if (len > 4 && strcmp(name + len - 4, ".crc") == 0 &&
		    name[0] != '.') {
			char dir[SPARK_PATH_MAX], tp[SPARK_PATH_MAX + 8];
			struct fclass tf;
			parent_of(path, dir, sizeof(dir));
			snprintf(tp, sizeof(tp), "%s/%.*s", dir,
				(int)(len - 4), name);
			f->sidecar = f->json_crc = 1;
			if (!exists(c, tp)) {
				f->role = CKPT_F_ORPHAN;
				return;
			}
			classify(c, tp, &tf);
			f->role = CKPT_F_CHECKSUM;
			f->batch = tf.batch;
			f->op = tf.op;
			f->partition = tf.partition;
			return;
		}
		classify_state(c, comp, n, f);
		return;
	}
	/* other top-level dirs: DStream's, when it shares the root */
	if (sp->dstream)
		f->role = CKPT_F_OTHER;
}

/* ---- the walk ---- */

struct walk;
typedef int (*walk_fn)(struct walk *w, const struct ckpt_file *f,
	const struct fclass *fc);

struct walk {
	struct ckpt *c;
	walk_fn fn;
	ckpt_file_fn ucb;
	void *uarg;
	int stop;
	int rc;
	struct ckpt_error *err;
	void *vs;		/* verify state */
};

static int walk_dir(struct walk *w, const char *dir, int depth);

struct walk_frame {
	struct walk *w;
	const char *dir;
	int depth;
};

static int
walk_cb(void *arg, const struct ckpt_stat *e)
{
	struct walk_frame *fr = arg;
	struct walk *w = fr->w;
	char path[SPARK_PATH_MAX];
	struct ckpt_file f;
	struct fclass fc;
	int n;

	n = snprintf(path, sizeof(path), "%s%s%s", fr->dir,
		fr->dir[0] ? "/" : "", e->name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;	/* too deep to name: skipped */
	/* the DStream part of a mixed root is dstream.h's to report */
	if (fr->depth == 0 && SP(w->c)->dstream &&
	    dstream_owns_name(e->name, e->is_dir))
		return 0;
	if (ckpt_ctx_interrupted(w->c->ctx)) {
		w->rc = ckpt_error_set(w->err, CKPT_E_INTERRUPTED,
			"interrupted");
		w->stop = 1;
		return 1;
	}
	if (e->is_dir) {
		if (fr->depth + 1 >= WALK_DEPTH_MAX)
			return 0;
		w->rc = walk_dir(w, path, fr->depth + 1);
		return w->stop || w->rc != CKPT_OK;
	}
	classify(w->c, path, &fc);
	memset(&f, 0, sizeof(f));
	f.path = path;
	f.role = fc.role;
	f.batch = fc.batch;
	f.op = fc.op;
	f.partition = fc.partition;
	f.size = e->size;
	f.mtime_ms = e->mtime_ms;
	if (w->fn(w, &f, &fc) != 0)
		w->stop = 1;
	return w->stop || w->rc != CKPT_OK;
}

static int
walk_dir(struct walk *w, const char *dir, int depth)
{
	struct walk_frame fr = { w, dir, depth };
	int rc;

	rc = ckpt_store_list(w->c->st, dir, CKPT_LIST_NAME, NULL, walk_cb,
		&fr, w->err);
	if (rc != CKPT_OK)
		return rc;
	return w->rc;
}

static int
user_fn(struct walk *w, const struct ckpt_file *f, const struct fclass *fc)
{
	(void)fc;
	return w->ucb(w->uarg, f);
}

int
spark_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
	struct ckpt_error *err)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.fn = user_fn;
	w.ucb = cb;
	w.uarg = arg;
	w.err = err;
	rc = walk_dir(&w, "", 0);
	if (rc == CKPT_OK && !w.stop && SP(c)->dstream)
		rc = dstream_files_walk(c->st, 1, cb, arg, err);
	return rc;
}

/* ---- checks shared by verify and regions ---- */

/* Spark 4.1 JSON checksum (section 1.9) against its main file. */
struct jcrc {
	int64_t value;
	int64_t size;
	int parsed;
};

static int
jcrc_parse(const char *buf, size_t len, struct jcrc *j)
{
	cJSON *o = cJSON_ParseWithLength(buf, len);
	const cJSON *a, *v, *s;

	memset(j, 0, sizeof(*j));
	a = cJSON_GetObjectItemCaseSensitive(o, "algorithm");
	v = cJSON_GetObjectItemCaseSensitive(o, "value");
	s = cJSON_GetObjectItemCaseSensitive(o, "mainFileSize");
	if (cJSON_IsString(a) && strcmp(a->valuestring, "CRC32C") == 0 &&
	    spark_json_i64(v, &j->value) && spark_json_i64(s, &j->size))
		j->parsed = 1;
	cJSON_Delete(o);
	return j->parsed ? 0 : -1;
}

static int
crc32c_file(struct ckpt *c, const char *path, uint32_t *out, uint64_t *size,
	struct ckpt_error *err)
{
	struct ckpt_rfile *rf = NULL;
	uint8_t buf[65536];
	uint32_t crc = 0;
	size_t got;
	int rc;

	*size = 0;
	rc = ckpt_store_open_read(c->st, path, &rf, err);
	if (rc != CKPT_OK)
		return rc;
	for (;;) {
		rc = ckpt_rfile_read(rf, buf, sizeof(buf), &got, err);
		if (rc != CKPT_OK || got == 0)
			break;
		crc = ckpt_crc32c(crc, buf, got);
		*size += got;
	}
	ckpt_rfile_close(rf);
	*out = crc;
	return rc;
}

/* ---- verify ---- */

struct vstate {
	const struct ckpt_verify_opts *o;
	ckpt_problem_fn cb;
	void *arg;
	struct ckpt_verify_stats *st;
	uint64_t state_index;
	uint64_t temps, orphans, foreign, uncommitted, uncommitted_bad;
	struct ckpt_buf kb, vb;
};

static int
problem(struct walk *w, int sev, int kind, const char *path, int64_t off,
	const char *fmt, ...) CKPT_PRINTF(6, 7);

static int
problem(struct walk *w, int sev, int kind, const char *path, int64_t off,
	const char *fmt, ...)
{
	struct vstate *vs = w->vs;
	struct ckpt_problem p;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == CKPT_PROBLEM_ERROR)
		vs->st->errors++;
	else
		vs->st->warnings++;
	memset(&p, 0, sizeof(p));
	p.severity = sev;
	p.kind = kind;
	p.path = path;
	p.offset = off;
	p.msg = msg;
	return vs->cb ? vs->cb(vs->arg, &p) : 0;
}

static int
selected(struct vstate *vs)
{
	uint64_t i = vs->state_index++;

	if (vs->o->level < CKPT_VERIFY_READ_STATE)
		return 0;
	if (vs->o->subset_of > 0)
		return i % vs->o->subset_of == (vs->o->subset_n + vs->o->
			subset_of - 1) % vs->o->subset_of;
	if (vs->o->subset_pct > 0)
		return (double)((i * 2654435761u) % 10000) <
			vs->o->subset_pct * 100.0;
	return 1;
}

/* Decodes every record of one state file (section 2.2-2.3, 3). */
static int
check_state_file(struct walk *w, const struct ckpt_file *f,
	const struct fclass *fc, struct ckpt_error *e)
{
	struct spark *sp = SP(w->c);
	struct vstate *vs = w->vs;
	struct spark_rec_reader rr;
	struct ckpt_rfile *rf = NULL;
	struct spark_rec r;
	int rc;

	rc = ckpt_store_open_read(w->c->st, f->path, &rf, e);
	if (rc != CKPT_OK)
		return rc;
	spark_rec_init(&rr, spark_rfile_read, rf, f->path);
	while ((rc = spark_rec_next(&rr, !fc->snapshot, &r, e)) == CKPT_OK) {
		if (++vs->st->records % 4096 == 0 &&
		    (rc = ckpt_ctx_check_interrupt(w->c->ctx, "verify",
		    e)) != CKPT_OK)
			break;
		if (fc->op < 0)
			continue;
		rc = spark_rec_check(sp, &sp->stores[fc->op], &r, e);
		if (rc != CKPT_OK) {
			char m[CKPT_ERROR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", e->msg);
			ckpt_error_clear(e);
			rc = ckpt_error_set(e, CKPT_E_FORMAT,
				"record at decoded offset %llu: %s",
				(unsigned long long)r.offset, m);
			break;
		}
	}
	vs->st->blocks += rr.z.blocks;
	spark_rec_release(&rr);
	ckpt_rfile_close(rf);
	return rc == CKPT_EOF ? CKPT_OK : rc;
}

/*
 * A per-source log file (section 1.7): Kafka's initial offsets (a 0x00
 * byte, "v1", a JSON object; 2.1.0: the bare object), a file source log
 * ("v1" then one JSON object per line, "<N>.compact" included) or the
 * rate source's start time ("v1" then digits).
 */
static int
check_source(const char *path, const char *buf, size_t len,
	struct ckpt_error *e)
{
	const char *p = buf, *end = buf + len, *nl;
	cJSON *j;
	int kafka = len > 0 && buf[0] == 0;

	if (kafka) {
		p++;
	} else if (len > 0 && buf[0] == '{') {
		j = cJSON_ParseWithLength(buf, len);
		kafka = cJSON_IsObject(j);
		cJSON_Delete(j);
		return kafka ? CKPT_OK : ckpt_error_set(e, CKPT_E_FORMAT,
			"cannot parse '%s': not a JSON object", path);
	}
	if (end - p < 3 || p[0] != 'v' || p[1] != '1' || p[2] != '\n')
		return ckpt_error_set(e, CKPT_E_FORMAT,
			"cannot parse '%s': no v1 version line", path);
	for (p += 3; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl == p)
			continue;
		if (!kafka && *p >= '0' && *p <= '9')
			continue;	/* rate source start time */
		j = cJSON_ParseWithLength(p, (size_t)(nl - p));
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			return ckpt_error_set(e, CKPT_E_FORMAT,
				"cannot parse '%s': line at offset %zu is not "
				"a JSON object", path, (size_t)(p - buf));
		}
		cJSON_Delete(j);
	}
	return CKPT_OK;
}

/* Parses a small log or metadata file by role. */
static int
check_small(struct walk *w, const struct ckpt_file *f,
	const struct fclass *fc, struct ckpt_error *e)
{
	char *buf = NULL, *json = NULL;
	size_t len;
	int64_t wm;
	int rc;

	rc = spark_read_small(w->c, f->path, &buf, &len, e);
	if (rc != CKPT_OK)
		return rc;
	if (f->role == CKPT_F_OFFSETS || (f->role == CKPT_F_UNCOMMITTED &&
	    fc->log)) {
		rc = spark_offsets_json(w->c, f->path, buf, len, &json, e);
		free(json);
	} else if (f->role == CKPT_F_SOURCE) {
		rc = check_source(f->path, buf, len, e);
	} else if (f->role == CKPT_F_COMMIT) {
		rc = spark_commit_check(f->path, buf, len, &wm, e);
	} else if (f->role == CKPT_F_METADATA) {
		const char *p = buf;
		size_t n = len;
		cJSON *j;
		if (fc->op_meta) {
			const char *nl = memchr(buf, '\n', len);
			if (len < 2 || buf[0] != 'v' || !nl) {
				free(buf);
				return ckpt_error_set(e, CKPT_E_FORMAT,
					"cannot parse '%s': no version line",
					f->path);
			}
			p = nl + 1;
			n = (size_t)(buf + len - p);
		}
		j = cJSON_ParseWithLength(p, n);
		if (!cJSON_IsObject(j) || (!fc->op_meta &&
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j,
		    "id"))))
			rc = ckpt_error_set(e, CKPT_E_FORMAT,
				"cannot parse '%s': not the expected JSON "
				"object", f->path);
		cJSON_Delete(j);
	} else if (f->role == CKPT_F_SCHEMA) {
		struct spark_schema_file sf;
		struct spark_type *t = NULL;
		rc = spark_schema_file_parse((const uint8_t *)buf, len,
			f->path, &sf, e);
		if (rc == CKPT_OK) {
			rc = spark_type_parse(sf.key_json, strlen(sf.key_json),
				&t, e);
			spark_type_free(t);
			t = NULL;
			if (rc == CKPT_OK)
				rc = spark_type_parse(sf.value_json,
					strlen(sf.value_json), &t, e);
			spark_type_free(t);
			spark_schema_file_release(&sf);
		}
	}
	free(buf);
	return rc;
}

static int
check_sidecar(struct walk *w, const struct ckpt_file *f,
	const struct fclass *fc)
{
	struct vstate *vs = w->vs;
	struct ckpt_error e = { 0 };
	struct ckpt_hcrc_result res;
	char target[CKPT_NAME_MAX], dir[SPARK_PATH_MAX];
	char tpath[SPARK_PATH_MAX + CKPT_NAME_MAX];
	const char *base = strrchr(f->path, '/');
	int temp;

	base = base ? base + 1 : f->path;
	parent_of(f->path, dir, sizeof(dir));
	if (fc->json_crc) {
		struct jcrc j;
		char *buf = NULL;
		size_t len;
		uint32_t crc;
		uint64_t size;

		snprintf(tpath, sizeof(tpath), "%s/%.*s", dir,
			(int)(strlen(base) - 4), base);
		if (spark_read_small(w->c, f->path, &buf, &len, &e) !=
		    CKPT_OK || jcrc_parse(buf, len, &j) != 0) {
			free(buf);
			return problem(w, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT,
				f->path, -1, "spark checksum file does not "
				"parse (expected CRC32C JSON)");
		}
		free(buf);
		if (vs->o->level < CKPT_VERIFY_READ_STATE)
			return 0;
		if (crc32c_file(w->c, tpath, &crc, &size, &e) != CKPT_OK)
			return problem(w, CKPT_PROBLEM_ERROR, e.kind, tpath,
				-1, "%s", e.msg);
		vs->st->checksums++;
		if ((int64_t)size != j.size)
			return problem(w, CKPT_PROBLEM_ERROR, CKPT_E_CHECKSUM,
				tpath, -1, "size %llu differs from %lld in "
				"'%s'", (unsigned long long)size,
				(long long)j.size, f->path);
		if ((int32_t)crc != (int32_t)j.value)
			return problem(w, CKPT_PROBLEM_ERROR, CKPT_E_CHECKSUM,
				tpath, -1, "crc32c %d differs from %lld in "
				"'%s'", (int32_t)crc, (long long)j.value,
				f->path);
		return 0;
	}
	if (!ckpt_hcrc_sidecar_target(base, target, sizeof(target)))
		return 0;
	/* a temp file's own sidecar: a mismatch is part of the crash */
	temp = f->role == CKPT_F_TEMP;
	/* state files' sidecars are read with the state (--read-state) */
	if (vs->o->level < CKPT_VERIFY_READ_STATE && fc->op >= 0)
		return 0;
	snprintf(tpath, sizeof(tpath), "%s%s%s", dir, dir[0] ? "/" : "",
		target);
	if (ckpt_hcrc_check_store(w->c->st, tpath, f->path, &res, &e) !=
	    CKPT_OK)
		return problem(w, CKPT_PROBLEM_ERROR, e.kind ? e.kind :
			CKPT_E_IO, f->path, -1, "%s", e.msg);
	switch (res.status) {
	case CKPT_HCRC_OK:
		vs->st->checksums++;
		return 0;
	case CKPT_HCRC_UNVERIFIABLE:
		return problem(w, CKPT_PROBLEM_WARNING, CKPT_E_CHECKSUM,
			f->path, -1, "unverifiable sidecar: %s", res.why);
	case CKPT_HCRC_BAD_HEADER:
		/* non-empty, so not a crash leftover (section 6) */
		return problem(w, temp ? CKPT_PROBLEM_WARNING :
			CKPT_PROBLEM_ERROR, CKPT_E_CHECKSUM, f->path, 0,
			"damaged checksum sidecar of '%s': %s", tpath,
			res.why);
	case CKPT_HCRC_MISMATCH:
		return problem(w, temp ? CKPT_PROBLEM_WARNING :
			CKPT_PROBLEM_ERROR, CKPT_E_CHECKSUM, tpath,
			(int64_t)res.bad_offset, "crc32 mismatch in chunk "
			"%llu (sidecar '%s' has %08x, data %08x)",
			(unsigned long long)res.bad_chunk, f->path,
			res.expected, res.actual);
	default:
		return problem(w, temp ? CKPT_PROBLEM_WARNING :
			CKPT_PROBLEM_ERROR, CKPT_E_CHECKSUM, tpath, -1,
			"does not match sidecar '%s': %s", f->path, res.why);
	}
}

/*
 * A leaked temp sidecar (section 10 item 7) usually covers the file its
 * temp file was renamed to, which then has no sidecar of its own: find
 * it, so the warning can say so.  At most ORPHAN_TRIES files are tried.
 */
#define ORPHAN_TRIES 64

struct orphan_match {
	struct ckpt *c;
	const char *dir, *sidecar;
	char found[SPARK_PATH_MAX + CKPT_NAME_MAX];
	int tries;
};

static int
orphan_cb(void *arg, const struct ckpt_stat *e)
{
	struct orphan_match *m = arg;
	struct ckpt_error e2 = { 0 };
	struct ckpt_hcrc_result res;
	char path[SPARK_PATH_MAX + CKPT_NAME_MAX];
	char side[SPARK_PATH_MAX + CKPT_NAME_MAX];
	size_t n = strlen(e->name);

	if (e->is_dir || e->name[0] == '.' || (n > 4 &&
	    strcmp(e->name + n - 4, ".crc") == 0))
		return 0;
	snprintf(path, sizeof(path), "%s%s%s", m->dir, m->dir[0] ? "/" : "",
		e->name);
	snprintf(side, sizeof(side), "%s%s.%s.crc", m->dir,
		m->dir[0] ? "/" : "", e->name);
	if (exists(m->c, side))
		return 0;
	if (ckpt_hcrc_check_store(m->c->st, path, m->sidecar, &res, &e2) ==
	    CKPT_OK && res.status == CKPT_HCRC_OK) {
		snprintf(m->found, sizeof(m->found), "%s", path);
		return 1;
	}
	return ++m->tries >= ORPHAN_TRIES;
}

static int
orphan_problem(struct walk *w, const struct ckpt_file *f)
{
	struct orphan_match m;
	struct ckpt_error e2 = { 0 };
	char dir[SPARK_PATH_MAX];
	const char *base = strrchr(f->path, '/');

	base = base ? base + 1 : f->path;
	memset(&m, 0, sizeof(m));
	if (strncmp(base, "..", 2) == 0 && f->size > 0) {
		parent_of(f->path, dir, sizeof(dir));
		m.c = w->c;
		m.dir = dir;
		m.sidecar = f->path;
		(void)ckpt_store_list(w->c->st, dir, CKPT_LIST_NAME, NULL,
			orphan_cb, &m, &e2);
	}
	if (m.found[0])
		return problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path,
			-1, "orphan checksum sidecar of a renamed temp file; "
			"it verifies '%s', which has no sidecar of its own",
			m.found);
	return problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path, -1,
		"orphan checksum sidecar: the file it covers is gone");
}

static int
verify_fn(struct walk *w, const struct ckpt_file *f, const struct fclass *fc)
{
	struct vstate *vs = w->vs;
	struct spark *sp = SP(w->c);
	struct ckpt_error e = { 0 };

	vs->st->files++;
	vs->st->bytes += f->size;
	if (vs->st->files % 256 == 0)
		ckpt_ctx_progress(w->c->ctx, "verify: file", vs->st->files, 0);
	switch (f->role) {
	case CKPT_F_TEMP:
		if (fc->sidecar)
			return f->size ? check_sidecar(w, f, fc) : 0;
		vs->temps++;
		return problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path,
			-1, "leftover temp file of a crashed write (%llu "
			"bytes)", (unsigned long long)f->size);
	case CKPT_F_ORPHAN:
		vs->orphans++;
		return orphan_problem(w, f);
	case CKPT_F_FOREIGN:
		vs->foreign++;
		return problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, f->path,
			-1, "foreign file (not written by Spark)");
	case CKPT_F_OTHER:
		return 0;
	case CKPT_F_CHECKSUM:
		return check_sidecar(w, f, fc);
	case CKPT_F_SOURCE:
		if (f->size > SPARK_SMALL_MAX)
			return 0;	/* a huge file source log: not parsed */
		/* FALLTHROUGH */
	case CKPT_F_OFFSETS:
	case CKPT_F_COMMIT:
	case CKPT_F_METADATA:
	case CKPT_F_SCHEMA:
		if (check_small(w, f, fc, &e) != CKPT_OK)
			return problem(w, CKPT_PROBLEM_ERROR, e.kind, f->path,
				-1, "%s", e.msg);
		return 0;
	default:
		break;
	}
	if (f->role == CKPT_F_UNCOMMITTED && fc->log) {
		/* a restart re-runs this batch from these offsets (1.5) */
		if (check_small(w, f, fc, &e) != CKPT_OK)
			return problem(w, CKPT_PROBLEM_ERROR, e.kind, f->path,
				-1, "%s", e.msg);
		return 0;
	}
	if (!fc->state || !selected(vs))
		return 0;
	if (f->role == CKPT_F_UNCOMMITTED)
		vs->uncommitted++;
	if (check_state_file(w, f, fc, &e) == CKPT_OK)
		return 0;
	if (e.kind == CKPT_E_INTERRUPTED) {
		*w->err = e;
		w->rc = CKPT_FAILED;
		return 1;
	}
	if (f->role == CKPT_F_UNCOMMITTED) {
		vs->uncommitted_bad++;
		return problem(w, CKPT_PROBLEM_WARNING, e.kind, f->path, -1,
			"partial state of the uncommitted batch: %s", e.msg);
	}
	(void)sp;
	return problem(w, CKPT_PROBLEM_ERROR, e.kind, f->path, -1, "%s",
		e.msg);
}

/* Every version the restart point needs, per store and partition. */
struct chain_walk {
	struct walk *w;
	struct spark_store *s;
	int64_t v;
	int stop;
};

static int
chain_part(void *arg, int p)
{
	struct chain_walk *cw = arg;
	struct ckpt_error e = { 0 };
	char dir[SPARK_PATH_MAX - 32], path[SPARK_PATH_MAX];
	int64_t base, v;
	int complete, present;

	spark_store_dir(cw->s, p, dir, sizeof(dir));
	if (spark_part_chain(cw->w->c, cw->s, p, cw->v, &base, &complete,
	    &present, &e) != CKPT_OK) {
		cw->stop = problem(cw->w, CKPT_PROBLEM_ERROR, e.kind, dir, -1,
			"%s", e.msg);
		return cw->stop;
	}
	if (!present) {
		cw->stop = problem(cw->w, CKPT_PROBLEM_ERROR, CKPT_E_NOTFOUND,
			dir, -1, "store directory missing: needed to rebuild "
			"state version %lld for the restart point",
			(long long)cw->v);
		return cw->stop;
	}
	if (complete)
		return 0;
	/* name the first missing delta (the rare path: one stat each) */
	for (v = base + 1; v <= cw->v; v++) {
		snprintf(path, sizeof(path), "%s/%lld.delta", dir,
			(long long)v);
		if (exists(cw->w->c, path))
			continue;
		cw->stop = problem(cw->w, CKPT_PROBLEM_ERROR, CKPT_E_NOTFOUND,
			path, -1, "missing: needed to rebuild state version "
			"%lld for the restart point", (long long)cw->v);
		break;
	}
	return cw->stop;
}

static int
verify_chain(struct walk *w)
{
	struct spark *sp = SP(w->c);
	struct ckpt_error e = { 0 };
	struct chain_walk cw;
	char dir[32];
	int i, rc;

	if (sp->state_version <= 0)
		return 0;
	for (i = 0; i < sp->nstores; i++) {
		struct spark_store *s = &sp->stores[i];
		if (spark_store_stats(w->c, s, &e) != CKPT_OK)
			return problem(w, CKPT_PROBLEM_ERROR, e.kind, "state",
				-1, "%s", e.msg);
		if (s->rocksdb) {
			rc = problem(w, CKPT_PROBLEM_WARNING,
				CKPT_E_UNSUPPORTED, "state", -1, "operator "
				"'%s' uses RocksDB: versions listed, not "
				"verified", s->name);
			if (rc)
				return rc;
			continue;
		}
		if (s->part_dirs < s->parts) {
			snprintf(dir, sizeof(dir), "state/%d", s->op_id);
			rc = problem(w, CKPT_PROBLEM_ERROR, CKPT_E_NOTFOUND,
				dir, -1, "%d of %d partition directories "
				"missing: each is needed to rebuild state "
				"version %lld for the restart point",
				s->parts - s->part_dirs, s->parts,
				(long long)sp->state_version);
			if (rc)
				return rc;
		}
		memset(&cw, 0, sizeof(cw));
		cw.w = w;
		cw.s = s;
		cw.v = sp->state_version;
		if (spark_parts_each(w->c, s, chain_part, &cw, &e) != CKPT_OK)
			return problem(w, CKPT_PROBLEM_ERROR, e.kind, "state",
				-1, "%s", e.msg);
		if (cw.stop)
			return cw.stop;
	}
	return 0;
}

/* Batch-level findings (section 1.5, section 10 item 9). */
static int
verify_batches(struct walk *w)
{
	struct spark *sp = SP(w->c);
	char path[64];
	int rc = 0, i;

	if (sp->metadata_bad)
		rc = problem(w, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, "metadata",
			-1, "metadata is not a JSON object with an id");
	if (!rc && sp->off_gaps)
		rc = problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, "offsets",
			-1, "%lld gap(s) in offsets ids %lld..%lld",
			(long long)sp->off_gaps, (long long)sp->off_first,
			(long long)sp->off_last);
	if (!rc && sp->com_gaps)
		rc = problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, "commits",
			-1, "%lld gap(s) in commits ids %lld..%lld",
			(long long)sp->com_gaps, (long long)sp->com_first,
			(long long)sp->com_last);
	if (!rc && sp->off_count && sp->next_batch == sp->off_last)
		rc = problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, "offsets",
			-1, "batch %lld is planned but not committed; a "
			"restart re-runs it (%s)", (long long)sp->off_last,
			sp->rule);
	if (!rc && sp->com_count && sp->com_last < sp->off_last - 1)
		rc = problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, "commits",
			-1, "commit log ends at %lld, %lld batches behind the "
			"offsets log", (long long)sp->com_last,
			(long long)(sp->off_last - sp->com_last));
	/* re-running L needs offsets/(L-1) as its start (section 1.5) */
	if (!rc && sp->off_count && sp->next_batch == sp->off_last &&
	    sp->off_last > 0) {
		snprintf(path, sizeof(path), "offsets/%lld",
			(long long)(sp->off_last - 1));
		if (!exists(w->c, path))
			rc = problem(w, sp->commits_dir && sp->com_count ?
				CKPT_PROBLEM_ERROR : CKPT_PROBLEM_WARNING,
				CKPT_E_NOTFOUND, path, -1, "missing: the "
				"start offsets of re-run batch %lld",
				(long long)sp->off_last);
	}
	if (!rc && sp->com_count && sp->com_last <= sp->off_last) {
		snprintf(path, sizeof(path), "offsets/%lld",
			(long long)sp->com_last);
		if (!exists(w->c, path))
			rc = problem(w, CKPT_PROBLEM_ERROR, CKPT_E_NOTFOUND,
				path, -1, "missing: offsets of the restart "
				"point");
	}
	for (i = 0; !rc && i < sp->nnested; i++)
		rc = problem(w, CKPT_PROBLEM_WARNING, CKPT_E_NONE,
			sp->nested[i], -1, "nested checkpoint directory: "
			"verify it on its own");
	for (i = 0; !rc && i < sp->nstores; i++)
		if (sp->stores[i].schema_error)
			rc = problem(w, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT,
				sp->stores[i].schema_path, -1, "schema file "
				"does not parse");
	return rc;
}

int
spark_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
	ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
	struct ckpt_error *err)
{
	struct ckpt_verify_opts defo;
	struct vstate vs;
	struct walk w;
	int rc;

	if (!o) {
		memset(&defo, 0, sizeof(defo));
		o = &defo;
	}
	memset(stats, 0, sizeof(*stats));
	memset(&vs, 0, sizeof(vs));
	vs.o = o;
	vs.cb = cb;
	vs.arg = arg;
	vs.st = stats;
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.fn = verify_fn;
	w.err = err;
	w.vs = &vs;
	rc = CKPT_OK;
	w.stop = verify_batches(&w) != 0;
	if (!w.stop)
		w.stop = verify_chain(&w) != 0;
	if (!w.stop)
		rc = walk_dir(&w, "", 0);
	if (rc == CKPT_OK && vs.uncommitted)
		problem(&w, CKPT_PROBLEM_WARNING, CKPT_E_NONE, "state", -1,
			"%llu state file(s) of versions above %lld belong to "
			"the uncommitted batch (partial write; the restart "
			"point stays valid)",
			(unsigned long long)vs.uncommitted,
			(long long)SP(c)->state_version);
	if (rc == CKPT_OK && !w.stop && SP(c)->dstream) {
		struct ckpt_verify_stats ds;
		memset(&ds, 0, sizeof(ds));
		rc = dstream_verify(c->st, 1, o, cb, arg, &ds, err);
		stats->files += ds.files;
		stats->bytes += ds.bytes;
		stats->blocks += ds.blocks;
		stats->records += ds.records;
		stats->checksums += ds.checksums;
		stats->errors += ds.errors;
		stats->warnings += ds.warnings;
	}
	free(vs.kb.data);
	free(vs.vb.data);
	return rc;
}

/* ---- hex regions ---- */

static int
lz4_regions(struct ckpt *c, const char *path, ckpt_region_fn cb, void *arg,
	struct ckpt_error *err)
{
	struct ckpt_rfile *rf = NULL;
	struct spark_lz4 z;
	struct spark_lz4_block b;
	struct ckpt_region r;
	struct ckpt_error e = { 0 };
	char note[CKPT_ERROR_MSG_MAX + 64];
	int rc, stop = 0;

	rc = ckpt_store_open_read(c->st, path, &rf, err);
	if (rc != CKPT_OK)
		return rc;
	spark_lz4_init(&z, spark_rfile_read, rf, path);
	while (!stop && (rc = spark_lz4_next_block(&z, &b, &e)) == CKPT_OK) {
		memset(&r, 0, sizeof(r));
		r.offset = b.offset;
		r.length = SPARK_LZ4_HEADER;
		r.what = b.is_end ? "lz4 end block" : "lz4 block header";
		if (b.is_end)
			snprintf(note, sizeof(note), "end of stream");
		else
			snprintf(note, sizeof(note), "lz4 block %s %u->%u, "
				"xxhash %07x ok", b.method == 0x20 ? "lz4" :
				"raw", b.clen, b.olen, b.checksum);
		r.note = note;
		r.ok = 1;
		stop = cb(arg, &r) != 0;
		if (stop || b.is_end)
			continue;
		r.offset = b.offset + SPARK_LZ4_HEADER;
		r.length = b.clen;
		r.what = "lz4 block payload";
		snprintf(note, sizeof(note), "%u bytes decoding to %u",
			b.clen, b.olen);
		stop = cb(arg, &r) != 0;
	}
	if (rc != CKPT_OK && rc != CKPT_EOF && !stop) {
		memset(&r, 0, sizeof(r));
		r.offset = z.last.offset;
		r.length = 0;
		r.what = "damage";
		snprintf(note, sizeof(note), "%s", e.msg);
		r.note = note;
		r.ok = 0;
		cb(arg, &r);
	}
	spark_lz4_release(&z);
	ckpt_rfile_close(rf);
	return CKPT_OK;
}

static int
hcrc_regions(struct ckpt *c, const char *path, const char *target,
	ckpt_region_fn cb, void *arg, struct ckpt_error *err)
{
	struct ckpt_region r;
	struct ckpt_error e = { 0 };
	struct ckpt_stat ts;
	uint8_t h[8], crcb[4], chunk[4096];
	char note[160], dir[SPARK_PATH_MAX];
	char tpath[SPARK_PATH_MAX + CKPT_NAME_MAX];
	uint32_t bpc, want, have;
	uint64_t k, off;
	size_t got;
	int rc, have_t;

	parent_of(path, dir, sizeof(dir));
	snprintf(tpath, sizeof(tpath), "%s%s%s", dir, dir[0] ? "/" : "",
		target);
	rc = ckpt_store_read_range(c->st, path, 0, h, sizeof(h), &got, err);
	if (rc != CKPT_OK)
		return rc;
	memset(&r, 0, sizeof(r));
	r.length = got;
	r.what = "hadoop crc header";
	r.note = note;
	if (got < 8 || memcmp(h, "crc", 4) != 0) {
		snprintf(note, sizeof(note), "not a Hadoop checksum file");
		r.ok = 0;
		cb(arg, &r);
		return CKPT_OK;
	}
	bpc = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | h[6] << 8 | h[7];
	snprintf(note, sizeof(note), "bytesPerChecksum %u", bpc);
	r.ok = bpc > 0 && bpc <= sizeof(chunk) ? 1 : -1;
	if (cb(arg, &r) != 0 || bpc == 0 || bpc > sizeof(chunk))
		return CKPT_OK;
	have_t = ckpt_store_stat(c->st, tpath, &ts, &e) == CKPT_OK;
	for (k = 0;; k++) {
		off = 8 + 4 * k;
		if (ckpt_store_read_range(c->st, path, off, crcb, 4, &got,
		    err) != CKPT_OK)
			return CKPT_FAILED;
		if (got < 4)
			break;
		want = (uint32_t)crcb[0] << 24 | (uint32_t)crcb[1] << 16 |
			(uint32_t)crcb[2] << 8 | crcb[3];
		memset(&r, 0, sizeof(r));
		r.offset = off;
		r.length = 4;
		r.what = "crc32 of one chunk";
		r.note = note;
		r.ok = -1;
		snprintf(note, sizeof(note), "bytes %llu.. of '%s'",
			(unsigned long long)(k * bpc), target);
		if (have_t && ckpt_store_read_range(c->st, tpath, k * bpc,
		    chunk, bpc, &got, &e) == CKPT_OK) {
			struct ckpt_hcrc_result res;
			/* one chunk: reuse the shared checker on memory */
			uint8_t one[12];
			memcpy(one, h, 8);
			memcpy(one + 8, crcb, 4);
			if (ckpt_hcrc_check_mem(chunk, got, one, sizeof(one),
			    &res, &e) == CKPT_OK) {
				have = res.status == CKPT_HCRC_OK ? want :
					res.actual;
				r.ok = have == want;
				snprintf(note, sizeof(note), "bytes %llu..%llu "
					"of '%s': %s", (unsigned long long)
					(k * bpc), (unsigned long long)
					(k * bpc + got), target, r.ok ? "ok" :
					"MISMATCH");
			}
		}
		if (cb(arg, &r) != 0)
			break;
	}
	return CKPT_OK;
}

/* Checks a Spark 4.1 JSON checksum file against its main file. */
static void
json_crc_note(struct ckpt *c, const char *path, char *note, size_t n,
	int *ok)
{
	struct ckpt_error e = { 0 };
	struct jcrc j;
	char *buf = NULL, main_path[SPARK_PATH_MAX];
	size_t len;
	uint64_t size;
	uint32_t crc;

	snprintf(main_path, sizeof(main_path), "%.*s",
		(int)(strlen(path) - 4), path);
	if (spark_read_small(c, path, &buf, &len, &e) != CKPT_OK ||
	    jcrc_parse(buf, len, &j) != 0) {
		snprintf(note, n, "spark json checksum: does not parse");
		*ok = 0;
	} else if (crc32c_file(c, main_path, &crc, &size, &e) != CKPT_OK) {
		snprintf(note, n, "spark json checksum: main file unreadable");
		*ok = 0;
	} else {
		*ok = (int32_t)crc == (int32_t)j.value &&
			(int64_t)size == j.size;
		snprintf(note, n, "spark json checksum: crc32c %s",
			*ok ? "ok" : "MISMATCH");
	}
	free(buf);
}

int
spark_file_regions(struct ckpt *c, const char *path, ckpt_region_fn cb,
	void *arg, struct ckpt_error *err)
{
	struct ckpt_stat sb;
	struct ckpt_region r;
	struct fclass fc;
	char target[CKPT_NAME_MAX], head[8], note[96];
	const char *base = strrchr(path, '/');
	size_t got = 0;
	int rc;

	base = base ? base + 1 : path;
	rc = ckpt_store_stat(c->st, path, &sb, err);
	if (rc != CKPT_OK)
		return rc;
	/* the DStream part of a mixed root is dstream.h's to describe */
	if (SP(c)->dstream && dstream_owns_path(path))
		return dstream_file_regions(c->st, path, cb, arg, err);
	if (ckpt_hcrc_sidecar_target(base, target, sizeof(target)))
		return hcrc_regions(c, path, target, cb, arg, err);
	rc = ckpt_store_read_range(c->st, path, 0, head, sizeof(head), &got,
		err);
	if (rc != CKPT_OK)
		return rc;
	if (got == 8 && memcmp(head, SPARK_LZ4_MAGIC, 8) == 0)
		return lz4_regions(c, path, cb, arg, err);
	classify(c, path, &fc);
	memset(&r, 0, sizeof(r));
	r.length = sb.size;
	r.what = ckpt_file_role_name(fc.role);
	snprintf(note, sizeof(note), "whole file");
	r.note = note;
	r.ok = -1;
	if (fc.json_crc)
		json_crc_note(c, path, note, sizeof(note), &r.ok);
	cb(arg, &r);
	return CKPT_OK;
}
