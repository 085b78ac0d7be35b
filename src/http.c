/* src/http.c — libcurl behind lr_http: one easy handle (its connection cache kept
 * between requests), headers and the body streamed to a sink, the idle timer and
 * Ctrl-C in the progress callback, and curl's errors turned into LR_E* codes with
 * curl's own message.  Workload: a handful of requests per question (a chat stream
 * of a few thousand small events; when counting tokens on the server, one request per
 * document). */
#include "src/http.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "src/run.h"

enum why { WHY_NONE, WHY_IDLE, WHY_INTR };

struct lr_http {
	CURL *curl;
	struct lr_http_opts o;
	char *auth;                     /* "Authorization: Bearer ..." or NULL */
	char *agent;
	char errbuf[CURL_ERROR_SIZE];

	/* the request in flight */
	struct lr_http_reply *r;
	lr_http_sink sink;
	void *ctx;
	struct lr_err *err;
	int sink_rc;                    /* the sink's code when it stopped the transfer */
	enum why why;
	int connected;                  /* the idle timer runs from here */
	double last;                    /* when bytes last moved */
	curl_off_t dl, ul;              /* the counts at that time */
};

static int n_users;                 /* lr_http objects alive: curl_global_* pairs */

/* ------------------------------------------------------------------ URLs */

void lr_http_url_display(const char *url, char *buf, size_t size)
{
	CURLU *u = curl_url();
	char *s = NULL;

	if (u && !curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) &&
	    !curl_url_set(u, CURLUPART_USER, NULL, 0) && !curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) &&
	    !curl_url_set(u, CURLUPART_QUERY, NULL, 0) && !curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) &&
	    !curl_url_get(u, CURLUPART_URL, &s, 0)) {
		snprintf(buf, size, "%s", s);
	} else {
		size_t n = strcspn(url, "?@#");
		snprintf(buf, size, "%.*s", (int)(n < 200 ? n : 200), url);
	}
	curl_free(s);
	curl_url_cleanup(u);
}

int lr_http_url_split(const char *url, char **origin, char **path, struct lr_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *p = NULL, *q = NULL, *full = NULL;
	int rc = 0;
	size_t n;

	*origin = *path = NULL;
	if (!u)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME)) {
		rc = lr_errf(err, LR_EINVAL, "'%.200s' is not a URL (e.g. http://127.0.0.1:8000)", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		rc = lr_errf(err, LR_EINVAL, "the API URL must start with http:// or https://");
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_QUERY, &q, 0)) {
		rc = lr_errf(err, LR_EINVAL, "the API URL cannot have a query ('?...')");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &p, 0) || curl_url_set(u, CURLUPART_PATH, "/", 0) ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) || curl_url_get(u, CURLUPART_URL, &full, 0)) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	n = strlen(full);
	while (n && full[n - 1] == '/')
		n--;
	*origin = strndup(full, n);
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	*path = strndup(p, n);
	if (!*origin || !*path) {
		free(*origin);
		free(*path);
		*origin = *path = NULL;
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
	}
out:
	curl_free(full);
	curl_free(q);
	curl_free(p);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* ------------------------------------------------------------------ callbacks */

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
	struct lr_http *h = user;
	size_t len = size * n;

	h->last = lr_run_now();
	h->r->bytes += len;
	if (!h->sink || !len)
		return len;
	if ((h->sink_rc = h->sink(h->ctx, h->r, p, len, h->err)))
		return len ? len - 1 : 1;   /* anything but len stops the transfer */
	return len;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static double retry_after(const char *v)
{
	char *end;
	unsigned long s = strtoul(v, &end, 10);
	time_t t;

	if (end != v && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
		return s > 86400 * 365 ? 86400.0 * 365 : (double)s;
	if ((t = curl_getdate(v, NULL)) < 0)
		return -1;
	return t > time(NULL) ? difftime(t, time(NULL)) : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
	struct lr_http *h = user;
	size_t len = size * n, k;
	char line[256];

	h->last = lr_run_now();
	k = len < sizeof line - 1 ? len : sizeof line - 1;
	memcpy(line, p, k);
	line[k] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* a new status line (after a 100 Continue, say): forget the headers before */
		const char *sp = strchr(line, ' ');
		h->r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		h->r->content_type[0] = '\0';
		h->r->retry_after = -1;
	} else if (strncasecmp(line, "content-type:", 13) == 0) {
		snprintf(h->r->content_type, sizeof h->r->content_type, "%s", line + 13 + strspn(line + 13, " \t"));
	} else if (strncasecmp(line, "retry-after:", 12) == 0) {
		h->r->retry_after = retry_after(line + 12 + strspn(line + 12, " \t"));
	}
	return len;
}

static int on_connected(void *user, char *ip, char *local_ip, int port, int local_port)
{
	struct lr_http *h = user;

	(void)ip, (void)local_ip, (void)port, (void)local_port;
	h->connected = 1;
	h->last = lr_run_now();
	return CURL_PREREQFUNC_OK;
}

