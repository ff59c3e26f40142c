/*
 * cmd_restore_run.c - one case of `ckpt restore-test`, run in a worker.
 *
 * A case is a sequence of attempts of `ckpt run JOB` on one checkpoint
 * directory.  Attempt i is armed by the case's item i: a SIGKILL sent by
 * this process after a delay, a crash point (CKPT_CRASH_POINT, plus
 * CKPT_POWER_LOSS in power-loss mode) or an I/O fault (CKPT_FAULT);
 * attempts after the last item run unarmed and must finish.  After each
 * crash the directory must verify (no error-level problem); after an
 * injected fault the engine must have exited non-zero with a clear
 * message and the last good checkpoint must verify with every block
 * read.  At the end, the state (every operator and partition, as
 * `ckpt inspect --json` decodes it) and the concatenated output files
 * must equal the reference run's, line for line.
 *
 * The reference "case" is the same code with no item: it also records
 * how often each crash point and fault op is hit (CKPT_TRACE_HITS), so
 * that the planner picks occurrences that are actually reached.
 *
 * This file runs processes and compares; it does not plan, schedule or
 * print reports (restore_test.c does).
 */
#include "restore_test.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Unarmed attempts allowed after the armed ones before giving up. */
#define RT_RESTARTS 2
#define RT_LINE_SHOW 300

const char *const rt_job_names[] = { "wordcount", "window", "session",
	NULL };
const char *const rt_fault_ops[RT_NFOPS] = { "write", "fsync", "rename",
	"link", "mkdir", "unlink" };

