/*
 * run.c - `ckpt run JOB`: the embedded micro-batch engine.
 *
 * Parses the job's source and parameters into struct ckpt_run_opts and
 * calls ckpt_run(), which creates or resumes the checkpoint directory
 * (getOrCreate) and runs until the input is exhausted or a signal
 * arrives.  This file renders what the engine reports: metrics as JSON
 * lines (--metrics FILE or -), each committed batch's output (--output
 * FILE or -), warnings on stderr, and a summary line (or, with --json,
 * a summary document).  SIGTERM and SIGINT only set a flag: the engine
 * finishes the batch in flight, checkpoints and returns; the exit
 * status is then 0 for SIGTERM and 130 for SIGINT.  `ckpt run --list`
 * prints the jobs and their defaults.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char *const run_usage[] = {
	"ckpt run JOB --checkpoint DIR [--input PATH [--follow] | --generate | --socket HOST:PORT] [options]",
	"ckpt run --list",
	"",
	"Run a wordcount, window or session job as micro-batches, with",
	"offsets, state checkpoints and exactly-once output in DIR; an",
	"existing DIR is resumed.  Durations take ms, s, m, h or d.",
	NULL
};

/* Set by the signal handlers: the signal that asked us to stop. */
static volatile int run_stop;

static void
on_stop_signal(int sig)
{
	if (run_stop != 0) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	run_stop = sig;
}

struct run_cli {
	struct cli *cli;
	FILE *metrics;
	FILE *output;
	unsigned long warnings;
	unsigned long malformed_warnings;
};

static void
on_metrics(void *arg, const struct ckpt_run_metrics *m)
{
	struct run_cli *rc = arg;
	FILE *f = rc->metrics;

	if (f == NULL)
		return;
	fprintf(f, "{\"batch\":%" PRId64 ",\"batch_time_ms\":%" PRId64
	    ",\"records_in\":%" PRIu64 ",\"records_out\":%" PRIu64
	    ",\"malformed\":%" PRIu64 ",\"scheduling_delay_ms\":%" PRId64
	    ",\"processing_delay_ms\":%" PRId64 ",\"checkpoint_ms\":",
	    m->batch, m->batch_time_ms, m->records_in, m->records_out,
	    m->malformed, m->scheduling_delay_ms, m->processing_delay_ms);
	if (m->checkpoint_ms >= 0)
		fprintf(f, "%" PRId64 ",\"checkpoint_kind\":\"%s\"",
		    m->checkpoint_ms, m->checkpoint_kind);
	else
		fputs("null,\"checkpoint_kind\":null", f);
	fprintf(f, ",\"checkpoint_bytes\":%" PRIu64 ",\"dir_bytes\":%" PRIu64
	    ",\"state_keys\":%" PRIu64 ",\"replayed\":%s}\n",
	    m->checkpoint_bytes, m->dir_bytes, m->state_keys,
	    m->replayed ? "true" : "false");
	fflush(f);
}

static void
on_warning(void *arg, const char *msg)
{
	struct run_cli *rc = arg;

	if (strncmp(msg, "malformed input line", 20) == 0) {
		rc->malformed_warnings++;
		if (rc->malformed_warnings > 10)
			return;
		if (rc->malformed_warnings == 10) {
			cli_warning(rc->cli, "%s (further malformed lines are "
			    "only counted, see --metrics)", msg);
			return;
		}
	}
	cli_warning(rc->cli, "%s", msg);
}

static void
on_output(void *arg, int64_t batch, const void *data, size_t len)
{
	struct run_cli *rc = arg;

	(void)batch;
	if (rc->output != NULL) {
		fwrite(data, 1, len, rc->output);
		if (batch >= 0)
			fflush(rc->output);
	}
}

