/*
 * engine.h - private interfaces of the embedded micro-batch engine.
 *
 * The engine (docs/DESIGN.md section 4) cuts the lines of a source into
 * micro-batches, runs them through a job's stateless stages (flatMap,
 * map, filter) into one stateful operator (reduceByKey, windowed reduce
 * with an inverse function, keyed state with a timeout), writes each
 * batch's output and, every checkpoint interval, the operator's state
 * through the native writer of lib/ckpt.h.  This header holds what the
 * engine's files share: the source interface, the keyed state table,
 * the operator interface and the job definition.  It is not public:
 * cmd/ and tests use the engine section of lib/ckpt.h.
 *
 * Sources.  A source yields lines and can tell and restore its position
 * (struct eng_pos), so a batch is described by the positions before and
 * after it in its offsets entry and can be replayed.  A source that is
 * not replayable by itself (the socket) makes itself replayable by
 * logging what it receives (a write-ahead log) before handing it out.
 */
#ifndef CKPT_ENGINE_H
#define CKPT_ENGINE_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "../ckpt.h"
#include "../codec/codec.h"

/* ------------------------------------------------------------------ */
/* Sources                                                              */
/* ------------------------------------------------------------------ */

/* Longest input line; a longer one is a malformed line, skipped. */
#define ENG_LINE_MAX (1024 * 1024)
/* Longest key (word, event key); a longer one makes the line malformed. */
#define ENG_KEY_MAX 1024

/*
 * Where a source stands: the position after the last line it handed
 * out.  Which fields mean something depends on the source:
 *   file:      name (file inside an input directory, "" for one file),
 *              off (byte offset in that file)
 *   generator: rec only
 *   socket:    seg (WAL segment number), off (byte offset in it)
 * rec counts the lines handed out since the start of the stream, in
 * every source; untimed input derives its logical time from it.
 */
struct eng_pos {
	char name[CKPT_NAME_MAX];
	uint64_t seg;
	uint64_t off;
	uint64_t rec;
};

/* One line from a source, valid until the next call on the source. */
struct eng_line {
	const char *data;
	size_t len;		/* without the newline */
	int too_long;		/* longer than ENG_LINE_MAX: data is empty */
};

struct eng_source;

struct eng_source_ops {
	const char *name;	/* "file", "generator", "socket" */
	/*
	 * Next line: CKPT_OK with *out filled and the position advanced
	 * past it; CKPT_EOF when no line is available now.  *done is set
	 * to 1 with CKPT_EOF when no line will ever come (end of a file
	 * without --follow, end of the generator).
	 */
	int (*next)(struct eng_source *s, struct eng_line *out, int *done,
	    struct ckpt_error *err);
	/* Moves to a position previously told (or the zero position). */
	int (*seek)(struct eng_source *s, const struct eng_pos *pos,
	    struct ckpt_error *err);
	/*
	 * Waits up to timeout_ms for more input (receives, for a socket)
	 * and returns CKPT_OK; returns early when input arrived or the
	 * stop flag is set.  May be NULL: the engine then sleeps.
	 */
	int (*wait)(struct eng_source *s, int64_t timeout_ms,
	    struct ckpt_error *err);
	/*
	 * Wall-clock sources: the position after every line available now
	 * (the end of the next batch).  NULL for logical-time sources.
	 */
	int (*avail)(struct eng_source *s, struct eng_pos *end,
	    struct ckpt_error *err);
	/*
	 * Called once a state checkpoint at a batch whose start position
	 * is keep has committed: the source may drop what lies before
	 * keep (the socket deletes WAL segments).  May be NULL.
	 */
	int (*release)(struct eng_source *s, const struct eng_pos *keep,
	    struct ckpt_error *err);
	void (*close)(struct eng_source *s);
};

/* Common head of every source; each source embeds it first. */
struct eng_source {
	const struct eng_source_ops *ops;
	struct eng_pos pos;		/* after the last line handed out */
	int wall_clock;			/* batches by arrival, not event time */
	struct ckpt_ctx *ctx;
	volatile int *stop;		/* the caller's stop flag, or NULL */
};

/* Appends the JSON object of pos ({"name":...,"off":...}) to b. */
int eng_pos_json(struct ckpt_buf *b, const struct eng_pos *pos);

