/* src/serve_api.c — the OpenAI-compatible protocol of `longread serve`: routes, the key,
 * request bodies (jansson) turned into jobs for the engine, and replies shaped as
 * OpenAI's (whole, or as server-sent events), errors as {"error": {"message", "type",
 * "code"}} with their HTTP status.  Runs in the connection threads, except the stream_*
 * functions, which the engine's thread calls as it answers. */
#include "src/serve.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/cite.h"

/* ------------------------------------------------------------------ replies */

static void reply_json(struct lr_httpd_reply *r, int status, json_t *root)
{
	r->status = status;
	r->body = root ? json_dumps(root, JSON_COMPACT) : NULL;
	r->body_len = r->body ? strlen(r->body) : 0;
	json_decref(root);
	if (!r->body)
		r->status = 500;
}

static const char *error_type(int status)
{
	switch (status) {
	case 401: return "authentication_error";
	case 404: return "not_found_error";
	case 500: return "server_error";
	case 503: return "unavailable_error";
	default: return "invalid_request_error";
	}
}

static json_t *error_json(int status, const char *msg)
{
	return json_pack("{s:{s:s, s:s, s:i}}", "error", "message", msg, "type", error_type(status), "code", status);
}

static void reply_error(struct lr_httpd_reply *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct lr_httpd_reply *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	reply_json(r, status, error_json(status, msg));
}

/* ------------------------------------------------------------------ the key */

/* "Bearer KEY" compared with the server's key in time that depends only on the
 * lengths, never on where the first difference is. */
static int authorized(const struct lr_server *sv, const char *h)
{
	const char *key = sv->api_key;
	size_t n, m = strlen(key);
	unsigned char diff = 0;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)h[i] ^ (unsigned char)key[i % (m ? m : 1)];
	return diff == 0 && n == m && m > 0;
}

/* ------------------------------------------------------------------ reading requests */

struct request {
	struct lr_server *sv;
	json_t *root;
	struct lr_httpd_reply *r;     /* where a refusal goes */
	const struct lr_httpd_req *req;
};

