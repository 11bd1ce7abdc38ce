/* Scalar reference kernels for the K-quants (256-element super-blocks): Q8_K
 * (activations), Q4_K, Q5_K, Q6_K. Dequantize and vec_dot follow the GGUF
 * layouts in quant.h; quant_avx2.c must agree with vec_dot here.
 *
 * The quantizers are r1's own (not llama.cpp's): per sub-block a grid of
 * starting scales, each refined by least squares, the best kept; then the
 * sub-block scales are themselves quantized to 6 (Q4_K, Q5_K) or 8 (Q6_K) bits
 * and nudged by +-1 where that lowers the sub-block's squared error. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "tensor/quant.h"

/* Round to nearest, ties to even, without a libm call (lrintf is not inlined
 * under -std=c11): adding 1.5 * 2^23 leaves the rounded integer in the low
 * mantissa bits. Saturates at +-2^22; every caller clamps to far less. */
static int nearest_int(float v) {
    v = v < 0x1p22f ? v : 0x1p22f;
    v = v > -0x1p22f ? v : -0x1p22f;
    float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007FFFFF) - 0x00400000;
}

static int clamp_int(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- Q8_K: x = d * q, q in -127..127, with 16-element sums --------------- */

void r1_dequantize_q8_k(const void *blocks, float *out, int64_t n) {
    const block_q8_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++)
        for (int j = 0; j < QK_K; j++) out[i * QK_K + j] = b[i].d * (float)b[i].qs[j];
}

/* The largest-magnitude element maps to -127: iscale = -127 / max, d = 1 / iscale.
 * A block holding a NaN or an infinity is d = NaN, q = 0, as in r1_quantize_q8_0. */
void r1_quantize_q8_k(const float *in, void *blocks, int64_t n) {
    block_q8_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float *x = in + i * QK_K;
        float amax = 0.0f, max = 0.0f;
        int finite = 1;
        for (int j = 0; j < QK_K; j++) {
            finite &= fabsf(x[j]) <= FLT_MAX;
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        if (!finite) {
            b[i].d = NAN;
            memset(b[i].qs, 0, sizeof b[i].qs);
        } else if (amax == 0.0f) {
            b[i].d = 0.0f;
            for (int j = 0; j < QK_K; j++) b[i].qs[j] = 0;
        } else {
            float iscale = -127.0f / max;
            for (int j = 0; j < QK_K; j++) {
                int q = nearest_int(iscale * x[j]);
                b[i].qs[j] = (int8_t)(q < 127 ? q : 127);
            }
            b[i].d = 1.0f / iscale;
        }
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += b[i].qs[16 * g + j];
            b[i].bsums[g] = (int16_t)sum;
        }
    }
}

/* The K-quants' GEMM kernels read plain Q8_K activations. */
size_t r1_act_bytes_q8_k(int64_t n) {
    return (size_t)(n / QK_K) * sizeof(block_q8_k);
}

/* ---- Sub-block fitting, shared by the quantizers ------------------------- */

/* The grid of starting scales: qmax / range, widened or narrowed by up to
 * GRID_WIDTH levels in GRID_STEPS steps each way (doubled for Q6_K's 64 levels).
 * A finer grid (10 steps) was measured to lower the error by under 0.2%. */
#define GRID_STEPS 4
#define GRID_WIDTH 1.0f

/* Squared error of x ~ scale * q - min with q = round((x + min) / scale) in 0..qmax. */
static float affine_error(const float *x, int n, int qmax, float scale, float min) {
    float err = 0.0f, iscale = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (int j = 0; j < n; j++) {
        int q = clamp_int(nearest_int((x[j] + min) * iscale), 0, qmax);
        float diff = scale * (float)q - min - x[j];
        err += diff * diff;
    }
    return err;
}

/* Fits x[0..n) ~ scale * q - min, q in 0..qmax, scale >= 0, min >= 0 (the GGUF
 * K-quants store the offset as a non-negative min). Each grid candidate fixes
 * the q; least squares then gives (scale, offset) for those q, and its error is
 * scored in closed form, sum (scale q + offset - x)^2, from the running sums. */
