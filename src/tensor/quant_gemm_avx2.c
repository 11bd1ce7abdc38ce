/* AVX2 GEMM kernels (r1_gemm_kernels in types.h): a panel of R1_GEMM_ROWS = 8
 * weight rows times several tokens, and one row times one token with the same
 * activation encoding (decode).
 *
 * Packing unpacks the rows' quants to one byte each and interleaves the rows four
 * bytes at a time: in every 32-byte vector of the panel, 32-bit lane r holds four
 * consecutive quants of row r. One token's four matching activation bytes are
 * broadcast to all lanes, so _mm256_maddubs_epi16 + _mm256_madd_epi16 leave in
 * lane r row r's partial dot product -- eight rows at once, the block scales then
 * applied to eight rows at once too. Each panel vector is loaded once for up to
 * TILE_TOKENS tokens.
 *
 * maddubs multiplies unsigned by signed bytes, so the quants enter unsigned (Q4_0
 * 0..15, Q5_0 0..31 with their offsets -8, -16 taken off afterwards through the
 * activation block sums; Q4_K, Q5_K, Q6_K as stored) and are summed in int16 as
 * long as that cannot overflow: a maddubs pair of q <= 15 and |y| <= 127 is at
 * most 3810, so 8 groups (32 products) fit in int16 (30480); q <= 31 allows 4
 * groups (31496), q <= 63 two (32004). Q8_0's signed quants go through the sign
 * trick (|x| * sign(x) y), one pair reaching 32512, so they widen after each.
 * All of it relies on activations never being -128: every r1 activation
 * quantizer stays within -127..127. */
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "tensor/quant.h"

/* Tokens per pass over a panel block: 4 leaves room in the 16 YMM registers for
 * the int16 sums, the float accumulators and the operands (3 measured 5-10 %
 * slower, 6 and 8 no faster). The tails below assume 4. */
#define TILE_TOKENS 4

/* The tile loops are unrolled completely so that their small arrays live in
 * registers (GCC at -O2 keeps them in memory otherwise: 3x slower). */
#define UNROLL _Pragma("GCC unroll 16")

/* GCC reassociates the integer sums below into trees, which spill registers; an
 * empty asm that "changes" a sum keeps its chain in order (ns per 32-weight block
 * and token: Q4_0 0.42 -> 0.29, Q4_K 0.36 -> 0.28, Q6_K 0.36 -> 0.28, Q8_0 0.54
 * -> 0.44). */
#define KEEP_ORDER(v) __asm__("" : "+x"(v))

/* ---- shared pieces -------------------------------------------------------- */

/* Four activation bytes in all eight 32-bit lanes. */
static inline __m256i broadcast4(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* Transposes eight rows of eight 32-bit lanes in place: afterwards v[g] holds lane
 * g of every row, row r in lane r. */
static inline void transpose_8x8_epi32(__m256i v[8]) {
    __m256i t[8], u[8];
    UNROLL
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);     /* lanes 0, 1 of rows i, i+1 | lanes 4, 5 */
        t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]); /* lanes 2, 3 | 6, 7 */
    }
    UNROLL
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);         /* lane 0 of rows i..i+3 | lane 4 */
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);     /* lane 1 | 5 */
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]); /* lane 2 | 6 */
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]); /* lane 3 | 7 */
    }
    UNROLL
    for (int g = 0; g < 4; g++) {
        v[g] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x20);
        v[g + 4] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x31);
    }
}

/* rows[r]: 32 unpacked quants of row r (zero past the panel's last row), stored
 * as the panel's 8 vectors of 4-quant groups. */
static inline void store_transposed(__m256i rows[8], __m256i *out) {
    transpose_8x8_epi32(rows);
    UNROLL
    for (int g = 0; g < 8; g++) _mm256_store_si256(out + g, rows[g]);
}

/* Scale s in both int16 halves of 32-bit lane r: the form in which
 * _mm256_madd_epi16 weights a row's two int16 partial sums. */
static inline void set_lane_scale(int16_t *vec, int r, int scale) {
    vec[2 * r] = (int16_t)scale;
    vec[2 * r + 1] = (int16_t)scale;
}

/* Row r's block b of a panel's rows. */
static inline const void *row_block(const void *rows, size_t row_bytes, int r, int64_t b, size_t block_bytes) {
    return (const uint8_t *)rows + (size_t)r * row_bytes + (size_t)b * block_bytes;
}

