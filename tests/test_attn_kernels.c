/* tests/test_attn_kernels.c — every SIMD attention kernel (engine/kernels/x86/attn_*.c)
 * against its scalar twin (engine/kernels/attn_ref.c), on random key panels and value
 * rows of every cache type, row counts and panel counts that leave every remainder
 * path, head dimensions that are not multiples of 16 (f32, f16), and extreme values;
 * and the shared exp2 against the exact function.
 *
 * Tolerances (named below): the twins perform the same float operations in the same
 * order (integer block sums are exact in both), so scores, values and P V agree to
 * the bit; only exp2_sum's total is summed in another order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kernels/attn.h"
#include "engine/kv.h"
#include "tests/tap.h"

#define TOL_EXP2_REL 3e-7      /* lr_attn_exp2 vs exact 2^x, relative (Cephes polynomial) */
#define TOL_SUM_REL  2e-6      /* exp2_sum totals, SIMD vs scalar, relative */

/* a cache with one layer and one head, filled with n random tokens (a few large
 * channels when spiky), for its real panel and row layouts */
static int filled(struct lr_kv *kv, enum lr_kv_type t, uint32_t hd, uint32_t n, int spiky)
{
	struct lr_hparams hp;
	struct lr_err err = { 0 };
	float k[256], v[256];

	memset(&hp, 0, sizeof hp);
	hp.n_layer = hp.n_head_kv = 1;
	hp.n_head = 1;
	hp.head_dim = hp.head_dim_v = hd;
	if (lr_kv_init(kv, &hp, t, n, &err)) {
		tap_diag("%s", err.msg);
		return -1;
	}
	for (uint32_t p = 0; p < n; p++) {
		for (uint32_t i = 0; i < hd; i++) {
			k[i] = tap_frand() * (spiky && i % 13 == 2 ? 40.0f : 1.0f);
			v[i] = tap_frand() * (spiky && i % 11 == 4 ? 20.0f : 1.0f);
		}
		lr_kv_put(kv, 0, 0, p, k, v);
	}
	return 0;
}

static int same_bits(const float *a, const float *b, size_t n, size_t *where)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], 4) != 0) {
			*where = i;
			return 0;
		}
	return 1;
}

