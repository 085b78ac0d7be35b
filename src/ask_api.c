/* src/ask_api.c — ask's --api backend: options, the key from the environment, the
 * server's model, window and tokenizer, the packed window as two chat messages
 * (system; documents and question), and the answer streamed to stdout. */
#include "src/ask_api.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/cli.h"
#include "src/progress.h"
#include "src/run.h"

/* The Llama 3 special tokens a server may read in message text as the tokens
 * themselves (longread's own tokenizer never does). */
static const char *const specials[] = {
	"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
	"<|eot_id|>", "<|eom_id|>", "<|python_tag|>",
};

void lr_ask_api_init(struct lr_ask_api *x, const char *cmd)
{
	memset(x, 0, sizeof *x);
	x->cmd = cmd;
	x->o.connect_timeout = LR_ASK_API_CONNECT_TIMEOUT;
	x->o.idle_timeout = LR_ASK_API_IDLE_TIMEOUT;
	x->o.retries = LR_API_RETRIES;
}

void lr_ask_api_release(struct lr_ask_api *x)
{
	lr_api_free(x->api);
	lr_buf_release(&x->prefix);
	lr_buf_release(&x->user);
	x->api = NULL;
}

int lr_ask_api_opt(struct lr_ask_api *x, int c, const char *arg)
{
	uint64_t v;
	int rc;

	switch (c) {
	case LR_ASK_API_O_URL:
	case LR_ASK_API_O_ESCALATE:
		if (!*arg)
			return cli_usage(x->cmd, "empty URL for %s", c == LR_ASK_API_O_URL ? "--api" : "--escalate-api");
		if (x->url && x->escalate != (c == LR_ASK_API_O_ESCALATE))
			return cli_usage(x->cmd, "--api and --escalate-api: give one (--api answers every question on "
			                 "the server, --escalate-api only those the local answer fails)");
		x->url = arg;
		x->escalate = c == LR_ASK_API_O_ESCALATE;
		return 0;
	case LR_ASK_API_O_MODEL:
		if (!*arg)
			return cli_usage(x->cmd, "empty name for --api-model");
		x->o.model = arg;
		return 0;
	case LR_ASK_API_O_TIMEOUT:
		return cli_parse_double(x->cmd, "--api-timeout", arg, 0.001, 86400, &x->o.connect_timeout);
	case LR_ASK_API_O_IDLE:
		return cli_parse_double(x->cmd, "--api-idle-timeout", arg, 0.001, 86400, &x->o.idle_timeout);
	case LR_ASK_API_O_RETRIES:
		if ((rc = cli_parse_u64(x->cmd, "--api-retries", arg, 0, 20, &v)))
			return rc;
		x->o.retries = (unsigned)v;
		return 0;
	}
	return -1;
}

void lr_ask_api_help(FILE *f)
{
	fprintf(f,
	       "\n"
	       "Answering on a server (vLLM, llama-server, a hosted OpenAI-compatible API; see\n"
	       "docs/api.md).  Extraction, packing, the budget and the citation check stay here;\n"
	       "the key comes from LONGREAD_API_KEY or OPENAI_API_KEY, never from the command line:\n"
	       "      --api URL           the server (http://host:port; a URL with a path, such as\n"
	       "                          https://host/api/v1, is the API's base as is); default\n"
	       "                          $LONGREAD_API_URL\n"
	       "      --api-model NAME    the model to ask (default: the only one the server lists)\n"
	       "      --vocab FILE        count tokens with this GGUF vocabulary (exact, as -m is);\n"
	       "                          without either, the server's /tokenize counts them, else\n"
	       "                          they are estimated at %d bytes a token\n"
	       "      --api-timeout S     seconds to connect (name lookup, TCP, TLS; default %g)\n"
	       "      --api-idle-timeout S  seconds without a byte from the server before giving up,\n"
	       "                          the wait for the first token included (default %g)\n"
	       "      --api-retries N     retries after HTTP 429 or 503 (default %d), waiting as\n"
	       "                          Retry-After says (at most %g s), else 1, 2, 4, ... s\n"
	       "      --escalate-api URL  answer with the local model (-m); when its answer cites\n"
	       "                          nothing or a citation does not verify, ask this server\n"
	       "                          the same question over the same window and print both\n"
	       "                          (the --api-* options apply to it)\n",
	       LR_ASK_API_BYTES_PER_TOKEN, LR_ASK_API_CONNECT_TIMEOUT, LR_ASK_API_IDLE_TIMEOUT, LR_API_RETRIES,
	       LR_API_MAX_WAIT);
}

int lr_ask_api_remote(const struct lr_ask_api *x)
{
	return x->api && !x->escalate;
}

const char *lr_ask_api_count_name(enum lr_ask_api_count c)
{
	switch (c) {
	case LR_ASK_API_COUNT_LOCAL: return "local";
	case LR_ASK_API_COUNT_SERVER: return "server";
	case LR_ASK_API_COUNT_ESTIMATE: return "estimate";
	}
	return "?";
}

