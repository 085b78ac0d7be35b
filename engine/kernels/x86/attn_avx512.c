/* engine/kernels/x86/attn_avx512.c — attention kernels for x86-64 with AVX-512
 * (F, BW, VL, DQ) and VNNI; twins of kernels/attn_ref.c (layouts in engine/kv.h).
 *
 * Scores: one register holds 16 keys (a key panel is transposed for exactly this), so
 * a query row needs no horizontal sums: per dimension (f32, f16) one FMA of the
 * broadcast query value, per pair of dimensions (q8, q4) one vpdpwssd of the
 * broadcast int16 query pair with the int8 codes widened to int16.  Up to 6 query rows
 * x 2 panels share each loaded key register.  Values: per key one broadcast P times
 * up to 4 registers of the float32 value row, for up to 6 rows at a time.
 * Workload: the whole attention arithmetic of prefill and decode. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels/attn.h"

#define INLINE static inline __attribute__((always_inline))
#define RC_MAX 6      /* query rows per register block */

/* ------------------------------------------------------------------ exp2 */

INLINE __m512 exp2_ps(__m512 x)
{
	__m512 n, f, p;

	x = _mm512_max_ps(x, _mm512_set1_ps(-125.0f));    /* NaN -> -125, like the reference */
	x = _mm512_min_ps(x, _mm512_set1_ps(127.0f));
	n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	f = _mm512_sub_ps(x, n);
	p = _mm512_fmadd_ps(_mm512_set1_ps(1.535336188319500e-4f), f, _mm512_set1_ps(1.339887440266574e-3f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
	return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p),
	                                            _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23)));
}

static __mmask16 tail_mask(int n)
{
	return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

static float row_max(const float *s, int n)
{
	__m512 m = _mm512_set1_ps(-__builtin_inff());

	for (int j = 0; j < n; j += 16)
		m = _mm512_max_ps(m, _mm512_mask_loadu_ps(_mm512_set1_ps(-__builtin_inff()), tail_mask(n - j), s + j));
	return _mm512_reduce_max_ps(m);
}

static float exp2_sum(float *s, int n, float mx)
{
	__m512 sum = _mm512_setzero_ps(), m = _mm512_set1_ps(mx);

	for (int j = 0; j < n; j += 16) {
		__mmask16 k = tail_mask(n - j);
		__m512 e = exp2_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m));
		e = _mm512_maskz_mov_ps(k, e);
		_mm512_mask_storeu_ps(s + j, k, e);
		sum = _mm512_add_ps(sum, e);
	}
	return _mm512_reduce_add_ps(sum);
}

/* ------------------------------------------------------------------ scores */

/* rc rows x np panels of float keys (f16 when half): S[r][p * 16 + k] */
INLINE void qk_float_block(const float *Q, int hd, const uint8_t *pan, uint64_t pb, const int np,
                           const int rc, const int half, float *S, int ld)
{
	__m512 acc[RC_MAX][2];

	for (int r = 0; r < rc; r++)
		for (int p = 0; p < np; p++)
			acc[r][p] = _mm512_setzero_ps();
	for (int i = 0; i < hd; i++) {
		__m512 k[2];
		for (int p = 0; p < np; p++)
			k[p] = half ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(pan + p * pb + (size_t)i * 32)))
			            : _mm512_loadu_ps((const float *)(pan + p * pb) + (size_t)i * 16);
		for (int r = 0; r < rc; r++) {
			__m512 q = _mm512_set1_ps(Q[(size_t)r * hd + i]);
			for (int p = 0; p < np; p++)
				acc[r][p] = _mm512_fmadd_ps(q, k[p], acc[r][p]);
		}
	}
	for (int r = 0; r < rc; r++)
		for (int p = 0; p < np; p++)
			_mm512_storeu_ps(S + (size_t)r * ld + p * 16, acc[r][p]);
}

