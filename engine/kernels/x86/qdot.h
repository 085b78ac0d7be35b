/* engine/kernels/x86/qdot.h — the AVX2 set's dot-product kernels, compiled by avx2.c
 * (AVX2 + FMA + F16C, integer dots with vpmaddubsw); the AVX-512 set has its own
 * (avx512*.c).  The includer defines:
 *   KSUFFIX              name suffix of the generated functions
 *   DPBUSD(acc, u, s)    acc (8 x int32) += 4-byte-group dot products of u (32 x u8)
 *                        and s (32 x s8)
 *
 * Every quantized type is handled as a sequence of 32-value sub-blocks: the weight
 * codes of a sub-block are unpacked once into 32 bytes (0..15, 0..31, 0..63, or |w|
 * for signed codes), then multiplied with the 32 int8 activation codes of up to four tokens.
 * Code offsets (q6_K's 32) and minimums are applied afterwards from the activation code
 * sums, in float (q4_K, q5_K, q6_K: in integers per super-block, then in float, 8
 * super-blocks at a time; q4_0 and q8_0: 8 blocks at a time; tile8); q5_0 takes its offset off the
 * codes and multiplies signed codes (SIGNED_KERNEL).  Ranges: a 4-byte group sums at most
 * 4 * 255 * 128 < 2^17, so int32 lanes never overflow within a sub-block; with
 * vpmaddubsw the int16 pair sums stay below 2 * 255 * 127 only for codes <= 128,
 * which every unpacked code satisfies except q8_0's w and the signed levels of iq4_nl /
 * iq4_xs: these enter as |w| times the activation codes with w's sign (|w| <= 128).
 *
 * The float arithmetic is part of the contract: avx2_gemm.c repeats it bit for bit for
 * prefill, so the scalar corrections are explicit fmaf calls rather than left to the
 * compiler's contraction (which -O0 or -ffp-contract=off would change). */

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/x86/prefetch.h"
#include "engine/kernels/x86/unpack_avx2.h"
#include "engine/quant.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define K(name) CAT(name, KSUFFIX)
#define INLINE static inline __attribute__((always_inline))

