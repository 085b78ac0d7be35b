/* engine/kernels/x86/avx512.c — kernels for x86-64 CPUs with AVX-512 (F, BW, VL, DQ)
 * and VNNI.  Integer dots with 512-bit vpdpbusd: 64 weight codes (u8) times 64
 * activation codes (s8) per instruction, 16 int32 lanes of 4-byte groups.
 *
 * Legacy types (activation blocks of 32): two weight blocks per 512-bit step; the code
 * offset (8, 16, or 128 for q8_0 stored as w + 128) is removed exactly in int32 with a
 * second vpdpbusd of the constant offset, and each half is scaled by its own
 * d_w * d_a in float.  K-quants (activation blocks of 256): the sub-block sums are
 * multiplied by their integer scales and accumulated in int32 over the whole
 * super-block (|sum| <= 256 * 63 * 63 * 127 < 2^31), then scaled once; minimums and
 * q6_K's offset 32 come from the activation sums of each 16 values.
 * Up to four tokens share each unpacked weight step (prefill); decode uses one. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/kernels.h"
#include "engine/quant.h"

#define INLINE static inline __attribute__((always_inline))
#define NT_MAX 4

INLINE float f16(uint16_t h) { return _cvtsh_ss(h); }

/* [x ×8 | y ×8] */
INLINE __m512 pair_ps(float x, float y)
{
	return _mm512_insertf32x8(_mm512_set1_ps(x), _mm256_set1_ps(y), 1);
}

INLINE __m512i pair_epi32(int x, int y)
{
	return _mm512_inserti64x4(_mm512_set1_epi32(x), _mm256_set1_epi32(y), 1);
}

/* ------------------------------------------------------------------ legacy types */

/* 64 codes of blocks b0, b1 (q4 layout): [lo(b0) hi(b0) lo(b1) hi(b1)] = element order */
INLINE __m512i nib_pair(const uint8_t *qs0, const uint8_t *qs1)
{
	__m256i x = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)qs1), _mm_loadu_si128((const __m128i *)qs0));
	__m256i m = _mm256_set1_epi8(0x0f);
	__m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(x, m)),
	                               _mm256_and_si256(_mm256_srli_epi16(x, 4), m), 1);

	return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
}

/* bit 4 of each code from the two blocks' qh words */
INLINE __m512i q5_high(const uint8_t *qh0, const uint8_t *qh1)
{
	uint32_t h0, h1;

	memcpy(&h0, qh0, 4);
	memcpy(&h1, qh1, 4);
	return _mm512_maskz_set1_epi8((__mmask64)h0 | ((__mmask64)h1 << 32), 0x10);
}

enum legacy { L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_Q8_0 };

/* Unpack blocks i, i+1 (pair) or block i alone (second half zero). */
INLINE void legacy_unpack(const void *w, int64_t i, int pair, const int kind, __m512i *codes,
                          float *dw0, float *dw1, float *m0, float *m1)
{
	switch (kind) {
	case L_Q4_0: {
		const block_q4_0 *b = (const block_q4_0 *)w + i;
		*codes = nib_pair(b[0].qs, pair ? b[1].qs : b[0].qs);
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		break;
	}
	case L_Q4_1: {
		const block_q4_1 *b = (const block_q4_1 *)w + i;
		*codes = nib_pair(b[0].qs, pair ? b[1].qs : b[0].qs);
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		*m0 = f16(b[0].m); *m1 = pair ? f16(b[1].m) : 0;
		break;
	}
	case L_Q5_0: {
		const block_q5_0 *b = (const block_q5_0 *)w + i;
		const block_q5_0 *b1 = pair ? &b[1] : &b[0];
		*codes = _mm512_or_si512(nib_pair(b[0].qs, b1->qs), q5_high(b[0].qh, b1->qh));
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		break;
	}
	case L_Q5_1: {
		const block_q5_1 *b = (const block_q5_1 *)w + i;
		const block_q5_1 *b1 = pair ? &b[1] : &b[0];
		*codes = _mm512_or_si512(nib_pair(b[0].qs, b1->qs), q5_high(b[0].qh, b1->qh));
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		*m0 = f16(b[0].m); *m1 = pair ? f16(b[1].m) : 0;
		break;
	}
	case L_Q8_0: {
		const block_q8_0 *b = (const block_q8_0 *)w + i;
		__m256i lo = _mm256_loadu_si256((const __m256i *)b[0].qs);
		__m256i hi = pair ? _mm256_loadu_si256((const __m256i *)b[1].qs) : lo;
		*codes = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1),
		                          _mm512_set1_epi8((char)0x80));
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		break;
	}
	}
}

