/*
 * buf.c - struct ckpt_buf, the growable byte buffer of the encoders.
 *
 * Growth doubles the capacity (at least 64 bytes) and checks for size
 * overflow; a zeroed struct is an empty buffer.  It does not shrink.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"

/* Makes room for more bytes after len.  0, or -1 on overflow/ENOMEM. */
int
ckpt_buf_reserve(struct ckpt_buf *b, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (more > SIZE_MAX - b->len)
		return -1;
	need = b->len + more;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Appends n bytes of p.  0, or -1 on allocation failure (b unchanged). */
int
ckpt_buf_append(struct ckpt_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (ckpt_buf_reserve(b, n) != 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Frees the bytes and leaves b empty and reusable.  NULL is a no-op. */
void
ckpt_buf_release(struct ckpt_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
