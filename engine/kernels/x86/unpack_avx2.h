/* engine/kernels/x86/unpack_avx2.h — weight codes unpacked into 32 bytes with AVX2, shared by
 * the dot (qdot.h, decode) and the prefill GEMM (avx2_gemm.c), which must unpack a block
 * the same way to agree bit for bit. */
#ifndef LONGREAD_UNPACK_AVX2_H
#define LONGREAD_UNPACK_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "engine/quant.h"

/* 16 bytes of packed nibbles -> 32 codes: low nibbles first, then high nibbles */
static inline __attribute__((always_inline)) __m256i lr_nibbles16(const uint8_t *qs)
{
	__m128i x = _mm_loadu_si128((const __m128i *)qs);
	__m128i m = _mm_set1_epi8(0x0f);

	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(x, 4), m), _mm_and_si128(x, m));
}

/* 4 bytes of bits (32 of them, little-endian) -> 32 bytes, 0xff where the bit is set:
 * each byte spread over 8 lanes, then one bit tested per lane */
static inline __attribute__((always_inline)) __m256i lr_bits32(const uint8_t *qh)
{
	uint32_t bits;

	memcpy(&bits, qh, 4);
	__m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
	                                _mm256_setr_epi64x(0x0000000000000000LL, 0x0101010101010101LL,
	                                                   0x0202020202020202LL, 0x0303030303030303LL));
	__m256i m = _mm256_set1_epi64x(0x8040201008040201LL);

	return _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
}

/* 32 bytes -> their low (hi = 0) or high (hi = 1) nibbles */
static inline __attribute__((always_inline)) __m256i lr_nibbles32(const uint8_t *qs, int hi)
{
	__m256i x = _mm256_loadu_si256((const __m256i *)qs);

	if (hi)
		x = _mm256_srli_epi16(x, 4);
	return _mm256_and_si256(x, _mm256_set1_epi8(0x0f));
}

/* 32 codes 0..15 -> their signed iq4_nl levels lr_iq4nl_values[code] (a byte shuffle) */
static inline __attribute__((always_inline)) __m256i lr_iq4_levels(__m256i codes)
{
	return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lr_iq4nl_values)),
	                           codes);
}

/* q5_K: sub-block j's 4-bit codes with their fifth bit, bit j of qh[l] (qh: the 32 qh bytes) */
static inline __attribute__((always_inline)) __m256i lr_q5k_codes(__m256i codes, __m256i qh, int j)
{
	__m256i bit = _mm256_and_si256(_mm256_srli_epi16(qh, j), _mm256_set1_epi8(1));

	return _mm256_or_si256(codes, _mm256_slli_epi16(bit, 4));
}

/* q6_K: the 6-bit codes of 32-value sub-block k of 128-value half h.  It takes
 * ql[64 h + (k & 1) * 32 ..] (low nibbles for k < 2, high for k >= 2) and bits 2k, 2k + 1
 * of qh[32 h + l] as bits 4 and 5. */
static inline __attribute__((always_inline)) __m256i lr_q6k_codes(const block_q6_K *b, int h, int k)
{
	__m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), _mm256_set1_epi8(3));

	return _mm256_or_si256(lr_nibbles32(b->ql + 64 * h + 32 * (k & 1), k >> 1), _mm256_slli_epi16(hi, 4));
}

#endif
