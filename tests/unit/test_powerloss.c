/*
 * test_powerloss.c - the power-loss mode of the file store (ctx_test.c).
 *
 * Each test forks a child that arms a crash point through the
 * environment (CKPT_CRASH_POINT, and CKPT_POWER_LOSS=1 or not), writes
 * through the public store API until the crash point kills it, and then
 * checks in the parent what a power cut must have left: durable files
 * stay, a rename or unlink whose directory was not fsynced is undone,
 * data that was not fsynced is gone.  The same script without power
 * loss shows that the journal, not the crash, makes the difference.
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

enum script { S_TWO_FILES, S_REPLACE, S_NEW_DIR, S_DATA, S_REMOVE,
	S_REMOVE_SYNCED };

static void
put(struct ckpt_store *st, const char *path, const char *text)
{
	struct ckpt_error err = { 0 };

	if (ckpt_store_write_atomic(st, path, 0, text, strlen(text),
	    &err) != CKPT_OK)
		_exit(3);
}

/* The child: runs script s until the armed crash point kills it. */
static void
child(enum script s, const char *point, int power_loss)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;
	struct ckpt_store *st = NULL;

	setenv("CKPT_CRASH_POINT", point, 1);
	if (power_loss)
		setenv("CKPT_POWER_LOSS", "1", 1);
	else
		unsetenv("CKPT_POWER_LOSS");
	if (ckpt_ctx_new(&ctx, &err) != CKPT_OK ||
	    ckpt_store_open(ctx, "d", CKPT_STORE_RDWR | CKPT_STORE_CREATE,
	    &st, &err) != CKPT_OK)
		_exit(2);
	switch (s) {
	case S_TWO_FILES:
		put(st, "a", "one");
		put(st, "b", "two");
		break;
	case S_REPLACE:
		put(st, "a", "one");
		put(st, "a", "two");
		break;
	case S_NEW_DIR:
		put(st, "sub/x", "one");
		break;
	case S_DATA:
		put(st, "a", "one");
		break;
	case S_REMOVE:
	case S_REMOVE_SYNCED:
		put(st, "a", "one");
		if (ckpt_store_remove(st, "a", &err) != CKPT_OK)
			_exit(3);
		if (s == S_REMOVE_SYNCED &&
		    ckpt_store_sync_dir(st, "", &err) != CKPT_OK)
			_exit(3);
		put(st, "b", "two");
		break;
	}
	_exit(0);	/* the crash point was not reached */
}

/* Runs the script in a child; returns 1 when it died of SIGKILL. */
static int
crash(enum script s, const char *point, int power_loss)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		child(s, point, power_loss);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/* Contents of d/path, or NULL when absent (static buffer). */
static const char *
content(const char *path)
{
	static char buf[64];
	char full[256];
	FILE *f;
	size_t n;

	snprintf(full, sizeof(full), "d/%s", path);
	f = fopen(full, "r");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Size of the one temp file ".<base>.*.tmp" in d, or -1 if none. */
static long
temp_size(const char *base)
{
	DIR *d = opendir("d");
	struct dirent *de;
	struct stat sb;
	char p[512];
	long size = -1;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' ||
		    strncmp(de->d_name + 1, base, strlen(base)) != 0 ||
		    strstr(de->d_name, ".pl.") != NULL)
			continue;
		snprintf(p, sizeof(p), "d/%s", de->d_name);
		if (stat(p, &sb) == 0)
			size = (long)sb.st_size;
	}
	if (d != NULL)
		closedir(d);
	return size;
}

DEFINE_TEST(test_powerloss_rename_before_dir_fsync_is_undone)
{
	CHECK(crash(S_TWO_FILES, "store.before_dir_fsync:2", 1));
	CHECK_STR(content("a"), "one");		/* its dir was fsynced */
	CHECK(content("b") == NULL);		/* rename not durable */
	CHECK_EQ_INT(temp_size("b"), 3);	/* the temp came back */
}

DEFINE_TEST(test_powerloss_plain_crash_keeps_the_rename)
{
	CHECK(crash(S_TWO_FILES, "store.before_dir_fsync:2", 0));
	CHECK_STR(content("a"), "one");
	CHECK_STR(content("b"), "two");
}

DEFINE_TEST(test_powerloss_replaced_file_comes_back)
{
	CHECK(crash(S_REPLACE, "store.before_dir_fsync:2", 1));
	CHECK_STR(content("a"), "one");
	CHECK(crash(S_REPLACE, "store.before_dir_fsync:2", 0));
	CHECK_STR(content("a"), "two");		/* a crash alone keeps it */
}

DEFINE_TEST(test_powerloss_new_dir_keeps_only_durable_entries)
{
	struct stat sb;

	CHECK(crash(S_NEW_DIR, "store.before_dir_fsync:1", 1));
	CHECK(stat("d/sub", &sb) == 0);		/* fsynced into d */
	CHECK(content("sub/x") == NULL);
}

DEFINE_TEST(test_powerloss_unsynced_data_is_lost)
{
	CHECK(crash(S_DATA, "store.before_fsync:1", 1));
	CHECK(content("a") == NULL);
	CHECK_EQ_INT(temp_size("a"), 0);
}

DEFINE_TEST(test_powerloss_plain_crash_keeps_unsynced_data)
{
	CHECK(crash(S_DATA, "store.before_fsync:1", 0));
	CHECK_EQ_INT(temp_size("a"), 3);
}

DEFINE_TEST(test_powerloss_unlink_without_dir_fsync_is_undone)
{
	CHECK(crash(S_REMOVE, "store.before_rename:2", 1));
	CHECK_STR(content("a"), "one");
	CHECK(content("b") == NULL);
}

DEFINE_TEST(test_powerloss_synced_unlink_stays)
{
	CHECK(crash(S_REMOVE_SYNCED, "store.before_rename:2", 1));
	CHECK(content("a") == NULL);
}

DEFINE_TEST(test_powerloss_needs_an_armed_crash_point)
{
	struct ckpt_error err = { 0 };
	struct ckpt_ctx *ctx = NULL;

	setenv("CKPT_POWER_LOSS", "yes", 1);
	CHECK_FAILS(ckpt_ctx_new(&ctx, &err), CKPT_E_USAGE);
	setenv("CKPT_POWER_LOSS", "1", 1);	/* nothing armed: a no-op */
	CHECK_OK(ckpt_ctx_new(&ctx, &err));
	ckpt_ctx_free(ctx);
	unsetenv("CKPT_POWER_LOSS");
}
