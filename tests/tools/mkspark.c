/*
 * mkspark.c - writes a Structured Streaming checkpoint that Spark 3.5
 * could have written for `groupBy("word").count()` over a Kafka topic
 * with the HDFS-backed state store, for the Spark benchmark and the CLI
 * tests.  Every byte is produced here with liblz4 and xxhash, not with
 * ckpt's own Spark codecs, so reading the result with ckpt is a real
 * cross-check (docs/spark-checkpoint-format.md sections 1, 2.2, 2.3, 3,
 * 4.1 and 8).
 *
 * usage: mkspark DIR [options]
 *   --batches N          committed batches 0..N-1, state versions 1..N (10)
 *   --partitions P       spark.sql.shuffle.partitions (4)
 *   --keys-per-batch K   distinct words updated by each batch (1000)
 *   --key-space U        words drawn from U distinct ones (4 K)
 *   --seed S             varies words, draws, ids and times (1)
 *   --raw-out FILE       also write the decompressed record streams of
 *                        every .delta, concatenated, to FILE
 *
 * Layout written:
 *   metadata                 {"id":"<uuid>"}
 *   offsets/<b>              v1, OffsetSeqMetadata with a 3.5.5-era conf
 *                            (lz4 codec, HDFSBackedStateStoreProvider,
 *                            aggregation format 2), one Kafka offset line
 *   commits/<b>              v1 {"nextBatchWatermarkMs":0}
 *   sources/0/0              Kafka initial offsets (0x00, v1, JSON)
 *   state/0/<p>/<b+1>.delta  one per partition and batch, empty ones too
 *   state/0/0/_metadata/schema  v2, key struct<word:string>, value
 *                            struct<count:bigint>
 * No Hadoop .crc sidecars (as on HDFS), no snapshots, no temp files.
 *
 * A delta is what HDFSBackedStateStore writes through lz4-java's
 * LZ4BlockOutputStream (32 KiB blocks, level 5): records are buffered
 * into 32 KiB blocks, each compressed with LZ4_compress_default and
 * stored raw (token 0x15) when that does not shrink it, else as LZ4
 * (0x25); header checksum XXH32(seed 0x9747B28C) & 0x0FFFFFFF of the
 * decoded block; after the int32 -1 end marker the partial block is
 * flushed and a 21-byte end block (0x15, zeros) closes the stream.  A
 * record is int32 BE key length, key UnsafeRow, int32 BE value length,
 * value UnsafeRow; the key row is [null word][offset<<32|size][word,
 * zero-padded to 8], the value row [null word][count LE].  A word goes
 * to partition pmod(Murmur3_x86_32(word bytes, 42), P) with Spark's
 * hashUnsafeBytes tail rule (checked against the real fixtures'
 * key placement).  Each batch draws words uniformly from the key space
 * until K distinct ones are seen; each draw is one Kafka record and adds
 * one to its word's count; each distinct word gets one put with its new
 * count.  Same flags, same bytes.  Exit 0, 2 on bad usage, 1 on an I/O
 * error (message on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lz4.h>
#include <xxhash.h>

#define BLOCK 32768		/* spark.io.compression.lz4.blockSize */
#define LEVEL 5			/* ceil(log2(BLOCK)) - 10 */
#define METHOD_RAW 0x10
#define METHOD_LZ4 0x20
#define LZ4_SEED 0x9747B28Cu
#define TOPIC "words"
#define KAFKA_PARTS 2

struct opts {
	const char *dir;
	int64_t batches;
	int partitions;
	int64_t keys_per_batch;
	int64_t key_space;
	uint64_t seed;
	const char *raw_out;
};

/* ---- helpers ---- */

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "mkspark: %s '%s': %s\n", what, path,
	    strerror(errno));
	exit(1);
}

static uint64_t
next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die("cannot create", path);
	}
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			die("cannot create", tmp);
		tmp[i] = path[i];
	}
}

static FILE *
create(const char *path)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		die("cannot create", path);
	return f;
}

static void
put(FILE *f, const void *p, size_t n, const char *path)
{
	if (n && fwrite(p, 1, n, f) != n)
		die("cannot write", path);
}

