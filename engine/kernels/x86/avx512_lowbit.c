/* engine/kernels/x86/avx512_lowbit.c — AVX-512 VNNI kernels of the low-bit 256-value
 * types: q2_K, q3_K (llama.cpp's Q3_K_S/M/L mixes) and iq4_xs.  Activations in blocks
 * of 256 (Q8_K), as for q4_K..q6_K in avx512.c, and the same scheme: per 64-value chunk
 * the weight codes (u8) times the activation codes (s8) in int16 pairs (vpmaddubsw),
 * times the integer sub-block scales into int32 (vpdpwssd), scaled to float once per
 * super-block; minimums and offsets from the activation sums of each 16 values.
 * Workload as in avx512.c: decode one token per row, prefill up to 8 per row. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include <string.h>

#include "engine/kernels/x86/avx512.h"
#include "engine/quant.h"

/* lane k of 32 int16 lanes: k / 8, the 16-value group of the 64-value chunk it covers */
static const int16_t rep8[32] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                  2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3 };

/* 32 int16 lanes whose lower half is n, upper half m */
INLINE __m512i halves16(int n, int m)
{
	return _mm512_inserti64x4(_mm512_set1_epi16((short)n), _mm256_set1_epi16((short)m), 1);
}

/* The 16 six-bit q3_K scales minus 32, from their 12 bytes with word operations:
 * bytes 0-7 hold the low 4 bits (scales 0-7 in the low nibbles, 8-15 in the high),
 * bytes 8-11 the top 2 bits (scale k in bits 2 (k / 4) of byte 8 + k % 4). */
INLINE void q3_scales(const uint8_t *q, int8_t sc[16])
{
	const uint32_t low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
	uint32_t u[3], o[4];

	memcpy(u, q, 12);
	o[0] = (u[0] & low4) | ((u[2] & low2) << 4);
	o[1] = (u[1] & low4) | (((u[2] >> 2) & low2) << 4);
	o[2] = ((u[0] >> 4) & low4) | (((u[2] >> 4) & low2) << 4);
	o[3] = ((u[1] >> 4) & low4) | (((u[2] >> 6) & low2) << 4);
	_mm_storeu_si128((__m128i *)sc, _mm_sub_epi8(_mm_loadu_si128((const __m128i *)o), _mm_set1_epi8(32)));
}

/* ------------------------------------------------------------------ q2_K, q3_K */

/* NR rows x NT tokens of q2_K (q3 = 0) or q3_K (q3 = 1).  64-value chunk c (0..3) lies
 * in half h = c / 2 as its 32-value parts j0 = 2 (c % 2) and j0 + 1: 2-bit codes
 * (qs[32h + l] >> 2j) & 3, for q3_K with bit 4h + j of hmask[l] as bit 2 (codes 0..7,
 * values -4..3).  Ranges: pair products <= 2 * 7 * 127, times |scale| <= 32; the int32
 * lanes sum 8 of those per super-block.  q2_K's minimums (sc >> 4) and q3_K's offset
 * -4 times its scales enter through s16. */
INLINE void k23_tile(int64_t n, const uint8_t *w, uint64_t row_bytes, const int NR,
                     const struct lr_q8act *aq, float *out, int64_t stride, const int NT, const int q3)
{
	const __m512i three = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1);
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
		__m512i hm[2], sc16[2];     /* q3_K's high bits (in both halves); the 16 scales */
		__m256i m16[2];             /* the multipliers of s16 */
		int8_t sc[16];
		float d[2], dmin[2];
		__m512i iacc[2][NT_MAX];
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++) {
			const uint8_t *row = w + (uint64_t)r * row_bytes;
			const int sbytes = q3 ? sizeof(block_q3_K) : sizeof(block_q2_K);
			prefetch_ahead(row + sbytes * i, sbytes);
			if (q3) {
				const block_q3_K *b = (const block_q3_K *)row + i;
				d[r] = f16(b->d); dmin[r] = 0; qs[r] = b->qs;
				hm[r] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)b->hmask));
				q3_scales(b->scales, sc);
				m16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
				sc16[r] = _mm512_castsi256_si512(m16[r]);
			} else {
				const block_q2_K *b = (const block_q2_K *)row + i;
				__m128i s = _mm_loadu_si128((const __m128i *)b->scales), m4 = _mm_set1_epi8(0x0f);
				d[r] = f16(b->d); dmin[r] = f16(b->dmin); qs[r] = b->qs;
				hm[r] = _mm512_setzero_si512();
				sc16[r] = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(s, m4)));
				m16[r] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4));
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++)
				iacc[r][t] = _mm512_setzero_si512();
		}