/* A number field: absent leaves *out; otherwise it must be a number in [lo, hi]. */
static int get_num(struct request *q, const char *key, double lo, double hi, double *out)
{
	json_t *v = json_object_get(q->root, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
		reply_error(q->r, 400, "\"%s\" must be a number from %g to %g", key, lo, hi);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static int get_int(struct request *q, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	json_t *v = json_object_get(q->root, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		reply_error(q->r, 400, "\"%s\" must be a whole number from %" PRId64 " to %" PRId64, key, lo, hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* The sampling fields, the length and the stop strings. */
static int sampling(struct request *q, struct lr_serve_job *j)
{
	struct lr_sampler_params *sp = &j->sp;
	double temp = sp->temp, top_p = sp->top_p, min_p = sp->min_p, rep = sp->repeat_penalty, zero = 0;
	int64_t top_k = sp->top_k, seed = -1, max = -1, n = 1;
	json_t *stop = json_object_get(q->root, "stop"), *so;

	if (get_num(q, "temperature", 0, 100, &temp) || get_num(q, "top_p", 0, 1, &top_p) ||
	    get_num(q, "min_p", 0, 1, &min_p) || get_int(q, "top_k", 0, 1 << 30, &top_k) ||
	    get_num(q, "repetition_penalty", 0.01, 100, &rep) || get_num(q, "repeat_penalty", 0.01, 100, &rep) ||
	    get_int(q, "seed", INT64_MIN, INT64_MAX, &seed) || get_int(q, "n", 1, 1, &n) ||
	    get_int(q, "max_tokens", 1, INT32_MAX, &max) || get_int(q, "max_completion_tokens", 1, INT32_MAX, &max) ||
	    get_int(q, "n_predict", -1, INT32_MAX, &max))
		return -1;
	/* OpenAI's penalties are not the engine's: refused rather than ignored */
	if (get_num(q, "frequency_penalty", -2, 2, &zero) || get_num(q, "presence_penalty", -2, 2, &zero))
		return -1;
	if (zero != 0) {
		reply_error(q->r, 400, "frequency_penalty and presence_penalty are not supported "
		            "(use repeat_penalty)");
		return -1;
	}
	sp->temp = (float)temp;
	sp->top_p = top_p <= 0 ? 1.0f : (float)top_p;
	sp->min_p = (float)min_p;
	sp->top_k = (int)top_k;
	sp->repeat_penalty = (float)rep;
	sp->seed = seed >= 0 ? (uint64_t)seed : sp->seed;
	j->max_tokens = max > 0 ? (uint64_t)max : 0;
	if (json_is_string(stop)) {
		if (!(j->stop[0] = strdup(json_string_value(stop))))
			goto oom;
		j->n_stop = 1;
	} else if (json_is_array(stop)) {
		size_t i;
		json_t *s;
		if (json_array_size(stop) > LR_SERVE_MAX_STOP) {
			reply_error(q->r, 400, "\"stop\" has more than %d strings", LR_SERVE_MAX_STOP);
			return -1;
		}
		json_array_foreach(stop, i, s) {
			if (!json_is_string(s)) {
				reply_error(q->r, 400, "\"stop\" must be a string or a list of strings");
				return -1;
			}
			if (!(j->stop[j->n_stop] = strdup(json_string_value(s))))
				goto oom;
			j->n_stop++;
		}
	} else if (stop && !json_is_null(stop)) {
		reply_error(q->r, 400, "\"stop\" must be a string or a list of strings");
		return -1;
	}
	for (size_t i = 0; i < j->n_stop; i++) {
		size_t len = strlen(j->stop[i]);
		if (!len) {
			reply_error(q->r, 400, "\"stop\" strings must not be empty");
			return -1;
		}
		if (len > j->stop_max)
			j->stop_max = len;
	}
	so = json_object_get(q->root, "stream_options");
	j->stream = json_is_true(json_object_get(q->root, "stream"));
	j->include_usage = json_is_true(json_object_get(so, "include_usage"));
	return 0;
oom:
	reply_error(q->r, 500, "out of memory");
	return -1;
}

/* The text of a message's content: a string, or a list of parts whose "text" parts are
 * joined. */
static int content_text(struct request *q, json_t *m, struct lr_buf *b)
{
	json_t *c = json_object_get(m, "content"), *part;
	size_t i;

	if (json_is_string(c)) {
		lr_buf_add(b, json_string_value(c), json_string_length(c));
		return 0;
	}
	if (json_is_array(c)) {
		json_array_foreach(c, i, part) {
			json_t *t = json_object_get(part, "text");
			if (!json_is_string(t)) {
				reply_error(q->r, 400, "only text content is supported (message part %zu has no \"text\")", i);
				return -1;
			}
			lr_buf_add(b, json_string_value(t), json_string_length(t));
		}
		return 0;
	}
	if (!c || json_is_null(c))
		return 0;
	reply_error(q->r, 400, "a message's \"content\" must be a string or a list of parts");
	return -1;
}

/* Which model or corpus: "model" is the model's id, a corpus's name, or absent (the
 * model); "corpus" names a corpus.  Any other name is refused (404) rather than
 * answered without the documents it may have meant. */
static int resolve(struct request *q, struct lr_serve_job *j)
{
	struct lr_server *sv = q->sv;
	json_t *m = json_object_get(q->root, "model"), *c = json_object_get(q->root, "corpus");
	const char *name = json_is_string(m) ? json_string_value(m) : NULL;
	const char *cname = json_is_string(c) ? json_string_value(c) : NULL;

	if ((m && !json_is_null(m) && !name) || (c && !json_is_null(c) && !cname)) {
		reply_error(q->r, 400, "\"model\" and \"corpus\" must be strings");
		return -1;
	}
	for (size_t i = 0; i < sv->n_corpora; i++) {
		if (cname ? strcmp(cname, sv->corpora[i].name) == 0 : name && strcmp(name, sv->corpora[i].name) == 0) {
			j->corpus = &sv->corpora[i];
			break;
		}
	}
	if (cname && !j->corpus) {
		reply_error(q->r, 404, "no corpus '%s' on this server (GET /v1/models lists them)", cname);
		return -1;
	}
	if (!j->corpus && name && strcmp(name, sv->model_id) != 0) {
		reply_error(q->r, 404, "the model '%s' does not exist on this server (it serves '%s'%s)", name,
		            sv->model_id, sv->n_corpora ? " and the corpora GET /v1/models lists" : "");
		return -1;
	}
	snprintf(j->model, sizeof j->model, "%s", j->corpus && !cname ? j->corpus->name : name ? name : sv->model_id);
	return 0;
}

/* The prompt of a chat request: the model's chat format of its messages, or for a
 * corpus the saved window and the last user message as the question. */
static int chat_prompt(struct request *q, struct lr_serve_job *j)
{
	struct lr_server *sv = q->sv;
	const struct lr_chat *chat = &sv->rm.chat;
	json_t *msgs = json_object_get(q->root, "messages"), *m;
	struct lr_buf b = { 0 };
	struct lr_err err = { 0 };
	size_t i, last_user = SIZE_MAX;
	int rc = 0;

	if (!json_is_array(msgs) || !json_array_size(msgs)) {
		reply_error(q->r, 400, "\"messages\" must be a non-empty list");
		return -1;
	}
	json_array_foreach(msgs, i, m) {
		json_t *role = json_object_get(m, "role");
		if (!json_is_string(role) || !json_string_length(role)) {
			reply_error(q->r, 400, "message %zu has no \"role\"", i);
			return -1;
		}
		if (strcmp(json_string_value(role), "user") == 0)
			last_user = i;
	}
	if (j->corpus) {
		if (last_user == SIZE_MAX) {
			reply_error(q->r, 400, "a corpus request needs a user message: its question");
			return -1;
		}
		if (content_text(q, json_array_get(msgs, last_user), &b))
			goto fail;
		if (strspn(lr_buf_cstr(&b), " \t\r\n\f\v") == b.n) {
			reply_error(q->r, 400, "the question (the last user message) is empty");
			goto fail;
		}
		for (size_t k = 0; k < j->corpus->pack->ids.n && !rc; k++)
			rc = lr_tok_ids_push(&j->prompt, j->corpus->pack->ids.v[k], &err);
		if (!rc)
			rc = lr_pack_question(j->corpus->pack, lr_buf_cstr(&b), b.n, &j->prompt, &err);
	} else {
		rc = lr_chat_begin(chat, &j->prompt, &err);
		json_array_foreach(msgs, i, m) {
			if (rc)
				break;
			lr_buf_clear(&b);
			if (content_text(q, m, &b))
				goto fail;
			rc = lr_chat_message(chat, json_string_value(json_object_get(m, "role")), lr_buf_cstr(&b), b.n,
			                     &j->prompt, &err);
		}
		if (!rc)
			rc = lr_chat_prompt(chat, &j->prompt, &err);
	}
	if (rc || lr_buf_failed(&b)) {
		reply_error(q->r, 500, "%s", rc ? err.msg : "out of memory");
		goto fail;
	}
	lr_buf_release(&b);
	return 0;
fail:
	lr_buf_release(&b);
	return -1;
}

/* The prompt of a completion request: BOS and the prompt's text. */
static int completion_prompt(struct request *q, struct lr_serve_job *j)
{
	const struct lr_tok *tok = q->sv->rm.tok;
	json_t *p = json_object_get(q->root, "prompt");
	struct lr_err err = { 0 };
	int rc;

	if (j->corpus) {
		reply_error(q->r, 400, "a corpus answers chat requests (/v1/chat/completions), not completions");
		return -1;
	}
	if (json_is_array(p) && json_array_size(p) == 1)
		p = json_array_get(p, 0);
	if (!json_is_string(p)) {
		reply_error(q->r, 400, "\"prompt\" must be a string");
		return -1;
	}
	if ((lr_tok_bos(tok) >= 0 && (rc = lr_tok_ids_push(&j->prompt, lr_tok_bos(tok), &err))) ||
	    (rc = lr_tok_encode(tok, json_string_value(p), json_string_length(p), 0, &j->prompt, &err))) {
		reply_error(q->r, 500, "%s", err.msg);
		return -1;
	}
	return 0;
}

/* The whole request as a job, checked against the window.  @return the job, or NULL
 * with the refusal in q->r. */
static struct lr_serve_job *read_job(struct request *q, enum lr_serve_kind kind)
{
	struct lr_server *sv = q->sv;
	struct lr_serve_job *j = lr_serve_job_new();
	uint64_t room;
	static unsigned long counter;
	struct timespec ts;

	if (!j) {
		reply_error(q->r, 500, "out of memory");
		return NULL;
	}
	j->kind = kind;
	j->sp = sv->run.sp;
	clock_gettime(CLOCK_REALTIME, &ts);
	j->created = (int64_t)ts.tv_sec;
	/* a seed of its own for every request that gives none */
	j->sp.seed = sv->run.seeded ? sv->run.sp.seed : (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)ts.tv_sec;
	snprintf(j->id, sizeof j->id, "%s-%" PRIx64 "%04lx", kind == LR_SERVE_CHAT ? "chatcmpl" : "cmpl",
	         (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000,
	         __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) & 0xffff);
	if (resolve(q, j) || sampling(q, j) ||
	    (kind == LR_SERVE_CHAT ? chat_prompt(q, j) : completion_prompt(q, j)))
		goto fail;
	if (j->prompt.n >= sv->n_ctx) {
		reply_error(q->r, 400, "the prompt is %zu tokens: more than the server's window of %" PRIu32
		            " tokens leaves room for", j->prompt.n, sv->n_ctx);
		goto fail;
	}
	room = sv->n_ctx - j->prompt.n;
	if (!j->max_tokens)   /* the server's -n, a corpus's answer room, else the rest of the window */
		j->max_tokens = sv->run.n_gen_given ? sv->run.n_gen : j->corpus ? j->corpus->room : room;
	if (j->max_tokens > room) {
		if (!json_object_get(q->root, "max_tokens") && !json_object_get(q->root, "max_completion_tokens")) {
			j->max_tokens = room;
		} else {
			reply_error(q->r, 400, "the prompt is %zu tokens and max_tokens %" PRIu64 ": more than the "
			            "server's window of %" PRIu32 " tokens", j->prompt.n, j->max_tokens, sv->n_ctx);
			goto fail;
		}
	}
	return j;
fail:
	lr_serve_job_unref(sv, j);
	return NULL;
}

/* ------------------------------------------------------------------ answers */

static json_t *usage_json(const struct lr_serve_job *j)
{
	return json_pack("{s:I, s:I, s:I, s:{s:I}}", "prompt_tokens", (json_int_t)j->prompt.n,
	                 "completion_tokens", (json_int_t)j->made, "total_tokens", (json_int_t)(j->prompt.n + j->made),
	                 "prompt_tokens_details", "cached_tokens", (json_int_t)j->cached);
}

/* longread's own part of a reply: the corpus and the check of the answer's citations
 * (as `ask --json` writes them), what was prefilled, timings. */
static json_t *longread_json(const struct lr_serve_job *j)
{
	json_t *o = json_pack("{s:I, s:I, s:{s:f, s:f, s:f}}",
	                      "prefilled", (json_int_t)(j->prompt.n - j->cached),
	                      "from_corpus_file", (json_int_t)j->from_corpus, "timings",
	                      "queued", j->t_start - j->t_queued,
	                      "first_token", j->t_first > 0 ? j->t_first - j->t_queued : 0.0,
	                      "total", j->t_end - j->t_queued);
	struct lr_cites cs = { 0 };
	struct lr_err err = { 0 };
	json_t *arr;

	if (!o || !j->corpus) {
		if (o)
			json_object_set_new(o, "corpus", json_null());
		return o;
	}
	json_object_set_new(o, "corpus", json_string(j->corpus->name));
	if (lr_cite_check(j->corpus->pack, lr_buf_cstr(&j->text), j->text.n, &cs, &err))
		return o;
	arr = json_array();
	for (size_t i = 0; i < cs.n; i++) {
		const struct lr_cite *c = &cs.v[i];
		int lines = c->kind == LR_CITE_LINE || c->kind == LR_CITE_PAGE;
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:s}",
			"text", c->text, "document", c->doc ? json_string(c->doc->doc->name) : json_null(),
			"kind", lr_cite_kind_name(c->kind),
			"first", lines ? json_integer((json_int_t)c->first) : json_null(),
			"last", lines ? json_integer((json_int_t)c->last) : json_null(),
			"section", c->section ? json_string(c->section) : json_null(),
			"quote", c->quote ? json_string(c->quote) : json_null(),
			"verified", c->status == LR_CITE_VERIFIED, "status", lr_cite_status_name(c->status),
			"found_document", c->found_doc ? json_string(c->found_doc->doc->name) : json_null(),
			"found_line", c->found_line ? json_integer((json_int_t)c->found_line) : json_null(),
			"found_page", c->found_page ? json_integer((json_int_t)c->found_page) : json_null(),
			"detail", c->detail));
	}
	json_object_set_new(o, "citations", arr);
	json_object_set_new(o, "citations_verified", json_integer((json_int_t)cs.n_verified));
	lr_cites_release(&cs);
	return o;
}

static json_t *answer_json(const struct lr_serve_job *j)
{
	const char *text = lr_buf_cstr(&j->text);
	json_t *choice = j->kind == LR_SERVE_CHAT ?
		json_pack("{s:i, s:{s:s, s:s%}, s:n, s:s}", "index", 0, "message", "role", "assistant",
		          "content", text, j->text.n, "logprobs", "finish_reason", j->finish) :
		json_pack("{s:i, s:s%, s:n, s:s}", "index", 0, "text", text, j->text.n, "logprobs",
		          "finish_reason", j->finish);

	return json_pack("{s:s, s:s, s:I, s:s, s:[o], s:o, s:o}", "id", j->id,
	                 "object", j->kind == LR_SERVE_CHAT ? "chat.completion" : "text_completion",
	                 "created", (json_int_t)j->created, "model", j->model, "choices", choice,
	                 "usage", usage_json(j), "longread", longread_json(j));
}

/* ------------------------------------------------------------------ streamed answers */

/* One event: "data: JSON\n\n".  @return 0, or -1 when the client is gone. */
static int event(struct lr_serve_job *j, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = -1;

	json_decref(o);
	if (s) {
		rc = lr_httpd_stream_write(j->out, "data: ", 6) || lr_httpd_stream_write(j->out, s, strlen(s)) ||
		     lr_httpd_stream_write(j->out, "\n\n", 2) ? -1 : 0;
		free(s);
	}
	return rc;
}

/* A chunk with one choice: delta (chat) or text (completions). */
static json_t *chunk(const struct lr_serve_job *j, json_t *delta_or_text, const char *finish)
{
	json_t *choice = json_pack("{s:i, s:o, s:n, s:o}", "index", 0,
	                           j->kind == LR_SERVE_CHAT ? "delta" : "text", delta_or_text, "logprobs",
	                           "finish_reason", finish ? json_string(finish) : json_null());

	return json_pack("{s:s, s:s, s:I, s:s, s:[o]}", "id", j->id,
	                 "object", j->kind == LR_SERVE_CHAT ? "chat.completion.chunk" : "text_completion",
	                 "created", (json_int_t)j->created, "model", j->model, "choices", choice);
}

void lr_serve_stream_begin(struct lr_server *sv, struct lr_serve_job *j)
{
	(void)sv;
	if (j->kind == LR_SERVE_CHAT)
		event(j, chunk(j, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL));
}

int lr_serve_stream_text(struct lr_server *sv, struct lr_serve_job *j, const char *s, size_t n)
{
	(void)sv;
	return event(j, chunk(j, j->kind == LR_SERVE_CHAT ? json_pack("{s:s%}", "content", s, n) :
	                                                     json_stringn(s, n), NULL));
}

void lr_serve_stream_end(struct lr_server *sv, struct lr_serve_job *j)
{
	json_t *last;

	(void)sv;
	if (j->status) {
		event(j, error_json(j->status, j->error));
	} else {
		last = chunk(j, j->kind == LR_SERVE_CHAT ? json_object() : json_string(""), j->finish);
		json_object_set_new(last, "longread", longread_json(j));
		event(j, last);
		if (j->include_usage) {
			last = json_pack("{s:s, s:s, s:I, s:s, s:[]}", "id", j->id,
			                 "object", j->kind == LR_SERVE_CHAT ? "chat.completion.chunk" : "text_completion",
			                 "created", (json_int_t)j->created, "model", j->model, "choices");
			json_object_set_new(last, "usage", usage_json(j));
			event(j, last);
		}
		lr_httpd_stream_write(j->out, "data: [DONE]\n\n", 14);
	}
	lr_httpd_stream_end(j->out);
}

/* ------------------------------------------------------------------ endpoints */

static int client_gone(const void *req)
{
	return lr_httpd_req_gone(req);
}

static void answer(struct lr_server *sv, struct request *q, enum lr_serve_kind kind)
{
	struct lr_httpd_reply *r = q->r;
	struct lr_serve_job *j = read_job(q, kind);
	struct lr_err err = { 0 };
	int rc;

	if (!j)
		return;
	if (j->stream && lr_httpd_stream_new(&j->out, &err)) {
		reply_error(r, 500, "out of memory");
		goto out;
	}
	rc = lr_serve_submit(sv, j);
	if (rc) {
		if (rc == 1) {
			r->retry_after = 1;
			reply_error(r, 503, "the server is busy: %u requests are waiting already (--queue); "
			            "try again shortly", sv->queue_max);
		} else {
			reply_error(r, 503, "the server is shutting down");
		}
		goto out;
	}
	if (j->stream) {
		/* the reply streams what the engine writes, from its first event */
		r->status = 200;
		r->type = "text/event-stream";
		r->stream = j->out;
		lr_httpd_stream_ref(j->out);
		goto out;
	}
	lr_serve_wait(sv, j, client_gone, q->req);
	if (j->gone)
		reply_error(r, 499, "the client went away");   /* nobody reads it */
	else if (j->status)
		reply_error(r, j->status, "%s", j->error);
	else
		reply_json(r, 200, answer_json(j));
out:
	lr_serve_job_unref(sv, j);
}

static void models(struct lr_server *sv, struct lr_httpd_reply *r)
{
	const struct lr_hparams *hp = &sv->rm.m->hp;
	json_t *data = json_array();

	json_array_append_new(data, json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I, s:I}}", "id", sv->model_id,
		"object", "model", "created", (json_int_t)0, "owned_by", "longread",
		"max_model_len", (json_int_t)sv->n_ctx,
		"meta", "n_ctx_train", (json_int_t)hp->n_ctx_train, "n_vocab", (json_int_t)hp->n_vocab));
	for (size_t i = 0; i < sv->n_corpora; i++) {
		const struct lr_serve_corpus *c = &sv->corpora[i];
		json_array_append_new(data, json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:s, s:s, s:I, s:I, s:I}}",
			"id", c->name, "object", "model", "created", (json_int_t)c->lrc.meta.created,
			"owned_by", "longread", "max_model_len", (json_int_t)sv->n_ctx, "longread",
			"corpus", c->path, "model", sv->model_id, "documents", (json_int_t)c->pack->n_docs,
			"tokens", (json_int_t)c->lrc.meta.n_prefix, "answer_room", (json_int_t)c->room));
	}
	reply_json(r, 200, json_pack("{s:s, s:o}", "object", "list", "data", data));
}

