/* Loading: hyper-parameters from GGUF metadata (nothing hard-coded) and weight
 * views bound by llama.cpp's tensor names, each shape checked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

const char *r1_arch_name(r1_arch a) {
    switch (a) {
    case R1_ARCH_LLAMA: return "llama";
    case R1_ARCH_QWEN2: return "qwen2";
    case R1_ARCH_DEEPSEEK2: return "deepseek2";
    }
    return "?";
}

/* ---- owned buffers ---- */

static void *own(r1_model *m, size_t bytes, r1_err *err) {
    if (m->n_owned == m->cap_owned) {
        int cap = m->cap_owned ? m->cap_owned * 2 : 64;
        void **p = realloc(m->owned, (size_t)cap * sizeof *p);
        if (!p) { r1_fail(err, "out of memory"); return NULL; }
        m->owned = p;
        m->cap_owned = cap;
    }
    void *buf = r1_calloc(err, 1, bytes, "model buffers");
    if (buf) m->owned[m->n_owned++] = buf;
    return buf;
}

/* ---- metadata ---- */

static int key_u32(const r1_model *m, const char *suffix, int *out, r1_err *err) {
    char key[160];
    uint32_t v;
    snprintf(key, sizeof key, "%s.%s", r1_arch_name(m->hp.arch), suffix);
    if (r1_gguf_get_u32(&m->gguf, key, &v, err) != R1_OK) return R1_ERR;
    if (v > (1u << 30)) return r1_fail(err, "model: %s: key '%s' = %u is out of range", m->gguf.path, key, v);
    *out = (int)v;
    return R1_OK;
}

static int key_u32_or(const r1_model *m, const char *suffix, int dflt, int *out, r1_err *err) {
    char key[160];
    uint32_t v;
    snprintf(key, sizeof key, "%s.%s", r1_arch_name(m->hp.arch), suffix);
    if (r1_gguf_get_u32_or(&m->gguf, key, (uint32_t)dflt, &v, err) != R1_OK) return R1_ERR;
    if (v > (1u << 30)) return r1_fail(err, "model: %s: key '%s' = %u is out of range", m->gguf.path, key, v);
    *out = (int)v;
    return R1_OK;
}

static int key_f32_or(const r1_model *m, const char *suffix, float dflt, float *out, r1_err *err) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", r1_arch_name(m->hp.arch), suffix);
    return r1_gguf_get_f32_or(&m->gguf, key, dflt, out, err);
}

static int read_rope_scaling(r1_model *m, r1_err *err) {
    r1_hparams *hp = &m->hp;
    char key[160], type[32] = "none";
    snprintf(key, sizeof key, "%s.rope.scaling.type", r1_arch_name(hp->arch));
    if (r1_gguf_find_kv(&m->gguf, key) && r1_gguf_get_str(&m->gguf, key, type, sizeof type, err) != R1_OK)
        return R1_ERR;
    if (strcmp(type, "none") == 0) return R1_OK;
    if (strcmp(type, "yarn") != 0 || hp->arch != R1_ARCH_DEEPSEEK2)
        return r1_fail(err, "model: %s: rope scaling '%s' is not supported for %s", m->gguf.path, type,
                       r1_arch_name(hp->arch));
    hp->yarn = 1;
    if (key_f32_or(m, "rope.scaling.factor", 1.0f, &hp->yarn_factor, err) != R1_OK ||
        key_u32(m, "rope.scaling.original_context_length", &hp->yarn_orig_ctx, err) != R1_OK ||
        key_f32_or(m, "rope.scaling.yarn_log_multiplier", 0.1f, &hp->yarn_log_mul, err) != R1_OK ||
        key_f32_or(m, "rope.scaling.yarn_beta_fast", 32.0f, &hp->yarn_beta_fast, err) != R1_OK ||
        key_f32_or(m, "rope.scaling.yarn_beta_slow", 1.0f, &hp->yarn_beta_slow, err) != R1_OK)
        return R1_ERR;
    if (!(hp->yarn_factor >= 1.0f) || hp->yarn_orig_ctx < 1)
        return r1_fail(err, "model: %s: YaRN factor %g / original context %d are invalid", m->gguf.path,
                       hp->yarn_factor, hp->yarn_orig_ctx);
    return R1_OK;
}

