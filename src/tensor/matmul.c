#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tensor/matmul.h"

int r1_compute_init(r1_compute *c, int n_threads) {
    memset(c, 0, sizeof *c);
    c->pool = r1_pool_create(n_threads);
    return c->pool ? R1_OK : R1_ERR;
}

void r1_compute_free(r1_compute *c) {
    r1_pool_free(c->pool);
    free(c->act_buf);
    free(c->panel_buf);
    memset(c, 0, sizeof *c);
}

/* Grows *buf to at least bytes, 64-byte aligned so that SIMD loads of encoded
 * blocks and panels stay within cache lines. */
static void *grow_aligned(uint8_t **buf, size_t *size, size_t bytes) {
    if (bytes > *size) {
        size_t rounded = (bytes + 63) & ~(size_t)63;
        void *p = NULL;
        if (posix_memalign(&p, 64, rounded) != 0) return NULL;
        free(*buf);
        *buf = p;
        *size = rounded;
    }
    return *buf;
}

void *r1_compute_act_buffer(r1_compute *c, size_t bytes) {
    return grow_aligned(&c->act_buf, &c->act_buf_size, bytes);
}

/* Types with GEMM kernels (the AVX2 ones, types.h) encode activations their own
 * way and take every token through those kernels; the others through vec_dot. */

size_t r1_act_row_bytes(const r1_matrix *W) {
    if (W->type->gemm) return W->type->gemm->act_bytes(W->cols);
    return r1_type_row_bytes(r1_type_traits_get(W->type->act_type), W->cols);
}

void r1_encode_act(const r1_matrix *W, const float *x, void *out) {
    if (W->type->gemm) W->type->gemm->encode_act(x, out, W->cols);
    else if (W->type->act_type == R1_TYPE_F32) memcpy(out, x, (size_t)W->cols * sizeof(float));
    else r1_type_traits_get(W->type->act_type)->quantize(x, out, W->cols);
}

void r1_matvec_rows(const r1_matrix *W, const void *x_enc, float *y, int64_t row_begin, int64_t row_end) {
    if (W->type == r1_type_traits_get(R1_TYPE_F32) && row_end > row_begin) {
        /* F32 weights: the token is read once for three rows, each sum the bits of
         * its own vec_dot (the products are the same with their factors swapped) */
        r1_dot_f32_rows(W->cols, x_enc, (const float *)(W->data + (size_t)row_begin * W->row_bytes),
                        W->row_bytes / sizeof(float), (int)(row_end - row_begin), y + row_begin);
        return;
    }
    float (*dot)(int64_t, const void *, const void *) = W->type->gemm ? W->type->gemm->dot_row : W->type->vec_dot;
    for (int64_t r = row_begin; r < row_end; r++) y[r] = dot(W->cols, W->data + (size_t)r * W->row_bytes, x_enc);
}

void r1_matrix_row(const r1_matrix *W, int64_t r, float *out) {
    W->type->dequantize(W->data + (size_t)r * W->row_bytes, out, W->cols);
}

/* ---- passes of several products ------------------------------------------ */

/* Whether op's input needs encoding (F32 activations of vec_dot are x itself). */
static int op_encodes(const r1_matmul_op *op) {
    return op->W->type->gemm || op->W->type->act_type != R1_TYPE_F32;
}

/* Whether b can read the input a encoded. */
static int same_encoding(const r1_matmul_op *a, const r1_matmul_op *b) {
    if (a->x != b->x || a->n_tok != b->n_tok || a->W->cols != b->W->cols) return 0;
    const r1_gemm_kernels *gemm_a = a->W->type->gemm, *gemm_b = b->W->type->gemm;
    if (gemm_a || gemm_b) return gemm_a && gemm_b && gemm_a->encode_act == gemm_b->encode_act;
    return a->W->type->act_type == b->W->type->act_type;
}

