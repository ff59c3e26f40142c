/*
 * migrate.c - `ckpt migrate`: named rewrites of a native checkpoint.
 *
 * Parses the migration and its options, calls ckpt_migrate() and
 * renders the planned changes (a preview unless --execute), then where
 * the result went; or one JSON document.  `--list` names and explains
 * every migration.  The rewrite, verification and swap are
 * lib/ops/ops_migrate.c's.  Completion offers the migration names after
 * the checkpoint path (they are arguments, not options, so the option
 * table cannot list them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"

static const char *const migrate_usage[] = {
	"ckpt migrate [options] PATH MIGRATION [ARGS]",
	"ckpt migrate --list",
	"",
	"Rewrite a native checkpoint: change its format version, partition",
	"count, an operator's name, the offsets it resumes from, or copy it",
	"into a new lineage.  Shows what would change unless --execute is",
	"given; the result goes to --to DEST or, after a verified copy, in",
	"place.  See 'ckpt migrate --list'.",
	NULL
};

struct mig_out {
	struct cli *cli;
	int opened;		/* JSON: "changes" array open */
};

static int
on_change(void *arg, const struct ckpt_migrate_item *it)
{
	struct mig_out *o = arg;
	struct jw *w = o->cli->jw;

	if (!o->cli->json) {
		printf("%s: %s\n", it->what, it->detail);
		return 0;
	}
	if (!o->opened) {
		jw_key(w, "changes");
		jw_arr_begin(w);
		o->opened = 1;
	}
	jw_obj_begin(w);
	jw_key(w, "what");
	jw_str(w, it->what);
	jw_key(w, "detail");
	jw_str(w, it->detail);
	jw_obj_end(w);
	return 0;
}

static int
list_migrations(struct cli *cli)
{
	const struct ckpt_migration *m;
	struct jw w;

	if (cli->json) {
		cli_json_begin(cli, &w);
		jw_key(&w, "migrations");
		jw_arr_begin(&w);
	}
	for (m = ckpt_migrations(); m->name != NULL; m++) {
		if (!cli->json) {
			printf("%-16s %s\n%-16s %s\n", m->name, m->args, "",
			    m->summary);
			continue;
		}
		jw_obj_begin(&w);
		jw_key(&w, "name");
		jw_str(&w, m->name);
		jw_key(&w, "args");
		jw_str(&w, m->args);
		jw_key(&w, "summary");
		jw_str(&w, m->summary);
		jw_obj_end(&w);
	}
	if (cli->json)
		cli_json_end(cli);
	return EXIT_OK;
}

/*
 * `ckpt __complete`: after a word that names a directory, offer the
 * migration names.  Returns 1 when it answered.
 */
static int
complete_names(struct cli *cli)
{
	const struct opt_complete *rq = cli->complete;
	const struct ckpt_migration *m;
	struct stat sb;

	if (rq == NULL || rq->cur[0] == '-' || rq->prev == NULL ||
	    rq->prev[0] == '-' || stat(rq->prev, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode))
		return 0;
	for (m = ckpt_migrations(); m->name != NULL; m++)
		if (strncmp(m->name, rq->cur, strlen(rq->cur)) == 0)
			printf("%s\n", m->name);
	return 1;
}

/* Parses "[SOURCE=]N" of --to-offset. */
static int
parse_to_offset(const char *s, const char **source, char *buf, size_t cap,
	int64_t *v)
{
	const char *eq = strrchr(s, '=');
	char *end;

	*source = NULL;
	if (eq != NULL) {
		if ((size_t)(eq - s) >= cap || eq == s)
			return -1;
		memcpy(buf, s, (size_t)(eq - s));
		buf[eq - s] = '\0';
		*source = buf;
		s = eq + 1;
	}
	if (*s == '\0')
		return -1;
	*v = strtoll(s, &end, 10);
	return *end == '\0' && *v >= 0 ? 0 : -1;
}

static void
json_result(struct cli *cli, struct mig_out *o, const char *path,
	const char *name, int execute, const struct ckpt_migrate_result *r)
{
	struct jw *w = cli->jw;

	if (!o->opened) {
		jw_key(w, "changes");
		jw_arr_begin(w);
	}
	jw_arr_end(w);
	jw_key(w, "path");
	jw_str(w, path);
	jw_key(w, "migration");
	jw_str(w, name);
	jw_key(w, "executed");
	jw_bool(w, execute);
	jw_key(w, "dest");
	jw_str(w, execute ? r->dest : NULL);
	jw_key(w, "in_place");
	jw_bool(w, execute && r->in_place);
	jw_key(w, "batches");
	jw_int(w, r->batches);
	jw_key(w, "state_files");
	jw_int(w, r->state_files);
	jw_key(w, "records");
	jw_uint(w, r->records);
	jw_key(w, "new_batch");
	jw_i64(w, r->new_batch);
}