static int
print_list(struct cli *cli)
{
	struct ckpt_job_info ji;
	struct jw w;
	char a[32];

	if (cli->json) {
		cli_json_begin(cli, &w);
		jw_key(&w, "jobs");
		jw_arr_begin(&w);
	}
	for (int i = 0; ckpt_job_get(i, &ji) == CKPT_OK; i++) {
		if (cli->json) {
			jw_obj_begin(&w);
			jw_key(&w, "name");
			jw_str(&w, ji.name);
			jw_key(&w, "summary");
			jw_str(&w, ji.summary);
			jw_key(&w, "input");
			jw_str(&w, ji.input);
			jw_key(&w, "output");
			jw_str(&w, ji.output);
			jw_key(&w, "batch_interval_ms");
			jw_int(&w, ji.batch_ms);
			jw_key(&w, "window_ms");
			jw_int(&w, ji.window_ms);
			jw_key(&w, "slide_ms");
			jw_int(&w, ji.slide_ms);
			jw_key(&w, "timeout_ms");
			jw_int(&w, ji.timeout_ms);
			jw_key(&w, "max_actions");
			jw_int(&w, ji.max_actions);
			jw_key(&w, "rate");
			jw_int(&w, ji.rate);
			jw_key(&w, "partitions");
			jw_int(&w, ji.partitions);
			jw_key(&w, "checkpoint_interval_batches");
			jw_int(&w, ji.checkpoint_batches);
			jw_key(&w, "snapshot_every");
			jw_int(&w, ji.snapshot_every);
			jw_key(&w, "format_version");
			jw_int(&w, ji.format_version);
			jw_obj_end(&w);
			continue;
		}
		printf("%s%s%s - %s\n", cli_color(cli, CLI_BOLD), ji.name,
		    cli_color(cli, CLI_RESET), ji.summary);
		printf("    input:  %s\n    output: %s\n", ji.input, ji.output);
		ckpt_duration_format(ji.batch_ms, a, sizeof(a));
		printf("    --batch-interval %s", a);
		if (ji.window_ms) {
			ckpt_duration_format(ji.window_ms, a, sizeof(a));
			printf(" --window %s", a);
			ckpt_duration_format(ji.slide_ms, a, sizeof(a));
			printf(" --slide %s", a);
		}
		if (ji.timeout_ms) {
			ckpt_duration_format(ji.timeout_ms, a, sizeof(a));
			printf(" --timeout %s", a);
		}
		if (ji.max_actions)
			printf(" --max-actions %" PRId64, ji.max_actions);
		if (ji.rate)
			printf(" --rate %" PRId64, ji.rate);
		printf("\n    --partitions %d --checkpoint-interval %" PRId64
		    " --snapshot-every %d --format-version %d\n",
		    ji.partitions, ji.checkpoint_batches, ji.snapshot_every,
		    ji.format_version);
	}
	if (cli->json) {
		jw_arr_end(&w);
		cli_json_end(cli);
	}
	return EXIT_OK;
}

/* Parses a duration option into *ms; a usage error names the option. */
static void
dur_opt(struct cli *cli, const char *name, const char *v, int64_t *ms)
{
	if (v == NULL)
		return;
	if (ckpt_duration_parse(v, ms) != 0 || *ms <= 0)
		opt_usage_error(cli, run_usage, "bad %s '%s': want a positive "
		    "duration such as 500ms, 30s or 10m", name, v);
}

static void
int_opt(struct cli *cli, const char *name, int64_t v, int64_t min,
    int64_t max)
{
	if (v != -1 && (v < min || v > max))
		opt_usage_error(cli, run_usage, "bad %s %" PRId64 ": want %"
		    PRId64 "..%" PRId64, name, v, min, max);
}

/* "HOST:PORT", ":PORT" or "HOST" with localhost and 9999 filled in. */
static const char *
socket_addr(const char *v, char *buf, size_t len)
{
	const char *colon = strrchr(v, ':');

	if (colon == NULL)
		snprintf(buf, len, "%s:9999", v[0] ? v : "localhost");
	else if (colon == v)
		snprintf(buf, len, "localhost%s", v);
	else
		snprintf(buf, len, "%s", v);
	return buf;
}

