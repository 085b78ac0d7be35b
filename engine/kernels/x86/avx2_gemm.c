/* engine/kernels/x86/avx2_gemm.c — prefill for the AVX2 set, every quantized type: a
 * GEMM over panels of 8 weight rows unpacked once per call into scratch, 2 rows x 4
 * tokens per inner step.  Workload: every token of a prefill batch (hundreds) against
 * every row of a weight; the dot (qdot.h) unpacks a row once per 4 tokens and spends
 * about as many instructions on scalar scales and offsets as on the integer dots.
 *
 * Bit for bit what the set's dot gives, because it does the dot's arithmetic: for one
 * row and one token, per 32-value sub-block j in order,
 *   p_j  = 8 int32 lanes, lane k the dot of weight codes 4k..4k+3 with the activation
 *          codes (vpmaddubsw, vpmaddwd; exact, qdot.h gives the ranges)
 *   acc  = fma(float(p_j), ws_j * da_j, acc)   lane-wise; ws_j the sub-block's weight
 *          scale (q2_K, q3_K: one per 16-value half, lanes 0-3 and 4-7), da_j
 *          its activation block's scale
 *   corr = fma(cf_j * da_j, s_j, corr)         one float, s_j the sub-block's
 *          activation code sum and cf_j = fma(-dw, offs, mw) (q4_1, q5_1); with
 *          halves, s_j = c_0 t_0 + c_1 t_1 over them and cf_j = -(4 d), c the scales
 *          (q3_K); -dmin, c the minimums (q2_K)
 *   y    = hsum8(acc) + corr
 * with hsum8 qdot.h's tree ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7)).  Signed
 * codes (q8_0; q5_0 less its offset 16; iq4_nl, iq4_xs) enter as |w| times a with w's
 * sign and have no corr.  q4_0 and q8_0 go 8 blocks at a time instead (qdot.h's
 * tile8): each block's int dot whole, then converted, and chain b mod 8 of the row
 * takes block b; here a row is a lane (gemm_l8).
 * q4_K, q5_K and q6_K apply their sub-block scales in integers instead (qdot.h's
 * tile8): per super-block i, P_i = sum_j c_j p_j (int32, vpmaddwd with the scales
 * c_j), acc = fma(float(P_i), d * da_i, acc), and corr = fma(cf * da_i, M_i, corr)
 * with M_i the super-block's sum of minimums (q6_K: scales) times activation sums, an
 * integer below 2^24 that the gemm sums exactly in float; as q4_0, 8 chains a row, a
 * super-block each (gemm_k8, a row a lane).
 *
 * What the gemm changes is where the work happens.  Each row is unpacked once per call
 * (not once per 4 tokens) into the panel, its scales as floats.  The int->float work per
 * sub-block stays (the dot converts each 4-code group), but the 8 accumulators of 2 rows
 * x 4 tokens live in registers, the activation codes are loaded once per 2 rows, and the
 * fma's scales are made by one vector multiply per 8 rows.  corr runs 8 rows at a time
 * (a lane a row, each lane the dot's scalar sequence) from activation sums converted to
 * float once per call.  Every float operation is an explicit intrinsic, so the compiler
 * cannot contract a product into an add that the dot does not fuse. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/x86/avx2_gemm.h"
#include "engine/kernels/x86/unpack_avx2.h"
#include "engine/quant.h"

#define INLINE static inline __attribute__((always_inline))

/* The legacy types first (blocks of 32, activation blocks of 32), then those of 256 */
enum kind {
	G_Q4_0, G_Q4_1, G_Q5_0, G_Q5_1, G_Q8_0, G_IQ4_NL,
	G_Q4_K, G_Q5_K, G_Q6_K, G_Q2_K, G_Q3_K, G_IQ4_XS,
};

#define PR 8   /* rows per panel: the lanes of corr */
#define RB 2   /* rows per inner step */
#define TB 4   /* tokens per inner step: 8 accumulators, 2 rows' codes, the activation
                  codes, the vpmaddwd ones and 2 temporaries fit the 16 ymm registers
                  without spills; 1 x 8, 4 x 2, 2 x 5, 2 x 6 and 3 x 4 measured no
                  faster (1 x 8 slower) */

INLINE int kquant(const int kind) { return kind >= G_Q4_K; }

/* q4_K, q5_K and q6_K: a row a lane, 8 super-blocks' chains apart (qdot.h's tile8; gemm_k8) */
INLINE int k8(const int kind) { return kind == G_Q4_K || kind == G_Q5_K || kind == G_Q6_K; }

/* Signed codes, multiplied as |w| times a with w's sign: the dot has no corr for them
 * (q5_0: the code less its offset, qdot.h's SIGNED_KERNEL) */