static void fit_scale_min(const float *x, int n, int qmax, float *scale_out, float *min_out) {
    float lo = 0.0f, hi = x[0];
    double sum_x = 0, sum_xx = 0;
    for (int j = 0; j < n; j++) {
        lo = fminf(lo, x[j]);
        hi = fmaxf(hi, x[j]);
        sum_x += x[j];
        sum_xx += (double)x[j] * x[j];
    }
    *scale_out = (hi - lo) / (float)qmax;
    *min_out = -lo;
    if (hi <= lo) return; /* all zero */
    double best_err = affine_error(x, n, qmax, *scale_out, *min_out);
    for (int step = -GRID_STEPS; step <= GRID_STEPS; step++) {
        float iscale = ((float)qmax + GRID_WIDTH * (float)step / GRID_STEPS) / (hi - lo);
        double sum_q = 0, sum_qq = 0, sum_qx = 0;
        for (int j = 0; j < n; j++) {
            int q = clamp_int(nearest_int(iscale * (x[j] - lo)), 0, qmax);
            sum_q += q;
            sum_qq += q * q;
            sum_qx += q * (double)x[j];
        }
        double det = n * sum_qq - sum_q * sum_q;
        if (det <= 0) continue;
        double scale = (n * sum_qx - sum_q * sum_x) / det;
        double offset = (sum_x - scale * sum_q) / n;
        if (offset > 0) { /* min must be >= 0: refit through the origin */
            offset = 0;
            scale = sum_qx / sum_qq;
        }
        if (!(scale > 0)) continue;
        double err = scale * scale * sum_qq + 2 * scale * offset * sum_q + n * offset * offset -
                     2 * scale * sum_qx - 2 * offset * sum_x + sum_xx;
        if (err < best_err) {
            best_err = err;
            *scale_out = (float)scale;
            *min_out = (float)-offset;
        }
    }
}

/* Squared error of x ~ scale * q with q = round(x / scale) in -32..31. */
static float symmetric_error(const float *x, int n, float scale) {
    float err = 0.0f, iscale = scale != 0.0f ? 1.0f / scale : 0.0f;
    for (int j = 0; j < n; j++) {
        int q = clamp_int(nearest_int(x[j] * iscale), -32, 31);
        float diff = scale * (float)q - x[j];
        err += diff * diff;
    }
    return err;
}

/* Fits x[0..n) ~ scale * q, q in -32..31 (scale may be negative, so the extra
 * level -32 can go to whichever side holds the largest magnitude). As in
 * fit_scale_min, the least-squares error for each candidate's q is closed-form:
 * sum x^2 - (sum q x)^2 / sum q^2. */
static float fit_scale_symmetric(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    double sum_xx = 0;
    for (int j = 0; j < n; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
        sum_xx += (double)x[j] * x[j];
    }
    if (amax == 0.0f) return 0.0f;
    float best_scale = max / -32.0f;
    double best_err = symmetric_error(x, n, best_scale);
    for (int step = -GRID_STEPS; step <= GRID_STEPS; step++) {
        float iscale = -(32.0f + 2 * GRID_WIDTH * (float)step / GRID_STEPS) / max;
        double sum_qq = 0, sum_qx = 0;
        for (int j = 0; j < n; j++) {
            int q = clamp_int(nearest_int(iscale * x[j]), -32, 31);
            sum_qq += q * q;
            sum_qx += q * (double)x[j];
        }
        if (sum_qq == 0) continue;
        double err = sum_xx - sum_qx * sum_qx / sum_qq;
        if (err < best_err) {
            best_err = err;
            best_scale = (float)(sum_qx / sum_qq);
        }
    }
    return best_scale;
}

/* ---- Q4_K, Q5_K: x = d * sc * q - dmin * m per 32-element sub-block ------ */

/* Writes the 8 six-bit scales and mins in the packing unpack_scale_min_k4 reads. */
static void pack_scales_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t scales[12]) {
    for (int s = 0; s < 4; s++) {
        scales[s] = (uint8_t)(sc[s] | (sc[s + 4] >> 4) << 6);
        scales[s + 4] = (uint8_t)(m[s] | (m[s + 4] >> 4) << 6);
        scales[s + 8] = (uint8_t)((sc[s + 4] & 0xF) | (m[s + 4] & 0xF) << 4);
    }
}

/* Quantizes one super-block: fills d, dmin, 6-bit sc[8], m[8] and the quants
 * q[256] in 0..qmax, in element order. */
