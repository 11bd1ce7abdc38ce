/* The whole trainable model, forward and backward, and its export to GGUF.
 *
 *   x      = token_embd[tokens]
 *   per layer:  x += MLA(attn_norm(x)),  x += FFN or MoE(ffn_norm(x))
 *   logits = output · output_norm(x)
 *   loss   = mean over non-ignored targets of −log softmax(logits)[target]
 *            + Σ_MoE layers (1/B) Σ_sequences L_bal                  (moe_train.c)
 *            + λ · the MTP module's cross-entropy on token t+2        (mtp_train.c)
 *
 * or, for the policy-gradient stages, any Σ_t w_t·log p(token_{t+1} | ≤ t) plus the
 * same balance loss; cross-entropy is its case w = −1/n_targets on the targets.
 *
 * the engine's forward (model/forward.c) run on B sequences at once. The engine
 * reads the parameters either from an exported GGUF or, with no copy, through a
 * view (r1_train_model_view). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/writer.h"
#include "train/linear.h"
#include "train/loss.h"
#include "train/rows.h"
#include "train/tiny_model.h"

/* token_nll and probs of rows [t0, t1) that have a target (m->targets, or with
 * none the next token of the sequence: the policy-gradient form). */
static void score_targets(void *ctx, long t0, long t1) {
    r1_train_model *m = ctx;
    int T = m->T, V = m->cfg.vocab;
    for (long t = t0; t < t1; t++) {
        int target = m->targets ? m->targets[t] : t % T + 1 < T ? m->tokens[t + 1] : -1;
        if (target >= 0)
            m->token_nll[t] = r1_cross_entropy_forward(m->logits + (size_t)t * V, V, target, m->probs + (size_t)t * V);
    }
}

int r1_train_forward(r1_train_model *m, const int *tokens, const int *targets, int B, int T, float *loss,
                     r1_err *err) {
    const r1_train_config *c = &m->cfg;
    int D = c->dim, V = c->vocab;
    if (B < 1 || B > c->batch || T < 1 || T > c->seq_len)
        return r1_fail(err, "train: forward of %d × %d tokens exceeds the model's %d × %d", B, T, c->batch, c->seq_len);
    int N = B * T;
    for (int i = 0; i < N; i++) {
        if (tokens[i] < 0 || tokens[i] >= V)
            return r1_fail(err, "train: token id %d at position %d is outside the vocabulary (0..%d)", tokens[i], i,
                           V - 1);
        if (targets && (targets[i] < -1 || targets[i] >= V))
            return r1_fail(err, "train: target %d at position %d is outside the vocabulary (0..%d, or -1)", targets[i],
                           i, V - 1);
    }
    m->B = B, m->T = T, m->tokens = tokens, m->targets = targets;
    m->balance_loss = 0.0f;

    float *x = m->acts[0].x_in;
    for (int t = 0; t < N; t++) memcpy(x + (size_t)t * D, m->tok_embd + (size_t)tokens[t] * D, (size_t)D * sizeof(float));
    for (int il = 0; il < c->n_layers; il++)
        block_forward(m, il, il + 1 < c->n_layers ? m->acts[il + 1].x_in : m->x_final);
    r1_rows_rmsnorm(m->pool, m->xn_final, m->x_final, m->output_norm, N, D, c->norm_eps);
    r1_linear_forward_pool(m->pool, R1_LINEAR_F32, m->logits, m->xn_final, m->output, N, D, V);

    m->n_targets = 0;
    m->ce_loss = m->mtp_loss = 0.0f;
    m->mtp_ran = 0;
    if (!targets) {
        if (loss) *loss = 0.0f;
        return R1_OK;
    }
    r1_pool_for(m->pool, N, score_targets, m);
    double sum = 0.0;
    for (int t = 0; t < N; t++) {
        if (targets[t] < 0) continue;
        sum += m->token_nll[t];
        m->n_targets++;
    }
    m->ce_loss = m->n_targets ? (float)(sum / m->n_targets) : 0.0f;
    if (m->mtp.eh_proj && c->mtp_weight > 0.0f) mtp_forward(m);
    if (loss) *loss = m->ce_loss + m->balance_loss + c->mtp_weight * m->mtp_loss;
    return R1_OK;
}

