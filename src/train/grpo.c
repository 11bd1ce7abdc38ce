/* `r1 train grpo`: R1-Zero on the tiny model (see grpo.h). */
#include "train/grpo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/progress.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "model/state.h"
#include "tensor/matmul.h"
#include "tokenizer/chat.h"
#include "train/checkpoint.h"
#include "train/init_weights.h"
#include "train/lm_run.h"
#include "train/metrics.h"
#include "train/problem_set.h"
#include "train/rollout.h"
#include "train/settings.h"
#include "train/task.h"
#include "train/vocab.h"

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

/* ℓ = −min(ρA, clip(ρ)A) + β·k3 (DeepSeekMath eq. 3, per token). ∂(ρA)/∂logπ = ρA;
 * the clipped branch is constant in θ, so where min picks it (ρ outside the range
 * on the side A pushes it), the surrogate's gradient is 0. ∂k3/∂logπ = 1 − r_ref,
 * since r_ref = exp(logπ_ref − logπ) (eq. 4). */
float r1_grpo_token_grad(const r1_grpo_config *cfg, float logp, float logp_old, float logp_ref, float advantage,
                         r1_grpo_token_terms *terms) {
    float eps_high = cfg->variant == R1_GRPO_DAPO ? cfg->eps_high : cfg->eps;
    float ratio = expf(logp - logp_old);
    float clipped = fminf(fmaxf(ratio, 1.0f - cfg->eps), 1.0f + eps_high);
    float unclipped_obj = ratio * advantage, clipped_obj = clipped * advantage;
    int is_clipped = clipped_obj < unclipped_obj;
    float grad = is_clipped ? 0.0f : -ratio * advantage;
    float value = -fminf(unclipped_obj, clipped_obj), k3 = 0.0f;
    if (cfg->beta > 0) {
        float r_ref = expf(logp_ref - logp);
        k3 = r_ref - (logp_ref - logp) - 1.0f;
        value += cfg->beta * k3;
        grad += cfg->beta * (1.0f - r_ref);
    }
    if (terms) *terms = (r1_grpo_token_terms){.loss = value, .kl = k3, .clipped = is_clipped};
    return grad;
}

int r1_grpo_reflections(const char *text) {
    static const char *const words[] = {"wait", "Wait", "check", "Check"};
    int n = 0;
    for (int w = 0; w < 4; w++)
        for (const char *p = text; (p = strstr(p, words[w])); p += strlen(words[w])) n++;
    return n;
}

int r1_grpo_backtracks(const char *text) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, ". No.")); p += 5) n++;
    return n;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- checkpoints: params, opt.m.*, opt.v.*, and ref.* when there is a reference ---- */

static int save_checkpoint(const char *path, const r1_grpo_config *cfg, r1_train_model *m, const r1_train_model *ref,
                           const r1_adamw *opt, uint64_t step, r1_err *err) {
    r1_checkpoint ck = {.step = step, .total_steps = (uint64_t)cfg->steps, .rng_state = cfg->seed,
                        .adamw_step = opt->step};
    snprintf(ck.stage, sizeof ck.stage, "grpo");
    if (r1_grpo_config_to_strings(cfg, &ck.config, &ck.n_config, err) != R1_OK) return R1_ERR;
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
    r1_settings_free_strings(ck.config, ck.n_config);
    return rc;
}

static int restore_tensor(const r1_checkpoint *ck, const char *path, const char *prefix, const r1_train_tensor *t,
                          float *dst, r1_err *err) {
    char name[R1_CHECKPOINT_NAME_MAX + 8];
    snprintf(name, sizeof name, "%s%s", prefix, t->name);
    if (r1_checkpoint_restore_tensor(ck, path, name, t->n_dims, t->ne, dst, err) != R1_OK)
        return r1_fail_within(err, "grpo: ");
    return R1_OK;
}

static int set_setting(void *cfg, const char *key_value, r1_err *err) {
    return r1_grpo_config_set(cfg, key_value, err);
}

/* ---- the run ---- */

typedef struct {
    int *completion;       /* (n_completion) ids drawn, EOS included when it was drawn */
    float *logp_old;       /* (n_completion) log π_old of each, recorded by the sampler */
    float *advantages;     /* (n_completion) the share of A each carries (credit.h) */
    int n_completion;
    float reward;
    float weight;          /* the variant's normaliser in the sample's minibatch */
} sample;