/* File source: path is a file or a directory of files read in name order. */
int eng_source_file_open(struct ckpt_ctx *ctx, const char *path, int follow,
    struct eng_source **out, struct ckpt_error *err);

/* Generator source parameters (see ckpt_run_opts). */
struct eng_gen_params {
	uint64_t seed;
	uint64_t keys;
	uint64_t events;	/* lines to generate */
	uint64_t rate;		/* events per second of event time */
	unsigned skew_pct;	/* share of events on the hot 1% of keys */
	unsigned late_pct;	/* share of events that arrive late */
	int64_t late_ms;	/* how late, at most */
	uint64_t gap_every;	/* an idle gap after every N events (0 none) */
	int64_t gap_ms;		/* length of an idle gap */
	int64_t start_ms;	/* event time of the first event */
	int timed;		/* TIME<TAB>KEY<TAB>VALUE lines, else text */
};
int eng_source_gen_open(struct ckpt_ctx *ctx, const struct eng_gen_params *p,
    struct eng_source **out, struct ckpt_error *err);

/*
 * Socket source: connects to host:port, reconnecting with backoff, and
 * appends every received block of complete lines to the write-ahead log
 * under <dir>/wal/ (dir: the local checkpoint directory), fsynced before
 * the lines are handed out.
 */
int eng_source_socket_open(struct ckpt_ctx *ctx, const char *hostport,
    const char *dir, uint64_t seg_bytes, struct eng_source **out,
    struct ckpt_error *err);

/* ------------------------------------------------------------------ */
/* Keyed state table                                                    */
/* ------------------------------------------------------------------ */

#define ENG_E_DIRTY	0x1u	/* changed since the last state checkpoint */
#define ENG_E_DELETED	0x2u	/* removed; a tombstone until the checkpoint */
#define ENG_E_PERSISTED	0x4u	/* present in the last state checkpoint */
#define ENG_E_TOUCHED	0x8u	/* updated in the current batch */

/*
 * One key of an operator's state.  count is the value of reduceByKey,
 * the window total, the session's event count; ext holds what else an
 * operator keeps per key (window slides, session actions), owned by
 * the operator (freed through its free_ext).
 */
struct eng_entry {
	uint64_t hash;
	int64_t count;
	int64_t aux;		/* session: last seen (event time, ms) */
	void *ext;
	uint32_t klen;
	uint32_t flags;
	char key[];		/* klen bytes, then a NUL */
};
/* Bytes at key always inside the entry's allocation, however short the
 * key (those past its NUL are unspecified): one load reads a short key. */
#define ENG_KEY_LOAD 8

/*
 * An open-addressing hash table (linear probing, backward-shift delete)
 * of entries, one per operator partition.  Removing a key marks it
 * ENG_E_DELETED and dirty; the entry goes away at the next state
 * checkpoint, after its tombstone is written.
 */
struct eng_slot {
	uint64_t hash;		/* copy of e->hash: probes stay in the array */
	struct eng_entry *e;	/* NULL: empty */
};

#define ENG_SLAB_CLASSES 80	/* entry sizes 16..1264 bytes, by 16 */

struct eng_table {
	struct eng_slot *slots;
	size_t cap;		/* power of two */
	size_t used;		/* entries, deleted ones included */
	size_t live;		/* entries not deleted */
	struct eng_entry **dirty;	/* changed since the checkpoint */
	size_t ndirty, dirty_cap;
	/*
	 * Entries are carved from chunks owned by the table (one malloc
	 * per chunk, not per key; freed together); a removed entry goes
	 * to the free list of its size class.  Larger entries (keys from
	 * a checkpoint longer than any the stages make) are malloc'd.
	 */
	void *chunks;		/* newest first, linked by their first word */
	char *cur;		/* free space of the newest chunk */
	size_t left;
	size_t next_chunk;	/* bytes of the next chunk */
	struct eng_entry *freel[ENG_SLAB_CLASSES];
};

/* Stable partition hash of a key (XXH3-64 of its bytes). */
uint64_t eng_hash(const void *key, size_t len);

/* Home slot of a hash: XXH3 bits are well mixed; low ones pick the
 * partition. */
static inline size_t
eng_home_slot(uint64_t hash, size_t cap)
{
	return (size_t)(hash >> 24) & (cap - 1);
}