/* ------------------------------------------------------------------ starting */

static void on_retry(void *ctx, long status, double wait, unsigned retry, unsigned of, const char *msg)
{
	(void)ctx;
	cli_warn("the server answered HTTP %ld%s%s: retry %u of %u in %g s", status, *msg ? ": " : "", msg, retry,
	         of, wait);
}

static int count_server(void *ctx, const char *s, size_t n, size_t *out, struct lr_err *err)
{
	return lr_api_count(ctx, s, n, out, err);
}

static int count_estimate(void *ctx, const char *s, size_t n, size_t *out, struct lr_err *err)
{
	(void)ctx, (void)s, (void)err;
	*out = (n + LR_ASK_API_BYTES_PER_TOKEN - 1) / LR_ASK_API_BYTES_PER_TOKEN;
	return 0;
}

/* An http:// origin whose host is not this machine. */
static int plain_remote(const char *origin)
{
	const char *h = origin + 7, *at, *end;
	size_t n;

	if (strncasecmp(origin, "http://", 7) != 0)
		return 0;
	if ((at = strchr(h, '@')))
		h = at + 1;
	end = *h == '[' ? strchr(h, ']') : h + strcspn(h, ":/");
	n = end ? (size_t)(end - h) + (*h == '[') : strlen(h);
	return !((n == 9 && strncasecmp(h, "localhost", 9) == 0) || (n == 5 && memcmp(h, "[::1]", 5) == 0) ||
	         strncmp(h, "127.", 4) == 0);
}

static const char *getenv_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A failure of the client: LR_EINVAL is the user's to fix (a usage error). */
static int client_fail(const struct lr_ask_api *x, const struct lr_err *err)
{
	return err->code == LR_EINVAL ? cli_usage(x->cmd, "%s", err->msg) : cli_fail(err);
}

int lr_ask_api_start(struct lr_ask_api *x, struct lr_session *s)
{
	struct lr_err err = { 0 };

	if (!x->url)
		x->url = getenv_set("LONGREAD_API_URL");
	if (!x->url) {
		if (x->o.model)
			return cli_usage(x->cmd, "--api-model needs --api URL (or LONGREAD_API_URL)");
		return 0;
	}
	if (x->local_only && !x->escalate)
		return cli_usage(x->cmd, "-t and --kv set up the local engine: they mean nothing with --api");
	if (x->escalate && s->vocab)
		return cli_usage(x->cmd, "--vocab counts tokens for --api; --escalate-api uses the local model's");
	x->o.url = x->url;
	if (!(x->o.key = getenv_set("LONGREAD_API_KEY")))
		x->o.key = getenv_set("OPENAI_API_KEY");
	x->o.interrupted = lr_run_interrupted;
	x->o.on_retry = on_retry;
	if (lr_api_new(&x->api, &x->o, &err))
		return client_fail(x, &err);
	if (x->o.key && plain_remote(x->api->origin))
		cli_warn("the API key goes unencrypted (plain http) to '%s'", x->api->shown);
	x->o.key = NULL;
	lr_run_sigint(1);   /* Ctrl-C stops a request cleanly from here on */
	if (x->escalate) {
		/* the local engine answers first: its model counts the tokens, its window holds */
		if (lr_api_models(x->api, &err))
			return client_fail(x, &err);
		if (x->o.model && x->api->has_list && !x->api->listed)
			cli_warn("the server does not list the model '%s'", x->o.model);
		x->counting = LR_ASK_API_COUNT_LOCAL;
		return 0;
	}
	s->remote = 1;
	/* the list even when -c and --api-model make it unnecessary: it checks -c, and a
	 * wrong key or URL fails here, before the documents are read */
	if (lr_api_models(x->api, &err))
		return client_fail(x, &err);
	s->remote_ctx = x->api->n_ctx;
	if (x->o.model && x->api->has_list && !x->api->listed)
		cli_warn("the server does not list the model '%s'", x->o.model);
	if (s->run.model || s->vocab) {
		x->counting = LR_ASK_API_COUNT_LOCAL;
		return 0;
	}
	if (lr_api_probe_tokenizer(x->api, &err))
		return client_fail(x, &err);
	x->counting = x->api->tok != LR_API_TOK_NONE ? LR_ASK_API_COUNT_SERVER : LR_ASK_API_COUNT_ESTIMATE;
	x->counter.count = x->counting == LR_ASK_API_COUNT_SERVER ? count_server : count_estimate;
	x->counter.ctx = x->api;
	s->counter = &x->counter;
	return 0;
}

