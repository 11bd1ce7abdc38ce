/* The preset table and the tensor list each preset's file holds. Shapes are the
 * published configs (config.json of each Hugging Face repository). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/presets.h"

static const r1_preset presets[] = {
    {
        .name = "r1-distill-qwen-1.5b",
        .description = "DeepSeek-R1-Distill-Qwen-1.5B (qwen2, dense GQA, q/k/v biases)",
        .hp = {.arch = R1_ARCH_QWEN2, .n_vocab = 151936, .dim = 1536, .n_layers = 28, .n_heads = 12,
               .n_kv_heads = 2, .head_dim = 128, .ffn_dim = 8960, .ctx_len = 131072, .norm_eps = 1e-6f,
               .rope_style = R1_ROPE_HALF, .rope_dims = 128, .rope_base = 10000.0f},
        .qkv_bias = 1,
    },
    {
        .name = "r1-distill-llama-8b",
        .description = "DeepSeek-R1-Distill-Llama-8B (llama, dense GQA, llama3 rope scaling)",
        .hp = {.arch = R1_ARCH_LLAMA, .n_vocab = 128256, .dim = 4096, .n_layers = 32, .n_heads = 32,
               .n_kv_heads = 8, .head_dim = 128, .ffn_dim = 14336, .ctx_len = 131072, .norm_eps = 1e-5f,
               .rope_style = R1_ROPE_INTERLEAVED, .rope_dims = 128, .rope_base = 500000.0f},
        .llama3_factor = 8.0f, .llama3_low_freq_factor = 1.0f, .llama3_high_freq_factor = 4.0f,
        .llama3_orig_ctx = 8192,
    },
    {
        .name = "deepseek-v2-lite",
        .description = "DeepSeek-V2-Lite (deepseek2: MLA without q-LoRA, 64 experts, softmax gating)",
        .hp = {.arch = R1_ARCH_DEEPSEEK2, .n_vocab = 102400, .dim = 2048, .n_layers = 27, .n_heads = 16,
               .n_kv_heads = 1, .head_dim = 192, .ffn_dim = 10944, .ctx_len = 163840, .norm_eps = 1e-6f,
               .rope_style = R1_ROPE_INTERLEAVED, .rope_dims = 64, .rope_base = 10000.0f,
               .yarn = 1, .yarn_factor = 40.0f, .yarn_orig_ctx = 4096, .yarn_log_mul = 0.0707f,
               .yarn_beta_fast = 32.0f, .yarn_beta_slow = 1.0f,
               .q_lora_rank = 0, .kv_lora_rank = 512, .qk_nope_dim = 128, .qk_rope_dim = 64, .v_head_dim = 128,
               .n_dense_layers = 1, .n_experts = 64, .n_experts_used = 6, .n_shared_experts = 2,
               .expert_ffn_dim = 1408, .n_groups = 1, .n_groups_used = 1, .gating = R1_GATING_SOFTMAX,
               .weights_norm = 0, .weights_scale = 1.0f},
    },
    {
        .name = "deepseek-v3",
        .description = "DeepSeek-V3 / R1 (deepseek2: MLA with q-LoRA, 256 experts, sigmoid gating + bias)",
        .hp = {.arch = R1_ARCH_DEEPSEEK2, .n_vocab = 129280, .dim = 7168, .n_layers = 61, .n_heads = 128,
               .n_kv_heads = 1, .head_dim = 192, .ffn_dim = 18432, .ctx_len = 163840, .norm_eps = 1e-6f,
               .rope_style = R1_ROPE_INTERLEAVED, .rope_dims = 64, .rope_base = 10000.0f,
               .yarn = 1, .yarn_factor = 40.0f, .yarn_orig_ctx = 4096, .yarn_log_mul = 0.1f,
               .yarn_beta_fast = 32.0f, .yarn_beta_slow = 1.0f,
               .q_lora_rank = 1536, .kv_lora_rank = 512, .qk_nope_dim = 128, .qk_rope_dim = 64, .v_head_dim = 128,
               .n_dense_layers = 3, .n_experts = 256, .n_experts_used = 8, .n_shared_experts = 1,
               .expert_ffn_dim = 2048, .n_groups = 8, .n_groups_used = 4, .gating = R1_GATING_SIGMOID,
               .weights_norm = 1, .weights_scale = 2.5f},
        .expert_bias = 1,
    },
    {
        .name = "tiny-deepseek",
        .description = "a V3-style deepseek2 of about half a million parameters, for tests",
        .hp = {.arch = R1_ARCH_DEEPSEEK2, .n_vocab = 512, .dim = 128, .n_layers = 2, .n_heads = 4,
               .n_kv_heads = 1, .head_dim = 32, .ffn_dim = 384, .ctx_len = 4096, .norm_eps = 1e-6f,
               .rope_style = R1_ROPE_INTERLEAVED, .rope_dims = 16, .rope_base = 10000.0f,
               .q_lora_rank = 64, .kv_lora_rank = 32, .qk_nope_dim = 16, .qk_rope_dim = 16, .v_head_dim = 16,
               .n_dense_layers = 1, .n_experts = 8, .n_experts_used = 2, .n_shared_experts = 1,
               .expert_ffn_dim = 64, .n_groups = 2, .n_groups_used = 1, .gating = R1_GATING_SIGMOID,
               .weights_norm = 1, .weights_scale = 2.5f},
        .expert_bias = 1,
    },
};

int r1_preset_count(void) { return (int)(sizeof presets / sizeof presets[0]); }

const r1_preset *r1_preset_at(int index) {
    return index >= 0 && index < r1_preset_count() ? &presets[index] : NULL;
}

const r1_preset *r1_preset_find(const char *name) {
    for (int i = 0; i < r1_preset_count(); i++)
        if (strcmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}

/* ---- the tensor list ---- */

