/*
 * test_store.c - the store contract suite, written against the public
 * API only so that it can run against every backend.  store_fixture()
 * is the one place that knows the backend (the local file backend
 * here); a few tests that need to plant things behind the store's back
 * (symlinks, a directory of 50,000 entries, a torn lock file) say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#define ROOT "store"

/* Opens the store under test (created empty) with a fresh context. */
static struct ckpt_store *
store_fixture(struct ckpt_ctx **ctxp, unsigned flags)
{
	struct ckpt_error err = {0};
	struct ckpt_store *st = NULL;

	*ctxp = NULL;
	if (ckpt_ctx_new(ctxp, &err) != CKPT_OK) {
		fprintf(stderr, "  ctx: %s\n", err.msg);
		abort();
	}
	if (ckpt_store_open(*ctxp, ROOT, flags | CKPT_STORE_CREATE, &st,
	    &err) != CKPT_OK) {
		fprintf(stderr, "  open: %s\n", err.msg);
		abort();
	}
	return st;
}

static void
fixture_close(struct ckpt_store *st, struct ckpt_ctx *ctx)
{
	ckpt_store_close(st);
	ckpt_ctx_free(ctx);
}

/* Collects listed names, joined by ' ', stopping after limit (0: all). */
struct collect {
	char names[8192];
	size_t n;
	size_t limit;
	char last[CKPT_NAME_MAX];
	int dirs;
	uint64_t sizes;
};

static int
collect_cb(void *arg, const struct ckpt_stat *ent)
{
	struct collect *c = arg;
	size_t len = strlen(c->names);

	snprintf(c->names + len, sizeof(c->names) - len, "%s%s",
	    len ? " " : "", ent->name);
	snprintf(c->last, sizeof(c->last), "%s", ent->name);
	c->dirs += ent->is_dir;
	c->sizes += ent->size;
	c->n++;
	return c->limit != 0 && c->n >= c->limit;
}

static const char *
list_names(struct ckpt_store *st, const char *dir,
    enum ckpt_list_order order, const char *after, struct collect *c)
{
	struct ckpt_error err = {0};

	memset(c, 0, sizeof(*c));
	if (ckpt_store_list(st, dir, order, after, collect_cb, c, &err) !=
	    CKPT_OK) {
		snprintf(c->names, sizeof(c->names), "ERROR %s", err.msg);
		unit_failures++;
	}
	return c->names;
}

/* Number of entries in dir whose name starts with '.' (temp files). */
static int
count_dot_entries(struct ckpt_store *st, const char *dir)
{
	struct collect c;
	int n = 0;
	const char *p;

	list_names(st, dir, CKPT_LIST_NAME, NULL, &c);
	for (p = c.names; *p; p++)
		if (*p == '.' && (p == c.names || p[-1] == ' '))
			n++;
	return n;
}

