/* Row-wise steps on the pool (rows.h). */
#include "train/rows.h"

#include <string.h>

#include "model/ops.h"
#include "tensor/activation.h"

typedef struct {
    float *out, *dx, *dweight, *scratch, *dgate, *dup;
    const float *x, *weight, *dout, *up, *gate_in;
    size_t out_stride, dx_stride, dout_stride, x_stride;
    long n_rows;
    int n;
    float eps;
} rows_job;

static void rmsnorm_range(void *ctx, long t0, long t1) {
    const rows_job *j = ctx;
    for (long t = t0; t < t1; t++) r1_rmsnorm(j->out + t * j->out_stride, j->x + t * j->n, j->weight, j->n, j->eps);
}

void r1_rows_rmsnorm_strided(r1_pool *pool, float *out, size_t out_stride, const float *x, const float *weight,
                             int n_rows, int n, float eps) {
    rows_job job = {.out = out, .out_stride = out_stride, .x = x, .weight = weight, .n = n, .eps = eps};
    r1_pool_for(pool, n_rows, rmsnorm_range, &job);
}

void r1_rows_rmsnorm(r1_pool *pool, float *out, const float *x, const float *weight, int n_rows, int n, float eps) {
    r1_rows_rmsnorm_strided(pool, out, (size_t)n, x, weight, n_rows, n, eps);
}

/* Each row's weight gradient lands in its own scratch row (added to zero: the
 * very float the serial loop adds). */
static void rmsnorm_backward_range(void *ctx, long t0, long t1) {
    const rows_job *j = ctx;
    memset(j->scratch + t0 * j->n, 0, (size_t)(t1 - t0) * j->n * sizeof(float));
    for (long t = t0; t < t1; t++)
        r1_rmsnorm_backward(j->dx + t * j->dx_stride, j->scratch + t * j->n, j->dout + t * j->dout_stride,
                            j->x + t * j->x_stride, j->weight, j->n, j->eps);
}

/* dweight[i] += scratch[t][i] for t ascending, over columns [i0, i1). */
static void weight_sum_range(void *ctx, long i0, long i1) {
    const rows_job *j = ctx;
    for (long t = 0; t < j->n_rows; t++)
        for (long i = i0; i < i1; i++) j->dweight[i] += j->scratch[t * j->n + i];
}

void r1_rows_rmsnorm_backward(r1_pool *pool, float *dx, size_t dx_stride, float *dweight, const float *dout,
                              size_t dout_stride, const float *x, size_t x_stride, const float *weight, int n_rows,
                              int n, float eps, float *scratch) {
    rows_job job = {.dx = dx, .dx_stride = dx_stride, .scratch = scratch, .dout = dout, .dout_stride = dout_stride,
                    .x = x, .x_stride = x_stride, .weight = weight, .n = n, .eps = eps};
    r1_pool_for(pool, n_rows, rmsnorm_backward_range, &job);
    rows_job sum = {.dweight = dweight, .scratch = scratch, .n_rows = n_rows, .n = n};
    r1_pool_for(pool, n, weight_sum_range, &sum);
}

static void zero_range(void *ctx, long i0, long i1) {
    const rows_job *j = ctx;
    memset(j->out + i0, 0, (size_t)(i1 - i0) * sizeof(float));
}

void r1_rows_zero(r1_pool *pool, float *x, size_t n) {
    rows_job job = {.out = x};
    r1_pool_for(pool, (long)n, zero_range, &job);
}

static void add_range(void *ctx, long i0, long i1) {
    const rows_job *j = ctx;
    for (long i = i0; i < i1; i++) j->out[i] += j->x[i];
}

void r1_rows_add(r1_pool *pool, float *y, const float *x, size_t n) {
    rows_job job = {.out = y, .x = x};
    r1_pool_for(pool, (long)n, add_range, &job);
}

static void swiglu_range(void *ctx, long i0, long i1) {
    const rows_job *j = ctx;
    r1_swiglu_f32(i1 - i0, j->out + i0, j->gate_in + i0, j->up + i0);
}

void r1_rows_swiglu(r1_pool *pool, float *out, const float *gate, const float *up, long n) {
    rows_job job = {.out = out, .gate_in = gate, .up = up};
    r1_pool_for(pool, n, swiglu_range, &job);
}

static void swiglu_backward_range(void *ctx, long i0, long i1) {
    const rows_job *j = ctx;
    r1_swiglu_backward(j->dgate + i0, j->dup + i0, j->dout + i0, j->gate_in + i0, j->up + i0, (int)(i1 - i0));
}

void r1_rows_swiglu_backward(r1_pool *pool, float *dgate, float *dup, const float *dout, const float *gate_in,
                             const float *up_in, long n) {
    rows_job job = {.dgate = dgate, .dup = dup, .dout = dout, .gate_in = gate_in, .up = up_in};
    r1_pool_for(pool, n, swiglu_backward_range, &job);
}
