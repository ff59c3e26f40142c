/*
 * inspect.c - `ckpt inspect PATH`: look inside a checkpoint.
 *
 * Shows the job's metadata, one batch's offsets and commit (the restart
 * point unless --batch), and the state records of each operator decoded
 * through the schema stored in the checkpoint (--op, --partition, --key
 * and --version narrow them; --limit caps them).  --hex FILE instead
 * dumps one file of the checkpoint as hex, annotated with the regions
 * the format driver knows (header, blocks, footer, checksums).
 *
 * Records are streamed from the state iterators and files from a
 * reader: nothing is held beyond one record or one buffer.  Nothing
 * is changed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"

#define INSPECT_TEXT_LIMIT 20
#define NO_VALUE INT64_MIN

static const char *const inspect_usage[] = {
	"ckpt inspect [--batch N] [--op OP] [--partition P] [--key K] "
	"[--limit N] [--version V] [--hex FILE] PATH",
	"",
	"Show the metadata, a batch's offsets and commit, the schema and the",
	"decoded state records of a checkpoint, or dump one file as hex.",
	NULL
};

struct inspect {
	struct cli *cli;
	const char *path;
	struct ckpt *c;
	struct ckpt_info info;
	struct jw jw;
	int64_t batch, part, limit, version;
	const char *op, *key, *hex;
	char *key_quoted;	/* --key as a JSON string */
	char *key_canon;	/* --key as compact JSON, if it parses */
	uint64_t matches;
	int no_state;		/* --batch precedes every state checkpoint */
};

/* ---- hex dump ---- */

struct hex {
	struct inspect *in;
	struct ckpt_rfile *f;
	uint64_t pos;		/* next byte to print */
	uint64_t size;
	uint8_t buf[65536];
	size_t len, off;	/* buffered bytes, consumed of them */
	int eof;
	struct ckpt_error rerr;	/* a read failure */
	int failed;
};

static int
hex_byte(struct hex *h, uint8_t *b)
{
	size_t got;

	if (h->off == h->len) {
		if (h->eof || h->failed)
			return 0;
		if (ckpt_rfile_read(h->f, h->buf, sizeof(h->buf), &got,
		    &h->rerr) != CKPT_OK) {
			h->failed = 1;
			return 0;
		}
		if (got == 0) {
			h->eof = 1;
			return 0;
		}
		h->len = got;
		h->off = 0;
	}
	*b = h->buf[h->off++];
	return 1;
}

/* Prints bytes [h->pos, end) 16 to a line, hexdump -C style. */
static void
hex_dump_to(struct hex *h, uint64_t end)
{
	uint8_t line[16];
	size_t n, i;

	while (h->pos < end) {
		for (n = 0; n < 16 && h->pos + n < end; n++)
			if (!hex_byte(h, &line[n]))
				break;
		if (n == 0) {
			h->pos = end;
			return;
		}
		printf("%08" PRIx64 "  ", h->pos);
		for (i = 0; i < 16; i++) {
			if (i < n)
				printf("%02x ", line[i]);
			else
				fputs("   ", stdout);
			if (i == 7)
				putchar(' ');
		}
		fputs(" |", stdout);
		for (i = 0; i < n; i++)
			putchar(line[i] >= 0x20 && line[i] < 0x7f ?
				line[i] : '.');
		fputs("|\n", stdout);
		h->pos += n;
		if (n < 16 && h->pos < end)
			return;	/* end of file */
	}
}

static int
on_region(void *arg, const struct ckpt_region *r)
{
	struct hex *h = arg;
	struct cli *cli = h->in->cli;
	struct jw *w = &h->in->jw;

	if (cli->json) {
		jw_obj_begin(w);
		jw_key(w, "offset");
		jw_uint(w, r->offset);
		jw_key(w, "length");
		jw_uint(w, r->length);
		jw_key(w, "what");
		jw_str(w, r->what);
		jw_key(w, "note");
		jw_str(w, r->note);
		jw_key(w, "ok");
		if (r->ok < 0)
			jw_null(w);
		else
			jw_bool(w, r->ok);
		jw_obj_end(w);
		return 0;
	}
	if (r->offset > h->pos)
		hex_dump_to(h, r->offset);
	printf("%s== %s at %" PRIu64 ", %" PRIu64 " bytes", cli_color(cli,
		CLI_BOLD), r->what ? r->what : "region", r->offset, r->length);
	if (r->note != NULL && r->note[0] != '\0')
		printf(": %s", r->note);
	if (r->ok == 0)
		printf(" %s[BAD]", cli_color(cli, CLI_RED));
	else if (r->ok > 0)
		printf(" [ok]");
	printf("%s\n", cli_color(cli, CLI_RESET));
	if (r->offset >= h->pos)
		hex_dump_to(h, r->offset + r->length);
	return 0;
}

