/* src/http.h — HTTP requests for the --api client, over libcurl (the only file that
 * includes curl.h, so its error codes become LR_E* here, curl's own words kept).
 *
 * One lr_http keeps its connection alive between requests: the questions of one run
 * reuse one TCP (and TLS) connection.  Timeouts: connecting (name lookup, TCP and TLS
 * handshakes: LR_ENET) and idle (nothing received or sent for that long, the wait for
 * the first byte of the reply included: LR_EREPLY).  A transfer checks its interrupt
 * function about once a second and stops with LR_EINTR.  Redirects are not followed.
 * Not thread-safe: one lr_http per thread. */
#ifndef LR_HTTP_H
#define LR_HTTP_H

#include <stddef.h>

#include "engine/err.h"

struct lr_http;

struct lr_http_opts {
	double connect_timeout;       /* seconds, > 0 */
	double idle_timeout;          /* seconds, > 0 */
	const char *bearer;           /* sent as "Authorization: Bearer ..." when not NULL;
	                                 copied; never in a message */
	const char *user_agent;       /* NULL = libcurl's */
	int (*interrupted)(void);     /* polled while waiting (NULL = never) */
};

struct lr_http_reply {
	long status;                  /* the HTTP status, 0 until one arrived */
	char content_type[128];       /* "" when the reply had none */
	double retry_after;           /* seconds asked by Retry-After, -1 when absent */
	size_t bytes;                 /* body bytes received */
};

/* Receives each piece of the body as it arrives (reply's status and headers are set
 * by then).  Return 0 to go on, or an LR_E* code with err filled: the transfer stops
 * and lr_http_request returns that code and message. */
typedef int (*lr_http_sink)(void *ctx, const struct lr_http_reply *r, const char *p, size_t n,
                            struct lr_err *err);

/* A new client: *out, free with lr_http_free.  Errors: LR_ENOMEM, LR_EUNSUPPORTED
 * (libcurl failed to start). */
int lr_http_new(struct lr_http **out, const struct lr_http_opts *o, struct lr_err *err);
void lr_http_free(struct lr_http *h);

/* One request: method "GET", or "POST" with body[0..len) as application/json; accept
 * is the Accept header (NULL = none).  The body of the reply goes to sink, whatever the
 * status; r receives the status and headers.  A reply with an error status is not an
 * error here (the caller reads the server's message from the body).  @return 0 once
 * the whole reply arrived, or: LR_EINVAL (a URL libcurl cannot use), LR_ENET (name
 * lookup, connection refused, TLS, connect timeout), LR_EREPLY (idle timeout, the
 * connection closed midway, a reply that is not HTTP), LR_EINTR, LR_ENOMEM, or the
 * sink's code.  Messages name the URL as lr_http_url_display shows it. */
int lr_http_request(struct lr_http *h, const char *method, const char *url, const char *accept,
                    const char *body, size_t len, lr_http_sink sink, void *ctx,
                    struct lr_http_reply *r, struct lr_err *err);

/* url without user name, password and query (which may hold secrets), for messages
 * and records; a URL libcurl cannot parse is shown up to its first '?' or '@'. */
void lr_http_url_display(const char *url, char *buf, size_t size);

/* Split url into its origin (scheme://host[:port], no slash) and its path ("" when it
 * has none, or only "/").  Errors: LR_EINVAL (not an http or https URL: message says
 * why), LR_ENOMEM.  *origin and *path are new strings: free them. */
int lr_http_url_split(const char *url, char **origin, char **path, struct lr_err *err);

#endif
