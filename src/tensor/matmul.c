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

typedef struct {
    const r1_matrix *W;
    const float *x;
    uint8_t *x_enc;
    size_t enc_bytes;
    int n_tok;
    float *y;
} matmul_job;

static void encode_job(void *ctx, int thread, int n_threads) {
    matmul_job *job = ctx;
    long begin, end;
    r1_split_range(job->n_tok, thread, n_threads, &begin, &end);
    for (long t = begin; t < end; t++)
        r1_encode_act(job->W, job->x + t * job->W->cols, job->x_enc + t * job->enc_bytes);
}

/* Threads take contiguous bands of rows; within a band each row meets every
 * token while it is hot in cache. */
static void rows_job(void *ctx, int thread, int n_threads) {
    matmul_job *job = ctx;
    const r1_matrix *W = job->W;
    long begin, end;
    r1_split_range((long)W->rows, thread, n_threads, &begin, &end);
    for (long r = begin; r < end; r++) {
        const uint8_t *row = W->data + (size_t)r * W->row_bytes;
        for (int t = 0; t < job->n_tok; t++)
            job->y[(size_t)t * W->rows + r] = W->type->vec_dot(W->cols, row, job->x_enc + t * job->enc_bytes);
    }
}

int r1_matmul(r1_compute *c, const r1_matrix *W, const float *x, int n_tok, float *y) {
    matmul_job job = {W, x, NULL, r1_act_row_bytes(W), n_tok, y};
    if (W->type->act_type == R1_TYPE_F32) {
        job.x_enc = (uint8_t *)x;
    } else {
        job.x_enc = r1_compute_act_buffer(c, job.enc_bytes * (size_t)n_tok);
        if (!job.x_enc) return R1_ERR;
        if (n_tok == 1) encode_job(&job, 0, 1); /* decode: not worth waking the pool */
        else r1_pool_run(c->pool, encode_job, &job);
    }
    r1_pool_run(c->pool, rows_job, &job);
    return R1_OK;
}
