/*
 * restore_test.c - `ckpt restore-test`: prove that state survives kills,
 * crash points, I/O faults and power cuts.
 *
 * For each job, a reference run goes to the end undisturbed; it also
 * counts how often every crash point and every store operation is hit.
 * Then cases run, each in its own directory under a temp root and in its
 * own worker process (-j of them at once): runs of the same job on the
 * same input that are killed (SIGKILL after a delay drawn from the seed,
 * or at a crash point and occurrence drawn from the seed), faulted
 * (ENOSPC, EIO, short write at one store operation) or cut off in
 * power-loss mode, and restarted until they finish.  cmd_restore_run.c
 * runs one case and compares it with the reference,
 * cmd_restore_report.c prints the results (text, TAP, JUnit XML,
 * JSON); this file parses options, plans cases and schedules workers.
 *
 * It does not test Spark checkpoints and does not judge speed.
 */
#include "cmd.h"
#include "restore_test.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const restore_test_usage[] = {
	"ckpt restore-test --job wordcount|window|session|all [--kills N] [--seed S] [--events N] [--input FILE] [--checkpoint URL] [-j N] [--crash-points all|NAME,...] [--io-faults] [--power-loss] [--kill-at LIST] [--fault-at LIST] [--format text|tap|junit|json] [--keep]",
	"ckpt restore-test --list-crash-points",
	"",
	"Run a job to the end, then kill, crash and fault runs of it and restart",
	"them; their final state and output must equal the reference run's.",
	NULL
};

static const char *const job_values[] = { "wordcount", "window", "session",
	"all", NULL };
static const char *const format_values[] = { "text", "tap", "junit", "json",
	NULL };
static const char *const fault_values[] = {
	"write:ENOSPC", "write:EIO", "write:SHORT", "fsync:ENOSPC",
	"fsync:EIO", "rename:ENOSPC", "rename:EIO", "link:ENOSPC", "link:EIO",
	"mkdir:ENOSPC", "mkdir:EIO", "unlink:ENOSPC", "unlink:EIO", NULL
};

/* Crash point names plus "all", for completion (filled at run time). */
static const char *point_values[RT_MAX_POINTS + 2];

/* ---- small helpers ---- */

/* splitmix64: the case RNG, seeded from (seed, job, case). */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static int
point_index(const char *name, size_t len)
{
	const char *const *names = ckpt_crash_point_names();

	for (int i = 0; names[i] != NULL && i < RT_MAX_POINTS; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name,
		    len) == 0)
			return i;
	return -1;
}

int
rt_fop_index(const char *name, size_t len)
{
	for (int i = 0; i < RT_NFOPS; i++)
		if (strlen(rt_fault_ops[i]) == len &&
		    strncmp(rt_fault_ops[i], name, len) == 0)
			return i;
	return -1;
}

