#include <stddef.h>

#include "tensor/types.h"
#include "train/linear.h"

void r1_linear_forward(float *y, const float *x, const float *W, int T, int in, int out) {
    for (int t = 0; t < T; t++)
        for (int o = 0; o < out; o++)
            y[(size_t)t * out + o] = r1_dot_f32(in, W + (size_t)o * in, x + (size_t)t * in);
}

/* dx[t] += Σ_o dy[t][o]·W[o]  and  dW[o] += Σ_t dy[t][o]·x[t]: both are sums of
 * contiguous rows scaled by one dy element (axpy), each loop keeping the row it
 * accumulates into in cache while it streams the others. */
void r1_linear_backward(float *dx, float *dW, const float *dy, const float *x, const float *W, int T, int in, int out) {
    for (int t = 0; t < T; t++)
        for (int o = 0; o < out; o++)
            r1_axpy_f32(in, dy[(size_t)t * out + o], W + (size_t)o * in, dx + (size_t)t * in);
    for (int o = 0; o < out; o++)
        for (int t = 0; t < T; t++)
            r1_axpy_f32(in, dy[(size_t)t * out + o], x + (size_t)t * in, dW + (size_t)o * in);
}