static void
finish(FILE *f, const char *path)
{
	if (fclose(f) != 0)
		die("cannot write", path);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = create(path);

	put(f, p, n, path);
	finish(f, path);
}

/* ---- Spark's Murmur3 partitioning (HashPartitioning, seed 42) ---- */

static uint32_t
rotl32(uint32_t x, int r)
{
	return x << r | x >> (32 - r);
}

static uint32_t
mix_k1(uint32_t k)
{
	return rotl32(k * 0xcc9e2d51u, 15) * 0x1b873593u;
}

static uint32_t
mix_h1(uint32_t h, uint32_t k)
{
	return rotl32(h ^ k, 13) * 5 + 0xe6546b64u;
}

/* Murmur3_x86_32.hashUnsafeBytes: one mix per tail byte, sign-extended. */
static int32_t
murmur3_bytes(const uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t h = seed;
	size_t i, aligned = n - n % 4;

	for (i = 0; i < aligned; i += 4)
		h = mix_h1(h, mix_k1((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
		    (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24));
	for (; i < n; i++)
		h = mix_h1(h, mix_k1((uint32_t)(int32_t)(int8_t)p[i]));
	h ^= (uint32_t)n;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (int32_t)h;
}

static int
partition_of(const char *w, size_t n, int parts)
{
	int32_t h = murmur3_bytes((const uint8_t *)w, n, 42);
	int32_t m = h % parts;

	return m < 0 ? m + parts : m;
}

/* ---- words ---- */

static const char *const syl[64] = {
	"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi",
	"ba", "de", "fu", "go", "hi", "ja", "ke", "li",
	"ma", "no", "pu", "ra", "se", "ti", "vo", "wa",
	"ya", "zu", "cha", "sho", "tra", "ple", "gri", "bro",
	"an", "el", "in", "or", "um", "ex", "al", "es",
	"da", "po", "qui", "re", "su", "te", "ul", "ve",
	"ber", "con", "dis", "fen", "gan", "hol", "ker", "lum",
	"mor", "nix", "pal", "ros", "tan", "ver", "wil", "zen",
};

/* Word k (0 <= k < 2^32): a seed-dependent bijection spelled in
 * syllables, so distinct k give distinct words. */
static size_t
word_of(uint64_t k, uint64_t seed, char *out)
{
	uint32_t x = (uint32_t)k * 0x9e3779b1u ^ (uint32_t)(seed * 0x85ebca6b);
	size_t n = 0;

	do {
		const char *s = syl[x & 63];
		size_t l = strlen(s);

		memcpy(out + n, s, l);
		n += l;
		x >>= 6;
	} while (x != 0);
	out[n] = '\0';
	return n;
}

/* ---- lz4-java LZ4BlockOutputStream ---- */

struct lz4out {
	FILE *f;
	const char *path;
	FILE *raw;		/* decompressed copy, or NULL */
	const char *raw_path;
	uint8_t buf[BLOCK];
	size_t o;
	char cbuf[LZ4_COMPRESSBOUND(BLOCK)];
	uint64_t blocks, bytes;
};

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
header(struct lz4out *z, int method, uint32_t clen, uint32_t olen,
    uint32_t sum)
{
	uint8_t h[21];

	memcpy(h, "LZ4Block", 8);
	h[8] = (uint8_t)(method | LEVEL);
	le32(h + 9, clen);
	le32(h + 13, olen);
	le32(h + 17, sum);
	put(z->f, h, sizeof(h), z->path);
}

static void
flush_block(struct lz4out *z)
{
	uint32_t sum;
	int clen;

	if (z->o == 0)
		return;
	sum = XXH32(z->buf, z->o, LZ4_SEED) & 0x0FFFFFFFu;
	clen = LZ4_compress_default((const char *)z->buf, z->cbuf, (int)z->o,
	    (int)sizeof(z->cbuf));
	if (clen <= 0 || (size_t)clen >= z->o) {
		header(z, METHOD_RAW, (uint32_t)z->o, (uint32_t)z->o, sum);
		put(z->f, z->buf, z->o, z->path);
	} else {
		header(z, METHOD_LZ4, (uint32_t)clen, (uint32_t)z->o, sum);
		put(z->f, z->cbuf, (size_t)clen, z->path);
	}
	if (z->raw != NULL)
		put(z->raw, z->buf, z->o, z->raw_path);
	z->blocks++;
	z->bytes += z->o;
	z->o = 0;
}

static void
lz4_write(struct lz4out *z, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n > 0) {
		size_t k = BLOCK - z->o;

		if (k > n)
			k = n;
		memcpy(z->buf + z->o, s, k);
		z->o += k;
		s += k;
		n -= k;
		if (z->o == BLOCK)
			flush_block(z);
	}
}

static void
lz4_close(struct lz4out *z)
{
	flush_block(z);
	header(z, METHOD_RAW, 0, 0, 0);
	finish(z->f, z->path);
	z->f = NULL;
}

static void
be32(struct lz4out *z, int32_t v)
{
	uint8_t b[4] = { (uint8_t)((uint32_t)v >> 24),
	    (uint8_t)((uint32_t)v >> 16), (uint8_t)((uint32_t)v >> 8),
	    (uint8_t)v };

	lz4_write(z, b, 4);
}

/* One put: key UnsafeRow (word: string), value UnsafeRow (count: long). */
static void
put_record(struct lz4out *z, const char *w, size_t n, int64_t count)
{
	uint8_t row[8 + 8 + 64 + 8];
	size_t pad = (n + 7) / 8 * 8;
	uint64_t slot = (uint64_t)16 << 32 | (uint64_t)n;

	memset(row, 0, 16 + pad);
	for (int i = 0; i < 8; i++)
		row[8 + i] = (uint8_t)(slot >> (8 * i));
	memcpy(row + 16, w, n);
	be32(z, (int32_t)(16 + pad));
	lz4_write(z, row, 16 + pad);
	memset(row, 0, 16);
	for (int i = 0; i < 8; i++)
		row[8 + i] = (uint8_t)((uint64_t)count >> (8 * i));
	be32(z, 16);
	lz4_write(z, row, 16);
}

/* ---- the small files ---- */

static void
write_schema(const struct opts *o)
{
	static const char *const json[2] = {
		"{\"type\":\"struct\",\"fields\":[{\"name\":\"word\","
		"\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}",
		"{\"type\":\"struct\",\"fields\":[{\"name\":\"count\","
		"\"type\":\"long\",\"nullable\":false,\"metadata\":{}}]}",
	};
	char path[4096];
	uint8_t b[1024];
	size_t n = 0;

	/* writeUTF("v2"), then per schema: int32 chunk count, writeUTF */
	memcpy(b, "\0\2v2", 4);
	n = 4;
	for (int i = 0; i < 2; i++) {
		size_t l = strlen(json[i]);

		memcpy(b + n, "\0\0\0\1", 4);
		b[n + 4] = (uint8_t)(l >> 8);
		b[n + 5] = (uint8_t)l;
		memcpy(b + n + 6, json[i], l);
		n += 6 + l;
	}
	snprintf(path, sizeof(path), "%s/state/0/0/_metadata", o->dir);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/state/0/0/_metadata/schema", o->dir);
	write_file(path, b, n);
}

static void
write_offsets(const struct opts *o, int64_t b, int64_t ts,
    const int64_t *koff)
{
	char path[4096], text[2048];
	int n;

	n = snprintf(text, sizeof(text), "v1\n{\"batchWatermarkMs\":0,"
	    "\"batchTimestampMs\":%" PRId64 ",\"conf\":{"
	    "\"spark.sql.streaming.stateStore.providerClass\":"
	    "\"org.apache.spark.sql.execution.streaming.state."
	    "HDFSBackedStateStoreProvider\","
	    "\"spark.sql.streaming.join.stateFormatVersion\":\"2\","
	    "\"spark.sql.streaming.stateStore.compression.codec\":\"lz4\","
	    "\"spark.sql.optimizer.pruneFiltersCanPruneStreamingSubplan\":"
	    "\"false\","
	    "\"spark.sql.streaming.stateStore.rocksdb.formatVersion\":\"5\","
	    "\"spark.sql.streaming.statefulOperator.useStrictDistribution\":"
	    "\"true\","
	    "\"spark.sql.streaming.flatMapGroupsWithState.stateFormatVersion\":"
	    "\"2\","
	    "\"spark.sql.streaming.multipleWatermarkPolicy\":\"min\","
	    "\"spark.sql.streaming.aggregation.stateFormatVersion\":\"2\","
	    "\"spark.sql.shuffle.partitions\":\"%d\"}}\n"
	    "{\"" TOPIC "\":{\"1\":%" PRId64 ",\"0\":%" PRId64 "}}",
	    ts, o->partitions, koff[1], koff[0]);
	snprintf(path, sizeof(path), "%s/offsets/%" PRId64, o->dir, b);
	write_file(path, text, (size_t)n);
}

static void
write_commit(const struct opts *o, int64_t b)
{
	static const char c[] = "v1\n{\"nextBatchWatermarkMs\":0}";
	char path[4096];

	snprintf(path, sizeof(path), "%s/commits/%" PRId64, o->dir, b);
	write_file(path, c, sizeof(c) - 1);
}

static void
write_root(const struct opts *o, uint64_t *rng)
{
	static const char src[] = "\0v1\n{\"" TOPIC "\":{\"1\":0,\"0\":0}}";
	char path[4096], text[64];
	uint64_t a = next_rand(rng), b = next_rand(rng);
	int n;

	/* a version 4, variant 1 UUID */
	a = (a & ~0xF000ULL) | 0x4000ULL;
	b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
	n = snprintf(text, sizeof(text), "{\"id\":\"%08" PRIx64 "-%04" PRIx64
	    "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64 "\"}", a >> 32,
	    (a >> 16) & 0xFFFF, a & 0xFFFF, b >> 48, b & (uint64_t)0xFFFFFFFFFFFF);
	mkdir_p(o->dir);
	snprintf(path, sizeof(path), "%s/metadata", o->dir);
	write_file(path, text, (size_t)n);
	snprintf(path, sizeof(path), "%s/offsets", o->dir);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/commits", o->dir);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/sources/0", o->dir);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/sources/0/0", o->dir);
	write_file(path, src, sizeof(src) - 1);
	for (int p = 0; p < o->partitions; p++) {
		snprintf(path, sizeof(path), "%s/state/0/%d", o->dir, p);
		mkdir_p(path);
	}
	write_schema(o);
}

