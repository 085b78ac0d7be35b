/* engine/kernels/x86/avx512.h — what the AVX-512 kernel files share: small helpers, the
 * row/token loop of the 256-value types, and the kernels avx512_lowbit.c provides to the
 * table in avx512.c.  Include only after `#pragma GCC target` for AVX-512 (F, BW, VL, DQ,
 * VNNI). */
#ifndef LR_KERNELS_X86_AVX512_H
#define LR_KERNELS_X86_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "engine/kernels/kernels.h"
#include "engine/kernels/x86/prefetch.h"

#define INLINE static inline __attribute__((always_inline))
#define NT_MAX 8

INLINE float f16(uint16_t h) { return _cvtsh_ss(h); }

typedef int32_t __attribute__((may_alias, aligned(1))) i32_un;   /* 4 activation codes */

/* The halving tree of 16 lanes that the quantized kernels end a row with:
 * ((v0 + v8) + (v4 + v12)) + ((v2 + v10) + (v6 + v14)) + the odd lanes likewise. */
INLINE float tree16(__m512 v)
{
	__m256 h8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
	__m128 h4 = _mm_add_ps(_mm256_castps256_ps128(h8), _mm256_extractf128_ps(h8, 1));
	__m128 h2 = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));

	return _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

/* The same tree over 16 vectors, lane by lane: res[16 t + l] holds lane-wise (one lane a
 * weight row) acc[l] of token t; out[t * stride + r] for the nr rows. */
INLINE void tree16_store(const __m512 *res, int NT, int nr, float *out, int64_t stride)
{
	const __mmask16 keep = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);

	for (int t = 0; t < NT; t++) {
		const __m512 *q = res + 16 * t;
		__m512 h8[8], h4[4], h2[2];
		for (int i = 0; i < 8; i++)
			h8[i] = _mm512_add_ps(q[i], q[i + 8]);
		for (int i = 0; i < 4; i++)
			h4[i] = _mm512_add_ps(h8[i], h8[i + 4]);
		for (int i = 0; i < 2; i++)
			h2[i] = _mm512_add_ps(h4[i], h4[i + 2]);
		_mm512_mask_storeu_ps(out + t * stride, keep, _mm512_add_ps(h2[0], h2[1]));
	}
}

/* r[i] dword j -> r[j] dword i (a 16 x 16 transpose of 32-bit elements): pairs of dwords,
 * then of qwords within 128-bit lanes, then the 4 x 4 transpose of the lanes.  The gemm
 * panels are made with it (each 4-code group of 16 rows side by side). */
INLINE void transpose16_epi32(__m512i r[16])
{
	__m512i t[16];

	for (int i = 0; i < 8; i++) {
		t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
	}
	/* u[4 g + c], 128-bit lane q: rows 4g..4g+3, element 4q + c */
	for (int g = 0; g < 4; g++) {
		r[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
		r[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
		r[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
		r[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
	}
	for (int c = 0; c < 4; c++) {
		__m512i v0 = _mm512_shuffle_i32x4(r[c], r[4 + c], _MM_SHUFFLE(1, 0, 1, 0));
		__m512i v1 = _mm512_shuffle_i32x4(r[c], r[4 + c], _MM_SHUFFLE(3, 2, 3, 2));
		__m512i v2 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(1, 0, 1, 0));
		__m512i v3 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(3, 2, 3, 2));
		t[c] = _mm512_shuffle_i32x4(v0, v2, _MM_SHUFFLE(2, 0, 2, 0));        /* element c */
		t[4 + c] = _mm512_shuffle_i32x4(v0, v2, _MM_SHUFFLE(3, 1, 3, 1));    /* 4 + c */
		t[8 + c] = _mm512_shuffle_i32x4(v1, v3, _MM_SHUFFLE(2, 0, 2, 0));    /* 8 + c */
		t[12 + c] = _mm512_shuffle_i32x4(v1, v3, _MM_SHUFFLE(3, 1, 3, 1));   /* 12 + c */
	}
	for (int i = 0; i < 16; i++)
		r[i] = t[i];
}

/* rows_NAME and dot_NAME for a type of 256-value super-blocks from its tile function
 * TILE(n, w, row_bytes, NR, aq, out, stride, NT, ...): one row at a time, 8 tokens per
 * unpacked super-block (pairs of rows x 4 tokens measured 15% slower: unpacking, not
 * activation loads, is what sharing must save). */
#define KQUANT_ROWS(name, TILE, ...)                                                               \
	static void rows_##name(int64_t n, const void *wv, uint64_t row_bytes, int n_rows, int n_tok, \
	                        const struct lr_q8act *aq, const float *af, int64_t ld, float *out,    \
	                        int64_t stride)                                                        \
	{                                                                                              \
		const uint8_t *w = wv;                                                                     \
		int r = 0;                                                                                 \
		(void)af; (void)ld;                                                                        \
		for (; r < n_rows; r++) {                                                                  \
			int t = 0;                                                                             \
			for (; t + 8 <= n_tok; t += 8)                                                         \
				TILE(n, w + (uint64_t)r * row_bytes, row_bytes, 1, aq + t, out + t * stride + r, stride, 8, ##__VA_ARGS__); \
			for (; t + 4 <= n_tok; t += 4)                                                         \
				TILE(n, w + (uint64_t)r * row_bytes, row_bytes, 1, aq + t, out + t * stride + r, stride, 4, ##__VA_ARGS__); \
			for (; t < n_tok; t++)                                                                 \
				TILE(n, w + (uint64_t)r * row_bytes, row_bytes, 1, aq + t, out + t * stride + r, stride, 1, ##__VA_ARGS__); \
		}                                                                                          \
	}                                                                                              \
	static void dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,        \
	                       const float *af, int64_t ld, float *out, int64_t stride)               \
	{                                                                                              \
		rows_##name(n, w, 0, 1, n_tok, aq, af, ld, out, stride);                                   \
	}

/* avx512_legacy.c: q4_0, q4_1, q5_0, q5_1, q8_0 and iq4_nl (lr_dot_fn, lr_rows_fn and
 * lr_gemm_fn, kernels.h) */
#define LR_AVX512_QUANT(name)                                                                  \
	void lr_avx512_dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,  \
	                          const float *af, int64_t ld, float *out, int64_t stride);        \
	void lr_avx512_rows_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows,       \
	                           int n_tok, const struct lr_q8act *aq, const float *af,          \
	                           int64_t ld, float *out, int64_t stride);                        \
	void lr_avx512_gemm_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows,       \
	                           int n_tok, const struct lr_q8act *aq, float *out, int64_t stride, \
	                           void *scratch);
