/* engine/kernels/x86/avx512_kquant.c — q4_K, q5_K and q6_K (super-blocks of 256 values,
 * activations in blocks of 256 as llama.cpp's Q8_K) for AVX-512 VNNI: decode with a few
 * tokens per unpacked super-block, and prefill as a GEMM over a panel of 16 repacked
 * rows, as the legacy types do (avx512_legacy.c).
 *
 * One arithmetic for both, for super-block i of a row and one token:
 *   S_i = sum_j sc_j * (sum over sub-block j of q * a)     exact, in int32
 *         (q6_K: sub-blocks of 16, signed scales, minus 32 * sum_j sc_j * t_j, t_j the
 *          sub-block's activation sum; q4_K and q5_K: sub-blocks of 32, q unsigned)
 *   M_i = sum_j m_j * t_j                                    q4_K, q5_K; exact
 *   acc[i % 16] = fma(float(S_i), d * da_i, acc[i % 16])
 *   acc[i % 16] = fma(float(M_i), -dmin * da_i, acc[i % 16])  q4_K, q5_K
 *   y = tree16(acc), the halving tree of avx512_legacy.c.
 * Ranges: |S_i| <= 8 * 63 * 32 * 31 * 127 (q5_K) or 16 * 128 * 16 * 63 * 127 plus
 * 32 * 16 * 128 * 16 * 127 (q6_K), both below 2^31.
 *
 * Decode: 64 values per step, u8 x s8 pairs into int16 (vpmaddubsw, at most
 * 2 * 63 * 127: no saturation), times the scales into int32 (vpdpwssd); S_i and M_i are
 * the lane sums.  Prefill (gemm): each 4-code group of 16 rows side by side, so a
 * token's broadcast activation group meets 16 rows in one vpdpbusd and an int32 lane is
 * one row's sub-block sum; times the sub-block scale (vpmulld) into S; M from the
 * minimums as int16 pairs against the activation sums (vpdpwssd). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,amx-tile,amx-int8")
#include <math.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/x86/avx512.h"
#include "engine/quant.h"

enum kq { K_Q4, K_Q5, K_Q6 };

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

/* The 64 codes of chunk c (values 64 c .. 64 c + 63, in order) of a q4_K / q5_K
 * super-block: sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles), q5_K's fifth bit
 * from qh. */
INLINE __m512i k45_chunk(const uint8_t *qs, __m256i qh, int c, const int five)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
	__m256i x = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
	__m256i lo = _mm256_and_si256(x, m4), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), m4);

	if (five) {
		lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
		hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
	}
	return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* The 64 codes (0..63) of chunk c of a q6_K super-block: half h = c / 2 holds the
 * 32-value parts k0 = 2 (c % 2) and k0 + 1, whose low 4 bits are nibble (c % 2) of
 * ql[64 h ..+64] and whose top 2 bits are bits 2k, 2k+1 of qh[32 h ..+32]. */
INLINE __m512i q6_chunk(const block_q6_K *b, int c)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(3);
	int h = c / 2, k0 = 2 * (c % 2);
	__m512i ql = _mm512_loadu_si512((const void *)(b->ql + 64 * h));
	__m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
	__m512i lo = _mm512_and_si512(c % 2 ? _mm512_srli_epi16(ql, 4) : ql, m4);
	__m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, 2 * k0)),
	                                _mm256_srli_epi16(qh, 2 * k0 + 2), 1);

	return _mm512_or_si512(lo, _mm512_slli_epi16(_mm512_and_si512(hz, m2), 4));
}

/* ------------------------------------------------------------------ decode */