int
cmd_migrate(struct cli *cli, int argc, char **argv)
{
	int64_t to_version = 0, partitions = 0, shift = 0, to_time = 0;
	const char *dest = NULL, *to_offset = NULL, *input = NULL;
	int execute = 0, list = 0, earliest = 0, latest = 0, n, rc, status;
	int dry_run = 0;
	int have_shift, have_time, nresets;
	char srcbuf[128];
	struct option opts[] = {
		OPT_BOOL(0, "list", &list, "name and explain every migration"),
		OPT_STRING(0, "to", &dest, "DEST",
		    "write the result to the new directory DEST"),
		OPT_BOOL(0, "execute", &execute,
		    "apply the migration (default: preview only)"),
		OPT_BOOL('n', "dry-run", &dry_run,
		    "preview only, the default (not with --execute)"),
		OPT_INT(0, "to-version", &to_version, "N",
		    "format: the native format version to write"),
		OPT_INT(0, "partitions", &partitions, "N",
		    "repartition: the new partition count"),
		OPT_BOOL(0, "to-earliest", &earliest,
		    "set-offsets: from the start of the input"),
		OPT_BOOL(0, "to-latest", &latest,
		    "set-offsets: from the end of the input (needs --input)"),
		OPT_STRING(0, "to-offset", &to_offset, "[SOURCE=]N",
		    "set-offsets: from offset N"),
		OPT_INT(0, "shift-by", &shift, "N",
		    "set-offsets: N records later (negative: earlier)"),
		OPT_INT(0, "to-time", &to_time, "T",
		    "set-offsets: from the first event at or after T (ms)"),
		OPT_STRING(0, "input", &input, "FILE",
		    "set-offsets: the job's input file"),
		OPT_END()
	};
	struct ckpt_migrate_opts o;
	struct ckpt_migrate_result res;
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct mig_out out;
	struct jw w;

	if (cli->complete != NULL && complete_names(cli))
		cli_exit(cli, EXIT_OK);
	shift = INT64_MIN;
	to_time = INT64_MIN;
	n = opt_parse(cli, argc, argv, opts, migrate_usage, 0);
	if (list) {
		if (n != 0)
			opt_usage_error(cli, migrate_usage,
			    "--list takes no arguments");
		return list_migrations(cli);
	}
	if (n < 2)
		opt_usage_error(cli, migrate_usage,
		    "migrate needs a checkpoint path and a migration");
	if (dry_run && execute)
		opt_usage_error(cli, migrate_usage,
		    "--dry-run and --execute exclude each other");
	memset(&o, 0, sizeof(o));
	o.migration = argv[1];
	o.dest = dest;
	o.execute = execute;
	o.to_version = (int)to_version;
	o.partitions = (int)partitions;
	o.input = input;
	have_shift = shift != INT64_MIN;
	have_time = to_time != INT64_MIN;
	nresets = earliest + latest + (to_offset != NULL) + have_shift +
	    have_time;
	if (strcmp(argv[1], "rename-operator") == 0) {
		if (n != 4)
			opt_usage_error(cli, migrate_usage,
			    "rename-operator needs OLD and NEW");
		o.old_name = argv[2];
		o.new_name = argv[3];
	} else if (n != 2) {
		opt_usage_error(cli, migrate_usage,
		    "unexpected argument '%s'", argv[2]);
	}
	if (strcmp(argv[1], "format") == 0 && to_version == 0)
		opt_usage_error(cli, migrate_usage,
		    "format needs --to-version N");
	if (strcmp(argv[1], "repartition") == 0 && partitions == 0)
		opt_usage_error(cli, migrate_usage,
		    "repartition needs --partitions N");
	if (strcmp(argv[1], "set-offsets") == 0) {
		if (nresets != 1)
			opt_usage_error(cli, migrate_usage, "set-offsets needs "
			    "exactly one of --to-earliest, --to-latest, "
			    "--to-offset, --shift-by, --to-time");
		o.reset = earliest ? CKPT_RESET_EARLIEST : latest ?
		    CKPT_RESET_LATEST : to_offset ? CKPT_RESET_TO_OFFSET :
		    have_shift ? CKPT_RESET_SHIFT_BY : CKPT_RESET_TO_TIME;
		o.value = have_shift ? shift : have_time ? to_time : 0;
		if (to_offset != NULL && parse_to_offset(to_offset, &o.source,
		    srcbuf, sizeof(srcbuf), &o.value) != 0)
			opt_usage_error(cli, migrate_usage,
			    "bad --to-offset '%s': want [SOURCE=]N", to_offset);
	} else if (nresets != 0) {
		opt_usage_error(cli, migrate_usage,
		    "--to-earliest, --to-latest, --to-offset, --shift-by and "
		    "--to-time belong to set-offsets");
	}
	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		return status;
	memset(&out, 0, sizeof(out));
	out.cli = cli;
	if (cli->json)
		cli_json_begin(cli, &w);
	rc = ckpt_migrate(ctx, argv[0], &o, on_change, &out, &res, &err);
	cli_progress_done(cli);
	if (rc != CKPT_OK) {
		status = cli_error(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_result(cli, &out, argv[0], argv[1], execute, &res);
		cli_json_end(cli);
	} else if (!execute) {
		printf("preview only: nothing was written; add --execute to "
		    "apply\n");
	} else if (res.in_place) {
		printf("migrated '%s' in place (%lld batches, %lld state "
		    "files)\n", argv[0], (long long)res.batches,
		    (long long)res.state_files);
	} else {
		printf("wrote '%s' (%lld batches, %lld state files)\n",
		    res.dest, (long long)res.batches,
		    (long long)res.state_files);
	}
	status = EXIT_OK;
out:
	ckpt_ctx_free(ctx);
	return status;
}
