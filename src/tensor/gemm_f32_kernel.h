/* The body of the SIMD float matrix products, written once for the vector widths
 * that include it: gemm_f32_avx2.c (8 floats a vector, tiles of 6 × 16) and
 * gemm_f32_avx512.c (16 floats, tiles of 12 × 32). The including file defines
 *
 *   TILE_ROWS            rows of a tile of C (a constant)
 *   VEC_WIDTH            floats in a vector; a tile is 2 vectors wide
 *   vec, tile_mask       the vector type and the lane masks of a tile's two vectors
 *   lane_masks(cols)     masks of the first cols columns of a tile (0 < cols ≤ 2·VEC_WIDTH)
 *   vec_load(p, masked, mask), vec_store(p, v, masked, mask)
 *   vec_broadcast(p), vec_zero(), vec_fma(a, b, c) = a·b + c with one rounding
 *   GEMM_KERNEL          the name of the kernel to define (gemm_f32.h's signature)
 *
 * A tile of C lives in 2·TILE_ROWS registers while k runs: each step loads one row
 * of B (two vectors), broadcasts TILE_ROWS elements of A and does 2·TILE_ROWS FMAs,
 * against the two loads and one store per FMA of axpy loops. TILE_ROWS is the most
 * that fits the register file with the two B vectors and the broadcast, and gives
 * enough independent accumulators to cover the FMA latency (4 cycles × 2 ports).
 * Loops, outermost first: K_CHUNK rows of B; a block of rows of A (kept in L2
 * while the panels of B pass); panels of TILE_COLS columns of B (K_CHUNK × TILE_COLS, in
 * L1 while the row tiles of the block pass); tiles. A B whose columns are not
 * contiguous (the nt form) is first copied into such a panel, an A whose rows are
 * not contiguous (the tn form, where consecutive k are a whole row of A apart:
 * 4 KB strides alias in L1) tile by tile. Each element of C is one chain of FMAs in
 * ascending k whatever the tiling, so every width gives the same bits. */
#include <stddef.h>
#include <string.h>

#define TILE_COLS (2 * VEC_WIDTH)
/* A block of rows of A read in place is 480 × K_CHUNK floats (480 KB, in L2); a
 * packed one 120 × K_CHUNK, the packing buffer on the stack. An nt product packs
 * each panel of B once per block, so its blocks are kept large. */
enum { K_CHUNK = 256, M_BLOCK = 480, M_BLOCK_PACKED = 120 };
_Static_assert(M_BLOCK % TILE_ROWS == 0 && M_BLOCK_PACKED % TILE_ROWS == 0, "a block is whole tiles");

/* C (rows × TILE_COLS, columns past the masks left alone) += A·B over k < K (= with
 * set), where A(r,k) = A[r·a_i + k·a_k] and B's row k is B + k·ldb. rows and masked
 * are constants at every call site, so the loops over r unroll into registers. */
