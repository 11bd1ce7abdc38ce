/* Float matrix products for the trainer (linear layers, attention, the latent
 * projections): C += op(A)·op(B), or C = op(A)·op(B), over row-major matrices with
 * row strides (in floats), in three forms,
 *
 *   nn:  C (M × N) += A (M × K) · B (K × N)        dx = dy·W, P·V, c_kv·W_ukᵀ
 *   nt:  C (M × N) += A (M × K) · Bᵀ, B (N × K)     y = x·Wᵀ, Q·Kᵀ
 *   tn:  C (M × N) += Aᵀ · B, A (K × M), B (K × N)  dW = dyᵀ·x, Pᵀ·dO
 *
 * Every element is C[i][j] + Σ_k A(i,k)·B(k,j) (R1_GEMM_ADD; 0 + … for R1_GEMM_SET,
 * which never reads C) summed one term at a time in ascending k, whatever the
 * tiling: a caller that splits M or N between threads gets the same bits as one
 * thread. The AVX2 and AVX-512 kernels (gemm_f32_avx2.c,
 * gemm_f32_avx512.c) round once per term (FMA) and so agree bit for bit; the scalar
 * reference rounds twice, and agrees with them within float rounding. */
#ifndef R1_GEMM_F32_H
#define R1_GEMM_F32_H

#include <stddef.h>

typedef enum { R1_GEMM_ADD, R1_GEMM_SET } r1_gemm_mode; /* C += A·B, or C = A·B */

void r1_gemm_nn_f32(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                    float *C, size_t ldc);
void r1_gemm_nt_f32(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                    float *C, size_t ldc);
void r1_gemm_tn_f32(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t lda, const float *B, size_t ldb,
                    float *C, size_t ldc);

/* The kernels behind the three forms (chosen by r1_kernels_select in types.c):
 * C[i·ldc + j] (+)= Σ_k A[i·a_i + k·a_k] · B[k·b_k + j·b_j] for i < M, j < N, K ≥ 1. */
typedef void (*r1_gemm_f32_fn)(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                               const float *B, size_t b_k, size_t b_j, float *C, size_t ldc);
void r1_gemm_f32_scalar(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                        const float *B, size_t b_k, size_t b_j, float *C, size_t ldc);
void r1_gemm_f32_avx2(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k, const float *B,
                      size_t b_k, size_t b_j, float *C, size_t ldc);
void r1_gemm_f32_avx512(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                        const float *B, size_t b_k, size_t b_j, float *C, size_t ldc);
r1_gemm_f32_fn r1_gemm_f32_kernel(void);
/* Runs kernel (a float or a bfloat16 one, gemm_bf16.h) on a product in the kernels'
 * addressing; with K = 0 the product is zero (the kernels want K ≥ 1). */
void r1_gemm_call(r1_gemm_f32_fn kernel, r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i,
                  size_t a_k, const float *B, size_t b_k, size_t b_j, float *C, size_t ldc);

#endif
