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
 * Up to four tokens share each unpacked weight step (prefill); decode uses one.
 * iq4_nl goes with the legacy types (its levels are signed codes, like q8_0's); q2_K,
 * q3_K and iq4_xs live in avx512_lowbit.c. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/x86/avx512.h"
#include "engine/quant.h"

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

enum legacy { L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_Q8_0, L_IQ4_NL };

/* Unpack blocks i, i+1 (pair) or block i alone (then the second half repeats it with
 * scale 0) as signed codes c with value = dw * c + m: q4_0 q - 8, q5_0 q - 16, q8_0 w,
 * q4_1 / q5_1 q (their minimum m is separate), iq4_nl its level lr_iq4nl_values[q].  All
 * codes fit in int8.  RAW keeps q4_0 and q5_0 codes unsigned (q, the offset left to the
 * caller); q8_0 and iq4_nl codes are signed, RAW or not. */
INLINE void legacy_unpack(const void *w, int64_t i, int pair, const int kind, __m512i *codes,
                          float *dw0, float *dw1, float *m0, float *m1, const int RAW)
{
	switch (kind) {
	case L_Q4_0: {
		const block_q4_0 *b = (const block_q4_0 *)w + i;
		*codes = nib_pair(b[0].qs, pair ? b[1].qs : b[0].qs);
		if (!RAW)
			*codes = _mm512_sub_epi8(*codes, _mm512_set1_epi8(8));
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
		if (!RAW)
			*codes = _mm512_sub_epi8(*codes, _mm512_set1_epi8(16));
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
		*codes = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		break;
	}
	case L_IQ4_NL: {
		const block_iq4_nl *b = (const block_iq4_nl *)w + i;
		__m512i levels = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lr_iq4nl_values));
		*codes = _mm512_shuffle_epi8(levels, nib_pair(b[0].qs, pair ? b[1].qs : b[0].qs));
		*dw0 = f16(b[0].d); *dw1 = pair ? f16(b[1].d) : 0;
		break;
	}
	}
}

/* [v[0] x8 | v[1] x8] from two adjacent floats */
INLINE __m512 pair_load(const float *v)
{
	const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
	double two;   /* v is only 4-byte aligned when a row has an odd number of blocks */

	memcpy(&two, v, sizeof two);
	return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_castpd_ps(_mm_set_sd(two))));
}

/* One step of 64 values (PAIR: two blocks) or 32 (the last block of an odd row). */
INLINE void legacy_step(const uint8_t *w, uint64_t row_bytes, const int NR, int64_t i, const int PAIR,
                        const int8_t *const *qs, const float *const *da, __m512 acc[2][NT_MAX],
                        const int NT, const int kind)
{
	const int has_min = kind == L_Q4_1 || kind == L_Q5_1;
	const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
	const __mmask64 lm = PAIR ? ~(__mmask64)0 : (__mmask64)0xffffffffu;
	__m512i codes[2], wneg[2];
	__m512 dwv[2], mv[2];

#pragma GCC unroll 2
	for (int r = 0; r < NR; r++) {
		float dw0, dw1, m0 = 0, m1 = 0;
		legacy_unpack(w + (uint64_t)r * row_bytes, i, PAIR, kind, &codes[r], &dw0, &dw1, &m0, &m1, 0);
		wneg[r] = _mm512_sub_epi32(_mm512_setzero_si512(),
		                           _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, codes[r]));
		dwv[r] = pair_ps(dw0, dw1);
		mv[r] = pair_ps(m0, m1);
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++) {
		__m512i au = _mm512_xor_si512(PAIR ? _mm512_loadu_si512((const void *)(qs[t] + 32 * i))
		                                   : _mm512_maskz_loadu_epi8(lm, qs[t] + 32 * i), flip);
		__m512 dav = PAIR ? pair_load(da[t] + i) : pair_ps(da[t][i], 0);
		__m512i sa = _mm512_setzero_si512();
		if (has_min)   /* sum of a per 4-byte lane: sum(a + 128) - 512 */
			sa = _mm512_dpbusd_epi32(_mm512_set1_epi32(-512), au, ones);
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++) {
			__m512i dot = _mm512_dpbusd_epi32(wneg[r], au, codes[r]);
			acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dwv[r], dav), acc[r][t]);
			if (has_min)
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sa), _mm512_mul_ps(mv[r], dav), acc[r][t]);
		}
	}
}

