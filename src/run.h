/* src/run.h — what the commands that run a model share (generate, ask, plan): the
 * model options (-m, -n, -c, --kv, -t, sampling) and their help, opening a model with
 * its tokenizer and chat format, Ctrl-C, a clock, reading a text file, and the loop
 * that samples an answer and streams it. */
#ifndef LR_RUN_H
#define LR_RUN_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/chat.h"
#include "engine/forward.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tok.h"
#include "src/buf.h"
#include "src/progress.h"

/* Long-only option values of the shared options (commands use 256..999 for theirs). */
enum {
	LR_RUN_O_TEMP = 1000, LR_RUN_O_TOPK, LR_RUN_O_TOPP, LR_RUN_O_MINP, LR_RUN_O_REP, LR_RUN_O_SEED, LR_RUN_O_KV,
	LR_RUN_O_CTK, LR_RUN_O_CTV, LR_RUN_O_CHAT_FORMAT, LR_RUN_O_ROPE_SCALING, LR_RUN_O_ROPE_SCALE,
	LR_RUN_O_YARN_ORIG,
};

/* Entries for a command's struct option table, and the short options they use: the
 * model options (every command that loads a model) and the sampling options. */
#define LR_RUN_MODEL_OPTIONS \
	{ "model", required_argument, NULL, 'm' }, { "tokens", required_argument, NULL, 'n' }, \
	{ "ctx", required_argument, NULL, 'c' }, { "threads", required_argument, NULL, 't' }, \
	{ "kv", required_argument, NULL, LR_RUN_O_KV }, \
	{ "chat-format", required_argument, NULL, LR_RUN_O_CHAT_FORMAT }, \
	{ "rope-scaling", required_argument, NULL, LR_RUN_O_ROPE_SCALING }, \
	{ "rope-scale", required_argument, NULL, LR_RUN_O_ROPE_SCALE }, \
	{ "yarn-orig-ctx", required_argument, NULL, LR_RUN_O_YARN_ORIG }, \
	/* llama.cpp's spellings of the same (src/main.c turns -ctk, -ctv into these) */ \
	{ "ctx-size", required_argument, NULL, 'c' }, { "n-predict", required_argument, NULL, 'n' }, \
	{ "cache-type-k", required_argument, NULL, LR_RUN_O_CTK }, \
	{ "cache-type-v", required_argument, NULL, LR_RUN_O_CTV }
#define LR_RUN_SAMPLING_OPTIONS \
	{ "temp", required_argument, NULL, LR_RUN_O_TEMP }, \
	{ "top-k", required_argument, NULL, LR_RUN_O_TOPK }, { "top-p", required_argument, NULL, LR_RUN_O_TOPP }, \
	{ "min-p", required_argument, NULL, LR_RUN_O_MINP }, \
	{ "repeat-penalty", required_argument, NULL, LR_RUN_O_REP }, \
	{ "seed", required_argument, NULL, LR_RUN_O_SEED }
#define LR_RUN_SHORT_OPTIONS "m:n:c:t:"

struct lr_run_opts {
	const char *model;              /* -m */
	uint64_t n_gen;                 /* -n: tokens to generate at most */
	int n_gen_given;
	struct lr_ctx_params cp;        /* -c (n_ctx, 0 = not given), --kv, -t */
	struct lr_sampler_params sp;    /* --temp, --top-k, --top-p, --min-p, --repeat-penalty, --seed */
	int seeded;                     /* --seed was given */
	int kv_given;                   /* --kv was given */
	enum lr_chat_format chat_format; /* --chat-format, LR_CHAT_NONE: from the model */
	int rope_given;                 /* --rope-scaling (or --rope-scale / --yarn-orig-ctx) */
	enum lr_rope_scaling rope_scaling;
	double rope_scale;              /* --rope-scale, 0 = the file's */
	uint32_t yarn_orig_ctx;         /* --yarn-orig-ctx, 0 = the file's */
};

/* Defaults: no model, n_gen as given, the sampler's defaults, KV type kv. */
void lr_run_opts_init(struct lr_run_opts *o, uint64_t n_gen, enum lr_kv_type kv);

/* Handle option c (from getopt_long) if it is a shared one.  @return 0 handled, -1 not
 * a shared option, or LR_EXIT_USAGE after printing the usage error for cmd. */
int lr_run_opt(struct lr_run_opts *o, const char *cmd, int c, const char *arg);

/* After parsing: a seed from the clock unless --seed was given.  @return 0, or
 * LR_EXIT_USAGE (printed) when -m is missing. */
int lr_run_opts_finish(struct lr_run_opts *o, const char *cmd);
/* The checks of finish that do not need -m (the model may come from a .lrc). */
int lr_run_opts_check(const struct lr_run_opts *o, const char *cmd);
/* Only the seed part (for commands where -m may come from elsewhere). */
void lr_run_opts_seed(struct lr_run_opts *o);

/* The help lines of the shared options, for a command's --help; n_help and ctx_help
 * describe what -n and -c mean for that command.  lr_run_help_sampling: the rest. */
void lr_run_help(FILE *f, const char *n_help, const char *ctx_help);
void lr_run_help_sampling(FILE *f);

/* ------------------------------------------------------------------ the model */

