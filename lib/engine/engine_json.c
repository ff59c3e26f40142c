/*
 * engine_json.c - the JSON the engine writes into and reads back from
 * its checkpoints: input positions (offsets entries), the job's
 * configuration (metadata), and the engine's fields of a commit entry.
 *
 * The engine writes JSON with eng_buf_printf (fixed key order, integers
 * only, so the bytes are deterministic) and parses it back with cJSON;
 * this is the engine's only cJSON user.  Nothing here does I/O.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "engine_json.h"
#include "../jobs/job.h"

/* Appends s as a JSON string (quotes, escapes) to b. */
int
eng_json_str(struct ckpt_buf *b, const char *s, size_t n)
{
	if (ckpt_buf_append(b, "\"", 1) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			if (ckpt_buf_append(b, esc, 2) != 0)
				return -1;
		} else if (c < 0x20) {
			if (eng_buf_printf(b, "\\u%04x", c) != 0)
				return -1;
		} else if (ckpt_buf_append(b, &s[i], 1) != 0) {
			return -1;
		}
	}
	return ckpt_buf_append(b, "\"", 1);
}

int
eng_pos_json(struct ckpt_buf *b, const struct eng_pos *pos)
{
	if (ckpt_buf_append(b, "{\"name\":", 8) != 0 ||
	    eng_json_str(b, pos->name, strlen(pos->name)) != 0)
		return -1;
	return eng_buf_printf(b, ",\"seg\":%" PRIu64 ",\"off\":%" PRIu64
	    ",\"rec\":%" PRIu64 "}", pos->seg, pos->off, pos->rec);
}

static int
get_u64(const cJSON *o, const char *name, uint64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
	    it->valuedouble > 9007199254740992.0)
		return -1;
	*v = (uint64_t)it->valuedouble;
	return 0;
}

static int
get_i64(const cJSON *o, const char *name, int64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(it) || it->valuedouble < -9007199254740992.0 ||
	    it->valuedouble > 9007199254740992.0)
		return -1;
	*v = (int64_t)it->valuedouble;
	return 0;
}

static int
parse_pos(const cJSON *o, struct eng_pos *pos)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");

	memset(pos, 0, sizeof(*pos));
	if (!cJSON_IsObject(o) || !cJSON_IsString(n) ||
	    strlen(n->valuestring) >= sizeof(pos->name))
		return -1;
	strcpy(pos->name, n->valuestring);
	if (get_u64(o, "seg", &pos->seg) != 0 ||
	    get_u64(o, "off", &pos->off) != 0 ||
	    get_u64(o, "rec", &pos->rec) != 0)
		return -1;
	return 0;
}

int
eng_parse_offsets(const char *text, const char *path,
    struct eng_batch_info *bi, struct ckpt_error *err)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *off, *src;
	int rc = CKPT_OK;

	off = cJSON_GetObjectItemCaseSensitive(root, "offsets");
	src = cJSON_GetObjectItemCaseSensitive(off, "source");
	if (root == NULL || !cJSON_IsObject(off) || !cJSON_IsString(src) ||
	    get_i64(root, "time_ms", &bi->time_ms) != 0 ||
	    get_i64(off, "start_ms", &bi->start_ms) != 0 ||
	    parse_pos(cJSON_GetObjectItemCaseSensitive(off, "start"),
	    &bi->start) != 0 ||
	    strlen(src->valuestring) >= sizeof(bi->source)) {
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot resume from '%s': not an offsets entry of ckpt "
		    "run (missing source, start_ms or start)", path);
	} else {
		strcpy(bi->source, src->valuestring);
		bi->has_end = parse_pos(cJSON_GetObjectItemCaseSensitive(off,
		    "end"), &bi->end) == 0;
	}
	cJSON_Delete(root);
	return rc;
}

int
eng_parse_commit(const char *text, const char *path,
    struct eng_batch_info *bi, struct ckpt_error *err)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *ck, *files, *f;
	int rc = CKPT_OK;

	bi->state_kind[0] = '\0';
	bi->since_snapshot = -1;
	bi->files_bytes = 0;
	bi->state_bytes = 0;
	if (root == NULL || parse_pos(cJSON_GetObjectItemCaseSensitive(root,
	    "end"), &bi->end) != 0) {
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot resume from '%s': not a commit entry of ckpt run "
		    "(no input end position)", path);
		goto out;
	}
	bi->has_end = 1;
	ck = cJSON_GetObjectItemCaseSensitive(root, "checkpoint");
	if (cJSON_IsObject(ck)) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(ck, "kind");
		int64_t n;

		if (cJSON_IsString(k) &&
		    strlen(k->valuestring) < sizeof(bi->state_kind))
			strcpy(bi->state_kind, k->valuestring);
		if (get_i64(ck, "since_snapshot", &n) == 0)
			bi->since_snapshot = n;
	}
	files = cJSON_GetObjectItemCaseSensitive(root, "files");
	cJSON_ArrayForEach(f, files) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(f, "kind");
		uint64_t sz;

		if (get_u64(f, "size", &sz) != 0)
			continue;
		bi->files_bytes += sz;
		if (cJSON_IsString(k) &&
		    (strcmp(k->valuestring, "snapshot") == 0 ||
		    strcmp(k->valuestring, "delta") == 0))
			bi->state_bytes += sz;
	}
out:
	cJSON_Delete(root);
	return rc;
}

int
eng_config_json(struct ckpt_buf *b, const struct eng_params *p,
    unsigned uses)
{
	if (eng_buf_printf(b, "{\"batch_ms\":%" PRId64, p->batch_ms) != 0)
		return -1;
	if ((uses & JOB_USES_RATE) &&
	    eng_buf_printf(b, ",\"rate\":%" PRId64, p->rate) != 0)
		return -1;
	if ((uses & JOB_USES_WINDOW) &&
	    eng_buf_printf(b, ",\"window_ms\":%" PRId64 ",\"slide_ms\":%"
	    PRId64, p->window_ms, p->slide_ms) != 0)
		return -1;
	if ((uses & JOB_USES_TIMEOUT) &&
	    eng_buf_printf(b, ",\"timeout_ms\":%" PRId64, p->timeout_ms) != 0)
		return -1;
	if ((uses & JOB_USES_ACTIONS) &&
	    eng_buf_printf(b, ",\"max_actions\":%" PRId64, p->max_actions) != 0)
		return -1;
	return eng_buf_printf(b, ",\"partitions\":%d,\"checkpoint_batches\":%"
	    PRId64 ",\"snapshot_every\":%d}", p->partitions, p->ckpt_every,
	    p->snapshot_every);
}

int
eng_config_parse(const char *text, struct eng_params *p,
    struct ckpt_error *err)
{
	cJSON *root = cJSON_Parse(text ? text : "{}");
	int64_t v;

	if (root == NULL || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot read the job configuration: not a JSON object");
	}
	if (get_i64(root, "batch_ms", &v) == 0)
		p->batch_ms = v;
	if (get_i64(root, "rate", &v) == 0)
		p->rate = v;
	if (get_i64(root, "window_ms", &v) == 0)
		p->window_ms = v;
	if (get_i64(root, "slide_ms", &v) == 0)
		p->slide_ms = v;
	if (get_i64(root, "timeout_ms", &v) == 0)
		p->timeout_ms = v;
	if (get_i64(root, "max_actions", &v) == 0)
		p->max_actions = v;
	if (get_i64(root, "checkpoint_batches", &v) == 0)
		p->ckpt_every = v;
	cJSON_Delete(root);
	return CKPT_OK;
}
