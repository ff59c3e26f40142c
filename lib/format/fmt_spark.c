/*
 * fmt_spark.c - the Spark Structured Streaming format driver: detection,
 * metadata, offsets and commit logs, restart point, batches.
 *
 * Reads a checkpoint root as Spark 2.0-4.x leaves it (docs/spark-
 * checkpoint-format.md sections 1, 8 and 10): metadata ({"id"}), the
 * offsets log (v1/v2 text, or Spark 2.0 Java serialization decoded with
 * codec_javaser), the commit log, per-source logs.  The restart point,
 * next batch and state version follow MicroBatchExecution's
 * populateStartOffsets (section 1.5) and, without a commit log, section
 * 10 item 9.  The Spark version is estimated from the offsets conf keys
 * (fixtures/spark/CATALOG.md) plus commit, operator metadata and
 * checksum evidence.
 *
 * Batches are paged from offsets/ and commits/ in bounded windows
 * (ckpt_store_list with a start-after cursor), never held whole.
 * Operators and state live in fmt_spark_state.c; file roles, checksums,
 * verify and hex regions in fmt_spark_files.c.  This driver does not
 * write or prune (later ops), and leaves DStream files to fmt_dstream.c.
 */
#include "spark.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../codec/codec_javaser.h"
#include "dstream.h"

#define PAGE_IDS 256
#define MAX_SOURCES 64
#define MAX_SOURCE_LINES 4096	/* more in one offsets file: corrupt */

/* ---- small helpers ---- */

/* A batch/version file name: decimal digits only, fits int64. */
int
spark_parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;
	const char *p;

	if (!*s || strlen(s) > 18)
		return 0;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 1;
}

int
spark_json_i64(const cJSON *j, int64_t *out)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= -9.2e18 &&
	    j->valuedouble <= 9.2e18))
		return 0;
	*out = (int64_t)j->valuedouble;
	return 1;
}

/*
 * Temp files of crashed writes (section 1.2, section 10 items 1-2):
 * ".<name>.<uuid>[.TIDn].tmp", ".<uuid>.tmp", the 2.x state store's
 * "temp-<long>", and DStream's "temp".
 */
int
spark_is_temp_name(const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (name[0] == '.' && n > 5 && strcmp(name + n - 4, ".tmp") == 0)
		return 1;
	if (strncmp(name, "temp-", 5) == 0) {
		p = name + 5;
		if (*p == '-')
			p++;
		if (!*p)
			return 0;
		for (; *p; p++)
			if (!isdigit((unsigned char)*p))
				return 0;
		return 1;
	}
	return 0;
}

int
spark_read_small(struct ckpt *c, const char *path, char **out, size_t *len,
	struct ckpt_error *err)
{
	return ckpt_store_read_all(c->st, path, SPARK_SMALL_MAX, out, len,
		err);
}

static struct spark *
SP(struct ckpt *c)
{
	return c->priv;
}

/* ---- id scans over offsets/ and commits/ ---- */

struct idscan {
	int64_t first, last, count, gaps, prev;
};

static int
idscan_cb(void *arg, const struct ckpt_stat *e)
{
	struct idscan *s = arg;
	int64_t id;

	if (e->is_dir || !spark_parse_id(e->name, &id))
		return 0;
	if (s->count == 0)
		s->first = id;
	else if (id != s->prev + 1)
		s->gaps++;
	s->prev = s->last = id;
	s->count++;
	return 0;
}

/* Scans dir; *exists 0 when it is missing. */
static int
scan_ids(struct ckpt *c, const char *dir, struct idscan *s, int *exists,
	struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	int rc;

	memset(s, 0, sizeof(*s));
	s->first = s->last = CKPT_NONE;
	*exists = 1;
	rc = ckpt_store_list(c->st, dir, CKPT_LIST_NUMERIC, NULL, idscan_cb,
		s, &e2);
	if (rc != CKPT_OK && e2.kind == CKPT_E_NOTFOUND) {
		*exists = 0;
		return CKPT_OK;
	}
	if (rc != CKPT_OK) {
		*err = e2;
		return rc;
	}
	return CKPT_OK;
}

/* ---- offsets files (section 1.3, 8) ---- */

/* A view of one offsets file's text: version, metadata line, sources. */
struct offsets_view {
	int java;		/* Java serialization (Spark 2.0) */
	char version[8];
	const char *meta;
	size_t meta_len;
	const char *src;	/* first source line */
	const char *end;
};

static int
offsets_split(const char *path, const char *buf, size_t len,
	struct offsets_view *v, struct ckpt_error *err)
{
	const char *nl, *end = buf + len;
	size_t vl;

	memset(v, 0, sizeof(*v));
	v->end = end;
	if (ckpt_jser_is_stream(buf, len)) {
		v->java = 1;
		return CKPT_OK;
	}
	nl = memchr(buf, '\n', len);
	vl = nl ? (size_t)(nl - buf) : len;
	if (vl < 2 || vl >= sizeof(v->version) || buf[0] != 'v' ||
	    !isdigit((unsigned char)buf[1]))
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot parse '%s': no log version line", path);
	memcpy(v->version, buf, vl);
	if (strcmp(v->version, "v1") != 0 && strcmp(v->version, "v2") != 0)
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot parse '%s': unsupported log version '%s'", path,
			v->version);
	if (!nl)
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot parse '%s': truncated after the version line",
			path);
	v->meta = nl + 1;
	nl = memchr(v->meta, '\n', (size_t)(end - v->meta));
	v->meta_len = nl ? (size_t)(nl - v->meta) : (size_t)(end - v->meta);
	v->src = nl ? nl + 1 : NULL;
	return CKPT_OK;
}