INLINE float K(hsum8)(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

INLINE float K(f16)(uint16_t h)
{
	return _cvtsh_ss(h);
}

/* Decode's software prefetch (prefetch.h) where the includer asks for it (QDOT_PREFETCH,
 * avx2.c).  Used by the 32-value block types: on a 2-core AVX2 EPYC it took decode (1B
 * shape, 2 threads) from 14.1 to 15.9 tok/s for Q4_0 and 13.1 to 15.5 for Q8_0 (medians
 * of 3, alternating); for Q4_K and Q6_K the same measurement was lost in the noise, so
 * they go without. */
INLINE void K(prefetch)(const void *p, int bytes)
{
#ifdef QDOT_PREFETCH
	prefetch_ahead(p, bytes);
#else
	(void)p; (void)bytes;
#endif
}

/* One token's contribution of a sub-block: int dot -> float, times scale. */
INLINE __m256 K(blockdot)(__m256i codes, const int8_t *a)
{
	__m256i p = _mm256_setzero_si256();

	DPBUSD(p, codes, _mm256_loadu_si256((const __m256i *)a));
	return _mm256_cvtepi32_ps(p);
}

/* dot_NAME: TILE (a K() name) on 4 tokens at a time, then on one; rows of n values in
 * blocks of BLK, the tile's further arguments after its token count */
#define TILE_DOT(name, TILE, BLK, ...)                                                         \
	static void K(dot_##name)(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq, \
	                          const float *af, int64_t ld, float *out, int64_t stride)        \
	{                                                                                          \
		int t = 0;                                                                             \
		(void)af; (void)ld;                                                                    \
		for (; t + 4 <= n_tok; t += 4)                                                         \
			K(TILE)(n / (BLK), w, aq + t, out + t * stride, stride, 4, ##__VA_ARGS__);          \
		for (; t < n_tok; t++)                                                                 \
			K(TILE)(n / (BLK), w, aq + t, out + t * stride, stride, 1, ##__VA_ARGS__);          \
	}

/* ------------------------------------------------------------------ legacy types */

/* The body shared by the 32-value block types.  UNPACK(i) sets `codes` (u8) for block
 * i, `dw` its scale, and `offs`, `mw`: the value is dw * (code - offs) + mw. */
#define LEGACY_KERNEL(name, BLOCK, UNPACK)                                                     \
	INLINE void K(name##_tile)(int64_t nb, const BLOCK *b, const struct lr_q8act *aq,          \
	                           float *out, int64_t stride, const int NT)                       \
	{                                                                                          \
		__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),      \
		                  _mm256_setzero_ps() };                                              \
		float corr[4] = { 0, 0, 0, 0 };                                                        \
		for (int64_t i = 0; i < nb; i++) {                                                     \
			__m256i codes;                                                                     \
			float dw, offs, mw;                                                                \
			K(prefetch)(&b[i], sizeof b[i]);                                                   \
			UNPACK(i);                                                                         \
			_Pragma("GCC unroll 4")                                                            \
			for (int t = 0; t < NT; t++) {                                                     \
				const struct lr_q8act *a = &aq[t];                                             \
				float da = a->d[i];                                                            \
				float sa = (float)(a->s16[2 * i] + a->s16[2 * i + 1]);                         \
				acc[t] = _mm256_fmadd_ps(K(blockdot)(codes, a->qs + 32 * i),                   \
				                         _mm256_set1_ps(dw * da), acc[t]);                     \
				corr[t] = fmaf(fmaf(-dw, offs, mw) * da, sa, corr[t]);                         \
			}                                                                                  \
		}                                                                                      \
		_Pragma("GCC unroll 4")                                                                \
		for (int t = 0; t < NT; t++)                                                           \
			out[t * stride] = K(hsum8)(acc[t]) + corr[t];                                      \
	}                                                                                          \
	TILE_DOT(name, name##_tile, 32)

#define UNPACK_Q4_1(i) do { codes = lr_nibbles16(b[i].qs); dw = K(f16)(b[i].d); offs = 0; mw = K(f16)(b[i].m); } while (0)
#define UNPACK_Q5(i)                                                                           \
	codes = _mm256_or_si256(lr_nibbles16(b[i].qs),                                             \
	                        _mm256_and_si256(lr_bits32(b[i].qh), _mm256_set1_epi8(0x10)));     \
	dw = K(f16)(b[i].d)
#define UNPACK_Q5_1(i) do { UNPACK_Q5(i); offs = 0; mw = K(f16)(b[i].m); } while (0)

LEGACY_KERNEL(q4_1, block_q4_1, UNPACK_Q4_1)
LEGACY_KERNEL(q5_1, block_q5_1, UNPACK_Q5_1)

/* The 32-value block types whose values are dw * w with w signed (q5_0 with its offset
 * taken off the codes: w = code - 16): |w| times a
 * with w's sign, so vpmaddubsw's pair sums stay within 2 * 128 * 127, and no
 * correction term.  UNPACK(i) sets `w` (s8) and `dw` for block i. */
#define SIGNED_KERNEL(name, BLOCK, UNPACK)                                                     \
	INLINE void K(name##_tile)(int64_t nb, const BLOCK *b, const struct lr_q8act *aq,          \
	                           float *out, int64_t stride, const int NT)                       \
	{                                                                                          \
		__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),      \
		                  _mm256_setzero_ps() };                                              \
		for (int64_t i = 0; i < nb; i++) {                                                     \
			__m256i w;                                                                         \
			float dw;                                                                          \
			K(prefetch)(&b[i], sizeof b[i]);                                                   \
			UNPACK(i);                                                                         \
			__m256i aw = _mm256_sign_epi8(w, w);                                               \
			_Pragma("GCC unroll 4")                                                            \
			for (int t = 0; t < NT; t++) {                                                     \
				__m256i a = _mm256_loadu_si256((const __m256i *)(aq[t].qs + 32 * i));          \
				__m256i p = _mm256_setzero_si256();                                            \
				DPBUSD(p, aw, _mm256_sign_epi8(a, w));                                         \
				acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * aq[t].d[i]), acc[t]); \
			}                                                                                  \
		}                                                                                      \
		_Pragma("GCC unroll 4")                                                                \
		for (int t = 0; t < NT; t++)                                                           \
			out[t * stride] = K(hsum8)(acc[t]);                                                \
	}                                                                                          \
	TILE_DOT(name, name##_tile, 32)

#define SIGNED_Q5_0(i) do {                                                                    \
		w = _mm256_sub_epi8(_mm256_or_si256(lr_nibbles16(b[i].qs),                             \
		                                    _mm256_and_si256(lr_bits32(b[i].qh), _mm256_set1_epi8(0x10))), \
		                    _mm256_set1_epi8(16));                                             \
		dw = K(f16)(b[i].d);                                                                   \
	} while (0)
