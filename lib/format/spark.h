/*
 * spark.h - private state of the Spark Structured Streaming driver.
 *
 * The driver is split at its seams: fmt_spark.c (detection, logs,
 * restart point, batches), fmt_spark_state.c (operators, stores,
 * partitions, state rebuild), fmt_spark_files.c (file roles, Hadoop and
 * Spark 4.1 checksums, verify, hex regions).  Everything follows
 * docs/spark-checkpoint-format.md; section numbers are cited where used.
 *
 * Memory: what is kept per checkpoint is small and bounded (ids,
 * counters, one entry per operator store, a few nested dir names);
 * batch and file listings are always paged through ckpt_store_list.
 */
#ifndef CKPT_SPARK_H
#define CKPT_SPARK_H

#include "fmt.h"
#include "../codec/spark_codec.h"

#define SPARK_MAX_STORES 256	/* operator stores kept per checkpoint */
#define SPARK_MAX_NESTED 16
#define SPARK_SMALL_MAX (16u << 20)	/* offsets, commits, schema files */
#define SPARK_PATH_MAX 1024

/* One neutral operator: an (operator id, store name) pair. */
struct spark_store {
	int op_id;
	char store[96];		/* "" for the default store */
	char name[CKPT_OP_NAME_MAX];
	char type[64];
	char op_name[64];	/* operatorName from operator metadata */
	int parts;		/* partition dirs: max id + 1 */
	int part_dirs;		/* partition dirs present */
	int meta_parts;		/* metadata numPartitions, 0 unknown */
	char *key_json, *value_json;	/* schema JSON text, or NULL */
	struct spark_type *kt, *vt;
	char schema_path[SPARK_PATH_MAX];	/* "" when none */
	int schema_version;
	int schema_error;	/* the schema file did not parse */
	/* lazily computed totals over every partition */
	int stats_done;
	int rocksdb;		/* RocksDB state store (section 5) */
	int keys_done;		/* keys computed (ls), -1 unknown */
	int64_t keys;
	int64_t min_version, max_version;
	uint64_t snapshots, deltas, bytes;
};

struct spark {
	struct ckpt *c;
	char id[128];
	int has_metadata;
	int metadata_bad;
	int offsets_dir, commits_dir;
	/* offsets/ and commits/ ids (section 1.2) */
	int64_t off_first, off_last, off_count, off_gaps;
	int64_t com_first, com_last, com_count, com_gaps;
	/* restart point (section 1.5, section 10 item 9) */
	int64_t restart_point, next_batch, state_version;
	char rule[160];
	int64_t watermark_ms;
	/* latest offsets file */
	int java_offsets;	/* Spark 2.0 Java-serialized (item 8) */
	int meta_empty;		/* continuous processing: empty line */
	int meta_has_conf;
	int conf_keys;
	char *conf_json;	/* conf object text of offsets/L, or NULL */
	int row_checksums;	/* 4.1 rowChecksum.enabled (section 2.3) */
	int nsources;
	char version[64];
	char reason[256];
	/* layout */
	int dstream;		/* DStream files too (fixture 14) */
	int nnested;
	char nested[SPARK_MAX_NESTED][CKPT_NAME_MAX];
	int has_op_metadata, has_json_crc, commits_empty;
	int commits_v2, offsets_v2;	/* 4.x log versions (1.3, 1.4) */
	int nstores;
	struct spark_store *stores;
};

/* fmt_spark.c */
int spark_parse_id(const char *s, int64_t *out);
/* A JSON number as int64 when it is one exactly enough; 0 if not. */
struct cJSON;
int spark_json_i64(const struct cJSON *j, int64_t *out);
int spark_is_temp_name(const char *name);
/* Reads a whole small file; CKPT_E_NOTFOUND if missing. */
int spark_read_small(struct ckpt *c, const char *path, char **out,
	size_t *len, struct ckpt_error *err);
