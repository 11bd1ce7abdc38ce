/* AdamW, the learning-rate schedule and gradient clipping: see adamw.h for the
 * equations and their sources. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/types.h"
#include "train/adamw.h"
#include "train/adamw_update.h"

/* ---- AdamW ---- */

int r1_adamw_init(r1_adamw *opt, size_t n_params, r1_adamw_hparams hp, r1_err *err) {
    memset(opt, 0, sizeof *opt);
    if (n_params == 0) return r1_fail(err, "adamw: no parameters to optimize");
    if (n_params > SIZE_MAX / 2 / sizeof(float))
        return r1_fail(err, "adamw: %zu parameters is more than memory can hold", n_params);
    /* `!(x >= 0)` also rejects NaN */
    if (!(hp.lr >= 0) || !isfinite(hp.lr)) return r1_fail(err, "adamw: lr %g must be finite and >= 0", hp.lr);
    if (!(hp.beta1 >= 0 && hp.beta1 < 1)) return r1_fail(err, "adamw: beta1 %g must be in [0, 1)", hp.beta1);
    if (!(hp.beta2 >= 0 && hp.beta2 < 1)) return r1_fail(err, "adamw: beta2 %g must be in [0, 1)", hp.beta2);
    if (!(hp.eps > 0) || !isfinite(hp.eps)) return r1_fail(err, "adamw: eps %g must be finite and > 0", hp.eps);
    if (!(hp.weight_decay >= 0) || !isfinite(hp.weight_decay))
        return r1_fail(err, "adamw: weight_decay %g must be finite and >= 0", hp.weight_decay);
    /* m and v are one block: m = [0, n), v = [n, 2n) */
    float *moments = r1_calloc(err, 2 * n_params, sizeof(float), "adamw moments");
    if (!moments) return R1_ERR;
    opt->hp = hp;
    opt->n_params = n_params;
    opt->m = moments;
    opt->v = moments + n_params;
    return R1_OK;
}

void r1_adamw_update_scalar(const r1_adamw_update *u, size_t i0, size_t i1) {
    const float beta1 = u->beta1, beta2 = u->beta2, eps = u->eps, wd = u->weight_decay, lr = u->lr;
    for (size_t i = i0; i < i1; i++) {
        const float g = u->grads[i];
        u->m[i] = beta1 * u->m[i] + (1.0f - beta1) * g;
        u->v[i] = beta2 * u->v[i] + (1.0f - beta2) * g * g;
        const float m_hat = u->m[i] / u->bias_correction1;
        const float v_hat = u->v[i] / u->bias_correction2;
        const float decay = (!u->decay_mask || u->decay_mask[i]) ? wd * u->params[i] : 0.0f;
        u->params[i] -= lr * (m_hat / (sqrtf(v_hat) + eps) + decay);
    }
}

static void update_range(void *ctx, long i0, long i1) {
    (r1_kernels_level() >= 1 ? r1_adamw_update_avx2 : r1_adamw_update_scalar)(ctx, (size_t)i0, (size_t)i1);
}

void r1_adamw_step_pool(r1_pool *pool, r1_adamw *opt, float *params, const float *grads, float lr,
                        const uint8_t *decay_mask) {
    opt->step++;
    /* 1 − β^t, computed once per step in double: β^t underflows gracefully to 0 */
    r1_adamw_update u = {.params = params, .m = opt->m, .v = opt->v, .grads = grads, .decay_mask = decay_mask,
                         .lr = lr, .beta1 = opt->hp.beta1, .beta2 = opt->hp.beta2, .eps = opt->hp.eps,
                         .weight_decay = opt->hp.weight_decay,
                         .bias_correction1 = (float)(1.0 - pow(opt->hp.beta1, (double)opt->step)),
                         .bias_correction2 = (float)(1.0 - pow(opt->hp.beta2, (double)opt->step))};
    r1_pool_for(pool, (long)opt->n_params, update_range, &u);
}

void r1_adamw_step(r1_adamw *opt, float *params, const float *grads, float lr, const uint8_t *decay_mask) {
    r1_adamw_step_pool(NULL, opt, params, grads, lr, decay_mask);
}

void r1_adamw_free(r1_adamw *opt) {
    if (!opt) return;
    free(opt->m); /* v lives in the same block */
    memset(opt, 0, sizeof *opt);
}

/* ---- learning-rate schedule ---- */

float r1_lr_schedule(int step, int warmup, int total, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (total <= warmup) return lr_max;
    if (step >= total) return lr_min;
    const double progress = (double)(step - warmup) / (double)(total - warmup); /* in [0, 1) */
    const double cosine = 0.5 * (1.0 + cos(M_PI * progress));                  /* 1 → 0 */
    return (float)(lr_min + cosine * ((double)lr_max - lr_min));
}

/* ---- gradient clipping ---- */

/* Squares are summed in blocks of CLIP_BLOCK, in double (millions of squares in
 * float lose the small ones), then the blocks' sums in order: a fixed order whatever
 * the number of threads. Blocks go to the pool CLIP_BATCH at a time. */
enum { CLIP_BLOCK = 65536, CLIP_BATCH = 256 };

typedef struct {
    float *grads;
    size_t n;
    double *block_sums;
    float scale;
} clip_job;

/* Eight chains of double adds per block, each would otherwise wait out the
 * latency of the one before; lanes are fixed by the index, so the order is too. */
static void square_sums(void *ctx, long b0, long b1) {
    const clip_job *job = ctx;
    for (long b = b0; b < b1; b++) {
        size_t i = (size_t)b * CLIP_BLOCK, end = i + CLIP_BLOCK < job->n ? i + CLIP_BLOCK : job->n;
        double lane[8] = {0};
        for (; i + 8 <= end; i += 8)
            for (int l = 0; l < 8; l++) lane[l] += (double)job->grads[i + l] * job->grads[i + l];
        for (; i < end; i++) lane[0] += (double)job->grads[i] * job->grads[i];
        job->block_sums[b] = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    }
}

static void scale_range(void *ctx, long i0, long i1) {
    const clip_job *job = ctx;
    for (size_t i = (size_t)i0; i < (size_t)i1; i++) job->grads[i] *= job->scale;
}

float r1_clip_grad_norm_pool(r1_pool *pool, float *grads, size_t n, float max_norm) {
    double sum_sq = 0.0, block_sums[CLIP_BATCH];
    for (size_t at = 0; at < n; at += (size_t)CLIP_BATCH * CLIP_BLOCK) {
        clip_job batch = {.grads = grads + at, .n = n - at, .block_sums = block_sums};
        size_t blocks = (batch.n + CLIP_BLOCK - 1) / CLIP_BLOCK;
        if (blocks > CLIP_BATCH) blocks = CLIP_BATCH;
        r1_pool_for(pool, (long)blocks, square_sums, &batch);
        for (size_t b = 0; b < blocks; b++) sum_sq += block_sums[b];
    }
    const double norm = sqrt(sum_sq);
    if (isfinite(norm) && max_norm > 0 && norm > max_norm) {
        clip_job job = {.grads = grads, .scale = (float)(max_norm / norm)};
        r1_pool_for(pool, (long)n, scale_range, &job);
    }
    return (float)norm;
}

float r1_clip_grad_norm(float *grads, size_t n, float max_norm) {
    return r1_clip_grad_norm_pool(NULL, grads, n, max_norm);
}
