/* The small float operations of a transformer block. */
#ifndef R1_OPS_H
#define R1_OPS_H

#include "model/model.h"

/* out = x / sqrt(mean(x²) + eps) * weight   (RMSNorm, Zhang & Sennrich 2019) */
void r1_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
/* x = softmax(x), numerically stable */
void r1_softmax(float *x, int n);
/* gate = silu(gate) * up   (SwiGLU: F.silu(w1(x)) * w3(x)) */
void r1_swiglu(float *gate, const float *up, int n);

/* RoPE angles for one position: cos/sin of pos·θ_i for each of rope_dims/2 pairs. */
typedef struct {
    int n_pairs;
    r1_rope_style style;
    double *inv_freq;   /* θ_i, after llama3 freq factors or YaRN blending */
    float attn_scale;   /* YaRN's mscale² for the softmax scale (1 without YaRN) */
} r1_rope;

int r1_rope_init(r1_rope *rope, const r1_hparams *hp, const float *freq_factors, r1_err *err);
void r1_rope_free(r1_rope *rope);
/* Fills cos_sin with n_pairs cos values then n_pairs sin values for position pos. */
void r1_rope_angles(const r1_rope *rope, int pos, float *cos_sin);
/* Rotates the first 2·n_pairs values of x: interleaved pairs (x[2i], x[2i+1]) or
 * half-split pairs (x[i], x[i + n_pairs]). */
void r1_rope_apply(const r1_rope *rope, float *x, const float *cos_sin);

#endif
