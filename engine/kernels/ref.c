/* engine/kernels/ref.c — scalar reference kernels: the oracle for the SIMD ones.
 * Integer parts are exact (int32 sums, bounds at each kernel); float parts
 * are accumulated per block in the same order as the block layout, in float32. */
#include <math.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/kernels.h"
#include "engine/quant.h"

#define H2F(h) lr_f16_to_f32(h)

void lr_quantize_act(const float *x, int64_t n, int B, const struct lr_q8act *a)
{
	for (int64_t b = 0; b < n / B; b++) {
		const float *xb = x + (int64_t)B * b;
		float amax = 0;
		for (int j = 0; j < B; j++)
			amax = fmaxf(amax, fabsf(xb[j]));
		float id = amax > 0 ? 127.0f / amax : 0.0f;
		for (int j = 0; j < B; j++)
			a->qs[(int64_t)B * b + j] = (int8_t)lrintf(xb[j] * id);
		a->d[b] = lr_act_scale(amax, B);
	}
	for (int64_t j = 0; j < n / 16; j++) {
		int s = 0;
		for (int l = 0; l < 16; l++)
			s += a->qs[16 * j + l];
		a->s16[j] = (int16_t)s;
	}
}

/* ------------------------------------------------------------------ float weights */

static float dot_f32(int64_t n, const void *w, const float *x)
{
	const float *wf = w;
	float s = 0;

	for (int64_t i = 0; i < n; i++)
		s += wf[i] * x[i];
	return s;
}

static float dot_f16(int64_t n, const void *w, const float *x)
{
	const uint16_t *h = w;
	float s = 0;

	for (int64_t i = 0; i < n; i++)
		s += lr_f16_to_f32(h[i]) * x[i];
	return s;
}

static float dot_bf16(int64_t n, const void *w, const float *x)
{
	const uint16_t *h = w;
	float s = 0;

	for (int64_t i = 0; i < n; i++)
		s += lr_bf16_to_f32(h[i]) * x[i];
	return s;
}

#define FLOAT_DOT(name, one)                                                                   \
	static void name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,          \
	                 const float *af, int64_t ld, float *out, int64_t stride)                 \
	{                                                                                          \
		(void)aq;                                                                              \
		for (int t = 0; t < n_tok; t++)                                                        \
			out[t * stride] = one(n, w, af + t * ld);                                         \
	}
FLOAT_DOT(ref_f32, dot_f32)
FLOAT_DOT(ref_f16, dot_f16)
FLOAT_DOT(ref_bf16, dot_bf16)

/* ------------------------------------------------------------------ legacy quants */

/* sum over 32 of unsigned weight codes times activation codes */
static int32_t idot32(const uint8_t *q, const int8_t *a)
{
	int32_t s = 0;

	for (int j = 0; j < 32; j++)
		s += q[j] * a[j];
	return s;
}

/* Unpack a 4-bit block (q4_0/q4_1 layout) to 32 codes 0..15 */
static void unpack4(const uint8_t *qs, uint8_t *q)
{
	for (int j = 0; j < 16; j++) {
		q[j] = qs[j] & 0x0f;
		q[j + 16] = qs[j] >> 4;
	}
}

