/* The AVX-512 float matrix product behind gemm_f32.h: gemm_f32_kernel.h with
 * 16-float vectors, tiles of 12 rows × 32 columns (24 of the 32 ZMM registers),
 * native lane masks for the edges; the same bits as the AVX2 kernel, ~1.5× its
 * speed. Compiled with -mavx512f; types.c calls it only after
 * r1_kernels_cpu_has_avx512(). */
#include <immintrin.h>

#include "tensor/gemm_f32.h"

#define TILE_ROWS 12
#define VEC_WIDTH 16
#define GEMM_KERNEL r1_gemm_f32_avx512

typedef __m512 vec;
typedef struct {
    __mmask16 lo, hi;
} tile_mask;

/* lanes [0, n) of one vector, n clamped to 0..16 */
static __mmask16 vector_mask(int n) { return n <= 0 ? 0 : n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

static tile_mask lane_masks(int cols) { return (tile_mask){vector_mask(cols), vector_mask(cols - 16)}; }

static inline __attribute__((always_inline)) vec vec_load(const float *p, int masked, __mmask16 mask) {
    return masked ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
}

static inline __attribute__((always_inline)) void vec_store(float *p, vec v, int masked, __mmask16 mask) {
    if (masked) _mm512_mask_storeu_ps(p, mask, v);
    else _mm512_storeu_ps(p, v);
}

static inline __attribute__((always_inline)) vec vec_broadcast(const float *p) { return _mm512_set1_ps(*p); }
static inline __attribute__((always_inline)) vec vec_zero(void) { return _mm512_setzero_ps(); }
static inline __attribute__((always_inline)) vec vec_fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }

#include "tensor/gemm_f32_kernel.h"