SIGNED_KERNEL(q5_0, block_q5_0, SIGNED_Q5_0)

/* q4_0 and q8_0, 8 blocks a step.  Their block scales differ from block to block, so
 * the int -> float work is per block; done for 8 blocks at once, lane b of one vector
 * for block b:
 *   P_b  = the block's int dot, exact (q4_0: codes 0..15 times a; q8_0: |w| times a
 *          with w's sign)
 *   acc  = fma(float(P), dw * da, acc)          lane b: chain b mod 8 of the row
 *   corr = fma((-8 dw) * da, float(t), corr)    q4_0 alone; t the blocks' activation sums
 *   y    = hsum8(acc) + hsum8(corr)             q8_0: hsum8(acc)
 * A row's tail of fewer than 8 blocks has zeros in the missing lanes (fma(0, 0, acc)
 * leaves acc as it is: a chain is never -0).  avx2_gemm.c computes every block's P
 * for 8 rows at once (a row a lane) and keeps the 8 chains of each row apart, so its
 * results are these bit for bit. */

/* p[b] (8 int32 lanes each) -> lane b: the sum of p[b]'s lanes */
INLINE __m256i K(sum8x8)(const __m256i p[8])
{
	__m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
	__m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));

	return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/* Up to 8 floats from p (n of them), zeros after */
INLINE __m256 K(load8_ps)(const float *p, int n)
{
	float t[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };

	if (n == 8)
		return _mm256_loadu_ps(p);
	memcpy(t, p, (size_t)n * sizeof *t);
	return _mm256_loadu_ps(t);
}

/* One step of tile8 for q4_0 and q8_0: blocks i .. i + n - 1 (n <= 8; n = 8 is the loop's body, where
 * every test on n folds away) */
INLINE void K(l8_step)(const void *w, int64_t i, const int n, const struct lr_q8act *aq, __m256 *acc,
                       __m256 *corr, const int NT, const int q8)
{
	const __m256i ones = _mm256_set1_epi16(1);
	const block_q4_0 *b4 = w;
	const block_q8_0 *b8 = w;
	__m256i u[8], sw[8];
	uint64_t dlo = 0, dhi = 0;   /* the 8 f16 scales, 4 to a word */

	#pragma GCC unroll 8
	for (int k = 0; k < 8; k++) {
		uint64_t dk = 0;
		if (k >= n) {
			u[k] = sw[k] = _mm256_setzero_si256();
		} else if (q8) {
			K(prefetch)(&b8[i + k], sizeof b8[i + k]);
			sw[k] = _mm256_loadu_si256((const __m256i *)b8[i + k].qs);
			u[k] = _mm256_sign_epi8(sw[k], sw[k]);
			dk = b8[i + k].d;
		} else {
			K(prefetch)(&b4[i + k], sizeof b4[i + k]);
			u[k] = lr_nibbles16(b4[i + k].qs);
			dk = b4[i + k].d;
		}
		if (k < 4)
			dlo |= dk << (16 * k);
		else
			dhi |= dk << (16 * (k - 4));
	}
	const __m256 dw = _mm256_cvtph_ps(_mm_set_epi64x((long long)dhi, (long long)dlo));
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		const struct lr_q8act *a = &aq[t];
		__m256i p[8];
		#pragma GCC unroll 8
		for (int k = 0; k < 8; k++) {
			__m256i x = k < n ? _mm256_loadu_si256((const __m256i *)(a->qs + 32 * (i + k))) : _mm256_setzero_si256();
			if (q8)
				x = _mm256_sign_epi8(x, sw[k]);
			p[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(u[k], x), ones);
		}
		const __m256 da = K(load8_ps)(a->d + i, n);
		acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(K(sum8x8)(p)), _mm256_mul_ps(dw, da), acc[t]);
		if (!q8) {
			__m256i s2;
			if (n == 8) {
				s2 = _mm256_loadu_si256((const __m256i *)(a->s16 + 2 * i));
			} else {
				int16_t t16[16] = { 0 };
				memcpy(t16, a->s16 + 2 * i, (size_t)(2 * n) * sizeof *t16);
				s2 = _mm256_loadu_si256((const __m256i *)t16);
			}
			const __m256 ts = _mm256_cvtepi32_ps(_mm256_madd_epi16(s2, ones));
			corr[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(dw, _mm256_set1_ps(-8.0f)), da), ts, corr[t]);
		}
	}
}

/* ------------------------------------------------------------------ k-quants */

