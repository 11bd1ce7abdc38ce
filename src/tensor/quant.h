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

/* Activations for the AVX2 GEMM kernels of the 32-element types: eight Q8_0
 * blocks (256 values) with their fp16 scales already widened and each block's
 * sum of quants, both otherwise recomputed for every row; grouped by eight so
 * that one row's kernel reads them as vectors. A row whose length is not a
 * multiple of 256 ends in a group padded with zero blocks. */
typedef struct {
    float d[8];        /* (8) each block's Q8_0 d (fp16-rounded), as float */
    int32_t sum[8];    /* (8) sum of each block's qs, for the offsets of Q4_0 (-8) */
    int8_t qs[8][QK];  /* (8, 32) as Q8_0 */
} block_q8_0x8;

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
_Static_assert(sizeof(block_q8_0x8) == 320, "grouped Q8_0 activations are 320 bytes");
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

/* The float types' vec_dot for several tokens at once (r1_type_traits.vec_dot_tokens),
 * each token's result the bits of its own vec_dot. */
void r1_vec_dot_tokens_f32_avx2(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                float *out, size_t out_stride);
void r1_vec_dot_tokens_f16_avx2(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                float *out, size_t out_stride);
void r1_vec_dot_tokens_bf16_avx2(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                 float *out, size_t out_stride);

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

/* The GEMM kernels' activations: grouped Q8_0 (the reference encoder; the AVX2
 * one must give the same bytes) and plain Q8_K. */
size_t r1_act_bytes_q8_0x8(int64_t n);
void r1_quantize_q8_0x8(const float *in, void *groups, int64_t n);
size_t r1_act_bytes_q8_k(int64_t n);

/* The AVX2 GEMM kernels (quant_gemm_avx2.c). */
extern const r1_gemm_kernels r1_gemm_q8_0_avx2, r1_gemm_q4_0_avx2, r1_gemm_q5_0_avx2;
extern const r1_gemm_kernels r1_gemm_q4_k_avx2, r1_gemm_q5_k_avx2, r1_gemm_q6_k_avx2;

/* The float kernels behind r1_dot_f32 / r1_axpy_f32. */
float r1_dot_f32_scalar(int64_t n, const float *a, const float *b);
float r1_dot_f32_avx2(int64_t n, const float *a, const float *b);
void r1_axpy_f32_scalar(int64_t n, float a, const float *x, float *y);
void r1_axpy_f32_avx2(int64_t n, float a, const float *x, float *y);
/* y += Σ_j a[j]·(rows + j·row_stride) for j < n_rows, bit for bit the n_rows axpys */
void r1_axpy_f32_rows_avx2(int64_t n, const float *a, const float *rows, size_t row_stride, int n_rows, float *y);

#ifdef __AVX2__
/* Helpers shared by the AVX2 kernels (quant_avx2.c, quant_gemm_avx2.c). */
#include <immintrin.h>
#include <string.h>

/* Decoding streams every weight once from DRAM, and these loops' short
 * dependency chains keep too few loads in flight to reach the memory bandwidth
 * (the hardware prefetchers do little here): Q4_0 rows streamed at 3.8 GB/s on
 * one core against 11.7 GB/s for plain loads. Asking for the bytes 4 KiB ahead
 * into L1 restored 10.7 GB/s; asking 8 KiB ahead into L2 (which has room for
 * more requests in flight) and then 2 KiB ahead into L1 took two threads from
 * 21-22 to 25-29 GB/s on Q8_0 and Q4_K rows (the machine's ceiling is ~29).
 * Always inlined: GCC finds an out-of-line copy free of side effects and deletes
 * the calls. */
static inline __attribute__((always_inline)) void prefetch_weights(const void *block, size_t bytes) {
    for (size_t offset = 0; offset < bytes; offset += 64) {
        _mm_prefetch((const char *)block + 8192 + offset, _MM_HINT_T1);
        _mm_prefetch((const char *)block + 2048 + offset, _MM_HINT_T0);
    }
}

static inline float hsum_ps(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

/* 8 int32 partial sums of x[j] * y[j] for 32 signed bytes each. maddubs wants its
 * first operand unsigned, so move x's sign onto y: |x| * (sign(x) * y). Requires
 * y != -128 (our activation quantizers stay within -127..127). */
static inline __m256i dot_i8_signed(__m256i x, __m256i y) {
    __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

/* 16 bytes of nibble pairs -> 32 bytes 0..15: low nibbles in bytes 0..15, high in
 * 16..31 (the upper 128-bit lane of the broadcast is shifted right by 4) */
static inline __m256i unpack_nibbles(const uint8_t *qs) {
    __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    both = _mm256_srlv_epi32(both, _mm256_set_epi32(4, 4, 4, 4, 0, 0, 0, 0));
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/* 32 bits -> 32 bytes, byte j = 0xFF where bit j is set */
static inline __m256i bits_to_bytes(uint32_t bits) {
    /* byte j of the shuffle result is byte j/8 of bits (pshufb works per 128-bit lane,
     * and every lane holds all four bytes after the broadcast) */
    __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
                                         _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                           0x0101010101010101, 0));
    __m256i bit_of_byte = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit_of_byte), bit_of_byte);
}

/* The 32 quants (0..31) of a Q5_0 block in element order. */
static inline __m256i unpack_q5_0(const block_q5_0 *b) {
    uint32_t qh;
    memcpy(&qh, b->qh, sizeof qh);
    return _mm256_or_si256(unpack_nibbles(b->qs), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}

/* The quants of sub-blocks 2c (*lo) and 2c+1 (*hi) of a Q4_K/Q5_K block from
 * their 32 bytes of nibbles; for Q5_K, high holds qh[] shifted right by 2c
 * (bits 0 and 1 of each byte are then the two sub-blocks' fifth bits). */
static inline void unpack_k_chunk(const uint8_t *qs, __m256i *lo, __m256i *hi) {
    __m256i packed = _mm256_loadu_si256((const __m256i *)qs);
    *lo = _mm256_and_si256(packed, _mm256_set1_epi8(0x0F));
    *hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), _mm256_set1_epi8(0x0F));
}

static inline void add_fifth_bits_k(__m256i high, __m256i *lo, __m256i *hi) {
    /* masking per byte keeps the 16-bit shifts from leaking bits across bytes */
    *lo = _mm256_or_si256(*lo, _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(0x01)), 4));
    *hi = _mm256_or_si256(*hi, _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(0x02)), 3));
}

/* The 128 quants (0..63) of half h of a Q6_K block in element order, as 4
 * vectors of 32 (the layout in block_q6_k's comment). */
static inline void unpack_q6_k_half(const block_q6_k *b, int h, __m256i q[4]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
    __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
    __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
    __m256i hb = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
    q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x03)), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x0C)), 2));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(hb, bits45));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                           _mm256_and_si256(_mm256_srli_epi16(hb, 2), bits45));
}
#endif

#endif
