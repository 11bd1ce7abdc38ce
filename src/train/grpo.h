/* `r1 train grpo` (DESIGN §6): R1-Zero, reinforcement learning of the pretrained
 * tiny model on Countdown and arithmetic with rule-based rewards (task.h).
 *
 * A step (DeepSeekMath §4.1.2 and Algorithm 1, DeepSeek-R1 §2.2.1):
 *   1. P training problems, each posed with the R1 chat template; the engine, over
 *      the current parameters in place (r1_train_model_view: no file, no copy),
 *      samples G completions of each (rollout.h: one prompt prefill shared by
 *      the G samples) and records log π_old of every drawn token.
 *   2. rewards r (1 correct, 0.1 well-formed, 0 otherwise), advantages per group:
 *        grpo     A = (r − mean) / (std + 1e-4)       (DeepSeekMath §4.1.2, outcome supervision)
 *        dr-grpo  A = r − mean                        (Dr. GRPO, Liu et al. 2025 §3)
 *        dapo     as grpo; a group whose rewards are all equal has A = 0 and is
 *                 dropped, and more problems are drawn until P groups are kept or
 *                 max_extra more have been drawn (DAPO, Yu et al. 2025, §3.2
 *                 dynamic sampling, with "all rewards equal" for its "all
 *                 correct or all wrong")
 *      Each token of a sample carries A, or with credit "steps" (credit.h) only the
 *      tokens of a Countdown sample's first false step carry it (0 elsewhere) when
 *      the answer is wrong, and all but those when it is right.
 *   3. per completion token, with ρ = π/π_old and r_ref = π_ref/π:
 *        ℓ = −min(ρA, clip(ρ, 1−ε_low, 1+ε_high)·A) + β·(r_ref − log r_ref − 1)
 *      (DeepSeekMath eq. 3 with the k3 estimator of KL(π‖π_ref), eq. 4), ε_low =
 *      ε_high = ε except for dapo (clip-higher, DAPO §3.1), and the loss sums ℓ
 *      over a minibatch of n samples with weights
 *        grpo     1/(n·|o_i|)                mean per sequence, then over sequences
 *        dr-grpo  1/(n·max_tokens)           a constant: no length bias
 *        dapo     1/Σ|o_i|                   token-level mean (DAPO §3.3, eq. 8)
 *   4. ppo_epochs passes (μ of Algorithm 1) over the batch, each split into
 *      `minibatches` contiguous shares; per share the gradient of the weighted Σ ℓ
 *      by r1_train_backward_logprob_weights (as dℓ/dlog π per token), clipped, an
 *      AdamW step at the scheduled rate (linear warm-up, then constant, or cosine
 *      to lr_min), the expert-bias update. π_old stays the sampling policy for all
 *      passes: the first step sees ρ ≈ 1 (the engine's and the trainer's sums
 *      round differently), later ones the ratio the clip acts on. π_ref is the
 *      starting model, frozen in memory (not built when β = 0); its log-probs are
 *      computed once per batch.
 *   5. every eval_every steps (and before the first and after the last), greedy
 *      pass@1 on the first eval_n problems of the task's test split (seed 0: the
 *      score `r1 eval --task T --n N --temp 0 --max-tokens M` gives model.gguf;
 *      problem_set.h, where a mix alternates countdown and arithmetic).
 *
 * A new run starts from `init` (init_weights.h: a pretrain, sft or grpo run
 * directory, a checkpoint, or an exported model.gguf) and takes its architecture.
 *
 * The run directory holds config.txt, vocab.gguf, checkpoint.gguf (stage "grpo":
 * params, expert bias, AdamW moments, the reference's params as ref.*), metrics.csv
 * (step,reward,accuracy,length,reflect,false_step,backtrack,kl,loss,grad_norm,
 * clip_fraction,lr,dropped_groups,extra_groups,test_accuracy,sample_seconds,seconds;
 * false_step is the share of Countdown samples whose thinking has a false step, nan
 * without Countdown; backtrack the mean count of candidates a completion's checks
 * rule out; test_accuracy is nan between evaluations, and a step-0 row holds the
 * starting model's),
 * reward.svg (reward and accuracy), accuracy.svg (training and held-out
 * accuracy), length.svg (mean completion tokens), reflect.svg ("wait"/"check" per
 * completion), false_step.svg, backtrack.svg and, at the end, model.gguf.
 * Resume: the settings come from the checkpoint; problems and sample seeds are
 * pure functions of (seed, step, draw, sample), so a resumed run continues as the
 * uninterrupted one would. */
#ifndef R1_GRPO_H
#define R1_GRPO_H

#include <signal.h>
#include <stdint.h>

#include "base/error.h"
#include "train/adamw.h"
#include "train/credit.h"
#include "train/pretrain.h"
#include "train/tiny_model.h"


typedef enum { R1_GRPO_GRPO, R1_GRPO_DR_GRPO, R1_GRPO_DAPO } r1_grpo_variant;
typedef enum { R1_GRPO_TASK_COUNTDOWN, R1_GRPO_TASK_ARITHMETIC, R1_GRPO_TASK_MIX } r1_grpo_task;

