/* src/api.c — the OpenAI-compatible client: requests written with src/json.c, replies
 * read with jansson (strict RFC 8259: trailing garbage, NaN and comments are errors,
 * which is what a malformed reply should be), the retries of 429/503, the server's own
 * error message out of whatever shape its error body has (OpenAI's {"error":
 * {"message"}}, vLLM's {"message"}, FastAPI's {"detail"}, plain text), and the chat
 * stream: SSE events to answer text, finish reason and usage.  Workload: per question
 * one request of up to ~600 KB and a stream of a few thousand small events; when
 * counting tokens on the server, a request per document. */
#include "src/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "src/buf.h"
#include "src/http.h"
#include "src/api_body.h"
#include "src/sse.h"
#include "src/run.h"

#define MAX_BODY ((size_t)64 << 20)   /* a whole (not streamed) reply: a token list, a
                                         model list */
#define PROBE "Hello world"

/* ------------------------------------------------------------------ the client */

int lr_api_new(struct lr_api **out, const struct lr_api_opts *o, struct lr_err *err)
{
	struct lr_http_opts ho = { o->connect_timeout, o->idle_timeout, o->key, "longread/" PACKAGE_VERSION,
	                           o->interrupted };
	struct lr_api *a;
	char *path = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (!(a = calloc(1, sizeof *a)))
		return lr_errf(err, LR_ENOMEM, "out of memory");
	a->o = *o;
	a->o.key = NULL;
	if ((rc = lr_http_url_split(o->url, &a->origin, &path, err)))
		goto fail;
	if (asprintf(&a->base, "%s%s", a->origin, *path ? path : "/v1") < 0) {
		a->base = NULL;
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	lr_http_url_display(a->base, a->shown, sizeof a->shown);
	lr_http_url_display(a->origin, a->origin_shown, sizeof a->origin_shown);
	n = strlen(a->origin_shown);
	if (n && a->origin_shown[n - 1] == '/')
		a->origin_shown[n - 1] = '\0';
	if (o->model && !(a->model = strdup(o->model))) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = lr_http_new(&a->http, &ho, err)))
		goto fail;
	free(path);
	*out = a;
	return 0;
fail:
	free(path);
	lr_api_free(a);
	return rc;
}

void lr_api_free(struct lr_api *a)
{
	if (!a)
		return;
	lr_http_free(a->http);
	free(a->base);
	free(a->origin);
	free(a->model);
	free(a);
}

/* ------------------------------------------------------------------ JSON in and out */

/* Parse p[0..n) as one JSON object or array.  On failure: LR_EREPLY, "what: jansson's
 * words (line L, column C)". */
static int parse(const char *p, size_t n, json_t **out, const char *what, struct lr_err *err)
{
	json_error_t je;

	if (!(*out = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je)))
		return lr_errf(err, LR_EREPLY, "%s is not valid JSON: %s (line %d, column %d)", what, je.text,
		               je.line, je.column);
	return 0;
}

