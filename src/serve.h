/* src/serve.h — `longread serve`: one engine behind the OpenAI-compatible API.  What the
 * three rooms of the server share: the server (model, corpora, queue), a corpus loaded
 * from a .lrc file, and a job (one request on its way through the queue).
 *
 *   src/httpd.c        HTTP (libmicrohttpd): connections, bodies, streamed replies
 *   src/serve_api.c    the protocol: routes, keys, request JSON to jobs, replies, errors
 *   src/serve_engine.c the engine's thread: queue, prompt cache, corpora, answers
 *   src/cmd_serve.c    the command: options, start, signals, shutdown
 *
 * Threads: one per connection (parses, tokenizes, queues, waits or streams) and one for
 * the engine (runs jobs one at a time); the server's mutex guards the queue and every
 * job's state. */
#ifndef LR_SERVE_H
#define LR_SERVE_H

#include <pthread.h>
#include <stdint.h>

#include "src/buf.h"
#include "src/httpd.h"
#include "src/lrc.h"
#include "src/pack.h"
#include "src/run.h"

#define LR_SERVE_MAX_STOP   8        /* stop strings a request may give */
#define LR_SERVE_MAX_WINDOW 131072u  /* the default window is the model's, at most this */
#define LR_SERVE_CORPUS_ANSWER 1024u /* a corpus's default answer length: ask's default -n */

/* A saved window (--corpus NAME=FILE.lrc). */
struct lr_serve_corpus {
	char *name;
	const char *path;             /* borrowed from argv */
	struct lr_lrc lrc;            /* open for the server's life: the KV is read from it */
	struct lr_pack *pack;         /* the window rebuilt from it (for questions, citations) */
	uint32_t room;                /* default answer length: ask's, within the room its
	                                 window leaves */
};

enum lr_serve_kind { LR_SERVE_CHAT, LR_SERVE_COMPLETION };

enum lr_serve_state { LR_SERVE_QUEUED, LR_SERVE_RUNNING, LR_SERVE_DONE };

struct lr_serve_job {
	/* the request (set before lr_serve_submit, then read-only) */
	enum lr_serve_kind kind;
	int stream;                   /* answer as server-sent events */
	int include_usage;            /* stream_options.include_usage */
	struct lr_tok_ids prompt;     /* every prompt token, BOS first */
	const struct lr_serve_corpus *corpus;  /* a corpus request, else NULL */
	struct lr_sampler_params sp;
	uint64_t max_tokens;
	char *stop[LR_SERVE_MAX_STOP];
	size_t n_stop, stop_max;      /* stop_max: the longest stop string's bytes */
	char id[48];                  /* "chatcmpl-..." */
	int64_t created;              /* Unix time */
	char model[256];              /* the model or corpus name the reply shows */
	struct lr_httpd_stream *out;  /* stream: where the events go */

	/* the answer (written by the engine; read by others once state is DONE) */
	struct lr_buf text;           /* the answer text (a stop string cut off) */
	size_t sent;                  /* stream: text bytes sent so far */
	uint64_t made;                /* completion tokens */
	uint32_t cached;              /* prompt tokens not prefilled for this request */
	uint32_t from_corpus;         /* of which loaded from the corpus file */
	const char *finish;           /* "stop" or "length" */
	int status;                   /* 0, or the HTTP status of a failure */
	char error[600];              /* its message */
	double t_queued, t_start, t_first, t_end;  /* monotonic seconds */

	/* guarded by the server's mutex */
	enum lr_serve_state state;
	int cancel;                   /* stop the answer (shutdown) */
	int gone;                     /* its client went away: stop it, or never start it */
	int refs;
	struct lr_serve_job *next;    /* in the queue */
};

struct lr_server {
	/* configuration (set by the command before lr_serve_engine_start) */
	struct lr_run_opts run;       /* model, window, KV type, threads, default sampling */
	struct lr_run_model rm;
	uint8_t fp[32];               /* the model's fingerprint */
	char model_id[256];           /* the name /v1/models lists for the model */
	struct lr_serve_corpus *corpora;
	size_t n_corpora;
	uint32_t n_ctx;               /* the engine's window */
	unsigned queue_max;           /* jobs waiting, beyond the one running */
	const char *api_key;          /* NULL = none */
	size_t max_body;

	/* the engine (serve_engine.c) */
	struct lr_ctx *ctx;
	float *logits;                /* [n_vocab] */
	struct lr_tok_ids hist;       /* the tokens the cache holds, in order */
	pthread_t thread;
	int started;

	/* the queue, guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;       /* a job came, or stop */
	pthread_cond_t cv_done;       /* a job finished */
	struct lr_serve_job *head, *tail;
	unsigned n_queued;
	struct lr_serve_job *running;
	int draining;                 /* shutting down: new requests are refused */
	int stopping;                 /* the engine's thread ends when the queue is empty */
	uint64_t n_served, n_refused;
};

/* ------------------------------------------------------------------ serve_engine.c */

/* Load --corpus NAME=FILE into c with the server's model (rm must be open).  Sets
 * sv->run.cp.kv_type from the first corpus unless --kv was given.  @return 0 or an
 * LR_E* code (LR_EMISMATCH: another model or KV type). */
int lr_serve_corpus_open(struct lr_server *sv, struct lr_serve_corpus *c, struct lr_err *err);
void lr_serve_corpus_close(struct lr_serve_corpus *c);

/* Create the engine's context (sv->n_ctx tokens) and start its thread. */
int lr_serve_engine_start(struct lr_server *sv, struct lr_err *err);
/* Shut down: refuse what is queued (503), let the running job finish until cut is set
 * (then it is cut off), end the thread.  lr_serve_cut cuts the running job now. */
void lr_serve_drain(struct lr_server *sv);
void lr_serve_cut(struct lr_server *sv);
int lr_serve_busy(struct lr_server *sv);   /* a job is running */
void lr_serve_engine_stop(struct lr_server *sv);

/* Queue j (the queue takes a reference).  @return 0, 1 when queue_max jobs wait
 * already beside the one running, 2 when the server is shutting down. */
int lr_serve_submit(struct lr_server *sv, struct lr_serve_job *j);
/* Wait until j is done; every 0.2 s gone(arg) is asked whether its client went away,
 * and if so the job is stopped (or never started) and the wait ends at once. */
void lr_serve_wait(struct lr_server *sv, struct lr_serve_job *j, int (*gone)(const void *arg), const void *arg);

struct lr_serve_job *lr_serve_job_new(void);
void lr_serve_job_unref(struct lr_server *sv, struct lr_serve_job *j);

/* ------------------------------------------------------------------ serve_api.c */

/* The HTTP handler (lr_httpd_handler) of the server ctx. */
void lr_serve_handle(void *ctx, const struct lr_httpd_req *req, struct lr_httpd_reply *reply);

/* Streamed answers: the engine calls these as the answer is made.  begin: the first
 * event (the assistant role); text: a piece of the answer; end: the last events (finish
 * reason, usage, citations, [DONE]) or the error event of a failed or cut job, then the
 * end of the stream. */
void lr_serve_stream_begin(struct lr_server *sv, struct lr_serve_job *j);
int lr_serve_stream_text(struct lr_server *sv, struct lr_serve_job *j, const char *s, size_t n);
void lr_serve_stream_end(struct lr_server *sv, struct lr_serve_job *j);

#endif