static int on_progress(void *user, curl_off_t dl_total, curl_off_t dl, curl_off_t ul_total, curl_off_t ul)
{
	struct lr_http *h = user;
	double t = lr_run_now();

	(void)dl_total, (void)ul_total;
	if (h->o.interrupted && h->o.interrupted()) {
		h->why = WHY_INTR;
		return 1;
	}
	if (dl != h->dl || ul != h->ul) {
		h->dl = dl;
		h->ul = ul;
		h->last = t;
	}
	if (h->connected && t - h->last > h->o.idle_timeout) {
		h->why = WHY_IDLE;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ the client */

int lr_http_new(struct lr_http **out, const struct lr_http_opts *o, struct lr_err *err)
{
	struct lr_http *h;

	*out = NULL;
	if (!(h = calloc(1, sizeof *h)))
		return lr_errf(err, LR_ENOMEM, "out of memory");
	h->o = *o;
	for (const char *k = o->bearer; k && *k; k++)
		if ((unsigned char)*k < 0x20 || *k == 0x7f) {
			free(h);
			return lr_errf(err, LR_EINVAL, "the API key holds a control character");
		}
	if (o->bearer && asprintf(&h->auth, "Authorization: Bearer %s", o->bearer) < 0)
		h->auth = NULL;
	if ((o->bearer && !h->auth) || (o->user_agent && !(h->agent = strdup(o->user_agent)))) {
		lr_http_free(h);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	h->o.bearer = NULL;
	h->o.user_agent = NULL;
	/* the program is single-threaded until the engine starts its pool, which the
	 * --api client never does: curl_global_init is safe here */
	if (!n_users && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		lr_http_free(h);
		return lr_errf(err, LR_EUNSUPPORTED, "libcurl failed to start");
	}
	n_users++;
	if (!(h->curl = curl_easy_init())) {
		lr_http_free(h);
		return lr_errf(err, LR_ENOMEM, "libcurl failed to start: out of memory");
	}
	*out = h;
	return 0;
}

void lr_http_free(struct lr_http *h)
{
	if (!h)
		return;
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		if (!--n_users)
			curl_global_cleanup();
	}
	if (h->auth) {
		/* the key does not outlive the client in the heap */
		volatile char *v = h->auth;
		for (size_t i = 0; v[i]; i++)
			v[i] = 0;
		free(h->auth);
	}
	free(h->agent);
	free(h);
}

static int is_tls(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED: case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED: case CURLE_SSL_SHUTDOWN_FAILED: case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/* The LR_E* code and message for a failed transfer. */
static int fail(struct lr_http *h, CURLcode c, const char *shown, struct lr_err *err)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(c);

	switch (c) {
	case CURLE_WRITE_ERROR:
		if (h->sink_rc)
			return h->sink_rc;   /* the sink's message is in err already */
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		if (h->why == WHY_INTR)
			return lr_errf(err, LR_EINTR, "interrupted");
		if (h->r->status)
			return lr_errf(err, LR_EREPLY, "the reply from '%s' stalled: nothing for %g s (idle timeout)",
			               shown, h->o.idle_timeout);
		return lr_errf(err, LR_EREPLY, "no reply from '%s' within %g s (idle timeout)", shown,
		               h->o.idle_timeout);
	case CURLE_OPERATION_TIMEDOUT:
		return lr_errf(err, LR_ENET, "cannot connect to '%s' within %g s (connect timeout): %s", shown,
		               h->o.connect_timeout, why);
	case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT:
		return lr_errf(err, LR_EINVAL, "cannot use the URL '%s': %s", shown, why);
	case CURLE_OUT_OF_MEMORY:
		return lr_errf(err, LR_ENOMEM, "out of memory");
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
		return lr_errf(err, LR_ENET, "cannot reach '%s': %s", shown, why);
	default:
		break;
	}
	if (is_tls(c))
		return lr_errf(err, LR_ENET, "TLS error with '%s': %s", shown, why);
	if (h->r->status)
		return lr_errf(err, LR_EREPLY, "the reply from '%s' broke off: %s", shown, why);
	return lr_errf(err, LR_EREPLY, "no valid reply from '%s': %s", shown, why);
}

int lr_http_request(struct lr_http *h, const char *method, const char *url, const char *accept,
                    const char *body, size_t len, lr_http_sink sink, void *ctx,
                    struct lr_http_reply *r, struct lr_err *err)
{
	struct curl_slist *hd = NULL, *t;
	char acc[160], shown[512];
	int post = strcmp(method, "POST") == 0, rc = 0;
	CURLcode c;
	CURL *cu = h->curl;

	memset(r, 0, sizeof *r);
	r->retry_after = -1;
	h->r = r;
	h->sink = sink;
	h->ctx = ctx;
	h->err = err;
	h->sink_rc = 0;
	h->why = WHY_NONE;
	h->connected = 0;
	h->last = lr_run_now();
	h->dl = h->ul = 0;
	h->errbuf[0] = '\0';
	lr_http_url_display(url, shown, sizeof shown);

	/* "Expect:" turns off 100-continue, which would hold large bodies back a second */
	t = curl_slist_append(hd, "Expect:");
	if (t && post)
		t = curl_slist_append(hd = t, "Content-Type: application/json");
	if (t && accept && snprintf(acc, sizeof acc, "Accept: %s", accept) < (int)sizeof acc)
		t = curl_slist_append(hd = t, acc);
	if (t && h->auth)
		t = curl_slist_append(hd = t, h->auth);
	if (!t) {
		curl_slist_free_all(hd);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	hd = t;

	curl_easy_reset(cu);   /* options only: the connection cache stays */
	if (curl_easy_setopt(cu, CURLOPT_URL, url) != CURLE_OK) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->o.connect_timeout * 1000 + 0.5));
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(cu, CURLOPT_PREREQFUNCTION, on_connected);
	curl_easy_setopt(cu, CURLOPT_PREREQDATA, h);
	curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(cu, CURLOPT_XFERINFODATA, h);
	if (h->agent)
		curl_easy_setopt(cu, CURLOPT_USERAGENT, h->agent);
	if (post) {
		curl_easy_setopt(cu, CURLOPT_POST, 1L);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(cu, CURLOPT_HTTPGET, 1L);
	}
	c = curl_easy_perform(cu);
	if (c != CURLE_OK)
		rc = fail(h, c, shown, err);
out:
	curl_slist_free_all(hd);
	h->r = NULL;
	h->err = NULL;
	return rc;
}
