/*
 * ckpt.c - the ckpt program: global options and command dispatch.
 *
 *   ckpt [global options] <command> [options] [args]
 *
 * commands[] has one row per implemented subcommand, alphabetical (git's
 * git.c).  The dispatcher parses the global options that come before the
 * command, answers `ckpt help [CMD]`, the hidden `ckpt __complete WORDS`
 * used by the shell completions, and checks stdout once the command
 * returns (git's run_builtin).  Each command's own options, its help and
 * its output live in its file (cmd/cmd.h says how to add one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"

struct cmd_struct {
	const char *name;
	cmd_fn fn;
	const char *summary;	/* one line for `ckpt --help` */
};

/*
 * Alphabetical.  The planned commands are commented out until their
 * file exists: uncomment the row when adding cmd/<verb>.c.
 */
static const struct cmd_struct commands[] = {
	{ "diff", cmd_diff, "compare two checkpoints or two batches" },
	{ "inspect", cmd_inspect,
		"show metadata, offsets, schema and decoded state" },
	{ "ls", cmd_ls, "list batches, operators and leftover files" },
	{ "migrate", cmd_migrate,
		"convert, relocate or rewrite a checkpoint" },
	{ "prune", cmd_prune, "delete old batches and leftovers" },
	{ "restore-test", cmd_restore_test,
		"kill and restore jobs, compare with a reference run" },
	{ "run", cmd_run, "run a job on the embedded engine" },
	/* { "shell", cmd_shell, "browse a checkpoint interactively" }, */
	{ "verify", cmd_verify, "check structure, checksums and state" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd_struct *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Usage text of the program itself, with the list of commands. */
static const char *const *
main_usage(void)
{
	static char lines[NCOMMANDS][128];
	static const char *usage[NCOMMANDS + 12];
	size_t i, n = 0;

	usage[n++] = "ckpt [global options] <command> [options] [args]";
	usage[n++] = "ckpt help <command>";
	usage[n++] = "";
	usage[n++] = "Inspect, verify and maintain stream-processing "
		"checkpoints (native and Spark).";
	usage[n++] = "";
	usage[n++] = "Commands:";
	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(lines[i], sizeof(lines[i]), "  %-14s%s",
			commands[i].name, commands[i].summary);
		usage[n++] = lines[i];
	}
	usage[n++] = "";
	usage[n++] = "Paths are directories or file:// URLs (s3:// and "
		"archives: not yet).";
	usage[n++] = "See 'ckpt help <command>' or man ckpt(1).";
	usage[n] = NULL;
	return usage;
}

/* `ckpt --help CMD` (-h too) is `ckpt help CMD`, as in git. */
static const struct cmd_struct *
help_first(int argc, char **argv)
{
	int i, help = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			help = 1;
	return help && i < argc ? find_command(argv[i]) : NULL;
}

static int
run_command(struct cli *cli, const struct cmd_struct *c, int argc,
	char **argv)
{
	cli->cmd = c->name;
	return cli_finish(cli, c->fn(cli, argc, argv));
}

static int
unknown_command(struct cli *cli, const char *name)
{
	cli->cmd = NULL;
	cli_errorf(cli, CKPT_E_USAGE,
		"unknown command '%s': see 'ckpt --help'", name);
	return cli_finish(cli, EXIT_USAGE);
}

/*
 * `ckpt __complete WORD...`: the words after "ckpt" up to the cursor,
 * the last one being completed (maybe "").  Prints candidates, one per
 * line, already filtered by the prefix; nothing means "complete file
 * names".
 */
static int
complete(struct cli *cli, int nw, char **w)
{
	struct opt_complete rq;
	const struct cmd_struct *c;
	const char *cur = nw > 0 ? w[nw - 1] : "";
	int i, cmdpos = -1;
	size_t k;

	for (i = 0; i < nw - 1; i++)
		if (w[i][0] != '-') {
			cmdpos = i;
			break;
		}
	if (cmdpos < 0 || (strcmp(w[cmdpos], "help") == 0 &&
	    cmdpos == nw - 2)) {
		if (cur[0] == '-' && cmdpos < 0) {
			opt_complete_globals(cur);
			return cli_finish(cli, EXIT_OK);
		}
		for (k = 0; k < NCOMMANDS; k++)
			if (strncmp(commands[k].name, cur, strlen(cur)) == 0)
				printf("%s\n", commands[k].name);
		if (cmdpos < 0 && strncmp("help", cur, strlen(cur)) == 0)
			printf("help\n");
		return cli_finish(cli, EXIT_OK);
	}
	c = find_command(w[cmdpos]);
	if (c == NULL)
		return cli_finish(cli, EXIT_OK);
	rq.cur = cur;
	rq.prev = nw - 2 > cmdpos ? w[nw - 2] : NULL;
	cli->complete = &rq;
	cli->cmd = c->name;
	/* opt_parse() prints the candidates and exits. */
	c->fn(cli, 1, &w[cmdpos]);
	return cli_finish(cli, EXIT_OK);
}

int
main(int argc, char **argv)
{
	static const struct option no_opts[] = { OPT_END() };
	const char *const *usage = main_usage();
	const struct cmd_struct *c;
	struct cli cli;
	char *help_argv[3];
	int n;

	cli_init(&cli);
	if (argc >= 2 && strcmp(argv[1], "__complete") == 0)
		return complete(&cli, argc - 2, argv + 2);

	c = help_first(argc, argv);
	if (c != NULL) {
		help_argv[0] = (char *)c->name;
		help_argv[1] = "--help";
		help_argv[2] = NULL;
		return run_command(&cli, c, 2, help_argv);
	}
	n = opt_parse(&cli, argc, argv, no_opts, usage,
		OPT_STOP_AT_NON_OPTION);
	if (n == 0) {
		if (cli.json) {
			cli_errorf(&cli, CKPT_E_USAGE,
				"missing command: see 'ckpt --help'");
			return cli_finish(&cli, EXIT_USAGE);
		}
		opt_help(&cli, usage, no_opts, stderr);
		return cli_finish(&cli, EXIT_USAGE);
	}
	if (strcmp(argv[0], "help") == 0) {
		if (n == 1 || strcmp(argv[1], "help") == 0) {
			opt_help(&cli, usage, no_opts, stdout);
			return cli_finish(&cli, EXIT_OK);
		}
		c = find_command(argv[1]);
		if (c == NULL)
			return unknown_command(&cli, argv[1]);
		help_argv[0] = argv[1];
		help_argv[1] = "--help";
		help_argv[2] = NULL;
		return run_command(&cli, c, 2, help_argv);
	}
	c = find_command(argv[0]);
	if (c == NULL)
		return unknown_command(&cli, argv[0]);
	argv[n] = NULL;
	return run_command(&cli, c, n, argv);
}