/* Appends printf text to a fixed buffer, truncating quietly. */
static void __attribute__((format(printf, 3, 4)))
cat(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

double
rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
is_local(const char *url)
{
	return strstr(url, "://") == NULL || strncmp(url, "file://", 7) == 0;
}

void
rt_case_paths(const struct rt_config *cfg, const struct rt_case *c,
    char *dir, size_t dlen, char *url, size_t ulen)
{
	snprintf(dir, dlen, "%s/%s", cfg->root, c->name);
	if (cfg->ckpt_base != NULL) {
		size_t n = strlen(cfg->ckpt_base);

		while (n > 1 && cfg->ckpt_base[n - 1] == '/')
			n--;
		snprintf(url, ulen, "%.*s/%s", (int)n, cfg->ckpt_base,
		    c->name);
	} else {
		snprintf(url, ulen, "%s/ckpt", dir);
	}
}

/* ---- removing trees ---- */

static int
rmtree_at(int dirfd, const char *name)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ?
		    0 : -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (rmtree_at(fd, de->d_name) != 0)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int
rt_rmtree(const char *path)
{
	return rmtree_at(AT_FDCWD, path);
}

struct rm_page {
	char names[64][CKPT_NAME_MAX];
	int is_dir[64];
	int n;
};

static int
on_rm_entry(void *arg, const struct ckpt_stat *e)
{
	struct rm_page *p = arg;

	snprintf(p->names[p->n], CKPT_NAME_MAX, "%s", e->name);
	p->is_dir[p->n++] = e->is_dir;
	return p->n == 64;
}

/* Removes everything under dir of st, a page of entries at a time. */
static int
rm_store_dir(struct ckpt_store *st, const char *dir, int depth)
{
	struct ckpt_error err = { 0 };
	struct rm_page *p;
	char path[1024];
	int rc = 0;

	if (depth > 32)
		return -1;
	p = malloc(sizeof(*p));
	if (p == NULL)
		return -1;
	for (;;) {
		p->n = 0;
		if (ckpt_store_list(st, dir, CKPT_LIST_NAME, NULL, on_rm_entry,
		    p, &err) != CKPT_OK || p->n == 0)
			break;
		for (int i = 0; i < p->n && rc == 0; i++) {
			snprintf(path, sizeof(path), "%s%s%s", dir,
			    dir[0] ? "/" : "", p->names[i]);
			if (p->is_dir[i] && rm_store_dir(st, path,
			    depth + 1) != 0)
				rc = -1;
			if (ckpt_store_remove(st, path, &err) != CKPT_OK)
				rc = -1;
		}
		if (rc != 0 || p->n < 64)
			break;
	}
	free(p);
	return rc;
}

int
rt_remove_checkpoint(const char *url)
{
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_store *st = NULL;
	struct ckpt_error err = { 0 };
	int rc = -1;

	if (is_local(url))
		return rt_rmtree(strncmp(url, "file://", 7) == 0 ?
		    url + 7 : url);
	if (ckpt_ctx_new(&ctx, &err) == CKPT_OK &&
	    ckpt_store_open(ctx, url, CKPT_STORE_RDWR, &st, &err) ==
	    CKPT_OK)
		rc = rm_store_dir(st, "", 0);
	ckpt_store_close(st);
	ckpt_ctx_free(ctx);
	return rc;
}

/* ---- running ckpt run ---- */

struct rt_wait {
	int status;		/* as from waitpid */
	int killed_by_us;
	int timed_out;
	double ms;		/* wall time of the attempt */
};

/*
 * Forks and execs `ckpt run JOB --checkpoint URL <input>` with stdout
 * and stderr to files and the test environment set for item it (NULL:
 * unarmed).  trace, if not NULL, is the CKPT_TRACE_HITS file.
 */
static pid_t
spawn_run(const struct rt_config *cfg, const struct rt_case *c,
    const char *url, const struct rt_item *it, const char *out,
    const char *errpath, const char *trace, const char *metrics)
{
	char seed[32], events[32];
	char *argv[24];
	int n = 0, fd;
	pid_t pid;

	snprintf(seed, sizeof(seed), "%" PRIu64, cfg->seed);
	snprintf(events, sizeof(events), "%" PRId64, cfg->events);
	argv[n++] = (char *)"ckpt";
	argv[n++] = (char *)"run";
	argv[n++] = (char *)rt_job_names[c->job];
	argv[n++] = (char *)"--checkpoint";
	argv[n++] = (char *)url;
	argv[n++] = (char *)"--metrics";	/* a line per committed batch */
	argv[n++] = (char *)metrics;
	if (cfg->input != NULL) {
		argv[n++] = (char *)"--input";
		argv[n++] = (char *)cfg->input;
	} else {
		argv[n++] = (char *)"--generate";
		argv[n++] = (char *)"--seed";
		argv[n++] = seed;
		argv[n++] = (char *)"--events";
		argv[n++] = events;
		/* event time slow enough for many batches, windows that
		 * slide out and sessions that close within the run */
		if (strcmp(rt_job_names[c->job], "window") == 0) {
			argv[n++] = (char *)"--rate";
			argv[n++] = (char *)"3";
			argv[n++] = (char *)"--window";
			argv[n++] = (char *)"2m";
		} else if (strcmp(rt_job_names[c->job], "session") == 0) {
			argv[n++] = (char *)"--rate";
			argv[n++] = (char *)"3";
			argv[n++] = (char *)"--timeout";
			argv[n++] = (char *)"1m";
		}
	}
	argv[n] = NULL;

	pid = fork();
	if (pid != 0)
		return pid;

	/* The child: plain signal state, redirections, environment. */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && fd != 1) {
		dup2(fd, 1);
		close(fd);
	}
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && fd != 2) {
		dup2(fd, 2);
		close(fd);
	}
	unsetenv("CKPT_CRASH_POINT");
	unsetenv("CKPT_FAULT");
	unsetenv("CKPT_POWER_LOSS");
	unsetenv("CKPT_TRACE_HITS");
	if (trace != NULL)
		setenv("CKPT_TRACE_HITS", trace, 1);
	if (it != NULL && it->type == RT_ITEM_POINT) {
		setenv("CKPT_CRASH_POINT", it->spec, 1);
		if (c->power_loss)
			setenv("CKPT_POWER_LOSS", "1", 1);
	}
	if (it != NULL && it->type == RT_ITEM_FAULT)
		setenv("CKPT_FAULT", it->spec, 1);
	/* this very binary, even if its file was replaced meanwhile */
	execv("/proc/self/exe", argv);
	execv(cfg->exe, argv);
	fprintf(stderr, "ckpt restore-test: cannot run '%s': %s\n",
	    cfg->exe, strerror(errno));
	_exit(127);
}

/*
 * Waits for pid, sending SIGKILL after kill_ms (< 0: never) and after
 * timeout_ms (then timed_out is set).  SIGCHLD must be blocked.
 */
static void
wait_child(pid_t pid, double start, double kill_ms, long timeout_ms,
    struct rt_wait *w)
{
	sigset_t set;
	int st;

	memset(w, 0, sizeof(*w));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		double now, next;
		struct timespec ts;
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			break;
		now = rt_now_ms() - start;
		if (kill_ms >= 0 && now >= kill_ms) {
			kill(pid, SIGKILL);
			w->killed_by_us = 1;
			kill_ms = -1;
			continue;
		}
		if (now >= (double)timeout_ms) {
			kill(pid, SIGKILL);
			w->timed_out = 1;
			waitpid(pid, &st, 0);
			break;
		}
		next = (double)timeout_ms;
		if (kill_ms >= 0 && kill_ms < next)
			next = kill_ms;
		next -= now;
		if (next < 0.05)
			next = 0.05;
		ts.tv_sec = (time_t)(next / 1e3);
		ts.tv_nsec = (long)((next - (double)ts.tv_sec * 1e3) * 1e6);
		sigtimedwait(&set, NULL, &ts);
	}
	w->status = st;
	w->ms = rt_now_ms() - start;
}