/*
 * Hints the CPU to load entry en (both cache lines its header and a
 * short key may span: malloc aligns to 16 bytes, not to a line).
 */
static inline void
eng_entry_prefetch(const struct eng_entry *en)
{
#if defined(__GNUC__)
	__builtin_prefetch(en);
	__builtin_prefetch((const char *)en + sizeof(*en) + 7);
#else
	(void)en;
#endif
}

/* Hints the CPU to load the home slot of hash (a lookup comes soon). */
static inline void
eng_table_prefetch(const struct eng_table *t, uint64_t hash)
{
#if defined(__GNUC__)
	if (t->cap > 0)
		__builtin_prefetch(&t->slots[eng_home_slot(hash, t->cap)]);
#else
	(void)t;
	(void)hash;
#endif
}

void eng_table_init(struct eng_table *t);
/* Frees every entry (ext through free_ext, which may be NULL). */
void eng_table_release(struct eng_table *t, void (*free_ext)(void *));
/* Live entry for key or NULL (deleted entries are not found). */
struct eng_entry *eng_table_get(struct eng_table *t, const char *key,
    size_t klen, uint64_t hash);
/*
 * Entry for key, created (count 0, no ext) or revived if absent; NULL
 * on allocation failure.  *created tells which (may be NULL).
 */
struct eng_entry *eng_table_upsert(struct eng_table *t, const char *key,
    size_t klen, uint64_t hash, int *created);
/* Marks e changed since the last checkpoint. Returns -1 on ENOMEM. */
int eng_table_dirty_add(struct eng_table *t, struct eng_entry *e);
static inline int
eng_table_dirty(struct eng_table *t, struct eng_entry *e)
{
	if (e->flags & ENG_E_DIRTY)
		return 0;
	if (t->ndirty < t->dirty_cap) {	/* no call: once per key and
					 * checkpoint interval */
		t->dirty[t->ndirty++] = e;
		e->flags |= ENG_E_DIRTY;
		return 0;
	}
	return eng_table_dirty_add(t, e);
}
/* Removes e from the live state: a tombstone until the next checkpoint. */
int eng_table_delete(struct eng_table *t, struct eng_entry *e,
    void (*free_ext)(void *));
/*
 * After a state checkpoint: purges deleted entries, clears dirty flags,
 * marks live entries persisted.
 */
void eng_table_checkpointed(struct eng_table *t, void (*free_ext)(void *));
/* Calls fn on every live entry (hash order); fn returns non-zero to stop. */
int eng_table_each(struct eng_table *t,
    int (*fn)(void *arg, struct eng_entry *e), void *arg);

/*
 * Calls fn on every entry changed since the last checkpoint, removed
 * ones (ENG_E_DELETED) included, in the order they changed, and marks
 * each live one checkpointed as it goes: a capture walks the entries
 * once, not twice.  Only the removed entries stay on the dirty list,
 * for eng_table_checkpointed() to purge, which must follow.  Stops at
 * fn's first non-zero return and returns it; the table must then not
 * be checkpointed (the run fails).
 */
static inline int
eng_table_take_dirty(struct eng_table *t,
    int (*fn)(void *arg, struct eng_entry *e), void *arg)
{
	size_t keep = 0;

	/* inline: a capture passes its own fn, called here per entry */
	for (size_t d = 0; d < t->ndirty; d++) {
		struct eng_entry *e = t->dirty[d];
		int rc;

#if defined(__GNUC__)	/* dirty entries are scattered: ask ahead */
		if (d + 32 < t->ndirty)
			eng_entry_prefetch(t->dirty[d + 32]);
#endif
		if ((rc = fn(arg, e)) != 0)
			return rc;
		if (e->flags & ENG_E_DELETED) {
			t->dirty[keep++] = e;	/* purged after the write */
			continue;
		}
		e->flags &= ~ENG_E_DIRTY;
		e->flags |= ENG_E_PERSISTED;
	}
	t->ndirty = keep;
	return 0;
}

/*
 * A key captured for a state checkpoint (engine_ksort.c): in the
 * partition's arena, a header, the encoded key (klen bytes), then the
 * encoded value (vlen bytes; ENG_KTOMB: none, a tombstone).
 */
struct eng_khdr {
	uint32_t klen;
	uint32_t vlen;
};
#define ENG_KTOMB UINT32_MAX

