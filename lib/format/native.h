/*
 * native.h - ckpt's own checkpoint format (private to lib/format).
 *
 * The byte layout is specified in ckpt-format(5); this header names its
 * constants and declares the pieces the native driver is split into:
 *
 *   fmt_native_io.c      framed files: header, blocks, footer; a block
 *                        writer and a streaming block/record reader
 *   fmt_native_writer.c  ckpt_nwriter_* / ckpt_swriter_* (the writer)
 *   fmt_native.c         open, metadata, restart point, info, batches,
 *                        operators (the read side of the driver)
 *   fmt_native_state.c   state versions: the k-way merge iterator
 *   fmt_native_verify.c  verify, file roles (files_walk), regions
 *
 * Nothing here is public; cmd/ sees the format only through ckpt.h.
 */
#ifndef CKPT_NATIVE_H
#define CKPT_NATIVE_H

#include <stdint.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../ckpt.h"
#include "fmt.h"

/* ---- bytes (ckpt-format(5), FILE LAYOUT) ---- */

#define NAT_MAGIC		"\x89" "CKPT\r\n\x1a"
#define NAT_FOOTER_MAGIC	"\x89" "CKPTEND"
#define NAT_MAGIC_LEN		8
#define NAT_HEADER_SIZE		16
#define NAT_BLOCK_HEADER_SIZE	24
#define NAT_FOOTER_SIZE		32

#define NAT_VERSION_MIN		1
#define NAT_VERSION_MAX		2

#define NAT_BLOCK_TARGET	(64u * 1024u)		/* raw bytes */
#define NAT_RECORD_MAX		(64u * 1024u * 1024u)	/* key + value */
/* A record of NAT_RECORD_MAX plus its two varints fits a block. */
#define NAT_BLOCK_RAW_MAX	(NAT_RECORD_MAX + 32u)
/* Stored (compressed) bytes never exceed zstd's bound of the above. */
#define NAT_BLOCK_STORED_MAX \
	(NAT_BLOCK_RAW_MAX + NAT_BLOCK_RAW_MAX / 128u + 1024u)
/* meta, offsets and commit files are read whole, up to this size. */
#define NAT_SMALL_MAX		(64u * 1024u * 1024u)
/* Files in one merge (a snapshot and its deltas). */
#define NAT_CHAIN_MAX		4096

enum nat_kind {
	NAT_K_META = 1,
	NAT_K_OFFSETS = 2,
	NAT_K_COMMIT = 3,
	NAT_K_SNAPSHOT = 4,
	NAT_K_DELTA = 5,
	NAT_K_BLOB = 6
};
#define NAT_K_MAX 6

enum nat_codec { NAT_C_RAW = 0, NAT_C_ZSTD = 1 };

/* Name of a kind ("meta", "snapshot", ...) or "?" */
const char *nat_kind_name(int kind);

/* ---- paths ---- */

#define NAT_PATH_MAX 320
#define NAT_DIGITS 20

/* "offsets/%020lld" etc.; returns 0, or -1 if it does not fit. */
int nat_path_batch(char *buf, size_t cap, const char *dir, int64_t batch);
int nat_path_state(char *buf, size_t cap, int op, int partition,
	int64_t version, int kind);
/* Parses a 20-digit zero-padded name; returns 0 and *v, or -1. */
int nat_parse_seq(const char *name, int64_t *v);
/* Parses "<20 digits>.snapshot|.delta"; *kind NAT_K_SNAPSHOT/DELTA. */
int nat_parse_state_name(const char *name, int64_t *v, int *kind);
/* Temp files of the store (".name.XXXX.tmp"). */
int nat_is_temp_name(const char *name);

/* ---- framed file writer (fmt_native_io.c) ---- */

struct nat_fwriter;
struct ckpt_zstd;

/*
 * Creates a framed file of the given kind through ckpt_store_create
 * (flags CKPT_WRITE_EXCL for commits).  codec is NAT_C_RAW or
 * NAT_C_ZSTD.
 */
