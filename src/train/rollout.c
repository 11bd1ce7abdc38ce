/* Sampling and scoring K completions of each problem (see rollout.h). */
#include "train/rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/state.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

r1_rollout_params r1_rollout_defaults(void) {
    return (r1_rollout_params){.gen = r1_generate_defaults(), .k = 1};
}

/* Each sample its own stream (see rollout.h). */
static uint64_t sample_seed(uint64_t seed, long problem, int sample) {
    return r1_task_mix64(seed ^ r1_task_mix64(((uint64_t)problem << 10) ^ (uint64_t)sample));
}

typedef struct {
    int *ids;
    int n_ids;
} prompt_ids;

/* Everything a rollout holds, released in one place. */
typedef struct {
    r1_model model;
    int have_model;
    r1_compute compute;
    int have_compute;
    r1_state state;
    int have_state;
    r1_sequences seqs;      /* the caches of samples 2..k */
    r1_tokenizer *tok;
    prompt_ids *prompts;  /* (n) */
    long n;
    uint64_t *seeds;        /* (k) */
    r1_generation *samples; /* (k) */
    r1_reward *rewards;     /* (k) */
    int *n_tokens;          /* (k) */
    int k;
} rollout;

static void rollout_free(rollout *r) {
    for (int j = 0; r->samples && j < r->k; j++) r1_generation_free(&r->samples[j]);
    free(r->seeds), free(r->samples), free(r->rewards), free(r->n_tokens);
    for (long i = 0; r->prompts && i < r->n; i++) free(r->prompts[i].ids);
    free(r->prompts);
    r1_tokenizer_free(r->tok);
    r1_sequences_free(&r->seqs);
    if (r->have_state) r1_state_free(&r->state);
    if (r->have_compute) r1_compute_free(&r->compute);
    if (r->have_model) r1_model_free(&r->model);
}

int r1_rollout_prompt(const r1_tokenizer *tok, r1_chat_template tmpl, const r1_problem *p, int **ids, int *n_ids,
                      r1_err *err) {
    char question[256], *rendered = NULL;
    size_t rendered_len;
    if (r1_task_prompt(p, question, sizeof question) < 0) return r1_fail(err, "cannot write a problem's prompt");
    r1_chat_message msg = {"user", question};
    int rc = r1_chat_render(tmpl, &msg, 1, 1, &rendered, &rendered_len, err) != R1_OK ||
                     r1_tokenize(tok, rendered, rendered_len, tmpl == R1_CHAT_RAW && r1_tokenizer_wants_bos(tok), 1,
                                 ids, n_ids, err) != R1_OK
                 ? R1_ERR
                 : R1_OK;
    free(rendered);
    return rc;
}

int r1_rollout_sample(r1_state *s, r1_sequences *q, const r1_tokenizer *tok, const r1_problem *p, const int *ids,
                      int n_ids, const r1_generate_params *params, const uint64_t *seeds, int k, r1_generation *samples,
                      r1_reward *rewards, r1_err *err) {
    r1_prefill pf;
    if (r1_prefill_run(s, ids, n_ids, &pf, err) != R1_OK) return R1_ERR;
    int rc = r1_generate_many(s, q, tok, &pf, params, seeds, k, samples, err);
    r1_prefill_free(&pf);
    for (int j = 0; j < k && rc == R1_OK; j++) r1_task_reward(p, samples[j].text, &rewards[j]);
    return rc;
}

/* Loads the model, tokenizes every prompt, and sizes the context for the longest
 * prompt plus max_tokens (at most the model's context). */
