/*
 * ckpt.h - the public API of libckpt.
 *
 * libckpt reads, verifies and writes stream-processing checkpoints: ckpt's
 * own native format and Apache Spark's (Structured Streaming and DStream).
 * It is the only header cmd/ and tests include from lib/.
 *
 * Model (docs/DESIGN.md section 2): a checkpoint holds batches 0..N, each
 * with an offsets entry and, once done, a commit entry.  The restart point
 * is the newest committed batch whose files verify.  Operators have
 * partitions (and, for Spark joins, named stores); each partition has state
 * versions made of snapshots and deltas.
 *
 * Conventions:
 *  - every call returns an int status: CKPT_OK (0), CKPT_EOF (1, an
 *    iterator is done), or a negative severity (CKPT_WARN, CKPT_FAILED,
 *    CKPT_FATAL) with details in the struct ckpt_error the caller passed;
 *  - the library never prints and never exits;
 *  - whoever opens, closes; every _free()/_close() accepts NULL;
 *  - memory is bounded by a block, never by a file or a directory.
 */
#ifndef CKPT_H
#define CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define CKPT_API __attribute__((visibility("default")))
#else
#define CKPT_API
#endif

#if defined(__GNUC__)
#define CKPT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CKPT_PRINTF(f, a)
#endif

#define CKPT_VERSION_MAJOR 0
#define CKPT_VERSION_MINOR 1
#define CKPT_VERSION_PATCH 0
#define CKPT_VERSION_STRING "0.1.0"

CKPT_API const char *ckpt_version(void);

/* ------------------------------------------------------------------ */
/* Status and errors                                                    */
/* ------------------------------------------------------------------ */

/* Severities, ordered as in libarchive's archive.h. */
enum ckpt_rc {
	CKPT_OK = 0,
	CKPT_EOF = 1,		/* iterator exhausted; not an error */
	CKPT_WARN = -20,	/* damaged item, iteration may continue */
	CKPT_FAILED = -25,	/* this operation failed */
	CKPT_FATAL = -30	/* the handle is dead */
};

/*
 * Error kinds.  Values are pinned: never renumber, only append.
 * cmd/ maps them to exit codes (NOTFOUND and NOTCKPT 10, LOCKED 11,
 * USAGE 2, INTERRUPTED 130, the rest 1).
 */
enum ckpt_error_kind {
	CKPT_E_NONE = 0,
	CKPT_E_IO = 1,		/* a system call failed */
	CKPT_E_FORMAT = 2,	/* bytes do not parse */
	CKPT_E_CHECKSUM = 3,	/* a checksum does not match */
	CKPT_E_NOTFOUND = 4,	/* path or object does not exist */
	CKPT_E_LOCKED = 5,	/* another writer holds the lock */
	CKPT_E_UNSUPPORTED = 6,	/* valid but not supported (hdfs://, ...) */
	CKPT_E_BACKEND = 7,	/* storage backend (S3, archive) failed */
	CKPT_E_NOMEM = 8,	/* allocation failed */
	CKPT_E_NOTCKPT = 9,	/* path exists but holds no checkpoint */
	CKPT_E_USAGE = 10,	/* bad argument to a library call */
	CKPT_E_CONFIG = 11,	/* incompatible job or configuration */
	CKPT_E_INTERRUPTED = 12,/* stopped by a signal */
	CKPT_E_EXISTS = 13,	/* object exists (conditional create) */
	CKPT_E_NOSPACE = 14	/* ENOSPC / quota */
};

#define CKPT_ERROR_MSG_MAX 512

/*
 * The error a failed call fills in.  msg is "<what failed>: <why>",
 * lowercase, no trailing period, no newline, with the path quoted,
 * e.g. "cannot read 'state/0/3/00..07.delta': block 2 at offset 4096:
 * checksum mismatch".  The first error set wins, as in curl's failf().
 */
struct ckpt_error {
	int kind;		/* enum ckpt_error_kind */
	int sys_errno;		/* errno when kind == CKPT_E_IO, else 0 */
	char msg[CKPT_ERROR_MSG_MAX];
};

/* Sets err (if err is non-NULL and still empty) and returns CKPT_FAILED. */
CKPT_API int ckpt_error_set(struct ckpt_error *err, int kind,
	const char *fmt, ...) CKPT_PRINTF(3, 4);
/* Same, with errno recorded and ": strerror(errno)" appended. */
CKPT_API int ckpt_error_set_errno(struct ckpt_error *err, int sys_errno,
	const char *fmt, ...) CKPT_PRINTF(3, 4);
CKPT_API void ckpt_error_clear(struct ckpt_error *err);
/* Stable snake_case name of a kind ("io", "not_found", "checksum", ...). */
CKPT_API const char *ckpt_error_kind_name(int kind);

/* ------------------------------------------------------------------ */
/* Context                                                              */
/* ------------------------------------------------------------------ */

/*
 * A caller-created context carries what would otherwise be global:
 * limits, the fault-injection plan (tests only), an interrupt flag the
 * caller may set from a signal handler.  lib/ has no mutable globals.
 */
struct ckpt_ctx;

CKPT_API int ckpt_ctx_new(struct ckpt_ctx **out, struct ckpt_error *err);
CKPT_API void ckpt_ctx_free(struct ckpt_ctx *ctx);
/*
 * Points the library at a flag that a signal handler sets to non-zero;
 * long loops check it and fail with CKPT_E_INTERRUPTED.
 */
CKPT_API void ckpt_ctx_set_interrupt(struct ckpt_ctx *ctx,
	volatile int *flag);
CKPT_API int ckpt_ctx_interrupted(const struct ckpt_ctx *ctx);
/* Progress callback: done/total units of what (total 0 = unknown). */
typedef void (*ckpt_progress_fn)(void *arg, const char *what,
	uint64_t done, uint64_t total);