/* One row times NT tokens (1, 4 or 8), each unpacked super-block shared by the tokens. */
INLINE void kq_tile(int64_t n, const uint8_t *row, const struct lr_q8act *aq, float *out, int64_t stride,
                    const int NT, const int kind)
{
	/* q6_K: each scale covers 16 values = 8 int16 lanes of the pair products, so lane l
	 * of chunk c takes scale 4 c + l / 8 (one vpermw from the 16 scales as int16) */
	const __m512i rep8 = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2,
	                                      1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
	float acc[NT_MAX][16] __attribute__((aligned(64)));

	const int sbytes = kind == K_Q6 ? sizeof(block_q6_K) : kind == K_Q5 ? sizeof(block_q5_K) : sizeof(block_q4_K);

	memset(acc, 0, sizeof acc);
	for (int64_t i = 0; i < n / 256; i++) {
		const uint8_t *qs = NULL;
		const block_q6_K *b6 = NULL;
		__m256i qh = _mm256_setzero_si256(), sc16 = _mm256_setzero_si256();
		uint8_t sc[8], mn[8];
		float d, dmin = 0;
		__m512i iacc[NT_MAX];

		prefetch_ahead(row + sbytes * i, sbytes);
		if (kind == K_Q6) {
			b6 = (const block_q6_K *)row + i;
			d = f16(b6->d);
			sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b6->scales));
		} else if (kind == K_Q5) {
			const block_q5_K *b = (const block_q5_K *)row + i;
			d = f16(b->d); dmin = f16(b->dmin); qs = b->qs;
			qh = _mm256_loadu_si256((const __m256i *)b->qh);
			k4_scales(b->scales, sc, mn);
		} else {
			const block_q4_K *b = (const block_q4_K *)row + i;
			d = f16(b->d); dmin = f16(b->dmin); qs = b->qs;
			k4_scales(b->scales, sc, mn);
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
			iacc[t] = _mm512_setzero_si512();
		for (int c = 0; c < 4; c++) {
			__m512i codes, scv;
			if (kind == K_Q6) {
				codes = q6_chunk(b6, c);
				scv = _mm512_permutexvar_epi16(_mm512_add_epi16(rep8, _mm512_set1_epi16((short)(4 * c))),
				                               _mm512_castsi256_si512(sc16));
			} else {
				codes = k45_chunk(qs, qh, c, kind == K_Q5);
				scv = _mm512_inserti64x4(_mm512_set1_epi16(sc[2 * c]), _mm256_set1_epi16(sc[2 * c + 1]), 1);
			}
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				__m512i av = _mm512_loadu_si512((const void *)(aq[t].qs + 256 * i + 64 * c));
				iacc[t] = _mm512_dpwssd_epi32(iacc[t], _mm512_maddubs_epi16(codes, av), scv);
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++) {
			const float da = aq[t].d[i];
			const int16_t *s16 = aq[t].s16 + 16 * i;
			int32_t s = _mm512_reduce_add_epi32(iacc[t]);
			float *a = &acc[t][i % 16];
			if (kind == K_Q6) {
				__m256i so = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)s16));
				s -= 32 * _mm512_reduce_add_epi32(_mm512_zextsi256_si512(so));
				*a = fmaf((float)s, d * da, *a);
			} else {
				/* M = sum_j m_j (t_2j + t_2j+1), the 16-value sums t: each minimum
				 * twice against the int16 sums, exact in int32 as the scalar sum */
				const __m128i m8 = _mm_loadl_epi64((const __m128i *)mn);
				const __m256i mm = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8)),
				                               _mm256_loadu_si256((const __m256i *)s16));
				const int32_t m = _mm512_reduce_add_epi32(_mm512_zextsi256_si512(mm));
				*a = fmaf((float)s, d * da, *a);
				*a = fmaf((float)m, -dmin * da, *a);
			}
		}
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
		out[t * stride] = tree16(_mm512_load_ps(acc[t]));
}

INLINE void kq_rows(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                    const struct lr_q8act *aq, float *out, int64_t stride, const int kind)
{
	for (int r = 0; r < n_rows; r++) {
		const uint8_t *row = w + (uint64_t)r * row_bytes;
		int t = 0;
		for (; t + 8 <= n_tok; t += 8)
			kq_tile(n, row, aq + t, out + t * stride + r, stride, 8, kind);
		for (; t + 4 <= n_tok; t += 4)
			kq_tile(n, row, aq + t, out + t * stride + r, stride, 4, kind);
		for (; t < n_tok; t++)
			kq_tile(n, row, aq + t, out + t * stride + r, stride, 1, kind);
	}
}

/* ------------------------------------------------------------------ prefill */

#define PANEL_ROWS 16
#define GEMM_NT 8

/* A panel super-block: the 64 code groups of 4 (value order) of 16 rows side by side
 * (4096 bytes), then the sub-block scales as int32 (q4/q5: 8 x 16, q6: 16 x 16), then
 * int16 pairs per row for vpdpwssd (q4/q5: the minimums m_2k, m_2k+1, 4 x 16 pairs;
 * q6: -32 sc_2k, -32 sc_2k+1, 8 x 16 pairs), then d (16 floats) and, q4/q5, -dmin. */
#define P_SC 4096
INLINE int p_pairs(const int kind) { return kind == K_Q6 ? P_SC + 1024 : P_SC + 512; }
INLINE int p_d(const int kind) { return p_pairs(kind) + (kind == K_Q6 ? 512 : 256); }
INLINE int64_t p_bytes(const int kind) { return p_d(kind) + (kind == K_Q6 ? 64 : 128); }

