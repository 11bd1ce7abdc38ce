/* `r1 train bench`: the trainer's speed on a given model and batch shape, the figure
 * BENCHMARKS.md compares with PyTorch (tests/ref/train_speed.py times the same
 * step there). A step is what a pretraining step spends on the model:
 * zero_grad → forward → backward → clip the gradient norm → AdamW, on fixed
 * pseudo-random tokens (no data generation, no logging). */
#ifndef R1_TRAIN_BENCH_H
#define R1_TRAIN_BENCH_H

#include <stddef.h>

#include "base/error.h"
#include "train/pretrain.h"

typedef struct {
    size_t n_params;
    int threads;                /* the pool's size (1: no pool) */
    double best_tokens_per_s;   /* B·T over the fastest step */
    double median_tokens_per_s;
    /* seconds of the fastest step, by part */
    double forward_s, backward_s, optimizer_s;
} r1_train_bench_result;

/* Builds cfg->model (batch × seq_len tokens a step) and times `reps` steps after one
 * warm-up step, with threads threads (0: one per core). */
int r1_train_bench(const r1_pretrain_config *cfg, int threads, int reps, r1_train_bench_result *res, r1_err *err);

#endif
