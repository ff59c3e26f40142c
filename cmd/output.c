/*
 * output.c - errors, exit codes, colours, progress and --json output.
 *
 * The one table mapping error kinds to exit statuses lives here, as do
 * the error printers every command uses, the terminal decisions
 * (colour only on a TTY and without NO_COLOR or --no-color; progress
 * only when stderr is a TTY), the final check of stdout, and a small
 * streaming JSON writer: commands emit their --json document piece by
 * piece, so memory stays bounded however long a listing is.  JSON text
 * produced by lib/ is checked with cJSON and re-indented as text.
 *
 * It knows no command and parses no option.
 */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

/* Set from the signal handler; the library polls it via ckpt_ctx. */
static volatile int cli_interrupted;

static const struct {
	int kind;
	int status;
} exit_codes[] = {
	{ CKPT_E_NOTFOUND, EXIT_NOTFOUND },
	{ CKPT_E_NOTCKPT, EXIT_NOTFOUND },
	{ CKPT_E_LOCKED, EXIT_LOCKED },
	{ CKPT_E_USAGE, EXIT_USAGE },
	{ CKPT_E_INTERRUPTED, EXIT_INTERRUPTED },
};

int
cli_exit_code(int kind)
{
	size_t i;

	for (i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++)
		if (exit_codes[i].kind == kind)
			return exit_codes[i].status;
	return EXIT_ERROR;
}

void
cli_init(struct cli *cli)
{
	memset(cli, 0, sizeof(*cli));
}

void
cli_setup(struct cli *cli)
{
	const char *nc = getenv("NO_COLOR");

	cli->color = !cli->no_color && !cli->json &&
		!(nc != NULL && nc[0] != '\0') && isatty(STDOUT_FILENO);
	cli->progress = !cli->quiet && isatty(STDERR_FILENO);
}

const char *
cli_color(const struct cli *cli, enum cli_color c)
{
	static const char *const esc[] = {
		[CLI_RESET] = "\033[m", [CLI_BOLD] = "\033[1m",
		[CLI_RED] = "\033[31m", [CLI_GREEN] = "\033[32m",
		[CLI_YELLOW] = "\033[33m", [CLI_DIM] = "\033[2m",
	};

	return cli->color ? esc[c] : "";
}

static void
print_prefix(const struct cli *cli)
{
	if (cli->cmd != NULL)
		fprintf(stderr, "ckpt %s: ", cli->cmd);
	else
		fputs("ckpt: ", stderr);
}

static void
json_error(struct cli *cli, int kind, const char *msg)
{
	struct jw own, *w = cli->jw;

	if (w == NULL) {
		jw_init(&own, stdout, 0);
		w = &own;
	}
	/* Close what is open down to the top-level object. */
	while (w->depth > 1)
		if (w->kind[w->depth - 1] == '{')
			jw_obj_end(w);
		else
			jw_arr_end(w);
	if (w->depth == 1 && w->after_key)
		jw_null(w);
	if (w->depth == 0)
		jw_obj_begin(w);
	jw_key(w, "error");
	jw_obj_begin(w);
	jw_key(w, "code");
	jw_str(w, ckpt_error_kind_name(kind));
	jw_key(w, "message");
	jw_str(w, msg);
	jw_obj_end(w);
	jw_finish(w);
	cli->jw = NULL;
}

static int
report(struct cli *cli, int kind, const char *msg)
{
	cli_progress_done(cli);
	if (cli->json) {
		json_error(cli, kind, msg);
	} else {
		char safe[CKPT_ERROR_MSG_MAX + 256];

		fflush(stdout);
		print_prefix(cli);
		fprintf(stderr, "%s\n", cli_safe(safe, sizeof(safe), msg));
	}
	return cli_exit_code(kind);
}

int
cli_error(struct cli *cli, const struct ckpt_error *err)
{
	if (err->msg[0] == '\0')
		return report(cli, err->kind, "unknown error");
	return report(cli, err->kind, err->msg);
}

