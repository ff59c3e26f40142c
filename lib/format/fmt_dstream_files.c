/*
 * fmt_dstream_files.c - files of a DStream checkpoint: their roles, the
 * write-ahead logs, RDD checkpoint dirs, and verify
 * (docs/spark-checkpoint-format.md sections 6, 7.3, section 10 items
 * 3, 14, 15).
 *
 * Write-ahead log segments have no header: records are an int32 BE
 * length and a payload, and Spark's reader stops at the end of the file
 * even inside a record, so a cut last record is a warning (a crashed
 * writer), while a negative length is damage.  Driver metadata payloads
 * are Java-serialized block-tracker events, or with the batched WAL a
 * byte[][] of them; they are only decoded when asked (ls counts event
 * classes, verify --read-state walks every record).  Receiver data logs
 * hold serialized blocks of user data and are only framed.
 *
 * RDD checkpoint dirs <sparkContext-uuid>/rdd-<id>/ are reported as
 * other files: a checkpoint names the ones it needs (the restart file's
 * DStreamCheckpointData), and only damage in those is an error.
 *
 * Directories are walked depth first with the store's bounded listing;
 * nothing keeps a listing, and every WAL record is hopped over by its
 * length (one 4-byte read per record) unless decoded.
 */
#include "dstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/codec_hadoopcrc.h"
#include "../codec/spark_codec.h"
#include "../ctx.h"
#include "../store/store.h"

#define WALK_MAX_DEPTH 8

/* ---- file roles ---- */

struct walk {
	struct ckpt_store *st;
	int mixed;
	ckpt_file_fn cb;
	void *arg;
	int rc;			/* first failure */
	int stop;		/* cb asked to stop */
	struct ckpt_error *err;
};

struct walk_dir {
	struct walk *w;
	const char *dir;	/* "" for the root */
	int kind;		/* what the directory is (enum dir_kind) */
	int depth;
};

enum dir_kind {
	DK_ROOT, DK_WAL_META, DK_WAL_DATA, DK_WAL_STREAM, DK_UUID, DK_RDD,
	DK_FOREIGN
};

static int walk_list(struct walk *w, const char *dir, int kind, int depth);

/* dir/name into out; 0 if it does not fit. */
static int
join(char *out, size_t n, const char *dir, const char *name)
{
	int k = dir[0] ? snprintf(out, n, "%s/%s", dir, name) :
	    snprintf(out, n, "%s", name);

	return k >= 0 && (size_t)k < n;
}

/* Does the data file of a sidecar exist in dir? */
static int
target_exists(struct walk *w, const char *dir, const char *target)
{
	char path[DSTREAM_PATH_MAX];
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat s;

	if (!join(path, sizeof(path), dir, target))
		return 0;
	return ckpt_store_stat(w->st, path, &s, &e2) == CKPT_OK && !s.is_dir;
}

/* "rdd-<id>": 1 and *id, else 0. */
static int
parse_rdd(const char *name, int64_t *id)
{
	size_t n;

	if (strncmp(name, "rdd-", 4) != 0)
		return 0;
	n = strlen(name + 4);
	if (n == 0 || n > 18 || strspn(name + 4, "0123456789") != n)
		return 0;
	*id = strtoll(name + 4, NULL, 10);
	return 1;
}

/* The role of a plain (non-sidecar) file in a directory of some kind. */
static int
file_role(int kind, const char *name, int64_t *batch)
{
	int bk;

	*batch = CKPT_NONE;
	switch (kind) {
	case DK_ROOT:
		if (dstream_parse_name(name, batch, &bk))
			return CKPT_F_METADATA;
		if (strcmp(name, "temp") == 0)
			return CKPT_F_TEMP;
		return CKPT_F_FOREIGN;
	case DK_WAL_META:
	case DK_WAL_STREAM:
		return strncmp(name, "log-", 4) == 0 ? CKPT_F_WAL :
		    CKPT_F_FOREIGN;
	case DK_RDD:
		return CKPT_F_OTHER;
	default:
		return CKPT_F_FOREIGN;
	}
}

/* Reports one file with its role (see dstream_files_walk). */
static int
walk_file(struct walk_dir *d, const struct ckpt_stat *e)
{
	struct walk *w = d->w;
	struct ckpt_file f;
	char path[DSTREAM_PATH_MAX], target[CKPT_NAME_MAX];
	int64_t batch;
	int role;

	if (!join(path, sizeof(path), d->dir, e->name))
		return 0;
	if (ckpt_hcrc_sidecar_target(e->name, target, sizeof(target))) {
		role = file_role(d->kind, target, &batch);
		if (d->kind == DK_ROOT && w->mixed &&
		    !dstream_owns_name(target, 0))
			return 0;
		if (role == CKPT_F_TEMP)
			;	/* .temp.crc goes with the temp file */
		else if (role == CKPT_F_FOREIGN && !w->mixed &&
		    !target_exists(w, d->dir, target))
			role = CKPT_F_ORPHAN;
		else if (!target_exists(w, d->dir, target))
			role = CKPT_F_ORPHAN;
		else if (role != CKPT_F_FOREIGN)
			role = CKPT_F_CHECKSUM;
	} else {
		if (d->kind == DK_ROOT && w->mixed &&
		    !dstream_owns_name(e->name, 0))
			return 0;
		role = file_role(d->kind, e->name, &batch);
	}
	memset(&f, 0, sizeof(f));
	f.path = path;
	f.role = role;
	f.batch = batch;
	f.op = -1;
	f.partition = -1;
	f.size = e->size;
	f.mtime_ms = e->mtime_ms;
	if (w->cb(w->arg, &f) != 0) {
		w->stop = 1;
		return 1;
	}
	return 0;
}

