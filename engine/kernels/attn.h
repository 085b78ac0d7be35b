/* engine/kernels/attn.h — the inner loops of attention over the KV cache
 * (engine/attention.c does the tiling, the online softmax bookkeeping and threading).
 *
 * Per tile of up to 256 keys and R query rows: scores S = Q K^T straight from the key
 * panels of the cache type (qk), the row maxima and exponentials of the softmax
 * (row_max, exp2_sum, in base 2: queries carry log2(e) in their scale), the value rows
 * of the tile as float32 (v_tile: a scratch tile, or the cache itself for f32), and
 * acc += P V (pv).  Every kernel has a portable reference (kernels/attn_ref.c); SIMD
 * versions (kernels/x86/attn_*.c) are chosen with the matmul kernels' name and are
 * tested against it (tests/test_attn_kernels.c).
 *
 * Workload: prefill runs qk and pv on R = 128 rows per tile (arithmetic-bound); decode on
 * R = group rows (1..8), where they stream the cache (bandwidth-bound). */
#ifndef LR_KERNELS_ATTN_H
#define LR_KERNELS_ATTN_H

#include <stdint.h>

#include "engine/kv.h"

#define LR_ATTN_TILE 256     /* keys per tile, a multiple of LR_KV_PANEL */

/* R query rows of one head group, prepared for a cache type:
 *   f32, f16 caches: f[r][i], float32 (already scaled, see attention.c);
 *   q8, q4 caches:   query r = d[r] * i16[r][i]: int16 codes with one scale per row
 *                    (|code| <= 32767, so a 32-dimension block sums to at most
 *                    32 * 127 * 32767 < 2^27 in int32: no overflow). */
struct lr_attn_q {
	int R, hd;
	const float *f;       /* [R][hd] */
	const int16_t *i16;   /* [R][hd] */
	const float *d;       /* [R] */
};

struct lr_attn_kernels {
	const char *name;     /* "scalar", "avx2", "avx512" */
	/* S[r * ld + j] = q_r . k_j for the 16 * n_panels keys of n_panels consecutive key
	 * panels (panel_bytes apart) of the cache type; r < q->R.  For q8/q4 each
	 * 32-dimension block is an exact int32 sum, scaled by the key's scale and
	 * accumulated in float, block by block; the row scale multiplies last. */
	void (*qk[LR_KV_TYPE_COUNT])(const struct lr_attn_q *q, const uint8_t *panels, uint64_t panel_bytes,
	                             int n_panels, float *S, int ld);
	/* n value rows (row_bytes apart) of hdv values as float32: returns rows itself for
	 * f32 caches, else out[n][hdv], filled. */
	const float *(*v_tile[LR_KV_TYPE_COUNT])(const uint8_t *rows, uint64_t row_bytes, int n, int hdv,
	                                         float *out);
	/* acc[r * lda + e] += sum over j < n of P[r * ldp + j] * V[j * hdv + e], r < R, e < hdv,
	 * j in order (one fused multiply-add per term). */
	void (*pv)(const float *P, int ldp, int R, int n, const float *V, int hdv, float *acc, int lda);
	/* max of s[0..n), n >= 1 */
	float (*row_max)(const float *s, int n);
	/* s[j] = 2^(s[j] - m) for j < n (s[j] <= m: results in [0, 1]); returns their sum */
	float (*exp2_sum)(float *s, int n, float m);
	/* one q4 block, as lr_kv_quant_q4 (engine/kv.h), bit for bit */
	void (*quant_q4)(const float *x, uint16_t *d, uint8_t *code);

	/* Values of q8/q4 caches as bfloat16 pairs (NULL where unavailable: then v_tile
	 * and pv).  v_pairs writes the codes of n value rows, which are small integers
	 * and exact in bf16, as vt[i][e][k] = code of row 2i + k, dimension e (an odd n
	 * gets a zero row), and their scales as dv[b * ld_dv + j] for block b, row j
	 * (ld_dv = n rounded up to even).  pv_pairs then adds to acc[r][e] the sum over
	 * j < n of bf16(P[r][j] * dv[e / 32][j]) * code(j, e), one pair of rows at a time
	 * with vdpbf16ps semantics (the odd row's product first; products exact; bf16
	 * subnormals read as zero).  pb: scratch of (hdv / 32) * ld_dv bf16 per row of a
	 * register block (LR_ATTN_PB_BYTES covers any tile). */
	void (*v_pairs[LR_KV_TYPE_COUNT])(const uint8_t *rows, uint64_t row_bytes, int n, int hdv, uint16_t *vt,
	                                  float *dv);
	void (*pv_pairs)(const float *P, int ldp, int R, int n, const uint16_t *vt, const float *dv, int hdv,
	                 float *acc, int lda, uint16_t *pb);
};

/* scratch pv_pairs needs, for hdv <= 1024 and n <= LR_ATTN_TILE */
#define LR_ATTN_PB_BYTES (8 * 32 * LR_ATTN_TILE * 2)

/* The set with this name ("scalar", "avx2", "avx512"), or NULL if this build or CPU
 * cannot run it. */
const struct lr_attn_kernels *lr_attn_kernels_get(const char *name);

extern const struct lr_attn_kernels lr_attn_kernels_scalar;

/* 2^x for x <= 127 as the kernels compute it (Cody-Waite split, degree-6 polynomial,
 * relative error < 3e-7; x < -126 gives 2^-126 times the polynomial, never a
 * subnormal).  The scalar twin of the SIMD exp2, exposed for tests. */
float lr_attn_exp2(float x);

#endif