static int read_hparams(r1_model *m, r1_err *err) {
    r1_hparams *hp = &m->hp;
    char arch[64];
    if (!r1_gguf_find_kv(&m->gguf, "general.architecture") && r1_gguf_find_kv(&m->gguf, "r1.train.stage"))
        return r1_fail(err, "model: %s is a training checkpoint, not a model: use the model.gguf its run writes "
                            "when it finishes (or continue the run with --resume)",
                       m->gguf.path);
    if (r1_gguf_get_str(&m->gguf, "general.architecture", arch, sizeof arch, err) != R1_OK) return R1_ERR;
    if (strcmp(arch, "llama") == 0) hp->arch = R1_ARCH_LLAMA;
    else if (strcmp(arch, "qwen2") == 0) hp->arch = R1_ARCH_QWEN2;
    else if (strcmp(arch, "deepseek2") == 0) hp->arch = R1_ARCH_DEEPSEEK2;
    else
        return r1_fail(err, "model: %s: architecture '%s' is not supported (r1 runs deepseek2, qwen2 and llama)",
                       m->gguf.path, arch);
    if (r1_gguf_find_kv(&m->gguf, "general.name"))
        r1_gguf_get_str(&m->gguf, "general.name", m->name, sizeof m->name, NULL);

    if (key_u32(m, "embedding_length", &hp->dim, err) != R1_OK ||
        key_u32(m, "block_count", &hp->n_layers, err) != R1_OK ||
        key_u32(m, "attention.head_count", &hp->n_heads, err) != R1_OK ||
        key_u32_or(m, "attention.head_count_kv", hp->n_heads, &hp->n_kv_heads, err) != R1_OK ||
        key_u32_or(m, "feed_forward_length", 0, &hp->ffn_dim, err) != R1_OK ||
        key_u32_or(m, "context_length", 4096, &hp->ctx_len, err) != R1_OK ||
        key_f32_or(m, "attention.layer_norm_rms_epsilon", 1e-6f, &hp->norm_eps, err) != R1_OK ||
        key_f32_or(m, "rope.freq_base", 10000.0f, &hp->rope_base, err) != R1_OK)
        return R1_ERR;
    if (hp->dim < 1 || hp->n_layers < 1 || hp->n_heads < 1 || hp->n_kv_heads < 1 || hp->n_heads % hp->n_kv_heads)
        return r1_fail(err, "model: %s: inconsistent shape: dim %d, %d layers, %d heads, %d kv heads", m->gguf.path,
                       hp->dim, hp->n_layers, hp->n_heads, hp->n_kv_heads);
    hp->rope_style = hp->arch == R1_ARCH_QWEN2 ? R1_ROPE_HALF : R1_ROPE_INTERLEAVED;

    if (hp->arch != R1_ARCH_DEEPSEEK2) {
        if (key_u32_or(m, "attention.key_length", hp->dim / hp->n_heads, &hp->head_dim, err) != R1_OK ||
            key_u32_or(m, "rope.dimension_count", hp->head_dim, &hp->rope_dims, err) != R1_OK)
            return R1_ERR;
    } else {
        int key_len, value_len;
        if (key_u32_or(m, "attention.q_lora_rank", 0, &hp->q_lora_rank, err) != R1_OK ||
            key_u32(m, "attention.kv_lora_rank", &hp->kv_lora_rank, err) != R1_OK ||
            key_u32(m, "rope.dimension_count", &hp->qk_rope_dim, err) != R1_OK ||
            key_u32(m, "attention.key_length", &key_len, err) != R1_OK ||
            key_u32(m, "attention.value_length", &value_len, err) != R1_OK ||
            key_u32_or(m, "attention.key_length_mla", key_len, &key_len, err) != R1_OK ||
            key_u32_or(m, "attention.value_length_mla", value_len, &value_len, err) != R1_OK ||
            key_u32_or(m, "leading_dense_block_count", 0, &hp->n_dense_layers, err) != R1_OK ||
            key_u32(m, "expert_count", &hp->n_experts, err) != R1_OK ||
            key_u32(m, "expert_used_count", &hp->n_experts_used, err) != R1_OK ||
            key_u32_or(m, "expert_shared_count", 0, &hp->n_shared_experts, err) != R1_OK ||
            key_u32(m, "expert_feed_forward_length", &hp->expert_ffn_dim, err) != R1_OK ||
            key_u32_or(m, "expert_group_count", 1, &hp->n_groups, err) != R1_OK ||
            key_u32_or(m, "expert_group_used_count", 1, &hp->n_groups_used, err) != R1_OK ||
            key_f32_or(m, "expert_weights_scale", 1.0f, &hp->weights_scale, err) != R1_OK)
            return R1_ERR;
        int gating, norm;
        char key[160];
        if (key_u32_or(m, "expert_gating_func", R1_GATING_SOFTMAX, &gating, err) != R1_OK) return R1_ERR;
        snprintf(key, sizeof key, "deepseek2.expert_weights_norm");
        if (r1_gguf_get_bool_or(&m->gguf, key, 0, &norm, err) != R1_OK) return R1_ERR;
        if (gating != R1_GATING_SOFTMAX && gating != R1_GATING_SIGMOID)
            return r1_fail(err, "model: %s: deepseek2.expert_gating_func = %d is not supported (1 softmax, 2 sigmoid)",
                           m->gguf.path, gating);
        hp->gating = (r1_gating)gating;
        hp->weights_norm = norm;
        hp->rope_dims = hp->qk_rope_dim;
        hp->qk_nope_dim = key_len - hp->qk_rope_dim;
        hp->v_head_dim = value_len;
        hp->head_dim = key_len;
        if (hp->qk_nope_dim < 1 || hp->v_head_dim < 1 || hp->kv_lora_rank < 1)
            return r1_fail(err, "model: %s: MLA shape is inconsistent: key length %d, rope dims %d, value length %d",
                           m->gguf.path, key_len, hp->qk_rope_dim, value_len);
        if (hp->n_experts < 1 || hp->n_experts_used < 1 || hp->n_experts_used > hp->n_experts ||
            hp->n_groups < 1 || hp->n_experts % hp->n_groups || hp->n_groups_used < 1 ||
            hp->n_groups_used > hp->n_groups || hp->n_experts_used > hp->n_groups_used * (hp->n_experts / hp->n_groups))
            return r1_fail(err, "model: %s: MoE routing is inconsistent: %d experts, %d used, %d groups, %d groups used",
                           m->gguf.path, hp->n_experts, hp->n_experts_used, hp->n_groups, hp->n_groups_used);
        if (hp->n_dense_layers > hp->n_layers) hp->n_dense_layers = hp->n_layers;
    }
    if (hp->rope_dims < 2 || hp->rope_dims % 2 || hp->rope_dims > hp->head_dim)
        return r1_fail(err, "model: %s: rope dimension count %d is invalid for head size %d", m->gguf.path,
                       hp->rope_dims, hp->head_dim);
    return read_rope_scaling(m, err);
}

