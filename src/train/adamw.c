/* AdamW, the learning-rate schedule and gradient clipping: see adamw.h for the
 * equations and their sources. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/adamw.h"

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

typedef struct {
    r1_adamw *opt;
    float *params;
    const float *grads;
    const uint8_t *decay_mask;
    float lr, bias_correction1, bias_correction2;
} adamw_job;

static void adamw_range(void *ctx, long i0, long i1) {
    const adamw_job *job = ctx;
    r1_adamw *opt = job->opt;
    const float beta1 = opt->hp.beta1, beta2 = opt->hp.beta2, eps = opt->hp.eps, wd = opt->hp.weight_decay;
    const float lr = job->lr, bias_correction1 = job->bias_correction1, bias_correction2 = job->bias_correction2;
    float *params = job->params;
    const float *grads = job->grads;
    const uint8_t *decay_mask = job->decay_mask;
    for (size_t i = (size_t)i0; i < (size_t)i1; i++) {
        const float g = grads[i];
        opt->m[i] = beta1 * opt->m[i] + (1.0f - beta1) * g;
        opt->v[i] = beta2 * opt->v[i] + (1.0f - beta2) * g * g;
        const float m_hat = opt->m[i] / bias_correction1;
        const float v_hat = opt->v[i] / bias_correction2;
        const float decay = (!decay_mask || decay_mask[i]) ? wd * params[i] : 0.0f;
        params[i] -= lr * (m_hat / (sqrtf(v_hat) + eps) + decay);
    }
}

void r1_adamw_step_pool(r1_pool *pool, r1_adamw *opt, float *params, const float *grads, float lr,
                        const uint8_t *decay_mask) {
    opt->step++;
    /* 1 − β^t, computed once per step in double: β^t underflows gracefully to 0 */
    adamw_job job = {.opt = opt, .params = params, .grads = grads, .decay_mask = decay_mask, .lr = lr,
                     .bias_correction1 = (float)(1.0 - pow(opt->hp.beta1, (double)opt->step)),
                     .bias_correction2 = (float)(1.0 - pow(opt->hp.beta2, (double)opt->step))};
    r1_pool_for(pool, (long)opt->n_params, adamw_range, &job);
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

static void square_sums(void *ctx, long b0, long b1) {
    const clip_job *job = ctx;
    for (long b = b0; b < b1; b++) {
        size_t end = (size_t)(b + 1) * CLIP_BLOCK < job->n ? (size_t)(b + 1) * CLIP_BLOCK : job->n;
        double sum_sq = 0.0;
        for (size_t i = (size_t)b * CLIP_BLOCK; i < end; i++) sum_sq += (double)job->grads[i] * job->grads[i];
        job->block_sums[b] = sum_sq;
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