/* Whether op goes through packed panels (several tokens and GEMM kernels). */
static int op_panels(const r1_matmul_op *op) {
    return op->n_tok > 1 && op->W->type->gemm;
}

/* What one row of op costs, in units of a column times a token of the GEMM
 * kernels: packing a row costs about as much as 4 tokens, and a row with one
 * token (memory-bound) about 6. The threads split the pass by this, not by
 * rows, as its products may differ in width and in tokens (routed experts). */
static long row_cost(const r1_matmul_op *op) {
    return (long)op->W->cols * (op_panels(op) ? op->n_tok + 4 : 6 * op->n_tok);
}

/* One pass: the products, where each one's encoded activations live, which
 * products encode their input (the first reader of a shared input does), the
 * threads' panel buffers, and the total cost the threads split. */
typedef struct {
    const r1_matmul_op *ops;
    int n_ops;
    const uint8_t *x_enc[R1_MATMUL_MAX_OPS]; /* x itself for F32 activations */
    int encodes[R1_MATMUL_MAX_OPS];
    long total_cost;
    uint8_t *panels;
    size_t panel_stride;
} matmul_pass;

/* Each thread encodes a share of all (product, token) rows that need encoding. */
static void encode_job(void *ctx, int thread, int n_threads) {
    matmul_pass *pass = ctx;
    long item = 0;
    for (int i = 0; i < pass->n_ops; i++) {
        const r1_matmul_op *op = &pass->ops[i];
        if (!pass->encodes[i]) continue;
        size_t stride = r1_act_row_bytes(op->W);
        for (int t = 0; t < op->n_tok; t++, item++)
            if (item % n_threads == thread)
                r1_encode_act(op->W, op->x + (size_t)t * op->W->cols, (uint8_t *)pass->x_enc[i] + t * stride);
    }
}

/* Rows [lo, hi) of op with all its tokens: R1_GEMM_ROWS rows at a time are packed
 * into the thread's panel and multiplied with every token. (Splitting the columns
 * so that all tokens' activations for a chunk stay in L2 was tried: 3-11 % slower
 * on 8960- and 18432-wide products with 512 tokens, here where L3 keeps up.) */
static void panel_rows(const r1_matmul_op *op, const uint8_t *x_enc, long lo, long hi, uint8_t *panel) {
    const r1_matrix *W = op->W;
    const r1_gemm_kernels *gemm = W->type->gemm;
    size_t stride = gemm->act_bytes(W->cols);
    for (long r = lo; r < hi; r += R1_GEMM_ROWS) {
        int n_rows = hi - r < R1_GEMM_ROWS ? (int)(hi - r) : R1_GEMM_ROWS;
        gemm->pack(W->cols, W->data + (size_t)r * W->row_bytes, W->row_bytes, n_rows, panel);
        gemm->dot(W->cols, panel, n_rows, x_enc, stride, op->n_tok, op->y + r, (size_t)W->rows);
    }
}

/* Rows [lo, hi) of op one by one, each with every token (the plain path: for
 * one token, or a type without GEMM kernels; the float types read a row once for
 * several tokens). */
static void single_rows(const r1_matmul_op *op, const uint8_t *x_enc, long lo, long hi) {
    const r1_matrix *W = op->W;
    size_t stride = r1_act_row_bytes(W);
    if (op->n_tok == 1) {
        r1_matvec_rows(W, x_enc, op->y, lo, hi);
        return;
    }
    if (W->type->vec_dot_tokens) {
        for (long r = lo; r < hi; r++)
            W->type->vec_dot_tokens(W->cols, W->data + (size_t)r * W->row_bytes, x_enc, stride, op->n_tok, op->y + r,
                                    (size_t)W->rows);
        return;
    }
    for (long r = lo; r < hi; r++)
        for (int t = 0; t < op->n_tok; t++)
            r1_matvec_rows(W, x_enc + t * stride, op->y + (size_t)t * W->rows, r, r + 1);
}