typedef struct {
    r1_lm_run run;         /* the run directory, the resumed checkpoint, the tokenizer,
                              the policy (run.model), its optimizer and metrics; the
                              step is grpo's own (lm_run.h) */
    r1_train_model ref;
    int have_ref;
    r1_model engine;       /* a view of run.model's parameters: the sampling policy */
    int have_engine;
    r1_state state;        /* the engine's cache, seq_len tokens */
    int have_state;
    r1_sequences seqs;     /* the caches of a group's other samples, decoded beside state's */
    r1_gguf vocab;
    int have_vocab;
    r1_compute compute;
    int have_compute;
    r1_problem_set test_problems; /* (eval_n) the held-out problems, when evaluating */
    /* one group's rollouts */
    uint64_t *seeds;                 /* (G) */
    r1_generation *generations;      /* (G) */
    r1_reward *rewards;              /* (G) */
    /* the step's batch: the kept groups */
    int n_groups;                    /* ≤ P */
    int **prompt_ids, *prompt_len;   /* (P) */
    sample *samples;                 /* (P·G), group g's at g·G .. g·G+G−1 */
    int completion_cap;              /* min(max_tokens, seq_len): room for one completion */
    float *logp_ref;                 /* (P·G, completion_cap) log π_ref per completion token */
    int *order;                      /* (P·G) the samples of a pass, in micro-batch order */
    int64_t *sort_keys;              /* (P·G) */
    /* one micro-batch of the trainer */
    int *tokens;                     /* (Bm, seq_len) */
    float *logp, *weights;           /* (Bm, seq_len) */
} run_state;

static void free_batch(run_state *s, const r1_grpo_config *cfg) {
    for (int g = 0; g < s->n_groups; g++) free(s->prompt_ids[g]), s->prompt_ids[g] = NULL;
    for (int i = 0; i < s->n_groups * cfg->group; i++) {
        sample *sm = &s->samples[i];
        free(sm->completion), free(sm->logp_old), free(sm->advantages);
        sm->completion = NULL, sm->logp_old = NULL, sm->advantages = NULL;
    }
    s->n_groups = 0;
}

static void run_free(run_state *s, const r1_grpo_config *cfg) {
    free_batch(s, cfg);
    free(s->seeds), free(s->generations), free(s->rewards);
    free(s->prompt_ids), free(s->prompt_len), free(s->samples), free(s->logp_ref), free(s->order), free(s->sort_keys);
    free(s->tokens), free(s->logp), free(s->weights);
    r1_sequences_free(&s->seqs);
    if (s->have_state) r1_state_free(&s->state);
    if (s->have_engine) r1_model_free(&s->engine);
    if (s->have_ref) r1_train_model_free(&s->ref);
    if (s->have_vocab) r1_gguf_close(&s->vocab);
    if (s->have_compute) r1_compute_free(&s->compute);
    r1_problem_set_free(&s->test_problems);
    r1_lm_run_free(&s->run);
}

/* ---- 1. rollouts ---- */

static uint64_t sample_seed(uint64_t seed, uint64_t step, int draw, int sample_index) {
    return r1_task_mix64(seed ^ r1_task_mix64((step << 32) ^ ((uint64_t)draw << 12) ^ (uint64_t)sample_index));
}

/* Problems drawn at most per step; also the stride of the problem index, so that
 * the problems of a step depend on nothing but (seed, step). */
static int draws_per_step(const r1_grpo_config *cfg) {
    return cfg->prompts + (cfg->variant == R1_GRPO_DAPO ? cfg->max_extra : 0);
}

/* Poses problem with the R1 template into *ids and sets gp->max_tokens to what
 * fits after it in seq_len. */
static int pose(const run_state *s, const r1_grpo_config *cfg, const r1_problem *problem, int **ids, int *n_ids,
                r1_generate_params *gp, r1_err *err) {
    if (r1_rollout_prompt(s->run.tok, R1_CHAT_DEEPSEEK_R1, problem, ids, n_ids, err) != R1_OK)
        return r1_fail_within(err, "grpo: ");
    int room = cfg->base.model.seq_len - *n_ids;
    if (room < 2) {
        free(*ids);
        return r1_fail(err, "grpo: a prompt of %d tokens leaves no room in seq_len %d", *n_ids,
                       cfg->base.model.seq_len);
    }
    gp->max_tokens = cfg->max_tokens < room ? cfg->max_tokens : room;
    gp->starts_thinking = r1_chat_template_starts_thinking(R1_CHAT_DEEPSEEK_R1);
    return R1_OK;
}

typedef struct {
    double reward, accuracy, length, reflect, backtrack; /* means over every sample drawn */
    long checked, false_steps;                /* Countdown samples drawn; with a false step */
    double false_step;                        /* false_steps / checked, nan when none */
    int dropped_groups, extra_groups;
    double seconds;
} rollout_stats;

/* Draws problem `draw` of the step and samples G completions of it from the
 * policy at the configured temperature, without top-k/top-p truncation, recording
 * log π_old (the policy's own, at temperature 1: what the ratio compares); keeps
 * the group as the next of the batch unless dapo drops it (rewards all equal). */
