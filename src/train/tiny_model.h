/* The trainable deepseek2 model (DESIGN §6): the engine's architecture — MLA with
 * q/kv low-rank latents and decoupled RoPE (DeepSeek-V2 §2.1), DeepSeekMoE with a
 * shared expert and sigmoid-routed experts, aux-loss-free bias balancing and the
 * sequence-wise balance loss (DeepSeek-V3 §2.1.2), and optionally one multi-token
 * prediction module (V3 §2.2, mtp_train.c) — in float32, with every block's backward
 * written beside its forward (mla_train.c, moe_train.c, mtp_train.c, model_train.c).
 *
 * Parameters live in one float array, laid out as the GGUF file the engine loads
 * (names and shapes from model/presets.c, so export is a plain write); gradients
 * in a second array with the same layout. The expert selection bias
 * (exp_probs_b.bias) is not a parameter: it is moved by the balancing rule only.
 *
 * Shapes: B sequences × T tokens, N = B·T rows; D dim, H heads, R kv_lora_rank,
 * Rq q_lora_rank, E experts, K experts per token, F hidden widths. Every sequence
 * starts at position 0 and attends causally within itself. */
#ifndef R1_TINY_MODEL_H
#define R1_TINY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "model/ops.h"
#include "train/linear.h"

/* r1_moe_route's scratch, 2E + 2G floats (r1_train_config_check keeps it enough) */
#define R1_TRAIN_ROUTE_SCRATCH 1024

typedef struct {
    int vocab, dim, n_layers, n_dense_layers, n_heads;
    int q_lora_rank;        /* 0: queries straight from attn_q */
    int kv_lora_rank;
    int qk_nope, qk_rope, v_head;
    int ffn_dim;            /* dense FFN of the leading layers */
    int n_experts, top_k, n_shared, expert_ffn;
    int n_groups, n_groups_used;
    float route_scale;      /* expert_weights_scale; weights are normalised (V3) */
    float rope_base, norm_eps;
    int seq_len;            /* T: the longest sequence a forward takes */
    int batch;              /* B: the most sequences a forward takes */
    float balance_alpha;    /* α of the sequence-wise balance loss (V3 eq. 17) */
    float bias_gamma;       /* γ of the aux-loss-free bias update (V3 §2.1.2) */
    float init_std;         /* std of the normal init of matrices, e.g. 0.02 */
    /* λ of the multi-token prediction loss (V3 §2.2, depth 1: one more block that
     * predicts token t+2 from the main model's state at t and token t+1's
     * embedding); 0: no MTP module. The module is trained, checkpointed and
     * discarded on export, as V3 discards it for inference. */
    float mtp_weight;
    /* The precision of the linear layers' products — the query projections, the
     * latent's down-projection attn_kv_a, attn_output, the FFNs and experts, MTP's
     * eh_proj: float, or bfloat16 operands with float sums (twice the multiply-adds
     * per cycle on AVX512_BF16). The output head, the router and attention (with the
     * latent's expansion into keys and values, W_uk and W_uv) stay float, as
     * DeepSeek-V3 keeps its output head, gating and attention in higher precision
     * (§3.3.1). A training choice, not part of the model. */
    r1_linear_precision precision;
} r1_train_config;

/* A few million parameters: dim 256, 4 layers (1 dense), 8 experts top-2. */
r1_train_config r1_train_config_default(void);
/* Transformer blocks: the main model's n_layers, then the MTP module's block
 * (blk.<n_layers>.*, an MoE layer) when mtp_weight > 0. */
int r1_train_config_blocks(const r1_train_config *c);
/* Checks the shapes fit together (and the engine's routing limits). */
int r1_train_config_check(const r1_train_config *c, r1_err *err);
/* The engine's hyper-parameters for this config, as r1_model_load reads them back. */
void r1_train_config_hparams(const r1_train_config *c, r1_hparams *hp);

/* Views of one layer's tensors (into params, or into grads). NULL when absent:
 * q_a/q_a_norm without q-LoRA, ffn_* in MoE layers, router/exp_/sh_ in dense ones. */
typedef struct {
    float *attn_norm;           /* (D) */
    float *q_a;                 /* (Rq, D) */
    float *q_a_norm;            /* (Rq) */
    float *q_b;                 /* (H*(nope+rope), Rq), or attn_q (H*(nope+rope), D) */
    float *kv_a;                /* (R+rope, D): latent then shared rope key */
    float *kv_a_norm;           /* (R) */
    float *k_b;                 /* (H, R, nope): per head W_ukᵀ */
    float *v_b;                 /* (H, V, R):    per head W_uv */
    float *wo;                  /* (D, H*V) */
    float *ffn_norm;            /* (D) */
    float *ffn_gate, *ffn_up;   /* (F, D) */
    float *ffn_down;            /* (D, F) */
    float *router;              /* (E, D) */
    float *exp_gate, *exp_up;   /* (E, Fe, D) */
    float *exp_down;            /* (E, D, Fe) */
    float *sh_gate, *sh_up;     /* (Fe*S, D) */
    float *sh_down;             /* (D, Fe*S) */
} r1_train_layer;