/* The 8 six-bit scales and the 8 six-bit minimums of a q4_K / q5_K super-block's 12
 * packed bytes, four at a time in 32-bit words: sub-blocks 0-3
 * keep their low 6 bits in bytes 0-3 (scales) and 4-7 (minimums); 4-7 have their low
 * nibbles in bytes 8-11 and their top 2 bits in the top bits of bytes 0-3 / 4-7. */
INLINE void K(scales_mins)(const uint8_t *q, uint8_t sc[8], uint8_t m[8])
{
	uint32_t w0, w1, w2, s[2], mm[2];

	memcpy(&w0, q, 4);
	memcpy(&w1, q + 4, 4);
	memcpy(&w2, q + 8, 4);
	s[0] = w0 & 0x3f3f3f3f;
	mm[0] = w1 & 0x3f3f3f3f;
	s[1] = (w2 & 0x0f0f0f0f) | ((w0 >> 2) & 0x30303030);
	mm[1] = ((w2 >> 4) & 0x0f0f0f0f) | ((w1 >> 2) & 0x30303030);
	memcpy(sc, s, 8);
	memcpy(m, mm, 8);
}

/* The sum of 8 int32 lanes */
INLINE int32_t K(hsum8_epi32)(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* q4_K, q5_K and q6_K: the sub-block scales are applied in integers, so the float work
 * is per super-block of 256, not per sub-block of 32, and 8 super-blocks go at a time
 * as l8_step's blocks do:
 *   P_i  = sum_j sc_j * p_j     8 int32 lanes, p_j the sub-block's vpmaddubsw pair sums
 *                               times sc_j by vpmaddwd (q6_K: a scale for each 16-value
 *                               half), then summed whole; exact: at most 8 * 63 * 2 * 2
 *                               * 31 * 127 < 2^23 a lane for q4_K / q5_K, 256 * 128 * 63
 *                               * 127 < 2^28 for q6_K (scales |c| <= 128, codes <= 63)
 *   M_i  = sum_j m_j * t_j      int; t_j the activation sum of sub-block j (q6_K: c_j
 *                               times the sum of each 16); |M_i| < 2^23
 *   acc  = fma(float(P), d * da, acc),  corr = fma(cf * da, float(M), corr)
 * lane b for super-block b (float() may round above 2^24, the same in the gemm), cf =
 * -dmin (q6_K: -32 d, for its codes' offset); chain i mod 8 of the row takes super-block
 * i, y = hsum8(acc) + hsum8(corr).  avx2_gemm.c repeats it bit for bit with a row a
 * lane (gemm_k8). */

enum { T8_Q4_0, T8_Q8_0, T8_Q4_K, T8_Q5_K, T8_Q6_K };   /* tile8's kinds */

/* Super-block i of a q4_K / q5_K row for NT tokens: P (8 int32 lanes) and the
 * minimums' M (8 int32 lanes, to be summed) of each; its f16 d and dmin */
INLINE void K(k45_block)(const void *w, int64_t i, const struct lr_q8act *aq, __m256i *P, __m256i *M,
                         uint16_t *dh, uint16_t *mh, const int NT, const int five)
{
	/* bytes 0,0,1,1,..,7,7: each minimum for both 16-value sums of its sub-block */
	const __m128i twice = _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
	const uint8_t *scales, *qs;
	__m256i qh = _mm256_setzero_si256();

	if (five) {
		const block_q5_K *b = (const block_q5_K *)w + i;
		*dh = b->d; *mh = b->dmin; scales = b->scales; qs = b->qs;
		qh = _mm256_loadu_si256((const __m256i *)b->qh);
	} else {
		const block_q4_K *b = (const block_q4_K *)w + i;
		*dh = b->d; *mh = b->dmin; scales = b->scales; qs = b->qs;
	}
	uint8_t sc[8], m[8];
	K(scales_mins)(scales, sc, m);
	const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)sc)));
	const __m256i m16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_loadl_epi64((const __m128i *)m), twice));
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		P[t] = _mm256_setzero_si256();
	#pragma GCC unroll 8
	for (int j = 0; j < 8; j++) {
		int64_t blk = 8 * i + j;
		__m256i codes = lr_nibbles32(qs + 32 * (j / 2), j & 1);
		if (five)
			codes = lr_q5k_codes(codes, qh, j);
		/* sc_j in every int16 lane */
		const __m256i scj = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16((short)((2 * j + 1) << 8 | 2 * j)));
		#pragma GCC unroll 4
		for (int t = 0; t < NT; t++) {
			__m256i a = _mm256_loadu_si256((const __m256i *)(aq[t].qs + 32 * blk));
			P[t] = _mm256_add_epi32(P[t], _mm256_madd_epi16(_mm256_maddubs_epi16(codes, a), scj));
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		M[t] = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(aq[t].s16 + 16 * i)), m16);
}

