/* AVX2 forms of three of ops.c's row loops, for the trainer: the same operations
 * in the same order within each row, so the same bits as the scalar loops (the
 * scalar loops stay the reference; ops.c chooses, tests/test_grad.c compares).
 *
 * A row's sums run in double, one add after another, and in the scalar softmax
 * that chain of dependent adds (4 cycles each) bounds the loop. Here four rows'
 * chains run side by side, one row per lane of a register, each still in its own
 * row's order. Element-wise steps use the full width, e^x included: expf8 below
 * gives glibc's expf bit for bit. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "model/ops.h"

/* e^x of eight floats as glibc's expf (from Arm's optimized-routines; its FMA build,
 * which glibc picks on an AVX2 CPU) computes it, so that the trainer's softmax keeps
 * its bits: with N = 32, x·N/ln2 = k + r (|r| ≤ 1/2, k an integer, found by
 * adding 1.5·2^52 so that k lands in the low bits), e^x = 2^(k/N)·2^(r/N), 2^(k/N)
 * from a table of 2^(i/N) (i = k mod N) with k div N added to its exponent, and
 * 2^(r/N) ≈ 1 + c2·r + c1·r² + c0·r³ in double, rounded to float once at the end.
 * The same operations in the same order, fused where glibc's are. Lanes with
 * |x| ≥ 88 or NaN (over- and underflow, where expf has its own branches) go to
 * expf itself. Checked against glibc 2.36's for all 2^32 floats when written;
 * tests/test_grad.c checks a sample of them against the libm it runs with (with
 * another libm the two kernel levels would differ in the last bit, not more). */
static const uint64_t exp2_table[32] = { /* bits of 2^(i/32) rounded to double, minus i << 47 */
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540};

static inline __m128 expf4(__m128 x) {
    const __m256d inv_ln2_n = _mm256_set1_pd(0x1.71547652b82fep+0 * 32), shift = _mm256_set1_pd(0x1.8p+52);
    const __m256d c0 = _mm256_set1_pd(0x1.c6af84b912394p-5 / (32.0 * 32 * 32)),
                  c1 = _mm256_set1_pd(0x1.ebfce50fac4f3p-3 / (32.0 * 32)), c2 = _mm256_set1_pd(0x1.62e42ff0c52d6p-1 / 32),
                  one = _mm256_set1_pd(1.0);
    __m256d xd = _mm256_cvtps_pd(x);
    __m256d kd = _mm256_fmadd_pd(inv_ln2_n, xd, shift);
    __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_fmsub_pd(inv_ln2_n, xd, kd);
    __m256i t = _mm256_i64gather_epi64((const long long *)exp2_table, _mm256_and_si256(ki, _mm256_set1_epi64x(31)), 8);
    __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(t, _mm256_slli_epi64(ki, 47)));
    __m256d z = _mm256_fmadd_pd(r, c0, c1), r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_fmadd_pd(z, r2, _mm256_fmadd_pd(r, c2, one));
    return _mm256_cvtpd_ps(_mm256_mul_pd(y, s));
}

static inline __m256 expf8(__m256 x) {
    __m256 y = _mm256_set_m128(expf4(_mm256_extractf128_ps(x, 1)), expf4(_mm256_castps256_ps128(x)));
    /* glibc's test: the top 12 bits of |x| above those of 88 */
    __m256i top = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 20), _mm256_set1_epi32(0x7ff));
    int special = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(top, _mm256_set1_epi32(0x42a))));
    if (special) {
        float xs[8], ys[8];
        _mm256_storeu_ps(xs, x), _mm256_storeu_ps(ys, y);
        for (int l = 0; l < 8; l++)
            if (special >> l & 1) ys[l] = expf(xs[l]);
        y = _mm256_loadu_ps(ys);
    }
    return y;
}

void r1_expf_avx2(float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, expf8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) x[i] = expf(x[i]);
}

