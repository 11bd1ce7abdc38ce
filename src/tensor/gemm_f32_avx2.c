/* The AVX2+FMA float matrix product behind gemm_f32.h; same results as
 * r1_gemm_f32_scalar up to rounding (one rounding per term here). Compiled with
 * -mavx2 -mfma; types.c calls it only after r1_kernels_cpu_has_avx2().
 *
 * A tile of C of 6 rows × 16 columns lives in 12 registers while k runs: each step
 * loads one row of B (two vectors), broadcasts six elements of A and does 12 FMAs,
 * against the two loads and one store per FMA of the axpy loops it replaces. 6×16
 * is the largest tile that fits the 16 YMM registers with its two B vectors and
 * the broadcast; 12 independent accumulators cover the FMA latency (4 cycles × 2
 * ports). B is walked in panels of K_CHUNK rows × 16 columns (16 KB, in L1) that
 * every row tile of A reuses; a B with columns not contiguous (the nt form) is
 * first copied into such a panel. */
#include <immintrin.h>
#include <stdint.h>

#include "tensor/gemm_f32.h"

enum { TILE_ROWS = 6, TILE_COLS = 16, K_CHUNK = 256, M_BLOCK = 120 };

/* Lanes [0, n) of a mask, n clamped to 0..8. */
static __m256i lane_mask(int n) {
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __attribute__((always_inline)) __m256 load(const float *p, int masked, __m256i mask) {
    return masked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

static inline __attribute__((always_inline)) void store(float *p, __m256 v, int masked, __m256i mask) {
    if (masked) _mm256_maskstore_ps(p, mask, v);
    else _mm256_storeu_ps(p, v);
}

/* C (rows × 16, the columns past the masks left alone) += A·B over k < K, where
 * A(r,k) = A[r·a_i + k·a_k] and B's row k is B + k·ldb. rows and masked are
 * constants at every call site, so the loops over r unroll into registers. */
static inline __attribute__((always_inline)) void tile(int rows, int masked, int K, const float *A, size_t a_i,
                                                       size_t a_k, const float *B, size_t ldb, float *C, size_t ldc,
                                                       __m256i mask0, __m256i mask1) {
    __m256 acc[TILE_ROWS][2];
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++) {
        acc[r][0] = load(C + r * ldc, masked, mask0);
        acc[r][1] = load(C + r * ldc + 8, masked, mask1);
    }
    for (int k = 0; k < K; k++) {
        const float *a = A + k * a_k, *b = B + k * ldb;
        __m256 b0 = load(b, masked, mask0), b1 = load(b + 8, masked, mask1);
#pragma GCC unroll 6
        for (int r = 0; r < rows; r++) {
            __m256 ar = _mm256_broadcast_ss(a + r * a_i);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++) {
        store(C + r * ldc, acc[r][0], masked, mask0);
        store(C + r * ldc + 8, acc[r][1], masked, mask1);
    }
}

/* One instance per (rows, masked) pair, so that each keeps its tile in registers. */
#define TILE_CASE(n)                                                                     \
    case n:                                                                              \
        if (masked) tile(n, 1, K, A, a_i, a_k, B, ldb, C, ldc, mask0, mask1);            \
        else tile(n, 0, K, A, a_i, a_k, B, ldb, C, ldc, mask0, mask1);                   \
        break;

static void run_tile(int rows, int masked, int K, const float *A, size_t a_i, size_t a_k, const float *B, size_t ldb,
                     float *C, size_t ldc, __m256i mask0, __m256i mask1) {
    switch (rows) {
        TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
    }
}
#undef TILE_CASE

/* panel[k][c] = B(k, c) for k < K, c < cols; zero for cols ≤ c < 16. */
static void pack_b_panel(const float *B, size_t b_k, size_t b_j, int K, int cols, float *panel) {
    for (int c = 0; c < TILE_COLS; c++)
        for (int k = 0; k < K; k++) panel[k * TILE_COLS + c] = c < cols ? B[(size_t)k * b_k + (size_t)c * b_j] : 0.0f;
}

/* The rows of A, tile after tile: block[t][k][r] = A(6t + r, k), zero past M. */
static void pack_a_block(const float *A, size_t a_i, size_t a_k, int M, int K, float *block) {
    for (int i0 = 0; i0 < M; i0 += TILE_ROWS, block += (size_t)K * TILE_ROWS)
        for (int k = 0; k < K; k++)
            for (int r = 0; r < TILE_ROWS; r++)
                block[k * TILE_ROWS + r] = i0 + r < M ? A[(size_t)(i0 + r) * a_i + (size_t)k * a_k] : 0.0f;
}

/* Loops, outermost first: K_CHUNK rows of B; M_BLOCK rows of A (kept in L2 while
 * the panels of B pass); panels of 16 columns of B (in L1 while the row tiles of
 * the block pass); tiles of 6 rows. A whose rows are not contiguous (the tn form,
 * where consecutive k are a whole row of A apart: 4 KB strides alias in L1) is
 * copied tile by tile first. */
void r1_gemm_f32_avx2(int M, int N, int K, const float *A, size_t a_i, size_t a_k, const float *B, size_t b_k,
                      size_t b_j, float *C, size_t ldc) {
    _Alignas(32) float panel[K_CHUNK * TILE_COLS], block[M_BLOCK * K_CHUNK];
    for (int k0 = 0; k0 < K; k0 += K_CHUNK) {
        int kc = K - k0 < K_CHUNK ? K - k0 : K_CHUNK;
        for (int m0 = 0; m0 < M; m0 += M_BLOCK) {
            int mc = M - m0 < M_BLOCK ? M - m0 : M_BLOCK;
            const float *a = A + (size_t)m0 * a_i + (size_t)k0 * a_k;
            size_t tile_i = a_i, tile_k = a_k, tile_step = TILE_ROWS * a_i;
            if (a_k != 1) {
                pack_a_block(a, a_i, a_k, mc, kc, block);
                a = block, tile_i = 1, tile_k = TILE_ROWS, tile_step = (size_t)kc * TILE_ROWS;
            }
            for (int j0 = 0; j0 < N; j0 += TILE_COLS) {
                int cols = N - j0 < TILE_COLS ? N - j0 : TILE_COLS;
                const float *b = B + (size_t)k0 * b_k + (size_t)j0 * b_j;
                size_t ldb = b_k;
                if (b_j != 1) {
                    pack_b_panel(b, b_k, b_j, kc, cols, panel);
                    b = panel, ldb = TILE_COLS;
                }
                __m256i mask0 = lane_mask(cols), mask1 = lane_mask(cols - 8);
                for (int i0 = 0; i0 < mc; i0 += TILE_ROWS)
                    run_tile(mc - i0 < TILE_ROWS ? mc - i0 : TILE_ROWS, cols < TILE_COLS, kc,
                             a + (size_t)(i0 / TILE_ROWS) * tile_step, tile_i, tile_k, b, ldb,
                             C + (size_t)(m0 + i0) * ldc + j0, ldc, mask0, mask1);
            }
        }
    }
}
