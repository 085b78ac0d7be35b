/* engine/kernels/x86/attn_avx2.c — attention kernels for x86-64 with AVX2, FMA and
 * F16C; twins of kernels/attn_ref.c (layouts in engine/kv.h).
 *
 * As the AVX-512 set, on 256-bit registers: a key panel's 16 keys fill two registers,
 * q8/q4 pairs of dimensions go through vpmaddwd (int16 pairs to int32) instead of
 * vpdpwssd, and the value products stay in float32 (no bf16 pairs: AVX2 has no bf16
 * dot product), so results differ from the AVX-512 set by P's bf16 rounding there.
 * Workload: the whole attention arithmetic of prefill and decode on CPUs without
 * AVX-512. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels/attn.h"

#define INLINE static inline __attribute__((always_inline))
#define RC_MAX 3      /* query rows per register block (16 registers) */

/* lanes l < n set */
INLINE __m256i tail8(int n)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* ------------------------------------------------------------------ exp2 */

INLINE __m256 exp2_ps(__m256 x)
{
	__m256 n, f, p;

	x = _mm256_max_ps(x, _mm256_set1_ps(-125.0f));    /* NaN -> -125, like the reference */
	x = _mm256_min_ps(x, _mm256_set1_ps(127.0f));
	n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	f = _mm256_sub_ps(x, n);
	p = _mm256_fmadd_ps(_mm256_set1_ps(1.535336188319500e-4f), f, _mm256_set1_ps(1.339887440266574e-3f));
	p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
	p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
	p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
	p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
	p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
	return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p),
	                                            _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)));
}

static float hmax(__m256 m)
{
	__m128 a = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));

	a = _mm_max_ps(a, _mm_movehl_ps(a, a));
	a = _mm_max_ss(a, _mm_shuffle_ps(a, a, 1));
	return _mm_cvtss_f32(a);
}

static float hsum(__m256 s)
{
	__m128 a = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));

	a = _mm_add_ps(a, _mm_movehl_ps(a, a));
	a = _mm_add_ss(a, _mm_shuffle_ps(a, a, 1));
	return _mm_cvtss_f32(a);
}

/* Full groups of 8 with plain loads and stores, the tail masked: AMD's masked stores
 * are microcoded and were a third of exp2_sum's time (Zen 3) */
static float row_max(const float *s, int n)
{
	const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
	__m256 m = ninf;
	int j = 0;

	for (; j + 8 <= n; j += 8)
		m = _mm256_max_ps(m, _mm256_loadu_ps(s + j));
	if (j < n) {
		__m256i k = tail8(n - j);
		m = _mm256_max_ps(m, _mm256_blendv_ps(ninf, _mm256_maskload_ps(s + j, k), _mm256_castsi256_ps(k)));
	}
	return hmax(m);
}

static float exp2_sum(float *s, int n, float mx)
{
	__m256 sum = _mm256_setzero_ps(), m = _mm256_set1_ps(mx);
	int j = 0;

	for (; j + 8 <= n; j += 8) {
		__m256 e = exp2_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), m));
		_mm256_storeu_ps(s + j, e);
		sum = _mm256_add_ps(sum, e);
	}
	if (j < n) {
		__m256i k = tail8(n - j);
		__m256 e = exp2_ps(_mm256_sub_ps(_mm256_maskload_ps(s + j, k), m));
		e = _mm256_and_ps(e, _mm256_castsi256_ps(k));
		_mm256_maskstore_ps(s + j, k, e);
		sum = _mm256_add_ps(sum, e);
	}
	return hsum(sum);
}

/* ------------------------------------------------------------------ scores */

/* a[r] += A[r * lda] * (b0, b1) for rc rows: the rank-1 step of the float scores (A
 * the queries, b a dimension of 16 keys) and of P V's strips (A the probabilities, b 16
 * values of a key) */
INLINE void rank1_16(__m256 (*a)[2], const float *A, size_t lda, __m256 b0, __m256 b1, const int rc)
{
#pragma GCC unroll 8
	for (int r = 0; r < rc; r++) {
		__m256 x = _mm256_broadcast_ss(A + (size_t)r * lda);
		a[r][0] = _mm256_fmadd_ps(x, b0, a[r][0]);
		a[r][1] = _mm256_fmadd_ps(x, b1, a[r][1]);
	}
}

