/*
 * ctx_test.h - test-only hooks of the context (private to lib/).
 *
 * Three things `ckpt restore-test` needs from inside the library, all
 * read from the environment once by ckpt_ctx_new() and all a NULL
 * pointer test when off (ctx->test == NULL in normal use):
 *
 *  - CKPT_TRACE_HITS=FILE appends "crash NAME" for every crash point
 *    reached and "fault OP" for every store operation the fault plan is
 *    consulted for, so a reference run tells which occurrences exist;
 *  - CKPT_POWER_LOSS=1 (with a crash point armed) journals every effect
 *    of the file store that is not yet durable and undoes them all when
 *    the crash point fires, as a power cut would;
 *  - CKPT_TEST_BUG=NAME turns on a deliberate bug so the harness can
 *    show it catches it.  Only builds compiled with -DCKPT_TEST_HOOKS
 *    read it; in any other build ckpt_test_bug() is always 0, so a
 *    production binary cannot be made buggy by its environment.
 */
#ifndef CKPT_CTX_TEST_H
#define CKPT_CTX_TEST_H

#include "ctx.h"

/* Deliberate bugs (CKPT_TEST_BUG=name; CKPT_TEST_HOOKS builds only). */
enum ckpt_test_bug {
	/* the writer lands the commit entry before the state files */
	CKPT_BUG_COMMIT_BEFORE_STATE = 0x1u,
	/* durable writes skip the directory fsync after the rename */
	CKPT_BUG_SKIP_DIR_FSYNC = 0x2u,
	/* the same, commit entries (conditional creates) included */
	CKPT_BUG_SKIP_ALL_DIR_FSYNC = 0x4u
};

struct ckpt_pl_journal;

struct ckpt_testhooks {
	int trace_fd;			/* CKPT_TRACE_HITS, -1 when off */
	unsigned bugs;			/* enum ckpt_test_bug bits */
	struct ckpt_pl_journal *pl;	/* power-loss journal or NULL */
};

/*
 * Reads the variables above into ctx->test (left NULL when none is
 * set).  Call after the crash plan is parsed.  A bad value is a
 * CKPT_E_USAGE error, as for CKPT_CRASH_POINT.
 */
int ckpt_testhooks_init(struct ckpt_ctx *ctx, struct ckpt_error *err);
void ckpt_testhooks_free(struct ckpt_ctx *ctx);

/* Appends "<kind> <name>\n" to the trace file, if tracing. */
void ckpt_trace_hit(struct ckpt_ctx *ctx, const char *kind,
    const char *name);

/* Non-zero when the deliberate bug is on (never without the macro). */
int ckpt_test_bug(const struct ckpt_ctx *ctx, unsigned bug);

/* Non-zero in power-loss mode: the store wrappers call ckpt_pl_*. */
static inline int
ckpt_pl_on(const struct ckpt_ctx *ctx)
{
	return ctx != NULL && ctx->test != NULL && ctx->test->pl != NULL;
}

/*
 * The journaling twins of the store's syscalls (store_file.c wrappers
 * call them in power-loss mode, after the fault plan).  The *at calls
 * make the call themselves and return as the syscall does; note_write
 * comes before a write, note_fsync after a successful fsync (a file's
 * data, or a directory's entries, become durable).
 */
void ckpt_pl_note_write(struct ckpt_ctx *ctx, int fd);
void ckpt_pl_note_fsync(struct ckpt_ctx *ctx, int fd);
int ckpt_pl_renameat(struct ckpt_ctx *ctx, int ofd, const char *from,
    int nfd, const char *to);
int ckpt_pl_linkat(struct ckpt_ctx *ctx, int ofd, const char *from,
    int nfd, const char *to);
int ckpt_pl_mkdirat(struct ckpt_ctx *ctx, int fd, const char *name);
int ckpt_pl_unlinkat(struct ckpt_ctx *ctx, int fd, const char *name,
    int flags);

/* The power cut: undoes every effect not yet durable (crash points). */
void ckpt_pl_cut(struct ckpt_ctx *ctx);

#endif /* CKPT_CTX_TEST_H */