/* Sort handle: encoded key bytes 1..8 (after the tag, which all keys
 * share) big-endian, and the item's offset in the arena. */
struct eng_kitem {
	uint64_t pfx;
	uint64_t off;
};

static inline const uint8_t *
eng_kitem_key(const uint8_t *base, const struct eng_kitem *it)
{
	return base + it->off + sizeof(struct eng_khdr);
}

/*
 * The prefix of an encoded string key k: bytes 1..8 (k[0], the tag, is
 * left out) big-endian.  k must be followed by 8 readable bytes that
 * are zero past its end (the caller pads), so a short key's prefix is
 * zero-padded without a loop over its length.
 */
static inline uint64_t
eng_key_prefix(const uint8_t *k)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t p;

	memcpy(&p, k + 1, 8);
	return __builtin_bswap64(p);
#else
	uint64_t p = 0;

	for (int i = 1; i <= 8; i++)
		p = (p << 8) | k[i];
	return p;
#endif
}

/*
 * Writes en's key encoded as a string (what ckpt_enc_string_at writes)
 * to k, which has room for CKPT_ENC_STRING_MAX(klen) + 8 bytes, sets
 * *pfx to its sort prefix (eng_key_prefix) and returns the encoded
 * length.  A key shorter than 128 bytes (one length byte) is read with
 * one 8-byte load where it fits, which ENG_KEY_LOAD allows, and its
 * prefix is taken from the register: loading it back from the bytes
 * just stored would span several stores, which the CPU cannot forward,
 * and wait for them to reach the cache (a capture spent a sixth of its
 * time there).
 */
_Static_assert(ENG_KEY_LOAD >= sizeof(uint64_t), "one load, a short key");
static inline size_t
eng_key_encode_at(uint8_t *k, const struct eng_entry *en, uint64_t *pfx)
{
	size_t n = en->klen;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n < 0x80) {
		uint64_t x;

		memcpy(&x, en->key, sizeof(x));
		if (n < 8)	/* bytes past the key: unspecified */
			x &= ((uint64_t)1 << (8 * n)) - 1;
		k[0] = CKPT_T_STRING;
		k[1] = (uint8_t)n;
		if (n <= 8) {
			memcpy(k + 2, &x, 8);	/* zeros past the key */
		} else if (n <= 16) {
			memcpy(k + 2, en->key, 8);
			memcpy(k + 2 + n - 8, en->key + n - 8, 8);
		} else {
			memcpy(k + 2, en->key, n);
		}
		*pfx = (uint64_t)n << 56 | __builtin_bswap64(x) >> 8;
		return 2 + n;
	}
#endif
	n = ckpt_enc_string_at(k, en->key, n);
	memset(k + n, 0, 8);	/* the prefix's padding */
	*pfx = eng_key_prefix(k);
	return n;
}

/*
 * Sorts v[0..n) by encoded key (memcmp, then length) of the arena at
 * base; tmp holds n items of scratch.
 */
void eng_ksort(struct eng_kitem *v, struct eng_kitem *tmp, size_t n,
    const uint8_t *base);

/* Sorts entries by key bytes (memcmp, then length); -1 on ENOMEM. */
int eng_entries_sort(struct eng_entry **v, size_t n);

/* ------------------------------------------------------------------ */
/* Records, operators, jobs                                             */
/* ------------------------------------------------------------------ */

/* A record between the stateless stages and the stateful operator. */
struct eng_rec {
	uint64_t hash;		/* eng_hash of key when has_hash */
	int has_hash;
	int64_t time_ms;	/* event time (logical arrival for text) */
	const char *key;
	size_t klen;
	const char *val;	/* session: the action; may be empty */
	size_t vlen;
	int64_t n;		/* the value to reduce (1 per occurrence) */
};

/* The effective parameters of a run (job defaults, directory, flags). */
struct eng_params {
	int64_t batch_ms;
	int64_t window_ms;	/* window job */
	int64_t slide_ms;	/* window job */
	int64_t timeout_ms;	/* session job */
	int64_t max_actions;	/* session job */
	int64_t rate;		/* untimed input: lines per second */
	int partitions;
	int64_t ckpt_every;	/* batches between state checkpoints */
	int snapshot_every;	/* v2: a snapshot every N state checkpoints */
	int format_version;
};

