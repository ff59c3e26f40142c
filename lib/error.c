/*
 * error.c - struct ckpt_error: setting, clearing and naming errors.
 *
 * The first error set on a struct ckpt_error wins (curl's failf()): the
 * deepest layer that knows the path writes "<what failed>: <why>" and
 * outer layers pass the status through.  Nothing here prints or exits;
 * cmd/ maps kinds to exit codes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ckpt.h"

static const char *const kind_names[] = {
	[CKPT_E_NONE] = "none",
	[CKPT_E_IO] = "io",
	[CKPT_E_FORMAT] = "format",
	[CKPT_E_CHECKSUM] = "checksum",
	[CKPT_E_NOTFOUND] = "not_found",
	[CKPT_E_LOCKED] = "locked",
	[CKPT_E_UNSUPPORTED] = "unsupported",
	[CKPT_E_BACKEND] = "backend",
	[CKPT_E_NOMEM] = "no_memory",
	[CKPT_E_NOTCKPT] = "not_checkpoint",
	[CKPT_E_USAGE] = "usage",
	[CKPT_E_CONFIG] = "config",
	[CKPT_E_INTERRUPTED] = "interrupted",
	[CKPT_E_EXISTS] = "exists",
	[CKPT_E_NOSPACE] = "no_space",
};

/* Removes trailing newlines and periods so messages stay one line. */
static void
msg_trim(char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.' ||
	    msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

static int
error_vset(struct ckpt_error *err, int kind, int sys_errno, const char *fmt,
    va_list ap)
{
	if (err == NULL || err->msg[0] != '\0')
		return CKPT_FAILED;
	err->kind = kind;
	err->sys_errno = sys_errno;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (err->msg[0] == '\0')
		snprintf(err->msg, sizeof(err->msg), "%s error",
		    ckpt_error_kind_name(kind));
	return CKPT_FAILED;
}

int
ckpt_error_set(struct ckpt_error *err, int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, kind, 0, fmt, ap);
	va_end(ap);
	if (err != NULL)
		msg_trim(err->msg);
	return CKPT_FAILED;
}

/* Maps an errno value to the kind callers act on. */
static int
errno_kind(int e)
{
	switch (e) {
	case ENOENT:
		return CKPT_E_NOTFOUND;
	case ENOSPC:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return CKPT_E_NOSPACE;
	case ENOMEM:
		return CKPT_E_NOMEM;
	default:
		return CKPT_E_IO;
	}
}

int
ckpt_error_set_errno(struct ckpt_error *err, int sys_errno,
    const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (err == NULL || err->msg[0] != '\0')
		return CKPT_FAILED;
	va_start(ap, fmt);
	error_vset(err, errno_kind(sys_errno), sys_errno, fmt, ap);
	va_end(ap);
	msg_trim(err->msg);
	n = strlen(err->msg);
	if (n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
		    strerror(sys_errno));
	msg_trim(err->msg);
	return CKPT_FAILED;
}

void
ckpt_error_clear(struct ckpt_error *err)
{
	if (err == NULL)
		return;
	err->kind = CKPT_E_NONE;
	err->sys_errno = 0;
	err->msg[0] = '\0';
}

const char *
ckpt_error_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= sizeof(kind_names) /
	    sizeof(kind_names[0]) || kind_names[kind] == NULL)
		return "unknown";
	return kind_names[kind];
}
