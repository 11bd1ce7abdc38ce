/* Matrix products over typed (possibly quantised) weights.
 *
 * A weight matrix W has `rows` rows of `cols` elements, each row stored
 * contiguously in W's type (GGUF's ne[0] = cols, ne[1] = rows). y = W·x is computed
 * by encoding x once (in W's activation type, Q8_0 / Q8_K / F32, or the encoding
 * of W's GEMM kernels) and taking a dot product per row and token -- for several
 * tokens, through packed panels of rows (types.h); rows are split between the
 * threads of the pool. */
#ifndef R1_MATMUL_H
#define R1_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "tensor/types.h"

typedef struct {
    const r1_type_traits *type;
    const uint8_t *data;
    int64_t cols;
    int64_t rows;
    size_t row_bytes;   /* distance between rows (may exceed the packed size for views) */
} r1_matrix;

/* The pool plus reusable buffers for encoded activations and for each thread's
 * packed weight panel (the GEMM path), so that the steady-state forward pass
 * allocates nothing. */
typedef struct {
    r1_pool *pool;
    uint8_t *act_buf;
    size_t act_buf_size;
    uint8_t *panel_buf;
    size_t panel_buf_size;
} r1_compute;

int r1_compute_init(r1_compute *c, int n_threads);
void r1_compute_free(r1_compute *c);
/* Grows the activation buffer to at least `bytes`; returns NULL when out of memory. */
void *r1_compute_act_buffer(r1_compute *c, size_t bytes);

/* Bytes one activation row of length W->cols takes when encoded for W. */
size_t r1_act_row_bytes(const r1_matrix *W);
/* Encodes x (W->cols floats) for W's row kernel (its GEMM kernels' dot_row, or
 * vec_dot) into out (r1_act_row_bytes bytes). */
void r1_encode_act(const r1_matrix *W, const float *x, void *out);
/* y[r] = W[r]·x for r in [row_begin, row_end), x already encoded. Single-threaded. */
void r1_matvec_rows(const r1_matrix *W, const void *x_enc, float *y, int64_t row_begin, int64_t row_end);

/* y[t] = W·x[t] for t < n_tok; x is n_tok × cols, y is n_tok × rows, row-major.
 * With several tokens and a type that has GEMM kernels (types.h), panels of rows
 * are multiplied with all tokens at once; otherwise each row meets each token
 * through the row kernel. All paths agree up to float rounding.
 * Returns R1_ERR only if a buffer cannot grow. */
int r1_matmul(r1_compute *c, const r1_matrix *W, const float *x, int n_tok, float *y);

/* One product of a pass: y = W·x for n_tok tokens (x: n_tok × cols, y: n_tok × rows). */
typedef struct {
    const r1_matrix *W;
    const float *x;
    int n_tok;
    float *y;
} r1_matmul_op;

#define R1_MATMUL_MAX_OPS 64

/* Several products in one pass of the pool, the threads splitting the rows of all
 * of them: one synchronisation instead of one per product (q/k/v, gate/up, the
 * routed experts of a MoE layer). Inputs read by several products with the same
 * activation type are encoded once. At most R1_MATMUL_MAX_OPS products. */
int r1_matmul_many(r1_compute *c, const r1_matmul_op *ops, int n_ops);

/* Dequantises row r of W into out (W->cols floats). */
void r1_matrix_row(const r1_matrix *W, int64_t r, float *out);

#endif
