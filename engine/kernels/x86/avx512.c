/* engine/kernels/x86/avx512.c — kernels for x86-64 CPUs with AVX-512 (F, BW, VL, DQ)
 * and VNNI: the table of them, the float-weight dots and the activation quantization.
 * The quantized types live in avx512_legacy.c (blocks of 32: q4_0, q4_1, q5_0, q5_1,
 * q8_0, iq4_nl), avx512_kquant.c (q4_K, q5_K, q6_K) and avx512_lowbit.c (q2_K, q3_K,
 * iq4_xs); the first two also have a prefill GEMM over weights repacked per call. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/x86/avx512.h"
#include "engine/quant.h"

/* ------------------------------------------------------------------ float weights */

INLINE __m512 load16(const void *w, int64_t i, const int type)
{
	if (type == LR_TYPE_F32)
		return _mm512_loadu_ps((const float *)w + i);
	__m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i));
	if (type == LR_TYPE_F16)
		return _mm512_cvtph_ps(h);
	return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE __m512 load16_tail(const void *w, int64_t i, __mmask16 m, const int type)
{
	if (type == LR_TYPE_F32)
		return _mm512_maskz_loadu_ps(m, (const float *)w + i);
	__m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i);
	if (type == LR_TYPE_F16)
		return _mm512_cvtph_ps(h);
	return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE void float_tile(int64_t n, const void *w, const float *x, int64_t ld, float *out,
                       int64_t stride, const int NT, const int type)
{
	__m512 acc[NT_MAX][2];
	int64_t i = 0;

	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		acc[t][0] = acc[t][1] = _mm512_setzero_ps();
	for (; i + 32 <= n; i += 32) {
		const int es = type == LR_TYPE_F32 ? 4 : 2;
		prefetch_ahead((const char *)w + es * i, 32 * es);
		__m512 w0 = load16(w, i, type), w1 = load16(w, i + 16, type);
		#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
			acc[t][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + t * ld + i), acc[t][0]);
			acc[t][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + t * ld + i + 16), acc[t][1]);
		}
	}
	for (; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512 w0 = load16_tail(w, i, m, type);
		#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
			acc[t][0] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, x + t * ld + i), acc[t][0]);
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]));
}

#define FLOAT(name, TYPE)                                                                      \
	static void dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,    \
	                       const float *af, int64_t ld, float *out, int64_t stride)           \
	{                                                                                          \
		int t = 0;                                                                             \
		(void)aq;                                                                              \
		for (; t + 4 <= n_tok; t += 4)                                                         \
			float_tile(n, w, af + t * ld, ld, out + t * stride, stride, 4, TYPE);             \
		for (; t < n_tok; t++)                                                                 \
			float_tile(n, w, af + t * ld, ld, out + t * stride, stride, 1, TYPE);             \
	}
FLOAT(f32, LR_TYPE_F32)
FLOAT(f16, LR_TYPE_F16)
FLOAT(bf16, LR_TYPE_BF16)

/* ------------------------------------------------------------------ activations */

/* Same arithmetic as lr_quantize_act, so the codes are bit-identical to it. */
static void quantize_act(const float *x, int64_t n, int B, const struct lr_q8act *a)
{
	for (int64_t b = 0; b < n / B; b++) {
		const float *xb = x + (int64_t)B * b;
		__m512 m = _mm512_setzero_ps();
		for (int k = 0; k < B; k += 16)
			m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(xb + k)));
		float amax = _mm512_reduce_max_ps(m);
		__m512 id = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
		for (int k = 0; k < B; k += 16) {
			__m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + k), id));
			_mm_storeu_si128((__m128i *)(a->qs + (int64_t)B * b + k), _mm512_cvtsepi32_epi8(q));
			a->s16[((int64_t)B * b + k) / 16] = (int16_t)_mm512_reduce_add_epi32(q);
		}
		a->d[b] = lr_act_scale(amax, B);
	}
}