typedef struct {
    r1_preset_tensor *out;
    int n;
} tensor_list;

static void add(tensor_list *l, r1_preset_tensor_kind kind, int64_t ne0, int64_t ne1, int64_t ne2,
                const char *fmt, int layer) {
    if (l->out) {
        r1_preset_tensor *t = &l->out[l->n];
        snprintf(t->name, sizeof t->name, fmt, layer);
        t->kind = kind;
        t->ne[0] = ne0;
        t->ne[1] = ne1;
        t->ne[2] = ne2;
        t->n_dims = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1;
    }
    l->n++;
}

/* llama and qwen2: attention with grouped K/V heads, SwiGLU FFN. */
static void dense_layer(tensor_list *l, const r1_preset *p, int il) {
    const r1_hparams *hp = &p->hp;
    int64_t D = hp->dim, q_width = (int64_t)hp->n_heads * hp->head_dim, kv_width = (int64_t)hp->n_kv_heads * hp->head_dim;
    add(l, R1_PRESET_NORM, D, 1, 1, "blk.%d.attn_norm.weight", il);
    add(l, R1_PRESET_MATRIX, D, q_width, 1, "blk.%d.attn_q.weight", il);
    add(l, R1_PRESET_MATRIX, D, kv_width, 1, "blk.%d.attn_k.weight", il);
    add(l, R1_PRESET_MATRIX, D, kv_width, 1, "blk.%d.attn_v.weight", il);
    if (p->qkv_bias) {
        add(l, R1_PRESET_BIAS, q_width, 1, 1, "blk.%d.attn_q.bias", il);
        add(l, R1_PRESET_BIAS, kv_width, 1, 1, "blk.%d.attn_k.bias", il);
        add(l, R1_PRESET_BIAS, kv_width, 1, 1, "blk.%d.attn_v.bias", il);
    }
    add(l, R1_PRESET_MATRIX, q_width, D, 1, "blk.%d.attn_output.weight", il);
    add(l, R1_PRESET_NORM, D, 1, 1, "blk.%d.ffn_norm.weight", il);
    add(l, R1_PRESET_MATRIX, D, hp->ffn_dim, 1, "blk.%d.ffn_gate.weight", il);
    add(l, R1_PRESET_MATRIX, D, hp->ffn_dim, 1, "blk.%d.ffn_up.weight", il);
    add(l, R1_PRESET_MATRIX, hp->ffn_dim, D, 1, "blk.%d.ffn_down.weight", il);
}

/* deepseek2: MLA (DeepSeek-V2 §2.1) in the new layout, then a dense FFN for the
 * leading layers or DeepSeekMoE (router, routed experts stacked in 3-d tensors,
 * shared experts fused into one FFN of S times the expert width). */
