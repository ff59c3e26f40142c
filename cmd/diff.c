/*
 * diff.c - `ckpt diff`: what differs between two checkpoints, or two
 * batches of one.
 *
 * Parses the options, opens the checkpoint(s), and renders what
 * ckpt_diff() reports: metadata and offsets fields first, then state
 * keys per operator partition ("+ key value", "- key value",
 * "M key old -> new"), or only counts with --stat, or one JSON
 * document with --json.  Exit 0 when identical, 3 when different, like
 * diff(1) and cmp(1).  Lineage fields (id, created_ms, history) are
 * shown but only count as a difference with --all-metadata, so two
 * runs of the same job, or a `migrate copy`, compare identical.  The comparison itself is lib/ops/ops_diff.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "output.h"

static const char *const diff_usage[] = {
	"ckpt diff [options] A B",
	"ckpt diff [options] PATH [--from N] [--to M]",
	"",
	"Compare the restart points of checkpoints A and B, or two batches",
	"of one checkpoint (default: its two newest committed batches):",
	"metadata, offsets, and state per operator, partition and key.",
	"Exit status 0 when identical, 3 when different.  The lineage",
	"fields (id, created_ms, history) are shown but not counted as a",
	"difference unless --all-metadata.",
	NULL
};

/* JSON sections, written in this order. */
enum { SEC_NONE, SEC_META, SEC_OFFSETS, SEC_STATE };

struct diff_out {
	struct cli *cli;
	int stat;
	int ignore_parts;	/* counts are per operator */
	int section;		/* JSON: the array open now */
	const char *cur_op;	/* the partition being shown */
	int cur_part;
	int part_open;		/* JSON: a partition object is open */
	char op_name[CKPT_OP_NAME_MAX];
};

static const char *const sec_names[] = { NULL, "metadata", "offsets",
	"state" };

/* Moves the JSON document on to section sec, opening arrays in order. */
static void
json_section(struct diff_out *d, int sec)
{
	struct jw *w = d->cli->jw;

	while (d->section < sec) {
		if (d->section != SEC_NONE)
			jw_arr_end(w);
		d->section++;
		jw_key(w, sec_names[d->section]);
		jw_arr_begin(w);
	}
}

static int
same_partition(const struct diff_out *d, const struct ckpt_diff_item *it)
{
	return d->cur_op != NULL && strcmp(d->op_name, it->op) == 0 &&
	    d->cur_part == it->partition;
}

static void
set_partition(struct diff_out *d, const struct ckpt_diff_item *it)
{
	snprintf(d->op_name, sizeof(d->op_name), "%s", it->op);
	d->cur_op = d->op_name;
	d->cur_part = it->partition;
}

/*
 * One change as a JSON object: {"change", "field" (META, OFFSETS) or
 * "key" (STATE), "old", "new"}.
 */
static void
json_change(struct jw *w, const struct ckpt_diff_item *it)
{
	jw_obj_begin(w);
	jw_key(w, "change");
	jw_strn(w, &it->change, 1);
	if (it->kind == CKPT_DIFF_STATE) {
		jw_key(w, "key");
		jw_json(w, it->key_json);
	} else {
		jw_key(w, "field");
		jw_str(w, it->field);
	}
	jw_key(w, "old");
	jw_json(w, it->old_json);
	jw_key(w, "new");
	jw_json(w, it->new_json);
	if (it->kind == CKPT_DIFF_META) {
		jw_key(w, "counted");
		jw_bool(w, !it->lineage);
	}
	jw_obj_end(w);
}

static void
json_field(struct diff_out *d, const struct ckpt_diff_item *it)
{
	json_section(d, it->kind == CKPT_DIFF_META ? SEC_META : SEC_OFFSETS);
	json_change(d->cli->jw, it);
}

static void
json_part_open(struct diff_out *d, const struct ckpt_diff_item *it)
{
	struct jw *w = d->cli->jw;

	json_section(d, SEC_STATE);
	jw_obj_begin(w);
	jw_key(w, "op");
	jw_str(w, it->op);
	jw_key(w, "partition");
	if (it->partition < 0)
		jw_null(w);
	else
		jw_int(w, it->partition);
	if (!d->stat) {
		jw_key(w, "keys");
		jw_arr_begin(w);
	}
	d->part_open = 1;
	set_partition(d, it);
}

static void
json_state(struct diff_out *d, const struct ckpt_diff_item *it)
{
	struct jw *w = d->cli->jw;

	if (it->kind == CKPT_DIFF_PARTITION) {
		if (!d->part_open || !same_partition(d, it))
			json_part_open(d, it);
		if (!d->stat)
			jw_arr_end(w);
		jw_key(w, "added");
		jw_uint(w, it->added);
		jw_key(w, "removed");
		jw_uint(w, it->removed);
		jw_key(w, "modified");
		jw_uint(w, it->modified);
		jw_obj_end(w);
		d->part_open = 0;
		d->cur_op = NULL;
		return;
	}
	if (d->stat)
		return;
	if (!d->part_open)
		json_part_open(d, it);
	json_change(w, it);
}