static int draw_group(run_state *s, const r1_grpo_config *cfg, uint64_t step, int draw, rollout_stats *st,
                      r1_err *err) {
    const int G = cfg->group;
    uint64_t index = step * (uint64_t)draws_per_step(cfg) + (uint64_t)draw;
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling.temperature = cfg->temperature;
    gp.sampling.top_k = 0, gp.sampling.top_p = 1.0f, gp.sampling.min_p = 0.0f;
    gp.logprobs = 1;
    r1_problem problem;
    int *ids, n_ids;
    if (r1_problem_generate(r1_grpo_task_name(cfg->task), R1_SPLIT_TRAIN, index, cfg->seed, &problem, err) != R1_OK)
        return r1_fail_within(err, "grpo: ");
    if (pose(s, cfg, &problem, &ids, &n_ids, &gp, err) != R1_OK) return R1_ERR;
    for (int j = 0; j < G; j++) s->seeds[j] = sample_seed(cfg->seed, step, draw, j);
    if (r1_rollout_sample(&s->state, &s->seqs, s->run.tok, &problem, ids, n_ids, &gp, s->seeds, G, s->generations, s->rewards,
                          err) != R1_OK) {
        free(ids);
        return r1_fail_within(err, "grpo: step %llu, problem %d: ", (unsigned long long)step + 1, draw + 1);
    }
    float rewards[G], advantages[G];
    for (int j = 0; j < G; j++) rewards[j] = r1_reward_value(&s->rewards[j], cfg->format_reward);
    int kept = r1_grpo_advantages(cfg->variant, rewards, G, advantages), rc = R1_OK;
    for (int j = 0; j < G && rc == R1_OK; j++) {
        r1_generation *g = &s->generations[j];
        st->reward += rewards[j];
        st->accuracy += s->rewards[j].correct;
        st->length += g->n_tokens;
        st->reflect += r1_grpo_reflections(g->text);
        st->backtrack += r1_grpo_backtracks(g->text);
        sample *sm = &s->samples[s->n_groups * G + j];
        int n_completion = g->n_tokens + g->stopped_at_eos;
        float *per_token = r1_malloc(err, (size_t)(n_completion ? n_completion : 1) * sizeof(float), "advantages");
        r1_credit_check check;
        rc = per_token ? r1_credit_assign(cfg->credit, s->run.tok, &problem, g->tokens, n_completion,
                                          s->rewards[j].correct, advantages[j], per_token, &check, err)
                       : R1_ERR;
        if (rc == R1_OK) st->checked += check.checked, st->false_steps += check.false_step;
        if (rc != R1_OK || !kept) {
            free(per_token);
            continue;
        }
        sm->completion = g->tokens, sm->logp_old = g->logprobs, sm->advantages = per_token;
        g->tokens = NULL, g->logprobs = NULL;
        sm->n_completion = n_completion;
        sm->reward = rewards[j];
    }
    if (kept) {
        s->prompt_ids[s->n_groups] = ids;
        s->prompt_len[s->n_groups] = n_ids;
        s->n_groups++;
    } else {
        free(ids);
        st->dropped_groups++;
    }
    for (int j = 0; j < G; j++) r1_generation_free(&s->generations[j]);
    return rc == R1_OK ? R1_OK : r1_fail_within(err, "grpo: step %llu, problem %d: ", (unsigned long long)step + 1,
                                               draw + 1);
}

/* 1. The step's batch: P groups, and with dapo, while fewer than P are kept, up
 * to max_extra more draws (DAPO §3.2). The statistics cover every draw. */
static int rollout_step(run_state *s, const r1_grpo_config *cfg, uint64_t step, rollout_stats *st, r1_err *err) {
    double t0 = now_seconds();
    memset(st, 0, sizeof *st);
    int draw = 0;
    for (; draw < draws_per_step(cfg) && s->n_groups < cfg->prompts; draw++)
        if (draw_group(s, cfg, step, draw, st, err) != R1_OK) return R1_ERR;
    st->extra_groups = draw - cfg->prompts;
    double n = (double)draw * cfg->group;
    st->reward /= n, st->accuracy /= n, st->length /= n, st->reflect /= n, st->backtrack /= n;
    st->false_step = st->checked ? (double)st->false_steps / (double)st->checked : NAN;
    st->seconds = now_seconds() - t0;
    return R1_OK;
}

/* ---- 3–4. the update ---- */

static int sequence_length(const run_state *s, int group, int i) {
    return s->prompt_len[i / group] + s->samples[i].n_completion;
}

