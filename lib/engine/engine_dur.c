/*
 * engine_dur.c - durations as users write them: "500ms", "30s", "10m",
 * "1h", "2d", or a sum of such ("1m30s"); a bare number is seconds.
 * Used by `ckpt run` for batch, window, slide, timeout and checkpoint
 * intervals, and to print them back in messages.  Also the engine's
 * monotonic clock in milliseconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"

int
ckpt_duration_parse(const char *s, int64_t *ms)
{
	int64_t total = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		int64_t n = 0, unit;
		int digits = 0;

		while (*s >= '0' && *s <= '9') {
			if (n > INT64_MAX / 10 - 10)
				return -1;
			n = n * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
		if (strncmp(s, "ms", 2) == 0) {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000;
			s++;
		} else if (*s == 'd') {
			unit = 86400000;
			s++;
		} else if (*s == '\0' && total == 0) {
			unit = 1000;
		} else {
			return -1;
		}
		if (n > (INT64_MAX - total) / unit)
			return -1;
		total += n * unit;
	}
	*ms = total;
	return 0;
}

void
ckpt_duration_format(int64_t ms, char *buf, size_t len)
{
	static const struct { int64_t ms; const char *u; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRId64 "%s", ms / units[i].ms,
			    units[i].u);
			return;
		}
	snprintf(buf, len, "%" PRId64 "ms", ms);
}

int64_t
eng_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