/* Stores n_rows lanes of acc, row r's result for one token in lane r. */
static inline void store_rows(float *out, __m256 acc, int n_rows) {
    if (n_rows == R1_GEMM_ROWS) {
        _mm256_storeu_ps(out, acc);
    } else {
        float lanes[8];
        _mm256_storeu_ps(lanes, acc);
        memcpy(out, lanes, (size_t)n_rows * sizeof(float));
    }
}

static inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* ---- activation encoders ---------------------------------------------------- */

/* Same bytes as the reference encoders r1_quantize_q8_0x8 and r1_quantize_q8_k,
 * whose rounding they reproduce exactly. */

/* roundf: to nearest, halves away from zero (trunc, then one step where the
 * dropped fraction is at least a half; both steps exact for |v| < 2^23) */
static inline __m256 round_half_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 whole = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, whole));
    __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
    return _mm256_add_ps(whole, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

/* 32 integral floats in -127..127 (four vectors, element order) -> 32 int8 */
static inline __m256i pack_int8(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    __m256i lo = _mm256_packs_epi32(_mm256_cvtps_epi32(v0), _mm256_cvtps_epi32(v1));
    __m256i hi = _mm256_packs_epi32(_mm256_cvtps_epi32(v2), _mm256_cvtps_epi32(v3));
    /* the packs interleave 128-bit lanes: put the eight 4-byte groups back in order */
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(lo, hi), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Sums of each 4 consecutive bytes of q, as int32 lanes. */
static inline __m256i sums_of_4(__m256i q) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
}

/* Lanes of finite ⊆ lanes where |v| ≤ FLT_MAX: all-ones bits survive only while no
 * NaN or ±inf has been seen (the ordered compare is false for them). */
static inline __m256 and_finite(__m256 finite, __m256 abs_v) {
    return _mm256_and_ps(finite, _mm256_cmp_ps(abs_v, _mm256_set1_ps(FLT_MAX), _CMP_LE_OQ));
}

static inline int all_lanes(__m256 mask) { return _mm256_movemask_ps(mask) == 0xFF; }

/* Per block of 32: d = max|x| / 127 (kept as its fp16 rounding), q = roundf(x / d)
 * (x times the unrounded 1 / d, as r1_quantize_q8_0), and the sum of q; a block
 * with a NaN or an infinity d = NaN, q = 0, as r1_quantize_q8_0 writes it. */
static void quantize_q8_0x8(const float *in, void *groups, int64_t n) {
    block_q8_0x8 *g = groups;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    if (n / QK % 8) memset(&g[n / QK / 8], 0, sizeof *g); /* the padded last group */
    for (int64_t i = 0; i < n / QK; i++) {
        const float *x = in + i * QK;
        block_q8_0x8 *group = &g[i / 8];
        __m256 v[4], amax = _mm256_setzero_ps(), finite = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        UNROLL
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            __m256 abs_v = _mm256_and_ps(v[k], abs_mask);
            finite = and_finite(finite, abs_v);
            amax = _mm256_max_ps(amax, abs_v);
        }
        if (!all_lanes(finite)) {
            memset(group->qs[i % 8], 0, QK);
            group->d[i % 8] = r1_fp16_to_fp32(r1_fp32_to_fp16(NAN));
            group->sum[i % 8] = 0;
            continue;
        }
        float d = hmax_ps(amax) / 127.0f;
        __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        UNROLL
        for (int k = 0; k < 4; k++) v[k] = round_half_away(_mm256_mul_ps(v[k], id));
        __m256i q = pack_int8(v[0], v[1], v[2], v[3]);
        _mm256_storeu_si256((__m256i *)group->qs[i % 8], q);
        group->d[i % 8] = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
        group->sum[i % 8] = hsum_epi32(sums_of_4(q));
    }
}

/* Per 256: the element of largest magnitude (the first, on ties) maps to -127,
 * q = nearest_int(-127 / max * x) (ties to even), and the sums of 16; a block with
 * a NaN or an infinity d = NaN, q = 0, as r1_quantize_q8_k writes it. */
