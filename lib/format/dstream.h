/*
 * dstream.h - private interface of the legacy Spark Streaming (DStream)
 * driver (docs/spark-checkpoint-format.md section 7, section 10 items
 * 4, 13, 14, 15).
 *
 * fmt_dstream.c holds the driver (detection, generations as batches,
 * info, batch JSON); fmt_dstream_files.c the file roles, the write-ahead
 * logs, RDD checkpoint dirs and verify.  Everything here takes a store,
 * not a struct ckpt, so that the Structured Streaming driver can call it
 * for the DStream part of a mixed directory (fixture 14): see the
 * agreement at the top of fmt_dstream.c.
 *
 * Memory: nothing here keeps a directory listing.  Generations are
 * found by passes over the root listing (Spark keeps 10 files), one
 * checkpoint file is decoded at a time into a buffer bounded by
 * DSTREAM_MAX_FILE, and WAL records are hopped over by their lengths.
 */
#ifndef CKPT_DSTREAM_H
#define CKPT_DSTREAM_H

#include "fmt.h"
#include "../codec/codec_javaser.h"

#define DSTREAM_MAX_FILE (16u << 20)	/* decoded checkpoint size cap */
#define DSTREAM_MAX_RECORD (16u << 20)	/* WAL record size decoded */
#define DSTREAM_TOPK 16			/* newest times tried for restart */
#define DSTREAM_PATH_MAX 1024

/* What one pass over the root listing found. */
struct dstream_scan {
	uint64_t gens;			/* distinct checkpoint times */
	uint64_t plain, bk;		/* checkpoint-<t>, checkpoint-<t>.bk */
	int64_t first_ms, last_ms;	/* CKPT_NONE when no generation */
	int64_t last_plain_ms;
	int has_temp;			/* "temp": a write was interrupted */
	int has_wal_meta;		/* receivedBlockMetadata/ */
	int has_wal_data;		/* receivedData/ */
	int has_offsets;		/* offsets/: Structured Streaming too */
	int has_ss_files;		/* metadata commits/ sources/ state/ */
	/* newest times, descending (bounded; enough for Spark's 10 files) */
	int64_t newest[DSTREAM_TOPK];
	int nnewest;
};

/* Lists the root once; CKPT_E_NOTFOUND if the root is missing. */
int dstream_scan(struct ckpt_store *st, struct dstream_scan *out,
	struct ckpt_error *err);

/*
 * Bid on a store (0..100): 90 with checkpoint-<t> files and no
 * offsets/; 40 with checkpoint files next to offsets/ (the Spark
 * driver bids higher there and reports the DStream part); 30 with only
 * WAL dirs; else 0.
 */
int dstream_bid(struct ckpt_store *st, struct ckpt_error *err);

/*
 * Non-zero if a root entry of that name belongs to the DStream part:
 * checkpoint-<t>[.bk] and other checkpoint-<t><suffix> names, temp,
 * receivedBlockMetadata/, receivedData/, RDD checkpoint dirs
 * (<uuid>/), and the Hadoop sidecars of all of these.
 */
int dstream_owns_name(const char *name, int is_dir);

/* Non-zero if a path relative to the root lies in the DStream part. */
int dstream_owns_path(const char *path);

/* Parses "checkpoint-<t>" / "checkpoint-<t>.bk": 1 and *t, *bk, or 0. */
int dstream_parse_name(const char *name, int64_t *t, int *bk);

/* One generation: every file written for checkpoint time t. */
struct dstream_gen {
	int64_t time_ms;
	int has_plain, has_bk;
	uint64_t plain_bytes, bk_bytes;
	int plain_crc, bk_crc;		/* sidecars present */
	uint64_t files, bytes;		/* with sidecars */
};

/*
 * The generation with the smallest time > after (CKPT_NONE: the first);
 * CKPT_EOF when there is none.
 */
int dstream_gen_next(struct ckpt_store *st, int64_t after,
	struct dstream_gen *out, struct ckpt_error *err);
/*
 * Up to max generations with times > after, ascending, in one pass over
 * the root (usually): *n is at least 1 on CKPT_OK; CKPT_EOF when none.
 */
int dstream_gen_window(struct ckpt_store *st, int64_t after,
	struct dstream_gen *win, size_t max, size_t *n, struct ckpt_error *err);
/* The generation of time t; CKPT_E_NOTFOUND if no file has it. */
int dstream_gen_get(struct ckpt_store *st, int64_t t,
	struct dstream_gen *out, struct ckpt_error *err);

/* A decoded checkpoint file. */
struct dstream_file {
	char name[CKPT_NAME_MAX];
	uint64_t bytes;			/* on disk */
	uint64_t lz4_blocks;		/* data blocks */
	struct ckpt_jser_checkpoint cp;	/* release with _release */
	int java9;			/* call sites recorded on Java 9+ */
};