INLINE void legacy_tile(int64_t n, const void *w, const struct lr_q8act *aq, float *out,
                        int64_t stride, const int NT, const int kind)
{
	const int offs = kind == L_Q4_0 ? 8 : kind == L_Q5_0 ? 16 : kind == L_Q8_0 ? 128 : 0;
	const int has_min = kind == L_Q4_1 || kind == L_Q5_1;
	const __m512i voffs = _mm512_set1_epi8((char)offs), ones = _mm512_set1_epi8(1);
	const int64_t nb = n / 32;
	__m512 acc[NT_MAX];

	const int8_t *qs[NT_MAX];
	const float *da[NT_MAX];

	/* the token loops below have a constant trip count: unrolled, acc stays in registers */
#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		acc[t] = _mm512_setzero_ps();
		qs[t] = aq[t].qs;
		da[t] = aq[t].d;
	}
	for (int64_t i = 0; i < nb; i += 2) {
		const int pair = i + 1 < nb;
		const __mmask64 lm = pair ? ~(__mmask64)0 : (__mmask64)0xffffffffu;
		__m512i codes;
		float dw0, dw1, m0 = 0, m1 = 0;
		legacy_unpack(w, i, pair, kind, &codes, &dw0, &dw1, &m0, &m1);
		__m512 dwv = pair_ps(dw0, dw1), mv = pair_ps(m0, m1);
#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
			__m512i av = _mm512_maskz_loadu_epi8(lm, qs[t] + 32 * i);
			__m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, av);
			__m512 dav = pair_ps(da[t][i], pair ? da[t][i + 1] : 0);
			if (offs)
				dot = _mm512_sub_epi32(dot, _mm512_dpbusd_epi32(_mm512_setzero_si512(), voffs, av));
			acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dwv, dav), acc[t]);
			if (has_min) {
				__m512i sa = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, av);
				acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sa), _mm512_mul_ps(mv, dav), acc[t]);
			}
		}
	}
#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = _mm512_reduce_add_ps(acc[t]);
}

#define LEGACY(name, KIND)                                                                     \
	static void dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,    \
	                       const float *af, int64_t ld, float *out, int64_t stride)           \
	{                                                                                          \
		int t = 0;                                                                             \
		(void)af; (void)ld;                                                                    \
		for (; t + 4 <= n_tok; t += 4)                                                         \
			legacy_tile(n, w, aq + t, out + t * stride, stride, 4, KIND);                      \
		for (; t < n_tok; t++)                                                                 \
			legacy_tile(n, w, aq + t, out + t * stride, stride, 1, KIND);                      \
	}
LEGACY(q4_0, L_Q4_0)
LEGACY(q4_1, L_Q4_1)
LEGACY(q5_0, L_Q5_0)
LEGACY(q5_1, L_Q5_1)
LEGACY(q8_0, L_Q8_0)

/* ------------------------------------------------------------------ q4_K, q5_K */