static void quantize_q8_k(const float *in, void *blocks, int64_t n) {
    block_q8_k *b = blocks;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float *x = in + i * QK_K;
        __m256 amax_v = _mm256_setzero_ps(), finite = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        for (int j = 0; j < QK_K; j += 8) {
            __m256 abs_v = _mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask);
            finite = and_finite(finite, abs_v);
            amax_v = _mm256_max_ps(amax_v, abs_v);
        }
        float amax = hmax_ps(amax_v);
        if (!all_lanes(finite) || amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            if (!all_lanes(finite)) b[i].d = NAN;
            continue;
        }
        int first = 0;
        while (first < QK_K - 1 && (x[first] < 0.0f ? -x[first] : x[first]) != amax) first++;
        float iscale = -127.0f / x[first];
        __m256 scale = _mm256_set1_ps(iscale);
        for (int j = 0; j < QK_K; j += 32) {
            __m256 v[4];
            UNROLL
            for (int k = 0; k < 4; k++)
                v[k] = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), scale),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m256i q = pack_int8(v[0], v[1], v[2], v[3]); /* saturating 128 to 127 as the scalar clamp */
            _mm256_storeu_si256((__m256i *)(b[i].qs + j), q);
            __m256i sum4 = sums_of_4(q); /* elements 0..15 in lanes 0..3, 16..31 in 4..7 */
            __m128i sum8 = _mm_hadd_epi32(_mm256_castsi256_si128(sum4), _mm256_extracti128_si256(sum4, 1));
            __m128i sum16 = _mm_hadd_epi32(sum8, sum8);
            b[i].bsums[j / 16] = (int16_t)_mm_cvtsi128_si32(sum16);
            b[i].bsums[j / 16 + 1] = (int16_t)_mm_extract_epi32(sum16, 1);
        }
        b[i].d = 1.0f / iscale;
    }
}

/* ---- Q4_0, Q5_0, Q8_0: blocks of 32, activations block_q8_0x8 --------------- */

enum { KIND_Q4_0, KIND_Q5_0, KIND_Q8_0 };

/* Per block: 8 vectors of quants (group g: quants 4g..4g+3 of each row), then
 * the 8 rows' scales as floats. Q4_0, Q5_0 store q (0..15, 0..31), Q8_0 its
 * signed quants. */
typedef struct {
    __m256i q[8];
    float d[8];
} panel_block_32;

static size_t panel_bytes_32(int64_t n) {
    return (size_t)(n / QK) * sizeof(panel_block_32);
}

/* The 32 quants of one block, in element order, and its scale. */
static inline __m256i unpack_block_32(const void *block, const int kind, float *d) {
    if (kind == KIND_Q4_0) {
        const block_q4_0 *w = block;
        *d = _cvtsh_ss(w->d);
        return unpack_nibbles(w->qs);
    }
    if (kind == KIND_Q5_0) {
        const block_q5_0 *w = block;
        *d = _cvtsh_ss(w->d);
        return unpack_q5_0(w);
    }
    const block_q8_0 *w = block;
    *d = _cvtsh_ss(w->d);
    return _mm256_loadu_si256((const __m256i *)w->qs);
}

static inline __attribute__((always_inline)) void pack_32(int64_t n, const void *rows, size_t row_bytes, int n_rows,
                                                          void *panel, const int kind, size_t block_bytes) {
    panel_block_32 *p = panel;
    for (int64_t b = 0; b < n / QK; b++) {
        __m256i v[8];
        UNROLL
        for (int r = 0; r < 8; r++) {
            v[r] = _mm256_setzero_si256();
            p[b].d[r] = 0.0f;
            if (r >= n_rows) continue;
            const void *block = row_block(rows, row_bytes, r, b, block_bytes);
            prefetch_weights(block, block_bytes);
            v[r] = unpack_block_32(block, kind, &p[b].d[r]);
        }
        store_transposed(v, p[b].q);
    }
}

static void pack_q4_0(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel) {
    pack_32(n, rows, row_bytes, n_rows, panel, KIND_Q4_0, sizeof(block_q4_0));
}

static void pack_q5_0(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel) {
    pack_32(n, rows, row_bytes, n_rows, panel, KIND_Q5_0, sizeof(block_q5_0));
}

static void pack_q8_0(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel) {
    pack_32(n, rows, row_bytes, n_rows, panel, KIND_Q8_0, sizeof(block_q8_0));
}

/* acc[t] (lane r) = row r . token t for T tokens. Q4_0 and Q5_0, x = d (q - o):
 * the integer dot is sum q y - o sum y (o = 8, 16, shifted in as o_shift), the
 * activation block carrying sum y; q.y summed in int16 over groups_per_sum
 * groups. Q8_0 (o_shift 0): signed quants through the sign trick. */