/* One tensor of the file: GGUF name, shape (ne[0] contiguous), where it lives. */
typedef struct {
    char name[64];
    int n_dims;
    int64_t ne[3];
    size_t size;          /* elements */
    float *data;          /* into params, or into expert_bias for exp_probs_b */
    float *grad;          /* into grads; NULL for exp_probs_b (not trained) */
    int decay;            /* matrices: 1; norms: 0 (for the optimizer's mask) */
    int mtp;              /* part of the MTP module: trained and checkpointed, not exported */
} r1_train_tensor;

/* The MTP module's own tensors besides its block (V3 §2.2 eq. 21–23; GGUF names
 * blk.<n_layers>.nextn.*, as llama.cpp names them). The output matrix and the
 * token embedding are the main model's, shared. */
typedef struct {
    float *enorm;           /* (D) RMSNorm of the next token's embedding */
    float *hnorm;           /* (D) RMSNorm of the main model's final state */
    float *eh_proj;         /* (D, 2D) M: [enorm(e); hnorm(h)] → the block's input */
    float *head_norm;       /* (D) shared_head_norm, before the shared output matrix */
} r1_train_mtp;

/* What a layer's forward keeps for its backward (sized for batch × seq_len). */
typedef struct {
    float *x_in;            /* (N, D) residual stream entering the layer */
    float *xn_attn;         /* (N, D) attn_norm(x_in) */
    float *q_lora_raw;      /* (N, Rq) W_dq·h before its norm */
    float *q_lora;          /* (N, Rq) c_q */
    float *q;               /* (N, H, nope+rope), rope part rotated */
    float *kv_a;            /* (N, R+rope) W_dkv·h before norm and rope */
    float *c_kv;            /* (N, R) */
    float *k_rope;          /* (N, rope) rotated */
    float *k_nope;          /* (H, N, nope) W_uk·c_kv */
    float *v;               /* (H, N, V)    W_uv·c_kv */
    float *att;             /* (B, H, T, T) softmax rows, causal; only [start, t] of a row and the zeros
                               the strip products read are written (mla_train.c, causal_rows) */
    float *attn_out;        /* (N, H*V) */
    float *x_mid;           /* (N, D) after attention's residual add */
    float *xn_ffn;          /* (N, D) ffn_norm(x_mid) */
    float *gate_in, *up;    /* (N, F) dense FFN or shared expert, before SwiGLU */
    float *hidden;          /* (N, F) silu(gate)·up */
    float *router_logits;   /* (N, E) */
    float *scores;          /* (N, E) sigmoid(logits) */
    int *expert_ids;        /* (N, K) */
    float *route_weights;   /* (N, K) */
    /* The N·K (token, expert) slots, slot = t·K + k, grouped by expert so that each
     * expert runs as one matrix product: group e holds rows expert_start[e] ..
     * expert_start[e+1]−1, its slots in ascending order. */
    int *expert_start;      /* (E + 1) */
    int *expert_slot;       /* (N·K) row → slot */
    int *slot_row;          /* (N·K) slot → row */
    float *exp_gate_in, *exp_up, *exp_hidden; /* (N·K, Fe) by grouped row */
    float *exp_out;         /* (N·K, D) expert outputs before weighting, by grouped row */
} r1_train_acts;

/* Gradient scratch shared by the layers in the backward (sized once). */
typedef struct {
    float *dres;            /* (N, D) ∂L/∂ residual stream */
    float *dxn;             /* (N, D) */
    float *dattn_out;       /* (N, H*V) */
    float *dq;              /* (N, H*(nope+rope)) */
    float *dq_lora, *dq_lora_raw; /* (N, Rq) */
    float *dkv_a;           /* (N, R+rope) */
    float *dc_kv;           /* (N, R) */
    float *dk_rope;         /* (N, rope) */
    float *dk_nope;         /* (H, N, nope) */
    float *dv;              /* (H, N, V) */
    float *dscore;          /* (B, T, T): per sequence, one head at a time, ∂L/∂att then ∂L/∂score,
                               written as att is */
    float *attn_t;          /* (B, H, max(nope+rope, V), T): a (sequence, head)'s keys (forward) or values
                               (backward) transposed, for the score products */
    float *dgate, *dup, *dhidden; /* (N, max F) */
    float *drouter_logits;  /* (N, E) */
    float *droute_weights;  /* (N, K) */
    float *expert_fraction; /* (E) f_i of one sequence */
    float *exp_x;           /* (N·K, D) the experts' inputs, by grouped row */
    float *dexp_out;        /* (N·K, D) by grouped row */
    float *dexp_x;          /* (N·K, D) ∂L/∂ the experts' inputs, by grouped row */
    float *dexp_gate, *dexp_up, *dexp_hidden; /* (N·K, Fe) by grouped row */
    float *dlogits;         /* (N, vocab) */
    float *dnorm_rows;      /* (N, max(D, R, Rq)) a norm's weight gradient row by row, before the sum */
    float *dmtp_eh;         /* (N, 2D) ∂L/∂[enorm(e); hnorm(h)] */
    float *dmtp_h;          /* (N, D) ∂(λ·MTP loss)/∂ the main model's final state */
} r1_train_dacts;