/* One entry of a directory: files reported, dirs walked. */
static int
walk_cb(void *arg, const struct ckpt_stat *e)
{
	struct walk_dir *d = arg;
	struct walk *w = d->w;
	char path[DSTREAM_PATH_MAX];
	int64_t id;
	int kind = DK_FOREIGN;

	if (!e->is_dir)
		return walk_file(d, e);
	switch (d->kind) {
	case DK_ROOT:
		if (strcmp(e->name, "receivedBlockMetadata") == 0)
			kind = DK_WAL_META;
		else if (strcmp(e->name, "receivedData") == 0)
			kind = DK_WAL_DATA;
		else if (dstream_owns_name(e->name, 1))
			kind = DK_UUID;
		else if (w->mixed)
			return 0;
		break;
	case DK_WAL_DATA:
		kind = DK_WAL_STREAM;
		break;
	case DK_UUID:
		kind = parse_rdd(e->name, &id) ? DK_RDD : DK_FOREIGN;
		break;
	default:
		break;
	}
	if (d->depth + 1 >= WALK_MAX_DEPTH ||
	    !join(path, sizeof(path), d->dir, e->name))
		return 0;
	if (walk_list(w, path, kind, d->depth + 1) != CKPT_OK || w->stop)
		return 1;
	return 0;
}

/* Walks one directory of a given kind; the first error sticks. */
static int
walk_list(struct walk *w, const char *dir, int kind, int depth)
{
	struct walk_dir d = { w, dir, kind, depth };
	int rc;

	rc = ckpt_store_list(w->st, dir, CKPT_LIST_NAME, NULL, walk_cb, &d,
		w->err);
	if (rc != CKPT_OK && w->rc == CKPT_OK)
		w->rc = rc;
	return w->rc;
}

int
dstream_files_walk(struct ckpt_store *st, int mixed, ckpt_file_fn cb,
	void *arg, struct ckpt_error *err)
{
	struct walk w = { st, mixed, cb, arg, CKPT_OK, 0, err };

	return walk_list(&w, "", DK_ROOT, 0);
}

/* ---- write-ahead logs ---- */

typedef int (*wal_read_fn)(void *arg, uint64_t off, void *buf, size_t len,
	size_t *got, struct ckpt_error *err);

enum wal_bad { WAL_OK = 0, WAL_CUT, WAL_NEGATIVE, WAL_DECODE };

struct wal_result {
	int bad;			/* enum wal_bad (first problem) */
	int64_t bad_offset;
	char msg[CKPT_ERROR_MSG_MAX];
};

/* "log-<start>-<end>": both times, or CKPT_NONE. */
static void
parse_log_name(const char *name, int64_t *start, int64_t *end)
{
	const char *p = name + 4, *dash;
	char *endp;

	*start = *end = CKPT_NONE;
	if (strncmp(name, "log-", 4) != 0 || (dash = strchr(p, '-')) == NULL)
		return;
	if (dash == p || strspn(p, "0123456789") != (size_t)(dash - p) ||
	    dash[1] == '\0' || strspn(dash + 1, "0123456789") !=
	    strlen(dash + 1) || dash - p > 18 || strlen(dash + 1) > 18)
		return;
	*start = strtoll(p, &endp, 10);
	*end = strtoll(dash + 1, &endp, 10);
}

#define EV_PREFIX "org.apache.spark.streaming.scheduler."

/* Counts one block-tracker event by its class. */
static void
count_event(struct ckpt_dstream_log *l, const char *cls)
{
	if (strcmp(cls, EV_PREFIX "BlockAdditionEvent") == 0)
		l->ev_add++;
	else if (strcmp(cls, EV_PREFIX "BatchAllocationEvent") == 0)
		l->ev_alloc++;
	else if (strcmp(cls, EV_PREFIX "BatchCleanupEvent") == 0)
		l->ev_cleanup++;
	else
		l->ev_other++;
}

struct rec_arg {
	struct ckpt_dstream_log *l;
	const char *path;
	int batched;
};

/* Events of one record: one event object, or byte[][] of streams. */
static int
record_cb(void *arg, const struct ckpt_jser_event *ev,
	struct ckpt_error *err)
{
	struct rec_arg *a = arg;
	char cls[256], what[DSTREAM_PATH_MAX + 32];
	int rc;

