/* engine/attention.h — causal grouped-query attention over the KV cache.
 *
 * Work is split into items (token, KV head): every query head of a group shares the
 * scan over that KV head's keys and values, which are read tile by tile (64 positions)
 * straight from the cache; the softmax is computed online (running maximum and sum),
 * so nothing of size n_ctx is ever materialised per query. */
#ifndef LR_ATTENTION_H
#define LR_ATTENTION_H

#include <stdint.h>

#include "engine/kv.h"

#define LR_ATTN_TILE 64

struct lr_attn_job {
	const struct lr_kv *kv;
	uint32_t layer;
	uint32_t n_tok;        /* queries in this batch */
	uint32_t pos0;         /* position of the first query; query t sees keys 0..pos0+t */
	uint32_t n_head, group;/* query heads, query heads per KV head */
	const float *q;        /* [n_tok][n_head][head_dim], rotated */
	float *out;            /* [n_tok][n_head][head_dim_v] */
	float scale;           /* 1 / sqrt(head_dim) */
	float *scratch;        /* lr_attn_scratch_floats() per thread */
};

/* Floats of per-thread scratch lr_attention needs. */
uint64_t lr_attn_scratch_floats(const struct lr_kv *kv, uint32_t group);

/* The share of items for thread ith of nth (an lr_pool_fn body). */
void lr_attention(const struct lr_attn_job *job, int ith, int nth);

#endif
