/*
 * regression_driver.c - replays fuzz corpora without libFuzzer
 * (zstd's tests/fuzz/regression_driver.c).
 *
 * Linked with one tests/fuzz/fuzz_<target>.c, it feeds every regular
 * file named on the command line, or found (not recursively) in a
 * directory named there, to LLVMFuzzerTestOneInput, in name order.  A
 * crash, a sanitizer report or a hang is the failure; the exit status
 * is 0 once every input ran, 1 if an input could not be read, 2 on
 * usage.  `make` builds one per target into $(BUILD)/fuzz/, and
 * tests/cli/fuzz.bats runs each over tests/fuzz/corpus/<target>/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fclose(f);
				free(buf);
				fprintf(stderr, "%s: out of memory\n", path);
				return 1;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	/* an exact-size copy, so ASan sees reads past the input */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(buf);
			return 1;
		}
		memcpy(exact, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir, unsigned *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat s;
	char **names = NULL, path[4096];
	size_t cnt = 0, cap = 0, i;
	int rc = 0;

	if (d == NULL) {
		perror(dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (cnt == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				rc = 1;
				break;
			}
			names = nn;
		}
		names[cnt] = strdup(e->d_name);
		if (names[cnt] == NULL) {
			rc = 1;
			break;
		}
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(names, cnt, sizeof(*names), cmp);
	for (i = 0; i < cnt; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == 0 && stat(path, &s) == 0 && S_ISREG(s.st_mode)) {
			rc = run_file(path);
			(*n)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat s;
	unsigned n = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc && rc == 0; i++) {
		if (stat(argv[i], &s) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(s.st_mode)) {
			rc = run_dir(argv[i], &n);
		} else {
			rc = run_file(argv[i]);
			n++;
		}
	}
	printf("%s: %u inputs replayed\n", argv[0], n);
	return rc;
}
