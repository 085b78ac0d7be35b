/* engine/kernels/x86/attn_avx512.c — attention kernels for x86-64 with AVX-512
 * (F, BW, VL, DQ) and VNNI; twins of kernels/attn_ref.c (layouts in engine/kv.h).
 *
 * Scores: one register holds 16 keys (a key panel is transposed for exactly this), so
 * a query row needs no horizontal sums: per dimension (f32, f16) one FMA of the
 * broadcast query value, per pair of dimensions (q8, q4) one vpdpwssd of the
 * broadcast int16 query pair with the int8 codes widened to int16.  Up to 6 query rows
 * x 2 panels share each loaded key register.  Values: per key one broadcast P times
 * up to 4 registers of the float32 value row, for up to 6 rows at a time; or, for
 * q8/q4 on CPUs with AVX512_BF16, one vdpbf16ps per pair of keys and 16 dimensions
 * (codes exact in bf16, P times the block scale rounded to bf16).  Also the q4 block
 * quantizer (compare-and-count against the level midpoints, 16 values a register).
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

/* lanes l < n set (none for n <= 0) */
static __mmask16 tail_mask(int n)
{
	return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
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

	#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		#pragma GCC unroll 8
		for (int p = 0; p < np; p++)
			acc[r][p] = _mm512_setzero_ps();
	for (int i = 0; i < hd; i++) {
		__m512 k[2];
		#pragma GCC unroll 8
		for (int p = 0; p < np; p++)
			k[p] = half ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(pan + p * pb + (size_t)i * 32)))
			            : _mm512_loadu_ps((const float *)(pan + p * pb) + (size_t)i * 16);
		#pragma GCC unroll 8
		for (int r = 0; r < rc; r++) {
			__m512 q = _mm512_set1_ps(Q[(size_t)r * hd + i]);
			#pragma GCC unroll 8
			for (int p = 0; p < np; p++)
				acc[r][p] = _mm512_fmadd_ps(q, k[p], acc[r][p]);
		}
	}
	#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		#pragma GCC unroll 8
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

	#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		#pragma GCC unroll 8
		for (int p = 0; p < np; p++)
			facc[r][p] = _mm512_setzero_ps();
	for (int b = 0; b < hd / 32; b++) {
		#pragma GCC unroll 8
		for (int r = 0; r < rc; r++)
			#pragma GCC unroll 8
			for (int p = 0; p < np; p++)
				iacc[r][p] = _mm512_setzero_si512();
		if (is4) {
			for (int g = 0; g < 8; g++) {
				__m512i klo[2], khi[2];
				#pragma GCC unroll 8
				for (int p = 0; p < np; p++) {
					const struct lr_kq4 *B = (const struct lr_kq4 *)(pan + p * pb + b * bb);
					__m256i raw = _mm256_loadu_si256((const __m256i *)B->qs[g]);
					__m256i lo = _mm256_and_si256(raw, low4);
					__m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
					klo[p] = _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(lut, lo));
					khi[p] = _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(lut, hi));
				}
				#pragma GCC unroll 8
				for (int r = 0; r < rc; r++) {
					__m512i qlo = qpair(Q, hd, r, 32 * b + 2 * g), qhi = qpair(Q, hd, r, 32 * b + 16 + 2 * g);
					#pragma GCC unroll 8
					for (int p = 0; p < np; p++) {
						iacc[r][p] = _mm512_dpwssd_epi32(iacc[r][p], klo[p], qlo);
						iacc[r][p] = _mm512_dpwssd_epi32(iacc[r][p], khi[p], qhi);
					}
				}
			}
		} else {
			for (int j = 0; j < 16; j++) {
				__m512i k[2];
				#pragma GCC unroll 8
				for (int p = 0; p < np; p++) {
					const struct lr_kq8 *B = (const struct lr_kq8 *)(pan + p * pb + b * bb);
					k[p] = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)B->qs[j]));
				}
				#pragma GCC unroll 8
				for (int r = 0; r < rc; r++) {
					__m512i q = qpair(Q, hd, r, 32 * b + 2 * j);
					#pragma GCC unroll 8
					for (int p = 0; p < np; p++)
						iacc[r][p] = _mm512_dpwssd_epi32(iacc[r][p], k[p], q);
				}
			}
		}
		#pragma GCC unroll 8
		for (int p = 0; p < np; p++) {
			/* the scales sit first in either block type */
			__m512 dk = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(pan + p * pb + b * bb)));
			#pragma GCC unroll 8
			for (int r = 0; r < rc; r++)
				facc[r][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][p]), dk, facc[r][p]);
		}
	}
	#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		#pragma GCC unroll 8
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

	#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			a[r][u] = _mm512_maskz_loadu_ps(u == w - 1 ? km : 0xffff, acc + (size_t)r * lda + 16 * u);
	for (int j = 0; j < n; j++) {
		__m512 v[4];
		#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			v[u] = _mm512_maskz_loadu_ps(u == w - 1 ? km : 0xffff, V + (size_t)j * hdv + 16 * u);
		#pragma GCC unroll 8
		for (int r = 0; r < rc; r++) {
			__m512 p = _mm512_set1_ps(P[(size_t)r * ldp + j]);
			#pragma GCC unroll 8
			for (int u = 0; u < w; u++)
				a[r][u] = _mm512_fmadd_ps(p, v[u], a[r][u]);
		}
	}
	#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		#pragma GCC unroll 8
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