static int
inspect_hex(struct inspect *in, struct ckpt_error *err)
{
	struct ckpt_store *st = ckpt_get_store(in->c);
	struct ckpt_error rerr = { 0 };
	struct ckpt_stat sb;
	struct hex *h;
	int rc;

	rc = ckpt_store_stat(st, in->hex, &sb, err);
	if (rc != CKPT_OK)
		return rc;
	if (sb.is_dir)
		return ckpt_error_set(err, CKPT_E_USAGE,
			"cannot dump '%s': is a directory", in->hex);
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
	h->in = in;
	h->size = sb.size;
	if (in->cli->json) {
		cli_json_begin(in->cli, &in->jw);
		jw_key(&in->jw, "path");
		jw_str(&in->jw, in->path);
		jw_key(&in->jw, "file");
		jw_str(&in->jw, in->hex);
		jw_key(&in->jw, "size");
		jw_uint(&in->jw, sb.size);
		jw_key(&in->jw, "regions");
		jw_arr_begin(&in->jw);
	} else {
		rc = ckpt_store_open_read(st, in->hex, &h->f, err);
		if (rc != CKPT_OK)
			goto out;
		printf("file %s, %" PRIu64 " bytes\n", in->hex, sb.size);
	}
	rc = ckpt_file_regions(in->c, in->hex, on_region, h, &rerr);
	if (!in->cli->json)
		hex_dump_to(h, UINT64_MAX);
	if (h->failed) {
		*err = h->rerr;
		rc = CKPT_FAILED;
	} else if (rc != CKPT_OK && rerr.kind == CKPT_E_UNSUPPORTED) {
		cli_warning(in->cli, "%s", rerr.msg);
		rc = CKPT_OK;
	} else if (rc != CKPT_OK) {
		*err = rerr;
	}
	if (rc == CKPT_OK && in->cli->json)
		cli_json_end(in->cli);
out:
	ckpt_rfile_close(h->f);
	free(h);
	return rc;
}

/* ---- records ---- */

/* --key K as the JSON string "K", so a string key matches unquoted. */
static char *
quote_key(const char *k)
{
	size_t n = strlen(k), i, o = 0;
	char *q = malloc(6 * n + 3);

	if (q == NULL)
		return NULL;
	q[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];

		if (c == '"' || c == '\\') {
			q[o++] = '\\';
			q[o++] = (char)c;
		} else if (c == '\n') {
			q[o++] = '\\';
			q[o++] = 'n';
		} else if (c == '\t') {
			q[o++] = '\\';
			q[o++] = 't';
		} else if (c < 0x20) {
			o += (size_t)sprintf(q + o, "\\u%04x", c);
		} else {
			q[o++] = (char)c;
		}
	}
	q[o++] = '"';
	q[o] = '\0';
	return q;
}

/* The compact form of JSON text, or NULL if it does not parse. */
static char *
canonical_json(const char *text)
{
	cJSON *doc = cJSON_Parse(text);
	char *out;

	if (doc == NULL)
		return NULL;
	out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return out;
}

/*
 * --key K matches the key's JSON text exactly, K as a JSON string, or
 * K as JSON written with other spacing ({"a": 1} for {"a":1}).
 */
static int
key_matches(const struct inspect *in, const struct ckpt_record *r)
{
	char *canon;
	int same;

	if (in->key == NULL)
		return 1;
	if (r->key_json == NULL)
		return 0;
	if (strcmp(r->key_json, in->key) == 0 || (in->key_quoted != NULL &&
	    strcmp(r->key_json, in->key_quoted) == 0))
		return 1;
	if (in->key_canon == NULL)
		return 0;
	canon = canonical_json(r->key_json);
	same = canon != NULL && strcmp(canon, in->key_canon) == 0;
	free(canon);
	return same;
}

static void
print_record(struct inspect *in, const struct ckpt_record *r)
{
	struct jw *w = &in->jw;

	if (!in->cli->json) {
		printf("    [%d] %s => %s\n", r->partition,
			r->key_json ? r->key_json : "?",
			r->value_json ? r->value_json : "(deleted)");
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "partition");
	jw_int(w, r->partition);
	jw_key(w, "key");
	jw_json(w, r->key_json);
	jw_key(w, "value");
	jw_json(w, r->value_json);
	jw_obj_end(w);
}

