/* Private to src/tensor: the GGUF block layouts, byte-exact as ggml writes them
 * (little-endian, no padding), and the per-type kernels that types.c puts in its
 * traits table. Each vec_dot has a scalar version (quant.c, quant_k.c: the
 * documentation) and an AVX2+FMA one (*_avx2.c) with the same signature. */
#ifndef R1_QUANT_H
#define R1_QUANT_H

#include "tensor/types.h"

#define QK 32   /* elements per block of Q8_0, Q4_0, Q5_0 */
#define QK_K 256 /* elements per super-block of the K-quants */

/* x[j] = d * qs[j] */
typedef struct {
    uint16_t d;     /* fp16 scale */
    int8_t qs[QK];  /* (32) */
} block_q8_0;

/* x[j] = d * (q[j] - 8); q[j] = qs[j] & 15, q[j+16] = qs[j] >> 4 for j < 16 */
typedef struct {
    uint16_t d;         /* fp16 scale */
    uint8_t qs[QK / 2]; /* (16) two 4-bit values per byte */
} block_q4_0;

/* x[j] = d * (q[j] - 16); low 4 bits of q as in Q4_0, bit 4 of q[j] is bit j of qh */
typedef struct {
    uint16_t d;         /* fp16 scale */
    uint8_t qh[4];      /* (4) 32 fifth bits, a little-endian uint32 */
    uint8_t qs[QK / 2]; /* (16) low nibbles as in Q4_0 */
} block_q5_0;

/* Activations for the K-quants: x[j] = d * qs[j], bsums[g] = sum of qs[16g..16g+15] */
typedef struct {
    float d;                /* f32 scale */
    int8_t qs[QK_K];        /* (256) */
    int16_t bsums[QK_K / 16]; /* (16) */
} block_q8_k;

/* 8 sub-blocks s of 32: x = d * sc[s] * q - dmin * m[s], q in 0..15.
 * 64-element chunk c holds sub-block 2c in the low and 2c+1 in the high nibbles
 * of qs[32c .. 32c+31]. sc, m are 6-bit, packed in scales (see unpack_scales_k4). */
typedef struct {
    uint16_t d;           /* fp16 super-scale of the sub-block scales */
    uint16_t dmin;        /* fp16 super-scale of the sub-block mins */
    uint8_t scales[12];   /* (12) 8 scales + 8 mins, 6 bits each */
    uint8_t qs[QK_K / 2]; /* (128) */
} block_q4_k;

/* As Q4_K with q in 0..31: bit 4 of element l of sub-block s is bit s of qh[l]. */
typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];   /* (12) */
    uint8_t qh[QK_K / 8]; /* (32) */
    uint8_t qs[QK_K / 2]; /* (128) */
} block_q5_k;

/* 16 sub-blocks of 16: x = d * scales[s] * (q - 32), q in 0..63. Two halves of 128;
 * in half h, for l < 32 (ql += 64h, qh += 32h, scales += 8h):
 *   element l      : ql[l]    & 15 | (qh[l] >> 0 & 3) << 4
 *   element l + 32 : ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4
 *   element l + 64 : ql[l]    >> 4 | (qh[l] >> 4 & 3) << 4
 *   element l + 96 : ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4 */
typedef struct {
    uint8_t ql[QK_K / 2];     /* (128) low 4 bits */
    uint8_t qh[QK_K / 4];     /* (64) high 2 bits */
    int8_t scales[QK_K / 16]; /* (16) signed 8-bit sub-block scales */
    uint16_t d;               /* fp16 super-scale */
} block_q6_k;

_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block is 34 bytes");
_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block is 18 bytes");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block is 22 bytes");
_Static_assert(sizeof(block_q8_k) == 292, "Q8_K block is 292 bytes");
_Static_assert(sizeof(block_q4_k) == 144, "Q4_K block is 144 bytes");
_Static_assert(sizeof(block_q5_k) == 176, "Q5_K block is 176 bytes");
_Static_assert(sizeof(block_q6_k) == 210, "Q6_K block is 210 bytes");

/* The 6-bit scale sc[s] and min m[s] of sub-block s (0..7) of a Q4_K/Q5_K block. */
static inline void unpack_scale_min_k4(const uint8_t *scales, int s, uint8_t *sc, uint8_t *m) {
    if (s < 4) {
        *sc = scales[s] & 63;
        *m = scales[s + 4] & 63;
    } else {
        *sc = (uint8_t)((scales[s + 4] & 0xF) | ((scales[s - 4] >> 6) << 4));
        *m = (uint8_t)((scales[s + 4] >> 4) | ((scales[s] >> 6) << 4));
    }
}

/* One line per type: dequantize, quantize, scalar vec_dot, AVX2 vec_dot. */
void r1_dequantize_f32(const void *blocks, float *out, int64_t n);
void r1_quantize_f32(const float *in, void *blocks, int64_t n);
float r1_vec_dot_f32(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_f32_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_f16(const void *blocks, float *out, int64_t n);
void r1_quantize_f16(const float *in, void *blocks, int64_t n);
float r1_vec_dot_f16(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_f16_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_bf16(const void *blocks, float *out, int64_t n);
void r1_quantize_bf16(const float *in, void *blocks, int64_t n);
float r1_vec_dot_bf16(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_bf16_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_q8_0(const void *blocks, float *out, int64_t n);
void r1_quantize_q8_0(const float *in, void *blocks, int64_t n);
float r1_vec_dot_q8_0(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_q8_0_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_q4_0(const void *blocks, float *out, int64_t n);
void r1_quantize_q4_0(const float *in, void *blocks, int64_t n);
float r1_vec_dot_q4_0(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_q4_0_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_q5_0(const void *blocks, float *out, int64_t n);
void r1_quantize_q5_0(const float *in, void *blocks, int64_t n);
float r1_vec_dot_q5_0(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_q5_0_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_q8_k(const void *blocks, float *out, int64_t n);
void r1_quantize_q8_k(const float *in, void *blocks, int64_t n);

void r1_dequantize_q4_k(const void *blocks, float *out, int64_t n);
void r1_quantize_q4_k(const float *in, void *blocks, int64_t n);
float r1_vec_dot_q4_k(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_q4_k_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_q5_k(const void *blocks, float *out, int64_t n);
void r1_quantize_q5_k(const float *in, void *blocks, int64_t n);
float r1_vec_dot_q5_k(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_q5_k_avx2(int64_t n, const void *w_row, const void *act);

void r1_dequantize_q6_k(const void *blocks, float *out, int64_t n);
void r1_quantize_q6_k(const float *in, void *blocks, int64_t n);
float r1_vec_dot_q6_k(int64_t n, const void *w_row, const void *act);
float r1_vec_dot_q6_k_avx2(int64_t n, const void *w_row, const void *act);

/* The float kernels behind r1_dot_f32 / r1_axpy_f32. */
float r1_dot_f32_scalar(int64_t n, const float *a, const float *b);
float r1_dot_f32_avx2(int64_t n, const float *a, const float *b);
void r1_axpy_f32_scalar(int64_t n, float a, const float *x, float *y);
void r1_axpy_f32_avx2(int64_t n, float a, const float *x, float *y);

#endif
