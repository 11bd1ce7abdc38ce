#include <stddef.h>

#include "tensor/types.h"
#include "train/linear.h"

/* Tiles that keep the streamed operand in L1/L2 while the other is reused: 16 weight
 * rows (16 KB at in = 256) against every token, 64 input rows against every
 * weight row. Tiling reorders whole dot products and whole axpy rows only, never
 * the terms inside one output element, so it does not change a bit. */
enum { ROW_TILE = 16, TOKEN_TILE = 64 };
/* Below this many multiply-adds a job costs more to hand out than to run. */
#define PARALLEL_MIN_WORK (1L << 16)

typedef struct {
    float *y, *dx, *dW;
    const float *x, *W, *dy;
    int T, in, out;
} linear_job;

static int use_pool(r1_pool *pool, int T, int in, int out) {
    return pool && r1_pool_size(pool) > 1 && (long)T * in * out >= PARALLEL_MIN_WORK;
}

/* Thread's tokens [t0, t1), every output row. */
static void forward_tokens(void *ctx, int thread, int n_threads) {
    const linear_job *j = ctx;
    long t0, t1;
    r1_split_range(j->T, thread, n_threads, &t0, &t1);
    for (int o0 = 0; o0 < j->out; o0 += ROW_TILE) {
        int o1 = o0 + ROW_TILE < j->out ? o0 + ROW_TILE : j->out;
        for (long t = t0; t < t1; t++) {
            const float *x_t = j->x + (size_t)t * j->in;
            float *y_t = j->y + (size_t)t * j->out;
            for (int o = o0; o < o1; o++) y_t[o] = r1_dot_f32(j->in, j->W + (size_t)o * j->in, x_t);
        }
    }
}

void r1_linear_forward_pool(r1_pool *pool, float *y, const float *x, const float *W, int T, int in, int out) {
    linear_job job = {.y = y, .x = x, .W = W, .T = T, .in = in, .out = out};
    if (use_pool(pool, T, in, out)) r1_pool_run(pool, forward_tokens, &job);
    else forward_tokens(&job, 0, 1);
}

void r1_linear_forward(float *y, const float *x, const float *W, int T, int in, int out) {
    r1_linear_forward_pool(NULL, y, x, W, T, in, out);
}

/* dx[t] += Σ_o dy[t][o]·W[o] over thread's tokens: each dx row sums its terms in
 * ascending o, tile after tile. */
static void backward_dx_tokens(const linear_job *j, int thread, int n_threads) {
    long t0, t1;
    r1_split_range(j->T, thread, n_threads, &t0, &t1);
    for (int o0 = 0; o0 < j->out; o0 += ROW_TILE) {
        int o1 = o0 + ROW_TILE < j->out ? o0 + ROW_TILE : j->out;
        for (long t = t0; t < t1; t++) {
            const float *dy_t = j->dy + (size_t)t * j->out;
            float *dx_t = j->dx + (size_t)t * j->in;
            for (int o = o0; o < o1; o++) r1_axpy_f32(j->in, dy_t[o], j->W + (size_t)o * j->in, dx_t);
        }
    }
}

/* dW[o] += Σ_t dy[t][o]·x[t] over thread's weight rows: each row sums its terms in
 * ascending t, tile after tile. */
static void backward_dW_rows(const linear_job *j, int thread, int n_threads) {
    long o0, o1;
    r1_split_range(j->out, thread, n_threads, &o0, &o1);
    for (int t0 = 0; t0 < j->T; t0 += TOKEN_TILE) {
        int t1 = t0 + TOKEN_TILE < j->T ? t0 + TOKEN_TILE : j->T;
        for (long o = o0; o < o1; o++) {
            float *dW_o = j->dW + (size_t)o * j->in;
            for (int t = t0; t < t1; t++)
                r1_axpy_f32(j->in, j->dy[(size_t)t * j->out + o], j->x + (size_t)t * j->in, dW_o);
        }
    }
}

static void backward_split(void *ctx, int thread, int n_threads) {
    const linear_job *j = ctx;
    if (j->dx) backward_dx_tokens(j, thread, n_threads);
    backward_dW_rows(j, thread, n_threads);
}

/* dx[t] += Σ_o dy[t][o]·W[o]  and  dW[o] += Σ_t dy[t][o]·x[t]: both are sums of
 * contiguous rows scaled by one dy element (axpy); dx is split over tokens, dW over
 * its rows, so no two threads write the same element. */
void r1_linear_backward_pool(r1_pool *pool, float *dx, float *dW, const float *dy, const float *x, const float *W,
                             int T, int in, int out) {
    linear_job job = {.dx = dx, .dW = dW, .dy = dy, .x = x, .W = W, .T = T, .in = in, .out = out};
    if (use_pool(pool, T, in, out)) r1_pool_run(pool, backward_split, &job);
    else backward_split(&job, 0, 1);
}

void r1_linear_backward(float *dx, float *dW, const float *dy, const float *x, const float *W, int T, int in, int out) {
    r1_linear_backward_pool(NULL, dx, dW, dy, x, W, T, in, out);
}
