/* engine/quant.c — reference dequantization and round-to-nearest quantization for every
 * weight type longread computes with.  Scalar and plain on purpose: this is the oracle. */
#include "engine/quant.h"

#include <math.h>
#include <string.h>

#include "engine/err.h"
#include "engine/fp16.h"
#include "engine/types.h"

#define H2F(h) lr_f16_to_f32(h)
#define F2H(f) lr_f32_to_f16(f)

/* ------------------------------------------------------------------ dequantize */

static void deq_q4_0(const block_q4_0 *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, y += LR_QK) {
		float d = H2F(b[i].d);
		for (int j = 0; j < LR_QK / 2; j++) {
			y[j]      = ((b[i].qs[j] & 0x0f) - 8) * d;
			y[j + 16] = ((b[i].qs[j] >> 4) - 8) * d;
		}
	}
}

static void deq_q4_1(const block_q4_1 *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, y += LR_QK) {
		float d = H2F(b[i].d), m = H2F(b[i].m);
		for (int j = 0; j < LR_QK / 2; j++) {
			y[j]      = (b[i].qs[j] & 0x0f) * d + m;
			y[j + 16] = (b[i].qs[j] >> 4) * d + m;
		}
	}
}

static void deq_q5_0(const block_q5_0 *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, y += LR_QK) {
		float d = H2F(b[i].d);
		uint32_t qh;
		memcpy(&qh, b[i].qh, 4);
		for (int j = 0; j < LR_QK / 2; j++) {
			int lo = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
			int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
			y[j]      = (lo - 16) * d;
			y[j + 16] = (hi - 16) * d;
		}
	}
}

static void deq_q5_1(const block_q5_1 *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, y += LR_QK) {
		float d = H2F(b[i].d), m = H2F(b[i].m);
		uint32_t qh;
		memcpy(&qh, b[i].qh, 4);
		for (int j = 0; j < LR_QK / 2; j++) {
			int lo = (b[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
			int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
			y[j]      = lo * d + m;
			y[j + 16] = hi * d + m;
		}
	}
}

static void deq_q8_0(const block_q8_0 *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, y += LR_QK) {
		float d = H2F(b[i].d);
		for (int j = 0; j < LR_QK; j++)
			y[j] = b[i].qs[j] * d;
	}
}

static void deq_q4_K(const block_q4_K *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++) {
		const uint8_t *q = b[i].qs;
		float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
		for (int c = 0; c < LR_QK_K / 64; c++, q += 32) {
			int sc, m;
			lr_q4k_scale_min(b[i].scales, 2 * c, &sc, &m);
			float d1 = d * sc, m1 = dmin * m;
			lr_q4k_scale_min(b[i].scales, 2 * c + 1, &sc, &m);
			float d2 = d * sc, m2 = dmin * m;
			for (int l = 0; l < 32; l++)
				*y++ = d1 * (q[l] & 0x0f) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * (q[l] >> 4) - m2;
		}
	}
}

static void deq_q5_K(const block_q5_K *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++) {
		const uint8_t *q = b[i].qs;
		float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
		for (int c = 0; c < LR_QK_K / 64; c++, q += 32) {
			int sc, m;
			uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
			lr_q4k_scale_min(b[i].scales, 2 * c, &sc, &m);
			float d1 = d * sc, m1 = dmin * m;
			lr_q4k_scale_min(b[i].scales, 2 * c + 1, &sc, &m);
			float d2 = d * sc, m2 = dmin * m;
			for (int l = 0; l < 32; l++)
				*y++ = d1 * ((q[l] & 0x0f) + (b[i].qh[l] & u1 ? 16 : 0)) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * ((q[l] >> 4) + (b[i].qh[l] & u2 ? 16 : 0)) - m2;
		}
	}
}

