/*
 * jobs.c - the table of jobs `ckpt run` knows, and its public view.
 *
 * Jobs are listed once, here, like format drivers; ckpt_run() finds a
 * job by name and `ckpt run --list` prints ckpt_job_get() for each.
 */
#include <string.h>

#include "job.h"

static const struct job_def *const job_table[] = {
	&job_wordcount, &job_window, &job_session, NULL
};

const struct job_def *
job_find(const char *name)
{
	for (int i = 0; name != NULL && job_table[i] != NULL; i++)
		if (strcmp(job_table[i]->name, name) == 0)
			return job_table[i];
	return NULL;
}

const struct job_def *const *
job_all(void)
{
	return job_table;
}

int
ckpt_job_count(void)
{
	return (int)(sizeof(job_table) / sizeof(job_table[0])) - 1;
}

int
ckpt_job_get(int i, struct ckpt_job_info *out)
{
	const struct job_def *j;

	if (i < 0 || i >= ckpt_job_count())
		return CKPT_FAILED;
	j = job_table[i];
	memset(out, 0, sizeof(*out));
	out->name = j->name;
	out->summary = j->summary;
	out->input = j->input;
	out->output = j->output;
	out->batch_ms = j->defaults.batch_ms;
	out->window_ms = j->defaults.window_ms;
	out->slide_ms = j->defaults.slide_ms;
	out->timeout_ms = j->defaults.timeout_ms;
	out->max_actions = j->defaults.max_actions;
	out->rate = j->defaults.rate;
	out->partitions = j->defaults.partitions;
	out->checkpoint_batches = j->defaults.ckpt_every;
	out->snapshot_every = j->defaults.snapshot_every;
	out->format_version = j->defaults.format_version;
	return CKPT_OK;
}
