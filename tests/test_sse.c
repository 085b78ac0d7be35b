/* tests/test_sse.c — the event-stream parser: events split at every byte boundary come
 * out the same; LF, CRLF and CR line ends; data lines joined; comments, unknown fields
 * and an event name; llama-server's "error:" field; an unfinished event is pending and
 * never dispatched; limits and NUL bytes are errors, not crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/sse.h"
#include "tests/tap.h"

struct got {
	char text[4096];   /* "name=data|" per event */
	size_t n;
	int stop_at;       /* return an error at this event (0 = never) */
};

static int on_event(void *ctx, const char *event, const char *data, size_t n, struct lr_err *err)
{
	struct got *g = ctx;
	int k;

	if (strlen(data) != n)
		return lr_errf(err, LR_EFORMAT, "length %zu, strlen %zu", n, strlen(data));
	k = snprintf(g->text + g->n, sizeof g->text - g->n, "%s=%s|", event, data);
	if (k > 0)
		g->n += (size_t)k;
	if (g->stop_at && --g->stop_at == 0)
		return lr_errf(err, LR_ESERVER, "stop");
	return 0;
}

/* Feed s in pieces of step bytes; the events as text, and the pending state. */
static int feed(const char *s, size_t len, size_t step, struct got *g, int *pending)
{
	struct lr_sse p;
	struct lr_err err = { 0 };
	int rc = 0;

	memset(g, 0, sizeof *g);
	lr_sse_init(&p);
	for (size_t i = 0; i < len && !rc; i += step)
		rc = lr_sse_feed(&p, s + i, len - i < step ? len - i : step, on_event, g, &err);
	*pending = lr_sse_pending(&p);
	lr_sse_release(&p);
	return rc;
}

static void same_at_every_split(const char *name, const char *s, const char *want, int want_pending)
{
	struct got g;
	int pending, ok = 1;

	for (size_t step = 1; step <= strlen(s) + 1; step++) {
		int rc = feed(s, strlen(s), step, &g, &pending);
		if (rc || strcmp(g.text, want) != 0 || pending != want_pending) {
			tap_diag("pieces of %zu: rc %d, got '%s', pending %d", step, rc, g.text, pending);
			ok = 0;
			break;
		}
	}
	tap_ok(ok, "%s", name);
}

int main(void)
{
	struct got g;
	struct lr_sse p;
	struct lr_err err = { 0 };
	char *big;
	int pending, rc;

	same_at_every_split("OpenAI chunks and [DONE], any split",
		"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
		"message={\"a\":1}|message={\"b\":2}|message=[DONE]|", 0);
	same_at_every_split("CRLF and CR line ends",
		"data: x\r\n\r\ndata: y\r\rdata:z\n\n", "message=x|message=y|message=z|", 0);
	same_at_every_split("data lines join with LF; one leading space dropped, no more",
		"data: one\ndata:  two\ndata\n\n", "message=one\n two\n|", 0);
	same_at_every_split("comments, unknown fields and id/retry are ignored; event names the event",
		": keep-alive\nid: 7\nretry: 100\nfoo: bar\nevent: delta\ndata: d\n\n: x\n\ndata: e\n\n",
		"delta=d|message=e|", 0);
	same_at_every_split("a blank line without data dispatches nothing and forgets the name",
		"event: a\n\ndata: b\n\n", "message=b|", 0);
	same_at_every_split("llama-server's error field is an event named error",
		"data: {\"x\":1}\n\nerror: {\"code\":500,\"message\":\"boom\"}\n\n",
		"message={\"x\":1}|error={\"code\":500,\"message\":\"boom\"}|", 0);
	same_at_every_split("a stream cut inside an event: that event is pending, never dispatched",
		"data: {\"a\":1}\n\ndata: {\"b\"", "message={\"a\":1}|", 1);
	same_at_every_split("cut after a data line but before the blank line: pending",
		"data: {\"a\":1}\n", "", 1);

	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	lr_sse_init(&p);
	rc = lr_sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18, on_event, &g, &err);
	tap_ok(rc == LR_ESERVER && strcmp(g.text, "message=1|") == 0, "the callback's error stops the parse");
	lr_sse_release(&p);

	rc = feed("data: a\0b\n\n", 11, 11, &g, &pending);
	tap_is_int(rc, LR_EREPLY, "a NUL byte is an error");

	big = malloc(LR_SSE_MAX_EVENT + 16);
	memcpy(big, "data: ", 6);
	memset(big + 6, 'x', LR_SSE_MAX_EVENT + 1);
	lr_sse_init(&p);
	rc = 0;
	for (size_t i = 0; i < LR_SSE_MAX_EVENT + 7 && !rc; i += 65536) {
		size_t n = LR_SSE_MAX_EVENT + 7 - i < 65536 ? LR_SSE_MAX_EVENT + 7 - i : 65536;
		rc = lr_sse_feed(&p, big + i, n, on_event, &g, &err);
	}
	tap_ok(rc == LR_EREPLY && strstr(err.msg, "over 8 MiB"), "a line over 8 MiB is an error: %s", err.msg);
	lr_sse_release(&p);
	free(big);
	return tap_done();
}