/* Next line from *p (an empty last line is no line), or 0 at the end. */
static int
next_line(const char **p, const char *end, const char **s, size_t *n)
{
	const char *nl;

	if (!*p || *p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*s = *p;
	*n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : NULL;
	return 1;
}

static cJSON *
parse_json_n(const char *s, size_t n)
{
	return cJSON_ParseWithLength(s, n);
}

/* Classifies one offset line (section 8, section 10 items 10-11). */
static const char *
source_type(const char *raw, size_t n, const cJSON *j)
{
	const cJSON *e, *f;
	size_t i;
	int all_obj = 1, rate = 1;

	if (n == 1 && raw[0] == '-')
		return "none";
	if (n > 0) {
		for (i = (raw[0] == '-'); i < n; i++)
			if (!isdigit((unsigned char)raw[i]))
				break;
		if (i == n && n > (size_t)(raw[0] == '-'))
			return "long";
	}
	if (!cJSON_IsObject(j))
		return "unknown";
	if (cJSON_GetObjectItemCaseSensitive(j, "logOffset"))
		return "file";
	if (cJSON_GetObjectItemCaseSensitive(j, "ledgerId"))
		return "pulsar";
	if (!j->child)
		return "unknown";
	cJSON_ArrayForEach(e, j) {
		if (!cJSON_IsObject(e)) {
			all_obj = 0;
			break;
		}
		if (!cJSON_GetObjectItemCaseSensitive(e, "runTimeMs"))
			rate = 0;
		cJSON_ArrayForEach(f, e)
			if (!cJSON_IsNumber(f) && !rate)
				all_obj = 0;
	}
	if (all_obj && rate)
		return "rate";
	return all_obj ? "kafka" : "unknown";
}

/* Kind of sources/<i>/ from the first bytes of its first file. */
static const char *
source_dir_kind(struct ckpt *c, int i)
{
	char path[64], buf[16];
	struct ckpt_error e2 = { 0 };
	size_t got = 0;

	snprintf(path, sizeof(path), "sources/%d/0", i);
	if (ckpt_store_read_range(c->st, path, 0, buf, sizeof(buf), &got,
	    &e2) != CKPT_OK || got == 0)
		return NULL;
	if (buf[0] == 0 || buf[0] == '{')
		return "kafka";
	if (got >= 4 && memcmp(buf, "v1\n", 3) == 0) {
		if (buf[3] == '{')
			return "file";
		if (isdigit((unsigned char)buf[3]))
			return "rate";
	}
	return NULL;
}

static int
add_source(struct ckpt *c, cJSON *arr, int idx, const char *raw, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *j;
	const char *type, *dk;
	char *tmp;

	if (!o)
		return -1;
	cJSON_AddItemToArray(arr, o);
	cJSON_AddNumberToObject(o, "index", idx);
	j = parse_json_n(raw, n);
	type = source_type(raw, n, j);
	dk = c ? source_dir_kind(c, idx) : NULL;
	if (strcmp(type, "long") == 0 && dk && strcmp(dk, "file") == 0)
		type = "file";	/* 2.0/2.1 file source: bare log offset */
	cJSON_AddStringToObject(o, "type", type);
	tmp = malloc(n + 1);
	if (!tmp) {
		cJSON_Delete(j);
		return -1;
	}
	memcpy(tmp, raw, n);
	tmp[n] = 0;
	cJSON_AddStringToObject(o, "raw", tmp);
	free(tmp);
	if (strcmp(type, "kafka") == 0 && j) {
		cJSON_AddItemToObject(o, "partitions", cJSON_Duplicate(j, 1));
	} else if (strcmp(type, "file") == 0) {
		const cJSON *lo = cJSON_GetObjectItemCaseSensitive(j,
			"logOffset");
		if (cJSON_IsNumber(lo))
			cJSON_AddNumberToObject(o, "value", lo->valuedouble);
		else if (cJSON_IsNumber(j))
			cJSON_AddNumberToObject(o, "value", j->valuedouble);
	} else if (strcmp(type, "long") == 0 && cJSON_IsNumber(j)) {
		cJSON_AddNumberToObject(o, "value", j->valuedouble);
	} else if (j && strcmp(type, "none") != 0) {
		cJSON_AddItemToObject(o, "offset", cJSON_Duplicate(j, 1));
	}
	if (dk)
		cJSON_AddStringToObject(o, "source_dir", dk);
	cJSON_Delete(j);
	return 0;
}

/* Spark 2.0 CompositeOffset (section 10 item 8) into the JSON form. */
static int
java_offsets(struct ckpt *c, const char *path, const char *buf, size_t len,
	cJSON *o, struct ckpt_error *err)
{
	struct ckpt_jser_offset offs[MAX_SOURCES];
	cJSON *arr;
	char raw[32], what[SPARK_PATH_MAX + 2];
	size_t n = 0, i;
	int rc;

	snprintf(what, sizeof(what), "'%s'", path);
	rc = ckpt_jser_composite_offset(buf, len, what, offs, MAX_SOURCES, &n,
		err);
	if (rc != CKPT_OK)
		return rc;
	cJSON_AddStringToObject(o, "format", "java-serialized");
	cJSON_AddStringToObject(o, "class",
		"org.apache.spark.sql.execution.streaming.CompositeOffset");
	cJSON_AddNullToObject(o, "metadata");
	arr = cJSON_AddArrayToObject(o, "sources");
	for (i = 0; i < n && i < MAX_SOURCES; i++) {
		if (offs[i].kind == CKPT_JSER_OFF_LONG) {
			snprintf(raw, sizeof(raw), "%lld",
				(long long)offs[i].value);
			add_source(c, arr, (int)i, raw, strlen(raw));
		} else if (offs[i].kind == CKPT_JSER_OFF_NONE) {
			add_source(c, arr, (int)i, "-", 1);
		} else {
			cJSON *s = cJSON_CreateObject();
			cJSON_AddItemToArray(arr, s);
			cJSON_AddNumberToObject(s, "index", (double)i);
			cJSON_AddStringToObject(s, "type", "unknown");
			cJSON_AddStringToObject(s, "class",
				offs[i].class_name);
		}
	}
	return CKPT_OK;
}

/*
 * Parses an offsets file into {"version","format","metadata","sources"}
 * JSON text (malloc'd).  CKPT_E_FORMAT names the file on any defect.
 * c may be NULL (fuzzing): sources/<i>/ is then not consulted.
 */
int
spark_offsets_json(struct ckpt *c, const char *path, const char *buf,
	size_t len, char **json, struct ckpt_error *err)
{
	struct offsets_view v;
	cJSON *o, *m = NULL, *arr;
	const char *p, *s;
	size_t n = 0;
	int rc, idx = 0;

	*json = NULL;
	rc = offsets_split(path, buf, len, &v, err);
	if (rc != CKPT_OK)
		return rc;
	o = cJSON_CreateObject();
	if (!o)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	if (v.java) {
		cJSON_AddNullToObject(o, "version");
		rc = java_offsets(c, path, buf, len, o, err);
		if (rc != CKPT_OK)
			goto out;
		goto print;
	}
	cJSON_AddStringToObject(o, "version", v.version);
	cJSON_AddStringToObject(o, "format", "text");
	if (v.meta_len > 0) {
		m = parse_json_n(v.meta, v.meta_len);
		if (!cJSON_IsObject(m)) {
			cJSON_Delete(m);
			rc = ckpt_error_set(err, CKPT_E_FORMAT,
				"cannot parse '%s': metadata line is not a "
				"JSON object", path);
			goto out;
		}
		cJSON_AddItemToObject(o, "metadata", m);
	} else {
		cJSON_AddNullToObject(o, "metadata");
	}
	arr = cJSON_AddArrayToObject(o, "sources");
	p = v.src;
	while (p && next_line(&p, v.end, &s, &n)) {
		const char *raw = s;
		size_t rn = n;
		if (idx >= MAX_SOURCE_LINES) {
			rc = ckpt_error_set(err, CKPT_E_FORMAT,
				"cannot parse '%s': more than %d sources", path,
				MAX_SOURCE_LINES);
			goto out;
		}
		if (strcmp(v.version, "v2") == 0) {
			const char *colon = memchr(s, ':', n);
			if (!colon) {
				rc = ckpt_error_set(err, CKPT_E_FORMAT,
					"cannot parse '%s': v2 source line "
					"without an id", path);
				goto out;
			}
			raw = colon + 1;
			rn = n - (size_t)(raw - s);
		}
		if (add_source(c, arr, idx++, raw, rn) != 0) {
			rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
			goto out;
		}
	}
print:
	*json = cJSON_PrintUnformatted(o);
	rc = *json ? CKPT_OK : ckpt_error_set(err, CKPT_E_NOMEM,
		"out of memory");
out:
	cJSON_Delete(o);
	return rc;
}

/* Checks a commit file (section 1.4); *wm gets nextBatchWatermarkMs. */
int
spark_commit_check(const char *path, const char *buf, size_t len,
	int64_t *wm, struct ckpt_error *err)
{
	const char *nl = memchr(buf, '\n', len);
	cJSON *j, *w;

	*wm = CKPT_NONE;
	if (len < 2 || buf[0] != 'v' || (buf[1] != '1' && buf[1] != '2') ||
	    (nl && nl != buf + 2) || (!nl && len != 2))
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot parse '%s': no commit log version line", path);
	if (!nl || nl + 1 == buf + len)
		return CKPT_OK;	/* a missing second line reads as {} */
	j = parse_json_n(nl + 1, (size_t)(buf + len - nl - 1));
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot parse '%s': commit entry is not a JSON object",
			path);
	}
	w = cJSON_GetObjectItemCaseSensitive(j, "nextBatchWatermarkMs");
	(void)spark_json_i64(w, wm);
	cJSON_Delete(j);
	return CKPT_OK;
}

