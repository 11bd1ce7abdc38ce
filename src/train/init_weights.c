/* Starting weights from a checkpoint or an exported model (see init_weights.h). */
#include "train/init_weights.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "tensor/types.h"
#include "train/pretrain.h"

/* The architecture of a checkpoint: its un-prefixed settings over the defaults
 * (a grpo or sft checkpoint also holds "grpo.*" / "sft.*" keys, not ours). */
static int arch_from_checkpoint(r1_init_weights *w, r1_err *err) {
    r1_pretrain_config cfg = r1_pretrain_default_config();
    for (size_t i = 0; i < w->ck.n_config; i++) {
        const char *entry = w->ck.config[i], *eq = strchr(entry, '=');
        const char *dot = strchr(entry, '.');
        if (dot && (!eq || dot < eq)) continue;
        if (r1_pretrain_config_set(&cfg, entry, err) != R1_OK) return r1_fail_within(err, "%s: ", w->path);
    }
    w->arch = cfg.model;
    w->arch.mtp_weight = 0.0f; /* the main model's architecture: an MTP module is each run's choice */
    w->arch.precision = R1_LINEAR_F32; /* and so is the precision of its products */
    return R1_OK;
}

/* The architecture of an exported model, refusing what the trainer cannot build. */
static int arch_from_model(r1_init_weights *w, r1_err *err) {
    const r1_hparams *hp = &w->model.hp;
    if (hp->arch != R1_ARCH_DEEPSEEK2 || hp->gating != R1_GATING_SIGMOID || !hp->weights_norm || hp->yarn ||
        hp->rope_style != R1_ROPE_INTERLEAVED || hp->rope_dims != hp->qk_rope_dim)
        return r1_fail(err, "%s: a %s model the trainer cannot start from (it trains deepseek2 with sigmoid routing, "
                            "normalised expert weights, no YaRN)",
                       w->path, r1_arch_name(hp->arch));
    /* checked here, not when the weights are copied, so that a quantised model fails
     * before the stage makes its run directory */
    for (uint64_t i = 0; i < w->model.gguf.n_tensors; i++) {
        const r1_gguf_tensor *t = &w->model.gguf.tensors[i];
        if (t->type != R1_TYPE_F32)
            return r1_fail(err,
                           "%s: tensor '%.*s' is %s; training starts from F32 weights (as `r1 train` exports them)",
                           w->path, (int)t->name.len, t->name.data, r1_type_name(t->type));
    }
    r1_train_config c = r1_train_config_default();
    c.vocab = hp->n_vocab, c.dim = hp->dim, c.n_layers = hp->n_layers, c.n_dense_layers = hp->n_dense_layers;
    c.n_heads = hp->n_heads, c.q_lora_rank = hp->q_lora_rank, c.kv_lora_rank = hp->kv_lora_rank;
    c.qk_nope = hp->qk_nope_dim, c.qk_rope = hp->qk_rope_dim, c.v_head = hp->v_head_dim, c.ffn_dim = hp->ffn_dim;
    c.n_experts = hp->n_experts, c.top_k = hp->n_experts_used, c.n_shared = hp->n_shared_experts;
    c.expert_ffn = hp->expert_ffn_dim, c.n_groups = hp->n_groups, c.n_groups_used = hp->n_groups_used;
    c.route_scale = hp->weights_scale, c.rope_base = hp->rope_base, c.norm_eps = hp->norm_eps;
    w->arch = c;
    return R1_OK;
}

