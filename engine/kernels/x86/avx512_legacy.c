/* engine/kernels/x86/avx512_legacy.c — the legacy types (q4_0, q4_1, q5_0, q5_1, q8_0,
 * iq4_nl: blocks of 32 values with one scale) for AVX-512 VNNI: decode row by row, and
 * prefill as a register-blocked GEMM over a repacked panel of 16 rows.
 *
 * One arithmetic for both, so that a result never depends on how tokens were batched
 * (a cached key must not), for a row of nb blocks and one token:
 *   s_b = sum over block b of c * a             exact, in int32 (c the weight's signed
 *                                               code, a the activation's)
 *   acc[b % 16] = fma(float(s_b), dw_b * da_b, acc[b % 16])          b = 0, 1, ... nb-1
 *   q4_1, q5_1: then acc[b % 16] = fma(float(t_b), m_b * da_b, acc[b % 16]), t_b = sum a
 *   y = tree16(acc): ((a0 + a8) + (a4 + a12)) + ((a2 + a10) + (a6 + a14)) + (the odd
 *       lanes likewise), the halving tree below.
 * Weight codes enter vpdpbusd unsigned, u = c + off (off 8 for q4_0, 16 for q5_0, 128
 * for q8_0 and iq4_nl, 0 for q4_1 and q5_1), activation codes signed, and the offset
 * leaves exactly as -off * t_b.  Ranges: |s_b| <= 32 * 255 * 128 < 2^21.
 *
 * Decode: one row at a time; the dots of 16 blocks (8 steps of 64 values) are reduced
 * to 16 block sums with 7 two-source permutes, so one 16-lane float vector is acc.
 * Prefill (gemm): 16 rows are unpacked once into a panel, each 4-code group of the 16
 * rows side by side in 64 bytes, with their scales as 16 floats; a token's 4 activation
 * codes, broadcast, meet all 16 rows in one vpdpbusd.  An int32 lane then holds one
 * row's block sum with no horizontal work, and the float work is one convert and one
 * fma a block for 16 rows (decode and the former prefill: per 64 values and row).  The
 * panel is packed once for all of the call's tokens (llama.cpp repacks q4_0 at load
 * instead; packing per call costs no memory and no load time, and under 5% here). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,amx-tile,amx-int8")
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/fp16.h"
#include "engine/kernels/x86/avx512.h"
#include "engine/quant.h"

enum legacy { L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_Q8_0, L_IQ4_NL };

INLINE int code_off(const int kind)
{
	return kind == L_Q4_0 ? 8 : kind == L_Q5_0 ? 16 : kind == L_Q8_0 || kind == L_IQ4_NL ? 128 : 0;
}

INLINE int has_min(const int kind) { return kind == L_Q4_1 || kind == L_Q5_1; }

INLINE int block_bytes(const int kind)
{
	switch (kind) {
	case L_Q4_0: return sizeof(block_q4_0);
	case L_Q4_1: return sizeof(block_q4_1);
	case L_Q5_0: return sizeof(block_q5_0);
	case L_Q5_1: return sizeof(block_q5_1);
	case L_Q8_0: return sizeof(block_q8_0);
	default: return sizeof(block_iq4_nl);
	}
}

/* 64 codes of blocks b0, b1 (q4 layout): [lo(b0) hi(b0) lo(b1) hi(b1)] = element order */
INLINE __m512i nib_pair(const uint8_t *qs0, const uint8_t *qs1)
{
	__m256i x = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)qs1), _mm_loadu_si128((const __m128i *)qs0));
	__m256i m = _mm256_set1_epi8(0x0f);
	__m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(x, m)),
	                               _mm256_and_si256(_mm256_srli_epi16(x, 4), m), 1);

	return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
}

/* bit 4 of each code from the two blocks' qh words */
INLINE __m512i q5_high(const uint8_t *qh0, const uint8_t *qh1)
{
	uint32_t h0, h1;

	memcpy(&h0, qh0, 4);
	memcpy(&h1, qh1, 4);
	return _mm512_maskz_set1_epi8((__mmask64)h0 | ((__mmask64)h1 << 32), 0x10);
}