static void scores_and_values(const struct lr_attn_kernels *K, enum lr_kv_type t, uint32_t hd, int spiky)
{
	static const int rows[] = { 1, 3, 4, 6, 7, 8, 11, 13, 64 };   /* every remainder of 3 and 6 */
	const uint32_t n = 16 * 17 + 5;            /* 18 panels, the last partly filled */
	struct lr_kv kv;
	float *qf, *qd, *S0, *S1, *V0, *V1, *acc0, *acc1, *P;
	int16_t *q16;
	int ok_s = 1, ok_v = 1, ok_pv = 1;
	size_t where = 0;

	if (filled(&kv, t, hd, n, spiky))
		return;
	qf = malloc(sizeof(float) * 64 * hd);
	q16 = malloc(sizeof(int16_t) * 64 * hd);
	qd = malloc(sizeof(float) * 64);
	S0 = malloc(sizeof(float) * 64 * 320);
	S1 = malloc(sizeof(float) * 64 * 320);
	V0 = malloc(sizeof(float) * n * hd);
	V1 = malloc(sizeof(float) * n * hd);
	acc0 = malloc(sizeof(float) * 64 * hd);
	acc1 = malloc(sizeof(float) * 64 * hd);
	P = malloc(sizeof(float) * 64 * 320);
	for (int i = 0; i < 64 * (int)hd; i++) {
		qf[i] = tap_frand() * 3;
		q16[i] = (int16_t)(tap_frand() * 32767);
	}
	for (int r = 0; r < 64; r++)
		qd[r] = 1e-4f * (1 + tap_frand());
	for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
		for (int np = 1; np <= 18; np += (np < 3 ? 1 : 7)) {
			struct lr_attn_q q = { rows[ri], (int)hd, qf, q16, qd };
			const uint8_t *pan = lr_kv_kpanel(&kv, 0, 0, 18 - (uint32_t)np);
			memset(S0, 0, sizeof(float) * 64 * 320);
			memset(S1, 0, sizeof(float) * 64 * 320);
			lr_attn_kernels_scalar.qk[t](&q, pan, kv.k_panel, np, S0, 320);
			K->qk[t](&q, pan, kv.k_panel, np, S1, 320);
			if (!same_bits(S0, S1, 64 * 320, &where)) {
				tap_diag("qk %s R %d panels %d: S[%zu] %.9g vs %.9g", lr_kv_type_name(t), rows[ri], np,
				         where, S1[where], S0[where]);
				ok_s = 0;
			}
		}
	tap_ok(ok_s, "%s %s scores, head dim %u%s: identical to the scalar twin", K->name, lr_kv_type_name(t), hd,
	       spiky ? ", spiky" : "");

	{
		const float *a = lr_attn_kernels_scalar.v_tile[t](lr_kv_vrow(&kv, 0, 0, 0), kv.v_row, (int)n, (int)hd, V0);
		const float *b = K->v_tile[t](lr_kv_vrow(&kv, 0, 0, 0), kv.v_row, (int)n, (int)hd, V1);
		ok_v = same_bits(a, b, (size_t)n * hd, &where);
		tap_ok(ok_v, "%s %s value tile, head dim %u: identical to the scalar twin", K->name, lr_kv_type_name(t), hd);
		for (int i = 0; i < 64 * 320; i++)
			P[i] = tap_frand() > 0 ? tap_frand() * 0.5f + 0.5f : 0.0f;
		for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
			for (int nk = 1; nk <= 257; nk += 64) {
				for (int i = 0; i < 64 * (int)hd; i++)
					acc0[i] = acc1[i] = tap_frand();
				lr_attn_kernels_scalar.pv(P, 320, rows[ri], nk, a, (int)hd, acc0, (int)hd);
				K->pv(P, 320, rows[ri], nk, a, (int)hd, acc1, (int)hd);
				if (!same_bits(acc0, acc1, 64 * (size_t)hd, &where)) {
					tap_diag("pv R %d n %d: acc[%zu] %.9g vs %.9g", rows[ri], nk, where, acc1[where], acc0[where]);
					ok_pv = 0;
				}
			}
		tap_ok(ok_pv, "%s P V, head dim %u (%s values): identical to the scalar twin", K->name, hd,
		       lr_kv_type_name(t));
	}
	if (K->pv_pairs && K->v_pairs[t]) {
		/* bf16 value pairs: tiles of odd and even lengths */
		uint16_t *vt0 = malloc(sizeof(uint16_t) * (n + 1) * hd), *vt1 = malloc(sizeof(uint16_t) * (n + 1) * hd);
		uint16_t *pb = malloc(LR_ATTN_PB_BYTES);
		float *dv0 = malloc(sizeof(float) * (n + 1) * (hd / 32)), *dv1 = malloc(sizeof(float) * (n + 1) * (hd / 32));
		int ok_t = 1, ok_p = 1;
		for (int nk = 1; nk <= 256; nk += 51) {
			int ld = (nk + 1) & ~1;
			const uint8_t *vrows = lr_kv_vrow(&kv, 0, 0, 7);
			lr_attn_kernels_scalar.v_pairs[t](vrows, kv.v_row, nk, (int)hd, vt0, dv0);
			K->v_pairs[t](vrows, kv.v_row, nk, (int)hd, vt1, dv1);
			ok_t &= memcmp(vt0, vt1, sizeof(uint16_t) * ld * hd) == 0 &&
			        memcmp(dv0, dv1, sizeof(float) * ld * (hd / 32)) == 0;
			for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
				for (int i = 0; i < 64 * (int)hd; i++)
					acc0[i] = acc1[i] = tap_frand();
				lr_attn_kernels_scalar.pv_pairs(P, 320, rows[ri], nk, vt0, dv0, (int)hd, acc0, (int)hd, pb);
				K->pv_pairs(P, 320, rows[ri], nk, vt0, dv0, (int)hd, acc1, (int)hd, pb);
				if (!same_bits(acc0, acc1, 64 * (size_t)hd, &where)) {
					tap_diag("pv_pairs R %d n %d: acc[%zu] %.9g vs %.9g", rows[ri], nk, where, acc1[where],
					         acc0[where]);
					ok_p = 0;
				}
			}
		}
		tap_ok(ok_t, "%s %s value pairs, head dim %u: identical to the scalar twin", K->name, lr_kv_type_name(t), hd);
		tap_ok(ok_p, "%s bf16 P V, head dim %u (%s values): identical to the scalar twin", K->name, hd,
		       lr_kv_type_name(t));
		free(vt0); free(vt1); free(pb); free(dv0); free(dv1);
	}
	lr_kv_release(&kv);
	free(qf); free(q16); free(qd); free(S0); free(S1); free(V0); free(V1); free(acc0); free(acc1); free(P);
}

