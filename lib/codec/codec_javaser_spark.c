/*
 * codec_javaser_spark.c - the two Spark objects ckpt reads out of Java
 * serialization, as callbacks over ckpt_jser_walk() (codec_javaser.c):
 * Spark 2.0's CompositeOffset (docs/spark-checkpoint-format.md section
 * 10 item 8) and the DStream Checkpoint (section 7.2, section 10 items
 * 4 and 13).
 *
 * Fields are found by where they sit (the frame stack of each event),
 * never by byte offsets, so a Checkpoint whose DStream graph holds any
 * user objects still decodes as long as the walk succeeds.  Time and
 * Duration values are the only J field of their objects
 * (org$apache$spark$streaming$Time$$millis); references to them carry
 * that value (has_long).  Nothing here allocates more than the walk
 * reports: the conf pairs are bounded by the array the stream declares.
 */
#include "codec_javaser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ---- Spark 2.0 CompositeOffset ---- */

#define COMPOSITE_CLASS "org.apache.spark.sql.execution.streaming.CompositeOffset"
#define LONG_OFFSET_CLASS "org.apache.spark.sql.execution.streaming.LongOffset"
#define COMPOSITE_MEMO 256

struct composite_arg {
	struct ckpt_jser_offset *out;
	size_t max, n;
	unsigned some_depth;	/* depth of the open Some, 0 if none */
	struct ckpt_jser_offset cur;
	uint32_t cur_handle;
	struct {
		uint32_t handle;
		struct ckpt_jser_offset off;
	} memo[COMPOSITE_MEMO];
	size_t nmemo;
	int seen_top;
	const char *what;
};

static void
composite_add(struct composite_arg *a, const struct ckpt_jser_offset *o)
{
	if (a->n < a->max)
		a->out[a->n] = *o;
	a->n++;
}

static int
composite_cb(void *arg, const struct ckpt_jser_event *ev,
	struct ckpt_error *err)
{
	struct composite_arg *a = arg;
	struct ckpt_jser_offset o;

	if (ev->depth == 1) {
		if (ev->type == CKPT_JSER_EV_OBJECT_END)
			return CKPT_OK;
		if (a->seen_top || ev->type != CKPT_JSER_EV_OBJECT ||
		    !streq(ev->class_name, COMPOSITE_CLASS))
			return ckpt_error_set(err, CKPT_E_FORMAT,
				"cannot decode '%s': not a CompositeOffset (%s)",
				a->what, ev->class_name ? ev->class_name :
				"no object");
		a->seen_top = 1;
		return CKPT_OK;
	}
	if (ev->depth < 2 || !streq(ev->frames[1].field, "offsets"))
		return CKPT_OK;
	memset(&o, 0, sizeof(o));
	if (a->some_depth == 0) {
		if ((ev->type == CKPT_JSER_EV_OBJECT ||
		    ev->type == CKPT_JSER_EV_REF) &&
		    streq(ev->class_name, "scala.None$")) {
			o.kind = CKPT_JSER_OFF_NONE;
			composite_add(a, &o);
		} else if (ev->type == CKPT_JSER_EV_OBJECT &&
		    streq(ev->class_name, "scala.Some")) {
			a->some_depth = ev->depth + 1;
			memset(&a->cur, 0, sizeof(a->cur));
			a->cur.kind = CKPT_JSER_OFF_OTHER;
			a->cur_handle = ev->handle;
		} else if (ev->type == CKPT_JSER_EV_REF &&
		    streq(ev->class_name, "scala.Some")) {
			for (size_t i = 0; i < a->nmemo; i++)
				if (a->memo[i].handle == ev->handle) {
					composite_add(a, &a->memo[i].off);
					return CKPT_OK;
				}
			o.kind = CKPT_JSER_OFF_OTHER;
			snprintf(o.class_name, sizeof(o.class_name), "%s",
				"scala.Some");
			composite_add(a, &o);
		}
		return CKPT_OK;
	}
	/* inside a Some: frames[some_depth-1] is the Some object */
	if (ev->depth == a->some_depth &&
	    (ev->type == CKPT_JSER_EV_OBJECT || ev->type == CKPT_JSER_EV_REF) &&
	    streq(ev->field, "x")) {
		snprintf(a->cur.class_name, sizeof(a->cur.class_name), "%s",
			ev->class_name ? ev->class_name : "");
		if (ev->type == CKPT_JSER_EV_REF && ev->has_long &&
		    streq(ev->class_name, LONG_OFFSET_CLASS)) {
			a->cur.kind = CKPT_JSER_OFF_LONG;
			a->cur.value = ev->ref_long;
		}
	} else if (ev->depth == a->some_depth + 1 &&
	    ev->type == CKPT_JSER_EV_PRIM && ev->prim == 'J' &&
	    streq(ev->frames[a->some_depth].class_name, LONG_OFFSET_CLASS) &&
	    streq(ev->field, "offset")) {
		a->cur.kind = CKPT_JSER_OFF_LONG;
		a->cur.value = ev->i;
	} else if (ev->depth == a->some_depth - 1 &&
	    ev->type == CKPT_JSER_EV_OBJECT_END &&
	    ev->handle == a->cur_handle) {
		composite_add(a, &a->cur);
		if (a->nmemo < COMPOSITE_MEMO) {
			a->memo[a->nmemo].handle = a->cur_handle;
			a->memo[a->nmemo++].off = a->cur;
		}
		a->some_depth = 0;
	}
	return CKPT_OK;
}

