/* engine/kernels/attn_ref.c — the portable reference for the attention kernels
 * (engine/kernels/attn.h): plain loops in the order the SIMD versions use, with
 * explicit fused multiply-adds, so a SIMD kernel matches its twin bit for bit except
 * where it sums in another order (exp2_sum's total).
 * Workload: the scalar set runs attention on CPUs without AVX2; tests run it everywhere. */
#include <math.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/attn.h"

/* ------------------------------------------------------------------ exp2 */

/* 2^f = 1 + f P(f) on [-0.5, 0.5] (the exp2f polynomial of the Cephes library,
 * relative error 2e-7) */
#define EXP2_C0 1.535336188319500e-4f
#define EXP2_C1 1.339887440266574e-3f
#define EXP2_C2 9.618437357674640e-3f
#define EXP2_C3 5.550332471162809e-2f
#define EXP2_C4 2.402264791363012e-1f
#define EXP2_C5 6.931472028550421e-1f

float lr_attn_exp2(float x)
{
	float n, f, p;
	int32_t e;

	x = x > -125.0f ? x : -125.0f;     /* also maps NaN to -125, as maxps does */
	x = x < 127.0f ? x : 127.0f;
	n = nearbyintf(x);
	f = x - n;
	p = fmaf(EXP2_C0, f, EXP2_C1);
	p = fmaf(p, f, EXP2_C2);
	p = fmaf(p, f, EXP2_C3);
	p = fmaf(p, f, EXP2_C4);
	p = fmaf(p, f, EXP2_C5);
	p = fmaf(p, f, 1.0f);
	/* p in [0.7, 1.42], n in [-125, 127]: adding n to the exponent stays normal */
	e = (int32_t)n;
	return lr_bits_f32(lr_f32_bits(p) + ((uint32_t)e << 23));
}

static float row_max(const float *s, int n)
{
	float m = s[0];

	for (int j = 1; j < n; j++)
		m = s[j] > m ? s[j] : m;
	return m;
}

static float exp2_sum(float *s, int n, float m)
{
	float sum = 0;

	for (int j = 0; j < n; j++) {
		s[j] = lr_attn_exp2(s[j] - m);
		sum += s[j];
	}
	return sum;
}

/* ------------------------------------------------------------------ scores */

static void qk_f32(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                   float *S, int ld)
{
	for (int p = 0; p < n_panels; p++) {
		const float *K = (const float *)(panels + (uint64_t)p * panel_bytes);   /* [hd][16] */
		for (int r = 0; r < q->R; r++)
			for (int k = 0; k < LR_KV_PANEL; k++) {
				float a = 0;
				for (int i = 0; i < q->hd; i++)
					a = fmaf(q->f[r * q->hd + i], K[i * LR_KV_PANEL + k], a);
				S[r * ld + p * LR_KV_PANEL + k] = a;
			}
	}
}

static void qk_f16(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                   float *S, int ld)
{
	for (int p = 0; p < n_panels; p++) {
		const uint8_t *K = panels + (uint64_t)p * panel_bytes;   /* [hd][16] f16 */
		for (int r = 0; r < q->R; r++)
			for (int k = 0; k < LR_KV_PANEL; k++) {
				float a = 0;
				for (int i = 0; i < q->hd; i++) {
					uint16_t h;
					memcpy(&h, K + ((size_t)i * LR_KV_PANEL + k) * 2, 2);
					a = fmaf(q->f[r * q->hd + i], lr_f16_to_f32(h), a);
				}
				S[r * ld + p * LR_KV_PANEL + k] = a;
			}
	}
}

/* the int8 code of key k for dimension j of a block */
static int q8_code(const struct lr_kq8 *b, int k, int j)
{
	return b->qs[j / 2][k][j % 2];
}

static int q4_code(const struct lr_kq4 *b, int k, int j)
{
	uint8_t byte = b->qs[j % 16 / 2][k][j % 2];

	return lr_kv_q4_levels[j < 16 ? byte & 15 : byte >> 4];
}

static void qk_quant(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                     float *S, int ld, int is_q8)
{
	for (int p = 0; p < n_panels; p++) {
		const uint8_t *P = panels + (uint64_t)p * panel_bytes;
		for (int r = 0; r < q->R; r++) {
			const int16_t *qr = q->i16 + (size_t)r * q->hd;
			for (int k = 0; k < LR_KV_PANEL; k++) {
				float a = 0;
				for (int b = 0; b < q->hd / 32; b++) {
					const struct lr_kq8 *b8 = (const struct lr_kq8 *)P + b;
					const struct lr_kq4 *b4 = (const struct lr_kq4 *)P + b;
					int32_t s = 0;
					for (int j = 0; j < 32; j++)
						s += qr[32 * b + j] * (is_q8 ? q8_code(b8, k, j) : q4_code(b4, k, j));
					a = fmaf((float)s, lr_f16_to_f32(is_q8 ? b8->d[k] : b4->d[k]), a);
				}
				S[r * ld + p * LR_KV_PANEL + k] = a * q->d[r];
			}
		}
	}
}

static void qk_q8(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                  float *S, int ld)
{
	qk_quant(q, panels, panel_bytes, n_panels, S, ld, 1);
}

static void qk_q4(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                  float *S, int ld)
{
	qk_quant(q, panels, panel_bytes, n_panels, S, ld, 0);
}

