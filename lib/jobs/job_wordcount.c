/*
 * job_wordcount.c - the wordcount job: running totals per word.
 *
 * The seed's socketTextStream wordcount: flatMap(split on blanks),
 * map(word -> 1), reduceByKey(+), kept as state across batches
 * (updateStateByKey with a sum).  Each batch outputs the new total of
 * every word it saw, in the order the words first appear in the batch.
 * Input is plain text; a line has no event time, so line i gets the
 * logical time i * 1000 / rate ms and batches hold rate * batch
 * interval lines.
 */
#include "job.h"

static int64_t
sum(int64_t a, int64_t b)
{
	return a + b;
}

const struct job_def job_wordcount = {
	.name = "wordcount",
	.summary = "running totals per word",
	.input = "text lines (words split on blanks)",
	.output = "WORD<TAB>TOTAL for each word of the batch "
	    "(first-seen order)",
	.timed = 0,
	.stage = eng_stage_words,
	.op = &eng_op_reduce,
	.op_name = "counts",
	.key_schema = "string",
	.reduce = sum,
	.inverse = NULL,
	.graph = "wordcount/1: flatMap(split blanks) map(word,1) "
	    "reduceByKey(+) state(+)",
	.defaults = {
		.batch_ms = 1000, .rate = 25, .partitions = 8,
		.ckpt_every = 10, .snapshot_every = 10, .format_version = 2,
	},
	.uses = JOB_USES_RATE,
};
