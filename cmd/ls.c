/*
 * ls.c - `ckpt ls PATH`: what a checkpoint holds, at a glance.
 *
 * Prints a header (format, job, restart point and why, next batch, state
 * version, watermark, lock holder), the batches (the 20 newest unless -a
 * or -l; the restart point marked), the operators (with -l, each
 * partition), the leftover files a prune would look at (temp files,
 * files of uncommitted batches and whether recovery replays them,
 * orphans, foreign files) and totals.  Batches and files are streamed
 * from the library iterators: nothing grows with the checkpoint except
 * a fixed ring of the newest batches.  Listing hints tell the driver
 * what ls does not need (info's totals and counts; without -a/-l the
 * details of batches not shown, filled for the ring alone), so that a
 * checkpoint of many batches costs about a readdir + stat of its files.
 * The sources and their offsets come from the batch a restart starts
 * from (ckpt_batch_json).
 *
 * It changes nothing and reads no state record (see inspect.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd.h"

#define LS_RING 20

static const char *const ls_usage[] = {
	"ckpt ls [-l] [-a] PATH",
	"",
	"List the batches, restart point, operators and leftover files of a",
	"checkpoint.  Without -a or -l only the 20 newest batches are shown.",
	NULL
};

struct ls {
	struct cli *cli;
	struct ckpt *c;
	struct ckpt_info info;
	int info_ok;
	int lng, all;
	struct jw jw;
	struct ckpt_batch ring[LS_RING];
	uint64_t nbatches;
	int64_t last_offsets;	/* newest batch with offsets, CKPT_NONE */
	uint64_t files, bytes;
	uint64_t nleft;
	uint64_t ndfile, ndlog, ndrdd;	/* DStream sections shown */
};

/*
 * A lock whose holder is a process of this host that no longer runs is
 * stale: the next writer takes it over (the file store's rule).
 */
static int
lock_stale(const struct ckpt_lock_info *lk)
{
	char host[sizeof(lk->host)];

	if (gethostname(host, sizeof(host)) != 0)
		return 0;
	host[sizeof(host) - 1] = '\0';
	if (strcmp(host, lk->host) != 0 || lk->pid <= 0)
		return 0;
	return kill((pid_t)lk->pid, 0) != 0 && errno == ESRCH;
}

/*
 * The retention window a driver describes in its metadata ("retention":
 * Spark's minBatchesToRetain), as a new cJSON object, or NULL.
 */
static cJSON *
retention(const struct ls *ls)
{
	cJSON *doc = ls->info.metadata_json ?
		cJSON_Parse(ls->info.metadata_json) : NULL;
	cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(doc, "retention");

	cJSON_Delete(doc);
	if (r && !cJSON_IsObject(r)) {
		cJSON_Delete(r);
		r = NULL;
	}
	return r;
}

static void
text_retention(const struct ls *ls)
{
	cJSON *r = retention(ls);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r,
		"min_batches_to_retain");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, "from");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "window_first");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, "oldest_batch");

	if (cJSON_IsNumber(m) && cJSON_IsNumber(w) && cJSON_IsNumber(o))
		printf("retention:     %.0f batches (minBatchesToRetain, %s): "
			"Spark keeps batch %.0f on, oldest present %.0f\n",
			m->valuedouble, cJSON_IsString(f) &&
			strcmp(f->valuestring, "conf") == 0 ? "from the conf" :
			"Spark's default", w->valuedouble, o->valuedouble);
	cJSON_Delete(r);
}

static void
text_header(struct ls *ls, const char *path)
{
	struct ckpt_info *in = &ls->info;
	struct ckpt_lock_info lk;
	struct ckpt_error err = { 0 };
	char a[CLI_FMT_MAX];

	printf("path:          %s\n", path);
	printf("format:        %s\n", in->kind[0] ? in->kind : in->format);
	if (in->version_estimate[0])
		printf("spark version: %s (%s)\n", in->version_estimate,
			in->version_reason);
	printf("id:            %s\n", in->id[0] ? in->id : "-");
	printf("name:          %s\n", in->name[0] ? in->name : "-");
	if (in->restart_point == CKPT_NONE)
		printf("restart point: none (%s)\n", in->restart_rule[0] ?
			in->restart_rule : "no committed batch");
	else
		printf("restart point: %sbatch %" PRId64 "%s (%s)\n",
			cli_color(ls->cli, CLI_GREEN), in->restart_point,
			cli_color(ls->cli, CLI_RESET), in->restart_rule);
	printf("next batch:    %s\n", cli_fmt_i64(a, in->next_batch));
	printf("state version: %s\n", cli_fmt_i64(a, in->state_version));
	printf("watermark:     %s\n", cli_fmt_time(a, in->watermark_ms));
	text_retention(ls);
	if (ckpt_store_lock_holder(ckpt_get_store(ls->c), &lk, &err) ==
	    CKPT_OK)
		printf("locked by:     pid %ld on %s since %s (%s)%s\n",
			lk.pid, lk.host, cli_fmt_time(a, lk.since_ms), lk.what,
			lock_stale(&lk) ? ", stale: the process is gone and "
			"the next writer takes the lock over" : "");
}