/* POST /tokenize: llama-server's form ({"content"} -> {"tokens"}) and vLLM's
 * ({"prompt"} -> {"count", "max_model_len", "tokens"}). */
static void tokenize(struct lr_server *sv, struct request *q)
{
	json_t *content = json_object_get(q->root, "content"), *prompt = json_object_get(q->root, "prompt");
	json_t *text = content ? content : prompt, *arr, *add;
	struct lr_tok_ids ids = { 0 };
	struct lr_err err = { 0 };
	int rc = 0;

	if (text && !json_is_string(text)) {
		reply_error(q->r, 400, "\"%s\" must be a string", content ? "content" : "prompt");
		return;
	}
	/* llama-server adds no BOS unless asked, vLLM does unless told not to */
	add = json_object_get(q->root, content ? "add_special" : "add_special_tokens");
	if (text && lr_tok_bos(sv->rm.tok) >= 0 && (content ? json_is_true(add) : !json_is_false(add)))
		rc = lr_tok_ids_push(&ids, lr_tok_bos(sv->rm.tok), &err);
	if (!rc && text)
		rc = lr_tok_encode(sv->rm.tok, json_string_value(text), json_string_length(text), 0, &ids, &err);
	if (rc) {
		lr_tok_ids_release(&ids);
		reply_error(q->r, 500, "%s", err.msg);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < ids.n; i++)
		json_array_append_new(arr, json_integer(ids.v[i]));
	if (prompt && !content)
		reply_json(q->r, 200, json_pack("{s:I, s:I, s:o}", "count", (json_int_t)ids.n,
		                                 "max_model_len", (json_int_t)sv->n_ctx, "tokens", arr));
	else
		reply_json(q->r, 200, json_pack("{s:o}", "tokens", arr));
	lr_tok_ids_release(&ids);
}