INLINE void pack_panel(const uint8_t *w, uint64_t row_bytes, int nr, int64_t nsb, uint8_t *pan, const int kind)
{
	const int64_t pb = p_bytes(kind);

	for (int64_t i = 0; i < nsb; i++) {
		uint8_t *blk = pan + i * pb;
		int32_t *scv = (int32_t *)(blk + P_SC);
		int16_t *pairs = (int16_t *)(blk + p_pairs(kind));
		float *dv = (float *)(blk + p_d(kind));
		__m512i g[4][16];   /* chunk c of row r */
		for (int r = 0; r < PANEL_ROWS; r++) {
			const uint8_t *row = w + (uint64_t)r * row_bytes;
			if (r >= nr) {
				for (int c = 0; c < 4; c++)
					g[c][r] = _mm512_setzero_si512();
				for (int j = 0; j < (kind == K_Q6 ? 16 : 8); j++)
					scv[16 * j + r] = 0;
				for (int k = 0; k < (kind == K_Q6 ? 8 : 4); k++)
					pairs[32 * k + 2 * r] = pairs[32 * k + 2 * r + 1] = 0;
				dv[r] = 0;
				if (kind != K_Q6)
					dv[16 + r] = 0;
			} else if (kind == K_Q6) {
				const block_q6_K *b = (const block_q6_K *)row + i;
				for (int c = 0; c < 4; c++)
					g[c][r] = q6_chunk(b, c);
				for (int j = 0; j < 16; j++)
					scv[16 * j + r] = b->scales[j];
				for (int k = 0; k < 8; k++) {
					pairs[32 * k + 2 * r] = (int16_t)(-32 * b->scales[2 * k]);
					pairs[32 * k + 2 * r + 1] = (int16_t)(-32 * b->scales[2 * k + 1]);
				}
				dv[r] = f16(b->d);
			} else {
				const uint8_t *qs;
				__m256i qh = _mm256_setzero_si256();
				uint8_t sc[8], mn[8];
				uint16_t d, dmin;
				if (kind == K_Q5) {
					const block_q5_K *b = (const block_q5_K *)row + i;
					qs = b->qs; qh = _mm256_loadu_si256((const __m256i *)b->qh);
					k4_scales(b->scales, sc, mn);
					d = b->d; dmin = b->dmin;
				} else {
					const block_q4_K *b = (const block_q4_K *)row + i;
					qs = b->qs;
					k4_scales(b->scales, sc, mn);
					d = b->d; dmin = b->dmin;
				}
				for (int c = 0; c < 4; c++)
					g[c][r] = k45_chunk(qs, qh, c, kind == K_Q5);
				for (int j = 0; j < 8; j++)
					scv[16 * j + r] = sc[j];
				for (int k = 0; k < 4; k++) {
					pairs[32 * k + 2 * r] = mn[2 * k];
					pairs[32 * k + 2 * r + 1] = mn[2 * k + 1];
				}
				dv[r] = f16(d);
				dv[16 + r] = -f16(dmin);
			}
		}
		for (int c = 0; c < 4; c++) {   /* code dword 16 c + k of the 16 rows */
			transpose16_epi32(g[c]);
			for (int k = 0; k < 16; k++)
				_mm512_store_si512((void *)(blk + 64 * (16 * c + k)), g[c][k]);
		}
	}
}

/* NT tokens over the panel; tp[t][i][k] (q4/q5): the activation sums of sub-blocks 2k
 * and 2k + 1 as an int16 pair (q6 reads its pairs straight from s16). */