void block_forward(r1_train_model *m, int il, float *x_out) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[il];
    r1_train_acts *a = &m->acts[il];
    int N = m->B * m->T, D = c->dim;
    r1_rows_rmsnorm(m->pool, a->xn_attn, a->x_in, L->attn_norm, N, D, c->norm_eps);
    mla_forward(m, il, a->x_mid);
    r1_rows_add(m->pool, a->x_mid, a->x_in, (size_t)N * D);

    r1_rows_rmsnorm(m->pool, a->xn_ffn, a->x_mid, L->ffn_norm, N, D, c->norm_eps);
    if (il < c->n_dense_layers) ffn_forward(m, il, x_out);
    else moe_forward(m, il, x_out);
    r1_rows_add(m->pool, x_out, a->x_mid, (size_t)N * D);
}

/* each residual add passes dres through unchanged; the branch adds its part */
void block_backward(r1_train_model *m, int il) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[il];
    r1_train_layer *dL = &m->dlayers[il];
    r1_train_acts *a = &m->acts[il];
    r1_train_dacts *d = &m->d;
    int N = m->B * m->T, D = c->dim;
    if (il < c->n_dense_layers) ffn_backward(m, il, d->dres, d->dxn);
    else moe_backward(m, il, d->dres, d->dxn);
    r1_rows_rmsnorm_backward(m->pool, d->dres, D, dL->ffn_norm, d->dxn, D, a->x_mid, D, L->ffn_norm, N, D, c->norm_eps,
                             d->dnorm_rows);

    mla_backward(m, il, d->dres, d->dxn);
    r1_rows_rmsnorm_backward(m->pool, d->dres, D, dL->attn_norm, d->dxn, D, a->x_in, D, L->attn_norm, N, D, c->norm_eps,
                             d->dnorm_rows);
}

/* The backward from m->d.dlogits (filled by the caller) down to the embeddings. The
 * MoE layers add the balance loss's gradient on the way (moe_backward). dx_final:
 * more gradient of the final state (the MTP module's), or NULL. */
static void backward_from_dlogits(r1_train_model *m, const float *dx_final) {
    const r1_train_config *c = &m->cfg;
    r1_train_dacts *d = &m->d;
    int N = m->B * m->T, D = c->dim, V = c->vocab;

    if (dx_final) memcpy(d->dres, dx_final, (size_t)N * D * sizeof(float));
    else r1_rows_zero(m->pool, d->dres, (size_t)N * D);
    r1_linear_backward_pool(m->pool, R1_LINEAR_F32, R1_GEMM_SET, d->dxn, m->doutput, d->dlogits, m->xn_final, m->output,
                            N, D, V);
    r1_rows_rmsnorm_backward(m->pool, d->dres, D, m->doutput_norm, d->dxn, D, m->x_final, D, m->output_norm, N, D,
                             c->norm_eps, d->dnorm_rows);

    for (int il = c->n_layers - 1; il >= 0; il--) block_backward(m, il);
    for (int t = 0; t < N; t++)
        r1_axpy_f32(D, 1.0f, d->dres + (size_t)t * D, m->dtok_embd + (size_t)m->tokens[t] * D);
}

/* dlogits of rows [t0, t1): zero, then −w_t·(probs − onehot(target)) where the row
 * has a target and a weight (m->targets with w = −1/n_targets, or the next token
 * with the weights of r1_train_backward_logprob_weights). */
typedef struct {
    r1_train_model *m;
    const float *weights;
} dlogits_job;

static void target_gradients(void *ctx, long t0, long t1) {
    const dlogits_job *job = ctx;
    r1_train_model *m = job->m;
    int T = m->T, V = m->cfg.vocab;
    for (long t = t0; t < t1; t++) {
        float *dlogits = m->d.dlogits + (size_t)t * V;
        memset(dlogits, 0, (size_t)V * sizeof(float));
        int target = m->targets ? m->targets[t] : t % T + 1 < T ? m->tokens[t + 1] : -1;
        float weight = job->weights ? job->weights[t] : -1.0f / (float)m->n_targets;
        if (target >= 0 && weight != 0.0f)
            r1_cross_entropy_backward(dlogits, m->probs + (size_t)t * V, V, target, -weight);
    }
}