static int by_key(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Orders samples idx[0..n) by sequence length (ties by index), so that each
 * micro-batch pads its rows to a length close to theirs. */
static void sort_by_length(run_state *s, int group, int *idx, int n) {
    for (int i = 0; i < n; i++) s->sort_keys[i] = (int64_t)sequence_length(s, group, idx[i]) << 20 | idx[i];
    qsort(s->sort_keys, (size_t)n, sizeof *s->sort_keys, by_key);
    for (int i = 0; i < n; i++) idx[i] = (int)(s->sort_keys[i] & 0xFFFFF);
}

/* Lays samples rows[0..B) out as the trainer's batch (prompt, then completion,
 * EOS padding to the longest) and runs m over it into s->logp (B, *T). */
static int forward_rows(run_state *s, r1_train_model *m, int group, const int *rows, int B, int *T, r1_err *err) {
    const int eos = r1_tokenizer_eos(s->run.tok);
    *T = 2;
    for (int b = 0; b < B; b++) {
        int len = sequence_length(s, group, rows[b]);
        if (len > *T) *T = len;
    }
    for (int b = 0; b < B; b++) {
        const sample *sm = &s->samples[rows[b]];
        int np = s->prompt_len[rows[b] / group];
        int *row = s->tokens + (size_t)b * *T;
        memcpy(row, s->prompt_ids[rows[b] / group], (size_t)np * sizeof(int));
        memcpy(row + np, sm->completion, (size_t)sm->n_completion * sizeof(int));
        for (int t = np + sm->n_completion; t < *T; t++) row[t] = eos;
    }
    return r1_train_token_logprobs(m, s->tokens, B, *T, s->logp, err);
}

/* Where completion token 0 of row b's sample is predicted: position t predicts
 * token t+1, and the completion starts after the prompt. */
static size_t completion_at(const run_state *s, int group, int b, int T, int i) {
    return (size_t)b * T + s->prompt_len[i / group] - 1;
}

/* log π_ref of every kept completion token, once per batch (π_ref is frozen). */
static int reference_logprobs(run_state *s, const r1_grpo_config *cfg, r1_err *err) {
    const int n = s->n_groups * cfg->group, Bm = cfg->base.model.batch, G = cfg->group;
    for (int i = 0; i < n; i++) s->order[i] = i;
    sort_by_length(s, G, s->order, n);
    for (int first = 0; first < n; first += Bm) {
        const int *rows = s->order + first, B = n - first < Bm ? n - first : Bm;
        int T;
        if (forward_rows(s, &s->ref, G, rows, B, &T, err) != R1_OK) return R1_ERR;
        for (int b = 0; b < B; b++)
            memcpy(s->logp_ref + (size_t)rows[b] * s->completion_cap, s->logp + completion_at(s, G, b, T, rows[b]),
                   (size_t)s->samples[rows[b]].n_completion * sizeof(float));
    }
    return R1_OK;
}

/* Each sample's weight in its minibatch of n samples (grpo.h, step 3). */
static void weigh_minibatch(run_state *s, const r1_grpo_config *cfg, const int *idx, int n) {
    long tokens = 0;
    for (int i = 0; i < n; i++) tokens += s->samples[idx[i]].n_completion;
    for (int i = 0; i < n; i++) {
        sample *sm = &s->samples[idx[i]];
        switch (cfg->variant) {
        case R1_GRPO_GRPO: sm->weight = 1.0f / ((float)n * sm->n_completion); break;
        case R1_GRPO_DR_GRPO: sm->weight = 1.0f / ((float)n * cfg->max_tokens); break;
        case R1_GRPO_DAPO: sm->weight = 1.0f / (float)tokens; break;
        }
    }
}

typedef struct {
    double loss, kl, grad_norm, clip_fraction;
    long kl_tokens, clipped;  /* running counts over the passes */
} update_stats;

/* The gradient of the minibatch idx[0..n)'s weighted Σ ℓ into the model's grads,
 * over micro-batches of the trainer's batch size; its loss into *loss. */
static int minibatch_grad(run_state *s, const r1_grpo_config *cfg, int *idx, int n, double *loss, update_stats *us,
                          r1_err *err) {
    const int Bm = cfg->base.model.batch, G = cfg->group;
    weigh_minibatch(s, cfg, idx, n);
    sort_by_length(s, G, idx, n);
    r1_train_zero_grad(&s->run.model);
    *loss = 0;
    for (int first = 0; first < n; first += Bm) {
        const int *rows = idx + first, B = n - first < Bm ? n - first : Bm;
        int T;
        if (forward_rows(s, &s->run.model, G, rows, B, &T, err) != R1_OK) return R1_ERR;
        memset(s->weights, 0, (size_t)B * T * sizeof(float));
        for (int b = 0; b < B; b++) {
            const sample *sm = &s->samples[rows[b]];
            size_t at = completion_at(s, G, b, T, rows[b]);
            const float *logp_ref = s->have_ref ? s->logp_ref + (size_t)rows[b] * s->completion_cap : s->logp + at;
            for (int k = 0; k < sm->n_completion; k++) {
                r1_grpo_token_terms terms;
                float grad = r1_grpo_token_grad(cfg, s->logp[at + k], sm->logp_old[k], logp_ref[k],
                                                sm->advantages[k], &terms);
                s->weights[at + k] = sm->weight * grad;
                *loss += sm->weight * terms.loss;
                us->kl += terms.kl, us->kl_tokens++, us->clipped += terms.clipped;
            }
        }
        s->run.model.balance_share = (float)B / (float)n;
        r1_train_backward_logprob_weights(&s->run.model, s->weights);
    }
    return R1_OK;
}

/* 3–4. ppo_epochs passes over the batch (μ of DeepSeekMath Algorithm 1), each in
 * `minibatches` contiguous shares with one AdamW step per share. */
static int update(run_state *s, const r1_grpo_config *cfg, uint64_t step, float lr, update_stats *us, r1_err *err) {
    r1_train_model *m = &s->run.model;
    const int n = s->n_groups * cfg->group;
    memset(us, 0, sizeof *us);
    if (n == 0) return R1_OK; /* dapo found no group to learn from */
    if (s->have_ref && reference_logprobs(s, cfg, err) != R1_OK) return R1_ERR;
    const int share = (n + cfg->minibatches - 1) / cfg->minibatches;
    int n_updates = 0;
    for (int epoch = 0; epoch < cfg->ppo_epochs; epoch++)
        for (int first = 0; first < n; first += share, n_updates++) {
            int count = n - first < share ? n - first : share;
            for (int i = 0; i < count; i++) s->order[i] = first + i;
            double loss;
            if (minibatch_grad(s, cfg, s->order, count, &loss, us, err) != R1_OK) return R1_ERR;
            float grad_norm =
                r1_clip_grad_norm_pool(m->pool, m->grads, m->n_params, cfg->clip > 0 ? cfg->clip : INFINITY);
            if (!isfinite(grad_norm) || !isfinite(loss))
                return r1_fail(err, "grpo: step %llu: loss %g, gradient norm %g: training diverged (lower --lr)",
                               (unsigned long long)step + 1, loss, grad_norm);
            r1_adamw_step_pool(m->pool, &s->run.opt, m->params, m->grads, lr, s->run.decay_mask);
            r1_train_update_bias(m, cfg->bias_gamma);
            us->loss += loss, us->grad_norm += grad_norm;
        }
    us->loss /= n_updates, us->grad_norm /= n_updates;
    us->kl /= (double)us->kl_tokens;
    us->clip_fraction = (double)us->clipped / (double)us->kl_tokens;
    return R1_OK;
}

/* ---- 5. held-out accuracy ---- */

static int test_accuracy(run_state *s, const r1_grpo_config *cfg, volatile sig_atomic_t *interrupted,
                         double *accuracy, r1_err *err) {
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling.temperature = 0.0f;
    const uint64_t greedy_seed = 0;
    int correct = 0;
    for (long i = 0; i < s->test_problems.n; i++) {
        if (interrupted && *interrupted) return *accuracy = NAN, R1_OK; /* a stop does not wait for the score */
        const r1_problem *problem = &s->test_problems.items[i];
        int *ids, n_ids;
        if (pose(s, cfg, problem, &ids, &n_ids, &gp, err) != R1_OK) return R1_ERR;
        r1_generation g;
        r1_reward reward;
        int rc = r1_rollout_sample(&s->state, NULL, s->run.tok, problem, ids, n_ids, &gp, &greedy_seed, 1, &g, &reward, err);
        free(ids);
        if (rc != R1_OK) return r1_fail_within(err, "grpo: held-out problem %ld: ", i + 1);
        correct += reward.correct;
        r1_generation_free(&g);
    }
    *accuracy = (double)correct / (double)s->test_problems.n;
    return R1_OK;
}

/* ---- the loop ---- */

static const char *const metric_columns[] = {
    "reward",        "accuracy", "length",         "reflect",      "false_step",   "backtrack",
    "kl",            "loss",     "grad_norm",      "clip_fraction", "lr",          "dropped_groups",
    "extra_groups",  "test_accuracy", "sample_seconds", "seconds"};
enum { N_METRICS = sizeof metric_columns / sizeof metric_columns[0], TEST_ACCURACY_COLUMN = 13 };
_Static_assert(N_METRICS <= R1_METRICS_MAX_COLUMNS, "metrics.c logs at most R1_METRICS_MAX_COLUMNS columns");

/* The plots, next to metrics.csv, redrawn from it. */
static int plot(const r1_lm_run *run, r1_err *err) {
    static const char *const reward_cols[] = {"reward", "accuracy"}, *const accuracy_cols[] = {"accuracy",
                                                                                                 "test_accuracy"},
                             *const length_cols[] = {"length"}, *const reflect_cols[] = {"reflect"},
                             *const false_step_cols[] = {"false_step"}, *const backtrack_cols[] = {"backtrack"};
    const struct {
        const char *file, *title;
        const char *const *columns;
        int n_columns;
    } plots[] = {
        {"reward.svg", "r1 train grpo: reward and accuracy", reward_cols, 2},
        {"accuracy.svg", "r1 train grpo: accuracy on training samples and held-out (greedy)", accuracy_cols, 2},
        {"length.svg", "r1 train grpo: mean completion tokens", length_cols, 1},
        {"reflect.svg", "r1 train grpo: \"wait\"/\"check\" per completion", reflect_cols, 1},
        {"false_step.svg", "r1 train grpo: share of Countdown samples with a false step", false_step_cols, 1},
        {"backtrack.svg", "r1 train grpo: candidates ruled out (\". No.\") per completion", backtrack_cols, 1},
    };
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
        char svg[sizeof run->dir + 16];
        snprintf(svg, sizeof svg, "%s/%s", run->dir, plots[i].file);
        if (r1_metrics_plot_svg(run->metrics_path, svg, plots[i].title, plots[i].columns, plots[i].n_columns, err) !=
            R1_OK)
            return R1_ERR;
    }
    return R1_OK;
}

