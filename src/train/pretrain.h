/* `r1 train pretrain` (DESIGN §6): next-token training of the tiny deepseek2 model
 * on solver search traces (data.h), giving the base model the later stages start
 * from. The run itself (the step, the run directory, checkpoints, resume) is the
 * one every next-token stage shares: see lm_run.h.
 *
 * The settings below are stored in the checkpoint as key=value strings with no
 * prefix (settings.h); sft (sft.h) stores the same ones, plus its own. The
 * checkpoint's rng_state holds the data seed. */
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
    char init[1024];        /* the starting weights (init_weights.h: a run directory,
                               a checkpoint or an exported model), whose architecture
                               the run takes; "" = from scratch, initialised from
                               data.seed */
} r1_pretrain_config;

/* The tiny default model (tiny_model.h) with this vocabulary, T = 512, B = 8;
 * 2000 steps, warm-up 100, lr 2e-3 → 2e-4, AdamW β (0.9, 0.95), wd 0.1, clip 1. */
r1_pretrain_config r1_pretrain_default_config(void);

typedef struct {
    const char *out_dir;                  /* created if missing */
    int resume;                           /* continue out_dir/checkpoint.gguf */
    int checkpoint_every;                 /* steps; 0 = only at the end */
    int quiet;                            /* no progress bar */
    int threads;                          /* 0: all cores; the results do not depend on it */
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
 * they read back to the same bits. The options and result types serve every
 * next-token stage (lm_run.h). */
int r1_pretrain_config_to_strings(const r1_pretrain_config *cfg, char ***strings, size_t *n, r1_err *err);
void r1_pretrain_config_free_strings(char **strings, size_t n);
int r1_pretrain_config_set(r1_pretrain_config *cfg, const char *key_value, r1_err *err);
/* Checks the settings before any work: sizes, rates, the vocabulary size. */
int r1_pretrain_config_check(const r1_pretrain_config *cfg, r1_err *err);

#endif
