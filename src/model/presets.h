/* Model shapes as data: the published DeepSeek-R1 family members (and a tiny one for
 * tests), each with the hyper-parameters the loader reads back from a GGUF file and
 * the list of tensors such a file holds, named and shaped as llama.cpp's converters
 * write them. `r1 gen-random` turns a preset into a random-weight model file. */
#ifndef R1_PRESETS_H
#define R1_PRESETS_H

#include <stdint.h>

#include "model/model.h"

typedef struct {
    const char *name;          /* "r1-distill-qwen-1.5b" */
    const char *description;   /* the model it mirrors */
    /* As r1_model_load will read them back (derived fields included: rope_style,
     * rope_dims, head_dim = qk_nope + qk_rope for MLA, YaRN betas). deepseek2 files
     * use the new MLA layout, attn_k_b + attn_v_b, and head_count_kv = 1. */
    r1_hparams hp;
    int qkv_bias;              /* qwen2: attn_q/k/v biases */
    int tied_output;           /* no output.weight: the output reuses token_embd */
    int expert_bias;           /* exp_probs_b.bias: V3's aux-loss-free selection bias */
    /* Llama 3 rope scaling (factor 0: none), stored as the rope_freqs.weight tensor */
    float llama3_factor;
    float llama3_low_freq_factor, llama3_high_freq_factor;
    int llama3_orig_ctx;
} r1_preset;

int r1_preset_count(void);
const r1_preset *r1_preset_at(int index);
/* NULL when no preset has that name. */
const r1_preset *r1_preset_find(const char *name);

/* What a tensor holds, which decides its type and initial values. */
typedef enum {
    R1_PRESET_MATRIX,     /* a weight matrix (or a stack of them): the file's main type */
    R1_PRESET_ROUTER,     /* ffn_gate_inp: kept F32, as llama.cpp's quantiser does */
    R1_PRESET_NORM,       /* RMSNorm weight, F32 */
    R1_PRESET_BIAS,       /* additive bias, F32 */
    R1_PRESET_ROPE_FREQS, /* llama3 frequency divisors, F32 */
} r1_preset_tensor_kind;

typedef struct {
    char name[64];
    int n_dims;
    int64_t ne[3];        /* ggml order: ne[0] is the row length */
    r1_preset_tensor_kind kind;
} r1_preset_tensor;

/* The tensors of p's file with p->hp.n_layers layers, in file order. Writes them to
 * out (which may be NULL) and returns how many there are. */
int r1_preset_tensors(const r1_preset *p, r1_preset_tensor *out);

/* Elements of all the tensors: the parameter count. */
uint64_t r1_preset_params(const r1_preset *p);

/* The llama3 rule (Meta's Llama 3.1 rope scaling): hp.rope_dims/2 divisors of the
 * rotary frequencies, 1 for short wavelengths, llama3_factor for long ones, smooth
 * in between. */
void r1_preset_llama3_rope_freqs(const r1_preset *p, float *divisors);

#endif