/* The first line of file path starting with prefix (or the first line
 * at all when prefix is NULL) into buf; buf is "" if none. */
static void
grep_line(const char *path, const char *prefix, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	buf[0] = '\0';
	if (f == NULL)
		return;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (prefix == NULL || strncmp(line, prefix,
		    strlen(prefix)) == 0) {
			snprintf(buf, n, "%.*s", RT_LINE_SHOW, line);
			break;
		}
	}
	free(line);
	fclose(f);
}

/* ---- checks on the directory ---- */

/* The batch of the last metrics line in path ("batch":N), or -1. */
static int64_t
last_acked(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int64_t b = -1;

	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		const char *p = strstr(line, "{\"batch\":");

		/* a torn last line (the kill) ends without "}" */
		if (p != NULL && strchr(line, '}') != NULL)
			b = strtoll(p + 9, NULL, 10);
	}
	free(line);
	fclose(f);
	return b;
}

struct problem_sink {
	uint64_t errors;
	char first[600];
};

static int
on_problem(void *arg, const struct ckpt_problem *p)
{
	struct problem_sink *s = arg;

	if (p->severity != CKPT_PROBLEM_ERROR)
		return 0;
	if (s->errors++ == 0) {
		if (p->offset >= 0)
			snprintf(s->first, sizeof(s->first),
			    "'%s' at offset %" PRId64 ": %s", p->path,
			    p->offset, p->msg);
		else
			snprintf(s->first, sizeof(s->first), "'%s': %s",
			    p->path, p->msg);
	}
	return 0;
}

/*
 * Verifies the checkpoint at url: 0 when it verifies or does not exist
 * yet (a crash before the first durable file), -1 with why in msg.
 * acked (or -1) is the newest batch the run reported committed: the
 * restart point must not be older (a power cut must not lose it).
 */
static int
verify_dir(const char *url, int read_state, int64_t acked, char *msg,
    size_t n)
{
	struct ckpt_info info;
	struct ckpt_ctx *ctx = NULL;
	struct ckpt *c = NULL;
	struct ckpt_error err = { 0 };
	struct ckpt_verify_opts o = { 0 };
	struct ckpt_verify_stats stats = { 0 };
	struct problem_sink sink = { 0 };
	int rc = -1;

	if (ckpt_ctx_new(&ctx, &err) != CKPT_OK) {
		snprintf(msg, n, "%s", err.msg);
		return -1;
	}
	if (ckpt_open(ctx, url, &c, &err) != CKPT_OK) {
		if (acked >= 0)
			snprintf(msg, n, "batch %" PRId64 " was reported committed, but the checkpoint is gone: %s",
			    acked, err.msg);
		else if (err.kind == CKPT_E_NOTFOUND ||
		    err.kind == CKPT_E_NOTCKPT)
			rc = 0;
		else
			snprintf(msg, n, "cannot open the checkpoint: %s",
			    err.msg);
		goto out;
	}
	memset(&info, 0, sizeof(info));
	if (ckpt_info_get(c, &info, &err) != CKPT_OK) {
		snprintf(msg, n, "cannot read the checkpoint: %s", err.msg);
		goto out;
	}
	ckpt_info_release(&info);
	if (acked >= 0 && (info.restart_point == CKPT_NONE ||
	    info.restart_point < acked)) {
		snprintf(msg, n, "batch %" PRId64 " was reported committed, but the restart point is %s%" PRId64,
		    acked, info.restart_point == CKPT_NONE ? "none " : "",
		    info.restart_point == CKPT_NONE ? (int64_t)0 :
		    info.restart_point);
		goto out;
	}
	o.level = read_state ? CKPT_VERIFY_READ_STATE :
	    CKPT_VERIFY_STRUCTURE;
	if (ckpt_verify(c, &o, on_problem, &sink, &stats, &err) !=
	    CKPT_OK) {
		snprintf(msg, n, "cannot verify: %s", err.msg);
		goto out;
	}
	if (sink.errors > 0) {
		snprintf(msg, n, "%" PRIu64 " error(s), first %s",
		    sink.errors, sink.first);
		goto out;
	}
	rc = 0;
out:
	ckpt_close(c);
	ckpt_ctx_free(ctx);
	return rc;
}