static void
json_header(struct ls *ls, const char *path)
{
	struct ckpt_info *in = &ls->info;
	struct ckpt_lock_info lk;
	struct ckpt_error err = { 0 };
	struct jw *w = &ls->jw;

	jw_ckpt_identity(w, path, in);
	jw_key(w, "version_estimate");
	jw_str(w, in->version_estimate[0] ? in->version_estimate : NULL);
	jw_key(w, "version_reason");
	jw_str(w, in->version_reason[0] ? in->version_reason : NULL);
	jw_key(w, "restart_point");
	jw_i64(w, in->restart_point);
	jw_key(w, "restart_rule");
	jw_str(w, in->restart_rule);
	jw_key(w, "next_batch");
	jw_i64(w, in->next_batch);
	jw_key(w, "state_version");
	jw_i64(w, in->state_version);
	jw_key(w, "watermark_ms");
	jw_i64(w, in->watermark_ms);
	jw_key(w, "retention");
	{
		cJSON *r = retention(ls);
		char *txt = r ? cJSON_PrintUnformatted(r) : NULL;

		jw_json(w, txt);
		cJSON_free(txt);
		cJSON_Delete(r);
	}
	jw_key(w, "lock");
	if (ckpt_store_lock_holder(ckpt_get_store(ls->c), &lk, &err) ==
	    CKPT_OK) {
		jw_obj_begin(w);
		jw_key(w, "host");
		jw_str(w, lk.host);
		jw_key(w, "pid");
		jw_int(w, lk.pid);
		jw_key(w, "since_ms");
		jw_int(w, lk.since_ms);
		jw_key(w, "what");
		jw_str(w, lk.what);
		jw_key(w, "stale");
		jw_bool(w, lock_stale(&lk));
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
}

/* ---- batches ---- */

/*
 * Appends s to *p padded with spaces to width (left-aligned or right-
 * aligned), as printf's %-Ns / %Ns do: -l prints a line per batch, and
 * printf's format parsing was a tenth of its time.
 */
static void
put_pad(char **p, const char *s, int width, int left)
{
	size_t n = strlen(s);
	int pad = (size_t)width > n ? width - (int)n : 0;

	if (!left)
		for (; pad > 0; pad--)
			*(*p)++ = ' ';
	memcpy(*p, s, n);
	*p += n;
	for (; pad > 0; pad--)
		*(*p)++ = ' ';
}

static void
put_u64(char **p, uint64_t v, int neg, int width)
{
	char d[24];
	int i = (int)sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	if (neg)
		d[--i] = '-';
	put_pad(p, d + i, width, 0);
}

static void
text_batch(struct ls *ls, const struct ckpt_batch *b)
{
	char t[CLI_FMT_MAX], sz[CLI_FMT_MAX], line[256], *p = line;
	const char *commit = b->committed ? "yes" :
		b->has_offsets ? "no" : "-";

	/* "%10" PRId64 "  %-6s  %-5s  %-24s  %6" PRIu64 "  %10s" */
	put_u64(&p, b->id < 0 ? 0 - (uint64_t)b->id : (uint64_t)b->id,
		b->id < 0, 10);
	put_pad(&p, "  ", 0, 1);
	put_pad(&p, commit, 6, 1);
	put_pad(&p, "  ", 0, 1);
	put_pad(&p, b->has_state ? "yes" : "-", 5, 1);
	put_pad(&p, "  ", 0, 1);
	put_pad(&p, cli_fmt_time(t, b->time_ms), 24, 1);
	put_pad(&p, "  ", 0, 1);
	put_u64(&p, b->files, 0, 6);
	put_pad(&p, "  ", 0, 1);
	put_pad(&p, cli_fmt_size(sz, b->bytes), 10, 0);
	fwrite(line, 1, (size_t)(p - line), stdout);
	if (b->is_restart_point)
		printf("  %s<- restart point%s", cli_color(ls->cli, CLI_GREEN),
			cli_color(ls->cli, CLI_RESET));
	putchar('\n');
}

static void
json_batch(struct ls *ls, const struct ckpt_batch *b)
{
	struct jw *w = &ls->jw;

	jw_obj_begin(w);
	jw_key(w, "id");
	jw_int(w, b->id);
	jw_key(w, "has_offsets");
	jw_bool(w, b->has_offsets);
	jw_key(w, "committed");
	jw_bool(w, b->committed);
	jw_key(w, "has_state");
	jw_bool(w, b->has_state);
	jw_key(w, "restart_point");
	jw_bool(w, b->is_restart_point);
	jw_key(w, "time_ms");
	jw_i64(w, b->time_ms);
	jw_key(w, "files");
	jw_uint(w, b->files);
	jw_key(w, "bytes");
	jw_uint(w, b->bytes);
	jw_obj_end(w);
}

/* Streams the batches; text mode keeps only the newest LS_RING. */
static int
list_batches(struct ls *ls, struct ckpt_error *err)
{
	struct ckpt_batch_iter *it = NULL;
	struct ckpt_batch b;
	int every = ls->all || ls->lng || ls->cli->json;
	uint64_t i, first;
	int rc, ids = 0;

	if (ls->cli->json) {
		jw_key(&ls->jw, "batches");
		jw_arr_begin(&ls->jw);
	} else {
		printf("\n%10s  %-6s  %-5s  %-24s  %6s  %10s\n", "BATCH",
			"COMMIT", "STATE", "TIME", "FILES", "BYTES");
	}
	/* only the shown batches are read in full */
	if (!every)
		ids = (ckpt_set_hints(ls->c, CKPT_HINT_NO_TOTALS |
			CKPT_HINT_NO_COUNTS | CKPT_HINT_BATCH_IDS) &
			CKPT_HINT_BATCH_IDS) != 0;
	rc = ckpt_batch_iter_open(ls->c, &it, err);
	if (rc != CKPT_OK)
		return rc;
	while ((rc = ckpt_batch_iter_next(it, &b, err)) == CKPT_OK) {
		if (b.has_offsets)
			ls->last_offsets = b.id;
		if (ls->cli->json)
			json_batch(ls, &b);
		else if (every)
			text_batch(ls, &b);
		else
			ls->ring[ls->nbatches % LS_RING] = b;
		ls->nbatches++;
	}
	ckpt_batch_iter_close(it);
	ckpt_set_hints(ls->c, CKPT_HINT_NO_TOTALS | CKPT_HINT_NO_COUNTS);
	if (rc != CKPT_EOF)
		return rc;
	if (ls->cli->json) {
		jw_arr_end(&ls->jw);
		return CKPT_OK;
	}
	if (ls->nbatches == 0)
		printf("%10s  (no batches)\n", "");
	if (every)
		return CKPT_OK;
	first = ls->nbatches > LS_RING ? ls->nbatches - LS_RING : 0;
	if (first > 0)
		printf("%10s  ... %" PRIu64 " older batch%s (use -a to list "
			"all)\n", "", first, first == 1 ? "" : "es");
	for (i = first; i < ls->nbatches; i++) {
		if (ids && ckpt_batch_fill(ls->c, &ls->ring[i % LS_RING],
		    err) != CKPT_OK)
			return CKPT_FAILED;
		text_batch(ls, &ls->ring[i % LS_RING]);
	}
	return CKPT_OK;
}

/* ---- operators ---- */

static void
text_versions(char buf[CLI_FMT_MAX], int64_t lo, int64_t hi)
{
	if (lo == CKPT_NONE || hi == CKPT_NONE)
		snprintf(buf, CLI_FMT_MAX, "-");
	else
		snprintf(buf, CLI_FMT_MAX, "%" PRId64 "..%" PRId64, lo, hi);
}

static void
text_keys(char buf[CLI_FMT_MAX], int64_t keys)
{
	if (keys < 0)
		snprintf(buf, CLI_FMT_MAX, "?");
	else
		snprintf(buf, CLI_FMT_MAX, "%" PRId64, keys);
}

static int
text_operator(struct ls *ls, const struct ckpt_operator *op,
	struct ckpt_error *err)
{
	struct ckpt_partition p;
	char v[CLI_FMT_MAX], k[CLI_FMT_MAX], sz[CLI_FMT_MAX];
	int i, rc;

	text_versions(v, op->min_version, op->max_version);
	text_keys(k, op->keys);
	printf("%-20s  %-14s  %5d  %-14s  %9" PRIu64 "  %7" PRIu64
		"  %8s  %10s\n", op->name, op->type[0] ? op->type : "-",
		op->partitions, v, op->snapshots, op->deltas, k,
		cli_fmt_size(sz, op->bytes));
	if (!ls->lng)
		return CKPT_OK;
	for (i = 0; i < op->partitions; i++) {
		char name[32];

		rc = ckpt_partition_get(ls->c, op->index, i, &p, err);
		if (rc != CKPT_OK)
			return rc;
		snprintf(name, sizeof(name), "  partition %d", p.partition);
		text_versions(v, p.min_version, p.max_version);
		text_keys(k, p.keys);
		printf("%-20s  %-14s  %5s  %-14s  %9" PRIu64 "  %7" PRIu64
			"  %8s  %10s\n", name, "", "", v, p.snapshots,
			p.deltas, k, cli_fmt_size(sz, p.bytes));
	}
	return CKPT_OK;
}

static int
json_operator(struct ls *ls, const struct ckpt_operator *op,
	struct ckpt_error *err)
{
	struct jw *w = &ls->jw;
	struct ckpt_partition p;
	int i, rc;

	jw_obj_begin(w);
	jw_key(w, "index");
	jw_int(w, op->index);
	jw_key(w, "name");
	jw_str(w, op->name);
	jw_key(w, "type");
	jw_str(w, op->type[0] ? op->type : NULL);
	jw_key(w, "num_partitions");
	jw_int(w, op->partitions);
	jw_key(w, "min_version");
	jw_i64(w, op->min_version);
	jw_key(w, "max_version");
	jw_i64(w, op->max_version);
	jw_key(w, "snapshots");
	jw_uint(w, op->snapshots);
	jw_key(w, "deltas");
	jw_uint(w, op->deltas);
	jw_key(w, "keys");
	jw_i64(w, op->keys < 0 ? CKPT_NONE : op->keys);
	jw_key(w, "bytes");
	jw_uint(w, op->bytes);
	jw_key(w, "key_schema");
	jw_json(w, op->key_schema);
	jw_key(w, "value_schema");
	jw_json(w, op->value_schema);
	if (ls->lng) {
		jw_key(w, "partitions");
		jw_arr_begin(w);
		for (i = 0; i < op->partitions; i++) {
			rc = ckpt_partition_get(ls->c, op->index, i, &p, err);
			if (rc != CKPT_OK)
				return rc;
			jw_obj_begin(w);
			jw_key(w, "partition");
			jw_int(w, p.partition);
			jw_key(w, "min_version");
			jw_i64(w, p.min_version);
			jw_key(w, "max_version");
			jw_i64(w, p.max_version);
			jw_key(w, "snapshots");
			jw_uint(w, p.snapshots);
			jw_key(w, "deltas");
			jw_uint(w, p.deltas);
			jw_key(w, "keys");
			jw_i64(w, p.keys < 0 ? CKPT_NONE : p.keys);
			jw_key(w, "bytes");
			jw_uint(w, p.bytes);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
	return CKPT_OK;
}

/* ---- sources at the restart point ---- */

/*
 * The offsets a restart starts from: the restart point's, else (nothing
 * committed, or its offsets purged as in Spark 2.0's fixture 1) the
 * newest batch's.  *json is NULL when neither has any.
 */
static int64_t
sources_json(const struct ls *ls, char **json)
{
	struct ckpt_error e2 = { 0 };
	int64_t b = ls->info.restart_point;

	*json = NULL;
	if (b != CKPT_NONE && ckpt_batch_json(ls->c, b, json, &e2) ==
	    CKPT_OK)
		return b;
	/* info leaves it unknown under CKPT_HINT_NO_COUNTS */
	b = ls->info.last_batch != CKPT_NONE ? ls->info.last_batch :
		ls->last_offsets;
	if (b != CKPT_NONE && ckpt_batch_json(ls->c, b, json, &e2) ==
	    CKPT_OK)
		return b;
	return CKPT_NONE;
}

/* One source's offsets in words: Kafka topic-partitions, a value, raw. */
static void
text_source(const cJSON *src)
{
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(src,
		"partitions");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, "value");
	const cJSON *raw = cJSON_GetObjectItemCaseSensitive(src, "raw");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(src, "offset");
	const cJSON *t, *p;
	char safe[CLI_SAFE_MAX], *txt;

	if (cJSON_IsObject(parts)) {
		cJSON_ArrayForEach(t, parts) {
			printf(" %s:", cli_safe(safe, sizeof(safe), t->string));
			cJSON_ArrayForEach(p, t)
				printf(" %s=%.0f", cli_safe(safe, sizeof(safe),
					p->string), p->valuedouble);
		}
	} else if (cJSON_IsNumber(v)) {
		t = cJSON_GetObjectItemCaseSensitive(src, "type");
		printf(" %s%.0f", cJSON_IsString(t) && strcmp(t->valuestring,
			"file") == 0 ? "logOffset " : "", v->valuedouble);
	} else if (cJSON_IsString(raw)) {
		printf(" %s", cli_safe(safe, sizeof(safe), raw->valuestring));
	} else if (off && (txt = cJSON_PrintUnformatted(off)) != NULL) {
		printf(" %s", cli_safe(safe, sizeof(safe), txt));
		cJSON_free(txt);
	}
	printf("\n");
}

/*
 * Sources and their offsets at the batch a restart starts from (text:
 * one line each; JSON: the driver's source objects as they are).
 */
static int
list_sources(struct ls *ls, struct ckpt_error *err)
{
	const cJSON *arr, *src, *name;
	char *json = NULL, safe[CLI_SAFE_MAX];
	int64_t b = sources_json(ls, &json);
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	int i = 0;

	(void)err;
	arr = cJSON_GetObjectItemCaseSensitive(doc, "sources");
	if (!cJSON_IsArray(arr))
		arr = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(doc, "offsets"),
			"sources");
	if (ls->cli->json) {
		jw_key(&ls->jw, "sources");
		if (cJSON_IsArray(arr)) {
			char *txt = cJSON_PrintUnformatted(arr);
			jw_json(&ls->jw, txt);
			cJSON_free(txt);
		} else {
			jw_null(&ls->jw);
		}
	} else if (cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0) {
		printf("\nSOURCES at batch %" PRId64 "\n", b);
		cJSON_ArrayForEach(src, arr) {
			name = cJSON_GetObjectItemCaseSensitive(src, "type");
			if (!cJSON_IsString(name))
				name = cJSON_GetObjectItemCaseSensitive(src,
					"name");
			printf("  %-3d %-10s", i++, !cJSON_IsString(name) ?
				"-" : cli_safe(safe, sizeof(safe),
				name->valuestring));
			text_source(src);
		}
	}
	cJSON_Delete(doc);
	free(json);
	return CKPT_OK;
}

static int
list_operators(struct ls *ls, struct ckpt_error *err)
{
	struct ckpt_operator op;
	int i, n = ckpt_operator_count(ls->c), rc = CKPT_OK;

	if (ls->cli->json) {
		jw_key(&ls->jw, "operators");
		jw_arr_begin(&ls->jw);
	} else {
		printf("\n%-20s  %-14s  %5s  %-14s  %9s  %7s  %8s  %10s\n",
			"OPERATOR", "TYPE", "PARTS", "VERSIONS", "SNAPSHOTS",
			"DELTAS", "KEYS", "BYTES");
		if (n <= 0)
			printf("(no stateful operators)\n");
	}
	for (i = 0; i < n && rc == CKPT_OK; i++) {
		memset(&op, 0, sizeof(op));
		rc = ckpt_operator_get(ls->c, i, &op, err);
		if (rc != CKPT_OK)
			break;
		if (ls->cli->json)
			rc = json_operator(ls, &op, err);
		else
			rc = text_operator(ls, &op, err);
		ckpt_operator_release(&op);
	}
	if (rc == CKPT_OK && ls->cli->json)
		jw_arr_end(&ls->jw);
	return rc;
}

/* ---- DStream write-ahead logs and RDD checkpoints (if any) ---- */

static int
on_log(void *arg, const struct ckpt_dstream_log *l)
{
	struct ls *ls = arg;
	struct jw *w = &ls->jw;
	char a[CLI_FMT_MAX], b[CLI_FMT_MAX], sz[CLI_FMT_MAX];

	if (!ls->cli->json) {
		if (ls->ndlog++ == 0)
			printf("\nWrite-ahead logs:\n"
				"  %-56s  %7s  %-24s  %-24s  %10s\n",
				"PATH", "RECORDS", "START", "END", "BYTES");
		printf("  %-56s  %7" PRIu64 "  %-24s  %-24s  %10s", l->path,
			l->records, cli_fmt_time(a, l->start_ms),
			cli_fmt_time(b, l->end_ms), cli_fmt_size(sz, l->bytes));
		if (l->cut_offset >= 0)
			printf("  cut at %" PRId64, l->cut_offset);
		if (l->stream[0] == '\0')
			printf("  (%" PRIu64 " additions, %" PRIu64
				" allocations, %" PRIu64 " cleanups)",
				l->ev_add, l->ev_alloc, l->ev_cleanup);
		printf("\n");
		return 0;
	}
	if (ls->ndlog++ == 0) {
		jw_key(w, "write_ahead_logs");
		jw_arr_begin(w);
	}
	jw_obj_begin(w);
	jw_key(w, "path");
	jw_str(w, l->path);
	jw_key(w, "stream");
	jw_str(w, l->stream);
	jw_key(w, "records");
	jw_uint(w, l->records);
	jw_key(w, "start_ms");
	jw_i64(w, l->start_ms);
	jw_key(w, "end_ms");
	jw_i64(w, l->end_ms);
	jw_key(w, "bytes");
	jw_uint(w, l->bytes);
	jw_key(w, "cut_offset");
	jw_i64(w, l->cut_offset < 0 ? CKPT_NONE : l->cut_offset);
	jw_obj_end(w);
	return 0;
}

static int
on_rdd(void *arg, const struct ckpt_dstream_rdd *r)
{
	struct ls *ls = arg;
	struct jw *w = &ls->jw;
	char sz[CLI_FMT_MAX];

	if (!ls->cli->json) {
		if (ls->ndrdd++ == 0)
			printf("\nRDD checkpoints:\n");
		printf("  %-56s  %4" PRIu64 " parts  %10s  %s\n", r->path,
			r->parts, cli_fmt_size(sz, r->bytes), r->referenced ?
			"used by the restart point" : "not referenced");
		return 0;
	}
	if (ls->ndrdd++ == 0) {
		jw_key(w, "rdd_checkpoints");
		jw_arr_begin(w);
	}
	jw_obj_begin(w);
	jw_key(w, "path");
	jw_str(w, r->path);
	jw_key(w, "parts");
	jw_uint(w, r->parts);
	jw_key(w, "bytes");
	jw_uint(w, r->bytes);
	jw_key(w, "referenced");
	jw_bool(w, r->referenced);
	jw_obj_end(w);
	return 0;
}

static int
on_cpfile(void *arg, const struct ckpt_dstream_file *f)
{
	struct ls *ls = arg;
	struct jw *w = &ls->jw;
	char sz[CLI_FMT_MAX], t[CLI_FMT_MAX];
	size_t i;

	if (!ls->cli->json) {
		if (ls->ndfile++ == 0)
			printf("\nCheckpoint files:\n"
				"  %-30s  %10s  %-24s  %s\n", "FILE", "BYTES",
				"CHECKPOINT TIME", "PENDING");
		printf("  %-30s  %10s  ", f->name, cli_fmt_size(sz, f->bytes));
		if (!f->decodes) {
			printf("does not decode: %s\n", f->error);
			return 0;
		}
		printf("%-24s  ", cli_fmt_time(t, f->checkpoint_time_ms));
		for (i = 0; i < f->n_pending && i < 64; i++)
			printf("%s%" PRId64, i ? "," : "", f->pending_times[i]);
		printf("%s%s\n", f->n_pending ? "" : "-",
			f->is_restart ? "  <- restart file" : "");
		return 0;
	}
	if (ls->ndfile++ == 0) {
		jw_key(w, "checkpoint_files");
		jw_arr_begin(w);
	}
	jw_obj_begin(w);
	jw_key(w, "file");
	jw_str(w, f->name);
	jw_key(w, "time_ms");
	jw_i64(w, f->time_ms);
	jw_key(w, "bk");
	jw_bool(w, f->bk);
	jw_key(w, "bytes");
	jw_uint(w, f->bytes);
	jw_key(w, "error");
	jw_str(w, f->decodes ? NULL : f->error);
	jw_key(w, "checkpoint_time_ms");
	jw_i64(w, f->checkpoint_time_ms);
	jw_key(w, "pending_times");
	jw_arr_begin(w);
	for (i = 0; i < f->n_pending && i < 64; i++)
		jw_i64(w, f->pending_times[i]);
	jw_arr_end(w);
	jw_key(w, "restart_file");
	jw_bool(w, f->is_restart);
	jw_obj_end(w);
	return 0;
}

/* Sections only DStream checkpoints have; nothing is printed otherwise. */
static int
list_dstream(struct ls *ls, struct ckpt_error *err)
{
	int rc;

	rc = ckpt_dstream_files(ls->c, on_cpfile, ls, err);
	if (rc == CKPT_OK && ls->ndfile && ls->cli->json)
		jw_arr_end(&ls->jw);
	if (rc == CKPT_OK)
		rc = ckpt_dstream_logs(ls->c, on_log, ls, err);
	if (rc == CKPT_OK && ls->ndlog && ls->cli->json)
		jw_arr_end(&ls->jw);
	if (rc == CKPT_OK)
		rc = ckpt_dstream_rdds(ls->c, on_rdd, ls, err);
	if (rc == CKPT_OK && ls->ndrdd && ls->cli->json)
		jw_arr_end(&ls->jw);
	return rc;
}

/* ---- leftovers and totals ---- */

static int
is_leftover(int role)
{
	return role == CKPT_F_TEMP || role == CKPT_F_UNCOMMITTED ||
		role == CKPT_F_ORPHAN || role == CKPT_F_FOREIGN;
}

/*
 * The batch that wrote f.  A state file's batch field is its version;
 * the version a restart loads (state_version) is the one written by the
 * batch before next_batch, which gives the offset (Spark: version =
 * batch + 1, native: version = batch).
 */
static int64_t
file_batch(const struct ls *ls, const struct ckpt_file *f)
{
	const struct ckpt_info *in = &ls->info;

	if (f->op < 0 || f->batch == CKPT_NONE ||
	    in->state_version == CKPT_NONE || in->next_batch == CKPT_NONE)
		return f->batch;
	return f->batch - (in->state_version - (in->next_batch - 1));
}

/* Recovery re-runs every batch from the next batch on. */
static int
replayed(const struct ls *ls, const struct ckpt_file *f)
{
	return f->role == CKPT_F_UNCOMMITTED && f->batch != CKPT_NONE &&
		ls->info.next_batch != CKPT_NONE &&
		file_batch(ls, f) >= ls->info.next_batch;
}

static void
reason(char *buf, size_t len, const struct ls *ls, const struct ckpt_file *f)
{
	switch (f->role) {
	case CKPT_F_TEMP:
		snprintf(buf, len, "temporary file of an interrupted write");
		break;
	case CKPT_F_UNCOMMITTED:
		if (f->batch == CKPT_NONE)
			snprintf(buf, len, "written by an uncommitted batch");
		else if (f->op >= 0)
			snprintf(buf, len, "state version %" PRId64 " of "
				"batch %" PRId64 ", which has no commit: "
				"recovery %s it", f->batch, file_batch(ls, f),
				replayed(ls, f) ? "replays" : "ignores");
		else
			snprintf(buf, len, "batch %" PRId64 " has no commit: "
				"recovery %s it", f->batch,
				replayed(ls, f) ? "replays" : "ignores");
		break;
	case CKPT_F_ORPHAN:
		snprintf(buf, len, "not referenced by any commit");
		break;
	default:
		snprintf(buf, len, "not a file of a %s checkpoint",
			ls->info.format);
		break;
	}
}

static int
on_file(void *arg, const struct ckpt_file *f)
{
	struct ls *ls = arg;
	char why[160], sz[CLI_FMT_MAX], safe[CLI_SAFE_MAX];
	struct jw *w = &ls->jw;

	ls->files++;
	ls->bytes += f->size;
	if (!is_leftover(f->role))
		return 0;
	reason(why, sizeof(why), ls, f);
	if (!ls->cli->json) {
		if (ls->nleft == 0)
			printf("\nLeftovers:\n");
		printf("  %-12s  %-40s  %10s  %s\n",
			ckpt_file_role_name(f->role),
			cli_safe(safe, sizeof(safe), f->path),
			cli_fmt_size(sz, f->size), why);
		ls->nleft++;
		return 0;
	}
	ls->nleft++;
	jw_obj_begin(w);
	jw_key(w, "path");
	jw_str(w, f->path);
	jw_key(w, "role");
	jw_str(w, ckpt_file_role_name(f->role));
	jw_key(w, "bytes");
	jw_uint(w, f->size);
	jw_key(w, "reason");
	jw_str(w, why);
	jw_key(w, "batch");
	jw_i64(w, f->batch);
	jw_key(w, "replayed");
	jw_bool(w, replayed(ls, f));
	jw_obj_end(w);
	return 0;
}

static int
list_files(struct ls *ls, struct ckpt_error *err)
{
	char sz[CLI_FMT_MAX];
	int rc;

	if (ls->cli->json) {
		jw_key(&ls->jw, "leftovers");
		jw_arr_begin(&ls->jw);
	}
	rc = ckpt_files_walk(ls->c, on_file, ls, err);
	if (rc != CKPT_OK)
		return rc;
	if (ls->cli->json) {
		jw_arr_end(&ls->jw);
		jw_key(&ls->jw, "totals");
		jw_obj_begin(&ls->jw);
		jw_key(&ls->jw, "files");
		jw_uint(&ls->jw, ls->files);
		jw_key(&ls->jw, "bytes");
		jw_uint(&ls->jw, ls->bytes);
		jw_obj_end(&ls->jw);
		return CKPT_OK;
	}
	if (ls->nleft == 0)
		printf("\nLeftovers: none\n");
	printf("\nTotal: %" PRIu64 " file%s, %s (%" PRIu64 " bytes)\n",
		ls->files, ls->files == 1 ? "" : "s",
		cli_fmt_size(sz, ls->bytes), ls->bytes);
	return CKPT_OK;
}

int
cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct ls ls;
	const struct option opts[] = {
		OPT_BOOL('l', "long", &ls.lng,
			"every batch, and each partition of each operator"),
		OPT_BOOL('a', "all", &ls.all, "every batch, not the newest 20"),
		OPT_END(),
	};
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	const char *shown;
	int n, status, rc;

	memset(&ls, 0, sizeof(ls));
	ls.cli = cli;
	ls.last_offsets = CKPT_NONE;
	n = opt_parse(cli, argc, argv, opts, ls_usage, 0);
	if (n != 1)
		opt_usage_error(cli, ls_usage, n == 0 ? "missing PATH" :
			"too many arguments");
	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		return status;
	rc = ckpt_open(ctx, argv[0], &ls.c, &err);
	if (rc != CKPT_OK)
		goto out_ctx;
	/*
	 * ls adds up the files itself (list_files) and finds the newest
	 * batch as it lists them (list_batches)
	 */
	ckpt_set_hints(ls.c, CKPT_HINT_NO_TOTALS | CKPT_HINT_NO_COUNTS);
	rc = ckpt_info_get(ls.c, &ls.info, &err);
	if (rc != CKPT_OK)
		goto out_close;
	ls.info_ok = 1;
	shown = ckpt_store_url(ckpt_get_store(ls.c));
	cli_verbose(cli, 1, "reading '%s' (%s, %s backend)", shown,
		ls.info.kind, ckpt_store_backend(ckpt_get_store(ls.c)));
	if (cli->json) {
		cli_json_begin(cli, &ls.jw);
		json_header(&ls, shown);
	} else {
		text_header(&ls, shown);
	}
	rc = list_batches(&ls, &err);
	if (rc == CKPT_OK)
		rc = list_sources(&ls, &err);
	if (rc == CKPT_OK)
		rc = list_operators(&ls, &err);
	if (rc == CKPT_OK)
		rc = list_dstream(&ls, &err);
	if (rc == CKPT_OK)
		rc = list_files(&ls, &err);
	if (rc == CKPT_OK && cli->json)
		cli_json_end(cli);
out_close:
	if (ls.info_ok)
		ckpt_info_release(&ls.info);
	ckpt_close(ls.c);
out_ctx:
	status = rc == CKPT_OK ? EXIT_OK : cli_error(cli, &err);
	ckpt_ctx_free(ctx);
	return status;
}
