/* engine/kv.c — KV cache types and sizing. */
#include "engine/kv.h"

#include <string.h>

static const char *const names[LR_KV_TYPE_COUNT] = { "f32", "f16", "q8", "q4" };

/* Storage per block of 32 values: codes plus one f16 scale. */
static const uint32_t block_bytes[LR_KV_TYPE_COUNT] = { 128, 64, 34, 18 };

const char *lr_kv_type_name(enum lr_kv_type t)
{
	return (unsigned)t < LR_KV_TYPE_COUNT ? names[t] : "?";
}

int lr_kv_type_parse(const char *s, enum lr_kv_type *out)
{
	for (int t = 0; t < LR_KV_TYPE_COUNT; t++) {
		if (strcmp(s, names[t]) == 0) {
			*out = (enum lr_kv_type)t;
			return 0;
		}
	}
	return LR_EINVAL;
}

uint64_t lr_kv_bytes(const struct lr_hparams *hp, enum lr_kv_type t, uint64_t n_ctx)
{
	/* values per token per layer, K and V together; head dims are multiples of 2, the
	 * quantized types round each head up to whole blocks of 32 */
	uint64_t k_blocks = ((uint64_t)hp->head_dim + 31) / 32;
	uint64_t v_blocks = ((uint64_t)hp->head_dim_v + 31) / 32;
	uint64_t per_tok;

	if (t == LR_KV_F32 || t == LR_KV_F16)
		per_tok = (uint64_t)hp->n_head_kv * (hp->head_dim + hp->head_dim_v) * (t == LR_KV_F32 ? 4 : 2);
	else
		per_tok = (uint64_t)hp->n_head_kv * (k_blocks + v_blocks) * block_bytes[t];
	return per_tok * hp->n_layer * n_ctx;
}
