/* A next-token training run: the machinery `r1 train pretrain` and `r1 train sft`
 * share. The stages differ only in where the batches come from (data.h), where the
 * weights start, and the settings they store; the run directory, the step, the
 * checkpoints and the resume are this module's.
 *
 * A step: batch(step) → forward → backward → clip the global gradient norm →
 * AdamW at the scheduled rate (warm-up, cosine decay to lr_min) → aux-loss-free
 * expert-bias update (DeepSeek-V3 §2.1.2) → log. Deterministic: the same settings
 * give the same bits, with or without threads.
 *
 * The run directory holds
 *   config.txt       the settings, one key=value a line (also in the checkpoint)
 *   vocab.gguf       the tokenizer metadata alone (vocab.h), the export's source
 *   checkpoint.gguf  params, expert bias, AdamW moments, step (checkpoint.h), of
 *                    stage "pretrain" or "sft", written atomically every
 *                    checkpoint_every steps and at the end
 *   metrics.csv      step,loss,lr,grad_norm,tokens_per_s (metrics.h)
 *   loss.svg         the loss curve, redrawn at each checkpoint
 *   model.gguf       the trained model with its tokenizer, for `r1 run` and llama.cpp
 *   .lock            held by the run that is using the directory (r1_lm_run_lock_dir)
 *
 * Resume: the stage reads its settings back from the checkpoint (r1_lm_run_open,
 * then its own parser over run->ck.config), the batches are a pure function of
 * (settings, step), and the checkpoint holds all other state, so a resumed run ends
 * with the same parameters, bit for bit, as one that never stopped. Resuming a
 * finished run only re-exports model.gguf if it is missing.
 *
 * Use: (new run: r1_lm_run_open_init) → r1_lm_run_open → (resume: parse
 * run->ck.config) → r1_lm_run_build → (new run from init: r1_init_weights_load) →
 * unless r1_lm_run_is_finished, r1_data_init* into run->data → r1_lm_run_train →
 * r1_lm_run_free.
 *
 * GRPO (grpo.h), whose step is not a next-token one, keeps its run in the same
 * directory layout and fields: r1_lm_run_open, r1_lm_run_read_settings and
 * r1_lm_run_free, with its own build and loop. */
#ifndef R1_LM_RUN_H
#define R1_LM_RUN_H

#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/init_weights.h"
#include "train/metrics.h"
#include "train/pretrain.h"
#include "train/tiny_model.h"

#define R1_LM_RUN_MAX_MADE_DIRS 32

typedef struct {
    const char *stage; /* "pretrain", "sft": the checkpoint's stage, labels, messages */
    char dir[1024];
    char checkpoint_path[1100], config_path[1100], vocab_path[1100], metrics_path[1100], plot_path[1100],
        model_path[1100];
    int lock_fd, have_lock; /* DIR/.lock, held (flock) while the run lives: one run per directory */
    /* What a new run (not --resume) made, removed again if it fails before its
     * first step: the directories its mkdir -p created (their path lengths, outer
     * first) and which of its files were absent when it opened. */
    int fresh;
    size_t made_dirs[R1_LM_RUN_MAX_MADE_DIRS];
    int n_made_dirs;
    int new_file[5];        /* config.txt, vocab.gguf, metrics.csv, loss.svg, .lock */
    uint64_t steps_taken;   /* training steps finished by this process */
    r1_checkpoint ck;  /* the checkpoint being resumed, until r1_lm_run_build restores it */
    int have_ck;
    uint64_t start_step;
    r1_tokenizer *tok;
    r1_train_model model;
    r1_adamw opt;
    int threads;       /* set before r1_lm_run_build; 0: all cores */
    r1_pool *pool;     /* the model's products and attention run on it */
    r1_data data;      /* the stage's batches */
    r1_metrics metrics;
    uint8_t *decay_mask;
} r1_lm_run;

/* mkdir -p dir; errors start with stage. made (may be NULL) receives the path
 * lengths of the directories it created, outer first, at most max of them, and
 * *n_made their count. */
int r1_lm_run_make_dirs(const char *stage, const char *dir, size_t *made, int max, int *n_made, r1_err *err);

/* A new run's starting weights: with cfg->init set, opens them into *init and
 * takes their architecture into cfg->model (init_weights.h), setting *have_init;
 * the stage loads them into the built model. Done before r1_lm_run_open, so a
 * bad --init creates no directory. */
int r1_lm_run_open_init(r1_pretrain_config *cfg, r1_init_weights *init, int *have_init, r1_err *err);

/* Two runs writing one directory would mix their files (the checks for a run
 * already there pass for both when they start together), so a run holds an
 * exclusive flock on dir/.lock: *fd receives the open file, which holds it until
 * closed; the kernel drops it when the process ends, however it ends. Fails,
 * naming dir, while another run (or another open file of this process) holds it. */
int r1_lm_run_lock_dir(const char *stage, const char *dir, int *fd, r1_err *err);

/* Paths under out_dir, and its lock (above), held until r1_lm_run_free — which
 * must follow even a failed open. resume: loads out_dir/checkpoint.gguf into
 * run->ck and checks it is of this stage; otherwise creates out_dir (mkdir -p) and
 * refuses one that already holds a checkpoint or a trained model.gguf. */
int r1_lm_run_open(r1_lm_run *run, const char *stage, const char *out_dir, int resume, r1_err *err);

/* Runs set(settings, entry) over the resumed checkpoint's "key=value" entries,
 * naming the checkpoint in an error. */
int r1_lm_run_read_settings(const r1_lm_run *run, int (*set)(void *settings, const char *key_value, r1_err *err),
                            void *settings, r1_err *err);

/* Checks cfg (r1_pretrain_config_check) and, on resume, that its steps match the
 * checkpoint's; writes vocab.gguf and loads its tokenizer; builds the model
 * (initialised from cfg->data.seed) and the optimizer; on resume restores params,
 * expert bias, moments and step, and releases the checkpoint. */
int r1_lm_run_build(r1_lm_run *run, const r1_pretrain_config *cfg, r1_err *err);

int r1_lm_run_is_finished(const r1_lm_run *run, const r1_pretrain_config *cfg);

/* Trains from run->start_step to cfg->steps (or stops early: opts->stop_after,
 * *opts->interrupted), with settings (every setting as key=value) in config.txt
 * and the checkpoints. A finished run only gets a missing model.gguf written. */
int r1_lm_run_train(r1_lm_run *run, const r1_pretrain_config *cfg, char **settings, size_t n_settings,
                    const r1_pretrain_options *opts, r1_pretrain_result *res, r1_err *err);

/* Frees the run and releases its lock. A new run that stops before finishing a
 * step, with no checkpoint written (a failure: a --seq too short for the data, a
 * model too large for memory), leaves nothing behind: those of config.txt,
 * vocab.gguf, metrics.csv, loss.svg and .lock that were not there when it opened
 * are removed, and the directories it made when nothing else is in them, so that
 * a failed command changes no files. */
void r1_lm_run_free(r1_lm_run *run);

#endif