static void deq_q6_K(const block_q6_K *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++) {
		float d = H2F(b[i].d);
		const uint8_t *ql = b[i].ql, *qh = b[i].qh;
		const int8_t *sc = b[i].scales;
		for (int h = 0; h < LR_QK_K / 128; h++, y += 128, ql += 64, qh += 32, sc += 8) {
			for (int l = 0; l < 32; l++) {
				int is = l / 16;
				int q1 = (int)((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
				int q2 = (int)((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
				int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
				int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
				y[l]      = d * sc[is + 0] * q1;
				y[l + 32] = d * sc[is + 2] * q2;
				y[l + 64] = d * sc[is + 4] * q3;
				y[l + 96] = d * sc[is + 6] * q4;
			}
		}
	}
}

/* ggml's kvalues_iq4nl (ggml-common.h): the 16 levels of IQ4_NL and IQ4_XS codes */
const int8_t lr_iq4nl_values[16] = { -127, -104, -83, -65, -49, -35, -22, -10,
                                     1, 13, 25, 38, 53, 69, 89, 113 };

/* The low-bit dequantizers compute as gguf-py does (its numpy float32 code, which the
 * golden `exact` logits were made from), so the results are bit for bit its: the
 * sub-block scale first (d * sc, in float32), then times the code, then minus the
 * minimum.  tests/test_quant.c checks digests of the golden models' matrices. */

static void deq_q2_K(const block_q2_K *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++) {
		float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
		for (int e = 0; e < LR_QK_K; e++) {
			int h = e / 128, j = e % 128 / 32, l = e % 32;
			uint8_t sc = b[i].scales[e / 16];
			float dl = d * (float)(sc & 15), ml = dmin * (float)(sc >> 4);
			int q = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
			y[LR_QK_K * i + e] = dl * (float)q - ml;
		}
	}
}

/* The 16 six-bit scales of a q3_K super-block, minus 32 (-32..31). */
static void q3_K_scales(const uint8_t *s, int sc[16])
{
	for (int k = 0; k < 16; k++) {
		int lo = k < 8 ? s[k] & 15 : s[k - 8] >> 4;
		int hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
		sc[k] = (lo | hi << 4) - 32;
	}
}

static void deq_q3_K(const block_q3_K *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++) {
		float d = H2F(b[i].d);
		int sc[16];
		q3_K_scales(b[i].scales, sc);
		for (int e = 0; e < LR_QK_K; e++) {
			int h = e / 128, j = e % 128 / 32, l = e % 32;
			int q = (b[i].qs[32 * h + l] >> (2 * j)) & 3;
			if (!((b[i].hmask[l] >> (4 * h + j)) & 1))
				q -= 4;
			y[LR_QK_K * i + e] = (d * (float)sc[e / 16]) * (float)q;
		}
	}
}

static void deq_iq4_nl(const block_iq4_nl *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, y += LR_QK) {
		float d = H2F(b[i].d);
		for (int j = 0; j < LR_QK / 2; j++) {
			y[j]      = d * (float)lr_iq4nl_values[b[i].qs[j] & 0x0f];
			y[j + 16] = d * (float)lr_iq4nl_values[b[i].qs[j] >> 4];
		}
	}
}

/* The 6-bit scale of sub-block j (0..7) of an iq4_xs super-block, minus 32. */
static int iq4_xs_scale(const block_iq4_xs *b, int j)
{
	int lo = (b->scales_l[j / 2] >> (4 * (j % 2))) & 15, hi = (b->scales_h >> (2 * j)) & 3;

	return (lo | hi << 4) - 32;
}

static void deq_iq4_xs(const block_iq4_xs *b, float *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++) {
		float d = H2F(b[i].d);
		for (int j = 0; j < 8; j++, y += 32) {
			float dl = d * (float)iq4_xs_scale(&b[i], j);
			const uint8_t *qs = b[i].qs + 16 * j;
			for (int l = 0; l < 16; l++) {
				y[l]      = dl * (float)lr_iq4nl_values[qs[l] & 0x0f];
				y[l + 16] = dl * (float)lr_iq4nl_values[qs[l] >> 4];
			}
		}
	}
}

int lr_dequant_row(uint32_t t, const void *src, float *dst, int64_t n)
{
	switch (t) {
	case LR_TYPE_F32:
		memcpy(dst, src, (size_t)n * sizeof(float));
		return 0;
	case LR_TYPE_F16: {
		const uint8_t *p = src;
		for (int64_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			dst[i] = lr_f16_to_f32(h);
		}
		return 0;
	}
	case LR_TYPE_BF16: {
		const uint8_t *p = src;
		for (int64_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			dst[i] = lr_bf16_to_f32(h);
		}
		return 0;
	}
	case LR_TYPE_Q4_0: deq_q4_0(src, dst, n / LR_QK); return 0;
	case LR_TYPE_Q4_1: deq_q4_1(src, dst, n / LR_QK); return 0;
	case LR_TYPE_Q5_0: deq_q5_0(src, dst, n / LR_QK); return 0;
	case LR_TYPE_Q5_1: deq_q5_1(src, dst, n / LR_QK); return 0;
	case LR_TYPE_Q8_0: deq_q8_0(src, dst, n / LR_QK); return 0;
	case LR_TYPE_Q4_K: deq_q4_K(src, dst, n / LR_QK_K); return 0;
	case LR_TYPE_Q5_K: deq_q5_K(src, dst, n / LR_QK_K); return 0;
	case LR_TYPE_Q6_K: deq_q6_K(src, dst, n / LR_QK_K); return 0;
	case LR_TYPE_Q2_K: deq_q2_K(src, dst, n / LR_QK_K); return 0;
	case LR_TYPE_Q3_K: deq_q3_K(src, dst, n / LR_QK_K); return 0;
	case LR_TYPE_IQ4_NL: deq_iq4_nl(src, dst, n / LR_QK); return 0;
	case LR_TYPE_IQ4_XS: deq_iq4_xs(src, dst, n / LR_QK_K); return 0;
	}
	return LR_EUNSUPPORTED;
}

