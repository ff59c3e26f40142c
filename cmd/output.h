/*
 * output.h - what the ckpt program prints, and how it exits.
 *
 * struct cli carries the global options of one invocation.  This module
 * holds the single table from error kinds to exit codes, prints errors
 * as "ckpt <cmd>: <msg>" on stderr (or as {"error":{...}} on stdout
 * with --json), decides about colours (stdout a TTY, no NO_COLOR, no
 * --no-color) and progress (stderr a TTY, not -q), and writes --json
 * documents incrementally (struct jw) so that a listing of a million
 * batches is never held in memory.
 *
 * It does not parse options (opt.c) nor know any command.
 */
#ifndef CKPT_OUTPUT_H
#define CKPT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "../lib/ckpt.h"
#include "opt.h"

/* Exit statuses (ckpt(1), EXIT STATUS). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_PROBLEM = 3,	/* verify/diff/restore-test found something */
	EXIT_NOTFOUND = 10,	/* not found, not a checkpoint */
	EXIT_LOCKED = 11,
	EXIT_INTERRUPTED = 130
};

struct jw;

struct cli {
	const char *cmd;	/* "ls"; NULL before dispatch */
	int json;		/* --json */
	int quiet;		/* -q */
	int verbose;		/* -v, counted */
	int no_color;		/* --no-color */
	int color;		/* resolved: colour escapes on stdout */
	int progress;		/* resolved: progress lines on stderr */
	struct opt_complete *complete;	/* set by `ckpt __complete` */
	struct jw *jw;		/* the --json document being written */
};

void cli_init(struct cli *cli);
/* Resolves color and progress from the options and the terminals. */
void cli_setup(struct cli *cli);

/* The exit status for an error kind (the single mapping table). */
int cli_exit_code(int kind);

/*
 * Prints err and returns its exit status.  With --json the error goes
 * to stdout as {"error":{"code":"<kind>","message":"..."}}; if a
 * document is being written (cli->jw), its open containers are closed
 * and "error" is added as the last member of the top-level object, so
 * the output stays one valid document.
 */
int cli_error(struct cli *cli, const struct ckpt_error *err);
int cli_errorf(struct cli *cli, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "ckpt <cmd>: warning: <msg>" on stderr, unless -q. */
void cli_warning(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* -v chatter on stderr when cli->verbose >= level. */
void cli_verbose(struct cli *cli, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Creates the library context: interrupt flag wired to SIGINT/SIGTERM
 * (a second signal kills as usual), progress on stderr when it is a
 * TTY.  Returns 0 or an exit status after printing the error.
 */
int cli_ctx_new(struct cli *cli, struct ckpt_ctx **out);
/* Erases a progress line, if one is shown. */
void cli_progress_done(struct cli *cli);

/*
 * Flushes stdout and checks it (git's run_builtin): a failed write
 * turns status into 1 with a message.  Returns the final status.
 */
int cli_finish(struct cli *cli, int status);
/* cli_finish() then exit(). */
void cli_exit(struct cli *cli, int status) __attribute__((noreturn));

/* Colours for stdout text: "" unless cli->color. */
enum cli_color { CLI_RESET, CLI_BOLD, CLI_RED, CLI_GREEN, CLI_YELLOW,
	CLI_DIM };
const char *cli_color(const struct cli *cli, enum cli_color c);

/*
 * A path or URL fit to print: "user:password@" and a query string
 * (signed URLs) after a scheme are dropped, plain paths kept.  Prefer
 * ckpt_store_url() once a store is open.  Returns buf.
 */
char *cli_redact_url(char *buf, size_t cap, const char *url);

/*
 * s fit for a terminal: control characters (a file name may hold escape
 * sequences) become '?'; truncated to cap.  Returns buf.
 */
#define CLI_SAFE_MAX 1024
char *cli_safe(char *buf, size_t cap, const char *s);

/* Text helpers writing into caller buffers; they return buf. */
#define CLI_FMT_MAX 48
char *cli_fmt_size(char buf[CLI_FMT_MAX], uint64_t bytes); /* "1.5 KiB" */
char *cli_fmt_time(char buf[CLI_FMT_MAX], int64_t ms);	/* ISO 8601, - */
char *cli_fmt_i64(char buf[CLI_FMT_MAX], int64_t v);	/* CKPT_NONE: - */

/*
 * Streaming JSON writer, pretty-printed with two spaces.  Containers
 * are opened and closed explicitly; jw_key() precedes each member
 * value of an object.  jw_json() embeds JSON text produced by lib/
 * (checked with cJSON, then re-indented as text so numbers keep their
 * digits; invalid text is written as a string).  Containers opened
 * with jw_*_begin nest at most JW_MAX_DEPTH deep.
 */
#define JW_MAX_DEPTH 64
struct jw {
	FILE *f;
	int depth;
	int indent;			/* extra indent of every line */
	int count[JW_MAX_DEPTH];	/* members written per level */
	char kind[JW_MAX_DEPTH];	/* '{' or '[' */
	int after_key;
};
void jw_init(struct jw *w, FILE *f, int indent);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);	/* NULL: null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_i64(struct jw *w, int64_t v);		/* CKPT_NONE: null */
void jw_uint(struct jw *w, uint64_t v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
void jw_json(struct jw *w, const char *text);	/* NULL: null */
/*
 * The identity members every checkpoint document starts with, in this
 * order: path, format, kind, format_version, id, name (empty id/name:
 * null).  ls and inspect share them so their JSON agrees.
 */
void jw_ckpt_identity(struct jw *w, const char *path,
	const struct ckpt_info *info);
/* Closes what is open and ends the document with a newline. */
void jw_finish(struct jw *w);

/* Starts/ends the --json document of a command (sets cli->jw). */
void cli_json_begin(struct cli *cli, struct jw *w);
void cli_json_end(struct cli *cli);

#endif /* CKPT_OUTPUT_H */