/* x = e^(x − max) */
static void exp_shifted(float *x, int n, float max) {
    __m256 m = _mm256_set1_ps(max);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, expf8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m)));
    for (; i < n; i++) x[i] = expf(x[i] - max);
}

/* Four rows of four doubles each → the four columns, lane r of each from row r. */
static inline void transpose4(__m256d r0, __m256d r1, __m256d r2, __m256d r3, __m256d col[4]) {
    __m256d lo01 = _mm256_unpacklo_pd(r0, r1), hi01 = _mm256_unpackhi_pd(r0, r1);
    __m256d lo23 = _mm256_unpacklo_pd(r2, r3), hi23 = _mm256_unpackhi_pd(r2, r3);
    col[0] = _mm256_permute2f128_pd(lo01, lo23, 0x20);
    col[1] = _mm256_permute2f128_pd(hi01, hi23, 0x20);
    col[2] = _mm256_permute2f128_pd(lo01, lo23, 0x31);
    col[3] = _mm256_permute2f128_pd(hi01, hi23, 0x31);
}

static inline __m256d widen(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

static inline int min4(const int n[4]) {
    int m = n[0];
    for (int r = 1; r < 4; r++)
        if (n[r] < m) m = n[r];
    return m;
}

/* Σ_j row_r[j] for four rows, each summed in double from j = 0 up in its lane. */
static void sum_rows4(float *const row[4], const int n[4], double sum[4]) {
    int common = min4(n) & ~3;
    __m256d acc = _mm256_setzero_pd(), col[4];
    for (int j = 0; j < common; j += 4) {
        transpose4(widen(row[0] + j), widen(row[1] + j), widen(row[2] + j), widen(row[3] + j), col);
        for (int k = 0; k < 4; k++) acc = _mm256_add_pd(acc, col[k]);
    }
    _mm256_storeu_pd(sum, acc);
    for (int r = 0; r < 4; r++)
        for (int j = common; j < n[r]; j++) sum[r] += row[r][j];
}

/* Σ_j (double)g_r[j]·y_r[j] for four rows, likewise (the products are exact in double). */
static void dot_rows4(float *const g[4], const float *const y[4], const int n[4], double dot[4]) {
    int common = min4(n) & ~3;
    __m256d acc = _mm256_setzero_pd(), col[4];
    for (int j = 0; j < common; j += 4) {
        transpose4(_mm256_mul_pd(widen(g[0] + j), widen(y[0] + j)), _mm256_mul_pd(widen(g[1] + j), widen(y[1] + j)),
                   _mm256_mul_pd(widen(g[2] + j), widen(y[2] + j)), _mm256_mul_pd(widen(g[3] + j), widen(y[3] + j)),
                   col);
        for (int k = 0; k < 4; k++) acc = _mm256_add_pd(acc, col[k]);
    }
    _mm256_storeu_pd(dot, acc);
    for (int r = 0; r < 4; r++)
        for (int j = common; j < n[r]; j++) dot[r] += (double)g[r][j] * y[r][j];
}

/* x *= scale, and the largest x (order does not matter for a maximum). */
static float scale_and_max(float *x, int n, float scale) {
    __m256 s = _mm256_set1_ps(scale), m = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), s);
        _mm256_storeu_ps(x + i, v);
        m = _mm256_max_ps(m, v);
    }
    float lanes[8], max = -INFINITY;
    _mm256_storeu_ps(lanes, m);
    for (int l = 0; l < 8; l++)
        if (lanes[l] > max) max = lanes[l];
    for (; i < n; i++) {
        x[i] *= scale;
        if (x[i] > max) max = x[i];
    }
    return max;
}

static void scale_by(float *x, int n, float a) {
    __m256 s = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
    for (; i < n; i++) x[i] *= a;
}