/* ---- detection ---- */

static int
bid_list_cb(void *arg, const struct ckpt_stat *e)
{
	int64_t id;

	if (!e->is_dir && spark_parse_id(e->name, &id)) {
		*(int *)arg = 1;
		return 1;
	}
	return 0;
}

static int
spark_bid(struct ckpt_store *st, struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;
	char *buf = NULL;
	size_t len;
	int score = 0, ids = 0;

	(void)err;
	if (ckpt_store_stat(st, "metadata", &sb, &e2) == CKPT_OK &&
	    !sb.is_dir && sb.size < 65536 &&
	    ckpt_store_read_all(st, "metadata", 65536, &buf, &len, &e2) ==
	    CKPT_OK) {
		cJSON *j = cJSON_ParseWithLength(buf, len);
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "id")))
			score += 50;
		cJSON_Delete(j);
		free(buf);
	}
	ckpt_error_clear(&e2);
	/* any order will do: a scan, no stat of every entry */
	if (ckpt_store_scan(st, "offsets", 0, bid_list_cb, &ids, &e2) ==
	    CKPT_OK && ids)
		score += 45;	/* above dstream's 40 for mixed dirs */
	ckpt_error_clear(&e2);
	if (score && ckpt_store_stat(st, "commits", &sb, &e2) == CKPT_OK &&
	    sb.is_dir)
		score += 3;
	ckpt_error_clear(&e2);
	if (score && ckpt_store_stat(st, "state", &sb, &e2) == CKPT_OK &&
	    sb.is_dir)
		score += 2;
	/* 100 is for magic numbers; Spark has none */
	return score > 95 ? 95 : score;
}

