/*
 * job.h - the jobs ckpt run knows, as data (private to lib/).
 *
 * A job is a composition of the engine's pieces (lib/engine/engine.h):
 * one stateless stage (flatMap/map/filter) turning input lines into
 * records, one stateful operator with the job's functions plugged in
 * (the reduce function, its inverse, a state update function), the
 * schemas its state is checkpointed with, and its default parameters.
 * Jobs are listed once, in job_table[] in jobs.c, and looked up by name
 * like format drivers (docs/STYLE.md, "Driver tables").  Nothing here
 * runs a job; lib/engine/engine.c does.
 */
#ifndef CKPT_JOB_H
#define CKPT_JOB_H

#include "../engine/engine.h"

struct job_def {
	const char *name;
	const char *summary;		/* one line for --list */
	const char *input;		/* the input line format */
	const char *output;		/* the output line format */
	int timed;			/* input lines carry an event time */
	eng_stage_fn stage;		/* flatMap/map/filter */
	const struct eng_op_ops *op;	/* the stateful operator */
	const char *op_name;		/* its name in the checkpoint */
	const char *key_schema;
	/* reduceByKey and window: the reduce function and its inverse */
	int64_t (*reduce)(int64_t a, int64_t b);
	int64_t (*inverse)(int64_t a, int64_t b);
	/*
	 * Operator graph, hashed into the fingerprint: a change to it
	 * makes old checkpoints incompatible (bump it with the code).
	 */
	const char *graph;
	struct eng_params defaults;
	/* which of window/slide/timeout/max_actions the job uses */
	unsigned uses;
};

#define JOB_USES_WINDOW		0x1u
#define JOB_USES_TIMEOUT	0x2u
#define JOB_USES_ACTIONS	0x4u
#define JOB_USES_RATE		0x8u

extern const struct job_def job_wordcount;
extern const struct job_def job_window;
extern const struct job_def job_session;

/* The job named name, or NULL. */
const struct job_def *job_find(const char *name);
/* NULL-terminated list of every job, in --list order. */
const struct job_def *const *job_all(void);

/* 16 hex digits and a NUL. */
#define JOB_FINGERPRINT_LEN	17
/*
 * The fingerprint of j (jobs_fingerprint.c): XXH3 of its operator graph
 * (eng_hash) as 16 lowercase hex digits.
 */
void job_fingerprint(const struct job_def *j, char out[JOB_FINGERPRINT_LEN]);

#endif /* CKPT_JOB_H */
