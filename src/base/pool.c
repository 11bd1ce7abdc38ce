#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/pool.h"

#define SPIN_ROUNDS 200000
#define WORKER_STACK_BYTES (4u << 20)

struct r1_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint generation;  /* bumped for each job */
    atomic_int pending;      /* workers still running the current job */
    atomic_int sleepers;     /* workers blocked on `wake` */
    atomic_int quit;
    r1_pool_fn fn;
    void *ctx;
};

typedef struct {
    r1_pool *pool;
    int index;
} worker_arg;

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#endif
}

/* Spinning is only cheap while every thread has a core. When the machine is
 * oversubscribed, a spinner burns the time slice the thread it waits for needs,
 * so spinners yield the CPU every YIELD_EVERY rounds. */
#define YIELD_EVERY 256

static void spin_pause(int round) {
    if (round % YIELD_EVERY == YIELD_EVERY - 1) sched_yield();
    else cpu_relax();
}

/* Waits until the generation differs from `seen`: spin first, then sleep. */
static unsigned wait_for_job(r1_pool *pool, unsigned seen) {
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        unsigned g = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (g != seen) return g;
        spin_pause(i);
    }
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&pool->generation)) == seen) pthread_cond_wait(&pool->wake, &pool->lock);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->lock);
    return g;
}

static void *worker_main(void *arg_) {
    worker_arg *arg = arg_;
    r1_pool *pool = arg->pool;
    int index = arg->index;
    free(arg);
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_job(pool, seen);
        if (atomic_load(&pool->quit)) return NULL;
        pool->fn(pool->ctx, index, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

r1_pool *r1_pool_create(int n_threads) {
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    r1_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    if (!pool->threads) {
        free(pool);
        return NULL;
    }
    /* the GEMM kernels keep their packed panels on the stack (up to ~280 KB): ask
     * for room rather than rely on the platform's default (musl: 128 KB) */
    pthread_attr_t attr;
    int have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr) pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) {
            pool->n_threads = i;
            r1_pool_free(pool);
            if (have_attr) pthread_attr_destroy(&attr);
            return NULL;
        }
        arg->pool = pool;
        arg->index = i;
        if (pthread_create(&pool->threads[i], have_attr ? &attr : NULL, worker_main, arg) != 0) {
            free(arg);
            pool->n_threads = i;
            r1_pool_free(pool);
            if (have_attr) pthread_attr_destroy(&attr);
            return NULL;
        }
    }
    if (have_attr) pthread_attr_destroy(&attr);
    return pool;
}

void r1_pool_free(r1_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->quit, 1);
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->generation, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool);
}

int r1_pool_size(const r1_pool *pool) { return pool ? pool->n_threads : 1; }

void r1_pool_run(r1_pool *pool, r1_pool_fn fn, void *ctx) {
    if (!pool || pool->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->pending, pool->n_threads - 1);
    /* the lock orders the sleepers check against a worker about to sleep */
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    fn(ctx, 0, pool->n_threads);
    for (int i = 0; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; i++) spin_pause(i);
}

void r1_split_range(long n, int thread, int n_threads, long *begin, long *end) {
    long chunk = n / n_threads, extra = n % n_threads;
    *begin = thread * chunk + (thread < extra ? thread : extra);
    *end = *begin + chunk + (thread < extra ? 1 : 0);
}

typedef struct {
    r1_range_fn fn;
    void *ctx;
    long n;
} range_job;

static void run_range(void *ctx, int thread, int n_threads) {
    const range_job *job = ctx;
    long begin, end;
    r1_split_range(job->n, thread, n_threads, &begin, &end);
    if (end > begin) job->fn(job->ctx, begin, end);
}

void r1_pool_for(r1_pool *pool, long n, r1_range_fn fn, void *ctx) {
    range_job job = {fn, ctx, n};
    r1_pool_run(pool, run_range, &job);
}
