/* engine/attention.h — causal grouped-query attention straight over the KV cache.
 *
 * Work is split into items: (a block of query tokens, one KV head, a range of keys).
 * The query rows of every head of the group and every token of the block share one
 * scan over that KV head's keys and values, read tile by tile (256 keys) from the
 * cache in its own type (engine/kernels/attn.h: int16 x int8 dot products for q8/q4
 * keys, float for f32/f16; values converted one tile at a time into a per-thread
 * scratch tile, as bf16 pairs for q8/q4 where the CPU has bf16 dot products).  The softmax is online (running maximum and sum per row, in base 2),
 * tiles past a row's position are never read, and nothing of size n_ctx is allocated.
 * When decoding (one query token) there are too few items for the threads, so each
 * head's keys are split into ranges whose partial results are merged afterwards
 * (log-sum-exp), and every thread streams part of the cache. */
#ifndef LR_ATTENTION_H
#define LR_ATTENTION_H

#include <stdint.h>

#include "engine/kernels/attn.h"
#include "engine/kv.h"
#include "engine/pool.h"

#define LR_ATTN_ROWS 128      /* query rows (tokens x heads of a group) per item, at most */

struct lr_attn_job {
	const struct lr_kv *kv;
	const struct lr_attn_kernels *kern;   /* NULL: scalar */
	uint32_t layer;
	uint32_t n_tok;        /* queries in this batch */
	uint32_t pos0;         /* position of the first query; query t sees keys 0..pos0+t,
	                          which must all be stored already */
	uint32_t n_head, group;/* query heads, query heads per KV head */
	const float *q;        /* [n_tok][n_head][head_dim], after RoPE, not rotated */
	float *out;            /* [n_tok][n_head][head_dim_v] */
	float scale;           /* usually 1 / sqrt(head_dim) */
	void *scratch;         /* n_threads * lr_attn_scratch_floats(kv, group) floats, 64-byte aligned */
};

/* Floats of scratch lr_attention_run needs per thread of the pool (a multiple of 16). */
uint64_t lr_attn_scratch_floats(const struct lr_kv *kv, uint32_t group);

/* Run the job on the pool (whose size must not exceed the n_threads the scratch was
 * sized for).  Results do not depend on the number of threads. */
void lr_attention_run(struct lr_pool *pool, const struct lr_attn_job *job);

#endif