	if (ev->depth == 1 && ev->type == CKPT_JSER_EV_OBJECT) {
		count_event(a->l, ev->class_name);
		return CKPT_OK;
	}
	if (ev->depth == 1 && ev->type == CKPT_JSER_EV_ARRAY &&
	    strcmp(ev->class_name, "[[B") == 0) {
		a->batched = 1;
		return CKPT_OK;
	}
	if (ev->type != CKPT_JSER_EV_BYTES || ev->depth != 3 ||
	    !a->batched)
		return CKPT_OK;
	snprintf(what, sizeof(what), "%s: event %lld", a->path,
		(long long)ev->frames[1].index);
	rc = ckpt_jser_walk(ev->str, ev->str_len, NULL, what, NULL, NULL,
		NULL, err);
	if (rc != CKPT_OK)
		return rc;
	rc = ckpt_jser_top_class(ev->str, ev->str_len, cls, sizeof(cls), err);
	if (rc != CKPT_OK)
		return rc;
	count_event(a->l, cls[0] ? cls : "?");
	return CKPT_OK;
}

/*
 * Frames (and with decode, walks) the records of one segment of size
 * bytes read through rd.  Fills l; the first problem goes to res.
 * Returns a negative status only when reading fails.
 */
static int
wal_scan(wal_read_fn rd, void *rarg, uint64_t size, const char *path,
	int decode, struct ckpt_dstream_log *l, struct wal_result *res,
	struct ckpt_error *err)
{
	struct ckpt_error e2;
	struct rec_arg ra;
	uint8_t hdr[4], *buf = NULL;
	uint64_t off = 0;
	size_t got;
	int32_t n;
	int rc = CKPT_OK;

	memset(res, 0, sizeof(*res));
	res->bad_offset = -1;
	l->cut_offset = -1;
	while (off < size) {
		rc = rd(rarg, off, hdr, 4, &got, err);
		if (rc != CKPT_OK)
			break;
		if (got < 4 || size - off < 4) {
			l->cut_offset = (int64_t)off;
			res->bad = WAL_CUT;
			res->bad_offset = (int64_t)off;
			snprintf(res->msg, sizeof(res->msg),
				"log ends inside a record length at offset %" PRIu64 " (Spark stops reading there)",
				off);
			break;
		}
		n = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3]);
		if (n < 0) {
			l->cut_offset = (int64_t)off;
			res->bad = WAL_NEGATIVE;
			res->bad_offset = (int64_t)off;
			snprintf(res->msg, sizeof(res->msg),
				"record at offset %" PRIu64 " has a negative length (%" PRId32 ")",
				off, n);
			break;
		}
		if ((uint64_t)n > size - off - 4) {
			l->cut_offset = (int64_t)off;
			res->bad = WAL_CUT;
			res->bad_offset = (int64_t)off;
			snprintf(res->msg, sizeof(res->msg),
				"log ends inside the record at offset %" PRIu64 " (%" PRId32 " bytes, %" PRIu64 " left; Spark stops reading there)",
				off, n, size - off - 4);
			break;
		}
		if (decode && (uint32_t)n <= DSTREAM_MAX_RECORD) {
			uint8_t *nb = realloc(buf, (size_t)n + 1);

			if (nb == NULL) {
				rc = ckpt_error_set(err, CKPT_E_NOMEM,
					"cannot read '%s': out of memory", path);
				break;
			}
			buf = nb;
			rc = rd(rarg, off + 4, buf, (size_t)n, &got, err);
			if (rc != CKPT_OK)
				break;
			memset(&ra, 0, sizeof(ra));
			ra.l = l;
			ra.path = path;
			memset(&e2, 0, sizeof(e2));
			if (got != (size_t)n ||
			    ckpt_jser_walk(buf, (size_t)n, NULL, path,
			    record_cb, &ra, NULL, &e2) != CKPT_OK) {
				if (res->bad == WAL_OK) {
					res->bad = WAL_DECODE;
					res->bad_offset = (int64_t)off;
					snprintf(res->msg, sizeof(res->msg),
						"record at offset %" PRIu64 ": %.440s",
						off, e2.msg[0] ? e2.msg :
						"short read");
				}
			}
			if (ra.batched)
				l->batched = 1;
		}
		l->records++;
		off += 4 + (uint64_t)n;
	}
	free(buf);
	return rc;
}

struct wal_mem {
	const uint8_t *p;
	size_t len;
};

/* wal_read_fn over a buffer. */
static int
wal_mem_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	struct wal_mem *m = arg;

	*got = 0;
	if (off < m->len) {
		*got = m->len - (size_t)off < len ? m->len - (size_t)off : len;
		memcpy(buf, m->p + off, *got);
	}
	return CKPT_OK;
}

int
dstream_wal_scan_mem(const uint8_t *p, size_t len, const char *path,
	int decode, struct ckpt_dstream_log *out, struct ckpt_error *err)
{
	struct wal_mem m = { p, len };
	struct wal_result res;
	const char *base = strrchr(path, '/');
	int rc;

	memset(out, 0, sizeof(*out));
	out->path = path;
	out->stream = "";
	out->bytes = len;
	parse_log_name(base ? base + 1 : path, &out->start_ms, &out->end_ms);
	rc = wal_scan(wal_mem_read, &m, len, path, decode, out, &res, err);
	if (rc == CKPT_OK && res.bad == WAL_NEGATIVE)
		rc = ckpt_error_set(err, CKPT_E_FORMAT, "cannot read '%s': %s",
			path, res.msg);
	if (rc == CKPT_OK && res.bad == WAL_DECODE)
		rc = ckpt_error_set(err, CKPT_E_FORMAT, "cannot decode '%s': %s",
			path, res.msg);
	return rc;
}

