/* The state of one sequence being run: its KV cache and the activation buffers
 * for a batch of up to max_batch tokens, all allocated once at creation. A step
 * may also run the next tokens of several sequences at once (r1_forward_seqs):
 * one state lends its activation buffers, and each token goes to its own
 * sequence's cache and position. */
#ifndef R1_STATE_H
#define R1_STATE_H

#include "model/model.h"
#include "model/ops.h"

typedef struct r1_state {
    const r1_model *model;
    r1_compute *compute;   /* borrowed: pool + activation encoding buffer */
    int n_ctx;             /* cache capacity in tokens */
    int max_batch;         /* tokens per forward step */
    int n_past;            /* tokens already in the cache */
    r1_rope rope;

    /* KV cache, float32.
     * dense: k_cache, v_cache (layer, n_ctx, n_kv_heads*head_dim)
     * MLA:   kv_latent (layer, n_ctx, kv_lora_rank + qk_rope_dim): c_kv then k_rope */
    float *k_cache, *v_cache;
    float *kv_latent;

    /* activations, (max_batch, width) each */
    float *x;          /* residual stream (dim) */
    float *xn;         /* normed input of a block (dim) */
    float *q;          /* queries (H*head_dim) */
    float *k, *v;      /* dense: new keys and values (KV*head_dim) */
    float *q_lora;     /* MLA: query latent (q_lora_rank) */
    float *kv_a;       /* MLA: new latent + rope key (kv_lora_rank + rope) */
    float *attn_out;   /* per-head outputs before W_o (H*v_head_dim) */
    float *block_out;  /* output of attention or FFN before the residual add (dim) */
    float *hidden_gate, *hidden_up; /* FFN hidden (max of ffn widths) */
    float *cos_sin;    /* RoPE angles per token (rope_dims) */

    /* MoE routing and per-expert gathers */
    float *router_logits;  /* (max_batch, E) */
    int *expert_ids;       /* (max_batch, K) */
    float *route_weights;  /* (max_batch, K) */
    float *route_scratch;  /* scores, selection scores, group scores, group flags (2E + 2G) */
    /* the batch's (token, expert) pairs grouped by expert: "slots" (max_batch·K) */
    int *slot_token;       /* which token a slot holds */
    float *slot_weight;    /* its routing weight */
    float *expert_in;      /* gathered inputs (slots, dim) */
    float *expert_gate, *expert_up; /* expert hidden (slots, expert_ffn) */
    float *expert_out;     /* (slots, dim) */

    /* per-thread attention scratch: scores over the context, absorbed query, latent */
    float *thread_scratch;
    size_t thread_scratch_floats;
    int n_threads;

    /* During r1_forward_seqs: token t of the step is the next token of sequence
     * token_seq[t]. NULL: the tokens are this state's own, at n_past, n_past + 1, … */
    struct r1_state *const *token_seq;
} r1_state;

/* Token t of s's step: the state whose cache it is written to and attends over,
 * and its position in that sequence. */
static inline r1_state *r1_token_state(r1_state *s, int t) { return s->token_seq ? s->token_seq[t] : s; }
static inline int r1_token_pos(const r1_state *s, int t) {
    return s->token_seq ? s->token_seq[t]->n_past : s->n_past + t;
}

int r1_state_init(r1_state *s, const r1_model *m, r1_compute *compute, int n_ctx, int max_batch, r1_err *err);
void r1_state_free(r1_state *s);
/* Forgets the cached tokens (the buffers stay). */
void r1_state_reset(r1_state *s);
/* Copies the first n tokens of src's cache into dst, a state of the same model
 * with room for them, and sets dst->n_past = n: one prompt's cache shared by
 * several sequences. */
int r1_state_copy_prefix(r1_state *dst, const r1_state *src, int n, r1_err *err);

/* Runs n tokens after the cached ones. logits receives vocab floats for the last
 * token, or for every token (n × vocab) when all_logits is set; it may be NULL. */
int r1_forward(r1_state *s, const int *tokens, int n, float *logits, int all_logits, r1_err *err);

/* One decoding step of n sequences together: tokens[i] is the next token of
 * seqs[i], which must be distinct states of s's model with room in their caches
 * and contexts no longer than s's. s lends its activation buffers (n ≤
 * s->max_batch) and its cache is untouched unless s is one of seqs. The products
 * take all n tokens in one pass over the weights, which is what makes sampling
 * several completions together faster than one after another (decoding reads
 * every weight for each token). logits receives n rows of vocab floats. */
int r1_forward_seqs(r1_state *s, r1_state *const *seqs, const int *tokens, int n, float *logits, r1_err *err);

/* The blocks, one file each. Each reads s->xn for tokens [0, T) at positions
 * n_past.. and writes s->block_out. */
int r1_attention_dense(r1_state *s, int layer, int T, r1_err *err);
int r1_attention_mla(r1_state *s, int layer, int T, r1_err *err);
int r1_ffn_dense(r1_state *s, const r1_matrix *gate, const r1_matrix *up, const r1_matrix *down, const float *in,
                 int T, float *out, r1_err *err);
int r1_moe(r1_state *s, int layer, int T, r1_err *err);

/* DeepSeekMoE routing of one token (moe.c): from its router logits (E) fills
 * expert_ids (K) and route_weights (K); scratch holds 2E + 2G floats. The trainer
 * routes with the same function. */
void r1_moe_route(const r1_hparams *hp, const float *expert_bias, const float *logits, int *expert_ids,
                  float *route_weights, float *scratch);

#endif