/* The 8 six-bit scales and minimums of a q4_K/q5_K super-block. */
INLINE void k4_scales(const uint8_t *q, uint8_t sc[8], uint8_t m[8])
{
	for (int j = 0; j < 4; j++) {
		sc[j] = q[j] & 63;
		m[j] = q[j + 4] & 63;
		sc[j + 4] = (uint8_t)((q[j + 8] & 0x0f) | ((q[j] >> 6) << 4));
		m[j + 4] = (uint8_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
	}
}

/* sum_j m[j] * (s16[2j] + s16[2j+1]) as 8 int32 lanes (horizontal sum pending) */
INLINE __m256i mins_dot(const uint8_t m[8], const int16_t *s16)
{
	__m128i m8 = _mm_loadl_epi64((const __m128i *)m);
	__m256i mm = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));   /* m0 m0 m1 m1 ... */
	return _mm256_madd_epi16(mm, _mm256_loadu_si256((const __m256i *)s16));
}

INLINE void k45_tile(int64_t n, const void *w, const struct lr_q8act *aq, float *out,
                     int64_t stride, const int NT, const int five)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m512 acc[NT_MAX];
	__m256 accm[NT_MAX];

	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		acc[t] = _mm512_setzero_ps();
		accm[t] = _mm256_setzero_ps();
	}
	for (int64_t i = 0; i < n / 256; i++) {
		const uint8_t *scales, *qs;
		__m256i qh = _mm256_setzero_si256();
		uint8_t sc[8], mn[8];
		float d, dmin;
		__m512i iacc[NT_MAX];
		if (five) {
			const block_q5_K *b = (const block_q5_K *)w + i;
			d = f16(b->d); dmin = f16(b->dmin); scales = b->scales; qs = b->qs;
			qh = _mm256_loadu_si256((const __m256i *)b->qh);
		} else {
			const block_q4_K *b = (const block_q4_K *)w + i;
			d = f16(b->d); dmin = f16(b->dmin); scales = b->scales; qs = b->qs;
		}
		k4_scales(scales, sc, mn);
		#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
			iacc[t] = _mm512_setzero_si512();
		for (int c = 0; c < 4; c++) {
			__m256i x = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
			__m256i lo = _mm256_and_si256(x, m4), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);
			if (five) {
				__m256i one = _mm256_set1_epi8(1);
				lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
				hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
			}
			__m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
			__m512i scv = pair_epi32(sc[2 * c], sc[2 * c + 1]);
			#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(aq[t].qs + 256 * i + 64 * c));
				__m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, av);
				iacc[t] = _mm512_add_epi32(iacc[t], _mm512_mullo_epi32(dot, scv));
			}
		}
		#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
			float da = aq[t].d[i];
			acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[t]), _mm512_set1_ps(d * da), acc[t]);
			accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins_dot(mn, aq[t].s16 + 16 * i)),
			                          _mm256_set1_ps(-dmin * da), accm[t]);
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		__m512 all = _mm512_add_ps(acc[t], _mm512_insertf32x8(_mm512_setzero_ps(), accm[t], 0));
		out[t * stride] = _mm512_reduce_add_ps(all);
	}
}

static void dot_q4_K(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,
                     const float *af, int64_t ld, float *out, int64_t stride)
{
	int t = 0;
	(void)af; (void)ld;
	for (; t + 4 <= n_tok; t += 4)
		k45_tile(n, w, aq + t, out + t * stride, stride, 4, 0);
	for (; t < n_tok; t++)
		k45_tile(n, w, aq + t, out + t * stride, stride, 1, 0);
}

static void dot_q5_K(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,
                     const float *af, int64_t ld, float *out, int64_t stride)
{
	int t = 0;
	(void)af; (void)ld;
	for (; t + 4 <= n_tok; t += 4)
		k45_tile(n, w, aq + t, out + t * stride, stride, 4, 1);
	for (; t < n_tok; t++)
		k45_tile(n, w, aq + t, out + t * stride, stride, 1, 1);
}

/* ------------------------------------------------------------------ q6_K */

/* 64-element chunk c (0..3) of a q6_K super-block: half h = c / 2 holds sub-blocks
 * k0 = 2 (c % 2) and k0 + 1, whose low 4 bits are nibble (c % 2) of ql[64 h ..+64]
 * and whose top 2 bits are bits 2k, 2k+1 of qh[32 h ..+32]. */