struct lr_run_model {
	struct lr_model *m;
	struct lr_tok *tok;
	struct lr_chat chat;            /* valid when opened with chat */
	int no_template;                /* chat: the file has no tokenizer.chat_template */
};

/* Open the model at path and build its tokenizer, with the RoPE scaling options of o
 * (NULL: none).  With chat, also its chat format (lr_run_chat).  On failure rm is
 * released. */
int lr_run_model_open(struct lr_run_model *rm, const struct lr_run_opts *o, const char *path, int chat,
                      struct lr_err *err);

/* The chat format of rm->tok for the file g: o->chat_format when given, else the one
 * its tokenizer.chat_template writes (engine/chat.h; LR_EUNSUPPORTED naming
 * --chat-format when it is none of them), else, without a template, the one its special
 * tokens make (rm->no_template set: the caller warns). */
int lr_run_chat(struct lr_run_model *rm, const struct lr_run_opts *o, const struct lr_gguf *g,
                struct lr_err *err);
void lr_run_model_close(struct lr_run_model *rm);

/* The default KV type (q8) falls back to f16 for models whose head size q8 cannot
 * take; a type given with --kv is kept (and refused later if unsupported). */
void lr_run_kv_default(struct lr_run_opts *o, const struct lr_hparams *hp);

/* lr_ctx_new, then "longread: KV cache q8: 2.12 GiB for 131072 tokens" on stderr:
 * the memory is reserved before any work starts. */
int lr_run_ctx_new(struct lr_ctx **ctx, const struct lr_model *m, const struct lr_ctx_params *cp,
                   struct lr_err *err);

/* Print the warning for rm->no_template (once per process). */
void lr_run_warn_template(const struct lr_run_model *rm, const char *path);

/* ------------------------------------------------------------------ Ctrl-C, clock, files */

/* Install (on) or remove (off) the SIGINT handler that sets the interrupted flag. */
void lr_run_sigint(int on);
int lr_run_interrupted(void);

/* Monotonic seconds. */
double lr_run_now(void);

/* Read a file ("-" = standard input) into a new NUL-terminated buffer, at most max + 1
 * bytes: *len > max says there was more, which was not read (a pipe that never ends
 * costs max + 1 bytes, not all memory). */
int lr_run_read_file(const char *path, size_t max, char **out, size_t *len, struct lr_err *err);

/* ------------------------------------------------------------------ prefilling */

#define LR_RUN_CHUNK 256   /* tokens per lr_eval call while prefilling: Ctrl-C and the
                              progress line are checked between chunks */

/* Evaluate ids[0..n) at the next positions of ctx, LR_RUN_CHUNK at a time, computing no
 * logits; each chunk's time goes into speed and the progress line (both may be NULL).
 * *done receives how many were evaluated.  @return 0, LR_EINTR on Ctrl-C (between two
 * chunks), or an lr_eval error. */
int lr_run_prefill(struct lr_ctx *ctx, const int32_t *ids, uint32_t n, struct lr_speed *speed,
                   struct lr_progress *pg, uint32_t *done, struct lr_err *err);

/* ------------------------------------------------------------------ generating */

enum lr_run_stop {
	LR_RUN_STOP_END,          /* the model ended its turn (or emitted EOS) */
	LR_RUN_STOP_LENGTH,       /* n_gen tokens were made */
	LR_RUN_STOP_WINDOW,       /* the window is full */
	LR_RUN_STOP_INTERRUPTED,  /* Ctrl-C */
	LR_RUN_STOP_HALTED,       /* the text sink asked to stop (lr_run_generate_to) */
};

/* "end", "length", "window", "interrupted", "halted" */
const char *lr_run_stop_name(enum lr_run_stop s);

struct lr_run_gen {
	uint64_t made;         /* tokens generated (the stop token not counted) */
	double t_first;        /* lr_run_now() when the first token was sampled */
	double t_end;
	enum lr_run_stop stop;
};

/* Sample up to n_gen tokens starting from logits (the last prompt token's), evaluating
 * each one, and write the text to out as it comes (flushed per token; out may be NULL).
 * hist holds the ids so far (for the repetition penalty) and receives the new ones;
 * text, if not NULL, receives the whole text.  The turn ends at a chat stop token when
 * chat is not NULL, else at the vocabulary's EOS.  Stops early on Ctrl-C (see
 * lr_run_sigint).  @return 0, or an lr_eval / allocation error. */
int lr_run_generate(struct lr_ctx *ctx, struct lr_sampler *smp, const struct lr_tok *tok,
                    const struct lr_chat *chat, float *logits, uint64_t n_gen,
                    struct lr_tok_ids *hist, FILE *out, struct lr_buf *text, struct lr_run_gen *g,
                    struct lr_err *err);

/* The same with the text going to on_text(arg, piece, len) as it is made (pieces may be
 * empty); on_text returns nonzero to stop the answer there (stop LR_RUN_STOP_HALTED: a
 * stop string, a client gone).  Ctrl-C stops it as above. */
typedef int (*lr_run_text_fn)(void *arg, const char *s, size_t n);
int lr_run_generate_to(struct lr_ctx *ctx, struct lr_sampler *smp, const struct lr_tok *tok,
                       const struct lr_chat *chat, float *logits, uint64_t n_gen,
                       struct lr_tok_ids *hist, lr_run_text_fn on_text, void *arg, struct lr_run_gen *g,
                       struct lr_err *err);

#endif
