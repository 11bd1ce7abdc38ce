/* Random-weight model files with a real model's shapes: for benchmarks (speed does
 * not depend on the values), for loader tests, and as the starting point the trainer
 * exports from. Weights are drawn with a fixed-seed generator, so a (preset, seed)
 * pair always gives the same values, whatever the storage type. */
#ifndef R1_GEN_RANDOM_H
#define R1_GEN_RANDOM_H

#include <stdint.h>

#include "base/error.h"
#include "model/presets.h"
#include "tensor/types.h"

typedef struct {
    const char *preset;   /* a name from the preset table */
    r1_type type;         /* type of the weight matrices */
    int n_layers;         /* 0: the preset's; otherwise the first n_layers layers */
    int n_vocab;          /* 0: the preset's; otherwise at least 260 (bytes + specials) */
    uint64_t seed;
    const char *path;
    /* Called as the data is written (may be NULL): tensor index, tensor count, bytes
     * written so far and the final file size. */
    void (*progress)(void *ctx, uint64_t tensor, uint64_t n_tensors, uint64_t bytes, uint64_t total);
    void *progress_ctx;
} r1_gen_config;

typedef struct {
    uint64_t n_tensors;
    uint64_t n_params;
    uint64_t file_bytes;
    /* Matrices whose rows are not a whole number of the type's blocks are stored as
     * Q8_0 (rows a multiple of 32) or else F16: how many, and the first of them. */
    uint64_t n_fallback_q8_0, n_fallback_f16;
    char first_fallback[64];
} r1_gen_report;

int r1_gen_random_model(const r1_gen_config *cfg, r1_gen_report *report, r1_err *err);

/* The short form: no progress, no report. */
int r1_gen_random(const char *preset, r1_type type, int n_layers, uint64_t seed, const char *path, r1_err *err);

/* Token count of the generated tokenizer's fixed part: 256 byte tokens, then
 * <｜begin▁of▁sentence｜> (BOS), <｜end▁of▁sentence｜> (EOS), <think>, </think>;
 * unused placeholders fill the rest of the vocabulary. */
enum { R1_GEN_BOS = 256, R1_GEN_EOS = 257, R1_GEN_THINK = 258, R1_GEN_END_THINK = 259, R1_GEN_MIN_VOCAB = 260 };

#endif
