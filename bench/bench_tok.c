/* bench/bench_tok.c — tokenizer throughput: MB/s of lr_tok_encode on one core.
 *
 * Usage: bench_tok [-v VOCAB.gguf] [-r SECONDS] FILE...
 * Defaults: the golden Llama 3 vocabulary ($SHARED or ../shared), 1 s per file.
 * For each file: the best of repeated runs over the whole file (each run is one
 * lr_tok_encode call with a fresh word cache, like the packer's per-document calls),
 * plus the time to build the tokenizer.  A figure, not a test: `make bench`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/gguf.h"
#include "engine/tok.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
	    && (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *shared = getenv("SHARED");
	char vocab_buf[4096];
	const char *vocab = NULL;
	double seconds = 1.0, t0;
	struct lr_gguf *g = NULL;
	struct lr_tok *tok = NULL;
	struct lr_err err = { 0 };
	int c, rc = 1;

	while ((c = getopt(argc, argv, "v:r:")) != -1) {
		switch (c) {
		case 'v': vocab = optarg; break;
		case 'r': seconds = atof(optarg); break;
		default:
			fprintf(stderr, "usage: bench_tok [-v VOCAB.gguf] [-r SECONDS] FILE...\n");
			return 2;
		}
	}
	if (!vocab) {
		snprintf(vocab_buf, sizeof vocab_buf, "%s/golden/tokenizer/llama3-vocab.gguf",
		         shared && *shared ? shared : "../shared");
		vocab = vocab_buf;
	}
	if (optind == argc) {
		fprintf(stderr, "usage: bench_tok [-v VOCAB.gguf] [-r SECONDS] FILE...\n");
		return 2;
	}
	t0 = now();
	if (lr_gguf_open(&g, vocab, &err) || lr_tok_new(&tok, g, &err)) {
		fprintf(stderr, "bench_tok: %s: %s\n", vocab, err.msg);
		goto out;
	}
	printf("tokenizer build: %.1f ms (%s, %u tokens)\n", (now() - t0) * 1e3, vocab,
	       lr_tok_n_vocab(tok));
	for (int i = optind; i < argc; i++) {
		struct lr_tok_ids ids = { 0 };
		size_t len = 0;
		char *text = slurp(argv[i], &len);
		double best = 1e30, start = now();
		int runs = 0;

		if (!text) {
			fprintf(stderr, "bench_tok: cannot read '%s'\n", argv[i]);
			goto out;
		}
		do {
			double t = now();
			ids.n = 0;
			if (lr_tok_encode(tok, text, len, 0, &ids, &err)) {
				fprintf(stderr, "bench_tok: %s: %s\n", argv[i], err.msg);
				free(text);
				lr_tok_ids_release(&ids);
				goto out;
			}
			t = now() - t;
			if (t < best)
				best = t;
			runs++;
		} while (now() - start < seconds || runs < 3);
		printf("%-48s %8zu bytes %7zu tokens %6.2f bytes/token  %7.2f ms  %7.1f MB/s  (best of %d)\n",
		       argv[i], len, ids.n, (double)len / (double)(ids.n ? ids.n : 1), best * 1e3,
		       (double)len / best / 1e6, runs);
		lr_tok_ids_release(&ids);
		free(text);
	}
	rc = 0;
out:
	lr_tok_free(tok);
	lr_gguf_close(g);
	return rc;
}
