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

#include "engine/fp16.h"
#include "engine/types.h"

/* One activation vector of n values quantized in blocks of B = 32 or 256 values (the
 * block size the weight type's kernel wants, see uses_q8): x[i] ~ qs[i] * d[i / B].
 * s16[j] = sum of qs[16 j .. 16 j + 15] (|s16| <= 16 * 127).  The legacy types use
 * B = 32 (a scale per weight block); the k-quants use B = 256 (one scale per
 * super-block, so their integer sums run over a whole super-block, as llama.cpp's
 * Q8_K does). */
struct lr_q8act {
	int8_t *qs;     /* [n], 64-byte aligned */
	float *d;       /* [n / B] */
	int16_t *s16;   /* [n / 16] */
};

/* Quantize n floats (n % B == 0) into a, in blocks of B (32 or 256): codes
 * round(x * 127 / amax) to nearest even, d = lr_act_scale(amax, B). */
void lr_quantize_act(const float *x, int64_t n, int B, const struct lr_q8act *a);

/* The scale of an activation block: amax / 127, rounded through float16 for blocks
 * of 32.  This is exactly llama.cpp's Q8_0 (f16 scale) and Q8_K (f32 scale)
 * activation quantization, so our integer paths make the reference implementation's
 * own rounding decisions: on the golden models their argmax agrees with its. */
static inline float lr_act_scale(float amax, int B)
{
	float d = amax / 127.0f;

	return B == 32 ? lr_f16_to_f32(lr_f32_to_f16(d)) : d;
}

/* out[t * stride] = dot(weight row w, activation t) for t < n_tok.
 * w is one row of n elements in the weight's type; for float types acts_f holds
 * n_tok float vectors of length n (ld apart), for quantized types acts_q holds n_tok
 * quantized vectors. */
typedef void (*lr_dot_fn)(int64_t n, const void *w, int n_tok, const struct lr_q8act *acts_q,
                          const float *acts_f, int64_t ld, float *out, int64_t stride);

/* The same for n_rows consecutive weight rows (row_bytes apart): out[t * stride + r].
 * Optional: kernels that gain from sharing activation loads across rows provide it. */
typedef void (*lr_rows_fn)(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok,
                           const struct lr_q8act *acts_q, const float *acts_f, int64_t ld,
                           float *out, int64_t stride);

/* Prefill of n_rows consecutive weight rows (row_bytes apart) times n_tok tokens in one
 * call, the kernel doing its own blocking (it may repack the weights into scratch):
 * out[t * stride + r], bit for bit what dot and rows give. */
typedef void (*lr_gemm_fn)(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok,
                           const struct lr_q8act *acts_q, float *out, int64_t stride, void *scratch);

struct lr_kernels {
	const char *name;                       /* "scalar", "avx2", "avx512" */
	lr_dot_fn dot[LR_TYPE_COUNT];           /* NULL for types we do not compute with */
	lr_rows_fn rows[LR_TYPE_COUNT];         /* NULL: call dot row by row */
	lr_gemm_fn gemm[LR_TYPE_COUNT];         /* NULL: rows; else used for gemm_min_tokens
	                                           tokens or more */
	int gemm_min_tokens;
	size_t (*gemm_scratch)(int64_t n, int n_tok);   /* bytes of scratch gemm needs for
	                                                   rows of n values, n_tok tokens */
	int uses_q8[LR_TYPE_COUNT];             /* 0: wants acts_f; 32 or 256: acts_q with
	                                           that activation block size */
	void (*quantize_act)(const float *x, int64_t n, int B, const struct lr_q8act *a);
};

/* The best kernels for this CPU (or those named by $LONGREAD_KERNELS: scalar, avx2,
 * avx512), chosen once.  Never NULL. */
const struct lr_kernels *lr_kernels_best(void);

/* A specific set, or NULL if this build or CPU cannot run it (for tests). */
const struct lr_kernels *lr_kernels_get(const char *name);

/* The scalar reference set. */
extern const struct lr_kernels lr_kernels_scalar;

#endif
