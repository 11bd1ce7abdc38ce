/* AdamW's update, 8 elements at a time (adamw_update.h): the operations of
 * r1_adamw_update_scalar lane by lane. Compiled with -mavx2 -mfma; adamw.c calls it
 * only when the AVX2 kernels are selected. */
#include <immintrin.h>

#include "train/adamw_update.h"

void r1_adamw_update_avx2(const r1_adamw_update *u, size_t i0, size_t i1) {
    const __m256 beta1 = _mm256_set1_ps(u->beta1), beta2 = _mm256_set1_ps(u->beta2);
    const __m256 one_minus_beta1 = _mm256_set1_ps(1.0f - u->beta1), one_minus_beta2 = _mm256_set1_ps(1.0f - u->beta2);
    const __m256 bc1 = _mm256_set1_ps(u->bias_correction1), bc2 = _mm256_set1_ps(u->bias_correction2);
    const __m256 eps = _mm256_set1_ps(u->eps), wd = _mm256_set1_ps(u->weight_decay), lr = _mm256_set1_ps(u->lr);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 g = _mm256_loadu_ps(u->grads + i), p = _mm256_loadu_ps(u->params + i);
        __m256 m = _mm256_add_ps(_mm256_mul_ps(beta1, _mm256_loadu_ps(u->m + i)), _mm256_mul_ps(one_minus_beta1, g));
        __m256 v = _mm256_add_ps(_mm256_mul_ps(beta2, _mm256_loadu_ps(u->v + i)),
                                 _mm256_mul_ps(_mm256_mul_ps(one_minus_beta2, g), g));
        _mm256_storeu_ps(u->m + i, m);
        _mm256_storeu_ps(u->v + i, v);
        __m256 m_hat = _mm256_div_ps(m, bc1), v_hat = _mm256_div_ps(v, bc2);
        __m256 decay = _mm256_mul_ps(wd, p);
        if (u->decay_mask) {
            __m256i flags = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u->decay_mask + i)));
            decay = _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(flags, _mm256_setzero_si256())), decay);
        }
        __m256 step = _mm256_add_ps(_mm256_div_ps(m_hat, _mm256_add_ps(_mm256_sqrt_ps(v_hat), eps)), decay);
        _mm256_storeu_ps(u->params + i, _mm256_sub_ps(p, _mm256_mul_ps(lr, step)));
    }
    r1_adamw_update_scalar(u, i, i1);
}
