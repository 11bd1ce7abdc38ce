/* `r1 train distill` (DESIGN §6, DeepSeek-R1 §2.4): a teacher's correct reasoning
 * traces fine-tune a smaller student.
 *
 *   1. sample: the teacher answers n train-split problems of the task k times each
 *      (rollout.h); the correct samples are written to DIR/teacher-traces.jsonl
 *      (sample_traces.h, as `r1 sample --filter correct`);
 *   2. sft: the student, from `student.base.init` or, without one, built from scratch
 *      with the student's size settings, is fine-tuned on those traces into DIR
 *      (sft.h: checkpoint.gguf, metrics.csv, loss.svg, model.gguf).
 *
 * DIR/distill.txt holds the settings (distill.* keys, then the student's sft ones),
 * written before any work. Resume continues whichever phase is unfinished: with no
 * teacher-traces.jsonl the sampling runs again from the start (it is deterministic,
 * and the file appears only complete), then the sft run resumes from its checkpoint
 * or starts. */
#ifndef R1_DISTILL_H
#define R1_DISTILL_H

#include <stdint.h>

#include "base/error.h"
#include "train/sample_traces.h"
#include "train/sft.h"

typedef struct {
    char teacher[1024];      /* the teacher model (GGUF) */
    char task[16];           /* countdown | arithmetic | mix */
    int n;                   /* problems of the train split */
    int k;                   /* samples per problem */
    int max_tokens;          /* per sample, within the teacher's context */
    int threads;             /* sampling threads; 0: all cores */
    float temperature, top_p;
    uint64_t seed;           /* problems and samples */
    r1_sft_config student;   /* student.traces is set to DIR/teacher-traces.jsonl */
} r1_distill_config;

/* Countdown, 256 problems × 4 samples of at most 512 tokens at temperature 0.6,
 * top-p 0.95, seed 0; a from-scratch student half the default model's width with 2
 * layers (dim 128, 1 dense + 1 MoE layer of 8 experts of width 64, q/kv ranks
 * 48/32), trained 1000 steps at lr 2e-3 → 2e-4 (warm-up 50), B 8 × T 512. */
r1_distill_config r1_distill_default_config(void);

/* One key=value setting: distill.* here, the rest the student's (r1_sft_config_set). */
int r1_distill_config_set(r1_distill_config *cfg, const char *key_value, r1_err *err);

typedef struct {
    int sampled;                /* the sampling ran in this call */
    r1_sample_result sample;
    int trained;                /* the sft phase ran in this call */
    r1_sft_result sft;
} r1_distill_result;

/* Runs (or, with opts->resume, continues from DIR/distill.txt) the two phases into
 * opts->out_dir. An interrupted sampling returns R1_OK with res->sample.interrupted. */
int r1_distill(const r1_distill_config *cfg, const r1_pretrain_options *opts, r1_distill_result *res, r1_err *err);

#endif