/* Cross-entropy is the weighted log-likelihood with w = −1/n_targets on every
 * target: ∂(−log p)/∂logits = probs − onehot. */
void r1_train_backward(r1_train_model *m) {
    if (m->mtp_ran) mtp_backward(m); /* first: it uses the blocks' gradient scratch */
    dlogits_job job = {.m = m};
    if (m->targets) r1_pool_for(m->pool, (long)m->B * m->T, target_gradients, &job);
    else memset(m->d.dlogits, 0, (size_t)m->B * m->T * m->cfg.vocab * sizeof(float));
    backward_from_dlogits(m, m->mtp_ran ? m->d.dmtp_h : NULL);
}

/* ---- per-token log-probabilities (the policy-gradient stages) ---- */

int r1_train_token_logprobs(r1_train_model *m, const int *tokens, int B, int T, float *logp, r1_err *err) {
    if (r1_train_forward(m, tokens, NULL, B, T, NULL, err) != R1_OK) return R1_ERR;
    /* probs kept for the backward, as the CE forward does */
    r1_pool_for(m->pool, (long)B * T, score_targets, m);
    for (int row = 0; row < B * T; row++) logp[row] = row % T + 1 < T ? -m->token_nll[row] : 0.0f;
    return R1_OK;
}

/* ∂(w·log p_next)/∂logits = −w·(probs − onehot(next)). */
void r1_train_backward_logprob_weights(r1_train_model *m, const float *weights) {
    dlogits_job job = {.m = m, .weights = weights};
    r1_pool_for(m->pool, (long)m->B * m->T, target_gradients, &job);
    backward_from_dlogits(m, NULL);
}

void r1_train_update_bias(r1_train_model *m, float gamma) {
    int E = m->cfg.n_experts;
    for (int il = m->cfg.n_dense_layers; il < m->n_blocks; il++)
        moe_update_bias(m->expert_bias + (size_t)il * E, m->expert_load + (size_t)il * E, E, gamma);
}

/* ---- export: the metadata keys r1_model_load and llama.cpp read (as gen_random.c
 * writes them for a deepseek2 file), then every tensor as F32 ---- */

static int kv_u32(r1_gguf_writer *w, const char *suffix, int v, r1_err *err) {
    char key[128];
    snprintf(key, sizeof key, "deepseek2.%s", suffix);
    return r1_gguf_writer_kv_u32(w, key, (uint32_t)v, err);
}

static int kv_f32(r1_gguf_writer *w, const char *suffix, float v, r1_err *err) {
    char key[128];
    snprintf(key, sizeof key, "deepseek2.%s", suffix);
    return r1_gguf_writer_kv_f32(w, key, v, err);
}

