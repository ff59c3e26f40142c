/*
 * ctx.c - the library context, fault injection and crash points.
 *
 * ckpt_ctx_new() reads CKPT_FAULT and CKPT_CRASH_POINT from the
 * environment once; after that nothing here looks at the environment.
 * A malformed value is a CKPT_E_USAGE error rather than silently
 * ignored, so a mistyped test plan cannot pass by accident.  Crash
 * points are a pointer test when nothing is armed.  The names of all
 * crash points live in one static table below; a point that is not in
 * the table cannot be armed.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "ctx_test.h"

struct crash_point_def {
	const char *name;
	const char *desc;
};

static const struct crash_point_def crash_points[] = {
	{ "store.mid_write",
	    "half of one write's bytes are in the temp file" },
	{ "store.before_fsync",
	    "a temp file is fully written but not fsynced" },
	{ "store.before_rename",
	    "a temp file is durable but not yet renamed (or linked) into place" },
	{ "store.before_dir_fsync",
	    "a file is renamed into place but its directory is not fsynced" },
	{ "commit.after_offsets",
	    "a batch's offsets entry is durable, nothing else of the batch" },
	{ "commit.after_state",
	    "the batch's state files are durable, its commit entry is not" },
	{ "commit.before_entry",
	    "everything but the commit entry is durable" },
	{ "commit.after_entry",
	    "the commit entry landed; output and cleanup have not run" },
	{ "output.after_write",
	    "a batch's output file is written, the next batch has not begun" },
	{ "wal.mid_append",
	    "a write-ahead-log record is half appended" },
	{ "wal.after_append",
	    "a write-ahead-log record is durable but not yet acknowledged" },
	{ "lock.takeover",
	    "a dead holder's lock is moved aside, the new lock not yet made" },
	{ "prune.mid_delete",
	    "prune has removed some of the files it planned to remove" },
	{ "migrate.before_swap",
	    "a migrated copy is verified but not yet swapped into place" },
	{ "engine.mid_batch",
	    "a batch's input is read, its operators have not run yet" },
	{ "engine.before_checkpoint",
	    "a batch ran; its state checkpoint has not started" },
	{ "engine.after_checkpoint",
	    "a batch's state files are written, its commit entry is not" },
};

#define NCRASH (sizeof(crash_points) / sizeof(crash_points[0]))

static const char *const crash_point_name_list[NCRASH + 1] = {
	"store.mid_write", "store.before_fsync", "store.before_rename",
	"store.before_dir_fsync", "commit.after_offsets",
	"commit.after_state", "commit.before_entry", "commit.after_entry",
	"output.after_write", "wal.mid_append", "wal.after_append",
	"lock.takeover", "prune.mid_delete", "migrate.before_swap",
	"engine.mid_batch", "engine.before_checkpoint",
	"engine.after_checkpoint", NULL
};

static const char *const fault_op_names[CKPT_FOP_COUNT] = {
	[CKPT_FOP_WRITE] = "write",
	[CKPT_FOP_FSYNC] = "fsync",
	[CKPT_FOP_RENAME] = "rename",
	[CKPT_FOP_LINK] = "link",
	[CKPT_FOP_MKDIR] = "mkdir",
	[CKPT_FOP_UNLINK] = "unlink",
};

const char *const *
ckpt_crash_point_names(void)
{
	return crash_point_name_list;
}

const char *
ckpt_crash_point_desc(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NCRASH; i++)
		if (strcmp(crash_points[i].name, name) == 0)
			return crash_points[i].desc;
	return NULL;
}

/*
 * Parses an optional ":<occurrence>" suffix (s points at the ':' or the
 * terminating NUL).  Returns 0, or -1 when malformed.
 */
static int
parse_occurrence(const char *s, unsigned long *out)
{
	char *end;

	*out = 1;
	if (*s == '\0')
		return 0;
	if (*s != ':' || s[1] < '0' || s[1] > '9')
		return -1;
	errno = 0;
	*out = strtoul(s + 1, &end, 10);
	if (errno != 0 || *end != '\0' || *out == 0)
		return -1;
	return 0;
}