static inline __attribute__((always_inline)) void dot_tile_32(int64_t nb, const panel_block_32 *p,
                                                              const uint8_t *act, size_t act_stride, const int T,
                                                              __m256 acc[TILE_TOKENS], const int kind) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int groups_per_sum = kind == KIND_Q4_0 ? 8 : 4, o_shift = kind == KIND_Q4_0 ? 3 : 4;
    UNROLL
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const block_q8_0x8 *a[TILE_TOKENS];
        const int j = (int)(b % 8);
        __m256i isum[TILE_TOKENS], sum16[TILE_TOKENS];
        UNROLL
        for (int t = 0; t < T; t++) {
            a[t] = (const block_q8_0x8 *)(act + t * act_stride) + b / 8;
            isum[t] = sum16[t] = _mm256_setzero_si256();
        }
        UNROLL
        for (int g = 0; g < 8; g++) {
            __m256i w = _mm256_load_si256(&p[b].q[g]);
            if (kind == KIND_Q8_0) {
                __m256i w_abs = _mm256_sign_epi8(w, w);
                UNROLL
                for (int t = 0; t < T; t++) {
                    __m256i y = _mm256_sign_epi8(broadcast4(a[t]->qs[j] + 4 * g), w);
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(w_abs, y), ones));
                    KEEP_ORDER(isum[t]);
                }
                continue;
            }
            UNROLL
            for (int t = 0; t < T; t++) {
                sum16[t] = _mm256_add_epi16(sum16[t], _mm256_maddubs_epi16(w, broadcast4(a[t]->qs[j] + 4 * g)));
                KEEP_ORDER(sum16[t]);
                if ((g + 1) % groups_per_sum == 0) {
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(sum16[t], ones));
                    sum16[t] = _mm256_setzero_si256();
                }
            }
        }
        __m256 d_w = _mm256_load_ps(p[b].d);
        UNROLL
        for (int t = 0; t < T; t++) {
            if (kind != KIND_Q8_0)
                isum[t] = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(_mm256_set1_epi32(a[t]->sum[j]), o_shift));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d_w, _mm256_set1_ps(a[t]->d[j])),
                                     acc[t]);
        }
    }
}

/* Runs a tile function over all tokens, TILE_TOKENS at a time, the last few by a
 * copy specialised for their number. */
#define DEFINE_GEMM_DOT(name, tile_call)                                                                          \
    static void name(int64_t n, const void *panel, int n_rows, const void *act, size_t act_stride, int n_act,   \
                     float *out, size_t out_stride) {                                                            \
        const uint8_t *a = act;                                                                                  \
        __m256 acc[TILE_TOKENS];                                                                                 \
        int t = 0;                                                                                               \
        for (; t + TILE_TOKENS <= n_act; t += TILE_TOKENS) {                                                     \
            tile_call(TILE_TOKENS);                                                                              \
            for (int k = 0; k < TILE_TOKENS; k++) store_rows(out + (t + k) * out_stride, acc[k], n_rows);       \
        }                                                                                                        \
        int left = n_act - t;                                                                                    \
        if (left == 3) tile_call(3);                                                                             \
        else if (left == 2) tile_call(2);                                                                        \
        else if (left == 1) tile_call(1);                                                                        \
        for (int k = 0; k < left; k++) store_rows(out + (t + k) * out_stride, acc[k], n_rows);                   \
    }

#define TILE_Q4_0(T) dot_tile_32(n / QK, panel, a + t * act_stride, act_stride, T, acc, KIND_Q4_0)
#define TILE_Q5_0(T) dot_tile_32(n / QK, panel, a + t * act_stride, act_stride, T, acc, KIND_Q5_0)
#define TILE_Q8_0(T) dot_tile_32(n / QK, panel, a + t * act_stride, act_stride, T, acc, KIND_Q8_0)
DEFINE_GEMM_DOT(gemm_dot_q4_0, TILE_Q4_0)
DEFINE_GEMM_DOT(gemm_dot_q5_0, TILE_Q5_0)
DEFINE_GEMM_DOT(gemm_dot_q8_0, TILE_Q8_0)

/* Lane j = the sum of the 16 int16 lanes of p[j] (each block's halves must sum
 * to at most 32767). Three rounds of pairwise adds leave block j's low-half sum
 * in int16 lane j and its high-half sum in lane 8 + j. */
static inline __m256i sum_blocks_epi16(const __m256i p[8]) {
    __m256i h01 = _mm256_hadd_epi16(p[0], p[1]), h23 = _mm256_hadd_epi16(p[2], p[3]);
    __m256i h45 = _mm256_hadd_epi16(p[4], p[5]), h67 = _mm256_hadd_epi16(p[6], p[7]);
    __m256i h = _mm256_hadd_epi16(_mm256_hadd_epi16(h01, h23), _mm256_hadd_epi16(h45, h67));
    return _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(h)),
                            _mm256_cvtepi16_epi32(_mm256_extracti128_si256(h, 1)));
}

