/* bench/bench_kv.c — KV cache bytes at 131,072 tokens for the Llama-3.2-1B, 3.1-8B
 * and 3.3-70B shapes, per cache type, exactly as lr_kv_init allocates them; each
 * cache smaller than a quarter of the memory available now is also reserved for real
 * and its resident size measured (larger ones would squeeze whatever else runs here).
 *   bench_kv [-c TOKENS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/kv.h"

/* resident set size in bytes, from /proc/self/statm */
static double rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (double)res * (double)sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; uint32_t layers, kv, hd; } shapes[] = {
		{ "Llama-3.2-1B", 16, 8, 64 }, { "Llama-3.1-8B", 32, 8, 128 }, { "Llama-3.3-70B", 80, 8, 128 },
	};
	uint32_t n_ctx = 131072;
	int c;

	while ((c = getopt(argc, argv, "c:")) != -1)
		if (c == 'c')
			n_ctx = (uint32_t)atoi(optarg);
	printf("KV cache for %u tokens, GiB as allocated (resident size measured where it is small enough)\n", n_ctx);
	printf("%-15s %22s %22s %22s %22s\n", "shape", "f32", "f16", "q8", "q4");
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		struct lr_hparams hp;
		memset(&hp, 0, sizeof hp);
		hp.n_layer = shapes[s].layers;
		hp.n_head_kv = shapes[s].kv;
		hp.n_head = shapes[s].kv * 4;
		hp.head_dim = hp.head_dim_v = shapes[s].hd;
		printf("%-15s", shapes[s].name);
		for (int t = 0; t < LR_KV_TYPE_COUNT; t++) {
			struct lr_kv kv;
			struct lr_err err = { 0 };
			double before = rss();
			char buf[64];
			uint64_t bytes = lr_kv_bytes(&hp, (enum lr_kv_type)t, n_ctx);
			if (bytes > lr_mem_available() / 4) {
				snprintf(buf, sizeof buf, "%.2f", (double)bytes / (1 << 30));
			} else if (lr_kv_init(&kv, &hp, (enum lr_kv_type)t, n_ctx, &err) == 0) {
				snprintf(buf, sizeof buf, "%.2f (%.2f)", (double)bytes / (1 << 30), (rss() - before) / (1 << 30));
				if (kv.bytes != bytes)
					snprintf(buf, sizeof buf, "MISMATCH %.2f", (double)kv.bytes / (1 << 30));
				lr_kv_release(&kv);
			} else {
				snprintf(buf, sizeof buf, "%.2f (no room)", (double)bytes / (1 << 30));
			}
			printf(" %22s", buf);
		}
		printf("\n");
	}
	return 0;
}
