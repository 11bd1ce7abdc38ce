/* The small float operations of a transformer block, each forward followed by its
 * backward (for the trainer, DESIGN §6).
 *
 * Backward convention (as in llm.c): a backward takes the gradient of the loss
 * with respect to the forward's output (dout, dy) and the forward's inputs, and
 * ADDS (+=) the gradients with respect to the inputs into d<name>, so a tensor
 * read in several places collects all its gradients; callers zero them first.
 * The exceptions are r1_rope_backward and r1_softmax_backward_rows, in place. Gradient
 * buffers must not overlap the buffers the backward reads. */
#ifndef R1_OPS_H
#define R1_OPS_H

#include "model/model.h"

/* out = x / sqrt(mean(x²) + eps) * weight   (RMSNorm, Zhang & Sennrich 2019) */
void r1_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
/* dx += ∂L/∂x, dweight += ∂L/∂weight, given dout = ∂L/∂out and the forward's input x
 * (keep it when the forward ran in place). */
void r1_rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x, const float *weight, int n,
                         float eps);

/* x = softmax(x), numerically stable */
void r1_softmax(float *x, int n);
/* The rows of attention's causal scores: row r is x + r·stride, its entries
 * [start[r], start[r] + len[r]) (len ≥ 1) become softmax(scale·x) as r1_softmax
 * makes them; entries outside are left alone. */
void r1_softmax_rows(float *x, size_t stride, int n_rows, const int *start, const int *len, float scale);
/* Its backward, in place: g = ∂L/∂y becomes scale·∂L/∂x = scale·(y ⊙ (g − Σ g⊙y))
 * on the same entries of each row, y the rows' softmax output (same stride). */
void r1_softmax_backward_rows(float *g, const float *y, size_t stride, int n_rows, const int *start, const int *len,
                              float scale);

/* The AVX2 forms (ops_avx2.c), the same bits as the loops of ops.c; the row
 * functions do the first n_rows rounded down to 4 and return how many. Called
 * by the functions above when the CPU has AVX2 (r1_kernels_level ≥ 1). */
int r1_softmax_rows_avx2(float *x, size_t stride, int n_rows, const int *start, const int *len, float scale);
int r1_softmax_backward_rows_avx2(float *g, const float *y, size_t stride, int n_rows, const int *start,
                                  const int *len, float scale);
/* x = e^x, bit for bit glibc's expf on an AVX2 machine (checked with 2.36) */
void r1_expf_avx2(float *x, int n);
void r1_rmsnorm_backward_avx2(float *dx, float *dweight, const float *dout, const float *x, const float *weight, int n,
                              float eps);
/* The two scalar steps of r1_rmsnorm_backward that ops_avx2.c shares (for it only): the sums'
 * four chains from element i on (the tail in chain 0) combined into the row's scale
 * s and coefficient s²/n·Σ dout·w·x; then dx and dweight over elements [i, n). */
void r1_rmsnorm_backward_coefs(double sum_sq_lane[4], double dot_lane[4], const float *dout, const float *x,
                               const float *weight, int i, int n, float eps, double *scale, double *coef);
void r1_rmsnorm_backward_apply(float *dx, float *dweight, const float *dout, const float *x, const float *weight, int i,
                               int n, double scale, double coef);

/* gate = silu(gate) * up   (SwiGLU: F.silu(w1(x)) * w3(x)) */
void r1_swiglu(float *gate, const float *up, int n);
/* dgate += ∂L/∂gate, dup += ∂L/∂up given dout = ∂L/∂out; the forward overwrote
 * gate, so this takes the pre-activation inputs gate_in and up_in. */
void r1_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate_in, const float *up_in, int n);

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
/* In place: on entry dx holds ∂L/∂(rotated x), on return ∂L/∂x — the same pairs
 * rotated by −θ (a rotation's transpose is its inverse). Values past 2·n_pairs
 * pass through, as in the forward. */
void r1_rope_backward(const r1_rope *rope, float *dx, const float *cos_sin);

#endif
