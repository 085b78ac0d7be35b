/* tests/test_attention.c — attention over the KV cache (engine/attention.c), and how
 * much each cache type changes its output.
 *
 * An f32 cache must match a float64 softmax attention over the same keys and values.
 * Every other type is measured against the f32 cache's output (rel L2 over all query
 * rows), on random inputs and on outlier-heavy ones (a few key channels 10-50x larger
 * than the rest, as real key caches have), at 200 keys and at 33,000 keys; q8/q4
 * also without their rotation and key centring, to show what those buy.  Limits come from
 * the quantizers: per value, f16 rounds to 2^-11 relative, q8 to about 1/127 of its
 * block's largest value, q4 to about 1/8 (Lloyd-Max levels); attention passes key
 * errors through the softmax, so the output errors are bounded by small multiples of
 * those.  Also: results do not depend on threads, chunking, decode splits or the
 * kernel set.  One KV head and four query heads keep the 33k case quick. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attention.h"
#include "engine/kv.h"
#include "engine/pool.h"
#include "tests/tap.h"

#define G 4                  /* query heads per KV head */
#define N_Q 4                /* query tokens, at the end of the keys */

/* Limits on rel L2 against the f32 cache.  Per value, q4 errs by ~7.7% rms and q8 by
 * ~0.57% (Gaussian blocks, tests/test_kv.c); scores (standard deviation ~3 here) move
 * by that fraction of their spread, and softmax turns a score error of 0.2 into a
 * weight error of ~20%, so q4 outputs move by a few tenths and q8 by ~13x less; more
 * over 33k keys, where the output averages many values and shrinks while the score
 * errors do not average out. */
#define LIM_F32_VS_F64 2e-5  /* float32 accumulation against float64 */
#define LIM_F16 3e-3         /* 2^-11 relative rounding of every value */
#define LIM_Q8 0.04
#define LIM_Q4 0.5
#define ROTATION_GAIN 2.0    /* outliers: plain error / rotated and centred error, at least */
#define TOL_BF16_P 4e-3      /* bf16 probabilities: 2^-9 relative each, 2^-8 in all */

struct data {
	uint32_t n, hd;          /* keys, head dimension */
	float *k, *v;            /* [n][hd] */
	float *q;                /* [N_Q][G][hd] */
	const char *name;
};

/* Gaussian keys, values and queries; queries x 3 so attention is focused (scores with
 * a standard deviation of ~3).  Outliers: 4 key channels 10-50x larger than the rest
 * (nearly constant, +-10%, as the massive channels of trained models are) and 2 value
 * channels 10x; queries are small in the key outlier channels, as in trained models. */
static void make_data(struct data *d, uint32_t n, uint32_t hd, int outliers, uint64_t seed)
{
	static const int kch[4] = { 3, 12, 40, 45 };
	static const float kmul[4] = { 10, 25, 50, 30 };

	tap_seed(seed);
	d->n = n;
	d->hd = hd;
	d->k = malloc(sizeof(float) * n * hd);
	d->v = malloc(sizeof(float) * n * hd);
	d->q = malloc(sizeof(float) * N_Q * G * hd);
	for (uint64_t i = 0; i < (uint64_t)n * hd; i++) {
		d->k[i] = tap_gauss();
		d->v[i] = tap_gauss();
	}
	for (uint32_t i = 0; i < N_Q * G * hd; i++)
		d->q[i] = 3 * tap_gauss();
	if (outliers) {
		for (uint32_t p = 0; p < n; p++) {
			for (int c = 0; c < 4; c++)
				d->k[(uint64_t)p * hd + kch[c]] = kmul[c] * (1 + 0.1f * tap_gauss());
			d->v[(uint64_t)p * hd + 9] *= 10;
			d->v[(uint64_t)p * hd + 33] *= 10;
		}
		for (uint32_t i = 0; i < N_Q * G; i++)
			for (int c = 0; c < 4; c++)
				d->q[i * hd + kch[c]] *= 0.05f;
	}
}

static void free_data(struct data *d)
{
	free(d->k);
	free(d->v);
	free(d->q);
}

/* fill a cache as the forward pass does: centre on the first 256 keys (unless
 * center is 0), then store every key and value */
