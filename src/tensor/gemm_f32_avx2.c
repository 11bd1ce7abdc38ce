/* The AVX2+FMA float matrix product behind gemm_f32.h: gemm_f32_kernel.h with
 * 8-float vectors, tiles of 6 rows × 16 columns (12 accumulators, the two B vectors
 * and the broadcast fill 15 of the 16 YMM registers). Compiled with -mavx2 -mfma;
 * types.c calls it only after r1_kernels_cpu_has_avx2(). */
#include <immintrin.h>

#include "tensor/gemm_f32.h"

#define TILE_ROWS 6
#define VEC_WIDTH 8
#define GEMM_KERNEL r1_gemm_f32_avx2

typedef __m256 vec;
typedef struct {
    __m256i lo, hi;
} tile_mask;

/* lanes [0, n) of one vector, n clamped to 0..8 */
static __m256i vector_mask(int n) {
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static tile_mask lane_masks(int cols) { return (tile_mask){vector_mask(cols), vector_mask(cols - 8)}; }

static inline __attribute__((always_inline)) vec vec_load(const float *p, int masked, __m256i mask) {
    return masked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

static inline __attribute__((always_inline)) void vec_store(float *p, vec v, int masked, __m256i mask) {
    if (masked) _mm256_maskstore_ps(p, mask, v);
    else _mm256_storeu_ps(p, v);
}

static inline __attribute__((always_inline)) vec vec_broadcast(const float *p) { return _mm256_broadcast_ss(p); }
static inline __attribute__((always_inline)) vec vec_zero(void) { return _mm256_setzero_ps(); }
static inline __attribute__((always_inline)) vec vec_fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }

#include "tensor/gemm_f32_kernel.h"
