/* bench/bench_forward.c — prefill and decode speed of the forward pass.
 *   bench_forward MODEL.gguf [-p PROMPT_TOKENS] [-n DECODE_TOKENS] [-t THREADS] [-r REPS]
 *                 [--kv TYPE] [--kernels NAME]
 * Prefill: PROMPT_TOKENS random ids evaluated in batches (logits of the last only).
 * Decode: DECODE_TOKENS single-token steps after that prompt.  Reports the best of
 * REPS runs (the machine is shared and noisy): tokens/s, and for decode the weight
 * bytes read per second. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/forward.h"
#include "engine/kernels/kernels.h"
#include "engine/model.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kv", required_argument, NULL, 'k' }, { "kernels", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_ctx_params cp = { 0 };
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };
	int n_prompt = 512, n_gen = 32, reps = 3, c;
	double best_pp = 0, best_tg = 0;
	uint64_t weight_bytes = 0;

	while ((c = getopt_long(argc, argv, "p:n:t:r:b:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': n_prompt = atoi(optarg); break;
		case 'n': n_gen = atoi(optarg); break;
		case 't': cp.n_threads = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'b': cp.n_batch = (uint32_t)atoi(optarg); break;
		case 'k':
			if (lr_kv_type_parse(optarg, &cp.kv_type)) {
				fprintf(stderr, "bad --kv\n");
				return 2;
			}
			break;
		case 'K':
			cp.kernels = lr_kernels_get(optarg);
			if (!cp.kernels) {
				fprintf(stderr, "kernels '%s' not available\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: bench_forward MODEL [-p N] [-n N] [-t N] [-r N] [-b N] [--kv T]\n");
			return 2;
		}
	}
	if (optind != argc - 1 || lr_model_open(&m, argv[optind], &err)) {
		fprintf(stderr, "bench_forward: %s\n", err.msg[0] ? err.msg : "usage: bench_forward MODEL");
		return 1;
	}
	for (uint32_t l = 0; l < m->hp.n_layer; l++) {
		const struct lr_layer *L = &m->layers[l];
		const struct lr_weight *ws[] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down };
		for (size_t i = 0; i < 7; i++)
			weight_bytes += ws[i]->row_bytes * (uint64_t)ws[i]->n_out;
	}
	weight_bytes += m->output.row_bytes * (uint64_t)m->output.n_out;
	cp.n_ctx = (uint32_t)(n_prompt + n_gen);

	int32_t *ids = malloc(sizeof(int32_t) * (size_t)(n_prompt + n_gen));
	float *logits = malloc(sizeof(float) * m->hp.n_vocab);
	uint64_t r = 42;
	for (int i = 0; i < n_prompt + n_gen; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		ids[i] = (int32_t)((r >> 33) % (m->hp.n_vocab > 1000 ? 1000 : m->hp.n_vocab));
	}
	for (int rep = 0; rep < reps; rep++) {
		struct lr_ctx *ctx = NULL;
		double t0, t1, t2;
		if (lr_ctx_new(&ctx, m, &cp, &err)) {
			fprintf(stderr, "bench_forward: %s\n", err.msg);
			return 1;
		}
		t0 = now();
		if (lr_eval(ctx, ids, (uint32_t)n_prompt, NULL, logits, &err)) {
			fprintf(stderr, "bench_forward: %s\n", err.msg);
			return 1;
		}
		t1 = now();
		for (int i = 0; i < n_gen; i++)
			lr_eval(ctx, ids + n_prompt + i, 1, NULL, logits, &err);
		t2 = now();
		if (n_prompt / (t1 - t0) > best_pp)
			best_pp = n_prompt / (t1 - t0);
		if (n_gen && n_gen / (t2 - t1) > best_tg)
			best_tg = n_gen / (t2 - t1);
		if (rep == 0)
			printf("model %s, %s kernels, %d threads, kv %s (%.1f MiB for %u tokens)\n", argv[optind],
			       lr_ctx_kernels(ctx)->name, lr_ctx_threads(ctx), lr_kv_type_name(cp.kv_type),
			       (double)lr_ctx_kv(ctx)->bytes / (1 << 20), cp.n_ctx);
		lr_ctx_free(ctx);
	}
	printf("prefill pp%d: %.1f tok/s\n", n_prompt, best_pp);
	if (n_gen)
		printf("decode  tg%d: %.1f tok/s (%.1f GB/s of weights)\n", n_gen, best_tg,
		       best_tg * (double)weight_bytes / 1e9);
	{
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("peak RSS: %.1f MiB\n", (double)ru.ru_maxrss / 1024);
	}
	free(ids);
	free(logits);
	lr_model_close(m);
	return 0;
}
