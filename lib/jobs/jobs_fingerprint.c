/*
 * jobs_fingerprint.c - the fingerprint of a job's operator graph.
 *
 * The engine writes it into the metadata of every checkpoint it starts
 * and refuses to restore one whose fingerprint differs; ckpt migrate
 * (rename-operator) writes the one the engine would compute.  Both call
 * job_fingerprint() so the two can never drift apart.  This file does
 * not compare fingerprints or read checkpoints.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "job.h"

void
job_fingerprint(const struct job_def *j, char out[JOB_FINGERPRINT_LEN])
{
	uint64_t h = eng_hash(j->graph, strlen(j->graph));

	snprintf(out, JOB_FINGERPRINT_LEN, "%016" PRIx64, h);
}