/* ---- tensors ---- */

static const r1_gguf_tensor *find(const r1_model *m, const char *name) {
    return r1_gguf_find_tensor(&m->gguf, name);
}

static int shape_error(const r1_model *m, const r1_gguf_tensor *t, const char *name, int64_t a, int64_t b, int64_t c,
                       r1_err *err) {
    return r1_fail(err, "model: %s: tensor '%s' has shape [%lld, %lld, %lld], expected [%lld, %lld, %lld]",
                   m->gguf.path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)a,
                   (long long)b, (long long)c);
}

/* Binds a 3-d tensor [cols, rows, n] as n matrices of rows × cols. */
static int bind_matrices(r1_model *m, const char *name, int64_t cols, int64_t rows, int64_t n, r1_matrix *out,
                         int required, r1_err *err) {
    const r1_gguf_tensor *t = find(m, name);
    if (!t) {
        if (!required) return R1_OK;
        return r1_fail(err, "model: %s: required tensor '%s' is missing", m->gguf.path, name);
    }
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != n || t->ne[3] != 1)
        return shape_error(m, t, name, cols, rows, n, err);
    const r1_type_traits *tt = r1_type_traits_get(t->type);
    size_t row_bytes = r1_type_row_bytes(tt, cols);
    for (int64_t i = 0; i < n; i++) {
        out[i].type = tt;
        out[i].data = (const uint8_t *)t->data + (size_t)i * (size_t)rows * row_bytes;
        out[i].cols = cols;
        out[i].rows = rows;
        out[i].row_bytes = row_bytes;
    }
    return R1_OK;
}

static int bind_matrix(r1_model *m, const char *name, int64_t cols, int64_t rows, r1_matrix *out, r1_err *err) {
    return bind_matrices(m, name, cols, rows, 1, out, 1, err);
}

/* Norm weights and biases are small: read in place when they are aligned float32
 * (so a view sees later writes to them, r1_model_view), else converted to float32
 * once, whatever their type. */
