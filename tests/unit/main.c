/*
 * main.c - runs every DEFINE_TEST (list generated into list.h by the
 * Makefile), each in a fresh temporary directory, and prints TAP.
 * Usage: runner [name-substring...]
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "unit.h"

int unit_failures;
const char *unit_tmpdir;

#define TEST(n) void n(void);
#include "list.h"
#undef TEST

struct unit_test { const char *name; void (*fn)(void); };
#define TEST(n) { #n, n },
static const struct unit_test tests[] = {
#include "list.h"
	{ NULL, NULL }
};
#undef TEST

void
unit_write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

void *
unit_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	*n = len;
	return buf;
}

static int
rm_rf(const char *dir)
{
	char cmd[4300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int
selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	char base[4096], cwd[4096], dir[4200];
	const char *tmp = getenv("TMPDIR");
	int n = 0, failed = 0, i;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return 1;
	snprintf(base, sizeof(base), "%s/ckpt-unit-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (i = 0; tests[i].name; i++)
		if (selected(tests[i].name, argc, argv))
			n++;
	printf("1..%d\n", n);
	n = 0;
	for (i = 0; tests[i].name; i++) {
		if (!selected(tests[i].name, argc, argv))
			continue;
		n++;
		snprintf(dir, sizeof(dir), "%s/%s", base, tests[i].name);
		if (mkdir(dir, 0700) != 0 || chdir(dir) != 0) {
			perror(dir);
			return 1;
		}
		unit_tmpdir = dir;
		unit_failures = 0;
		fflush(stdout);
		tests[i].fn();
		if (chdir(cwd) != 0)
			return 1;
		if (unit_failures) {
			failed++;
			printf("not ok %d - %s\n", n, tests[i].name);
		} else {
			printf("ok %d - %s\n", n, tests[i].name);
			rm_rf(dir);
		}
		fflush(stdout);
	}
	if (!failed)
		rm_rf(base);
	else
		fprintf(stderr, "failed tests kept their directories in %s\n", base);
	return failed ? 1 : 0;
}