/*
 * Prints the records of partitions [p0, p1) of op at version v, at most
 * limit (0: all); *truncated is set when more matched.
 */
static int
op_records(struct inspect *in, const struct ckpt_operator *op, int p0,
	int p1, int64_t v, uint64_t *shown, int *truncated,
	struct ckpt_error *err)
{
	struct ckpt_state_iter *it;
	struct ckpt_record r;
	int p, rc;

	for (p = p0; p < p1; p++) {
		it = NULL;
		rc = ckpt_state_open(in->c, op->index, p, v, 0, &it, err);
		if (rc != CKPT_OK)
			return rc;
		while ((rc = ckpt_state_next(it, &r, err)) == CKPT_OK) {
			if (!key_matches(in, &r))
				continue;
			if (in->limit > 0 && *shown >= (uint64_t)in->limit) {
				*truncated = 1;
				break;
			}
			print_record(in, &r);
			(*shown)++;
			in->matches++;
		}
		ckpt_state_close(it);
		if (rc != CKPT_OK && rc != CKPT_EOF)
			return rc;
		if (*truncated)
			break;
	}
	return CKPT_OK;
}

/* The state version shown: --version, else what a restart at --batch
 * (or at the restart point) loads. */
static int
pick_version(struct inspect *in, int64_t *v, struct ckpt_error *err)
{
	const struct ckpt_info *i = &in->info;

	*v = CKPT_NONE;
	if (in->version != NO_VALUE) {
		*v = in->version;
		return CKPT_OK;
	}
	if (in->batch == NO_VALUE || in->batch == i->restart_point)
		return CKPT_OK;
	if (strcmp(i->format, "native") == 0) {
		if (ckpt_native_state_base(in->c, in->batch, v, err) !=
		    CKPT_OK)
			return CKPT_FAILED;
		/* No state checkpoint yet at that batch: no state. */
		in->no_state = *v == CKPT_NONE;
		return CKPT_OK;
	}
	if (i->state_version != CKPT_NONE && i->restart_point != CKPT_NONE)
		*v = in->batch + (i->state_version - i->restart_point);
	return CKPT_OK;
}

static void
op_header(struct inspect *in, const struct ckpt_operator *op, int64_t v)
{
	struct jw *w = &in->jw;
	char a[CLI_FMT_MAX];
	int64_t shown = v;

	/* The restart's version, named rather than left implicit. */
	if (v == CKPT_NONE && !in->no_state && op->max_version != CKPT_NONE)
		shown = in->info.state_version;
	if (!in->cli->json) {
		printf("\noperator %d: %s%s%s (%s), %d partition%s\n",
			op->index, cli_color(in->cli, CLI_BOLD), op->name,
			cli_color(in->cli, CLI_RESET),
			op->type[0] ? op->type : "?", op->partitions,
			op->partitions == 1 ? "" : "s");
		printf("  key schema:   %s\n", op->key_schema ?
			op->key_schema : "-");
		printf("  value schema: %s\n", op->value_schema ?
			op->value_schema : "-");
		if (in->no_state)
			printf("  state at batch %" PRId64 ":\n", in->batch);
		else if (v == CKPT_NONE && shown == CKPT_NONE)
			printf("  state (as a restart loads it):\n");
		else if (v == CKPT_NONE)
			printf("  state at version %s (as a restart loads it):"
				"\n", cli_fmt_i64(a, shown));
		else
			printf("  state at version %s:\n", cli_fmt_i64(a, v));
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "index");
	jw_int(w, op->index);
	jw_key(w, "name");
	jw_str(w, op->name);
	jw_key(w, "type");
	jw_str(w, op->type[0] ? op->type : NULL);
	jw_key(w, "num_partitions");
	jw_int(w, op->partitions);
	jw_key(w, "key_schema");
	jw_json(w, op->key_schema);
	jw_key(w, "value_schema");
	jw_json(w, op->value_schema);
	jw_key(w, "version");
	jw_i64(w, shown);
	jw_key(w, "records");
	jw_arr_begin(w);
}

static int
show_operator(struct inspect *in, int index, int64_t v,
	struct ckpt_error *err)
{
	struct ckpt_operator op;
	uint64_t shown = 0;
	int p0 = 0, p1, truncated = 0, rc;

