/*
 * codec_hadoopcrc.c - checks data files against Hadoop `.crc` sidecars
 * (docs/spark-checkpoint-format.md section 6).
 *
 * The data file is read in windows of whole chunks and the sidecar in
 * windows of sums, so memory stays at two fixed buffers whatever the
 * file size.  The CRC is zlib's crc32 (the polynomial Hadoop's local
 * file system always uses; nothing in the sidecar records the type).
 * An empty sidecar is unverifiable rather than wrong: a crashed write
 * never flushed its header and Hadoop ignores such a file (section 10
 * item 3).  A non-empty one with a damaged header (short, bad magic,
 * bad bytesPerChecksum) is damage, CKPT_HCRC_BAD_HEADER (section 6).
 * What a missing sidecar means is the caller's business.
 */
#include "codec_hadoopcrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HCRC_DATA_WINDOW ((size_t)64 << 10)
#define HCRC_SUM_WINDOW 1024	/* sums per sidecar read */

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
verdict(struct ckpt_hcrc_result *res, int status, const char *why)
{
	res->status = status;
	snprintf(res->why, sizeof(res->why), "%s", why);
}

/* Reads exactly len bytes or reports a short file as *short_read. */
static int
read_full(ckpt_hcrc_read_fn rd, void *arg, int which, uint64_t off,
	void *buf, size_t len, int *short_read, struct ckpt_error *err)
{
	size_t got = 0;
	int rc;

	rc = rd(arg, which, off, buf, len, &got, err);
	if (rc != CKPT_OK)
		return rc;
	*short_read = got < len;
	return CKPT_OK;
}

static int
check_header(ckpt_hcrc_read_fn rd, void *arg, uint64_t data_size,
	uint64_t crc_size, struct ckpt_hcrc_result *res, uint64_t *nsums,
	struct ckpt_error *err)
{
	uint8_t hdr[CKPT_HCRC_HEADER];
	uint64_t bpc, want;
	int rc, shortr;

	if (crc_size == 0) {
		verdict(res, CKPT_HCRC_UNVERIFIABLE, "empty checksum file (header never written)");
		return CKPT_OK;
	}
	if (crc_size < CKPT_HCRC_HEADER) {
		verdict(res, CKPT_HCRC_BAD_HEADER, "checksum file shorter than its header");
		return CKPT_OK;
	}
	rc = read_full(rd, arg, 1, 0, hdr, sizeof(hdr), &shortr, err);
	if (rc != CKPT_OK)
		return rc;
	if (shortr) {
		verdict(res, CKPT_HCRC_BAD_HEADER, "checksum file shorter than its header");
		return CKPT_OK;
	}
	if (memcmp(hdr, CKPT_HCRC_MAGIC, 4) != 0) {
		verdict(res, CKPT_HCRC_BAD_HEADER, "not a hadoop checksum file (bad magic)");
		return CKPT_OK;
	}
	bpc = get_be32(hdr + 4);
	if (bpc == 0 || bpc > CKPT_HCRC_MAX_BPC) {
		verdict(res, CKPT_HCRC_BAD_HEADER, "bad bytes-per-checksum in checksum file header");
		return CKPT_OK;
	}
	res->bytes_per_checksum = (uint32_t)bpc;
	want = (data_size + bpc - 1) / bpc;
	if ((crc_size - CKPT_HCRC_HEADER) % 4 != 0 ||
	    (crc_size - CKPT_HCRC_HEADER) / 4 != want) {
		snprintf(res->why, sizeof(res->why),
			"checksum file covers %llu chunks, data size %llu needs %llu",
			(unsigned long long)((crc_size - CKPT_HCRC_HEADER) / 4),
			(unsigned long long)data_size,
			(unsigned long long)want);
		res->status = CKPT_HCRC_SIZE;
		return CKPT_OK;
	}
	*nsums = want;
	return CKPT_OK;
}

int
ckpt_hcrc_check(ckpt_hcrc_read_fn rd, void *arg, uint64_t data_size,
	uint64_t crc_size, struct ckpt_hcrc_result *res,
	struct ckpt_error *err)
{
	uint8_t *data = NULL, *sums = NULL;
	uint64_t nsums = 0, k, sum0 = 0, nsum_buf = 0, off = 0;
	size_t win, n;
	uint32_t bpc, crc;
	int rc, shortr;