int nat_fw_open(struct ckpt_store *st, const char *path, unsigned flags,
	int version, int kind, int codec, struct nat_fwriter **out,
	struct ckpt_error *err);
/*
 * A writer of the same bytes held in memory until nat_fw_attach gives
 * it its file (path as for nat_fw_open): a file can be compressed
 * ahead, on another thread, and written later where the commit
 * protocol wants it.  Needs no store.
 */
int nat_fw_open_mem(const char *path, int version, int kind, int codec,
	struct nat_fwriter **out, struct ckpt_error *err);
/*
 * Creates the file of a writer from nat_fw_open_mem and writes what it
 * holds; then it goes on as one from nat_fw_open.  On failure the
 * caller aborts fw.
 */
int nat_fw_attach(struct nat_fwriter *fw, struct ckpt_store *st,
	unsigned flags, struct ckpt_error *err);
/* Compresses and writes the open block now (the bytes are the same as
 * when the finish does it). */
int nat_fw_flush(struct nat_fwriter *fw, struct ckpt_error *err);
const char *nat_fw_path(const struct nat_fwriter *fw);
/*
 * Has fw compress with z (a context the caller keeps, e.g. reused over
 * many files: a zstd context is large to set up) instead of one of
 * its own; z must outlive its use.  NULL takes a lent context back
 * (fw makes its own if it needs one again).
 */
void nat_fw_lend_zstd(struct nat_fwriter *fw, struct ckpt_zstd *z);
/*
 * Appends one state record, varint(klen) key varint(tomb ? 0 : vlen +
 * 1) value (ckpt-format(5)), written straight into the open block.
 */
int nat_fw_state_record(struct nat_fwriter *fw, const void *key,
	size_t klen, const void *val, size_t vlen, int tomb,
	struct ckpt_error *err);
/* Appends raw payload bytes counted as no record (blobs). */
int nat_fw_bytes(struct nat_fwriter *fw, const void *p, size_t n,
	struct ckpt_error *err);
struct nat_fw_result {
	uint64_t size;
	uint64_t xxh3;		/* of the whole file, footer included */
	uint64_t records;
	uint64_t blocks;
};
/* Flushes, writes the footer, commits durably, frees fw either way. */
/*
 * Test hook (CKPT_BUG_COMMIT_BEFORE_STATE): like nat_fw_finish but the
 * written file is not committed; *keep gets its open wfile.
 */
int nat_fw_finish_keep(struct nat_fwriter *fw, struct nat_fw_result *res,
	struct ckpt_wfile **keep, struct ckpt_error *err);
int nat_fw_finish(struct nat_fwriter *fw, struct nat_fw_result *res,
	struct ckpt_error *err);
void nat_fw_abort(struct nat_fwriter *fw);
/* Writes a framed file holding text as one raw block. */
int nat_write_small(struct ckpt_store *st, const char *path, unsigned flags,
	int version, int kind, const char *text, size_t len,
	struct nat_fw_result *res, struct ckpt_error *err);

/* ---- framed file reader (fmt_native_io.c) ---- */

struct nat_header {
	int version;
	int kind;
};
struct nat_footer {
	uint64_t records;
	uint64_t blocks;
	uint64_t xxh3;
};

/*
 * Parses the 16-byte header / 32-byte footer at p.  On failure sets
 * why (a message without the path) and returns -1.
 */
int nat_parse_header(const uint8_t *p, struct nat_header *h, char *why,
	size_t whylen);
int nat_parse_footer(const uint8_t *p, struct nat_footer *f, char *why,
	size_t whylen);

/*
 * A streaming reader over one framed file: one block in memory at a
 * time.  Every failure sets err as "cannot read '<path>': <why>" and
 * leaves why and fail_off (the byte offset of the damage) in the reader
 * for verify.
 */
struct nat_freader {
	struct ckpt_store *st;
	struct ckpt_rfile *f;
	char path[NAT_PATH_MAX];
	uint64_t size;
	uint64_t off;		/* next byte to read */
	struct nat_header hdr;
	uint64_t data_end;	/* offset of the footer */