DEFINE_TEST(test_store_roundtrip)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_rfile *rf = NULL;
	struct ckpt_wfile *wf = NULL;
	struct ckpt_stat sb;
	static unsigned char big[1 << 20], back[1 << 20];
	char *all = NULL;
	size_t len = 0, got, total;

	CHECK_STR(ckpt_store_backend(st), "file");
	CHECK_STR(ckpt_store_url(st), ROOT);
	CHECK_OK(ckpt_store_write_atomic(st, "a.txt", 0, "hello", 5, &err));
	CHECK_OK(ckpt_store_read_all(st, "a.txt", 100, &all, &len, &err));
	CHECK_EQ_INT(len, 5);
	CHECK_STR(all, "hello");
	free(all);
	all = NULL;
	/* overwrite replaces */
	CHECK_OK(ckpt_store_write_atomic(st, "a.txt", 0, "bye", 3, &err));
	CHECK_OK(ckpt_store_read_all(st, "a.txt", 100, &all, &len, &err));
	CHECK_STR(all, "bye");
	free(all);
	all = NULL;
	/* empty file */
	CHECK_OK(ckpt_store_write_atomic(st, "empty", 0, "", 0, &err));
	CHECK_OK(ckpt_store_read_all(st, "empty", 100, &all, &len, &err));
	CHECK_EQ_INT(len, 0);
	CHECK(all != NULL && all[0] == '\0');
	free(all);
	all = NULL;
	/* a large file in pieces, nested directories created */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 31 + (i >> 9));
	CHECK_OK(ckpt_store_create(st, "d1/d2/d3/big.bin", 0, &wf, &err));
	for (size_t off = 0; off < sizeof(big); off += 1000) {
		size_t n = sizeof(big) - off < 1000 ? sizeof(big) - off : 1000;

		CHECK_OK(ckpt_wfile_write(wf, big + off, n, &err));
	}
	CHECK_EQ_INT(ckpt_wfile_size(wf), sizeof(big));
	CHECK_OK(ckpt_wfile_commit(wf, &err));
	CHECK_OK(ckpt_store_stat(st, "d1/d2/d3/big.bin", &sb, &err));
	CHECK_EQ_INT(sb.size, sizeof(big));
	CHECK_EQ_INT(sb.is_dir, 0);
	CHECK_STR(sb.name, "big.bin");
	CHECK(sb.mtime_ms > 1000000000000LL);
	CHECK_OK(ckpt_store_stat(st, "d1/d2", &sb, &err));
	CHECK_EQ_INT(sb.is_dir, 1);
	CHECK_OK(ckpt_store_stat(st, "", &sb, &err));
	CHECK_EQ_INT(sb.is_dir, 1);
	CHECK_OK(ckpt_store_open_read(st, "d1/d2/d3/big.bin", &rf, &err));
	CHECK_EQ_INT(ckpt_rfile_size(rf), sizeof(big));
	total = 0;
	for (;;) {
		CHECK_OK(ckpt_rfile_read(rf, back + total,
		    total + 7777 > sizeof(back) ? sizeof(back) - total : 7777,
		    &got, &err));
		if (got == 0)
			break;
		total += got;
		if (total == sizeof(back)) {
			CHECK_OK(ckpt_rfile_read(rf, back, 1, &got, &err));
			CHECK_EQ_INT(got, 0);
			break;
		}
	}
	ckpt_rfile_close(rf);
	CHECK_EQ_INT(total, sizeof(big));
	CHECK(memcmp(big, back, sizeof(big)) == 0);
	/* ranges */
	CHECK_OK(ckpt_store_read_range(st, "d1/d2/d3/big.bin", 12345, back,
	    100, &got, &err));
	CHECK_EQ_INT(got, 100);
	CHECK(memcmp(back, big + 12345, 100) == 0);
	CHECK_OK(ckpt_store_read_range(st, "d1/d2/d3/big.bin",
	    sizeof(big) - 10, back, 100, &got, &err));
	CHECK_EQ_INT(got, 10);
	CHECK_OK(ckpt_store_read_range(st, "d1/d2/d3/big.bin",
	    sizeof(big) + 10, back, 100, &got, &err));
	CHECK_EQ_INT(got, 0);
	/* read_all bound */
	CHECK_FAILS(ckpt_store_read_all(st, "d1/d2/d3/big.bin", 1000, &all,
	    &len, &err), CKPT_E_FORMAT);
	CHECK(strstr(err.msg, "too large") != NULL);
	CHECK(all == NULL);
	/* no temp files left anywhere */
	CHECK_EQ_INT(count_dot_entries(st, ""), 0);
	CHECK_EQ_INT(count_dot_entries(st, "d1/d2/d3"), 0);
	/* remove: files, empty dirs, missing paths */
	CHECK_OK(ckpt_store_remove(st, "d1/d2/d3/big.bin", &err));
	CHECK_OK(ckpt_store_remove(st, "d1/d2/d3", &err));
	CHECK_OK(ckpt_store_remove(st, "d1/d2/d3", &err));
	CHECK_OK(ckpt_store_remove(st, "no/such/file", &err));
	CHECK_OK(ckpt_store_sync_dir(st, "d1/d2", &err));
	CHECK_FAILS(ckpt_store_stat(st, "d1/d2/d3", &sb, &err),
	    CKPT_E_NOTFOUND);
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_missing_paths)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_rfile *rf = NULL;
	struct ckpt_stat sb;
	struct collect c;
	char *all = NULL;
	size_t len, got;
	char b[4];

	CHECK_FAILS(ckpt_store_stat(st, "nope", &sb, &err), CKPT_E_NOTFOUND);
	CHECK(strstr(err.msg, "nope") != NULL);
	CHECK_FAILS(ckpt_store_open_read(st, "nope", &rf, &err),
	    CKPT_E_NOTFOUND);
	CHECK(rf == NULL);
	CHECK_FAILS(ckpt_store_open_read(st, "x/y/nope", &rf, &err),
	    CKPT_E_NOTFOUND);
	CHECK_FAILS(ckpt_store_read_all(st, "nope", 10, &all, &len, &err),
	    CKPT_E_NOTFOUND);
	CHECK_FAILS(ckpt_store_read_range(st, "nope", 0, b, 4, &got, &err),
	    CKPT_E_NOTFOUND);
	CHECK_FAILS(ckpt_store_list(st, "nope", CKPT_LIST_NAME, NULL,
	    collect_cb, &c, &err), CKPT_E_NOTFOUND);
	/* a directory is not a file, a file not a directory */
	CHECK_OK(ckpt_store_write_atomic(st, "d/f", 0, "x", 1, &err));
	CHECK_FAILS(ckpt_store_open_read(st, "d", &rf, &err), CKPT_E_IO);
	memset(&c, 0, sizeof(c));
	ckpt_error_clear(&err);
	CHECK(ckpt_store_list(st, "d/f", CKPT_LIST_NAME, NULL, collect_cb,
	    &c, &err) != CKPT_OK);
	CHECK(err.msg[0] != '\0');
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_open_errors)
{
	struct ckpt_error err = {0};
	struct ckpt_store *st = NULL;
	char want[600];

	CHECK_FAILS(ckpt_store_open(NULL, "missing-dir", CKPT_STORE_RDONLY,
	    &st, &err), CKPT_E_NOTFOUND);
	snprintf(want, sizeof(want),
	    "cannot open 'missing-dir': %s", strerror(ENOENT));
	CHECK_STR(err.msg, want);
	CHECK(st == NULL);
	unit_write_file("plain", "x", 1);
	CHECK_FAILS(ckpt_store_open(NULL, "plain", CKPT_STORE_RDONLY, &st,
	    &err), CKPT_E_NOTCKPT);
	CHECK_STR(err.msg, "'plain' is not a directory");
	CHECK_FAILS(ckpt_store_open(NULL, "hdfs://nn:8020/ckpt",
	    CKPT_STORE_RDONLY, &st, &err), CKPT_E_UNSUPPORTED);
	CHECK_STR(err.msg,
	    "hdfs:// is not supported: copy the checkpoint out first (hdfs dfs -get)");
	CHECK_FAILS(ckpt_store_open(NULL, "s3://bucket/prefix",
	    CKPT_STORE_RDONLY, &st, &err), CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "not built yet") != NULL);
	CHECK_FAILS(ckpt_store_open(NULL, "ck.tar.zst", CKPT_STORE_RDONLY,
	    &st, &err), CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "not built yet") != NULL);
	CHECK_FAILS(ckpt_store_open(NULL, "ck.zip", CKPT_STORE_RDONLY, &st,
	    &err), CKPT_E_UNSUPPORTED);
	CHECK_FAILS(ckpt_store_open(NULL, "gopher://x/y", CKPT_STORE_RDONLY,
	    &st, &err), CKPT_E_UNSUPPORTED);
	CHECK_FAILS(ckpt_store_open(NULL, "", CKPT_STORE_RDONLY, &st, &err),
	    CKPT_E_USAGE);
	CHECK_FAILS(ckpt_store_open(NULL, "file://otherhost/x",
	    CKPT_STORE_RDONLY, &st, &err), CKPT_E_UNSUPPORTED);
}

