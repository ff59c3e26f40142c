/*
 * restore_test.h - pieces of `ckpt restore-test` shared by its files.
 *
 * restore_test.c parses options, plans the cases of each job from its
 * reference run and runs them in worker processes (-j);
 * cmd_restore_report.c prints them (text, TAP, JUnit, JSON);
 * cmd_restore_run.c runs one case in a worker: it forks and execs
 * `ckpt run`, kills it (SIGKILL after a delay, or a crash point armed
 * through the environment), restarts it,
 * checks the directory after each crash and compares the final state
 * and output with the reference.  Nothing here is used by other
 * commands.
 */
#ifndef CKPT_RESTORE_TEST_H
#define CKPT_RESTORE_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/ckpt.h"

#define RT_PATH_MAX 1024
#define RT_MAX_ITEMS 8		/* armed attempts per case */
#define RT_MAX_POINTS 64	/* crash points known to the library */
#define RT_NFOPS 6		/* write fsync rename link mkdir unlink */

extern const char *const rt_job_names[];	/* NULL-terminated */
extern const char *const rt_fault_ops[];	/* RT_NFOPS names */
/* Index in rt_fault_ops of the len-byte name, or -1. */
int rt_fop_index(const char *name, size_t len);

/* What arms one attempt of a case. */
enum rt_item_type {
	RT_ITEM_NONE = 0,
	RT_ITEM_TIME,		/* SIGKILL from the harness after ms */
	RT_ITEM_POINT,		/* CKPT_CRASH_POINT=spec */
	RT_ITEM_FAULT		/* CKPT_FAULT=spec */
};

struct rt_item {
	enum rt_item_type type;
	double ms;
	char spec[96];		/* "commit.after_entry:3", "write:EIO:7" */
};

enum rt_kind { RT_REF = 0, RT_KILLS, RT_CRASH, RT_FAULT };

struct rt_case {
	int id;			/* 1-based: TAP number */
	int job;		/* index in rt_job_names */
	enum rt_kind kind;
	int power_loss;		/* crash points also cut the power */
	int nitems;
	struct rt_item items[RT_MAX_ITEMS];	/* attempt i is armed by i */
	char name[96];		/* directory name, unique in the root */
	char label[160];	/* what the case is, for reports */
};

enum rt_status { RT_PASS = 0, RT_FAIL, RT_SKIP, RT_ERROR };

/* What a worker reports back (written whole to a file, read by the
 * parent: fixed-size fields only). */
struct rt_result {
	int status;		/* enum rt_status */
	int attempts;
	int kills;		/* processes that died of SIGKILL */
	int points_hit;		/* crash points that fired */
	int faults_hit;		/* attempts that failed on an injected fault */
	int target_hit;		/* the case's last item fired */
	double seconds;
	double ref_ms;		/* reference: wall time of the run */
	unsigned long point_hits[RT_MAX_POINTS];	/* reference trace */
	unsigned long fop_hits[RT_NFOPS];
	char what[512];		/* what happened: "killed at 12.3 ms, ..." */
	char msg[1024];		/* failure or skip reason */
	char detail[2048];	/* first difference, stderr lines */
	/*
	 * A failed case with timed kills: the same schedule with each
	 * timed kill replaced by the crash point it landed after, when a
	 * replay of that schedule failed too (else empty).  The
	 * reproducing command uses it: it does not depend on timing.
	 */
	char det_schedule[256];
};

/* Settings every worker needs (read-only after planning). */
struct rt_config {
	const char *exe;		/* the ckpt binary (/proc/self/exe) */
	char root[RT_PATH_MAX];		/* temp root of all runs */
	const char *ckpt_base;		/* --checkpoint URL, or NULL */
	const char *input;		/* --input FILE, or NULL */
	int64_t events;
	uint64_t seed;
	int power_loss;
	long timeout_ms;		/* per attempt */
	int verify_state;		/* post-crash verify reads state */
};

/* ---- the command's own state (restore_test.c) ---- */

struct cli;

enum rt_format { F_TEXT = 0, F_TAP, F_JUNIT, F_JSON };

struct rt_opts {
	const char *job;
	int64_t kills;
	int64_t seed;
	int64_t events;
	const char *input;
	const char *checkpoint;
	int64_t jobs;
	const char *crash_points;
	int io_faults;
	int power_loss;
	const char *kill_at;
	const char *fault_at;
	const char *format;
	int keep;
	int list;
};

/* One planned case and, once run, its result. */
struct rt_slot {
	struct rt_case c;
	struct rt_result res;
	pid_t pid;
	int done;
	int reported;
};

struct rt {
	struct cli *cli;
	struct rt_opts o;
	struct rt_config cfg;
	enum rt_format fmt;
	int seed_given;
	int jobs[3];
	int njobs;
	struct rt_slot *refs[3];	/* per job index */
	struct rt_slot **slots;		/* cases in report order */
	size_t nslots, capslots, next_report;
	size_t id_base;			/* slots before the first case */
	int interrupted;
	int refs_detached;		/* refs[] no longer in slots[] */
	/* totals */
	unsigned passed, failed, skipped, errors;
	unsigned long kills, points, faults, kill_cases;
	char unreached[3][1024];
	double started;
	const char *test_bug;		/* CKPT_TEST_BUG, for repro lines */
};

/* ---- cmd_restore_report.c ---- */

/* Appends the case's schedule ("12.5ms,commit.after_entry:3") to buf. */
void rt_schedule_text(const struct rt_case *c, char *buf, size_t n);
/* Text and TAP: the report of one finished case (others: nothing). */
void rt_report_case(struct rt *rt, struct rt_slot *s);
/* The header (text, TAP) before the first case. */
void rt_report_header(struct rt *rt);
/* The end: TAP plan, summary lines, or the whole JUnit/JSON report. */
void rt_report_summary(struct rt *rt, int kept);

/* ---- cmd_restore_run.c ---- */

/* Milliseconds of CLOCK_MONOTONIC. */
double rt_now_ms(void);

/* Checkpoint URL and directory of a case (cmd_restore_run.c). */
void rt_case_paths(const struct rt_config *cfg, const struct rt_case *c,
	char *dir, size_t dlen, char *url, size_t ulen);

/*
 * Runs case c to the end in the calling process (a worker) and fills
 * *res.  ref is the job's reference case (its directory holds
 * state.txt and output.txt).  Never exits.
 */
void rt_run_case(const struct rt_config *cfg, const struct rt_case *c,
	const struct rt_case *ref, struct rt_result *res);

/* Removes a directory tree (no symlinks followed); 0 or -1. */
int rt_rmtree(const char *path);
/* Removes a case's checkpoint at url (any store); 0 or -1. */
int rt_remove_checkpoint(const char *url);

#endif /* CKPT_RESTORE_TEST_H */