	uint8_t *sbuf;		/* stored bytes of the current block */
	size_t scap;
	uint8_t *rbuf;		/* decompressed bytes */
	size_t rcap;
	const uint8_t *raw;	/* current block payload */
	size_t raw_len;
	size_t pos;		/* record cursor in raw */

	uint64_t blk_off;	/* offset of the current block */
	uint64_t blk_index;	/* 0-based index of the current block */
	uint32_t blk_records;	/* records the block header declares */
	uint32_t blk_seen;	/* records decoded from it so far */
	int blk_codec;
	int record_mode;	/* records are decoded: counts are checked */
	uint64_t blocks;	/* blocks read */
	uint64_t records;	/* records declared by blocks read */
	int done;		/* footer read and checked */
	struct nat_footer foot;
	struct ckpt_zstd *z;	/* zstd context of the file's blocks */
	void *hash;		/* streaming XXH3 of bytes before the footer */
	void *whole;		/* streaming XXH3 of the whole file */
	uint64_t whole_xxh3;	/* valid once done */

	/* for verify */
	char why[CKPT_ERROR_MSG_MAX];
	int64_t fail_off;
	uint64_t peak;		/* peak sbuf + rbuf capacity */
	int fail_kind;
};

/* Opens path, checks the header (kind 0 = any), positions at block 0. */
int nat_fr_open(struct ckpt_store *st, const char *path, int kind,
	struct nat_freader *fr, struct ckpt_error *err);
void nat_fr_close(struct nat_freader *fr);
/*
 * Loads the next block (checksum, decompression); CKPT_EOF once the
 * footer has been read and checked (counts, file checksum).
 */
int nat_fr_next_block(struct nat_freader *fr, struct ckpt_error *err);
/*
 * Next record of a state file: key, value; *vlen_p1 == 0 for a
 * tombstone.  Crosses blocks; CKPT_EOF at the end (footer checked).
 */
int nat_fr_next_record(struct nat_freader *fr, const uint8_t **key,
	size_t *klen, const uint8_t **val, size_t *vlen_p1,
	struct ckpt_error *err);

/*
 * Reads a small framed file (meta, offsets, commit) whole and checks
 * every block and the footer; returns its payload as a NUL-terminated
 * malloc'd string.  kind 0 = any.
 */
int nat_read_small(struct ckpt_store *st, const char *path, int kind,
	char **text, size_t *len, struct nat_header *h,
	struct ckpt_error *err);
/* Same, from bytes in memory (no path I/O); why set on failure. */
int nat_decode_small(const uint8_t *p, size_t n, int kind, char **text,
	size_t *len, struct nat_header *h, char *why, size_t whylen,
	int64_t *fail_off);
/*
 * Structure check: reads header and footer only, against the expected
 * kind and size (0 = any).
 */
int nat_check_ends(struct ckpt_store *st, const char *path, int kind,
	uint64_t size, struct nat_header *h, struct nat_footer *f,
	char *why, size_t whylen, int64_t *fail_off, struct ckpt_error *err);

/* ---- the driver's state (fmt_native.c) ---- */

struct nat_op {
	char *name;
	char *type;
	int partitions;
	char *key_schema_text;
	char *value_schema_text;
	struct ckpt_schema *key_schema;
	struct ckpt_schema *value_schema;
};

struct nat_meta {
	int format_version;
	char *id;
	char *job;
	char *fingerprint;
	char *config_json;	/* object text, "{}" if none */
	int snapshot_every;
	int64_t created_ms;
	int nops;
	struct nat_op ops[CKPT_MAX_OPERATORS];
	char *text;		/* the metadata JSON as stored */
	char path[NAT_PATH_MAX];
};

struct nat_priv {
	struct nat_meta meta;
	int64_t restart;	/* CKPT_NONE if none */
	int64_t restart_state;	/* its state_batch, CKPT_NONE */
	int64_t newest_commit;	/* newest commits/ entry that parses */
	int64_t ncommits;	/* commits/ entries when opened */
	int64_t first_commit, last_commit;	/* their ids, CKPT_NONE */
	char restart_rule[160];
};

/* The driver state of an open native checkpoint. */
struct nat_priv *nat_priv_of(struct ckpt *c);

