/* Multi-head Latent Attention, absorbed form (DeepSeek-V2 §2.1.2, V3 §2.1.1).
 *
 *   c_q    = RMSNorm(W_dq·h)                 (when q_lora_rank > 0)
 *   q      = W_uq·c_q  = [q_nope | q_rope]   per head; q_rope = RoPE(q_rope)
 *   c_kv   = RMSNorm(W_dkv·h),  k_rope = RoPE(W_kr·h)   ← the only things cached
 *   score  = ((W_ukᵀ q_nope)·c_kv + q_rope·k_rope) / sqrt(nope + rope) · mscale²
 *   o_h    = W_uv · Σ_j softmax(score)_j c_kv_j,    out = W_o·[o_1 … o_H]
 *
 * Keys and values are never expanded per head: the cache holds
 * kv_lora_rank + rope values per token per layer. */
#include <math.h>
#include <string.h>

#include "model/state.h"

typedef struct {
    r1_state *s;
    int layer, T;
} mla_job;

enum { KEY_CHUNK = 64 }; /* keys whose rope scores are summed in from one stack buffer */

static void attend_latent(void *ctx, int thread, int n_threads) {
    mla_job *job = ctx;
    r1_state *s = job->s;
    const r1_hparams *hp = &s->model->hp;
    const r1_layer *L = &s->model->layers[job->layer];
    int H = hp->n_heads, R = hp->kv_lora_rank, nope = hp->qk_nope_dim, rope = hp->qk_rope_dim, V = hp->v_head_dim;
    size_t width = (size_t)R + rope;
    float scale = s->rope.attn_scale / sqrtf((float)(nope + rope));

    float *scores = s->thread_scratch + (size_t)thread * s->thread_scratch_floats;
    float *q_abs = scores + s->n_ctx;
    float *latent = q_abs + R;
    void *encoded = latent + R;

    long begin, end;
    r1_split_range((long)job->T * H, thread, n_threads, &begin, &end);
    for (long item = begin; item < end; item++) {
        int t = (int)(item / H), h = (int)(item % H);
        const r1_state *seq = r1_token_state(s, t);
        const float *cache = seq->kv_latent + (size_t)job->layer * seq->n_ctx * width;
        int n_keys = r1_token_pos(s, t) + 1;
        const float *q = s->q + ((size_t)t * H + h) * (nope + rope);
        /* absorb W_uk into the query: q_abs = W_ukᵀ q_nope, one row of k_b per latent dim */
        r1_encode_act(&L->k_b[h], q, encoded);
        r1_matvec_rows(&L->k_b[h], encoded, q_abs, 0, R);
        /* score_j = (q_abs·c_kv_j + q_rope·k_rope_j)·scale, the rope halves a chunk of keys at a time */
        r1_dot_f32_rows(R, q_abs, cache, width, n_keys, scores);
        for (int j0 = 0; j0 < n_keys; j0 += KEY_CHUNK) {
            int n_chunk = n_keys - j0 < KEY_CHUNK ? n_keys - j0 : KEY_CHUNK;
            float rope_part[KEY_CHUNK];
            r1_dot_f32_rows(rope, q + nope, cache + (size_t)j0 * width + R, width, n_chunk, rope_part);
            for (int j = 0; j < n_chunk; j++) scores[j0 + j] = (scores[j0 + j] + rope_part[j]) * scale;
        }
        r1_softmax(scores, n_keys);
        memset(latent, 0, (size_t)R * sizeof(float));
        r1_axpy_f32_rows(R, scores, cache, width, n_keys, latent);
        /* expand the attended latent into this head's value space */
        r1_encode_act(&L->v_b[h], latent, encoded);
        r1_matvec_rows(&L->v_b[h], encoded, s->attn_out + ((size_t)t * H + h) * V, 0, V);
    }
}

int r1_attention_mla(r1_state *s, int layer, int T, r1_err *err) {
    const r1_model *m = s->model;
    const r1_hparams *hp = &m->hp;
    const r1_layer *L = &m->layers[layer];
    int H = hp->n_heads, R = hp->kv_lora_rank, nope = hp->qk_nope_dim, rope = hp->qk_rope_dim;
    size_t width = (size_t)R + rope;
    r1_compute *c = s->compute;

    /* the down-projections both read h: one pass */
    r1_matmul_op down[2] = {{&L->wkv_a, s->xn, T, s->kv_a},
                            hp->q_lora_rank > 0 ? (r1_matmul_op){&L->wq_a, s->xn, T, s->q_lora}
                                                : (r1_matmul_op){&L->wq_b, s->xn, T, s->q}};
    if (r1_matmul_many(c, down, 2) != R1_OK) goto oom;
    if (hp->q_lora_rank > 0) {
        for (int t = 0; t < T; t++) {
            float *ql = s->q_lora + (size_t)t * hp->q_lora_rank;
            r1_rmsnorm(ql, ql, L->q_a_norm, hp->q_lora_rank, hp->norm_eps);
        }
        if (r1_matmul(c, &L->wq_b, s->q_lora, T, s->q) != R1_OK) goto oom;
    }

    for (int t = 0; t < T; t++) {
        const float *cos_sin = s->cos_sin + (size_t)t * hp->rope_dims;
        for (int h = 0; h < H; h++) r1_rope_apply(&s->rope, s->q + ((size_t)t * H + h) * (nope + rope) + nope, cos_sin);
        r1_state *seq = r1_token_state(s, t);
        float *entry = seq->kv_latent + ((size_t)layer * seq->n_ctx + (size_t)r1_token_pos(s, t)) * width;
        const float *kv_a = s->kv_a + (size_t)t * width;
        r1_rmsnorm(entry, kv_a, L->kv_a_norm, R, hp->norm_eps);
        memcpy(entry + R, kv_a + R, (size_t)rope * sizeof(float));
        r1_rope_apply(&s->rope, entry + R, cos_sin);
    }

    mla_job job = {s, layer, T};
    r1_pool_run(c->pool, attend_latent, &job);
    if (r1_matmul(c, &L->wo, s->attn_out, T, s->block_out) != R1_OK) goto oom;
    return R1_OK;
oom:
    return r1_fail(err, "attention: out of memory");
}