static int fill(struct lr_kv *kv, const struct data *d, enum lr_kv_type t, int rotate, int center)
{
	struct lr_hparams hp;
	struct lr_err err = { 0 };

	memset(&hp, 0, sizeof hp);
	hp.n_layer = 1;
	hp.n_head_kv = 1;
	hp.n_head = G;
	hp.head_dim = hp.head_dim_v = d->hd;
	if (lr_kv_init(kv, &hp, t, d->n, &err)) {
		tap_diag("%s", err.msg);
		return -1;
	}
	if (!rotate)
		kv->rotated = 0;         /* for comparison only: quantize the raw vectors */
	if (center)
		lr_kv_center(kv, 0, 0, d->k, d->n < 256 ? d->n : 256, d->hd);
	for (uint32_t p = 0; p < d->n; p++)
		lr_kv_put(kv, 0, 0, p, d->k + (uint64_t)p * d->hd, d->v + (uint64_t)p * d->hd);
	return 0;
}

/* attention of n_tok queries (query tokens t0.., at positions n - N_Q + t0 ..) */
static void run(const struct lr_kv *kv, const struct data *d, const struct lr_attn_kernels *K, int threads,
                uint32_t t0, uint32_t n_tok, float *out)
{
	struct lr_pool *pool = NULL;
	struct lr_err err = { 0 };
	void *scratch;
	struct lr_attn_job j = {
		.kv = kv, .kern = K, .layer = 0, .n_tok = n_tok, .pos0 = d->n - N_Q + t0, .n_head = G, .group = G,
		.q = d->q + (size_t)t0 * G * d->hd, .out = out + (size_t)t0 * G * d->hd,
		.scale = 1.0f / sqrtf((float)d->hd),
	};

	if (lr_pool_new(&pool, threads, &err)) {
		tap_diag("%s", err.msg);
		return;
	}
	scratch = aligned_alloc(64, (size_t)threads * lr_attn_scratch_floats(kv, G) * 4);
	j.scratch = scratch;
	lr_attention_run(pool, &j);
	free(scratch);
	lr_pool_free(pool);
}

/* float64 softmax attention over the original vectors */
static void reference(const struct data *d, double *out)
{
	const uint32_t hd = d->hd;
	double *s = malloc(sizeof(double) * d->n);

	for (uint32_t t = 0; t < N_Q; t++)
		for (uint32_t h = 0; h < G; h++) {
			const float *q = d->q + ((size_t)t * G + h) * hd;
			uint32_t last = d->n - N_Q + t;
			double m = -INFINITY, l = 0, *o = out + ((size_t)t * G + h) * hd;
			for (uint32_t p = 0; p <= last; p++) {
				double a = 0;
				for (uint32_t i = 0; i < hd; i++)
					a += (double)q[i] * d->k[(uint64_t)p * hd + i];
				s[p] = a / sqrt((double)hd);
				m = fmax(m, s[p]);
			}
			memset(o, 0, sizeof(double) * hd);
			for (uint32_t p = 0; p <= last; p++) {
				double w = exp(s[p] - m);
				l += w;
				for (uint32_t i = 0; i < hd; i++)
					o[i] += w * d->v[(uint64_t)p * hd + i];
			}
			for (uint32_t i = 0; i < hd; i++)
				o[i] /= l;
		}
	free(s);
}