typedef struct {
    r1_train_config cfg;
    r1_hparams hp;
    int n_tensors;
    r1_train_tensor *tensors;
    size_t n_params;
    float *params, *grads;          /* (n_params) each, one block */
    float *tok_embd, *output_norm, *output;    /* views into params */
    float *dtok_embd, *doutput_norm, *doutput; /* views into grads */
    int n_blocks;                              /* r1_train_config_blocks at init */
    r1_train_layer *layers, *dlayers;          /* (n_blocks) each: n_layers, then the MTP block */
    /* NULL fields without an MTP module; with one, a forward with targets runs it
     * while cfg.mtp_weight > 0 (0 leaves it out of the loss) */
    r1_train_mtp mtp, dmtp;
    float *expert_bias;             /* (blocks, E): exp_probs_b, zero in dense layers */
    float *expert_load;             /* (blocks, E): tokens routed per expert, last forward */
    r1_rope rope;
    float *cos_sin;                 /* (T, rope) angles of positions 0..T−1 */

    r1_train_acts *acts;            /* (blocks) */
    float *x_final, *xn_final;      /* (N, D) */
    float *logits, *probs;          /* (N, vocab) */
    float *token_nll;               /* (N) −log p of each row's next token, where the last forward scored one */
    /* the MTP module's forward (sized when it exists); the block's own in acts[n_layers] */
    int *mtp_targets;               /* (N) token t+2 of row t, or −1 */
    float *mtp_emb;                 /* (N, D) token t+1's embedding, zero where t+1 is in no document */
    float *mtp_eh;                  /* (N, 2D) [enorm(mtp_emb); hnorm(x_final)] */
    float *mtp_x_out;               /* (N, D) the block's output */
    float *mtp_xn;                  /* (N, D) head_norm(mtp_x_out) */
    float *mtp_logits, *mtp_probs;  /* (N, vocab) */
    float *mtp_nll;                 /* (N) */
    float *act_memory;              /* the one block the activations point into */
    int *act_ints;
    r1_train_dacts d;
    float *dact_memory;

    int B, T;                       /* shape of the last forward */
    const int *tokens, *targets;    /* of the last forward (borrowed until backward) */
    /* (B×T) or NULL, set by the caller before a forward and borrowed until the
     * backward: the index in its row where each token's document starts. Packed
     * rows hold several examples; a token attends only within its own document and
     * its RoPE position counts from that document's start, exactly as the engine
     * sees a prompt at inference. Within a row the starts never decrease and never
     * pass the token's own index (attention's strips rely on it, mla_train.c).
     * NULL: each row is one document. */
    const int *doc_start;
    int n_targets;                  /* non-ignored targets of the last forward */
    float ce_loss, balance_loss;    /* the parts of the last forward's loss */
    float mtp_loss;                 /* the MTP module's cross-entropy (before λ), when it ran */
    int mtp_ran;                    /* the last forward ran the MTP module (targets given, λ > 0) */
    int n_mtp_targets;
    /* The share of its batch the next backward's rows are (1 by default). A
     * caller that splits one batch into micro-batches of B_k rows sets B_k / B,
     * so the balance loss — a mean over the batch's sequences — gets the same
     * gradient as one pass over the whole batch would give, not one per part. */
    float balance_share;
    r1_pool *pool;                  /* borrowed; NULL: the calling thread alone */
} r1_train_model;

/* Allocates parameters, gradients and activations once and initialises the
 * parameters from seed: matrices N(0, init_std²), the output projections of each
 * residual branch (attn_output, ffn_down*) scaled by 1/sqrt(2·n_layers), norms 1,
 * expert bias 0. Gradients start at zero. */
