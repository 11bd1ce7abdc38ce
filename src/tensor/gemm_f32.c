/* The scalar reference of the float matrix products and the three forms' entry
 * points (gemm_f32.h). */
#include "tensor/gemm_f32.h"

#include <string.h>

/* k in the middle loop: each C element still takes its terms in ascending k, and
 * the inner loop runs along a row of B and C. */
void r1_gemm_f32_scalar(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                        const float *B, size_t b_k, size_t b_j, float *C, size_t ldc) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (mode == R1_GEMM_SET) memset(c, 0, (size_t)N * sizeof(float));
        for (int k = 0; k < K; k++) {
            float a = A[(size_t)i * a_i + (size_t)k * a_k];
            const float *b = B + (size_t)k * b_k;
            for (int j = 0; j < N; j++) c[j] += a * b[(size_t)j * b_j];
        }
    }
}

void r1_gemm_call(r1_gemm_f32_fn kernel, r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i,
                  size_t a_k, const float *B, size_t b_k, size_t b_j, float *C, size_t ldc) {
    if (K > 0) kernel(mode, M, N, K, A, a_i, a_k, B, b_k, b_j, C, ldc);
    else if (mode == R1_GEMM_SET)
        for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
}

void r1_gemm_nn_f32(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                    float *C, size_t ldc) {
    r1_gemm_call(r1_gemm_f32_kernel(), mode, M, N, K, A, lda, 1, B, ldb, 1, C, ldc);
}

void r1_gemm_nt_f32(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                    float *C, size_t ldc) {
    r1_gemm_call(r1_gemm_f32_kernel(), mode, M, N, K, A, lda, 1, B, 1, ldb, C, ldc);
}

void r1_gemm_tn_f32(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                    float *C, size_t ldc) {
    r1_gemm_call(r1_gemm_f32_kernel(), mode, M, N, K, A, 1, lda, B, ldb, 1, C, ldc);
}