/* ---- batches ---- */

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL) {
		fprintf(stderr, "mkspark: out of memory\n");
		exit(1);
	}
	return p;
}

static void
run(const struct opts *o)
{
	uint64_t rng = o->seed * 0x2545F4914F6CDD1DULL + 1;
	int64_t *count = xcalloc((size_t)o->key_space, sizeof(int64_t));
	int64_t *seen = xcalloc((size_t)o->key_space, sizeof(int64_t));
	int *part = xcalloc((size_t)o->key_space, sizeof(int));
	int64_t *upd = xcalloc((size_t)o->keys_per_batch, sizeof(int64_t));
	int64_t *sorted = xcalloc((size_t)o->keys_per_batch, sizeof(int64_t));
	size_t *start = xcalloc((size_t)o->partitions + 1, sizeof(size_t));
	struct lz4out *z = xcalloc(1, sizeof(*z));
	int64_t koff[KAFKA_PARTS] = { 0, 0 };
	int64_t ts = 1717000000000LL + (int64_t)(next_rand(&rng) % 86400000);
	uint64_t files = 0, records = 0;
	char path[4096], w[64];
	FILE *raw = NULL;

	write_root(o, &rng);
	for (int64_t k = 0; k < o->key_space; k++) {
		size_t n = word_of((uint64_t)k, o->seed, w);

		part[k] = partition_of(w, n, o->partitions);
		seen[k] = -1;
	}
	if (o->raw_out != NULL)
		raw = create(o->raw_out);
	for (int64_t b = 0; b < o->batches; b++) {
		int64_t nupd = 0;

		/* draw Kafka records until K distinct words are updated */
		while (nupd < o->keys_per_batch) {
			int64_t k = (int64_t)(next_rand(&rng) %
			    (uint64_t)o->key_space);

			koff[(koff[0] + koff[1]) % KAFKA_PARTS]++;
			count[k]++;
			if (seen[k] != b) {
				seen[k] = b;
				upd[nupd++] = k;
			}
		}
		/* stable counting sort of the updated words by partition */
		memset(start, 0, ((size_t)o->partitions + 1) * sizeof(size_t));
		for (int64_t i = 0; i < nupd; i++)
			start[part[upd[i]] + 1]++;
		for (int p = 0; p < o->partitions; p++)
			start[p + 1] += start[p];
		for (int64_t i = 0; i < nupd; i++)
			sorted[start[part[upd[i]]]++] = upd[i];
		for (int p = o->partitions; p > 0; p--)
			start[p] = start[p - 1];
		start[0] = 0;

		for (int p = 0; p < o->partitions; p++) {
			snprintf(path, sizeof(path), "%s/state/0/%d/%" PRId64
			    ".delta", o->dir, p, b + 1);
			memset(z, 0, sizeof(*z));
			z->f = create(path);
			z->path = path;
			z->raw = raw;
			z->raw_path = o->raw_out;
			for (size_t i = start[p]; i < start[p + 1]; i++) {
				size_t n = word_of((uint64_t)sorted[i],
				    o->seed, w);

				put_record(z, w, n, count[sorted[i]]);
				records++;
			}
			be32(z, -1);
			lz4_close(z);
			files++;
		}
		ts += 5000 + (int64_t)(next_rand(&rng) % 1000);
		write_offsets(o, b, ts, koff);
		write_commit(o, b);
	}
	if (raw != NULL)
		finish(raw, o->raw_out);
	printf("%" PRIu64 " deltas, %" PRIu64 " records, %" PRId64
	    " kafka records\n", files, records, koff[0] + koff[1]);
	free(count);
	free(seen);
	free(part);
	free(upd);
	free(sorted);
	free(start);
	free(z);
}