/*
 * Writes what the comparison looks at, one item a line: the restart
 * point, then every state record of every operator and partition as
 * "<op>/<partition> <key json> <value json>" in the library's order.
 */
static int
dump_state(struct ckpt *c, FILE *out, struct ckpt_error *err)
{
	struct ckpt_info info;
	int nops, rc;

	memset(&info, 0, sizeof(info));
	if (ckpt_info_get(c, &info, err) != CKPT_OK)
		return CKPT_FAILED;
	fprintf(out, "restart_point %" PRId64 "\nstate_version %" PRId64
	    "\n", info.restart_point, info.state_version);
	ckpt_info_release(&info);
	nops = ckpt_operator_count(c);
	for (int op = 0; op < nops; op++) {
		struct ckpt_operator o;

		memset(&o, 0, sizeof(o));
		if (ckpt_operator_get(c, op, &o, err) != CKPT_OK)
			return CKPT_FAILED;
		fprintf(out, "operator %s %s partitions %d\n", o.name,
		    o.type, o.partitions);
		for (int p = 0; p < o.partitions; p++) {
			struct ckpt_state_iter *it = NULL;
			struct ckpt_record r;

			if (ckpt_state_open(c, op, p, CKPT_NONE, 0, &it,
			    err) != CKPT_OK) {
				ckpt_operator_release(&o);
				return CKPT_FAILED;
			}
			while ((rc = ckpt_state_next(it, &r, err)) ==
			    CKPT_OK)
				fprintf(out, "%s/%d %s %s\n", o.name, p,
				    r.key_json ? r.key_json : "?",
				    r.value_json ? r.value_json : "?");
			ckpt_state_close(it);
			if (rc != CKPT_EOF) {
				ckpt_operator_release(&o);
				return CKPT_FAILED;
			}
		}
		ckpt_operator_release(&o);
	}
	return CKPT_OK;
}

struct out_list {
	char (*names)[CKPT_NAME_MAX];
	size_t n, max;
};

static int
on_output(void *arg, const struct ckpt_stat *e)
{
	struct out_list *l = arg;

	if (e->is_dir || e->name[0] == '.')
		return 0;
	snprintf(l->names[l->n++], CKPT_NAME_MAX, "%s", e->name);
	return l->n == l->max;
}

/*
 * Appends the payload of every output file (output/<batch>, numeric
 * order) to out, paging through the listing so memory stays bounded
 * (one batch's output at a time).
 */
static int
dump_output(struct ckpt *c, FILE *out, struct ckpt_error *err)
{
	struct ckpt_store *st = ckpt_get_store(c);
	char after[CKPT_NAME_MAX] = "";
	struct out_list l = { 0 };
	struct ckpt_stat sb;
	char path[CKPT_NAME_MAX + 16];
	int rc = CKPT_OK;

	if (ckpt_store_stat(st, "output", &sb, err) != CKPT_OK) {
		if (err->kind == CKPT_E_NOTFOUND) {
			ckpt_error_clear(err);
			return CKPT_OK;
		}
		return CKPT_FAILED;
	}
	l.max = 256;
	l.names = calloc(l.max, sizeof(*l.names));
	if (l.names == NULL) {
		rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		l.n = 0;
		rc = ckpt_store_list(st, "output", CKPT_LIST_NUMERIC,
		    after[0] ? after : NULL, on_output, &l, err);
		if (rc != CKPT_OK || l.n == 0)
			break;
		for (size_t i = 0; i < l.n && rc == CKPT_OK; i++) {
			char *data = NULL;
			size_t len = 0;

			snprintf(path, sizeof(path), "output/%s",
			    l.names[i]);
			rc = ckpt_native_read_file(c, path, &data, &len, err);
			if (rc == CKPT_OK)
				fwrite(data, 1, len, out);
			free(data);
		}
		if (rc != CKPT_OK || l.n < l.max)
			break;
		snprintf(after, sizeof(after), "%s", l.names[l.n - 1]);
	}
out:
	free(l.names);
	return rc;
}