/* Super-block i of a q6_K row, as k45_block (M: the scales times the activation sums
 * of each 16).  Sub-block k of 128-value half h is unpacked by lr_q6k_codes; its two
 * 16-value groups have their own scales, which land in int16 lanes 0-7 and 8-15 of
 * vpmaddubsw's pair sums. */
INLINE void K(k6_block)(const void *w, int64_t i, const struct lr_q8act *aq, __m256i *P, __m256i *M,
                        uint16_t *dh, const int NT)
{
	const block_q6_K *b = (const block_q6_K *)w + i;
	const __m128i s8 = _mm_loadu_si128((const __m128i *)b->scales);

	*dh = b->d;
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		P[t] = _mm256_setzero_si256();
	#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			int64_t blk = 8 * i + 4 * h + k;
			const int s = 8 * h + 2 * k;
			__m256i codes = lr_q6k_codes(b, h, k);
			/* int16 lanes 0-7 scale s, 8-15 scale s + 1 */
			const __m256i scv = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(s8, _mm_setr_epi8(
				s, s, s, s, s, s, s, s, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1)));
			#pragma GCC unroll 4
			for (int t = 0; t < NT; t++) {
				__m256i a = _mm256_loadu_si256((const __m256i *)(aq[t].qs + 32 * blk));
				P[t] = _mm256_add_epi32(P[t], _mm256_madd_epi16(_mm256_maddubs_epi16(codes, a), scv));
			}
		}
	}
	const __m256i sc16 = _mm256_cvtepi8_epi16(s8);
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		M[t] = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(aq[t].s16 + 16 * i)), sc16);
}

/* Super-blocks i .. i + n - 1 (n <= 8).  A loop, not unrolled: the block's body is
 * long, and 8 copies of it (times 4 tokens) made the dot ten times its size and slower */
INLINE void K(k_step)(const void *w, int64_t i, const int n, const struct lr_q8act *aq, __m256 *acc,
                      __m256 *corr, const int NT, const int kind)
{
	__m256i P[4][8], M[4][8];
	uint16_t dh[8] = { 0, 0, 0, 0, 0, 0, 0, 0 }, mh[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };

	#pragma GCC unroll 1
	for (int k = 0; k < 8; k++) {
		__m256i p[4], m[4];
		if (k >= n) {
			#pragma GCC unroll 4
			for (int t = 0; t < NT; t++)
				p[t] = m[t] = _mm256_setzero_si256();
		} else if (kind == T8_Q6_K) {
			K(k6_block)(w, i + k, aq, p, m, &dh[k], NT);
		} else {
			K(k45_block)(w, i + k, aq, p, m, &dh[k], &mh[k], NT, kind == T8_Q5_K);
		}
		#pragma GCC unroll 4
		for (int t = 0; t < NT; t++) {
			P[t][k] = p[t];
			M[t][k] = m[t];
		}
	}
	const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dh));
	const __m256 cf = kind == T8_Q6_K ? _mm256_mul_ps(d, _mm256_set1_ps(-32.0f))
	                                  : _mm256_sub_ps(_mm256_setzero_ps(), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)mh)));
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		const __m256 da = K(load8_ps)(aq[t].d + i, n);
		acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(K(sum8x8)(P[t])), _mm256_mul_ps(d, da), acc[t]);
		corr[t] = _mm256_fmadd_ps(_mm256_mul_ps(cf, da), _mm256_cvtepi32_ps(K(sum8x8)(M[t])), corr[t]);
	}
}

/* Blocks (super-blocks) i .. i + n - 1 of a tile8 kind, n <= 8 */
INLINE void K(step8)(const void *w, int64_t i, const int n, const struct lr_q8act *aq, __m256 *acc,
                     __m256 *corr, const int NT, const int kind)
{
	if (kind <= T8_Q8_0)
		K(l8_step)(w, i, n, aq, acc, corr, NT, kind == T8_Q8_0);
	else
		K(k_step)(w, i, n, aq, acc, corr, NT, kind);
}