static void quantize_superblock_k(const float *x, int qmax, uint16_t *d_out, uint16_t *dmin_out,
                                  uint8_t sc[8], uint8_t m[8], uint8_t q[QK_K]) {
    float scale[8], min[8], max_scale = 0.0f, max_min = 0.0f;
    for (int s = 0; s < 8; s++) {
        fit_scale_min(x + 32 * s, 32, qmax, &scale[s], &min[s]);
        max_scale = fmaxf(max_scale, scale[s]);
        max_min = fmaxf(max_min, min[s]);
    }
    *d_out = r1_fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = r1_fp32_to_fp16(max_min / 63.0f);
    float d = r1_fp16_to_fp32(*d_out), dmin = r1_fp16_to_fp32(*dmin_out);
    for (int s = 0; s < 8; s++) {
        const float *xs = x + 32 * s;
        int sc0 = d > 0.0f ? clamp_int(nearest_int(scale[s] / d), 0, 63) : 0;
        int m0 = dmin > 0.0f ? clamp_int(nearest_int(min[s] / dmin), 0, 63) : 0;
        int best_sc = sc0, best_m = m0;
        float best_err = INFINITY;
        for (int dsc = -1; dsc <= 1; dsc++) {
            for (int dm = -1; dm <= 1; dm++) {
                int sc1 = clamp_int(sc0 + dsc, 0, 63), m1 = clamp_int(m0 + dm, 0, 63);
                float err = affine_error(xs, 32, qmax, d * (float)sc1, dmin * (float)m1);
                if (err < best_err) {
                    best_err = err;
                    best_sc = sc1;
                    best_m = m1;
                }
            }
        }
        sc[s] = (uint8_t)best_sc;
        m[s] = (uint8_t)best_m;
        float eff_scale = d * (float)best_sc, eff_min = dmin * (float)best_m;
        float eff_iscale = eff_scale > 0.0f ? 1.0f / eff_scale : 0.0f;
        for (int j = 0; j < 32; j++)
            q[32 * s + j] = (uint8_t)clamp_int(nearest_int((xs[j] + eff_min) * eff_iscale), 0, qmax);
    }
}

/* The 256 quants (0..15) of a Q4_K block, in element order. */
static void unpack_q4_k(const block_q4_k *b, uint8_t q[QK_K]) {
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            q[64 * c + l] = b->qs[32 * c + l] & 0xF;
            q[64 * c + 32 + l] = b->qs[32 * c + l] >> 4;
        }
    }
}

/* The 256 quants (0..31) of a Q5_K block: Q4_K's nibbles plus bit s of qh[l]. */
static void unpack_q5_k(const block_q5_k *b, uint8_t q[QK_K]) {
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            q[64 * c + l] = (uint8_t)((b->qs[32 * c + l] & 0xF) | (b->qh[l] >> (2 * c) & 1) << 4);
            q[64 * c + 32 + l] = (uint8_t)((b->qs[32 * c + l] >> 4) | (b->qh[l] >> (2 * c + 1) & 1) << 4);
        }
    }
}

static void dequantize_affine_k(uint16_t d16, uint16_t dmin16, const uint8_t scales[12],
                                const uint8_t q[QK_K], float *out) {
    float d = r1_fp16_to_fp32(d16), dmin = r1_fp16_to_fp32(dmin16);
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        unpack_scale_min_k4(scales, s, &sc, &m);
        for (int j = 0; j < 32; j++) out[32 * s + j] = d * (float)sc * (float)q[32 * s + j] - dmin * (float)m;
    }
}

/* sum_s (d_w d_a sc[s] sum_j q_j y_j) - (dmin_w d_a sum_s m[s] sum_j y_j); the inner
 * sums are integers, sum_j y_j comes from the activation's bsums. */
static float dot_affine_k(uint16_t d16, uint16_t dmin16, const uint8_t scales[12],
                          const uint8_t q[QK_K], const block_q8_k *a) {
    int32_t sum_scaled = 0, sum_mins = 0;
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        unpack_scale_min_k4(scales, s, &sc, &m);
        int32_t dot = 0;
        for (int j = 0; j < 32; j++) dot += q[32 * s + j] * a->qs[32 * s + j];
        sum_scaled += sc * dot;
        sum_mins += m * (a->bsums[2 * s] + a->bsums[2 * s + 1]);
    }
    return r1_fp16_to_fp32(d16) * a->d * (float)sum_scaled - r1_fp16_to_fp32(dmin16) * a->d * (float)sum_mins;
}

void r1_dequantize_q4_k(const void *blocks, float *out, int64_t n) {
    const block_q4_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        unpack_q4_k(&b[i], q);
        dequantize_affine_k(b[i].d, b[i].dmin, b[i].scales, q, out + i * QK_K);
    }
}

void r1_quantize_q4_k(const float *in, void *blocks, int64_t n) {
    block_q4_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], m[8], q[QK_K];
        quantize_superblock_k(in + i * QK_K, 15, &b[i].d, &b[i].dmin, sc, m, q);
        pack_scales_k4(sc, m, b[i].scales);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) b[i].qs[32 * c + l] = (uint8_t)(q[64 * c + l] | q[64 * c + 32 + l] << 4);
    }
}

float r1_vec_dot_q4_k(int64_t n, const void *w_row, const void *act) {
    const block_q4_k *w = w_row;
    const block_q8_k *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        unpack_q4_k(&w[i], q);
        sum += dot_affine_k(w[i].d, w[i].dmin, w[i].scales, q, &a[i]);
    }
    return sum;
}