CKPT_API void ckpt_ctx_set_progress(struct ckpt_ctx *ctx,
	ckpt_progress_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Storage                                                              */
/* ------------------------------------------------------------------ */

/*
 * A store is where bytes live: a local directory, an S3 prefix, an
 * archive.  Paths inside a store are relative, '/'-separated, never
 * absolute, never containing "..".  Opening parses a URL or plain path:
 * "/dir", "file:///dir", "s3://bucket/prefix", "x.tar.zst", "x.zip".
 */
struct ckpt_store;
struct ckpt_rfile;	/* streaming reader */
struct ckpt_wfile;	/* durable writer */
struct ckpt_lock;

#define CKPT_STORE_RDONLY  0x0u
#define CKPT_STORE_RDWR    0x1u
#define CKPT_STORE_CREATE  0x2u	/* create the root directory if missing */

CKPT_API int ckpt_store_open(struct ckpt_ctx *ctx, const char *url,
	unsigned flags, struct ckpt_store **out, struct ckpt_error *err);
CKPT_API void ckpt_store_close(struct ckpt_store *st);
/* The URL as given (secrets stripped), and the backend name ("file"). */
CKPT_API const char *ckpt_store_url(const struct ckpt_store *st);
CKPT_API const char *ckpt_store_backend(const struct ckpt_store *st);

#define CKPT_NAME_MAX 256

struct ckpt_stat {
	char name[CKPT_NAME_MAX];	/* last path component */
	uint64_t size;
	int64_t mtime_ms;
	int is_dir;
};

/* Stats path; CKPT_E_NOTFOUND if absent. Never follows symlinks. */
CKPT_API int ckpt_store_stat(struct ckpt_store *st, const char *path,
	struct ckpt_stat *out, struct ckpt_error *err);

/*
 * Sort orders for listing.  NAME is bytewise; NUMERIC puts names that
 * start with a decimal number in numeric order ("2" < "10"), the rest
 * after them bytewise.
 */
enum ckpt_list_order { CKPT_LIST_NAME = 0, CKPT_LIST_NUMERIC = 1 };

/*
 * Streams the entries of directory dir (not recursive; "" is the root)
 * whose names sort strictly after `after` (NULL: from the start) to cb
 * in the requested order, with memory bounded by a fixed window (a very
 * large directory is read in several passes; S3 uses start-after).
 * Symlinks are reported as files of size 0 (is_dir 0) and never
 * followed.  cb returns 0 to go on, non-zero to stop (list then returns
 * CKPT_OK); paging callers stop after K entries and call again with the
 * last name as `after`.  A missing dir is CKPT_E_NOTFOUND.
 */
typedef int (*ckpt_list_fn)(void *arg, const struct ckpt_stat *ent);
CKPT_API int ckpt_store_list(struct ckpt_store *st, const char *dir,
	enum ckpt_list_order order, const char *after, ckpt_list_fn cb,
	void *arg, struct ckpt_error *err);
/* Compares two names in the given order (<0, 0, >0). */
CKPT_API int ckpt_name_cmp(enum ckpt_list_order order, const char *a,
	const char *b);

/*
 * ---- Unsorted directory scan (issue 3: ls of many batches) ----
 * Streams every entry of dir once, in the backend's own order (readdir
 * order locally), one pass, memory independent of the directory's
 * size.  Without CKPT_SCAN_STAT an entry's size and mtime_ms are 0 and
 * no per-entry stat is made (is_dir is still set); with it they are
 * filled as ckpt_store_list does.  cb returns non-zero to stop.  A
 * missing dir is CKPT_E_NOTFOUND.  Use it when order does not matter
 * (counting, finding the newest ids): it costs what readdir costs.
 */
#define CKPT_SCAN_STAT 0x1u
CKPT_API int ckpt_store_scan(struct ckpt_store *st, const char *dir,
	unsigned flags, ckpt_list_fn cb, void *arg, struct ckpt_error *err);

/* Streaming read. read() sets *got to 0 at end of file. */
CKPT_API int ckpt_store_open_read(struct ckpt_store *st, const char *path,
	struct ckpt_rfile **out, struct ckpt_error *err);
CKPT_API int ckpt_rfile_read(struct ckpt_rfile *f, void *buf, size_t len,
	size_t *got, struct ckpt_error *err);
CKPT_API uint64_t ckpt_rfile_size(const struct ckpt_rfile *f);
CKPT_API void ckpt_rfile_close(struct ckpt_rfile *f);
/* Reads up to len bytes at off; *got < len only at end of file. */
CKPT_API int ckpt_store_read_range(struct ckpt_store *st, const char *path,
	uint64_t off, void *buf, size_t len, size_t *got,
	struct ckpt_error *err);
/*
 * Reads a whole small file (at most max bytes, else CKPT_E_FORMAT "file
 * too large") into a malloc'd buffer, NUL-terminated; caller frees.
 */
CKPT_API int ckpt_store_read_all(struct ckpt_store *st, const char *path,
	size_t max, char **out, size_t *len, struct ckpt_error *err);

/*
 * Durable atomic write: bytes go to a temp name in the same directory;
 * commit fsyncs the file, renames it to path, fsyncs the directory.
 * Parent directories are created (and fsynced) as needed.  With
 * CKPT_WRITE_EXCL the commit fails with CKPT_E_EXISTS if path exists
 * (link(2) locally, a conditional put on S3): that is the commit point.
 * abort (or close without commit) removes the temp file.
 */
#define CKPT_WRITE_EXCL 0x1u
CKPT_API int ckpt_store_create(struct ckpt_store *st, const char *path,
	unsigned flags, struct ckpt_wfile **out, struct ckpt_error *err);
CKPT_API int ckpt_wfile_write(struct ckpt_wfile *f, const void *buf,
	size_t len, struct ckpt_error *err);
CKPT_API uint64_t ckpt_wfile_size(const struct ckpt_wfile *f);
CKPT_API int ckpt_wfile_commit(struct ckpt_wfile *f, struct ckpt_error *err);
CKPT_API void ckpt_wfile_abort(struct ckpt_wfile *f);
/*
 * Commits n files of one store as ckpt_wfile_commit would each, with
 * their waits overlapped: every file is fsynced (concurrently where the
 * backend can), then each is renamed (or linked) into place, then each
 * distinct directory is fsynced once.  All n are durable when it
 * returns CKPT_OK.  Frees every f, success or not; on failure some may
 * have landed, none of those after the first that failed.
 */
CKPT_API int ckpt_wfile_commit_all(struct ckpt_wfile **f, size_t n,
	struct ckpt_error *err);
/* create + write + commit in one call. */
CKPT_API int ckpt_store_write_atomic(struct ckpt_store *st, const char *path,
	unsigned flags, const void *buf, size_t len, struct ckpt_error *err);

/* Removes a file (or an empty directory); a missing path is CKPT_OK. */
CKPT_API int ckpt_store_remove(struct ckpt_store *st, const char *path,
	struct ckpt_error *err);
/* Makes earlier removes in dir durable (fsync of the directory). */
CKPT_API int ckpt_store_sync_dir(struct ckpt_store *st, const char *dir,
	struct ckpt_error *err);

/*
 * The single-writer lock of a checkpoint directory.  The holder is
 * recorded as host, pid and start time; a second writer gets
 * CKPT_E_LOCKED with "locked by pid P on H since T".  A lock whose
 * holder is a dead process on this host is taken over.
 */
struct ckpt_lock_info {
	char host[128];
	long pid;
	int64_t since_ms;
	char what[64];		/* "ckpt run wordcount", "ckpt prune" */
};
CKPT_API int ckpt_store_lock(struct ckpt_store *st, const char *what,
	struct ckpt_lock **out, struct ckpt_error *err);
CKPT_API void ckpt_lock_release(struct ckpt_lock *lk);
/* Who holds the lock now; CKPT_EOF if nobody. */
CKPT_API int ckpt_store_lock_holder(struct ckpt_store *st,
	struct ckpt_lock_info *out, struct ckpt_error *err);

/* ------------------------------------------------------------------ */
/* Checkpoints (any format)                                             */
/* ------------------------------------------------------------------ */

/*
 * Opening detects the format (cheap bidders first, highest bid wins; a
 * tie is CKPT_E_FORMAT "ambiguous").  "Not a checkpoint" is
 * CKPT_E_NOTCKPT; a missing path CKPT_E_NOTFOUND.
 */
struct ckpt;

CKPT_API int ckpt_open(struct ckpt_ctx *ctx, const char *url,
	struct ckpt **out, struct ckpt_error *err);
/* Same, on a store the caller owns (not closed by ckpt_close). */
CKPT_API int ckpt_open_store(struct ckpt_ctx *ctx, struct ckpt_store *st,
	struct ckpt **out, struct ckpt_error *err);
CKPT_API void ckpt_close(struct ckpt *c);
CKPT_API struct ckpt_store *ckpt_get_store(struct ckpt *c);
/* Names of all format drivers, NULL-terminated ("native", "spark", ...) */
CKPT_API const char *const *ckpt_format_names(void);

#define CKPT_NONE INT64_MIN	/* "no such batch / version" */

struct ckpt_info {
	char format[32];	/* "native", "spark", "dstream" */
	char kind[64];		/* "native v2", "structured streaming", ... */
	int format_version;	/* native: 1 or 2; Spark: log version */
	char id[128];		/* job id / Spark query id ("" unknown) */
	char name[128];		/* job name ("" unknown) */
	char version_estimate[64];	/* Spark version estimate ("") */
	char version_reason[256];
	int64_t first_batch;	/* CKPT_NONE when no batch */
	int64_t last_batch;	/* newest offsets entry */
	int64_t last_commit;	/* newest commit entry */
	int64_t batches;	/* number of offsets entries */
	int64_t restart_point;	/* newest committed batch, CKPT_NONE */
	int64_t next_batch;	/* the batch a restart runs next */
	int64_t state_version;	/* state version a restart loads */
	char restart_rule[160];	/* why, in words */
	int64_t watermark_ms;	/* CKPT_NONE if none */
	int operators;
	uint64_t files;
	uint64_t bytes;
	/* JSON object text of metadata/config (malloc'd; may be NULL) */
	char *metadata_json;
};
/* Fills *out; caller calls ckpt_info_release(). */
CKPT_API int ckpt_info_get(struct ckpt *c, struct ckpt_info *out,
	struct ckpt_error *err);
CKPT_API void ckpt_info_release(struct ckpt_info *info);

/* One batch, as ls shows it. */
struct ckpt_batch {
	int64_t id;
	int has_offsets;
	int committed;
	int64_t time_ms;	/* batch time, CKPT_NONE unknown */
	uint64_t files;		/* files belonging to this batch */
	uint64_t bytes;
	int is_restart_point;
	int has_state;		/* a state checkpoint was taken here */
};

/*
 * Batch iterator, ascending id, bounded memory (never the whole list).
 * next returns CKPT_OK with *out filled, or CKPT_EOF.
 */
struct ckpt_batch_iter;
CKPT_API int ckpt_batch_iter_open(struct ckpt *c,
	struct ckpt_batch_iter **out, struct ckpt_error *err);
CKPT_API int ckpt_batch_iter_next(struct ckpt_batch_iter *it,
	struct ckpt_batch *out, struct ckpt_error *err);
CKPT_API void ckpt_batch_iter_close(struct ckpt_batch_iter *it);

/*
 * ---- Listing hints (issue 3: ls of many batches) ----
 * What the caller will not look at, so that a driver may skip the work
 * (a stat of every file, a read of every commit entry).  Returns the
 * hints the driver honours (others have no effect); 0 turns them off.
 * CKPT_HINT_NO_TOTALS: ckpt_info_get may leave files and bytes 0.
 * CKPT_HINT_NO_COUNTS: ckpt_info_get may leave batches 0 and first_batch
 * and last_batch CKPT_NONE (no listing of every offsets entry).
 * CKPT_HINT_BATCH_IDS: the batch iterator fills only id, has_offsets,
 * committed and is_restart_point (time_ms CKPT_NONE, the rest 0);
 * ckpt_batch_fill then fills the rest of one such batch.
 */
#define CKPT_HINT_NO_TOTALS 0x1u
#define CKPT_HINT_BATCH_IDS 0x2u
#define CKPT_HINT_NO_COUNTS 0x4u
CKPT_API unsigned ckpt_set_hints(struct ckpt *c, unsigned hints);
CKPT_API int ckpt_batch_fill(struct ckpt *c, struct ckpt_batch *b,
	struct ckpt_error *err);

/*
 * Details of one batch as JSON object text (malloc'd, caller frees):
 * {"batch":N,"offsets":{...},"commit":{...}|null,"sources":[...]}.
 * Each driver documents its fields; CKPT_E_NOTFOUND if no such batch.
 */
CKPT_API int ckpt_batch_json(struct ckpt *c, int64_t batch, char **json,
	struct ckpt_error *err);

#define CKPT_OP_NAME_MAX 128

/* One stateful operator (or, for Spark joins, one of its stores). */
struct ckpt_operator {
	int index;			/* 0..operators-1 */
	char name[CKPT_OP_NAME_MAX];	/* "counts", "0", "1/left-keyToNumValues" */
	char type[64];			/* "reduceByKey", "dedupe", "join" */
	int partitions;
	int64_t min_version;		/* CKPT_NONE when no state */
	int64_t max_version;
	uint64_t snapshots;
	uint64_t deltas;
	int64_t keys;			/* at the restart point, -1 unknown */
	uint64_t bytes;
	char *key_schema;		/* JSON text or NULL (malloc'd) */
	char *value_schema;
};
CKPT_API int ckpt_operator_count(struct ckpt *c);
/* Fills *out for operator index; release with ckpt_operator_release. */
CKPT_API int ckpt_operator_get(struct ckpt *c, int index,
	struct ckpt_operator *out, struct ckpt_error *err);
CKPT_API void ckpt_operator_release(struct ckpt_operator *op);
/* Finds an operator by name (or decimal index); -1 if none. */
CKPT_API int ckpt_operator_find(struct ckpt *c, const char *name);

struct ckpt_partition {
	int partition;
	int64_t min_version;
	int64_t max_version;
	uint64_t snapshots;
	uint64_t deltas;
	uint64_t bytes;
	int64_t keys;		/* at restart point, -1 unknown */
};
CKPT_API int ckpt_partition_get(struct ckpt *c, int op, int partition,
	struct ckpt_partition *out, struct ckpt_error *err);

/*
 * State records of one operator partition at a version (CKPT_NONE =
 * the version a restart loads): the newest snapshot <= version plus
 * every delta after it, tombstones applied.  Records come in key order
 * within a partition (native: streaming k-way merge; Spark: the
 * partition's map sorted; raw mode: file order).  key_json /
 * value_json are decoded through the schema, or a
 * {"hex":"..."} fallback; they stay valid until the next call.
 */
struct ckpt_record {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;	/* NULL for a tombstone (raw mode only) */
	size_t value_len;
	const char *key_json;
	const char *value_json;
	int partition;
};
struct ckpt_state_iter;
#define CKPT_STATE_RAW_DELTAS 0x1u /* one file, no merge, with tombstones */
/*
 * Bytes only: key_json and value_json are left NULL (native state; other
 * drivers may still render them), for callers that decode the bytes
 * themselves (engine restore, diff, migrate).
 */
#define CKPT_STATE_NO_JSON 0x2u
CKPT_API int ckpt_state_open(struct ckpt *c, int op, int partition,
	int64_t version, unsigned flags, struct ckpt_state_iter **out,
	struct ckpt_error *err);
CKPT_API int ckpt_state_next(struct ckpt_state_iter *it,
	struct ckpt_record *out, struct ckpt_error *err);
CKPT_API void ckpt_state_close(struct ckpt_state_iter *it);

/* Roles of files inside a checkpoint (ls leftovers, prune, verify). */
enum ckpt_file_role {
	CKPT_F_METADATA = 0, CKPT_F_OFFSETS, CKPT_F_COMMIT, CKPT_F_SNAPSHOT,
	CKPT_F_DELTA, CKPT_F_SCHEMA, CKPT_F_OUTPUT, CKPT_F_WAL, CKPT_F_SOURCE,
	CKPT_F_CHECKSUM, CKPT_F_LOCK, CKPT_F_TEMP, CKPT_F_ORPHAN,
	CKPT_F_FOREIGN, CKPT_F_UNCOMMITTED, CKPT_F_OTHER
};
CKPT_API const char *ckpt_file_role_name(int role);

struct ckpt_file {
	const char *path;	/* relative to the checkpoint root */
	int role;
	int64_t batch;		/* or version for state files; CKPT_NONE */
	int op;			/* -1 if not state */
	int partition;		/* -1 if not state */
	uint64_t size;
	int64_t mtime_ms;
};
/*
 * Walks every file of the checkpoint with its role, in a stable order,
 * bounded memory.  cb returns non-zero to stop.
 */
typedef int (*ckpt_file_fn)(void *arg, const struct ckpt_file *f);
CKPT_API int ckpt_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
	struct ckpt_error *err);

