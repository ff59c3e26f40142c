/*
 * cmd.h - the subcommands of the ckpt program.
 *
 * Every subcommand is one file cmd/<verb>.c exporting one function
 * cmd_<verb>(), whose return value is the exit status (git's builtin.h).
 * The dispatcher (cmd/ckpt.c) finds it through commands[] and handles
 * the global options, `ckpt help CMD`, `ckpt __complete` and the final
 * check of stdout.  This header declares every command ckpt has or will
 * have; only those listed in commands[] are reachable.
 *
 * Adding a command (docs/STYLE.md, "Checklist: add a subcommand"):
 *  1. cmd/<verb>.c with cmd_<verb>(), a usage array and an option table
 *     (struct option, cmd/opt.h) ending in OPT_END().  Call opt_parse()
 *     first: the table is the single source of --help, of completion
 *     (`ckpt __complete`) and of the meta tests.  Render through
 *     cmd/output.h (cli_error() for failures, struct jw for --json).
 *  2. One row in commands[] in cmd/ckpt.c, alphabetical; the
 *     declaration is already below (add it if the verb is new).  The
 *     Makefile finds cmd/<verb>.c by wildcard.
 *  3. man/ckpt-<verb>.1 whose SYNOPSIS equals the usage line, with a
 *     JSON OUTPUT section; man/ckpt.1 already lists the planned verbs.
 *  4. completions/ckpt.bash, completions/_ckpt, completions/ckpt.fish
 *     name the verb (they ask `ckpt __complete` for options).
 *  5. tests/cli/<verb>.bats and tests/cli/golden/<verb>/help.*
 *     (`make golden`, then review the diff).
 *  6. A line `ckpt <verb>` in README.md.  tests/cli/meta.bats checks
 *     all of it.
 */
#ifndef CKPT_CMD_H
#define CKPT_CMD_H

#include "output.h"

/* argv[0] is the command name; options are parsed with opt_parse(). */
typedef int (*cmd_fn)(struct cli *cli, int argc, char **argv);

int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_inspect(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_migrate(struct cli *cli, int argc, char **argv);
int cmd_prune(struct cli *cli, int argc, char **argv);
int cmd_restore_test(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_shell(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);

#endif /* CKPT_CMD_H */