static int rollout_open(rollout *r, const r1_rollout_params *p, const r1_problem *problems, long n,
                        r1_chat_template *tmpl, r1_err *err) {
    if (p->k < 1) return r1_fail(err, "rollout: k %d must be at least 1", p->k);
    if ((p->model_bytes ? r1_model_load_memory(&r->model, p->model_bytes, p->model_size, p->model_path, err)
                        : r1_model_load(&r->model, p->model_path, err)) != R1_OK)
        return R1_ERR;
    r->have_model = 1;
    if (r1_tokenizer_load_gguf(&r->tok, &r->model.gguf, err) != R1_OK ||
        (p->template_name ? r1_chat_template_by_name(p->template_name, tmpl, err)
                          : r1_chat_template_detect(&r->model.gguf, tmpl, err)) != R1_OK)
        return R1_ERR;
    r->k = p->k;
    r->prompts = r1_calloc(err, (size_t)(n > 0 ? n : 1), sizeof *r->prompts, "prompts");
    r->seeds = r1_calloc(err, (size_t)p->k, sizeof *r->seeds, "sample seeds");
    r->samples = r1_calloc(err, (size_t)p->k, sizeof *r->samples, "samples");
    r->rewards = r1_calloc(err, (size_t)p->k, sizeof *r->rewards, "rewards");
    r->n_tokens = r1_calloc(err, (size_t)p->k, sizeof *r->n_tokens, "sample lengths");
    if (!r->prompts || !r->seeds || !r->samples || !r->rewards || !r->n_tokens) return R1_ERR;
    r->n = n;
    int longest = 0;
    for (long i = 0; i < n; i++) {
        if (r1_rollout_prompt(r->tok, *tmpl, &problems[i], &r->prompts[i].ids, &r->prompts[i].n_ids, err) != R1_OK)
            return r1_fail_within(err, "problem %ld: ", i + 1);
        if (r->prompts[i].n_ids > longest) longest = r->prompts[i].n_ids;
    }
    long n_ctx = longest + p->gen.max_tokens;
    if (n_ctx > r->model.hp.ctx_len) n_ctx = r->model.hp.ctx_len;
    if (longest >= n_ctx) return r1_fail(err, "a prompt is %d tokens, the model's context only %ld", longest, n_ctx);
    if (r1_compute_init(&r->compute, p->threads) != R1_OK) return r1_fail(err, "cannot start %d threads", p->threads);
    r->have_compute = 1;
    if (r1_state_init(&r->state, &r->model, &r->compute, (int)n_ctx, 512, err) != R1_OK) return R1_ERR;
    r->have_state = 1;
    return R1_OK;
}

/* The k samples of problem i into r->samples, r->rewards, r->n_tokens. */
static int sample_problem(rollout *r, const r1_generate_params *gp, uint64_t seed, const r1_problem *problem, long i,
                          r1_err *err) {
    for (int j = 0; j < r->k; j++) {
        r1_generation_free(&r->samples[j]);
        r->seeds[j] = sample_seed(seed, i, j);
    }
    if (r1_rollout_sample(&r->state, &r->seqs, r->tok, problem, r->prompts[i].ids, r->prompts[i].n_ids, gp, r->seeds, r->k,
                          r->samples, r->rewards, err) != R1_OK)
        return r1_fail_within(err, "problem %ld: ", i + 1);
    for (int j = 0; j < r->k; j++) r->n_tokens[j] = r->samples[j].n_tokens;
    return R1_OK;
}

int r1_rollout_run(const r1_rollout_params *p, const r1_problem *problems, long n,
                   int (*on_group)(void *ctx, const r1_rollout_group *group, r1_err *err), void *ctx, long *n_done,
                   r1_err *err) {
    rollout r;
    memset(&r, 0, sizeof r);
    if (n_done) *n_done = 0;
    r1_chat_template tmpl;
    if (rollout_open(&r, p, problems, n, &tmpl, err) != R1_OK) return rollout_free(&r), R1_ERR;
    r1_generate_params gp = p->gen;
    gp.starts_thinking = r1_chat_template_starts_thinking(tmpl);
    int rc = R1_OK;
    for (long i = 0; i < n && rc == R1_OK; i++) {
        if (p->interrupted && *p->interrupted) break;
        rc = sample_problem(&r, &gp, p->seed, &problems[i], i, err);
        if (rc != R1_OK) break;
        char question[256];
        r1_task_prompt(&problems[i], question, sizeof question);
        r1_rollout_group group = {.index = i, .problem = &problems[i], .question = question, .k = r.k,
                                  .samples = r.samples, .rewards = r.rewards, .n_tokens = r.n_tokens};
        rc = on_group(ctx, &group, err);
        if (rc == R1_OK && n_done) *n_done = i + 1;
    }
    rollout_free(&r);
    return rc;
}
