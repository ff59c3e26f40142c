/*
 * verify.c - `ckpt verify PATH`: is this checkpoint intact?
 *
 * Three tiers, as restic's check: the structure (manifests, sizes,
 * headers, the chain of batches; the default), --read-state (every
 * block of every state file decoded and its checksum compared), and
 * --read-subset n/t or x% (read-state over a deterministic share of
 * the state files, for a CI job that covers everything in t runs).
 * Each problem is printed as it is found, as
 *   error: <file>: offset <n>: <what is wrong>
 * then one summary line.  Exit 0 when no error was found (warnings
 * allowed), 3 when errors were found, 1 when verification could not
 * run at all.  A checkpoint too damaged to open counts as a problem.
 *
 * Verification itself is ckpt_verify() in lib/; this file only parses
 * the tiers and renders the report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char *const verify_usage[] = {
	"ckpt verify [--read-state] [--read-subset N/T|X%] PATH",
	"",
	"Check a checkpoint's structure and, with --read-state, every block",
	"and checksum of its state.  Problems are printed one per line; the",
	"exit status is 3 when errors were found.",
	NULL
};

struct verify {
	struct cli *cli;
	const char *path;
	struct jw jw;
	uint64_t errors, warnings;
};

/* Parses "n/t" (1 <= n <= t) or "x%" (0 < x <= 100) into o. */
static int
parse_subset(const char *s, struct ckpt_verify_opts *o)
{
	char *end;
	unsigned long n, t;
	double pct;

	if (s[0] == '\0' || s[0] == '-' || s[0] == '+')
		return -1;
	if (s[strlen(s) - 1] == '%') {
		errno = 0;
		pct = strtod(s, &end);
		if (errno != 0 || *end != '%' || end[1] != '\0' ||
		    !(pct > 0 && pct <= 100))
			return -1;
		o->subset_pct = pct;
		return 0;
	}
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '/')
		return -1;
	s = end + 1;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	t = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > t || t > 1000000)
		return -1;
	o->subset_n = (unsigned)n;
	o->subset_of = (unsigned)t;
	return 0;
}

static void
print_problem(struct verify *v, int severity, int kind, const char *path,
	int64_t offset, const char *msg)
{
	struct cli *cli = v->cli;
	struct jw *w = &v->jw;
	int err = severity == CKPT_PROBLEM_ERROR;
	char safe[CLI_SAFE_MAX];

	if (err)
		v->errors++;
	else
		v->warnings++;
	if (path == NULL || path[0] == '\0')
		path = NULL;
	if (cli->json) {
		jw_obj_begin(w);
		jw_key(w, "severity");
		jw_str(w, err ? "error" : "warning");
		jw_key(w, "kind");
		jw_str(w, ckpt_error_kind_name(kind));
		jw_key(w, "path");
		jw_str(w, path ? path : "");
		jw_key(w, "offset");
		if (offset < 0)
			jw_null(w);
		else
			jw_int(w, offset);
		jw_key(w, "message");
		jw_str(w, msg);
		jw_obj_end(w);
		return;
	}
	if (!err && cli->quiet)
		return;		/* -q: errors only */
	cli_progress_done(cli);
	printf("%s%s%s: %s: ", cli_color(cli, err ? CLI_RED : CLI_YELLOW),
		err ? "error" : "warning", cli_color(cli, CLI_RESET),
		cli_safe(safe, sizeof(safe), path ? path : v->path));
	if (offset >= 0)
		printf("offset %" PRId64 ": ", offset);
	printf("%s\n", cli_safe(safe, sizeof(safe), msg));
}

static int
on_problem(void *arg, const struct ckpt_problem *p)
{
	struct verify *v = arg;

	print_problem(v, p->severity, p->kind, p->path, p->offset, p->msg);
	return 0;
}

static void
report_start(struct verify *v, const struct ckpt_verify_opts *o,
	const char *subset)
{
	struct jw *w = &v->jw;

	if (!v->cli->json)
		return;
	cli_json_begin(v->cli, w);
	jw_key(w, "path");
	jw_str(w, v->path);
	jw_key(w, "level");
	jw_str(w, subset ? "read-subset" :
		o->level == CKPT_VERIFY_READ_STATE ? "read-state" :
		"structure");
	jw_key(w, "subset");
	jw_str(w, subset);
	jw_key(w, "problems");
	jw_arr_begin(w);
}