/* ---- verify ---- */

enum ckpt_verify_level {
	CKPT_VERIFY_STRUCTURE = 0,	/* manifests, sizes, headers, chain */
	CKPT_VERIFY_READ_STATE = 1	/* every block and record */
};
struct ckpt_verify_opts {
	int level;
	/* --read-subset: check state files whose index % subset_of ==
	 * subset_n - 1 (n/t form), or a percentage when subset_pct > 0 */
	unsigned subset_n, subset_of;
	double subset_pct;
};
enum ckpt_problem_severity { CKPT_PROBLEM_WARNING = 1,
	CKPT_PROBLEM_ERROR = 2 };
struct ckpt_problem {
	int severity;
	int kind;		/* enum ckpt_error_kind */
	const char *path;	/* file, relative to the root ("" = root) */
	int64_t offset;		/* byte offset, -1 when not applicable */
	const char *msg;	/* what is wrong */
};
struct ckpt_verify_stats {
	uint64_t files;
	uint64_t bytes;
	uint64_t blocks;
	uint64_t records;
	uint64_t checksums;	/* checksums compared */
	uint64_t errors;
	uint64_t warnings;
};
typedef int (*ckpt_problem_fn)(void *arg, const struct ckpt_problem *p);
/*
 * Verifies c, reporting each problem to cb.  Returns CKPT_OK when the
 * walk completed (problems or not; see stats), CKPT_FAILED when it could
 * not run at all.
 */
