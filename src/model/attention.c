/* Grouped-query attention with a float32 KV cache (llama, qwen2):
 *   q, k, v = W_q·x + b_q, W_k·x + b_k, W_v·x + b_v;  RoPE on q and k;
 *   out_h = softmax(q_h·K_gᵀ / sqrt(head_dim)) · V_g,  g = h / (H / KV). */
#include <math.h>
#include <string.h>

#include "model/state.h"

typedef struct {
    r1_state *s;
    int layer, T;
} attn_job;

static void add_bias(float *y, const float *bias, int T, int width) {
    if (!bias) return;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < width; i++) y[(size_t)t * width + i] += bias[i];
}

/* One (token, head) pair per work item, split across threads. */
static void attend(void *ctx, int thread, int n_threads) {
    attn_job *job = ctx;
    r1_state *s = job->s;
    const r1_hparams *hp = &s->model->hp;
    int H = hp->n_heads, KV = hp->n_kv_heads, hd = hp->head_dim;
    size_t kv_width = (size_t)KV * hd;
    float *scores = s->thread_scratch + (size_t)thread * s->thread_scratch_floats;
    float scale = 1.0f / sqrtf((float)hd);
    long begin, end;
    r1_split_range((long)job->T * H, thread, n_threads, &begin, &end);
    for (long item = begin; item < end; item++) {
        int t = (int)(item / H), h = (int)(item % H), g = h / (H / KV);
        const r1_state *seq = r1_token_state(s, t);
        const float *k_cache = seq->k_cache + (size_t)job->layer * seq->n_ctx * kv_width;
        const float *v_cache = seq->v_cache + (size_t)job->layer * seq->n_ctx * kv_width;
        int n_keys = r1_token_pos(s, t) + 1;
        const float *q = s->q + ((size_t)t * H + h) * hd;
        r1_dot_f32_rows(hd, q, k_cache + (size_t)g * hd, kv_width, n_keys, scores);
        for (int j = 0; j < n_keys; j++) scores[j] *= scale;
        r1_softmax(scores, n_keys);
        float *out = s->attn_out + ((size_t)t * H + h) * hd;
        memset(out, 0, (size_t)hd * sizeof(float));
        r1_axpy_f32_rows(hd, scores, v_cache + (size_t)g * hd, kv_width, n_keys, out);
    }
}

int r1_attention_dense(r1_state *s, int layer, int T, r1_err *err) {
    const r1_model *m = s->model;
    const r1_hparams *hp = &m->hp;
    const r1_layer *L = &m->layers[layer];
    int H = hp->n_heads, KV = hp->n_kv_heads, hd = hp->head_dim;
    size_t kv_width = (size_t)KV * hd;
    r1_matmul_op qkv[3] = {{&L->wq, s->xn, T, s->q}, {&L->wk, s->xn, T, s->k}, {&L->wv, s->xn, T, s->v}};
    if (r1_matmul_many(s->compute, qkv, 3) != R1_OK) return r1_fail(err, "attention: out of memory");
    add_bias(s->q, L->bq, T, H * hd);
    add_bias(s->k, L->bk, T, (int)kv_width);
    add_bias(s->v, L->bv, T, (int)kv_width);

    for (int t = 0; t < T; t++) {
        const float *cos_sin = s->cos_sin + (size_t)t * hp->rope_dims;
        for (int h = 0; h < H; h++) r1_rope_apply(&s->rope, s->q + ((size_t)t * H + h) * hd, cos_sin);
        for (int g = 0; g < KV; g++) r1_rope_apply(&s->rope, s->k + (size_t)t * kv_width + (size_t)g * hd, cos_sin);
        /* into the cache of the token's sequence, at its layer and position */
        r1_state *seq = r1_token_state(s, t);
        size_t entry = ((size_t)layer * seq->n_ctx + (size_t)r1_token_pos(s, t)) * kv_width;
        memcpy(seq->k_cache + entry, s->k + (size_t)t * kv_width, kv_width * sizeof(float));
        memcpy(seq->v_cache + entry, s->v + (size_t)t * kv_width, kv_width * sizeof(float));
    }

    attn_job job = {s, layer, T};
    r1_pool_run(s->compute->pool, attend, &job);
    if (r1_matmul(s->compute, &L->wo, s->attn_out, T, s->block_out) != R1_OK)
        return r1_fail(err, "attention: out of memory");
    return R1_OK;
}
