/* The trainer's linear layer as matrix products (linear.h). */
#include "train/linear.h"

#include "tensor/gemm_bf16.h"
#include "tensor/gemm_f32.h"

/* Below this many multiply-adds a job costs more to hand out than to run. */
#define PARALLEL_MIN_WORK (1L << 16)

typedef struct {
    r1_gemm_f32_fn kernel; /* of the precision */
    r1_gemm_mode dx_mode;
    float *y, *dx, *dW;
    const float *x, *W, *dy;
    int T, in, out;
} linear_job;

static r1_gemm_f32_fn kernel_of(r1_linear_precision precision) {
    return precision == R1_LINEAR_BF16 ? r1_gemm_bf16_kernel() : r1_gemm_f32_kernel();
}

static int use_pool(r1_pool *pool, int T, int in, int out) {
    return pool && r1_pool_size(pool) > 1 && (long)T * in * out >= PARALLEL_MIN_WORK;
}

/* y = x·Wᵀ over thread's tokens [t0, t1): the nt form, x (tokens × in), W (out × in). */
static void forward_tokens(void *ctx, int thread, int n_threads) {
    const linear_job *j = ctx;
    long t0, t1;
    r1_split_range(j->T, thread, n_threads, &t0, &t1);
    if (t1 == t0) return;
    r1_gemm_call(j->kernel, R1_GEMM_SET, (int)(t1 - t0), j->out, j->in, j->x + (size_t)t0 * j->in, j->in, 1, j->W,
                 1, j->in, j->y + (size_t)t0 * j->out, j->out);
}

void r1_linear_forward_pool(r1_pool *pool, r1_linear_precision precision, float *y, const float *x, const float *W,
                            int T, int in, int out) {
    linear_job job = {.kernel = kernel_of(precision), .y = y, .x = x, .W = W, .T = T, .in = in, .out = out};
    if (use_pool(pool, T, in, out)) r1_pool_run(pool, forward_tokens, &job);
    else forward_tokens(&job, 0, 1);
}

void r1_linear_forward(float *y, const float *x, const float *W, int T, int in, int out) {
    r1_linear_forward_pool(NULL, R1_LINEAR_F32, y, x, W, T, in, out);
}

/* dx (+)= dy·W over thread's tokens (the nn form), dW += dyᵀ·x over thread's weight
 * rows (the tn form): no two threads write the same element. */
static void backward_split(void *ctx, int thread, int n_threads) {
    const linear_job *j = ctx;
    long t0, t1, o0, o1;
    r1_split_range(j->T, thread, n_threads, &t0, &t1);
    r1_split_range(j->out, thread, n_threads, &o0, &o1);
    if (j->dx && t1 > t0)
        r1_gemm_call(j->kernel, j->dx_mode, (int)(t1 - t0), j->in, j->out, j->dy + (size_t)t0 * j->out, j->out, 1,
                     j->W, j->in, 1, j->dx + (size_t)t0 * j->in, j->in);
    if (o1 > o0)
        r1_gemm_call(j->kernel, R1_GEMM_ADD, (int)(o1 - o0), j->in, j->T, j->dy + o0, 1, j->out, j->x, j->in, 1,
                     j->dW + (size_t)o0 * j->in, j->in);
}

void r1_linear_backward_pool(r1_pool *pool, r1_linear_precision precision, r1_gemm_mode dx_mode, float *dx, float *dW,
                             const float *dy, const float *x, const float *W, int T, int in, int out) {
    linear_job job = {.kernel = kernel_of(precision), .dx_mode = dx_mode, .dx = dx, .dW = dW, .dy = dy, .x = x,
                      .W = W, .T = T, .in = in, .out = out};
    if (use_pool(pool, T, in, out)) r1_pool_run(pool, backward_split, &job);
    else backward_split(&job, 0, 1);
}

void r1_linear_backward(float *dx, float *dW, const float *dy, const float *x, const float *W, int T, int in, int out) {
    r1_linear_backward_pool(NULL, R1_LINEAR_F32, R1_GEMM_ADD, dx, dW, dy, x, W, T, in, out);
}
