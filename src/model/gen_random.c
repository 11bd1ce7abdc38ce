/* gen-random: a preset's tensors filled from a seeded generator, with the metadata
 * and a byte-level tokenizer llama.cpp accepts, streamed through the GGUF writer a
 * chunk of rows at a time (memory stays at a few MB even for DeepSeek-V3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/writer.h"
#include "model/gen_random.h"
#include "tokenizer/bpe.h"

#define CHUNK_FLOATS (1 << 20) /* values generated and quantised per writer call */

/* ---- the generator: splitmix64 (Steele, Lea & Flood 2014), two uniforms per draw ---- */

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-scale, scale): 24 random bits per value. */
static void fill_uniform(rng *r, float *out, int64_t n, float scale) {
    const float unit = 2.0f / 16777216.0f;
    int64_t i = 0;
    for (; i + 1 < n; i += 2) {
        uint64_t x = rng_next(r);
        out[i] = ((float)(x >> 40) * unit - 1.0f) * scale;
        out[i + 1] = ((float)((x >> 16) & 0xFFFFFF) * unit - 1.0f) * scale;
    }
    if (i < n) out[i] = ((float)(rng_next(r) >> 40) * unit - 1.0f) * scale;
}

/* Each tensor has its own stream, keyed by its name: the values of blk.0 do not
 * change when the layer count or the storage type does. */
static rng tensor_rng(uint64_t seed, const char *name) {
    uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a */
    for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
    rng r = {seed ^ h};
    rng_next(&r);
    return r;
}

/* ---- storage types ---- */

/* Norms, biases and rope factors stay float32; matrices as r1_type_for_row says. */
static r1_type storage_type(const r1_preset_tensor *t, r1_type want) {
    return t->kind == R1_PRESET_MATRIX ? r1_type_for_row(want, t->ne[0]) : R1_TYPE_F32;
}

/* ---- tokenizer: GPT-2 byte-level tokens, DeepSeek's specials, placeholders ---- */

enum { TOKEN_NORMAL = 1, TOKEN_CONTROL = 3, TOKEN_USER_DEFINED = 4, TOKEN_UNUSED = 5 };

static const char *const special_tokens[] = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<think>", "</think>"};
/* BOS/EOS are control tokens; the think tags are plain added tokens (user-defined),
 * as llama.cpp's converter types them in the R1 files. */
static const int special_types[] = {TOKEN_CONTROL, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_USER_DEFINED};

static int write_tokenizer(r1_gguf_writer *w, int n_vocab, r1_err *err) {
    const char *placeholder = "<｜place▁holder▁no▁%d｜>";
    size_t per_token = strlen(placeholder) + 12;
    char *text = r1_malloc(err, (size_t)n_vocab * per_token, "tokenizer text");
    const char **tokens = r1_calloc(err, (size_t)n_vocab, sizeof *tokens, "tokenizer tokens");
    int32_t *types = r1_calloc(err, (size_t)n_vocab, sizeof *types, "tokenizer token types");
    int rc = R1_ERR;
    if (!text || !tokens || !types) goto done;
    char *p = text;
    for (int i = 0; i < n_vocab; i++) {
        tokens[i] = p;
        if (i < 256) {
            p += r1_bytelevel_spell_byte((uint8_t)i, p) + 1;
            types[i] = TOKEN_NORMAL;
        } else if (i < R1_GEN_MIN_VOCAB) {
            p += sprintf(p, "%s", special_tokens[i - 256]) + 1;
            types[i] = special_types[i - 256];
        } else {
            p += sprintf(p, placeholder, i - R1_GEN_MIN_VOCAB) + 1;
            types[i] = TOKEN_UNUSED;
        }
    }
    const char *no_merges = NULL;
    rc = r1_gguf_writer_kv_str(w, "tokenizer.ggml.model", "gpt2", err) != R1_OK ||
                 r1_gguf_writer_kv_str(w, "tokenizer.ggml.pre", "default", err) != R1_OK ||
                 r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.tokens", tokens, (uint64_t)n_vocab, err) != R1_OK ||
                 r1_gguf_writer_kv_array(w, "tokenizer.ggml.token_type", GGUF_INT32, types, (uint64_t)n_vocab,
                                         err) != R1_OK ||
                 r1_gguf_writer_kv_str_array(w, "tokenizer.ggml.merges", &no_merges, 0, err) != R1_OK ||
                 r1_gguf_writer_kv_u32(w, "tokenizer.ggml.bos_token_id", R1_GEN_BOS, err) != R1_OK ||
                 r1_gguf_writer_kv_u32(w, "tokenizer.ggml.eos_token_id", R1_GEN_EOS, err) != R1_OK ||
                 r1_gguf_writer_kv_bool(w, "tokenizer.ggml.add_bos_token", 1, err) != R1_OK ||
                 r1_gguf_writer_kv_bool(w, "tokenizer.ggml.add_eos_token", 0, err) != R1_OK
             ? R1_ERR
             : R1_OK;
done:
    free(text);
    free(tokens);
    free(types);
    return rc;
}