/* ---- open: logs, restart point, version ---- */

/* Restart point rules: section 1.5 and section 10 item 9. */
static void
restart_point(struct spark *sp)
{
	int64_t L = sp->off_last, C = sp->com_last;

	if (sp->off_count == 0) {
		sp->restart_point = CKPT_NONE;
		sp->next_batch = 0;
		sp->state_version = 0;
		snprintf(sp->rule, sizeof(sp->rule), "no offsets: a restart "
			"is a fresh start at batch 0");
		return;
	}
	if (!sp->commits_dir || sp->com_count == 0) {
		sp->restart_point = L > 0 ? L - 1 : CKPT_NONE;
		sp->next_batch = L;
		sp->state_version = L;
		if (L == 0)
			snprintf(sp->rule, sizeof(sp->rule), "no commit log: "
				"batch 0 is re-run from the start; nothing "
				"was committed");
		else
			snprintf(sp->rule, sizeof(sp->rule), "no commit log: "
				"batch L=%lld is re-run from offsets/L-1; L-1 "
				"counts as committed", (long long)L);
		return;
	}
	sp->restart_point = C;
	if (C == L) {
		sp->next_batch = L + 1;
		sp->state_version = L + 1;
		snprintf(sp->rule, sizeof(sp->rule),
			"C == L: batch L finished, restart plans L+1");
	} else if (C == L - 1) {
		sp->next_batch = L;
		sp->state_version = L;
		snprintf(sp->rule, sizeof(sp->rule), "C == L-1: batch L "
			"planned but not committed, restart re-runs L");
	} else if (C < L) {
		sp->next_batch = L;
		sp->state_version = L;
		snprintf(sp->rule, sizeof(sp->rule), "C < L-1: inconsistent "
			"logs; Spark warns and re-runs L from offsets/L-1");
	} else {
		sp->restart_point = L;
		sp->next_batch = L + 1;
		sp->state_version = L + 1;
		snprintf(sp->rule, sizeof(sp->rule), "C > L: commits newer "
			"than offsets; the latest offsets batch L counts");
	}
}

/* Conf keys, newest first, and the release that added them. */
static const struct {
	const char *key;
	const char *version;
} conf_versions[] = {
	{ "spark.sql.streaming.stateStore.encodingFormat", "4.x" },
	{ "spark.sql.optimizer.pruneFiltersCanPruneStreamingSubplan",
	  "3.5.5+ (or 4.x)" },
	{ "spark.sql.streaming.statefulOperator.useStrictDistribution",
	  "3.3-3.5" },
	{ "spark.sql.streaming.stateStore.rocksdb.formatVersion", "3.2.x" },
	{ "spark.sql.streaming.stateStore.compression.codec", "3.1.x" },
	{ "spark.sql.streaming.join.stateFormatVersion", "3.0.x" },
	{ "spark.sql.streaming.multipleWatermarkPolicy", "2.4.x" },
	{ "spark.sql.streaming.aggregation.stateFormatVersion", "2.4.x" },
	{ "spark.sql.streaming.flatMapGroupsWithState.stateFormatVersion",
	  "2.4.x" },
	{ "spark.sql.streaming.stateStore.providerClass", "2.3.x" },
	{ "spark.sql.shuffle.partitions", "2.2.x" },
};

static void
append_reason(struct spark *sp, const char *s)
{
	size_t n = strlen(sp->reason);

	if (n + 2 + strlen(s) < sizeof(sp->reason))
		snprintf(sp->reason + n, sizeof(sp->reason) - n, "%s%s",
			n ? "; " : "", s);
}

static void
estimate_version(struct spark *sp, const cJSON *conf)
{
	size_t i;
	char tmp[200];

	sp->version[0] = sp->reason[0] = 0;
	if (sp->java_offsets) {
		snprintf(sp->version, sizeof(sp->version), "2.0.x");
		append_reason(sp, "offsets file is Java-serialized "
			"(CompositeOffset)");
	} else if (sp->off_count && sp->meta_empty) {
		snprintf(sp->version, sizeof(sp->version), "2.4+");
		append_reason(sp, "offsets metadata line is empty "
			"(continuous processing)");
	} else if (sp->off_count && !conf) {
		snprintf(sp->version, sizeof(sp->version), "2.1.x");
		snprintf(tmp, sizeof(tmp), "offsets/%lld metadata line has "
			"no conf", (long long)sp->off_last);
		append_reason(sp, tmp);
	} else if (conf) {
		for (i = 0; i < sizeof(conf_versions) /
		    sizeof(conf_versions[0]); i++) {
			if (!cJSON_GetObjectItemCaseSensitive(conf,
			    conf_versions[i].key))
				continue;
			snprintf(sp->version, sizeof(sp->version), "%s",
				conf_versions[i].version);
			snprintf(tmp, sizeof(tmp), "offsets/%lld conf has "
				"%s (%d conf keys)", (long long)sp->off_last,
				conf_versions[i].key, sp->conf_keys);
			append_reason(sp, tmp);
			break;
		}
	}
	if (sp->offsets_v2) {
		append_reason(sp, "offsets log v2 (4.x OffsetMap)");
		if (!sp->version[0])
			snprintf(sp->version, sizeof(sp->version), "4.x");
	}
	if (sp->com_count > 0 && sp->commits_v2) {
		append_reason(sp, "commit log v2 (4.0+ checkpoint format "
			"v2)");
		if (!sp->version[0])
			snprintf(sp->version, sizeof(sp->version), "4.x");
	}
	if (sp->com_count > 0 && sp->commits_empty)
		append_reason(sp, "commit files are v1 {} (2.2-2.3)");
	else if (sp->com_count > 0)
		append_reason(sp, "commits carry nextBatchWatermarkMs (2.4+)");
	if (sp->has_op_metadata) {
		append_reason(sp, "operator metadata present (4.0+)");
		if (!sp->version[0])
			snprintf(sp->version, sizeof(sp->version), "4.x");
	}
	if (sp->has_json_crc) {
		append_reason(sp, "JSON CRC32C checksum files (4.1+)");
		snprintf(sp->version, sizeof(sp->version), "4.1+");
	}
}