/* Lane j = the sum of the 8 int32 lanes of v[j]. */
static inline __m256i sum_blocks_epi32(const __m256i v[8]) {
    __m256i h0123 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    __m256i h4567 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                            _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

/* The fp16 scales of eight consecutive blocks of block_bytes >= 18, each block
 * starting with its scale: block j's is 16-bit word j of the 16 bytes at
 * j (block_bytes - 2), so eight loads and seven word blends gather them. */
static inline __m256 block_scales(const void *blocks, size_t block_bytes) {
    const uint8_t *p = blocks;
    size_t step = block_bytes - 2;
    __m128i d = _mm_loadu_si128((const __m128i *)p);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 1 * step)), 0x02);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 2 * step)), 0x04);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 3 * step)), 0x08);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 4 * step)), 0x10);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 5 * step)), 0x20);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 6 * step)), 0x40);
    d = _mm_blend_epi16(d, _mm_loadu_si128((const __m128i *)(p + 7 * step)), 0x80);
    return _mm256_cvtph_ps(d);
}

/* The integer dot of one block of 32 with activation block j of group g, as
 * int32 partial sums (int16 ones for Q4_0, whose eight blocks sum in int16),
 * without the offset. */
static inline __m256i block_dot_32(const void *block, const block_q8_0x8 *g, int j, const int kind) {
    float d;
    __m256i q = unpack_block_32(block, kind, &d), y = _mm256_loadu_si256((const __m256i *)g->qs[j]);
    if (kind == KIND_Q8_0) return dot_i8_signed(q, y);
    __m256i pairs = _mm256_maddubs_epi16(q, y);
    return kind == KIND_Q4_0 ? pairs : _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

/* One row (decode): eight blocks at a time, their integer dots gathered into the
 * lanes of one vector so that scales and offsets are applied once per eight
 * blocks (Q4_0 in-cache 12.9 -> 19 GB/s a core against vec_dot). */
static inline __attribute__((always_inline)) float dot_row_32(int64_t n, const void *w_row, const void *act,
                                                              const int kind, size_t block_bytes) {
    const uint8_t *w = w_row;
    const block_q8_0x8 *a = act;
    const int o_shift = kind == KIND_Q4_0 ? 3 : 4;
    int64_t nb = n / QK, b = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; b + 8 <= nb; b += 8) {
        const block_q8_0x8 *g = &a[b / 8];
        const uint8_t *blocks = w + (size_t)b * block_bytes;
        prefetch_weights(blocks, 8 * block_bytes);
        __m256i v[8];
        UNROLL
        for (int j = 0; j < 8; j++) v[j] = block_dot_32(blocks + j * block_bytes, g, j, kind);
        __m256i isum = kind == KIND_Q4_0 ? sum_blocks_epi16(v) : sum_blocks_epi32(v);
        if (kind != KIND_Q8_0)
            isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)g->sum), o_shift));
        __m256 d = _mm256_mul_ps(block_scales(blocks, block_bytes), _mm256_loadu_ps(g->d));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), d, acc);
    }
    float sum = hsum_ps(acc);
    for (; b < nb; b++) { /* a last group of fewer than eight blocks */
        const block_q8_0x8 *g = &a[b / 8];
        const uint8_t *block = w + (size_t)b * block_bytes;
        __m256i v = block_dot_32(block, g, (int)(b % 8), kind);
        if (kind == KIND_Q4_0) v = _mm256_madd_epi16(v, _mm256_set1_epi16(1));
        int32_t isum = hsum_epi32(v) - (kind == KIND_Q8_0 ? 0 : g->sum[b % 8] * (1 << o_shift));
        float d;
        unpack_block_32(block, kind, &d);
        sum += d * g->d[b % 8] * (float)isum;
    }
    return sum;
}

static float dot_row_q4_0(int64_t n, const void *w_row, const void *act) {
    return dot_row_32(n, w_row, act, KIND_Q4_0, sizeof(block_q4_0));
}

static float dot_row_q5_0(int64_t n, const void *w_row, const void *act) {
    return dot_row_32(n, w_row, act, KIND_Q5_0, sizeof(block_q5_0));
}

static float dot_row_q8_0(int64_t n, const void *w_row, const void *act) {
    return dot_row_32(n, w_row, act, KIND_Q8_0, sizeof(block_q8_0));
}

