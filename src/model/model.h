/* A loaded model: hyper-parameters read from GGUF metadata and weight views into
 * the mapped file. Three architectures: llama and qwen2 (dense GQA transformers,
 * the R1-Distill models) and deepseek2 (MLA + DeepSeekMoE: V2, V3, R1). */
#ifndef R1_MODEL_H
#define R1_MODEL_H

#include "base/error.h"
#include "gguf/gguf.h"
#include "tensor/matmul.h"

typedef enum { R1_ARCH_LLAMA, R1_ARCH_QWEN2, R1_ARCH_DEEPSEEK2 } r1_arch;
typedef enum { R1_ROPE_INTERLEAVED, R1_ROPE_HALF } r1_rope_style; /* llama.cpp's NORM / NEOX */
typedef enum { R1_GATING_SOFTMAX = 1, R1_GATING_SIGMOID = 2 } r1_gating;

typedef struct {
    r1_arch arch;
    int n_vocab;
    int dim;             /* embedding width */
    int n_layers;
    int n_heads;
    int n_kv_heads;      /* dense GQA only */
    int head_dim;        /* dense: per-head q/k/v width */
    int ffn_dim;         /* dense FFN hidden width */
    int ctx_len;         /* training context length */
    float norm_eps;

    /* RoPE */
    r1_rope_style rope_style;
    int rope_dims;       /* rotated dims per head (deepseek2: qk_rope_dim) */
    float rope_base;
    int yarn;            /* YaRN scaling (DeepSeek-V2/V3) */
    float yarn_factor;
    int yarn_orig_ctx;
    float yarn_log_mul;  /* 0.1 * mscale_all_dim: softmax gets (1 + log_mul·ln factor)² */
    float yarn_beta_fast, yarn_beta_slow;

    /* MLA (deepseek2) */
    int q_lora_rank;     /* 0: queries straight from attn_q */
    int kv_lora_rank;
    int qk_nope_dim;
    int qk_rope_dim;
    int v_head_dim;

    /* DeepSeekMoE (deepseek2) */
    int n_dense_layers;  /* leading layers with a dense FFN */
    int n_experts;
    int n_experts_used;
    int n_shared_experts;
    int expert_ffn_dim;
    int n_groups, n_groups_used;
    r1_gating gating;
    int weights_norm;
    float weights_scale;
} r1_hparams;

typedef struct {
    const float *attn_norm;   /* (dim) */
    const float *ffn_norm;    /* (dim) */

    /* dense attention (llama, qwen2) */
    r1_matrix wq, wk, wv;     /* (H*hd, dim), (KV*hd, dim), (KV*hd, dim) */
    const float *bq, *bk, *bv;/* qwen2 biases, NULL for llama */
    r1_matrix wo;             /* (dim, H*hd) — deepseek2: (dim, H*v_head_dim) */

    /* MLA (deepseek2) */
    r1_matrix wq_a;           /* (q_lora_rank, dim), when q_lora_rank > 0 */
    const float *q_a_norm;    /* (q_lora_rank) */
    r1_matrix wq_b;           /* (H*(nope+rope), q_lora_rank), or attn_q (H*(nope+rope), dim) */
    r1_matrix wkv_a;          /* (kv_lora_rank + rope, dim): latent c_kv and shared k_rope */
    const float *kv_a_norm;   /* (kv_lora_rank) */
    r1_matrix *k_b;           /* per head (kv_lora_rank, nope): W_ukᵀ, absorbs into the query */
    r1_matrix *v_b;           /* per head (v_head_dim, kv_lora_rank): W_uv */

    /* FFN: dense layers use ffn_*; MoE layers the router, experts and shared experts */
    r1_matrix ffn_gate, ffn_up, ffn_down;          /* (ffn, dim), (ffn, dim), (dim, ffn) */
    r1_matrix router;                              /* (E, dim) */
    const float *expert_bias;                      /* (E) exp_probs_b: selection only, or NULL */
    r1_matrix *exp_gate, *exp_up, *exp_down;       /* per expert (eff, dim), (eff, dim), (dim, eff) */
    r1_matrix shexp_gate, shexp_up, shexp_down;    /* (eff*S, dim), ..., (dim, eff*S) */
    int is_moe;
} r1_layer;

typedef struct {
    r1_gguf gguf;
    r1_hparams hp;
    char name[128];
    r1_matrix tok_embd;        /* (n_vocab, dim) */
    const float *output_norm;  /* (dim) */
    r1_matrix output;          /* (n_vocab, dim), token_embd when tied */
    const float *rope_freq_factors; /* llama3 rope_freqs (rope_dims/2) or NULL */
    r1_layer *layers;
    void **owned;              /* buffers made at load (converted vectors, matrices) */
    int n_owned, cap_owned;
    uint64_t n_params;
} r1_model;

int r1_model_load(r1_model *m, const char *path, r1_err *err);
/* From a GGUF already in memory (see r1_gguf_open_memory); the weights stay views
 * into data, which must outlive m. */
int r1_model_load_memory(r1_model *m, const void *data, size_t size, const char *name, r1_err *err);
/* A model over tensors already in memory (the trainer's parameters, say): hp as
 * given (not read from metadata), the tensors (name, shape, type, data) bound by
 * name as r1_model_load binds a file's. Float32 tensors are used in place, not
 * copied (but for an old-layout attn_kv_b, transposed once), so the model computes
 * with whatever they hold at the time of each call. The tensors' names and data
 * must outlive m; name labels error messages. */
int r1_model_view(r1_model *m, const r1_hparams *hp, const r1_gguf_tensor *tensors, uint64_t n_tensors,
                  const char *name, r1_err *err);
void r1_model_free(r1_model *m);
const char *r1_arch_name(r1_arch a);

/* Bytes of KV cache one token takes across all layers (float32 entries). */
size_t r1_model_kv_bytes_per_token(const r1_model *m);

#endif