INLINE void panel_tile(const uint8_t *pan, int64_t nsb, const struct lr_q8act *aq, int nr, float *out,
                       int64_t stride, const int32_t *tp, __m512 *res, const int NT, const int kind)
{
	const int64_t pb = p_bytes(kind);
	const int nsub = kind == K_Q6 ? 16 : 8, glen = kind == K_Q6 ? 4 : 8;   /* groups a sub-block */

	for (int l = 0; l < 16; l++) {
		__m512 acc[GEMM_NT];
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
			acc[t] = _mm512_setzero_ps();
		for (int64_t i = l; i < nsb; i += 16) {
			const uint8_t *pk = pan + i * pb;
			__m512i S[GEMM_NT];
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++)
				S[t] = _mm512_setzero_si512();
			/* 8 code groups at a time: one q4/q5 sub-block, two q6 ones */
			for (int j0 = 0; j0 < nsub; j0 += 8 / glen) {
				__m512i c[8];
#pragma GCC unroll 8
				for (int k = 0; k < 8; k++)
					c[k] = _mm512_load_si512((const void *)(pk + 64 * (glen * j0 + k)));
				const __m512i sc0 = _mm512_load_si512((const void *)(pk + P_SC + 64 * j0));
				const __m512i sc1 = kind == K_Q6 ? _mm512_load_si512((const void *)(pk + P_SC + 64 * (j0 + 1)))
				                                 : sc0;
#pragma GCC unroll 8
				for (int t = 0; t < NT; t++) {
					const i32_un *a = (const i32_un *)(aq[t].qs + 256 * i + 4 * glen * j0);
					__m512i s = _mm512_setzero_si512();
					if (kind == K_Q6) {
						__m512i s1 = _mm512_setzero_si512();
#pragma GCC unroll 4
						for (int k = 0; k < 4; k++) {
							s = _mm512_dpbusd_epi32(s, c[k], _mm512_set1_epi32(a[k]));
							s1 = _mm512_dpbusd_epi32(s1, c[4 + k], _mm512_set1_epi32(a[4 + k]));
						}
						S[t] = _mm512_add_epi32(S[t], _mm512_add_epi32(_mm512_mullo_epi32(s, sc0),
						                                               _mm512_mullo_epi32(s1, sc1)));
					} else {
#pragma GCC unroll 8
						for (int k = 0; k < 8; k++)
							s = _mm512_dpbusd_epi32(s, c[k], _mm512_set1_epi32(a[k]));
						S[t] = _mm512_add_epi32(S[t], _mm512_mullo_epi32(s, sc0));
					}
				}
			}
			const __m512 d = _mm512_load_ps((const float *)(pk + p_d(kind)));
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				const __m512 da = _mm512_set1_ps(aq[t].d[i]);
				if (kind == K_Q6) {   /* S -= 32 sum_j sc_j t_j, over 16-value sums in pairs */
					const i32_un *s16 = (const i32_un *)(aq[t].s16 + 16 * i);
#pragma GCC unroll 8
					for (int k = 0; k < 8; k++)
						S[t] = _mm512_dpwssd_epi32(S[t], _mm512_load_si512((const void *)(pk + p_pairs(kind) + 64 * k)),
						                           _mm512_set1_epi32(s16[k]));
					acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S[t]), _mm512_mul_ps(d, da), acc[t]);
				} else {
					__m512i M = _mm512_setzero_si512();
#pragma GCC unroll 4
					for (int k = 0; k < 4; k++)
						M = _mm512_dpwssd_epi32(M, _mm512_load_si512((const void *)(pk + p_pairs(kind) + 64 * k)),
						                        _mm512_set1_epi32(tp[(t * nsb + i) * 4 + k]));
					const __m512 ndmin = _mm512_load_ps((const float *)(pk + p_d(kind) + 64));
					acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S[t]), _mm512_mul_ps(d, da), acc[t]);
					acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(M), _mm512_mul_ps(ndmin, da), acc[t]);
				}
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
			res[16 * t + l] = acc[t];
	}
	tree16_store(res, NT, nr, out, stride);
}

/* q4_K and q5_K with AMX (see avx512_legacy.c): one TDPBSSD per sub-block of 32 makes the
 * sums of 16 tokens x 16 rows (the panel's codes, 0..31, are valid signed codes as
 * they are), all of a panel's first, two in flight; then S and M per super-block from
 * them as above, bit for bit. */