/* NR weight rows (1 or 2, row_bytes apart) times NT tokens.  The activation codes a
 * are made unsigned as a + 128 (one xor per token, shared by the rows), so vpdpbusd
 * multiplies them with the signed weight codes c; the extra 128 * sum(c) is a weight
 * constant, computed once per row and used as the accumulator's starting value:
 *   dpbusd(-128 sum c, a + 128, c) = sum a c,  exactly, in int32. */
INLINE void legacy_tile(int64_t n, const uint8_t *w, uint64_t row_bytes, const int NR,
                        const struct lr_q8act *aq, float *out, int64_t stride, const int NT,
                        const int kind)
{
	const int64_t nb = n / 32;
	__m512 acc[2][NT_MAX];
	const int8_t *qs[NT_MAX];
	const float *da[NT_MAX];
	int64_t i = 0;

	/* the row and token loops have constant trip counts: unrolled, acc stays in registers */
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++) {
		acc[0][t] = acc[1][t] = _mm512_setzero_ps();
		qs[t] = aq[t].qs;
		da[t] = aq[t].d;
	}
	for (; i + 2 <= nb; i += 2)
		legacy_step(w, row_bytes, NR, i, 1, qs, da, acc, NT, kind);
	if (i < nb)
		legacy_step(w, row_bytes, NR, i, 0, qs, da, acc, NT, kind);
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++)
			out[t * stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* Decode (one token) of the 4- and 5-bit types, row by row, with the activation's
 * share of each 64-value step computed once per call instead of once per row: the
 * codes stay unsigned (q, not q - off) and become vpdpbusd's unsigned operand, the
 * activation codes its signed one, and the offset enters as the starting value:
 *   dpbusd(-off * sum a, q, a) = sum a (q - off),
 * lane for lane the int32 values legacy_step makes, so the result is the same bit for
 * bit as prefill's (cached keys and values do not depend on how tokens were batched).
 * For q4_1 / q5_1 (off 0) the same per-lane sums of a make the minimum term. */
#define DECODE_MAX_STEPS 1024
INLINE void legacy_rows_decode(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows,
                               const struct lr_q8act *aq, float *out, const int kind)
{
	const int has_min = kind == L_Q4_1 || kind == L_Q5_1;
	const int off = kind == L_Q4_0 ? 8 : kind == L_Q5_0 ? 16 : 0;
	const int64_t nb = n / 32, np = nb / 2;
	const int8_t *qs = aq->qs;
	const float *da = aq->d;
	__m512i sa[DECODE_MAX_STEPS];   /* per 4-byte lane: sum a (has_min), else -off * sum a */

	for (int64_t p = 0; p < np; p++) {
		__m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1),
		                                _mm512_loadu_si512((const void *)(qs + 64 * p)));
		sa[p] = has_min ? s : _mm512_mullo_epi32(s, _mm512_set1_epi32(-off));
	}
	for (int r = 0; r < n_rows; r++) {
		const uint8_t *row = w + (uint64_t)r * row_bytes;
		__m512 acc[2][NT_MAX];

		acc[0][0] = _mm512_setzero_ps();
		for (int64_t p = 0; p < np; p++) {
			__m512i codes;
			float dw0, dw1, m0 = 0, m1 = 0;
			legacy_unpack(row, 2 * p, 1, kind, &codes, &dw0, &dw1, &m0, &m1, 1);
			__m512 dav = pair_load(da + 2 * p);
			__m512i dot = _mm512_dpbusd_epi32(has_min ? _mm512_setzero_si512() : sa[p], codes,
			                                  _mm512_loadu_si512((const void *)(qs + 64 * p)));
			acc[0][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(pair_ps(dw0, dw1), dav), acc[0][0]);
			if (has_min)
				acc[0][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sa[p]), _mm512_mul_ps(pair_ps(m0, m1), dav),
				                            acc[0][0]);
		}
		if (nb % 2)   /* the last block of an odd row, as legacy_tile does it */
			legacy_step(row, row_bytes, 1, 2 * np, 0, &qs, &da, acc, 1, kind);
		out[r] = _mm512_reduce_add_ps(acc[0][0]);
	}
}

/* Prefill: rows in pairs, tokens in groups of 8 and 4 (pairs share each activation
 * load).  Decode (fewer than 4 tokens): one row at a time, which measured 3x faster
 * than pairs for a single token; for one token of a 4- or 5-bit type, see above. */
