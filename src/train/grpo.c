/* `r1 train grpo`: R1-Zero on the tiny model (see grpo.h). */
#include "train/grpo.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/progress.h"
#include "gguf/gguf.h"
#include "infer/generate.h"
#include "model/model.h"
#include "model/state.h"
#include "tensor/matmul.h"
#include "tokenizer/chat.h"
#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/task.h"
#include "train/vocab.h"

/* ---- settings ---- */

static const char *const variant_names[] = {"grpo", "dr-grpo", "dapo"};
static const char *const task_names[] = {"countdown", "arithmetic", "mix"};

r1_grpo_config r1_grpo_default_config(void) {
    r1_grpo_config c = {
        .base = r1_pretrain_default_config(),
        .variant = R1_GRPO_GRPO,
        .task = R1_GRPO_TASK_MIX,
        .steps = 200,
        .prompts = 8,
        .group = 8,
        .max_tokens = 256,
        .temperature = 1.0f,
        .lr = 1e-5f,
        .weight_decay = 0.0f,
        .clip = 1.0f,
        .beta = 0.04f,
        .eps = 0.2f,
        .eps_high = 0.28f,
        .seed = 1,
        .threads = 1,
    };
    return c;
}

static int by_name(const char *const *names, int n, const char *what, const char *name, int *out, r1_err *err) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return *out = i, R1_OK;
    return r1_fail(err, "grpo: unknown %s '%s' (%s|%s|%s)", what, name, names[0], names[1], names[2]);
}

