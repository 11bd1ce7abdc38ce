/* The trainable model's configuration, parameter layout, activation memory and
 * initialisation. All sizes are computed here, in one place; the memory for each
 * kind (parameters, gradients, activations, activation gradients) is one block. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/presets.h"
#include "train/rows.h"
#include "train/tiny_model.h"

r1_train_config r1_train_config_default(void) {
    return (r1_train_config){
        .vocab = 512, .dim = 256, .n_layers = 4, .n_dense_layers = 1, .n_heads = 4,
        .q_lora_rank = 96, .kv_lora_rank = 64, .qk_nope = 32, .qk_rope = 16, .v_head = 32,
        .ffn_dim = 768, .n_experts = 8, .top_k = 2, .n_shared = 1, .expert_ffn = 128,
        .n_groups = 4, .n_groups_used = 2, .route_scale = 2.5f, .rope_base = 10000.0f, .norm_eps = 1e-6f,
        .seq_len = 256, .batch = 8, .balance_alpha = 1e-4f, .bias_gamma = 1e-3f, .init_std = 0.02f,
    };
}

int r1_train_config_blocks(const r1_train_config *c) { return c->n_layers + (c->mtp_weight > 0.0f); }

int r1_train_config_check(const r1_train_config *c, r1_err *err) {
    if (c->vocab < 2 || c->dim < 1 || c->n_layers < 1 || c->n_heads < 1 || c->kv_lora_rank < 1 || c->qk_nope < 1 ||
        c->v_head < 1 || c->seq_len < 1 || c->batch < 1 || c->q_lora_rank < 0)
        return r1_fail(err, "train: config: every size must be positive (vocab %d, dim %d, %d layers, %d heads, "
                            "kv_lora_rank %d, qk_nope %d, v_head %d, seq_len %d, batch %d)",
                       c->vocab, c->dim, c->n_layers, c->n_heads, c->kv_lora_rank, c->qk_nope, c->v_head, c->seq_len,
                       c->batch);
    /* limits for every size, from the command line or read back from a file (dim,
     * layers, heads and experts as their options have them) */
    const struct {
        const char *name;
        int value, max;
    } sizes[] = {{"dim", c->dim, 65536},           {"layers", c->n_layers, 1024},
                 {"heads", c->n_heads, 1024},       {"experts", c->n_experts, 256},
                 {"q_lora_rank", c->q_lora_rank, 65536}, {"kv_lora_rank", c->kv_lora_rank, 65536},
                 {"qk_nope", c->qk_nope, 65536},    {"qk_rope", c->qk_rope, 65536},
                 {"v_head", c->v_head, 65536},      {"ffn_dim", c->ffn_dim, 1 << 20},
                 {"expert_ffn", c->expert_ffn, 1 << 20}, {"shared_experts", c->n_shared, 256}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].value > sizes[i].max)
            return r1_fail(err, "train: config: %s %d is above %d", sizes[i].name, sizes[i].value, sizes[i].max);
    if (c->qk_rope < 2 || c->qk_rope % 2)
        return r1_fail(err, "train: config: qk_rope = %d must be even and at least 2", c->qk_rope);
    if (c->n_dense_layers < 0 || c->n_dense_layers > c->n_layers || (c->n_dense_layers > 0 && c->ffn_dim < 1))
        return r1_fail(err, "train: config: %d dense layers of width %d do not fit %d layers", c->n_dense_layers,
                       c->ffn_dim, c->n_layers);
    if (c->n_dense_layers < c->n_layers &&
        (c->n_experts < 1 || c->top_k < 1 || c->top_k > c->n_experts || c->expert_ffn < 1 || c->n_shared < 0 ||
         c->n_groups < 1 || c->n_experts % c->n_groups || c->n_groups_used < 1 || c->n_groups_used > c->n_groups ||
         c->top_k > c->n_groups_used * (c->n_experts / c->n_groups) || 2 * c->n_experts + 2 * c->n_groups > R1_TRAIN_ROUTE_SCRATCH))
        return r1_fail(err, "train: config: MoE routing is inconsistent: %d experts, top-%d, %d groups, %d used, "
                            "expert width %d",
                       c->n_experts, c->top_k, c->n_groups, c->n_groups_used, c->expert_ffn);
    if (!(c->mtp_weight >= 0.0f && c->mtp_weight <= 100.0f))
        return r1_fail(err, "train: config: mtp_weight %g must be in 0..100 (0: no MTP module)", c->mtp_weight);
    if (c->mtp_weight > 0.0f && c->n_dense_layers == c->n_layers)
        return r1_fail(err, "train: config: the MTP module's block is an MoE layer, but this model has no MoE "
                            "layers (%d dense of %d)",
                       c->n_dense_layers, c->n_layers);
    /* the real-valued settings: each a finite number, positive or at least not
     * negative (a NaN passes a plain comparison and shows steps later as "diverged") */
    const struct {
        const char *name;
        float value;
        int positive; /* 1: > 0; 0: ≥ 0 */
    } reals[] = {{"rope_base", c->rope_base, 1},         {"norm_eps", c->norm_eps, 1},
                 {"init_std", c->init_std, 1},           {"route_scale", c->route_scale, 1},
                 {"balance_alpha", c->balance_alpha, 0}, {"bias_gamma", c->bias_gamma, 0}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (!isfinite(reals[i].value) || reals[i].value < 0 || (reals[i].positive && reals[i].value == 0))
            return r1_fail(err, "train: config: %s %g must be a finite number %s 0", reals[i].name, reals[i].value,
                           reals[i].positive ? ">" : "≥");
    if (c->init_std > 1.0f)
        return r1_fail(err, "train: config: init_std %g is above 1 (matrices start N(0, init_std²); 0.02 is usual)",
                       c->init_std);
    if ((size_t)c->batch * c->seq_len > (1u << 24) || (size_t)c->vocab > (1u << 24))
        return r1_fail(err, "train: config: batch %d × seq_len %d or vocab %d is too large", c->batch, c->seq_len,
                       c->vocab);
    return R1_OK;
}

