/*
 * cmd_restore_report.c - what `ckpt restore-test` prints.
 *
 * Text and TAP are streamed, one case at a time in case order, as the
 * cases finish; JUnit XML and JSON are written at the end, when the
 * counts are known.  Every failure carries the directories kept and the
 * command line that reproduces it: the job, the seed, the input and the
 * case's own schedule (--kill-at, --crash-points or --fault-at; timed
 * kills replaced by the crash points they landed after when a replay
 * confirmed that this fails too), with CKPT_TEST_BUG in front when the harness ran with one.  This file
 * decides nothing about the cases; restore_test.c plans and runs them.
 */
#include "cmd.h"
#include "restore_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Appends the case's schedule ("12.5ms,commit.after_entry:3") to buf. */
void
rt_schedule_text(const struct rt_case *c, char *buf, size_t n)
{
	for (int i = 0; i < c->nitems; i++) {
		size_t len = strlen(buf);

		if (c->items[i].type == RT_ITEM_TIME)
			snprintf(buf + len, n - len, "%s%.1fms", i ? "," : "",
			    c->items[i].ms);
		else
			snprintf(buf + len, n - len, "%s%s", i ? "," : "",
			    c->items[i].spec);
	}
}

/* ---- the command line that reproduces a case ---- */

static void
repro(const struct rt *rt, const struct rt_slot *s, char *buf, size_t n)
{
	const struct rt_case *c = &s->c;
	char ev[64];
	size_t len;

	buf[0] = '\0';
	if (rt->test_bug != NULL)
		snprintf(buf, n, "CKPT_TEST_BUG=%s ", rt->test_bug);
	len = strlen(buf);
	if (rt->o.input != NULL)
		snprintf(ev, sizeof(ev), "--input");
	else
		snprintf(ev, sizeof(ev), "--events %" PRId64, rt->cfg.events);
	snprintf(buf + len, n - len, "%s restore-test --job %s --seed %"
	    PRIu64 " %s%s%s%s%s%s", rt->cfg.exe, rt_job_names[c->job],
	    rt->cfg.seed, ev, rt->o.input ? " " : "",
	    rt->o.input ? rt->o.input : "",
	    rt->o.checkpoint ? " --checkpoint " : "",
	    rt->o.checkpoint ? rt->o.checkpoint : "",
	    c->power_loss ? " --power-loss" : "");
	len = strlen(buf);
	if (c->kind == RT_FAULT) {
		snprintf(buf + len, n - len, " --fault-at %s",
		    c->items[0].spec);
		return;
	}
	if (c->kind == RT_CRASH && c->nitems == 1) {
		snprintf(buf + len, n - len, " --crash-points %s",
		    c->items[0].spec);
		return;
	}
	snprintf(buf + len, n - len, " --kill-at ");
	if (s->res.det_schedule[0] != '\0')
		snprintf(buf + strlen(buf), n - strlen(buf), "%s",
		    s->res.det_schedule);
	else
		rt_schedule_text(c, buf, n);
}

/* ---- reports ---- */

static const char *
status_name(int st)
{
	static const char *const names[] = { "pass", "fail", "skip",
		"error" };

	return names[st];
}

