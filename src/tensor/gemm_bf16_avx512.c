/* The AVX512_BF16 matrix product behind gemm_bf16.h. VDPBF16PS multiplies 16
 * lanes of bfloat16 pairs (k = 2p in the low half, 2p+1 in the high) and adds both
 * products to 16 float sums: 32 multiply-adds an instruction where a float FMA does
 * 16. So both operands are first rounded and packed into pairs of k:
 *
 *   A: a block of up to M_BLOCK rows × K_CHUNK, a row's pairs contiguous (nn, nt:
 *      rows of A are contiguous in k) or a pair's rows contiguous (tn);
 *   B: a panel of TILE_COLS columns, panel[p][c] = the pair (B(2p, c), B(2p+1, c)).
 *
 * A tile of TILE_ROWS × TILE_COLS of C stays in 24 ZMM registers while p runs:
 * each step loads the panel's two vectors for p, broadcasts one pair of each
 * row and does 2 · TILE_ROWS VDPBF16PS. Each element of C takes its pairs in
 * ascending p across K_CHUNKs, so any split of rows or columns gives the same bits.
 * Compiled with -mavx512f -mavx512bw -mavx512bf16; types.c calls it only after
 * r1_kernels_cpu_has_avx512_bf16(). */
#include <immintrin.h>
#include <stdint.h>

#include "tensor/gemm_bf16.h"

typedef uint32_t bf16_pair; /* two bfloat16: k = 2p in the low half, 2p + 1 in the high */

enum { TILE_ROWS = 12, TILE_COLS = 32, K_CHUNK = 256, PAIR_CHUNK = K_CHUNK / 2, M_BLOCK = 480 };
_Static_assert(K_CHUNK % 2 == 0, "a chunk's pairs must be the whole product's pairs");

/* lanes [0, n) of one 16-lane vector, n clamped to 0..16 */
static __mmask16 lanes(int n) { return n <= 0 ? 0 : n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

/* dst[p] = (src[2p], src[2p + 1]) rounded, for p < (n + 1) / 2; an odd n pairs the
 * last value with 0. VCVTNE2PS2BF16 rounds to nearest even. */
static void pack_run(const float *src, int n, bf16_pair *dst) {
    for (int k = 0; k < n; k += 32) {
        int rest = n - k;
        __m512 lo = _mm512_maskz_loadu_ps(lanes(rest), src + k);
        __m512 hi = _mm512_maskz_loadu_ps(lanes(rest - 16), src + k + 16);
        __m512i pairs = (__m512i)_mm512_cvtne2ps_pbh(hi, lo); /* bfloat16 k, k+1, … in order */
        _mm512_mask_storeu_epi32(dst + k / 2, lanes((rest + 1) / 2), pairs);
    }
}

/* dst[j] = (even[j], odd[j]) rounded for j < n, zero pairs for n ≤ j < width; odd
 * may be NULL (zeros). */
static void pack_interleaved(const float *even, const float *odd, int n, int width, bf16_pair *dst) {
    /* after the conversion, bfloat16 lanes 0–15 hold even[j..j+15] and 16–31 odd[…]:
     * lane 2i takes i, lane 2i+1 takes 16+i */
    static const uint16_t order_lanes[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                             8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i order = _mm512_loadu_si512(order_lanes);
    for (int j = 0; j < width; j += 16) {
        __mmask16 valid = lanes(n - j);
        __m512 lo = _mm512_maskz_loadu_ps(valid, even + j);
        __m512 hi = odd ? _mm512_maskz_loadu_ps(valid, odd + j) : _mm512_setzero_ps();
        __m512i halves = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        _mm512_mask_storeu_epi32(dst + j, lanes(width - j), _mm512_permutexvar_epi16(order, halves));
    }
}

/* The rows [0, rows) of A over kc values of k, as pairs; sets the pair strides of
 * a row (*p_i) and of a k pair (*p_k). A's rows are contiguous in k (a_k = 1) or a
 * column of A is contiguous in i (a_i = 1): the forms' two layouts. */
static void pack_a_block(const float *A, size_t a_i, size_t a_k, int rows, int kc, bf16_pair *block, size_t *p_i,
                         size_t *p_k) {
    int pairs = (kc + 1) / 2;
    if (a_k == 1) {
        for (int r = 0; r < rows; r++) pack_run(A + (size_t)r * a_i, kc, block + (size_t)r * pairs);
        *p_i = (size_t)pairs, *p_k = 1;
        return;
    }
    for (int p = 0; p < pairs; p++)
        pack_interleaved(A + (size_t)(2 * p) * a_k, 2 * p + 1 < kc ? A + (size_t)(2 * p + 1) * a_k : NULL, rows, rows,
                         block + (size_t)p * rows);
    *p_i = 1, *p_k = (size_t)rows;
}

/* panel[p][c] = the pair (B(2p, c), B(2p + 1, c)) for c < cols, zero pairs up to
 * TILE_COLS. With B's columns contiguous in k (nt) each column is packed as a run,
 * then transposed. */
static void pack_b_panel(const float *B, size_t b_k, size_t b_j, int kc, int cols, bf16_pair *panel,
                         bf16_pair *columns) {
    int pairs = (kc + 1) / 2;
    if (b_j == 1) {
        for (int p = 0; p < pairs; p++)
            pack_interleaved(B + (size_t)(2 * p) * b_k, 2 * p + 1 < kc ? B + (size_t)(2 * p + 1) * b_k : NULL, cols,
                             TILE_COLS, panel + (size_t)p * TILE_COLS);
        return;
    }
    for (int c = 0; c < cols; c++) pack_run(B + (size_t)c * b_j, kc, columns + (size_t)c * PAIR_CHUNK);
    for (int p = 0; p < pairs; p++)
        for (int c = 0; c < TILE_COLS; c++)
            panel[(size_t)p * TILE_COLS + c] = c < cols ? columns[(size_t)c * PAIR_CHUNK + p] : 0;
}

/* 16 sums of a tile row: zero (set), or C's lanes under mask (masked), or C's 16. */
static inline __attribute__((always_inline)) __m512 load_sums(int set, int masked, __mmask16 mask, const float *c) {
    return set ? _mm512_setzero_ps() : masked ? _mm512_maskz_loadu_ps(mask, c) : _mm512_loadu_ps(c);
}

/* C (rows × TILE_COLS, columns past the masks left alone) (+)= the packed product
 * over `pairs` pairs. rows and masked are constants at every call site, so the
 * loops over r unroll into registers. */
static inline __attribute__((always_inline)) void tile(int rows, int masked, int set, int pairs, const bf16_pair *a,
                                                       size_t p_i, size_t p_k, const bf16_pair *panel, float *C,
                                                       size_t ldc, __mmask16 mask_lo, __mmask16 mask_hi) {
    __m512 acc[TILE_ROWS][2];
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        acc[r][0] = load_sums(set, masked, mask_lo, C + (size_t)r * ldc);
        acc[r][1] = load_sums(set, masked, mask_hi, C + (size_t)r * ldc + 16);
    }
    for (int p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(panel + (size_t)p * TILE_COLS);
        __m512bh b1 = (__m512bh)_mm512_load_si512(panel + (size_t)p * TILE_COLS + 16);
#pragma GCC unroll 12
        for (int r = 0; r < rows; r++) {
            __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[(size_t)r * p_i + (size_t)p * p_k]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        if (masked) {
            _mm512_mask_storeu_ps(c, mask_lo, acc[r][0]);
            _mm512_mask_storeu_ps(c + 16, mask_hi, acc[r][1]);
        } else {
            _mm512_storeu_ps(c, acc[r][0]);
            _mm512_storeu_ps(c + 16, acc[r][1]);
        }
    }
}

/* One instance of tile per row count, full or masked, so each keeps its sums in
 * registers. */
static void run_tile(int rows, int masked, int set, int pairs, const bf16_pair *a, size_t p_i, size_t p_k,
                     const bf16_pair *panel, float *C, size_t ldc, __mmask16 mask_lo, __mmask16 mask_hi) {
#define ROWS(n)                                                                                     \
    case n:                                                                                         \
        if (masked) tile(n, 1, set, pairs, a, p_i, p_k, panel, C, ldc, mask_lo, mask_hi);           \
        else tile(n, 0, set, pairs, a, p_i, p_k, panel, C, ldc, mask_lo, mask_hi);                  \
        return;
    switch (rows) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12)
    }
#undef ROWS
}