DEFINE_TEST(test_store_open_urls)
{
	struct ckpt_error err = {0};
	struct ckpt_store *st = NULL;
	char url[4400];
	char *all = NULL;
	size_t len;

	/* CREATE makes the whole root path */
	CHECK_OK(ckpt_store_open(NULL, "x/y z/root", CKPT_STORE_RDWR |
	    CKPT_STORE_CREATE, &st, &err));
	CHECK_OK(ckpt_store_write_atomic(st, "f", 0, "abc", 3, &err));
	ckpt_store_close(st);
	st = NULL;
	/* the same directory as a file:// URL, percent-encoded */
	snprintf(url, sizeof(url), "file://%s/x/y%%20z/root", unit_tmpdir);
	CHECK_OK(ckpt_store_open(NULL, url, CKPT_STORE_RDONLY, &st, &err));
	if (st != NULL) {
		CHECK_STR(ckpt_store_backend(st), "file");
		CHECK_OK(ckpt_store_read_all(st, "f", 10, &all, &len, &err));
		CHECK_STR(all, "abc");
		free(all);
		/* read-only: no writes, no lock */
		CHECK_FAILS(ckpt_store_write_atomic(st, "g", 0, "x", 1, &err),
		    CKPT_E_USAGE);
		ckpt_store_close(st);
	}
	snprintf(url, sizeof(url), "file://localhost%s/x/y%%20z/root",
	    unit_tmpdir);
	st = NULL;
	CHECK_OK(ckpt_store_open(NULL, url, CKPT_STORE_RDONLY, &st, &err));
	ckpt_store_close(st);
	/* a directory that happens to end in .tar is still a directory */
	CHECK(mkdir("dir.tar", 0755) == 0);
	st = NULL;
	CHECK_OK(ckpt_store_open(NULL, "dir.tar", CKPT_STORE_RDONLY, &st,
	    &err));
	ckpt_store_close(st);
	ckpt_store_close(NULL);
}

DEFINE_TEST(test_store_path_validation)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	static const char *const bad[] = { "/etc/passwd", "..", "../x",
		"a/../b", "a/..", "a//b", "a/", "/", ".", "./a", "a/./b",
		NULL };
	struct ckpt_rfile *rf = NULL;
	struct ckpt_wfile *wf = NULL;
	struct ckpt_stat sb;
	struct collect c;
	char longname[300];

	for (int i = 0; bad[i] != NULL; i++) {
		CHECK_FAILS(ckpt_store_open_read(st, bad[i], &rf, &err),
		    CKPT_E_USAGE);
		CHECK_FAILS(ckpt_store_create(st, bad[i], 0, &wf, &err),
		    CKPT_E_USAGE);
		CHECK_FAILS(ckpt_store_stat(st, bad[i], &sb, &err),
		    CKPT_E_USAGE);
		CHECK_FAILS(ckpt_store_remove(st, bad[i], &err),
		    CKPT_E_USAGE);
		CHECK_FAILS(ckpt_store_list(st, bad[i], CKPT_LIST_NAME, NULL,
		    collect_cb, &c, &err), CKPT_E_USAGE);
	}
	CHECK_FAILS(ckpt_store_open_read(st, "", &rf, &err), CKPT_E_USAGE);
	CHECK_FAILS(ckpt_store_create(st, "", 0, &wf, &err), CKPT_E_USAGE);
	CHECK_FAILS(ckpt_store_remove(st, "", &err), CKPT_E_USAGE);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_FAILS(ckpt_store_create(st, longname, 0, &wf, &err),
	    CKPT_E_USAGE);
	/* nothing escaped the root */
	CHECK(access("../etc", F_OK) != 0);
	/* names with dots that are not "." or ".." are fine */
	CHECK_OK(ckpt_store_write_atomic(st, "...", 0, "x", 1, &err));
	CHECK_OK(ckpt_store_write_atomic(st, "..a/.b", 0, "x", 1, &err));
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_symlink_not_followed)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_rfile *rf = NULL;
	struct ckpt_stat sb;
	struct collect c;
	char *all = NULL;
	size_t len, got;
	char b[8];

	/* planted behind the store's back: links to outside the root */
	unit_write_file("secret", "secret!", 7);
	CHECK(mkdir("outside", 0755) == 0);
	unit_write_file("outside/f", "out", 3);
	CHECK_OK(ckpt_store_write_atomic(st, "real", 0, "r", 1, &err));
	CHECK(symlink("../secret", ROOT "/link") == 0);
	CHECK(symlink("../outside", ROOT "/dirlink") == 0);
	CHECK_STR(list_names(st, "", CKPT_LIST_NAME, NULL, &c),
	    "dirlink link real");
	CHECK_EQ_INT(c.dirs, 0);
	CHECK_EQ_INT(c.sizes, 1);
	CHECK_OK(ckpt_store_stat(st, "link", &sb, &err));
	CHECK_EQ_INT(sb.size, 0);
	CHECK_EQ_INT(sb.is_dir, 0);
	CHECK_OK(ckpt_store_stat(st, "dirlink", &sb, &err));
	CHECK_EQ_INT(sb.is_dir, 0);
	CHECK_FAILS(ckpt_store_open_read(st, "link", &rf, &err),
	    CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "is a symbolic link: not followed") != NULL);
	CHECK(strstr(err.msg, "link") != NULL);
	CHECK_FAILS(ckpt_store_read_all(st, "link", 100, &all, &len, &err),
	    CKPT_E_UNSUPPORTED);
	CHECK_FAILS(ckpt_store_read_range(st, "link", 0, b, 8, &got, &err),
	    CKPT_E_UNSUPPORTED);
	CHECK_FAILS(ckpt_store_open_read(st, "dirlink/f", &rf, &err),
	    CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "is a symbolic link: not followed") != NULL);
	CHECK_FAILS(ckpt_store_stat(st, "dirlink/f", &sb, &err),
	    CKPT_E_UNSUPPORTED);
	memset(&c, 0, sizeof(c));
	CHECK_FAILS(ckpt_store_list(st, "dirlink", CKPT_LIST_NAME, NULL,
	    collect_cb, &c, &err), CKPT_E_UNSUPPORTED);
	/* writing through a linked directory is refused too */
	CHECK_FAILS(ckpt_store_write_atomic(st, "dirlink/new", 0, "x", 1,
	    &err), CKPT_E_UNSUPPORTED);
	CHECK(access("outside/new", F_OK) != 0);
	/* replacing a symlink replaces the link, not its target */
	CHECK_OK(ckpt_store_write_atomic(st, "link", 0, "mine", 4, &err));
	all = unit_read_file("secret", &len);
	CHECK(all != NULL && len == 7 && memcmp(all, "secret!", 7) == 0);
	free(all);
	/* a FIFO lists as a file and is refused without blocking */
	CHECK(mkfifo(ROOT "/fifo", 0644) == 0);
	CHECK_OK(ckpt_store_stat(st, "fifo", &sb, &err));
	CHECK_EQ_INT(sb.is_dir, 0);
	CHECK_EQ_INT(sb.size, 0);
	CHECK_FAILS(ckpt_store_open_read(st, "fifo", &rf, &err),
	    CKPT_E_UNSUPPORTED);
	CHECK(strstr(err.msg, "not a regular file") != NULL);
	CHECK_FAILS(ckpt_store_open_read(st, "fifo/x", &rf, &err), CKPT_E_IO);
	/* removing a symlink removes the link only */
	CHECK_OK(ckpt_store_remove(st, "dirlink", &err));
	CHECK(access("outside/f", F_OK) == 0);
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_name_cmp)
{
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "2", "10") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NAME, "2", "10") > 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "10", "10") == 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "99", "abc") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "abc", "99") > 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "abc", "abd") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "7", "007") != 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "7", "8") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "007", "8") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "3.delta", "3.snapshot") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "3.snapshot", "12.delta") < 0);
	/* longer than any integer type */
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "99999999999999999999999999",
	    "100000000000000000000000000") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "000000000000000000000000001",
	    "2") < 0);
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "0", "00") != 0);
	/* antisymmetric */
	CHECK(ckpt_name_cmp(CKPT_LIST_NUMERIC, "007", "7") ==
	    -ckpt_name_cmp(CKPT_LIST_NUMERIC, "7", "007") ||
	    (ckpt_name_cmp(CKPT_LIST_NUMERIC, "007", "7") > 0) !=
	    (ckpt_name_cmp(CKPT_LIST_NUMERIC, "7", "007") > 0));
}