/* Reads offsets/L: format, metadata, conf, watermark, source count. */
static int
load_latest_offsets(struct ckpt *c, struct spark *sp, cJSON **conf_out,
	struct ckpt_error *err)
{
	char path[64], *buf = NULL;
	struct offsets_view v;
	cJSON *m, *conf, *w;
	const char *p, *s;
	size_t len, n = 0;
	int rc;

	*conf_out = NULL;
	snprintf(path, sizeof(path), "offsets/%lld", (long long)sp->off_last);
	rc = spark_read_small(c, path, &buf, &len, err);
	if (rc != CKPT_OK)
		return rc;
	rc = offsets_split(path, buf, len, &v, err);
	if (rc != CKPT_OK)
		goto out;
	sp->offsets_v2 = strcmp(v.version, "v2") == 0;
	if (v.java) {
		struct ckpt_jser_offset offs[MAX_SOURCES];
		size_t ns = 0;
		struct ckpt_error e2 = { 0 };
		sp->java_offsets = 1;
		if (ckpt_jser_composite_offset(buf, len, path, offs,
		    MAX_SOURCES, &ns, &e2) == CKPT_OK)
			sp->nsources = (int)ns;
		goto out;
	}
	for (p = v.src; p && next_line(&p, v.end, &s, &n);)
		sp->nsources++;
	if (v.meta_len == 0) {
		sp->meta_empty = 1;
		goto out;
	}
	m = parse_json_n(v.meta, v.meta_len);
	if (!cJSON_IsObject(m)) {
		cJSON_Delete(m);
		rc = ckpt_error_set(err, CKPT_E_FORMAT, "cannot parse '%s': "
			"metadata line is not a JSON object", path);
		goto out;
	}
	w = cJSON_GetObjectItemCaseSensitive(m, "batchWatermarkMs");
	(void)spark_json_i64(w, &sp->watermark_ms);
	conf = cJSON_DetachItemFromObjectCaseSensitive(m, "conf");
	cJSON_Delete(m);
	if (cJSON_IsObject(conf)) {
		const cJSON *rcs = cJSON_GetObjectItemCaseSensitive(conf,
			"spark.sql.streaming.stateStore.rowChecksum.enabled");
		sp->meta_has_conf = 1;
		sp->conf_keys = cJSON_GetArraySize(conf);
		sp->conf_json = cJSON_PrintUnformatted(conf);
		sp->row_checksums = cJSON_IsString(rcs) &&
			strcmp(rcs->valuestring, "true") == 0;
		*conf_out = conf;
	} else {
		cJSON_Delete(conf);
	}
out:
	free(buf);
	return rc;
}

static int
load_latest_commit(struct ckpt *c, struct spark *sp, struct ckpt_error *err)
{
	char path[64], *buf = NULL;
	size_t len;
	int64_t wm;
	int rc;

	snprintf(path, sizeof(path), "commits/%lld", (long long)sp->com_last);
	rc = spark_read_small(c, path, &buf, &len, err);
	if (rc != CKPT_OK)
		return rc;
	rc = spark_commit_check(path, buf, len, &wm, err);
	if (rc == CKPT_OK) {
		sp->commits_empty = len <= 5;
		sp->commits_v2 = buf[1] == '2';
		if (sp->com_last == sp->off_last && wm != CKPT_NONE &&
		    (sp->watermark_ms == CKPT_NONE || wm > sp->watermark_ms))
			sp->watermark_ms = wm;
	}
	free(buf);
	return rc;
}

struct root_scan {
	struct ckpt *c;
	struct spark *sp;
};

