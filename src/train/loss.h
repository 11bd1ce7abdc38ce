/* The training loss: cross-entropy of next-token logits against a target token,
 * forward and backward side by side. Gradients accumulate (+=), as in ops.h. */
#ifndef R1_LOSS_H
#define R1_LOSS_H

/* −log softmax(logits)[target], through a log-sum-exp shifted by the largest
 * logit so no exp overflows. When probs_out is not NULL it receives
 * softmax(logits) (n_vocab floats) for the backward. 0 <= target < n_vocab. */
float r1_cross_entropy_forward(const float *logits, int n_vocab, int target, float *probs_out);
/* dlogits += scale·(probs − onehot(target)), probs from the forward; scale is
 * ∂L/∂loss, e.g. 1/T for a mean over T positions. */
void r1_cross_entropy_backward(float *dlogits, const float *probs, int n_vocab, int target, float scale);

#endif
