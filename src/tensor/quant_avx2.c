/* AVX2+FMA(+F16C) versions of the vec_dot kernels and the float vector kernels.
 * Same signatures and results (up to float rounding) as the scalar ones in
 * quant.c / quant_k.c, which document the math. Compiled with -mavx2 -mfma
 * -mf16c; types.c calls these only after r1_kernels_cpu_has_avx2().
 *
 * Integer products: _mm256_maddubs_epi16 multiplies unsigned by signed bytes and
 * adds adjacent pairs into int16, _mm256_madd_epi16 then widens pairs to int32
 * (multiplying by 1, or by a sub-block scale). None of the pair sums below can
 * saturate int16: the K-quants have q <= 63 against |y| <= 128 (at most 16128),
 * the sign trick for Q8_0 |x| <= 128 against |y| <= 127 (at most 32512). */
#include <immintrin.h>
#include <string.h>

#include "tensor/quant.h"

/* d_w * d_a of two fp16 block scales, in all 8 lanes. Converting straight from
 * memory (16 bytes: the scale and the 14 block bytes after it, so both blocks
 * must be at least 16 bytes) keeps the work off the shuffle port, which the
 * register forms of the conversion would saturate in these short loops. */
static inline __m256 fp16_product(const uint16_t *d_w, const uint16_t *d_a) {
    __m256 w = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)d_w));
    __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)d_a));
    return _mm256_broadcastss_ps(_mm256_castps256_ps128(_mm256_mul_ps(w, a)));
}

/* ---- Float rows (activations F32) ---------------------------------------- */

/* y[0 .. 8·n_vec) += Σ_j a[j]·rows_j over j = 0..n_rows−1 in that order: y stays in
 * registers across the rows, one FMA per row and element. */
static inline __attribute__((always_inline)) void axpy_rows_vectors(int n_vec, const float *a, const float *rows,
                                                                    size_t row_stride, int n_rows, float *y) {
    __m256 acc[8];
#pragma GCC unroll 8
    for (int v = 0; v < n_vec; v++) acc[v] = _mm256_loadu_ps(y + 8 * v);
    for (int j = 0; j < n_rows; j++) {
        __m256 aj = _mm256_set1_ps(a[j]);
        const float *x = rows + (size_t)j * row_stride;
#pragma GCC unroll 8
        for (int v = 0; v < n_vec; v++) acc[v] = _mm256_fmadd_ps(aj, _mm256_loadu_ps(x + 8 * v), acc[v]);
    }
#pragma GCC unroll 8
    for (int v = 0; v < n_vec; v++) _mm256_storeu_ps(y + 8 * v, acc[v]);
}

/* Each element of y takes the additions of n_rows single axpys in row order (an FMA
 * each; the last n mod 8 elements a product and a sum each, as the scalar loop
 * does), so one call gives the bits of the n_rows calls it replaces. */
void r1_axpy_f32_rows_avx2(int64_t n, const float *a, const float *rows, size_t row_stride, int n_rows, float *y) {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) axpy_rows_vectors(8, a, rows + i, row_stride, n_rows, y + i);
    switch ((n - i) / 8) {
    case 7: axpy_rows_vectors(7, a, rows + i, row_stride, n_rows, y + i); break;
    case 6: axpy_rows_vectors(6, a, rows + i, row_stride, n_rows, y + i); break;
    case 5: axpy_rows_vectors(5, a, rows + i, row_stride, n_rows, y + i); break;
    case 4: axpy_rows_vectors(4, a, rows + i, row_stride, n_rows, y + i); break;
    case 3: axpy_rows_vectors(3, a, rows + i, row_stride, n_rows, y + i); break;
    case 2: axpy_rows_vectors(2, a, rows + i, row_stride, n_rows, y + i); break;
    case 1: axpy_rows_vectors(1, a, rows + i, row_stride, n_rows, y + i); break;
    }
    for (i += (n - i) / 8 * 8; i < n; i++)
        for (int j = 0; j < n_rows; j++) y[i] += a[j] * rows[(size_t)j * row_stride + (size_t)i];
}

