#include <math.h>
#include <stdlib.h>

#include "model/ops.h"
#include "tensor/activation.h"
#include "tensor/types.h"

void r1_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
    double sum_sq = 0.0;
    for (int i = 0; i < n; i++) sum_sq += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(sum_sq / n + eps));
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * weight[i];
}

/* With s = (mean(x²) + eps)^(-1/2), out_i = x_i·s·w_i and ∂s/∂x_j = −s³·x_j/n, so
 *   dx_j += s·(dout_j·w_j − x_j·(s²/n)·Σ_i dout_i·w_i·x_i)
 *   dweight_i += dout_i·x_i·s
 * s is recomputed from x (cheaper to keep one float per row than to store it). */
void r1_rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x, const float *weight, int n,
                         float eps) {
    if (r1_kernels_level() >= 1) {
        r1_rmsnorm_backward_avx2(dx, dweight, dout, x, weight, n, eps);
        return;
    }
    /* four chains of each sum: one would wait out every add's latency */
    double sum_sq_lane[4] = {0}, dot_lane[4] = {0}, scale, coef;
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++) {
            sum_sq_lane[l] += (double)x[i + l] * x[i + l];
            dot_lane[l] += (double)dout[i + l] * weight[i + l] * x[i + l];
        }
    r1_rmsnorm_backward_coefs(sum_sq_lane, dot_lane, dout, x, weight, i, n, eps, &scale, &coef);
    r1_rmsnorm_backward_apply(dx, dweight, dout, x, weight, 0, n, scale, coef);
}

void r1_rmsnorm_backward_coefs(double sum_sq_lane[4], double dot_lane[4], const float *dout, const float *x,
                               const float *weight, int i, int n, float eps, double *scale, double *coef) {
    for (; i < n; i++) {
        sum_sq_lane[0] += (double)x[i] * x[i];
        dot_lane[0] += (double)dout[i] * weight[i] * x[i];
    }
    double sum_sq = (sum_sq_lane[0] + sum_sq_lane[1]) + (sum_sq_lane[2] + sum_sq_lane[3]);
    double dot = (dot_lane[0] + dot_lane[1]) + (dot_lane[2] + dot_lane[3]);
    *scale = 1.0 / sqrt(sum_sq / n + eps);
    *coef = *scale * *scale / n * dot;
}

void r1_rmsnorm_backward_apply(float *dx, float *dweight, const float *dout, const float *x, const float *weight, int i,
                               int n, double scale, double coef) {
    for (; i < n; i++) {
        dx[i] += (float)(scale * ((double)dout[i] * weight[i] - x[i] * coef));
        dweight[i] += (float)((double)dout[i] * x[i] * scale);
    }
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

void r1_softmax_rows(float *x, size_t stride, int n_rows, const int *start, const int *len, float scale) {
    int r = r1_kernels_level() >= 1 ? r1_softmax_rows_avx2(x, stride, n_rows, start, len, scale) : 0;
    for (; r < n_rows; r++) {
        float *row = x + (size_t)r * stride + start[r];
        for (int j = 0; j < len[r]; j++) row[j] *= scale;
        r1_softmax(row, len[r]);
    }
}

/* ∂y_i/∂x_j = y_i·(δ_ij − y_j), so ∂L/∂x_i = y_i·(g_i − Σ_j g_j·y_j). The 0.0f +
 * keeps the bits of the sum into a zeroed gradient this replaced (−0 turns +0). */
void r1_softmax_backward_rows(float *g, const float *y, size_t stride, int n_rows, const int *start, const int *len,
                              float scale) {
    int r = r1_kernels_level() >= 1 ? r1_softmax_backward_rows_avx2(g, y, stride, n_rows, start, len, scale) : 0;
    for (; r < n_rows; r++) {
        size_t at = (size_t)r * stride + start[r];
        float *gr = g + at;
        const float *yr = y + at;
        double dot = 0.0;
        for (int i = 0; i < len[r]; i++) dot += (double)gr[i] * yr[i];
        for (int i = 0; i < len[r]; i++) gr[i] = (0.0f + (float)(yr[i] * (gr[i] - dot))) * scale;
    }
}

void r1_swiglu(float *gate, const float *up, int n) { r1_swiglu_f32(n, gate, gate, up); }

void r1_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate_in, const float *up_in, int n) {
    r1_swiglu_backward_f32(n, dgate, dup, dout, gate_in, up_in);
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

/* Each pair is rotated by R(θ) = [cos −sin; sin cos]; the gradient goes back
 * through Rᵀ = R(−θ):  d0 = dy0·cos + dy1·sin,  d1 = −dy0·sin + dy1·cos. */
void r1_rope_backward(const r1_rope *rope, float *dx, const float *cos_sin) {
    int n = rope->n_pairs;
    const float *cs = cos_sin, *sn = cos_sin + n;
    for (int i = 0; i < n; i++) {
        int a = rope->style == R1_ROPE_INTERLEAVED ? 2 * i : i;
        int b = rope->style == R1_ROPE_INTERLEAVED ? 2 * i + 1 : i + n;
        float dy0 = dx[a], dy1 = dx[b];
        dx[a] = dy0 * cs[i] + dy1 * sn[i];
        dx[b] = -dy0 * sn[i] + dy1 * cs[i];
    }
}