/* ---- metadata: the keys r1's loader and llama.cpp read, under llama.cpp's names ---- */

static int kv_arch_u32(r1_gguf_writer *w, const char *arch, const char *suffix, uint32_t v, r1_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return r1_gguf_writer_kv_u32(w, key, v, err);
}

static int kv_arch_f32(r1_gguf_writer *w, const char *arch, const char *suffix, float v, r1_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return r1_gguf_writer_kv_f32(w, key, v, err);
}

static int write_hparams(r1_gguf_writer *w, const r1_preset *p, r1_type type, r1_err *err) {
    const r1_hparams *hp = &p->hp;
    const char *arch = r1_arch_name(hp->arch);
    char name[128];
    snprintf(name, sizeof name, "%s-random-%s", p->name, r1_type_traits_get(type)->name);
    if (r1_gguf_writer_kv_str(w, "general.architecture", arch, err) != R1_OK ||
        r1_gguf_writer_kv_str(w, "general.name", name, err) != R1_OK ||
        r1_gguf_writer_kv_u32(w, "general.file_type", r1_gguf_file_type(type), err) != R1_OK ||
        r1_gguf_writer_kv_u32(w, "general.quantization_version", 2, err) != R1_OK ||
        kv_arch_u32(w, arch, "vocab_size", (uint32_t)hp->n_vocab, err) != R1_OK ||
        kv_arch_u32(w, arch, "context_length", (uint32_t)hp->ctx_len, err) != R1_OK ||
        kv_arch_u32(w, arch, "embedding_length", (uint32_t)hp->dim, err) != R1_OK ||
        kv_arch_u32(w, arch, "feed_forward_length", (uint32_t)hp->ffn_dim, err) != R1_OK ||
        kv_arch_u32(w, arch, "block_count", (uint32_t)hp->n_layers, err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.head_count", (uint32_t)hp->n_heads, err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.head_count_kv", (uint32_t)hp->n_kv_heads, err) != R1_OK ||
        kv_arch_f32(w, arch, "rope.freq_base", hp->rope_base, err) != R1_OK ||
        kv_arch_f32(w, arch, "attention.layer_norm_rms_epsilon", hp->norm_eps, err) != R1_OK ||
        kv_arch_u32(w, arch, "rope.dimension_count", (uint32_t)hp->rope_dims, err) != R1_OK)
        return R1_ERR;
    if (hp->arch != R1_ARCH_DEEPSEEK2) {
        if (hp->head_dim * hp->n_heads == hp->dim) return R1_OK;
        return kv_arch_u32(w, arch, "attention.key_length", (uint32_t)hp->head_dim, err) != R1_OK ||
                       kv_arch_u32(w, arch, "attention.value_length", (uint32_t)hp->head_dim, err) != R1_OK
                   ? R1_ERR
                   : R1_OK;
    }
    /* new MLA layout: key/value_length describe the cached latent (kv_lora_rank +
     * rope dims, kv_lora_rank); the *_mla keys hold the per-head sizes */
    if (kv_arch_u32(w, arch, "attention.q_lora_rank", (uint32_t)hp->q_lora_rank, err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.kv_lora_rank", (uint32_t)hp->kv_lora_rank, err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.key_length", (uint32_t)(hp->kv_lora_rank + hp->qk_rope_dim), err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.value_length", (uint32_t)hp->kv_lora_rank, err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.key_length_mla", (uint32_t)(hp->qk_nope_dim + hp->qk_rope_dim), err) != R1_OK ||
        kv_arch_u32(w, arch, "attention.value_length_mla", (uint32_t)hp->v_head_dim, err) != R1_OK ||
        kv_arch_u32(w, arch, "leading_dense_block_count", (uint32_t)hp->n_dense_layers, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_count", (uint32_t)hp->n_experts, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_used_count", (uint32_t)hp->n_experts_used, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_shared_count", (uint32_t)hp->n_shared_experts, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_feed_forward_length", (uint32_t)hp->expert_ffn_dim, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_group_count", (uint32_t)hp->n_groups, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_group_used_count", (uint32_t)hp->n_groups_used, err) != R1_OK ||
        kv_arch_u32(w, arch, "expert_gating_func", (uint32_t)hp->gating, err) != R1_OK ||
        kv_arch_f32(w, arch, "expert_weights_scale", hp->weights_scale, err) != R1_OK ||
        r1_gguf_writer_kv_bool(w, "deepseek2.expert_weights_norm", hp->weights_norm, err) != R1_OK)
        return R1_ERR;
    if (!hp->yarn) return R1_OK;
    return r1_gguf_writer_kv_str(w, "deepseek2.rope.scaling.type", "yarn", err) != R1_OK ||
                   kv_arch_f32(w, arch, "rope.scaling.factor", hp->yarn_factor, err) != R1_OK ||
                   kv_arch_u32(w, arch, "rope.scaling.original_context_length", (uint32_t)hp->yarn_orig_ctx,
                               err) != R1_OK ||
                   kv_arch_f32(w, arch, "rope.scaling.yarn_log_multiplier", hp->yarn_log_mul, err) != R1_OK
               ? R1_ERR
               : R1_OK;
}

