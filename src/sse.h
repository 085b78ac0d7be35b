/* src/sse.h — server-sent events (the WHATWG text/event-stream format), parsed from a
 * byte stream that arrives in pieces of any size.  Lines end in LF, CRLF or CR; "data:"
 * lines accumulate (joined by LF) until a blank line dispatches the event; lines that
 * start with ':' are comments (keep-alives); "event:" names the event; other fields are
 * ignored, except "error:", which llama-server sends when a stream fails: its value is
 * dispatched as an event named "error".  An event not ended by a blank line when the
 * stream stops is never dispatched (lr_sse_pending says whether one was started).
 * Workload: one chat answer, a few thousand events of 100-300 bytes. */
#ifndef LR_SSE_H
#define LR_SSE_H

#include <stddef.h>

#include "engine/err.h"
#include "src/buf.h"

#define LR_SSE_MAX_EVENT (8u << 20)   /* bytes of one line or one event's data */

struct lr_sse {
	struct lr_buf line;    /* the unfinished line */
	struct lr_buf data;    /* the event's data lines so far, each followed by LF */
	char event[64];        /* its name; "" = "message" */
	int has_data;          /* a data (or error) field was seen since the last dispatch */
	int after_cr;          /* the last byte was CR: an LF right after it ends no line */
	size_t n_events;       /* events dispatched */
};

/* Receives one event: its name ("message" unless an event or error field named it)
 * and its data (NUL-terminated; n bytes, the last LF removed).  Return 0 to go on, or
 * an LR_E* code with err filled, which lr_sse_feed returns. */
typedef int (*lr_sse_event)(void *ctx, const char *event, const char *data, size_t n,
                            struct lr_err *err);

void lr_sse_init(struct lr_sse *s);
void lr_sse_release(struct lr_sse *s);

/* Parse p[0..n) and dispatch every event it completes.  @return 0, LR_EREPLY (a line
 * or an event over LR_SSE_MAX_EVENT bytes, or a NUL byte), LR_ENOMEM, or the code of
 * on_event (parsing stops there). */
int lr_sse_feed(struct lr_sse *s, const char *p, size_t n, lr_sse_event on_event, void *ctx,
                struct lr_err *err);

/* 1 when the stream so far ends inside an event (a field or a partial line seen since
 * the last dispatch). */
int lr_sse_pending(const struct lr_sse *s);

#endif