int r1_train_model_init(r1_train_model *m, const r1_train_config *cfg, uint64_t seed, r1_err *err);
void r1_train_model_free(r1_train_model *m);
/* Lends the model (after r1_train_model_init) a thread pool for its forward and
 * backward (NULL: none). The results do not depend on it: every sum is taken by
 * one thread in a fixed order. */
void r1_train_model_set_pool(r1_train_model *m, r1_pool *pool);
/* The tensor named name, or NULL. */
r1_train_tensor *r1_train_find_tensor(r1_train_model *m, const char *name);

/* Runs B sequences of T tokens (tokens: B×T row-major) and fills m->logits. With
 * targets (B×T, −1 = ignore) *loss receives the mean cross-entropy over the
 * non-ignored targets plus the balance loss, plus λ times the MTP module's
 * cross-entropy when it has one; targets must stay valid until the backward.
 * loss may be NULL. */
int r1_train_forward(r1_train_model *m, const int *tokens, const int *targets, int B, int T, float *loss,
                     r1_err *err);
void r1_train_zero_grad(r1_train_model *m);
/* Adds ∂loss/∂params of the last forward (which had targets) into m->grads. */
void r1_train_backward(r1_train_model *m);

/* The log-likelihood form (GRPO's policy gradient): */
/* Runs B×T tokens and writes logp[b,t] = log p(tokens[b,t+1] | tokens[b,≤t]) for
 * t < T−1 and 0 at t = T−1. Keeps what the backward needs. */
int r1_train_token_logprobs(r1_train_model *m, const int *tokens, int B, int T, float *logp, r1_err *err);
/* Adds into m->grads the gradient of Σ_{b,t} weights[b,t]·logp[b,t] over the last
 * r1_train_token_logprobs (weights at t = T−1 are ignored), plus that forward's
 * balance loss gradient. A loss Σ ℓ(logp) passes weights = ∂ℓ/∂logp. */
void r1_train_backward_logprob_weights(r1_train_model *m, const float *weights);
/* The aux-loss-free balancing step of every MoE layer, from the last forward's loads:
 * bias_i −= gamma·sign(load_i − mean load) (pretraining passes cfg.bias_gamma). */
void r1_train_update_bias(r1_train_model *m, float gamma);
/* Writes an F32 GGUF that r1_model_load reads as this model. The tokenizer.* keys
 * are copied from tokenizer_src when it is not NULL. */
int r1_train_export_gguf(const r1_train_model *m, const char *path, const r1_gguf *tokenizer_src, r1_err *err);
/* The engine's model over m's parameters in place (r1_model_view): it computes
 * what r1_model_load of the exported file would, and sees every later update of
 * the parameters (and of the expert bias) without being rebuilt. Valid while m
 * lives; free with r1_model_free. */
int r1_train_model_view(const r1_train_model *m, r1_model *engine, r1_err *err);

/* ---- the blocks (one file each), forward and backward side by side ----
 * Backwards add (+=) into parameter gradients and write dinp (=), by a first
 * product that sets it (R1_GEMM_SET) or by zeroing it: the caller need not. */

/* model_train.c: one transformer block, x_out (N, D) = x_in + MLA(attn_norm(x_in)),
 * then += FFN or MoE(ffn_norm(·)), with x_in = m->acts[layer].x_in; the backward
 * turns m->d.dres from ∂L/∂x_out into ∂L/∂x_in. */
void block_forward(r1_train_model *m, int layer, float *x_out);
void block_backward(r1_train_model *m, int layer);

/* mtp_train.c: the MTP module over m->x_final, its loss into m->mtp_loss (needs
 * m->targets); the backward adds λ·∂(MTP loss) into the parameters' gradients and
 * leaves its part of ∂L/∂x_final in m->d.dmtp_h. */
void mtp_forward(r1_train_model *m);
void mtp_backward(r1_train_model *m);

/* mla_train.c: out (N, D) = MLA(a->xn_attn), causal within each sequence. */
void mla_forward(r1_train_model *m, int layer, float *out);
void mla_backward(r1_train_model *m, int layer, const float *dout, float *dinp);

/* moe_train.c: dense SwiGLU FFN and DeepSeekMoE over a->xn_ffn into out (N, D). */
void ffn_forward(r1_train_model *m, int layer, float *out);
void ffn_backward(r1_train_model *m, int layer, const float *dout, float *dinp);
/* Also adds the layer's sequence-wise balance loss to m->balance_loss and its
 * token counts to m->expert_load. */
void moe_forward(r1_train_model *m, int layer, float *out);
void moe_backward(r1_train_model *m, int layer, const float *dout, float *dinp);
/* b_i −= γ·sign(load_i − mean load) over E experts (DeepSeek-V3 §2.1.2). */
void moe_update_bias(float *expert_bias, const float *load, int E, float gamma);

#endif
