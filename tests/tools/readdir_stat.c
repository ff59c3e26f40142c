/*
 * readdir_stat.c - the reference loops for the `ckpt ls` benchmark.
 *
 *   readdir_stat DIR          readdir every directory of the tree under
 *                             DIR and lstat every entry (what `find DIR
 *                             -ls` or `du` must do): the least work a
 *                             tool reporting the batches, totals and
 *                             leftovers of a checkpoint can do;
 *   readdir_stat -b DIR       DIR/offsets and DIR/commits only: the
 *                             least work of a tool listing batch ids.
 *
 * Prints the number of entries.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static long
walk(const char *dir, int recurse)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	long n = 0;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &sb) != 0)
			continue;
		n++;
		if (recurse && S_ISDIR(sb.st_mode))
			n += walk(path, 1);
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	char path[4096];
	long n;

	if (argc == 3 && strcmp(argv[1], "-b") == 0) {
		snprintf(path, sizeof(path), "%s/offsets", argv[2]);
		n = walk(path, 0);
		snprintf(path, sizeof(path), "%s/commits", argv[2]);
		n += walk(path, 0);
	} else if (argc == 2) {
		n = walk(argv[1], 1);
	} else {
		fprintf(stderr, "usage: readdir_stat [-b] DIR\n");
		return 2;
	}
	printf("%ld\n", n);
	return 0;
}