/* A row of nb blocks (super-blocks) of a tile8 kind for NT tokens, 8 at a time */
INLINE void K(tile8)(int64_t nb, const void *w, const struct lr_q8act *aq, float *out, int64_t stride,
                     const int NT, const int kind)
{
	__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
	__m256 corr[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
	int64_t i = 0;

	for (; i + 8 <= nb; i += 8)
		K(step8)(w, i, 8, aq, acc, corr, NT, kind);
	if (i < nb)
		K(step8)(w, i, (int)(nb - i), aq, acc, corr, NT, kind);
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = kind == T8_Q8_0 ? K(hsum8)(acc[t]) : K(hsum8)(acc[t]) + K(hsum8)(corr[t]);
}

TILE_DOT(q4_0, tile8, 32, T8_Q4_0)
TILE_DOT(q8_0, tile8, 32, T8_Q8_0)
TILE_DOT(q4_K, tile8, 256, T8_Q4_K)
TILE_DOT(q5_K, tile8, 256, T8_Q5_K)
TILE_DOT(q6_K, tile8, 256, T8_Q6_K)

/* ------------------------------------------------------------------ q2_K, q3_K */

/* q2_K (q3 = 0) and q3_K (q3 = 1).  32-value chunk j of half h has the 2-bit codes
 * (qs[32h + l] >> 2j) & 3, and for q3_K bit 4h + j of hmask[l] as their bit 2 (codes
 * 0..7 for values -4..3); the chunk's two 16-value sub-blocks have their own scales,
 * which land in lanes 0-3 and 4-7 of the int32 dot (as for q6_K).  q2_K's minimums
 * and q3_K's offset 4 come from the activation sums of each 16. */
INLINE void K(k23_tile)(int64_t nsb, const void *w, const struct lr_q8act *aq, float *out,
                        int64_t stride, const int NT, const int q3)
{
	__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
	float corr[4] = { 0, 0, 0, 0 };
	const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);

	for (int64_t i = 0; i < nsb; i++) {
		const uint8_t *qs;
		float d, dmin = 0;
		int sc[16], mn[16];
		__m256i hm = _mm256_setzero_si256();
		if (q3) {
			const block_q3_K *b = (const block_q3_K *)w + i;
			const uint8_t *s = b->scales;
			d = K(f16)(b->d); qs = b->qs;
			hm = _mm256_loadu_si256((const __m256i *)b->hmask);
			for (int k = 0; k < 16; k++)
				sc[k] = ((k < 8 ? s[k] & 15 : s[k - 8] >> 4) | ((s[8 + k % 4] >> (2 * (k / 4))) & 3) << 4) - 32;
		} else {
			const block_q2_K *b = (const block_q2_K *)w + i;
			d = K(f16)(b->d); dmin = K(f16)(b->dmin); qs = b->qs;
			for (int k = 0; k < 16; k++) {
				sc[k] = b->scales[k] & 15;
				mn[k] = b->scales[k] >> 4;
			}
		}
		for (int h = 0; h < 2; h++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
			for (int j = 0; j < 4; j++) {
				int64_t blk = 8 * i + 4 * h + j;
				int k = 8 * h + 2 * j;
				/* shifts of 16-bit lanes: the bits kept come from the same byte */
				__m256i codes = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), three);
				if (q3)
					codes = _mm256_or_si256(codes, _mm256_slli_epi16(
						_mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), one), 2));
				__m256 scv = _mm256_set_m128(_mm_set1_ps(d * (float)sc[k + 1]), _mm_set1_ps(d * (float)sc[k]));
				#pragma GCC unroll 4
				for (int t = 0; t < NT; t++) {
					const struct lr_q8act *a = &aq[t];
					float da = a->d[i];
					int32_t s0 = a->s16[2 * blk], s1 = a->s16[2 * blk + 1];
					acc[t] = _mm256_fmadd_ps(K(blockdot)(codes, a->qs + 32 * blk),
					                         _mm256_mul_ps(scv, _mm256_set1_ps(da)), acc[t]);
					if (q3)
						corr[t] = fmaf(-(4.0f * d * da), (float)(sc[k] * s0 + sc[k + 1] * s1), corr[t]);
					else
						corr[t] = fmaf(-(dmin * da), (float)(mn[k] * s0 + mn[k + 1] * s1), corr[t]);
				}
			}
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = K(hsum8)(acc[t]) + corr[t];
}

TILE_DOT(q2_K, k23_tile, 256, 0)

TILE_DOT(q3_K, k23_tile, 256, 1)

/* ------------------------------------------------------------------ iq4_nl, iq4_xs */