/* Dumps state and output of url into dir/state.txt, dir/output.txt. */
static int
dump_result(const char *url, const char *dir, char *msg, size_t n)
{
	struct ckpt_ctx *ctx = NULL;
	struct ckpt *c = NULL;
	struct ckpt_error err = { 0 };
	char path[RT_PATH_MAX + 32];
	FILE *f = NULL;
	int rc = -1;

	if (ckpt_ctx_new(&ctx, &err) != CKPT_OK ||
	    ckpt_open(ctx, url, &c, &err) != CKPT_OK) {
		snprintf(msg, n, "cannot open the final checkpoint: %s",
		    err.msg);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/state.txt", dir);
	f = fopen(path, "w");
	if (f == NULL || dump_state(c, f, &err) != CKPT_OK) {
		snprintf(msg, n, "cannot read the final state: %s",
		    f == NULL ? strerror(errno) : err.msg);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		snprintf(msg, n, "cannot write '%.900s': %s", path,
		    strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/output.txt", dir);
	f = fopen(path, "w");
	if (f == NULL || dump_output(c, f, &err) != CKPT_OK) {
		snprintf(msg, n, "cannot read the final output: %s",
		    f == NULL ? strerror(errno) : err.msg);
		goto out;
	}
	rc = fclose(f) == 0 ? 0 : -1;
	f = NULL;
out:
	if (f != NULL)
		fclose(f);
	ckpt_close(c);
	ckpt_ctx_free(ctx);
	return rc;
}

/*
 * Compares two text files line by line.  Returns 0 when equal, 1 with
 * the first difference described in detail, -1 on a read error.
 */
static int
compare_files(const char *ref, const char *got, const char *what,
    char *detail, size_t n)
{
	FILE *a = fopen(ref, "r"), *b = fopen(got, "r");
	char *la = NULL, *lb = NULL;
	size_t ca = 0, cb = 0;
	ssize_t na, nb;
	long line = 0;
	int rc = 0;

	if (a == NULL || b == NULL) {
		snprintf(detail, n, "cannot read '%s': %s",
		    a == NULL ? ref : got, strerror(errno));
		rc = -1;
		goto out;
	}
	for (;;) {
		na = getline(&la, &ca, a);
		nb = getline(&lb, &cb, b);
		line++;
		if (na < 0 && nb < 0)
			break;
		if (na > 0 && la[na - 1] == '\n')
			la[--na] = '\0';
		if (nb > 0 && lb[nb - 1] == '\n')
			lb[--nb] = '\0';
		if (na >= 0 && nb >= 0 && strcmp(la, lb) == 0)
			continue;
		snprintf(detail, n, "first difference in %s at line %ld:\n"
		    "  reference: %.*s\n  this run:  %.*s", what, line,
		    RT_LINE_SHOW, na < 0 ? "(end of file)" : la,
		    RT_LINE_SHOW, nb < 0 ? "(end of file)" : lb);
		rc = 1;
		break;
	}
out:
	free(la);
	free(lb);
	if (a != NULL)
		fclose(a);
	if (b != NULL)
		fclose(b);
	return rc;
}

/* Counts the reference run's trace: "crash NAME" / "fault OP" lines. */
static void
read_trace(const char *path, struct rt_result *res)
{
	const char *const *names = ckpt_crash_point_names();
	FILE *f = fopen(path, "r");
	char line[160];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "crash ", 6) == 0) {
			for (int i = 0; names[i] != NULL &&
			    i < RT_MAX_POINTS; i++)
				if (strcmp(names[i], line + 6) == 0)
					res->point_hits[i]++;
		} else if (strncmp(line, "fault ", 6) == 0) {
			for (int i = 0; i < RT_NFOPS; i++)
				if (strcmp(rt_fault_ops[i], line + 6) == 0)
					res->fop_hits[i]++;
		}
	}
	fclose(f);
}

/* The errno an injected fault spec ends in failing with. */
static int
fault_errno(const char *spec)
{
	return strstr(spec, ":EIO") != NULL ? EIO : ENOSPC;
}

/*
 * Whether the attempt traced in `trace` reached fault spec "op:ERR:N"
 * (its N-th call of op): 1 yes, 0 no or unknown.
 */
static int
fault_reached(const char *spec, const char *trace)
{
	struct rt_result hits;
	size_t n = strcspn(spec, ":");
	const char *last = strrchr(spec, ':');
	unsigned long want = 1;
	int op = rt_fop_index(spec, n);

	if (op < 0)
		return 0;
	if (last != NULL && last != spec + n)	/* "op:ERR:N" */
		want = strtoul(last + 1, NULL, 10);
	memset(&hits, 0, sizeof(hits));
	read_trace(trace, &hits);
	return want > 0 && hits.fop_hits[op] >= want;
}

/*
 * Checks the attempt that ran with fault it armed and did not crash:
 * 0 when it failed cleanly (non-zero exit, a "ckpt run: " line naming
 * the error), 1 when the fault was not reached (per the attempt's
 * trace) or its error was ignored harmlessly, -1 with why in res
 * otherwise.
 */
