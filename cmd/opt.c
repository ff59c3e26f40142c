/*
 * opt.c - parse options from a table; generate help and completion.
 *
 * One table per command (opt.h) drives three things: parsing argv,
 * the --help text, and the candidates `ckpt __complete` prints for the
 * shell completions.  The global options live in a table built here
 * and are accepted before and after the command name.  Usage errors
 * print "ckpt <cmd>: <msg>" and the usage lines, and exit 2.
 *
 * It does not know which commands exist (cmd/ckpt.c) nor print
 * anything but help, completions and usage errors.
 */
#include "opt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#define HELP_COLUMN 24
#define NGLOBAL 7		/* the global options and OPT_END() */

/* The global options, stored in cli; help and version handled inline. */
static int want_help, want_version;

static void
globals_init(struct option g[NGLOBAL], struct cli *cli)
{
	const struct option t[NGLOBAL] = {
		OPT_BOOL('h', "help", &want_help, "show this help and exit"),
		OPT_BOOL(0, "version", &want_version,
			"print the version and exit"),
		OPT_BOOL('q', "quiet", &cli->quiet,
			"print less: no progress, no warnings"),
		OPT_COUNT('v', "verbose", &cli->verbose,
			"print more (repeat for more)"),
		OPT_BOOL(0, "json", &cli->json,
			"print one JSON document on stdout"),
		OPT_BOOL(0, "no-color", &cli->no_color,
			"never colour the output"),
		OPT_END(),
	};

	memcpy(g, t, sizeof(t));
}

static int
takes_arg(const struct option *o)
{
	return o->type == OPT_T_INT || o->type == OPT_T_STRING;
}

static const struct option *
find_long(const struct option *opts, const char *name, size_t len)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->long_name != NULL &&
		    strlen(opts->long_name) == len &&
		    strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct option *
find_short(const struct option *opts, int c)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->short_name != 0 && opts->short_name == c)
			return opts;
	return NULL;
}

static void
print_usage_lines(const char *const *usage, FILE *f)
{
	int i;

	for (i = 0; usage[i] != NULL && usage[i][0] != '\0'; i++)
		fprintf(f, "%s%s\n", i == 0 ? "usage: " : "   or: ",
			usage[i]);
}

void
opt_usage_error(struct cli *cli, const char *const *usage,
	const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_errorf(cli, CKPT_E_USAGE, "%s", msg);
	if (!cli->json && usage != NULL)
		print_usage_lines(usage, stderr);
	cli_exit(cli, EXIT_USAGE);
}

/* A global option is shadowed by a command option of the same name. */
static int
shadowed(const struct option *o, const struct option *by)
{
	if (by == NULL)
		return 0;
	return (o->long_name != NULL &&
		find_long(by, o->long_name, strlen(o->long_name)) != NULL) ||
		(o->short_name != 0 && find_short(by, o->short_name) != NULL);
}

static void
help_options(const struct option *o, const struct option *by, FILE *f)
{
	char left[128];
	int n;

	for (; o->type != OPT_T_END; o++) {
		if ((o->flags & OPT_HIDDEN) || shadowed(o, by))
			continue;
		if (o->short_name && o->long_name)
			n = snprintf(left, sizeof(left), "-%c, --%s",
				o->short_name, o->long_name);
		else if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c", o->short_name);
		else
			n = snprintf(left, sizeof(left), "    --%s",
				o->long_name);
		if (takes_arg(o) && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - n, " %s",
				o->argh ? o->argh : "VALUE");
		if (strlen(left) + 2 >= HELP_COLUMN)
			fprintf(f, "  %s\n  %*s%s\n", left, HELP_COLUMN, "",
				o->help);
		else
			fprintf(f, "  %-*s%s\n", HELP_COLUMN, left, o->help);
	}
}

void
opt_help(const struct cli *cli, const char *const *usage,
	const struct option *opts, void *fp)
{
	FILE *f = fp;
	struct option g[NGLOBAL];
	struct cli scratch;
	int i;

	(void)cli;
	cli_init(&scratch);
	globals_init(g, &scratch);
	print_usage_lines(usage, f);
	for (i = 0; usage[i] != NULL && usage[i][0] != '\0'; i++)
		;
	if (usage[i] != NULL) {
		fputc('\n', f);
		for (i++; usage[i] != NULL; i++)
			fprintf(f, "%s\n", usage[i]);
	}
	if (opts != NULL && opts->type != OPT_T_END) {
		fputs("\nOptions:\n", f);
		help_options(opts, NULL, f);
	}
	fputs("\nGlobal options:\n", f);
	help_options(g, opts, f);
}

