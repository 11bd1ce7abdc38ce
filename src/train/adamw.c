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

void r1_adamw_step(r1_adamw *opt, float *params, const float *grads, float lr, const uint8_t *decay_mask) {
    const float beta1 = opt->hp.beta1, beta2 = opt->hp.beta2, eps = opt->hp.eps, wd = opt->hp.weight_decay;
    opt->step++;
    /* 1 − β^t, computed once per step in double: β^t underflows gracefully to 0 */
    const float bias_correction1 = (float)(1.0 - pow(beta1, (double)opt->step));
    const float bias_correction2 = (float)(1.0 - pow(beta2, (double)opt->step));
    for (size_t i = 0; i < opt->n_params; i++) {
        const float g = grads[i];
        opt->m[i] = beta1 * opt->m[i] + (1.0f - beta1) * g;
        opt->v[i] = beta2 * opt->v[i] + (1.0f - beta2) * g * g;
        const float m_hat = opt->m[i] / bias_correction1;
        const float v_hat = opt->v[i] / bias_correction2;
        const float decay = (!decay_mask || decay_mask[i]) ? wd * params[i] : 0.0f;
        params[i] -= lr * (m_hat / (sqrtf(v_hat) + eps) + decay);
    }
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

float r1_clip_grad_norm(float *grads, size_t n, float max_norm) {
    /* sum in double: millions of squares in float lose the small ones */
    double sum_sq = 0.0;
    for (size_t i = 0; i < n; i++) sum_sq += (double)grads[i] * grads[i];
    const double norm = sqrt(sum_sq);
    if (isfinite(norm) && max_norm > 0 && norm > max_norm) {
        const float scale = (float)(max_norm / norm);
        for (size_t i = 0; i < n; i++) grads[i] *= scale;
    }
    return (float)norm;
}
