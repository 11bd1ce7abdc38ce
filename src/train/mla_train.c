/* Multi-head Latent Attention for training (DeepSeek-V2 §2.1.2, V3 §2.1.1), in the
 * non-absorbed form: per-head keys and values are expanded from the latent,
 *
 *   c_q    = RMSNorm(W_dq·h)                      (q-LoRA; else q = W_q·h)
 *   q      = W_uq·c_q = [q_nope | q_rope]  per head,  q_rope ← RoPE(q_rope)
 *   c_kv   = RMSNorm(W_dkv·h),   k_rope = RoPE(W_kr·h)   (one rope key for all heads)
 *   k_h    = [W_uk,h·c_kv ; k_rope],   v_h = W_uv,h·c_kv
 *   o_h,t  = Σ_{j≤t} softmax_j(q_h,t·k_h,j / sqrt(nope + rope)) v_h,j
 *   out    = W_o·[o_1 … o_H]
 *
 * which equals the engine's absorbed form (mla.c) up to rounding, since
 * q_nope·(W_uk c) = (W_ukᵀ q_nope)·c and Σ a_j W_uv c_j = W_uv Σ a_j c_j.
 * Backward of each step follows its forward in reverse. */
#include <math.h>
#include <string.h>

#include "tensor/types.h"
#include "train/linear.h"
#include "train/tiny_model.h"

/* ---- steps split over the pool by rows that no other thread writes ---- */

typedef struct {
    r1_train_model *m;
    int layer;
} layer_job;

static void run_on_pool(r1_train_model *m, r1_pool_fn fn, int layer) {
    layer_job job = {.m = m, .layer = layer};
    if (m->pool) r1_pool_run(m->pool, fn, &job);
    else fn(&job, 0, 1);
}

/* Where token row (b·T + t) of the batch starts its document, as an index in its
 * row (see r1_train_model.doc_start). */
static int doc_start(const r1_train_model *m, size_t row) { return m->doc_start ? m->doc_start[row] : 0; }

/* att = softmax(q·k·scale) causal, o = Σ att_j v_j over thread's (sequence, head)
 * pairs: each writes only its own rows of att and attn_out. */
static void attention_forward_heads(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    r1_train_acts *a = &m->acts[job->layer];
    int B = m->B, T = m->T, N = B * T, H = c->n_heads, nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope;
    int V = c->v_head;
    float scale = m->rope.attn_scale / sqrtf((float)QK);
    long p0, p1;
    r1_split_range((long)B * H, thread, n_threads, &p0, &p1);
    for (long pair = p0; pair < p1; pair++) {
        int b = (int)(pair / H), h = (int)(pair % H);
        const float *k_nope = a->k_nope + ((size_t)h * N + (size_t)b * T) * nope;
        const float *k_rope = a->k_rope + (size_t)b * T * rope;
        const float *v = a->v + ((size_t)h * N + (size_t)b * T) * V;
        for (int t = 0; t < T; t++) {
            const float *q = a->q + (((size_t)b * T + t) * H + h) * QK;
            float *att = a->att + (((size_t)b * H + h) * T + t) * T;
            int start = doc_start(m, (size_t)b * T + t);
            memset(att, 0, (size_t)T * sizeof(float));
            for (int j = start; j <= t; j++)
                att[j] = (r1_dot_f32(nope, q, k_nope + (size_t)j * nope) +
                          r1_dot_f32(rope, q + nope, k_rope + (size_t)j * rope)) * scale;
            r1_softmax(att + start, t + 1 - start);
            float *o = a->attn_out + (((size_t)b * T + t) * H + h) * V;
            memset(o, 0, (size_t)V * sizeof(float));
            for (int j = start; j <= t; j++) r1_axpy_f32(V, att[j], v + (size_t)j * V, o);
        }
    }
}

/* The backward of attention_forward_heads over thread's sequences: the rope key is
 * shared by the heads, so a sequence's heads stay on one thread, in order, and
 * each sequence has its own dscore scratch. */