CKPT_API int ckpt_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
	ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
	struct ckpt_error *err);

/* ---- hex dump support (inspect --hex) ---- */

/*
 * Describes the structure of one file for a hex dump: cb receives
 * regions (header, block N, footer, record...) with offset, length and
 * a note ("xxh3 ok", "lz4 block 32768->12058, checksum ok").
 */
struct ckpt_region {
	uint64_t offset;
	uint64_t length;
	const char *what;
	const char *note;
	int ok;			/* 1 ok, 0 bad, -1 n/a */
};
typedef int (*ckpt_region_fn)(void *arg, const struct ckpt_region *r);
CKPT_API int ckpt_file_regions(struct ckpt *c, const char *path,
	ckpt_region_fn cb, void *arg, struct ckpt_error *err);

/* ---- DStream section: owned by lib/format/fmt_dstream*.c ---- */

/*
 * Legacy Spark Streaming parts of a checkpoint (a "dstream" checkpoint,
 * or the DStream files mixed into a Structured Streaming directory).
 * Both calls work on any open checkpoint and report nothing when it
 * has no such files.
 *
 * Write-ahead log segments: receivedBlockMetadata/log-<start>-<end>
 * (stream "" , the driver's block tracker) and
 * receivedData/<stream>/log-<start>-<end> (a receiver's data).  Records
 * are int32 BE length + payload; a record cut by the end of the file is
 * noted (Spark stops reading there).  Metadata events are counted by
 * class (batched or not).
 */
struct ckpt_dstream_log {
	const char *path;	/* relative to the checkpoint root */
	const char *stream;	/* "" for receivedBlockMetadata */
	uint64_t bytes;
	uint64_t records;	/* complete records */
	int64_t start_ms, end_ms;	/* from the name; CKPT_NONE */
	int64_t cut_offset;	/* where a cut record starts, -1 if none */
	int batched;		/* payloads are byte[][] of events */
	uint64_t ev_add, ev_alloc, ev_cleanup, ev_other;
};
typedef int (*ckpt_dstream_log_fn)(void *arg,
	const struct ckpt_dstream_log *l);
CKPT_API int ckpt_dstream_logs(struct ckpt *c, ckpt_dstream_log_fn cb,
	void *arg, struct ckpt_error *err);

/*
 * Checkpoint files checkpoint-<t> and checkpoint-<t>.bk, in time order
 * (plain before .bk), each decoded: the .bk is the write made when
 * batch t was generated (pending_times [t]), the plain file the write
 * after it completed.  The file a restart loads is marked.
 */
struct ckpt_dstream_file {
	const char *name;	/* "checkpoint-<t>[.bk]" */
	int64_t time_ms;	/* from the name */
	int bk;
	uint64_t bytes;
	int decodes;		/* 0: error says why */
	const char *error;
	int64_t checkpoint_time_ms;	/* inside; CKPT_NONE */
	const int64_t *pending_times;	/* the first n (max 64) */
	size_t n_pending;		/* all of them */
	int is_restart;		/* the file Spark would load */
};
typedef int (*ckpt_dstream_file_fn)(void *arg,
	const struct ckpt_dstream_file *f);
