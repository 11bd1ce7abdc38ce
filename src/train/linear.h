/* The linear layer of the trainer over F32 weights, forward and backward side by
 * side. W is stored as the engine stores F32 matrices (r1_matrix, GGUF
 * ne[0] = in contiguous): out rows of in floats. Activations are T rows,
 * row-major. Gradients accumulate (+=), as in model/ops.h.
 *
 * The products are tensor/gemm_f32.h's, or gemm_bf16.h's (operands rounded to
 * bfloat16, float sums) for R1_LINEAR_BF16. With a pool the work is split so that
 * every output element is computed by one thread in the same order as without:
 * results are bit-identical for any thread count (pool NULL = the calling thread
 * alone). The plain forms are float on the calling thread. */
#ifndef R1_LINEAR_H
#define R1_LINEAR_H

#include "base/pool.h"
#include "tensor/gemm_f32.h"

/* The precision of a layer's three products. */
typedef enum { R1_LINEAR_F32, R1_LINEAR_BF16 } r1_linear_precision;

/* y[t] = W·x[t] for t < T: y (T × out), x (T × in), W (out × in); the engine's
 * r1_matmul on F32 weights up to float rounding (it sums each dot product in
 * another order). */
void r1_linear_forward(float *y, const float *x, const float *W, int T, int in, int out);
void r1_linear_forward_pool(r1_pool *pool, r1_linear_precision precision, float *y, const float *x, const float *W,
                            int T, int in, int out);
/* Given dy = ∂L/∂y (T × out):  dx (T × in) += dy·W,  dW (out × in) += dyᵀ·x.
 * dx may be NULL when only the weight gradient is wanted. With dx_mode
 * R1_GEMM_SET the pool form writes dx = dy·W without reading dx: the bits that
 * zeroing dx and adding would give, without the pass that zeroes it. */
void r1_linear_backward(float *dx, float *dW, const float *dy, const float *x, const float *W, int T, int in, int out);
void r1_linear_backward_pool(r1_pool *pool, r1_linear_precision precision, r1_gemm_mode dx_mode, float *dx, float *dW,
                             const float *dy, const float *x, const float *W, int T, int in, int out);

#endif