/* ------------------------------------------------------------------ quantize */

static int nearest(float x) { return (int)lrintf(x); }
static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The value of largest magnitude, with its sign. */
static float signed_absmax(const float *x, int n)
{
	float amax = 0, max = 0;

	for (int j = 0; j < n; j++) {
		if (fabsf(x[j]) > amax) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	return max;
}

static void minmax(const float *x, int n, float *mn, float *mx)
{
	*mn = *mx = x[0];
	for (int j = 1; j < n; j++) {
		if (x[j] < *mn) *mn = x[j];
		if (x[j] > *mx) *mx = x[j];
	}
}

/* The legacy quantizers round exactly as ggml's reference ones do (x * (1/d) plus a
 * half, truncated), so that quantizing the same floats gives the same bytes as
 * llama-quantize: tests check that bit for bit against the golden models. */

/* Symmetric 4/5-bit blocks: d = max / -2^(bits-1), so the extreme value maps to code 0. */
static void q_sym(const float *x, int bits, uint16_t *dh, uint8_t *qs, uint8_t *qh)
{
	int half = 1 << (bits - 1), top = (1 << bits) - 1;
	float d = signed_absmax(x, LR_QK) / (float)-half;
	float id = d ? 1.0f / d : 0.0f;
	float offset = (float)half + 0.5f;
	uint32_t h = 0;

	*dh = F2H(d);
	for (int j = 0; j < LR_QK / 2; j++) {
		/* x * id is in [-half, half], so the sum is positive and truncation floors */
		int lo = (int)(x[j] * id + offset), hi = (int)(x[j + 16] * id + offset);
		lo = lo > top ? top : lo;
		hi = hi > top ? top : hi;
		qs[j] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
		h |= (uint32_t)((lo >> 4) & 1) << j;
		h |= (uint32_t)((hi >> 4) & 1) << (j + 16);
	}
	if (qh)
		memcpy(qh, &h, 4);
}

/* Asymmetric 4/5-bit blocks: x = q * d + m with m the block minimum. */
static void q_asym(const float *x, int bits, uint16_t *dh, uint16_t *mh, uint8_t *qs, uint8_t *qh)
{
	int top = (1 << bits) - 1;
	float mn, mx, d, id;
	uint32_t h = 0;

	minmax(x, LR_QK, &mn, &mx);
	d = (mx - mn) / (float)top;
	id = d ? 1.0f / d : 0.0f;
	*dh = F2H(d);
	*mh = F2H(mn);
	for (int j = 0; j < LR_QK / 2; j++) {
		int lo = (int)((x[j] - mn) * id + 0.5f), hi = (int)((x[j + 16] - mn) * id + 0.5f);
		lo = lo > top ? top : lo;
		hi = hi > top ? top : hi;
		qs[j] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
		h |= (uint32_t)((lo >> 4) & 1) << j;
		h |= (uint32_t)((hi >> 4) & 1) << (j + 16);
	}
	if (qh)
		memcpy(qh, &h, 4);
}

static void q_q8_0(const float *x, block_q8_0 *b)
{
	float amax = fabsf(signed_absmax(x, LR_QK));
	float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;

	b->d = F2H(d);
	for (int j = 0; j < LR_QK; j++)
		b->qs[j] = (int8_t)roundf(x[j] * id);
}

/* q4_K / q5_K: per sub-block of 32, scale = (max - min) / top and min (<= 0) stored as
 * 6-bit multiples of the super-block's d and dmin.  Codes are chosen against the
 * rounded scales, so the block reproduces x as well as its stored scales allow. */
static void q_k45(const float *x, int bits, uint16_t *dh, uint16_t *dminh, uint8_t *scales,
                  uint8_t L[LR_QK_K])
{
	int top = (1 << bits) - 1;
	float sc[8], mn[8], max_sc = 0, max_mn = 0, d, dmin;
	uint8_t ls[8], lm[8];

	for (int j = 0; j < 8; j++) {
		float lo, hi;
		minmax(x + 32 * j, 32, &lo, &hi);
		if (lo > 0)
			lo = 0;
		sc[j] = (hi - lo) / (float)top;
		mn[j] = -lo;
		if (sc[j] > max_sc) max_sc = sc[j];
		if (mn[j] > max_mn) max_mn = mn[j];
	}
	d = max_sc / 63.0f;
	dmin = max_mn / 63.0f;
	*dh = F2H(d);
	*dminh = F2H(dmin);
	d = H2F(*dh);
	dmin = H2F(*dminh);
	memset(scales, 0, 12);
	for (int j = 0; j < 8; j++) {
		ls[j] = (uint8_t)clampi(d ? nearest(sc[j] / d) : 0, 0, 63);
		lm[j] = (uint8_t)clampi(dmin ? nearest(mn[j] / dmin) : 0, 0, 63);
		if (j < 4) {
			scales[j] |= ls[j];
			scales[j + 4] |= lm[j];
		} else {
			scales[j + 4] = (uint8_t)((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
			scales[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
			scales[j] |= (uint8_t)((lm[j] >> 4) << 6);
		}
	}
	for (int j = 0; j < 8; j++) {
		float ds = d * ls[j], m = dmin * lm[j];
		for (int l = 0; l < 32; l++)
			L[32 * j + l] = (uint8_t)clampi(ds ? nearest((x[32 * j + l] + m) / ds) : 0, 0, top);
	}
}

static void q_q4_K(const float *x, block_q4_K *b)
{
	uint8_t L[LR_QK_K];

	q_k45(x, 4, &b->d, &b->dmin, b->scales, L);
	for (int c = 0; c < LR_QK_K / 64; c++)
		for (int l = 0; l < 32; l++)
			b->qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + l + 32] << 4));
}

static void q_q5_K(const float *x, block_q5_K *b)
{
	uint8_t L[LR_QK_K];

	q_k45(x, 5, &b->d, &b->dmin, b->scales, L);
	memset(b->qh, 0, sizeof b->qh);
	for (int c = 0; c < LR_QK_K / 64; c++) {
		for (int l = 0; l < 32; l++) {
			int l1 = L[64 * c + l], l2 = L[64 * c + l + 32];
			if (l1 > 15) { l1 -= 16; b->qh[l] |= (uint8_t)(1u << (2 * c)); }
			if (l2 > 15) { l2 -= 16; b->qh[l] |= (uint8_t)(2u << (2 * c)); }
			b->qs[32 * c + l] = (uint8_t)(l1 | (l2 << 4));
		}
	}
}

/* q6_K: per sub-block of 16 a scale = max / -32 (int8 multiple of d), codes -32..31. */
static void q_q6_K(const float *x, block_q6_K *b)
{
	float sc[16], amax = 0, d;
	uint8_t L[LR_QK_K];

	for (int j = 0; j < 16; j++) {
		sc[j] = signed_absmax(x + 16 * j, 16) / -32.0f;
		if (fabsf(sc[j]) > amax) amax = fabsf(sc[j]);
	}
	d = amax / 127.0f;
	b->d = F2H(d);
	d = H2F(b->d);
	for (int j = 0; j < 16; j++) {
		int s = clampi(d ? nearest(sc[j] / d) : 0, -127, 127);
		float ds = d * s;
		b->scales[j] = (int8_t)s;
		for (int l = 0; l < 16; l++)
			L[16 * j + l] = (uint8_t)(clampi(ds ? nearest(x[16 * j + l] / ds) : 0, -32, 31) + 32);
	}
	for (int h = 0; h < 2; h++) {
		const uint8_t *Lh = L + 128 * h;
		uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
		for (int l = 0; l < 32; l++) {
			ql[l]      = (uint8_t)((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
			ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
			qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
			                  ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
		}
	}
}

/* q2_K: as q4_K with 16-value sub-blocks, 2-bit codes and 4-bit scales and minimums. */
static void q_q2_K(const float *x, block_q2_K *b)
{
	float sc[16], mn[16], max_sc = 0, max_mn = 0, d, dmin;
	uint8_t L[LR_QK_K];

	for (int j = 0; j < 16; j++) {
		float lo, hi;
		minmax(x + 16 * j, 16, &lo, &hi);
		if (lo > 0)
			lo = 0;
		sc[j] = (hi - lo) / 3.0f;
		mn[j] = -lo;
		if (sc[j] > max_sc) max_sc = sc[j];
		if (mn[j] > max_mn) max_mn = mn[j];
	}
	b->d = F2H(max_sc / 15.0f);
	b->dmin = F2H(max_mn / 15.0f);
	d = H2F(b->d);
	dmin = H2F(b->dmin);
	for (int j = 0; j < 16; j++) {
		int ls = clampi(d ? nearest(sc[j] / d) : 0, 0, 15);
		int lm = clampi(dmin ? nearest(mn[j] / dmin) : 0, 0, 15);
		float ds = d * (float)ls, m = dmin * (float)lm;
		b->scales[j] = (uint8_t)(ls | lm << 4);
		for (int l = 0; l < 16; l++)
			L[16 * j + l] = (uint8_t)clampi(ds ? nearest((x[16 * j + l] + m) / ds) : 0, 0, 3);
	}
	memset(b->qs, 0, sizeof b->qs);
	for (int e = 0; e < LR_QK_K; e++)
		b->qs[32 * (e / 128) + e % 32] |= (uint8_t)(L[e] << (2 * (e % 128 / 32)));
}

/* The super-block scale of the symmetric low-bit types: the sub-block scale of largest
 * magnitude becomes -32 times it, so every sub-block scale is a multiple in -32..32
 * (32 clamped to 31). */
static float signed_absmax_scale(const float *s, int n)
{
	return signed_absmax(s, n) / -32.0f;
}

/* q3_K: per sub-block of 16 a scale = max / -4 (so the extreme value is code -4),
 * a signed 6-bit multiple of d; codes -4..3 stored as q + 4. */
static void q_q3_K(const float *x, block_q3_K *b)
{
	float s[16], d;

	for (int j = 0; j < 16; j++)
		s[j] = signed_absmax(x + 16 * j, 16) / -4.0f;
	b->d = F2H(signed_absmax_scale(s, 16));
	d = H2F(b->d);
	memset(b->hmask, 0, sizeof b->hmask);
	memset(b->qs, 0, sizeof b->qs);
	memset(b->scales, 0, sizeof b->scales);
	for (int j = 0; j < 16; j++) {
		int l = clampi(d ? nearest(s[j] / d) : 0, -32, 31), u = l + 32;
		float ds = d * (float)l;
		b->scales[j % 8] |= (uint8_t)((u & 15) << (4 * (j / 8)));
		b->scales[8 + j % 4] |= (uint8_t)((u >> 4) << (2 * (j / 4)));
		for (int k = 0; k < 16; k++) {
			int e = 16 * j + k, h = e / 128, c = e % 128 / 32, p = e % 32;
			int q = clampi(ds ? nearest(x[e] / ds) : 0, -4, 3) + 4;
			b->qs[32 * h + p] |= (uint8_t)((q & 3) << (2 * c));
			b->hmask[p] |= (uint8_t)((q >> 2) << (4 * h + c));
		}
	}
}

/* The index of the IQ4_NL level nearest v. */
static uint8_t iq4_nearest(float v)
{
	int best = 0;

	for (int k = 1; k < 16; k++)
		if (fabsf(v - lr_iq4nl_values[k]) < fabsf(v - lr_iq4nl_values[best]))
			best = k;
	return (uint8_t)best;
}

/* 32 values against scale ds as 16 bytes of IQ4_NL codes (q4_0's nibble order). */
static void iq4_codes(const float *x, float ds, uint8_t *qs)
{
	float id = ds ? 1.0f / ds : 0.0f;

	for (int j = 0; j < 16; j++)
		qs[j] = (uint8_t)(iq4_nearest(x[j] * id) | iq4_nearest(x[j + 16] * id) << 4);
}

/* iq4_nl: d = max / -127, so the extreme value is level 0 (-127). */
static void q_iq4_nl(const float *x, block_iq4_nl *b)
{
	b->d = F2H(signed_absmax(x, LR_QK) / -127.0f);
	iq4_codes(x, H2F(b->d), b->qs);
}

/* iq4_xs: per sub-block of 32 a scale = max / -127, a signed 6-bit multiple of d. */
static void q_iq4_xs(const float *x, block_iq4_xs *b)
{
	float s[8], d;

	for (int j = 0; j < 8; j++)
		s[j] = signed_absmax(x + 32 * j, 32) / -127.0f;
	b->d = F2H(signed_absmax_scale(s, 8));
	d = H2F(b->d);
	b->scales_h = 0;
	memset(b->scales_l, 0, sizeof b->scales_l);
	for (int j = 0; j < 8; j++) {
		int l = clampi(d ? nearest(s[j] / d) : 0, -32, 31), u = l + 32;
		b->scales_l[j / 2] |= (uint8_t)((u & 15) << (4 * (j % 2)));
		b->scales_h |= (uint16_t)((u >> 4) << (2 * j));
		iq4_codes(x + 32 * j, d * (float)l, b->qs + 16 * j);
	}
}

int lr_quant_row(uint32_t t, const float *src, void *dst, int64_t n)
{
	uint8_t *p = dst;

	switch (t) {
	case LR_TYPE_F32:
		memcpy(dst, src, (size_t)n * sizeof(float));
		return 0;
	case LR_TYPE_F16:
	case LR_TYPE_BF16:
		for (int64_t i = 0; i < n; i++) {
			uint16_t h = t == LR_TYPE_F16 ? lr_f32_to_f16(src[i]) : lr_f32_to_bf16(src[i]);
			memcpy(p + 2 * i, &h, 2);
		}
		return 0;
	case LR_TYPE_Q4_0:
		for (int64_t i = 0; i < n / LR_QK; i++) {
			block_q4_0 *b = (block_q4_0 *)dst + i;
			q_sym(src + LR_QK * i, 4, &b->d, b->qs, NULL);
		}
		return 0;
	case LR_TYPE_Q5_0:
		for (int64_t i = 0; i < n / LR_QK; i++) {
			block_q5_0 *b = (block_q5_0 *)dst + i;
			q_sym(src + LR_QK * i, 5, &b->d, b->qs, b->qh);
		}
		return 0;
	case LR_TYPE_Q4_1:
		for (int64_t i = 0; i < n / LR_QK; i++) {
			block_q4_1 *b = (block_q4_1 *)dst + i;
			q_asym(src + LR_QK * i, 4, &b->d, &b->m, b->qs, NULL);
		}
		return 0;
	case LR_TYPE_Q5_1:
		for (int64_t i = 0; i < n / LR_QK; i++) {
			block_q5_1 *b = (block_q5_1 *)dst + i;
			q_asym(src + LR_QK * i, 5, &b->d, &b->m, b->qs, b->qh);
		}
		return 0;
	case LR_TYPE_Q8_0:
		for (int64_t i = 0; i < n / LR_QK; i++)
			q_q8_0(src + LR_QK * i, (block_q8_0 *)dst + i);
		return 0;
	case LR_TYPE_Q4_K:
		for (int64_t i = 0; i < n / LR_QK_K; i++)
			q_q4_K(src + LR_QK_K * i, (block_q4_K *)dst + i);
		return 0;
	case LR_TYPE_Q5_K:
		for (int64_t i = 0; i < n / LR_QK_K; i++)
			q_q5_K(src + LR_QK_K * i, (block_q5_K *)dst + i);
		return 0;
	case LR_TYPE_Q6_K:
		for (int64_t i = 0; i < n / LR_QK_K; i++)
			q_q6_K(src + LR_QK_K * i, (block_q6_K *)dst + i);
		return 0;
	case LR_TYPE_Q2_K:
		for (int64_t i = 0; i < n / LR_QK_K; i++)
			q_q2_K(src + LR_QK_K * i, (block_q2_K *)dst + i);
		return 0;
	case LR_TYPE_Q3_K:
		for (int64_t i = 0; i < n / LR_QK_K; i++)
			q_q3_K(src + LR_QK_K * i, (block_q3_K *)dst + i);
		return 0;
	case LR_TYPE_IQ4_NL:
		for (int64_t i = 0; i < n / LR_QK; i++)
			q_iq4_nl(src + LR_QK * i, (block_iq4_nl *)dst + i);
		return 0;
	case LR_TYPE_IQ4_XS:
		for (int64_t i = 0; i < n / LR_QK_K; i++)
			q_iq4_xs(src + LR_QK_K * i, (block_iq4_xs *)dst + i);
		return 0;
	}
	return LR_EUNSUPPORTED;
}