/* Parses ":<positive number>" or ""; 0 for none; -1 when malformed. */
static long
parse_occ(const char *s)
{
	char *end;
	long v;

	if (*s == '\0')
		return 0;
	if (*s != ':' || s[1] < '1' || s[1] > '9')
		return -1;
	errno = 0;
	v = strtol(s + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return v;
}

/*
 * Validates one crash point item "NAME[:OCC]": returns the point index
 * and *occ (0 = choose), or -1.
 */
static int
parse_point_item(const char *item, long *occ)
{
	size_t n = strcspn(item, ":");
	int i = point_index(item, n);

	if (i < 0)
		return -1;
	*occ = parse_occ(item + n);
	return *occ < 0 ? -1 : i;
}

/* Validates "OP:ERRNO[:OCC]": returns the op index, or -1. */
static int
parse_fault_item(const char *item, char *base, size_t blen, long *occ)
{
	size_t n = strcspn(item, ":"), m;
	int op = rt_fop_index(item, n);
	const char *e;

	if (op < 0 || item[n] != ':')
		return -1;
	e = item + n + 1;
	m = strcspn(e, ":");
	if (!((m == 6 && strncmp(e, "ENOSPC", 6) == 0) ||
	    (m == 3 && strncmp(e, "EIO", 3) == 0) ||
	    (m == 5 && strncmp(e, "SHORT", 5) == 0 && op == 0)))
		return -1;
	*occ = parse_occ(e + m);
	if (*occ < 0)
		return -1;
	snprintf(base, blen, "%.*s", (int)(n + 1 + m), item);
	return op;
}

/* Calls fn on each comma-separated item of list; stops on non-zero. */
static int
each_item(const char *list, int (*fn)(void *, const char *), void *arg)
{
	char item[128];

	while (*list != '\0') {
		size_t n = strcspn(list, ",");

		if (n == 0 || n >= sizeof(item))
			return -1;
		memcpy(item, list, n);
		item[n] = '\0';
		if (fn(arg, item) != 0)
			return -1;
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}

/* Parses one --kill-at item into it: "12.5", "12.5ms" or NAME[:OCC]. */
static int
parse_kill_item(const char *s, struct rt_item *it)
{
	char *end;
	double ms;
	long occ;
	int p;

	memset(it, 0, sizeof(*it));
	if ((s[0] >= '0' && s[0] <= '9') || s[0] == '.') {
		errno = 0;
		ms = strtod(s, &end);
		if (errno != 0 || end == s || !(ms >= 0) ||
		    (*end != '\0' && strcmp(end, "ms") != 0))
			return -1;
		it->type = RT_ITEM_TIME;
		it->ms = ms;
		return 0;
	}
	p = parse_point_item(s, &occ);
	if (p < 0)
		return -1;
	it->type = RT_ITEM_POINT;
	snprintf(it->spec, sizeof(it->spec), "%s:%ld",
	    ckpt_crash_point_names()[p], occ > 0 ? occ : 1);
	return 0;
}

static int
check_point_item(void *arg, const char *item)
{
	long occ;

	(void)arg;
	if (strcmp(item, "all") == 0)
		return 0;
	return parse_point_item(item, &occ) < 0 ? -1 : 0;
}

static int
check_fault_item(void *arg, const char *item)
{
	char base[64];
	long occ;

	(void)arg;
	return parse_fault_item(item, base, sizeof(base), &occ) < 0 ? -1 : 0;
}

static int
check_kill_item(void *arg, const char *item)
{
	struct rt_item it;
	int *n = arg;

	if (parse_kill_item(item, &it) != 0)
		return -1;
	return ++*n > RT_MAX_ITEMS ? -1 : 0;
}

/* ---- slots ---- */

static struct rt_slot *
new_slot(struct rt *rt, int job, enum rt_kind kind)
{
	struct rt_slot *s;

	if (rt->nslots == rt->capslots) {
		size_t cap = rt->capslots ? rt->capslots * 2 : 64;
		struct rt_slot **n = realloc(rt->slots, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		rt->slots = n;
		rt->capslots = cap;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->c.id = (int)(rt->nslots - rt->id_base) + 1;
	s->c.job = job;
	s->c.kind = kind;
	s->c.power_loss = rt->cfg.power_loss;
	rt->slots[rt->nslots++] = s;
	return s;
}

/* Accounts a finished case and streams its report in case order. */
static void
account(struct rt *rt, struct rt_slot *s)
{
	const struct rt_result *r = &s->res;

	switch (r->status) {
	case RT_PASS:
		rt->passed++;
		break;
	case RT_FAIL:
		rt->failed++;
		break;
	case RT_SKIP:
		rt->skipped++;
		break;
	default:
		rt->errors++;
		break;
	}
	rt->kills += (unsigned long)r->kills;
	if (s->c.kind == RT_KILLS)
		rt->kill_cases++;
	if (s->c.kind == RT_CRASH)
		rt->points += (unsigned long)r->points_hit;
	rt->faults += (unsigned long)r->faults_hit;
	if ((r->status == RT_PASS || r->status == RT_SKIP) && !rt->o.keep) {
		char dir[RT_PATH_MAX], url[RT_PATH_MAX];

		rt_case_paths(&rt->cfg, &s->c, dir, sizeof(dir), url,
		    sizeof(url));
		rt_rmtree(dir);
		if (rt->cfg.ckpt_base != NULL)
			rt_remove_checkpoint(url);
	}
	while (rt->next_report < rt->nslots &&
	    rt->slots[rt->next_report]->done) {
		rt_report_case(rt, rt->slots[rt->next_report]);
		rt->slots[rt->next_report]->reported = 1;
		rt->next_report++;
	}
}

/* ---- workers ---- */

static int
result_path(const struct rt *rt, const struct rt_case *c, char *buf,
    size_t n)
{
	return snprintf(buf, n, "%s/.result-%d", rt->cfg.root, c->id);
}

/* The worker: runs one case, writes its result, never returns. */
static void __attribute__((noreturn))
worker(struct rt *rt, struct rt_slot *s)
{
	char path[RT_PATH_MAX + 32];
	sigset_t set;
	int fd;

	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	rt_run_case(&rt->cfg, &s->c, s->c.kind == RT_REF ? NULL :
	    &rt->refs[s->c.job]->c, &s->res);
	result_path(rt, &s->c, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, &s->res, sizeof(s->res)) !=
	    (ssize_t)sizeof(s->res))
		_exit(1);
	close(fd);
	_exit(0);
}

static void
collect(struct rt *rt, struct rt_slot *s, int status)
{
	char path[RT_PATH_MAX + 32];
	int fd;

	result_path(rt, &s->c, path, sizeof(path));
	fd = open(path, O_RDONLY);
	if (fd < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    read(fd, &s->res, sizeof(s->res)) != (ssize_t)sizeof(s->res)) {
		memset(&s->res, 0, sizeof(s->res));
		s->res.status = RT_ERROR;
		snprintf(s->res.msg, sizeof(s->res.msg),
		    "the worker process of this case %s",
		    WIFSIGNALED(status) ? "was killed" : "failed");
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	s->done = 1;
	s->pid = 0;
}

/*
 * Runs slots [from, to) with at most -j workers at once; each finished
 * slot goes to account() unless it is a reference.  Returns -1 when
 * interrupted (SIGINT/SIGTERM, blocked and waited for here).
 */
static int
run_slots(struct rt *rt, size_t from, size_t to)
{
	size_t next = from, running = 0;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (next < to || running > 0) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		pid_t pid;
		int st, sig;

		while (!rt->interrupted && next < to &&
		    running < (size_t)rt->o.jobs) {
			struct rt_slot *s = rt->slots[next++];

			fflush(stdout);
			fflush(stderr);
			s->pid = fork();
			if (s->pid == 0)
				worker(rt, s);
			if (s->pid < 0) {
				s->res.status = RT_ERROR;
				snprintf(s->res.msg, sizeof(s->res.msg),
				    "cannot fork: %s", strerror(errno));
				s->done = 1;
				if (s->c.kind != RT_REF)
					account(rt, s);
				continue;
			}
			setpgid(s->pid, s->pid);
			running++;
		}
		while (running > 0 && (pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (size_t i = from; i < to; i++) {
				struct rt_slot *s = rt->slots[i];

				if (s->pid != pid)
					continue;
				collect(rt, s, st);
				running--;
				/* after ^C, the killed workers are no result */
				if (s->c.kind != RT_REF && !rt->interrupted)
					account(rt, s);
				break;
			}
		}
		if ((next >= to || rt->interrupted) && running == 0)
			break;
		sig = sigtimedwait(&set, NULL, &ts);
		if ((sig == SIGINT || sig == SIGTERM) && !rt->interrupted) {
			rt->interrupted = 1;
			for (size_t i = from; i < to; i++)
				if (rt->slots[i]->pid > 0)
					kill(-rt->slots[i]->pid, SIGKILL);
		}
	}
	return rt->interrupted ? -1 : 0;
}

/* ---- planning ---- */

static uint64_t
case_seed(const struct rt *rt, int job, unsigned salt)
{
	uint64_t s = rt->cfg.seed ^ ((uint64_t)(job + 1) << 56) ^
	    ((uint64_t)salt * 0x2545f4914f6cdd1dULL);

	rng_next(&s);
	return s;
}

/*
 * A crash point reached by the reference that a random kill may use:
 * the ones inside the commit path and the engine, chosen by r.
 */
static int
pick_point(const struct rt_result *ref, uint64_t *r, long *occ)
{
	const char *const *names = ckpt_crash_point_names();
	int cand[RT_MAX_POINTS], n = 0;

	for (int i = 0; names[i] != NULL && i < RT_MAX_POINTS; i++)
		if (ref->point_hits[i] > 0)
			cand[n++] = i;
	if (n == 0)
		return -1;
	n = cand[rng_next(r) % (uint64_t)n];
	*occ = 1 + (long)(rng_next(r) % ref->point_hits[n]);
	return n;
}

/* Plans random-kill cases for job until about `kills` kills. */
static int
plan_kills(struct rt *rt, int job, long kills, unsigned *salt)
{
	const struct rt_result *ref = &rt->refs[job]->res;
	const char *const *names = ckpt_crash_point_names();

	while (kills > 0) {
		uint64_t r = case_seed(rt, job, (*salt)++);
		struct rt_slot *s = new_slot(rt, job, RT_KILLS);
		int k = 1 + (int)(rng_next(&r) % 3);

		if (s == NULL)
			return -1;
		if (k > kills)
			k = (int)kills;
		for (int i = 0; i < k; i++) {
			struct rt_item *it = &s->c.items[i];
			long occ;
			int p = -1;

			if (rng_next(&r) % 4 == 0)
				p = pick_point(ref, &r, &occ);
			if (p >= 0) {
				it->type = RT_ITEM_POINT;
				snprintf(it->spec, sizeof(it->spec), "%s:%ld",
				    names[p], occ);
			} else {
				it->type = RT_ITEM_TIME;
				/*
				 * Cases run a little faster than the traced
				 * references, and later attempts have less
				 * left to do.
				 */
				it->ms = round(rng_unit(&r) * ref->ref_ms *
				    0.85 * pow(0.6, i) * 10.0) / 10.0;
			}
		}
		s->c.nitems = k;
		snprintf(s->c.name, sizeof(s->c.name), "%s-kills-%d",
		    rt_job_names[job], s->c.id);
		snprintf(s->c.label, sizeof(s->c.label), "%s: kills at ",
		    rt_job_names[job]);
		rt_schedule_text(&s->c, s->c.label, sizeof(s->c.label));
		snprintf(s->c.label + strlen(s->c.label), sizeof(s->c.label) -
		    strlen(s->c.label), " (seed %" PRIu64 ")%s", rt->cfg.seed,
		    s->c.power_loss ? " with power loss" : "");
		kills -= k;
	}
	return 0;
}

struct plan_ctx {
	struct rt *rt;
	int job;
	unsigned *salt;
};

static int
plan_point(void *arg, const char *item)
{
	struct plan_ctx *pc = arg;
	struct rt *rt = pc->rt;
	const struct rt_result *ref = &rt->refs[pc->job]->res;
	const char *const *names = ckpt_crash_point_names();
	uint64_t r = case_seed(rt, pc->job, (*pc->salt)++);
	struct rt_slot *s;
	long occ;
	int p, first;

	if (strcmp(item, "all") == 0) {
		for (int i = 0; names[i] != NULL && i < RT_MAX_POINTS; i++)
			if (plan_point(arg, names[i]) != 0)
				return -1;
		return 0;
	}
	p = parse_point_item(item, &occ);
	s = new_slot(rt, pc->job, RT_CRASH);
	if (s == NULL || p < 0)
		return -1;
	if (ref->point_hits[p] > 0) {
		if (occ == 0)
			occ = 1 + (long)(rng_next(&r) % ref->point_hits[p]);
		s->c.items[0].type = RT_ITEM_POINT;
		snprintf(s->c.items[0].spec, sizeof(s->c.items[0].spec),
		    "%s:%ld", names[p], occ);
		s->c.nitems = 1;
	} else {
		/*
		 * Not reached by a fresh run (a lock takeover, a replay):
		 * crash once at the first commit, then arm it on the restart.
		 */
		first = point_index("commit.after_entry",
		    strlen("commit.after_entry"));
		if (first >= 0 && ref->point_hits[first] > 0) {
			s->c.items[0].type = RT_ITEM_POINT;
			snprintf(s->c.items[0].spec,
			    sizeof(s->c.items[0].spec), "%s:1",
			    names[first]);
		} else {
			s->c.items[0].type = RT_ITEM_TIME;
			s->c.items[0].ms = round(ref->ref_ms * 5.0) / 10.0;
		}
		s->c.items[1].type = RT_ITEM_POINT;
		snprintf(s->c.items[1].spec, sizeof(s->c.items[1].spec),
		    "%s:%ld", names[p], occ > 0 ? occ : 1);
		s->c.nitems = 2;
	}
	snprintf(s->c.name, sizeof(s->c.name), "%s-crash-%d",
	    rt_job_names[pc->job], s->c.id);
	snprintf(s->c.label, sizeof(s->c.label), "%s: crash point %s%s%s",
	    rt_job_names[pc->job], s->c.items[s->c.nitems - 1].spec,
	    s->c.nitems > 1 ? " on restart" : "",
	    s->c.power_loss ? " with power loss" : "");
	return 0;
}

static int
plan_fault(void *arg, const char *item)
{
	struct plan_ctx *pc = arg;
	struct rt *rt = pc->rt;
	const struct rt_result *ref = &rt->refs[pc->job]->res;
	uint64_t r = case_seed(rt, pc->job, (*pc->salt)++);
	struct rt_slot *s;
	char base[64];
	long occ;
	int op;

	op = parse_fault_item(item, base, sizeof(base), &occ);
	s = new_slot(rt, pc->job, RT_FAULT);
	if (s == NULL || op < 0)
		return -1;
	s->c.power_loss = 0;
	if (occ == 0)
		occ = ref->fop_hits[op] > 0 ?
		    1 + (long)(rng_next(&r) % ref->fop_hits[op]) : 1;
	s->c.items[0].type = RT_ITEM_FAULT;
	snprintf(s->c.items[0].spec, sizeof(s->c.items[0].spec), "%s:%ld",
	    base, occ);
	s->c.nitems = 1;
	snprintf(s->c.name, sizeof(s->c.name), "%s-fault-%d",
	    rt_job_names[pc->job], s->c.id);
	snprintf(s->c.label, sizeof(s->c.label), "%s: I/O fault %s",
	    rt_job_names[pc->job], s->c.items[0].spec);
	return 0;
}

static int
plan_kill_at(struct rt *rt, int job)
{
	struct rt_slot *s = new_slot(rt, job, RT_KILLS);
	const char *p = rt->o.kill_at;
	char item[128];

	if (s == NULL)
		return -1;
	while (*p != '\0' && s->c.nitems < RT_MAX_ITEMS) {
		size_t n = strcspn(p, ",");

		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		if (parse_kill_item(item, &s->c.items[s->c.nitems++]) != 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	snprintf(s->c.name, sizeof(s->c.name), "%s-kill-at-%d",
	    rt_job_names[job], s->c.id);
	snprintf(s->c.label, sizeof(s->c.label), "%s: kills at %s%s",
	    rt_job_names[job], rt->o.kill_at,
	    s->c.power_loss ? " with power loss" : "");
	return 0;
}

/* Plans every case of one job from its reference. */
static int
plan_job(struct rt *rt, int job, long kills)
{
	struct plan_ctx pc = { rt, job, NULL };
	unsigned salt = 1;
	int rc = 0;

	pc.salt = &salt;
	if (rt->o.kill_at != NULL)
		rc |= plan_kill_at(rt, job);
	if (kills > 0)
		rc |= plan_kills(rt, job, kills, &salt);
	if (rt->o.crash_points != NULL)
		rc |= each_item(rt->o.crash_points, plan_point, &pc);
	if (rt->o.fault_at != NULL)
		rc |= each_item(rt->o.fault_at, plan_fault, &pc);
	if (rt->o.io_faults)
		for (int i = 0; fault_values[i] != NULL; i++)
			rc |= plan_fault(&pc, fault_values[i]);
	return rc;
}

/* ---- setup ---- */

static int
list_points(struct rt *rt)
{
	const char *const *names = ckpt_crash_point_names();

	if (rt->fmt == F_JSON) {
		struct jw w;

		cli_json_begin(rt->cli, &w);
		jw_key(&w, "crash_points");
		jw_arr_begin(&w);
		for (int i = 0; names[i] != NULL; i++) {
			jw_obj_begin(&w);
			jw_key(&w, "name");
			jw_str(&w, names[i]);
			jw_key(&w, "description");
			jw_str(&w, ckpt_crash_point_desc(names[i]));
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		cli_json_end(rt->cli);
		return EXIT_OK;
	}
	for (int i = 0; names[i] != NULL; i++)
		printf("%-26s %s\n", names[i], ckpt_crash_point_desc(names[i]));
	return EXIT_OK;
}

static int
validate(struct rt *rt, const char *const *usage)
{
	struct rt_opts *o = &rt->o;
	int n = 0;

	if (o->format != NULL)
		rt->fmt = strcmp(o->format, "text") == 0 ? F_TEXT :
		    strcmp(o->format, "tap") == 0 ? F_TAP :
		    strcmp(o->format, "junit") == 0 ? F_JUNIT : F_JSON;
	else if (rt->cli->json)
		rt->fmt = F_JSON;
	else
		rt->fmt = isatty(STDOUT_FILENO) ? F_TEXT : F_TAP;
	if (o->list)
		return 0;
	if (o->job == NULL)
		opt_usage_error(rt->cli, usage, "--job is required");
	if (o->kills < 0 || o->kills > 1000000)
		opt_usage_error(rt->cli, usage,
		    "--kills must be between 0 and 1000000");
	if (o->events < 1)
		opt_usage_error(rt->cli, usage, "--events must be positive");
	if (o->jobs < 1 || o->jobs > 256)
		opt_usage_error(rt->cli, usage,
		    "-j must be between 1 and 256");
	if (o->crash_points != NULL &&
	    each_item(o->crash_points, check_point_item, NULL) != 0)
		opt_usage_error(rt->cli, usage,
		    "bad --crash-points '%s': want all or NAME[:OCCURRENCE],... (see --list-crash-points)",
		    o->crash_points);
	if (o->fault_at != NULL &&
	    each_item(o->fault_at, check_fault_item, NULL) != 0)
		opt_usage_error(rt->cli, usage,
		    "bad --fault-at '%s': want OP:ERRNO[:OCCURRENCE],... with OP write, fsync, rename, link, mkdir or unlink and ERRNO ENOSPC, EIO or SHORT (write only)",
		    o->fault_at);
	if (o->kill_at != NULL &&
	    each_item(o->kill_at, check_kill_item, &n) != 0)
		opt_usage_error(rt->cli, usage,
		    "bad --kill-at '%s': want up to %d items, each MS or NAME[:OCCURRENCE]",
		    o->kill_at, RT_MAX_ITEMS);
	if (o->checkpoint != NULL && strstr(o->checkpoint, "://") != NULL &&
	    strncmp(o->checkpoint, "file://", 7) != 0 &&
	    (o->power_loss || o->io_faults || o->fault_at != NULL))
		opt_usage_error(rt->cli, usage,
		    "--power-loss and I/O faults need a local --checkpoint directory");
	if (strcmp(o->job, "all") == 0) {
		for (int j = 0; j < 3; j++)
			rt->jobs[rt->njobs++] = j;
	} else {
		for (int j = 0; rt_job_names[j] != NULL; j++)
			if (strcmp(rt_job_names[j], o->job) == 0)
				rt->jobs[rt->njobs++] = j;
	}
	return 0;
}

/* Prepares the temp root, the binary path and the environment. */
static int
setup(struct rt *rt)
{
	static char exe[RT_PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return cli_errorf(rt->cli, CKPT_E_IO,
		    "cannot find the ckpt binary: readlink '/proc/self/exe': %s",
		    strerror(errno));
	exe[n] = '\0';
	rt->cfg.exe = exe;
	snprintf(rt->cfg.root, sizeof(rt->cfg.root),
	    "%s/ckpt-restore-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(rt->cfg.root) == NULL)
		return cli_errorf(rt->cli, CKPT_E_IO,
		    "cannot create a directory in '%s': %s",
		    tmp && *tmp ? tmp : "/tmp", strerror(errno));
	if (rt->o.checkpoint != NULL && strstr(rt->o.checkpoint, "://") ==
	    NULL && mkdir(rt->o.checkpoint, 0755) != 0 && errno != EEXIST)
		return cli_errorf(rt->cli, CKPT_E_IO,
		    "cannot create '%s': %s", rt->o.checkpoint,
		    strerror(errno));
	/* Plans armed by the caller's environment would hit every run. */
	unsetenv("CKPT_CRASH_POINT");
	unsetenv("CKPT_FAULT");
	unsetenv("CKPT_POWER_LOSS");
	unsetenv("CKPT_TRACE_HITS");
	rt->test_bug = getenv("CKPT_TEST_BUG");
	if (rt->test_bug != NULL && rt->test_bug[0] == '\0')
		rt->test_bug = NULL;
	return 0;
}

/* Notes the crash points that no case of job reached (skipped). */
static void
note_unreached(struct rt *rt, int job)
{
	char *buf = rt->unreached[job];

	for (size_t k = 0; k < rt->nslots; k++) {
		const struct rt_slot *s = rt->slots[k];
		const char *spec;
		size_t n;

		if (s->c.job != job || s->c.kind != RT_CRASH ||
		    s->res.status != RT_SKIP)
			continue;
		spec = s->c.items[s->c.nitems - 1].spec;
		n = strcspn(spec, ":");
		if (strlen(buf) + n + 2 < sizeof(rt->unreached[job]))
			snprintf(buf + strlen(buf), sizeof(rt->unreached[job]) -
			    strlen(buf), "%s%.*s", buf[0] ? " " : "", (int)n,
			    spec);
	}
}

/* Frees the slots (the references too, once moved out of the list). */
static void
rt_free(struct rt *rt)
{
	for (size_t i = 0; i < rt->nslots; i++)
		free(rt->slots[i]);
	if (rt->refs_detached)
		for (int j = 0; j < 3; j++)
			free(rt->refs[j]);
	free(rt->slots);
}

/* Everything after option parsing; returns the exit status. */
static int
rt_main(struct rt *rt)
{
	long slowest = 20000;
	int status, kept;

	status = setup(rt);
	if (status != 0)
		return status;
	rt->started = rt_now_ms();
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	rt_report_header(rt);

	/* Reference runs, all jobs at once. */
	for (int j = 0; j < rt->njobs; j++) {
		struct rt_slot *s = new_slot(rt, rt->jobs[j], RT_REF);

		if (s == NULL)
			return cli_errorf(rt->cli, CKPT_E_NOMEM,
			    "out of memory");
		s->c.power_loss = 0;
		snprintf(s->c.name, sizeof(s->c.name), "%s-reference",
		    rt_job_names[rt->jobs[j]]);
		snprintf(s->c.label, sizeof(s->c.label), "%s: reference",
		    rt_job_names[rt->jobs[j]]);
		rt->refs[rt->jobs[j]] = s;
	}
	if (run_slots(rt, 0, rt->nslots) != 0)
		goto interrupted;
	for (int j = 0; j < rt->njobs; j++) {
		struct rt_slot *s = rt->refs[rt->jobs[j]];

		if (s->res.status != RT_PASS) {
			if (rt->fmt == F_TAP)
				printf("Bail out! reference run of %s failed\n",
				    rt_job_names[s->c.job]);
			fflush(stdout);
			cli_errorf(rt->cli, CKPT_E_IO,
			    "the reference run of %s failed: %s%s%s (kept '%s')",
			    rt_job_names[s->c.job], s->res.msg,
			    s->res.detail[0] ? ": " : "", s->res.detail,
			    rt->cfg.root);
			return EXIT_ERROR;
		}
		/* an attempt may take 30 times the reference, >= 20 s */
		if (s->res.ref_ms * 30 > (double)slowest)
			slowest = (long)(s->res.ref_ms * 30);
	}
	rt->cfg.timeout_ms = slowest;
	/* The references are not reported: cases start after them. */
	{
		size_t first = rt->nslots;
		long want = (long)rt->o.kills;

		rt->next_report = first;
		rt->id_base = first;
		for (int j = 0; j < rt->njobs; j++)
			if (plan_job(rt, rt->jobs[j], want) != 0)
				return cli_errorf(rt->cli, CKPT_E_NOMEM,
				    "cannot plan the cases: out of memory");
		if (run_slots(rt, first, rt->nslots) != 0)
			goto interrupted;
		/* Top up random kills that did not happen (runs that
		 * finished before their kill time), a few rounds at most. */
		for (int round = 0; round < 10 && want > 0; round++) {
			size_t from = rt->nslots;

			for (int j = 0; j < rt->njobs; j++) {
				long got = 0;
				unsigned salt = 1000u * (unsigned)(round + 1);

				for (size_t i = first; i < rt->nslots; i++) {
					const struct rt_slot *k = rt->slots[i];

					if (k->c.job == rt->jobs[j] &&
					    k->c.kind == RT_KILLS)
						got += k->res.kills;
				}
				if (got < want && plan_kills(rt, rt->jobs[j],
				    want - got, &salt) != 0)
					return cli_errorf(rt->cli, CKPT_E_NOMEM,
					    "out of memory");
			}
			if (from == rt->nslots)
				break;
			if (run_slots(rt, from, rt->nslots) != 0)
				goto interrupted;
		}
		/* Report numbering excludes the references. */
		memmove(rt->slots, rt->slots + first,
		    (rt->nslots - first) * sizeof(*rt->slots));
		rt->nslots -= first;
		rt->refs_detached = 1;
	}
	for (int j = 0; j < rt->njobs; j++)
		note_unreached(rt, rt->jobs[j]);
	kept = rt->failed + rt->errors > 0 || rt->o.keep;
	rt_report_summary(rt, kept);
	if (!kept) {
		for (int j = 0; j < rt->njobs && rt->cfg.ckpt_base; j++) {
			char dir[RT_PATH_MAX], url[RT_PATH_MAX];

			rt_case_paths(&rt->cfg, &rt->refs[rt->jobs[j]]->c,
			    dir, sizeof(dir), url, sizeof(url));
			rt_remove_checkpoint(url);
		}
		rt_rmtree(rt->cfg.root);
	}
	if (rt->failed > 0)
		return EXIT_PROBLEM;
	return rt->errors > 0 ? EXIT_ERROR : EXIT_OK;

interrupted:
	fflush(stdout);
	if (!rt->o.keep)
		rt_rmtree(rt->cfg.root);
	cli_errorf(rt->cli, CKPT_E_INTERRUPTED, "interrupted");
	return EXIT_INTERRUPTED;
}

int
cmd_restore_test(struct cli *cli, int argc, char **argv)
{
	struct rt rt;
	struct option opts[] = {
		OPT_ENUM(0, "job", &rt.o.job, "JOB", job_values,
		    "job to test: wordcount, window, session or all"),
		OPT_INT(0, "kills", &rt.o.kills, "N",
		    "SIGKILLs per job at random moments (default 20)"),
		OPT_INT(0, "seed", &rt.o.seed, "S",
		    "seed of the input and of all kills (default: random)"),
		OPT_INT(0, "events", &rt.o.events, "N",
		    "generated input events (default 1500)"),
		OPT_STRING(0, "input", &rt.o.input, "FILE",
		    "an input file instead of generated events"),
		OPT_STRING(0, "checkpoint", &rt.o.checkpoint, "URL",
		    "make the runs' checkpoints under URL"),
		OPT_INT('j', NULL, &rt.o.jobs, "N",
		    "cases run at once (default: online CPUs)"),
		{ OPT_T_STRING, 0, "crash-points", &rt.o.crash_points,
		    "LIST", "crash at these points (all: every point)",
		    point_values, OPT_OPEN_VALUES },
		OPT_BOOL(0, "io-faults", &rt.o.io_faults,
		    "ENOSPC, EIO, short writes at each store operation"),
		OPT_BOOL(0, "power-loss", &rt.o.power_loss,
		    "crash points also lose what is not durable"),
		OPT_STRING(0, "kill-at", &rt.o.kill_at, "LIST",
		    "one case: item i (MS or NAME:OCC) kills attempt i"),
		{ OPT_T_STRING, 0, "fault-at", &rt.o.fault_at, "LIST",
		    "one case per fault OP:ERRNO[:OCC]", fault_values,
		    OPT_OPEN_VALUES },
		OPT_BOOL(0, "list-crash-points", &rt.o.list,
		    "list the crash points and exit"),
		OPT_ENUM(0, "format", &rt.o.format, "FMT", format_values,
		    "text, tap, junit or json (default: tap if no tty)"),
		OPT_BOOL(0, "keep", &rt.o.keep,
		    "keep every case's directory, not only failed ones"),
		OPT_END()
	};
	const char *const *names = ckpt_crash_point_names();
	int status, nargs;

	memset(&rt, 0, sizeof(rt));
	point_values[0] = "all";
	for (int i = 0; names[i] != NULL && i < RT_MAX_POINTS; i++)
		point_values[i + 1] = names[i];
	rt.cli = cli;
	rt.o.kills = -1;
	rt.o.seed = -1;
	rt.o.events = 0;
	rt.o.jobs = -1;
	nargs = opt_parse(cli, argc, argv, opts, restore_test_usage, 0);
	if (nargs > 0)
		opt_usage_error(cli, restore_test_usage,
		    "unexpected argument '%s'", argv[0]);
	rt.seed_given = rt.o.seed >= 0 ? 1 : -1;
	if (rt.o.input != NULL && rt.o.events != 0)
		opt_usage_error(cli, restore_test_usage,
		    "--input and --events exclude each other");
	if (rt.o.events == 0)
		rt.o.events = 1500;
	if (rt.o.jobs == -1) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		rt.o.jobs = n > 0 ? n : 1;
	}
	if (rt.o.kills < 0)
		rt.o.kills = rt.o.kill_at || rt.o.crash_points ||
		    rt.o.io_faults || rt.o.fault_at ? 0 : 20;
	validate(&rt, restore_test_usage);
	if (rt.o.list)
		return list_points(&rt);
	if (rt.o.seed < 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		rt.o.seed = (int64_t)(((uint64_t)ts.tv_nsec ^
		    ((uint64_t)getpid() << 20)) % 1000000000u);
	}
	rt.cfg.seed = (uint64_t)rt.o.seed;
	rt.cfg.events = rt.o.events;
	rt.cfg.input = rt.o.input;
	rt.cfg.ckpt_base = rt.o.checkpoint;
	rt.cfg.power_loss = rt.o.power_loss;
	rt.cfg.timeout_ms = 120000;	/* the reference's own limit */
	status = rt_main(&rt);
	rt_free(&rt);
	return status;
}
