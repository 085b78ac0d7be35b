/* engine/pool.h — a persistent pool of worker threads for the forward pass.
 *
 * lr_pool_run runs fn(arg, ith, nth) for ith = 0..nth-1 in parallel and returns when all
 * are done.  Each part goes to whichever thread claims it first, the caller included, so
 * a worker kept off its core by another process does not stall the job; a part never
 * runs on two threads at once, so per-ith scratch stays private.  Workers spin briefly
 * between jobs (a decode step issues ~10 jobs per layer, too many for a sleep/wake each)
 * and then sleep on a condition variable, so an idle pool costs nothing. */
#ifndef LR_POOL_H
#define LR_POOL_H

#include "engine/err.h"

struct lr_pool;

typedef void (*lr_pool_fn)(void *arg, int ith, int nth);

/* A pool of n_threads threads in all (n_threads - 1 workers; 1 means no workers).
 * Returns 0 or LR_ENOMEM / LR_EIO (thread creation failed). */
int lr_pool_new(struct lr_pool **out, int n_threads, struct lr_err *err);

/* Stop and join the workers.  Accepts NULL. */
void lr_pool_free(struct lr_pool *p);

/* Run fn(arg, ith, nth) for ith = 0..nth-1 in parallel, each part on one thread. */
void lr_pool_run(struct lr_pool *p, lr_pool_fn fn, void *arg);

int lr_pool_size(const struct lr_pool *p);

/* The number of CPUs this process may run on (at least 1). */
int lr_cpu_count(void);

#endif
