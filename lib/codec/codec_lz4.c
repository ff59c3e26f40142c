/*
 * codec_lz4.c - lz4-java LZ4Block streams and Spark state record streams.
 *
 * Decodes the framing of lz4-java's LZ4BlockOutputStream, which Spark
 * uses for every HDFS-backed state file, DStream checkpoint and RocksDB
 * changelog (docs/spark-checkpoint-format.md section 2.2): 21-byte
 * headers, raw or LZ4 block payloads, XXH32 (seed 0x9747B28C) masked to
 * 28 bits over the decoded bytes, an empty end block.  One block is held
 * at a time, so memory is bounded by the largest block the header's
 * level allows (32 KiB for Spark's default), never by the file.
 *
 * On top sits the state store record stream (section 2.3): big-endian
 * int32 key length, key, int32 value length (-1 = delete), value, and an
 * int32 -1 end marker that must end the data exactly.  Keys and values
 * are grown as their bytes actually arrive, so a hostile length cannot
 * make us allocate more than the file holds.
 *
 * It does not interpret the rows (codec_unsaferow.c does) and does not
 * support the other Spark codecs (snappy, zstd, lzf): callers see a
 * "bad magic" error naming the offset.
 */
#include "spark_codec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <xxhash.h>

#define METHOD_RAW 0x10
#define METHOD_LZ4 0x20

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

int
spark_membuf_read(void *arg, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	struct spark_membuf *m = arg;
	size_t n = m->len - m->pos;

	(void)err;
	if (n > len)
		n = len;
	if (n)
		memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*got = n;
	return CKPT_OK;
}

void
spark_lz4_init(struct spark_lz4 *z, spark_read_fn fn, void *arg,
	const char *path)
{
	memset(z, 0, sizeof(*z));
	z->read = fn;
	z->arg = arg;
	z->path = path ? path : "";
}

void
spark_lz4_release(struct spark_lz4 *z)
{
	if (!z)
		return;
	free(z->cbuf);
	free(z->obuf);
	z->cbuf = z->obuf = NULL;
	z->ccap = z->ocap = 0;
}

/* Reads exactly len bytes unless the input ends; *got tells. */
static int
read_full(struct spark_lz4 *z, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	size_t done = 0, n;
	int rc;

	while (done < len) {
		rc = z->read(z->arg, (uint8_t *)buf + done, len - done, &n,
			err);
		if (rc != CKPT_OK)
			return rc;
		if (n == 0)
			break;
		done += n;
	}
	*got = done;
	z->in_off += done;
	return CKPT_OK;
}

static int
grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *nb;

	if (*cap >= need)
		return 0;
	nb = realloc(*buf, need ? need : 1);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = need;
	return 0;
}

static int
bad(struct spark_lz4 *z, struct ckpt_error *err, uint64_t off,
	const char *why)
{
	return ckpt_error_set(err, CKPT_E_FORMAT,
		"cannot decode '%s': lz4 block at offset %llu: %s", z->path,
		(unsigned long long)off, why);
}

/*
 * Not LZ4Block: name the codec when the magic is another one Spark can
 * be configured with (section 2.2), which is valid but unsupported.
 */
static int
other_codec(struct spark_lz4 *z, const uint8_t *h, uint64_t off,
	struct ckpt_error *err)
{
	const char *name = NULL;

	if (memcmp(h, "\x82SNAPPY", 7) == 0)
		name = "snappy";
	else if (memcmp(h, "\x28\xB5\x2F\xFD", 4) == 0)
		name = "zstd";
	else if (h[0] == 'Z' && h[1] == 'V')
		name = "lzf";
	if (!name || off != 0)
		return bad(z, err, off, "bad magic (not LZ4Block)");
	return ckpt_error_set(err, CKPT_E_UNSUPPORTED,
		"cannot decode '%s': %s-compressed state is not supported "
		"(only lz4, Spark's default)", z->path, name);
}

/* Validates a header against lz4-java's LZ4BlockInputStream rules. */
static int
check_header(struct spark_lz4 *z, const uint8_t *h, struct spark_lz4_block *b,
	struct ckpt_error *err)
{
	int32_t clen, olen;
	uint64_t max;

	if (memcmp(h, SPARK_LZ4_MAGIC, 8) != 0)
		return other_codec(z, h, b->offset, err);
	b->method = h[8] & 0xF0;
	b->level = h[8] & 0x0F;
	clen = (int32_t)le32(h + 9);
	olen = (int32_t)le32(h + 13);
	b->checksum = le32(h + 17);
	if (b->method != METHOD_RAW && b->method != METHOD_LZ4)
		return bad(z, err, b->offset, "unknown compression method");
	max = (uint64_t)1 << (10 + b->level);
	if (clen < 0 || olen < 0 || (uint64_t)olen > max)
		return bad(z, err, b->offset, "block length out of range");
	if ((olen == 0) != (clen == 0))
		return bad(z, err, b->offset, "inconsistent block lengths");
	if (b->method == METHOD_RAW && clen != olen)
		return bad(z, err, b->offset,
			"raw block with different lengths");
	if ((uint64_t)clen > (uint64_t)LZ4_compressBound((int)max))
		return bad(z, err, b->offset, "compressed length too large");
	b->clen = (uint32_t)clen;
	b->olen = (uint32_t)olen;
	b->is_end = olen == 0;
	if (b->is_end && b->checksum != 0)
		return bad(z, err, b->offset, "end block with a checksum");
	return CKPT_OK;
}