static int
num(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mkspark DIR [--batches N] [--partitions P] "
	    "[--keys-per-batch K] [--key-space U] [--seed S] "
	    "[--raw-out FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, 10, 4, 1000, 0, 1, NULL };
	int64_t v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *n = i + 1 < argc ? argv[i + 1] :
		    NULL;

		if (a[0] != '-') {
			if (o.dir != NULL)
				usage();
			o.dir = a;
			continue;
		}
		if (strcmp(a, "--batches") == 0 &&
		    num(n, 1, 10000000, &v) == 0) {
			o.batches = v;
		} else if (strcmp(a, "--partitions") == 0 &&
		    num(n, 1, 100000, &v) == 0) {
			o.partitions = (int)v;
		} else if (strcmp(a, "--keys-per-batch") == 0 &&
		    num(n, 0, 100000000, &v) == 0) {
			o.keys_per_batch = v;
		} else if (strcmp(a, "--key-space") == 0 &&
		    num(n, 1, 1000000000, &v) == 0) {
			o.key_space = v;
		} else if (strcmp(a, "--seed") == 0 &&
		    num(n, 0, INT64_MAX, &v) == 0) {
			o.seed = (uint64_t)v;
		} else if (strcmp(a, "--raw-out") == 0 && n != NULL) {
			o.raw_out = n;
		} else {
			usage();
		}
		i++;
	}
	if (o.dir == NULL)
		usage();
	if (o.key_space == 0)
		o.key_space = o.keys_per_batch > 0 ? 4 * o.keys_per_batch : 1;
	if (o.keys_per_batch > o.key_space) {
		fprintf(stderr, "mkspark: --keys-per-batch %" PRId64
		    " exceeds --key-space %" PRId64 "\n", o.keys_per_batch,
		    o.key_space);
		return 2;
	}
	run(&o);
	return 0;
}
