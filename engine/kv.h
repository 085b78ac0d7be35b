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

#endif