static const char *
or_null(const char *s)
{
	return s != NULL ? s : "null";
}

static void
text_item(struct diff_out *d, const struct ckpt_diff_item *it)
{
	struct cli *cli = d->cli;
	const char *col = cli_color(cli, it->change == '+' ? CLI_GREEN :
	    it->change == '-' ? CLI_RED : CLI_YELLOW);
	const char *rst = cli_color(cli, CLI_RESET);
	int sec = it->kind == CKPT_DIFF_META ? SEC_META :
	    it->kind == CKPT_DIFF_OFFSETS ? SEC_OFFSETS : SEC_STATE;
	const char *what, *note = "";

	if (it->lineage) {
		col = cli_color(cli, CLI_DIM);
		note = " (lineage: not counted)";
	}
	if (it->kind == CKPT_DIFF_PARTITION) {
		if (d->stat) {
			printf("%s", it->op);
			if (it->partition >= 0)
				printf("/%d", it->partition);
			printf(": +%llu -%llu M%llu\n",
			    (unsigned long long)it->added,
			    (unsigned long long)it->removed,
			    (unsigned long long)it->modified);
		}
		d->cur_op = NULL;
		return;
	}
	if (sec != SEC_STATE && d->section != sec) {
		d->section = sec;
		if (!d->stat)
			printf("%s%s:%s\n", cli_color(cli, CLI_BOLD),
			    sec_names[sec], rst);
	}
	if (d->stat)
		return;
	if (sec == SEC_STATE && !same_partition(d, it)) {
		set_partition(d, it);
		if (it->partition < 0)
			printf("%s@@ %s @@%s\n", cli_color(cli, CLI_BOLD),
			    it->op, rst);
		else
			printf("%s@@ %s partition %d @@%s\n",
			    cli_color(cli, CLI_BOLD), it->op, it->partition,
			    rst);
	}
	/* a field, or a key of the partition under its heading */
	what = sec == SEC_STATE ? or_null(it->key_json) : it->field;
	if (it->change == 'M')
		printf("%sM %s %s -> %s%s%s\n", col, what,
		    or_null(it->old_json), or_null(it->new_json), note, rst);
	else
		printf("%s%c %s %s%s%s\n", col, it->change, what,
		    or_null(it->change == '+' ? it->new_json :
		    it->old_json), note, rst);
}

static int
on_item(void *arg, const struct ckpt_diff_item *it)
{
	struct diff_out *d = arg;

	if (!d->cli->json) {
		text_item(d, it);
		return 0;
	}
	if (it->kind == CKPT_DIFF_META || it->kind == CKPT_DIFF_OFFSETS)
		json_field(d, it);
	else
		json_state(d, it);
	return 0;
}

static void
json_stats(struct jw *w, const struct ckpt_diff_stats *s)
{
	jw_key(w, "stats");
	jw_obj_begin(w);
	jw_key(w, "metadata_fields");
	jw_uint(w, s->meta);
	jw_key(w, "lineage_fields");
	jw_uint(w, s->lineage);
	jw_key(w, "offsets_fields");
	jw_uint(w, s->offsets);
	jw_key(w, "keys_added");
	jw_uint(w, s->added);
	jw_key(w, "keys_removed");
	jw_uint(w, s->removed);
	jw_key(w, "keys_modified");
	jw_uint(w, s->modified);
	jw_key(w, "bytes_added");
	jw_uint(w, s->bytes_added);
	jw_key(w, "bytes_removed");
	jw_uint(w, s->bytes_removed);
	jw_key(w, "bytes_modified_old");
	jw_uint(w, s->bytes_modified_old);
	jw_key(w, "bytes_modified_new");
	jw_uint(w, s->bytes_modified_new);
	jw_key(w, "keys_a");
	jw_uint(w, s->keys_a);
	jw_key(w, "keys_b");
	jw_uint(w, s->keys_b);
	jw_key(w, "partitions");
	jw_uint(w, s->partitions);
	jw_key(w, "partitions_differ");
	jw_uint(w, s->partitions_differ);
	jw_key(w, "truncated");
	jw_bool(w, s->truncated);
	jw_obj_end(w);
}

static void
text_summary(struct diff_out *d, const struct ckpt_diff_stats *s)
{
	char b1[CLI_FMT_MAX], b2[CLI_FMT_MAX];

	if (d->stat) {
		if (s->meta)
			printf("metadata: %llu field(s) differ\n",
			    (unsigned long long)s->meta);
		if (s->lineage)
			printf("metadata: %llu lineage field(s) differ "
			    "(not counted)\n", (unsigned long long)s->lineage);
		if (s->offsets)
			printf("offsets: %llu field(s) differ\n",
			    (unsigned long long)s->offsets);
		printf("%llu key(s) added, %llu removed, %llu modified in "
		    "%llu of %llu %s (+%s, -%s)\n",
		    (unsigned long long)s->added,
		    (unsigned long long)s->removed,
		    (unsigned long long)s->modified,
		    (unsigned long long)s->partitions_differ,
		    (unsigned long long)s->partitions,
		    d->ignore_parts ? "operator(s)" : "partition(s)",
		    cli_fmt_size(b1, s->bytes_added),
		    cli_fmt_size(b2, s->bytes_removed));
	}
	if (s->truncated)
		printf("... %llu more key difference(s) not shown (--limit)\n",
		    (unsigned long long)(s->added + s->removed + s->modified -
		    s->shown));
}

