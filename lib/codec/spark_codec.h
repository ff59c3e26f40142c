/*
 * spark_codec.h - private decoders for Apache Spark state bytes.
 *
 * Three small codecs used by the Spark format driver (lib/format/
 * fmt_spark*.c) and its tests, each citing docs/spark-checkpoint-format.md:
 *
 *  - codec_lz4.c: lz4-java LZ4BlockOutputStream framing (section 2.2),
 *    streamed one block at a time from a read callback, every block's
 *    masked XXH32 checked; and the HDFS state-store record stream on top
 *    of it (section 2.3);
 *  - codec_sparkschema.c: state schema files v1/v2/v3 (section 4.1) and
 *    Spark DataType JSON into a struct spark_type tree;
 *  - codec_unsaferow.c: UnsafeRow bytes to JSON through a spark_type
 *    (section 3), strictly bounds-checked.
 *
 * Nothing here knows about directories; paths are only used in messages.
 */
#ifndef CKPT_SPARK_CODEC_H
#define CKPT_SPARK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "../ckpt.h"

/*
 * Appends n bytes to b (growing it); 0 or -1 when out of memory.  Kept
 * here so the codecs depend on nothing but libc, lz4, xxhash and cJSON.
 */
int spark_buf_put(struct ckpt_buf *b, const void *p, size_t n);
int spark_buf_puts(struct ckpt_buf *b, const char *s);
/* Makes b a NUL-terminated string (the NUL is not counted in len). */
int spark_buf_cstr(struct ckpt_buf *b);

/* ---- lz4-java block stream (section 2.2) ---- */

#define SPARK_LZ4_MAGIC "LZ4Block"
#define SPARK_LZ4_HEADER 21
#define SPARK_LZ4_MAX_LEVEL 15	/* blocks up to 2^25 bytes */
#define SPARK_LZ4_SEED 0x9747B28Cu

/* Pulls up to len bytes; *got < len only at end of input. */
typedef int (*spark_read_fn)(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err);

/* One block as found in the stream (for hex dumps and verify). */
struct spark_lz4_block {
	uint64_t offset;	/* of the header in the file */
	int method;		/* 0x10 raw, 0x20 lz4 */
	int level;
	uint32_t clen, olen;
	uint32_t checksum;	/* stored */
	int is_end;		/* the end-of-stream block */
};

struct spark_lz4 {
	spark_read_fn read;
	void *arg;
	const char *path;	/* for messages; not owned */
	uint64_t in_off;	/* bytes consumed from the input */
	uint8_t *cbuf, *obuf;	/* one compressed and one decoded block */
	size_t ccap, ocap;
	size_t olen, opos;	/* decoded bytes of the current block */
	int state;		/* 0 in stream, 1 after end block, 2 eof */
	uint64_t blocks;	/* data blocks decoded */
	uint64_t out_total;	/* decoded bytes handed out so far */
	struct spark_lz4_block last;
};

void spark_lz4_init(struct spark_lz4 *z, spark_read_fn fn, void *arg,
	const char *path);
void spark_lz4_release(struct spark_lz4 *z);
/*
 * Decodes the next block (checksum verified) into z->obuf and describes
 * it in *b.  Returns CKPT_OK, CKPT_EOF at a clean end of input (after an
 * end block), or CKPT_FAILED (CKPT_E_FORMAT / CKPT_E_CHECKSUM naming the
 * path and byte offset).
 */
int spark_lz4_next_block(struct spark_lz4 *z, struct spark_lz4_block *b,
	struct ckpt_error *err);
/* Reads decoded bytes; *got < len only at the end of the stream. */
int spark_lz4_read(struct spark_lz4 *z, void *buf, size_t len, size_t *got,
	struct ckpt_error *err);
/* Decodes a whole in-memory buffer (tests, fuzzing): callback over it. */
struct spark_membuf {
	const uint8_t *p;
	size_t len, pos;
};
int spark_membuf_read(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err);

/* ---- state store record stream (section 2.3) ---- */

#define SPARK_REC_MAX (64u << 20)	/* a key or value larger is corrupt */

enum spark_rec_kind { SPARK_REC_PUT = 0, SPARK_REC_DELETE = 1 };