static void
print_summary(struct cli *cli, const struct ckpt_run_opts *o,
    const struct ckpt_run_result *res)
{
	struct jw w;

	if (cli->json) {
		cli_json_begin(cli, &w);
		jw_key(&w, "job");
		jw_str(&w, o->job);
		jw_key(&w, "checkpoint");
		jw_str(&w, o->checkpoint);
		jw_key(&w, "resumed");
		jw_bool(&w, res->resumed);
		jw_key(&w, "first_new_batch");
		jw_i64(&w, res->first_new_batch);
		jw_key(&w, "last_batch");
		jw_i64(&w, res->last_batch);
		jw_key(&w, "batches_run");
		jw_int(&w, res->batches_run);
		jw_key(&w, "batches_replayed");
		jw_int(&w, res->batches_replayed);
		jw_key(&w, "records_in");
		jw_uint(&w, res->records_in);
		jw_key(&w, "malformed");
		jw_uint(&w, res->malformed);
		jw_key(&w, "stopped");
		jw_bool(&w, res->stopped);
		jw_key(&w, "pinned_cpu");	/* --pin-threads */
		if (res->pinned_cpu >= 0)
			jw_int(&w, res->pinned_cpu);
		else
			jw_null(&w);
		cli_json_end(cli);
		return;
	}
	if (cli->quiet)
		return;
	if (res->batches_run == 0)
		printf("%s: nothing new to run in '%s'", o->job,
		    o->checkpoint);
	else
		printf("%s: committed batches %" PRId64 "..%" PRId64
		    " in '%s'", o->job, res->first_new_batch,
		    res->last_batch, o->checkpoint);
	printf(" (%" PRIu64 " lines, %" PRIu64 " malformed, %" PRId64
	    " batches replayed", res->records_in, res->malformed,
	    res->batches_replayed);
	if (res->pinned_cpu >= 0)
		printf(", engine on CPU %d", res->pinned_cpu);
	printf("%s)\n", res->stopped ? ", stopped by a signal" : "");
}

struct out_list {
	char last[CKPT_NAME_MAX];
	int n;
};

static int
on_out_ent(void *arg, const struct ckpt_stat *e)
{
	struct out_list *l = arg;
	const char *p = e->name;

	/* batch outputs only: not temp files of an interrupted write */
	while (*p >= '0' && *p <= '9')
		p++;
	if (e->is_dir || *p != '\0' || p == e->name)
		return 0;
	snprintf(l->last, sizeof(l->last), "%s", e->name);
	l->n++;
	return 1;	/* one at a time: bounded memory */
}

/*
 * --show-output: prints the committed output of every batch of DIR in
 * batch order (output/<batch> files of the manifest), without running.
 */
static int
show_output(struct cli *cli, struct ckpt_ctx *ctx, const char *dir)
{
	struct ckpt_error err = { 0 };
	struct out_list l = { "", 0 };
	struct ckpt *c = NULL;
	struct ckpt_stat sb;
	char path[CKPT_NAME_MAX + 16];
	char *data;
	size_t len;
	int status = EXIT_OK;

	if (ckpt_open(ctx, dir, &c, &err) != CKPT_OK)
		return cli_error(cli, &err);
	if (ckpt_store_stat(ckpt_get_store(c), "output", &sb, &err) !=
	    CKPT_OK) {
		ckpt_close(c);
		if (err.kind == CKPT_E_NOTFOUND)
			return EXIT_OK;	/* no batch had output */
		return cli_error(cli, &err);
	}
	for (;;) {
		l.n = 0;
		if (ckpt_store_list(ckpt_get_store(c), "output",
		    CKPT_LIST_NUMERIC, l.last[0] ? l.last : NULL, on_out_ent,
		    &l, &err) != CKPT_OK) {
			status = cli_error(cli, &err);
			break;
		}
		if (l.n == 0)
			break;
		snprintf(path, sizeof(path), "output/%s", l.last);
		if (ckpt_native_read_file(c, path, &data, &len, &err) !=
		    CKPT_OK) {
			status = cli_error(cli, &err);
			break;
		}
		fwrite(data, 1, len, stdout);
		free(data);
	}
	ckpt_close(c);
	return status;
}