#pragma GCC unroll 4
		for (int c = 0; c < 4; c++) {
			const int h = c / 2, j0 = 2 * (c % 2);
			/* per-lane shift counts: part j0 in the lower half, j0 + 1 in the upper; the
			 * scales 4c .. 4c+3, each over 8 int16 lanes (16 values) */
			const __m512i cnt = halves16(2 * j0, 2 * j0 + 2), hcnt = halves16(4 * h + j0, 4 * h + j0 + 1);
			const __m512i sidx = _mm512_add_epi16(_mm512_set1_epi16((short)(4 * c)),
			                                      _mm512_loadu_si512((const void *)rep8));
			__m512i codes[2], scv[2];
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				/* shifts of 16-bit lanes: the bits kept come from the same byte */
				__m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs[r] + 32 * h)));
				codes[r] = _mm512_and_si512(_mm512_srlv_epi16(q, cnt), three);
				if (q3)
					codes[r] = _mm512_or_si512(codes[r], _mm512_slli_epi16(
						_mm512_and_si512(_mm512_srlv_epi16(hm[r], hcnt), one), 2));
				scv[r] = _mm512_permutexvar_epi16(sidx, sc16[r]);
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(qs_t[t] + 256 * i + 64 * c));
#pragma GCC unroll 2
				for (int r = 0; r < NR; r++)
					iacc[r][t] = _mm512_dpwssd_epi32(iacc[r][t], _mm512_maddubs_epi16(codes[r], av), scv[r]);
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++) {
			float da = d_t[t][i];
			__m256i s16 = _mm256_loadu_si256((const __m256i *)(s16_t[t] + 16 * i));
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				__m512i so = _mm512_zextsi256_si512(_mm256_madd_epi16(m16[r], s16));
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][t]), _mm512_set1_ps(d[r] * da), acc[r][t]);
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(so),
				                            _mm512_set1_ps(q3 ? -4.0f * d[r] * da : -dmin[r] * da), acc[r][t]);
			}
		}
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++)
			out[t * stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

KQUANT_ROWS(q2_K, k23_tile, 0)
KQUANT_ROWS(q3_K, k23_tile, 1)

/* ------------------------------------------------------------------ iq4_xs */

/* NR rows x NT tokens of iq4_xs.  Chunk c holds sub-blocks 2c and 2c + 1: the nibbles
 * of qs[32c ..+32] in element order, mapped to their signed levels by a byte shuffle.
 * vpmaddubsw wants an unsigned operand: it gets |level| (<= 127) and the activation
 * codes take the level's sign (|a| <= 127, so negating is exact), pair sums <= 2 * 127
 * * 127 fit in int16; times the scales ls - 32 (|.| <= 32) into int32, 8 per lane per
 * super-block. */
INLINE void iq4_xs_tile(int64_t n, const uint8_t *w, uint64_t row_bytes, const int NR,
                        const struct lr_q8act *aq, float *out, int64_t stride, const int NT)
{
	const __m512i levels = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lr_iq4nl_values));
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m512 acc[2][NT_MAX];
	const int8_t *qs_t[NT_MAX];
	const float *d_t[NT_MAX];