/* the int16 query pair (dimensions 2j, 2j + 1 of row r) in every lane */
INLINE __m512i qpair(const int16_t *Q, int hd, int r, int dim)
{
	int32_t v;

	memcpy(&v, Q + (size_t)r * hd + dim, 4);
	return _mm512_set1_epi32(v);
}

/* rc rows x np panels of q8 (is4 = 0) or q4 (is4 = 1) keys */
INLINE void qk_int_block(const int16_t *Q, const float *dq, int hd, const uint8_t *pan, uint64_t pb,
                         const int np, const int rc, const int is4, float *S, int ld)
{
	const __m256i lut = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lr_kv_q4_levels));
	const __m256i low4 = _mm256_set1_epi8(0x0f);
	const uint64_t bb = is4 ? sizeof(struct lr_kq4) : sizeof(struct lr_kq8);
	__m512 facc[RC_MAX][2];
	__m512i iacc[RC_MAX][2];

	for (int r = 0; r < rc; r++)
		for (int p = 0; p < np; p++)
			facc[r][p] = _mm512_setzero_ps();
	for (int b = 0; b < hd / 32; b++) {
		for (int r = 0; r < rc; r++)
			for (int p = 0; p < np; p++)
				iacc[r][p] = _mm512_setzero_si512();
		if (is4) {
			for (int g = 0; g < 8; g++) {
				__m512i klo[2], khi[2];
				for (int p = 0; p < np; p++) {
					const struct lr_kq4 *B = (const struct lr_kq4 *)(pan + p * pb + b * bb);
					__m256i raw = _mm256_loadu_si256((const __m256i *)B->qs[g]);
					__m256i lo = _mm256_and_si256(raw, low4);
					__m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
					klo[p] = _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(lut, lo));
					khi[p] = _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(lut, hi));
				}
				for (int r = 0; r < rc; r++) {
					__m512i qlo = qpair(Q, hd, r, 32 * b + 2 * g), qhi = qpair(Q, hd, r, 32 * b + 16 + 2 * g);
					for (int p = 0; p < np; p++) {
						iacc[r][p] = _mm512_dpwssd_epi32(iacc[r][p], klo[p], qlo);
						iacc[r][p] = _mm512_dpwssd_epi32(iacc[r][p], khi[p], qhi);
					}
				}
			}
		} else {
			for (int j = 0; j < 16; j++) {
				__m512i k[2];
				for (int p = 0; p < np; p++) {
					const struct lr_kq8 *B = (const struct lr_kq8 *)(pan + p * pb + b * bb);
					k[p] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)B->qs[j]));
				}
				for (int r = 0; r < rc; r++) {
					__m512i q = qpair(Q, hd, r, 32 * b + 2 * j);
					for (int p = 0; p < np; p++)
						iacc[r][p] = _mm512_dpwssd_epi32(iacc[r][p], k[p], q);
				}
			}
		}
		for (int p = 0; p < np; p++) {
			/* the scales sit first in either block type */
			__m512 dk = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(pan + p * pb + b * bb)));
			for (int r = 0; r < rc; r++)
				facc[r][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][p]), dk, facc[r][p]);
		}
	}
	for (int r = 0; r < rc; r++)
		for (int p = 0; p < np; p++)
			_mm512_storeu_ps(S + (size_t)r * ld + p * 16, _mm512_mul_ps(facc[r][p], _mm512_set1_ps(dq[r])));
}

/* kind: 0 f32, 1 f16, 2 q8, 3 q4 */
#define QK_BLOCK(kind, np, rc)                                                                            \
	do {                                                                                              \
		if ((kind) <= LR_KV_F16)                                                                  \
			qk_float_block(q->f + (size_t)r0 * q->hd, q->hd, pan, panel_bytes, np, rc,        \
			               (kind) == LR_KV_F16, S + (size_t)r0 * ld + p0 * 16, ld);             \
		else                                                                                      \
			qk_int_block(q->i16 + (size_t)r0 * q->hd, q->d + r0, q->hd, pan, panel_bytes, np, \
			             rc, (kind) == LR_KV_Q4, S + (size_t)r0 * ld + p0 * 16, ld);          \
	} while (0)

