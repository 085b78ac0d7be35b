/* src/buf.h — a growable byte string for the program's text (answers, notes, reports).
 * Allocation failure is sticky: after one, appends do nothing and lr_buf_failed() is
 * true, so builders check once at the end. */
#ifndef LR_BUF_H
#define LR_BUF_H

#include <stddef.h>

struct lr_buf {
	char *p;     /* NUL-terminated when non-NULL; owned */
	size_t n, cap;
	int oom;
};

void lr_buf_add(struct lr_buf *b, const char *s, size_t n);
void lr_buf_str(struct lr_buf *b, const char *s);
void lr_buf_printf(struct lr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forget the contents, keep the memory. */
void lr_buf_clear(struct lr_buf *b);
int lr_buf_failed(const struct lr_buf *b);
/* The contents ("" when empty); borrowed, valid until the next change. */
const char *lr_buf_cstr(const struct lr_buf *b);
void lr_buf_release(struct lr_buf *b);

#endif