DEFINE_TEST(test_store_list_order)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	static const char *const names[] = { "10", "2", "1", "abc", "007",
		"7", "01a", "a1", "100000000000000000000", "9.delta",
		"Zed", NULL };
	struct collect c;

	for (int i = 0; names[i] != NULL; i++)
		CHECK_OK(ckpt_store_write_atomic(st, names[i], 0, "x", 1,
		    &err));
	CHECK_OK(ckpt_store_write_atomic(st, "sub/x", 0, "x", 1, &err));
	/* equal numbers: the rest decides ("" first), then leading zeros */
	CHECK_STR(list_names(st, "", CKPT_LIST_NUMERIC, NULL, &c),
	    "1 01a 2 007 7 9.delta 10 100000000000000000000 Zed a1 abc sub");
	CHECK_EQ_INT(c.dirs, 1);
	CHECK_STR(list_names(st, "", CKPT_LIST_NAME, NULL, &c),
	    "007 01a 1 10 100000000000000000000 2 7 9.delta Zed a1 abc sub");
	/* after: strictly greater, in the order asked */
	CHECK_STR(list_names(st, "", CKPT_LIST_NUMERIC, "007", &c),
	    "7 9.delta 10 100000000000000000000 Zed a1 abc sub");
	CHECK_STR(list_names(st, "", CKPT_LIST_NUMERIC, "8", &c),
	    "9.delta 10 100000000000000000000 Zed a1 abc sub");
	CHECK_STR(list_names(st, "", CKPT_LIST_NAME, "a1", &c), "abc sub");
	CHECK_STR(list_names(st, "", CKPT_LIST_NAME, "zzz", &c), "");
	CHECK_EQ_INT(c.n, 0);
	/* paging: K at a time with the last name as cursor */
	{
		char all[9000] = "", cursor[CKPT_NAME_MAX] = "";
		int pages = 0;

		for (;;) {
			memset(&c, 0, sizeof(c));
			c.limit = 3;
			CHECK_OK(ckpt_store_list(st, "", CKPT_LIST_NUMERIC,
			    pages ? cursor : NULL, collect_cb, &c, &err));
			if (c.n == 0)
				break;
			CHECK(c.n <= 3);
			snprintf(all + strlen(all), sizeof(all) - strlen(all),
			    "%s%s", all[0] ? " " : "", c.names);
			snprintf(cursor, sizeof(cursor), "%s", c.last);
			if (++pages > 10)
				break;
		}
		CHECK_EQ_INT(pages, 4);
		CHECK_STR(all,
		    "1 01a 2 007 7 9.delta 10 100000000000000000000 Zed a1 abc sub");
	}
	/* an empty directory */
	CHECK_OK(ckpt_store_write_atomic(st, "e/x", 0, "x", 1, &err));
	CHECK_OK(ckpt_store_remove(st, "e/x", &err));
	CHECK_STR(list_names(st, "e", CKPT_LIST_NAME, NULL, &c), "");
	fixture_close(st, ctx);
}

struct order_check {
	enum ckpt_list_order order;
	char prev[CKPT_NAME_MAX];
	long n;
	int bad;
	long stop_at;
};

static int
order_cb(void *arg, const struct ckpt_stat *ent)
{
	struct order_check *o = arg;

	if (o->n > 0 && ckpt_name_cmp(o->order, o->prev, ent->name) >= 0)
		o->bad++;
	snprintf(o->prev, sizeof(o->prev), "%s", ent->name);
	o->n++;
	return o->stop_at != 0 && o->n >= o->stop_at;
}