/* o[r * ld ..+16] = a[r] for rc rows */
INLINE void store16(float *o, size_t ld, __m256 (*a)[2], const int rc)
{
#pragma GCC unroll 8
	for (int r = 0; r < rc; r++) {
		_mm256_storeu_ps(o + r * ld, a[r][0]);
		_mm256_storeu_ps(o + r * ld + 8, a[r][1]);
	}
}

/* rc rows x one panel (two registers of 8 keys) of float keys (f16 when half) */
INLINE void qk_float_block(const float *Q, int hd, const uint8_t *pan, const int rc, const int half, float *S,
                           int ld)
{
	__m256 acc[RC_MAX * 2][2];

#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
		acc[r][0] = acc[r][1] = _mm256_setzero_ps();
	for (int i = 0; i < hd; i++) {
		__m256 k0, k1;
		if (half) {
			__m128i h0 = _mm_loadu_si128((const __m128i *)(pan + (size_t)i * 32));
			__m128i h1 = _mm_loadu_si128((const __m128i *)(pan + (size_t)i * 32 + 16));
			k0 = _mm256_cvtph_ps(h0);
			k1 = _mm256_cvtph_ps(h1);
		} else {
			k0 = _mm256_loadu_ps((const float *)pan + (size_t)i * 16);
			k1 = _mm256_loadu_ps((const float *)pan + (size_t)i * 16 + 8);
		}
		rank1_16(acc, Q + i, (size_t)hd, k0, k1, rc);
	}
	store16(S, (size_t)ld, acc, rc);
}

INLINE __m256i qpair(const int16_t *Q, int hd, int r, int dim)
{
	int32_t v;

	memcpy(&v, Q + (size_t)r * hd + dim, 4);
	return _mm256_set1_epi32(v);
}

/* one register of 8 keys x one pair of dimensions, widened to int16 */
INLINE __m256i widen8(__m128i codes)
{
	return _mm256_cvtepi8_epi16(codes);
}

/* rc rows (up to 2 RC_MAX) x one panel of q8 (is4 = 0) or q4 (is4 = 1) keys: the int32
 * sums of a 32-dimension block in 2 rc registers, the float sums in S itself (the first
 * block's fma onto zero is its product, as in registers) */
INLINE void qk_int_block(const int16_t *Q, const float *dq, int hd, const uint8_t *pan, const int rc,
                         const int is4, float *S, int ld)
{
	const __m128i lut = _mm_loadu_si128((const __m128i *)lr_kv_q4_levels), low4 = _mm_set1_epi8(0x0f);
	const uint64_t bb = is4 ? sizeof(struct lr_kq4) : sizeof(struct lr_kq8);
	__m256i iacc[2 * RC_MAX][2];

	for (int b = 0; b < hd / 32; b++) {
		const uint8_t *B = pan + b * bb;
#pragma GCC unroll 8
		for (int r = 0; r < rc; r++)
			iacc[r][0] = iacc[r][1] = _mm256_setzero_si256();
		if (is4) {
			const struct lr_kq4 *B4 = (const struct lr_kq4 *)B;
			for (int g = 0; g < 8; g++) {
				/* 16 keys x 2 bytes: the low nibbles are pair g, the high pair g + 8 */
				__m128i r0 = _mm_loadu_si128((const __m128i *)B4->qs[g]);
				__m128i r1 = _mm_loadu_si128((const __m128i *)B4->qs[g] + 1);
				__m256i lo0 = widen8(_mm_shuffle_epi8(lut, _mm_and_si128(r0, low4)));
				__m256i lo1 = widen8(_mm_shuffle_epi8(lut, _mm_and_si128(r1, low4)));
				__m256i hi0 = widen8(_mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(r0, 4), low4)));
				__m256i hi1 = widen8(_mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(r1, 4), low4)));
