/* engine/kernels/x86/avx2.c — kernels for x86-64 CPUs with AVX2, FMA and F16C.
 * Integer dots with vpmaddubsw (u8 x s8 -> s16 pairs) then vpmaddwd to int32; the
 * quantized types' prefill GEMM, bit for bit these dots, lives in avx2_gemm.c. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include <stdint.h>

static inline __attribute__((always_inline)) __m256i dpbusd_avx2(__m256i acc, __m256i u, __m256i s)
{
	__m256i p16 = _mm256_maddubs_epi16(u, s);
	return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

#define KSUFFIX _avx2
#define DPBUSD(acc, u, s) ((acc) = dpbusd_avx2((acc), (u), (s)))
#define QDOT_PREFETCH 1
#include "engine/kernels/x86/qdot.h"
#include "engine/kernels/x86/avx2_gemm.h"

const struct lr_kernels lr_kernels_avx2 = KERNEL_TABLE("avx2",
	.gemm = {
		[LR_TYPE_Q4_0] = lr_avx2_gemm_q4_0, [LR_TYPE_Q4_1] = lr_avx2_gemm_q4_1,
		[LR_TYPE_Q5_0] = lr_avx2_gemm_q5_0, [LR_TYPE_Q5_1] = lr_avx2_gemm_q5_1,
		[LR_TYPE_Q8_0] = lr_avx2_gemm_q8_0, [LR_TYPE_IQ4_NL] = lr_avx2_gemm_iq4_nl,
		[LR_TYPE_Q4_K] = lr_avx2_gemm_q4_K, [LR_TYPE_Q5_K] = lr_avx2_gemm_q5_K,
		[LR_TYPE_Q6_K] = lr_avx2_gemm_q6_K, [LR_TYPE_Q2_K] = lr_avx2_gemm_q2_K,
		[LR_TYPE_Q3_K] = lr_avx2_gemm_q3_K, [LR_TYPE_IQ4_XS] = lr_avx2_gemm_iq4_xs,
	},
	/* at 4 tokens (one inner step) the gemm was 0.9-1.4x the dot by type, from 6 on
	 * 1.2-2x (2048-value rows, one thread) */
	.gemm_min_tokens = 6,
	.gemm_scratch = lr_avx2_gemm_scratch);
#endif