/* 50,000 entries: several passes of the window, each name once, sorted. */
DEFINE_TEST(test_store_list_large_dir)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct order_check o;
	char name[64];
	int fd;

	/* planted directly: 50,000 durable writes would test fsync speed */
	CHECK(mkdir(ROOT "/big", 0755) == 0);
	for (int i = 0; i < 50000; i++) {
		/* scrambled creation order, some non-numeric names */
		int k = (int)(((long)i * 7919) % 50000);

		if (k % 1000 == 999)
			snprintf(name, sizeof(name), ROOT "/big/x%d", k);
		else
			snprintf(name, sizeof(name), ROOT "/big/%d", k);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	memset(&o, 0, sizeof(o));
	o.order = CKPT_LIST_NUMERIC;
	CHECK_OK(ckpt_store_list(st, "big", CKPT_LIST_NUMERIC, NULL, order_cb,
	    &o, &err));
	CHECK_EQ_INT(o.n, 50000);
	CHECK_EQ_INT(o.bad, 0);
	CHECK_STR(o.prev, "x9999");
	memset(&o, 0, sizeof(o));
	o.order = CKPT_LIST_NAME;
	CHECK_OK(ckpt_store_list(st, "big", CKPT_LIST_NAME, NULL, order_cb,
	    &o, &err));
	CHECK_EQ_INT(o.n, 50000);
	CHECK_EQ_INT(o.bad, 0);
	/* start in the middle, stop early */
	memset(&o, 0, sizeof(o));
	o.order = CKPT_LIST_NUMERIC;
	o.stop_at = 20000;
	CHECK_OK(ckpt_store_list(st, "big", CKPT_LIST_NUMERIC, "20000",
	    order_cb, &o, &err));
	CHECK_EQ_INT(o.n, 20000);
	CHECK_EQ_INT(o.bad, 0);
	memset(&o, 0, sizeof(o));
	o.order = CKPT_LIST_NUMERIC;
	CHECK_OK(ckpt_store_list(st, "big", CKPT_LIST_NUMERIC, "30000",
	    order_cb, &o, &err));
	/* 30001..49999 minus the x names among them, plus all 50 x names */
	CHECK_EQ_INT(o.n, 19999 - 20 + 50);
	CHECK_EQ_INT(o.bad, 0);
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_interrupt)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	volatile int flag = 1;
	struct collect c;

	ckpt_ctx_set_interrupt(ctx, &flag);
	CHECK_FAILS(ckpt_store_list(st, "", CKPT_LIST_NAME, NULL, collect_cb,
	    &c, &err), CKPT_E_INTERRUPTED);
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_excl_and_abort)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_wfile *wf = NULL;
	struct collect c;
	char *all = NULL;
	size_t len;

	CHECK_OK(ckpt_store_write_atomic(st, "commits/0", CKPT_WRITE_EXCL,
	    "first", 5, &err));
	CHECK_FAILS(ckpt_store_write_atomic(st, "commits/0", CKPT_WRITE_EXCL,
	    "second", 6, &err), CKPT_E_EXISTS);
	CHECK(strstr(err.msg, "commits/0") != NULL);
	CHECK_OK(ckpt_store_read_all(st, "commits/0", 100, &all, &len, &err));
	CHECK_STR(all, "first");
	free(all);
	CHECK_EQ_INT(count_dot_entries(st, "commits"), 0);
	/* two open writers, one target: exactly one EXCL commit wins */
	{
		struct ckpt_wfile *a = NULL, *b = NULL;

		CHECK_OK(ckpt_store_create(st, "commits/1", CKPT_WRITE_EXCL,
		    &a, &err));
		CHECK_OK(ckpt_store_create(st, "commits/1", CKPT_WRITE_EXCL,
		    &b, &err));
		CHECK_OK(ckpt_wfile_write(a, "A", 1, &err));
		CHECK_OK(ckpt_wfile_write(b, "B", 1, &err));
		CHECK_OK(ckpt_wfile_commit(b, &err));
		CHECK_FAILS(ckpt_wfile_commit(a, &err), CKPT_E_EXISTS);
		CHECK_OK(ckpt_store_read_all(st, "commits/1", 100, &all,
		    &len, &err));
		CHECK_STR(all, "B");
		free(all);
	}
	/* two handles of one process writing one name at once */
	{
		struct ckpt_store *st2 = NULL;
		struct ckpt_wfile *a = NULL, *b = NULL;

		CHECK_OK(ckpt_store_open(ctx, ROOT, CKPT_STORE_RDWR, &st2,
		    &err));
		CHECK_OK(ckpt_store_create(st, "same", 0, &a, &err));
		CHECK_OK(ckpt_store_create(st2, "same", 0, &b, &err));
		CHECK_OK(ckpt_wfile_write(a, "a", 1, &err));
		CHECK_OK(ckpt_wfile_write(b, "b", 1, &err));
		CHECK_OK(ckpt_wfile_commit(a, &err));
		CHECK_OK(ckpt_wfile_commit(b, &err));
		CHECK_OK(ckpt_store_read_all(st, "same", 10, &all, &len,
		    &err));
		CHECK_STR(all, "b");
		free(all);
		CHECK_OK(ckpt_store_remove(st, "same", &err));
		ckpt_store_close(st2);
	}
	/* abort leaves nothing: neither target nor temp */
	CHECK_OK(ckpt_store_create(st, "commits/2", 0, &wf, &err));
	CHECK_OK(ckpt_wfile_write(wf, "partial", 7, &err));
	CHECK_EQ_INT(count_dot_entries(st, "commits"), 1);
	ckpt_wfile_abort(wf);
	CHECK_STR(list_names(st, "commits", CKPT_LIST_NUMERIC, NULL, &c),
	    "0 1");
	ckpt_wfile_abort(NULL);
	/* nothing is visible before commit */
	CHECK_OK(ckpt_store_create(st, "late", 0, &wf, &err));
	CHECK_OK(ckpt_wfile_write(wf, "z", 1, &err));
	CHECK_STR(list_names(st, "", CKPT_LIST_NAME, "commits", &c), "");
	CHECK_OK(ckpt_wfile_commit(wf, &err));
	CHECK_STR(list_names(st, "", CKPT_LIST_NAME, "commits", &c), "late");
	fixture_close(st, ctx);
}

static int
write_twice(struct ckpt_store *st, const char *path, unsigned flags,
    const char *data, size_t n, struct ckpt_error *err)
{
	struct ckpt_wfile *wf = NULL;

	if (ckpt_store_create(st, path, flags, &wf, err) != CKPT_OK)
		return CKPT_FAILED;
	if (ckpt_wfile_write(wf, data, n / 2, err) != CKPT_OK ||
	    ckpt_wfile_write(wf, data + n / 2, n - n / 2, err) != CKPT_OK) {
		ckpt_wfile_abort(wf);
		return CKPT_FAILED;
	}
	return ckpt_wfile_commit(wf, err);
}