/* POST /detokenize: {"tokens": [...]} -> {"content": text} (llama-server), with vLLM's
 * "prompt" as well. */
static void detokenize(struct lr_server *sv, struct request *q)
{
	json_t *t = json_object_get(q->root, "tokens"), *v;
	struct lr_tok_ids ids = { 0 };
	struct lr_err err = { 0 };
	char *s = NULL;
	size_t n = 0, i;
	uint32_t nv = lr_tok_n_vocab(sv->rm.tok);

	if (!json_is_array(t)) {
		reply_error(q->r, 400, "\"tokens\" must be a list of token ids");
		return;
	}
	json_array_foreach(t, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= nv) {
			reply_error(q->r, 400, "token %zu is not an id of this model's vocabulary (0 to %" PRIu32 ")",
			            i, nv - 1);
			goto out;
		}
		if (lr_tok_ids_push(&ids, (int32_t)json_integer_value(v), &err))
			break;
	}
	if (err.code || lr_tok_decode(sv->rm.tok, ids.v, ids.n, 0, &s, &n, &err)) {
		reply_error(q->r, 500, "%s", err.msg);
		goto out;
	}
	reply_json(q->r, 200, json_pack("{s:s%, s:s%}", "content", s, n, "prompt", s, n));
out:
	free(s);
	lr_tok_ids_release(&ids);
}

