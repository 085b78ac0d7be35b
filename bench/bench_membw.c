/* bench/bench_membw.c — how fast this machine streams memory into N threads: the bound
 * on decode speed, which reads every weight once per token.
 *   bench_membw [-t THREADS] [-m MIB] [-r REPS]
 * Each thread sums its share of a buffer of MIB MiB (default 1024: far beyond any cache)
 * with wide loads, reading it as 1, 2 and 4 interleaved sequential streams (here one
 * stream per core reaches only about half of what two do: the hardware prefetcher
 * keeps more requests in flight for more streams).  The best of REPS passes of the
 * best stream count is printed as GB/s (1e9 bytes), the unit bench_forward reports
 * decode in. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t v8u64 __attribute__((vector_size(64)));

struct part {
	const v8u64 *p;
	size_t n;
	int streams;
	uint64_t sum;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* wide loads where the CPU has them (GCC picks the clone at load time); the share is
 * read as `streams` equal parts side by side */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void *sum_part(void *arg)
{
	struct part *pt = arg;
	v8u64 acc[4] = { { 0 } };
	size_t len = pt->n / (size_t)pt->streams;

	for (size_t i = 0; i < len; i++)
		for (int s = 0; s < pt->streams; s++)
			acc[s] += pt->p[(size_t)s * len + i];
	acc[0] += acc[1] + acc[2] + acc[3];
	pt->sum = 0;
	for (int k = 0; k < 8; k++)
		pt->sum += acc[0][k];
	pt->n = len * (size_t)pt->streams;   /* what was read */
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 5, c;
	size_t mib = 1024;
	double best = 0;

	while ((c = getopt(argc, argv, "t:m:r:")) != -1) {
		switch (c) {
		case 't': threads = atoi(optarg); break;
		case 'm': mib = (size_t)atol(optarg); break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_membw [-t THREADS] [-m MIB] [-r REPS]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 256 || mib < 64 || reps < 1) {
		fprintf(stderr, "bench_membw: need 1-256 threads, at least 64 MiB, 1 rep\n");
		return 2;
	}
	size_t bytes = mib << 20, n = bytes / sizeof(v8u64);
	v8u64 *buf = aligned_alloc(64, bytes);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	struct part *parts = calloc((size_t)threads, sizeof *parts);
	if (!buf || !tid || !parts) {
		fprintf(stderr, "bench_membw: out of memory\n");
		return 1;
	}
	memset(buf, 1, bytes);
	for (int streams = 1; streams <= 4; streams *= 2) {
		double best_s = 0;
		for (int r = 0; r < reps; r++) {
			size_t read = 0;
			uint64_t check = 0, want = 0;
			double t0 = now();
			for (int t = 0; t < threads; t++) {
				size_t lo = n * (size_t)t / (size_t)threads, hi = n * (size_t)(t + 1) / (size_t)threads;
				parts[t] = (struct part){ buf + lo, hi - lo, streams, 0 };
				if (pthread_create(&tid[t], NULL, sum_part, &parts[t])) {
					fprintf(stderr, "bench_membw: cannot start a thread\n");
					return 1;
				}
			}
			for (int t = 0; t < threads; t++) {
				pthread_join(tid[t], NULL);
				check += parts[t].sum;
				read += parts[t].n;
			}
			double gbs = (double)(read * sizeof(v8u64)) / (now() - t0) / 1e9;
			/* every byte is 1: each of the 8 lanes of each vector read adds 0x0101010101010101 */
			want = (uint64_t)read * 8 * 0x0101010101010101ull;
			if (check != want) {
				fprintf(stderr, "bench_membw: wrong sum\n");
				return 1;
			}
			if (gbs > best_s)
				best_s = gbs;
		}
		printf("memory read, %d stream%s a thread: %.1f GB/s\n", streams, streams > 1 ? "s" : "", best_s);
		if (best_s > best)
			best = best_s;
	}
	printf("memory read: %.1f GB/s with %d threads (the best above; %zu MiB, best of %d)\n", best, threads,
	       mib, reps);
	free(buf);
	free(tid);
	free(parts);
	return 0;
}
