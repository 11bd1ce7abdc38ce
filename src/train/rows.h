/* The trainer's row-wise steps (norms, SwiGLU, clearing and adding buffers) spread
 * over a pool, each thread on its own rows. Results are the serial loops' bit for
 * bit: rows are independent, and the one sum across rows (a norm's weight
 * gradient) is taken in row order. */
#ifndef R1_ROWS_H
#define R1_ROWS_H

#include <stddef.h>

#include "base/pool.h"

/* out[t] = RMSNorm(x[t]) for t < n_rows; rows of n floats, contiguous. */
void r1_rows_rmsnorm(r1_pool *pool, float *out, const float *x, const float *weight, int n_rows, int n, float eps);
/* The same into rows out_stride floats apart (a part of a wider row). */
void r1_rows_rmsnorm_strided(r1_pool *pool, float *out, size_t out_stride, const float *x, const float *weight,
                             int n_rows, int n, float eps);
/* r1_rmsnorm_backward of each row: dx[t] (rows dx_stride apart) += ∂L/∂x[t] and
 * dweight += Σ_t ∂L/∂weight, given dout (rows dout_stride apart) and x (rows
 * x_stride apart). scratch: n_rows × n floats, for the per-row weight gradients
 * before their sum. */
void r1_rows_rmsnorm_backward(r1_pool *pool, float *dx, size_t dx_stride, float *dweight, const float *dout,
                              size_t dout_stride, const float *x, size_t x_stride, const float *weight, int n_rows,
                              int n, float eps, float *scratch);
/* x[i] = 0 and y[i] += x[i] for i < n. */
void r1_rows_zero(r1_pool *pool, float *x, size_t n);
void r1_rows_add(r1_pool *pool, float *y, const float *x, size_t n);
/* out = silu(gate)·up (r1_swiglu_f32; out may be gate) and r1_swiglu_backward over
 * n elements. */
void r1_rows_swiglu(r1_pool *pool, float *out, const float *gate, const float *up, long n);
void r1_rows_swiglu_backward(r1_pool *pool, float *dgate, float *dup, const float *dout, const float *gate_in,
                             const float *up_in, long n);

#endif