static FILE *
open_sink(struct cli *cli, const char *what, const char *path)
{
	FILE *f;

	if (path == NULL)
		return NULL;
	if (strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "a");
	if (f == NULL) {
		cli_errorf(cli, CKPT_E_IO, "cannot open %s file '%s': %s",
		    what, path, strerror(errno));
		cli_exit(cli, EXIT_ERROR);
	}
	return f;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	struct ckpt_run_opts o;
	struct ckpt_run_result res;
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct run_cli rc = { .cli = cli };
	struct sigaction sa;
	const char *ckdir = NULL, *input = NULL, *sock = NULL;
	const char *metrics = NULL, *output = NULL, *ckint = NULL;
	const char *batch = NULL, *window = NULL, *slide = NULL;
	const char *timeout = NULL, *late_by = NULL, *gap = NULL;
	const char *idle = NULL, *fmtv = NULL;
	int list = 0, follow = 0, generate = 0, strict = 0, dump = 0;
	int synck = 0, pin = 0, nopin = 0;
	int show = 0;
	int64_t partitions = -1, snap = -1, seed = 0, keys = -1;
	int64_t events = -1, rate = -1, skew = -1, late = -1;
	int64_t gap_every = -1, max_actions = -1, max_batches = -1;
	int64_t start_ms = -1, segbytes = 0, v;
	char addr[300];
	int status, n;
	static const char *const versions[] = { "1", "2", NULL };
	const struct option opts[] = {
		OPT_STRING('c', "checkpoint", &ckdir, "DIR",
		    "checkpoint directory (created or resumed)"),
		OPT_STRING('i', "input", &input, "PATH",
		    "input file, or directory of files read in name order"),
		OPT_BOOL('f', "follow", &follow,
		    "keep reading the input as it grows"),
		OPT_BOOL(0, "generate", &generate,
		    "generate deterministic input (see --seed, --keys)"),
		OPT_STRING(0, "socket", &sock, "HOST:PORT",
		    "receive lines over TCP (default localhost:9999)"),
		OPT_INT(0, "seed", &seed, "N", "generator seed"),
		OPT_INT(0, "keys", &keys, "N", "generator: distinct keys"),
		OPT_INT(0, "events", &events, "N",
		    "generator: lines to generate"),
		OPT_INT(0, "skew", &skew, "PCT",
		    "generator: share of events on the hot 1% of keys"),
		OPT_INT(0, "late", &late, "PCT",
		    "generator: share of late events"),
		OPT_STRING(0, "late-by", &late_by, "D",
		    "generator: how late, at most"),
		OPT_INT(0, "gap-every", &gap_every, "N",
		    "generator: an idle gap after every N events"),
		OPT_STRING(0, "gap", &gap, "D", "generator: idle gap length"),
		OPT_INT(0, "start-ms", &start_ms, "MS",
		    "generator: event time of the first event"),
		OPT_INT(0, "rate", &rate, "N",
		    "lines per second of logical time (text, generator)"),
		OPT_STRING(0, "batch-interval", &batch, "D",
		    "batch interval"),
		OPT_INT(0, "partitions", &partitions, "N",
		    "state partitions (default 8)"),
		OPT_STRING(0, "checkpoint-interval", &ckint, "N|D",
		    "state checkpoint every N batches or every D"),
		OPT_INT(0, "snapshot-every", &snap, "N",
		    "a full snapshot every N state checkpoints"),
		OPT_ENUM(0, "format-version", &fmtv, "V", versions,
		    "native format version: 1 snapshots, 2 deltas"),
		OPT_BOOL(0, "sync-checkpoint", &synck,
		    "write batches and checkpoints on the engine's thread"),
		OPT_BOOL(0, "pin-threads", &pin,
		    "keep the engine's thread on its CPU too"),
		OPT_BOOL(0, "no-pin-threads", &nopin,
		    "do not keep the writer threads off the engine's CPU"),
		OPT_STRING(0, "window", &window, "D", "window length"),
		OPT_STRING(0, "slide", &slide, "D", "window slide"),
		OPT_STRING(0, "timeout", &timeout, "D",
		    "session idle timeout"),
		OPT_INT(0, "max-actions", &max_actions, "N",
		    "session: actions kept per key"),
		OPT_INT(0, "max-batches", &max_batches, "N",
		    "stop after N new batches"),
		OPT_STRING(0, "idle-flush", &idle, "D",
		    "--follow: close a batch after D without input"),
		OPT_BOOL(0, "strict", &strict,
		    "a malformed input line is an error"),
		OPT_STRING(0, "metrics", &metrics, "FILE",
		    "append metrics as JSON lines to FILE (- stdout)"),
		OPT_STRING(0, "output", &output, "FILE",
		    "append each committed batch's output to FILE (- stdout)"),
		OPT_BOOL(0, "dump-input", &dump,
		    "print the input lines and exit (e.g. the generator's)"),
		OPT_BOOL(0, "show-output", &show,
		    "print the committed output of DIR and exit"),
		OPT_BOOL(0, "list", &list, "list the jobs and their defaults"),
		{ OPT_T_INT, 0, "wal-segment-bytes", &segbytes, "N",
		    "socket: WAL segment size (tests)", NULL, OPT_HIDDEN },
		OPT_END()
	};

	n = opt_parse(cli, argc, argv, opts, run_usage, 0);
	if (list) {
		if (n > 0)
			opt_usage_error(cli, run_usage,
			    "--list takes no arguments");
		return print_list(cli);
	}
	if (n == 0)
		opt_usage_error(cli, run_usage, "missing JOB");
	if (n > 1)
		opt_usage_error(cli, run_usage, "unexpected argument '%s'",
		    argv[1]);
	if (show) {
		if (ckdir == NULL)
			opt_usage_error(cli, run_usage,
			    "missing --checkpoint DIR");
		status = cli_ctx_new(cli, &ctx);
		if (status == EXIT_OK)
			status = show_output(cli, ctx, ckdir);
		ckpt_ctx_free(ctx);
		return status;
	}
	ckpt_run_opts_init(&o);
	o.job = argv[0];
	o.checkpoint = ckdir;
	if ((input != NULL) + generate + (sock != NULL) > 1)
		opt_usage_error(cli, run_usage, "give one of --input, "
		    "--generate and --socket");
	if (input == NULL && !generate && sock == NULL)
		opt_usage_error(cli, run_usage, "no input: give --input PATH, "
		    "--generate or --socket HOST:PORT");
	if (ckdir == NULL && !dump)
		opt_usage_error(cli, run_usage, "missing --checkpoint DIR");
	if (follow && input == NULL)
		opt_usage_error(cli, run_usage, "--follow needs --input");
	if (pin && nopin)
		opt_usage_error(cli, run_usage, "give one of --pin-threads "
		    "and --no-pin-threads");
	if (cli->json && ((metrics && !strcmp(metrics, "-")) ||
	    (output && !strcmp(output, "-"))))
		opt_usage_error(cli, run_usage, "--json cannot share stdout "
		    "with --metrics - or --output -");
	o.source = input ? CKPT_SRC_FILE : generate ? CKPT_SRC_GENERATOR :
	    CKPT_SRC_SOCKET;
	o.input = input;
	o.follow = follow;
	o.socket = sock ? socket_addr(sock, addr, sizeof(addr)) : NULL;
	int_opt(cli, "--keys", keys, 1, INT64_MAX);
	int_opt(cli, "--events", events, 1, INT64_MAX);
	int_opt(cli, "--skew", skew, 0, 100);
	int_opt(cli, "--late", late, 0, 100);
	int_opt(cli, "--gap-every", gap_every, 0, INT64_MAX);
	int_opt(cli, "--rate", rate, 1, 1000000000);
	int_opt(cli, "--partitions", partitions, 1, 65536);
	int_opt(cli, "--snapshot-every", snap, 1, 1000000);
	int_opt(cli, "--max-actions", max_actions, 1, 100000);
	int_opt(cli, "--max-batches", max_batches, 1, INT64_MAX);
	int_opt(cli, "--start-ms", start_ms, 0, INT64_MAX / 2);
	o.seed = (uint64_t)seed;
	o.gen_keys = keys > 0 ? (uint64_t)keys : 0;
	o.gen_events = events >= 0 ? (uint64_t)events : 0;
	o.gen_skew_pct = (int)skew;
	o.gen_late_pct = (int)late;
	o.gen_gap_every = gap_every > 0 ? (uint64_t)gap_every : 0;
	o.gen_start_ms = start_ms;
	if (rate > 0) {
		o.rate = rate;
		o.gen_rate = (uint64_t)rate;
	}
	dur_opt(cli, "--late-by", late_by, &o.gen_late_ms);
	dur_opt(cli, "--gap", gap, &o.gen_gap_ms);
	dur_opt(cli, "--batch-interval", batch, &o.batch_ms);
	dur_opt(cli, "--window", window, &o.window_ms);
	dur_opt(cli, "--slide", slide, &o.slide_ms);
	dur_opt(cli, "--timeout", timeout, &o.timeout_ms);
	o.idle_flush_ms = 1000;
	dur_opt(cli, "--idle-flush", idle, &o.idle_flush_ms);
	if (ckint != NULL) {
		if (strspn(ckint, "0123456789") == strlen(ckint)) {
			v = strtoll(ckint, NULL, 10);
			if (v < 1 || v > 1000000000)
				opt_usage_error(cli, run_usage, "bad "
				    "--checkpoint-interval '%s': want a "
				    "number of batches or a duration", ckint);
			o.checkpoint_batches = v;
		} else {
			dur_opt(cli, "--checkpoint-interval", ckint,
			    &o.checkpoint_ms);
		}
	}
	o.partitions = partitions > 0 ? (int)partitions : 0;
	o.snapshot_every = snap > 0 ? (int)snap : 0;
	o.format_version = fmtv ? atoi(fmtv) : 0;
	o.max_actions = max_actions > 0 ? max_actions : 0;
	o.max_batches = max_batches > 0 ? max_batches : 0;
	o.strict = strict;
	o.sync_checkpoint = synck;
	o.pin_threads = pin ? 1 : nopin ? -1 : 0;
	o.wal_segment_bytes = segbytes > 0 ? (uint64_t)segbytes : 0;
	o.dump_input = dump;

	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		return status;
	/* the engine stops at batch boundaries: keep lib calls going */
	ckpt_ctx_set_interrupt(ctx, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	o.stop = &run_stop;

	rc.metrics = open_sink(cli, "metrics", metrics);
	rc.output = dump ? stdout : open_sink(cli, "output", output);
	o.on_metrics = on_metrics;
	o.on_warning = on_warning;
	o.on_output = on_output;
	o.cb_arg = &rc;

	if (ckpt_run(ctx, &o, &res, &err) != CKPT_OK) {
		status = cli_error(cli, &err);
	} else {
		status = EXIT_OK;
		if (!dump && !(metrics && !strcmp(metrics, "-")) &&
		    !(output && !strcmp(output, "-")))
			print_summary(cli, &o, &res);
		if (run_stop == SIGINT)
			status = EXIT_INTERRUPTED;
	}
	if (rc.metrics != NULL && rc.metrics != stdout)
		fclose(rc.metrics);
	if (rc.output != NULL && rc.output != stdout &&
	    fclose(rc.output) != 0 && status == EXIT_OK)
		status = cli_errorf(cli, CKPT_E_IO, "cannot write '%s': %s",
		    output, strerror(errno));
	ckpt_ctx_free(ctx);
	return status;
}