static void
report_end(struct verify *v, const struct ckpt_verify_stats *s)
{
	struct jw *w = &v->jw;

	if (!v->cli->json) {
		if (!v->cli->quiet)
			printf("verified %" PRIu64 " files, %" PRIu64
				" bytes, %" PRIu64 " checksums: %" PRIu64
				" errors, %" PRIu64 " warnings\n", s->files,
				s->bytes, s->checksums, v->errors,
				v->warnings);
		return;
	}
	jw_arr_end(w);
	jw_key(w, "stats");
	jw_obj_begin(w);
	jw_key(w, "files");
	jw_uint(w, s->files);
	jw_key(w, "bytes");
	jw_uint(w, s->bytes);
	jw_key(w, "blocks");
	jw_uint(w, s->blocks);
	jw_key(w, "records");
	jw_uint(w, s->records);
	jw_key(w, "checksums");
	jw_uint(w, s->checksums);
	jw_key(w, "errors");
	jw_uint(w, v->errors);
	jw_key(w, "warnings");
	jw_uint(w, v->warnings);
	jw_obj_end(w);
	jw_key(w, "ok");
	jw_bool(w, v->errors == 0);
	cli_json_end(v->cli);
}

/*
 * Damage is a finding, also when it stops the walk or even the opening
 * of the checkpoint (its metadata does not parse, a file stands where a
 * directory belongs): exit 3, not 1.
 */
static int
damaged(const struct ckpt_error *e)
{
	/* A file where a directory belongs, or the reverse, is damage. */
	if (e->kind == CKPT_E_IO && (e->sys_errno == ENOTDIR ||
	    e->sys_errno == EISDIR))
		return 1;
	return e->kind == CKPT_E_FORMAT || e->kind == CKPT_E_CHECKSUM;
}

int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	struct ckpt_verify_opts o;
	struct ckpt_verify_stats stats;
	struct verify v;
	int read_state = 0;
	const char *subset = NULL;
	const struct option opts[] = {
		OPT_BOOL(0, "read-state", &read_state,
			"decode every block, compare every checksum"),
		OPT_STRING(0, "read-subset", &subset, "N/T|X%",
			"read-state on part N of T of the state files, or X%"),
		OPT_END(),
	};
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt *c = NULL;
	char shown[4096];
	int n, status, rc;

	memset(&o, 0, sizeof(o));
	memset(&stats, 0, sizeof(stats));
	memset(&v, 0, sizeof(v));
	v.cli = cli;
	n = opt_parse(cli, argc, argv, opts, verify_usage, 0);
	if (n != 1)
		opt_usage_error(cli, verify_usage, n == 0 ? "missing PATH" :
			"too many arguments");
	v.path = cli_redact_url(shown, sizeof(shown), argv[0]);
	o.level = read_state ? CKPT_VERIFY_READ_STATE :
		CKPT_VERIFY_STRUCTURE;
	if (subset != NULL) {
		if (parse_subset(subset, &o) != 0)
			opt_usage_error(cli, verify_usage, "option "
				"'--read-subset' expects N/T or X%%, got '%s'",
				subset);
		o.level = CKPT_VERIFY_READ_STATE;
	}
	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		return status;
	rc = ckpt_open(ctx, argv[0], &c, &err);
	if (rc != CKPT_OK && damaged(&err)) {
		report_start(&v, &o, subset);
		print_problem(&v, CKPT_PROBLEM_ERROR, err.kind, "", -1,
			err.msg);
		report_end(&v, &stats);
		status = EXIT_PROBLEM;
		goto out_ctx;
	}
	if (rc != CKPT_OK)
		goto out_err;
	v.path = ckpt_store_url(ckpt_get_store(c));
	cli_verbose(cli, 1, "verifying '%s' (%s backend): %s%s", v.path,
		ckpt_store_backend(ckpt_get_store(c)),
		subset ? "read-subset " : o.level == CKPT_VERIFY_READ_STATE ?
		"read-state" : "structure", subset ? subset : "");
	report_start(&v, &o, subset);
	rc = ckpt_verify(c, &o, on_problem, &v, &stats, &err);
	cli_progress_done(cli);
	if (rc != CKPT_OK && damaged(&err)) {
		/* Damage that stopped the walk is still a finding. */
		print_problem(&v, CKPT_PROBLEM_ERROR, err.kind, "", -1,
			err.msg);
		rc = CKPT_OK;
	}
	if (rc != CKPT_OK)
		goto out_err;
	cli_verbose(cli, 1, "read %" PRIu64 " blocks, decoded %" PRIu64
		" records", stats.blocks, stats.records);
	report_end(&v, &stats);
	status = v.errors > 0 ? EXIT_PROBLEM : EXIT_OK;
	goto out_close;
out_err:
	status = cli_error(cli, &err);
out_close:
	ckpt_close(c);
out_ctx:
	ckpt_ctx_free(ctx);
	return status;
}
