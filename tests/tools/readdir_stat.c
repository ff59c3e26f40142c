/*
 * readdir_stat.c - the reference loop for the `ckpt ls` benchmark: list
 * DIR/offsets and DIR/commits with readdir and lstat every entry, the
 * least work any tool listing batches must do.  Prints the count.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static long
walk(const char *root, const char *sub)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", root, sub, de->d_name);
		if (lstat(path, &sb) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: readdir_stat DIR\n");
		return 2;
	}
	printf("%ld\n", walk(argv[1], "offsets") + walk(argv[1], "commits"));
	return 0;
}