void r1_axpy_f32_avx2(int64_t n, float a, const float *x, float *y) { r1_axpy_f32_rows_avx2(n, &a, x, 0, 1, y); }

static inline __m256 load_f16x8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* bfloat16 is the top half of a binary32: widen to 32 bits and shift left 16. */
static inline __m256 load_bf16x8(const uint16_t *p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

/* The weight rows of the float types, eight weights at a time as floats. */
typedef enum { ROW_F32, ROW_F16, ROW_BF16 } row_kind;

static inline __attribute__((always_inline)) __m256 load_row8(row_kind kind, const void *w, int64_t i) {
    if (kind == ROW_F32) return _mm256_loadu_ps((const float *)w + i);
    return kind == ROW_F16 ? load_f16x8((const uint16_t *)w + i) : load_bf16x8((const uint16_t *)w + i);
}

static inline __attribute__((always_inline)) float row_elem(row_kind kind, const void *w, int64_t i) {
    if (kind == ROW_F32) return ((const float *)w)[i];
    return kind == ROW_F16 ? _cvtsh_ss(((const uint16_t *)w)[i]) : r1_bf16_to_fp32(((const uint16_t *)w)[i]);
}

/* out[t] = Σ_i w[i]·x_t[i] for the n_tok tokens x_0..x_{n_tok−1} (n_tok ≤ MAX_TOKENS,
 * a constant at each call): four accumulators per token hide the FMA latency, and
 * each 32-element block of the row is loaded once for all of them. A token's sums
 * are the same additions in the same order whatever n_tok is, so decoding several
 * sequences at once gives the bits of decoding them one by one. Three tokens' 12
 * accumulators, the weights and a spare fill the 16 YMM registers. */
enum { MAX_TOKENS = 3 };
static inline __attribute__((always_inline)) void dot_tokens(row_kind kind, int n_tok, int64_t n, const void *w,
                                                             const float *const *x, float *out) {
    const size_t elem_bytes = kind == ROW_F32 ? sizeof(float) : sizeof(uint16_t);
    __m256 acc[MAX_TOKENS][4];
#pragma GCC unroll 3
    for (int k = 0; k < n_tok; k++)
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[k][j] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        prefetch_weights((const char *)w + i * elem_bytes, 32 * elem_bytes);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m256 wv = load_row8(kind, w, i + 8 * j);
#pragma GCC unroll 3
            for (int k = 0; k < n_tok; k++)
                acc[k][j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[k] + i + 8 * j), acc[k][j]);
        }
    }
    for (; i + 8 <= n; i += 8) {
        __m256 wv = load_row8(kind, w, i);
#pragma GCC unroll 3
        for (int k = 0; k < n_tok; k++) acc[k][0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[k] + i), acc[k][0]);
    }
#pragma GCC unroll 3
    for (int k = 0; k < n_tok; k++) {
        float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[k][0], acc[k][1]), _mm256_add_ps(acc[k][2], acc[k][3])));
        for (int64_t r = i; r < n; r++) sum += row_elem(kind, w, r) * x[k][r];
        out[k] = sum;
    }
}

static inline __attribute__((always_inline)) float dot_one(row_kind kind, int64_t n, const void *w, const float *x) {
    float out;
    dot_tokens(kind, 1, n, w, &x, &out);
    return out;
}

/* Every token of act (n_act of them, act_stride bytes apart) times one row,
 * MAX_TOKENS tokens a pass. */
