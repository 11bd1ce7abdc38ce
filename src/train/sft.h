/* `r1 train sft` (DESIGN §6, DeepSeek-R1 §2.3.1 cold start and §2.3.3 rejection
 * sampling): supervised fine-tuning of the tiny model on a file of reasoning traces
 * (traces_file.h), such as the correct samples `r1 sample --filter correct` keeps.
 *
 * Each trace becomes one example, rendered as pretraining renders its own
 * (data.h): the prompt through the deepseek-r1 chat template, the completion after
 * `<think>\n`, then EOS; the loss is on the completion tokens only (prompt_loss 0).
 * Examples are tokenized once and packed into B×T rows as in pretraining; traces
 * longer than T tokens are left out (and counted).
 *
 * The weights start from `base.init` (a run directory, a checkpoint, or a model.gguf:
 * init_weights.h), whose architecture the run takes; with no init the model is
 * built from the size settings and trained from scratch, which is how distill
 * makes a smaller student. The run directory, checkpoints (stage "sft"), metrics,
 * loss.svg, export and resume are those of every next-token stage (lm_run.h). On
 * resume the traces file is read again and must hash to what it did, since the
 * batches depend on it. */
#ifndef R1_SFT_H
#define R1_SFT_H

#include <stdint.h>

#include "base/error.h"
#include "train/pretrain.h"

typedef struct {
    r1_pretrain_config base; /* model shape, optimizer, schedule; data.seed draws the
                                examples (and seeds a from-scratch init), data.prompt_loss */
    char traces[1024];       /* the JSONL file of traces */
    uint64_t traces_hash;    /* FNV-1a of the traces file, set by the run */
} r1_sft_config;

/* The pretrain defaults (r1_pretrain_default_config) but 500 steps, warm-up 20,
 * lr 3e-4 → 3e-5, prompt_loss 0. */
r1_sft_config r1_sft_default_config(void);

/* The settings as key=value (a new array into *strings): the base ones, then
 * sft.traces and sft.traces_hash; and back, one entry at a time (r1_pretrain_config_set for the
 * un-prefixed keys). */
int r1_sft_config_to_strings(const r1_sft_config *cfg, char ***strings, size_t *n, r1_err *err);
int r1_sft_config_set(r1_sft_config *cfg, const char *key_value, r1_err *err);

typedef struct {
    r1_pretrain_result run;
    size_t n_traces;         /* records in the file */
    size_t n_too_long;       /* of them longer than seq_len tokens, left out */
    int seq_len;
} r1_sft_result;

/* Trains cfg (ignored on resume: the checkpoint's settings are used) into
 * opts->out_dir. */
int r1_sft(const r1_sft_config *cfg, const r1_pretrain_options *opts, r1_sft_result *res, r1_err *err);

#endif