/* ---- completion ---- */

static void
complete_list(const struct option *o, const struct option *by,
	const char *cur)
{
	char buf[160];

	for (; o->type != OPT_T_END; o++) {
		if ((o->flags & OPT_HIDDEN) || shadowed(o, by))
			continue;
		if (o->long_name)
			snprintf(buf, sizeof(buf), "--%s", o->long_name);
		else
			snprintf(buf, sizeof(buf), "-%c", o->short_name);
		if (strncmp(buf, cur, strlen(cur)) == 0)
			printf("%s\n", buf);
	}
}

void
opt_complete_globals(const char *cur)
{
	struct option g[NGLOBAL];
	struct cli scratch;

	cli_init(&scratch);
	globals_init(g, &scratch);
	complete_list(g, NULL, cur);
}

/* Finds the option a word names ("--batch", "-b"), or NULL. */
static const struct option *
word_option(const struct option *opts, const struct option *g,
	const char *w)
{
	const struct option *o = NULL;

	if (w == NULL || w[0] != '-')
		return NULL;
	if (w[1] == '-') {
		if (strchr(w, '=') != NULL)
			return NULL;
		o = find_long(opts, w + 2, strlen(w + 2));
		if (o == NULL)
			o = find_long(g, w + 2, strlen(w + 2));
	} else if (w[1] != '\0' && w[2] == '\0') {
		o = find_short(opts, w[1]);
		if (o == NULL)
			o = find_short(g, w[1]);
	}
	return o;
}

static void
complete_values(const struct option *o, const char *prefix,
	const char *cur)
{
	const char *const *v;
	size_t plen = strlen(prefix);

	if (o->values == NULL)
		return;
	for (v = o->values; *v != NULL; v++)
		if (strncmp(*v, cur + plen, strlen(cur + plen)) == 0)
			printf("%s%s\n", prefix, *v);
}

static void
opt_complete(const struct opt_complete *rq, const struct option *opts,
	const struct option *g)
{
	const struct option *o;
	const char *cur = rq->cur, *eq;

	o = word_option(opts, g, rq->prev);
	if (o != NULL && takes_arg(o)) {
		complete_values(o, "", cur);
		return;
	}
	if (strncmp(cur, "--", 2) == 0 && (eq = strchr(cur, '=')) != NULL) {
		char prefix[160];

		o = find_long(opts, cur + 2, (size_t)(eq - cur - 2));
		if (o != NULL && takes_arg(o) &&
		    (size_t)(eq - cur + 1) < sizeof(prefix)) {
			memcpy(prefix, cur, (size_t)(eq - cur + 1));
			prefix[eq - cur + 1] = '\0';
			complete_values(o, prefix, cur);
		}
		return;
	}
	if (cur[0] == '-') {
		complete_list(opts, NULL, cur);
		complete_list(g, opts, cur);
	}
}

/* ---- parsing ---- */

static void
bad_value(struct cli *cli, const char *const *usage,
	const struct option *o, const char *spelled, const char *arg)
{
	char list[256] = "";
	const char *const *v;
	size_t n = 0;

	for (v = o->values; *v != NULL && n < sizeof(list); v++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
			v == o->values ? "" : ", ", *v);
	opt_usage_error(cli, usage, "option '%s' does not accept '%s' "
		"(one of: %s)", spelled, arg, list);
}

static void
apply(struct cli *cli, const char *const *usage, const struct option *o,
	const char *spelled, const char *arg)
{
	const char *const *v;
	char *end;
	long long n;

	switch (o->type) {
	case OPT_T_BOOL:
		*(int *)o->value = 1;
		break;
	case OPT_T_COUNT:
		(*(int *)o->value)++;
		break;
	case OPT_T_INT:
		errno = 0;
		n = strtoll(arg, &end, 10);
		if (arg[0] == '\0' || *end != '\0' || errno != 0)
			opt_usage_error(cli, usage,
				"option '%s' expects an integer, got '%s'",
				spelled, arg);
		*(int64_t *)o->value = n;
		break;
	case OPT_T_STRING:
		if (o->values != NULL && !(o->flags & OPT_OPEN_VALUES)) {
			for (v = o->values; *v != NULL; v++)
				if (strcmp(*v, arg) == 0)
					break;
			if (*v == NULL)
				bad_value(cli, usage, o, spelled, arg);
		}
		*(const char **)o->value = arg;
		break;
	case OPT_T_END:
		break;
	}
}