static int write_hparams(r1_gguf_writer *w, const r1_hparams *hp, r1_err *err) {
    /* new MLA layout: key/value_length describe the cached latent, *_mla the heads */
    return r1_gguf_writer_kv_str(w, "general.architecture", "deepseek2", err) != R1_OK ||
                   r1_gguf_writer_kv_str(w, "general.name", "r1-tiny-trained", err) != R1_OK ||
                   r1_gguf_writer_kv_u32(w, "general.file_type", 0, err) != R1_OK ||
                   r1_gguf_writer_kv_u32(w, "general.quantization_version", 2, err) != R1_OK ||
                   kv_u32(w, "vocab_size", hp->n_vocab, err) != R1_OK ||
                   kv_u32(w, "context_length", hp->ctx_len, err) != R1_OK ||
                   kv_u32(w, "embedding_length", hp->dim, err) != R1_OK ||
                   kv_u32(w, "feed_forward_length", hp->ffn_dim, err) != R1_OK ||
                   kv_u32(w, "block_count", hp->n_layers, err) != R1_OK ||
                   kv_u32(w, "attention.head_count", hp->n_heads, err) != R1_OK ||
                   kv_u32(w, "attention.head_count_kv", hp->n_kv_heads, err) != R1_OK ||
                   kv_f32(w, "rope.freq_base", hp->rope_base, err) != R1_OK ||
                   kv_f32(w, "attention.layer_norm_rms_epsilon", hp->norm_eps, err) != R1_OK ||
                   kv_u32(w, "rope.dimension_count", hp->rope_dims, err) != R1_OK ||
                   kv_u32(w, "attention.q_lora_rank", hp->q_lora_rank, err) != R1_OK ||
                   kv_u32(w, "attention.kv_lora_rank", hp->kv_lora_rank, err) != R1_OK ||
                   kv_u32(w, "attention.key_length", hp->kv_lora_rank + hp->qk_rope_dim, err) != R1_OK ||
                   kv_u32(w, "attention.value_length", hp->kv_lora_rank, err) != R1_OK ||
                   kv_u32(w, "attention.key_length_mla", hp->qk_nope_dim + hp->qk_rope_dim, err) != R1_OK ||
                   kv_u32(w, "attention.value_length_mla", hp->v_head_dim, err) != R1_OK ||
                   kv_u32(w, "leading_dense_block_count", hp->n_dense_layers, err) != R1_OK ||
                   kv_u32(w, "expert_count", hp->n_experts, err) != R1_OK ||
                   kv_u32(w, "expert_used_count", hp->n_experts_used, err) != R1_OK ||
                   kv_u32(w, "expert_shared_count", hp->n_shared_experts, err) != R1_OK ||
                   kv_u32(w, "expert_feed_forward_length", hp->expert_ffn_dim, err) != R1_OK ||
                   kv_u32(w, "expert_group_count", hp->n_groups, err) != R1_OK ||
                   kv_u32(w, "expert_group_used_count", hp->n_groups_used, err) != R1_OK ||
                   kv_u32(w, "expert_gating_func", (int)hp->gating, err) != R1_OK ||
                   kv_f32(w, "expert_weights_scale", hp->weights_scale, err) != R1_OK ||
                   r1_gguf_writer_kv_bool(w, "deepseek2.expert_weights_norm", hp->weights_norm, err) != R1_OK
               ? R1_ERR
               : R1_OK;
}

int r1_train_export_gguf(const r1_train_model *m, const char *path, const r1_gguf *tokenizer_src, r1_err *err) {
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    if (write_hparams(w, &m->hp, err) != R1_OK) goto fail;
    if (tokenizer_src)
        for (uint64_t i = 0; i < tokenizer_src->n_kv; i++) {
            const r1_gguf_kv *kv = &tokenizer_src->kv[i];
            if (kv->key.len > 10 && memcmp(kv->key.data, "tokenizer.", 10) == 0 &&
                r1_gguf_writer_kv_copy(w, kv, err) != R1_OK)
                goto fail;
        }
    /* the MTP module is left out: inference runs the main model alone (V3 §2.2) */
    for (int i = 0; i < m->n_tensors; i++) {
        const r1_train_tensor *t = &m->tensors[i];
        if (!t->mtp && r1_gguf_writer_tensor(w, t->name, t->n_dims, t->ne, R1_TYPE_F32, err) != R1_OK) goto fail;
    }
    if (r1_gguf_writer_begin_data(w, err) != R1_OK) goto fail;
    for (int i = 0; i < m->n_tensors; i++)
        if (!m->tensors[i].mtp &&
            r1_gguf_writer_data_f32(w, m->tensors[i].data, (int64_t)m->tensors[i].size, err) != R1_OK)
            goto fail;
    return r1_gguf_writer_finish(w, err);
fail:
    r1_gguf_writer_abort(w);
    return R1_ERR;
}

/* ---- the engine over the parameters in place ---- */

int r1_train_model_view(const r1_train_model *m, r1_model *engine, r1_err *err) {
    r1_gguf_tensor *views = r1_calloc(err, (size_t)m->n_tensors, sizeof *views, "model view");
    if (!views) return R1_ERR;
    int n_views = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const r1_train_tensor *t = &m->tensors[i];
        if (t->mtp) continue;
        r1_gguf_tensor *v = &views[n_views++];
        v->name = (r1_str){strlen(t->name), t->name};
        v->n_dims = (uint32_t)t->n_dims;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) v->ne[d] = d < 3 && d < t->n_dims ? t->ne[d] : 1;
        v->type = R1_TYPE_F32;
        v->nbytes = t->size * sizeof(float);
        v->data = t->data;
    }
    int rc = r1_model_view(engine, &m->hp, views, (uint64_t)n_views, "trainer parameters", err);
    free(views);
    return rc;
}