struct eng;

/*
 * Receives the records a stage emits.  Returns 0, or -1 with err set.
 */
typedef int (*eng_emit_fn)(struct eng *e, const struct eng_rec *r,
    struct ckpt_error *err);

/*
 * A flatMap/map/filter stage: turns one line (with its logical time)
 * into zero or more records passed to emit.  Returns 0, 1 when the line
 * is malformed (counted, skipped; fatal with --strict; *why names the
 * reason), or -1 with err set.
 */
typedef int (*eng_stage_fn)(struct eng *e, const char *line, size_t len,
    int64_t time_ms, eng_emit_fn emit, const char **why,
    struct ckpt_error *err);

/*
 * A stateful operator.  State is one eng_table per partition.  The
 * engine feeds records to add(), calls end_batch() after the last
 * record of a batch (the operator appends the batch's output lines to
 * out), and uses encode/decode for state checkpoints and restores.
 */
#define ENG_VALUE_AT_MAX 16
struct eng_op_ops {
	const char *type;		/* "reduceByKey", "window", "session" */
	const char *value_schema;	/* native schema text */
	int (*add)(struct eng *e, const struct eng_rec *r,
	    struct ckpt_error *err);
	int (*end_batch)(struct eng *e, int64_t batch, struct ckpt_buf *out,
	    struct ckpt_error *err);
	/* Appends the typed encoding of entry's value to b. */
	int (*encode)(struct eng *e, const struct eng_entry *en,
	    struct ckpt_buf *b);
	/*
	 * Optional, for values of at most ENG_VALUE_AT_MAX bytes: writes
	 * the same encoding to dst and returns its length (a checkpoint's
	 * capture, one reserve per key).
	 */
	size_t (*encode_at)(const struct eng_entry *en, uint8_t *dst);
	/* Loads entry's value from its typed encoding. */
	int (*decode)(struct eng *e, struct eng_entry *en,
	    const uint8_t *v, size_t vlen, struct ckpt_error *err);
	void (*free_ext)(void *ext);
};

extern const struct eng_op_ops eng_op_reduce;
extern const struct eng_op_ops eng_op_window;
/* keyed state with a timeout: the session job's (lib/jobs/job_session.c) */

/* flatMap: a text line to (word, 1) records split on blanks. */
int eng_stage_words(struct eng *e, const char *line, size_t len,
    int64_t time_ms, eng_emit_fn emit, const char **why,
    struct ckpt_error *err);
/* map + filter: "TIME<TAB>KEY[<TAB>VALUE]" to (key, value, 1) at TIME. */
int eng_stage_event(struct eng *e, const char *line, size_t len,
    int64_t time_ms, eng_emit_fn emit, const char **why,
    struct ckpt_error *err);
/* Parses the event time of an event line; -1 when malformed. */
int eng_event_time(const char *line, size_t len, int64_t *time_ms);

/* ------------------------------------------------------------------ */
/* The running engine                                                   */
/* ------------------------------------------------------------------ */

struct job_def;

/*
 * One run of one job.  Operators and stages reach the current batch
 * and the state through it; engine.c owns it.
 */
struct eng {
	struct ckpt_ctx *ctx;
	const struct ckpt_run_opts *o;
	const struct job_def *job;
	const struct eng_op_ops *op;
	struct eng_params p;
	struct eng_table *parts;	/* p.partitions tables */
	int64_t start_ms;		/* logical time of batch 0 */
	int64_t batch;			/* the batch being run */
	int64_t batch_start_ms;		/* [start, end) of its time */
	int64_t batch_end_ms;
	/* entries updated in the current batch (ENG_E_TOUCHED) */
	struct eng_entry **touched;
	size_t ntouched, touched_cap;
	uint64_t batch_out;		/* output lines of the batch */
	void *opstate;			/* the operator's own (may be NULL) */
	struct ckpt_buf tmp;		/* scratch */
};

/* The partition table a key hashes to. */
static inline struct eng_table *
eng_part(struct eng *e, uint64_t hash)
{
	uint64_t n = (uint64_t)e->p.partitions;

	/* usually a power of two: the same partition, without a division */
	return &e->parts[(n & (n - 1)) == 0 ? hash & (n - 1) : hash % n];
}

