/*
 * version.c - the library's version, for programs that link libckpt
 * and want to know which one they got at run time (CKPT_VERSION_* give
 * the one they were compiled against).
 */
#include "ckpt.h"

const char *
ckpt_version(void)
{
	return CKPT_VERSION_STRING;
}
