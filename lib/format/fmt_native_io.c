/*
 * fmt_native_io.c - framed files of the native format: the 16-byte
 * header, checksummed blocks, the 32-byte footer (ckpt-format(5), FILE
 * LAYOUT).  A writer that cuts records into ~64 KiB blocks and a
 * streaming reader holding one block at a time; small JSON files (meta,
 * offsets, commits) are read whole and checked in memory.
 *
 * This file knows nothing about directories, batches or schemas.  Every
 * length read from a file is checked against the bytes that remain and
 * against fixed caps before it is used or allocated.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"
#include "../codec/codec.h"

static const char *const kind_names[] = {
	[0] = "?", [NAT_K_META] = "meta", [NAT_K_OFFSETS] = "offsets",
	[NAT_K_COMMIT] = "commit", [NAT_K_SNAPSHOT] = "snapshot",
	[NAT_K_DELTA] = "delta", [NAT_K_BLOB] = "blob",
};

const char *
nat_kind_name(int kind)
{
	return kind > 0 && kind <= NAT_K_MAX ? kind_names[kind] : "?";
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------------ */
/* Headers, footers, block headers                                      */
/* ------------------------------------------------------------------ */

static void
why_set(char *why, size_t whylen, const char *fmt, ...) CKPT_PRINTF(3, 4);

static void
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void
header_encode(uint8_t *p, int version, int kind)
{
	memcpy(p, NAT_MAGIC, NAT_MAGIC_LEN);
	put16(p + 8, (uint16_t)version);
	put16(p + 10, (uint16_t)kind);
	put32(p + 12, 0);
}

int
nat_parse_header(const uint8_t *p, struct nat_header *h, char *why,
    size_t whylen)
{
	if (memcmp(p, NAT_MAGIC, NAT_MAGIC_LEN) != 0) {
		why_set(why, whylen, "bad magic (not a ckpt native file)");
		return -1;
	}
	h->version = get16(p + 8);
	h->kind = get16(p + 10);
	if (h->version < NAT_VERSION_MIN || h->version > NAT_VERSION_MAX) {
		why_set(why, whylen, "unknown format version %d", h->version);
		return -1;
	}
	if (h->kind < 1 || h->kind > NAT_K_MAX) {
		why_set(why, whylen, "unknown file kind %d", h->kind);
		return -1;
	}
	if (get32(p + 12) != 0) {
		why_set(why, whylen, "reserved header flags 0x%08" PRIx32
		    " are not zero", get32(p + 12));
		return -1;
	}
	return 0;
}

static void
footer_encode(uint8_t *p, uint64_t records, uint64_t blocks, uint64_t h)
{
	memcpy(p, NAT_FOOTER_MAGIC, NAT_MAGIC_LEN);
	put64(p + 8, records);
	put64(p + 16, blocks);
	put64(p + 24, h);
}

int
nat_parse_footer(const uint8_t *p, struct nat_footer *f, char *why,
    size_t whylen)
{
	if (memcmp(p, NAT_FOOTER_MAGIC, NAT_MAGIC_LEN) != 0) {
		why_set(why, whylen, "bad footer magic (truncated or damaged)");
		return -1;
	}
	f->records = get64(p + 8);
	f->blocks = get64(p + 16);
	f->xxh3 = get64(p + 24);
	return 0;
}

struct blk_hdr {
	uint64_t xxh3;		/* of bytes 8..23 of the header + stored */
	uint32_t stored_len;
	uint32_t raw_len;
	uint32_t records;
	int codec;
	uint32_t reserved;
};

static void
blk_hdr_parse(const uint8_t *p, struct blk_hdr *b)
{
	b->xxh3 = get64(p);
	b->stored_len = get32(p + 8);
	b->raw_len = get32(p + 12);
	b->records = get32(p + 16);
	b->codec = p[20];
	b->reserved = (uint32_t)p[21] | (uint32_t)p[22] << 8 |
	    (uint32_t)p[23] << 16;
}

/*
 * Checks a block header against the bytes left before the footer
 * (avail counts from the block header's first byte).
 */
static int
blk_hdr_check(const struct blk_hdr *b, uint64_t avail, char *why,
    size_t whylen)
{
	if (avail < NAT_BLOCK_HEADER_SIZE) {
		why_set(why, whylen, "block header runs into the footer");
		return -1;
	}
	if (b->codec != NAT_C_RAW && b->codec != NAT_C_ZSTD) {
		why_set(why, whylen, "unknown codec %d", b->codec);
		return -1;
	}
	if (b->reserved != 0) {
		why_set(why, whylen, "reserved block bytes are not zero");
		return -1;
	}
	if (b->stored_len > avail - NAT_BLOCK_HEADER_SIZE) {
		why_set(why, whylen, "stored length %" PRIu32
		    " runs past the footer", b->stored_len);
		return -1;
	}
	if (b->raw_len > NAT_BLOCK_RAW_MAX ||
	    b->stored_len > NAT_BLOCK_STORED_MAX) {
		why_set(why, whylen, "block length %" PRIu32
		    " exceeds the 64 MiB record limit", b->raw_len);
		return -1;
	}
	if (b->codec == NAT_C_RAW && b->raw_len != b->stored_len) {
		why_set(why, whylen, "raw block has stored length %" PRIu32
		    " but raw length %" PRIu32, b->stored_len, b->raw_len);
		return -1;
	}
	if (b->records > b->raw_len) {
		why_set(why, whylen, "%" PRIu32 " records cannot fit in %"
		    PRIu32 " bytes", b->records, b->raw_len);
		return -1;
	}
	return 0;
}