static inline __attribute__((always_inline)) void dot_all_tokens(row_kind kind, int64_t n, const void *w_row,
                                                                 const void *act, size_t act_stride, int n_act,
                                                                 float *out, size_t out_stride) {
    const float *x[MAX_TOKENS];
    float sums[MAX_TOKENS] = {0};
    int t = 0;
    for (; t + MAX_TOKENS <= n_act; t += MAX_TOKENS) {
        for (int k = 0; k < MAX_TOKENS; k++) x[k] = (const float *)((const char *)act + (size_t)(t + k) * act_stride);
        dot_tokens(kind, MAX_TOKENS, n, w_row, x, sums);
        for (int k = 0; k < MAX_TOKENS; k++) out[(size_t)(t + k) * out_stride] = sums[k];
    }
    _Static_assert(MAX_TOKENS == 3, "the tokens left over are one or two");
    int rest = n_act - t;
    for (int k = 0; k < rest; k++) x[k] = (const float *)((const char *)act + (size_t)(t + k) * act_stride);
    if (rest == 2) dot_tokens(kind, 2, n, w_row, x, sums);
    else if (rest == 1) dot_tokens(kind, 1, n, w_row, x, sums);
    for (int k = 0; k < rest; k++) out[(size_t)(t + k) * out_stride] = sums[k];
}

float r1_dot_f32_avx2(int64_t n, const float *a, const float *b) { return dot_one(ROW_F32, n, a, b); }

float r1_vec_dot_f32_avx2(int64_t n, const void *w_row, const void *act) { return dot_one(ROW_F32, n, w_row, act); }
float r1_vec_dot_f16_avx2(int64_t n, const void *w_row, const void *act) { return dot_one(ROW_F16, n, w_row, act); }
float r1_vec_dot_bf16_avx2(int64_t n, const void *w_row, const void *act) { return dot_one(ROW_BF16, n, w_row, act); }

void r1_vec_dot_tokens_f32_avx2(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                float *out, size_t out_stride) {
    dot_all_tokens(ROW_F32, n, w_row, act, act_stride, n_act, out, out_stride);
}
void r1_vec_dot_tokens_f16_avx2(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                float *out, size_t out_stride) {
    dot_all_tokens(ROW_F16, n, w_row, act, act_stride, n_act, out, out_stride);
}
void r1_vec_dot_tokens_bf16_avx2(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                 float *out, size_t out_stride) {
    dot_all_tokens(ROW_BF16, n, w_row, act, act_stride, n_act, out, out_stride);
}

/* ---- 32-element blocks (activations Q8_0) ------------------------------- */

float r1_vec_dot_q8_0_avx2(int64_t n, const void *w_row, const void *act) {
    const block_q8_0 *w = w_row;
    const block_q8_0 *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK; i++) {
        prefetch_weights(w + i, sizeof *w);
        __m256i x = _mm256_loadu_si256((const __m256i *)w[i].qs);
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        acc = _mm256_fmadd_ps(fp16_product(&w[i].d, &a[i].d), _mm256_cvtepi32_ps(dot_i8_signed(x, y)), acc);
    }
    return hsum_ps(acc);
}

float r1_vec_dot_q4_0_avx2(int64_t n, const void *w_row, const void *act) {
    const block_q4_0 *w = w_row;
    const block_q8_0 *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK; i++) {
        prefetch_weights(w + i, sizeof *w);
        __m256i x = _mm256_sub_epi8(unpack_nibbles(w[i].qs), _mm256_set1_epi8(8));
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        acc = _mm256_fmadd_ps(fp16_product(&w[i].d, &a[i].d), _mm256_cvtepi32_ps(dot_i8_signed(x, y)), acc);
    }
    return hsum_ps(acc);
}

float r1_vec_dot_q5_0_avx2(int64_t n, const void *w_row, const void *act) {
    const block_q5_0 *w = w_row;
    const block_q8_0 *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK; i++) {
        prefetch_weights(w + i, sizeof *w);
        __m256i x = _mm256_sub_epi8(unpack_q5_0(&w[i]), _mm256_set1_epi8(16));
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        acc = _mm256_fmadd_ps(fp16_product(&w[i].d, &a[i].d), _mm256_cvtepi32_ps(dot_i8_signed(x, y)), acc);
    }
    return hsum_ps(acc);
}

/* ---- K-quants (activations Q8_K) ---------------------------------------- */