struct wal_store {
	struct ckpt_store *st;
	const char *path;
};

/* wal_read_fn over a store file. */
static int
wal_store_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	struct wal_store *s = arg;
	int rc;

	/* one call per record: a long log stops promptly on ^C */
	rc = ckpt_ctx_check_interrupt(s->st->ctx, "cannot read write-ahead log",
		err);
	if (rc != CKPT_OK)
		return rc;
	return ckpt_store_read_range(s->st, s->path, off, buf, len, got, err);
}

/* Iterates log segments, calling each with its result. */
typedef int (*seg_fn)(void *arg, const struct ckpt_dstream_log *l,
	const struct wal_result *res);

struct seg_walk {
	struct ckpt_store *st;
	int decode;
	seg_fn fn;
	void *arg;
	const char *dir;
	const char *stream;
	int rc;
	int stop;
	struct ckpt_error *err;
};

/* One file of a log dir: scanned if it is a log segment. */
static int
seg_file_cb(void *arg, const struct ckpt_stat *e)
{
	struct seg_walk *s = arg;
	struct ckpt_dstream_log l;
	struct wal_result res;
	struct wal_store ws;
	char path[DSTREAM_PATH_MAX];
	int rc;

	if (e->is_dir || strncmp(e->name, "log-", 4) != 0 ||
	    !join(path, sizeof(path), s->dir, e->name))
		return 0;
	memset(&l, 0, sizeof(l));
	l.path = path;
	l.stream = s->stream;
	l.bytes = e->size;
	parse_log_name(e->name, &l.start_ms, &l.end_ms);
	ws.st = s->st;
	ws.path = path;
	rc = wal_scan(wal_store_read, &ws, e->size, path,
		s->decode && s->stream[0] == '\0', &l, &res, s->err);
	if (rc != CKPT_OK) {
		s->rc = rc;
		return 1;
	}
	if (s->fn(s->arg, &l, &res) != 0) {
		s->stop = 1;
		return 1;
	}
	return 0;
}

/* One receivedData/<stream> dir: its segments. */
static int
seg_stream_cb(void *arg, const struct ckpt_stat *e)
{
	struct seg_walk *s = arg, sub;
	char dir[DSTREAM_PATH_MAX];
	int rc;

	if (!e->is_dir || !join(dir, sizeof(dir), "receivedData", e->name))
		return 0;
	sub = *s;
	sub.dir = dir;
	sub.stream = e->name;
	rc = ckpt_store_list(s->st, dir, CKPT_LIST_NUMERIC, NULL, seg_file_cb,
		&sub, s->err);
	if (rc != CKPT_OK || sub.rc != CKPT_OK) {
		s->rc = rc != CKPT_OK ? rc : sub.rc;
		return 1;
	}
	s->stop = sub.stop;
	return sub.stop;
}

/* Lists dir; a missing dir is no segment at all. */
static int
list_opt(struct ckpt_store *st, const char *dir, ckpt_list_fn cb,
	void *arg, struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	int rc;

	rc = ckpt_store_list(st, dir, CKPT_LIST_NAME, NULL, cb, arg, &e2);
	if (rc == CKPT_OK || e2.kind == CKPT_E_NOTFOUND)
		return CKPT_OK;
	*err = e2;
	return rc;
}

/* Every segment: receivedBlockMetadata, then each receiver. */
static int
segments(struct ckpt_store *st, int decode, seg_fn fn, void *arg,
	struct ckpt_error *err)
{
	struct seg_walk s = { st, decode, fn, arg, "receivedBlockMetadata",
		"", CKPT_OK, 0, err };
	int rc;

	rc = list_opt(st, s.dir, seg_file_cb, &s, err);
	if (rc != CKPT_OK || s.rc != CKPT_OK || s.stop)
		return rc != CKPT_OK ? rc : s.rc;
	s.dir = "receivedData";
	rc = list_opt(st, s.dir, seg_stream_cb, &s, err);
	return rc != CKPT_OK ? rc : s.rc;
}

struct logs_arg {
	ckpt_dstream_log_fn cb;
	void *arg;
};

/* Adapts a segment callback to the public one. */
static int
logs_cb(void *arg, const struct ckpt_dstream_log *l,
	const struct wal_result *res)
{
	struct logs_arg *a = arg;

	return a->cb(a->arg, l);
}

int
dstream_logs(struct ckpt_store *st, int decode, ckpt_dstream_log_fn cb,
	void *arg, struct ckpt_error *err)
{
	struct logs_arg a = { cb, arg };

	return segments(st, decode, logs_cb, &a, err);
}

/* ---- RDD checkpoint dirs ---- */

struct rdd_walk {
	struct ckpt_store *st;
	ckpt_dstream_rdd_fn cb;
	void *arg;
	int rc, stop;
	struct ckpt_error *err;
	int refs_loaded;
	struct dstream_file rf;		/* the restart file, for refs */
	int have_rf;
	const char *uuid;
	struct ckpt_dstream_rdd r;
};

