/* engine/sampler.h — choosing the next token from a logit vector.
 *
 * The chain, in llama.cpp's order: repetition penalty over the last tokens, then
 * either greedy (temperature <= 0) or top-k, temperature, top-p (nucleus), min-p, and
 * a draw from the remaining distribution with a seeded generator (xoshiro256**), so
 * a seed reproduces a run.  All buffers are sized once for the vocabulary. */
#ifndef LR_SAMPLER_H
#define LR_SAMPLER_H

#include <stdint.h>

#include "engine/err.h"

struct lr_sampler_params {
	float temp;              /* <= 0: greedy */
	int top_k;               /* <= 0: off */
	float top_p;             /* >= 1: off */
	float min_p;             /* <= 0: off; keep tokens with p >= min_p * p_max */
	float repeat_penalty;    /* 1: off; > 1 discourages recent tokens */
	int repeat_last_n;       /* how many recent tokens the penalty looks at */
	uint64_t seed;
};

/* llama.cpp-like defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalty. */
struct lr_sampler_params lr_sampler_defaults(void);

struct lr_sampler;

/* A new sampler for a vocabulary of n_vocab tokens.  Errors: LR_EINVAL for parameters
 * out of range (message names it), LR_ENOMEM. */
int lr_sampler_new(struct lr_sampler **out, const struct lr_sampler_params *p, uint32_t n_vocab,
                   struct lr_err *err);
void lr_sampler_free(struct lr_sampler *s);

/* The next token.  logits (n_vocab values) are modified in place by the penalty;
 * history holds the n_hist previous tokens (may be NULL). */
int32_t lr_sampler_sample(struct lr_sampler *s, float *logits, const int32_t *history, uint32_t n_hist);

#endif
