/* src/httpd.c — the HTTP server of `longread serve` over libmicrohttpd (the only file
 * that uses it): a listening socket of our own (so a port in use is a clear error), one
 * thread per connection, request bodies collected up to a limit, whole replies and
 * streamed ones (a reader callback that waits for the producer's bytes). */
#include "src/httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/buf.h"

struct lr_httpd {
	struct MHD_Daemon *d;
	int fd;                       /* the listening socket (the library closes it) */
	unsigned port;
	struct lr_httpd_opts o;
};

struct lr_httpd_stream {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lr_buf b;              /* bytes written; b.p[sent..b.n) not sent yet */
	size_t sent;
	int ended, gone, refs;
};

/* One request being received. */
struct conn {
	struct lr_buf body;
	int too_large;
};

/* ------------------------------------------------------------------ streams */

int lr_httpd_stream_new(struct lr_httpd_stream **out, struct lr_err *err)
{
	struct lr_httpd_stream *s = calloc(1, sizeof *s);

	if (!s)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->refs = 1;
	*out = s;
	return 0;
}

int lr_httpd_stream_write(struct lr_httpd_stream *s, const void *p, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->gone) {
		rc = -1;
	} else {
		lr_buf_add(&s->b, p, n);
		if (lr_buf_failed(&s->b))
			rc = -1, s->gone = 1;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void lr_httpd_stream_end(struct lr_httpd_stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->ended = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

int lr_httpd_stream_gone(struct lr_httpd_stream *s)
{
	int g;

	pthread_mutex_lock(&s->mu);
	g = s->gone;
	pthread_mutex_unlock(&s->mu);
	return g;
}

void lr_httpd_stream_ref(struct lr_httpd_stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->refs++;
	pthread_mutex_unlock(&s->mu);
}

void lr_httpd_stream_unref(struct lr_httpd_stream *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (!last)
		return;
	lr_buf_release(&s->b);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* The library asks for the next bytes of a streamed reply: wait for them. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct lr_httpd_stream *s = cls;
	ssize_t r;

	(void)pos;
	pthread_mutex_lock(&s->mu);
	while (s->sent == s->b.n && !s->ended)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->sent < s->b.n) {
		size_t k = s->b.n - s->sent < max ? s->b.n - s->sent : max;
		memcpy(buf, s->b.p + s->sent, k);
		s->sent += k;
		if (s->sent == s->b.n)
			s->sent = s->b.n = 0;   /* all out: reuse the buffer from its start */
		r = (ssize_t)k;
	} else {
		r = MHD_CONTENT_READER_END_OF_STREAM;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* The reply is done with (sent, or the client went away). */
static void stream_done(void *cls)
{
	struct lr_httpd_stream *s = cls;

	pthread_mutex_lock(&s->mu);
	s->gone = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	lr_httpd_stream_unref(s);
}

/* ------------------------------------------------------------------ requests */

static enum MHD_Result send_reply(struct MHD_Connection *c, struct lr_httpd_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;
	char ra[16];

	if (r->stream) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, r->stream, stream_done);
		if (!resp) {
			stream_done(r->stream);   /* the producer stops: nobody will read */
			return MHD_NO;
		}
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
	} else {
		resp = MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (char *)"",
		                                       r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			free(r->body);
			return MHD_NO;
		}
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type ? r->type : "application/json");
	if (r->retry_after) {
		snprintf(ra, sizeof ra, "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ok = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result too_large(struct MHD_Connection *c, size_t max)
{
	struct lr_httpd_reply r = { .status = 413 };
	char msg[200];
	int n = snprintf(msg, sizeof msg, "{\"error\":{\"message\":\"the request body is larger than the "
	                 "server's limit of %zu bytes (--max-body)\",\"type\":\"invalid_request_error\","
	                 "\"code\":413}}", max);

	if ((r.body = malloc((size_t)n + 1))) {
		memcpy(r.body, msg, (size_t)n + 1);
		r.body_len = (size_t)n;
	}
	return send_reply(c, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
	struct lr_httpd *h = cls;
	struct conn *cn = *con_cls;
	struct lr_httpd_req req;
	struct lr_httpd_reply reply;

	(void)version;
	if (!cn) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (!(cn = calloc(1, sizeof *cn)))
			return MHD_NO;
		*con_cls = cn;
		/* refused before a byte of it is read */
		if (cl && strtoull(cl, NULL, 10) > h->o.max_body)
			cn->too_large = 1;
		return MHD_YES;
	}
	if (*data_size) {
		if (!cn->too_large && cn->body.n + *data_size > h->o.max_body)
			cn->too_large = 1;
		if (!cn->too_large)
			lr_buf_add(&cn->body, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	if (cn->too_large)
		return too_large(c, h->o.max_body);
	if (lr_buf_failed(&cn->body))
		return MHD_NO;
	memset(&reply, 0, sizeof reply);
	req.method = method;
	req.path = url;
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.body = cn->body.p ? cn->body.p : "";
	req.body_len = cn->body.n;
	req.conn = c;
	h->o.handler(h->o.ctx, &req, &reply);
	return send_reply(c, &reply);
}

int lr_httpd_req_gone(const struct lr_httpd_req *req)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p;

	if (!ci)
		return 0;
	p.fd = ci->connect_fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (cn) {
		lr_buf_release(&cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

/* ------------------------------------------------------------------ the server */

/* A socket listening on host:port. */
static int listen_on(const char *host, unsigned port, int *fd_out, int *family, struct lr_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ps[16];
	int e, fd = -1, sys = 0, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(ps, sizeof ps, "%u", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)))
		return lr_errf(err, LR_EIO, "cannot listen on '%s': %s", host, gai_strerror(e));
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0) {
			sys = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
			*family = ai->ai_family;
			break;
		}
		sys = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return lr_errf(err, LR_EIO, "cannot listen on %s port %u: %s", host, port, strerror(sys));
	*fd_out = fd;
	return 0;
}

int lr_httpd_open(struct lr_httpd **out, const struct lr_httpd_opts *o, struct lr_err *err)
{
	struct lr_httpd *h = calloc(1, sizeof *h);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	int family = AF_INET, rc;

	if (!h)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	h->o = *o;
	if ((rc = listen_on(o->host, o->port, &h->fd, &family, err))) {
		free(h);
		return rc;
	}
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                         : ((struct sockaddr_in *)&ss)->sin_port);
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	                        MHD_OPTION_LISTEN_SOCKET, h->fd,
	                        MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
	                        MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	                        MHD_OPTION_END);
	if (!h->d) {
		close(h->fd);
		free(h);
		return lr_errf(err, LR_EIO, "cannot start the HTTP server on %s port %u", o->host, o->port);
	}
	*out = h;
	return 0;
}

unsigned lr_httpd_port(const struct lr_httpd *h)
{
	return h->port;
}

void lr_httpd_close(struct lr_httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
