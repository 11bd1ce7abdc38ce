#include <math.h>

#include "train/loss.h"

/* loss = lse − logits[target] with lse = m + log Σ_i exp(logits_i − m), m = max logits. */
float r1_cross_entropy_forward(const float *logits, int n_vocab, int target, float *probs_out) {
    float max = logits[0];
    for (int i = 1; i < n_vocab; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0.0;
    for (int i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - max);
    double lse = max + log(sum);
    if (probs_out)
        for (int i = 0; i < n_vocab; i++) probs_out[i] = (float)exp(logits[i] - lse);
    return (float)(lse - logits[target]);
}

/* ∂(lse − logits_target)/∂logits_i = softmax_i − [i = target]. */
void r1_cross_entropy_backward(float *dlogits, const float *probs, int n_vocab, int target, float scale) {
    for (int i = 0; i < n_vocab; i++) dlogits[i] += scale * (probs[i] - (i == target ? 1.0f : 0.0f));
}