INLINE void legacy_rows(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                        const struct lr_q8act *aq, float *out, int64_t stride, const int kind)
{
	int r = 0;

	if (n_tok == 1 && kind != L_Q8_0 && kind != L_IQ4_NL && n / 64 <= DECODE_MAX_STEPS) {
		legacy_rows_decode(n, w, row_bytes, n_rows, aq, out, kind);
		return;
	}

	for (; r + 2 <= n_rows && n_tok >= 4; r += 2) {
		int t = 0;
		for (; t + 8 <= n_tok; t += 8)
			legacy_tile(n, w + (uint64_t)r * row_bytes, row_bytes, 2, aq + t, out + t * stride + r, stride, 8, kind);
		for (; t + 4 <= n_tok; t += 4)
			legacy_tile(n, w + (uint64_t)r * row_bytes, row_bytes, 2, aq + t, out + t * stride + r, stride, 4, kind);
		for (; t < n_tok; t++)
			legacy_tile(n, w + (uint64_t)r * row_bytes, row_bytes, 2, aq + t, out + t * stride + r, stride, 1, kind);
	}
	for (; r < n_rows; r++) {
		int t = 0;
		for (; t + 4 <= n_tok; t += 4)
			legacy_tile(n, w + (uint64_t)r * row_bytes, row_bytes, 1, aq + t, out + t * stride + r, stride, 4, kind);
		for (; t < n_tok; t++)
			legacy_tile(n, w + (uint64_t)r * row_bytes, row_bytes, 1, aq + t, out + t * stride + r, stride, 1, kind);
	}
}

#define LEGACY(name, KIND)                                                                     \
	static void dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,    \
	                       const float *af, int64_t ld, float *out, int64_t stride)           \
	{                                                                                          \
		(void)af; (void)ld;                                                                    \
		legacy_rows(n, w, 0, 1, n_tok, aq, out, stride, KIND);                                 \
	}                                                                                          \
	static void rows_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok, \
	                        const struct lr_q8act *aq, const float *af, int64_t ld, float *out, \
	                        int64_t stride)                                                    \
	{                                                                                          \
		(void)af; (void)ld;                                                                    \
		legacy_rows(n, w, row_bytes, n_rows, n_tok, aq, out, stride, KIND);                    \
	}
LEGACY(q4_0, L_Q4_0)
LEGACY(q4_1, L_Q4_1)
LEGACY(q5_0, L_Q5_0)
LEGACY(q5_1, L_Q5_1)
LEGACY(q8_0, L_Q8_0)
LEGACY(iq4_nl, L_IQ4_NL)

/* ------------------------------------------------------------------ q4_K, q5_K */

/* The 8 six-bit scales (sc) and minimums (m) of a q4_K/q5_K super-block, unpacked from
 * their 12 bytes with word operations: scales[0..3] hold sc 0-3 (low 6 bits) and the
 * top 2 bits of sc 4-7; scales[4..7] likewise for the minimums; scales[8..11] the low
 * 4 bits of sc 4-7 (low nibbles) and of m 4-7 (high nibbles). */
INLINE void k4_scales(const uint8_t *q, uint8_t sc[8], uint8_t m[8])
{
	const uint32_t low6 = 0x3f3f3f3fu, low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
	uint32_t u[3], o[4];

	memcpy(u, q, 12);
	o[0] = u[0] & low6;                                        /* sc 0-3 */
	o[1] = (u[2] & low4) | (((u[0] >> 6) & low2) << 4);        /* sc 4-7 */
	o[2] = u[1] & low6;                                        /* m 0-3 */
	o[3] = ((u[2] >> 4) & low4) | (((u[1] >> 6) & low2) << 4); /* m 4-7 */
	memcpy(sc, o, 8);
	memcpy(m, o + 2, 8);
}

/* sum_j m[j] * (s16[2j] + s16[2j+1]) as 8 int32 lanes (horizontal sum pending) */
INLINE __m256i mins_dot(const uint8_t m[8], const int16_t *s16)
{
	__m128i m8 = _mm_loadl_epi64((const __m128i *)m);
	__m256i mm = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));   /* m0 m0 m1 m1 ... */
	return _mm256_madd_epi16(mm, _mm256_loadu_si256((const __m256i *)s16));
}

