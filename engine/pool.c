/* engine/pool.c — persistent worker threads with spin-then-sleep job hand-off.
 *
 * A job's nth parts (fn(arg, ith, nth), ith = 0..nth-1) are claimed, not assigned: each
 * thread, the caller included, takes the next unclaimed part until none is left, and
 * the job is done when every part is.  So a worker that another process keeps off its
 * core does not hold the job up: the caller runs its part too.  (With parts tied to
 * threads, one busy core took decode on 2 threads from 40 to 9-11 tok/s, below 1
 * thread's 16.)  The claim counter carries the job's generation in its top 32 bits, so
 * a worker that wakes late cannot claim a part of a later job with an earlier job's
 * function. */
#include "engine/pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPIN_ITERS  2000    /* busy-wait rounds (pause) before yielding the CPU */
#define YIELD_ITERS 2000    /* sched_yield rounds before sleeping on the condition */

struct lr_pool {
	int n;                          /* threads in all, caller included */
	pthread_t *threads;             /* [n - 1] */
	lr_pool_fn fn;
	void *arg;
	atomic_uint generation;         /* bumped once per job */
	_Atomic uint64_t claim;         /* generation << 32 | next unclaimed part */
	atomic_int done;                /* parts of the current job finished */
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	int sleepers;                   /* workers waiting on wake (under mu) */
};

/* Claim and run parts of job g until none is left (or a later job has begun). */
static void run_parts(struct lr_pool *p, unsigned g)
{
	for (;;) {
		uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
		uint32_t k = (uint32_t)c;
		if ((unsigned)(c >> 32) != g || k >= (uint32_t)p->n)
			return;
		if (!atomic_compare_exchange_weak_explicit(&p->claim, &c, c + 1, memory_order_acq_rel,
		                                           memory_order_acquire))
			continue;
		/* fn and arg are job g's: they change only after all of its parts, this one
		 * included, are done */
		p->fn(p->arg, (int)k, p->n);
		atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
	}
}

static void *worker_main(void *arg)
{
	struct lr_pool *p = arg;   /* a worker has no part of its own: it claims them */
	unsigned seen = 0;

	for (;;) {
		unsigned g;
		int spins = 0;

		while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen) {
			/* spin first (jobs come every few microseconds while a batch runs), then
			 * yield (another process may need this core), then sleep */
			if (++spins < SPIN_ITERS) {
#if defined(__x86_64__) || defined(__i386__)
				__builtin_ia32_pause();
#endif
				continue;
			}
			if (spins < SPIN_ITERS + YIELD_ITERS) {
				sched_yield();
				continue;
			}
			pthread_mutex_lock(&p->mu);
			p->sleepers++;
			while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
			       !atomic_load(&p->stop))
				pthread_cond_wait(&p->wake, &p->mu);
			p->sleepers--;
			pthread_mutex_unlock(&p->mu);
			spins = 0;
		}
		seen = g;
		if (atomic_load(&p->stop))
			return NULL;
		run_parts(p, g);
	}
}

int lr_cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int lr_pool_new(struct lr_pool **out, int n_threads, struct lr_err *err)
{
	struct lr_pool *p;

	*out = NULL;
	if (n_threads < 1)
		n_threads = 1;
	p = calloc(1, sizeof *p);
	if (!p)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	p->n = n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->threads = calloc((size_t)n_threads, sizeof *p->threads);
	if (!p->threads) {
		lr_pool_free(p);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	for (int i = 1; i < n_threads; i++) {
		int rc = pthread_create(&p->threads[i - 1], NULL, worker_main, p);
		if (rc) {
			p->n = i;
			lr_pool_free(p);
			return lr_errf_sys(err, rc, "cannot start worker thread %d", i);
		}
	}
	*out = p;
	return 0;
}

void lr_pool_free(struct lr_pool *p)
{
	if (!p)
		return;
	if (p->threads) {
		pthread_mutex_lock(&p->mu);
		atomic_store(&p->stop, 1);
		atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
		pthread_cond_broadcast(&p->wake);
		pthread_mutex_unlock(&p->mu);
		for (int i = 1; i < p->n; i++)
			pthread_join(p->threads[i - 1], NULL);
		free(p->threads);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->wake);
	free(p);
}

void lr_pool_run(struct lr_pool *p, lr_pool_fn fn, void *arg)
{
	unsigned g;

	if (p->n == 1) {
		fn(arg, 0, 1);
		return;
	}
	p->fn = fn;
	p->arg = arg;
	atomic_store_explicit(&p->done, 0, memory_order_relaxed);
	g = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
	atomic_store_explicit(&p->claim, (uint64_t)g << 32, memory_order_release);
	atomic_store_explicit(&p->generation, g, memory_order_release);
	pthread_mutex_lock(&p->mu);
	if (p->sleepers)
		pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	run_parts(p, g);
	for (int spins = 0; atomic_load_explicit(&p->done, memory_order_acquire) < p->n; spins++) {
		if (spins < SPIN_ITERS) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else {
			sched_yield();
		}
	}
}

int lr_pool_size(const struct lr_pool *p)
{
	return p->n;
}
