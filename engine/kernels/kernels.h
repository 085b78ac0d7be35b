/* engine/kernels/kernels.h — the inner products the forward pass is made of.
 *
 * Quantized weights are multiplied with activations quantized to 8 bits (int8 codes,
 * one float scale per 32 values, and the code sums of each 16 values for the types
 * whose blocks carry an offset or a minimum).  Float weights (F32, F16, BF16) are
 * multiplied with float32 activations.  Every kernel has a plain scalar reference
 * (kernels/ref.c); SIMD versions (kernels/x86/) are chosen once at run time from the
 * CPU's features and are tested against the reference.
 *
 * Workload: decode calls a dot per weight row per token (matrix-vector); prefill calls
 * the multi-token form, which unpacks a weight row once for several tokens. */
#ifndef LR_KERNELS_H
#define LR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/types.h"

/* One activation vector of n values (n a multiple of 32), quantized: x[i] ~ qs[i] *
 * d[i / 32].  s16[j] = sum of qs[16 j .. 16 j + 15] (|s16| <= 16 * 127). */
struct lr_q8act {
	int8_t *qs;     /* [n], 64-byte aligned */
	float *d;       /* [n / 32] */
	int16_t *s16;   /* [n / 16] */
};

/* Quantize n floats (n % 32 == 0) into a. */
void lr_quantize_act(const float *x, int64_t n, const struct lr_q8act *a);

/* out[t * stride] = dot(weight row w, activation t) for t < n_tok.
 * w is one row of n elements in the weight's type; for float types acts_f holds
 * n_tok float vectors of length n (ld apart), for quantized types acts_q holds n_tok
 * quantized vectors. */
typedef void (*lr_dot_fn)(int64_t n, const void *w, int n_tok, const struct lr_q8act *acts_q,
                          const float *acts_f, int64_t ld, float *out, int64_t stride);

struct lr_kernels {
	const char *name;                       /* "scalar", "avx2", "avx512" */
	lr_dot_fn dot[LR_TYPE_COUNT];           /* NULL for types we do not compute with */
	int uses_q8[LR_TYPE_COUNT];             /* 1: wants acts_q, 0: wants acts_f */
	void (*quantize_act)(const float *x, int64_t n, const struct lr_q8act *a);
};

/* The best kernels for this CPU (or those named by $LONGREAD_KERNELS: scalar, avx2,
 * avx512), chosen once.  Never NULL. */
const struct lr_kernels *lr_kernels_best(void);

/* A specific set, or NULL if this build or CPU cannot run it (for tests). */
const struct lr_kernels *lr_kernels_get(const char *name);

/* The scalar reference set. */
extern const struct lr_kernels lr_kernels_scalar;

#endif