static void attention_backward_sequences(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_acts *a = &m->acts[job->layer];
    const r1_train_dacts *d = &m->d;
    int B = m->B, T = m->T, N = B * T, H = c->n_heads, nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope;
    int V = c->v_head;
    float scale = m->rope.attn_scale / sqrtf((float)QK);
    long b0, b1;
    r1_split_range(B, thread, n_threads, &b0, &b1);
    for (long b = b0; b < b1; b++)
        for (int h = 0; h < H; h++) {
            size_t kv_row = (size_t)h * N + (size_t)b * T;
            const float *k_nope = a->k_nope + kv_row * nope, *v = a->v + kv_row * V;
            const float *k_rope = a->k_rope + (size_t)b * T * rope;
            float *dk_nope = d->dk_nope + kv_row * nope, *dv = d->dv + kv_row * V;
            float *dk_rope = d->dk_rope + (size_t)b * T * rope;
            for (int t = 0; t < T; t++) {
                size_t row = ((size_t)b * T + t) * H + h;
                const float *q = a->q + row * QK, *att = a->att + (((size_t)b * H + h) * T + t) * T;
                const float *dout_h = d->dattn_out + row * V;
                float *dq = d->dq + row * QK, *dscore = d->dscore + (size_t)b * 2 * T, *datt = dscore + T;
                int start = doc_start(m, (size_t)b * T + t);
                /* datt_j = do·v_j; dv_j += att_j·do */
                for (int j = start; j <= t; j++) {
                    datt[j] = r1_dot_f32(V, dout_h, v + (size_t)j * V);
                    r1_axpy_f32(V, att[j], dout_h, dv + (size_t)j * V);
                }
                memset(dscore + start, 0, (size_t)(t + 1 - start) * sizeof(float));
                r1_softmax_backward(dscore + start, datt + start, att + start, t + 1 - start);
                for (int j = start; j <= t; j++) {
                    float g = dscore[j] * scale;
                    r1_axpy_f32(nope, g, k_nope + (size_t)j * nope, dq);
                    r1_axpy_f32(rope, g, k_rope + (size_t)j * rope, dq + nope);
                    r1_axpy_f32(nope, g, q, dk_nope + (size_t)j * nope);
                    r1_axpy_f32(rope, g, q + nope, dk_rope + (size_t)j * rope);
                }
            }
        }
}

/* For thread's tokens: rotate the query rope parts, c_kv = RMSNorm(latent), rotate
 * the rope key, and k_nope_h = W_uk,h·c_kv, i.e. Σ_r c[r]·k_b[h][r] with
 * k_b[h] = W_ukᵀ (R rows of nope). */
static void latent_forward_tokens(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[job->layer];
    r1_train_acts *a = &m->acts[job->layer];
    int T = m->T, N = m->B * T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope, rope = c->qk_rope;
    int QK = nope + rope;
    long t0, t1;
    r1_split_range(N, thread, n_threads, &t0, &t1);
    for (long t = t0; t < t1; t++) {
        const float *cos_sin = m->cos_sin + (size_t)(t % T - doc_start(m, (size_t)t)) * rope;
        for (int h = 0; h < H; h++) r1_rope_apply(&m->rope, a->q + ((size_t)t * H + h) * QK + nope, cos_sin);
        const float *kv_a = a->kv_a + (size_t)t * (R + rope);
        float *c_kv = a->c_kv + (size_t)t * R;
        r1_rmsnorm(c_kv, kv_a, L->kv_a_norm, R, c->norm_eps);
        memcpy(a->k_rope + (size_t)t * rope, kv_a + R, (size_t)rope * sizeof(float));
        r1_rope_apply(&m->rope, a->k_rope + (size_t)t * rope, cos_sin);
        for (int h = 0; h < H; h++) {
            const float *k_b = L->k_b + (size_t)h * R * nope;
            float *k_nope = a->k_nope + ((size_t)h * N + t) * nope;
            memset(k_nope, 0, (size_t)nope * sizeof(float));
            for (int r = 0; r < R; r++) r1_axpy_f32(nope, c_kv[r], k_b + (size_t)r * nope, k_nope);
        }
    }
}