static int bind_vector(r1_model *m, const char *name, int64_t len, const float **out, int required, r1_err *err) {
    const r1_gguf_tensor *t = find(m, name);
    *out = NULL;
    if (!t) {
        if (!required) return R1_OK;
        return r1_fail(err, "model: %s: required tensor '%s' is missing", m->gguf.path, name);
    }
    if (t->ne[0] != len || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1) return shape_error(m, t, name, len, 1, 1, err);
    if (t->type == R1_TYPE_F32 && (uintptr_t)t->data % _Alignof(float) == 0) {
        *out = t->data;
        return R1_OK;
    }
    float *v = own(m, (size_t)len * sizeof(float), err);
    if (!v) return R1_ERR;
    r1_type_traits_get(t->type)->dequantize(t->data, v, len);
    *out = v;
    return R1_OK;
}

static r1_matrix *alloc_matrices(r1_model *m, int64_t n, r1_err *err) {
    return own(m, (size_t)n * sizeof(r1_matrix), err);
}

/* Old MLA files hold attn_kv_b (H*(nope+v), rank): per head, nope rows of W_uk then
 * v rows of W_uv. W_uv is viewed in place; W_uk is transposed once into float32 so
 * the absorbed query product reads rows of length nope, like the new attn_k_b. */
static int bind_kv_b(r1_model *m, int il, r1_layer *L, r1_err *err) {
    const r1_hparams *hp = &m->hp;
    char name[96];
    int H = hp->n_heads, R = hp->kv_lora_rank, nope = hp->qk_nope_dim, V = hp->v_head_dim;
    L->k_b = alloc_matrices(m, H, err);
    L->v_b = alloc_matrices(m, H, err);
    if (!L->k_b || !L->v_b) return R1_ERR;
    snprintf(name, sizeof name, "blk.%d.attn_k_b.weight", il);
    if (find(m, name)) {
        if (bind_matrices(m, name, nope, R, H, L->k_b, 1, err) != R1_OK) return R1_ERR;
        snprintf(name, sizeof name, "blk.%d.attn_v_b.weight", il);
        return bind_matrices(m, name, R, V, H, L->v_b, 1, err);
    }
    snprintf(name, sizeof name, "blk.%d.attn_kv_b.weight", il);
    r1_matrix kv_b;
    if (bind_matrix(m, name, R, (int64_t)H * (nope + V), &kv_b, err) != R1_OK) return R1_ERR;
    const r1_type_traits *f32 = r1_type_traits_get(R1_TYPE_F32);
    float *row = own(m, (size_t)R * sizeof(float), err);
    float *k_b = own(m, (size_t)H * R * nope * sizeof(float), err);
    if (!row || !k_b) return R1_ERR;
    for (int h = 0; h < H; h++) {
        float *kh = k_b + (size_t)h * R * nope;
        for (int n = 0; n < nope; n++) {
            r1_matrix_row(&kv_b, (int64_t)h * (nope + V) + n, row);
            for (int r = 0; r < R; r++) kh[(size_t)r * nope + n] = row[r];
        }
        L->k_b[h] = (r1_matrix){f32, (const uint8_t *)kh, nope, R, (size_t)nope * sizeof(float)};
        L->v_b[h] = kv_b;
        L->v_b[h].data = kv_b.data + ((size_t)h * (nope + V) + nope) * kv_b.row_bytes;
        L->v_b[h].rows = V;
    }
    return R1_OK;
}