/* The unsigned codes u = c + off of blocks i and i + 1 (pair), or of block i alone (the
 * upper 32 bytes then repeat it and the caller ignores them). */
INLINE __m512i codes_u(const uint8_t *row, int64_t i, int pair, const int kind)
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);

	switch (kind) {
	case L_Q4_0: case L_IQ4_NL: {   /* same layout: d, 16 bytes of nibbles */
		const block_q4_0 *b = (const block_q4_0 *)row + i;
		__m512i q = nib_pair(b[0].qs, pair ? b[1].qs : b[0].qs);
		if (kind == L_Q4_0)
			return q;
		__m512i levels = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)lr_iq4nl_values));
		return _mm512_xor_si512(_mm512_shuffle_epi8(levels, q), flip);
	}
	case L_Q4_1: {
		const block_q4_1 *b = (const block_q4_1 *)row + i;
		return nib_pair(b[0].qs, pair ? b[1].qs : b[0].qs);
	}
	case L_Q5_0: {
		const block_q5_0 *b = (const block_q5_0 *)row + i;
		const block_q5_0 *b1 = pair ? &b[1] : &b[0];
		return _mm512_or_si512(nib_pair(b[0].qs, b1->qs), q5_high(b[0].qh, b1->qh));
	}
	case L_Q5_1: {
		const block_q5_1 *b = (const block_q5_1 *)row + i;
		const block_q5_1 *b1 = pair ? &b[1] : &b[0];
		return _mm512_or_si512(nib_pair(b[0].qs, b1->qs), q5_high(b[0].qh, b1->qh));
	}
	default: {
		const block_q8_0 *b = (const block_q8_0 *)row + i;
		__m256i lo = _mm256_loadu_si256((const __m256i *)b[0].qs);
		__m256i hi = pair ? _mm256_loadu_si256((const __m256i *)b[1].qs) : lo;
		return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), flip);
	}
	}
}

/* The float16 at byte offset off of blocks i .. i + 15 (those in live) as 16 floats */
INLINE __m512 block_halves(const uint8_t *row, int64_t i, __mmask16 live, int off, const int kind)
{
	const int bb = block_bytes(kind);
	const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
	                                       _mm512_set1_epi32(bb));
	__m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, idx, row + (int64_t)bb * i + off, 1);

	return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

/* ------------------------------------------------------------------ decode */

/* Pairs of adjacent int32 lanes of x then of y, summed: [x0+x1, x2+x3, ..., y14+y15] */
INLINE __m512i pair_sums(__m512i x, __m512i y)
{
	const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
	const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

	return _mm512_add_epi32(_mm512_permutex2var_epi32(x, ev, y), _mm512_permutex2var_epi32(x, od, y));
}

/* v[p] holds the 4-code group dots of blocks 2p (lanes 0-7) and 2p + 1 (8-15); lane l of
 * the result is block l's sum.  Three rounds of pair sums, exact. */
INLINE __m512i block_sums(const __m512i v[8])
{
	__m512i x0 = pair_sums(v[0], v[1]), x1 = pair_sums(v[2], v[3]);
	__m512i x2 = pair_sums(v[4], v[5]), x3 = pair_sums(v[6], v[7]);

	return pair_sums(pair_sums(x0, x1), pair_sums(x2, x3));
}

