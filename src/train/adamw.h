/* The optimizer of every training stage: AdamW over one flat float array of
 * parameters, the learning-rate schedule that drives it, and global-norm gradient
 * clipping. All three are deterministic: the same inputs give the same bits, so a
 * run resumed from a checkpoint continues exactly as the uninterrupted run would.
 *
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
 * Algorithm 2), in the form PyTorch's torch.optim.AdamW implements, at step t ≥ 1
 * with gradient g:
 *
 *   m  = β1·m + (1 − β1)·g                   first moment
 *   v  = β2·v + (1 − β2)·g²                  second moment
 *   m̂  = m / (1 − β1^t)                      bias corrections (Kingma & Ba 2015, §3)
 *   v̂  = v / (1 − β2^t)
 *   p −= lr · ( m̂ / (√v̂ + eps)  +  wd·p )    wd·p only where the decay mask is set
 *
 * The decay is decoupled: it shrinks p directly instead of being added to g, so it is
 * not rescaled by √v̂. lr is the scheduled rate of this step (r1_lr_schedule), and
 * multiplies the decay too, as in PyTorch (the paper's η_t·λ with α folded in). */
#ifndef R1_ADAMW_H
#define R1_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"

typedef struct {
    float lr;           /* peak learning rate (the schedule's lr_max) */
    float beta1;        /* first-moment decay, e.g. 0.9 */
    float beta2;        /* second-moment decay, e.g. 0.95 or 0.999 */
    float eps;          /* added to √v̂, e.g. 1e-8 */
    float weight_decay; /* wd, e.g. 0.1 */
} r1_adamw_hparams;

typedef struct {
    r1_adamw_hparams hp;
    size_t n_params;
    uint64_t step; /* t: updates done so far; the next update uses t = step + 1 */
    float *m;      /* (n_params) first moment, one block allocated by init */
    float *v;      /* (n_params) second moment, one block allocated by init */
} r1_adamw;

/* Zero moments, step 0. Fails (naming the value) on n_params = 0 or hyper-parameters
 * outside 0 ≤ β < 1, eps > 0, wd ≥ 0, lr ≥ 0. */
int r1_adamw_init(r1_adamw *opt, size_t n_params, r1_adamw_hparams hp, r1_err *err);

/* One update of params (n_params floats) from grads, at learning rate lr.
 * decay_mask[i] != 0 applies weight decay to params[i]; NULL decays all (norms and
 * biases are usually left undecayed). */
void r1_adamw_step(r1_adamw *opt, float *params, const float *grads, float lr, const uint8_t *decay_mask);
/* The same update split over a pool's threads (NULL: the caller alone): each
 * element's arithmetic is unchanged, so the bits do not depend on the threads. */
void r1_adamw_step_pool(r1_pool *pool, r1_adamw *opt, float *params, const float *grads, float lr,
                        const uint8_t *decay_mask);

void r1_adamw_free(r1_adamw *opt);

/* Learning rate at step (0-based) of a total-step run: linear warm-up
 *   lr_max · (step + 1) / warmup                           for step < warmup
 * then cosine decay to the floor (Loshchilov & Hutter, SGDR, ICLR 2017, eq. 5)
 *   lr_min + ½(lr_max − lr_min)(1 + cos(π · (step − warmup) / (total − warmup)))
 * reaching lr_min at step = total and staying there after. warmup ≤ 0 skips the
 * warm-up; total ≤ warmup holds lr_max after the warm-up. */
float r1_lr_schedule(int step, int warmup, int total, float lr_max, float lr_min);

/* Scales grads so their global L2 norm is at most max_norm (Pascanu et al. 2013,
 * "On the difficulty of training RNNs", Algorithm 1) and returns the norm before
 * clipping. If that norm is not finite, grads are left as they are: the caller sees
 * the inf/NaN and can skip the step instead of writing NaN into every parameter. */
float r1_clip_grad_norm(float *grads, size_t n, float max_norm);
/* The same over a pool (NULL: the caller alone); the norm is summed in fixed blocks
 * in a fixed order, so it does not depend on the threads either. */
float r1_clip_grad_norm_pool(r1_pool *pool, float *grads, size_t n, float max_norm);

#endif
