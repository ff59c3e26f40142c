/*
 * job_window.c - the window job: counts per key over a sliding window.
 *
 * The seed's reduceByKeyAndWindow(_ + _, _ - _, Minutes(10), Seconds(30)):
 * map(event -> (key, 1)), then the engine's windowed reduce with + as
 * the reduce function and - as its inverse.  At the end of every slide
 * it outputs the count of every key in the window ending there; keys
 * whose count falls to zero are dropped from the state.
 */
#include "job.h"

static int64_t
add(int64_t a, int64_t b)
{
	return a + b;
}

static int64_t
sub(int64_t a, int64_t b)
{
	return a - b;
}

const struct job_def job_window = {
	.name = "window",
	.summary = "counts per key over a sliding window (inverse function)",
	.input = "EVENT_TIME_MS<TAB>KEY[<TAB>VALUE]",
	.output = "WINDOW_END_MS<TAB>KEY<TAB>COUNT at the end of each slide",
	.timed = 1,
	.stage = eng_stage_event,
	.op = &eng_op_window,
	.op_name = "window",
	.key_schema = "string",
	.reduce = add,
	.inverse = sub,
	.graph = "window/1: map(parse TIME KEY) filter(well-formed) "
	    "map(key,1) reduceByKeyAndWindow(+,-,window,slide) "
	    "filter(count!=0)",
	.defaults = {
		.batch_ms = 10000, .window_ms = 10 * 60 * 1000,
		.slide_ms = 30000, .partitions = 8, .ckpt_every = 6,
		.snapshot_every = 10, .format_version = 2,
	},
	.uses = JOB_USES_WINDOW,
};