INLINE void amx_tile(const uint8_t *pan, int64_t nsb, const struct lr_q8act *aq, int64_t astride, int nr,
                     float *out, int64_t stride, const int32_t *tp, __m512 *res, int32_t *sums, const int kind)
{
	const int64_t pb = p_bytes(kind), nj = 8 * nsb;

	for (int64_t q = 0; q < nj; q += 2) {   /* q = 8 i + j: sub-block j of super-block i */
		const uint8_t *pk = pan + (q / 8) * pb + 512 * (q % 8);
		_tile_loadd(2, aq[0].qs + 32 * q, astride);
		_tile_loadd(4, pk, 64);
		_tile_zero(0);
		_tile_loadd(3, aq[0].qs + 32 * (q + 1), astride);
		_tile_loadd(5, pk + 512, 64);
		_tile_zero(1);
		_tile_dpbssd(0, 2, 4);
		_tile_dpbssd(1, 3, 5);
		_tile_stored(0, sums + 256 * q, 64);
		_tile_stored(1, sums + 256 * (q + 1), 64);
	}
	for (int l = 0; l < 16; l++) {
		__m512 acc[16];
#pragma GCC unroll 16
		for (int t = 0; t < 16; t++)
			acc[t] = _mm512_setzero_ps();
		for (int64_t i = l; i < nsb; i += 16) {
			const uint8_t *pk = pan + i * pb;
			const int32_t *cs = sums + 256 * 8 * i;
			const __m512 d = _mm512_load_ps((const float *)(pk + p_d(kind)));
			const __m512 ndmin = _mm512_load_ps((const float *)(pk + p_d(kind) + 64));
#pragma GCC unroll 4
			for (int t = 0; t < 16; t++) {
				__m512i S = _mm512_setzero_si512(), M = _mm512_setzero_si512();
#pragma GCC unroll 8
				for (int j = 0; j < 8; j++)
					S = _mm512_add_epi32(S, _mm512_mullo_epi32(_mm512_load_si512((const void *)(cs + 256 * j + 16 * t)),
					                                           _mm512_load_si512((const void *)(pk + P_SC + 64 * j))));
#pragma GCC unroll 4
				for (int k = 0; k < 4; k++)
					M = _mm512_dpwssd_epi32(M, _mm512_load_si512((const void *)(pk + p_pairs(kind) + 64 * k)),
					                        _mm512_set1_epi32(tp[(t * nsb + i) * 4 + k]));
				const __m512 da = _mm512_set1_ps(aq[t].d[i]);
				acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S), _mm512_mul_ps(d, da), acc[t]);
				acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(M), _mm512_mul_ps(ndmin, da), acc[t]);
			}
		}
#pragma GCC unroll 16
		for (int t = 0; t < 16; t++)
			res[16 * t + l] = acc[t];
	}
	tree16_store(res, 16, nr, out, stride);
}

/* Scratch: the panel (at most 5,696 bytes a super-block), res (16 tokens), the AMX sums
 * (8 KB a super-block), tp for every token. */
size_t lr_avx512_kquant_scratch(int64_t n, int n_tok)
{
	return (size_t)(n / 256) * (5696 + 8192 + 16 * (size_t)n_tok) + sizeof(__m512) * 16 * 16 + 64;
}

INLINE void kq_gemm(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                    const struct lr_q8act *aq, float *out, int64_t stride, void *scratch, const int kind)
{
	const int64_t nsb = n / 256;
	uint8_t *pan = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
	__m512 *res = (__m512 *)(pan + nsb * p_bytes(kind));
	int32_t *sums = (int32_t *)(res + 16 * 16);
	int32_t *tp = sums + 256 * 8 * nsb;
	const int n_amx = kind == K_Q6 ? 0 : lr_avx512_amx_tokens(aq, n_tok);

	if (kind != K_Q6)
		for (int t = 0; t < n_tok; t++)
			for (int64_t i = 0; i < nsb; i++)
				for (int k = 0; k < 4; k++) {
					const int16_t *s = aq[t].s16 + 16 * i + 4 * k;
					uint16_t lo = (uint16_t)(s[0] + s[1]), hi = (uint16_t)(s[2] + s[3]);
					tp[(t * nsb + i) * 4 + k] = (int32_t)((uint32_t)lo | (uint32_t)hi << 16);
				}
	if (n_amx)
		lr_avx512_amx_config();
	for (int r0 = 0; r0 < n_rows; r0 += PANEL_ROWS) {
		int nr = n_rows - r0 < PANEL_ROWS ? n_rows - r0 : PANEL_ROWS;
		pack_panel(w + (uint64_t)r0 * row_bytes, row_bytes, nr, nsb, pan, kind);
		int t = 0;
		if (n_amx) {
			__asm__ volatile("" ::: "memory");   /* the panel is written before the tile loads */
			for (; t < n_amx; t += 16)
				amx_tile(pan, nsb, aq + t, aq[1].qs - aq[0].qs, nr, out + t * stride + r0, stride, tp + t * nsb * 4,
				         res, sums, kind);
		}
		for (; t + 8 <= n_tok; t += 8)
			panel_tile(pan, nsb, aq + t, nr, out + t * stride + r0, stride, tp + t * nsb * 4, res, 8, kind);
		for (; t + 4 <= n_tok; t += 4)
			panel_tile(pan, nsb, aq + t, nr, out + t * stride + r0, stride, tp + t * nsb * 4, res, 4, kind);
		for (; t < n_tok; t++)
			panel_tile(pan, nsb, aq + t, nr, out + t * stride + r0, stride, tp + t * nsb * 4, res, 1, kind);
	}
	if (n_amx)
		_tile_release();
}

#define KQ(name, KIND) LR_AVX512_QUANT_DEFS(name, kq_rows, kq_gemm, KIND)
KQ(q4_K, K_Q4)
KQ(q5_K, K_Q5)
KQ(q6_K, K_Q6)
#endif