INLINE int signed_codes(const int kind)
{
	return kind == G_Q5_0 || kind == G_Q8_0 || kind == G_IQ4_NL || kind == G_IQ4_XS;
}

/* q4_0 and q8_0: a row a lane, 8 blocks' chains apart (qdot.h's tile8; gemm_l8) */
INLINE int lane8(const int kind) { return kind == G_Q4_0 || kind == G_Q8_0; }

INLINE int has_corr(const int kind) { return !signed_codes(kind); }

/* Sub-blocks with a scale for each 16-value half (lanes 0-3 and 4-7 of the int dot) */
INLINE int halves(const int kind) { return kind == G_Q6_K || kind == G_Q2_K || kind == G_Q3_K ? 2 : 1; }

INLINE float f16(uint16_t h) { return _cvtsh_ss(h); }

/* qdot.h's K(hsum8), the same tree */
INLINE float hsum8(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* ------------------------------------------------------------------ the panel */

/* The panel of PR rows, sub-block j and row r side by side (j-major), 32-byte aligned:
 *   codes [nsub][PR][32] u8       the codes the dot multiplies: unsigned 0..15 (4-bit
 *                                 types), 0..31 (5-bit), 0..3 (q2_K),
 *                                 0..7 (q3_K), or the signed w (q5_0 less its
 *                                 offset) and levels (iq4)
 *   isc   [nsub][PR][16] int16    unused here (gemm_l8's and gemm_k8's second operand)
 *   ws    [nsub][H][PR] float     the weight scales; H = 2 where sub-blocks have halves
 *   cf    [nsub][PR] float        the corr factors (types with corr)
 *   sc    [nsub][2][PR] float     with halves: the c of corr (scales or minimums)
 * and beside it, for the TB tokens of an inner step,
 *   S     [nsub][TB][H][PR] float ws * da, the scale of the fma */
struct panel {   /* q4_0, q8_0, q4_K, q5_K, q6_K lay it out a row a lane instead: pack_row_l8, pack_row_k8 */
	uint8_t *codes;
	int16_t *isc;
	float *ws, *cf, *sc, *S;
};

#define BYTES_PER_SUB (32 * PR + 32 * PR + 4 * 2 * PR + 4 * PR + 4 * 2 * PR + 4 * TB * 2 * PR)   /* the largest */

INLINE struct panel panel_at(uint8_t *p, int64_t nsub, const int kind)
{
	struct panel pn;

	pn.codes = p;
	pn.isc = (int16_t *)(p + 32 * PR * nsub);
	pn.ws = (float *)(p + 2 * 32 * PR * nsub);
	pn.cf = pn.ws + halves(kind) * PR * nsub;
	pn.sc = pn.cf + PR * nsub;
	pn.S = pn.sc + 2 * PR * nsub;
	return pn;
}

/* Legacy block j of a row: its codes, scale dw, and the value's offset and minimum
 * (value = dw * (code - offs) + mw), as qdot.h's UNPACK_* make them */
INLINE __m256i legacy_block(const uint8_t *row, int64_t j, float *dw, float *offs, float *mw, const int kind)
{
	const __m256i bit4 = _mm256_set1_epi8(0x10);

	*offs = 0;
	*mw = 0;
	switch (kind) {
	case G_Q4_0: {
		const block_q4_0 *b = (const block_q4_0 *)row + j;
		*dw = f16(b->d);
		*offs = 8;
		return lr_nibbles16(b->qs);
	}
	case G_Q4_1: {
		const block_q4_1 *b = (const block_q4_1 *)row + j;
		*dw = f16(b->d);
		*mw = f16(b->m);
		return lr_nibbles16(b->qs);
	}
	case G_Q5_0: {   /* signed: code - 16 */
		const block_q5_0 *b = (const block_q5_0 *)row + j;
		*dw = f16(b->d);
		return _mm256_sub_epi8(_mm256_or_si256(lr_nibbles16(b->qs), _mm256_and_si256(lr_bits32(b->qh), bit4)),
		                       _mm256_set1_epi8(16));
	}
	case G_Q5_1: {
		const block_q5_1 *b = (const block_q5_1 *)row + j;
		*dw = f16(b->d);
		*mw = f16(b->m);
		return _mm256_or_si256(lr_nibbles16(b->qs), _mm256_and_si256(lr_bits32(b->qh), bit4));
	}
	case G_Q8_0: {
		const block_q8_0 *b = (const block_q8_0 *)row + j;
		*dw = f16(b->d);
		return _mm256_loadu_si256((const __m256i *)b->qs);
	}
	default: {   /* iq4_nl */
		const block_iq4_nl *b = (const block_iq4_nl *)row + j;
		*dw = f16(b->d);
		return lr_iq4_levels(lr_nibbles16(b->qs));
	}
	}
}

/* Row r of the panel from a weight row of nsub sub-blocks; each scale is computed by
 * the dot's own expression (qdot.h). */
INLINE void pack_row(const uint8_t *row, int64_t nsub, int r, const struct panel *pn, const int kind)
{
#define CODES(j) ((__m256i *)(pn->codes + 32 * (PR * (j) + r)))
#define HALVES(j, ws0, ws1, cf_, sc0, sc1) do {                                               \
		pn->ws[PR * (2 * (j)) + r] = (ws0);                                                    \
		pn->ws[PR * (2 * (j) + 1) + r] = (ws1);                                                \
		pn->cf[PR * (j) + r] = (cf_);                                                          \
		pn->sc[PR * (2 * (j)) + r] = (float)(sc0);                                             \
		pn->sc[PR * (2 * (j) + 1) + r] = (float)(sc1);                                         \
	} while (0)
	if (!kquant(kind)) {
		for (int64_t j = 0; j < nsub; j++) {
			float dw, offs, mw;
			_mm256_store_si256(CODES(j), legacy_block(row, j, &dw, &offs, &mw, kind));
			pn->ws[PR * j + r] = dw;
			if (has_corr(kind))
				pn->cf[PR * j + r] = fmaf(-dw, offs, mw);
		}
		return;
	}
	for (int64_t i = 0; i < nsub / 8; i++) {
		switch (kind) {
		case G_Q2_K: case G_Q3_K: {   /* 2-bit codes (q3_K: and bit 2 from hmask) */
			const int q3 = kind == G_Q3_K;
			const block_q2_K *b2 = (const block_q2_K *)row + i;
			const block_q3_K *b3 = (const block_q3_K *)row + i;
			const uint8_t *qs = q3 ? b3->qs : b2->qs;
			const float d = f16(q3 ? b3->d : b2->d), dmin = q3 ? 0 : f16(b2->dmin);
			const __m256i hm = q3 ? _mm256_loadu_si256((const __m256i *)b3->hmask) : _mm256_setzero_si256();
			int sc[16], mn[16];
			for (int k = 0; k < 16; k++) {
				if (q3) {
					const uint8_t *s3 = b3->scales;
					sc[k] = ((k < 8 ? s3[k] & 15 : s3[k - 8] >> 4) | ((s3[8 + k % 4] >> (2 * (k / 4))) & 3) << 4) - 32;
				} else {
					sc[k] = b2->scales[k] & 15;
					mn[k] = b2->scales[k] >> 4;
				}
			}
			for (int h = 0; h < 2; h++) {
				__m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
				for (int k = 0; k < 4; k++) {
					const int64_t j = 8 * i + 4 * h + k;
					const int s = 8 * h + 2 * k;
					__m256i codes = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), _mm256_set1_epi8(3));
					if (q3)
						codes = _mm256_or_si256(codes, _mm256_slli_epi16(_mm256_and_si256(
							_mm256_srli_epi16(hm, 4 * h + k), _mm256_set1_epi8(1)), 2));
					_mm256_store_si256(CODES(j), codes);
					if (q3)
						HALVES(j, d * (float)sc[s], d * (float)sc[s + 1], -(4.0f * d), sc[s], sc[s + 1]);
					else
						HALVES(j, d * (float)sc[s], d * (float)sc[s + 1], -dmin, mn[s], mn[s + 1]);
				}
			}
			break;
		}
		default: {   /* iq4_xs: sub-block k is the nibbles of qs[16 k ..+16], scale d (ls - 32) */
			const block_iq4_xs *b = (const block_iq4_xs *)row + i;
			const float d = f16(b->d);
			for (int k = 0; k < 8; k++) {
				const int ls = (((b->scales_l[k / 2] >> (4 * (k % 2))) & 15) | ((b->scales_h >> (2 * k)) & 3) << 4) - 32;
				_mm256_store_si256(CODES(8 * i + k), lr_iq4_levels(lr_nibbles16(b->qs + 16 * k)));
				pn->ws[PR * (8 * i + k) + r] = d * (float)ls;
			}
			break;
		}
		}
	}