/* Evaluates into *test (and the result) when step is an evaluation step; *test
 * stays NaN when it is not one, or when a stop interrupted the evaluation. */
static int maybe_evaluate(run_state *s, const r1_grpo_config *cfg, const r1_grpo_options *opts, uint64_t step,
                          double *test, r1_grpo_result *res, r1_err *err) {
    *test = NAN;
    if (cfg->eval_every <= 0 || (step % (uint64_t)cfg->eval_every && step != (uint64_t)cfg->steps)) return R1_OK;
    if (test_accuracy(s, cfg, opts->interrupted, test, err) != R1_OK) return R1_ERR;
    if (isnan(*test)) return R1_OK;
    if (isnan(res->first_test_accuracy)) res->first_test_accuracy = *test;
    res->last_test_accuracy = *test;
    return R1_OK;
}

/* Saves the checkpoint and redraws the plots. */
static int save_run(run_state *s, const r1_grpo_config *cfg, uint64_t step, r1_err *err) {
    if (save_checkpoint(s->run.checkpoint_path, cfg, &s->run.model, s->have_ref ? &s->ref : NULL, &s->run.opt, step,
                        err) != R1_OK)
        return R1_ERR;
    return plot(&s->run, err);
}

static int train_loop(run_state *s, const r1_grpo_config *cfg, const r1_grpo_options *opts, uint64_t start,
                      r1_grpo_result *res, r1_err *err) {
    const uint64_t total = (uint64_t)cfg->steps;
    uint64_t stop = total;
    if (opts->stop_after > 0 && (uint64_t)opts->stop_after < stop) stop = (uint64_t)opts->stop_after;
    res->first_test_accuracy = res->last_test_accuracy = NAN;
    double row[N_METRICS];
    if (start == 0 && cfg->eval_every > 0) {
        /* step 0: the starting model's score, the baseline of the accuracy curve */
        for (int i = 0; i < N_METRICS; i++) row[i] = NAN;
        if (maybe_evaluate(s, cfg, opts, 0, &row[TEST_ACCURACY_COLUMN], res, err) != R1_OK ||
            (!isnan(row[TEST_ACCURACY_COLUMN]) && r1_metrics_log(&s->run.metrics, 0, row, err) != R1_OK))
            return R1_ERR;
    }
    r1_progress bar;
    if (!opts->quiet) r1_progress_start(&bar, start ? "grpo (resumed)" : "grpo", "step", total - start);
    double t0 = now_seconds();
    char line[160] = "";
    uint64_t step = start;
    for (; step < stop; step++) {
        if (opts->interrupted && *opts->interrupted) break;
        double t_step = now_seconds();
        float lr = r1_grpo_lr(cfg, (int)step);
        rollout_stats rs;
        update_stats us;
        int rc = rollout_step(s, cfg, step, &rs, err);
        if (rc == R1_OK) rc = update(s, cfg, step, lr, &us, err);
        free_batch(s, cfg);
        double test;
        uint64_t done = step + 1;
        if (rc != R1_OK) return R1_ERR;
        s->run.steps_taken = done - start;
        if (maybe_evaluate(s, cfg, opts, done, &test, res, err) != R1_OK) return R1_ERR;
        double values[N_METRICS] = {rs.reward,      rs.accuracy,  rs.length,    rs.reflect,       rs.false_step,
                                    rs.backtrack,   us.kl,        us.loss,      us.grad_norm,     us.clip_fraction,
                                    lr,             rs.dropped_groups, rs.extra_groups, test,    rs.seconds,
                                    now_seconds() - t_step};
        if (r1_metrics_log(&s->run.metrics, done, values, err) != R1_OK) return R1_ERR;
        if (step == start) res->first_reward = rs.reward;
        res->last_reward = rs.reward, res->last_accuracy = rs.accuracy, res->last_length = rs.length;
        res->last_clip_fraction = us.clip_fraction;
        res->last_dropped_groups = rs.dropped_groups, res->last_extra_groups = rs.extra_groups;
        int n = snprintf(line, sizeof line, "reward %.3f acc %.3f len %.0f kl %.4f clip %.3f", rs.reward,
                         rs.accuracy, rs.length, us.kl, us.clip_fraction);
        if (!isnan(res->last_test_accuracy)) snprintf(line + n, sizeof line - n, " test %.3f", res->last_test_accuracy);
        if (!opts->quiet) r1_progress_update(&bar, done - start, line);
        if (opts->checkpoint_every > 0 && done % (uint64_t)opts->checkpoint_every == 0 && done < total &&
            save_run(s, cfg, done, err) != R1_OK)
            return R1_ERR;
    }
    if (!opts->quiet) r1_progress_finish(&bar, step - start, line);
    res->steps_done = step;
    res->seconds = now_seconds() - t0;
    if (save_run(s, cfg, step, err) != R1_OK) return R1_ERR;
    if (step == total) {
        if (r1_train_export_gguf(&s->run.model, s->run.model_path, &s->vocab, err) != R1_OK) return R1_ERR;
        res->finished = 1;
    }
    return R1_OK;
}

