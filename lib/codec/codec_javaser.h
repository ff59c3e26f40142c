/*
 * codec_javaser.h - a bounded walker for Java Object Serialization
 * streams (docs/spark-checkpoint-format.md section 7.2).
 *
 * Spark writes Java serialization in three places a checkpoint reader
 * meets: DStream checkpoint-<ms> files (inside LZ4Block framing), the
 * DStream write-ahead logs (one stream per record), and Spark 2.0
 * offsets/<N> files (CompositeOffset).  No class is ever instantiated:
 * the walker reads the stream tag by tag, keeps the handle table the
 * protocol needs (class descriptors, strings, objects), and reports what
 * it meets as a flat sequence of events to a callback.  A stack of
 * frames in each event says where the value sits (which object, which
 * field, which array index), so a caller can pick out e.g. the
 * `$$millis` J field of a Time object under the field `checkpointTime`.
 *
 * The walker works on a buffer in memory (callers decompress into a
 * buffer bounded by max_bytes first).  Every length is checked against
 * the bytes left, nesting is limited by max_depth, handles by
 * max_handles, work by a budget proportional to the input, and class
 * hierarchies by CKPT_JSER_MAX_HIERARCHY: hostile input ends in a
 * CKPT_E_FORMAT error naming the offset, never a crash or a hang.  The
 * one thing it cannot walk is an externalizable class written without
 * the block-data flag (protocol 1): that is CKPT_E_UNSUPPORTED.
 *
 * Also here: convenience extractors for the two Spark objects ckpt
 * reads (Spark 2.0 CompositeOffset, DStream Checkpoint), implemented in
 * codec_javaser_spark.c.
 */
#ifndef CKPT_CODEC_JAVASER_H
#define CKPT_CODEC_JAVASER_H

#include <stddef.h>
#include <stdint.h>
#include "../ckpt.h"

#define CKPT_JSER_MAGIC0 0xAC
#define CKPT_JSER_MAGIC1 0xED

/* Stream tags (java.io.ObjectStreamConstants). */
enum {
	CKPT_JSER_TC_NULL = 0x70,
	CKPT_JSER_TC_REFERENCE = 0x71,
	CKPT_JSER_TC_CLASSDESC = 0x72,
	CKPT_JSER_TC_OBJECT = 0x73,
	CKPT_JSER_TC_STRING = 0x74,
	CKPT_JSER_TC_ARRAY = 0x75,
	CKPT_JSER_TC_CLASS = 0x76,
	CKPT_JSER_TC_BLOCKDATA = 0x77,
	CKPT_JSER_TC_ENDBLOCKDATA = 0x78,
	CKPT_JSER_TC_RESET = 0x79,
	CKPT_JSER_TC_BLOCKDATALONG = 0x7A,
	CKPT_JSER_TC_EXCEPTION = 0x7B,
	CKPT_JSER_TC_LONGSTRING = 0x7C,
	CKPT_JSER_TC_PROXYCLASSDESC = 0x7D,
	CKPT_JSER_TC_ENUM = 0x7E
};

#define CKPT_JSER_BASE_HANDLE 0x7E0000u
/* Longest superclass chain followed (java.lang.Object excluded). */
#define CKPT_JSER_MAX_HIERARCHY 64

/* Limits; a zero member means "the default". */
struct ckpt_jser_limits {
	unsigned max_depth;	/* nesting of values; default 256 */
	size_t max_handles;	/* default 1 << 20 */
	size_t max_bytes;	/* input size accepted; default 16 MiB */
};