static int
check_fault_exit(const struct rt_item *it, const struct rt_wait *w,
    const char *errpath, const char *trace, struct rt_result *res)
{
	char line[RT_LINE_SHOW + 8];
	const char *want = strerror(fault_errno(it->spec));

	grep_line(errpath, "ckpt run: ", line, sizeof(line));
	if (WEXITSTATUS(w->status) == 0) {
		if (strncmp(it->spec, "unlink:", 7) == 0)
			return 1;	/* cleanup may ignore it */
		if (!fault_reached(it->spec, trace))
			return 1;	/* the run needed fewer calls */
		snprintf(res->msg, sizeof(res->msg),
		    "injected fault %s was reached but ckpt run exited 0",
		    it->spec);
		return -1;
	}
	if (line[0] == '\0' || strstr(line, want) == NULL) {
		char first[RT_LINE_SHOW + 8];

		grep_line(errpath, NULL, first, sizeof(first));
		snprintf(res->msg, sizeof(res->msg),
		    "injected fault %s: ckpt run exited %d without a clear error (want a 'ckpt run: ...: %s' line)",
		    it->spec, WEXITSTATUS(w->status), want);
		snprintf(res->detail, sizeof(res->detail),
		    "first stderr line: %s", first[0] ? first : "(none)");
		return -1;
	}
	snprintf(res->detail, sizeof(res->detail), "error: %s", line);
	return 0;
}

