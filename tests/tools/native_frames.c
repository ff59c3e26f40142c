/*
 * native_frames.c - for the verify benchmark: writes to stdout the
 * stored payload of every zstd-compressed block of every state file
 * under DIR/state, i.e. the very bytes `ckpt verify --read-state`
 * decompresses, as a stream of concatenated zstd frames that `zstd -t`
 * can test.  Layout per ckpt-format(5): a 16-byte file header, blocks
 * of a 24-byte header (xxh3 u64, stored u32, raw u32, records u32,
 * codec u8, 3 reserved) and payload, a 32-byte footer.  Prints the
 * number of bytes written to stderr.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t total;

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
one_file(const char *path)
{
	unsigned char h[24];
	unsigned char *buf = NULL;
	struct stat sb;
	long off = 16, end;
	FILE *f;

	if (stat(path, &sb) != 0 || sb.st_size < 48)
		return;
	f = fopen(path, "rb");
	if (f == NULL)
		return;
	end = (long)sb.st_size - 32;
	while (off + 24 <= end) {
		uint32_t stored;

		if (fseek(f, off, SEEK_SET) != 0 || fread(h, 1, 24, f) != 24)
			break;
		stored = le32(h + 8);
		if (off + 24 + (long)stored > end)
			break;
		if (h[20] == 1) {
			buf = realloc(buf, stored ? stored : 1);
			if (buf == NULL || fread(buf, 1, stored, f) != stored)
				break;
			fwrite(buf, 1, stored, stdout);
			total += stored;
		}
		off += 24 + (long)stored;
	}
	free(buf);
	fclose(f);
}

static void
walk(const char *dir)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			walk(path);
		else if (S_ISREG(sb.st_mode))
			one_file(path);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: native_frames DIR > frames.zst\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/state", argv[1]);
	walk(path);
	fprintf(stderr, "%llu\n", (unsigned long long)total);
	return 0;
}