/* A positive integer member (0 when absent or not one). */
static uint64_t get_count(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* Set *out to a non-negative integer member, when there is one. */
static void get_int(const json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*out = (int64_t)json_integer_value(v);
}

/* The server's message in an error body, on one line, at most size-1 bytes: OpenAI's
 * {"error": {"message"}} (llama-server, hosted APIs), {"error": "..."}, vLLM's
 * {"message"}, FastAPI's {"detail"}; else the body itself when it is short plain text;
 * else "". */
static void server_message(const char *p, size_t n, char *buf, size_t size)
{
	json_t *root = p ? json_loadb(p, n, 0, NULL) : NULL, *e, *v = NULL;
	const char *s = NULL;
	size_t k = 0;

	buf[0] = '\0';
	if (root) {
		e = json_object_get(root, "error");
		if (json_is_object(e))
			v = json_object_get(e, "message");
		else if (json_is_string(e))
			v = e;
		if (!json_is_string(v))
			v = json_object_get(root, "message");
		if (!json_is_string(v))
			v = json_object_get(root, "detail");
		if (json_is_array(v))
			v = json_object_get(json_array_get(v, 0), "msg");
		if (json_is_string(v)) {
			s = json_string_value(v);
			n = json_string_length(v);
		}
	} else if (n && p[0] != '<') {   /* not an HTML page */
		s = p;
	}
	for (size_t i = 0; s && i < n && k + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (k == 0 || buf[k - 1] == ' '))
			continue;
		buf[k++] = (char)c;
	}
	while (k && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
	json_decref(root);
}

/* ------------------------------------------------------------------ requests */

/* One request's reply as it arrives: a 2xx reply of stream_type goes to stream,
 * anything else into body (an error reply only up to LR_API_ERROR_BODY bytes). */
struct call {
	struct lr_api *a;
	struct lr_buf body;
	lr_http_sink stream;
	void *stream_ctx;
	const char *stream_type;
	double t_start;              /* when the last try was sent */
	unsigned retries;
};

static int is_ok(long status)
{
	return status >= 200 && status < 300;
}

static int call_sink(void *ctx, const struct lr_http_reply *r, const char *p, size_t n, struct lr_err *err)
{
	struct call *c = ctx;
	size_t limit = is_ok(r->status) ? MAX_BODY : LR_API_ERROR_BODY;

	if (c->stream && is_ok(r->status) &&
	    strncasecmp(r->content_type, c->stream_type, strlen(c->stream_type)) == 0)
		return c->stream(c->stream_ctx, r, p, n, err);
	if (c->body.n + n > limit) {
		if (is_ok(r->status))
			return lr_errf(err, LR_EREPLY, "the reply from '%s' is over %zu MiB", c->a->shown, MAX_BODY >> 20);
		n = limit - c->body.n;   /* enough of an error page for its message */
	}
	lr_buf_add(&c->body, p, n);
	return lr_buf_failed(&c->body) ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
}

/* Sleep for s seconds in short steps, so Ctrl-C is noticed. */
static int pause_for(const struct lr_api *a, double s, struct lr_err *err)
{
	double end = lr_run_now() + s;

	while (lr_run_now() < end) {
		double left = end - lr_run_now();
		struct timespec ts = { 0, (long)((left < 0.1 ? left : 0.1) * 1e9) };
		if (a->o.interrupted && a->o.interrupted())
			return lr_errf(err, LR_EINTR, "interrupted");
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* method url with body, retrying 429 and 503 as the server asks.  @return 0 with the
 * final reply in r (any status: the caller decides), or the transfer's error. */
static int request(struct call *c, const char *method, const char *url, const char *accept,
                   const char *body, size_t len, struct lr_http_reply *r, struct lr_err *err)
{
	struct lr_api *a = c->a;
	char msg[256];
	int rc;

	for (unsigned attempt = 0;; attempt++) {
		double wait;
		lr_buf_clear(&c->body);
		c->t_start = lr_run_now();
		a->n_requests++;
		if ((rc = lr_http_request(a->http, method, url, accept, body, len, call_sink, c, r, err)))
			return rc;
		if ((r->status != 429 && r->status != 503) || attempt >= a->o.retries)
			return 0;
		wait = r->retry_after >= 0 ? r->retry_after : (double)(1u << (attempt < 6 ? attempt : 6));
		server_message(c->body.p, c->body.n, msg, sizeof msg);
		if (wait > LR_API_MAX_WAIT) {
			char shown[512];
			lr_http_url_display(url, shown, sizeof shown);
			return lr_errf(err, LR_ESERVER, "the server answered HTTP %ld to '%s' and asks to retry after "
			               "%.0f s (longread waits at most %.0f s)%s%s", r->status, shown, wait,
			               LR_API_MAX_WAIT, *msg ? ": " : "", msg);
		}
		if (a->o.on_retry)
			a->o.on_retry(a->o.ctx, r->status, wait, attempt + 1, a->o.retries, msg);
		if ((rc = pause_for(a, wait, err)))
			return rc;
		c->retries++;
	}
}

/* The error for a reply with an error status: the status and the server's message. */
static int status_error(const struct call *c, const char *url, const struct lr_http_reply *r,
                        struct lr_err *err)
{
	char msg[256], shown[512], tries[48] = "";

	server_message(c->body.p, c->body.n, msg, sizeof msg);
	lr_http_url_display(url, shown, sizeof shown);
	if (c->retries)
		snprintf(tries, sizeof tries, " (after %u retr%s)", c->retries, c->retries == 1 ? "y" : "ies");
	return lr_errf(err, LR_ESERVER, "the server answered HTTP %ld to '%s'%s%s%s", r->status, shown, tries,
	               *msg ? ": " : "", msg);
}

/* GET or POST base + path and parse a 2xx JSON reply into *root; any other status is
 * an error, but for a 404 when missing_ok (*root stays NULL). */
static int get_json(struct lr_api *a, const char *method, const char *base, const char *path,
                    const struct lr_api_body *b, int missing_ok, json_t **root, struct lr_err *err)
{
	struct call c = { .a = a };
	struct lr_http_reply r;
	char what[600], shown[512], *url = NULL;
	int rc;

	*root = NULL;
	if (asprintf(&url, "%s%s", base, path) < 0)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	rc = request(&c, method, url, "application/json", b ? b->p : NULL, b ? b->n : 0, &r, err);
	if (!rc && is_ok(r.status)) {
		lr_http_url_display(url, shown, sizeof shown);
		snprintf(what, sizeof what, "the reply to %s '%s'", method, shown);
		rc = parse(c.body.p ? c.body.p : "", c.body.n, root, what, err);
	} else if (!rc && (r.status != 404 || !missing_ok)) {
		rc = status_error(&c, url, &r, err);
	}
	lr_buf_release(&c.body);
	free(url);
	return rc;
}

/* ------------------------------------------------------------------ models */

/* The window an entry of /v1/models gives: vLLM's max_model_len, llama-server's
 * meta.n_ctx_train, or context_length (OpenRouter and others). */
static uint64_t entry_window(const json_t *m)
{
	uint64_t n = get_count(m, "max_model_len");

	if (!n)
		n = get_count(json_object_get(m, "meta"), "n_ctx_train");
	if (!n)
		n = get_count(m, "context_length");
	return n;
}

/* llama-server runs with its own -c, often less than the model was trained for: its
 * /props says (default_generation_settings.n_ctx, the context of one slot).  A server
 * without /props, or with another shape of it, keeps n_ctx_train. */
static int llama_props(struct lr_api *a, struct lr_err *err)
{
	struct lr_err quiet = { 0 };
	json_t *root = NULL;
	uint64_t n;
	int rc = get_json(a, "GET", a->origin, "/props", NULL, 1, &root, &quiet);

	if (rc == LR_ENET || rc == LR_EINTR || rc == LR_ENOMEM)
		return lr_errf(err, rc, "%s", quiet.msg);
	n = get_count(json_object_get(root, "default_generation_settings"), "n_ctx");
	if (n && n < a->n_ctx)
		a->n_ctx = (uint32_t)n;
	json_decref(root);
	return 0;
}

int lr_api_models(struct lr_api *a, struct lr_err *err)
{
	json_t *root = NULL, *data, *m, *chosen = NULL;
	size_t i;
	int rc;

	if ((rc = get_json(a, "GET", a->base, "/models", NULL, 1, &root, err)))
		goto out;
	if (!root) {   /* 404: no list */
		if (!a->model)
			rc = lr_errf(err, LR_EINVAL, "'%s/models' lists no models (HTTP 404): name the model with "
			             "--api-model", a->shown);
		goto out;
	}
	data = json_object_get(root, "data");
	a->has_list = 1;
	if (!json_is_array(data)) {
		rc = lr_errf(err, LR_EREPLY, "the reply to GET '%s/models' is not a model list (no \"data\" array)",
		             a->shown);
		goto out;
	}
	json_array_foreach(data, i, m) {
		json_t *id = json_object_get(m, "id");
		if (!json_is_string(id)) {
			rc = lr_errf(err, LR_EREPLY, "the reply to GET '%s/models' is not a model list (entry %zu has "
			             "no \"id\")", a->shown, i + 1);
			goto out;
		}
		if (a->model && strcmp(json_string_value(id), a->model) == 0)
			chosen = m;
	}
	if (!a->model) {
		if (json_array_size(data) != 1) {
			json_t *id0 = json_object_get(json_array_get(data, 0), "id");
			rc = json_array_size(data) == 0 ?
			     lr_errf(err, LR_EINVAL, "'%s/models' lists no models: name one with --api-model", a->shown) :
			     lr_errf(err, LR_EINVAL, "'%s/models' lists %zu models ('%.100s', ...): choose one with "
			             "--api-model", a->shown, json_array_size(data), json_string_value(id0));
			goto out;
		}
		chosen = json_array_get(data, 0);
		if (!(a->model = strdup(json_string_value(json_object_get(chosen, "id"))))) {
			rc = lr_errf(err, LR_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (chosen) {
		uint64_t n = entry_window(chosen);
		a->listed = 1;
		a->n_ctx = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
		if (n && !get_count(chosen, "max_model_len") && get_count(json_object_get(chosen, "meta"), "n_ctx_train"))
			rc = llama_props(a, err);
	}
out:
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ tokens */

/* POST /tokenize in the given form.  *count = -1 when the reply has no token list (or,
 * probing, is a 404). */
static int tokenize(struct lr_api *a, enum lr_api_tokenizer form, const char *s, size_t n, int probing,
                    int64_t *count, struct lr_err *err)
{
	struct lr_api_body b;
	json_t *root = NULL, *t;
	int rc;

	*count = -1;
	if (!(rc = lr_api_body_tokenize(&b, form == LR_API_TOK_LLAMA, a->model, s, n, err))) {
		rc = get_json(a, "POST", a->origin, "/tokenize", &b, probing, &root, err);
		free(b.p);
	}
	if (rc || !root)
		return rc;
	t = json_object_get(root, "tokens");
	if (json_is_integer(json_object_get(root, "count")))
		*count = json_integer_value(json_object_get(root, "count"));
	else if (json_is_array(t))
		*count = (int64_t)json_array_size(t);
	json_decref(root);
	return 0;
}

int lr_api_probe_tokenizer(struct lr_api *a, struct lr_err *err)
{
	static const enum lr_api_tokenizer forms[] = { LR_API_TOK_LLAMA, LR_API_TOK_VLLM };
	struct lr_err quiet = { 0 };
	int64_t count;

	a->tok = LR_API_TOK_NONE;
	for (int i = 0; i < 2; i++) {
		/* llama-server answers a request without "content" with an empty list, vLLM
		 * refuses one without "prompt": a count of the probe text tells them apart */
		int rc = tokenize(a, forms[i], PROBE, strlen(PROBE), 1, &count, &quiet);
		if (rc == LR_ENET || rc == LR_EINTR || rc == LR_ENOMEM)
			return lr_errf(err, rc, "%s", quiet.msg);
		if (!rc && count > 0) {
			a->tok = forms[i];
			return 0;
		}
	}
	return 0;
}

int lr_api_count(struct lr_api *a, const char *s, size_t n, size_t *out, struct lr_err *err)
{
	int64_t count;
	int rc;

	*out = 0;
	if (!n)
		return 0;
	if ((rc = tokenize(a, a->tok, s, n, 0, &count, err)))
		return rc;
	if (count < 0)
		return lr_errf(err, LR_EREPLY, "the reply to POST '%s/tokenize' has no token count", a->origin_shown);
	*out = (size_t)count;
	return 0;
}

/* ------------------------------------------------------------------ chat */

struct stream {
	struct lr_api *a;
	struct lr_sse sse;
	lr_api_text on_text;
	void *ctx;
	struct lr_api_answer *res;
	int ended;                    /* [DONE] came */
	int sse_used;                 /* the reply was an event stream */
};

/* One chunk (a streamed event) or, whole, a complete reply: text, finish reason,
 * usage, or an error the server reports in the body. */
static int chunk(struct stream *st, const json_t *root, int whole, struct lr_err *err)
{
	struct lr_api_answer *res = st->res;
	const json_t *e = json_object_get(root, "error"), *ch, *c0, *msg, *content, *fr, *u;
	char what[48] = "the reply", text[256];

	if (!whole)
		snprintf(what, sizeof what, "event %zu of the answer stream", st->sse.n_events);
	if (!json_is_object(root))
		return lr_errf(err, LR_EREPLY, "%s from '%s/chat/completions' is not a JSON object", what, st->a->shown);
	if (e && !json_is_null(e)) {
		char *dump = json_dumps(root, JSON_COMPACT);
		server_message(dump ? dump : "", dump ? strlen(dump) : 0, text, sizeof text);
		free(dump);
		return lr_errf(err, LR_ESERVER, "the server reported an error during the answer: %s",
		               *text ? text : "(no message)");
	}
	ch = json_object_get(root, "choices");
	if (ch && !json_is_array(ch))
		return lr_errf(err, LR_EREPLY, "%s from '%s/chat/completions' is malformed: \"choices\" is not a list", what,
		               st->a->shown);
	if (whole && !json_array_size(ch))
		return lr_errf(err, LR_EREPLY, "the reply from '%s/chat/completions' has no choices", st->a->shown);
	if ((c0 = json_array_get(ch, 0))) {
		if (!json_is_object(c0))
			return lr_errf(err, LR_EREPLY, "%s from '%s/chat/completions' is malformed: a choice is not an object", what,
			               st->a->shown);
		msg = json_object_get(c0, whole ? "message" : "delta");
		if (msg && !json_is_null(msg) && !json_is_object(msg))
			return lr_errf(err, LR_EREPLY, "%s from '%s/chat/completions' is malformed: \"%s\" is not an object", what,
			               st->a->shown, whole ? "message" : "delta");
		content = json_object_get(msg, "content");
		if (content && !json_is_null(content) && !json_is_string(content))
			return lr_errf(err, LR_EREPLY, "%s from '%s/chat/completions' is malformed: \"content\" is not a string", what,
			               st->a->shown);
		if (json_string_length(content)) {
			int rc;
			if (!res->t_first)
				res->t_first = lr_run_now();
			res->bytes += json_string_length(content);
			if ((rc = st->on_text(st->ctx, json_string_value(content), json_string_length(content), err)))
				return rc;
		}
		fr = json_object_get(c0, "finish_reason");
		if (json_is_string(fr))
			snprintf(res->finish, sizeof res->finish, "%s", json_string_value(fr));
	}
	u = json_object_get(root, "usage");
	get_int(u, "prompt_tokens", &res->prompt_tokens);
	get_int(u, "completion_tokens", &res->completion_tokens);
	get_int(json_object_get(u, "prompt_tokens_details"), "cached_tokens", &res->cached_tokens);
	/* llama-server: its timings say how much of the prompt came from its cache */
	get_int(json_object_get(root, "timings"), "cache_n", &res->cached_tokens);
	return 0;
}

static int on_event(void *ctx, const char *event, const char *data, size_t n, struct lr_err *err)
{
	struct stream *st = ctx;
	char what[600];
	json_t *root;
	int rc;

	if (strcmp(event, "error") == 0) {
		char text[256];
		server_message(data, n, text, sizeof text);
		return lr_errf(err, LR_ESERVER, "the server reported an error during the answer: %s",
		               *text ? text : "(no message)");
	}
	if (n == 6 && memcmp(data, "[DONE]", 6) == 0) {
		st->ended = 1;
		return 0;
	}
	if (st->ended)
		return 0;   /* nothing counts after [DONE] */
	snprintf(what, sizeof what, "event %zu of the answer stream from '%s/chat/completions'", st->sse.n_events,
	         st->a->shown);
	if ((rc = parse(data, n, &root, what, err)))
		return rc;
	rc = chunk(st, root, 0, err);
	json_decref(root);
	return rc;
}

static int stream_sink(void *ctx, const struct lr_http_reply *r, const char *p, size_t n, struct lr_err *err)
{
	struct stream *st = ctx;

	(void)r;
	st->sse_used = 1;
	return lr_sse_feed(&st->sse, p, n, on_event, st, err);
}

int lr_api_chat(struct lr_api *a, const struct lr_api_chat *req, lr_api_text on_text, void *ctx,
                struct lr_api_answer *res, struct lr_err *err)
{
	struct stream st = { .a = a, .on_text = on_text, .ctx = ctx, .res = res };
	struct call c = { .a = a, .stream = stream_sink, .stream_ctx = &st, .stream_type = "text/event-stream" };
	struct lr_http_reply r;
	struct lr_api_body b = { 0 };
	char *url = NULL;
	json_t *root = NULL;
	int rc;

	memset(res, 0, sizeof *res);
	res->prompt_tokens = res->completion_tokens = res->cached_tokens = -1;
	lr_sse_init(&st.sse);
	if (asprintf(&url, "%s/chat/completions", a->base) < 0) {
		url = NULL;
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = lr_api_body_chat(&b, a->model, req, err)))
		goto out;
	rc = request(&c, "POST", url, "text/event-stream", b.p, b.n, &r, err);
	res->t_sent = c.t_start;
	res->retries = c.retries;
	if (rc)
		goto out;
	if (!is_ok(r.status)) {
		rc = status_error(&c, url, &r, err);
	} else if (!st.sse_used) {
		/* a server that ignored "stream": one JSON reply */
		if (!(rc = parse(c.body.p ? c.body.p : "", c.body.n, &root, "the reply", err)) &&
		    !(rc = chunk(&st, root, 1, err)))
			res->done = 1;
		if (rc == LR_EREPLY)
			lr_err_prefix(err, "'%s/chat/completions': ", a->shown);
	} else if (st.ended || (res->finish[0] && !lr_sse_pending(&st.sse))) {
		res->done = 1;
	} else {
		rc = lr_errf(err, LR_EREPLY, "the answer stream from '%s/chat/completions' ended before the answer "
		             "did (no finish reason, no [DONE])", a->shown);
	}
out:
	res->t_end = lr_run_now();
	json_decref(root);
	lr_buf_release(&c.body);
	lr_sse_release(&st.sse);
	free(b.p);
	free(url);
	return rc;
}