#undef HALVES
#undef CODES
}

/* Rows [0, nr) of w into the panel; the scales of rows nr..PR-1 are zero (their lanes
 * of corr are computed and never stored). */
INLINE void pack_panel(const uint8_t *w, uint64_t row_bytes, int nr, int64_t nsub, const struct panel *pn,
                       const int kind)
{
	for (int r = 0; r < nr; r++)
		pack_row(w + (uint64_t)r * row_bytes, nsub, r, pn, kind);
	for (int r = nr; r < PR; r++)
		for (int64_t j = 0; j < nsub; j++) {
			for (int h = 0; h < halves(kind); h++)
				pn->ws[PR * (halves(kind) * j + h) + r] = 0;
			pn->cf[PR * j + r] = 0;
			pn->sc[PR * (2 * j) + r] = pn->sc[PR * (2 * j + 1) + r] = 0;
		}
}

/* ------------------------------------------------------------------ corr */

/* The activation sums as floats for every token: ts[t][j] = t_j (the sum of sub-block
 * j's codes), or where a sub-block has two halves, ts[t][h] of each 16-value half h
 * (integers, exactly: |sum| <= 32 * 127). */
INLINE void token_sums(const struct lr_q8act *aq, int n_tok, int64_t nsub, float *ts, const int kind)
{
	const __m256i ones = _mm256_set1_epi16(1);

	for (int t = 0; t < n_tok; t++) {
		const int16_t *s16 = aq[t].s16;
		if (halves(kind) == 2) {
			float *o = ts + 2 * nsub * t;
			for (int64_t h = 0; h < 2 * nsub; h += 8)
				_mm256_storeu_ps(o + h, _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(
					_mm_loadu_si128((const __m128i *)(s16 + h)))));
			continue;
		}
		float *o = ts + nsub * t;
		int64_t j = 0;
		for (; j + 8 <= nsub; j += 8)
			_mm256_storeu_ps(o + j, _mm256_cvtepi32_ps(_mm256_madd_epi16(
				_mm256_loadu_si256((const __m256i *)(s16 + 2 * j)), ones)));
		for (; j < nsub; j++)
			o[j] = (float)(s16[2 * j] + s16[2 * j + 1]);
	}
}

