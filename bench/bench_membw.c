/* bench/bench_membw.c — how fast this machine streams memory into N threads: the bound
 * on decode speed, which reads every weight once per token.
 *   bench_membw [-t THREADS] [-m MIB] [-r REPS]
 * Each thread sums its share of a buffer of MIB MiB (default 1024: far beyond any cache)
 * with wide loads and independent accumulators; the best of REPS passes is printed as
 * GB/s (1e9 bytes), the unit bench_forward reports decode in. */
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
	uint64_t sum;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* wide loads where the CPU has them (GCC picks the clone at load time) */
__attribute__((target_clones("avx512f", "avx2", "default"))) static void *sum_part(void *arg)
{
	struct part *pt = arg;
	v8u64 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	size_t i;

	for (i = 0; i + 4 <= pt->n; i += 4) {
		a += pt->p[i];
		b += pt->p[i + 1];
		c += pt->p[i + 2];
		d += pt->p[i + 3];
	}
	a += b + c + d;
	pt->sum = 0;
	for (int k = 0; k < 8; k++)
		pt->sum += a[k];
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 5, c;
	size_t mib = 1024;
	double best = 0;
	uint64_t check = 0;

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
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		for (int t = 0; t < threads; t++) {
			size_t lo = n * (size_t)t / (size_t)threads, hi = n * (size_t)(t + 1) / (size_t)threads;
			parts[t] = (struct part){ buf + lo, hi - lo, 0 };
			if (pthread_create(&tid[t], NULL, sum_part, &parts[t])) {
				fprintf(stderr, "bench_membw: cannot start a thread\n");
				return 1;
			}
		}
		for (int t = 0; t < threads; t++) {
			pthread_join(tid[t], NULL);
			check += parts[t].sum;
		}
		double gbs = (double)(n * sizeof(v8u64)) / (now() - t0) / 1e9;
		if (gbs > best)
			best = gbs;
	}
	/* every byte is 1, so each pass sums to n * 8 words of 0x0101010101010101 */
	if (check != (uint64_t)reps * n * 8 * 0x0101010101010101ull) {
		fprintf(stderr, "bench_membw: wrong sum\n");
		return 1;
	}
	printf("memory read: %.1f GB/s with %d threads (%zu MiB, best of %d)\n", best, threads, mib, reps);
	free(buf);
	free(tid);
	free(parts);
	return 0;
}
