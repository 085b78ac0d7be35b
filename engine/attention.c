/* engine/attention.c — tiled online-softmax attention over the KV cache (f32 and f16
 * caches).  Workload: prefill runs n_tok x n_head_kv items over up to n_ctx keys each;
 * decode runs n_head_kv items of one query each, memory-bound on reading the cache. */
#include "engine/attention.h"

#include <math.h>
#include <string.h>

#include "engine/fp16.h"

uint64_t lr_attn_scratch_floats(const struct lr_kv *kv, uint32_t group)
{
	/* scores[group][TILE], acc[group][hdv], max[group], sum[group], k/v tiles */
	return (uint64_t)group * (LR_ATTN_TILE + kv->head_dim_v + 2) +
	       (uint64_t)LR_ATTN_TILE * (kv->head_dim + kv->head_dim_v) + 64;
}

/* A tile of n rows of a head's keys or values as float32 (f32 caches are used in
 * place; f16 rows are converted into buf). */
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

static void item(const struct lr_attn_job *j, uint32_t t, uint32_t g, float *scratch)
{
	const struct lr_kv *kv = j->kv;
	const uint32_t hd = kv->head_dim, hdv = kv->head_dim_v, G = j->group;
	const uint32_t n_keys = j->pos0 + t + 1;
	float *scores = scratch;                         /* [G][TILE] */
	float *acc = scores + (size_t)G * LR_ATTN_TILE;  /* [G][hdv] */
	float *mx = acc + (size_t)G * hdv;               /* [G] */
	float *sum = mx + G;                             /* [G] */
	float *kbuf = sum + G;                           /* [TILE][hd] */
	float *vbuf = kbuf + (size_t)LR_ATTN_TILE * hd;  /* [TILE][hdv] */
	const float *q = j->q + ((size_t)t * j->n_head + (size_t)g * G) * hd;

	for (uint32_t h = 0; h < G; h++) {
		mx[h] = -INFINITY;
		sum[h] = 0;
	}
	memset(acc, 0, sizeof(float) * G * hdv);
	for (uint32_t p0 = 0; p0 < n_keys; p0 += LR_ATTN_TILE) {
		uint32_t n = n_keys - p0 < LR_ATTN_TILE ? n_keys - p0 : LR_ATTN_TILE;
		const float *K = tile(kv, lr_kv_k(kv, j->layer, g, p0), n, hd, kbuf);
		const float *V = tile(kv, lr_kv_v(kv, j->layer, g, p0), n, hdv, vbuf);

		for (uint32_t h = 0; h < G; h++) {
			const float *qh = q + (size_t)h * hd;
			float *s = scores + (size_t)h * LR_ATTN_TILE, m = mx[h];
			for (uint32_t i = 0; i < n; i++) {
				float d = 0;
				for (uint32_t e = 0; e < hd; e++)
					d += qh[e] * K[(size_t)i * hd + e];
				s[i] = d * j->scale;
				if (s[i] > m)
					m = s[i];
			}
			/* rescale what was accumulated under the old maximum */
			float corr = expf(mx[h] - m), l = 0;
			float *a = acc + (size_t)h * hdv;
			for (uint32_t e = 0; e < hdv; e++)
				a[e] *= corr;
			for (uint32_t i = 0; i < n; i++) {
				float p = expf(s[i] - m);
				l += p;
				for (uint32_t e = 0; e < hdv; e++)
					a[e] += p * V[(size_t)i * hdv + e];
			}
			sum[h] = sum[h] * corr + l;
			mx[h] = m;
		}
	}
	for (uint32_t h = 0; h < G; h++) {
		float *o = j->out + ((size_t)t * j->n_head + (size_t)g * G + h) * hdv;
		float inv = 1.0f / sum[h];
		for (uint32_t e = 0; e < hdv; e++)
			o[e] = acc[(size_t)h * hdv + e] * inv;
	}
}

void lr_attention(const struct lr_attn_job *j, int ith, int nth)
{
	const uint32_t n_kv = j->kv->n_head_kv;
	const uint64_t n_items = (uint64_t)j->n_tok * n_kv;
	float *scratch = j->scratch + (uint64_t)ith * lr_attn_scratch_floats(j->kv, j->group);

	/* interleave items so every thread gets short and long (late) queries alike */
	for (uint64_t it = (uint64_t)ith; it < n_items; it += (uint64_t)nth)
		item(j, (uint32_t)(it / n_kv), (uint32_t)(it % n_kv), scratch);
}