/* ... and a 5-bit block (q5_0/q5_1) to 32 codes 0..31 */
static void unpack5(const uint8_t *qs, const uint8_t *qh4, uint8_t *q)
{
	uint32_t qh;

	memcpy(&qh, qh4, 4);
	for (int j = 0; j < 16; j++) {
		q[j] = (uint8_t)((qs[j] & 0x0f) | (((qh >> j) & 1) << 4));
		q[j + 16] = (uint8_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
	}
}

static float dot1_q4_0(int64_t n, const block_q4_0 *b, const struct lr_q8act *a)
{
	float s = 0;
	uint8_t q[32];

	for (int64_t i = 0; i < n / 32; i++) {
		unpack4(b[i].qs, q);
		int32_t sum_a = a->s16[2 * i] + a->s16[2 * i + 1];
		s += H2F(b[i].d) * a->d[i] * (float)(idot32(q, a->qs + 32 * i) - 8 * sum_a);
	}
	return s;
}

static float dot1_q4_1(int64_t n, const block_q4_1 *b, const struct lr_q8act *a)
{
	float s = 0;
	uint8_t q[32];

	for (int64_t i = 0; i < n / 32; i++) {
		unpack4(b[i].qs, q);
		int32_t sum_a = a->s16[2 * i] + a->s16[2 * i + 1];
		s += H2F(b[i].d) * a->d[i] * (float)idot32(q, a->qs + 32 * i) +
		     H2F(b[i].m) * a->d[i] * (float)sum_a;
	}
	return s;
}

static float dot1_q5_0(int64_t n, const block_q5_0 *b, const struct lr_q8act *a)
{
	float s = 0;
	uint8_t q[32];

	for (int64_t i = 0; i < n / 32; i++) {
		unpack5(b[i].qs, b[i].qh, q);
		int32_t sum_a = a->s16[2 * i] + a->s16[2 * i + 1];
		s += H2F(b[i].d) * a->d[i] * (float)(idot32(q, a->qs + 32 * i) - 16 * sum_a);
	}
	return s;
}

static float dot1_q5_1(int64_t n, const block_q5_1 *b, const struct lr_q8act *a)
{
	float s = 0;
	uint8_t q[32];

	for (int64_t i = 0; i < n / 32; i++) {
		unpack5(b[i].qs, b[i].qh, q);
		int32_t sum_a = a->s16[2 * i] + a->s16[2 * i + 1];
		s += H2F(b[i].d) * a->d[i] * (float)idot32(q, a->qs + 32 * i) +
		     H2F(b[i].m) * a->d[i] * (float)sum_a;
	}
	return s;
}

static float dot1_q8_0(int64_t n, const block_q8_0 *b, const struct lr_q8act *a)
{
	float s = 0;

	for (int64_t i = 0; i < n / 32; i++) {
		int32_t acc = 0;
		for (int j = 0; j < 32; j++)
			acc += b[i].qs[j] * a->qs[32 * i + j];
		s += H2F(b[i].d) * a->d[i] * (float)acc;
	}
	return s;
}

/* ------------------------------------------------------------------ k-quants */

/* q4_K / q5_K: sub-block j (32 values) of super-block i has codes L[0..31]. */
static float dot1_k45(int64_t n, const void *w, const struct lr_q8act *a, int five)
{
	float s = 0;

	for (int64_t i = 0; i < n / 256; i++) {
		const uint8_t *scales, *qs, *qh = NULL;
		uint16_t dh, dminh;
		if (five) {
			const block_q5_K *b = (const block_q5_K *)w + i;
			dh = b->d; dminh = b->dmin; scales = b->scales; qs = b->qs; qh = b->qh;
		} else {
			const block_q4_K *b = (const block_q4_K *)w + i;
			dh = b->d; dminh = b->dmin; scales = b->scales; qs = b->qs;
		}
		float d = H2F(dh), dmin = H2F(dminh);
		for (int j = 0; j < 8; j++) {
			int c = j / 2, hi = j % 2, sc, m;
			int64_t blk = 8 * i + j;
			uint8_t L[32];
			lr_q4k_scale_min(scales, j, &sc, &m);
			for (int l = 0; l < 32; l++) {
				uint8_t byte = qs[32 * c + l];
				L[l] = (uint8_t)(hi ? byte >> 4 : byte & 0x0f);
				if (qh && (qh[l] >> j) & 1)
					L[l] += 16;
			}
			int32_t sum_a = a->s16[2 * blk] + a->s16[2 * blk + 1];
			s += d * (float)sc * a->d[i] * (float)idot32(L, a->qs + 32 * blk) -
			     dmin * (float)m * a->d[i] * (float)sum_a;
		}
	}
	return s;
}

static float dot1_q6_K(int64_t n, const block_q6_K *b, const struct lr_q8act *a)
{
	float s = 0;

	for (int64_t i = 0; i < n / 256; i++) {
		float d = H2F(b[i].d);
		uint8_t L[256];
		for (int h = 0; h < 2; h++) {
			const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
			for (int l = 0; l < 32; l++) {
				L[128 * h + l]      = (uint8_t)((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4));
				L[128 * h + l + 32] = (uint8_t)((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4));
				L[128 * h + l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
				L[128 * h + l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
			}
		}
		for (int j = 0; j < 16; j++) {
			int64_t half = 16 * i + j;        /* index of the 16-value group */
			int32_t acc = 0;
			for (int l = 0; l < 16; l++)
				acc += L[16 * j + l] * a->qs[16 * half + l];
			acc -= 32 * a->s16[half];
			s += d * (float)b[i].scales[j] * a->d[i] * (float)acc;
		}
	}
	return s;
}

/* ------------------------------------------------------------------ low-bit k-quants */

/* q2_K: sub-block j (16 values) has codes 0..3, scale sc & 15 and minimum sc >> 4:
 * sum = d * sum_j sc_j * dot_j - dmin * sum_j m_j * s16_j (|isum| <= 16*15*16*3*127). */
static float dot1_q2_K(int64_t n, const block_q2_K *b, const struct lr_q8act *a)
{
	float s = 0;

	for (int64_t i = 0; i < n / 256; i++) {
		const int8_t *aq = a->qs + 256 * i;
		int32_t isum = 0, msum = 0;
		for (int j = 0; j < 16; j++) {
			int32_t acc = 0;
			for (int l = 0; l < 16; l++) {
				int e = 16 * j + l;
				acc += ((b[i].qs[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32))) & 3) * aq[e];
			}
			isum += (b[i].scales[j] & 15) * acc;
			msum += (b[i].scales[j] >> 4) * a->s16[16 * i + j];
		}
		s += H2F(b[i].d) * a->d[i] * (float)isum - H2F(b[i].dmin) * a->d[i] * (float)msum;
	}
	return s;
}

/* q3_K: codes q - 4 in -4..3 with signed 6-bit scales sc - 32 per 16 values
 * (|isum| <= 16*32*16*4*127). */
static float dot1_q3_K(int64_t n, const block_q3_K *b, const struct lr_q8act *a)
{
	float s = 0;

	for (int64_t i = 0; i < n / 256; i++) {
		const int8_t *aq = a->qs + 256 * i;
		const uint8_t *sb = b[i].scales;
		int32_t isum = 0;
		for (int j = 0; j < 16; j++) {
			int sc = ((j < 8 ? sb[j] & 15 : sb[j - 8] >> 4) | ((sb[8 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32;
			int32_t acc = 0;
			for (int l = 0; l < 16; l++) {
				int e = 16 * j + l, h = e / 128, c = e % 128 / 32, p = e % 32;
				int q = ((b[i].qs[32 * h + p] >> (2 * c)) & 3) | ((b[i].hmask[p] >> (4 * h + c)) & 1) << 2;
				acc += (q - 4) * aq[e];
			}
			isum += sc * acc;
		}
		s += H2F(b[i].d) * a->d[i] * (float)isum;
	}
	return s;
}

/* ------------------------------------------------------------------ non-linear 4-bit */

/* iq4_nl: 32 levels lr_iq4nl_values[q] (|.| <= 127) per block of 32, one scale. */
static float dot1_iq4_nl(int64_t n, const block_iq4_nl *b, const struct lr_q8act *a)
{
	float s = 0;

	for (int64_t i = 0; i < n / 32; i++) {
		int32_t acc = 0;
		for (int j = 0; j < 16; j++)
			acc += lr_iq4nl_values[b[i].qs[j] & 0x0f] * a->qs[32 * i + j] +
			       lr_iq4nl_values[b[i].qs[j] >> 4] * a->qs[32 * i + j + 16];
		s += H2F(b[i].d) * a->d[i] * (float)acc;
	}
	return s;
}

/* iq4_xs: the same levels with a signed 6-bit scale per 32 values
 * (|isum| <= 8*32*32*127*127 < 2^31). */
static float dot1_iq4_xs(int64_t n, const block_iq4_xs *b, const struct lr_q8act *a)
{
	float s = 0;

	for (int64_t i = 0; i < n / 256; i++) {
		int32_t isum = 0;
		for (int j = 0; j < 8; j++) {
			const uint8_t *qs = b[i].qs + 16 * j;
			const int8_t *aq = a->qs + 256 * i + 32 * j;
			int ls = (((b[i].scales_l[j / 2] >> (4 * (j % 2))) & 15) | ((b[i].scales_h >> (2 * j)) & 3) << 4) - 32;
			int32_t acc = 0;
			for (int l = 0; l < 16; l++)
				acc += lr_iq4nl_values[qs[l] & 0x0f] * aq[l] + lr_iq4nl_values[qs[l] >> 4] * aq[l + 16];
			isum += ls * acc;
		}
		s += H2F(b[i].d) * a->d[i] * (float)isum;
	}
	return s;
}

#define QUANT_DOT(name, one, block)                                                            \
	static void name(int64_t n, const void *w, int n_tok, const struct lr_q8act *aq,          \
	                 const float *af, int64_t ld, float *out, int64_t stride)                 \
	{                                                                                          \
		(void)af; (void)ld;                                                                    \
		for (int t = 0; t < n_tok; t++)                                                        \
			out[t * stride] = one(n, (const block *)w, &aq[t]);                                 \
	}
QUANT_DOT(ref_q4_0, dot1_q4_0, block_q4_0)
QUANT_DOT(ref_q4_1, dot1_q4_1, block_q4_1)
QUANT_DOT(ref_q5_0, dot1_q5_0, block_q5_0)
QUANT_DOT(ref_q5_1, dot1_q5_1, block_q5_1)
QUANT_DOT(ref_q8_0, dot1_q8_0, block_q8_0)
QUANT_DOT(ref_q6_K, dot1_q6_K, block_q6_K)
QUANT_DOT(ref_q2_K, dot1_q2_K, block_q2_K)
QUANT_DOT(ref_q3_K, dot1_q3_K, block_q3_K)
QUANT_DOT(ref_iq4_nl, dot1_iq4_nl, block_iq4_nl)
QUANT_DOT(ref_iq4_xs, dot1_iq4_xs, block_iq4_xs)

static float dot1_q4_K(int64_t n, const void *w, const struct lr_q8act *a) { return dot1_k45(n, w, a, 0); }
static float dot1_q5_K(int64_t n, const void *w, const struct lr_q8act *a) { return dot1_k45(n, w, a, 1); }
QUANT_DOT(ref_q4_K, dot1_q4_K, void)
QUANT_DOT(ref_q5_K, dot1_q5_K, void)

const struct lr_kernels lr_kernels_scalar = {
	.name = "scalar",
	.dot = {
		[LR_TYPE_F32] = ref_f32, [LR_TYPE_F16] = ref_f16, [LR_TYPE_BF16] = ref_bf16,
		[LR_TYPE_Q4_0] = ref_q4_0, [LR_TYPE_Q4_1] = ref_q4_1, [LR_TYPE_Q5_0] = ref_q5_0,
		[LR_TYPE_Q5_1] = ref_q5_1, [LR_TYPE_Q8_0] = ref_q8_0, [LR_TYPE_Q4_K] = ref_q4_K,
		[LR_TYPE_Q5_K] = ref_q5_K, [LR_TYPE_Q6_K] = ref_q6_K, [LR_TYPE_Q2_K] = ref_q2_K,
		[LR_TYPE_Q3_K] = ref_q3_K, [LR_TYPE_IQ4_NL] = ref_iq4_nl, [LR_TYPE_IQ4_XS] = ref_iq4_xs,
	},
	.uses_q8 = {
		[LR_TYPE_Q4_0] = 32, [LR_TYPE_Q4_1] = 32, [LR_TYPE_Q5_0] = 32, [LR_TYPE_Q5_1] = 32,
		[LR_TYPE_Q8_0] = 32, [LR_TYPE_Q4_K] = 256, [LR_TYPE_Q5_K] = 256, [LR_TYPE_Q6_K] = 256,
		[LR_TYPE_Q2_K] = 256, [LR_TYPE_Q3_K] = 256, [LR_TYPE_IQ4_NL] = 32, [LR_TYPE_IQ4_XS] = 256,
	},
	.quantize_act = lr_quantize_act,
};