/* Counts the parts and the partitioner of one RDD dir. */
static int
rdd_file_cb(void *arg, const struct ckpt_stat *e)
{
	struct rdd_walk *w = arg;

	if (e->is_dir)
		return 0;
	if (strncmp(e->name, "part-", 5) == 0) {
		w->r.parts++;
		w->r.bytes += e->size;
	} else if (strcmp(e->name, "_partitioner") == 0) {
		w->r.has_partitioner = 1;
	}
	return 0;
}

/* Is "<uuid>/rdd-<id>" named by the restart checkpoint? */
static int
rdd_referenced(struct rdd_walk *w, const char *rel)
{
	struct dstream_scan sc;
	struct ckpt_error e2 = { 0 };
	size_t rl = strlen(rel);
	char rule[128];
	int bk;

	if (!w->refs_loaded) {
		w->refs_loaded = 1;
		if (dstream_scan(w->st, &sc, &e2) == CKPT_OK &&
		    dstream_restart(w->st, &sc, &w->rf, &bk, rule,
		    sizeof(rule), &e2) == CKPT_OK)
			w->have_rf = 1;
	}
	if (!w->have_rf)
		return 0;
	for (size_t i = 0; i < w->rf.cp.n_rdd_refs &&
	    i < CKPT_JSER_MAX_RDD_REFS; i++) {
		const char *ref = w->rf.cp.rdd_refs[i];
		size_t n = strlen(ref);

		if (n >= rl + 1 && strcmp(ref + n - rl, rel) == 0 &&
		    ref[n - rl - 1] == '/')
			return 1;
	}
	return 0;
}

/* One rdd-<id> dir of a SparkContext dir. */
static int
rdd_dir_cb(void *arg, const struct ckpt_stat *e)
{
	struct rdd_walk *w = arg;
	char rel[DSTREAM_PATH_MAX];
	int64_t id;
	int rc;

	if (!e->is_dir || !parse_rdd(e->name, &id) ||
	    !join(rel, sizeof(rel), w->uuid, e->name))
		return 0;
	memset(&w->r, 0, sizeof(w->r));
	w->r.path = rel;
	w->r.rdd_id = id;
	rc = ckpt_store_list(w->st, rel, CKPT_LIST_NAME, NULL, rdd_file_cb, w,
		w->err);
	if (rc != CKPT_OK) {
		w->rc = rc;
		return 1;
	}
	w->r.referenced = rdd_referenced(w, rel);
	if (w->cb(w->arg, &w->r) != 0) {
		w->stop = 1;
		return 1;
	}
	return 0;
}

/* One SparkContext dir (<uuid>) of the root. */
static int
rdd_uuid_cb(void *arg, const struct ckpt_stat *e)
{
	struct rdd_walk *w = arg;
	int rc;

	if (!e->is_dir || !dstream_owns_name(e->name, 1) ||
	    strncmp(e->name, "received", 8) == 0)
		return 0;
	w->uuid = e->name;
	rc = ckpt_store_list(w->st, e->name, CKPT_LIST_NUMERIC, NULL,
		rdd_dir_cb, w, w->err);
	if (rc != CKPT_OK && w->rc == CKPT_OK)
		w->rc = rc;
	return w->rc != CKPT_OK || w->stop;
}

int
dstream_rdds(struct ckpt_store *st, ckpt_dstream_rdd_fn cb, void *arg,
	struct ckpt_error *err)
{
	struct rdd_walk *w;
	int rc;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot list rdd checkpoints: out of memory");
	w->st = st;
	w->cb = cb;
	w->arg = arg;
	w->err = err;
	rc = ckpt_store_list(st, "", CKPT_LIST_NAME, NULL, rdd_uuid_cb, w,
		err);
	if (rc == CKPT_OK)
		rc = w->rc;
	if (w->have_rf)
		dstream_file_release(&w->rf);
	free(w);
	return rc;
}

/* ---- verify ---- */

struct vfy {
	struct ckpt_store *st;
	int mixed;
	const struct ckpt_verify_opts *o;
	ckpt_problem_fn cb;
	void *arg;
	struct ckpt_verify_stats *stats;
	struct ckpt_error *err;
	int rc;
	int stop;
};

/* Reports a problem, counts it; returns non-zero to stop. */
static int
problem(struct vfy *v, int sev, int kind, const char *path, int64_t off,
	const char *msg)
{
	struct ckpt_problem p;

	p.severity = sev;
	p.kind = kind;
	p.path = path;
	p.offset = off;
	p.msg = msg;
	if (sev == CKPT_PROBLEM_ERROR)
		v->stats->errors++;
	else
		v->stats->warnings++;
	if (v->cb != NULL && v->cb(v->arg, &p) != 0)
		v->stop = 1;
	return v->stop;
}