/* ------------------------------------------------------------------ q4 quantizer */

/* codes of 16 values in level units: the number of midpoints below each */
INLINE __m512i q4_codes(__m512 v)
{
	__m512i c = _mm512_setzero_si512();

	for (int m = 1; m < 16; m++)
		c = _mm512_mask_add_epi32(c, _mm512_cmp_ps_mask(v, _mm512_set1_ps(lr_kv_q4_mid[m]), _CMP_GT_OQ), c,
		                          _mm512_set1_epi32(1));
	return c;
}

static float amax32(const float *x)
{
	__m512 a = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x)), _mm512_abs_ps(_mm512_loadu_ps(x + 16)));

	return _mm512_reduce_max_ps(a);
}

/* lr_kv_quant_q4 (engine/kv.c) with the same operations: values, errors and the
 * lane order of the error sum are identical, so the same scale wins */
static void quant_q4(const float *x, uint16_t *d, uint8_t *code)
{
	const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
	const __m512 lv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)lr_kv_q4_levels)));
	uint16_t cand[LR_KV_Q4_SCALES];
	int n = lr_kv_q4_scales(amax32(x), cand);
	float best_err = __builtin_inff(), df, lane[16];
	__m512 id;

	*d = 0;
	for (int s = 0; s < n; s++) {
		float e = 0;
		__m512 r0, r1;
		df = _cvtsh_ss(cand[s]);
		id = _mm512_set1_ps(1.0f / df);
		r0 = _mm512_fmadd_ps(x0, id, _mm512_sub_ps(_mm512_setzero_ps(),
		                     _mm512_permutexvar_ps(q4_codes(_mm512_mul_ps(x0, id)), lv)));
		r1 = _mm512_fmadd_ps(x1, id, _mm512_sub_ps(_mm512_setzero_ps(),
		                     _mm512_permutexvar_ps(q4_codes(_mm512_mul_ps(x1, id)), lv)));
		_mm512_storeu_ps(lane, _mm512_fmadd_ps(r1, r1, _mm512_mul_ps(r0, r0)));
		for (int l = 0; l < 16; l++)
			e += lane[l];
		e = e * df * df;
		if (e < best_err) {
			best_err = e;
			*d = cand[s];
		}
	}
	df = _cvtsh_ss(*d);
	id = _mm512_set1_ps(df > 0 ? 1.0f / df : 0.0f);
	_mm_storeu_si128((__m128i *)code, _mm512_cvtepi32_epi8(q4_codes(_mm512_mul_ps(x0, id))));
	_mm_storeu_si128((__m128i *)(code + 16), _mm512_cvtepi32_epi8(q4_codes(_mm512_mul_ps(x1, id))));
}

/* ------------------------------------------------------------------ bf16 value pairs */

#define BF16 __attribute__((target("avx512bf16")))