INLINE void qk_any(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                   float *S, int ld, const int kind)
{
	for (int p0 = 0; p0 < n_panels; p0 += 2) {
		const uint8_t *pan = panels + (uint64_t)p0 * panel_bytes;
		const int two = n_panels - p0 >= 2;
		int r0 = 0;
		for (; r0 + RC_MAX <= q->R; r0 += RC_MAX) {
			if (two)
				QK_BLOCK(kind, 2, RC_MAX);
			else
				QK_BLOCK(kind, 1, RC_MAX);
		}
		switch ((q->R - r0) * 2 + two) {
		case 0: case 1: break;
		case 2: QK_BLOCK(kind, 1, 1); break;
		case 3: QK_BLOCK(kind, 2, 1); break;
		case 4: QK_BLOCK(kind, 1, 2); break;
		case 5: QK_BLOCK(kind, 2, 2); break;
		case 6: QK_BLOCK(kind, 1, 3); break;
		case 7: QK_BLOCK(kind, 2, 3); break;
		case 8: QK_BLOCK(kind, 1, 4); break;
		case 9: QK_BLOCK(kind, 2, 4); break;
		case 10: QK_BLOCK(kind, 1, 5); break;
		default: QK_BLOCK(kind, 2, 5); break;
		}
	}
}

static void qk_f32(const struct lr_attn_q *q, const uint8_t *panels, uint64_t pb, int n, float *S, int ld)
{
	qk_any(q, panels, pb, n, S, ld, LR_KV_F32);
}

static void qk_f16(const struct lr_attn_q *q, const uint8_t *panels, uint64_t pb, int n, float *S, int ld)
{
	qk_any(q, panels, pb, n, S, ld, LR_KV_F16);
}

static void qk_q8(const struct lr_attn_q *q, const uint8_t *panels, uint64_t pb, int n, float *S, int ld)
{
	qk_any(q, panels, pb, n, S, ld, LR_KV_Q8);
}

static void qk_q4(const struct lr_attn_q *q, const uint8_t *panels, uint64_t pb, int n, float *S, int ld)
{
	qk_any(q, panels, pb, n, S, ld, LR_KV_Q4);
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
		for (int e = 0; e < hdv; e += 16) {
			__mmask16 k = tail_mask(hdv - e);
			__m256i h = _mm256_maskz_loadu_epi16(k, rows + j * row_bytes + 2 * (size_t)e);
			_mm512_mask_storeu_ps(out + (size_t)j * hdv + e, k, _mm512_cvtph_ps(h));
		}
	return out;
}

static const float *v_q8(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	for (int j = 0; j < n; j++) {
		const struct lr_vq8 *b = (const struct lr_vq8 *)(rows + j * row_bytes);
		float *o = out + (size_t)j * hdv;
		for (int k = 0; k < hdv / 32; k++) {
			__m512 d = _mm512_set1_ps(_cvtsh_ss(b[k].d));
			__m512i c0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b[k].qs));
			__m512i c1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b[k].qs + 16)));
			_mm512_storeu_ps(o + 32 * k, _mm512_mul_ps(d, _mm512_cvtepi32_ps(c0)));
			_mm512_storeu_ps(o + 32 * k + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(c1)));
		}
	}
	return out;
}