/* Prints text with each line prefixed (TAP diagnostics, text detail). */
static void
print_prefixed(FILE *f, const char *prefix, const char *text)
{
	while (*text != '\0') {
		size_t n = strcspn(text, "\n");

		fprintf(f, "%s%.*s\n", prefix, (int)n, text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

static void
case_dirs(const struct rt *rt, const struct rt_case *c, char *dir,
    size_t n)
{
	char url[RT_PATH_MAX];

	rt_case_paths(&rt->cfg, c, dir, n, url, sizeof(url));
}

void
rt_report_case(struct rt *rt, struct rt_slot *s)
{
	FILE *f = stdout;
	const struct rt_result *r = &s->res;
	char cmd[2048], dir[RT_PATH_MAX], rdir[RT_PATH_MAX];
	int bad = r->status == RT_FAIL || r->status == RT_ERROR;

	if (rt->fmt != F_TEXT && rt->fmt != F_TAP)
		return;
	if (bad) {
		repro(rt, s, cmd, sizeof(cmd));
		case_dirs(rt, &s->c, dir, sizeof(dir));
		case_dirs(rt, &rt->refs[s->c.job]->c, rdir, sizeof(rdir));
	}
	if (rt->fmt == F_TAP) {
		fprintf(f, "%s %d - %s", bad ? "not ok" : "ok", s->c.id,
		    s->c.label);
		if (r->status == RT_SKIP)
			fprintf(f, " # SKIP %s", r->msg);
		fputc('\n', f);
		if (r->what[0] != '\0')
			fprintf(f, "# runs: %s\n", r->what);
		if (bad) {
			print_prefixed(f, "# ", r->msg);
			print_prefixed(f, "# ", r->detail);
			fprintf(f, "# kept: %s (reference: %s)\n", dir, rdir);
			fprintf(f, "# reproduce: %s\n", cmd);
		}
	} else {
		const char *col = bad ? cli_color(rt->cli, CLI_RED) :
		    r->status == RT_SKIP ? cli_color(rt->cli, CLI_YELLOW) :
		    cli_color(rt->cli, CLI_GREEN);

		fprintf(f, "%s%-4s%s %s", col, bad ? "FAIL" :
		    r->status == RT_SKIP ? "SKIP" : "ok",
		    cli_color(rt->cli, CLI_RESET), s->c.label);
		if (r->status == RT_SKIP)
			fprintf(f, ": %s", r->msg);
		fprintf(f, " (%.2f s)\n", r->seconds);
		if (r->what[0] != '\0' && (bad || rt->cli->verbose))
			fprintf(f, "     runs: %s\n", r->what);
		if (bad) {
			print_prefixed(f, "     ", r->msg);
			print_prefixed(f, "     ", r->detail);
			fprintf(f, "     kept: %s (reference: %s)\n", dir,
			    rdir);
			fprintf(f, "     reproduce: %s\n", cmd);
		}
	}
	fflush(f);
}

static void
xml_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '<')
			fputs("&lt;", f);
		else if (ch == '>')
			fputs("&gt;", f);
		else if (ch == '&')
			fputs("&amp;", f);
		else if (ch == '"')
			fputs("&quot;", f);
		else if (ch < 0x20 && ch != '\n' && ch != '\t')
			fputc('?', f);
		else
			fputc(ch, f);
	}
}

static void
report_junit(struct rt *rt)
{
	FILE *f = stdout;
	char cmd[2048], dir[RT_PATH_MAX];

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"ckpt restore-test\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
	    rt->nslots, rt->failed, rt->errors, rt->skipped,
	    (rt_now_ms() - rt->started) / 1e3);
	for (int j = 0; j < rt->njobs; j++) {
		int job = rt->jobs[j];
		unsigned n = 0, fl = 0, er = 0, sk = 0;
		double t = 0;

		for (size_t i = 0; i < rt->nslots; i++) {
			const struct rt_slot *s = rt->slots[i];

			if (s->c.job != job)
				continue;
			n++;
			t += s->res.seconds;
			fl += s->res.status == RT_FAIL;
			er += s->res.status == RT_ERROR;
			sk += s->res.status == RT_SKIP;
		}
		fprintf(f, "  <testsuite name=\"restore-test.%s\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
		    rt_job_names[job], n, fl, er, sk, t);
		fprintf(f, "    <properties>\n      <property name=\"seed\" value=\"%" PRIu64 "\"/>\n", rt->cfg.seed);
		if (rt->o.input != NULL) {
			fprintf(f, "      <property name=\"input\" value=\"");
			xml_text(f, rt->o.input);
			fprintf(f, "\"/>\n");
		} else {
			fprintf(f, "      <property name=\"events\" value=\"%" PRId64 "\"/>\n", rt->cfg.events);
		}
		fprintf(f, "    </properties>\n");
		for (size_t i = 0; i < rt->nslots; i++) {
			const struct rt_slot *s = rt->slots[i];
			const struct rt_result *r = &s->res;

			if (s->c.job != job)
				continue;
			fprintf(f, "    <testcase classname=\"restore-test.%s\" name=\"",
			    rt_job_names[job]);
			xml_text(f, s->c.label);
			fprintf(f, "\" time=\"%.3f\">\n", r->seconds);
			if (r->status == RT_SKIP) {
				fprintf(f, "      <skipped message=\"");
				xml_text(f, r->msg);
				fprintf(f, "\"/>\n");
			} else if (r->status == RT_FAIL ||
			    r->status == RT_ERROR) {
				repro(rt, s, cmd, sizeof(cmd));
				case_dirs(rt, &s->c, dir, sizeof(dir));
				fprintf(f, "      <%s message=\"",
				    r->status == RT_FAIL ? "failure" :
				    "error");
				xml_text(f, r->msg);
				fprintf(f, "\" type=\"%s\">",
				    r->status == RT_FAIL ? "divergence" :
				    "harness");
				xml_text(f, r->detail);
				fprintf(f, "\nruns: ");
				xml_text(f, r->what);
				fprintf(f, "\nkept: ");
				xml_text(f, dir);
				fprintf(f, "\nreproduce: ");
				xml_text(f, cmd);
				fprintf(f, "</%s>\n", r->status == RT_FAIL ?
				    "failure" : "error");
			}
			if (r->what[0] != '\0') {
				fprintf(f, "      <system-out>");
				xml_text(f, r->what);
				fprintf(f, "</system-out>\n");
			}
			fprintf(f, "    </testcase>\n");
		}
		fprintf(f, "  </testsuite>\n");
	}
	fprintf(f, "</testsuites>\n");
}