static int bind_layer(r1_model *m, int il, r1_err *err) {
    const r1_hparams *hp = &m->hp;
    r1_layer *L = &m->layers[il];
    char name[96];
#define NAME(fmt) (snprintf(name, sizeof name, "blk.%d." fmt, il), name)
    int D = hp->dim, H = hp->n_heads;
    if (bind_vector(m, NAME("attn_norm.weight"), D, &L->attn_norm, 1, err) != R1_OK ||
        bind_vector(m, NAME("ffn_norm.weight"), D, &L->ffn_norm, 1, err) != R1_OK)
        return R1_ERR;

    if (hp->arch != R1_ARCH_DEEPSEEK2) {
        int hd = hp->head_dim, KV = hp->n_kv_heads;
        if (bind_matrix(m, NAME("attn_q.weight"), D, (int64_t)H * hd, &L->wq, err) != R1_OK ||
            bind_matrix(m, NAME("attn_k.weight"), D, (int64_t)KV * hd, &L->wk, err) != R1_OK ||
            bind_matrix(m, NAME("attn_v.weight"), D, (int64_t)KV * hd, &L->wv, err) != R1_OK ||
            bind_matrix(m, NAME("attn_output.weight"), (int64_t)H * hd, D, &L->wo, err) != R1_OK ||
            bind_vector(m, NAME("attn_q.bias"), (int64_t)H * hd, &L->bq, 0, err) != R1_OK ||
            bind_vector(m, NAME("attn_k.bias"), (int64_t)KV * hd, &L->bk, 0, err) != R1_OK ||
            bind_vector(m, NAME("attn_v.bias"), (int64_t)KV * hd, &L->bv, 0, err) != R1_OK ||
            bind_matrix(m, NAME("ffn_gate.weight"), D, hp->ffn_dim, &L->ffn_gate, err) != R1_OK ||
            bind_matrix(m, NAME("ffn_up.weight"), D, hp->ffn_dim, &L->ffn_up, err) != R1_OK ||
            bind_matrix(m, NAME("ffn_down.weight"), hp->ffn_dim, D, &L->ffn_down, err) != R1_OK)
            return R1_ERR;
        return R1_OK;
    }

    int qk = hp->qk_nope_dim + hp->qk_rope_dim, R = hp->kv_lora_rank;
    if (hp->q_lora_rank > 0) {
        if (bind_matrix(m, NAME("attn_q_a.weight"), D, hp->q_lora_rank, &L->wq_a, err) != R1_OK ||
            bind_vector(m, NAME("attn_q_a_norm.weight"), hp->q_lora_rank, &L->q_a_norm, 1, err) != R1_OK ||
            bind_matrix(m, NAME("attn_q_b.weight"), hp->q_lora_rank, (int64_t)H * qk, &L->wq_b, err) != R1_OK)
            return R1_ERR;
    } else if (bind_matrix(m, NAME("attn_q.weight"), D, (int64_t)H * qk, &L->wq_b, err) != R1_OK) {
        return R1_ERR;
    }
    if (bind_matrix(m, NAME("attn_kv_a_mqa.weight"), D, R + hp->qk_rope_dim, &L->wkv_a, err) != R1_OK ||
        bind_vector(m, NAME("attn_kv_a_norm.weight"), R, &L->kv_a_norm, 1, err) != R1_OK ||
        bind_kv_b(m, il, L, err) != R1_OK ||
        bind_matrix(m, NAME("attn_output.weight"), (int64_t)H * hp->v_head_dim, D, &L->wo, err) != R1_OK)
        return R1_ERR;

    if (il < hp->n_dense_layers) {
        if (hp->ffn_dim < 1) return r1_fail(err, "model: %s: dense layer %d needs feed_forward_length", m->gguf.path, il);
        return bind_matrix(m, NAME("ffn_gate.weight"), D, hp->ffn_dim, &L->ffn_gate, err) != R1_OK ||
                       bind_matrix(m, NAME("ffn_up.weight"), D, hp->ffn_dim, &L->ffn_up, err) != R1_OK ||
                       bind_matrix(m, NAME("ffn_down.weight"), hp->ffn_dim, D, &L->ffn_down, err) != R1_OK
                   ? R1_ERR
                   : R1_OK;
    }
    int E = hp->n_experts, F = hp->expert_ffn_dim, S = hp->n_shared_experts;
    L->is_moe = 1;
    L->exp_gate = alloc_matrices(m, E, err);
    L->exp_up = alloc_matrices(m, E, err);
    L->exp_down = alloc_matrices(m, E, err);
    if (!L->exp_gate || !L->exp_up || !L->exp_down) return R1_ERR;
    if (bind_matrix(m, NAME("ffn_gate_inp.weight"), D, E, &L->router, err) != R1_OK ||
        bind_vector(m, NAME("exp_probs_b.bias"), E, &L->expert_bias, 0, err) != R1_OK ||
        bind_matrices(m, NAME("ffn_gate_exps.weight"), D, F, E, L->exp_gate, 1, err) != R1_OK ||
        bind_matrices(m, NAME("ffn_up_exps.weight"), D, F, E, L->exp_up, 1, err) != R1_OK ||
        bind_matrices(m, NAME("ffn_down_exps.weight"), F, D, E, L->exp_down, 1, err) != R1_OK)
        return R1_ERR;
    if (S > 0 && (bind_matrix(m, NAME("ffn_gate_shexp.weight"), D, (int64_t)F * S, &L->shexp_gate, err) != R1_OK ||
                  bind_matrix(m, NAME("ffn_up_shexp.weight"), D, (int64_t)F * S, &L->shexp_up, err) != R1_OK ||
                  bind_matrix(m, NAME("ffn_down_shexp.weight"), (int64_t)F * S, D, &L->shexp_down, err) != R1_OK))
        return R1_ERR;
    return R1_OK;
#undef NAME
}