/* ---- the data ---- */

/* Writes one tensor's values, CHUNK_FLOATS (or one row) at a time. Matrices are
 * uniform in ±sqrt(3/cols) — variance 1/cols, so W·x keeps unit-variance inputs at
 * unit variance — norms are 1, biases small. */
static int write_tensor_data(r1_gguf_writer *w, const r1_preset *p, const r1_preset_tensor *t, uint64_t seed,
                             float *buf, int64_t buf_floats, const r1_gen_config *cfg, uint64_t index,
                             uint64_t n_tensors, r1_err *err) {
    int64_t cols = t->ne[0], rows = t->ne[1] * t->ne[2];
    if (t->kind == R1_PRESET_ROPE_FREQS) {
        r1_preset_llama3_rope_freqs(p, buf);
        return r1_gguf_writer_data_f32(w, buf, cols, err);
    }
    rng r = tensor_rng(seed, t->name);
    float scale = t->kind == R1_PRESET_BIAS ? 0.05f : sqrtf(3.0f / (float)cols);
    int64_t chunk_rows = buf_floats / cols;
    for (int64_t row = 0; row < rows; row += chunk_rows) {
        int64_t n = (rows - row < chunk_rows ? rows - row : chunk_rows) * cols;
        if (t->kind == R1_PRESET_NORM) {
            for (int64_t i = 0; i < n; i++) buf[i] = 1.0f;
        } else {
            fill_uniform(&r, buf, n, scale);
        }
        if (r1_gguf_writer_data_f32(w, buf, n, err) != R1_OK) return R1_ERR;
        if (cfg->progress)
            cfg->progress(cfg->progress_ctx, index, n_tensors, r1_gguf_writer_bytes_written(w),
                          r1_gguf_writer_file_size(w));
    }
    return R1_OK;
}

