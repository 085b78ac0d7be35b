/* engine/kernels/x86/avx2_gemm.h — the prefill GEMM kernels avx2_gemm.c provides to the
 * AVX2 table in avx2.c (lr_gemm_fn, kernels.h). */
#ifndef LR_KERNELS_X86_AVX2_GEMM_H
#define LR_KERNELS_X86_AVX2_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "engine/kernels/kernels.h"

#define LR_AVX2_GEMM(name)                                                                     \
	void lr_avx2_gemm_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows,         \
	                         int n_tok, const struct lr_q8act *aq, float *out, int64_t stride, \
	                         void *scratch);
LR_AVX2_GEMM(q4_0)
LR_AVX2_GEMM(q4_1)
LR_AVX2_GEMM(q5_0)
LR_AVX2_GEMM(q5_1)
LR_AVX2_GEMM(q8_0)
LR_AVX2_GEMM(iq4_nl)
LR_AVX2_GEMM(q4_K)
LR_AVX2_GEMM(q5_K)
LR_AVX2_GEMM(q6_K)
LR_AVX2_GEMM(q2_K)
LR_AVX2_GEMM(q3_K)
LR_AVX2_GEMM(iq4_xs)
#undef LR_AVX2_GEMM

/* Bytes of scratch the kernels above need for rows of n values and n_tok tokens. */
size_t lr_avx2_gemm_scratch(int64_t n, int n_tok);

#endif
