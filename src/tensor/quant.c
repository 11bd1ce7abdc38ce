/* Scalar reference kernels for the float types (F32, F16, BF16) and the 32-element
 * block types (Q8_0, Q4_0, Q5_0): dequantize, reference quantize, vec_dot.
 * These are the documentation; quant_avx2.c must agree with them.
 *
 * The quantizers reproduce ggml's reference ones (quantize_row_*_ref), so a row
 * quantized here is byte-identical to one quantized by GGUF tools. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "tensor/quant.h"

/* ---- F32 ---------------------------------------------------------------- */

/* The float dots accumulate in double: a single float accumulator over 4096
 * same-signed terms drifts by ~1e-4 relative, the SIMD versions' 32 partial
 * sums by far less, and the scalar kernels are the reference. */
float r1_dot_f32_scalar(int64_t n, const float *a, const float *b) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)a[i] * b[i];
    return (float)sum;
}

void r1_axpy_f32_scalar(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void r1_dequantize_f32(const void *blocks, float *out, int64_t n) {
    memcpy(out, blocks, (size_t)n * sizeof(float));
}

void r1_quantize_f32(const float *in, void *blocks, int64_t n) {
    memcpy(blocks, in, (size_t)n * sizeof(float));
}

float r1_vec_dot_f32(int64_t n, const void *w_row, const void *act) {
    return r1_dot_f32_scalar(n, w_row, act);
}

/* ---- F16, BF16 (activations F32) ---------------------------------------- */

void r1_dequantize_f16(const void *blocks, float *out, int64_t n) {
    const uint16_t *h = blocks;
    for (int64_t i = 0; i < n; i++) out[i] = r1_fp16_to_fp32(h[i]);
}

void r1_quantize_f16(const float *in, void *blocks, int64_t n) {
    uint16_t *h = blocks;
    for (int64_t i = 0; i < n; i++) h[i] = r1_fp32_to_fp16(in[i]);
}

float r1_vec_dot_f16(int64_t n, const void *w_row, const void *act) {
    const uint16_t *w = w_row;
    const float *a = act;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)r1_fp16_to_fp32(w[i]) * a[i];
    return (float)sum;
}

void r1_dequantize_bf16(const void *blocks, float *out, int64_t n) {
    const uint16_t *h = blocks;
    for (int64_t i = 0; i < n; i++) out[i] = r1_bf16_to_fp32(h[i]);
}

void r1_quantize_bf16(const float *in, void *blocks, int64_t n) {
    uint16_t *h = blocks;
    for (int64_t i = 0; i < n; i++) h[i] = r1_fp32_to_bf16(in[i]);
}

float r1_vec_dot_bf16(int64_t n, const void *w_row, const void *act) {
    const uint16_t *w = w_row;
    const float *a = act;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)r1_bf16_to_fp32(w[i]) * a[i];
    return (float)sum;
}

/* ---- Q8_0: x = d * q, q in -127..127 ------------------------------------ */

void r1_dequantize_q8_0(const void *blocks, float *out, int64_t n) {
    const block_q8_0 *b = blocks;
    for (int64_t i = 0; i < n / QK; i++) {
        float d = r1_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK; j++) out[i * QK + j] = d * (float)b[i].qs[j];
    }
}

/* d = max|x| / 127, q = round(x / d). A block holding a NaN or an infinity is
 * d = NaN, q = 0: every product with it is then NaN, so that a damaged activation
 * reaches the logits (r1_logits_check) instead of vanishing in the rounding. */
