/* Rollouts: a model answers a list of problems, K sampled completions each, scored
 * by the task's rule-based reward (task.h). What `r1 eval` votes on, what `r1
 * sample` writes as traces, distill's teacher phase, and GRPO's groups (grpo.h,
 * through the two steps below r1_rollout_run is made of), so that a held-out score
 * and a training reward mean the same thing.
 *
 * Each problem is posed with its fixed prompt through the chat template (the model
 * file's, unless one is named) and prefilled once; its K samples are decoded
 * together from that prompt cache, each step taking one token of every unfinished
 * sample through the model at once (r1_generate_many). Sample j of problem i uses its own seed,
 * a hash of (seed, i, j), so a sample's text does not depend on the order the
 * samples run in, nor (with float weights; see r1_generate_many for quantized
 * ones) on how many there are. */
#ifndef R1_ROLLOUT_H
#define R1_ROLLOUT_H

#include <signal.h>
#include <stdint.h>

#include "base/error.h"
#include "infer/generate.h"
#include "tokenizer/chat.h"
#include "train/task.h"

typedef struct {
    const char *model_path;     /* a GGUF the engine loads, or the name of: */
    const void *model_bytes;    /* a GGUF image in memory (the embedded model), */
    size_t model_size;          /* used when not NULL */
    const char *template_name;  /* NULL: detected from the model file (chat.h) */
    r1_generate_params gen;     /* sampling (its seed is replaced by each sample's),
                                   max_tokens (the context caps it), think_budget;
                                   starts_thinking is set from the template */
    uint64_t seed;
    int k;                      /* samples per problem, ≥ 1 */
    int threads;                /* 0: all cores */
    volatile sig_atomic_t *interrupted; /* may be NULL: stops between problems */
} r1_rollout_params;

/* The defaults: r1_generate_defaults() (temperature 0.6, top-p 0.95, as DeepSeek
 * recommends for R1; 2048 tokens, no budget), k 1, seed 0, all cores. */
r1_rollout_params r1_rollout_defaults(void);

/* One problem's samples, handed to the caller as soon as they are drawn. */
typedef struct {
    long index;                 /* into the problem list */
    const r1_problem *problem;
    const char *question;       /* the prompt's text before the template */
    int k;
    const r1_generation *samples; /* (k) text without EOS, n_tokens */
    const r1_reward *rewards;     /* (k) */
    const int *n_tokens;          /* (k) */
} r1_rollout_group;

/* Samples problems[0..n) in order, calling on_group after each problem; a non-OK
 * return from on_group stops with that error. *n_done (may be NULL) receives the
 * problems finished: n, or fewer when *interrupted turned non-zero. */
int r1_rollout_run(const r1_rollout_params *p, const r1_problem *problems, long n,
                   int (*on_group)(void *ctx, const r1_rollout_group *group, r1_err *err), void *ctx, long *n_done,
                   r1_err *err);

/* ---- the two steps, for a caller with its own model and state (GRPO) ---- */

/* The problem's fixed prompt (r1_task_prompt) as the user turn of tmpl with the
 * generation prompt, tokenized into *ids (malloc'd, *n_ids tokens). Templates
 * write BOS as text; only raw prompts get it from the tokenizer. */
int r1_rollout_prompt(const r1_tokenizer *tok, r1_chat_template tmpl, const r1_problem *p, int **ids, int *n_ids,
                      r1_err *err);

/* Runs the prompt (n_ids ≥ 1 tokens) once on s and samples k completions from that
 * cache together (r1_generate_many, with q for the caches of completions 2..k),
 * completion j with sampling seed seeds[j] and the rest of params as given, into
 * samples[j] (the caller frees each with r1_generation_free), scored into
 * rewards[j]. On failure nothing is left to free. */
int r1_rollout_sample(r1_state *s, r1_sequences *q, const r1_tokenizer *tok, const r1_problem *p, const int *ids,
                      int n_ids, const r1_generate_params *params, const uint64_t *seeds, int k, r1_generation *samples,
                      r1_reward *rewards, r1_err *err);

#endif
