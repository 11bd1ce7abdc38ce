/* Mixed-precision matrix products for the trainer: the float operands are rounded
 * to bfloat16 (round to nearest even), multiplied exactly, and summed in float —
 * the arithmetic of AVX512_BF16's VDPBF16PS, which does twice the multiply-adds of
 * a float FMA per cycle. The kernels have gemm_f32.h's signature and addressing,
 * and run through r1_gemm_call:
 *
 *   C[i·ldc + j] (+)= Σ_k A[i·a_i + k·a_k] · B[k·b_k + j·b_j]   (rounded operands)
 *
 * Every element sums its terms in pairs of k, in ascending pairs, the odd term of a
 * pair first (the instruction's order, Intel SDM VDPBF16PS):
 *
 *   c ← c + a(2p+1)·b(2p+1),  c ← c + a(2p)·b(2p)     for p = 0, 1, …
 *
 * each step one float rounding (a product of two bfloat16 is exact in float); an
 * odd K pairs its last term with a zero. The scalar reference and the AVX-512 kernel
 * give the same bits (the instruction flushes denormals, the reference does not:
 * they can differ below 1e-38), and like gemm_f32.h a product split into row or
 * column blocks gives the same bits as one call. */
#ifndef R1_GEMM_BF16_H
#define R1_GEMM_BF16_H

#include <stddef.h>

#include "tensor/gemm_f32.h"

/* The kernels (K ≥ 1); r1_gemm_bf16_kernel() is the AVX512_BF16 one at kernel
 * level 2 (types.h) where the CPU has it, else the scalar reference. The AVX-512
 * kernel packs layouts with a_k = 1 or a_i = 1 (the three forms of gemm_f32.h) and
 * hands others to the reference. */
void r1_gemm_bf16_scalar(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                         const float *B, size_t b_k, size_t b_j, float *C, size_t ldc);
void r1_gemm_bf16_avx512(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                         const float *B, size_t b_k, size_t b_j, float *C, size_t ldc);
r1_gemm_f32_fn r1_gemm_bf16_kernel(void);

#endif