/* Checks a file against its sidecar, if it has one. */
static int
vfy_crc(struct vfy *v, const struct ckpt_file *f, int needed)
{
	struct ckpt_hcrc_result res;
	struct ckpt_error e2 = { 0 };
	char side[DSTREAM_PATH_MAX], msg[DSTREAM_PATH_MAX + 256];
	int rc;

	if (ckpt_hcrc_sidecar_name(f->path, side, sizeof(side), &e2) !=
	    CKPT_OK)
		return 0;
	rc = ckpt_hcrc_check_store(v->st, f->path, side, &res, &e2);
	if (rc != CKPT_OK) {
		if (e2.kind == CKPT_E_NOTFOUND)
			return 0;	/* no sidecar: unverifiable */
		return problem(v, CKPT_PROBLEM_ERROR, e2.kind, f->path, -1,
			e2.msg);
	}
	switch (res.status) {
	case CKPT_HCRC_OK:
		v->stats->checksums++;	/* one per sidecar, as fmt_spark */
		return 0;
	case CKPT_HCRC_UNVERIFIABLE:
		snprintf(msg, sizeof(msg), "checksum file '%s' unusable: %s",
			side, res.why);
		return problem(v, CKPT_PROBLEM_WARNING, CKPT_E_CHECKSUM,
			f->path, -1, msg);
	case CKPT_HCRC_BAD_HEADER:
		/* non-empty, so damage, not a crash leftover (section 6) */
		snprintf(msg, sizeof(msg), "damaged checksum file '%s': %s",
			side, res.why);
		return problem(v, needed ? CKPT_PROBLEM_ERROR :
			CKPT_PROBLEM_WARNING, CKPT_E_CHECKSUM, side, 0, msg);
	case CKPT_HCRC_MISMATCH:
		v->stats->checksums++;
		snprintf(msg, sizeof(msg),
			"hadoop checksum mismatch in chunk %llu of %u bytes (crc %08x, '%s' says %08x)",
			(unsigned long long)res.bad_chunk,
			(unsigned)res.bytes_per_checksum, (unsigned)res.actual,
			side, (unsigned)res.expected);
		return problem(v, needed ? CKPT_PROBLEM_ERROR :
			CKPT_PROBLEM_WARNING, CKPT_E_CHECKSUM, f->path,
			(int64_t)res.bad_offset, msg);
	default:
		v->stats->checksums++;
		snprintf(msg, sizeof(msg), "%s (checksum file '%s')", res.why,
			side);
		return problem(v, needed ? CKPT_PROBLEM_ERROR :
			CKPT_PROBLEM_WARNING, CKPT_E_CHECKSUM, f->path,
			res.status == CKPT_HCRC_MISMATCH ?
			(int64_t)res.bad_offset : -1, msg);
	}
}

/* A checkpoint-<t> file: framing, the Java walk, time vs name. */
static int
vfy_checkpoint(struct vfy *v, const struct ckpt_file *f)
{
	struct dstream_file df;
	struct ckpt_error e2 = { 0 };
	char msg[256];
	int rc;

	rc = dstream_read_checkpoint(v->st, f->path, &df, &e2);
	if (rc != CKPT_OK) {
		if (e2.kind == CKPT_E_NOMEM) {
			*v->err = e2;
			v->rc = rc;
			return 1;
		}
		return problem(v, CKPT_PROBLEM_ERROR, e2.kind, f->path, -1,
			e2.msg);
	}
	v->stats->blocks += df.lz4_blocks;
	v->stats->records++;
	if (df.cp.checkpoint_time_ms != f->batch) {
		snprintf(msg, sizeof(msg),
			"file name says time %" PRId64 " but its checkpointTime is %" PRId64,
			f->batch, df.cp.checkpoint_time_ms);
		rc = problem(v, CKPT_PROBLEM_WARNING, CKPT_E_FORMAT, f->path,
			-1, msg);
	}
	dstream_file_release(&df);
	return rc;
}

/* A part file or _partitioner: one or more Java streams' contents. */
static int
vfy_rdd_file(struct vfy *v, const struct ckpt_file *f)
{
	struct ckpt_error e2 = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ckpt_store_read_all(v->st, f->path, DSTREAM_MAX_FILE, &buf, &len,
		&e2);
	if (rc == CKPT_OK)
		rc = ckpt_jser_walk(buf, len, NULL, f->path, NULL, NULL, NULL,
			&e2);
	free(buf);
	if (rc == CKPT_OK) {
		v->stats->records++;
		return 0;
	}
	/* leftovers of other runs: only a warning (section 10 item 15) */
	return problem(v, CKPT_PROBLEM_WARNING, e2.kind, f->path, -1, e2.msg);
}

/* Verify one file by its role. */
static int
vfy_file_cb(void *arg, const struct ckpt_file *f)
{
	struct vfy *v = arg;
	int deep = v->o != NULL && v->o->level >= CKPT_VERIFY_READ_STATE;
	const char *name = strrchr(f->path, '/');

	v->stats->files++;
	v->stats->bytes += f->size;
	switch (f->role) {
	case CKPT_F_METADATA:
		if (vfy_crc(v, f, 1) || vfy_checkpoint(v, f))
			return 1;
		break;
	case CKPT_F_WAL:
		if (vfy_crc(v, f, 1))
			return 1;
		break;
	case CKPT_F_OTHER:
		if (vfy_crc(v, f, 0))
			return 1;
		name = name ? name + 1 : f->path;
		if (deep && (strncmp(name, "part-", 5) == 0 ||
		    strcmp(name, "_partitioner") == 0) && vfy_rdd_file(v, f))
			return 1;
		break;
	case CKPT_F_TEMP:
		return problem(v, CKPT_PROBLEM_WARNING, CKPT_E_FORMAT, f->path,
			-1, "temporary file of an interrupted checkpoint write");
	case CKPT_F_ORPHAN:
		return problem(v, CKPT_PROBLEM_WARNING, CKPT_E_CHECKSUM,
			f->path, -1, "checksum file without its data file");
	case CKPT_F_FOREIGN:
		return problem(v, CKPT_PROBLEM_WARNING, CKPT_E_FORMAT, f->path,
			-1, "not a file of a dstream checkpoint");
	default:
		break;
	}
	return v->stop;
}