#pragma GCC unroll 8
				for (int r = 0; r < rc; r++) {
					__m256i ql = qpair(Q, hd, r, 32 * b + 2 * g), qh = qpair(Q, hd, r, 32 * b + 16 + 2 * g);
					iacc[r][0] = _mm256_add_epi32(iacc[r][0], _mm256_madd_epi16(lo0, ql));
					iacc[r][1] = _mm256_add_epi32(iacc[r][1], _mm256_madd_epi16(lo1, ql));
					iacc[r][0] = _mm256_add_epi32(iacc[r][0], _mm256_madd_epi16(hi0, qh));
					iacc[r][1] = _mm256_add_epi32(iacc[r][1], _mm256_madd_epi16(hi1, qh));
				}
			}
		} else {
			const struct lr_kq8 *B8 = (const struct lr_kq8 *)B;
			for (int j = 0; j < 16; j++) {
				__m256i k0 = widen8(_mm_loadu_si128((const __m128i *)B8->qs[j]));
				__m256i k1 = widen8(_mm_loadu_si128((const __m128i *)B8->qs[j] + 1));
#pragma GCC unroll 8
				for (int r = 0; r < rc; r++) {
					__m256i q = qpair(Q, hd, r, 32 * b + 2 * j);
					iacc[r][0] = _mm256_add_epi32(iacc[r][0], _mm256_madd_epi16(k0, q));
					iacc[r][1] = _mm256_add_epi32(iacc[r][1], _mm256_madd_epi16(k1, q));
				}
			}
		}
		const __m256 dk0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)B));
		const __m256 dk1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)B + 1));
#pragma GCC unroll 8
		for (int r = 0; r < rc; r++) {
			float *o = S + (size_t)r * ld;
			__m256 f0 = b ? _mm256_loadu_ps(o) : _mm256_setzero_ps();
			__m256 f1 = b ? _mm256_loadu_ps(o + 8) : _mm256_setzero_ps();
			_mm256_storeu_ps(o, _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[r][0]), dk0, f0));
			_mm256_storeu_ps(o + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[r][1]), dk1, f1));
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < rc; r++) {
		float *o = S + (size_t)r * ld;
		__m256 d = _mm256_set1_ps(dq[r]);
		_mm256_storeu_ps(o, _mm256_mul_ps(_mm256_loadu_ps(o), d));
		_mm256_storeu_ps(o + 8, _mm256_mul_ps(_mm256_loadu_ps(o + 8), d));
	}
}

#define QK_BLOCK(kind, rc)                                                                                \
	do {                                                                                              \
		if ((kind) <= LR_KV_F16)                                                                  \
			qk_float_block(q->f + (size_t)r0 * q->hd, q->hd, pan, rc, (kind) == LR_KV_F16,    \
			               S + (size_t)r0 * ld + p * 16, ld);                                   \
		else                                                                                      \
			qk_int_block(q->i16 + (size_t)r0 * q->hd, q->d + r0, q->hd, pan, rc,              \
			             (kind) == LR_KV_Q4, S + (size_t)r0 * ld + p * 16, ld);               \
	} while (0)

INLINE void qk_any(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes, int n_panels,
                   float *S, int ld, const int kind)
{
	for (int p = 0; p < n_panels; p++) {
		const uint8_t *pan = panels + (uint64_t)p * panel_bytes;
		int r0 = 0;
		/* two accumulators a row (float keys; the int sums of q8/q4): six rows at a time */
		for (; r0 + 2 * RC_MAX <= q->R; r0 += 2 * RC_MAX)
			QK_BLOCK(kind, 2 * RC_MAX);
		switch (q->R - r0) {
		case 0: break;
		case 1: QK_BLOCK(kind, 1); break;
		case 2: QK_BLOCK(kind, 2); break;
		case 3: QK_BLOCK(kind, 3); break;
		case 4: QK_BLOCK(kind, 4); break;
		default: QK_BLOCK(kind, 5); break;
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
	for (int j = 0; j < n; j++) {
		const uint8_t *row = rows + j * row_bytes;
		float *o = out + (size_t)j * hdv;
		int e = 0;
		for (; e + 8 <= hdv; e += 8)
			_mm256_storeu_ps(o + e, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * (size_t)e))));
		for (; e < hdv; e++) {
			uint16_t h;
			memcpy(&h, row + 2 * (size_t)e, 2);
			o[e] = _cvtsh_ss(h);
		}
	}
	return out;
}

