/* tests/test_kernels.c — every SIMD kernel against the scalar reference
 * (engine/kernels/ref.c), on random rows of every weight type, odd token counts, short
 * and long rows, and extreme values; and activation quantization bit for bit.
 *
 * Tolerances (named below): the integer parts are exact in both, so kernels differ
 * only in float summation order: relative to the sum of |terms| the difference is a
 * few float32 ulps per block. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels/kernels.h"
#include "engine/quant.h"
#include "engine/types.h"
#include "tests/tap.h"

/* |simd - ref| <= TOL_REL * sum_i |w_i x_i| (+ a tiny absolute floor) */
#define TOL_REL 2e-6
#define TOL_ABS 1e-30

static const uint32_t types[] = {
	LR_TYPE_F32, LR_TYPE_F16, LR_TYPE_BF16, LR_TYPE_Q8_0, LR_TYPE_Q4_0, LR_TYPE_Q4_1,
	LR_TYPE_Q5_0, LR_TYPE_Q5_1, LR_TYPE_Q4_K, LR_TYPE_Q5_K, LR_TYPE_Q6_K, LR_TYPE_Q2_K,
	LR_TYPE_Q3_K, LR_TYPE_IQ4_NL, LR_TYPE_IQ4_XS,
};

struct acts {
	struct lr_q8act q[40];   /* n_tok <= 40 */
	int8_t *qs;
	float *d;
	int16_t *s16;
	float *f;          /* [n_tok][n] */
};

static void acts_make(struct acts *a, int64_t n, int n_tok, float scale, int outliers, int B)
{
	a->qs = aligned_alloc(64, (size_t)((n * n_tok + 127) / 64 * 64));   /* size a multiple of 64 */
	a->d = malloc(sizeof(float) * (size_t)(n / 32 * n_tok));
	a->s16 = malloc(sizeof(int16_t) * (size_t)(n / 16 * n_tok));
	a->f = malloc(sizeof(float) * (size_t)(n * n_tok));
	for (int t = 0; t < n_tok; t++) {
		for (int64_t i = 0; i < n; i++) {
			float v = tap_frand() * scale;
			if (outliers && i % 97 == 5)
				v *= 50;
			a->f[t * n + i] = v;
		}
		a->q[t] = (struct lr_q8act){ a->qs + t * n, a->d + t * (n / 32), a->s16 + t * (n / 16) };
		if (B)
			lr_quantize_act(a->f + t * n, n, B, &a->q[t]);
	}
}

static void acts_free(struct acts *a)
{
	free(a->qs);
	free(a->d);
	free(a->s16);
	free(a->f);
}

/* sum |w_i x_i| with dequantized weights and activations, for the tolerance */
static double magnitude(uint32_t type, const void *w, int64_t n, const float *x)
{
	float *row = malloc(sizeof(float) * (size_t)n);
	double s = 0;

	lr_dequant_row(type, w, row, n);
	for (int64_t i = 0; i < n; i++)
		s += fabs((double)row[i] * x[i]);
	free(row);
	return s;
}

static void test_set(const struct lr_kernels *k)
{
	static const int64_t lengths[] = { 256, 512, 2048, 4864 };

	/* the reference and the fast set must agree on the activation format */
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
		tap_is_int(k->uses_q8[types[ti]], lr_kernels_scalar.uses_q8[types[ti]],
		           "%s %s: same activation format as the reference", k->name, lr_type_name(types[ti]));

	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		uint32_t type = types[ti];
		const struct lr_type_info *info = lr_type_info(type);
		double worst = 0;
		int bad = 0, cases = 0;

		for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
			for (int variant = 0; variant < 3; variant++) {
				int64_t n = lengths[li];
				float scale = variant == 2 ? 3e4f : 1.0f;
				struct acts a;
				float *wf = malloc(sizeof(float) * (size_t)n);
				uint8_t *w = malloc((size_t)(n / info->block_size * info->type_size) + 64);
				float ref[9], got[9];

				/* float types: odd lengths too (the SIMD tail) */
				if (!k->uses_q8[type] && variant == 1)
					n -= 3;
				for (int64_t i = 0; i < n; i++)
					wf[i] = tap_frand() * (variant == 2 ? 100.0f : 0.1f) * (i % 61 == 0 ? 20.0f : 1.0f);
				lr_quant_row(type, wf, w, n);
				acts_make(&a, lengths[li], 9, scale, variant == 1, k->uses_q8[type]);
				/* 9 tokens: a group of four, and remainders */
				lr_kernels_scalar.dot[type](n, w, 9, a.q, a.f, lengths[li], ref, 1);
				k->dot[type](n, w, 9, a.q, a.f, lengths[li], got, 1);
				for (int t = 0; t < 9; t++) {
					/* float kernels see the float activations, quantized ones the codes */
					double mag;
					if (k->uses_q8[type]) {
						float *xq = malloc(sizeof(float) * (size_t)n);
						for (int64_t i = 0; i < n; i++)
							xq[i] = a.q[t].qs[i] * a.q[t].d[i / k->uses_q8[type]];
						mag = magnitude(type, w, n, xq);
						free(xq);
					} else {
						mag = magnitude(type, w, n, a.f + t * lengths[li]);
					}
					double diff = fabs((double)got[t] - ref[t]);
					double rel = diff / (mag + TOL_ABS);
					if (rel > worst)
						worst = rel;
					if (!(diff <= TOL_REL * mag + TOL_ABS) || !isfinite(got[t]))
						bad++;
					cases++;
				}
				acts_free(&a);
				free(wf);
				free(w);
			}
		}
		tap_ok(bad == 0, "%s %s: %d dots match the reference (worst %.2g of sum|terms|, tolerance %.0g)",
		       k->name, info->name, cases, worst, TOL_REL);
	}
}

