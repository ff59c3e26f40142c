/*
 * ctx.h - struct ckpt_ctx, private to lib/.
 *
 * The context carries what would otherwise be global: the caller's
 * interrupt flag, a progress callback, and the test-only fault and
 * crash plans read once from the environment by ckpt_ctx_new().  Other
 * lib modules include this header to reach those; cmd/ and tests see
 * the opaque struct of ckpt.h only.
 */
#ifndef CKPT_CTX_H
#define CKPT_CTX_H

#include "ckpt.h"

/* Operations CKPT_FAULT can fail (store_file.c's syscall wrappers). */
enum ckpt_fault_op {
	CKPT_FOP_WRITE = 0,
	CKPT_FOP_FSYNC,
	CKPT_FOP_RENAME,
	CKPT_FOP_LINK,
	CKPT_FOP_MKDIR,
	CKPT_FOP_UNLINK,
	CKPT_FOP_COUNT
};

/* ckpt_fault_hit() result asking for a short write, then ENOSPC. */
#define CKPT_FAULT_SHORT (-1)

/* CKPT_FAULT=op:errno[:occurrence], parsed by ckpt_ctx_new. */
struct ckpt_fault_plan {
	enum ckpt_fault_op op;
	int sys_errno;		/* ENOSPC, EIO, or CKPT_FAULT_SHORT */
	unsigned long occurrence;	/* 1 = the first matching call */
	unsigned long seen;	/* matching calls so far */
	int short_pending;	/* after SHORT: the next write fails */
};

/* CKPT_CRASH_POINT=name[:occurrence], parsed by ckpt_ctx_new. */
struct ckpt_crash_plan {
	const char *name;	/* points into the static name table */
	unsigned long occurrence;
	unsigned long seen;
};

struct ckpt_ctx {
	volatile int *interrupt;	/* set by the caller's signal handler */
	ckpt_progress_fn progress;
	void *progress_arg;
	struct ckpt_fault_plan *fault;	/* NULL: no fault armed */
	struct ckpt_crash_plan *crash;	/* NULL: no crash point armed */
	/* restore-test hooks (ctx_test.h): trace, power loss; NULL: off */
	struct ckpt_testhooks *test;
};

/*
 * Consults the fault plan for one call of op: 0 to go ahead, an errno
 * value to fail with, or CKPT_FAULT_SHORT (write only: write half the
 * bytes; the next write then fails with ENOSPC).  ctx may be NULL.
 */
int ckpt_fault_hit(struct ckpt_ctx *ctx, enum ckpt_fault_op op);

/*
 * Non-zero when a crash point is armed or hits are traced (callers skip
 * extra work if 0).
 */
static inline int
ckpt_crash_armed(const struct ckpt_ctx *ctx)
{
	return ctx != NULL && (ctx->crash != NULL || ctx->test != NULL);
}

/*
 * Fails with CKPT_E_INTERRUPTED ("<what>: interrupted") if the caller's
 * interrupt flag is set; CKPT_OK otherwise.  ctx may be NULL.
 */
int ckpt_ctx_check_interrupt(const struct ckpt_ctx *ctx, const char *what,
    struct ckpt_error *err);

/* Calls the progress callback if one is set.  ctx may be NULL. */
void ckpt_ctx_progress(struct ckpt_ctx *ctx, const char *what,
    uint64_t done, uint64_t total);

#endif /* CKPT_CTX_H */
