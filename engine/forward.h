/* engine/forward.h — running a model: a context holds the KV cache, the scratch
 * buffers and the thread pool for one sequence, and evaluates tokens in batches.
 *
 * Lifetimes: the model is borrowed (must outlive the context); everything else is
 * allocated once by lr_ctx_new, so evaluating tokens never allocates. */
#ifndef LR_FORWARD_H
#define LR_FORWARD_H

#include <stdint.h>

#include "engine/err.h"
#include "engine/kernels/kernels.h"
#include "engine/kv.h"
#include "engine/model.h"

struct lr_ctx_params {
	uint32_t n_ctx;                   /* tokens the window holds; 0 = the model's length */
	enum lr_kv_type kv_type;          /* default LR_KV_F32 (0) */
	int n_threads;                    /* 0 = every CPU this process may use */
	uint32_t n_batch;                 /* tokens per prefill step; 0 = 256 */
	const struct lr_kernels *kernels; /* NULL = the best for this CPU */
};

struct lr_ctx;

/* A new context for model m.  Errors: LR_ERANGE if n_ctx exceeds the model's context
 * length, LR_ENOMEM (the message gives the sizes), LR_EUNSUPPORTED for a KV type not
 * available.  Free with lr_ctx_free. */
int lr_ctx_new(struct lr_ctx **out, const struct lr_model *m, const struct lr_ctx_params *p,
               struct lr_err *err);
void lr_ctx_free(struct lr_ctx *c);

/* Evaluate n tokens at the next n positions of the window.  For each i with want[i]
 * set (want NULL: only the last token), the logits of token i are written to the next
 * n_vocab floats of logits (in order), so logits must hold n_wanted * n_vocab floats.
 * Errors: LR_ERANGE when the window would overflow, LR_EINVAL for an id outside the
 * vocabulary (nothing is evaluated then). */
int lr_eval(struct lr_ctx *c, const int32_t *ids, uint32_t n, const uint8_t *want, float *logits,
            struct lr_err *err);

/* Tokens in the window so far. */
uint32_t lr_ctx_pos(const struct lr_ctx *c);

/* Forget every token from position pos on (pos <= lr_ctx_pos). */
void lr_ctx_rewind(struct lr_ctx *c, uint32_t pos);

uint32_t lr_ctx_n_ctx(const struct lr_ctx *c);
const struct lr_model *lr_ctx_model(const struct lr_ctx *c);
/* The version of the KV serialisation lr_ctx_kv_save writes (engine/kv.h). */
uint32_t lr_ctx_kv_layout(const struct lr_ctx *c);

/* Save the cache of the first n tokens (n <= lr_ctx_pos) through write; see lr_kv_save. */
int lr_ctx_kv_save(const struct lr_ctx *c, uint32_t n,
                   int (*write)(void *arg, const void *data, uint64_t len, struct lr_err *err), void *arg,
                   struct lr_err *err);

/* Restore the first n tokens from a cache saved for n_saved >= n tokens: afterwards
 * the context is as if those n tokens had been evaluated (lr_ctx_pos == n).  The
 * saved data is checked against this context's KV type and shape first. */
int lr_ctx_kv_load(struct lr_ctx *c, uint32_t n, uint32_t n_saved, const void *data, uint64_t len,
                   struct lr_err *err);
const struct lr_kv *lr_ctx_kv(const struct lr_ctx *c);
const struct lr_kernels *lr_ctx_kernels(const struct lr_ctx *c);
int lr_ctx_threads(const struct lr_ctx *c);

/* ------------------------------------------------------------------ reference */

/* The plain float32 reference forward pass (engine/forward_ref.c): one token at a time,
 * weights dequantized row by row, float64 accumulation, f32 cache.  Slow; the oracle
 * for the fast path.  Writes the logits of every position i with want[i] set (want
 * NULL: all) to logits in order.  Errors: LR_ENOMEM, LR_EINVAL for a bad id. */
int lr_forward_ref(const struct lr_model *m, const int32_t *ids, uint32_t n, const uint8_t *want,
                   float *logits, struct lr_err *err);

/* Shared by both passes: the RoPE angle step for rotation pair i (theta = pos * step). */
double lr_rope_step(const struct lr_model *m, uint32_t i);
/* and the factor on cos and sin (YaRN's attention scaling; 1 without YaRN) */
double lr_rope_mscale(const struct lr_model *m);

#endif