int
ckpt_jser_composite_offset(const void *buf, size_t len, const char *what,
	struct ckpt_jser_offset *out, size_t max, size_t *n,
	struct ckpt_error *err)
{
	struct composite_arg *a;
	int rc;

	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot decode '%s': out of memory", what ? what : "?");
	a->out = out;
	a->max = max;
	a->what = what ? what : "java serialization stream";
	rc = ckpt_jser_walk(buf, len, NULL, what, composite_cb, a, NULL, err);
	if (rc == CKPT_OK && !a->seen_top)
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot decode '%s': not a CompositeOffset (empty stream)",
			a->what);
	*n = rc == CKPT_OK ? a->n : 0;
	free(a);
	return rc;
}

/* ---- DStream Checkpoint ---- */

#define CHECKPOINT_CLASS "org.apache.spark.streaming.Checkpoint"
#define GRAPH_CLASS "org.apache.spark.streaming.DStreamGraph"

struct checkpoint_arg {
	struct ckpt_jser_checkpoint *cp;
	const char *what;
	int seen_top, done_top;
	size_t conf_cap;
};

static void
copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* A J value for the Time/Duration field name of the frame at fd. */
static int64_t *
checkpoint_time_slot(struct ckpt_jser_checkpoint *cp,
	const struct ckpt_jser_frame *fr, unsigned fd)
{
	const char *f = fr[fd].field;

	if (fd == 1) {
		if (streq(f, "checkpointTime"))
			return &cp->checkpoint_time_ms;
		if (streq(f, "checkpointDuration"))
			return &cp->checkpoint_duration_ms;
		return NULL;
	}
	if (fd == 2 && streq(fr[1].field, "graph") &&
	    streq(fr[2].class_name, GRAPH_CLASS)) {
		if (streq(f, "batchDuration"))
			return &cp->batch_duration_ms;
		if (streq(f, "zeroTime"))
			return &cp->zero_time_ms;
		if (streq(f, "startTime"))
			return &cp->start_time_ms;
	}
	return NULL;
}

static int
checkpoint_conf(struct checkpoint_arg *a, const struct ckpt_jser_event *ev,
	struct ckpt_error *err)
{
	struct ckpt_jser_checkpoint *cp = a->cp;
	int64_t i;
	char **slot;

	if (ev->type == CKPT_JSER_EV_ARRAY && ev->depth == 2) {
		if (cp->conf != NULL)
			return CKPT_OK;
		cp->conf = calloc((size_t)ev->length + 1, sizeof(*cp->conf));
		if (cp->conf == NULL)
			return ckpt_error_set(err, CKPT_E_NOMEM,
				"cannot decode '%s': out of memory", a->what);
		a->conf_cap = (size_t)ev->length;
		cp->n_conf = (size_t)ev->length;
		return CKPT_OK;
	}
	if (ev->type != CKPT_JSER_EV_STRING || ev->depth != 4 ||
	    ev->frames[2].kind != CKPT_JSER_FR_ARRAY)
		return CKPT_OK;
	i = ev->frames[2].index;
	if (i < 0 || (size_t)i >= a->conf_cap)
		return CKPT_OK;
	if (streq(ev->field, "_1"))
		slot = &cp->conf[i].key;
	else if (streq(ev->field, "_2"))
		slot = &cp->conf[i].value;
	else
		return CKPT_OK;
	if (*slot != NULL)
		return CKPT_OK;
	*slot = malloc(ev->str_len + 1);
	if (*slot == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
			"cannot decode '%s': out of memory", a->what);
	memcpy(*slot, ev->str, ev->str_len + 1);
	return CKPT_OK;
}

