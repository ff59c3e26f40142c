/*
 * prune.c - `ckpt prune`: delete old batches and leftovers.
 *
 * Parses the keep rules, calls ckpt_prune() and renders what it
 * reports: with --dry-run every file that would go with its reason and
 * size, with --list-kept every kept batch and why, then a summary; or
 * one JSON document.  The plan, the lock and the crash-safe order of
 * deletion are lib/ops/ops_prune*.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"

static const char *const prune_usage[] = {
	"ckpt prune [options] PATH",
	"",
	"Delete the batches no keep rule needs, with everything restoring a",
	"kept batch needs left in place, and leftovers: temp files, orphaned",
	"state, uncommitted batches older than the restart point.  The",
	"restart point is always kept.  Without a rule only leftovers go.",
	NULL
};

struct prune_out {
	struct cli *cli;
	int dry_run;
	int list_kept;
	int section;		/* JSON: 0 none, 1 "kept", 2 "removed" */
};

static void
json_section(struct prune_out *p, int sec)
{
	static const char *const names[] = { NULL, "kept", "removed" };
	struct jw *w = p->cli->jw;

	while (p->section < sec) {
		if (p->section != 0)
			jw_arr_end(w);
		p->section++;
		jw_key(w, names[p->section]);
		jw_arr_begin(w);
	}
}

/*
 * Renders one item of ckpt_prune(): a kept batch (kept_cb) or a file
 * removed or to remove (file_cb).
 */
static int
on_item(void *arg, const struct ckpt_prune_item *it)
{
	struct prune_out *p = arg;
	struct jw *w = p->cli->jw;
	int kept = it->what == CKPT_PRUNE_KEPT;
	char sz[CLI_FMT_MAX];

	if (!p->cli->json) {
		if (kept)
			printf("keep batch %lld (%s): %s\n",
			    (long long)it->batch, cli_fmt_size(sz, it->bytes),
			    it->reason);
		else if (p->dry_run || p->cli->verbose)
			printf("%s %s (%s): %s\n", p->dry_run ?
			    "would remove" : "removed", it->path,
			    cli_fmt_size(sz, it->bytes), it->reason);
		return 0;
	}
	json_section(p, kept ? 1 : 2);
	jw_obj_begin(w);
	if (!kept) {
		jw_key(w, "path");
		jw_str(w, it->path);
		jw_key(w, "role");
		jw_str(w, ckpt_file_role_name(it->role));
	}
	jw_key(w, "batch");
	jw_i64(w, it->batch);
	jw_key(w, "bytes");
	jw_uint(w, it->bytes);
	jw_key(w, "reason");
	jw_str(w, it->reason);
	jw_obj_end(w);
	return 0;
}

static void
text_summary(const struct prune_out *p, const struct ckpt_prune_stats *s)
{
	char sz[CLI_FMT_MAX], i1[CLI_FMT_MAX], i2[CLI_FMT_MAX];

	if (p->cli->quiet)
		return;
	printf("%s %llu file(s), %s; %s %llu batch(es), %s %llu "
	    "(oldest %s, restart point %s)\n",
	    p->dry_run ? "would remove" : "removed",
	    (unsigned long long)s->files_removed,
	    cli_fmt_size(sz, s->bytes_freed),
	    p->dry_run ? "would remove" : "removed",
	    (unsigned long long)s->batches_removed,
	    p->dry_run ? "keep" : "kept",
	    (unsigned long long)s->batches_kept,
	    cli_fmt_i64(i1, s->oldest_kept), cli_fmt_i64(i2,
	    s->restart_point));
}

static void
json_tail(struct prune_out *p, const struct ckpt_prune_stats *s)
{
	struct jw *w = p->cli->jw;

	json_section(p, 2);
	jw_arr_end(w);
	jw_key(w, "restart_point");
	jw_i64(w, s->restart_point);
	jw_key(w, "oldest_kept");
	jw_i64(w, s->oldest_kept);
	jw_key(w, "batches_kept");
	jw_uint(w, s->batches_kept);
	jw_key(w, "batches_removed");
	jw_uint(w, s->batches_removed);
	jw_key(w, "files_removed");
	jw_uint(w, s->files_removed);
	jw_key(w, "bytes_freed");
	jw_uint(w, s->bytes_freed);
	jw_key(w, "files_kept");
	jw_uint(w, s->files_kept);
	jw_key(w, "bytes_kept");
	jw_uint(w, s->bytes_kept);
}

int
cmd_prune(struct cli *cli, int argc, char **argv)
{
	int64_t keep_last = -1, within = -1;
	const char *within_text = NULL;
	int dry_run = 0, list_kept = 0, discard = 0, n, rc, status;
	struct option opts[] = {
		OPT_INT(0, "keep-last", &keep_last, "N",
		    "keep the newest N committed batches"),
		OPT_STRING(0, "keep-within", &within_text, "DURATION",
		    "keep batches within DURATION of the newest (30m, 2h)"),
		OPT_BOOL(0, "discard-uncommitted", &discard,
		    "also remove uncommitted batches newer than the restart "
		    "point"),
		OPT_BOOL('n', "dry-run", &dry_run,
		    "list what would be removed, and why; change nothing"),
		OPT_BOOL(0, "list-kept", &list_kept,
		    "show each kept batch and why it is kept"),
		OPT_END()
	};
	struct ckpt_prune_opts o;
	struct ckpt_prune_stats s;
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct prune_out p;
	struct jw w;

	n = opt_parse(cli, argc, argv, opts, prune_usage, 0);
	if (n != 1)
		opt_usage_error(cli, prune_usage, n < 1 ?
		    "prune needs a checkpoint path" :
		    "prune takes one checkpoint path");
	if (keep_last != -1 && keep_last < 1)
		opt_usage_error(cli, prune_usage,
		    "--keep-last must be at least 1");
	if (within_text != NULL &&
	    ckpt_duration_parse(within_text, &within) != 0)
		opt_usage_error(cli, prune_usage,
		    "bad --keep-within '%s': want a duration like 30m or 2h",
		    within_text);
	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		return status;
	memset(&o, 0, sizeof(o));
	o.keep_last = keep_last;
	o.keep_within_ms = within;
	o.discard_uncommitted = discard;
	o.dry_run = dry_run;
	memset(&p, 0, sizeof(p));
	p.cli = cli;
	p.dry_run = dry_run;
	p.list_kept = list_kept;
	if (cli->json) {
		cli_json_begin(cli, &w);
		jw_key(&w, "path");
		jw_str(&w, argv[0]);
		jw_key(&w, "dry_run");
		jw_bool(&w, dry_run);
	}
	rc = ckpt_prune(ctx, argv[0], &o, on_item, list_kept ? on_item :
	    NULL, &p, &s, &err);
	cli_progress_done(cli);
	if (rc != CKPT_OK) {
		status = cli_error(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_tail(&p, &s);
		cli_json_end(cli);
	} else {
		text_summary(&p, &s);
	}
	status = EXIT_OK;
out:
	ckpt_ctx_free(ctx);
	return status;
}
