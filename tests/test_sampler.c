/* tests/test_sampler.c — engine/sampler.c: greedy and its ties, seeded determinism,
 * the sampled distribution against softmax (with temperature), top-k, top-p, min-p,
 * the repetition penalty, and parameter checks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/sampler.h"
#include "tests/tap.h"

#define DRAWS 40000
/* frequency tolerance: 6 standard deviations of a binomial frequency at p = 0.5 */
#define FREQ_TOL (6 * 0.5 / 200.0)

static struct lr_sampler_params plain(float temp)
{
	struct lr_sampler_params p = { .temp = temp, .top_k = 0, .top_p = 1, .min_p = 0,
	                               .repeat_penalty = 1, .repeat_last_n = 64, .seed = 1234 };
	return p;
}

static void freqs(const struct lr_sampler_params *p, const float *logits, uint32_t n, double *f)
{
	struct lr_sampler *s = NULL;
	float l[16];

	memset(f, 0, n * sizeof *f);
	lr_sampler_new(&s, p, n, NULL);
	for (int i = 0; i < DRAWS; i++) {
		memcpy(l, logits, n * sizeof *l);
		f[lr_sampler_sample(s, l, NULL, 0)] += 1.0 / DRAWS;
	}
	lr_sampler_free(s);
}

static int close_to_softmax(const double *f, const float *logits, uint32_t n, float temp, uint32_t keep)
{
	double z = 0, worst = 0;

	for (uint32_t i = 0; i < keep; i++)
		z += exp(logits[i] / temp);
	for (uint32_t i = 0; i < n; i++) {
		double want = i < keep ? exp(logits[i] / temp) / z : 0;
		if (fabs(f[i] - want) > worst)
			worst = fabs(f[i] - want);
	}
	if (worst > FREQ_TOL)
		tap_diag("  worst frequency error %.4f", worst);
	return worst <= FREQ_TOL;
}

