/*
 * codec_hadoopcrc.h - Hadoop ChecksumFileSystem `.crc` sidecars
 * (docs/spark-checkpoint-format.md section 6, section 10 items 3 and 7).
 *
 * The local file system of Hadoop writes `.<name>.crc` next to <name>:
 * "crc\0", int32 BE bytesPerChecksum, then one CRC-32 (zlib polynomial)
 * per chunk, uint32 BE.  This module checks a data file against its
 * sidecar in bounded memory (both are read in windows through a
 * callback, so a store or a memory buffer can feed it) and names the
 * first bad chunk.  Shared by the Spark and DStream drivers.
 *
 * It does not decide which files need a sidecar, nor what an orphan
 * sidecar means: callers do (a missing sidecar is "unverifiable").
 */
#ifndef CKPT_CODEC_HADOOPCRC_H
#define CKPT_CODEC_HADOOPCRC_H

#include <stddef.h>
#include <stdint.h>
#include "../ckpt.h"

#define CKPT_HCRC_MAGIC "crc\0"
#define CKPT_HCRC_HEADER 8
#define CKPT_HCRC_MAX_BPC (16u << 20)	/* larger bytesPerChecksum: bad */

enum ckpt_hcrc_status {
	CKPT_HCRC_OK = 0,		/* every chunk matches */
	CKPT_HCRC_MISMATCH = 1,		/* a chunk's CRC differs */
	CKPT_HCRC_SIZE = 2,		/* chunk count != data size */
	/*
	 * An empty sidecar: a crashed write never flushed its header
	 * (section 10 item 3); Hadoop ignores it.
	 */
	CKPT_HCRC_UNVERIFIABLE = 3,
	/* A non-empty sidecar whose header is damaged (section 6). */
	CKPT_HCRC_BAD_HEADER = 4
};

struct ckpt_hcrc_result {
	int status;			/* enum ckpt_hcrc_status */
	uint32_t bytes_per_checksum;
	uint64_t chunks;		/* chunks compared */
	uint64_t bad_chunk;		/* MISMATCH: first bad chunk */
	uint64_t bad_offset;		/* ... its offset in the data file */
	uint32_t expected, actual;
	char why[160];			/* status != OK: in words */
};

/*
 * Reads up to len bytes at off of the data file (which == 0) or of the
 * sidecar (which == 1); *got < len only at end of file.
 */
typedef int (*ckpt_hcrc_read_fn)(void *arg, int which, uint64_t off,
	void *buf, size_t len, size_t *got, struct ckpt_error *err);

/*
 * Checks data_size bytes of data against a sidecar of crc_size bytes,
 * reading both through rd.  Returns CKPT_OK with *res filled (whatever
 * the verdict), or a negative status if reading failed.
 */
int ckpt_hcrc_check(ckpt_hcrc_read_fn rd, void *arg, uint64_t data_size,
	uint64_t crc_size, struct ckpt_hcrc_result *res,
	struct ckpt_error *err);

/* The same over two buffers in memory (tests, fuzzing). */
int ckpt_hcrc_check_mem(const void *data, size_t data_len, const void *crc,
	size_t crc_len, struct ckpt_hcrc_result *res, struct ckpt_error *err);

/*
 * The same for files in a store: data path and its sidecar path (see
 * ckpt_hcrc_sidecar_name).  A missing sidecar is CKPT_E_NOTFOUND.
 */
int ckpt_hcrc_check_store(struct ckpt_store *st, const char *path,
	const char *crc_path, struct ckpt_hcrc_result *res,
	struct ckpt_error *err);

/*
 * Writes the sidecar path of path ("a/b" -> "a/.b.crc") into out;
 * CKPT_E_USAGE if it does not fit.
 */
int ckpt_hcrc_sidecar_name(const char *path, char *out, size_t outlen,
	struct ckpt_error *err);

/*
 * If name (a last path component) is a sidecar ".<x>.crc", copies <x>
 * into out and returns 1; else 0.
 */
int ckpt_hcrc_sidecar_target(const char *name, char *out, size_t outlen);

#endif /* CKPT_CODEC_HADOOPCRC_H */