static int
is_ours(const char *name)
{
	static const char *const names[] = { "metadata", "offsets",
		"commits", "sources", "state", ".metadata.crc", NULL };
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Notes DStream files and nested checkpoints in the root. */
static int
root_cb(void *arg, const struct ckpt_stat *e)
{
	struct root_scan *rs = arg;
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;
	char path[CKPT_NAME_MAX + 16];

	if (is_ours(e->name))
		return 0;
	if (strncmp(e->name, "checkpoint-", 11) == 0 ||
	    strcmp(e->name, "receivedBlockMetadata") == 0 ||
	    strcmp(e->name, "receivedData") == 0) {
		rs->sp->dstream = 1;
		return 0;
	}
	if (!e->is_dir || rs->sp->nnested >= SPARK_MAX_NESTED ||
	    dstream_owns_name(e->name, e->is_dir))
		return 0;
	snprintf(path, sizeof(path), "%s/metadata", e->name);
	if (ckpt_store_stat(rs->c->st, path, &sb, &e2) != CKPT_OK) {
		ckpt_error_clear(&e2);
		snprintf(path, sizeof(path), "%s/offsets", e->name);
		if (ckpt_store_stat(rs->c->st, path, &sb, &e2) != CKPT_OK) {
			ckpt_error_clear(&e2);
			snprintf(path, sizeof(path), "%s/commits", e->name);
			if (ckpt_store_stat(rs->c->st, path, &sb, &e2) !=
			    CKPT_OK)
				return 0;
		}
	}
	snprintf(rs->sp->nested[rs->sp->nnested++], CKPT_NAME_MAX, "%s",
		e->name);
	return 0;
}

static int
load_metadata(struct ckpt *c, struct spark *sp, struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	char *buf = NULL;
	size_t len;
	cJSON *j, *id;
	int rc;

	rc = spark_read_small(c, "metadata", &buf, &len, &e2);
	if (rc != CKPT_OK) {
		if (e2.kind == CKPT_E_NOTFOUND)
			return CKPT_OK;
		*err = e2;
		return rc;
	}
	sp->has_metadata = 1;
	j = cJSON_ParseWithLength(buf, len);
	id = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (cJSON_IsString(id))
		snprintf(sp->id, sizeof(sp->id), "%s", id->valuestring);
	else
		sp->metadata_bad = 1;
	cJSON_Delete(j);
	free(buf);
	return CKPT_OK;
}

static void
spark_close(struct ckpt *c)
{
	struct spark *sp = SP(c);

	if (!sp)
		return;
	spark_stores_free(sp);
	free(sp->conf_json);
	free(sp);
	c->priv = NULL;
}

static int
spark_open(struct ckpt *c, struct ckpt_error *err)
{
	struct spark *sp;
	struct idscan s;
	struct root_scan rs;
	struct ckpt_error e2 = { 0 };
	struct ckpt_stat sb;
	cJSON *conf = NULL;
	int rc;

	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	c->priv = sp;
	sp->c = c;
	sp->watermark_ms = CKPT_NONE;
	rc = load_metadata(c, sp, err);
	if (rc != CKPT_OK)
		goto fail;
	rc = scan_ids(c, "offsets", &s, &sp->offsets_dir, err);
	if (rc != CKPT_OK)
		goto fail;
	sp->off_first = s.first;
	sp->off_last = s.last;
	sp->off_count = s.count;
	sp->off_gaps = s.gaps;
	rc = scan_ids(c, "commits", &s, &sp->commits_dir, err);
	if (rc != CKPT_OK)
		goto fail;
	sp->com_first = s.first;
	sp->com_last = s.last;
	sp->com_count = s.count;
	sp->com_gaps = s.gaps;
	restart_point(sp);
	/* a damaged newest log file is verify's business, not open's */
	if (sp->off_count)
		(void)load_latest_offsets(c, sp, &conf, &e2);
	ckpt_error_clear(&e2);
	if (sp->com_count)
		(void)load_latest_commit(c, sp, &e2);
	ckpt_error_clear(&e2);
	rs.c = c;
	rs.sp = sp;
	rc = ckpt_store_list(c->st, "", CKPT_LIST_NAME, NULL, root_cb, &rs,
		err);
	if (rc != CKPT_OK)
		goto fail;
	rc = spark_stores_load(c, sp, err);
	if (rc != CKPT_OK)
		goto fail;
	if (ckpt_store_stat(c->st, "state/0/_metadata/metadata", &sb, &e2) ==
	    CKPT_OK)
		sp->has_op_metadata = 1;
	estimate_version(sp, conf);
	cJSON_Delete(conf);
	return CKPT_OK;
fail:
	cJSON_Delete(conf);
	spark_close(c);
	return rc;
}

/* ---- info ---- */

/*
 * The retention window (section 1.6): planning batch b, Spark deletes
 * the offsets and commits of batches below b - minBatchesToRetain (from
 * the offsets conf when recorded, else Spark's default 100), so the
 * window is [next - M, next); "oldest_batch" is what is left.
 */
static void
add_retention(const struct spark *sp, cJSON *m)
{
	cJSON *r, *conf = NULL;
	const cJSON *v;
	int64_t mb = 100, lo;
	int from_conf = 0;

	if (!sp->off_count)
		return;
	if (sp->conf_json)
		conf = cJSON_Parse(sp->conf_json);
	v = cJSON_GetObjectItemCaseSensitive(conf,
		"spark.sql.streaming.minBatchesToRetain");
	if (cJSON_IsString(v) && spark_parse_id(v->valuestring, &lo) &&
	    lo > 0) {
		mb = lo;
		from_conf = 1;
	}
	cJSON_Delete(conf);
	r = cJSON_AddObjectToObject(m, "retention");
	if (!r)
		return;
	lo = sp->next_batch - mb > 0 ? sp->next_batch - mb : 0;
	cJSON_AddNumberToObject(r, "min_batches_to_retain", (double)mb);
	cJSON_AddStringToObject(r, "from", from_conf ? "conf" : "default");
	cJSON_AddNumberToObject(r, "window_first", (double)lo);
	cJSON_AddNumberToObject(r, "oldest_batch", (double)sp->off_first);
}

/*
 * Appends the nested checkpoints (fixtures 5, 30) to kind: by name when
 * they fit ("+ nested: a, b"), else by number.
 */
static void
nested_kind(const struct spark *sp, char *kind, size_t cap)
{
	size_t len = strlen(kind), n;
	int i;

	n = (size_t)snprintf(kind + len, cap - len, " + nested: ");
	for (i = 0; i < sp->nnested && len + n < cap; i++)
		n += (size_t)snprintf(kind + len + n, cap - len - n, "%s%s",
			i ? ", " : "", sp->nested[i]);
	if (len + n < cap)
		return;
	snprintf(kind + len, cap - len, " + %d nested checkpoint%s",
		sp->nnested, sp->nnested > 1 ? "s" : "");
}

static int
spark_info(struct ckpt *c, struct ckpt_info *out, struct ckpt_error *err)
{
	struct spark *sp = SP(c);
	cJSON *m, *arr;
	int i;

	(void)err;
	snprintf(out->format, sizeof(out->format), "spark");
	snprintf(out->kind, sizeof(out->kind), "%s%s", sp->dstream ?
		"structured streaming + dstream" : "structured streaming",
		sp->meta_empty ? " (continuous: batches are epochs)" : "");
	if (sp->nnested)
		nested_kind(sp, out->kind, sizeof(out->kind));
	out->format_version = sp->offsets_v2 ? 2 : 1;	/* offsets log */
	snprintf(out->id, sizeof(out->id), "%s", sp->id);
	snprintf(out->version_estimate, sizeof(out->version_estimate), "%s",
		sp->version);
	snprintf(out->version_reason, sizeof(out->version_reason), "%s",
		sp->reason);
	out->first_batch = sp->off_first;
	out->last_batch = sp->off_last;
	out->last_commit = sp->com_last;
	out->batches = sp->off_count;
	out->restart_point = sp->restart_point;
	out->next_batch = sp->next_batch;
	out->state_version = sp->state_version;
	snprintf(out->restart_rule, sizeof(out->restart_rule), "%s", sp->rule);
	out->watermark_ms = sp->watermark_ms;
	out->operators = sp->nstores;
	m = cJSON_CreateObject();
	if (!m)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	cJSON_AddStringToObject(m, "query_id", sp->id);
	cJSON_AddNumberToObject(m, "sources", sp->nsources);
	cJSON_AddNumberToObject(m, "commits", (double)sp->com_count);
	cJSON_AddBoolToObject(m, "commit_log", sp->commits_dir);
	cJSON_AddBoolToObject(m, "continuous", sp->meta_empty);
	cJSON_AddBoolToObject(m, "java_serialized_offsets", sp->java_offsets);
	cJSON_AddBoolToObject(m, "dstream_files", sp->dstream);
	/* retention (section 1.6): older batches purged by Spark */
	cJSON_AddBoolToObject(m, "older_batches_purged",
		sp->off_count && sp->off_first > 0);
	add_retention(sp, m);
	if (sp->off_count && sp->next_batch == sp->off_last)
		cJSON_AddNumberToObject(m, "uncommitted_batch",
			(double)sp->off_last);
	else
		cJSON_AddNullToObject(m, "uncommitted_batch");
	cJSON_AddNumberToObject(m, "offsets_gaps", (double)sp->off_gaps);
	/* operator metadata and schema files (section 4) per store */
	arr = cJSON_AddArrayToObject(m, "stores");
	for (i = 0; i < sp->nstores; i++) {
		const struct spark_store *s = &sp->stores[i];
		cJSON *so = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, so);
		cJSON_AddStringToObject(so, "name", s->name);
		cJSON_AddNumberToObject(so, "operator_id", s->op_id);
		cJSON_AddStringToObject(so, "store", s->store[0] ? s->store :
			"default");
		cJSON_AddStringToObject(so, "type", s->type);
		if (s->op_name[0])
			cJSON_AddStringToObject(so, "operator_name",
				s->op_name);
		if (s->meta_parts)
			cJSON_AddNumberToObject(so, "metadata_partitions",
				s->meta_parts);
		cJSON_AddNumberToObject(so, "partition_dirs", s->part_dirs);
		if (s->schema_path[0]) {
			cJSON_AddStringToObject(so, "schema_file",
				s->schema_path);
			cJSON_AddNumberToObject(so, "schema_version",
				s->schema_version);
		}
	}
	arr = cJSON_AddArrayToObject(m, "nested_checkpoints");
	for (i = 0; i < sp->nnested; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(sp->nested[i]));
	if (sp->conf_json)
		cJSON_AddItemToObject(m, "conf", cJSON_Parse(sp->conf_json));
	else
		cJSON_AddNullToObject(m, "conf");
	if (sp->dstream) {
		struct ckpt_buf b = { 0 };
		struct ckpt_error e2 = { 0 };
		if (dstream_summary_json(c->st, &b, &e2) == CKPT_OK &&
		    spark_buf_cstr(&b) == 0)
			cJSON_AddItemToObject(m, "dstream",
				cJSON_Parse((const char *)b.data));
		free(b.data);
	}
	out->metadata_json = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	return CKPT_OK;
}

