/* src/session.h — what plan and ask share up to the point of running the model: their
 * options (model, corpus, packing, questions), loading the model with its chat format,
 * extracting the corpus, sizing the window and packing it. */
#ifndef LR_SESSION_H
#define LR_SESSION_H

#include <stdio.h>

#include "src/corpus.h"
#include "src/json.h"
#include "src/lrc.h"
#include "src/pack.h"
#include "src/run.h"

#define LR_SESSION_MAX_FOCUS 256
#define LR_SESSION_MAX_WINDOW 131072u   /* the default window is the model's, at most this */
#define LR_SESSION_MAX_QUESTIONS (16 << 20)   /* bytes of a --questions file */
#define LR_SESSION_MAX_QUESTION  (1 << 20)    /* bytes of one question: 250,000 tokens or
                                                 more, beyond any window */

enum {
	LR_SESSION_O_SYSTEM = 3000, LR_SESSION_O_FIT, LR_SESSION_O_FOCUS, LR_SESSION_O_ORDER,
	LR_SESSION_O_LINES, LR_SESSION_O_QUESTIONS, LR_SESSION_O_NO_SOURCE_CHECK,
};

#define LR_SESSION_OPTIONS \
	LR_RUN_MODEL_OPTIONS, LR_CORPUS_OPTIONS, \
	{ "question", required_argument, NULL, 'q' }, \
	{ "questions", required_argument, NULL, LR_SESSION_O_QUESTIONS }, \
	{ "system", required_argument, NULL, LR_SESSION_O_SYSTEM }, \
	{ "fit", no_argument, NULL, LR_SESSION_O_FIT }, \
	{ "focus", required_argument, NULL, LR_SESSION_O_FOCUS }, \
	{ "order", required_argument, NULL, LR_SESSION_O_ORDER }, \
	{ "line-numbers", required_argument, NULL, LR_SESSION_O_LINES }, \
	{ "no-source-check", no_argument, NULL, LR_SESSION_O_NO_SOURCE_CHECK }
#define LR_SESSION_SHORT_OPTIONS LR_RUN_SHORT_OPTIONS "q:"

struct lr_session {
	const char *cmd;
	struct lr_run_opts run;
	struct lr_corpus corpus;
	struct lr_pack_opts po;
	const char *focus[LR_SESSION_MAX_FOCUS];
	const char *question;            /* -q */
	const char *questions_file;      /* --questions */
	char **questions;                /* the questions known before packing (-q or file) */
	size_t n_questions;
	char *questions_text;            /* the file's contents (questions point into it) */

	struct lr_run_model rm;
	struct lr_pack *pack;
	uint32_t n_question;             /* the question room the layout used */
	uint32_t window;                 /* the window limit (-c or the model's) */
	double t_extract, t_tokenize;    /* seconds */
	char fingerprint[LR_SHA256_HEX]; /* the model's */
	uint8_t fp[LR_SHA256_BYTES];
	int layout_rc;                   /* lr_pack_layout's result */
	struct lr_lrc lrc;               /* from_lrc: the saved context */
	int from_lrc;                    /* the only PATH was a .lrc file */
	const char *extract_opt;         /* the first extraction option given (--include ...) */
	int no_source_check;             /* --no-source-check */
	struct lr_lrc_stale stale;       /* from_lrc: what changed in the packed documents' files */

	/* a remote engine (ask --api): set before lr_session_open */
	int remote;                      /* -m is optional; nothing runs locally */
	const char *vocab;               /* --vocab: a tokenizer without a model */
	uint32_t remote_ctx;             /* the server's window, 0 = not known */
	const struct lr_pack_counter *counter;  /* counts tokens without -m or --vocab */
	const char *window_from;         /* where the window came from: "-c", "model",
	                                    "server" */
};

void lr_session_init(struct lr_session *s, const char *cmd);
void lr_session_release(struct lr_session *s);

/* Handle option c from getopt_long (argv for its error message).  @return 0, or
 * LR_EXIT_USAGE after printing the usage error (an unknown option included). */
int lr_session_opt(struct lr_session *s, int c, const char *arg, char **argv);
/* The help lines of the session's options; questions: with -q and --questions (not pack). */
void lr_session_help(FILE *f, int questions);

/* After option parsing: check the arguments (model, PATHs), read --questions, open the
 * model, extract, pack and lay out the window.  When remote, the model is optional:
 * the tokenizer is the model's (-m) or the vocabulary's (--vocab), else tokens are
 * counted by counter (counted mode, see pack.h); the window is -c, else the server's
 * (remote_ctx), else the model's, else a usage error.  When the only PATH is a .lrc file
 * (from_lrc), the documents, packing options and model path come from it instead (the
 * model may still be given with -m) and the window is rebuilt from them; it must
 * reproduce the saved prefix token for token (else LR_EMISMATCH).  The layout's own verdict (LR_ENOFIT) is
 * not a failure here: it is left in s->layout_rc with its message in err, so the
 * caller can print the table first.  @return 0 or an exit status (the error printed). */
int lr_session_open(struct lr_session *s, char *const *paths, int n_paths, struct lr_err *err);

/* 1 if path is a longread context file (by its magic, not its name). */
int lr_session_is_lrc(const char *path);

/* A saved context's check of its documents' files (from_lrc) as a JSON object:
 * checked, changed and missing (document names). */
void lr_session_json_sources(struct json *j, const struct lr_session *s);

/* The model as a JSON object: file, name, fingerprint, bytes, context_length. */
void lr_session_json_model(struct json *j, const struct lr_session *s);

#endif