CKPT_API int ckpt_dstream_files(struct ckpt *c, ckpt_dstream_file_fn cb,
	void *arg, struct ckpt_error *err);

/* RDD checkpoint dirs <sparkContext-uuid>/rdd-<id>/ (part-N, _partitioner). */
struct ckpt_dstream_rdd {
	const char *path;	/* "<uuid>/rdd-<id>" */
	int64_t rdd_id;
	uint64_t parts;		/* part-NNNNN files */
	uint64_t bytes;		/* part bytes */
	int has_partitioner;
	int referenced;		/* named by the restart checkpoint */
};
typedef int (*ckpt_dstream_rdd_fn)(void *arg,
	const struct ckpt_dstream_rdd *r);
CKPT_API int ckpt_dstream_rdds(struct ckpt *c, ckpt_dstream_rdd_fn cb,
	void *arg, struct ckpt_error *err);

/* ------------------------------------------------------------------ */
/* Native checkpoints: schema, values, writer                           */
/* ------------------------------------------------------------------ */

/*
 * Value types of the native typed encoding (ckpt-format(5)).  A schema
 * is written as text, e.g. "string", "int64",
 * "struct<count:int64,last_seen:timestamp,actions:list<string>>".
 */
enum ckpt_type {
	CKPT_T_NULL = 0, CKPT_T_BOOL = 1, CKPT_T_INT64 = 2,
	CKPT_T_DOUBLE = 3, CKPT_T_STRING = 4, CKPT_T_BYTES = 5,
	CKPT_T_TIMESTAMP = 6, CKPT_T_LIST = 7, CKPT_T_STRUCT = 8
};
struct ckpt_schema;
CKPT_API int ckpt_schema_parse(const char *text, struct ckpt_schema **out,
	struct ckpt_error *err);
CKPT_API void ckpt_schema_free(struct ckpt_schema *s);
/*
 * Decodes one encoded value of schema s to JSON text appended to
 * *buf (realloc'd; *cap its capacity, *len its length).  Malformed
 * input is CKPT_E_FORMAT naming the byte offset.
 */
CKPT_API int ckpt_value_to_json(const struct ckpt_schema *s,
	const uint8_t *data, size_t len, char **buf, size_t *len_out,
	size_t *cap, struct ckpt_error *err);

/*
 * Growable byte buffer used by the encoders.  ckpt_buf_release frees.
 */
struct ckpt_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
CKPT_API int ckpt_buf_reserve(struct ckpt_buf *b, size_t more);
CKPT_API int ckpt_buf_append(struct ckpt_buf *b, const void *p, size_t n);
CKPT_API void ckpt_buf_release(struct ckpt_buf *b);

/*
 * Encoders for the typed value encoding.  A struct is its fields in
 * schema order; a list is a count then its elements.  They return 0 or
 * -1 on allocation failure.
 */
CKPT_API int ckpt_enc_null(struct ckpt_buf *b);
CKPT_API int ckpt_enc_bool(struct ckpt_buf *b, int v);
CKPT_API int ckpt_enc_int64(struct ckpt_buf *b, int64_t v);
CKPT_API int ckpt_enc_double(struct ckpt_buf *b, double v);
CKPT_API int ckpt_enc_string(struct ckpt_buf *b, const char *s, size_t n);
CKPT_API int ckpt_enc_bytes(struct ckpt_buf *b, const void *p, size_t n);
CKPT_API int ckpt_enc_timestamp(struct ckpt_buf *b, int64_t ms);
CKPT_API int ckpt_enc_list_begin(struct ckpt_buf *b, uint64_t count);
CKPT_API int ckpt_enc_struct_begin(struct ckpt_buf *b, unsigned nfields);

/* Matching decoders: each consumes from *p (advanced), bounded by end. */
struct ckpt_dec {
	const uint8_t *p;
	const uint8_t *end;
	const uint8_t *start;	/* for error offsets */
};
CKPT_API int ckpt_dec_int64(struct ckpt_dec *d, int64_t *v,
	struct ckpt_error *err);
CKPT_API int ckpt_dec_double(struct ckpt_dec *d, double *v,
	struct ckpt_error *err);
CKPT_API int ckpt_dec_bool(struct ckpt_dec *d, int *v,
	struct ckpt_error *err);
CKPT_API int ckpt_dec_string(struct ckpt_dec *d, const char **s, size_t *n,
	struct ckpt_error *err);
CKPT_API int ckpt_dec_timestamp(struct ckpt_dec *d, int64_t *ms,
	struct ckpt_error *err);
CKPT_API int ckpt_dec_list_begin(struct ckpt_dec *d, uint64_t *count,
	struct ckpt_error *err);
CKPT_API int ckpt_dec_struct_begin(struct ckpt_dec *d, unsigned *nfields,
	struct ckpt_error *err);
/* Skips one value whatever its type. */
CKPT_API int ckpt_dec_skip(struct ckpt_dec *d, struct ckpt_error *err);

/* Description of a native checkpoint's job, stored in its metadata. */
#define CKPT_MAX_OPERATORS 16
struct ckpt_op_desc {
	const char *name;		/* "counts" */
	const char *type;		/* "reduceByKey", "window", "session" */
	int partitions;
	const char *key_schema;		/* schema text, e.g. "string" */
	const char *value_schema;
};
struct ckpt_job_desc {
	const char *job;		/* "wordcount" */
	const char *id;			/* lineage id (uuid-like); NULL = new */
	const char *fingerprint;	/* operator-graph fingerprint */
	const char *config_json;	/* JSON object text of the config */
	int format_version;		/* 1 (snapshots only) or 2 (deltas) */
	int snapshot_every;		/* v2: full snapshot every N ckpts */
	int nops;
	struct ckpt_op_desc ops[CKPT_MAX_OPERATORS];
	const char *lock_what;		/* lock holder's command; NULL:
					   "ckpt <job>" */
};

/*
 * The native writer.  It holds the directory's writer lock from open
 * to close.  A batch is:
 *   begin_batch (writes offsets/N durably)
 *   [state_open/put/del/finish per operator partition]
 *   [file(...) for output and other per-batch files]
 *   commit (writes commits/N with its manifest: the commit point).
 * Creating a new directory writes its metadata; opening an existing
 * one checks desc against it (CKPT_E_CONFIG naming what changed).
 */
struct ckpt_nwriter;
struct ckpt_swriter;

#define CKPT_NW_CREATE     0x1u	/* create if missing */
#define CKPT_NW_NO_CHECK   0x2u	/* skip the job/config compatibility check */
#define CKPT_NW_RAW        0x4u	/* native format: blocks uncompressed */

CKPT_API int ckpt_nwriter_open(struct ckpt_ctx *ctx, const char *url,
	const struct ckpt_job_desc *desc, unsigned flags,
	struct ckpt_nwriter **out, struct ckpt_error *err);