/* The gemm kernels' scratch: the larger of the two files' panels */
static size_t gemm_scratch(int64_t n, int n_tok)
{
	size_t a = lr_avx512_legacy_scratch(n, n_tok), b = lr_avx512_kquant_scratch(n, n_tok);

	return a > b ? a : b;
}

const struct lr_kernels lr_kernels_avx512 = {
	.name = "avx512",
	.dot = {
		[LR_TYPE_F32] = dot_f32, [LR_TYPE_F16] = dot_f16, [LR_TYPE_BF16] = dot_bf16,
		[LR_TYPE_Q4_0] = lr_avx512_dot_q4_0, [LR_TYPE_Q4_1] = lr_avx512_dot_q4_1, [LR_TYPE_Q5_0] = lr_avx512_dot_q5_0,
		[LR_TYPE_Q5_1] = lr_avx512_dot_q5_1, [LR_TYPE_Q8_0] = lr_avx512_dot_q8_0, [LR_TYPE_Q4_K] = lr_avx512_dot_q4_K,
		[LR_TYPE_Q5_K] = lr_avx512_dot_q5_K, [LR_TYPE_Q6_K] = lr_avx512_dot_q6_K, [LR_TYPE_IQ4_NL] = lr_avx512_dot_iq4_nl,
		[LR_TYPE_Q2_K] = lr_avx512_dot_q2_K, [LR_TYPE_Q3_K] = lr_avx512_dot_q3_K,
		[LR_TYPE_IQ4_XS] = lr_avx512_dot_iq4_xs,
	},
	.uses_q8 = {
		[LR_TYPE_Q4_0] = 32, [LR_TYPE_Q4_1] = 32, [LR_TYPE_Q5_0] = 32, [LR_TYPE_Q5_1] = 32,
		[LR_TYPE_Q8_0] = 32, [LR_TYPE_Q4_K] = 256, [LR_TYPE_Q5_K] = 256, [LR_TYPE_Q6_K] = 256,
		[LR_TYPE_Q2_K] = 256, [LR_TYPE_Q3_K] = 256, [LR_TYPE_IQ4_NL] = 32, [LR_TYPE_IQ4_XS] = 256,
	},
	.rows = {
		[LR_TYPE_Q4_0] = lr_avx512_rows_q4_0, [LR_TYPE_Q4_1] = lr_avx512_rows_q4_1, [LR_TYPE_Q5_0] = lr_avx512_rows_q5_0,
		[LR_TYPE_Q5_1] = lr_avx512_rows_q5_1, [LR_TYPE_Q8_0] = lr_avx512_rows_q8_0, [LR_TYPE_Q4_K] = lr_avx512_rows_q4_K,
		[LR_TYPE_Q5_K] = lr_avx512_rows_q5_K, [LR_TYPE_Q6_K] = lr_avx512_rows_q6_K, [LR_TYPE_IQ4_NL] = lr_avx512_rows_iq4_nl,
		[LR_TYPE_Q2_K] = lr_avx512_rows_q2_K, [LR_TYPE_Q3_K] = lr_avx512_rows_q3_K,
		[LR_TYPE_IQ4_XS] = lr_avx512_rows_iq4_xs,
	},
	.gemm = {
		[LR_TYPE_Q4_0] = lr_avx512_gemm_q4_0, [LR_TYPE_Q4_1] = lr_avx512_gemm_q4_1,
		[LR_TYPE_Q5_0] = lr_avx512_gemm_q5_0, [LR_TYPE_Q5_1] = lr_avx512_gemm_q5_1,
		[LR_TYPE_Q8_0] = lr_avx512_gemm_q8_0, [LR_TYPE_IQ4_NL] = lr_avx512_gemm_iq4_nl,
		[LR_TYPE_Q4_K] = lr_avx512_gemm_q4_K, [LR_TYPE_Q5_K] = lr_avx512_gemm_q5_K,
		[LR_TYPE_Q6_K] = lr_avx512_gemm_q6_K,
	},
	.gemm_min_tokens = 4,
	.gemm_scratch = gemm_scratch,
	.quantize_act = quantize_act,
};
#endif
