/* tests/fuzz_gguf.c — fuzz target for the GGUF reader and hyper-parameter loader.
 * Built with -DLR_LIBFUZZER (make fuzz-gguf, needs clang) it is a libFuzzer target;
 * otherwise it replays tests/fuzz/gguf (tests/fuzz_replay.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gguf.h"
#include "engine/hparams.h"
#include "engine/kv.h"
#include "engine/quant.h"
#include "engine/types.h"
#include "tests/fuzz_replay.h"

/* Touch everything a valid parse exposes, so the sanitizers see every access. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_gguf *g = NULL;
	struct lr_hparams hp;
	volatile uint64_t sink = 0;

	if (lr_gguf_parse(&g, data, size, NULL) != 0)
		return 0;
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct lr_gguf_kv *kv = &g->kv[i];
		sink += strlen(kv->key);
		if (lr_gguf_find(g, kv->key) != kv)
			abort();
		if (kv->type == LR_GGUF_STRING && kv->str_len)
			sink += (uint8_t)kv->str[kv->str_len - 1];
		if (kv->type != LR_GGUF_ARRAY)
			continue;
		for (uint64_t k = 0; k < kv->arr_n; k++) {
			if (kv->arr_type == LR_GGUF_STRING) {
				uint64_t n;
				const char *s = lr_gguf_arr_str(g, kv, k, &n);
				sink += n ? (uint8_t)s[n - 1] : 0;
			} else if (kv->arr_type == LR_GGUF_F32 || kv->arr_type == LR_GGUF_F64) {
				sink += (uint64_t)(lr_gguf_arr_float(kv, k) != 0);
			} else if (kv->arr_type != LR_GGUF_ARRAY && kv->arr_type != LR_GGUF_STRING) {
				sink += (uint64_t)lr_gguf_arr_int(kv, k);
			}
		}
	}
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		const struct lr_type_info *ti = lr_type_info(t->type);
		if (lr_gguf_find_tensor(g, t->name) != t)
			abort();
		if (t->n_bytes) {
			sink += ((const uint8_t *)t->data)[0];
			sink += ((const uint8_t *)t->data)[t->n_bytes - 1];
		}
		/* dequantize the first row when it is small */
		if (ti->weights_ok && t->ne[0] > 0 && t->ne[0] <= 4096 && t->n_elements >= (uint64_t)t->ne[0]) {
			float row[4096];
			lr_dequant_row(t->type, t->data, row, t->ne[0]);
			sink += row[0] != 0;
		}
	}
	if (lr_hparams_load(&hp, g, NULL) == 0)
		sink += lr_kv_bytes(&hp, LR_KV_Q4, 131072);
	lr_gguf_close(g);
	(void)sink;
	return 0;
}

#ifndef LR_LIBFUZZER
int main(int argc, char **argv)
{
	return fuzz_replay("gguf", 10, argc, argv);
}
#endif