/* Parses metadata JSON text into m (strings malloc'd). */
int nat_meta_parse(const char *text, const char *path, struct nat_meta *m,
	struct ckpt_error *err);
void nat_meta_release(struct nat_meta *m);
/* Loads the newest meta/<seq> of st into m. */
int nat_meta_load(struct ckpt_store *st, struct nat_meta *m,
	struct ckpt_error *err);

/*
 * A parsed commit entry.  files is the cJSON array of the manifest
 * (owned by root).
 */
struct nat_commit {
	cJSON *root;
	int64_t batch;
	int64_t time_ms;
	int64_t state_batch;	/* CKPT_NONE for null */
	cJSON *files;
};
int nat_commit_load(struct ckpt_store *st, int64_t batch,
	struct nat_commit *cm, struct ckpt_error *err);
int nat_commit_parse(const char *text, const char *path,
	struct nat_commit *cm, struct ckpt_error *err);
void nat_commit_release(struct nat_commit *cm);
/* Checks every manifest file exists with its size; why on failure. */
int nat_commit_files_present(struct ckpt_store *st,
	const struct nat_commit *cm, char *why, size_t whylen,
	struct ckpt_error *err);

/*
 * Finds the restart point: the newest commit that parses and whose
 * manifest files exist with their sizes.  *restart and *state are
 * CKPT_NONE when there is none.
 */
int nat_find_restart(struct ckpt_store *st, int64_t *restart,
	int64_t *state, int64_t *newest_commit, struct ckpt_error *err);

/*
 * Pages through a directory in name order (bounded memory), calling
 * cb for each entry.  cb returns non-zero to stop.  A missing dir is
 * an empty one.
 */
typedef int (*nat_list_fn)(void *arg, const struct ckpt_stat *ent);
int nat_list(struct ckpt_store *st, const char *dir, nat_list_fn cb,
	void *arg, struct ckpt_error *err);

/*
 * Ids of a directory of <seq> files from one unsorted scan (no stat per
 * file; ckpt_store_scan): the max smallest ids in (lo, hi), or with
 * newest the max largest, sorted ascending in v[0..n).  more is 1 when
 * some id in range did not fit.  A missing dir is an empty one.  Memory:
 * max ids.  nat_ids_free releases v.  nat_scan is nat_list unsorted.
 */
struct nat_ids {
	int64_t *v;
	size_t n, cap;
	int more;
	int64_t total;		/* ids in range, kept or not */
	int64_t min, max;	/* of those, CKPT_NONE when none */
};
int nat_ids_scan(struct ckpt_store *st, const char *dir, int64_t lo,
	int64_t hi, size_t max, int newest, struct nat_ids *ids,
	struct ckpt_error *err);
void nat_ids_free(struct nat_ids *ids);
int nat_scan(struct ckpt_store *st, const char *dir, nat_list_fn cb,
	void *arg, struct ckpt_error *err);
/* Ids per page of batch iteration and of the file walk's commit set. */
#define NAT_IDS_PAGE 16384

/*
 * A commit entry's time, files, bytes and whether it wrote state, read
 * from its JSON text without a cJSON tree (fmt_native_quick.c).  0 when
 * text is in the plain subset the writers produce and is exactly what
 * nat_commit_parse accepts for batch; -1 otherwise (then parse in full).
 */
struct nat_quick {
	int64_t time_ms;	/* CKPT_NONE when absent */
	uint64_t files, bytes;
	int has_state;
};
int nat_commit_quick(const char *text, size_t len, int64_t batch,
	struct nat_quick *out);

/* Lowercase hex of an XXH3-64 ("%016llx"). */
void nat_hex64(char out[17], uint64_t v);
int nat_parse_hex64(const char *s, uint64_t *v);

/* Wall-clock milliseconds. */
int64_t nat_now_ms(void);

/* ---- state (fmt_native_state.c) ---- */

int nat_state_open(struct ckpt *c, int op, int partition, int64_t version,
	unsigned flags, void **state, struct ckpt_error *err);
