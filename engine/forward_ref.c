/* engine/forward_ref.c — the reference forward pass (Llama and Qwen2), written to be obviously
 * right rather than fast: one token at a time, each weight row dequantized with the
 * reference dequantizers and multiplied in float64, the whole KV history kept in
 * float32.  Tests compare the fast path (engine/forward.c) against it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "engine/quant.h"

#define PI 3.14159265358979323846

/* YaRN's blend for pair i (Peng et al. 2023, as llama.cpp and Hugging Face compute it,
 * beta_fast 32, beta_slow 1): 1 keeps the pair's frequency (the fast pairs), 0 divides
 * it by the factor (the slow ones), linear in between. */
static double yarn_keep(const struct lr_hparams *hp, uint32_t i)
{
	double orig = hp->rope_orig_ctx ? hp->rope_orig_ctx : hp->n_ctx_file;
	double d = hp->rope_dim, lb = log((double)hp->rope_base);
	double lo = floor(d * log(orig / (2 * PI * 32)) / (2 * lb));
	double hi = ceil(d * log(orig / (2 * PI * 1)) / (2 * lb));
	double ramp;

	if (lo < 0)
		lo = 0;
	if (hi > d - 1)
		hi = d - 1;
	ramp = ((double)i - lo) / fmax(0.001, hi - lo);
	return 1.0 - fmin(1.0, fmax(0.0, ramp));
}

double lr_rope_step(const struct lr_model *m, uint32_t i)
{
	const struct lr_hparams *hp = &m->hp;
	double step = pow((double)hp->rope_base, -2.0 * i / (double)hp->rope_dim);

	if (m->rope_freqs)
		step /= m->rope_freqs[i];
	if (hp->rope_scaling == LR_ROPE_SCALING_LINEAR && hp->rope_scale > 0)
		step /= hp->rope_scale;
	if (hp->rope_scaling == LR_ROPE_SCALING_YARN && hp->rope_scale > 1) {
		double r = yarn_keep(hp, i);
		step *= r + (1 - r) / hp->rope_scale;
	}
	return step;
}

double lr_rope_mscale(const struct lr_model *m)
{
	const struct lr_hparams *hp = &m->hp;

	if (hp->rope_scaling == LR_ROPE_SCALING_YARN && hp->rope_scale > 1)
		return 1.0 + 0.1 * log((double)hp->rope_scale);
	return 1.0;
}

/* y[r] = sum_i W[r][i] x[i] for every row r of w */
static void matvec(const struct lr_weight *w, const float *x, float *y, float *row)
{
	for (int64_t r = 0; r < w->n_out; r++) {
		double s = 0;
		lr_dequant_row(w->type, w->data + (uint64_t)r * w->row_bytes, row, w->n_in);
		for (int64_t i = 0; i < w->n_in; i++)
			s += (double)row[i] * x[i];
		y[r] = (float)s;
	}
}