int
spark_lz4_next_block(struct spark_lz4 *z, struct spark_lz4_block *b,
	struct ckpt_error *err)
{
	uint8_t h[SPARK_LZ4_HEADER];
	uint8_t *src;
	size_t got;
	uint32_t sum;
	int rc;

	memset(b, 0, sizeof(*b));
	b->offset = z->in_off;
	z->olen = z->opos = 0;
	if (z->state == 2)
		return CKPT_EOF;
	rc = read_full(z, h, sizeof(h), &got, err);
	if (rc != CKPT_OK)
		return rc;
	if (got == 0) {
		if (z->state == 1) {
			z->state = 2;
			return CKPT_EOF;
		}
		return bad(z, err, b->offset,
			"truncated: stream ends without an end block");
	}
	if (got < sizeof(h))
		return bad(z, err, b->offset, "truncated block header");
	rc = check_header(z, h, b, err);
	if (rc != CKPT_OK)
		return rc;
	z->last = *b;
	if (b->is_end) {
		z->state = 1;
		return CKPT_OK;
	}
	z->state = 0;
	if (grow(&z->obuf, &z->ocap, b->olen) != 0 ||
	    (b->method == METHOD_LZ4 &&
	     grow(&z->cbuf, &z->ccap, b->clen) != 0))
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot decode '%s': out of memory", z->path);
	src = b->method == METHOD_LZ4 ? z->cbuf : z->obuf;
	rc = read_full(z, src, b->clen, &got, err);
	if (rc != CKPT_OK)
		return rc;
	if (got < b->clen)
		return bad(z, err, b->offset, "truncated block payload");
	if (b->method == METHOD_LZ4) {
		int n = LZ4_decompress_safe((const char *)z->cbuf,
			(char *)z->obuf, (int)b->clen, (int)b->olen);
		if (n < 0 || (uint32_t)n != b->olen)
			return bad(z, err, b->offset,
				"lz4 payload does not decompress");
	}
	sum = XXH32(z->obuf, b->olen, SPARK_LZ4_SEED) & 0x0FFFFFFFu;
	if (sum != b->checksum)
		return ckpt_error_set(err, CKPT_E_CHECKSUM,
			"checksum mismatch in '%s': lz4 block at offset %llu: "
			"xxhash %08x, expected %08x", z->path,
			(unsigned long long)b->offset, sum, b->checksum);
	z->olen = b->olen;
	z->blocks++;
	return CKPT_OK;
}

int
spark_lz4_read(struct spark_lz4 *z, void *buf, size_t len, size_t *got,
	struct ckpt_error *err)
{
	struct spark_lz4_block b;
	size_t done = 0, n;
	int rc;

	while (done < len) {
		if (z->opos == z->olen) {
			rc = spark_lz4_next_block(z, &b, err);
			if (rc == CKPT_EOF)
				break;
			if (rc != CKPT_OK)
				return rc;
			continue;
		}
		n = z->olen - z->opos;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, z->obuf + z->opos, n);
		z->opos += n;
		done += n;
	}
	z->out_total += done;
	*got = done;
	return CKPT_OK;
}

/* ---- record stream ---- */

void
spark_rec_init(struct spark_rec_reader *r, spark_read_fn fn, void *arg,
	const char *path)
{
	memset(r, 0, sizeof(*r));
	spark_lz4_init(&r->z, fn, arg, path);
}

void
spark_rec_release(struct spark_rec_reader *r)
{
	if (!r)
		return;
	spark_lz4_release(&r->z);
	free(r->key);
	free(r->val);
	r->key = r->val = NULL;
}

static int
rbad(struct spark_rec_reader *r, struct ckpt_error *err, uint64_t off,
	const char *why)
{
	return ckpt_error_set(err, CKPT_E_FORMAT,
		"cannot decode '%s': record at decoded offset %llu: %s",
		r->z.path, (unsigned long long)off, why);
}

static int32_t
be32s(const uint8_t *b)
{
	return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3]);
}

static int
read_i32(struct spark_rec_reader *r, int32_t *v, size_t *got,
	struct ckpt_error *err)
{
	uint8_t b[4];
	int rc;

