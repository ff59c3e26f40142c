/*
 * test_error.c - struct ckpt_error, the context's fault and crash plans,
 * and struct ckpt_buf.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

DEFINE_TEST(test_error_first_wins)
{
	struct ckpt_error err = {0};

	CHECK_EQ_INT(ckpt_error_set(&err, CKPT_E_FORMAT, "cannot parse '%s': %s",
	    "a/b", "bad magic"), CKPT_FAILED);
	CHECK_EQ_INT(err.kind, CKPT_E_FORMAT);
	CHECK_EQ_INT(err.sys_errno, 0);
	CHECK_STR(err.msg, "cannot parse 'a/b': bad magic");
	CHECK_EQ_INT(ckpt_error_set(&err, CKPT_E_IO, "later"), CKPT_FAILED);
	CHECK_EQ_INT(err.kind, CKPT_E_FORMAT);
	CHECK_STR(err.msg, "cannot parse 'a/b': bad magic");
	ckpt_error_clear(&err);
	CHECK_EQ_INT(err.kind, CKPT_E_NONE);
	CHECK_STR(err.msg, "");
	CHECK_EQ_INT(ckpt_error_set(NULL, CKPT_E_IO, "x"), CKPT_FAILED);
	ckpt_error_clear(NULL);
}

DEFINE_TEST(test_error_errno_kinds)
{
	struct ckpt_error err = {0};
	char want[CKPT_ERROR_MSG_MAX];

	ckpt_error_set_errno(&err, ENOENT, "cannot open '%s'", "x");
	CHECK_EQ_INT(err.kind, CKPT_E_NOTFOUND);
	snprintf(want, sizeof(want), "cannot open 'x': %s", strerror(ENOENT));
	CHECK_STR(err.msg, want);
	CHECK_EQ_INT(err.sys_errno, ENOENT);
	ckpt_error_clear(&err);
	ckpt_error_set_errno(&err, ENOSPC, "cannot write 'y'");
	CHECK_EQ_INT(err.kind, CKPT_E_NOSPACE);
	ckpt_error_clear(&err);
	ckpt_error_set_errno(&err, EDQUOT, "cannot write 'y'");
	CHECK_EQ_INT(err.kind, CKPT_E_NOSPACE);
	ckpt_error_clear(&err);
	ckpt_error_set_errno(&err, EIO, "cannot fsync 'z'");
	CHECK_EQ_INT(err.kind, CKPT_E_IO);
	CHECK_EQ_INT(err.sys_errno, EIO);
	/* the first error stays */
	ckpt_error_set_errno(&err, ENOENT, "other");
	CHECK_EQ_INT(err.kind, CKPT_E_IO);
}

DEFINE_TEST(test_error_no_newline_or_period)
{
	struct ckpt_error err = {0};

	ckpt_error_set(&err, CKPT_E_IO, "two\nlines.\n");
	CHECK_STR(err.msg, "two lines");
}

DEFINE_TEST(test_error_long_message_truncated)
{
	struct ckpt_error err = {0};
	char big[2000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ckpt_error_set_errno(&err, EIO, "cannot read '%s'", big);
	CHECK(strlen(err.msg) < sizeof(err.msg));
	CHECK_EQ_INT(err.kind, CKPT_E_IO);
}

DEFINE_TEST(test_error_kind_names)
{
	CHECK_STR(ckpt_error_kind_name(CKPT_E_IO), "io");
	CHECK_STR(ckpt_error_kind_name(CKPT_E_NOTFOUND), "not_found");
	CHECK_STR(ckpt_error_kind_name(CKPT_E_NOSPACE), "no_space");
	CHECK_STR(ckpt_error_kind_name(CKPT_E_EXISTS), "exists");
	CHECK_STR(ckpt_error_kind_name(-1), "unknown");
	CHECK_STR(ckpt_error_kind_name(1000), "unknown");
	for (int k = 0; k <= CKPT_E_NOSPACE; k++)
		CHECK(strcmp(ckpt_error_kind_name(k), "unknown") != 0);
}

DEFINE_TEST(test_error_ctx_interrupt)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx = NULL;
	volatile int flag = 0;

	unsetenv("CKPT_FAULT");
	unsetenv("CKPT_CRASH_POINT");
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	CHECK(ctx != NULL);
	CHECK_EQ_INT(ckpt_ctx_interrupted(ctx), 0);
	ckpt_ctx_set_interrupt(ctx, &flag);
	CHECK_EQ_INT(ckpt_ctx_interrupted(ctx), 0);
	flag = 1;
	CHECK(ckpt_ctx_interrupted(ctx) != 0);
	/* nothing armed: a no-op */
	ckpt_crash_point(ctx, "store.before_fsync");
	ckpt_crash_point(NULL, "store.before_fsync");
	ckpt_ctx_free(ctx);
	ckpt_ctx_free(NULL);
}