/* ---- batches: offsets/ and commits/ merged page by page ---- */

struct pager {
	const char *dir;
	int64_t ids[PAGE_IDS];
	uint64_t sizes[PAGE_IDS];
	int n, pos, eof;
	char after[CKPT_NAME_MAX];
	int have_after;
};

static int
pager_cb(void *arg, const struct ckpt_stat *e)
{
	struct pager *p = arg;
	int64_t id;

	snprintf(p->after, sizeof(p->after), "%s", e->name);
	p->have_after = 1;
	if (e->is_dir || !spark_parse_id(e->name, &id))
		return 0;
	p->ids[p->n] = id;
	p->sizes[p->n] = e->size;
	return ++p->n == PAGE_IDS;
}

/* Current id of the pager, refilling it; CKPT_NONE at the end. */
static int
pager_peek(struct ckpt *c, struct pager *p, int64_t *id, uint64_t *size,
	struct ckpt_error *err)
{
	struct ckpt_error e2 = { 0 };
	int rc;

	while (p->pos == p->n) {
		if (p->eof) {
			*id = CKPT_NONE;
			return CKPT_OK;
		}
		p->n = p->pos = 0;
		rc = ckpt_store_list(c->st, p->dir, CKPT_LIST_NUMERIC,
			p->have_after ? p->after : NULL, pager_cb, p, &e2);
		if (rc != CKPT_OK && e2.kind != CKPT_E_NOTFOUND) {
			*err = e2;
			return rc;
		}
		if (p->n < PAGE_IDS)
			p->eof = 1;
	}
	*id = p->ids[p->pos];
	*size = p->sizes[p->pos];
	return CKPT_OK;
}

struct batch_iter {
	struct pager off, com;
};

static int
spark_batch_iter_open(struct ckpt *c, void **state, struct ckpt_error *err)
{
	struct batch_iter *it = calloc(1, sizeof(*it));

	(void)c;
	if (!it)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	it->off.dir = "offsets";
	it->com.dir = "commits";
	*state = it;
	return CKPT_OK;
}