int lr_ask_api_ready(struct lr_ask_api *x, const struct lr_session *s)
{
	struct lr_err err = { 0 };
	char w[32], how[96];

	if (x->escalate) {
		uint32_t need = lr_pack_total(s->pack);
		fprintf(stderr, "longread: escalation API '%s', model '%s': asked when a local answer cites nothing "
		        "or a citation does not verify\n", x->api->shown, x->api->model);
		if (x->api->n_ctx && x->api->n_ctx < need)
			cli_warn("the server's window (%s tokens) is smaller than this one (%s): it may refuse the "
			         "escalated questions", lr_count(x->api->n_ctx, w, sizeof w), lr_count(need, how, sizeof how));
		goto text;
	}
	if (x->counting == LR_ASK_API_COUNT_LOCAL)
		snprintf(how, sizeof how, "tokens counted by the %s's tokenizer", s->run.model ? "model" : "vocabulary");
	else if (x->counting == LR_ASK_API_COUNT_SERVER)
		snprintf(how, sizeof how, "tokens counted by the server's /tokenize");
	else
		snprintf(how, sizeof how, "token counts are estimates (%d bytes a token): the server has no /tokenize",
		         LR_ASK_API_BYTES_PER_TOKEN);
	fprintf(stderr, "longread: API '%s', model '%s', window %s tokens (%s); %s\n", x->api->shown,
	        x->api->model, lr_count(s->window, w, sizeof w),
	        strcmp(s->window_from, "server") == 0 ? "the server's" :
	        strcmp(s->window_from, "model") == 0 ? "the model file's" : "-c", how);
text:
	if (lr_pack_user_text(s->pack, &x->prefix, &err))
		return cli_fail(&err);
	for (size_t i = 0; i < sizeof specials / sizeof *specials; i++)
		if (memmem(x->prefix.p, x->prefix.n, specials[i], strlen(specials[i]))) {
			cli_warn("the documents spell the special token '%s': a server may read it as that token "
			         "(docs/api.md)", specials[i]);
			break;
		}
	return 0;
}

/* ------------------------------------------------------------------ answering */

struct out {
	FILE *f;
	struct lr_buf *text;
};

static int on_text(void *ctx, const char *p, size_t n, struct lr_err *err)
{
	struct out *o = ctx;

	if (o->f) {
		fwrite(p, 1, n, o->f);
		fflush(o->f);
	}
	lr_buf_add(o->text, p, n);
	return lr_buf_failed(o->text) ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
}

int lr_ask_api_answer(struct lr_ask_api *x, const struct lr_session *s, const char *q, size_t len,
                      FILE *out, struct lr_buf *text, struct lr_api_answer *res, struct lr_err *err)
{
	const struct lr_sampler_params *sp = &s->run.sp;
	struct lr_api_chat req = { 0 };
	struct out o = { out, text };
	int rc;

	memset(res, 0, sizeof *res);
	lr_buf_clear(&x->user);
	lr_buf_add(&x->user, x->prefix.p, x->prefix.n);
	if ((rc = lr_pack_question_text(q, len, &x->user, err)))
		return rc;
	req.system = *s->pack->system ? s->pack->system : NULL;
	req.system_len = strlen(s->pack->system);
	req.user = x->user.p;
	req.user_len = x->user.n;
	req.max_tokens = s->pack->o.answer_tokens;
	req.temperature = x->given & LR_ASK_API_TEMP ? sp->temp : -1;
	req.top_p = x->given & LR_ASK_API_TOPP ? sp->top_p : -1;
	req.top_k = x->given & LR_ASK_API_TOPK ? sp->top_k : -1;
	req.min_p = x->given & LR_ASK_API_MINP ? sp->min_p : -1;
	req.repeat_penalty = x->given & LR_ASK_API_REP ? sp->repeat_penalty : -1;
	req.seed = x->given & LR_ASK_API_SEED ? (int64_t)(sp->seed & INT64_MAX) : -1;
	lr_buf_clear(text);
	return lr_api_chat(x->api, &req, on_text, &o, res, err);
}

static void json_count(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	if (v >= 0)
		json_int(j, v);
	else
		json_nil(j);
}

void lr_ask_api_json(struct json *j, const struct lr_ask_api *x, const struct lr_session *s,
                     const struct lr_api_answer *res)
{
	json_obj(j);
	json_key(j, "url"); json_str(j, x->api->shown);
	json_key(j, "model"); json_str(j, x->api->model);
	json_key(j, "window_from"); json_str(j, s->window_from);
	json_key(j, "server_window");
	if (x->api->n_ctx) json_uint(j, x->api->n_ctx); else json_nil(j);
	json_key(j, "tokenizer"); json_str(j, lr_ask_api_count_name(x->counting));
	json_key(j, "estimate"); json_bool(j, x->counting == LR_ASK_API_COUNT_ESTIMATE);
	if (!res) {   /* plan: no answer */
		json_obj_end(j);
		return;
	}
	json_key(j, "finish_reason");
	if (res->finish[0]) json_str(j, res->finish); else json_nil(j);
	json_count(j, "prompt_tokens", res->prompt_tokens);
	json_count(j, "completion_tokens", res->completion_tokens);
	json_count(j, "cached_tokens", res->cached_tokens);
	json_key(j, "retries"); json_uint(j, res->retries);
	json_obj_end(j);
}
