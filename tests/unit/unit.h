/*
 * unit.h - a tiny unit-test harness in the style of libarchive's
 * DEFINE_TEST.  Each test_<module>.c defines tests with
 *
 *	DEFINE_TEST(test_store_roundtrip)
 *	{
 *		CHECK(x == 1);
 *		CHECK_OK(ckpt_store_open(...));
 *	}
 *
 * The Makefile greps DEFINE_TEST lines into a list; main.c runs each
 * test in a fresh temporary directory (its cwd) and prints TAP.
 */
#ifndef CKPT_UNIT_H
#define CKPT_UNIT_H

#include <stdio.h>
#include <string.h>
#include "ckpt.h"

extern int unit_failures;
extern const char *unit_tmpdir;	/* the test's fresh directory (= cwd) */

#define DEFINE_TEST(name) void name(void); void name(void)

#define CHECK(cond) do { if (!(cond)) { unit_failures++; \
	fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
	#cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), \
	_b = (long long)(b); if (_a != _b) { unit_failures++; \
	fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", \
	__FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b) != 0) { unit_failures++; \
	fprintf(stderr, "  %s:%d: %s == %s failed: '%s' != '%s'\n", \
	__FILE__, __LINE__, #a, #b, _a ? _a : "(null)", \
	_b ? _b : "(null)"); } } while (0)
/* CHECK_OK(call) with a struct ckpt_error named err in scope. */
#define CHECK_OK(call) do { int _rc = (call); if (_rc != CKPT_OK) { \
	unit_failures++; fprintf(stderr, "  %s:%d: %s -> %d: %s\n", \
	__FILE__, __LINE__, #call, _rc, err.msg); } } while (0)
#define CHECK_FAILS(call, k) do { ckpt_error_clear(&err); \
	int _rc = (call); if (_rc >= 0 || err.kind != (k)) { \
	unit_failures++; fprintf(stderr, \
	"  %s:%d: %s -> %d kind %d (%s), wanted failure kind %d\n", \
	__FILE__, __LINE__, #call, _rc, err.kind, err.msg, (k)); } \
	else if (err.msg[0] == '\0') { unit_failures++; fprintf(stderr, \
	"  %s:%d: %s failed without a message\n", __FILE__, __LINE__, \
	#call); } } while (0)

/* Writes a file of n bytes at path (relative to cwd); aborts on error. */
void unit_write_file(const char *path, const void *data, size_t n);
/* Reads a whole file; returns malloc'd buffer, *n its size. */
void *unit_read_file(const char *path, size_t *n);

#endif