static void health(struct lr_server *sv, struct lr_httpd_reply *r)
{
	unsigned queued;
	int running, draining;
	uint64_t served, refused;

	pthread_mutex_lock(&sv->mu);
	queued = sv->n_queued;
	running = sv->running != NULL;
	draining = sv->draining;
	served = sv->n_served;
	refused = sv->n_refused;
	pthread_mutex_unlock(&sv->mu);
	reply_json(r, draining ? 503 : 200, json_pack("{s:s, s:i, s:i, s:i, s:I, s:I}",
		"status", draining ? "shutting down" : "ok", "running", running, "queued", (int)queued,
		"queue_max", (int)sv->queue_max, "served", (json_int_t)served, "refused", (json_int_t)refused));
}

void lr_serve_handle(void *ctx, const struct lr_httpd_req *req, struct lr_httpd_reply *r)
{
	struct lr_server *sv = ctx;
	const char *p = req->path;
	int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
	struct request q = { sv, NULL, r, req };
	json_error_t je;

	if (strncmp(p, "/v1/", 4) == 0)
		p += 3;
	if (strcmp(p, "/health") == 0) {
		if (get)
			health(sv, r);
		else
			reply_error(r, 405, "use GET for %s", req->path);
		return;
	}
	if (sv->api_key && !authorized(sv, req->authorization)) {
		reply_error(r, 401, req->authorization ? "invalid API key" : "an API key is required "
		            "(Authorization: Bearer KEY)");
		return;
	}
	if (strcmp(p, "/models") == 0) {
		if (get)
			models(sv, r);
		else
			reply_error(r, 405, "use GET for %s", req->path);
		return;
	}
	if (strcmp(p, "/chat/completions") && strcmp(p, "/completions") && strcmp(p, "/tokenize") &&
	    strcmp(p, "/detokenize")) {
		reply_error(r, 404, "no such endpoint: %s %s", req->method, req->path);
		return;
	}
	if (!post) {
		reply_error(r, 405, "use POST for %s", req->path);
		return;
	}
	if (!(q.root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je))) {
		reply_error(r, 400, "the request body is not valid JSON: %s (line %d, column %d)", je.text, je.line,
		            je.column);
		return;
	}
	if (!json_is_object(q.root))
		reply_error(r, 400, "the request body must be a JSON object");
	else if (strcmp(p, "/chat/completions") == 0)
		answer(sv, &q, LR_SERVE_CHAT);
	else if (strcmp(p, "/completions") == 0)
		answer(sv, &q, LR_SERVE_COMPLETION);
	else if (strcmp(p, "/tokenize") == 0)
		tokenize(sv, &q);
	else
		detokenize(sv, &q);
	json_decref(q.root);
}