/* dc_kv of thread's tokens, head after head: the keys' part k_b[h]·dk_nope_h, then
 * W_uv,hᵀ·dv_h (the dx half of v_b's linear backward, in its order). */
static void latent_backward_tokens(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[job->layer];
    const r1_train_dacts *d = &m->d;
    int N = m->B * m->T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope, V = c->v_head;
    long t0, t1;
    r1_split_range(N, thread, n_threads, &t0, &t1);
    for (long t = t0; t < t1; t++) {
        float *dc_kv = d->dc_kv + (size_t)t * R;
        for (int h = 0; h < H; h++) {
            const float *k_b = L->k_b + (size_t)h * R * nope, *v_b = L->v_b + (size_t)h * V * R;
            const float *dk_nope = d->dk_nope + ((size_t)h * N + t) * nope, *dv = d->dv + ((size_t)h * N + t) * V;
            for (int r = 0; r < R; r++) dc_kv[r] += r1_dot_f32(nope, k_b + (size_t)r * nope, dk_nope);
            for (int o = 0; o < V; o++) r1_axpy_f32(R, dv[o], v_b + (size_t)o * R, dc_kv);
        }
    }
}

/* dk_b[h][r] += Σ_t c_kv[t][r]·dk_nope_h[t] over thread's (head, r) rows, t ascending. */
static void key_weight_backward_rows(void *ctx, int thread, int n_threads) {
    const layer_job *job = ctx;
    const r1_train_model *m = job->m;
    const r1_train_config *c = &m->cfg;
    const r1_train_acts *a = &m->acts[job->layer];
    r1_train_layer *dL = &m->dlayers[job->layer];
    int N = m->B * m->T, H = c->n_heads, R = c->kv_lora_rank, nope = c->qk_nope;
    long row0, row1;
    r1_split_range((long)H * R, thread, n_threads, &row0, &row1);
    for (long row = row0; row < row1; row++) {
        int h = (int)(row / R), r = (int)(row % R);
        float *dk_b = dL->k_b + (size_t)row * nope;
        const float *dk_nope = m->d.dk_nope + (size_t)h * N * nope;
        for (int t = 0; t < N; t++)
            r1_axpy_f32(nope, a->c_kv[(size_t)t * R + r], dk_nope + (size_t)t * nope, dk_b);
    }
}

void mla_forward(r1_train_model *m, int layer, float *out) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[layer];
    r1_train_acts *a = &m->acts[layer];
    int B = m->B, T = m->T, N = B * T, D = c->dim, H = c->n_heads, R = c->kv_lora_rank, Rq = c->q_lora_rank;
    int nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope, V = c->v_head;

    /* queries */
    if (Rq > 0) {
        r1_linear_forward_pool(m->pool, a->q_lora_raw, a->xn_attn, L->q_a, N, D, Rq);
        for (int t = 0; t < N; t++)
            r1_rmsnorm(a->q_lora + (size_t)t * Rq, a->q_lora_raw + (size_t)t * Rq, L->q_a_norm, Rq, c->norm_eps);
        r1_linear_forward_pool(m->pool, a->q, a->q_lora, L->q_b, N, Rq, H * QK);
    } else {
        r1_linear_forward_pool(m->pool, a->q, a->xn_attn, L->q_b, N, D, H * QK);
    }
    /* latent, rope key, and the per-head keys and values expanded from the latent */
    r1_linear_forward_pool(m->pool, a->kv_a, a->xn_attn, L->kv_a, N, D, R + rope);
    run_on_pool(m, latent_forward_tokens, layer);
    for (int h = 0; h < H; h++)
        r1_linear_forward_pool(m->pool, a->v + (size_t)h * N * V, a->c_kv, L->v_b + (size_t)h * V * R, N, R, V);

    /* causal attention within each sequence, one (sequence, head) pair per task */
    run_on_pool(m, attention_forward_heads, layer);
    r1_linear_forward_pool(m->pool, out, a->attn_out, L->wo, N, H * V, D);
}