/* The settings and the starting point: a new run's from cfg_in and the --init
 * weights (init_weights.h), whose architecture it takes into cfg->base.model
 * with, from a checkpoint, that run's batch shape and balancing constants (grpo
 * has no options for them; an exported model brings r1_train_config_default()'s)
 * and cfg_in's precision; a resumed run's from its checkpoint, but for cfg_in's
 * threads when given. Then the policy, its optimizer and the reference model,
 * built and loaded. */
static int build(run_state *s, const r1_grpo_config *cfg_in, const r1_grpo_options *opts, r1_grpo_config *cfg,
                 r1_err *err) {
    r1_init_weights init;
    int have_init = 0, rc = R1_ERR;
    *cfg = *cfg_in;
    if (!opts->resume) {
        if (!opts->init || !*opts->init) return r1_fail(err, "grpo: no --init model (a pretrain run directory)");
        /* a bad --init creates no directory */
        if (r1_init_weights_open(&init, opts->init, err) != R1_OK) return r1_fail_within(err, "grpo: ");
        have_init = 1;
        cfg->base.model = init.arch;
        cfg->base.model.precision = cfg_in->base.model.precision; /* this run's choice, not the weights' */
        if (strlen(opts->init) >= sizeof cfg->base.init) { /* kept in the settings, for the record */
            r1_fail(err, "grpo: --init path longer than %zu bytes", sizeof cfg->base.init - 1);
            goto done;
        }
        strcpy(cfg->base.init, opts->init);
    }
    if (r1_lm_run_open(&s->run, "grpo", opts->out_dir, opts->resume, err) != R1_OK) goto done;
    if (opts->resume) {
        *cfg = r1_grpo_default_config();
        if (r1_lm_run_read_settings(&s->run, set_setting, cfg, err) != R1_OK) goto done;
        if (cfg_in->threads) cfg->threads = cfg_in->threads; /* this machine's choice, as -t gives it */
        if (s->run.ck.total_steps != (uint64_t)cfg->steps || s->run.ck.step > s->run.ck.total_steps) {
            r1_fail(err, "grpo: %s: step %llu of %llu does not match steps=%d", s->run.checkpoint_path,
                    (unsigned long long)s->run.ck.step, (unsigned long long)s->run.ck.total_steps, cfg->steps);
            goto done;
        }
    }
    if (r1_grpo_config_check(cfg, err) != R1_OK) goto done;
    if (r1_vocab_tokenizer(s->run.vocab_path, &s->run.tok, err) != R1_OK) goto done;
    if (r1_gguf_open(&s->vocab, s->run.vocab_path, err) != R1_OK) goto done;
    s->have_vocab = 1;
    r1_train_model *m = &s->run.model;
    if (r1_train_model_init(m, &cfg->base.model, cfg->base.data.seed, err) != R1_OK) goto done;
    r1_adamw_hparams hp = {.lr = cfg->lr, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = cfg->weight_decay};
    if (r1_adamw_init(&s->run.opt, m->n_params, hp, err) != R1_OK) goto done;
    const r1_checkpoint *ck = &s->run.ck;
    const char *ck_path = s->run.checkpoint_path;
    if (opts->resume) {
        for (int i = 0; i < m->n_tensors; i++) {
            r1_train_tensor *t = &m->tensors[i];
            if (restore_tensor(ck, ck_path, "", t, t->data, err) != R1_OK) goto done;
            if (!t->grad) continue;
            size_t offset = (size_t)(t->data - m->params);
            if (restore_tensor(ck, ck_path, "opt.m.", t, s->run.opt.m + offset, err) != R1_OK ||
                restore_tensor(ck, ck_path, "opt.v.", t, s->run.opt.v + offset, err) != R1_OK)
                goto done;
        }
        s->run.opt.step = ck->adamw_step;
    } else if (r1_init_weights_load(&init, m, err) != R1_OK) {
        r1_fail_within(err, "grpo: ");
        goto done;
    }
    if (cfg->beta > 0) {
        if (r1_train_model_init(&s->ref, &cfg->base.model, cfg->base.data.seed, err) != R1_OK) goto done;
        s->have_ref = 1;
        for (int i = 0; i < s->ref.n_tensors; i++) {
            r1_train_tensor *t = &s->ref.tensors[i];
            if (opts->resume) {
                if (restore_tensor(ck, ck_path, "ref.", t, t->data, err) != R1_OK) goto done;
            } else memcpy(t->data, m->tensors[i].data, t->size * sizeof(float));
        }
    }
    if (s->run.have_ck) r1_checkpoint_free(&s->run.ck);
    s->run.have_ck = 0;
    rc = R1_OK;
done:
    if (have_init) r1_init_weights_close(&init);
    return rc;
}

