/* engine/sampler.c — repetition penalty, greedy, top-k, temperature, top-p, min-p. */
#include "engine/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lr_sampler {
	struct lr_sampler_params p;
	uint32_t n_vocab;
	uint64_t rng[4];
	uint32_t *idx;     /* [n_vocab] candidate ids */
	float *prob;       /* [n_vocab] their probabilities */
};

struct lr_sampler_params lr_sampler_defaults(void)
{
	struct lr_sampler_params p = {
		.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
		.repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0,
	};
	return p;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

int lr_sampler_new(struct lr_sampler **out, const struct lr_sampler_params *p, uint32_t n_vocab,
                   struct lr_err *err)
{
	struct lr_sampler *s;
	uint64_t z;

	*out = NULL;
	if (!(p->temp >= 0 && p->temp <= 100) || isnan(p->temp))
		return lr_errf(err, LR_EINVAL, "temperature %g is out of range (0 to 100)", p->temp);
	if (!(p->top_p > 0 && p->top_p <= 1))
		return lr_errf(err, LR_EINVAL, "top-p %g is out of range (above 0, at most 1)", p->top_p);
	if (!(p->min_p >= 0 && p->min_p <= 1))
		return lr_errf(err, LR_EINVAL, "min-p %g is out of range (0 to 1)", p->min_p);
	if (!(p->repeat_penalty >= 1 && p->repeat_penalty <= 10))
		return lr_errf(err, LR_EINVAL, "repeat penalty %g is out of range (1 to 10)", p->repeat_penalty);
	if (p->top_k < 0 || p->repeat_last_n < 0)
		return lr_errf(err, LR_EINVAL, "top-k and the repeat window cannot be negative");
	if (n_vocab == 0)
		return lr_errf(err, LR_EINVAL, "empty vocabulary");
	s = calloc(1, sizeof *s);
	if (!s)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	s->p = *p;
	s->n_vocab = n_vocab;
	s->idx = malloc(sizeof *s->idx * n_vocab);
	s->prob = malloc(sizeof *s->prob * n_vocab);
	if (!s->idx || !s->prob) {
		lr_sampler_free(s);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	/* seed xoshiro's state with splitmix64, as its authors recommend */
	z = p->seed;
	for (int i = 0; i < 4; i++) {
		uint64_t x = (z += 0x9e3779b97f4a7c15ull);
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		s->rng[i] = x ^ (x >> 31);
	}
	*out = s;
	return 0;
}

void lr_sampler_free(struct lr_sampler *s)
{
	if (!s)
		return;
	free(s->idx);
	free(s->prob);
	free(s);
}

static int by_logit_desc(const void *a, const void *b, void *ctx)
{
	const float *logits = ctx;
	float x = logits[*(const uint32_t *)a], y = logits[*(const uint32_t *)b];

	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;   /* ties: lower id first */
}

/* Move the k largest logits to the front of idx[0..n), sorted descending. */
static void top_k(const float *logits, uint32_t *idx, uint32_t n, uint32_t k)
{
	/* quickselect-style partition would be faster; a heap of k keeps it simple and
	 * O(n log k), which is what matters for k = 40 of 128k */
	uint32_t size = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = idx[i];
		if (size < k) {
			uint32_t c = size++;
			idx[c] = id;
			while (c > 0) {                      /* sift up: min-heap on logit */
				uint32_t p = (c - 1) / 2;
				if (logits[idx[p]] < logits[idx[c]] ||
				    (logits[idx[p]] == logits[idx[c]] && idx[p] > idx[c]))
					break;
				uint32_t t = idx[p]; idx[p] = idx[c]; idx[c] = t;
				c = p;
			}
		} else if (logits[id] > logits[idx[0]] || (logits[id] == logits[idx[0]] && id < idx[0])) {
			uint32_t c = 0;
			idx[0] = id;
			for (;;) {                           /* sift down */
				uint32_t l = 2 * c + 1, r = l + 1, m = c;
				if (l < size && (logits[idx[l]] < logits[idx[m]] ||
				                 (logits[idx[l]] == logits[idx[m]] && idx[l] > idx[m])))
					m = l;
				if (r < size && (logits[idx[r]] < logits[idx[m]] ||
				                 (logits[idx[r]] == logits[idx[m]] && idx[r] > idx[m])))
					m = r;
				if (m == c)
					break;
				uint32_t t = idx[m]; idx[m] = idx[c]; idx[c] = t;
				c = m;
			}
		}
	}
	qsort_r(idx, size, sizeof *idx, by_logit_desc, (void *)logits);
}

int32_t lr_sampler_sample(struct lr_sampler *s, float *logits, const int32_t *history, uint32_t n_hist)
{
	const struct lr_sampler_params *p = &s->p;
	uint32_t n = s->n_vocab, k, keep;
	double sum = 0, cum, r;

	/* repetition penalty (CTRL / llama.cpp style): shrink positive logits, grow
	 * negative ones, once per distinct recent token */
	if (p->repeat_penalty != 1.0f && history) {
		uint32_t from = n_hist > (uint32_t)p->repeat_last_n ? n_hist - (uint32_t)p->repeat_last_n : 0;
		for (uint32_t i = from; i < n_hist; i++) {
			int32_t t = history[i];
			int seen = 0;
			if (t < 0 || (uint32_t)t >= n)
				continue;
			for (uint32_t j = from; j < i && !seen; j++)
				seen = history[j] == t;
			if (!seen)
				logits[t] = logits[t] > 0 ? logits[t] / p->repeat_penalty : logits[t] * p->repeat_penalty;
		}
	}
	if (p->temp <= 0) {
		uint32_t best = 0;
		for (uint32_t i = 1; i < n; i++)
			if (logits[i] > logits[best])
				best = i;
		return (int32_t)best;
	}
	for (uint32_t i = 0; i < n; i++)
		s->idx[i] = i;
	k = p->top_k > 0 && (uint32_t)p->top_k < n ? (uint32_t)p->top_k : n;
	top_k(logits, s->idx, n, k);
	/* softmax with temperature over the k candidates (sorted, largest first) */
	for (uint32_t i = 0; i < k; i++) {
		s->prob[i] = (float)exp((double)(logits[s->idx[i]] - logits[s->idx[0]]) / p->temp);
		sum += s->prob[i];
	}
	/* top-p: the smallest prefix whose mass reaches top_p; min-p: relative cut */
	keep = k;
	cum = 0;
	for (uint32_t i = 0; i < k; i++) {
		cum += s->prob[i] / sum;
		if (p->min_p > 0 && s->prob[i] < p->min_p * s->prob[0]) {
			keep = i > 0 ? i : 1;
			break;
		}
		if (cum >= p->top_p) {
			keep = i + 1;
			break;
		}
	}
	sum = 0;
	for (uint32_t i = 0; i < keep; i++)
		sum += s->prob[i];
	r = (double)(next(s->rng) >> 11) * (1.0 / 9007199254740992.0) * sum;
	cum = 0;
	for (uint32_t i = 0; i < keep; i++) {
		cum += s->prob[i];
		if (r < cum)
			return (int32_t)s->idx[i];
	}
	return (int32_t)s->idx[keep - 1];
}