/* Releases the lock; an open batch is abandoned (not committed). */
CKPT_API void ckpt_nwriter_close(struct ckpt_nwriter *w);
CKPT_API struct ckpt_store *ckpt_nwriter_store(struct ckpt_nwriter *w);
CKPT_API const char *ckpt_nwriter_lineage_id(const struct ckpt_nwriter *w);

/* offsets_json: JSON object text describing the input this batch covers */
CKPT_API int ckpt_nwriter_begin_batch(struct ckpt_nwriter *w, int64_t batch,
	int64_t time_ms, const char *offsets_json, struct ckpt_error *err);

/*
 * A state file for (op, partition) at the current batch: a snapshot
 * (full state) or a delta (changes since the previous state checkpoint,
 * format version 2 only).  Keys must be added in strictly ascending
 * bytewise order; put replaces, del writes a tombstone (delta only).
 */
enum ckpt_state_kind { CKPT_STATE_SNAPSHOT = 0, CKPT_STATE_DELTA = 1 };
CKPT_API int ckpt_nwriter_state_open(struct ckpt_nwriter *w, int op,
	int partition, enum ckpt_state_kind kind, struct ckpt_swriter **out,
	struct ckpt_error *err);
CKPT_API int ckpt_swriter_put(struct ckpt_swriter *sw, const void *key,
	size_t klen, const void *val, size_t vlen, struct ckpt_error *err);
CKPT_API int ckpt_swriter_del(struct ckpt_swriter *sw, const void *key,
	size_t klen, struct ckpt_error *err);
/*
 * Finishes (footer) and frees sw, success or not.  The file lands
 * (durably, under its name) with the batch's other state files, at the
 * first file() or at commit, or when the writer closes.
 */
CKPT_API int ckpt_swriter_finish(struct ckpt_swriter *sw,
	struct ckpt_error *err);

/*
 * Lands the state files finished so far now (fsync, rename, directory
 * fsync), instead of at the batch's first file() or commit: a writer
 * thread calls it so the syncing happens on that thread.  Files
 * written after it land at the commit, as usual.
 */
CKPT_API int ckpt_nwriter_land_state(struct ckpt_nwriter *w,
	struct ckpt_error *err);

/* Any other file of this batch (output/N, ...): listed in the manifest
 * and landed durably, with the batch's other files, before the commit
 * entry is written (or when the writer closes). */
CKPT_API int ckpt_nwriter_file(struct ckpt_nwriter *w, const char *path,
	const void *data, size_t len, struct ckpt_error *err);

/*
 * Writes commits/N (conditional create) with the manifest of every file
 * this batch wrote and extra_json (object text or NULL) merged in.
 */
CKPT_API int ckpt_nwriter_commit(struct ckpt_nwriter *w,
	const char *extra_json, struct ckpt_error *err);

/* ---- native reader helpers (engine recovery, migrate, diff) ---- */

/*
 * The newest state checkpoint usable for a restart at or before batch
 * (CKPT_NONE = the restart point): its batch id, or CKPT_NONE when the
 * job has no state checkpoint yet.
 */
CKPT_API int ckpt_native_state_base(struct ckpt *c, int64_t batch,
	int64_t *state_batch, struct ckpt_error *err);
/* The job description stored in metadata (strings owned by c). */
CKPT_API int ckpt_native_job(struct ckpt *c, struct ckpt_job_desc *out,
	struct ckpt_error *err);

/* ---- native format extras (lib/format/fmt_native*.c, codec_value.c) ---- */

/*
 * The newest committed state batch the writer builds on (CKPT_NONE
 * before the first state checkpoint): deltas are relative to it.
 */
CKPT_API int ckpt_nwriter_state_batch(const struct ckpt_nwriter *w,
	int64_t *batch);
/*
 * Reads the payload of a small framed native file (offsets/N, commits/N,
 * meta/N, output/N and other batch files) after checking every block
 * and the footer: malloc'd, NUL-terminated, caller frees.
 */
CKPT_API int ckpt_native_read_file(struct ckpt *c, const char *path,
	char **data, size_t *len, struct ckpt_error *err);
/* Peak block-buffer bytes a state iterator has held (tests). */
CKPT_API uint64_t ckpt_state_iter_mem(const struct ckpt_state_iter *it);
/* The root type of a schema (enum ckpt_type), -1 for NULL. */
CKPT_API int ckpt_schema_type(const struct ckpt_schema *s);
/* The next value's type tag (enum ckpt_type), -1 at the end. */
CKPT_API int ckpt_dec_type(const struct ckpt_dec *d);
/*
 * Checks that data[0..len) is exactly one well-formed value of schema s:
 * what ckpt_value_to_json checks, without rendering (verify's fast path).
 */
CKPT_API int ckpt_value_check(const struct ckpt_schema *s,
	const uint8_t *data, size_t len, struct ckpt_error *err);

/* ------------------------------------------------------------------ */
/* Fault injection and crash points (tests; free when off)              */
/* ------------------------------------------------------------------ */

/*
 * Named crash points in the engine and the commit protocol, enabled at
 * run time by CKPT_CRASH_POINT=name[:occurrence] in the environment
 * (read once by ckpt_ctx_new).  When the named point is reached for the
 * occurrence-th time the process kills itself with SIGKILL, as a crash
 * would.  I/O faults: CKPT_FAULT=op:errno[:occurrence] where op is
 * write|fsync|rename|link|mkdir|unlink and errno ENOSPC|EIO|SHORT (SHORT:
 * write only, half the bytes land, then ENOSPC).  Only the occurrence-th
 * matching call fails (default 1).  A malformed value makes ckpt_ctx_new
 * fail with CKPT_E_USAGE; an unknown crash point name too.
 * ckpt_crash_point() is a no-op when nothing is armed.
 */
CKPT_API void ckpt_crash_point(struct ckpt_ctx *ctx, const char *name);
/* NULL-terminated list of every crash point name. */
CKPT_API const char *const *ckpt_crash_point_names(void);
/* One-line description of a crash point; NULL for an unknown name. */
CKPT_API const char *ckpt_crash_point_desc(const char *name);

/* ------------------------------------------------------------------ */
/* diff / prune / migrate (lib/ops)                                     */
/* ------------------------------------------------------------------ */

/*
 * diff: compares batch from_batch of a with batch to_batch of b (a and
 * b may be the same checkpoint).  Differences arrive at cb in order:
 * metadata fields, offsets fields, then state per operator/partition
 * in key order.  Both sides are streamed; memory is bounded by blocks.
 */
