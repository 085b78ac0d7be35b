/* engine/quant.h — on-disk quantized block layouts (ggml's, bit for bit) and the
 * reference conversions between them and float32.
 *
 * These are the plain, obviously-correct versions: the oracle that fast kernels are
 * tested against, and what the test-model generator uses to write weights.  The
 * quantizers are simple round-to-nearest (not llama.cpp's error-minimising search):
 * any valid block dequantizes correctly, the generator only needs valid blocks. */
#ifndef LR_QUANT_H
#define LR_QUANT_H

#include <assert.h>
#include <stdint.h>

#define LR_QK   32    /* elements per block, legacy quants */
#define LR_QK_K 256   /* elements per super-block, k-quants */

/* 4.5 bpw: x = (q - 8) * d; qs[j] low nibble = element j, high nibble = element j+16 */
typedef struct { uint16_t d; uint8_t qs[LR_QK / 2]; } block_q4_0;
static_assert(sizeof(block_q4_0) == 18, "block_q4_0 size");

/* 5 bpw: x = q * d + m; nibbles as q4_0 */
typedef struct { uint16_t d, m; uint8_t qs[LR_QK / 2]; } block_q4_1;
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 size");

/* 5.5 bpw: x = (q - 16) * d; low 4 bits as q4_0, bit 4 of element j is bit j of qh
 * (qh read as a little-endian u32) */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[LR_QK / 2]; } block_q5_0;
static_assert(sizeof(block_q5_0) == 22, "block_q5_0 size");

/* 6 bpw: x = q * d + m; bits as q5_0 */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[LR_QK / 2]; } block_q5_1;
static_assert(sizeof(block_q5_1) == 24, "block_q5_1 size");

/* 8.5 bpw: x = q * d */
typedef struct { uint16_t d; int8_t qs[LR_QK]; } block_q8_0;
static_assert(sizeof(block_q8_0) == 34, "block_q8_0 size");

/* 4.5 bpw: 8 sub-blocks of 32, each with a 6-bit scale and 6-bit min packed in
 * scales[12]; x = d * sc * q - dmin * m.  qs: for each 64-element chunk, 32 bytes
 * whose low nibbles are elements 0..31 and high nibbles 32..63 of the chunk. */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[LR_QK_K / 2]; } block_q4_K;
static_assert(sizeof(block_q4_K) == 144, "block_q4_K size");

/* The 6-bit scale and minimum of sub-block j (0..7) of a q4_K / q5_K super-block from its
 * 12 packed bytes: sub-blocks 0-3 keep theirs in the low 6 bits of bytes j and j + 4;
 * 4-7 their low 4 bits in byte j + 4's nibbles and their top 2 in the top bits of
 * bytes j - 4 and j.  The reference kernels, dequantization and the AVX2 GEMM's repack
 * read them through this one function (qdot.h unpacks all 8 at once in words). */
static inline void lr_q4k_scale_min(const uint8_t *q, int j, int *sc, int *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/* 5.5 bpw: as q4_K plus a fifth bit: for chunk c (64 elements), bit 2c of qh[l] is
 * element l's and bit 2c+1 is element l+32's. */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[LR_QK_K / 8]; uint8_t qs[LR_QK_K / 2]; } block_q5_K;
static_assert(sizeof(block_q5_K) == 176, "block_q5_K size");

/* 6.5625 bpw: 16 sub-blocks of 16 with int8 scales; x = d * sc * (q - 32), q 6 bits:
 * per 128-element half, ql[l] holds elements l (low) and l+64 (high), ql[l+32] holds
 * l+32 and l+96; qh[l] holds the top 2 bits of l, l+32, l+64, l+96 (bits 0-1 .. 6-7). */
typedef struct { uint8_t ql[LR_QK_K / 2]; uint8_t qh[LR_QK_K / 4]; int8_t scales[LR_QK_K / 16]; uint16_t d; } block_q6_K;
static_assert(sizeof(block_q6_K) == 210, "block_q6_K size");

/* 2.625 bpw: 16 sub-blocks of 16, x = d * (sc & 15) * q - dmin * (sc >> 4), q 2 bits:
 * per 128-element half, qs[l] (l < 32) holds elements l, l+32, l+64, l+96 of the half
 * in bits 0-1, 2-3, 4-5, 6-7. */
typedef struct { uint8_t scales[LR_QK_K / 16]; uint8_t qs[LR_QK_K / 4]; uint16_t d, dmin; } block_q2_K;
static_assert(sizeof(block_q2_K) == 84, "block_q2_K size");

/* 3.4375 bpw: 16 sub-blocks of 16, x = d * (sc - 32) * (q - 4), q 3 bits: the low 2 as
 * q2_K's qs, the third is bit 4h + j of hmask[l] for element 32j + l of half h.  The
 * 6-bit scales: low 4 bits in scales[k] (k < 8) or scales[k - 8] >> 4, top 2 bits in
 * scales[8 + k % 4] >> 2 (k / 4). */
typedef struct { uint8_t hmask[LR_QK_K / 8]; uint8_t qs[LR_QK_K / 4]; uint8_t scales[12]; uint16_t d; } block_q3_K;
static_assert(sizeof(block_q3_K) == 110, "block_q3_K size");

/* The 16 values of the non-linear 4-bit types (IQ4_NL, IQ4_XS), from ggml
 * (kvalues_iq4nl in ggml-common.h): the code is an index into this table. */
extern const int8_t lr_iq4nl_values[16];

/* 4.5 bpw: x = d * lr_iq4nl_values[q]; nibbles as q4_0 */
typedef struct { uint16_t d; uint8_t qs[LR_QK / 2]; } block_iq4_nl;
static_assert(sizeof(block_iq4_nl) == 18, "block_iq4_nl size");

/* 4.25 bpw: 8 sub-blocks of 32, x = d * (ls - 32) * lr_iq4nl_values[q], ls 6 bits: low 4
 * in scales_l[j / 2] >> 4 (j % 2), top 2 in scales_h >> 2j; sub-block j's codes are the
 * nibbles of qs[16 j ..+16] as in q4_0. */
typedef struct { uint16_t d, scales_h; uint8_t scales_l[LR_QK_K / 64]; uint8_t qs[LR_QK_K / 2]; } block_iq4_xs;
static_assert(sizeof(block_iq4_xs) == 136, "block_iq4_xs size");

/* Dequantize n elements (a multiple of the type's block size) of type t (engine/types.h)
 * from src to dst.  t must be one with weights_ok set; returns 0, or LR_EUNSUPPORTED. */
int lr_dequant_row(uint32_t t, const void *src, float *dst, int64_t n);

/* Quantize n elements to type t (same types as above).  Returns 0 or LR_EUNSUPPORTED. */
int lr_quant_row(uint32_t t, const float *src, void *dst, int64_t n);

#endif
