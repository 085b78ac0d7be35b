/* src/sse.c — the text/event-stream parser: bytes to lines to fields to events. */
#include "src/sse.h"

#include <stdio.h>
#include <string.h>

void lr_sse_init(struct lr_sse *s)
{
	memset(s, 0, sizeof *s);
}

void lr_sse_release(struct lr_sse *s)
{
	lr_buf_release(&s->line);
	lr_buf_release(&s->data);
	memset(s, 0, sizeof *s);
}

int lr_sse_pending(const struct lr_sse *s)
{
	return s->has_data || s->line.n > 0 || s->event[0];
}

static int dispatch(struct lr_sse *s, lr_sse_event on_event, void *ctx, struct lr_err *err)
{
	char name[sizeof s->event];
	int rc;

	if (!s->has_data) {
		s->event[0] = '\0';
		return 0;
	}
	if (s->data.n && s->data.p[s->data.n - 1] == '\n')
		s->data.p[--s->data.n] = '\0';
	snprintf(name, sizeof name, "%s", s->event[0] ? s->event : "message");
	s->event[0] = '\0';
	s->has_data = 0;
	s->n_events++;
	rc = on_event(ctx, name, lr_buf_cstr(&s->data), s->data.n, err);
	lr_buf_clear(&s->data);
	return rc;
}

/* One whole line (without its terminator). */
static int line(struct lr_sse *s, const char *p, size_t n, lr_sse_event on_event, void *ctx,
                struct lr_err *err)
{
	const char *colon, *v;
	size_t fn, vn;

	if (!n)
		return dispatch(s, on_event, ctx, err);
	if (p[0] == ':')
		return 0;   /* a comment */
	colon = memchr(p, ':', n);
	fn = colon ? (size_t)(colon - p) : n;
	v = colon ? colon + 1 : p + n;
	vn = colon ? n - fn - 1 : 0;
	if (vn && *v == ' ')
		v++, vn--;
	if ((fn == 4 && memcmp(p, "data", 4) == 0) || (fn == 5 && memcmp(p, "error", 5) == 0)) {
		if (fn == 5)
			snprintf(s->event, sizeof s->event, "error");
		if (s->data.n + vn + 1 > LR_SSE_MAX_EVENT)
			return lr_errf(err, LR_EREPLY, "an event of the stream is over %u MiB", LR_SSE_MAX_EVENT >> 20);
		lr_buf_add(&s->data, v, vn);
		lr_buf_add(&s->data, "\n", 1);
		s->has_data = 1;
		if (lr_buf_failed(&s->data))
			return lr_errf(err, LR_ENOMEM, "out of memory");
	} else if (fn == 5 && memcmp(p, "event", 5) == 0) {
		snprintf(s->event, sizeof s->event, "%.*s", (int)(vn < sizeof s->event ? vn : sizeof s->event - 1), v);
	}
	return 0;
}

int lr_sse_feed(struct lr_sse *s, const char *p, size_t n, lr_sse_event on_event, void *ctx,
                struct lr_err *err)
{
	size_t i = 0;
	int rc;

	if (memchr(p, '\0', n))
		return lr_errf(err, LR_EREPLY, "the event stream holds a NUL byte");
	while (i < n) {
		size_t j = i;
		if (s->after_cr && p[i] == '\n') {
			s->after_cr = 0;
			i++;
			continue;
		}
		s->after_cr = 0;
		while (j < n && p[j] != '\n' && p[j] != '\r')
			j++;
		if (s->line.n + (j - i) > LR_SSE_MAX_EVENT)
			return lr_errf(err, LR_EREPLY, "a line of the event stream is over %u MiB",
			               LR_SSE_MAX_EVENT >> 20);
		if (j == n) {   /* no end of line yet: keep the piece */
			lr_buf_add(&s->line, p + i, j - i);
			return lr_buf_failed(&s->line) ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
		}
		s->after_cr = p[j] == '\r';
		if (s->line.n) {
			lr_buf_add(&s->line, p + i, j - i);
			if (lr_buf_failed(&s->line))
				return lr_errf(err, LR_ENOMEM, "out of memory");
			rc = line(s, s->line.p, s->line.n, on_event, ctx, err);
			lr_buf_clear(&s->line);
		} else {
			rc = line(s, p + i, j - i, on_event, ctx, err);
		}
		if (rc)
			return rc;
		i = j + 1;
	}
	return 0;
}