/* corr of the panel's PR rows for one token, a lane a row */
INLINE __m256 panel_corr(const struct panel *pn, int64_t nsub, const struct lr_q8act *a, const float *ts,
                         const int kind)
{
	__m256 c = _mm256_setzero_ps();

	for (int64_t j = 0; j < nsub; j++) {
		__m256 y = _mm256_mul_ps(_mm256_load_ps(pn->cf + PR * j), _mm256_broadcast_ss(a->d + (kquant(kind) ? j / 8 : j)));
		__m256 s;
		if (halves(kind) == 2)   /* sc_0 t_0 + sc_1 t_1: every product and the sum are
		                            integers below 2 * 128 * 2032 < 2^24, so exact as the
		                            dot's int */
			s = _mm256_fmadd_ps(_mm256_load_ps(pn->sc + PR * (2 * j)), _mm256_broadcast_ss(ts + 2 * j),
			                    _mm256_mul_ps(_mm256_load_ps(pn->sc + PR * (2 * j + 1)),
			                                  _mm256_broadcast_ss(ts + 2 * j + 1)));
		else
			s = _mm256_broadcast_ss(ts + j);
		c = _mm256_fmadd_ps(y, s, c);
	}
	return c;
}

/* ------------------------------------------------------------------ the inner step */

/* S for the panel and NT tokens: a vector multiply for 8 rows (the dot's scalar
 * ws * da, or with halves its lane-wise product) */
INLINE void panel_scales(const struct panel *pn, int64_t nsub, const struct lr_q8act *aq, const int NT,
                         const int kind)
{
	const int H = halves(kind);

	for (int64_t j = 0; j < nsub; j++)
#pragma GCC unroll 4
		for (int t = 0; t < NT; t++) {
			const __m256 da = _mm256_broadcast_ss(aq[t].d + (kquant(kind) ? j / 8 : j));
			for (int h = 0; h < H; h++)
				_mm256_store_ps(pn->S + PR * (H * (TB * j + t) + h),
				                _mm256_mul_ps(_mm256_load_ps(pn->ws + PR * (H * j + h)), da));
		}
}

/* The fma's scale for row r of the panel, token t of the step, sub-block j; with
 * halves, lanes 0-3 from the first and 4-7 from the second */
INLINE __m256 scale_at(const struct panel *pn, int64_t j, int t, int r, const int kind)
{
	const int H = halves(kind);
	const float *s = pn->S + PR * (H * (TB * j + t)) + r;

	if (H == 1)
		return _mm256_broadcast_ss(s);
	return _mm256_blend_ps(_mm256_broadcast_ss(s), _mm256_broadcast_ss(s + PR), 0xf0);
}

/* Panel rows r0 .. r0 + NR - 1 times tokens aq[0 .. NT - 1] (S made for them):
 * out[t * stride + r] (out at row r0), with corr[t][PR] of the panel's rows. */
INLINE void tile(const struct panel *pn, int r0, int64_t nsub, const struct lr_q8act *aq, const float *corr,
                 float *out, int64_t stride, const int NR, const int NT, const int kind)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256 acc[RB][TB];