/* Block checksum: XXH3-64 over header bytes 8..23 then the stored bytes. */
static uint64_t
blk_checksum(const uint8_t *hdr, const uint8_t *stored, size_t n)
{
	struct ckpt_xxh3 *h = NULL;
	uint64_t v;
	uint8_t tmp[NAT_BLOCK_HEADER_SIZE + 256];

	if (n <= 256) {
		memcpy(tmp, hdr + 8, 16);
		memcpy(tmp + 16, stored, n);
		return ckpt_xxh3_64(tmp, n + 16);
	}
	h = ckpt_xxh3_new();
	if (h == NULL) {
		/* out of memory: fall back to a contiguous copy */
		uint8_t *c = malloc(n + 16);

		if (c == NULL)
			return 0;
		memcpy(c, hdr + 8, 16);
		memcpy(c + 16, stored, n);
		v = ckpt_xxh3_64(c, n + 16);
		free(c);
		return v;
	}
	ckpt_xxh3_update(h, hdr + 8, 16);
	ckpt_xxh3_update(h, stored, n);
	v = ckpt_xxh3_digest(h);
	ckpt_xxh3_free(h);
	return v;
}

/*
 * Verifies and decodes one block whose header and stored bytes are in
 * memory.  Raw blocks are used in place (*raw = stored); zstd blocks are
 * decompressed into *rbuf (grown as needed).
 */