static void
checkpoint_stream(struct ckpt_jser_checkpoint *cp,
	const struct ckpt_jser_event *ev)
{
	const struct ckpt_jser_frame *fr = ev->frames;
	char (*list)[128];
	size_t *n;

	/* graph.{input,output}Streams: collection -> array -> element */
	if (ev->depth != 5 || fr[4].kind != CKPT_JSER_FR_ARRAY ||
	    !streq(fr[2].class_name, GRAPH_CLASS) ||
	    (ev->type != CKPT_JSER_EV_OBJECT && ev->type != CKPT_JSER_EV_REF))
		return;
	if (streq(fr[2].field, "inputStreams")) {
		list = cp->input_streams;
		n = &cp->n_input_streams;
	} else if (streq(fr[2].field, "outputStreams")) {
		list = cp->output_streams;
		n = &cp->n_output_streams;
	} else {
		return;
	}
	if (*n < CKPT_JSER_MAX_STREAMS)
		copy_str(list[*n], sizeof(list[0]), ev->class_name);
	(*n)++;
}

/*
 * Strings anywhere in the graph: RDD checkpoint paths (the values of
 * DStreamCheckpointData.data) and the JVM the call sites came from.
 */
static void
checkpoint_string(struct ckpt_jser_checkpoint *cp,
	const struct ckpt_jser_event *ev)
{
	const char *r;

	if (!cp->java9_callsites && strstr(ev->str, "java.base/") != NULL)
		cp->java9_callsites = 1;
	r = strstr(ev->str, "/rdd-");
	if (r == NULL || r[5] < '0' || r[5] > '9' || ev->str_len > 255)
		return;
	for (size_t i = 0; i < cp->n_rdd_refs &&
	    i < CKPT_JSER_MAX_RDD_REFS; i++)
		if (strcmp(cp->rdd_refs[i], ev->str) == 0)
			return;
	if (cp->n_rdd_refs < CKPT_JSER_MAX_RDD_REFS)
		copy_str(cp->rdd_refs[cp->n_rdd_refs], 256, ev->str);
	cp->n_rdd_refs++;
}

static int
checkpoint_cb(void *arg, const struct ckpt_jser_event *ev,
	struct ckpt_error *err)
{
	struct checkpoint_arg *a = arg;
	struct ckpt_jser_checkpoint *cp = a->cp;
	const struct ckpt_jser_frame *fr = ev->frames;
	int64_t *slot;
	int64_t i;