/* NR rows (row_bytes apart) x NT tokens of q4_K (five = 0) or q5_K (five = 1). */
INLINE void k45_tile(int64_t n, const uint8_t *w, uint64_t row_bytes, const int NR,
                     const struct lr_q8act *aq, float *out, int64_t stride, const int NT, const int five)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
	__m512 acc[2][NT_MAX];
	const int8_t *qs_t[NT_MAX];
	const float *d_t[NT_MAX];
	const int16_t *s16_t[NT_MAX];

#pragma GCC unroll 8
	for (int t = 0; t < NT; t++) {
		acc[0][t] = acc[1][t] = _mm512_setzero_ps();
		qs_t[t] = aq[t].qs;
		d_t[t] = aq[t].d;
		s16_t[t] = aq[t].s16;
	}
	for (int64_t i = 0; i < n / 256; i++) {
		const uint8_t *qs[2];
		__m256i qh[2];
		uint8_t sc[2][8], mn[2][8];
		float d[2], dmin[2];
		__m512i iacc[2][NT_MAX];
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++) {
			const uint8_t *row = w + (uint64_t)r * row_bytes;
			if (five) {
				const block_q5_K *b = (const block_q5_K *)row + i;
				d[r] = f16(b->d); dmin[r] = f16(b->dmin); qs[r] = b->qs;
				qh[r] = _mm256_loadu_si256((const __m256i *)b->qh);
				k4_scales(b->scales, sc[r], mn[r]);
			} else {
				const block_q4_K *b = (const block_q4_K *)row + i;
				d[r] = f16(b->d); dmin[r] = f16(b->dmin); qs[r] = b->qs;
				k4_scales(b->scales, sc[r], mn[r]);
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++)
				iacc[r][t] = _mm512_setzero_si512();
		}
		for (int c = 0; c < 4; c++) {
			__m512i codes[2], scv[2];
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				__m256i x = _mm256_loadu_si256((const __m256i *)(qs[r] + 32 * c));
				__m256i lo = _mm256_and_si256(x, m4), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);
				if (five) {
					lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh[r], 2 * c), one), 4));
					hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh[r], 2 * c + 1), one), 4));
				}
				codes[r] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
				scv[r] = _mm512_inserti64x4(_mm512_set1_epi16(sc[r][2 * c]), _mm256_set1_epi16(sc[r][2 * c + 1]), 1);
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(qs_t[t] + 256 * i + 64 * c));
#pragma GCC unroll 2
				for (int r = 0; r < NR; r++)   /* u8 x s8 pairs -> s16 (|.| <= 2*63*127), x scale -> s32 */
					iacc[r][t] = _mm512_dpwssd_epi32(iacc[r][t], _mm512_maddubs_epi16(codes[r], av), scv[r]);
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++) {
			float da = d_t[t][i];
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				__m512i mins = _mm512_zextsi256_si512(mins_dot(mn[r], s16_t[t] + 16 * i));
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][t]), _mm512_set1_ps(d[r] * da), acc[r][t]);
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_set1_ps(-dmin[r] * da), acc[r][t]);
			}
		}
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++)
			out[t * stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* (KQUANT_ROWS: avx512.h) */
KQUANT_ROWS(q4_K, k45_tile, 0)
KQUANT_ROWS(q5_K, k45_tile, 1)

/* ------------------------------------------------------------------ q6_K */

/* 64-element chunk c (0..3) of a q6_K super-block: half h = c / 2 holds sub-blocks
 * k0 = 2 (c % 2) and k0 + 1, whose low 4 bits are nibble (c % 2) of ql[64 h ..+64]
 * and whose top 2 bits are bits 2k, 2k+1 of qh[32 h ..+32]. */
INLINE void q6_tile(int64_t n, const uint8_t *w, uint64_t row_bytes, const int NR,
                    const struct lr_q8act *aq, float *out, int64_t stride, const int NT)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(3);
	/* each scale covers 16 values = 8 int16 lanes of the pair products */
	const __m128i rep8lo = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
	const __m128i rep8hi = _mm_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	__m512 acc[2][NT_MAX];
	const int8_t *qs_t[NT_MAX];
	const float *d_t[NT_MAX];
	const int16_t *s16_t[NT_MAX];

#pragma GCC unroll 8
	for (int t = 0; t < NT; t++) {
		acc[0][t] = acc[1][t] = _mm512_setzero_ps();
		qs_t[t] = aq[t].qs;
		d_t[t] = aq[t].d;
		s16_t[t] = aq[t].s16;
	}
	for (int64_t i = 0; i < n / 256; i++) {
		const block_q6_K *b[2];
		float d[2];
		__m256i sc16[2];
		__m512i iacc[2][NT_MAX];
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++) {
			b[r] = (const block_q6_K *)(w + (uint64_t)r * row_bytes) + i;
			d[r] = f16(b[r]->d);
			sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b[r]->scales));
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++)
				iacc[r][t] = _mm512_setzero_si512();
		}
		for (int c = 0; c < 4; c++) {
			int h = c / 2, k0 = 2 * (c % 2);
			__m512i codes[2], scv[2];
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				__m512i ql = _mm512_loadu_si512((const void *)(b[r]->ql + 64 * h));
				__m256i qh = _mm256_loadu_si256((const __m256i *)(b[r]->qh + 32 * h));
				__m512i lo = _mm512_and_si512(c % 2 ? _mm512_srli_epi16(ql, 4) : ql, m4);
				__m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, 2 * k0)),
				                                _mm256_srli_epi16(qh, 2 * k0 + 2), 1);
				int32_t s4w;
				memcpy(&s4w, b[r]->scales + 4 * c, 4);    /* scales are not 4-byte aligned */
				codes[r] = _mm512_or_si512(lo, _mm512_slli_epi16(_mm512_and_si512(hz, m2), 4));
				__m128i s4 = _mm_cvtsi32_si128(s4w);
				scv[r] = _mm512_cvtepi8_epi16(_mm256_set_m128i(_mm_shuffle_epi8(s4, rep8hi), _mm_shuffle_epi8(s4, rep8lo)));
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(qs_t[t] + 256 * i + 64 * c));
#pragma GCC unroll 2
				for (int r = 0; r < NR; r++)   /* u8 x s8 pairs -> s16 (|.| <= 2*63*127), x scale -> s32 */
					iacc[r][t] = _mm512_dpwssd_epi32(iacc[r][t], _mm512_maddubs_epi16(codes[r], av), scv[r]);
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++) {
			float da = d_t[t][i];
			__m256i s16 = _mm256_loadu_si256((const __m256i *)(s16_t[t] + 16 * i));
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				__m512i so = _mm512_zextsi256_si512(_mm256_madd_epi16(sc16[r], s16));
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][t]), _mm512_set1_ps(d[r] * da), acc[r][t]);
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(so), _mm512_set1_ps(-32.0f * d[r] * da), acc[r][t]);
			}
		}
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++)
			out[t * stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

KQUANT_ROWS(q6_K, q6_tile)

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
		[LR_TYPE_Q5_K] = dot_q5_K, [LR_TYPE_Q6_K] = dot_q6_K, [LR_TYPE_IQ4_NL] = dot_iq4_nl,
		[LR_TYPE_Q2_K] = lr_avx512_dot_q2_K, [LR_TYPE_Q3_K] = lr_avx512_dot_q3_K,
		[LR_TYPE_IQ4_XS] = lr_avx512_dot_iq4_xs,
	},
	.uses_q8 = {
		[LR_TYPE_Q4_0] = 32, [LR_TYPE_Q4_1] = 32, [LR_TYPE_Q5_0] = 32, [LR_TYPE_Q5_1] = 32,
		[LR_TYPE_Q8_0] = 32, [LR_TYPE_Q4_K] = 256, [LR_TYPE_Q5_K] = 256, [LR_TYPE_Q6_K] = 256,
		[LR_TYPE_Q2_K] = 256, [LR_TYPE_Q3_K] = 256, [LR_TYPE_IQ4_NL] = 32, [LR_TYPE_IQ4_XS] = 256,
	},
	.rows = {
		[LR_TYPE_Q4_0] = rows_q4_0, [LR_TYPE_Q4_1] = rows_q4_1, [LR_TYPE_Q5_0] = rows_q5_0,
		[LR_TYPE_Q5_1] = rows_q5_1, [LR_TYPE_Q8_0] = rows_q8_0, [LR_TYPE_Q4_K] = rows_q4_K,
		[LR_TYPE_Q5_K] = rows_q5_K, [LR_TYPE_Q6_K] = rows_q6_K, [LR_TYPE_IQ4_NL] = rows_iq4_nl,
		[LR_TYPE_Q2_K] = lr_avx512_rows_q2_K, [LR_TYPE_Q3_K] = lr_avx512_rows_q3_K,
		[LR_TYPE_IQ4_XS] = lr_avx512_rows_iq4_xs,
	},
	.quantize_act = quantize_act,
};
#endif