void r1_train_config_hparams(const r1_train_config *c, r1_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    *hp = (r1_hparams){
        .arch = R1_ARCH_DEEPSEEK2, .n_vocab = c->vocab, .dim = c->dim, .n_layers = c->n_layers,
        .n_heads = c->n_heads, .n_kv_heads = 1, .head_dim = c->qk_nope + c->qk_rope, .ffn_dim = c->ffn_dim,
        .ctx_len = c->seq_len, .norm_eps = c->norm_eps, .rope_style = R1_ROPE_INTERLEAVED,
        .rope_dims = c->qk_rope, .rope_base = c->rope_base, .q_lora_rank = c->q_lora_rank,
        .kv_lora_rank = c->kv_lora_rank, .qk_nope_dim = c->qk_nope, .qk_rope_dim = c->qk_rope,
        .v_head_dim = c->v_head, .n_dense_layers = c->n_dense_layers, .n_experts = c->n_experts,
        .n_experts_used = c->top_k, .n_shared_experts = c->n_shared, .expert_ffn_dim = c->expert_ffn,
        .n_groups = c->n_groups, .n_groups_used = c->n_groups_used, .gating = R1_GATING_SIGMOID,
        .weights_norm = 1, .weights_scale = c->route_scale,
    };
}

/* ---- initialisation: splitmix64 (Steele, Lea & Flood 2014) + Box-Muller ---- */

static uint64_t rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *state) { /* in (0, 1) */
    return ((double)(rng_next(state) >> 11) + 0.5) / 9007199254740992.0;
}