static int
blk_decode(const uint8_t *hdr, const struct blk_hdr *b, const uint8_t *stored,
    uint8_t **rbuf, size_t *rcap, const uint8_t **raw, struct ckpt_zstd *z,
    char *why, size_t whylen, int *fail_kind)
{
	uint64_t got = blk_checksum(hdr, stored, b->stored_len);
	size_t n;

	*fail_kind = CKPT_E_CHECKSUM;
	if (got != b->xxh3) {
		why_set(why, whylen, "checksum mismatch (stored %016" PRIx64
		    ", computed %016" PRIx64 ")", b->xxh3, got);
		return -1;
	}
	*fail_kind = CKPT_E_FORMAT;
	if (b->codec == NAT_C_RAW) {
		*raw = stored;
		return 0;
	}
	if (*rcap < b->raw_len || *rbuf == NULL) {
		size_t nc = b->raw_len ? b->raw_len : 1;
		uint8_t *nb = realloc(*rbuf, nc);

		if (nb == NULL) {
			*fail_kind = CKPT_E_NOMEM;
			why_set(why, whylen, "out of memory");
			return -1;
		}
		*rbuf = nb;
		*rcap = nc;
	}
	if (ckpt_zstd_decompress_z(z, *rbuf, b->raw_len, stored,
	    b->stored_len, &n, NULL, 0) != 0 || n != b->raw_len) {
		why_set(why, whylen, "zstd data does not decompress to %"
		    PRIu32 " bytes", b->raw_len);
		return -1;
	}
	*raw = *rbuf;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */
/* ------------------------------------------------------------------ */

struct nat_fwriter {
	struct ckpt_wfile *wf;		/* NULL: in memory (mem) */
	struct ckpt_buf mem;		/* bytes written before nat_fw_attach */
	struct ckpt_buf blk;		/* raw payload of the open block */
	struct ckpt_buf out;		/* header + stored bytes */
	uint32_t blk_records;
	uint64_t records;
	uint64_t blocks;
	int codec;
	int level;			/* zstd level (1) */
	struct ckpt_xxh3 *hash;		/* bytes before the footer */
	struct ckpt_zstd *z;		/* one zstd context for all blocks */
	int z_lent;			/* z is the caller's: not freed */
	char path[NAT_PATH_MAX];
};

static int
fw_write(struct nat_fwriter *fw, const void *p, size_t n,
    struct ckpt_error *err)
{
	if (fw->wf == NULL) {
		if (ckpt_buf_append(&fw->mem, p, n) != 0)
			return ckpt_error_set(err, CKPT_E_NOMEM,
			    "cannot write '%s': out of memory", fw->path);
	} else if (ckpt_wfile_write(fw->wf, p, n, err) != CKPT_OK) {
		return CKPT_FAILED;
	}
	ckpt_xxh3_update(fw->hash, p, n);
	return CKPT_OK;
}

/* A writer with its header written to mem (no file yet), or NULL. */
static struct nat_fwriter *
fw_new(const char *path, int version, int kind, int codec)
{
	struct nat_fwriter *fw = calloc(1, sizeof(*fw));
	uint8_t hdr[NAT_HEADER_SIZE];

	if (fw == NULL)
		return NULL;
	fw->hash = ckpt_xxh3_new();
	if (fw->hash == NULL) {
		free(fw);
		return NULL;
	}
	fw->codec = codec;
	/*
	 * Level 1 for every file: output is written every batch and state
	 * every few, both read rarely.  On the engine's key-sorted state
	 * level 3 was no smaller (200k wordcount keys: 763 KB at 3, 696 KB
	 * at 1; 1M keys: 2.79 MB either way).
	 */
	fw->level = 1;
	snprintf(fw->path, sizeof(fw->path), "%s", path);
	header_encode(hdr, version, kind);
	if (fw_write(fw, hdr, sizeof(hdr), NULL) != CKPT_OK) {
		nat_fw_abort(fw);
		return NULL;
	}
	return fw;
}

int
nat_fw_open(struct ckpt_store *st, const char *path, unsigned flags,
    int version, int kind, int codec, struct nat_fwriter **out,
    struct ckpt_error *err)
{
	struct nat_fwriter *fw;

	*out = NULL;
	if ((fw = fw_new(path, version, kind, codec)) == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write '%s': out of memory", path);
	if (nat_fw_attach(fw, st, flags, err) != CKPT_OK) {
		nat_fw_abort(fw);
		return CKPT_FAILED;
	}
	*out = fw;
	return CKPT_OK;
}

int
nat_fw_open_mem(const char *path, int version, int kind, int codec,
    struct nat_fwriter **out, struct ckpt_error *err)
{
	if ((*out = fw_new(path, version, kind, codec)) == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write '%s': out of memory", path);
	return CKPT_OK;
}

int
nat_fw_attach(struct nat_fwriter *fw, struct ckpt_store *st, unsigned flags,
    struct ckpt_error *err)
{
	if (fw->wf != NULL)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': it has a file already", fw->path);
	if (ckpt_store_create(st, fw->path, flags, &fw->wf, err) != CKPT_OK)
		return CKPT_FAILED;
	if (fw->mem.len > 0 && ckpt_wfile_write(fw->wf, fw->mem.data,
	    fw->mem.len, err) != CKPT_OK)
		return CKPT_FAILED;
	ckpt_buf_release(&fw->mem);
	return CKPT_OK;
}

/* Compresses (if worth it) and writes the open block. */
static int
fw_flush(struct nat_fwriter *fw, struct ckpt_error *err)
{
	uint8_t *h;
	size_t stored = fw->blk.len, bound;
	int codec = NAT_C_RAW;

	if (fw->blk.len == 0 && fw->blk_records == 0)
		return CKPT_OK;
	fw->out.len = 0;
	bound = ckpt_zstd_bound(fw->blk.len);
	if (ckpt_buf_reserve(&fw->out, NAT_BLOCK_HEADER_SIZE +
	    (bound > fw->blk.len ? bound : fw->blk.len)) != 0)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write '%s': out of memory", fw->path);
	h = fw->out.data;
	if (fw->codec == NAT_C_ZSTD && fw->blk.len > 0) {
		size_t n;

		if (fw->z == NULL)
			fw->z = ckpt_zstd_new();	/* NULL: one per block */
		if (ckpt_zstd_compress_z(fw->z, h + NAT_BLOCK_HEADER_SIZE,
		    bound, fw->blk.data, fw->blk.len, fw->level, &n) == 0 &&
		    n < fw->blk.len) {
			codec = NAT_C_ZSTD;
			stored = n;
		}
	}
	if (codec == NAT_C_RAW && fw->blk.len > 0)
		memcpy(h + NAT_BLOCK_HEADER_SIZE, fw->blk.data, fw->blk.len);
	put32(h + 8, (uint32_t)stored);
	put32(h + 12, (uint32_t)fw->blk.len);
	put32(h + 16, fw->blk_records);
	h[20] = (uint8_t)codec;
	h[21] = h[22] = h[23] = 0;
	put64(h, blk_checksum(h, h + NAT_BLOCK_HEADER_SIZE, stored));
	if (fw_write(fw, h, NAT_BLOCK_HEADER_SIZE + stored, err) != CKPT_OK)
		return CKPT_FAILED;
	fw->blocks++;
	fw->records += fw->blk_records;
	fw->blk.len = 0;
	fw->blk_records = 0;
	return CKPT_OK;
}

/*
 * Room for n more bytes in the open block, which is compressed and
 * written first if they would not fit; where to put them, or NULL.
 */
static uint8_t *
fw_room(struct nat_fwriter *fw, size_t n, struct ckpt_error *err)
{
	if (fw->blk.len > 0 && fw->blk.len + n > NAT_BLOCK_TARGET &&
	    fw_flush(fw, err) != CKPT_OK)
		return NULL;
	if (fw->blk.cap - fw->blk.len < n &&
	    ckpt_buf_reserve(&fw->blk, n) != 0) {
		ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write '%s': out of memory", fw->path);
		return NULL;
	}
	return fw->blk.data + fw->blk.len;
}

/* The n bytes fw_room gave are written (one record or none); a full
 * block is compressed and written. */
static int
fw_grow(struct nat_fwriter *fw, size_t n, int record, struct ckpt_error *err)
{
	fw->blk.len += n;
	fw->blk_records += record != 0;
	if (fw->blk.len >= NAT_BLOCK_TARGET)
		return fw_flush(fw, err);
	return CKPT_OK;
}

/* Bytes of v as a LEB128 varint. */
static inline size_t
uv_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Copies n bytes; short ones (keys, small values) without a call. */
static inline void
copy_short(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n > 24) {
		memcpy(d, s, n);
		return;
	}
	while (n-- > 0)
		*d++ = *s++;
}

int
nat_fw_state_record(struct nat_fwriter *fw, const void *key, size_t klen,
    const void *val, size_t vlen, int tomb, struct ckpt_error *err)
{
	uint64_t vv = tomb ? 0 : (uint64_t)vlen + 1;
	size_t n = uv_len(klen) + klen + uv_len(vv) + (tomb ? 0 : vlen);
	uint8_t *p;

	if (klen + vlen > NAT_RECORD_MAX)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "cannot write '%s': a record of %zu bytes exceeds the "
		    "64 MiB limit", fw->path, klen + vlen);
	if ((p = fw_room(fw, n, err)) == NULL)
		return CKPT_FAILED;
	p += ckpt_varint_encode_in(p, klen);
	copy_short(p, key, klen);
	p += klen;
	p += ckpt_varint_encode_in(p, vv);
	if (!tomb)
		copy_short(p, val, vlen);
	return fw_grow(fw, n, 1, err);
}

int
nat_fw_bytes(struct nat_fwriter *fw, const void *p, size_t n,
    struct ckpt_error *err)
{
	const uint8_t *b = p;

	while (n > 0) {
		size_t room = NAT_BLOCK_TARGET - fw->blk.len;
		size_t k = n < room ? n : room;
		uint8_t *d = fw_room(fw, k, err);

		if (d == NULL)
			return CKPT_FAILED;
		memcpy(d, b, k);
		if (fw_grow(fw, k, 0, err) != CKPT_OK)
			return CKPT_FAILED;
		b += k;
		n -= k;
	}
	return CKPT_OK;
}

void
nat_fw_abort(struct nat_fwriter *fw)
{
	if (fw == NULL)
		return;
	ckpt_wfile_abort(fw->wf);
	ckpt_buf_release(&fw->mem);
	ckpt_buf_release(&fw->blk);
	ckpt_buf_release(&fw->out);
	ckpt_xxh3_free(fw->hash);
	if (!fw->z_lent)
		ckpt_zstd_free(fw->z);
	free(fw);
}

void
nat_fw_lend_zstd(struct nat_fwriter *fw, struct ckpt_zstd *z)
{
	if (z == NULL && !fw->z_lent)
		return;		/* keeps its own */
	if (!fw->z_lent)
		ckpt_zstd_free(fw->z);
	fw->z = z;
	fw->z_lent = z != NULL;
}

const char *
nat_fw_path(const struct nat_fwriter *fw)
{
	return fw->path;
}

int
nat_fw_flush(struct nat_fwriter *fw, struct ckpt_error *err)
{
	return fw_flush(fw, err);
}

int
nat_fw_finish(struct nat_fwriter *fw, struct nat_fw_result *res,
    struct ckpt_error *err)
{
	return nat_fw_finish_keep(fw, res, NULL, err);
}

int
nat_fw_finish_keep(struct nat_fwriter *fw, struct nat_fw_result *res,
    struct ckpt_wfile **keep, struct ckpt_error *err)
{
	uint8_t foot[NAT_FOOTER_SIZE];
	if (fw_flush(fw, err) != CKPT_OK)
		goto fail;
	footer_encode(foot, fw->records, fw->blocks,
	    ckpt_xxh3_digest(fw->hash));
	/* the whole-file hash continues the running one over the footer */
	ckpt_xxh3_update(fw->hash, foot, sizeof(foot));
	if (ckpt_wfile_write(fw->wf, foot, sizeof(foot), err) != CKPT_OK)
		goto fail;
	if (res != NULL) {
		res->size = ckpt_wfile_size(fw->wf);
		res->xxh3 = ckpt_xxh3_digest(fw->hash);
		res->records = fw->records;
		res->blocks = fw->blocks;
	}
	if (keep != NULL) {
		*keep = fw->wf;
		fw->wf = NULL;
		nat_fw_abort(fw);
		return CKPT_OK;
	}
	if (ckpt_wfile_commit(fw->wf, err) != CKPT_OK) {
		fw->wf = NULL;
		goto fail;
	}
	fw->wf = NULL;
	nat_fw_abort(fw);
	return CKPT_OK;
fail:
	nat_fw_abort(fw);
	return CKPT_FAILED;
}

int
nat_write_small(struct ckpt_store *st, const char *path, unsigned flags,
    int version, int kind, const char *text, size_t len,
    struct nat_fw_result *res, struct ckpt_error *err)
{
	struct nat_fwriter *fw;

	if (nat_fw_open(st, path, flags, version, kind, NAT_C_RAW, &fw,
	    err) != CKPT_OK)
		return CKPT_FAILED;
	/* one block however long: small files are read whole */
	if (ckpt_buf_append(&fw->blk, text, len) != 0) {
		nat_fw_abort(fw);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot write '%s': out of memory", path);
	}
	fw->blk_records = 1;
	return nat_fw_finish(fw, res, err);
}

/* ------------------------------------------------------------------ */
/* Whole small files                                                    */
/* ------------------------------------------------------------------ */

int
nat_decode_small(const uint8_t *p, size_t n, int kind, char **text,
    size_t *len, struct nat_header *h, char *why, size_t whylen,
    int64_t *fail_off)
{
	struct ckpt_buf out = { 0 };
	struct nat_footer f;
	uint64_t off = NAT_HEADER_SIZE, end, blocks = 0, records = 0;
	uint8_t *rbuf = NULL;
	size_t rcap = 0;
	int fk;

	*text = NULL;
	*fail_off = 0;
	if (n < NAT_HEADER_SIZE + NAT_FOOTER_SIZE) {
		why_set(why, whylen, "file of %zu bytes is too short for "
		    "a header and a footer", n);
		if (n >= NAT_HEADER_SIZE)
			*fail_off = (int64_t)n;
		return -1;
	}
	if (nat_parse_header(p, h, why, whylen) != 0)
		return -1;
	if (kind != 0 && h->kind != kind) {
		why_set(why, whylen, "file kind %s, expected %s",
		    nat_kind_name(h->kind), nat_kind_name(kind));
		return -1;
	}
	end = n - NAT_FOOTER_SIZE;
	while (off < end) {
		struct blk_hdr b;
		const uint8_t *raw;

		*fail_off = (int64_t)off;
		if (end - off < NAT_BLOCK_HEADER_SIZE) {
			why_set(why, whylen, "block %" PRIu64 " at offset %"
			    PRIu64 ": block header runs into the footer",
			    blocks, off);
			goto fail;
		}
		blk_hdr_parse(p + off, &b);
		if (blk_hdr_check(&b, end - off, why, whylen) != 0 ||
		    blk_decode(p + off, &b, p + off + NAT_BLOCK_HEADER_SIZE,
		    &rbuf, &rcap, &raw, NULL, why, whylen, &fk) != 0) {
			char inner[CKPT_ERROR_MSG_MAX];

			snprintf(inner, sizeof(inner), "%s", why);
			why_set(why, whylen, "block %" PRIu64 " at offset %"
			    PRIu64 ": %s", blocks, off, inner);
			goto fail;
		}
		if (out.len + b.raw_len > NAT_SMALL_MAX ||
		    ckpt_buf_append(&out, raw, b.raw_len) != 0) {
			why_set(why, whylen, "out of memory");
			goto fail;
		}
		off += NAT_BLOCK_HEADER_SIZE + b.stored_len;
		blocks++;
		records += b.records;
	}
	*fail_off = (int64_t)end;
	if (nat_parse_footer(p + end, &f, why, whylen) != 0)
		goto fail;
	if (f.blocks != blocks || f.records != records) {
		why_set(why, whylen, "footer counts %" PRIu64 " blocks and %"
		    PRIu64 " records, the file has %" PRIu64 " and %" PRIu64,
		    f.blocks, f.records, blocks, records);
		goto fail;
	}
	if (ckpt_xxh3_64(p, (size_t)end) != f.xxh3) {
		why_set(why, whylen, "file checksum mismatch (stored %016"
		    PRIx64 ", computed %016" PRIx64 ")", f.xxh3,
		    ckpt_xxh3_64(p, (size_t)end));
		goto fail;
	}
	if (ckpt_buf_append(&out, "", 1) != 0) {
		why_set(why, whylen, "out of memory");
		goto fail;
	}
	free(rbuf);
	*text = (char *)out.data;
	*len = out.len - 1;
	if (memchr(*text, '\0', *len) != NULL) {
		free(*text);
		*text = NULL;
		*fail_off = NAT_HEADER_SIZE;
		why_set(why, whylen, "text holds a NUL byte");
		return -1;
	}
	return 0;
fail:
	free(rbuf);
	ckpt_buf_release(&out);
	return -1;
}

int
nat_read_small(struct ckpt_store *st, const char *path, int kind,
    char **text, size_t *len, struct nat_header *h, struct ckpt_error *err)
{
	char *data = NULL;
	size_t n = 0;
	char why[CKPT_ERROR_MSG_MAX];
	int64_t off;
	struct nat_header hh;

	*text = NULL;
	if (h == NULL)
		h = &hh;
	if (ckpt_store_read_all(st, path, NAT_SMALL_MAX, &data, &n, err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	if (nat_decode_small((const uint8_t *)data, n, kind, text, len, h,
	    why, sizeof(why), &off) != 0) {
		free(data);
		return ckpt_error_set(err, strstr(why, "checksum") ?
		    CKPT_E_CHECKSUM : CKPT_E_FORMAT,
		    "cannot read '%s': %s", path, why);
	}
	free(data);
	return CKPT_OK;
}

int
nat_check_ends(struct ckpt_store *st, const char *path, int kind,
    uint64_t size, struct nat_header *h, struct nat_footer *f, char *why,
    size_t whylen, int64_t *fail_off, struct ckpt_error *err)
{
	struct ckpt_stat sb;
	uint8_t hb[NAT_HEADER_SIZE], fb[NAT_FOOTER_SIZE];
	size_t got;

	*fail_off = 0;
	if (ckpt_store_stat(st, path, &sb, err) != CKPT_OK)
		return CKPT_FAILED;
	if (size != 0 && sb.size != size) {
		why_set(why, whylen, "size %" PRIu64 ", the manifest says %"
		    PRIu64, sb.size, size);
		*fail_off = (int64_t)(sb.size < size ? sb.size : size);
		return -1;
	}
	if (sb.size < NAT_HEADER_SIZE + NAT_FOOTER_SIZE) {
		why_set(why, whylen, "file of %" PRIu64 " bytes is too short "
		    "for a header and a footer", sb.size);
		*fail_off = (int64_t)sb.size;
		return -1;
	}
	if (ckpt_store_read_range(st, path, 0, hb, sizeof(hb), &got, err) !=
	    CKPT_OK)
		return CKPT_FAILED;
	if (got != sizeof(hb) || nat_parse_header(hb, h, why, whylen) != 0) {
		if (got != sizeof(hb))
			why_set(why, whylen, "short read of the header");
		return -1;
	}
	if (kind != 0 && h->kind != kind) {
		why_set(why, whylen, "file kind %s, expected %s",
		    nat_kind_name(h->kind), nat_kind_name(kind));
		return -1;
	}
	*fail_off = (int64_t)(sb.size - NAT_FOOTER_SIZE);
	if (ckpt_store_read_range(st, path, sb.size - NAT_FOOTER_SIZE, fb,
	    sizeof(fb), &got, err) != CKPT_OK)
		return CKPT_FAILED;
	if (got != sizeof(fb)) {
		why_set(why, whylen, "short read of the footer");
		return -1;
	}
	if (nat_parse_footer(fb, f, why, whylen) != 0)
		return -1;
	if (f->blocks > (sb.size - NAT_HEADER_SIZE - NAT_FOOTER_SIZE) /
	    NAT_BLOCK_HEADER_SIZE) {
		why_set(why, whylen, "footer counts %" PRIu64 " blocks, more "
		    "than fit in the file", f->blocks);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Streaming reader                                                     */
/* ------------------------------------------------------------------ */

static int
fr_fail(struct nat_freader *fr, int64_t off, int kind,
    struct ckpt_error *err, const char *fmt, ...) CKPT_PRINTF(5, 6);

static int
fr_fail(struct nat_freader *fr, int64_t off, int kind,
    struct ckpt_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fr->why, sizeof(fr->why), fmt, ap);
	va_end(ap);
	fr->fail_off = off;
	fr->fail_kind = kind;
	return ckpt_error_set(err, kind, "cannot read '%s': %s", fr->path,
	    fr->why);
}

/* Reads exactly n bytes at the current offset into p. */
static int
fr_read(struct nat_freader *fr, void *p, size_t n, int hash,
    struct ckpt_error *err)
{
	size_t done = 0, got;

	while (done < n) {
		if (ckpt_rfile_read(fr->f, (uint8_t *)p + done, n - done,
		    &got, err) != CKPT_OK) {
			fr->fail_off = (int64_t)(fr->off + done);
			fr->fail_kind = err ? err->kind : CKPT_E_IO;
			snprintf(fr->why, sizeof(fr->why), "%s",
			    err ? err->msg : "read failed");
			return CKPT_FAILED;
		}
		if (got == 0)
			return fr_fail(fr, (int64_t)(fr->off + done),
			    CKPT_E_FORMAT, err, "unexpected end of file at "
			    "offset %" PRIu64, fr->off + done);
		done += got;
	}
	if (hash)
		ckpt_xxh3_update(fr->hash, p, n);
	ckpt_xxh3_update(fr->whole, p, n);
	fr->off += n;
	return CKPT_OK;
}

int
nat_fr_open(struct ckpt_store *st, const char *path, int kind,
    struct nat_freader *fr, struct ckpt_error *err)
{
	uint8_t hb[NAT_HEADER_SIZE];

	memset(fr, 0, sizeof(*fr));
	fr->st = st;
	fr->fail_off = -1;
	snprintf(fr->path, sizeof(fr->path), "%s", path);
	fr->hash = ckpt_xxh3_new();
	fr->whole = ckpt_xxh3_new();
	if (fr->hash == NULL || fr->whole == NULL) {
		nat_fr_close(fr);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot read '%s': out of memory", path);
	}
	if (ckpt_store_open_read(st, path, &fr->f, err) != CKPT_OK) {
		fr->fail_kind = err ? err->kind : CKPT_E_IO;
		snprintf(fr->why, sizeof(fr->why), "%s",
		    err ? err->msg : "cannot open");
		nat_fr_close(fr);
		return CKPT_FAILED;
	}
	fr->size = ckpt_rfile_size(fr->f);
	if (fr->size < NAT_HEADER_SIZE + NAT_FOOTER_SIZE) {
		fr_fail(fr, (int64_t)fr->size, CKPT_E_FORMAT, err,
		    "file of %" PRIu64 " bytes is too short for a header and "
		    "a footer", fr->size);
		goto fail;
	}
	fr->data_end = fr->size - NAT_FOOTER_SIZE;
	if (fr_read(fr, hb, sizeof(hb), 1, err) != CKPT_OK)
		goto fail;
	if (nat_parse_header(hb, &fr->hdr, fr->why, sizeof(fr->why)) != 0) {
		char w[CKPT_ERROR_MSG_MAX];

		snprintf(w, sizeof(w), "%s", fr->why);
		fr_fail(fr, 0, CKPT_E_FORMAT, err, "%s", w);
		goto fail;
	}
	if (kind != 0 && fr->hdr.kind != kind) {
		fr_fail(fr, 10, CKPT_E_FORMAT, err, "file kind %s, expected %s",
		    nat_kind_name(fr->hdr.kind), nat_kind_name(kind));
		goto fail;
	}
	return CKPT_OK;
fail:
	ckpt_rfile_close(fr->f);
	fr->f = NULL;
	ckpt_xxh3_free(fr->hash);
	ckpt_xxh3_free(fr->whole);
	fr->hash = fr->whole = NULL;
	return CKPT_FAILED;
}

void
nat_fr_close(struct nat_freader *fr)
{
	if (fr == NULL)
		return;
	ckpt_rfile_close(fr->f);
	fr->f = NULL;
	free(fr->sbuf);
	free(fr->rbuf);
	fr->sbuf = fr->rbuf = NULL;
	ckpt_zstd_free(fr->z);
	fr->z = NULL;
	fr->scap = fr->rcap = 0;
	ckpt_xxh3_free(fr->hash);
	ckpt_xxh3_free(fr->whole);
	fr->hash = fr->whole = NULL;
}

static int
fr_footer(struct nat_freader *fr, struct ckpt_error *err)
{
	uint8_t fb[NAT_FOOTER_SIZE];
	uint64_t h = ckpt_xxh3_digest(fr->hash);
	char w[CKPT_ERROR_MSG_MAX];

	if (fr_read(fr, fb, sizeof(fb), 0, err) != CKPT_OK)
		return CKPT_FAILED;
	if (nat_parse_footer(fb, &fr->foot, w, sizeof(w)) != 0)
		return fr_fail(fr, (int64_t)fr->data_end, CKPT_E_FORMAT, err,
		    "%s", w);
	if (fr->foot.blocks != fr->blocks || fr->foot.records != fr->records)
		return fr_fail(fr, (int64_t)fr->data_end, CKPT_E_FORMAT, err,
		    "footer at offset %" PRIu64 " counts %" PRIu64
		    " blocks and %" PRIu64 " records, the file has %" PRIu64
		    " and %" PRIu64, fr->data_end, fr->foot.blocks,
		    fr->foot.records, fr->blocks, fr->records);
	if (fr->foot.xxh3 != h)
		return fr_fail(fr, (int64_t)fr->data_end, CKPT_E_CHECKSUM, err,
		    "file checksum mismatch (stored %016" PRIx64
		    ", computed %016" PRIx64 ")", fr->foot.xxh3, h);
	fr->whole_xxh3 = ckpt_xxh3_digest(fr->whole);
	fr->done = 1;
	return CKPT_EOF;
}

int
nat_fr_next_block(struct nat_freader *fr, struct ckpt_error *err)
{
	uint8_t hb[NAT_BLOCK_HEADER_SIZE];
	struct blk_hdr b;
	char w[CKPT_ERROR_MSG_MAX];
	int fk;

	if (fr->done)
		return CKPT_EOF;
	if (fr->record_mode && fr->blocks > 0 &&
	    fr->blk_records != fr->blk_seen)
		return fr_fail(fr, (int64_t)fr->blk_off, CKPT_E_FORMAT, err,
		    "block %" PRIu64 " at offset %" PRIu64 ": header counts %"
		    PRIu32 " records, it holds %" PRIu32, fr->blk_index,
		    fr->blk_off, fr->blk_records, fr->blk_seen);
	if (fr->off == fr->data_end)
		return fr_footer(fr, err);
	fr->blk_off = fr->off;
	fr->blk_index = fr->blocks;
	if (fr->data_end - fr->off < NAT_BLOCK_HEADER_SIZE)
		return fr_fail(fr, (int64_t)fr->off, CKPT_E_FORMAT, err,
		    "block %" PRIu64 " at offset %" PRIu64 ": block header "
		    "runs into the footer", fr->blocks, fr->off);
	if (fr_read(fr, hb, sizeof(hb), 1, err) != CKPT_OK)
		return CKPT_FAILED;
	blk_hdr_parse(hb, &b);
	if (blk_hdr_check(&b, fr->data_end - fr->blk_off, w, sizeof(w)) != 0)
		return fr_fail(fr, (int64_t)fr->blk_off, CKPT_E_FORMAT, err,
		    "block %" PRIu64 " at offset %" PRIu64 ": %s",
		    fr->blocks, fr->blk_off, w);
	if (fr->scap < b.stored_len || fr->sbuf == NULL) {
		size_t nc = b.stored_len > 4096 ? b.stored_len : 4096;
		uint8_t *nb = realloc(fr->sbuf, nc);

		if (nb == NULL)
			return fr_fail(fr, (int64_t)fr->blk_off, CKPT_E_NOMEM,
			    err, "out of memory");
		fr->sbuf = nb;
		fr->scap = nc;
	}
	if (fr_read(fr, fr->sbuf, b.stored_len, 1, err) != CKPT_OK)
		return CKPT_FAILED;
	if (b.codec == NAT_C_ZSTD && fr->z == NULL)
		fr->z = ckpt_zstd_new();	/* NULL: one per block */
	if (blk_decode(hb, &b, fr->sbuf, &fr->rbuf, &fr->rcap, &fr->raw,
	    fr->z, w, sizeof(w), &fk) != 0)
		return fr_fail(fr, (int64_t)fr->blk_off, fk, err,
		    "block %" PRIu64 " at offset %" PRIu64 ": %s", fr->blocks,
		    fr->blk_off, w);
	if (fr->scap + fr->rcap > fr->peak)
		fr->peak = fr->scap + fr->rcap;
	fr->raw_len = b.raw_len;
	fr->pos = 0;
	fr->blk_records = b.records;
	fr->blk_seen = 0;
	fr->blk_codec = b.codec;
	fr->blocks++;
	fr->records += b.records;
	return CKPT_OK;
}

int
nat_fr_next_record(struct nat_freader *fr, const uint8_t **key,
    size_t *klen, const uint8_t **val, size_t *vlen_p1,
    struct ckpt_error *err)
{
	uint64_t kl, vl;
	size_t used, start;
	int rc;

	fr->record_mode = 1;
	while (fr->blocks == 0 || fr->pos >= fr->raw_len) {
		rc = nat_fr_next_block(fr, err);
		if (rc != CKPT_OK)
			return rc;
	}
	start = fr->pos;
	if (fr->blk_seen == fr->blk_records)
		goto bad_count;
	if (ckpt_varint_get(fr->raw + fr->pos, fr->raw_len - fr->pos, &kl,
	    &used) != 0)
		goto bad;
	fr->pos += used;
	if (kl > fr->raw_len - fr->pos || kl > NAT_RECORD_MAX)
		goto bad;
	*key = fr->raw + fr->pos;
	*klen = (size_t)kl;
	fr->pos += (size_t)kl;
	if (ckpt_varint_get(fr->raw + fr->pos, fr->raw_len - fr->pos, &vl,
	    &used) != 0)
		goto bad;
	fr->pos += used;
	if (vl > 0 && (vl - 1 > fr->raw_len - fr->pos ||
	    vl - 1 + kl > NAT_RECORD_MAX))
		goto bad;
	*val = vl > 0 ? fr->raw + fr->pos : NULL;
	*vlen_p1 = (size_t)vl;
	if (vl > 0)
		fr->pos += (size_t)(vl - 1);
	fr->blk_seen++;
	return CKPT_OK;
bad:
	return fr_fail(fr, (int64_t)fr->blk_off, CKPT_E_FORMAT, err,
	    "block %" PRIu64 " at offset %" PRIu64 ": record %" PRIu32
	    " at byte %zu of the block: length runs past the block",
	    fr->blk_index, fr->blk_off, fr->blk_seen, start);
bad_count:
	return fr_fail(fr, (int64_t)fr->blk_off, CKPT_E_FORMAT, err,
	    "block %" PRIu64 " at offset %" PRIu64 ": header counts %" PRIu32
	    " records, it holds more", fr->blk_index, fr->blk_off,
	    fr->blk_records);
}