#pragma GCC unroll 8
	for (int r = 0; r < NR; r++)
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
			acc[r][t] = _mm256_setzero_ps();
	for (int64_t j = 0; j < nsub; j++) {
		const uint8_t *cj = pn->codes + 32 * (PR * j + r0);
		__m256i u[RB];
#pragma GCC unroll 8
		for (int r = 0; r < NR; r++) {
			u[r] = _mm256_load_si256((const __m256i *)(cj + 32 * r));
			if (signed_codes(kind))
				u[r] = _mm256_abs_epi8(u[r]);   /* -128 -> 128 as u8, as sign(w, w) */
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++) {
			const __m256i a = _mm256_loadu_si256((const __m256i *)(aq[t].qs + 32 * j));
#pragma GCC unroll 8
			for (int r = 0; r < NR; r++) {
				__m256i s = a;
				if (signed_codes(kind))
					s = _mm256_sign_epi8(a, _mm256_load_si256((const __m256i *)(cj + 32 * r)));
				__m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u[r], s), ones);
				acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), scale_at(pn, j, t, r0 + r, kind), acc[r][t]);
			}
		}
	}
#pragma GCC unroll 8
	for (int t = 0; t < NT; t++)
#pragma GCC unroll 8
		for (int r = 0; r < NR; r++) {
			float y = hsum8(acc[r][t]);
			if (has_corr(kind))
				y += corr[PR * t + r0 + r];
			out[t * stride + r] = y;
		}
}

/* All nr rows of the panel for NT tokens */
INLINE void panel_tokens(const struct panel *pn, int nr, int64_t nsub, const struct lr_q8act *aq,
                         const float *corr, float *out, int64_t stride, const int NT, const int kind)
{
	int r = 0;

	panel_scales(pn, nsub, aq, NT, kind);
	for (; r + RB <= nr; r += RB)
		tile(pn, r, nsub, aq, corr, out + r, stride, RB, NT, kind);
	for (; r < nr; r++)
		tile(pn, r, nsub, aq, corr, out + r, stride, 1, NT, kind);
}

/* ------------------------------------------------------------------ q4_0, q8_0 */

/* The panel of lane8 kinds, in struct panel's scratch: for block j of the PR rows,
 *   V  (codes) [nb][8][PR][4] u8   group g (values 4g .. 4g + 3) of every row side by
 *                                  side, one vector a group: q4_0's codes 0..15, q8_0's |w|
 *   W  (isc)   [nb][8][PR][4] s8   q8_0: w, whose signs go onto the activation codes
 *   ws [nb][PR], cf [nb][PR] float the scale dw, and q4_0's -8 dw
 * So a token's block is one vector of 8 rows' dots: 8 broadcast activation groups times
 * the 8 group vectors; for q4_0 the vpmaddubsw pair sums add up in int16 (8 groups of
 * at most 2 * 15 * 127: below 2^15) before one vpmaddwd. */
#define LT 8   /* tokens a pass over the panel: their 16 chains each stay in L1 */

INLINE void pack_row_l8(const uint8_t *row, int64_t nb, int r, const struct panel *pn, const int kind)
{
	const int q8 = kind == G_Q8_0;
	uint8_t *V = pn->codes, *W = (uint8_t *)pn->isc;

	for (int64_t j = 0; j < nb; j++) {
		float dw, offs, mw;
		uint8_t c[32], a[32];
		__m256i x = legacy_block(row, j, &dw, &offs, &mw, kind);
		_mm256_storeu_si256((__m256i *)c, q8 ? _mm256_abs_epi8(x) : x);
		_mm256_storeu_si256((__m256i *)a, x);
		for (int g = 0; g < 8; g++) {
			memcpy(V + 32 * (8 * j + g) + 4 * r, c + 4 * g, 4);
			if (q8)
				memcpy(W + 32 * (8 * j + g) + 4 * r, a + 4 * g, 4);
		}
		pn->ws[PR * j + r] = dw;
		pn->cf[PR * j + r] = dw * -8.0f;
	}
}

/* The 8 chains of every row, summed in hsum8's tree: ((c0 + c4) + (c2 + c6)) +
 * ((c1 + c5) + (c3 + c7)) */
INLINE __m256 chains8(const __m256 c[8])
{
	return _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c[0], c[4]), _mm256_add_ps(c[2], c[6])),
	                     _mm256_add_ps(_mm256_add_ps(c[1], c[5]), _mm256_add_ps(c[3], c[7])));
}

INLINE __m256i bcast4(const int8_t *a)
{
	int32_t v;

	memcpy(&v, a, 4);
	return _mm256_set1_epi32(v);
}

