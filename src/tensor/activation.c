/* The scalar reference of SwiGLU's product and gradient (activation.h). */
#include <math.h>

#include "tensor/activation.h"

void r1_swiglu_f32_scalar(int64_t n, float *out, const float *gate, const float *up) {
    for (int64_t i = 0; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* out = silu(g)·u with silu(g) = g·σ(g) and silu'(g) = σ(g)·(1 + g·(1 − σ(g))):
 *   dgate += dout·u·silu'(g),   dup += dout·silu(g). */
void r1_swiglu_backward_f32_scalar(int64_t n, float *dgate, float *dup, const float *dout, const float *gate_in,
                                   const float *up_in) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate_in[i];
        float sig = 1.0f / (1.0f + expf(-g));
        dgate[i] += dout[i] * up_in[i] * sig * (1.0f + g * (1.0f - sig));
        dup[i] += dout[i] * g * sig;
    }
}