int r1_grpo_variant_by_name(const char *name, r1_grpo_variant *out, r1_err *err) {
    int v;
    if (by_name(variant_names, 3, "variant", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_grpo_variant)v;
    return R1_OK;
}

int r1_grpo_task_by_name(const char *name, r1_grpo_task *out, r1_err *err) {
    int v;
    if (by_name(task_names, 3, "task", name, &v, err) != R1_OK) return R1_ERR;
    *out = (r1_grpo_task)v;
    return R1_OK;
}

const char *r1_grpo_variant_name(r1_grpo_variant v) { return v <= R1_GRPO_DAPO ? variant_names[v] : "unknown"; }

int r1_grpo_config_check(const r1_grpo_config *c, r1_err *err) {
    if (r1_pretrain_config_check(&c->base, err) != R1_OK) return R1_ERR;
    if (c->steps < 1 || c->prompts < 1 || c->group < 2 || c->max_tokens < 1 || c->threads < 1)
        return r1_fail(err, "grpo: steps %d, prompts %d, group %d (at least 2), max_tokens %d, threads %d", c->steps,
                       c->prompts, c->group, c->max_tokens, c->threads);
    if ((size_t)c->prompts * c->group > 65536)
        return r1_fail(err, "grpo: %d prompts × %d samples is too many", c->prompts, c->group);
    if (!(c->lr > 0 && c->beta >= 0 && c->eps > 0 && c->eps < 1 && c->eps_high > 0 && c->temperature > 0 &&
          c->clip >= 0 && c->weight_decay >= 0))
        return r1_fail(err, "grpo: lr %g (> 0), beta %g (≥ 0), eps %g (0..1), eps_high %g (> 0), temperature %g "
                            "(> 0), clip %g, weight_decay %g",
                       c->lr, c->beta, c->eps, c->eps_high, c->temperature, c->clip, c->weight_decay);
    if (c->variant > R1_GRPO_DAPO || c->task > R1_GRPO_TASK_MIX) return r1_fail(err, "grpo: bad variant or task");
    return R1_OK;
}

typedef enum { GF_INT, GF_FLOAT, GF_U64, GF_VARIANT, GF_TASK } gfield_type;
typedef struct {
    const char *key;
    gfield_type type;
    size_t offset;
} gfield;

#define G(key, type, member) {key, type, offsetof(r1_grpo_config, member)}
static const gfield gfields[] = {
    G("grpo.variant", GF_VARIANT, variant), G("grpo.task", GF_TASK, task),
    G("grpo.steps", GF_INT, steps),         G("grpo.prompts", GF_INT, prompts),
    G("grpo.group", GF_INT, group),         G("grpo.max_tokens", GF_INT, max_tokens),
    G("grpo.temperature", GF_FLOAT, temperature), G("grpo.lr", GF_FLOAT, lr),
    G("grpo.weight_decay", GF_FLOAT, weight_decay), G("grpo.clip", GF_FLOAT, clip),
    G("grpo.beta", GF_FLOAT, beta),         G("grpo.eps", GF_FLOAT, eps),
    G("grpo.eps_high", GF_FLOAT, eps_high), G("grpo.seed", GF_U64, seed),
    G("grpo.threads", GF_INT, threads),
};
#undef G
enum { N_GFIELDS = sizeof gfields / sizeof gfields[0] };

/* The base settings' strings, then the grpo.* ones. */
static int config_to_strings(const r1_grpo_config *c, char ***strings, size_t *n, r1_err *err) {
    char **base;
    size_t n_base;
    if (r1_pretrain_config_to_strings(&c->base, &base, &n_base, err) != R1_OK) return R1_ERR;
    char **out = r1_calloc(err, n_base + N_GFIELDS, sizeof *out, "config strings");
    if (!out) return r1_pretrain_config_free_strings(base, n_base), R1_ERR;
    memcpy(out, base, n_base * sizeof *out);
    free(base);
    for (int i = 0; i < N_GFIELDS; i++) {
        const void *at = (const char *)c + gfields[i].offset;
        char value[64];
        switch (gfields[i].type) {
        case GF_INT: snprintf(value, sizeof value, "%d", *(const int *)at); break;
        case GF_FLOAT: snprintf(value, sizeof value, "%.9g", *(const float *)at); break;
        case GF_U64: snprintf(value, sizeof value, "%llu", (unsigned long long)*(const uint64_t *)at); break;
        case GF_VARIANT: snprintf(value, sizeof value, "%s", variant_names[*(const r1_grpo_variant *)at]); break;
        case GF_TASK: snprintf(value, sizeof value, "%s", task_names[*(const r1_grpo_task *)at]); break;
        }
        char *s = r1_malloc(err, strlen(gfields[i].key) + strlen(value) + 2, "config string");
        if (!s) return r1_pretrain_config_free_strings(out, n_base + i), R1_ERR;
        sprintf(s, "%s=%s", gfields[i].key, value);
        out[n_base + i] = s;
    }
    *strings = out;
    *n = n_base + N_GFIELDS;
    return R1_OK;
}

static int config_set(r1_grpo_config *c, const char *key_value, r1_err *err) {
    const char *eq = strchr(key_value, '=');
    if (!eq || strncmp(key_value, "grpo.", 5)) return r1_pretrain_config_set(&c->base, key_value, err);
    size_t key_len = (size_t)(eq - key_value);
    const char *value = eq + 1;
    for (int i = 0; i < N_GFIELDS; i++) {
        if (strlen(gfields[i].key) != key_len || memcmp(gfields[i].key, key_value, key_len)) continue;
        void *at = (char *)c + gfields[i].offset;
        char *end = (char *)value + 1;
        errno = 0;
        switch (gfields[i].type) {
        case GF_INT: {
            long v = strtol(value, &end, 10);
            if (v < -2147483647L || v > 2147483647L) errno = ERANGE;
            *(int *)at = (int)v;
            break;
        }
        case GF_FLOAT: *(float *)at = strtof(value, &end); break;
        case GF_U64: *(uint64_t *)at = strtoull(value, &end, 10); break;
        case GF_VARIANT: return r1_grpo_variant_by_name(value, (r1_grpo_variant *)at, err);
        case GF_TASK: return r1_grpo_task_by_name(value, (r1_grpo_task *)at, err);
        }
        if (end == value || *end || errno) return r1_fail(err, "grpo: config %s: bad value '%s'", gfields[i].key, value);
        return R1_OK;
    }
    return r1_fail(err, "grpo: unknown config key '%.*s'", (int)key_len, key_value);
}

/* ---- the loss ---- */

int r1_grpo_advantages(r1_grpo_variant variant, const float *rewards, int n, float *advantages) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += rewards[i];
    mean /= n;
    for (int i = 0; i < n; i++) var += (rewards[i] - mean) * (rewards[i] - mean);
    /* the unbiased std, as torch.std in the GRPO reference implementations */
    double std = n > 1 ? sqrt(var / (n - 1)) : 0.0;
    int all_equal = 1;
    for (int i = 1; i < n; i++) all_equal &= rewards[i] == rewards[0];
    for (int i = 0; i < n; i++) {
        double a = rewards[i] - mean;
        if (variant != R1_GRPO_DR_GRPO) a /= std + 1e-4;
        advantages[i] = variant == R1_GRPO_DAPO && all_equal ? 0.0f : (float)a;
    }
    return !(variant == R1_GRPO_DAPO && all_equal);
}

/* ℓ = −min(ρA, clip(ρ)A) + β·k3. ∂(ρA)/∂logπ = ρA; the clipped branch is constant
 * in θ, so where min picks it (ρ outside the range on the side A pushes it), the
 * surrogate's gradient is 0. ∂k3/∂logπ = 1 − r_ref, since r_ref = exp(logπ_ref − logπ). */