/* The panel's rows (nr of them) times tokens aq[0 .. nt - 1], nt <= LT */
INLINE void tile_l8(const struct panel *pn, int nr, int64_t nb, const struct lr_q8act *aq, const float *ts,
                    float *out, int64_t stride, int nt, const int kind)
{
	const int q8 = kind == G_Q8_0;
	const __m256i ones = _mm256_set1_epi16(1);
	__m256 acc[LT][8], corr[LT][8];

	for (int t = 0; t < nt; t++)
		for (int c = 0; c < 8; c++)
			acc[t][c] = corr[t][c] = _mm256_setzero_ps();
	for (int64_t j = 0; j < nb; j++) {
		const int c = (int)(j & 7);
		const __m256i *V = (const __m256i *)(pn->codes + 256 * j);
		const __m256i *W = (const __m256i *)((const uint8_t *)pn->isc + 256 * j);
		__m256i v[8];
#pragma GCC unroll 8
		for (int g = 0; g < 8; g++)
			v[g] = _mm256_load_si256(V + g);
		const __m256 dw = _mm256_load_ps(pn->ws + PR * j), cf = _mm256_load_ps(pn->cf + PR * j);
		for (int t = 0; t < nt; t++) {
			const int8_t *a = aq[t].qs + 32 * j;
			__m256i P;
			if (q8) {
				P = _mm256_setzero_si256();
#pragma GCC unroll 8
				for (int g = 0; g < 8; g++)
					P = _mm256_add_epi32(P, _mm256_madd_epi16(_mm256_maddubs_epi16(v[g],
						_mm256_sign_epi8(bcast4(a + 4 * g), _mm256_load_si256(W + g))), ones));
			} else {
				__m256i s16 = _mm256_maddubs_epi16(v[0], bcast4(a));
#pragma GCC unroll 8
				for (int g = 1; g < 8; g++)
					s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(v[g], bcast4(a + 4 * g)));
				P = _mm256_madd_epi16(s16, ones);
			}
			const __m256 da = _mm256_broadcast_ss(aq[t].d + j);
			acc[t][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(P), _mm256_mul_ps(dw, da), acc[t][c]);
			if (!q8)
				corr[t][c] = _mm256_fmadd_ps(_mm256_mul_ps(cf, da), _mm256_broadcast_ss(ts + nb * t + j), corr[t][c]);
		}
	}
	for (int t = 0; t < nt; t++) {
		float y[PR];
		__m256 v = chains8(acc[t]);
		if (!q8)
			v = _mm256_add_ps(v, chains8(corr[t]));
		_mm256_storeu_ps(y, v);
		memcpy(out + t * stride, y, (size_t)nr * sizeof *y);
	}
}

INLINE void gemm_l8(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                    const struct lr_q8act *aq, float *out, int64_t stride, const struct panel *pn, float *ts,
                    const int kind)
{
	const int64_t nb = n / 32;

	if (kind == G_Q4_0)
		token_sums(aq, n_tok, nb, ts, kind);
	for (int r0 = 0; r0 < n_rows; r0 += PR) {
		const int nr = n_rows - r0 < PR ? n_rows - r0 : PR;
		for (int r = 0; r < PR; r++)   /* rows past nr: lanes computed, never stored */
			pack_row_l8(w + (uint64_t)(r < nr ? r0 + r : r0) * row_bytes, nb, r, pn, kind);
		for (int t = 0; t < n_tok; t += LT)
			tile_l8(pn, nr, nb, aq + t, ts + nb * t, out + t * stride + r0, stride,
			        n_tok - t < LT ? n_tok - t : LT, kind);
	}
}

/* ------------------------------------------------------------------ q4_K, q5_K, q6_K */

/* The panel of k8 kinds, in struct panel's scratch: for sub-block j of the PR rows,
 *   V  (codes) [nsub][8][PR][4] u8  as gemm_l8's: 4 codes of every row side by side
 *   I  (isc)   [nsub][H][PR][2] int16  each row's scale, twice (vpmaddwd's pair); q6_K
 *                                   (H = 2): one for values 0-15, one for 16-31
 *   sc         [nsub][H][PR] float  each row's minimum (q6_K: its scales)
 * and for super-block i, ws [nsub / 8][PR] = d, cf [nsub / 8][PR] = -dmin (q6_K: -32 d). */
