/* src/ask_api.h — ask's --api backend: its options, finding the server's model, window
 * and tokenizer before the documents are packed, and answering one question over the
 * API.  Extraction, packing, the budget and the citation check stay in ask; this room
 * only turns the packed window into chat messages and the streamed reply into answer
 * text (see docs/api.md). */
#ifndef LR_ASK_API_H
#define LR_ASK_API_H

#include <stdio.h>

#include "src/api.h"
#include "src/buf.h"
#include "src/json.h"
#include "src/session.h"

#define LR_ASK_API_CONNECT_TIMEOUT 10.0    /* seconds (--api-timeout) */
#define LR_ASK_API_IDLE_TIMEOUT    300.0   /* seconds (--api-idle-timeout): the wait for
                                              the first token covers the server's prefill */
#define LR_ASK_API_BYTES_PER_TOKEN 4       /* the estimate without a tokenizer */

enum {
	LR_ASK_API_O_URL = 4000, LR_ASK_API_O_MODEL, LR_ASK_API_O_TIMEOUT, LR_ASK_API_O_IDLE,
	LR_ASK_API_O_RETRIES, LR_ASK_API_O_VOCAB, LR_ASK_API_O_ESCALATE,
};

#define LR_ASK_API_OPTIONS \
	{ "api", required_argument, NULL, LR_ASK_API_O_URL }, \
	{ "api-model", required_argument, NULL, LR_ASK_API_O_MODEL }, \
	{ "api-timeout", required_argument, NULL, LR_ASK_API_O_TIMEOUT }, \
	{ "api-idle-timeout", required_argument, NULL, LR_ASK_API_O_IDLE }, \
	{ "api-retries", required_argument, NULL, LR_ASK_API_O_RETRIES }, \
	{ "vocab", required_argument, NULL, LR_ASK_API_O_VOCAB }, \
	{ "escalate-api", required_argument, NULL, LR_ASK_API_O_ESCALATE }

/* Sampling options given on the command line: only these are sent. */
enum {
	LR_ASK_API_TEMP = 1, LR_ASK_API_TOPK = 2, LR_ASK_API_TOPP = 4, LR_ASK_API_MINP = 8,
	LR_ASK_API_REP = 16, LR_ASK_API_SEED = 32,
};

enum lr_ask_api_count {
	LR_ASK_API_COUNT_LOCAL,      /* -m or --vocab: exact */
	LR_ASK_API_COUNT_SERVER,     /* the server's /tokenize: exact */
	LR_ASK_API_COUNT_ESTIMATE,   /* LR_ASK_API_BYTES_PER_TOKEN bytes a token */
};

struct lr_ask_api {
	const char *url;             /* --api, else $LONGREAD_API_URL; NULL = local */
	int escalate;                /* url is --escalate-api's: the local engine answers, the
	                                server when a local answer's citations fail */
	struct lr_api_opts o;
	unsigned given;              /* LR_ASK_API_* sampling options given */
	int local_only;              /* an option that means nothing remotely (-t, --kv) */
	struct lr_api *api;
	enum lr_ask_api_count counting;
	struct lr_pack_counter counter;
	struct lr_buf prefix;        /* the user turn up to the question */
	struct lr_buf user;          /* the user turn of the question being asked */
	const char *cmd;
};

void lr_ask_api_init(struct lr_ask_api *x, const char *cmd);
void lr_ask_api_release(struct lr_ask_api *x);

/* Handle option c if it is one of the client's.  @return 0 handled, -1 not one, or
 * LR_EXIT_USAGE (printed). */
int lr_ask_api_opt(struct lr_ask_api *x, int c, const char *arg);
void lr_ask_api_help(FILE *f);

/* After option parsing, before lr_session_open: the URL from the environment when not
 * given; in API mode, the key, the model and its window (GET /v1/models, unless -c and
 * --api-model make it unnecessary), and how tokens will be counted; s is set up for a
 * remote engine (with --escalate-api it stays local: the model's tokenizer counts).  @return 0 (also when not in API mode: x->url is NULL) or an exit
 * status (the error printed). */
int lr_ask_api_start(struct lr_ask_api *x, struct lr_session *s);

/* After packing: the line that says where the answers come from and how the tokens
 * were counted (with --escalate-api: when the server is asked), and the window's text.
 * @return 0 or an exit status (printed). */
int lr_ask_api_ready(struct lr_ask_api *x, const struct lr_session *s);

/* Ask one question (q[0..len), not empty) over the API: the answer streams to out (if
 * not NULL) and into text as it arrives.  res is filled as far as the answer came, also
 * on failure.  @return 0 or an LR_E* code (see lr_api_chat). */
int lr_ask_api_answer(struct lr_ask_api *x, const struct lr_session *s, const char *q, size_t len,
                      FILE *out, struct lr_buf *text, struct lr_api_answer *res, struct lr_err *err);

/* The "api" object of ask's --json record: url, model, window and where it came from,
 * how tokens were counted, the server's usage and prefix-cache figures (res: the
 * answer's; NULL for plan, which has none). */
void lr_ask_api_json(struct json *j, const struct lr_ask_api *x, const struct lr_session *s,
                     const struct lr_api_answer *res);

/* Whether the server answers every question (--api), rather than none or only
 * escalated ones. */
int lr_ask_api_remote(const struct lr_ask_api *x);

/* "local", "server", "estimate". */
const char *lr_ask_api_count_name(enum lr_ask_api_count c);

#endif