int
cli_errorf(struct cli *cli, int kind, const char *fmt, ...)
{
	char msg[CKPT_ERROR_MSG_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(cli, kind, msg);
}

void
cli_warning(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet)
		return;
	cli_progress_done(cli);
	fflush(stdout);
	print_prefix(cli);
	fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_verbose(struct cli *cli, int level, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbose < level)
		return;
	cli_progress_done(cli);
	print_prefix(cli);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- signals and progress ---- */

static void
on_signal(int sig)
{
	if (cli_interrupted) {
		/* Second signal: die the ordinary way. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	cli_interrupted = 1;
}

/* Progress state; one line on stderr, redrawn at most every 100 ms. */
static struct {
	int shown;
	struct timespec last;
} progress;

static void
on_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - progress.last.tv_sec) * 1000 +
		(now.tv_nsec - progress.last.tv_nsec) / 1000000;
	if (progress.shown && ms < 100 && done != total)
		return;
	progress.last = now;
	if (total > 0)
		fprintf(stderr, "\r\033[K%s %" PRIu64 "/%" PRIu64 " (%u%%)",
			what, done, total, (unsigned)(done * 100 / total));
	else
		fprintf(stderr, "\r\033[K%s %" PRIu64, what, done);
	progress.shown = 1;
}

void
cli_progress_done(struct cli *cli)
{
	if (!progress.shown)
		return;
	fputs("\r\033[K", stderr);
	progress.shown = 0;
}

int
cli_ctx_new(struct cli *cli, struct ckpt_ctx **out)
{
	struct ckpt_error err = { 0 };
	struct sigaction sa;

	*out = NULL;
	if (ckpt_ctx_new(out, &err) != CKPT_OK)
		return cli_error(cli, &err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ckpt_ctx_set_interrupt(*out, &cli_interrupted);
	if (cli->progress)
		ckpt_ctx_set_progress(*out, on_progress, cli);
	return EXIT_OK;
}

/* ---- exit ---- */

int
cli_finish(struct cli *cli, int status)
{
	int e;

	cli_progress_done(cli);
	if (fflush(stdout) != 0) {
		e = errno;
		if (e == EPIPE)
			return status;
		fprintf(stderr, "ckpt: write failure on standard output: %s\n",
			strerror(e));
		return status ? status : EXIT_ERROR;
	}
	if (ferror(stdout)) {
		fputs("ckpt: unknown write failure on standard output\n",
			stderr);
		return status ? status : EXIT_ERROR;
	}
	return status;
}

void
cli_exit(struct cli *cli, int status)
{
	exit(cli_finish(cli, status));
}

/* ---- text helpers ---- */

char *
cli_safe(char *buf, size_t cap, const char *s)
{
	size_t i;

	if (cap == 0)
		return buf;
	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
			'?' : s[i];
	buf[i] = '\0';
	return buf;
}

char *
cli_redact_url(char *buf, size_t cap, const char *url)
{
	const char *p = url, *auth, *at, *slash, *q;
	size_t n;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (p > url && ((*p >= '0' && *p <= '9') || *p == '+' ||
	    *p == '-' || *p == '.')))
		p++;
	if (p == url || strncmp(p, "://", 3) != 0) {
		snprintf(buf, cap, "%s", url);
		return buf;
	}
	auth = p + 3;
	slash = strchr(auth, '/');
	at = strchr(auth, '@');
	if (at != NULL && (slash == NULL || at < slash))
		auth = at + 1;
	q = strchr(auth, '?');
	n = q != NULL ? (size_t)(q - auth) : strlen(auth);
	snprintf(buf, cap, "%.*s%.*s", (int)(p + 3 - url), url, (int)n,
		auth);
	return buf;
}

char *
cli_fmt_size(char buf[CLI_FMT_MAX], uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
		"PiB", "EiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, CLI_FMT_MAX, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, CLI_FMT_MAX, "%.1f %s", v, units[u]);
	return buf;
}

char *
cli_fmt_time(char buf[CLI_FMT_MAX], int64_t ms)
{
	struct tm tm;
	time_t t;
	int64_t sec = ms / 1000, frac = ms % 1000;

	if (ms == CKPT_NONE) {
		snprintf(buf, CLI_FMT_MAX, "-");
		return buf;
	}
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, CLI_FMT_MAX, "%" PRId64 "ms", ms);
		return buf;
	}
	snprintf(buf, CLI_FMT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (int)frac);
	return buf;
}

char *
cli_fmt_i64(char buf[CLI_FMT_MAX], int64_t v)
{
	if (v == CKPT_NONE)
		snprintf(buf, CLI_FMT_MAX, "-");
	else
		snprintf(buf, CLI_FMT_MAX, "%" PRId64, v);
	return buf;
}

/* ---- streaming JSON writer ---- */

void
jw_init(struct jw *w, FILE *f, int indent)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->indent = indent;
}

static void
jw_newline(struct jw *w)
{
	int i;

	fputc('\n', w->f);
	for (i = 0; i < w->indent + 2 * w->depth; i++)
		fputc(' ', w->f);
}

/* Separator and indentation before a value (or a key). */
static void
jw_pre(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->depth > JW_MAX_DEPTH || w->count[w->depth - 1]++ > 0)
		fputc(',', w->f);
	jw_newline(w);
}

static void
jw_open(struct jw *w, char kind)
{
	jw_pre(w);
	fputc(kind, w->f);
	if (w->depth < JW_MAX_DEPTH) {
		w->kind[w->depth] = kind;
		w->count[w->depth] = 0;
	}
	w->depth++;
}

static void
jw_close(struct jw *w, char end)
{
	int had;

	if (w->depth == 0)
		return;
	had = w->depth <= JW_MAX_DEPTH ? w->count[w->depth - 1] : 1;
	w->depth--;
	if (had)
		jw_newline(w);
	fputc(end, w->f);
}