static void
fail(struct rt_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct rt_result *res, const char *fmt, ...)
{
	va_list ap;

	res->status = RT_FAIL;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

/* Describes attempt a's ending into res->what. */
static void
note_attempt(struct rt_result *res, int a, const struct rt_item *it,
    const struct rt_wait *w, const char *how)
{
	cat(res->what, sizeof(res->what), "%s#%d %s", a > 0 ? "; " : "",
	    a + 1, how);
	if (it != NULL && it->type == RT_ITEM_TIME)
		cat(res->what, sizeof(res->what), " %.1f ms", it->ms);
	else if (it != NULL && it->type != RT_ITEM_NONE)
		cat(res->what, sizeof(res->what), " %s", it->spec);
	(void)w;
}

/*
 * Runs one attempt.  Returns 1 when the job finished (exit 0), 0 when
 * it crashed or failed as planned and must be restarted, -1 on a
 * failure (res filled).
 */
static int
run_attempt(const struct rt_config *cfg, const struct rt_case *c,
    const char *dir, const char *url, int a, const struct rt_item *it,
    struct rt_result *res)
{
	char out[RT_PATH_MAX + 32], errp[RT_PATH_MAX + 32];
	char trace[RT_PATH_MAX + 32], first[RT_LINE_SHOW + 8];
	char metrics[RT_PATH_MAX + 32];
	char why[900];
	struct rt_wait w;
	double start;
	pid_t pid;
	int sig;

	snprintf(out, sizeof(out), "%s/run-%d.out", dir, a + 1);
	snprintf(errp, sizeof(errp), "%s/run-%d.err", dir, a + 1);
	/*
	 * Every attempt traces its hits: tracing changes how the store
	 * splits writes (for store.mid_write), so occurrences counted by
	 * the reference only match in runs that trace too.
	 */
	if (c->kind == RT_REF)
		snprintf(trace, sizeof(trace), "%s/trace", dir);
	else
		snprintf(trace, sizeof(trace), "%s/run-%d.trace", dir, a + 1);
	snprintf(metrics, sizeof(metrics), "%s/run-%d.metrics", dir, a + 1);
	start = rt_now_ms();
	pid = spawn_run(cfg, c, url, it, out, errp, trace, metrics);
	if (pid < 0) {
		res->status = RT_ERROR;
		snprintf(res->msg, sizeof(res->msg), "cannot fork: %s",
		    strerror(errno));
		return -1;
	}
	wait_child(pid, start, it != NULL && it->type == RT_ITEM_TIME ?
	    it->ms : -1.0, cfg->timeout_ms, &w);
	res->attempts++;
	if (c->kind == RT_REF)
		res->ref_ms = w.ms;
	if (w.timed_out) {
		note_attempt(res, a, it, &w, "hung");
		fail(res, "attempt %d did not finish within %ld ms", a + 1,
		    cfg->timeout_ms);
		return -1;
	}
	if (WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0) {
		note_attempt(res, a, it, &w, it != NULL &&
		    it->type != RT_ITEM_NONE ? "finished before" :
		    "finished");
		if (it != NULL && it->type == RT_ITEM_FAULT) {
			struct rt_wait ok = w;

			if (check_fault_exit(it, &ok, errp, trace, res) < 0) {
				res->status = RT_FAIL;
				return -1;
			}
		}
		return 1;
	}
	if (WIFSIGNALED(w.status)) {
		sig = WTERMSIG(w.status);
		if (sig != SIGKILL || it == NULL || it->type == RT_ITEM_NONE ||
		    it->type == RT_ITEM_FAULT) {
			grep_line(errp, NULL, first, sizeof(first));
			note_attempt(res, a, it, &w, "died");
			fail(res, "attempt %d died of signal %d (%s)", a + 1,
			    sig, strsignal(sig));
			snprintf(res->detail, sizeof(res->detail),
			    "stderr: %s", first[0] ? first : "(empty)");
			return -1;
		}
		res->kills++;
		if (it->type == RT_ITEM_POINT)
			res->points_hit++;
		if (a == c->nitems - 1)
			res->target_hit = 1;
		note_attempt(res, a, it, &w, it->type == RT_ITEM_POINT ?
		    (c->power_loss ? "power cut at" : "crashed at") :
		    "killed at");
		if (verify_dir(url, 0, last_acked(metrics), why,
		    sizeof(why)) != 0) {
			fail(res, "after the crash of attempt %d the checkpoint does not verify",
			    a + 1);
			snprintf(res->detail, sizeof(res->detail), "%s", why);
			return -1;
		}
		return 0;
	}
	/* A non-zero exit: expected only with a fault armed. */
	grep_line(errp, "ckpt run: ", first, sizeof(first));
	if (first[0] == '\0')
		grep_line(errp, NULL, first, sizeof(first));
	if (WEXITSTATUS(w.status) == 127 &&
	    strncmp(first, "ckpt restore-test: cannot run", 29) == 0) {
		note_attempt(res, a, it, &w, "not started");
		res->status = RT_ERROR;
		snprintf(res->msg, sizeof(res->msg), "%s", first);
		return -1;
	}
	if (it == NULL || it->type != RT_ITEM_FAULT) {
		note_attempt(res, a, it, &w, "failed");
		fail(res, "attempt %d exited %d", a + 1,
		    WEXITSTATUS(w.status));
		snprintf(res->detail, sizeof(res->detail), "stderr: %s",
		    first[0] ? first : "(empty)");
		return -1;
	}
	note_attempt(res, a, it, &w, "failed on");
	if (check_fault_exit(it, &w, errp, trace, res) < 0) {
		res->status = RT_FAIL;
		return -1;
	}
	res->faults_hit++;
	res->target_hit = 1;
	if (verify_dir(url, 1, last_acked(metrics), why, sizeof(why)) !=
	    0) {
		fail(res, "after the injected fault %s the last good checkpoint does not verify",
		    it->spec);
		snprintf(res->detail, sizeof(res->detail), "%s", why);
		return -1;
	}
	return 0;
}

static void
run_case(const struct rt_config *cfg, const struct rt_case *c,
    const struct rt_case *ref, struct rt_result *res)
{
	char dir[RT_PATH_MAX], url[RT_PATH_MAX], rdir[RT_PATH_MAX];
	char a_path[RT_PATH_MAX + 32], b_path[RT_PATH_MAX + 32];
	double start = rt_now_ms();
	int a, r = 0;

	memset(res, 0, sizeof(*res));
	rt_case_paths(cfg, c, dir, sizeof(dir), url, sizeof(url));
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		res->status = RT_ERROR;
		snprintf(res->msg, sizeof(res->msg),
		    "cannot create '%.900s': %s", dir, strerror(errno));
		return;
	}
	for (a = 0; a < c->nitems + RT_RESTARTS; a++) {
		const struct rt_item *it = a < c->nitems ? &c->items[a] : NULL;

		r = run_attempt(cfg, c, dir, url, a, it, res);
		if (r != 0)
			break;
	}
	res->seconds = (rt_now_ms() - start) / 1e3;
	if (r < 0)
		return;
	if (r == 0) {
		fail(res, "the job did not finish after %d restarts",
		    RT_RESTARTS);
		return;
	}
	if (c->kind == RT_REF) {
		snprintf(a_path, sizeof(a_path), "%s/trace", dir);
		read_trace(a_path, res);
	}
	if (c->kind == RT_CRASH && !res->target_hit) {
		res->status = RT_SKIP;
		snprintf(res->msg, sizeof(res->msg),
		    "crash point %s never reached",
		    c->items[c->nitems - 1].spec);
	} else if (c->kind == RT_FAULT && res->faults_hit == 0) {
		res->status = RT_SKIP;
		snprintf(res->msg, sizeof(res->msg),
		    "fault %s never made ckpt run fail (not reached, or an unlink in cleanup, which may fail)",
		    c->items[0].spec);
	}
	if (dump_result(url, dir, res->msg, sizeof(res->msg)) != 0) {
		res->status = RT_FAIL;
		return;
	}
	if (c->kind == RT_REF)
		return;
	rt_case_paths(cfg, ref, rdir, sizeof(rdir), a_path, sizeof(a_path));
	snprintf(a_path, sizeof(a_path), "%s/state.txt", rdir);
	snprintf(b_path, sizeof(b_path), "%s/state.txt", dir);
	r = compare_files(a_path, b_path, "the state", res->detail,
	    sizeof(res->detail));
	if (r == 0) {
		snprintf(a_path, sizeof(a_path), "%s/output.txt", rdir);
		snprintf(b_path, sizeof(b_path), "%s/output.txt", dir);
		r = compare_files(a_path, b_path, "the output", res->detail,
		    sizeof(res->detail));
	}
	if (r > 0)
		fail(res, "the restored run diverges from the reference");
	else if (r < 0)
		res->status = RT_ERROR;
}