/* One row, one token: y as defined at the top. */
INLINE float row_decode(const uint8_t *row, int64_t nb, const struct lr_q8act *aq, const int kind)
{
	const int off = code_off(kind), sh = off == 8 ? 3 : off == 16 ? 4 : 7;
	const __m512i ones16 = _mm512_set1_epi16(1);
	__m512 acc = _mm512_setzero_ps();

	for (int64_t b0 = 0; b0 < nb; b0 += 16) {
		const int64_t left = nb - b0;
		const __mmask16 live = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
		const int8_t *qs = aq->qs + 32 * b0;
		__m512i v[8];

		prefetch_ahead(row + block_bytes(kind) * b0, 16 * block_bytes(kind));
		if (left >= 16) {
#pragma GCC unroll 8
			for (int p = 0; p < 8; p++)
				v[p] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes_u(row, b0 + 2 * p, 1, kind),
				                           _mm512_loadu_si512((const void *)(qs + 64 * p)));
		} else {
			for (int p = 0; p < 8; p++) {
				int64_t i = b0 + 2 * p;
				if (i + 2 <= nb)
					v[p] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes_u(row, i, 1, kind),
					                           _mm512_loadu_si512((const void *)(qs + 64 * p)));
				else if (i < nb)
					v[p] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes_u(row, i, 0, kind),
					                           _mm512_maskz_loadu_epi8(0xffffffffu, qs + 64 * p));
				else
					v[p] = _mm512_setzero_si512();
			}
		}
		/* t_b = sum of block b's activation codes, from the sums of each 16 */
		__m512i t = _mm512_madd_epi16(_mm512_maskz_loadu_epi32(live, aq->s16 + 2 * b0), ones16);
		__m512i s = block_sums(v);
		__m512 da = _mm512_maskz_loadu_ps(live, aq->d + b0);
		if (off)
			s = _mm512_sub_epi32(s, _mm512_slli_epi32(t, sh));
		acc = _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(block_halves(row, b0, live, 0, kind), da),
		                            acc, live);
		if (has_min(kind))
			acc = _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(t),
			                            _mm512_mul_ps(block_halves(row, b0, live, 2, kind), da), acc, live);
	}
	return tree16(acc);
}

INLINE void legacy_rows(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                        const struct lr_q8act *aq, float *out, int64_t stride, const int kind)
{
	for (int t = 0; t < n_tok; t++)
		for (int r = 0; r < n_rows; r++)
			out[t * stride + r] = row_decode(w + (uint64_t)r * row_bytes, n / 32, &aq[t], kind);
}

/* ------------------------------------------------------------------ prefill */

#define PANEL_ROWS 16
#define GEMM_NT 8      /* tokens per pass over a panel */

/* A panel block: the 8 groups of 4 codes of 16 rows (group-major), then the 16 rows'
 * scales as floats, then (q4_1, q5_1) their minimums. */
INLINE int64_t panel_block_bytes(const int kind) { return 512 + 64 + (has_min(kind) ? 64 : 0); }

/* Rows [0, nr) of w into the panel; rows nr..15 are zero.  SIGNED: the codes c = u - off
 * (every legacy code fits int8), for AMX's signed dot; else u.  Two blocks of 16 rows at
 * a time: one 16 x 16 dword transpose of their codes (16 scalar copies a row and block
 * before: 10-20% of a Q8_0 prefill). */
INLINE void pack_panel(const uint8_t *w, uint64_t row_bytes, int nr, int64_t nb, uint8_t *pan, const int SIGNED,
                       const int kind)
{
	const int64_t pb = panel_block_bytes(kind);
	const int bb = block_bytes(kind);

	for (int64_t i = 0; i < nb; i += 2) {
		const int pair = i + 2 <= nb;
		uint8_t *blk = pan + i * pb;
		__m512i g[16];
		for (int r = 0; r < PANEL_ROWS; r++) {
			const uint8_t *row = w + (uint64_t)r * row_bytes;
			float *dv = (float *)(blk + 512), *mv = (float *)(blk + 576);
			if (r >= nr) {
				g[r] = _mm512_setzero_si512();
				for (int h = 0; h < 1 + pair; h++) {
					((float *)((uint8_t *)dv + h * pb))[r] = 0;
					if (has_min(kind))
						((float *)((uint8_t *)mv + h * pb))[r] = 0;
				}
				continue;
			}
			g[r] = codes_u(row, i, pair, kind);
			if (SIGNED)
				g[r] = _mm512_sub_epi8(g[r], _mm512_set1_epi8((char)code_off(kind)));
			for (int h = 0; h < 1 + pair; h++) {
				uint16_t d, m;
				memcpy(&d, row + (i + h) * bb, 2);
				memcpy(&m, row + (i + h) * bb + 2, 2);
				((float *)((uint8_t *)dv + h * pb))[r] = f16(d);
				if (has_min(kind))
					((float *)((uint8_t *)mv + h * pb))[r] = f16(m);
			}
		}
		transpose16_epi32(g);   /* g[k]: dword k of every row = block i + k / 8, group k % 8 */
		for (int k = 0; k < 8; k++)
			_mm512_store_si512((void *)(blk + 64 * k), g[k]);
		if (pair)
			for (int k = 0; k < 8; k++)
				_mm512_store_si512((void *)(blk + pb + 64 * k), g[8 + k]);
	}
}