/* Parses offsets text; fills metadata/ source JSON (see batch_json). */
int spark_offsets_json(struct ckpt *c, const char *path, const char *buf,
	size_t len, char **json, struct ckpt_error *err);
int spark_commit_check(const char *path, const char *buf, size_t len,
	int64_t *wm, struct ckpt_error *err);

/* fmt_spark_state.c */
int spark_stores_load(struct ckpt *c, struct spark *sp,
	struct ckpt_error *err);
void spark_stores_free(struct spark *sp);
/* "state/<op>/<part>[/<store>]" into buf. */
void spark_store_dir(const struct spark_store *s, int part, char *buf,
	size_t n);
/* Per-partition listing summary. */
struct spark_part_scan {
	int64_t min_version, max_version;	/* over deltas+snapshots */
	int64_t max_delta;
	uint64_t snapshots, deltas, bytes;
	int64_t best_snapshot;		/* newest snapshot <= target */
	int64_t target;
	int exists;
	int rocksdb;			/* RocksDB files seen (section 5) */
	int64_t count_lo;		/* count deltas in (count_lo, target] */
	uint64_t counted;
};
int spark_part_scan(struct ckpt *c, const struct spark_store *s, int part,
	int64_t target, struct spark_part_scan *out, struct ckpt_error *err);
/*
 * The chain rebuilding version V of a partition (section 2.4): *base is
 * the newest snapshot <= V (0: none), *complete whether every delta
 * base+1..V is there (Spark's count == V - S check), *exists whether
 * the partition's directory is.  Two listings, no per-version stat.
 */
int spark_part_chain(struct ckpt *c, const struct spark_store *s, int part,
	int64_t v, int64_t *base, int *complete, int *exists,
	struct ckpt_error *err);
/*
 * Calls fn for each partition directory present under state/<op>/, in
 * ascending order (a listing, so a sparse or hostile id range costs
 * nothing); fn returns non-zero to stop.
 */
typedef int (*spark_part_fn)(void *arg, int part);
int spark_parts_each(struct ckpt *c, const struct spark_store *s,
	spark_part_fn fn, void *arg, struct ckpt_error *err);
int spark_store_stats(struct ckpt *c, struct spark_store *s,
	struct ckpt_error *err);
/*
 * Decodes one record's key and value to JSON through the store's
 * schema (or {"hex"} without one) into kb / vb (NUL-terminated).
 * Returns CKPT_FAILED with err set when a row does not decode; kb/vb
 * then hold the hex fallback.
 */
int spark_rec_json(const struct spark *sp, const struct spark_store *s,
	const struct spark_rec *r, struct ckpt_buf *kb, struct ckpt_buf *vb,
	struct ckpt_error *err);
/* The same checks as spark_rec_json, building no text (verify). */
int spark_rec_check(const struct spark *sp, const struct spark_store *s,
	const struct spark_rec *r, struct ckpt_error *err);
/* Read callback over a ckpt_rfile. */
int spark_rfile_read(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err);

int spark_operator_count(struct ckpt *c);
int spark_operator_get(struct ckpt *c, int index, struct ckpt_operator *out,
	struct ckpt_error *err);
int spark_partition_get(struct ckpt *c, int op, int partition,
	struct ckpt_partition *out, struct ckpt_error *err);
int spark_state_open(struct ckpt *c, int op, int partition, int64_t version,
	unsigned flags, void **state, struct ckpt_error *err);
int spark_state_next(struct ckpt *c, void *state, struct ckpt_record *out,
	struct ckpt_error *err);
void spark_state_close(struct ckpt *c, void *state);

/* fmt_spark_files.c */
int spark_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
	struct ckpt_error *err);
int spark_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
	ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
	struct ckpt_error *err);
int spark_file_regions(struct ckpt *c, const char *path, ckpt_region_fn cb,
	void *arg, struct ckpt_error *err);

/* fmt_spark_prune.c: Spark's retention rules for ckpt_prune() */
extern const struct ckpt_prune_ops spark_prune_ops;

#endif /* CKPT_SPARK_H */