/* Signed levels v times activation codes: |v| times a with v's sign, so the unsigned
 * operand stays <= 127 and vpmaddubsw's pair sums <= 2 * 127 * 127 fit in int16. */
INLINE __m256 K(sblockdot)(__m256i v, const int8_t *a)
{
	__m256i p = _mm256_setzero_si256();

	DPBUSD(p, _mm256_sign_epi8(v, v), _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)a), v));
	return _mm256_cvtepi32_ps(p);
}

INLINE void K(iq4_nl_tile)(int64_t nb, const block_iq4_nl *b, const struct lr_q8act *aq, float *out,
                           int64_t stride, const int NT)
{
	__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };

	for (int64_t i = 0; i < nb; i++) {
		__m256i v = lr_iq4_levels(lr_nibbles16(b[i].qs));
		float dw = K(f16)(b[i].d);
		#pragma GCC unroll 4
		for (int t = 0; t < NT; t++)
			acc[t] = _mm256_fmadd_ps(K(sblockdot)(v, aq[t].qs + 32 * i), _mm256_set1_ps(dw * aq[t].d[i]), acc[t]);
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = K(hsum8)(acc[t]);
}

TILE_DOT(iq4_nl, iq4_nl_tile, 32)

/* iq4_xs: sub-block j (32 values) is the nibbles of qs[16j ..+16], scale d * (ls - 32) */
INLINE void K(iq4_xs_tile)(int64_t nsb, const block_iq4_xs *b, const struct lr_q8act *aq, float *out,
                           int64_t stride, const int NT)
{
	__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };

	for (int64_t i = 0; i < nsb; i++) {
		float d = K(f16)(b[i].d);
		for (int j = 0; j < 8; j++) {
			int64_t blk = 8 * i + j;
			int ls = (((b[i].scales_l[j / 2] >> (4 * (j % 2))) & 15) | ((b[i].scales_h >> (2 * j)) & 3) << 4) - 32;
			__m256i v = lr_iq4_levels(lr_nibbles16(b[i].qs + 16 * j));
			float ds = d * (float)ls;
			#pragma GCC unroll 4
			for (int t = 0; t < NT; t++)
				acc[t] = _mm256_fmadd_ps(K(sblockdot)(v, aq[t].qs + 32 * blk), _mm256_set1_ps(ds * aq[t].d[i]), acc[t]);
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		out[t * stride] = K(hsum8)(acc[t]);
}

TILE_DOT(iq4_xs, iq4_xs_tile, 256)

/* ------------------------------------------------------------------ float weights */

/* 8 weights as float32 from F32, F16 or BF16 */
INLINE __m256 K(load8)(const void *w, int64_t i, const int type)
{
	if (type == LR_TYPE_F32)
		return _mm256_loadu_ps((const float *)w + i);
	__m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
	if (type == LR_TYPE_F16)
		return _mm256_cvtph_ps(h);
	return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

INLINE float K(load1)(const void *w, int64_t i, const int type)
{
	if (type == LR_TYPE_F32)
		return ((const float *)w)[i];
	uint16_t h = ((const uint16_t *)w)[i];
	return type == LR_TYPE_F16 ? lr_f16_to_f32(h) : lr_bf16_to_f32(h);
}

INLINE void K(float_tile)(int64_t n, const void *w, const float *x, int64_t ld, float *out,
                          int64_t stride, const int NT, const int type)
{
	__m256 acc[4][2];
	int64_t i = 0;

	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++)
		acc[t][0] = acc[t][1] = _mm256_setzero_ps();
	for (; i + 16 <= n; i += 16) {
		__m256 w0 = K(load8)(w, i, type), w1 = K(load8)(w, i + 8, type);
		#pragma GCC unroll 4
		for (int t = 0; t < NT; t++) {
			acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + t * ld + i), acc[t][0]);
			acc[t][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + t * ld + i + 8), acc[t][1]);
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < NT; t++) {
		float s = K(hsum8)(_mm256_add_ps(acc[t][0], acc[t][1]));
		for (int64_t r = i; r < n; r++)
			s += K(load1)(w, r, type) * x[t * ld + r];
		out[t * stride] = s;
	}
}

#define FLOAT_KERNEL(name, TYPE)                                                               \
	static void K(dot_##name)(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq, \
	                          const float *af, int64_t ld, float *out, int64_t stride)        \
	{                                                                                          \
		int t = 0;                                                                             \
		(void)aq;                                                                              \
		for (; t + 4 <= n_tok; t += 4)                                                         \
			K(float_tile)(n, w, af + t * ld, ld, out + t * stride, stride, 4, TYPE);          \
		for (; t < n_tok; t++)                                                                 \
			K(float_tile)(n, w, af + t * ld, ld, out + t * stride, stride, 1, TYPE);          \
	}