/* R random rows of n values quantized to type (row_bytes apart; the caller frees); every
 * 61st value 20 times larger, and with shift every third row moved by +0.05 (so types
 * with a minimum meet rows that are not centred). */
static uint8_t *rows_make(uint32_t type, int64_t n, int R, int shift, uint64_t *row_bytes)
{
	const struct lr_type_info *info = lr_type_info(type);
	float *wf = malloc(sizeof(float) * (size_t)n);
	uint8_t *w;

	*row_bytes = (uint64_t)(n / info->block_size) * info->type_size;
	w = malloc(*row_bytes * R + 64);
	for (int r = 0; r < R; r++) {
		for (int64_t i = 0; i < n; i++)
			wf[i] = tap_frand() * 0.1f * (i % 61 == 0 ? 20.0f : 1.0f) + (shift && r % 3 == 1 ? 0.05f : 0.0f);
		lr_quant_row(type, wf, w + r * *row_bytes, n);
	}
	free(wf);
	return w;
}

/* The multi-row kernels: 5 rows (a pair and a remainder for kernels that pair rows) of
 * 9 tokens each give bit for bit what the one-row dot gives, and so does each token
 * alone (decode has its own path for some types: it must not change a result, or a
 * cached key would depend on how the prompt was batched).  Lengths include an odd
 * number of 32-blocks, the tail of the paired legacy steps. */
static void test_rows(const struct lr_kernels *k)
{
	enum { R = 5, NT = 9 };
	static const int64_t lengths[] = { 2048, 2080, 4864 };

	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		uint32_t type = types[ti];
		const struct lr_type_info *info = lr_type_info(type);
		int same_dot = 1, same_alone = 1, tested = 0;

		if (!k->rows[type] || !k->uses_q8[type])
			continue;
		for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
			int64_t n = lengths[li];
			if (n % info->block_size || n % k->uses_q8[type])
				continue;
			uint64_t row_bytes;
			uint8_t *w = rows_make(type, n, R, 0, &row_bytes);
			float batch[NT * R], one[R], dot[NT];
			struct acts a;

			acts_make(&a, n, NT, 1.0f, 1, k->uses_q8[type]);
			k->rows[type](n, w, row_bytes, R, NT, a.q, a.f, n, batch, R);
			for (int r = 0; r < R; r++) {
				k->dot[type](n, w + r * row_bytes, NT, a.q, a.f, n, dot, 1);
				for (int t = 0; t < NT; t++)
					same_dot &= memcmp(&dot[t], &batch[t * R + r], sizeof(float)) == 0;
			}
			for (int t = 0; t < NT; t++) {
				k->rows[type](n, w, row_bytes, R, 1, &a.q[t], a.f + t * n, n, one, 1);
				same_alone &= memcmp(one, &batch[t * R], sizeof one) == 0;
			}
			tested++;
			acts_free(&a);
			free(w);
		}
		tap_ok(tested > 0 && same_dot, "%s %s: %d rows of %d tokens: bit-identical to the one-row dot",
		       k->name, info->name, R, NT);
		tap_ok(tested > 0 && same_alone, "%s %s: each token alone (decode) gives the batch's results bit for bit",
		       k->name, info->name);
	}
}

/* The gemm kernels (prefill with repacked weights): 37 rows (avx512: two full panels of
 * 16 and a remainder; avx2: four panels of 8, then 2 + 2 + 1 rows) of 37 tokens (avx512:
 * two AMX tiles of 16 where the CPU has AMX, then VNNI tiles of 4 and 1, else VNNI tiles
 * of 8, 4 and 1; avx2: steps of 4, then 1) and of 7 tokens (avx2: 4, 2 and 1) give bit for
 * bit what the one-row dot gives for each row and token.  Lengths include an odd number
 * of blocks and fewer than 16. */