#pragma GCC unroll 8
	for (int t = 0; t < NT; t++) {
		acc[0][t] = acc[1][t] = _mm512_setzero_ps();
		qs_t[t] = aq[t].qs;
		d_t[t] = aq[t].d;
	}
	for (int64_t i = 0; i < n / 256; i++) {
		const block_iq4_xs *b[2];
		__m512i ls[2];   /* the 8 scales ls - 32 as int16 lanes 0-7 */
		float d[2];
		__m512i iacc[2][NT_MAX];
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++) {
			uint32_t sl;
			b[r] = (const block_iq4_xs *)(w + (uint64_t)r * row_bytes) + i;
			prefetch_ahead(b[r], sizeof(block_iq4_xs));
			d[r] = f16(b[r]->d);
			memcpy(&sl, b[r]->scales_l, 4);
			/* low 4 bits: sub-block 2k in byte k's low nibble, 2k + 1 in its high one;
			 * top 2 bits: sub-block j in bits 2j of scales_h */
			__m128i lo = _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)(sl & 0x0f0f0f0fu)),
			                               _mm_cvtsi32_si128((int)((sl >> 4) & 0x0f0f0f0fu)));
			__m128i hi = _mm_srlv_epi16(_mm_set1_epi16((short)b[r]->scales_h), _mm_setr_epi16(0, 2, 4, 6, 8, 10, 12, 14));
			__m128i v = _mm_or_si128(_mm_cvtepu8_epi16(lo), _mm_slli_epi16(_mm_and_si128(hi, _mm_set1_epi16(3)), 4));
			ls[r] = _mm512_castsi128_si512(_mm_sub_epi16(v, _mm_set1_epi16(32)));
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++)
				iacc[r][t] = _mm512_setzero_si512();
		}
#pragma GCC unroll 4
		for (int c = 0; c < 4; c++) {
			const __m512i sidx = halves16(2 * c, 2 * c + 1);   /* scales 2c, 2c + 1 */
			__m512i mag[2], scv[2];
			__mmask64 neg[2];
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++) {
				__m256i x = _mm256_loadu_si256((const __m256i *)(b[r]->qs + 32 * c));
				/* [lo(qs 0-15) hi(qs 0-15) lo(qs 16-31) hi(qs 16-31)] = element order */
				__m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(x, m4)),
				                               _mm256_and_si256(_mm256_srli_epi16(x, 4), m4), 1);
				__m512i v = _mm512_shuffle_epi8(levels, _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)));
				mag[r] = _mm512_abs_epi8(v);
				neg[r] = _mm512_movepi8_mask(v);
				scv[r] = _mm512_permutexvar_epi16(sidx, ls[r]);
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(qs_t[t] + 256 * i + 64 * c));
#pragma GCC unroll 2
				for (int r = 0; r < NR; r++) {
					__m512i as = _mm512_mask_sub_epi8(av, neg[r], _mm512_setzero_si512(), av);
					iacc[r][t] = _mm512_dpwssd_epi32(iacc[r][t], _mm512_maddubs_epi16(mag[r], as), scv[r]);
				}
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
#pragma GCC unroll 2
			for (int r = 0; r < NR; r++)
				acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][t]), _mm512_set1_ps(d[r] * d_t[t][i]),
				                            acc[r][t]);
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
#pragma GCC unroll 2
		for (int r = 0; r < NR; r++)
			out[t * stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

KQUANT_ROWS(iq4_xs, iq4_xs_tile)

/* ------------------------------------------------------------------ exported */

#define EXPORT(name)                                                                               \
	void lr_avx512_dot_##name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,     \
	                          const float *af, int64_t ld, float *out, int64_t stride)            \
	{                                                                                              \
		dot_##name(n, w, n_tok, aq, af, ld, out, stride);                                          \
	}                                                                                              \
	void lr_avx512_rows_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok, \
	                           const struct lr_q8act *aq, const float *af, int64_t ld, float *out, \
	                           int64_t stride)                                                     \
	{                                                                                              \
		rows_##name(n, w, row_bytes, n_rows, n_tok, aq, af, ld, out, stride);                      \
	}
EXPORT(q2_K)
EXPORT(q3_K)
EXPORT(iq4_xs)
#endif