static void fill_normal(uint64_t *state, float *out, size_t n, float std) {
    for (size_t i = 0; i < n; i++) {
        double u1 = rng_uniform(state), u2 = rng_uniform(state);
        out[i] = (float)(std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}

/* The output projection of a residual branch: its init is scaled down by
 * 1/sqrt(2·n_layers) so the residual stream's variance does not grow with depth
 * (GPT-2, Radford et al. 2019, §2.3). */
static int is_branch_output(const char *name) {
    return strstr(name, "attn_output") || strstr(name, "ffn_down");
}

/* ---- layout ---- */

r1_train_tensor *r1_train_find_tensor(r1_train_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

/* Points a layer view's field at tensor blk.<il>.<suffix> (params or grads). */
static float *layer_view(r1_train_model *m, int il, const char *suffix, int grad) {
    char name[64];
    snprintf(name, sizeof name, "blk.%d.%s", il, suffix);
    r1_train_tensor *t = r1_train_find_tensor(m, name);
    return t ? (grad ? t->grad : t->data) : NULL;
}

static void bind_views(r1_train_model *m, int grad) {
    r1_train_layer *views = grad ? m->dlayers : m->layers;
    for (int il = 0; il < r1_train_config_blocks(&m->cfg); il++) {
        r1_train_layer *L = &views[il];
        L->attn_norm = layer_view(m, il, "attn_norm.weight", grad);
        L->q_a = layer_view(m, il, "attn_q_a.weight", grad);
        L->q_a_norm = layer_view(m, il, "attn_q_a_norm.weight", grad);
        L->q_b = m->cfg.q_lora_rank > 0 ? layer_view(m, il, "attn_q_b.weight", grad)
                                        : layer_view(m, il, "attn_q.weight", grad);
        L->kv_a = layer_view(m, il, "attn_kv_a_mqa.weight", grad);
        L->kv_a_norm = layer_view(m, il, "attn_kv_a_norm.weight", grad);
        L->k_b = layer_view(m, il, "attn_k_b.weight", grad);
        L->v_b = layer_view(m, il, "attn_v_b.weight", grad);
        L->wo = layer_view(m, il, "attn_output.weight", grad);
        L->ffn_norm = layer_view(m, il, "ffn_norm.weight", grad);
        L->ffn_gate = layer_view(m, il, "ffn_gate.weight", grad);
        L->ffn_up = layer_view(m, il, "ffn_up.weight", grad);
        L->ffn_down = layer_view(m, il, "ffn_down.weight", grad);
        L->router = layer_view(m, il, "ffn_gate_inp.weight", grad);
        L->exp_gate = layer_view(m, il, "ffn_gate_exps.weight", grad);
        L->exp_up = layer_view(m, il, "ffn_up_exps.weight", grad);
        L->exp_down = layer_view(m, il, "ffn_down_exps.weight", grad);
        L->sh_gate = layer_view(m, il, "ffn_gate_shexp.weight", grad);
        L->sh_up = layer_view(m, il, "ffn_up_shexp.weight", grad);
        L->sh_down = layer_view(m, il, "ffn_down_shexp.weight", grad);
    }
    if (m->cfg.mtp_weight > 0.0f) {
        int il = m->cfg.n_layers;
        r1_train_mtp *mtp = grad ? &m->dmtp : &m->mtp;
        mtp->enorm = layer_view(m, il, "nextn.enorm.weight", grad);
        mtp->hnorm = layer_view(m, il, "nextn.hnorm.weight", grad);
        mtp->eh_proj = layer_view(m, il, "nextn.eh_proj.weight", grad);
        mtp->head_norm = layer_view(m, il, "nextn.shared_head_norm.weight", grad);
    }
    r1_train_tensor *embd = r1_train_find_tensor(m, "token_embd.weight");
    r1_train_tensor *norm = r1_train_find_tensor(m, "output_norm.weight");
    r1_train_tensor *out = r1_train_find_tensor(m, "output.weight");
    if (grad) {
        m->dtok_embd = embd->grad, m->doutput_norm = norm->grad, m->doutput = out->grad;
    } else {
        m->tok_embd = embd->data, m->output_norm = norm->data, m->output = out->data;
    }
}

static void add_tensor(r1_train_model *m, const r1_preset_tensor *spec, int mtp) {
    r1_train_tensor *t = &m->tensors[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", spec->name);
    t->n_dims = spec->n_dims;
    memcpy(t->ne, spec->ne, sizeof t->ne);
    t->size = (size_t)(spec->ne[0] * spec->ne[1] * spec->ne[2]);
    t->decay = spec->kind == R1_PRESET_MATRIX || spec->kind == R1_PRESET_ROUTER;
    t->mtp = mtp;
}

/* The tensor list is the engine's (presets.c): the same names, shapes and order
 * a V3-style file with an expert bias holds. The MTP module's tensors follow (so a
 * model with one starts from the same main weights as one without): its block,
 * from the preset of one more layer, and the four nextn.* tensors. */
static int build_layout(r1_train_model *m, r1_err *err) {
    r1_preset p;
    memset(&p, 0, sizeof p);
    p.name = "trained";
    p.hp = m->hp;
    p.expert_bias = 1;
    int has_mtp = m->cfg.mtp_weight > 0.0f;
    p.hp.n_layers = r1_train_config_blocks(&m->cfg);
    int n_all = r1_preset_tensors(&p, NULL), n_max = n_all + 4 * has_mtp;
    r1_preset_tensor *list = r1_calloc(err, (size_t)n_all, sizeof *list, "tensor list");
    m->tensors = r1_calloc(err, (size_t)n_max, sizeof *m->tensors, "tensor table");
    if (!list || !m->tensors) {
        free(list);
        return R1_ERR;
    }
    r1_preset_tensors(&p, list);
    char mtp_prefix[32];
    snprintf(mtp_prefix, sizeof mtp_prefix, "blk.%d.", m->cfg.n_layers);
    for (int i = 0; i < n_all; i++)
        if (strncmp(list[i].name, mtp_prefix, strlen(mtp_prefix)) != 0) add_tensor(m, &list[i], 0);
    for (int i = 0; i < n_all; i++)
        if (strncmp(list[i].name, mtp_prefix, strlen(mtp_prefix)) == 0) add_tensor(m, &list[i], 1);
    if (has_mtp) {
        int64_t D = m->cfg.dim;
        static const char *const norms[] = {"enorm", "hnorm", "shared_head_norm"};
        r1_preset_tensor spec = {.kind = R1_PRESET_MATRIX, .n_dims = 2, .ne = {2 * D, D, 1}};
        snprintf(spec.name, sizeof spec.name, "%snextn.eh_proj.weight", mtp_prefix);
        add_tensor(m, &spec, 1);
        for (int k = 0; k < 3; k++) {
            spec = (r1_preset_tensor){.kind = R1_PRESET_NORM, .n_dims = 1, .ne = {D, 1, 1}};
            snprintf(spec.name, sizeof spec.name, "%snextn.%s.weight", mtp_prefix, norms[k]);
            add_tensor(m, &spec, 1);
        }
    }
    free(list);
    size_t offset = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (!strstr(m->tensors[i].name, "exp_probs_b")) offset += m->tensors[i].size;
    m->n_params = offset;
    m->params = r1_calloc(err, m->n_params, sizeof(float), "parameters");
    m->grads = r1_calloc(err, m->n_params, sizeof(float), "gradients");
    m->n_blocks = r1_train_config_blocks(&m->cfg);
    size_t blocks = (size_t)m->n_blocks;
    m->expert_bias = r1_calloc(err, blocks * (m->cfg.n_experts + 1), sizeof(float), "expert bias");
    m->expert_load = r1_calloc(err, blocks * (m->cfg.n_experts + 1), sizeof(float), "expert load");
    m->layers = r1_calloc(err, blocks, sizeof *m->layers, "layer views");
    m->dlayers = r1_calloc(err, blocks, sizeof *m->dlayers, "layer views");
    if (!m->params || !m->grads || !m->expert_bias || !m->expert_load || !m->layers || !m->dlayers) return R1_ERR;
    offset = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        r1_train_tensor *t = &m->tensors[i];
        int layer;
        if (strstr(t->name, "exp_probs_b") && sscanf(t->name, "blk.%d.", &layer) == 1) {
            t->data = m->expert_bias + (size_t)layer * m->cfg.n_experts;
            continue;
        }
        t->data = m->params + offset;
        t->grad = m->grads + offset;
        offset += t->size;
    }
    bind_views(m, 0);
    bind_views(m, 1);
    return R1_OK;
}

/* ---- activations: sizes in one place, one block of floats (and one of ints) ---- */

/* Hands out consecutive pieces of a block: with base NULL it only counts. */
static float *carve(float **cursor, size_t *total, size_t n) {
    float *p = *cursor;
    *total += n;
    if (p) *cursor = p + n;
    return p;
}

/* expert_ids, expert_slot, slot_row (N·K each) and expert_start (E + 1) */
static size_t moe_layer_ints(const r1_train_config *c) {
    return 3 * (size_t)c->batch * c->seq_len * c->top_k + (size_t)c->n_experts + 1;
}

/* every MoE block's ints, then the MTP module's targets (N) */
static size_t act_int_count(const r1_train_config *c) {
    size_t n_moe = (size_t)(r1_train_config_blocks(c) - c->n_dense_layers);
    return n_moe * moe_layer_ints(c) + (c->mtp_weight > 0.0f ? (size_t)c->batch * c->seq_len : 0);
}

static size_t layout_acts(r1_train_model *m, float *base, int *ints) {
    const r1_train_config *c = &m->cfg;
    size_t N = (size_t)c->batch * c->seq_len, T = (size_t)c->seq_len, D = (size_t)c->dim, H = (size_t)c->n_heads;
    size_t R = (size_t)c->kv_lora_rank, Rq = (size_t)c->q_lora_rank, rope = (size_t)c->qk_rope;
    size_t QK = (size_t)c->qk_nope + rope, V = (size_t)c->v_head, E = (size_t)c->n_experts, K = (size_t)c->top_k;
    size_t Fe = (size_t)c->expert_ffn, total = 0;
    float *cur = base;
    size_t n_moe = (size_t)(r1_train_config_blocks(c) - c->n_dense_layers);
    for (int il = 0; il < r1_train_config_blocks(c); il++) {
        r1_train_acts *a = &m->acts[il];
        int moe = il >= c->n_dense_layers;
        size_t F = moe ? Fe * (size_t)c->n_shared : (size_t)c->ffn_dim;
        a->x_in = carve(&cur, &total, N * D);
        a->xn_attn = carve(&cur, &total, N * D);
        a->q_lora_raw = carve(&cur, &total, N * Rq);
        a->q_lora = carve(&cur, &total, N * Rq);
        a->q = carve(&cur, &total, N * H * QK);
        a->kv_a = carve(&cur, &total, N * (R + rope));
        a->c_kv = carve(&cur, &total, N * R);
        a->k_rope = carve(&cur, &total, N * rope);
        a->k_nope = carve(&cur, &total, H * N * (size_t)c->qk_nope);
        a->v = carve(&cur, &total, H * N * V);
        a->att = carve(&cur, &total, (size_t)c->batch * H * T * T);
        a->attn_out = carve(&cur, &total, N * H * V);
        a->x_mid = carve(&cur, &total, N * D);
        a->xn_ffn = carve(&cur, &total, N * D);
        a->gate_in = carve(&cur, &total, N * F);
        a->up = carve(&cur, &total, N * F);
        a->hidden = carve(&cur, &total, N * F);
        if (!moe) continue;
        a->router_logits = carve(&cur, &total, N * E);
        a->scores = carve(&cur, &total, N * E);
        a->route_weights = carve(&cur, &total, N * K);
        a->exp_gate_in = carve(&cur, &total, N * K * Fe);
        a->exp_up = carve(&cur, &total, N * K * Fe);
        a->exp_hidden = carve(&cur, &total, N * K * Fe);
        a->exp_out = carve(&cur, &total, N * K * D);
        /* every layer's expert_ids first (one block, as the routing's record), then
         * each layer's grouping */
        size_t moe_index = (size_t)(il - c->n_dense_layers);
        int *grouping = ints ? ints + n_moe * N * K + moe_index * (moe_layer_ints(c) - N * K) : NULL;
        a->expert_ids = ints ? ints + moe_index * N * K : NULL;
        a->expert_slot = grouping;
        a->slot_row = grouping ? grouping + N * K : NULL;
        a->expert_start = grouping ? grouping + 2 * N * K : NULL;
    }
    m->x_final = carve(&cur, &total, N * D);
    m->xn_final = carve(&cur, &total, N * D);
    m->logits = carve(&cur, &total, N * (size_t)c->vocab);
    m->probs = carve(&cur, &total, N * (size_t)c->vocab);
    m->token_nll = carve(&cur, &total, N);
    m->cos_sin = carve(&cur, &total, T * rope);
    if (c->mtp_weight > 0.0f) {
        m->mtp_targets = ints ? ints + n_moe * moe_layer_ints(c) : NULL;
        m->mtp_emb = carve(&cur, &total, N * D);
        m->mtp_eh = carve(&cur, &total, N * 2 * D);
        m->mtp_x_out = carve(&cur, &total, N * D);
        m->mtp_xn = carve(&cur, &total, N * D);
        m->mtp_logits = carve(&cur, &total, N * (size_t)c->vocab);
        m->mtp_probs = carve(&cur, &total, N * (size_t)c->vocab);
        m->mtp_nll = carve(&cur, &total, N);
    }
    return total;
}

static size_t layout_dacts(r1_train_model *m, float *base) {
    const r1_train_config *c = &m->cfg;
    size_t N = (size_t)c->batch * c->seq_len, D = (size_t)c->dim, H = (size_t)c->n_heads;
    size_t R = (size_t)c->kv_lora_rank, rope = (size_t)c->qk_rope, V = (size_t)c->v_head;
    size_t Fe = (size_t)c->expert_ffn, Fmax = (size_t)c->ffn_dim, total = 0;
    if (Fe * (size_t)c->n_shared > Fmax) Fmax = Fe * (size_t)c->n_shared;
    float *cur = base;
    r1_train_dacts *d = &m->d;
    d->dres = carve(&cur, &total, N * D);
    d->dxn = carve(&cur, &total, N * D);
    d->dattn_out = carve(&cur, &total, N * H * V);
    d->dq = carve(&cur, &total, N * H * ((size_t)c->qk_nope + rope));
    d->dq_lora = carve(&cur, &total, N * (size_t)c->q_lora_rank);
    d->dq_lora_raw = carve(&cur, &total, N * (size_t)c->q_lora_rank);
    d->dkv_a = carve(&cur, &total, N * (R + rope));
    d->dc_kv = carve(&cur, &total, N * R);
    d->dk_rope = carve(&cur, &total, N * rope);
    d->dk_nope = carve(&cur, &total, H * N * (size_t)c->qk_nope);
    d->dv = carve(&cur, &total, H * N * V);
    d->dscore = carve(&cur, &total, N * (size_t)c->seq_len);
    size_t key_width = (size_t)c->qk_nope + rope > V ? (size_t)c->qk_nope + rope : V;
    d->attn_t = carve(&cur, &total, N * H * key_width);
    d->dgate = carve(&cur, &total, N * Fmax);
    d->dup = carve(&cur, &total, N * Fmax);
    d->dhidden = carve(&cur, &total, N * Fmax);
    d->drouter_logits = carve(&cur, &total, N * (size_t)c->n_experts);
    d->droute_weights = carve(&cur, &total, N * (size_t)c->top_k);
    d->expert_fraction = carve(&cur, &total, (size_t)c->n_experts);
    size_t NK = N * (size_t)c->top_k;
    d->exp_x = carve(&cur, &total, NK * D);
    d->dexp_out = carve(&cur, &total, NK * D);
    d->dexp_x = carve(&cur, &total, NK * D);
    d->dexp_gate = carve(&cur, &total, NK * Fe);
    d->dexp_up = carve(&cur, &total, NK * Fe);
    d->dexp_hidden = carve(&cur, &total, NK * Fe);
    d->dlogits = carve(&cur, &total, N * (size_t)c->vocab);
    size_t norm_width = D > R ? D : R;
    if ((size_t)c->q_lora_rank > norm_width) norm_width = (size_t)c->q_lora_rank;
    d->dnorm_rows = carve(&cur, &total, N * norm_width);
    if (c->mtp_weight > 0.0f) {
        d->dmtp_eh = carve(&cur, &total, N * 2 * D);
        d->dmtp_h = carve(&cur, &total, N * D);
    }
    return total;
}

int r1_train_model_init(r1_train_model *m, const r1_train_config *cfg, uint64_t seed, r1_err *err) {
    memset(m, 0, sizeof *m);
    if (r1_train_config_check(cfg, err) != R1_OK) return R1_ERR;
    m->cfg = *cfg;
    m->balance_share = 1.0f;
    r1_train_config_hparams(cfg, &m->hp);
    if (build_layout(m, err) != R1_OK) goto fail;

    m->acts = r1_calloc(err, (size_t)r1_train_config_blocks(cfg), sizeof *m->acts, "activation views");
    if (!m->acts) goto fail;
    size_t n_act = layout_acts(m, NULL, NULL), n_dact = layout_dacts(m, NULL);
    m->act_memory = r1_calloc(err, n_act, sizeof(float), "activations");
    m->act_ints = r1_calloc(err, act_int_count(cfg) + 1, sizeof(int), "expert ids");
    m->dact_memory = r1_calloc(err, n_dact, sizeof(float), "activation gradients");
    if (!m->act_memory || !m->act_ints || !m->dact_memory) goto fail;
    layout_acts(m, m->act_memory, m->act_ints);
    layout_dacts(m, m->dact_memory);

    if (r1_rope_init(&m->rope, &m->hp, NULL, err) != R1_OK) goto fail;
    for (int t = 0; t < cfg->seq_len; t++) r1_rope_angles(&m->rope, t, m->cos_sin + (size_t)t * cfg->qk_rope);

    /* every tensor draws from its own stream, keyed by its index */
    float branch_scale = 1.0f / sqrtf(2.0f * (float)cfg->n_layers);
    for (int i = 0; i < m->n_tensors; i++) {
        r1_train_tensor *t = &m->tensors[i];
        if (!t->grad) continue; /* expert bias: starts at zero */
        if (!t->decay) {
            for (size_t j = 0; j < t->size; j++) t->data[j] = 1.0f;
            continue;
        }
        uint64_t state = seed * 0x100000001B3ull + (uint64_t)i;
        fill_normal(&state, t->data, t->size, cfg->init_std * (is_branch_output(t->name) ? branch_scale : 1.0f));
    }
    return R1_OK;
fail:
    r1_train_model_free(m);
    return R1_ERR;
}

void r1_train_model_free(r1_train_model *m) {
    r1_rope_free(&m->rope);
    free(m->tensors);
    free(m->params);
    free(m->grads);
    free(m->expert_bias);
    free(m->expert_load);
    free(m->layers);
    free(m->dlayers);
    free(m->acts);
    free(m->act_memory);
    free(m->act_ints);
    free(m->dact_memory);
    memset(m, 0, sizeof *m);
}

void r1_train_model_set_pool(r1_train_model *m, r1_pool *pool) { m->pool = pool; }

void r1_train_zero_grad(r1_train_model *m) { r1_rows_zero(m->pool, m->grads, m->n_params); }