DEFINE_TEST(test_error_ctx_bad_plans)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx = NULL;
	static const char *const bad_fault[] = { "write", "write:EPERM",
		"frob:EIO", "fsync:SHORT", "write:EIO:0", "write:EIO:x",
		"write:EIO:1:2", NULL };

	unsetenv("CKPT_CRASH_POINT");
	for (int i = 0; bad_fault[i]; i++) {
		setenv("CKPT_FAULT", bad_fault[i], 1);
		CHECK_FAILS(ckpt_ctx_new(&ctx, &err), CKPT_E_USAGE);
		CHECK(ctx == NULL);
		CHECK(strstr(err.msg, "CKPT_FAULT") != NULL);
	}
	setenv("CKPT_FAULT", "unlink:EIO:3", 1);
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	ckpt_ctx_free(ctx);
	unsetenv("CKPT_FAULT");
	setenv("CKPT_CRASH_POINT", "no.such.point", 1);
	CHECK_FAILS(ckpt_ctx_new(&ctx, &err), CKPT_E_USAGE);
	setenv("CKPT_CRASH_POINT", "store.before_fsync:0", 1);
	CHECK_FAILS(ckpt_ctx_new(&ctx, &err), CKPT_E_USAGE);
	unsetenv("CKPT_CRASH_POINT");
}

DEFINE_TEST(test_error_crash_point_names)
{
	const char *const *names = ckpt_crash_point_names();
	int n = 0;

	for (; names[n] != NULL; n++) {
		const char *d = ckpt_crash_point_desc(names[n]);

		CHECK(d != NULL && d[0] != '\0');
	}
	/* the name list and the description table agree */
	CHECK_EQ_INT(n, 17);
	CHECK(ckpt_crash_point_desc("store.before_dir_fsync") != NULL);
	CHECK(ckpt_crash_point_desc("commit.before_entry") != NULL);
	CHECK(ckpt_crash_point_desc("nope") == NULL);
	CHECK(ckpt_crash_point_desc(NULL) == NULL);
}

/* A crash point kills the process at its occurrence-th call, not before. */
DEFINE_TEST(test_error_crash_point_fires)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct ckpt_error err = {0};
		struct ckpt_ctx *ctx = NULL;

		setenv("CKPT_CRASH_POINT", "commit.after_state:3", 1);
		if (ckpt_ctx_new(&ctx, &err) != CKPT_OK)
			_exit(2);
		ckpt_crash_point(ctx, "commit.after_state");
		ckpt_crash_point(ctx, "commit.before_entry");
		ckpt_crash_point(ctx, "commit.after_state");
		/* survived two occurrences; write a marker */
		unit_write_file("survived2", "x", 1);
		ckpt_crash_point(ctx, "commit.after_state");
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(access("survived2", F_OK) == 0);
}

DEFINE_TEST(test_error_buf)
{
	struct ckpt_buf b = {0};
	char chunk[1000];

	memset(chunk, 7, sizeof(chunk));
	for (int i = 0; i < 100; i++)
		CHECK_EQ_INT(ckpt_buf_append(&b, chunk, sizeof(chunk)), 0);
	CHECK_EQ_INT(b.len, 100000);
	CHECK(b.cap >= b.len);
	CHECK(b.data[99999] == 7);
	CHECK_EQ_INT(ckpt_buf_append(&b, chunk, 0), 0);
	CHECK_EQ_INT(ckpt_buf_reserve(&b, (size_t)-1), -1);
	CHECK_EQ_INT(b.len, 100000);
	ckpt_buf_release(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	ckpt_buf_release(NULL);
}