static inline __attribute__((always_inline)) void tile(int rows, int masked, int set, int K, const float *A,
                                                       size_t a_i, size_t a_k, const float *B, size_t ldb, float *C,
                                                       size_t ldc, tile_mask mask) {
    vec acc[TILE_ROWS][2];
#pragma GCC unroll 16
    for (int r = 0; r < rows; r++) {
        acc[r][0] = set ? vec_zero() : vec_load(C + r * ldc, masked, mask.lo);
        acc[r][1] = set ? vec_zero() : vec_load(C + r * ldc + VEC_WIDTH, masked, mask.hi);
    }
    for (int k = 0; k < K; k++) {
        const float *a = A + k * a_k, *b = B + k * ldb;
        vec b0 = vec_load(b, masked, mask.lo), b1 = vec_load(b + VEC_WIDTH, masked, mask.hi);
#pragma GCC unroll 16
        for (int r = 0; r < rows; r++) {
            vec ar = vec_broadcast(a + r * a_i);
            acc[r][0] = vec_fma(ar, b0, acc[r][0]);
            acc[r][1] = vec_fma(ar, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < rows; r++) {
        vec_store(C + r * ldc, acc[r][0], masked, mask.lo);
        vec_store(C + r * ldc + VEC_WIDTH, acc[r][1], masked, mask.hi);
    }
}

/* One instance per (rows, masked) pair, so that each keeps its tile in registers. */
#define TILE_CASE(n)                                                                     \
    case n:                                                                              \
        if (masked) tile(n, 1, set, K, A, a_i, a_k, B, ldb, C, ldc, mask);               \
        else tile(n, 0, set, K, A, a_i, a_k, B, ldb, C, ldc, mask);                      \
        break;

_Static_assert(TILE_ROWS == 6 || TILE_ROWS == 12, "run_tile has the cases of 6 or 12 rows");
static void run_tile(int rows, int masked, int set, int K, const float *A, size_t a_i, size_t a_k, const float *B,
                     size_t ldb, float *C, size_t ldc, tile_mask mask) {
    switch (rows) {
        TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
#if TILE_ROWS == 12
        TILE_CASE(7) TILE_CASE(8) TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
#endif
    }
}
#undef TILE_CASE

/* panel[k][c] = B(k, c) for k < K, c < cols; zero for cols ≤ c < TILE_COLS. */
static void pack_b_panel(const float *B, size_t b_k, size_t b_j, int K, int cols, float *panel) {
    for (int c = 0; c < TILE_COLS; c++)
        for (int k = 0; k < K; k++) panel[k * TILE_COLS + c] = c < cols ? B[(size_t)k * b_k + (size_t)c * b_j] : 0.0f;
}

/* The rows of A, tile after tile: block[t][k][r] = A(TILE_ROWS·t + r, k), zero past M.
 * A whole tile of the tn form (a_i = 1) is TILE_ROWS contiguous floats per k: a
 * fixed-size copy, which compiles to vector moves. */
static void pack_a_block(const float *A, size_t a_i, size_t a_k, int M, int K, float *block) {
    for (int i0 = 0; i0 < M; i0 += TILE_ROWS, block += (size_t)K * TILE_ROWS) {
        if (a_i == 1 && i0 + TILE_ROWS <= M) {
            for (int k = 0; k < K; k++)
                memcpy(block + k * TILE_ROWS, A + i0 + (size_t)k * a_k, sizeof(float) * TILE_ROWS);
            continue;
        }
        for (int k = 0; k < K; k++)
            for (int r = 0; r < TILE_ROWS; r++)
                block[k * TILE_ROWS + r] = i0 + r < M ? A[(size_t)(i0 + r) * a_i + (size_t)k * a_k] : 0.0f;
    }
}

void GEMM_KERNEL(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k, const float *B,
                 size_t b_k, size_t b_j, float *C, size_t ldc) {
    _Alignas(64) float panel[K_CHUNK * TILE_COLS], block[M_BLOCK_PACKED * K_CHUNK];
    int m_block = a_k != 1 ? M_BLOCK_PACKED : M_BLOCK;
    for (int k0 = 0; k0 < K; k0 += K_CHUNK) {
        int kc = K - k0 < K_CHUNK ? K - k0 : K_CHUNK;
        for (int m0 = 0; m0 < M; m0 += m_block) {
            int mc = M - m0 < m_block ? M - m0 : m_block;
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
                tile_mask mask = lane_masks(cols);
                int set = k0 == 0 && mode == R1_GEMM_SET; /* later chunks add to the first's sums */
                for (int i0 = 0; i0 < mc; i0 += TILE_ROWS)
                    run_tile(mc - i0 < TILE_ROWS ? mc - i0 : TILE_ROWS, cols < TILE_COLS, set, kc,
                             a + (size_t)(i0 / TILE_ROWS) * tile_step, tile_i, tile_k, b, ldb,
                             C + (size_t)(m0 + i0) * ldc + j0, ldc, mask);
            }
        }
    }
}