static void deepseek2_layer(tensor_list *l, const r1_preset *p, int il) {
    const r1_hparams *hp = &p->hp;
    int64_t D = hp->dim, H = hp->n_heads, R = hp->kv_lora_rank, rope = hp->qk_rope_dim;
    int64_t q_width = H * (hp->qk_nope_dim + rope);
    add(l, R1_PRESET_NORM, D, 1, 1, "blk.%d.attn_norm.weight", il);
    if (hp->q_lora_rank > 0) {
        add(l, R1_PRESET_MATRIX, D, hp->q_lora_rank, 1, "blk.%d.attn_q_a.weight", il);
        add(l, R1_PRESET_NORM, hp->q_lora_rank, 1, 1, "blk.%d.attn_q_a_norm.weight", il);
        add(l, R1_PRESET_MATRIX, hp->q_lora_rank, q_width, 1, "blk.%d.attn_q_b.weight", il);
    } else {
        add(l, R1_PRESET_MATRIX, D, q_width, 1, "blk.%d.attn_q.weight", il);
    }
    add(l, R1_PRESET_MATRIX, D, R + rope, 1, "blk.%d.attn_kv_a_mqa.weight", il);
    add(l, R1_PRESET_NORM, R, 1, 1, "blk.%d.attn_kv_a_norm.weight", il);
    add(l, R1_PRESET_MATRIX, hp->qk_nope_dim, R, H, "blk.%d.attn_k_b.weight", il);
    add(l, R1_PRESET_MATRIX, R, hp->v_head_dim, H, "blk.%d.attn_v_b.weight", il);
    add(l, R1_PRESET_MATRIX, H * hp->v_head_dim, D, 1, "blk.%d.attn_output.weight", il);
    add(l, R1_PRESET_NORM, D, 1, 1, "blk.%d.ffn_norm.weight", il);
    if (il < hp->n_dense_layers) {
        add(l, R1_PRESET_MATRIX, D, hp->ffn_dim, 1, "blk.%d.ffn_gate.weight", il);
        add(l, R1_PRESET_MATRIX, D, hp->ffn_dim, 1, "blk.%d.ffn_up.weight", il);
        add(l, R1_PRESET_MATRIX, hp->ffn_dim, D, 1, "blk.%d.ffn_down.weight", il);
        return;
    }
    int64_t E = hp->n_experts, F = hp->expert_ffn_dim, S = hp->n_shared_experts;
    add(l, R1_PRESET_ROUTER, D, E, 1, "blk.%d.ffn_gate_inp.weight", il);
    if (p->expert_bias) add(l, R1_PRESET_BIAS, E, 1, 1, "blk.%d.exp_probs_b.bias", il);
    add(l, R1_PRESET_MATRIX, D, F, E, "blk.%d.ffn_gate_exps.weight", il);
    add(l, R1_PRESET_MATRIX, D, F, E, "blk.%d.ffn_up_exps.weight", il);
    add(l, R1_PRESET_MATRIX, F, D, E, "blk.%d.ffn_down_exps.weight", il);
    if (S > 0) {
        add(l, R1_PRESET_MATRIX, D, F * S, 1, "blk.%d.ffn_gate_shexp.weight", il);
        add(l, R1_PRESET_MATRIX, D, F * S, 1, "blk.%d.ffn_up_shexp.weight", il);
        add(l, R1_PRESET_MATRIX, F * S, D, 1, "blk.%d.ffn_down_shexp.weight", il);
    }
}

int r1_preset_tensors(const r1_preset *p, r1_preset_tensor *out) {
    const r1_hparams *hp = &p->hp;
    tensor_list l = {out, 0};
    add(&l, R1_PRESET_MATRIX, hp->dim, hp->n_vocab, 1, "token_embd.weight", 0);
    if (p->llama3_factor > 0) add(&l, R1_PRESET_ROPE_FREQS, hp->rope_dims / 2, 1, 1, "rope_freqs.weight", 0);
    for (int il = 0; il < hp->n_layers; il++) {
        if (hp->arch == R1_ARCH_DEEPSEEK2) deepseek2_layer(&l, p, il);
        else dense_layer(&l, p, il);
    }
    add(&l, R1_PRESET_NORM, hp->dim, 1, 1, "output_norm.weight", 0);
    if (!p->tied_output) add(&l, R1_PRESET_MATRIX, hp->dim, hp->n_vocab, 1, "output.weight", 0);
    return l.n;
}

uint64_t r1_preset_params(const r1_preset *p) {
    /* counted layer by layer so no list of ~1000 tensors is needed */
    r1_preset one = *p;
    r1_preset_tensor buf[32];
    uint64_t total = 0;
    for (int il = 0; il < p->hp.n_layers; il++) {
        tensor_list l = {buf, 0};
        if (p->hp.arch == R1_ARCH_DEEPSEEK2) deepseek2_layer(&l, p, il);
        else dense_layer(&l, p, il);
        for (int i = 0; i < l.n; i++) total += (uint64_t)(buf[i].ne[0] * buf[i].ne[1] * buf[i].ne[2]);
    }
    one.hp.n_layers = 0;
    int n = r1_preset_tensors(&one, buf);
    for (int i = 0; i < n; i++) total += (uint64_t)(buf[i].ne[0] * buf[i].ne[1] * buf[i].ne[2]);
    return total;
}

void r1_preset_llama3_rope_freqs(const r1_preset *p, float *divisors) {
    const r1_hparams *hp = &p->hp;
    const double pi = 3.14159265358979323846;
    double low_freq_wavelen = p->llama3_orig_ctx / p->llama3_low_freq_factor;
    double high_freq_wavelen = p->llama3_orig_ctx / p->llama3_high_freq_factor;
    for (int i = 0; i < hp->rope_dims / 2; i++) {
        double freq = pow(hp->rope_base, -2.0 * i / hp->rope_dims);
        double wavelen = 2.0 * pi / freq;
        double divisor;
        if (wavelen < high_freq_wavelen) {
            divisor = 1.0;
        } else if (wavelen > low_freq_wavelen) {
            divisor = p->llama3_factor;
        } else {
            double smooth = (p->llama3_orig_ctx / wavelen - p->llama3_low_freq_factor) /
                            (p->llama3_high_freq_factor - p->llama3_low_freq_factor);
            divisor = 1.0 / ((1.0 - smooth) / p->llama3_factor + smooth);
        }
        divisors[i] = (float)divisor;
    }
}