float r1_grpo_token_grad(const r1_grpo_config *cfg, float logp, float logp_old, float logp_ref, float advantage,
                         float *loss, float *kl) {
    float eps_high = cfg->variant == R1_GRPO_DAPO ? cfg->eps_high : cfg->eps;
    float ratio = expf(logp - logp_old);
    float clipped = fminf(fmaxf(ratio, 1.0f - cfg->eps), 1.0f + eps_high);
    float unclipped_obj = ratio * advantage, clipped_obj = clipped * advantage;
    float grad = unclipped_obj <= clipped_obj ? -ratio * advantage : 0.0f;
    float value = -fminf(unclipped_obj, clipped_obj), k3 = 0.0f;
    if (cfg->beta > 0) {
        float r_ref = expf(logp_ref - logp);
        k3 = r_ref - (logp_ref - logp) - 1.0f;
        value += cfg->beta * k3;
        grad += cfg->beta * (1.0f - r_ref);
    }
    if (loss) *loss = value;
    if (kl) *kl = k3;
    return grad;
}

int r1_grpo_reflections(const char *text) {
    static const char *const words[] = {"wait", "Wait", "check", "Check"};
    int n = 0;
    for (int w = 0; w < 4; w++)
        for (const char *p = text; (p = strstr(p, words[w])); p += strlen(words[w])) n++;
    return n;
}

/* ---- the run directory ---- */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    char checkpoint[1100], config[1100], vocab[1100], metrics[1100], reward_plot[1100], length_plot[1100],
        policy[1100], model[1100];
} run_paths;

