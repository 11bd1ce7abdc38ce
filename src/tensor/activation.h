/* SwiGLU's element-wise product and its gradient (DeepSeek-V3's FFN and experts),
 * shared by the engine (model/ops.c r1_swiglu) and the trainer. The scalar loops
 * are the reference; the AVX2 ones take e^x from a polynomial (exp_avx2 in
 * activation_avx2.c, ~1 ulp) instead of libm's expf, and agree with them to a few
 * ulp. Chosen at run time by types.c, as r1_dot_f32 is. */
#ifndef R1_ACTIVATION_H
#define R1_ACTIVATION_H

#include <stdint.h>

/* out[i] = silu(gate[i])·up[i], silu(g) = g·σ(g); out may be gate (in place) */
void r1_swiglu_f32(int64_t n, float *out, const float *gate, const float *up);
/* with σ = σ(gate_in): dgate += dout·up·σ·(1 + g·(1 − σ)), dup += dout·g·σ */
void r1_swiglu_backward_f32(int64_t n, float *dgate, float *dup, const float *dout, const float *gate_in,
                            const float *up_in);

void r1_swiglu_f32_scalar(int64_t n, float *out, const float *gate, const float *up);
void r1_swiglu_f32_avx2(int64_t n, float *out, const float *gate, const float *up);
void r1_swiglu_backward_f32_scalar(int64_t n, float *dgate, float *dup, const float *dout, const float *gate_in,
                                   const float *up_in);
void r1_swiglu_backward_f32_avx2(int64_t n, float *dgate, float *dup, const float *dout, const float *gate_in,
                                 const float *up_in);

#endif