/* Records e as updated in this batch (once). Returns -1 on ENOMEM. */
int eng_touch_add(struct eng *e, struct eng_entry *en);
static inline int
eng_touch(struct eng *e, struct eng_entry *en)
{
	return (en->flags & ENG_E_TOUCHED) ? 0 : eng_touch_add(e, en);
}
/* Reports a warning through the caller's on_warning callback. */
void eng_warn(struct eng *e, const char *fmt, ...) CKPT_PRINTF(2, 3);
/* Appends v in decimal to b; -1 on ENOMEM. */
int eng_buf_i64(struct ckpt_buf *b, int64_t v);
/* Milliseconds of the monotonic clock (engine_dur.c). */
int64_t eng_mono_ms(void);

/* Appends printf output to b; -1 on ENOMEM. */
int eng_buf_printf(struct ckpt_buf *b, const char *fmt, ...)
    CKPT_PRINTF(2, 3);

/*
 * Thread placement (engine_cpu.c): the run's writer threads on the
 * CPUs the process may use but the engine's, which --pin-threads also
 * keeps the engine's thread on.  The CPU sets are cpu_set_t bytes in
 * plain arrays, so that this header needs no _GNU_SOURCE.
 */
#define ENG_PIN_CPUS	1024	/* CPU_SETSIZE */
#define ENG_PIN_WORDS	(ENG_PIN_CPUS / (8 * sizeof(unsigned long)))
struct eng_pin {
	int on;			/* a plan was made */
	int engine;		/* the engine's thread is pinned to cpu */
	int cpu;		/* the engine's CPU; -1 without a plan */
	unsigned long allowed[ENG_PIN_WORDS];	/* before pinning */
	unsigned long others[ENG_PIN_WORDS];	/* allowed minus cpu */
	/* block-I/O softirqs per CPU at the last look (blk_ok) */
	int blk_ok;
	int64_t blk_next_ms;	/* when to look again */
	uint32_t blk[ENG_PIN_CPUS];
};
/*
 * Plans; NULL, or why no plan could be made (p->on is then 0).  The
 * engine's CPU is the one it runs on, unless that CPU completes most
 * of the host's block I/O (the disk's interrupts land there) and
 * another allowed CPU completes little: the engine's thread is then
 * moved there (not pinned, unless eng_pin_engine follows).
 */
const char *eng_pin_plan(struct eng_pin *p);
/* Moves the calling thread to the engine's CPU; 0, or -1 when the
 * system refused (nothing changed then). */
int eng_pin_engine(struct eng_pin *p);
/*
 * Puts the writer threads th[0..n) on the CPUs but the engine's.
 * Called by the engine's thread, the only one that reads or writes p
 * once the writers run.
 */
void eng_pin_writers(const struct eng_pin *p, const pthread_t *th, int n);
/*
 * Called by the engine's thread after each batch (unless pinned): at
 * most once a second, when the CPU it runs on completed most of the
 * block I/O since the last look and another allowed CPU little, moves
 * it to the quietest one; then, when it runs on another CPU than
 * planned, moves the writer threads th[0..n) off its new CPU.  1 when
 * they were moved.
 */
int eng_pin_follow(struct eng_pin *p, const pthread_t *th, int n);
/*
 * Parses /proc/softirqs text: cnt[c] = the BLOCK count of CPU c, for
 * the CPUs c < ncnt named in its header (the others are left alone).
 * The number of CPUs parsed, or -1 when the text has no such line.
 */
int eng_softirq_block(const char *text, uint32_t *cnt, int ncnt);
/*
 * The CPU for the engine's thread, now on cur, given each CPU's block
 * softirqs now and at the last look (before NULL: since boot) and the
 * CPUs allowed (a bit per CPU): the allowed CPU with the fewest, when
 * cur had at least half of all of them, at least min, and that CPU a
 * quarter of cur's or fewer; else -1 (stay).
 */
int eng_pin_quiet(const uint32_t *now, const uint32_t *before, int ncpu,
    const unsigned long *allowed, int cur, uint32_t min);
/* Gives the calling thread back every CPU it was allowed. */
void eng_pin_release(const struct eng_pin *p);
/* Names the calling thread (at most 15 bytes; Linux only). */
void eng_thread_name(const char *name);

#endif /* CKPT_ENGINE_H */
