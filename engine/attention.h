/* engine/attention.h — causal grouped-query attention over the KV cache.
 *
 * Work is split into items (a block of query tokens, one KV head): the query rows of
 * every head in the group and every token of the block share one scan over that KV
 * head's keys and values, read tile by tile straight from the cache (converted to
 * float32 one tile at a time when the cache is not float32).  Scores and the weighted
 * sum of values are small matrix products (OpenBLAS sgemm); the softmax is computed
 * online (running maximum and sum per row), so nothing of size n_ctx is materialised. */
#ifndef LR_ATTENTION_H
#define LR_ATTENTION_H

#include <stdint.h>

#include "engine/kv.h"

#define LR_ATTN_TILE 256     /* keys per tile */
#define LR_ATTN_ROWS 64      /* query rows (tokens x heads of a group) per item, at most */

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
