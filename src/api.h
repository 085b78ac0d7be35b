/* src/api.h — the client side of the OpenAI-compatible API (vLLM, llama-server, SGLang,
 * hosted endpoints): which model a server serves and its window (GET /v1/models),
 * counting tokens with the server's tokenizer (POST /tokenize, llama-server's or
 * vLLM's form), and a chat answer streamed as server-sent events (POST
 * /v1/chat/completions).  Request bodies are written with src/json.c (src/api_body.c);
 * replies are parsed with jansson (used only here and, for the server, in
 * src/serve_api.c).  Faults become LR_E* codes: LR_ENET (not reached), LR_ESERVER (an
 * error status or an error event, with the server's own message), LR_EREPLY (stalled,
 * cut off, malformed).  A 429 or 503 is retried a bounded number of times, waiting as
 * Retry-After asks (else 1, 2, 4, ... s).
 * Nothing here prints: notices go through a callback. */
#ifndef LR_API_H
#define LR_API_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

#define LR_API_RETRIES        4      /* tries after the first, for 429 and 503 */
#define LR_API_MAX_WAIT       60.0   /* seconds: a longer Retry-After fails at once */
#define LR_API_ERROR_BODY     65536  /* bytes of an error reply kept for its message */

struct lr_api_opts {
	const char *url;              /* the server (http://host:port: /v1 is added) or a
	                                 base URL with a path, used as is (.../v1) */
	const char *model;            /* NULL: the only model the server lists */
	const char *key;              /* bearer token, or NULL; never in a message */
	double connect_timeout;       /* seconds */
	double idle_timeout;          /* seconds */
	unsigned retries;             /* after a 429 or 503 */
	int (*interrupted)(void);     /* polled while waiting (NULL = never) */
	/* called before each retry: the status, the wait in seconds, which retry, and the
	 * server's message (may be ""); may be NULL */
	void (*on_retry)(void *ctx, long status, double wait, unsigned retry, unsigned of, const char *msg);
	void *ctx;
};

enum lr_api_tokenizer {
	LR_API_TOK_NONE,              /* the server has no /tokenize that answers */
	LR_API_TOK_LLAMA,             /* llama-server: {"content"} -> {"tokens"} */
	LR_API_TOK_VLLM,              /* vLLM: {"model", "prompt"} -> {"count", "tokens"} */
};

struct lr_api {
	char *base;                   /* the URL requests are made under (.../v1) */
	char *origin;                 /* scheme://host:port: where /tokenize lives */
	char shown[512];              /* base as messages and records show it (no secrets) */
	char origin_shown[512];       /* the same for origin */
	char *model;                  /* the model asked for (after lr_api_models) */
	uint32_t n_ctx;               /* its window as the server lists it; 0 = not said */
	int has_list;                 /* the server listed its models */
	int listed;                   /* the model is in that list */
	enum lr_api_tokenizer tok;
	unsigned n_requests;
	/* private */
	struct lr_http *http;
	struct lr_api_opts o;
};

/* A client for o->url: *out, free with lr_api_free.  No request is made.  Errors:
 * LR_EINVAL (not an http(s) URL, or one with a query), LR_ENOMEM. */
int lr_api_new(struct lr_api **out, const struct lr_api_opts *o, struct lr_err *err);
void lr_api_free(struct lr_api *a);

/* GET /v1/models: choose the model (o->model, else the only one listed) and read its
 * window (vLLM's max_model_len, llama-server's meta.n_ctx_train, or context_length).
 * A server without the list (404) leaves the window unknown.  Errors: LR_EINVAL (no
 * model given and the server lists none or several: message says which), LR_ENET,
 * LR_ESERVER, LR_EREPLY (a list that is not the expected JSON), LR_EINTR. */
int lr_api_models(struct lr_api *a, struct lr_err *err);

/* Find the server's tokenizer (sets a->tok): tries llama-server's form of /tokenize,
 * then vLLM's; a server that answers neither with tokens has none (not an error).
 * Errors: LR_ENET, LR_EINTR, LR_ENOMEM. */
int lr_api_probe_tokenizer(struct lr_api *a, struct lr_err *err);

/* The number of tokens in s[0..n) as the server counts it (no BOS).  Needs a->tok.
 * Errors: LR_ENET, LR_ESERVER, LR_EREPLY, LR_EINTR, LR_ENOMEM. */
int lr_api_count(struct lr_api *a, const char *s, size_t n, size_t *out, struct lr_err *err);

/* A chat request.  Sampling values < 0 are not sent (the server's defaults apply). */
struct lr_api_chat {
	const char *system;           /* the system message, or NULL for none */
	const char *user;             /* the user message */
	size_t system_len, user_len;
	uint64_t max_tokens;
	double temperature, top_p, min_p, repeat_penalty;
	int64_t top_k;
	int64_t seed;                 /* < 0: not sent */
};

struct lr_api_answer {
	char finish[32];              /* the server's finish_reason ("stop", "length", ...),
	                                 "" when none came */
	int done;                     /* the stream ended as it should ([DONE], or the end
	                                 of a reply after a finish_reason) */
	size_t bytes;                 /* answer bytes received */
	double t_sent, t_first, t_end;  /* monotonic seconds; t_first 0 = no text came */
	int64_t prompt_tokens;        /* from the server's usage; -1 when not reported */
	int64_t completion_tokens;
	int64_t cached_tokens;        /* prompt tokens the server's prefix cache held */
	unsigned retries;             /* 429/503 replies retried */
};

/* Receives each piece of the answer text as it arrives.  Return 0 or an LR_E* code
 * (with err filled) that stops the answer. */
typedef int (*lr_api_text)(void *ctx, const char *p, size_t n, struct lr_err *err);

/* POST /v1/chat/completions with "stream": true and stream the answer to on_text.
 * res is filled as far as the answer came, also on failure.  @return 0 when the answer
 * ended properly; LR_ENET, LR_ESERVER (with the server's message; a 429 or 503 after
 * the retries), LR_EREPLY (stalled past the idle timeout, cut off before its end,
 * malformed JSON or events), LR_EINTR, LR_ENOMEM, or on_text's code. */
int lr_api_chat(struct lr_api *a, const struct lr_api_chat *req, lr_api_text on_text, void *ctx,
                struct lr_api_answer *res, struct lr_err *err);

#endif
