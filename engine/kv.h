/* engine/kv.h — the KV cache: its element types and their sizes.
 *
 * A cache holds, per layer and per KV head, one key and one value vector per token.
 * Types: f32 (reference), f16, q8 (int8 codes + an f16 scale per 32 values, 8.5 bits),
 * q4 (4-bit codes + an f16 scale per 32 values, 4.5 bits, after a Hadamard rotation). */
#ifndef LR_KV_H
#define LR_KV_H

#include <stdint.h>

#include "engine/hparams.h"

enum lr_kv_type {
	LR_KV_F32 = 0,
	LR_KV_F16 = 1,
	LR_KV_Q8  = 2,
	LR_KV_Q4  = 3,
	LR_KV_TYPE_COUNT
};

/* "f32", "f16", "q8", "q4". */
const char *lr_kv_type_name(enum lr_kv_type t);

/* Parse a name as above; returns 0, or LR_EINVAL for anything else. */
int lr_kv_type_parse(const char *s, enum lr_kv_type *out);

/* Bytes of a K and V cache for n_ctx tokens of this model (all layers), as allocated.
 * hparams are validated, so the result cannot overflow for n_ctx < 2^32. */
uint64_t lr_kv_bytes(const struct lr_hparams *hp, enum lr_kv_type t, uint64_t n_ctx);

/* The cache itself.  Layout per layer and KV head: n_ctx rows of one token's key (or
 * value) vector in the cache type, so attention scans one head's keys contiguously:
 * k[layer][head][pos][..]. */
struct lr_kv {
	enum lr_kv_type type;
	uint32_t n_ctx, n_layer, n_head_kv, head_dim, head_dim_v;
	uint64_t k_row, v_row;       /* bytes of one token's key / value vector for one head */
	uint8_t *k, *v;              /* [n_layer][n_head_kv][n_ctx][row] */
	uint64_t bytes;              /* both, as allocated */
};

/* Reserve the whole cache for n_ctx tokens up front.  Errors: LR_EUNSUPPORTED for a
 * type not implemented yet, LR_ENOMEM (message gives the size). */
int lr_kv_init(struct lr_kv *kv, const struct lr_hparams *hp, enum lr_kv_type t, uint32_t n_ctx,
               struct lr_err *err);
void lr_kv_release(struct lr_kv *kv);

/* Where a token's key / value for one layer and head is stored. */
static inline uint8_t *lr_kv_k(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos)
{
	return kv->k + (((uint64_t)layer * kv->n_head_kv + head) * kv->n_ctx + pos) * kv->k_row;
}
static inline uint8_t *lr_kv_v(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos)
{
	return kv->v + (((uint64_t)layer * kv->n_head_kv + head) * kv->n_ctx + pos) * kv->v_row;
}

/* Store one head's key and value vectors (float32) for a token. */
void lr_kv_put(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos,
               const float *k, const float *v);

#endif
