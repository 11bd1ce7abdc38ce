#include <math.h>
#include <stdlib.h>

#include "model/ops.h"

void r1_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
    double sum_sq = 0.0;
    for (int i = 0; i < n; i++) sum_sq += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(sum_sq / n + eps));
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * weight[i];
}

void r1_softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void r1_swiglu(float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* YaRN (Peng et al. 2023, §3.2–3.4) as DeepSeek-V3's reference applies it:
 * dimensions that rotate fewer than beta_slow times over the original context are
 * interpolated (θ/factor), those rotating more than beta_fast times keep θ, with a
 * linear ramp between; attention logits are scaled by mscale². */
static double yarn_correction_dim(double n_rotations, int dims, double base, int orig_ctx) {
    return dims * log(orig_ctx / (n_rotations * 2.0 * M_PI)) / (2.0 * log(base));
}

int r1_rope_init(r1_rope *rope, const r1_hparams *hp, const float *freq_factors, r1_err *err) {
    int dims = hp->rope_dims;
    rope->n_pairs = dims / 2;
    rope->style = hp->rope_style;
    rope->attn_scale = 1.0f;
    rope->inv_freq = r1_malloc(err, (size_t)rope->n_pairs * sizeof(double), "rope frequencies");
    if (!rope->inv_freq) return R1_ERR;
    double low = 0, high = 0;
    if (hp->yarn) {
        low = floor(yarn_correction_dim(hp->yarn_beta_fast, dims, hp->rope_base, hp->yarn_orig_ctx));
        high = ceil(yarn_correction_dim(hp->yarn_beta_slow, dims, hp->rope_base, hp->yarn_orig_ctx));
        if (low < 0) low = 0;
        if (high > dims - 1) high = dims - 1;
        if (high == low) high += 0.001;
        double mscale = 1.0 + hp->yarn_log_mul * log(hp->yarn_factor);
        rope->attn_scale = (float)(mscale * mscale);
    }
    for (int i = 0; i < rope->n_pairs; i++) {
        double theta = pow(hp->rope_base, -2.0 * i / dims);
        if (freq_factors) theta /= freq_factors[i];
        if (hp->yarn) {
            double ramp = (i - low) / (high - low);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            double keep = 1.0 - ramp; /* 1: extrapolate (keep θ), 0: interpolate */
            theta = theta / hp->yarn_factor * (1.0 - keep) + theta * keep;
        }
        rope->inv_freq[i] = theta;
    }
    return R1_OK;
}

void r1_rope_free(r1_rope *rope) {
    free(rope->inv_freq);
    rope->inv_freq = NULL;
}

void r1_rope_angles(const r1_rope *rope, int pos, float *cos_sin) {
    for (int i = 0; i < rope->n_pairs; i++) {
        double angle = pos * rope->inv_freq[i];
        cos_sin[i] = (float)cos(angle);
        cos_sin[rope->n_pairs + i] = (float)sin(angle);
    }
}

void r1_rope_apply(const r1_rope *rope, float *x, const float *cos_sin) {
    int n = rope->n_pairs;
    const float *cs = cos_sin, *sn = cos_sin + n;
    for (int i = 0; i < n; i++) {
        int a = rope->style == R1_ROPE_INTERLEAVED ? 2 * i : i;
        int b = rope->style == R1_ROPE_INTERLEAVED ? 2 * i + 1 : i + n;
        float x0 = x[a], x1 = x[b];
        x[a] = x0 * cs[i] - x1 * sn[i];
        x[b] = x0 * sn[i] + x1 * cs[i];
    }
}