int r1_init_weights_open(r1_init_weights *w, const char *path, r1_err *err) {
    memset(w, 0, sizeof *w);
    struct stat st;
    if (stat(path, &st) != 0) return r1_fail(err, "--init %s: %s", path, strerror(errno));
    const char *name = S_ISDIR(st.st_mode) ? "/checkpoint.gguf" : "";
    if (snprintf(w->path, sizeof w->path, "%s%s", path, name) >= (int)sizeof w->path)
        return r1_fail(err, "--init: path too long: %.200s", path);
    if (*name && access(w->path, F_OK) != 0)
        return r1_fail(err, "--init %s: a directory with no checkpoint.gguf (give a run directory, or a .gguf model "
                            "file)", path);
    r1_gguf g;
    if (r1_gguf_open(&g, w->path, err) != R1_OK) return R1_ERR;
    w->is_checkpoint = r1_gguf_find_kv(&g, "r1.train.stage") != NULL;
    r1_gguf_close(&g);
    int rc;
    if (w->is_checkpoint) {
        if (r1_checkpoint_load(w->path, &w->ck, err) != R1_OK) return R1_ERR;
        w->have_ck = 1;
        rc = arch_from_checkpoint(w, err);
    } else {
        if (r1_model_load(&w->model, w->path, err) != R1_OK) return R1_ERR;
        w->have_model = 1;
        rc = arch_from_model(w, err);
    }
    if (rc != R1_OK) r1_init_weights_close(w);
    return rc;
}

void r1_init_weights_arch(const r1_init_weights *w, r1_train_config *cfg) {
    r1_train_config kept = *cfg;
    *cfg = w->arch;
    cfg->seq_len = kept.seq_len, cfg->batch = kept.batch;
    cfg->balance_alpha = kept.balance_alpha, cfg->bias_gamma = kept.bias_gamma, cfg->init_std = kept.init_std;
    cfg->mtp_weight = kept.mtp_weight; /* a training choice: the MTP module is not the model */
    cfg->precision = kept.precision;
}

int r1_init_weights_decides(const char *key) {
    /* every r1_train_config field but those r1_init_weights_arch keeps */
    static const char *const arch_keys[] = {
        "vocab",   "dim",    "layers",  "dense_layers", "heads",          "q_lora_rank", "kv_lora_rank",
        "qk_nope", "qk_rope", "v_head", "ffn_dim",      "experts",        "top_k",       "shared_experts",
        "expert_ffn", "groups", "groups_used", "route_scale", "rope_base", "norm_eps"};
    for (size_t i = 0; i < sizeof arch_keys / sizeof arch_keys[0]; i++)
        if (!strcmp(key, arch_keys[i])) return 1;
    return 0;
}

/* The file's tensor for t into t->data (a checkpoint's shapes are checked here, a
 * model file's by r1_model_load). */
static int load_tensor(const r1_init_weights *w, r1_train_tensor *t, r1_err *err) {
    if (w->is_checkpoint) return r1_checkpoint_restore_tensor(&w->ck, w->path, t->name, t->n_dims, t->ne, t->data, err);
    const r1_gguf_tensor *gt = r1_gguf_find_tensor(&w->model.gguf, t->name);
    if (!gt) return r1_fail(err, "%s: no tensor '%s'", w->path, t->name);
    if (gt->nbytes != t->size * sizeof(float))
        return r1_fail(err, "%s: tensor '%s' has %zu values, the model %zu", w->path, t->name,
                       gt->nbytes / sizeof(float), t->size);
    memcpy(t->data, gt->data, gt->nbytes);
    return R1_OK;
}

/* The file holds a tensor of that name. */
static int has_tensor(const r1_init_weights *w, const char *name) {
    return w->is_checkpoint ? r1_checkpoint_find(&w->ck, name) != NULL
                            : r1_gguf_find_tensor(&w->model.gguf, name) != NULL;
}

int r1_init_weights_load(const r1_init_weights *w, r1_train_model *m, r1_err *err) {
    for (int i = 0; i < m->n_tensors; i++) {
        r1_train_tensor *t = &m->tensors[i];
        if (t->mtp && !has_tensor(w, t->name)) continue; /* a new MTP module keeps its initialisation */
        if (load_tensor(w, t, err) != R1_OK) return R1_ERR;
    }
    return R1_OK;
}

void r1_init_weights_close(r1_init_weights *w) {
    if (w->have_ck) r1_checkpoint_free(&w->ck);
    if (w->have_model) r1_model_free(&w->model);
    memset(w, 0, sizeof *w);
}