/* NT tokens over the panel: out[t * stride + r] for r < nr.  toff[t][b] = -off * t_b
 * (the int32 start of the block's dot) and, for q4_1 and q5_1, tf[t][b] = t_b, rows of
 * nb; acc[b % 16] lives in res[t][b % 16] between the residues' passes. */
INLINE void panel_tile(const uint8_t *pan, int64_t nb, const struct lr_q8act *aq, int nr, float *out,
                       int64_t stride, const int32_t *toff, const float *tf, __m512 *res, const int NT,
                       const int kind)
{
	const int64_t pb = panel_block_bytes(kind);

	for (int l = 0; l < 16; l++) {
		__m512 acc[GEMM_NT];
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
			acc[t] = _mm512_setzero_ps();
		for (int64_t b = l; b < nb; b += 16) {
			const uint8_t *pk = pan + b * pb;
			__m512i c[8];
#pragma GCC unroll 8
			for (int k = 0; k < 8; k++)
				c[k] = _mm512_load_si512((const void *)(pk + 64 * k));
			const __m512 dw = _mm512_load_ps((const float *)(pk + 512));
#pragma GCC unroll 8
			for (int t = 0; t < NT; t++) {
				const i32_un *a = (const i32_un *)(aq[t].qs + 32 * b);
				__m512i s = _mm512_set1_epi32(toff[t * nb + b]);
#pragma GCC unroll 8
				for (int k = 0; k < 8; k++)
					s = _mm512_dpbusd_epi32(s, c[k], _mm512_set1_epi32(a[k]));
				const __m512 da = _mm512_set1_ps(aq[t].d[b]);
				acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, da), acc[t]);
				if (has_min(kind))
					acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(tf[t * nb + b]),
					                         _mm512_mul_ps(_mm512_load_ps((const float *)(pk + 576)), da), acc[t]);
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < NT; t++)
			res[16 * t + l] = acc[t];
	}
	tree16_store(res, NT, nr, out, stride);
}

/* ------------------------------------------------------------------ prefill with AMX */

/* Where the CPU has AMX (Intel Xeon since Sapphire Rapids) and Linux grants its tile
 * state (arch_prctl ARCH_REQ_XCOMP_PERM), one TDPBSSD makes the block sums of 16 tokens
 * x 16 rows (8,192 products; the panel's 512 code bytes are exactly its second operand,
 * 8 rows of 16 rows' 4-code groups, so the panel is packed with signed codes), and the
 * same float epilogue as above turns them into acc.  The int32 sums are exact, so the
 * results are those of the VNNI path and of decode, bit for bit.  LONGREAD_AMX=0 turns
 * it off (to compare). */
static int amx_ok;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_probe(void)
{
	unsigned a, b, c, d;
	const char *env = getenv("LONGREAD_AMX");

	if (env && strcmp(env, "0") == 0)
		return;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25)))
		return;   /* AMX-TILE, AMX-INT8 */
	amx_ok = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}

int lr_avx512_amx(void)
{
	pthread_once(&amx_once, amx_probe);
	return amx_ok;
}

struct tilecfg {
	uint8_t palette, start_row, reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
};

/* tmm0, tmm1: sums (16 tokens x 16 rows of int32); tmm2, tmm3: 16 tokens' 32 activation
 * codes of a block; tmm4, tmm5: the panel's block (8 groups x 16 rows x 4 codes) */