	if (r->z.olen - r->z.opos >= 4) {
		*v = be32s(r->z.obuf + r->z.opos);
		r->z.opos += 4;
		r->z.out_total += 4;
		*got = 4;
		return CKPT_OK;
	}
	rc = spark_lz4_read(&r->z, b, 4, got, err);
	if (rc != CKPT_OK)
		return rc;
	*v = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3]);
	return CKPT_OK;
}

/* Reads n bytes into *buf, growing it only as bytes arrive. */
static int
read_blob(struct spark_rec_reader *r, uint8_t **buf, size_t *cap, size_t n,
	uint64_t off, struct ckpt_error *err)
{
	size_t done = 0, chunk, got;
	int rc;

	if (grow(buf, cap, 8) != 0)
		goto nomem;
	while (done < n) {
		chunk = n - done;
		if (chunk > 65536)
			chunk = 65536;
		if (grow(buf, cap, done + chunk) != 0)
			goto nomem;
		rc = spark_lz4_read(&r->z, *buf + done, chunk, &got, err);
		if (rc != CKPT_OK)
			return rc;
		if (got < chunk)
			return rbad(r, err, off, "truncated record");
		done += got;
	}
	return CKPT_OK;
nomem:
	return ckpt_error_set(err, CKPT_E_NOMEM,
		"cannot decode '%s': out of memory", r->z.path);
}

/*
 * The common case: the rest of a record whose key length (klen >= 0)
 * was just read lies inside the current decoded block.  Points the
 * record into the block instead of copying it; returns 0, consuming
 * nothing, when it does not fit or is not a well-formed put/delete (the
 * copying path then reads it and names what is wrong).
 */
static int
rec_in_block(struct spark_rec_reader *r, int allow_delete, int32_t klen,
	uint64_t off, struct spark_rec *out)
{
	struct spark_lz4 *z = &r->z;
	size_t avail = z->olen - z->opos, need = (size_t)klen + 4;
	const uint8_t *p = z->obuf + z->opos;
	int32_t vlen;

	if (avail < need)
		return 0;
	vlen = be32s(p + klen);
	if (vlen == -1 && !allow_delete)
		return 0;
	if (vlen < -1 || (vlen >= 0 && ((uint32_t)vlen > SPARK_REC_MAX ||
	    avail - need < (size_t)vlen)))
		return 0;
	out->offset = off;
	out->key = p;
	out->key_len = (size_t)klen;
	if (vlen == -1) {
		out->kind = SPARK_REC_DELETE;
	} else {
		out->kind = SPARK_REC_PUT;
		out->value = p + need;
		out->value_len = (size_t)vlen;
		need += (size_t)vlen;
	}
	z->opos += need;
	z->out_total += need;
	r->records++;
	return 1;
}

int
spark_rec_next(struct spark_rec_reader *r, int allow_delete,
	struct spark_rec *out, struct ckpt_error *err)
{
	uint64_t off = r->z.out_total;
	int32_t klen, vlen;
	uint8_t extra;
	size_t got;
	int rc;

	memset(out, 0, sizeof(*out));
	if (r->done)
		return CKPT_EOF;
	rc = read_i32(r, &klen, &got, err);
	if (rc != CKPT_OK)
		return rc;
	if (got < 4)
		return rbad(r, err, off, "truncated: no end marker");
	if (klen == -1) {
		rc = spark_lz4_read(&r->z, &extra, 1, &got, err);
		if (rc != CKPT_OK)
			return rc;
		if (got != 0)
			return rbad(r, err, off + 4,
				"data after the end marker");
		r->done = 1;
		return CKPT_EOF;
	}
	if (klen < 0 || (uint32_t)klen > SPARK_REC_MAX)
		return rbad(r, err, off, "bad key length");
	if (rec_in_block(r, allow_delete, klen, off, out))
		return CKPT_OK;
	rc = read_blob(r, &r->key, &r->kcap, (size_t)klen, off, err);
	if (rc != CKPT_OK)
		return rc;
	rc = read_i32(r, &vlen, &got, err);
	if (rc != CKPT_OK)
		return rc;
	if (got < 4)
		return rbad(r, err, off, "truncated record");
	out->offset = off;
	out->key = r->key;
	out->key_len = (size_t)klen;
	if (vlen == -1) {
		if (!allow_delete)
			return rbad(r, err, off, "delete record in a snapshot");
		out->kind = SPARK_REC_DELETE;
		r->records++;
		return CKPT_OK;
	}
	if (vlen < 0 || (uint32_t)vlen > SPARK_REC_MAX)
		return rbad(r, err, off, "bad value length");
	rc = read_blob(r, &r->val, &r->vcap, (size_t)vlen, off, err);
	if (rc != CKPT_OK)
		return rc;
	out->kind = SPARK_REC_PUT;
	out->value = r->val;
	out->value_len = (size_t)vlen;
	r->records++;
	return CKPT_OK;
}