/* Runs one write under CKPT_FAULT=plan; checks kind and no leftovers. */
static void
fault_case(const char *plan, const char *path, unsigned flags, int kind,
    const char *msg_part)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st;
	struct ckpt_stat sb;
	static char data[200000];
	const char *slash = strrchr(path, '/');
	char dir[256] = "";

	if (slash != NULL)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	memset(data, 'd', sizeof(data));
	setenv("CKPT_FAULT", plan, 1);
	st = store_fixture(&ctx, CKPT_STORE_RDWR);
	unsetenv("CKPT_FAULT");
	/* two writes of 100,000 bytes: two write(2) calls */
	CHECK_FAILS(write_twice(st, path, flags, data, sizeof(data), &err),
	    kind);
	if (msg_part != NULL && strstr(err.msg, msg_part) == NULL) {
		unit_failures++;
		fprintf(stderr, "  %s: message '%s' lacks '%s'\n", plan,
		    err.msg, msg_part);
	}
	/* the message names the file (or, for mkdir, the directory) */
	if (strstr(err.msg, strncmp(plan, "mkdir", 5) ? path : "new") ==
	    NULL) {
		unit_failures++;
		fprintf(stderr, "  %s: message '%s' does not name '%s'\n",
		    plan, err.msg, path);
	}
	ckpt_error_clear(&err);
	if (ckpt_store_stat(st, path, &sb, &err) != CKPT_E_NOTFOUND &&
	    err.kind != CKPT_E_NOTFOUND) {
		unit_failures++;
		fprintf(stderr, "  %s: target '%s' exists after a fault\n",
		    plan, path);
	}
	if (ckpt_store_stat(st, dir, &sb, &err) == CKPT_OK)
		CHECK_EQ_INT(count_dot_entries(st, dir), 0);
	/* the plan fired once: the next write goes through */
	ckpt_error_clear(&err);
	CHECK_OK(ckpt_store_write_atomic(st, path, flags, data, sizeof(data),
	    &err));
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_fault_injection)
{
	char nospc[256], eio[256];

	snprintf(nospc, sizeof(nospc), "%s", strerror(ENOSPC));
	snprintf(eio, sizeof(eio), "%s", strerror(EIO));
	fault_case("write:ENOSPC", "a/f1", 0, CKPT_E_NOSPACE, nospc);
	fault_case("write:ENOSPC:2", "a/f2", 0, CKPT_E_NOSPACE, nospc);
	fault_case("write:EIO", "f3", 0, CKPT_E_IO, eio);
	fault_case("write:SHORT", "b/c/f4", 0, CKPT_E_NOSPACE, nospc);
	fault_case("fsync:EIO", "f5", 0, CKPT_E_IO, "cannot fsync");
	fault_case("rename:EIO", "d/f6", 0, CKPT_E_IO, "cannot rename");
	fault_case("link:ENOSPC", "d/f7", CKPT_WRITE_EXCL, CKPT_E_NOSPACE,
	    nospc);
	fault_case("mkdir:ENOSPC", "new/dir/f8", 0, CKPT_E_NOSPACE,
	    "cannot create directory");
	/* fsync 1 is the file's; the 2nd (its directory's) fails after
	 * the rename: the target is there but the commit reports failure */
	{
		struct ckpt_error err = {0};
		struct ckpt_ctx *ctx;
		struct ckpt_store *st;

		setenv("CKPT_FAULT", "fsync:EIO:2", 1);
		st = store_fixture(&ctx, CKPT_STORE_RDWR);
		unsetenv("CKPT_FAULT");
		CHECK_FAILS(ckpt_store_write_atomic(st, "g", 0, "x", 1, &err),
		    CKPT_E_IO);
		CHECK(strstr(err.msg, "directory") != NULL);
		fixture_close(st, ctx);
	}
	/* unlink faults surface from remove */
	{
		struct ckpt_error err = {0};
		struct ckpt_ctx *ctx;
		struct ckpt_store *st;
		struct ckpt_stat sb;

		setenv("CKPT_FAULT", "unlink:EIO", 1);
		st = store_fixture(&ctx, CKPT_STORE_RDWR);
		unsetenv("CKPT_FAULT");
		CHECK_OK(ckpt_store_write_atomic(st, "h", 0, "x", 1, &err));
		CHECK_FAILS(ckpt_store_remove(st, "h", &err), CKPT_E_IO);
		CHECK_OK(ckpt_store_stat(st, "h", &sb, &err));
		CHECK_OK(ckpt_store_remove(st, "h", &err));
		fixture_close(st, ctx);
	}
}

/* A writer killed at a store crash point leaves the documented state. */
static void
crash_case(const char *point, int target_exists, int temp_exists)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st;
	struct ckpt_stat sb;
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv("CKPT_CRASH_POINT", point, 1);
		st = store_fixture(&ctx, CKPT_STORE_RDWR);
		ckpt_store_write_atomic(st, "c/file", 0, "0123456789", 10,
		    &err);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	st = store_fixture(&ctx, CKPT_STORE_RDWR);
	CHECK_EQ_INT(ckpt_store_stat(st, "c/file", &sb, &err) == CKPT_OK,
	    target_exists);
	if (target_exists)
		CHECK_EQ_INT(sb.size, 10);
	CHECK_EQ_INT(count_dot_entries(st, "c"), temp_exists);
	fixture_close(st, ctx);
	CHECK(system("rm -rf " ROOT) == 0);
}

DEFINE_TEST(test_store_crash_points)
{
	crash_case("store.mid_write", 0, 1);
	crash_case("store.before_fsync", 0, 1);
	crash_case("store.before_rename", 0, 1);
	crash_case("store.before_dir_fsync", 1, 0);
}

DEFINE_TEST(test_store_lock_basic)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_lock *lk = NULL, *lk2 = NULL;
	struct ckpt_lock_info li;
	char host[128];

	CHECK_EQ_INT(ckpt_store_lock_holder(st, &li, &err), CKPT_EOF);
	CHECK_OK(ckpt_store_lock(st, "ckpt test", &lk, &err));
	CHECK(lk != NULL);
	CHECK_OK(ckpt_store_lock_holder(st, &li, &err));
	CHECK_EQ_INT(li.pid, getpid());
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	CHECK_STR(li.host, host);
	CHECK_STR(li.what, "ckpt test");
	CHECK(li.since_ms > 1000000000000LL);
	/* the same process cannot take it twice */
	CHECK_FAILS(ckpt_store_lock(st, "again", &lk2, &err), CKPT_E_LOCKED);
	CHECK(lk2 == NULL);
	ckpt_lock_release(lk);
	CHECK_EQ_INT(ckpt_store_lock_holder(st, &li, &err), CKPT_EOF);
	CHECK_EQ_INT(count_dot_entries(st, ""), 0);
	/* a "what" with quotes survives the JSON round trip */
	CHECK_OK(ckpt_store_lock(st, "say \"hi\"\\", &lk, &err));
	CHECK_OK(ckpt_store_lock_holder(st, &li, &err));
	CHECK_STR(li.what, "say \"hi\"\\");
	ckpt_lock_release(lk);
	ckpt_lock_release(NULL);
	fixture_close(st, ctx);
}

