/* The forward pass shared by all architectures: embed, then per layer
 *   x += attention(rmsnorm(x)),  x += ffn(rmsnorm(x))
 * then the output norm and the vocabulary projection. */
#include <string.h>

#include "model/state.h"

static int forward_batch(r1_state *s, const int *tokens, int T, float *logits, int all_logits, r1_err *err) {
    const r1_model *m = s->model;
    const r1_hparams *hp = &m->hp;
    int D = hp->dim;

    for (int t = 0; t < T; t++) {
        r1_matrix_row(&m->tok_embd, tokens[t], s->x + (size_t)t * D);
        r1_rope_angles(&s->rope, r1_token_pos(s, t), s->cos_sin + (size_t)t * hp->rope_dims);
    }

    for (int il = 0; il < hp->n_layers; il++) {
        const r1_layer *L = &m->layers[il];
        for (int t = 0; t < T; t++) r1_rmsnorm(s->xn + (size_t)t * D, s->x + (size_t)t * D, L->attn_norm, D, hp->norm_eps);
        int rc = hp->arch == R1_ARCH_DEEPSEEK2 ? r1_attention_mla(s, il, T, err) : r1_attention_dense(s, il, T, err);
        if (rc != R1_OK) return R1_ERR;
        for (size_t i = 0; i < (size_t)T * D; i++) s->x[i] += s->block_out[i];

        for (int t = 0; t < T; t++) r1_rmsnorm(s->xn + (size_t)t * D, s->x + (size_t)t * D, L->ffn_norm, D, hp->norm_eps);
        rc = L->is_moe ? r1_moe(s, il, T, err)
                       : r1_ffn_dense(s, &L->ffn_gate, &L->ffn_up, &L->ffn_down, s->xn, T, s->block_out, err);
        if (rc != R1_OK) return R1_ERR;
        for (size_t i = 0; i < (size_t)T * D; i++) s->x[i] += s->block_out[i];
    }
    if (s->token_seq)
        for (int t = 0; t < T; t++) s->token_seq[t]->n_past++;
    else s->n_past += T;

    if (!logits) return R1_OK;
    int first = all_logits ? 0 : T - 1;
    int n_out = T - first;
    for (int t = first; t < T; t++)
        r1_rmsnorm(s->xn + (size_t)(t - first) * D, s->x + (size_t)t * D, m->output_norm, D, hp->norm_eps);
    if (r1_matmul(s->compute, &m->output, s->xn, n_out, logits) != R1_OK)
        return r1_fail(err, "forward: out of memory for the output projection");
    return R1_OK;
}

int r1_forward(r1_state *s, const int *tokens, int n, float *logits, int all_logits, r1_err *err) {
    const r1_hparams *hp = &s->model->hp;
    if (n < 1) return r1_fail(err, "forward: no tokens to run");
    if (n > s->n_ctx - s->n_past)
        return r1_fail(err, "forward: %d tokens after %d cached exceed the context of %d tokens", n, s->n_past, s->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return r1_fail(err, "forward: token id %d at position %d is outside the vocabulary (0..%d)", tokens[i], i,
                           hp->n_vocab - 1);
    for (int done = 0; done < n;) {
        int T = n - done < s->max_batch ? n - done : s->max_batch;
        int last_chunk = done + T == n;
        float *out = NULL;
        if (logits && all_logits) out = logits + (size_t)done * hp->n_vocab;
        else if (logits && last_chunk) out = logits;
        if (forward_batch(s, tokens + done, T, out, all_logits, err) != R1_OK) return R1_ERR;
        done += T;
    }
    return R1_OK;
}

int r1_forward_seqs(r1_state *s, r1_state *const *seqs, const int *tokens, int n, float *logits, r1_err *err) {
    const r1_hparams *hp = &s->model->hp;
    if (n < 1 || n > s->max_batch)
        return r1_fail(err, "forward: %d sequences in one step, this state takes 1..%d", n, s->max_batch);
    for (int i = 0; i < n; i++) {
        const r1_state *seq = seqs[i];
        if (seq->model != s->model) return r1_fail(err, "forward: sequence %d runs another model", i);
        if (seq->n_past >= seq->n_ctx)
            return r1_fail(err, "forward: sequence %d is full (%d tokens of context)", i, seq->n_ctx);
        if (seq->n_ctx > s->n_ctx)
            return r1_fail(err, "forward: sequence %d's context of %d is longer than the step state's %d", i,
                           seq->n_ctx, s->n_ctx);
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return r1_fail(err, "forward: token id %d of sequence %d is outside the vocabulary (0..%d)", tokens[i], i,
                           hp->n_vocab - 1);
        for (int j = 0; j < i; j++)
            if (seqs[j] == seq) return r1_fail(err, "forward: sequence %d is also sequence %d of the step", i, j);
    }
    s->token_seq = seqs;
    int rc = forward_batch(s, tokens, n, logits, 1, err);
    s->token_seq = NULL;
    return rc;
}