static int64_t
offsets_time(struct ckpt *c, int64_t id)
{
	char path[64], buf[4096];
	struct ckpt_error e2 = { 0 };
	const char *p;
	size_t got = 0;

	snprintf(path, sizeof(path), "offsets/%lld", (long long)id);
	if (ckpt_store_read_range(c->st, path, 0, buf, sizeof(buf) - 1, &got,
	    &e2) != CKPT_OK)
		return CKPT_NONE;
	buf[got] = 0;
	p = strstr(buf, "\"batchTimestampMs\":");
	if (!p)
		return CKPT_NONE;
	return strtoll(p + 19, NULL, 10);
}

static int
spark_batch_iter_next(struct ckpt *c, void *state, struct ckpt_batch *out,
	struct ckpt_error *err)
{
	struct batch_iter *it = state;
	struct spark *sp = SP(c);
	int64_t o, m;
	uint64_t osz = 0, csz = 0;
	int rc;

	rc = pager_peek(c, &it->off, &o, &osz, err);
	if (rc == CKPT_OK)
		rc = pager_peek(c, &it->com, &m, &csz, err);
	if (rc != CKPT_OK)
		return rc;
	if (o == CKPT_NONE && m == CKPT_NONE)
		return CKPT_EOF;
	memset(out, 0, sizeof(*out));
	if (o != CKPT_NONE && (m == CKPT_NONE || o <= m)) {
		out->id = o;
		out->has_offsets = 1;
		out->files++;
		out->bytes += osz;
		it->off.pos++;
	}
	if (m != CKPT_NONE && (o == CKPT_NONE || m <= o)) {
		out->id = m;
		out->committed = 1;
		out->files++;
		out->bytes += csz;
		it->com.pos++;
	}
	/* without a commit log, batches below L count as committed */
	if (!sp->commits_dir && sp->restart_point != CKPT_NONE &&
	    out->id <= sp->restart_point)
		out->committed = 1;
	out->time_ms = out->has_offsets ? offsets_time(c, out->id) :
		CKPT_NONE;
	out->is_restart_point = out->id == sp->restart_point;
	out->has_state = sp->nstores > 0 && out->committed;
	return CKPT_OK;
}

static void
spark_batch_iter_close(struct ckpt *c, void *state)
{
	(void)c;
	free(state);
}

static int
spark_batch_json(struct ckpt *c, int64_t batch, char **json,
	struct ckpt_error *err)
{
	char opath[64], cpath[64], *ob = NULL, *cb = NULL, *oj = NULL;
	struct ckpt_error e2 = { 0 };
	size_t olen, clen;
	cJSON *o = NULL;
	int rc, have_o, have_c;

	*json = NULL;
	snprintf(opath, sizeof(opath), "offsets/%lld", (long long)batch);
	snprintf(cpath, sizeof(cpath), "commits/%lld", (long long)batch);
	rc = spark_read_small(c, opath, &ob, &olen, &e2);
	have_o = rc == CKPT_OK;
	if (!have_o && e2.kind != CKPT_E_NOTFOUND) {
		*err = e2;
		return rc;
	}
	ckpt_error_clear(&e2);
	rc = spark_read_small(c, cpath, &cb, &clen, &e2);
	have_c = rc == CKPT_OK;
	if (!have_c && e2.kind != CKPT_E_NOTFOUND) {
		*err = e2;
		rc = CKPT_FAILED;
		goto out;
	}
	if (!have_o && !have_c) {
		rc = ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no batch %lld in offsets/ or commits/",
			(long long)batch);
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "batch", (double)batch);
	if (have_o) {
		rc = spark_offsets_json(c, opath, ob, olen, &oj, err);
		if (rc != CKPT_OK)
			goto out;
		cJSON_AddItemToObject(o, "offsets", cJSON_Parse(oj));
	} else {
		cJSON_AddNullToObject(o, "offsets");
	}
	if (have_c) {
		int64_t wm;
		const char *nl = memchr(cb, '\n', clen);
		cJSON *cj;
		rc = spark_commit_check(cpath, cb, clen, &wm, err);
		if (rc != CKPT_OK)
			goto out;
		cj = nl && nl + 1 < cb + clen ? parse_json_n(nl + 1,
			(size_t)(cb + clen - nl - 1)) : cJSON_CreateObject();
		cJSON_AddStringToObject(cj, "version", cb[1] == '2' ? "v2" :
			"v1");
		cJSON_AddItemToObject(o, "commit", cj);
	} else {
		cJSON_AddNullToObject(o, "commit");
	}
	*json = cJSON_PrintUnformatted(o);
	rc = *json ? CKPT_OK : ckpt_error_set(err, CKPT_E_NOMEM,
		"out of memory");
out:
	cJSON_Delete(o);
	free(oj);
	free(ob);
	free(cb);
	return rc;
}

const struct ckpt_format_ops ckpt_fmt_spark_ops = {
	.name = "spark",
	.bid = spark_bid,
	.open = spark_open,
	.close = spark_close,
	.info = spark_info,
	.batch_iter_open = spark_batch_iter_open,
	.batch_iter_next = spark_batch_iter_next,
	.batch_iter_close = spark_batch_iter_close,
	.batch_json = spark_batch_json,
	.operator_count = spark_operator_count,
	.operator_get = spark_operator_get,
	.partition_get = spark_partition_get,
	.state_open = spark_state_open,
	.state_next = spark_state_next,
	.state_close = spark_state_close,
	.files_walk = spark_files_walk,
	.verify = spark_verify,
	.file_regions = spark_file_regions,
	.prune = &spark_prune_ops,
};