/*
 * Reads path (LZ4Block, section 2.2, then Java serialization of one
 * Checkpoint, walked to the last byte).  Errors name the path and the
 * offset (compressed offset for framing, decoded offset for the walk).
 */
int dstream_read_checkpoint(struct ckpt_store *st, const char *path,
	struct dstream_file *out, struct ckpt_error *err);
void dstream_file_release(struct dstream_file *f);

/*
 * The restart point as Spark's CheckpointReader picks it (section 7.1):
 * newest plain file first, then its .bk, then older; the first that
 * decodes wins.  On success *out holds it (caller releases), *bk says
 * which file, and rule says why in words.  CKPT_EOF when no file
 * decodes (rule says so).
 */
int dstream_restart(struct ckpt_store *st, const struct dstream_scan *sc,
	struct dstream_file *out, int *bk, char *rule, size_t rulelen,
	struct ckpt_error *err);

/*
 * Appends the JSON object of one generation (section 10 item 13) to b:
 * {"batch":t,"time_ms":t,"committed":bool,"offsets":{"file",
 * "checkpoint_time_ms","pending_times","zero_time_ms",
 * "batch_duration_ms"}|null (what a restart from t resumes; diff
 * compares it),"commit":{"file"}|null,"files":[{"file","bk","bytes",
 * "crc_sidecar","checkpoint_time_ms","pending_times",...}]}.  A file
 * that does not decode shows "error".  CKPT_E_NOTFOUND if no file has
 * time t.
 */
int dstream_gen_json(struct ckpt_store *st, int64_t t, struct ckpt_buf *b,
	struct ckpt_error *err);

/*
 * Appends the JSON object describing the DStream part of st: its
 * generations (time, bk, bytes), restart file, job (app name, master,
 * batch duration, streams, conf), write-ahead logs and RDD checkpoint
 * dirs.  The Spark driver embeds it as "dstream" in its metadata_json.
 */
int dstream_summary_json(struct ckpt_store *st, struct ckpt_buf *b,
	struct ckpt_error *err);

/* ---- fmt_dstream_files.c ---- */

/*
 * Walks the DStream files of st with their roles (ckpt_file), depth
 * first in name order: checkpoint files (METADATA, batch = t),
 * sidecars (CHECKSUM, or ORPHAN without their file), temp (TEMP), WAL
 * logs (WAL), RDD checkpoint files (OTHER).  With mixed set, root
 * entries that dstream_owns_name() rejects are skipped (the Spark
 * driver reports them); otherwise they are FOREIGN.
 */
int dstream_files_walk(struct ckpt_store *st, int mixed, ckpt_file_fn cb,
	void *arg, struct ckpt_error *err);

/*
 * Verifies the DStream part of st: LZ4 framing and the Java walk of
 * every checkpoint file, their Hadoop sidecars, WAL record framing
 * (and, at CKPT_VERIFY_READ_STATE, every WAL record's Java walk), RDD
 * checkpoint sidecars and files.  Problems go to cb; stats add up.
 */
int dstream_verify(struct ckpt_store *st, int mixed,
	const struct ckpt_verify_opts *o, ckpt_problem_fn cb, void *arg,
	struct ckpt_verify_stats *stats, struct ckpt_error *err);

/*
 * Regions of one DStream file for a hex dump: LZ4Block headers and
 * payloads of checkpoint files, record lengths and payloads of WAL
 * segments, header and sums of Hadoop sidecars, one Java stream for
 * RDD files.  Damage shows as a region with ok = 0.
 */
int dstream_file_regions(struct ckpt_store *st, const char *path,
	ckpt_region_fn cb, void *arg, struct ckpt_error *err);

/* Write-ahead log segments (the public ckpt_dstream_logs() is on top). */
int dstream_logs(struct ckpt_store *st, int decode,
	ckpt_dstream_log_fn cb, void *arg, struct ckpt_error *err);

/* RDD checkpoint dirs <uuid>/rdd-<id>/ (section 10 item 15). */
int dstream_rdds(struct ckpt_store *st, ckpt_dstream_rdd_fn cb, void *arg,
	struct ckpt_error *err);

/*
 * Frames one WAL segment held in memory (fuzzing, tests): counts
 * records, notes where a record is cut by EOF, and with decode walks
 * each record as Java serialization (a batched byte[][] of events, or
 * one event) counting event classes.
 */
int dstream_wal_scan_mem(const uint8_t *p, size_t len, const char *path,
	int decode, struct ckpt_dstream_log *out, struct ckpt_error *err);

extern const struct ckpt_format_ops ckpt_fmt_dstream_ops;
/* Retention: keep the newest generations (fmt_dstream_prune.c). */
extern const struct ckpt_prune_ops dstream_prune_ops;

#endif /* CKPT_DSTREAM_H */