enum ckpt_jser_event_type {
	CKPT_JSER_EV_OBJECT = 1,	/* an object begins: class, handle */
	CKPT_JSER_EV_OBJECT_END,
	CKPT_JSER_EV_ARRAY,		/* an array begins: class, length */
	CKPT_JSER_EV_ARRAY_END,
	CKPT_JSER_EV_PRIM,		/* primitive field or array element */
	CKPT_JSER_EV_BYTES,		/* a whole byte[] (str/len) */
	CKPT_JSER_EV_STRING,		/* new string or reference to one */
	CKPT_JSER_EV_NULL,
	CKPT_JSER_EV_REF,		/* reference to a non-string handle */
	CKPT_JSER_EV_ENUM,		/* class, constant name in str */
	CKPT_JSER_EV_CLASS,		/* a Class object: class */
	CKPT_JSER_EV_BLOCKDATA,		/* raw bytes from writeObject */
	CKPT_JSER_EV_RESET		/* handle table cleared */
};

enum ckpt_jser_frame_kind {
	CKPT_JSER_FR_TOP = 0,		/* top-level contents */
	CKPT_JSER_FR_OBJECT,		/* fields of an object */
	CKPT_JSER_FR_ARRAY,		/* elements of an array */
	CKPT_JSER_FR_ANNOTATION		/* writeObject / class annotation */
};

/*
 * Where a value sits.  frames[0] is the top level; frames[depth-1] the
 * innermost container.  For an object frame, field/field_class name the
 * field being read now (NULL while in writeObject extra data); for an
 * array frame, index is the element being read now.
 */
struct ckpt_jser_frame {
	int kind;			/* enum ckpt_jser_frame_kind */
	const char *class_name;		/* object/array class, or NULL */
	uint32_t handle;		/* its handle, 0 if none */
	const char *field;		/* object frame: current field */
	const char *field_class;	/* the class declaring that field */
	int64_t index;			/* array frame: current element */
	int64_t length;			/* array frame: its length */
};

/*
 * One event.  Strings are NUL-terminated UTF-8 (converted from Java's
 * modified UTF-8; an embedded NUL shows in str_len) and stay valid
 * until the walk returns.
 */
struct ckpt_jser_event {
	int type;			/* enum ckpt_jser_event_type */
	uint64_t offset;		/* stream offset of the tag / value */
	unsigned depth;			/* number of valid frames */
	const struct ckpt_jser_frame *frames;
	const char *field;		/* field this value fills, or NULL */
	int64_t index;			/* array element index, or -1 */
	const char *class_name;		/* OBJECT/ARRAY/ENUM/CLASS/REF */
	uint32_t handle;		/* new or referenced handle */
	char prim;			/* PRIM: B C D F I J S Z */
	int64_t i;			/* PRIM integral value */
	double d;			/* PRIM 'D'/'F' value */
	const char *str;		/* STRING/ENUM text, BYTES/BLOCKDATA */
	size_t str_len;
	int64_t length;			/* ARRAY length */
	int has_long;			/* REF to an object with a J field */
	int64_t ref_long;		/* ... its first J field value */
};

/*
 * Called for each event; return 0 to go on, CKPT_EOF to stop the walk
 * early (the walk then returns CKPT_OK with *consumed not meaningful),
 * or a negative status (err should be set) to fail it.
 */
typedef int (*ckpt_jser_event_fn)(void *arg,
	const struct ckpt_jser_event *ev, struct ckpt_error *err);

/*
 * Walks the stream in buf[0..len): magic, version, then contents until
 * the end of the buffer.  cb may be NULL (validate only).  what names
 * the input in messages ("'checkpoint-1621164555000'").  On success
 * *consumed (may be NULL) is len.  Errors: CKPT_E_FORMAT "<what>: at
 * offset N: <why>", CKPT_E_UNSUPPORTED, CKPT_E_NOMEM.
 */
int ckpt_jser_walk(const void *buf, size_t len,
	const struct ckpt_jser_limits *lim, const char *what,
	ckpt_jser_event_fn cb, void *arg, size_t *consumed,
	struct ckpt_error *err);

/* Non-zero if buf starts with the stream magic AC ED 00 05. */
int ckpt_jser_is_stream(const void *buf, size_t len);