void lr_avx512_amx_config(void)
{
	struct tilecfg cfg;

	memset(&cfg, 0, sizeof cfg);
	cfg.palette = 1;
	for (int i = 0; i < 2; i++) {
		cfg.rows[i] = 16; cfg.colsb[i] = 64;
		cfg.rows[2 + i] = 16; cfg.colsb[2 + i] = 32;
		cfg.rows[4 + i] = 8; cfg.colsb[4 + i] = 64;
	}
	/* not _tile_loadconfig: GCC 12's names only 8 bytes of the config as read, so the
	 * stores to the rest may be dropped as dead */
	__asm__ volatile("ldtilecfg %0" :: "m"(cfg));
}

/* 16 tokens (activation codes astride bytes apart) over a panel of signed codes, 16
 * blocks at a time: their sums (sums: [16 blocks][16 tokens][16 rows] int32, 16 KB, two
 * blocks in flight: tmm0/tmm1 the sums, tmm2/tmm3 the activations, tmm4/tmm5 the
 * weights), then the float epilogue into res[16 t + b % 16].  The 16 blocks' sums stay
 * in L1: stored to a buffer as large as the row (L2), one block took 21 ns here, 9 ns
 * into 16 KB. */
INLINE void amx_tile(const uint8_t *pan, int64_t nb, const struct lr_q8act *aq, int64_t astride, int nr,
                     float *out, int64_t stride, const float *tf, __m512 *res, int32_t *sums, const int kind)
{
	const int64_t pb = panel_block_bytes(kind);

	for (int t = 0; t < 16; t++)   /* residues no block reaches (rows of under 16 blocks) */
		for (int64_t j = nb; j < 16; j++)
			res[16 * t + j] = _mm512_setzero_ps();
	for (int64_t b0 = 0; b0 < nb; b0 += 16) {
		const int nbk = nb - b0 < 16 ? (int)(nb - b0) : 16;
		const int8_t *a0 = aq[0].qs + 32 * b0;
		const uint8_t *p0 = pan + b0 * pb;
		int j = 0;
		for (; j + 2 <= nbk; j += 2) {
			_tile_loadd(2, a0 + 32 * j, astride);
			_tile_loadd(4, p0 + j * pb, 64);
			_tile_zero(0);
			_tile_loadd(3, a0 + 32 * (j + 1), astride);
			_tile_loadd(5, p0 + (j + 1) * pb, 64);
			_tile_zero(1);
			_tile_dpbssd(0, 2, 4);
			_tile_dpbssd(1, 3, 5);
			_tile_stored(0, sums + 256 * j, 64);
			_tile_stored(1, sums + 256 * (j + 1), 64);
		}
		if (j < nbk) {
			_tile_loadd(2, a0 + 32 * j, astride);
			_tile_loadd(4, p0 + j * pb, 64);
			_tile_zero(0);
			_tile_dpbssd(0, 2, 4);
			_tile_stored(0, sums + 256 * j, 64);
		}
		for (j = 0; j < nbk; j++) {   /* block b0 + j, residue j */
			const int64_t b = b0 + j;
			const uint8_t *pk = p0 + j * pb;
			const int32_t *cs = sums + 256 * j;
			const __m512 dw = _mm512_load_ps((const float *)(pk + 512));
#pragma GCC unroll 16
			for (int t = 0; t < 16; t++) {
				const __m512 da = _mm512_set1_ps(aq[t].d[b]);
				__m512 acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512((const void *)(cs + 16 * t))),
				                             _mm512_mul_ps(dw, da), b0 ? res[16 * t + j] : _mm512_setzero_ps());
				if (has_min(kind))
					acc = _mm512_fmadd_ps(_mm512_set1_ps(tf[t * nb + b]),
					                      _mm512_mul_ps(_mm512_load_ps((const float *)(pk + 576)), da), acc);
				res[16 * t + j] = acc;
			}
		}
	}
	tree16_store(res, 16, nr, out, stride);
}