int main(void)
{
	/* descending logits, so "the k best" are ids 0..k-1 */
	const float L[4] = { 3, 2, 1, 0 };
	struct lr_sampler_params p;
	struct lr_sampler *s = NULL, *s2 = NULL;
	struct lr_err err = { 0 };
	double f[4];
	float l[4];
	int same = 1, differ = 0, all_top = 1;

	/* greedy */
	p = plain(0);
	lr_sampler_new(&s, &p, 4, &err);
	memcpy(l, (float[]){ 1, 5, 5, -2 }, sizeof l);
	tap_is_int(lr_sampler_sample(s, l, NULL, 0), 1, "greedy picks the largest logit, the lower id on a tie");
	lr_sampler_free(s);

	/* softmax with temperature */
	p = plain(1);
	freqs(&p, L, 4, f);
	tap_ok(close_to_softmax(f, L, 4, 1, 4), "temperature 1: frequencies follow softmax(logits)");
	p = plain(0.5f);
	freqs(&p, L, 4, f);
	tap_ok(close_to_softmax(f, L, 4, 0.5f, 4), "temperature 0.5: frequencies follow softmax(logits / 0.5)");
	p = plain(1);
	p.top_k = 2;
	freqs(&p, L, 4, f);
	tap_ok(close_to_softmax(f, L, 4, 1, 2), "top-k 2: only the two best, renormalised");
	/* p = softmax(3,2,1,0) = .644 .237 .087 .032 */
	p = plain(1);
	p.top_p = 0.5f;
	freqs(&p, L, 4, f);
	tap_ok(f[0] > 0.9999 && f[1] == 0 && f[2] == 0 && f[3] == 0, "top-p 0.5: the best token alone reaches it");
	p.top_p = 0.85f;
	freqs(&p, L, 4, f);
	tap_ok(close_to_softmax(f, L, 4, 1, 2), "top-p 0.85: the two best (0.644 + 0.237)");
	p = plain(1);
	p.min_p = 0.1f;
	freqs(&p, L, 4, f);
	tap_ok(close_to_softmax(f, L, 4, 1, 3), "min-p 0.1: drops 0.032 (< 0.0644), keeps 0.087");

	/* seeds */
	p = plain(1);
	lr_sampler_new(&s, &p, 4, &err);
	lr_sampler_new(&s2, &p, 4, &err);
	for (int i = 0; i < 200; i++) {
		float a[4], b[4];
		memcpy(a, L, sizeof a);
		memcpy(b, L, sizeof b);
		same &= lr_sampler_sample(s, a, NULL, 0) == lr_sampler_sample(s2, b, NULL, 0);
	}
	lr_sampler_free(s2);
	p.seed = 99;
	lr_sampler_new(&s2, &p, 4, &err);
	for (int i = 0; i < 200; i++) {
		float a[4], b[4];
		memcpy(a, L, sizeof a);
		memcpy(b, L, sizeof b);
		differ |= lr_sampler_sample(s, a, NULL, 0) != lr_sampler_sample(s2, b, NULL, 0);
	}
	tap_ok(same, "the same seed draws the same tokens");
	tap_ok(differ, "another seed draws other tokens");
	lr_sampler_free(s);
	lr_sampler_free(s2);

	/* top-k 1 is greedy whatever the temperature */
	p = plain(5);
	p.top_k = 1;
	lr_sampler_new(&s, &p, 4, &err);
	for (int i = 0; i < 500; i++) {
		memcpy(l, (float[]){ 0, 0.1f, 0.05f, 0 }, sizeof l);
		all_top &= lr_sampler_sample(s, l, NULL, 0) == 1;
	}
	tap_ok(all_top, "top-k 1 always takes the best token");
	lr_sampler_free(s);

	/* repetition penalty: divides positive logits, multiplies negative ones, once per token */
	p = plain(0);
	p.repeat_penalty = 1.25f;
	lr_sampler_new(&s, &p, 4, &err);
	memcpy(l, (float[]){ 2.0f, 2.1f, -1.0f, -3.0f }, sizeof l);
	{
		int32_t hist[] = { 1, 2, 1, 1 };
		int32_t got = lr_sampler_sample(s, l, hist, 4);
		tap_is_int(got, 0, "repetition penalty: the repeated best token loses to the next");
		tap_ok(fabsf(l[1] - 2.1f / 1.25f) < 1e-6f && fabsf(l[2] + 1.25f) < 1e-6f && l[0] == 2.0f && l[3] == -3.0f,
		       "repetition penalty: 2.1 -> 1.68, -1 -> -1.25, applied once per distinct token");
	}
	lr_sampler_free(s);
	p.repeat_last_n = 1;
	lr_sampler_new(&s, &p, 4, &err);
	memcpy(l, (float[]){ 2.0f, 2.1f, -1.0f, -3.0f }, sizeof l);
	{
		int32_t hist[] = { 1, 2 };
		tap_is_int(lr_sampler_sample(s, l, hist, 2), 1, "repetition penalty: only the last N tokens count");
	}
	lr_sampler_free(s);

	/* parameters */
	p = plain(1);
	p.top_p = 0;
	tap_ok(lr_sampler_new(&s, &p, 4, &err) == LR_EINVAL && strstr(err.msg, "top-p"), "top-p 0 is refused");
	p = plain(-1);
	tap_ok(lr_sampler_new(&s, &p, 4, &err) == LR_EINVAL && strstr(err.msg, "temperature"),
	       "a negative temperature is refused");
	p = plain(1);
	p.repeat_penalty = 0.5f;
	tap_ok(lr_sampler_new(&s, &p, 4, &err) == LR_EINVAL, "a repeat penalty below 1 is refused");
	p = plain(1);
	p.min_p = NAN;
	tap_ok(lr_sampler_new(&s, &p, 4, &err) == LR_EINVAL, "a NaN min-p is refused");
	return tap_done();
}