int nat_state_next(struct ckpt *c, void *state, struct ckpt_record *out,
	struct ckpt_error *err);
void nat_state_close(struct ckpt *c, void *state);
uint64_t nat_state_peak(void *state);
/*
 * Live keys of a partition at version (a merge without rendering).
 * partition_get counts this way when the partition's files total at
 * most NAT_COUNT_BUDGET bytes, else reports -1 (unknown).
 */
#define NAT_COUNT_BUDGET (1024u * 1024u)
int nat_state_count(struct ckpt *c, int op, int partition, int64_t version,
	int64_t *n, struct ckpt_error *err);

/* ---- batch files prepared ahead (fmt_native_writer.c) ---- */

/*
 * What the last batch w committed holds, as a reader of its commit
 * entry would add it up: the manifest's files, its state files, and
 * the size of the commit entry itself.  Zeros before any commit.
 */
struct nat_commit_sizes {
	uint64_t files_bytes;
	uint64_t state_bytes;
	uint64_t entry_bytes;
};
void nat_nwriter_last_commit(const struct ckpt_nwriter *w,
	struct nat_commit_sizes *out);

/*
 * Frames and compresses data as the batch file path of writer w (its
 * format version and codec, the only fields read: safe beside the
 * writer's own thread) into a writer held in memory, *out; z is the
 * caller's zstd context (NULL: one of its own).  Then
 * nat_nwriter_file_prepared() on w's thread writes it as
 * ckpt_nwriter_file() would have: same checks, same bytes, same
 * manifest entry.  It takes fw over, failed or not.
 */
int nat_blob_prepare(const struct ckpt_nwriter *w, const char *path,
	struct ckpt_zstd *z, const void *data, size_t len,
	struct nat_fwriter **out, struct ckpt_error *err);
int nat_nwriter_file_prepared(struct ckpt_nwriter *w,
	struct nat_fwriter *fw, struct ckpt_error *err);

/*
 * A state file written ahead in the same way: nat_swriter_open_mem()
 * (any thread; reads only w's metadata) gives a state writer of batch
 * batch held in memory, compressing with z; ckpt_swriter_put/_del
 * fill it; nat_swriter_seal() compresses its last block and drops z.
 * Then on w's thread, with that batch open, nat_swriter_attach()
 * creates its file (the checks of ckpt_nwriter_state_open) and
 * ckpt_swriter_finish() lands it as any other.  One not to be finished
 * (failed, or not attached) is dropped, temp file and all, with
 * nat_swriter_abort().
 */
int nat_swriter_open_mem(const struct ckpt_nwriter *w, int op,
	int partition, int64_t batch, enum ckpt_state_kind kind,
	struct ckpt_zstd *z, struct ckpt_swriter **out,
	struct ckpt_error *err);
int nat_swriter_seal(struct ckpt_swriter *sw, struct ckpt_error *err);
int nat_swriter_attach(struct ckpt_nwriter *w, struct ckpt_swriter *sw,
	struct ckpt_error *err);
void nat_swriter_abort(struct ckpt_swriter *sw);

/* ---- verify, files, regions (fmt_native_verify.c) ---- */

int nat_files_walk(struct ckpt *c, ckpt_file_fn cb, void *arg,
	struct ckpt_error *err);
/* Every file with its size only (role CKPT_F_OTHER): cheap totals. */
int nat_files_walk_raw(struct ckpt *c, ckpt_file_fn cb, void *arg,
	struct ckpt_error *err);
int nat_verify(struct ckpt *c, const struct ckpt_verify_opts *o,
	ckpt_problem_fn cb, void *arg, struct ckpt_verify_stats *stats,
	struct ckpt_error *err);
int nat_file_regions(struct ckpt *c, const char *path, ckpt_region_fn cb,
	void *arg, struct ckpt_error *err);

/* Returns the record count of a decoded value for JSON rendering. */
int nat_record_json(const struct ckpt_schema *s, const uint8_t *p,
	size_t n, char **buf, size_t *len, size_t *cap,
	struct ckpt_error *err);

#endif /* CKPT_NATIVE_H */
