/* One AdamW update (adamw.h's equations) over elements [i0, i1): the scalar loop,
 * which documents it (adamw.c), and its AVX2 twin (adamw_avx2.c), which does the
 * same float operations in the same order (no FMA: -std=c11 keeps a product and a
 * sum apart) and so gives the same bits. */
#ifndef R1_ADAMW_UPDATE_H
#define R1_ADAMW_UPDATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float *params, *m, *v;
    const float *grads;
    const uint8_t *decay_mask; /* NULL: decay every element */
    float lr, beta1, beta2, eps, weight_decay;
    float bias_correction1, bias_correction2; /* 1 − β^t */
} r1_adamw_update;

void r1_adamw_update_scalar(const r1_adamw_update *u, size_t i0, size_t i1);
void r1_adamw_update_avx2(const r1_adamw_update *u, size_t i0, size_t i1);

#endif