FLOAT_KERNEL(f32, LR_TYPE_F32)
FLOAT_KERNEL(f16, LR_TYPE_F16)
FLOAT_KERNEL(bf16, LR_TYPE_BF16)

/* ------------------------------------------------------------------ activations */

/* Same arithmetic as lr_quantize_act (x * (127 / amax), round to nearest even), so the
 * codes are bit-identical to the reference. */
static void K(quantize_act)(const float *x, int64_t n, int B, const struct lr_q8act *a)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);

	for (int64_t b = 0; b < n / B; b++) {
		const float *xb = x + (int64_t)B * b;
		__m256 m = _mm256_setzero_ps();
		for (int k = 0; k < B; k += 8)
			m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + k)));
		__m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
		float amax = _mm_cvtss_f32(m4);
		__m256 id = _mm256_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
		for (int k = 0; k < B; k += 32) {
			__m256i q[4];
			for (int e = 0; e < 4; e++)
				q[e] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + k + 8 * e), id));
			/* pack int32 -> int16 -> int8; the packs interleave 128-bit lanes, undo that */
			__m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
			p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
			_mm256_storeu_si256((__m256i *)(a->qs + (int64_t)B * b + k), p);
			/* code sums of each 16 */
			__m256i s01 = _mm256_add_epi32(q[0], q[1]), s23 = _mm256_add_epi32(q[2], q[3]);
			__m128i h01 = _mm_add_epi32(_mm256_castsi256_si128(s01), _mm256_extracti128_si256(s01, 1));
			__m128i h23 = _mm_add_epi32(_mm256_castsi256_si128(s23), _mm256_extracti128_si256(s23, 1));
			__m128i hh = _mm_hadd_epi32(h01, h23);
			hh = _mm_hadd_epi32(hh, hh);
			int64_t j = ((int64_t)B * b + k) / 16;
			a->s16[j] = (int16_t)_mm_cvtsi128_si32(hh);
			a->s16[j + 1] = (int16_t)_mm_extract_epi32(hh, 1);
		}
		a->d[b] = lr_act_scale(amax, B);
	}
}

/* The includer's table; the optional arguments are further designated initializers
 * (avx2.c: its gemm kernels). */
#define KERNEL_TABLE(NAME, ...)                                                                \
	{                                                                                          \
		.name = NAME,                                                                          \
		.dot = {                                                                               \
			[LR_TYPE_F32] = K(dot_f32), [LR_TYPE_F16] = K(dot_f16), [LR_TYPE_BF16] = K(dot_bf16), \
			[LR_TYPE_Q4_0] = K(dot_q4_0), [LR_TYPE_Q4_1] = K(dot_q4_1), [LR_TYPE_Q5_0] = K(dot_q5_0), \
			[LR_TYPE_Q5_1] = K(dot_q5_1), [LR_TYPE_Q8_0] = K(dot_q8_0), [LR_TYPE_Q4_K] = K(dot_q4_K), \
			[LR_TYPE_Q5_K] = K(dot_q5_K), [LR_TYPE_Q6_K] = K(dot_q6_K),                        \
			[LR_TYPE_Q2_K] = K(dot_q2_K), [LR_TYPE_Q3_K] = K(dot_q3_K),                        \
			[LR_TYPE_IQ4_NL] = K(dot_iq4_nl), [LR_TYPE_IQ4_XS] = K(dot_iq4_xs),                \
		},                                                                                     \
		.uses_q8 = {                                                                           \
			[LR_TYPE_Q4_0] = 32, [LR_TYPE_Q4_1] = 32, [LR_TYPE_Q5_0] = 32, [LR_TYPE_Q5_1] = 32, \
			[LR_TYPE_Q8_0] = 32, [LR_TYPE_Q4_K] = 256, [LR_TYPE_Q5_K] = 256, [LR_TYPE_Q6_K] = 256, \
			[LR_TYPE_Q2_K] = 256, [LR_TYPE_Q3_K] = 256, [LR_TYPE_IQ4_NL] = 32, [LR_TYPE_IQ4_XS] = 256, \
		},                                                                                     \
		.quantize_act = K(quantize_act),                                                       \
		__VA_ARGS__                                                                            \
	}
