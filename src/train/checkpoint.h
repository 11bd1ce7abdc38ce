/* Training checkpoints: everything a stage needs to continue a run exactly where it
 * stopped, in one GGUF file (so `r1 info` and any GGUF tool can inspect it).
 *
 * Metadata (all under r1.train.):
 *   r1.train.version      uint32   format version, R1_CHECKPOINT_VERSION
 *   r1.train.stage        string   "pretrain", "grpo", "sft", "distill", ...
 *   r1.train.step         uint64   steps done
 *   r1.train.total_steps  uint64   steps the run was asked for
 *   r1.train.rng_state    uint64   the run's random-generator state after `step`
 *   r1.train.adamw_step   uint64   the optimizer's t (r1_adamw.step)
 *   r1.train.config       [string] the run's settings as "key=value"
 * Tensors: F32, 1 to 3 dims, in the order given: the model parameters under their
 * GGUF names and the AdamW moments as opt.m.<name> and opt.v.<name>.
 *
 * Saving is atomic: the GGUF writer fills PATH.tmp, syncs it and renames it over
 * PATH only when complete, so a crash or an error during a save leaves the previous
 * checkpoint at PATH intact and no PATH.tmp behind. A run keeps one file and
 * `--resume` loads it. */
#ifndef R1_CHECKPOINT_H
#define R1_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define R1_CHECKPOINT_VERSION 1
#define R1_CHECKPOINT_MAX_DIMS 3
#define R1_CHECKPOINT_NAME_MAX 64 /* tensor names: 1 to 63 bytes, as GGUF readers require */

typedef struct {
    char name[R1_CHECKPOINT_NAME_MAX];
    int n_dims;                         /* 1 to 3 */
    int64_t ne[R1_CHECKPOINT_MAX_DIMS]; /* ne[0] contiguous; save reads n_dims, load sets the rest to 1 */
    float *data;                        /* ne[0]·ne[1]·ne[2] floats */
} r1_checkpoint_tensor;

typedef struct {
    char stage[64];
    uint64_t step;
    uint64_t total_steps;
    uint64_t rng_state;
    uint64_t adamw_step;
    char **config; /* (n_config) "key=value" strings */
    size_t n_config;
    r1_checkpoint_tensor *tensors; /* (n_tensors) */
    size_t n_tensors;
} r1_checkpoint;

/* Writes ck to path atomically. ck is only read: its strings and tensor data stay
 * the caller's (they may point straight into the model and the optimizer). Checks
 * the checkpoint before creating any file: a non-empty stage, step ≤ total_steps,
 * config entries containing '=', tensors with names, 1–3 positive dims and data. */
int r1_checkpoint_save(const char *path, const r1_checkpoint *ck, r1_err *err);

/* Reads path into ck, every string and tensor copied into memory ck owns (release
 * it with r1_checkpoint_free). Fails, naming the file and the field, unless the file
 * is a valid GGUF with r1.train.stage, every key above of its type, and only F32
 * tensors of 1–3 dims. On failure ck is left empty. */
int r1_checkpoint_load(const char *path, r1_checkpoint *ck, r1_err *err);

/* Frees what r1_checkpoint_load allocated; not for checkpoints built by the caller. */
void r1_checkpoint_free(r1_checkpoint *ck);

/* The tensor called name, or NULL. */
const r1_checkpoint_tensor *r1_checkpoint_find(const r1_checkpoint *ck, const char *name);
/* The value of config entry "key=value", or NULL. */
const char *r1_checkpoint_config(const r1_checkpoint *ck, const char *key);

/* Number of floats in t. */
size_t r1_checkpoint_tensor_count(const r1_checkpoint_tensor *t);
/* R1_OK when t can be restored into a model tensor of shape ne[0..n_dims) (later
 * extents 1): that shape exactly (the same count of floats in another shape, a
 * transposed matrix, is not the tensor), and only finite values. Fails naming path,
 * the tensor, and both shapes or the first bad value. The file format itself keeps
 * any float bits. */
int r1_checkpoint_check_tensor(const r1_checkpoint_tensor *t, const char *path, int n_dims, const int64_t *ne,
                               r1_err *err);
/* Restores the tensor called name of ck (read from path) into dst, which holds the
 * shape ne[0..n_dims): fails naming path and the tensor when it is missing or fails
 * r1_checkpoint_check_tensor. */
int r1_checkpoint_restore_tensor(const r1_checkpoint *ck, const char *path, const char *name, int n_dims,
                                 const int64_t *ne, float *dst, r1_err *err);

#endif