int r1_grpo(const r1_grpo_config *cfg_in, const r1_grpo_options *opts, r1_grpo_result *res, r1_err *err) {
    memset(res, 0, sizeof *res);
    run_state s;
    memset(&s, 0, sizeof s);
    r1_grpo_config cfg;
    int rc = R1_ERR;
    if (build(&s, cfg_in, opts, &cfg, err) != R1_OK) goto done;
    uint64_t start = s.run.start_step;
    res->start_step = start;
    res->total_steps = (uint64_t)cfg.steps;
    r1_train_model *m = &s.run.model;
    if (start == (uint64_t)cfg.steps) {
        res->steps_done = start;
        res->was_finished = res->finished = 1;
        rc = access(s.run.model_path, F_OK) == 0 ? R1_OK
                                                  : r1_train_export_gguf(m, s.run.model_path, &s.vocab, err);
        goto done;
    }
    char **strings;
    size_t n_strings;
    if (r1_grpo_config_to_strings(&cfg, &strings, &n_strings, err) != R1_OK) goto done;
    rc = r1_settings_write_file(s.run.config_path, "grpo", "r1 train grpo settings (also stored in checkpoint.gguf)",
                                strings, n_strings, err);
    r1_settings_free_strings(strings, n_strings);
    if (rc != R1_OK) goto done;
    rc = R1_ERR;

    /* the held-out problems: the first eval_n of the test split with seed 0, as
     * `r1 eval --task T --n eval_n` poses them (problem_set.h) */
    if (cfg.eval_every > 0 && r1_problem_set_generate(&s.test_problems, r1_grpo_task_name(cfg.task), R1_SPLIT_TEST,
                                                      cfg.eval_n, 0, err) != R1_OK) {
        r1_fail_within(err, "grpo: ");
        goto done;
    }
    s.run.decay_mask = r1_calloc(err, m->n_params, 1, "decay mask");
    const size_t P = (size_t)cfg.prompts, G = (size_t)cfg.group, S = P * G;
    const size_t BT = (size_t)cfg.base.model.batch * cfg.base.model.seq_len;
    s.completion_cap = cfg.max_tokens < cfg.base.model.seq_len ? cfg.max_tokens : cfg.base.model.seq_len;
    s.seeds = r1_calloc(err, G, sizeof *s.seeds, "group");
    s.generations = r1_calloc(err, G, sizeof *s.generations, "group");
    s.rewards = r1_calloc(err, G, sizeof *s.rewards, "group");
    s.prompt_ids = r1_calloc(err, P, sizeof *s.prompt_ids, "prompts");
    s.prompt_len = r1_calloc(err, P, sizeof *s.prompt_len, "prompts");
    s.samples = r1_calloc(err, S, sizeof *s.samples, "samples");
    s.logp_ref = s.have_ref ? r1_calloc(err, S * s.completion_cap, sizeof *s.logp_ref, "reference log-probs") : NULL;
    s.order = r1_calloc(err, S, sizeof *s.order, "samples");
    s.sort_keys = r1_calloc(err, S, sizeof *s.sort_keys, "samples");
    s.tokens = r1_calloc(err, BT, sizeof *s.tokens, "batch");
    s.logp = r1_calloc(err, BT, sizeof *s.logp, "batch");
    s.weights = r1_calloc(err, BT, sizeof *s.weights, "batch");
    if (!s.run.decay_mask || !s.seeds || !s.generations || !s.rewards || !s.prompt_ids || !s.prompt_len ||
        !s.samples || (s.have_ref && !s.logp_ref) || !s.order || !s.sort_keys || !s.tokens || !s.logp || !s.weights)
        goto done;
    for (int i = 0; i < m->n_tensors; i++) {
        const r1_train_tensor *t = &m->tensors[i];
        if (t->grad && t->decay) memset(s.run.decay_mask + (t->data - m->params), 1, t->size);
    }
    if (r1_compute_init(&s.compute, cfg.threads) != R1_OK) {
        r1_fail(err, "grpo: cannot start %d threads", cfg.threads);
        goto done;
    }
    s.have_compute = 1;
    /* the policy's (and the reference's) training passes share the sampler's threads */
    r1_train_model_set_pool(m, s.compute.pool);
    if (s.have_ref) r1_train_model_set_pool(&s.ref, s.compute.pool);
    /* the sampler reads the parameters in place: each step samples from the current policy */
    if (r1_train_model_view(m, &s.engine, err) != R1_OK) goto done;
    s.have_engine = 1;
    if (r1_state_init(&s.state, &s.engine, &s.compute, cfg.base.model.seq_len, 512, err) != R1_OK) goto done;
    s.have_state = 1;
    /* a run resumed at step 0 evaluates its starting model again: a new file */
    if (r1_metrics_open(&s.run.metrics, s.run.metrics_path, metric_columns, N_METRICS,
                        opts->resume && start > 0 ? (int64_t)start : -1, err) != R1_OK)
        goto done;
    rc = train_loop(&s, &cfg, opts, start, res, err);
done:
    run_free(&s, &cfg);
    return rc;
}