static int make_paths(run_paths *p, const char *dir, r1_err *err) {
    struct {
        char *out;
        const char *name;
    } files[] = {{p->checkpoint, "checkpoint.gguf"}, {p->config, "config.txt"},       {p->vocab, "vocab.gguf"},
                 {p->metrics, "metrics.csv"},        {p->reward_plot, "reward.svg"},  {p->length_plot, "length.svg"},
                 {p->policy, "policy.gguf"},         {p->model, "model.gguf"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (snprintf(files[i].out, 1100, "%s/%s", dir, files[i].name) >= 1100)
            return r1_fail(err, "grpo: path too long: %s", dir);
    return R1_OK;
}

static int write_config_txt(const char *path, char **strings, size_t n, r1_err *err) {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return r1_fail(err, "grpo: cannot create %s: %s", tmp, strerror(errno));
    int ok = fprintf(f, "# r1 train grpo settings (also stored in checkpoint.gguf)\nstage=grpo\n") > 0;
    for (size_t i = 0; i < n && ok; i++) ok = fprintf(f, "%s\n", strings[i]) > 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return r1_fail(err, "grpo: cannot write %s", path);
    }
    return R1_OK;
}

/* ---- checkpoints: params, opt.m.*, opt.v.*, and ref.* when there is a reference ---- */

static int save_checkpoint(const char *path, const r1_grpo_config *cfg, r1_train_model *m, const r1_train_model *ref,
                           const r1_adamw *opt, uint64_t step, r1_err *err) {
    r1_checkpoint ck = {.step = step, .total_steps = (uint64_t)cfg->steps, .rng_state = cfg->seed,
                        .adamw_step = opt->step};
    snprintf(ck.stage, sizeof ck.stage, "grpo");
    if (config_to_strings(cfg, &ck.config, &ck.n_config, err) != R1_OK) return R1_ERR;
    ck.tensors = r1_calloc(err, 4 * (size_t)m->n_tensors, sizeof *ck.tensors, "checkpoint tensors");
    int rc = R1_ERR;
    if (!ck.tensors) goto done;
    for (int pass = 0; pass < 4; pass++) {
        if (pass == 3 && !ref) break;
        for (int i = 0; i < m->n_tensors; i++) {
            const r1_train_tensor *t = &m->tensors[i];
            if ((pass == 1 || pass == 2) && !t->grad) continue;
            static const char *const prefix[] = {"", "opt.m.", "opt.v.", "ref."};
            r1_checkpoint_tensor *ct = &ck.tensors[ck.n_tensors++];
            snprintf(ct->name, sizeof ct->name, "%s%s", prefix[pass], t->name);
            ct->n_dims = t->n_dims;
            memcpy(ct->ne, t->ne, sizeof ct->ne);
            size_t offset = t->grad ? (size_t)(t->data - m->params) : 0;
            ct->data = pass == 0   ? t->data
                       : pass == 1 ? opt->m + offset
                       : pass == 2 ? opt->v + offset
                                   : ref->tensors[i].data;
        }
    }
    rc = r1_checkpoint_save(path, &ck, err);
done:
    free(ck.tensors);
    r1_pretrain_config_free_strings(ck.config, ck.n_config);
    return rc;
}

static int restore_tensor(const r1_checkpoint *ck, const char *path, const char *prefix, const r1_train_tensor *t,
                          float *dst, r1_err *err) {
    char name[R1_CHECKPOINT_NAME_MAX + 8];
    snprintf(name, sizeof name, "%s%s", prefix, t->name);
    const r1_checkpoint_tensor *ct = r1_checkpoint_find(ck, name);
    if (!ct) return r1_fail(err, "grpo: %s: no tensor '%s'", path, name);
    if (r1_checkpoint_tensor_count(ct) != t->size)
        return r1_fail(err, "grpo: %s: tensor '%s' has %zu values, the model %zu", path, name,
                       r1_checkpoint_tensor_count(ct), t->size);
    memcpy(dst, ct->data, t->size * sizeof *dst);
    return R1_OK;
}

/* The settings stored in a checkpoint of either stage into *cfg (grpo.* keys only
 * from grpo checkpoints). */
static int config_from_checkpoint(const r1_checkpoint *ck, const char *path, r1_grpo_config *cfg, r1_err *err) {
    if (strcmp(ck->stage, "pretrain") && strcmp(ck->stage, "grpo"))
        return r1_fail(err, "grpo: %s is a '%s' checkpoint, not a pretrain or grpo one", path, ck->stage);
    cfg->base = r1_pretrain_default_config();
    for (size_t i = 0; i < ck->n_config; i++)
        if (config_set(cfg, ck->config[i], err) != R1_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return r1_fail(err, "%s (in %s)", msg, path);
        }
    return R1_OK;
}

/* ---- the run ---- */

typedef struct {
    int prompt;            /* index into the step's prompts */
    int *completion;       /* (n_completion) generated ids, EOS appended when it stopped there */
    int n_completion;
    float reward, advantage, weight; /* weight: the variant's normaliser, 0 = left out */
} sample;

typedef struct {
    r1_train_model model, ref;
    int have_ref;
    r1_adamw opt;
    r1_tokenizer *tok;
    r1_gguf vocab;
    int have_vocab;
    r1_metrics metrics;
    uint8_t *decay_mask;
    r1_checkpoint ck;
    int have_ck;
    r1_compute compute;
    int have_compute;
    /* the step's batch */
    int **prompt_ids, *prompt_len;  /* (P) */
    sample *samples;                /* (P·G) */
    int *tokens;                    /* (Bm, seq_len) */
    float *logp, *logp_ref, *weights; /* (Bm, seq_len) */
} run_state;

static void free_batch(run_state *s, const r1_grpo_config *cfg) {
    for (int p = 0; s->prompt_ids && p < cfg->prompts; p++) free(s->prompt_ids[p]), s->prompt_ids[p] = NULL;
    for (int i = 0; s->samples && i < cfg->prompts * cfg->group; i++)
        free(s->samples[i].completion), s->samples[i].completion = NULL;
}

static void run_free(run_state *s, const r1_grpo_config *cfg) {
    free_batch(s, cfg);
    free(s->prompt_ids), free(s->prompt_len), free(s->samples);
    free(s->tokens), free(s->logp), free(s->logp_ref), free(s->weights);
    r1_train_model_free(&s->model);
    if (s->have_ref) r1_train_model_free(&s->ref);
    r1_adamw_free(&s->opt);
    r1_tokenizer_free(s->tok);
    if (s->have_vocab) r1_gguf_close(&s->vocab);
    r1_metrics_close(&s->metrics);
    free(s->decay_mask);
    if (s->have_ck) r1_checkpoint_free(&s->ck);
    if (s->have_compute) r1_compute_free(&s->compute);
}

static uint64_t sample_seed(uint64_t seed, uint64_t step, int prompt, int sample_index) {
    return r1_task_mix64(seed ^ r1_task_mix64((step << 32) ^ ((uint64_t)prompt << 12) ^ (uint64_t)sample_index));
}

typedef struct {
    int *ids, n, cap;
} token_sink;

static int collect_token(void *ctx, int token, const char *text, size_t len) {
    (void)text, (void)len;
    token_sink *sink = ctx;
    if (token >= 0 && sink->n < sink->cap) sink->ids[sink->n++] = token;
    return 1;
}

typedef struct {
    double reward, accuracy, length, reflect;
} sample_stats;

/* 1. Exports the policy, samples G completions of each of the step's P problems
 * with the engine, scores them. */
static int sample_step(run_state *s, const r1_grpo_config *cfg, const run_paths *paths, uint64_t step,
                       sample_stats *st, r1_err *err) {
    const int P = cfg->prompts, G = cfg->group, T = cfg->base.model.seq_len;
    if (r1_train_export_gguf(&s->model, paths->policy, &s->vocab, err) != R1_OK) return R1_ERR;
    r1_model engine;
    if (r1_model_load(&engine, paths->policy, err) != R1_OK) return R1_ERR;
    r1_state state;
    if (r1_state_init(&state, &engine, &s->compute, T, 512, err) != R1_OK) return r1_model_free(&engine), R1_ERR;
    int rc = R1_ERR;
    memset(st, 0, sizeof *st);
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling.temperature = cfg->temperature;
    gp.sampling.top_k = 0, gp.sampling.top_p = 1.0f, gp.sampling.min_p = 0.0f;
    gp.starts_thinking = 1;
    int eos = r1_tokenizer_eos(s->tok);
    for (int p = 0; p < P; p++) {
        uint64_t index = step * (uint64_t)P + (uint64_t)p;
        r1_task_kind kind = cfg->task == R1_GRPO_TASK_COUNTDOWN    ? R1_TASK_COUNTDOWN
                            : cfg->task == R1_GRPO_TASK_ARITHMETIC ? R1_TASK_ARITHMETIC
                                                                   : (r1_task_kind)(index % 2);
        r1_problem problem;
        char question[256], *rendered = NULL;
        size_t rendered_len;
        if (r1_task_generate(kind, R1_SPLIT_TRAIN, index, cfg->seed, &problem) != R1_OK ||
            r1_task_prompt(&problem, question, sizeof question) < 0) {
            r1_fail(err, "grpo: cannot pose problem %llu", (unsigned long long)index);
            goto done;
        }
        r1_chat_message msg = {"user", question};
        if (r1_chat_render(R1_CHAT_DEEPSEEK_R1, &msg, 1, 1, &rendered, &rendered_len, err) != R1_OK) goto done;
        int ok = r1_tokenize(s->tok, rendered, rendered_len, 0, 1, &s->prompt_ids[p], &s->prompt_len[p], err) == R1_OK;
        free(rendered);
        if (!ok) goto done;
        int room = T - s->prompt_len[p];
        if (room < 2) {
            r1_fail(err, "grpo: a prompt of %d tokens leaves no room in seq_len %d", s->prompt_len[p], T);
            goto done;
        }
        gp.max_tokens = cfg->max_tokens < room ? cfg->max_tokens : room;
        r1_prefill pf;
        if (r1_prefill_run(&state, s->prompt_ids[p], s->prompt_len[p], &pf, err) != R1_OK) goto done;
        for (int j = 0; j < G; j++) {
            sample *sm = &s->samples[p * G + j];
            sm->prompt = p;
            token_sink sink = {r1_malloc(err, (size_t)gp.max_tokens * sizeof(int) + sizeof(int), "completion"), 0,
                               (int)gp.max_tokens};
            sm->completion = sink.ids;
            if (!sink.ids) {
                r1_prefill_free(&pf);
                goto done;
            }
            gp.on_token = collect_token, gp.on_token_ctx = &sink;
            gp.sampling.seed = sample_seed(cfg->seed, step, p, j);
            r1_generation g;
            if (r1_generate_from(&state, s->tok, &pf, &gp, &g, err) != R1_OK) {
                r1_prefill_free(&pf);
                goto done;
            }
            /* stopping is an action too: EOS is trained when it was sampled */
            if (g.stopped_at_eos && sink.n < room) sink.ids[sink.n++] = eos;
            sm->n_completion = sink.n;
            r1_reward rw;
            sm->reward = r1_task_reward(&problem, g.text, &rw);
            st->reward += sm->reward;
            st->accuracy += rw.correct;
            st->length += g.n_tokens;
            st->reflect += r1_grpo_reflections(g.text);
            r1_generation_free(&g);
        }
        r1_prefill_free(&pf);
    }
    double n = (double)P * G;
    st->reward /= n, st->accuracy /= n, st->length /= n, st->reflect /= n;
    rc = R1_OK;
done:
    r1_state_free(&state);
    r1_model_free(&engine);
    return rc;
}

/* 2. Advantages and each sample's normaliser (grpo.h). */
static void weigh_samples(run_state *s, const r1_grpo_config *cfg) {
    const int P = cfg->prompts, G = cfg->group;
    float rewards[G], adv[G];
    long batch_tokens = 0;
    for (int p = 0; p < P; p++) {
        for (int j = 0; j < G; j++) rewards[j] = s->samples[p * G + j].reward;
        int used = r1_grpo_advantages(cfg->variant, rewards, G, adv);
        for (int j = 0; j < G; j++) {
            sample *sm = &s->samples[p * G + j];
            sm->advantage = adv[j];
            sm->weight = used && sm->n_completion > 0 ? 1.0f : 0.0f;
            if (sm->weight) batch_tokens += sm->n_completion;
        }
    }
    for (int i = 0; i < P * G; i++) {
        sample *sm = &s->samples[i];
        if (!sm->weight) continue;
        switch (cfg->variant) {
        case R1_GRPO_GRPO: sm->weight = 1.0f / ((float)P * G * sm->n_completion); break;
        case R1_GRPO_DR_GRPO: sm->weight = 1.0f / ((float)P * G * cfg->max_tokens); break;
        case R1_GRPO_DAPO: sm->weight = 1.0f / (float)batch_tokens; break;
        }
    }
}

/* 3–4. The loss over micro-batches of the trainer's batch size, gradients summed. */
static int loss_and_grad(run_state *s, const r1_grpo_config *cfg, double *loss_out, double *kl_out, r1_err *err) {
    const int S = cfg->prompts * cfg->group, Bm = cfg->base.model.batch, eos = r1_tokenizer_eos(s->tok);
    double loss = 0, kl = 0;
    long kl_tokens = 0;
    int next = 0;
    r1_train_zero_grad(&s->model);
    while (next < S) {
        int chosen[Bm], B = 0, T = 2;
        for (; next < S && B < Bm; next++) {
            const sample *sm = &s->samples[next];
            if (!sm->weight) continue;
            chosen[B++] = next;
            int len = s->prompt_len[sm->prompt] + sm->n_completion;
            if (len > T) T = len;
        }
        if (!B) break;
        for (int b = 0; b < B; b++) {
            const sample *sm = &s->samples[chosen[b]];
            int np = s->prompt_len[sm->prompt];
            int *row = s->tokens + (size_t)b * T;
            memcpy(row, s->prompt_ids[sm->prompt], (size_t)np * sizeof(int));
            memcpy(row + np, sm->completion, (size_t)sm->n_completion * sizeof(int));
            for (int t = np + sm->n_completion; t < T; t++) row[t] = eos;
        }
        if (s->have_ref && r1_train_token_logprobs(&s->ref, s->tokens, B, T, s->logp_ref, err) != R1_OK)
            return R1_ERR;
        if (r1_train_token_logprobs(&s->model, s->tokens, B, T, s->logp, err) != R1_OK) return R1_ERR;
        memset(s->weights, 0, (size_t)B * T * sizeof(float));
        for (int b = 0; b < B; b++) {
            const sample *sm = &s->samples[chosen[b]];
            int np = s->prompt_len[sm->prompt];
            /* position t predicts token t+1: the completion's tokens np .. np+n−1 */
            for (int t = np - 1; t < np - 1 + sm->n_completion; t++) {
                size_t at = (size_t)b * T + t;
                float logp = s->logp[at], token_loss, token_kl;
                /* π_old: the sampling policy, which is these parameters (one gradient step per batch) */
                float logp_old = logp;
                float grad = r1_grpo_token_grad(cfg, logp, logp_old, s->have_ref ? s->logp_ref[at] : logp,
                                                sm->advantage, &token_loss, &token_kl);
                s->weights[at] = sm->weight * grad;
                loss += sm->weight * token_loss;
                kl += token_kl, kl_tokens++;
            }
        }
        r1_train_backward_logprob_weights(&s->model, s->weights);
    }
    *loss_out = loss;
    *kl_out = kl_tokens ? kl / kl_tokens : 0.0;
    return R1_OK;
}

static const char *const metric_columns[] = {"reward", "accuracy", "length", "reflect", "kl",
                                             "loss",   "grad_norm", "lr",   "seconds"};
enum { N_METRICS = sizeof metric_columns / sizeof metric_columns[0] };

static int plot(const run_paths *p, r1_err *err) {
    static const char *const reward_cols[] = {"reward", "accuracy"}, *const length_cols[] = {"length"};
    return r1_metrics_plot_svg(p->metrics, p->reward_plot, "r1 train grpo: reward and accuracy", reward_cols, 2,
                               err) != R1_OK ||
                   r1_metrics_plot_svg(p->metrics, p->length_plot, "r1 train grpo: mean completion tokens",
                                       length_cols, 1, err) != R1_OK
               ? R1_ERR
               : R1_OK;
}

static int train_loop(run_state *s, const r1_grpo_config *cfg, const r1_grpo_options *opts, const run_paths *paths,
                      uint64_t start, r1_grpo_result *res, r1_err *err) {
    r1_train_model *m = &s->model;
    const uint64_t total = (uint64_t)cfg->steps;
    uint64_t stop = total;
    if (opts->stop_after > 0 && (uint64_t)opts->stop_after < stop) stop = (uint64_t)opts->stop_after;
    r1_progress bar;
    if (!opts->quiet) r1_progress_start(&bar, start ? "grpo (resumed)" : "grpo", "step", total - start);
    double t0 = now_seconds();
    char line[160] = "";
    uint64_t step = start;
    for (; step < stop; step++) {
        if (opts->interrupted && *opts->interrupted) break;
        double t_step = now_seconds();
        sample_stats st;
        double loss, kl;
        int rc = sample_step(s, cfg, paths, step, &st, err);
        if (rc == R1_OK) {
            weigh_samples(s, cfg);
            rc = loss_and_grad(s, cfg, &loss, &kl, err);
        }
        free_batch(s, cfg);
        if (rc != R1_OK) return R1_ERR;
        float grad_norm =
            r1_clip_grad_norm_pool(m->pool, m->grads, m->n_params, cfg->clip > 0 ? cfg->clip : INFINITY);
        if (!isfinite(grad_norm) || !isfinite(loss))
            return r1_fail(err, "grpo: step %llu: loss %g, gradient norm %g: training diverged (lower --lr)",
                           (unsigned long long)step + 1, loss, grad_norm);
        r1_adamw_step_pool(m->pool, &s->opt, m->params, m->grads, cfg->lr, s->decay_mask);
        r1_train_update_bias(m);

        uint64_t done = step + 1;
        double row[N_METRICS] = {st.reward, st.accuracy, st.length, st.reflect,          kl,
                                 loss,      grad_norm,   cfg->lr,   now_seconds() - t_step};
        if (r1_metrics_log(&s->metrics, done, row, err) != R1_OK) return R1_ERR;
        if (step == start) res->first_reward = st.reward;
        res->last_reward = st.reward, res->last_accuracy = st.accuracy, res->last_length = st.length;
        snprintf(line, sizeof line, "reward %.3f acc %.3f len %.0f kl %.4f", st.reward, st.accuracy, st.length, kl);
        if (!opts->quiet) r1_progress_update(&bar, done - start, line);
        if (opts->checkpoint_every > 0 && done % (uint64_t)opts->checkpoint_every == 0 && done < total)
            if (save_checkpoint(paths->checkpoint, cfg, m, s->have_ref ? &s->ref : NULL, &s->opt, done, err) !=
                    R1_OK ||
                plot(paths, err) != R1_OK)
                return R1_ERR;
    }
    if (!opts->quiet) r1_progress_finish(&bar, step - start, line);
    res->steps_done = step;
    res->seconds = now_seconds() - t0;
    if (save_checkpoint(paths->checkpoint, cfg, m, s->have_ref ? &s->ref : NULL, &s->opt, step, err) != R1_OK ||
        plot(paths, err) != R1_OK)
        return R1_ERR;
    if (step == total) {
        if (r1_train_export_gguf(m, paths->model, &s->vocab, err) != R1_OK) return R1_ERR;
        res->finished = 1;
    }
    return R1_OK;
}

/* Loads the init checkpoint (a file, or DIR/checkpoint.gguf) into s->ck and its
 * model settings into cfg->base. */
static int load_init(run_state *s, const char *init, r1_grpo_config *cfg, char *path, size_t size, r1_err *err) {
    struct stat sb;
    if (stat(init, &sb) != 0) return r1_fail(err, "grpo: --init %s: %s", init, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        if (snprintf(path, size, "%s/checkpoint.gguf", init) >= (int)size)
            return r1_fail(err, "grpo: path too long: %s", init);
    } else if (snprintf(path, size, "%s", init) >= (int)size)
        return r1_fail(err, "grpo: path too long: %s", init);
    if (r1_checkpoint_load(path, &s->ck, err) != R1_OK) return R1_ERR;
    s->have_ck = 1;
    r1_grpo_config from = *cfg;
    if (config_from_checkpoint(&s->ck, path, &from, err) != R1_OK) return R1_ERR;
    cfg->base = from.base;
    return R1_OK;
}

int r1_grpo(const r1_grpo_config *cfg_in, const r1_grpo_options *opts, r1_grpo_result *res, r1_err *err) {
    memset(res, 0, sizeof *res);
    if (!opts->out_dir || !*opts->out_dir) return r1_fail(err, "grpo: no output directory");
    run_paths paths;
    if (make_paths(&paths, opts->out_dir, err) != R1_OK) return R1_ERR;
    run_state s;
    memset(&s, 0, sizeof s);
    r1_grpo_config cfg = *cfg_in;
    char ck_path[1100];
    int rc = R1_ERR;

    if (opts->resume) {
        snprintf(ck_path, sizeof ck_path, "%s", paths.checkpoint);
        if (access(ck_path, F_OK) != 0) return r1_fail(err, "grpo: --resume: no %s to continue", ck_path);
        if (r1_checkpoint_load(ck_path, &s.ck, err) != R1_OK) return R1_ERR;
        s.have_ck = 1;
        if (strcmp(s.ck.stage, "grpo")) {
            r1_fail(err, "grpo: %s is a '%s' checkpoint, not a grpo one", ck_path, s.ck.stage);
            goto done;
        }
        if (config_from_checkpoint(&s.ck, ck_path, &cfg, err) != R1_OK) goto done;
        if (s.ck.total_steps != (uint64_t)cfg.steps || s.ck.step > s.ck.total_steps) {
            r1_fail(err, "grpo: %s: step %llu of %llu does not match steps=%d", ck_path,
                    (unsigned long long)s.ck.step, (unsigned long long)s.ck.total_steps, cfg.steps);
            goto done;
        }
    } else {
        if (!opts->init || !*opts->init) return r1_fail(err, "grpo: no --init model (a pretrain run directory)");
        if (load_init(&s, opts->init, &cfg, ck_path, sizeof ck_path, err) != R1_OK) goto done;
        if (mkdir(opts->out_dir, 0777) != 0 && errno != EEXIST) {
            r1_fail(err, "grpo: cannot create %s: %s", opts->out_dir, strerror(errno));
            goto done;
        }
        if (access(paths.checkpoint, F_OK) == 0) {
            r1_fail(err, "grpo: %s already holds a run (checkpoint.gguf): continue it with --resume, or choose "
                         "another --out",
                    opts->out_dir);
            goto done;
        }
    }
    if (r1_grpo_config_check(&cfg, err) != R1_OK) goto done;
    uint64_t start = opts->resume ? s.ck.step : 0;
    res->start_step = start;
    res->total_steps = (uint64_t)cfg.steps;

    if (r1_vocab_tokenizer(paths.vocab, &s.tok, err) != R1_OK) goto done;
    if (r1_gguf_open(&s.vocab, paths.vocab, err) != R1_OK) goto done;
    s.have_vocab = 1;
    if (r1_train_model_init(&s.model, &cfg.base.model, cfg.base.data.seed, err) != R1_OK) goto done;
    r1_adamw_hparams hp = {.lr = cfg.lr, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = cfg.weight_decay};
    if (r1_adamw_init(&s.opt, s.model.n_params, hp, err) != R1_OK) goto done;
    for (int i = 0; i < s.model.n_tensors; i++) {
        r1_train_tensor *t = &s.model.tensors[i];
        if (restore_tensor(&s.ck, ck_path, "", t, t->data, err) != R1_OK) goto done;
        if (!opts->resume || !t->grad) continue;
        size_t offset = (size_t)(t->data - s.model.params);
        if (restore_tensor(&s.ck, ck_path, "opt.m.", t, s.opt.m + offset, err) != R1_OK ||
            restore_tensor(&s.ck, ck_path, "opt.v.", t, s.opt.v + offset, err) != R1_OK)
            goto done;
    }
    if (opts->resume) s.opt.step = s.ck.adamw_step;
    if (cfg.beta > 0) {
        if (r1_train_model_init(&s.ref, &cfg.base.model, cfg.base.data.seed, err) != R1_OK) goto done;
        s.have_ref = 1;
        for (int i = 0; i < s.ref.n_tensors; i++) {
            r1_train_tensor *t = &s.ref.tensors[i];
            if (opts->resume) {
                if (restore_tensor(&s.ck, ck_path, "ref.", t, t->data, err) != R1_OK) goto done;
            } else memcpy(t->data, s.model.tensors[i].data, t->size * sizeof(float));
        }
    }
    r1_checkpoint_free(&s.ck);
    s.have_ck = 0;
    if (start == (uint64_t)cfg.steps) {
        res->steps_done = start;
        res->was_finished = res->finished = 1;
        rc = access(paths.model, F_OK) == 0 ? R1_OK : r1_train_export_gguf(&s.model, paths.model, &s.vocab, err);
        goto done;
    }
    char **strings;
    size_t n_strings;
    if (config_to_strings(&cfg, &strings, &n_strings, err) != R1_OK) goto done;
    rc = write_config_txt(paths.config, strings, n_strings, err);
    r1_pretrain_config_free_strings(strings, n_strings);
    if (rc != R1_OK) goto done;
    rc = R1_ERR;

    s.decay_mask = r1_calloc(err, s.model.n_params, 1, "decay mask");
    const size_t S = (size_t)cfg.prompts * cfg.group, BT = (size_t)cfg.base.model.batch * cfg.base.model.seq_len;
    s.prompt_ids = r1_calloc(err, (size_t)cfg.prompts, sizeof *s.prompt_ids, "prompts");
    s.prompt_len = r1_calloc(err, (size_t)cfg.prompts, sizeof *s.prompt_len, "prompts");
    s.samples = r1_calloc(err, S, sizeof *s.samples, "samples");
    s.tokens = r1_calloc(err, BT, sizeof *s.tokens, "batch");
    s.logp = r1_calloc(err, BT, sizeof *s.logp, "batch");
    s.logp_ref = r1_calloc(err, BT, sizeof *s.logp_ref, "batch");
    s.weights = r1_calloc(err, BT, sizeof *s.weights, "batch");
    if (!s.decay_mask || !s.prompt_ids || !s.prompt_len || !s.samples || !s.tokens || !s.logp || !s.logp_ref ||
        !s.weights)
        goto done;
    for (int i = 0; i < s.model.n_tensors; i++) {
        const r1_train_tensor *t = &s.model.tensors[i];
        if (t->grad && t->decay) memset(s.decay_mask + (t->data - s.model.params), 1, t->size);
    }
    if (r1_compute_init(&s.compute, cfg.threads) != R1_OK) {
        r1_fail(err, "grpo: cannot start %d threads", cfg.threads);
        goto done;
    }
    s.have_compute = 1;
    /* the policy's (and the reference's) training passes share the sampler's threads */
    r1_train_model_set_pool(&s.model, s.compute.pool);
    if (s.have_ref) r1_train_model_set_pool(&s.ref, s.compute.pool);
    if (r1_metrics_open(&s.metrics, paths.metrics, metric_columns, N_METRICS, opts->resume ? (int64_t)start : -1,
                        err) != R1_OK)
        goto done;
    rc = train_loop(&s, &cfg, opts, &paths, start, res, err);
done:
    run_free(&s, &cfg);
    return rc;
}