static void
finish_special(struct cli *cli, const char *const *usage,
	const struct option *opts)
{
	if (want_help) {
		opt_help(cli, usage, opts, stdout);
		cli_exit(cli, EXIT_OK);
	}
	if (want_version) {
		if (cli->json) {
			struct jw w;

			jw_init(&w, stdout, 0);
			jw_obj_begin(&w);
			jw_key(&w, "version");
			jw_str(&w, CKPT_VERSION_STRING);
			jw_finish(&w);
		} else {
			printf("ckpt %s\n", CKPT_VERSION_STRING);
		}
		cli_exit(cli, EXIT_OK);
	}
}

static int
parse_long(struct cli *cli, const char *const *usage,
	const struct option *opts, const struct option *g, int argc,
	char **argv, int i)
{
	const char *name = argv[i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option *o;
	char spelled[160];

	o = find_long(opts, name, len);
	if (o == NULL)
		o = find_long(g, name, len);
	snprintf(spelled, sizeof(spelled), "--%.*s", (int)len, name);
	if (o == NULL)
		opt_usage_error(cli, usage, "unknown option '%s'", spelled);
	if (!takes_arg(o)) {
		if (eq != NULL)
			opt_usage_error(cli, usage,
				"option '%s' takes no value", spelled);
		apply(cli, usage, o, spelled, NULL);
		return i;
	}
	if (eq != NULL) {
		apply(cli, usage, o, spelled, eq + 1);
		return i;
	}
	if (i + 1 >= argc)
		opt_usage_error(cli, usage, "option '%s' requires a value",
			spelled);
	apply(cli, usage, o, spelled, argv[i + 1]);
	return i + 1;
}

static int
parse_short(struct cli *cli, const char *const *usage,
	const struct option *opts, const struct option *g, int argc,
	char **argv, int i)
{
	const char *a = argv[i];
	const struct option *o;
	char spelled[3] = "-?";
	int j;

	for (j = 1; a[j] != '\0'; j++) {
		o = find_short(opts, (unsigned char)a[j]);
		if (o == NULL)
			o = find_short(g, (unsigned char)a[j]);
		spelled[1] = a[j];
		if (o == NULL)
			opt_usage_error(cli, usage, "unknown option '%s'",
				spelled);
		if (!takes_arg(o)) {
			apply(cli, usage, o, spelled, NULL);
			continue;
		}
		if (a[j + 1] != '\0') {
			apply(cli, usage, o, spelled, a + j + 1);
			return i;
		}
		if (i + 1 >= argc)
			opt_usage_error(cli, usage,
				"option '%s' requires a value", spelled);
		apply(cli, usage, o, spelled, argv[i + 1]);
		return i + 1;
	}
	return i;
}

int
opt_parse(struct cli *cli, int argc, char **argv,
	const struct option *opts, const char *const *usage, unsigned flags)
{
	static const struct option none[] = { OPT_END() };
	struct option g[NGLOBAL];
	int i, n = 0, ddash = 0;

	if (opts == NULL)
		opts = none;
	globals_init(g, cli);
	if (cli->complete != NULL) {
		opt_complete(cli->complete, opts, g);
		cli_exit(cli, EXIT_OK);
	}
	/* Decide early how usage errors are printed. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			cli->json = 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ddash || a[0] != '-' || a[1] == '\0') {
			if (flags & OPT_STOP_AT_NON_OPTION) {
				while (i < argc)
					argv[n++] = argv[i++];
				break;
			}
			argv[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			ddash = 1;
			if (flags & OPT_STOP_AT_NON_OPTION) {
				i++;
				while (i < argc)
					argv[n++] = argv[i++];
				break;
			}
			continue;
		}
		if (a[1] == '-')
			i = parse_long(cli, usage, opts, g, argc, argv, i);
		else
			i = parse_short(cli, usage, opts, g, argc, argv, i);
	}
	finish_special(cli, usage, opts);
	cli_setup(cli);
	return n;
}