/* 16 codes of two rows as bf16 pairs: an int8 is exact in float32 with its low 16
 * bits zero, so its bf16 is the top half: lane = (a >> 16) | (b & 0xffff0000) */
INLINE __m512i pair16(__m128i a8, __m128i b8)
{
	__m512i a = _mm512_castps_si512(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(a8)));
	__m512i b = _mm512_castps_si512(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b8)));

	return _mm512_ternarylogic_epi32(_mm512_srli_epi32(a, 16), b, _mm512_set1_epi32((int)0xffff0000u), 0xf8);
}

/* the 32 codes of block k of a value row as two halves of int8 (q8 or q4 via lut) */
INLINE void row_codes(const uint8_t *row, int k, const int is4, __m128i *lo, __m128i *hi)
{
	if (is4) {
		const struct lr_vq4 *b = (const struct lr_vq4 *)row + k;
		const __m128i lut = _mm_loadu_si128((const __m128i *)lr_kv_q4_levels), low4 = _mm_set1_epi8(0x0f);
		__m128i raw = _mm_loadu_si128((const __m128i *)b->qs);
		*lo = _mm_shuffle_epi8(lut, _mm_and_si128(raw, low4));
		*hi = _mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(raw, 4), low4));
	} else {
		const struct lr_vq8 *b = (const struct lr_vq8 *)row + k;
		*lo = _mm_loadu_si128((const __m128i *)b->qs);
		*hi = _mm_loadu_si128((const __m128i *)(b->qs + 16));
	}
}

INLINE void pairs_any(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt, float *dv,
                      const int is4)
{
	const int ld = (n + 1) & ~1;

	for (int j = 0; j < ld; j += 2) {
		const uint8_t *ra = rows + j * row_bytes, *rb = ra + row_bytes;
		uint16_t *o = vt + (size_t)j * hdv;
		for (int k = 0; k < hdv / 32; k++) {
			__m128i alo, ahi, blo = _mm_setzero_si128(), bhi = _mm_setzero_si128();
			row_codes(ra, k, is4, &alo, &ahi);
			if (j + 1 < n)
				row_codes(rb, k, is4, &blo, &bhi);
			_mm512_storeu_si512(o + 64 * k, pair16(alo, blo));
			_mm512_storeu_si512(o + 64 * k + 32, pair16(ahi, bhi));
			dv[k * ld + j] = _cvtsh_ss(is4 ? ((const struct lr_vq4 *)ra)[k].d : ((const struct lr_vq8 *)ra)[k].d);
			dv[k * ld + j + 1] = j + 1 < n ? _cvtsh_ss(is4 ? ((const struct lr_vq4 *)rb)[k].d
			                                               : ((const struct lr_vq8 *)rb)[k].d) : 0.0f;
		}
	}
}

static void pairs_q8(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt, float *dv)
{
	pairs_any(rows, row_bytes, n, hdv, vt, dv, 0);
}

static void pairs_q4(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt, float *dv)
{
	pairs_any(rows, row_bytes, n, hdv, vt, dv, 1);
}

