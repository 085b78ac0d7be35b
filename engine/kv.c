/* engine/kv.c — KV cache types and sizing. */
#include "engine/kv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/fp16.h"

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

int lr_kv_init(struct lr_kv *kv, const struct lr_hparams *hp, enum lr_kv_type t, uint32_t n_ctx,
               struct lr_err *err)
{
	uint64_t half;
	unsigned esz;
	void *k, *v;

	memset(kv, 0, sizeof *kv);
	if (t != LR_KV_F32 && t != LR_KV_F16)
		return lr_errf(err, LR_EUNSUPPORTED, "KV cache type %s is not implemented yet",
			lr_kv_type_name(t));
	esz = t == LR_KV_F32 ? 4 : 2;
	kv->type = t;
	kv->n_ctx = n_ctx;
	kv->n_layer = hp->n_layer;
	kv->n_head_kv = hp->n_head_kv;
	kv->head_dim = hp->head_dim;
	kv->head_dim_v = hp->head_dim_v;
	kv->k_row = (uint64_t)hp->head_dim * esz;
	kv->v_row = (uint64_t)hp->head_dim_v * esz;
	half = (uint64_t)hp->n_layer * hp->n_head_kv * n_ctx;
	/* anonymous maps: pages are committed on first touch, so a large window costs
	 * memory only as it fills, and the OS can refuse cleanly up front */
	k = mmap(NULL, half * kv->k_row, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v = mmap(NULL, half * kv->v_row, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k == MAP_FAILED || v == MAP_FAILED) {
		if (k != MAP_FAILED)
			munmap(k, half * kv->k_row);
		if (v != MAP_FAILED)
			munmap(v, half * kv->v_row);
		return lr_errf(err, LR_ENOMEM, "cannot reserve %" PRIu64 " MiB for a %s KV cache of %" PRIu32
			" tokens", half * (kv->k_row + kv->v_row) >> 20, lr_kv_type_name(t), n_ctx);
	}
	kv->k = k;
	kv->v = v;
	kv->bytes = half * (kv->k_row + kv->v_row);
	return 0;
}

void lr_kv_release(struct lr_kv *kv)
{
	uint64_t half = (uint64_t)kv->n_layer * kv->n_head_kv * kv->n_ctx;

	if (kv->k)
		munmap(kv->k, half * kv->k_row);
	if (kv->v)
		munmap(kv->v, half * kv->v_row);
	memset(kv, 0, sizeof *kv);
}

void lr_kv_put(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos,
               const float *k, const float *v)
{
	uint8_t *kd = lr_kv_k(kv, layer, head, pos), *vd = lr_kv_v(kv, layer, head, pos);

	if (kv->type == LR_KV_F32) {
		memcpy(kd, k, kv->k_row);
		memcpy(vd, v, kv->v_row);
		return;
	}
	for (uint32_t i = 0; i < kv->head_dim; i++) {
		uint16_t h = lr_f32_to_f16(k[i]);
		memcpy(kd + 2 * i, &h, 2);
	}
	for (uint32_t i = 0; i < kv->head_dim_v; i++) {
		uint16_t h = lr_f32_to_f16(v[i]);
		memcpy(vd + 2 * i, &h, 2);
	}
}