DEFINE_TEST(test_store_lock_conflict_and_takeover)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_lock *lk = NULL;
	struct ckpt_lock_info li;
	int pfd[2], status;
	char want[200], c;
	pid_t pid;

	CHECK(pipe(pfd) == 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct ckpt_ctx *cctx;
		struct ckpt_store *cst;
		struct ckpt_lock *clk = NULL;

		close(pfd[0]);
		cst = store_fixture(&cctx, CKPT_STORE_RDWR);
		if (ckpt_store_lock(cst, "ckpt run wordcount", &clk, &err) !=
		    CKPT_OK)
			_exit(1);
		if (write(pfd[1], "L", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	CHECK_FAILS(ckpt_store_lock(st, "ckpt prune", &lk, &err),
	    CKPT_E_LOCKED);
	snprintf(want, sizeof(want), "'%s' is locked by pid %ld on ", ROOT,
	    (long)pid);
	CHECK(strncmp(err.msg, want, strlen(want)) == 0);
	CHECK(strstr(err.msg, " since 20") != NULL);
	CHECK(strstr(err.msg, "Z (ckpt run wordcount)") != NULL);
	CHECK_OK(ckpt_store_lock_holder(st, &li, &err));
	CHECK_EQ_INT(li.pid, pid);
	/* the holder dies without releasing: its lock is taken over */
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_OK(ckpt_store_lock(st, "ckpt prune", &lk, &err));
	CHECK_OK(ckpt_store_lock_holder(st, &li, &err));
	CHECK_EQ_INT(li.pid, getpid());
	CHECK_STR(li.what, "ckpt prune");
	{
		struct collect cl;

		CHECK_STR(list_names(st, "", CKPT_LIST_NAME, NULL, &cl),
		    "lock");
	}
	ckpt_lock_release(lk);
	fixture_close(st, ctx);
}

/* A lock file torn by a crash (empty) is taken over once it is old. */
DEFINE_TEST(test_store_lock_torn)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_lock *lk = NULL;
	struct ckpt_lock_info li;
	struct timespec old[2];

	/* planted: what a crash during a plain O_EXCL create could leave */
	unit_write_file(ROOT "/lock", "", 0);
	CHECK_FAILS(ckpt_store_lock(st, "x", &lk, &err), CKPT_E_LOCKED);
	CHECK_FAILS(ckpt_store_lock_holder(st, &li, &err), CKPT_E_FORMAT);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 60;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	CHECK(utimensat(AT_FDCWD, ROOT "/lock", old, 0) == 0);
	CHECK_OK(ckpt_store_lock(st, "x", &lk, &err));
	CHECK_OK(ckpt_store_lock_holder(st, &li, &err));
	CHECK_EQ_INT(li.pid, getpid());
	ckpt_lock_release(lk);
	/* a holder on another host is never taken over */
	unit_write_file(ROOT "/lock",
	    "{\"host\":\"elsewhere.invalid\",\"pid\":1,\"since_ms\":0,"
	    "\"what\":\"w\"}\n", 61);
	CHECK_FAILS(ckpt_store_lock(st, "x", &lk, &err), CKPT_E_LOCKED);
	CHECK(strstr(err.msg, "on elsewhere.invalid") != NULL);
	fixture_close(st, ctx);
}

/* A read-only store refuses writes and locks. */
DEFINE_TEST(test_store_readonly)
{
	struct ckpt_error err = {0};
	struct ckpt_store *st = NULL;
	struct ckpt_lock *lk = NULL;

	CHECK(mkdir(ROOT, 0755) == 0);
	CHECK_OK(ckpt_store_open(NULL, ROOT, CKPT_STORE_RDONLY, &st, &err));
	CHECK_FAILS(ckpt_store_write_atomic(st, "f", 0, "x", 1, &err),
	    CKPT_E_USAGE);
	CHECK_FAILS(ckpt_store_remove(st, "f", &err), CKPT_E_USAGE);
	CHECK_FAILS(ckpt_store_lock(st, "x", &lk, &err), CKPT_E_USAGE);
	ckpt_store_close(st);
}

/*
 * Names that are all digits of one length sort by their value without
 * strcmp (store.c's window keys and radix sort): the order must still
 * be bytewise, also next to names that overflow 64 bits or are not
 * digits at all.
 */
DEFINE_TEST(test_store_list_digit_names)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	static const char *const odd[] = { "99999999999999999999",
		"18446744073709551615", "18446744073709551616",
		"18446744073709551614", "1844674407370955161", "x", NULL };
	struct order_check o;
	char name[64];
	int fd;

	CHECK(mkdir(ROOT "/ids", 0755) == 0);
	CHECK(mkdir(ROOT "/mixed", 0755) == 0);
	for (int i = 0; i < 3000; i++) {
		long k = ((long)i * 7919) % 3000 * 1000003L;

		snprintf(name, sizeof(name), ROOT "/ids/%020ld", k);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		snprintf(name, sizeof(name), ROOT "/mixed/%020ld", k);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; odd[i] != NULL; i++) {
		snprintf(name, sizeof(name), ROOT "/mixed/%s", odd[i]);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	for (int order = CKPT_LIST_NAME; order <= CKPT_LIST_NUMERIC;
	    order++) {
		memset(&o, 0, sizeof(o));
		o.order = (enum ckpt_list_order)order;
		CHECK_OK(ckpt_store_list(st, "ids", o.order, NULL, order_cb,
		    &o, &err));
		CHECK_EQ_INT(o.n, 3000);
		CHECK_EQ_INT(o.bad, 0);
		memset(&o, 0, sizeof(o));
		o.order = (enum ckpt_list_order)order;
		CHECK_OK(ckpt_store_list(st, "mixed", o.order, NULL, order_cb,
		    &o, &err));
		CHECK_EQ_INT(o.n, 3006);
		CHECK_EQ_INT(o.bad, 0);
	}
	CHECK_STR(o.prev, "x");
	fixture_close(st, ctx);
}

struct scan_count {
	long files, dirs, stop_at;
	uint64_t bytes;
	char seen[8][CKPT_NAME_MAX];
};

static int
scan_cb(void *arg, const struct ckpt_stat *ent)
{
	struct scan_count *s = arg;

	if (s->files + s->dirs < 8)
		snprintf(s->seen[s->files + s->dirs], CKPT_NAME_MAX, "%s",
		    ent->name);
	if (ent->is_dir)
		s->dirs++;
	else
		s->files++;
	s->bytes += ent->size;
	return s->stop_at != 0 && s->files + s->dirs >= s->stop_at;
}

/* ckpt_store_scan: every entry once, a stat only with CKPT_SCAN_STAT. */
DEFINE_TEST(test_store_scan)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct scan_count s;
	int found;

	CHECK_OK(ckpt_store_write_atomic(st, "d/a", 0, "xyz", 3, &err));
	CHECK_OK(ckpt_store_write_atomic(st, "d/b", 0, "12345", 5, &err));
	CHECK_OK(ckpt_store_write_atomic(st, "d/sub/c", 0, "x", 1, &err));
	CHECK(symlink("a", ROOT "/d/link") == 0);
	memset(&s, 0, sizeof(s));
	CHECK_OK(ckpt_store_scan(st, "d", 0, scan_cb, &s, &err));
	CHECK_EQ_INT(s.files, 3);	/* a, b and the link */
	CHECK_EQ_INT(s.dirs, 1);
	CHECK_EQ_INT(s.bytes, 0);
	memset(&s, 0, sizeof(s));
	CHECK_OK(ckpt_store_scan(st, "d", CKPT_SCAN_STAT, scan_cb, &s, &err));
	CHECK_EQ_INT(s.files, 3);
	CHECK_EQ_INT(s.dirs, 1);
	CHECK_EQ_INT(s.bytes, 8);	/* the link counts 0 */
	found = 0;
	for (int i = 0; i < 4; i++)
		found += strcmp(s.seen[i], "sub") == 0;
	CHECK_EQ_INT(found, 1);
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	CHECK_OK(ckpt_store_scan(st, "d", 0, scan_cb, &s, &err));
	CHECK_EQ_INT(s.files + s.dirs, 2);
	CHECK_FAILS(ckpt_store_scan(st, "nope", 0, scan_cb, &s, &err),
	    CKPT_E_NOTFOUND);
	CHECK_FAILS(ckpt_store_scan(st, "d/link", 0, scan_cb, &s, &err),
	    CKPT_E_UNSUPPORTED);
	CHECK_FAILS(ckpt_store_scan(st, "../x", 0, scan_cb, &s, &err),
	    CKPT_E_USAGE);
	fixture_close(st, ctx);
}