int r1_softmax_rows_avx2(float *x, size_t stride, int n_rows, const int *start, const int *len, float scale) {
    int done = 0;
    for (; done + 4 <= n_rows; done += 4) {
        float *row[4];
        int n[4];
        for (int r = 0; r < 4; r++) {
            row[r] = x + (size_t)(done + r) * stride + start[done + r];
            n[r] = len[done + r];
            float max = scale_and_max(row[r], n[r], scale);
            exp_shifted(row[r], n[r], max);
        }
        double sum[4];
        sum_rows4(row, n, sum);
        for (int r = 0; r < 4; r++) scale_by(row[r], n[r], (float)(1.0 / sum[r]));
    }
    return done;
}

int r1_softmax_backward_rows_avx2(float *g, const float *y, size_t stride, int n_rows, const int *start,
                                  const int *len, float scale) {
    int done = 0;
    for (; done + 4 <= n_rows; done += 4) {
        float *gr[4];
        const float *yr[4];
        int n[4];
        for (int r = 0; r < 4; r++) {
            size_t at = (size_t)(done + r) * stride + start[done + r];
            gr[r] = g + at, yr[r] = y + at, n[r] = len[done + r];
        }
        double dot[4];
        dot_rows4(gr, yr, n, dot);
        __m128 zero = _mm_setzero_ps(), s = _mm_set1_ps(scale);
        for (int r = 0; r < 4; r++) {
            __m256d d = _mm256_set1_pd(dot[r]);
            int j = 0;
            for (; j + 4 <= n[r]; j += 4) {
                __m128 v = _mm256_cvtpd_ps(_mm256_mul_pd(widen(yr[r] + j), _mm256_sub_pd(widen(gr[r] + j), d)));
                _mm_storeu_ps(gr[r] + j, _mm_mul_ps(_mm_add_ps(zero, v), s));
            }
            for (; j < n[r]; j++) gr[r][j] = (0.0f + (float)(yr[r][j] * (gr[r][j] - dot[r]))) * scale;
        }
    }
    return done;
}

void r1_rmsnorm_backward_avx2(float *dx, float *dweight, const float *dout, const float *x, const float *weight, int n,
                              float eps) {
    /* lane l holds ops.c's chain l (elements i ≡ l mod 4); products before sums,
     * as there: dout·weight is exact in double, ·x is rounded, then added */
    __m256d sum_sq = _mm256_setzero_pd(), dot = _mm256_setzero_pd();
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d xv = widen(x + i);
        sum_sq = _mm256_add_pd(sum_sq, _mm256_mul_pd(xv, xv));
        dot = _mm256_add_pd(dot, _mm256_mul_pd(_mm256_mul_pd(widen(dout + i), widen(weight + i)), xv));
    }
    double sum_sq_lane[4], dot_lane[4], scale, coef;
    _mm256_storeu_pd(sum_sq_lane, sum_sq);
    _mm256_storeu_pd(dot_lane, dot);
    r1_rmsnorm_backward_coefs(sum_sq_lane, dot_lane, dout, x, weight, i, n, eps, &scale, &coef);
    __m256d sv = _mm256_set1_pd(scale), cv = _mm256_set1_pd(coef);
    for (i = 0; i + 4 <= n; i += 4) {
        __m256d xv = widen(x + i), dv = widen(dout + i);
        __m256d g = _mm256_mul_pd(sv, _mm256_sub_pd(_mm256_mul_pd(dv, widen(weight + i)), _mm256_mul_pd(xv, cv)));
        _mm_storeu_ps(dx + i, _mm_add_ps(_mm_loadu_ps(dx + i), _mm256_cvtpd_ps(g)));
        __m256d gw = _mm256_mul_pd(_mm256_mul_pd(dv, xv), sv);
        _mm_storeu_ps(dweight + i, _mm_add_ps(_mm_loadu_ps(dweight + i), _mm256_cvtpd_ps(gw)));
    }
    r1_rmsnorm_backward_apply(dx, dweight, dout, x, weight, i, n, scale, coef);
}