static void rmsnorm(const float *x, const float *w, float *out, int64_t n, float eps)
{
	double ss = 0;

	for (int64_t i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	double scale = 1.0 / sqrt(ss / (double)n + eps);
	for (int64_t i = 0; i < n; i++)
		out[i] = (float)(x[i] * scale) * w[i];
}

/* Rotate the pairs of one head by pos * step(i): adjacent (x[2i], x[2i+1]), or for
 * NEOX-style models (x[i], x[i + rope_dim/2]); scaled by YaRN's mscale. */
static void rope(const struct lr_model *m, float *x, uint32_t pos)
{
	const uint32_t half = m->hp.rope_dim / 2;
	const double ms = lr_rope_mscale(m);

	for (uint32_t i = 0; i < half; i++) {
		double th = (double)pos * lr_rope_step(m, i);
		uint32_t a = m->hp.rope_neox ? i : 2 * i, b = m->hp.rope_neox ? i + half : 2 * i + 1;
		double c = cos(th) * ms, s = sin(th) * ms, x0 = x[a], x1 = x[b];
		x[a] = (float)(x0 * c - x1 * s);
		x[b] = (float)(x0 * s + x1 * c);
	}
}

/* y += b (a bias; b may be NULL) */
static void add_bias(float *y, const float *b, int64_t n)
{
	for (int64_t i = 0; b && i < n; i++)
		y[i] += b[i];
}

int lr_forward_ref(const struct lr_model *m, const int32_t *ids, uint32_t n, const uint8_t *want,
                   float *logits, struct lr_err *err)
{
	const struct lr_hparams *hp = &m->hp;
	const int64_t E = hp->n_embd, hd = hp->head_dim, hdv = hp->head_dim_v;
	const int64_t q_dim = (int64_t)hp->n_head * hd, kv_dim = (int64_t)hp->n_head_kv * hd;
	const int64_t v_dim = (int64_t)hp->n_head_kv * hdv, o_dim = (int64_t)hp->n_head * hdv;
	const uint32_t group = hp->n_head / hp->n_head_kv;
	int64_t wmax = E > hp->n_ff ? E : hp->n_ff;
	float *x = NULL, *xn, *q, *k, *v, *att, *gate, *up, *row, *scores, *kc = NULL, *vc = NULL;
	float *buf = NULL;
	int rc = 0;

	for (uint32_t t = 0; t < n; t++)
		if (ids[t] < 0 || (uint32_t)ids[t] >= hp->n_vocab)
			return lr_errf(err, LR_EINVAL, "token id %d at position %u is outside the vocabulary (0..%u)",
				ids[t], t, hp->n_vocab - 1);
	if (o_dim > wmax) wmax = o_dim;
	if (q_dim > wmax) wmax = q_dim;
	buf = malloc(sizeof(float) * (size_t)(3 * E + q_dim + kv_dim + v_dim + o_dim + 2 * hp->n_ff + wmax + n));
	kc = malloc(sizeof(float) * (size_t)hp->n_layer * n * (size_t)kv_dim);
	vc = malloc(sizeof(float) * (size_t)hp->n_layer * n * (size_t)v_dim);
	if (!buf || !kc || !vc) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory for the reference pass over %u tokens", n);
		goto out;
	}
	x = buf;
	xn = x + E;
	q = xn + E;
	k = q + q_dim;
	v = k + kv_dim;
	att = v + v_dim;
	gate = att + o_dim;
	up = gate + hp->n_ff;
	row = up + hp->n_ff;
	scores = row + wmax;

	for (uint32_t pos = 0; pos < n; pos++) {
		lr_dequant_row(m->tok_embd.type, m->tok_embd.data + (uint64_t)ids[pos] * m->tok_embd.row_bytes,
		               x, E);
		for (uint32_t l = 0; l < hp->n_layer; l++) {
			const struct lr_layer *L = &m->layers[l];
			float *kl = kc + (size_t)l * n * kv_dim, *vl = vc + (size_t)l * n * v_dim;

			rmsnorm(x, L->attn_norm, xn, E, hp->rms_eps);
			matvec(&L->wq, xn, q, row);
			matvec(&L->wk, xn, k, row);
			matvec(&L->wv, xn, v, row);
			add_bias(q, L->bq, q_dim);
			add_bias(k, L->bk, kv_dim);
			add_bias(v, L->bv, v_dim);
			for (uint32_t h = 0; h < hp->n_head; h++)
				rope(m, q + h * hd, pos);
			for (uint32_t h = 0; h < hp->n_head_kv; h++)
				rope(m, k + h * hd, pos);
			memcpy(kl + (size_t)pos * kv_dim, k, sizeof(float) * (size_t)kv_dim);
			memcpy(vl + (size_t)pos * v_dim, v, sizeof(float) * (size_t)v_dim);
			for (uint32_t h = 0; h < hp->n_head; h++) {
				uint32_t g = h / group;
				double mx = -INFINITY, sum = 0;
				for (uint32_t j = 0; j <= pos; j++) {
					double s = 0;
					for (int64_t i = 0; i < hd; i++)
						s += (double)q[h * hd + i] * kl[(size_t)j * kv_dim + g * hd + i];
					scores[j] = (float)(s / sqrt((double)hd));
					if (scores[j] > mx)
						mx = scores[j];
				}
				for (uint32_t j = 0; j <= pos; j++)
					sum += exp(scores[j] - mx);
				for (int64_t i = 0; i < hdv; i++) {
					double acc = 0;
					for (uint32_t j = 0; j <= pos; j++)
						acc += exp(scores[j] - mx) * vl[(size_t)j * v_dim + g * hdv + i];
					att[h * hdv + i] = (float)(acc / sum);
				}
			}
			matvec(&L->wo, att, xn, row);
			for (int64_t i = 0; i < E; i++)
				x[i] += xn[i];
			rmsnorm(x, L->ffn_norm, xn, E, hp->rms_eps);
			matvec(&L->w_gate, xn, gate, row);
			matvec(&L->w_up, xn, up, row);
			for (int64_t i = 0; i < hp->n_ff; i++)
				gate[i] = (float)(gate[i] / (1.0 + exp(-(double)gate[i]))) * up[i];
			matvec(&L->w_down, gate, xn, row);
			for (int64_t i = 0; i < E; i++)
				x[i] += xn[i];
		}
		if (want && !want[pos])
			continue;
		rmsnorm(x, m->output_norm, xn, E, hp->rms_eps);
		matvec(&m->output, xn, logits, row);
		logits += hp->n_vocab;
	}
out:
	free(buf);
	free(kc);
	free(vc);
	return rc;
}