void jw_obj_begin(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

static void
jw_quoted(struct jw *w, const char *s, size_t n)
{
	size_t i;

	fputc('"', w->f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': fputs("\\\"", w->f); break;
		case '\\': fputs("\\\\", w->f); break;
		case '\n': fputs("\\n", w->f); break;
		case '\r': fputs("\\r", w->f); break;
		case '\t': fputs("\\t", w->f); break;
		case '\b': fputs("\\b", w->f); break;
		case '\f': fputs("\\f", w->f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(w->f, "\\u%04x", c);
			else
				fputc(c, w->f);
		}
	}
	fputc('"', w->f);
}

void
jw_key(struct jw *w, const char *key)
{
	jw_pre(w);
	jw_quoted(w, key, strlen(key));
	fputs(": ", w->f);
	w->after_key = 1;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_pre(w);
	jw_quoted(w, s, n);
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, int64_t v)
{
	jw_pre(w);
	fprintf(w->f, "%" PRId64, v);
}

void
jw_i64(struct jw *w, int64_t v)
{
	if (v == CKPT_NONE)
		jw_null(w);
	else
		jw_int(w, v);
}

void
jw_uint(struct jw *w, uint64_t v)
{
	jw_pre(w);
	fprintf(w->f, "%" PRIu64, v);
}

void
jw_double(struct jw *w, double v)
{
	jw_pre(w);
	if (!isfinite(v))
		fputs("null", w->f);
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		fprintf(w->f, "%.0f", v);
	else
		fprintf(w->f, "%.17g", v);
}

void
jw_bool(struct jw *w, int v)
{
	jw_pre(w);
	fputs(v ? "true" : "false", w->f);
}

void
jw_null(struct jw *w)
{
	jw_pre(w);
	fputs("null", w->f);
}

static void
jw_indent_to(struct jw *w, int depth)
{
	int i;

	fputc('\n', w->f);
	for (i = 0; i < w->indent + 2 * depth; i++)
		fputc(' ', w->f);
}

/*
 * Writes valid JSON text re-indented token by token, so numbers keep
 * their exact digits (cJSON would turn 2^63-1 into a double).
 */
static void
jw_reindent(struct jw *w, const char *t)
{
	int depth = w->depth, instr = 0, esc = 0;
	const char *p, *q;

	jw_pre(w);
	for (p = t; *p != '\0'; p++) {
		if (instr) {
			fputc(*p, w->f);
			if (esc)
				esc = 0;
			else if (*p == '\\')
				esc = 1;
			else if (*p == '"')
				instr = 0;
			continue;
		}
		switch (*p) {
		case ' ': case '\t': case '\n': case '\r':
			break;
		case '"':
			instr = 1;
			fputc('"', w->f);
			break;
		case '{': case '[':
			fputc(*p, w->f);
			for (q = p + 1; *q == ' ' || *q == '\t' || *q == '\n' ||
			    *q == '\r'; q++)
				;
			if (*q == '}' || *q == ']') {
				fputc(*q, w->f);	/* {} and [] stay */
				p = q;
				break;
			}
			jw_indent_to(w, ++depth);
			break;
		case '}': case ']':
			jw_indent_to(w, --depth);
			fputc(*p, w->f);
			break;
		case ',':
			fputc(',', w->f);
			jw_indent_to(w, depth);
			break;
		case ':':
			fputs(": ", w->f);
			break;
		default:
			fputc(*p, w->f);
		}
	}
}

void
jw_json(struct jw *w, const char *text)
{
	const char *end = NULL;
	cJSON *doc;

	if (text == NULL) {
		jw_null(w);
		return;
	}
	/* Parsed only to check it is one complete JSON value. */
	doc = cJSON_ParseWithOpts(text, &end, 1);
	if (doc == NULL) {
		jw_str(w, text);
		return;
	}
	cJSON_Delete(doc);
	jw_reindent(w, text);
}

void
jw_finish(struct jw *w)
{
	while (w->depth > 0)
		if (w->depth <= JW_MAX_DEPTH && w->kind[w->depth - 1] == '[')
			jw_arr_end(w);
		else
			jw_obj_end(w);
	fputc('\n', w->f);
}

void
cli_json_begin(struct cli *cli, struct jw *w)
{
	jw_init(w, stdout, 0);
	cli->jw = w;
	jw_obj_begin(w);
}

void
cli_json_end(struct cli *cli)
{
	if (cli->jw == NULL)
		return;
	jw_finish(cli->jw);
	cli->jw = NULL;
}

void
jw_ckpt_identity(struct jw *w, const char *path, const struct ckpt_info *info)
{
	jw_key(w, "path");
	jw_str(w, path);
	jw_key(w, "format");
	jw_str(w, info->format);
	jw_key(w, "kind");
	jw_str(w, info->kind);
	jw_key(w, "format_version");
	jw_int(w, info->format_version);
	jw_key(w, "id");
	jw_str(w, info->id[0] ? info->id : NULL);
	jw_key(w, "name");
	jw_str(w, info->name[0] ? info->name : NULL);
}