struct spark_rec_reader {
	struct spark_lz4 z;
	uint8_t *key, *val;
	size_t kcap, vcap;
	uint64_t records;
	int done;
};

struct spark_rec {
	int kind;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;	/* NULL for a delete */
	size_t value_len;	/* as stored (may not be a multiple of 8) */
	uint64_t offset;	/* of the record in the decoded stream */
};

void spark_rec_init(struct spark_rec_reader *r, spark_read_fn fn, void *arg,
	const char *path);
void spark_rec_release(struct spark_rec_reader *r);
/*
 * Next record: CKPT_OK, CKPT_EOF after the -1 end marker followed by the
 * end of the LZ4 stream, or CKPT_FAILED.  Pointers stay valid until the
 * next call.  allow_delete 0 (snapshots) makes a delete a format error.
 */
int spark_rec_next(struct spark_rec_reader *r, int allow_delete,
	struct spark_rec *out, struct ckpt_error *err);

/* ---- Spark data types (section 3, 4.1) ---- */

enum spark_tkind {
	SPARK_T_VOID = 0, SPARK_T_BOOLEAN, SPARK_T_BYTE, SPARK_T_SHORT,
	SPARK_T_INT, SPARK_T_LONG, SPARK_T_FLOAT, SPARK_T_DOUBLE,
	SPARK_T_DATE, SPARK_T_TIMESTAMP, SPARK_T_TIMESTAMP_NTZ,
	SPARK_T_DECIMAL, SPARK_T_STRING, SPARK_T_BINARY, SPARK_T_INTERVAL,
	SPARK_T_STRUCT, SPARK_T_ARRAY, SPARK_T_MAP
};

struct spark_type;
struct spark_field {
	char *name;
	struct spark_type *type;
};
struct spark_type {
	int kind;
	int precision, scale;		/* decimal */
	struct spark_type *elem;	/* array element, map key */
	struct spark_type *value;	/* map value */
	int nfields;
	struct spark_field *fields;	/* struct */
};

/* Parses Spark DataType JSON text (a struct, usually). */
int spark_type_parse(const char *json, size_t len, struct spark_type **out,
	struct ckpt_error *err);
void spark_type_free(struct spark_type *t);
/* Short form "struct<name:string,sum:double>" appended to b. */
int spark_type_describe(const struct spark_type *t, struct ckpt_buf *b);

/* Decoded schema file: key and value DataType JSON (malloc'd). */
struct spark_schema_file {
	int version;		/* 1, 2 or 3 */
	char *key_json;
	char *value_json;
	char *store;		/* v3: first column family, else NULL */
	int entries;		/* v3 entry count, else 1 */
};
/* Parses a whole schema file held in memory (section 4.1). */
int spark_schema_file_parse(const uint8_t *p, size_t len, const char *path,
	struct spark_schema_file *out, struct ckpt_error *err);
void spark_schema_file_release(struct spark_schema_file *s);

/* ---- UnsafeRow (section 3) ---- */

/*
 * Appends the JSON of an UnsafeRow of struct type t (p, len) to b:
 * an object of the fields in order (a repeated field name gets "#k"
 * appended, k its position, so the object stays valid JSON).  Dates are
 * "YYYY-MM-DD", timestamps ISO 8601 UTC, binary base16 strings,
 * decimals exact numbers, floats the shortest text that round-trips.
 * Any offset or size outside the row is CKPT_E_FORMAT naming what.
 */
int spark_row_to_json(const struct spark_type *t, const uint8_t *p,
	size_t len, struct ckpt_buf *b, struct ckpt_error *err);
/*
 * The same walk and the same errors, without building any text (verify:
 * every offset, size and nested structure is still checked).
 */
int spark_row_check(const struct spark_type *t, const uint8_t *p,
	size_t len, struct ckpt_error *err);
/* Bytes as {"hex":"..."}, the fallback where no schema exists. */
int spark_hex_json(const uint8_t *p, size_t len, struct ckpt_buf *b);
/* Shortest round-trip text of a float / double (section 10 item 16). */
void spark_fmt_float(float f, char *out, size_t n);
void spark_fmt_double(double d, char *out, size_t n);
/* Appends s as a JSON string literal (escaped) to b. */
int spark_json_str(struct ckpt_buf *b, const char *s, size_t n);

#endif /* CKPT_SPARK_CODEC_H */