void mla_backward(r1_train_model *m, int layer, const float *dout, float *dinp) {
    const r1_train_config *c = &m->cfg;
    const r1_train_layer *L = &m->layers[layer];
    r1_train_layer *dL = &m->dlayers[layer];
    r1_train_acts *a = &m->acts[layer];
    r1_train_dacts *d = &m->d;
    int B = m->B, T = m->T, N = B * T, D = c->dim, H = c->n_heads, R = c->kv_lora_rank, Rq = c->q_lora_rank;
    int nope = c->qk_nope, rope = c->qk_rope, QK = nope + rope, V = c->v_head;

    memset(d->dattn_out, 0, (size_t)N * H * V * sizeof(float));
    memset(d->dq, 0, (size_t)N * H * QK * sizeof(float));
    memset(d->dkv_a, 0, (size_t)N * (R + rope) * sizeof(float));
    memset(d->dc_kv, 0, (size_t)N * R * sizeof(float));
    memset(d->dk_rope, 0, (size_t)N * rope * sizeof(float));
    memset(d->dk_nope, 0, (size_t)H * N * nope * sizeof(float));
    memset(d->dv, 0, (size_t)H * N * V * sizeof(float));

    r1_linear_backward_pool(m->pool, d->dattn_out, dL->wo, dout, a->attn_out, L->wo, N, H * V, D);

    /* attention: o = Σ att_j v_j, att = softmax(score), score = q·k·scale */
    run_on_pool(m, attention_backward_sequences, layer);

    /* expanded keys and values → latent */
    run_on_pool(m, latent_backward_tokens, layer);
    run_on_pool(m, key_weight_backward_rows, layer);
    for (int h = 0; h < H; h++)
        r1_linear_backward_pool(m->pool, NULL, dL->v_b + (size_t)h * V * R, d->dv + (size_t)h * N * V, a->c_kv,
                                L->v_b + (size_t)h * V * R, N, R, V);
    /* undo the rotations, then the latent's norm */
    for (int t = 0; t < N; t++) {
        const float *cos_sin = m->cos_sin + (size_t)(t % T - doc_start(m, (size_t)t)) * rope;
        for (int h = 0; h < H; h++) r1_rope_backward(&m->rope, d->dq + ((size_t)t * H + h) * QK + nope, cos_sin);
        float *dk_rope = d->dk_rope + (size_t)t * rope, *dkv_a = d->dkv_a + (size_t)t * (R + rope);
        r1_rope_backward(&m->rope, dk_rope, cos_sin);
        for (int i = 0; i < rope; i++) dkv_a[R + i] += dk_rope[i];
        r1_rmsnorm_backward(dkv_a, dL->kv_a_norm, d->dc_kv + (size_t)t * R, a->kv_a + (size_t)t * (R + rope),
                            L->kv_a_norm, R, c->norm_eps);
    }
    r1_linear_backward_pool(m->pool, dinp, dL->kv_a, d->dkv_a, a->xn_attn, L->kv_a, N, D, R + rope);

    if (Rq > 0) {
        memset(d->dq_lora, 0, (size_t)N * Rq * sizeof(float));
        memset(d->dq_lora_raw, 0, (size_t)N * Rq * sizeof(float));
        r1_linear_backward_pool(m->pool, d->dq_lora, dL->q_b, d->dq, a->q_lora, L->q_b, N, Rq, H * QK);
        for (int t = 0; t < N; t++)
            r1_rmsnorm_backward(d->dq_lora_raw + (size_t)t * Rq, dL->q_a_norm, d->dq_lora + (size_t)t * Rq,
                                a->q_lora_raw + (size_t)t * Rq, L->q_a_norm, Rq, c->norm_eps);
        r1_linear_backward_pool(m->pool, dinp, dL->q_a, d->dq_lora_raw, a->xn_attn, L->q_a, N, D, Rq);
    } else {
        r1_linear_backward_pool(m->pool, dinp, dL->q_b, d->dq, a->xn_attn, L->q_b, N, D, H * QK);
    }
}