static int bind_weights(r1_model *m, r1_err *err) {
    r1_hparams *hp = &m->hp;
    const r1_gguf_tensor *embd = find(m, "token_embd.weight");
    if (!embd) return r1_fail(err, "model: %s: required tensor 'token_embd.weight' is missing", m->gguf.path);
    hp->n_vocab = (int)embd->ne[1];
    if (embd->ne[1] > (1 << 24)) return r1_fail(err, "model: %s: vocabulary of %lld tokens is too large", m->gguf.path, (long long)embd->ne[1]);
    if (bind_matrix(m, "token_embd.weight", hp->dim, hp->n_vocab, &m->tok_embd, err) != R1_OK ||
        bind_vector(m, "output_norm.weight", hp->dim, &m->output_norm, 1, err) != R1_OK)
        return R1_ERR;
    if (find(m, "output.weight")) {
        if (bind_matrix(m, "output.weight", hp->dim, hp->n_vocab, &m->output, err) != R1_OK) return R1_ERR;
    } else {
        m->output = m->tok_embd; /* tied embeddings */
    }
    if (bind_vector(m, "rope_freqs.weight", hp->rope_dims / 2, &m->rope_freq_factors, 0, err) != R1_OK) return R1_ERR;
    m->layers = own(m, (size_t)hp->n_layers * sizeof *m->layers, err);
    if (!m->layers) return R1_ERR;
    for (int il = 0; il < hp->n_layers; il++)
        if (bind_layer(m, il, err) != R1_OK) return R1_ERR;
    for (uint64_t i = 0; i < m->gguf.n_tensors; i++) {
        const r1_gguf_tensor *t = &m->gguf.tensors[i];
        m->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
    }
    return R1_OK;
}

/* m->gguf is open: the rest of loading is the same for a file and a buffer. */
static int load_opened(r1_model *m, r1_err *err) {
    if (read_hparams(m, err) != R1_OK || bind_weights(m, err) != R1_OK) {
        r1_model_free(m);
        return R1_ERR;
    }
    return R1_OK;
}

int r1_model_load(r1_model *m, const char *path, r1_err *err) {
    memset(m, 0, sizeof *m);
    if (r1_gguf_open(&m->gguf, path, err) != R1_OK) return R1_ERR;
    return load_opened(m, err);
}

int r1_model_load_memory(r1_model *m, const void *data, size_t size, const char *name, r1_err *err) {
    memset(m, 0, sizeof *m);
    if (r1_gguf_open_memory(&m->gguf, data, size, name, err) != R1_OK) return R1_ERR;
    return load_opened(m, err);
}

int r1_model_view(r1_model *m, const r1_hparams *hp, const r1_gguf_tensor *tensors, uint64_t n_tensors,
                  const char *name, r1_err *err) {
    memset(m, 0, sizeof *m);
    m->hp = *hp;
    snprintf(m->gguf.path, sizeof m->gguf.path, "%s", name);
    snprintf(m->name, sizeof m->name, "%s", name);
    /* the gguf holds no mapping, only the tensor list, which r1_gguf_close frees */
    m->gguf.tensors = r1_calloc(err, n_tensors ? n_tensors : 1, sizeof *tensors, "model view");
    if (!m->gguf.tensors) return R1_ERR;
    memcpy(m->gguf.tensors, tensors, n_tensors * sizeof *tensors);
    m->gguf.n_tensors = n_tensors;
    if (bind_weights(m, err) != R1_OK) {
        r1_model_free(m);
        return R1_ERR;
    }
    return R1_OK;
}

void r1_model_free(r1_model *m) {
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    r1_gguf_close(&m->gguf);
    memset(m, 0, sizeof *m);
}

size_t r1_model_kv_bytes_per_token(const r1_model *m) {
    const r1_hparams *hp = &m->hp;
    size_t per_layer = hp->arch == R1_ARCH_DEEPSEEK2 ? (size_t)(hp->kv_lora_rank + hp->qk_rope_dim)
                                                     : (size_t)2 * hp->n_kv_heads * hp->head_dim;
    return per_layer * sizeof(float) * (size_t)hp->n_layers;
}