/* ------------------------------------------------------------------ values */

static const float *v_f32(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	(void)row_bytes;
	(void)n;
	(void)hdv;
	(void)out;
	return (const float *)rows;
}

static const float *v_f16(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	for (int j = 0; j < n; j++)
		for (int e = 0; e < hdv; e++) {
			uint16_t h;
			memcpy(&h, rows + j * row_bytes + 2 * (size_t)e, 2);
			out[(size_t)j * hdv + e] = lr_f16_to_f32(h);
		}
	return out;
}

static const float *v_q8(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	for (int j = 0; j < n; j++) {
		const struct lr_vq8 *b = (const struct lr_vq8 *)(rows + j * row_bytes);
		for (int e = 0; e < hdv; e++)
			out[(size_t)j * hdv + e] = lr_f16_to_f32(b[e / 32].d) * (float)b[e / 32].qs[e % 32];
	}
	return out;
}

static const float *v_q4(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	for (int j = 0; j < n; j++) {
		const struct lr_vq4 *b = (const struct lr_vq4 *)(rows + j * row_bytes);
		for (int e = 0; e < hdv; e++) {
			uint8_t byte = b[e / 32].qs[e % 16];
			int c = e % 32 < 16 ? byte & 15 : byte >> 4;
			out[(size_t)j * hdv + e] = lr_f16_to_f32(b[e / 32].d) * (float)lr_kv_q4_levels[c];
		}
	}
	return out;
}

static void pv(const float *P, int ldp, int R, int n, const float *V, int hdv, float *acc, int lda)
{
	for (int r = 0; r < R; r++)
		for (int j = 0; j < n; j++) {
			float p = P[(size_t)r * ldp + j];
			for (int e = 0; e < hdv; e++)
				acc[(size_t)r * lda + e] = fmaf(p, V[(size_t)j * hdv + e], acc[(size_t)r * lda + e]);
		}
}

/* ------------------------------------------------------------------ bf16 value pairs */

/* the bf16 of a small integer (|c| <= 127): the top half of its float32, exactly */
static uint16_t bf16_int(int c)
{
	return (uint16_t)(lr_f32_bits((float)c) >> 16);
}

/* bf16 -> float32 as vdpbf16ps reads it: subnormals are zero */
static float bf16_daz(uint16_t h)
{
	return (h & 0x7f80) ? lr_bf16_to_f32(h) : 0.0f;
}

static void pairs_quant(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt, float *dv, int is_q8)
{
	const int ld = (n + 1) & ~1;

	for (int j = 0; j < ld; j++) {
		const struct lr_vq8 *b8 = (const struct lr_vq8 *)(rows + j * row_bytes);
		const struct lr_vq4 *b4 = (const struct lr_vq4 *)(rows + j * row_bytes);
		for (int e = 0; e < hdv; e++) {
			int c = 0;
			if (j < n) {
				uint8_t byte = b4[e / 32].qs[e % 16];
				c = is_q8 ? b8[e / 32].qs[e % 32] : lr_kv_q4_levels[e % 32 < 16 ? byte & 15 : byte >> 4];
			}
			vt[((size_t)(j / 2) * hdv + e) * 2 + j % 2] = bf16_int(c);
		}
		for (int b = 0; b < hdv / 32; b++)
			dv[b * ld + j] = j < n ? lr_f16_to_f32(is_q8 ? b8[b].d : b4[b].d) : 0.0f;
	}
}

static void pairs_q8(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt, float *dv)
{
	pairs_quant(rows, row_bytes, n, hdv, vt, dv, 1);
}

static void pairs_q4(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt, float *dv)
{
	pairs_quant(rows, row_bytes, n, hdv, vt, dv, 0);
}

static void pv_pairs(const float *P, int ldp, int R, int n, const uint16_t *vt, const float *dv, int hdv,
                     float *acc, int lda, uint16_t *pb)
{
	const int ld = (n + 1) & ~1;

	for (int r = 0; r < R; r++) {
		for (int b = 0; b < hdv / 32; b++)
			for (int j = 0; j < ld; j++)
				pb[b * ld + j] = lr_f32_to_bf16(j < n ? P[(size_t)r * ldp + j] * dv[b * ld + j] : 0.0f);
		for (int e = 0; e < hdv; e++) {
			float a = acc[(size_t)r * lda + e];
			const uint16_t *p = pb + (e / 32) * ld;
			for (int i = 0; i < ld / 2; i++) {
				const uint16_t *v = vt + ((size_t)i * hdv + e) * 2;
				a = fmaf(bf16_daz(p[2 * i + 1]), bf16_daz(v[1]), a);
				a = fmaf(bf16_daz(p[2 * i]), bf16_daz(v[0]), a);
			}
			acc[(size_t)r * lda + e] = a;
		}
	}
}

const struct lr_attn_kernels lr_attn_kernels_scalar = {
	.name = "scalar",
	.qk = { qk_f32, qk_f16, qk_q8, qk_q4 },
	.v_tile = { v_f32, v_f16, v_q8, v_q4 },
	.pv = pv,
	.row_max = row_max,
	.exp2_sum = exp2_sum,
	.quant_q4 = lr_kv_quant_q4,
	.v_pairs = { NULL, NULL, pairs_q8, pairs_q4 },
	.pv_pairs = pv_pairs,
};
