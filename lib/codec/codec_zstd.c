/*
 * codec_zstd.c - zstd compression of single blocks over libzstd.
 *
 * Blocks are whole in memory on both sides; the decompressor writes
 * only into the caller's buffer of the exact expected size and checks
 * any frame header's declared size first, so hostile input cannot make
 * it allocate or write more.  Streaming zstd (Spark files) is not here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec.h"

size_t
ckpt_zstd_bound(size_t n)
{
	size_t b = ZSTD_compressBound(n);

	return ZSTD_isError(b) ? 0 : b;
}

struct ckpt_zstd {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
};

struct ckpt_zstd *
ckpt_zstd_new(void)
{
	return calloc(1, sizeof(struct ckpt_zstd));
}

void
ckpt_zstd_free(struct ckpt_zstd *z)
{
	if (z == NULL)
		return;
	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	free(z);
}

int
ckpt_zstd_compress_z(struct ckpt_zstd *z, void *dst, size_t cap,
    const void *src, size_t n, int level, size_t *out)
{
	size_t r;

	*out = 0;
	if (level < 0 || level > ZSTD_maxCLevel())
		return -1;
	if (z == NULL) {
		r = ZSTD_compress(dst, cap, src, n, level ? level : 3);
	} else {
		if (z->c == NULL && (z->c = ZSTD_createCCtx()) == NULL)
			return -1;
		r = ZSTD_compressCCtx(z->c, dst, cap, src, n,
		    level ? level : 3);
	}
	if (ZSTD_isError(r))
		return -1;
	*out = r;
	return 0;
}

int
ckpt_zstd_compress(void *dst, size_t cap, const void *src, size_t n,
    int level, size_t *out)
{
	return ckpt_zstd_compress_z(NULL, dst, cap, src, n, level, out);
}

static int
why_set(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return -1;
}

int
ckpt_zstd_decompress_why(void *dst, size_t expected, const void *src,
    size_t n, size_t *out, char *why, size_t whylen)
{
	return ckpt_zstd_decompress_z(NULL, dst, expected, src, n, out, why,
	    whylen);
}

int
ckpt_zstd_decompress_z(struct ckpt_zstd *z, void *dst, size_t expected,
    const void *src, size_t n, size_t *out, char *why, size_t whylen)
{
	unsigned long long fcs;
	ZSTD_DCtx *dctx;
	size_t r;

	*out = 0;
	if (expected > CKPT_ZSTD_MAX_BLOCK)
		return why_set(why, whylen, "block larger than the zstd cap");
	if (n == 0)
		return why_set(why, whylen, "empty zstd block");
	fcs = ZSTD_getFrameContentSize(src, n);
	if (fcs == ZSTD_CONTENTSIZE_ERROR)
		return why_set(why, whylen, "not a zstd frame");
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs > expected)
		return why_set(why, whylen,
		    "zstd frame larger than the block");
	dctx = z != NULL ? z->d : NULL;
	if (dctx == NULL) {
		dctx = ZSTD_createDCtx();
		if (dctx == NULL)
			return why_set(why, whylen, "out of memory");
		/* a window bigger than the block is a lie: refuse it */
		ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27);
		if (z != NULL)
			z->d = dctx;
	}
	r = ZSTD_decompressDCtx(dctx, dst, expected, src, n);
	if (z == NULL)
		ZSTD_freeDCtx(dctx);
	if (ZSTD_isError(r)) {
		if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
			return why_set(why, whylen,
			    "zstd data larger than the block");
		if (ZSTD_getErrorCode(r) == ZSTD_error_srcSize_wrong)
			return why_set(why, whylen, "truncated zstd data");
		return why_set(why, whylen, ZSTD_getErrorName(r));
	}
	*out = r;
	if (r != expected)
		return why_set(why, whylen,
		    "zstd data smaller than the block");
	return 0;
}

int
ckpt_zstd_decompress(void *dst, size_t expected, const void *src, size_t n,
    size_t *out)
{
	return ckpt_zstd_decompress_why(dst, expected, src, n, out, NULL, 0);
}