	memset(&op, 0, sizeof(op));
	rc = ckpt_operator_get(in->c, index, &op, err);
	if (rc != CKPT_OK)
		return rc;
	p1 = op.partitions;
	if (in->part != NO_VALUE) {
		if (in->part < 0 || in->part >= op.partitions) {
			rc = ckpt_error_set(err, CKPT_E_NOTFOUND,
				"operator '%s' has no partition %" PRId64
				" (it has %d)", op.name, in->part,
				op.partitions);
			goto out;
		}
		p0 = (int)in->part;
		p1 = p0 + 1;
	}
	if (in->version != NO_VALUE && (op.max_version == CKPT_NONE ||
	    v < op.min_version || v > op.max_version)) {
		char lo[CLI_FMT_MAX], hi[CLI_FMT_MAX];

		rc = ckpt_error_set(err, CKPT_E_NOTFOUND, "operator '%s' has "
			"no state version %" PRId64 " (it has %s..%s)", op.name,
			v, cli_fmt_i64(lo, op.min_version),
			cli_fmt_i64(hi, op.max_version));
		goto out;
	}
	op_header(in, &op, v);
	if ((op.max_version == CKPT_NONE || in->no_state) &&
	    in->version == NO_VALUE) {
		if (!in->cli->json)
			printf("    (no state)\n");
	} else {
		rc = op_records(in, &op, p0, p1, v, &shown, &truncated, err);
		if (rc != CKPT_OK)
			goto out;
	}
	if (in->cli->json) {
		jw_arr_end(&in->jw);
		jw_key(&in->jw, "truncated");
		jw_bool(&in->jw, truncated);
		jw_obj_end(&in->jw);
	} else if (truncated) {
		printf("    ... more records (use --limit 0 to show all)\n");
	} else if (shown == 0 && op.max_version != CKPT_NONE &&
	    !in->no_state) {
		printf("    (no records)\n");
	}
out:
	ckpt_operator_release(&op);
	return rc;
}

/* ---- metadata and batch ---- */

static void
text_json_block(const char *title, const char *json)
{
	struct jw w;

	printf("\n%s:\n", title);
	if (json == NULL) {
		printf("  (none)\n");
		return;
	}
	jw_init(&w, stdout, 2);
	fputs("  ", stdout);
	jw_json(&w, json);
	jw_finish(&w);
}

static int
show_head(struct inspect *in, const char *batch_json)
{
	const struct ckpt_info *i = &in->info;
	struct jw *w = &in->jw;
	char title[96];
	int uncommitted;

	if (in->cli->json) {
		jw_ckpt_identity(w, in->path, i);
		jw_key(w, "restart_point");
		jw_i64(w, i->restart_point);
		jw_key(w, "metadata");
		jw_json(w, i->metadata_json);
		jw_key(w, "batch");
		jw_json(w, batch_json);
		return CKPT_OK;
	}
	if (in->op != NULL || in->part != NO_VALUE || in->key != NULL)
		return CKPT_OK;
	printf("path:          %s\n", in->path);
	printf("format:        %s\n", i->kind[0] ? i->kind : i->format);
	printf("id:            %s\n", i->id[0] ? i->id : "-");
	printf("name:          %s\n", i->name[0] ? i->name : "-");
	text_json_block("metadata", i->metadata_json);
	if (batch_json == NULL) {
		printf("\nbatch: none\n");
		return CKPT_OK;
	}
	{
		/* The native driver says whether the batch committed. */
		cJSON *b = cJSON_Parse(batch_json);

		uncommitted = cJSON_IsFalse(cJSON_GetObjectItem(b,
			"committed"));
		cJSON_Delete(b);
	}
	snprintf(title, sizeof(title), "batch %" PRId64 "%s", in->batch,
		in->batch == i->restart_point ? " (restart point)" :
		uncommitted ? " (uncommitted)" : "");
	text_json_block(title, batch_json);
	return CKPT_OK;
}

