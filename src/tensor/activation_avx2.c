/* SwiGLU's product and gradient, 8 elements at a time (activation.h). Compiled
 * with -mavx2 -mfma; types.c calls these only after r1_kernels_cpu_has_avx2(). */
#include <immintrin.h>

#include "tensor/activation.h"

/* e^x for x in [−87, 88] (clamped there: σ and silu only need e^x to saturate), as
 * Cephes' expf computes it: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 in two parts, so
 * that r is exact), e^r = 1 + r + r²·P(r) with P its degree-5 minimax polynomial,
 * then 2^n put in the exponent bits. Within ~1 ulp of expf. */
static inline __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 e_r = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    __m256i two_n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(e_r, _mm256_castsi256_ps(two_n));
}

/* σ(g) = 1 / (1 + e^−g) */
static inline __m256 sigmoid_avx2(__m256 g) {
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g))));
}

/* Lanes [0, n) of a mask, n clamped to 0..8. The tails go through the same vector
 * code under it, so an element's result does not depend on where a range starts
 * (the trainer splits these loops between threads at any element). */
static inline __m256i tail_mask(int64_t n) {
    int lanes = n < 8 ? (int)n : 8;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void r1_swiglu_f32_avx2(int64_t n, float *out, const float *gate, const float *up) {
    for (int64_t i = 0; i < n; i += 8) {
        __m256i mask = tail_mask(n - i);
        __m256 g = _mm256_maskload_ps(gate + i, mask);
        _mm256_maskstore_ps(out + i, mask,
                            _mm256_mul_ps(_mm256_mul_ps(g, sigmoid_avx2(g)), _mm256_maskload_ps(up + i, mask)));
    }
}

void r1_swiglu_backward_f32_avx2(int64_t n, float *dgate, float *dup, const float *dout, const float *gate_in,
                                 const float *up_in) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 8) {
        __m256i mask = tail_mask(n - i);
        __m256 g = _mm256_maskload_ps(gate_in + i, mask), d = _mm256_maskload_ps(dout + i, mask);
        __m256 sig = sigmoid_avx2(g);
        __m256 slope = _mm256_mul_ps(sig, _mm256_fmadd_ps(g, _mm256_sub_ps(one, sig), one)); /* silu'(g) */
        __m256 du = _mm256_mul_ps(d, _mm256_maskload_ps(up_in + i, mask));
        _mm256_maskstore_ps(dgate + i, mask, _mm256_fmadd_ps(du, slope, _mm256_maskload_ps(dgate + i, mask)));
        __m256 dsilu = _mm256_mul_ps(d, g);
        _mm256_maskstore_ps(dup + i, mask, _mm256_fmadd_ps(dsilu, sig, _mm256_maskload_ps(dup + i, mask)));
    }
}