enum ckpt_diff_kind {
	CKPT_DIFF_META = 0,	/* a metadata field (config, schema, ...) */
	CKPT_DIFF_OFFSETS = 1,	/* an offsets field of the compared batches */
	CKPT_DIFF_STATE = 2,	/* one key of one operator partition */
	CKPT_DIFF_PARTITION = 3	/* summary after a partition that differs */
};
struct ckpt_diff_item {
	int kind;		/* enum ckpt_diff_kind */
	char change;		/* '+', '-' or 'M' (0 for PARTITION) */
	const char *field;	/* META/OFFSETS: "config.window_ms" */
	const char *op;		/* STATE/PARTITION: operator name */
	int partition;		/* -1: all (ignore_partitions) */
	const uint8_t *key;	/* STATE: raw key */
	size_t key_len;
	const char *key_json;
	const char *old_json;	/* NULL for '+' */
	const char *new_json;	/* NULL for '-' */
	uint64_t old_bytes;	/* key + value bytes on the a side */
	uint64_t new_bytes;
	/* PARTITION: counts for this partition */
	uint64_t added, removed, modified;
	int lineage;		/* META: a field that differs by nature
				 * between separately created directories
				 * (id, created_ms, history); not counted
				 * unless all_metadata */
};
struct ckpt_diff_opts {
	int64_t from_batch;	/* batch of a; CKPT_NONE = its restart point */
	int64_t to_batch;	/* batch of b; CKPT_NONE = its restart point */
	const char *op;		/* only this operator (name or index), NULL all */
	const char *key;	/* only this key (JSON text, string or raw) */
	uint64_t limit;		/* report at most this many keys, 0 = all */
	int no_state;		/* compare metadata and offsets only */
	int ignore_partitions;	/* compare each operator's keys across
				 * all its partitions (partition -1) */
	int all_metadata;	/* count lineage fields (id, created_ms,
				 * history) as differences too */
};
struct ckpt_diff_stats {
	int64_t from_batch, to_batch;	/* the batches compared */
	int64_t from_version, to_version;	/* their state versions */
	uint64_t meta;		/* metadata fields that differ */
	uint64_t offsets;	/* offsets fields that differ */
	uint64_t added, removed, modified;	/* keys */
	uint64_t bytes_added, bytes_removed;	/* key+value bytes */
	uint64_t bytes_modified_old, bytes_modified_new;
	uint64_t keys_a, keys_b;	/* keys compared on each side */
	uint64_t partitions;	/* partitions compared */
	uint64_t partitions_differ;
	uint64_t shown;		/* STATE items passed to cb */
	int truncated;		/* --limit hid some keys */
	uint64_t lineage;	/* lineage fields that differ, reported
				 * but not counted in meta (see opts) */
};
typedef int (*ckpt_diff_fn)(void *arg, const struct ckpt_diff_item *it);
/*
 * Returns CKPT_OK when the comparison ran (identical or not: see
 * stats; ckpt_diff_differs() says which).  cb returns non-zero to stop.
 */
CKPT_API int ckpt_diff(struct ckpt *a, struct ckpt *b,
	const struct ckpt_diff_opts *o, ckpt_diff_fn cb, void *arg,
	struct ckpt_diff_stats *stats, struct ckpt_error *err);
CKPT_API int ckpt_diff_differs(const struct ckpt_diff_stats *s);
/*
 * The two newest committed batches of c (*older, *newer), for
 * `diff PATH` with one path; with one committed batch, it and the
 * newest (planned) batch after it; else CKPT_E_NOTFOUND.
 */
CKPT_API int ckpt_diff_default_batches(struct ckpt *c, int64_t *older,
	int64_t *newer, struct ckpt_error *err);

/*
 * prune: removes what no kept batch needs.  Kept: the restart point,
 * the newest keep_last committed batches, batches within keep_within_ms
 * of the newest batch's time, uncommitted batches newer than the
 * restart point (unless discard_uncommitted), and everything restoring
 * any of them needs.  Removed: older batches, temp files, orphaned
 * state, uncommitted batches older than the restart point.  Takes the
 * writer lock (CKPT_E_LOCKED) unless dry_run.  Deletes commit entries
 * before anything else, so an interrupted prune never harms the
 * restart point; running it again finishes the job.
 */
struct ckpt_prune_opts {
	int64_t keep_last;	/* batches; -1 = no such rule */
	int64_t keep_within_ms;	/* -1 = no such rule */
	int discard_uncommitted;
	int dry_run;		/* report only, change nothing */
};
enum ckpt_prune_what {
	CKPT_PRUNE_FILE = 0,	/* a file removed (or, dry run, to remove) */
	CKPT_PRUNE_KEPT = 1	/* a kept batch and why */
};
struct ckpt_prune_item {
	int what;		/* enum ckpt_prune_what */
	const char *path;	/* FILE */
	int role;		/* FILE: enum ckpt_file_role */
	int64_t batch;		/* batch (or state version); CKPT_NONE */
	uint64_t bytes;		/* FILE: size */
	const char *reason;	/* why removed / why kept */
};
struct ckpt_prune_stats {
	int64_t restart_point;	/* CKPT_NONE if none */
	int64_t oldest_kept;	/* oldest batch kept, CKPT_NONE */
	uint64_t batches_kept;
	uint64_t batches_removed;
	uint64_t files_removed;	/* or, dry run, to remove */
	uint64_t bytes_freed;
	uint64_t files_kept;
	uint64_t bytes_kept;
};
typedef int (*ckpt_prune_fn)(void *arg, const struct ckpt_prune_item *it);
/*
 * Prunes the checkpoint at url.  file_cb gets every file removed (or
 * to remove), kept_cb every kept batch; either may be NULL.
 */
CKPT_API int ckpt_prune(struct ckpt_ctx *ctx, const char *url,
	const struct ckpt_prune_opts *o, ckpt_prune_fn file_cb,
	ckpt_prune_fn kept_cb, void *arg, struct ckpt_prune_stats *stats,
	struct ckpt_error *err);

/*
 * migrate: named migrations of a native checkpoint.  The result is
 * written to a new directory (dest, or a temp sibling of url when in
 * place), verified with --read-state, and only then, in place, swapped
 * with the original.  Every migration appends an entry to the
 * metadata's "history".  Without execute nothing is written and cb
 * receives the planned changes.
 */
struct ckpt_migration {
	const char *name;	/* "format", "repartition", ... */
	const char *args;	/* "--to-version N" */
	const char *summary;	/* one line */
};
/* The migrations, terminated by an entry whose name is NULL. */
CKPT_API const struct ckpt_migration *ckpt_migrations(void);

