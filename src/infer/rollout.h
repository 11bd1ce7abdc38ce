/* Rollouts: a task problem posed to a model through its chat template, and k
 * completions sampled from one prefilled prompt and scored by the task's rules
 * (train/task.h). `r1 eval` and GRPO's group sampling (train/grpo.h) both run
 * this, so a held-out score and a training reward mean the same thing. */
#ifndef R1_ROLLOUT_H
#define R1_ROLLOUT_H

#include <stdint.h>

#include "infer/generate.h"
#include "tokenizer/chat.h"
#include "train/task.h"

/* The problem's fixed prompt (r1_task_prompt) as the user turn of tmpl with the
 * generation prompt, tokenized into *ids (malloc'd, *n_ids tokens). Templates
 * write BOS as text; only raw prompts get it from the tokenizer. */
int r1_rollout_prompt(const r1_tokenizer *tok, r1_chat_template tmpl, const r1_problem *p, int **ids, int *n_ids,
                      r1_err *err);

/* Runs the prompt (n_ids ≥ 1 tokens) once on s and samples k completions from it,
 * completion j with sampling seed seeds[j] and the rest of params as given, into
 * gens[j] (the caller frees each with r1_generation_free), scored into rewards[j].
 * On failure nothing is left to free. */
int r1_rollout(r1_state *s, const r1_tokenizer *tok, const r1_problem *p, const int *ids, int n_ids,
               const r1_generate_params *params, const uint64_t *seeds, int k, r1_generation *gens, r1_reward *rewards,
               r1_err *err);

#endif