/* The 8 six-bit scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K/Q5_K
 * block, i.e. unpack_scale_min_k4 for all s at once. With w0, w1, w2 the
 * little-endian words of scales[0..3], [4..7], [8..11], the four result words are
 *   sc[0..3] = w0 & 63                 sc[4..7] = w2 & 15 | (w0 >> 6) << 4
 *   m[0..3]  = w1 & 63                 m[4..7]  = w2 >> 4 & 15 | (w1 >> 6) << 4
 * Reads 16 bytes from scales (the block goes on after them). */
static inline __m128i unpack_scales_mins_k4(const uint8_t *scales) {
    __m128i words = _mm_loadu_si128((const __m128i *)scales);
    __m128i low = _mm_shuffle_epi32(words, _MM_SHUFFLE(2, 1, 2, 0));  /* w0 w2 w1 w2 */
    __m128i high = _mm_shuffle_epi32(words, _MM_SHUFFLE(1, 1, 0, 0)); /* w0 w0 w1 w1 */
    low = _mm_and_si128(_mm_srlv_epi32(low, _mm_set_epi32(4, 0, 0, 0)),
                        _mm_set_epi32(0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F));
    high = _mm_and_si128(_mm_srli_epi32(high, 2), _mm_set_epi32(0x30303030, 0, 0x30303030, 0));
    return _mm_or_si128(low, high);
}

/* pshufb patterns broadcasting int16 element s of a 128-bit lane to the whole lane */
static const uint8_t pick_int16[8][16] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
    {2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5},
    {6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9},
    {10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13},
    {14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
};

/* Sub-block scale s as int16 in all 16 lanes; scales16 holds sc[0..7] as int16 in both lanes. */
static inline __m256i scale_of(__m256i scales16, int s) {
    return _mm256_shuffle_epi8(scales16, _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)pick_int16[s])));
}

/* The min term, all 8 sub-blocks at once: 8 int32 lanes m[s] * (bsums[2s] + bsums[2s+1]). */
static inline __m256i mins_times_bsums(__m128i scales_mins, const int16_t bsums[16]) {
    const __m128i pair_up = _mm_set_epi8(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    __m256i m_pairs = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scales_mins, pair_up));
    return _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)bsums), m_pairs);
}

/* acc += d_w d_a isum - dmin_w d_a min_sum; d and dmin are adjacent fp16s, converted together */
static inline __m256 accumulate_k4(__m256 acc, const uint16_t *d_and_dmin, float d_a, __m256i isum, __m256i min_sum) {
    __m128 scales = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)d_and_dmin)), _mm_set1_ps(d_a));
    acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(scales), _mm256_cvtepi32_ps(isum), acc);
    return _mm256_fnmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(scales)), _mm256_cvtepi32_ps(min_sum), acc);
}

/* x = d sc q - dmin m: acc += d_w d_a sum_s sc[s] (q.y)_s - dmin_w d_a sum_s m[s] ysum_s */
float r1_vec_dot_q4_k_avx2(int64_t n, const void *w_row, const void *act) {
    const block_q4_k *w = w_row;
    const block_q8_k *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        prefetch_weights(w + i, sizeof *w);
        __m128i scales_mins = unpack_scales_mins_k4(w[i].scales);
        __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins));
        __m256i isum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) { /* 64 elements: sub-blocks 2c (low nibbles), 2c+1 (high) */
            __m256i q_lo, q_hi;
            unpack_k_chunk(w[i].qs + 32 * c, &q_lo, &q_hi);
            __m256i p_lo = _mm256_maddubs_epi16(q_lo, _mm256_loadu_si256((const __m256i *)(a[i].qs + 64 * c)));
            __m256i p_hi = _mm256_maddubs_epi16(q_hi, _mm256_loadu_si256((const __m256i *)(a[i].qs + 64 * c + 32)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_lo, scale_of(scales16, 2 * c)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_hi, scale_of(scales16, 2 * c + 1)));
        }
        acc = accumulate_k4(acc, &w[i].d, a[i].d, isum, mins_times_bsums(scales_mins, a[i].bsums));
    }
    return hsum_ps(acc);
}

