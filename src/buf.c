/* src/buf.c — growable byte strings. */
#include "src/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct lr_buf *b, size_t more)
{
	size_t want;
	char *p;

	if (b->oom)
		return -1;
	if (more < b->cap - b->n)
		return 0;
	if (more > ((size_t)-1) / 2 - b->n)
		goto fail;
	want = b->cap ? b->cap : 256;
	while (want - b->n <= more)
		want *= 2;
	p = realloc(b->p, want);
	if (!p)
		goto fail;
	b->p = p;
	b->cap = want;
	return 0;
fail:
	b->oom = 1;
	return -1;
}

void lr_buf_add(struct lr_buf *b, const char *s, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void lr_buf_str(struct lr_buf *b, const char *s)
{
	lr_buf_add(b, s, strlen(s));
}

void lr_buf_printf(struct lr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || reserve(b, (size_t)k))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

void lr_buf_clear(struct lr_buf *b)
{
	b->n = 0;
	if (b->p)
		b->p[0] = '\0';
}

int lr_buf_failed(const struct lr_buf *b)
{
	return b->oom;
}

const char *lr_buf_cstr(const struct lr_buf *b)
{
	return b->p && !b->oom ? b->p : "";
}

void lr_buf_release(struct lr_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
	b->oom = 0;
}