/* The preset with the config's layer and vocabulary overrides applied. */
static int configure(const r1_gen_config *cfg, r1_preset *p, r1_err *err) {
    const r1_preset *base = r1_preset_find(cfg->preset);
    if (!base) return r1_fail(err, "gen-random: no preset named '%s'", cfg->preset);
    *p = *base;
    if (cfg->n_layers < 0 || cfg->n_layers > base->hp.n_layers)
        return r1_fail(err, "gen-random: preset '%s' has %d layers, cannot write %d", base->name, base->hp.n_layers,
                       cfg->n_layers);
    if (cfg->n_layers > 0) p->hp.n_layers = cfg->n_layers;
    if (p->hp.n_dense_layers > p->hp.n_layers) p->hp.n_dense_layers = p->hp.n_layers;
    if (cfg->n_vocab != 0) {
        if (cfg->n_vocab < R1_GEN_MIN_VOCAB || cfg->n_vocab > (1 << 24))
            return r1_fail(err, "gen-random: vocabulary of %d tokens is outside %d to %d", cfg->n_vocab,
                           R1_GEN_MIN_VOCAB, 1 << 24);
        p->hp.n_vocab = cfg->n_vocab;
    }
    const r1_type_traits *tt = r1_type_traits_get(cfg->type);
    if (!tt || cfg->type == R1_TYPE_Q8_K)
        return r1_fail(err, "gen-random: type %s (id %u) cannot store weights", r1_type_name(cfg->type),
                       (unsigned)cfg->type);
    return R1_OK;
}

int r1_gen_random_model(const r1_gen_config *cfg, r1_gen_report *report, r1_err *err) {
    r1_preset p;
    r1_gen_report rep;
    memset(&rep, 0, sizeof rep);
    if (configure(cfg, &p, err) != R1_OK) return R1_ERR;
    int n_tensors = r1_preset_tensors(&p, NULL);
    r1_preset_tensor *tensors = r1_calloc(err, (size_t)n_tensors, sizeof *tensors, "tensor list");
    if (!tensors) return R1_ERR;
    r1_preset_tensors(&p, tensors);
    int64_t buf_floats = CHUNK_FLOATS;
    for (int i = 0; i < n_tensors; i++)
        if (tensors[i].ne[0] > buf_floats) buf_floats = tensors[i].ne[0];
    float *buf = r1_malloc(err, (size_t)buf_floats * sizeof *buf, "generation buffer");
    r1_gguf_writer *w = NULL;
    if (!buf || r1_gguf_writer_open(&w, cfg->path, err) != R1_OK) goto fail;
    if (write_hparams(w, &p, cfg->type, err) != R1_OK || write_tokenizer(w, p.hp.n_vocab, err) != R1_OK) goto fail;
    for (int i = 0; i < n_tensors; i++) {
        const r1_preset_tensor *t = &tensors[i];
        r1_type type = storage_type(t, cfg->type);
        if (t->kind == R1_PRESET_MATRIX && type != cfg->type) {
            if (type == R1_TYPE_Q8_0) rep.n_fallback_q8_0++;
            else rep.n_fallback_f16++;
            if (!rep.first_fallback[0]) snprintf(rep.first_fallback, sizeof rep.first_fallback, "%s", t->name);
        }
        rep.n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2]);
        if (r1_gguf_writer_tensor(w, t->name, t->n_dims, t->ne, type, err) != R1_OK) goto fail;
    }
    if (r1_gguf_writer_begin_data(w, err) != R1_OK) goto fail;
    rep.file_bytes = r1_gguf_writer_file_size(w);
    for (int i = 0; i < n_tensors; i++)
        if (write_tensor_data(w, &p, &tensors[i], cfg->seed, buf, buf_floats, cfg, (uint64_t)i, (uint64_t)n_tensors,
                              err) != R1_OK)
            goto fail;
    free(buf);
    free(tensors);
    rep.n_tensors = (uint64_t)n_tensors;
    if (report) *report = rep;
    return r1_gguf_writer_finish(w, err);
fail:
    r1_gguf_writer_abort(w);
    free(buf);
    free(tensors);
    return R1_ERR;
}

int r1_gen_random(const char *preset, r1_type type, int n_layers, uint64_t seed, const char *path, r1_err *err) {
    r1_gen_config cfg = {.preset = preset, .type = type, .n_layers = n_layers, .seed = seed, .path = path};
    return r1_gen_random_model(&cfg, NULL, err);
}