static const char *
kind_name(enum rt_kind k)
{
	static const char *const names[] = { "reference", "kills",
		"crash_point", "io_fault" };

	return names[k];
}

static void
report_json(struct rt *rt)
{
	struct jw w;
	char cmd[2048], dir[RT_PATH_MAX];

	jw_init(&w, stdout, 0);
	jw_obj_begin(&w);
	jw_key(&w, "seed");
	jw_uint(&w, rt->cfg.seed);
	jw_key(&w, "events");
	if (rt->o.input != NULL)
		jw_null(&w);
	else
		jw_int(&w, rt->cfg.events);
	jw_key(&w, "input");
	jw_str(&w, rt->o.input);
	jw_key(&w, "power_loss");
	jw_bool(&w, rt->cfg.power_loss);
	jw_key(&w, "jobs");
	jw_arr_begin(&w);
	for (int j = 0; j < rt->njobs; j++) {
		const struct rt_slot *ref = rt->refs[rt->jobs[j]];

		jw_obj_begin(&w);
		jw_key(&w, "job");
		jw_str(&w, rt_job_names[rt->jobs[j]]);
		jw_key(&w, "reference_ms");
		jw_double(&w, ref ? ref->res.ref_ms : 0);
		jw_key(&w, "unreached_crash_points");
		jw_arr_begin(&w);
		{
			const char *p = rt->unreached[rt->jobs[j]];

			while (*p != '\0') {
				size_t n = strcspn(p, " ");

				if (n > 0)
					jw_strn(&w, p, n);
				p += n;
				if (*p == ' ')
					p++;
			}
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "cases");
	jw_arr_begin(&w);
	for (size_t i = 0; i < rt->nslots; i++) {
		const struct rt_slot *s = rt->slots[i];
		const struct rt_result *r = &s->res;
		int bad = r->status == RT_FAIL || r->status == RT_ERROR;

		jw_obj_begin(&w);
		jw_key(&w, "id");
		jw_int(&w, s->c.id);
		jw_key(&w, "job");
		jw_str(&w, rt_job_names[s->c.job]);
		jw_key(&w, "kind");
		jw_str(&w, kind_name(s->c.kind));
		jw_key(&w, "name");
		jw_str(&w, s->c.label);
		jw_key(&w, "status");
		jw_str(&w, status_name(r->status));
		jw_key(&w, "power_loss");
		jw_bool(&w, s->c.power_loss);
		jw_key(&w, "schedule");
		jw_arr_begin(&w);
		for (int k = 0; k < s->c.nitems; k++) {
			char t[32];

			if (s->c.items[k].type == RT_ITEM_TIME) {
				snprintf(t, sizeof(t), "%.1fms",
				    s->c.items[k].ms);
				jw_str(&w, t);
			} else {
				jw_str(&w, s->c.items[k].spec);
			}
		}
		jw_arr_end(&w);
		jw_key(&w, "attempts");
		jw_int(&w, r->attempts);
		jw_key(&w, "kills");
		jw_int(&w, r->kills);
		jw_key(&w, "runs");
		jw_str(&w, r->what);
		jw_key(&w, "seconds");
		jw_double(&w, r->seconds);
		jw_key(&w, "message");
		jw_str(&w, r->msg[0] ? r->msg : NULL);
		jw_key(&w, "detail");
		jw_str(&w, r->detail[0] ? r->detail : NULL);
		jw_key(&w, "dir");
		case_dirs(rt, &s->c, dir, sizeof(dir));
		jw_str(&w, bad ? dir : NULL);
		jw_key(&w, "reproduce");
		repro(rt, s, cmd, sizeof(cmd));
		jw_str(&w, bad ? cmd : NULL);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "summary");
	jw_obj_begin(&w);
	jw_key(&w, "cases");
	jw_uint(&w, rt->nslots);
	jw_key(&w, "passed");
	jw_uint(&w, rt->passed);
	jw_key(&w, "failed");
	jw_uint(&w, rt->failed);
	jw_key(&w, "skipped");
	jw_uint(&w, rt->skipped);
	jw_key(&w, "errors");
	jw_uint(&w, rt->errors);
	jw_key(&w, "kills");
	jw_uint(&w, rt->kills);
	jw_key(&w, "crash_points");
	jw_uint(&w, rt->points);
	jw_key(&w, "io_faults");
	jw_uint(&w, rt->faults);
	jw_key(&w, "seconds");
	jw_double(&w, (rt_now_ms() - rt->started) / 1e3);
	jw_key(&w, "kept");
	jw_str(&w, rt->failed + rt->errors > 0 || rt->o.keep ?
	    rt->cfg.root : NULL);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
}

void
rt_report_header(struct rt *rt)
{
	char jobs[64] = "";

	for (int j = 0; j < rt->njobs; j++) {
		strcat(jobs, j ? "," : "");
		strcat(jobs, rt_job_names[rt->jobs[j]]);
	}
	if (rt->fmt == F_TAP) {
		printf("TAP version 13\n");
		printf("# ckpt restore-test: jobs %s, seed %" PRIu64, jobs,
		    rt->cfg.seed);
		if (rt->o.input != NULL)
			printf(", input %s", rt->o.input);
		else
			printf(", %" PRId64 " events", rt->cfg.events);
		printf("%s\n# temp root %s\n", rt->cfg.power_loss ?
		    ", power-loss mode" : "", rt->cfg.root);
	} else if (rt->fmt == F_TEXT && !rt->cli->quiet) {
		printf("restore-test: jobs %s, seed %" PRIu64, jobs,
		    rt->cfg.seed);
		if (rt->o.input)
			printf(", input %s", rt->o.input);
		else
			printf(", %" PRId64 " events", rt->cfg.events);
		printf("%s, temp root %s\n",
		    rt->cfg.power_loss ? ", power-loss mode" : "",
		    rt->cfg.root);
	}
	fflush(stdout);
}

void
rt_report_summary(struct rt *rt, int kept)
{
	double secs = (rt_now_ms() - rt->started) / 1e3;
	const char *pre = rt->fmt == F_TAP ? "# " : "";

	if (rt->fmt == F_TAP)
		printf("1..%zu\n", rt->nslots);
	if (rt->fmt == F_JUNIT)
		report_junit(rt);
	if (rt->fmt == F_JSON)
		report_json(rt);
	if (rt->fmt != F_TEXT && rt->fmt != F_TAP)
		return;
	for (int j = 0; j < rt->njobs; j++)
		if (rt->unreached[rt->jobs[j]][0] != '\0')
			printf("%s%s: crash points never reached: %s\n", pre,
			    rt_job_names[rt->jobs[j]],
			    rt->unreached[rt->jobs[j]]);
	printf("%s%zu cases: %u passed, %u failed, %u skipped, %u errors; "
	    "%lu kills, %lu crash points, %lu I/O faults; %u divergences; "
	    "%.1f s\n", pre, rt->nslots, rt->passed, rt->failed, rt->skipped,
	    rt->errors, rt->kills, rt->points, rt->faults, rt->failed, secs);
	if (kept)
		printf("%skept: %s\n", pre, rt->cfg.root);
}