static int
inspect_state(struct inspect *in, struct ckpt_error *err)
{
	char *batch_json = NULL;
	int64_t v;
	int i, one = -1, n, rc;

	if (in->op != NULL) {
		one = ckpt_operator_find(in->c, in->op);
		if (one < 0)
			return ckpt_error_set(err, CKPT_E_NOTFOUND,
				"no operator '%s' in '%s'", in->op, in->path);
	}
	if (in->batch != NO_VALUE) {
		rc = ckpt_batch_json(in->c, in->batch, &batch_json, err);
		if (rc != CKPT_OK)
			return rc;
	} else if (in->info.restart_point != CKPT_NONE) {
		/* The restart point may have no entry of its own (Spark 2.0
		 * keeps no commit log): then there is no batch to show. */
		in->batch = in->info.restart_point;
		rc = ckpt_batch_json(in->c, in->batch, &batch_json, err);
		if (rc != CKPT_OK && err->kind != CKPT_E_NOTFOUND)
			return rc;
		ckpt_error_clear(err);
	}
	rc = pick_version(in, &v, err);
	if (rc != CKPT_OK)
		goto out;
	if (in->cli->json)
		cli_json_begin(in->cli, &in->jw);
	show_head(in, batch_json);
	if (in->cli->json) {
		jw_key(&in->jw, "operators");
		jw_arr_begin(&in->jw);
	}
	n = ckpt_operator_count(in->c);
	for (i = 0; i < n && rc == CKPT_OK; i++)
		if (one < 0 || i == one)
			rc = show_operator(in, i, v, err);
	if (rc != CKPT_OK)
		goto out;
	if (in->key != NULL && in->matches == 0) {
		rc = ckpt_error_set(err, CKPT_E_NOTFOUND,
			"no record with key '%s'", in->key);
		goto out;
	}
	if (in->cli->json) {
		jw_arr_end(&in->jw);
		cli_json_end(in->cli);
	} else if (n <= 0) {
		printf("\n(no stateful operators)\n");
	}
out:
	free(batch_json);
	return rc;
}

int
cmd_inspect(struct cli *cli, int argc, char **argv)
{
	struct inspect in;
	const struct option opts[] = {
		OPT_INT('b', "batch", &in.batch, "N",
			"the batch to show (default: the restart point)"),
		OPT_STRING(0, "op", &in.op, "OP",
			"only this operator (name or index)"),
		OPT_INT('p', "partition", &in.part, "P",
			"only this partition"),
		OPT_STRING('k', "key", &in.key, "K",
			"only records whose key is K (its JSON text, or a "
			"string)"),
		OPT_INT('n', "limit", &in.limit, "N",
			"at most N records per operator, 0 for all "
			"(default: 20; all with --json)"),
		OPT_INT(0, "version", &in.version, "V",
			"state at version V (default: what a restart loads)"),
		OPT_STRING(0, "hex", &in.hex, "FILE",
			"dump FILE (relative to PATH) as annotated hex"),
		OPT_END(),
	};
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	int n, status, rc, info_ok = 0;

	memset(&in, 0, sizeof(in));
	in.cli = cli;
	in.batch = in.part = in.version = in.limit = NO_VALUE;
	n = opt_parse(cli, argc, argv, opts, inspect_usage, 0);
	if (n != 1)
		opt_usage_error(cli, inspect_usage, n == 0 ? "missing PATH" :
			"too many arguments");
	if (in.limit == NO_VALUE)
		in.limit = cli->json ? 0 : INSPECT_TEXT_LIMIT;
	if (in.limit < 0)
		opt_usage_error(cli, inspect_usage,
			"option '--limit' must not be negative");
	in.path = argv[0];
	if (in.key != NULL && (in.key_quoted = quote_key(in.key)) == NULL)
		return cli_errorf(cli, CKPT_E_NOMEM, "out of memory");
	if (in.key != NULL)
		in.key_canon = canonical_json(in.key);
	status = cli_ctx_new(cli, &ctx);
	if (status != EXIT_OK)
		goto out_free;
	rc = ckpt_open(ctx, in.path, &in.c, &err);
	if (rc != CKPT_OK)
		goto out_ctx;
	rc = ckpt_info_get(in.c, &in.info, &err);
	if (rc != CKPT_OK)
		goto out_close;
	info_ok = 1;
	in.path = ckpt_store_url(ckpt_get_store(in.c));
	cli_verbose(cli, 1, "reading '%s' (%s, %s backend)", in.path,
		in.info.kind, ckpt_store_backend(ckpt_get_store(in.c)));
	if (in.hex != NULL)
		rc = inspect_hex(&in, &err);
	else
		rc = inspect_state(&in, &err);
out_close:
	if (info_ok)
		ckpt_info_release(&in.info);
	ckpt_close(in.c);
out_ctx:
	status = rc == CKPT_OK ? EXIT_OK : cli_error(cli, &err);
	ckpt_ctx_free(ctx);
out_free:
	free(in.key_quoted);
	free(in.key_canon);
	return status;
}
