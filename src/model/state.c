#include <stdlib.h>
#include <string.h>

#include "model/state.h"

static float *alloc_floats(r1_err *err, size_t n, const char *what) {
    return r1_calloc(err, n ? n : 1, sizeof(float), what);
}

static int max_int(int a, int b) { return a > b ? a : b; }

int r1_state_init(r1_state *s, const r1_model *m, r1_compute *compute, int n_ctx, int max_batch, r1_err *err) {
    memset(s, 0, sizeof *s);
    const r1_hparams *hp = &m->hp;
    s->model = m;
    s->compute = compute;
    s->n_ctx = n_ctx;
    s->max_batch = max_batch;
    s->n_threads = r1_pool_size(compute->pool);
    if (n_ctx < 1 || max_batch < 1) return r1_fail(err, "state: context %d and batch %d must be positive", n_ctx, max_batch);
    if (r1_rope_init(&s->rope, hp, m->rope_freq_factors, err) != R1_OK) return R1_ERR;

    size_t B = (size_t)max_batch, L = (size_t)hp->n_layers, C = (size_t)n_ctx;
    int H = hp->n_heads;
    int ffn_width = hp->ffn_dim;
    if (hp->arch == R1_ARCH_DEEPSEEK2) {
        int R = hp->kv_lora_rank, rope = hp->qk_rope_dim;
        s->kv_latent = alloc_floats(err, L * C * (size_t)(R + rope), "MLA latent KV cache");
        s->q = alloc_floats(err, B * H * (hp->qk_nope_dim + rope), "queries");
        s->q_lora = alloc_floats(err, B * max_int(hp->q_lora_rank, 1), "query latent");
        s->kv_a = alloc_floats(err, B * (R + rope), "kv latent");
        s->attn_out = alloc_floats(err, B * H * hp->v_head_dim, "attention output");
        ffn_width = max_int(ffn_width, hp->expert_ffn_dim * max_int(hp->n_shared_experts, 1));
        s->router_logits = alloc_floats(err, B * hp->n_experts, "router logits");
        s->expert_ids = r1_calloc(err, B * hp->n_experts_used, sizeof(int), "expert ids");
        s->route_weights = alloc_floats(err, B * hp->n_experts_used, "route weights");
        s->route_scratch = alloc_floats(err, 2 * (size_t)hp->n_experts + 2 * (size_t)hp->n_groups, "routing scratch");
        size_t slots = B * hp->n_experts_used;
        s->slot_token = r1_calloc(err, slots, sizeof(int), "expert slots");
        s->slot_weight = alloc_floats(err, slots, "expert slot weights");
        s->expert_in = alloc_floats(err, slots * hp->dim, "expert inputs");
        s->expert_gate = alloc_floats(err, slots * hp->expert_ffn_dim, "expert hidden");
        s->expert_up = alloc_floats(err, slots * hp->expert_ffn_dim, "expert hidden");
        s->expert_out = alloc_floats(err, slots * hp->dim, "expert outputs");
        /* scores over the context, absorbed query (R), latent output (R), encoded activations */
        s->thread_scratch_floats = C + 2 * (size_t)R + 2 * (size_t)max_int(R, hp->qk_nope_dim) + 64;
        if (!s->kv_latent || !s->q || !s->q_lora || !s->kv_a || !s->attn_out || !s->router_logits ||
            !s->expert_ids || !s->route_weights || !s->route_scratch || !s->slot_token || !s->slot_weight || !s->expert_in ||
            !s->expert_gate || !s->expert_up ||
            !s->expert_out)
            goto fail;
    } else {
        size_t kv_width = (size_t)hp->n_kv_heads * hp->head_dim;
        s->k_cache = alloc_floats(err, L * C * kv_width, "key cache");
        s->v_cache = alloc_floats(err, L * C * kv_width, "value cache");
        s->q = alloc_floats(err, B * H * hp->head_dim, "queries");
        s->k = alloc_floats(err, B * kv_width, "keys");
        s->v = alloc_floats(err, B * kv_width, "values");
        s->attn_out = alloc_floats(err, B * H * hp->head_dim, "attention output");
        s->thread_scratch_floats = C;
        if (!s->k_cache || !s->v_cache || !s->q || !s->k || !s->v || !s->attn_out) goto fail;
    }
    s->x = alloc_floats(err, B * hp->dim, "residual stream");
    s->xn = alloc_floats(err, B * hp->dim, "normed input");
    s->block_out = alloc_floats(err, B * hp->dim, "block output");
    s->hidden_gate = alloc_floats(err, B * ffn_width, "FFN hidden");
    s->hidden_up = alloc_floats(err, B * ffn_width, "FFN hidden");
    s->cos_sin = alloc_floats(err, B * hp->rope_dims, "rope angles");
    s->thread_scratch = alloc_floats(err, s->thread_scratch_floats * (size_t)s->n_threads, "attention scratch");
    if (!s->x || !s->xn || !s->block_out || !s->hidden_gate || !s->hidden_up || !s->cos_sin || !s->thread_scratch)
        goto fail;
    return R1_OK;
fail:
    r1_state_free(s);
    return R1_ERR;
}

void r1_state_free(r1_state *s) {
    float *floats[] = {s->k_cache, s->v_cache, s->kv_latent, s->x, s->xn, s->q, s->k, s->v, s->q_lora, s->kv_a,
                       s->attn_out, s->block_out, s->hidden_gate, s->hidden_up, s->cos_sin, s->router_logits,
                       s->route_weights, s->route_scratch, s->slot_weight, s->expert_in, s->expert_gate, s->expert_up, s->expert_out, s->thread_scratch};
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) free(floats[i]);
    free(s->expert_ids);
    free(s->slot_token);
    r1_rope_free(&s->rope);
    memset(s, 0, sizeof *s);
}

void r1_state_reset(r1_state *s) { s->n_past = 0; }

int r1_state_copy_prefix(r1_state *dst, const r1_state *src, int n, r1_err *err) {
    const r1_hparams *hp = &src->model->hp;
    if (dst->model != src->model) return r1_fail(err, "state: copying a cache between two models");
    if (n < 0 || n > src->n_past || n > dst->n_ctx)
        return r1_fail(err, "state: cannot copy %d tokens (%d cached, room for %d)", n, src->n_past, dst->n_ctx);
    size_t width = hp->arch == R1_ARCH_DEEPSEEK2 ? (size_t)hp->kv_lora_rank + hp->qk_rope_dim
                                                 : (size_t)hp->n_kv_heads * hp->head_dim;
    size_t bytes = (size_t)n * width * sizeof(float);
    for (int l = 0; l < hp->n_layers; l++) {
        size_t to = (size_t)l * dst->n_ctx * width, from = (size_t)l * src->n_ctx * width;
        if (hp->arch == R1_ARCH_DEEPSEEK2) {
            memcpy(dst->kv_latent + to, src->kv_latent + from, bytes);
        } else {
            memcpy(dst->k_cache + to, src->k_cache + from, bytes);
            memcpy(dst->v_cache + to, src->v_cache + from, bytes);
        }
    }
    dst->n_past = n;
    return R1_OK;
}