/* As Q4_K; chunk c's fifth bits are bits 2c (low sub-block) and 2c+1 (high) of qh[l]. */
float r1_vec_dot_q5_k_avx2(int64_t n, const void *w_row, const void *act) {
    const block_q5_k *w = w_row;
    const block_q8_k *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        prefetch_weights(w + i, sizeof *w);
        __m128i scales_mins = unpack_scales_mins_k4(w[i].scales);
        __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins));
        __m256i high = _mm256_loadu_si256((const __m256i *)w[i].qh); /* shifted right by 2 per chunk */
        __m256i isum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q_lo, q_hi;
            unpack_k_chunk(w[i].qs + 32 * c, &q_lo, &q_hi);
            add_fifth_bits_k(high, &q_lo, &q_hi);
            high = _mm256_srli_epi16(high, 2);
            __m256i p_lo = _mm256_maddubs_epi16(q_lo, _mm256_loadu_si256((const __m256i *)(a[i].qs + 64 * c)));
            __m256i p_hi = _mm256_maddubs_epi16(q_hi, _mm256_loadu_si256((const __m256i *)(a[i].qs + 64 * c + 32)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_lo, scale_of(scales16, 2 * c)));
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_hi, scale_of(scales16, 2 * c + 1)));
        }
        acc = accumulate_k4(acc, &w[i].d, a[i].d, isum, mins_times_bsums(scales_mins, a[i].bsums));
    }
    return hsum_ps(acc);
}

/* 8 int32 partial sums of the 32 products q * y, weighted by the int16 scales in
 * each 128-bit lane of scale_pair (a 32-element group spans two Q6_K sub-blocks) */
static inline __m256i q6_group_dot(__m256i q, const int8_t *y, __m256i scale_pair) {
    __m256i pairs = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)y));
    return _mm256_madd_epi16(pairs, scale_pair);
}

/* pshufb patterns broadcasting int16 element 2k of a 128-bit lane to the low lane
 * and element 2k+1 to the high lane (the source holds the same 8 scales in both) */
static const uint8_t pick_int16_pair[4][32] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13,
     14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
};

static inline __m256i scale_pair_of(__m256i scales16, int k) {
    return _mm256_shuffle_epi8(scales16, _mm256_loadu_si256((const __m256i *)pick_int16_pair[k]));
}

/* x = d sc (q - 32) with q in 0..63 unsigned, so maddubs takes q as is and the
 * -32 comes out as one correction: sum_s sc[s] (q.y)_s - 32 sum_s sc[s] bsums[s]. */
float r1_vec_dot_q6_k_avx2(int64_t n, const void *w_row, const void *act) {
    const block_q6_k *w = w_row;
    const block_q8_k *a = act;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        prefetch_weights(w + i, sizeof *w);
        __m128i scales8 = _mm_loadu_si128((const __m128i *)w[i].scales);
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const int8_t *y = a[i].qs + 128 * h;
            /* this half's 8 scales as int16, in both 128-bit lanes */
            __m128i half_scales8 = h ? _mm_srli_si128(scales8, 8) : scales8;
            __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half_scales8));
            __m256i q[4];
            unpack_q6_k_half(&w[i], h, q);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
                isum = _mm256_add_epi32(isum, q6_group_dot(q[k], y + 32 * k, scale_pair_of(scales16, k)));
        }
        __m256i bias = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a[i].bsums),
                                         _mm256_cvtepi8_epi16(scales8));
        isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(bias, 5));
        /* d is the block's last 2 bytes: convert the 16 bytes ending there (lane 7) */
        __m256 d_w = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint8_t *)&w[i].d - 14)));
        __m256 d = _mm256_permutevar8x32_ps(_mm256_mul_ps(d_w, _mm256_set1_ps(a[i].d)), _mm256_set1_epi32(7));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), acc);
    }
    return hsum_ps(acc);
}

