/*
 * opt.h - option tables for the ckpt subcommands (git's parse-options).
 *
 * A command describes its options as data: a usage array and a table of
 * struct option ending in OPT_END().  opt_parse() reads argv with it,
 * and the same table produces --help and the candidates of
 * `ckpt __complete`, so help, completion and the meta tests cannot
 * drift apart.  The global options (-h, --version, -q, -v, --json,
 * --no-color) are appended to every table by opt_parse().
 *
 * Accepted syntax: -x, -xyz (bundled flags), -nVALUE, -n VALUE,
 * --name, --name=VALUE, --name VALUE, "--" ends the options, "-" is an
 * argument.  Options and arguments may be mixed.  Long names must be
 * given in full (no abbreviations: scripts stay valid when options are
 * added).
 */
#ifndef CKPT_OPT_H
#define CKPT_OPT_H

#include <stdint.h>

struct cli;

enum opt_type {
	OPT_T_END = 0,
	OPT_T_BOOL,		/* int *, set to 1 */
	OPT_T_COUNT,		/* int *, incremented (-v -v) */
	OPT_T_INT,		/* int64_t *, decimal, may be negative */
	OPT_T_STRING		/* const char **, points into argv */
};

#define OPT_HIDDEN 0x1u		/* parsed, not in help or completion */
#define OPT_OPEN_VALUES 0x2u	/* values are completed but not checked */

struct option {
	enum opt_type type;
	int short_name;			/* 0 if none */
	const char *long_name;		/* NULL if none */
	void *value;
	const char *argh;		/* placeholder in help: "N" */
	const char *help;
	const char *const *values;	/* STRING: allowed values, or NULL */
	unsigned flags;
};

#define OPT_BOOL(s, l, v, h) \
	{ OPT_T_BOOL, (s), (l), (v), NULL, (h), NULL, 0 }
#define OPT_COUNT(s, l, v, h) \
	{ OPT_T_COUNT, (s), (l), (v), NULL, (h), NULL, 0 }
#define OPT_INT(s, l, v, a, h) \
	{ OPT_T_INT, (s), (l), (v), (a), (h), NULL, 0 }
#define OPT_STRING(s, l, v, a, h) \
	{ OPT_T_STRING, (s), (l), (v), (a), (h), NULL, 0 }
/* A string restricted to a NULL-terminated list (checked, completed). */
#define OPT_ENUM(s, l, v, a, vals, h) \
	{ OPT_T_STRING, (s), (l), (v), (a), (h), (vals), 0 }
#define OPT_END() { OPT_T_END, 0, NULL, NULL, NULL, NULL, NULL, 0 }

/* Stop at the first argument that is not an option (the dispatcher). */
#define OPT_STOP_AT_NON_OPTION 0x1u

/*
 * Usage arrays: usage lines first (the first is printed after "usage: ",
 * the others after "   or: "), then optionally an empty string and
 * lines of description, then NULL.  Each usage line must equal the
 * SYNOPSIS line of the command's man page.
 */

/*
 * Parses argv[1..argc-1] (argv[0] is the command name) against opts and
 * the global options, which it stores in cli.  Returns the number of
 * arguments left, moved to argv[0..n-1].  Exits: 0 after printing help
 * (-h, --help), the version or completion candidates (when
 * cli->complete is set by `ckpt __complete`); 2 after printing a usage
 * error.  Call it first in a command, before any work.
 */
int opt_parse(struct cli *cli, int argc, char **argv,
	const struct option *opts, const char *const *usage, unsigned flags);

/* Prints help from usage and opts (plus the global options) to f. */
void opt_help(const struct cli *cli, const char *const *usage,
	const struct option *opts, void *f);

/*
 * Reports a usage error ("ckpt <cmd>: <msg>" then the usage lines, or
 * the JSON error object with --json) and exits 2.
 */
void opt_usage_error(struct cli *cli, const char *const *usage,
	const char *fmt, ...) __attribute__((format(printf, 3, 4),
	noreturn));

/*
 * A completion request from `ckpt __complete`: cur is the word being
 * completed (maybe ""), prev the word before it (NULL if it is the
 * command name).
 */
struct opt_complete {
	const char *cur;
	const char *prev;
};

/* Prints the global options matching prefix cur, one per line. */
void opt_complete_globals(const char *cur);

#endif /* CKPT_OPT_H */