	if (ev->depth == 1) {
		if (ev->type == CKPT_JSER_EV_OBJECT_END) {
			a->done_top = 1;
			return CKPT_OK;
		}
		if (a->seen_top)
			return ckpt_error_set(err, CKPT_E_FORMAT,
				"cannot decode '%s': java serialization at offset %llu: data after the checkpoint object",
				a->what, (unsigned long long)ev->offset);
		if (ev->type != CKPT_JSER_EV_OBJECT ||
		    !streq(ev->class_name, CHECKPOINT_CLASS))
			return ckpt_error_set(err, CKPT_E_FORMAT,
				"cannot decode '%s': not a DStream checkpoint (%s)",
				a->what, ev->class_name ? ev->class_name :
				"no object");
		a->seen_top = 1;
		return CKPT_OK;
	}
	if (ev->depth == 2) {
		if (ev->type == CKPT_JSER_EV_STRING) {
			if (streq(ev->field, "checkpointDir"))
				copy_str(cp->checkpoint_dir,
					sizeof(cp->checkpoint_dir), ev->str);
			else if (streq(ev->field, "framework"))
				copy_str(cp->framework, sizeof(cp->framework),
					ev->str);
			else if (streq(ev->field, "master"))
				copy_str(cp->master, sizeof(cp->master),
					ev->str);
		} else if (ev->type == CKPT_JSER_EV_OBJECT &&
		    streq(ev->field, "graph")) {
			copy_str(cp->graph_class, sizeof(cp->graph_class),
				ev->class_name);
		} else if (ev->type == CKPT_JSER_EV_ARRAY &&
		    streq(ev->field, "pendingTimes")) {
			cp->n_pending = (size_t)ev->length;
			for (size_t k = 0; k < CKPT_JSER_MAX_PENDING; k++)
				cp->pending_times[k] = CKPT_NONE;
		}
	}
	if (ev->depth >= 2 && streq(fr[1].field, "sparkConfPairs"))
		return checkpoint_conf(a, ev, err);
	/* Time / Duration values: a J field one level down, or a reference */
	if (ev->type == CKPT_JSER_EV_PRIM && ev->prim == 'J' &&
	    ev->depth >= 3) {
		slot = checkpoint_time_slot(cp, fr, ev->depth - 2);
		if (slot != NULL && *slot == CKPT_NONE)
			*slot = ev->i;
	} else if (ev->type == CKPT_JSER_EV_REF && ev->has_long) {
		slot = checkpoint_time_slot(cp, fr, ev->depth - 1);
		if (slot != NULL && *slot == CKPT_NONE)
			*slot = ev->ref_long;
	}
	/* pendingTimes[i]: Time objects or references to them */
	if (ev->depth >= 3 && streq(fr[1].field, "pendingTimes") &&
	    fr[2].kind == CKPT_JSER_FR_ARRAY) {
		i = fr[2].index;
		if (i >= 0 && i < CKPT_JSER_MAX_PENDING) {
			if (ev->depth == 3 && ev->type == CKPT_JSER_EV_REF &&
			    ev->has_long)
				cp->pending_times[i] = ev->ref_long;
			else if (ev->depth == 4 &&
			    ev->type == CKPT_JSER_EV_PRIM && ev->prim == 'J' &&
			    cp->pending_times[i] == CKPT_NONE)
				cp->pending_times[i] = ev->i;
		}
	}
	checkpoint_stream(cp, ev);
	if (ev->type == CKPT_JSER_EV_STRING)
		checkpoint_string(cp, ev);
	return CKPT_OK;
}

int
ckpt_jser_checkpoint_decode(const void *buf, size_t len, const char *what,
	struct ckpt_jser_checkpoint *out, struct ckpt_error *err)
{
	struct checkpoint_arg a;
	int rc;

	memset(out, 0, sizeof(*out));
	out->checkpoint_time_ms = CKPT_NONE;
	out->checkpoint_duration_ms = CKPT_NONE;
	out->batch_duration_ms = CKPT_NONE;
	out->zero_time_ms = CKPT_NONE;
	out->start_time_ms = CKPT_NONE;
	out->serialized_bytes = len;
	memset(&a, 0, sizeof(a));
	a.cp = out;
	a.what = what ? what : "java serialization stream";
	rc = ckpt_jser_walk(buf, len, NULL, what, checkpoint_cb, &a, NULL, err);
	if (rc == CKPT_OK && !a.done_top)
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot decode '%s': no checkpoint object", a.what);
	if (rc == CKPT_OK && out->checkpoint_time_ms == CKPT_NONE)
		rc = ckpt_error_set(err, CKPT_E_FORMAT,
			"cannot decode '%s': checkpoint has no checkpointTime",
			a.what);
	if (rc != CKPT_OK)
		ckpt_jser_checkpoint_release(out);
	return rc;
}

void
ckpt_jser_checkpoint_release(struct ckpt_jser_checkpoint *cp)
{
	if (cp == NULL || cp->conf == NULL)
		return;
	for (size_t i = 0; i < cp->n_conf; i++) {
		free(cp->conf[i].key);
		free(cp->conf[i].value);
	}
	free(cp->conf);
	cp->conf = NULL;
	cp->n_conf = 0;
}

const char *
ckpt_jser_checkpoint_conf(const struct ckpt_jser_checkpoint *cp,
	const char *key)
{
	for (size_t i = 0; i < cp->n_conf; i++)
		if (streq(cp->conf[i].key, key))
			return cp->conf[i].value;
	return NULL;
}