INLINE void pack_row_k8(const uint8_t *row, int64_t nsub, int r, const struct panel *pn, const int kind)
{
	const int five = kind == G_Q5_K, H = halves(kind);

	for (int64_t i = 0; i < nsub / 8; i++) {
		const block_q4_K *b4 = (const block_q4_K *)row + i;
		const block_q5_K *b5 = (const block_q5_K *)row + i;
		const block_q6_K *b6 = (const block_q6_K *)row + i;
		for (int k = 0; k < 8; k++) {
			const int64_t j = 8 * i + k;
			int sc[2], m = 0;
			uint8_t c[32];
			__m256i codes;
			if (kind == G_Q6_K) {   /* half k / 4, sub-block k % 4 of it */
				codes = lr_q6k_codes(b6, k / 4, k % 4);
				sc[0] = b6->scales[2 * k];
				sc[1] = b6->scales[2 * k + 1];
			} else {
				codes = lr_nibbles32((five ? b5->qs : b4->qs) + 32 * (k / 2), k & 1);
				lr_q4k_scale_min(five ? b5->scales : b4->scales, k, &sc[0], &m);
				if (five)
					codes = lr_q5k_codes(codes, _mm256_loadu_si256((const __m256i *)b5->qh), k);
			}
			_mm256_storeu_si256((__m256i *)c, codes);
			for (int g = 0; g < 8; g++)
				memcpy(pn->codes + 32 * (8 * j + g) + 4 * r, c + 4 * g, 4);
			for (int h = 0; h < H; h++) {
				pn->isc[16 * (H * j + h) + 2 * r] = pn->isc[16 * (H * j + h) + 2 * r + 1] = (int16_t)sc[h];
				pn->sc[PR * (H * j + h) + r] = (float)(H == 2 ? sc[h] : m);
			}
		}
		if (kind == G_Q6_K) {
			pn->ws[PR * i + r] = f16(b6->d);
			pn->cf[PR * i + r] = f16(b6->d) * -32.0f;
		} else {
			pn->ws[PR * i + r] = f16(five ? b5->d : b4->d);
			pn->cf[PR * i + r] = 0.0f - f16(five ? b5->dmin : b4->dmin);
		}
	}
}

/* The panel's rows (nr of them) times tokens aq[0 .. NT - 1]: each sub-block's 8 code
 * vectors are loaded once for the NT tokens, whose P stay in registers */
INLINE void tile_k8(const struct panel *pn, int nr, int64_t nsub, const struct lr_q8act *aq, const float *ts,
                    float *out, int64_t stride, const int NT, const int kind)
{
	const int H = halves(kind);
	/* vpmaddubsw's pair sums add up in int16 before a vpmaddwd, G groups of 4 at a time:
	 * codes <= 15 all 8 (8 * 2 * 15 * 127 < 2^15), <= 31 4 of them, <= 63 (q6_K) 2 */
	const int G = kind == G_Q4_K ? 8 : kind == G_Q5_K ? 4 : 2;
	__m256 acc[4][8], corr[4][8];

	for (int t = 0; t < NT; t++)
		for (int c = 0; c < 8; c++)
			acc[t][c] = corr[t][c] = _mm256_setzero_ps();
	for (int64_t i = 0; i < nsub / 8; i++) {
		const int c = (int)(i & 7);
		__m256i P[4];
#pragma GCC unroll 4
		for (int t = 0; t < NT; t++)
			P[t] = _mm256_setzero_si256();
		for (int64_t j = 8 * i; j < 8 * i + 8; j++) {
			const __m256i *V = (const __m256i *)(pn->codes + 256 * j);
			__m256i v[8], I[2];
#pragma GCC unroll 8
			for (int g = 0; g < 8; g++)
				v[g] = _mm256_load_si256(V + g);
#pragma GCC unroll 2
			for (int h = 0; h < H; h++)
				I[h] = _mm256_load_si256((const __m256i *)(pn->isc + 16 * (H * j + h)));
#pragma GCC unroll 4
			for (int t = 0; t < NT; t++) {
				const int8_t *a = aq[t].qs + 32 * j;
#pragma GCC unroll 8
				for (int g0 = 0; g0 < 8; g0 += G) {
					__m256i s = _mm256_maddubs_epi16(v[g0], bcast4(a + 4 * g0));
#pragma GCC unroll 8
					for (int g = g0 + 1; g < g0 + G; g++)
						s = _mm256_add_epi16(s, _mm256_maddubs_epi16(v[g], bcast4(a + 4 * g)));
					P[t] = _mm256_add_epi32(P[t], _mm256_madd_epi16(s, I[H == 2 && g0 >= 4]));
				}
			}
		}
		const __m256 d = _mm256_load_ps(pn->ws + PR * i), cf = _mm256_load_ps(pn->cf + PR * i);
#pragma GCC unroll 4
		for (int t = 0; t < NT; t++) {
			/* M: each product an integer, and the sum below 2^24, so exact in any order */
			__m256 M = _mm256_setzero_ps();
			for (int64_t k = 8 * H * i; k < 8 * H * (i + 1); k++)
				M = _mm256_fmadd_ps(_mm256_load_ps(pn->sc + PR * k), _mm256_broadcast_ss(ts + H * nsub * t + k), M);
			const __m256 da = _mm256_broadcast_ss(aq[t].d + i);
			acc[t][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(P[t]), _mm256_mul_ps(d, da), acc[t][c]);
			corr[t][c] = _mm256_fmadd_ps(_mm256_mul_ps(cf, da), M, corr[t][c]);
		}
	}
	for (int t = 0; t < NT; t++) {
		float y[PR];
		_mm256_storeu_ps(y, _mm256_add_ps(chains8(acc[t]), chains8(corr[t])));
		memcpy(out + t * stride, y, (size_t)nr * sizeof *y);
	}
}