typedef struct {
    r1_pretrain_config base; /* base.model: the architecture, from the init weights */
    r1_grpo_variant variant;
    r1_grpo_task task;
    int steps;
    int prompts;            /* P problems per step */
    int group;              /* G samples per problem */
    int max_tokens;         /* completion tokens at most (EOS included) */
    float temperature;      /* sampling temperature, 1 = the policy itself */
    float lr, weight_decay, clip;
    float beta;             /* KL coefficient, 0: no reference model */
    float eps, eps_high;    /* clip range; eps_high used by dapo only */
    uint64_t seed;          /* problems and sampling */
    int threads;            /* threads for sampling and training, 0: all cores */
    int ppo_epochs;         /* μ: passes over each sampled batch */
    int minibatches;        /* optimizer steps per pass, each on a share of the batch */
    int max_extra;          /* dapo: problems drawn at most beyond P per step */
    int warmup;             /* linear warm-up steps of the learning rate */
    float lr_min;           /* after warm-up: cosine from lr to lr_min; lr_min = lr: constant */
    float bias_gamma;       /* speed of the experts' routing-bias update, 0: routing frozen */
    float format_reward;    /* reward of a well-formed wrong answer (0 <= x < 1) */
    r1_credit credit;       /* which tokens carry a sample's advantage (credit.h) */
    int eval_every;         /* steps between held-out evaluations, 0: none */
    int eval_n;             /* test problems per evaluation */
} r1_grpo_config;

/* P 8, G 8, 256 tokens, T 1.0, lr 1e-5 constant (wd 0, clip 1, no warm-up), β 0.04,
 * format reward R1_REWARD_FORMAT,
 * ε 0.2, ε_high 0.28, 1 epoch of 1 minibatch, 16 extra draws, 200 steps, task mix,
 * routing bias frozen (bias_gamma 0: the aux-loss-free update balances the load of
 * pretraining's broad data; on a few RL problems it only re-routes the experts the
 * model learnt with, at a speed γ that --lr does not slow),
 * seed 1, all cores, no evaluation (eval_n 100), outcome credit; base from
 * r1_pretrain_default_config(). */
r1_grpo_config r1_grpo_default_config(void);
int r1_grpo_variant_by_name(const char *name, r1_grpo_variant *out, r1_err *err);
int r1_grpo_task_by_name(const char *name, r1_grpo_task *out, r1_err *err);
int r1_grpo_credit_by_name(const char *name, r1_credit *out, r1_err *err);
const char *r1_grpo_variant_name(r1_grpo_variant v);
/* "countdown", "arithmetic", "mix": the task names problem_set.h takes. */
const char *r1_grpo_task_name(r1_grpo_task t);
int r1_grpo_config_check(const r1_grpo_config *cfg, r1_err *err);
/* The settings as "key=value" strings: the base's (r1_pretrain_config_to_strings),
 * then the grpo.* ones; free with r1_pretrain_config_free_strings. */
int r1_grpo_config_to_strings(const r1_grpo_config *cfg, char ***strings, size_t *n, r1_err *err);
/* Sets one "key=value" (a grpo.* key, or the base's). */
int r1_grpo_config_set(r1_grpo_config *cfg, const char *key_value, r1_err *err);

/* The learning rate of step (0-based): warm-up, then cosine from lr to lr_min
 * (r1_lr_schedule), which is constant when lr_min = lr. */
float r1_grpo_lr(const r1_grpo_config *cfg, int step);

/* Advantages of one group of n rewards (variant rules above). Returns 1 when the
 * group counts, 0 when dapo leaves it out (all rewards equal; advantages 0). */
int r1_grpo_advantages(r1_grpo_variant variant, const float *rewards, int n, float *advantages);

/* What one token's ℓ is made of. */
typedef struct {
    float loss;             /* ℓ */
    float kl;               /* the k3 term, before β */
    int clipped;            /* min(·) took the clipped branch: no surrogate gradient */
} r1_grpo_token_terms;

/* ∂ℓ/∂logπ of one token (ℓ above, before the variant's weight) given log π, log π_old,
 * log π_ref and A; terms (may be NULL) receives ℓ's parts. */
float r1_grpo_token_grad(const r1_grpo_config *cfg, float logp, float logp_old, float logp_ref, float advantage,
                         r1_grpo_token_terms *terms);

/* Occurrences of "wait", "Wait", "check", "Check" in text: in the traces a "wait"
 * follows a slip the next step corrects (traces.c). */
int r1_grpo_reflections(const char *text);
/* Occurrences of ". No." in text: each is a Countdown candidate that the trace
 * tried, checked and abandoned (`26 - 4 = 22, 22 from 51, 81: 81 - 51 = 30. No.`),
 * the backtracking the search narrates. */
int r1_grpo_backtracks(const char *text);

typedef struct {
    const char *out_dir;
    const char *init;       /* the starting weights (new runs): a run directory, a
                               checkpoint or a model.gguf (init_weights.h) */
    int resume;
    int checkpoint_every;   /* steps; 0 = only at the end */
    int quiet;
    int stop_after;         /* > 0: save and return after this many steps */
    volatile sig_atomic_t *interrupted;
} r1_grpo_options;

typedef struct {
    uint64_t start_step, steps_done, total_steps;
    int finished, was_finished;
    double first_reward, last_reward, last_accuracy, last_length;
    double last_clip_fraction;
    int last_dropped_groups, last_extra_groups;
    double first_test_accuracy, last_test_accuracy; /* of this call's evaluations; nan without one */
    double seconds;
} r1_grpo_result;

int r1_grpo(const r1_grpo_config *cfg, const r1_grpo_options *opts, r1_grpo_result *res, r1_err *err);

#endif
