/* src/httpd.h — the HTTP server side of `longread serve`: libmicrohttpd, wrapped here
 * and used nowhere else.  One thread per connection: the handler runs in the
 * connection's thread and may block (waiting for the engine); an answer either comes
 * whole (status, type, body) or as a stream that another thread writes while the
 * connection's thread sends it.  Bodies over the limit are refused with 413 before the
 * handler sees them.  Workload: a handful of connections at once, each request a few
 * bytes to a few MB (a whole window of documents as text), answers streamed a token at a
 * time. */
#ifndef LR_HTTPD_H
#define LR_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct lr_httpd_stream;

/* A request as the handler sees it: every pointer borrowed for the handler's call. */
struct lr_httpd_req {
	const char *method;           /* "GET", "POST", ... */
	const char *path;             /* "/v1/models" (no query) */
	const char *authorization;    /* the Authorization header, or NULL */
	const char *body;             /* NUL-terminated; "" when there is none */
	size_t body_len;
	void *conn;                   /* private: for lr_httpd_req_gone */
};

/* 1 when the client of req has closed its connection (checked without waiting). */
int lr_httpd_req_gone(const struct lr_httpd_req *req);

/* What the handler answers: a whole body, or (stream != NULL) a stream. */
struct lr_httpd_reply {
	int status;                   /* HTTP status */
	const char *type;             /* Content-Type; NULL = application/json */
	char *body;                   /* malloc'd; the server frees it (may be NULL) */
	size_t body_len;
	unsigned retry_after;         /* seconds for a Retry-After header; 0 = none */
	struct lr_httpd_stream *stream; /* sent as it is written (a reference the server
	                                   takes over: the handler keeps its own) */
};

/* The handler: fill reply.  Called in the connection's thread; may block. */
typedef void (*lr_httpd_handler)(void *ctx, const struct lr_httpd_req *req, struct lr_httpd_reply *reply);

struct lr_httpd_opts {
	const char *host;             /* an address or a name to listen on */
	unsigned port;                /* 0 = any free port (see lr_httpd_port) */
	size_t max_body;              /* bytes; a larger body gets 413 */
	unsigned max_connections;     /* at once; more are refused by the library */
	lr_httpd_handler handler;
	void *ctx;
};

struct lr_httpd;

/* Listen on o->host:o->port and serve in threads of the library's.  *out: free with
 * lr_httpd_close.  Errors: LR_EIO (a host that does not resolve; the
 * address cannot be bound or listened on: message says why, "Address already in
 * use"), LR_ENOMEM. */
int lr_httpd_open(struct lr_httpd **out, const struct lr_httpd_opts *o, struct lr_err *err);
/* The port it listens on (the one chosen when o->port was 0). */
unsigned lr_httpd_port(const struct lr_httpd *h);
/* Stop listening, close every connection (their threads are joined: streams must be
 * closed first, or their connections wait for them), free.  Accepts NULL. */
void lr_httpd_close(struct lr_httpd *h);

/* ------------------------------------------------------------------ streams */

/* A byte pipe from a producer thread to a connection: writes are buffered (without
 * bound: the producer is one answer, a few hundred KB at most) and sent as they come.
 * Reference counted: new gives one reference, the reply takes another. */
int lr_httpd_stream_new(struct lr_httpd_stream **out, struct lr_err *err);
/* Queue n bytes.  @return 0, or -1 when the client is gone (nothing more will be sent:
 * the producer should stop). */
int lr_httpd_stream_write(struct lr_httpd_stream *s, const void *p, size_t n);
/* The end of the stream: what was written is sent, then the reply ends. */
void lr_httpd_stream_end(struct lr_httpd_stream *s);
/* 1 when the client has gone away. */
int lr_httpd_stream_gone(struct lr_httpd_stream *s);
/* Take one more reference; drop one.  unref accepts NULL. */
void lr_httpd_stream_ref(struct lr_httpd_stream *s);
void lr_httpd_stream_unref(struct lr_httpd_stream *s);

#endif