const r1_gemm_kernels r1_gemm_q4_0_avx2 = {panel_bytes_32,  pack_q4_0,     r1_act_bytes_q8_0x8,
                                           quantize_q8_0x8, gemm_dot_q4_0, dot_row_q4_0};
const r1_gemm_kernels r1_gemm_q5_0_avx2 = {panel_bytes_32,  pack_q5_0,     r1_act_bytes_q8_0x8,
                                           quantize_q8_0x8, gemm_dot_q5_0, dot_row_q5_0};
const r1_gemm_kernels r1_gemm_q8_0_avx2 = {panel_bytes_32,  pack_q8_0,     r1_act_bytes_q8_0x8,
                                           quantize_q8_0x8, gemm_dot_q8_0, dot_row_q8_0};

/* ---- Q4_K, Q5_K: super-blocks of 256, activations Q8_K ---------------------- */

/* Per super-block: quants (0..15, 0..31) of sub-block s (32 of them), group g in
 * q[s][g]; sc[s] the sub-block scales and m[s] the mins as lane scales
 * (set_lane_scale); the rows' d and dmin. */
typedef struct {
    __m256i q[8][8];
    __m256i sc[8];
    __m256i m[8];
    float d[8];
    float dmin[8];
} panel_block_k4;

static size_t panel_bytes_k4(int64_t n) {
    return (size_t)(n / QK_K) * sizeof(panel_block_k4);
}

/* Q4_K and Q5_K share the leading d, dmin, scales[12], then Q5_K has qh[32]. */
static inline __attribute__((always_inline)) void pack_k4(int64_t n, const void *rows, size_t row_bytes, int n_rows,
                                                          void *panel, const int fifth_bit) {
    panel_block_k4 *p = panel;
    size_t block_bytes = fifth_bit ? sizeof(block_q5_k) : sizeof(block_q4_k);
    for (int64_t b = 0; b < n / QK_K; b++) {
        int16_t sc[8][16] = {{0}}, m[8][16] = {{0}};
        __m256i high[8]; /* Q5_K's qh, shifted right by 2 per chunk */
        UNROLL
        for (int r = 0; r < 8; r++) {
            p[b].d[r] = p[b].dmin[r] = 0.0f;
            high[r] = _mm256_setzero_si256();
            if (r >= n_rows) continue;
            const block_q4_k *w = row_block(rows, row_bytes, r, b, block_bytes);
            prefetch_weights(w, block_bytes);
            p[b].d[r] = _cvtsh_ss(w->d);
            p[b].dmin[r] = _cvtsh_ss(w->dmin);
            if (fifth_bit) high[r] = _mm256_loadu_si256((const __m256i *)((const block_q5_k *)w)->qh);
            UNROLL
            for (int s = 0; s < 8; s++) {
                uint8_t scale, min;
                unpack_scale_min_k4(w->scales, s, &scale, &min);
                set_lane_scale(sc[s], r, scale);
                set_lane_scale(m[s], r, min);
            }
        }
        UNROLL
        for (int s = 0; s < 8; s++) {
            p[b].sc[s] = _mm256_loadu_si256((const __m256i *)sc[s]);
            p[b].m[s] = _mm256_loadu_si256((const __m256i *)m[s]);
        }
        UNROLL
        for (int c = 0; c < 4; c++) { /* sub-blocks 2c (low nibbles) and 2c+1 (high) */
            __m256i lo[8], hi[8];
            UNROLL
            for (int r = 0; r < 8; r++) {
                lo[r] = hi[r] = _mm256_setzero_si256();
                if (r >= n_rows) continue;
                const uint8_t *qs = fifth_bit ? ((const block_q5_k *)row_block(rows, row_bytes, r, b, block_bytes))->qs
                                              : ((const block_q4_k *)row_block(rows, row_bytes, r, b, block_bytes))->qs;
                unpack_k_chunk(qs + 32 * c, &lo[r], &hi[r]);
                if (fifth_bit) {
                    add_fifth_bits_k(high[r], &lo[r], &hi[r]);
                    high[r] = _mm256_srli_epi16(high[r], 2);
                }
            }
            store_transposed(lo, p[b].q[2 * c]);
            store_transposed(hi, p[b].q[2 * c + 1]);
        }
    }
}

static void pack_q4_k(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel) {
    pack_k4(n, rows, row_bytes, n_rows, panel, 0);
}

static void pack_q5_k(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel) {
    pack_k4(n, rows, row_bytes, n_rows, panel, 1);
}

