/*
 * wc_ref.c - the reference for the wordcount benchmark: a plain C
 * hash-count loop (read in 1 MiB chunks, split on blanks, count in an
 * open-addressing table keyed by FNV-1a), the least a word counter
 * must do.  Prints "<distinct> <total>".  Usage: wc_ref FILE
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *w;
	size_t n;
	uint64_t h;
	uint64_t count;
};

static struct slot *tab;
static size_t cap = 1 << 16, used;

static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

static void
grow(void)
{
	struct slot *old = tab;
	size_t ocap = cap;

	cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	if (tab == NULL)
		exit(1);
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (old[i].w == NULL)
			continue;
		j = old[i].h & (cap - 1);
		while (tab[j].w != NULL)
			j = (j + 1) & (cap - 1);
		tab[j] = old[i];
	}
	free(old);
}

static void
add(const char *w, size_t n)
{
	uint64_t h = fnv(w, n);
	size_t j = h & (cap - 1);

	while (tab[j].w != NULL) {
		if (tab[j].h == h && tab[j].n == n && !memcmp(tab[j].w, w, n)) {
			tab[j].count++;
			return;
		}
		j = (j + 1) & (cap - 1);
	}
	tab[j].w = malloc(n);
	if (tab[j].w == NULL)
		exit(1);
	memcpy(tab[j].w, w, n);
	tab[j].n = n;
	tab[j].h = h;
	tab[j].count = 1;
	if (++used * 2 > cap)
		grow();
}

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
main(int argc, char **argv)
{
	static char buf[(1 << 20) + 4096];
	size_t keep = 0, got;
	uint64_t total = 0;
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: wc_ref FILE\n");
		return 2;
	}
	tab = calloc(cap, sizeof(*tab));
	while ((got = fread(buf + keep, 1, (1 << 20), f)) > 0 || keep > 0) {
		size_t end = keep + got, i = 0, last = 0;

		if (got == 0)
			buf[end++] = '\n';
		while (i < end) {
			size_t s;

			while (i < end && blank((unsigned char)buf[i]))
				i++;
			s = i;
			while (i < end && !blank((unsigned char)buf[i]))
				i++;
			if (i == end && got != 0) {
				last = s;	/* a word cut by the chunk */
				break;
			}
			if (i > s) {
				add(buf + s, i - s);
				total++;
			}
			last = i;
		}
		keep = end - last;
		memmove(buf, buf + last, keep);
		if (got == 0)
			break;
	}
	fclose(f);
	printf("%zu %llu\n", used, (unsigned long long)total);
	return 0;
}
