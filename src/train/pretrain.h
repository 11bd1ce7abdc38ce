/* `r1 train pretrain` (DESIGN §6): next-token training of the tiny deepseek2 model
 * on solver search traces (data.h), giving the base model the later stages start
 * from.
 *
 * A step: batch(step) → forward → backward → clip the global gradient norm →
 * AdamW at the scheduled rate (warm-up, cosine decay to lr_min) → aux-loss-free
 * expert-bias update (DeepSeek-V3 §2.1.2) → log. On all cores and deterministic:
 * the same config gives the same bits whatever the number of cores (every sum is
 * taken by one thread in a fixed order).
 *
 * The run directory holds
 *   config.txt       the settings, one key=value a line (also in the checkpoint)
 *   vocab.gguf       the tokenizer metadata alone (vocab.h), the export's source
 *   checkpoint.gguf  params, expert bias, AdamW moments, step (checkpoint.h),
 *                    written atomically every checkpoint_every steps and at the end
 *   metrics.csv      step,loss,lr,grad_norm,tokens_per_s (metrics.h)
 *   loss.svg         the loss curve, redrawn at each checkpoint
 *   model.gguf       the trained model with its tokenizer, for `r1 run` and llama.cpp
 *
 * Resume: every setting is read back from the checkpoint (the caller's are not
 * used), the batches are a pure function of (seed, step), and the checkpoint holds
 * all other state, so a resumed run ends with the same parameters, bit for bit, as
 * one that never stopped. The checkpoint's rng_state holds the data seed. Resuming
 * a finished run only re-exports model.gguf if it is missing. */
#ifndef R1_PRETRAIN_H
#define R1_PRETRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "train/adamw.h"
#include "train/data.h"
#include "train/tiny_model.h"

typedef struct {
    r1_train_config model;  /* seq_len and batch are the batch shape T and B */
    r1_data_config data;    /* data.seed also seeds the initialisation */
    int steps;              /* total optimizer steps */
    int warmup;             /* linear warm-up steps */
    r1_adamw_hparams opt;   /* opt.lr is the peak rate */
    float lr_min;           /* the cosine schedule's floor */
    float clip;             /* max global gradient norm; 0 = no clipping */
    int log_every;          /* metrics row every N steps (and the last) */
} r1_pretrain_config;

/* The tiny default model (tiny_model.h) with this vocabulary, T = 512, B = 8;
 * 2000 steps, warm-up 100, lr 2e-3 → 2e-4, AdamW β (0.9, 0.95), wd 0.1, clip 1. */
r1_pretrain_config r1_pretrain_default_config(void);

typedef struct {
    const char *out_dir;                  /* created if missing */
    int resume;                           /* continue out_dir/checkpoint.gguf */
    int checkpoint_every;                 /* steps; 0 = only at the end */
    int quiet;                            /* no progress bar */
    int stop_after;                       /* > 0: save and return once this many steps are
                                             done (as if interrupted) */
    volatile sig_atomic_t *interrupted;   /* may be NULL; when it turns non-zero the run
                                             saves a checkpoint and returns */
} r1_pretrain_options;

typedef struct {
    uint64_t start_step, steps_done, total_steps;
    int finished;           /* steps_done == total_steps and model.gguf written */
    int was_finished;       /* the resumed run had nothing left to do */
    float first_loss, last_loss; /* cross-entropy of the first and last step run */
    double tokens_per_s;    /* non-padding tokens per second over this run */
    double seconds;
    size_t n_params;
} r1_pretrain_result;

int r1_pretrain(const r1_pretrain_config *cfg, const r1_pretrain_options *opts, r1_pretrain_result *res,
                r1_err *err);

/* The settings as "key=value" strings (malloc'd array of malloc'd strings; free with
 * r1_pretrain_config_free_strings), and back: unknown keys and bad values fail,
 * naming them; keys absent keep what *cfg held. Floats are written with %.9g, so
 * they read back to the same bits. */
int r1_pretrain_config_to_strings(const r1_pretrain_config *cfg, char ***strings, size_t *n, r1_err *err);
void r1_pretrain_config_free_strings(char **strings, size_t n);
int r1_pretrain_config_set(r1_pretrain_config *cfg, const char *key_value, r1_err *err);
/* Checks the settings before any work: sizes, rates, the vocabulary size. */
int r1_pretrain_config_check(const r1_pretrain_config *cfg, r1_err *err);

#endif