/* x = d sc q - dmin m: d d_a sum_s sc[s] (q.y)_s - dmin d_a sum_s m[s] ysum_s,
 * ysum_s = bsums[2s] + bsums[2s+1]; q.y summed in int16 over groups_per_sum
 * groups (8 for Q4_K, 4 for Q5_K). */
static inline __attribute__((always_inline)) void dot_tile_k4(int64_t nb, const panel_block_k4 *p,
                                                              const uint8_t *act, size_t act_stride, const int T,
                                                              __m256 acc[TILE_TOKENS], const int groups_per_sum) {
    UNROLL
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const block_q8_k *a[TILE_TOKENS];
        __m256i isum[TILE_TOKENS], msum[TILE_TOKENS], sum16[TILE_TOKENS];
        UNROLL
        for (int t = 0; t < T; t++) {
            a[t] = (const block_q8_k *)(act + t * act_stride) + b;
            isum[t] = msum[t] = sum16[t] = _mm256_setzero_si256();
        }
        UNROLL
        for (int s = 0; s < 8; s++) {
            __m256i scale = _mm256_load_si256(&p[b].sc[s]);
            UNROLL
            for (int g = 0; g < 8; g++) {
                __m256i w = _mm256_load_si256(&p[b].q[s][g]);
                UNROLL
                for (int t = 0; t < T; t++) {
                    sum16[t] = _mm256_add_epi16(sum16[t], _mm256_maddubs_epi16(w, broadcast4(a[t]->qs + 32 * s + 4 * g)));
                    KEEP_ORDER(sum16[t]);
                    if ((g + 1) % groups_per_sum == 0) {
                        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(sum16[t], scale));
                        sum16[t] = _mm256_setzero_si256();
                    }
                }
            }
        }
        UNROLL
        for (int s = 0; s < 8; s++) {
            __m256i min = _mm256_load_si256(&p[b].m[s]);
            UNROLL
            for (int t = 0; t < T; t++)
                msum[t] = _mm256_add_epi32(msum[t], _mm256_madd_epi16(min, broadcast4(&a[t]->bsums[2 * s])));
        }
        __m256 d = _mm256_load_ps(p[b].d), dmin = _mm256_load_ps(p[b].dmin);
        UNROLL
        for (int t = 0; t < T; t++) {
            __m256 d_a = _mm256_set1_ps(a[t]->d);
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, d_a), acc[t]);
            acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[t]), _mm256_mul_ps(dmin, d_a), acc[t]);
        }
    }
}

#define TILE_Q4_K(T) dot_tile_k4(n / QK_K, panel, a + t * act_stride, act_stride, T, acc, 8)
#define TILE_Q5_K(T) dot_tile_k4(n / QK_K, panel, a + t * act_stride, act_stride, T, acc, 4)
DEFINE_GEMM_DOT(gemm_dot_q4_k, TILE_Q4_K)
DEFINE_GEMM_DOT(gemm_dot_q5_k, TILE_Q5_K)

const r1_gemm_kernels r1_gemm_q4_k_avx2 = {panel_bytes_k4, pack_q4_k,     r1_act_bytes_q8_k,
                                           quantize_q8_k,  gemm_dot_q4_k, r1_vec_dot_q4_k_avx2};
const r1_gemm_kernels r1_gemm_q5_k_avx2 = {panel_bytes_k4, pack_q5_k,     r1_act_bytes_q8_k,
                                           quantize_q8_k,  gemm_dot_q5_k, r1_vec_dot_q5_k_avx2};

/* ---- Q6_K: super-blocks of 256, activations Q8_K ---------------------------- */

/* Per super-block: quants 0..63 of sub-block s (16 of them), group g in q[s][g];
 * sc[s] the sub-block scales as lane scales; sc_pair[k] lane r = the int16 pair
 * (sc[2k], sc[2k+1]) of row r, for the -32 offset; the rows' d. */
typedef struct {
    __m256i q[16][4];
    __m256i sc[16];
    __m256i sc_pair[8];
    float d[8];
} panel_block_q6_k;

static size_t panel_bytes_q6_k(int64_t n) {
    return (size_t)(n / QK_K) * sizeof(panel_block_q6_k);
}