/* Verify one WAL segment from its scan. */
static int
vfy_seg_cb(void *arg, const struct ckpt_dstream_log *l,
	const struct wal_result *res)
{
	struct vfy *v = arg;

	v->stats->records += l->records;
	switch (res->bad) {
	case WAL_CUT:
		return problem(v, CKPT_PROBLEM_WARNING, CKPT_E_FORMAT, l->path,
			res->bad_offset, res->msg);
	case WAL_NEGATIVE:
	case WAL_DECODE:
		return problem(v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, l->path,
			res->bad_offset, res->msg);
	default:
		return 0;
	}
}

int
dstream_verify(struct ckpt_store *st, int mixed,
	const struct ckpt_verify_opts *o, ckpt_problem_fn cb, void *arg,
	struct ckpt_verify_stats *stats, struct ckpt_error *err)
{
	struct ckpt_verify_stats dummy;
	struct dstream_scan sc;
	struct dstream_file rf;
	struct vfy v;
	char rule[256];
	int rc, bk;

	if (stats == NULL) {
		memset(&dummy, 0, sizeof(dummy));
		stats = &dummy;
	}
	memset(&v, 0, sizeof(v));
	v.st = st;
	v.mixed = mixed;
	v.o = o;
	v.cb = cb;
	v.arg = arg;
	v.stats = stats;
	v.err = err;
	rc = dstream_files_walk(st, mixed, vfy_file_cb, &v, err);
	if (rc == CKPT_OK)
		rc = v.rc;
	if (rc != CKPT_OK || v.stop)
		return rc;
	rc = segments(st, o != NULL && o->level >= CKPT_VERIFY_READ_STATE,
		vfy_seg_cb, &v, err);
	if (rc != CKPT_OK || v.stop)
		return rc;
	/* can Spark restart at all? */
	rc = dstream_scan(st, &sc, err);
	if (rc != CKPT_OK)
		return rc;
	if (sc.gens == 0) {
		if (!mixed)
			problem(&v, CKPT_PROBLEM_WARNING, CKPT_E_FORMAT, "", -1,
				"no checkpoint file: a restart starts afresh and ignores the write-ahead logs");
		return CKPT_OK;
	}
	rc = dstream_restart(st, &sc, &rf, &bk, rule, sizeof(rule), err);
	if (rc == CKPT_OK) {
		dstream_file_release(&rf);
		return CKPT_OK;
	}
	if (rc != CKPT_EOF)
		return rc;
	problem(&v, CKPT_PROBLEM_ERROR, CKPT_E_FORMAT, "", -1,
		"no checkpoint file decodes: Spark cannot restart from this directory");
	return CKPT_OK;
}

/* ---- hex dump regions (inspect --hex) ---- */

static int
region(ckpt_region_fn cb, void *arg, uint64_t off, uint64_t len,
	const char *what, const char *note, int ok)
{
	struct ckpt_region r;

	r.offset = off;
	r.length = len;
	r.what = what;
	r.note = note;
	r.ok = ok;
	return cb(arg, &r);
}

struct lz4_src {
	struct ckpt_store *st;
	const char *path;
	uint64_t off;
};

/* spark_read_fn over a store file by offset. */
static int
lz4_src_read(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	struct lz4_src *s = arg;
	int rc;

	rc = ckpt_store_read_range(s->st, s->path, s->off, buf, len, got, err);
	if (rc == CKPT_OK)
		s->off += *got;
	return rc;
}

/* A checkpoint-<t> file: its LZ4Block headers and payloads. */
static int
lz4_regions(struct ckpt_store *st, const char *path, ckpt_region_fn cb,
	void *arg, struct ckpt_error *err)
{
	struct lz4_src src = { st, path, 0 };
	struct spark_lz4 z;
	struct spark_lz4_block b;
	struct ckpt_error e2 = { 0 };
	char note[CKPT_ERROR_MSG_MAX + 64];
	uint64_t good = 0;	/* end of the last good block */
	int rc, stop = 0;

	spark_lz4_init(&z, lz4_src_read, &src, path);
	while (!stop && (rc = spark_lz4_next_block(&z, &b, &e2)) == CKPT_OK) {
		good = b.offset + SPARK_LZ4_HEADER + b.clen;
		snprintf(note, sizeof(note), "%s, %u -> %u bytes, xxhash ok",
			b.is_end ? "end of stream" : b.method == 0x10 ? "raw" :
			"lz4", (unsigned)b.clen, (unsigned)b.olen);
		stop = region(cb, arg, b.offset, SPARK_LZ4_HEADER,
			"lz4 block header", note, 1);
		if (!stop && b.clen > 0)
			stop = region(cb, arg, b.offset + SPARK_LZ4_HEADER,
				b.clen, "lz4 block payload",
				"java serialization of a Checkpoint", 1);
	}
	spark_lz4_release(&z);
	if (stop || rc == CKPT_EOF)
		return CKPT_OK;
	if (e2.kind == CKPT_E_IO || e2.kind == CKPT_E_NOMEM) {
		*err = e2;
		return rc;
	}
	snprintf(note, sizeof(note), "%s", e2.msg);
	region(cb, arg, good, 0, "damage", note, 0);
	return CKPT_OK;
}