/* Rows of op whose cost starts before `cost` (row r starts at first + r * per_row). */
static long rows_before(long cost, long first, long per_row, long rows) {
    if (cost <= first) return 0;
    long n = (cost - first + per_row - 1) / per_row;
    return n < rows ? n : rows;
}

/* The rows of all products are laid end to end, weighted by row_cost, and each
 * thread takes a contiguous band of equal cost; within it each row (or panel of
 * rows) meets every token while it is hot. */
static void rows_job(void *ctx, int thread, int n_threads) {
    matmul_pass *pass = ctx;
    long begin, end, first = 0;
    r1_split_range(pass->total_cost, thread, n_threads, &begin, &end);
    for (int i = 0; i < pass->n_ops && first < end; i++) {
        const r1_matmul_op *op = &pass->ops[i];
        long per_row = row_cost(op), rows = op->W->rows;
        if (per_row == 0) continue; /* no tokens */
        long lo = rows_before(begin, first, per_row, rows), hi = rows_before(end, first, per_row, rows);
        if (lo < hi) {
            if (op_panels(op)) panel_rows(op, pass->x_enc[i], lo, hi, pass->panels + (size_t)thread * pass->panel_stride);
            else single_rows(op, pass->x_enc[i], lo, hi);
        }
        first += per_row * rows;
    }
}

int r1_matmul_many(r1_compute *c, const r1_matmul_op *ops, int n_ops) {
    if (n_ops < 1 || n_ops > R1_MATMUL_MAX_OPS) return R1_ERR;
    matmul_pass pass;
    pass.ops = ops;
    pass.n_ops = n_ops;
    pass.total_cost = 0;
    pass.panel_stride = 0;
    size_t need = 0;
    for (int i = 0; i < n_ops; i++) {
        pass.total_cost += row_cost(&ops[i]) * ops[i].W->rows;
        if (op_encodes(&ops[i])) need += r1_act_row_bytes(ops[i].W) * (size_t)ops[i].n_tok;
        if (op_panels(&ops[i])) {
            size_t panel = (ops[i].W->type->gemm->panel_bytes(ops[i].W->cols) + 63) & ~(size_t)63;
            if (panel > pass.panel_stride) pass.panel_stride = panel;
        }
    }
    uint8_t *buf = need ? r1_compute_act_buffer(c, need) : NULL;
    if (need && !buf) return R1_ERR;
    pass.panels = NULL;
    if (pass.panel_stride) {
        size_t threads = (size_t)r1_pool_size(c->pool);
        pass.panels = grow_aligned(&c->panel_buf, &c->panel_buf_size, threads * pass.panel_stride);
        if (!pass.panels) return R1_ERR;
    }
    int encode_rows = 0;
    for (int i = 0; i < n_ops; i++) {
        const r1_matmul_op *op = &ops[i];
        pass.encodes[i] = 0;
        pass.x_enc[i] = (const uint8_t *)op->x;
        if (!op_encodes(op)) continue;
        int shared = -1;
        for (int j = 0; j < i && shared < 0; j++)
            if (pass.encodes[j] && same_encoding(&ops[j], op)) shared = j;
        if (shared >= 0) {
            pass.x_enc[i] = pass.x_enc[shared];
            continue;
        }
        pass.encodes[i] = 1;
        pass.x_enc[i] = buf;
        buf += r1_act_row_bytes(op->W) * (size_t)op->n_tok;
        encode_rows += op->n_tok;
    }
    if (encode_rows == 1) encode_job(&pass, 0, 1); /* decode: not worth waking the pool */
    else if (encode_rows > 1) r1_pool_run(c->pool, encode_job, &pass);
    r1_pool_run(c->pool, rows_job, &pass);
    return R1_OK;
}

int r1_matmul(r1_compute *c, const r1_matrix *W, const float *x, int n_tok, float *y) {
    r1_matmul_op op = {W, x, n_tok, y};
    return r1_matmul_many(c, &op, 1);
}