INLINE void q6_tile(int64_t n, const block_q6_K *b, const struct lr_q8act *aq, float *out,
                    int64_t stride, const int NT)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(3);
	const __m128i rep4 = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
	__m512 acc[NT_MAX];
	__m256 acco[NT_MAX];

	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		acc[t] = _mm512_setzero_ps();
		acco[t] = _mm256_setzero_ps();
	}
	for (int64_t i = 0; i < n / 256; i++) {
		float d = f16(b[i].d);
		__m512i iacc[NT_MAX];
		__m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b[i].scales));
		#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
			iacc[t] = _mm512_setzero_si512();
		for (int c = 0; c < 4; c++) {
			int h = c / 2, k0 = 2 * (c % 2);
			__m512i ql = _mm512_loadu_si512((const void *)(b[i].ql + 64 * h));
			__m256i qh = _mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h));
			__m512i lo = _mm512_and_si512(c % 2 ? _mm512_srli_epi16(ql, 4) : ql, m4);
			__m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, 2 * k0)),
			                                _mm256_srli_epi16(qh, 2 * k0 + 2), 1);
			__m512i codes = _mm512_or_si512(lo, _mm512_slli_epi16(_mm512_and_si512(hz, m2), 4));
			int32_t s4w;
			memcpy(&s4w, b[i].scales + 4 * c, 4);    /* scales are not 4-byte aligned */
			__m128i s4 = _mm_cvtsi32_si128(s4w);
			__m512i scv = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(s4, rep4));
			#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(aq[t].qs + 256 * i + 64 * c));
				__m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, av);
				iacc[t] = _mm512_add_epi32(iacc[t], _mm512_mullo_epi32(dot, scv));
			}
		}
		#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
			float da = aq[t].d[i];
			__m256i so = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)(aq[t].s16 + 16 * i)));
			acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[t]), _mm512_set1_ps(d * da), acc[t]);
			acco[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(so), _mm256_set1_ps(-32.0f * d * da), acco[t]);
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = _mm512_reduce_add_ps(_mm512_add_ps(acc[t],
		                      _mm512_insertf32x8(_mm512_setzero_ps(), acco[t], 0)));
}

static void dot_q6_K(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,
                     const float *af, int64_t ld, float *out, int64_t stride)
{
	int t = 0;
	(void)af; (void)ld;
	for (; t + 4 <= n_tok; t += 4)
		q6_tile(n, w, aq + t, out + t * stride, stride, 4);
	for (; t < n_tok; t++)
		q6_tile(n, w, aq + t, out + t * stride, stride, 1);
}

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

const struct lr_kernels lr_kernels_avx512 = {
	.name = "avx512",
	.dot = {
		[LR_TYPE_F32] = dot_f32, [LR_TYPE_F16] = dot_f16, [LR_TYPE_BF16] = dot_bf16,
		[LR_TYPE_Q4_0] = dot_q4_0, [LR_TYPE_Q4_1] = dot_q4_1, [LR_TYPE_Q5_0] = dot_q5_0,
		[LR_TYPE_Q5_1] = dot_q5_1, [LR_TYPE_Q8_0] = dot_q8_0, [LR_TYPE_Q4_K] = dot_q4_K,
		[LR_TYPE_Q5_K] = dot_q5_K, [LR_TYPE_Q6_K] = dot_q6_K,
	},
	.uses_q8 = {
		[LR_TYPE_Q4_0] = 32, [LR_TYPE_Q4_1] = 32, [LR_TYPE_Q5_0] = 32, [LR_TYPE_Q5_1] = 32,
		[LR_TYPE_Q8_0] = 32, [LR_TYPE_Q4_K] = 256, [LR_TYPE_Q5_K] = 256, [LR_TYPE_Q6_K] = 256,
	},
	.quantize_act = quantize_act,
};
#endif