static void pack_q6_k(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel) {
    panel_block_q6_k *p = panel;
    for (int64_t b = 0; b < n / QK_K; b++) {
        int16_t sc[16][16] = {{0}}, sc_pair[8][16] = {{0}};
        UNROLL
        for (int r = 0; r < 8; r++) {
            p[b].d[r] = 0.0f;
            if (r >= n_rows) continue;
            const block_q6_k *w = row_block(rows, row_bytes, r, b, sizeof(block_q6_k));
            prefetch_weights(w, sizeof *w);
            p[b].d[r] = _cvtsh_ss(w->d);
            UNROLL
            for (int s = 0; s < 16; s++) {
                set_lane_scale(sc[s], r, w->scales[s]);
                sc_pair[s / 2][2 * r + s % 2] = w->scales[s];
            }
        }
        UNROLL
        for (int s = 0; s < 16; s++) p[b].sc[s] = _mm256_loadu_si256((const __m256i *)sc[s]);
        UNROLL
        for (int k = 0; k < 8; k++) p[b].sc_pair[k] = _mm256_loadu_si256((const __m256i *)sc_pair[k]);
        UNROLL
        for (int h = 0; h < 2; h++) {
            __m256i q[8][4]; /* [row][32-quant chunk of this half] */
            UNROLL
            for (int r = 0; r < 8; r++) {
                UNROLL
                for (int c = 0; c < 4; c++) q[r][c] = _mm256_setzero_si256();
                if (r < n_rows) unpack_q6_k_half(row_block(rows, row_bytes, r, b, sizeof(block_q6_k)), h, q[r]);
            }
            UNROLL
            for (int c = 0; c < 4; c++) { /* chunk 4h + c: sub-blocks 8h + 2c and 8h + 2c + 1 */
                __m256i v[8];
                UNROLL
                for (int r = 0; r < 8; r++) v[r] = q[r][c];
                store_transposed(v, p[b].q[8 * h + 2 * c]); /* fills q[8h+2c][0..3] and q[8h+2c+1][0..3] */
            }
        }
    }
}

/* x = d sc (q - 32): sum_s sc[s] (q.y)_s - 32 sum_s sc[s] bsums[s], times d d_a;
 * q.y summed in int16 over two groups. */
static inline __attribute__((always_inline)) void dot_tile_q6_k(int64_t nb, const panel_block_q6_k *p,
                                                                const uint8_t *act, size_t act_stride, const int T,
                                                                __m256 acc[TILE_TOKENS]) {
    UNROLL
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const block_q8_k *a[TILE_TOKENS];
        __m256i isum[TILE_TOKENS], offset[TILE_TOKENS];
        UNROLL
        for (int t = 0; t < T; t++) {
            a[t] = (const block_q8_k *)(act + t * act_stride) + b;
            isum[t] = offset[t] = _mm256_setzero_si256();
        }
        UNROLL
        for (int s = 0; s < 16; s++) {
            __m256i scale = _mm256_load_si256(&p[b].sc[s]);
            UNROLL
            for (int half = 0; half < 2; half++) {
                __m256i w0 = _mm256_load_si256(&p[b].q[s][2 * half]);
                __m256i w1 = _mm256_load_si256(&p[b].q[s][2 * half + 1]);
                UNROLL
                for (int t = 0; t < T; t++) {
                    const int8_t *y = a[t]->qs + 16 * s + 8 * half;
                    __m256i sum16 = _mm256_add_epi16(_mm256_maddubs_epi16(w0, broadcast4(y)),
                                                     _mm256_maddubs_epi16(w1, broadcast4(y + 4)));
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(sum16, scale));
                    KEEP_ORDER(isum[t]);
                }
            }
        }
        UNROLL
        for (int k = 0; k < 8; k++) {
            __m256i pair = _mm256_load_si256(&p[b].sc_pair[k]);
            UNROLL
            for (int t = 0; t < T; t++)
                offset[t] = _mm256_add_epi32(offset[t], _mm256_madd_epi16(pair, broadcast4(&a[t]->bsums[2 * k])));
        }
        __m256 d = _mm256_load_ps(p[b].d);
        UNROLL
        for (int t = 0; t < T; t++) {
            __m256i total = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(offset[t], 5));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(a[t]->d)), acc[t]);
        }
    }
}

#define TILE_Q6_K(T) dot_tile_q6_k(n / QK_K, panel, a + t * act_stride, act_stride, T, acc)
DEFINE_GEMM_DOT(gemm_dot_q6_k, TILE_Q6_K)

const r1_gemm_kernels r1_gemm_q6_k_avx2 = {panel_bytes_q6_k, pack_q6_k,     r1_act_bytes_q8_k,
                                           quantize_q8_k,    gemm_dot_q6_k, r1_vec_dot_q6_k_avx2};