void r1_dequantize_q5_k(const void *blocks, float *out, int64_t n) {
    const block_q5_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        unpack_q5_k(&b[i], q);
        dequantize_affine_k(b[i].d, b[i].dmin, b[i].scales, q, out + i * QK_K);
    }
}

void r1_quantize_q5_k(const float *in, void *blocks, int64_t n) {
    block_q5_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], m[8], q[QK_K];
        quantize_superblock_k(in + i * QK_K, 31, &b[i].d, &b[i].dmin, sc, m, q);
        pack_scales_k4(sc, m, b[i].scales);
        for (int l = 0; l < 32; l++) b[i].qh[l] = 0;
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                b[i].qs[32 * c + l] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
                b[i].qh[l] |= (uint8_t)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
            }
        }
    }
}

float r1_vec_dot_q5_k(int64_t n, const void *w_row, const void *act) {
    const block_q5_k *w = w_row;
    const block_q8_k *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t q[QK_K];
        unpack_q5_k(&w[i], q);
        sum += dot_affine_k(w[i].d, w[i].dmin, w[i].scales, q, &a[i]);
    }
    return sum;
}

/* ---- Q6_K: x = d * sc * (q - 32) per 16-element sub-block ----------------- */

/* The 256 quants of a Q6_K block minus 32 (-32..31), in element order. */
static void unpack_q6_k(const block_q6_k *b, int8_t q[QK_K]) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        int8_t *qo = q + 128 * h;
        for (int l = 0; l < 32; l++) {
            qo[l] = (int8_t)(((ql[l] & 0xF) | (qh[l] >> 0 & 3) << 4) - 32);
            qo[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (qh[l] >> 2 & 3) << 4) - 32);
            qo[l + 64] = (int8_t)(((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32);
            qo[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32);
        }
    }
}

void r1_dequantize_q6_k(const void *blocks, float *out, int64_t n) {
    const block_q6_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_q6_k(&b[i], q);
        float d = r1_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK_K; j++) out[i * QK_K + j] = d * (float)b[i].scales[j / 16] * (float)q[j];
    }
}

void r1_quantize_q6_k(const float *in, void *blocks, int64_t n) {
    block_q6_k *b = blocks;
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float *x = in + i * QK_K;
        float scale[16], max_scale = 0.0f;
        for (int s = 0; s < 16; s++) {
            scale[s] = fit_scale_symmetric(x + 16 * s, 16);
            max_scale = fmaxf(max_scale, fabsf(scale[s]));
        }
        b[i].d = r1_fp32_to_fp16(max_scale / 127.0f);
        float d = r1_fp16_to_fp32(b[i].d);
        uint8_t q[QK_K]; /* q + 32, in 0..63 */
        for (int s = 0; s < 16; s++) {
            const float *xs = x + 16 * s;
            int sc0 = d > 0.0f ? clamp_int(nearest_int(scale[s] / d), -127, 127) : 0;
            int best_sc = sc0;
            float best_err = INFINITY;
            for (int dsc = -1; dsc <= 1; dsc++) {
                int sc1 = clamp_int(sc0 + dsc, -127, 127);
                float err = symmetric_error(xs, 16, d * (float)sc1);
                if (err < best_err) {
                    best_err = err;
                    best_sc = sc1;
                }
            }
            b[i].scales[s] = (int8_t)best_sc;
            float eff_scale = d * (float)best_sc, eff_iscale = eff_scale != 0.0f ? 1.0f / eff_scale : 0.0f;
            for (int j = 0; j < 16; j++)
                q[16 * s + j] = (uint8_t)(32 + clamp_int(nearest_int(xs[j] * eff_iscale), -32, 31));
        }
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            const uint8_t *qs = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((qs[l] & 0xF) | (qs[l + 64] & 0xF) << 4);
                ql[l + 32] = (uint8_t)((qs[l + 32] & 0xF) | (qs[l + 96] & 0xF) << 4);
                qh[l] = (uint8_t)(qs[l] >> 4 | (qs[l + 32] >> 4) << 2 | (qs[l + 64] >> 4) << 4 |
                                  (qs[l + 96] >> 4) << 6);
            }
        }
    }
}

/* d_w d_a sum_s sc[s] (sum_j q_j y_j), integer inside the super-block */
float r1_vec_dot_q6_k(int64_t n, const void *w_row, const void *act) {
    const block_q6_k *w = w_row;
    const block_q8_k *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_q6_k(&w[i], q);
        int32_t isum = 0;
        for (int s = 0; s < 16; s++) {
            int32_t dot = 0;
            for (int j = 0; j < 16; j++) dot += q[16 * s + j] * a[i].qs[16 * s + j];
            isum += w[i].scales[s] * dot;
        }
        sum += r1_fp16_to_fp32(w[i].d) * a[i].d * (float)isum;
    }
    return sum;
}