/* The token count AMX takes (a multiple of 16), or 0: it needs the tokens' activation
 * codes at one stride, as the forward pass lays them out. */
int lr_avx512_amx_tokens(const struct lr_q8act *aq, int n_tok)
{
	if (n_tok < 16 || !lr_avx512_amx())
		return 0;
	int64_t st = aq[1].qs - aq[0].qs;
	for (int t = 2; t < n_tok; t++)
		if (aq[t].qs - aq[t - 1].qs != st)
			return 0;
	return n_tok / 16 * 16;
}

/* Scratch: the panel, res (16 tokens), the AMX sums, toff and tf for every token. */
size_t lr_avx512_legacy_scratch(int64_t n, int n_tok)
{
	return (size_t)(n / 32) * (640 + 8 * (size_t)n_tok) + sizeof(__m512) * 16 * 16 + 16384 + 64;
}

INLINE void legacy_gemm(int64_t n, const uint8_t *w, uint64_t row_bytes, int n_rows, int n_tok,
                        const struct lr_q8act *aq, float *out, int64_t stride, void *scratch, const int kind)
{
	const int64_t nb = n / 32;
	const int off = code_off(kind);
	uint8_t *pan = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
	__m512 *res = (__m512 *)(pan + nb * panel_block_bytes(kind));
	int32_t *sums = (int32_t *)(res + 16 * 16);
	int32_t *toff = sums + 256 * 16;
	float *tf = (float *)(toff + nb * n_tok);
	const int n_amx = lr_avx512_amx_tokens(aq, n_tok);

	for (int t = 0; t < n_tok; t++)   /* toff for the VNNI tiles only: AMX starts from 0 */
		for (int64_t b = 0; b < nb; b++) {
			int sum = aq[t].s16[2 * b] + aq[t].s16[2 * b + 1];
			if (t >= n_amx)
				toff[t * nb + b] = -off * sum;
			if (has_min(kind))
				tf[t * nb + b] = (float)sum;
		}
	if (n_amx)
		lr_avx512_amx_config();
	for (int r0 = 0; r0 < n_rows; r0 += PANEL_ROWS) {
		int nr = n_rows - r0 < PANEL_ROWS ? n_rows - r0 : PANEL_ROWS;
		pack_panel(w + (uint64_t)r0 * row_bytes, row_bytes, nr, nb, pan, n_amx > 0, kind);
		int t = 0;
		if (n_amx) {
			__asm__ volatile("" ::: "memory");   /* the panel is written before the tile loads */
			for (; t < n_amx; t += 16)
				amx_tile(pan, nb, aq + t, aq[1].qs - aq[0].qs, nr, out + t * stride + r0, stride, tf + t * nb,
				         res, sums, kind);
			if (t < n_tok)   /* the rest by VNNI, which wants the unsigned codes */
				pack_panel(w + (uint64_t)r0 * row_bytes, row_bytes, nr, nb, pan, 0, kind);
		}
		for (; t + 8 <= n_tok; t += 8)
			panel_tile(pan, nb, aq + t, nr, out + t * stride + r0, stride, toff + t * nb, tf + t * nb, res, 8, kind);
		for (; t + 4 <= n_tok; t += 4)
			panel_tile(pan, nb, aq + t, nr, out + t * stride + r0, stride, toff + t * nb, tf + t * nb, res, 4, kind);
		for (; t < n_tok; t++)
			panel_tile(pan, nb, aq + t, nr, out + t * stride + r0, stride, toff + t * nb, tf + t * nb, res, 1, kind);
	}
	if (n_amx)
		_tile_release();
}

#define LEGACY(name, KIND) LR_AVX512_QUANT_DEFS(name, legacy_rows, legacy_gemm, KIND)
LEGACY(q4_0, L_Q4_0)
LEGACY(q4_1, L_Q4_1)
LEGACY(q5_0, L_Q5_0)
LEGACY(q5_1, L_Q5_1)
LEGACY(q8_0, L_Q8_0)
LEGACY(iq4_nl, L_IQ4_NL)

#endif
