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
    memset(c, 0, sizeof *c);
}

void *r1_compute_act_buffer(r1_compute *c, size_t bytes) {
    if (bytes > c->act_buf_size) {
        /* 64-byte aligned so SIMD loads of encoded blocks stay within cache lines */
        size_t size = (bytes + 63) & ~(size_t)63;
        void *p = NULL;
        if (posix_memalign(&p, 64, size) != 0) return NULL;
        free(c->act_buf);
        c->act_buf = p;
        c->act_buf_size = size;
    }
    return c->act_buf;
}

size_t r1_act_row_bytes(const r1_matrix *W) {
    const r1_type_traits *act = r1_type_traits_get(W->type->act_type);
    return r1_type_row_bytes(act, W->cols);
}

void r1_encode_act(const r1_matrix *W, const float *x, void *out) {
    if (W->type->act_type == R1_TYPE_F32) memcpy(out, x, (size_t)W->cols * sizeof(float));
    else r1_type_traits_get(W->type->act_type)->quantize(x, out, W->cols);
}

void r1_matvec_rows(const r1_matrix *W, const void *x_enc, float *y, int64_t row_begin, int64_t row_end) {
    for (int64_t r = row_begin; r < row_end; r++)
        y[r] = W->type->vec_dot(W->cols, W->data + (size_t)r * W->row_bytes, x_enc);
}

void r1_matrix_row(const r1_matrix *W, int64_t r, float *out) {
    W->type->dequantize(W->data + (size_t)r * W->row_bytes, out, W->cols);
}

/* One pass: the products, where each one's encoded activations live, and which
 * products encode their input (the first reader of a shared input does). */
typedef struct {
    const r1_matmul_op *ops;
    int n_ops;
    const uint8_t *x_enc[R1_MATMUL_MAX_OPS]; /* x itself for F32 activations */
    int encodes[R1_MATMUL_MAX_OPS];
    long total_rows;
} matmul_pass;

static size_t enc_bytes(const r1_matmul_op *op) { return r1_act_row_bytes(op->W); }

/* Each thread encodes a share of all (product, token) rows that need encoding. */
static void encode_job(void *ctx, int thread, int n_threads) {
    matmul_pass *pass = ctx;
    long item = 0;
    for (int i = 0; i < pass->n_ops; i++) {
        const r1_matmul_op *op = &pass->ops[i];
        if (!pass->encodes[i]) continue;
        for (int t = 0; t < op->n_tok; t++, item++)
            if (item % n_threads == thread)
                r1_encode_act(op->W, op->x + (size_t)t * op->W->cols, (uint8_t *)pass->x_enc[i] + t * enc_bytes(op));
    }
}

/* The rows of all products are numbered one after another and each thread takes
 * a contiguous band; within it each row meets every token while it is hot. */
static void rows_job(void *ctx, int thread, int n_threads) {
    matmul_pass *pass = ctx;
    long begin, end, first = 0;
    r1_split_range(pass->total_rows, thread, n_threads, &begin, &end);
    for (int i = 0; i < pass->n_ops && first < end; i++) {
        const r1_matmul_op *op = &pass->ops[i];
        const r1_matrix *W = op->W;
        long lo = begin > first ? begin - first : 0, hi = end - first < W->rows ? end - first : W->rows;
        size_t stride = enc_bytes(op);
        for (long r = lo; r < hi; r++) {
            const uint8_t *row = W->data + (size_t)r * W->row_bytes;
            for (int t = 0; t < op->n_tok; t++)
                op->y[(size_t)t * W->rows + r] = W->type->vec_dot(W->cols, row, pass->x_enc[i] + t * stride);
        }
        first += W->rows;
    }
}

static int same_encoding(const r1_matmul_op *a, const r1_matmul_op *b) {
    return a->x == b->x && a->n_tok == b->n_tok && a->W->cols == b->W->cols &&
           a->W->type->act_type == b->W->type->act_type;
}

int r1_matmul_many(r1_compute *c, const r1_matmul_op *ops, int n_ops) {
    if (n_ops < 1 || n_ops > R1_MATMUL_MAX_OPS) return R1_ERR;
    matmul_pass pass;
    pass.ops = ops;
    pass.n_ops = n_ops;
    pass.total_rows = 0;
    size_t need = 0;
    for (int i = 0; i < n_ops; i++) {
        pass.total_rows += ops[i].W->rows;
        if (ops[i].W->type->act_type != R1_TYPE_F32) need += enc_bytes(&ops[i]) * (size_t)ops[i].n_tok;
    }
    uint8_t *buf = need ? r1_compute_act_buffer(c, need) : NULL;
    if (need && !buf) return R1_ERR;
    int encode_rows = 0;
    for (int i = 0; i < n_ops; i++) {
        const r1_matmul_op *op = &ops[i];
        pass.encodes[i] = 0;
        pass.x_enc[i] = (const uint8_t *)op->x;
        if (op->W->type->act_type == R1_TYPE_F32) continue;
        int shared = -1;
        for (int j = 0; j < i && shared < 0; j++)
            if (pass.encodes[j] && same_encoding(&ops[j], op)) shared = j;
        if (shared >= 0) {
            pass.x_enc[i] = pass.x_enc[shared];
            continue;
        }
        pass.encodes[i] = 1;
        pass.x_enc[i] = buf;
        buf += enc_bytes(op) * (size_t)op->n_tok;
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