LR_AVX512_QUANT(q4_0)
LR_AVX512_QUANT(q4_1)
LR_AVX512_QUANT(q5_0)
LR_AVX512_QUANT(q5_1)
LR_AVX512_QUANT(q8_0)
LR_AVX512_QUANT(iq4_nl)
size_t lr_avx512_legacy_scratch(int64_t n, int n_tok);
int lr_avx512_amx(void);   /* whether prefill uses AMX (avx512_legacy.c) */
void lr_avx512_amx_config(void);   /* tmm0-1 sums 16x16 int32, tmm2-3 16x32 codes, tmm4-5 8x64 */
int lr_avx512_amx_tokens(const struct lr_q8act *aq, int n_tok);   /* tokens AMX takes (x16) */
/* avx512_kquant.c: q4_K, q5_K and q6_K, the same three */
LR_AVX512_QUANT(q4_K)
LR_AVX512_QUANT(q5_K)
LR_AVX512_QUANT(q6_K)
size_t lr_avx512_kquant_scratch(int64_t n, int n_tok);

/* lr_avx512_dot_NAME, _rows_NAME and _gemm_NAME of a type from its ROWS(n, w, row_bytes,
 * n_rows, n_tok, aq, out, stride, KIND) and GEMM(..., out, stride, scratch, KIND) */
#define LR_AVX512_QUANT_DEFS(name, ROWS, GEMM, KIND)                                             \
	void lr_avx512_dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,   \
	                          const float *af, int64_t ld, float *out, int64_t stride)          \
	{                                                                                            \
		(void)af; (void)ld;                                                                      \
		ROWS(n, w, 0, 1, n_tok, aq, out, stride, KIND);                                          \
	}                                                                                            \
	void lr_avx512_rows_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok, \
	                           const struct lr_q8act *aq, const float *af, int64_t ld, float *out, \
	                           int64_t stride)                                                   \
	{                                                                                            \
		(void)af; (void)ld;                                                                      \
		ROWS(n, w, row_bytes, n_rows, n_tok, aq, out, stride, KIND);                             \
	}                                                                                            \
	void lr_avx512_gemm_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok, \
	                           const struct lr_q8act *aq, float *out, int64_t stride, void *scratch) \
	{                                                                                            \
		GEMM(n, w, row_bytes, n_rows, n_tok, aq, out, stride, scratch, KIND);                    \
	}

/* avx512_lowbit.c: q2_K, q3_K and iq4_xs (lr_dot_fn and lr_rows_fn, kernels.h) */
void lr_avx512_dot_q2_K(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,
                        const float *af, int64_t ld, float *out, int64_t stride);
void lr_avx512_rows_q2_K(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok,
                         const struct lr_q8act *aq, const float *af, int64_t ld, float *out,
                         int64_t stride);
void lr_avx512_dot_q3_K(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,
                        const float *af, int64_t ld, float *out, int64_t stride);
void lr_avx512_rows_q3_K(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok,
                         const struct lr_q8act *aq, const float *af, int64_t ld, float *out,
                         int64_t stride);
void lr_avx512_dot_iq4_xs(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,
                          const float *af, int64_t ld, float *out, int64_t stride);
void lr_avx512_rows_iq4_xs(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok,
                           const struct lr_q8act *aq, const float *af, int64_t ld, float *out,
                           int64_t stride);

#endif