static void
json_head(struct cli *cli, const char *pa, const char *pb)
{
	struct jw *w = cli->jw;

	jw_key(w, "a");
	jw_str(w, pa);
	jw_key(w, "b");
	jw_str(w, pb);
}

static void
json_tail(struct diff_out *d, const struct ckpt_diff_stats *s)
{
	struct jw *w = d->cli->jw;

	json_section(d, SEC_STATE);
	jw_arr_end(w);
	jw_key(w, "from_batch");
	jw_i64(w, s->from_batch);
	jw_key(w, "to_batch");
	jw_i64(w, s->to_batch);
	jw_key(w, "from_version");
	jw_i64(w, s->from_version);
	jw_key(w, "to_version");
	jw_i64(w, s->to_version);
	jw_key(w, "identical");
	jw_bool(w, !ckpt_diff_differs(s));
	json_stats(w, s);
}

int
cmd_diff(struct cli *cli, int argc, char **argv)
{
	int64_t from = CKPT_NONE, to = CKPT_NONE, limit = 0;
	const char *op = NULL, *key = NULL, *pa, *pb;
	int stat = 0, ignore_parts = 0, all_meta = 0, n, rc, status;
	struct option opts[] = {
		OPT_BOOL(0, "stat", &stat,
		    "counts and bytes per partition only"),
		OPT_STRING(0, "op", &op, "OP",
		    "only this operator (name or index)"),
		OPT_STRING(0, "key", &key, "KEY",
		    "only this key (JSON text or string)"),
		OPT_BOOL(0, "ignore-partitions", &ignore_parts,
		    "compare keys across partitions (after repartition)"),
		OPT_BOOL(0, "all-metadata", &all_meta,
		    "count id, created_ms and history as differences"),
		OPT_INT(0, "limit", &limit, "N",
		    "show at most N key differences"),
		OPT_INT(0, "from", &from, "N",
		    "batch of the first (or only) checkpoint"),
		OPT_INT(0, "to", &to, "M", "batch of the second checkpoint"),
		OPT_END()
	};
	struct ckpt_diff_opts o;
	struct ckpt_diff_stats s;
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt *a = NULL, *b = NULL;
	struct diff_out d;
	struct jw w;

	n = opt_parse(cli, argc, argv, opts, diff_usage, 0);
	if (n < 1 || n > 2)
		opt_usage_error(cli, diff_usage, n < 1 ?
		    "diff needs one or two checkpoint paths" :
		    "diff takes at most two checkpoint paths");
	if (limit < 0)
		opt_usage_error(cli, diff_usage,
		    "--limit must not be negative");
	if ((from != CKPT_NONE && from < 0) || (to != CKPT_NONE && to < 0))
		opt_usage_error(cli, diff_usage,
		    "--from and --to take batch ids (>= 0)");
	pa = argv[0];
	pb = n == 2 ? argv[1] : argv[0];
	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		return status;
	rc = ckpt_open(ctx, pa, &a, &err);
	if (rc == CKPT_OK && n == 2)
		rc = ckpt_open(ctx, pb, &b, &err);
	if (rc == CKPT_OK && n == 1) {
		b = a;
		if (from == CKPT_NONE || to == CKPT_NONE) {
			int64_t older, newer;

			rc = ckpt_diff_default_batches(a, &older, &newer,
			    &err);
			if (from == CKPT_NONE)
				from = older;
			if (to == CKPT_NONE)
				to = newer;
		}
	}
	if (rc != CKPT_OK) {
		status = cli_error(cli, &err);
		goto out;
	}

	memset(&o, 0, sizeof(o));
	o.from_batch = from;
	o.to_batch = to;
	o.op = op;
	o.key = key;
	o.limit = (uint64_t)limit;
	o.ignore_partitions = ignore_parts;
	o.all_metadata = all_meta;
	memset(&d, 0, sizeof(d));
	d.cli = cli;
	d.stat = stat;
	d.ignore_parts = ignore_parts;
	if (cli->json) {
		cli_json_begin(cli, &w);
		json_head(cli, pa, pb);
	}
	rc = ckpt_diff(a, b, &o, on_item, &d, &s, &err);
	cli_progress_done(cli);
	if (rc != CKPT_OK) {
		status = cli_error(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_tail(&d, &s);
		cli_json_end(cli);
	} else {
		text_summary(&d, &s);
	}
	status = ckpt_diff_differs(&s) ? EXIT_PROBLEM : EXIT_OK;
out:
	if (b != a)
		ckpt_close(b);
	ckpt_close(a);
	ckpt_ctx_free(ctx);
	return status;
}