static const float *v_q4(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	const __m128i lut = _mm_loadu_si128((const __m128i *)lr_kv_q4_levels), low4 = _mm_set1_epi8(0x0f);

	for (int j = 0; j < n; j++) {
		const struct lr_vq4 *b = (const struct lr_vq4 *)(rows + j * row_bytes);
		float *o = out + (size_t)j * hdv;
		for (int k = 0; k < hdv / 32; k++) {
			__m512 d = _mm512_set1_ps(_cvtsh_ss(b[k].d));
			__m128i raw = _mm_loadu_si128((const __m128i *)b[k].qs);
			__m128i lo = _mm_shuffle_epi8(lut, _mm_and_si128(raw, low4));
			__m128i hi = _mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(raw, 4), low4));
			_mm512_storeu_ps(o + 32 * k, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo))));
			_mm512_storeu_ps(o + 32 * k + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi))));
		}
	}
	return out;
}

/* rc rows x w registers (16 values each, the last masked by km) of the accumulator */
INLINE void pv_block(const float *P, int ldp, const int rc, int n, const float *V, int hdv, const int w,
                     __mmask16 km, float *acc, int lda)
{
	__m512 a[RC_MAX][4];

	for (int r = 0; r < rc; r++)
		for (int u = 0; u < w; u++)
			a[r][u] = _mm512_maskz_loadu_ps(u == w - 1 ? km : 0xffff, acc + (size_t)r * lda + 16 * u);
	for (int j = 0; j < n; j++) {
		__m512 v[4];
		for (int u = 0; u < w; u++)
			v[u] = _mm512_maskz_loadu_ps(u == w - 1 ? km : 0xffff, V + (size_t)j * hdv + 16 * u);
		for (int r = 0; r < rc; r++) {
			__m512 p = _mm512_set1_ps(P[(size_t)r * ldp + j]);
			for (int u = 0; u < w; u++)
				a[r][u] = _mm512_fmadd_ps(p, v[u], a[r][u]);
		}
	}
	for (int r = 0; r < rc; r++)
		for (int u = 0; u < w; u++)
			_mm512_mask_storeu_ps(acc + (size_t)r * lda + 16 * u, u == w - 1 ? km : 0xffff, a[r][u]);
}

#define PV_ROWS(rc)                                                                                      \
	do {                                                                                             \
		switch (w) {                                                                             \
		case 1: pv_block(P + (size_t)r0 * ldp, ldp, rc, n, V + e0, hdv, 1, km, acc + (size_t)r0 * lda + e0, lda); break; \
		case 2: pv_block(P + (size_t)r0 * ldp, ldp, rc, n, V + e0, hdv, 2, km, acc + (size_t)r0 * lda + e0, lda); break; \
		case 3: pv_block(P + (size_t)r0 * ldp, ldp, rc, n, V + e0, hdv, 3, km, acc + (size_t)r0 * lda + e0, lda); break; \
		default: pv_block(P + (size_t)r0 * ldp, ldp, rc, n, V + e0, hdv, 4, km, acc + (size_t)r0 * lda + e0, lda); break; \
		}                                                                                        \
	} while (0)

static void pv(const float *P, int ldp, int R, int n, const float *V, int hdv, float *acc, int lda)
{
	for (int e0 = 0; e0 < hdv; e0 += 64) {
		int left = hdv - e0, w = left >= 64 ? 4 : (left + 15) / 16;
		__mmask16 km = tail_mask(left - 16 * (w - 1));
		int r0 = 0;
		for (; r0 + RC_MAX <= R; r0 += RC_MAX)
			PV_ROWS(RC_MAX);
		switch (R - r0) {
		case 0: break;
		case 1: PV_ROWS(1); break;
		case 2: PV_ROWS(2); break;
		case 3: PV_ROWS(3); break;
		case 4: PV_ROWS(4); break;
		default: PV_ROWS(5); break;
		}
	}
}

const struct lr_attn_kernels lr_attn_kernels_avx512 = {
	.name = "avx512",
	.qk = { qk_f32, qk_f16, qk_q8, qk_q4 },
	.v_tile = { v_f32, v_f16, v_q8, v_q4 },
	.pv = pv,
	.row_max = row_max,
	.exp2_sum = exp2_sum,
};
#endif