#if defined(__x86_64__)
int lr_avx512_amx(void);
#endif
static void test_gemm(const struct lr_kernels *k)
{
	enum { R = 37, NT_MAX = 37 };
	static const int64_t lengths[] = { 2048, 2080, 4864, 288 };
	static const int tokens[] = { NT_MAX, 7 };

#if defined(__x86_64__)
	if (strcmp(k->name, "avx512") == 0)
		tap_diag("avx512 gemm: AMX %s", lr_avx512_amx() ? "in use for tiles of 16 tokens" : "not available");
#endif
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		uint32_t type = types[ti];
		const struct lr_type_info *info = lr_type_info(type);
		int same = 1, tested = 0;

		if (!k->gemm[type])
			continue;
		for (size_t c = 0; c < sizeof lengths / sizeof lengths[0] * 2; c++) {
			int64_t n = lengths[c / 2];
			int NT = tokens[c % 2];
			if (n % info->block_size || n % k->uses_q8[type])
				continue;
			uint64_t row_bytes;
			uint8_t *w = rows_make(type, n, R, 1, &row_bytes);
			float *batch = malloc(sizeof(float) * NT * (R + 3)), dot[NT_MAX];
			void *scratch = malloc(k->gemm_scratch(n, NT));
			struct acts a;

			acts_make(&a, n, NT, 1.0f, 1, k->uses_q8[type]);
			for (int i = 0; i < NT * (R + 3); i++)
				batch[i] = -1.0f;
			k->gemm[type](n, w, row_bytes, R, NT, a.q, batch, R + 3, scratch);
			for (int r = 0; r < R; r++) {
				k->dot[type](n, w + r * row_bytes, NT, a.q, a.f, n, dot, 1);
				for (int t = 0; t < NT; t++)
					same &= memcmp(&dot[t], &batch[t * (R + 3) + r], sizeof(float)) == 0;
			}
			for (int t = 0; t < NT; t++)   /* nothing written past the rows */
				for (int r = R; r < R + 3; r++)
					same &= batch[t * (R + 3) + r] == -1.0f;
			tested++;
			acts_free(&a);
			free(scratch);
			free(batch);
			free(w);
		}
		tap_ok(tested > 0 && same, "%s %s: gemm of %d rows x %d and %d tokens: bit-identical to the one-row dot",
		       k->name, info->name, R, tokens[0], tokens[1]);
	}
}

static void test_quantize(const struct lr_kernels *k)
{
	const int64_t n = 4096;
	float *x = malloc(sizeof(float) * n);
	int8_t *q1 = aligned_alloc(64, n), *q2 = aligned_alloc(64, n);
	float d1[128], d2[128];
	int16_t s1[256], s2[256];
	struct lr_q8act a1 = { q1, d1, s1 }, a2 = { q2, d2, s2 };

	for (int B = 32; B <= 256; B *= 8) {
		int same = 1;
		for (int round = 0; round < 4; round++) {
			for (int64_t i = 0; i < n; i++) {
				x[i] = tap_frand() * (round == 3 ? 1e30f : 1.0f);
				if (round == 1 && i % 32 < 31)
					x[i] = 0;                     /* nearly empty blocks */
				if (round == 2)
					x[i] = (float)((i % 255) - 127) / 254.0f; /* exact halves after scaling */
			}
			if (round == 2)
				memset(x, 0, 256 * sizeof(float));  /* an all-zero block */
			memset(d1, 0, sizeof d1);
			memset(d2, 0, sizeof d2);
			lr_quantize_act(x, n, B, &a1);
			k->quantize_act(x, n, B, &a2);
			same &= memcmp(q1, q2, n) == 0 && memcmp(d1, d2, sizeof d1) == 0 && memcmp(s1, s2, sizeof s1) == 0;
		}
		tap_ok(same, "%s: activation quantization in blocks of %d is bit-identical to the reference",
		       k->name, B);
	}
	free(x);
	free(q1);
	free(q2);
}

int main(void)
{
	const char *names[] = { "avx2", "avx512" };
	int n_sets = 0;

	tap_seed(88172645463325252ull);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct lr_kernels *k = lr_kernels_get(names[i]);
		if (!k) {
			tap_diag("%s kernels: not available on this CPU", names[i]);
			continue;
		}
		n_sets++;
		test_quantize(k);
		test_set(k);
		test_rows(k);
		test_gemm(k);
	}
	tap_ok(lr_kernels_best() != NULL, "a best kernel set is chosen (%s)", lr_kernels_best()->name);
	if (!n_sets)
		tap_diag("only the scalar kernels run here");
	return tap_done();
}
