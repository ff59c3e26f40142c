/*
 * engine_json.h - JSON the engine stores in its checkpoints (private to
 * lib/engine; see engine_json.c).
 */
#ifndef CKPT_ENGINE_JSON_H
#define CKPT_ENGINE_JSON_H

#include "engine.h"

/* What the offsets and commit entries of one batch say. */
struct eng_batch_info {
	char source[32];	/* "file", "generator", "socket" */
	int64_t time_ms;	/* batch time */
	int64_t start_ms;	/* logical time of batch 0 */
	struct eng_pos start;	/* input before the batch */
	struct eng_pos end;	/* input after the batch */
	int has_end;
	/* from the commit */
	char state_kind[16];	/* "snapshot", "delta", "" none */
	int64_t since_snapshot;	/* deltas since the last snapshot, -1 */
	uint64_t files_bytes;	/* manifest total */
	uint64_t state_bytes;	/* of which state files */
};

int eng_json_str(struct ckpt_buf *b, const char *s, size_t n);
/* Parses offsets/N text as written by ckpt_nwriter_begin_batch. */
int eng_parse_offsets(const char *text, const char *path,
    struct eng_batch_info *bi, struct ckpt_error *err);
/* Parses commits/N text: end position, checkpoint kind, sizes. */
int eng_parse_commit(const char *text, const char *path,
    struct eng_batch_info *bi, struct ckpt_error *err);
/* The job configuration stored in metadata (fixed key order). */
int eng_config_json(struct ckpt_buf *b, const struct eng_params *p,
    unsigned uses);
/* Loads the fields config text has into p, leaving the others. */
int eng_config_parse(const char *text, struct eng_params *p,
    struct ckpt_error *err);

#endif /* CKPT_ENGINE_JSON_H */
