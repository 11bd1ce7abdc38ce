/* The scalar reference of the bfloat16 matrix products (gemm_bf16.h). */
#include "tensor/gemm_bf16.h"

#include <math.h>

#include "tensor/types.h"

static float round_bf16(float x) { return r1_bf16_to_fp32(r1_fp32_to_bf16(x)); }

/* Each element as the header states: pairs of k in ascending order, the odd term
 * first, one rounding per term (fmaf); a missing odd term is 0·0. */
void r1_gemm_bf16_scalar(r1_gemm_mode mode, int M, int N, int K, const float *A, size_t a_i, size_t a_k,
                         const float *B, size_t b_k, size_t b_j, float *C, size_t ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float *c = C + (size_t)i * ldc + j;
            float sum = mode == R1_GEMM_SET ? 0.0f : *c;
            for (int k = 0; k < K; k += 2) {
                float a_odd = 0.0f, b_odd = 0.0f;
                if (k + 1 < K) {
                    a_odd = round_bf16(A[(size_t)i * a_i + (size_t)(k + 1) * a_k]);
                    b_odd = round_bf16(B[(size_t)(k + 1) * b_k + (size_t)j * b_j]);
                }
                float a_even = round_bf16(A[(size_t)i * a_i + (size_t)k * a_k]);
                float b_even = round_bf16(B[(size_t)k * b_k + (size_t)j * b_j]);
                sum = fmaf(a_even, b_even, fmaf(a_odd, b_odd, sum));
            }
            *c = sum;
        }
}