/*
 * The crash point attempt a of a case last passed before it was killed,
 * as "NAME:OCC", from its hit trace; -1 when it passed none.
 */
static int
last_point(const char *dir, int a, char *spec, size_t n)
{
	const char *const *names = ckpt_crash_point_names();
	unsigned long hits[RT_MAX_POINTS] = { 0 };
	char path[RT_PATH_MAX + 32], line[160];
	int last = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run-%d.trace", dir, a + 1);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "crash ", 6) != 0)
			continue;
		for (int i = 0; names[i] != NULL && i < RT_MAX_POINTS; i++)
			if (strcmp(names[i], line + 6) == 0) {
				hits[i]++;
				last = i;
				break;
			}
	}
	fclose(f);
	if (last < 0)
		return -1;
	snprintf(spec, n, "%s:%lu", names[last], hits[last]);
	return 0;
}

/*
 * A case with timed kills failed.  A timed kill cannot be replayed
 * exactly, so each one is replaced by the crash point its attempt last
 * passed (where the process stopped, give or take the work after that
 * point), and the new schedule is run once.  When it fails too, it is
 * the case's reproducing schedule; else the detail says so.  Not in
 * power-loss mode (a crash point there also cuts the power, which a
 * kill does not).
 */
static void
confirm_timed(const struct rt_config *cfg, const struct rt_case *c,
    const struct rt_case *ref, struct rt_result *res)
{
	char dir[RT_PATH_MAX], url[RT_PATH_MAX], dir2[RT_PATH_MAX];
	struct rt_case *c2;
	struct rt_result *r2;
	int timed = 0, ok = 1;

	for (int i = 0; i < c->nitems; i++)
		timed |= c->items[i].type == RT_ITEM_TIME;
	if (!timed || c->power_loss || res->status != RT_FAIL)
		return;
	c2 = malloc(sizeof(*c2));
	r2 = malloc(sizeof(*r2));
	if (c2 == NULL || r2 == NULL)
		goto out;
	rt_case_paths(cfg, c, dir, sizeof(dir), url, sizeof(url));
	*c2 = *c;
	if (c2->nitems > res->attempts)
		c2->nitems = res->attempts;	/* the rest never ran */
	for (int i = 0; i < c2->nitems && ok; i++) {
		struct rt_item *it = &c2->items[i];

		if (it->type != RT_ITEM_TIME)
			continue;
		ok = last_point(dir, i, it->spec, sizeof(it->spec)) == 0;
		it->type = RT_ITEM_POINT;
	}
	if (!ok)
		goto out;
	snprintf(c2->name, sizeof(c2->name), "%.80s-replay", c->name);
	run_case(cfg, c2, ref, r2);
	if (r2->status == RT_FAIL) {
		rt_schedule_text(c2, res->det_schedule,
		    sizeof(res->det_schedule));
	} else {
		cat(res->detail, sizeof(res->detail),
		    "%stimed kills: a replay at the crash points they "
		    "landed after (", res->detail[0] ? "\n" : "");
		rt_schedule_text(c2, res->detail, sizeof(res->detail));
		cat(res->detail, sizeof(res->detail),
		    ") passed; the command below replays the timing and may "
		    "need several runs");
	}
	rt_case_paths(cfg, c2, dir2, sizeof(dir2), url, sizeof(url));
	rt_rmtree(dir2);
	if (cfg->ckpt_base != NULL)
		rt_remove_checkpoint(url);
out:
	free(c2);
	free(r2);
}

void
rt_run_case(const struct rt_config *cfg, const struct rt_case *c,
    const struct rt_case *ref, struct rt_result *res)
{
	double start = rt_now_ms();

	run_case(cfg, c, ref, res);
	if (c->kind != RT_REF) {
		confirm_timed(cfg, c, ref, res);
		res->seconds = (rt_now_ms() - start) / 1e3;
	}
}