static void accuracy(const struct lr_attn_kernels *K, uint32_t n, int outliers)
{
	struct data d;
	const size_t no = (size_t)N_Q * G * 64;
	float *f32 = calloc(no, sizeof(float)), *o = calloc(no, sizeof(float));
	double *ref = malloc(sizeof(double) * no), num = 0, den = 0;
	struct lr_kv kv;
	const char *what = outliers ? "outliers" : "random";

	make_data(&d, n, 64, outliers, 1234 + n + (uint64_t)outliers);
	reference(&d, ref);
	if (fill(&kv, &d, LR_KV_F32, 1, 1) == 0) {
		run(&kv, &d, K, 2, 0, N_Q, f32);
		lr_kv_release(&kv);
	}
	for (size_t i = 0; i < no; i++) {
		num += (f32[i] - ref[i]) * (f32[i] - ref[i]);
		den += ref[i] * ref[i];
	}
	tap_ok(sqrt(num / den) < LIM_F32_VS_F64, "%s, %u keys: f32 cache vs float64 attention: rel L2 %.3g (< %.0g)",
	       what, n, sqrt(num / den), LIM_F32_VS_F64);

	for (int t = LR_KV_F16; t < LR_KV_TYPE_COUNT; t++) {
		/* variants: 0 as used (rotated, centred), 1 not rotated, 2 not centred, 3 neither */
		static const char *const variant[4] = { "", "without its rotation", "without centring", "plain" };
		double e[4] = { 0, 0, 0, 0 }, lim = t == LR_KV_F16 ? LIM_F16 : t == LR_KV_Q8 ? LIM_Q8 : LIM_Q4;
		const char *tn = lr_kv_type_name((enum lr_kv_type)t);
		for (int v = 0; v < (t == LR_KV_F16 ? 1 : 4); v++) {
			if (fill(&kv, &d, (enum lr_kv_type)t, !(v & 1), !(v & 2)))
				continue;
			memset(o, 0, no * sizeof(float));
			run(&kv, &d, K, 2, 0, N_Q, o);
			lr_kv_release(&kv);
			e[v] = tap_rel_l2(o, f32, no);
			if (v)
				tap_diag("%s, %u keys: %s cache %s: rel L2 %.4g", what, n, tn, variant[v], e[v]);
		}
		tap_ok(e[0] < lim, "%s, %u keys: %s cache vs f32 cache: rel L2 %.4g (< %.2g)", what, n, tn, e[0], lim);
		if (outliers && t != LR_KV_F16)
			tap_ok(e[3] >= ROTATION_GAIN * e[0],
			       "%s, %u keys: rotation and centring cut %s's error %.1fx (%.3g -> %.3g; at least %.0fx)",
			       what, n, tn, e[3] / e[0], e[3], e[0], ROTATION_GAIN);
	}
	free_data(&d);
	free(f32);
	free(o);
	free(ref);
}

/* threads, chunks, decode splits and kernel sets must not change results (beyond
 * exp2_sum's summation order between kernel sets) */
static void invariance(const struct lr_attn_kernels *K, enum lr_kv_type t, uint32_t n)
{
	struct data d;
	struct lr_kv kv;
	const size_t no = (size_t)N_Q * G * 64;
	float *a = calloc(no, 4), *b = calloc(no, 4), *c = calloc(no, 4), *s = calloc(no, 4);
	const char *tn = lr_kv_type_name(t);

	make_data(&d, n, 64, 1, 99 + n);
	if (fill(&kv, &d, t, 1, 1) == 0) {
		run(&kv, &d, K, 1, 0, N_Q, a);
		run(&kv, &d, K, 3, 0, N_Q, b);
		tap_ok(memcmp(a, b, no * 4) == 0, "%s, %u keys: 1 and 3 threads give identical outputs", tn, n);
		/* one query at a time (decode; split into 4096-key ranges when long) */
		for (uint32_t t0 = 0; t0 < N_Q; t0++)
			run(&kv, &d, K, 2, t0, 1, c);
		if (n <= 4096) {
			tap_ok(memcmp(a, c, no * 4) == 0, "%s, %u keys: queries one at a time give identical outputs", tn, n);
		} else {
			/* a split range has its own running maximum; where values go through bf16
			 * pairs, P's bf16 rounding (2^-9) then lands differently than in the batch */
			double lim = (t == LR_KV_Q8 || t == LR_KV_Q4) && K->pv_pairs ? TOL_BF16_P : 1e-6;
			tap_ok(tap_rel_l2(c, a, no) < lim, "%s, %u keys: single queries (key ranges split and merged) "
			       "match the batch: rel L2 %.2g (< %.0g)", tn, n, tap_rel_l2(c, a, no), lim);
		}
		run(&kv, &d, &lr_attn_kernels_scalar, 2, 0, N_Q, s);
		tap_ok(tap_rel_l2(s, a, no) < 1e-6, "%s, %u keys: scalar and %s kernels agree: rel L2 %.2g", tn, n, K->name,
		       tap_rel_l2(s, a, no));
		lr_kv_release(&kv);
	}
	free_data(&d);
	free(a);
	free(b);
	free(c);
	free(s);
}

int main(void)
{
	const struct lr_attn_kernels *K = lr_attn_kernels_get("avx512");

	if (!K)
		K = &lr_attn_kernels_scalar;
	tap_diag("attention kernels: %s", K->name);
	accuracy(K, 200, 0);
	accuracy(K, 200, 1);
	accuracy(K, 33000, 0);
	accuracy(K, 33000, 1);
	for (int t = 0; t < LR_KV_TYPE_COUNT; t++)
		invariance(K, (enum lr_kv_type)t, 300);
	invariance(K, LR_KV_Q8, 9000);
	invariance(K, LR_KV_Q4, 9000);
	return tap_done();
}
