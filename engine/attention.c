/* engine/attention.c — tiled online-softmax attention over the KV cache.
 * Workload: prefill runs (n_tok / block) x n_head_kv items over up to n_ctx keys each,
 * arithmetic-bound (two sgemms per tile); decode runs n_head_kv items of one token,
 * bound by reading the cache. */
#include "engine/attention.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "engine/fp16.h"

/* tokens per item: enough rows for efficient products, at most LR_ATTN_ROWS rows */
static uint32_t tokens_per_item(uint32_t group)
{
	uint32_t t = LR_ATTN_ROWS / group;

	return t ? t : 1;
}

static uint32_t rows_per_item(uint32_t group)
{
	return tokens_per_item(group) * group;
}

uint64_t lr_attn_scratch_floats(const struct lr_kv *kv, uint32_t group)
{
	uint64_t R = rows_per_item(group);

	/* Q[R][hd], S[R][TILE], acc[R][hdv], max[R], sum[R], K tile, V tile */
	return R * (kv->head_dim + LR_ATTN_TILE + kv->head_dim_v + 2) +
	       (uint64_t)LR_ATTN_TILE * (kv->head_dim + kv->head_dim_v) + 64;
}

/* n rows of dim values at src as float32: f32 caches are used in place, f16 rows are
 * converted into buf. */
static const float *tile(const struct lr_kv *kv, const uint8_t *src, uint32_t n, uint32_t dim, float *buf)
{
	if (kv->type == LR_KV_F32)
		return (const float *)src;
	for (uint32_t i = 0; i < n * dim; i++) {
		uint16_t h;
		memcpy(&h, src + 2 * i, 2);
		buf[i] = lr_f16_to_f32(h);
	}
	return buf;
}

static void item(const struct lr_attn_job *j, uint32_t t0, uint32_t nt, uint32_t g, float *scratch)
{
	const struct lr_kv *kv = j->kv;
	const uint32_t hd = kv->head_dim, hdv = kv->head_dim_v, G = j->group, R = nt * G;
	const uint32_t n_keys = j->pos0 + t0 + nt;          /* keys the last row sees */
	const uint32_t first_pos = j->pos0 + t0;             /* position of the first row */
	float *Q = scratch;                                   /* [R][hd], row r = token r / G, head r % G */
	float *S = Q + (size_t)R * hd;                        /* [R][TILE] */
	float *acc = S + (size_t)R * LR_ATTN_TILE;            /* [R][hdv] */
	float *mx = acc + (size_t)R * hdv;                    /* [R] */
	float *sum = mx + R;                                  /* [R] */
	float *kbuf = sum + R;                                /* [TILE][hd] */
	float *vbuf = kbuf + (size_t)LR_ATTN_TILE * hd;       /* [TILE][hdv] */

	for (uint32_t r = 0; r < R; r++) {
		const float *q = j->q + ((size_t)(t0 + r / G) * j->n_head + (size_t)g * G + r % G) * hd;
		for (uint32_t e = 0; e < hd; e++)
			Q[(size_t)r * hd + e] = q[e] * j->scale;
		mx[r] = -INFINITY;
		sum[r] = 0;
	}
	memset(acc, 0, sizeof(float) * R * hdv);

	for (uint32_t p0 = 0; p0 < n_keys; p0 += LR_ATTN_TILE) {
		uint32_t n = n_keys - p0 < LR_ATTN_TILE ? n_keys - p0 : LR_ATTN_TILE;
		const float *K = tile(kv, lr_kv_k(kv, j->layer, g, p0), n, hd, kbuf);
		const float *V = tile(kv, lr_kv_v(kv, j->layer, g, p0), n, hdv, vbuf);

		/* S = Q K^T */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)n, (int)hd, 1.0f, Q, (int)hd,
		            K, (int)hd, 0.0f, S, LR_ATTN_TILE);
		for (uint32_t r = 0; r < R; r++) {
			float *s = S + (size_t)r * LR_ATTN_TILE, *a = acc + (size_t)r * hdv;
			uint32_t pos = first_pos + r / G;             /* this row sees keys 0..pos */
			uint32_t valid = pos >= p0 + n ? n : pos + 1 - p0;
			float m = mx[r], corr, l = 0;

			for (uint32_t i = 0; i < valid; i++)
				if (s[i] > m)
					m = s[i];
			corr = expf(mx[r] - m);
			for (uint32_t i = 0; i < valid; i++) {
				s[i] = expf(s[i] - m);
				l += s[i];
			}
			for (uint32_t i = valid; i < n; i++)
				s[i] = 0;                                 /* masked: later positions */
			if (corr != 1.0f)
				for (uint32_t e = 0; e < hdv; e++)
					a[e] *= corr;
			sum[r] = sum[r] * corr + l;
			mx[r] = m;
		}
		/* acc += P V */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)hdv, (int)n, 1.0f, S,
		            LR_ATTN_TILE, V, (int)hdv, 1.0f, acc, (int)hdv);
	}
	for (uint32_t r = 0; r < R; r++) {
		float *o = j->out + ((size_t)(t0 + r / G) * j->n_head + (size_t)g * G + r % G) * hdv;
		float inv = 1.0f / sum[r];
		for (uint32_t e = 0; e < hdv; e++)
			o[e] = acc[(size_t)r * hdv + e] * inv;
	}
}

void lr_attention(const struct lr_attn_job *j, int ith, int nth)
{
	const uint32_t n_kv = j->kv->n_head_kv, tb = tokens_per_item(j->group);
	const uint32_t n_blocks = (j->n_tok + tb - 1) / tb;
	const uint64_t n_items = (uint64_t)n_blocks * n_kv;
	float *scratch = j->scratch + (uint64_t)ith * lr_attn_scratch_floats(j->kv, j->group);

	/* later blocks see more keys: hand them out from the end, round robin */
	for (uint64_t it = (uint64_t)ith; it < n_items; it += (uint64_t)nth) {
		uint64_t k = n_items - 1 - it;
		uint32_t b = (uint32_t)(k / n_kv), g = (uint32_t)(k % n_kv);
		uint32_t t0 = b * tb, nt = j->n_tok - t0 < tb ? j->n_tok - t0 : tb;
		item(j, t0, nt, g, scratch);
	}
}
