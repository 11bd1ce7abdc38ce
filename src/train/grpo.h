/* `r1 train grpo` (DESIGN §6): R1-Zero, reinforcement learning of the pretrained
 * tiny model on Countdown and arithmetic with rule-based rewards (task.h).
 *
 * A step (DeepSeekMath §4.1.2, DeepSeek-R1 §2.2.1):
 *   1. P training problems, each posed with the R1 chat template; the current policy,
 *      exported to run_dir/policy.gguf and loaded by the engine, samples G
 *      completions of each (one prompt prefill shared by the G samples).
 *   2. rewards r (1 correct, 0.1 well-formed, 0 otherwise), advantages per group:
 *        grpo     A = (r − mean) / (std + 1e-4)
 *        dr-grpo  A = r − mean                   (Dr. GRPO, Liu et al. 2025 §3)
 *        dapo     as grpo; groups whose rewards are all equal are left out
 *                 (DAPO, Yu et al. 2025 §3.2 dynamic sampling, without re-sampling)
 *   3. per completion token, with ρ = π/π_old and r_ref = π_ref/π:
 *        ℓ = −min(ρA, clip(ρ, 1−ε_low, 1+ε_high)·A) + β·(r_ref − log r_ref − 1)
 *      (k3 estimator of KL(π‖π_ref), Schulman 2020), ε_low = ε_high = ε except for
 *      dapo (clip-higher, ε_high configurable), and the loss sums ℓ with weights
 *        grpo     1/(P·G·|o_i|)             mean per sequence, then over sequences
 *        dr-grpo  1/(P·G·max_tokens)        a constant: no length bias
 *        dapo     1/Σ|o_i|                  token-level mean over the batch
 *   4. the gradient of the weighted Σ ℓ by r1_train_backward_logprob_weights (as
 *      dℓ/dlog π per token), clipped, an AdamW step, the expert-bias update.
 * π_old is the sampling policy: one gradient step per batch, so ρ = 1 in value but
 * its gradient ρ·A·∇log π is kept. π_ref is the starting model, frozen in memory (not
 * built when β = 0).
 *
 * The run directory holds config.txt, vocab.gguf, checkpoint.gguf (stage "grpo":
 * params, expert bias, AdamW moments, the reference's params as ref.*), metrics.csv
 * (step,reward,accuracy,length,reflect,kl,loss,grad_norm,lr,seconds),
 * reward.svg (reward and accuracy), length.svg (mean completion tokens),
 * policy.gguf (the sampler's copy, rewritten each step) and, at the end,
 * model.gguf. Resume: the settings come from the checkpoint; problems and sample
 * seeds are pure functions of (seed, step, prompt, sample), so a resumed run
 * continues as the uninterrupted one would. */
#ifndef R1_GRPO_H
#define R1_GRPO_H

#include <signal.h>
#include <stdint.h>

#include "base/error.h"
#include "train/adamw.h"
#include "train/pretrain.h"
#include "train/tiny_model.h"


typedef enum { R1_GRPO_GRPO, R1_GRPO_DR_GRPO, R1_GRPO_DAPO } r1_grpo_variant;
typedef enum { R1_GRPO_TASK_COUNTDOWN, R1_GRPO_TASK_ARITHMETIC, R1_GRPO_TASK_MIX } r1_grpo_task;

typedef struct {
    r1_pretrain_config base; /* the model's settings, from the init checkpoint */
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
    int threads;            /* engine threads for sampling */
} r1_grpo_config;

/* P 8, G 8, 256 tokens, T 1.0, lr 1e-5 (wd 0, clip 1), β 0.04, ε 0.2, ε_high 0.28,
 * 200 steps, task mix, seed 1, 1 thread; base from r1_pretrain_default_config(). */
r1_grpo_config r1_grpo_default_config(void);
int r1_grpo_variant_by_name(const char *name, r1_grpo_variant *out, r1_err *err);
int r1_grpo_task_by_name(const char *name, r1_grpo_task *out, r1_err *err);
const char *r1_grpo_variant_name(r1_grpo_variant v);
int r1_grpo_config_check(const r1_grpo_config *cfg, r1_err *err);

/* Advantages of one group of n rewards (variant rules above). Returns 1 when the
 * group counts, 0 when dapo leaves it out (all rewards equal; advantages 0). */
int r1_grpo_advantages(r1_grpo_variant variant, const float *rewards, int n, float *advantages);

/* ∂ℓ/∂logπ of one token (ℓ above, before the variant's weight) given log π, log π_old,
 * log π_ref and A; *loss receives ℓ and *kl the k3 term (may be NULL). */
float r1_grpo_token_grad(const r1_grpo_config *cfg, float logp, float logp_old, float logp_ref, float advantage,
                         float *loss, float *kl);

/* Occurrences of "wait", "Wait", "check", "Check" in text. */
int r1_grpo_reflections(const char *text);

typedef struct {
    const char *out_dir;
    const char *init;       /* a pretrain run directory or checkpoint file (new runs) */
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
    double seconds;
} r1_grpo_result;

int r1_grpo(const r1_grpo_config *cfg, const r1_grpo_options *opts, r1_grpo_result *res, r1_err *err);

#endif