/* A WAL segment: each record's length and payload. */
static int
wal_regions(struct ckpt_store *st, const char *path, uint64_t size,
	ckpt_region_fn cb, void *arg, struct ckpt_error *err)
{
	struct wal_store ws = { st, path };
	char note[160];
	uint8_t hdr[4];
	uint64_t off = 0, k = 0;
	size_t got;
	int32_t n;
	int rc;

	while (off < size) {
		rc = wal_store_read(&ws, off, hdr, 4, &got, err);
		if (rc != CKPT_OK)
			return rc;
		if (got < 4) {
			region(cb, arg, off, size - off, "cut record",
				"the file ends inside a record length", 0);
			return CKPT_OK;
		}
		n = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3]);
		snprintf(note, sizeof(note), "record %" PRIu64 ": %" PRId32
			" bytes", k, n);
		if (region(cb, arg, off, 4, "record length", note, n >= 0))
			return CKPT_OK;
		if (n < 0)
			return CKPT_OK;
		if ((uint64_t)n > size - off - 4) {
			region(cb, arg, off + 4, size - off - 4, "cut record",
				"the file ends inside this record; Spark stops reading here",
				0);
			return CKPT_OK;
		}
		if (region(cb, arg, off + 4, (uint64_t)n, "record payload",
		    "java serialization", -1))
			return CKPT_OK;
		off += 4 + (uint64_t)n;
		k++;
	}
	return CKPT_OK;
}

/* A Hadoop sidecar: header and sums. */
static int
crc_regions(struct ckpt_store *st, const char *path, uint64_t size,
	ckpt_region_fn cb, void *arg, struct ckpt_error *err)
{
	uint8_t hdr[8];
	char note[96];
	size_t got;
	int rc;

	rc = ckpt_store_read_range(st, path, 0, hdr, sizeof(hdr), &got, err);
	if (rc != CKPT_OK)
		return rc;
	if (got < 8 || memcmp(hdr, CKPT_HCRC_MAGIC, 4) != 0) {
		region(cb, arg, 0, size, "checksum file",
			"not a hadoop checksum file", 0);
		return CKPT_OK;
	}
	snprintf(note, sizeof(note), "\"crc\\0\", %u bytes per checksum",
		(unsigned)((uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
		(uint32_t)hdr[6] << 8 | hdr[7]));
	if (region(cb, arg, 0, 8, "hadoop crc header", note, 1))
		return CKPT_OK;
	snprintf(note, sizeof(note), "%" PRIu64 " CRC-32 sums, big-endian",
		(size - 8) / 4);
	region(cb, arg, 8, size - 8, "chunk checksums", note,
		(size - 8) % 4 == 0 ? 1 : 0);
	return CKPT_OK;
}

int
dstream_file_regions(struct ckpt_store *st, const char *path,
	ckpt_region_fn cb, void *arg, struct ckpt_error *err)
{
	const char *name = strrchr(path, '/');
	char target[CKPT_NAME_MAX], cls[160], note[200];
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat s;
	int64_t t;
	int rc, bk;
	char *buf = NULL;
	size_t len;

	name = name ? name + 1 : path;
	rc = ckpt_store_stat(st, path, &s, err);
	if (rc != CKPT_OK)
		return rc;
	if (ckpt_hcrc_sidecar_target(name, target, sizeof(target)))
		return crc_regions(st, path, s.size, cb, arg, err);
	if (strchr(path, '/') == NULL && dstream_parse_name(name, &t, &bk))
		return lz4_regions(st, path, cb, arg, err);
	if (strncmp(name, "log-", 4) == 0 &&
	    (strncmp(path, "receivedBlockMetadata/", 22) == 0 ||
	    strncmp(path, "receivedData/", 13) == 0))
		return wal_regions(st, path, s.size, cb, arg, err);
	/* RDD parts, _partitioner, anything else: one Java stream? */
	rc = ckpt_store_read_all(st, path, DSTREAM_MAX_FILE, &buf, &len, &e2);
	if (rc == CKPT_OK && ckpt_jser_is_stream(buf, len) &&
	    ckpt_jser_top_class(buf, len, cls, sizeof(cls), &e2) == CKPT_OK) {
		snprintf(note, sizeof(note), "java serialization%s%s",
			cls[0] ? " of " : "", cls);
		region(cb, arg, 0, len, "java serialization", note, 1);
	} else {
		region(cb, arg, 0, s.size, "data", "not decoded", -1);
	}
	free(buf);
	if (e2.kind == CKPT_E_IO || e2.kind == CKPT_E_NOMEM) {
		*err = e2;
		return CKPT_FAILED;
	}
	return CKPT_OK;
}