INLINE void gemm_k8(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                    const struct lr_q8act *aq, float *out, int64_t stride, const struct panel *pn, float *ts,
                    const int kind)
{
	const int64_t nsub = n / 32, H = halves(kind);

	token_sums(aq, n_tok, nsub, ts, kind);
	for (int r0 = 0; r0 < n_rows; r0 += PR) {
		const int nr = n_rows - r0 < PR ? n_rows - r0 : PR;
		for (int r = 0; r < PR; r++)   /* rows past nr: lanes computed, never stored */
			pack_row_k8(w + (uint64_t)(r < nr ? r0 + r : r0) * row_bytes, nsub, r, pn, kind);
		int t = 0;
		for (; t + 4 <= n_tok; t += 4)
			tile_k8(pn, nr, nsub, aq + t, ts + H * nsub * t, out + t * stride + r0, stride, 4, kind);
		for (; t < n_tok; t++)
			tile_k8(pn, nr, nsub, aq + t, ts + H * nsub * t, out + t * stride + r0, stride, 1, kind);
	}
}

/* ------------------------------------------------------------------ the gemm */

/* Scratch: 64 for alignment, the panel with S, ts (at most 2 nsub floats a token) and
 * corr (PR floats a token). */
size_t lr_avx2_gemm_scratch(int64_t n, int n_tok)
{
	const size_t nsub = (size_t)(n / 32);

	return 64 + nsub * BYTES_PER_SUB + (size_t)n_tok * (2 * nsub + PR) * sizeof(float);
}

INLINE void gemm(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                 const struct lr_q8act *aq, float *out, int64_t stride, void *scratch, const int kind)
{
	const int64_t nsub = n / 32;
	uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
	const struct panel pn = panel_at(base, nsub, kind);
	float *ts = (float *)(base + nsub * BYTES_PER_SUB);
	float *corr = ts + 2 * nsub * n_tok;

	if (lane8(kind)) {
		gemm_l8(n, w, row_bytes, n_rows, n_tok, aq, out, stride, &pn, ts, kind);
		return;
	}
	if (k8(kind)) {
		gemm_k8(n, w, row_bytes, n_rows, n_tok, aq, out, stride, &pn, ts, kind);
		return;
	}
	if (has_corr(kind))
		token_sums(aq, n_tok, nsub, ts, kind);
	for (int r0 = 0; r0 < n_rows; r0 += PR) {
		const int nr = n_rows - r0 < PR ? n_rows - r0 : PR;
		float *o = out + r0;
		pack_panel(w + (uint64_t)r0 * row_bytes, row_bytes, nr, nsub, &pn, kind);
		if (has_corr(kind))
			for (int t = 0; t < n_tok; t++)
				_mm256_storeu_ps(corr + PR * t, panel_corr(&pn, nsub, &aq[t],
				                                          ts + halves(kind) * nsub * t, kind));
		int t = 0;
		for (; t + TB <= n_tok; t += TB)   /* then 2 and 1 */
			panel_tokens(&pn, nr, nsub, aq + t, corr + PR * t, o + t * stride, stride, TB, kind);
		if (t + 2 <= n_tok) {
			panel_tokens(&pn, nr, nsub, aq + t, corr + PR * t, o + t * stride, stride, 2, kind);
			t += 2;
		}
		if (t < n_tok)
			panel_tokens(&pn, nr, nsub, aq + t, corr + PR * t, o + t * stride, stride, 1, kind);
	}
}

#define GEMM(name, KIND)                                                                           \
	void lr_avx2_gemm_##name(int64_t n, const void *w, uint64_t row_bytes, int n_rows, int n_tok,  \
	                         const struct lr_q8act *aq, float *out, int64_t stride, void *scratch) \
	{                                                                                              \
		gemm(n, w, row_bytes, n_rows, n_tok, aq, out, stride, scratch, KIND);                      \
	}
GEMM(q4_0, G_Q4_0)
GEMM(q4_1, G_Q4_1)
GEMM(q5_0, G_Q5_0)
GEMM(q5_1, G_Q5_1)
GEMM(q8_0, G_Q8_0)
GEMM(iq4_nl, G_IQ4_NL)
GEMM(q4_K, G_Q4_K)
GEMM(q5_K, G_Q5_K)
GEMM(q6_K, G_Q6_K)
GEMM(q2_K, G_Q2_K)
GEMM(q3_K, G_Q3_K)
GEMM(iq4_xs, G_IQ4_XS)

#endif
