/* A small pthreads thread pool for data-parallel kernels: r1_pool_run calls
 * fn(ctx, i, n) once on each of the n threads (the caller is thread 0) and returns
 * when all are done. Workers spin briefly between jobs (decode issues hundreds of
 * small jobs per token), then sleep. */
#ifndef R1_POOL_H
#define R1_POOL_H

typedef struct r1_pool r1_pool;
typedef void (*r1_pool_fn)(void *ctx, int thread, int n_threads);

/* n_threads <= 0 means one per online CPU. Returns NULL when threads cannot start. */
r1_pool *r1_pool_create(int n_threads);
void r1_pool_free(r1_pool *pool);
int r1_pool_size(const r1_pool *pool);
void r1_pool_run(r1_pool *pool, r1_pool_fn fn, void *ctx);

/* Splits [0, n) into n_threads near-equal ranges and gives thread's. */
void r1_split_range(long n, int thread, int n_threads, long *begin, long *end);

/* A parallel loop: fn(ctx, begin, end) on each thread's non-empty range of [0, n)
 * (r1_split_range); pool NULL runs fn(ctx, 0, n) on the caller. */
typedef void (*r1_range_fn)(void *ctx, long begin, long end);
void r1_pool_for(r1_pool *pool, long n, r1_range_fn fn, void *ctx);

#endif