/* 32 int8 codes of a block, times d, to out[0..32) */
INLINE void codes_out(__m128i lo, __m128i hi, float df, float *o)
{
	const __m256 d = _mm256_set1_ps(df);

	_mm256_storeu_ps(o, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
	_mm256_storeu_ps(o + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
	_mm256_storeu_ps(o + 16, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
	_mm256_storeu_ps(o + 24, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
}

static const float *v_q8(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	for (int j = 0; j < n; j++) {
		const struct lr_vq8 *b = (const struct lr_vq8 *)(rows + j * row_bytes);
		for (int k = 0; k < hdv / 32; k++)
			codes_out(_mm_loadu_si128((const __m128i *)b[k].qs), _mm_loadu_si128((const __m128i *)(b[k].qs + 16)),
			          _cvtsh_ss(b[k].d), out + (size_t)j * hdv + 32 * k);
	}
	return out;
}

static const float *v_q4(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, float *out)
{
	const __m128i lut = _mm_loadu_si128((const __m128i *)lr_kv_q4_levels), low4 = _mm_set1_epi8(0x0f);

	for (int j = 0; j < n; j++) {
		const struct lr_vq4 *b = (const struct lr_vq4 *)(rows + j * row_bytes);
		for (int k = 0; k < hdv / 32; k++) {
			__m128i raw = _mm_loadu_si128((const __m128i *)b[k].qs);
			codes_out(_mm_shuffle_epi8(lut, _mm_and_si128(raw, low4)),
			          _mm_shuffle_epi8(lut, _mm_and_si128(_mm_srli_epi16(raw, 4), low4)), _cvtsh_ss(b[k].d),
			          out + (size_t)j * hdv + 32 * k);
		}
	}
	return out;
}

/* rc rows x w registers (8 values each, the last masked by km) of the accumulator */
INLINE void pv_block(const float *P, int ldp, const int rc, int n, const float *V, int hdv, const int w,
                     __m256i km, float *acc, int lda)
{
	const __m256i all = _mm256_set1_epi32(-1);
	__m256 a[RC_MAX][4];

#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			a[r][u] = _mm256_maskload_ps(acc + (size_t)r * lda + 8 * u, u == w - 1 ? km : all);
	for (int j = 0; j < n; j++) {
		__m256 v[4];
#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			v[u] = _mm256_maskload_ps(V + (size_t)j * hdv + 8 * u, u == w - 1 ? km : all);
#pragma GCC unroll 8
		for (int r = 0; r < rc; r++) {
			__m256 p = _mm256_broadcast_ss(P + (size_t)r * ldp + j);
#pragma GCC unroll 8
			for (int u = 0; u < w; u++)
				a[r][u] = _mm256_fmadd_ps(p, v[u], a[r][u]);
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < rc; r++)
#pragma GCC unroll 8
		for (int u = 0; u < w; u++)
			_mm256_maskstore_ps(acc + (size_t)r * lda + 8 * u, u == w - 1 ? km : all, a[r][u]);
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

/* rc rows (rc <= PV_ROWS16) x 16 values of the accumulator, no masks: 12 accumulators,
 * and a pass over the tile reads 16 of V's columns (16 KB for 256 keys, within L1
 * beside P) where pv_block's 32 fill L1 alone */
#define PV_ROWS16 6
INLINE void pv16_block(const float *P, int ldp, const int rc, int n, const float *V, int hdv, float *acc, int lda)
{
	__m256 a[PV_ROWS16][2];

#pragma GCC unroll 8
	for (int r = 0; r < rc; r++) {
		a[r][0] = _mm256_loadu_ps(acc + (size_t)r * lda);
		a[r][1] = _mm256_loadu_ps(acc + (size_t)r * lda + 8);
	}
	for (int j = 0; j < n; j++)
		rank1_16(a, P + j, (size_t)ldp, _mm256_loadu_ps(V + (size_t)j * hdv),
		         _mm256_loadu_ps(V + (size_t)j * hdv + 8), rc);
	store16(acc, (size_t)lda, a, rc);
}

static void pv(const float *P, int ldp, int R, int n, const float *V, int hdv, float *acc, int lda)
{
	int e0 = 0;

	for (; e0 + 16 <= hdv; e0 += 16) {
		int r0 = 0;
		for (; r0 + PV_ROWS16 <= R; r0 += PV_ROWS16)
			pv16_block(P + (size_t)r0 * ldp, ldp, PV_ROWS16, n, V + e0, hdv, acc + (size_t)r0 * lda + e0, lda);
#define PV16(rc) pv16_block(P + (size_t)r0 * ldp, ldp, rc, n, V + e0, hdv, acc + (size_t)r0 * lda + e0, lda)
		switch (R - r0) {
		case 0: break;
		case 1: PV16(1); break;
		case 2: PV16(2); break;
		case 3: PV16(3); break;
		case 4: PV16(4); break;
		default: PV16(5); break;
		}
#undef PV16
	}
	for (; e0 < hdv; e0 += 32) {   /* the last hdv % 16 values, masked */
		int left = hdv - e0, w = left >= 32 ? 4 : (left + 7) / 8;
		__m256i km = tail8(left - 8 * (w - 1));
		int r0 = 0;
		for (; r0 + RC_MAX <= R; r0 += RC_MAX)
			PV_ROWS(RC_MAX);
		switch (R - r0) {
		case 0: break;
		case 1: PV_ROWS(1); break;
		default: PV_ROWS(2); break;
		}
	}
}

/* ------------------------------------------------------------------ q4 quantizer */

/* codes of 8 values in level units: the number of midpoints below each */
INLINE __m256i q4_codes(__m256 v)
{
	__m256i c = _mm256_setzero_si256();

	for (int m = 1; m < 16; m++)
		c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(v, _mm256_set1_ps(lr_kv_q4_mid[m]), _CMP_GT_OQ)));
	return c;
}

/* the level of each code (0..15) as float */
INLINE __m256 q4_level(__m256i c, __m256 lo, __m256 hi)
{
	__m256 a = _mm256_permutevar8x32_ps(lo, c), b = _mm256_permutevar8x32_ps(hi, c);

	return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(c, 28)));
}

/* lr_kv_quant_q4 (engine/kv.c) with the same operations and the same lane order of
 * the error sum (lane l holds values l and l + 16), so the same scale wins */
static void quant_q4(const float *x, uint16_t *d, uint8_t *code)
{
	__m256 xv[4], lo, hi, id;
	uint16_t cand[LR_KV_Q4_SCALES];
	float amax = 0, best_err = __builtin_inff(), df, lane[16];
	int n;

	for (int i = 0; i < 4; i++)
		xv[i] = _mm256_loadu_ps(x + 8 * i);
	{
		float lv[16];
		for (int i = 0; i < 16; i++)
			lv[i] = (float)lr_kv_q4_levels[i];
		lo = _mm256_loadu_ps(lv);
		hi = _mm256_loadu_ps(lv + 8);
	}
	for (int i = 0; i < 32; i++) {
		float a = x[i] < 0 ? -x[i] : x[i];
		amax = a > amax ? a : amax;
	}
	n = lr_kv_q4_scales(amax, cand);
	*d = 0;
	for (int s = 0; s < n; s++) {
		__m256 r[4];
		float e = 0;
		df = _cvtsh_ss(cand[s]);
		id = _mm256_set1_ps(1.0f / df);
		for (int i = 0; i < 4; i++)
			r[i] = _mm256_fmadd_ps(xv[i], id, _mm256_sub_ps(_mm256_setzero_ps(),
			                       q4_level(q4_codes(_mm256_mul_ps(xv[i], id)), lo, hi)));
		_mm256_storeu_ps(lane, _mm256_fmadd_ps(r[2], r[2], _mm256_mul_ps(r[0], r[0])));
		_mm256_storeu_ps(lane + 8, _mm256_fmadd_ps(r[3], r[3], _mm256_mul_ps(r[1], r[1])));
		for (int l = 0; l < 16; l++)
			e += lane[l];
		e = e * df * df;
		if (e < best_err) {
			best_err = e;
			*d = cand[s];
		}
	}
	df = _cvtsh_ss(*d);
	id = _mm256_set1_ps(df > 0 ? 1.0f / df : 0.0f);
	for (int i = 0; i < 4; i++) {
		int32_t c[8];
		_mm256_storeu_si256((__m256i *)c, q4_codes(_mm256_mul_ps(xv[i], id)));
		for (int k = 0; k < 8; k++)
			code[8 * i + k] = (uint8_t)c[k];
	}
}

const struct lr_attn_kernels lr_attn_kernels_avx2 = {
	.name = "avx2",
	.qk = { qk_f32, qk_f16, qk_q8, qk_q4 },
	.v_tile = { v_f32, v_f16, v_q8, v_q4 },
	.pv = pv,
	.row_max = row_max,
	.exp2_sum = exp2_sum,
	.quant_q4 = quant_q4,
};
#endif