/* rc rows, value dimensions e0 .. e0 + 16 w (w = 2 or 4: one or two blocks) */
BF16 INLINE void pvp_block(const uint16_t *pb, int ld, int nb, const int rc, int n_pairs, const uint16_t *vt,
                           int hdv, int e0, const int w, float *acc, int lda)
{
	__m512 a[RC_MAX][4];

#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			a[r][u] = _mm512_loadu_ps(acc + (size_t)r * lda + e0 + 16 * u);
	for (int i = 0; i < n_pairs; i++) {
		__m512bh v[4];
		const uint16_t *vp = vt + ((size_t)i * hdv + e0) * 2;
#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			v[u] = (__m512bh)_mm512_loadu_si512(vp + 32 * u);
#pragma GCC unroll 8
		for (int r = 0; r < rc; r++) {
			const uint16_t *p = pb + ((size_t)r * nb + e0 / 32) * ld + 2 * i;
			int32_t p0, p1;
			memcpy(&p0, p, 4);
			memcpy(&p1, p + (w > 2 ? ld : 0), 4);
			a[r][0] = _mm512_dpbf16_ps(a[r][0], v[0], (__m512bh)_mm512_set1_epi32(p0));
			a[r][1] = _mm512_dpbf16_ps(a[r][1], v[1], (__m512bh)_mm512_set1_epi32(p0));
			if (w > 2) {
				a[r][2] = _mm512_dpbf16_ps(a[r][2], v[2], (__m512bh)_mm512_set1_epi32(p1));
				a[r][3] = _mm512_dpbf16_ps(a[r][3], v[3], (__m512bh)_mm512_set1_epi32(p1));
			}
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			_mm512_storeu_ps(acc + (size_t)r * lda + e0 + 16 * u, a[r][u]);
}

#define PVP_ROWS(rc)                                                                                         \
	do {                                                                                                 \
		if (w == 4)                                                                                  \
			pvp_block(pb, ld, nb, rc, ld / 2, vt, hdv, e0, 4, acc + (size_t)r0 * lda, lda);      \
		else                                                                                         \
			pvp_block(pb, ld, nb, rc, ld / 2, vt, hdv, e0, 2, acc + (size_t)r0 * lda, lda);      \
	} while (0)

BF16 static void pv_pairs(const float *P, int ldp, int R, int n, const uint16_t *vt, const float *dv, int hdv,
                          float *acc, int lda, uint16_t *pb)
{
	const int ld = (n + 1) & ~1, nb = hdv / 32;

	for (int r0 = 0; r0 < R; r0 += RC_MAX) {
		const int rc = R - r0 < RC_MAX ? R - r0 : RC_MAX;
		/* P times each block's value scales, rounded to bf16, pairs of rows adjacent */
		for (int r = 0; r < rc; r++)
			for (int b = 0; b < nb; b++)
				for (int j = 0; j < ld; j += 32) {
					__mmask16 k0 = tail_mask(n - j), k1 = tail_mask(n - j - 16);
					const float *p = P + (size_t)(r0 + r) * ldp + j, *d = dv + b * ld + j;
					__m512 x0 = _mm512_mul_ps(_mm512_maskz_loadu_ps(k0, p), _mm512_maskz_loadu_ps(k0, d));
					__m512 x1 = n - j > 16 ? _mm512_mul_ps(_mm512_maskz_loadu_ps(k1, p + 16),
					                                       _mm512_maskz_loadu_ps(k1, d + 16))
					                       : _mm512_setzero_ps();
					__m512i h = (__m512i)_mm512_cvtne2ps_pbh(x1, x0);
					__mmask32 kw = ld - j >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (ld - j)) - 1);
					_mm512_mask_storeu_epi16(pb + ((size_t)r * nb + b) * ld + j, kw, h);
				}
		for (int e0 = 0; e0 < hdv; e0 += 64) {
			const int w = hdv - e0 >= 64 ? 4 : 2;
			switch (rc) {
			case 1: PVP_ROWS(1); break;
			case 2: PVP_ROWS(2); break;
			case 3: PVP_ROWS(3); break;
			case 4: PVP_ROWS(4); break;
			case 5: PVP_ROWS(5); break;
			default: PVP_ROWS(6); break;
			}
		}
	}
}

const struct lr_attn_kernels lr_attn_kernels_avx512bf16 = {
	.name = "avx512",
	.qk = { qk_f32, qk_f16, qk_q8, qk_q4 },
	.v_tile = { v_f32, v_f16, v_q8, v_q4 },
	.pv = pv,
	.row_max = row_max,
	.exp2_sum = exp2_sum,
	.quant_q4 = quant_q4,
	.v_pairs = { NULL, NULL, pairs_q8, pairs_q4 },
	.pv_pairs = pv_pairs,
};

const struct lr_attn_kernels lr_attn_kernels_avx512 = {
	.name = "avx512",
	.qk = { qk_f32, qk_f16, qk_q8, qk_q4 },
	.v_tile = { v_f32, v_f16, v_q8, v_q4 },
	.pv = pv,
	.row_max = row_max,
	.exp2_sum = exp2_sum,
	.quant_q4 = quant_q4,
};
#endif