static int
parse_crash_plan(struct ckpt_ctx *ctx, const char *v, struct ckpt_error *err)
{
	size_t n = strcspn(v, ":");
	const char *name = NULL;
	unsigned long occ;

	for (size_t i = 0; i < NCRASH; i++)
		if (strlen(crash_points[i].name) == n &&
		    strncmp(crash_points[i].name, v, n) == 0)
			name = crash_points[i].name;
	if (name == NULL)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad CKPT_CRASH_POINT '%s': unknown crash point", v);
	if (parse_occurrence(v + n, &occ) != 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad CKPT_CRASH_POINT '%s': occurrence must be a positive number",
		    v);
	ctx->crash = calloc(1, sizeof(*ctx->crash));
	if (ctx->crash == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot allocate the crash plan: out of memory");
	ctx->crash->name = name;
	ctx->crash->occurrence = occ;
	return CKPT_OK;
}

static int
parse_fault_plan(struct ckpt_ctx *ctx, const char *v, struct ckpt_error *err)
{
	size_t n = strcspn(v, ":"), m;
	int op = -1, e;
	unsigned long occ;
	const char *p;

	for (int i = 0; i < CKPT_FOP_COUNT; i++)
		if (strlen(fault_op_names[i]) == n &&
		    strncmp(fault_op_names[i], v, n) == 0)
			op = i;
	if (op < 0 || v[n] != ':')
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad CKPT_FAULT '%s': want op:errno[:occurrence] with op one of write, fsync, rename, link, mkdir, unlink",
		    v);
	p = v + n + 1;
	m = strcspn(p, ":");
	if (m == 6 && strncmp(p, "ENOSPC", 6) == 0)
		e = ENOSPC;
	else if (m == 3 && strncmp(p, "EIO", 3) == 0)
		e = EIO;
	else if (m == 5 && strncmp(p, "SHORT", 5) == 0 &&
	    op == CKPT_FOP_WRITE)
		e = CKPT_FAULT_SHORT;
	else
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad CKPT_FAULT '%s': errno must be ENOSPC, EIO or SHORT (write only)",
		    v);
	if (parse_occurrence(p + m, &occ) != 0)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad CKPT_FAULT '%s': occurrence must be a positive number",
		    v);
	ctx->fault = calloc(1, sizeof(*ctx->fault));
	if (ctx->fault == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot allocate the fault plan: out of memory");
	ctx->fault->op = (enum ckpt_fault_op)op;
	ctx->fault->sys_errno = e;
	ctx->fault->occurrence = occ;
	return CKPT_OK;
}

int
ckpt_ctx_new(struct ckpt_ctx **out, struct ckpt_error *err)
{
	struct ckpt_ctx *ctx;
	const char *v;

	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot create a context: out of memory");
	v = getenv("CKPT_CRASH_POINT");
	if (v != NULL && *v != '\0' && parse_crash_plan(ctx, v, err) != 0)
		goto out_free;
	v = getenv("CKPT_FAULT");
	if (v != NULL && *v != '\0' && parse_fault_plan(ctx, v, err) != 0)
		goto out_free;
	if (ckpt_testhooks_init(ctx, err) != CKPT_OK)
		goto out_free;
	*out = ctx;
	return CKPT_OK;

out_free:
	ckpt_ctx_free(ctx);
	return CKPT_FAILED;
}

void
ckpt_ctx_free(struct ckpt_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ckpt_testhooks_free(ctx);
	free(ctx->fault);
	free(ctx->crash);
	free(ctx);
}

void
ckpt_ctx_set_interrupt(struct ckpt_ctx *ctx, volatile int *flag)
{
	if (ctx != NULL)
		ctx->interrupt = flag;
}

int
ckpt_ctx_interrupted(const struct ckpt_ctx *ctx)
{
	return ctx != NULL && ctx->interrupt != NULL && *ctx->interrupt != 0;
}

int
ckpt_ctx_check_interrupt(const struct ckpt_ctx *ctx, const char *what,
    struct ckpt_error *err)
{
	if (!ckpt_ctx_interrupted(ctx))
		return CKPT_OK;
	return ckpt_error_set(err, CKPT_E_INTERRUPTED, "%s: interrupted",
	    what);
}

void
ckpt_ctx_set_progress(struct ckpt_ctx *ctx, ckpt_progress_fn fn, void *arg)
{
	if (ctx == NULL)
		return;
	ctx->progress = fn;
	ctx->progress_arg = arg;
}

void
ckpt_ctx_progress(struct ckpt_ctx *ctx, const char *what, uint64_t done,
    uint64_t total)
{
	if (ctx != NULL && ctx->progress != NULL)
		ctx->progress(ctx->progress_arg, what, done, total);
}

int
ckpt_fault_hit(struct ckpt_ctx *ctx, enum ckpt_fault_op op)
{
	struct ckpt_fault_plan *f;

	if (ctx != NULL && ctx->test != NULL)
		ckpt_trace_hit(ctx, "fault", fault_op_names[op]);
	if (ctx == NULL || ctx->fault == NULL || ctx->fault->op != op)
		return 0;
	f = ctx->fault;
	if (f->short_pending) {
		f->short_pending = 0;
		return ENOSPC;
	}
	if (++f->seen != f->occurrence)
		return 0;
	if (f->sys_errno == CKPT_FAULT_SHORT)
		f->short_pending = 1;
	return f->sys_errno;
}

/*
 * Kills the process with SIGKILL when name is the armed crash point and
 * this is its occurrence-th call.  A pointer test when nothing is armed.
 */
void
ckpt_crash_point(struct ckpt_ctx *ctx, const char *name)
{
	if (ctx == NULL)
		return;
	if (ctx->test != NULL)
		ckpt_trace_hit(ctx, "crash", name);
	if (ctx->crash == NULL || strcmp(ctx->crash->name, name) != 0)
		return;
	if (++ctx->crash->seen == ctx->crash->occurrence) {
		ckpt_pl_cut(ctx);	/* power-loss mode: lose the undurable */
		raise(SIGKILL);
	}
}