void r1_gemm_bf16_avx512(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                         const float *B, size_t b_k, size_t b_j, float *C, size_t ldc) {
    if (a_k != 1 && a_i != 1) { /* no packing for that layout: the reference gives the same bits */
        r1_gemm_bf16_scalar(mode, M, N, K, A, a_i, a_k, B, b_k, b_j, C, ldc);
        return;
    }
    _Alignas(64) bf16_pair block[M_BLOCK * PAIR_CHUNK], panel[PAIR_CHUNK * TILE_COLS], columns[TILE_COLS * PAIR_CHUNK];
    for (int k0 = 0; k0 < K; k0 += K_CHUNK) {
        int kc = K - k0 < K_CHUNK ? K - k0 : K_CHUNK, pairs = (kc + 1) / 2;
        int set = k0 == 0 && mode == R1_GEMM_SET; /* later chunks add to the first's sums */
        for (int m0 = 0; m0 < M; m0 += M_BLOCK) {
            int mc = M - m0 < M_BLOCK ? M - m0 : M_BLOCK;
            size_t p_i, p_k;
            pack_a_block(A + (size_t)m0 * a_i + (size_t)k0 * a_k, a_i, a_k, mc, kc, block, &p_i, &p_k);
            for (int j0 = 0; j0 < N; j0 += TILE_COLS) {
                int cols = N - j0 < TILE_COLS ? N - j0 : TILE_COLS;
                pack_b_panel(B + (size_t)k0 * b_k + (size_t)j0 * b_j, b_k, b_j, kc, cols, panel, columns);
                for (int i0 = 0; i0 < mc; i0 += TILE_ROWS)
                    run_tile(mc - i0 < TILE_ROWS ? mc - i0 : TILE_ROWS, cols < TILE_COLS, set, pairs,
                             block + (size_t)i0 * p_i, p_i, p_k, panel, C + (size_t)(m0 + i0) * ldc + j0, ldc,
                             lanes(cols), lanes(cols - 16));
            }
        }
    }
}