static void softmax_parts(const struct lr_attn_kernels *K)
{
	float s0[300], s1[300];
	int ok_max = 1, ok_e = 1, ok_sum = 1;

	for (int n = 1; n <= 300; n += 23) {
		float m0, m1, t0, t1;
		for (int j = 0; j < n; j++)
			s0[j] = s1[j] = tap_frand() * 40 - 20;
		if (n > 5)
			s0[n - 2] = s1[n - 2] = -INFINITY;   /* a masked score */
		m0 = lr_attn_kernels_scalar.row_max(s0, n);
		m1 = K->row_max(s1, n);
		ok_max &= m0 == m1;
		t0 = lr_attn_kernels_scalar.exp2_sum(s0, n, m0);
		t1 = K->exp2_sum(s1, n, m1);
		for (int j = 0; j < n; j++)
			ok_e &= memcmp(&s0[j], &s1[j], 4) == 0;
		ok_sum &= fabsf(t0 - t1) <= TOL_SUM_REL * t0;
	}
	tap_ok(ok_max, "%s row maxima equal the scalar twin's", K->name);
	tap_ok(ok_e, "%s exp2 values identical to the scalar twin", K->name);
	tap_ok(ok_sum, "%s exp2 sums within %.0g of the scalar twin", K->name, TOL_SUM_REL);
}

static void quantizer(const struct lr_attn_kernels *K)
{
	int same = 1;

	for (int b = 0; b < 20000 && same; b++) {
		float x[32];
		uint16_t d0, d1;
		uint8_t c0[32], c1[32];
		float scale = b % 5 == 0 ? 1e-6f : b % 5 == 1 ? 3e3f : 1.0f;
		for (int i = 0; i < 32; i++)
			x[i] = tap_frand() * scale * (i == b % 32 ? 20.0f : 1.0f);
		if (b % 97 == 0)
			memset(x, 0, sizeof x);
		lr_kv_quant_q4(x, &d0, c0);
		K->quant_q4(x, &d1, c1);
		same = d0 == d1 && memcmp(c0, c1, 32) == 0;
		if (!same)
			tap_diag("block %d: scale %04x vs %04x", b, d1, d0);
	}
	tap_ok(same, "%s q4 quantizer: same scales and codes as the reference on 20000 blocks", K->name);
}

static void exp2_accuracy(void)
{
	double worst = 0;
	int ok_range = 1;

	for (int i = 0; i <= 200000; i++) {
		float x = -120.0f + 127.0f * (float)i / 200000;
		double e = exp2((double)x), g = lr_attn_exp2(x);
		worst = fmax(worst, fabs(g - e) / e);
	}
	tap_ok(worst < TOL_EXP2_REL, "exp2 on [-120, 7]: worst relative error %.3g (< %.0g)", worst, TOL_EXP2_REL);
	ok_range &= lr_attn_exp2(0) == 1.0f;
	ok_range &= lr_attn_exp2(-INFINITY) > 0 && lr_attn_exp2(-INFINITY) < 1e-37f;
	ok_range &= lr_attn_exp2(NAN) == lr_attn_exp2(-125.0f);
	ok_range &= isfinite(lr_attn_exp2(1000.0f));
	tap_ok(ok_range, "exp2(0) = 1; -inf, NaN and huge inputs give finite, normal results");
}

int main(void)
{
	static const char *const sets[] = { "avx2", "avx512" };
	int any = 0;

	tap_seed(88172645463325252ull);
	exp2_accuracy();
	for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
		const struct lr_attn_kernels *K = lr_attn_kernels_get(sets[s]);
		if (!K) {
			tap_diag("attention kernels '%s' not available on this CPU or build", sets[s]);
			continue;
		}
		any = 1;
		softmax_parts(K);
		quantizer(K);
		for (int t = 0; t < LR_KV_TYPE_COUNT; t++) {
			scores_and_values(K, (enum lr_kv_type)t, 64, 0);
			scores_and_values(K, (enum lr_kv_type)t, 128, 1);
			if (t <= LR_KV_F16) {
				scores_and_values(K, (enum lr_kv_type)t, 6, 0);
				scores_and_values(K, (enum lr_kv_type)t, 40, 1);
			}
		}
	}
	if (!any)
		tap_diag("no SIMD attention kernels to compare on this machine");
	return tap_done();
}
