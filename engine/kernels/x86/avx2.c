/* engine/kernels/x86/avx2.c — kernels for x86-64 CPUs with AVX2, FMA and F16C.
 * Integer dots with vpmaddubsw (u8 x s8 -> s16 pairs) then vpmaddwd to int32. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include <stdint.h>

static inline __attribute__((always_inline)) __m256i dpbusd_avx2(__m256i acc, __m256i u, __m256i s)
{
	__m256i p16 = _mm256_maddubs_epi16(u, s);
	return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

/* 32 bits -> 32 bytes (0xff where set): spread each byte of bits over 8 bytes, then
 * test one bit per byte */
static inline __attribute__((always_inline)) __m256i bits_avx2(uint32_t bits)
{
	__m256i v = _mm256_set1_epi32((int)bits);
	v = _mm256_shuffle_epi8(v, _mm256_setr_epi64x(0x0000000000000000LL, 0x0101010101010101LL,
	                                              0x0202020202020202LL, 0x0303030303030303LL));
	__m256i m = _mm256_set1_epi64x(0x8040201008040201LL);
	return _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
}

#define KSUFFIX _avx2
#define DPBUSD(acc, u, s) ((acc) = dpbusd_avx2((acc), (u), (s)))
#define BITS_TO_BYTES(bits) bits_avx2(bits)
#define Q8_SIGNED 1
#include "engine/kernels/x86/qdot.h"

const struct lr_kernels lr_kernels_avx2 = KERNEL_TABLE("avx2");
#endif