	memset(res, 0, sizeof(*res));
	res->status = CKPT_HCRC_OK;
	rc = check_header(rd, arg, data_size, crc_size, res, &nsums, err);
	if (rc != CKPT_OK || res->status != CKPT_HCRC_OK)
		return rc;
	bpc = res->bytes_per_checksum;
	win = bpc > HCRC_DATA_WINDOW ? bpc : HCRC_DATA_WINDOW / bpc * bpc;
	data = malloc(win);
	sums = malloc((size_t)HCRC_SUM_WINDOW * 4);
	if (data == NULL || sums == NULL) {
		rc = ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot check checksum: out of memory");
		goto out;
	}
	for (k = 0; k < nsums; ) {
		n = data_size - off < win ? (size_t)(data_size - off) : win;
		rc = read_full(rd, arg, 0, off, data, n, &shortr, err);
		if (rc != CKPT_OK)
			goto out;
		if (shortr) {
			verdict(res, CKPT_HCRC_SIZE, "data file shorter than its size");
			goto out;
		}
		for (size_t p = 0; p < n; p += bpc, k++) {
			size_t clen = n - p < bpc ? n - p : bpc;

			if (k < sum0 || k >= sum0 + nsum_buf) {
				sum0 = k;
				nsum_buf = nsums - k < HCRC_SUM_WINDOW ?
				    nsums - k : HCRC_SUM_WINDOW;
				rc = read_full(rd, arg, 1,
					CKPT_HCRC_HEADER + k * 4, sums,
					(size_t)nsum_buf * 4, &shortr, err);
				if (rc != CKPT_OK)
					goto out;
				if (shortr) {
					verdict(res, CKPT_HCRC_SIZE, "checksum file shorter than its size");
					goto out;
				}
			}
			crc = (uint32_t)crc32(0L, data + p, (uInt)clen);
			res->chunks++;
			if (crc != get_be32(sums + (k - sum0) * 4)) {
				res->status = CKPT_HCRC_MISMATCH;
				res->bad_chunk = k;
				res->bad_offset = off + p;
				res->expected = get_be32(sums + (k - sum0) * 4);
				res->actual = crc;
				snprintf(res->why, sizeof(res->why),
					"checksum mismatch in chunk %llu at offset %llu (crc %08x, sidecar says %08x)",
					(unsigned long long)k,
					(unsigned long long)(off + p),
					(unsigned)crc, (unsigned)res->expected);
				goto out;
			}
		}
		off += n;
	}
out:
	free(data);
	free(sums);
	return rc;
}

struct hcrc_mem {
	const uint8_t *p[2];
	size_t len[2];
};

static int
mem_read(void *arg, int which, uint64_t off, void *buf, size_t len,
	size_t *got, struct ckpt_error *err)
{
	struct hcrc_mem *m = arg;
	size_t avail;

	if (off >= m->len[which]) {
		*got = 0;
		return CKPT_OK;
	}
	avail = m->len[which] - (size_t)off;
	*got = len < avail ? len : avail;
	memcpy(buf, m->p[which] + off, *got);
	return CKPT_OK;
}

int
ckpt_hcrc_check_mem(const void *data, size_t data_len, const void *crc,
	size_t crc_len, struct ckpt_hcrc_result *res, struct ckpt_error *err)
{
	struct hcrc_mem m = { { data, crc }, { data_len, crc_len } };

	return ckpt_hcrc_check(mem_read, &m, data_len, crc_len, res, err);
}

struct hcrc_store {
	struct ckpt_store *st;
	const char *path[2];
};

static int
store_read(void *arg, int which, uint64_t off, void *buf, size_t len,
	size_t *got, struct ckpt_error *err)
{
	struct hcrc_store *s = arg;

	return ckpt_store_read_range(s->st, s->path[which], off, buf, len,
		got, err);
}

int
ckpt_hcrc_check_store(struct ckpt_store *st, const char *path,
	const char *crc_path, struct ckpt_hcrc_result *res,
	struct ckpt_error *err)
{
	struct hcrc_store s = { st, { path, crc_path } };
	struct ckpt_stat ds, cs;
	int rc;

	rc = ckpt_store_stat(st, crc_path, &cs, err);
	if (rc != CKPT_OK)
		return rc;
	rc = ckpt_store_stat(st, path, &ds, err);
	if (rc != CKPT_OK)
		return rc;
	return ckpt_hcrc_check(store_read, &s, ds.size, cs.size, res, err);
}

int
ckpt_hcrc_sidecar_name(const char *path, char *out, size_t outlen,
	struct ckpt_error *err)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, outlen, ".%s.crc", path);
	else
		n = snprintf(out, outlen, "%.*s/.%s.crc",
			(int)(slash - path), path, slash + 1);
	if (n < 0 || (size_t)n >= outlen)
		return ckpt_error_set(err, CKPT_E_USAGE,
			"cannot name the checksum file of '%s': path too long",
			path);
	return CKPT_OK;
}

int
ckpt_hcrc_sidecar_target(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	if (n < 6 || name[0] != '.' || strcmp(name + n - 4, ".crc") != 0 ||
	    n - 5 >= outlen)
		return 0;
	memcpy(out, name + 1, n - 5);
	out[n - 5] = '\0';
	return 1;
}
