/* bench/bench_attention.c — attention alone, per KV cache type, on one layer of a
 * real model shape (default: Llama-3.2-1B, 32 query heads, 8 KV heads, head dim 64):
 *   bench_attention [-c CONTEXT] [-b BATCH] [-t THREADS] [-r REPS] [--shape 1b|8b|70b]
 *                   [--kernels NAME] [--kv TYPE]
 * The cache is filled with CONTEXT random tokens; "prefill" attends a batch of BATCH
 * queries at the end of the window (each sees ~CONTEXT keys), "decode" one query.
 * Reports the best of REPS: microseconds per call, query-key pairs per second and
 * the cache bytes streamed per second for decode; with -t 1, in CPU time of the one
 * thread.  Figures only (noisy machine). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/attention.h"
#include "engine/kernels/kernels.h"
#include "engine/kv.h"
#include "engine/pool.h"

/* with -t 1 all work runs on this thread: its CPU time is immune to other processes
 * taking the cores, so -t 1 figures are the stable ones on a shared machine */
static int cpu_clock;

static double now(void)
{
	struct timespec t;

	clock_gettime(cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 42;

static float frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shape", required_argument, NULL, 's' }, { "kernels", required_argument, NULL, 'K' },
		{ "kv", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t n_ctx = 4096, batch = 256, n_head = 32, n_kv = 8, hd = 64;
	int threads = 2, reps = 3, c, only = -1;
	const struct lr_attn_kernels *K = NULL;   /* the best set the CPU runs, as the engine picks */
	struct lr_pool *pool = NULL;
	struct lr_err err = { 0 };

	while ((c = getopt_long(argc, argv, "c:b:t:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': n_ctx = (uint32_t)atoi(optarg); break;
		case 'b': batch = (uint32_t)atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 's':
			if (strcmp(optarg, "8b") == 0) { n_head = 32; n_kv = 8; hd = 128; }
			else if (strcmp(optarg, "70b") == 0) { n_head = 64; n_kv = 8; hd = 128; }
			break;
		case 'K':
			if (!(K = lr_attn_kernels_get(optarg))) {
				fprintf(stderr, "bench_attention: no '%s' kernels on this CPU or build\n", optarg);
				return 2;
			}
			break;
		case 'k': {
			enum lr_kv_type t;
			if (lr_kv_type_parse(optarg, &t) == 0)
				only = (int)t;
			break;
		}
		default:
			fprintf(stderr, "usage: bench_attention [-c N] [-b N] [-t N] [-r N] [--shape 1b|8b|70b] [--kernels K] [--kv T]\n");
			return 2;
		}
	}
	if (!K && !(K = lr_attn_kernels_get(lr_kernels_best()->name)))
		K = &lr_attn_kernels_scalar;
	cpu_clock = threads == 1;
	if (batch > n_ctx || lr_pool_new(&pool, threads, &err)) {
		fprintf(stderr, "bench_attention: bad arguments %s\n", err.msg);
		return 2;
	}
	printf("attention, %u query heads, %u KV heads, head dim %u, context %u, batch %u, %s kernels, %d threads%s\n",
	       n_head, n_kv, hd, n_ctx, batch, K->name, threads, cpu_clock ? " (CPU time)" : "");
	for (int t = 0; t < LR_KV_TYPE_COUNT; t++) {
		struct lr_hparams hp;
		struct lr_kv kv;
		float *q, *out, *k, *v;
		void *scratch;
		double best_p = 1e30, best_d = 1e30;
		uint32_t G = n_head / n_kv;

		if (only >= 0 && t != only)
			continue;
		memset(&hp, 0, sizeof hp);
		hp.n_layer = 1;
		hp.n_head = n_head;
		hp.n_head_kv = n_kv;
		hp.head_dim = hp.head_dim_v = hd;
		if (lr_kv_init(&kv, &hp, (enum lr_kv_type)t, n_ctx, &err)) {
			fprintf(stderr, "bench_attention: %s\n", err.msg);
			return 1;
		}
		k = malloc(sizeof(float) * hd);
		v = malloc(sizeof(float) * hd);
		for (uint32_t p = 0; p < n_ctx; p++)
			for (uint32_t h = 0; h < n_kv; h++) {
				for (uint32_t i = 0; i < hd; i++) {
					k[i] = frand();
					v[i] = frand();
				}
				lr_kv_put(&kv, 0, h, p, k, v);
			}
		q = malloc(sizeof(float) * batch * n_head * hd);
		out = malloc(sizeof(float) * batch * n_head * hd);
		for (uint64_t i = 0; i < (uint64_t)batch * n_head * hd; i++)
			q[i] = frand() * 4;
		scratch = aligned_alloc(64, (size_t)threads * lr_attn_scratch_floats(&kv, G) * 4);
		for (int r = 0; r < reps; r++) {
			struct lr_attn_job j = { .kv = &kv, .kern = K, .layer = 0, .n_tok = batch, .pos0 = n_ctx - batch,
			                         .n_head = n_head, .group = G, .q = q, .out = out,
			                         .scale = 1.0f / sqrtf((float)hd), .scratch = scratch };
			double t0 = now(), t1;
			lr_attention_run(pool, &j);
			t1 = now();
			best_p = fmin(best_p, t1 - t0);
			j.n_tok = 1;
			j.pos0 = n_ctx - 1;
			t0 = now();
			for (int i = 0; i < 10; i++)
				lr_attention_run(pool, &j);
			best_d = fmin(best_d, (now() - t0) / 10);
		}
		{
			double pairs_p = (double)batch * n_head * (n_ctx - batch / 2.0), pairs_d = (double)n_head * n_ctx;
			printf("%-4s prefill %8.0f us (%6.2f G pairs/s, %5.1f GFLOP/s)   decode %7.0f us (%5.2f G pairs/s, "
			       "%5.1f GB/s of cache)\n",
			       lr_kv_type_name((enum lr_kv_type)t), best_p * 1e6, pairs_p / best_p / 1e9,
			       pairs_p * 4 * hd / best_p / 1e9, best_d * 1e6, pairs_d / best_d / 1e9,
			       (double)kv.bytes / best_d / 1e9);
		}
		free(scratch);
		free(q);
		free(out);
		free(k);
		free(v);
		lr_kv_release(&kv);
	}
	lr_pool_free(pool);
	return 0;
}