/*
 * Class name of the first top-level object of the stream (the class the
 * file holds), copied into out; "" if the first content is no object.
 * Reads only as far as needed.
 */
int ckpt_jser_top_class(const void *buf, size_t len, char *out,
	size_t outlen, struct ckpt_error *err);

/* ---- Spark 2.0 CompositeOffset (section 10 item 8) ---- */

enum ckpt_jser_offset_kind {
	CKPT_JSER_OFF_NONE = 0,		/* scala.None$: source had no data */
	CKPT_JSER_OFF_LONG = 1,		/* Some(LongOffset(value)) */
	CKPT_JSER_OFF_OTHER = 2		/* Some(<class>): not decoded */
};

struct ckpt_jser_offset {
	int kind;			/* enum ckpt_jser_offset_kind */
	int64_t value;			/* CKPT_JSER_OFF_LONG */
	char class_name[128];		/* the Some's content class */
};

/*
 * Decodes a Java-serialized
 * org.apache.spark.sql.execution.streaming.CompositeOffset: fills up to
 * max entries of out (one per source, in order) and sets *n to the
 * number of sources.  CKPT_E_FORMAT if the stream is no CompositeOffset.
 */
int ckpt_jser_composite_offset(const void *buf, size_t len,
	const char *what, struct ckpt_jser_offset *out, size_t max,
	size_t *n, struct ckpt_error *err);

/* ---- DStream org.apache.spark.streaming.Checkpoint (section 7.2) ---- */

#define CKPT_JSER_MAX_PENDING 64
#define CKPT_JSER_MAX_STREAMS 16
#define CKPT_JSER_MAX_RDD_REFS 16

struct ckpt_jser_conf_pair {
	char *key;
	char *value;
};

/*
 * What a DStream checkpoint file says.  Times are ms; CKPT_NONE when
 * the field was absent.  Strings are "" when absent and truncated to
 * their buffers; arrays keep the first CKPT_JSER_MAX_* entries and
 * count all of them.
 */
struct ckpt_jser_checkpoint {
	int64_t checkpoint_time_ms;
	int64_t checkpoint_duration_ms;
	char checkpoint_dir[1024];
	char framework[256];		/* the application name */
	char master[256];
	int64_t pending_times[CKPT_JSER_MAX_PENDING];
	size_t n_pending;		/* all of them, may exceed the array */
	struct ckpt_jser_conf_pair *conf;	/* malloc'd, n_conf entries */
	size_t n_conf;
	char graph_class[128];
	int64_t batch_duration_ms;	/* DStreamGraph.batchDuration */
	int64_t zero_time_ms;		/* DStreamGraph.zeroTime */
	int64_t start_time_ms;		/* DStreamGraph.startTime */
	char input_streams[CKPT_JSER_MAX_STREAMS][128];
	size_t n_input_streams;
	char output_streams[CKPT_JSER_MAX_STREAMS][128];
	size_t n_output_streams;
	uint64_t serialized_bytes;	/* the stream's length */
	/* RDD checkpoint paths named by the graph (".../rdd-<id>") */
	char rdd_refs[CKPT_JSER_MAX_RDD_REFS][256];
	size_t n_rdd_refs;
	int java9_callsites;		/* "java.base/" frames: Java 9+ */
};

/*
 * Decodes a whole (already decompressed) Checkpoint stream, walking it
 * to the last byte.  Caller calls ckpt_jser_checkpoint_release().
 */
int ckpt_jser_checkpoint_decode(const void *buf, size_t len,
	const char *what, struct ckpt_jser_checkpoint *out,
	struct ckpt_error *err);
/* Frees what decode allocated; safe on a zeroed or released struct. */
void ckpt_jser_checkpoint_release(struct ckpt_jser_checkpoint *cp);
/* Value of the sparkConfPairs key, or NULL. */
const char *ckpt_jser_checkpoint_conf(const struct ckpt_jser_checkpoint *cp,
	const char *key);

#endif /* CKPT_CODEC_JAVASER_H */