/*
 * The file store keeps directories open between calls.  A directory
 * another process removes and makes again must be seen anew (stat,
 * list, read, write), and one this handle removes must be forgotten.
 * Planted behind the store's back, as another process would.
 */
DEFINE_TEST(test_store_dir_cache_renewed)
{
	struct ckpt_error err = {0};
	struct ckpt_ctx *ctx;
	struct ckpt_store *st = store_fixture(&ctx, CKPT_STORE_RDWR);
	struct ckpt_stat sb;
	struct collect c;
	char *data = NULL;
	size_t len = 0;

	CHECK_OK(ckpt_store_write_atomic(st, "a/b/f1", 0, "one", 3, &err));
	CHECK_OK(ckpt_store_stat(st, "a/b/f1", &sb, &err));
	/* another process: rm -r a/b, then a new a/b with f2 */
	CHECK(unlink(ROOT "/a/b/f1") == 0);
	CHECK(rmdir(ROOT "/a/b") == 0);
	CHECK(mkdir(ROOT "/a/b", 0755) == 0);
	unit_write_file(ROOT "/a/b/f2", "two!", 4);
	CHECK_OK(ckpt_store_stat(st, "a/b/f2", &sb, &err));
	CHECK_EQ_INT(sb.size, 4);
	CHECK_FAILS(ckpt_store_stat(st, "a/b/f1", &sb, &err), CKPT_E_NOTFOUND);
	CHECK_STR(list_names(st, "a/b", CKPT_LIST_NAME, NULL, &c), "f2");
	CHECK_OK(ckpt_store_read_all(st, "a/b/f2", 100, &data, &len, &err));
	CHECK_EQ_INT(len, 4);
	free(data);
	/* the same, two levels up, then a write through the store */
	CHECK(unlink(ROOT "/a/b/f2") == 0);
	CHECK(rmdir(ROOT "/a/b") == 0);
	CHECK(rmdir(ROOT "/a") == 0);
	CHECK(mkdir(ROOT "/a", 0755) == 0);
	CHECK(mkdir(ROOT "/a/b", 0755) == 0);
	ckpt_error_clear(&err);
	CHECK_OK(ckpt_store_write_atomic(st, "a/b/f3", 0, "3", 1, &err));
	CHECK(access(ROOT "/a/b/f3", F_OK) == 0);
	CHECK_OK(ckpt_store_read_all(st, "a/b/f3", 100, &data, &len, &err));
	CHECK_EQ_INT(len, 1);
	free(data);
	/* removed through the store, made again through the store */
	CHECK_OK(ckpt_store_remove(st, "a/b/f3", &err));
	CHECK_OK(ckpt_store_remove(st, "a/b", &err));
	CHECK_FAILS(ckpt_store_stat(st, "a/b", &sb, &err), CKPT_E_NOTFOUND);
	ckpt_error_clear(&err);
	CHECK_OK(ckpt_store_write_atomic(st, "a/b/f4", 0, "4", 1, &err));
	CHECK_STR(list_names(st, "a/b", CKPT_LIST_NAME, NULL, &c), "f4");
	/* a directory swapped for a symlink is still not followed */
	CHECK(mkdir(ROOT "/elsewhere", 0755) == 0);
	unit_write_file(ROOT "/elsewhere/f5", "5", 1);
	CHECK(unlink(ROOT "/a/b/f4") == 0);
	CHECK(rmdir(ROOT "/a/b") == 0);
	CHECK(symlink("../elsewhere", ROOT "/a/b") == 0);
	CHECK_FAILS(ckpt_store_stat(st, "a/b/f5", &sb, &err),
	    CKPT_E_UNSUPPORTED);
	fixture_close(st, ctx);
}