void r1_quantize_q8_0(const float *in, void *blocks, int64_t n) {
    block_q8_0 *b = blocks;
    for (int64_t i = 0; i < n / QK; i++) {
        const float *x = in + i * QK;
        float amax = 0.0f;
        int finite = 1;
        for (int j = 0; j < QK; j++) {
            finite &= fabsf(x[j]) <= FLT_MAX; /* false for NaN and ±inf */
            amax = fmaxf(amax, fabsf(x[j]));
        }
        if (!finite) {
            b[i].d = r1_fp32_to_fp16(NAN);
            memset(b[i].qs, 0, QK);
            continue;
        }
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = r1_fp32_to_fp16(d);
        for (int j = 0; j < QK; j++) b[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

/* sum over blocks of d_w * d_a * (integer dot of the 32 quants) */
float r1_vec_dot_q8_0(int64_t n, const void *w_row, const void *act) {
    const block_q8_0 *w = w_row;
    const block_q8_0 *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK; i++) {
        int32_t isum = 0;
        for (int j = 0; j < QK; j++) isum += w[i].qs[j] * a[i].qs[j];
        sum += r1_fp16_to_fp32(w[i].d) * r1_fp16_to_fp32(a[i].d) * (float)isum;
    }
    return sum;
}

/* The GEMM kernels' activations: Q8_0 blocks in groups of eight, with d as
 * float and the sum of qs, so every row reads them instead of recomputing them. */
size_t r1_act_bytes_q8_0x8(int64_t n) {
    return (size_t)((n / QK + 7) / 8) * sizeof(block_q8_0x8);
}

void r1_quantize_q8_0x8(const float *in, void *groups, int64_t n) {
    block_q8_0x8 *g = groups;
    memset(g, 0, r1_act_bytes_q8_0x8(n));
    for (int64_t i = 0; i < n / QK; i++) {
        block_q8_0 q8;
        r1_quantize_q8_0(in + i * QK, &q8, QK);
        block_q8_0x8 *group = &g[i / 8];
        group->d[i % 8] = r1_fp16_to_fp32(q8.d);
        for (int j = 0; j < QK; j++) group->sum[i % 8] += q8.qs[j];
        memcpy(group->qs[i % 8], q8.qs, QK);
    }
}

/* ---- Q4_0: x = d * (q - 8), q in 0..15 ---------------------------------- */

/* The element of largest magnitude, with its sign. */
static float signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

void r1_dequantize_q4_0(const void *blocks, float *out, int64_t n) {
    const block_q4_0 *b = blocks;
    for (int64_t i = 0; i < n / QK; i++) {
        float d = r1_fp16_to_fp32(b[i].d);
        for (int j = 0; j < QK / 2; j++) {
            out[i * QK + j] = d * (float)((b[i].qs[j] & 0xF) - 8);
            out[i * QK + j + QK / 2] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

/* d = max / -8 maps the largest-magnitude element exactly to q = 0 (value -8d), so
 * the asymmetric range -8..7 is used in full on the side that needs it. */
void r1_quantize_q4_0(const float *in, void *blocks, int64_t n) {
    block_q4_0 *b = blocks;
    for (int64_t i = 0; i < n / QK; i++) {
        const float *x = in + i * QK;
        float d = signed_absmax(x, QK) / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = r1_fp32_to_fp16(d);
        for (int j = 0; j < QK / 2; j++) {
            int lo = (int8_t)(x[j] * id + 8.5f);
            int hi = (int8_t)(x[j + QK / 2] * id + 8.5f);
            lo = lo < 15 ? lo : 15;
            hi = hi < 15 ? hi : 15;
            b[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

float r1_vec_dot_q4_0(int64_t n, const void *w_row, const void *act) {
    const block_q4_0 *w = w_row;
    const block_q8_0 *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK; i++) {
        int32_t isum = 0;
        for (int j = 0; j < QK / 2; j++) {
            isum += ((w[i].qs[j] & 0xF) - 8) * a[i].qs[j];
            isum += ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + QK / 2];
        }
        sum += r1_fp16_to_fp32(w[i].d) * r1_fp16_to_fp32(a[i].d) * (float)isum;
    }
    return sum;
}

/* ---- Q5_0: x = d * (q - 16), q in 0..31 --------------------------------- */

static uint32_t load_u32_le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The 32 quants of a Q5_0 block, in element order. */
static void unpack_q5_0(const block_q5_0 *b, int q[QK]) {
    uint32_t qh = load_u32_le(b->qh);
    for (int j = 0; j < QK / 2; j++) {
        q[j] = (b->qs[j] & 0xF) | (int)((qh >> j & 1) << 4);
        q[j + QK / 2] = (b->qs[j] >> 4) | (int)((qh >> (j + QK / 2) & 1) << 4);
    }
}

void r1_dequantize_q5_0(const void *blocks, float *out, int64_t n) {
    const block_q5_0 *b = blocks;
    for (int64_t i = 0; i < n / QK; i++) {
        float d = r1_fp16_to_fp32(b[i].d);
        int q[QK];
        unpack_q5_0(&b[i], q);
        for (int j = 0; j < QK; j++) out[i * QK + j] = d * (float)(q[j] - 16);
    }
}

/* As Q4_0 with 5 bits: d = max / -16. */
void r1_quantize_q5_0(const float *in, void *blocks, int64_t n) {
    block_q5_0 *b = blocks;
    for (int64_t i = 0; i < n / QK; i++) {
        const float *x = in + i * QK;
        float d = signed_absmax(x, QK) / -16.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = r1_fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            int lo = (int8_t)(x[j] * id + 16.5f);
            int hi = (int8_t)(x[j + QK / 2] * id + 16.5f);
            lo = lo < 31 ? lo : 31;
            hi = hi < 31 ? hi : 31;
            b[i].qs[j] = (uint8_t)((lo & 0xF) | (hi & 0xF) << 4);
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + QK / 2);
        }
        for (int k = 0; k < 4; k++) b[i].qh[k] = (uint8_t)(qh >> (8 * k));
    }
}

float r1_vec_dot_q5_0(int64_t n, const void *w_row, const void *act) {
    const block_q5_0 *w = w_row;
    const block_q8_0 *a = act;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK; i++) {
        int q[QK];
        unpack_q5_0(&w[i], q);
        int32_t isum = 0;
        for (int j = 0; j < QK; j++) isum += (q[j] - 16) * a[i].qs[j];
        sum += r1_fp16_to_fp32(w[i].d) * r1_fp16_to_fp32(a[i].d) * (float)isum;
    }
    return sum;
}
