/* Multi-token prediction, depth 1 (DeepSeek-V3 §2.2), forward and backward.
 *
 * At each position t the module predicts token t+2 from the main model's final
 * state h_t and the embedding of token t+1. h_t is taken before output_norm, since
 * eq. 21 normalises it itself (vLLM feeds DeepSeek-V3's module the output_norm'ed
 * state; a module trained here is only ever run here):
 *
 *   h'_t   = M [RMSNorm_e(Emb(token_{t+1})); RMSNorm_h(h_t)]            (eq. 21)
 *   h''    = TRM(h')   one transformer block, blk.<n_layers>, causal     (eq. 22)
 *   p_t+2  = softmax(output · RMSNorm_head(h''_t))                      (eq. 23)
 *   L_MTP  = mean over rows with a target of −log p_t+2[token_{t+2}]     (eq. 24)
 *
 * and the training loss gains λ·L_MTP (eq. 25). Emb and output are the main
 * model's, shared. Row t's target is the main target of row t+1 (so the prompt
 * masking and document ends carry over); where token t+1 belongs to no document of
 * t (the sequence's or the document's last row) the embedding is zero and there is
 * no target. Those rows still pass through the block, and its MoE layer counts them
 * in its balance loss and expert loads as it counts every row it routes. */
#include <math.h>
#include <string.h>

#include "train/linear.h"
#include "train/loss.h"
#include "train/rows.h"
#include "train/tiny_model.h"

/* Token t+1 is in the same document as token t. */
static int has_next(const r1_train_model *m, long t) {
    if (t % m->T + 1 >= m->T) return 0;
    return !m->doc_start || m->doc_start[t + 1] == m->doc_start[t];
}

static void score_mtp_targets(void *ctx, long t0, long t1) {
    r1_train_model *m = ctx;
    int V = m->cfg.vocab;
    for (long t = t0; t < t1; t++)
        if (m->mtp_targets[t] >= 0)
            m->mtp_nll[t] = r1_cross_entropy_forward(m->mtp_logits + (size_t)t * V, V, m->mtp_targets[t],
                                                     m->mtp_probs + (size_t)t * V);
}

void mtp_forward(r1_train_model *m) {
    const r1_train_config *c = &m->cfg;
    const int N = m->B * m->T, D = c->dim, V = c->vocab, L = c->n_layers;
    const size_t row = (size_t)D * sizeof(float);
    for (long t = 0; t < N; t++) {
        int next = has_next(m, t);
        m->mtp_targets[t] = next ? m->targets[t + 1] : -1;
        if (next) memcpy(m->mtp_emb + (size_t)t * D, m->tok_embd + (size_t)m->tokens[t + 1] * D, row);
        else memset(m->mtp_emb + (size_t)t * D, 0, row);
    }
    /* the two normalised halves straight into their places in [e; h] */
    r1_rows_rmsnorm_strided(m->pool, m->mtp_eh, 2 * (size_t)D, m->mtp_emb, m->mtp.enorm, N, D, c->norm_eps);
    r1_rows_rmsnorm_strided(m->pool, m->mtp_eh + D, 2 * (size_t)D, m->x_final, m->mtp.hnorm, N, D, c->norm_eps);
    r1_linear_forward_pool(m->pool, m->cfg.precision, m->acts[L].x_in, m->mtp_eh, m->mtp.eh_proj, N, 2 * D, D);
    block_forward(m, L, m->mtp_x_out);
    r1_rows_rmsnorm(m->pool, m->mtp_xn, m->mtp_x_out, m->mtp.head_norm, N, D, c->norm_eps);
    r1_linear_forward_pool(m->pool, R1_LINEAR_F32, m->mtp_logits, m->mtp_xn, m->output, N, D, V);

    r1_pool_for(m->pool, N, score_mtp_targets, m);
    double sum = 0.0;
    int n = 0;
    for (long t = 0; t < N; t++)
        if (m->mtp_targets[t] >= 0) sum += m->mtp_nll[t], n++;
    m->n_mtp_targets = n;
    m->mtp_loss = n ? (float)(sum / n) : 0.0f;
    m->mtp_ran = 1;
}

/* dlogits of rows [t0, t1): λ/n·(probs − onehot(target)) where the row has a target
 * (with no target anywhere only the block's balance loss has a gradient). */
static void mtp_target_gradients(void *ctx, long t0, long t1) {
    r1_train_model *m = ctx;
    int V = m->cfg.vocab;
    float scale = m->n_mtp_targets ? m->cfg.mtp_weight / (float)m->n_mtp_targets : 0.0f;
    for (long t = t0; t < t1; t++) {
        float *dlogits = m->d.dlogits + (size_t)t * V;
        memset(dlogits, 0, (size_t)V * sizeof(float));
        if (m->mtp_targets[t] >= 0)
            r1_cross_entropy_backward(dlogits, m->mtp_probs + (size_t)t * V, V, m->mtp_targets[t], scale);
    }
}

void mtp_backward(r1_train_model *m) {
    const r1_train_config *c = &m->cfg;
    r1_train_dacts *d = &m->d;
    const int N = m->B * m->T, D = c->dim, V = c->vocab, L = c->n_layers;
    r1_rows_zero(m->pool, d->dmtp_h, (size_t)N * D);
    r1_pool_for(m->pool, N, mtp_target_gradients, m);

    /* head: logits = output · RMSNorm_head(h'') */
    r1_rows_zero(m->pool, d->dres, (size_t)N * D);
    r1_linear_backward_pool(m->pool, R1_LINEAR_F32, R1_GEMM_SET, d->dxn, m->doutput, d->dlogits, m->mtp_xn, m->output,
                            N, D, V);
    r1_rows_rmsnorm_backward(m->pool, d->dres, D, m->dmtp.head_norm, d->dxn, D, m->mtp_x_out, D, m->mtp.head_norm, N, D,
                             c->norm_eps, d->dnorm_rows);
    block_backward(m, L); /* d->dres: ∂L/∂h' */

    /* h' = M [e; h] */
    r1_linear_backward_pool(m->pool, m->cfg.precision, R1_GEMM_SET, d->dmtp_eh, m->dmtp.eh_proj, d->dres, m->mtp_eh,
                            m->mtp.eh_proj, N, 2 * D, D);

    /* the embedding half: RMSNorm_e, then into the shared embedding rows of token t+1 */
    r1_rows_zero(m->pool, d->dxn, (size_t)N * D);
    r1_rows_rmsnorm_backward(m->pool, d->dxn, D, m->dmtp.enorm, d->dmtp_eh, 2 * (size_t)D, m->mtp_emb, D,
                             m->mtp.enorm, N, D, c->norm_eps, d->dnorm_rows);
    for (long t = 0; t < N; t++)
        if (has_next(m, t))
            r1_axpy_f32(D, 1.0f, d->dxn + (size_t)t * D, m->dtok_embd + (size_t)m->tokens[t + 1] * D);

    /* the state half: RMSNorm_h, into ∂L/∂x_final for the main backward */
    r1_rows_rmsnorm_backward(m->pool, d->dmtp_h, D, m->dmtp.hnorm, d->dmtp_eh + D, 2 * (size_t)D, m->x_final, D,
                             m->mtp.hnorm, N, D, c->norm_eps, d->dnorm_rows);
}