enum ckpt_offsets_reset {
	CKPT_RESET_NONE = 0, CKPT_RESET_EARLIEST, CKPT_RESET_LATEST,
	CKPT_RESET_TO_OFFSET, CKPT_RESET_SHIFT_BY, CKPT_RESET_TO_TIME
};
struct ckpt_migrate_opts {
	const char *migration;	/* a name from ckpt_migrations() */
	const char *dest;	/* --to DEST; NULL = in place */
	int execute;		/* 0 = preview only */
	int to_version;		/* format */
	int partitions;		/* repartition */
	const char *old_name;	/* rename-operator */
	const char *new_name;
	int reset;		/* set-offsets: enum ckpt_offsets_reset */
	const char *source;	/* --to-offset SOURCE=N: SOURCE (NULL all) */
	int64_t value;		/* offset, shift, or time in ms */
	const char *input;	/* set-offsets: the job's input file, for
				 * positions only it can tell (latest,
				 * time, line boundaries) */
};
struct ckpt_migrate_item {
	const char *what;	/* "metadata", "state", "offsets", "batch" */
	const char *detail;	/* one line, e.g. "format_version 1 -> 2" */
};
struct ckpt_migrate_result {
	char dest[1024];	/* where the result is (url) */
	int in_place;
	int64_t batches;	/* batches written */
	int64_t state_files;	/* state files written */
	uint64_t records;	/* state records written */
	int64_t new_batch;	/* set-offsets: the planned batch, CKPT_NONE */
};
typedef int (*ckpt_migrate_fn)(void *arg, const struct ckpt_migrate_item *it);
CKPT_API int ckpt_migrate(struct ckpt_ctx *ctx, const char *url,
	const struct ckpt_migrate_opts *o, ckpt_migrate_fn cb, void *arg,
	struct ckpt_migrate_result *res, struct ckpt_error *err);

/* ---- engine section: owned by lib/engine (see ckpt_engine.h) ---- */

/*
 * The embedded micro-batch engine (`ckpt run`, DESIGN.md section 4).
 * ckpt_run() runs a job on a source into a native checkpoint directory,
 * recovering from it when it exists (getOrCreate), until the input is
 * exhausted, max_batches ran or *stop becomes non-zero (then it
 * finishes the batch in flight, checkpoints, and returns CKPT_OK with
 * result.stopped set).  Parameters left at 0 take the directory's value
 * when it exists, else the job's default; a given value that differs
 * from the directory's fails with CKPT_E_CONFIG naming the change.
 */
enum ckpt_run_source { CKPT_SRC_NONE = 0, CKPT_SRC_FILE, CKPT_SRC_GENERATOR,
	CKPT_SRC_SOCKET };

/* Per-batch metrics, handed to on_metrics after each batch. */
struct ckpt_run_metrics {
	int64_t batch;
	int64_t batch_time_ms;		/* the batch's (logical) time */
	uint64_t records_in;		/* lines read */
	uint64_t records_out;		/* output lines */
	uint64_t malformed;		/* malformed lines skipped */
	int64_t scheduling_delay_ms;
	int64_t processing_delay_ms;
	int64_t checkpoint_ms;		/* -1: no state checkpoint here */
	uint64_t checkpoint_bytes;	/* state bytes written here */
	uint64_t dir_bytes;		/* checkpoint directory size */
	uint64_t state_keys;		/* live keys after the batch */
	int replayed;			/* recomputed during recovery */
	const char *checkpoint_kind;	/* "snapshot", "delta" or NULL */
};

struct ckpt_run_opts {
	const char *job;		/* "wordcount", "window", "session" */
	const char *checkpoint;		/* directory URL */
	int source;			/* enum ckpt_run_source */
	const char *input;		/* file or directory (FILE) */
	int follow;			/* FILE: wait for more lines */
	const char *socket;		/* "HOST:PORT" (SOCKET) */
	uint64_t wal_segment_bytes;	/* SOCKET: WAL segment size (0: 16 MiB) */
	/* GENERATOR; 0 = default */
	uint64_t seed, gen_keys, gen_events, gen_rate;
	int gen_skew_pct, gen_late_pct;	/* -1 = default */
	int64_t gen_late_ms, gen_gap_ms, gen_start_ms;
	uint64_t gen_gap_every;
	/* job parameters (ms); 0 = the directory's or the job's default */
	int64_t batch_ms, window_ms, slide_ms, timeout_ms;
	int64_t max_actions, rate;
	int partitions;
	int64_t checkpoint_batches;	/* state checkpoint every N batches */
	int64_t checkpoint_ms;		/* or every D (multiple of batch) */
	int snapshot_every;
	int format_version;
	int strict;			/* a malformed line is an error */
	int64_t max_batches;		/* stop after N new batches (0 = no) */
	int64_t idle_flush_ms;		/* --follow: close a batch after idle */
	volatile int *stop;		/* set from a signal handler */
	/* callbacks (any may be NULL); arg is cb_arg */
	void (*on_metrics)(void *arg, const struct ckpt_run_metrics *m);
	void (*on_warning)(void *arg, const char *msg);
	/* each newly committed batch's output (or a dumped input line) */
	void (*on_output)(void *arg, int64_t batch, const void *data,
		size_t len);
	void *cb_arg;
	int dump_input;			/* only hand the source's lines out */
	int sync_checkpoint;		/* no background checkpoint writer */
	/*
	 * Thread placement (Linux): 0 keeps the writer threads off the
	 * engine's CPU; 1 also keeps the engine's thread on its CPU;
	 * -1 leaves it all to the scheduler.
	 */
	int pin_threads;
};

struct ckpt_run_result {
	int64_t first_new_batch;	/* CKPT_NONE when none ran */
	int64_t last_batch;		/* newest committed batch */
	int64_t batches_run;		/* batches committed by this run */
	int64_t batches_replayed;	/* recomputed during recovery */
	uint64_t records_in;
	uint64_t malformed;
	int resumed;			/* the directory existed */
	int stopped;			/* *stop ended the run */
	int pinned_cpu;			/* the engine's CPU, -1: not pinned */
};

CKPT_API void ckpt_run_opts_init(struct ckpt_run_opts *o);
CKPT_API int ckpt_run(struct ckpt_ctx *ctx, const struct ckpt_run_opts *o,
	struct ckpt_run_result *res, struct ckpt_error *err);

/* A job and its defaults, for `ckpt run --list`. */
struct ckpt_job_info {
	const char *name;
	const char *summary;
	const char *input;		/* input line format */
	const char *output;		/* output line format */
	int64_t batch_ms, window_ms, slide_ms, timeout_ms;	/* 0: unused */
	int64_t max_actions, rate;	/* 0: unused */
	int partitions;
	int64_t checkpoint_batches;
	int snapshot_every;
	int format_version;
};
/* Number of jobs; ckpt_job_get fills *out for index i (0-based). */
CKPT_API int ckpt_job_count(void);
CKPT_API int ckpt_job_get(int i, struct ckpt_job_info *out);

/*
 * Parses a duration: a number with a unit ms, s, m, h or d ("500ms",
 * "30s", "10m"); a bare number is seconds.  Returns 0, or -1 when
 * malformed, negative or overflowing.
 */
CKPT_API int ckpt_duration_parse(const char *s, int64_t *ms);
/* Formats ms as the shortest exact duration ("30s", "10m", "1500ms"). */
CKPT_API void ckpt_duration_format(int64_t ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* CKPT_H */
